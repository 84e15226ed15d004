"""PostgresCluster: an Aurora PostgreSQL global database, its writer in eu-central-1 and a
secondary in eu-west-1.

Each region has its own provider, KMS key, network and the security group of the database's
clients (your application's: the proxy admits it only). The writer creates the global cluster and
the master secret, replicated to the secondary's region under that region's key
(`secret_replicas`), and copies its AWS Backup snapshots to a vault in the secondary's region. The
secondary joins the writer's global cluster (`writer=`).

Run it with `pulumi up` in a Python project whose Pulumi.yaml says `main: postgres_cluster.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components import (
    ClusterRole,
    Network,
    NetworkArgs,
    PostgresCluster,
    PostgresClusterArgs,
    PostgresSizes,
    RegionKey,
    copy_vault,
)


@dataclass(frozen=True)
class Region:
    """What a member cluster needs from its region."""

    name: str
    pinned: pulumi.ResourceOptions
    key: RegionKey
    network: Network
    clients: aws.ec2.SecurityGroup


def region(name: str, cidr: str, az_ids: tuple[str, ...]) -> Region:
    provider = aws.Provider(name, region=name)
    pinned = pulumi.ResourceOptions(providers=[provider])
    key = RegionKey(f"ledger-{name}", region=name, deletion_window_days=30, protect=True, opts=pinned)
    network = Network(
        f"ledger-{name}", NetworkArgs(cidr=cidr, az_ids=az_ids), kms_key_arn=key.arn, opts=pinned
    )
    clients = aws.ec2.SecurityGroup(
        f"ledger-clients-{name}",
        vpc_id=network.vpc_id,
        description="Applications that use the ledger database",
        opts=pinned,
    )
    return Region(name, pinned, key, network, clients)


def main() -> dict[str, Any]:
    # AZs by id: the same zones in every account, whatever the zones' names or states.
    euc1 = region("eu-central-1", "10.30.0.0/16", ("euc1-az1", "euc1-az2", "euc1-az3"))
    euw1 = region("eu-west-1", "10.31.0.0/16", ("euw1-az1", "euw1-az2", "euw1-az3"))
    sizes = PostgresSizes(instance_class="db.r7g.large", reader_instances=1)
    writer = PostgresCluster(
        "ledger-euc1",
        PostgresClusterArgs(
            engine_version="16.8", global_cluster_identifier="ledger", cluster_identifier="ledger-euc1",
            role=ClusterRole.WRITER, secret_name="ledger/master", sizes=sizes,
        ),
        vpc_id=euc1.network.vpc_id,
        subnet_ids=euc1.network.isolated_subnet_ids,
        availability_zones=euc1.network.availability_zones,
        client_security_group_id=euc1.clients.id,
        kms_key_arn=euc1.key.arn,
        secret_replicas={euw1.name: euw1.key.arn},
        backup_copy_vault_arn=copy_vault(
            "ledger-euc1-copy", kms_key_arn=euw1.key.arn, protect=True, opts=euw1.pinned
        ).arn,
        opts=euc1.pinned,
    )  # fmt: skip
    secondary = PostgresCluster(
        "ledger-euw1",
        PostgresClusterArgs(
            engine_version="16.8", global_cluster_identifier="ledger", cluster_identifier="ledger-euw1",
            role=ClusterRole.SECONDARY, sizes=sizes,
        ),
        vpc_id=euw1.network.vpc_id,
        subnet_ids=euw1.network.isolated_subnet_ids,
        availability_zones=euw1.network.availability_zones,
        client_security_group_id=euw1.clients.id,
        kms_key_arn=euw1.key.arn,
        writer=writer,
        opts=euw1.pinned,
    )  # fmt: skip
    exports = {
        "globalWriterEndpoint": writer.global_writer_endpoint,
        euc1.name: writer.outputs(),
        euw1.name: secondary.outputs(),
    }
    for name, value in exports.items():
        pulumi.export(name, value)
    return exports


if __name__ == "__main__":
    main()
