"""Typed inputs of the observability components: `PrometheusAgent`, `RegionAlarms`,
`ClusterTelemetry` and `GrafanaWorkspace`.

A stack file sets them under `meridian:observability` (`alarmSubscriptions`, `thresholds`,
`telemetry`, `grafana`); the stack program adds each region's name prefix and protection. They
live apart from the component modules so that validating a stack file (`infra.config`) does
not import the Pulumi SDKs.

- The Prometheus agent's image is a Prometheus 3 release pinned by its tag, never `latest` (the
  agent's flags are Prometheus 3's); `TelemetrySettings` offers the same choices to a stack file.
- The collector is a Prometheus agent by default (`prometheus_agent.py`): AMP's "Encryption at rest"
  page says a workspace under a customer managed key, as every one here is, cannot take its managed
  collector.
- Grafana versions are AMG's, pinned, never "latest".
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from ..core.args import MeridianModel, RetentionDays, one_of
from ..eks.args import ChartVersion
from .grafana_sources import MAX_TOKEN_DAYS, MIN_TOKEN_DAYS

__all__ = [
    "DEFAULT_AGENT_IMAGE",
    "GRAFANA_VERSIONS",
    "MIN_SCRAPE_INTERVAL_SECONDS",
    "AgentImage",
    "AgentReplicas",
    "AlarmSubscription",
    "AlarmThresholds",
    "Collector",
    "GrafanaArgs",
    "GrafanaSettings",
    "NamePrefix",
    "PrometheusAgentArgs",
    "TelemetryArgs",
    "TelemetrySettings",
]

# --- PrometheusAgent -------------------------------------------------------------------------

#: Pinned; never `latest`: a new version is a reviewed change of the stack file.
DEFAULT_AGENT_IMAGE = "quay.io/prometheus/prometheus:v3.5.0"

#: A Prometheus 3 release, by its version tag (never `latest`): the agent's flags are Prometheus 3's.
AgentImage = Annotated[str, Field(pattern=r"^[a-z0-9./-]+:v3\.\d+\.\d+$")]
AgentReplicas = Annotated[int, Field(ge=1, le=5)]


class PrometheusAgentArgs(MeridianModel):
    """Arguments of `PrometheusAgent`.

    Attributes:
        replicas: how many agents scrape the same targets (AMP de-duplicates them; default 2).
        image: the Prometheus image, pinned to a release (default `quay.io/prometheus/prometheus:v3.5.0`).
        scrape_interval_seconds: how often every target is scraped (default 30).
    """

    replicas: AgentReplicas = 2
    image: AgentImage = DEFAULT_AGENT_IMAGE
    scrape_interval_seconds: int = Field(default=30, ge=1, le=3600)


# --- RegionAlarms ----------------------------------------------------------------------------


class AlarmSubscription(MeridianModel):
    """Who the region's alarm topic notifies.

    Attributes:
        protocol: `email`, `https`, `sms`, `sqs` or `lambda` (plain HTTP is refused: alerts
            carry resource names).
        endpoint: the address, URL, phone number or ARN.
    """

    protocol: Literal["email", "https", "sms", "sqs", "lambda"]
    endpoint: str = Field(min_length=3)


class AlarmThresholds(MeridianModel):
    """When an alarm fires. Each is breached for `evaluationMinutes` consecutive minutes (the
    unschedulable-pods alarm for `unschedulableMinutes`).

    Attributes:
        evaluation_minutes: consecutive breaching minutes before an alarm fires (default 5).
        aurora_replica_lag_ms: a reader's lag behind its writer (default 1000).
        aurora_global_lag_ms: a secondary region's lag behind the global writer (default 1000: the
            one-second RPO of the zero-data-loss target).
        aurora_cpu_percent: any instance's CPU (default 80).
        aurora_freeable_memory_mib: the least free memory of any instance (default 1024).
        aurora_deadlocks_per_second: deadlocks above this rate (default 0: any deadlock pages).
        cache_cpu_percent: a node's host CPU (default 90).
        cache_engine_cpu_percent: a node's Valkey thread CPU (default 80).
        cache_memory_percent: a node's used share of maxmemory (default 80).
        cache_evictions_per_minute: evictions a minute on a store allowed to evict (default
            1000); a store holding sessions or queues pages on any eviction.
        cache_replication_lag_seconds: a replica's lag behind its shard's primary (default 5).
        nat_packets_dropped_per_minute: packets a NAT gateway drops a minute (default 100); any
            port allocation error pages.
        nlb_unhealthy_hosts: unhealthy targets of any NLB target group (default 0: any).
        unschedulable_minutes: minutes pods may stay unschedulable before the capacity alarm
            fires (default 10).
        certificate_days_to_expiry: a watched certificate (the CDN's origin certificate, which
            every region's gateway presents, and the origin-pull client certificate the zone
            presents to them) pages once fewer days than this remain (default 45, when ACM's own
            expiry events begin: time to rotate it in every region). Below
            `cdn.originCertificateDays`, or the alarm fires from the day it is issued, and below
            the origin-pull certificate's 60-day renewal window, which a `pulumi up` acts on.
    """

    evaluation_minutes: int = Field(default=5, ge=1, le=60)
    aurora_replica_lag_ms: float = Field(default=1000, gt=0)
    aurora_global_lag_ms: float = Field(default=1000, gt=0)
    aurora_cpu_percent: float = Field(default=80, gt=0, le=100)
    aurora_freeable_memory_mib: float = Field(default=1024, gt=0)
    aurora_deadlocks_per_second: float = Field(default=0, ge=0)
    cache_cpu_percent: float = Field(default=90, gt=0, le=100)
    cache_engine_cpu_percent: float = Field(default=80, gt=0, le=100)
    cache_memory_percent: float = Field(default=80, gt=0, le=100)
    cache_evictions_per_minute: float = Field(default=1000, ge=0)
    cache_replication_lag_seconds: float = Field(default=5, gt=0)
    nat_packets_dropped_per_minute: float = Field(default=100, ge=0)
    nlb_unhealthy_hosts: float = Field(default=0, ge=0)
    unschedulable_minutes: int = Field(default=10, ge=1, le=60)
    certificate_days_to_expiry: int = Field(default=45, ge=1)


# --- ClusterTelemetry ------------------------------------------------------------------------

#: "The scraper config can't specify a scrape interval of less than 30 seconds."
MIN_SCRAPE_INTERVAL_SECONDS = 30

NamePrefix = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,62}$")]
#: Who scrapes the cluster: a Prometheus agent in it, or AMP's managed collector.
Collector = Literal["agent", "managed"]


class TelemetrySettings(MeridianModel):
    """`meridian:observability.telemetry`: what a stack chooses for every region's telemetry.

    Attributes:
        log_retention_days: retention of the container and workspace log groups (default 365).
        scrape_interval_seconds: how often the collector scrapes every target (default 30, the
            shortest AWS allows a managed collector).
        fluent_bit_chart_version: the `aws-for-fluent-bit` chart of https://aws.github.io/eks-charts,
            pinned (default `0.2.1`, Fluent Bit image 3.4.16: its `cloudwatch_logs` output reads
            EKS Pod Identity credentials).
        collector: who scrapes the cluster (default `agent`): `agent`, Prometheus in agent mode in
            the cluster writing into the workspace; `managed`, AMP's managed collector, which AMP's
            "Encryption at rest" page says a workspace under a customer managed key (every
            workspace here) cannot take: choose it only once a staging `pulumi up` accepted it.
        agent_replicas: how many agents scrape the same targets (default 2, 1 to 5): AMP keeps one
            copy of their series (HA de-duplication by the `cluster` and `__replica__` labels).
        agent_image: the agents' Prometheus image, pinned to a release, never `latest` (default
            `quay.io/prometheus/prometheus:v3.5.0`).
    """

    log_retention_days: RetentionDays = 365
    scrape_interval_seconds: int = Field(default=30, ge=MIN_SCRAPE_INTERVAL_SECONDS, le=3600)
    fluent_bit_chart_version: ChartVersion = "0.2.1"
    collector: Collector = "agent"
    agent_replicas: AgentReplicas = 2
    agent_image: AgentImage = DEFAULT_AGENT_IMAGE


class TelemetryArgs(TelemetrySettings):
    """Arguments of `ClusterTelemetry`, one region's metrics and container logs: the settings, and

    Attributes:
        name_prefix: physical name prefix (e.g. `meridian-prod-eu-west-1`): the workspace's and the
            scraper's alias, the workspace's log group `/aws/vendedlogs/prometheus/<namePrefix>`.
        protect: `protect` on the workspace (its metrics) and both log groups, with CloudWatch's
            deletion protection on the groups (default true).
    """

    name_prefix: NamePrefix
    protect: bool = True


# --- GrafanaWorkspace ------------------------------------------------------------------------

#: AMG's Grafana versions (pulumi-aws 7.51: 9.4, 10.4, 12.4, 13.2); pinned, never "latest".
GRAFANA_VERSIONS: tuple[str, ...] = ("9.4", "10.4", "12.4", "13.2")

GrafanaVersion = Annotated[
    str, AfterValidator(one_of(GRAFANA_VERSIONS, "Grafana {!r} is not a version AMG runs"))
]
AuthenticationProvider = Literal["AWS_SSO", "SAML"]


def _unique(providers: tuple[str, ...]) -> tuple[str, ...]:
    if len(set(providers)) != len(providers):
        raise ValueError(f"authenticationProviders lists a provider twice: {list(providers)}")
    return providers


class GrafanaSettings(MeridianModel):
    """`meridian:observability.grafana`: the platform's Grafana workspace.

    Attributes:
        authentication_providers: `AWS_SSO` (IAM Identity Center, the default) and/or `SAML`.
        grafana_version: pinned Grafana version (default `13.2`); AMG upgrades in place, never down.
        sns_notifications: SNS as a notification destination, publishing to `<namePrefix>-*` topics
            of the account only (default true).
        api_token_days: life of the service-account token that provisions the data sources (2 to
            30 days, AMG's longest; default 30); a new one replaces it every half of that, at the
            first `pulumi up` of each period.
    """

    authentication_providers: Annotated[tuple[AuthenticationProvider, ...], AfterValidator(_unique)] = Field(
        default=("AWS_SSO",), min_length=1
    )
    grafana_version: GrafanaVersion = "13.2"
    sns_notifications: bool = True
    api_token_days: int = Field(default=MAX_TOKEN_DAYS, ge=MIN_TOKEN_DAYS, le=MAX_TOKEN_DAYS)


class GrafanaArgs(GrafanaSettings):
    """Arguments of `GrafanaWorkspace`: the settings, and

    Attributes:
        name_prefix: the workspace's name; alert topics Grafana may publish to are `<namePrefix>-*`.
    """

    name_prefix: NamePrefix
