"""`meridian plan`: the offline plan as a person and CI use it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from pulumi.runtime.rpc import wrap_rpc_secret

from infra.cli import main
from infra.plan.mocks import _mask_secrets
from tests.support import PROJECT_DIR, plan_of


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
    assert "aws:ec2/subnet:Subnet meridian-staging-us-east-1-isolated-use1-az1" in capsys.readouterr().out


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


@pytest.mark.slow
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
        (project / "Pulumi.staging.yaml").read_text().replace("writeHome: us-east-1", "writeHome: sa-east-1")
    )
    result = subprocess.run(
        [str(Path(sys.executable).with_name("meridian")), "plan", "--stack", "staging"],
        cwd=project, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    assert "meridian:writeHome: sa-east-1 is not a region of this stack" in result.stderr
    assert "Traceback" not in result.stderr


#: The SDKs and clients a command loads only once the stack file has passed validation.
HEAVY_MODULES = ("pulumi", "pulumi_aws", "pulumi_kubernetes", "pulumi_cloudflare", "pulumiverse_grafana",
                 "pulumi_random", "pulumi_tls", "pulumi_policy", "boto3", "botocore")  # fmt: skip


#: Every command that reads a stack file, in one process: each must refuse the bad file before any
#: SDK is imported, so the set of heavy modules loaded must stay empty from first to last.
STACK_COMMANDS = ("plan", "check", "scan", "diagram", "cost", "capacity", "availability", "verify", "drill")


def test_bad_config_is_refused_before_any_sdk_is_imported(tmp_path: Path) -> None:
    """The fast refusal (docs/fast-feedback.md): validation needs pydantic and the args models
    only, so a bad stack file costs no Pulumi SDK or boto3 import (2-3 s before)."""
    project = copy_project(tmp_path)
    (project / "Pulumi.staging.yaml").write_text(
        (project / "Pulumi.staging.yaml").read_text().replace("writeHome: us-east-1", "writeHome: sa-east-1")
    )
    probe = (
        "import sys\n"
        "from infra.cli import main\n"
        f"for command in {STACK_COMMANDS!r}:\n"
        f"    code = main([command, '--stack', 'staging', '--project-dir', {str(project)!r}])\n"
        f"    loaded = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY_MODULES!r})\n"
        "    print(command, code, loaded)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.stdout.splitlines() == [f"{c} 2 []" for c in STACK_COMMANDS], result.stdout + result.stderr
    message = "meridian:writeHome: sa-east-1 is not a region of this stack"
    assert result.stderr.count(message) == len(STACK_COMMANDS)


# --- meridian check / scan ---------------------------------------------------------------------


def _bad_plan(stack: str) -> object:
    """A plan with an unencrypted, public database (the guardrails and checkov must both object)."""
    import pulumi
    import pulumi_aws as aws

    from infra.plan.run import run_program

    def program() -> None:
        provider = aws.Provider("aws", region="eu-west-1", default_tags={"tags": {"environment": stack}})
        aws.rds.Instance(
            "bad", engine="postgres", instance_class="db.t4g.micro", allocated_storage=20,
            storage_encrypted=False, publicly_accessible=True, opts=pulumi.ResourceOptions(provider=provider),
        )  # fmt: skip

    return run_program(program, project="meridian", stack=stack)


def test_check_passes_a_stack_and_prints_a_row_per_rule(capsys: pytest.CaptureFixture[str]) -> None:
    from infra.guardrails import RESOURCE_RULES, STACK_RULES

    assert main(["check", "--stack", "staging", "--project-dir", str(PROJECT_DIR)]) == 0
    out = capsys.readouterr().out
    for rule in [*RESOURCE_RULES, *STACK_RULES]:
        assert rule.name in out
    assert "every rule passes" in out


def test_check_exits_1_and_names_each_violation(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("infra.cli.run_plan", lambda _dir, stack, *_progress: _bad_plan(stack))
    monkeypatch.setenv("COLUMNS", "200")  # a wide terminal: table cells unwrapped
    assert main(["check", "--stack", "prod", "--project-dir", str(PROJECT_DIR)]) == 1
    out = capsys.readouterr().out
    violations = out[out.index("Violations") :]
    assert "rds-not-public" in violations and "aws:rds/instance:Instance" in violations
    assert "publiclyAccessible is true: databases are reached through the VPC only" in violations


def test_check_and_scan_refuse_a_bad_stack_file_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = copy_project(tmp_path)
    stack_file = folder / "Pulumi.staging.yaml"
    stack_file.write_text(
        stack_file.read_text().replace("meridian:writeHome: us-east-1", "meridian:writeHome: mars-1")
    )
    for command in ("check", "scan"):
        assert main([command, "--stack", "staging", "--project-dir", str(folder)]) == 2
        assert "meridian:writeHome" in capsys.readouterr().err


@pytest.mark.slow
def test_scan_counts_checks_and_exits_1_on_a_new_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("infra.cli.run_plan", lambda _dir, stack, *_progress: _bad_plan(stack))
    assert (
        main(["scan", "--stack", "prod", "--project-dir", str(PROJECT_DIR), "--export", str(tmp_path)]) == 1
    )
    out = capsys.readouterr().out
    assert "checkov failures not accepted" in out and "CKV_AWS_16" in out
    assert (
        json.loads((tmp_path / "prod.tfplan.json").read_text())["resource_changes"][0]["type"]
        == "aws_db_instance"
    )


def test_scan_without_checkov_says_how_to_install_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "checkov"
    assert (
        main(["scan", "--stack", "staging", "--project-dir", str(PROJECT_DIR), "--checkov", str(missing)])
        == 2
    )
    assert "make scanner" in capsys.readouterr().err


@pytest.mark.parametrize("terminal", [True, False])
def test_the_plan_shows_its_progress_on_a_terminal_only(
    terminal: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    import argparse
    import io

    from rich.console import Console

    from infra.cli import _load_plan

    def planning(_dir: Path, stack: str, on_register: Callable[[int], None]) -> object:
        for count in range(1, 4):
            on_register(count)
            time.sleep(0.15)  # past rich's refresh interval, so a terminal is drawn each count
        return plan_of(stack)

    monkeypatch.setattr("infra.cli.run_plan", planning)
    stream = io.StringIO()
    errors = Console(file=stream, force_terminal=terminal, width=100)
    args = argparse.Namespace(stack="staging", project_dir=PROJECT_DIR)
    assert _load_plan(args, errors) is plan_of("staging")
    shown = stream.getvalue()
    if terminal:
        assert "Planning staging offline: 3 resources registered" in shown
    else:
        assert shown == ""  # a pipe or a log file gets nothing


def test_the_monitor_reports_each_registration() -> None:
    import pulumi

    from infra.plan.run import run_program

    counts: list[int] = []

    def program() -> None:
        for name in ("a", "b", "c"):
            pulumi.CustomResource("test:index:Thing", name, {})

    plan = run_program(program, project="progress", stack="test", on_register=counts.append)
    assert counts == [1, 2, 3] == list(range(1, len(plan.resources) + 1))
