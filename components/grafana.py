"""GrafanaWorkspace: the platform's one Amazon Managed Grafana workspace, over every region's metrics.

    GrafanaWorkspace  (meridian:telemetry:GrafanaWorkspace)
    ├── Role                  assumed by Amazon Managed Grafana for this account's workspaces only:
    │   ├── AmazonGrafanaCloudWatchAccess   CloudWatch metrics, alarms and Logs Insights (read)
    │   ├── RolePolicy prometheus           query every AMP workspace of the account, any region
    │   └── RolePolicy alerts               sns:Publish to `<namePrefix>-*` topics only (optional)
    └── Workspace             current account, AWS IAM Identity Center (or SAML) sign-in,
                              customer-managed permissions, data sources PROMETHEUS and CLOUDWATCH

Declare it once, in one region (its provider comes from the parent or `opts`); it reads the AMP
workspaces of every region (`ClusterTelemetry`).

Not done here:

- Data sources, dashboards, alert rules and contact points inside Grafana: AMG's `data_sources`
  only lets the role be used for them; creating them takes the Grafana HTTP API with a workspace
  service-account token (the `grafana` provider), outside this component.
- SAML: with `SAML` among the providers, the IdP's metadata and role mapping are a separate
  `aws.grafana.WorkspaceSamlConfiguration`. IAM Identity Center users and groups are given access
  with `aws.grafana.RoleAssociation`.
- The workspace's own data stays under an AWS owned key: `kms_key_id` exists in the SDK, but the
  key policy AMG needs for it is not verified here.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

import pulumi
import pulumi_aws as aws
from pydantic import AfterValidator, Field

from .args import MeridianModel, one_of
from .eks_policies import Document, document
from .iam import managed_policy_role
from .lookups import AwsContext
from .telemetry import NamePrefix

__all__ = [
    "AMP_QUERY_ACTIONS",
    "GRAFANA_POLICIES",
    "GRAFANA_VERSIONS",
    "GrafanaArgs",
    "GrafanaSettings",
    "GrafanaWorkspace",
    "alert_publish_policy",
    "grafana_trust",
    "prometheus_query_policy",
]

#: AMG's Grafana versions (pulumi-aws 7.51: 9.4, 10.4, 12.4, 13.2); pinned, never "latest".
GRAFANA_VERSIONS: tuple[str, ...] = ("9.4", "10.4", "12.4", "13.2")

#: AWS's policy for the CloudWatch data source of AMG (a service-role policy: mind the path).
GRAFANA_POLICIES = ("service-role/AmazonGrafanaCloudWatchAccess",)

#: What the Prometheus data source does with an AMP workspace. AmazonPrometheusQueryAccess has the
#: last four only, on every resource; this role also lists and describes the workspaces.
AMP_QUERY_ACTIONS = (
    "aps:DescribeWorkspace",
    "aps:GetLabels",
    "aps:GetMetricMetadata",
    "aps:GetSeries",
    "aps:QueryMetrics",
)

GrafanaVersion = Annotated[
    str, AfterValidator(one_of(GRAFANA_VERSIONS, "Grafana {!r} is not a version AMG runs"))
]
AuthenticationProvider = Literal["AWS_SSO", "SAML"]


def _unique(providers: tuple[str, ...]) -> tuple[str, ...]:
    if len(set(providers)) != len(providers):
        raise ValueError(f"authenticationProviders lists a provider twice: {list(providers)}")
    return providers


class GrafanaSettings(MeridianModel):
    """`meridian:observability.grafana`: the platform's Grafana workspace.

    Attributes:
        authentication_providers: `AWS_SSO` (IAM Identity Center, the default) and/or `SAML`.
        grafana_version: pinned Grafana version (default `13.2`); AMG upgrades in place, never down.
        sns_notifications: SNS as a notification destination, publishing to `<namePrefix>-*` topics
            of the account only (default true).
    """

    authentication_providers: Annotated[tuple[AuthenticationProvider, ...], AfterValidator(_unique)] = Field(
        default=("AWS_SSO",), min_length=1
    )
    grafana_version: GrafanaVersion = "13.2"
    sns_notifications: bool = True


class GrafanaArgs(GrafanaSettings):
    """Arguments of `GrafanaWorkspace`: the settings, and

    Attributes:
        name_prefix: the workspace's name; alert topics Grafana may publish to are `<namePrefix>-*`.
    """

    name_prefix: NamePrefix


def grafana_trust(partition: str, region: str, account: str) -> Document:
    """Assumed by Amazon Managed Grafana for this account's workspaces in `region` (the workspace's
    own ARN is not known before the role is given to it)."""
    return document(
        {
            "Effect": "Allow",
            "Principal": {"Service": "grafana.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account},
                "ArnLike": {"aws:SourceArn": f"arn:{partition}:grafana:{region}:{account}:/workspaces/*"},
            },
        }
    )


def prometheus_query_policy(partition: str, account: str) -> Document:
    """Query every AMP workspace of the account, in any region; decrypt their data (workspaces under
    customer managed keys) only through AMP."""
    return document(
        {
            "Sid": "QueryWorkspaces",
            "Effect": "Allow",
            "Action": list(AMP_QUERY_ACTIONS),
            "Resource": f"arn:{partition}:aps:*:{account}:workspace/*",
        },
        # ListWorkspaces has no resource type: "*" only.
        {"Sid": "ListWorkspaces", "Effect": "Allow", "Action": "aps:ListWorkspaces", "Resource": "*"},
        {
            "Sid": "WorkspaceKeysThroughAmp",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:DescribeKey"],
            "Resource": f"arn:{partition}:kms:*:{account}:key/*",
            "Condition": {"StringLike": {"kms:ViaService": "aps.*.amazonaws.com"}},
        },
    )


def alert_publish_policy(partition: str, account: str, name_prefix: str) -> Document:
    """Publish alerts to this account's `<name_prefix>-*` topics, in any region, and nowhere else."""
    return document(
        {
            "Sid": "PublishAlerts",
            "Effect": "Allow",
            "Action": "sns:Publish",
            "Resource": f"arn:{partition}:sns:*:{account}:{name_prefix}-*",
        }
    )


class GrafanaWorkspace(pulumi.ComponentResource):
    """The platform's Amazon Managed Grafana workspace, with a role it creates for its data sources.

    Args:
        name: logical name prefix of every child.
        args: validated `GrafanaArgs`.
        opts: resource options; the AWS provider of the region it lives in comes from here
            (`providers=[provider]`) or from the parent.

    Attributes:
        workspace: the `aws.grafana.Workspace`; `workspace_id`, `endpoint` (the URL host users sign
            in at).
        role: the role Grafana's data sources use; `role_arn`.
    """

    def __init__(self, name: str, args: GrafanaArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("meridian:telemetry:GrafanaWorkspace", name, None, opts)
        context = AwsContext.of(self)
        account, partition, region = context.account, context.partition, context.region

        self.role = managed_policy_role(
            f"{name}-grafana",
            description=f"Amazon Managed Grafana {args.name_prefix}: its data sources",
            trust=pulumi.Output.all(partition, region, account).apply(
                lambda v: json.dumps(grafana_trust(v[0], v[1], v[2]))
            ),
            managed_policies=GRAFANA_POLICIES,
            partition=partition,
            parent=self,
        )
        policies = [
            aws.iam.RolePolicy(
                f"{name}-grafana-prometheus",
                role=self.role.id,
                policy=pulumi.Output.all(partition, account).apply(
                    lambda v: json.dumps(prometheus_query_policy(v[0], v[1]))
                ),
                opts=pulumi.ResourceOptions(parent=self.role),
            )
        ]
        if args.sns_notifications:
            policies.append(
                aws.iam.RolePolicy(
                    f"{name}-grafana-alerts",
                    role=self.role.id,
                    policy=pulumi.Output.all(partition, account).apply(
                        lambda v: json.dumps(alert_publish_policy(v[0], v[1], args.name_prefix))
                    ),
                    opts=pulumi.ResourceOptions(parent=self.role),
                )
            )
        self.workspace = aws.grafana.Workspace(
            f"{name}-workspace",
            name=args.name_prefix,
            description=f"meridian {args.name_prefix}: metrics of every region, CloudWatch",
            account_access_type="CURRENT_ACCOUNT",
            authentication_providers=list(args.authentication_providers),
            permission_type="CUSTOMER_MANAGED",
            role_arn=self.role.arn,
            data_sources=["PROMETHEUS", "CLOUDWATCH"],
            notification_destinations=["SNS"] if args.sns_notifications else None,
            grafana_version=args.grafana_version,
            opts=pulumi.ResourceOptions(parent=self, depends_on=policies),
        )
        self.workspace_id: pulumi.Output[str] = self.workspace.id
        self.endpoint: pulumi.Output[str] = self.workspace.endpoint
        self.role_arn: pulumi.Output[str] = self.role.arn
        self.register_outputs(
            {"workspaceId": self.workspace_id, "endpoint": self.endpoint, "roleArn": self.role_arn}
        )
