"""Typed inputs of `DeployRunner`: where the stack's deploys run, inside the network.

Prod's clusters have private API endpoints only, so whatever runs `pulumi up` or `pulumi preview`
must sit in the network. `DeploySettings` is what a stack sets (`meridian:deploy`); `DeployRunnerArgs`
adds the names. Nothing here imports a Pulumi SDK.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated

from pydantic import Field

from ..core.args import MeridianModel, RetentionDays

__all__ = ["ComputeType", "DeployRunnerArgs", "DeploySettings", "RunnerSettings"]

#: A repository's HTTPS URL on GitHub (CodeBuild's GitHub source location).
GitHubRepository = Annotated[str, Field(pattern=r"^https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")]
#: An AWS CodeConnections connection to GitHub (`codeconnections`, or its older `codestar-connections`).
ConnectionArn = Annotated[
    str,
    Field(
        pattern=r"^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection/[\w-]+$"
    ),
]

#: A GitHub Actions workflow's `name:`. Letters, digits, spaces, `_`, `.` and `-` only, so that a
#: name is matched literally in the webhook's regular expression once its `.` is escaped.
WorkflowName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,99}$")]


class ComputeType(str, Enum):
    """CodeBuild's on-demand Linux sizes (2, 4 and 8 vCPUs; 3, 7 and 15 GB)."""

    SMALL = "BUILD_GENERAL1_SMALL"
    MEDIUM = "BUILD_GENERAL1_MEDIUM"
    LARGE = "BUILD_GENERAL1_LARGE"


class RunnerSettings(MeridianModel):
    """The CodeBuild-hosted GitHub Actions runner.

    Attributes:
        repository: the GitHub repository whose workflow jobs it runs (`https://github.com/org/repo`).
        connection_arn: an AWS CodeConnections connection to GitHub, AVAILABLE (an administrator
            approves the AWS Connector GitHub App once, in the console: OAuth cannot be declared).
        compute_type: the build size (`ComputeType`; default medium: a prod `pulumi up` plans about
            2,000 resources).
        image: the CodeBuild curated image (default `aws/codebuild/standard:7.0`, Ubuntu 22.04 x86_64:
            `actions/setup-python` installs its prebuilt Pythons on Ubuntu only).
        timeout_minutes: the CodeBuild build timeout (default 200). A build's clock includes its
            provisioning, so it exceeds the `timeout-minutes` of every job that runs here (the
            deploy workflow's prod job: 180); tests/test_workflows.py keeps it so.
        log_retention_days: how long its build logs are kept (default 365).
        workflow_names: the GitHub Actions workflows whose queued jobs get a build (their `name:`,
            matched exactly by the webhook's `WORKFLOW_NAME` filter; default `ci`, `deploy`,
            `preview`). A job of a workflow called with `workflow_call` carries its caller's name:
            deploy.yml's jobs run as `ci` on main and as `deploy` when dispatched by hand.
            tests/test_workflows.py keeps the list equal to the workflows with jobs on the runner.
    """

    repository: GitHubRepository
    connection_arn: ConnectionArn
    compute_type: ComputeType = ComputeType.MEDIUM
    image: Annotated[str, Field(pattern=r"^aws/codebuild/[a-z0-9_.:-]+$")] = "aws/codebuild/standard:7.0"
    timeout_minutes: int = Field(default=200, ge=5, le=2160)
    log_retention_days: RetentionDays = 365
    workflow_names: tuple[WorkflowName, ...] = Field(default=("ci", "deploy", "preview"), min_length=1)


class DeploySettings(MeridianModel):
    """Where a stack's deploys run (`meridian:deploy` in the stack file).

    Attributes:
        runner: the in-network runner, in the anchor region's private subnets; every region's
            cluster admits it on 443, the other regions over VPC peering with the anchor's VPC.
    """

    runner: RunnerSettings


class DeployRunnerArgs(RunnerSettings):
    """Arguments of `DeployRunner` (plus everything in `RunnerSettings`).

    Attributes:
        project_name: the CodeBuild project's name; workflow jobs run on it with
            `runs-on: codebuild-<project_name>-${{ github.run_id }}-${{ github.run_attempt }}`.
        protect: protect its log group (prod).
    """

    project_name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{1,149}$")]
    protect: bool = False

    @property
    def runner_label(self) -> str:
        """The first label of a workflow job that runs here (CodeBuild's required form)."""
        return f"codebuild-{self.project_name}-${{{{ github.run_id }}}}-${{{{ github.run_attempt }}}}"

    @property
    def workflow_name_pattern(self) -> str:
        """The webhook's `WORKFLOW_NAME` pattern: exactly one of `workflow_names`, nothing around it."""
        # `WorkflowName` admits one metacharacter, `.`; a backslash makes it literal in any dialect.
        names = sorted({name.replace(".", r"\.") for name in self.workflow_names})
        return "^(" + "|".join(names) + ")$"
