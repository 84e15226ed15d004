"""Network: a VPC in eu-central-1 with public, private and isolated subnets in two AZs.

The team's own `aws.Provider` pins everything to the region; the flow logs are encrypted with the
team's own KMS key (`RegionKey`: its key policy lets CloudWatch Logs in the region use it). One NAT
gateway keeps a non-production network cheap; the default is one per AZ.

Run it with `pulumi up` in a Python project whose Pulumi.yaml says `main: network.py`.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from components import NatGatewayMode, Network, NetworkArgs, RegionKey

REGION = "eu-central-1"


def main() -> dict[str, Any]:
    provider = aws.Provider("euc1", region=REGION)
    pinned = pulumi.ResourceOptions(providers=[provider])
    key = RegionKey("payments-euc1", region=REGION, deletion_window_days=30, protect=True, opts=pinned)
    network = Network(
        "payments-euc1",
        NetworkArgs(cidr="10.21.0.0/18", az_ids=("euc1-az1", "euc1-az2"), nat_gateways=NatGatewayMode.SINGLE),
        kms_key_arn=key.arn,
        opts=pinned,
    )
    exports = {
        "vpcId": network.vpc_id,
        "availabilityZones": network.availability_zones,
        "publicSubnetIds": network.public_subnet_ids,
        "privateSubnetIds": network.private_subnet_ids,
        "isolatedSubnetIds": network.isolated_subnet_ids,
        "flowLogGroupName": network.flow_log_group.name,
    }
    for name, value in exports.items():
        pulumi.export(name, value)
    return exports


if __name__ == "__main__":
    main()
