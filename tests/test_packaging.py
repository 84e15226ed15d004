"""The package platform teams install: a wheel built with `python -m build`, installed in a clean
virtualenv, works with nothing of this repository's layout around it.

The slow test here (a fresh virtualenv installs the pinned SDKs; from pip's cache after the first
run) is the proof that `pip install meridian` gives a team the components, their typing marker and
the offline tooling, rather than a package that imports only from a checkout.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import venv
import zipfile
from pathlib import Path

import pytest

from tests.support import PROJECT_DIR

# Runs in the clean virtualenv, from a folder outside the repository: a team's own program that
# declares a network through the installed components, run under the installed mocks.
TEAM_PROGRAM = textwrap.dedent(
    """
    import json

    import pulumi
    import pulumi_aws as aws

    import components
    from components import Network, NetworkArgs
    from infra.plan.run import run_program


    def main():
        provider = aws.Provider("euc1", region="eu-central-1")
        key = aws.kms.Key("key", enable_key_rotation=True, opts=pulumi.ResourceOptions(provider=provider))
        network = Network(
            "team",
            NetworkArgs(cidr="10.20.0.0/16", az_ids=("euc1-az1", "euc1-az2"), nat_gateways="single"),
            kms_key_arn=key.arn,
            opts=pulumi.ResourceOptions(providers=[provider]),
        )
        return {"vpcId": network.vpc_id}


    plan = run_program(main, project="team", stack="dev")
    print(json.dumps({
        "components": components.__file__,
        "types": sorted({r.type for r in plan.custom_resources}),
        "outputs": plan.outputs,
    }, default=str))
    """
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built as a release is: from the tracked files alone (a clean checkout: no egg-info
    or build/ folder of this one, whose stale file lists setuptools would reuse), the sdist first,
    then the wheel from the unpacked sdist."""
    source = tmp_path_factory.mktemp("source")
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=PROJECT_DIR, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    for name in tracked:
        if (PROJECT_DIR / name).is_file():  # a file deleted but not yet committed is gone
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(PROJECT_DIR / name, source / name)
    out = tmp_path_factory.mktemp("dist")
    build = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    (built,) = out.glob("meridian-*.whl")
    return built


pytestmark = pytest.mark.slow


def test_the_wheel_holds_the_packages_their_typing_marker_and_data_only(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names if not name.startswith("meridian-")}
    assert top_level == {"components", "infra"}  # no tests, policy or benchmarks
    assert {
        "components/py.typed",
        "infra/py.typed",
        "components/region/region_stack.py",
        "infra/guardrails/check.py",
        "infra/analyses/data/sla.yaml",  # the availability command's SLA table travels with the package
    } <= set(names)


def test_the_wheel_installs_in_a_clean_venv_and_runs_a_team_program(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True, clear=True)  # no site packages of this one
    python = env_dir / "bin" / "python"
    # --no-compile: byte-compiling every module of the SDKs (pulumi_aws alone is 3,141) was two
    # thirds of the install; the two programs below import a fraction of them.
    install = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-compile",
            "--disable-pip-version-check",
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert install.returncode == 0, install.stderr[-3000:]

    team = tmp_path / "team"  # outside the repository: nothing imports from the checkout
    team.mkdir()
    (team / "program.py").write_text(TEAM_PROGRAM)
    run = subprocess.run(
        [str(python), "program.py"],
        cwd=team,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin"},
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    installed = Path(result["components"])
    assert installed.is_relative_to(env_dir) and "site-packages" in installed.parts
    assert (installed.parent / "py.typed").is_file()
    assert {"aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/flowLog:FlowLog"} <= set(result["types"])
    assert result["outputs"]["vpcId"].startswith("vpc-")

    # The console script comes with it and reads a project's stack files from anywhere.
    cli = subprocess.run(
        [str(env_dir / "bin" / "meridian"), "plan", "--stack", "staging", "--project-dir", str(PROJECT_DIR)],
        cwd=team,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert cli.returncode == 0, cli.stderr[-3000:]
    assert "Plan: " in cli.stdout and "resources to create in 2 regions" in cli.stdout
