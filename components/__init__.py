"""meridian components: reusable Pulumi ComponentResources for a multi-region AWS platform.

Import what you need into your own Pulumi program::

    from components import EksCluster, EksClusterArgs, Network, NetworkArgs, RegionStack, RegionStackArgs

Every class takes a validated pydantic args model (see `components.args`); invalid input fails when the
model is built, before any resource is declared.
"""

from .alarms import AlarmSubscription, AlarmThresholds, RegionAlarms
from .args import NatGatewayMode, NetworkArgs, RegionRole
from .audit import AuditSettings, AuditTrail, AuditTrailArgs
from .backup import CrossRegionBackup, copy_vault
from .buckets import LockMode, PrivateBucket
from .cdn import CdnEdge
from .cdn_args import CdnDefaults, CdnEdgeArgs
from .eks import EksCluster
from .eks_args import AddonVersions, EksClusterArgs, EksDefaults, IstioSettings, KarpenterSettings
from .geo import CloudflareRegion
from .grafana import GrafanaArgs, GrafanaSettings, GrafanaWorkspace
from .karpenter import Karpenter
from .mesh import ServiceMesh
from .network import Network, NetworkError
from .postgres import PostgresCluster
from .postgres_args import ClusterRole, PostgresClusterArgs, PostgresDefaults
from .prometheus_agent import PrometheusAgent, PrometheusAgentArgs
from .redis import RedisCluster
from .redis_args import MaxmemoryPolicy, Membership, RedisClusterArgs, RedisDefaults, RedisEngine, RedisRole
from .region import RegionKey, RegionStack
from .region_args import RegionStackArgs
from .sizes import EksSizes, PostgresSizes, RedisSizes
from .steering import SteeringPlan, plan_steering
from .subnets import SubnetPlan, SubnetPlanError, SubnetSpec, Tier, plan_subnets
from .telemetry import ClusterTelemetry, TelemetryArgs, TelemetrySettings
from .warehouse import (
    DEFAULT_EVENT_COLUMNS,
    AnalyticsWarehouse,
    EventColumn,
    RedshiftSettings,
    WarehouseArgs,
    WarehouseSettings,
)
from .workload import AppEnvelope

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
    "CdnDefaults",
    "CdnEdge",
    "CdnEdgeArgs",
    "CloudflareRegion",
    "ClusterRole",
    "ClusterTelemetry",
    "CrossRegionBackup",
    "EksCluster",
    "EksClusterArgs",
    "EksDefaults",
    "EksSizes",
    "EventColumn",
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
    "PostgresCluster",
    "PostgresClusterArgs",
    "PostgresDefaults",
    "PostgresSizes",
    "PrivateBucket",
    "PrometheusAgent",
    "PrometheusAgentArgs",
    "RedisCluster",
    "RedisClusterArgs",
    "RedisDefaults",
    "RedisEngine",
    "RedisRole",
    "RedisSizes",
    "RedshiftSettings",
    "RegionAlarms",
    "RegionKey",
    "RegionRole",
    "RegionStack",
    "RegionStackArgs",
    "ServiceMesh",
    "SteeringPlan",
    "SubnetPlan",
    "SubnetPlanError",
    "SubnetSpec",
    "TelemetryArgs",
    "TelemetrySettings",
    "Tier",
    "WarehouseArgs",
    "WarehouseSettings",
    "copy_vault",
    "plan_steering",
    "plan_subnets",
]
