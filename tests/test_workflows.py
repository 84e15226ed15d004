"""The GitHub Actions workflows: actionlint-clean, and doing what docs/ci-and-deployments.md promises of CI.

actionlint checks syntax, expressions, the inputs of known actions (pulumi/actions included) and,
with shellcheck, every `run:` script. The structural tests pin down the promises actionlint cannot
see: offline checks on every pull request, previews with OIDC credentials and the policy pack (prod's
behind a reviewer), and deployments to staging before prod, prod behind an approval.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import PROJECT_DIR, STACKS, config_of

WORKFLOWS = PROJECT_DIR / ".github" / "workflows"
BIN = Path(sys.executable).parent  # the venv's bin, where the test extras put actionlint and shellcheck


def actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    """actionlint over *files* (default: every workflow of the repository, found from its root)."""
    executable = shutil.which("actionlint", path=str(BIN))
    assert executable, f"actionlint is missing from {BIN}: install the test extras (`make venv`)"
    shellcheck = shutil.which("shellcheck", path=str(BIN))
    assert shellcheck, f"shellcheck is missing from {BIN}: install the test extras (`make venv`)"
    return subprocess.run(
        [executable, "-shellcheck", shellcheck, "-no-color", *map(str, files)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"},
    )


def workflow(name: str) -> dict[Any, Any]:
    document: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the key `on` as True.
    document["on"] = document.pop(True, document.get("on"))
    return document


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if str(s.get("uses", "")).split("@")[0] == action]


def scripts(job: dict[str, Any]) -> str:
    return "\n".join(str(s.get("run", "")) for s in job["steps"])


# --- actionlint ----------------------------------------------------------------------------------


def test_workflows_pass_actionlint_with_shellcheck() -> None:
    result = actionlint()
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_rejects_a_broken_workflow(tmp_path: Path) -> None:
    """The check above can fail: an unknown input of pulumi/actions and an unquoted shell variable."""
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: pull_request\n"
        "jobs:\n"
        "  preview:\n"
        "    runs-on: ubuntu-24.04\n"
        "    steps:\n"
        "      - uses: pulumi/actions@v7\n"
        "        with: {command: preview, stack-name: prod, policy-pack: policy}\n"
        "      - run: cd $RUNNER_TEMP && ls\n"
    )
    result = actionlint(broken)
    assert result.returncode == 1
    assert 'input "policy-pack" is not defined in action "pulumi/actions@v7"' in result.stdout
    assert "SC2086" in result.stdout  # shellcheck ran on the run: script


# --- pull requests: offline ----------------------------------------------------------------------


def test_every_pull_request_runs_the_test_command_with_no_credentials() -> None:
    ci = workflow("ci.yml")
    assert "pull_request" in ci["on"]
    assert ci["permissions"] == {"contents": "read"}
    checks = {name: job for name, job in ci["jobs"].items() if name != "deploy"}
    assert all("permissions" not in job for job in checks.values())  # nothing widens it
    assert "make test" in scripts(ci["jobs"]["test"])
    assert "make test" in (PROJECT_DIR / ".ci" / "run").read_text()  # the same command CI runs here
    assert "secrets." not in (WORKFLOWS / "ci.yml").read_text()


def test_only_pull_request_runs_are_cancelled_by_a_newer_push() -> None:
    concurrency = workflow("ci.yml")["concurrency"]
    assert concurrency["cancel-in-progress"] == "${{ github.event_name == 'pull_request' }}"
    assert "github.sha" in concurrency["group"]  # each push to main runs, and deploys, to the end


def test_each_stack_is_planned_compared_with_the_base_branch_and_checked() -> None:
    plan = workflow("ci.yml")["jobs"]["plan"]
    assert set(plan["strategy"]["matrix"]["stack"]) == set(STACKS)
    names = [s.get("name", s.get("uses", "")) for s in plan["steps"]]
    base, head = (
        plan["steps"][names.index("Offline plan of the base branch")],
        plan["steps"][names.index("Offline plan, compared with the base branch's")],
    )
    assert 'git worktree add "$RUNNER_TEMP/base" "$BASE_SHA"' in base["run"]  # the base branch's own code
    assert base["env"]["BASE_SHA"] == "${{ github.event.pull_request.base.sha }}"
    assert '--json "$RUNNER_TEMP/base-$STACK.json"' in base["run"]
    assert base["continue-on-error"] is True  # an unplannable base leaves a summary without a diff
    assert '--diff "$RUNNER_TEMP/base-$STACK.json"' in head["run"]
    assert '--markdown "$GITHUB_STEP_SUMMARY"' in head["run"]
    # The summary is written before the guardrails run, so a violation still shows the plan.
    assert names.index("Guardrails over the offline plan") > names.index(
        "Offline plan, compared with the base branch's"
    )
    assert 'make check STACK="$STACK"' in scripts(plan)


# --- pull requests: pulumi preview ---------------------------------------------------------------


#: The environment a pull request's prod preview waits in, and the OIDC subjects each preview role
#: trusts (docs/ci-and-deployments.md's table says the same; a test below compares them).
PROD_PREVIEW_ENVIRONMENT = "prod-preview"


def preview_jobs() -> dict[str, dict[str, Any]]:
    """Every job that previews a stack: preview.yml's and deploy.yml's `prod-preview`."""
    return {
        **{f"preview.yml:{name}": job for name, job in workflow("preview.yml")["jobs"].items()},
        "deploy.yml:prod-preview": workflow("deploy.yml")["jobs"]["prod-preview"],
    }


def stack_of(job: dict[str, Any]) -> str:
    (pulumi,) = steps_using(job, "pulumi/actions")
    return str(pulumi["with"]["stack-name"]).rpartition("/")[2]


def test_preview_runs_per_stack_with_oidc_credentials_and_the_policy_pack() -> None:
    preview = workflow("preview.yml")
    assert set(preview["on"]) == {"pull_request"}
    jobs = preview["jobs"]
    assert {stack_of(job) for job in jobs.values()} == set(STACKS)
    for job in jobs.values():
        stack = stack_of(job)
        assert job["permissions"]["id-token"] == "write"
        (aws,) = steps_using(job, "aws-actions/configure-aws-credentials")
        assert aws["with"]["role-to-assume"] == f"${{{{ vars.AWS_PREVIEW_ROLE_ARN_{stack.upper()} }}}}"
        (pulumi,) = steps_using(job, "pulumi/actions")
        assert pulumi["with"]["command"] == "preview"
        assert (PROJECT_DIR / pulumi["with"]["policyPacks"] / "PulumiPolicy.yaml").is_file()
        # Forks get no OIDC token: the job is skipped for them rather than failing.
        assert "github.event.pull_request.head.repo.full_name == github.repository" in job["if"]


def test_a_pull_requests_prod_preview_waits_for_a_reviewer_in_the_prod_preview_environment() -> None:
    """No pull-request code runs with prod read access before a reviewer approves it: every job of a
    pull-request workflow that touches prod (its stack, role or Pulumi team) is in the environment,
    and staging's job carries nothing of prod's."""
    for name in ("ci.yml", "preview.yml", "deploy.yml"):
        document = workflow(name)
        if "pull_request" not in document["on"]:
            continue
        for job_name, job in document["jobs"].items():
            text = yaml.safe_dump(job)
            touches_prod = any(
                mark in text for mark in ("/prod", "AWS_PREVIEW_ROLE_ARN_PROD", "PULUMI_PROD_PREVIEW_TEAM")
            )
            if touches_prod:
                assert job.get("environment") == PROD_PREVIEW_ENVIRONMENT, f"{name}: {job_name}"
            else:
                assert "environment" not in job, f"{name}: {job_name}"
    jobs = workflow("preview.yml")["jobs"]
    assert [n for n, job in jobs.items() if job.get("environment") == PROD_PREVIEW_ENVIRONMENT] == ["prod"]
    assert stack_of(jobs["prod"]) == "prod"


@pytest.mark.parametrize("name", ["ci.yml", "preview.yml", "deploy.yml"])
def test_no_workflow_runs_pull_request_code_with_the_base_branchs_trust(name: str) -> None:
    """`pull_request_target` and `workflow_run` run with the base branch's subject
    (`ref:refs/heads/main`, which the prod preview role trusts) and secrets, on a pull request's
    event: one checkout of the PR's head and its code has prod access unreviewed."""
    assert not {"pull_request_target", "workflow_run"} & set(workflow(name)["on"])
    assert sorted(p.name for p in WORKFLOWS.iterdir()) == ["ci.yml", "deploy.yml", "preview.yml"]


def test_the_documented_trust_of_the_preview_roles_matches_the_workflows() -> None:
    """docs/ci-and-deployments.md is where the roles' and Pulumi teams' trust is declared (they are
    set up by hand, not by the stack): prod's trusts the environment and main, never a pull request."""
    rows = {
        line.split("|")[2].strip(): line.split("|")[3]
        for line in (PROJECT_DIR / "docs" / "ci-and-deployments.md").read_text().splitlines()
        if line.strip().startswith("| ") and line.count("|") >= 5
    }
    prod = rows["`AWS_PREVIEW_ROLE_ARN_PROD` (repository)"]
    assert f"`repo:<owner>/meridian:environment:{PROD_PREVIEW_ENVIRONMENT}`" in prod
    assert "`repo:<owner>/meridian:ref:refs/heads/main`" in prod
    assert ":pull_request" not in prod
    assert (
        rows["`AWS_PREVIEW_ROLE_ARN_STAGING` (repository)"].strip() == "`repo:<owner>/meridian:pull_request`"
    )
    teams = rows["`PULUMI_PROD_PREVIEW_TEAM` (repository)"]
    assert f"environment:{PROD_PREVIEW_ENVIRONMENT}" in teams and "refs/heads/main" in teams
    assert ":pull_request" not in teams
    assert ":pull_request" in rows["`PULUMI_PREVIEW_TEAM` (repository)"]
    # And the jobs that run on main's subject run only on main.
    assert workflow("deploy.yml")["jobs"]["prod-preview"]["if"] == "github.ref == 'refs/heads/main'"


def test_pull_request_code_gets_no_credential_that_can_deploy() -> None:
    """A preview runs code not yet deployed: its Pulumi token is a team's (read access to its stack),
    its Cloudflare token the read-only one; deploy credentials live in the deploy environments."""
    for name, job in preview_jobs().items():
        stack = stack_of(job)
        (auth,) = steps_using(job, "pulumi/auth-actions")
        assert auth["with"]["requested-token-type"] == "urn:pulumi:token-type:access_token:team"
        team = "PULUMI_PROD_PREVIEW_TEAM" if stack == "prod" else "PULUMI_PREVIEW_TEAM"
        assert auth["with"]["scope"] == f"team:${{{{ vars.{team} }}}}", name
        (aws,) = steps_using(job, "aws-actions/configure-aws-credentials")
        assert aws["with"]["role-to-assume"] == f"${{{{ vars.AWS_PREVIEW_ROLE_ARN_{stack.upper()} }}}}"
        assert job["env"]["CLOUDFLARE_API_TOKEN"] == "${{ secrets.CLOUDFLARE_PREVIEW_TOKEN }}"
        assert job.get("environment") in (None, PROD_PREVIEW_ENVIRONMENT), name
        assert "AWS_DEPLOY_ROLE_ARN" not in yaml.safe_dump(job)


def test_jobs_that_run_pulumi_run_on_their_stacks_runner_inside_the_network() -> None:
    """The clusters' endpoints are private: a job that previews or deploys a stack runs on that
    stack's CodeBuild-hosted runner (DeployRunner), whose project the stack names."""
    from infra.config.component_args import deploy_runner_args
    from tests.support import plan_of

    for name in ("preview.yml", "deploy.yml"):
        for job_name, job in workflow(name)["jobs"].items():
            (pulumi_step,) = steps_using(job, "pulumi/actions")
            stack = pulumi_step["with"]["stack-name"].rsplit("/", 1)[-1]
            label = deploy_runner_args(config_of(plan_of(stack)), stack).runner_label
            assert job["runs-on"] == label, (name, job_name)
            assert label.startswith(f"codebuild-meridian-{stack}-deploy-")


def runner_jobs(stack: str) -> dict[tuple[str, str], dict[str, Any]]:
    """(workflow file, job id) → job, for every job of every workflow that runs on *stack*'s runner."""
    prefix = f"codebuild-meridian-{stack}-deploy-"
    return {
        (path.name, job_name): job
        for path in sorted(WORKFLOWS.glob("*.yml"))
        for job_name, job in workflow(path.name)["jobs"].items()
        if str(job.get("runs-on", "")).startswith(prefix)
    }


def names_jobs_run_under(file: str) -> set[str]:
    """The workflow names a job of *file* carries in its `workflow_job` event: *file*'s own `name:`
    and, when another workflow calls it (`uses: ./.github/workflows/<file>`), the caller's; a called
    workflow's jobs run in the caller's run."""
    names = {workflow(file)["name"]}
    for path in sorted(WORKFLOWS.glob("*.yml")):
        calls = {str(j.get("uses", "")) for j in workflow(path.name)["jobs"].values()}
        if f"./.github/workflows/{file}" in calls:
            names |= names_jobs_run_under(path.name)
    return names


@pytest.mark.parametrize("stack", STACKS)
def test_the_runner_admits_exactly_the_workflows_whose_jobs_run_on_it(stack: str) -> None:
    """The webhook's WORKFLOW_NAME filter names the workflows with jobs on the runner, so no other
    workflow's job that names the label gets a build in the private subnets, and none of ours is
    left queued."""
    from infra.config.component_args import deploy_runner_args
    from tests.support import plan_of

    files = {file for file, _ in runner_jobs(stack)}
    assert files == {"preview.yml", "deploy.yml"}
    expected = set().union(*(names_jobs_run_under(file) for file in files))
    assert expected == {"preview", "deploy", "ci"}  # deploy.yml runs as `ci` on main (workflow_call)
    args = deploy_runner_args(config_of(plan_of(stack)), stack)
    assert set(args.workflow_names) == expected
    (webhook,) = plan_of(stack).of_type("aws:codebuild/webhook:Webhook")
    (group,) = webhook.inputs["filterGroups"]
    (names,) = [f["pattern"] for f in group["filters"] if f["type"] == "WORKFLOW_NAME"]
    for name in expected:
        assert re.fullmatch(names, name), name
    for other in ("ci-extra", "my-deploy", "preview2", "release", ""):
        assert not re.search(names, other), other


@pytest.mark.parametrize("stack", STACKS)
def test_the_runners_build_outlasts_every_job_that_runs_on_it(stack: str) -> None:
    """CodeBuild's build timeout counts provisioning too: at a job's own `timeout-minutes`, the build
    would be stopped first, mid-`pulumi up`, instead of the job timing out as the workflow says."""
    from tests.support import plan_of

    (project,) = plan_of(stack).of_type("aws:codebuild/project:Project")
    jobs = runner_jobs(stack)
    assert jobs
    for where, job in jobs.items():
        assert project.inputs["buildTimeout"] > job["timeout-minutes"], where


# --- main: deploy ---------------------------------------------------------------------------------


def test_main_deploys_only_after_ci_passes() -> None:
    deploy_job = workflow("ci.yml")["jobs"]["deploy"]
    assert deploy_job["uses"] == "./.github/workflows/deploy.yml"
    assert set(deploy_job["needs"]) == {"test", "plan"}
    assert deploy_job["if"] == "github.event_name == 'push' && github.ref == 'refs/heads/main'"
    assert "workflow_call" in workflow("deploy.yml")["on"]
    assert "push" not in workflow("deploy.yml")["on"]  # no second path that skips the checks


def test_main_deploys_staging_then_prod_behind_the_production_environment() -> None:
    jobs = workflow("deploy.yml")["jobs"]
    staging, preview, prod = jobs["staging"], jobs["prod-preview"], jobs["prod"]
    assert preview["needs"] == "staging" and prod["needs"] == "prod-preview"
    assert staging["environment"] == "staging"
    assert prod["environment"] == "production"
    (shown,) = steps_using(preview, "pulumi/actions")
    assert shown["with"]["command"] == "preview" and shown["with"]["comment-on-summary"] is True
    for job in jobs.values():
        assert job["if"] == "github.ref == 'refs/heads/main'"  # a manual run on a branch deploys nothing
    for stack, job in (("staging", staging), ("prod", prod)):
        (pulumi,) = steps_using(job, "pulumi/actions")
        assert pulumi["with"]["command"] == "up"
        assert pulumi["with"]["stack-name"].endswith(f"/{stack}")
        assert pulumi["with"]["policyPacks"] == "policy"
        assert f"make check STACK={stack}" in scripts(job)
        assert job["permissions"]["id-token"] == "write"
        assert steps_using(job, "aws-actions/configure-aws-credentials")
        # One update of a stack at a time, never cancelled half-way; stacks do not wait on each other.
        assert job["concurrency"] == {"group": f"deploy-{stack}", "cancel-in-progress": False}


@pytest.mark.parametrize("name", ["ci.yml", "preview.yml", "deploy.yml"])
def test_no_workflow_holds_a_long_lived_cloud_key(name: str) -> None:
    text = (WORKFLOWS / name).read_text()
    for key in ("aws-access-key-id", "aws-secret-access-key", "AWS_ACCESS_KEY_ID", "PULUMI_ACCESS_TOKEN"):
        assert key not in text
    # The only stored secrets are Cloudflare's tokens: Cloudflare offers no OIDC.
    assert set(re.findall(r"secrets\.(\w+)", text)) <= {"CLOUDFLARE_API_TOKEN", "CLOUDFLARE_PREVIEW_TOKEN"}


def test_the_cli_the_workflows_install_matches_the_pinned_sdk() -> None:
    """`pulumi preview` in CI runs the CLI release of the SDK the plan and tests use."""
    pinned = version("pulumi")
    steps = [
        step
        for name in ("preview.yml", "deploy.yml")
        for job in workflow(name)["jobs"].values()
        for step in steps_using(job, "pulumi/actions")
    ]
    assert len(steps) == 5  # preview.yml's two, deploy.yml's three
    assert {step["with"]["pulumi-version"] for step in steps} == {pinned}
