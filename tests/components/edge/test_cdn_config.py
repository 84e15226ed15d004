"""Cloudflare config (`meridian:cdn`): every rule rejects bad input with the key path and the fix."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from components.core.args import RegionRole
from components.edge.args import CdnEdgeArgs, HealthCheck, SessionAffinity
from infra.config.component_args import cdn_args
from infra.config.errors import ConfigError
from infra.config.loading import load_stack_file, validate_config
from tests.support import PROJECT_DIR, assert_issue, rejected


def test_both_stack_files_configure_the_edge() -> None:
    for stack in ("prod", "staging"):
        config = load_stack_file(PROJECT_DIR / f"Pulumi.{stack}.yaml")
        args = cdn_args(config, stack)
        assert args.hostname == config.domain and args.fallback_region == config.write_home
        assert list(args.regions) == [r.name for r in config.regions]


# --- steering ------------------------------------------------------------------------------------


def test_an_unknown_cloudflare_region_in_an_override_is_named(prod_values: dict[str, Any]) -> None:
    prod_values["cdn"]["steeringOverrides"] = {"EUROPE": ["eu-west-1"]}
    assert_issue(
        rejected(prod_values), "meridian:cdn.steeringOverrides.EUROPE", "'EUROPE' is not a valid key", "'WEU'"
    )


def test_an_override_naming_a_region_outside_the_stack_is_refused(prod_values: dict[str, Any]) -> None:
    prod_values["cdn"]["steeringOverrides"] = {"SSAM": ["us-east-1", "sa-east-1"]}
    assert_issue(
        rejected(prod_values),
        "meridian:cdn.steeringOverrides.SSAM[1]",
        "sa-east-1 has no pool",
        "us-east-1, eu-west-1",
    )


def test_an_override_naming_no_aws_region_is_refused(prod_values: dict[str, Any]) -> None:
    prod_values["cdn"]["steeringOverrides"] = {"SAF": ["af-south-9"]}
    assert_issue(rejected(prod_values), "meridian:cdn.steeringOverrides.SAF[0]", "is not an AWS region")


def test_an_override_naming_a_region_twice_is_refused(prod_values: dict[str, Any]) -> None:
    prod_values["cdn"]["steeringOverrides"] = {"OC": ["ap-southeast-1", "ap-southeast-1"]}
    assert_issue(rejected(prod_values), "meridian:cdn.steeringOverrides.OC", "listed twice")


def test_an_override_that_is_valid_is_accepted(prod_values: dict[str, Any]) -> None:
    prod_values["cdn"]["steeringOverrides"] = {"SAF": ["af-south-1"], "SEAS": ["ap-southeast-1"]}
    config = validate_config(prod_values, "Pulumi.prod.yaml")
    steering = cdn_args(config, "prod").steering().regions
    assert steering["SAF"][0] == "af-south-1" and steering["SEAS"][0] == "ap-southeast-1"  # type: ignore[index]


def test_a_region_without_a_location_is_named_before_anything_is_declared(
    staging_values: dict[str, Any],
) -> None:
    staging_values["regions"][1]["name"] = "us-gov-west-1"
    staging_values["regions"][1]["azIds"] = ["usgw1-az1", "usgw1-az2"]
    assert_issue(
        rejected(staging_values, "Pulumi.staging.yaml"),
        "meridian:regions[1].name",
        "us-gov-west-1 has no location for geo steering",
        "AWS_REGION_LOCATIONS",
    )


def test_a_one_region_stack_leaves_every_cloudflare_region_without_failover(
    staging_values: dict[str, Any],
) -> None:
    staging_values["regions"] = staging_values["regions"][:1]
    staging_values["postgres"]["backup"].pop("copyRegion")
    staging_values["sizes"].pop("secondary")
    assert_issue(
        rejected(staging_values, "Pulumi.staging.yaml"),
        "meridian:regions",
        "needs a pool to fail over to",
        "add a second region",
    )


def test_a_region_that_cannot_write_its_store_is_no_failover_pool(staging_values: dict[str, Any]) -> None:
    """Staging as it was: its store replicated to eu-west-1, whose copy is read-only. eu-west-1
    then gets no pool, and us-east-1's users would have nowhere to fail over to."""
    staging_values["redis"]["stores"]["shared"]["globalRegions"] = ["eu-west-1"]
    assert_issue(
        rejected(staging_values, "Pulumi.staging.yaml"),
        "meridian:regions",
        "this stack has 1 (eu-west-1 cannot take writes, so gets none)",
        "add a second region that takes writes",
    )


# --- weights and thresholds ----------------------------------------------------------------------


@pytest.mark.parametrize("percent", [-1, 100.5, 250])
def test_load_shedding_out_of_range_is_refused(prod_values: dict[str, Any], percent: float) -> None:
    prod_values["cdn"]["loadSheddingPercent"] = {"eu-west-1": percent}
    assert_issue(
        rejected(prod_values), "meridian:cdn.loadSheddingPercent.eu-west-1", "100" if percent > 0 else "0"
    )


def test_load_shedding_of_a_region_outside_the_stack_is_refused(prod_values: dict[str, Any]) -> None:
    prod_values["cdn"]["loadSheddingPercent"] = {"eu-west-2": 20}
    assert_issue(rejected(prod_values), "meridian:cdn.loadSheddingPercent.eu-west-2", "eu-west-2 has no pool")


@pytest.mark.parametrize(
    ("setting", "value", "fragment"),
    [
        ("intervalSeconds", 5, "greater than or equal to 10"),
        ("timeoutSeconds", 11, "less than or equal to 10"),
        ("retries", 6, "less than or equal to 5"),
        ("consecutiveDown", 0, "greater than or equal to 1"),
        ("expectedCodes", "20", "should match pattern"),
        ("path", "healthz", "not a URL path prefix"),
    ],
)
def test_health_check_thresholds_out_of_range_are_refused(
    prod_values: dict[str, Any], setting: str, value: Any, fragment: str
) -> None:
    prod_values["cdn"]["healthCheck"][setting] = value
    assert_issue(rejected(prod_values), f"meridian:cdn.healthCheck.{setting}", fragment)


def test_a_probe_with_its_retries_must_end_before_the_next(prod_values: dict[str, Any]) -> None:
    prod_values["cdn"]["healthCheck"] = {"intervalSeconds": 15, "timeoutSeconds": 5, "retries": 2}
    assert_issue(rejected(prod_values), "meridian:cdn.healthCheck", "= 15 s", "lengthen the interval")
    assert HealthCheck(interval_seconds=16, timeout_seconds=5, retries=2).interval_seconds == 16


@pytest.mark.parametrize(
    ("setting", "value", "fragment"),
    [
        ("periodSeconds", 50, "no period of 50 s"),
        ("requestsPerPeriod", 0, "greater than or equal to 1"),
        ("mitigationTimeoutSeconds", 30, "no mitigation timeout of 30 s"),
        ("action", "drop", "'block'"),
        ("pathPrefix", "/api /v2", "not a URL path prefix"),
    ],
)
def test_rate_limit_thresholds_out_of_range_are_refused(
    prod_values: dict[str, Any], setting: str, value: Any, fragment: str
) -> None:
    prod_values["cdn"]["rateLimit"][setting] = value
    assert_issue(rejected(prod_values), f"meridian:cdn.rateLimit.{setting}", fragment)


@pytest.mark.parametrize("action", ["managed_challenge", "log"])
def test_a_mitigation_timeout_applies_to_blocks_only(prod_values: dict[str, Any], action: str) -> None:
    prod_values["cdn"]["rateLimit"]["action"] = action  # prod's file sets mitigationTimeoutSeconds
    assert_issue(rejected(prod_values), "meridian:cdn.rateLimit", "applies to action block only")
    del prod_values["cdn"]["rateLimit"]["mitigationTimeoutSeconds"]
    assert validate_config(prod_values, "Pulumi.prod.yaml").cdn.rate_limit.action.value == action


@pytest.mark.parametrize(
    ("affinity", "fragment"),
    [
        ({"mode": "cookie", "ttlSeconds": 60}, "outside 1800-604800"),
        ({"mode": "header", "ttlSeconds": 7200, "headers": ["x-session"]}, "outside 30-3600"),
        ({"mode": "header"}, "needs headers"),
        ({"mode": "cookie", "headers": ["x-session"]}, "mode header only"),
        ({"ttlSeconds": 3600}, "needs a mode"),
    ],
)
def test_session_affinity_out_of_range_is_refused(
    prod_values: dict[str, Any], affinity: dict[str, Any], fragment: str
) -> None:
    prod_values["cdn"]["sessionAffinity"] = affinity
    assert_issue(rejected(prod_values), "meridian:cdn.sessionAffinity", fragment)
    assert SessionAffinity(mode="cookie", ttl_seconds=3600).ttl_seconds == 3600  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("setting", "value", "path", "fragment"),
    [
        ("owasp", {"scoreThreshold": 50}, "meridian:cdn.owasp.scoreThreshold", "no OWASP score threshold 50"),
        ("owasp", {"paranoiaLevel": 5}, "meridian:cdn.owasp.paranoiaLevel", "less than or equal to 4"),
        ("originCertificateDays", 100, "meridian:cdn.originCertificateDays", "no certificate of 100 days"),
        ("staticCaching", {"edgeTtlSeconds": 10}, "meridian:cdn.staticCaching.edgeTtlSeconds", "60"),
        ("accountId", "ACCOUNT", "meridian:cdn.accountId", "32 lower-case hex"),
        ("zoneId", "023e105f4ecef8ad9ca31a8372d0c35", "meridian:cdn.zoneId", "32 lower-case hex"),
        ("alertEmails", [], "meridian:cdn.alertEmails", "at least 1 item"),
        ("alertEmails", ["oncall"], "meridian:cdn.alertEmails[0]", "not an email address"),
        ("hstsMaxAgeSeconds", 63_072_000, "meridian:cdn.hstsMaxAgeSeconds", "less than or equal"),
    ],
)
def test_bad_edge_settings_are_refused(
    prod_values: dict[str, Any], setting: str, value: Any, path: str, fragment: str
) -> None:
    prod_values["cdn"][setting] = value
    assert_issue(rejected(prod_values), path, fragment)


def test_prod_keeps_hsts_for_six_months(prod_values: dict[str, Any], staging_values) -> None:
    prod_values["cdn"]["hstsMaxAgeSeconds"] = 86_400
    assert_issue(rejected(prod_values), "meridian:cdn.hstsMaxAgeSeconds", "at least 15552000")
    staging_values["cdn"]["hstsMaxAgeSeconds"] = 86_400
    validate_config(staging_values, "Pulumi.staging.yaml")


def test_preload_needs_a_year_of_hsts(prod_values: dict[str, Any]) -> None:
    prod_values["cdn"] |= {"hstsPreload": True, "hstsMaxAgeSeconds": 15_552_000}
    assert_issue(rejected(prod_values), "meridian:cdn", "hstsPreload needs hstsMaxAgeSeconds of a year")


def test_the_edge_is_required(prod_values: dict[str, Any]) -> None:
    del prod_values["cdn"]
    assert_issue(rejected(prod_values), "meridian:cdn", "required key is missing")


# --- credentials ---------------------------------------------------------------------------------


def _stack_dir(tmp_path: Path, extra: dict[str, Any]) -> Path:
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    document = yaml.safe_load((PROJECT_DIR / "Pulumi.staging.yaml").read_text())
    document["config"] |= extra
    (tmp_path / "Pulumi.staging.yaml").write_text(yaml.safe_dump(document))
    return tmp_path


def test_a_plain_text_api_token_in_the_stack_file_is_refused(tmp_path: Path) -> None:
    folder = _stack_dir(tmp_path, {"cloudflare:apiToken": "not-a-secret-anymore"})
    with pytest.raises(ConfigError) as caught:
        load_stack_file(folder / "Pulumi.staging.yaml")
    assert_issue(
        caught.value, "cloudflare:apiToken", "plain text", "pulumi config set --secret cloudflare:apiToken"
    )
    assert "not-a-secret-anymore" not in str(caught.value)


def test_an_encrypted_api_token_is_accepted_and_reaches_the_provider_as_a_secret(tmp_path: Path) -> None:
    from infra.plan.run import run_plan

    folder = _stack_dir(tmp_path, {"cloudflare:apiToken": {"secure": "v1:c2VjcmV0Y2lwaGVydGV4dA=="}})
    plan = run_plan(folder, "staging")
    # Both Cloudflare providers (the edge's, and the one reading the published ranges) get it.
    providers = plan.of_type("pulumi:providers:cloudflare")
    assert len(providers) == 2
    assert all(provider.inputs["apiToken"] == "[secret]" for provider in providers)
    # Without one, the providers get no token and read CLOUDFLARE_API_TOKEN themselves.
    from tests.support import plan_of

    ambient = plan_of("staging").of_type("pulumi:providers:cloudflare")
    assert len(ambient) == 2 and all("apiToken" not in provider.inputs for provider in ambient)


# --- the component's own arguments (platform teams build CdnEdgeArgs directly) --------------------


def _edge_args(**overrides: Any) -> dict[str, Any]:
    return {
        "account_id": "f037e56e89293a057740de681ac9abbe",
        "zone_id": "023e105f4ecef8ad9ca31a8372d0c353",
        "alert_emails": ["oncall@example.com"],
        "hostname": "shop.example.com",
        "regions": {"eu-west-1": RegionRole.PRIMARY, "eu-central-1": RegionRole.SECONDARY},
        "fallback_region": "eu-west-1",
        "name_prefix": "shop",
        **overrides,
    }


def test_edge_args_accept_a_small_team_setup() -> None:
    args = CdnEdgeArgs(**_edge_args())
    assert args.steering().regions["WEU"] == ["eu-west-1", "eu-central-1"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"fallback_region": "us-east-1"}, "the fallback us-east-1 has no pool"),
        ({"regions": {"eu-west-1": RegionRole.PRIMARY}}, "add a second region"),
        ({"steering_overrides": {"WEU": ["us-east-1"]}}, "us-east-1 has no pool"),
        ({"name_prefix": "shop prod"}, "should match pattern"),
        ({"hostname": 'shop.example.com" or true or "'}, "is not a DNS name"),
    ],
)
def test_edge_args_refuse_what_cannot_be_steered(overrides: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        CdnEdgeArgs(**_edge_args(**overrides))
