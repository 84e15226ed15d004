"""The offline plan as a Terraform plan (`terraform show -json` format), for external scanners.

pulumi-aws is bridged from the Terraform AWS provider, so every AWS resource of the plan has a
Terraform twin: the type token names it (`aws:rds/cluster:Cluster` → `aws_rds_cluster`, with the
exceptions in `TERRAFORM_TYPES`), its camelCase inputs are the provider's snake_case arguments,
and a single nested block (an object in Pulumi) is a one-item list in Terraform. Where an input came
from another resource, the plan's `configuration` section records the reference, so a scanner's
graph checks (a VPC and its flow log, a bucket and its encryption) see the connection.

Only AWS resources are exported: checkov's Terraform checks are for them. A type the table does
not know is reported in `ExportedPlan.skipped`, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from infra.plan.run import Plan

from .check import subjects_of
from .resource_rules import is_taggable

__all__ = ["TERRAFORM_TYPES", "ExportedPlan", "export_terraform_plan", "snake_case", "terraform_type"]

TERRAFORM_VERSION = "1.9.8"
AWS_PROVIDER = "registry.terraform.io/hashicorp/aws"

#: Pulumi type token → Terraform resource type, for every AWS type meridian declares (verified
#: against pulumi-aws's provider/resources.go); most are `aws_<module>_<name>`, EC2's `aws_<name>`,
#: and RDS keeps Terraform's older `aws_db_` prefix for some.
TERRAFORM_TYPES: dict[str, str] = {
    "aws:acm/certificate:Certificate": "aws_acm_certificate",
    "aws:amp/scraper:Scraper": "aws_prometheus_scraper",
    "aws:amp/workspace:Workspace": "aws_prometheus_workspace",
    "aws:athena/workgroup:Workgroup": "aws_athena_workgroup",
    "aws:backup/plan:Plan": "aws_backup_plan",
    "aws:backup/selection:Selection": "aws_backup_selection",
    "aws:backup/vault:Vault": "aws_backup_vault",
    "aws:cloudtrail/trail:Trail": "aws_cloudtrail",
    "aws:cloudwatch/dashboard:Dashboard": "aws_cloudwatch_dashboard",
    "aws:cloudwatch/eventRule:EventRule": "aws_cloudwatch_event_rule",
    "aws:cloudwatch/eventTarget:EventTarget": "aws_cloudwatch_event_target",
    "aws:cloudwatch/logGroup:LogGroup": "aws_cloudwatch_log_group",
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": "aws_cloudwatch_log_resource_policy",
    "aws:cloudwatch/logStream:LogStream": "aws_cloudwatch_log_stream",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "aws_cloudwatch_metric_alarm",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "aws_default_security_group",
    "aws:ec2/eip:Eip": "aws_eip",
    "aws:ec2/flowLog:FlowLog": "aws_flow_log",
    "aws:ec2/internetGateway:InternetGateway": "aws_internet_gateway",
    "aws:ec2/launchTemplate:LaunchTemplate": "aws_launch_template",
    "aws:ec2/natGateway:NatGateway": "aws_nat_gateway",
    "aws:ec2/route:Route": "aws_route",
    "aws:ec2/vpcPeeringConnection:VpcPeeringConnection": "aws_vpc_peering_connection",
    "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter": "aws_vpc_peering_connection_accepter",  # noqa: E501
    "aws:codebuild/project:Project": "aws_codebuild_project",
    "aws:codebuild/webhook:Webhook": "aws_codebuild_webhook",
    "aws:ec2/routeTable:RouteTable": "aws_route_table",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "aws_route_table_association",
    "aws:ec2/securityGroup:SecurityGroup": "aws_security_group",
    "aws:ec2/securityGroupRule:SecurityGroupRule": "aws_security_group_rule",
    "aws:ec2/subnet:Subnet": "aws_subnet",
    "aws:ec2/vpc:Vpc": "aws_vpc",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "aws_vpc_endpoint",
    "aws:eks/accessEntry:AccessEntry": "aws_eks_access_entry",
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": "aws_eks_access_policy_association",
    "aws:eks/addon:Addon": "aws_eks_addon",
    "aws:eks/cluster:Cluster": "aws_eks_cluster",
    "aws:eks/nodeGroup:NodeGroup": "aws_eks_node_group",
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": "aws_eks_pod_identity_association",
    "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup": (
        "aws_elasticache_global_replication_group"
    ),
    "aws:elasticache/parameterGroup:ParameterGroup": "aws_elasticache_parameter_group",
    "aws:elasticache/replicationGroup:ReplicationGroup": "aws_elasticache_replication_group",
    "aws:elasticache/subnetGroup:SubnetGroup": "aws_elasticache_subnet_group",
    "aws:elasticache/user:User": "aws_elasticache_user",
    "aws:elasticache/userGroup:UserGroup": "aws_elasticache_user_group",
    "aws:glue/catalogDatabase:CatalogDatabase": "aws_glue_catalog_database",
    "aws:glue/catalogTable:CatalogTable": "aws_glue_catalog_table",
    "aws:grafana/workspace:Workspace": "aws_grafana_workspace",
    "aws:grafana/workspaceServiceAccount:WorkspaceServiceAccount": "aws_grafana_workspace_service_account",
    "aws:grafana/workspaceServiceAccountToken:WorkspaceServiceAccountToken": (
        "aws_grafana_workspace_service_account_token"
    ),
    "aws:iam/role:Role": "aws_iam_role",
    "aws:iam/rolePolicy:RolePolicy": "aws_iam_role_policy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "aws_iam_role_policy_attachment",
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": "aws_kinesis_firehose_delivery_stream",
    "aws:kms/alias:Alias": "aws_kms_alias",
    "aws:kms/key:Key": "aws_kms_key",
    "aws:lb/loadBalancer:LoadBalancer": "aws_lb",
    "aws:rds/cluster:Cluster": "aws_rds_cluster",
    "aws:rds/clusterInstance:ClusterInstance": "aws_rds_cluster_instance",
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": "aws_rds_cluster_parameter_group",
    "aws:rds/globalCluster:GlobalCluster": "aws_rds_global_cluster",
    "aws:rds/instance:Instance": "aws_db_instance",
    "aws:rds/parameterGroup:ParameterGroup": "aws_db_parameter_group",
    "aws:rds/proxy:Proxy": "aws_db_proxy",
    "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup": "aws_db_proxy_default_target_group",
    "aws:rds/proxyEndpoint:ProxyEndpoint": "aws_db_proxy_endpoint",
    "aws:rds/proxyTarget:ProxyTarget": "aws_db_proxy_target",
    "aws:rds/subnetGroup:SubnetGroup": "aws_db_subnet_group",
    "aws:redshiftserverless/namespace:Namespace": "aws_redshiftserverless_namespace",
    "aws:redshiftserverless/workgroup:Workgroup": "aws_redshiftserverless_workgroup",
    "aws:s3/bucket:Bucket": "aws_s3_bucket",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": (
        "aws_s3_bucket_lifecycle_configuration"
    ),
    "aws:s3/bucketLogging:BucketLogging": "aws_s3_bucket_logging",
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": (
        "aws_s3_bucket_object_lock_configuration"
    ),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "aws_s3_bucket_ownership_controls",
    "aws:s3/bucketPolicy:BucketPolicy": "aws_s3_bucket_policy",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "aws_s3_bucket_public_access_block",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "aws_s3_bucket_server_side_encryption_configuration"
    ),
    "aws:s3/bucketVersioning:BucketVersioning": "aws_s3_bucket_versioning",
    "aws:secretsmanager/secret:Secret": "aws_secretsmanager_secret",
    "aws:secretsmanager/secretVersion:SecretVersion": "aws_secretsmanager_secret_version",
    "aws:sns/topic:Topic": "aws_sns_topic",
    "aws:sns/topicPolicy:TopicPolicy": "aws_sns_topic_policy",
    "aws:sns/topicSubscription:TopicSubscription": "aws_sns_topic_subscription",
    "aws:sqs/queue:Queue": "aws_sqs_queue",
    "aws:sqs/queuePolicy:QueuePolicy": "aws_sqs_queue_policy",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "aws_vpc_security_group_egress_rule",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "aws_vpc_security_group_ingress_rule",
}


#: Pulumi pluralises the name of a repeatable block (`parameter` → `parameters`); these are the
#: blocks of the types above whose Terraform name is singular.
SINGULAR_BLOCKS: dict[str, str] = {
    "parameters": "parameter",
    "rules": "rule",
    "replicas": "replica",
    "log_delivery_configurations": "log_delivery_configuration",
    "taints": "taint",
    "inline_policies": "inline_policy",
    "copy_actions": "copy_action",
    "selection_tags": "selection_tag",
    "subnet_mappings": "subnet_mapping",
    "pod_identity_associations": "pod_identity_association",
}
#: Arguments that are maps (their keys are data, never renamed or wrapped).
MAP_ARGUMENTS = frozenset({"tags", "tags_all", "labels", "variables", "parameters_map"})


def terraform_type(type_token: str) -> str | None:
    return TERRAFORM_TYPES.get(type_token)


def snake_case(name: str) -> str:
    """`storageEncrypted` → `storage_encrypted`, `cidrIpv4` → `cidr_ipv4`."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _terraform_value(value: Any, key: str | None = None) -> Any:
    if key in MAP_ARGUMENTS and isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, Mapping):
        return [_block(value)]  # a single nested block is a one-item list
    if isinstance(value, list):
        return [_block(v) if isinstance(v, Mapping) else _terraform_value(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # the engine's numbers are floats; Terraform's integers are not
    return value


def _block(values: Mapping[str, Any]) -> dict[str, Any]:
    block = {}
    for name, value in values.items():
        key = snake_case(name)
        if isinstance(value, list) and value and isinstance(value[0], Mapping):
            key = SINGULAR_BLOCKS.get(key, key)
        block[key] = _terraform_value(value, key)
    return block


def _address_name(name: str, taken: set[str]) -> str:
    """A Terraform resource name from a Pulumi one (letters, digits, `_` and `-`), unique."""
    base = re.sub(r"[^A-Za-z0-9_-]", "_", name)
    base = base if re.match(r"[A-Za-z_]", base) else f"r_{base}"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}_{n}", n + 1
    taken.add(candidate)
    return candidate


@dataclass
class ExportedPlan:
    """A Terraform plan document and what could not be exported."""

    document: dict[str, Any]
    addresses: dict[str, str] = field(default_factory=dict)  # Pulumi URN → Terraform address
    skipped: list[str] = field(default_factory=list)  # AWS type tokens without a Terraform name


def export_terraform_plan(plan: Plan) -> ExportedPlan:
    """Every AWS resource of *plan* as a resource Terraform would create."""
    subjects = [s for s in subjects_of(plan) if s.type.startswith("aws:")]
    names: dict[str, set[str]] = {}
    addresses: dict[str, str] = {}
    skipped = sorted({s.type for s in subjects if terraform_type(s.type) is None})
    exported = [s for s in subjects if terraform_type(s.type)]
    for subject in exported:
        tf_type = terraform_type(subject.type)
        assert tf_type
        addresses[subject.urn] = f"{tf_type}.{_address_name(subject.name, names.setdefault(tf_type, set()))}"

    planned, changes, configuration = [], [], []
    providers: dict[str, dict[str, Any]] = {}
    for subject in exported:
        address = addresses[subject.urn]
        tf_type, tf_name = address.split(".", 1)
        values = _block({k: v for k, v in subject.props.items() if k != "region"})
        if is_taggable(subject.type):
            values["tags_all"] = dict(subject.tags)
        region = subject.region or "default"
        provider_key = f"aws.{region}"
        providers.setdefault(
            provider_key,
            {"name": "aws", "full_name": AWS_PROVIDER, "alias": region,
             "expressions": {"region": {"constant_value": region}}},
        )  # fmt: skip
        common = {"address": address, "mode": "managed", "type": tf_type, "name": tf_name}
        planned.append(
            {
                **common,
                "provider_name": AWS_PROVIDER,
                "schema_version": 0,
                "values": values,
                "sensitive_values": {},
            }
        )
        change = {"actions": ["create"], "before": None, "after": values, "after_unknown": {}}
        changes.append({**common, "provider_name": AWS_PROVIDER, "change": change})
        expressions = {
            snake_case(key): {
                "references": [
                    ref
                    for urn in urns
                    if urn in addresses
                    for ref in (f"{addresses[urn]}.id", addresses[urn])
                ]
            }
            for key, urns in subject.property_dependencies.items()
            if any(urn in addresses for urn in urns)
        }
        configuration.append({**common, "provider_config_key": provider_key, "expressions": expressions,
                              "schema_version": 0})  # fmt: skip
    document = {
        "format_version": "1.2",
        "terraform_version": TERRAFORM_VERSION,
        "planned_values": {"root_module": {"resources": planned}},
        "resource_changes": changes,
        "configuration": {"provider_config": providers, "root_module": {"resources": configuration}},
    }
    return ExportedPlan(document, addresses, skipped)
