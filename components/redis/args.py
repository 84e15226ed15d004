"""Arguments of `RedisCluster`, the roles Redis plays, and the limits of ElastiCache global datastores.

The platform uses Redis three ways: a **cache** (may evict: every key can be rebuilt), **sessions**
and **queues** (may not: an evicted session logs a user out, an evicted job is lost). A *store* is
one replication group per region serving one or more of those roles; its `maxmemory-policy` follows
from them, and a store that holds sessions or queues must be `noeviction`.

A store may also replicate across regions as an ElastiCache global datastore: its primary created in
the stack's anchor region, up to two read-only secondaries elsewhere (a failover may promote one).
The limits are AWS's, from the ElastiCache User Guide ("Global datastores: prerequisites and
limitations"); `global_datastore_problems` applies them to a whole store before any resource exists.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from ..core.args import AwsRegionName, MeridianModel, RetentionDays, TopologyProblem
from ..core.sizes import RedisSizes
from ..core.windows import DailyWindow, WeeklyWindow, overlaps

__all__ = [
    "DURABLE_ROLES",
    "GLOBAL_DATASTORE_REGIONS",
    "MAX_GLOBAL_SECONDARIES",
    "PARAMETER_GROUP_FAMILIES",
    "MaxmemoryPolicy",
    "Membership",
    "RedisClusterArgs",
    "RedisEngine",
    "RedisMemberSettings",
    "RedisRole",
    "RedisSettings",
    "RedisStore",
    "global_datastore_node_type",
    "global_datastore_problems",
]


class RedisEngine(str, Enum):
    """`valkey` (the default: open source, priced about 20 % below Redis OSS on ElastiCache) or
    `redis` (Redis OSS)."""

    VALKEY = "valkey"
    REDIS = "redis"


#: Engine versions meridian runs (cluster mode, TLS and RBAC users need Redis OSS 6.2 or later; every
#: one listed may join a global datastore, which needs Valkey 7.2+ or Redis OSS 5.0.6+), each with
#: its parameter group family (`aws elasticache describe-cache-parameter-groups` lists them).
PARAMETER_GROUP_FAMILIES: dict[RedisEngine, dict[str, str]] = {
    RedisEngine.VALKEY: {"7.2": "valkey7", "8.0": "valkey8", "8.1": "valkey8", "8.2": "valkey8"},
    RedisEngine.REDIS: {"6.2": "redis6.x", "7.0": "redis7", "7.1": "redis7"},
}

#: "replication … to a secondary cluster in up to two other AWS Regions".
MAX_GLOBAL_SECONDARIES = 2

#: Regions (commercial partition) where global datastores are offered, from the guide's list
#: (Cape Town and UAE included since its 2024 revision). GovCloud and China are other partitions.
GLOBAL_DATASTORE_REGIONS: frozenset[str] = frozenset({
    "af-south-1", "ap-east-1", "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2",
    "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-7", "ap-northeast-1",
    "ap-northeast-2", "ap-northeast-3", "ca-central-1", "ca-west-1", "eu-central-1", "eu-central-2",
    "eu-west-1", "eu-west-2", "eu-west-3", "eu-south-1", "eu-south-2", "eu-north-1", "il-central-1",
    "me-south-1", "me-central-1", "mx-central-1", "sa-east-1", "us-east-1", "us-east-2", "us-west-1",
    "us-west-2",
})  # fmt: skip

#: "supported on the following instance families in size large and above: M5, M6g, M7g, M8g, R5,
#: R6g, R6gd, R7g, R8g, C7gn, and C8gn". R6gd (data tiering) is left out: meridian does not tier.
_GLOBAL_NODE_TYPE = re.compile(r"^cache\.(m5|m6g|m7g|m8g|r5|r6g|r7g|r8g|c7gn|c8gn)\.(large|\d*xlarge)$")


def global_datastore_node_type(node_type: str) -> bool:
    """Whether ElastiCache accepts `node_type` in a global datastore."""
    return bool(_GLOBAL_NODE_TYPE.match(node_type))


class RedisRole(str, Enum):
    """What the platform keeps in Redis."""

    CACHE = "cache"
    SESSIONS = "sessions"
    QUEUES = "queues"


#: Roles whose keys are data, not copies: a store serving one of them may not evict.
DURABLE_ROLES = frozenset({RedisRole.SESSIONS, RedisRole.QUEUES})


class MaxmemoryPolicy(str, Enum):
    """What the engine does when memory is full: refuse writes (`noeviction`) or evict keys."""

    NOEVICTION = "noeviction"
    ALLKEYS_LRU = "allkeys-lru"
    ALLKEYS_LFU = "allkeys-lfu"
    ALLKEYS_RANDOM = "allkeys-random"
    VOLATILE_LRU = "volatile-lru"
    VOLATILE_LFU = "volatile-lfu"
    VOLATILE_RANDOM = "volatile-random"
    VOLATILE_TTL = "volatile-ttl"


class Membership(str, Enum):
    """A replication group's place in its store: `regional` (on its own), `primary` (creates the
    global datastore and takes its writes) or `secondary` (a read-only copy of the primary)."""

    REGIONAL = "regional"
    PRIMARY = "primary"
    SECONDARY = "secondary"


def _eviction_problem(roles: tuple[RedisRole, ...], policy: MaxmemoryPolicy) -> str | None:
    durable = sorted(r.value for r in DURABLE_ROLES.intersection(roles))
    if durable and policy is not MaxmemoryPolicy.NOEVICTION:
        return (
            f"maxmemoryPolicy {policy.value} would evict {' and '.join(durable)} when memory is full "
            "(lost jobs, logged-out users); a store holding them must be noeviction: set "
            "maxmemoryPolicy: noeviction, or move the cache to a store of its own"
        )
    return None


class RedisStore(MeridianModel):
    """One store of `meridian:redis.stores`: a replication group in every region of the stack.

    Attributes:
        roles: what it holds (`cache`, `sessions`, `queues`); each role is served by one store.
        maxmemory_policy: eviction when full; default `noeviction` when it holds sessions or queues
            (required then), `allkeys-lru` for a cache alone.
        global_regions: the secondaries of its global datastore (at most 2, not the anchor region,
            where the primary is created). Empty (default): every region has its own cluster.
            The stack's other regions always get a regional cluster.
    """

    roles: tuple[RedisRole, ...] = Field(min_length=1)
    maxmemory_policy: MaxmemoryPolicy | None = None
    global_regions: tuple[AwsRegionName, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> RedisStore:
        if len(set(self.roles)) != len(self.roles):
            raise ValueError(f"roles lists a role twice: {[r.value for r in self.roles]}")
        if len(set(self.global_regions)) != len(self.global_regions):
            raise ValueError(f"globalRegions lists a region twice: {list(self.global_regions)}")
        problem = _eviction_problem(self.roles, self.policy)
        if problem:
            raise ValueError(problem)
        return self

    @property
    def durable(self) -> bool:
        """Whether it holds data that exists nowhere else (sessions, queues)."""
        return bool(DURABLE_ROLES.intersection(self.roles))

    @property
    def policy(self) -> MaxmemoryPolicy:
        """The effective `maxmemory-policy`."""
        if self.maxmemory_policy is not None:
            return self.maxmemory_policy
        return MaxmemoryPolicy.NOEVICTION if self.durable else MaxmemoryPolicy.ALLKEYS_LRU


def _no_double_hyphen(value: str) -> str:
    if "--" in value:
        raise ValueError(f"{value!r}: ElastiCache ids may not contain two hyphens in a row")
    return value


#: ElastiCache's replication group id: a letter, then letters, digits and single hyphens, at most 40.
ReplicationGroupId = Annotated[
    str, Field(pattern=r"^[a-z][a-z0-9-]{0,38}[a-z0-9]$"), AfterValidator(_no_double_hyphen)
]
#: A store's name: part of every physical name (replication group ids are at most 40 characters).
StoreName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9]{0,9}$")]


class RedisMemberSettings(MeridianModel):
    """What every store and region share (`meridian:redis`, less `stores`).

    Attributes:
        engine: `valkey` (default) or `redis` (Redis OSS).
        engine_version: major.minor (default `8.0`); one of `PARAMETER_GROUP_FAMILIES`. Upgrades of a
            global store go through its global datastore.
        port: the port clients connect to (default 6379).
        snapshot_retention_days: daily snapshots kept (1-35, default 7); snapshots stay on.
        snapshot_window: daily snapshot window, UTC (default `01:00-02:00`).
        maintenance_window: weekly maintenance window, UTC (default `sun:06:00-sun:07:00`); may not
            overlap the snapshot window.
        log_retention_days: retention of the slow-log and engine-log groups (default 365).
        slow_log_microseconds: commands slower than this go to the slow log (default 10000).
        app_username: the RBAC user applications authenticate as (default `app`); its password is
            generated and kept in Secrets Manager only. The `default` user is disabled.
        password_version: bump it to rotate that password (default 1; docs/components/redis-cluster.md).
        access_string: what that user may do (default: every key and channel, no `@dangerous`
            commands such as FLUSHALL, KEYS, CONFIG).
    """

    engine: RedisEngine = RedisEngine.VALKEY
    engine_version: str = "8.0"
    port: int = Field(default=6379, ge=1024, le=65535)
    snapshot_retention_days: int = Field(default=7, ge=1, le=35)
    snapshot_window: DailyWindow = "01:00-02:00"
    maintenance_window: WeeklyWindow = "sun:06:00-sun:07:00"
    log_retention_days: RetentionDays = 365
    slow_log_microseconds: int = Field(default=10_000, ge=0, le=10_000_000)
    app_username: str = Field(default="app", pattern=r"^[a-z][a-z0-9_-]{0,39}$")
    password_version: int = Field(default=1, ge=1)
    access_string: str = Field(default="on ~* &* +@all -@dangerous", pattern=r"^on ")

    @model_validator(mode="after")
    def _supported(self) -> RedisMemberSettings:
        if self.app_username == "default":
            raise ValueError("appUsername may not be 'default': that user is kept switched off; pick another")
        versions = PARAMETER_GROUP_FAMILIES[self.engine]
        if self.engine_version not in versions:
            raise ValueError(
                f"engineVersion {self.engine_version!r} is not a {self.engine.value} version meridian "
                f"runs; use one of {', '.join(versions)}"
            )
        if overlaps(self.snapshot_window, self.maintenance_window):
            raise ValueError(
                f"maintenanceWindow {self.maintenance_window} overlaps snapshotWindow "
                f"{self.snapshot_window}; AWS rejects that, move one of them"
            )
        return self

    @property
    def parameter_group_family(self) -> str:
        """E.g. `valkey8`."""
        return PARAMETER_GROUP_FAMILIES[self.engine][self.engine_version]


def _one_store_per_role(stores: dict[str, RedisStore]) -> dict[str, RedisStore]:
    served: dict[RedisRole, str] = {}
    for name, store in stores.items():
        for role in store.roles:
            if role in served:
                raise ValueError(f"{role.value} is served by both {served[role]} and {name}; pick one store")
            served[role] = name
    missing = [r.value for r in RedisRole if r not in served]
    if missing:
        raise ValueError(f"no store serves {', '.join(missing)}; add the role to a store's roles")
    return stores


class RedisSettings(RedisMemberSettings):
    """`meridian:redis`: the engine and the stores.

    Attributes:
        stores: name → `RedisStore`. Default: one store `shared` serving every role (so
            `noeviction`); prod separates them (docs/components/redis-cluster.md).
    """

    stores: Annotated[dict[StoreName, RedisStore], AfterValidator(_one_store_per_role)] = Field(
        default_factory=lambda: {"shared": RedisStore(roles=tuple(RedisRole))}
    )


class RedisClusterArgs(RedisMemberSettings):
    """Everything one region's replication group of one store needs besides its network.

    Attributes:
        replication_group_id: the group's id (at most 40 characters); users, log groups and the
            parameter group are named after it.
        store: the store's name (e.g. `sessions`).
        roles: what it holds; with `maxmemory_policy`, checked like `RedisStore`.
        maxmemory_policy: eviction when full (`RedisStore.policy`).
        membership: `regional`, `primary` (creates the global datastore) or `secondary`.
        global_datastore_suffix: primary only: the datastore's name (AWS prefixes it).
        sizes: node type, shards and replicas per shard. A secondary takes node type and shards
            from the primary; they must match (validated with the topology).
        secret_name: Secrets Manager name of the credentials (regional and primary; a secondary's
            are a replica of its primary's).
        protect: a final snapshot on delete and `protect` on the group and its secret (default true).
    """

    replication_group_id: ReplicationGroupId
    store: StoreName
    roles: tuple[RedisRole, ...] = Field(min_length=1)
    maxmemory_policy: MaxmemoryPolicy
    membership: Membership = Membership.REGIONAL
    global_datastore_suffix: str = Field(default="", pattern=r"^[a-z0-9-]{0,40}$")
    sizes: RedisSizes
    secret_name: str = Field(default="", pattern=r"^[A-Za-z0-9/_+=.@-]{0,512}$")
    protect: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> RedisClusterArgs:
        problem = _eviction_problem(self.roles, self.maxmemory_policy)
        if problem:
            raise ValueError(problem)
        if self.membership is not Membership.REGIONAL and not global_datastore_node_type(
            self.sizes.node_type
        ):
            raise ValueError(
                f"node type {self.sizes.node_type} cannot join a global datastore; use M5/M6g/M7g/M8g, "
                "R5/R6g/R7g/R8g or C7gn/C8gn in size large or above (e.g. cache.r7g.large)"
            )
        if self.membership is Membership.PRIMARY and not self.global_datastore_suffix:
            raise ValueError("the primary needs global_datastore_suffix, the global datastore's name")
        if self.membership is not Membership.SECONDARY and not self.secret_name:
            raise ValueError("a regional or primary group needs secret_name for its credentials")
        return self

    @property
    def durable(self) -> bool:
        """Whether it holds sessions or queues."""
        return bool(DURABLE_ROLES.intersection(self.roles))


def global_datastore_problems(home: str, members: dict[str, RedisSizes]) -> list[TopologyProblem]:
    """What AWS would reject in a global datastore created in `home` (its first primary:
    the stack's anchor region) and whose member regions (`home` included) have these sizes."""
    problems: list[TopologyProblem] = []
    primary = members.get(home)
    if primary is None:
        return [
            TopologyProblem(
                "globalRegions", home, f"the primary is created in {home}, which must be a member"
            )
        ]
    secondaries = [r for r in members if r != home]
    if len(secondaries) > MAX_GLOBAL_SECONDARIES:
        problems.append(
            TopologyProblem(
                "globalRegions",
                None,
                f"{len(secondaries)} secondary regions; a global datastore has at most "
                f"{MAX_GLOBAL_SECONDARIES}. Keep {MAX_GLOBAL_SECONDARIES}; the other regions get "
                "regional clusters",
            )
        )
    for region in members:
        if region not in GLOBAL_DATASTORE_REGIONS:
            problems.append(
                TopologyProblem(
                    "globalRegions",
                    region,
                    f"ElastiCache global datastores are not offered in {region}; leave it out of "
                    "globalRegions (it gets a regional cluster)",
                )
            )
    for region, sizes in members.items():
        if not global_datastore_node_type(sizes.node_type):
            problems.append(
                TopologyProblem(
                    "nodeType",
                    region,
                    f"{sizes.node_type} cannot join a global datastore; use M5/M6g/M7g/M8g, "
                    "R5/R6g/R7g/R8g or C7gn/C8gn in size large or above (e.g. cache.r7g.large)",
                )
            )
    for region in secondaries:
        sizes = members[region]
        for setting, theirs, ours in (
            ("nodeType", sizes.node_type, primary.node_type),
            ("shards", sizes.shards, primary.shards),
        ):
            if theirs != ours:
                problems.append(
                    TopologyProblem(
                        setting,
                        region,
                        f"a secondary has the primary's {setting} ({ours}, in {home}), got "
                        f"{theirs}; set it to {ours}",
                    )
                )
    return problems
