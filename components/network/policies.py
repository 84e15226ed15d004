"""IAM documents of the network family, as pure functions of ARNs (no Pulumi: testable on their own)."""

from __future__ import annotations

import json
from collections.abc import Callable

from ..core.policies import Document, document

__all__ = [
    "ENDPOINT_POLICIES",
    "firehose_endpoint_policy",
    "flow_log_policy",
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


def firehose_endpoint_policy(partition: str, region: str, account: str) -> Document:
    """The Firehose interface endpoint's policy: through it, this account's principals may put
    records into this account's streams of the region, and nothing else (a stolen or foreign
    credential cannot carry data out to another account's stream this way)."""
    return document(
        {
            "Sid": "PutIntoThisAccountsStreams",
            "Effect": "Allow",
            "Principal": "*",
            "Action": ["firehose:PutRecord", "firehose:PutRecordBatch"],
            "Resource": f"arn:{partition}:firehose:{region}:{account}:deliverystream/*",
            "Condition": {"StringEquals": {"aws:PrincipalAccount": account}},
        }
    )


#: Interface endpoints that carry the platform's data out of the VPC, with their endpoint policy
#: (a function of partition, region and account). Each gets its own security group, admitting the
#: private tier (where the pods run) only, rather than the shared one that admits the whole VPC.
ENDPOINT_POLICIES: dict[str, Callable[[str, str, str], Document]] = {
    "kinesis-firehose": firehose_endpoint_policy,
}
