"""RegionAlarms: what pages someone in one region, routed to the region's encrypted SNS topic.

    RegionAlarms  (meridian:observability:RegionAlarms)
    ├── Topic + TopicPolicy   `<prefix>-alarms`, encrypted with the region's key; CloudWatch alarms
    │                         of this account may publish, nothing else
    ├── TopicSubscriptions    from config (`alarmSubscriptions`): e-mail, HTTPS, SMS, SQS, Lambda
    ├── MetricAlarms          Aurora (replica and global lag, CPU, freeable memory, deadlocks),
    │                         ElastiCache per store (CPU, engine CPU, memory, evictions, replication
    │                         lag), NAT gateways (port allocation errors, dropped packets), NLB
    │                         unhealthy hosts, EKS capacity exhausted (pods left unschedulable)
    ├── acm.Certificates      certificates issued outside AWS that must not expire unseen (the
    │                         CDN's origin certificate, in the anchor region), imported for ACM's
    │                         daily DaysToExpiry metric, each with its alarm
    └── Dashboard             `<prefix>`: the same signals as graphs, and the alarms' states

Every threshold comes from `AlarmThresholds`; every alarm notifies the topic when it fires and when
it clears. ElastiCache publishes per node (`CacheClusterId` = `<group>-<shard:04>-<node:03>`), so
each store's alarm takes the maximum (or sum) over its nodes with metric math; metric math allows
10 metrics an alarm, so a bigger store gets one alarm per 10 nodes. The ingress NLB is created by
Kubernetes (its ARN is unknown here), so its alarm is a Metrics Insights query over the region's
NLB target groups. "Nodes at their maximum" shows as pods the scheduler cannot place: Karpenter
adds nodes for them within a minute or two, so pods still unschedulable after
`unschedulableMinutes` mean the node groups and Karpenter's limit are exhausted (EKS's free
`scheduler_pending_pods_UNSCHEDULABLE` metric, Kubernetes 1.28 and later). A watched certificate
(`CertificateWatch`) pages `certificateDaysToExpiry` days before it expires, and when ACM stops
publishing its metric (which it does once the certificate has expired).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import pulumi
import pulumi_aws as aws

from ..core.lookups import AwsContext
from .args import AlarmSubscription, AlarmThresholds
from .policies import topic_policy

__all__ = [
    "CacheWatch",
    "CertificateWatch",
    "RegionAlarms",
    "cache_node_ids",
    "overview_dashboard_body",
]

#: Metric math's limit on the metrics one alarm may read.
MAX_METRICS_PER_ALARM = 10
#: Seconds per datapoint: CloudWatch's basic resolution for these services.
PERIOD = 60
#: ACM publishes `DaysToExpiry` once a day.
DAY = 86400


@dataclass(frozen=True)
class CacheWatch:
    """One Redis store's replication group in the region, as its alarms need it."""

    store: str
    group_id: str
    shards: int
    replicas_per_shard: int
    may_evict: bool  # allowed to evict (a cache alone); else any eviction pages


def cache_node_ids(group_id: str, shards: int, replicas_per_shard: int) -> list[str]:
    """The CacheClusterIds ElastiCache gives a cluster-mode group's nodes: shard, then node."""
    return [
        f"{group_id}-{shard:04d}-{node:03d}"
        for shard in range(1, shards + 1)
        for node in range(1, replicas_per_shard + 2)
    ]


@dataclass(frozen=True)
class CertificateWatch:
    """A certificate issued outside AWS whose expiry pages (an ACM certificate renews itself).

    `key` names the alarm (`<key>-expiry`) and the ACM import (`<key>`); `description` says what
    the certificate is, `renew` how to renew it (both go into the alarm's description).
    """

    key: str
    description: str
    renew: str
    certificate: pulumi.Input[str]
    private_key: pulumi.Input[str]


@dataclass(frozen=True)
class _Signal:
    """One alarm's definition, before it has a topic."""

    key: str
    description: str
    threshold: float
    comparison: str = "GreaterThanThreshold"
    minutes: int | None = None  # default: evaluation_minutes
    missing: str = "notBreaching"


class RegionAlarms(pulumi.ComponentResource):
    """The region's alarms, their SNS topic and its dashboard.

    Args:
        name: the name prefix (`<stack prefix>-<region>`); the topic is `<name>-alarms`.
        region: the AWS region (for the dashboard's widgets).
        kms_key_arn: the region's customer-managed key, for the topic (its key policy must let
            `cloudwatch.amazonaws.com` use it: `RegionKey` does).
        thresholds: `AlarmThresholds`.
        subscriptions: who is notified (`AlarmSubscription`s).
        postgres_cluster_id: the region's Aurora cluster identifier, if it has one.
        postgres_instance_ids: its instances' identifiers (forwarding is measured per reader).
        caches: the region's Redis stores (`CacheWatch`).
        certificates: certificates issued outside AWS whose expiry pages here (`CertificateWatch`).
        nat_gateway_ids: the region's NAT gateways.
        eks_cluster_name: the region's EKS cluster.
        opts: resource options; the region's AWS provider comes from the parent or `providers`.

    Attributes:
        region: the region; topic: the SNS topic; alarms: key → `aws.cloudwatch.MetricAlarm`;
            certificates: key → the `aws.acm.Certificate` imported for its alarm; dashboard.
    """

    def __init__(
        self,
        name: str,
        *,
        region: str,
        kms_key_arn: pulumi.Input[str],
        thresholds: AlarmThresholds,
        subscriptions: Sequence[AlarmSubscription],
        postgres_cluster_id: str | None,
        caches: Sequence[CacheWatch],
        postgres_instance_ids: Sequence[str] = (),
        nat_gateway_ids: Sequence[pulumi.Input[str]],
        eks_cluster_name: pulumi.Input[str],
        certificates: Sequence[CertificateWatch] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("meridian:observability:RegionAlarms", name, None, opts)
        self._name = name
        self.region = region
        self._thresholds = thresholds
        child = pulumi.ResourceOptions(parent=self)
        context = AwsContext.of(self)
        account, partition = context.account, context.partition
        self.topic = aws.sns.Topic(
            f"{name}-alarms", name=f"{name}-alarms", kms_master_key_id=kms_key_arn, opts=child
        )
        aws.sns.TopicPolicy(
            f"{name}-alarms-policy",
            arn=self.topic.arn,
            policy=pulumi.Output.all(self.topic.arn, account, partition).apply(
                lambda v: json.dumps(topic_policy(v[0], v[1], v[2], region))
            ),
            opts=child,
        )
        for i, subscription in enumerate(subscriptions):
            aws.sns.TopicSubscription(
                f"{name}-alarms-{i}",
                topic=self.topic.arn,
                protocol=subscription.protocol,
                endpoint=subscription.endpoint,
                opts=child,
            )
        self.alarms: dict[str, aws.cloudwatch.MetricAlarm] = {}
        self.certificates: dict[str, aws.acm.Certificate] = {}
        self._graphs: list[dict[str, Any]] = []
        if postgres_cluster_id:
            self._aurora(postgres_cluster_id, postgres_instance_ids)
        for cache in caches:
            self._cache(cache)
        for i, nat in enumerate(nat_gateway_ids):
            self._nat(i, nat)
        self._nlb()
        self._capacity(eks_cluster_name)
        for certificate in certificates:
            self._certificate(certificate)
        self.dashboard = self._dashboard()
        self.register_outputs({"topicArn": self.topic.arn, "alarms": len(self.alarms)})

    # --- the signals -------------------------------------------------------------------------

    def _aurora(self, cluster_id: str, instance_ids: Sequence[str]) -> None:
        t = self._thresholds
        cluster = {"DBClusterIdentifier": cluster_id}
        for signal, metric, statistic in (
            (
                _Signal(
                    "aurora-replica-lag", f"{cluster_id}: a reader lags its writer", t.aurora_replica_lag_ms
                ),
                "AuroraReplicaLagMaximum",
                "Maximum",
            ),
            (_Signal("aurora-cpu", f"{cluster_id}: CPU", t.aurora_cpu_percent), "CPUUtilization", "Maximum"),
            (
                _Signal(
                    "aurora-freeable-memory",
                    f"{cluster_id}: free memory",
                    t.aurora_freeable_memory_mib * 1024 * 1024,
                    comparison="LessThanThreshold",
                    missing="breaching",
                ),
                "FreeableMemory",
                "Minimum",
            ),
            (
                _Signal("aurora-deadlocks", f"{cluster_id}: deadlocks", t.aurora_deadlocks_per_second),
                "Deadlocks",
                "Maximum",
            ),
        ):
            self._metric(signal, "AWS/RDS", metric, statistic, cluster)
        # Published by a secondary cluster only (missing data is the writer's normal state), and
        # with a SourceRegion dimension besides the cluster's: a Metrics Insights query over the
        # namespace matches it whatever the dimension set.
        query = (
            'SELECT MAX(AuroraGlobalDBReplicationLag) FROM "AWS/RDS" '
            f"WHERE DBClusterIdentifier = '{cluster_id}'"
        )
        self._query(
            _Signal("aurora-global-lag", f"{cluster_id}: behind the global writer", t.aurora_global_lag_ms),
            query,
        )
        # A secondary's readers forward its region's writes; the writer refuses a forwarded session
        # once its forwarding quota (or max_connections) is full, and that region's writes fail.
        # Published per reader of a secondary only: missing data is the writer's normal state.
        self._over_nodes(
            _Signal(
                "aurora-forwarding-refused", f"{cluster_id}: forwarded write sessions refused", 0, minutes=1
            ),
            "AuroraForwardingReplicaErrorSessionsLimit",
            "SUM",
            instance_ids,
            namespace="AWS/RDS",
            dimension="DBInstanceIdentifier",
        )

    def _cache(self, cache: CacheWatch) -> None:
        t = self._thresholds
        nodes = cache_node_ids(cache.group_id, cache.shards, cache.replicas_per_shard)
        evictions = (
            _Signal(f"{cache.store}-evictions", f"{cache.group_id}: evictions", t.cache_evictions_per_minute)
            if cache.may_evict
            else _Signal(
                f"{cache.store}-evictions", f"{cache.group_id}: any eviction (holds sessions or queues)", 0
            )
        )
        for signal, metric, reduce in (
            (
                _Signal(f"{cache.store}-cpu", f"{cache.group_id}: host CPU", t.cache_cpu_percent),
                "CPUUtilization",
                "MAX",
            ),
            (
                _Signal(
                    f"{cache.store}-engine-cpu", f"{cache.group_id}: engine CPU", t.cache_engine_cpu_percent
                ),
                "EngineCPUUtilization",
                "MAX",
            ),
            (
                _Signal(f"{cache.store}-memory", f"{cache.group_id}: memory used", t.cache_memory_percent),
                "DatabaseMemoryUsagePercentage",
                "MAX",
            ),
            (evictions, "Evictions", "SUM"),
            (
                _Signal(
                    f"{cache.store}-replication-lag",
                    f"{cache.group_id}: replica lag",
                    t.cache_replication_lag_seconds,
                ),
                "ReplicationLag",
                "MAX",
            ),
        ):
            self._over_nodes(signal, metric, reduce, nodes)

    def _nat(self, index: int, nat_id: pulumi.Input[str]) -> None:
        t = self._thresholds
        dims = {"NatGatewayId": nat_id}
        self._metric(
            _Signal(f"nat-{index}-port-allocation", "NAT gateway: port allocation errors", 0),
            "AWS/NATGateway",
            "ErrorPortAllocation",
            "Sum",
            dims,
        )
        self._metric(
            _Signal(f"nat-{index}-dropped", "NAT gateway: dropped packets", t.nat_packets_dropped_per_minute),
            "AWS/NATGateway",
            "PacketsDropCount",
            "Sum",
            dims,
        )

    def _nlb(self) -> None:
        query = 'SELECT MAX(UnHealthyHostCount) FROM SCHEMA("AWS/NetworkELB", LoadBalancer, TargetGroup)'
        self._query(
            _Signal("nlb-unhealthy-hosts", "NLB: unhealthy targets", self._thresholds.nlb_unhealthy_hosts),
            query,
        )

    def _query(self, signal: _Signal, query: str) -> None:
        """An alarm on a Metrics Insights query (one time series), and its graph."""
        self._alarm(
            signal, metric_queries=[{"id": "q", "expression": query, "period": PERIOD, "return_data": True}]
        )
        self._graphs.append({"title": signal.description, "metrics": [[{"expression": query, "id": "q"}]]})

    def _capacity(self, cluster_name: pulumi.Input[str]) -> None:
        t = self._thresholds
        self._metric(
            _Signal(
                "eks-capacity-exhausted",
                "EKS: pods unschedulable (node groups and Karpenter at their limits)",
                0,
                minutes=t.unschedulable_minutes,
            ),
            "AWS/EKS",
            "scheduler_pending_pods_UNSCHEDULABLE",
            "Maximum",
            {"ClusterName": cluster_name},
        )

    def _certificate(self, watch: CertificateWatch) -> None:
        """Import the certificate into ACM, which then publishes its DaysToExpiry daily, and alarm
        on that. ACM's import requires the private key (it refuses a certificate without one). That
        is acceptable: the key is already a secret in the stack's state and in every region's
        gateway Secret; ACM keeps it encrypted, never returns it (an imported certificate cannot be
        exported), and the certificate is associated with no AWS service, so the copy adds no
        place it is served from. Cloudflare offers no notification for Origin CA certificates."""
        if watch.key in self.certificates:
            raise ValueError(f"{self.region}: certificate {watch.key} is already watched")
        imported = aws.acm.Certificate(
            f"{self._name}-{watch.key}",
            certificate_body=watch.certificate,
            private_key=watch.private_key,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.certificates[watch.key] = imported
        days = self._thresholds.certificate_days_to_expiry
        self._metric(
            _Signal(
                f"{watch.key}-expiry",
                f"{watch.description}: fewer than {days} days to expiry, or ACM no longer "
                f"publishes DaysToExpiry (expired, or its import deleted); {watch.renew}",
                days,
                comparison="LessThanThreshold",
                # One datapoint a day, and it is the day's figure: one period decides.
                minutes=1,
                # ACM stops publishing the metric once the certificate has expired: missing data
                # must never read as "OK" here (a fresh import may show ALARM until ACM's first
                # datapoint, within a day).
                missing="breaching",
            ),
            "AWS/CertificateManager",
            "DaysToExpiry",
            "Minimum",
            {"CertificateArn": imported.arn},
            period=DAY,
        )

    # --- building blocks -----------------------------------------------------------------------

    def _metric(
        self,
        signal: _Signal,
        namespace: str,
        metric: str,
        statistic: str,
        dimensions: dict[str, Any],
        period: int = PERIOD,
    ) -> None:
        self._alarm(
            signal,
            namespace=namespace,
            metric_name=metric,
            statistic=statistic,
            dimensions=dimensions,
            period=period,
        )
        self._graphs.append(
            {
                "title": signal.description,
                "metrics": [[namespace, metric, *[x for k, v in dimensions.items() for x in (k, v)]]],
                "stat": statistic,
                **({"period": period} if period != PERIOD else {}),
            }
        )

    def _over_nodes(
        self,
        signal: _Signal,
        metric: str,
        reduce: str,
        nodes: Sequence[str],
        namespace: str = "AWS/ElastiCache",
        dimension: str = "CacheClusterId",
    ) -> None:
        """One alarm per 10 nodes: `reduce` (MAX or SUM) of `metric` over them."""
        chunks = [nodes[i : i + MAX_METRICS_PER_ALARM] for i in range(0, len(nodes), MAX_METRICS_PER_ALARM)]
        for part, chunk in enumerate(chunks):
            queries: list[dict[str, Any]] = [
                {
                    "id": f"n{i}",
                    "metric": {
                        "namespace": namespace,
                        "metric_name": metric,
                        "dimensions": {dimension: node},
                        "period": PERIOD,
                        "stat": "Maximum" if reduce == "MAX" else "Sum",
                    },
                    "return_data": False,
                }
                for i, node in enumerate(chunk)
            ]
            queries.append({"id": "all", "expression": f"{reduce}(METRICS())", "return_data": True})
            key = signal.key if len(chunks) == 1 else f"{signal.key}-{part + 1}"
            self._alarm(replace(signal, key=key), metric_queries=queries)
        self._graphs.append(
            {
                "title": signal.description,
                "metrics": [[namespace, metric, dimension, node] for node in nodes],
                "stat": "Maximum",
            }
        )

    def _alarm(self, signal: _Signal, **metric: Any) -> None:
        minutes = signal.minutes or self._thresholds.evaluation_minutes
        self.alarms[signal.key] = aws.cloudwatch.MetricAlarm(
            f"{self._name}-{signal.key}",
            name=f"{self._name}-{signal.key}",
            alarm_description=signal.description,
            comparison_operator=signal.comparison,
            threshold=signal.threshold,
            evaluation_periods=minutes,
            datapoints_to_alarm=minutes,
            treat_missing_data=signal.missing,
            alarm_actions=[self.topic.arn],
            ok_actions=[self.topic.arn],
            opts=pulumi.ResourceOptions(parent=self),
            **metric,
        )

    def _dashboard(self) -> aws.cloudwatch.Dashboard:
        alarm_arns = [a.arn for a in self.alarms.values()]
        graphs = self._graphs

        def body(values: list[Any]) -> str:
            arns, resolved = values[0], values[1]
            widgets: list[dict[str, Any]] = [_alarm_widget(f"{self.region} alarms", arns, 0)]
            for i, graph in enumerate(resolved):
                widgets.append(
                    {
                        "type": "metric",
                        "x": (i % 3) * 8,
                        "y": 6 + (i // 3) * 6,
                        "width": 8,
                        "height": 6,
                        "properties": {
                            "region": self.region,
                            "view": "timeSeries",
                            "period": PERIOD,
                            **graph,
                        },
                    }
                )
            return json.dumps({"widgets": widgets})

        return aws.cloudwatch.Dashboard(
            f"{self._name}-dashboard",
            dashboard_name=self._name,
            dashboard_body=pulumi.Output.all(
                pulumi.Output.all(*alarm_arns), pulumi.Output.from_input(graphs)
            ).apply(body),
            opts=pulumi.ResourceOptions(parent=self),
        )


def _alarm_widget(title: str, arns: Sequence[str], y: int) -> dict[str, Any]:
    return {
        "type": "alarm",
        "x": 0,
        "y": y,
        "width": 24,
        "height": 6,
        "properties": {"title": title, "alarms": list(arns)},
    }


def overview_dashboard_body(regions: Sequence[RegionAlarms]) -> pulumi.Output[str]:
    """The body of one dashboard over every region: each region's alarm states, a row each."""
    arns = [pulumi.Output.all(*[a.arn for a in r.alarms.values()]) for r in regions]
    titles = [f"{r.region} alarms" for r in regions]

    def body(per_region: list[list[str]]) -> str:
        return json.dumps(
            {
                "widgets": [
                    _alarm_widget(title, a, 6 * i)
                    for i, (title, a) in enumerate(zip(titles, per_region, strict=True))
                ]
            }
        )

    return pulumi.Output.all(*arns).apply(body)
