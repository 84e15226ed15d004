"""IAM documents of the warehouse family, as pure functions of ARNs (no Pulumi: testable on their own)."""

from __future__ import annotations

from ..core.policies import Document, document

__all__ = [
    "REDSHIFT_SERVICES",
    "firehose_delivery_policy",
    "lake_reader_policy",
    "producer_policy",
    "producer_trust",
    "redshift_trust",
]

#: The service principals a Redshift Serverless namespace's IAM roles trust.
REDSHIFT_SERVICES = ("redshift.amazonaws.com", "redshift-serverless.amazonaws.com")


def firehose_delivery_policy(
    bucket_arn: str, key_arn: str, region: str, dns_suffix: str, log_stream_arn: str
) -> Document:
    """Firehose's role: write to (and read back, list) the lake bucket, use the key only through S3
    for that bucket's objects, and log delivery errors to its stream (the Firehose Developer
    Guide's S3-destination policy, without the Kinesis and Lambda parts it does not use)."""
    return document(
        {
            "Sid": "DeliverToTheLake",
            "Effect": "Allow",
            "Action": [
                "s3:AbortMultipartUpload",
                "s3:GetBucketLocation",
                "s3:GetObject",
                "s3:ListBucket",
                "s3:ListBucketMultipartUploads",
                "s3:PutObject",
            ],
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
        },
        {
            "Sid": "EncryptThroughS3",
            "Effect": "Allow",
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": key_arn,
            "Condition": {
                "StringEquals": {"kms:ViaService": f"s3.{region}.{dns_suffix}"},
                # The object's ARN, or the bucket's with an S3 Bucket Key.
                "StringLike": {"kms:EncryptionContext:aws:s3:arn": [bucket_arn, f"{bucket_arn}/*"]},
            },
        },
        {
            "Sid": "LogDeliveryErrors",
            "Effect": "Allow",
            "Action": "logs:PutLogEvents",
            "Resource": log_stream_arn,
        },
    )


def producer_trust(partition: str, account: str, cluster_prefix: str, region: str = "*") -> Document:
    """The producer role: assumed through EKS Pod Identity by pods of this account's clusters named
    `<cluster_prefix>-…`, in `region` (a regional stream's role) or any region (`*`, the home
    stream's, which `allow_producer` may associate anywhere); which service account of which
    cluster is each association's."""
    return document(
        {
            "Effect": "Allow",
            "Principal": {"Service": "pods.eks.amazonaws.com"},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account},
                "ArnLike": {
                    "aws:SourceArn": f"arn:{partition}:eks:{region}:{account}:cluster/{cluster_prefix}-*"
                },
            },
        }
    )


def redshift_trust() -> Document:
    """The lake reader role: assumed by Redshift (a Redshift Serverless namespace's roles trust both
    service principals). No condition: Redshift documents none for it; the role is usable only by a
    namespace it is given to, which takes `iam:PassRole`."""
    return document(
        {
            "Effect": "Allow",
            "Principal": {"Service": list(REDSHIFT_SERVICES)},
            "Action": "sts:AssumeRole",
        }
    )


def lake_reader_policy(
    partition: str, region: str, dns_suffix: str, bucket_arn: str, key_arn: str
) -> Document:
    """Redshift's role over the lake, for `COPY … FROM 's3://<lake>/events/…' IAM_ROLE default`:
    read (never write) the lake's objects, and decrypt them only through S3 for that bucket."""
    return document(
        {
            "Sid": "ReadTheLake",
            "Effect": "Allow",
            "Action": ["s3:GetBucketLocation", "s3:GetObject", "s3:ListBucket"],
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
        },
        {
            "Sid": "DecryptThroughS3",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": key_arn,
            "Condition": {
                "StringEquals": {"kms:ViaService": f"s3.{region}.{dns_suffix}"},
                "StringLike": {"kms:EncryptionContext:aws:s3:arn": [bucket_arn, f"{bucket_arn}/*"]},
            },
        },
    )


def producer_policy(stream_arn: str, vpc_endpoint_id: str | None = None) -> Document:
    """Put records into one stream; nothing else. With `vpc_endpoint_id`, only through that
    interface endpoint (`aws:SourceVpce`, a global condition key present on every request that
    arrives through an endpoint): the role's credentials carried anywhere else put nothing."""
    statement: Document = {
        "Sid": "PutEvents",
        "Effect": "Allow",
        "Action": ["firehose:PutRecord", "firehose:PutRecordBatch"],
        "Resource": stream_arn,
    }
    if vpc_endpoint_id is not None:
        statement["Condition"] = {"StringEquals": {"aws:SourceVpce": vpc_endpoint_id}}
    return document(statement)
