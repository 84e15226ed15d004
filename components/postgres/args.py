"""Arguments of `PostgresCluster`, and the limits of Aurora global databases they are checked against.

The limits are AWS's, from the Aurora User Guide; each constant names its page. `global_database_problems`
applies them to a whole topology (which regions join, where the writer is, how many readers) before any
resource exists, so a stack AWS would reject fails at validation with the key to change.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from ..core.args import AwsRegionName, MeridianModel, RetentionDays, TopologyProblem, one_of
from ..core.sizes import PostgresSizes
from ..core.windows import DailyWindow, WeeklyWindow, overlaps

__all__ = [
    "ENGINE",
    "GLOBAL_DATABASE_REGIONS",
    "MAX_READERS_PER_CLUSTER",
    "MAX_SECONDARY_REGIONS",
    "PARAMETER_GROUP_FAMILY",
    "BackupCopy",
    "ClusterRole",
    "PostgresClusterArgs",
    "PostgresMemberSettings",
    "PostgresSettings",
    "ProxySettings",
    "WriteForwarding",
    "global_database_instance_class",
    "global_database_problems",
]

ENGINE = "aurora-postgresql"
ENGINE_MAJOR = 16
PARAMETER_GROUP_FAMILY = f"aurora-postgresql{ENGINE_MAJOR}"

#: "an Aurora global database can have up to 10 secondary AWS Regions"
#: (aurora-global-database.configuration.requirements; raised from 5 in May 2025).
MAX_SECONDARY_REGIONS = 10
#: An Aurora cluster has one writer and up to 15 readers; in a global database the primary cluster
#: may have at most 15 - s readers, s being the number of secondary regions (same page).
MAX_READERS_PER_CLUSTER = 15

#: Regions (commercial partition) where Aurora PostgreSQL global databases are offered, per the table
#: "Supported Regions and DB engines for Aurora global databases" (Concepts.Aurora_Fea_Regions_DB-eng.
#: Feature.GlobalDatabase). Asia Pacific (Melbourne) is listed as not offered. Regions launched
#: since that table (ca-west-1, il-central-1, mx-central-1, ap-southeast-5/6/7, ap-east-2) are left out
#: until `aws rds describe-db-engine-versions --engine aurora-postgresql --region R --query
#: "DBEngineVersions[?SupportsGlobalDatabases]"` confirms them; add a region here when it does.
GLOBAL_DATABASE_REGIONS: frozenset[str] = frozenset({
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "af-south-1", "ap-east-1", "ap-south-1",
    "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-northeast-1",
    "ap-northeast-2", "ap-northeast-3", "ca-central-1", "eu-central-1", "eu-central-2", "eu-west-1",
    "eu-west-2", "eu-west-3", "eu-south-1", "eu-south-2", "eu-north-1", "me-south-1", "me-central-1",
    "sa-east-1",
})  # fmt: skip

#: Enhanced Monitoring's granularities in seconds (0, "off", is not offered: monitoring stays on).
MONITORING_INTERVALS = (1, 5, 10, 15, 30, 60)
#: Performance Insights retention: 7 days (free tier) or whole months (31 days each) up to 2 years.
PERFORMANCE_INSIGHTS_RETENTION_DAYS = (7, *(31 * months for months in range(1, 24)), 731)

#: Instance classes a global database accepts: Aurora's memory-optimised families, db.r5 or later,
#: and x2g ("requires DB instance classes that are optimized for memory-intensive applications";
#: burstable db.t* classes fail with "not supported by global databases").
_GLOBAL_CLASS = re.compile(r"^db\.(r5|r6g|r6gd|r6i|r6id|r7g|r7i|r8g|r8gd|x2g)\.[a-z0-9]+$")


def global_database_instance_class(instance_class: str) -> bool:
    """Whether Aurora accepts `instance_class` in a global database."""
    return bool(_GLOBAL_CLASS.match(instance_class))


def _engine_version(version: str) -> str:
    match = re.fullmatch(rf"{ENGINE_MAJOR}\.(\d+)", version)
    if not match or int(match.group(1)) < 1:
        raise ValueError(
            f"{version!r} is not an Aurora PostgreSQL {ENGINE_MAJOR} version; write the minor version, "
            f"e.g. '{ENGINE_MAJOR}.8' (`aws rds describe-db-engine-versions --engine {ENGINE}` lists them)"
        )
    return version


EngineVersion = Annotated[str, AfterValidator(_engine_version)]
#: A PostgreSQL identifier for the database and its master user (letters, digits, underscores).
PgIdentifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")]


class ClusterRole(str, Enum):
    """`writer`: the member that creates the global database and its first writer (a failover may
    move the writer to another member later; this member keeps its declaration); `secondary`: a
    member that joins it, read-only until a failover makes it the writer."""

    WRITER = "writer"
    SECONDARY = "secondary"


#: The lowest managed RPO Aurora PostgreSQL accepts in `rds.global_db_rpo`, and its highest
#: ("Using switchover or failover in Amazon Aurora Global Database", managing RPOs).
MIN_MANAGED_RPO_SECONDS = 20
MAX_MANAGED_RPO_SECONDS = 2_147_483_647


class ProxySettings(MeridianModel):
    """The RDS Proxy in front of each regional cluster.

    Attributes:
        idle_client_timeout_seconds: close client connections idle this long (default 1800).
        max_connections_percent: share of the database's `max_connections` the proxy may use
            (default 65: with write forwarding's default 25 % for other regions' forwarded
            sessions, 10 % stays for administrators and replication).
        max_idle_connections_percent: share it keeps open while idle (default 50).
        borrow_timeout_seconds: how long a client waits for a pooled connection (default 120).
    """

    idle_client_timeout_seconds: int = Field(default=1800, ge=1, le=28800)
    max_connections_percent: int = Field(default=65, ge=1, le=100)
    max_idle_connections_percent: int = Field(default=50, ge=0, le=100)
    borrow_timeout_seconds: int = Field(default=120, ge=1, le=3600)

    @model_validator(mode="after")
    def _idle_within_max(self) -> ProxySettings:
        if self.max_idle_connections_percent > self.max_connections_percent:
            raise ValueError(
                f"maxIdleConnectionsPercent ({self.max_idle_connections_percent}) may not exceed "
                f"maxConnectionsPercent ({self.max_connections_percent})"
            )
        return self


def _consistency_mode(mode: str) -> str:
    mode = mode.lower()
    if mode == "off":
        raise ValueError(
            "OFF turns forwarding off in every session, so no secondary could write, and Cloudflare "
            "sends users to every region; use session, eventual or global"
        )
    if mode not in ("session", "eventual", "global"):
        raise ValueError(f"{mode!r} is not a consistency mode; use session, eventual or global")
    return mode


class WriteForwarding(MeridianModel):
    """Global write forwarding: each secondary member forwards the writes its region's API sends
    to the cluster's reader endpoint on to the writer, wherever that is now, so every region of the
    database can take writes ("Using write forwarding in an Aurora PostgreSQL global database";
    every Aurora PostgreSQL 16 minor version has it). Aurora carries the writes between regions
    itself: no peering. Forwarding is always on: without it only the writer's region could write,
    and every region serves users.

    Attributes:
        consistency_mode: `apg_write_forward.consistency_mode` in every member's cluster parameter
            group: `session` (default, AWS's: a session reads its own forwarded writes, waiting for
            them to replicate back if need be), `eventual` (reads never wait; a session may briefly
            not see its own write) or `global` (each query waits until the region has every write
            committed when it began).
        max_forwarding_connections_percent: `apg_write_forward.max_forwarding_connections_percent`,
            the writer's `max_connections` share for forwarded sessions (default 25, AWS's). The
            proxy's `maxConnectionsPercent` plus this may not exceed 100 (AWS: reduce the proxy's
            share by the forwarding quota, 'Using RDS Proxy with Aurora global databases').
    """

    consistency_mode: Annotated[str, AfterValidator(_consistency_mode)] = "session"
    max_forwarding_connections_percent: int = Field(default=25, ge=1, le=100)


class BackupCopy(MeridianModel):
    """AWS Backup of the writer cluster, with a copy in a second region.

    Attributes:
        copy_region: the region the snapshots are copied to (a region of the stack, not the anchor
            region, whose cluster is backed up); unset means no cross-region copy, which prod does not allow.
        schedule: when AWS Backup snapshots the cluster (cron, UTC; default 07:00 daily, after the
            default backup and maintenance windows).
        retention_days: how long snapshots are kept in the home vault (default 35).
        copy_retention_days: how long copies are kept in the second region (default 35).
    """

    copy_region: AwsRegionName | None = None
    schedule: str = Field(default="cron(0 7 * * ? *)", pattern=r"^cron\(.+\)$")
    retention_days: int = Field(default=35, ge=1, le=36500)
    copy_retention_days: int = Field(default=35, ge=1, le=36500)


class PostgresMemberSettings(MeridianModel):
    """What every member cluster of one database shares (the stack file's `meridian:postgres`).

    Attributes:
        engine_version: Aurora PostgreSQL 16 minor version, e.g. `16.8`; all members run the same one
            (cross-region switchover needs it). Upgrades go through the global cluster.
        database_name: the database created in the writer (default `meridian`).
        master_username: the administrator; applications connect as their own IAM-authenticated
            users through the proxy (default `meridian_admin`).
        master_password_version: bump it to rotate the master password (default 1, see
            docs/components/postgres-cluster.md).
        port: the PostgreSQL port (default 5432).
        backup_retention_days: automated backups kept (1-35, default 14); point-in-time recovery
            reaches back this far. Prod needs at least 14.
        backup_window: daily automated backup window, UTC (default `03:00-04:00`).
        maintenance_window: weekly maintenance window, UTC (default `sun:05:00-sun:06:00`); may not
            overlap the backup window.
        log_retention_days: retention of the exported `postgresql` log group (default 365).
        slow_statement_ms: statements slower than this are logged (default 500).
        monitoring_interval_seconds: Enhanced Monitoring granularity (default 15).
        performance_insights_retention_days: 7 or whole months up to 731 (default 7, free tier).
        iam_users: database users applications connect as with IAM tokens, through the proxy
            (default `api`); each is granted `rds_iam` in the database
            (docs/components/postgres-cluster.md). The proxy may connect as these users only.
        proxy: the RDS Proxy's pool settings.
        write_forwarding: how secondaries forward their region's writes to the writer
            (`WriteForwarding`).
        managed_rpo_seconds: `rds.global_db_rpo`, Aurora's managed RPO: when every secondary lags
            the writer by more than this, the writer's commits wait until one catches up, so a
            region lost loses at most this many seconds of committed writes. 20 to 2,147,483,647;
            unset (the default) means no bound. A database of two members may not set it: losing
            the one secondary would stop every commit. Prod sets it.
        backup: AWS Backup with its cross-region copy (taken of the member that created the global
            database: the anchor region's).
    """

    engine_version: EngineVersion
    database_name: PgIdentifier = "meridian"
    master_username: PgIdentifier = "meridian_admin"
    master_password_version: int = Field(default=1, ge=1)
    port: int = Field(default=5432, ge=1150, le=65535)
    backup_retention_days: int = Field(default=14, ge=1, le=35)
    backup_window: DailyWindow = "03:00-04:00"
    maintenance_window: WeeklyWindow = "sun:05:00-sun:06:00"
    log_retention_days: RetentionDays = 365
    slow_statement_ms: int = Field(default=500, ge=0, le=3_600_000)
    monitoring_interval_seconds: Annotated[
        int, AfterValidator(one_of(MONITORING_INTERVALS, "Enhanced Monitoring has no {}-second interval"))
    ] = 15
    performance_insights_retention_days: Annotated[
        int,
        AfterValidator(
            one_of(PERFORMANCE_INSIGHTS_RETENTION_DAYS, "Performance Insights cannot keep {} days")
        ),
    ] = 7
    iam_users: tuple[PgIdentifier, ...] = Field(default=("api",), min_length=1)
    proxy: ProxySettings = ProxySettings()
    write_forwarding: WriteForwarding = WriteForwarding()
    managed_rpo_seconds: int | None = Field(
        default=None, ge=MIN_MANAGED_RPO_SECONDS, le=MAX_MANAGED_RPO_SECONDS
    )
    backup: BackupCopy = BackupCopy()

    @model_validator(mode="after")
    def _windows_apart(self) -> PostgresMemberSettings:
        if overlaps(self.backup_window, self.maintenance_window):
            raise ValueError(
                f"maintenanceWindow {self.maintenance_window} overlaps backupWindow {self.backup_window}; "
                "AWS rejects that, move one of them"
            )
        return self

    @model_validator(mode="after")
    def _connections_shared(self) -> PostgresMemberSettings:
        forwarded = self.write_forwarding.max_forwarding_connections_percent
        if self.proxy.max_connections_percent + forwarded > 100:
            raise ValueError(
                f"proxy.maxConnectionsPercent ({self.proxy.max_connections_percent}) plus "
                f"writeForwarding.maxForwardingConnectionsPercent ({forwarded}) exceed 100 % of the "
                "writer's connections; AWS asks to reduce the proxy's share by the forwarding quota, so "
                f"set maxConnectionsPercent to {100 - forwarded} or less"
            )
        return self


class PostgresSettings(PostgresMemberSettings):
    """`meridian:postgres`: the database's settings and which regions it spans.

    Attributes:
        regions: the regions whose clusters join the global database (the anchor region and the
            write home plus up to 10 others); unset means every region of the stack.
    """

    regions: tuple[AwsRegionName, ...] | None = Field(default=None, min_length=1)


class PostgresClusterArgs(PostgresMemberSettings):
    """Everything one regional member cluster needs besides its network.

    Attributes:
        cluster_identifier: the Aurora cluster's name; instances are `<identifier>-1`, `-2`, …
        global_cluster_identifier: the global database's name (the writer creates it).
        role: `writer` (creates the global cluster and the master secret) or `secondary`.
        sizes: instance class and readers (`PostgresSizes`); the writer region adds its writer.
        secret_name: name of the master secret in Secrets Manager (writer only).
        protect: deletion protection, a final snapshot and `protect` on the data (default true).
    """

    cluster_identifier: str = Field(pattern=r"^[a-z][a-z0-9-]{0,62}$")
    global_cluster_identifier: str = Field(pattern=r"^[a-z][a-z0-9-]{0,62}$")
    role: ClusterRole
    sizes: PostgresSizes
    secret_name: str = Field(default="", pattern=r"^[A-Za-z0-9/_+=.@-]{0,512}$")
    protect: bool = True

    @model_validator(mode="after")
    def _supported(self) -> PostgresClusterArgs:
        if not global_database_instance_class(self.sizes.instance_class):
            raise ValueError(
                f"instance class {self.sizes.instance_class} cannot join an Aurora global database; "
                "use a memory-optimised class, db.r5 or later (e.g. db.r7g.large)"
            )
        if self.role is ClusterRole.WRITER and not self.secret_name:
            raise ValueError("the writer needs secret_name, the Secrets Manager name of its master secret")
        return self

    @property
    def instance_count(self) -> int:
        """The writer region runs its writer plus the readers; a secondary runs the readers."""
        return self.sizes.reader_instances + (1 if self.role is ClusterRole.WRITER else 0)


def global_database_problems(home: str, members: dict[str, PostgresSizes]) -> list[TopologyProblem]:
    """What AWS would reject in a global database created in `home` (its first writer: the stack's
    anchor region) and whose member regions have these sizes (`home` included). A failover moves
    the writer later, within these members and their limits."""
    problems: list[TopologyProblem] = []
    if home not in members:
        problems.append(
            TopologyProblem(
                "regions", home, f"{home}, which creates the global database, must be one of the regions"
            )
        )
    for region in members:
        if region not in GLOBAL_DATABASE_REGIONS:
            problems.append(
                TopologyProblem(
                    "regions",
                    region,
                    f"Aurora PostgreSQL global databases are not offered in {region}, so it cannot "
                    "join the global database; leave it out of the database's regions (a secondary "
                    "region then serves no users: its API could not write)",
                )
            )
    secondaries = len(members) - (1 if home in members else 0)
    if secondaries > MAX_SECONDARY_REGIONS:
        problems.append(
            TopologyProblem(
                "regions",
                None,
                f"{secondaries} secondary regions; an Aurora global database has at most "
                f"{MAX_SECONDARY_REGIONS}, so list at most {MAX_SECONDARY_REGIONS + 1} regions",
            )
        )
    first = members.get(home)
    if first is not None and first.reader_instances > MAX_READERS_PER_CLUSTER - secondaries:
        problems.append(
            TopologyProblem(
                "readers",
                home,
                f"the primary cluster may have at most {MAX_READERS_PER_CLUSTER} - {secondaries} "
                f"secondary regions = {MAX_READERS_PER_CLUSTER - secondaries} readers, "
                f"got {first.reader_instances}",
            )
        )
    for region, sizes in members.items():
        if not global_database_instance_class(sizes.instance_class):
            problems.append(
                TopologyProblem(
                    "instanceClass",
                    region,
                    f"{sizes.instance_class} cannot join an Aurora global database; use a "
                    "memory-optimised class, db.r5 or later (e.g. db.r7g.large)",
                )
            )
    return problems
