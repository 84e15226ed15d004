"""VpcPeering: a region's VPC peered with the deploy hub's, so the runner there reaches its cluster.

    hub's RegionStack (its region)              this VpcPeering  (meridian:network:VpcPeering)
    ├── VpcPeeringConnection  requested there   ├── Accepter            accepted here (`auto_accept`)
    └── Route ×hub tables     → this VPC        └── Route ×own tables   → the hub's VPC (the replies)

The hub's side is declared by the hub (`PeeringHub.request`, `PeeringHub.route`), in its region,
under its own RegionStack; this side here. Routes wait for the acceptance. Peering is not
transitive, so regions other than the hub cannot reach one another through it; only the routes
between private subnets exist, and security groups still decide: the clusters admit the hub's
private subnets on 443 only. No hourly charge, unlike a transit gateway attachment; traffic is
inter-region data transfer. An EKS API endpoint with private access only advertises its private
addresses in public DNS ("the client automatically performs these actions through the peered
VPC", AWS Knowledge Center, eks-private-cluster-endpoint-vpc), so the hub needs no resolver rules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

__all__ = ["PeeringHub", "VpcPeering"]

#: Declares, in the hub, the peering connection to (name, peer VPC id, peer region).
PeeringRequest = Callable[[str, pulumi.Input[str], str], aws.ec2.VpcPeeringConnection]
#: Declares, in the hub, routes from its private subnets to (name, connection id, CIDR), after these.
PeeringRoutes = Callable[[str, pulumi.Input[str], str, Sequence[pulumi.Resource]], list[aws.ec2.Route]]


@dataclass(frozen=True)
class PeeringHub:
    """The VPC the deploy runner runs in, as another region peers with it.

    Attributes:
        region: its AWS region.
        cidr: its VPC's CIDR block.
        request: declares the hub's side of a peering connection (in the hub's region).
        route: declares routes from the hub's private subnets over a connection.
    """

    region: str
    cidr: str
    request: PeeringRequest
    route: PeeringRoutes


class VpcPeering(pulumi.ComponentResource):
    """Peer `vpc_id` (this region's) with `hub`'s VPC and route their private subnets to each other.

    Args:
        name: logical name prefix of every child (and of the hub's side).
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
        connection = hub.request(f"{name}-request", vpc_id, region)
        accepted = aws.ec2.VpcPeeringConnectionAccepter(
            f"{name}-accept",
            vpc_peering_connection_id=connection.id,
            auto_accept=True,
            tags={"Name": f"{name} ({hub.region} → {region})"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        hub_routes = hub.route(f"{name}-{hub.region}", connection.id, cidr, [accepted])
        own_routes = [
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
        self.ready: list[pulumi.Resource] = [accepted, *hub_routes, *own_routes]
        self.register_outputs({"connectionId": self.connection_id})
