"""IAM policy documents every family shares, as pure functions of ARNs (no Pulumi: testable on their own).

`Document` and `document` are the form of every policy here and in each family's `policies.py`.
Service roles trust one AWS service; where the service documents that it sends `aws:SourceAccount`
(RDS for Enhanced Monitoring and RDS Proxy, VPC Flow Logs), the trust is also limited to this
account, against the confused deputy. The
proxy may connect as the named database users of one cluster only, and clients as those users
through one proxy only. A client reads named secrets only, decrypting them only through Secrets
Manager; log delivery writes only to one prefix of log groups, for this account.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "Document",
    "account_administers_key",
    "document",
    "log_delivery_policy",
    "logs_key_statement",
    "rds_connect_policy",
    "rds_connect_statement",
    "secret_read_policy",
    "service_trust",
]

#: An IAM policy document (or one of its statements), as JSON-ready data.
Document = dict[str, Any]


def document(*statements: Document) -> Document:
    """An IAM policy document (version 2012-10-17) of these statements."""
    return {"Version": "2012-10-17", "Statement": list(statements)}


def service_trust(
    service: str,
    *,
    source_account: str | None = None,
    external_id: str | None = None,
    source_arn: str | None = None,
) -> Document:
    """A role that `service` (e.g. `rds.amazonaws.com`) assumes; with `source_account`, only when
    acting for that account; with `external_id`, only when it presents that id (Firehose presents
    the account's); with `source_arn`, only for that resource of the service (one CodeBuild
    project). Use a condition only where the service documents it."""
    statement: Document = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    conditions = {
        "aws:SourceAccount": source_account,
        "sts:ExternalId": external_id,
        "aws:SourceArn": source_arn,
    }
    present = {key: value for key, value in conditions.items() if value is not None}
    if present:
        statement["Condition"] = {"StringEquals": present}
    return document(statement)


def rds_connect_statement(
    partition: str, region: str, account: str, resource_id: str, users: Sequence[str], *, sid: str
) -> Document:
    """`rds-db:connect` as these database users of one RDS resource: a cluster's resource id
    (`cluster-…`, for the proxy's own role and for connections to the cluster itself) or a
    proxy's id (`prx-…`, for clients of the proxy)."""
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": "rds-db:connect",
        "Resource": [
            f"arn:{partition}:rds-db:{region}:{account}:dbuser:{resource_id}/{user}" for user in users
        ],
    }


def rds_connect_policy(
    partition: str, region: str, account: str, resource_id: str, users: Sequence[str], *, sid: str
) -> Document:
    """A policy of one `rds_connect_statement`."""
    return document(rds_connect_statement(partition, region, account, resource_id, users, sid=sid))


def secret_read_policy(secret_arns: Sequence[str], key_arn: str, region: str, *, sid: str) -> Document:
    """Read these secrets (and nothing else), and use the key that encrypts them only through
    Secrets Manager in `region`."""
    return document(
        {
            "Sid": sid,
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            "Resource": sorted(secret_arns),
        },
        {
            "Sid": f"{sid}Decrypt",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": key_arn,
            "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}},
        },
    )


def account_administers_key(partition: str, account: str) -> Document:
    """The statement every customer-managed key policy opens with: the account administers the key
    through IAM (without it, no IAM policy can grant the key's use)."""
    return {
        "Sid": "AccountAdministersThroughIam",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }


def log_delivery_policy(partition: str, region: str, account: str, log_group_prefix: str) -> Document:
    """The CloudWatch Logs resource policy that lets AWS log delivery (ElastiCache slow and engine
    logs) write to this account's groups under `log_group_prefix`, and nowhere else."""
    return document(
        {
            "Sid": "LogDeliveryWrite",
            "Effect": "Allow",
            "Principal": {"Service": "delivery.logs.amazonaws.com"},
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"arn:{partition}:logs:{region}:{account}:log-group:{log_group_prefix}*:log-stream:*",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account},
                "ArnLike": {"aws:SourceArn": f"arn:{partition}:logs:{region}:{account}:*"},
            },
        }
    )


def logs_key_statement(sid: str, region: str, dns_suffix: str, log_groups: str, *, exact: bool) -> dict:
    """The key-policy statement letting CloudWatch Logs of `region` use a key for `log_groups` (an
    ARN, or a pattern when not `exact`) only: the encryption-context condition AWS documents."""
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": f"logs.{region}.{dns_suffix}"},
        "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        "Resource": "*",
        "Condition": {
            "ArnEquals" if exact else "ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_groups}
        },
    }
