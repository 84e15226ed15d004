"""The monthly bill of a stack: on-demand list prices over what its offline plan declares.

Every item is priced from a resource the plan declares, in the region its provider names, so the
estimate follows the code: a node group is billed at its desired size (Karpenter's burst only runs
under load and is left out), an Aurora instance at its class, a replication group at its shards ×
(1 + replicas) nodes, an ingress gateway's NLB per LoadBalancer Service. Usage-priced items (storage,
I/O, logs, NAT and NLB traffic, replication) take the month's volumes from
`meridian:workload.monthly`. Prices are `infra/analyses/data/prices.yaml`, each section with its source and
the date it was read; they are used as written, never adjusted. A preferred instance type that the
table says a region does not offer (`null`) is priced as the next type the group lists, and the
substitution is reported.

Items fall into the lines of `meridian:budget` (`Line`); `other` is what no line covers (KMS keys,
secrets), counted in the total only. The stack misses its budget when any line or the total costs
more than its `high`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import cache
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from ..config.workload import Budget, BudgetLine, MonthlyUsage
from ..plan.mocks import RecordedResource
from ..plan.run import GLOBAL, Plan
from .availability import asks_for_load_balancer
from .catalog import CatalogError, instance_spec, load_data

__all__ = [
    "GLOBAL",
    "CostReport",
    "Item",
    "Line",
    "Prices",
    "Substitution",
    "cost_json",
    "estimate_cost",
    "price_table",
    "render_cost",
]

PRICES_FILE = "data/prices.yaml"


class Line(str, Enum):
    """A budget line (`meridian:budget`), or `other` for what no line covers."""

    COMPUTE = "compute"
    POSTGRES = "postgres"
    REDIS = "redis"
    CDN = "cdn"
    LOAD_BALANCING = "load_balancing"
    MONITORING = "monitoring"
    OTHER = "other"


@dataclass(frozen=True)
class Item:
    """One priced thing in one region: `quantity` says what was counted, `monthly` is USD."""

    region: str
    line: Line
    name: str
    quantity: str
    monthly: float


@dataclass(frozen=True)
class Substitution:
    """A node group's preferred type has no price in its region; the next listed type is billed."""

    region: str
    group: str
    wanted: str
    priced_as: str


class Prices:
    """`infra/analyses/data/prices.yaml`: each section's `prices` by region (and by type for instances)."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.hours = float(raw["hours_per_month"])
        self.read_on = str(raw["read_on"])
        self.cloudflare: dict[str, float] = {
            k: float(v) for k, v in raw["cloudflare"].items() if k not in ("source", "read")
        }

    def _missing(self, what: str) -> CatalogError:
        return CatalogError(
            f"infra/analyses/{PRICES_FILE} has no price for {what}; add it from the section's source page"
        )

    def regional(self, section: str, region: str) -> float:
        price = self.raw[section]["prices"].get(region)
        if price is None:
            raise self._missing(f"{section} in {region}")
        return float(price)

    def first_offered(self, section: str, types: Sequence[str], region: str) -> str:
        """The first of *types* with a price in *region* (a `null` price: not offered there)."""
        table = self.raw[section]["prices"]
        for name in types:
            if name not in table:
                raise self._missing(f"{section} {name}")
            if table[name].get(region) is not None:
                return name
        raise CatalogError(
            f"infra/analyses/{PRICES_FILE} lists none of {', '.join(types)} as offered in {region} "
            f"({section}); add a type offered there to the group's instance types in the stack file"
        )

    def typed(self, section: str, name: str, region: str) -> float:
        price = self.raw[section]["prices"].get(name, {}).get(region)
        if price is None:
            raise self._missing(f"{section} {name} in {region}")
        return float(price)


@cache
def price_table() -> Prices:
    return Prices(load_data(PRICES_FILE))


@dataclass
class CostReport:
    stack: str
    items: list[Item]
    budget: Budget | None
    substitutions: list[Substitution] = field(default_factory=list)
    read_on: str = ""

    @property
    def total(self) -> float:
        return sum(i.monthly for i in self.items)

    def by_line(self) -> dict[Line, float]:
        totals = dict.fromkeys(Line, 0.0)
        for item in self.items:
            totals[item.line] += item.monthly
        return totals

    def by_region(self) -> dict[str, dict[Line, float]]:
        regions: dict[str, dict[Line, float]] = {}
        for item in self.items:
            regions.setdefault(item.region, dict.fromkeys(Line, 0.0))[item.line] += item.monthly
        return regions

    def budget_lines(self) -> dict[str, tuple[float, BudgetLine]]:
        """Budget line (and `total`) → (estimate, its budget); empty without a budget."""
        if self.budget is None:
            return {}
        costs = {line.value: cost for line, cost in self.by_line().items()}
        lines = {name: (costs[name], getattr(self.budget, name)) for name in costs if name != Line.OTHER}
        return {**lines, "total": (self.total, self.budget.total)}

    def over(self) -> dict[str, float]:
        """Budget line → how far its estimate is above the line's `high`."""
        return {
            name: cost - line.high for name, (cost, line) in self.budget_lines().items() if cost > line.high
        }

    @property
    def met(self) -> bool:
        return not self.over()


class _Estimator:
    """Walks the plan once and prices what each resource type costs."""

    def __init__(self, plan: Plan, usage: MonthlyUsage, prices: Prices) -> None:
        assert plan.config is not None
        self.plan, self.usage, self.prices = plan, usage, prices
        self.hours = prices.hours
        self.write_home = plan.config.write_home
        self.items: list[Item] = []
        self.substitutions: list[Substitution] = []

    def add(self, region: str, line: Line, name: str, quantity: str, monthly: float) -> None:
        self.items.append(Item(region, line, name, quantity, monthly))

    def per_hour(self, region: str, line: Line, name: str, count: float, label: str, hourly: float) -> None:
        """*count* things billed by the hour all month."""
        self.add(region, line, name, f"{count:g} × {label}", count * hourly * self.hours)

    def of(self, type_token: str) -> list[tuple[RecordedResource, str]]:
        """The plan's resources of *type_token*, each with its region (`global`: none)."""
        return [(r, self.plan.regions.get(r.urn) or GLOBAL) for r in self.plan.of_type(type_token)]

    def run(self) -> None:
        for step in (self.compute, self.postgres, self.redis, self.edge, self.logs, self.keys_and_secrets):
            step()

    def compute(self) -> None:
        for _, region in self.of("aws:eks/cluster:Cluster"):
            hourly = self.prices.regional("eks_cluster_hour", region)
            self.per_hour(region, Line.COMPUTE, "EKS control plane", 1, "cluster", hourly)
        for group, region in self.of("aws:eks/nodeGroup:NodeGroup"):
            wanted = [str(t) for t in group.inputs["instanceTypes"]]
            billed = self.prices.first_offered("ec2_instance_hour", wanted, region)
            if billed != wanted[0]:
                self.substitutions.append(Substitution(region, group.name, wanted[0], billed))
            desired = float(group.inputs["scalingConfig"]["desiredSize"])
            hourly = self.prices.typed("ec2_instance_hour", billed, region)
            name = f"EC2 nodes, {group.name.rsplit('-', 1)[-1]} group"
            self.per_hour(region, Line.COMPUTE, name, desired, billed, hourly)
        nat: dict[str, int] = defaultdict(int)
        for _, region in self.of("aws:ec2/natGateway:NatGateway"):
            nat[region] += 1
        for region, count in nat.items():
            hourly = self.prices.regional("nat_gateway_hour", region)
            self.per_hour(region, Line.COMPUTE, "NAT gateways", count, "gateway", hourly)
            gib = self.usage.nat_processed_gib
            price = self.prices.regional("nat_gateway_gb", region)
            self.add(region, Line.COMPUTE, "NAT data processed", f"{gib:g} GiB", gib * price)
        azs: dict[str, int] = defaultdict(int)
        for endpoint, region in self.of("aws:ec2/vpcEndpoint:VpcEndpoint"):
            if endpoint.inputs.get("vpcEndpointType") == "Interface":  # gateway endpoints are free
                azs[region] += len(endpoint.inputs.get("subnetIds") or [])
        for region, count in azs.items():
            hourly = self.prices.regional("vpc_endpoint_az_hour", region)
            self.per_hour(region, Line.COMPUTE, "interface endpoints", count, "endpoint-AZ", hourly)

    def postgres(self) -> None:
        vcpus: dict[str, int] = defaultdict(int)
        for instance, region in self.of("aws:rds/clusterInstance:ClusterInstance"):
            instance_class = str(instance.inputs["instanceClass"])
            vcpus[region] += instance_spec(instance_class).vcpu
            hourly = self.prices.typed("aurora_instance_hour", instance_class, region)
            self.per_hour(region, Line.POSTGRES, "Aurora instances", 1, instance_class, hourly)
        usage = self.usage
        for cluster, region in self.of("aws:rds/cluster:Cluster"):
            price = self.prices.regional
            storage = price("aurora_storage_gb_month", region)
            self.add(
                region,
                Line.POSTGRES,
                "Aurora storage",
                f"{usage.postgres_storage_gib:g} GiB",
                usage.postgres_storage_gib * storage,
            )
            io = price("aurora_io_million", region)
            self.add(
                region,
                Line.POSTGRES,
                "Aurora I/O",
                f"{usage.postgres_io_millions:g} M",
                usage.postgres_io_millions * io,
            )
            if region == self.write_home:
                backup = price("aurora_backup_gb_month", region)
                self.add(
                    region,
                    Line.POSTGRES,
                    "Aurora backups",
                    f"{usage.postgres_backup_gib:g} GiB",
                    usage.postgres_backup_gib * backup,
                )
            elif cluster.inputs.get("globalClusterIdentifier"):
                writes = price("aurora_global_replicated_write_io_million", region)
                millions = usage.replicated_write_io_millions
                self.add(
                    region, Line.POSTGRES, "global replicated writes", f"{millions:g} M", millions * writes
                )
        for _, region in self.of("aws:rds/proxy:Proxy"):
            hourly = self.prices.regional("rds_proxy_vcpu_hour", region)
            self.per_hour(region, Line.POSTGRES, "RDS Proxy", vcpus[region], "instance vCPU", hourly)

    def redis(self) -> None:
        # A global store's secondary takes its node type and shards from the global datastore.
        datastores = {
            str(g.inputs["globalReplicationGroupIdSuffix"]): (g, region)
            for g, region in self.of("aws:elasticache/globalReplicationGroup:GlobalReplicationGroup")
        }
        for group, region in self.of("aws:elasticache/replicationGroup:ReplicationGroup"):
            inputs = group.inputs
            global_id = str(inputs.get("globalReplicationGroupId") or "")
            datastore = next((d for suffix, d in datastores.items() if global_id.endswith(suffix)), None)
            if datastore is not None:
                node_type = str(datastore[0].inputs["cacheNodeType"])
                shards = float(datastore[0].inputs["numNodeGroups"])
                source = datastore[1]
                gib = self.usage.redis_replication_gib
                transfer = self.prices.regional("data_transfer_inter_region_gb", source)
                self.add(region, Line.REDIS, f"replication from {source}", f"{gib:g} GiB", gib * transfer)
            else:
                node_type, shards = str(inputs["nodeType"]), float(inputs["numNodeGroups"])
            nodes = shards * (1 + float(inputs["replicasPerNodeGroup"]))
            hourly = self.prices.typed("elasticache_node_hour", node_type, region)
            self.per_hour(region, Line.REDIS, "ElastiCache nodes", nodes, node_type, hourly)

    def edge(self) -> None:
        for release, region in self.of("kubernetes:helm.sh/v3:Release"):
            if asks_for_load_balancer(release.inputs):
                hourly = self.prices.regional("nlb_hour", region)
                lcus = self.usage.nlb_lcus * self.prices.regional("nlb_lcu_hour", region)
                self.per_hour(
                    region, Line.LOAD_BALANCING, "NLB", 1, f"NLB + {self.usage.nlb_lcus:g} LCU", hourly + lcus
                )
        cf = self.prices.cloudflare
        balancers = self.of("cloudflare:index/loadBalancer:LoadBalancer")
        if balancers:
            origins = sum(
                len(p.inputs.get("origins") or [])
                for p, _ in self.of("cloudflare:index/loadBalancerPool:LoadBalancerPool")
            )
            extra = max(0, origins - int(cf["load_balancing_included_origins"]))
            monthly = cf["load_balancing_base_month"] + extra * cf["load_balancing_extra_origin_month"]
            if any(b.inputs.get("regionPools") for b, _ in balancers):
                monthly += cf["load_balancing_geo_steering_month"]
            self.add(
                GLOBAL,
                Line.LOAD_BALANCING,
                "Cloudflare Load Balancing",
                f"{origins} origins, geo steering",
                monthly,
            )
        if self.of("cloudflare:index/zoneSetting:ZoneSetting"):
            self.add(GLOBAL, Line.CDN, "Cloudflare Business plan", "1 zone", cf["business_plan_month"])

    def logs(self) -> None:
        # Every group expires (the guardrail `log-group-encrypted-and-retained` rejects
        # one that does not), so its storage is bounded by its retention.
        retention: dict[str, float] = defaultdict(float)
        for group, region in self.of("aws:cloudwatch/logGroup:LogGroup"):
            retention[region] = max(retention[region], float(group.inputs.get("retentionInDays") or 0))
        gib = self.usage.log_ingest_gib
        for region, days in retention.items():
            ingest = self.prices.regional("cloudwatch_logs_ingest_gb", region)
            self.add(region, Line.MONITORING, "CloudWatch Logs ingestion", f"{gib:g} GiB", gib * ingest)
            # In a steady state the groups hold `days` of ingestion; billed on compressed bytes,
            # so this (uncompressed) figure is an upper bound.
            stored = gib * days / 30
            store = self.prices.regional("cloudwatch_logs_store_gb_month", region)
            self.add(
                region,
                Line.MONITORING,
                "CloudWatch Logs storage",
                f"{stored:,.0f} GiB ({days:g} days)",
                stored * store,
            )

    def keys_and_secrets(self) -> None:
        for _, region in self.of("aws:kms/key:Key"):
            self.add(region, Line.OTHER, "KMS keys", "1 key", self.prices.regional("kms_key_month", region))
        for secret, region in self.of("aws:secretsmanager/secret:Secret"):
            for where in [region, *(str(r["region"]) for r in secret.inputs.get("replicas") or [])]:
                self.add(
                    where, Line.OTHER, "secrets", "1 secret", self.prices.regional("secret_month", where)
                )


def estimate_cost(
    plan: Plan, usage: MonthlyUsage, budget: Budget | None, prices: Prices | None = None
) -> CostReport:
    """The month's bill of everything *plan* declares, with *usage*'s volumes, against *budget*."""
    estimator = _Estimator(plan, usage, prices or price_table())
    estimator.run()
    return CostReport(plan.stack, estimator.items, budget, estimator.substitutions, estimator.prices.read_on)


#: Column headings of the regions table, short enough for an 80-column CI log.
_SHORT = {Line.POSTGRES: "db", Line.REDIS: "cache", Line.LOAD_BALANCING: "lb", Line.MONITORING: "logs"}


def _thousands(value: float) -> str:
    return f"{value / 1000:,.1f}"


def _usd(value: float) -> str:
    return f"${value:,.0f}"


def render_cost(report: CostReport, console: Console) -> None:
    """Regions × lines, the largest items, each budget line's verdict, then the total's."""
    lines = list(Line)
    table = Table(
        title=f"Monthly on-demand estimate of {report.stack}, thousands of USD (prices of {report.read_on})",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
        pad_edge=False,
        show_footer=True,
        caption="db: postgres, cache: redis, lb: load balancing, logs: monitoring",
    )
    table.add_column("region", no_wrap=True, footer="all")
    totals = report.by_line()
    for line in lines:
        table.add_column(_SHORT.get(line, line.value), justify="right", footer=_thousands(totals[line]))
    table.add_column("total", justify="right", footer=_thousands(report.total))
    for region, costs in report.by_region().items():
        table.add_row(region, *(_thousands(costs[line]) for line in lines), _thousands(sum(costs.values())))
    console.print(table)

    items: dict[tuple[Line, str], float] = defaultdict(float)
    for item in report.items:
        items[(item.line, item.name)] += item.monthly
    largest = Table(title="Largest items, every region")
    for column in ("line", "item", "monthly", "share"):
        largest.add_column(column, justify="right" if column in ("monthly", "share") else "left")
    for (line, name), monthly in sorted(items.items(), key=lambda kv: -kv[1])[:10]:
        largest.add_row(line.value, name, _usd(monthly), f"{monthly / report.total:.0%}")
    console.print(largest)
    for s in report.substitutions:
        console.print(
            f"{s.region}: {s.wanted} has no price there (not offered); {s.group} is priced as {s.priced_as}."
        )

    if report.budget is None:
        console.print(
            f"{report.stack} sets no meridian:budget: {_usd(report.total)} a month, nothing to compare."
        )
        return
    budget = Table(title="Against meridian:budget")
    for column in ("line", "estimate", "budget", "verdict"):
        budget.add_column(column, justify="right" if column == "estimate" else "left")
    over = report.over()
    for name, (cost, allowed) in report.budget_lines().items():
        if name in over:
            verdict = f"[bold]over by {_usd(over[name])}[/] ({cost / allowed.high:.1f}x the most)"
        elif cost > allowed.low:
            verdict = f"above plan by {_usd(cost - allowed.low)}, within the most"
        else:
            verdict = "within plan"
        budget.add_row(
            name.replace("_", " "), _usd(cost), f"{_usd(allowed.low)}-{_usd(allowed.high)}", verdict
        )
    console.print(budget)
    total = report.budget_lines()["total"][1]
    summary = f"{report.stack}: {_usd(report.total)} a month against {_usd(total.low)}-{_usd(total.high)}"
    if report.met:
        console.print(f"{summary}: [bold]within[/] every budget line.")
        return
    overall = f"by {_usd(over['total'])} in all" if "total" in over else "within the total"
    lines_over = ", ".join(f"{n.replace('_', ' ')} by {_usd(v)}" for n, v in over.items() if n != "total")
    console.print(f"{summary}: [bold]over[/] {overall}; lines over: {lines_over or 'none'}.")


def cost_json(report: CostReport) -> dict[str, object]:
    return {
        "stack": report.stack,
        "currency": "USD",
        "pricesReadOn": report.read_on,
        "total": round(report.total, 2),
        "met": report.met,
        "byLine": {line.value: round(cost, 2) for line, cost in report.by_line().items()},
        "byRegion": {
            region: {line.value: round(cost, 2) for line, cost in costs.items()}
            for region, costs in report.by_region().items()
        },
        "budget": {
            name: {"estimate": round(cost, 2), "low": line.low, "high": line.high}
            for name, (cost, line) in report.budget_lines().items()
        },
        "over": {name: round(by, 2) for name, by in report.over().items()},
        "substitutions": [
            {"region": s.region, "group": s.group, "wanted": s.wanted, "pricedAs": s.priced_as}
            for s in report.substitutions
        ],
    }
