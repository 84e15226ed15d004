"""Stack config validation: both stack files load; every rule rejects bad input with the file, the
key path and a fix, before any resource is declared."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pulumi_aws as aws
import pytest

from components.core.args import AWS_REGIONS, RegionRole
from components.network.args import NatGatewayMode
from infra.config.errors import ConfigError
from infra.config.loading import load_stack_file, read_stack_file, validate_config
from infra.config.schema import Environment
from tests.support import PROD_REGIONS, PROJECT_DIR, assert_issue, rejected

# --- the real stack files --------------------------------------------------------------------


def test_prod_has_the_eight_regions_with_their_roles() -> None:
    config = load_stack_file(PROJECT_DIR / "Pulumi.prod.yaml")
    assert config.environment is Environment.PROD
    assert {r.name: r.role for r in config.regions} == PROD_REGIONS
    assert config.write_home == "us-east-1"
    # Three AZs everywhere but us-west-1, which says why it has two.
    assert {r.name for r in config.regions if r.az_count < 3} == {"us-west-1"}
    assert all(r.az_count == 3 for r in config.regions if r.fewer_azs_reason is None)
    assert config.network.nat_gateways is NatGatewayMode.ONE_PER_AZ
    assert config.protect_stateful_resources is True


def test_staging_is_a_small_copy_in_two_regions() -> None:
    config = load_stack_file(PROJECT_DIR / "Pulumi.staging.yaml")
    assert config.environment is Environment.STAGING
    assert len(config.regions) == 2
    assert {r.role for r in config.regions} == {RegionRole.PRIMARY, RegionRole.SECONDARY}


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_stack_files_disable_default_providers(stack: str) -> None:
    config = read_stack_file(PROJECT_DIR / f"Pulumi.{stack}.yaml")
    assert config["pulumi:disable-default-providers"] == ["*"]


def test_tags_carry_environment_owner_and_cost_center(prod_values: dict[str, Any]) -> None:
    config = validate_config(prod_values, "Pulumi.prod.yaml")
    tags = config.aws_tags("prod")
    assert tags["environment"] == "prod"
    assert tags["owner"] == "platform-team"
    assert tags["cost-center"] == "cc-1040-platform"


# --- one negative test per rule --------------------------------------------------------------


def test_unknown_aws_region(prod_values: dict[str, Any]) -> None:
    prod_values["regions"][2]["name"] = "ap-northeast-9"
    error = rejected(prod_values)
    assert_issue(error, "meridian:regions[2].name", "'ap-northeast-9' is not an AWS region", "eu-west-1")


def test_the_known_regions_are_the_sdks() -> None:
    # Written out in components/core/args.py so that validation does not import pulumi-aws.
    sdk_regions = frozenset(r.value for r in aws.Region)
    assert sdk_regions == AWS_REGIONS, (
        "components/core/args.py's AWS_REGIONS differs from pulumi-aws's aws.Region: after upgrading "
        f"pulumi-aws, update the list (and the version in its comment) to {sorted(sdk_regions)}"
    )


def test_duplicate_region(prod_values: dict[str, Any]) -> None:
    prod_values["regions"][5] |= {"name": "eu-west-1", "azIds": prod_values["regions"][1]["azIds"]}
    error = rejected(prod_values)
    assert_issue(error, "meridian:regions[5].name", "eu-west-1 is listed twice", "regions[1]")


def test_overlapping_cidrs_across_regions(prod_values: dict[str, Any]) -> None:
    prod_values["regions"][3]["cidr"] = "10.1.128.0/17"
    error = rejected(prod_values)
    assert_issue(
        error, "meridian:regions[3].cidr", "overlaps regions[1].cidr (eu-west-1, 10.1.0.0/16)",
        "e.g. 10.3.0.0/17",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("cidr", "fragment"),
    [
        ("52.0.0.0/16", "not a private range"),
        ("10.0.0.0/33", "not a valid IPv4 network"),
        ("10.0.0.5/16", "not a valid IPv4 network"),
        ("10.0.0.0/8", "from /16 to /28"),
    ],
)
def test_cidr_not_a_valid_private_vpc_range(prod_values: dict[str, Any], cidr: str, fragment: str) -> None:
    prod_values["regions"][0]["cidr"] = cidr
    assert_issue(rejected(prod_values), "meridian:regions[0].cidr", fragment)


def test_cidr_too_small_for_the_subnet_plan(prod_values: dict[str, Any]) -> None:
    prod_values["regions"][0]["cidr"] = "10.0.0.0/20"
    assert_issue(
        rejected(prod_values),
        "meridian:regions[0].cidr",
        "too small for 3 AZs",
        "use a /19 or larger",
    )


def test_fewer_than_three_azs_in_prod(prod_values: dict[str, Any]) -> None:
    prod_values["regions"][5]["azIds"] = ["euc1-az1", "euc1-az2"]
    assert_issue(
        rejected(prod_values),
        "meridian:regions[5].azIds",
        "at least 3 AZs",
        "list 3 AZ ids",
        "fewerAzsReason",
    )


def test_fewer_azs_in_prod_only_with_a_stated_reason(prod_values: dict[str, Any]) -> None:
    west = prod_values["regions"][4]
    assert (west["name"], west["azIds"]) == ("us-west-1", ["usw1-az1", "usw1-az3"])
    assert validate_config(prod_values, "Pulumi.prod.yaml").regions[4].fewer_azs_reason
    del west["fewerAzsReason"]
    assert_issue(rejected(prod_values), "meridian:regions[4].azIds", "at least 3 AZs")


# --- AZs by id -----------------------------------------------------------------------------------


def test_every_region_names_its_azs_by_id() -> None:
    """Ids of the region's own AZs, none EKS refuses, each once; the order is the subnets'."""
    for stack in ("prod", "staging"):
        for region in load_stack_file(PROJECT_DIR / f"Pulumi.{stack}.yaml").regions:
            assert region.az_ids, (stack, region.name)
            assert len(set(region.az_ids)) == region.az_count
            assert not {"use1-az3", "usw1-az2", "cac1-az3"} & set(region.az_ids)


@pytest.mark.parametrize(
    ("region", "zone_id", "prefix"),
    [
        (0, "euw1-az1", "use1-"),
        (2, "apne3-az1", "apne1-"),
        (4, "usw2-az1", "usw1-"),
        (7, "afs2-az1", "afs1-"),
    ],
)
def test_an_az_of_another_region_is_rejected(
    prod_values: dict[str, Any], region: int, zone_id: str, prefix: str
) -> None:
    prod_values["regions"][region]["azIds"][1] = zone_id
    assert_issue(
        rejected(prod_values), f"meridian:regions[{region}].azIds",
        f"{zone_id} is not an AZ of {prod_values['regions'][region]['name']}", f"start with {prefix}",
        "describe-availability-zones",
    )  # fmt: skip


@pytest.mark.parametrize(("region", "zone_id"), [(0, "use1-az3"), (4, "usw1-az2")])
def test_an_az_eks_does_not_support_is_rejected(
    prod_values: dict[str, Any], region: int, zone_id: str
) -> None:
    prod_values["regions"][region]["azIds"][0] = zone_id
    assert_issue(
        rejected(prod_values),
        f"meridian:regions[{region}].azIds[0]",
        f"EKS cannot place a cluster in {zone_id}",
    )


def test_an_az_listed_twice_is_rejected(prod_values: dict[str, Any]) -> None:
    prod_values["regions"][1]["azIds"] = ["euw1-az1", "euw1-az2", "euw1-az1"]
    assert_issue(rejected(prod_values), "meridian:regions[1].azIds", "euw1-az1 listed twice", "each AZ once")


@pytest.mark.parametrize("name", ["us-east-1a", "use1-bos1-az1", "az1"])
def test_an_az_name_is_not_an_az_id(prod_values: dict[str, Any], name: str) -> None:
    prod_values["regions"][0]["azIds"][2] = name
    assert_issue(
        rejected(prod_values),
        "meridian:regions[0].azIds[2]",
        "not an Availability Zone id",
        "ZoneId, e.g. use1-az1",
    )


def test_the_old_az_count_says_what_replaces_it(prod_values: dict[str, Any]) -> None:
    """A stack file of before: azCount (with or without ids) is refused with the way over."""
    entry = prod_values["regions"][3]
    entry["azCount"] = len(entry.pop("azIds"))
    assert_issue(
        rejected(prod_values), "meridian:regions[3]", "azCount is replaced by azIds", "CIDR order",
        "docs/operations.md",
    )  # fmt: skip


def test_more_azs_than_a_vpc_is_laid_out_for(prod_values: dict[str, Any]) -> None:
    prod_values["regions"][0]["azIds"] = [f"use1-az{n}" for n in (1, 2, 4, 5, 6, 7, 8)]
    assert_issue(rejected(prod_values), "meridian:regions[0].azIds", "at most 6 items")


def test_a_reason_nobody_needs_is_rejected(prod_values: dict[str, Any]) -> None:
    prod_values["regions"][0]["fewerAzsReason"] = "we would rather save the third NAT gateway"
    assert_issue(rejected(prod_values), "meridian:regions[0].fewerAzsReason", "remove the key")


def test_a_reason_must_say_something(prod_values: dict[str, Any]) -> None:
    prod_values["regions"][4]["fewerAzsReason"] = "n/a"
    assert_issue(rejected(prod_values), "meridian:regions[4].fewerAzsReason", "at least 20 characters")


def test_one_az_is_too_few_for_eks_anywhere(staging_values: dict[str, Any]) -> None:
    staging_values["regions"][1]["azIds"] = ["euw1-az1"]
    assert_issue(
        rejected(staging_values, "Pulumi.staging.yaml"), "meridian:regions[1].azIds", "at least 2 AZs"
    )


def test_two_azs_are_fine_outside_prod(staging_values: dict[str, Any]) -> None:
    config = validate_config(staging_values, "Pulumi.staging.yaml")
    assert {r.az_count for r in config.regions} == {2}


def test_no_az_at_all(prod_values: dict[str, Any]) -> None:
    prod_values["regions"][0]["azIds"] = []
    assert_issue(rejected(prod_values), "meridian:regions[0].azIds", "at least 1 item")


def test_no_primary_region(prod_values: dict[str, Any]) -> None:
    for region in prod_values["regions"]:
        region["role"] = "secondary"
    error = rejected(prod_values)
    assert_issue(error, "meridian:regions", "no region has role: primary")
    assert_issue(error, "meridian:writeHome", "not a primary region")


def test_write_home_is_a_secondary_region(prod_values: dict[str, Any]) -> None:
    """No failover in effect (the write home is the anchor): the stack writes in a primary region."""
    prod_values["writeHome"] = prod_values["anchorRegion"] = "us-west-1"
    assert_issue(
        rejected(prod_values), "meridian:writeHome",
        "us-west-1 is not a primary region", "us-east-1, eu-west-1, ap-northeast-1, me-central-1",
    )  # fmt: skip


def test_write_home_not_in_the_stack(prod_values: dict[str, Any]) -> None:
    prod_values["writeHome"] = "sa-east-1"
    assert_issue(rejected(prod_values), "meridian:writeHome", "sa-east-1 is not a region of this stack")


def test_the_anchor_is_required(prod_values: dict[str, Any]) -> None:
    """Without it, moving the write home would silently move (re-create) the global resources."""
    del prod_values["anchorRegion"]
    assert_issue(rejected(prod_values), "meridian:anchorRegion", "required")


# --- after a failover: the write home moves, the anchor stays -------------------------------


def replicate_sessions_and_queues(values: dict[str, Any]) -> None:
    """prod's sessions and queues replicated to us-west-1 and eu-central-1, as they were before
    every region wrote its own: the write home's moves are about global stores."""
    for store in ("sessions", "queues"):
        values["redis"]["stores"][store]["globalRegions"] = ["us-west-1", "eu-central-1"]


def test_a_pinned_anchor_lets_the_write_home_move_to_a_secondary(prod_values: dict[str, Any]) -> None:
    replicate_sessions_and_queues(prod_values)
    prod_values["anchorRegion"], prod_values["writeHome"] = "us-east-1", "us-west-1"
    config = validate_config(prod_values, "Pulumi.prod.yaml")
    assert config.anchor_region == "us-east-1" and config.write_home == "us-west-1"
    assert config.postgres_regions()[0] == "us-east-1"  # the anchor's member still creates it
    # A store copied to the write home takes its writes there; the cache has no global copy.
    assert config.store_primary("sessions") == "us-west-1" and config.store_primary("cache") is None


def test_a_store_without_a_copy_in_the_write_home_keeps_its_primary_in_the_anchor(
    prod_values: dict[str, Any],
) -> None:
    replicate_sessions_and_queues(prod_values)
    prod_values["anchorRegion"], prod_values["writeHome"] = "us-east-1", "eu-west-1"
    config = validate_config(prod_values, "Pulumi.prod.yaml")
    assert config.store_primary("sessions") == "us-east-1" == config.store_primary("queues")


def test_the_anchor_is_a_region_of_the_stack_and_is_never_suggested_elsewhere(
    prod_values: dict[str, Any],
) -> None:
    prod_values["anchorRegion"] = "sa-east-1"
    error = rejected(prod_values)
    assert_issue(
        error, "meridian:anchorRegion",
        "sa-east-1 is not a region of this stack", "where the global database and datastores were created",
        "restore that region",
    )  # fmt: skip
    assert "use one of" not in " ".join(i.problem for i in error.issues if i.path == "meridian:anchorRegion")


def test_after_a_failover_the_roles_may_swap_to_size_the_new_home(prod_values: dict[str, Any]) -> None:
    """us-west-1 took over and is resized as a primary; us-east-1, still the anchor, becomes a
    secondary. The stores keep their copies: us-west-1's holds the primary now."""
    replicate_sessions_and_queues(prod_values)
    prod_values["writeHome"] = "us-west-1"
    for region in prod_values["regions"]:
        if region["name"] in ("us-east-1", "us-west-1"):
            region["role"] = "primary" if region["name"] == "us-west-1" else "secondary"
    config = validate_config(prod_values, "Pulumi.prod.yaml")
    assert config.anchor_region == "us-east-1" and config.store_primary("queues") == "us-west-1"
    # The anchor, a secondary region now, is never offered as a place for another copy.
    prod_values["redis"]["stores"]["queues"]["globalRegions"] = ["us-west-1", "eu-west-1"]
    assert_issue(
        rejected(prod_values), "meridian:redis.stores.queues.globalRegions[1]",
        "eu-west-1 cannot hold a secondary",
        "use secondary regions: eu-central-1, ap-southeast-1, af-south-1",
    )  # fmt: skip


def test_a_primary_region_holds_a_store_copy_only_as_the_write_home(prod_values: dict[str, Any]) -> None:
    prod_values["redis"]["stores"]["sessions"]["globalRegions"] = ["eu-west-1"]
    assert_issue(
        rejected(prod_values), "meridian:redis.stores.sessions.globalRegions[0]",
        "eu-west-1 cannot hold a secondary", "use secondary regions: us-west-1, eu-central-1, ap-southeast-1",
    )  # fmt: skip


def test_the_write_home_holds_a_database_member(prod_values: dict[str, Any]) -> None:
    prod_values["anchorRegion"] = "us-east-1"
    prod_values["postgres"]["regions"] = ["us-east-1", "eu-west-1"]
    prod_values["writeHome"] = "ap-northeast-1"
    assert_issue(
        rejected(prod_values), "meridian:writeHome",
        "ap-northeast-1 holds no member of the global database", "us-east-1, eu-west-1",
    )  # fmt: skip
    prod_values["writeHome"] = "sa-east-1"
    assert_issue(rejected(prod_values), "meridian:writeHome", "sa-east-1 is not a region of this stack")


def test_the_database_regions_include_a_pinned_anchor(prod_values: dict[str, Any]) -> None:
    prod_values["anchorRegion"], prod_values["writeHome"] = "us-east-1", "eu-west-1"
    prod_values["postgres"]["regions"] = ["eu-west-1", "us-west-1"]
    assert_issue(
        rejected(prod_values),
        "meridian:postgres.regions",
        "the anchor region us-east-1 creates the global database",
    )


def test_backups_are_not_copied_to_the_anchor(prod_values: dict[str, Any]) -> None:
    prod_values["anchorRegion"], prod_values["writeHome"] = "us-east-1", "us-west-1"
    prod_values["postgres"]["backup"]["copyRegion"] = "us-east-1"
    assert_issue(rejected(prod_values), "meridian:postgres.backup.copyRegion", "not the anchor region")


def test_unknown_top_level_key(prod_values: dict[str, Any]) -> None:
    prod_values["regoins"] = prod_values.pop("regions")
    error = rejected(prod_values)
    assert_issue(error, "meridian:regoins", "unknown key (did you mean 'regions'?)", "writeHome")
    assert_issue(error, "meridian:regions", "required key is missing")


def test_unknown_nested_key(prod_values: dict[str, Any]) -> None:
    prod_values["regions"][1]["azids"] = ["euw1-az1", "euw1-az2", "euw1-az3"]
    assert_issue(
        rejected(prod_values), "meridian:regions[1].azids",
        "did you mean 'azIds'?", "valid keys here: azIds, cidr, fewerAzsReason, name, role",
    )  # fmt: skip


def test_unknown_key_inside_sizes(prod_values: dict[str, Any]) -> None:
    prod_values["sizes"]["primary"]["eks"]["maxNode"] = 3
    assert_issue(rejected(prod_values), "meridian:sizes.primary.eks.maxNode", "did you mean 'maxNodes'?")


@pytest.mark.parametrize(
    ("component", "key", "value", "fragment"),
    [
        ("eks", "minNodes", 0, "greater than 0"),
        ("eks", "maxNodes", -4, "greater than 0"),
        ("postgres", "readerInstances", 0, "greater than 0"),
        ("postgres", "readerInstances", -1, "greater than 0"),
        ("redis.cache", "shards", 0, "greater than 0"),
        ("redis.queues", "replicasPerShard", -2, "greater than 0"),
    ],
)
def test_zero_or_negative_sizes(
    prod_values: dict[str, Any], component: str, key: str, value: int, fragment: str
) -> None:
    sizes = prod_values["sizes"]["secondary"]
    for part in component.split("."):
        sizes = sizes[part]
    sizes[key] = value
    assert_issue(
        rejected(prod_values),
        f"meridian:sizes.secondary.{component}.{key}",
        fragment,
        f"got {value}",
    )


def test_node_range_out_of_order(prod_values: dict[str, Any]) -> None:
    prod_values["sizes"]["primary"]["eks"]["desiredNodes"] = 40
    assert_issue(rejected(prod_values), "meridian:sizes.primary.eks", "minNodes <= desiredNodes <= maxNodes")


def test_sizes_missing_for_a_role_in_use(prod_values: dict[str, Any]) -> None:
    del prod_values["sizes"]["secondary"]
    assert_issue(rejected(prod_values), "meridian:sizes", "no sizes for secondary regions")


def test_retention_not_accepted_by_cloudwatch(prod_values: dict[str, Any]) -> None:
    prod_values["network"]["flowLogRetentionDays"] = 100
    assert_issue(
        rejected(prod_values), "meridian:network.flowLogRetentionDays",
        "does not accept 100 days", "90, 120",
    )  # fmt: skip


def test_single_nat_gateway_in_prod(prod_values: dict[str, Any]) -> None:
    prod_values["network"]["natGateways"] = "single"
    assert_issue(rejected(prod_values), "meridian:network.natGateways", "one NAT gateway per AZ")


def test_unprotected_stateful_resources_in_prod(prod_values: dict[str, Any]) -> None:
    prod_values["protectStatefulResources"] = False
    assert_issue(rejected(prod_values), "meridian:protectStatefulResources", "protected from deletion")


def test_unknown_environment(prod_values: dict[str, Any]) -> None:
    prod_values["environment"] = "production"
    assert_issue(rejected(prod_values), "meridian:environment", "'prod', 'staging' or 'dev'")


def test_bad_domain(prod_values: dict[str, Any]) -> None:
    prod_values["domain"] = "Not A Domain"
    assert_issue(rejected(prod_values), "meridian:domain", "is not a DNS name")


def test_duplicate_interface_endpoint(prod_values: dict[str, Any]) -> None:
    prod_values["network"]["interfaceEndpoints"] = ["sts", "sts"]
    assert_issue(rejected(prod_values), "meridian:network.interfaceEndpoints", "listed twice")


@pytest.mark.parametrize(
    ("service", "carries"), [("kinesis-firehose", "events"), ("secretsmanager", "credentials")]
)
def test_a_stack_without_an_endpoint_the_api_leaves_by_is_refused(
    prod_values: dict[str, Any], service: str, carries: str
) -> None:
    # The API's events and its stores' credentials leave the VPC through these and nothing else.
    endpoints = ["ecr.api", "ecr.dkr", "sts", "kinesis-firehose", "secretsmanager"]
    prod_values["network"]["interfaceEndpoints"] = [e for e in endpoints if e != service]
    assert_issue(rejected(prod_values), "meridian:network.interfaceEndpoints", f"add {service}", carries)


def test_every_problem_is_reported_at_once(prod_values: dict[str, Any]) -> None:
    prod_values["regions"][0]["name"] = "mars-north-1"
    prod_values["regions"][1]["cidr"] = "8.8.8.0/24"
    prod_values["tags"]["costcenter"] = prod_values["tags"].pop("costCenter")
    error = rejected(prod_values)
    paths = {i.path for i in error.issues}
    assert {
        "meridian:regions[0].name", "meridian:regions[1].cidr",
        "meridian:tags.costcenter", "meridian:tags.costCenter",
    } <= paths  # fmt: skip
    assert "(4 problems)" in str(error)


# --- reading files ---------------------------------------------------------------------------


def test_invalid_yaml_names_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "Pulumi.broken.yaml"
    broken.write_text("config:\n  meridian:regions: [\n")
    with pytest.raises(ConfigError, match=r"(?s)^Pulumi\.broken\.yaml: .*not valid YAML"):
        load_stack_file(broken)


def test_missing_stack_file_lists_the_stacks_there(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    with pytest.raises(ConfigError, match=r"(?s)Pulumi\.qa\.yaml: .*not found.*Pulumi\.dev\.yaml"):
        load_stack_file(tmp_path / "Pulumi.qa.yaml")


def test_keys_without_namespace_belong_to_the_project(tmp_path: Path) -> None:
    text = (PROJECT_DIR / "Pulumi.staging.yaml").read_text().replace("meridian:domain", "domain")
    (tmp_path / "Pulumi.staging.yaml").write_text(text)
    assert load_stack_file(tmp_path / "Pulumi.staging.yaml").domain == "staging.meridian.example.com"


# --- eks -------------------------------------------------------------------------------------


def test_unsupported_kubernetes_version(prod_values: dict[str, Any]) -> None:
    prod_values["eks"]["kubernetesVersion"] = "1.29"
    assert_issue(
        rejected(prod_values), "meridian:eks.kubernetesVersion", "not a version EKS supports", "1.36"
    )


def test_kube_proxy_built_for_another_kubernetes_version(prod_values: dict[str, Any]) -> None:
    prod_values["eks"]["addons"]["kubeProxy"] = "v1.35.0-eksbuild.3"
    assert_issue(rejected(prod_values), "meridian:eks", "kube-proxy build of 1.36")


def test_addon_version_not_pinned_to_a_build(prod_values: dict[str, Any]) -> None:
    prod_values["eks"]["addons"]["coredns"] = "latest"
    assert_issue(rejected(prod_values), "meridian:eks.addons.coredns", "eksbuild")


@pytest.mark.parametrize("weight", [10, 75, -5, 101])
def test_canary_weight_must_be_a_rollout_step(prod_values: dict[str, Any], weight: int) -> None:
    prod_values["eks"]["app"]["canaryWeight"] = weight
    assert_issue(rejected(prod_values), "meridian:eks.app.canaryWeight", "0, 5, 25, 50, 100")


def test_world_open_api_endpoint_in_prod(prod_values: dict[str, Any]) -> None:
    prod_values["eks"]["endpoint"] = {"public": True, "publicCidrs": ["0.0.0.0/0"]}
    assert_issue(rejected(prod_values), "meridian:eks.endpoint.publicCidrs", "whole internet")


def test_restricted_public_endpoint_is_accepted(prod_values: dict[str, Any]) -> None:
    # A bootstrap window: its last day is required (tests/infra/test_deploy_path.py refuses the rest).
    until = str(datetime.now(UTC).date() + timedelta(days=2))
    prod_values["eks"]["endpoint"] = {
        "public": True,
        "publicCidrs": ["198.51.100.0/24"],
        "publicUntil": until,
    }
    assert validate_config(prod_values, "Pulumi.prod.yaml").eks.endpoint.public_cidrs == ("198.51.100.0/24",)


def test_public_endpoint_without_cidrs(staging_values: dict[str, Any]) -> None:
    staging_values["eks"]["endpoint"] = {"public": True}
    assert_issue(
        rejected(staging_values, "Pulumi.staging.yaml"), "meridian:eks.endpoint", "needs publicCidrs"
    )


def test_admin_principal_must_be_an_iam_arn(prod_values: dict[str, Any]) -> None:
    prod_values["eks"]["adminPrincipalArns"] = ["platform-admin"]
    assert_issue(rejected(prod_values), "meridian:eks.adminPrincipalArns[0]", "arn:aws")


def test_api_replica_range_out_of_order(prod_values: dict[str, Any]) -> None:
    prod_values["sizes"]["primary"]["eks"]["apiMinReplicas"] = 200
    assert_issue(rejected(prod_values), "meridian:sizes.primary.eks", "apiMinReplicas <= apiMaxReplicas")


def test_ami_alias_must_be_pinned(prod_values: dict[str, Any]) -> None:
    prod_values["eks"]["karpenter"]["amiAlias"] = "al2023@latest"
    assert_issue(rejected(prod_values), "meridian:eks.karpenter.amiAlias", "al2023@v")
