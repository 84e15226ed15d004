"""The offline plan as a person reads it: the resource tree (regions, components, a tally of
resources by type), the counts by type, and where Cloudflare sends each region's users."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from components.edge.geo import CloudflareRegion

if TYPE_CHECKING:
    from .mocks import RecordedResource
    from .run import Plan

__all__ = ["render_plan", "render_steering"]


def _label(resource: RecordedResource, plan: Plan) -> str:
    kind = resource.type.rsplit(":", 1)[-1]
    if resource.type == "meridian:region:RegionStack":
        role = plan.outputs.get("regions", {}).get(resource.name, {}).get("role", "")
        return f"[bold]{resource.name}[/] [dim]({role}) RegionStack[/]"
    return f"[cyan]{kind}[/] {resource.name}"


def _add_component(node: Tree, component: RecordedResource, plan: Plan, itemise: bool) -> None:
    """Sub-components as branches; the resources below a component (at any depth) as a tally."""
    below = plan.children.get(component.urn, [])
    for child in below:
        if not child.custom:
            _add_component(node.add(_label(child, plan)), child, plan, itemise)
    resources = [
        r for r in plan.descendants(component.urn) if r.custom and _owning_component(r, plan) == component.urn
    ]
    by_type: dict[str, list[str]] = {}
    for r in resources:
        by_type.setdefault(r.type, []).append(r.name)
    for type_token in sorted(by_type):
        names = sorted(by_type[type_token])
        if itemise:
            for name in names:
                node.add(f"{type_token} [dim]{name}[/]")
        else:
            node.add(f"{type_token} [bold]×{len(names)}[/]")


def _owning_component(resource: RecordedResource, plan: Plan) -> str | None:
    parent = plan.by_urn.get(resource.parent or "")
    while parent is not None and parent.custom:
        parent = plan.by_urn.get(parent.parent or "")
    return parent.urn if parent else None


def render_plan(plan: Plan, console: Console, itemise: bool = False) -> None:
    """Print the resource tree (regions → components → resources), counts by type and the total."""
    regions = list(plan.outputs.get("regions", {}))
    tree = Tree(f"[bold]{plan.project}[/] stack [bold]{plan.stack}[/]: {len(regions)} regions")
    order = {name: i for i, name in enumerate(plan.outputs.get("regions", {}))}  # stack-file order
    for root in sorted(plan.children.get(None, []), key=lambda r: order.get(r.name, len(order))):
        _add_component(tree.add(_label(root, plan)), root, plan, itemise)
    console.print(tree)

    table = Table(title="Resources by type", show_footer=True)
    table.add_column("type", footer="total")
    counts = plan.counts_by_type()
    table.add_column("count", justify="right", footer=str(sum(counts.values())))
    for type_token, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        table.add_row(type_token, str(count))
    console.print(table)
    render_steering(plan, console)
    console.print(
        f"Plan: [bold]{sum(counts.values())}[/] resources to create in {len(regions)} regions "
        f"({', '.join(regions)}); write home {plan.outputs.get('writeHome')}."
    )


def render_steering(plan: Plan, console: Console) -> None:
    """Which users go where: each Cloudflare region's AWS regions, in failover order."""
    edge = plan.outputs.get("cdn") or {}
    if not edge.get("steering"):
        return
    table = Table(title=f"Cloudflare geo steering of {edge.get('hostname')} (failover order →)")
    table.add_column("Cloudflare region")
    table.add_column("users near")
    table.add_column("served by, then failover")
    for code, order in edge["steering"].items():
        table.add_row(code, CloudflareRegion(code).place.name, " → ".join(order))
    console.print(table)
    console.print(f"Fallback when every pool is down: {edge.get('fallbackRegion')}.")
