"""GrafanaWorkspace: the platform's one Amazon Managed Grafana workspace, over every region's metrics.

    GrafanaWorkspace  (meridian:telemetry:GrafanaWorkspace)
    ├── Role                  assumed by Amazon Managed Grafana for this account's workspaces only:
    │   ├── AmazonGrafanaCloudWatchAccess   CloudWatch metrics, alarms and Logs Insights (read)
    │   ├── RolePolicy prometheus           query every AMP workspace of the account, any region
    │   └── RolePolicy alerts               sns:Publish to `<namePrefix>-*` topics only (optional)
    ├── Workspace             current account, AWS IAM Identity Center (or SAML) sign-in,
    │                         customer-managed permissions, data sources PROMETHEUS and CLOUDWATCH
    ├── WorkspaceServiceAccount `<namePrefix>-provisioner`, Grafana role ADMIN (only an org admin
    │   │                     may manage data sources)
    │   └── WorkspaceServiceAccountToken  `apiTokenDays` long (AMG: 30 at most), replaced every
    │                         half of that (`replacement_trigger`: the rotation window's index)
    ├── grafana.Provider      `https://<endpoint>`, the token as `auth` (a secret); the only
    │                         provider the data sources use
    ├── DataSource amp-<region>   one per AMP workspace given: Prometheus, SigV4 as the workspace's
    │                         role in that region, by POST; one of them the default
    └── DataSource cloudwatch CloudWatch as the workspace's role, the workspace's region preselected
                              (the default source when no AMP workspace is given)

Declare it once, in one region (its AWS provider comes from the parent or `opts`); it reads the AMP
workspaces of every region (`ClusterTelemetry`), given as `prometheus_endpoints`.

The token rotates without a clock resource: its window index (`token_window`, the UTC date's
ordinal over `apiTokenDays // 2`) is its replacement trigger and part of its name (a token's name
must be unique within the workspace, and the new token is created before the old one is deleted). A
token made anywhere in a window is still valid when the next window ends, so a stack updated at
least once a window always holds a valid token; an older one gets a new token on its next
`pulumi up` (a `pulumi refresh` of the data sources before that fails: the token has expired).

Not done here:

- Dashboards, alert rules and contact points inside Grafana.
- SAML: with `SAML` among the providers, the IdP's metadata and role mapping are a separate
  `aws.grafana.WorkspaceSamlConfiguration`. IAM Identity Center users and groups are given access
  with `aws.grafana.RoleAssociation`.
- The workspace's own data stays under an AWS owned key: `kms_key_id` exists in the SDK, but the
  key policy AMG needs for it is not verified here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime

import pulumi
import pulumi_aws as aws
import pulumiverse_grafana as grafana

from ..core.iam import managed_policy_role
from ..core.lookups import AwsContext
from .args import GrafanaArgs
from .grafana_sources import (
    CLOUDWATCH_UID,
    check_prometheus_regions,
    cloudwatch_json_data,
    prometheus_json_data,
    prometheus_source_name,
    prometheus_uid,
    rotation_days,
    token_seconds_to_live,
    token_window,
)
from .policies import alert_publish_policy, grafana_trust, prometheus_query_policy

__all__ = [
    "GRAFANA_POLICIES",
    "PROVISIONER_ROLE",
    "GrafanaWorkspace",
    "alert_publish_policy",
    "grafana_trust",
    "prometheus_query_policy",
]

#: AWS's policy for the CloudWatch data source of AMG (a service-role policy: mind the path).
GRAFANA_POLICIES = ("service-role/AmazonGrafanaCloudWatchAccess",)


#: The Grafana role of the service account that provisions the data sources: Grafana lets only an
#: organization's admins create, change or delete data sources (EDITOR and VIEWER cannot).
PROVISIONER_ROLE = "ADMIN"


class GrafanaWorkspace(pulumi.ComponentResource):
    """The platform's Amazon Managed Grafana workspace, with a role it creates for its data sources,
    and the data sources themselves (one per AMP workspace given, and CloudWatch).

    Args:
        name: logical name prefix of every child.
        args: validated `GrafanaArgs`.
        opts: resource options; the AWS provider of the region it lives in comes from here
            (`providers=[provider]`) or from the parent.
        prometheus_endpoints: region → that region's AMP workspace's `prometheus_endpoint`
            (`ClusterTelemetry.prometheus_endpoint`); a Prometheus data source `amp-<region>` each.
            The regions are checked (AWS region names) before any resource is declared.
        default_prometheus_region: the region whose source Grafana opens by default; one of
            `prometheus_endpoints`' keys, required when it has any (none given: CloudWatch is the
            default).
        today: the date the token's rotation window is computed from (default: today, in UTC).

    Attributes:
        workspace: the `aws.grafana.Workspace`; `workspace_id`, `endpoint` (the URL host users sign
            in at).
        role: the role Grafana's data sources use; `role_arn`.
        service_account, token: the provisioning service account (ADMIN) and its API token
            (`token.key` is a secret).
        grafana_provider: the `pulumiverse_grafana.Provider` of the workspace, signed in with the
            token; every resource inside Grafana uses it and nothing else.
        prometheus_sources: region → its AMP data source; `cloudwatch_source`.
        token_window: the rotation window the token belongs to.
    """

    def __init__(
        self,
        name: str,
        args: GrafanaArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        prometheus_endpoints: Mapping[str, pulumi.Input[str]] | None = None,
        default_prometheus_region: str | None = None,
        today: date | None = None,
    ) -> None:
        endpoints = dict(prometheus_endpoints or {})
        # Before the component itself is registered: a bad region declares nothing.
        check_prometheus_regions(endpoints, default_prometheus_region)
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
            opts=pulumi.ResourceOptions(parent=self),
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

        self.token_window = token_window(
            today or datetime.now(UTC).date(), rotation_days(args.api_token_days)
        )
        self._provisioner(name, args)
        self.prometheus_sources = {
            source_region: grafana.oss.DataSource(
                f"{name}-amp-{source_region}",
                type="prometheus",
                name=prometheus_source_name(source_region),
                uid=prometheus_uid(source_region),
                url=endpoint,
                access_mode="proxy",  # Grafana's server signs the queries (SigV4)
                is_default=source_region == default_prometheus_region,
                json_data_encoded=prometheus_json_data(source_region),
                opts=self._inside,
            )
            for source_region, endpoint in endpoints.items()
        }
        self.cloudwatch_source = grafana.oss.DataSource(
            f"{name}-cloudwatch",
            type="cloudwatch",
            name="CloudWatch",
            uid=CLOUDWATCH_UID,
            access_mode="proxy",
            is_default=not endpoints,
            json_data_encoded=region.apply(cloudwatch_json_data),
            opts=self._inside,
        )
        self.register_outputs(
            {
                "workspaceId": self.workspace_id,
                "endpoint": self.endpoint,
                "roleArn": self.role_arn,
                "dataSourceUids": [*(prometheus_uid(r) for r in endpoints), CLOUDWATCH_UID],
            }
        )

    def _provisioner(self, name: str, args: GrafanaArgs) -> None:
        """The service account, its token of the current window, and the Grafana provider over it."""
        self.service_account = aws.grafana.WorkspaceServiceAccount(
            f"{name}-provisioner",
            workspace_id=self.workspace.id,
            name=f"{args.name_prefix}-provisioner",
            grafana_role=PROVISIONER_ROLE,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.token = aws.grafana.WorkspaceServiceAccountToken(
            f"{name}-provisioner-token",
            workspace_id=self.workspace.id,
            service_account_id=self.service_account.service_account_id,
            # The window in the name too: the next token is created while this one still exists.
            name=f"{args.name_prefix}-provisioner-{self.token_window}",
            seconds_to_live=token_seconds_to_live(args.api_token_days),
            opts=pulumi.ResourceOptions(parent=self.service_account, replacement_trigger=self.token_window),
        )
        # A secret whatever the SDK does with it: in the provider's state and wherever it goes.
        api_key: pulumi.Output[str] = pulumi.Output.secret(self.token.key)
        self.grafana_provider = grafana.Provider(
            f"{name}-grafana",
            url=pulumi.Output.concat("https://", self.workspace.endpoint),
            auth=api_key,  # explicit, so that GRAFANA_AUTH is never read
            # Explicit too: GRAFANA_INSECURE_SKIP_VERIFY in a deployer's shell cannot turn TLS off.
            insecure_skip_verify=False,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self._inside = pulumi.ResourceOptions(parent=self, provider=self.grafana_provider)
