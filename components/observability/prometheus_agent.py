"""PrometheusAgent: a self-managed collector, Prometheus in agent mode, writing one region's cluster
metrics into its AMP workspace.

    PrometheusAgent  (meridian:telemetry:PrometheusAgent)
    ├── IAM role             EKS Pod Identity, this cluster's pods only
    │   ├── RolePolicy       `aps:RemoteWrite` on this one workspace, nothing else
    │   └── PodIdentityAssociation   `prometheus-agent`/`prometheus-agent` → the role
    ├── ClusterRole          read what the scrape configuration discovers and scrapes: nodes and
    │   │                    their kubelets' metrics (not `nodes/proxy`), services, endpoints, pods,
    │   │                    `/metrics`, the EKS control-plane metrics (`kcm/metrics`, `ksh/metrics`)
    │   └── ClusterRoleBinding   → the agent's service account
    └── Namespace            `prometheus-agent`, PSA restricted (the agent needs no host access)
        ├── ServiceAccount   `prometheus-agent`
        ├── ConfigMap        `prometheus.yml`: the managed collector's jobs (`scrape.py`),
        │                    the cluster's CA, HA labels, `remote_write` with SigV4
        ├── Deployment       `agentReplicas` agents (default 2) on the system nodes, spread over
        │                    the zones, pinned image, restricted security context, WAL on an emptyDir
        └── PodDisruptionBudget   one agent stays up through node drains

Why an agent: AMP's "Encryption at rest" guide says a workspace under a customer managed key cannot
take a managed collector, and every workspace here is under the region's key. An agent is a plain
remote-write client, which such a workspace accepts.

Why two: both scrape the same targets and send the same series, each with the external labels
`cluster` (the cluster's name) and `__replica__` (its pod's name); AMP keeps one replica's samples
per `cluster`, drops the `__replica__` label and switches to the other replica when the one it keeps
stops sending ("Deduplicating high availability metrics"), so a drained or lost agent costs at most
the short wait before AMP switches, not the time its pod takes to come back, and the copy is neither
stored nor charged twice. The spread over zones and nodes is soft (`ScheduleAnyway`): a stack with a
single system node still runs every replica. The pod's name
comes from the downward API (`POD_NAME`), which Prometheus 3 expands in external labels by default
(its migration guide: the `expand-external-labels` flag of Prometheus 2 is gone). The image must be
a Prometheus 3 release: `--agent` is its flag (Prometheus 2 took `--enable-feature=agent`).

The agent does not reload its configuration by itself: a change of `prometheus.yml` changes the
pods' `meridian/config-sha256` annotation, which rolls them (one at a time, one always up).

The AWS provider comes from the parent or `opts`; Kubernetes resources use only the
`kubernetes_provider` given.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from ..core.iam import pod_identity_role
from ..core.kube import ON_SYSTEM_NODES, PodSecurity, psa_namespace
from ..core.lookups import AwsContext
from .args import PrometheusAgentArgs
from .policies import remote_write_policy, remote_write_statement
from .scrape import prometheus_configuration

__all__ = [
    "AGENT_CLUSTER_ROLE_RULES",
    "AGENT_NAMESPACE",
    "AGENT_POD_LABELS",
    "AGENT_SERVICE_ACCOUNT",
    "CONFIG_CHECKSUM_ANNOTATION",
    "PrometheusAgent",
    "agent_arguments",
    "agent_configuration",
    "agent_deployment_spec",
    "config_checksum",
    "disruption_budget_spec",
    "remote_write_policy",
    "remote_write_statement",
    "remote_write_url",
]

AGENT_NAMESPACE = "prometheus-agent"
AGENT_SERVICE_ACCOUNT = "prometheus-agent"
#: The agent's pods carry these labels (a namespace that denies ingress admits them by it).
AGENT_POD_LABELS = {"app.kubernetes.io/name": "prometheus-agent"}
#: Pod-template annotation holding the configuration's SHA-256: a new configuration rolls the pods.
CONFIG_CHECKSUM_ANNOTATION = "meridian/config-sha256"

#: The name of the agents' ClusterRole, binding, ConfigMap, Deployment and budget.
_NAME = "prometheus-agent"
_CONFIG_DIR = "/etc/prometheus"
_CONFIG_KEY = "prometheus.yml"
_DATA_DIR = "/data"
_PORT = 9090
#: `nobody`, as the image runs; restricted PSA wants non-root.
_NOBODY = 65534

#: What the scrape configuration reads: service discovery (nodes, services, endpoints, pods), each
#: kubelet's `/metrics` and `/metrics/cadvisor` (`nodes/metrics`; never `nodes/proxy`, which reaches
#: the kubelet's whole API), `/metrics` of the API server, and the control-plane metrics EKS serves
#: under `metrics.eks.amazonaws.com` (the EKS guide "Fetch control plane raw metrics in Prometheus
#: format" gives this rule).
AGENT_CLUSTER_ROLE_RULES: list[dict[str, Any]] = [
    {
        "apiGroups": [""],
        "resources": ["nodes", "nodes/metrics", "services", "endpoints", "pods"],
        "verbs": ["get", "list", "watch"],
    },
    {"nonResourceURLs": ["/metrics"], "verbs": ["get"]},
    {
        "apiGroups": ["metrics.eks.amazonaws.com"],
        "resources": ["kcm/metrics", "ksh/metrics"],
        "verbs": ["get"],
    },
]


# -- pure functions ----------------------------------------------------------------------------


def remote_write_url(prometheus_endpoint: str) -> str:
    """The workspace's remote-write URL (`prometheus_endpoint` ends with a slash)."""
    return f"{prometheus_endpoint.rstrip('/')}/api/v1/remote_write"


def agent_configuration(
    *,
    cluster_arn: str,
    cluster_name: str,
    region: str,
    prometheus_endpoint: str,
    interval_seconds: int,
) -> str:
    """The agent's `prometheus.yml`: the managed collector's jobs, verifying the API server with the
    cluster's CA; the HA labels AMP de-duplicates by (`cluster`, and `__replica__` from the pod's
    name); and a SigV4-signed `remote_write` to the workspace, queued as AMP's guide suggests."""
    return prometheus_configuration(
        interval_seconds,
        # `clusterArn` as the managed collector sends it: the series are the same either way.
        {"clusterArn": cluster_arn, "cluster": cluster_name, "__replica__": "${POD_NAME}"},
        in_cluster=True,
        remote_write=[
            {
                "url": remote_write_url(prometheus_endpoint),
                # Signed with the pod's credentials: aws-sdk-go's default chain reads the EKS Pod
                # Identity credentials the association injects (AWS_CONTAINER_CREDENTIALS_FULL_URI).
                "sigv4": {"region": region},
                "queue_config": {"max_samples_per_send": 1000, "max_shards": 200, "capacity": 2500},
            }
        ],
    )


def config_checksum(config: str) -> str:
    """SHA-256 of a configuration, as the pods' `meridian/config-sha256` annotation carries it."""
    return hashlib.sha256(config.encode()).hexdigest()


def agent_arguments() -> list[str]:
    """Prometheus's command line: agent mode (scrape and forward; no local queries, rules or TSDB),
    its WAL on the pod's emptyDir (Prometheus 3 expands `${VAR}` in external labels by itself)."""
    return [
        "--agent",
        f"--config.file={_CONFIG_DIR}/{_CONFIG_KEY}",
        f"--storage.agent.path={_DATA_DIR}",
        f"--web.listen-address=:{_PORT}",
    ]


def disruption_budget_spec(replicas: int) -> dict[str, Any]:
    """One agent stays up through voluntary disruptions; a lone agent may be evicted (a budget of
    one would block every drain of its node)."""
    return {"selector": {"matchLabels": dict(AGENT_POD_LABELS)}, "minAvailable": min(1, replicas - 1)}


def agent_deployment_spec(
    *, image: str, replicas: int, config_map: str, checksum: pulumi.Input[str]
) -> dict[str, Any]:
    """The agents' Deployment spec: `replicas` pods of `image` reading `config_map`, on the system
    nodes (a platform add-on: not on nodes Karpenter consolidates), spread over zones and nodes,
    as `nobody` with a read-only root and no capabilities; rolled when `checksum` changes."""
    non_root = {"runAsNonRoot": True, "runAsUser": _NOBODY, "runAsGroup": _NOBODY}
    seccomp = {"seccompProfile": {"type": "RuntimeDefault"}}

    def spread(key: str) -> dict[str, Any]:
        return {
            "maxSkew": 1,
            "topologyKey": key,
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": dict(AGENT_POD_LABELS)},
        }

    container = {
        "name": "prometheus",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "args": agent_arguments(),
        "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
        "ports": [{"name": "http", "containerPort": _PORT, "protocol": "TCP"}],
        "readinessProbe": {"httpGet": {"path": "/-/ready", "port": "http"}, "periodSeconds": 10},
        "livenessProbe": {
            "httpGet": {"path": "/-/healthy", "port": "http"},
            "initialDelaySeconds": 30,
            "periodSeconds": 15,
            "failureThreshold": 4,
        },
        "resources": {
            "requests": {"cpu": "100m", "memory": "256Mi"},
            "limits": {"cpu": "1", "memory": "1Gi"},
        },
        "securityContext": {
            **non_root,
            **seccomp,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [
            {"name": "config", "mountPath": _CONFIG_DIR, "readOnly": True},
            {"name": "data", "mountPath": _DATA_DIR},
        ],
    }
    return {
        "replicas": replicas,
        "selector": {"matchLabels": dict(AGENT_POD_LABELS)},
        # A new pod is ready before an old one goes: some agent always writes.
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
        "template": {
            "metadata": {
                "labels": dict(AGENT_POD_LABELS),
                "annotations": {CONFIG_CHECKSUM_ANNOTATION: checksum},
            },
            "spec": {
                "serviceAccountName": AGENT_SERVICE_ACCOUNT,
                "priorityClassName": "system-cluster-critical",
                "securityContext": {**non_root, **seccomp, "fsGroup": _NOBODY},
                **ON_SYSTEM_NODES,
                "topologySpreadConstraints": [
                    spread("topology.kubernetes.io/zone"),
                    spread("kubernetes.io/hostname"),
                ],
                "containers": [container],
                "volumes": [
                    {"name": "config", "configMap": {"name": config_map}},
                    {"name": "data", "emptyDir": {"sizeLimit": "2Gi"}},
                ],
            },
        },
    }


# -- the component -----------------------------------------------------------------------------


class PrometheusAgent(pulumi.ComponentResource):
    """Prometheus in agent mode in one EKS cluster, writing into one AMP workspace.

    Args:
        name: logical name prefix of every child.
        args: validated `PrometheusAgentArgs`.
        cluster_name: the EKS cluster's name: the `cluster` label of every series, and the Pod
            Identity association's cluster.
        cluster_arn: its ARN; must name the same cluster (the role's trust admits its pods only).
        workspace_arn: the AMP workspace the agents may write into (and nothing else).
        prometheus_endpoint: that workspace's endpoint (`Workspace.prometheus_endpoint`).
        kubernetes_provider: the cluster's provider, the only one the Kubernetes resources use.
        opts: resource options; the AWS provider pinned to the cluster's region comes from here or
            from the parent.

    Attributes:
        role: the agents' IAM role; `role_arn`.
        identity: the Pod Identity association.
        namespace: the agents' namespace.
        config: the agents' `prometheus.yml`; `config_map` holds it.
        deployment: the agents.
        remote_write_url: where they write.
    """

    def __init__(
        self,
        name: str,
        args: PrometheusAgentArgs,
        *,
        cluster_name: str,
        cluster_arn: pulumi.Input[str],
        workspace_arn: pulumi.Input[str],
        prometheus_endpoint: pulumi.Input[str],
        kubernetes_provider: k8s.Provider,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("meridian:telemetry:PrometheusAgent", name, None, opts)
        context = AwsContext.of(self)
        arn = pulumi.Output.from_input(cluster_arn)
        endpoint = pulumi.Output.from_input(prometheus_endpoint)
        self.remote_write_url: pulumi.Output[str] = endpoint.apply(remote_write_url)

        identity = pod_identity_role(
            f"{name}-role",
            description=f"Prometheus agent of {cluster_name}: remote write into one AMP workspace "
            "(EKS Pod Identity)",
            account=context.account,
            cluster_arn=arn,
            cluster_name=cluster_name,
            namespace=AGENT_NAMESPACE,
            service_account=AGENT_SERVICE_ACCOUNT,
            policy=pulumi.Output.from_input(workspace_arn).apply(
                lambda v: json.dumps(remote_write_policy(v))
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.role, self.identity = identity.role, identity.association
        self.role_arn: pulumi.Output[str] = self.role.arn

        in_cluster = pulumi.ResourceOptions(parent=self, provider=kubernetes_provider)
        rules: Any = AGENT_CLUSTER_ROLE_RULES  # PolicyRuleArgsDicts
        cluster_role = k8s.rbac.v1.ClusterRole(
            f"{name}-cluster-role", metadata={"name": _NAME}, rules=rules, opts=in_cluster
        )
        role_ref: Any = {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": cluster_role.metadata.name,
        }
        subject: Any = {"kind": "ServiceAccount", "name": AGENT_SERVICE_ACCOUNT, "namespace": AGENT_NAMESPACE}
        binding = k8s.rbac.v1.ClusterRoleBinding(
            f"{name}-cluster-role",
            metadata={"name": _NAME},
            role_ref=role_ref,
            subjects=[subject],
            opts=pulumi.ResourceOptions(parent=cluster_role, provider=kubernetes_provider),
        )
        # Pods only: no host paths, ports or namespaces, so the strictest level holds.
        self.namespace = psa_namespace(
            f"{name}-namespace", AGENT_NAMESPACE, PodSecurity.RESTRICTED, opts=in_cluster
        )
        in_namespace = pulumi.ResourceOptions(parent=self.namespace, provider=kubernetes_provider)
        namespace_name = self.namespace.metadata.name
        service_account = k8s.core.v1.ServiceAccount(
            f"{name}-service-account",
            metadata={"name": AGENT_SERVICE_ACCOUNT, "namespace": namespace_name},
            opts=in_namespace,
        )
        self.config: pulumi.Output[str] = pulumi.Output.all(arn, context.region, endpoint).apply(
            lambda v: agent_configuration(
                cluster_arn=v[0],
                cluster_name=cluster_name,
                region=v[1],
                prometheus_endpoint=v[2],
                interval_seconds=args.scrape_interval_seconds,
            )
        )
        # A change of its data replaces the ConfigMap (pulumi-kubernetes; by the same name, so
        # deleted first); the pods keep the files they mounted until the checksum rolls them.
        self.config_map = k8s.core.v1.ConfigMap(
            f"{name}-config",
            metadata={"name": _NAME, "namespace": namespace_name, "labels": dict(AGENT_POD_LABELS)},
            data={_CONFIG_KEY: self.config},
            opts=in_namespace,
        )
        # Known in a preview whatever is unknown yet; only the checksum waits for the configuration.
        spec: Any = agent_deployment_spec(
            image=args.image,
            replicas=args.replicas,
            config_map=_NAME,
            checksum=self.config.apply(config_checksum),
        )
        self.deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata={"name": _NAME, "namespace": namespace_name, "labels": dict(AGENT_POD_LABELS)},
            spec=spec,
            opts=pulumi.ResourceOptions.merge(
                in_namespace,
                # Pod Identity credentials are injected when a pod starts: the association first;
                # the agent lists the cluster from its first scrape: the binding first.
                pulumi.ResourceOptions(depends_on=[self.identity, service_account, binding, self.config_map]),
            ),
        )
        budget: Any = disruption_budget_spec(args.replicas)
        k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb",
            metadata={"name": _NAME, "namespace": namespace_name},
            spec=budget,
            opts=in_namespace,
        )
        self.register_outputs({"roleArn": self.role_arn, "remoteWriteUrl": self.remote_write_url})
