"""The Pulumi policy pack: each guardrail rule as a mandatory policy of `pulumi preview/up`.

`policy/__main__.py` calls `serve()`; the engine then sends every resource (and, after the run, the
whole stack) and the pack reports what the rules find. The policies wrap the rule objects of
`RESOURCE_RULES` and `STACK_RULES` themselves: what blocks a deployment is exactly what
`meridian check` reports offline.

What the engine sends is turned into `Subject`s: inputs with unknown values (a preview of
resources not yet created) become `UNKNOWN` rather than the policy SDK's exception, so a rule sees
the rest of the resource and decides; a rule that must look inside an unknown value raises
`Undetermined`, reported as the SDK reports any unknown (advisory during preview, checked for
real when `pulumi up` knows the value).

One difference with `meridian check`: the engine gives a stack policy each resource's *outputs*
(its inputs plus what the provider computed, its `id` among them) where the offline plan has only
inputs and ids. The stack rules read inputs and ids only, which both carry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

from .model import RESOURCE_RULES, STACK_RULES, UNKNOWN, ResourceRule, Stack, StackRule, Subject, Undetermined

__all__ = ["PACK_NAME", "plain", "policies", "serve", "subject_of"]

#: The pack's name (as PulumiPolicy.yaml's folder is named in `--policy-pack policy/`).
PACK_NAME = "meridian-guardrails"


def plain(value: Any) -> Any:
    """The policy SDK's proxied values as plain dicts and lists, unknowns as `UNKNOWN`."""
    if isinstance(value, Mapping):
        result = {}
        for key in value:
            try:
                result[key] = plain(value[key])
            except UnknownValueError:
                result[key] = UNKNOWN
        return result
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        items = []
        for index in range(len(value)):
            try:
                items.append(plain(value[index]))
            except UnknownValueError:
                items.append(UNKNOWN)
        return items
    return value


def subject_of(
    args: ResourceValidationArgs | Any, dependencies: Mapping[str, Sequence[str]] | None = None
) -> Subject:
    """A resource the engine sent (a `ResourceValidationArgs` or a stack's `PolicyResource`)."""
    props = plain(args.props)
    identifier = props.get("id")
    return Subject(
        urn=args.urn,
        type=args.resource_type,
        name=args.name,
        props=props,
        protect=bool(args.opts.protect),
        provider=plain(args.provider.props) if args.provider is not None else {},
        property_dependencies=dependencies or {},
        id=identifier if isinstance(identifier, str) else None,
    )


def _undetermined(exc: Undetermined) -> UnknownValueError:
    """The SDK's own unknown-value error, which it reports as an advisory note during preview."""
    error = UnknownValueError(UNKNOWN_STRING_VALUE, [])
    error.message = str(exc)
    return error


def _resource_policy(rule: ResourceRule) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        try:
            violations = rule.run(subject_of(args))
        except Undetermined as exc:
            raise _undetermined(exc) from exc
        for violation in violations:
            report(violation.message, None)

    return ResourceValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
    )


def _stack_policy(rule: StackRule) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        stack = Stack(
            subject_of(
                resource,
                {key: [d.urn for d in deps] for key, deps in resource.property_dependencies.items()},
            )
            for resource in args.resources
        )
        try:
            violations = rule.run(stack)
        except Undetermined as exc:
            raise _undetermined(exc) from exc
        for violation in violations:
            report(violation.message, violation.urn or None)

    return StackValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
    )


def policies() -> list[ResourceValidationPolicy | StackValidationPolicy]:
    """One mandatory policy per rule, resource rules first, in the order they are defined."""
    return [*map(_resource_policy, RESOURCE_RULES), *map(_stack_policy, STACK_RULES)]


def serve() -> None:
    """Serve the pack to the Pulumi engine (blocks until the engine is done)."""
    PolicyPack(name=PACK_NAME, policies=list(policies()), enforcement_level=EnforcementLevel.MANDATORY)
