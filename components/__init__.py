"""meridian components: reusable Pulumi ComponentResources for a multi-region AWS platform.

Import what you need into your own Pulumi program::

    from components import EksCluster, EksClusterArgs, Network, NetworkArgs, RegionStack, RegionStackArgs

Every class takes a validated pydantic args model (each family's `args.py`, e.g.
`components.eks.args`); invalid input fails when the model is built, before any resource is declared.
"""

from __future__ import annotations

import importlib
import warnings
from typing import TYPE_CHECKING, Any

# Lazy (PEP 562): importing the package imports none of its modules; `__getattr__` imports a name's
# module on its first use (mypy and IDEs read the imports under TYPE_CHECKING). Validating a stack
# file (`infra.config`) reads only the pulumi-free `<family>/args.py` modules and must not pay for the
# Pulumi SDKs that the component modules import (pulumi_cloudflare alone takes seconds).
if TYPE_CHECKING:
    from .audit.args import AuditSettings, AuditTrailArgs
    from .audit.audit_trail import AuditTrail
    from .core.args import RegionRole
    from .core.sizes import EksSizes, PostgresSizes, RedisSizes
    from .deploy.args import DeployRunnerArgs, DeploySettings, RunnerSettings
    from .deploy.deploy_runner import DeployRunner
    from .edge.args import CdnEdgeArgs, CdnSettings
    from .edge.cdn_edge import CdnEdge, edge_source_ranges
    from .edge.geo import CloudflareRegion
    from .edge.steering import SteeringPlan, plan_steering
    from .eks.app_envelope import AppEnvelope
    from .eks.args import AddonVersions, EksClusterArgs, EksSettings, IstioSettings, KarpenterSettings
    from .eks.eks_cluster import EksCluster
    from .eks.karpenter import Karpenter
    from .eks.preview_access import PreviewAccess
    from .eks.service_mesh import ServiceMesh
    from .network.args import NatGatewayMode, NetworkArgs
    from .network.network import Network, NetworkError
    from .network.subnets import SubnetPlan, SubnetPlanError, SubnetSpec, Tier, plan_subnets
    from .network.vpc_peering import PeeringHub, VpcPeering
    from .observability.args import (
        AlarmSubscription,
        AlarmThresholds,
        GrafanaArgs,
        GrafanaSettings,
        PrometheusAgentArgs,
        TelemetryArgs,
        TelemetrySettings,
    )
    from .observability.cluster_telemetry import ClusterTelemetry
    from .observability.grafana_workspace import GrafanaWorkspace
    from .observability.prometheus_agent import PrometheusAgent
    from .observability.region_alarms import RegionAlarms
    from .postgres.args import ClusterRole, PostgresClusterArgs, PostgresSettings
    from .postgres.postgres_cluster import PostgresCluster
    from .redis.args import (
        MaxmemoryPolicy,
        Membership,
        RedisClusterArgs,
        RedisEngine,
        RedisRole,
        RedisSettings,
    )
    from .redis.redis_cluster import RedisCluster
    from .region.args import RegionStackArgs
    from .region.region_key import RegionKey
    from .region.region_stack import RegionStack
    from .storage.args import LockMode
    from .storage.cross_region_backup import CrossRegionBackup, copy_vault
    from .storage.private_bucket import PrivateBucket
    from .warehouse.analytics_warehouse import AnalyticsWarehouse
    from .warehouse.args import (
        DEFAULT_EVENT_COLUMNS,
        EventColumn,
        RedshiftSettings,
        WarehouseArgs,
        WarehouseSettings,
    )
    from .warehouse.event_stream import EventStream

if TYPE_CHECKING:  # the renamed names (`_RENAMED` below), for type checkers too
    CdnDefaults = CdnSettings
    EksDefaults = EksSettings
    PostgresDefaults = PostgresSettings
    RedisDefaults = RedisSettings

__all__ = [
    "DEFAULT_EVENT_COLUMNS",
    "AddonVersions",
    "AlarmSubscription",
    "AlarmThresholds",
    "AnalyticsWarehouse",
    "AppEnvelope",
    "AuditSettings",
    "AuditTrail",
    "AuditTrailArgs",
    "CdnEdge",
    "CdnEdgeArgs",
    "CdnSettings",
    "CloudflareRegion",
    "ClusterRole",
    "ClusterTelemetry",
    "CrossRegionBackup",
    "DeployRunner",
    "DeployRunnerArgs",
    "DeploySettings",
    "EksCluster",
    "EksClusterArgs",
    "EksSettings",
    "EksSizes",
    "EventColumn",
    "EventStream",
    "GrafanaArgs",
    "GrafanaSettings",
    "GrafanaWorkspace",
    "IstioSettings",
    "Karpenter",
    "KarpenterSettings",
    "LockMode",
    "MaxmemoryPolicy",
    "Membership",
    "NatGatewayMode",
    "Network",
    "NetworkArgs",
    "NetworkError",
    "PeeringHub",
    "PostgresCluster",
    "PostgresClusterArgs",
    "PostgresSettings",
    "PostgresSizes",
    "PreviewAccess",
    "PrivateBucket",
    "PrometheusAgent",
    "PrometheusAgentArgs",
    "RedisCluster",
    "RedisClusterArgs",
    "RedisEngine",
    "RedisRole",
    "RedisSettings",
    "RedisSizes",
    "RedshiftSettings",
    "RegionAlarms",
    "RegionKey",
    "RegionRole",
    "RegionStack",
    "RegionStackArgs",
    "RunnerSettings",
    "ServiceMesh",
    "SteeringPlan",
    "SubnetPlan",
    "SubnetPlanError",
    "SubnetSpec",
    "TelemetryArgs",
    "TelemetrySettings",
    "Tier",
    "VpcPeering",
    "WarehouseArgs",
    "WarehouseSettings",
    "copy_vault",
    "edge_source_ranges",
    "plan_steering",
    "plan_subnets",
]

#: Each public name → the module (of this package) that defines it.
_MODULES: dict[str, str] = {
    "DEFAULT_EVENT_COLUMNS": "warehouse.args",
    "AddonVersions": "eks.args",
    "AlarmSubscription": "observability.args",
    "AlarmThresholds": "observability.args",
    "AnalyticsWarehouse": "warehouse.analytics_warehouse",
    "EventStream": "warehouse.event_stream",
    "AppEnvelope": "eks.app_envelope",
    "AuditSettings": "audit.args",
    "AuditTrail": "audit.audit_trail",
    "AuditTrailArgs": "audit.args",
    "CdnSettings": "edge.args",
    "CdnEdge": "edge.cdn_edge",
    "DeployRunner": "deploy.deploy_runner",
    "DeployRunnerArgs": "deploy.args",
    "DeploySettings": "deploy.args",
    "RunnerSettings": "deploy.args",
    "PeeringHub": "network.vpc_peering",
    "VpcPeering": "network.vpc_peering",
    "edge_source_ranges": "edge.cdn_edge",
    "CdnEdgeArgs": "edge.args",
    "CloudflareRegion": "edge.geo",
    "ClusterRole": "postgres.args",
    "ClusterTelemetry": "observability.cluster_telemetry",
    "CrossRegionBackup": "storage.cross_region_backup",
    "EksCluster": "eks.eks_cluster",
    "EksClusterArgs": "eks.args",
    "EksSettings": "eks.args",
    "EksSizes": "core.sizes",
    "EventColumn": "warehouse.args",
    "GrafanaArgs": "observability.args",
    "GrafanaSettings": "observability.args",
    "GrafanaWorkspace": "observability.grafana_workspace",
    "IstioSettings": "eks.args",
    "Karpenter": "eks.karpenter",
    "KarpenterSettings": "eks.args",
    "LockMode": "storage.args",
    "MaxmemoryPolicy": "redis.args",
    "Membership": "redis.args",
    "NatGatewayMode": "network.args",
    "Network": "network.network",
    "NetworkArgs": "network.args",
    "NetworkError": "network.network",
    "PostgresCluster": "postgres.postgres_cluster",
    "PreviewAccess": "eks.preview_access",
    "PostgresClusterArgs": "postgres.args",
    "PostgresSettings": "postgres.args",
    "PostgresSizes": "core.sizes",
    "PrivateBucket": "storage.private_bucket",
    "PrometheusAgent": "observability.prometheus_agent",
    "PrometheusAgentArgs": "observability.args",
    "RedisCluster": "redis.redis_cluster",
    "RedisClusterArgs": "redis.args",
    "RedisSettings": "redis.args",
    "RedisEngine": "redis.args",
    "RedisRole": "redis.args",
    "RedisSizes": "core.sizes",
    "RedshiftSettings": "warehouse.args",
    "RegionAlarms": "observability.region_alarms",
    "RegionKey": "region.region_key",
    "RegionRole": "core.args",
    "RegionStack": "region.region_stack",
    "RegionStackArgs": "region.args",
    "ServiceMesh": "eks.service_mesh",
    "SteeringPlan": "edge.steering",
    "SubnetPlan": "network.subnets",
    "SubnetPlanError": "network.subnets",
    "SubnetSpec": "network.subnets",
    "TelemetryArgs": "observability.args",
    "TelemetrySettings": "observability.args",
    "Tier": "network.subnets",
    "WarehouseArgs": "warehouse.args",
    "WarehouseSettings": "warehouse.args",
    "copy_vault": "storage.cross_region_backup",
    "plan_steering": "edge.steering",
    "plan_subnets": "network.subnets",
}


#: Public names that were renamed → their new names. A stack file's section is a `*Settings` model
#: everywhere now (`AuditSettings` already was); the old names resolve, with a DeprecationWarning.
_RENAMED: dict[str, str] = {
    "CdnDefaults": "CdnSettings",
    "EksDefaults": "EksSettings",
    "PostgresDefaults": "PostgresSettings",
    "RedisDefaults": "RedisSettings",
}


if not TYPE_CHECKING:  # mypy sees the imports above: a misspelt name stays a type error

    def __getattr__(name: str) -> Any:
        """Import a public name's module on its first use, and keep the name here for the next."""
        if name in _RENAMED:
            warnings.warn(
                f"components.{name} is now components.{_RENAMED[name]}", DeprecationWarning, stacklevel=2
            )
            return __getattr__(_RENAMED[name])
        module = _MODULES.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{module}", __name__), name)
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*globals(), *__all__})
