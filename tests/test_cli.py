"""`meridian plan`: the offline plan as a person and CI use it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pulumi.runtime.rpc import wrap_rpc_secret

from infra.cli import main
from infra.mocks import _mask_secrets

from .conftest import PROJECT_DIR, plan_of


def copy_project(tmp_path: Path) -> Path:
    for name in ("Pulumi.yaml", "Pulumi.prod.yaml", "Pulumi.staging.yaml"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    return tmp_path


def test_plan_prints_regions_components_counts_and_total(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["plan", "--stack", "staging", "--project-dir", str(PROJECT_DIR)]) == 0
    out = capsys.readouterr().out
    assert "meridian stack staging: 2 regions" in out
    assert out.index("us-east-1 (primary)") < out.index("eu-west-1 (secondary)")
    assert "Network meridian-staging-us-east-1" in out
    assert "RegionKey meridian-staging-eu-west-1" in out
    assert "aws:ec2/subnet:Subnet ×6" in out
    assert "Resources by type" in out
    total = len(plan_of("staging").custom_resources)
    assert f"Plan: {total} resources to create in 2 regions (us-east-1, eu-west-1)" in out


def test_plan_json_has_every_resource_with_parent_region_and_inputs(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    assert main(["plan", "--stack", "prod", "--project-dir", str(PROJECT_DIR), "--json", str(target)]) == 0
    data = json.loads(target.read_text())
    plan = plan_of("prod")
    assert data["stack"] == "prod" and data["total"] == len(plan.custom_resources) > 300
    assert data["countsByType"]["aws:ec2/vpc:Vpc"] == 8
    subnets = [r for r in data["resources"] if r["type"] == "aws:ec2/subnet:Subnet"]
    assert len(subnets) == 3 * sum(r.az_count for r in plan.config.regions)  # type: ignore[union-attr] == 69
    for subnet in subnets:
        assert subnet["parent"].endswith("-vpc")
        assert subnet["region"] and subnet["inputs"]["availabilityZone"].startswith(subnet["region"])
    components = [r for r in data["resources"] if r["type"] == "meridian:network:Network"]
    assert {c["region"] for c in components} == set(data["outputs"]["regions"])


def test_plan_itemises_resources_on_request(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--stack", "staging", "--project-dir", str(PROJECT_DIR), "--resources"]) == 0
    assert "aws:ec2/subnet:Subnet meridian-staging-us-east-1-isolated-1b" in capsys.readouterr().out


def test_secrets_are_masked_in_recorded_inputs() -> None:
    inputs = {"password": wrap_rpc_secret("hunter2"), "nested": [{"token": wrap_rpc_secret("x")}]}
    assert _mask_secrets(inputs) == {"password": "[secret]", "nested": [{"token": "[secret]"}]}


def test_bad_config_exits_2_with_the_message_and_no_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = copy_project(tmp_path)
    stack_file = project / "Pulumi.prod.yaml"
    stack_file.write_text(stack_file.read_text().replace("cidr: 10.5.0.0/16", "cidr: 10.1.0.0/16"))
    assert main(["plan", "--stack", "prod", "--project-dir", str(project)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("Pulumi.prod.yaml: invalid stack config (1 problem)")
    assert "meridian:regions[5].cidr: 10.1.0.0/16 overlaps regions[1].cidr (eu-west-1" in captured.err
    assert "Traceback" not in captured.err


def test_unknown_stack_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--stack", "qa", "--project-dir", str(PROJECT_DIR)]) == 2
    assert "Pulumi.qa.yaml" in capsys.readouterr().err


def test_console_script_runs_from_the_project_and_prints_plain_text_when_piped() -> None:
    meridian = Path(sys.executable).with_name("meridian")
    result = subprocess.run(
        [str(meridian), "plan", "--stack", "staging"],
        cwd=PROJECT_DIR / "components",  # finds Pulumi.yaml above the working directory
        capture_output=True, text=True, timeout=120, env={**os.environ, "TERM": "xterm-256color"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"Plan: {len(plan_of('staging').custom_resources)} resources" in result.stdout
    assert "\x1b[" not in result.stdout  # no colour codes in a pipe


def test_console_script_reports_bad_config_without_traceback(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    (project / "Pulumi.staging.yaml").write_text(
        (project / "Pulumi.staging.yaml").read_text().replace("writeHome: us-east-1", "writeHome: eu-west-1")
    )
    result = subprocess.run(
        [str(Path(sys.executable).with_name("meridian")), "plan", "--stack", "staging"],
        cwd=project, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    assert "meridian:writeHome: eu-west-1 is not a primary region of this stack" in result.stderr
    assert "Traceback" not in result.stderr
