"""IAM documents of `DeployRunner`, as pure functions of ARNs (no Pulumi: testable on their own).

The runner's own role only runs the job: it may write its build logs, attach to its subnets, and
use the one GitHub connection. What a job deploys it gets by assuming the stack's deploy or
preview role through GitHub's OIDC, as on any runner, so a job of another repository or
environment gets nothing from running here.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..core.policies import Document, document, service_trust

__all__ = ["runner_policy", "runner_trust"]

#: What CodeBuild calls to give a build a network interface in the VPC (AWS CodeBuild user guide,
#: "Allow CodeBuild to access AWS services required to create a VPC network interface"). The
#: Describe and Create/Delete calls take no resource-level restriction.
_VPC_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
)


def runner_trust(account: str, project_arn: str) -> Document:
    """CodeBuild may assume the role for this account's one project (AWS's confused-deputy
    guidance for CodeBuild: `aws:SourceAccount` and `aws:SourceArn`)."""
    return service_trust("codebuild.amazonaws.com", source_account=account, source_arn=project_arn)


def runner_policy(
    *,
    partition: str,
    region: str,
    account: str,
    log_group_arn: str,
    subnet_arns: Sequence[str],
    connection_arn: str,
) -> Document:
    """Build logs to its own log group; network interfaces in its own subnets, for CodeBuild only;
    the GitHub connection it clones and registers through."""
    connection_actions = ["GetConnection", "GetConnectionToken", "UseConnection"]
    return document(
        {
            "Sid": "BuildLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [log_group_arn, f"{log_group_arn}:*"],
        },
        {"Sid": "VpcInterfaces", "Effect": "Allow", "Action": list(_VPC_ACTIONS), "Resource": "*"},
        {
            "Sid": "VpcInterfacePermission",
            "Effect": "Allow",
            "Action": "ec2:CreateNetworkInterfacePermission",
            "Resource": f"arn:{partition}:ec2:{region}:{account}:network-interface/*",
            "Condition": {
                "StringEquals": {"ec2:AuthorizedService": "codebuild.amazonaws.com"},
                "ArnEquals": {"ec2:Subnet": list(subnet_arns)},
            },
        },
        {
            "Sid": "GitHubConnection",
            "Effect": "Allow",
            "Action": [f"{service}:{action}" for service in ("codeconnections", "codestar-connections")
                       for action in connection_actions],
            "Resource": [connection_arn, connection_arn.replace(":codeconnections:", ":codestar-connections:")],  # noqa: E501
        },
    )  # fmt: skip
