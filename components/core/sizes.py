"""Capacity settings of the platform's workloads, per component.

Validated now so a stack file is complete and checked as a whole; each is consumed by its component:
`EksSizes` by `EksCluster`, `PostgresSizes` by the PostgreSQL cluster, `RedisSizes` by the Redis
cluster. A size is always a positive number: zero nodes or zero readers is not a smaller platform,
it is an outage.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, PositiveInt, model_validator

from .args import MeridianModel

__all__ = ["ComponentSizes", "EksSizes", "InstanceType", "PostgresSizes", "RedisSizes"]

InstanceType = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")]


class EksSizes(MeridianModel):
    """A region's compute: the managed `apps` node group, Karpenter's burst and the API's replicas.

    Attributes:
        node_instance_types: EC2 instance types of the application nodes, preferred first (also
            what Karpenter may launch).
        min_nodes: fewest nodes the `apps` group scales down to (>= 1).
        desired_nodes: `apps` nodes at creation (min <= desired <= max).
        max_nodes: most nodes the `apps` group scales up to.
        burst_vcpus: vCPUs Karpenter may add beyond the `apps` group (its NodePool limit).
        api_min_replicas: fewest API pods (HorizontalPodAutoscaler minimum; the PDB keeps most).
        api_max_replicas: most API pods.
    """

    node_instance_types: tuple[InstanceType, ...] = Field(min_length=1)
    min_nodes: PositiveInt
    desired_nodes: PositiveInt
    max_nodes: PositiveInt
    burst_vcpus: PositiveInt
    api_min_replicas: PositiveInt
    api_max_replicas: PositiveInt

    @model_validator(mode="after")
    def _ordered(self) -> EksSizes:
        if not self.min_nodes <= self.desired_nodes <= self.max_nodes:
            raise ValueError(
                f"needs minNodes <= desiredNodes <= maxNodes, got {self.min_nodes} / "
                f"{self.desired_nodes} / {self.max_nodes}"
            )
        if self.api_min_replicas > self.api_max_replicas:
            raise ValueError(
                f"needs apiMinReplicas <= apiMaxReplicas, got {self.api_min_replicas} / "
                f"{self.api_max_replicas}"
            )
        return self


class PostgresSizes(MeridianModel):
    """Aurora PostgreSQL instances of a region.

    Attributes:
        instance_class: Aurora instance class, e.g. `db.r7g.xlarge`.
        reader_instances: readers in the region (1-15, Aurora's limit).
    """

    instance_class: str = Field(pattern=r"^db\.[a-z0-9]+\.[a-z0-9]+$")
    reader_instances: PositiveInt = Field(le=15)


class RedisSizes(MeridianModel):
    """ElastiCache cluster-mode shape of one store in a region.

    Attributes:
        node_type: ElastiCache node type, e.g. `cache.r7g.large`.
        shards: node groups (shards) of the cluster (1-500).
        replicas_per_shard: replicas of each shard (1-5; at least 1 for automatic failover).
    """

    node_type: str = Field(pattern=r"^cache\.[a-z0-9]+\.[a-z0-9]+$")
    shards: PositiveInt = Field(le=500)
    replicas_per_shard: PositiveInt = Field(le=5)


class ComponentSizes(MeridianModel):
    """The sizes of every component in one kind of region.

    Attributes:
        eks: the EKS application node group.
        postgres: the Aurora PostgreSQL instances.
        redis: each Redis store's replication group, by store name (`meridian:redis.stores`).
    """

    eks: EksSizes
    postgres: PostgresSizes
    redis: dict[str, RedisSizes] = Field(min_length=1)
