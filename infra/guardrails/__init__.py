"""Guardrails: the platform's security and durability promises as rules, run in three places.

- `pulumi preview --policy-pack policy/` (the Pulumi policy pack, `infra.guardrails.pack`);
- `meridian check --stack S` over the offline plan (`infra.guardrails.check`);
- the test suite, which also shows every rule rejecting a deliberately bad resource.

All three run the same rule objects (`RESOURCE_RULES`, `STACK_RULES`). An external scanner,
checkov, reads the offline plan exported as a Terraform plan (`infra.guardrails.terraform`) and
the Kubernetes objects as manifests (`infra.guardrails.manifests`).
"""

from . import resource_rules, stack_rules  # noqa: F401  (registers the rules)
from .model import REQUIRED_TAGS, RESOURCE_RULES, STACK_RULES, UNKNOWN, Stack, Subject, Violation

__all__ = ["REQUIRED_TAGS", "RESOURCE_RULES", "STACK_RULES", "UNKNOWN", "Stack", "Subject", "Violation"]
