"""The one way meridian makes a CloudWatch log group: under the region's key, with a retention, and
protected (Pulumi `protect` and CloudWatch's own deletion protection) when its owner is.

Services such as EKS, RDS and ElastiCache create their log group themselves when it is missing,
unencrypted and kept forever; the components make it first, with this, so that it is theirs.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

__all__ = ["encrypted_log_group"]


def encrypted_log_group(
    resource_name: str,
    *,
    name: str,
    kms_key_arn: pulumi.Input[str],
    retention_days: int,
    protect: bool,
    opts: pulumi.ResourceOptions,
) -> aws.cloudwatch.LogGroup:
    """Log group `name`, encrypted with `kms_key_arn`, kept `retention_days`, protected if `protect`
    (applied on top of `opts`, whatever they say; they give its parent and provider)."""
    return aws.cloudwatch.LogGroup(
        resource_name,
        name=name,
        kms_key_id=kms_key_arn,
        retention_in_days=retention_days,
        deletion_protection_enabled=protect,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=protect)),
    )
