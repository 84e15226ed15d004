"""The stack file's schema: `StackConfig`, what `Pulumi.<stack>.yaml` holds under `meridian:`.

It is composed of the components' own argument models (each family's `args.py`, and
`components.core.sizes`), so each setting is defined once.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Annotated, Any

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from components.audit.args import AuditSettings
from components.core.args import AwsRegionName, DomainName, MeridianModel, RegionRole
from components.core.sizes import ComponentSizes
from components.deploy.args import DeploySettings
from components.edge.args import CdnSettings
from components.eks.args import EksSettings
from components.network.args import AzIds, NetworkSettings, PrivateCidr, az_id_prefix, foreign_az_ids
from components.observability.args import (
    AlarmSubscription,
    AlarmThresholds,
    GrafanaSettings,
    TelemetrySettings,
)
from components.postgres.args import (
    PostgresSettings,
)
from components.redis.args import (
    RedisSettings,
)
from components.warehouse.args import WarehouseSettings

from .naming import NAMESPACE
from .workload import Budget, Targets, Workload

__all__ = [
    "Environment",
    "Observability",
    "RegionEntry",
    "StackConfig",
    "TagValue",
    "Tags",
]


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
        az_ids: the AZs the VPC spans, by AZ id (`use1-az1`, the same zone in every account), in
            subnet order: AZ *i* gets the *i*-th range of each tier. At least 2, as EKS requires;
            prod needs 3. Ids of the region, none EKS does not support (use1-az3, usw1-az2,
            cac1-az3), each once. The program maps them to this account's zone names whatever
            state the zones are in: an impaired AZ or a new one never moves a subnet.
        fewer_azs_reason: why a prod region runs in fewer than 3 AZs (e.g. us-west-1 offers EKS
            only two). The deviation is explicit and reasoned, never an omission; unset by default.
    """

    name: AwsRegionName
    role: RegionRole
    cidr: PrivateCidr
    az_ids: AzIds
    fewer_azs_reason: str | None = Field(default=None, min_length=20)

    @model_validator(mode="before")
    @classmethod
    def _az_count_became_az_ids(cls, data: Any) -> Any:
        if isinstance(data, dict) and "azCount" in data:
            raise ValueError(
                "azCount is replaced by azIds: list the region's AZs by id, as many as azCount said, "
                "e.g. azIds: [use1-az1, use1-az2, use1-az4]; for a region that exists, the ids of its "
                'subnets in CIDR order (docs/operations.md, "AZs by id"), so that nothing moves'
            )
        return data

    @field_validator("az_ids")
    @classmethod
    def _az_ids_of_the_region(cls, az_ids: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        region = info.data.get("name")
        if region is None:  # the name is invalid: its own error says so
            return az_ids
        foreign = foreign_az_ids(region, az_ids)
        if foreign:
            raise ValueError(
                f"{', '.join(foreign)} {'is not an AZ' if len(foreign) == 1 else 'are not AZs'} of "
                f"{region}; its AZ ids start with {az_id_prefix(region)}- (list them with "
                f"`aws ec2 describe-availability-zones --region {region}`)"
            )
        return az_ids

    @property
    def az_count(self) -> int:
        """How many AZs the VPC spans."""
        return len(self.az_ids)


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
        network: network settings shared by every region (`NetworkSettings`).
        eks: EKS settings shared by every region's cluster (`EksSettings`).
        postgres: the global PostgreSQL database: version, regions, backups (`PostgresSettings`).
        redis: the Redis stores (cache, sessions, queues), engine and snapshots (`RedisSettings`).
        cdn: Cloudflare in front of the regions: account, zone, TLS, WAF, steering (`CdnSettings`).
        deploy: where `pulumi up` and `pulumi preview` run: the in-network runner in the anchor
            region, which every region's cluster admits (`DeploySettings`).
        regions: the regions, each with its role, VPC CIDR and AZs (by id).
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
    network: NetworkSettings = NetworkSettings()
    eks: EksSettings
    postgres: PostgresSettings
    redis: RedisSettings = RedisSettings()
    cdn: CdnSettings
    deploy: DeploySettings
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

    def write_problems(self, region: str) -> list[tuple[str, str]]:
        """Why the API in `region` cannot write a store it uses, as (config key, reason) pairs;
        none where every write works. The database takes writes at the write home and, forwarded,
        at every other member (never elsewhere: no region reaches another's proxy); a global store
        takes them at its primary only (ElastiCache has no write forwarding: a secondary is
        read-only until promoted); a regional store everywhere."""
        problems: list[tuple[str, str]] = []
        at = f"{NAMESPACE}:postgres"
        if region not in self.postgres_regions():
            problems.append(
                (
                    f"{at}.regions",
                    f"{region} holds no member of the global database, and no other region's is "
                    "reachable from it",
                )
            )
        writable = self.writable_stores(region)
        for store in self.redis.stores:
            if store not in writable:
                problems.append(
                    (
                        f"{NAMESPACE}:redis.stores.{store}.globalRegions",
                        f"{region}'s copy of store {store!r} is read-only until promoted (its primary "
                        f"is {self.store_primary(store)}; ElastiCache has no write forwarding)",
                    )
                )
        return problems

    def writable_regions(self) -> list[str]:
        """The regions whose API can write every store it uses, in stack order: the only ones
        Cloudflare may steer users to."""
        return [r.name for r in self.regions if not self.write_problems(r.name)]

    def read_only_regions(self) -> list[str]:
        """The regions whose API cannot write every store it uses, in stack order: no Cloudflare
        pool, no place in any steering order."""
        writable = set(self.writable_regions())
        return [r.name for r in self.regions if r.name not in writable]

    def writable_stores(self, region: str) -> list[str]:
        """The Redis stores the API in `region` can write: its regional ones, and the global ones
        whose primary is there now."""
        return [
            store
            for store, settings in self.redis.stores.items()
            if (primary := self.store_primary(store)) is None
            or primary == region
            or region not in (self.anchor_region, *settings.global_regions)
        ]

    def postgres_regions(self) -> list[str]:
        """The regions of the global database, the anchor first, then in stack-file order."""
        listed = self.postgres.regions or tuple(r.name for r in self.regions)
        return [self.anchor_region, *(r for r in listed if r != self.anchor_region)]
