"""Guardrail rules: both stacks pass, and every rule rejects a deliberately bad resource.

Bad resources are declared with the real SDK classes (so property names are the engine's) in a
small program run under the same mocks as the offline plan; the rules then run over what it
declared, exactly as `meridian check` runs them over a stack.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_cloudflare as cloudflare
import pulumi_kubernetes as k8s
import pytest

from infra.guardrails import RESOURCE_RULES, STACK_RULES
from infra.guardrails.check import check_plan
from infra.guardrails.model import REQUIRED_TAGS
from infra.plan.run import Plan, run_program
from tests.support import plan_of

PROD_TAGS = {
    "environment": "prod",
    "owner": "team",
    "cost-center": "cc-1",
    "project": "meridian",
    "stack": "t",
}
KEY = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-4333-8444-555555555555"
ROLE = "arn:aws:iam::123456789012:role/r"

Declare = Callable[[pulumi.ResourceOptions], Any]


def program(declare: Declare, *, tags: dict[str, str] | None = None, region: str = "eu-west-1") -> Plan:
    """Run *declare* with a region-pinned provider whose default tags are *tags* (prod's)."""

    def main() -> None:
        provider = aws.Provider(
            "aws", region=region, default_tags={"tags": PROD_TAGS if tags is None else tags}
        )
        declare(pulumi.ResourceOptions(provider=provider))

    return run_program(main, project="meridian", stack="guardrails-test")


def findings(plan: Plan, rule: str) -> list[tuple[str, str]]:
    """(resource name, message) of each violation of *rule*."""
    result = check_plan(plan).result(rule)
    return [(plan.by_urn[v.urn].name, v.message) for v in result.violations]


def _postgres_cluster(opts: pulumi.ResourceOptions, name: str = "db", **overrides: Any) -> aws.rds.Cluster:
    args: dict[str, Any] = {
        "engine": "aurora-postgresql",
        "storage_encrypted": True,
        "kms_key_id": KEY,
        "deletion_protection": True,
        "backup_retention_period": 35,
        "final_snapshot_identifier": f"{name}-final",
        "enabled_cloudwatch_logs_exports": ["postgresql"],
        "db_cluster_parameter_group_name": "tls",
        **overrides,
    }
    return aws.rds.Cluster(
        name, opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=True)), **args
    )


def _cache_group(opts: pulumi.ResourceOptions, **overrides: Any) -> aws.elasticache.ReplicationGroup:
    args: dict[str, Any] = {
        "description": "cache",
        "at_rest_encryption_enabled": True,
        "kms_key_id": KEY,
        "transit_encryption_enabled": True,
        "transit_encryption_mode": "required",
        "user_group_ids": ["app"],
        "automatic_failover_enabled": True,
        "multi_az_enabled": True,
        "replicas_per_node_group": 1,
        "snapshot_retention_limit": 7,
        "final_snapshot_identifier": "cache-final",
        **overrides,
    }
    return aws.elasticache.ReplicationGroup(
        "cache", opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=True)), **args
    )


def _eks(opts: pulumi.ResourceOptions, **overrides: Any) -> aws.eks.Cluster:
    args: dict[str, Any] = {
        "role_arn": ROLE,
        "vpc_config": {"subnet_ids": ["subnet-1"], "endpoint_public_access": False},
        "encryption_config": {"provider": {"key_arn": KEY}, "resources": ["secrets"]},
        "enabled_cluster_log_types": ["api", "audit", "authenticator", "controllerManager", "scheduler"],
        **overrides,
    }
    return aws.eks.Cluster("eks", opts=opts, **args)


def _ingress(
    opts: pulumi.ResourceOptions, port: int, tags: dict[str, str] | None = None
) -> aws.ec2.SecurityGroup:
    rule = {"protocol": "tcp", "from_port": port, "to_port": port, "cidr_blocks": ["0.0.0.0/0"]}
    return aws.ec2.SecurityGroup("sg", vpc_id="vpc-1", ingress=[rule], tags=tags, opts=opts)


def _network_policy(direction: str, cidr: str, **block: Any) -> Declare:
    """A NetworkPolicy of the API's namespace opening 443 to (egress) or from (ingress) `cidr`."""
    peer = "to" if direction == "Egress" else "from"
    spec = {
        "podSelector": {},
        "policyTypes": [direction],
        direction.lower(): [
            {peer: [{"ipBlock": {"cidr": cidr, **block}}], "ports": [{"protocol": "TCP", "port": 443}]}
        ],
    }
    return lambda o: k8s.networking.v1.NetworkPolicy(
        "allow-out", metadata={"name": "allow-out", "namespace": "api"}, spec=spec
    )


def _subnet_group(opts: pulumi.ResourceOptions, zones: list[str]) -> None:
    vpc = aws.ec2.Vpc("vpc", cidr_block="10.0.0.0/16", opts=opts)
    subnets = [
        aws.ec2.Subnet(f"s{i}", vpc_id=vpc.id, cidr_block=f"10.0.{i}.0/24", availability_zone=z, opts=opts)
        for i, z in enumerate(zones)
    ]
    aws.rds.SubnetGroup("db-subnets", subnet_ids=[s.id for s in subnets], opts=opts)


def _single_region_global(opts: pulumi.ResourceOptions) -> None:
    database = aws.rds.GlobalCluster(
        "global", global_cluster_identifier="g", engine="aurora-postgresql", storage_encrypted=True, opts=opts
    )
    _postgres_cluster(opts, "writer", global_cluster_identifier=database.id, master_username="root")


def _bucket(opts: pulumi.ResourceOptions, tags: dict[str, str] | None = None) -> aws.s3.Bucket:
    return aws.s3.Bucket(
        "data", tags=tags, opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=True))
    )


def _guarded_bucket(opts: pulumi.ResourceOptions) -> None:
    bucket = _bucket(opts)
    aws.s3.BucketServerSideEncryptionConfiguration(
        "data-sse",
        bucket=bucket.id,
        rules=[
            {
                "apply_server_side_encryption_by_default": {
                    "sse_algorithm": "aws:kms",
                    "kms_master_key_id": KEY,
                }
            }
        ],
        opts=opts,
    )
    aws.s3.BucketPublicAccessBlock(
        "data-private",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=opts,
    )
    aws.s3.BucketVersioning(
        "data-versions", bucket=bucket.id, versioning_configuration={"status": "Enabled"}, opts=opts
    )


def _admin_policy(opts: pulumi.ResourceOptions) -> None:
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "All", "Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    aws.iam.RolePolicy("admin", role="r", policy=json.dumps(document), opts=opts)


#: rule → (a program declaring a resource that breaks it, that resource's name, the message's gist)
BAD: dict[str, tuple[Declare, str, str]] = {
    "rds-encrypted-with-customer-key": (
        lambda o: _postgres_cluster(o, storage_encrypted=False),
        "db",
        "storageEncrypted",
    ),
    "rds-tls-required": (
        lambda o: aws.rds.ClusterParameterGroup(
            "pg", family="aurora-postgresql16", parameters=[{"name": "rds.force_ssl", "value": "0"}], opts=o
        ),
        "pg",
        "rds.force_ssl is 0",
    ),
    "rds-not-public": (
        lambda o: aws.rds.ClusterInstance(
            "db-1",
            cluster_identifier="db",
            instance_class="db.r7g.large",
            engine="aurora-postgresql",
            publicly_accessible=True,
            opts=o,
        ),
        "db-1",
        "publiclyAccessible",
    ),
    "rds-audit-logs-exported": (
        lambda o: _postgres_cluster(o, enabled_cloudwatch_logs_exports=[]),
        "db",
        "lacks 'postgresql'",
    ),
    "rds-prod-durability": (
        lambda o: _postgres_cluster(o, deletion_protection=False, backup_retention_period=1),
        "db",
        "deletionProtection",
    ),
    "elasticache-encrypted": (lambda o: _cache_group(o, at_rest_encryption_enabled=False), "cache", "atRest"),
    "elasticache-auth": (lambda o: _cache_group(o, user_group_ids=[]), "cache", "no userGroupIds"),
    "elasticache-failover": (
        lambda o: _cache_group(o, automatic_failover_enabled=False),
        "cache",
        "automaticFailover",
    ),
    "elasticache-prod-durability": (
        lambda o: _cache_group(o, snapshot_retention_limit=0),
        "cache",
        "snapshotRetention",
    ),
    "eks-secrets-encrypted": (lambda o: _eks(o, encryption_config=None), "eks", "does not cover secrets"),
    "eks-control-plane-logs": (lambda o: _eks(o, enabled_cluster_log_types=["api"]), "eks", "lacks audit"),
    "eks-endpoint-not-public": (
        lambda o: _eks(o, vpc_config={"subnet_ids": ["subnet-1"], "endpoint_public_access": True}),
        "eks",
        "public to 0.0.0.0/0",
    ),
    "kms-key-rotation": (
        lambda o: aws.kms.Key(
            "key",
            enable_key_rotation=False,
            opts=pulumi.ResourceOptions.merge(o, pulumi.ResourceOptions(protect=True)),
        ),
        "key",
        "enableKeyRotation",
    ),
    "log-group-encrypted-and-retained": (
        lambda o: aws.cloudwatch.LogGroup(
            "logs", opts=pulumi.ResourceOptions.merge(o, pulumi.ResourceOptions(protect=True))
        ),
        "logs",
        "kmsKeyId is not set",
    ),
    "s3-bucket-not-public": (
        lambda o: aws.s3.Bucket("site", acl="public-read", opts=o),
        "site",
        "acl is public-read",
    ),
    "security-group-no-world-ingress": (lambda o: _ingress(o, 22), "sg", "0.0.0.0/0 on ports 22-22"),
    "iam-least-privilege": (_admin_policy, "admin", "every action"),
    # What `allow-events-https` was: the internet minus the private ranges, on 443.
    "network-policy-no-world-cidr": (
        _network_policy(
            "Egress", "0.0.0.0/0", **{"except": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]}
        ),
        "allow-out",
        "spec.egress[0] reaches ipBlock 0.0.0.0/0",
    ),
    "aws-resource-tagged": (lambda o: aws.sqs.Queue("queue", opts=o), "queue", "missing tags"),  # see tags=
    "cloudflare-tls-strict": (
        lambda o: cloudflare.ZoneSetting("ssl", zone_id="z" * 32, setting_id="ssl", value="full"),
        "ssl",
        "ssl is 'full'",
    ),
    "prod-stateful-protected": (
        lambda o: aws.kms.Key("key", enable_key_rotation=True, opts=o),
        "key",
        "protect is off",
    ),
    "data-stores-multi-az": (lambda o: _subnet_group(o, ["eu-west-1a"]), "db-subnets", "in 1 AZ(s)"),
    "data-replicated-beyond-write-home": (_single_region_global, "global", "are in ['eu-west-1'] only"),
    "rds-cluster-forces-tls": (lambda o: _postgres_cluster(o), "db", "not one of the stack's"),
    "s3-bucket-encrypted": (_bucket, "data", "no SSE-KMS"),
    "s3-public-access-blocked": (_bucket, "data", "no BucketPublicAccessBlock"),
    "s3-bucket-versioned": (_bucket, "data", "versioning is off"),
    "vpc-flow-logs": (lambda o: aws.ec2.Vpc("vpc", cidr_block="10.0.0.0/16", opts=o), "vpc", "no flow log"),
    "cloudflare-zone-ssl-strict": (
        lambda o: cloudflare.DnsRecord(
            "www", zone_id="z" * 32, name="www", type="A", content="192.0.2.1", ttl=1
        ),
        "www",
        "has no ssl=strict setting",
    ),
    "origin-admits-only-the-edge": (lambda o: _gateway_release(o, ranges=None), "gateway", "whole internet"),
    "origin-pulls-authenticated": (lambda o: _gateway(o, "SIMPLE"), "public", "tls mode 'SIMPLE'"),
}
#: Rules whose bad case is a resource without the stack's tags.
UNTAGGED = {"aws-resource-tagged"}


def _kube(_: pulumi.ResourceOptions) -> pulumi.ResourceOptions:
    """A cluster's provider, as the stack pins every Kubernetes object to one."""
    return pulumi.ResourceOptions(provider=k8s.Provider("cluster", kubeconfig="{}"))


def _gateway_release(
    opts: pulumi.ResourceOptions, *, ranges: list[str] | None, ports: tuple[int, ...] = (443,)
) -> k8s.helm.v3.Release:
    """Istio's gateway chart with the Service the stack gives it, or a broken variant."""
    service: dict[str, Any] = {
        "type": "LoadBalancer",
        "ports": [{"name": f"p{port}", "port": port, "protocol": "TCP"} for port in ports],
    }
    if ranges is not None:
        service["loadBalancerSourceRanges"] = ranges
    return k8s.helm.v3.Release(
        "gateway", chart="gateway", version="1.31.1", values={"service": service}, opts=_kube(opts)
    )


def _gateway(opts: pulumi.ResourceOptions, mode: str, *, origin_pulls: bool = True) -> None:
    """An Istio Gateway with one HTTPS server in `mode`, in a zone with (or without) origin pulls."""
    zone = "z" * 32
    k8s.apiextensions.CustomResource(
        "public",
        api_version="networking.istio.io/v1",
        kind="Gateway",
        metadata={"name": "public", "namespace": "istio-ingress"},
        spec={"servers": [{"port": {"number": 443, "name": "https", "protocol": "HTTPS"},
                           "hosts": ["api.example.com"], "tls": {"mode": mode, "credentialName": "c"}}]},
        opts=_kube(opts),
    )  # fmt: skip
    cloudflare.ZoneSetting("ssl", zone_id=zone, setting_id="ssl", value="strict")
    if origin_pulls:
        cloudflare.AuthenticatedOriginPullsCertificate("pull", zone_id=zone, certificate="C", private_key="K")
        cloudflare.AuthenticatedOriginPullsSettings("pulls", zone_id=zone, enabled=True)


def _policy(name: str, statement: dict[str, Any]) -> Declare:
    document = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    return lambda o: aws.iam.RolePolicy(name, role="r", policy=document, opts=o)


def _trust_anyone(opts: pulumi.ResourceOptions) -> None:
    statement = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
    aws.iam.Role(
        "open", assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]}), opts=opts
    )


#: Every other way each rule can be broken: (rule, program, resource, message gist, tags).
MORE_BAD: list[tuple[str, Declare, str, str, dict[str, str] | None]] = [
    ("rds-encrypted-with-customer-key", lambda o: aws.rds.ClusterInstance(
        "db-1", cluster_identifier="db", instance_class="db.r7g.large", engine="aurora-postgresql",
        performance_insights_enabled=True, opts=o), "db-1", "performanceInsightsKmsKeyId", None),
    ("rds-encrypted-with-customer-key", lambda o: _postgres_cluster(o, kms_key_id=None), "db",
     "kmsKeyId is not set", None),
    ("rds-tls-required", lambda o: aws.rds.Proxy(
        "proxy", engine_family="POSTGRESQL", role_arn=ROLE, vpc_subnet_ids=["subnet-1"], require_tls=False,
        opts=o), "proxy", "requireTls", None),
    ("rds-prod-durability", lambda o: _postgres_cluster(o, backup_retention_period=7), "db",
     "backupRetentionPeriod is 7", None),
    ("rds-prod-durability", lambda o: _postgres_cluster(
        o, final_snapshot_identifier=None, skip_final_snapshot=True), "db", "no final snapshot", None),
    ("rds-prod-durability", lambda o: aws.rds.GlobalCluster(
        "global", global_cluster_identifier="g", engine="aurora-postgresql", storage_encrypted=True,
        deletion_protection=False, opts=o), "global", "deletionProtection", None),
    ("elasticache-encrypted", lambda o: _cache_group(o, transit_encryption_mode="preferred"), "cache",
     "transitEncryptionMode is preferred", None),
    ("elasticache-encrypted", lambda o: _cache_group(o, transit_encryption_enabled=False), "cache",
     "plain text", None),
    ("elasticache-auth", lambda o: aws.elasticache.User(
        "user", user_id="u", user_name="u", engine="valkey", access_string="on ~* +@all",
        no_password_required=True, opts=o), "user", "needs no password", None),
    ("elasticache-failover", lambda o: _cache_group(o, multi_az_enabled=False), "cache", "multiAzEnabled",
     None),
    ("elasticache-failover", lambda o: _cache_group(o, replicas_per_node_group=0), "cache",
     "replicasPerNodeGroup is 0", None),
    ("elasticache-prod-durability", lambda o: _cache_group(o, final_snapshot_identifier=None), "cache",
     "finalSnapshotIdentifier", None),
    ("eks-secrets-encrypted", lambda o: _eks(o, encryption_config={"resources": ["secrets"], "provider": {}}),
     "eks", "keyArn is not set", None),
    ("eks-endpoint-not-public", lambda o: _eks(o, vpc_config={"subnet_ids": ["subnet-1"]}), "eks",
     "public to 0.0.0.0/0", None),  # AWS's default is a public endpoint
    ("log-group-encrypted-and-retained", lambda o: aws.cloudwatch.LogGroup(
        "logs", kms_key_id=KEY, opts=pulumi.ResourceOptions.merge(o, pulumi.ResourceOptions(protect=True))),
     "logs", "retentionInDays", None),
    ("security-group-no-world-ingress", lambda o: aws.vpc.SecurityGroupIngressRule(
        "ssh", security_group_id="sg-1", ip_protocol="tcp", from_port=22, to_port=22, cidr_ipv4="0.0.0.0/0",
        opts=o), "ssh", "0.0.0.0/0 on ports 22-22", None),
    ("security-group-no-world-ingress", lambda o: aws.ec2.SecurityGroupRule(
        "all", type="ingress", security_group_id="sg-1", protocol="-1", from_port=0, to_port=0,
        ipv6_cidr_blocks=["::/0"], opts=o), "all", "::/0 on all ports", None),
    ("iam-least-privilege", _policy("s3-all", {"Effect": "Allow", "Action": ["s3:*"], "Resource": "*"}),
     "s3-all", "allows s3:* on every resource", None),
    ("iam-least-privilege", lambda o: aws.iam.RolePolicyAttachment(
        "admin", role="r", policy_arn="arn:aws:iam::aws:policy/AdministratorAccess", opts=o), "admin",
     "attaches AdministratorAccess", None),
    ("iam-least-privilege", _trust_anyone, "open", "any AWS principal", None),
    ("cloudflare-tls-strict", lambda o: cloudflare.ZoneSetting(
        "tls", zone_id="z" * 32, setting_id="min_tls_version", value="1.0"), "tls", "min_tls_version", None),
    # No environment tag: held to prod's rules (strict by default).
    ("prod-stateful-protected", lambda o: aws.kms.Key("key", enable_key_rotation=True, opts=o), "key",
     "protect is off", {}),
    ("data-replicated-beyond-write-home", lambda o: _cache_group(o), "cache",
     "no Aurora global database", None),
    ("origin-admits-only-the-edge", lambda o: _gateway_release(o, ranges=["0.0.0.0/0"]), "gateway",
     "has 0.0.0.0/0", None),
    ("origin-admits-only-the-edge", lambda o: _gateway_release(o, ranges=["10.0.0.0/8"]), "gateway",
     "has 10.0.0.0/8", None),
    ("origin-admits-only-the-edge", lambda o: _gateway_release(
        o, ranges=["173.245.48.0/20"], ports=(443, 15021)), "gateway", "opens ports ['15021', '443']", None),
    ("origin-admits-only-the-edge", lambda o: k8s.core.v1.Service(
        "svc", spec={"type": "LoadBalancer", "ports": [{"port": 80}]}, opts=_kube(o)), "svc",
     "whole internet", None),
    ("origin-pulls-authenticated", lambda o: _gateway(o, "MUTUAL", origin_pulls=False), "public",
     "does not send a client certificate", None),
    ("network-policy-no-world-cidr", _network_policy("Egress", "::/0"), "allow-out",
     "reaches ipBlock ::/0", None),
    ("network-policy-no-world-cidr", _network_policy("Ingress", "0.0.0.0/0"), "allow-out",
     "spec.ingress[0] admits ipBlock 0.0.0.0/0", None),
]  # fmt: skip


def test_every_rule_has_a_bad_case() -> None:
    names = [r.name for r in RESOURCE_RULES] + [r.name for r in STACK_RULES]
    assert len(names) == len(set(names)), "rule names are policy names: they must be unique"
    assert set(BAD) == set(names)


@pytest.mark.parametrize("rule", sorted(BAD))
def test_each_rule_rejects_its_bad_resource(rule: str) -> None:
    declare, resource, gist = BAD[rule]
    plan = program(declare, tags={} if rule in UNTAGGED else None)
    found = findings(plan, rule)
    assert any(name == resource and gist in message for name, message in found), found


@pytest.mark.parametrize(("rule", "declare", "resource", "gist", "tags"), MORE_BAD)
def test_each_way_of_breaking_a_rule_is_rejected(
    rule: str, declare: Declare, resource: str, gist: str, tags: dict[str, str] | None
) -> None:
    found = findings(program(declare, tags=tags), rule)
    assert any(name == resource and gist in message for name, message in found), found


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_both_stacks_pass_every_rule(stack: str) -> None:
    report = check_plan(plan_of(stack))
    assert report.violations == []
    checked = {r.rule: r.checked for r in report.results}
    # Every resource rule looked at the resources it guards, not at nothing (the audit trail's and
    # the warehouse's buckets are what the bucket rules see).
    idle = {rule for rule, count in checked.items() if count == 0} - {r.name for r in STACK_RULES}
    assert idle == set()


# --- what the rules allow (each beside the bad case it differs from) ------------------------------


def test_a_network_policy_to_a_subnet_range_passes() -> None:
    assert findings(program(_network_policy("Egress", "10.0.32.0/19")), "network-policy-no-world-cidr") == []


def test_a_load_balancers_group_may_open_443_and_nothing_else() -> None:
    tag = {"meridian:exposure": "load-balancer"}
    assert findings(program(lambda o: _ingress(o, 443, tag)), "security-group-no-world-ingress") == []
    assert findings(program(lambda o: _ingress(o, 443)), "security-group-no-world-ingress")  # untagged
    assert findings(program(lambda o: _ingress(o, 8443, tag)), "security-group-no-world-ingress")


def test_a_bucket_with_its_guards_passes_and_an_ephemeral_one_needs_no_versions() -> None:
    guarded = program(_guarded_bucket)
    for rule in ("s3-bucket-encrypted", "s3-public-access-blocked", "s3-bucket-versioned"):
        assert findings(guarded, rule) == [], rule
    ephemeral = program(lambda o: _bucket(o, tags={"meridian:data": "ephemeral"}))
    assert findings(ephemeral, "s3-bucket-versioned") == []
    assert findings(ephemeral, "s3-bucket-encrypted")  # still encrypted, whatever it holds


def test_a_global_secondary_inherits_encryption_and_auth_but_not_its_key() -> None:
    secondary = dict(at_rest_encryption_enabled=None, transit_encryption_enabled=None, user_group_ids=None,
                     transit_encryption_mode=None, global_replication_group_id="abcde-store")  # fmt: skip
    plan = program(lambda o: _cache_group(o, **secondary))
    assert findings(plan, "elasticache-encrypted") == []
    assert findings(plan, "elasticache-auth") == []
    keyless = program(lambda o: _cache_group(o, **secondary, kms_key_id=None))
    assert findings(keyless, "elasticache-encrypted") == [
        (
            "cache",
            "kmsKeyId is not set: the cache must be encrypted with the region's customer-managed KMS key",
        )
    ]


def test_an_aws_managed_key_is_not_a_customer_key() -> None:
    plan = program(lambda o: _postgres_cluster(o, kms_key_id="alias/aws/rds"))
    assert any("AWS-managed" in m for _, m in findings(plan, "rds-encrypted-with-customer-key"))


def test_durability_rules_hold_in_prod_only() -> None:
    staging = {**PROD_TAGS, "environment": "staging"}
    plan = program(
        lambda o: _postgres_cluster(o, deletion_protection=False, backup_retention_period=1), tags=staging
    )
    assert findings(plan, "rds-prod-durability") == []
    assert findings(program(lambda o: aws.kms.Key("key", enable_key_rotation=True, opts=o), tags=staging),
                    "prod-stateful-protected") == []  # fmt: skip


def test_the_prod_writer_needs_instances_in_two_azs() -> None:
    def writer(o: pulumi.ResourceOptions, zones: list[str]) -> None:
        cluster = _postgres_cluster(o, master_username="root", cluster_identifier="db")
        for i, zone in enumerate(zones):
            aws.rds.ClusterInstance(
                f"db-{i}", cluster_identifier=cluster.cluster_identifier, availability_zone=zone,
                instance_class="db.r7g.large", engine="aurora-postgresql", opts=o,
            )  # fmt: skip

    assert findings(program(lambda o: writer(o, ["eu-west-1a"])), "data-stores-multi-az") == [
        (
            "db",
            "its 1 instance(s) run in 1 AZ(s): the prod writer needs a reader in another AZ to fail over to",
        )
    ]
    assert findings(program(lambda o: writer(o, ["eu-west-1a", "eu-west-1a"])), "data-stores-multi-az")
    assert findings(program(lambda o: writer(o, ["eu-west-1a", "eu-west-1b"])), "data-stores-multi-az") == []


def test_a_subnet_group_across_two_azs_passes() -> None:
    assert (
        findings(program(lambda o: _subnet_group(o, ["eu-west-1a", "eu-west-1b"])), "data-stores-multi-az")
        == []
    )


def test_required_tags_are_the_stacks_default_tags() -> None:
    config = plan_of("staging").config
    assert config is not None
    assert set(REQUIRED_TAGS) <= set(config.aws_tags("staging"))


# --- the cases a review found (each failed before its fix) ---------------------------------------


def test_the_load_balancer_exemption_is_the_groups_tag_not_the_rules() -> None:
    tag = {"meridian:exposure": "load-balancer"}

    def rule_on(group_tags: dict[str, str] | None, rule_tags: dict[str, str] | None) -> Declare:
        def declare(o: pulumi.ResourceOptions) -> None:
            group = aws.ec2.SecurityGroup("lb", vpc_id="vpc-1", tags=group_tags, opts=o)
            aws.vpc.SecurityGroupIngressRule(
                "https", security_group_id=group.id, ip_protocol="tcp", from_port=443, to_port=443,
                cidr_ipv4="0.0.0.0/0", tags=rule_tags, opts=o,
            )  # fmt: skip

        return declare

    rule = "security-group-no-world-ingress"
    assert findings(program(rule_on(tag, None)), rule) == []
    assert [name for name, _ in findings(program(rule_on(None, tag)), rule)] == ["https"]


def test_an_unknown_or_unusual_environment_is_held_to_prods_rules() -> None:
    for environment in ("production", "Prod", ""):
        tags = {**PROD_TAGS, "environment": environment}
        plan = program(lambda o: aws.kms.Key("key", enable_key_rotation=True, opts=o), tags=tags)
        assert findings(plan, "prod-stateful-protected"), environment


def test_a_named_default_parameter_group_is_not_the_tls_group_it_depends_on() -> None:
    def declare(o: pulumi.ResourceOptions) -> None:
        group = aws.rds.ClusterParameterGroup(
            "tls", name="tls", family="aurora-postgresql16",
            parameters=[{"name": "rds.force_ssl", "value": "1"}], opts=o,
        )  # fmt: skip
        name = group.name.apply(lambda _: "default.aurora-postgresql16")  # depends on it, names another
        _postgres_cluster(o, db_cluster_parameter_group_name=name)

    assert findings(program(declare), "rds-cluster-forces-tls")
    good = program(lambda o: (aws.rds.ClusterParameterGroup(
        "tls", name="tls", family="aurora-postgresql16", parameters=[{"name": "rds.force_ssl", "value": "1"}],
        opts=o), _postgres_cluster(o)))  # fmt: skip
    assert findings(good, "rds-cluster-forces-tls") == []


def test_a_subnet_without_a_zone_counts_for_no_zone() -> None:
    def declare(o: pulumi.ResourceOptions) -> None:
        a = aws.ec2.Subnet(
            "a", vpc_id="vpc-1", cidr_block="10.0.0.0/24", availability_zone="eu-west-1a", opts=o
        )
        b = aws.ec2.Subnet("b", vpc_id="vpc-1", cidr_block="10.0.1.0/24", opts=o)
        aws.rds.SubnetGroup("db-subnets", subnet_ids=[a.id, b.id], opts=o)

    assert findings(program(declare), "data-stores-multi-az") == [
        ("db-subnets", "its subnets are in 1 AZ(s) (eu-west-1a): give it subnets in at least 2 AZs")
    ]


def test_a_bucket_encrypted_with_the_aws_managed_key_is_not_customer_encrypted() -> None:
    def declare(o: pulumi.ResourceOptions) -> None:
        bucket = _bucket(o)
        aws.s3.BucketServerSideEncryptionConfiguration(
            "data-sse", bucket=bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms",
                                                                "kms_master_key_id": "alias/aws/s3"}}],
            opts=o,
        )  # fmt: skip

    assert findings(program(declare), "s3-bucket-encrypted")


def test_sse_s3_is_accepted_only_on_a_bucket_that_receives_access_logs() -> None:
    """S3 delivers server access logs only to SSE-S3 buckets: that one exemption, no other."""

    def declare(o: pulumi.ResourceOptions, logged: bool) -> None:
        logs = aws.s3.Bucket("logs", bucket="team-access-logs", opts=o)
        aws.s3.BucketServerSideEncryptionConfiguration(
            "logs-sse", bucket=logs.bucket,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}], opts=o,
        )  # fmt: skip
        if logged:
            aws.s3.BucketLogging(
                "data-logging", bucket="team-data", target_bucket=logs.bucket, target_prefix="data/", opts=o
            )

    def flagged(logged: bool) -> list[str]:
        return [name for name, _ in findings(program(lambda o: declare(o, logged)), "s3-bucket-encrypted")]

    assert flagged(logged=True) == []
    assert flagged(logged=False) == ["logs"]  # SSE-S3 on any other bucket is still refused


def test_a_public_bucket_acl_resource_is_refused() -> None:
    plan = program(lambda o: aws.s3.BucketAcl("acl", bucket="b", acl="public-read-write", opts=o))
    assert findings(plan, "s3-bucket-not-public")


@pytest.mark.parametrize(
    ("declare", "resource", "gist"),
    [
        (lambda o: aws.iam.Role("r", assume_role_policy=json.dumps({"Statement": [{"Effect": "Allow",
         "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
         inline_policies=[{"name": "all", "policy": json.dumps({"Statement": [
             {"Effect": "Allow", "Action": "*", "Resource": "*"}]})}], opts=o), "r", "every action"),
        (lambda o: aws.iam.Role("r", assume_role_policy=json.dumps({"Statement": []}),
         managed_policy_arns=["arn:aws:iam::aws:policy/AdministratorAccess"], opts=o), "r",
         "managedPolicyArns includes AdministratorAccess"),
        (_policy("not", {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}), "not", "NotAction"),
        (lambda o: aws.iam.Role("r", assume_role_policy=json.dumps({"Statement": [{"Effect": "Allow",
         "Principal": "*", "Action": "sts:AssumeRole",
         "Condition": {"Bool": {"aws:SecureTransport": "true"}}}]}), opts=o), "r", "any AWS principal"),
    ],
)  # fmt: skip
def test_iam_grants_are_found_wherever_they_are_written(declare: Declare, resource: str, gist: str) -> None:
    found = findings(program(declare), "iam-least-privilege")
    assert any(name == resource and gist in message for name, message in found), found


def test_a_trust_policy_scoped_to_the_account_may_name_any_principal() -> None:
    statement = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
                 "Condition": {"StringEquals": {"aws:PrincipalAccount": "123456789012"}}}  # fmt: skip
    plan = program(
        lambda o: aws.iam.Role("r", assume_role_policy=json.dumps({"Statement": [statement]}), opts=o)
    )
    assert findings(plan, "iam-least-privilege") == []


def test_a_block_given_as_a_one_item_list_reads_as_the_object() -> None:
    """Some engines send a single nested block as a one-item list; the rules read it the same."""
    from infra.guardrails.check import check_subjects
    from infra.guardrails.model import Subject

    block = {"resources": ["secrets"], "provider": [{"keyArn": KEY}]}
    cluster = Subject("urn:eks", "aws:eks/cluster:Cluster", "eks", {"encryptionConfig": [block]})
    assert cluster.get("encryptionConfig", "provider", "keyArn") == KEY
    assert cluster.items("encryptionConfig", "resources") == ["secrets"]
    bucket = Subject("urn:b", "aws:s3/bucket:Bucket", "b", {}, id="b")
    sse = Subject(
        "urn:sse", "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "sse", {"bucket": "b", "rules": [{"applyServerSideEncryptionByDefault": [
            {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY}]}]},
        property_dependencies={"bucket": ["urn:b"]},
    )  # fmt: skip
    assert check_subjects([bucket, sse]).result("s3-bucket-encrypted").violations == []
    assert check_subjects([bucket]).result("s3-bucket-encrypted").violations


def test_an_origin_behind_the_edge_passes_both_origin_rules() -> None:
    """The compliant shapes, beside the bad ones above: Cloudflare's ranges on 443; MUTUAL with the
    zone's own origin-pull certificate. Cloudflare's shared certificate alone is not enough."""
    assert (
        findings(
            program(lambda o: _gateway_release(o, ranges=["173.245.48.0/20"])), "origin-admits-only-the-edge"
        )
        == []
    )
    assert findings(program(lambda o: _gateway(o, "MUTUAL")), "origin-pulls-authenticated") == []

    def shared_certificate(opts: pulumi.ResourceOptions) -> None:
        _gateway(opts, "MUTUAL", origin_pulls=False)
        cloudflare.AuthenticatedOriginPullsSettings("pulls", zone_id="z" * 32, enabled=True)

    assert any(
        "shared certificate" in m
        for _, m in findings(program(shared_certificate), "origin-pulls-authenticated")
    )
