"""IAM policy documents of the data stores, as pure functions of ARNs (unit-tested on their own).

Service roles trust one AWS service; where the service documents that it sends `aws:SourceAccount`
(Enhanced Monitoring), the trust is also limited to this account, against the confused deputy. The
proxy may connect as the named database users of one cluster only, and clients as those users
through one proxy only.
"""

from __future__ import annotations

from collections.abc import Sequence

from .eks_policies import Document, document

__all__ = ["proxy_client_policy", "proxy_connect_policy", "service_trust"]


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


def proxy_client_policy(
    partition: str, region: str, account: str, proxy_arn: str, users: Sequence[str]
) -> Document:
    """What an application role needs to connect through this proxy (IAM token) as these users."""
    proxy_id = proxy_arn.rsplit(":", 1)[-1]  # prx-0123456789abcdef0
    return document(
        {
            "Sid": "ConnectThroughTheProxy",
            "Effect": "Allow",
            "Action": "rds-db:connect",
            "Resource": [
                f"arn:{partition}:rds-db:{region}:{account}:dbuser:{proxy_id}/{user}" for user in users
            ],
        }
    )


def proxy_connect_policy(
    partition: str, region: str, account: str, cluster_resource_id: str, users: Sequence[str]
) -> Document:
    """RDS Proxy with end-to-end IAM authentication: it connects to this cluster as these database
    users, and as no one else (the master user is not among them)."""
    return document(
        {
            "Sid": "ConnectAsApplicationUsers",
            "Effect": "Allow",
            "Action": "rds-db:connect",
            "Resource": [
                f"arn:{partition}:rds-db:{region}:{account}:dbuser:{cluster_resource_id}/{user}"
                for user in users
            ],
        }
    )
