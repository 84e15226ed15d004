"""Small helpers shared by the in-cluster components."""

from __future__ import annotations

from enum import Enum

import pulumi
import pulumi_kubernetes as k8s

__all__ = ["NODE_GROUP_LABEL", "ON_SYSTEM_NODES", "SYSTEM_TOLERATION", "PodSecurity", "psa_namespace"]

#: Node label naming a node's group (`system`, `apps`, `burst`), set on every node meridian launches.
NODE_GROUP_LABEL = "meridian/node-group"

#: Lets a platform add-on onto the `system` nodes, tainted `CriticalAddonsOnly` against app pods.
SYSTEM_TOLERATION = {"key": "CriticalAddonsOnly", "operator": "Exists"}

#: Pod placement of a platform add-on: on the `system` nodes (Helm and add-on values use this shape).
ON_SYSTEM_NODES = {"tolerations": [SYSTEM_TOLERATION], "nodeSelector": {NODE_GROUP_LABEL: "system"}}


class PodSecurity(str, Enum):
    """Pod Security Standards levels, enforced per namespace by Pod Security Admission."""

    RESTRICTED = "restricted"  # workloads: non-root, no privilege escalation, seccomp, no caps
    BASELINE = "baseline"  # gateways: no host access or privileged containers
    PRIVILEGED = "privileged"  # node agents that need host paths (Istio CNI)


def psa_namespace(
    resource_name: str,
    name: str,
    level: PodSecurity,
    *,
    labels: dict[str, str] | None = None,
    opts: pulumi.ResourceOptions,
) -> k8s.core.v1.Namespace:
    """A namespace whose Pod Security level is enforced, audited and warned about (latest standard)."""
    psa = {f"pod-security.kubernetes.io/{mode}": level.value for mode in ("enforce", "audit", "warn")}
    versions = {
        f"pod-security.kubernetes.io/{mode}-version": "latest" for mode in ("enforce", "audit", "warn")
    }
    return k8s.core.v1.Namespace(
        resource_name,
        metadata={"name": name, "labels": {**psa, **versions, **(labels or {})}},
        opts=opts,
    )
