"""RedisCluster as both stacks declare it, read from the offline plan after the program ran."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.network.subnets import Tier
from components.redis.args import Membership, RedisRole
from components.redis.redis_cluster import AWS_OWNED, LOG_TYPES
from components.region.region_stack import redis_env_prefix
from infra.config.component_args import redis_args as members_of_stores
from infra.plan.mocks import MOCK_ACCOUNT_ID, RecordedResource, mock_password
from infra.plan.run import Plan
from tests.support import (
    PLANS,
    assert_final_snapshot_follows_replacement,
    config_of,
    global_stores_config,
    in_region,
    key_arn,
    node_group_id,
    strings_in,
)

COMPONENT = "meridian:redis:RedisCluster"
GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
GLOBAL = "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup"
PARAMETERS = "aws:elasticache/parameterGroup:ParameterGroup"
USER = "aws:elasticache/user:User"
USER_GROUP = "aws:elasticache/userGroup:UserGroup"
SECRET = "aws:secretsmanager/secret:Secret"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


def groups(plan: Plan) -> dict[tuple[str, str], RecordedResource]:
    """(store, region) → replication group, the store read from the group's id."""
    found = {}
    for group in plan.of_type(GROUP):
        region = plan.regions[group.urn]
        assert region is not None
        store = group.inputs["replicationGroupId"].removeprefix(f"meridian-{plan.stack}-{region}-")
        found[(store, region)] = group
    return found


def redis_args(plan: Plan):
    return members_of_stores(config_of(plan), plan.stack)


def children_of(plan: Plan, group: RecordedResource, type_token: str) -> list[RecordedResource]:
    """Resources of `type_token` in the same RedisCluster as `group`."""
    component = group.parent
    assert component is not None
    return [r for r in plan.descendants(component) if r.type == type_token]


# --- per region ----------------------------------------------------------------------------------


def test_every_region_has_one_group_per_store(stack_plan: Plan) -> None:
    config = config_of(stack_plan)
    expected = {(store, r.name) for store in config.redis.stores for r in config.regions}
    assert set(groups(stack_plan)) == expected
    assert len(stack_plan.of_type(COMPONENT)) == len(expected)


def test_cluster_mode_multi_az_and_automatic_failover_everywhere(stack_plan: Plan) -> None:
    stores = redis_args(stack_plan)
    for (store, region), group in groups(stack_plan).items():
        args = stores[store][region]
        inputs = group.inputs
        assert inputs["automaticFailoverEnabled"] is True, group.urn
        assert inputs["multiAzEnabled"] is True, group.urn
        assert inputs["replicasPerNodeGroup"] == args.sizes.replicas_per_shard >= 1
        if args.membership is Membership.SECONDARY:
            # Shards, node type and cluster mode are the primary's; AWS rejects them here.
            for key in ("numNodeGroups", "nodeType", "clusterMode", "engine", "parameterGroupName"):
                assert key not in inputs, f"{group.urn} sets {key}"
        else:
            assert inputs["clusterMode"] == "enabled"
            assert inputs["numNodeGroups"] == args.sizes.shards
            assert inputs["nodeType"] == args.sizes.node_type
            assert inputs["engine"] == "valkey"
            assert inputs["engineVersion"] == config_of(stack_plan).redis.engine_version


def test_encrypted_at_rest_with_the_regions_key_and_tls_required(stack_plan: Plan) -> None:
    stores = redis_args(stack_plan)
    for (store, region), group in groups(stack_plan).items():
        inputs = group.inputs
        assert inputs["kmsKeyId"] == key_arn(stack_plan, region), group.urn
        if stores[store][region].membership is Membership.SECONDARY:
            # Encryption and TLS are inherited from the primary, which has both (checked below).
            assert "atRestEncryptionEnabled" not in inputs and "transitEncryptionEnabled" not in inputs
        else:
            assert inputs["atRestEncryptionEnabled"] is True
            assert inputs["transitEncryptionEnabled"] is True
            assert inputs["transitEncryptionMode"] == "required"


def test_on_the_isolated_subnets_of_every_az(stack_plan: Plan) -> None:
    config = config_of(stack_plan)
    for (_, region), group in groups(stack_plan).items():
        (subnet_group,) = children_of(stack_plan, group, "aws:elasticache/subnetGroup:SubnetGroup")
        assert group.inputs["subnetGroupName"] == subnet_group.id
        isolated = {
            s.id
            for s in in_region(stack_plan, "aws:ec2/subnet:Subnet", region)
            if s.inputs["tags"]["meridian/tier"] == Tier.ISOLATED.value
        }
        entry = next(r for r in config.regions if r.name == region)
        assert set(subnet_group.inputs["subnetIds"]) == isolated
        assert len(isolated) == entry.az_count


def test_security_group_admits_the_port_from_the_eks_nodes_only(stack_plan: Plan) -> None:
    port = config_of(stack_plan).redis.port
    for (_, region), group in groups(stack_plan).items():
        (security_group,) = children_of(stack_plan, group, "aws:ec2/securityGroup:SecurityGroup")
        assert group.inputs["securityGroupIds"] == [security_group.id]
        assert "ingress" not in security_group.inputs and "egress" not in security_group.inputs
        rules = children_of(stack_plan, group, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        assert len(rules) == 1
        (rule,) = rules
        assert rule.inputs["securityGroupId"] == security_group.id
        assert rule.inputs["referencedSecurityGroupId"] == node_group_id(stack_plan, region)
        assert (rule.inputs["fromPort"], rule.inputs["toPort"], rule.inputs["ipProtocol"]) == (
            port,
            port,
            "tcp",
        )
        assert not {"cidrIpv4", "cidrIpv6", "prefixListId"} & set(rule.inputs), "open to a CIDR"
        assert not children_of(stack_plan, group, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")


def test_eviction_policy_follows_the_stores_roles(stack_plan: Plan) -> None:
    config = config_of(stack_plan)
    stores = redis_args(stack_plan)
    for (store, region), group in groups(stack_plan).items():
        args = stores[store][region]
        if args.membership is Membership.SECONDARY:
            assert not children_of(stack_plan, group, PARAMETERS)  # runs its primary's parameters
            continue
        (parameters,) = children_of(stack_plan, group, PARAMETERS)
        assert group.inputs["parameterGroupName"] == parameters.id
        assert parameters.inputs["family"] == "valkey8"
        values = {p["name"]: p["value"] for p in parameters.inputs["parameters"]}
        assert values["cluster-enabled"] == "yes"
        durable = {RedisRole.SESSIONS, RedisRole.QUEUES} & set(config.redis.stores[store].roles)
        assert values["maxmemory-policy"] == ("noeviction" if durable else "allkeys-lru"), group.urn
        assert values["slowlog-log-slower-than"] == str(config.redis.slow_log_microseconds)


def test_prod_separates_cache_sessions_and_queues(prod_plan: Plan) -> None:
    stores = config_of(prod_plan).redis.stores
    assert {name: [r.value for r in s.roles] for name, s in stores.items()} == {
        "cache": ["cache"],
        "sessions": ["sessions"],
        "queues": ["queues"],
    }


def test_snapshots_windows_and_logs(stack_plan: Plan) -> None:
    config = config_of(stack_plan)
    settings = config.redis
    for (_, region), group in groups(stack_plan).items():
        inputs = group.inputs
        assert inputs["snapshotRetentionLimit"] == settings.snapshot_retention_days >= 1
        assert inputs["snapshotWindow"] == settings.snapshot_window
        assert inputs["maintenanceWindow"] == settings.maintenance_window
        logs = {g.inputs["name"]: g for g in children_of(stack_plan, group, LOG_GROUP)}
        ident = inputs["replicationGroupId"]
        assert set(logs) == {f"/aws/elasticache/{ident}/{t}" for t in LOG_TYPES}
        for log in logs.values():
            assert log.inputs["kmsKeyId"] == key_arn(stack_plan, region)
            assert log.inputs["retentionInDays"] == settings.log_retention_days
            assert log.urn in group.dependencies, "ElastiCache would create the group unencrypted"
        deliveries = {d["logType"]: d for d in inputs["logDeliveryConfigurations"]}
        assert set(deliveries) == set(LOG_TYPES)
        for log_type, delivery in deliveries.items():
            assert delivery["destinationType"] == "cloudwatch-logs"
            assert delivery["destination"] == f"/aws/elasticache/{ident}/{log_type}"


def test_one_log_delivery_policy_per_region_for_this_account_only(stack_plan: Plan) -> None:
    config = config_of(stack_plan)
    policies = [
        p
        for p in stack_plan.of_type("aws:cloudwatch/logResourcePolicy:LogResourcePolicy")
        if p.name.endswith("-elasticache-log-delivery")
    ]
    assert sorted(stack_plan.regions[p.urn] for p in policies) == sorted(r.name for r in config.regions)
    for policy in policies:
        region = stack_plan.regions[policy.urn]
        (statement,) = json.loads(policy.inputs["policyDocument"])["Statement"]
        assert statement["Principal"] == {"Service": "delivery.logs.amazonaws.com"}
        assert statement["Resource"] == (
            f"arn:aws:logs:{region}:{MOCK_ACCOUNT_ID}:log-group:/aws/elasticache/*:log-stream:*"
        )
        assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": MOCK_ACCOUNT_ID}
        for (_, group_region), group in groups(stack_plan).items():
            if group_region == region:
                assert policy.urn in group.dependencies, "ElastiCache would write its own policy"


def test_prod_keeps_every_store_staging_can_be_torn_down(stack_plan: Plan) -> None:
    prod = stack_plan.stack == "prod"
    for group in groups(stack_plan).values():
        ident = group.inputs["replicationGroupId"]
        final = group.inputs.get("finalSnapshotIdentifier")
        assert final.startswith(f"{ident}-final-") if prod else final is None  # per generation
        assert group.protect is prod, group.urn  # the cache too: losing it floods the database
    for resource in stack_plan.of_type(GLOBAL):
        assert resource.protect is prod
    for secret in stack_plan.within(COMPONENT, SECRET):
        assert secret.protect is prod
        assert secret.inputs["recoveryWindowInDays"] == (30 if prod else 0)


# --- across regions ------------------------------------------------------------------------------


@pytest.fixture(params=[pytest.param("prod", marks=pytest.mark.slow), "staging"])
def replicated_plan(request: pytest.FixtureRequest, global_stores_project: Path) -> Plan:
    """A stack's plan with its stores replicated as before (`tests.support.with_global_stores`):
    neither stack file has a global store now, but the component still declares one."""
    return PLANS(global_stores_project, request.param)


def test_global_datastore_membership_matches_config(replicated_plan: Plan) -> None:
    stack_plan = replicated_plan
    config = config_of(stack_plan)
    found = groups(stack_plan)
    datastores = {g.inputs["globalReplicationGroupIdSuffix"]: g for g in stack_plan.of_type(GLOBAL)}
    expected = {s for s, store in config.redis.stores.items() if store.global_regions}
    assert set(datastores) == {f"meridian-{stack_plan.stack}-{s}" for s in expected}
    assert expected, "the variant replicates a store across regions"
    for name, store in config.redis.stores.items():
        members = {
            region for (s, region), g in found.items() if s == name and "globalReplicationGroupId" in g.inputs
        }
        if name not in expected:
            assert not members
            continue
        datastore = datastores[f"meridian-{stack_plan.stack}-{name}"]
        primary = found[(name, config.write_home)]
        assert stack_plan.regions[datastore.urn] == config.write_home
        assert datastore.inputs["primaryReplicationGroupId"] == primary.id
        assert datastore.ignore_changes == ["primaryReplicationGroupId"]
        # Upgrades and resizing go through the datastore; its members leave them to it.
        home_sizes = redis_args(stack_plan)[name][config.write_home].sizes
        assert datastore.inputs["engineVersion"] == config.redis.engine_version
        assert datastore.inputs["cacheNodeType"] == home_sizes.node_type == primary.inputs["nodeType"]
        assert datastore.inputs["numNodeGroups"] == home_sizes.shards == primary.inputs["numNodeGroups"]
        assert members == set(store.global_regions)
        for region in members:
            secondary = found[(name, region)]
            assert secondary.inputs["globalReplicationGroupId"] == datastore.id
            assert datastore.urn in secondary.dependencies
            assert secondary.ignore_changes == AWS_OWNED
        assert primary.ignore_changes == AWS_OWNED
    assert stack_plan.outputs["redisGlobalDatastoreIds"] == {
        name.removeprefix(f"meridian-{stack_plan.stack}-"): d.id for name, d in datastores.items()
    }
    # Where each global store takes writes now: the write home, which holds a copy.
    assert stack_plan.outputs["redisPrimaryRegions"] == dict.fromkeys(
        stack_plan.outputs["redisGlobalDatastoreIds"], config_of(stack_plan).write_home
    )
    # A read-only copy's region gets no write host for the store, and no Cloudflare pool.
    for name, store in config.redis.stores.items():
        for region in store.global_regions:
            endpoints = stack_plan.outputs["regions"][region]["appEndpoints"]
            key = redis_env_prefix(name)
            assert f"{key}_HOST" not in endpoints and f"{key}_READ_HOST" in endpoints
    pools = {
        p.inputs["name"] for p in stack_plan.of_type("cloudflare:index/loadBalancerPool:LoadBalancerPool")
    }
    read_only = {r for store in config.redis.stores.values() for r in store.global_regions}
    assert pools == {
        f"meridian-{stack_plan.stack}-{r.name}" for r in config.regions if r.name not in read_only
    }


def test_the_global_variant_stays_within_aws_limits() -> None:
    config = global_stores_config("prod")
    for name in ("sessions", "queues"):
        store = config.redis.stores[name]
        assert len(store.global_regions) == 2  # AWS's maximum
        sizes = {config.sizes[r.role].redis[name] for r in config.regions if r.name in store.global_regions}
        home = config.sizes[next(r.role for r in config.regions if r.name == config.write_home)].redis[name]
        assert {(s.node_type, s.shards) for s in sizes} == {(home.node_type, home.shards)}


def test_every_store_is_regional_everywhere(stack_plan: Plan) -> None:
    """Neither stack replicates a store: every region writes its own sessions, queues and cache
    (a global datastore's copies are read-only, and Cloudflare may send users to any region)."""
    config = config_of(stack_plan)
    assert not stack_plan.of_type(GLOBAL)
    found = groups(stack_plan)
    assert set(found) == {(s, r.name) for s in config.redis.stores for r in config.regions}
    for group in found.values():
        assert "globalReplicationGroupId" not in group.inputs
        assert group.inputs["autoMinorVersionUpgrade"] is True
    # Each region's own credentials, and a write host for every store.
    assert len(stack_plan.within(COMPONENT, SECRET)) == len(found)
    assert stack_plan.outputs["redisGlobalDatastoreIds"] == {}
    for region in config.regions:
        endpoints = stack_plan.outputs["regions"][region.name]["appEndpoints"]
        assert {f"{redis_env_prefix(s)}_HOST" for s in config.redis.stores} <= set(endpoints)


# --- credentials ---------------------------------------------------------------------------------


def test_rbac_with_the_default_user_off_and_the_app_user_in_a_group(stack_plan: Plan) -> None:
    settings = config_of(stack_plan).redis
    for group in groups(stack_plan).values():
        (user_group,) = children_of(stack_plan, group, USER_GROUP)
        assert group.inputs["userGroupIds"] == [user_group.id]
        users = {u.inputs["userName"]: u for u in children_of(stack_plan, group, USER)}
        assert set(users) == {"default", settings.app_username}
        assert sorted(user_group.inputs["userIds"]) == sorted(u.id for u in users.values())
        default = users["default"].inputs
        assert default["accessString"].startswith("off ")
        # Valkey refuses password-less users: the default one has a password nobody is given.
        assert default["passwordsWo"] == "[secret]" and "noPasswordRequired" not in default
        app = users[settings.app_username]
        assert app.inputs["accessString"] == settings.access_string
        assert "-@dangerous" in app.inputs["accessString"]
        assert app.inputs["passwordsWo"] == "[secret]"
        assert app.inputs["passwordsWoVersion"] == settings.password_version
        assert "passwords" not in app.inputs and "authenticationMode" not in app.inputs
        assert "authToken" not in group.inputs


def test_no_plain_text_secret_in_any_input(stack_plan: Plan) -> None:
    passwords = stack_plan.within(COMPONENT, "random:index/randomPassword:RandomPassword")
    assert passwords
    generated = {mock_password(p.name, int(p.inputs["length"])) for p in passwords}
    for resource in stack_plan.resources:
        assert not generated & set(strings_in(resource.inputs)), f"{resource.urn} holds a password"
    for version in stack_plan.within(COMPONENT, "aws:secretsmanager/secretVersion:SecretVersion"):
        assert version.inputs["secretStringWo"] == "[secret]"
        (group,) = [g for g in stack_plan.of_type(GROUP) if g.urn in version.dependencies]
        assert group.parent == stack_plan.by_urn[version.parent or ""].parent


def test_credentials_secret_per_region_replicated_to_the_secondaries(stack_plan: Plan) -> None:
    config = config_of(stack_plan)
    stores = redis_args(stack_plan)
    secrets = {(s.inputs["name"], stack_plan.regions[s.urn]): s for s in stack_plan.within(COMPONENT, SECRET)}
    for store, members in stores.items():
        name = f"meridian-{stack_plan.stack}/redis/{store}"
        owners = [r for r, a in members.items() if a.membership is not Membership.SECONDARY]
        assert {r for n, r in secrets if n == name} == set(owners)
        for region in owners:
            secret = secrets[(name, region)]
            assert secret.inputs["kmsKeyId"] == key_arn(stack_plan, region)
            replicas = {r["region"]: r["kmsKeyId"] for r in secret.inputs.get("replicas", [])}
            secondaries = (
                set(config.redis.stores[store].global_regions) if region == config.write_home else set()
            )
            assert replicas == {r: key_arn(stack_plan, r) for r in secondaries}


def test_outputs_per_region(stack_plan: Plan) -> None:
    stores = redis_args(stack_plan)
    port = config_of(stack_plan).redis.port
    datastores = stack_plan.outputs["redisGlobalDatastoreIds"]
    for (store, region), group in groups(stack_plan).items():
        out = stack_plan.outputs["regions"][region]["redis"][store]
        membership = stores[store][region].membership
        assert out["membership"] == membership.value
        assert out["configurationEndpoint"].startswith(f"clustercfg.{group.id}.")
        assert out["configurationEndpoint"].endswith(".cache.amazonaws.com")
        assert out["port"] == port
        assert out["authSecretArn"].startswith(f"arn:aws:secretsmanager:{region}:{MOCK_ACCOUNT_ID}:secret:")
        assert (
            out["authSecretArn"]
            .split(":secret:")[1]
            .startswith(f"meridian-{stack_plan.stack}/redis/{store}-")
        )
        assert out["globalDatastoreId"] == (
            datastores[store] if membership is not Membership.REGIONAL else None
        )
        if membership is Membership.SECONDARY:
            primary = stack_plan.outputs["regions"][config_of(stack_plan).write_home]["redis"][store]
            assert out["writeEndpoint"] == primary["configurationEndpoint"]
        else:
            assert out["writeEndpoint"] == out["configurationEndpoint"]


def test_api_pods_may_read_their_regions_credentials_and_reach_the_port(stack_plan: Plan) -> None:
    config = config_of(stack_plan)
    for entry in config.regions:
        region = entry.name
        (app_role,) = [
            r for r in in_region(stack_plan, "aws:iam/role:Role", region) if r.name.endswith("-app")
        ]
        policies = [
            json.loads(p.inputs["policy"])
            for p in in_region(stack_plan, "aws:iam/rolePolicy:RolePolicy", region)
            if p.inputs["role"] == app_role.id and p.name.endswith("-credentials")
        ]
        assert len(policies) == len(config.redis.stores)
        readable = {arn for p in policies for arn in p["Statement"][0]["Resource"]}
        expected = {
            stack_plan.outputs["regions"][region]["redis"][s]["authSecretArn"] for s in config.redis.stores
        }
        assert readable == expected
        for policy in policies:
            decrypt = policy["Statement"][1]
            assert decrypt["Resource"] == key_arn(stack_plan, region)
            assert (
                decrypt["Condition"]["StringEquals"]["kms:ViaService"]
                == f"secretsmanager.{region}.amazonaws.com"
            )
        egress = [
            n
            for n in in_region(stack_plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy", region)
            if n.inputs["metadata"]["name"] == f"allow-redis-{config.redis.port}"
        ]
        assert len(egress) == 1
        (rule,) = egress[0].inputs["spec"]["egress"]
        assert rule["ports"] == [{"protocol": "TCP", "port": config.redis.port}]


@pytest.mark.parametrize("stack", ["prod"])
def test_prod_counts(stack: str, prod_plan: Plan) -> None:
    assert len(prod_plan.of_type(GROUP)) == 24  # 3 stores x 8 regions
    assert len(prod_plan.of_type(PARAMETERS)) == 24  # every group is regional: its own parameters
    assert len(prod_plan.within(COMPONENT, SECRET)) == 24


#: `aws.elasticache.ReplicationGroup`'s ForceNew arguments (terraform-provider-aws,
#: internal/service/elasticache/replication_group.go).
GROUP_FORCE_NEW = frozenset(
    {
        "atRestEncryptionEnabled", "dataTieringEnabled", "globalReplicationGroupId", "kmsKeyId",
        "networkType", "port", "replicationGroupId", "securityGroupNames", "snapshotArns",
        "snapshotName", "subnetGroupName",
    }
)  # fmt: skip


def test_each_group_generation_takes_its_final_snapshot_under_a_name_of_its_own(prod_plan: Plan) -> None:
    groups = prod_plan.of_type(GROUP)
    for group in groups:
        assert_final_snapshot_follows_replacement(
            prod_plan, group, group.inputs["replicationGroupId"], GROUP_FORCE_NEW
        )
    assert len({g.inputs["finalSnapshotIdentifier"] for g in groups}) == len(groups)
