"""The meridian stack program: config in, one RegionStack per region, outputs out.

`pulumi up` runs `main()` through `infra/__main__.py`; `meridian plan` runs the very same `main()`
under mocks. Config is read from the Pulumi runtime (what the engine hands the program), validated
in full before the first resource is declared; a bad stack file ends the run with the validation
message and no traceback.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from components import CdnEdge, NetworkError, PostgresCluster, RedisCluster, RegionStack
from components.audit.args import AuditTrailArgs
from components.audit.audit_trail import AuditTrail
from components.deploy.deploy_runner import DeployRunner
from components.edge.cdn_edge import edge_source_ranges
from components.network.subnets import Tier
from components.observability.args import GrafanaArgs
from components.observability.grafana_workspace import GrafanaWorkspace
from components.observability.region_alarms import CertificateWatch
from components.redis.args import Membership
from components.warehouse.analytics_warehouse import AnalyticsWarehouse
from components.warehouse.args import WarehouseArgs
from components.warehouse.event_stream import EventStream, StreamParts

from .config.component_args import cdn_args, deploy_runner_args, postgres_args, redis_args, region_args
from .config.errors import ConfigError
from .config.loading import decode_engine_config, encrypted_setting, namespace_values, validate_config
from .config.naming import NAMESPACE
from .config.rules import secret_key_issues
from .config.schema import StackConfig

__all__ = ["EVENTS_PRODUCER", "build", "load_runtime_config", "main"]

#: The service account, in the API's namespace, whose pods may put events into the warehouse.
EVENTS_PRODUCER = "events-producer"


def load_runtime_config(stack: str) -> StackConfig:
    """Validate every `meridian:` key the engine passed to this program (raises ConfigError)."""
    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    source = f"Pulumi.{stack}.yaml"
    ours = sorted(key for key in keys if key.startswith(f"{NAMESPACE}:"))
    refused = secret_key_issues(dict.fromkeys(keys), runtime_config.is_config_secret) + [
        encrypted_setting(key) for key in ours if runtime_config.is_config_secret(key)
    ]
    if refused:
        raise ConfigError(source, refused)
    values = decode_engine_config({key: runtime_config.get_config(key) for key in ours}, source)
    return validate_config(namespace_values(values), source)


def build(config: StackConfig, stack: str) -> tuple[dict[str, RegionStack], CdnEdge]:
    """Declare the platform: one RegionStack per configured region, named after the region, then
    the global PostgreSQL database across the regions config lists for it, then the Redis stores,
    then each region's endpoints for its API (where it writes and reads each store), then the
    Cloudflare edge in front of the regions that take writes, then the observability (whose
    alarms watch the edge's origin certificate)."""
    regions = declare_regions(config, stack)
    attach_database(config, stack, regions)
    attach_redis_stores(config, stack, regions)
    for name, region in regions.items():
        region.publish_app_endpoints(
            holds_database_writer=name == config.write_home, writable_stores=config.writable_stores(name)
        )
    edge = attach_edge(config, stack, regions)
    attach_observability(config, stack, regions, edge)
    return regions, edge


def declare_regions(config: StackConfig, stack: str) -> dict[str, RegionStack]:
    """Every region, the anchor first: it holds the deploy runner, and each other region's VPC is
    peered with the anchor's before anything is applied in its cluster. Every cluster admits the
    anchor's private subnets (the runner's) on 443, and every ingress NLB Cloudflare's ranges only,
    read once. The stack's regions keep the stack file's order."""
    origin_sources = edge_source_ranges(f"{NAMESPACE}-{stack}-edge-ranges", api_token=cloudflare_api_token())
    every = {args.region: args for args in region_args(config, stack)}
    anchor_args = every[config.anchor_region]
    runner_subnets = [str(spec.cidr) for spec in anchor_args.network.subnet_plan().tier(Tier.PRIVATE)]
    anchor = RegionStack(
        anchor_args.region, anchor_args, origin_sources=origin_sources, deploy_sources=runner_subnets
    )
    hub = anchor.deploy_hub()
    regions = {
        name: anchor
        if name == anchor.args.region
        else RegionStack(
            name, args, origin_sources=origin_sources, deploy_sources=runner_subnets, deploy_hub=hub
        )
        for name, args in every.items()
    }
    DeployRunner(
        f"{NAMESPACE}-{stack}-deploy",
        deploy_runner_args(config, stack),
        vpc_id=anchor.vpc_id,
        subnet_ids=anchor.private_subnet_ids,
        kms_key_arn=anchor.kms_key_arn,
        opts=anchor.pinned,
    )
    return regions


def attach_observability(
    config: StackConfig, stack: str, regions: dict[str, RegionStack], edge: CdnEdge
) -> None:
    """Each region's alarms over what it holds (so after the data stores) and its metrics and
    container logs; in the anchor region, the alarm on the edge's origin certificate (nothing
    renews it, and every region presents it, so its expiry would take every region down at once),
    one dashboard of every region's alarm states, the
    platform's Grafana workspace with a data source per region's metrics (so after every region's
    telemetry), the audit trail and the analytics warehouse, whose lake every region's API sends
    events to through a stream of its own region."""
    observability = config.observability
    origin_certificate = CertificateWatch(
        "origin-certificate",
        f"{edge.hostname}: the edge's Cloudflare Origin CA certificate, presented by every region's gateway",
        renew="rotate it: docs/components/cdn-edge.md, Rotating the origin certificate",
        certificate=edge.origin_certificate,
        private_key=edge.origin_private_key,
    )
    # The client certificate the zone presents to every origin: `pulumi up` renews it, but only a
    # `pulumi up` does; expired, every gateway refuses Cloudflare.
    origin_pull_certificate = CertificateWatch(
        "origin-pull-certificate",
        f"{edge.hostname}: the zone's Authenticated Origin Pulls client certificate, which every "
        "region's gateway requires of Cloudflare",
        renew="run `pulumi up`, which renews it in its last 60 days (docs/components/cdn-edge.md)",
        certificate=edge.origin_pull_certificate,
        private_key=edge.origin_pull_private_key,
    )
    watched = [origin_certificate, origin_pull_certificate]
    alarms = [
        region.attach_alarms(
            observability.thresholds,
            observability.alarm_subscriptions,
            certificates=watched if name == config.anchor_region else [],
        )
        for name, region in regions.items()
    ]
    telemetry = {name: region.attach_telemetry(observability.telemetry) for name, region in regions.items()}
    anchor = regions[config.anchor_region]
    prefix = f"{NAMESPACE}-{stack}"
    anchor.add_overview_dashboard(f"{prefix}-overview", alarms)
    # A Prometheus data source per region's AMP workspace (the anchor's the default), and CloudWatch.
    GrafanaWorkspace(
        f"{prefix}-grafana",
        GrafanaArgs(**observability.grafana.model_dump(), name_prefix=prefix),
        opts=anchor.pinned,
        prometheus_endpoints={name: t.prometheus_endpoint for name, t in telemetry.items()},
        default_prometheus_region=config.anchor_region,
    )
    protect = config.protect_stateful_resources
    AuditTrail(
        f"{prefix}-audit",
        AuditTrailArgs(
            **observability.audit.model_dump(),
            name_prefix=prefix,
            kms_deletion_window_days=config.kms_deletion_window_days,
            protect=protect,
        ),
        opts=anchor.pinned,
    )
    warehouse_args = WarehouseArgs(
        **observability.warehouse.model_dump(), name_prefix=prefix, protect=protect
    )
    warehouse = AnalyticsWarehouse(
        f"{prefix}-warehouse",
        warehouse_args,
        kms_key_arn=anchor.kms_key_arn,
        vpc_id=anchor.vpc_id,
        subnet_ids=anchor.isolated_subnet_ids,
        client_security_group_id=anchor.eks.node_security_group_id,
        producer_vpc_endpoint_id=anchor.firehose_endpoint_id,
        opts=anchor.pinned,
    )
    # Every region's API puts its events into a stream of its own region, through its VPC's
    # Firehose endpoint (the namespace opens 443 to the private subnets only, no public address);
    # each stream delivers into the anchor's lake.
    for name, region in regions.items():
        stream: StreamParts | EventStream = (
            warehouse.home_stream
            if name == config.anchor_region
            else EventStream(
                f"{prefix}-{name}-events",
                warehouse_args,
                region=name,
                lake=warehouse.lake_target(),
                kms_key_arn=region.kms_key_arn,
                vpc_endpoint_id=region.firehose_endpoint_id,
                opts=region.pinned,
            )
        )
        region.attach_event_producer(
            f"{prefix}-{name}-events-producer",
            service_account=EVENTS_PRODUCER,
            role_arn=stream.producer_role_arn,
            stream_name=stream.name,
        )


def attach_edge(config: StackConfig, stack: str, regions: dict[str, RegionStack]) -> CdnEdge:
    """Cloudflare in front: a pool per region on its ingress hostname, and the edge's origin
    certificate installed in every region's gateway before strict TLS and the load balancer. The
    API token is the stack file's encrypted `cloudflare:apiToken` when set, else
    CLOUDFLARE_API_TOKEN."""
    edge = CdnEdge(
        f"{NAMESPACE}-{stack}-edge",
        cdn_args(config, stack),
        origins={name: region.eks.ingress_hostname for name, region in regions.items()},
        api_token=cloudflare_api_token(),
        install_origin_certificate=lambda certificate, key, client_ca: [
            region.install_origin_certificate(certificate, key, client_ca) for region in regions.values()
        ],
    )
    return edge


def cloudflare_api_token() -> pulumi.Output[str] | None:
    """The stack file's encrypted `cloudflare:apiToken` when set; None lets Cloudflare's provider
    read CLOUDFLARE_API_TOKEN, as CI passes it."""
    return pulumi.Config("cloudflare").get_secret("apiToken")


def attach_database(config: StackConfig, stack: str, regions: dict[str, RegionStack]) -> PostgresCluster:
    """The anchor's member first (it creates the global cluster, replicates its secret to every
    other member's key and copies its backups to `backup.copyRegion`), then each other member, which
    joins it. Which member writes is AWS's business after that (a failover moves it), so none of
    these declarations changes when it moves."""
    members = postgres_args(config, stack)
    anchor, *secondaries = members
    copy_region = config.postgres.backup.copy_region
    copy_vault_arn = (
        regions[copy_region].add_backup_copy_vault(f"{members[anchor].cluster_identifier}-copy")
        if copy_region
        else None
    )
    writer = regions[anchor].attach_postgres(
        members[anchor],
        secret_replicas={r: regions[r].kms_key_arn for r in secondaries},
        backup_copy_vault_arn=copy_vault_arn,
    )
    for region in secondaries:
        regions[region].attach_postgres(members[region], writer=writer)
    return writer


def attach_redis_stores(config: StackConfig, stack: str, regions: dict[str, RegionStack]) -> None:
    """Every Redis store in every region: a global store's primary first (it creates the datastore
    and replicates its secret to the secondaries' keys), then its secondaries, then the regions
    with a cluster of their own."""
    for members in redis_args(config, stack).values():
        secondaries = [r for r, a in members.items() if a.membership is Membership.SECONDARY]
        primary: RedisCluster | None = None
        for region, args in members.items():
            if args.membership is Membership.PRIMARY:
                primary = regions[region].attach_redis(
                    args, secret_replicas={r: regions[r].kms_key_arn for r in secondaries}
                )
            else:
                regions[region].attach_redis(
                    args, primary=primary if args.membership is Membership.SECONDARY else None
                )


def main() -> dict[str, Any]:
    """The Pulumi program. Returns the exported values (also handy under mocks)."""
    stack = pulumi.get_stack()
    try:
        config = load_runtime_config(stack)
        regions, edge = build(config, stack)
    except ConfigError as exc:
        # RunError ends the program with this message alone: no traceback for a config mistake.
        raise pulumi.RunError(str(exc)) from None
    except NetworkError as exc:
        # The account lacks an AZ the stack file names: say which key lists it.
        where = [i for i, r in enumerate(config.regions) if r.name == exc.region]
        key = f"Pulumi.{stack}.yaml: {NAMESPACE}:regions[{where[0]}].azIds: " if where else ""
        raise pulumi.RunError(f"{key}{exc}") from None
    # The global resources are declared in the anchor region, whichever member writes now.
    database = regions[config.anchor_region].postgres
    assert database is not None, "attach_database gives the anchor the global database"
    exports: dict[str, Any] = {
        "environment": config.environment.value,
        "writeHome": config.write_home,
        "anchorRegion": config.anchor_region,
        "redisPrimaryRegions": {
            store: primary for store in config.redis.stores if (primary := config.store_primary(store))
        },
        "postgresGlobalClusterId": database.global_cluster_identifier,
        "postgresGlobalWriterEndpoint": database.global_writer_endpoint,
        "redisGlobalDatastoreIds": {
            store: cluster.global_datastore_id
            for store, cluster in regions[config.anchor_region].redis.items()
            if cluster.global_datastore_id is not None
        },
        "regions": {name: region.outputs() for name, region in regions.items()},
        "cdn": edge.outputs(),
    }
    for key, value in exports.items():
        pulumi.export(key, value)
    return exports
