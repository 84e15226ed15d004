"""What the program declares, read from the offline plan of each stack after it ran under mocks."""

from __future__ import annotations

import ipaddress
import itertools
import json

import pytest

from infra.config.component_args import postgres_args, redis_args, region_args
from infra.plan.mocks import MOCK_ACCOUNT_ID, RecordedResource
from infra.plan.run import Plan
from tests.support import (
    PROD_REGIONS,
    PROJECT_DIR,
    REGION_STACK,
    SUBNET,
    config_of,
    in_region,
    region_stack_of,
    subnets_by_tier,
)

VPC = "aws:ec2/vpc:Vpc"
ROUTE = "aws:ec2/route:Route"
ROUTE_TABLE_ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
IGW = "aws:ec2/internetGateway:InternetGateway"
NAT = "aws:ec2/natGateway:NatGateway"
CDN_EDGE = "meridian:cdn:CdnEdge"


def routes_of_subnet(plan: Plan, subnet: RecordedResource) -> list[RecordedResource]:
    tables = {
        a.inputs["routeTableId"]
        for a in plan.of_type(ROUTE_TABLE_ASSOCIATION)
        if a.inputs["subnetId"] == subnet.id
    }
    assert len(tables) == 1, f"{subnet.name} has {len(tables)} route tables"
    return [r for r in plan.of_type(ROUTE) if r.inputs["routeTableId"] in tables]


# --- regions ---------------------------------------------------------------------------------


def test_prod_declares_one_region_stack_per_region_with_its_role(prod_plan: Plan) -> None:
    regions = prod_plan.outputs["regions"]
    assert {name: out["role"] for name, out in regions.items()} == {
        name: role.value for name, role in PROD_REGIONS.items()
    }
    assert {r.name for r in prod_plan.of_type(REGION_STACK)} == set(PROD_REGIONS)


def ancestry(plan: Plan, resource: RecordedResource) -> list[tuple[str, str]]:
    """(type, name) from the top-level resource down to *resource*: what its URN is made of."""
    chain = []
    node: RecordedResource | None = resource
    while node is not None:
        chain.append((node.type, node.name))
        node = plan.by_urn.get(node.parent or "")
    return chain[::-1]


def test_urns_derive_from_region_names_not_positions(stack_plan: Plan) -> None:
    # Reordering regions in the stack file must not rename (and so replace) anything: every name
    # on the way from the stack to a resource comes from the region's name.
    for region in config_of(stack_plan).regions:
        prefix = f"meridian-{stack_plan.stack}-{region.name}"
        (vpc,) = [v for v in stack_plan.of_type(VPC) if stack_plan.regions[v.urn] == region.name]
        assert ancestry(stack_plan, vpc) == [
            (REGION_STACK, region.name),
            ("meridian:network:Network", prefix),
            (VPC, f"{prefix}-vpc"),
        ]


def test_every_resource_sits_under_its_region_stack_or_the_global_edge(stack_plan: Plan) -> None:
    (edge,) = stack_plan.of_type(CDN_EDGE)
    global_resources = {edge.urn, *(r.urn for r in stack_plan.descendants(edge.urn))}
    # The Cloudflare provider that reads the published ranges is the edge's too, declared before
    # it because every region's NLB needs the list.
    global_resources |= {
        p.urn for p in stack_plan.of_type("pulumi:providers:cloudflare") if p.name.endswith("-edge-ranges")
    }
    assert {r.type.split(":")[0] for r in stack_plan.descendants(edge.urn)} == {"cloudflare", "tls", "pulumi"}
    for resource in stack_plan.resources:
        if resource.type == REGION_STACK or resource.urn in global_resources:
            continue
        owner = region_stack_of(stack_plan, resource)
        assert owner is not None, f"{resource.urn} is not parented under a RegionStack"
        if resource.custom:
            assert stack_plan.regions[resource.urn] == owner.name, resource.urn


# --- every AWS resource pinned ---------------------------------------------------------------


def test_every_aws_resource_uses_an_explicit_region_provider(stack_plan: Plan) -> None:
    aws_resources = [r for r in stack_plan.custom_resources if r.type.startswith("aws:")]
    assert len(aws_resources) > 50
    for resource in aws_resources:
        assert resource.provider, f"{resource.urn} would use the default provider"
        provider = stack_plan.by_urn[resource.provider]
        assert provider.type == "pulumi:providers:aws"
        assert not provider.urn.endswith("::default"), f"{resource.urn} uses a default provider"
        owner = region_stack_of(stack_plan, resource)
        assert provider.inputs["region"] == owner.name, resource.urn


def test_region_providers_carry_the_required_default_tags(stack_plan: Plan) -> None:
    config = config_of(stack_plan)
    providers = stack_plan.of_type("pulumi:providers:aws")
    assert {p.inputs["region"] for p in providers} == {r.name for r in config.regions}
    for provider in providers:
        tags = json.loads(provider.inputs["defaultTags"])["tags"]
        assert tags == config.aws_tags(stack_plan.stack)
        assert {"environment", "owner", "cost-center"} <= set(tags)


# --- network ---------------------------------------------------------------------------------


def test_subnets_spread_one_per_az_per_tier(stack_plan: Plan) -> None:
    for region in config_of(stack_plan).regions:
        tiers = subnets_by_tier(stack_plan, region.name)
        assert set(tiers) == {"public", "private", "isolated"}
        for tier, subnets in tiers.items():
            zones = [s.inputs["availabilityZone"] for s in subnets]
            assert len(zones) == region.az_count, (region.name, tier)
            assert len(set(zones)) == region.az_count, (region.name, tier, zones)
            assert all(z.startswith(region.name) for z in zones)


def test_no_subnet_cidrs_overlap_anywhere_in_the_stack(stack_plan: Plan) -> None:
    subnets = [ipaddress.ip_network(s.inputs["cidrBlock"]) for s in stack_plan.of_type(SUBNET)]
    assert len(subnets) == sum(3 * r.az_count for r in config_of(stack_plan).regions)
    for a, b in itertools.combinations(subnets, 2):
        assert not a.overlaps(b), (a, b)


def test_subnets_lie_inside_their_vpc(stack_plan: Plan) -> None:
    vpcs = {v.id: ipaddress.ip_network(v.inputs["cidrBlock"]) for v in stack_plan.of_type(VPC)}
    for subnet in stack_plan.of_type(SUBNET):
        assert ipaddress.ip_network(subnet.inputs["cidrBlock"]).subnet_of(vpcs[subnet.inputs["vpcId"]])
        assert subnet.inputs["mapPublicIpOnLaunch"] is False


def test_private_and_isolated_subnets_have_no_route_to_an_internet_gateway(
    stack_plan: Plan,
) -> None:
    gateways = {g.id for g in stack_plan.of_type(IGW)}
    assert gateways
    for region in config_of(stack_plan).regions:
        tiers = subnets_by_tier(stack_plan, region.name)
        for subnet in tiers["private"] + tiers["isolated"]:
            for route in routes_of_subnet(stack_plan, subnet):
                assert route.inputs.get("gatewayId") not in gateways, subnet.name
        for subnet in tiers["isolated"]:
            assert routes_of_subnet(stack_plan, subnet) == [], f"{subnet.name} has a route out"
        for subnet in tiers["public"]:
            targets = {r.inputs.get("gatewayId") for r in routes_of_subnet(stack_plan, subnet)}
            assert targets & gateways, f"{subnet.name} cannot reach the internet gateway"


def test_private_subnets_leave_through_a_nat_gateway_in_their_own_az_in_prod(
    prod_plan: Plan,
) -> None:
    nat_zone = {}
    subnets = {s.id: s for s in prod_plan.of_type(SUBNET)}
    for nat in prod_plan.of_type(NAT):
        nat_zone[nat.id] = subnets[nat.inputs["subnetId"]].inputs["availabilityZone"]
    az_counts = {r.name: r.az_count for r in config_of(prod_plan).regions}
    for region in PROD_REGIONS:
        assert sum(prod_plan.regions[n.urn] == region for n in prod_plan.of_type(NAT)) == az_counts[region]
        for subnet in subnets_by_tier(prod_plan, region)["private"]:
            # Beside the default route: the peering with the deploy hub (tests/infra/test_deploy_path.py).
            (route,) = [
                r for r in routes_of_subnet(prod_plan, subnet) if "vpcPeeringConnectionId" not in r.inputs
            ]
            assert route.inputs["destinationCidrBlock"] == "0.0.0.0/0"
            assert nat_zone[route.inputs["natGatewayId"]] == subnet.inputs["availabilityZone"]


def test_staging_has_one_nat_gateway_per_region() -> None:
    from tests.support import plan_of

    staging = plan_of("staging")
    assert len(staging.of_type(NAT)) == len(config_of(staging).regions)


def test_every_vpc_has_flow_logs_of_all_traffic_to_an_encrypted_log_group(stack_plan: Plan) -> None:
    config = config_of(stack_plan)
    groups = {g.inputs["name"]: g for g in stack_plan.of_type("aws:cloudwatch/logGroup:LogGroup")}
    flow_logs = {f.inputs["vpcId"]: f for f in stack_plan.of_type("aws:ec2/flowLog:FlowLog")}
    keys = {k.urn: k for k in stack_plan.of_type("aws:kms/key:Key")}
    for vpc in stack_plan.of_type(VPC):
        flow_log = flow_logs.get(vpc.id)
        assert flow_log is not None, f"{vpc.name} has no flow log"
        assert flow_log.inputs["trafficType"] == "ALL"
        assert flow_log.inputs["logDestinationType"] == "cloud-watch-logs"
        group_name = flow_log.inputs["logDestination"].split(":log-group:")[1]
        group = groups[group_name]
        assert group.inputs["retentionInDays"] == config.network.flow_log_retention_days
        region = stack_plan.regions[vpc.urn]
        assert group.inputs["kmsKeyId"].startswith(f"arn:aws:kms:{region}:")
        assert any(stack_plan.regions[k] == region for k in keys)


def test_flow_logs_wait_for_their_role_policy(stack_plan: Plan) -> None:
    policies = {p.urn for p in stack_plan.of_type("aws:iam/rolePolicy:RolePolicy")}
    for flow_log in stack_plan.of_type("aws:ec2/flowLog:FlowLog"):
        assert policies & set(flow_log.dependencies), f"{flow_log.name} may start before its role can write"


def test_subnets_avoid_azs_that_eks_does_not_support(stack_plan: Plan) -> None:
    # In the mock account us-east-1c is use1-az3, which EKS cannot use.
    zones = {s.inputs["availabilityZone"] for s in stack_plan.of_type("aws:ec2/subnet:Subnet")}
    assert "us-east-1c" not in zones
    if stack_plan.stack == "prod":  # three AZs: the next one in line stands in for 1c
        assert {"us-east-1a", "us-east-1b", "us-east-1d"} <= zones


def test_flow_log_role_is_scoped_to_its_log_group(stack_plan: Plan) -> None:
    policies = [
        p for p in stack_plan.of_type("aws:iam/rolePolicy:RolePolicy") if p.name.endswith("-flow-logs")
    ]
    assert len(policies) == len(config_of(stack_plan).regions)
    for policy in policies:
        region = stack_plan.regions[policy.urn]
        account_region = f"arn:aws:logs:{region}:{MOCK_ACCOUNT_ID}:log-group:"
        statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
        write = statements.pop("WriteOwnLogGroup")
        assert set(write["Action"]) == {
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "logs:DescribeLogStreams",
        }
        group = write["Resource"][0]
        assert group.startswith(f"{account_region}/meridian/") and "*" not in group
        assert write["Resource"] == [group, f"{group}:*"]
        (describe,) = statements.values()  # nothing else is granted
        assert describe["Action"] == ["logs:DescribeLogGroups"]
        assert describe["Resource"] == [f"{account_region}*"]


def test_every_kms_key_rotates_and_stateful_resources_are_protected_in_prod(
    stack_plan: Plan,
) -> None:
    prod = stack_plan.stack == "prod"
    keys = stack_plan.of_type("aws:kms/key:Key")
    assert len(keys) == len(config_of(stack_plan).regions) + 1  # and the audit trail's own key
    for key in keys:
        assert key.inputs["enableKeyRotation"] is True
        assert key.protect is prod
        policy = json.loads(key.inputs["policy"])
        logs = next(s for s in policy["Statement"] if s["Sid"].startswith("CloudWatchLogs"))
        assert logs["Principal"]["Service"] == f"logs.{stack_plan.regions[key.urn]}.amazonaws.com"
    for group in stack_plan.of_type("aws:cloudwatch/logGroup:LogGroup"):
        assert group.protect is prod
        assert group.inputs["deletionProtectionEnabled"] is prod


def test_endpoints_keep_node_traffic_to_aws_inside_the_vpc(stack_plan: Plan) -> None:
    endpoints = stack_plan.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
    for vpc in stack_plan.of_type(VPC):
        region = stack_plan.regions[vpc.urn]
        mine = {e.inputs["serviceName"]: e for e in endpoints if e.inputs["vpcId"] == vpc.id}
        assert set(mine) == {
            f"com.amazonaws.{region}.{s}"
            for s in ("s3", "ecr.api", "ecr.dkr", "sts", "kinesis-firehose", "secretsmanager")
        }
        s3 = mine[f"com.amazonaws.{region}.s3"]
        assert s3.inputs["vpcEndpointType"] == "Gateway"
        tiers = subnets_by_tier(stack_plan, region)
        associated_tables = {
            a.inputs["routeTableId"]
            for a in stack_plan.of_type(ROUTE_TABLE_ASSOCIATION)
            if a.inputs["subnetId"] in {s.id for s in tiers["private"] + tiers["isolated"]}
        }
        assert set(s3.inputs["routeTableIds"]) == associated_tables
        for name, endpoint in mine.items():
            if endpoint is not s3:
                assert endpoint.inputs["privateDnsEnabled"] is True, name
                assert set(endpoint.inputs["subnetIds"]) == {s.id for s in tiers["private"]}


def test_the_api_reads_its_store_credentials_through_this_accounts_endpoint(stack_plan: Plan) -> None:
    # The API's pods have no way out of the VPC but the interface endpoints: Secrets Manager's
    # carries the Redis stores' credentials, and only this account's callers and secrets pass.
    for vpc in stack_plan.of_type(VPC):
        region = stack_plan.regions[vpc.urn]
        (endpoint,) = [
            e
            for e in stack_plan.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
            if e.inputs["serviceName"] == f"com.amazonaws.{region}.secretsmanager"
        ]
        scoped, unscoped = json.loads(endpoint.inputs["policy"])["Statement"]
        assert scoped["Action"] == ["secretsmanager:*"]
        assert scoped["Resource"] == f"arn:aws:secretsmanager:{region}:{MOCK_ACCOUNT_ID}:secret:*"
        assert unscoped["Resource"] == "*"
        assert all(not a.startswith("secretsmanager:Put") for a in unscoped["Action"])
        for statement in (scoped, unscoped):
            assert statement["Condition"] == {"StringEquals": {"aws:PrincipalAccount": MOCK_ACCOUNT_ID}}
        (policy,) = [
            p
            for p in in_region(stack_plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy", region)
            if p.inputs["metadata"]["name"] == "allow-interface-endpoints"
        ]
        (rule,) = policy.inputs["spec"]["egress"]
        assert rule["ports"] == [{"protocol": "TCP", "port": 443}]
        private = [s.inputs["cidrBlock"] for s in subnets_by_tier(stack_plan, region)["private"]]
        assert sorted(p["ipBlock"]["cidr"] for p in rule["to"]) == sorted(private)


def test_security_groups_open_nothing_to_the_world(stack_plan: Plan) -> None:
    for group in stack_plan.of_type("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"):
        assert group.inputs.get("ingress", []) == [] and group.inputs.get("egress", []) == []
    vpc_cidrs = {v.id: v.inputs["cidrBlock"] for v in stack_plan.of_type(VPC)}
    for group in stack_plan.of_type("aws:ec2/securityGroup:SecurityGroup"):
        # The data endpoints' groups admit the private subnets only, the others the VPC.
        region = stack_plan.regions[group.urn] or ""
        private = [s.inputs["cidrBlock"] for s in subnets_by_tier(stack_plan, region)["private"]]
        expected = (
            private
            if group.name.endswith(("-kinesis-firehose-endpoint", "-secretsmanager-endpoint"))
            else [vpc_cidrs[group.inputs["vpcId"]]]
        )
        for rule in group.inputs.get("ingress", []):
            assert sorted(rule["cidrBlocks"]) == sorted(expected), group.name
            assert (rule["fromPort"], rule["toPort"]) == (443, 443)


def test_subnets_carry_the_load_balancer_role_tags(stack_plan: Plan) -> None:
    expected = {
        "public": "kubernetes.io/role/elb",
        "private": "kubernetes.io/role/internal-elb",
    }
    for subnet in stack_plan.of_type(SUBNET):
        tags = subnet.inputs["tags"]
        tier = tags["meridian/tier"]
        assert {k for k in tags if k.startswith("kubernetes.io/role/")} == (
            {expected[tier]} if tier in expected else set()
        )


def test_stack_exports_what_later_components_consume(stack_plan: Plan) -> None:
    config = config_of(stack_plan)
    assert stack_plan.outputs["writeHome"] == config.write_home
    for region in config.regions:
        out = stack_plan.outputs["regions"][region.name]
        assert out["vpcId"].startswith("vpc-")
        assert out["vpcCidr"] == region.cidr
        assert out["kmsKeyArn"].startswith(f"arn:aws:kms:{region.name}:")
        for tier in ("public", "private", "isolated"):
            ids = out[f"{tier}SubnetIds"]
            assert len(ids) == region.az_count and all(i.startswith("subnet-") for i in ids)


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_plan_counts(stack: str) -> None:
    from tests.support import plan_of

    plan = plan_of(stack)
    config = config_of(plan)
    azs = sum(r.az_count for r in config.regions)
    counts = plan.counts_by_type()
    assert counts[SUBNET] == 3 * azs
    assert counts[VPC] == counts["aws:ec2/flowLog:FlowLog"] == len(config.regions)


@pytest.mark.parametrize("store", ["postgres", "redis"])
def test_a_store_attached_after_the_alarms_is_refused(store: str) -> None:
    """The alarms watch what the region holds when they are attached; a store attached after them
    would run unwatched, so the region refuses it instead of leaving it out silently."""
    from components import RegionStack
    from infra.config.loading import load_stack_file
    from infra.plan.run import run_program

    config = load_stack_file(PROJECT_DIR / "Pulumi.staging.yaml")
    home = config.write_home

    def main() -> None:
        args = next(a for a in region_args(config, "staging") if a.region == home)
        region = RegionStack(home, args, origin_sources=["192.0.2.0/24"])
        region.attach_alarms(config.observability.thresholds, config.observability.alarm_subscriptions)
        if store == "postgres":
            region.attach_postgres(postgres_args(config, "staging")[home])
        else:
            region.attach_redis(next(iter(redis_args(config, "staging").values()))[home])

    with pytest.raises(ValueError, match=r"after attach_alarms; attach every data store first"):
        run_program(main, project="meridian", stack="staging")


#: Services whose role trusts carry no `aws:SourceAccount`, each for a reason: the key is added only
#: where the service documents it, since a service that does not send it can no longer assume the
#: role. A new trust of any other service without the key fails below.
WITHOUT_SOURCE_ACCOUNT = {
    # Instance profiles of the nodes: EC2 assumes them for the instance, with no source context.
    "ec2.amazonaws.com": "an instance profile's role",
    # EKS documents its cluster role's trust without a condition.
    "eks.amazonaws.com": "the cluster role",
    # CloudTrail's delivery role to CloudWatch Logs: its documented trust has none.
    "cloudtrail.amazonaws.com": "CloudTrail's log delivery role",
    # AWS Backup documents the source keys for resource policies (a vault's SNS topic, the
    # backup-storage key policy), not for the role its jobs assume; roles are passed (iam:PassRole)
    # within this account only.
    "backup.amazonaws.com": "the backup job role",
}


def test_every_service_trust_is_limited_to_this_account(stack_plan: Plan) -> None:
    seen: set[str] = set()
    for role in stack_plan.of_type("aws:iam/role:Role"):
        for statement in json.loads(role.inputs["assumeRolePolicy"])["Statement"]:
            service = statement["Principal"].get("Service")
            if service is None:
                continue
            seen.add(service)
            condition = statement.get("Condition", {}).get("StringEquals", {})
            if service == "firehose.amazonaws.com":  # Firehose documents its external id instead
                assert condition == {"sts:ExternalId": MOCK_ACCOUNT_ID}, role.name
            elif service not in WITHOUT_SOURCE_ACCOUNT:
                assert condition.get("aws:SourceAccount") == MOCK_ACCOUNT_ID, f"{role.name} ({service})"
    # The RDS Proxy's role is among those checked, in both stacks.
    assert "rds.amazonaws.com" in seen
