"""Alarms, their topics and dashboards: every alarm the issue lists exists in every region, with its
threshold from config and the region's topic as its action; and the config rules that guard them."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from components.network.subnets import Tier
from components.observability.region_alarms import cache_node_ids
from infra.config.component_args import region_args
from infra.config.loading import validate_config
from infra.plan.mocks import RecordedResource
from infra.plan.run import Plan, plan_after
from tests.support import PROJECT_DIR, assert_issue, plan_of, rejected

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
ACM_CERTIFICATE = "aws:acm/certificate:Certificate"
ORIGIN_CERTIFICATE = "cloudflare:index/originCaCertificate:OriginCaCertificate"
ACCOUNT = "123456789012"


def alarms_by_region(plan: Plan) -> dict[str, dict[str, RecordedResource]]:
    """region → alarm key (its name without `meridian-<stack>-<region>-`) → the alarm."""
    found: dict[str, dict[str, RecordedResource]] = {}
    for alarm in plan.of_type(ALARM):
        region = plan.regions[alarm.urn]
        assert region is not None
        prefix = f"meridian-{plan.stack}-{region}-"
        found.setdefault(region, {})[str(alarm.inputs["name"]).removeprefix(prefix)] = alarm
    return found


def region_keys(plan: Plan) -> dict[str | None, RecordedResource]:
    """Each region's own KMS key (the anchor region also holds the audit trail's)."""
    return {
        plan.regions[k.urn]: k
        for k in plan.of_type("aws:kms/key:Key")
        if k.name.endswith(f"-{plan.regions[k.urn]}-key")
    }


def expected_keys(plan: Plan, region: str) -> set[str]:
    """What the issue asks for in *region*, from what the plan holds there."""
    config = plan.config
    assert config is not None
    keys = {"nlb-unhealthy-hosts", "eks-capacity-exhausted"}
    if region == config.anchor_region:
        keys |= {"origin-certificate-expiry", "origin-pull-certificate-expiry"}
    if region in config.postgres_regions():
        keys |= {
            "aurora-replica-lag",
            "aurora-global-lag",
            "aurora-forwarding-refused",
            "aurora-cpu",
            "aurora-freeable-memory",
            "aurora-deadlocks",
        }
    for store in config.redis.stores:
        keys |= {f"{store}-{k}" for k in ("cpu", "engine-cpu", "memory", "evictions", "replication-lag")}
    nats = [n for n in plan.of_type("aws:ec2/natGateway:NatGateway") if plan.regions[n.urn] == region]
    keys |= {f"nat-{i}-{k}" for i in range(len(nats)) for k in ("port-allocation", "dropped")}
    return keys


def test_every_alarm_the_issue_lists_exists_in_every_region_with_the_regions_topic(stack_plan: Plan) -> None:
    by_region = alarms_by_region(stack_plan)
    config = stack_plan.config
    assert config is not None
    assert set(by_region) == {r.name for r in config.regions}
    for region, alarms in by_region.items():
        assert set(alarms) == expected_keys(stack_plan, region), region
        topic = f"arn:aws:sns:{region}:{ACCOUNT}:meridian-{stack_plan.stack}-{region}-alarms"
        for key, alarm in alarms.items():
            assert alarm.inputs["alarmActions"] == [topic] == alarm.inputs["okActions"], (region, key)
            assert alarm.inputs["evaluationPeriods"] == alarm.inputs["datapointsToAlarm"]


@pytest.mark.slow
def test_thresholds_come_from_config(prod_values: dict[str, Any]) -> None:
    prod_values["observability"]["thresholds"] = {
        "auroraCpuPercent": 71,
        "auroraFreeableMemoryMib": 512,
        "auroraGlobalLagMs": 750,
        "cacheEngineCpuPercent": 66,
        "cacheEvictionsPerMinute": 25,
        "natPacketsDroppedPerMinute": 7,
        "evaluationMinutes": 3,
        "unschedulableMinutes": 15,
        "cacheCpuPercent": 61,
        "cacheMemoryPercent": 62,
        "cacheReplicationLagSeconds": 9,
        "auroraReplicaLagMs": 333,
        "auroraDeadlocksPerSecond": 0.5,
        "nlbUnhealthyHosts": 2,
        "certificateDaysToExpiry": 59,
    }
    alarms = alarms_by_region(plan_after(PROJECT_DIR, "prod", prod_values))
    home = alarms["us-east-1"]
    assert home["aurora-cpu"].inputs["threshold"] == 71
    assert home["aurora-freeable-memory"].inputs["threshold"] == 512 * 1024 * 1024
    assert home["aurora-freeable-memory"].inputs["comparisonOperator"] == "LessThanThreshold"
    global_lag = alarms["eu-west-1"]["aurora-global-lag"]
    assert global_lag.inputs["threshold"] == 750
    # Every dimension set the metric comes with (SourceRegion too), for this cluster only.
    (query,) = global_lag.inputs["metricQueries"]
    assert query["expression"] == (
        'SELECT MAX(AuroraGlobalDBReplicationLag) FROM "AWS/RDS" '
        "WHERE DBClusterIdentifier = 'meridian-prod-eu-west-1-postgres'"
    )
    assert home["cache-engine-cpu"].inputs["threshold"] == 66
    assert home["nat-2-dropped"].inputs["threshold"] == 7
    assert home["aurora-cpu"].inputs["evaluationPeriods"] == 3
    assert home["eks-capacity-exhausted"].inputs["evaluationPeriods"] == 15
    # Only a store that may evict gets the configured rate; sessions and queues page on any.
    assert home["cache-evictions"].inputs["threshold"] == 25
    assert [
        home[k].inputs["threshold"] for k in ("cache-cpu", "cache-memory", "sessions-replication-lag")
    ] == [61, 62, 9]
    assert home["aurora-replica-lag"].inputs["threshold"] == 333
    assert home["aurora-deadlocks"].inputs["threshold"] == 0.5
    assert home["nlb-unhealthy-hosts"].inputs["threshold"] == 2
    assert home["sessions-evictions"].inputs["threshold"] == 0 == home["queues-evictions"].inputs["threshold"]
    assert home["origin-certificate-expiry"].inputs["threshold"] == 59
    assert home["origin-pull-certificate-expiry"].inputs["threshold"] == 59


#: Each certificate the edge presents, its watch's key, and what names its PEM and its private key
#: in the plan: the Origin CA certificate every gateway presents to Cloudflare, and the client
#: certificate the zone presents to every gateway (Authenticated Origin Pulls).
WATCHED_CERTIFICATES = [
    pytest.param("origin-certificate", ORIGIN_CERTIFICATE, "-origin-key", "cdn-edge.md", id="origin"),
    pytest.param(
        "origin-pull-certificate",
        "tls:index/locallySignedCert:LocallySignedCert",
        "-origin-pull-key",
        "pulumi up",
        id="origin-pull",
    ),
]


@pytest.mark.parametrize(("watch", "certificate_type", "key_suffix", "renew"), WATCHED_CERTIFICATES)
def test_the_edges_certificates_page_in_the_anchor_region_before_they_expire(
    stack_plan: Plan, watch: str, certificate_type: str, key_suffix: str, renew: str
) -> None:
    """Every region presents the Origin CA certificate and requires the origin-pull one: either
    expired takes every region down at once. Each is imported into ACM in the anchor region, and
    ACM's DaysToExpiry for that import pages the anchor's topic."""
    config = stack_plan.config
    assert config is not None
    anchor = config.anchor_region
    (provider,) = [p for p in stack_plan.of_type("pulumi:providers:aws") if p.name == f"{anchor}-aws"]
    (imported,) = [c for c in stack_plan.of_type(ACM_CERTIFICATE) if c.name.endswith(f"-{watch}")]
    (certificate,) = stack_plan.of_type(certificate_type)
    (key,) = [k for k in stack_plan.of_type("tls:index/privateKey:PrivateKey") if k.name.endswith(key_suffix)]
    assert imported.provider == provider.urn
    assert imported.property_dependencies["certificateBody"] == [certificate.urn]
    assert key.urn in imported.property_dependencies["privateKey"]
    assert imported.inputs["privateKey"] == "[secret]"
    alarm = alarms_by_region(stack_plan)[anchor][f"{watch}-expiry"]
    assert alarm.provider == provider.urn
    inputs = alarm.inputs
    assert (inputs["namespace"], inputs["metricName"], inputs["statistic"], inputs["period"]) == (
        "AWS/CertificateManager",
        "DaysToExpiry",
        "Minimum",
        86400,  # ACM publishes it daily
    )
    assert list(inputs["dimensions"]) == ["CertificateArn"]
    assert imported.name in inputs["dimensions"]["CertificateArn"]
    assert alarm.property_dependencies["dimensions"] == [imported.urn]
    assert inputs["comparisonOperator"] == "LessThanThreshold"
    assert inputs["threshold"] == config.observability.thresholds.certificate_days_to_expiry == 45
    # ACM stops publishing once the certificate has expired: that must not read as OK.
    assert inputs["treatMissingData"] == "breaching"
    topic = f"arn:aws:sns:{anchor}:{ACCOUNT}:meridian-{stack_plan.stack}-{anchor}-alarms"
    assert inputs["alarmActions"] == [topic] == inputs["okActions"]
    assert config.domain in inputs["alarmDescription"] and renew in inputs["alarmDescription"]


def test_the_origin_pull_certificate_is_renewed_before_its_alarm_fires(stack_plan: Plan) -> None:
    """`pulumi up` renews the client certificate in its last 60 days, before the 45-day warning:
    the alarm fires only when no `pulumi up` has run since renewal fell due, and the next clears it."""
    config = stack_plan.config
    assert config is not None
    (certificate,) = stack_plan.of_type("tls:index/locallySignedCert:LocallySignedCert")
    renewal_days = certificate.inputs["earlyRenewalHours"] / 24
    assert config.observability.thresholds.certificate_days_to_expiry < renewal_days
    assert renewal_days < config.cdn.origin_pull_certificate_days


def test_refused_forwarded_writes_alarm_over_every_instance_of_the_cluster(stack_plan: Plan) -> None:
    """Aurora publishes the forwarding metrics per reader of a secondary: the alarm sums every
    instance of the region's cluster, so a region whose writes are refused at the writer pages."""
    instances = stack_plan.of_type("aws:rds/clusterInstance:ClusterInstance")
    for region, alarms in alarms_by_region(stack_plan).items():
        alarm = alarms["aurora-forwarding-refused"]
        queries = alarm.inputs["metricQueries"]
        read = {q["metric"]["dimensions"]["DBInstanceIdentifier"] for q in queries if "metric" in q}
        assert read == {i.inputs["identifier"] for i in instances if stack_plan.regions[i.urn] == region}
        assert {q["metric"]["metricName"] for q in queries if "metric" in q} == {
            "AuroraForwardingReplicaErrorSessionsLimit"
        }
        assert queries[-1]["expression"] == "SUM(METRICS())" and alarm.inputs["threshold"] == 0
        assert alarm.inputs["treatMissingData"] == "notBreaching"
        assert alarm.inputs["evaluationPeriods"] == 1 == alarm.inputs["datapointsToAlarm"]  # any minute


def test_a_cache_alarm_reads_every_node_of_its_group(prod_plan: Plan) -> None:
    alarm = alarms_by_region(prod_plan)["us-east-1"]["cache-engine-cpu"]
    queries = alarm.inputs["metricQueries"]
    nodes = [q["metric"]["dimensions"]["CacheClusterId"] for q in queries if "metric" in q]
    # prod's primary cache: 3 shards of a primary and 2 replicas each.
    assert nodes == cache_node_ids("meridian-prod-us-east-1-cache", 3, 2)
    assert nodes[0] == "meridian-prod-us-east-1-cache-0001-001" and nodes[-1].endswith("-0003-003")
    assert {q["metric"]["metricName"] for q in queries if "metric" in q} == {"EngineCPUUtilization"}
    (expression,) = [q for q in queries if "expression" in q]
    assert expression == {"id": "all", "expression": "MAX(METRICS())", "returnData": True}


@pytest.mark.slow
def test_a_store_of_more_than_ten_nodes_gets_an_alarm_per_ten(prod_values: dict[str, Any]) -> None:
    prod_values["sizes"]["primary"]["redis"]["cache"] = {
        "nodeType": "cache.r7g.xlarge",
        "shards": 4,
        "replicasPerShard": 2,
    }
    alarms = alarms_by_region(plan_after(PROJECT_DIR, "prod", prod_values))["us-east-1"]
    parts = sorted(k for k in alarms if k.startswith("cache-cpu"))
    assert parts == ["cache-cpu-1", "cache-cpu-2"]
    sizes = [len([q for q in alarms[k].inputs["metricQueries"] if "metric" in q]) for k in parts]
    assert sizes == [10, 2]


def test_the_topic_is_encrypted_and_only_this_accounts_alarms_publish(prod_plan: Plan) -> None:
    topics = {prod_plan.regions[t.urn]: t for t in prod_plan.of_type(TOPIC)}
    assert len(topics) == 8
    keys = region_keys(prod_plan)
    for region, topic in topics.items():
        assert topic.inputs["kmsMasterKeyId"].startswith(f"arn:aws:kms:{region}:{ACCOUNT}:key/")
        statements = json.loads(keys[region].inputs["policy"])["Statement"]
        (alarms,) = [s for s in statements if s["Sid"] == "CloudWatchAlarmsPublishToTheEncryptedTopic"]
        assert alarms["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
        assert alarms["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    (policy,) = [
        p
        for p in prod_plan.of_type("aws:sns/topicPolicy:TopicPolicy")
        if prod_plan.regions[p.urn] == "eu-west-1"
    ]
    statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
    publish = statements["ThisAccountsAlarmsPublish"]
    assert (
        publish["Principal"] == {"Service": "cloudwatch.amazonaws.com"} and publish["Action"] == "sns:Publish"
    )
    assert (
        publish["Condition"]["ArnLike"]["aws:SourceArn"] == f"arn:aws:cloudwatch:eu-west-1:{ACCOUNT}:alarm:*"
    )
    assert statements["TlsOnly"]["Effect"] == "Deny"


def test_subscriptions_come_from_config(prod_plan: Plan) -> None:
    subscriptions = prod_plan.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert len(subscriptions) == 8  # one address, in each region
    assert {(s.inputs["protocol"], s.inputs["endpoint"]) for s in subscriptions} == {
        ("email", "oncall@meridian.example.com")
    }


def test_a_dashboard_per_region_and_one_overview_in_the_anchor_region(prod_plan: Plan) -> None:
    dashboards = {
        d.inputs["dashboardName"]: d for d in prod_plan.of_type("aws:cloudwatch/dashboard:Dashboard")
    }
    assert len(dashboards) == 9
    overview = dashboards["meridian-prod-overview"]
    assert prod_plan.regions[overview.urn] == "us-east-1"
    widgets = json.loads(overview.inputs["dashboardBody"])["widgets"]
    alarm_count = len(prod_plan.of_type(ALARM))
    assert sum(len(w["properties"]["alarms"]) for w in widgets) == alarm_count
    regional = json.loads(dashboards["meridian-prod-af-south-1"].inputs["dashboardBody"])["widgets"]
    assert regional[0]["type"] == "alarm" and all(
        w["properties"].get("region", "af-south-1") == "af-south-1" for w in regional
    )
    assert len(regional) == 1 + len(alarms_by_region(prod_plan)["af-south-1"])  # a graph for each alarm


@pytest.mark.parametrize(
    ("change", "path", "fragment"),
    [
        (
            {"alarmSubscriptions": []},
            "meridian:observability.alarmSubscriptions",
            "prod alarms must reach someone",
        ),
        (
            {"alarmSubscriptions": [{"protocol": "http", "endpoint": "http://pager.example.com"}]},
            "meridian:observability.alarmSubscriptions[0].protocol",
            "'email', 'https', 'sms', 'sqs' or 'lambda'",
        ),
        (
            {"thresholds": {"auroraCpuPercent": 120}},
            "meridian:observability.thresholds.auroraCpuPercent",
            "less than or equal to 100",
        ),
        (
            {"thresholds": {"evaluationMinutes": 0}},
            "meridian:observability.thresholds.evaluationMinutes",
            "greater than or equal to 1",
        ),
        (
            # prod's origin certificate is valid 5,475 days: the alarm would fire from day one.
            {"thresholds": {"certificateDaysToExpiry": 5475}},
            "meridian:observability.thresholds.certificateDaysToExpiry",
            "5475 is not below cdn.originCertificateDays (5475)",
        ),
        (
            # the origin-pull certificate renews in its last 60 days: at 60 the alarm would fire
            # each year before a `pulumi up` could renew it.
            {"thresholds": {"certificateDaysToExpiry": 60}},
            "meridian:observability.thresholds.certificateDaysToExpiry",
            "60 is not below the origin-pull certificate's renewal window (60 days)",
        ),
    ],
)
def test_bad_observability_config_is_refused(
    prod_values: dict[str, Any], change: dict[str, Any], path: str, fragment: str
) -> None:
    prod_values["observability"].update(change)
    assert_issue(rejected(prod_values), path, fragment)


def test_prod_keeps_audit_logs_a_year(prod_values: dict[str, Any], staging_values: dict[str, Any]) -> None:
    prod_values["eks"]["logRetentionDays"] = 90
    assert_issue(rejected(prod_values), "meridian:eks.logRetentionDays", "at least 365 days", "got 90")
    staging_values["eks"]["logRetentionDays"] = 90
    validate_config(staging_values, "Pulumi.staging.yaml")


def test_the_staging_plan_has_the_same_alarms_per_region() -> None:
    plan = plan_of("staging")
    by_region = alarms_by_region(plan)
    assert set(by_region["us-east-1"]) == expected_keys(plan, "us-east-1")


# --- metrics and logs in every cluster; Grafana in the anchor region --------------------------


def test_every_region_has_its_workspace_collector_and_log_shipper(staging_values: dict[str, Any]) -> None:
    """With the managed collector (`collector: managed`); the default, the agent, is below. Staging:
    the wiring is per region, the same in any stack, and two regions plan faster than eight."""
    staging_values["observability"]["telemetry"] = {"logRetentionDays": 180, "collector": "managed"}
    plan = plan_after(PROJECT_DIR, "staging", staging_values)
    regions = {r["name"] for r in staging_values["regions"]}
    keys = region_keys(plan)

    def per_region(typ: str, chart: str | None = None) -> dict[str | None, RecordedResource]:
        found = [r for r in plan.of_type(typ) if chart is None or r.inputs.get("chart") == chart]
        assert len(found) == len(regions), typ
        return {plan.regions[r.urn]: r for r in found}

    workspaces = per_region("aws:amp/workspace:Workspace")
    scrapers = per_region("aws:amp/scraper:Scraper")
    releases = per_region("kubernetes:helm.sh/v3:Release", chart="aws-for-fluent-bit")
    for region in regions:
        assert workspaces[region].inputs["kmsKeyArn"].startswith(f"arn:aws:kms:{region}:")
        assert (
            scrapers[region]
            .inputs["source"]["eks"]["clusterArn"]
            .endswith(f"cluster/meridian-staging-{region}")
        )
        assert releases[region].inputs["repositoryOpts"]["repo"] == "https://aws.github.io/eks-charts"
        statements = json.loads(keys[region].inputs["policy"])["Statement"]
        (amp,) = [s for s in statements if s["Sid"] == "ManagedPrometheusEncryptsThisAccountsWorkspaces"]
        assert amp["Condition"]["StringEquals"]["kms:ViaService"] == f"aps.{region}.amazonaws.com"
    containers = [
        g
        for g in plan.of_type("aws:cloudwatch/logGroup:LogGroup")
        if g.inputs["name"].endswith("/containers")
    ]
    assert len(containers) == len(regions) and {g.inputs["retentionInDays"] for g in containers} == {180}
    assert not plan.of_type("meridian:telemetry:PrometheusAgent")
    # The managed collector's ENIs are in the private subnets: the whole tier may reach 15020.
    config = plan.config
    assert config is not None
    policies = scraper_policies(plan)
    assert set(policies) == regions
    for entry in region_args(config, "staging"):
        private = [str(s.cidr) for s in entry.network.subnet_plan().tier(Tier.PRIVATE)]
        (rule,) = policies[entry.region].inputs["spec"]["ingress"]
        assert rule == {
            "from": [{"ipBlock": {"cidr": c}} for c in private],
            "ports": [{"protocol": "TCP", "port": 15020}],
        }


def scraper_policies(plan: Plan) -> dict[str | None, RecordedResource]:
    """Each region's `allow-metrics-scraper` policy, in the API's namespace, ingress only."""
    policies = [
        p for p in plan.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
        if p.inputs["metadata"]["name"] == "allow-metrics-scraper"
    ]  # fmt: skip
    for policy in policies:
        assert policy.inputs["metadata"]["namespace"] == "api"
        assert policy.inputs["spec"]["policyTypes"] == ["Ingress"]
    return {plan.regions[p.urn]: p for p in policies}


def test_by_default_every_region_runs_prometheus_agents_and_no_managed_collector(prod_plan: Plan) -> None:
    assert not prod_plan.of_type("aws:amp/scraper:Scraper")
    agents = {prod_plan.regions[a.urn]: a for a in prod_plan.of_type("meridian:telemetry:PrometheusAgent")}
    assert len(agents) == 8
    deployments = {
        prod_plan.regions[d.urn]: d
        for d in prod_plan.of_type("kubernetes:apps/v1:Deployment")
        if d.inputs["metadata"]["name"] == "prometheus-agent"
    }
    assert set(deployments) == set(agents)
    for region, deployment in deployments.items():
        assert deployment.inputs["spec"]["replicas"] == 2
        config = yaml.safe_load(deployment_config(prod_plan, region))
        assert config["global"]["external_labels"]["cluster"] == f"meridian-prod-{region}"
        (target,) = config["remote_write"]
        assert target["url"].startswith(f"https://aps-workspaces.{region}.amazonaws.com/workspaces/ws-")
        assert target["sigv4"] == {"region": region}


def deployment_config(plan: Plan, region: str | None) -> str:
    (config_map,) = [
        c for c in plan.of_type("kubernetes:core/v1:ConfigMap")
        if c.inputs["metadata"]["name"] == "prometheus-agent" and plan.regions[c.urn] == region
    ]  # fmt: skip
    return str(config_map.inputs["data"]["prometheus.yml"])


def test_only_the_agents_pods_may_reach_the_api_sidecars_metrics_port(prod_plan: Plan) -> None:
    policies = scraper_policies(prod_plan)
    assert len(policies) == 8
    for policy in policies.values():
        (rule,) = policy.inputs["spec"]["ingress"]
        assert rule == {
            "from": [
                {
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "prometheus-agent"}},
                    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus-agent"}},
                }
            ],
            "ports": [{"protocol": "TCP", "port": 15020}],
        }
    # The very pods of the agents' Deployment, in the namespace they run in.
    for deployment in prod_plan.of_type("kubernetes:apps/v1:Deployment"):
        if deployment.inputs["metadata"]["name"] == "prometheus-agent":
            assert deployment.inputs["metadata"]["namespace"] == "prometheus-agent"
            assert deployment.inputs["spec"]["template"]["metadata"]["labels"] == {
                "app.kubernetes.io/name": "prometheus-agent"
            }


def test_one_grafana_workspace_in_the_anchor_region(prod_plan: Plan) -> None:
    (workspace,) = prod_plan.of_type("aws:grafana/workspace:Workspace")
    assert prod_plan.regions[workspace.urn] == "us-east-1"
    assert workspace.inputs["authenticationProviders"] == ["AWS_SSO"]
    assert sorted(workspace.inputs["dataSources"]) == ["CLOUDWATCH", "PROMETHEUS"]


# --- the audit trail and the warehouse, in the anchor region ----------------------------------


def by_bucket(plan: Plan, typ: str) -> dict[str, RecordedResource]:
    """A bucket's configuration resources of *typ*, by the bucket's name."""
    return {str(r.inputs["bucket"]): r for r in plan.of_type(typ)}


def test_the_trail_records_every_region_into_a_locked_bucket(stack_plan: Plan) -> None:
    (trail,) = stack_plan.of_type("aws:cloudtrail/trail:Trail")
    assert stack_plan.regions[trail.urn] == "us-east-1"  # the anchor region
    inputs = trail.inputs
    assert inputs["isMultiRegionTrail"] is True and inputs["enableLogFileValidation"] is True
    assert inputs["includeGlobalServiceEvents"] is True and inputs["kmsKeyId"].startswith(
        "arn:aws:kms:us-east-1:"
    )
    locks = by_bucket(stack_plan, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")
    retention = locks[inputs["s3BucketName"]].inputs["rule"]["defaultRetention"]
    expected = {"prod": ("COMPLIANCE", 365), "staging": ("GOVERNANCE", 30)}[stack_plan.stack]
    assert (retention["mode"], retention["days"]) == expected


def test_every_bucket_is_encrypted_versioned_private_and_tls_only(stack_plan: Plan) -> None:
    buckets = [str(b.inputs["bucket"]) for b in stack_plan.of_type("aws:s3/bucket:Bucket")]
    assert len(buckets) == 5  # trail, its access logs; lake, query results, their access logs
    sse = by_bucket(
        stack_plan, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    )
    versioning = by_bucket(stack_plan, "aws:s3/bucketVersioning:BucketVersioning")
    private = by_bucket(stack_plan, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    policies = by_bucket(stack_plan, "aws:s3/bucketPolicy:BucketPolicy")
    log_targets = {
        str(r.inputs["targetBucket"]) for r in stack_plan.of_type("aws:s3/bucketLogging:BucketLogging")
    }
    for bucket in buckets:
        (rule,) = sse[bucket].inputs["rules"]
        default = rule["applyServerSideEncryptionByDefault"]
        if bucket in log_targets:
            assert default["sseAlgorithm"] == "AES256", bucket  # S3 delivers access logs to SSE-S3 only
        else:
            assert default["sseAlgorithm"] == "aws:kms" and default["kmsMasterKeyId"].startswith(
                "arn:aws:kms:"
            )
            assert bucket in {
                str(r.inputs["bucket"]) for r in stack_plan.of_type("aws:s3/bucketLogging:BucketLogging")
            }
        assert versioning[bucket].inputs["versioningConfiguration"]["status"] == "Enabled"
        assert all(
            private[bucket].inputs[k] is True
            for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
        )
        statements = json.loads(policies[bucket].inputs["policy"])["Statement"]
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements
        ), bucket


def test_events_flow_from_every_region_into_the_lake_athena_reads(staging_values: dict[str, Any]) -> None:
    """Staging: the anchor's lake, table and workgroup, and a stream per region into that lake
    (tests/components/warehouse/test_event_streams.py follows the path from the pods)."""
    staging_values["observability"]["warehouse"] = {"bytesScannedCutoffPerQuery": 1073741824}
    plan = plan_after(PROJECT_DIR, "staging", staging_values)
    streams = plan.of_type("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream")
    assert sorted(plan.regions[s.urn] or "" for s in streams) == sorted(
        r["name"] for r in staging_values["regions"]
    )
    (lake,) = {
        s.inputs["extendedS3Configuration"]["bucketArn"].removeprefix("arn:aws:s3:::") for s in streams
    }
    for stream in streams:
        s3 = stream.inputs["extendedS3Configuration"]
        assert s3["prefix"].startswith(
            "events/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/"
        )
        assert stream.inputs["serverSideEncryption"]["enabled"] is True
    (table,) = plan.of_type("aws:glue/catalogTable:CatalogTable")
    assert table.inputs["storageDescriptor"]["location"] == f"s3://{lake}/events/"
    assert [k["name"] for k in table.inputs["partitionKeys"]] == ["year", "month", "day"]
    (workgroup,) = plan.of_type("aws:athena/workgroup:Workgroup")
    configuration = workgroup.inputs["configuration"]
    assert configuration["enforceWorkgroupConfiguration"] is True
    assert configuration["bytesScannedCutoffPerQuery"] == 1073741824
    assert configuration["resultConfiguration"]["encryptionConfiguration"]["encryptionOption"] == "SSE_KMS"
    assert {plan.regions[r.urn] for r in (table, workgroup)} == {"us-east-1"}
