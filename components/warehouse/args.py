"""Settings of `AnalyticsWarehouse`: the lake's lifecycle, the stream's buffering, Athena's scan
cutoff, the `events` table's columns and optional Redshift Serverless.

`WarehouseSettings` is what a stack file sets under `meridian:observability.warehouse`;
`WarehouseArgs` adds the name prefix and protection, which the stack program derives. Each limit is
the service's own (S3's transition gaps, Athena's 10 MB minimum cutoff, Redshift Serverless's RPU
steps), checked when the model is built. They live apart from `analytics_warehouse.py` so
that validating a stack file (`infra.config`) does not import the Pulumi SDKs.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from ..core.args import MeridianModel, RetentionDays
from ..storage.args import NamePrefix

__all__ = [
    "DEFAULT_EVENT_COLUMNS",
    "MIN_BYTES_SCANNED_CUTOFF",
    "PARTITION_KEYS",
    "EventColumn",
    "RedshiftSettings",
    "WarehouseArgs",
    "WarehouseSettings",
]

#: Athena's smallest per-query data usage control: 10 MB.
MIN_BYTES_SCANNED_CUTOFF = 10 * 1024 * 1024
#: The `events` table's partitions (the stream's date prefixes); no event column may take their names.
PARTITION_KEYS = ("year", "month", "day")

_HIVE_TYPE = (
    r"^(string|boolean|tinyint|smallint|int|bigint|float|double|date|timestamp|binary"
    r"|decimal\(\d{1,2},\d{1,2}\)|varchar\(\d{1,5}\)|char\(\d{1,3}\)|(array|map|struct)<.+>)$"
)


class EventColumn(MeridianModel):
    """One column of the `events` table (a key of the JSON events).

    Attributes:
        name: the column (lower case, letters, digits, underscores).
        type: its Hive type (`string`, `bigint`, `timestamp`, `array<string>`, …).
        comment: what it holds (default "").
    """

    name: str = Field(pattern=r"^[a-z_][a-z0-9_]{0,127}$")
    type: str = Field(pattern=_HIVE_TYPE)
    comment: str = ""


#: What every product event carries; `payload` is the event-specific part, as JSON text.
DEFAULT_EVENT_COLUMNS: tuple[EventColumn, ...] = (
    EventColumn(name="event_id", type="string", comment="unique id (deduplicate on it)"),
    EventColumn(name="event_type", type="string", comment="what happened, e.g. order_placed"),
    EventColumn(name="occurred_at", type="timestamp", comment="when it happened (UTC)"),
    EventColumn(name="user_id", type="string", comment="who did it, if anyone"),
    EventColumn(name="region", type="string", comment="AWS region that served it"),
    EventColumn(name="payload", type="string", comment="event-specific fields, as JSON"),
)


def _rpus(value: int) -> int:
    if not 8 <= value <= 512 or value % 8:
        raise ValueError(
            f"base capacity {value} RPUs: Redshift Serverless takes 8 to 512 RPUs in steps of 8 "
            "(8, 16, 24, … 512)"
        )
    return value


class RedshiftSettings(MeridianModel):
    """Redshift Serverless over the lake (optional part of `WarehouseArgs`).

    Attributes:
        base_capacity_rpus: base capacity in RPUs (default 8, the smallest: 8 to 512 in steps of
            8; 8 and 16 RPUs hold at most 128 TB of managed storage).
        database_name: the first database (default `analytics`).
        admin_username: the admin user; its password is generated and kept by Redshift in Secrets
            Manager under the region's key (default `warehouse_admin`).
    """

    base_capacity_rpus: Annotated[int, AfterValidator(_rpus)] = 8
    database_name: str = Field(default="analytics", pattern=r"^[a-z][a-z0-9_]{0,63}$")
    admin_username: str = Field(default="warehouse_admin", pattern=r"^[a-z][a-z0-9_]{0,127}$")


def _cutoff(value: int) -> int:
    if value < MIN_BYTES_SCANNED_CUTOFF:
        raise ValueError(
            f"bytesScannedCutoffPerQuery {value} is below Athena's minimum of 10 MB "
            f"({MIN_BYTES_SCANNED_CUTOFF} bytes)"
        )
    return value


class WarehouseSettings(MeridianModel):
    """`meridian:observability.warehouse`: the analytics warehouse in the anchor region.

    Attributes:
        ia_after_days: lake objects move to STANDARD_IA after this many days (default 30, S3's
            minimum).
        glacier_after_days: and to GLACIER_IR after this many (default 180; S3 wants 30 days or
            more after the STANDARD_IA transition).
        noncurrent_days: overwritten or deleted lake objects are kept this many days (default 30).
        results_expire_days: Athena results are deleted after this many days (default 30).
        buffer_mib: the stream writes an object when it has buffered this many MiB (1-128,
            default 64) …
        buffer_seconds: … or after this many seconds (0-900, default 300), whichever comes first.
        bytes_scanned_cutoff_per_query: Athena cancels a query of the workgroup that scans more
            (default 10 GiB; at least 10 MB, Athena's minimum).
        event_columns: the `events` table's columns (default `DEFAULT_EVENT_COLUMNS`); not `year`,
            `month` or `day`, which are its partitions.
        log_retention_days: retention of the stream's delivery log group (default 365).
        access_log_expire_days: server access logs of the buckets are kept this many days (default
            365; when the component makes their bucket).
        redshift: `RedshiftSettings` for Redshift Serverless (default none: Athena only).
    """

    ia_after_days: int = Field(default=30, ge=30)
    glacier_after_days: int = 180
    noncurrent_days: int = Field(default=30, ge=1)
    results_expire_days: int = Field(default=30, ge=1)
    buffer_mib: int = Field(default=64, ge=1, le=128)
    buffer_seconds: int = Field(default=300, ge=0, le=900)
    bytes_scanned_cutoff_per_query: Annotated[int, AfterValidator(_cutoff)] = 10 * 1024**3
    event_columns: tuple[EventColumn, ...] = Field(default=DEFAULT_EVENT_COLUMNS, min_length=1)
    log_retention_days: RetentionDays = 365
    access_log_expire_days: int = Field(default=365, ge=1)
    redshift: RedshiftSettings | None = None

    @model_validator(mode="after")
    def _consistent(self) -> WarehouseSettings:
        if self.glacier_after_days < self.ia_after_days + 30:
            raise ValueError(
                f"glacierAfterDays {self.glacier_after_days} is less than 30 days after iaAfterDays "
                f"{self.ia_after_days}: S3 keeps objects in STANDARD_IA 30 days before the next transition"
            )
        names = [c.name for c in self.event_columns]
        if len(set(names)) != len(names):
            raise ValueError(f"eventColumns names a column twice: {names}")
        clash = sorted(set(names) & set(PARTITION_KEYS))
        if clash:
            raise ValueError(f"eventColumns may not use {clash}: year, month and day are the partitions")
        return self


class WarehouseArgs(WarehouseSettings):
    """Arguments of `AnalyticsWarehouse`: the settings, and

    Attributes:
        name_prefix: prefix of every physical name (at most 30 characters, lower case); the Glue
            database takes it with underscores.
        protect: protect the buckets, log group and Redshift namespace from deletion (default true).
    """

    name_prefix: NamePrefix
    protect: bool = True
