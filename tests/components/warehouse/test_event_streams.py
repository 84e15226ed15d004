"""The event path in both stacks' plans: every region's API puts its events into a Firehose stream of
its own region, through its VPC's Firehose interface endpoint, and every stream delivers into the
anchor's lake. No NetworkPolicy of the API opens anything beyond the VPC to get there."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from components.eks.app_envelope import DESTINATION_ANNOTATION, POD_IDENTITY_AGENT
from components.network.subnets import Tier, plan_subnets
from infra.plan.mocks import MOCK_ACCOUNT_ID, RecordedResource
from infra.plan.run import Plan
from tests.support import config_of, in_region, only

STREAM = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
ASSOCIATION = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
KEY = "aws:kms/key:Key"
VPC = "aws:ec2/vpc:Vpc"
POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"


def _private_cidrs(plan: Plan, region: str) -> list[str]:
    (entry,) = [r for r in config_of(plan).regions if r.name == region]
    return [str(s.cidr) for s in plan_subnets(entry.cidr, entry.az_count).tier(Tier.PRIVATE)]


def _keys_behind(plan: Plan, resource: RecordedResource, prop: str) -> list[str]:
    """(region, name) of the KMS keys an input of `resource` came from."""
    keys = [plan.by_urn[urn] for urn in resource.property_dependencies[prop] if plan.by_urn[urn].type == KEY]
    return [f"{plan.regions[k.urn]}/{k.name}" for k in keys]


def _firehose_endpoint(plan: Plan, region: str) -> RecordedResource:
    (endpoint,) = [
        e
        for e in in_region(plan, ENDPOINT, region)
        if e.inputs["serviceName"] == f"com.amazonaws.{region}.kinesis-firehose"
    ]
    return endpoint


def _producer_role(plan: Plan, region: str) -> tuple[RecordedResource, dict[str, Any]]:
    """The role the region's `events-producer` pods assume, and its one inline policy."""
    (association,) = [
        a for a in in_region(plan, ASSOCIATION, region) if a.inputs["serviceAccount"] == "events-producer"
    ]
    (role,) = [plan.by_urn[urn] for urn in association.property_dependencies["roleArn"]]
    (policy,) = [p for p in plan.of_type(ROLE_POLICY) if p.parent == role.urn]
    return role, json.loads(policy.inputs["policy"])


def test_every_region_has_its_own_stream_into_the_anchors_lake(stack_plan: Plan) -> None:
    config = config_of(stack_plan)
    anchor = config.anchor_region
    lakes = set()
    for region in (r.name for r in config.regions):
        stream = only(stack_plan, STREAM, region)
        s3 = stream.inputs["extendedS3Configuration"]
        lakes.add(s3["bucketArn"])
        # At rest in Firehose: its own region's key; the lake's objects: the lake's (the anchor's).
        prefix = f"meridian-{stack_plan.stack}"
        assert _keys_behind(stack_plan, stream, "serverSideEncryption") == [f"{region}/{prefix}-{region}-key"]
        assert _keys_behind(stack_plan, stream, "extendedS3Configuration") == [
            f"{anchor}/{prefix}-{anchor}-key"
        ]
        # Firehose's role writes the lake and uses its key through S3 in the lake's region.
        (role,) = [
            stack_plan.by_urn[urn]
            for urn in stream.property_dependencies["extendedS3Configuration"]
            if stack_plan.by_urn[urn].type == ROLE
        ]
        (policy,) = [p for p in stack_plan.of_type(ROLE_POLICY) if p.parent == role.urn]
        statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
        assert statements["DeliverToTheLake"]["Resource"][0] == s3["bucketArn"]
        assert statements["EncryptThroughS3"]["Resource"] == s3["kmsKeyArn"]
        assert statements["EncryptThroughS3"]["Condition"]["StringEquals"] == {
            "kms:ViaService": f"s3.{anchor}.amazonaws.com"
        }
        assert statements["LogDeliveryErrors"]["Resource"].startswith(f"arn:aws:logs:{region}:")
    (lake,) = lakes
    assert lake.removeprefix("arn:aws:s3:::").startswith(f"meridian-{stack_plan.stack}-lake-")


def test_every_region_reaches_firehose_through_its_own_endpoint_from_the_private_subnets(
    stack_plan: Plan,
) -> None:
    for region in (r.name for r in config_of(stack_plan).regions):
        endpoint = _firehose_endpoint(stack_plan, region)
        assert endpoint.inputs["vpcEndpointType"] == "Interface"
        assert endpoint.inputs["privateDnsEnabled"] is True
        (vpc,) = in_region(stack_plan, VPC, region)
        assert endpoint.inputs["vpcId"] == vpc.id
        (group_id,) = endpoint.inputs["securityGroupIds"]
        (group,) = [g for g in stack_plan.of_type(SECURITY_GROUP) if g.id == group_id]
        (rule,) = group.inputs["ingress"]
        assert (rule["protocol"], rule["fromPort"], rule["toPort"]) == ("tcp", 443, 443)
        assert rule["cidrBlocks"] == _private_cidrs(stack_plan, region)
        assert group.inputs["egress"] == []
        # This account's callers, this account's streams of the region: the deploy runner's
        # `pulumi up` goes through it too (private DNS), so every action, on nothing foreign.
        scoped, unscoped = json.loads(endpoint.inputs["policy"])["Statement"]
        assert scoped["Action"] == ["firehose:*"]
        assert scoped["Resource"] == f"arn:aws:firehose:{region}:{MOCK_ACCOUNT_ID}:deliverystream/*"
        assert (unscoped["Action"], unscoped["Resource"]) == (["firehose:ListDeliveryStreams"], "*")
        for statement in (scoped, unscoped):
            assert statement["Condition"] == {"StringEquals": {"aws:PrincipalAccount": MOCK_ACCOUNT_ID}}


def test_each_regions_producer_role_puts_into_its_own_stream_through_its_endpoint_only(
    stack_plan: Plan,
) -> None:
    config = config_of(stack_plan)
    roles = set()
    for region in (r.name for r in config.regions):
        role, policy = _producer_role(stack_plan, region)
        roles.add(role.urn)
        (statement,) = policy["Statement"]
        stream = only(stack_plan, STREAM, region)
        assert statement["Action"] == ["firehose:PutRecord", "firehose:PutRecordBatch"]
        assert statement["Resource"] == (
            f"arn:aws:firehose:{region}:{MOCK_ACCOUNT_ID}:deliverystream/{stream.inputs['name']}"
        )
        assert statement["Condition"] == {
            "StringEquals": {"aws:SourceVpce": _firehose_endpoint(stack_plan, region).id}
        }
        (trust,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        clusters = trust["Condition"]["ArnLike"]["aws:SourceArn"]
        # The anchor's is the home stream's role (any region's cluster may be associated with
        # it; its policy still puts only through the anchor's endpoint); the others, their region's.
        expected = "*" if region == config.anchor_region else region
        assert clusters == f"arn:aws:eks:{expected}:{MOCK_ACCOUNT_ID}:cluster/meridian-{stack_plan.stack}-*"
    assert len(roles) == len(config.regions)


def test_each_regions_pods_are_told_their_own_regions_stream(stack_plan: Plan) -> None:
    for region in (r.name for r in config_of(stack_plan).regions):
        (events,) = [
            c
            for c in in_region(stack_plan, CONFIG_MAP, region)
            if c.inputs["metadata"]["name"] == "meridian-events"
        ]
        assert events.inputs["metadata"]["namespace"] == config_of(stack_plan).eks.app.namespace
        stream = only(stack_plan, STREAM, region)
        assert events.inputs["data"] == {
            "EVENTS_STREAM_NAME": stream.inputs["name"],
            "EVENTS_STREAM_REGION": region,
        }


def test_the_apis_egress_policies_name_their_destinations_and_stay_inside_the_vpc(stack_plan: Plan) -> None:
    config = config_of(stack_plan)
    for entry in config.regions:
        vpc = ipaddress.ip_network(entry.cidr)
        policies = {p.inputs["metadata"]["name"]: p for p in in_region(stack_plan, POLICY, entry.name)}
        egress = {name: p for name, p in policies.items() if "Egress" in p.inputs["spec"]["policyTypes"]}
        assert "allow-events-https" not in policies
        for name, policy in egress.items():
            assert name == "default-deny" or name.startswith("allow-"), name
            assert policy.inputs["metadata"]["annotations"][DESTINATION_ANNOTATION], name
            for rule in policy.inputs["spec"].get("egress", []):
                for peer in rule["to"]:
                    if "ipBlock" not in peer:
                        continue
                    block = peer["ipBlock"]
                    assert "except" not in block, name
                    cidr = ipaddress.ip_network(block["cidr"])
                    assert cidr.subnet_of(vpc) or block["cidr"] == POD_IDENTITY_AGENT, (name, cidr)  # type: ignore[arg-type]
        endpoints = egress["allow-interface-endpoints"].inputs["spec"]
        (rule,) = endpoints["egress"]
        assert rule["ports"] == [{"protocol": "TCP", "port": 443}]
        assert [p["ipBlock"]["cidr"] for p in rule["to"]] == _private_cidrs(stack_plan, entry.name)
        assert (
            "Firehose"
            in egress["allow-interface-endpoints"].inputs["metadata"]["annotations"][DESTINATION_ANNOTATION]
        )
