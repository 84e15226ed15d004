"""CdnEdge: Cloudflare in front of two regions, geo-steered from one hostname.

Each region is a RegionStack (its own provider, key, network and EKS cluster); the edge gets one
pool per region on the region's ingress hostname, and installs its origin certificate in every
region's ingress gateway before strict TLS and the load balancer are switched on. An edge needs at
least two regions: every Cloudflare region needs a pool to fail over to. The API token comes from
`CLOUDFLARE_API_TOKEN` (or pass `api_token=`, a secret).

Run it with `pulumi up` in a Python project whose Pulumi.yaml says `main: cdn_edge.py`.
"""

from __future__ import annotations

from typing import Any

import pulumi

from components import (
    AddonVersions,
    CdnEdge,
    CdnEdgeArgs,
    EksClusterArgs,
    EksSizes,
    IstioSettings,
    KarpenterSettings,
    NetworkArgs,
    RegionRole,
    RegionStack,
    RegionStackArgs,
    edge_source_ranges,
)

HOSTNAME = "api.payments.example.com"
#: Each region's VPC range and AZs, by id (use1-az3 is left out: EKS does not support it).
REGIONS = {
    "eu-central-1": ("10.40.0.0/16", ("euc1-az1", "euc1-az2", "euc1-az3")),
    "us-east-1": ("10.41.0.0/16", ("use1-az1", "use1-az2", "use1-az4")),
}


def eks(cluster_name: str) -> EksClusterArgs:
    return EksClusterArgs(
        cluster_name=cluster_name,
        hostname=HOSTNAME,
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
            node_instance_types=("m7i.xlarge",),
            min_nodes=3, desired_nodes=3, max_nodes=10,
            burst_vcpus=64, api_min_replicas=3, api_max_replicas=30,
        ),
    )  # fmt: skip


def main() -> dict[str, Any]:
    # Each region's ingress NLB admits Cloudflare's published ranges only, read at each `up`.
    cloudflare_ranges = edge_source_ranges("payments-edge-ranges")
    regions = {
        name: RegionStack(
            name,
            RegionStackArgs(
                region=name,
                role=RegionRole.PRIMARY,
                name_prefix="payments-prod",
                network=NetworkArgs(cidr=cidr, az_ids=az_ids),
                eks=eks(f"payments-prod-{name}"),
            ),
            origin_sources=cloudflare_ranges,
        )
        for name, (cidr, az_ids) in REGIONS.items()
    }
    edge = CdnEdge(
        "payments-edge",
        CdnEdgeArgs(
            account_id="f037e56e89293a057740de681ac9abbe",  # your Cloudflare account's id
            zone_id="023e105f4ecef8ad9ca31a8372d0c353",  # the id of the zone HOSTNAME is in
            hostname=HOSTNAME,
            alert_emails=("payments-oncall@example.com",),
            regions={name: RegionRole.PRIMARY for name in regions},
            fallback_region="eu-central-1",
            name_prefix="payments-prod",
        ),
        origins={name: region.eks.ingress_hostname for name, region in regions.items()},
        install_origin_certificate=lambda certificate, key, client_ca: [
            region.install_origin_certificate(certificate, key, client_ca) for region in regions.values()
        ],
    )
    exports = {
        **edge.outputs(),  # hostname, loadBalancerId, poolIds, steering, …
        "ingressHostnames": {name: region.eks.ingress_hostname for name, region in regions.items()},
    }
    for name, value in exports.items():
        pulumi.export(name, value)
    return exports


if __name__ == "__main__":
    main()
