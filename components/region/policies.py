"""IAM documents of the region, as pure functions of ARNs (no Pulumi: testable on their own)."""

from __future__ import annotations

from ..core.policies import Document, account_administers_key, document, logs_key_statement

__all__ = ["region_key_policy"]


def region_key_policy(account: str, region: str, partition: str, dns_suffix: str) -> Document:
    """Key policy: the account administers the key through IAM; Auto Scaling may use it for node
    volumes through EC2 in this region; CloudWatch alarms may encrypt what they publish to the
    region's alarm topic; Managed Prometheus may use it for this account's workspaces, through AMP
    only; CloudWatch Logs may use it only for this account's log groups in this region (the
    encryption-context condition AWS documents)."""
    return document(
        account_administers_key(partition, account),
        {
            # Managed node groups launch through Auto Scaling, whose service-linked role must
            # use the key for the nodes' encrypted volumes. Named by condition, not principal,
            # so the policy is valid before the account's first Auto Scaling group exists.
            "Sid": "AutoScalingEncryptsNodeVolumes",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": [
                "kms:Encrypt",
                "kms:Decrypt",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:DescribeKey",
                "kms:CreateGrant",
            ],
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "aws:PrincipalArn": (
                        f"arn:{partition}:iam::{account}:role/aws-service-role/"
                        "autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
                    ),
                    "kms:CallerAccount": account,
                }
            },
        },
        {
            # The region's alarm topic is encrypted with this key: CloudWatch must encrypt the
            # messages its alarms publish (and only this account's alarms).
            "Sid": "CloudWatchAlarmsPublishToTheEncryptedTopic",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": account}},
        },
        {
            # Amazon Managed Service for Prometheus encrypts the region's workspace through
            # grants it creates (AMP user guide, "Encryption at rest"); only through AMP here.
            "Sid": "ManagedPrometheusEncryptsThisAccountsWorkspaces",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["kms:DescribeKey", "kms:CreateGrant", "kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "kms:ViaService": f"aps.{region}.{dns_suffix}",
                    "kms:CallerAccount": account,
                }
            },
        },
        logs_key_statement(
            "CloudWatchLogsEncryptsThisAccountsLogGroups",
            region,
            dns_suffix,
            f"arn:{partition}:logs:{region}:{account}:log-group:*",
            exact=False,
        ),
    )
