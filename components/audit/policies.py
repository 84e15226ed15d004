"""IAM documents of the audit family, as pure functions of ARNs (no Pulumi: testable on their own)."""

from __future__ import annotations

from ..core.policies import Document, account_administers_key, document, logs_key_statement

__all__ = [
    "audit_key_policy",
    "cloudtrail_bucket_statements",
    "log_stream_policy",
]


def audit_key_policy(
    partition: str, region: str, dns_suffix: str, account: str, trail_arn: str, log_group_name: str
) -> Document:
    """The audit key's policy: the account administers it through IAM; CloudTrail encrypts and
    describes for this trail only; the account's principals decrypt CloudTrail log files (the
    encryption context names one of this account's trails); CloudWatch Logs encrypts the trail's
    log group only."""
    this_accounts_trails = f"arn:{partition}:cloudtrail:*:{account}:trail/*"
    return document(
        account_administers_key(partition, account),
        {
            "Sid": "CloudTrailEncryptsThisTrail",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "kms:GenerateDataKey*",
            "Resource": "*",
            "Condition": {
                "StringEquals": {"aws:SourceArn": trail_arn},
                "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": this_accounts_trails},
            },
        },
        {
            "Sid": "CloudTrailDescribesKey",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "kms:DescribeKey",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}},
        },
        {
            # Reading still takes s3:GetObject on the bucket: two grants, as the guide intends.
            "Sid": "AccountDecryptsTrailLogs",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {
                "StringEquals": {"kms:CallerAccount": account},
                "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": this_accounts_trails},
            },
        },
        logs_key_statement(
            "CloudWatchLogsEncryptsTheTrailGroup",
            region,
            dns_suffix,
            f"arn:{partition}:logs:{region}:{account}:log-group:{log_group_name}",
            exact=True,
        ),
    )


def cloudtrail_bucket_statements(
    bucket_arn: str, account: str, trail_arn: str, organization_id: str | None
) -> list[Document]:
    """CloudTrail checks the bucket's ACL and writes log files under `AWSLogs/<account>/` (and
    `AWSLogs/<organization_id>/` for an organization trail), for this trail only, handing the
    objects to the bucket owner."""
    prefixes = [account, *([organization_id] if organization_id else [])]
    return [
        {
            "Sid": "CloudTrailAclCheck",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:GetBucketAcl",
            "Resource": bucket_arn,
            "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}},
        },
        {
            "Sid": "CloudTrailWrite",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": [f"{bucket_arn}/AWSLogs/{prefix}/*" for prefix in prefixes],
            "Condition": {
                "StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": trail_arn}
            },
        },
    ]


def log_stream_policy(log_group_arn: str) -> Document:
    """CloudTrail's role: create streams in and put events to one log group (the guide's role
    policy, which supports no `aws:SourceArn`)."""
    return document(
        {
            "Sid": "CloudTrailDeliversToItsGroup",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"{log_group_arn}:log-stream:*",
        }
    )
