"""PrivateBucket: an S3 bucket that is private, versioned, encrypted and TLS-only unless told otherwise.

    PrivateBucket  (meridian:storage:PrivateBucket)
    ├── Bucket                  pulumi-aws 7's `aws.s3.Bucket`; Object Lock only at creation
    ├── OwnershipControls       BucketOwnerEnforced: ACLs off, the account owns every object
    ├── PublicAccessBlock       all four settings on
    ├── Versioning              Enabled
    ├── Encryption              SSE-KMS with the given customer-managed key and a bucket key, or
    │                           SSE-S3 where S3 cannot use KMS (with the reason written down)
    ├── Policy                  denies every request without TLS, plus the caller's statements
    ├── Logging                 server access logs to another bucket (optional)
    ├── LifecycleConfiguration  transitions, expirations, aborted uploads (optional)
    └── ObjectLockConfiguration default retention, GOVERNANCE or COMPLIANCE (optional)

Every child is the component's, so it inherits the caller's region-pinned provider. The one case
for SSE-S3 is a server access log target: the S3 User Guide ("Enabling Amazon S3 server access
logging") allows default encryption on the target bucket "only if you use SSE-S3"; SSE-KMS "is not
supported". Such a target may not have Object Lock either.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, cast

import pulumi
import pulumi_aws as aws

from ..core.policies import Document, document
from .args import BucketLifecycle, ObjectLock
from .policies import access_log_delivery_statement, tls_only_statement

__all__ = [
    "ACCESS_LOG_SSE_S3_REASON",
    "PrivateBucket",
    "StatementsFor",
    "access_log_delivery_statement",
    "tls_only_statement",
]

#: The reason a server access log target is under SSE-S3 (`sse_s3_reason`).
ACCESS_LOG_SSE_S3_REASON = "S3 server access log target: S3 delivers server access logs only under SSE-S3"

#: Extra bucket policy statements, as a function of the bucket's ARN (it exists only once the bucket
#: does): returns the statements, plain or as an Output.
StatementsFor = Callable[[pulumi.Output[str]], pulumi.Input[Sequence[Document]]]


class PrivateBucket(pulumi.ComponentResource):
    """An S3 bucket hardened by default (see the module docstring for its parts).

    Args:
        name: logical name prefix of every child.
        bucket_name: the bucket's physical name (globally unique).
        kms_key_arn: the customer-managed key for default SSE-KMS; None means SSE-S3, allowed only
            with `sse_s3_reason`.
        protect: keep the bucket from deletion (`protect`); an unprotected bucket is emptied on
            delete (`force_destroy`).
        sse_s3_reason: why this bucket cannot use KMS (a server access log target, say); required
            with `kms_key_arn=None`, refused otherwise.
        bucket_key: with SSE-KMS, use an S3 Bucket Key (default true: far fewer KMS calls). Turn it
            off where a key policy conditions on a service's own encryption context, which requests
            made through a bucket key do not carry (CloudTrail's).
        access_log_bucket: the bucket that receives this one's server access logs (under
            `<bucket_name>/`); it must grant `logging.s3.amazonaws.com`. None: no access logs.
        lifecycle: a `BucketLifecycle` rule (default none).
        object_lock: an `ObjectLock` default retention (default none). Object Lock can only be
            turned on when the bucket is created.
        policy_statements: a `StatementsFor` returning statements to add to the TLS-only policy.
        opts: resource options; the region-pinned AWS provider comes from here or the parent.

    Attributes:
        bucket: the `aws.s3.Bucket`.
        arn: its ARN.
        name: its name (the bucket's id).
        policy: its `aws.s3.BucketPolicy`.
        sse_s3_reason: why it is not under KMS ("" when it is).
    """

    def __init__(
        self,
        name: str,
        *,
        bucket_name: pulumi.Input[str],
        kms_key_arn: pulumi.Input[str] | None,
        protect: bool,
        sse_s3_reason: str = "",
        bucket_key: bool = True,
        access_log_bucket: pulumi.Input[str] | None = None,
        lifecycle: BucketLifecycle | None = None,
        object_lock: ObjectLock | None = None,
        policy_statements: StatementsFor | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        if kms_key_arn is None and not sse_s3_reason.strip():
            raise ValueError(
                f"{name}: a bucket without a KMS key needs sse_s3_reason (SSE-S3 is for server access "
                "log targets, which S3 cannot deliver to under SSE-KMS)"
            )
        if kms_key_arn is not None and sse_s3_reason:
            raise ValueError(f"{name}: sse_s3_reason is for buckets without a KMS key; drop one of them")
        super().__init__("meridian:storage:PrivateBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.sse_s3_reason = sse_s3_reason
        self.bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket=bucket_name,
            force_destroy=not protect,  # an unprotected stack is torn down with its objects
            object_lock_enabled=True if object_lock else None,
            opts=pulumi.ResourceOptions(parent=self, protect=protect),
        )
        self.arn: pulumi.Output[str] = self.bucket.arn
        # The name S3 knows it by, which is also its id: the configuration resources below name
        # their bucket by it, as AWS does.
        self.name: pulumi.Output[str] = self.bucket.bucket
        ownership = aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=self.name,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=child,
        )
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=self.name,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=self.name,
            versioning_configuration={"status": "Enabled"},
            opts=child,
        )
        if kms_key_arn is not None:
            rule: aws.s3.BucketServerSideEncryptionConfigurationRuleArgsDict = {
                "apply_server_side_encryption_by_default": {
                    "sse_algorithm": "aws:kms",
                    "kms_master_key_id": kms_key_arn,
                },
                "bucket_key_enabled": bucket_key,
            }
        else:
            rule = {"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption", bucket=self.name, rules=[rule], opts=child
        )
        extra = policy_statements(self.arn) if policy_statements else []
        self.policy = aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=self.name,
            policy=pulumi.Output.all(self.arn, pulumi.Output.from_input(extra)).apply(
                lambda v: json.dumps(document(tls_only_statement(v[0]), *v[1]))
            ),
            # S3 refuses concurrent changes to a bucket's access settings ("conflicting conditional
            # operation"): the policy follows the public access block and the ownership controls.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_access, ownership]),
        )
        if access_log_bucket is not None:
            aws.s3.BucketLogging(
                f"{name}-logging",
                bucket=self.name,
                target_bucket=access_log_bucket,
                target_prefix=pulumi.Output.concat(self.name, "/"),
                opts=child,
            )
        if lifecycle is not None:
            aws.s3.BucketLifecycleConfiguration(
                f"{name}-lifecycle",
                bucket=self.name,
                rules=[_lifecycle_rule(lifecycle)],
                # Noncurrent-version rules mean nothing until versioning is on.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]),
            )
        if object_lock is not None:
            aws.s3.BucketObjectLockConfiguration(
                f"{name}-object-lock",
                bucket=self.name,
                rule={"default_retention": {"mode": object_lock.mode.value, "days": object_lock.days}},
                opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]),
            )
        self.register_outputs({"arn": self.arn, "name": self.name})


def _lifecycle_rule(lifecycle: BucketLifecycle) -> aws.s3.BucketLifecycleConfigurationRuleArgsDict:
    """The one rule of a `BucketLifecycle`, as `BucketLifecycleConfiguration` takes it."""
    rule: dict[str, Any] = {
        "id": "meridian",
        "status": "Enabled",
        "filter": {"prefix": lifecycle.prefix},
    }
    if lifecycle.transitions:
        rule["transitions"] = [
            {"days": t.days, "storage_class": t.storage_class.value} for t in lifecycle.transitions
        ]
    if lifecycle.expire_days is not None:
        rule["expiration"] = {"days": lifecycle.expire_days}
    if lifecycle.noncurrent_expire_days is not None:
        rule["noncurrent_version_expiration"] = {"noncurrent_days": lifecycle.noncurrent_expire_days}
    if lifecycle.abort_multipart_days is not None:
        rule["abort_incomplete_multipart_upload"] = {"days_after_initiation": lifecycle.abort_multipart_days}
    return cast(aws.s3.BucketLifecycleConfigurationRuleArgsDict, rule)
