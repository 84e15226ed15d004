"""IAM policy documents of the data stores, as pure functions of ARNs (unit-tested on their own).

Service roles trust one AWS service acting for this account only (`aws:SourceAccount`, against the
confused-deputy problem); the proxy may connect as the named database users of one cluster only.
"""

from __future__ import annotations

from collections.abc import Sequence

from .eks_policies import Document, document

__all__ = ["proxy_connect_policy", "service_trust"]


def service_trust(service: str, account: str) -> Document:
    """A role that `service` (e.g. `rds.amazonaws.com`) assumes on behalf of this account only."""
    return document(
        {
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account}},
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
