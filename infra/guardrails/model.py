"""What a guardrail rule sees and returns, whoever runs it.

A rule is a plain function over a `Subject` (one resource: type, inputs, options, its provider)
or over a `Stack` (every resource at once). The Pulumi policy pack (`policy/`) builds subjects from
what the engine sends it; `meridian check` builds them from the offline plan. Both run the same
rule objects, registered here in `RESOURCE_RULES` and `STACK_RULES`, so there is no second copy of
any rule to drift.

Property names are the engine's (camelCase: `storageEncrypted`), as both the engine and the offline
plan carry them. A value the engine cannot know yet (during `pulumi preview`, an input computed from
a resource not yet created) is `UNKNOWN`: rules treat it as "set, value to come" where they only
ask whether a reference is given, and never pass it where a literal value is required.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

__all__ = [
    "REQUIRED_TAGS",
    "RESOURCE_RULES",
    "STACK_RULES",
    "UNKNOWN",
    "ResourceRule",
    "Stack",
    "StackRule",
    "Subject",
    "Violation",
    "resource_rule",
    "stack_rule",
]

#: Tags every taggable AWS resource carries (the stack config sets them as the providers' default
#: tags: `StackConfig.aws_tags`).
REQUIRED_TAGS = ("environment", "owner", "cost-center", "project", "stack")

#: The environment whose resources get the durability rules (deletion protection, backups,
#: `protect`). A resource without an `environment` tag is held to them too: strict by default.
PROD = "prod"


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
        """`props[path[0]][path[1]]...`, or *default* where a step is missing. A one-item list
        is stepped into by a name too: nested blocks come as objects from the SDK and as one-item
        lists from some engines."""
        value: Any = self.props
        for step in path:
            if isinstance(step, str) and isinstance(value, list) and len(value) == 1:
                value = value[0]
            indexed = isinstance(step, int) and isinstance(value, list) and -len(value) <= step < len(value)
            named = isinstance(step, str) and isinstance(value, Mapping) and step in value
            if indexed or named:
                value = value[step]
            else:
                return default
        return default if value is None else value

    @cached_property
    def tags(self) -> dict[str, str]:
        """The tags AWS will apply: the provider's default tags, then the resource's own."""
        defaults = self.provider.get("defaultTags") or {}
        if isinstance(defaults, str):  # the engine passes provider inputs as JSON strings
            defaults = json.loads(defaults or "{}")
        own = self.props.get("tags") or {}
        merged = {**(defaults.get("tags") or {}), **(own if isinstance(own, Mapping) else {})}
        return {str(k): v for k, v in merged.items()}

    @property
    def region(self) -> str | None:
        region = self.props.get("region") or self.provider.get("region")
        return region if isinstance(region, str) else None

    @property
    def in_prod(self) -> bool:
        environment = self.tags.get("environment")
        return environment is None or environment == PROD


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
        """The resources of *types* that `subject.props[key]` points at: by the engine's record
        of where the value came from, else by the literal value (a name or id given as text)
        matching their `by` input."""
        found = [
            self.by_urn[urn]
            for urn in subject.property_dependencies.get(key, ())
            if urn in self.by_urn and self.by_urn[urn].type in types
        ]
        if found:
            return found
        wanted = {v for v in _values(subject.props.get(key)) if v is not UNKNOWN}
        return [
            s for s in self.of_type(*types) if wanted & set(_values(s.id if by == "id" else s.props.get(by)))
        ]


def _values(value: Any) -> Iterator[Any]:
    if isinstance(value, list | tuple):
        for item in value:
            yield from _values(item)
    elif isinstance(value, str) or value is UNKNOWN:
        yield value
