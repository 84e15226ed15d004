"""Geo steering, planned before anything is declared: which AWS regions serve each Cloudflare region.

Pure functions over `components.edge.geo`, tested on their own; `CdnEdge` only turns the result into
pools and a load balancer. For every Cloudflare region the order is:

1. the nearest **primary** region (primaries serve users every day);
2. that primary's **partner secondaries**, the standby regions that back it up (each secondary
   backs its nearest primary: `partner_secondaries`);
3. the next nearest primary, then its partners, and so on until every region is listed.

So a user is served by the closest full-capacity region, fails over first to that region's standby
(which holds a member of the same database), and only then crosses to another primary. An
override puts chosen regions first for one Cloudflare region; the computed order follows for the
rest. Adding or removing a region changes the table by recomputation, never by editing it.

A **read-only** region, one whose API cannot write a store it uses (a global datastore's secondary,
a database member without write forwarding), appears in no order at all: not first, not as a
failover, not as the default. Users sent there could read but not log in or save anything.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from ..core.args import RegionRole
from .geo import AWS_REGION_LOCATIONS, CloudflareRegion, Place, distance_km

__all__ = [
    "SteeringError",
    "SteeringPlan",
    "check_regions",
    "nearest",
    "partner_secondaries",
    "plan_steering",
]


class SteeringError(ValueError):
    """The regions given cannot be steered to (unknown location, no primary, bad override)."""


def _place(region: str) -> Place:
    try:
        return AWS_REGION_LOCATIONS[region]
    except KeyError:
        raise SteeringError(
            f"{region} has no location in components.edge.geo.AWS_REGION_LOCATIONS; add the metro area "
            "AWS names for it"
        ) from None


def nearest(point: Place, regions: Sequence[str]) -> list[str]:
    """`regions` from nearest to farthest from `point` (ties keep the order given)."""
    return sorted(regions, key=lambda r: distance_km(point, _place(r)))


def partner_secondaries(roles: Mapping[str, RegionRole]) -> dict[str, list[str]]:
    """Primary → the secondaries that back it up: each secondary backs its nearest primary (a
    primary may have several, or none)."""
    primaries = [r for r, role in roles.items() if role is RegionRole.PRIMARY]
    partners: dict[str, list[str]] = {p: [] for p in primaries}
    if primaries:
        for secondary, role in roles.items():
            if role is RegionRole.SECONDARY:
                partners[nearest(_place(secondary), primaries)[0]].append(secondary)
    return partners


@dataclass(frozen=True)
class SteeringPlan:
    """The steering of one load balancer.

    Attributes:
        regions: Cloudflare region → AWS regions in failover order (every region of the stack
            but the read-only ones).
        partners: primary → its partner secondaries.
        fallback: the region whose pool serves when every pool is unhealthy (the write home: it
            holds the writers, so it can serve every request).
        default: the order for a request whose Cloudflare region is unknown: the fallback first.
    """

    regions: dict[CloudflareRegion, list[str]]
    partners: dict[str, list[str]]
    fallback: str
    default: list[str]
    read_only: frozenset[str] = frozenset()

    def first_choice(self) -> dict[CloudflareRegion, str]:
        return {cf: order[0] for cf, order in self.regions.items()}


def _failover_order(point: Place, partners: Mapping[str, list[str]]) -> list[str]:
    order: list[str] = []
    for primary in nearest(point, list(partners)):
        order.append(primary)
        order.extend(nearest(point, partners[primary]))
    return order


def plan_steering(
    roles: Mapping[str, RegionRole],
    *,
    fallback: str,
    overrides: Mapping[CloudflareRegion, Sequence[str]] | None = None,
    read_only: Collection[str] = (),
) -> SteeringPlan:
    """Steer every Cloudflare region over the regions in `roles` (AWS region → role, stack order)
    but those in `read_only`, where the users' writes would fail.

    Where every primary is read-only (a failover moved the writes to secondaries), the secondaries
    that take writes serve first. Raises SteeringError when no region takes writes, the fallback is
    not a region given or is read-only, or an override names a region that is not given, is
    read-only, or comes twice."""
    read_only = frozenset(read_only)
    unknown_read_only = sorted(read_only - set(roles))
    if unknown_read_only:
        raise SteeringError(
            f"read-only {', '.join(unknown_read_only)} not among the regions: {', '.join(roles)}"
        )
    if RegionRole.PRIMARY not in roles.values():
        raise SteeringError("no primary region: at least one region must serve users first")
    writable = {r: role for r, role in roles.items() if r not in read_only}
    if not writable:
        raise SteeringError("no region takes writes: at least one must serve users")
    if RegionRole.PRIMARY not in writable.values():
        # Every primary is read-only (a failover moved the writes to standbys): those serve first.
        writable = dict.fromkeys(writable, RegionRole.PRIMARY)
    if fallback not in roles:
        raise SteeringError(f"fallback {fallback} is not one of the regions: {', '.join(roles)}")
    if fallback in read_only:
        raise SteeringError(f"fallback {fallback} is read-only: the fallback must take every write")
    partners = partner_secondaries(writable)
    table: dict[CloudflareRegion, list[str]] = {}
    for cf_region in CloudflareRegion:
        order = _failover_order(cf_region.place, partners)
        lead = list((overrides or {}).get(cf_region, ()))
        unknown = [r for r in lead if r not in roles]
        if unknown:
            raise SteeringError(
                f"override for {cf_region.value} names {', '.join(unknown)}, not among the regions: "
                f"{', '.join(roles)}"
            )
        barred = [r for r in lead if r in read_only]
        if barred:
            raise SteeringError(
                f"override for {cf_region.value} names {', '.join(barred)}, where writes fail (read-only)"
            )
        if len(set(lead)) != len(lead):
            raise SteeringError(f"override for {cf_region.value} names a region twice: {', '.join(lead)}")
        table[cf_region] = [*lead, *(r for r in order if r not in lead)]
    default = [fallback, *(r for r in _failover_order(_place(fallback), partners) if r != fallback)]
    return SteeringPlan(
        regions=table, partners=partners, fallback=fallback, default=default, read_only=read_only
    )


def check_regions(plan: SteeringPlan) -> dict[str, list[CloudflareRegion]]:
    """AWS region → the Cloudflare regions its pool is health-checked from: the Cloudflare region
    nearest to it, and those whose users it serves first. Each checking region costs probes from
    three data centres, and a pool's health is one quorum whatever the number, so checking every
    pool from everywhere would multiply probes for nothing."""
    checked: dict[str, list[CloudflareRegion]] = {}
    for region in plan.default:
        home = min(CloudflareRegion, key=lambda cf: distance_km(cf.place, _place(region)))
        serves = [cf for cf, order in plan.regions.items() if order[0] == region]
        checked[region] = [cf for cf in CloudflareRegion if cf is home or cf in serves]
    return checked
