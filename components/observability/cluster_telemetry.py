"""ClusterTelemetry: one region's metrics (Amazon Managed Service for Prometheus) and container logs.

    ClusterTelemetry  (meridian:telemetry:ClusterTelemetry)
    ├── AMP workspace        alias `<namePrefix>`, encrypted with the region's key; its own logs
    │   └── LogGroup         `/aws/vendedlogs/prometheus/<namePrefix>`, encrypted, with retention,
    │                        and the resource policy letting log delivery write to it (only)
    ├── PrometheusAgent      `collector: agent` (the default): Prometheus in agent mode in the
    │                        cluster, Pod Identity, remote write into this workspace only
    │                        (`components/observability/prometheus_agent.py`)
    ├── scraper roles        `collector: managed` only: source (assumed by the AMP collector service
    │                        for this account's scrapers) → target (remote write into this workspace)
    ├── Scraper              `collector: managed` only: AMP managed collector; its ENIs in the
    │                        cluster's subnets
    ├── LogGroup             `/aws/eks/<cluster>/containers`, encrypted, with retention
    ├── Fluent Bit role      Pod Identity (this cluster only): write that log group's streams, nothing else
    ├── Namespace            `aws-for-fluent-bit`, PSA privileged (the DaemonSet mounts the nodes' /var/log)
    └── Helm release         aws-for-fluent-bit, pinned, on every node, the CloudWatch Logs output only

Both collectors scrape the same jobs (`components/observability/scrape.py`): API server, kubelet, cAdvisor,
scheduler and controller manager, and annotated pods.

Why the agent is the default: AMP's "Encryption at rest" page says a workspace under a customer
managed key cannot take a managed collector, and every workspace here is under the region's key. A
Prometheus agent is a plain remote-write client, which such a workspace accepts. `collector: managed`
keeps the managed collector below, for a stack whose staging `pulumi up` has shown AMP accepts it.

The managed collector, verified against the AMP user guide ("Using an AWS managed collector",
"Encryption at rest"):

- A workspace under a customer managed key takes a scraper only with a *role configuration*, its
  source and target roles in the same account; the scraper's own service-linked role
  (`scraper.role_arn`) still reads the cluster. (The "Encryption at rest" page still says such
  workspaces cannot use managed collectors at all; the collector page documents the roles. The first
  `pulumi up` tells which is current.)
- The cluster runs in `API` authentication mode, so AMP creates the scraper's EKS access entry itself
  when the scraper is created (with the rules of the guide's `aps-collector-role`: nodes,
  nodes/proxy, nodes/metrics, pods, services, endpoints, configmaps, ingresses get/list/watch,
  `/metrics`, and the `metrics.eks.amazonaws.com` control-plane metrics) and its service-linked role
  deletes that entry with the scraper. Nothing is declared for it here: an `AccessEntry` for the same
  role would fail with ResourceInUseException, and the guide's `aps-collector-user` ClusterRole and
  binding belong to the `aws-auth` ConfigMap procedure, which an `API`-mode cluster does not read.
- Managed collectors scrape no faster than every 30 s, resolve no name but
  `kubernetes.default.svc`, and authenticate only with the service account token (`Bearer`).

Meshed pods: Istio's metrics merging (`enablePrometheusMerge`, on in `ServiceMesh`) points their
`prometheus.io/*` annotations at the sidecar's plain-text port 15020, which the sidecar does not
intercept, so a collector outside the mesh reaches it through STRICT mTLS; a namespace that denies
ingress by default (the API's) must admit the collector on that port: the agent's pods
(`AppEnvelope.allow_ingress_from_pods`), or the managed collector's subnets.

The AWS provider comes from the parent or `opts` (pin it to the region); Kubernetes resources use
only the `kubernetes_provider` given.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from ..core.iam import managed_policy_role, pod_identity_role
from ..core.kube import SYSTEM_TOLERATION, PodSecurity, psa_namespace
from ..core.logs import encrypted_log_group
from ..core.lookups import AwsContext
from ..core.policies import log_delivery_policy
from .args import (
    PrometheusAgentArgs,
    TelemetryArgs,
)
from .policies import (
    log_writer_policy,
    scraper_source_policy,
    scraper_source_trust,
    scraper_target_policy,
    scraper_target_trust,
)
from .prometheus_agent import PrometheusAgent
from .scrape import prometheus_configuration

__all__ = [
    "FLUENT_BIT_CHART",
    "FLUENT_BIT_NAMESPACE",
    "FLUENT_BIT_REPOSITORY",
    "FLUENT_BIT_SERVICE_ACCOUNT",
    "SIDECAR_METRICS_PORT",
    "ClusterTelemetry",
    "fluent_bit_values",
    "log_writer_policy",
    "scrape_configuration",
    "scraper_source_policy",
    "scraper_source_trust",
    "scraper_target_policy",
    "scraper_target_trust",
]

#: The `aws-for-fluent-bit` chart and the repository it is published in (AWS's EKS charts).
FLUENT_BIT_CHART = "aws-for-fluent-bit"
FLUENT_BIT_REPOSITORY = "https://aws.github.io/eks-charts"
FLUENT_BIT_NAMESPACE = "aws-for-fluent-bit"
FLUENT_BIT_SERVICE_ACCOUNT = "aws-for-fluent-bit"


#: Every other output the chart can render; all off, so logs leave the node for one group only.
_OTHER_OUTPUTS = ("cloudWatch", "firehose", "kinesis", "kinesis_streams", "elasticsearch", "opensearch", "s3")

#: The port Istio's sidecar serves a meshed pod's merged Prometheus metrics on (plain text, so the
#: collector reaches it through STRICT mTLS); a namespace that denies ingress must admit it.
SIDECAR_METRICS_PORT = 15020


# -- documents (pure functions of ARNs) ----------------------------------------------------------


def scrape_configuration(cluster_arn: str, interval_seconds: int) -> str:
    """The managed collector's Prometheus configuration, exactly as AMP takes it: the shared jobs
    (`components.observability.scrape`), the cluster's ARN as external label, no `remote_write`
    (AMP writes)."""
    return prometheus_configuration(interval_seconds, {"clusterArn": cluster_arn})


def fluent_bit_values(region: str, log_group: str) -> dict[str, Any]:
    """Values of the `aws-for-fluent-bit` chart: every container's log to `log_group` in `region`
    through the `cloudwatch_logs` output (no per-namespace groups, no group creation), every other
    output off, on every node (the `system` nodes' taint tolerated), as a node-critical DaemonSet."""
    return {
        "serviceAccount": {"create": True, "name": FLUENT_BIT_SERVICE_ACCOUNT},
        "cloudWatchLogs": {
            "enabled": True,
            "region": region,
            "logGroupName": log_group,
            # The chart's default template sends each namespace to a group of its own.
            "logGroupTemplate": "",
            "autoCreateGroup": False,
        },
        **{output: {"enabled": False} for output in _OTHER_OUTPUTS},
        "tolerations": [SYSTEM_TOLERATION],
        "priorityClassName": "system-node-critical",
    }


# -- the component ---------------------------------------------------------------------------------


class ClusterTelemetry(pulumi.ComponentResource):
    """Metrics (AMP workspace, and a Prometheus agent in the cluster or AMP's managed collector)
    and container logs (Fluent Bit to CloudWatch Logs) of one region's EKS cluster.

    Args:
        name: logical name prefix of every child.
        args: validated `TelemetryArgs`.
        cluster_name: the EKS cluster's name (`EksClusterArgs.cluster_name`); the container log
            group is `/aws/eks/<cluster_name>/containers`.
        cluster_arn: its ARN (`EksCluster.cluster.arn`); must name the same cluster.
        kubernetes_provider: the cluster's provider (`EksCluster.kubernetes_provider`), the only
            one the Kubernetes resources (Fluent Bit's, the agent's) use.
        subnet_ids: where the managed collector's ENIs go (`collector: managed` only): the
            cluster's subnets, in two AZs at least (`EksCluster.cluster.vpc_config.subnet_ids`).
        security_group_ids: the managed collector's ENIs' groups (`collector: managed` only), AWS's
            advice: the cluster security group
            (`EksCluster.cluster.vpc_config.cluster_security_group_id`), which reaches the API
            server and every node.
        kms_key_arn: the region's customer-managed key (workspace data, both log groups).
        opts: resource options; the AWS provider pinned to the region comes from here
            (`providers=[provider]`) or from the parent.

    Attributes:
        workspace: the AMP workspace; `workspace_arn`, `workspace_id`, `prometheus_endpoint`.
        agent: the `PrometheusAgent` (`collector: agent`), else None.
        scraper: the managed collector (`collector: managed`), else None; `scraper_arn` (None with
            the agent).
        scraper_source_role, scraper_target_role: its role configuration (None with the agent).
        container_log_group: the containers' log group; `container_log_group_name`.
        fluent_bit_role: the IAM role of Fluent Bit's pods.
        fluent_bit: the Helm release; `fluent_bit_namespace`, the Namespace it lives in.
    """

    def __init__(
        self,
        name: str,
        args: TelemetryArgs,
        *,
        cluster_name: str,
        cluster_arn: pulumi.Input[str],
        kubernetes_provider: k8s.Provider,
        subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]],
        security_group_ids: pulumi.Input[Sequence[pulumi.Input[str]]],
        kms_key_arn: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("meridian:telemetry:ClusterTelemetry", name, None, opts)
        context = AwsContext.of(self)
        account, partition, region = context.account, context.partition, context.region
        key_arn = pulumi.Output.from_input(kms_key_arn)
        arn = pulumi.Output.from_input(cluster_arn)

        self.workspace = self._workspace(name, args, key_arn, context)
        self.workspace_arn: pulumi.Output[str] = self.workspace.arn
        self.workspace_id: pulumi.Output[str] = self.workspace.id
        self.prometheus_endpoint: pulumi.Output[str] = self.workspace.prometheus_endpoint

        self.agent: PrometheusAgent | None = None
        self.scraper: aws.amp.Scraper | None = None
        self.scraper_arn: pulumi.Output[str] | None = None
        self.scraper_source_role: aws.iam.Role | None = None
        self.scraper_target_role: aws.iam.Role | None = None
        if args.collector == "agent":
            self.agent = PrometheusAgent(
                f"{name}-agent",
                PrometheusAgentArgs(
                    replicas=args.agent_replicas,
                    image=args.agent_image,
                    scrape_interval_seconds=args.scrape_interval_seconds,
                ),
                cluster_name=cluster_name,
                cluster_arn=arn,
                workspace_arn=self.workspace.arn,
                prometheus_endpoint=self.workspace.prometheus_endpoint,
                kubernetes_provider=kubernetes_provider,
                opts=pulumi.ResourceOptions(parent=self),
            )
        else:
            self._managed_collector(name, args, arn, subnet_ids, security_group_ids, key_arn, context)

        container_group = f"/aws/eks/{cluster_name}/containers"
        self.container_log_group = encrypted_log_group(
            f"{name}-container-logs",
            name=container_group,
            kms_key_arn=key_arn,
            retention_days=args.log_retention_days,
            protect=args.protect,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.container_log_group_name: pulumi.Output[str] = self.container_log_group.name
        fluent_bit = pod_identity_role(
            f"{name}-fluent-bit",
            description=f"Fluent Bit of {cluster_name}: writes {container_group} (EKS Pod Identity)",
            account=account,
            cluster_arn=arn,
            cluster_name=cluster_name,
            namespace=FLUENT_BIT_NAMESPACE,
            service_account=FLUENT_BIT_SERVICE_ACCOUNT,
            policy=pulumi.Output.all(partition, region, account).apply(
                lambda v: json.dumps(log_writer_policy(v[0], v[1], v[2], container_group))
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.fluent_bit_role, identity = fluent_bit.role, fluent_bit.association
        in_cluster = pulumi.ResourceOptions(parent=self, provider=kubernetes_provider)
        # hostPath volumes (the nodes' /var/log) are beyond the baseline level.
        self.fluent_bit_namespace = namespace = psa_namespace(
            f"{name}-fluent-bit", FLUENT_BIT_NAMESPACE, PodSecurity.PRIVILEGED, opts=in_cluster
        )
        self.fluent_bit = k8s.helm.v3.Release(
            f"{name}-fluent-bit",
            name=FLUENT_BIT_CHART,
            chart=FLUENT_BIT_CHART,
            version=args.fluent_bit_chart_version,
            repository_opts={"repo": FLUENT_BIT_REPOSITORY},
            namespace=namespace.metadata.name,
            values=region.apply(lambda r: fluent_bit_values(r, container_group)),
            atomic=True,
            opts=pulumi.ResourceOptions.merge(
                in_cluster,
                # Pod Identity credentials are injected when a pod starts: the association first.
                pulumi.ResourceOptions(depends_on=[namespace, identity, self.container_log_group]),
            ),
        )
        self.register_outputs(
            {
                "workspaceArn": self.workspace_arn,
                "prometheusEndpoint": self.prometheus_endpoint,
                **({"scraperArn": self.scraper_arn} if self.scraper_arn is not None else {}),
                "containerLogGroupName": self.container_log_group_name,
            }
        )

    def _managed_collector(
        self,
        name: str,
        args: TelemetryArgs,
        arn: pulumi.Output[str],
        subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]],
        security_group_ids: pulumi.Input[Sequence[pulumi.Input[str]]],
        key_arn: pulumi.Output[str],
        context: AwsContext,
    ) -> None:
        """AMP's managed collector and its role configuration (`collector: managed`)."""
        account, partition, region = context.account, context.partition, context.region
        source_role = self.scraper_source_role = managed_policy_role(
            f"{name}-scraper-source",
            description=f"{args.name_prefix}: AMP collector (source role)",
            trust=pulumi.Output.all(partition, region, account).apply(
                lambda v: json.dumps(scraper_source_trust(v[0], v[1], v[2]))
            ),
            managed_policies=(),
            partition=partition,
            opts=pulumi.ResourceOptions(parent=self),
        )
        target_role = self.scraper_target_role = managed_policy_role(
            f"{name}-scraper-target",
            description=f"{args.name_prefix}: AMP collector (remote write into {args.name_prefix})",
            trust=pulumi.Output.all(partition, region, account, source_role.arn).apply(
                lambda v: json.dumps(scraper_target_trust(v[0], v[1], v[2], v[3]))
            ),
            managed_policies=(),
            partition=partition,
            opts=pulumi.ResourceOptions(parent=self),
        )
        source_policy = aws.iam.RolePolicy(
            f"{name}-scraper-source",
            role=source_role.id,
            policy=target_role.arn.apply(lambda v: json.dumps(scraper_source_policy(v))),
            opts=pulumi.ResourceOptions(parent=source_role),
        )
        target_policy = aws.iam.RolePolicy(
            f"{name}-scraper-target",
            role=target_role.id,
            policy=pulumi.Output.all(self.workspace.arn, key_arn, region).apply(
                lambda v: json.dumps(scraper_target_policy(v[0], v[1], v[2]))
            ),
            opts=pulumi.ResourceOptions(parent=target_role),
        )
        scraper = self.scraper = aws.amp.Scraper(
            f"{name}-scraper",
            alias=args.name_prefix,
            source={
                "eks": {
                    "cluster_arn": arn,
                    "subnet_ids": subnet_ids,
                    "security_group_ids": security_group_ids,
                }
            },
            destination={"amp": {"workspace_arn": self.workspace.arn}},
            role_configuration={
                "source_role_arn": source_role.arn,
                "target_role_arn": target_role.arn,
            },
            scrape_configuration=arn.apply(lambda v: scrape_configuration(v, args.scrape_interval_seconds)),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[source_policy, target_policy]),
        )
        self.scraper_arn = scraper.arn

    def _workspace(
        self, name: str, args: TelemetryArgs, key_arn: pulumi.Output[str], context: AwsContext
    ) -> aws.amp.Workspace:
        group = f"/aws/vendedlogs/prometheus/{args.name_prefix}"
        log_group = encrypted_log_group(
            f"{name}-workspace-logs",
            name=group,
            kms_key_arn=key_arn,
            retention_days=args.log_retention_days,
            protect=args.protect,
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Declared, so that AMP does not add a policy of its own outside the stack (an account has
        # ten per region); log delivery may write to this group only.
        delivery = aws.cloudwatch.LogResourcePolicy(
            f"{name}-workspace-logs",
            policy_name=f"{args.name_prefix}-amp-log-delivery",
            policy_document=pulumi.Output.all(context.partition, context.region, context.account).apply(
                lambda v: json.dumps(log_delivery_policy(v[0], v[1], v[2], group))
            ),
            opts=pulumi.ResourceOptions(parent=log_group),
        )
        return aws.amp.Workspace(
            f"{name}-workspace",
            alias=args.name_prefix,
            kms_key_arn=key_arn,
            logging_configuration={"log_group_arn": pulumi.Output.concat(log_group.arn, ":*")},
            # A managed collector tags its destination so; declared (with `collector: managed` only),
            # `pulumi up` does not remove it.
            tags={"AMPAgentlessScraper": ""} if args.collector == "managed" else None,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, depends_on=[delivery]),
        )
