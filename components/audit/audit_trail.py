"""AuditTrail: the account's CloudTrail, in every region, kept where nobody can change it.

    AuditTrail  (meridian:audit:AuditTrail)
    ├── Key + Alias        a KMS key for audit logs only (rotation on): CloudTrail encrypts for
    │                      this trail only; the account's principals may decrypt trail logs
    ├── PrivateBucket      `<prefix>-audit-access-logs-<account>`: S3 server access logs of the
    │                      trail bucket (SSE-S3: S3 cannot deliver them under SSE-KMS)
    ├── PrivateBucket      `<prefix>-audit-trail-<account>`: the log files, under the audit key,
    │                      versioned, Object Lock (COMPLIANCE by default), to Glacier with age;
    │                      CloudTrail may write to `AWSLogs/<account>/` for this trail only
    ├── LogGroup           `/aws/cloudtrail/<prefix>`, under the audit key, with retention
    ├── Role               assumed by CloudTrail: create streams in and put events to that group only
    └── Trail              multi-region, global service events, log file validation, every
                           management event (read and write), after the bucket policy exists

Declared in one region (the caller's provider): the trail's home region, where its bucket, key and
log group live; being multi-region, it records every region. The key and bucket policies follow
the CloudTrail User Guide ("Configure AWS KMS key policies for CloudTrail", "Amazon S3 bucket policy
for CloudTrail"), with `aws:SourceArn` naming this trail so no other trail can use them.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from ..core.iam import inline_policy_role
from ..core.logs import encrypted_log_group
from ..core.lookups import AwsContext
from ..core.policies import service_trust
from ..storage.args import BucketLifecycle, ObjectLock, StorageClass, Transition
from ..storage.policies import access_log_delivery_statement
from ..storage.private_bucket import ACCESS_LOG_SSE_S3_REASON, PrivateBucket
from .args import AuditTrailArgs
from .policies import audit_key_policy, cloudtrail_bucket_statements, log_stream_policy

__all__ = [
    "AuditTrail",
    "audit_key_policy",
    "cloudtrail_bucket_statements",
]


class AuditTrail(pulumi.ComponentResource):
    """The account's multi-region CloudTrail with its own key, locked bucket and log group.

    Args:
        name: logical name prefix of every child.
        args: validated `AuditTrailArgs`.
        opts: resource options; the region-pinned AWS provider (the trail's home region) comes from
            here (`providers=[provider]`) or from the parent.

    Attributes:
        trail, trail_arn: the `aws.cloudtrail.Trail` and its ARN.
        key, key_arn: the audit `aws.kms.Key` and its ARN (to grant readers `kms:Decrypt`).
        bucket, bucket_name: the trail's Object Lock `PrivateBucket` and its name.
        access_log_bucket: the `PrivateBucket` of the trail bucket's access logs.
        log_group_name: the CloudWatch Logs group the trail also delivers to (for metric filters
            and alarms).
        outputs(): what consumers need (camelCase, as stack outputs are).
    """

    def __init__(self, name: str, args: AuditTrailArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("meridian:audit:AuditTrail", name, None, opts)
        context = AwsContext.of(self)
        dns_suffix = context.dns_suffix
        prefix = args.name_prefix
        trail_name = f"{prefix}-audit"
        self.log_group_name = f"/aws/cloudtrail/{prefix}"
        # Built, not read: the key and bucket policies need it before the trail exists.
        trail_arn = pulumi.Output.format(
            "arn:{0}:cloudtrail:{1}:{2}:trail/{3}",
            context.partition,
            context.region,
            context.account,
            trail_name,
        )

        self.key = aws.kms.Key(
            f"{name}-key",
            description=f"meridian {trail_name}: CloudTrail log files and their CloudWatch Logs copy",
            enable_key_rotation=True,
            deletion_window_in_days=args.kms_deletion_window_days,
            policy=pulumi.Output.all(
                context.partition, context.region, dns_suffix, context.account, trail_arn
            ).apply(
                lambda v: json.dumps(audit_key_policy(v[0], v[1], v[2], v[3], v[4], self.log_group_name))
            ),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        aws.kms.Alias(
            f"{name}-key-alias",
            name=f"alias/{trail_name}",
            target_key_id=self.key.key_id,
            opts=pulumi.ResourceOptions(parent=self.key),
        )
        self.key_arn: pulumi.Output[str] = self.key.arn

        trail_bucket_name = pulumi.Output.concat(prefix, "-audit-trail-", context.account)
        access_log_name = pulumi.Output.concat(prefix, "-audit-access-logs-", context.account)
        source_arn = pulumi.Output.concat("arn:", context.partition, ":s3:::", trail_bucket_name)
        self.access_log_bucket = PrivateBucket(
            f"{name}-access-logs",
            bucket_name=access_log_name,
            kms_key_arn=None,
            sse_s3_reason=ACCESS_LOG_SSE_S3_REASON,
            protect=args.protect,
            lifecycle=BucketLifecycle(expire_days=args.log_retention_days, noncurrent_expire_days=30),
            policy_statements=lambda arn: pulumi.Output.all(arn, context.account, source_arn).apply(
                lambda v: [access_log_delivery_statement(v[0], v[1], [v[2]])]
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.bucket = PrivateBucket(
            f"{name}-bucket",
            bucket_name=trail_bucket_name,
            kms_key_arn=self.key.arn,
            # CloudTrail's key statements condition on its encryption context, which requests made
            # through an S3 Bucket Key (context: the bucket) would not carry.
            bucket_key=False,
            protect=args.protect,
            access_log_bucket=self.access_log_bucket.name,
            lifecycle=BucketLifecycle(
                transitions=(Transition(days=args.glacier_after_days, storage_class=StorageClass.GLACIER),)
            ),
            object_lock=ObjectLock(mode=args.lock_mode, days=args.object_lock_days),
            policy_statements=lambda arn: pulumi.Output.all(arn, context.account, trail_arn).apply(
                lambda v: cloudtrail_bucket_statements(v[0], v[1], v[2], args.organization_id)
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.bucket_name: pulumi.Output[str] = self.bucket.name

        log_group = encrypted_log_group(
            f"{name}-log-group",
            name=self.log_group_name,
            kms_key_arn=self.key.arn,
            retention_days=args.log_retention_days,
            protect=args.protect,
            opts=pulumi.ResourceOptions(parent=self),
        )
        role, role_policy = inline_policy_role(
            f"{name}-cloudtrail-logs",
            description=f"CloudTrail {trail_name} delivers events to {self.log_group_name}",
            trust=service_trust("cloudtrail.amazonaws.com"),
            policy=log_group.arn.apply(lambda arn: json.dumps(log_stream_policy(arn))),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.trail = aws.cloudtrail.Trail(
            f"{name}-trail",
            name=trail_name,
            s3_bucket_name=self.bucket.name,
            kms_key_id=self.key.arn,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_log_file_validation=True,
            enable_logging=True,
            is_organization_trail=args.organization_trail,
            event_selectors=[{"read_write_type": "All", "include_management_events": True}],
            # CloudTrail takes the group's ARN with the log-stream wildcard.
            cloud_watch_logs_group_arn=pulumi.Output.concat(log_group.arn, ":*"),
            cloud_watch_logs_role_arn=role.arn,
            # CloudTrail checks that it may write to the bucket and the group when the trail is
            # created: the policies come first. Protected: deleting it ends the audit record.
            opts=pulumi.ResourceOptions(
                parent=self, protect=args.protect, depends_on=[self.bucket.policy, role_policy]
            ),
        )
        self.trail_arn: pulumi.Output[str] = self.trail.arn
        self.register_outputs(self.outputs())

    def outputs(self) -> dict[str, object]:
        """What consumers need (camelCase, as stack outputs are)."""
        return {
            "trailArn": self.trail_arn,
            "bucketName": self.bucket_name,
            "keyArn": self.key_arn,
            "logGroupName": self.log_group_name,
        }
