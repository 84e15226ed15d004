"""CrossRegionBackup: AWS Backup of some resources, every recovery point copied to a second region.

    CrossRegionBackup  (meridian:backup:CrossRegionBackup)
    ├── Vault          in the resources' region, encrypted with its KMS key
    ├── Role           assumed by AWS Backup (its managed backup and restore policies)
    └── Plan + Selection   a scheduled rule with a copy action to the copy vault, over the given ARNs

The copy vault lives in the second region, under that region's stack and encrypted with its key
(`copy_vault`): Aurora snapshots keep the source cluster's key, and a cross-region copy needs a key
in the destination region.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

from ..core.iam import managed_policy_role
from ..core.lookups import AwsContext
from ..core.policies import service_trust

__all__ = ["BACKUP_POLICIES", "CrossRegionBackup", "copy_vault"]

#: What AWS Backup needs to snapshot, copy and restore the resources it protects.
BACKUP_POLICIES = (
    "service-role/AWSBackupServiceRolePolicyForBackup",
    "service-role/AWSBackupServiceRolePolicyForRestores",
)


def copy_vault(
    name: str, *, kms_key_arn: pulumi.Input[str], protect: bool, opts: pulumi.ResourceOptions
) -> aws.backup.Vault:
    """The vault that receives another region's copies, encrypted with this region's key; `opts`
    carries this region's parent and provider."""
    return aws.backup.Vault(
        name,
        name=name,
        kms_key_arn=kms_key_arn,
        force_destroy=not protect,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=protect)),
    )


class CrossRegionBackup(pulumi.ComponentResource):
    """Scheduled AWS Backup of `resource_arns` with a copy of every recovery point in `copy_to`'s region.

    Args:
        name: logical and physical name prefix (vaults are `<name>` and `<name>-copy`).
        resource_arns: what to back up (e.g. an Aurora cluster's ARN).
        kms_key_arn: the source region's key, for the home vault.
        copy_vault_arn: the vault in the second region (see `copy_vault`).
        schedule: AWS Backup cron expression (UTC).
        retention_days / copy_retention_days: how long recovery points are kept in each vault.
        protect: keep the vaults from deletion (`protect`; AWS also refuses to delete a non-empty vault).

    Attributes:
        vault, plan: the children consumers may need.
    """

    def __init__(
        self,
        name: str,
        *,
        resource_arns: Sequence[pulumi.Input[str]],
        kms_key_arn: pulumi.Input[str],
        copy_vault_arn: pulumi.Input[str],
        schedule: str,
        retention_days: int,
        copy_retention_days: int,
        protect: bool,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("meridian:backup:CrossRegionBackup", name, None, opts)
        partition = AwsContext.of(self).partition
        stateful = pulumi.ResourceOptions(parent=self, protect=protect)
        self.vault = aws.backup.Vault(
            f"{name}-vault",
            name=name,
            kms_key_arn=kms_key_arn,
            force_destroy=not protect,  # an unprotected stack is torn down with its recovery points
            opts=stateful,
        )
        role = managed_policy_role(
            f"{name}-backup",
            description=f"AWS Backup snapshots and copies for {name}",
            trust=service_trust("backup.amazonaws.com"),
            managed_policies=BACKUP_POLICIES,
            partition=partition,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.plan = aws.backup.Plan(
            f"{name}-plan",
            name=name,
            rules=[
                {
                    "rule_name": "daily-with-cross-region-copy",
                    "target_vault_name": self.vault.name,
                    "schedule": schedule,
                    "start_window": 60,
                    "completion_window": 360,
                    "lifecycle": {"delete_after": retention_days},
                    "copy_actions": [
                        {
                            "destination_vault_arn": copy_vault_arn,
                            "lifecycle": {"delete_after": copy_retention_days},
                        }
                    ],
                }
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.backup.Selection(
            f"{name}-selection",
            name=name,
            plan_id=self.plan.id,
            iam_role_arn=role.arn,
            resources=list(resource_arns),
            opts=pulumi.ResourceOptions(parent=self.plan),
        )
        self.register_outputs({"vault": self.vault.arn, "copyVault": copy_vault_arn})
