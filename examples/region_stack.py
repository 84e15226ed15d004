"""RegionStack: a whole region (provider, KMS key, network, EKS cluster) with a Redis cache attached.

RegionStack makes its own `aws.Provider` pinned to `args.region` (`region.provider`: pass it to
anything you add to the region) and its own KMS key (`region.kms_key_arn`). Data stores are attached
after construction: `attach_redis` (here) and `attach_postgres` put them on the isolated subnets,
admit the cluster's nodes only, and let the API's pods reach them (a NetworkPolicy egress on the
port, and an IAM grant on the pods' role).

Run it with `pulumi up` in a Python project whose Pulumi.yaml says `main: region_stack.py`.
"""

from __future__ import annotations

from typing import Any

import pulumi

from components import (
    AddonVersions,
    EksClusterArgs,
    EksSizes,
    IstioSettings,
    KarpenterSettings,
    MaxmemoryPolicy,
    NetworkArgs,
    RedisClusterArgs,
    RedisRole,
    RedisSizes,
    RegionRole,
    RegionStack,
    RegionStackArgs,
    edge_source_ranges,
)


def main() -> dict[str, Any]:
    region = RegionStack(
        "eu-central-1",
        RegionStackArgs(
            region="eu-central-1",
            role=RegionRole.PRIMARY,
            name_prefix="payments-prod",
            network=NetworkArgs(cidr="10.20.0.0/16", az_ids=("euc1-az1", "euc1-az2", "euc1-az3")),
            tags={"owner": "payments"},
            eks=EksClusterArgs(
                cluster_name="payments-prod-euc1",
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
                    node_instance_types=("m7i.xlarge",),
                    min_nodes=3, desired_nodes=3, max_nodes=10,
                    burst_vcpus=64, api_min_replicas=3, api_max_replicas=30,
                ),
            ),
        ),
        origin_sources=edge_source_ranges("payments-edge-ranges"),  # the CDN's published ranges only
    )  # fmt: skip
    region.attach_redis(
        RedisClusterArgs(
            replication_group_id="payments-prod-euc1-cache",
            store="cache",
            roles=(RedisRole.CACHE,),
            maxmemory_policy=MaxmemoryPolicy.ALLKEYS_LRU,
            secret_name="payments/redis/cache",
            sizes=RedisSizes(node_type="cache.r7g.large", shards=2, replicas_per_shard=1),
        )
    )
    exports = region.outputs()  # vpcId, subnets, kmsKeyArn, clusterName, ingressHostname, redis, …
    for name, value in exports.items():
        pulumi.export(name, value)
    return exports


if __name__ == "__main__":
    main()
