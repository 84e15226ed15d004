"""What the test modules share: the offline plans, stack files that fail validation, reading a
plan's resources, a team's own program, and AWS clients that never leave the process.

No test module imports another; they import from here, and take fixtures from conftest.py.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pytest
import yaml

from components import (
    EksClusterArgs,
    RegionRole,
)
from components.eks.eks_cluster import build_kubeconfig
from infra.config.errors import ConfigError
from infra.config.loading import load_stack_file, validate_config
from infra.operations.verify import RETRIES, Expectation, expectations
from infra.plan.mocks import MOCK_ACCOUNT_ID, RecordedResource
from infra.plan.run import Plan, run_plan
from tests.plan_cache import PlanCache

# --- the offline plans ----------------------------------------------------------------------------


PROJECT_DIR = Path(__file__).resolve().parent.parent

STACKS = ("prod", "staging")

PLANS = PlanCache(run_plan)

PLANS.install()  # at import, before any test module imports the CLI or the failover


def plan_of(stack: str) -> Plan:
    """The offline plan of the project's own stack file (made once per session)."""
    return PLANS(PROJECT_DIR, stack)


def plan_with(tmp_path: Path, stack: str, change: Callable[[dict[str, Any]], None]) -> Plan:
    """The offline plan of `stack` after `change(config)` edits a copy of its stack file."""
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    document = yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text())
    change(document["config"])
    (tmp_path / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(document))
    return PLANS(tmp_path, stack)


def write_stack(tmp_path: Path, stack: str, change: dict[str, Any]) -> Path:
    (tmp_path / "Pulumi.yaml").write_text((PROJECT_DIR / "Pulumi.yaml").read_text())
    values = yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text())
    for key, value in change.items():
        if value is None:
            values["config"].pop(key)
        else:
            values["config"][key] = value
    (tmp_path / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(values))
    return tmp_path


# --- stacks with global Redis stores -------------------------------------------------------------
#
# Neither stack file replicates a Redis store across regions any more (a global datastore's copies
# are read-only, and every region that serves must write its sessions and queues), but the
# component, the validation and `meridian failover cache` still support one. These variants keep
# the topology the stack files had before, made valid: the regions holding a read-only copy are
# standbys, out of the steering.


def with_global_stores(stack: str, config: dict[str, Any]) -> None:
    """Edit a stack file's `config` (namespaced keys) to replicate its stores as before: prod's
    sessions and queues to us-west-1 and eu-central-1; staging's one store to eu-west-1, with a
    third region, us-west-2, for its users to fail over to while eu-west-1 is read-only."""
    stores = config["meridian:redis"]["stores"]
    if stack == "prod":
        for store in ("sessions", "queues"):
            stores[store]["globalRegions"] = ["us-west-1", "eu-central-1"]
    else:
        stores["shared"]["globalRegions"] = ["eu-west-1"]
        config["meridian:regions"].append(
            {
                "name": "us-west-2",
                "role": "secondary",
                "cidr": "10.64.32.0/20",
                "azIds": ["usw2-az2", "usw2-az1"],
            }
        )


def global_stores_config(stack: str, change: Callable[[dict[str, Any]], None] | None = None) -> Any:
    """The StackConfig of `stack` with its stores replicated (`with_global_stores`), after
    `change(values)` edits its `meridian:` values (namespace stripped)."""
    document = yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text())
    with_global_stores(stack, document["config"])
    values = {k.split(":", 1)[1]: v for k, v in document["config"].items() if k.startswith("meridian:")}
    if change is not None:
        change(values)
    return validate_config(values, f"Pulumi.{stack}.yaml")


# --- stack files that fail validation -------------------------------------------------------------


PROD_REGIONS = {
    "us-east-1": RegionRole.PRIMARY,
    "eu-west-1": RegionRole.PRIMARY,
    "ap-northeast-1": RegionRole.PRIMARY,
    "me-central-1": RegionRole.PRIMARY,
    "us-west-1": RegionRole.SECONDARY,
    "eu-central-1": RegionRole.SECONDARY,
    "ap-southeast-1": RegionRole.SECONDARY,
    "af-south-1": RegionRole.SECONDARY,
}


def rejected(values: dict[str, Any], source: str = "Pulumi.prod.yaml") -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        validate_config(values, source)
    return caught.value


def assert_issue(error: ConfigError, path: str, *fragments: str) -> None:
    """One issue at *path* whose text holds every fragment; the message names the file."""
    assert str(error).startswith(f"{error.source}: invalid stack config")
    matching = [i for i in error.issues if i.path == path]
    assert matching, f"no issue at {path}; got {[(i.path, i.problem) for i in error.issues]}"
    text = " ".join(i.problem for i in matching)
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in {text!r}"
    assert f"  - {path}: " in str(error)


# --- reading a plan -------------------------------------------------------------------------------


REGION_STACK = "meridian:region:RegionStack"

SUBNET = "aws:ec2/subnet:Subnet"


def config_of(plan: Plan):
    """The validated stack file `plan` ran with (a variant's own, not the project's)."""
    return (
        plan.config if plan.config is not None else load_stack_file(PROJECT_DIR / f"Pulumi.{plan.stack}.yaml")
    )


def region_stack_of(plan: Plan, resource: RecordedResource) -> RecordedResource | None:
    node = plan.by_urn.get(resource.parent or "")
    while node is not None and node.type != REGION_STACK:
        node = plan.by_urn.get(node.parent or "")
    return node


def subnets_by_tier(plan: Plan, region: str) -> dict[str, list[RecordedResource]]:
    tiers: dict[str, list[RecordedResource]] = {}
    for subnet in plan.of_type(SUBNET):
        if plan.regions[subnet.urn] == region:
            tiers.setdefault(subnet.inputs["tags"]["meridian/tier"], []).append(subnet)
    return tiers


def in_region(plan: Plan, type_token: str, region: str) -> list[RecordedResource]:
    return [r for r in plan.of_type(type_token) if plan.regions[r.urn] == region]


def only(plan: Plan, type_token: str, region: str) -> RecordedResource:
    (resource,) = in_region(plan, type_token, region)
    return resource


def one(plan: Plan, type_token: str, name: str) -> RecordedResource:
    (found,) = [r for r in plan.of_type(type_token) if r.name == name]
    return found


def node_group_id(plan: Plan, region: str) -> str:
    """The id of the EKS node security group of the region."""
    (nodes,) = [
        g for g in in_region(plan, "aws:ec2/securityGroup:SecurityGroup", region) if g.name.endswith("-nodes")
    ]
    assert nodes.id
    return nodes.id


def key_arn(plan: Plan, region: str) -> str:
    """The region's key ARN, as the region's other encrypted resources use it."""
    (group,) = [
        g
        for g in in_region(plan, "aws:cloudwatch/logGroup:LogGroup", region)
        if g.inputs["name"].endswith("/vpc-flow-logs")
    ]
    return group.inputs["kmsKeyId"]


def strings_in(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings_in(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings_in(v)]
    return [value] if isinstance(value, str) else []


def document_of(resource: RecordedResource, key: str = "policy") -> dict[str, Any]:
    document: dict[str, Any] = json.loads(resource.inputs[key])
    return document


def statement(document: dict[str, Any], sid: str) -> dict[str, Any]:
    (found,) = [s for s in document["Statement"] if s.get("Sid") == sid]
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# --- private buckets ------------------------------------------------------------------------------


PRIVATE_BUCKET = "meridian:storage:PrivateBucket"

BUCKET = "aws:s3/bucket:Bucket"

OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"

PUBLIC_ACCESS = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"

VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"

ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"

POLICY = "aws:s3/bucketPolicy:BucketPolicy"

LOGGING = "aws:s3/bucketLogging:BucketLogging"

LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"


def bucket_parts(plan: Plan, component: str) -> dict[str, RecordedResource]:
    """Type → the one resource of that type directly under the PrivateBucket `component`."""
    owner = one(plan, PRIVATE_BUCKET, component)
    parts: dict[str, RecordedResource] = {}
    for child in plan.children.get(owner.urn, []):
        assert child.type not in parts, f"{component} has two {child.type}"
        parts[child.type] = child
    return parts


def assert_private_bucket(
    plan: Plan, component: str, *, name: str, kms_key_arn: str | None, protect: bool
) -> dict[str, RecordedResource]:
    """The hardening every PrivateBucket carries, read from what was declared; returns its parts."""
    parts = bucket_parts(plan, component)
    bucket = parts[BUCKET]
    assert bucket.inputs["bucket"] == name
    assert bucket.protect is protect
    assert bucket.inputs["forceDestroy"] is (not protect)
    for guard in (OWNERSHIP, PUBLIC_ACCESS, VERSIONING, ENCRYPTION, POLICY):
        assert parts[guard].inputs["bucket"] == name, f"{guard} of {component} configures another bucket"
    assert parts[OWNERSHIP].inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    block = parts[PUBLIC_ACCESS].inputs
    assert all(
        block[k] is True
        for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
    assert parts[VERSIONING].inputs["versioningConfiguration"]["status"] == "Enabled"
    (rule,) = parts[ENCRYPTION].inputs["rules"]
    default = rule["applyServerSideEncryptionByDefault"]
    if kms_key_arn is None:
        assert default == {"sseAlgorithm": "AES256"}
    else:
        assert default == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": kms_key_arn}
    tls = statement(document_of(parts[POLICY]), "DenyInsecureTransport")
    arn = tls["Resource"][0]
    assert tls["Effect"] == "Deny" and tls["Principal"] == "*" and tls["Action"] == "s3:*"
    assert tls["Resource"] == [arn, f"{arn}/*"]
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # The policy waits for the public access block (S3 rejects concurrent access-setting changes).
    assert parts[PUBLIC_ACCESS].urn in parts[POLICY].dependencies
    return parts


# --- a team's own program -------------------------------------------------------------------------


TEAM_REGION = "eu-central-1"

ACCOUNT = MOCK_ACCOUNT_ID

SUBNETS = ["subnet-0a1b2c3d4e5f60718", "subnet-0b1c2d3e4f5a60718"]


def team_eks_args(cluster_name: str) -> EksClusterArgs:
    """What a platform team writes for its own cluster: versions pinned, its own admins and sizes."""
    return EksClusterArgs(
        cluster_name=cluster_name,
        hostname="api.team.example.com",
        kubernetes_version="1.36",
        admin_principal_arns=["arn:aws:iam::123456789012:role/team-admin"],
        addons={
            "vpc_cni": "v1.23.1-eksbuild.1",
            "coredns": "v1.14.3-eksbuild.3",
            "kube_proxy": "v1.36.0-eksbuild.14",
            "aws_ebs_csi_driver": "v1.66.0-eksbuild.1",
            "eks_pod_identity_agent": "v1.3.10-eksbuild.3",
        },
        istio={"version": "1.31.1"},
        karpenter={"version": "1.15.0", "ami_alias": "al2023@v20261119"},
        nodes={
            "node_instance_types": ["m7g.large"],
            "min_nodes": 2, "desired_nodes": 2, "max_nodes": 4,
            "burst_vcpus": 16, "api_min_replicas": 2, "api_max_replicas": 4,
        },
        protect=False,
    )  # fmt: skip


def team_vpc(
    prefix: str, network: str, zones: str
) -> tuple[pulumi.ResourceOptions, aws.ec2.Vpc, list[aws.ec2.Subnet]]:
    """A team's own eu-central-1 provider (`<prefix>-aws`), VPC `<network>.0.0/16` and one /24 per
    zone letter, as a program that does not use `Network` would declare them."""
    provider = aws.Provider(f"{prefix}-aws", region=TEAM_REGION)
    pinned = pulumi.ResourceOptions(providers=[provider])
    vpc = aws.ec2.Vpc(f"{prefix}-vpc", cidr_block=f"{network}.0.0/16", opts=pinned)
    subnets = [
        aws.ec2.Subnet(f"{prefix}-{zone}", vpc_id=vpc.id, cidr_block=f"{network}.{i}.0/24",
                       availability_zone=f"{TEAM_REGION}{zone}", opts=pinned)
        for i, zone in enumerate(zones)
    ]  # fmt: skip
    return pinned, vpc, subnets


def bare_cluster(
    prefix: str, cluster_name: str, pinned: pulumi.ResourceOptions
) -> tuple[aws.eks.Cluster, k8s.Provider]:
    """An EKS cluster `<prefix>-cluster` named `cluster_name` (nothing else of EksCluster) and a
    Kubernetes provider `<prefix>-k8s` over its kubeconfig."""
    cluster = aws.eks.Cluster(
        f"{prefix}-cluster",
        name=cluster_name,
        role_arn=f"arn:aws:iam::{ACCOUNT}:role/{prefix}-cluster",
        vpc_config={"subnet_ids": SUBNETS},
        opts=pinned,
    )
    kubeconfig = pulumi.Output.all(cluster.name, cluster.endpoint, cluster.certificate_authority.data).apply(
        lambda v: json.dumps(build_kubeconfig(v[0], v[1], v[2], TEAM_REGION))
    )
    return cluster, k8s.Provider(f"{prefix}-k8s", kubeconfig=kubeconfig)


# --- AWS clients: botocore's Stubber and moto worlds ----------------------------------------------


def offline(service: str, region: str = "eu-west-1") -> Any:
    """A client with throwaway keys for botocore's Stubber: no call leaves the process."""
    return boto3.client(service, region_name=region, aws_access_key_id="x", aws_secret_access_key="y")


def by_kind(plan: Plan, kind: str) -> list[Expectation]:
    return [e for e in expectations(plan) if e.kind == kind]


def build(plan: Plan, drift: str | None = None) -> dict[str, str]:
    """Create in moto what *plan* declares, with one setting off where *drift* names it; return what
    moto does not report and the after-call shims add (`factory`): the global datastore role of
    each replication group, and (as `aurora:<cluster>`) each secondary's forwarding status."""
    keys: dict[str, str] = {}

    def key(region: str) -> str:
        """The region's customer-managed key, made in this moto world on first use."""
        if region not in keys:
            keys[region] = boto3.client("kms", region_name=region).create_key()["KeyMetadata"]["Arn"]
        return keys[region]

    for e in by_kind(plan, "VPC"):
        cidr = "10.99.0.0/16" if drift == "vpc-cidr" and e.region == "us-east-1" else str(e.checks["cidr"])
        boto3.client("ec2", region_name=e.region).create_vpc(
            CidrBlock=cidr,
            TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": e.name}]}],
        )
    for e in by_kind(plan, "EKS cluster"):
        public = drift == "eks-public" and e.region == "eu-west-1"
        types = list(e.checks["log_types"])
        logging = [{"types": types, "enabled": True}]
        if drift == "eks-logs":  # three types switched off in the console
            logging = [{"types": types[:2], "enabled": True}, {"types": types[2:], "enabled": False}]
        boto3.client("eks", region_name=e.region).create_cluster(
            name=e.name,
            version=str(e.checks["version"]),
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/cluster",
            resourcesVpcConfig={"subnetIds": ["subnet-1"], "endpointPublicAccess": public},
            encryptionConfig=[{"resources": ["secrets"], "provider": {"keyArn": key(e.region)}}],
            logging={"clusterLogging": logging},
        )
    for e in by_kind(plan, "Aurora cluster"):
        rds = boto3.client("rds", region_name=e.region)
        global_id = str(e.checks["global_database"])
        if e.checks["writer"]:
            rds.create_global_cluster(
                GlobalClusterIdentifier=global_id, Engine="aurora-postgresql", EngineVersion="16.8"
            )
        if drift == "aurora-missing" and not e.checks["writer"]:
            continue
        rds.create_db_cluster(
            DBClusterIdentifier=e.name,
            Engine="aurora-postgresql",
            EngineVersion="16.8",
            GlobalClusterIdentifier=global_id,
            StorageEncrypted=True,
            KmsKeyId=key(e.region),
            DeletionProtection=bool(e.checks["deletion_protection"]),
            BackupRetentionPeriod=1 if drift == "backups" else int(e.checks["backup_retention_days"]),
            EnableGlobalWriteForwarding=drift != "no-forwarding" and bool(e.checks["write_forwarding"]),
            **(
                {"MasterUsername": "meridian_admin", "MasterUserPassword": "a-long-password"}
                if e.checks["writer"]
                else {}
            ),
        )
    roles = {
        # AWS reports a secondary's forwarding as enabled once it took effect (moto reports none).
        f"aurora:{e.name}": "disabled" if drift in ("no-forwarding", "forwarding-stuck") else "enabled"
        for e in by_kind(plan, "Aurora cluster")
        if not e.checks["writer"]
    }
    for e in by_kind(plan, "ElastiCache group"):
        boto3.client("elasticache", region_name=e.region).create_replication_group(
            ReplicationGroupId=e.name,
            ReplicationGroupDescription="store",
            Engine="valkey",
            CacheNodeType="cache.r7g.large",
            NumNodeGroups=1,
            ReplicasPerNodeGroup=1,
            AutomaticFailoverEnabled=True,
            MultiAZEnabled=drift != "multi-az",
            AtRestEncryptionEnabled=True,
            TransitEncryptionEnabled=drift != "tls",
            KmsKeyId=f"arn:aws:kms:{e.region}:{ACCOUNT}:key/gone"
            if drift == "unknown-key"
            else key(e.region),
            SnapshotRetentionLimit=int(e.checks["snapshot_retention_days"]),
        )
        roles[e.name] = str(e.checks["global_role"])
    return roles


def factory(roles: dict[str, str]) -> Any:
    """moto clients; DescribeReplicationGroups answers with each group's global role and
    DescribeDBClusters with each secondary's forwarding status, as AWS does."""
    clients: dict[tuple[str, str], Any] = {}

    def add_membership(parsed: dict[str, Any], **_: Any) -> None:
        for group in parsed.get("ReplicationGroups", []):
            role = roles.get(group["ReplicationGroupId"], "none")
            if role != "none":
                group["GlobalReplicationGroupInfo"] = {
                    "GlobalReplicationGroupId": f"ldgnf-{group['ReplicationGroupId']}",
                    "GlobalReplicationGroupMemberRole": role.upper(),
                }

    def add_forwarding_status(parsed: dict[str, Any], **_: Any) -> None:
        for cluster in parsed.get("DBClusters", []):
            status = roles.get(f"aurora:{cluster['DBClusterIdentifier']}")
            if status is not None:
                cluster["GlobalWriteForwardingStatus"] = status

    def client(service: str, region: str) -> Any:
        if (service, region) not in clients:
            made = boto3.client(service, region_name=region, config=RETRIES)
            made.meta.events.register("after-call.elasticache.DescribeReplicationGroups", add_membership)
            made.meta.events.register("after-call.rds.DescribeDBClusters", add_forwarding_status)
            clients[(service, region)] = made
        return clients[(service, region)]

    return client


RANDOM_ID = "random:index/randomId:RandomId"


def assert_final_snapshot_follows_replacement(
    plan: Plan, store: RecordedResource, identifier: str, force_new: frozenset[str]
) -> RecordedResource:
    """`store`'s final snapshot name ends in the hex of a RandomId whose keepers are exactly the
    ForceNew inputs `store` sets, with the values it sets: what replaces the store mints a new
    name, and nothing else changes it. Returns the RandomId."""
    assert re.fullmatch(
        rf"{re.escape(identifier)}-final-[0-9a-f]{{8}}", store.inputs["finalSnapshotIdentifier"]
    )
    component = store.parent
    (suffix,) = [r for r in plan.of_type(RANDOM_ID) if r.parent == component]
    keepers = suffix.inputs["keepers"]
    assert set(keepers) == force_new & set(store.inputs), store.name
    for key, value in keepers.items():
        expected = store.inputs[key]
        if isinstance(expected, bool):
            expected = str(expected).lower()
        elif isinstance(expected, float) and expected.is_integer():  # numbers cross the RPC as floats
            expected = int(expected)
        assert value == str(expected), key
    return suffix
