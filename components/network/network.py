"""Network: one region's VPC, spread over several AZs, with three subnet tiers.

    Network
    ├── Vpc (DNS on) ── default security group stripped of every rule
    ├── InternetGateway ── public route table (0.0.0.0/0 → IGW)
    ├── per AZ: public subnet (ELB tags), private subnet (internal-ELB tags), isolated subnet
    ├── NAT gateways (one per AZ, or one) with their EIPs ── one private route table per AZ
    ├── isolated route table: no default route at all, only the VPC and the S3 gateway endpoint
    ├── S3 gateway endpoint; interface endpoints (ECR, STS) behind a 443-from-the-VPC security group;
    │   Firehose's (a way out for data) behind its own, 443 from the private subnets only, with an
    │   endpoint policy: this account's streams only
    └── flow logs (ALL traffic) → CloudWatch log group encrypted with the region's KMS key

The subnet layout comes from `components.network.subnets.plan_subnets`, decided before anything is declared.
Children inherit the AWS provider from this component's parent or `opts`; pass one pinned to a region.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import pulumi
import pulumi_aws as aws

from ..core.iam import inline_policy_role
from ..core.logs import encrypted_log_group
from ..core.lookups import AwsContext
from ..core.policies import Document, service_trust
from .args import NatGatewayMode, NetworkArgs
from .policies import ENDPOINT_POLICIES, flow_log_policy
from .subnets import SubnetSpec, Tier

__all__ = ["Network", "NetworkError", "admit_group"]

#: Subnet tags the AWS Load Balancer Controller reads to place internet-facing and internal LBs.
_ELB_ROLE_TAGS: dict[Tier, dict[str, str]] = {
    Tier.PUBLIC: {"kubernetes.io/role/elb": "1"},
    Tier.PRIVATE: {"kubernetes.io/role/internal-elb": "1"},
    Tier.ISOLATED: {},
}


class NetworkError(Exception):
    """The region cannot host the requested network (this account has no AZ with an id asked for).

    Attributes:
        region: the region whose network it is (None where not known).
    """

    def __init__(self, message: str, region: str | None = None) -> None:
        super().__init__(message)
        self.region = region


class Network(pulumi.ComponentResource):
    """A VPC with public, private and isolated subnets in the AZs `args.az_ids` names.

    Children that belong to one AZ are named after its id (`<name>-private-use1-az1`): the same
    zone in every account. They were named after the zone name's letter (`<name>-private-1a`)
    until 0.1.0; each carries that name as an alias, so a stack made then keeps its resources.

    Args:
        name: logical name prefix of every child, and the `Name` tag of the VPC and its parts.
        args: validated `NetworkArgs`.
        kms_key_arn: the region's customer-managed key; it encrypts the flow-log group, so its key
            policy must let CloudWatch Logs in the region use it (`RegionKey`'s does).
        opts: resource options; the AWS provider pinned to the region comes from here
            (`providers=[provider]`) or from the parent.

    Attributes:
        vpc: the VPC.
        vpc_id: the VPC's id.
        availability_zones: this account's names of the AZs, in subnet order (AZ 0 first).
        availability_zone_ids: the AZs' ids, in the same order (`args.az_ids`).
        public_subnet_ids / private_subnet_ids / isolated_subnet_ids: subnet ids per tier, AZ order.
        subnets: `Tier` → the tier's `aws.ec2.Subnet`s, AZ order.
        private_route_tables: zone label → the route table of that zone's private subnet.
        flow_log_group: the CloudWatch log group receiving the VPC's flow logs.
        interface_endpoints: service (`kinesis-firehose`) → its interface `aws.ec2.VpcEndpoint`.
    """

    vpc_id: pulumi.Output[str]
    public_subnet_ids: pulumi.Output[list[str]]
    private_subnet_ids: pulumi.Output[list[str]]
    isolated_subnet_ids: pulumi.Output[list[str]]

    def __init__(
        self,
        name: str,
        args: NetworkArgs,
        *,
        kms_key_arn: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("meridian:network:Network", name, None, opts)
        self._prefix = name
        self._args = args
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOptions(parent=self)
        plan = args.subnet_plan()

        self.availability_zone_ids = list(args.az_ids)
        self.availability_zones = self._zone_names(args.az_ids, invoke)
        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,  # interface endpoints with private DNS need both
            tags={"Name": name},
            opts=child,
        )
        vpc_child = pulumi.ResourceOptions(parent=self.vpc)
        # CIS AWS 5.4: the default security group must allow nothing, so nothing can use it by accident.
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg", vpc_id=self.vpc.id, ingress=[], egress=[],
            tags={"Name": f"{name}-default-deny"}, opts=vpc_child,
        )  # fmt: skip

        self.subnets: dict[Tier, list[aws.ec2.Subnet]] = {
            tier: [self._subnet(spec) for spec in plan.tier(tier)] for tier in Tier
        }
        self.internet_gateway = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=self.vpc.id, tags={"Name": name}, opts=vpc_child
        )
        public_table = self._route_table("public", self.subnets[Tier.PUBLIC])
        aws.ec2.Route(
            f"{name}-public-default",
            route_table_id=public_table.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=self.internet_gateway.id,
            opts=pulumi.ResourceOptions(parent=public_table),
        )
        self.nat_gateways = self._nat_gateways(args.nat_gateways)
        private_tables = []
        #: The private subnets' route tables, by zone label: what a peering adds its routes to.
        self.private_route_tables: dict[str, aws.ec2.RouteTable] = {}
        for az, subnet in enumerate(self.subnets[Tier.PRIVATE]):
            table = self._route_table("private-{az}", [subnet], az)
            self.private_route_tables[self._az_id(az)] = table
            nat = self.nat_gateways[az % len(self.nat_gateways)]
            aws.ec2.Route(
                f"{name}-private-{self._az_id(az)}-default",
                route_table_id=table.id,
                destination_cidr_block="0.0.0.0/0",
                nat_gateway_id=nat.id,
                opts=pulumi.ResourceOptions(
                    parent=table, aliases=self._was(f"{name}-private-{self._letter(az)}-default")
                ),
            )
            private_tables.append(table)
        # Databases and caches: no default route of any kind, so no path to or from the internet.
        isolated_table = self._route_table("isolated", self.subnets[Tier.ISOLATED])

        # Output-form lookups: they do not block the program the way a synchronous invoke does.
        self._context = AwsContext.of(self)
        self._endpoints([*private_tables, isolated_table])
        self.flow_log_group = self._flow_logs(kms_key_arn)

        self.vpc_id = self.vpc.id
        self.public_subnet_ids = pulumi.Output.all(*[s.id for s in self.subnets[Tier.PUBLIC]])
        self.private_subnet_ids = pulumi.Output.all(*[s.id for s in self.subnets[Tier.PRIVATE]])
        self.isolated_subnet_ids = pulumi.Output.all(*[s.id for s in self.subnets[Tier.ISOLATED]])
        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "vpcCidr": args.cidr,
                "availabilityZones": self.availability_zones,
                "availabilityZoneIds": self.availability_zone_ids,
                "publicSubnetIds": self.public_subnet_ids,
                "privateSubnetIds": self.private_subnet_ids,
                "isolatedSubnetIds": self.isolated_subnet_ids,
                "flowLogGroupName": self.flow_log_group.name,
            }
        )

    @staticmethod
    def _zone_names(az_ids: Sequence[str], invoke: pulumi.InvokeOptions) -> list[str]:
        """This account's names of the AZs `az_ids`, in their order. The lookup filters on no
        state: an impaired or constrained AZ is still listed (during an AZ event a filter on
        `available` would drop it and fail the run), and a zone that appears changes nothing."""
        zones = aws.get_availability_zones(opts=invoke)
        # Names and ids come from one loop over the same zones (the provider sorts the zones by
        # name, then lists both), so the two lists pair up.
        names = dict(zip(zones.zone_ids, zones.names, strict=True))
        missing = [zone_id for zone_id in az_ids if zone_id not in names]
        if missing:
            raise NetworkError(
                f"{zones.id} has no AZ {', '.join(missing)} in this account (it has "
                f"{', '.join(sorted(names))}); list ids of {zones.id}'s AZs in azIds "
                f"(`aws ec2 describe-availability-zones --region {zones.id}`)",
                region=zones.id,
            )
        return [names[zone_id] for zone_id in az_ids]

    def _az_id(self, az_index: int) -> str:
        return self.availability_zone_ids[az_index]  # "use1-az1"

    def _letter(self, az_index: int) -> str:
        """What AZ *az_index*'s children were named after until 0.1.0: its name's last part."""
        return self.availability_zones[az_index].rsplit("-", 1)[-1]  # "us-east-1a" -> "1a"

    @staticmethod
    def _was(old_name: str) -> list[pulumi.Input[str | pulumi.Alias]]:
        # Named after the zone's letter until 0.1.0: the same resource, kept (no replacement).
        return [pulumi.Alias(name=old_name)]

    def _subnet(self, spec: SubnetSpec) -> aws.ec2.Subnet:
        label = f"{spec.tier.value}-{self._az_id(spec.az_index)}"
        # The Name tag keeps the zone's name: it is what the console shows beside the subnet, and
        # renaming it would update every subnet of every stack for nothing.
        tag = f"{self._prefix}-{spec.tier.value}-{self._letter(spec.az_index)}"
        return aws.ec2.Subnet(
            f"{self._prefix}-{label}",
            vpc_id=self.vpc.id,
            cidr_block=str(spec.cidr),
            availability_zone=self.availability_zones[spec.az_index],
            # Nothing gets a public address by accident; NAT gateways and LBs bring their own.
            map_public_ip_on_launch=False,
            tags={"Name": tag, "meridian/tier": spec.tier.value} | _ELB_ROLE_TAGS[spec.tier],
            opts=pulumi.ResourceOptions(parent=self.vpc, aliases=self._was(tag)),
        )

    def _route_table(
        self, label: str, subnets: Sequence[aws.ec2.Subnet], az_index: int | None = None
    ) -> aws.ec2.RouteTable:
        """A route table for `subnets`; `label` may hold `{az}`, the AZ's id in the name and its
        letter in the Name tag and the alias (see `_subnet`)."""
        name = f"{self._prefix}-{label}"
        tag = name
        aliases: list[pulumi.Input[str | pulumi.Alias]] = []
        if az_index is not None:
            name = f"{self._prefix}-{label.format(az=self._az_id(az_index))}"
            tag = f"{self._prefix}-{label.format(az=self._letter(az_index))}"
            aliases = self._was(tag)
        table = aws.ec2.RouteTable(
            name,
            vpc_id=self.vpc.id,
            tags={"Name": tag},
            opts=pulumi.ResourceOptions(parent=self.vpc, aliases=aliases),
        )
        for subnet in subnets:
            aws.ec2.RouteTableAssociation(
                f"{subnet.pulumi_resource_name}-rta",
                subnet_id=subnet.id,
                route_table_id=table.id,
                opts=pulumi.ResourceOptions(parent=table, aliases=self._was_association(subnet)),
            )
        return table

    def _was_association(self, subnet: aws.ec2.Subnet) -> list[pulumi.Input[str | pulumi.Alias]]:
        """The alias of a subnet's route-table association: the subnet's old name, plus -rta."""
        tier, _, az_id = subnet.pulumi_resource_name.removeprefix(f"{self._prefix}-").partition("-")
        az = self.availability_zone_ids.index(az_id)
        return self._was(f"{self._prefix}-{tier}-{self._letter(az)}-rta")

    def _nat_gateways(self, mode: NatGatewayMode) -> list[aws.ec2.NatGateway]:
        public = self.subnets[Tier.PUBLIC]
        hosts = public if mode is NatGatewayMode.ONE_PER_AZ else public[:1]
        gateways = []
        for az, subnet in enumerate(hosts):
            label, tag = f"nat-{self._az_id(az)}", f"{self._prefix}-nat-{self._letter(az)}"
            eip = aws.ec2.Eip(
                f"{self._prefix}-{label}-eip",
                domain="vpc",
                tags={"Name": tag},
                opts=pulumi.ResourceOptions(
                    parent=subnet, depends_on=[self.internet_gateway], aliases=self._was(f"{tag}-eip")
                ),
            )
            gateways.append(
                aws.ec2.NatGateway(
                    f"{self._prefix}-{label}",
                    subnet_id=subnet.id,
                    allocation_id=eip.id,
                    tags={"Name": tag},
                    opts=pulumi.ResourceOptions(parent=subnet, aliases=self._was(tag)),
                )
            )
        return gateways

    def _service_name(self, service: str) -> pulumi.Output[str]:
        """`com.amazonaws.<region>.<service>`; the prefix differs per partition (cn.com.amazonaws)."""
        context = self._context
        return pulumi.Output.format("{0}.{1}.{2}", context.reverse_dns_prefix, context.region, service)

    def _endpoints(self, tables: list[aws.ec2.RouteTable]) -> None:
        aws.ec2.VpcEndpoint(
            f"{self._prefix}-s3",
            vpc_id=self.vpc.id,
            service_name=self._service_name("s3"),
            vpc_endpoint_type="Gateway",
            route_table_ids=[t.id for t in tables],
            tags={"Name": f"{self._prefix}-s3"},
            opts=pulumi.ResourceOptions(parent=self.vpc),
        )
        self.interface_endpoints: dict[str, aws.ec2.VpcEndpoint] = {}
        if not self._args.interface_endpoints:
            return
        private = self.subnets[Tier.PRIVATE]
        shared = [s for s in self._args.interface_endpoints if s not in ENDPOINT_POLICIES]
        endpoint_sg: aws.ec2.SecurityGroup | None = None
        if shared:
            endpoint_sg = aws.ec2.SecurityGroup(
                f"{self._prefix}-endpoints",
                vpc_id=self.vpc.id,
                description="HTTPS from inside the VPC to AWS interface endpoints",
                ingress=[_https_from([self._args.cidr], "HTTPS from the VPC")],
                egress=[],  # endpoints answer; they never open connections
                tags={"Name": f"{self._prefix}-endpoints"},
                opts=pulumi.ResourceOptions(parent=self.vpc),
            )
        private_cidrs = [str(spec.cidr) for spec in self._args.subnet_plan().tier(Tier.PRIVATE)]
        for service in self._args.interface_endpoints:
            label = service.replace(".", "-")
            policy: pulumi.Output[str] | None = None
            if service in ENDPOINT_POLICIES:
                # A way out for the platform's data: only the private tier (the nodes and pods)
                # may reach it, and only into this account's resources.
                group = aws.ec2.SecurityGroup(
                    f"{self._prefix}-{label}-endpoint",
                    vpc_id=self.vpc.id,
                    description=f"HTTPS from the private subnets to the {service} endpoint",
                    ingress=[_https_from(private_cidrs, "HTTPS from the private subnets")],
                    egress=[],
                    tags={"Name": f"{self._prefix}-{service}-endpoint"},
                    opts=pulumi.ResourceOptions(parent=self.vpc),
                )
                policy = self._endpoint_policy(ENDPOINT_POLICIES[service])
            else:
                assert endpoint_sg is not None  # made above for every service without a policy
                group = endpoint_sg
            self.interface_endpoints[service] = aws.ec2.VpcEndpoint(
                f"{self._prefix}-{label}",
                vpc_id=self.vpc.id,
                service_name=self._service_name(service),
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=[s.id for s in private],
                security_group_ids=[group.id],
                policy=policy,
                tags={"Name": f"{self._prefix}-{service}"},
                opts=pulumi.ResourceOptions(parent=self.vpc),
            )

    def _endpoint_policy(self, make: Callable[[str, str, str], Document]) -> pulumi.Output[str]:
        """An endpoint's policy document (of partition, region and account), as JSON."""
        context = self._context
        return pulumi.Output.all(context.partition, context.region, context.account).apply(
            lambda v: json.dumps(make(v[0], v[1], v[2]))
        )

    def _flow_logs(self, kms_key_arn: pulumi.Input[str]) -> aws.cloudwatch.LogGroup:
        account = self._context.account
        log_group = encrypted_log_group(
            f"{self._prefix}-flow-logs",
            name=f"/meridian/{self._prefix}/vpc-flow-logs",
            kms_key_arn=kms_key_arn,
            retention_days=self._args.flow_log_retention_days,
            protect=self._args.protect,
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Confused-deputy guard: only this account's flow logs may assume the role.
        trust = account.apply(
            lambda account_id: json.dumps(
                service_trust("vpc-flow-logs.amazonaws.com", source_account=account_id)
            )
        )
        role, role_policy = inline_policy_role(
            f"{self._prefix}-flow-logs",
            description=f"VPC flow logs of {self._prefix} write to their log group",
            trust=trust,
            policy=log_group.arn.apply(flow_log_policy),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.ec2.FlowLog(
            f"{self._prefix}-flow-log",
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=log_group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            tags={"Name": f"{self._prefix}-flow-log"},
            # The service checks the role's permissions when the flow log is created.
            opts=pulumi.ResourceOptions(parent=self.vpc, depends_on=[role_policy]),
        )
        return log_group


def _https_from(cidrs: Sequence[str], description: str) -> aws.ec2.SecurityGroupIngressArgsDict:
    """An inline ingress rule: TCP 443 from `cidrs`."""
    return {
        "protocol": "tcp",
        "from_port": 443,
        "to_port": 443,
        "cidr_blocks": list(cidrs),
        "description": description,
    }


def admit_group(
    resource_name: str,
    group: aws.ec2.SecurityGroup,
    source_group_id: pulumi.Input[str],
    port: int,
    description: str,
) -> aws.vpc.SecurityGroupIngressRule:
    """Let `group` admit TCP on `port` from the members of `source_group_id` only (no address
    range), as a rule of its own under the group."""
    return aws.vpc.SecurityGroupIngressRule(
        resource_name,
        security_group_id=group.id,
        referenced_security_group_id=source_group_id,
        ip_protocol="tcp",
        from_port=port,
        to_port=port,
        description=description,
        opts=pulumi.ResourceOptions(parent=group),
    )
