"""meridian components: reusable Pulumi ComponentResources for a multi-region AWS platform.

Import what you need into your own Pulumi program::

    from components import EksCluster, EksClusterArgs, Network, NetworkArgs, RegionStack, RegionStackArgs

Every class takes a validated pydantic args model (see `components.args`); invalid input fails when the
model is built, before any resource is declared.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Lazy (PEP 562): importing the package imports none of its modules; `__getattr__` imports a name's
# module on its first use (mypy and IDEs read the imports under TYPE_CHECKING). Validating a stack
# file (`infra.stack_config`) reads only the pulumi-free `*_args` modules and must not pay for the
# Pulumi SDKs that the component modules import (pulumi_cloudflare alone takes seconds).
if TYPE_CHECKING:
    from .alarms import RegionAlarms
    from .alarms_args import AlarmSubscription, AlarmThresholds
    from .args import NatGatewayMode, NetworkArgs, RegionRole
    from .audit import AuditTrail
    from .audit_args import AuditSettings, AuditTrailArgs
    from .backup import CrossRegionBackup, copy_vault
    from .buckets import PrivateBucket
    from .buckets_args import LockMode
    from .cdn import CdnEdge
    from .cdn_args import CdnDefaults, CdnEdgeArgs
    from .eks import EksCluster
    from .eks_args import AddonVersions, EksClusterArgs, EksDefaults, IstioSettings, KarpenterSettings
    from .geo import CloudflareRegion
    from .grafana import GrafanaWorkspace
    from .grafana_args import GrafanaArgs, GrafanaSettings
    from .karpenter import Karpenter
    from .mesh import ServiceMesh
    from .network import Network, NetworkError
    from .postgres import PostgresCluster
    from .postgres_args import ClusterRole, PostgresClusterArgs, PostgresDefaults
    from .prometheus_agent import PrometheusAgent
    from .prometheus_agent_args import PrometheusAgentArgs
    from .redis import RedisCluster
    from .redis_args import (
        MaxmemoryPolicy,
        Membership,
        RedisClusterArgs,
        RedisDefaults,
        RedisEngine,
        RedisRole,
    )
    from .region import RegionKey, RegionStack
    from .region_args import RegionStackArgs
    from .sizes import EksSizes, PostgresSizes, RedisSizes
    from .steering import SteeringPlan, plan_steering
    from .subnets import SubnetPlan, SubnetPlanError, SubnetSpec, Tier, plan_subnets
    from .telemetry import ClusterTelemetry
    from .telemetry_args import TelemetryArgs, TelemetrySettings
    from .warehouse import AnalyticsWarehouse
    from .warehouse_args import (
        DEFAULT_EVENT_COLUMNS,
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

#: Each public name → the module (of this package) that defines it.
_MODULES: dict[str, str] = {
    "DEFAULT_EVENT_COLUMNS": "warehouse_args",
    "AddonVersions": "eks_args",
    "AlarmSubscription": "alarms_args",
    "AlarmThresholds": "alarms_args",
    "AnalyticsWarehouse": "warehouse",
    "AppEnvelope": "workload",
    "AuditSettings": "audit_args",
    "AuditTrail": "audit",
    "AuditTrailArgs": "audit_args",
    "CdnDefaults": "cdn_args",
    "CdnEdge": "cdn",
    "CdnEdgeArgs": "cdn_args",
    "CloudflareRegion": "geo",
    "ClusterRole": "postgres_args",
    "ClusterTelemetry": "telemetry",
    "CrossRegionBackup": "backup",
    "EksCluster": "eks",
    "EksClusterArgs": "eks_args",
    "EksDefaults": "eks_args",
    "EksSizes": "sizes",
    "EventColumn": "warehouse_args",
    "GrafanaArgs": "grafana_args",
    "GrafanaSettings": "grafana_args",
    "GrafanaWorkspace": "grafana",
    "IstioSettings": "eks_args",
    "Karpenter": "karpenter",
    "KarpenterSettings": "eks_args",
    "LockMode": "buckets_args",
    "MaxmemoryPolicy": "redis_args",
    "Membership": "redis_args",
    "NatGatewayMode": "args",
    "Network": "network",
    "NetworkArgs": "args",
    "NetworkError": "network",
    "PostgresCluster": "postgres",
    "PostgresClusterArgs": "postgres_args",
    "PostgresDefaults": "postgres_args",
    "PostgresSizes": "sizes",
    "PrivateBucket": "buckets",
    "PrometheusAgent": "prometheus_agent",
    "PrometheusAgentArgs": "prometheus_agent_args",
    "RedisCluster": "redis",
    "RedisClusterArgs": "redis_args",
    "RedisDefaults": "redis_args",
    "RedisEngine": "redis_args",
    "RedisRole": "redis_args",
    "RedisSizes": "sizes",
    "RedshiftSettings": "warehouse_args",
    "RegionAlarms": "alarms",
    "RegionKey": "region",
    "RegionRole": "args",
    "RegionStack": "region",
    "RegionStackArgs": "region_args",
    "ServiceMesh": "mesh",
    "SteeringPlan": "steering",
    "SubnetPlan": "subnets",
    "SubnetPlanError": "subnets",
    "SubnetSpec": "subnets",
    "TelemetryArgs": "telemetry_args",
    "TelemetrySettings": "telemetry_args",
    "Tier": "subnets",
    "WarehouseArgs": "warehouse_args",
    "WarehouseSettings": "warehouse_args",
    "copy_vault": "backup",
    "plan_steering": "steering",
    "plan_subnets": "subnets",
}


if not TYPE_CHECKING:  # mypy sees the imports above: a misspelt name stays a type error

    def __getattr__(name: str) -> Any:
        """Import a public name's module on its first use, and keep the name here for the next."""
        module = _MODULES.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{module}", __name__), name)
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*globals(), *__all__})
