"""The failover's defaults, apart from `infra.operations.failover` (boto3, the offline plan) so that the CLI
can show them in its help without importing either."""

from __future__ import annotations

__all__ = ["DEFAULT_MAX_LAG_MS", "DEFAULT_TIMEOUT_S"]

#: Replication lag a planned switchover accepts by default (Aurora's typical lag is under a second).
DEFAULT_MAX_LAG_MS = 1_000.0
#: Seconds a run waits for AWS to report the new topology after each call.
DEFAULT_TIMEOUT_S = 1_800.0
