"""Settings of `ClusterTelemetry`: log retention, the scrape interval, the Fluent Bit chart and who
scrapes the cluster.

`TelemetrySettings` is what a stack file sets under `meridian:observability.telemetry`;
`TelemetryArgs` adds the region's name prefix and protection, which the stack program derives. The
collector is a Prometheus agent by default (`components/prometheus_agent.py`): AMP's "Encryption at
rest" page says a workspace under a customer managed key, as every one here is, cannot take its
managed collector. They live apart from `components/telemetry.py` so that validating a stack file
(`infra.stack_config`) does not import the Pulumi SDKs.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .args import MeridianModel, RetentionDays
from .eks_args import ChartVersion
from .prometheus_agent_args import DEFAULT_AGENT_IMAGE, AgentImage, AgentReplicas

__all__ = ["MIN_SCRAPE_INTERVAL_SECONDS", "Collector", "NamePrefix", "TelemetryArgs", "TelemetrySettings"]

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
