"""PostgreSQL config: AWS's limits for global databases, prod's durability floor and the windows,
each shown rejecting bad input with the stack file, the key path and the fix."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from components.core.sizes import PostgresSizes
from components.core.windows import daily_minutes, overlaps, weekly_minutes
from components.network.args import az_id_prefix
from components.postgres.args import (
    GLOBAL_DATABASE_REGIONS,
    MAX_SECONDARY_REGIONS,
    PostgresClusterArgs,
    global_database_instance_class,
    global_database_problems,
)
from infra.config.component_args import cdn_args, region_args
from infra.config.loading import validate_config
from tests.support import assert_issue, rejected

#: Regions beyond prod's eight that offer Aurora PostgreSQL global databases.
MORE_REGIONS = ["eu-west-2", "eu-west-3", "eu-north-1", "ap-south-1", "ap-northeast-2"]


def add_regions(values: dict[str, Any], names: list[str], first_octet: int = 20) -> None:
    for i, name in enumerate(names):
        zones = [f"{az_id_prefix(name)}-az{n}" for n in (1, 2, 3)]
        values["regions"].append(
            {"name": name, "role": "secondary", "cidr": f"10.{first_octet + i}.0.0/16", "azIds": zones}
        )


# --- the stack files --------------------------------------------------------------------------


def test_prod_and_staging_load(prod_values: dict[str, Any], staging_values: dict[str, Any]) -> None:
    prod = validate_config(prod_values, "Pulumi.prod.yaml")
    assert prod.postgres_regions()[0] == prod.write_home == "us-east-1"
    assert len(prod.postgres_regions()) == 8
    assert prod.postgres.backup.copy_region == "us-west-1"
    staging = validate_config(staging_values, "Pulumi.staging.yaml")
    assert staging.postgres_regions() == ["us-east-1", "eu-west-1"]


# --- global database limits -----------------------------------------------------------------


def test_too_many_secondary_regions(prod_values: dict[str, Any]) -> None:
    add_regions(prod_values, MORE_REGIONS[:4])  # 12 regions: 11 secondaries
    error = rejected(prod_values)
    assert_issue(
        error, "meridian:postgres.regions", "11 secondary regions", f"at most {MAX_SECONDARY_REGIONS}"
    )


def test_ten_secondaries_are_allowed(prod_values: dict[str, Any]) -> None:
    add_regions(prod_values, MORE_REGIONS[:3])  # 11 regions: 10 secondaries
    prod_values["sizes"]["primary"]["postgres"]["readerInstances"] = 5  # 15 - 10
    config = validate_config(prod_values, "Pulumi.prod.yaml")
    assert len(config.postgres_regions()) == 11


def test_region_that_cannot_join_is_named_not_skipped(prod_values: dict[str, Any]) -> None:
    assert "ap-southeast-4" not in GLOBAL_DATABASE_REGIONS  # Melbourne: not offered
    add_regions(prod_values, ["ap-southeast-4"])
    error = rejected(prod_values)
    assert_issue(error, "meridian:postgres.regions", "not offered in ap-southeast-4", "leave it out")


def test_leaving_the_region_out_of_the_database_is_the_fix(prod_values: dict[str, Any]) -> None:
    add_regions(prod_values, ["ap-southeast-4"])
    prod_values["postgres"]["regions"] = [r["name"] for r in prod_values["regions"][:8]]
    config = validate_config(prod_values, "Pulumi.prod.yaml")
    assert "ap-southeast-4" not in config.postgres_regions()
    assert len(region_args(config, "prod")) == 9


def test_database_region_must_be_a_region_of_the_stack(prod_values: dict[str, Any]) -> None:
    prod_values["postgres"]["regions"] = ["us-east-1", "eu-west-1", "sa-east-1"]
    assert_issue(
        rejected(prod_values), "meridian:postgres.regions[2]", "sa-east-1 is not a region of this stack"
    )


def test_database_regions_must_include_the_write_home(prod_values: dict[str, Any]) -> None:
    prod_values["postgres"]["regions"] = ["eu-west-1", "us-west-1"]
    assert_issue(rejected(prod_values), "meridian:postgres.regions", "write home us-east-1 holds the writer")


def test_primary_readers_limited_by_the_number_of_secondaries(prod_values: dict[str, Any]) -> None:
    prod_values["sizes"]["primary"]["postgres"]["readerInstances"] = 9  # 7 secondaries: at most 8
    error = rejected(prod_values)
    assert_issue(error, "meridian:sizes.primary.postgres.readerInstances", "15 - 7", "= 8 readers", "got 9")


def test_burstable_instance_class_cannot_join(prod_values: dict[str, Any]) -> None:
    prod_values["sizes"]["secondary"]["postgres"]["instanceClass"] = "db.t4g.medium"
    error = rejected(prod_values)
    assert_issue(error, "meridian:sizes.secondary.postgres.instanceClass", "db.t4g.medium", "db.r5 or later")


@pytest.mark.parametrize(
    ("instance_class", "accepted"),
    [("db.r7g.large", True), ("db.r5.xlarge", True), ("db.r6id.large", True), ("db.r6i.2xlarge", True),
     ("db.x2g.large", True), ("db.r4.large", False), ("db.t3.medium", False), ("db.m6g.large", False)],
)  # fmt: skip
def test_global_database_instance_classes(instance_class: str, accepted: bool) -> None:
    assert global_database_instance_class(instance_class) is accepted


def test_problems_of_a_topology_without_any_stack_around_it() -> None:
    sizes = PostgresSizes(instance_class="db.r7g.large", reader_instances=2)
    ten = ["us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1",
           "eu-north-1", "ap-northeast-1", "ap-southeast-1"]  # fmt: skip
    assert global_database_problems("us-east-1", {"us-east-1": sizes, **dict.fromkeys(ten, sizes)}) == []
    eleven = {"us-east-1": sizes, **dict.fromkeys([*ten, "sa-east-1"], sizes)}
    (problem,) = global_database_problems("us-east-1", eleven)
    assert problem.setting == "regions" and "11 secondary regions" in problem.problem
    (problem,) = global_database_problems("us-east-1", {"eu-west-1": sizes})
    assert "us-east-1, which creates the global database, must be one of the regions" in problem.problem


# --- durability floor -------------------------------------------------------------------------


def test_backup_retention_below_the_prod_floor(prod_values: dict[str, Any]) -> None:
    prod_values["postgres"]["backupRetentionDays"] = 7
    error = rejected(prod_values)
    assert_issue(error, "meridian:postgres.backupRetentionDays", "at least 14 days", "got 7")


def test_short_retention_is_fine_in_staging(staging_values: dict[str, Any]) -> None:
    assert staging_values["postgres"]["backupRetentionDays"] == 7
    validate_config(staging_values, "Pulumi.staging.yaml")


def test_backup_retention_beyond_what_aurora_keeps(prod_values: dict[str, Any]) -> None:
    prod_values["postgres"]["backupRetentionDays"] = 36
    assert_issue(rejected(prod_values), "meridian:postgres.backupRetentionDays", "less than or equal to 35")


def test_prod_needs_a_cross_region_backup_copy(prod_values: dict[str, Any]) -> None:
    del prod_values["postgres"]["backup"]["copyRegion"]
    assert_issue(rejected(prod_values), "meridian:postgres.backup.copyRegion", "second region")


@pytest.mark.parametrize("region", ["us-east-1", "sa-east-1"])
def test_backup_copy_goes_to_another_region_of_the_stack(prod_values: dict[str, Any], region: str) -> None:
    prod_values["postgres"]["backup"]["copyRegion"] = region
    error = rejected(prod_values)
    assert_issue(
        error, "meridian:postgres.backup.copyRegion", f"{region} cannot hold the copies", "us-west-1"
    )


# --- engine, windows, monitoring ----------------------------------------------------------------


@pytest.mark.parametrize("version", ["15.4", "16", "16.0", "16.8.1", "latest"])
def test_engine_version_must_be_a_postgresql_16_minor(prod_values: dict[str, Any], version: str) -> None:
    prod_values["postgres"]["engineVersion"] = version
    assert_issue(
        rejected(prod_values), "meridian:postgres.engineVersion", "not an Aurora PostgreSQL 16 version"
    )


def test_maintenance_window_overlapping_the_backup_window(prod_values: dict[str, Any]) -> None:
    prod_values["postgres"]["backupWindow"] = "05:30-06:30"
    assert_issue(rejected(prod_values), "meridian:postgres", "overlaps backupWindow 05:30-06:30")


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [("backupWindow", "3:00-4:00", "hh:mm-hh:mm"), ("backupWindow", "03:00-03:15", "at least 30"),
     ("maintenanceWindow", "sunday:05:00-sunday:06:00", "ddd:hh:mm-ddd:hh:mm"),
     ("monitoringIntervalSeconds", 0, "no 0-second interval"),
     ("performanceInsightsRetentionDays", 100, "cannot keep 100 days"),
     ("masterUsername", "Admin-User", "should match pattern")],
)  # fmt: skip
def test_malformed_settings(prod_values: dict[str, Any], key: str, value: Any, fragment: str) -> None:
    prod_values["postgres"][key] = value
    assert_issue(rejected(prod_values), f"meridian:postgres.{key}", fragment)


def test_windows_parse_and_meet_across_midnight_and_the_week() -> None:
    assert daily_minutes("03:00-04:00") == (180, 60, 1440)
    assert daily_minutes("23:30-00:30") == (1410, 60, 1440)
    assert weekly_minutes("sun:23:00-mon:01:00") == (6 * 1440 + 1380, 120, 10080)
    assert overlaps("03:00-04:00", "sun:03:30-sun:04:30")
    assert not overlaps("03:00-04:00", "sun:04:00-sun:05:00")  # touching is not overlapping
    assert overlaps("23:30-00:30", "mon:00:00-mon:00:30")  # the daily window runs past midnight
    assert overlaps("00:00-00:30", "sun:23:45-mon:00:15")  # the weekly one wraps the week
    assert not overlaps("12:00-13:00", "wed:01:00-wed:11:59")


def test_member_args_reject_what_a_global_database_cannot_take() -> None:
    base = {"engine_version": "16.8", "cluster_identifier": "team-db", "global_cluster_identifier": "team",
            "sizes": {"instance_class": "db.r7g.large", "reader_instances": 1}}  # fmt: skip
    with pytest.raises(ValidationError, match="cannot join an Aurora global database"):
        PostgresClusterArgs(**{**base, "sizes": {"instance_class": "db.t4g.large", "reader_instances": 1}},
                            role="secondary")  # fmt: skip
    with pytest.raises(ValidationError, match="the writer needs secret_name"):
        PostgresClusterArgs(**base, role="writer")
    assert PostgresClusterArgs(**base, role="writer", secret_name="team/db").instance_count == 2
    assert PostgresClusterArgs(**base, role="secondary").instance_count == 1


# --- writes from every region --------------------------------------------------------------------


def test_every_region_writes_through_forwarding(prod_values: dict[str, Any]) -> None:
    config = validate_config(prod_values, "Pulumi.prod.yaml")
    assert config.postgres.write_forwarding.consistency_mode == "session"  # AWS's default
    assert config.writable_regions() == [r["name"] for r in prod_values["regions"]]


@pytest.mark.parametrize(
    ("mode", "fragment"),
    [
        ("off", "no secondary could write"),
        ("strong", "'strong' is not a consistency mode"),
    ],
)
def test_a_consistency_mode_that_stops_forwarding_is_refused(
    prod_values: dict[str, Any], mode: str, fragment: str
) -> None:
    prod_values["postgres"]["writeForwarding"]["consistencyMode"] = mode
    assert_issue(rejected(prod_values), "meridian:postgres.writeForwarding.consistencyMode", fragment)


@pytest.mark.parametrize("mode", ["EVENTUAL", "global", "Session"])
def test_the_three_forwarding_modes_are_accepted(prod_values: dict[str, Any], mode: str) -> None:
    prod_values["postgres"]["writeForwarding"]["consistencyMode"] = mode
    config = validate_config(prod_values, "Pulumi.prod.yaml")
    assert config.postgres.write_forwarding.consistency_mode == mode.lower()


def test_the_proxy_leaves_the_forwarding_quota_free(prod_values: dict[str, Any]) -> None:
    prod_values["postgres"]["proxy"] = {"maxConnectionsPercent": 90}
    prod_values["postgres"]["writeForwarding"]["maxForwardingConnectionsPercent"] = 25
    assert_issue(
        rejected(prod_values),
        "meridian:postgres",
        "proxy.maxConnectionsPercent (90) plus writeForwarding.maxForwardingConnectionsPercent (25)",
        "exceed 100",
        "set maxConnectionsPercent to 75 or less",
    )
    prod_values["postgres"]["writeForwarding"]["maxForwardingConnectionsPercent"] = 10
    validate_config(prod_values, "Pulumi.prod.yaml")


def test_a_secondary_outside_the_database_serves_no_one(prod_values: dict[str, Any]) -> None:
    """Its API could not write (no member, and no other region's proxy is reachable): no pool."""
    prod_values["postgres"]["regions"] = [
        r["name"] for r in prod_values["regions"] if r["name"] != "af-south-1"
    ]
    config = validate_config(prod_values, "Pulumi.prod.yaml")
    assert "af-south-1" not in config.writable_regions()
    assert all("af-south-1" not in order for order in cdn_args(config, "prod").steering().regions.values())


def test_a_primary_region_outside_the_database_is_refused(prod_values: dict[str, Any]) -> None:
    prod_values["postgres"]["regions"] = [
        r["name"] for r in prod_values["regions"] if r["name"] != "eu-west-1"
    ]
    assert_issue(
        rejected(prod_values),
        "meridian:postgres.regions",
        "eu-west-1 is a primary region",
        "holds no member of the global database",
        "add eu-west-1 to meridian:postgres.regions",
    )


def test_prod_bounds_its_data_loss(prod_values: dict[str, Any]) -> None:
    del prod_values["postgres"]["managedRpoSeconds"]
    assert_issue(
        rejected(prod_values), "meridian:postgres.managedRpoSeconds", "prod bounds what a lost region"
    )
    prod_values["postgres"]["managedRpoSeconds"] = 10
    assert_issue(rejected(prod_values), "meridian:postgres.managedRpoSeconds", "greater than or equal to 20")


def test_two_members_may_not_set_a_managed_rpo(staging_values: dict[str, Any]) -> None:
    staging_values["postgres"]["managedRpoSeconds"] = 20
    assert_issue(
        rejected(staging_values, "Pulumi.staging.yaml"),
        "meridian:postgres.managedRpoSeconds",
        "with 1 secondary, losing it would stop every commit",
    )
