"""`meridian plan --diff`: what a pull request adds, removes and changes versus the base plan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.cli import main
from infra.plan.diff import GLOBAL, PlanDiffError, changed_paths, diff_plans, load_plan_json, summary_markdown
from tests.support import PROJECT_DIR, plan_of


def resource(
    urn: str, region: str | None = "us-east-1", custom: bool = True, **inputs: Any
) -> dict[str, Any]:
    type_token = urn.split("::")[-2].rsplit("$", 1)[-1]
    return {
        "urn": urn,
        "type": type_token,
        "name": urn.rsplit("::", 1)[-1],
        "region": region,
        "custom": custom,
        "inputs": inputs,
    }


def document(*resources: dict[str, Any], stack: str = "prod") -> dict[str, Any]:
    return {"project": "meridian", "stack": stack, "resources": list(resources)}


VPC = "urn:pulumi:prod::meridian::aws:ec2/vpc:Vpc::vpc"
SUBNET = "urn:pulumi:prod::meridian::aws:ec2/subnet:Subnet::subnet-a"
POOL = "urn:pulumi:prod::meridian::cloudflare:index/loadBalancerPool:LoadBalancerPool::pool"
PROVIDER = "urn:pulumi:prod::meridian::pulumi:providers:aws::use1"
COMPONENT = "urn:pulumi:prod::meridian::meridian:region:RegionStack::us-east-1"


# --- changed property paths ----------------------------------------------------------------------


def test_changed_paths_name_nested_keys_and_list_items() -> None:
    base = {"tags": {"owner": "a", "env": "prod"}, "subnetIds": ["s1", "s2"], "size": 3}
    head = {"tags": {"owner": "b", "env": "prod"}, "subnetIds": ["s1", "s3"], "size": 3}
    assert list(changed_paths(base, head)) == ["subnetIds[1]", "tags.owner"]


def test_changed_paths_name_added_and_removed_keys_and_resized_lists() -> None:
    base = {"old": 1, "azs": ["a", "b"]}
    head = {"new": 1, "azs": ["a", "b", "c"]}
    assert list(changed_paths(base, head)) == ["azs", "new", "old"]


def test_equal_inputs_have_no_changed_path() -> None:
    inputs = {"a": [{"b": 1}], "c": None}
    assert list(changed_paths(inputs, json.loads(json.dumps(inputs)))) == []


# --- diffing two plans ---------------------------------------------------------------------------


def test_diff_sorts_resources_into_added_removed_and_changed_by_urn() -> None:
    base = document(resource(VPC, cidrBlock="10.0.0.0/16"), resource(SUBNET, region="us-east-1"))
    head = document(resource(VPC, cidrBlock="10.1.0.0/16"), resource(POOL, region=None))
    diff = diff_plans(base, head)
    assert [c.urn for c in diff.added] == [POOL]
    assert [c.urn for c in diff.removed] == [SUBNET]
    assert [(c.urn, c.properties) for c in diff.changed] == [(VPC, ("cidrBlock",))]
    assert diff.added[0].region == GLOBAL
    assert not diff.empty


RENAMED = "urn:pulumi:prod::meridian::aws:ec2/subnet:Subnet::subnet-use1-az1"


def test_a_rename_with_an_alias_to_the_old_urn_is_a_move_not_a_replacement() -> None:
    """As the engine matches it: the head's resource carries its old URN as an alias."""
    base = document(resource(SUBNET, cidrBlock="10.0.0.0/24"))
    head = document(resource(RENAMED, cidrBlock="10.0.0.0/24") | {"aliases": [SUBNET]})
    diff = diff_plans(base, head)
    assert (diff.added, diff.removed, diff.changed) == ((), (), ())
    assert [(m.old_urn, m.urn, m.region) for m in diff.moved] == [(SUBNET, RENAMED, "us-east-1")]
    assert not diff.empty
    markdown = summary_markdown(head, diff)
    assert "0 to add, 0 to remove, 0 to change, 1 renamed (aliased: kept, not replaced)" in markdown
    assert "| us-east-1 | `aws:ec2/subnet:Subnet` | 1 |" in markdown


def test_a_moved_resource_whose_inputs_differ_is_also_changed() -> None:
    base = document(resource(SUBNET, cidrBlock="10.0.0.0/24"))
    head = document(resource(RENAMED, cidrBlock="10.0.1.0/24") | {"aliases": [SUBNET]})
    diff = diff_plans(base, head)
    assert [m.urn for m in diff.moved] == [RENAMED]
    assert [(c.urn, c.properties) for c in diff.changed] == [(RENAMED, ("cidrBlock",))]


def test_a_rename_without_an_alias_or_with_one_to_a_live_urn_is_a_replacement() -> None:
    base = document(resource(SUBNET), resource(VPC))
    for aliases in ([], [VPC]):  # no alias; an alias to a URN the head still has
        diff = diff_plans(base, document(resource(RENAMED) | {"aliases": aliases}, resource(VPC)))
        assert ([c.urn for c in diff.added], [c.urn for c in diff.removed]) == ([RENAMED], [SUBNET])
        assert diff.moved == ()


def test_a_resource_moved_to_another_region_is_changed() -> None:
    diff = diff_plans(
        document(resource(VPC, region="us-east-1")), document(resource(VPC, region="eu-west-1"))
    )
    assert [c.properties for c in diff.changed] == [("(region)",)]


def test_providers_and_components_are_not_counted() -> None:
    head = document(resource(VPC), resource(PROVIDER, region="us-east-1"), resource(COMPONENT, custom=False))
    diff = diff_plans(document(), head)
    assert [c.urn for c in diff.added] == [VPC]
    assert diff.head_counts == {"us-east-1": 1}


def test_counts_per_region_list_regions_by_name_and_global_last() -> None:
    base = document(resource(SUBNET, region="af-south-1"))
    head = document(resource(POOL, region=None), resource(VPC, region="us-west-1"), resource(VPC + "-2"))
    diff = diff_plans(base, head)
    assert diff.regions() == ["af-south-1", "us-east-1", "us-west-1", GLOBAL]
    rows = {row[0]: row[1:] for row in diff.region_rows()}
    assert rows["af-south-1"] == ("1", "0", "", "-1", "")
    assert rows["us-east-1"] == ("0", "1", "+1", "", "")
    assert rows["us-west-1"] == ("0", "1", "+1", "", "")
    assert rows[GLOBAL] == ("0", "1", "+1", "", "")


def test_a_changed_protect_flag_is_a_change() -> None:
    base, head = resource(VPC), resource(VPC)
    base["protect"], head["protect"] = True, False
    diff = diff_plans(document(base), document(head))
    assert [c.properties for c in diff.changed] == [("(protect)",)]


def test_a_providers_changed_settings_show_on_every_resource_it_manages() -> None:
    """Default tags live on the provider; `pulumi up` updates each resource's tags when they change."""

    def with_provider(tags: dict[str, str]) -> dict[str, Any]:
        provider = resource(PROVIDER, region="us-east-1", defaultTags=json.dumps({"tags": tags}))
        vpc, subnet = resource(VPC), resource(SUBNET)
        vpc["provider"] = subnet["provider"] = PROVIDER
        pool = resource(POOL, region=None)  # another provider's: unaffected
        return document(provider, vpc, subnet, pool)

    diff = diff_plans(with_provider({"owner": "a"}), with_provider({"owner": "b"}))
    assert {c.urn: c.properties for c in diff.changed} == {
        VPC: ("(provider) defaultTags.tags.owner",),
        SUBNET: ("(provider) defaultTags.tags.owner",),
    }
    assert diff.head_counts == {"us-east-1": 2, GLOBAL: 1}  # the provider itself is not counted


def test_plans_of_different_stacks_are_refused() -> None:
    with pytest.raises(PlanDiffError, match="stack 'staging' and this one of 'prod'"):
        diff_plans(document(stack="staging"), document(stack="prod"))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("{not json", "not JSON"),
        ('{"stack": "prod"}', "not a meridian plan"),
        (
            '{"stack": "prod", "resources": [{"urn": "u", "type": "t"}]}',
            r"resources\[0\] has no urn, type and name",
        ),
    ],
)
def test_an_unusable_base_file_says_how_to_write_one(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "base.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(PlanDiffError, match=message):
        load_plan_json(path)


# --- two real plans ------------------------------------------------------------------------------


def test_a_plan_has_no_difference_from_itself_read_back_from_its_file(tmp_path: Path) -> None:
    plan = plan_of("staging")
    plan.write_json(tmp_path / "base.json")
    diff = diff_plans(load_plan_json(tmp_path / "base.json"), plan.document())
    assert diff.empty
    assert sum(diff.head_counts.values()) == len(plan.custom_resources)


def altered_staging(tmp_path: Path) -> Path:
    """A copy of the staging project with a third region, one more API replica in secondaries and
    another cost centre."""
    project = tmp_path / "head"
    project.mkdir()
    (project / "Pulumi.yaml").write_text((PROJECT_DIR / "Pulumi.yaml").read_text())
    stack = yaml.safe_load((PROJECT_DIR / "Pulumi.staging.yaml").read_text())
    config = stack["config"]
    config["meridian:regions"].append(
        {
            "name": "eu-central-1",
            "role": "secondary",
            "cidr": "10.64.32.0/20",
            "azIds": ["euc1-az1", "euc1-az2"],
        }
    )
    config["meridian:sizes"]["secondary"]["eks"]["apiMaxReplicas"] += 1
    config["meridian:tags"]["costCenter"] = "cc-2040-platform"  # a default tag, set on the providers
    (project / "Pulumi.staging.yaml").write_text(yaml.safe_dump(stack))
    return project


@pytest.mark.slow
def test_diff_of_two_real_plans_shows_the_new_region_and_what_it_changes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = tmp_path / "base.json"
    assert main(["plan", "--stack", "staging", "--project-dir", str(PROJECT_DIR), "--json", str(base)]) == 0
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    head_dir = altered_staging(tmp_path)
    args = ["plan", "--stack", "staging", "--project-dir", str(head_dir), "--diff", str(base)]
    assert main([*args, "--markdown", str(summary), "--json", str(tmp_path / "head.json")]) == 0

    diff = diff_plans(load_plan_json(base), load_plan_json(tmp_path / "head.json"))
    added_regions = {c.region for c in diff.added}
    # The region's resources, its Cloudflare pool, and in the anchor region Grafana's data source
    # of its metrics and the deploy hub's side of its peering (the request, a route per zone).
    assert added_regions == {"eu-central-1", GLOBAL, "us-east-1"}
    in_anchor = sorted((c.type, c.name) for c in diff.added if c.region == "us-east-1")
    peering = "meridian-staging-eu-central-1-deploy-peering"
    assert in_anchor[0] == ("aws:ec2/route:Route", f"{peering}-us-east-1-use1-az1")
    assert ("aws:ec2/vpcPeeringConnection:VpcPeeringConnection", f"{peering}-request") in in_anchor
    assert ("grafana:oss/dataSource:DataSource", "meridian-staging-grafana-amp-eu-central-1") in in_anchor
    assert {t for t, _ in in_anchor} == {
        "aws:ec2/route:Route",
        "aws:ec2/vpcPeeringConnection:VpcPeeringConnection",
        "grafana:oss/dataSource:DataSource",
    }
    assert "aws:eks/cluster:Cluster" in {c.type for c in diff.added}
    assert not diff.removed
    changed = {c.type: c.properties for c in diff.changed}
    assert changed["kubernetes:autoscaling/v2:HorizontalPodAutoscaler"] == ("spec.maxReplicas",)
    assert "defaultPools" in changed["cloudflare:index/loadBalancer:LoadBalancer"]  # re-steered

    out = capsys.readouterr().out
    assert f"{len(diff.added)} to add, 0 to remove, {len(diff.changed)} to change" in out
    markdown = summary.read_text()
    assert markdown.startswith("earlier step\n")  # appended: the job summary keeps earlier steps
    added_in_region = sum(1 for c in diff.added if c.region == "eu-central-1")
    assert f"| eu-central-1 | 0 | {added_in_region} | +{added_in_region} |  |  |" in markdown
    assert "`spec.maxReplicas`" in markdown
    retagged_here = sum(1 for c in diff.changed_by_provider() if c.region == "us-east-1")
    assert (
        f"| us-east-1 | defaultTags.tags.cost-center | {retagged_here} |" in markdown
    )  # grouped, not listed


def test_diff_against_a_missing_base_exits_2_with_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "base.json"
    assert (
        main(["plan", "--stack", "staging", "--project-dir", str(PROJECT_DIR), "--diff", str(missing)]) == 2
    )
    assert "meridian plan --stack S --json" in capsys.readouterr().err


def test_summary_without_a_diff_lists_resources_per_region() -> None:
    plan = plan_of("staging")
    markdown = summary_markdown(plan.document())
    counts = {r: 0 for r in ("us-east-1", "eu-west-1")}
    for r in plan.custom_resources:
        region = plan.regions.get(r.urn)
        if region in counts:
            counts[region] += 1
    for region, count in counts.items():
        assert f"| {region} | {count} |" in markdown
    assert f"{len(plan.custom_resources)} resources in 2 regions" in markdown
