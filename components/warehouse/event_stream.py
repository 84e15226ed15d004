"""EventStream: one region's Firehose stream into the analytics lake of another region.

    EventStream  (meridian:warehouse:EventStream)
    ├── LogGroup + Stream  `/aws/kinesisfirehose/<prefix>-events`: delivery errors, under the
    │                      region's key
    ├── Role               assumed by Firehose: put/get/list on the lake, the lake's key through S3
    │                      in the lake's region only, its log stream
    ├── DeliveryStream     `<prefix>-events`: Direct PUT, at rest under the region's key, into the
    │                      lake's `events/…` like the warehouse's own stream (the lake's key)
    └── Role (producer)    `firehose:PutRecord(Batch)` on this stream only, through the region's
                           Firehose interface endpoint only, for EKS Pod Identity of this region's
                           clusters

A producer puts its events into a stream of its own region, through its VPC's Firehose endpoint,
so its pods need no way out beyond the VPC; Firehose carries the batches to the lake's region
(inter-region data transfer, billed per GB). The lake's bucket policy denies only plain HTTP and its
key policy delegates to IAM, so this stream's role is admitted by its own IAM policy.
`AnalyticsWarehouse` declares its home region's stream with the same `declare_stream`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from ..core.iam import inline_policy_role
from ..core.logs import encrypted_log_group
from ..core.lookups import AwsContext
from ..core.policies import service_trust
from .args import WarehouseArgs
from .policies import firehose_delivery_policy, producer_policy, producer_trust

__all__ = [
    "DELIVERY_LOG_STREAM",
    "ERRORS_PREFIX",
    "EVENTS_PREFIX",
    "EventStream",
    "Lake",
    "StreamParts",
    "declare_stream",
]

#: Where the stream writes: Hive-style date partitions (UTC arrival time), which the table projects.
EVENTS_PREFIX = "events/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/"
#: Firehose requires an error prefix once the prefix has expressions, with the error type in it.
ERRORS_PREFIX = (
    "errors/!{firehose:error-output-type}/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/"
)
#: The stream's delivery log stream (Firehose writes to it but does not create it).
DELIVERY_LOG_STREAM = "DestinationDelivery"


@dataclass(frozen=True)
class Lake:
    """Where a stream delivers: the lake bucket, the key its objects are under, the lake's region
    (where S3 uses that key)."""

    bucket_arn: pulumi.Input[str]
    key_arn: pulumi.Input[str]
    region: pulumi.Input[str]


@dataclass(frozen=True)
class StreamParts:
    """A delivery stream and the role its producers assume."""

    stream: aws.kinesis.FirehoseDeliveryStream
    producer_role: aws.iam.Role

    @property
    def name(self) -> pulumi.Output[str]:
        return self.stream.name

    @property
    def arn(self) -> pulumi.Output[str]:
        return self.stream.arn

    @property
    def producer_role_arn(self) -> pulumi.Output[str]:
        return self.producer_role.arn


def declare_stream(
    name: str,
    args: WarehouseArgs,
    *,
    lake: Lake,
    stream_key_arn: pulumi.Input[str],
    cluster_region: str,
    vpc_endpoint_id: pulumi.Input[str] | None,
    context: AwsContext,
    opts: pulumi.ResourceOptions,
) -> StreamParts:
    """A delivery stream into `lake`, in the region of `opts`' provider (or parent), its Firehose
    role, its error log under `stream_key_arn` (a key of the stream's region), and its producers'
    role: assumable by clusters `<prefix>-…` of `cluster_region` (`*`: any), putting into this
    stream only (through `vpc_endpoint_id` only, when given). `context` is the stream's region's
    (`AwsContext.of` the component). Children are named `<name>-…`."""
    stream_name = f"{args.name_prefix}-events"
    log_group = encrypted_log_group(
        f"{name}-delivery-log",
        name=f"/aws/kinesisfirehose/{stream_name}",
        kms_key_arn=stream_key_arn,
        retention_days=args.log_retention_days,
        protect=args.protect,
        opts=opts,
    )
    log_stream = aws.cloudwatch.LogStream(
        f"{name}-delivery-log-stream",
        name=DELIVERY_LOG_STREAM,
        log_group_name=log_group.name,
        opts=pulumi.ResourceOptions(parent=log_group),
    )
    role, role_policy = inline_policy_role(
        f"{name}-firehose",
        description=f"Firehose {stream_name} delivers to the events lake",
        # Firehose assumes its role presenting the account's id (Firehose developer guide,
        # "Grant Firehose access to an Amazon S3 destination"): no other account's stream can.
        trust=context.account.apply(
            lambda account: json.dumps(service_trust("firehose.amazonaws.com", external_id=account))
        ),
        # S3 uses the lake's key in the lake's region, whichever region the stream is in; the
        # stream's delivery errors go to its own region's log group.
        policy=pulumi.Output.all(
            lake.bucket_arn, lake.key_arn, lake.region, context.dns_suffix, log_group.arn
        ).apply(
            lambda v: json.dumps(
                firehose_delivery_policy(v[0], v[1], v[2], v[3], f"{v[4]}:log-stream:{DELIVERY_LOG_STREAM}")
            )
        ),
        opts=opts,
    )
    stream = aws.kinesis.FirehoseDeliveryStream(
        f"{name}-stream",
        name=stream_name,
        destination="extended_s3",
        # At rest in Firehose: a key of the stream's own region.
        server_side_encryption={
            "enabled": True,
            "key_type": "CUSTOMER_MANAGED_CMK",
            "key_arn": stream_key_arn,
        },
        extended_s3_configuration={
            "role_arn": role.arn,
            "bucket_arn": lake.bucket_arn,
            "prefix": EVENTS_PREFIX,
            "error_output_prefix": ERRORS_PREFIX,
            "buffering_size": args.buffer_mib,
            "buffering_interval": args.buffer_seconds,
            "compression_format": "GZIP",
            # The lake's objects: the lake's key.
            "kms_key_arn": lake.key_arn,
            # One JSON object a line, as the table's SerDe reads them, whatever producers send.
            "processing_configuration": {
                "enabled": True,
                "processors": [{"type": "AppendDelimiterToRecord"}],
            },
            "cloudwatch_logging_options": {
                "enabled": True,
                "log_group_name": log_group.name,
                "log_stream_name": log_stream.name,
            },
        },
        # Firehose checks its role when the stream is created: the permissions come first.
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[role_policy])),
    )
    producer_role, _ = inline_policy_role(
        f"{name}-producer",
        description=f"Pods that put events into {stream_name} (EKS Pod Identity)",
        trust=pulumi.Output.all(context.partition, context.account).apply(
            lambda v: json.dumps(producer_trust(v[0], v[1], args.name_prefix, cluster_region))
        ),
        policy=pulumi.Output.all(stream.arn, vpc_endpoint_id).apply(
            lambda v: json.dumps(producer_policy(v[0], v[1]))
        ),
        opts=opts,
    )
    return StreamParts(stream=stream, producer_role=producer_role)


class EventStream(pulumi.ComponentResource):
    """A region's stream into another region's lake (see the module docstring for its parts).

    Args:
        name: logical name prefix of every child.
        args: the warehouse's validated `WarehouseArgs` (name prefix, buffering, log retention,
            protection): every stream of a lake buffers and keeps its errors alike.
        region: this stream's region (its producers' clusters are there); `opts` must carry its
            provider.
        lake: the `Lake` it delivers into (`AnalyticsWarehouse.lake_target()`).
        kms_key_arn: this region's customer-managed key (the stream at rest, its log group).
        vpc_endpoint_id: the region's Firehose interface endpoint, the only way its producer role
            may put (None: any way).
        opts: resource options with the region's provider (`RegionStack.pinned`).

    Attributes:
        stream, name, arn: the `aws.kinesis.FirehoseDeliveryStream`, its name and ARN.
        producer_role, producer_role_arn: the role its producers assume (EKS Pod Identity).
    """

    def __init__(
        self,
        name: str,
        args: WarehouseArgs,
        *,
        region: str,
        lake: Lake,
        kms_key_arn: pulumi.Input[str],
        vpc_endpoint_id: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        if opts is None or (opts.provider is None and not opts.providers and opts.parent is None):
            raise ValueError(
                f"{name}: pass opts with {region}'s AWS provider (RegionStack.pinned); the stream "
                "would otherwise use the default provider"
            )
        super().__init__("meridian:warehouse:EventStream", name, None, opts)
        parts = declare_stream(
            name,
            args,
            lake=lake,
            stream_key_arn=kms_key_arn,
            cluster_region=region,
            vpc_endpoint_id=vpc_endpoint_id,
            context=AwsContext.of(self),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.stream, self.producer_role = parts.stream, parts.producer_role
        self.name: pulumi.Output[str] = parts.name
        self.arn: pulumi.Output[str] = parts.arn
        self.producer_role_arn: pulumi.Output[str] = parts.producer_role_arn
        self.register_outputs(
            {"streamName": self.name, "streamArn": self.arn, "producerRoleArn": self.producer_role_arn}
        )
