"""Settings of `RegionAlarms`: who the region's alarm topic notifies, and when each alarm fires.

A stack file sets them under `meridian:observability` (`alarmSubscriptions`, `thresholds`) and
`RegionAlarms` takes them as they are. They live apart from `components/alarms.py` so that
validating a stack file (`infra.stack_config`) does not import the Pulumi SDKs.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .args import MeridianModel

__all__ = ["AlarmSubscription", "AlarmThresholds"]


class AlarmSubscription(MeridianModel):
    """Who the region's alarm topic notifies.

    Attributes:
        protocol: `email`, `https`, `sms`, `sqs` or `lambda` (plain HTTP is refused: alerts
            carry resource names).
        endpoint: the address, URL, phone number or ARN.
    """

    protocol: Literal["email", "https", "sms", "sqs", "lambda"]
    endpoint: str = Field(min_length=3)


class AlarmThresholds(MeridianModel):
    """When an alarm fires. Each is breached for `evaluationMinutes` consecutive minutes (the
    unschedulable-pods alarm for `unschedulableMinutes`).

    Attributes:
        evaluation_minutes: consecutive breaching minutes before an alarm fires (default 5).
        aurora_replica_lag_ms: a reader's lag behind its writer (default 1000).
        aurora_global_lag_ms: a secondary region's lag behind the global writer (default 1000: the
            one-second RPO of the zero-data-loss target).
        aurora_cpu_percent: any instance's CPU (default 80).
        aurora_freeable_memory_mib: the least free memory of any instance (default 1024).
        aurora_deadlocks_per_second: deadlocks above this rate (default 0: any deadlock pages).
        cache_cpu_percent: a node's host CPU (default 90).
        cache_engine_cpu_percent: a node's Valkey thread CPU (default 80).
        cache_memory_percent: a node's used share of maxmemory (default 80).
        cache_evictions_per_minute: evictions a minute on a store allowed to evict (default
            1000); a store holding sessions or queues pages on any eviction.
        cache_replication_lag_seconds: a replica's lag behind its shard's primary (default 5).
        nat_packets_dropped_per_minute: packets a NAT gateway drops a minute (default 100); any
            port allocation error pages.
        nlb_unhealthy_hosts: unhealthy targets of any NLB target group (default 0: any).
        unschedulable_minutes: minutes pods may stay unschedulable before the capacity alarm
            fires (default 10).
    """

    evaluation_minutes: int = Field(default=5, ge=1, le=60)
    aurora_replica_lag_ms: float = Field(default=1000, gt=0)
    aurora_global_lag_ms: float = Field(default=1000, gt=0)
    aurora_cpu_percent: float = Field(default=80, gt=0, le=100)
    aurora_freeable_memory_mib: float = Field(default=1024, gt=0)
    aurora_deadlocks_per_second: float = Field(default=0, ge=0)
    cache_cpu_percent: float = Field(default=90, gt=0, le=100)
    cache_engine_cpu_percent: float = Field(default=80, gt=0, le=100)
    cache_memory_percent: float = Field(default=80, gt=0, le=100)
    cache_evictions_per_minute: float = Field(default=1000, ge=0)
    cache_replication_lag_seconds: float = Field(default=5, gt=0)
    nat_packets_dropped_per_minute: float = Field(default=100, ge=0)
    nlb_unhealthy_hosts: float = Field(default=0, ge=0)
    unschedulable_minutes: int = Field(default=10, ge=1, le=60)
