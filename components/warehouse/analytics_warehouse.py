"""AnalyticsWarehouse: product events into a data lake, queried with Athena (and Redshift Serverless).

    AnalyticsWarehouse  (meridian:warehouse:AnalyticsWarehouse)
    ├── PrivateBucket      `<prefix>-lake-access-logs-<account>`: the two buckets' server access
    │                      logs, SSE-S3 (S3 cannot deliver them under SSE-KMS); unless one is given
    ├── PrivateBucket      `<prefix>-lake-<account>`: the events, under the region's key, versioned,
    │                      to STANDARD_IA then GLACIER_IR with age, old versions expire
    ├── PrivateBucket      `<prefix>-athena-results-<account>`: query results, expire with age
    ├── LogGroup + Stream  `/aws/kinesisfirehose/<prefix>-events`: delivery errors, under the key
    ├── Role               assumed by Firehose: put/get/list on the lake, the key through S3 only,
    │                      its log stream
    ├── DeliveryStream     `<prefix>-events`: Direct PUT, encrypted at rest (the customer key), to
    │                      `events/year=…/month=…/day=…/` as GZIP JSON lines; failures to `errors/…`
    ├── CatalogDatabase    `<prefix_with_underscores>_analytics`
    ├── CatalogTable       `events`: JSON over the lake's `events/`, partitions projected (no crawler)
    ├── Athena Workgroup   `<prefix>-analytics`: its settings enforced, results under the key, a
    │                      cutoff of bytes scanned per query, CloudWatch metrics
    ├── Role (producer)    `firehose:PutRecord(Batch)` on this stream only (through one VPC endpoint
    │                      with `producer_vpc_endpoint_id`), for EKS Pod Identity
    └── Redshift Serverless  (with `args.redshift`) namespace under the key, managed admin password,
        │                  logs exported; a private workgroup in the given subnets that admits the
        │                  client security group on 5439 only (S3 through the VPC's gateway endpoint)
        ├── SecurityGroup  in: 5439 from the client group; out: HTTPS to S3's prefix list only
        └── Role           its default role: read the lake (the key through S3 only), for
                           `COPY … IAM_ROLE default`; Spectrum is not set up (below)

Declared in one region (the caller's provider). Producers in another region get a stream of
their own region (`EventStream`, under that region), which delivers into this lake across regions
(Firehose writes the objects; the lake's bucket policy denies only plain HTTP and its key policy
delegates to IAM, so the stream's role is admitted by its own policy), so their pods reach
Firehose through their own VPC's interface endpoint rather than the internet. `allow_producer`
associates the home stream's producer role with a service account of a cluster, under that
cluster's region provider.

Redshift loads the events with `COPY` (its default role reads the lake). Redshift Spectrum over the
Glue table is not set up: the table's partitions are projected, which only Athena reads (Spectrum
sees the partitions registered in the catalog, and none are), and with enhanced VPC routing it would
need a Glue endpoint in the isolated subnets.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from ..core.iam import inline_policy_role
from ..core.lookups import AwsContext
from ..network.network import admit_group
from ..storage.args import BucketLifecycle, StorageClass, Transition
from ..storage.policies import access_log_delivery_statement
from ..storage.private_bucket import ACCESS_LOG_SSE_S3_REASON, PrivateBucket
from .args import (
    PARTITION_KEYS,
    RedshiftSettings,
    WarehouseArgs,
)
from .event_stream import Lake, declare_stream
from .policies import (
    firehose_delivery_policy,
    lake_reader_policy,
    producer_policy,
    producer_trust,
    redshift_trust,
)

__all__ = [
    "AnalyticsWarehouse",
    "firehose_delivery_policy",
    "lake_reader_policy",
    "producer_policy",
    "producer_trust",
    "redshift_trust",
]

#: Years the table projects: the stream did not exist before 2024.
PROJECTED_YEARS = "2024,2099"
#: Redshift Serverless workgroups listen here.
REDSHIFT_PORT = 5439
REDSHIFT_LOG_EXPORTS = ("userlog", "connectionlog", "useractivitylog")


class AnalyticsWarehouse(pulumi.ComponentResource):
    """Events lake, Firehose ingestion, Glue catalog and Athena workgroup (and Redshift Serverless)
    in one region (see the module docstring for its parts).

    Args:
        name: logical name prefix of every child.
        args: validated `WarehouseArgs`.
        kms_key_arn: the region's customer-managed key (lake, results, stream, logs, Redshift).
        access_log_bucket: a bucket for the server access logs of the lake and results buckets;
            it must let `logging.s3.amazonaws.com` write. None (default): the component makes one.
        vpc_id: Redshift only (required with `args.redshift`): the VPC of the workgroup.
        subnet_ids: Redshift only (required with `args.redshift`): the private subnets the
            workgroup runs in (S3 through the VPC's gateway endpoint).
        client_security_group_id: Redshift only (required with `args.redshift`): the only security
            group admitted on port 5439 (e.g. the EKS cluster's nodes).
        producer_vpc_endpoint_id: the Firehose interface endpoint the home stream's producers put
            through; their role puts through no other way (`aws:SourceVpce`). None: any way.
        opts: resource options; the region-pinned AWS provider comes from here
            (`providers=[provider]`) or from the parent.

    Attributes:
        lake, results, access_logs: the `PrivateBucket`s (access_logs is None when given one).
        lake_bucket_name, lake_bucket_arn, results_bucket_name, results_bucket_arn: their names
            and ARNs.
        stream, stream_name, stream_arn: the `aws.kinesis.FirehoseDeliveryStream` producers put
            events into, its name and ARN.
        table: the `events` `aws.glue.CatalogTable`.
        glue_database_name, glue_table_name: the catalog's names (for Athena queries).
        workgroup, workgroup_name: the Athena `aws.athena.Workgroup` and its name.
        producer_role, producer_role_arn: the role producers assume (`allow_producer`), its ARN.
        home_stream: the home region's `StreamParts` (the stream and producer role above).
        lake_target(): the `Lake` another region's `EventStream` delivers into.
        redshift_workgroup, redshift_security_group: the Redshift Serverless workgroup and its
            security group (None without Redshift).
        redshift_endpoint: the Redshift Serverless workgroup's address (None without Redshift).
        allow_producer(): let a service account of an EKS cluster (of any region, under that
            region's provider) put events into the home stream.
        outputs(): what consumers need (camelCase, as stack outputs are).
    """

    def __init__(
        self,
        name: str,
        args: WarehouseArgs,
        *,
        kms_key_arn: pulumi.Input[str],
        access_log_bucket: pulumi.Input[str] | None = None,
        vpc_id: pulumi.Input[str] | None = None,
        subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None,
        client_security_group_id: pulumi.Input[str] | None = None,
        producer_vpc_endpoint_id: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        # Checked before anything is declared: a bad call leaves no half-built component.
        if args.redshift is not None:
            missing = [
                arg
                for arg, value in (
                    ("vpc_id", vpc_id),
                    ("subnet_ids", subnet_ids),
                    ("client_security_group_id", client_security_group_id),
                )
                if value is None
            ]
            if missing:
                raise ValueError(
                    f"{name}: Redshift Serverless (args.redshift) needs {', '.join(missing)}: the "
                    "workgroup runs in private subnets and admits one client security group"
                )
        super().__init__("meridian:warehouse:AnalyticsWarehouse", name, None, opts)
        self._name = name
        context = AwsContext.of(self)
        dns_suffix = context.dns_suffix
        prefix = args.name_prefix
        child = pulumi.ResourceOptions(parent=self)

        lake_name = pulumi.Output.concat(prefix, "-lake-", context.account)
        results_name = pulumi.Output.concat(prefix, "-athena-results-", context.account)
        self.access_logs: PrivateBucket | None = None
        if access_log_bucket is None:
            sources = [
                pulumi.Output.concat("arn:", context.partition, ":s3:::", bucket)
                for bucket in (lake_name, results_name)
            ]
            self.access_logs = PrivateBucket(
                f"{name}-access-logs",
                bucket_name=pulumi.Output.concat(prefix, "-lake-access-logs-", context.account),
                kms_key_arn=None,
                sse_s3_reason=ACCESS_LOG_SSE_S3_REASON,
                protect=args.protect,
                lifecycle=BucketLifecycle(expire_days=args.access_log_expire_days, noncurrent_expire_days=30),
                policy_statements=lambda arn: pulumi.Output.all(arn, context.account, *sources).apply(
                    lambda v: [access_log_delivery_statement(v[0], v[1], v[2:])]
                ),
                opts=child,
            )
            access_log_bucket = self.access_logs.name

        self.lake = PrivateBucket(
            f"{name}-lake",
            bucket_name=lake_name,
            kms_key_arn=kms_key_arn,
            protect=args.protect,
            access_log_bucket=access_log_bucket,
            lifecycle=BucketLifecycle(
                transitions=(
                    Transition(days=args.ia_after_days, storage_class=StorageClass.STANDARD_IA),
                    Transition(days=args.glacier_after_days, storage_class=StorageClass.GLACIER_IR),
                ),
                noncurrent_expire_days=args.noncurrent_days,
            ),
            opts=child,
        )
        self.results = PrivateBucket(
            f"{name}-results",
            bucket_name=results_name,
            kms_key_arn=kms_key_arn,
            protect=args.protect,
            access_log_bucket=access_log_bucket,
            # Results are re-run, not kept: an expired result's old version goes a day later.
            lifecycle=BucketLifecycle(expire_days=args.results_expire_days, noncurrent_expire_days=1),
            opts=child,
        )
        self.lake_bucket_name, self.lake_bucket_arn = self.lake.name, self.lake.arn
        self.results_bucket_name, self.results_bucket_arn = self.results.name, self.results.arn

        # The home stream's children are the warehouse's own, with the names they always had
        # (`<name>-stream`, …): its log group is protected, and a new name would mean a new one.
        self._lake_target = Lake(bucket_arn=self.lake.arn, key_arn=kms_key_arn, region=context.region)
        self.home_stream = declare_stream(
            name,
            args,
            lake=self._lake_target,
            stream_key_arn=kms_key_arn,
            cluster_region="*",
            vpc_endpoint_id=producer_vpc_endpoint_id,
            context=context,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.stream = self.home_stream.stream
        self.stream_name: pulumi.Output[str] = self.stream.name
        self.stream_arn: pulumi.Output[str] = self.stream.arn
        self.producer_role = self.home_stream.producer_role
        self.producer_role_arn: pulumi.Output[str] = self.producer_role.arn

        database = aws.glue.CatalogDatabase(
            f"{name}-database",
            name=f"{prefix.replace('-', '_')}_analytics",
            description=f"meridian {prefix}: product events",
            opts=child,
        )
        self.table = aws.glue.CatalogTable(
            f"{name}-events-table",
            name="events",
            database_name=database.name,
            description="Product events delivered by Firehose, partitioned by arrival date (UTC)",
            table_type="EXTERNAL_TABLE",
            parameters=pulumi.Output.concat("s3://", self.lake.name, "/events/").apply(_table_parameters),
            partition_keys=[{"name": key, "type": "string"} for key in PARTITION_KEYS],
            storage_descriptor={
                "location": pulumi.Output.concat("s3://", self.lake.name, "/events/"),
                "input_format": "org.apache.hadoop.mapred.TextInputFormat",
                "output_format": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                "compressed": True,
                "ser_de_info": {"serialization_library": "org.openx.data.jsonserde.JsonSerDe"},
                "columns": [
                    {"name": c.name, "type": c.type, "comment": c.comment or None} for c in args.event_columns
                ],
            },
            opts=child,
        )
        self.glue_database_name: pulumi.Output[str] = database.name
        self.glue_table_name: pulumi.Output[str] = self.table.name

        self.workgroup = aws.athena.Workgroup(
            f"{name}-workgroup",
            name=f"{prefix}-analytics",
            description=f"meridian {prefix}: queries over the events lake",
            state="ENABLED",
            force_destroy=not args.protect,
            configuration={
                # Clients may not point results elsewhere or turn encryption or the cutoff off.
                "enforce_workgroup_configuration": True,
                "publish_cloudwatch_metrics_enabled": True,
                "bytes_scanned_cutoff_per_query": args.bytes_scanned_cutoff_per_query,
                "result_configuration": {
                    "output_location": pulumi.Output.concat("s3://", self.results.name, "/"),
                    "encryption_configuration": {"encryption_option": "SSE_KMS", "kms_key_arn": kms_key_arn},
                },
            },
            opts=child,
        )
        self.workgroup_name: pulumi.Output[str] = self.workgroup.name

        self.redshift_security_group: aws.ec2.SecurityGroup | None = None
        self.redshift_workgroup: aws.redshiftserverless.Workgroup | None = None
        self.redshift_endpoint: pulumi.Output[str | None] | None = None
        if args.redshift is not None and vpc_id and subnet_ids and client_security_group_id:
            self.redshift_workgroup = self._redshift(
                args.name_prefix,
                args.redshift,
                args.protect,
                kms_key_arn,
                vpc_id,
                subnet_ids,
                client_security_group_id,
                lake_reader=self._lake_reader(args.name_prefix, context, dns_suffix, kms_key_arn),
                region=context.region,
            )
            self.redshift_endpoint = self.redshift_workgroup.endpoints.apply(
                lambda endpoints: endpoints[0].address if endpoints else None
            )
        self.register_outputs(self.outputs())

    def lake_target(self) -> Lake:
        """Where another region's `EventStream` delivers: this lake, under its key, in its region."""
        return self._lake_target

    def allow_producer(
        self,
        name: str,
        cluster_name: pulumi.Input[str],
        namespace: pulumi.Input[str],
        service_account: pulumi.Input[str],
        opts: pulumi.ResourceOptions,
    ) -> aws.eks.PodIdentityAssociation:
        """Let pods of `cluster_name` running as `namespace`/`service_account` assume the producer
        role (EKS Pod Identity). `opts` must carry the cluster region's provider (or a parent in
        that region): the association lives with the cluster. With `producer_vpc_endpoint_id`
        the role puts only through that endpoint, so only a cluster in the endpoint's VPC can
        use it (each other region has its own `EventStream` and role)."""
        if opts.parent is None and opts.provider is None and not opts.providers:
            raise ValueError(
                f"{name}: pass opts with the cluster region's AWS provider (or a parent that has it); "
                "the association would otherwise use the default provider"
            )
        return aws.eks.PodIdentityAssociation(
            name,
            cluster_name=cluster_name,
            namespace=namespace,
            service_account=service_account,
            role_arn=self.producer_role_arn,
            opts=opts,
        )

    def outputs(self) -> dict[str, Any]:
        """What consumers need (camelCase, as stack outputs are)."""
        return {
            "lakeBucketName": self.lake_bucket_name,
            "lakeBucketArn": self.lake_bucket_arn,
            "resultsBucketName": self.results_bucket_name,
            "resultsBucketArn": self.results_bucket_arn,
            "streamName": self.stream_name,
            "streamArn": self.stream_arn,
            "glueDatabaseName": self.glue_database_name,
            "glueTableName": self.glue_table_name,
            "workgroupName": self.workgroup_name,
            "producerRoleArn": self.producer_role_arn,
            **({"redshiftEndpoint": self.redshift_endpoint} if self.redshift_endpoint is not None else {}),
        }

    def _lake_reader(
        self, prefix: str, context: AwsContext, dns_suffix: pulumi.Output[str], kms_key_arn: pulumi.Input[str]
    ) -> aws.iam.Role:
        """The role Redshift loads the lake's events with (`COPY`); it writes nothing to S3."""
        role, _ = inline_policy_role(
            f"{self._name}-redshift-lake-reader",
            description=f"Redshift Serverless reads {prefix}'s events lake (COPY)",
            trust=redshift_trust(),
            policy=pulumi.Output.all(
                context.partition, context.region, dns_suffix, self.lake_bucket_arn, kms_key_arn
            ).apply(lambda v: json.dumps(lake_reader_policy(*v))),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return role

    def _redshift(
        self,
        prefix: str,
        settings: RedshiftSettings,
        protect: bool,
        kms_key_arn: pulumi.Input[str],
        vpc_id: pulumi.Input[str],
        subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]],
        client_security_group_id: pulumi.Input[str],
        lake_reader: aws.iam.Role,
        region: pulumi.Output[str],
    ) -> aws.redshiftserverless.Workgroup:
        """A private Redshift Serverless workgroup: its namespace under the key, the admin password
        made and kept by Redshift, the lake reader as its default role, port 5439 from the client
        group only, and out only to S3."""
        name, identifier = self._name, f"{prefix}-analytics"
        group = aws.ec2.SecurityGroup(
            f"{name}-redshift",
            vpc_id=vpc_id,
            description=f"Redshift Serverless {identifier}: {REDSHIFT_PORT} from the client group only",
            tags={"Name": f"{identifier}-redshift"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        admit_group(
            f"{name}-redshift-clients",
            group,
            client_security_group_id,
            REDSHIFT_PORT,
            "Redshift from the client group",
        )
        # Enhanced VPC routing sends COPY's reads through the VPC: to S3's gateway endpoint, whose
        # addresses are S3's managed prefix list in the region (the group has no other way out).
        s3 = aws.ec2.get_prefix_list_output(
            name=pulumi.Output.concat("com.amazonaws.", region, ".s3"),
            opts=pulumi.InvokeOptions(parent=self),
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-redshift-s3",
            security_group_id=group.id,
            prefix_list_id=s3.id,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            description="COPY from the lake: HTTPS to S3 (the VPC's gateway endpoint)",
            opts=pulumi.ResourceOptions(parent=group),
        )
        namespace = aws.redshiftserverless.Namespace(
            f"{name}-redshift-namespace",
            namespace_name=identifier,
            db_name=settings.database_name,
            admin_username=settings.admin_username,
            manage_admin_password=True,
            admin_password_secret_kms_key_id=kms_key_arn,
            kms_key_id=kms_key_arn,
            log_exports=list(REDSHIFT_LOG_EXPORTS),
            # `COPY … IAM_ROLE default` reads the lake with it.
            iam_roles=[lake_reader.arn],
            default_iam_role_arn=lake_reader.arn,
            opts=pulumi.ResourceOptions(parent=self, protect=protect),
        )
        self.redshift_security_group = group
        return aws.redshiftserverless.Workgroup(
            f"{name}-redshift-workgroup",
            workgroup_name=identifier,
            namespace_name=namespace.namespace_name,
            base_capacity=settings.base_capacity_rpus,
            port=REDSHIFT_PORT,
            publicly_accessible=False,
            enhanced_vpc_routing=True,
            subnet_ids=subnet_ids,
            security_group_ids=[group.id],
            opts=pulumi.ResourceOptions(parent=self),
        )


def _table_parameters(location: str) -> dict[str, str]:
    """The table's properties: GZIP JSON, and partition projection over `year=/month=/day=` so
    Athena needs neither a crawler nor `MSCK REPAIR TABLE` to see a new day."""
    return {
        "EXTERNAL": "TRUE",
        "classification": "json",
        "compressionType": "gzip",
        "projection.enabled": "true",
        "projection.year.type": "integer",
        "projection.year.range": PROJECTED_YEARS,
        "projection.month.type": "integer",
        "projection.month.range": "1,12",
        "projection.month.digits": "2",
        "projection.day.type": "integer",
        "projection.day.range": "1,31",
        "projection.day.digits": "2",
        "storage.location.template": location + "year=${year}/month=${month}/day=${day}/",
    }
