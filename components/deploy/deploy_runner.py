"""DeployRunner: a GitHub Actions runner inside the network, where `pulumi up` can reach every cluster.

    DeployRunner  (meridian:deploy:DeployRunner)
    ├── LogGroup         `/aws/codebuild/<project>`: build logs, under the region's key
    ├── SecurityGroup    the runner's: no ingress; HTTPS out (GitHub, PyPI, Pulumi Cloud, the AWS
    │                    and Cloudflare APIs, the clusters' private endpoints)
    ├── Role             assumed by CodeBuild for this project only: logs, its subnets, the connection
    ├── Project          CodeBuild, in the anchor region's private subnets, GitHub source through a
    │                    CodeConnections connection; each queued workflow job gets a fresh build
    └── Webhook          WORKFLOW_JOB_QUEUED of the stack's own workflows (`workflow_names`): GitHub
                         hands their jobs labelled for the project to it

A job's AWS rights come from assuming the stack's deploy or preview role by OIDC, as on any runner;
the runner's role can deploy nothing. The clusters admit the anchor's private subnets on 443
(`EksCluster(api_sources=...)`), the other regions' over VPC peering (`VpcPeering`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

from ..core.iam import inline_policy_role
from ..core.logs import encrypted_log_group
from ..core.lookups import AwsContext
from .args import DeployRunnerArgs
from .policies import runner_policy, runner_trust

__all__ = ["DeployRunner"]


class DeployRunner(pulumi.ComponentResource):
    """A CodeBuild-hosted GitHub Actions runner in private subnets (AWS CodeBuild user guide,
    "Self-hosted GitHub Actions runners in AWS CodeBuild").

    Args:
        name: logical name prefix of every child.
        args: validated `DeployRunnerArgs`.
        vpc_id: the VPC of `subnet_ids`.
        subnet_ids: private subnets (a NAT route out; no public address is given to a build).
        kms_key_arn: the region's key, for the build logs (its policy lets CloudWatch Logs use it).
        opts: resource options; the region's AWS provider comes from here or the parent.

    Attributes:
        project_name: the CodeBuild project's name.
        runner_label: the `runs-on` label of a workflow job that runs here.
        security_group_id: the runner's security group.
    """

    def __init__(
        self,
        name: str,
        args: DeployRunnerArgs,
        *,
        vpc_id: pulumi.Input[str],
        subnet_ids: pulumi.Input[Sequence[str]],
        kms_key_arn: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("meridian:deploy:DeployRunner", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        context = AwsContext.of(self)
        logs = encrypted_log_group(
            f"{name}-logs",
            name=f"/aws/codebuild/{args.project_name}",
            kms_key_arn=kms_key_arn,
            retention_days=args.log_retention_days,
            protect=args.protect,
            opts=child,
        )
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-runner",
            vpc_id=vpc_id,
            description=f"CodeBuild runner {args.project_name}: no ingress, HTTPS out",
            egress=[
                {
                    "protocol": "tcp",
                    "from_port": 443,
                    "to_port": 443,
                    "cidr_blocks": ["0.0.0.0/0"],
                    "description": "GitHub, PyPI, Pulumi Cloud, AWS and Cloudflare APIs, cluster endpoints",
                }
            ],
            tags={"Name": f"{name}-runner"},
            opts=child,
        )
        project_arn = pulumi.Output.format(
            "arn:{0}:codebuild:{1}:{2}:project/{3}",
            context.partition,
            context.region,
            context.account,
            args.project_name,
        )
        subnet_arns = pulumi.Output.all(context.partition, context.region, context.account, subnet_ids).apply(
            lambda v: [f"arn:{v[0]}:ec2:{v[1]}:{v[2]}:subnet/{subnet}" for subnet in v[3]]
        )
        role, permissions = inline_policy_role(
            f"{name}-runner",
            description=f"CodeBuild project {args.project_name}: its logs, subnets and GitHub connection",
            trust=pulumi.Output.all(context.account, project_arn).apply(
                lambda v: json.dumps(runner_trust(v[0], v[1]))
            ),
            policy=pulumi.Output.all(
                context.partition, context.region, context.account, logs.arn, subnet_arns
            ).apply(
                lambda v: json.dumps(
                    runner_policy(
                        partition=v[0], region=v[1], account=v[2], log_group_arn=v[3], subnet_arns=v[4],
                        connection_arn=args.connection_arn,
                    )
                )
            ),
            opts=child,
        )  # fmt: skip
        self.project = aws.codebuild.Project(
            f"{name}-project",
            name=args.project_name,
            description="GitHub Actions runner for pulumi preview/up, inside the network",
            service_role=role.arn,
            build_timeout=args.timeout_minutes,
            # No artifacts are kept; were one added, it would be under the region's key, not AWS's.
            encryption_key=kms_key_arn,
            artifacts={"type": "NO_ARTIFACTS"},
            environment={
                "type": "LINUX_CONTAINER",
                "compute_type": args.compute_type.value,
                "image": args.image,
                "image_pull_credentials_type": "CODEBUILD",
            },
            source={
                "type": "GITHUB",
                "location": f"{args.repository}.git",
                "auth": {"type": "CODECONNECTIONS", "resource": args.connection_arn},
            },
            logs_config={"cloudwatch_logs": {"group_name": logs.name, "status": "ENABLED"}},
            vpc_config={
                "vpc_id": vpc_id,
                "subnets": subnet_ids,
                "security_group_ids": [self.security_group.id],
            },
            # CodeBuild checks the role when the project is made: it must already hold its policy.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[permissions]),
        )
        # A queued job gets a build only if its workflow is one of ours: without the second filter,
        # any workflow of the repository, on any branch, that names the label would run in these
        # subnets. WORKFLOW_NAME is the one filter type the CodeBuild API reference documents for
        # WORKFLOW_JOB_QUEUED ("Works with WORKFLOW_JOB_QUEUED events only"; HEAD_REF, BASE_REF,
        # FILE_PATH and COMMIT_MESSAGE work with push and pull request events, REPOSITORY_NAME with
        # global or organization webhooks only):
        # https://docs.aws.amazon.com/codebuild/latest/APIReference/API_WebhookFilter.html and
        # https://docs.aws.amazon.com/codebuild/latest/userguide/github-webhook.html
        # (github-webhook-events-cfn.html shows the same EVENT + WORKFLOW_NAME group).
        aws.codebuild.Webhook(
            f"{name}-webhook",
            project_name=self.project.name,
            build_type="BUILD",
            filter_groups=[
                {
                    "filters": [
                        {"type": "EVENT", "pattern": "WORKFLOW_JOB_QUEUED"},
                        {"type": "WORKFLOW_NAME", "pattern": args.workflow_name_pattern},
                    ]
                }
            ],
            opts=pulumi.ResourceOptions(parent=self.project),
        )
        self.project_name = self.project.name
        self.runner_label = args.runner_label
        self.security_group_id = self.security_group.id
        self.register_outputs({"projectName": self.project_name, "runnerLabel": self.runner_label})
