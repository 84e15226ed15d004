"""Settings of `AuditTrail`: Object Lock and retention of the account's CloudTrail logs.

`AuditSettings` is what a stack file sets under `meridian:observability.audit`; `AuditTrailArgs`
adds what the stack program derives (the name prefix, protection). The log files are kept under
COMPLIANCE Object Lock by default: nobody deletes one before its retention ends. They live apart
from `components/audit/audit_trail.py` so that validating a stack file (`infra.config`) does not import
the Pulumi SDKs.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from ..core.args import MeridianModel, RetentionDays
from ..storage.args import LockMode, NamePrefix

__all__ = ["AuditSettings", "AuditTrailArgs"]


class AuditSettings(MeridianModel):
    """`meridian:observability.audit`: the account's audit trail.

    Attributes:
        object_lock_days: default Object Lock retention of every log file, in days (default 365).
        lock_mode: `COMPLIANCE` (default: nobody, not even the account root, deletes a log file
            before its retention ends, and the bucket cannot be emptied until then) or `GOVERNANCE`
            (principals with `s3:BypassGovernanceRetention` may; for stacks that are torn down).
        glacier_after_days: log files move to S3 Glacier Flexible Retrieval after this many days
            (default 90).
        log_retention_days: retention of the CloudWatch Logs copy, and of the trail bucket's
            access logs (default 365; a value CloudWatch Logs accepts).
        organization_trail: log every account of the AWS Organization (default false). Only the
            organization's management account (or a delegated administrator) may create one, with
            trusted access for CloudTrail enabled; needs `organization_id`.
        organization_id: the organization (`o-…`), whose accounts' logs land under
            `AWSLogs/<organization_id>/`; with `organization_trail` only.
    """

    object_lock_days: int = Field(default=365, ge=1, le=36500)
    lock_mode: LockMode = LockMode.COMPLIANCE
    glacier_after_days: int = Field(default=90, ge=1)
    log_retention_days: RetentionDays = 365
    organization_trail: bool = False
    organization_id: str | None = Field(default=None, pattern=r"^o-[a-z0-9]{10,32}$")

    @model_validator(mode="after")
    def _organization(self) -> AuditSettings:
        if self.organization_trail and self.organization_id is None:
            raise ValueError(
                "organizationTrail needs organizationId (o-…): CloudTrail writes the organization's "
                "logs under AWSLogs/<organizationId>/, which the bucket policy must allow"
            )
        if self.organization_id is not None and not self.organization_trail:
            raise ValueError("organizationId is for an organization trail; set organizationTrail: true")
        return self


class AuditTrailArgs(AuditSettings):
    """Arguments of `AuditTrail`: the settings, and

    Attributes:
        name_prefix: prefix of every physical name (trail `<prefix>-audit`, buckets
            `<prefix>-audit-…-<account>`, log group `/aws/cloudtrail/<prefix>`); at most 30
            characters, lower case.
        kms_deletion_window_days: waiting period before a deleted audit key is gone (7-30,
            default 30).
        protect: protect the key, buckets, log group and trail from deletion (default true).
    """

    name_prefix: NamePrefix
    kms_deletion_window_days: int = Field(default=30, ge=7, le=30)
    protect: bool = True
