"""The stack config: what `Pulumi.<stack>.yaml` holds under the `meridian:` namespace, and its checks.

`StackConfig` is composed of the components' own argument models (`components.core.args`,
`components.core.sizes`), so each setting is defined once. Loading runs two passes, both before any
resource is declared:

1. pydantic parses every key (types, ranges, known AWS regions, private CIDRs, no unknown keys);
2. `stack_rules` checks what involves several keys (duplicates, overlaps, roles, prod minimums).

Every problem becomes a `ConfigIssue` naming the key path (`meridian:regions[2].cidr`) and the fix;
`ConfigError` carries them all, with the stack file's name, so one run reports every mistake.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import AfterValidator, BaseModel, Field, ValidationError, field_validator, model_validator

from components.audit.args import AuditSettings
from components.core.args import AwsRegionName, DomainName, MeridianModel, RegionRole, TopologyProblem
from components.core.sizes import ComponentSizes
from components.edge.args import CdnDefaults, CdnEdgeArgs, cdn_problems
from components.edge.geo import AWS_REGION_LOCATIONS, CloudflareRegion
from components.eks.args import EksClusterArgs, EksDefaults
from components.network.args import AzCount, NatGatewayMode, NetworkArgs, NetworkDefaults, PrivateCidr
from components.network.subnets import PRIVATE_RANGES, SubnetPlanError, plan_subnets
from components.observability.args import (
    AlarmSubscription,
    AlarmThresholds,
    GrafanaSettings,
    TelemetrySettings,
)
from components.postgres.args import (
    ClusterRole,
    PostgresClusterArgs,
    PostgresDefaults,
    global_database_problems,
)
from components.redis.args import (
    Membership,
    RedisClusterArgs,
    RedisDefaults,
    RedisRole,
    global_datastore_problems,
)
from components.region.args import RegionStackArgs
from components.storage.args import LockMode
from components.warehouse.args import WarehouseSettings

__all__ = [
    "NAMESPACE",
    "ConfigError",
    "ConfigIssue",
    "Environment",
    "RegionEntry",
    "StackConfig",
    "engine_config",
    "load_stack_file",
    "read_stack_file",
    "stack_rules",
    "validate_config",
]

#: The project's config namespace: keys are written `meridian:<key>` in the stack file.
NAMESPACE = "meridian"

#: What a production stack must have, whatever its file says.
PROD_MIN_AZ_COUNT = 3
#: EKS places control-plane network interfaces in at least two AZs.
MIN_AZ_COUNT = 2
#: HSTS max-age prod sends at least (six months; browsers then refuse plain HTTP that long).
PROD_MIN_HSTS_MAX_AGE_SECONDS = 15_552_000
#: Config keys that hold credentials: the stack file must keep them encrypted (`secure:`).
SECRET_KEYS = ("cloudflare:apiToken", "cloudflare:apiKey", "cloudflare:apiUserServiceKey")
#: Days of automated backups (and so of point-in-time recovery) prod keeps at least.
PROD_MIN_BACKUP_RETENTION_DAYS = 14
#: Days prod keeps audit logs (EKS control-plane logs; the trail's copy in CloudWatch Logs): a
#: year, the usual floor of audit frameworks (PCI DSS 10.5.1 keeps a year, three months at hand).
PROD_MIN_AUDIT_LOG_DAYS = 365


class Environment(str, Enum):
    PROD = "prod"
    STAGING = "staging"
    DEV = "dev"


_TAG_VALUE = re.compile(r"^[\w .:/=+\-@]{1,256}$")


def _tag_value(value: str) -> str:
    if not _TAG_VALUE.match(value):
        raise ValueError(
            f"{value!r} is not a valid AWS tag value; use 1-256 letters, digits, spaces or _.:/=+-@"
        )
    return value


TagValue = Annotated[str, AfterValidator(_tag_value)]


class Tags(MeridianModel):
    """Who owns the stack and who pays; `environment` is added from `meridian:environment`.

    Attributes:
        owner: the team that owns the stack (AWS tag `owner`).
        cost_center: the cost center that pays for it (AWS tag `cost-center`).
    """

    owner: TagValue
    cost_center: TagValue


class RegionEntry(MeridianModel):
    """One region of the stack (an item of `meridian:regions`).

    Attributes:
        name: the AWS region, e.g. `eu-west-1`; listed once per stack.
        role: `primary` (full capacity, can take writes) or `secondary` (backs up a primary).
        cidr: the VPC's private IPv4 range (RFC 1918); disjoint from every other region's.
        az_count: AZs the VPC spans (at least 2, as EKS requires; prod needs 3).
        fewer_azs_reason: why a prod region runs in fewer than 3 AZs (e.g. us-west-1 offers EKS
            only two). The deviation is explicit and reasoned, never an omission; unset by default.
    """

    name: AwsRegionName
    role: RegionRole
    cidr: PrivateCidr
    az_count: AzCount = 3
    fewer_azs_reason: str | None = Field(default=None, min_length=20)


class Observability(MeridianModel):
    """`meridian:observability`: alarms, metrics, logs, the audit trail and the warehouse.

    Attributes:
        alarm_subscriptions: who each region's alarm topic notifies (`AlarmSubscription`s; prod
            needs at least one).
        thresholds: when the alarms fire (`AlarmThresholds`).
        telemetry: every region's metrics and container logs (`TelemetrySettings`).
        grafana: the platform's Grafana workspace, in the anchor region (`GrafanaSettings`).
        audit: the account's CloudTrail trail, in the anchor region (`AuditSettings`).
        warehouse: the analytics warehouse, in the anchor region (`WarehouseSettings`).
    """

    alarm_subscriptions: list[AlarmSubscription] = Field(default_factory=list)
    thresholds: AlarmThresholds = AlarmThresholds()
    telemetry: TelemetrySettings = TelemetrySettings()
    grafana: GrafanaSettings = GrafanaSettings()
    audit: AuditSettings = AuditSettings()
    warehouse: WarehouseSettings = WarehouseSettings()


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


class StackConfig(MeridianModel):
    """Everything under `meridian:` in a stack file.

    Attributes:
        environment: `prod`, `staging` or `dev`; prod gets the strictest checks.
        domain: the public DNS name the platform serves (Cloudflare zone).
        write_home: the region that takes writes now: the database writer and every global store's
            primary. A failover moves it (`meridian failover` says when to change it).
        anchor_region: the region whose stack declares the global database, the global datastores,
            their master secrets and the database's backup plan: where they were created (a new
            stack sets it to its write home). A failover never moves it; changing it re-creates them.
        tags: `owner` and `costCenter`; every AWS resource carries them.
        network: network settings shared by every region (`NetworkDefaults`).
        eks: EKS settings shared by every region's cluster (`EksDefaults`).
        postgres: the global PostgreSQL database: version, regions, backups (`PostgresDefaults`).
        redis: the Redis stores (cache, sessions, queues), engine and snapshots (`RedisDefaults`).
        cdn: Cloudflare in front of the regions: account, zone, TLS, WAF, steering (`CdnDefaults`).
        regions: the regions, each with its role, VPC CIDR and AZ count.
        sizes: component sizes for `primary` and `secondary` regions.
        protect_stateful_resources: protect keys, logs and data stores from deletion (default true;
            prod may not turn it off).
        kms_deletion_window_days: waiting period of a deleted KMS key (7-30, default 30).
        targets: the promises the analysis commands check (`Targets`).
        workload: the application's demand profile, for `meridian capacity` and `cost` (`Workload`).
        budget: the monthly budget by line, for `meridian cost` (`Budget`).
        observability: alarms and where they go, metrics, logs, audit and analytics
            (`Observability`).
    """

    environment: Environment
    domain: DomainName
    write_home: AwsRegionName
    anchor_region: AwsRegionName
    tags: Tags
    network: NetworkDefaults = NetworkDefaults()
    eks: EksDefaults
    postgres: PostgresDefaults
    redis: RedisDefaults = RedisDefaults()
    cdn: CdnDefaults
    regions: list[RegionEntry] = Field(min_length=1)
    sizes: dict[RegionRole, ComponentSizes]
    protect_stateful_resources: bool = True
    kms_deletion_window_days: int = Field(default=30, ge=7, le=30)
    targets: Targets = Targets()
    workload: Workload | None = None
    budget: Budget | None = None
    observability: Observability = Observability()

    def aws_tags(self, stack: str) -> dict[str, str]:
        """The default tags of every AWS resource in the stack."""
        return {
            "environment": self.environment.value,
            "owner": self.tags.owner,
            "cost-center": self.tags.cost_center,
            "project": NAMESPACE,
            "stack": stack,
        }

    def store_primary(self, store: str) -> str | None:
        """Where a global store takes writes now: the write home when it holds a copy of the store,
        else the anchor region, where it was created; None for a store without a global datastore."""
        members = (self.anchor_region, *self.redis.stores[store].global_regions)
        if len(members) == 1:
            return None
        return self.write_home if self.write_home in members else self.anchor_region

    def region_args(self, stack: str) -> list[RegionStackArgs]:
        """One `RegionStackArgs` per region, in the order of the stack file."""
        return [
            RegionStackArgs(
                region=region.name,
                role=region.role,
                name_prefix=f"{NAMESPACE}-{stack}",
                network=NetworkArgs(
                    **self.network.model_dump(),
                    cidr=region.cidr,
                    az_count=region.az_count,
                    protect=self.protect_stateful_resources,
                ),
                eks=EksClusterArgs(
                    **self.eks.model_dump(),
                    cluster_name=f"{NAMESPACE}-{stack}-{region.name}",
                    hostname=self.domain,
                    nodes=self.sizes[region.role].eks,
                    protect=self.protect_stateful_resources,
                ),
                tags=self.aws_tags(stack),
                kms_deletion_window_days=self.kms_deletion_window_days,
                protect=self.protect_stateful_resources,
            )
            for region in self.regions
        ]

    def postgres_regions(self) -> list[str]:
        """The regions of the global database, the anchor first, then in stack-file order."""
        listed = self.postgres.regions or tuple(r.name for r in self.regions)
        return [self.anchor_region, *(r for r in listed if r != self.anchor_region)]

    def postgres_args(self, stack: str) -> dict[str, PostgresClusterArgs]:
        """One `PostgresClusterArgs` per database region, the anchor's (it creates the global
        database, whichever member writes now) first."""
        roles = {r.name: r.role for r in self.regions}
        settings = self.postgres.model_dump(exclude={"regions"})
        return {
            region: PostgresClusterArgs(
                **settings,
                cluster_identifier=f"{NAMESPACE}-{stack}-{region}-postgres",
                global_cluster_identifier=f"{NAMESPACE}-{stack}-postgres",
                role=ClusterRole.WRITER if region == self.anchor_region else ClusterRole.SECONDARY,
                sizes=self.sizes[roles[region]].postgres,
                secret_name=f"{NAMESPACE}-{stack}/postgres/master" if region == self.anchor_region else "",
                protect=self.protect_stateful_resources,
            )
            for region in self.postgres_regions()
        }

    def redis_args(self, stack: str) -> dict[str, dict[str, RedisClusterArgs]]:
        """Store → region → `RedisClusterArgs`, every region of the stack: a global store's primary
        as created (the anchor) first, then its secondaries, then the regions with a cluster of their own."""
        roles = {r.name: r.role for r in self.regions}
        settings = self.redis.model_dump(exclude={"stores"})
        stores: dict[str, dict[str, RedisClusterArgs]] = {}
        for store_name, store in self.redis.stores.items():
            members = [self.anchor_region, *store.global_regions] if store.global_regions else []
            order = [*members, *(r.name for r in self.regions if r.name not in members)]
            stores[store_name] = {}
            for region in order:
                membership = (
                    Membership.REGIONAL
                    if region not in members
                    else Membership.PRIMARY
                    if region == self.anchor_region
                    else Membership.SECONDARY
                )
                stores[store_name][region] = RedisClusterArgs(
                    **settings,
                    replication_group_id=redis_group_id(stack, region, store_name),
                    store=store_name,
                    roles=store.roles,
                    maxmemory_policy=store.policy,
                    membership=membership,
                    global_datastore_suffix=(
                        f"{NAMESPACE}-{stack}-{store_name}" if membership is Membership.PRIMARY else ""
                    ),
                    sizes=self.sizes[roles[region]].redis[store_name],
                    secret_name=(
                        f"{NAMESPACE}-{stack}/redis/{store_name}"
                        if membership is not Membership.SECONDARY
                        else ""
                    ),
                    protect=self.protect_stateful_resources,
                )
        return stores

    def cdn_args(self, stack: str) -> CdnEdgeArgs:
        """The edge's arguments: a pool per region, the domain as the load balancer's hostname,
        the write home (it holds the writers) as the fallback."""
        return CdnEdgeArgs(
            **self.cdn.model_dump(),
            hostname=self.domain,
            regions={r.name: r.role for r in self.regions},
            fallback_region=self.write_home,
            name_prefix=f"{NAMESPACE}-{stack}",
        )


#: ElastiCache's limit on replication group ids.
MAX_REPLICATION_GROUP_ID = 40


def redis_group_id(stack: str, region: str, store: str) -> str:
    """`meridian-prod-eu-west-1-sessions`: the replication group of `store` in `region`."""
    return f"{NAMESPACE}-{stack}-{region}-{store}"


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in a stack file: where (`meridian:regions[1].cidr`) and what to do about it."""

    path: str
    problem: str


class ConfigError(Exception):
    """The stack file is invalid; nothing was declared. `str()` is the message a person reads."""

    def __init__(self, source: str, issues: list[ConfigIssue]) -> None:
        self.source = source
        self.issues = issues
        super().__init__(str(self))

    def __str__(self) -> str:
        count = len(self.issues)
        head = (
            f"{self.source}: invalid stack config ({count} problem{'s' if count != 1 else ''}); "
            "nothing was declared."
        )
        return "\n".join([head, *(f"  - {i.path}: {i.problem}" for i in self.issues)])


# --- pass 1: pydantic errors as issues -------------------------------------------------------


def _key_path(loc: tuple[int | str, ...]) -> str:
    if not loc:
        return f"{NAMESPACE}:"
    path = f"{NAMESPACE}:{loc[0]}"
    for part in loc[1:]:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model class whose keys live at *loc* inside `StackConfig`, if it is a model."""
    annotation: Any = StackConfig
    for part in loc:
        annotation = _without_none(annotation)
        origin = typing.get_origin(annotation)
        if origin in (list, tuple):  # part is an index
            annotation = typing.get_args(annotation)[0]
        elif origin is dict:  # part is a key
            annotation = typing.get_args(annotation)[1]
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = next((f for n, f in annotation.model_fields.items() if part in (n, f.alias)), None)
            if field is None:
                return None
            annotation = field.annotation
        else:
            return None
    annotation = _without_none(annotation)
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _without_none(annotation: Any) -> Any:
    """`X | None` -> X; anything else unchanged."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        rest = [a for a in typing.get_args(annotation) if a is not type(None)]
        return rest[0] if len(rest) == 1 else annotation
    return annotation


def _issue_from_error(error: Any) -> ConfigIssue:
    loc = tuple(error["loc"])
    if loc and loc[-1] == "[key]":  # pydantic's marker for a bad key of a mapping: name the key
        loc = loc[:-1]
        error = {**error, "msg": f"{loc[-1]!r} is not a valid key here: {error['msg']}", "input": None}
    path = _key_path(loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        valid = sorted(f.alias or n for n, f in model.model_fields.items()) if model else []
        guess = difflib.get_close_matches(str(loc[-1]), valid, n=1)
        hint = f" (did you mean {guess[0]!r}?)" if guess else ""
        return ConfigIssue(path, f"unknown key{hint}; valid keys here: {', '.join(valid)}")
    if kind == "missing":
        return ConfigIssue(path, "required key is missing; add it (README.md, config reference)")
    message = error["msg"].removeprefix("Value error, ")
    given = error.get("input")
    shown = isinstance(given, str) and given in message
    if isinstance(given, (str, int, float, bool)) and not shown:
        message += f" (got {given!r})"
    return ConfigIssue(path, message)


# --- pass 2: rules across keys ---------------------------------------------------------------


def _free_range(used: list[ipaddress.IPv4Network], prefix: int) -> str | None:
    """A private range of *prefix* length that overlaps none of *used*, to suggest in a fix."""
    for private in PRIVATE_RANGES:
        if private.prefixlen > prefix:
            continue
        for candidate in private.subnets(new_prefix=prefix):
            if not any(candidate.overlaps(u) for u in used):
                return str(candidate)
    return None


def _az_count_issues(region: RegionEntry, at: str, prod: bool) -> list[ConfigIssue]:
    """EKS needs two AZs anywhere; prod needs three unless the entry says why it cannot have them."""
    if region.az_count < MIN_AZ_COUNT:
        return [
            ConfigIssue(
                f"{at}.azCount",
                f"EKS needs subnets in at least {MIN_AZ_COUNT} AZs, got {region.az_count}; "
                f"set azCount: {MIN_AZ_COUNT} or more",
            )
        ]
    if region.fewer_azs_reason is not None and (not prod or region.az_count >= PROD_MIN_AZ_COUNT):
        return [
            ConfigIssue(
                f"{at}.fewerAzsReason",
                f"only a prod region with fewer than {PROD_MIN_AZ_COUNT} AZs needs a reason; remove the key",
            )
        ]
    if prod and region.az_count < PROD_MIN_AZ_COUNT and region.fewer_azs_reason is None:
        return [
            ConfigIssue(
                f"{at}.azCount",
                f"prod needs at least {PROD_MIN_AZ_COUNT} AZs per region to survive an AZ "
                f"outage, got {region.az_count}; set azCount: {PROD_MIN_AZ_COUNT}, or, where the "
                "region cannot offer them, say why in fewerAzsReason",
            )
        ]
    return []


def _topology_issues(
    config: StackConfig,
    problems: list[TopologyProblem],
    *,
    regions_key: str,
    sizes_key: str,
    renames: dict[str, str] | None = None,
) -> list[ConfigIssue]:
    """A global topology's problems as issues: about its regions at `regions_key`, about a member's
    size at `meridian:sizes.<kind of region>.<sizes_key>.<setting>` (renamed per `renames`)."""
    kinds = {r.name: r.role.value for r in config.regions}
    issues = []
    for problem in problems:
        if problem.setting in ("regions", "globalRegions"):
            issues.append(ConfigIssue(regions_key, problem.problem))
        else:
            kind = kinds[problem.region or config.anchor_region]
            key = (renames or {}).get(problem.setting, problem.setting)
            issues.append(
                ConfigIssue(
                    f"{NAMESPACE}:sizes.{kind}.{sizes_key}.{key}", f"{problem.region}: {problem.problem}"
                )
            )
    return issues


def _audit_issues(config: StackConfig, prod: bool) -> list[ConfigIssue]:
    """Prod keeps its audit log a year under COMPLIANCE lock; a stack whose stateful resources are
    not protected (torn down) cannot empty a COMPLIANCE-locked bucket, so it uses GOVERNANCE."""
    at = f"{NAMESPACE}:observability.audit"
    audit = config.observability.audit
    issues = []
    if prod and (
        audit.lock_mode is not LockMode.COMPLIANCE or audit.object_lock_days < PROD_MIN_AUDIT_LOG_DAYS
    ):
        issues.append(
            ConfigIssue(
                f"{at}.lockMode" if audit.lock_mode is not LockMode.COMPLIANCE else f"{at}.objectLockDays",
                f"prod locks every audit log file at least {PROD_MIN_AUDIT_LOG_DAYS} days in COMPLIANCE mode "
                f"(got {audit.lock_mode.value}, {audit.object_lock_days} days); remove both keys",
            )
        )
    if not config.protect_stateful_resources and audit.lock_mode is LockMode.COMPLIANCE:
        issues.append(
            ConfigIssue(
                f"{at}.lockMode",
                "this stack may be torn down (protectStatefulResources: false), but nobody can delete a "
                "COMPLIANCE-locked log file before its retention ends; set lockMode: GOVERNANCE",
            )
        )
    return issues


def _write_home_issues(config: StackConfig) -> list[ConfigIssue]:
    """A failover moves the write home away from the anchor, but only where the database can take
    writes: a region of the stack with a member of the global database, whatever its role. (A global
    store without a copy there keeps its primary in the anchor region: `store_primary`.)"""
    if config.write_home == config.anchor_region:
        return []  # the anchor's rules cover it
    at = f"{NAMESPACE}:writeHome"
    stack_regions = [r.name for r in config.regions]
    if config.write_home not in stack_regions:
        return [
            ConfigIssue(
                at,
                f"{config.write_home} is not a region of this stack; use one of: {', '.join(stack_regions)}",
            )
        ]
    issues = []
    if config.write_home not in config.postgres_regions():
        issues.append(
            ConfigIssue(
                at,
                f"{config.write_home} holds no member of the global database, so it cannot take its "
                f"writes; use one of its regions: {', '.join(config.postgres_regions())}",
            )
        )
    return issues


def _postgres_issues(config: StackConfig, prod: bool) -> list[ConfigIssue]:
    """The global database: its regions exist in the stack, AWS accepts the topology, and prod keeps
    two weeks of point-in-time recovery and a copy of its backups in another region."""
    at = f"{NAMESPACE}:postgres"
    issues: list[ConfigIssue] = []
    stack_regions = {r.name: r for r in config.regions}
    listed = config.postgres.regions or ()
    for i, region in enumerate(listed):
        if region not in stack_regions:
            issues.append(
                ConfigIssue(
                    f"{at}.regions[{i}]",
                    f"{region} is not a region of this stack (its cluster needs the region's network); "
                    f"use regions of meridian:regions: {', '.join(stack_regions)}",
                )
            )
    if listed and config.anchor_region not in listed:
        what = (
            f"the write home {config.anchor_region} holds the writer"
            if config.anchor_region == config.write_home
            else f"the anchor region {config.anchor_region} creates the global database"
        )
        issues.append(ConfigIssue(f"{at}.regions", f"{what}; add it"))
    members = {
        r: config.sizes[stack_regions[r].role].postgres
        for r in config.postgres_regions()
        if r in stack_regions and stack_regions[r].role in config.sizes
    }
    issues.extend(
        _topology_issues(
            config,
            global_database_problems(config.anchor_region, members),
            regions_key=f"{at}.regions",
            sizes_key="postgres",
            renames={"readers": "readerInstances"},
        )
    )
    if prod and config.postgres.backup_retention_days < PROD_MIN_BACKUP_RETENTION_DAYS:
        issues.append(
            ConfigIssue(
                f"{at}.backupRetentionDays",
                f"prod keeps at least {PROD_MIN_BACKUP_RETENTION_DAYS} days of point-in-time recovery, "
                f"got {config.postgres.backup_retention_days}; set {PROD_MIN_BACKUP_RETENTION_DAYS} to 35",
            )
        )
    copy_region = config.postgres.backup.copy_region
    if copy_region is None and prod:
        issues.append(
            ConfigIssue(
                f"{at}.backup.copyRegion",
                "prod copies database backups to a second region; name one of the stack's other regions",
            )
        )
    elif copy_region is not None and (
        copy_region not in stack_regions or copy_region == config.anchor_region
    ):
        others = [r for r in stack_regions if r != config.anchor_region]
        issues.append(
            ConfigIssue(
                f"{at}.backup.copyRegion",
                f"{copy_region} cannot hold the copies: it must be another region of this stack "
                f"(its KMS key encrypts them), not the anchor region, whose backups they copy; use "
                f"one of: {', '.join(others)}",
            )
        )
    return issues


def _redis_issues(config: StackConfig, stack: str) -> list[ConfigIssue]:
    """Every store has sizes in every kind of region, fits ElastiCache's names, and its global
    datastore (if any) is one AWS accepts: secondaries in the stack, at most two, matching sizes."""
    at = f"{NAMESPACE}:redis.stores"
    issues: list[ConfigIssue] = []
    stack_regions = {r.name: r for r in config.regions}
    for role, sizes in config.sizes.items():
        for name in sorted(set(config.redis.stores) - set(sizes.redis)):
            issues.append(
                ConfigIssue(
                    f"{NAMESPACE}:sizes.{role.value}.redis",
                    f"no sizes for store {name!r}; add {name}: {{nodeType, shards, replicasPerShard}}",
                )
            )
        for name in sorted(set(sizes.redis) - set(config.redis.stores)):
            issues.append(
                ConfigIssue(
                    f"{NAMESPACE}:sizes.{role.value}.redis.{name}",
                    f"{name!r} is not a store of meridian:redis.stores "
                    f"({', '.join(config.redis.stores)}); remove it or add the store",
                )
            )
    for name, store in config.redis.stores.items():
        longest = max((redis_group_id(stack, r, name) for r in stack_regions), key=len, default="")
        if len(longest) > MAX_REPLICATION_GROUP_ID:
            issues.append(
                ConfigIssue(
                    f"{at}.{name}",
                    f"replication group id {longest!r} is {len(longest)} characters; ElastiCache allows "
                    f"{MAX_REPLICATION_GROUP_ID}: shorten the store's name",
                )
            )
        standby = [
            r.name
            for r in config.regions
            if r.role is RegionRole.SECONDARY and r.name != config.anchor_region
        ]
        for i, region in enumerate(store.global_regions):
            if region not in stack_regions or region == config.anchor_region:
                reason = (
                    "it must be another region of this stack (the primary is created in the anchor region)"
                )
            elif stack_regions[region].role is RegionRole.PRIMARY and region != config.write_home:
                # A secondary member is read-only until promoted; a primary region serves users
                # every day and must be able to write its sessions and queues (the write home's
                # member can: after a failover it holds the store's primary).
                reason = (
                    "it is a primary region, whose applications write every day, and a global "
                    "datastore's secondary is read-only until promoted"
                )
            else:
                continue
            issues.append(
                ConfigIssue(
                    f"{at}.{name}.globalRegions[{i}]",
                    f"{region} cannot hold a secondary: {reason}; use secondary regions: "
                    f"{', '.join(standby) or '(none: mark a region secondary)'}",
                )
            )
        named = (config.anchor_region, *store.global_regions)
        if not store.global_regions or any(r not in stack_regions for r in named):
            continue  # reported above, or by the anchor rule
        members = {
            r: config.sizes[stack_regions[r].role].redis[name]
            for r in named
            if stack_regions[r].role in config.sizes and name in config.sizes[stack_regions[r].role].redis
        }
        issues.extend(
            _topology_issues(
                config,
                global_datastore_problems(config.anchor_region, members),
                regions_key=f"{at}.{name}.globalRegions",
                sizes_key=f"redis.{name}",
            )
        )
    return issues


def _cdn_issues(config: StackConfig, prod: bool) -> list[ConfigIssue]:
    """The edge can steer every Cloudflare region over the stack's regions; prod keeps HSTS long."""
    at = f"{NAMESPACE}:cdn"
    issues = []
    roles = {r.name: r.role for r in config.regions}
    for i, region in enumerate(config.regions):
        if region.name not in AWS_REGION_LOCATIONS:
            issues.append(
                ConfigIssue(
                    f"{NAMESPACE}:regions[{i}].name",
                    f"{region.name} has no location for geo steering; add its metro area to "
                    "components/edge/geo.py AWS_REGION_LOCATIONS",
                )
            )
    for problem in cdn_problems(config.cdn, roles, config.write_home):
        if problem.setting == "fallback":
            continue  # the write home: reported by the writeHome rule
        path = f"{NAMESPACE}:regions" if problem.setting == "regions" else f"{at}.{problem.setting}"
        issues.append(ConfigIssue(path, problem.problem))
    if prod and config.cdn.hsts_max_age_seconds < PROD_MIN_HSTS_MAX_AGE_SECONDS:
        issues.append(
            ConfigIssue(
                f"{at}.hstsMaxAgeSeconds",
                f"prod sends HSTS for at least {PROD_MIN_HSTS_MAX_AGE_SECONDS} s (six months), got "
                f"{config.cdn.hsts_max_age_seconds}; remove the key for a year",
            )
        )
    return issues


def _workload_issues(config: StackConfig) -> list[ConfigIssue]:
    """Every role a Redis store serves has its commands per request written down: a role left out
    would count as free and hide its store from `meridian capacity`."""
    if config.workload is None:
        return []
    served = {role for store in config.redis.stores.values() for role in store.roles}
    missing = sorted(r.value for r in served - set(config.workload.redis.ops_per_request))
    if not missing:
        return []
    return [
        ConfigIssue(
            f"{NAMESPACE}:workload.redis.opsPerRequest",
            f"no figure for {', '.join(missing)}, which a store serves; add the commands a request "
            "sends for it (0 if none)",
        )
    ]


def secret_key_issues(config: dict[str, Any], is_secret: Callable[[str], bool]) -> list[ConfigIssue]:
    """A credential written in plain text in the stack file (it would sit in git) is an issue."""
    return [
        ConfigIssue(
            key,
            f"is in plain text; store it encrypted: pulumi config set --secret {key} (or leave it "
            "out and set CLOUDFLARE_API_TOKEN in the environment)",
        )
        for key in SECRET_KEYS
        if key in config and not is_secret(key)
    ]


def is_encrypted(value: Any) -> bool:
    """A stack file's encrypted value, as `pulumi config set --secret` writes it: `{secure: …}`."""
    return isinstance(value, dict) and set(value) == {"secure"}


def stack_rules(config: StackConfig, stack: str) -> list[ConfigIssue]:
    """Checks that involve more than one key of stack `stack`; each issue names the key to change."""
    issues: list[ConfigIssue] = []
    prod = config.environment is Environment.PROD
    seen: dict[str, int] = {}
    networks: list[tuple[int, ipaddress.IPv4Network]] = []
    every_network = [ipaddress.IPv4Network(r.cidr) for r in config.regions]
    for i, region in enumerate(config.regions):
        at = f"{NAMESPACE}:regions[{i}]"
        if region.name in seen:
            issues.append(
                ConfigIssue(
                    f"{at}.name",
                    f"{region.name} is listed twice (also regions[{seen[region.name]}]); "
                    "list each region once",
                )
            )
        seen.setdefault(region.name, i)
        network = ipaddress.IPv4Network(region.cidr)
        for j, other in networks:
            if network.overlaps(other):
                free = _free_range(every_network, network.prefixlen)
                issues.append(
                    ConfigIssue(
                        f"{at}.cidr",
                        f"{network} overlaps regions[{j}].cidr ({config.regions[j].name}, {other}); "
                        f"give every region its own range{f', e.g. {free}' if free else ''}",
                    )
                )
        networks.append((i, network))
        try:
            plan_subnets(region.cidr, region.az_count)
        except SubnetPlanError as exc:
            issues.append(ConfigIssue(f"{at}.cidr", str(exc)))
        issues.extend(_az_count_issues(region, at, prod))
    primaries = [r.name for r in config.regions if r.role is RegionRole.PRIMARY]
    if not primaries:
        issues.append(
            ConfigIssue(
                f"{NAMESPACE}:regions",
                "no region has role: primary; mark at least one region (the write home) primary",
            )
        )
    if config.anchor_region not in (r.name for r in config.regions):
        issues.append(
            ConfigIssue(
                f"{NAMESPACE}:anchorRegion",
                f"{config.anchor_region} is not a region of this stack; anchorRegion names the region "
                "where the global database and datastores were created (a new stack's write home): "
                "restore that region (moving them is a migration: README, PostgreSQL failover)",
            )
        )
    if config.write_home == config.anchor_region and config.write_home not in primaries:
        # No failover in effect: the stack as designed writes in a primary region.
        issues.append(
            ConfigIssue(
                f"{NAMESPACE}:writeHome",
                f"{config.write_home} is not a primary region of this stack; use one of: "
                f"{', '.join(primaries) or '(none: mark a region primary first)'}",
            )
        )
    issues.extend(_write_home_issues(config))
    roles_used = {r.role for r in config.regions}
    for role in sorted(roles_used - set(config.sizes), key=lambda r: r.value):
        issues.append(
            ConfigIssue(
                f"{NAMESPACE}:sizes",
                f"no sizes for {role.value} regions; add sizes.{role.value} (eks, postgres, redis)",
            )
        )
    if prod and not config.protect_stateful_resources:
        issues.append(
            ConfigIssue(
                f"{NAMESPACE}:protectStatefulResources",
                "prod keeps keys, logs and data stores protected from deletion; remove the key "
                "or set it to true",
            )
        )
    if prod and not config.observability.alarm_subscriptions:
        issues.append(
            ConfigIssue(
                f"{NAMESPACE}:observability.alarmSubscriptions",
                "prod alarms must reach someone; add at least one, e.g. "
                "{protocol: email, endpoint: oncall@example.com}",
            )
        )
    issues.extend(_audit_issues(config, prod))
    if prod and config.eks.log_retention_days < PROD_MIN_AUDIT_LOG_DAYS:
        issues.append(
            ConfigIssue(
                f"{NAMESPACE}:eks.logRetentionDays",
                f"prod keeps the control plane's audit logs at least {PROD_MIN_AUDIT_LOG_DAYS} days, got "
                f"{config.eks.log_retention_days}; remove the key for a year",
            )
        )
    if prod and config.eks.endpoint.open_to_the_world:
        issues.append(
            ConfigIssue(
                f"{NAMESPACE}:eks.endpoint.publicCidrs",
                "prod may not open the Kubernetes API to the whole internet; list the networks that "
                "deploy (VPN, CI runners) or set public: false",
            )
        )
    issues.extend(_postgres_issues(config, prod))
    issues.extend(_redis_issues(config, stack))
    issues.extend(_cdn_issues(config, prod))
    issues.extend(_workload_issues(config))
    if prod and config.network.nat_gateways is not NatGatewayMode.ONE_PER_AZ:
        issues.append(
            ConfigIssue(
                f"{NAMESPACE}:network.natGateways",
                "prod needs one NAT gateway per AZ so that egress survives an AZ outage; "
                "set natGateways: one-per-az",
            )
        )
    return issues


# --- loading -------------------------------------------------------------------------------


def stack_name(source: str) -> str:
    """`Pulumi.prod.yaml` → `prod` (physical names contain the stack's name)."""
    match = re.fullmatch(r"Pulumi\.(.+)\.yaml", Path(source).name)
    if not match:
        raise ValueError(f"{source!r} is not a stack file name (Pulumi.<stack>.yaml)")
    return match.group(1)


def validate_config(values: dict[str, Any], source: str) -> StackConfig:
    """Validate the `meridian:` keys (namespace stripped) of the stack file `source`
    (`Pulumi.<stack>.yaml`); raise ConfigError."""
    try:
        config = StackConfig.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(source, [_issue_from_error(e) for e in exc.errors()]) from None
    issues = stack_rules(config, stack_name(source))
    if issues:
        raise ConfigError(source, issues)
    return config


def _split_key(key: str) -> tuple[str, str]:
    namespace, sep, name = key.partition(":")
    return (namespace, name) if sep else (NAMESPACE, key)


def read_stack_file(path: Path) -> dict[str, Any]:
    """The `config:` block of a stack file, every key fully qualified (`meridian:regions`)."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        stacks = sorted(p.name for p in path.parent.glob("Pulumi.*.yaml"))
        raise ConfigError(
            path.name,
            [ConfigIssue("(file)", f"not found in {path.parent}; stack files here: {stacks}")],
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(path.name, [ConfigIssue("(file)", f"not valid YAML: {exc}")]) from None
    config = (document or {}).get("config") or {}
    if not isinstance(config, dict):
        raise ConfigError(path.name, [ConfigIssue("config", "must be a mapping of keys to values")])
    return {":".join(_split_key(str(k))): v for k, v in config.items()}


def namespace_values(config: dict[str, Any]) -> dict[str, Any]:
    """The `meridian:` keys of a fully qualified config map, namespace stripped."""
    return {
        name: value
        for namespace, name, value in ((*_split_key(k), v) for k, v in config.items())
        if namespace == NAMESPACE
    }


def load_stack_file(path: Path) -> StackConfig:
    """Read and validate a stack file; raise ConfigError naming the file on any problem."""
    config = read_stack_file(path)
    issues = secret_key_issues(config, lambda key: is_encrypted(config[key]))
    if issues:
        raise ConfigError(path.name, issues)
    return validate_config(namespace_values(config), path.name)


def engine_config(config: dict[str, Any]) -> dict[str, str]:
    """Config values as the Pulumi engine hands them to a program: strings, structured ones as JSON."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}


def decode_engine_value(value: str) -> Any:
    """Inverse of `engine_config` for one value (plain strings stay strings)."""
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value
