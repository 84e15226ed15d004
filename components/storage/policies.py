"""IAM documents of the storage family, as pure functions of ARNs (no Pulumi: testable on their own)."""

from __future__ import annotations

from collections.abc import Sequence

from ..core.policies import Document

__all__ = [
    "access_log_delivery_statement",
    "tls_only_statement",
]


def tls_only_statement(bucket_arn: str) -> Document:
    """Deny every request to the bucket and its objects that does not come over TLS."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def access_log_delivery_statement(target_arn: str, account: str, source_arns: Sequence[str]) -> Document:
    """Let S3 server access logging (`logging.s3.amazonaws.com`) write into a target bucket, for
    these source buckets of this account only (the S3 User Guide's policy; with BucketOwnerEnforced
    a bucket policy is the only way to grant it)."""
    return {
        "Sid": "S3ServerAccessLogsDelivery",
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": f"{target_arn}/*",
        "Condition": {
            "ArnLike": {"aws:SourceArn": sorted(source_arns)},
            "StringEquals": {"aws:SourceAccount": account},
        },
    }
