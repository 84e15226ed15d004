"""IAM documents of the network family, as pure functions of ARNs (no Pulumi: testable on their own)."""

from __future__ import annotations

import json
from collections.abc import Callable

from ..core.policies import Document, document

__all__ = [
    "ENDPOINT_POLICIES",
    "firehose_endpoint_policy",
    "flow_log_policy",
    "secrets_endpoint_policy",
]


def flow_log_policy(log_group_arn: str) -> str:
    """What the flow-log service may do: write streams of its own log group, and look up the region's
    log groups (AWS's documented role has DescribeLogGroups; it cannot be scoped to one group)."""
    region_groups = log_group_arn.split(":log-group:")[0] + ":log-group:*"
    return json.dumps(
        document(
            {
                "Sid": "WriteOwnLogGroup",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                "Resource": [log_group_arn, f"{log_group_arn}:*"],
            },
            {
                "Sid": "FindLogGroupsOfThisAccountAndRegion",
                "Effect": "Allow",
                "Action": ["logs:DescribeLogGroups"],
                "Resource": [region_groups],
            },
        )
    )


def _this_account_only(
    service: str, account: str, resources: str, unscoped_actions: tuple[str, ...]
) -> Document:
    """An endpoint policy: through it, this account's principals may do anything `service` allows
    them on `resources` (this account's, in this region), plus the few actions that name no
    resource; nothing on another account's resources. Everything, not only what the pods do: with
    private DNS every caller in the VPC goes through the endpoint, the deploy runner's `pulumi up`
    (which creates and changes these resources) included."""
    principal_is_ours = {"StringEquals": {"aws:PrincipalAccount": account}}
    return document(
        {
            "Sid": "ThisAccountsResourcesOfThisRegion",
            "Effect": "Allow",
            "Principal": "*",
            "Action": [f"{service}:*"],
            "Resource": resources,
            "Condition": principal_is_ours,
        },
        {
            "Sid": "ActionsWithoutAResource",
            "Effect": "Allow",
            "Principal": "*",
            "Action": list(unscoped_actions),
            "Resource": "*",
            "Condition": principal_is_ours,
        },
    )


def firehose_endpoint_policy(partition: str, region: str, account: str) -> Document:
    """The Firehose interface endpoint's policy: this account's principals, this account's streams
    of the region (a stolen or foreign credential cannot carry data out to another account's
    stream this way)."""
    return _this_account_only(
        "firehose",
        account,
        f"arn:{partition}:firehose:{region}:{account}:deliverystream/*",
        ("firehose:ListDeliveryStreams",),
    )


def secrets_endpoint_policy(partition: str, region: str, account: str) -> Document:
    """The Secrets Manager interface endpoint's policy: this account's principals, this account's
    secrets of the region (the endpoint cannot become a way to write data into another account)."""
    return _this_account_only(
        "secretsmanager",
        account,
        f"arn:{partition}:secretsmanager:{region}:{account}:secret:*",
        (
            "secretsmanager:ListSecrets",
            "secretsmanager:GetRandomPassword",
            "secretsmanager:BatchGetSecretValue",
        ),
    )


#: Interface endpoints that carry the platform's data out of the VPC, with their endpoint policy
#: (a function of partition, region and account). Each gets its own security group, admitting the
#: private tier (where the pods run) only, rather than the shared one that admits the whole VPC.
ENDPOINT_POLICIES: dict[str, Callable[[str, str, str], Document]] = {
    "kinesis-firehose": firehose_endpoint_policy,
    "secretsmanager": secrets_endpoint_policy,
}
