"""ClusterTelemetry and GrafanaWorkspace: a small program runs under the project's mocks, pinned to its
own provider; the tests read what it registered, after it ran."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
import yaml
from pydantic import ValidationError

from components.core.iam import checked_cluster_name
from components.core.kube import SYSTEM_TOLERATION
from components.eks.eks_cluster import EksCluster
from components.observability.args import GrafanaArgs, TelemetryArgs
from components.observability.cluster_telemetry import (
    FLUENT_BIT_NAMESPACE,
    FLUENT_BIT_SERVICE_ACCOUNT,
    ClusterTelemetry,
    scrape_configuration,
)
from components.observability.grafana_workspace import GrafanaWorkspace
from infra.plan.mocks import RecordedResource
from infra.plan.run import Plan, run_program
from tests.support import ACCOUNT, SUBNETS, TEAM_REGION, bare_cluster, team_eks_args, team_vpc

KEY = f"arn:aws:kms:{TEAM_REGION}:{ACCOUNT}:key/0f1e2d3c-4b5a-4978-8a9b-0c1d2e3f4a5b"
CLUSTER = "obs-eu"
# The managed collector here (`test_prometheus_agent.py` beside this file covers the default, the agent).
ARGS = TelemetryArgs(
    name_prefix="meridian-test-eu-central-1", log_retention_days=90, protect=False, collector="managed"
)

TELEMETRY = "meridian:telemetry:ClusterTelemetry"
GRAFANA = "meridian:telemetry:GrafanaWorkspace"
WORKSPACE = "aws:amp/workspace:Workspace"
SCRAPER = "aws:amp/scraper:Scraper"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
RELEASE = "kubernetes:helm.sh/v3:Release"
NAMESPACE = "kubernetes:core/v1:Namespace"
GRAFANA_WORKSPACE = "aws:grafana/workspace:Workspace"
TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"


def run(main: Callable[[], dict[str, Any]]) -> Plan:
    return run_program(main, project="telemetry", stack="test")


def observability() -> dict[str, Any]:
    """A region's telemetry over a bare cluster, and two Grafana workspaces, all on one provider."""
    pinned = pulumi.ResourceOptions(providers=[aws.Provider("obs-aws", region=TEAM_REGION)])
    cluster, kubernetes_provider = bare_cluster("obs", CLUSTER, pinned)
    telemetry = ClusterTelemetry(
        "obs",
        ARGS,
        cluster_name=CLUSTER,
        cluster_arn=cluster.arn,
        kubernetes_provider=kubernetes_provider,
        subnet_ids=SUBNETS,
        security_group_ids=[cluster.vpc_config.cluster_security_group_id],
        kms_key_arn=KEY,
        opts=pinned,
    )
    grafana = GrafanaWorkspace("obs-grafana", GrafanaArgs(name_prefix="meridian-test"), opts=pinned)
    quiet = GrafanaWorkspace(
        "obs-quiet",
        GrafanaArgs(name_prefix="meridian-quiet", authentication_providers=["SAML"], sns_notifications=False),
        opts=pinned,
    )
    return {
        "clusterArn": cluster.arn,
        "clusterSecurityGroup": cluster.vpc_config.cluster_security_group_id,
        "workspaceArn": telemetry.workspace_arn,
        "workspaceId": telemetry.workspace_id,
        "prometheusEndpoint": telemetry.prometheus_endpoint,
        "scraperArn": telemetry.scraper_arn,
        "sourceRoleArn": telemetry.scraper_source_role.arn,
        "targetRoleArn": telemetry.scraper_target_role.arn,
        "fluentBitRoleArn": telemetry.fluent_bit_role.arn,
        "containerLogGroup": telemetry.container_log_group_name,
        "grafanaId": grafana.workspace_id,
        "grafanaEndpoint": grafana.endpoint,
        "grafanaRoleArn": grafana.role_arn,
        "quietRoleArn": quiet.role_arn,
    }


@pytest.fixture(scope="module")
def plan() -> Plan:
    return run(observability)


def within(plan: Plan, component: str, type_token: str, name: str | None = None) -> list[RecordedResource]:
    """`type_token` resources under a component of type `component` (named `name`, if given)."""
    found = plan.within(component, type_token)
    if name is None:
        return found
    (root,) = [r for r in plan.of_type(component) if r.name == name]
    below = {r.urn for r in plan.descendants(root.urn)}
    return [r for r in found if r.urn in below]


def one(plan: Plan, component: str, type_token: str, name: str | None = None) -> RecordedResource:
    (resource,) = within(plan, component, type_token, name)
    return resource


def by_name(plan: Plan, type_token: str, name: str) -> RecordedResource:
    (resource,) = [r for r in plan.of_type(type_token) if r.name == name]
    return resource


def policy_of(plan: Plan, role: RecordedResource) -> list[dict[str, Any]]:
    """Every statement of the inline policies attached to `role` (found by their `role` input)."""
    policies = [r for r in plan.of_type(ROLE_POLICY) if role.urn in r.property_dependencies.get("role", [])]
    assert policies, f"{role.name} has no inline policy"
    return [s for p in policies for s in json.loads(p.inputs["policy"])["Statement"]]


def trust_of(role: RecordedResource) -> dict[str, Any]:
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    return dict(statement)


def attachments_of(plan: Plan, role: RecordedResource) -> list[str]:
    return [
        r.inputs["policyArn"]
        for r in plan.of_type(ATTACHMENT)
        if role.urn in r.property_dependencies.get("role", [])
    ]


# --- metrics: the AMP workspace -----------------------------------------------------------------


def test_workspace_is_encrypted_with_the_region_key_and_logs_to_an_encrypted_group(plan: Plan) -> None:
    workspace = one(plan, TELEMETRY, WORKSPACE)
    assert workspace.inputs["alias"] == "meridian-test-eu-central-1"
    assert workspace.inputs["kmsKeyArn"] == KEY
    group = by_name(plan, LOG_GROUP, "obs-workspace-logs")
    assert group.inputs["name"] == "/aws/vendedlogs/prometheus/meridian-test-eu-central-1"
    assert group.inputs["kmsKeyId"] == KEY and group.inputs["retentionInDays"] == 90
    arn = f"arn:aws:logs:{TEAM_REGION}:{ACCOUNT}:log-group:{group.inputs['name']}"
    assert workspace.inputs["loggingConfiguration"] == {"logGroupArn": f"{arn}:*"}
    # Log delivery may write to that group only, and the policy exists before the workspace.
    (delivery,) = within(plan, TELEMETRY, "aws:cloudwatch/logResourcePolicy:LogResourcePolicy")
    (statement,) = json.loads(delivery.inputs["policyDocument"])["Statement"]
    assert statement["Principal"] == {"Service": "delivery.logs.amazonaws.com"}
    assert statement["Resource"] == f"{arn}*:log-stream:*"
    assert delivery.urn in workspace.dependencies


def test_telemetry_attributes(plan: Plan) -> None:
    out = plan.outputs
    workspace = one(plan, TELEMETRY, WORKSPACE)
    assert out["workspaceId"] == workspace.id
    assert out["workspaceArn"].startswith(f"arn:aws:aps:{TEAM_REGION}:{ACCOUNT}:workspace/ws-")
    assert out["prometheusEndpoint"] == (
        f"https://aps-workspaces.{TEAM_REGION}.amazonaws.com/workspaces/{out['workspaceArn'].split('/')[-1]}/"
    )
    assert out["scraperArn"].startswith(f"arn:aws:aps:{TEAM_REGION}:{ACCOUNT}:scraper/s-")
    assert out["containerLogGroup"] == f"/aws/eks/{CLUSTER}/containers"


# --- metrics: the managed collector --------------------------------------------------------------


def test_scraper_reads_the_cluster_and_writes_the_workspace(plan: Plan) -> None:
    scraper = one(plan, TELEMETRY, SCRAPER)
    out = plan.outputs
    assert scraper.inputs["alias"] == "meridian-test-eu-central-1"
    assert scraper.inputs["source"] == {
        "eks": {
            "clusterArn": out["clusterArn"],
            "subnetIds": SUBNETS,
            "securityGroupIds": [out["clusterSecurityGroup"]],
        }
    }
    assert scraper.inputs["destination"] == {"amp": {"workspaceArn": out["workspaceArn"]}}
    # A workspace under a customer managed key takes a scraper only with a role configuration.
    assert scraper.inputs["roleConfiguration"] == {
        "sourceRoleArn": out["sourceRoleArn"],
        "targetRoleArn": out["targetRoleArn"],
    }


def test_scraper_roles_are_this_accounts_and_write_one_workspace(plan: Plan) -> None:
    out = plan.outputs
    scrapers = f"arn:aws:aps:{TEAM_REGION}:{ACCOUNT}:scraper/*"
    source = by_name(plan, ROLE, "obs-scraper-source")
    assert trust_of(source) == {
        "Effect": "Allow",
        "Principal": {"Service": "scraper.aps.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}, "ArnLike": {"aws:SourceArn": scrapers}},
    }
    assert policy_of(plan, source) == [
        {
            "Sid": "BecomeTheTargetRole",
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": out["targetRoleArn"],
        }
    ]
    target = by_name(plan, ROLE, "obs-scraper-target")
    assert trust_of(target) == {
        "Effect": "Allow",
        "Principal": {"AWS": out["sourceRoleArn"]},
        "Action": "sts:AssumeRole",
        "Condition": {"StringLike": {"sts:ExternalId": scrapers}},
    }
    write, key = policy_of(plan, target)
    assert (write["Action"], write["Resource"]) == ("aps:RemoteWrite", out["workspaceArn"])
    assert key["Resource"] == KEY
    assert key["Condition"] == {"StringEquals": {"kms:ViaService": f"aps.{TEAM_REGION}.amazonaws.com"}}
    assert not attachments_of(plan, source) and not attachments_of(plan, target)


def test_scrape_configuration_covers_the_cluster_within_the_collectors_limits(plan: Plan) -> None:
    config = yaml.safe_load(one(plan, TELEMETRY, SCRAPER).inputs["scrapeConfiguration"])
    assert config["global"] == {
        "scrape_interval": "30s",
        "external_labels": {"clusterArn": plan.outputs["clusterArn"]},
    }
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {
        "kubernetes-apiservers",
        "kubelet",
        "cadvisor",
        "ksh-metrics",
        "kcm-metrics",
        "kubernetes-pods",
    }
    for job in jobs.values():
        # The only credential a managed collector may use, in the only form it accepts.
        assert "bearer_token_file" not in job
        if job["job_name"] != "kubernetes-pods":
            assert job["authorization"] == {"type": "Bearer", "credentials_file": TOKEN}
    assert "authorization" not in jobs["kubernetes-pods"]
    (keep_api_server,) = jobs["kubernetes-apiservers"]["relabel_configs"]
    assert keep_api_server["regex"] == "default;kubernetes;https"
    for job, path in (("kubelet", "metrics"), ("cadvisor", "metrics/cadvisor")):
        relabel = jobs[job]["relabel_configs"]
        # Through the API server's node proxy: the only name a managed collector resolves.
        assert {"target_label": "__address__", "replacement": "kubernetes.default.svc:443"} in relabel
        assert relabel[-1]["replacement"] == f"/api/v1/nodes/$1/proxy/{path}"
    pods = jobs["kubernetes-pods"]["relabel_configs"]
    assert pods[0] == {
        "action": "keep",
        "source_labels": ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"],
        "regex": "true",
    }
    assert "__meta_kubernetes_pod_annotation_prometheus_io_port" in pods[4]["source_labels"]


def test_scrape_interval_follows_the_args() -> None:
    config = yaml.safe_load(scrape_configuration("arn:aws:eks:eu-west-1:123456789012:cluster/c", 60))
    assert config["global"]["scrape_interval"] == "60s"


def test_the_scraper_gets_no_access_entry_or_rbac_of_ours(plan: Plan) -> None:
    """The cluster is in API mode: AMP creates the scraper's access entry (and deletes it with the
    scraper); an entry of ours for the same role would fail with ResourceInUseException."""
    assert not within(plan, TELEMETRY, "aws:eks/accessEntry:AccessEntry")
    assert not [r for r in plan.resources if r.type.startswith("kubernetes:rbac.authorization.k8s.io/")]


# --- container logs: Fluent Bit --------------------------------------------------------------------


def test_container_log_group_is_encrypted_with_retention(plan: Plan) -> None:
    group = by_name(plan, LOG_GROUP, "obs-container-logs")
    assert group.inputs["name"] == f"/aws/eks/{CLUSTER}/containers"
    assert group.inputs["kmsKeyId"] == KEY
    assert group.inputs["retentionInDays"] == 90
    assert {g.inputs["kmsKeyId"] for g in within(plan, TELEMETRY, LOG_GROUP)} == {KEY}


def test_fluent_bit_release_is_pinned_and_ships_to_the_group_only(plan: Plan) -> None:
    release = one(plan, TELEMETRY, RELEASE)
    assert release.inputs["chart"] == "aws-for-fluent-bit"
    assert release.inputs["version"] == "0.2.1"
    assert release.inputs["repositoryOpts"] == {"repo": "https://aws.github.io/eks-charts"}
    assert release.inputs["namespace"] == FLUENT_BIT_NAMESPACE
    values = release.inputs["values"]
    assert values["cloudWatchLogs"] == {
        "enabled": True,
        "region": TEAM_REGION,
        "logGroupName": f"/aws/eks/{CLUSTER}/containers",
        "logGroupTemplate": "",
        "autoCreateGroup": False,
    }
    for output in (
        "cloudWatch",
        "firehose",
        "kinesis",
        "kinesis_streams",
        "elasticsearch",
        "opensearch",
        "s3",
    ):
        assert values[output] == {"enabled": False}, output
    assert values["serviceAccount"] == {"create": True, "name": FLUENT_BIT_SERVICE_ACCOUNT}
    # On every node: the system nodes' taint tolerated, no node selector.
    assert values["tolerations"] == [SYSTEM_TOLERATION]
    assert "nodeSelector" not in values


def test_fluent_bit_namespace_admits_its_host_paths(plan: Plan) -> None:
    namespace = one(plan, TELEMETRY, NAMESPACE)
    labels = namespace.inputs["metadata"]["labels"]
    assert namespace.inputs["metadata"]["name"] == FLUENT_BIT_NAMESPACE
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged"
    release = one(plan, TELEMETRY, RELEASE)
    assert namespace.urn in release.dependencies


def test_fluent_bit_role_only_writes_the_container_log_group(plan: Plan) -> None:
    role = by_name(plan, ROLE, "obs-fluent-bit")
    (statement,) = policy_of(plan, role)
    assert sorted(statement["Action"]) == [
        "logs:CreateLogStream",
        "logs:DescribeLogStreams",
        "logs:PutLogEvents",
    ]
    assert (
        statement["Resource"]
        == f"arn:aws:logs:{TEAM_REGION}:{ACCOUNT}:log-group:/aws/eks/{CLUSTER}/containers:*"
    )
    assert not attachments_of(plan, role)
    trust = trust_of(role)
    assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert trust["Condition"]["ArnEquals"] == {"aws:SourceArn": plan.outputs["clusterArn"]}
    (identity,) = within(plan, TELEMETRY, "aws:eks/podIdentityAssociation:PodIdentityAssociation")
    assert identity.inputs["clusterName"] == CLUSTER
    assert (identity.inputs["namespace"], identity.inputs["serviceAccount"]) == (
        FLUENT_BIT_NAMESPACE,
        FLUENT_BIT_SERVICE_ACCOUNT,
    )
    assert identity.inputs["roleArn"] == plan.outputs["fluentBitRoleArn"]
    # The association exists before the pods start (credentials are injected at pod creation).
    assert identity.urn in one(plan, TELEMETRY, RELEASE).dependencies


def test_every_resource_uses_the_given_providers_only(plan: Plan) -> None:
    (k8s_provider,) = plan.of_type("pulumi:providers:kubernetes")
    (aws_provider,) = plan.of_type("pulumi:providers:aws")  # no default provider was made
    (root,) = plan.of_type(TELEMETRY)
    mine = [r for r in plan.descendants(root.urn) if r.custom]
    kube = [r for r in mine if r.type.startswith("kubernetes:")]
    assert {r.type for r in kube} == {NAMESPACE, RELEASE}
    assert all(r.provider == k8s_provider.urn for r in kube)
    cloud = [r for r in mine if r.type.startswith("aws:")]
    for component in GRAFANA, TELEMETRY:
        for top in plan.of_type(component):
            cloud += [r for r in plan.descendants(top.urn) if r.custom]
    assert cloud and all(r.provider == aws_provider.urn for r in cloud if r.type.startswith("aws:"))


def test_cluster_name_and_arn_must_agree(plan: Plan) -> None:
    assert checked_cluster_name(f"arn:aws:eks:{TEAM_REGION}:{ACCOUNT}:cluster/{CLUSTER}", CLUSTER) == CLUSTER
    with pytest.raises(ValueError, match="is not the cluster of cluster_arn"):
        checked_cluster_name(f"arn:aws:eks:{TEAM_REGION}:{ACCOUNT}:cluster/{CLUSTER}", "another-cluster")
    # The association's cluster name is the one checked against the ARN (it waits for the cluster).
    (identity,) = within(plan, TELEMETRY, "aws:eks/podIdentityAssociation:PodIdentityAssociation")
    (cluster,) = plan.of_type("aws:eks/cluster:Cluster")
    assert cluster.urn in identity.property_dependencies["clusterName"]


# --- with a real EksCluster ---------------------------------------------------------------------


def test_wired_to_an_eks_cluster() -> None:
    """How the region wires it: the cluster's name, ARN, subnets, cluster security group and provider."""
    eks_args = team_eks_args("team-eu")

    def program() -> dict[str, Any]:
        pinned, vpc, subnets = team_vpc("team-obs", "10.61", zones="ab")
        eks = EksCluster(
            "payments",
            eks_args,
            vpc_id=vpc.id,
            private_subnet_ids=[s.id for s in subnets],
            kms_key_arn=KEY,
            origin_sources=["192.0.2.0/24"],
            opts=pinned,
        )
        ClusterTelemetry(
            "payments-telemetry",
            TelemetryArgs(name_prefix="team-eu", collector="managed"),
            cluster_name=eks_args.cluster_name,
            cluster_arn=eks.cluster.arn,
            kubernetes_provider=eks.kubernetes_provider,
            subnet_ids=eks.cluster.vpc_config.subnet_ids,
            security_group_ids=[eks.cluster.vpc_config.cluster_security_group_id],
            kms_key_arn=KEY,
            opts=pinned,
        )
        return {
            "arn": eks.cluster.arn,
            "subnets": [s.id for s in subnets],
            "sg": eks.cluster.vpc_config.cluster_security_group_id,
        }

    wired = run(program)
    scraper = one(wired, TELEMETRY, SCRAPER)
    assert scraper.inputs["source"]["eks"] == {
        "clusterArn": wired.outputs["arn"],
        "subnetIds": wired.outputs["subnets"],
        "securityGroupIds": [wired.outputs["sg"]],
    }
    (k8s_provider,) = [r for r in wired.of_type("pulumi:providers:kubernetes") if r.name == "payments-k8s"]
    kube = wired.within(TELEMETRY, RELEASE) + wired.within(TELEMETRY, NAMESPACE)
    assert len(kube) == 2 and all(r.provider == k8s_provider.urn for r in kube)
    assert one(wired, TELEMETRY, "aws:eks/podIdentityAssociation:PodIdentityAssociation").inputs[
        "clusterName"
    ] == ("team-eu")


# --- Grafana ------------------------------------------------------------------------------------


def test_grafana_workspace(plan: Plan) -> None:
    workspace = one(plan, GRAFANA, GRAFANA_WORKSPACE, "obs-grafana")
    assert workspace.inputs["name"] == "meridian-test"
    assert workspace.inputs["accountAccessType"] == "CURRENT_ACCOUNT"
    assert workspace.inputs["authenticationProviders"] == ["AWS_SSO"]
    assert workspace.inputs["permissionType"] == "CUSTOMER_MANAGED"
    assert workspace.inputs["roleArn"] == plan.outputs["grafanaRoleArn"]
    assert workspace.inputs["dataSources"] == ["PROMETHEUS", "CLOUDWATCH"]
    assert workspace.inputs["grafanaVersion"] == "13.2"
    assert workspace.inputs["notificationDestinations"] == ["SNS"]
    assert plan.outputs["grafanaId"] == workspace.id
    assert plan.outputs["grafanaEndpoint"].endswith(f".grafana-workspace.{TEAM_REGION}.amazonaws.com")


def test_grafana_role_is_this_accounts_and_reads_metrics_and_logs(plan: Plan) -> None:
    role = one(plan, GRAFANA, ROLE, "obs-grafana")
    assert trust_of(role) == {
        "Effect": "Allow",
        "Principal": {"Service": "grafana.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {
            "StringEquals": {"aws:SourceAccount": ACCOUNT},
            "ArnLike": {"aws:SourceArn": f"arn:aws:grafana:{TEAM_REGION}:{ACCOUNT}:/workspaces/*"},
        },
    }
    assert attachments_of(plan, role) == [
        "arn:aws:iam::aws:policy/service-role/AmazonGrafanaCloudWatchAccess"
    ]
    statements = {s["Sid"]: s for s in policy_of(plan, role)}
    assert set(statements["QueryWorkspaces"]["Action"]) == {
        "aps:QueryMetrics",
        "aps:GetSeries",
        "aps:GetLabels",
        "aps:GetMetricMetadata",
        "aps:DescribeWorkspace",
    }
    assert statements["QueryWorkspaces"]["Resource"] == f"arn:aws:aps:*:{ACCOUNT}:workspace/*"
    assert statements["ListWorkspaces"]["Action"] == "aps:ListWorkspaces"
    assert statements["WorkspaceKeysThroughAmp"]["Condition"] == {
        "StringLike": {"kms:ViaService": "aps.*.amazonaws.com"}
    }
    # SNS as a destination only with publishing scoped to the prefix's topics.
    assert statements["PublishAlerts"]["Action"] == "sns:Publish"
    assert statements["PublishAlerts"]["Resource"] == f"arn:aws:sns:*:{ACCOUNT}:meridian-test-*"


def test_grafana_without_sns_has_no_publish_right(plan: Plan) -> None:
    workspace = one(plan, GRAFANA, GRAFANA_WORKSPACE, "obs-quiet")
    assert workspace.inputs["authenticationProviders"] == ["SAML"]
    assert "notificationDestinations" not in workspace.inputs
    role = one(plan, GRAFANA, ROLE, "obs-quiet")
    assert "sns:" not in json.dumps(policy_of(plan, role))


# --- arguments ----------------------------------------------------------------------------------


def test_invalid_args_fail_before_any_resource() -> None:
    with pytest.raises(ValidationError, match="CloudWatch Logs does not accept 100 days"):
        TelemetryArgs(name_prefix="x", log_retention_days=100)
    with pytest.raises(ValidationError, match="greater than or equal to 30"):
        TelemetryArgs(name_prefix="x", scrape_interval_seconds=15)
    with pytest.raises(ValidationError, match="String should match pattern"):
        TelemetryArgs(name_prefix="x", fluent_bit_chart_version="latest")
    with pytest.raises(ValidationError, match="not a version AMG runs"):
        GrafanaArgs(name_prefix="x", grafana_version="11.0")
    with pytest.raises(ValidationError, match="lists a provider twice"):
        GrafanaArgs(name_prefix="x", authentication_providers=["AWS_SSO", "AWS_SSO"])
    with pytest.raises(ValidationError):
        GrafanaArgs(name_prefix="x", authentication_providers=["LDAP"])
    with pytest.raises(ValidationError):
        GrafanaArgs(name_prefix="x", authentication_providers=[])
    assert TelemetryArgs.model_validate({"namePrefix": "x", "fluentBitChartVersion": "0.2.1"}).protect
