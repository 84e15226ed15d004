"""RegionKey: one region's customer-managed KMS key, for its data stores, volumes, logs and alarms.

RegionKey  (meridian:region:RegionKey)
└── aws.kms.Key    symmetric, yearly rotation, policy `policies.region_key_policy`
    └── aws.kms.Alias   `alias/<name>`
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from ..core.lookups import AwsContext
from .policies import region_key_policy

__all__ = ["RegionKey"]


class RegionKey(pulumi.ComponentResource):
    """The region's customer-managed KMS key, usable by the account and by CloudWatch Logs.

    Attributes:
        key: the KMS key (symmetric, yearly automatic rotation).
        alias: `alias/<name>`.
        arn: the key's ARN, for `kms_key_id` arguments of the region's data stores and log groups.
    """

    def __init__(
        self,
        name: str,
        *,
        region: str,
        deletion_window_days: int,
        protect: bool,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("meridian:region:RegionKey", name, None, opts)
        context = AwsContext.of(self)
        policy = pulumi.Output.all(context.account, context.partition, context.dns_suffix).apply(
            lambda values: json.dumps(region_key_policy(values[0], region, values[1], values[2]))
        )
        self.key = aws.kms.Key(
            f"{name}-key",
            description=f"meridian {name}: encryption at rest for the region's data and logs",
            enable_key_rotation=True,
            deletion_window_in_days=deletion_window_days,
            policy=policy,
            opts=pulumi.ResourceOptions(parent=self, protect=protect),
        )
        self.alias = aws.kms.Alias(
            f"{name}-key-alias",
            name=f"alias/{name}",
            target_key_id=self.key.key_id,
            opts=pulumi.ResourceOptions(parent=self.key),
        )
        self.arn: pulumi.Output[str] = self.key.arn
        self.register_outputs({"arn": self.arn, "alias": self.alias.name})
