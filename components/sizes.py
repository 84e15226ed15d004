"""Capacity settings of the platform's workloads, per component.

Validated now so a stack file is complete and checked as a whole; each is consumed by its component:
`EksSizes` by the EKS cluster, `PostgresSizes` by the PostgreSQL cluster, `RedisSizes` by the Redis
cluster. A size is always a positive number: zero nodes or zero readers is not a smaller platform,
it is an outage.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, PositiveInt, model_validator

from .args import MeridianModel

__all__ = ["ComponentSizes", "EksSizes", "PostgresSizes", "RedisSizes"]

InstanceType = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")]


class EksSizes(MeridianModel):
    """Application node group: instance types and the autoscaling range (min <= desired <= max)."""

    node_instance_types: tuple[InstanceType, ...] = Field(min_length=1)
    min_nodes: PositiveInt
    desired_nodes: PositiveInt
    max_nodes: PositiveInt

    @model_validator(mode="after")
    def _ordered(self) -> EksSizes:
        if not self.min_nodes <= self.desired_nodes <= self.max_nodes:
            raise ValueError(
                f"needs minNodes <= desiredNodes <= maxNodes, got {self.min_nodes} / "
                f"{self.desired_nodes} / {self.max_nodes}"
            )
        return self


class PostgresSizes(MeridianModel):
    """Aurora PostgreSQL instances of a region: class and reader count (Aurora allows 15 readers)."""

    instance_class: str = Field(pattern=r"^db\.[a-z0-9]+\.[a-z0-9]+$")
    reader_instances: PositiveInt = Field(le=15)


class RedisSizes(MeridianModel):
    """ElastiCache cluster-mode shape: node type, shards, replicas per shard (ElastiCache allows 0-5;
    meridian needs at least 1 for automatic failover)."""

    node_type: str = Field(pattern=r"^cache\.[a-z0-9]+\.[a-z0-9]+$")
    shards: PositiveInt = Field(le=500)
    replicas_per_shard: PositiveInt = Field(le=5)


class ComponentSizes(MeridianModel):
    """The sizes of every component in one kind of region."""

    eks: EksSizes
    postgres: PostgresSizes
    redis: RedisSizes
