"""Rules over one resource at a time: the platform's security and durability promises.

Each rule is registered in `model.RESOURCE_RULES` by `@resource_rule(name, description, *types)`
and yields one message per problem, naming the input and the fix. Durability rules (deletion
protection, backups, `protect`) hold for prod resources, told by their `environment` tag (see
`Subject.in_prod`); the rest hold everywhere.
"""

from __future__ import annotations

import importlib
import inspect
import ipaddress
import json
from collections.abc import Iterator
from functools import cache
from typing import Any

from infra.config.rules import PROD_MIN_BACKUP_RETENTION_DAYS

from .model import REQUIRED_TAGS, UNKNOWN, Subject, Undetermined, is_false, is_set, is_true, resource_rule

__all__ = [
    "EKS_LOG_TYPES",
    "HELM_RELEASE",
    "STATEFUL_TYPES",
    "WORLD",
    "aws_managed_key",
    "forces_tls",
    "is_taggable",
    "number",
]

RDS_CLUSTER = "aws:rds/cluster:Cluster"
RDS_GLOBAL = "aws:rds/globalCluster:GlobalCluster"
RDS_CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_CLUSTER_PARAMETERS = "aws:rds/clusterParameterGroup:ClusterParameterGroup"
RDS_PARAMETERS = "aws:rds/parameterGroup:ParameterGroup"
RDS_PROXY = "aws:rds/proxy:Proxy"
CACHE_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
CACHE_GLOBAL = "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup"
CACHE_USER = "aws:elasticache/user:User"
EKS_CLUSTER = "aws:eks/cluster:Cluster"
KMS_KEY = "aws:kms/key:Key"
S3_BUCKET = "aws:s3/bucket:Bucket"
#: pulumi-aws 7 still registers the 6.x names of the S3 resources (deprecated aliases).
S3_BUCKETS = (S3_BUCKET, "aws:s3/bucketV2:BucketV2")
S3_BUCKET_ACLS = ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2")
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
IAM_ROLE = "aws:iam/role:Role"
IAM_POLICIES = (
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/policy:Policy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
)
IAM_ATTACHMENTS = (
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
)
ZONE_SETTING = "cloudflare:index/zoneSetting:ZoneSetting"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"

#: Resources whose loss loses data or what guards it: Pulumi `protect` in prod.
STATEFUL_TYPES = (
    RDS_CLUSTER,
    RDS_GLOBAL,
    RDS_INSTANCE,
    CACHE_GROUP,
    CACHE_GLOBAL,
    KMS_KEY,
    *S3_BUCKETS,
    LOG_GROUP,
    "aws:secretsmanager/secret:Secret",
    "aws:backup/vault:Vault",
    "aws:dynamodb/table:Table",
)
#: Every EKS control-plane log type: audit and authenticator are the audit trail.
EKS_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
#: Addresses that mean "anyone on the internet".
WORLD = frozenset({"0.0.0.0/0", "::/0"})
#: AWS-managed policies that grant far more than any workload of the platform needs.
BROAD_MANAGED_POLICIES = frozenset(
    {"AdministratorAccess", "PowerUserAccess", "IAMFullAccess", "AmazonS3FullAccess"}
)


def number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def aws_managed_key(key: Any) -> bool:
    """An AWS-managed key (`alias/aws/rds`): encrypts, but its policy is AWS's, not ours."""
    return isinstance(key, str) and "alias/aws/" in key


def force_ssl(parameter_group: Subject) -> str | None:
    """The `rds.force_ssl` a PostgreSQL parameter group sets (None: it does not)."""
    values = {str(p.get("name")): str(p.get("value")) for p in parameter_group.items("parameters")}
    return values.get("rds.force_ssl")


def forces_tls(parameter_group: Subject) -> bool:
    return force_ssl(parameter_group) == "1"


def _customer_key(subject: Subject, key: str, what: str) -> Iterator[str]:
    value = subject.get(key)
    if not is_set(value):
        yield f"{key} is not set: {what} must be encrypted with the region's customer-managed KMS key"
    elif aws_managed_key(value):
        yield f"{key} is an AWS-managed key ({value}); use the region's customer-managed key"


# --- PostgreSQL / RDS --------------------------------------------------------------------------


@resource_rule(
    "rds-encrypted-with-customer-key",
    "Aurora and RDS storage (and Performance Insights) are encrypted with a customer-managed KMS key",
    RDS_CLUSTER,
    RDS_GLOBAL,
    RDS_INSTANCE,
    RDS_CLUSTER_INSTANCE,
)
def _rds_encrypted(subject: Subject) -> Iterator[str]:
    if subject.type in (RDS_CLUSTER, RDS_GLOBAL, RDS_INSTANCE) and not is_true(
        subject.get("storageEncrypted")
    ):
        yield "storageEncrypted is not true: set storage_encrypted=True"
    if subject.type in (RDS_CLUSTER, RDS_INSTANCE):
        yield from _customer_key(subject, "kmsKeyId", "the database")
    if is_true(subject.get("performanceInsightsEnabled")):
        yield from _customer_key(subject, "performanceInsightsKmsKeyId", "Performance Insights")


@resource_rule(
    "rds-tls-required",
    "PostgreSQL parameter groups force TLS (rds.force_ssl=1) and RDS Proxies require TLS",
    RDS_CLUSTER_PARAMETERS,
    RDS_PARAMETERS,
    RDS_PROXY,
)
def _rds_tls(subject: Subject) -> Iterator[str]:
    if subject.type == RDS_PROXY:
        if not is_true(subject.get("requireTls")):
            yield "requireTls is not true: clients could connect to the proxy in plain text"
        return
    family = str(subject.get("family", default=""))
    if "postgres" not in family:
        return
    if not forces_tls(subject):
        yield f"rds.force_ssl is {force_ssl(subject) or 'unset'}: set it to 1 (no plain-text clients)"


@resource_rule(
    "rds-not-public",
    "No database instance is reachable from the internet",
    RDS_CLUSTER_INSTANCE,
    RDS_INSTANCE,
)
def _rds_private(subject: Subject) -> Iterator[str]:
    if subject.get("publiclyAccessible") is not None and not is_false(subject.get("publiclyAccessible")):
        yield "publiclyAccessible is true: databases are reached through the VPC only"


@resource_rule(
    "rds-audit-logs-exported",
    "PostgreSQL logs (connections, DDL, pgaudit) are exported to CloudWatch Logs",
    RDS_CLUSTER,
    RDS_INSTANCE,
)
def _rds_logs(subject: Subject) -> Iterator[str]:
    engine = str(subject.get("engine", default=""))
    if "postgres" in engine and "postgresql" not in subject.items("enabledCloudwatchLogsExports"):
        yield "enabledCloudwatchLogsExports lacks 'postgresql': the audit log would stay on the instance"


@resource_rule(
    "rds-prod-durability",
    "Prod databases: deletion protection, a final snapshot, and backups for point-in-time recovery",
    RDS_CLUSTER,
    RDS_GLOBAL,
    RDS_INSTANCE,
)
def _rds_durable(subject: Subject) -> Iterator[str]:
    if not subject.in_prod:
        return
    if not is_true(subject.get("deletionProtection")):
        yield "deletionProtection is not true: a prod database must refuse deletion"
    if subject.type == RDS_GLOBAL:
        return
    retention = number(subject.get("backupRetentionPeriod"))
    if retention is None or retention < PROD_MIN_BACKUP_RETENTION_DAYS:
        yield (
            f"backupRetentionPeriod is {subject.get('backupRetentionPeriod', default='unset')}: prod "
            f"keeps at least {PROD_MIN_BACKUP_RETENTION_DAYS} days of point-in-time recovery"
        )
    if is_true(subject.get("skipFinalSnapshot")) or not is_set(subject.get("finalSnapshotIdentifier")):
        yield "no final snapshot: set final_snapshot_identifier and leave skip_final_snapshot false"


# --- Redis / ElastiCache -----------------------------------------------------------------------


def _global_secondary(subject: Subject) -> bool:
    """A global datastore's secondary takes encryption, TLS and auth from its primary (AWS
    rejects them on the secondary); the primary is checked for them."""
    return is_set(subject.get("globalReplicationGroupId"))


@resource_rule(
    "elasticache-encrypted",
    "ElastiCache is encrypted at rest with a customer-managed key and requires TLS in transit",
    CACHE_GROUP,
)
def _cache_encrypted(subject: Subject) -> Iterator[str]:
    if _global_secondary(subject):
        yield from _customer_key(subject, "kmsKeyId", "the cache")
        return
    if not is_true(subject.get("atRestEncryptionEnabled")):
        yield "atRestEncryptionEnabled is not true: set at_rest_encryption_enabled=True"
    yield from _customer_key(subject, "kmsKeyId", "the cache")
    if not is_true(subject.get("transitEncryptionEnabled")):
        yield "transitEncryptionEnabled is not true: clients would connect in plain text"
    elif subject.get("transitEncryptionMode") == "preferred":
        yield "transitEncryptionMode is preferred: set it to required so plain-text clients are refused"


@resource_rule(
    "elasticache-auth",
    "ElastiCache needs authentication: an RBAC user group or an AUTH token, no password-less users",
    CACHE_GROUP,
    CACHE_USER,
)
def _cache_auth(subject: Subject) -> Iterator[str]:
    if subject.type == CACHE_USER:
        mode = subject.get("authenticationMode", "type")
        if is_true(subject.get("noPasswordRequired")) or mode == "no-password-required":
            yield "the user needs no password: give it a password or IAM authentication"
        return
    if _global_secondary(subject):
        return
    if not is_set(subject.get("userGroupIds")) and not is_set(subject.get("authToken")):
        yield "no userGroupIds and no authToken: anyone who reaches the port may run commands"


@resource_rule(
    "elasticache-failover",
    "ElastiCache replicates within the region and fails over automatically (Multi-AZ)",
    CACHE_GROUP,
)
def _cache_failover(subject: Subject) -> Iterator[str]:
    if not is_true(subject.get("automaticFailoverEnabled")):
        yield "automaticFailoverEnabled is not true: a failed primary would not be replaced"
    if not is_true(subject.get("multiAzEnabled")):
        yield "multiAzEnabled is not true: replicas could share the primary's AZ"
    replicas = number(subject.get("replicasPerNodeGroup"))
    if replicas is not None and replicas < 1:
        yield "replicasPerNodeGroup is 0: there is no replica to fail over to"


@resource_rule(
    "elasticache-prod-durability",
    "Prod caches keep daily snapshots and take a final snapshot when deleted",
    CACHE_GROUP,
)
def _cache_durable(subject: Subject) -> Iterator[str]:
    if not subject.in_prod:
        return
    if (number(subject.get("snapshotRetentionLimit")) or 0) < 1:
        yield "snapshotRetentionLimit is 0: prod keeps at least one day of snapshots"
    if not is_set(subject.get("finalSnapshotIdentifier")):
        yield "finalSnapshotIdentifier is not set: deleting the group would lose its data"


# --- EKS ---------------------------------------------------------------------------------------


@resource_rule(
    "eks-secrets-encrypted",
    "EKS envelope-encrypts Kubernetes secrets with a customer-managed KMS key",
    EKS_CLUSTER,
)
def _eks_secrets(subject: Subject) -> Iterator[str]:
    if "secrets" not in subject.items("encryptionConfig", "resources"):
        yield "encryptionConfig does not cover secrets: set encryption_config.resources=['secrets']"
    elif not is_set(subject.get("encryptionConfig", "provider", "keyArn")):
        yield "encryptionConfig.provider.keyArn is not set: name the region's KMS key"


@resource_rule(
    "eks-control-plane-logs",
    "EKS sends every control-plane log (api, audit, authenticator, controller manager, scheduler)",
    EKS_CLUSTER,
)
def _eks_logs(subject: Subject) -> Iterator[str]:
    logged = subject.items("enabledClusterLogTypes")
    missing = [t for t in EKS_LOG_TYPES if t not in logged]
    if missing:
        yield (
            f"enabledClusterLogTypes lacks {', '.join(missing)}: the control plane's audit trail is "
            "incomplete"
        )


@resource_rule(
    "eks-endpoint-not-public",
    "The EKS API endpoint is not open to the whole internet",
    EKS_CLUSTER,
)
def _eks_endpoint(subject: Subject) -> Iterator[str]:
    public = subject.get("vpcConfig", "endpointPublicAccess", default=True)  # AWS's default: public
    if is_false(public):
        return
    cidrs = subject.items("vpcConfig", "publicAccessCidrs") or ["0.0.0.0/0"]  # AWS's default: anyone
    if WORLD.intersection(cidrs):
        yield (
            "the API endpoint is public to 0.0.0.0/0: set endpoint_public_access=False, or "
            "public_access_cidrs to the operators' ranges"
        )


# --- KMS, logs, S3 -------------------------------------------------------------------------------


@resource_rule("kms-key-rotation", "Symmetric KMS keys rotate their key material yearly", KMS_KEY)
def _kms_rotation(subject: Subject) -> Iterator[str]:
    spec = subject.get("customerMasterKeySpec") or subject.get("keySpec") or "SYMMETRIC_DEFAULT"
    if spec == "SYMMETRIC_DEFAULT" and not is_true(subject.get("enableKeyRotation")):
        yield "enableKeyRotation is not true: set enable_key_rotation=True"


@resource_rule(
    "log-group-encrypted-and-retained",
    "CloudWatch log groups are encrypted with a customer-managed key and expire after a set retention",
    LOG_GROUP,
)
def _log_group(subject: Subject) -> Iterator[str]:
    yield from _customer_key(subject, "kmsKeyId", "the log group")
    if (number(subject.get("retentionInDays")) or 0) <= 0:
        yield "retentionInDays is not set: logs would be kept (and paid for) forever"


@resource_rule(
    "s3-bucket-not-public",
    "No S3 bucket grants public access through a public canned ACL",
    *S3_BUCKETS,
    *S3_BUCKET_ACLS,
)
def _bucket_acl(subject: Subject) -> Iterator[str]:
    if str(subject.get("acl", default="")).startswith("public-"):
        yield f"acl is {subject.get('acl')}: buckets are private; serve public content through the CDN"


# --- Kubernetes ----------------------------------------------------------------------------------


def _world_block(cidr: Any) -> bool:
    """An address block of prefix length 0 (`0.0.0.0/0`, `::/0`, `0::/0`): every address."""
    try:
        return ipaddress.ip_network(str(cidr), strict=False).prefixlen == 0
    except ValueError:
        return False


@resource_rule(
    "network-policy-no-world-cidr",
    "No NetworkPolicy opens egress to, or ingress from, every address (an ipBlock of 0.0.0.0/0 or ::/0)",
    NETWORK_POLICY,
)
def _network_policy_world(subject: Subject) -> Iterator[str]:
    # An `except` list does not make a world-wide block safe: what it leaves open is the internet,
    # a way out past the namespace's default deny. Name the destination's own range instead.
    for direction, peers in (("egress", "to"), ("ingress", "from")):
        for i, rule in enumerate(subject.items("spec", direction)):
            for peer in (rule.get(peers) or []) if isinstance(rule, dict) else []:
                block = peer.get("ipBlock") if isinstance(peer, dict) else None
                if isinstance(block, dict) and _world_block(block.get("cidr")):
                    verb = "reaches" if direction == "egress" else "admits"
                    yield (
                        f"spec.{direction}[{i}] {verb} ipBlock {block.get('cidr')} (every address, "
                        "whatever it excepts): name the destination's own range (its subnets, or an "
                        "interface endpoint's)"
                    )


# --- IAM -----------------------------------------------------------------------------------------


def _statements(document: Any) -> list[dict[str, Any]]:
    if document is UNKNOWN:
        raise Undetermined("the policy document is not known yet")
    if not document:
        return []
    parsed = json.loads(document) if isinstance(document, str) else document
    statements = parsed.get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def _listed(value: Any) -> list[Any]:
    return [value] if isinstance(value, str | dict) else list(value or [])


#: Condition keys that confine a trust policy's `"*"` principal to this account or organisation.
SCOPING_CONDITION_KEYS = frozenset(
    {"aws:sourceaccount", "aws:sourcearn", "aws:principalaccount", "aws:principalorgid", "aws:principalarn"}
)


def _permission_problems(document: Any) -> Iterator[str]:
    for statement in _statements(document):
        if statement.get("Effect") != "Allow":
            continue
        sid = statement.get("Sid", "")
        if "NotAction" in statement or "NotResource" in statement:
            yield f"statement {sid!r} allows through NotAction/NotResource (all else): list what it allows"
            continue
        actions = [str(a) for a in _listed(statement.get("Action"))]
        resources = [str(r) for r in _listed(statement.get("Resource"))]
        if "*" in actions:
            yield f"statement {sid!r} allows every action ('*'): list the actions"
        elif "*" in resources and any(a.endswith(":*") for a in actions):
            wild = ", ".join(a for a in actions if a.endswith(":*"))
            yield f"statement {sid!r} allows {wild} on every resource: narrow one or the other"


def _broad_managed_policy(arn: Any) -> str | None:
    name = str(arn).split("/")[-1]
    return name if ":aws:policy/" in str(arn) and name in BROAD_MANAGED_POLICIES else None


def _trust_problems(document: Any) -> Iterator[str]:
    for statement in _statements(document):
        principals = statement.get("Principal")
        anyone = principals == "*" or "*" in _listed((principals or {}).get("AWS", []))
        conditions = {k.lower() for test in (statement.get("Condition") or {}).values() for k in test}
        if statement.get("Effect") == "Allow" and anyone and not conditions & SCOPING_CONDITION_KEYS:
            yield "the trust policy lets any AWS principal assume the role: name the principals"


@resource_rule(
    "iam-least-privilege",
    "IAM grants no '*' actions, no whole-service wildcards on every resource, no NotAction, no "
    "broad managed policies, and no role anyone may assume",
    IAM_ROLE,
    *IAM_POLICIES,
    *IAM_ATTACHMENTS,
)
def _iam(subject: Subject) -> Iterator[str]:
    if subject.type in IAM_ATTACHMENTS:
        broad = _broad_managed_policy(subject.get("policyArn"))
        if broad:
            yield f"attaches {broad}: grant the actions the role needs instead"
        return
    if subject.type == IAM_ROLE:
        yield from _trust_problems(subject.get("assumeRolePolicy"))
        for inline in subject.items("inlinePolicies"):
            yield from _permission_problems(inline.get("policy"))
        for arn in subject.items("managedPolicyArns"):
            broad = _broad_managed_policy(arn)
            if broad:
                yield f"managedPolicyArns includes {broad}: grant the actions the role needs instead"
        return
    yield from _permission_problems(subject.get("policy"))


# --- tags ------------------------------------------------------------------------------------------


@cache
def is_taggable(type_token: str) -> bool:
    """Whether the pulumi-aws resource of *type_token* takes `tags`, from the SDK's own class (found
    through the resource modules pulumi-aws registers with the Pulumi runtime)."""
    import pulumi_aws  # noqa: F401  (registers its resource modules)
    from pulumi.runtime.rpc import get_resource_module

    package, module_name, _ = type_token.split(":", 2)
    module = get_resource_module(package, module_name, "")
    class_name = getattr(module, "mod_info", {}).get("classes", {}).get(type_token)
    if class_name is None:
        return False
    cls = getattr(importlib.import_module(module.mod_info["fqn"]), class_name)  # type: ignore[union-attr]
    return "tags" in inspect.signature(cls._internal_init).parameters


@resource_rule(
    "aws-resource-tagged",
    f"Every taggable AWS resource carries the stack's tags ({', '.join(REQUIRED_TAGS)})",
    applies=lambda t: t.startswith("aws:") and is_taggable(t),
)
def _tagged(subject: Subject) -> Iterator[str]:
    missing = [tag for tag in REQUIRED_TAGS if not is_set(subject.tags.get(tag))]
    if missing:
        yield (
            f"missing tags {', '.join(missing)}: declare it with the region's provider, whose "
            "default tags carry them"
        )


# --- Cloudflare ----------------------------------------------------------------------------------


@resource_rule(
    "cloudflare-tls-strict",
    "The Cloudflare zone verifies origins (SSL strict) and accepts TLS 1.2 or newer only",
    ZONE_SETTING,
)
def _cloudflare_tls(subject: Subject) -> Iterator[str]:
    setting, value = subject.get("settingId"), subject.get("value")
    if setting == "ssl" and value != "strict":
        yield f"ssl is {value!r}: set it to 'strict' so Cloudflare verifies each origin's certificate"
    if setting == "min_tls_version" and value not in ("1.2", "1.3"):
        yield f"min_tls_version is {value!r}: set it to '1.2' or newer"


# --- origins -------------------------------------------------------------------------------------

HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
KUBE_SERVICE = "kubernetes:core/v1:Service"
#: The one port an origin load balancer listens on.
ORIGIN_PORTS = frozenset({443})


def _load_balancer_service(subject: Subject) -> tuple[str, ...] | None:
    """The path to a LoadBalancer Service's spec: a Service's `spec`, or a Helm release's
    `values.service` (the charts this stack installs, Istio's gateway among them, take it there)."""
    path = ("spec",) if subject.type == KUBE_SERVICE else ("values", "service")
    return path if subject.get(*path, "type") == "LoadBalancer" else None


@resource_rule(
    "origin-admits-only-the-edge",
    "A LoadBalancer Service (an origin) admits only listed public networks, the CDN's, and on 443 only",
    HELM_RELEASE,
    KUBE_SERVICE,
)
def _origin_sources(subject: Subject) -> Iterator[str]:
    path = _load_balancer_service(subject)
    if path is None:
        return
    sources = subject.items(*path, "loadBalancerSourceRanges")
    if not sources:
        yield (
            "loadBalancerSourceRanges is empty, so the NLB admits the whole internet past the CDN's "
            "WAF and rate limits: set it to the CDN's published ranges (edge_source_ranges)"
        )
    for cidr in sources:
        network = ipaddress.ip_network(str(cidr), strict=False)
        if str(network) in WORLD or not network.is_global:
            yield f"loadBalancerSourceRanges has {cidr}: list only the CDN's published (public) ranges"
    ports = {
        number(port.get("port")) if isinstance(port, dict) else None for port in subject.items(*path, "ports")
    }
    if ports - ORIGIN_PORTS or not ports:
        opened = sorted(str(int(p)) if p is not None else "?" for p in ports)
        yield f"the Service opens ports {opened}: an origin listens on 443 only (set ports to https/443)"


# --- protection ----------------------------------------------------------------------------------


@resource_rule(
    "prod-stateful-protected",
    "Prod data stores, keys, secrets, vaults and log groups are declared with Pulumi's protect",
    *STATEFUL_TYPES,
)
def _protected(subject: Subject) -> Iterator[str]:
    if subject.in_prod and not subject.protect:
        yield "protect is off: a prod data store, key or log must survive `pulumi destroy` and replacement"
