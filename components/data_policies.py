"""IAM policy documents of the data stores, as pure functions of ARNs (unit-tested on their own).

Service roles trust one AWS service; where the service documents that it sends `aws:SourceAccount`
(Enhanced Monitoring), the trust is also limited to this account, against the confused deputy. The
proxy may connect as the named database users of one cluster only, and clients as those users
through one proxy only.
"""

from __future__ import annotations

from collections.abc import Sequence

from .eks_policies import Document, document

__all__ = ["rds_connect_policy", "service_trust"]


def service_trust(service: str, *, source_account: str | None = None) -> Document:
    """A role that `service` (e.g. `rds.amazonaws.com`) assumes; with `source_account`, only when
    acting for that account (use it only where the service documents the condition key)."""
    statement: Document = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if source_account is not None:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": source_account}}
    return document(statement)


def rds_connect_policy(
    partition: str, region: str, account: str, resource_id: str, users: Sequence[str], *, sid: str
) -> Document:
    """`rds-db:connect` as these database users of one RDS resource: a cluster's resource id
    (`cluster-…`, for the proxy's own role) or a proxy's id (`prx-…`, for clients of the proxy)."""
    return document(
        {
            "Sid": sid,
            "Effect": "Allow",
            "Action": "rds-db:connect",
            "Resource": [
                f"arn:{partition}:rds-db:{region}:{account}:dbuser:{resource_id}/{user}" for user in users
            ],
        }
    )
