"""AuditTrail: the CloudTrail of a non-production account, homed in eu-central-1.

The team's own `aws.Provider` pins the trail's home region, where its bucket, key and log group
live; the trail is multi-region, so it records every region from there. AuditTrail makes its own
KMS key (CloudTrail may use it for this trail only) and locks every log file with S3 Object Lock.
Here the lock is GOVERNANCE for 30 days, because this account is torn down and rebuilt; production
keeps the defaults, COMPLIANCE for 365 days, which nobody (not even the account root) can shorten.

Run it with `pulumi up` in a Python project whose Pulumi.yaml says `main: audit_trail.py`.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from components import AuditTrail, AuditTrailArgs, LockMode

REGION = "eu-central-1"


def main() -> dict[str, Any]:
    provider = aws.Provider("euc1", region=REGION)
    trail = AuditTrail(
        "payments-dev",
        AuditTrailArgs(
            name_prefix="payments-dev",
            lock_mode=LockMode.GOVERNANCE,
            object_lock_days=30,
            log_retention_days=30,
            kms_deletion_window_days=7,
            # Not protected: `pulumi destroy` may remove the trail, its key and buckets when this
            # non-production account is torn down. Someone with s3:BypassGovernanceRetention can
            # empty the GOVERNANCE-locked bucket first; under COMPLIANCE nobody could until the
            # last log file's retention ended.
            protect=False,
        ),
        opts=pulumi.ResourceOptions(providers=[provider]),
    )
    exports = trail.outputs()  # trailArn, bucketName, keyArn (readers need kms:Decrypt), logGroupName
    for name, value in exports.items():
        pulumi.export(name, value)
    return exports


if __name__ == "__main__":
    main()
