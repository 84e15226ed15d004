"""PreviewAccess as both stacks declare it: CI's preview roles can preview every Kubernetes and Helm
resource of the stack, Helm's release history included, read no Secret, and change nothing."""

from __future__ import annotations

import json
from collections import defaultdict

from components.eks.eks_cluster import HELM_DRIVER
from components.eks.preview_access import (
    DRY_RUN_ONLY,
    PREVIEWER_DRY_RUN_WRITES,
    PREVIEWER_READS,
    PREVIEWERS_GROUP,
    dry_run_only_policy_spec,
    previewer_rules,
)
from infra.plan.mocks import RecordedResource
from infra.plan.run import Plan
from tests.support import config_of

CLUSTER_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
CLUSTER_ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role"
ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
POLICY = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy"
POLICY_BINDING = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding"
RELEASE = "kubernetes:helm.sh/v3:Release"
GROUP_SUBJECT = {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": PREVIEWERS_GROUP}


def previewers(plan: Plan, kind: str) -> dict[str, list[RecordedResource]]:
    """Region → the previewers' objects of `kind` (named `meridian-previewers…`)."""
    found: dict[str, list[RecordedResource]] = defaultdict(list)
    for resource in plan.of_type(kind):
        if resource.inputs["metadata"]["name"].startswith("meridian-previewers"):
            found[str(plan.regions[resource.urn])].append(resource)
    return found


def api_resource(type_token: str) -> tuple[str, str]:
    """`kubernetes:apps/v1:Deployment` → ("apps", "deployments"); the core group is ""."""
    _, group_version, kind = type_token.split(":")
    group = group_version.rpartition("/")[0]
    lower = kind.lower()
    if lower.endswith("y") and lower[-2] not in "aeiou":  # policies, but gateways
        plural = lower[:-1] + "ies"
    else:
        plural = lower + ("es" if lower.endswith("s") else "s")
    return ("" if group == "core" else group, plural)


def grants(rules: list[dict], verb: str) -> set[tuple[str, str]]:
    return {
        (g, r)
        for rule in rules
        if verb in rule["verbs"]
        for g in rule["apiGroups"]
        for r in rule["resources"]
    }


# --- the ClusterRole ------------------------------------------------------------------------------


def test_the_cluster_role_names_each_verb_and_resource_and_cannot_escalate() -> None:
    rules = previewer_rules()
    for rule in rules:
        for field in ("apiGroups", "resources", "verbs"):
            assert "*" not in rule[field], rule
        assert not set(rule["verbs"]) & {"escalate", "bind", "impersonate", "delete", "deletecollection"}
        assert set(rule["verbs"]) <= {"get", "list", "watch", "patch", "create"}
        assert not any("/" in resource for resource in rule["resources"])  # no exec, logs, proxy…
        assert "secrets" not in rule["resources"]  # never: Helm's history is in ConfigMaps
    assert ("apps", "deployments") in grants(rules, "patch")  # the server-side-apply dry run
    assert ("apps", "deployments") in grants(rules, "create")  # a dry-run apply of a new object
    # The admission configuration is exempt from admission: a write there would not be a dry run.
    # RBAC objects: written, they could widen the role.
    for group, _ in grants(rules, "patch") | grants(rules, "create"):
        assert group not in {"admissionregistration.k8s.io", "rbac.authorization.k8s.io"}


def test_every_kind_the_stack_declares_can_be_previewed(stack_plan: Plan) -> None:
    """Read, and dry-run written unless it is one the role must not write (falls back to a
    client-side diff): a kind added to the stack without a grant fails here."""
    roles = [role for roles in previewers(stack_plan, CLUSTER_ROLE).values() for role in roles]
    assert len(roles) == len(config_of(stack_plan).regions)
    assert all(role.inputs["rules"] == previewer_rules() for role in roles)
    unwritable = {"secrets", "clusterroles", "clusterrolebindings", "roles", "rolebindings"}
    unwritable |= set(PREVIEWER_READS["admissionregistration.k8s.io"])
    kinds = {
        api_resource(r.type)
        for r in stack_plan.resources
        if r.type.startswith("kubernetes:") and r.type != RELEASE
    }
    assert ("karpenter.sh", "nodepools") in kinds and ("", "namespaces") in kinds
    reads, writes = grants(previewer_rules(), "get"), grants(previewer_rules(), "patch")
    for group, resource in kinds:
        if resource == "secrets":
            continue  # read where Helm keeps releases only (below)
        assert (group, resource) in reads, f"previews cannot read {group}/{resource}"
        if resource not in unwritable:
            assert (group, resource) in writes, f"previews cannot dry-run {group}/{resource}"
    assert set(PREVIEWER_DRY_RUN_WRITES) <= set(PREVIEWER_READS)


def test_the_cluster_role_is_bound_to_the_group_once_the_dry_run_rule_is_in_force(stack_plan: Plan) -> None:
    policy_bindings = previewers(stack_plan, POLICY_BINDING)
    regions = config_of(stack_plan).regions
    assert len(previewers(stack_plan, CLUSTER_ROLE_BINDING)) == len(regions)
    for region, (binding,) in previewers(stack_plan, CLUSTER_ROLE_BINDING).items():
        assert binding.inputs["subjects"] == [GROUP_SUBJECT]
        assert binding.inputs["roleRef"]["name"] == "meridian-previewers"
        (policy_binding,) = policy_bindings[region]
        assert policy_binding.urn in binding.dependencies


# --- Helm releases: in ConfigMaps, so no Secret is readable -------------------------------------


def test_previewers_read_the_helm_history_and_no_secret(stack_plan: Plan) -> None:
    # `helm upgrade --dry-run` reads each release's history from its storage driver: every
    # cluster's provider says ConfigMaps (never the shell's PULUMI_K8S_HELM_DRIVER), which the
    # ClusterRole reads; no Role or ClusterRole of the previewers grants Secrets anywhere.
    providers = [
        p for p in stack_plan.of_type("pulumi:providers:kubernetes") if p.inputs.get("kubeconfig") is not None
    ]
    assert len(providers) == len(config_of(stack_plan).regions)
    for provider in providers:
        assert json.loads(provider.inputs["helmReleaseSettings"])["driver"] == HELM_DRIVER == "configmap"
    for cluster_roles in previewers(stack_plan, CLUSTER_ROLE).values():
        (role,) = cluster_roles
        assert ("", "configmaps") in grants(role.inputs["rules"], "list")
        assert not any("secrets" in rule["resources"] for rule in role.inputs["rules"])
    assert not previewers(stack_plan, ROLE) and not previewers(stack_plan, ROLE_BINDING)


def test_no_helm_release_is_given_a_secret_value(stack_plan: Plan) -> None:
    # Release history holds the values, and the previewers read it: a secret there would be theirs.
    releases = stack_plan.of_type(RELEASE)
    assert releases
    for release in releases:
        assert "[secret]" not in json.dumps(release.inputs), release.name


# --- the admission policy ------------------------------------------------------------------------


def test_the_admission_policy_refuses_every_write_of_the_previewers_that_is_not_a_dry_run(
    stack_plan: Plan,
) -> None:
    policies, bindings = previewers(stack_plan, POLICY), previewers(stack_plan, POLICY_BINDING)
    assert set(policies) == set(bindings) == {r.name for r in config_of(stack_plan).regions}
    for region, (policy,) in policies.items():
        spec = policy.inputs["spec"]
        assert spec == dry_run_only_policy_spec()
        assert [v["expression"] for v in spec["validations"]] == ["request.dryRun == true"]
        (condition,) = spec["matchConditions"]
        assert condition["expression"] == (
            f"has(request.userInfo.groups) && '{PREVIEWERS_GROUP}' in request.userInfo.groups"
        )
        assert spec["failurePolicy"] == "Fail"
        (rule,) = spec["matchConstraints"]["resourceRules"]
        assert set(rule["operations"]) == {"CREATE", "UPDATE", "DELETE", "CONNECT"}
        assert rule["apiGroups"] == rule["apiVersions"] == ["*"] and set(rule["resources"]) == {"*", "*/*"}
        (binding,) = bindings[region]
        assert binding.inputs["metadata"]["name"] == DRY_RUN_ONLY
        assert binding.inputs["spec"]["validationActions"] == ["Deny"]
        assert binding.inputs["spec"]["policyName"] == policy.inputs["metadata"]["name"] == DRY_RUN_ONLY


# --- the access entries --------------------------------------------------------------------------


def test_viewers_are_in_the_previewers_group_with_no_access_policy(stack_plan: Plan) -> None:
    config = config_of(stack_plan)
    viewers = set(config.eks.viewer_principal_arns)
    assert viewers
    entries = [
        e
        for e in stack_plan.of_type("aws:eks/accessEntry:AccessEntry")
        if e.name.rsplit("-", 2)[1] == "viewer"
    ]
    assert len(entries) == len(viewers) * len(config.regions)
    for entry in entries:
        assert entry.inputs["principalArn"] in viewers
        assert entry.inputs["type"] == "STANDARD"
        assert entry.inputs["kubernetesGroups"] == [PREVIEWERS_GROUP]
        assert not PREVIEWERS_GROUP.startswith(("system:", "eks:"))  # EKS refuses both prefixes
    associations = stack_plan.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    assert not {a.inputs["principalArn"] for a in associations} & viewers
