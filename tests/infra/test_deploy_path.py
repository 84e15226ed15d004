"""A deploy path that works from zero, read off both stacks' plans and their config rules.

The runner (a CodeBuild-hosted GitHub Actions runner) sits in the anchor region's private subnets.
For `pulumi up` to reach every cluster's private API endpoint, followed hop by hop:

1. every cluster's security group (the one EKS gives the control plane) admits the anchor's
   private subnets on 443, and nothing else is added;
2. every other region's VPC is peered with the anchor's: requested there, accepted here, with
   routes both ways between the private subnets, over that connection;
3. each cluster's Kubernetes provider waits for its rules and its peering, so the first `pulumi up`
   applies nothing in a cluster before it is reachable.

A public endpoint is a bootstrap window only: the config refuses one without a last day, past it,
or more than a week ahead.
"""

from __future__ import annotations

import ipaddress
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from components.deploy.policies import runner_policy
from components.network.subnets import Tier
from infra.config.rules import MAX_PUBLIC_ENDPOINT_DAYS
from infra.plan.mocks import RecordedResource, _hex
from infra.plan.run import Plan
from tests.support import assert_issue, config_of, in_region, plan_of, rejected

EKS = "aws:eks/cluster:Cluster"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
PEERING = "aws:ec2/vpcPeeringConnection:VpcPeeringConnection"
ACCEPTER = "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter"
ROUTE = "aws:ec2/route:Route"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
VPC = "aws:ec2/vpc:Vpc"
K8S_PROVIDER = "pulumi:providers:kubernetes"
PROJECT = "aws:codebuild/project:Project"
WEBHOOK = "aws:codebuild/webhook:Webhook"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"

STACKS = ["prod", "staging"]


def _runner_subnets(plan: Plan) -> list[str]:
    """The anchor's private subnets, from its subnet plan (where the runner runs)."""
    from infra.config.component_args import region_args

    config = config_of(plan)
    (anchor,) = [a for a in region_args(config, plan.stack) if a.region == config.anchor_region]
    return [str(spec.cidr) for spec in anchor.network.subnet_plan().tier(Tier.PRIVATE)]


def _private_tables(plan: Plan, region: str) -> dict[str, RecordedResource]:
    return {t.id or "": t for t in in_region(plan, ROUTE_TABLE, region) if "-private-" in t.name}


def _cidr(plan: Plan, region: str) -> str:
    return next(r.cidr for r in config_of(plan).regions if r.name == region)


@pytest.mark.parametrize("stack", STACKS)
def test_every_cluster_admits_the_runners_subnets_on_443_only(stack: str) -> None:
    plan = plan_of(stack)
    runner = _runner_subnets(plan)
    assert runner and all(
        ipaddress.ip_network(c).subnet_of(ipaddress.ip_network(_cidr(plan, config_of(plan).anchor_region)))
        for c in runner
    )
    for region in (r.name for r in config_of(plan).regions):
        (cluster,) = in_region(plan, EKS, region)
        rules = [r for r in in_region(plan, INGRESS, region) if r.parent == cluster.urn]
        assert sorted(r.inputs["cidrIpv4"] for r in rules) == sorted(runner), region
        for rule in rules:
            assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"]) == (
                "tcp",
                443,
                443,
            )
            # The group EKS made for the control plane (the mocks name it after the cluster).
            assert rule.inputs["securityGroupId"] == f"sg-{_hex(cluster.inputs['name'] + '/cluster-sg')}"
        assert cluster.inputs["vpcConfig"]["endpointPublicAccess"] is False, region


@pytest.mark.parametrize("stack", STACKS)
def test_every_other_region_is_peered_with_the_anchor_and_routed_both_ways(stack: str) -> None:
    plan = plan_of(stack)
    config = config_of(plan)
    anchor = config.anchor_region
    (anchor_vpc,) = in_region(plan, VPC, anchor)
    others = [r.name for r in config.regions if r.name != anchor]
    requests = {p.inputs["peerRegion"]: p for p in in_region(plan, PEERING, anchor)}
    assert set(requests) == set(others)  # requested in the anchor region, one per other region
    assert plan.of_type(PEERING) == list(requests.values())  # and nowhere else: no spoke-to-spoke
    for region in others:
        connection = requests[region]
        (vpc,) = in_region(plan, VPC, region)
        assert connection.inputs["vpcId"] == anchor_vpc.id and connection.inputs["peerVpcId"] == vpc.id
        (accepted,) = in_region(plan, ACCEPTER, region)
        assert accepted.inputs["vpcPeeringConnectionId"] == connection.id and accepted.inputs["autoAccept"]
        over = [r for r in plan.of_type(ROUTE) if r.inputs.get("vpcPeeringConnectionId") == connection.id]
        to_region = {
            r.inputs["routeTableId"] for r in over if r.inputs["destinationCidrBlock"] == _cidr(plan, region)
        }
        back = {
            r.inputs["routeTableId"] for r in over if r.inputs["destinationCidrBlock"] == _cidr(plan, anchor)
        }
        assert to_region == set(_private_tables(plan, anchor)), region  # the runner's subnets, out
        assert back == set(_private_tables(plan, region)), region  # the replies, from the cluster's
        assert len(over) == len(to_region) + len(back)
        # Routes wait for the acceptance (a route over a pending connection is refused).
        assert all(accepted.urn in r.dependencies for r in over)


@pytest.mark.parametrize("stack", STACKS)
def test_each_clusters_provider_waits_until_the_runner_can_reach_it(stack: str) -> None:
    plan = plan_of(stack)
    config = config_of(plan)
    for region in (r.name for r in config.regions):
        (provider,) = [p for p in plan.of_type(K8S_PROVIDER) if plan.regions.get(p.urn) == region] or [
            p for p in plan.of_type(K8S_PROVIDER) if f"-{region}-" in p.name
        ]
        (cluster,) = in_region(plan, EKS, region)
        rules = [r.urn for r in in_region(plan, INGRESS, region) if r.parent == cluster.urn]
        assert rules and set(rules) <= set(provider.dependencies), region
        if region != config.anchor_region:
            (accepted,) = in_region(plan, ACCEPTER, region)
            routes = [
                r.urn
                for r in plan.of_type(ROUTE)
                if r.inputs.get("vpcPeeringConnectionId")
                and accepted.urn in r.dependencies
                and f"-{region}-deploy-peering" in r.name
            ]
            assert accepted.urn in provider.dependencies, region
            assert routes and set(routes) <= set(provider.dependencies), region


@pytest.mark.parametrize("stack", STACKS)
def test_the_runner_is_a_codebuild_project_in_the_anchors_private_subnets(stack: str) -> None:
    plan = plan_of(stack)
    config = config_of(plan)
    (project,) = plan.of_type(PROJECT)
    assert plan.regions[project.urn] == config.anchor_region
    assert project.inputs["name"] == f"meridian-{stack}-deploy"
    private = [s.id for s in in_region(plan, "aws:ec2/subnet:Subnet", config.anchor_region)
               if s.inputs["tags"]["meridian/tier"] == "private"]  # fmt: skip
    assert sorted(project.inputs["vpcConfig"]["subnets"]) == sorted(private)
    assert project.inputs["source"]["auth"] == {
        "type": "CODECONNECTIONS",
        "resource": config.deploy.runner.connection_arn,
    }
    (webhook,) = plan.of_type(WEBHOOK)
    assert webhook.inputs["filterGroups"] == [
        {
            "filters": [
                {"type": "EVENT", "pattern": "WORKFLOW_JOB_QUEUED"},
                {"type": "WORKFLOW_NAME", "pattern": "^(ci|deploy|preview)$"},
            ]
        }
    ]
    (role,) = [r for r in plan.of_type(ROLE) if r.name.endswith("-deploy-runner")]
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "codebuild.amazonaws.com"}
    assert set(trust["Condition"]["StringEquals"]) == {"aws:SourceAccount", "aws:SourceArn"}
    assert trust["Condition"]["StringEquals"]["aws:SourceArn"].endswith(f":project/meridian-{stack}-deploy")


def test_the_runners_role_can_deploy_nothing() -> None:
    """Its own policy: logs, network interfaces in its subnets (for CodeBuild only), the connection.
    What a job deploys comes from the OIDC role it assumes."""
    connection = "arn:aws:codeconnections:us-east-1:123456789012:connection/abc"
    subnet = "arn:aws:ec2:us-east-1:123456789012:subnet/subnet-1"
    document = runner_policy(partition="aws", region="us-east-1", account="123456789012",
                             log_group_arn="arn:aws:logs:us-east-1:123456789012:log-group:/aws/codebuild/p",
                             subnet_arns=[subnet], connection_arn=connection)  # fmt: skip
    actions = {
        a
        for s in document["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert not any(a.startswith(("iam:", "sts:", "eks:", "kms:", "s3:")) or a.endswith("*") for a in actions)
    (permission,) = [
        s for s in document["Statement"] if s["Action"] == "ec2:CreateNetworkInterfacePermission"
    ]
    assert permission["Condition"]["ArnEquals"]["ec2:Subnet"] == [subnet]
    assert permission["Condition"]["StringEquals"]["ec2:AuthorizedService"] == "codebuild.amazonaws.com"
    (github,) = [s for s in document["Statement"] if s["Sid"] == "GitHubConnection"]
    assert connection in github["Resource"]


# --- the bootstrap window ------------------------------------------------------------------------


def _today() -> Any:
    return datetime.now(UTC).date()


def _public(values: dict[str, Any], until: Any) -> dict[str, Any]:
    endpoint: dict[str, Any] = {"public": True, "publicCidrs": ["203.0.113.7/32"]}
    if until is not None:
        endpoint["publicUntil"] = str(until)
    values["eks"]["endpoint"] = endpoint
    return values


def test_a_public_endpoint_needs_its_last_day(prod_values: dict[str, Any]) -> None:
    error = rejected(_public(prod_values, None))
    assert_issue(error, "meridian:eks.endpoint.publicUntil", "bootstrap window", "public: false")


def test_a_window_that_has_closed_stops_the_stack(prod_values: dict[str, Any]) -> None:
    error = rejected(_public(prod_values, _today() - timedelta(days=1)))
    assert_issue(error, "meridian:eks.endpoint.publicUntil", "closed on", "set public: false")


def test_a_window_longer_than_a_week_is_refused(staging_values: dict[str, Any]) -> None:
    error = rejected(
        _public(staging_values, _today() + timedelta(days=MAX_PUBLIC_ENDPOINT_DAYS + 1)),
        "Pulumi.staging.yaml",
    )
    assert_issue(
        error, "meridian:eks.endpoint.publicUntil", f"more than {MAX_PUBLIC_ENDPOINT_DAYS} days ahead"
    )


def test_a_week_long_window_opens_the_endpoint_to_the_named_networks_only(tmp_path) -> None:
    from tests.support import plan_with

    def open_window(config: dict[str, Any]) -> None:
        config["meridian:eks"]["endpoint"] = {
            "public": True, "publicCidrs": ["203.0.113.7/32"],
            "publicUntil": str(_today() + timedelta(days=MAX_PUBLIC_ENDPOINT_DAYS)),
        }  # fmt: skip

    plan = plan_with(tmp_path, "staging", open_window)
    for cluster in plan.of_type(EKS):
        assert cluster.inputs["vpcConfig"]["endpointPublicAccess"] is True
        assert cluster.inputs["vpcConfig"]["publicAccessCidrs"] == ["203.0.113.7/32"]


def test_the_runners_connection_must_be_in_the_anchor_region(prod_values: dict[str, Any]) -> None:
    prod_values["deploy"]["runner"]["connectionArn"] = (
        "arn:aws:codeconnections:eu-west-1:123456789012:connection/8d5a2f3c-4b6e-4f1a-9c7d-2e0b1a3f5c6d"
    )
    error = rejected(prod_values)
    assert_issue(error, "meridian:deploy.runner.connectionArn", "eu-west-1", "us-east-1")


def test_the_runners_workflow_names_are_matched_literally(prod_values: dict[str, Any]) -> None:
    """A workflow name is a literal in the webhook's pattern: a `.` is escaped, and a name that
    would widen the pattern (`|`, `.*`) is refused by the config, as is an empty list."""
    from components.deploy.args import DeployRunnerArgs

    args = DeployRunnerArgs(
        repository="https://github.com/o/r",
        connection_arn="arn:aws:codeconnections:us-east-1:123456789012:connection/abc",
        project_name="p-deploy",
        workflow_names=("deploy", "release.v2", "deploy"),
    )
    assert args.workflow_name_pattern == r"^(deploy|release\.v2)$"
    for names in (["preview|.*"], [".*"], []):
        prod_values["deploy"]["runner"]["workflowNames"] = names
        error = rejected(prod_values)
        assert [i.path for i in error.issues if i.path.startswith("meridian:deploy.runner.workflowNames")], (
            names
        )
