"""IAM documents of the observability family, as pure functions of ARNs (no Pulumi: testable on their own)."""

from __future__ import annotations

from typing import Any

from ..core.policies import Document, document

__all__ = [
    "AMP_QUERY_ACTIONS",
    "LOG_WRITER_ACTIONS",
    "alert_publish_policy",
    "grafana_trust",
    "log_writer_policy",
    "prometheus_query_policy",
    "remote_write_policy",
    "remote_write_statement",
    "scraper_source_policy",
    "scraper_source_trust",
    "scraper_target_policy",
    "scraper_target_trust",
    "topic_policy",
]

#: What the Prometheus data source does with an AMP workspace. AmazonPrometheusQueryAccess has the
#: last four only, on every resource; this role also lists and describes the workspaces.
AMP_QUERY_ACTIONS = (
    "aps:DescribeWorkspace",
    "aps:GetLabels",
    "aps:GetMetricMetadata",
    "aps:GetSeries",
    "aps:QueryMetrics",
)

#: What Fluent Bit's `cloudwatch_logs` output does with a log group that already exists.
LOG_WRITER_ACTIONS = ("logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents")


def _scraper_arns(partition: str, region: str, account: str) -> str:
    # A scraper's own ARN exists only once it is created, with these roles: any scraper of this
    # account and region, then (the guide names the one scraper, which would be a cycle).
    return f"arn:{partition}:aps:{region}:{account}:scraper/*"


def scraper_source_trust(partition: str, region: str, account: str) -> Document:
    """The scraper's source role: assumed by the AMP collector service for this account's scrapers."""
    return document(
        {
            "Effect": "Allow",
            "Principal": {"Service": "scraper.aps.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account},
                "ArnLike": {"aws:SourceArn": _scraper_arns(partition, region, account)},
            },
        }
    )


def scraper_source_policy(target_role_arn: str) -> Document:
    """The source role may only become the target role."""
    return document(
        {
            "Sid": "BecomeTheTargetRole",
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": target_role_arn,
        }
    )


def scraper_target_trust(partition: str, region: str, account: str, source_role_arn: str) -> Document:
    """The target role: assumed by the source role only, on behalf of this account's scrapers (the
    external id AMP passes is the scraper's ARN)."""
    return document(
        {
            "Effect": "Allow",
            "Principal": {"AWS": source_role_arn},
            "Action": "sts:AssumeRole",
            "Condition": {"StringLike": {"sts:ExternalId": _scraper_arns(partition, region, account)}},
        }
    )


def scraper_target_policy(workspace_arn: str, key_arn: str, region: str) -> Document:
    """Remote write into one workspace (as the agent's role), and the workspace's key only through
    AMP in its region."""
    return document(
        remote_write_statement(workspace_arn),
        {
            "Sid": "WorkspaceKeyThroughAmp",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"],
            "Resource": key_arn,
            "Condition": {"StringEquals": {"kms:ViaService": f"aps.{region}.amazonaws.com"}},
        },
    )


def log_writer_policy(partition: str, region: str, account: str, log_group: str) -> Document:
    """Fluent Bit: create, list and write the streams of one log group (the group exists; it may
    not create groups or set retention)."""
    return document(
        {
            "Sid": "WriteContainerLogStreams",
            "Effect": "Allow",
            "Action": list(LOG_WRITER_ACTIONS),
            "Resource": f"arn:{partition}:logs:{region}:{account}:log-group:{log_group}:*",
        }
    )


def grafana_trust(partition: str, region: str, account: str) -> Document:
    """Assumed by Amazon Managed Grafana for this account's workspaces in `region` (the workspace's
    own ARN is not known before the role is given to it)."""
    return document(
        {
            "Effect": "Allow",
            "Principal": {"Service": "grafana.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account},
                "ArnLike": {"aws:SourceArn": f"arn:{partition}:grafana:{region}:{account}:/workspaces/*"},
            },
        }
    )


def prometheus_query_policy(partition: str, account: str) -> Document:
    """Query every AMP workspace of the account, in any region; decrypt their data (workspaces under
    customer managed keys) only through AMP."""
    return document(
        {
            "Sid": "QueryWorkspaces",
            "Effect": "Allow",
            "Action": list(AMP_QUERY_ACTIONS),
            "Resource": f"arn:{partition}:aps:*:{account}:workspace/*",
        },
        # ListWorkspaces has no resource type: "*" only.
        {"Sid": "ListWorkspaces", "Effect": "Allow", "Action": "aps:ListWorkspaces", "Resource": "*"},
        {
            "Sid": "WorkspaceKeysThroughAmp",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:DescribeKey"],
            "Resource": f"arn:{partition}:kms:*:{account}:key/*",
            "Condition": {"StringLike": {"kms:ViaService": "aps.*.amazonaws.com"}},
        },
    )


def alert_publish_policy(partition: str, account: str, name_prefix: str) -> Document:
    """Publish alerts to this account's `<name_prefix>-*` topics, in any region, and nowhere else."""
    return document(
        {
            "Sid": "PublishAlerts",
            "Effect": "Allow",
            "Action": "sns:Publish",
            "Resource": f"arn:{partition}:sns:*:{account}:{name_prefix}-*",
        }
    )


def remote_write_statement(workspace_arn: str) -> Document:
    """Remote write into one workspace (AmazonPrometheusRemoteWriteAccess is every workspace)."""
    return {
        "Sid": "RemoteWriteThisWorkspace",
        "Effect": "Allow",
        "Action": "aps:RemoteWrite",
        "Resource": workspace_arn,
    }


def remote_write_policy(workspace_arn: str) -> Document:
    """The agents' role: remote write into one workspace, nothing else."""
    return document(remote_write_statement(workspace_arn))


def topic_policy(topic_arn: str, account: str, partition: str, region: str) -> dict[str, Any]:
    """CloudWatch alarms of this account and region may publish, over TLS only. The account's own
    principals need no statement here: their IAM policies already govern a same-account topic."""
    return document(
        {
            "Sid": "ThisAccountsAlarmsPublish",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account},
                "ArnLike": {"aws:SourceArn": f"arn:{partition}:cloudwatch:{region}:{account}:alarm:*"},
            },
        },
        {
            "Sid": "TlsOnly",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    )
