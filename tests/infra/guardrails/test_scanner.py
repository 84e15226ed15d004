"""The external scanner: the plan as a Terraform plan and manifests, checkov over both, and the
suppression file (every accepted failure with its reason, none stale, none new)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pytest
import yaml
from pydantic import ValidationError

from infra.guardrails.manifests import export_manifests, manifest_of
from infra.guardrails.scanner import Finding, ScanReport, Suppression, load_suppressions, scan_plan
from infra.guardrails.terraform import TERRAFORM_TYPES, export_terraform_plan, snake_case
from infra.plan.run import run_program
from tests.support import STACKS, plan_of


@cache
def scan_of(stack: str) -> ScanReport:
    return scan_plan(plan_of(stack))


def _planned(stack: str) -> dict[str, dict]:
    document = export_terraform_plan(plan_of(stack)).document
    return {r["address"]: r for r in document["planned_values"]["root_module"]["resources"]}


# --- the Terraform plan --------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_every_aws_resource_is_exported_under_its_terraform_type(stack: str) -> None:
    plan = plan_of(stack)
    exported = export_terraform_plan(plan)
    aws_resources = [r for r in plan.custom_resources if r.type.startswith("aws:")]
    assert exported.skipped == []
    assert len(exported.addresses) == len(aws_resources)
    assert len(set(exported.addresses.values())) == len(aws_resources)  # addresses are unique
    for resource in aws_resources:
        assert exported.addresses[resource.urn].split(".")[0] == TERRAFORM_TYPES[resource.type]


@pytest.mark.parametrize(
    ("camel", "snake"),
    [("storageEncrypted", "storage_encrypted"), ("cidrIpv4", "cidr_ipv4"), ("kmsKeyId", "kms_key_id"),
     ("enableDnsHostnames", "enable_dns_hostnames"), ("tags", "tags")],
)  # fmt: skip
def test_inputs_become_terraform_arguments(camel: str, snake: str) -> None:
    assert snake_case(camel) == snake


def test_blocks_are_lists_maps_stay_maps_and_numbers_are_integers() -> None:
    planned = _planned("prod")
    cluster = planned["aws_eks_cluster.meridian-prod-us-east-1-cluster"]["values"]
    assert cluster["encryption_config"][0]["resources"] == ["secrets"]  # a block: a one-item list
    assert cluster["vpc_config"][0]["endpoint_public_access"] is False
    assert cluster["tags_all"]["environment"] == "prod"  # default tags, as Terraform plans them
    parameters = planned["aws_rds_cluster_parameter_group.meridian-prod-us-east-1-postgres-parameters"][
        "values"
    ]
    assert {"name": "rds.force_ssl", "value": "1", "apply_method": "immediate"} in parameters["parameter"]
    group = planned["aws_elasticache_replication_group.meridian-prod-us-east-1-cache-group"]["values"]
    assert group["port"] == 6379 and isinstance(group["port"], int)
    template = planned["aws_launch_template.meridian-prod-us-east-1-nodes"]["values"]
    assert template["tag_specifications"][0]["tags"] == {"Name": "meridian-prod-us-east-1-node"}


def test_references_connect_resources_for_graph_checks() -> None:
    document = export_terraform_plan(plan_of("staging")).document
    configuration = {r["address"]: r for r in document["configuration"]["root_module"]["resources"]}
    flow_log = configuration["aws_flow_log.meridian-staging-us-east-1-flow-log"]
    assert "aws_vpc.meridian-staging-us-east-1-vpc" in flow_log["expressions"]["vpc_id"]["references"]
    template = configuration["aws_launch_template.meridian-staging-us-east-1-nodes"]
    groups = template["expressions"]["vpc_security_group_ids"]["references"]
    # The nodes' own group, and the cluster security group EKS creates (an output of the cluster).
    assert "aws_security_group.meridian-staging-us-east-1-nodes" in groups
    assert "aws_eks_cluster.meridian-staging-us-east-1-cluster" in groups
    assert document["configuration"]["provider_config"]["aws.us-east-1"]["expressions"]["region"] == {
        "constant_value": "us-east-1"
    }


# --- the manifests ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "api_version"),
    [
        ("kubernetes:core/v1:Namespace", "v1"),
        ("kubernetes:networking.k8s.io/v1:NetworkPolicy", "networking.k8s.io/v1"),
        ("kubernetes:karpenter.sh/v1:NodePool", "karpenter.sh/v1"),
    ],
)
def test_a_kubernetes_resource_is_its_manifest(token: str, api_version: str) -> None:
    manifest = manifest_of(token, {"metadata": {"name": "x"}, "spec": {}})
    assert manifest["apiVersion"] == api_version and manifest["kind"] == token.rsplit(":", 1)[1]
    assert manifest["metadata"] == {"name": "x"}


def test_manifest_numbers_are_integers_as_kubernetes_has_them() -> None:
    """The engine hands numbers over as floats; `runAsUser: 65534.0` is no UID to a scanner."""
    spec = {"replicas": 2.0, "template": {"spec": {"securityContext": {"runAsUser": 65534.0}}}, "ratio": 0.5}
    manifest = manifest_of("kubernetes:apps/v1:Deployment", {"metadata": {"name": "x"}, "spec": spec})
    assert manifest["spec"] == {
        "replicas": 2,
        "template": {"spec": {"securityContext": {"runAsUser": 65534}}},
        "ratio": 0.5,
    }
    assert isinstance(manifest["spec"]["template"]["spec"]["securityContext"]["runAsUser"], int)


def test_manifests_are_written_per_region_and_helm_releases_listed(tmp_path: Path) -> None:
    plan = plan_of("staging")
    exported = export_manifests(plan, tmp_path)
    documents = [d for f in exported.files for d in yaml.safe_load_all(f.read_text())]
    helm = [r for r in plan.custom_resources if r.type == "kubernetes:helm.sh/v3:Release"]
    kubernetes = [r for r in plan.custom_resources if r.type.startswith("kubernetes:")]
    assert len(documents) == exported.objects == len(kubernetes) - len(helm)
    assert sorted(exported.helm_releases) == sorted(r.name for r in helm)
    assert {f.name for f in exported.files} == {"staging-us-east-1.yaml", "staging-eu-west-1.yaml"}
    assert any(d["kind"] == "NetworkPolicy" for d in documents)


# --- the suppression file --------------------------------------------------------------------------


def test_every_suppression_carries_a_reason_and_a_bare_one_is_refused() -> None:
    suppressions = load_suppressions()
    assert suppressions and all(len(s.reason) >= 20 for s in suppressions)
    with pytest.raises(ValidationError, match="reason"):
        Suppression.model_validate({"check": "CKV_AWS_1", "resources": ["aws_vpc.*"]})
    with pytest.raises(ValidationError, match="check"):
        Suppression.model_validate({"check": "no", "resources": ["aws_vpc.*"], "reason": "x" * 30})


def test_a_suppression_covers_only_the_resources_it_names() -> None:
    rule = Suppression.model_validate(
        {"check": "CKV_AWS_29", "resources": ["aws_elasticache_replication_group.*"],
         "when": {"present": ["global_replication_group_id"], "tags": {"environment": "prod"}},
         "reason": "a secondary takes encryption from its primary"}
    )  # fmt: skip
    secondary = {"global_replication_group_id": "abcde-x", "tags_all": {"environment": "prod"}}

    def finding(check: str, resource: str, values: dict) -> Finding:
        return Finding("terraform_plan", check, "n", resource, values)

    assert rule.covers(finding("CKV_AWS_29", "aws_elasticache_replication_group.a", secondary))
    assert not rule.covers(finding("CKV_AWS_30", "aws_elasticache_replication_group.a", secondary))
    assert not rule.covers(finding("CKV_AWS_29", "aws_rds_cluster.a", secondary))
    assert not rule.covers(finding("CKV_AWS_29", "aws_elasticache_replication_group.a", {"tags_all": {}}))
    staging = {**secondary, "tags_all": {"environment": "staging"}}
    assert not rule.covers(finding("CKV_AWS_29", "aws_elasticache_replication_group.a", staging))


# --- checkov itself --------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("stack", STACKS)
def test_checkov_finds_no_failure_the_suppression_file_does_not_explain(stack: str) -> None:
    report = scan_of(stack)
    assert report.unsuppressed == [], [(f.check, f.resource, f.name) for f in report.unsuppressed]
    assert report.passed > 0 and report.resources["terraform_plan"] > 0 and report.resources["kubernetes"] > 0


@pytest.mark.slow
def test_no_suppression_is_stale() -> None:
    used_keys = {
        (rule.check, rule.resources, rule.reason) for stack in STACKS for _, rule in scan_of(stack).suppressed
    }
    stale = [s.check for s in load_suppressions() if (s.check, s.resources, s.reason) not in used_keys]
    assert stale == [], f"these suppressions cover nothing any more: remove them: {stale}"


@pytest.mark.slow
def test_checkov_rejects_a_deliberately_bad_resource() -> None:
    """The scanner bites: an unencrypted, public, unprotected database is failed and not excused."""

    def main() -> None:
        provider = aws.Provider("aws", region="eu-west-1")
        aws.rds.Instance(
            "bad", engine="postgres", instance_class="db.t4g.micro", allocated_storage=20,
            storage_encrypted=False, publicly_accessible=True, opts=pulumi.ResourceOptions(provider=provider),
        )  # fmt: skip

    report = scan_plan(run_program(main, project="meridian", stack="scan-test"))
    failed = {f.check for f in report.unsuppressed}
    assert {"CKV_AWS_16", "CKV_AWS_17"} <= failed  # not encrypted; publicly accessible
