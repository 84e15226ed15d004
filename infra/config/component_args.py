"""The components' arguments, built from a validated `StackConfig`: one `RegionStackArgs` per
region, the database's and the stores' members, the edge's.
"""

from __future__ import annotations

from components.deploy.args import DeployRunnerArgs
from components.edge.args import CdnEdgeArgs
from components.eks.args import EksClusterArgs
from components.network.args import NetworkArgs
from components.postgres.args import (
    ClusterRole,
    PostgresClusterArgs,
)
from components.redis.args import (
    Membership,
    RedisClusterArgs,
)
from components.region.args import RegionStackArgs

from .naming import NAMESPACE, redis_group_id
from .schema import StackConfig

__all__ = [
    "cdn_args",
    "deploy_runner_args",
    "postgres_args",
    "redis_args",
    "region_args",
]


def region_args(config: StackConfig, stack: str) -> list[RegionStackArgs]:
    """One `RegionStackArgs` per region, in the order of the stack file."""
    return [
        RegionStackArgs(
            region=region.name,
            role=region.role,
            name_prefix=f"{NAMESPACE}-{stack}",
            network=NetworkArgs(
                **config.network.model_dump(),
                cidr=region.cidr,
                az_ids=region.az_ids,
                protect=config.protect_stateful_resources,
            ),
            eks=EksClusterArgs(
                **config.eks.model_dump(),
                cluster_name=f"{NAMESPACE}-{stack}-{region.name}",
                hostname=config.domain,
                nodes=config.sizes[region.role].eks,
                protect=config.protect_stateful_resources,
            ),
            tags=config.aws_tags(stack),
            kms_deletion_window_days=config.kms_deletion_window_days,
            protect=config.protect_stateful_resources,
        )
        for region in config.regions
    ]


def postgres_args(config: StackConfig, stack: str) -> dict[str, PostgresClusterArgs]:
    """One `PostgresClusterArgs` per database region, the anchor's (it creates the global
    database, whichever member writes now) first."""
    roles = {r.name: r.role for r in config.regions}
    settings = config.postgres.model_dump(exclude={"regions"})
    return {
        region: PostgresClusterArgs(
            **settings,
            cluster_identifier=f"{NAMESPACE}-{stack}-{region}-postgres",
            global_cluster_identifier=f"{NAMESPACE}-{stack}-postgres",
            role=ClusterRole.WRITER if region == config.anchor_region else ClusterRole.SECONDARY,
            sizes=config.sizes[roles[region]].postgres,
            secret_name=f"{NAMESPACE}-{stack}/postgres/master" if region == config.anchor_region else "",
            protect=config.protect_stateful_resources,
        )
        for region in config.postgres_regions()
    }


def redis_args(config: StackConfig, stack: str) -> dict[str, dict[str, RedisClusterArgs]]:
    """Store → region → `RedisClusterArgs`, every region of the stack: a global store's primary
    as created (the anchor) first, then its secondaries, then the regions with a cluster of their own."""
    roles = {r.name: r.role for r in config.regions}
    settings = config.redis.model_dump(exclude={"stores"})
    stores: dict[str, dict[str, RedisClusterArgs]] = {}
    for store_name, store in config.redis.stores.items():
        members = [config.anchor_region, *store.global_regions] if store.global_regions else []
        order = [*members, *(r.name for r in config.regions if r.name not in members)]
        stores[store_name] = {}
        for region in order:
            membership = (
                Membership.REGIONAL
                if region not in members
                else Membership.PRIMARY
                if region == config.anchor_region
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
                sizes=config.sizes[roles[region]].redis[store_name],
                secret_name=(
                    f"{NAMESPACE}-{stack}/redis/{store_name}"
                    if membership is not Membership.SECONDARY
                    else ""
                ),
                protect=config.protect_stateful_resources,
            )
    return stores


def cdn_args(config: StackConfig, stack: str) -> CdnEdgeArgs:
    """The edge's arguments: a pool per region that can take every write (a read-only region gets
    none), the domain as the load balancer's hostname, the write home (it holds the writers) as
    the fallback."""
    return CdnEdgeArgs(
        **config.cdn.model_dump(),
        hostname=config.domain,
        regions={r.name: r.role for r in config.regions},
        fallback_region=config.write_home,
        read_only_regions=tuple(config.read_only_regions()),
        name_prefix=f"{NAMESPACE}-{stack}",
    )


def deploy_runner_args(config: StackConfig, stack: str) -> DeployRunnerArgs:
    """The deploy runner's arguments: the stack's settings, a project named after the stack (the
    workflows' `runs-on` label names it), its logs protected like the stack's."""
    return DeployRunnerArgs(
        **config.deploy.runner.model_dump(),
        project_name=f"{NAMESPACE}-{stack}-deploy",
        protect=config.protect_stateful_resources,
    )
