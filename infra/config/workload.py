"""Inputs of the analyses only (`meridian capacity`, `cost`, `latency`, `availability`): the targets,
the application's demand profile and the budget. No resource is shaped by them.
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from components.core.args import MeridianModel
from components.edge.geo import CloudflareRegion
from components.redis.args import (
    RedisRole,
)

__all__ = [
    "ApiPod",
    "Budget",
    "BudgetLine",
    "MonthlyUsage",
    "PostgresLoad",
    "RedisLoad",
    "Targets",
    "Workload",
]


class Targets(MeridianModel):
    """What the platform promises, which `meridian latency`, `availability` and `capacity` check the
    stack against (`meridian:targets`).

    Attributes:
        latency_ms: the round-trip floor a dynamic request's user may be from its region (default 50).
        latency_population_share: the share of the population of large cities that must be within
            `latency_ms` (default 0.9: "globally, where physics allows").
        path_inflation: how much longer real network paths are than the great circle (default 1.5).
        availability: the monthly uptime the composed SLAs must reach (default 0.9999).
        requests_per_second: the peak the stack must serve with any one region lost
            (default 100,000; `meridian capacity`).
    """

    latency_ms: float = Field(default=50.0, gt=0, le=1000)
    latency_population_share: float = Field(default=0.9, gt=0, le=1)
    path_inflation: float = Field(default=1.5, ge=1, le=5)
    availability: float = Field(default=0.9999, gt=0, lt=1)
    requests_per_second: float = Field(default=100_000, gt=0)


class ApiPod(MeridianModel):
    """One API pod, as the application's load test measured it.

    Attributes:
        cpu_vcpu: the pod's CPU request in vCPU, its Istio sidecar's included: what the scheduler
            packs onto a node.
        requests_per_second: what one pod sustains at the HPA's target utilisation (70 % CPU)
            with the latency the product promises.
    """

    cpu_vcpu: float = Field(gt=0, le=64)
    requests_per_second: float = Field(gt=0)


class PostgresLoad(MeridianModel):
    """What API requests ask of Aurora, and what one vCPU of an instance answers.

    Attributes:
        reads_per_request: queries a request sends to the region's readers (those the cache missed).
        writes_per_request: statements a request sends to the writer, in the write home.
        reads_per_vcpu_second: read queries one reader vCPU answers each second.
        writes_per_vcpu_second: write statements one writer vCPU commits each second.
    """

    reads_per_request: float = Field(ge=0)
    writes_per_request: float = Field(ge=0)
    reads_per_vcpu_second: float = Field(gt=0)
    writes_per_vcpu_second: float = Field(gt=0)


class RedisLoad(MeridianModel):
    """What API requests ask of the Redis stores.

    Attributes:
        ops_per_request: commands a request sends for each role (`cache`, `sessions`, `queues`); a
            store's load is the sum over the roles it serves.
        ops_per_shard_second: commands one shard's primary answers each second (cluster-mode
            clients send every command of a slot to its primary).
    """

    ops_per_request: dict[RedisRole, float] = Field(min_length=1)
    ops_per_shard_second: float = Field(gt=0)

    @field_validator("ops_per_request")
    @classmethod
    def _non_negative(cls, value: dict[RedisRole, float]) -> dict[RedisRole, float]:
        negative = sorted(role.value for role, ops in value.items() if ops < 0)
        if negative:
            raise ValueError(f"ops per request may not be negative ({', '.join(negative)})")
        return value


class MonthlyUsage(MeridianModel):
    """A month's volumes that usage-priced items are billed by (`meridian cost`); per region unless
    said otherwise.

    Attributes:
        postgres_storage_gib: the database's size; every member region's cluster stores a copy.
        postgres_io_millions: I/O requests a region's cluster makes a month, in millions.
        replicated_write_io_millions: the writer's write I/Os a month, in millions; each secondary
            region is billed for them again.
        postgres_backup_gib: backup storage beyond the free amount (the size of the database) in
            the write home.
        redis_replication_gib: data a global store's primary sends to each of its secondaries.
        log_ingest_gib: CloudWatch log data ingested (EKS control plane, flow logs, database).
        nat_processed_gib: data through the region's NAT gateways (image pulls are on endpoints).
        nlb_lcus: the ingress NLB's mean load-balancer capacity units.
    """

    postgres_storage_gib: float = Field(ge=0)
    postgres_io_millions: float = Field(ge=0)
    replicated_write_io_millions: float = Field(ge=0)
    postgres_backup_gib: float = Field(ge=0)
    redis_replication_gib: float = Field(ge=0)
    log_ingest_gib: float = Field(ge=0)
    nat_processed_gib: float = Field(ge=0)
    nlb_lcus: float = Field(ge=0)


class Workload(MeridianModel):
    """The application's demand profile: the assumptions `meridian capacity` divides by and the
    volumes `meridian cost` bills (`meridian:workload`). Measured figures belong here, with the
    load test or month they came from in a comment; there are no defaults, since a guessed default
    would pass for a measurement.

    Attributes:
        api_pod: one API pod's CPU request and sustained throughput (`ApiPod`).
        node_daemon_vcpu: vCPU the DaemonSets (VPC CNI, kube-proxy, EBS CSI, Pod Identity agent,
            log shipper) request on every application node.
        postgres: reads and writes per request and per instance vCPU (`PostgresLoad`).
        redis: commands per request per role and per shard (`RedisLoad`).
        traffic_shares: each Cloudflare region's share of the requests (they add up to 1); unset,
            shares follow the population of the large cities nearest to each Cloudflare region.
        monthly: the month's volumes of usage-priced items (`MonthlyUsage`).
    """

    api_pod: ApiPod
    node_daemon_vcpu: float = Field(ge=0, le=8)
    postgres: PostgresLoad
    redis: RedisLoad
    traffic_shares: dict[CloudflareRegion, float] | None = None
    monthly: MonthlyUsage

    @field_validator("traffic_shares")
    @classmethod
    def _shares_add_up(
        cls, value: dict[CloudflareRegion, float] | None
    ) -> dict[CloudflareRegion, float] | None:
        if value is not None:
            if any(share < 0 for share in value.values()):
                raise ValueError("a traffic share may not be negative")
            if abs(sum(value.values()) - 1) > 1e-6:
                raise ValueError(
                    f"the shares add up to {sum(value.values()):g}, not 1; a Cloudflare region left out "
                    "sends no requests"
                )
        return value


class BudgetLine(MeridianModel):
    """A monthly budget line in USD: what is planned (`low`) and what may not be passed (`high`).

    Attributes:
        low: the line's planned monthly spend.
        high: the most the line may cost a month; above it `meridian cost` exits 1.
    """

    low: float = Field(ge=0)
    high: float = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> BudgetLine:
        if self.low > self.high:
            raise ValueError(f"needs low <= high, got {self.low:g} / {self.high:g}")
        return self


class Budget(MeridianModel):
    """The monthly infrastructure budget, by line (`meridian:budget`).

    Attributes:
        compute: EKS control planes, EC2 nodes and the NAT gateways their egress goes through.
        postgres: Aurora instances, storage, I/O, global replication and backups.
        redis: ElastiCache nodes and global datastore replication.
        cdn: the Cloudflare plan.
        load_balancing: the ingress NLBs and Cloudflare Load Balancing.
        monitoring: CloudWatch Logs ingestion and storage.
        total: the whole month, the lines and what no line covers (KMS keys, secrets).
    """

    compute: BudgetLine
    postgres: BudgetLine
    redis: BudgetLine
    cdn: BudgetLine
    load_balancing: BudgetLine
    monitoring: BudgetLine
    total: BudgetLine
