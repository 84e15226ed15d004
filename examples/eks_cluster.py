"""EksCluster: a hardened EKS cluster in a Network of its own, in eu-central-1.

The cluster runs on the network's private subnets (one per AZ) under the team's own provider and
KMS key (`RegionKey`: Auto Scaling may use it for the nodes' volumes, CloudWatch Logs for the
control-plane logs). It builds its own Kubernetes provider from its outputs (never a kubeconfig):
`cluster.kubernetes_provider` deploys anything else into it. Every version is pinned.

Run it with `pulumi up` in a Python project whose Pulumi.yaml says `main: eks_cluster.py`.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from components import (
    AddonVersions,
    EksCluster,
    EksClusterArgs,
    EksSizes,
    IstioSettings,
    KarpenterSettings,
    Network,
    NetworkArgs,
    RegionKey,
    edge_source_ranges,
)

REGION = "eu-central-1"


def main() -> dict[str, Any]:
    provider = aws.Provider("euc1", region=REGION)
    pinned = pulumi.ResourceOptions(providers=[provider])
    key = RegionKey("payments-euc1", region=REGION, deletion_window_days=30, protect=True, opts=pinned)
    network = Network(
        "payments-euc1",
        NetworkArgs(cidr="10.22.0.0/16", az_ids=("euc1-az1", "euc1-az2", "euc1-az3")),
        kms_key_arn=key.arn,
        opts=pinned,
    )
    cluster = EksCluster(
        "payments-euc1",
        EksClusterArgs(
            cluster_name="payments-euc1",
            hostname="api.payments.example.com",
            kubernetes_version="1.36",
            admin_principal_arns=("arn:aws:iam::111122223333:role/payments-admin",),
            addons=AddonVersions(
                vpc_cni="v1.23.1-eksbuild.1",
                coredns="v1.14.3-eksbuild.3",
                kube_proxy="v1.36.0-eksbuild.14",
                aws_ebs_csi_driver="v1.66.0-eksbuild.1",
                eks_pod_identity_agent="v1.3.10-eksbuild.3",
            ),
            istio=IstioSettings(version="1.31.1"),
            karpenter=KarpenterSettings(version="1.15.0", ami_alias="al2023@v20261119"),
            nodes=EksSizes(
                node_instance_types=("m7g.large",),
                min_nodes=2, desired_nodes=2, max_nodes=6,
                burst_vcpus=16, api_min_replicas=2, api_max_replicas=6,
            ),
        ),
        vpc_id=network.vpc_id,
        private_subnet_ids=network.private_subnet_ids,
        kms_key_arn=key.arn,
        # Your CDN's published ranges: the ingress NLB admits nothing else (here Cloudflare's).
        origin_sources=edge_source_ranges("payments-euc1-edge-ranges"),
        opts=pinned,
    )  # fmt: skip
    exports = {
        "clusterName": cluster.cluster_name,
        "endpoint": cluster.endpoint,
        "oidcIssuer": cluster.oidc_issuer,
        "nodeSecurityGroupId": cluster.node_security_group_id,
        "ingressHostname": cluster.ingress_hostname,
    }
    for name, value in exports.items():
        pulumi.export(name, value)
    return exports


if __name__ == "__main__":
    main()
