"""IAM roles as the components declare them: a trust policy and AWS managed policies."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from ..eks.policies import pod_identity_trust

__all__ = [
    "PodIdentityRole",
    "checked_cluster_name",
    "inline_policy_role",
    "managed_policy_role",
    "pod_identity_role",
    "pod_identity_trust_document",
]


def managed_policy_role(
    resource_name: str,
    *,
    description: str,
    trust: dict[str, Any] | pulumi.Output[str],
    managed_policies: Sequence[str],
    partition: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> aws.iam.Role:
    """A role assumed as `trust` allows, with the named AWS managed policies (`AmazonEKSClusterPolicy`,
    `service-role/AmazonEBSCSIDriverPolicy`) attached as its children."""
    role = _role(resource_name, description, trust, opts)
    for policy in managed_policies:
        aws.iam.RolePolicyAttachment(
            f"{resource_name}-{policy.rsplit('/', 1)[-1]}",
            role=role.name,
            policy_arn=pulumi.Output.format("arn:{0}:iam::aws:policy/{1}", partition, policy),
            opts=pulumi.ResourceOptions(parent=role),
        )
    return role


def inline_policy_role(
    resource_name: str,
    *,
    description: str,
    trust: dict[str, Any] | pulumi.Output[str],
    policy: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
    """A role assumed as `trust` allows, whose only permissions are `policy` (JSON), inline and
    named like the role; the policy is returned too, for what must wait until the role may act
    (a service that checks its role when it is created)."""
    role = _role(resource_name, description, trust, opts)
    inline = aws.iam.RolePolicy(
        resource_name, role=role.id, policy=policy, opts=pulumi.ResourceOptions(parent=role)
    )
    return role, inline


def _role(
    resource_name: str,
    description: str,
    trust: dict[str, Any] | pulumi.Output[str],
    opts: pulumi.ResourceOptions,
) -> aws.iam.Role:
    return aws.iam.Role(
        resource_name,
        description=description,
        assume_role_policy=trust if isinstance(trust, pulumi.Output) else json.dumps(trust),
        opts=opts,
    )


def pod_identity_trust_document(
    account: pulumi.Input[str], cluster_arn: pulumi.Input[str]
) -> pulumi.Output[str]:
    """The trust policy (JSON) of a role that only this cluster's pods of this account assume."""
    return pulumi.Output.all(account, cluster_arn).apply(lambda v: json.dumps(pod_identity_trust(v[0], v[1])))


def checked_cluster_name(cluster_arn: str, cluster_name: str) -> str:
    """`cluster_name`, once it is known to name the cluster of `cluster_arn` (a Pod Identity
    association names its cluster, the role's trust its ARN: both must be the same cluster)."""
    if not cluster_arn.endswith(f":cluster/{cluster_name}"):
        raise ValueError(f"cluster_name {cluster_name!r} is not the cluster of cluster_arn {cluster_arn}")
    return cluster_name


@dataclass(frozen=True)
class PodIdentityRole:
    """A role one service account of one cluster assumes (EKS Pod Identity): the role, its inline
    policy and the association; pods that need the credentials at start depend on `association`."""

    role: aws.iam.Role
    policy: aws.iam.RolePolicy
    association: aws.eks.PodIdentityAssociation


def pod_identity_role(
    resource_name: str,
    *,
    description: str,
    account: pulumi.Input[str],
    cluster_arn: pulumi.Input[str],
    cluster_name: str,
    namespace: str,
    service_account: str,
    policy: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> PodIdentityRole:
    """A role only this cluster's pods assume, with `policy` (JSON) inline, associated with
    `namespace`/`service_account`. The association names the cluster by `cluster_name`, checked
    against `cluster_arn` (the trust's) once known: a mismatch fails the program, not the pods."""
    role, inline = inline_policy_role(
        resource_name,
        description=description,
        trust=pod_identity_trust_document(account, cluster_arn),
        policy=policy,
        opts=opts,
    )
    association = aws.eks.PodIdentityAssociation(
        resource_name,
        cluster_name=pulumi.Output.from_input(cluster_arn).apply(
            lambda arn: checked_cluster_name(arn, cluster_name)
        ),
        namespace=namespace,
        service_account=service_account,
        role_arn=role.arn,
        # Credentials are handed out from the association on: the permissions first.
        opts=pulumi.ResourceOptions(parent=role, depends_on=[inline]),
    )
    return PodIdentityRole(role, inline, association)
