"""How the stack's physical names are made: the config namespace, the stack's name from its file, and ids
with a service's length limit.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = [
    "MAX_REPLICATION_GROUP_ID",
    "NAMESPACE",
    "redis_group_id",
    "stack_name",
]


#: The project's config namespace: keys are written `meridian:<key>` in the stack file.
NAMESPACE = "meridian"


#: ElastiCache's limit on replication group ids.
MAX_REPLICATION_GROUP_ID = 40


def redis_group_id(stack: str, region: str, store: str) -> str:
    """`meridian-prod-eu-west-1-sessions`: the replication group of `store` in `region`."""
    return f"{NAMESPACE}-{stack}-{region}-{store}"


def stack_name(source: str) -> str:
    """`Pulumi.prod.yaml` → `prod` (physical names contain the stack's name)."""
    match = re.fullmatch(r"Pulumi\.(.+)\.yaml", Path(source).name)
    if not match:
        raise ValueError(f"{source!r} is not a stack file name (Pulumi.<stack>.yaml)")
    return match.group(1)
