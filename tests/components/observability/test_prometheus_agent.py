"""The Prometheus agent, ClusterTelemetry's default collector: its configuration as pure functions, and
what a small program registers under the project's mocks (read back after the program ran)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pytest
import yaml
from pydantic import ValidationError

from components import PrometheusAgent as ExportedAgent
from components.core.kube import SYSTEM_TOLERATION
from components.observability.args import (
    DEFAULT_AGENT_IMAGE,
    PrometheusAgentArgs,
    TelemetryArgs,
    TelemetrySettings,
)
from components.observability.cluster_telemetry import ClusterTelemetry, scrape_configuration
from components.observability.policies import remote_write_policy
from components.observability.prometheus_agent import (
    AGENT_CLUSTER_ROLE_RULES,
    AGENT_NAMESPACE,
    AGENT_POD_LABELS,
    AGENT_SERVICE_ACCOUNT,
    CONFIG_CHECKSUM_ANNOTATION,
    PrometheusAgent,
    agent_configuration,
    config_checksum,
    disruption_budget_spec,
    remote_write_url,
)
from infra.plan.mocks import MOCK_ACCOUNT_ID, RecordedResource
from infra.plan.run import Plan, run_program
from tests.support import assert_issue, bare_cluster, rejected

REGION = "eu-central-1"
ACCOUNT = MOCK_ACCOUNT_ID
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0f1e2d3c-4b5a-4978-8a9b-0c1d2e3f4a5b"
CLUSTER = "agent-eu"
CLUSTER_ARN = f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/{CLUSTER}"
SUBNETS = ["subnet-0a1b2c3d4e5f60718", "subnet-0b1c2d3e4f5a60718"]
ENDPOINT = f"https://aps-workspaces.{REGION}.amazonaws.com/workspaces/ws-0123/"
CA = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"

TELEMETRY = "meridian:telemetry:ClusterTelemetry"
AGENT = "meridian:telemetry:PrometheusAgent"
WORKSPACE = "aws:amp/workspace:Workspace"
SCRAPER = "aws:amp/scraper:Scraper"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
ASSOCIATION = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
NAMESPACE = "kubernetes:core/v1:Namespace"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
CLUSTER_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
BINDING = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
RELEASE = "kubernetes:helm.sh/v3:Release"


def agent_config(**overrides: Any) -> dict[str, Any]:
    arguments = {
        "cluster_arn": CLUSTER_ARN,
        "cluster_name": CLUSTER,
        "region": REGION,
        "prometheus_endpoint": ENDPOINT,
        "interval_seconds": 30,
    } | overrides
    return dict(yaml.safe_load(agent_configuration(**arguments)))


# --- the configuration, as pure functions -----------------------------------------------------


def test_the_agent_writes_to_the_workspace_signed_for_its_region() -> None:
    config = agent_config()
    assert config["remote_write"] == [
        {
            "url": f"{ENDPOINT}api/v1/remote_write",
            "sigv4": {"region": REGION},
            "queue_config": {"max_samples_per_send": 1000, "max_shards": 200, "capacity": 2500},
        }
    ]
    assert (
        remote_write_url(ENDPOINT)
        == remote_write_url(ENDPOINT.rstrip("/"))
        == f"{ENDPOINT}api/v1/remote_write"
    )


def test_every_agent_carries_amps_ha_labels() -> None:
    """AMP de-duplicates by `cluster` and `__replica__`; the replica is the pod's name, expanded by
    Prometheus from the environment."""
    labels = agent_config()["global"]["external_labels"]
    assert labels == {"clusterArn": CLUSTER_ARN, "cluster": CLUSTER, "__replica__": "${POD_NAME}"}


def test_https_jobs_verify_the_api_server_with_the_cluster_ca() -> None:
    jobs = {job["job_name"]: job for job in agent_config()["scrape_configs"]}
    https = {name for name, job in jobs.items() if job.get("scheme") == "https"}
    assert https == {"kubernetes-apiservers", "kubelet", "cadvisor", "ksh-metrics", "kcm-metrics"}
    for name in ("kubernetes-apiservers", "ksh-metrics", "kcm-metrics"):
        # As `kubernetes`: these jobs reach the API server by an endpoint's address.
        assert jobs[name]["tls_config"] == {"ca_file": CA, "server_name": "kubernetes"}, name
    # Pods say their own scheme; the cluster's CA signs no pod's certificate.
    assert "tls_config" not in jobs["kubernetes-pods"]


def test_the_agent_scrapes_each_kubelet_directly_never_through_the_node_proxy() -> None:
    """`nodes/proxy` reaches the kubelet's whole API; the agent reads `/metrics` and
    `/metrics/cadvisor` on the kubelet's own address, which `nodes/metrics` grants."""
    jobs = {job["job_name"]: job for job in agent_config()["scrape_configs"]}
    for name, path in (("kubelet", "/metrics"), ("cadvisor", "/metrics/cadvisor")):
        job = jobs[name]
        assert job["metrics_path"] == path, name
        assert job["kubernetes_sd_configs"] == [{"role": "node"}]
        # The node role's own address (InternalIP:10250) is kept: nothing rewrites it.
        assert not [
            r for r in job["relabel_configs"] if r.get("target_label") in ("__address__", "__metrics_path__")
        ]
        assert job["authorization"] == {"type": "Bearer", "credentials_file": TOKEN}
        assert job["tls_config"] == {"insecure_skip_verify": True}  # kubelets sign their own
    assert "proxy" not in agent_configuration(
        cluster_arn=CLUSTER_ARN,
        cluster_name=CLUSTER,
        region=REGION,
        prometheus_endpoint=ENDPOINT,
        interval_seconds=30,
    )


def test_only_the_agent_reads_pods_without_a_content_type_as_prometheus_text() -> None:
    """Prometheus 3 refuses a scrape without a valid Content-Type unless told what to assume; AMP's
    collector keeps its own configuration."""
    agent = {job["job_name"]: job for job in agent_config()["scrape_configs"]}
    managed = {
        job["job_name"]: job
        for job in yaml.safe_load(scrape_configuration(CLUSTER_ARN, 30))["scrape_configs"]
    }
    assert agent["kubernetes-pods"]["fallback_scrape_protocol"] == "PrometheusText0.0.4"
    assert not [name for name, job in managed.items() if "fallback_scrape_protocol" in job]


def test_the_agent_scrapes_what_the_managed_collector_scrapes() -> None:
    """One builder for both: the same jobs, discovery and relabelling of the API server, the control
    plane and the pods; the kubelets by another path (directly, not through the proxy)."""
    managed = {
        job["job_name"]: job
        for job in yaml.safe_load(scrape_configuration(CLUSTER_ARN, 45))["scrape_configs"]
    }
    agent_config_ = agent_config(interval_seconds=45)
    agent = {job["job_name"]: job for job in agent_config_["scrape_configs"]}
    assert list(agent) == list(managed)
    for name in ("kubernetes-apiservers", "ksh-metrics", "kcm-metrics", "kubernetes-pods"):
        job = dict(agent[name])
        job.pop("tls_config", None)
        job.pop("fallback_scrape_protocol", None)
        assert job == managed[name], name
    for name in ("kubelet", "cadvisor"):
        assert agent[name]["kubernetes_sd_configs"] == managed[name]["kubernetes_sd_configs"]
        assert managed[name]["relabel_configs"][-1]["replacement"].startswith("/api/v1/nodes/$1/proxy/")
    assert agent_config_["global"]["scrape_interval"] == "45s"


def test_the_managed_collectors_configuration_stays_as_amp_takes_it() -> None:
    managed = yaml.safe_load(scrape_configuration(CLUSTER_ARN, 30))
    assert set(managed) == {"global", "scrape_configs"}  # no remote_write: AMP writes itself
    assert managed["global"] == {"scrape_interval": "30s", "external_labels": {"clusterArn": CLUSTER_ARN}}
    assert not [job["job_name"] for job in managed["scrape_configs"] if "tls_config" in job]


def test_the_checksum_follows_the_configuration() -> None:
    base = {
        "cluster_arn": CLUSTER_ARN,
        "cluster_name": CLUSTER,
        "region": REGION,
        "prometheus_endpoint": ENDPOINT,
    }
    first = agent_configuration(**base, interval_seconds=30)
    assert config_checksum(first) == hashlib.sha256(first.encode()).hexdigest()
    assert config_checksum(first) == config_checksum(agent_configuration(**base, interval_seconds=30))
    assert config_checksum(first) != config_checksum(agent_configuration(**base, interval_seconds=60))


def test_remote_write_policy_is_one_action_on_one_workspace() -> None:
    arn = f"arn:aws:aps:{REGION}:{ACCOUNT}:workspace/ws-0123"
    assert remote_write_policy(arn)["Statement"] == [
        {"Sid": "RemoteWriteThisWorkspace", "Effect": "Allow", "Action": "aps:RemoteWrite", "Resource": arn}
    ]


def test_a_lone_agent_does_not_block_drains() -> None:
    assert disruption_budget_spec(2)["minAvailable"] == disruption_budget_spec(5)["minAvailable"] == 1
    assert disruption_budget_spec(1)["minAvailable"] == 0


# --- the component, under mocks ---------------------------------------------------------------


def run(main: Callable[[], dict[str, Any]]) -> Plan:
    return run_program(main, project="agent", stack="test")


def cluster_and_provider(pinned: pulumi.ResourceOptions) -> tuple[aws.eks.Cluster, k8s.Provider]:
    return bare_cluster("agent", CLUSTER, pinned)


def telemetry_program(args: TelemetryArgs) -> Callable[[], dict[str, Any]]:
    def program() -> dict[str, Any]:
        pinned = pulumi.ResourceOptions(providers=[aws.Provider("agent-aws", region=REGION)])
        cluster, provider = cluster_and_provider(pinned)
        telemetry = ClusterTelemetry(
            "tel",
            args,
            cluster_name=CLUSTER,
            cluster_arn=cluster.arn,
            kubernetes_provider=provider,
            subnet_ids=SUBNETS,
            security_group_ids=[cluster.vpc_config.cluster_security_group_id],
            kms_key_arn=KEY,
            opts=pinned,
        )
        exports: dict[str, Any] = {
            "clusterArn": cluster.arn,
            "workspaceArn": telemetry.workspace_arn,
            "prometheusEndpoint": telemetry.prometheus_endpoint,
            "attributes": {
                "agent": telemetry.agent is not None,
                "scraper": telemetry.scraper is not None,
                "scraperArn": telemetry.scraper_arn is not None,
                "roles": [
                    telemetry.scraper_source_role is not None,
                    telemetry.scraper_target_role is not None,
                ],
            },
        }
        if telemetry.agent is not None:
            exports["agentRoleArn"] = telemetry.agent.role_arn
            # A second agent of another configuration, to see its checksum differ.
            other = PrometheusAgent(
                "other",
                PrometheusAgentArgs(scrape_interval_seconds=60, replicas=1),
                cluster_name=CLUSTER,
                cluster_arn=cluster.arn,
                workspace_arn=telemetry.workspace_arn,
                prometheus_endpoint=telemetry.prometheus_endpoint,
                kubernetes_provider=provider,
                opts=pinned,
            )
            exports["otherRoleArn"] = other.role_arn
        return exports

    return program


@pytest.fixture(scope="module")
def plan() -> Plan:
    """The default collector (the agent), with three replicas."""
    return run(telemetry_program(TelemetryArgs(name_prefix="meridian-test-eu-central-1", agent_replicas=3)))


@pytest.fixture(scope="module")
def managed() -> Plan:
    return run(
        telemetry_program(TelemetryArgs(name_prefix="meridian-test-eu-central-1", collector="managed"))
    )


def below(plan: Plan, name: str, type_token: str) -> list[RecordedResource]:
    """`type_token` resources below the component named `name`."""
    (root,) = [r for r in plan.resources if r.name == name and not r.custom]
    return [r for r in plan.descendants(root.urn) if r.type == type_token]


def one(plan: Plan, name: str, type_token: str) -> RecordedResource:
    (resource,) = below(plan, name, type_token)
    return resource


def policies_of(plan: Plan, role: RecordedResource) -> list[RecordedResource]:
    return [r for r in plan.of_type(ROLE_POLICY) if role.urn in r.property_dependencies.get("role", [])]


def test_the_default_collector_is_the_agent_and_no_scraper_is_declared(plan: Plan) -> None:
    assert TelemetrySettings().collector == "agent"
    assert not plan.of_type(SCRAPER)
    (agent,) = [r for r in plan.of_type(AGENT) if r.name == "tel-agent"]
    (telemetry,) = plan.of_type(TELEMETRY)
    assert agent.parent == telemetry.urn
    # No scraper roles: the only roles are the agents' and Fluent Bit's.
    assert sorted(r.name for r in plan.of_type(ROLE)) == ["other-role", "tel-agent-role", "tel-fluent-bit"]
    assert plan.outputs["attributes"] == {
        "agent": True,
        "scraper": False,
        "scraperArn": False,
        "roles": [False, False],
    }
    # The tag a managed collector puts on its destination is declared with that collector only.
    assert "AMPAgentlessScraper" not in (one(plan, "tel", WORKSPACE).inputs.get("tags") or {})


def test_managed_still_declares_the_scraper_and_no_agent(managed: Plan) -> None:
    (scraper,) = managed.of_type(SCRAPER)
    assert scraper.inputs["destination"] == {"amp": {"workspaceArn": managed.outputs["workspaceArn"]}}
    assert not managed.of_type(AGENT)
    assert not [r for r in managed.resources if r.type in (DEPLOYMENT, CLUSTER_ROLE, CONFIG_MAP)]
    assert {"tel-scraper-source", "tel-scraper-target"} <= {r.name for r in managed.of_type(ROLE)}
    assert managed.outputs["attributes"] == {
        "agent": False,
        "scraper": True,
        "scraperArn": True,
        "roles": [True, True],
    }
    assert one(managed, "tel", WORKSPACE).inputs["tags"] == {"AMPAgentlessScraper": ""}


def test_the_agents_namespace_is_restricted(plan: Plan) -> None:
    namespace = one(plan, "tel-agent", NAMESPACE)
    assert namespace.inputs["metadata"]["name"] == AGENT_NAMESPACE
    labels = namespace.inputs["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
    # Everything namespaced sits below it in the resource tree.
    for typ in (SERVICE_ACCOUNT, CONFIG_MAP, DEPLOYMENT, PDB):
        resource = one(plan, "tel-agent", typ)
        assert resource.parent == namespace.urn, typ
        assert resource.inputs["metadata"]["namespace"] == AGENT_NAMESPACE, typ
    assert one(plan, "tel-agent", SERVICE_ACCOUNT).inputs["metadata"]["name"] == AGENT_SERVICE_ACCOUNT


def test_the_role_only_remote_writes_into_this_workspace(plan: Plan) -> None:
    role = one(plan, "tel-agent", ROLE)
    (policy,) = policies_of(plan, role)
    assert policy.parent == role.urn
    assert json.loads(policy.inputs["policy"])["Statement"] == [
        {
            "Sid": "RemoteWriteThisWorkspace",
            "Effect": "Allow",
            "Action": "aps:RemoteWrite",
            "Resource": plan.outputs["workspaceArn"],
        }
    ]
    assert not [r for r in plan.of_type(ATTACHMENT) if role.urn in r.property_dependencies.get("role", [])]


def test_the_role_is_assumed_by_this_clusters_pods_only(plan: Plan) -> None:
    (statement,) = json.loads(one(plan, "tel-agent", ROLE).inputs["assumeRolePolicy"])["Statement"]
    assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert statement["Action"] == ["sts:AssumeRole", "sts:TagSession"]
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnEquals": {"aws:SourceArn": plan.outputs["clusterArn"]},
    }


def test_the_association_binds_the_agents_service_account_before_the_pods_start(plan: Plan) -> None:
    identity = one(plan, "tel-agent", ASSOCIATION)
    assert identity.inputs["clusterName"] == CLUSTER
    assert (identity.inputs["namespace"], identity.inputs["serviceAccount"]) == (
        AGENT_NAMESPACE,
        AGENT_SERVICE_ACCOUNT,
    )
    assert identity.inputs["roleArn"] == plan.outputs["agentRoleArn"]
    # The cluster name waits for (and is checked against) the cluster's ARN.
    (cluster,) = plan.of_type("aws:eks/cluster:Cluster")
    assert cluster.urn in identity.property_dependencies["clusterName"]
    deployment = one(plan, "tel-agent", DEPLOYMENT)
    assert identity.urn in deployment.dependencies
    assert one(plan, "tel-agent", BINDING).urn in deployment.dependencies


def test_the_deployment_runs_pinned_agents_with_a_restricted_security_context(plan: Plan) -> None:
    spec = one(plan, "tel-agent", DEPLOYMENT).inputs["spec"]
    assert spec["replicas"] == 3
    assert spec["selector"] == {"matchLabels": AGENT_POD_LABELS}
    pod = spec["template"]["spec"]
    assert spec["template"]["metadata"]["labels"] == AGENT_POD_LABELS
    (container,) = pod["containers"]
    assert container["image"] == DEFAULT_AGENT_IMAGE == "quay.io/prometheus/prometheus:v3.5.0"
    assert container["args"] == [
        "--agent",
        "--config.file=/etc/prometheus/prometheus.yml",
        "--storage.agent.path=/data",
        "--web.listen-address=:9090",
    ]
    assert container["env"] == [
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}
    ]
    assert container["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 65534,
        "runAsGroup": 65534,
        "seccompProfile": {"type": "RuntimeDefault"},
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/-/ready", "port": "http"}
    assert set(container["resources"]) == {"requests", "limits"}
    assert set(container["resources"]["limits"]) == {"cpu", "memory"}
    assert pod["serviceAccountName"] == AGENT_SERVICE_ACCOUNT
    assert pod["priorityClassName"] == "system-cluster-critical"
    assert pod["tolerations"] == [SYSTEM_TOLERATION]
    assert [c["topologyKey"] for c in pod["topologySpreadConstraints"]] == [
        "topology.kubernetes.io/zone",
        "kubernetes.io/hostname",
    ]
    assert all(
        c["labelSelector"] == {"matchLabels": AGENT_POD_LABELS} for c in pod["topologySpreadConstraints"]
    )
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["data"]["emptyDir"] and volumes["config"]["configMap"]["name"] == "prometheus-agent"
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert mounts["/etc/prometheus"]["readOnly"] is True and mounts["/data"]["name"] == "data"


def test_the_config_map_holds_the_agents_configuration_and_the_pods_its_checksum(plan: Plan) -> None:
    config_map = one(plan, "tel-agent", CONFIG_MAP)
    assert config_map.inputs["metadata"]["name"] == "prometheus-agent"
    text = config_map.inputs["data"]["prometheus.yml"]
    config = yaml.safe_load(text)
    assert config["global"]["external_labels"]["cluster"] == CLUSTER
    assert config["global"]["external_labels"]["clusterArn"] == plan.outputs["clusterArn"]
    (target,) = config["remote_write"]
    assert target["url"] == f"{plan.outputs['prometheusEndpoint']}api/v1/remote_write"
    assert target["sigv4"] == {"region": REGION}  # the parent's provider's region
    deployment = one(plan, "tel-agent", DEPLOYMENT)
    checksum = deployment.inputs["spec"]["template"]["metadata"]["annotations"][CONFIG_CHECKSUM_ANNOTATION]
    assert checksum == hashlib.sha256(text.encode()).hexdigest()
    assert config_map.urn in deployment.dependencies
    # Another configuration (another scrape interval): another checksum, so a change rolls the pods.
    other_text = one(plan, "other", CONFIG_MAP).inputs["data"]["prometheus.yml"]
    other = one(plan, "other", DEPLOYMENT).inputs["spec"]["template"]["metadata"]["annotations"]
    assert other_text != text and yaml.safe_load(other_text)["global"]["scrape_interval"] == "60s"
    assert other[CONFIG_CHECKSUM_ANNOTATION] == hashlib.sha256(other_text.encode()).hexdigest() != checksum


def test_one_agent_stays_up_through_drains(plan: Plan) -> None:
    budget = one(plan, "tel-agent", PDB).inputs["spec"]
    assert budget == {"selector": {"matchLabels": AGENT_POD_LABELS}, "minAvailable": 1}
    # A lone agent (`other`, one replica) may be evicted.
    assert one(plan, "other", PDB).inputs["spec"]["minAvailable"] == 0


def test_the_agent_reads_the_cluster_and_the_control_plane_metrics(plan: Plan) -> None:
    role = one(plan, "tel-agent", CLUSTER_ROLE)
    assert role.inputs["rules"] == AGENT_CLUSTER_ROLE_RULES
    rules = role.inputs["rules"]
    core = next(r for r in rules if r.get("apiGroups") == [""])
    assert set(core["resources"]) == {"nodes", "nodes/metrics", "services", "endpoints", "pods"}
    assert core["verbs"] == ["get", "list", "watch"]
    # Never the node proxy (the kubelet's whole API), whatever rule would grant it.
    assert not [
        r for r in rules if "nodes/proxy" in r.get("resources", []) or "nodes/*" in r.get("resources", [])
    ]
    assert {"nonResourceURLs": ["/metrics"], "verbs": ["get"]} in rules
    eks = next(r for r in rules if r.get("apiGroups") == ["metrics.eks.amazonaws.com"])
    assert (eks["resources"], eks["verbs"]) == (["kcm/metrics", "ksh/metrics"], ["get"])
    # Nothing writes, nothing reads secrets.
    assert all(set(r["verbs"]) <= {"get", "list", "watch"} for r in rules)
    assert not [r for r in rules if "secrets" in r.get("resources", [])]
    binding = one(plan, "tel-agent", BINDING)
    assert binding.inputs["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": role.inputs["metadata"]["name"],
    }
    assert binding.inputs["subjects"] == [
        {"kind": "ServiceAccount", "name": AGENT_SERVICE_ACCOUNT, "namespace": AGENT_NAMESPACE}
    ]


def test_everything_uses_the_given_providers(plan: Plan) -> None:
    (k8s_provider,) = plan.of_type("pulumi:providers:kubernetes")  # no default provider was made
    (aws_provider,) = plan.of_type("pulumi:providers:aws")
    for name in ("tel-agent", "other"):
        (root,) = [r for r in plan.resources if r.name == name and not r.custom]
        mine = [r for r in plan.descendants(root.urn) if r.custom]
        kube = [r for r in mine if r.type.startswith("kubernetes:")]
        assert {r.type for r in kube} == {
            NAMESPACE,
            SERVICE_ACCOUNT,
            CONFIG_MAP,
            DEPLOYMENT,
            PDB,
            CLUSTER_ROLE,
            BINDING,
        }
        assert all(r.provider == k8s_provider.urn for r in kube)
        cloud = [r for r in mine if r.type.startswith("aws:")]
        assert {r.type for r in cloud} == {ROLE, ROLE_POLICY, ASSOCIATION}
        assert all(r.provider == aws_provider.urn for r in cloud)


def test_the_component_is_exported() -> None:
    assert ExportedAgent is PrometheusAgent


# --- settings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"agent_replicas": 0}, "greater than or equal to 1"),
        ({"agent_replicas": 6}, "less than or equal to 5"),
        ({"agent_image": "quay.io/prometheus/prometheus:latest"}, "String should match pattern"),
        ({"agent_image": "quay.io/prometheus/prometheus:v2.55.1"}, "String should match pattern"),
        ({"agent_image": "quay.io/prometheus/prometheus:3.5.0"}, "String should match pattern"),
        ({"agent_image": "quay.io/prometheus/prometheus"}, "String should match pattern"),
        ({"collector": "adot"}, "'agent' or 'managed'"),
    ],
)
def test_bad_agent_settings_fail_before_any_resource(change: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        TelemetrySettings(**change)
    with pytest.raises(ValidationError, match=fragment):
        TelemetryArgs(name_prefix="x", **change)


def test_agent_settings_read_from_the_stack_file_in_camel_case() -> None:
    settings = TelemetrySettings.model_validate(
        {"collector": "managed", "agentReplicas": 3, "agentImage": "quay.io/prometheus/prometheus:v3.5.1"}
    )
    assert (settings.collector, settings.agent_replicas, settings.agent_image) == (
        "managed",
        3,
        "quay.io/prometheus/prometheus:v3.5.1",
    )
    assert (TelemetrySettings().agent_replicas, TelemetrySettings().agent_image) == (2, DEFAULT_AGENT_IMAGE)
    with pytest.raises(ValidationError):
        PrometheusAgentArgs(replicas=0)


def test_the_stack_file_refuses_an_unknown_collector(prod_values: dict[str, Any]) -> None:
    prod_values["observability"]["telemetry"] = {"collector": "sidecar"}
    assert_issue(rejected(prod_values), "meridian:observability.telemetry.collector", "'agent' or 'managed'")
