"""What a guardrail rule sees and returns, whoever runs it.

A rule is a plain function over a `Subject` (one resource: type, inputs, options, its provider)
or over a `Stack` (every resource at once). The Pulumi policy pack (`policy/`) builds subjects from
what the engine sends it; `meridian check` builds them from the offline plan. Both run the same
rule objects, registered here in `RESOURCE_RULES` and `STACK_RULES`, so there is no second copy of
any rule to drift.

Property names are the engine's (camelCase: `storageEncrypted`), as both the engine and the offline
plan carry them. A value the engine cannot know yet (during `pulumi preview`, an input computed from
a resource not yet created) is `UNKNOWN`: rules treat it as "set, value to come" where they only
ask whether a reference is given, and never pass it where a literal value is required. A rule that
must look inside an unknown value (a list, a policy document) cannot decide yet: `Subject.get` and
`Subject.items` raise `Undetermined`, which the pack reports as the policy SDK reports any unknown
(an advisory note during preview; `pulumi up` runs the policy again once the value is known).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from infra.config.schema import Environment

__all__ = [
    "NON_PROD",
    "REQUIRED_TAGS",
    "RESOURCE_RULES",
    "STACK_RULES",
    "UNKNOWN",
    "ResourceRule",
    "Stack",
    "StackRule",
    "Subject",
    "Undetermined",
    "Violation",
    "is_set",
    "is_true",
    "resource_rule",
    "single_block",
    "stack_rule",
]

#: Tags every taggable AWS resource carries (the stack config sets them as the providers' default
#: tags: `StackConfig.aws_tags`).
REQUIRED_TAGS = ("environment", "owner", "cost-center", "project", "stack")

#: Environments exempt from the durability rules (deletion protection, backups, `protect`). Every
#: other value, a missing or unknown tag included, is held to prod's rules: strict by default.
NON_PROD = frozenset(e.value for e in Environment if e is not Environment.PROD)


class _Unknown:
    """A value not known until the resource it comes from exists (a preview of a new stack)."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<unknown>"

    def __bool__(self) -> bool:
        return True  # "is it set?" → yes, by a reference whose value comes later


UNKNOWN: Any = _Unknown()


class Undetermined(Exception):
    """A rule needs to look inside a value that is not known yet (a preview of a new resource)."""


def is_true(value: Any) -> bool:
    """A literal true (the engine passes some booleans as strings); UNKNOWN is not one."""
    return value is True or value == "true"


def is_false(value: Any) -> bool:
    return value is False or value == "false"


def is_set(value: Any) -> bool:
    """Given: a value, or a reference whose value comes later (UNKNOWN)."""
    return value not in (None, "", [], {})


def single_block(value: Any) -> Any:
    """A nested block as an object: the SDK gives one, some engines a one-item list of one."""
    return value[0] if isinstance(value, list) and len(value) == 1 else value


@dataclass(frozen=True)
class Subject:
    """One resource as a rule sees it.

    Attributes:
        urn: the resource's URN.
        type: its type token (`aws:rds/cluster:Cluster`).
        name: its logical name.
        props: its inputs, camelCase, `UNKNOWN` where not known yet.
        protect: whether Pulumi's `protect` option is set.
        provider: its provider's inputs (`region`, `defaultTags`); empty for the default provider.
        property_dependencies: input name → URNs of the resources its value came from.
        id: the provider's id for it, where known (not during a preview of a new resource).
    """

    urn: str
    type: str
    name: str
    props: Mapping[str, Any]
    protect: bool = False
    provider: Mapping[str, Any] = field(default_factory=dict)
    property_dependencies: Mapping[str, Sequence[str]] = field(default_factory=dict)
    id: str | None = None

    def get(self, *path: str | int, default: Any = None) -> Any:
        """`props[path[0]][path[1]]...`, or *default* where a step is missing (the last step may
        be UNKNOWN; stepping into an UNKNOWN raises `Undetermined`). A one-item list is stepped
        into by a name too: nested blocks come as objects from the SDK and as one-item lists from
        some engines."""
        value: Any = self.props
        for step in path:
            if value is UNKNOWN:
                raise Undetermined(f"{'.'.join(map(str, path))} is not known yet")
            if isinstance(step, str):
                value = single_block(value)
            indexed = isinstance(step, int) and isinstance(value, list) and -len(value) <= step < len(value)
            named = isinstance(step, str) and isinstance(value, Mapping) and step in value
            if indexed or named:
                value = value[step]
            else:
                return default
        return default if value is None else value

    def items(self, *path: str | int) -> list[Any]:
        """The list at *path* (an object, a single block, as a one-item list; missing: empty).
        Raises `Undetermined` where it is not known yet: a rule cannot look inside it."""
        value = self.get(*path)
        if value is UNKNOWN or (isinstance(value, list) and UNKNOWN in value):
            raise Undetermined(f"{'.'.join(map(str, path))} is not known yet")
        if value is None:
            return []
        return list(value) if isinstance(value, list | tuple) else [value]

    @cached_property
    def tags(self) -> dict[str, str]:
        """The tags AWS will apply: the provider's default tags, then the resource's own."""
        defaults = self.provider.get("defaultTags") or {}
        own = self.props.get("tags") or {}
        if UNKNOWN in (defaults, own):
            raise Undetermined("the tags are not known yet")
        if isinstance(defaults, str):  # the engine passes provider inputs as JSON strings
            defaults = json.loads(defaults or "{}")
        merged = {**(defaults.get("tags") or {}), **(own if isinstance(own, Mapping) else {})}
        return {str(k): v for k, v in merged.items()}

    @property
    def region(self) -> str | None:
        region = self.props.get("region") or self.provider.get("region")
        return region if isinstance(region, str) else None

    @property
    def in_prod(self) -> bool:
        """Held to prod's rules: tagged with any environment but a known non-prod one."""
        return self.tags.get("environment") not in NON_PROD


@dataclass(frozen=True)
class Violation:
    """A rule's finding: which resource (URN) and what is wrong, with the fix."""

    urn: str
    message: str


@dataclass(frozen=True)
class ResourceRule:
    """A check of one resource at a time.

    Attributes:
        name: the policy's name (kebab-case), the same in the pack and in `meridian check`.
        description: the promise it keeps, one line.
        applies: whether it looks at a resource of this type.
        check: the resource's problems, one message each (nothing: compliant).
    """

    name: str
    description: str
    applies: Callable[[str], bool]
    check: Callable[[Subject], Iterable[str]]

    def run(self, subject: Subject) -> list[Violation]:
        if not self.applies(subject.type):
            return []
        return [Violation(subject.urn, message) for message in self.check(subject)]


@dataclass(frozen=True)
class StackRule:
    """A check across resources (a subnet group's subnets, a global database's members)."""

    name: str
    description: str
    check: Callable[[Stack], Iterable[Violation]]

    def run(self, stack: Stack) -> list[Violation]:
        return list(self.check(stack))


RESOURCE_RULES: list[ResourceRule] = []
STACK_RULES: list[StackRule] = []


def resource_rule(
    name: str, description: str, *types: str, applies: Callable[[str], bool] | None = None
) -> Callable[[Callable[[Subject], Iterable[str]]], Callable[[Subject], Iterable[str]]]:
    """Register a resource rule for *types* (or for the types *applies* accepts)."""
    accepted = frozenset(types)

    def register(check: Callable[[Subject], Iterable[str]]) -> Callable[[Subject], Iterable[str]]:
        RESOURCE_RULES.append(ResourceRule(name, description, applies or accepted.__contains__, check))
        return check

    return register


def stack_rule(
    name: str, description: str
) -> Callable[[Callable[[Stack], Iterable[Violation]]], Callable[[Stack], Iterable[Violation]]]:
    def register(check: Callable[[Stack], Iterable[Violation]]) -> Callable[[Stack], Iterable[Violation]]:
        STACK_RULES.append(StackRule(name, description, check))
        return check

    return register


class Stack:
    """Every resource of a stack, for rules that look across them."""

    def __init__(self, subjects: Iterable[Subject]) -> None:
        self.subjects = list(subjects)
        self.by_urn = {s.urn: s for s in self.subjects}

    def of_type(self, *types: str) -> list[Subject]:
        return [s for s in self.subjects if s.type in types]

    @property
    def in_prod(self) -> bool:
        """Whether any AWS resource is a prod one (the stack's environment, from its tags)."""
        aws = [s for s in self.subjects if s.type.startswith("aws:")]
        return any(s.in_prod for s in aws)

    def referenced(self, subject: Subject, key: str, types: Sequence[str], by: str) -> list[Subject]:
        """The resources of *types* that `subject.props[key]` points at. Where the value is known
        (a name or id), a resource matches when its `by` input (or its id) is that value; where it
        is not known yet, the engine's record of which resources the value came from decides."""
        wanted = {v for v in _values(subject.props.get(key)) if v is not UNKNOWN}
        candidates = [
            self.by_urn[urn]
            for urn in subject.property_dependencies.get(key, ())
            if urn in self.by_urn and self.by_urn[urn].type in types
        ]
        if not wanted:
            return candidates

        def names(target: Subject) -> set[Any]:
            return {v for v in _values(target.id if by == "id" else target.props.get(by)) if v is not UNKNOWN}

        # A recorded source whose own name is not known agrees; one named otherwise does not.
        agreeing = [t for t in candidates if not names(t) or wanted & names(t)]
        return agreeing or [t for t in self.of_type(*types) if wanted & names(t)]


def _values(value: Any) -> Iterator[Any]:
    if isinstance(value, list | tuple):
        for item in value:
            yield from _values(item)
    elif isinstance(value, str) or value is UNKNOWN:
        yield value
