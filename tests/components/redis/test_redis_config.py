"""Redis config: roles and eviction, global datastore limits, sizes per store; every rule rejects."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from components.core.args import AWS_REGIONS
from components.core.sizes import RedisSizes
from components.redis.args import (
    GLOBAL_DATASTORE_REGIONS,
    MAX_GLOBAL_SECONDARIES,
    MaxmemoryPolicy,
    Membership,
    RedisClusterArgs,
    RedisMemberSettings,
    RedisRole,
    RedisSettings,
    RedisStore,
    global_datastore_node_type,
    global_datastore_problems,
)
from infra.config.component_args import redis_args
from infra.config.loading import validate_config
from tests.support import assert_issue, rejected

LARGE = RedisSizes(node_type="cache.r7g.large", shards=2, replicas_per_shard=1)


# --- roles and eviction ----------------------------------------------------------------------


def test_policy_defaults_follow_the_roles() -> None:
    assert RedisStore(roles=(RedisRole.CACHE,)).policy is MaxmemoryPolicy.ALLKEYS_LRU
    assert RedisStore(roles=(RedisRole.SESSIONS,)).policy is MaxmemoryPolicy.NOEVICTION
    assert RedisStore(roles=(RedisRole.CACHE, RedisRole.QUEUES)).policy is MaxmemoryPolicy.NOEVICTION
    (shared,) = RedisSettings().stores.values()
    assert set(shared.roles) == set(RedisRole) and shared.policy is MaxmemoryPolicy.NOEVICTION


@pytest.mark.parametrize("store", ["queues", "sessions"])
@pytest.mark.parametrize("policy", ["allkeys-lru", "volatile-ttl", "allkeys-random"])
def test_a_durable_store_with_an_evicting_policy_fails(
    prod_values: dict[str, Any], store: str, policy: str
) -> None:
    prod_values["redis"]["stores"][store]["maxmemoryPolicy"] = policy
    assert_issue(
        rejected(prod_values),
        f"meridian:redis.stores.{store}",
        f"maxmemoryPolicy {policy} would evict {store}",
    )


def test_a_shared_store_must_not_evict(staging_values: dict[str, Any]) -> None:
    staging_values["redis"]["stores"]["shared"]["maxmemoryPolicy"] = "allkeys-lru"
    assert_issue(
        rejected(staging_values, "Pulumi.staging.yaml"),
        "meridian:redis.stores.shared",
        "would evict queues and sessions",
        "move the cache to a store of its own",
    )


def test_a_cache_may_evict_as_it_likes(prod_values: dict[str, Any]) -> None:
    prod_values["redis"]["stores"]["cache"]["maxmemoryPolicy"] = "allkeys-lfu"
    config = validate_config(prod_values, "Pulumi.prod.yaml")
    assert redis_args(config, "prod")["cache"]["us-east-1"].maxmemory_policy is MaxmemoryPolicy.ALLKEYS_LFU


def test_every_role_served_exactly_once(prod_values: dict[str, Any]) -> None:
    del prod_values["redis"]["stores"]["cache"]["maxmemoryPolicy"]
    prod_values["redis"]["stores"]["cache"]["roles"] = ["cache", "queues"]
    assert_issue(rejected(prod_values), "meridian:redis.stores", "queues is served by both cache and queues")
    del prod_values["redis"]["stores"]["queues"]
    prod_values["redis"]["stores"]["cache"]["roles"] = ["cache"]
    for role in prod_values["sizes"].values():
        del role["redis"]["queues"]
    assert_issue(rejected(prod_values), "meridian:redis.stores", "no store serves queues")


def test_component_args_refuse_an_evicting_queue_store_too() -> None:
    with pytest.raises(ValidationError, match="would evict queues"):
        RedisClusterArgs(
            replication_group_id="team-queues",
            store="queues",
            roles=(RedisRole.QUEUES,),
            maxmemory_policy=MaxmemoryPolicy.VOLATILE_LRU,
            sizes=LARGE,
            secret_name="team/redis/queues",
        )


# --- global datastore limits -----------------------------------------------------------------


def test_two_secondaries_pass_three_fail(prod_values: dict[str, Any]) -> None:
    assert MAX_GLOBAL_SECONDARIES == 2
    validate_config(prod_values, "Pulumi.prod.yaml")  # two
    prod_values["redis"]["stores"]["sessions"]["globalRegions"] = [
        "us-west-1",
        "eu-central-1",
        "ap-southeast-1",
    ]
    assert_issue(
        rejected(prod_values),
        "meridian:redis.stores.sessions.globalRegions",
        "3 secondary regions; a global datastore has at most 2",
    )


@pytest.mark.parametrize(
    ("node_type", "fragment"),
    [
        ("cache.t4g.medium", "cache.t4g.medium cannot join a global datastore"),
        ("cache.r7g.medium", "size large or above"),
        ("cache.m4.large", "cache.m4.large cannot join"),
        ("cache.r6gd.xlarge", "cache.r6gd.xlarge cannot join"),
    ],
)
def test_unsupported_node_types_fail_for_a_global_store(
    prod_values: dict[str, Any], node_type: str, fragment: str
) -> None:
    prod_values["redis"]["stores"]["queues"]["globalRegions"] = ["us-west-1", "eu-central-1"]
    for role in ("primary", "secondary"):
        prod_values["sizes"][role]["redis"]["queues"]["nodeType"] = node_type
    error = rejected(prod_values)
    assert_issue(error, "meridian:sizes.primary.redis.queues.nodeType", "us-east-1:", fragment)
    assert_issue(error, "meridian:sizes.secondary.redis.queues.nodeType", "us-west-1:", fragment)


def test_a_regional_store_may_use_any_node_type(prod_values: dict[str, Any]) -> None:
    prod_values["sizes"]["secondary"]["redis"]["cache"]["nodeType"] = "cache.t4g.medium"
    validate_config(prod_values, "Pulumi.prod.yaml")


def test_node_type_families_match_the_aws_list() -> None:
    for node_type in ("cache.r7g.large", "cache.m7g.2xlarge", "cache.r8g.16xlarge", "cache.c7gn.large"):
        assert global_datastore_node_type(node_type), node_type
    for node_type in ("cache.t4g.micro", "cache.t3.medium", "cache.r4.large", "cache.m6g.medium"):
        assert not global_datastore_node_type(node_type), node_type


@pytest.mark.parametrize(
    ("key", "value", "expected"), [("nodeType", "cache.r7g.xlarge", "cache.r7g.large"), ("shards", 3, "1")]
)
def test_a_secondary_runs_the_primarys_node_type_and_shards(
    prod_values: dict[str, Any], key: str, value: Any, expected: str
) -> None:
    prod_values["redis"]["stores"]["queues"]["globalRegions"] = ["us-west-1", "eu-central-1"]
    prod_values["sizes"]["secondary"]["redis"]["queues"][key] = value
    assert_issue(
        rejected(prod_values),
        f"meridian:sizes.secondary.redis.queues.{key}",
        f"us-west-1: a secondary has the primary's {key} ({expected}, in us-east-1)",
    )


def test_replicas_may_differ_between_members(prod_values: dict[str, Any]) -> None:
    prod_values["redis"]["stores"]["queues"]["globalRegions"] = ["us-west-1", "eu-central-1"]
    prod_values["sizes"]["secondary"]["redis"]["queues"]["replicasPerShard"] = 3
    validate_config(prod_values, "Pulumi.prod.yaml")


@pytest.mark.parametrize(
    ("region", "why"),
    [
        ("us-east-1", "it must be another region of this stack"),
        ("sa-east-1", "it must be another region of this stack"),
        ("eu-west-1", "it is a primary region"),
    ],
)
def test_secondaries_are_secondary_regions_of_the_stack(
    prod_values: dict[str, Any], region: str, why: str
) -> None:
    prod_values["redis"]["stores"]["queues"]["globalRegions"] = ["us-west-1", region]
    assert_issue(
        rejected(prod_values),
        "meridian:redis.stores.queues.globalRegions[1]",
        f"{region} cannot hold a secondary: {why}",
        "use secondary regions: us-west-1, eu-central-1, ap-southeast-1, af-south-1",
    )


def test_the_app_user_is_not_the_default_user(prod_values: dict[str, Any]) -> None:
    prod_values["redis"]["appUsername"] = "default"
    assert_issue(rejected(prod_values), "meridian:redis", "appUsername may not be 'default'")


def test_regions_without_global_datastores_are_refused() -> None:
    outside = sorted(
        AWS_REGIONS - GLOBAL_DATASTORE_REGIONS - {r for r in AWS_REGIONS if "gov" in r or r.startswith("cn-")}
    )
    assert outside, "every AWS region offers global datastores: the table needs no check"
    problems = global_datastore_problems("us-east-1", {"us-east-1": LARGE, outside[0]: LARGE})
    assert [(p.setting, p.region) for p in problems] == [("globalRegions", outside[0])]
    assert "not offered" in problems[0].problem


def test_prod_regions_all_offer_global_datastores(prod_values: dict[str, Any]) -> None:
    assert {r["name"] for r in prod_values["regions"]} <= GLOBAL_DATASTORE_REGIONS


# --- sizes, names, engine, windows ---------------------------------------------------------------


def test_every_store_needs_sizes_in_every_kind_of_region(prod_values: dict[str, Any]) -> None:
    del prod_values["sizes"]["secondary"]["redis"]["cache"]
    prod_values["sizes"]["primary"]["redis"]["jobs"] = {
        "nodeType": "cache.r7g.large",
        "shards": 1,
        "replicasPerShard": 1,
    }
    error = rejected(prod_values)
    assert_issue(error, "meridian:sizes.secondary.redis", "no sizes for store 'cache'")
    assert_issue(error, "meridian:sizes.primary.redis.jobs", "'jobs' is not a store")


def test_replication_group_ids_fit_elasticache(prod_values: dict[str, Any]) -> None:
    # meridian-production-eu-ap-northeast-1-sessions: 46 characters.
    assert_issue(
        rejected(prod_values, "Pulumi.production-eu.yaml"),
        "meridian:redis.stores.sessions",
        "is 46 characters; ElastiCache allows 40",
    )
    with pytest.raises(ValidationError, match="two hyphens"):
        RedisClusterArgs(
            replication_group_id="team--cache",
            store="cache",
            roles=(RedisRole.CACHE,),
            maxmemory_policy=MaxmemoryPolicy.ALLKEYS_LRU,
            sizes=LARGE,
            secret_name="team/redis/cache",
        )


def test_store_names_are_short_identifiers(prod_values: dict[str, Any]) -> None:
    prod_values["redis"]["stores"]["Session-Store"] = prod_values["redis"]["stores"].pop("sessions")
    assert_issue(
        rejected(prod_values),
        "meridian:redis.stores.Session-Store",
        "is not a valid key here",
        "should match pattern",
    )


@pytest.mark.parametrize(
    ("engine", "version", "family"), [("valkey", "7.2", "valkey7"), ("redis", "7.1", "redis7")]
)
def test_engine_versions_map_to_their_parameter_group_family(engine: str, version: str, family: str) -> None:
    assert RedisMemberSettings(engine=engine, engine_version=version).parameter_group_family == family  # type: ignore[arg-type]


def test_unknown_engine_version_fails(prod_values: dict[str, Any]) -> None:
    prod_values["redis"]["engineVersion"] = "7.0"  # a Redis OSS version, not a Valkey one
    assert_issue(rejected(prod_values), "meridian:redis", "'7.0' is not a valkey version", "8.0")


def test_overlapping_windows_fail(prod_values: dict[str, Any]) -> None:
    prod_values["redis"]["snapshotWindow"] = "05:30-06:30"
    prod_values["redis"]["maintenanceWindow"] = "sun:06:00-sun:07:00"
    assert_issue(rejected(prod_values), "meridian:redis", "overlaps snapshotWindow")


def test_snapshots_stay_on(prod_values: dict[str, Any]) -> None:
    prod_values["redis"]["snapshotRetentionDays"] = 0
    assert_issue(rejected(prod_values), "meridian:redis.snapshotRetentionDays", "greater than or equal to 1")


def test_component_args_memberships() -> None:
    common: dict[str, Any] = {
        "store": "sessions",
        "roles": (RedisRole.SESSIONS,),
        "maxmemory_policy": MaxmemoryPolicy.NOEVICTION,
        "sizes": LARGE,
    }
    with pytest.raises(ValidationError, match="global_datastore_suffix"):
        RedisClusterArgs(
            replication_group_id="a-sessions", membership=Membership.PRIMARY, secret_name="s", **common
        )
    with pytest.raises(ValidationError, match="secret_name"):
        RedisClusterArgs(replication_group_id="a-sessions", **common)
    with pytest.raises(ValidationError, match="cannot join a global datastore"):
        RedisClusterArgs(
            replication_group_id="a-sessions",
            membership=Membership.SECONDARY,
            **{**common, "sizes": RedisSizes(node_type="cache.t4g.small", shards=1, replicas_per_shard=1)},
        )
    secondary = RedisClusterArgs(replication_group_id="b-sessions", membership=Membership.SECONDARY, **common)
    assert secondary.durable and not secondary.secret_name
