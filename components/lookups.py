"""What a component reads from AWS about where it runs: account, partition and region.

Read through the component's own provider (`parent=`), so a component pinned to eu-west-1 sees
eu-west-1, never `AWS_REGION`. Output-form invokes: they do not block the program.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

__all__ = ["AwsContext"]


@dataclass(frozen=True)
class AwsContext:
    """The account id, partition (`aws`, `aws-cn`, …) and region name, for building ARNs."""

    account: pulumi.Output[str]
    partition: pulumi.Output[str]
    region: pulumi.Output[str]

    @classmethod
    def of(cls, component: pulumi.Resource, provider: pulumi.ProviderResource | None = None) -> AwsContext:
        """The context of `component`'s provider, or of `provider` when given."""
        invoke = pulumi.InvokeOptions(parent=component, provider=provider)
        return cls(
            account=aws.get_caller_identity_output(opts=invoke).account_id,
            partition=aws.get_partition_output(opts=invoke).partition,
            region=aws.get_region_output(opts=invoke).region,
        )
