"""What changed between two offline plans: resources added, removed and changed, and counts per region.

A pull request's reviewer sees the effect of a change without credentials: CI writes the base branch's
offline plan (`meridian plan --stack S --json base.json`, run from the base branch's own code) and the
pull request's plan is compared with it (`meridian plan --stack S --diff base.json`). Both sides are
plan JSON documents (`Plan.to_json`), so any two plans compare, whichever run produced them.

Resources are matched by URN, as the Pulumi engine matches them: a renamed resource is a removal and an
addition, which is what `pulumi up` would do to it without an alias. With an alias naming its old URN
(the plan records `aliases`), it is matched to the old resource, as the engine does: a move, listed
apart (and among the changed too if its inputs differ), never a replacement. A resource has changed when its
inputs, its `protect` flag or its provider's settings differ; the changed paths are listed
(`scalingConfig.maxSize`, `(protect)`, `(provider) defaultTags.tags.owner`: a provider's change is
shown on every resource it manages, as `pulumi up` would update them). Secrets are masked in the
plan, so a changed secret value does not show. What counts is what the plan counts: custom
resources, not providers and not components (they declare nothing of their own).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .mocks import is_provider_type
from .run import GLOBAL

__all__ = [
    "GLOBAL",
    "PlanDiff",
    "PlanDiffError",
    "ResourceChange",
    "ResourceMove",
    "changed_paths",
    "diff_plans",
    "load_plan_json",
    "region_counts",
    "render_diff",
    "summary_markdown",
]

#: How a changed property of a resource's provider is named among its changed properties.
PROVIDER_PREFIX = "(provider) "


class PlanDiffError(ValueError):
    """The two plans cannot be compared (not a plan file, or plans of different stacks)."""


@dataclass(frozen=True)
class ResourceChange:
    """One resource that is added, removed or changed; `properties` lists changed input paths."""

    urn: str
    type: str
    name: str
    region: str
    properties: tuple[str, ...] = ()

    @property
    def only_by_provider(self) -> bool:
        """Changed only because its provider's settings (default tags, say) changed."""
        return all(p.startswith(PROVIDER_PREFIX) for p in self.properties)


@dataclass(frozen=True)
class ResourceMove:
    """A resource the head plan names anew, with an alias to its old URN: `pulumi up` keeps it."""

    old_urn: str
    urn: str
    type: str
    name: str
    region: str


@dataclass(frozen=True)
class PlanDiff:
    """The difference from a base plan to a head plan of the same stack."""

    stack: str
    added: tuple[ResourceChange, ...]
    removed: tuple[ResourceChange, ...]
    changed: tuple[ResourceChange, ...]
    base_counts: Mapping[str, int]  # custom resources per region in the base plan
    head_counts: Mapping[str, int]
    moved: tuple[ResourceMove, ...] = ()  # renamed, with an alias to the old name

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.moved)

    def regions(self) -> list[str]:
        """Every region of either plan, by name, then global."""
        return sorted(set(self.base_counts) | set(self.head_counts), key=lambda r: (r == GLOBAL, r))

    def changed_directly(self) -> list[ResourceChange]:
        """Changed resources with a change of their own (not only their provider's settings)."""
        return [c for c in self.changed if not c.only_by_provider]

    def changed_by_provider(self) -> list[ResourceChange]:
        """Changed resources whose only change is their provider's settings (default tags, say)."""
        return [c for c in self.changed if c.only_by_provider]

    def region_rows(self) -> list[tuple[str, ...]]:
        """Per region: resources in the base and now, and how many are added, removed, changed
        (and moved, when any is)."""
        added, removed, changed, moved = (
            Counter(change.region for change in changes)
            for changes in (self.added, self.removed, self.changed, self.moved)
        )
        return [
            (
                region,
                str(self.base_counts.get(region, 0)),
                str(self.head_counts.get(region, 0)),
                _signed("+", added[region]),
                _signed("-", removed[region]),
                _signed("~", changed[region]),
            )
            + ((_signed(">", moved[region]),) if self.moved else ())
            for region in self.regions()
        ]


def _signed(sign: str, count: int) -> str:
    return f"{sign}{count}" if count else ""


def load_plan_json(path: Path) -> dict[str, Any]:
    """A plan file written by `meridian plan --json`, or PlanDiffError saying what is wrong with it."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PlanDiffError(
            f"{path}: no such file; write the base plan first with `meridian plan --stack S --json {path}`"
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PlanDiffError(
            f"{path}: not JSON ({exc}); expected a file written by `meridian plan --json`"
        ) from None
    if not isinstance(document, dict) or not isinstance(document.get("resources"), list):
        raise PlanDiffError(
            f"{path}: not a meridian plan (no `resources` list); write it with `meridian plan --json`"
        )
    for index, resource in enumerate(document["resources"]):
        if not isinstance(resource, dict) or not all(
            isinstance(resource.get(k), str) for k in ("urn", "type", "name")
        ):
            raise PlanDiffError(
                f"{path}: resources[{index}] has no urn, type and name; "
                "write the plan with `meridian plan --json`"
            )
    return document


def _counted(document: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The resources a plan counts, by URN: custom resources other than providers."""
    return {r["urn"]: r for r in document["resources"] if r.get("custom") and not _is_provider(r)}


def region_counts(document: Mapping[str, Any]) -> dict[str, int]:
    """Custom resources (providers left out) per region of a plan document: regions by name, then
    the global resources."""
    counts = Counter(resource.get("region") or GLOBAL for resource in _counted(document).values())
    return {region: counts[region] for region in sorted(counts, key=lambda r: (r == GLOBAL, r))}


def _is_provider(resource: Mapping[str, Any]) -> bool:
    return is_provider_type(str(resource["type"]))


def _decoded(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def changed_paths(base: Any, head: Any, path: str = "") -> Iterator[str]:
    """Dotted paths (`tags.owner`, `subnetIds[1]`) where *head* differs from *base*. Values the engine
    passes as JSON text (a provider's nested settings) are compared as what they encode."""
    base, head = _decoded(base), _decoded(head)
    if isinstance(base, Mapping) and isinstance(head, Mapping):
        for key in sorted(set(base) | set(head)):
            inner = f"{path}.{key}" if path else str(key)
            if key not in base or key not in head:
                yield inner
            else:
                yield from changed_paths(base[key], head[key], inner)
    elif isinstance(base, list) and isinstance(head, list) and len(base) == len(head):
        for index, (b, h) in enumerate(zip(base, head, strict=True)):
            yield from changed_paths(b, h, f"{path}[{index}]")
    elif base != head:
        yield path or "(value)"


def _provider_changes(base: Mapping[str, Any], head: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """Changed input paths of each provider present in both plans, by URN (unchanged ones left out)."""
    before = {r["urn"]: r for r in base["resources"] if _is_provider(r)}
    after = {r["urn"]: r for r in head["resources"] if _is_provider(r)}
    changes = {
        urn: tuple(changed_paths(before[urn].get("inputs", {}), after[urn].get("inputs", {})))
        for urn in before.keys() & after.keys()
    }
    return {urn: paths for urn, paths in changes.items() if paths}


def _change(resource: Mapping[str, Any], properties: tuple[str, ...] = ()) -> ResourceChange:
    return ResourceChange(
        urn=resource["urn"],
        type=resource["type"],
        name=resource["name"],
        region=resource.get("region") or GLOBAL,
        properties=properties,
    )


def diff_plans(base: Mapping[str, Any], head: Mapping[str, Any]) -> PlanDiff:
    """Compare two plan documents (`Plan.to_json()` or a file loaded with `load_plan_json`)."""
    if base.get("stack") != head.get("stack"):
        raise PlanDiffError(
            f"the base plan is of stack {base.get('stack')!r} and this one of {head.get('stack')!r}: "
            "URNs name their stack, so compare two plans of the same stack"
        )
    before, after = _counted(base), _counted(head)
    # An alias naming a URN of the base that the head no longer has: the engine moves that
    # resource to its new URN. (An alias to a URN still in use is not a move: the engine would
    # refuse it, and `pulumi up` shows the error.)
    gone = before.keys() - after.keys()
    former = {
        urn: next(old for old in resource.get("aliases", ()) if old in gone)
        for urn, resource in after.items()
        if urn not in before and any(old in gone for old in resource.get("aliases", ()))
    }
    moved = tuple(
        ResourceMove(old, urn, after[urn]["type"], after[urn]["name"], after[urn].get("region") or GLOBAL)
        for urn, old in sorted(former.items())
    )
    matched = {urn: old for urn, old in former.items()} | {urn: urn for urn in before.keys() & after.keys()}
    added = tuple(_change(after[urn]) for urn in sorted(after.keys() - matched.keys()))
    removed = tuple(_change(before[urn]) for urn in sorted(gone - set(former.values())))
    # A provider's settings (an AWS provider's default tags, say) apply to every resource it
    # manages, so a change to them is shown on each of those resources, as `pulumi up` updates them.
    providers = _provider_changes(base, head)
    changed = []
    for urn in sorted(matched):
        old, new = before[matched[urn]], after[urn]
        paths = tuple(changed_paths(old.get("inputs", {}), new.get("inputs", {})))
        if old.get("region") != new.get("region"):
            paths = ("(region)", *paths)
        if old.get("protect") != new.get("protect"):
            paths = (*paths, "(protect)")
        paths += tuple(f"{PROVIDER_PREFIX}{path}" for path in providers.get(new.get("provider") or "", ()))
        if paths:
            changed.append(_change(new, paths))
    return PlanDiff(
        stack=str(head.get("stack")),
        added=added,
        removed=removed,
        changed=tuple(changed),
        base_counts=region_counts(base),
        head_counts=region_counts(head),
        moved=moved,
    )


#: Rows shown per list before "… and N more": a region's worth of additions stays readable.
MAX_ROWS = 60


def _grouped(changes: tuple[ResourceChange, ...]) -> list[tuple[str, str, int]]:
    """(region, type, count) of additions or removals: a new region reads as its resource types."""
    counts = Counter((change.region, change.type) for change in changes)
    return [(region, type_token, count) for (region, type_token), count in sorted(counts.items())]


def _grouped_by_provider(changes: Sequence[ResourceChange]) -> list[tuple[str, str, int]]:
    """(region, the provider settings that changed, how many resources) of provider-only changes."""
    counts = Counter(
        (c.region, ", ".join(p.removeprefix(PROVIDER_PREFIX) for p in c.properties)) for c in changes
    )
    return [(region, properties, count) for (region, properties), count in sorted(counts.items())]


def _headline(diff: PlanDiff) -> str:
    if diff.empty:
        return "no resource added, removed or changed"
    counts = f"{len(diff.added)} to add, {len(diff.removed)} to remove, {len(diff.changed)} to change"
    return counts + (f", {len(diff.moved)} renamed (aliased: kept, not replaced)" if diff.moved else "")


def _grouped_moves(moves: Sequence[ResourceMove]) -> list[tuple[str, str, int]]:
    """(region, type, count) of the renamed resources."""
    counts = Counter((move.region, move.type) for move in moves)
    return [(region, type_token, count) for (region, type_token), count in sorted(counts.items())]


def render_diff(diff: PlanDiff, console: Console) -> None:
    """The diff on a terminal: counts per region, then additions and removals grouped by region and
    type, then each changed resource with its changed properties."""
    table = Table(title=f"Offline plan of {diff.stack} versus the base plan")
    columns = ("region", "base", "now", "add", "remove", "change") + (("rename",) if diff.moved else ())
    for column in columns:
        table.add_column(column, justify="left" if column == "region" else "right")
    for row in diff.region_rows():
        table.add_row(*row)
    console.print(table)
    for title, changes, style in (("To add", diff.added, "green"), ("To remove", diff.removed, "red")):
        if changes:
            grouped = Table(title=f"{title} ({len(changes)})", title_style=style)
            grouped.add_column("region")
            grouped.add_column("type")
            grouped.add_column("count", justify="right")
            for region, type_token, count in _grouped(changes):
                grouped.add_row(region, type_token, str(count))
            console.print(grouped)
    if diff.moved:
        grouped = Table(title=f"Renamed, kept through an alias ({len(diff.moved)})", title_style="cyan")
        grouped.add_column("region")
        grouped.add_column("type")
        grouped.add_column("count", justify="right")
        for region, type_token, count in _grouped_moves(diff.moved):
            grouped.add_row(region, type_token, str(count))
        console.print(grouped)
    direct, retagged = diff.changed_directly(), diff.changed_by_provider()
    if direct:
        detail = Table(title=f"To change ({len(direct)})", title_style="yellow")
        detail.add_column("resource")
        detail.add_column("region")
        detail.add_column("changed inputs")
        for change in direct[:MAX_ROWS]:
            detail.add_row(
                escape(f"{change.type} {change.name}"), change.region, escape(", ".join(change.properties))
            )
        console.print(detail)
        if len(direct) > MAX_ROWS:
            console.print(f"… and {len(direct) - MAX_ROWS} more changed resources.")
    if retagged:
        grouped = Table(title=f"To change because their provider's settings change ({len(retagged)})")
        grouped.add_column("region")
        grouped.add_column("provider settings")
        grouped.add_column("resources", justify="right")
        for region, properties, count in _grouped_by_provider(retagged):
            grouped.add_row(region, escape(properties), str(count))
        console.print(grouped)
    console.print(f"Versus the base plan: [bold]{_headline(diff)}[/].")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def summary_markdown(head: Mapping[str, Any], diff: PlanDiff | None = None) -> str:
    """The plan summary a pull request shows (GitHub job summary): resources per region and, given a
    diff, what the change adds, removes and changes versus the base branch."""
    counts = region_counts(head)
    regions = [r for r in counts if r != GLOBAL]
    total = sum(counts.values())
    lines = [f"### Offline plan: `{head.get('stack')}`, {total} resources in {len(regions)} regions", ""]
    if diff is None:
        lines += ["| region | resources |", "| --- | ---: |"]
        lines += [f"| {region} | {count} |" for region, count in counts.items()]
        return "\n".join(lines) + "\n"
    rename = (" rename |", " ---: |") if diff.moved else ("", "")
    lines += [
        "| region | base | this change | add | remove | change |" + rename[0],
        "| --- | ---: | ---: | ---: | ---: | ---: |" + rename[1],
    ]
    lines += ["| " + " | ".join(row) + " |" for row in diff.region_rows()]
    lines += ["", f"**Versus the base branch: {_headline(diff)}.**", ""]
    for title, changes in (("To add", diff.added), ("To remove", diff.removed)):
        if changes:
            lines += [f"<details><summary>{title} ({len(changes)})</summary>", ""]
            lines += ["| region | type | count |", "| --- | --- | ---: |"]
            lines += [f"| {region} | `{t}` | {count} |" for region, t, count in _grouped(changes)]
            lines += ["", "</details>", ""]
    if diff.moved:
        lines += [f"<details><summary>Renamed, kept through an alias ({len(diff.moved)})</summary>", ""]
        lines += ["| region | type | count |", "| --- | --- | ---: |"]
        lines += [f"| {region} | `{t}` | {count} |" for region, t, count in _grouped_moves(diff.moved)]
        lines += ["", "</details>", ""]
    direct, retagged = diff.changed_directly(), diff.changed_by_provider()
    if direct:
        lines += [f"<details><summary>To change ({len(direct)})</summary>", ""]
        lines += ["| resource | region | changed inputs |", "| --- | --- | --- |"]
        for change in direct[:MAX_ROWS]:
            properties = _cell(", ".join(f"`{p}`" for p in change.properties))
            lines.append(f"| `{change.type}` {_cell(change.name)} | {change.region} | {properties} |")
        if len(direct) > MAX_ROWS:
            lines.append(f"| … and {len(direct) - MAX_ROWS} more | | |")
        lines += ["", "</details>", ""]
    if retagged:
        title = f"To change because their provider's settings change ({len(retagged)})"
        lines += [
            f"<details><summary>{title}</summary>",
            "",
            "| region | provider settings | resources |",
            "| --- | --- | ---: |",
        ]
        for region, properties, count in _grouped_by_provider(retagged):
            lines.append(f"| {region} | {_cell(properties)} | {count} |")
        lines += ["", "</details>", ""]
    return "\n".join(lines)
