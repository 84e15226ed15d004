"""VpcPeering: a region's VPC peered with the deploy hub's, so the runner there reaches its cluster.

    VpcPeering  (meridian:network:VpcPeering)
    ├── VpcPeeringConnection   requested from the hub's VPC (hub region), to this VPC
    ├── Accepter               accepted in this region (same account: `auto_accept`)
    ├── Route ×hub tables      hub's private subnets → this VPC's CIDR
    └── Route ×own tables      this VPC's private subnets → the hub's CIDR (the replies)

Peering is not transitive, so regions other than the hub cannot reach one another through it;
only the routes between private subnets exist, and security groups still decide: the clusters
admit the hub's private subnets on 443 only. No hourly charge, unlike a transit gateway
attachment; traffic is inter-region data transfer. An EKS API endpoint with private access only
advertises its private addresses in public DNS ("the client automatically performs these actions
through the peered VPC", AWS Knowledge Center, eks-private-cluster-endpoint-vpc), so the hub
needs no resolver rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

__all__ = ["PeeringHub", "VpcPeering"]


@dataclass(frozen=True)
class PeeringHub:
    """The VPC the deploy runner runs in, as another region peers with it.

    Attributes:
        region: its AWS region.
        provider: its region's AWS provider (the requester side and its routes are declared there).
        vpc_id: its VPC.
        cidr: its VPC's CIDR block.
        route_tables: its private subnets' route tables, by a stable label (the zone), where the
            runner's traffic leaves from.
    """

    region: str
    provider: aws.Provider
    vpc_id: pulumi.Input[str]
    cidr: str
    route_tables: Mapping[str, pulumi.Input[str]]


class VpcPeering(pulumi.ComponentResource):
    """Peer `vpc_id` (this region's) with `hub`'s VPC and route their private subnets to each other.

    Args:
        name: logical name prefix of every child.
        hub: the deploy hub (`PeeringHub`).
        region: this VPC's region.
        vpc_id, cidr: this VPC and its CIDR (must not overlap the hub's; the stack config checks).
        route_tables: this VPC's private route tables, by a stable label (the zone).
        opts: resource options; this region's AWS provider comes from here or the parent.

    Attributes:
        connection_id: the peering connection's id.
        ready: what must exist before traffic can flow (the acceptance and every route).
    """

    def __init__(
        self,
        name: str,
        hub: PeeringHub,
        *,
        region: str,
        vpc_id: pulumi.Input[str],
        cidr: str,
        route_tables: Mapping[str, pulumi.Input[str]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("meridian:network:VpcPeering", name, None, opts)
        in_hub = pulumi.ResourceOptions(parent=self, provider=hub.provider)
        connection = aws.ec2.VpcPeeringConnection(
            f"{name}-request",
            vpc_id=hub.vpc_id,
            peer_vpc_id=vpc_id,
            peer_region=region,
            tags={"Name": f"{name} ({hub.region} → {region})"},
            opts=in_hub,
        )
        accepted = aws.ec2.VpcPeeringConnectionAccepter(
            f"{name}-accept",
            vpc_peering_connection_id=connection.id,
            auto_accept=True,
            tags={"Name": f"{name} ({hub.region} → {region})"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        after_acceptance = pulumi.ResourceOptions(depends_on=[accepted])
        routes = [
            aws.ec2.Route(
                f"{name}-{hub.region}-{label}",
                route_table_id=table,
                destination_cidr_block=cidr,
                vpc_peering_connection_id=connection.id,
                opts=pulumi.ResourceOptions.merge(in_hub, after_acceptance),
            )
            for label, table in hub.route_tables.items()
        ] + [
            aws.ec2.Route(
                f"{name}-{region}-{label}",
                route_table_id=table,
                destination_cidr_block=hub.cidr,
                vpc_peering_connection_id=connection.id,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[accepted]),
            )
            for label, table in route_tables.items()
        ]
        self.connection_id = connection.id
        self.ready: list[pulumi.Resource] = [accepted, *routes]
        self.register_outputs({"connectionId": self.connection_id})
