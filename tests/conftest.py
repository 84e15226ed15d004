"""The fixtures every test module may take, and the session's hooks. Plain helpers (the plans
themselves among them: `support.plan_of`) are in `support.py`."""

from __future__ import annotations

import copy
import gc
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from moto import mock_aws

from infra.config.loading import namespace_values, read_stack_file
from infra.plan.run import Plan
from tests.support import PLANS, PROJECT_DIR, STACKS, plan_of, with_global_stores


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow tests first (a stable sort: the rest keep pytest's order), so that on two cores they
    run beside the others from the start instead of alone at the end."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def pytest_collection_finish() -> None:
    """The modules imported so far (the SDKs' classes, the tests) stay for the whole session: out of
    the cyclic collector's reach, each full collection walks only what the tests make."""
    gc.freeze()


@pytest.fixture(scope="session", autouse=True)
def shared_plans_stay_untouched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Under xdist, the workers share their plans in the run's temporary folder (the workers' own
    folders are inside it; pytest keeps the last three runs' and deletes older ones). At the end,
    an error if a test wrote into a plan that other tests share."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        PLANS.share_in(tmp_path_factory.getbasetemp().parent / "plans")
    yield
    changed = PLANS.changed()
    assert not changed, f"a test changed a shared plan in place: {', '.join(changed)}"


@pytest.fixture(params=STACKS)
def stack_plan(request: pytest.FixtureRequest) -> Plan:
    """The offline plan of each stack in turn."""
    return plan_of(request.param)


@pytest.fixture
def prod_plan() -> Plan:
    return plan_of("prod")


@pytest.fixture
def prod_values() -> dict[str, Any]:
    """A deep copy of prod's `meridian:` values, for tests to break one key at a time."""
    return copy.deepcopy(namespace_values(read_stack_file(PROJECT_DIR / "Pulumi.prod.yaml")))


@pytest.fixture
def staging_values() -> dict[str, Any]:
    return copy.deepcopy(namespace_values(read_stack_file(PROJECT_DIR / "Pulumi.staging.yaml")))


@pytest.fixture(scope="session")
def global_stores_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project directory whose two stack files replicate their Redis stores as they did before
    every region wrote its own (`tests.support.with_global_stores`); its plans are cached like
    the project's (`PLANS(global_stores_project, stack)`)."""
    directory = tmp_path_factory.mktemp("global-stores")
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", directory / "Pulumi.yaml")
    for stack in STACKS:
        document = yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text())
        with_global_stores(stack, document["config"])
        (directory / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(document))
    return directory


@pytest.fixture
def no_aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No credential anywhere boto3 looks: environment, files, profile or instance metadata."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Throwaway keys in the environment, where boto3 looks first."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")


@pytest.fixture
def aws(credentials: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A fresh moto account for one test. Without the default images moto registers in each EC2
    region (thousands of AMIs, which no test here asks for), a region's EC2 starts in milliseconds
    instead of 0.2 s, and its objects no longer swell every later garbage collection."""
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    with mock_aws():
        yield
