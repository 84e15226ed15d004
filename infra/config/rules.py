"""Pass 2 of loading: the rules that involve more than one key (duplicates, overlaps, roles, the
write home and the anchor, prod's minimums), each issue naming the key to change.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from components.core.args import RegionRole, TopologyProblem
from components.edge.args import ORIGIN_PULL_RENEWAL_DAYS, cdn_problems
from components.edge.geo import AWS_REGION_LOCATIONS
from components.network.args import FIREHOSE_ENDPOINT, SECRETS_ENDPOINT, NatGatewayMode
from components.network.subnets import PRIVATE_RANGES, SubnetPlanError, plan_subnets
from components.postgres.args import (
    global_database_problems,
)
from components.redis.args import (
    global_datastore_problems,
)
from components.storage.args import LockMode

from .errors import ConfigIssue
from .naming import MAX_REPLICATION_GROUP_ID, NAMESPACE, redis_group_id
from .schema import Environment, RegionEntry, StackConfig

__all__ = [
    "MAX_PUBLIC_ENDPOINT_DAYS",
    "MIN_AZ_COUNT",
    "PROD_MIN_AUDIT_LOG_DAYS",
    "PROD_MIN_AZ_COUNT",
    "PROD_MIN_BACKUP_RETENTION_DAYS",
    "PROD_MIN_HSTS_MAX_AGE_SECONDS",
    "SECRET_KEYS",
    "is_encrypted",
    "secret_key_issues",
    "stack_rules",
]


#: The longest a public Kubernetes API endpoint may stay open: a bootstrap window, in days from today.
MAX_PUBLIC_ENDPOINT_DAYS = 7


#: What a production stack must have, whatever its file says.
PROD_MIN_AZ_COUNT = 3


#: EKS places control-plane network interfaces in at least two AZs.
MIN_AZ_COUNT = 2


#: HSTS max-age prod sends at least (six months; browsers then refuse plain HTTP that long).
PROD_MIN_HSTS_MAX_AGE_SECONDS = 15_552_000


#: Config keys that hold credentials: the stack file must keep them encrypted (`secure:`).
SECRET_KEYS = ("cloudflare:apiToken", "cloudflare:apiKey", "cloudflare:apiUserServiceKey")


#: Days of automated backups (and so of point-in-time recovery) prod keeps at least.
PROD_MIN_BACKUP_RETENTION_DAYS = 14


#: Days prod keeps audit logs (EKS control-plane logs; the trail's copy in CloudWatch Logs): a
#: year, the usual floor of audit frameworks (PCI DSS 10.5.1 keeps a year, three months at hand).
PROD_MIN_AUDIT_LOG_DAYS = 365


def _free_range(used: list[ipaddress.IPv4Network], prefix: int) -> str | None:
    """A private range of *prefix* length that overlaps none of *used*, to suggest in a fix."""
    for private in PRIVATE_RANGES:
        if private.prefixlen > prefix:
            continue
        for candidate in private.subnets(new_prefix=prefix):
            if not any(candidate.overlaps(u) for u in used):
                return str(candidate)
    return None


def _az_count_issues(region: RegionEntry, at: str, prod: bool) -> list[ConfigIssue]:
    """EKS needs two AZs anywhere; prod needs three unless the entry says why it cannot have them."""
    if region.az_count < MIN_AZ_COUNT:
        return [
            ConfigIssue(
                f"{at}.azIds",
                f"EKS needs subnets in at least {MIN_AZ_COUNT} AZs, got {region.az_count}; "
                f"list {MIN_AZ_COUNT} or more AZ ids",
            )
        ]
    if region.fewer_azs_reason is not None and (not prod or region.az_count >= PROD_MIN_AZ_COUNT):
        return [
            ConfigIssue(
                f"{at}.fewerAzsReason",
                f"only a prod region with fewer than {PROD_MIN_AZ_COUNT} AZs needs a reason; remove the key",
            )
        ]
    if prod and region.az_count < PROD_MIN_AZ_COUNT and region.fewer_azs_reason is None:
        return [
            ConfigIssue(
                f"{at}.azIds",
                f"prod needs at least {PROD_MIN_AZ_COUNT} AZs per region to survive an AZ "
                f"outage, got {region.az_count}; list {PROD_MIN_AZ_COUNT} AZ ids, or, where the "
                "region cannot offer them, say why in fewerAzsReason",
            )
        ]
    return []


def _topology_issues(
    config: StackConfig,
    problems: list[TopologyProblem],
    *,
    regions_key: str,
    sizes_key: str,
    renames: dict[str, str] | None = None,
) -> list[ConfigIssue]:
    """A global topology's problems as issues: about its regions at `regions_key`, about a member's
    size at `meridian:sizes.<kind of region>.<sizes_key>.<setting>` (renamed per `renames`)."""
    kinds = {r.name: r.role.value for r in config.regions}
    issues = []
    for problem in problems:
        if problem.setting in ("regions", "globalRegions"):
            issues.append(ConfigIssue(regions_key, problem.problem))
        else:
            kind = kinds[problem.region or config.anchor_region]
            key = (renames or {}).get(problem.setting, problem.setting)
            issues.append(
                ConfigIssue(
                    f"{NAMESPACE}:sizes.{kind}.{sizes_key}.{key}", f"{problem.region}: {problem.problem}"
                )
            )
    return issues


def _audit_issues(config: StackConfig, prod: bool) -> list[ConfigIssue]:
    """Prod keeps its audit log a year under COMPLIANCE lock; a stack whose stateful resources are
    not protected (torn down) cannot empty a COMPLIANCE-locked bucket, so it uses GOVERNANCE."""
    at = f"{NAMESPACE}:observability.audit"
    audit = config.observability.audit
    issues = []
    if prod and (
        audit.lock_mode is not LockMode.COMPLIANCE or audit.object_lock_days < PROD_MIN_AUDIT_LOG_DAYS
    ):
        issues.append(
            ConfigIssue(
                f"{at}.lockMode" if audit.lock_mode is not LockMode.COMPLIANCE else f"{at}.objectLockDays",
                f"prod locks every audit log file at least {PROD_MIN_AUDIT_LOG_DAYS} days in COMPLIANCE mode "
                f"(got {audit.lock_mode.value}, {audit.object_lock_days} days); remove both keys",
            )
        )
    if not config.protect_stateful_resources and audit.lock_mode is LockMode.COMPLIANCE:
        issues.append(
            ConfigIssue(
                f"{at}.lockMode",
                "this stack may be torn down (protectStatefulResources: false), but nobody can delete a "
                "COMPLIANCE-locked log file before its retention ends; set lockMode: GOVERNANCE",
            )
        )
    return issues


def _write_home_issues(config: StackConfig) -> list[ConfigIssue]:
    """A failover moves the write home away from the anchor, but only where the database can take
    writes: a region of the stack with a member of the global database, whatever its role. (A global
    store without a copy there keeps its primary in the anchor region: `store_primary`.)"""
    if config.write_home == config.anchor_region:
        return []  # the anchor's rules cover it
    at = f"{NAMESPACE}:writeHome"
    stack_regions = [r.name for r in config.regions]
    if config.write_home not in stack_regions:
        return [
            ConfigIssue(
                at,
                f"{config.write_home} is not a region of this stack; use one of: {', '.join(stack_regions)}",
            )
        ]
    issues = []
    if config.write_home not in config.postgres_regions():
        issues.append(
            ConfigIssue(
                at,
                f"{config.write_home} holds no member of the global database, so it cannot take its "
                f"writes; use one of its regions: {', '.join(config.postgres_regions())}",
            )
        )
    return issues


def _postgres_issues(config: StackConfig, prod: bool) -> list[ConfigIssue]:
    """The global database: its regions exist in the stack, AWS accepts the topology, and prod keeps
    two weeks of point-in-time recovery and a copy of its backups in another region."""
    at = f"{NAMESPACE}:postgres"
    issues: list[ConfigIssue] = []
    stack_regions = {r.name: r for r in config.regions}
    listed = config.postgres.regions or ()
    for i, region in enumerate(listed):
        if region not in stack_regions:
            issues.append(
                ConfigIssue(
                    f"{at}.regions[{i}]",
                    f"{region} is not a region of this stack (its cluster needs the region's network); "
                    f"use regions of meridian:regions: {', '.join(stack_regions)}",
                )
            )
    if listed and config.anchor_region not in listed:
        what = (
            f"the write home {config.anchor_region} holds the writer"
            if config.anchor_region == config.write_home
            else f"the anchor region {config.anchor_region} creates the global database"
        )
        issues.append(ConfigIssue(f"{at}.regions", f"{what}; add it"))
    members = {
        r: config.sizes[stack_regions[r].role].postgres
        for r in config.postgres_regions()
        if r in stack_regions and stack_regions[r].role in config.sizes
    }
    issues.extend(
        _topology_issues(
            config,
            global_database_problems(config.anchor_region, members),
            regions_key=f"{at}.regions",
            sizes_key="postgres",
            renames={"readers": "readerInstances"},
        )
    )
    if prod and config.postgres.backup_retention_days < PROD_MIN_BACKUP_RETENTION_DAYS:
        issues.append(
            ConfigIssue(
                f"{at}.backupRetentionDays",
                f"prod keeps at least {PROD_MIN_BACKUP_RETENTION_DAYS} days of point-in-time recovery, "
                f"got {config.postgres.backup_retention_days}; set {PROD_MIN_BACKUP_RETENTION_DAYS} to 35",
            )
        )
    copy_region = config.postgres.backup.copy_region
    if copy_region is None and prod:
        issues.append(
            ConfigIssue(
                f"{at}.backup.copyRegion",
                "prod copies database backups to a second region; name one of the stack's other regions",
            )
        )
    elif copy_region is not None and (
        copy_region not in stack_regions or copy_region == config.anchor_region
    ):
        others = [r for r in stack_regions if r != config.anchor_region]
        issues.append(
            ConfigIssue(
                f"{at}.backup.copyRegion",
                f"{copy_region} cannot hold the copies: it must be another region of this stack "
                f"(its KMS key encrypts them), not the anchor region, whose backups they copy; use "
                f"one of: {', '.join(others)}",
            )
        )
    return issues


def _database_write_issues(config: StackConfig, prod: bool) -> list[ConfigIssue]:
    """A primary region serves users every day, so its API must write the database: it needs a
    member there (the others forward their writes to the writer). The managed RPO bounds data
    loss only where it cannot stop the writer: with one secondary, losing it would block every
    commit, so two members may not set it; prod with more sets it."""
    at = f"{NAMESPACE}:postgres"
    issues = []
    members = config.postgres_regions()
    for region in config.regions:
        if region.role is not RegionRole.PRIMARY or region.name == config.write_home:
            continue  # secondaries that cannot write are left out of the steering; writeHome rule
        for key, reason in config.write_problems(region.name):
            if key == f"{at}.regions":
                fix = f"add {region.name} to {at}.regions"
                issues.append(
                    ConfigIssue(
                        key,
                        f"{region.name} is a primary region, whose users write every day, but "
                        f"{reason}; {fix}",
                    )
                )
    rpo = config.postgres.managed_rpo_seconds
    if rpo is not None and len(members) < 3:
        issues.append(
            ConfigIssue(
                f"{at}.managedRpoSeconds",
                f"with {len(members) - 1} secondary, losing it would stop every commit on the writer "
                "(Aurora holds commits while every secondary lags past the RPO); remove the key, or "
                "add a third member",
            )
        )
    if rpo is None and prod and len(members) >= 3:
        issues.append(
            ConfigIssue(
                f"{at}.managedRpoSeconds",
                "prod bounds what a lost region may take with it; set managedRpoSeconds (20 or more: "
                "commits wait only when every secondary lags past it)",
            )
        )
    return issues


def _redis_issues(config: StackConfig, stack: str) -> list[ConfigIssue]:
    """Every store has sizes in every kind of region, fits ElastiCache's names, and its global
    datastore (if any) is one AWS accepts: secondaries in the stack, at most two, matching sizes."""
    at = f"{NAMESPACE}:redis.stores"
    issues: list[ConfigIssue] = []
    stack_regions = {r.name: r for r in config.regions}
    for role, sizes in config.sizes.items():
        for name in sorted(set(config.redis.stores) - set(sizes.redis)):
            issues.append(
                ConfigIssue(
                    f"{NAMESPACE}:sizes.{role.value}.redis",
                    f"no sizes for store {name!r}; add {name}: {{nodeType, shards, replicasPerShard}}",
                )
            )
        for name in sorted(set(sizes.redis) - set(config.redis.stores)):
            issues.append(
                ConfigIssue(
                    f"{NAMESPACE}:sizes.{role.value}.redis.{name}",
                    f"{name!r} is not a store of meridian:redis.stores "
                    f"({', '.join(config.redis.stores)}); remove it or add the store",
                )
            )
    for name, store in config.redis.stores.items():
        longest = max((redis_group_id(stack, r, name) for r in stack_regions), key=len, default="")
        if len(longest) > MAX_REPLICATION_GROUP_ID:
            issues.append(
                ConfigIssue(
                    f"{at}.{name}",
                    f"replication group id {longest!r} is {len(longest)} characters; ElastiCache allows "
                    f"{MAX_REPLICATION_GROUP_ID}: shorten the store's name",
                )
            )
        standby = [
            r.name
            for r in config.regions
            if r.role is RegionRole.SECONDARY and r.name != config.anchor_region
        ]
        for i, region in enumerate(store.global_regions):
            if region not in stack_regions or region == config.anchor_region:
                reason = (
                    "it must be another region of this stack (the primary is created in the anchor region)"
                )
            elif stack_regions[region].role is RegionRole.PRIMARY and region != config.write_home:
                # A secondary member is read-only until promoted; a primary region serves users
                # every day and must be able to write its sessions and queues (the write home's
                # member can: after a failover it holds the store's primary).
                reason = (
                    "it is a primary region, whose applications write every day, and a global "
                    "datastore's secondary is read-only until promoted"
                )
            else:
                continue
            issues.append(
                ConfigIssue(
                    f"{at}.{name}.globalRegions[{i}]",
                    f"{region} cannot hold a secondary: {reason}; use secondary regions: "
                    f"{', '.join(standby) or '(none: mark a region secondary)'}",
                )
            )
        named = (config.anchor_region, *store.global_regions)
        if not store.global_regions or any(r not in stack_regions for r in named):
            continue  # reported above, or by the anchor rule
        members = {
            r: config.sizes[stack_regions[r].role].redis[name]
            for r in named
            if stack_regions[r].role in config.sizes and name in config.sizes[stack_regions[r].role].redis
        }
        issues.extend(
            _topology_issues(
                config,
                global_datastore_problems(config.anchor_region, members),
                regions_key=f"{at}.{name}.globalRegions",
                sizes_key=f"redis.{name}",
            )
        )
    return issues


def _cdn_issues(config: StackConfig, prod: bool) -> list[ConfigIssue]:
    """The edge can steer every Cloudflare region over the stack's regions; prod keeps HSTS long."""
    at = f"{NAMESPACE}:cdn"
    issues = []
    roles = {r.name: r.role for r in config.regions}
    for i, region in enumerate(config.regions):
        if region.name not in AWS_REGION_LOCATIONS:
            issues.append(
                ConfigIssue(
                    f"{NAMESPACE}:regions[{i}].name",
                    f"{region.name} has no location for geo steering; add its metro area to "
                    "components/edge/geo.py AWS_REGION_LOCATIONS",
                )
            )
    for problem in cdn_problems(config.cdn, roles, config.write_home, config.read_only_regions()):
        if problem.setting == "fallback":
            continue  # the write home: reported by the writeHome rule
        path = f"{NAMESPACE}:regions" if problem.setting == "regions" else f"{at}.{problem.setting}"
        issues.append(ConfigIssue(path, problem.problem))
    warn_days = config.observability.thresholds.certificate_days_to_expiry
    if warn_days >= config.cdn.origin_certificate_days:
        issues.append(
            ConfigIssue(
                f"{NAMESPACE}:observability.thresholds.certificateDaysToExpiry",
                f"{warn_days} is not below cdn.originCertificateDays ({config.cdn.origin_certificate_days}): "
                "the origin certificate's expiry alarm would fire from the day it is issued; lower it "
                "(remove the key for 45) or request a longer validity",
            )
        )
    if warn_days >= ORIGIN_PULL_RENEWAL_DAYS:
        issues.append(
            ConfigIssue(
                f"{NAMESPACE}:observability.thresholds.certificateDaysToExpiry",
                f"{warn_days} is not below the origin-pull certificate's renewal window "
                f"({ORIGIN_PULL_RENEWAL_DAYS} days): its expiry alarm would fire each year before "
                "a `pulumi up` could renew it; lower it (remove the key for 45)",
            )
        )
    if prod and config.cdn.hsts_max_age_seconds < PROD_MIN_HSTS_MAX_AGE_SECONDS:
        issues.append(
            ConfigIssue(
                f"{at}.hstsMaxAgeSeconds",
                f"prod sends HSTS for at least {PROD_MIN_HSTS_MAX_AGE_SECONDS} s (six months), got "
                f"{config.cdn.hsts_max_age_seconds}; remove the key for a year",
            )
        )
    return issues


#: The interface endpoints the API's pods leave the VPC by (their NetworkPolicies allow nothing
#: else beyond it), and what each carries.
_APP_ENDPOINTS = {
    FIREHOSE_ENDPOINT: "every region's API puts its events into its region's Firehose stream",
    SECRETS_ENDPOINT: "every region's API reads its Redis stores' credentials from Secrets Manager",
}


def _endpoint_issues(config: StackConfig) -> list[ConfigIssue]:
    return [
        ConfigIssue(
            f"{NAMESPACE}:network.interfaceEndpoints",
            f"does not list {service}: {carries} through that endpoint, and its pods have no other "
            f"way out; add {service}",
        )
        for service, carries in _APP_ENDPOINTS.items()
        if service not in config.network.interface_endpoints
    ]


def _deploy_issues(config: StackConfig, *, today: date) -> list[ConfigIssue]:
    """The deploy path: a public API endpoint is a bootstrap window that closes by itself (the
    stack refuses to run once `publicUntil` has passed), and the runner's GitHub connection is in
    the runner's region (CodeBuild uses a connection of its own region)."""
    issues: list[ConfigIssue] = []
    endpoint = config.eks.endpoint
    at = f"{NAMESPACE}:eks.endpoint.publicUntil"
    if endpoint.public and endpoint.public_until is None:
        issues.append(
            ConfigIssue(
                at,
                "a public API endpoint is a bootstrap window: set publicUntil to its last day (at most "
                f"{MAX_PUBLIC_ENDPOINT_DAYS} days ahead), or set public: false (the deploy runner reaches "
                "the private endpoint)",
            )
        )
    elif endpoint.public_until is not None and endpoint.public_until < today:
        issues.append(
            ConfigIssue(
                at,
                f"the public endpoint's window closed on {endpoint.public_until}; set public: false and "
                "remove publicCidrs and publicUntil (the deploy runner reaches the private endpoint)",
            )
        )
    elif endpoint.public_until is not None and endpoint.public_until > today + timedelta(
        MAX_PUBLIC_ENDPOINT_DAYS
    ):
        issues.append(
            ConfigIssue(
                at,
                f"{endpoint.public_until} is more than {MAX_PUBLIC_ENDPOINT_DAYS} days ahead; a bootstrap "
                f"window is short: set it to {today + timedelta(MAX_PUBLIC_ENDPOINT_DAYS)} at the latest",
            )
        )
    connection_region = config.deploy.runner.connection_arn.split(":")[3]
    if connection_region != config.anchor_region:
        issues.append(
            ConfigIssue(
                f"{NAMESPACE}:deploy.runner.connectionArn",
                f"the connection is in {connection_region} but the runner runs in the anchor region, "
                f"{config.anchor_region}; create the GitHub connection there",
            )
        )
    return issues


def _workload_issues(config: StackConfig) -> list[ConfigIssue]:
    """Every role a Redis store serves has its commands per request written down: a role left out
    would count as free and hide its store from `meridian capacity`."""
    if config.workload is None:
        return []
    served = {role for store in config.redis.stores.values() for role in store.roles}
    missing = sorted(r.value for r in served - set(config.workload.redis.ops_per_request))
    if not missing:
        return []
    return [
        ConfigIssue(
            f"{NAMESPACE}:workload.redis.opsPerRequest",
            f"no figure for {', '.join(missing)}, which a store serves; add the commands a request "
            "sends for it (0 if none)",
        )
    ]


def secret_key_issues(config: dict[str, Any], is_secret: Callable[[str], bool]) -> list[ConfigIssue]:
    """A credential written in plain text in the stack file (it would sit in git) is an issue."""
    return [
        ConfigIssue(
            key,
            f"is in plain text; store it encrypted: pulumi config set --secret {key} (or leave it "
            "out and set CLOUDFLARE_API_TOKEN in the environment)",
        )
        for key in SECRET_KEYS
        if key in config and not is_secret(key)
    ]


def is_encrypted(value: Any) -> bool:
    """A stack file's encrypted value, as `pulumi config set --secret` writes it: `{secure: …}`."""
    return isinstance(value, dict) and set(value) == {"secure"}


def stack_rules(config: StackConfig, stack: str) -> list[ConfigIssue]:
    """Checks that involve more than one key of stack `stack`; each issue names the key to change."""
    issues: list[ConfigIssue] = []
    prod = config.environment is Environment.PROD
    seen: dict[str, int] = {}
    networks: list[tuple[int, ipaddress.IPv4Network]] = []
    every_network = [ipaddress.IPv4Network(r.cidr) for r in config.regions]
    for i, region in enumerate(config.regions):
        at = f"{NAMESPACE}:regions[{i}]"
        if region.name in seen:
            issues.append(
                ConfigIssue(
                    f"{at}.name",
                    f"{region.name} is listed twice (also regions[{seen[region.name]}]); "
                    "list each region once",
                )
            )
        seen.setdefault(region.name, i)
        network = ipaddress.IPv4Network(region.cidr)
        for j, other in networks:
            if network.overlaps(other):
                free = _free_range(every_network, network.prefixlen)
                issues.append(
                    ConfigIssue(
                        f"{at}.cidr",
                        f"{network} overlaps regions[{j}].cidr ({config.regions[j].name}, {other}); "
                        f"give every region its own range{f', e.g. {free}' if free else ''}",
                    )
                )
        networks.append((i, network))
        try:
            plan_subnets(region.cidr, region.az_count)
        except SubnetPlanError as exc:
            issues.append(ConfigIssue(f"{at}.cidr", str(exc)))
        issues.extend(_az_count_issues(region, at, prod))
    primaries = [r.name for r in config.regions if r.role is RegionRole.PRIMARY]
    if not primaries:
        issues.append(
            ConfigIssue(
                f"{NAMESPACE}:regions",
                "no region has role: primary; mark at least one region (the write home) primary",
            )
        )
    if config.anchor_region not in (r.name for r in config.regions):
        issues.append(
            ConfigIssue(
                f"{NAMESPACE}:anchorRegion",
                f"{config.anchor_region} is not a region of this stack; anchorRegion names the region "
                "where the global database and datastores were created (a new stack's write home): "
                "restore that region (moving them is a migration: docs/components/postgres-cluster.md, "
                "PostgreSQL failover)",
            )
        )
    if config.write_home == config.anchor_region and config.write_home not in primaries:
        # No failover in effect: the stack as designed writes in a primary region.
        issues.append(
            ConfigIssue(
                f"{NAMESPACE}:writeHome",
                f"{config.write_home} is not a primary region of this stack; use one of: "
                f"{', '.join(primaries) or '(none: mark a region primary first)'}",
            )
        )
    issues.extend(_write_home_issues(config))
    roles_used = {r.role for r in config.regions}
    for role in sorted(roles_used - set(config.sizes), key=lambda r: r.value):
        issues.append(
            ConfigIssue(
                f"{NAMESPACE}:sizes",
                f"no sizes for {role.value} regions; add sizes.{role.value} (eks, postgres, redis)",
            )
        )
    if prod and not config.protect_stateful_resources:
        issues.append(
            ConfigIssue(
                f"{NAMESPACE}:protectStatefulResources",
                "prod keeps keys, logs and data stores protected from deletion; remove the key "
                "or set it to true",
            )
        )
    if prod and not config.observability.alarm_subscriptions:
        issues.append(
            ConfigIssue(
                f"{NAMESPACE}:observability.alarmSubscriptions",
                "prod alarms must reach someone; add at least one, e.g. "
                "{protocol: email, endpoint: oncall@example.com}",
            )
        )
    issues.extend(_audit_issues(config, prod))
    if prod and config.eks.log_retention_days < PROD_MIN_AUDIT_LOG_DAYS:
        issues.append(
            ConfigIssue(
                f"{NAMESPACE}:eks.logRetentionDays",
                f"prod keeps the control plane's audit logs at least {PROD_MIN_AUDIT_LOG_DAYS} days, got "
                f"{config.eks.log_retention_days}; remove the key for a year",
            )
        )
    if prod and config.eks.endpoint.open_to_the_world:
        issues.append(
            ConfigIssue(
                f"{NAMESPACE}:eks.endpoint.publicCidrs",
                "prod may not open the Kubernetes API to the whole internet; list the networks that "
                "deploy (VPN, CI runners) or set public: false",
            )
        )
    issues.extend(_deploy_issues(config, today=datetime.now(UTC).date()))
    issues.extend(_postgres_issues(config, prod))
    issues.extend(_database_write_issues(config, prod))
    issues.extend(_redis_issues(config, stack))
    issues.extend(_cdn_issues(config, prod))
    issues.extend(_workload_issues(config))
    issues.extend(_endpoint_issues(config))
    if prod and config.network.nat_gateways is not NatGatewayMode.ONE_PER_AZ:
        issues.append(
            ConfigIssue(
                f"{NAMESPACE}:network.natGateways",
                "prod needs one NAT gateway per AZ so that egress survives an AZ outage; "
                "set natGateways: one-per-az",
            )
        )
    return issues
