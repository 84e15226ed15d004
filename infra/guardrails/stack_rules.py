"""Rules across resources: what no single resource shows (where data lives, what guards a bucket).

Links between resources are followed through `Stack.referenced`: the engine's record of which
resource an input came from, else the literal name or id the input gives.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from .model import UNKNOWN, Stack, Subject, Violation, is_set, is_true, single_block, stack_rule
from .resource_rules import (
    CACHE_GLOBAL,
    CACHE_GROUP,
    DEFAULT_SECURITY_GROUP,
    INGRESS_RULE,
    RDS_CLUSTER,
    RDS_CLUSTER_INSTANCE,
    RDS_CLUSTER_PARAMETERS,
    RDS_GLOBAL,
    S3_BUCKETS,
    SECURITY_GROUP,
    SECURITY_GROUP_RULE,
    WORLD,
    ZONE_SETTING,
    aws_managed_key,
    forces_tls,
    number,
)

__all__ = ["EPHEMERAL_DATA_TAG", "EXPOSURE_TAG", "LOAD_BALANCER", "MIN_DATA_AZS"]

SUBNET = "aws:ec2/subnet:Subnet"
SUBNET_GROUPS = ("aws:rds/subnetGroup:SubnetGroup", "aws:elasticache/subnetGroup:SubnetGroup")
VPC = "aws:ec2/vpc:Vpc"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
BUCKET_LOGGING = "aws:s3/bucketLogging:BucketLogging"
BUCKET_ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
BUCKET_PUBLIC_ACCESS_BLOCK = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",)
BUCKET_VERSIONING = (
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketVersioningV2:BucketVersioningV2",
)
SECURITY_GROUPS = (SECURITY_GROUP, DEFAULT_SECURITY_GROUP)
#: Ports a load balancer may open to the world, and the tag on its security group that says so.
PUBLIC_WEB_PORTS = frozenset({80, 443})
EXPOSURE_TAG, LOAD_BALANCER = "meridian:exposure", "load-balancer"
PUBLIC_ACCESS_SETTINGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
#: A bucket tagged `meridian:data = ephemeral` holds only what can be rebuilt (no versioning needed).
EPHEMERAL_DATA_TAG = "meridian:data"
#: Availability Zones a data store's subnets (and a multi-instance cluster) must span.
MIN_DATA_AZS = 2


def _azs(subjects: list[Subject]) -> set[str]:
    """The AZs *subjects* are placed in, where known (a missing or unknown zone counts for none)."""
    zones = (s.get("availabilityZone") or s.get("availabilityZoneId") for s in subjects)
    return {z for z in zones if isinstance(z, str) and z}


def _instances(stack: Stack, cluster: Subject) -> list[Subject]:
    return [
        i
        for i in stack.of_type(RDS_CLUSTER_INSTANCE)
        if cluster in stack.referenced(i, "clusterIdentifier", [RDS_CLUSTER], by="clusterIdentifier")
    ]


def _writes(cluster: Subject) -> bool:
    """The cluster that takes writes: the one created with the master user (a global
    database's secondaries join without one)."""
    return bool(cluster.get("masterUsername")) or not cluster.get("globalClusterIdentifier")


@stack_rule(
    "data-stores-multi-az",
    f"Every database and cache lives in at least {MIN_DATA_AZS} AZs of its region",
)
def _multi_az(stack: Stack) -> Iterator[Violation]:
    for group in stack.of_type(*SUBNET_GROUPS):
        zones = _azs(stack.referenced(group, "subnetIds", [SUBNET], by="id"))
        if len(zones) < MIN_DATA_AZS:
            yield Violation(
                group.urn,
                f"its subnets are in {len(zones)} AZ(s) ({', '.join(sorted(zones)) or 'none found'}): give "
                f"it subnets in at least {MIN_DATA_AZS} AZs",
            )
    for cluster in stack.of_type(RDS_CLUSTER):
        instances = _instances(stack, cluster)
        zones = _azs(instances)
        must_spread = len(instances) > 1 or (_writes(cluster) and cluster.in_prod)
        if must_spread and len(zones) < MIN_DATA_AZS:
            yield Violation(
                cluster.urn,
                f"its {len(instances)} instance(s) run in {len(zones)} AZ(s): "
                + (
                    "the prod writer needs a reader in another AZ to fail over to"
                    if len(instances) < MIN_DATA_AZS
                    else "place them in different AZs"
                ),
            )


def _regions(subjects: list[Subject]) -> set[str]:
    return {s.region for s in subjects if s.region}


@stack_rule(
    "data-replicated-beyond-write-home",
    "In prod, the database (and any global datastore) replicates to at least one region beyond the "
    "write home",
)
def _replicated(stack: Stack) -> Iterator[Violation]:
    # Redis stores may be regional: each region then writes its own sessions and queues, and a
    # region lost signs its users out (docs/components/redis-cluster.md). The database may not.
    if not stack.in_prod:
        return
    databases = stack.of_type(RDS_GLOBAL)
    caches = stack.of_type(CACHE_GLOBAL)
    anchor = next((s.urn for s in stack.subjects if s.type.startswith("aws:")), "")
    if not databases:
        yield Violation(anchor, "no Aurora global database: prod's data would live in one region")
    for database in databases:
        members = [
            c
            for c in stack.of_type(RDS_CLUSTER)
            if database
            in stack.referenced(c, "globalClusterIdentifier", [RDS_GLOBAL], by="globalClusterIdentifier")
        ]
        if len(_regions(members)) < 2:
            yield Violation(
                database.urn, f"its clusters are in {sorted(_regions(members))} only: add a secondary region"
            )
    for cache in caches:
        primary = stack.referenced(cache, "primaryReplicationGroupId", [CACHE_GROUP], by="replicationGroupId")
        secondaries = [
            g
            for g in stack.of_type(CACHE_GROUP)
            if cache
            in stack.referenced(g, "globalReplicationGroupId", [CACHE_GLOBAL], by="globalReplicationGroupId")
        ]
        regions = _regions(primary + secondaries)
        if len(regions) < 2:
            yield Violation(cache.urn, f"its members are in {sorted(regions)} only: add a secondary region")


@stack_rule(
    "rds-cluster-forces-tls",
    "Every PostgreSQL cluster uses a parameter group of the stack that forces TLS",
)
def _cluster_tls(stack: Stack) -> Iterator[Violation]:
    for cluster in stack.of_type(RDS_CLUSTER):
        if "postgres" not in str(cluster.get("engine", default="")):
            continue
        groups = stack.referenced(cluster, "dbClusterParameterGroupName", [RDS_CLUSTER_PARAMETERS], by="name")
        if not any(forces_tls(g) for g in groups):
            yield Violation(
                cluster.urn,
                "its parameter group is not one of the stack's with rds.force_ssl=1 (the default "
                "group is not checked): set db_cluster_parameter_group_name",
            )


def _guards(stack: Stack, bucket: Subject, guard_types: tuple[str, ...]) -> list[Subject]:
    """The bucket's own configuration resources of *guard_types* (encryption, versioning...)."""
    return [
        g
        for g in stack.of_type(*guard_types)
        if bucket in stack.referenced(g, "bucket", S3_BUCKETS, by="bucket")
    ]


def _access_log_targets(stack: Stack) -> list[Subject]:
    """The buckets S3 delivers server access logs to (some BucketLogging's target)."""
    return [
        target
        for logging in stack.of_type(BUCKET_LOGGING)
        for target in stack.referenced(logging, "targetBucket", S3_BUCKETS, by="bucket")
    ]


@stack_rule(
    "s3-bucket-encrypted",
    "Every S3 bucket is encrypted with a customer-managed KMS key (SSE-KMS); a server-access-log "
    "target with SSE-S3, the only encryption S3 delivers access logs to",
)
def _bucket_encrypted(stack: Stack) -> Iterator[Violation]:
    log_targets = _access_log_targets(stack)
    for bucket in stack.of_type(*S3_BUCKETS):
        rules = [r for g in _guards(stack, bucket, BUCKET_ENCRYPTION) for r in g.items("rules")]
        rules += bucket.items("serverSideEncryptionConfiguration", "rules")
        blocks = [single_block(r.get("applyServerSideEncryptionByDefault")) for r in rules]
        defaults = [b for b in blocks if isinstance(b, dict)]
        if bucket in log_targets and any(d.get("sseAlgorithm") == "AES256" for d in defaults):
            continue  # S3 user guide, "Enabling Amazon S3 server access logging": SSE-S3 only
        kms = [
            d
            for d in defaults
            if str(d.get("sseAlgorithm", "")).startswith("aws:kms")
            and is_set(d.get("kmsMasterKeyId"))
            and not aws_managed_key(d.get("kmsMasterKeyId"))
        ]
        if not kms:
            yield Violation(
                bucket.urn,
                "no SSE-KMS with a customer key: add a BucketServerSideEncryptionConfiguration with "
                "sse_algorithm aws:kms and kms_master_key_id",
            )


@stack_rule("s3-public-access-blocked", "Every S3 bucket has all four public access block settings on")
def _bucket_private(stack: Stack) -> Iterator[Violation]:
    for bucket in stack.of_type(*S3_BUCKETS):
        blocks = _guards(stack, bucket, BUCKET_PUBLIC_ACCESS_BLOCK)
        if not any(all(is_true(b.get(key)) for key in PUBLIC_ACCESS_SETTINGS) for b in blocks):
            yield Violation(
                bucket.urn,
                f"no BucketPublicAccessBlock with {', '.join(PUBLIC_ACCESS_SETTINGS)} all true",
            )


@stack_rule(
    "s3-bucket-versioned",
    f"Every S3 bucket keeps versions, unless tagged {EPHEMERAL_DATA_TAG}=ephemeral",
)
def _bucket_versioned(stack: Stack) -> Iterator[Violation]:
    for bucket in stack.of_type(*S3_BUCKETS):
        if bucket.tags.get(EPHEMERAL_DATA_TAG) == "ephemeral":
            continue
        statuses = [
            g.get("versioningConfiguration", "status") for g in _guards(stack, bucket, BUCKET_VERSIONING)
        ]
        if "Enabled" not in statuses and not is_true(bucket.get("versioning", "enabled")):
            yield Violation(
                bucket.urn,
                f"versioning is off: add a BucketVersioning with status Enabled (or tag the bucket "
                f"{EPHEMERAL_DATA_TAG}=ephemeral if it holds nothing that cannot be rebuilt)",
            )


def _world_ingress(rule: dict[str, Any], cidrs: tuple[str, str], protocol_key: str, tags: dict) -> str | None:
    """What is wrong with one ingress rule: it admits the internet beyond a load balancer's web
    ports (the exemption is the security group's tag, never the rule's)."""
    sources: set[str] = set()
    for key in cidrs:
        value = rule.get(key) or []
        sources.update([value] if isinstance(value, str) else value)
    world = WORLD.intersection(sources)
    if not world:
        return None
    low, high = number(rule.get("fromPort")), number(rule.get("toPort"))
    protocol = str(rule.get(protocol_key))
    web = low is not None and low == high and low in PUBLIC_WEB_PORTS and protocol in ("tcp", "6")
    if web and tags.get(EXPOSURE_TAG) == LOAD_BALANCER:
        return None
    ports = "all ports" if protocol == "-1" or low is None or high is None else f"ports {low:.0f}-{high:.0f}"
    return (
        f"ingress from {', '.join(sorted(world))} on {ports}: only a load balancer's security group "
        f"(tag {EXPOSURE_TAG}={LOAD_BALANCER}) may open 80 or 443 to the world"
    )


@stack_rule(
    "security-group-no-world-ingress",
    "No security group admits the internet, except 80/443 on a load balancer's group",
)
def _security_groups(stack: Stack) -> Iterator[Violation]:
    for group in stack.of_type(*SECURITY_GROUPS):
        for rule in group.items("ingress"):
            problem = _world_ingress(rule, ("cidrBlocks", "ipv6CidrBlocks"), "protocol", group.tags)
            if problem:
                yield Violation(group.urn, problem)
    standalone = [(r, ("cidrIpv4", "cidrIpv6"), "ipProtocol") for r in stack.of_type(INGRESS_RULE)]
    standalone += [
        (r, ("cidrBlocks", "ipv6CidrBlocks"), "protocol")
        for r in stack.of_type(SECURITY_GROUP_RULE)
        if r.get("type") == "ingress"
    ]
    for rule, cidrs, protocol_key in standalone:
        groups = stack.referenced(rule, "securityGroupId", SECURITY_GROUPS, by="id")
        tags = groups[0].tags if len(groups) == 1 else {}
        problem = _world_ingress(dict(rule.props), cidrs, protocol_key, tags)
        if problem:
            yield Violation(rule.urn, problem)


@stack_rule("vpc-flow-logs", "Every VPC records its traffic in a flow log")
def _flow_logs(stack: Stack) -> Iterator[Violation]:
    logged = {
        vpc.urn for log in stack.of_type(FLOW_LOG) for vpc in stack.referenced(log, "vpcId", [VPC], by="id")
    }
    for vpc in stack.of_type(VPC):
        if vpc.urn not in logged:
            yield Violation(vpc.urn, "no flow log: add an aws.ec2.FlowLog for the VPC (traffic type ALL)")


@stack_rule(
    "cloudflare-zone-ssl-strict",
    "Every Cloudflare zone the stack configures has its SSL mode set to strict by the stack",
)
def _zone_strict(stack: Stack) -> Iterator[Violation]:
    zones: dict[str, str] = {}
    for subject in stack.subjects:
        zone = subject.get("zoneId")
        if subject.type.startswith("cloudflare:") and zone is not UNKNOWN and isinstance(zone, str):
            zones.setdefault(zone, subject.urn)
    strict = defaultdict(bool)
    for setting in stack.of_type(ZONE_SETTING):
        if setting.get("settingId") == "ssl" and setting.get("value") == "strict":
            strict[setting.get("zoneId")] = True
    for zone, urn in zones.items():
        if not strict[zone]:
            yield Violation(
                urn, f"zone {zone} has no ssl=strict setting in the stack: add a ZoneSetting ssl strict"
            )


ISTIO_GATEWAY = "kubernetes:networking.istio.io/v1:Gateway"
ORIGIN_PULLS = "cloudflare:index/authenticatedOriginPullsSettings:AuthenticatedOriginPullsSettings"
ORIGIN_PULL_CERTIFICATE = (
    "cloudflare:index/authenticatedOriginPullsCertificate:AuthenticatedOriginPullsCertificate"
)


@stack_rule(
    "origin-pulls-authenticated",
    "Origins require the zone's own origin-pull client certificate (Istio MUTUAL, zone-level "
    "Authenticated Origin Pulls with an uploaded certificate), so only requests through our zone pass",
)
def _origin_pulls(stack: Stack) -> Iterator[Violation]:
    gateways = stack.of_type(ISTIO_GATEWAY)
    for gateway in gateways:
        for server in gateway.items("spec", "servers"):
            tls_mode = (server.get("tls") or {}).get("mode") if isinstance(server, dict) else UNKNOWN
            protocol = (server.get("port") or {}).get("protocol") if isinstance(server, dict) else UNKNOWN
            if protocol != "HTTPS" or tls_mode != "MUTUAL":
                yield Violation(
                    gateway.urn,
                    f"a {protocol} server with tls mode {tls_mode!r} serves anyone who reaches the NLB: "
                    "serve HTTPS only, in MUTUAL mode with the edge's origin-pull CA (ca.crt)",
                )
    if not gateways:
        return
    zones = {
        z
        for s in stack.subjects
        if s.type.startswith("cloudflare:") and isinstance(z := s.get("zoneId"), str)
    }
    enabled = {s.get("zoneId") for s in stack.of_type(ORIGIN_PULLS) if is_true(s.get("enabled"))}
    uploaded = {s.get("zoneId") for s in stack.of_type(ORIGIN_PULL_CERTIFICATE)}
    for zone in sorted(zones):
        if zone not in enabled:
            yield Violation(
                gateways[0].urn,
                f"zone {zone} does not send a client certificate to the origins: add "
                "AuthenticatedOriginPullsSettings enabled=True",
            )
        elif zone not in uploaded:
            yield Violation(
                gateways[0].urn,
                f"zone {zone} pulls with Cloudflare's shared certificate, which any zone presents: "
                "upload the zone's own (AuthenticatedOriginPullsCertificate)",
            )
