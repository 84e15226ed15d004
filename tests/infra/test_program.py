"""The stack program under the Pulumi runtime: config arrives as the engine passes it, and a bad
config ends the run with a clean message before any resource is registered."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest
from pulumi.runtime.settings import ROOT
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from infra import program
from infra.config.loading import engine_config
from infra.plan.mocks import PlanMocks, PlanMonitor


def run_program(values: dict[str, Any], stack: str = "prod") -> PlanMonitor:
    """Run `program.main` with `meridian:` *values*, as the engine would hand them over."""
    mocks = PlanMocks()
    monitor = PlanMonitor(mocks)
    ROOT.set(None)
    pulumi.runtime.set_all_config(engine_config({f"meridian:{k}": v for k, v in values.items()}))
    pulumi.runtime.set_mocks(mocks, project="meridian", stack=stack, preview=False, monitor=monitor)
    _sync_await(run_pulumi_func(program.main))
    return monitor


def test_program_reads_structured_config_from_the_engine(staging_values: dict[str, Any]) -> None:
    """Lists and maps reach the program JSON-encoded, as the engine passes them (staging: a whole
    program run, without prod's eight regions)."""
    monitor = run_program(staging_values, stack="staging")
    stacks = [r.name for r in monitor.recorded if r.type == "meridian:region:RegionStack"]
    assert stacks == [r["name"] for r in staging_values["regions"]] == ["us-east-1", "eu-west-1"]


def test_invalid_config_is_a_run_error_and_nothing_is_declared(prod_values: dict[str, Any]) -> None:
    prod_values["regions"][1]["cidr"] = prod_values["regions"][0]["cidr"]
    with pytest.raises(pulumi.RunError) as caught:
        run_program(prod_values)
    assert str(caught.value).startswith("Pulumi.prod.yaml: invalid stack config")
    assert "meridian:regions[1].cidr" in str(caught.value)


def test_nothing_is_registered_before_validation_fails(prod_values: dict[str, Any]) -> None:
    prod_values["regions"][7]["name"] = "moon-1"
    mocks = PlanMocks()
    monitor = PlanMonitor(mocks)
    ROOT.set(None)
    pulumi.runtime.set_all_config(engine_config({f"meridian:{k}": v for k, v in prod_values.items()}))
    pulumi.runtime.set_mocks(mocks, project="meridian", stack="prod", preview=False, monitor=monitor)
    with pytest.raises(pulumi.RunError, match=r"meridian:regions\[7\]\.name"):
        _sync_await(run_pulumi_func(program.main))
    assert monitor.recorded == []


def test_an_az_the_account_does_not_have_is_a_clear_run_error(staging_values: dict[str, Any]) -> None:
    """apne1-az3 is not offered to new accounts (this one has apne1-az1, az2 and az4): the run stops
    with the key, the region and the fix, no traceback."""
    staging_values["regions"][1] |= {"name": "ap-northeast-1", "azIds": ["apne1-az1", "apne1-az3"]}
    staging_values["postgres"]["backup"]["copyRegion"] = "ap-northeast-1"
    with pytest.raises(pulumi.RunError) as caught:
        run_program(staging_values, stack="staging")
    message = str(caught.value)
    assert message.startswith(
        "Pulumi.staging.yaml: meridian:regions[1].azIds: ap-northeast-1 has no AZ apne1-az3"
    )
    assert "(it has apne1-az1, apne1-az2, apne1-az4)" in message
    assert "describe-availability-zones --region ap-northeast-1" in message
    assert "Traceback" not in message


def test_a_credential_the_engine_did_not_decrypt_is_a_run_error(prod_values: dict[str, Any]) -> None:
    """Under `pulumi up`, a `cloudflare:apiToken` that is not among the engine's secret keys was
    written in plain text: the run stops before anything is declared."""
    mocks = PlanMocks()
    monitor = PlanMonitor(mocks)
    ROOT.set(None)
    config = engine_config({f"meridian:{k}": v for k, v in prod_values.items()})
    pulumi.runtime.set_all_config({**config, "cloudflare:apiToken": "plain"}, [])
    pulumi.runtime.set_mocks(mocks, project="meridian", stack="prod", preview=False, monitor=monitor)
    with pytest.raises(pulumi.RunError, match=r"cloudflare:apiToken: is in plain text"):
        _sync_await(run_pulumi_func(program.main))
    assert not monitor.recorded
