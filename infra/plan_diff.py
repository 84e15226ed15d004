"""What changed between two offline plans: resources added, removed and changed, and counts per region.

A pull request's reviewer sees the effect of a change without credentials: CI writes the base branch's
offline plan (`meridian plan --stack S --json base.json`, run from the base branch's own code) and the
pull request's plan is compared with it (`meridian plan --stack S --diff base.json`). Both sides are
plan JSON documents (`Plan.to_json`), so any two plans compare, whichever run produced them.

Resources are matched by URN, as the Pulumi engine matches them: a renamed resource is a removal and an
addition, which is what `pulumi up` would do to it without an alias. A resource has changed when its
inputs differ; the changed property paths are listed (`scalingConfig.maxSize`). Secrets are masked in
the plan, so a changed secret value does not show. What counts is what the plan counts: custom
resources, not providers (a provider's changed region shows on each of its resources as `(region)`)
and not components (they declare nothing of their own).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

__all__ = [
    "GLOBAL",
    "PlanDiff",
    "PlanDiffError",
    "ResourceChange",
    "changed_paths",
    "diff_plans",
    "load_plan_json",
    "region_counts",
    "render_diff",
    "summary_markdown",
]

#: How a resource with no AWS region (Cloudflare, random, the stack's own) is counted.
GLOBAL = "global"


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


@dataclass(frozen=True)
class PlanDiff:
    """The difference from a base plan to a head plan of the same stack."""

    stack: str
    added: tuple[ResourceChange, ...]
    removed: tuple[ResourceChange, ...]
    changed: tuple[ResourceChange, ...]
    base_counts: Mapping[str, int]  # custom resources per region in the base plan
    head_counts: Mapping[str, int]

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def regions(self) -> list[str]:
        """Every region of either plan, by name, then global."""
        return sorted(set(self.base_counts) | set(self.head_counts), key=lambda r: (r == GLOBAL, r))

    def region_rows(self) -> list[tuple[str, str, str, str, str, str]]:
        """Per region: resources in the base and now, and how many are added, removed, changed."""
        added, removed, changed = (
            Counter(change.region for change in changes)
            for changes in (self.added, self.removed, self.changed)
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
    return str(resource["type"]).startswith("pulumi:providers:")


def changed_paths(base: Any, head: Any, path: str = "") -> Iterator[str]:
    """Dotted paths (`tags.owner`, `subnetIds[1]`) where *head* differs from *base*."""
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
    added = tuple(_change(after[urn]) for urn in sorted(after.keys() - before.keys()))
    removed = tuple(_change(before[urn]) for urn in sorted(before.keys() - after.keys()))
    changed = []
    for urn in sorted(before.keys() & after.keys()):
        paths = tuple(changed_paths(before[urn].get("inputs", {}), after[urn].get("inputs", {})))
        if before[urn].get("region") != after[urn].get("region"):
            paths = ("(region)", *paths)
        if paths:
            changed.append(_change(after[urn], paths))
    return PlanDiff(
        stack=str(head.get("stack")),
        added=added,
        removed=removed,
        changed=tuple(changed),
        base_counts=region_counts(base),
        head_counts=region_counts(head),
    )


#: Rows shown per list before "… and N more": a region's worth of additions stays readable.
MAX_ROWS = 60


def _grouped(changes: tuple[ResourceChange, ...]) -> list[tuple[str, str, int]]:
    """(region, type, count) of additions or removals: a new region reads as its resource types."""
    counts = Counter((change.region, change.type) for change in changes)
    return [(region, type_token, count) for (region, type_token), count in sorted(counts.items())]


def _headline(diff: PlanDiff) -> str:
    if diff.empty:
        return "no resource added, removed or changed"
    return f"{len(diff.added)} to add, {len(diff.removed)} to remove, {len(diff.changed)} to change"


def render_diff(diff: PlanDiff, console: Console) -> None:
    """The diff on a terminal: counts per region, then additions and removals grouped by region and
    type, then each changed resource with its changed properties."""
    table = Table(title=f"Offline plan of {diff.stack} versus the base plan")
    for column in ("region", "base", "now", "add", "remove", "change"):
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
    if diff.changed:
        detail = Table(title=f"To change ({len(diff.changed)})", title_style="yellow")
        detail.add_column("resource")
        detail.add_column("region")
        detail.add_column("changed inputs")
        for change in diff.changed[:MAX_ROWS]:
            detail.add_row(
                escape(f"{change.type} {change.name}"), change.region, escape(", ".join(change.properties))
            )
        console.print(detail)
        if len(diff.changed) > MAX_ROWS:
            console.print(f"… and {len(diff.changed) - MAX_ROWS} more changed resources.")
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
    lines += [
        "| region | base | this change | add | remove | change |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in diff.region_rows()]
    lines += ["", f"**Versus the base branch: {_headline(diff)}.**", ""]
    for title, changes in (("To add", diff.added), ("To remove", diff.removed)):
        if changes:
            lines += [f"<details><summary>{title} ({len(changes)})</summary>", ""]
            lines += ["| region | type | count |", "| --- | --- | ---: |"]
            lines += [f"| {region} | `{t}` | {count} |" for region, t, count in _grouped(changes)]
            lines += ["", "</details>", ""]
    if diff.changed:
        lines += [f"<details><summary>To change ({len(diff.changed)})</summary>", ""]
        lines += ["| resource | region | changed inputs |", "| --- | --- | --- |"]
        for change in diff.changed[:MAX_ROWS]:
            properties = _cell(", ".join(f"`{p}`" for p in change.properties))
            lines.append(f"| `{change.type}` {_cell(change.name)} | {change.region} | {properties} |")
        if len(diff.changed) > MAX_ROWS:
            lines.append(f"| … and {len(diff.changed) - MAX_ROWS} more | | |")
        lines += ["", "</details>", ""]
    return "\n".join(lines)
