"""RedisCluster: a regional Valkey cache in eu-central-1, and the IAM policy its clients need.

The cache sits on the isolated subnets of the team's own network, under its own provider and KMS
key, and admits one security group (your application's). Its app user's password is generated and
kept in Secrets Manager only; `client_policy()` is what a role needs to read it. A global datastore
is `membership=Membership.PRIMARY` plus `global_datastore_suffix`; its secondaries take
`membership=Membership.SECONDARY` and `primary=<that RedisCluster>`.

Run it with `pulumi up` in a Python project whose Pulumi.yaml says `main: redis_cluster.py`.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from components import (
    MaxmemoryPolicy,
    Network,
    NetworkArgs,
    RedisCluster,
    RedisClusterArgs,
    RedisRole,
    RedisSizes,
    RegionKey,
)

REGION = "eu-central-1"


def main() -> dict[str, Any]:
    provider = aws.Provider("euc1", region=REGION)
    pinned = pulumi.ResourceOptions(providers=[provider])
    key = RegionKey("payments-euc1", region=REGION, deletion_window_days=30, protect=True, opts=pinned)
    network = Network(
        "payments-euc1",
        NetworkArgs(cidr="10.23.0.0/16", az_ids=("euc1-az1", "euc1-az2", "euc1-az3")),
        kms_key_arn=key.arn,
        opts=pinned,
    )
    clients = aws.ec2.SecurityGroup(
        "payments-cache-clients",
        vpc_id=network.vpc_id,
        description="Applications that use the payments cache",
        opts=pinned,
    )
    cache = RedisCluster(
        "payments-cache",
        RedisClusterArgs(
            replication_group_id="payments-euc1-cache",
            store="cache",
            roles=(RedisRole.CACHE,),
            maxmemory_policy=MaxmemoryPolicy.ALLKEYS_LRU,
            secret_name="payments/redis/cache",
            sizes=RedisSizes(node_type="cache.r7g.large", shards=2, replicas_per_shard=1),
        ),
        vpc_id=network.vpc_id,
        subnet_ids=network.isolated_subnet_ids,
        client_security_group_id=clients.id,
        kms_key_arn=key.arn,
        opts=pinned,
    )
    # Attach this to the role your application runs as.
    client_policy = aws.iam.Policy(
        "payments-cache-client",
        description="Read the payments cache's credentials",
        policy=cache.client_policy(),
        opts=pinned,
    )
    exports = {**cache.outputs(), "clientPolicyArn": client_policy.arn}
    for name, value in exports.items():
        pulumi.export(name, value)
    return exports


if __name__ == "__main__":
    main()
