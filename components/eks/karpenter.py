"""Karpenter: node autoscaling for pods the managed `apps` group has no room for.

    Karpenter  (meridian:eks:Karpenter)
    ├── interruption queue (SQS) + EventBridge rules    spot, rebalance, health and state events
    ├── node role + EC2_LINUX access entry             what Karpenter's nodes run as
    ├── controller role + Pod Identity association     kube-system/karpenter, scoped to this cluster
    ├── Helm release `karpenter-crd`                    the CRDs, pinned with the controller
    ├── Helm release                                    the controller, pinned, on the system nodes
    ├── EC2NodeClass `default`                          private subnets, node security groups,
    │                                                   IMDSv2 (hop 1), encrypted gp3, pinned AMI
    └── NodePool `burst`                                config's instance types, on-demand, vCPU limit

Why Karpenter rather than Cluster Autoscaler: it launches right-sized instances straight from pending
pods in seconds (no per-instance-type node group), consolidates under-used nodes, and drains nodes
ahead of spot interruptions and AWS maintenance from the queue above.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from ..core.iam import managed_policy_role, pod_identity_trust_document
from ..core.kube import NODE_GROUP_LABEL, ON_SYSTEM_NODES
from ..core.lookups import AwsContext
from ..core.sizes import EksSizes
from .args import KarpenterSettings
from .policies import ec2_trust, interruption_queue_policy, karpenter_controller_policy

__all__ = ["INTERRUPTION_EVENTS", "NODE_IMDS_HOP_LIMIT", "NODE_POLICIES", "NODE_ROOT_DEVICE", "Karpenter"]

#: IMDSv2 hop limit of every node: 1 keeps pods away from the node's credentials (add-ons use Pod
#: Identity instead), and the root device AL2023 boots from.
NODE_IMDS_HOP_LIMIT = 1
NODE_ROOT_DEVICE = "/dev/xvda"

#: What a node needs: join the cluster and pull images (pod networking's rights sit with vpc-cni).
NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly")

CHART = "oci://public.ecr.aws/karpenter/karpenter"
#: The CRDs as templates of their own chart: Helm installs a chart's `crds/` directory on install
#: only and never upgrades it, so the controller chart's copy would stay at its first version
#: (Karpenter's upgrade guide, "CRD Upgrades": use the `karpenter-crd` chart). Same version as the
#: controller; since 1.1 its CRDs have no conversion webhook, so the chart takes no webhook values.
CRD_CHART = "oci://public.ecr.aws/karpenter/karpenter-crd"
CRD_RELEASE = "karpenter-crd"
NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "karpenter"

#: EventBridge patterns whose events Karpenter acts on (drain and replace the node in time).
INTERRUPTION_EVENTS: dict[str, dict[str, Any]] = {
    "health": {"source": ["aws.health"], "detail-type": ["AWS Health Event"]},
    "spot-interruption": {"source": ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"]},
    "rebalance": {"source": ["aws.ec2"], "detail-type": ["EC2 Instance Rebalance Recommendation"]},
    "state-change": {"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"]},
}


class Karpenter(pulumi.ComponentResource):
    """Karpenter for one EKS cluster. Pass `providers=[aws_provider, kubernetes_provider]` (or inherit
    them from the parent).

    Attributes:
        queue: the interruption queue.
        node_role: the IAM role of Karpenter-launched nodes.
        controller_role: the IAM role of the controller (via EKS Pod Identity).
        crd_release: the Helm release of Karpenter's CRDs (`karpenter-crd`).
        release: the Helm release of the controller.
    """

    def __init__(
        self,
        name: str,
        *,
        cluster: aws.eks.Cluster,
        node_security_group_id: pulumi.Input[str],
        private_subnet_ids: pulumi.Input[Sequence[str]],
        kms_key_arn: pulumi.Input[str],
        settings: KarpenterSettings,
        nodes: EksSizes,
        root_volume_gib: int,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("meridian:eks:Karpenter", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        context = AwsContext.of(self)
        account, partition, region = context.account, context.partition, context.region

        self.queue = aws.sqs.Queue(
            f"{name}-interruptions",
            message_retention_seconds=300,
            # SSE-SQS: EventBridge cannot deliver to a queue under a customer key without opening
            # that key to it, and the queue holds only EC2 lifecycle notices, never data.
            sqs_managed_sse_enabled=True,
            opts=child,
        )
        aws.sqs.QueuePolicy(
            f"{name}-interruptions",
            queue_url=self.queue.url,
            policy=self.queue.arn.apply(lambda arn: json.dumps(interruption_queue_policy(arn))),
            opts=pulumi.ResourceOptions(parent=self.queue),
        )
        for event, pattern in INTERRUPTION_EVENTS.items():
            rule = aws.cloudwatch.EventRule(
                f"{name}-{event}",
                description=f"Karpenter of {name}: {pattern['detail-type'][0]}",
                event_pattern=json.dumps(pattern),
                opts=pulumi.ResourceOptions(parent=self.queue),
            )
            aws.cloudwatch.EventTarget(
                f"{name}-{event}",
                rule=rule.name,
                arn=self.queue.arn,
                opts=pulumi.ResourceOptions(parent=rule),
            )

        self.node_role = managed_policy_role(
            f"{name}-node",
            description=f"Nodes launched by Karpenter of {name}",
            trust=ec2_trust(),
            managed_policies=NODE_POLICIES,
            partition=partition,
            opts=pulumi.ResourceOptions(parent=self),
        )
        node_access = aws.eks.AccessEntry(
            f"{name}-node",
            cluster_name=cluster.name,
            principal_arn=self.node_role.arn,
            type="EC2_LINUX",
            opts=pulumi.ResourceOptions(parent=self.node_role),
        )

        self.controller_role = managed_policy_role(
            f"{name}-controller",
            description=f"Karpenter controller of {name} (EKS Pod Identity)",
            trust=pod_identity_trust_document(account, cluster.arn),
            managed_policies=(),
            partition=partition,
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.iam.RolePolicy(
            f"{name}-controller",
            role=self.controller_role.id,
            policy=pulumi.Output.all(
                partition,
                region,
                account,
                cluster.name,
                cluster.arn,
                self.node_role.arn,
                self.queue.arn,
                kms_key_arn,
            ).apply(
                lambda v: json.dumps(
                    karpenter_controller_policy(
                        partition=v[0],
                        region=v[1],
                        account=v[2],
                        cluster_name=v[3],
                        cluster_arn=v[4],
                        node_role_arn=v[5],
                        queue_arn=v[6],
                        key_arn=v[7],
                    )
                )
            ),
            opts=pulumi.ResourceOptions(parent=self.controller_role),
        )
        identity = aws.eks.PodIdentityAssociation(
            f"{name}-controller",
            cluster_name=cluster.name,
            namespace=NAMESPACE,
            service_account=SERVICE_ACCOUNT,
            role_arn=self.controller_role.arn,
            opts=pulumi.ResourceOptions(parent=self.controller_role),
        )

        self.crd_release = k8s.helm.v3.Release(
            f"{name}-crds",
            name=CRD_RELEASE,
            chart=CRD_CHART,
            version=settings.version,
            namespace=NAMESPACE,
            # Removing this release must not delete the CRDs: that would delete every NodePool and
            # NodeClaim, and with them every node Karpenter launched.
            values={"additionalAnnotations": {"helm.sh/resource-policy": "keep"}},
            # A cluster that ran an earlier meridian has these CRDs from the controller chart's
            # `crds/`, without Helm's ownership labels: adopt them (Helm `--take-ownership`)
            # rather than fail with "invalid ownership metadata". The chart holds Karpenter's CRDs
            # only, so it can adopt nothing else.
            take_ownership=True,
            atomic=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.release = k8s.helm.v3.Release(
            f"{name}-controller",
            name="karpenter",
            chart=CHART,
            version=settings.version,
            namespace=NAMESPACE,
            skip_crds=True,  # the `karpenter-crd` release above holds them
            values={
                "settings": {"clusterName": cluster.name, "interruptionQueue": self.queue.name},
                "serviceAccount": {"name": SERVICE_ACCOUNT},
                "replicas": 2,
                **ON_SYSTEM_NODES,
                "controller": {
                    "resources": {
                        "requests": {"cpu": "1", "memory": "1Gi"},
                        "limits": {"cpu": "1", "memory": "1Gi"},
                    }
                },
            },
            atomic=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[identity, node_access, self.crd_release]),
        )
        after_release = pulumi.ResourceOptions(
            parent=self.release, depends_on=[self.crd_release, self.release]
        )
        self.node_class = k8s.apiextensions.CustomResource(
            f"{name}-node-class",
            api_version="karpenter.k8s.aws/v1",
            kind="EC2NodeClass",
            metadata={"name": "default"},
            spec={
                "role": self.node_role.name,
                "amiSelectorTerms": [{"alias": settings.ami_alias}],
                "subnetSelectorTerms": pulumi.Output.from_input(private_subnet_ids).apply(
                    lambda ids: [{"id": subnet} for subnet in ids]
                ),
                "securityGroupSelectorTerms": [
                    {"id": cluster.vpc_config.cluster_security_group_id},
                    {"id": node_security_group_id},
                ],
                "metadataOptions": {
                    "httpEndpoint": "enabled",
                    "httpProtocolIPv6": "disabled",
                    "httpPutResponseHopLimit": NODE_IMDS_HOP_LIMIT,
                    "httpTokens": "required",
                },
                "blockDeviceMappings": [
                    {
                        "deviceName": NODE_ROOT_DEVICE,
                        "ebs": {
                            "volumeSize": f"{root_volume_gib}Gi",
                            "volumeType": "gp3",
                            "encrypted": True,
                            "kmsKeyID": kms_key_arn,
                            "deleteOnTermination": True,
                        },
                    }
                ],
                "tags": {"Name": pulumi.Output.concat(cluster.name, "-karpenter-node")},
            },
            opts=after_release,
        )
        self.node_pool = k8s.apiextensions.CustomResource(
            f"{name}-node-pool",
            api_version="karpenter.sh/v1",
            kind="NodePool",
            metadata={"name": "burst"},
            spec={
                "template": {
                    "metadata": {"labels": {NODE_GROUP_LABEL: "burst"}},
                    "spec": {
                        "nodeClassRef": {
                            "group": "karpenter.k8s.aws",
                            "kind": "EC2NodeClass",
                            "name": "default",
                        },
                        "requirements": [
                            {
                                "key": "node.kubernetes.io/instance-type",
                                "operator": "In",
                                "values": list(nodes.node_instance_types),
                            },
                            {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]},
                        ],
                        "expireAfter": "720h",
                    },
                },
                "limits": {"cpu": str(nodes.burst_vcpus)},
                "disruption": {
                    "consolidationPolicy": "WhenEmptyOrUnderutilized",
                    "consolidateAfter": "5m",
                    "budgets": [{"nodes": "10%"}],
                },
            },
            opts=pulumi.ResourceOptions(
                parent=self.release, depends_on=[self.crd_release, self.release, self.node_class]
            ),
        )
        self.register_outputs({"queueName": self.queue.name, "nodeRoleArn": self.node_role.arn})
