"""AnalyticsWarehouse as a team's own program declares it: run under the mocks with an explicit
provider (and a second region's for a producer cluster), then read from the recorded resources."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
from pydantic import ValidationError

from components.warehouse.analytics_warehouse import AnalyticsWarehouse
from components.warehouse.args import (
    DEFAULT_EVENT_COLUMNS,
    MIN_BYTES_SCANNED_CUTOFF,
    EventColumn,
    RedshiftSettings,
    WarehouseArgs,
)
from infra.plan.mocks import MOCK_ACCOUNT_ID, mock_prefix_list_id
from infra.plan.run import Plan, run_program
from tests.support import (
    ENCRYPTION,
    LIFECYCLE,
    LOGGING,
    POLICY,
    PRIVATE_BUCKET,
    as_list,
    assert_private_bucket,
    bucket_parts,
    document_of,
    one,
    statement,
)

REGION = "eu-west-1"
PROVIDER = "warehouse-aws"
CLUSTER_PROVIDER = "cluster-us-aws"
KEY_ARN = f"arn:aws:kms:{REGION}:{MOCK_ACCOUNT_ID}:key/0e3b7c1a-2b4d-4f6a-8c9e-1a2b3c4d5e6f"
PREFIX = "team-dev-euw1"
LAKE = f"{PREFIX}-lake-{MOCK_ACCOUNT_ID}"
RESULTS = f"{PREFIX}-athena-results-{MOCK_ACCOUNT_ID}"
ACCESS_LOGS = f"{PREFIX}-lake-access-logs-{MOCK_ACCOUNT_ID}"
SUBNETS = ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002", "subnet-0a1b2c3d4e5f60003"]
CLIENTS = "sg-0c1e2n3t4s5a6p7p8"

STREAM = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
TABLE = "aws:glue/catalogTable:CatalogTable"
WORKGROUP = "aws:athena/workgroup:Workgroup"
ASSOCIATION = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


def run_warehouse(*, access_log_bucket: str | None = None, **args: Any) -> Plan:
    """The warehouse alone, pinned to eu-west-1, with one producer cluster in us-east-1; with
    `redshift` in `args`, in a VPC of its own."""
    network: dict[str, Any] = (
        {"vpc_id": "vpc-0a1b2c3d4e5f60000", "subnet_ids": SUBNETS, "client_security_group_id": CLIENTS}
        if "redshift" in args
        else {}
    )

    def main() -> dict[str, Any]:
        provider = aws.Provider(PROVIDER, region=REGION)
        warehouse = AnalyticsWarehouse(
            "wh",
            WarehouseArgs(name_prefix=PREFIX, **args),
            kms_key_arn=KEY_ARN,
            access_log_bucket=access_log_bucket,
            opts=pulumi.ResourceOptions(providers=[provider]),
            **network,
        )
        cluster_region = aws.Provider(CLUSTER_PROVIDER, region="us-east-1")
        warehouse.allow_producer(
            "orders-us",
            "team-dev-us-east-1",
            "orders",
            "orders-api",
            pulumi.ResourceOptions(provider=cluster_region),
        )
        return warehouse.outputs()

    return run_program(main, project="team", stack="dev")


@pytest.fixture(scope="module")
def plan() -> Plan:
    return run_warehouse()


@pytest.fixture(scope="module")
def redshift_plan() -> Plan:
    return run_warehouse(redshift={})


# -- buckets -----------------------------------------------------------------------------------------


def test_every_bucket_is_private_versioned_encrypted_and_tls_only(plan: Plan) -> None:
    lake = assert_private_bucket(plan, "wh-lake", name=LAKE, kms_key_arn=KEY_ARN, protect=True)
    results = assert_private_bucket(plan, "wh-results", name=RESULTS, kms_key_arn=KEY_ARN, protect=True)
    assert_private_bucket(plan, "wh-access-logs", name=ACCESS_LOGS, kms_key_arn=None, protect=True)
    assert len(plan.of_type(PRIVATE_BUCKET)) == 3
    for parts in (lake, results):
        (rule,) = parts[ENCRYPTION].inputs["rules"]
        assert rule["bucketKeyEnabled"] is True
        assert parts[LOGGING].inputs["targetBucket"] == ACCESS_LOGS
    assert plan.outputs["lakeBucketName"] == LAKE and plan.outputs["resultsBucketName"] == RESULTS


def test_lake_ages_into_cheaper_storage_and_results_expire(plan: Plan) -> None:
    (lake,) = bucket_parts(plan, "wh-lake")[LIFECYCLE].inputs["rules"]
    assert lake["transitions"] == [
        {"days": 30, "storageClass": "STANDARD_IA"},
        {"days": 180, "storageClass": "GLACIER_IR"},
    ]
    assert lake["noncurrentVersionExpiration"] == {"noncurrentDays": 30}
    assert lake["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 7}
    assert "expiration" not in lake
    (results,) = bucket_parts(plan, "wh-results")[LIFECYCLE].inputs["rules"]
    assert results["expiration"] == {"days": 30}


def test_the_access_log_bucket_admits_s3_logging_for_the_two_buckets_only(plan: Plan) -> None:
    delivery = statement(
        document_of(bucket_parts(plan, "wh-access-logs")[POLICY]), "S3ServerAccessLogsDelivery"
    )
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert delivery["Condition"]["ArnLike"] == {
        "aws:SourceArn": sorted([f"arn:aws:s3:::{LAKE}", f"arn:aws:s3:::{RESULTS}"])
    }
    assert delivery["Condition"]["StringEquals"] == {"aws:SourceAccount": MOCK_ACCOUNT_ID}


def test_a_given_access_log_bucket_is_used_instead_of_a_new_one() -> None:
    plan = run_warehouse(access_log_bucket="team-shared-access-logs")
    assert {b.name for b in plan.of_type(PRIVATE_BUCKET)} == {"wh-lake", "wh-results"}
    for component in ("wh-lake", "wh-results"):
        assert bucket_parts(plan, component)[LOGGING].inputs["targetBucket"] == "team-shared-access-logs"


# -- ingestion ---------------------------------------------------------------------------------------


def test_the_stream_writes_date_partitions_gzip_under_the_key(plan: Plan) -> None:
    stream = one(plan, STREAM, "wh-stream").inputs
    assert stream["name"] == f"{PREFIX}-events" == plan.outputs["streamName"]
    assert stream["destination"] == "extended_s3"
    assert stream["serverSideEncryption"] == {
        "enabled": True,
        "keyType": "CUSTOMER_MANAGED_CMK",
        "keyArn": KEY_ARN,
    }
    s3 = stream["extendedS3Configuration"]
    assert s3["bucketArn"] == plan.outputs["lakeBucketArn"]
    assert s3["prefix"] == "events/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/"
    # Firehose refuses a prefix with expressions without an error prefix naming the error type.
    assert s3["errorOutputPrefix"].startswith("errors/!{firehose:error-output-type}/")
    assert "!{firehose:error-output-type}" not in s3["prefix"]
    assert s3["compressionFormat"] == "GZIP"
    assert s3["kmsKeyArn"] == KEY_ARN
    assert (s3["bufferingSize"], s3["bufferingInterval"]) == (64, 300)
    assert s3["processingConfiguration"] == {
        "enabled": True,
        "processors": [{"type": "AppendDelimiterToRecord"}],
    }
    logging = s3["cloudwatchLoggingOptions"]
    log_group = one(plan, LOG_GROUP, "wh-delivery-log").inputs
    assert logging == {
        "enabled": True,
        "logGroupName": log_group["name"],
        "logStreamName": "DestinationDelivery",
    }
    assert log_group["kmsKeyId"] == KEY_ARN


def test_buffering_comes_from_the_args() -> None:
    plan = run_warehouse(buffer_mib=128, buffer_seconds=60)
    s3 = one(plan, STREAM, "wh-stream").inputs["extendedS3Configuration"]
    assert (s3["bufferingSize"], s3["bufferingInterval"]) == (128, 60)


def test_firehoses_role_reaches_the_lake_its_key_through_s3_and_its_log_stream(plan: Plan) -> None:
    stream = one(plan, STREAM, "wh-stream")
    role = one(plan, ROLE, "wh-firehose")
    assert stream.inputs["extendedS3Configuration"]["roleArn"].startswith(
        f"arn:aws:iam::{MOCK_ACCOUNT_ID}:role/wh-firehose"
    )
    (trust,) = document_of(role, "assumeRolePolicy")["Statement"]
    assert trust["Principal"] == {"Service": "firehose.amazonaws.com"} and trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"] == {
        "StringEquals": {"sts:ExternalId": MOCK_ACCOUNT_ID}
    }  # this account's streams
    grant = one(plan, ROLE_POLICY, "wh-firehose")
    assert grant.urn in stream.dependencies  # the stream checks its role when it is created
    policy = document_of(grant)
    lake_arn = plan.outputs["lakeBucketArn"]
    s3 = statement(policy, "DeliverToTheLake")
    assert s3["Resource"] == [lake_arn, f"{lake_arn}/*"]
    assert all(a.startswith("s3:") for a in s3["Action"]) and "s3:PutObject" in s3["Action"]
    assert not any(a in s3["Action"] for a in ("s3:*", "s3:DeleteObject", "s3:PutBucketPolicy"))
    kms = statement(policy, "EncryptThroughS3")
    assert sorted(kms["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"] and kms["Resource"] == KEY_ARN
    assert kms["Condition"]["StringEquals"] == {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}
    assert kms["Condition"]["StringLike"] == {"kms:EncryptionContext:aws:s3:arn": [lake_arn, f"{lake_arn}/*"]}
    logs = statement(policy, "LogDeliveryErrors")
    group = f"arn:aws:logs:{REGION}:{MOCK_ACCOUNT_ID}:log-group:/aws/kinesisfirehose/{PREFIX}-events"
    assert (
        logs["Action"] == "logs:PutLogEvents"
        and logs["Resource"] == f"{group}:log-stream:DestinationDelivery"
    )
    assert len(policy["Statement"]) == 3


# -- catalog and queries -----------------------------------------------------------------------------


def test_the_events_table_projects_the_streams_partitions(plan: Plan) -> None:
    table = one(plan, TABLE, "wh-events-table").inputs
    database = one(plan, "aws:glue/catalogDatabase:CatalogDatabase", "wh-database").inputs
    assert database["name"] == "team_dev_euw1_analytics" == plan.outputs["glueDatabaseName"]
    assert table["databaseName"] == database["name"]
    assert table["name"] == "events" and table["tableType"] == "EXTERNAL_TABLE"
    storage = table["storageDescriptor"]
    assert storage["location"] == f"s3://{LAKE}/events/"
    assert storage["serDeInfo"]["serializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
    assert [(c["name"], c["type"]) for c in storage["columns"]] == [
        ("event_id", "string"),
        ("event_type", "string"),
        ("occurred_at", "timestamp"),
        ("user_id", "string"),
        ("region", "string"),
        ("payload", "string"),
    ]
    assert [k["name"] for k in table["partitionKeys"]] == ["year", "month", "day"]
    parameters = table["parameters"]
    assert parameters["projection.enabled"] == "true"
    for key in ("year", "month", "day"):
        assert parameters[f"projection.{key}.type"] == "integer"
    assert (parameters["projection.month.digits"], parameters["projection.day.digits"]) == ("2", "2")
    assert parameters["projection.month.range"] == "1,12" and parameters["projection.day.range"] == "1,31"
    template = parameters["storage.location.template"]
    assert template == f"s3://{LAKE}/events/year=${{year}}/month=${{month}}/day=${{day}}/"
    # The template is the stream's prefix with the projected values in place of its expressions.
    prefix = one(plan, STREAM, "wh-stream").inputs["extendedS3Configuration"]["prefix"]
    assert (
        f"s3://{LAKE}/"
        + prefix.replace("!{timestamp:yyyy}", "${year}")
        .replace("!{timestamp:MM}", "${month}")
        .replace("!{timestamp:dd}", "${day}")
        == template
    )


def test_custom_event_columns_become_the_tables() -> None:
    columns = [EventColumn(name="id", type="string"), EventColumn(name="amount", type="decimal(12,2)")]
    plan = run_warehouse(event_columns=columns)
    storage = one(plan, TABLE, "wh-events-table").inputs["storageDescriptor"]
    assert [(c["name"], c["type"]) for c in storage["columns"]] == [
        ("id", "string"),
        ("amount", "decimal(12,2)"),
    ]


def test_athena_enforces_encrypted_results_and_a_scan_cutoff(plan: Plan) -> None:
    workgroup = one(plan, WORKGROUP, "wh-workgroup").inputs
    assert workgroup["name"] == f"{PREFIX}-analytics" == plan.outputs["workgroupName"]
    assert workgroup["state"] == "ENABLED"
    configuration = workgroup["configuration"]
    assert configuration["enforceWorkgroupConfiguration"] is True
    assert configuration["publishCloudwatchMetricsEnabled"] is True
    assert configuration["bytesScannedCutoffPerQuery"] == 10 * 1024**3
    assert configuration["resultConfiguration"] == {
        "outputLocation": f"s3://{RESULTS}/",
        "encryptionConfiguration": {"encryptionOption": "SSE_KMS", "kmsKeyArn": KEY_ARN},
    }


def test_the_cutoff_comes_from_the_args() -> None:
    plan = run_warehouse(bytes_scanned_cutoff_per_query=MIN_BYTES_SCANNED_CUTOFF)
    configuration = one(plan, WORKGROUP, "wh-workgroup").inputs["configuration"]
    assert configuration["bytesScannedCutoffPerQuery"] == MIN_BYTES_SCANNED_CUTOFF


# -- producers ---------------------------------------------------------------------------------------


def test_the_producer_role_may_only_put_records_into_this_stream(plan: Plan) -> None:
    role = one(plan, ROLE, "wh-producer")
    assert plan.outputs["producerRoleArn"].startswith(f"arn:aws:iam::{MOCK_ACCOUNT_ID}:role/wh-producer-")
    (trust,) = document_of(role, "assumeRolePolicy")["Statement"]
    assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert sorted(trust["Action"]) == ["sts:AssumeRole", "sts:TagSession"]
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": MOCK_ACCOUNT_ID}
    assert trust["Condition"]["ArnLike"] == {
        "aws:SourceArn": f"arn:aws:eks:*:{MOCK_ACCOUNT_ID}:cluster/{PREFIX}-*"
    }
    grants = [p for p in plan.of_type(ROLE_POLICY) if p.parent == role.urn]
    (grant,) = grants
    (only,) = document_of(grant)["Statement"]
    assert only["Effect"] == "Allow"
    assert sorted(as_list(only["Action"])) == ["firehose:PutRecord", "firehose:PutRecordBatch"]
    assert as_list(only["Resource"]) == [plan.outputs["streamArn"]]
    attached = plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert not attached and "managedPolicyArns" not in role.inputs and "inlinePolicies" not in role.inputs


def test_a_producer_cluster_in_another_region_gets_a_pod_identity_association(plan: Plan) -> None:
    (association,) = plan.of_type(ASSOCIATION)
    assert association.inputs["clusterName"] == "team-dev-us-east-1"
    assert (association.inputs["namespace"], association.inputs["serviceAccount"]) == ("orders", "orders-api")
    assert association.inputs["roleArn"] == plan.outputs["producerRoleArn"]
    assert association.provider is not None and CLUSTER_PROVIDER in association.provider
    assert plan.regions[association.urn] == "us-east-1"


def test_allow_producer_refuses_to_fall_back_to_the_default_provider() -> None:
    def main() -> None:
        provider = aws.Provider(PROVIDER, region=REGION)
        warehouse = AnalyticsWarehouse(
            "wh",
            WarehouseArgs(name_prefix=PREFIX),
            kms_key_arn=KEY_ARN,
            opts=pulumi.ResourceOptions(providers=[provider]),
        )
        warehouse.allow_producer("orders", "team-dev-eu", "orders", "orders-api", pulumi.ResourceOptions())

    with pytest.raises(ValueError, match="cluster region's AWS provider"):
        run_program(main, project="team", stack="dev")


def test_every_resource_but_the_association_is_the_components_on_its_provider(plan: Plan) -> None:
    (component,) = plan.of_type("meridian:warehouse:AnalyticsWarehouse")
    below = {r.urn for r in plan.descendants(component.urn)}
    outside = sorted(r.name for r in plan.custom_resources if r.urn not in below)
    assert outside == ["orders-us"]
    inside = [r for r in plan.custom_resources if r.urn in below]
    assert inside and all(r.provider and PROVIDER in r.provider for r in inside)


def test_everything_is_pinned_to_an_explicit_provider(redshift_plan: Plan) -> None:
    aws_resources = [r for r in redshift_plan.custom_resources if r.type.startswith("aws:")]
    expected = {r.urn: CLUSTER_PROVIDER if r.type == ASSOCIATION else PROVIDER for r in aws_resources}
    wrong = [r.name for r in aws_resources if not (r.provider and expected[r.urn] in r.provider)]
    assert aws_resources and not wrong, wrong


# -- Redshift Serverless -----------------------------------------------------------------------------


def test_no_redshift_unless_configured(plan: Plan) -> None:
    assert not [r for r in plan.resources if r.type.startswith("aws:redshiftserverless/")]
    assert not plan.of_type("aws:ec2/securityGroup:SecurityGroup")
    assert "redshiftEndpoint" not in plan.outputs


def test_redshift_is_private_encrypted_and_admits_the_client_group_only(redshift_plan: Plan) -> None:
    (namespace,) = redshift_plan.of_type("aws:redshiftserverless/namespace:Namespace")
    (workgroup,) = redshift_plan.of_type("aws:redshiftserverless/workgroup:Workgroup")
    (group,) = redshift_plan.of_type("aws:ec2/securityGroup:SecurityGroup")
    ns = namespace.inputs
    assert ns["kmsKeyId"] == KEY_ARN and ns["adminPasswordSecretKmsKeyId"] == KEY_ARN
    assert ns["manageAdminPassword"] is True and "adminUserPassword" not in ns
    assert sorted(ns["logExports"]) == ["connectionlog", "useractivitylog", "userlog"]
    assert namespace.protect is True
    wg = workgroup.inputs
    assert wg["publiclyAccessible"] is False
    assert wg["enhancedVpcRouting"] is True
    assert wg["baseCapacity"] == 8
    assert wg["subnetIds"] == SUBNETS
    assert wg["namespaceName"] == ns["namespaceName"] == f"{PREFIX}-analytics"
    assert wg["port"] == 5439
    assert wg["securityGroupIds"] == [group.id]
    assert group.inputs["vpcId"] == "vpc-0a1b2c3d4e5f60000"
    assert "ingress" not in group.inputs and "egress" not in group.inputs
    (rule,) = redshift_plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert rule.inputs["securityGroupId"] == group.id
    assert rule.inputs["referencedSecurityGroupId"] == CLIENTS
    assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"]) == ("tcp", 5439, 5439)
    assert not any(k in rule.inputs for k in ("cidrIpv4", "cidrIpv6", "prefixListId"))


def test_redshifts_default_role_may_only_read_the_lake(redshift_plan: Plan) -> None:
    (namespace,) = redshift_plan.of_type("aws:redshiftserverless/namespace:Namespace")
    role = one(redshift_plan, ROLE, "wh-redshift-lake-reader")
    role_arn = f"arn:aws:iam::{MOCK_ACCOUNT_ID}:role/wh-redshift-lake-reader"
    assert namespace.inputs["defaultIamRoleArn"].startswith(role_arn)
    assert namespace.inputs["iamRoles"] == [namespace.inputs["defaultIamRoleArn"]]
    (trust,) = document_of(role, "assumeRolePolicy")["Statement"]
    assert (
        trust["Principal"] == {"Service": ["redshift.amazonaws.com", "redshift-serverless.amazonaws.com"]}
        and trust["Action"] == "sts:AssumeRole"
    )
    policy = document_of(one(redshift_plan, ROLE_POLICY, "wh-redshift-lake-reader"))
    lake_arn = redshift_plan.outputs["lakeBucketArn"]
    s3 = statement(policy, "ReadTheLake")
    assert s3["Resource"] == [lake_arn, f"{lake_arn}/*"]
    assert sorted(s3["Action"]) == ["s3:GetBucketLocation", "s3:GetObject", "s3:ListBucket"]
    kms = statement(policy, "DecryptThroughS3")
    assert kms["Action"] == "kms:Decrypt" and kms["Resource"] == KEY_ARN
    assert kms["Condition"]["StringEquals"] == {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}
    assert kms["Condition"]["StringLike"] == {"kms:EncryptionContext:aws:s3:arn": [lake_arn, f"{lake_arn}/*"]}
    assert len(policy["Statement"]) == 2


def test_redshift_reaches_s3_through_the_gateway_endpoint_and_nothing_else(redshift_plan: Plan) -> None:
    """Enhanced VPC routing: COPY reads the lake through the VPC, so the group must let HTTPS out to
    S3's prefix list (the gateway endpoint's routes); it allows no other egress."""
    (group,) = redshift_plan.of_type("aws:ec2/securityGroup:SecurityGroup")
    (egress,) = redshift_plan.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
    rule = egress.inputs
    assert rule["securityGroupId"] == group.id
    assert rule["prefixListId"] == mock_prefix_list_id(f"com.amazonaws.{REGION}.s3")
    assert (rule["ipProtocol"], rule["fromPort"], rule["toPort"]) == ("tcp", 443, 443)
    assert not any(k in rule for k in ("cidrIpv4", "cidrIpv6", "referencedSecurityGroupId"))
    assert redshift_plan.regions[egress.urn] == REGION


def test_no_lake_reader_without_redshift(plan: Plan) -> None:
    assert not [r for r in plan.of_type(ROLE) if "redshift" in r.name]


def test_redshift_capacity_comes_from_the_args() -> None:
    plan = run_warehouse(redshift={"base_capacity_rpus": 32})
    (workgroup,) = plan.of_type("aws:redshiftserverless/workgroup:Workgroup")
    assert workgroup.inputs["baseCapacity"] == 32


@pytest.mark.parametrize(
    "missing", ["vpc_id", "subnet_ids", "client_security_group_id"], ids=lambda name: f"without-{name}"
)
def test_redshift_needs_its_network(missing: str) -> None:
    network: dict[str, Any] = {"vpc_id": "vpc-1", "subnet_ids": SUBNETS, "client_security_group_id": CLIENTS}
    del network[missing]
    with pytest.raises(ValueError, match=f"needs {missing}"):
        AnalyticsWarehouse(
            "wh",
            WarehouseArgs(name_prefix=PREFIX, redshift=RedshiftSettings()),
            kms_key_arn=KEY_ARN,
            **network,
        )


# -- arguments ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"bytes_scanned_cutoff_per_query": MIN_BYTES_SCANNED_CUTOFF - 1}, "below Athena's minimum of 10 MB"),
        ({"bytes_scanned_cutoff_per_query": 1_000_000}, "below Athena's minimum of 10 MB"),
        ({"redshift": {"base_capacity_rpus": 4}}, "8 to 512 RPUs in steps of 8"),
        ({"redshift": {"base_capacity_rpus": 12}}, "8 to 512 RPUs in steps of 8"),
        ({"redshift": {"base_capacity_rpus": 520}}, "8 to 512 RPUs in steps of 8"),
        ({"ia_after_days": 20}, "greater than or equal to 30"),
        ({"ia_after_days": 60, "glacier_after_days": 80}, "less than 30 days after iaAfterDays"),
        ({"buffer_mib": 129}, "less than or equal to 128"),
        ({"buffer_seconds": 901}, "less than or equal to 900"),
        ({"event_columns": []}, "at least 1 item"),
        ({"event_columns": [{"name": "year", "type": "string"}]}, "year, month and day are the partitions"),
        ({"event_columns": [{"name": "a", "type": "string"}, {"name": "a", "type": "int"}]}, "twice"),
        ({"event_columns": [{"name": "a", "type": "text"}]}, "should match pattern"),
        ({"log_retention_days": 10}, "CloudWatch Logs does not accept 10 days"),
        ({"name_prefix": "team.dev"}, "should match pattern"),
    ],
)
def test_invalid_warehouse_args_are_refused(args: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        WarehouseArgs.model_validate({"name_prefix": PREFIX, **args})


def test_warehouse_defaults_and_camel_case() -> None:
    args = WarehouseArgs.model_validate({"namePrefix": PREFIX, "redshift": {"baseCapacityRpus": 16}})
    assert args.redshift is not None and args.redshift.base_capacity_rpus == 16
    assert (args.ia_after_days, args.glacier_after_days, args.bytes_scanned_cutoff_per_query) == (
        30,
        180,
        10 * 1024**3,
    )
    assert args.event_columns == DEFAULT_EVENT_COLUMNS and args.protect is True
    assert WarehouseArgs(name_prefix=PREFIX, bytes_scanned_cutoff_per_query=MIN_BYTES_SCANNED_CUTOFF)
    assert WarehouseArgs(name_prefix=PREFIX).redshift is None
