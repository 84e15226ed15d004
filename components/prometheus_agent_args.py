"""Arguments of `PrometheusAgent`: how many agents, which Prometheus image, how often they scrape.

The image is a Prometheus 3 release pinned by its tag, never `latest` (the agent's flags are
Prometheus 3's); `TelemetrySettings` offers the same choices to a stack file. They live apart from
`components/prometheus_agent.py` so that validating a stack file (`infra.stack_config`) does not
import the Pulumi SDKs.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .args import MeridianModel

__all__ = ["DEFAULT_AGENT_IMAGE", "AgentImage", "AgentReplicas", "PrometheusAgentArgs"]

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
