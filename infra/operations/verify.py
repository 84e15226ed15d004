"""`meridian verify`: what runs in the account, checked against what the stack declares.

The expectations come from the offline plan (the inputs the program declares for each VPC, EKS
cluster, Aurora cluster and ElastiCache replication group), so a setting changed in the console
(drift) or a resource deleted by hand shows here before the next `pulumi up` meets it. The live
side is read with boto3, **read-only** (`Describe*` calls), one client per service and region with
botocore's adaptive retries, so throttling slows the run down instead of failing it.

What is checked, per kind:

- VPC: exists (by its `Name` tag), CIDR.
- EKS cluster: exists, Kubernetes version, secrets encrypted with a KMS key, control-plane log
  types, public endpoint.
- Aurora cluster: exists, encrypted with a customer key, deletion protection, backup retention,
  global database, writer, global write forwarding requested (and, on a secondary, enabled).
- ElastiCache group: exists, at rest with a customer key, TLS in transit, Multi-AZ, automatic
  failover, snapshot retention, global datastore role.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    PartialCredentialsError,
)
from rich.console import Console
from rich.table import Table

from ..config.naming import redis_group_id
from ..plan.mocks import RecordedResource
from ..plan.run import Plan

__all__ = [
    "RETRIES",
    "ClientFactory",
    "Expectation",
    "Finding",
    "VerifyError",
    "account_error",
    "aws_clients",
    "expectations",
    "render_verify",
    "verify",
    "verify_json",
]

#: botocore's adaptive mode: exponential backoff with jitter plus client-side rate limiting, the
#: mode AWS recommends for throttled control-plane calls.
RETRIES = Config(retries={"mode": "adaptive", "total_max_attempts": 10}, connect_timeout=10, read_timeout=30)

#: (service, region) → a boto3 client.
ClientFactory = Callable[[str, str], Any]

MISSING = "missing"


class VerifyError(Exception):
    """The account could not be read (no credentials, access denied, no network): nothing was
    judged. `str()` says what to do."""


@dataclass(frozen=True)
class Expectation:
    """One declared resource and the values it must have live (check → expected value)."""

    region: str
    kind: str
    name: str
    checks: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Finding:
    region: str
    kind: str
    name: str
    check: str
    expected: object
    actual: object

    @property
    def ok(self) -> bool:
        return self.expected == self.actual


def aws_clients() -> ClientFactory:
    """Clients from the default credential chain (AWS_PROFILE, SSO, environment, instance role),
    one per service and region, with `RETRIES`."""
    try:
        session = boto3.session.Session()
    except BotoCoreError as error:  # an AWS_PROFILE that does not exist, a broken config file
        raise account_error(error) from None
    made: dict[tuple[str, str], Any] = {}

    def client(service: str, region: str) -> Any:
        if (service, region) not in made:
            made[(service, region)] = session.client(service, region_name=region, config=RETRIES)
        return made[(service, region)]

    return client


# --- what the plan declares ----------------------------------------------------------------------


def _customer_key(key_id: object) -> bool:
    """A KMS key of the account's own: set, and not an AWS-managed alias (`alias/aws/...`)."""
    return bool(key_id) and "alias/aws/" not in str(key_id)


def _global_suffixes(plan: Plan) -> dict[str, str]:
    """Primary replication group id → its global datastore's id suffix."""
    return {
        str(g.inputs["primaryReplicationGroupId"]): str(g.inputs["globalReplicationGroupIdSuffix"])
        for g in plan.of_type("aws:elasticache/globalReplicationGroup:GlobalReplicationGroup")
    }


def _expect(plan: Plan, resource: RecordedResource, kind: str, name: str, **checks: object) -> Expectation:
    return Expectation(plan.regions.get(resource.urn) or "", kind, name, {"exists": True, **checks})


def expectations(plan: Plan) -> list[Expectation]:
    """What every VPC, EKS cluster, Aurora cluster and ElastiCache group of *plan* must be live."""
    found: list[Expectation] = []
    for vpc in plan.of_type("aws:ec2/vpc:Vpc"):
        name = str((vpc.inputs.get("tags") or {}).get("Name", vpc.name))
        found.append(_expect(plan, vpc, "VPC", name, cidr=vpc.inputs.get("cidrBlock")))
    for eks in plan.of_type("aws:eks/cluster:Cluster"):
        i = eks.inputs
        found.append(
            _expect(
                plan,
                eks,
                "EKS cluster",
                str(i["name"]),
                version=i.get("version"),
                secrets_encrypted=bool((i.get("encryptionConfig") or {}).get("provider")),
                log_types=sorted(i.get("enabledClusterLogTypes") or []),
                public_endpoint=bool((i.get("vpcConfig") or {}).get("endpointPublicAccess")),
            )
        )
    # The writer and the datastores' primaries are wherever `writeHome` says writes go now, not
    # where the plan declares the global resources (the anchor region): a failover moves them.
    write_home = plan.outputs.get("writeHome")
    for cluster in plan.of_type("aws:rds/cluster:Cluster"):
        i = cluster.inputs
        name = str(i["clusterIdentifier"])
        found.append(
            _expect(
                plan,
                cluster,
                "Aurora cluster",
                name,
                customer_key=bool(i.get("storageEncrypted")) and _customer_key(i.get("kmsKeyId")),
                deletion_protection=bool(i.get("deletionProtection")),
                backup_retention_days=int(i.get("backupRetentionPeriod") or 1),
                global_database=i.get("globalClusterIdentifier"),
                writer=plan.regions.get(cluster.urn) == write_home,
                # Each secondary forwards its region's writes (the writer once a failover demotes it).
                write_forwarding=bool(i.get("enableGlobalWriteForwarding")),
                # ... and on a secondary it must have taken effect, not be stuck `enabling`.
                **(
                    {"forwarding_active": True}
                    if i.get("enableGlobalWriteForwarding") and plan.regions.get(cluster.urn) != write_home
                    else {}
                ),
            )
        )
    primaries = {
        redis_group_id(plan.stack, region, store)
        for store, region in (plan.outputs.get("redisPrimaryRegions") or {}).items()
    }
    created_primaries = _global_suffixes(plan)
    for group in plan.of_type("aws:elasticache/replicationGroup:ReplicationGroup"):
        i = group.inputs
        name = str(i["replicationGroupId"])
        global_member = name in created_primaries or bool(i.get("globalReplicationGroupId"))
        role = "none" if not global_member else "primary" if name in primaries else "secondary"
        found.append(
            _expect(
                plan,
                group,
                "ElastiCache group",
                name,
                customer_key=_customer_key(i.get("kmsKeyId"))
                and i.get("atRestEncryptionEnabled") is not False,
                tls=i.get("transitEncryptionEnabled") is not False,
                multi_az=bool(i.get("multiAzEnabled")),
                automatic_failover=bool(i.get("automaticFailoverEnabled")),
                snapshot_retention_days=int(i.get("snapshotRetentionLimit") or 0),
                global_role=role,
            )
        )
    return found


# --- what runs -----------------------------------------------------------------------------------


def _managed_by_customer(clients: ClientFactory, region: str, key_id: object) -> bool:
    """Whether the live resource's key is the account's own: AWS answers with a key ARN for its
    managed keys (`aws/rds`) too, so the key itself is asked who manages it."""
    if not key_id:
        return False
    try:
        metadata = clients("kms", region).describe_key(KeyId=str(key_id))["KeyMetadata"]
    except ClientError as error:
        if _not_found(error, "NotFoundException"):
            return False
        raise
    return bool(metadata.get("KeyManager") == "CUSTOMER")


def _not_found(error: ClientError, *codes: str) -> bool:
    return error.response.get("Error", {}).get("Code") in codes


def _vpc(clients: ClientFactory, region: str, name: str) -> dict[str, object] | None:
    vpcs = clients("ec2", region).describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [name]}])["Vpcs"]
    return {"cidr": vpcs[0]["CidrBlock"]} if vpcs else None


def _eks(clients: ClientFactory, region: str, name: str) -> dict[str, object] | None:
    try:
        cluster = clients("eks", region).describe_cluster(name=name)["cluster"]
    except ClientError as error:
        if _not_found(error, "ResourceNotFoundException"):
            return None
        raise
    enabled = {
        t
        for setting in cluster.get("logging", {}).get("clusterLogging", [])
        if setting.get("enabled")
        for t in setting.get("types", [])
    }
    return {
        "version": cluster.get("version"),
        "secrets_encrypted": any(
            "secrets" in c.get("resources", []) and c.get("provider", {}).get("keyArn")
            for c in cluster.get("encryptionConfig", [])
        ),
        "log_types": sorted(enabled),
        "public_endpoint": bool(cluster.get("resourcesVpcConfig", {}).get("endpointPublicAccess")),
    }


def _aurora(clients: ClientFactory, region: str, name: str) -> dict[str, object] | None:
    rds = clients("rds", region)
    try:
        cluster = rds.describe_db_clusters(DBClusterIdentifier=name)["DBClusters"][0]
    except ClientError as error:
        if _not_found(error, "DBClusterNotFoundFault"):
            return None
        raise
    global_id = cluster.get("GlobalClusterIdentifier")
    writer = False
    if global_id:
        members = rds.describe_global_clusters(GlobalClusterIdentifier=global_id)["GlobalClusters"][0]
        writer = any(
            m.get("DBClusterArn") == cluster["DBClusterArn"] and m.get("IsWriter")
            for m in members.get("GlobalClusterMembers", [])
        )
    return {
        "customer_key": bool(cluster.get("StorageEncrypted"))
        and _managed_by_customer(clients, region, cluster.get("KmsKeyId")),
        "deletion_protection": bool(cluster.get("DeletionProtection")),
        "backup_retention_days": cluster.get("BackupRetentionPeriod"),
        "global_database": global_id,
        "writer": writer if global_id else not cluster.get("ReplicationSourceIdentifier"),
        "write_forwarding": bool(cluster.get("GlobalWriteForwardingRequested")),
        "forwarding_active": cluster.get("GlobalWriteForwardingStatus") == "enabled",
    }


def _elasticache(clients: ClientFactory, region: str, name: str) -> dict[str, object] | None:
    try:
        group = clients("elasticache", region).describe_replication_groups(ReplicationGroupId=name)[
            "ReplicationGroups"
        ][0]
    except ClientError as error:
        if _not_found(error, "ReplicationGroupNotFoundFault"):
            return None
        raise
    membership = group.get("GlobalReplicationGroupInfo") or {}
    return {
        "customer_key": bool(group.get("AtRestEncryptionEnabled"))
        and _managed_by_customer(clients, region, group.get("KmsKeyId")),
        "tls": bool(group.get("TransitEncryptionEnabled")),
        "multi_az": group.get("MultiAZ") == "enabled",
        "automatic_failover": group.get("AutomaticFailover") == "enabled",
        "snapshot_retention_days": group.get("SnapshotRetentionLimit", 0),
        "global_role": str(membership.get("GlobalReplicationGroupMemberRole") or "none").lower(),
    }


_READERS: dict[str, Callable[[ClientFactory, str, str], dict[str, object] | None]] = {
    "VPC": _vpc,
    "EKS cluster": _eks,
    "Aurora cluster": _aurora,
    "ElastiCache group": _elasticache,
}


def account_error(
    error: Exception, need: str = "read access (the ReadOnlyAccess policy covers it)"
) -> VerifyError:
    """What to tell the operator when AWS could not be asked: *need* names the permissions."""
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return VerifyError(
            "no AWS credentials: sign in (`aws sso login --profile P` and AWS_PROFILE=P) or set "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        operation = error.operation_name
        return VerifyError(
            f"AWS refused {operation} ({code}): {error.response.get('Error', {}).get('Message', '')}; "
            f"this needs {need}"
        )
    return VerifyError(f"AWS could not be reached: {error}")


def verify(expected: Iterable[Expectation], clients: ClientFactory) -> list[Finding]:
    """Each expectation's checks against the live resource; raises VerifyError when the account
    cannot be read at all."""
    findings: list[Finding] = []
    for e in expected:
        try:
            live = _READERS[e.kind](clients, e.region, e.name)
        except (ClientError, BotoCoreError) as error:
            raise account_error(error) from None
        if live is None:
            findings.append(Finding(e.region, e.kind, e.name, "exists", True, MISSING))
            continue
        findings.append(Finding(e.region, e.kind, e.name, "exists", True, True))
        for check, value in e.checks.items():
            if check != "exists":
                findings.append(Finding(e.region, e.kind, e.name, check, value, live.get(check)))
    return findings


def _show(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "(none)"
    return str(value)


def render_verify(findings: list[Finding], stack: str, console: Console) -> None:
    """A row per resource that conforms; a row per check that drifted, with both values."""
    drift = [f for f in findings if not f.ok]
    table = Table(title=f"Live {stack} against its stack")
    for column in ("region", "kind", "resource", "verdict"):
        table.add_column(column)
    resources = dict.fromkeys((f.region, f.kind, f.name) for f in findings)
    for region, kind, name in resources:
        wrong = [f for f in drift if (f.region, f.kind, f.name) == (region, kind, name)]
        if not wrong:
            verdict = "[green]as declared[/]"
        elif wrong[0].actual == MISSING:
            verdict = "[bold red]missing[/]"
        else:
            verdict = "; ".join(
                f"[red]{f.check.replace('_', ' ')}[/]: {_show(f.actual)} (declared {_show(f.expected)})"
                for f in wrong
            )
        table.add_row(region, kind, name, verdict)
    console.print(table)
    checked = len(findings)
    console.print(
        f"{len(resources)} resources, {checked} checks: "
        + (
            "[bold]no drift[/]."
            if not drift
            else f"[bold]{len(drift)} drifted[/]; `pulumi up` restores "
            "what it manages, and a missing stateful resource is a restore, not a re-create."
        )
    )


def verify_json(findings: list[Finding]) -> dict[str, object]:
    return {
        "drift": sum(not f.ok for f in findings),
        "checks": len(findings),
        "findings": [
            {
                "region": f.region,
                "kind": f.kind,
                "name": f.name,
                "check": f.check,
                "expected": f.expected,
                "actual": f.actual,
                "ok": f.ok,
            }
            for f in findings
        ],
    }
