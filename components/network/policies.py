"""IAM documents of the network family, as pure functions of ARNs (no Pulumi: testable on their own)."""

from __future__ import annotations

import json

from ..core.policies import document

__all__ = [
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
