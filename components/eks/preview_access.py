"""PreviewAccess: what CI's preview roles may do in one cluster: preview, never change.

    PreviewAccess  (meridian:eks:PreviewAccess)
    ├── ValidatingAdmissionPolicy `meridian-previewers-dry-run-only`   refuses every write of the
    │   └── ValidatingAdmissionPolicyBinding                            previewers' group that is not
    │                                                                   a dry run
    └── ClusterRole `meridian-previewers`   read what the stack declares and its charts render
        └── ClusterRoleBinding              (Helm's release history too: ConfigMaps); patch/create
                                            (dry runs) of the kinds the stack applies

Why more than read access: `pulumi preview` with server-side apply computes each diff with a
dry-run `patch` (a dry-run create for a new object, which the API server authorizes as `create`),
and a `helm.v3.Release` diff runs `helm upgrade --dry-run`, which reads the release's history from
its storage driver (pulumi-kubernetes#2213, helm#9228). With Helm's default driver that would be
Secrets, and RBAC cannot narrow a read of Secrets to Helm's: every Secret of the namespace, Istio's
CA key among them. The clusters' providers keep releases in ConfigMaps instead
(`eks_cluster.HELM_DRIVER`), which this role reads, and no Secret is readable. EKS's managed
access policies are all-or-nothing (`AmazonEKSViewPolicy` grants neither), so the grants are
RBAC, to a Kubernetes group the preview roles' access entries carry. RBAC cannot tell a dry run
from a real write: the admission policy does, for every resource the admission chain sees. It
cannot see its own kind and the other admission configuration (exempt from admission by design),
so the role never writes those.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

__all__ = [
    "DRY_RUN_ONLY",
    "PREVIEWERS_GROUP",
    "PREVIEWER_DRY_RUN_WRITES",
    "PREVIEWER_READS",
    "PreviewAccess",
    "dry_run_only_policy_spec",
    "previewer_rules",
]

#: The Kubernetes group of CI's preview roles (their EKS access entries' `kubernetesGroups`; EKS
#: refuses names starting with `system:`).
PREVIEWERS_GROUP = "meridian:previewers"

#: The name of the ClusterRole, its binding, the admission policy and its binding.
_NAME = "meridian-previewers"
DRY_RUN_ONLY = f"{_NAME}-dry-run-only"

#: API group → resources a preview reads: every kind the stack declares (the Kubernetes provider
#: reads and diffs them), and every kind its Helm charts render (Istio's base, cni, istiod and
#: gateway, Karpenter, aws-for-fluent-bit): `helm upgrade --dry-run` looks up each object a new
#: chart version would add, and refuses the upgrade if it cannot. No pods, logs, events or Secrets.
PREVIEWER_READS: dict[str, tuple[str, ...]] = {
    "": ("configmaps", "namespaces", "resourcequotas", "serviceaccounts", "services"),
    "apps": ("daemonsets", "deployments"),
    "autoscaling": ("horizontalpodautoscalers",),
    "policy": ("poddisruptionbudgets",),
    "networking.k8s.io": ("networkpolicies",),
    "storage.k8s.io": ("storageclasses",),
    "rbac.authorization.k8s.io": ("clusterrolebindings", "clusterroles", "rolebindings", "roles"),
    "apiextensions.k8s.io": ("customresourcedefinitions",),
    "admissionregistration.k8s.io": (
        "mutatingwebhookconfigurations",
        "validatingadmissionpolicies",
        "validatingadmissionpolicybindings",
        "validatingwebhookconfigurations",
    ),
    "networking.istio.io": ("destinationrules", "gateways", "virtualservices"),
    "security.istio.io": ("peerauthentications",),
    "karpenter.sh": ("nodepools",),
    "karpenter.k8s.aws": ("ec2nodeclasses",),
}

#: API group → resources the stack applies and a preview dry-runs (`patch`; `create` for an object
#: that does not exist yet). Left out on purpose, so their previews fall back to a client-side diff
#: (the provider does so on a refused dry run, pulumi-kubernetes#2419, rather than fail):
#: Secrets (a dry run returns the object, data included); RBAC objects (the API server checks for
#: escalation even on a dry run, and a role that could rewrite roles is one step from more); and the
#: admission configuration, which no admission policy sees, so the dry-run rule would not hold.
PREVIEWER_DRY_RUN_WRITES: dict[str, tuple[str, ...]] = {
    "": ("configmaps", "namespaces", "serviceaccounts", "services"),
    "apps": ("deployments",),
    "autoscaling": ("horizontalpodautoscalers",),
    "policy": ("poddisruptionbudgets",),
    "networking.k8s.io": ("networkpolicies",),
    "storage.k8s.io": ("storageclasses",),
    "networking.istio.io": ("destinationrules", "gateways", "virtualservices"),
    "security.istio.io": ("peerauthentications",),
    "karpenter.sh": ("nodepools",),
    "karpenter.k8s.aws": ("ec2nodeclasses",),
}

_READ = ("get", "list", "watch")
_DRY_RUN_WRITE = ("create", "patch")


def previewer_rules() -> list[dict[str, Any]]:
    """The ClusterRole's rules: reads of `PREVIEWER_READS`, dry-run writes of
    `PREVIEWER_DRY_RUN_WRITES` (the admission policy refuses any that is not a dry run)."""
    return [
        *(
            {"apiGroups": [group], "resources": list(resources), "verbs": list(_READ)}
            for group, resources in PREVIEWER_READS.items()
        ),
        *(
            {"apiGroups": [group], "resources": list(resources), "verbs": list(_DRY_RUN_WRITE)}
            for group, resources in PREVIEWER_DRY_RUN_WRITES.items()
        ),
    ]


def dry_run_only_policy_spec() -> dict[str, Any]:
    """The admission policy: a request of the previewers' group that would change anything
    (create, update or patch, delete, connect) passes only as a dry run."""
    return {
        "failurePolicy": "Fail",
        "matchConstraints": {
            "resourceRules": [
                {
                    "apiGroups": ["*"],
                    "apiVersions": ["*"],
                    "operations": ["CREATE", "UPDATE", "DELETE", "CONNECT"],
                    "resources": ["*", "*/*"],  # subresources too (status, scale, exec…)
                    "scope": "*",
                }
            ]
        },
        # Only the previewers' requests are evaluated; `has` first, so a request without groups is
        # not matched rather than failing (closed) for everyone.
        "matchConditions": [
            {
                "name": "previewers-only",
                "expression": (
                    f"has(request.userInfo.groups) && '{PREVIEWERS_GROUP}' in request.userInfo.groups"
                ),
            }
        ],
        "validations": [
            {
                "expression": "request.dryRun == true",
                "message": f"{PREVIEWERS_GROUP} may only dry-run: `pulumi preview` never changes the cluster",
                "reason": "Forbidden",
            }
        ],
    }


class PreviewAccess(pulumi.ComponentResource):
    """RBAC for CI's preview roles in one cluster, and the admission policy that keeps it dry-run
    only. Pass the cluster's Kubernetes provider (`providers=[kubernetes_provider]`, or inherit it).

    The bindings wait for the admission policy's binding: the group's write verbs are never in
    effect without the rule that makes them dry runs. Before all this exists (a cluster created
    by the same update) a preview simply lacks access; nothing depends on these objects.
    """

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("meridian:eks:PreviewAccess", name, None, opts)
        self._name = name
        spec: Any = dry_run_only_policy_spec()
        policy = k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
            f"{name}-dry-run-only",
            metadata={"name": DRY_RUN_ONLY},
            spec=spec,
            opts=pulumi.ResourceOptions(parent=self),
        )
        binding_spec: Any = {"policyName": policy.metadata.name, "validationActions": ["Deny"]}
        self._policy_binding = k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
            f"{name}-dry-run-only",
            metadata={"name": DRY_RUN_ONLY},
            spec=binding_spec,
            opts=pulumi.ResourceOptions(parent=policy),
        )
        rules: Any = previewer_rules()
        cluster_role = k8s.rbac.v1.ClusterRole(
            f"{name}-cluster-role",
            metadata={"name": _NAME},
            rules=rules,
            opts=pulumi.ResourceOptions(parent=self),
        )
        role_ref: Any = {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": _NAME}
        k8s.rbac.v1.ClusterRoleBinding(
            f"{name}-cluster-role",
            metadata={"name": _NAME},
            role_ref=role_ref,
            subjects=[self._subject()],
            opts=pulumi.ResourceOptions(parent=cluster_role, depends_on=[cluster_role, self._policy_binding]),
        )
        self.register_outputs({})

    @staticmethod
    def _subject() -> Any:
        return {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": PREVIEWERS_GROUP}
