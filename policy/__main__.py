"""The policy pack's entry point: `pulumi preview --policy-pack policy/` runs this file.

Every policy is a rule of `infra.guardrails`, wrapped by `infra.guardrails.pack`.
"""

from infra.guardrails.pack import serve

serve()
