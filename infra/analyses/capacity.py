"""Capacity with a region lost: can the rest of the stack still serve the peak, as the steering sends it?

Each region's **ceiling** is the least of what its tiers can answer, in requests a second:

- `replicas`: the HPA's most API pods × what one pod sustains (`meridian:workload.apiPod`);
- `nodes`: the API pods the `apps` group at its most nodes, plus Karpenter's burst vCPUs, can hold
  (a node's vCPUs, less the kubelet's reservation and the DaemonSets, packed by the pod's request),
  × what one pod sustains;
- `postgres reads`: the region's readers × their vCPUs × reads per vCPU-second ÷ reads per request;
- one tier per Redis store: shards × commands per shard-second ÷ the commands a request sends to
  the roles the store serves.

Writes are global: every request's writes go to the one writer, in the write home, or, with the
write home lost, in the region the write home's users fail over to first (where the database fails
over too). So the writer's ceiling is checked against the whole peak. The writes of every other
region reach it forwarded, and each forwarded write holds one of the writer's forwarding sessions
for its statement's and its commit's round trips (`forwarded_sessions`, by Little's law, at the
round-trip floor of `meridian latency`); those sessions are capped at
`writeForwarding.maxForwardingConnectionsPercent` of the writer's `max_connections`
(`forwarding_slots`: Aurora PostgreSQL's default, LEAST(DBInstanceClassMemory / 9,531,392, 5,000),
taken at the class's whole memory, so an upper bound). Idle pooled connections keep their session
up to `apg_write_forward.idle_session_timeout` (5 minutes), so the figure is the least the quota
must hold, not the most it may meet.

**Demand.** The peak (`meridian:targets.requestsPerSecond`) is split over Cloudflare's regions by
`meridian:workload.trafficShares`, or, unset, by the population of GeoNames' large cities nearest to
each Cloudflare region's centre (the same cities and distances as `meridian latency`). Each
Cloudflare region's requests go to the first region of its steering order (`components.edge.steering`,
the table the load balancer is built from) that is up. The scenarios are every region up, then
each region lost in turn; the verdict is the worst region of the worst scenario.

All of it is arithmetic over config: the per-pod and per-vCPU rates are the application's, measured
in a load test and written into the stack file, never defaults of this module.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from rich.console import Console
from rich.table import Table

from components.core.sizes import ComponentSizes
from components.edge.geo import AWS_REGION_LOCATIONS, CloudflareRegion, distance_km
from components.redis.args import RedisRole

from ..config.component_args import cdn_args
from ..config.schema import StackConfig
from ..config.workload import Workload
from .catalog import instance_spec
from .latency import City, rtt_floor_ms, world_cities

__all__ = [
    "CapacityReport",
    "RegionCeiling",
    "Scenario",
    "Tier",
    "analyse_capacity",
    "capacity_json",
    "kube_reserved_vcpu",
    "population_shares",
    "region_ceiling",
    "render_capacity",
    "route",
]


@dataclass(frozen=True)
class Tier:
    """One part of a region and the requests a second it can answer."""

    name: str
    ceiling_rps: float
    detail: str


@dataclass(frozen=True)
class RegionCeiling:
    region: str
    role: str
    tiers: tuple[Tier, ...]

    @property
    def bottleneck(self) -> Tier:
        return min(self.tiers, key=lambda t: t.ceiling_rps)

    @property
    def ceiling_rps(self) -> float:
        return self.bottleneck.ceiling_rps


@dataclass(frozen=True)
class Scenario:
    """One state of the stack: `lost` is the region down (None: all up).

    Attributes:
        load_rps: requests a second each surviving region takes, as the steering sends them.
        ceilings: each surviving region's ceiling in this state (a promoted writer's region reads
            with one instance fewer).
        writer: the region whose Aurora writer takes every write in this state (None: no
            database region survives).
        writer_ceiling_rps: the requests a second whose writes that writer can commit.
        forwarded_sessions: the writer's forwarding sessions the other regions' writes hold at once.
        forwarding_slots: how many the writer allows (its forwarding share of `max_connections`).
    """

    lost: str | None
    load_rps: dict[str, float]
    ceilings: dict[str, RegionCeiling]
    writer: str | None
    writer_ceiling_rps: float
    forwarded_sessions: float = 0.0
    forwarding_slots: float = math.inf

    @property
    def total_rps(self) -> float:
        return sum(self.load_rps.values())


@dataclass(frozen=True)
class CapacityReport:
    target_rps: float
    ceilings: dict[str, RegionCeiling]
    shares: dict[CloudflareRegion, float]
    scenarios: tuple[Scenario, ...]  # all up first, then each region lost, in stack order

    def utilisation(self, scenario: Scenario, region: str) -> float:
        return _share(scenario.load_rps[region], scenario.ceilings[region].ceiling_rps)

    def writes(self, scenario: Scenario) -> float:
        """The writer's utilisation in *scenario*."""
        return _share(scenario.total_rps, scenario.writer_ceiling_rps)

    def forwarding(self, scenario: Scenario) -> float:
        """The writer's forwarding sessions in use in *scenario*, as a share of its quota."""
        return _share(scenario.forwarded_sessions, scenario.forwarding_slots)

    def busiest(self, scenario: Scenario) -> str:
        """The surviving region nearest its ceiling in *scenario*."""
        return max(scenario.load_rps, key=lambda r: self.utilisation(scenario, r))

    def headroom(self, scenario: Scenario) -> float:
        """Least spare fraction of *scenario*: 1 - the busiest region's (or the writer's, or its
        forwarding quota's) utilisation."""
        return 1 - max(
            self.utilisation(scenario, self.busiest(scenario)),
            self.writes(scenario),
            self.forwarding(scenario),
        )

    @property
    def worst(self) -> Scenario:
        return min(self.scenarios, key=self.headroom)

    @property
    def met(self) -> bool:
        return self.headroom(self.worst) >= 0

    def overflows(self) -> dict[str, Scenario]:
        """Region → the scenario that loads it furthest past its ceiling, for each region that
        overflows in any."""
        worst: dict[str, Scenario] = {}
        for scenario in self.scenarios:
            for region in scenario.load_rps:
                past = self.utilisation(scenario, region)
                if past > 1 and (region not in worst or past > self.utilisation(worst[region], region)):
                    worst[region] = scenario
        return worst


def _share(load: float, ceiling: float) -> float:
    """*load* as a share of *ceiling*: infinite when there is load and no ceiling."""
    if ceiling > 0:
        return load / ceiling
    return math.inf if load > 0 else 0.0


def kube_reserved_vcpu(vcpu: int) -> float:
    """CPU the EKS-optimised AMI reserves for the kubelet and runtime on a node of *vcpu* vCPUs:
    6 % of the first core, 1 % of the second, 0.5 % of the third and fourth, 0.25 % of the rest."""
    shares = (0.06, 0.01, 0.005, 0.005)
    return sum(shares[i] if i < len(shares) else 0.0025 for i in range(vcpu))


def region_ceiling(
    region: str,
    role: str,
    sizes: ComponentSizes,
    store_roles: Mapping[str, Sequence[RedisRole]],
    workload: Workload,
    database: bool = True,
    promoted_writes_rps: float | None = None,
) -> RegionCeiling:
    """The tiers of one region sized by *sizes*: *store_roles* is store → the roles it serves;
    *database* False for a region outside the global database (its reads are another's).
    *promoted_writes_rps*: the region's cluster took over the writer in a failover and commits the
    writes of that many requests a second; one of its instances writes, the others read, and a lone
    instance reads with the vCPUs its writes leave."""
    eks, pod = sizes.eks, workload.api_pod
    node = instance_spec(eks.node_instance_types[0])
    allocatable = node.vcpu - kube_reserved_vcpu(node.vcpu) - workload.node_daemon_vcpu
    pods_per_node = max(0, math.floor(allocatable / pod.cpu_vcpu + 1e-9))
    nodes = eks.max_nodes + eks.burst_vcpus // node.vcpu  # Karpenter's limit counts vCPUs
    tiers = [
        Tier(
            "replicas",
            eks.api_max_replicas * pod.requests_per_second,
            f"{eks.api_max_replicas} API pods (HPA max) × {pod.requests_per_second:g} req/s",
        ),
        Tier(
            "nodes",
            nodes * pods_per_node * pod.requests_per_second,
            f"{nodes} × {node.name} ({eks.max_nodes} + {eks.burst_vcpus} burst vCPUs) × {pods_per_node} pods",
        ),
    ]
    reads = workload.postgres.reads_per_request
    if database and reads > 0:
        reader = instance_spec(sizes.postgres.instance_class)
        readers = sizes.postgres.reader_instances
        if promoted_writes_rps is None:
            vcpus, how = float(readers * reader.vcpu), f"{readers} × {reader.name}"
        elif readers > 1:
            vcpus, how = float((readers - 1) * reader.vcpu), f"{readers - 1} × {reader.name} (one promoted)"
        else:
            pg = workload.postgres
            writing = promoted_writes_rps * pg.writes_per_request / pg.writes_per_vcpu_second
            vcpus = max(0.0, reader.vcpu - writing)
            how = f"the promoted {reader.name}'s {vcpus:.1f} vCPUs its writes leave"
        tiers.append(
            Tier(
                "postgres reads",
                vcpus * workload.postgres.reads_per_vcpu_second / reads,
                f"{how} at {workload.postgres.reads_per_vcpu_second:g} reads/vCPU/s, {reads:g} reads/req",
            )
        )
    for store, roles in store_roles.items():
        ops = sum(workload.redis.ops_per_request.get(role, 0.0) for role in roles)
        if ops > 0:
            shape = sizes.redis[store]
            tiers.append(
                Tier(
                    f"redis {store}",
                    shape.shards * workload.redis.ops_per_shard_second / ops,
                    f"{shape.shards} shards × {workload.redis.ops_per_shard_second:g} ops/s, {ops:g} ops/req",
                )
            )
    return RegionCeiling(region, role, tuple(tiers))


def writer_ceiling(sizes: ComponentSizes, workload: Workload) -> float:
    """Requests a second whose writes a writer of *sizes*' instance class commits."""
    writes = workload.postgres.writes_per_request
    if writes <= 0:
        return math.inf
    writer = instance_spec(sizes.postgres.instance_class)
    return writer.vcpu * workload.postgres.writes_per_vcpu_second / writes


#: Aurora PostgreSQL's default `max_connections`: LEAST({DBInstanceClassMemory/9531392}, 5000)
#: (Aurora User Guide, "Maximum connections to an Aurora PostgreSQL DB instance").
MAX_CONNECTIONS_BYTES_EACH = 9_531_392
MAX_CONNECTIONS_CAP = 5_000


def forwarding_slots(sizes: ComponentSizes, percent: int) -> float:
    """The forwarded sessions a writer of *sizes*' instance class allows: *percent* of its default
    `max_connections`, from the class's whole memory (DBInstanceClassMemory is a little less)."""
    memory = instance_spec(sizes.postgres.instance_class).memory_gib * 2**30
    return min(memory // MAX_CONNECTIONS_BYTES_EACH, MAX_CONNECTIONS_CAP) * percent / 100


def forwarded_sessions(
    load: Mapping[str, float], writer: str, writes_per_request: float, inflation: float
) -> float:
    """Forwarding sessions held at once by the writes of every region but *writer*'s: each holds one
    for two round trips to the writer's region (the statement, then its commit), Little's law."""
    return sum(
        rps
        * writes_per_request
        * 2
        * rtt_floor_ms(distance_km(AWS_REGION_LOCATIONS[region], AWS_REGION_LOCATIONS[writer]), inflation)
        / 1000
        for region, rps in load.items()
        if region != writer
    )


@cache
def population_shares(cities: tuple[City, ...] | None = None) -> dict[CloudflareRegion, float]:
    """Each Cloudflare region's share of the large cities' population, a city going to the region
    whose centre is nearest (Cloudflare maps countries and states; one centre each is coarse)."""
    people = {cf: 0 for cf in CloudflareRegion}
    for city in cities if cities is not None else world_cities():
        people[min(CloudflareRegion, key=lambda cf: distance_km(city.place, cf.place))] += city.population
    total = sum(people.values()) or 1
    return {cf: n / total for cf, n in people.items()}


def route(
    shares: Mapping[CloudflareRegion, float],
    steering: Mapping[CloudflareRegion, Sequence[str]],
    total_rps: float,
    lost: str | None = None,
    shedding: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """Requests a second per region: each Cloudflare region's share goes to the first region of its
    steering order that is not *lost*, less the percentage that region sheds (*shedding*, the
    pools' load shedding), which goes to the next region of the order that is up."""
    regions = dict.fromkeys(r for order in steering.values() for r in order if r != lost)
    load = dict.fromkeys(regions, 0.0)
    for cf, share in shares.items():
        up = [r for r in steering[cf] if r != lost]
        shed = (shedding or {}).get(up[0], 0.0) / 100 if len(up) > 1 else 0.0
        load[up[0]] += share * total_rps * (1 - shed)
        if shed:
            load[up[1]] += share * total_rps * shed
    return load


def analyse_capacity(config: StackConfig, stack: str, workload: Workload) -> CapacityReport:
    """Every region's ceiling, and the load each scenario (all up, each region lost) puts on it."""
    cdn = cdn_args(config, stack)
    steering = cdn.steering()
    roles = {r.name: r.role for r in config.regions}
    db_regions = set(config.postgres_regions())
    stores = {name: store.roles for name, store in config.redis.stores.items()}

    def ceiling(region: str, promoted_writes_rps: float | None = None) -> RegionCeiling:
        role = roles[region]
        return region_ceiling(
            region,
            role.value,
            config.sizes[role],
            stores,
            workload,
            region in db_regions,
            promoted_writes_rps,
        )

    shares = dict(workload.traffic_shares) if workload.traffic_shares else population_shares()
    target = config.targets.requests_per_second
    # Only the anchor's cluster is built with a writer of its own; any other member that writes
    # (after a failover, or below when the write home is lost) promoted one of its readers.
    ceilings = {
        region: ceiling(
            region,
            promoted_writes_rps=target if region == config.write_home != config.anchor_region else None,
        )
        for region in roles
    }
    # The database fails over where the write home's users do: the first database region after it.
    failover = next((r for r in steering.default if r != config.write_home and r in db_regions), None)
    quota = config.postgres.write_forwarding.max_forwarding_connections_percent

    def forwarding(load: Mapping[str, float], writer: str | None) -> tuple[float, float]:
        if writer is None:
            return 0.0, math.inf
        held = forwarded_sessions(
            load, writer, workload.postgres.writes_per_request, config.targets.path_inflation
        )
        return held, forwarding_slots(config.sizes[roles[writer]], quota)

    load = route(shares, steering.regions, target, None, cdn.load_shedding_percent)
    scenarios = [
        Scenario(
            None,
            load,
            dict(ceilings),
            config.write_home,
            writer_ceiling(config.sizes[roles[config.write_home]], workload),
            *forwarding(load, config.write_home),
        )
    ]
    for lost in roles if len(roles) > 1 else ():
        load = route(shares, steering.regions, target, lost, cdn.load_shedding_percent)
        here = {r: c for r, c in ceilings.items() if r != lost}
        writer = failover if lost == config.write_home else config.write_home
        if writer is not None and writer != config.anchor_region:
            here[writer] = ceiling(writer, promoted_writes_rps=sum(load.values()))
        limit = writer_ceiling(config.sizes[roles[writer]], workload) if writer else 0.0
        scenarios.append(Scenario(lost, load, here, writer, limit, *forwarding(load, writer)))
    return CapacityReport(target, ceilings, shares, tuple(scenarios))


def _rps(value: float) -> str:
    return "unbounded" if math.isinf(value) else f"{value:,.0f}"


def _percent(share: float) -> str:
    return "no capacity left" if math.isinf(share) else f"{share:.0%}"


def _against(share: float) -> str:
    return "with no capacity left" if math.isinf(share) else f"at {share:.0%} of its ceiling"


def _finite(value: float, digits: int = 1) -> float | None:
    return None if math.isinf(value) else round(value, digits)


def _writer(scenario: Scenario) -> str:
    return scenario.writer or "none (no database region left)"


def render_capacity(report: CapacityReport, stack: str, console: Console) -> None:
    """Each region's tiers and ceiling, each scenario's busiest region, then the worst case."""
    table = Table(title=f"Ceilings of {stack} (requests a second each tier can answer)")
    table.add_column("region")
    table.add_column("ceiling", justify="right")
    table.add_column("bottleneck")
    table.add_column("other tiers")
    for c in report.ceilings.values():
        others = ", ".join(f"{t.name} {_rps(t.ceiling_rps)}" for t in c.tiers if t is not c.bottleneck)
        bottleneck = f"{c.bottleneck.name}: {c.bottleneck.detail}"
        table.add_row(f"{c.region} ({c.role})", _rps(c.ceiling_rps), bottleneck, others)
    console.print(table)
    scenarios = Table(title=f"{report.target_rps:,.0f} req/s as the steering sends them")
    right = ("its load", "of its ceiling", "writes", "forwarded sessions")
    for column in (
        "region lost",
        "busiest region",
        "its load",
        "of its ceiling",
        "writer",
        "writes",
        *right[3:],
    ):
        scenarios.add_column(column, justify="right" if column in right else "left")
    for s in report.scenarios:
        busiest = report.busiest(s)
        scenarios.add_row(
            s.lost or "(none)",
            busiest,
            _rps(s.load_rps[busiest]),
            _percent(report.utilisation(s, busiest)),
            _writer(s),
            _percent(report.writes(s)),
            f"{s.forwarded_sessions:,.0f} of {s.forwarding_slots:,.0f} ({_percent(report.forwarding(s))})",
        )
    console.print(scenarios)
    for region, s in report.overflows().items():
        ceiling = s.ceilings[region]
        when = f"when {s.lost} is lost" if s.lost else "with every region up"
        console.print(
            f"{region} must take {_rps(s.load_rps[region])} req/s {when}, against a ceiling of "
            f"{_rps(ceiling.ceiling_rps)} then ({_percent(report.utilisation(s, region))}; "
            f"{ceiling.bottleneck.name}: {ceiling.bottleneck.detail})."
        )
    worst = report.worst
    crowded = max(report.scenarios, key=report.forwarding)
    console.print(
        f"Forwarded writes hold at most {crowded.forwarded_sessions:,.0f} of the writer's "
        f"{crowded.forwarding_slots:,.0f} forwarding sessions ({_percent(report.forwarding(crowded))}, "
        + (f"with {crowded.lost} lost)." if crowded.lost else "with every region up).")
    )
    busiest = report.busiest(worst)
    lost = f"with {worst.lost} lost" if worst.lost else "with every region up"
    verdict = "meets" if report.met else "misses"
    console.print(
        f"Worst case {lost}: {busiest} {_against(report.utilisation(worst, busiest))}, "
        f"the writer in {_writer(worst)} at {_percent(report.writes(worst))}: [bold]{verdict}[/] "
        f"{report.target_rps:,.0f} req/s with any one region lost."
    )


def capacity_json(report: CapacityReport) -> dict[str, object]:
    return {
        "targetRps": report.target_rps,
        "met": report.met,
        "worst": {"lost": report.worst.lost, "headroom": _finite(report.headroom(report.worst), 4)},
        "shares": {cf.value: round(share, 4) for cf, share in report.shares.items()},
        "regions": {
            c.region: {
                "ceilingRps": _finite(c.ceiling_rps),
                "bottleneck": c.bottleneck.name,
                "tiers": {t.name: _finite(t.ceiling_rps) for t in c.tiers},
            }
            for c in report.ceilings.values()
        },
        "scenarios": [
            {
                "lost": s.lost,
                "loadRps": {r: round(v, 1) for r, v in s.load_rps.items()},
                "ceilingRps": {r: _finite(c.ceiling_rps) for r, c in s.ceilings.items()},
                "writer": s.writer,
                "writerCeilingRps": _finite(s.writer_ceiling_rps),
                "forwardedSessions": round(s.forwarded_sessions, 1),
                "forwardingSlots": _finite(s.forwarding_slots),
            }
            for s in report.scenarios
        ],
    }
