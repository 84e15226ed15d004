"""AuditTrail, and the PrivateBucket it is built from, as a team's own program declares them: run
under the mocks with an explicit provider, then read from the resources the engine recorded."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
from pydantic import ValidationError

from components.audit.args import AuditTrailArgs
from components.audit.audit_trail import AuditTrail
from components.storage.args import BucketLifecycle, StorageClass, Transition
from components.storage.private_bucket import PrivateBucket
from infra.plan.mocks import MOCK_ACCOUNT_ID
from infra.plan.run import Plan, run_program
from tests.support import (
    BUCKET,
    ENCRYPTION,
    LIFECYCLE,
    LOGGING,
    POLICY,
    VERSIONING,
    assert_private_bucket,
    bucket_parts,
    document_of,
    one,
    statement,
)

REGION = "eu-west-1"
PROVIDER = "audit-aws"
TRAIL_NAME = "team-dev-audit"
TRAIL_ARN = f"arn:aws:cloudtrail:{REGION}:{MOCK_ACCOUNT_ID}:trail/{TRAIL_NAME}"
TRAIL_BUCKET = f"team-dev-audit-trail-{MOCK_ACCOUNT_ID}"
ACCESS_LOG_BUCKET = f"team-dev-audit-access-logs-{MOCK_ACCOUNT_ID}"
LOG_GROUP = "/aws/cloudtrail/team-dev"

OBJECT_LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
TRAIL = "aws:cloudtrail/trail:Trail"
KEY = "aws:kms/key:Key"


def run_audit(**args: Any) -> Plan:
    """The trail alone in a program of its own, pinned to an explicit eu-west-1 provider."""

    def main() -> dict[str, object]:
        provider = aws.Provider(PROVIDER, region=REGION)
        trail = AuditTrail(
            "audit",
            AuditTrailArgs(name_prefix="team-dev", **args),
            opts=pulumi.ResourceOptions(providers=[provider]),
        )
        return trail.outputs()

    return run_program(main, project="team", stack="dev")


@pytest.fixture(scope="module")
def plan() -> Plan:
    return run_audit()


# -- helpers the warehouse tests share ---------------------------------------------------------------


def assert_pinned(plan: Plan, provider_name: str) -> None:
    """Every AWS resource was declared with the explicit provider, none with a default one."""
    aws_resources = [r for r in plan.custom_resources if r.type.startswith("aws:")]
    assert aws_resources
    unpinned = [r.name for r in aws_resources if not (r.provider and provider_name in r.provider)]
    assert not unpinned, unpinned


# -- the trail ---------------------------------------------------------------------------------------


def test_trail_records_every_region_validated_under_the_audit_key(plan: Plan) -> None:
    trail = one(plan, TRAIL, "audit-trail").inputs
    assert trail["name"] == TRAIL_NAME
    assert trail["isMultiRegionTrail"] is True
    assert trail["includeGlobalServiceEvents"] is True
    assert trail["enableLogFileValidation"] is True
    assert trail["enableLogging"] is True
    assert trail["isOrganizationTrail"] is False
    assert trail["kmsKeyId"] == plan.outputs["keyArn"]
    assert trail["s3BucketName"] == TRAIL_BUCKET == plan.outputs["bucketName"]
    assert trail["eventSelectors"] == [{"includeManagementEvents": True, "readWriteType": "All"}]
    log_group = one(plan, "aws:cloudwatch/logGroup:LogGroup", "audit-log-group")
    assert (
        trail["cloudWatchLogsGroupArn"] == f"arn:aws:logs:{REGION}:{MOCK_ACCOUNT_ID}:log-group:{LOG_GROUP}:*"
    )
    assert log_group.inputs["name"] == LOG_GROUP == plan.outputs["logGroupName"]
    role = one(plan, "aws:iam/role:Role", "audit-cloudtrail-logs")
    assert trail["cloudWatchLogsRoleArn"].startswith(
        f"arn:aws:iam::{MOCK_ACCOUNT_ID}:role/audit-cloudtrail-logs"
    )
    assert role.name == "audit-cloudtrail-logs"


def test_the_trail_waits_for_the_bucket_policy_and_its_role(plan: Plan) -> None:
    trail = one(plan, TRAIL, "audit-trail")
    assert one(plan, POLICY, "audit-bucket-policy").urn in trail.dependencies
    assert one(plan, "aws:iam/rolePolicy:RolePolicy", "audit-cloudtrail-logs").urn in trail.dependencies


def test_every_resource_is_the_components_on_the_callers_provider(plan: Plan) -> None:
    assert_pinned(plan, PROVIDER)
    (component,) = plan.of_type("meridian:audit:AuditTrail")
    below = {r.urn for r in plan.descendants(component.urn)}
    outside = [r.name for r in plan.resources if r.urn not in below | {component.urn} and r.custom]
    assert all(name == PROVIDER for name in outside), outside


def test_key_rotates_and_serves_this_trail_only(plan: Plan) -> None:
    key = one(plan, KEY, "audit-key")
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["deletionWindowInDays"] == 30
    assert key.protect is True
    policy = document_of(key)
    root = statement(policy, "AccountAdministersThroughIam")
    assert root["Principal"] == {"AWS": f"arn:aws:iam::{MOCK_ACCOUNT_ID}:root"} and root["Action"] == "kms:*"
    encrypt = statement(policy, "CloudTrailEncryptsThisTrail")
    assert encrypt["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert encrypt["Action"] == "kms:GenerateDataKey*"
    assert encrypt["Condition"]["StringEquals"] == {"aws:SourceArn": TRAIL_ARN}
    assert encrypt["Condition"]["StringLike"] == {
        "kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{MOCK_ACCOUNT_ID}:trail/*"
    }
    describe = statement(policy, "CloudTrailDescribesKey")
    assert describe["Action"] == "kms:DescribeKey"
    assert describe["Condition"] == {"StringEquals": {"aws:SourceArn": TRAIL_ARN}}
    decrypt = statement(policy, "AccountDecryptsTrailLogs")
    assert decrypt["Action"] == "kms:Decrypt"
    assert decrypt["Condition"]["StringEquals"] == {"kms:CallerAccount": MOCK_ACCOUNT_ID}
    assert "kms:EncryptionContext:aws:cloudtrail:arn" in decrypt["Condition"]["StringLike"]
    logs = statement(policy, "CloudWatchLogsEncryptsTheTrailGroup")
    assert logs["Principal"] == {"Service": f"logs.{REGION}.amazonaws.com"}
    group_arn = f"arn:aws:logs:{REGION}:{MOCK_ACCOUNT_ID}:log-group:{LOG_GROUP}"
    assert logs["Condition"] == {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": group_arn}}
    # No one but the account's IAM gets the key unconditionally.
    unconditional = [s["Sid"] for s in policy["Statement"] if "Condition" not in s]
    assert unconditional == ["AccountAdministersThroughIam"]


def test_the_log_group_is_under_the_audit_key(plan: Plan) -> None:
    log_group = one(plan, "aws:cloudwatch/logGroup:LogGroup", "audit-log-group")
    assert log_group.inputs["kmsKeyId"] == plan.outputs["keyArn"]
    assert log_group.inputs["retentionInDays"] == 365
    assert log_group.protect is True


def test_cloudtrails_role_writes_to_its_group_only(plan: Plan) -> None:
    role = one(plan, "aws:iam/role:Role", "audit-cloudtrail-logs")
    (trust,) = document_of(role, "assumeRolePolicy")["Statement"]
    assert (
        trust["Principal"] == {"Service": "cloudtrail.amazonaws.com"} and trust["Action"] == "sts:AssumeRole"
    )
    (grant,) = document_of(one(plan, "aws:iam/rolePolicy:RolePolicy", "audit-cloudtrail-logs"))["Statement"]
    assert sorted(grant["Action"]) == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert grant["Resource"] == f"arn:aws:logs:{REGION}:{MOCK_ACCOUNT_ID}:log-group:{LOG_GROUP}:log-stream:*"
    assert not plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")


# -- the buckets -------------------------------------------------------------------------------------


def test_the_trail_bucket_is_private_versioned_and_under_the_audit_key(plan: Plan) -> None:
    parts = assert_private_bucket(
        plan, "audit-bucket", name=TRAIL_BUCKET, kms_key_arn=plan.outputs["keyArn"], protect=True
    )
    (rule,) = parts[ENCRYPTION].inputs["rules"]
    # CloudTrail's key statements condition on its encryption context: no S3 Bucket Key here.
    assert rule["bucketKeyEnabled"] is False
    assert parts[LOGGING].inputs["targetBucket"] == ACCESS_LOG_BUCKET
    assert parts[LOGGING].inputs["targetPrefix"] == f"{TRAIL_BUCKET}/"
    (lifecycle,) = parts[LIFECYCLE].inputs["rules"]
    assert lifecycle["status"] == "Enabled"
    assert lifecycle["transitions"] == [{"days": 90, "storageClass": "GLACIER"}]
    assert "expiration" not in lifecycle  # Object Lock keeps them; nothing deletes audit logs


def test_the_access_log_bucket_is_sse_s3_for_its_reason_and_unlocked(plan: Plan) -> None:
    parts = assert_private_bucket(
        plan, "audit-access-logs", name=ACCESS_LOG_BUCKET, kms_key_arn=None, protect=True
    )
    # S3 refuses Object Lock on a server access log target, and logs of the log bucket would loop.
    assert OBJECT_LOCK not in parts and LOGGING not in parts
    assert "objectLockEnabled" not in parts[BUCKET].inputs
    delivery = statement(document_of(parts[POLICY]), "S3ServerAccessLogsDelivery")
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert delivery["Action"] == "s3:PutObject"
    assert delivery["Condition"] == {
        "ArnLike": {"aws:SourceArn": [f"arn:aws:s3:::{TRAIL_BUCKET}"]},
        "StringEquals": {"aws:SourceAccount": MOCK_ACCOUNT_ID},
    }
    (lifecycle,) = parts[LIFECYCLE].inputs["rules"]
    assert lifecycle["expiration"] == {"days": 365}


def test_log_files_are_locked_in_compliance_mode(plan: Plan) -> None:
    parts = bucket_parts(plan, "audit-bucket")
    assert parts[BUCKET].inputs["objectLockEnabled"] is True
    lock = parts[OBJECT_LOCK]
    assert lock.inputs["rule"] == {"defaultRetention": {"mode": "COMPLIANCE", "days": 365}}
    assert parts[VERSIONING].urn in lock.dependencies


def test_only_this_trail_may_write_and_only_under_its_accounts_prefix(plan: Plan) -> None:
    parts = bucket_parts(plan, "audit-bucket")
    policy = document_of(parts[POLICY])
    arn = statement(policy, "DenyInsecureTransport")["Resource"][0]
    acl = statement(policy, "CloudTrailAclCheck")
    assert acl["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert acl["Action"] == "s3:GetBucketAcl" and acl["Resource"] == arn
    assert acl["Condition"] == {"StringEquals": {"aws:SourceArn": TRAIL_ARN}}
    write = statement(policy, "CloudTrailWrite")
    assert write["Principal"] == {"Service": "cloudtrail.amazonaws.com"} and write["Action"] == "s3:PutObject"
    assert write["Resource"] == [f"{arn}/AWSLogs/{MOCK_ACCOUNT_ID}/*"]
    assert write["Condition"] == {
        "StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": TRAIL_ARN}
    }
    # The ARN the policies name is the trail's: its name, in the provider's region and account.
    assert TRAIL_ARN.endswith(f":trail/{one(plan, TRAIL, 'audit-trail').inputs['name']}")


def test_settings_reach_the_resources() -> None:
    plan = run_audit(
        protect=False,
        lock_mode="GOVERNANCE",
        object_lock_days=30,
        glacier_after_days=10,
        log_retention_days=90,
    )
    parts = assert_private_bucket(
        plan, "audit-bucket", name=TRAIL_BUCKET, kms_key_arn=plan.outputs["keyArn"], protect=False
    )
    assert parts[OBJECT_LOCK].inputs["rule"] == {"defaultRetention": {"mode": "GOVERNANCE", "days": 30}}
    assert parts[LIFECYCLE].inputs["rules"][0]["transitions"] == [{"days": 10, "storageClass": "GLACIER"}]
    assert_private_bucket(plan, "audit-access-logs", name=ACCESS_LOG_BUCKET, kms_key_arn=None, protect=False)
    assert one(plan, "aws:cloudwatch/logGroup:LogGroup", "audit-log-group").inputs["retentionInDays"] == 90
    assert one(plan, KEY, "audit-key").protect is False
    assert one(plan, TRAIL, "audit-trail").protect is False


def test_an_organization_trail_may_write_under_the_organizations_prefix() -> None:
    plan = run_audit(organization_trail=True, organization_id="o-a1b2c3d4e5")
    assert one(plan, TRAIL, "audit-trail").inputs["isOrganizationTrail"] is True
    write = statement(document_of(bucket_parts(plan, "audit-bucket")[POLICY]), "CloudTrailWrite")
    assert [r.split("/AWSLogs/")[1] for r in write["Resource"]] == [f"{MOCK_ACCOUNT_ID}/*", "o-a1b2c3d4e5/*"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"organization_trail": True}, "organizationTrail needs organizationId"),
        ({"organization_id": "o-a1b2c3d4e5"}, "set organizationTrail: true"),
        ({"organization_trail": True, "organization_id": "a1b2c3"}, "should match pattern"),
        ({"log_retention_days": 100}, "CloudWatch Logs does not accept 100 days"),
        ({"lock_mode": "LEGAL_HOLD"}, "GOVERNANCE"),
        ({"object_lock_days": 0}, "greater than or equal to 1"),
        ({"kms_deletion_window_days": 3}, "greater than or equal to 7"),
        ({"name_prefix": "Team_Dev"}, "should match pattern"),
        ({"name_prefix": "a-name-prefix-far-too-long-for-s3"}, "should match pattern"),
    ],
)
def test_invalid_audit_args_are_refused(args: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        AuditTrailArgs.model_validate({"name_prefix": "team-dev", **args})


def test_audit_args_read_camel_case_and_default_to_a_locked_single_account_trail() -> None:
    args = AuditTrailArgs.model_validate({"namePrefix": "team-dev", "objectLockDays": 400})
    assert args.object_lock_days == 400
    assert args.lock_mode.value == "COMPLIANCE"
    assert (args.organization_trail, args.log_retention_days, args.protect) == (False, 365, True)


# -- PrivateBucket on its own ------------------------------------------------------------------------


def test_a_bucket_without_a_key_must_say_why() -> None:
    with pytest.raises(ValueError, match="needs sse_s3_reason"):
        PrivateBucket("plain", bucket_name="plain", kms_key_arn=None, protect=False)
    with pytest.raises(ValueError, match="needs sse_s3_reason"):
        PrivateBucket("plain", bucket_name="plain", kms_key_arn=None, protect=False, sse_s3_reason="  ")
    with pytest.raises(ValueError, match="for buckets without a KMS key"):
        PrivateBucket(
            "both",
            bucket_name="both",
            kms_key_arn="arn:aws:kms:eu-west-1:1:key/k",
            protect=False,
            sse_s3_reason="x",
        )


@pytest.mark.parametrize(
    ("lifecycle", "message"),
    [
        ({"transitions": [{"days": 10, "storage_class": "STANDARD_IA"}]}, "after 30 days at the earliest"),
        (
            {
                "transitions": [
                    {"days": 30, "storage_class": "STANDARD_IA"},
                    {"days": 45, "storage_class": "GLACIER_IR"},
                ]
            },
            "at least 30 days after the one to STANDARD_IA",
        ),
        (
            {
                "transitions": [
                    {"days": 60, "storage_class": "GLACIER"},
                    {"days": 30, "storage_class": "DEEP_ARCHIVE"},
                ]
            },
            "at least 1 days after the one to GLACIER",
        ),
        (
            {"transitions": [{"days": 90, "storage_class": "GLACIER"}], "expire_days": 90},
            "before their last transition",
        ),
    ],
)
def test_lifecycles_s3_would_refuse_are_refused(lifecycle: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        BucketLifecycle.model_validate(lifecycle)


def test_a_lifecycle_s3_accepts() -> None:
    lifecycle = BucketLifecycle(
        transitions=(
            Transition(days=30, storage_class=StorageClass.STANDARD_IA),
            Transition(days=60, storage_class=StorageClass.GLACIER_IR),
        ),
        expire_days=400,
    )
    assert [t.days for t in lifecycle.transitions] == [30, 60]
    assert lifecycle.abort_multipart_days == 7
