"""The availability the contracts promise: published SLAs composed over the stack's topology.

Within a region a request needs every part it passes through, in series: the Network Load Balancer
of the ingress gateway, the EKS cluster, the region's Aurora cluster (where it has one) and each of
its Redis stores (the API uses all of them). Across regions, Cloudflare's load balancer fails over
to any healthy pool, so the regions are in parallel; Cloudflare itself is in series in front. So

    region  = Π uptime of its parts
    global  = Cloudflare × (1 - Π over regions (1 - region))

with the figures of `infra/analyses/data/sla.yaml`, each a provider's published monthly commitment. Failures
are taken as independent, which they are not always (a bad deploy reaches every region): the figure
is the ceiling the contracts allow, not a forecast. Only regions Cloudflare may send users to count
(those with a pool: a region that could not write every store has none). Writes are the exception
to the parallel rule: from every region they end at the one writer (the secondaries forward them),
in the write home until an Aurora global-database failover moves it, so the write path is the write
home's chain, shown beside the global figure.

The parts are read from the offline plan (the resources each region declares), not from config.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from functools import cache

from rich.console import Console
from rich.table import Table

from ..config.naming import NAMESPACE
from ..plan.run import Plan
from .catalog import load_data

__all__ = [
    "MINUTES_PER_MONTH",
    "Availability",
    "Part",
    "RegionAvailability",
    "asks_for_load_balancer",
    "availability_json",
    "compose",
    "render_availability",
    "sla_table",
]

#: A 30-day month, as the SLAs measure.
MINUTES_PER_MONTH = 30 * 24 * 60

#: The ingress gateway's chart asks for a Service of type LoadBalancer, which AWS answers with an NLB.
_HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
_PARTS_BY_TYPE = {
    "aws:eks/cluster:Cluster": "amazon-eks",
    "aws:rds/cluster:Cluster": "amazon-aurora-multi-az",
    "aws:elasticache/replicationGroup:ReplicationGroup": "amazon-elasticache-multi-az",
}


@dataclass(frozen=True)
class Part:
    """One published commitment (an entry of `infra/analyses/data/sla.yaml`)."""

    key: str
    label: str
    service: str
    uptime: float
    source: str


@cache
def sla_table() -> dict[str, Part]:
    raw = load_data("data/sla.yaml")
    return {
        key: Part(key, str(v["label"]), str(v["service"]), float(v["uptime"]), str(v["source"]))
        for key, v in raw.items()
    }


@dataclass(frozen=True)
class RegionAvailability:
    region: str
    parts: tuple[Part, ...]  # in series, one entry per resource (three Redis stores: three entries)

    @property
    def uptime(self) -> float:
        return math.prod(p.uptime for p in self.parts)


@dataclass(frozen=True)
class Availability:
    regions: tuple[RegionAvailability, ...]
    edge: Part | None  # Cloudflare, in series in front of the regions
    write_home: str
    target: float

    @property
    def uptime(self) -> float:
        down_everywhere = math.prod(1 - r.uptime for r in self.regions)
        return (self.edge.uptime if self.edge else 1.0) * (1 - down_everywhere)

    @property
    def write_uptime(self) -> float:
        home = next(r for r in self.regions if r.region == self.write_home)
        return (self.edge.uptime if self.edge else 1.0) * home.uptime

    @property
    def met(self) -> bool:
        return self.uptime >= self.target

    @staticmethod
    def downtime_minutes(uptime: float) -> float:
        """Minutes a month an *uptime* allows to be down."""
        return (1 - uptime) * MINUTES_PER_MONTH


def asks_for_load_balancer(release_inputs: dict[str, object]) -> bool:
    """Whether a Helm release's values ask for a Service of type LoadBalancer (an NLB on AWS)."""
    values = release_inputs.get("values")
    service = values.get("service") if isinstance(values, dict) else None
    return isinstance(service, dict) and service.get("type") == "LoadBalancer"


def compose(plan: Plan, target: float) -> Availability:
    """The parts each region of *plan* declares, in series, and the regions in parallel."""
    table = sla_table()
    order = list(plan.outputs.get("regions") or {})
    pools = {
        str(p.inputs.get("name", ""))
        for p in plan.of_type("cloudflare:index/loadBalancerPool:LoadBalancerPool")
    }
    if pools:  # behind Cloudflare, a region without a pool serves no one
        order = [r for r in order if f"{NAMESPACE}-{plan.stack}-{r}" in pools]
    parts: dict[str, list[Part]] = {region: [] for region in order}
    for resource in plan.custom_resources:
        region = plan.regions.get(resource.urn)
        if region not in parts:
            continue
        key = _PARTS_BY_TYPE.get(resource.type)
        if key is None and resource.type == _HELM_RELEASE and asks_for_load_balancer(resource.inputs):
            key = "elastic-load-balancing"
        if key is not None:
            parts[region].append(table[key])
    edge = (
        table["cloudflare-business"] if plan.of_type("cloudflare:index/loadBalancer:LoadBalancer") else None
    )
    return Availability(
        regions=tuple(RegionAvailability(r, tuple(sorted(p, key=lambda x: x.key))) for r, p in parts.items()),
        edge=edge,
        write_home=str(plan.outputs.get("writeHome")),
        target=target,
    )


def _percent(uptime: float) -> str:
    return f"{uptime:.4%}" if uptime < 1 else "100% (to float precision)"


def render_availability(figures: Availability, stack: str, console: Console) -> None:
    """Each region's chain, then the global and write-path figures against the target."""
    table = Table(title=f"Composed SLAs of {stack}: each region's parts in series")
    table.add_column("region")
    table.add_column("parts in series")
    table.add_column("uptime", justify="right")
    table.add_column("down / month", justify="right")
    for region in figures.regions:
        counts = Counter(region.parts)
        parts = ", ".join(
            f"{p.label} {p.uptime:.2%}" + (f" ×{n}" if n > 1 else "") for p, n in counts.items()
        )
        down = f"{figures.downtime_minutes(region.uptime):.1f} min"
        table.add_row(region.region, parts, _percent(region.uptime), down)
    console.print(table)
    edge = f"Cloudflare {figures.edge.uptime:.2%} in front, " if figures.edge else ""
    console.print(
        f"Global ({edge}{len(figures.regions)} regions in parallel with failover): "
        f"{_percent(figures.uptime)}, {figures.downtime_minutes(figures.uptime):.2f} min down a month "
        "allowed by the contracts."
    )
    write_note = "meets" if figures.write_uptime >= figures.target else "is below"
    console.print(
        f"Writes (the write home {figures.write_home}, until an Aurora global failover moves it): "
        f"{_percent(figures.write_uptime)}, {figures.downtime_minutes(figures.write_uptime):.1f} min a "
        f"month; {write_note} the target, which only the failover procedure can close."
    )
    verdict = "meets" if figures.met else "misses"
    console.print(f"Global availability [bold]{verdict}[/] the target of {figures.target:.2%}.")


def availability_json(figures: Availability) -> dict[str, object]:
    return {
        "target": figures.target,
        "uptime": figures.uptime,
        "writeUptime": figures.write_uptime,
        "met": figures.met,
        "regions": {
            r.region: {"uptime": r.uptime, "parts": [p.key for p in r.parts]} for r in figures.regions
        },
        "sources": {key: part.source for key, part in sla_table().items()},
    }
