"""RedisCluster: one region's replication group of one Redis store (cache, sessions, queues).

    RedisCluster  (meridian:redis:RedisCluster)
    ├── LogGroups            slow-log and engine-log, KMS-encrypted, with retention (made first)
    ├── SecurityGroup        the port from the client (EKS node) group only; no CIDR, no egress
    ├── SubnetGroup          the isolated subnets of every AZ
    ├── ParameterGroup       cluster mode on, `maxmemory-policy` from the store's roles, slow log
    │                        (regional and primary; a secondary runs its primary's)
    ├── Secret + version     the app user's credentials, KMS-encrypted; a primary's is replicated to
    │                        its secondaries' regions (regional and primary only)
    ├── Users + UserGroup    RBAC: the `default` user disabled, the app user with the generated
    │                        password (write-only: never in config or state)
    ├── ReplicationGroup     cluster mode, shards × replicas over the AZs, Multi-AZ with automatic
    │                        failover, at rest under the region's key, TLS required, snapshots
    └── GlobalReplicationGroup  the global datastore (primary only); secondaries join it

A store is one of these per region. Regional groups stand alone; a primary (in the anchor region) creates the
global datastore and secondaries join it (`primary=`), taking its node type, shards, engine,
parameters and encryption settings, as AWS requires.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, cast

import pulumi
import pulumi_aws as aws

from ..core.logs import encrypted_log_group
from ..core.lookups import AwsContext
from ..core.policies import log_delivery_policy, secret_read_policy
from ..core.secrets import generated_password, kms_secret, replica_arn
from ..core.snapshots import final_snapshot_name
from ..network.network import admit_group
from .args import Membership, RedisClusterArgs

__all__ = ["AWS_OWNED", "LOG_GROUP_PREFIX", "LOG_TYPES", "RedisCluster", "log_delivery_resource_policy"]

#: Where ElastiCache delivers logs (one group per replication group and log type).
LOG_GROUP_PREFIX = "/aws/elasticache/"
LOG_TYPES = ("slow-log", "engine-log")

#: Attributes of a global datastore member that the datastore owns: upgrades and resizing run
#: through it (to every member at once), and ElastiCache gives every member a `global-datastore-*`
#: copy of the primary's parameter group.
AWS_OWNED = ["engineVersion", "parameterGroupName", "nodeType", "numNodeGroups"]

#: Punctuation ElastiCache accepts in a password.
_PASSWORD_SPECIALS = "!&#$^<>-"


def cluster_parameters(maxmemory_policy: str, slow_log_microseconds: int) -> list[dict[str, str]]:
    """Cluster mode on (sharding), the store's eviction policy, the slow-log threshold."""
    return [
        {"name": "cluster-enabled", "value": "yes"},
        {"name": "maxmemory-policy", "value": maxmemory_policy},
        {"name": "slowlog-log-slower-than", "value": str(slow_log_microseconds)},
    ]


def log_delivery_resource_policy(
    name: str, context: AwsContext, opts: pulumi.ResourceOptions
) -> aws.cloudwatch.LogResourcePolicy:
    """The region's CloudWatch Logs resource policy for ElastiCache log delivery. One per region (an
    account may have ten); declared, so that AWS does not add one of its own outside the stack."""
    document = pulumi.Output.all(context.partition, context.region, context.account).apply(
        lambda v: json.dumps(log_delivery_policy(v[0], v[1], v[2], LOG_GROUP_PREFIX))
    )
    return aws.cloudwatch.LogResourcePolicy(name, policy_name=name, policy_document=document, opts=opts)


class RedisCluster(pulumi.ComponentResource):
    """One region's ElastiCache (Valkey or Redis OSS) replication group of one store.

    Args:
        name: logical name prefix of every child.
        args: validated `RedisClusterArgs` (store, roles, membership, sizes, windows, …).
        vpc_id: the VPC.
        subnet_ids: the isolated subnets, one per AZ.
        client_security_group_id: the only group admitted on the port (the EKS nodes).
        kms_key_arn: the region's customer-managed key (data at rest, secret, logs).
        primary: a secondary's primary member (it joins the primary's global datastore and uses
            its credentials); None otherwise.
        secret_replicas: primary only: region → KMS key ARN of each secondary's region, where the
            credentials secret is replicated.
        log_delivery_policy: the region's CloudWatch Logs resource policy for log delivery
            (`log_delivery_resource_policy`); the group waits for it, so that ElastiCache does not
            write a policy of its own. Without it, ElastiCache adds one when it can.
        opts: resource options; the AWS provider pinned to the region comes from here
            (`providers=[provider]`) or from the parent.

    Attributes:
        group: the replication group.
        global_datastore: the global datastore (primary only).
        global_datastore_id: the global datastore's id (None for a regional group).
        configuration_endpoint, port: where clients of this region connect (TLS; read-only in a
            secondary).
        write_endpoint: the configuration endpoint that takes writes (the primary's, in a secondary).
        secret_arn: the credentials secret in this region (a replica, in a secondary).
        security_group: the group's security group (it admits `client_security_group_id` only).
        client_policy(): the IAM policy (JSON) that lets an application role read the credentials.
        outputs(): what consumers need (camelCase, as stack outputs are).
    """

    global_datastore: aws.elasticache.GlobalReplicationGroup | None
    global_datastore_id: pulumi.Output[str] | None

    def __init__(
        self,
        name: str,
        args: RedisClusterArgs,
        *,
        vpc_id: pulumi.Input[str],
        subnet_ids: pulumi.Input[Sequence[str]],
        client_security_group_id: pulumi.Input[str],
        kms_key_arn: pulumi.Input[str],
        primary: RedisCluster | None = None,
        secret_replicas: Mapping[str, pulumi.Input[str]] | None = None,
        log_delivery_policy: pulumi.Resource | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("meridian:redis:RedisCluster", name, None, opts)
        secondary = args.membership is Membership.SECONDARY
        if secondary != (primary is not None):
            raise ValueError(
                f"{name}: a secondary needs primary=<the primary's RedisCluster>; a regional or "
                "primary group takes none"
            )
        if secret_replicas and args.membership is not Membership.PRIMARY:
            raise ValueError(f"{name}: only a primary replicates its secret")
        self._name = name
        self._args = args
        self._key_arn = kms_key_arn
        self.region = AwsContext.of(self).region
        ident = args.replication_group_id

        log_groups = [
            encrypted_log_group(
                f"{name}-{log_type}",
                name=f"{LOG_GROUP_PREFIX}{ident}/{log_type}",
                kms_key_arn=kms_key_arn,
                retention_days=args.log_retention_days,
                protect=args.protect,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for log_type in LOG_TYPES
        ]
        self.security_group = self._security_group(vpc_id, client_security_group_id)
        subnet_group = aws.elasticache.SubnetGroup(
            f"{name}-subnets",
            name=ident,
            description=f"Isolated subnets of {ident}",
            subnet_ids=subnet_ids,
            opts=pulumi.ResourceOptions(parent=self),
        )

        if primary is None:
            self._password, self._default_password = (
                generated_password(
                    f"{name}-{user}-password",
                    version=args.password_version,
                    specials=_PASSWORD_SPECIALS,
                    opts=pulumi.ResourceOptions(parent=self),
                )
                for user in ("app", "default")
            )
            self.secret = kms_secret(
                f"{name}-secret",
                secret_name=args.secret_name,
                description=f"Credentials of the {args.app_username} user of Redis store {args.store}",
                kms_key_arn=kms_key_arn,
                replicas=secret_replicas or {},
                protect=args.protect,
                opts=pulumi.ResourceOptions(parent=self),
            )
        else:
            self._password, self._default_password = primary._password, primary._default_password
        user_group = self._users()

        # The group's ForceNew inputs (provider schema), as given below: a change of one replaces
        # the group, and so the final snapshot's name. Encryption at rest is the primary's (a
        # secondary's is AWS's), and a secondary joins its datastore at creation only.
        replaced_when: dict[str, pulumi.Input[str]] = {
            "replicationGroupId": ident,
            "port": str(args.port),
            "subnetGroupName": subnet_group.name,
            "kmsKeyId": kms_key_arn,
            **(
                {"atRestEncryptionEnabled": "true"}
                if primary is None
                else {"globalReplicationGroupId": cast(pulumi.Input[str], primary.global_datastore_id)}
            ),
        }
        final_snapshot = (
            final_snapshot_name(
                f"{name}-final-snapshot",
                identifier=ident,
                replaced_when=replaced_when,
                opts=pulumi.ResourceOptions(parent=self),
            )
            if args.protect
            else None
        )
        common: dict[str, Any] = {
            "replication_group_id": ident,
            "description": f"Redis store {args.store} ({', '.join(r.value for r in args.roles)})",
            "replicas_per_node_group": args.sizes.replicas_per_shard,
            "automatic_failover_enabled": True,
            "multi_az_enabled": True,
            "port": args.port,
            "subnet_group_name": subnet_group.name,
            "security_group_ids": [self.security_group.id],
            "kms_key_id": kms_key_arn,
            "user_group_ids": [user_group.user_group_id],
            "snapshot_retention_limit": args.snapshot_retention_days,
            "snapshot_window": args.snapshot_window,
            "maintenance_window": args.maintenance_window,
            "final_snapshot_identifier": final_snapshot,
            # In a global datastore AWS turns automatic minor upgrades off: they go through it.
            "auto_minor_version_upgrade": args.membership is Membership.REGIONAL,
            "log_delivery_configurations": [
                {
                    "destination": group.name,
                    "destination_type": "cloudwatch-logs",
                    "log_format": "json",
                    "log_type": log_type,
                }
                for group, log_type in zip(log_groups, LOG_TYPES, strict=True)
            ],
        }
        group_opts = pulumi.ResourceOptions(
            parent=self,
            # A cache can be rebuilt, but losing one by accident sends its whole load to the
            # database at once: every store is protected, the cache too.
            protect=args.protect,
            # The log groups and the datastore are inputs already; the delivery policy is not.
            depends_on=[*([log_delivery_policy] if log_delivery_policy else [])],
            ignore_changes=AWS_OWNED if args.membership is not Membership.REGIONAL else None,
        )
        if primary is None:
            parameter_group = aws.elasticache.ParameterGroup(
                f"{name}-parameters",
                name=f"{ident}-{args.parameter_group_family}",
                family=args.parameter_group_family,
                description=f"Cluster mode and {args.maxmemory_policy.value} for {ident}",
                parameters=cast(
                    Any, cluster_parameters(args.maxmemory_policy.value, args.slow_log_microseconds)
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.group = aws.elasticache.ReplicationGroup(
                f"{name}-group",
                **common,
                engine=args.engine.value,
                engine_version=args.engine_version,
                node_type=args.sizes.node_type,
                cluster_mode="enabled",
                num_node_groups=args.sizes.shards,
                parameter_group_name=parameter_group.name,
                at_rest_encryption_enabled=True,
                transit_encryption_enabled=True,
                transit_encryption_mode="required",
                opts=group_opts,
            )
        else:
            # Node type, shards, engine, parameters, encryption and TLS are the primary's: AWS
            # infers them and rejects them here.
            assert primary.global_datastore_id is not None
            self.group = aws.elasticache.ReplicationGroup(
                f"{name}-group",
                **common,
                global_replication_group_id=primary.global_datastore_id,
                opts=group_opts,
            )

        self.global_datastore = None
        self.global_datastore_id = primary.global_datastore_id if primary else None
        if args.membership is Membership.PRIMARY:
            self.global_datastore = aws.elasticache.GlobalReplicationGroup(
                f"{name}-global",
                global_replication_group_id_suffix=args.global_datastore_suffix,
                global_replication_group_description=f"Redis store {args.store}, written in this region",
                primary_replication_group_id=self.group.id,
                # Upgrades and resizing of a global store go through the datastore, to every member.
                engine=args.engine.value,
                engine_version=args.engine_version,
                cache_node_type=args.sizes.node_type,
                num_node_groups=args.sizes.shards,
                opts=pulumi.ResourceOptions(
                    parent=self,
                    protect=args.protect,
                    # A failover makes another member primary; this is AWS's, and replacing the
                    # datastore to "restore" it would drop every secondary.
                    ignore_changes=["primaryReplicationGroupId"],
                ),
            )
            self.global_datastore_id = self.global_datastore.global_replication_group_id

        self.configuration_endpoint: pulumi.Output[str] = self.group.configuration_endpoint_address
        self.port: pulumi.Output[int] = cast(pulumi.Output[int], self.group.port)
        if primary is None:
            self.write_endpoint: pulumi.Output[str] = self.configuration_endpoint
            self._store_credentials()
            self.secret_arn: pulumi.Output[str] = self.secret.arn
        else:
            self.write_endpoint = primary.write_endpoint
            self.secret_arn = replica_arn(primary.secret_arn, primary.region, self.region)
        self.register_outputs(self.outputs())

    def client_policy(self) -> pulumi.Output[str]:
        """The IAM policy (JSON) an application role needs to read this region's credentials."""
        sid = self._args.store.title()
        return pulumi.Output.all(self.secret_arn, self._key_arn, self.region).apply(
            lambda v: json.dumps(secret_read_policy([v[0]], v[1], v[2], sid=f"Read{sid}Credentials"))
        )

    @property
    def args(self) -> RedisClusterArgs:
        """The validated arguments it was built from."""
        return self._args

    def outputs(self) -> dict[str, Any]:
        """What consumers need (camelCase, as stack outputs are)."""
        return {
            "store": self._args.store,
            "roles": [r.value for r in self._args.roles],
            "membership": self._args.membership.value,
            "replicationGroupId": self._args.replication_group_id,
            "configurationEndpoint": self.configuration_endpoint,
            "writeEndpoint": self.write_endpoint,
            "port": self.port,
            "username": self._args.app_username,
            "authSecretArn": self.secret_arn,
            "globalDatastoreId": self.global_datastore_id,
        }

    def _store_credentials(self) -> None:
        """The secret's value, written once the group exists (write-only; rewritten when
        `password_version` changes)."""
        args = self._args
        aws.secretsmanager.SecretVersion(
            f"{self._name}-secret-version",
            secret_id=self.secret.id,
            secret_string_wo=pulumi.Output.json_dumps(
                {
                    "engine": args.engine.value,
                    "username": args.app_username,
                    "password": self._password,
                    "host": self.write_endpoint,
                    "port": args.port,
                    "tls": True,
                }
            ),
            secret_string_wo_version=args.password_version,
            opts=pulumi.ResourceOptions(parent=self.secret),  # after the group: its endpoint is an input
        )

    def _users(self) -> aws.elasticache.UserGroup:
        """RBAC: the `default` user every group must have, switched off; the app user with the
        generated password. Users are regional, so each member has its own pair."""
        args = self._args
        ident = args.replication_group_id
        child = pulumi.ResourceOptions(parent=self)
        default = aws.elasticache.User(
            f"{self._name}-default-user",
            user_id=f"{ident}-default",
            user_name="default",
            engine=args.engine.value,
            # "off": nobody can authenticate as it, so an unauthenticated connection gets nothing.
            # Valkey has no password-less users, so it gets a password nobody is given.
            access_string="off -@all",
            passwords_wo=self._default_password,
            passwords_wo_version=args.password_version,
            opts=child,
        )
        app = aws.elasticache.User(
            f"{self._name}-app-user",
            user_id=f"{ident}-app",
            user_name=args.app_username,
            engine=args.engine.value,
            access_string=args.access_string,
            passwords_wo=self._password,
            passwords_wo_version=args.password_version,
            opts=child,
        )
        return aws.elasticache.UserGroup(
            f"{self._name}-users",
            user_group_id=ident,
            engine=args.engine.value,
            user_ids=[default.user_id, app.user_id],
            opts=child,
        )

    def _security_group(
        self, vpc_id: pulumi.Input[str], client_group: pulumi.Input[str]
    ) -> aws.ec2.SecurityGroup:
        """The port from the client group only; no CIDR, and no egress (replication between
        members and regions is ElastiCache's own)."""
        ident = self._args.replication_group_id
        group = aws.ec2.SecurityGroup(
            f"{self._name}-sg",
            vpc_id=vpc_id,
            description=f"ElastiCache {ident}: TLS clients from the EKS nodes only",
            tags={"Name": ident},
            opts=pulumi.ResourceOptions(parent=self),
        )
        admit_group(
            f"{self._name}-from-clients", group, client_group, self._args.port, "Redis (TLS) from EKS nodes"
        )
        return group
