"""PostgresCluster: one region's member of an Aurora PostgreSQL 16 global database.

    PostgresCluster  (meridian:postgres:PostgresCluster)
    ├── GlobalCluster        the global database (writer member only; engine, version, encryption)
    ├── Secret + version     master credentials (writer only), KMS-encrypted, replicated to every
    │                        member region; the password is write-only: never in config or state
    ├── LogGroup             `/aws/rds/cluster/<id>/postgresql`, KMS-encrypted, with retention
    ├── SecurityGroups       proxy: 5432 from the client (EKS node) group only; database: from the
    │                        proxy and, for forwarded writes, the client group (IAM tokens only)
    ├── SubnetGroup          the isolated subnets (no route to or from the internet)
    ├── ClusterParameterGroup  TLS forced, slow-statement/connection/DDL logging, pgaudit
    ├── Cluster              encrypted with the region's key, IAM auth, backups, deletion protection
    ├── ClusterInstances     writer + readers (writer region) or readers, spread over the AZs,
    │                        Performance Insights (encrypted) and Enhanced Monitoring
    ├── RDS Proxy            TLS required, end-to-end IAM auth; read/write and read-only endpoints
    └── CrossRegionBackup    AWS Backup with a copy in a second region (writer member only)

One database spans the regions: the writer member creates the global cluster and secondaries join
it (`writer=`). Failover and switchover move the writer between members without changing this
program's view of them (see docs/components/postgres-cluster.md, "PostgreSQL failover"): what AWS then
owns is ignored here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, cast

import pulumi
import pulumi_aws as aws

from ..core.iam import managed_policy_role
from ..core.logs import encrypted_log_group
from ..core.lookups import AwsContext
from ..core.policies import document, rds_connect_policy, rds_connect_statement, service_trust
from ..core.secrets import generated_password, kms_secret, replica_arn
from ..core.snapshots import final_snapshot_name
from ..network.network import admit_group
from ..storage.cross_region_backup import CrossRegionBackup
from .args import ENGINE, PARAMETER_GROUP_FAMILY, ClusterRole, PostgresClusterArgs, PostgresMemberSettings

__all__ = ["CA_CERTIFICATE", "LOG_EXPORTS", "PostgresCluster", "cluster_parameters"]

#: The RDS certificate authority the instances present (RSA 2048, the current default, valid to 2061).
CA_CERTIFICATE = "rds-ca-rsa2048-g1"
#: Aurora PostgreSQL exports one log type.
LOG_EXPORTS = ("postgresql",)

#: Cluster attributes AWS changes by itself in a global database: a managed switchover or failover
#: re-points replication and moves the writer, and engine upgrades run through the global cluster.
#: Reconciling them would fight the topology AWS just set up (see docs/components/postgres-cluster.md,
#: "PostgreSQL failover").
AWS_OWNED = ["engineVersion", "replicationSourceIdentifier", "globalClusterIdentifier"]

#: Punctuation a master password may use: RDS refuses `/`, `"`, `@` and spaces.
_PASSWORD_SPECIALS = "!#$%^&*()-_=+[]{}<>:?"


def cluster_parameters(args: PostgresMemberSettings) -> list[dict[str, str]]:
    """The cluster parameter group: TLS only; logs that answer "what was slow, who connected, who
    changed the schema or the roles"; how forwarded writes are read back and how many of the
    writer's connections they may hold; and the managed RPO. Every member carries the same group
    settings, so whichever member writes after a failover enforces them."""
    forwarding = args.write_forwarding
    immediate = {
        "rds.force_ssl": "1",
        "ssl_min_protocol_version": "TLSv1.2",
        "log_min_duration_statement": str(args.slow_statement_ms),
        "log_connections": "1",
        "log_disconnections": "1",
        "log_lock_waits": "1",
        "log_statement": "ddl",
        "log_autovacuum_min_duration": "10000",
        "log_temp_files": "102400",
        "pgaudit.log": "ddl,role",
        **({"rds.global_db_rpo": str(args.managed_rpo_seconds)} if args.managed_rpo_seconds else {}),
    }
    # Static parameters (the libraries, and both forwarding settings: `describe-engine-default-
    # cluster-parameters` lists them so, values in lower case): set at creation, and applied at
    # the next reboot after a change, never by surprise. The managed RPO is dynamic.
    on_reboot = {
        "shared_preload_libraries": "pg_stat_statements,pgaudit",
        "apg_write_forward.consistency_mode": forwarding.consistency_mode,
        "apg_write_forward.max_forwarding_connections_percent": str(
            forwarding.max_forwarding_connections_percent
        ),
    }
    return [
        *({"name": k, "value": v, "apply_method": "immediate"} for k, v in immediate.items()),
        *({"name": k, "value": v, "apply_method": "pending-reboot"} for k, v in on_reboot.items()),
    ]


class PostgresCluster(pulumi.ComponentResource):
    """One region's Aurora PostgreSQL 16 cluster in a global database, with its proxy.

    Args:
        name: logical name prefix of every child.
        args: validated `PostgresClusterArgs` (role, sizes, retention, windows, …).
        vpc_id: the VPC.
        subnet_ids: the isolated subnets, one per AZ (database and proxy).
        availability_zones: the AZs of those subnets; instances are spread over them in order.
        client_security_group_id: the only group admitted to the proxy (the EKS nodes).
        kms_key_arn: the region's customer-managed key (storage, secret, logs, Performance Insights).
        writer: a secondary's writer member (it joins the writer's global cluster, after the
            writer's instances exist); None for the writer.
        secret_replicas: writer only: region → KMS key ARN of every other member region, where the
            master secret is replicated so that it survives the loss of the home region.
        backup_copy_vault_arn: writer only: the vault in a second region that AWS Backup copies
            the cluster's snapshots to (`components.storage.cross_region_backup.copy_vault`).
        opts: resource options; the AWS provider pinned to the region comes from here
            (`providers=[provider]`) or from the parent.

    Attributes:
        cluster, instances, proxy: the regional resources.
        global_cluster: the `aws.rds.GlobalCluster` (writer only).
        global_cluster_identifier: the global database's id.
        global_writer_endpoint: the global database's writer endpoint (follows the writer).
        writer_endpoint, reader_endpoint, port: this cluster's endpoints (the writer endpoint only
            accepts writes while this member is the primary).
        proxy_endpoint, proxy_reader_endpoint: the proxy's read/write and read-only endpoints.
        secret_arn: the master secret (its replica, in a secondary region).
        security_group: the database's security group (it admits the proxy only).
        backup: the `CrossRegionBackup` (writer with `backup_copy_vault_arn` only).
        client_policy(): the IAM policy (JSON) that lets an application role connect through this
            region's proxy as the `iam_users`.
        outputs(): what consumers need (camelCase, as stack outputs are).
    """

    instances: list[aws.rds.ClusterInstance]
    secret_arn: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: PostgresClusterArgs,
        *,
        vpc_id: pulumi.Input[str],
        subnet_ids: pulumi.Input[Sequence[str]],
        availability_zones: pulumi.Input[Sequence[str]],
        client_security_group_id: pulumi.Input[str],
        kms_key_arn: pulumi.Input[str],
        writer: PostgresCluster | None = None,
        secret_replicas: Mapping[str, pulumi.Input[str]] | None = None,
        backup_copy_vault_arn: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("meridian:postgres:PostgresCluster", name, None, opts)
        is_writer = args.role is ClusterRole.WRITER
        if is_writer == (writer is not None):
            raise ValueError(
                f"{name}: a writer member creates the global cluster (no writer=); a secondary needs "
                "writer=<the writer's PostgresCluster>"
            )
        if not is_writer and (secret_replicas or backup_copy_vault_arn is not None):
            raise ValueError(f"{name}: secret replicas and backup copies belong to the writer member")
        self._name = name
        self._args = args
        context = AwsContext.of(self)
        self._account, self._partition, self.region = context.account, context.partition, context.region
        self._key_arn = kms_key_arn
        child = pulumi.ResourceOptions(parent=self)
        stateful = pulumi.ResourceOptions(parent=self, protect=args.protect)

        if writer is None:
            self.global_cluster = aws.rds.GlobalCluster(
                f"{name}-global",
                global_cluster_identifier=args.global_cluster_identifier,
                engine=ENGINE,
                engine_version=args.engine_version,
                storage_encrypted=True,
                deletion_protection=args.protect,
                opts=stateful,
            )
            self.global_cluster_identifier: pulumi.Output[str] = self.global_cluster.id
            self.global_writer_endpoint: pulumi.Output[str] = self.global_cluster.endpoint
            self._master_secret(secret_replicas or {})
            password: pulumi.Output[str] | None = self._master_password()
        else:
            self.global_cluster_identifier = writer.global_cluster_identifier
            self.global_writer_endpoint = writer.global_writer_endpoint
            password = None

        # RDS would create this group itself, unencrypted and kept forever; made first, it is ours.
        log_group = encrypted_log_group(
            f"{name}-postgresql-log",
            name=f"/aws/rds/cluster/{args.cluster_identifier}/postgresql",
            kms_key_arn=kms_key_arn,
            retention_days=args.log_retention_days,
            protect=args.protect,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.security_group, proxy_group = self._security_groups(vpc_id, client_security_group_id)
        subnet_group = aws.rds.SubnetGroup(
            f"{name}-subnets",
            name=args.cluster_identifier,
            description=f"Isolated subnets of {args.cluster_identifier}",
            subnet_ids=subnet_ids,
            opts=child,
        )
        parameter_group = aws.rds.ClusterParameterGroup(
            f"{name}-parameters",
            name=f"{args.cluster_identifier}-{PARAMETER_GROUP_FAMILY}",
            family=PARAMETER_GROUP_FAMILY,
            description=f"TLS only and audit logging for {args.cluster_identifier}",
            parameters=cast(Any, cluster_parameters(args)),
            opts=child,
        )
        credentials: dict[str, Any] = {}
        if password is not None:
            credentials = {
                "master_username": args.master_username,
                "master_password_wo": password,
                "master_password_wo_version": args.master_password_version,
                "database_name": args.database_name,
            }
        # The cluster's ForceNew inputs (provider schema), as given below: a change of one
        # replaces the cluster, and so the final snapshot's name.
        replaced_when: dict[str, pulumi.Input[str]] = {
            "clusterIdentifier": args.cluster_identifier,
            "engine": ENGINE,
            "dbSubnetGroupName": subnet_group.name,
            "storageEncrypted": "true",
            "kmsKeyId": kms_key_arn,
            **{
                key: credentials[field]
                for key, field in (("masterUsername", "master_username"), ("databaseName", "database_name"))
                if field in credentials
            },
        }
        final_snapshot = (
            final_snapshot_name(
                f"{name}-final-snapshot",
                identifier=args.cluster_identifier,
                replaced_when=replaced_when,
                opts=pulumi.ResourceOptions(parent=self),
            )
            if args.protect
            else None
        )
        self.cluster = aws.rds.Cluster(
            f"{name}-cluster",
            cluster_identifier=args.cluster_identifier,
            global_cluster_identifier=self.global_cluster_identifier,
            engine=ENGINE,
            engine_version=args.engine_version,
            port=args.port,
            db_subnet_group_name=subnet_group.name,
            vpc_security_group_ids=[self.security_group.id],
            db_cluster_parameter_group_name=parameter_group.name,
            storage_encrypted=True,
            kms_key_id=kms_key_arn,
            iam_database_authentication_enabled=True,
            # A secondary forwards its region's writes to the writer; on the writer it takes effect
            # when a switchover or failover makes it a secondary (AWS: "used immediately if the
            # primary is demoted").
            enable_global_write_forwarding=True,
            backup_retention_period=args.backup_retention_days,
            preferred_backup_window=args.backup_window,
            preferred_maintenance_window=args.maintenance_window,
            copy_tags_to_snapshot=True,
            enabled_cloudwatch_logs_exports=list(LOG_EXPORTS),
            deletion_protection=args.protect,
            skip_final_snapshot=not args.protect,
            final_snapshot_identifier=final_snapshot,
            delete_automated_backups=not args.protect,
            allow_major_version_upgrade=False,
            **credentials,
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=args.protect,
                depends_on=[log_group, *(writer.instances if writer else [])],
                ignore_changes=AWS_OWNED,
            ),
        )
        if password is not None:
            self._store_master_password(password)
        self.instances = self._instances(subnet_group, availability_zones)
        self.proxy, self.proxy_endpoint, self.proxy_reader_endpoint = self._proxy(subnet_ids, proxy_group)

        if writer is None:
            self.secret_arn = self.secret.arn
        else:
            self.secret_arn = replica_arn(writer.secret_arn, writer.region, self.region)
        if backup_copy_vault_arn is not None:
            self.backup = CrossRegionBackup(
                args.cluster_identifier,
                resource_arns=[self.cluster.arn],
                kms_key_arn=kms_key_arn,
                copy_vault_arn=backup_copy_vault_arn,
                schedule=args.backup.schedule,
                retention_days=args.backup.retention_days,
                copy_retention_days=args.backup.copy_retention_days,
                protect=args.protect,
                opts=pulumi.ResourceOptions(parent=self, depends_on=self.instances),
            )
        self.writer_endpoint = self.cluster.endpoint
        self.reader_endpoint = self.cluster.reader_endpoint
        self.port = self.cluster.port
        self.register_outputs(self.outputs())

    @property
    def instance_identifiers(self) -> list[str]:
        """The instances' identifiers, `<cluster identifier>-1`, `-2`, … (instance 1 is tier 0)."""
        return [f"{self._args.cluster_identifier}-{index + 1}" for index in range(self._args.instance_count)]

    def write_endpoint_for_app(self, *, holds_writer: bool) -> pulumi.Output[str]:
        """The endpoint this region's API writes through. Where the writer is: the proxy's
        read/write endpoint. Elsewhere: the cluster's own reader endpoint, whose readers forward the
        writes to the writer, the path AWS documents ("Using write forwarding in an Aurora
        PostgreSQL global database"; "Connecting to Amazon Aurora Global Database": after a
        failover, connect to "the newly promoted primary Region's reader endpoint"). Not the
        proxy: a secondary's read/write proxy endpoint has no instance behind it ("The target group
        doesn't have any associated read/write instances"), and AWS documents RDS Proxy with
        forwarding for Aurora MySQL only. The connection is IAM-authenticated like the proxy's."""
        return self.proxy_endpoint if holds_writer else self.reader_endpoint

    def client_policy(self) -> pulumi.Output[str]:
        """The IAM policy (JSON) an application role needs to connect as the `iam_users` through
        this region's proxy, and to this region's cluster itself (its forwarded writes: see
        `write_endpoint_for_app`); attach it to the pods' role."""
        users = self._args.iam_users
        proxy_id = self.proxy.arn.apply(lambda arn: arn.rsplit(":", 1)[-1])  # prx-0123456789abcdef0
        return pulumi.Output.all(
            self._partition, self.region, self._account, proxy_id, self.cluster.cluster_resource_id
        ).apply(
            lambda v: json.dumps(
                document(
                    rds_connect_statement(v[0], v[1], v[2], v[3], users, sid="ConnectThroughTheProxy"),
                    rds_connect_statement(
                        v[0], v[1], v[2], v[4], users, sid="ForwardWritesThroughTheCluster"
                    ),
                )
            )
        )

    @property
    def args(self) -> PostgresClusterArgs:
        """The validated arguments it was built from."""
        return self._args

    def outputs(self) -> dict[str, Any]:
        """What consumers need (camelCase, as stack outputs are)."""
        return {
            "role": self._args.role.value,
            "clusterIdentifier": self._args.cluster_identifier,
            "globalClusterIdentifier": self.global_cluster_identifier,
            "writerEndpoint": self.writer_endpoint,
            "readerEndpoint": self.reader_endpoint,
            "port": self.port,
            "proxyEndpoint": self.proxy_endpoint,
            "proxyReaderEndpoint": self.proxy_reader_endpoint,
            "secretArn": self.secret_arn,
        }

    def _master_password(self) -> pulumi.Output[str]:
        """The master password, generated once per `master_password_version`; it reaches RDS and
        the secret through write-only arguments only."""
        return generated_password(
            f"{self._name}-master-password",
            version=self._args.master_password_version,
            specials=_PASSWORD_SPECIALS,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _master_secret(self, replicas: Mapping[str, pulumi.Input[str]]) -> None:
        """The master secret (RDS-managed master passwords are not supported in a global database,
        so the secret is ours), KMS-encrypted and replicated to every other member region."""
        args = self._args
        self.secret = kms_secret(
            f"{self._name}-master-secret",
            secret_name=args.secret_name,
            description=f"Master user of {args.global_cluster_identifier} (break-glass; apps use IAM auth)",
            kms_key_arn=self._key_arn,
            replicas=replicas,
            protect=args.protect,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _store_master_password(self, password: pulumi.Output[str]) -> None:
        """The secret's value, written once the cluster has the password (write-only: sent again
        only when `master_password_version` changes, so host, port and name are as of then)."""
        args = self._args
        aws.secretsmanager.SecretVersion(
            f"{self._name}-master-secret-version",
            secret_id=self.secret.id,
            secret_string_wo=pulumi.Output.json_dumps(
                {
                    "engine": "postgres",
                    "username": args.master_username,
                    "password": password,
                    "dbname": args.database_name,
                    "port": args.port,
                    "host": self.global_writer_endpoint,
                }
            ),
            secret_string_wo_version=args.master_password_version,
            opts=pulumi.ResourceOptions(parent=self.secret, depends_on=[self.cluster]),
        )

    def _security_groups(
        self, vpc_id: pulumi.Input[str], client_group: pulumi.Input[str]
    ) -> tuple[aws.ec2.SecurityGroup, aws.ec2.SecurityGroup]:
        """The proxy admits the clients; the database admits the proxy, and the clients for their
        forwarded writes (a secondary's reader endpoint, `write_endpoint_for_app`): the app users
        log in with IAM tokens only, on TLS (`rds.force_ssl`). No CIDR anywhere; no egress but the
        proxy's to the database."""
        port = self._args.port
        ident = self._args.cluster_identifier
        groups = {}
        purposes = {
            "db": f"Aurora cluster of {ident}: PostgreSQL from its proxy and the EKS nodes (IAM)",
            # Unchanged since the proxy's first release: a group's description cannot change in place.
            "proxy": f"RDS Proxy of {ident}: PostgreSQL through the proxy only",
        }
        for role, description in purposes.items():
            groups[role] = aws.ec2.SecurityGroup(
                f"{self._name}-{role}",
                vpc_id=vpc_id,
                description=description,
                tags={"Name": f"{ident}-{role}"},
                opts=pulumi.ResourceOptions(parent=self),
            )
        db, proxy = groups["db"], groups["proxy"]
        rules = (
            ("db", "from-proxy", proxy.id, "RDS Proxy"),
            ("db", "from-clients", client_group, "EKS nodes: forwarded writes"),
            ("proxy", "from-clients", client_group, "EKS nodes"),
        )
        for role, label, source, who in rules:
            group = groups[role]
            admit_group(f"{self._name}-{role}-{label}", group, source, port, f"PostgreSQL from {who}")
        aws.vpc.SecurityGroupEgressRule(
            f"{self._name}-proxy-to-db",
            security_group_id=proxy.id,
            referenced_security_group_id=db.id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            description="Pooled connections to the cluster",
            opts=pulumi.ResourceOptions(parent=proxy),
        )
        return db, proxy

    def _instances(
        self, subnet_group: aws.rds.SubnetGroup, availability_zones: pulumi.Input[Sequence[str]]
    ) -> list[aws.rds.ClusterInstance]:
        args = self._args
        zones = pulumi.Output.from_input(availability_zones)
        monitoring = managed_policy_role(
            f"{self._name}-monitoring",
            description=f"Enhanced Monitoring of {args.cluster_identifier}",
            trust=self._account.apply(
                lambda a: json.dumps(service_trust("monitoring.rds.amazonaws.com", source_account=a))
            ),
            managed_policies=["service-role/AmazonRDSEnhancedMonitoringRole"],
            partition=self._partition,
            opts=pulumi.ResourceOptions(parent=self),
        )

        def zone(index: int) -> pulumi.Output[str]:
            return zones.apply(lambda z: str(z[index % len(z)]))

        instances: list[aws.rds.ClusterInstance] = []
        for index in range(args.instance_count):
            instances.append(
                aws.rds.ClusterInstance(
                    f"{self._name}-{index + 1}",
                    identifier=self.instance_identifiers[index],
                    cluster_identifier=self.cluster.id,
                    engine=aws.rds.EngineType.AURORA_POSTGRESQL,
                    instance_class=args.sizes.instance_class,
                    # Round-robin over the AZs: losing one AZ leaves instances in the others.
                    availability_zone=zone(index),
                    db_subnet_group_name=subnet_group.name,
                    publicly_accessible=False,
                    # The first instance is the preferred writer; any other may take over.
                    promotion_tier=0 if index == 0 else 1,
                    ca_cert_identifier=CA_CERTIFICATE,
                    copy_tags_to_snapshot=True,
                    performance_insights_enabled=True,
                    performance_insights_kms_key_id=self._key_arn,
                    performance_insights_retention_period=args.performance_insights_retention_days,
                    monitoring_interval=args.monitoring_interval_seconds,
                    monitoring_role_arn=monitoring.arn,
                    # Minor upgrades of a global database go through the global cluster, all
                    # members at once; an instance upgrading itself would break switchover.
                    auto_minor_version_upgrade=False,
                    preferred_maintenance_window=args.maintenance_window,
                    # Aurora makes the first instance to come up the writer: instance 1 it is.
                    opts=pulumi.ResourceOptions(parent=self.cluster, depends_on=instances[:1]),
                )
            )
        return instances

    def _proxy(
        self, subnet_ids: pulumi.Input[Sequence[str]], group: aws.ec2.SecurityGroup
    ) -> tuple[aws.rds.Proxy, pulumi.Output[str], pulumi.Output[str]]:
        """RDS Proxy with end-to-end IAM authentication: clients present IAM tokens and so does the
        proxy to the database; no password exists for applications to leak."""
        args = self._args
        policy = pulumi.Output.all(
            self._partition, self.region, self._account, self.cluster.cluster_resource_id
        ).apply(
            lambda v: json.dumps(
                rds_connect_policy(v[0], v[1], v[2], v[3], args.iam_users, sid="ConnectAsApplicationUsers")
            )
        )
        role = aws.iam.Role(
            f"{self._name}-proxy",
            description=f"RDS Proxy of {args.cluster_identifier}: IAM connections as the app users",
            # RDS documents both source keys for the roles it assumes ("Preventing cross-service
            # confused deputy problems"); the account's, as Enhanced Monitoring's role above.
            assume_role_policy=self._account.apply(
                lambda a: json.dumps(service_trust("rds.amazonaws.com", source_account=a))
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        role_policy = aws.iam.RolePolicy(
            f"{self._name}-proxy-connect",
            role=role.id,
            policy=policy,
            opts=pulumi.ResourceOptions(parent=role),
        )
        proxy = aws.rds.Proxy(
            f"{self._name}-proxy",
            name=args.cluster_identifier,
            engine_family="POSTGRESQL",
            default_auth_scheme="IAM_AUTH",
            require_tls=True,
            role_arn=role.arn,
            vpc_subnet_ids=subnet_ids,
            vpc_security_group_ids=[group.id],
            idle_client_timeout=args.proxy.idle_client_timeout_seconds,
            debug_logging=False,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy]),
        )
        target_group = aws.rds.ProxyDefaultTargetGroup(
            f"{self._name}-proxy-pool",
            db_proxy_name=proxy.name,
            connection_pool_config={
                "max_connections_percent": args.proxy.max_connections_percent,
                "max_idle_connections_percent": args.proxy.max_idle_connections_percent,
                "connection_borrow_timeout": args.proxy.borrow_timeout_seconds,
            },
            opts=pulumi.ResourceOptions(parent=proxy),
        )
        aws.rds.ProxyTarget(
            f"{self._name}-proxy-target",
            db_proxy_name=proxy.name,
            target_group_name=target_group.name,
            db_cluster_identifier=self.cluster.id,
            opts=pulumi.ResourceOptions(parent=proxy, depends_on=self.instances),
        )
        readers = aws.rds.ProxyEndpoint(
            f"{self._name}-proxy-readers",
            db_proxy_name=proxy.name,
            db_proxy_endpoint_name=f"{args.cluster_identifier}-ro",
            target_role="READ_ONLY",
            vpc_subnet_ids=subnet_ids,
            vpc_security_group_ids=[group.id],
            opts=pulumi.ResourceOptions(parent=proxy),
        )
        return proxy, proxy.endpoint, readers.endpoint
