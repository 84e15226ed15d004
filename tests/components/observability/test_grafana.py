"""What GrafanaWorkspace provisions inside Grafana: the provisioning service account and its rotating
token, the Grafana provider signed in with it, a Prometheus data source per AMP workspace and the
CloudWatch one. Small programs run under the project's mocks (and both stacks' plans); the tests
read what was registered, after the program ran."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
from pulumi.runtime.rpc import is_rpc_secret, unwrap_rpc_secret
from pydantic import ValidationError

from components.observability.args import GrafanaArgs, GrafanaSettings
from components.observability.grafana_sources import (
    MAX_TOKEN_DAYS,
    SECONDS_PER_DAY,
    check_prometheus_regions,
    rotation_days,
    token_seconds_to_live,
    token_window,
)
from components.observability.grafana_workspace import PROVISIONER_ROLE, GrafanaWorkspace
from infra.plan.mocks import (
    MOCK_TOKEN_CREATED,
    PlanMocks,
    RecordedResource,
    is_provider_type,
    mock_grafana_token,
)
from infra.plan.run import Plan, plan_after, run_program
from tests.support import PROJECT_DIR, assert_issue, plan_of, rejected

GRAFANA = "meridian:telemetry:GrafanaWorkspace"
WORKSPACE = "aws:grafana/workspace:Workspace"
SERVICE_ACCOUNT = "aws:grafana/workspaceServiceAccount:WorkspaceServiceAccount"
TOKEN = "aws:grafana/workspaceServiceAccountToken:WorkspaceServiceAccountToken"
GRAFANA_PROVIDER = "pulumi:providers:grafana"
DATA_SOURCE = "grafana:oss/dataSource:DataSource"
AMP_WORKSPACE = "aws:amp/workspace:Workspace"

ANCHOR = "us-east-1"
OTHER = "eu-west-1"
#: A Saturday in the middle of a rotation window of 15 days (its ordinal is 739_689).
TODAY = date(2026, 3, 14)


# --- the token's rotation window (pure) --------------------------------------------------------


@pytest.mark.parametrize("rotate_days", [1, 7, 15])
def test_the_window_changes_exactly_every_rotate_days(rotate_days: int) -> None:
    start = date(2025, 12, 30)
    days = [start + timedelta(days=n) for n in range(4 * rotate_days + 3)]
    windows = [token_window(day, rotate_days) for day in days]
    for before, after, day in zip(windows, windows[1:], days[1:], strict=False):
        # It moves on by one on the first day of a window, and only then.
        assert after - before == (1 if day.toordinal() % rotate_days == 0 else 0), day
    # Every window (but the partial ones at either end) holds exactly rotate_days days.
    lengths = [windows.count(w) for w in sorted(set(windows))[1:-1]]
    assert lengths and set(lengths) == {rotate_days}


def test_the_window_is_the_same_for_everyone_on_the_same_day() -> None:
    assert token_window(TODAY, 15) == TODAY.toordinal() // 15 == 49_312
    assert token_window(TODAY, 15) == token_window(datetime(2026, 3, 14, 23, 59).date(), 15)
    with pytest.raises(ValueError, match="rotate_days must be 1 or more"):
        token_window(TODAY, 0)


def _valid_until(created: datetime, token_days: int) -> datetime:
    return created + timedelta(seconds=token_seconds_to_live(token_days))


def _window_start(index: int, rotate_days: int) -> datetime:
    return datetime.combine(date.fromordinal(index * rotate_days), datetime.min.time())


def test_a_token_made_at_the_start_of_a_window_lasts_through_the_next_one_with_the_defaults() -> None:
    token_days = GrafanaSettings().api_token_days
    rotate = rotation_days(token_days)
    assert (token_days, rotate) == (30, 15)
    k = token_window(TODAY, rotate)
    created = _window_start(k, rotate)  # the first moment of window k
    end_of_next = _window_start(k + 2, rotate)  # the first moment after window k+1
    assert token_window(created.date(), rotate) == k
    assert token_window((end_of_next - timedelta(seconds=1)).date(), rotate) == k + 1
    assert _valid_until(created, token_days) >= end_of_next


@pytest.mark.parametrize("token_days", range(2, MAX_TOKEN_DAYS + 1))
def test_any_token_life_covers_the_rest_of_its_window_and_the_next(token_days: int) -> None:
    rotate = rotation_days(token_days)
    k = 49_000
    for offset in range(rotate):  # made on any day of window k, at its very start
        created = _window_start(k, rotate) + timedelta(days=offset)
        assert _valid_until(created, token_days) >= _window_start(k + 2, rotate), (token_days, offset)


def test_token_life_is_bounded_by_amgs_thirty_days() -> None:
    assert token_seconds_to_live(30) == 2_592_000 == 30 * SECONDS_PER_DAY
    for days in (1, 31, 0):
        with pytest.raises(ValueError, match="a token lives 2 to 30 days"):
            token_seconds_to_live(days)


@pytest.mark.parametrize("days", [1, 31])
def test_settings_refuse_a_token_life_amg_or_the_rotation_cannot_take(days: int) -> None:
    with pytest.raises(ValidationError, match=r"api_token_days"):
        GrafanaSettings(api_token_days=days)
    with pytest.raises(ValidationError):
        GrafanaArgs(name_prefix="x", api_token_days=days)


def test_settings_take_a_token_life_from_two_to_thirty_days() -> None:
    assert GrafanaSettings().api_token_days == 30
    assert GrafanaSettings(api_token_days=2).api_token_days == 2
    assert GrafanaSettings.model_validate({"apiTokenDays": 7}).api_token_days == 7


def test_the_stack_file_key_is_checked(prod_values: dict[str, Any]) -> None:
    prod_values["observability"].setdefault("grafana", {})["apiTokenDays"] = 31
    assert_issue(
        rejected(prod_values), "meridian:observability.grafana.apiTokenDays", "less than or equal to 30"
    )


# --- a workspace over two AMP workspaces -------------------------------------------------------


def _amp(region: str) -> aws.amp.Workspace:
    provider = aws.Provider(f"amp-{region}", region=region)
    return aws.amp.Workspace(
        f"amp-{region}", alias=f"t-{region}", opts=pulumi.ResourceOptions(provider=provider)
    )


def grafana_program(
    *,
    regions: tuple[str, ...] = (ANCHOR, OTHER),
    default: str | None = ANCHOR,
    today: date = TODAY,
    **settings: Any,
) -> Callable[[], dict[str, Any]]:
    def main() -> dict[str, Any]:
        endpoints = {region: _amp(region).prometheus_endpoint for region in regions}
        pinned = pulumi.ResourceOptions(providers=[aws.Provider("anchor", region=ANCHOR)])
        grafana = GrafanaWorkspace(
            "obs",
            GrafanaArgs(name_prefix="meridian-test", **settings),
            opts=pinned,
            prometheus_endpoints=endpoints,
            default_prometheus_region=default,
            today=today,
        )
        return {
            "endpoint": grafana.endpoint,
            "endpoints": endpoints,
            "window": grafana.token_window,
            "expiresAt": grafana.token.expires_at,
        }

    return main


def run(main: Callable[[], dict[str, Any]]) -> Plan:
    return run_program(main, project="grafana", stack="test")


@pytest.fixture(scope="module")
def registrations() -> Iterator[dict[str, dict[str, Any]]]:
    """Every resource's inputs as the mocks received them (secrets still wrapped), by name."""
    seen: dict[str, dict[str, Any]] = {}
    original = PlanMocks.new_resource

    def spy(self: PlanMocks, args: Any) -> Any:
        seen[args.name] = dict(args.inputs)
        return original(self, args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(PlanMocks, "new_resource", spy)
        yield seen


@pytest.fixture(scope="module")
def plan(registrations: dict[str, dict[str, Any]]) -> Plan:
    return run(grafana_program())


def one(plan: Plan, type_token: str) -> RecordedResource:
    (found,) = plan.of_type(type_token)
    return found


def sources(plan: Plan) -> dict[str, RecordedResource]:
    """Data sources by uid."""
    return {str(r.inputs["uid"]): r for r in plan.of_type(DATA_SOURCE)}


def test_the_service_account_is_an_admin_of_the_workspace(plan: Plan) -> None:
    account = one(plan, SERVICE_ACCOUNT)
    workspace = one(plan, WORKSPACE)
    assert account.inputs["grafanaRole"] == PROVISIONER_ROLE == "ADMIN"
    assert account.inputs["workspaceId"] == workspace.id
    assert account.inputs["name"] == "meridian-test-provisioner"


def test_the_token_lives_thirty_days_and_is_replaced_with_each_window(plan: Plan) -> None:
    token = one(plan, TOKEN)
    account = one(plan, SERVICE_ACCOUNT)
    window = token_window(TODAY, 15)
    assert token.inputs["secondsToLive"] == 30 * SECONDS_PER_DAY <= 2_592_000
    assert token.replacement_trigger == window == plan.outputs["window"]
    assert token.inputs["name"] == f"meridian-test-provisioner-{window}"
    assert token.parent == account.urn
    assert account.urn in token.property_dependencies["serviceAccountId"]
    assert token.inputs["workspaceId"] == one(plan, WORKSPACE).id


def test_the_trigger_moves_with_the_window_and_the_token_life() -> None:
    def token_of(**kwargs: Any) -> RecordedResource:
        return one(run(grafana_program(**kwargs)), TOKEN)

    start = date.fromordinal(token_window(TODAY, 15) * 15)  # the first day of TODAY's window
    same = token_of(today=start + timedelta(days=14))
    following = token_of(today=start + timedelta(days=15))
    assert same.replacement_trigger == token_window(TODAY, 15)
    assert following.replacement_trigger == token_window(TODAY, 15) + 1
    assert following.inputs["name"].endswith(f"-{token_window(TODAY, 15) + 1}")
    short = token_of(api_token_days=10)
    assert short.inputs["secondsToLive"] == 10 * SECONDS_PER_DAY
    assert short.replacement_trigger == token_window(TODAY, 5)


def test_the_provider_signs_in_to_the_workspace_with_the_token_as_a_secret(
    plan: Plan, registrations: dict[str, dict[str, Any]]
) -> None:
    provider = one(plan, GRAFANA_PROVIDER)
    token = one(plan, TOKEN)
    assert provider.inputs["url"] == f"https://{plan.outputs['endpoint']}"
    assert plan.outputs["endpoint"].endswith(f".grafana-workspace.{ANCHOR}.amazonaws.com")
    assert one(plan, WORKSPACE).urn in provider.property_dependencies["url"]
    # The token's key, a secret all the way: masked in the plan, wrapped as the engine gets it.
    assert provider.inputs["auth"] == "[secret]"
    assert provider.property_dependencies["auth"] == [token.urn]
    auth = registrations[provider.name]["auth"]
    assert is_rpc_secret(auth) and unwrap_rpc_secret(auth) == mock_grafana_token(token.name)
    assert provider.inputs["insecureSkipVerify"] in (False, "false")
    assert provider.parent == one(plan, GRAFANA).urn


def test_the_key_is_in_no_output_and_nowhere_in_the_plan(plan: Plan) -> None:
    key = mock_grafana_token(one(plan, TOKEN).name)
    document = json.dumps(plan.document())
    assert "glsa_" not in document and key not in document
    assert "glsa_" not in json.dumps(plan.outputs, default=str)


def test_one_prometheus_source_per_amp_workspace(plan: Plan) -> None:
    found = sources(plan)
    assert set(found) == {"amp-us-east-1", "amp-eu-west-1", "cloudwatch"}
    workspaces = {r.name.removeprefix("amp-"): r for r in plan.of_type(AMP_WORKSPACE)}
    for region in (ANCHOR, OTHER):
        source = found[f"amp-{region}"]
        assert source.inputs["type"] == "prometheus"
        assert source.inputs["name"] == f"AMP {region}"
        assert source.inputs["accessMode"] == "proxy"
        assert source.inputs["url"] == plan.outputs["endpoints"][region]
        assert source.inputs["url"].startswith(
            f"https://aps-workspaces.{region}.amazonaws.com/workspaces/ws-"
        )
        assert source.property_dependencies["url"] == [workspaces[region].urn]
        assert json.loads(source.inputs["jsonDataEncoded"]) == {
            "httpMethod": "POST",
            "sigV4Auth": True,
            "sigV4AuthType": "ec2_iam_role",
            "sigV4Region": region,
        }
        assert source.id == f"1:amp-{region}"


def test_the_anchor_source_is_the_one_default(plan: Plan) -> None:
    defaults = [uid for uid, source in sources(plan).items() if source.inputs["isDefault"] is True]
    assert defaults == ["amp-us-east-1"]
    assert sources(plan)["amp-eu-west-1"].inputs["isDefault"] is False


def test_cloudwatch_uses_the_workspace_role_from_the_workspaces_region(plan: Plan) -> None:
    cloudwatch = sources(plan)["cloudwatch"]
    assert cloudwatch.inputs["type"] == "cloudwatch"
    assert cloudwatch.inputs["accessMode"] == "proxy"
    assert cloudwatch.inputs["isDefault"] is False
    assert json.loads(cloudwatch.inputs["jsonDataEncoded"]) == {
        "authType": "ec2_iam_role",
        "defaultRegion": ANCHOR,
    }


def test_every_grafana_resource_uses_the_workspaces_grafana_provider_only(plan: Plan) -> None:
    provider = one(plan, GRAFANA_PROVIDER)  # one: no default provider was made
    (root,) = plan.of_type(GRAFANA)
    mine = plan.descendants(root.urn)
    inside = [r for r in plan.custom_resources if r.type.startswith("grafana:")]
    assert len(inside) == 3 and all(r in mine for r in inside)
    assert all(r.provider == provider.urn for r in inside)
    # The AWS ones (service account, token) stay on the anchor's AWS provider.
    (anchor,) = [p for p in plan.of_type("pulumi:providers:aws") if p.name == "anchor"]
    cloud = [r for r in mine if r.custom and not is_provider_type(r.type)]
    assert {r.type for r in cloud if r.provider == anchor.urn} >= {SERVICE_ACCOUNT, TOKEN, WORKSPACE}
    assert {r.provider for r in cloud} == {anchor.urn, provider.urn}


def test_without_amp_workspaces_cloudwatch_is_the_default() -> None:
    plan = run(grafana_program(regions=(), default=None))
    assert set(sources(plan)) == {"cloudwatch"}
    assert sources(plan)["cloudwatch"].inputs["isDefault"] is True


def test_the_mocked_token_expires_when_amg_would_say(plan: Plan) -> None:
    # The mocks answer as AMG: an expiry `secondsToLive` after creation (a fixed instant here).
    expires = datetime.fromisoformat(plan.outputs["expiresAt"].replace("Z", "+00:00"))
    assert expires - MOCK_TOKEN_CREATED == timedelta(days=30)


@pytest.mark.parametrize(
    ("endpoints", "default", "message"),
    [
        ({"eu-wst-1": "https://x/"}, "eu-wst-1", "'eu-wst-1' is not an AWS region"),
        ({"": "https://x/"}, "", "'' is not an AWS region"),
        ({"EU-WEST-1": "https://x/"}, "EU-WEST-1", "'EU-WEST-1' is not an AWS region"),
        ({ANCHOR: "https://x/", "mars-north-1": "https://y/"}, ANCHOR, "'mars-north-1' is not an AWS"),
        ({ANCHOR: "https://x/"}, OTHER, "default_prometheus_region 'eu-west-1' is not one of"),
        ({ANCHOR: "https://x/"}, None, "default_prometheus_region None is not one of"),
        ({}, ANCHOR, "names no AMP workspace"),
    ],
)
def test_a_bad_region_is_refused_before_any_resource(
    endpoints: Mapping[str, str], default: str | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        check_prometheus_regions(endpoints, default)
    refused: list[str] = []

    def main() -> dict[str, Any]:
        try:
            GrafanaWorkspace(
                "bad",
                GrafanaArgs(name_prefix="meridian-test"),
                prometheus_endpoints=endpoints,
                default_prometheus_region=default,
                today=TODAY,
            )
        except ValueError as exc:
            refused.append(str(exc))
        return {}

    plan = run(main)
    assert len(refused) == 1 and re.search(message, refused[0])
    assert plan.resources == []  # not even the component


# --- both stacks ---------------------------------------------------------------------------------


def test_every_region_of_the_stack_has_its_source_and_the_anchor_is_the_default(stack_plan: Plan) -> None:
    config = stack_plan.config
    assert config is not None
    regions = [r.name for r in config.regions]
    assert len(regions) == {"prod": 8, "staging": 2}[stack_plan.stack]
    found = sources(stack_plan)
    assert set(found) == {f"amp-{r}" for r in regions} | {"cloudwatch"}
    workspaces = {stack_plan.regions[w.urn]: w for w in stack_plan.of_type(AMP_WORKSPACE)}
    for region in regions:
        source = found[f"amp-{region}"]
        assert source.inputs["url"].startswith(f"https://aps-workspaces.{region}.amazonaws.com/workspaces/")
        assert source.property_dependencies["url"] == [workspaces[region].urn]
        assert json.loads(source.inputs["jsonDataEncoded"])["sigV4Region"] == region
    assert [uid for uid, s in found.items() if s.inputs["isDefault"] is True] == [
        f"amp-{config.anchor_region}"
    ]
    assert json.loads(found["cloudwatch"].inputs["jsonDataEncoded"])["defaultRegion"] == config.anchor_region


def test_the_stacks_grafana_provider_is_the_anchor_workspaces(stack_plan: Plan) -> None:
    provider = one(stack_plan, GRAFANA_PROVIDER)
    workspace = one(stack_plan, WORKSPACE)
    assert stack_plan.regions[workspace.urn] == stack_plan.regions[provider.urn] == "us-east-1"
    assert provider.property_dependencies["url"] == [workspace.urn]
    assert provider.inputs["url"].startswith("https://g-") and provider.inputs["auth"] == "[secret]"
    assert provider.property_dependencies["auth"] == [one(stack_plan, TOKEN).urn]
    assert all(r.provider == provider.urn for r in stack_plan.of_type(DATA_SOURCE))
    assert one(stack_plan, SERVICE_ACCOUNT).inputs["grafanaRole"] == "ADMIN"
    assert "glsa_" not in json.dumps(stack_plan.document())


def test_every_resource_of_the_stacks_uses_an_explicit_provider_of_its_package(stack_plan: Plan) -> None:
    """Nothing falls back to a default provider: Grafana's resources included (the AWS pinning
    test of test_topology reads `aws:` types only)."""
    packages = set()
    for resource in stack_plan.custom_resources:
        provider = stack_plan.by_urn.get(resource.provider or "")
        assert provider is not None, f"{resource.urn} would use a default provider"
        assert not provider.urn.endswith("::default"), resource.urn
        package = resource.type.split(":")[0]
        assert provider.type == f"pulumi:providers:{package}", resource.urn
        packages.add(package)
    assert "grafana" in packages


@pytest.mark.slow
def test_the_token_life_comes_from_the_stack_file(staging_values: dict[str, Any]) -> None:
    staging_values["observability"].setdefault("grafana", {})["apiTokenDays"] = 10
    token = one(plan_after(PROJECT_DIR, "staging", staging_values), TOKEN)
    assert token.inputs["secondsToLive"] == 10 * SECONDS_PER_DAY
    today = datetime.now(UTC).date()  # the component's default: today, in UTC (a run may span midnight)
    assert token.replacement_trigger in {token_window(today, 5), token_window(today - timedelta(days=1), 5)}
    assert one(plan_of("staging"), TOKEN).inputs["secondsToLive"] == 30 * SECONDS_PER_DAY
