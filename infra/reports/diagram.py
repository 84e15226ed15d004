"""The architecture picture of a stack, drawn from its offline plan so that it cannot drift from the code.

A hand-drawn diagram is out of date the day after someone adds a region or a Redis store. This one is
computed from what the program declares: `infra.plan.run.run_plan` runs the real stack program under
mocks, `architecture` reads the resulting resource tree into a small, pure model (regions, their
components, the Cloudflare edge in front, the replication links between regions) and `render_svg`
draws that model as a standalone SVG, byte-identical for the same plan.

    plan = run_plan(Path("."), "prod")
    write_diagram(plan, Path("docs/architecture-prod.svg"))

Facts come from the resources and their inputs (a VPC's CIDR block, a cluster's instances, a global
datastore's members); the stack's exports are read only for what no resource carries (a region's
role, a global datastore's AWS-assigned id, the stack-file order of the regions). Planning and
drawing are apart, each tested on its own (the habit of pulumi-awsx): tests assert on the model, and
on the SVG only what the drawing adds.
"""

from __future__ import annotations

import math
import re
import textwrap
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from components.edge.geo import CloudflareRegion

if TYPE_CHECKING:  # types only: `meridian diagram` checks its output path before the SDKs load
    from ..plan.mocks import RecordedResource
    from ..plan.run import Plan

__all__ = [
    "Architecture",
    "Component",
    "Edge",
    "Region",
    "ReplicationLink",
    "Steering",
    "architecture",
    "check_diagram_path",
    "diagram_path",
    "render_svg",
    "write_diagram",
]

REGION_STACK = "meridian:region:RegionStack"
NETWORK = "meridian:network:Network"
EKS = "meridian:eks:EksCluster"
MESH = "meridian:eks:ServiceMesh"
KARPENTER = "meridian:eks:Karpenter"
POSTGRES = "meridian:postgres:PostgresCluster"
REDIS = "meridian:redis:RedisCluster"
REGION_KEY = "meridian:region:RegionKey"
BACKUP = "meridian:backup:CrossRegionBackup"

VPC = "aws:ec2/vpc:Vpc"
SUBNET = "aws:ec2/subnet:Subnet"
NAT_GATEWAY = "aws:ec2/natGateway:NatGateway"
EKS_CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
GLOBAL_CLUSTER = "aws:rds/globalCluster:GlobalCluster"
DB_CLUSTER = "aws:rds/cluster:Cluster"
DB_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
DB_PROXY = "aws:rds/proxy:Proxy"
REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
GLOBAL_DATASTORE = "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup"
KMS_KEY = "aws:kms/key:Key"
BACKUP_PLAN = "aws:backup/plan:Plan"
LOAD_BALANCER = "cloudflare:index/loadBalancer:LoadBalancer"
POOL = "cloudflare:index/loadBalancerPool:LoadBalancerPool"
RULESET = "cloudflare:index/ruleset:Ruleset"
ZONE_SETTING = "cloudflare:index/zoneSetting:ZoneSetting"
ZONE_DNSSEC = "cloudflare:index/zoneDnssec:ZoneDnssec"


# --- the model -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Steering:
    """Where the edge sends the users of one Cloudflare region: AWS regions in failover order."""

    code: str  # Cloudflare's region code: WNAM, WEU, ...
    place: str  # readable name: "Western North America"
    order: tuple[str, ...]

    @property
    def first(self) -> str | None:
        return self.order[0] if self.order else None

    @property
    def second(self) -> str | None:
        return self.order[1] if len(self.order) > 1 else None


@dataclass(frozen=True)
class Edge:
    """Cloudflare in front of the regions: the proxied hostname, protections, geo steering."""

    hostname: str
    fallback_region: str | None
    pools: tuple[str, ...]  # the AWS regions with a load-balancer pool, in stack order
    steering: tuple[Steering, ...]
    facts: tuple[str, ...]  # WAF, rate limit, TLS, ... one line each


@dataclass(frozen=True)
class Component:
    """One part of a region in one line (`summary`), with optional detail lines below it."""

    kind: str  # network | eks | postgres | redis | kms | backup | edge
    summary: str
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class Region:
    name: str
    role: str  # primary | secondary (the stack's word for it)
    cidr: str | None
    az_count: int
    components: tuple[Component, ...]

    def component(self, kind: str) -> Component | None:
        return next((c for c in self.components if c.kind == kind), None)


@dataclass(frozen=True)
class ReplicationLink:
    """Data that flows from one region to others: a global database, a global datastore, backups."""

    kind: str  # postgres | redis | backup
    tag: str  # short name on the markers: "Aurora", "sessions", "backup"
    label: str  # "Aurora global database meridian-prod-postgres"
    source: str  # the region written to (writer, primary, backed-up region)
    targets: tuple[str, ...]  # the regions it replicates to, in stack order
    source_role: str  # writer | primary | source
    target_role: str  # secondary | copy

    @property
    def members(self) -> tuple[str, ...]:
        return (self.source, *self.targets)

    def role_of(self, region: str) -> str | None:
        if region == self.source:
            return self.source_role
        return self.target_role if region in self.targets else None

    def describe(self) -> str:
        targets = ", ".join(self.targets) if self.targets else "no other region"
        return f"{self.label}: {self.source} ({self.source_role}) ⇒ {targets}"


@dataclass(frozen=True)
class Architecture:
    project: str
    stack: str
    resource_count: int  # custom resources in the plan
    edge: Edge | None
    regions: tuple[Region, ...]  # in stack-file order
    links: tuple[ReplicationLink, ...] = field(default=())

    def region(self, name: str) -> Region:
        for region in self.regions:
            if region.name == name:
                return region
        raise KeyError(f"{self.stack} has no region {name}; it has {', '.join(self.region_names)}")

    @property
    def region_names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.regions)

    @property
    def write_home(self) -> str | None:
        """The region of the database writer (None without a database)."""
        return next((link.source for link in self.links if link.kind == "postgres"), None)


# --- reading the plan ----------------------------------------------------------------------------


_STORE_DESCRIPTION = re.compile(r"^Redis store (?P<store>\S+) \((?P<roles>[^)]*)\)$")
_ARN_REGION = re.compile(r"^arn:[^:]+:[^:]+:(?P<region>[a-z0-9-]+):")
_ENGINES = {"aurora-postgresql": "Aurora PostgreSQL", "aurora-mysql": "Aurora MySQL",
            "valkey": "Valkey", "redis": "Redis OSS"}  # fmt: skip


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _number(value: Any, default: int = 0) -> int:
    """A plan's numbers arrive as floats (protobuf Struct); counts are whole."""
    return int(value) if isinstance(value, int | float) else default


class _Reader:
    """Lookups over one plan that the model functions share."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.position = {r.urn: i for i, r in enumerate(plan.resources)}
        exported = plan.outputs.get("regions")
        self.exported_regions: Mapping[str, Any] = exported if isinstance(exported, Mapping) else {}

    def below(self, resource: RecordedResource, type_token: str) -> list[RecordedResource]:
        """Descendants of *resource* of one type, in registration order."""
        found = [r for r in self.plan.descendants(resource.urn) if r.type == type_token]
        return sorted(found, key=lambda r: self.position[r.urn])

    def region_of(self, resource: RecordedResource) -> str | None:
        return self.plan.regions.get(resource.urn)

    def ancestor(self, resource: RecordedResource, type_token: str) -> RecordedResource | None:
        node = self.plan.by_urn.get(resource.parent or "")
        while node is not None and node.type != type_token:
            node = self.plan.by_urn.get(node.parent or "")
        return node

    def region_stacks(self) -> list[RecordedResource]:
        """The RegionStacks in stack-file order: the order the program exported them in (built from
        the stack file), registration order for any the exports do not name."""
        stacks = self.plan.of_type(REGION_STACK)
        exported = list(self.exported_regions)

        def key(stack: RecordedResource) -> tuple[int, int]:
            rank = exported.index(stack.name) if stack.name in exported else len(exported)
            return rank, self.position[stack.urn]

        return sorted(stacks, key=key)


def architecture(plan: Plan) -> Architecture:
    """The model of the stack *plan* declares: its regions and their parts, the edge, the links."""
    reader = _Reader(plan)
    stacks = reader.region_stacks()
    names = [s.name for s in stacks]
    edge = _edge(reader, names)
    links = (*_postgres_links(reader, names), *_redis_links(reader, names), *_backup_links(reader, names))
    regions = tuple(_region(reader, stack, edge, links) for stack in stacks)
    return Architecture(
        project=plan.project,
        stack=plan.stack,
        resource_count=len(plan.custom_resources),
        edge=edge,
        regions=regions,
        links=links,
    )


def _in_order(regions: Iterable[str], order: Sequence[str]) -> tuple[str, ...]:
    unique = dict.fromkeys(regions)
    return tuple(sorted(unique, key=lambda r: (order.index(r) if r in order else len(order), r)))


def _role(reader: _Reader, name: str) -> str:
    """A region's role: no resource carries it (sizes follow from it), so the exports tell; failing
    those, the description Cloudflare's pool got ("us-east-1 (primary): ...")."""
    exported = reader.exported_regions.get(name)
    if isinstance(exported, Mapping) and exported.get("role"):
        return str(exported["role"])
    for pool in reader.plan.of_type(POOL):
        match = re.match(rf"^{re.escape(name)} \((\w+)\)", str(pool.inputs.get("description", "")))
        if match:
            return match.group(1)
    return "region"


def _region(
    reader: _Reader,
    stack: RecordedResource,
    edge: Edge | None,
    links: Sequence[ReplicationLink],
) -> Region:
    name = stack.name
    components: list[Component] = []
    cidr: str | None = None
    zones: set[str] = set()

    for network in reader.below(stack, NETWORK):
        vpcs = reader.below(network, VPC)
        cidr = cidr or next((str(v.inputs["cidrBlock"]) for v in vpcs if v.inputs.get("cidrBlock")), None)
        zones |= {str(s.inputs["availabilityZone"]) for s in reader.below(network, SUBNET)
                  if s.inputs.get("availabilityZone")}  # fmt: skip
        nats = len(reader.below(network, NAT_GATEWAY))
        parts = [f"VPC {cidr or '(no CIDR)'}", _plural(len(zones), "AZ"), _plural(nats, "NAT gateway")]
        components.append(Component("network", " · ".join(parts)))

    for eks in reader.below(stack, EKS):
        components.append(_eks(reader, eks))

    for cluster in reader.below(stack, DB_CLUSTER):
        components.append(_postgres(reader, cluster))

    stores = reader.below(stack, REDIS)
    if stores:
        components.append(_redis(reader, name, stores))

    keys = [k for k in reader.below(stack, KMS_KEY) if reader.ancestor(k, REGION_KEY) is not None]
    if keys:
        rotation = ", rotation on" if all(k.inputs.get("enableKeyRotation") for k in keys) else ""
        count = "KMS key" if len(keys) == 1 else f"{len(keys)} KMS keys"
        components.append(Component("kms", f"{count} for data and logs{rotation}"))

    components.extend(_backups(reader, stack, links))

    if edge is not None and name in edge.pools:
        firsts = [s.code for s in edge.steering if s.first == name]
        seconds = [s.code for s in edge.steering if s.second == name]
        choices = [f"{label} for {', '.join(codes)}" for label, codes in (("1st", firsts), ("2nd", seconds))
                   if codes]  # fmt: skip
        fallback = ["fallback"] if edge.fallback_region == name else []
        summary = "; ".join([*choices, *fallback]) or "later failover only"
        components.append(Component("edge", f"Cloudflare pool: {summary}"))

    return Region(
        name=name,
        role=_role(reader, name),
        cidr=cidr,
        az_count=len(zones),
        components=tuple(components),
    )


def _eks(reader: _Reader, component: RecordedResource) -> Component:
    clusters = reader.below(component, EKS_CLUSTER)
    version = next((str(c.inputs["version"]) for c in clusters if c.inputs.get("version")), "")
    groups = reader.below(component, NODE_GROUP)
    # Sorted: registration order across regions is the runtime's, and the picture must not depend on it.
    group_names = sorted(str(g.inputs.get("nodeGroupNamePrefix") or g.name).rstrip("-") for g in groups)
    parts, versions = [_plural(len(groups), "node group")], [", ".join(group_names)] if group_names else []
    for type_token, label, chart in ((MESH, "Istio", "istiod"), (KARPENTER, "Karpenter", None)):
        for addon in reader.below(component, type_token):
            releases = reader.below(addon, HELM_RELEASE)
            chosen = next((r for r in releases if r.inputs.get("chart") == chart), None) or next(
                iter(releases), None
            )
            parts.append(label)
            if chosen is not None and chosen.inputs.get("version"):
                versions.append(f"{label} {chosen.inputs['version']}")
    summary = f"{' '.join(p for p in ('EKS', version) if p)}: {', '.join(parts)}"
    return Component("eks", summary, (" · ".join(versions),) if versions else ())


def _writer_clusters(reader: _Reader) -> dict[str, RecordedResource]:
    """Global cluster URN → the cluster that created it (its sibling in the writer's component)."""
    writers = {}
    for global_cluster in reader.plan.of_type(GLOBAL_CLUSTER):
        siblings = reader.plan.children.get(global_cluster.parent, [])
        writer = next((c for c in siblings if c.type == DB_CLUSTER), None)
        if writer is not None:
            writers[global_cluster.urn] = writer
    return writers


def _postgres(reader: _Reader, cluster: RecordedResource) -> Component:
    engine = str(cluster.inputs.get("engine", ""))
    version = cluster.inputs.get("engineVersion")
    name = " ".join(str(p) for p in (_ENGINES.get(engine, engine or "RDS"), version) if p)
    instances = reader.below(cluster, DB_INSTANCE)
    standalone = not cluster.inputs.get("globalClusterIdentifier")
    if standalone or cluster in _writer_clusters(reader).values():
        readers = max(len(instances) - 1, 0)
        shape = f"writer + {_plural(readers, 'reader')}" if instances else "no instances"
    else:
        forwards = ", forwards writes" if cluster.inputs.get("enableGlobalWriteForwarding") else ""
        shape = f"secondary, {_plural(len(instances), 'reader')}{forwards}"
    classes = sorted({str(i.inputs["instanceClass"]) for i in instances if i.inputs.get("instanceClass")})
    details = [", ".join(classes)] if classes else []
    component = reader.ancestor(cluster, POSTGRES)
    if component is not None and reader.below(component, DB_PROXY):
        details.append("RDS Proxy")
    return Component("postgres", f"{name}: {shape}", (" · ".join(details),) if details else ())


@dataclass(frozen=True)
class _Store:
    name: str
    roles: str
    membership: str  # regional | global primary | global secondary
    engine: str
    shards: int
    replicas: int
    node_type: str
    cluster_mode: bool


def _store_name(reader: _Reader, region: str, group: RecordedResource) -> tuple[str, str]:
    """The store a replication group holds, and its roles: from the group's description; failing
    that, from the store the exports list for the group's id; failing that, the group's name."""
    match = _STORE_DESCRIPTION.match(str(group.inputs.get("description", "")))
    if match:
        return match.group("store"), match.group("roles")
    exported = reader.exported_regions.get(region, {})
    for store, facts in (exported.get("redis") or {}).items() if isinstance(exported, Mapping) else ():
        if isinstance(facts, Mapping) and facts.get("replicationGroupId") == group.inputs.get(
            "replicationGroupId"
        ):
            return str(store), ", ".join(facts.get("roles") or ())
    return group.name, ""


def _datastore_of(reader: _Reader, group: RecordedResource) -> RecordedResource | None:
    """The global datastore a replication group belongs to, as primary or as secondary."""
    for datastore in reader.plan.of_type(GLOBAL_DATASTORE):
        if group.urn in datastore.property_dependencies.get("primaryReplicationGroupId", []) or (
            datastore.inputs.get("primaryReplicationGroupId") == group.inputs.get("replicationGroupId")
        ):
            return datastore
        if datastore.urn in group.property_dependencies.get("globalReplicationGroupId", []):
            return datastore
    return None


def _stores(reader: _Reader, region: str, components: Sequence[RecordedResource]) -> list[_Store]:
    stores = []
    for component in components:
        for group in reader.below(component, REPLICATION_GROUP):
            name, roles = _store_name(reader, region, group)
            datastore = _datastore_of(reader, group)
            if datastore is None:
                membership = "regional"
            elif group.inputs.get("globalReplicationGroupId"):
                membership = "global secondary"
            else:
                membership = "global primary"
            # A secondary takes engine, node type and shards from its datastore (AWS rejects them),
            # and its cluster mode from the datastore's primary group.
            source = {**(datastore.inputs if datastore else {}), **group.inputs}
            cluster_mode = group.inputs.get("clusterMode")
            if cluster_mode is None and datastore is not None:
                primaries = datastore.property_dependencies.get("primaryReplicationGroupId", [])
                primary = next((reader.plan.by_urn[u] for u in primaries if u in reader.plan.by_urn), None)
                cluster_mode = primary.inputs.get("clusterMode") if primary else None
            engine = str(source.get("engine", ""))
            engine_name = " ".join(
                str(p) for p in (_ENGINES.get(engine, engine), source.get("engineVersion")) if p
            )
            stores.append(
                _Store(
                    name=name,
                    roles=roles,
                    membership=membership,
                    engine=engine_name,
                    shards=_number(source.get("numNodeGroups"), 1),
                    replicas=_number(source.get("replicasPerNodeGroup")),
                    node_type=str(source.get("nodeType") or source.get("cacheNodeType") or ""),
                    cluster_mode=cluster_mode == "enabled",
                )
            )
    order = list((reader.exported_regions.get(region) or {}).get("redis") or {})
    return sorted(stores, key=lambda s: order.index(s.name) if s.name in order else len(order))


def _redis(reader: _Reader, region: str, components: Sequence[RecordedResource]) -> Component:
    stores = _stores(reader, region, components)
    engines = sorted({s.engine for s in stores if s.engine})
    engine = f"ElastiCache {engines[0]}" if len(engines) == 1 else "ElastiCache"
    mode = ", cluster mode" if stores and all(s.cluster_mode for s in stores) else ""
    summary = f"{engine}: {_plural(len(stores), 'store')}{mode}"
    details = []
    for store in stores:
        size = f"{_plural(store.shards, 'shard')} × {_plural(store.replicas, 'replica')}"
        notes = [store.node_type, store.engine if len(engines) > 1 else "",
                 "" if store.membership == "regional" else store.membership]  # fmt: skip
        roles = f" ({store.roles})" if store.roles and store.roles != store.name else ""
        details.append(", ".join([f"{store.name}{roles}: {size}", *(n for n in notes if n)]))
    return Component("redis", summary, tuple(details))


def _now(exported: object, members: Sequence[str], declared: str | None) -> str | None:
    """The member region the stack's outputs name as writing now, else the declared one."""
    return exported if isinstance(exported, str) and exported in members else declared


def _postgres_links(reader: _Reader, order: Sequence[str]) -> list[ReplicationLink]:
    links = []
    writers = _writer_clusters(reader)
    for global_cluster in reader.plan.of_type(GLOBAL_CLUSTER):
        ident = str(global_cluster.inputs.get("globalClusterIdentifier") or global_cluster.name)
        writer = writers.get(global_cluster.urn)
        members = [
            c
            for c in reader.plan.of_type(DB_CLUSTER)
            if global_cluster.urn in c.property_dependencies.get("globalClusterIdentifier", [])
            or c.inputs.get("globalClusterIdentifier") == ident
        ]
        source = reader.region_of(writer) if writer else reader.region_of(global_cluster)
        regions = [r for r in (reader.region_of(c) for c in members) if r]
        # The writer is where the stack file says writes go now (a failover moves it away from the
        # member that created the database).
        source = _now(reader.plan.outputs.get("writeHome"), regions, source)
        if source is None:
            continue
        engine = str(global_cluster.inputs.get("engine", ""))
        targets = [r for r in regions if r != source]
        links.append(
            ReplicationLink(
                kind="postgres",
                tag=_ENGINES.get(engine, "RDS").split()[0],
                label=f"{_ENGINES.get(engine, engine)} global database {ident}".replace("  ", " "),
                source=source,
                targets=_in_order(targets, order),
                source_role="writer",
                target_role="secondary",
            )
        )
    return sorted(links, key=lambda link: link.label)


def _redis_links(reader: _Reader, order: Sequence[str]) -> list[ReplicationLink]:
    links = []
    exported_ids = reader.plan.outputs.get("redisGlobalDatastoreIds")
    datastore_ids: Mapping[str, Any] = exported_ids if isinstance(exported_ids, Mapping) else {}
    groups = reader.plan.of_type(REPLICATION_GROUP)
    for datastore in reader.plan.of_type(GLOBAL_DATASTORE):
        members = [g for g in groups if _datastore_of(reader, g) is datastore]
        primary = next((g for g in members if not g.inputs.get("globalReplicationGroupId")), None)
        source = reader.region_of(primary) if primary else reader.region_of(datastore)
        if source is None:
            continue
        store, _ = _store_name(reader, source, primary) if primary else (datastore.name, "")
        # AWS prefixes the suffix given with a region-specific part; the exports have the whole id.
        ident = datastore_ids.get(store) or datastore.inputs.get("globalReplicationGroupIdSuffix") or ""
        regions = [r for r in (reader.region_of(g) for g in members) if r]
        exported_primaries = reader.plan.outputs.get("redisPrimaryRegions")
        now = exported_primaries.get(store) if isinstance(exported_primaries, Mapping) else None
        source = _now(now, regions, source) or source
        targets = [r for r in regions if r != source]
        links.append(
            ReplicationLink(
                kind="redis",
                tag=store,
                label=f"Redis global datastore {store}" + (f" ({ident})" if ident else ""),
                source=source,
                targets=_in_order(targets, order),
                source_role="primary",
                target_role="secondary",
            )
        )
    stores = list(datastore_ids)  # the stack file's order of the stores

    def rank(link: ReplicationLink) -> tuple[int, str]:
        return (stores.index(link.tag) if link.tag in stores else len(stores)), link.tag

    return sorted(links, key=rank)


def _copy_regions(backup_plan: RecordedResource) -> list[str]:
    regions = []
    for rule in backup_plan.inputs.get("rules") or ():
        for action in rule.get("copyActions") or ():
            match = _ARN_REGION.match(str(action.get("destinationVaultArn", "")))
            if match:
                regions.append(match.group("region"))
    return regions


def _backup_links(reader: _Reader, order: Sequence[str]) -> list[ReplicationLink]:
    links = []
    for backup in reader.plan.of_type(BACKUP):
        source = reader.region_of(backup)
        targets = [r for p in reader.below(backup, BACKUP_PLAN) for r in _copy_regions(p) if r != source]
        if source and targets:
            links.append(
                ReplicationLink(
                    kind="backup",
                    tag="backup",
                    label=f"AWS Backup copies of {backup.name}",
                    source=source,
                    targets=_in_order(targets, order),
                    source_role="source",
                    target_role="copy",
                )
            )
    return sorted(links, key=lambda link: link.label)


def _backups(reader: _Reader, stack: RecordedResource, links: Sequence[ReplicationLink]) -> list[Component]:
    found = []
    for backup in reader.below(stack, BACKUP):
        for backup_plan in reader.below(backup, BACKUP_PLAN):
            for rule in backup_plan.inputs.get("rules") or ():
                parts = [f"AWS Backup: {_number((rule.get('lifecycle') or {}).get('deleteAfter'))} d"]
                for action in rule.get("copyActions") or ():
                    match = _ARN_REGION.match(str(action.get("destinationVaultArn", "")))
                    kept = _number((action.get("lifecycle") or {}).get("deleteAfter"))
                    if match:
                        parts.append(f"copied to {match.group('region')} for {kept} d")
                found.append(Component("backup", ", ".join(parts)))
    for link in links:
        if link.kind == "backup" and stack.name in link.targets:
            found.append(Component("backup", f"AWS Backup copy vault (copies from {link.source})"))
    return found


def _edge(reader: _Reader, order: Sequence[str]) -> Edge | None:
    plan = reader.plan
    balancers = plan.of_type(LOAD_BALANCER)
    if not balancers:
        return None
    balancer = balancers[0]
    # A pool per region; CdnEdge names its origin after the region (the id is unknown in a preview).
    pools = [p for p in plan.of_type(POOL) if (p.inputs.get("origins") or [{}])[0].get("name")]
    pool_regions = [str(p.inputs["origins"][0]["name"]) for p in pools]
    region_of_pool = {p.id: region for p, region in zip(pools, pool_regions, strict=True) if p.id}
    exported = plan.outputs.get("cdn")
    cdn: Mapping[str, Any] = exported if isinstance(exported, Mapping) else {}
    region_pools = balancer.inputs.get("regionPools") or {}
    orders: dict[str, tuple[str, ...]] = {}
    if region_pools and all(p in region_of_pool for ids in region_pools.values() for p in ids):
        orders = {code: tuple(region_of_pool[p] for p in ids) for code, ids in region_pools.items()}
    else:  # pool ids unknown (a preview): the steering the edge exported
        orders = {str(code): tuple(regions) for code, regions in (cdn.get("steering") or {}).items()}
    known = [c.value for c in CloudflareRegion]
    codes = sorted(orders, key=lambda c: (known.index(c) if c in known else len(known), c))
    steering = tuple(Steering(code, _place(code), orders[code]) for code in codes)
    fallback = region_of_pool.get(str(balancer.inputs.get("fallbackPool"))) or cdn.get("fallbackRegion")
    return Edge(
        hostname=str(balancer.inputs.get("name") or cdn.get("hostname") or ""),
        fallback_region=str(fallback) if fallback else None,
        pools=_in_order(pool_regions, order),
        steering=steering,
        facts=tuple(_edge_facts(plan, balancer, len(pools))),
    )


def _place(code: str) -> str:
    try:
        return CloudflareRegion(code).place.name.split(" (")[0]
    except ValueError:
        return code


def _edge_facts(plan: Plan, balancer: RecordedResource, pools: int) -> list[str]:
    facts = []
    phases: dict[str, list[str]] = {}
    for ruleset in plan.of_type(RULESET):
        rules = ruleset.inputs.get("rules") or ()
        phases.setdefault(str(ruleset.inputs.get("phase")), []).extend(
            str(r["description"]) for r in rules if r.get("description")
        )
    if phases.get("http_request_firewall_managed"):
        facts.append(f"WAF: {'; '.join(phases['http_request_firewall_managed'])}")
    if phases.get("http_ratelimit"):
        facts.append(f"Rate limit: {'; '.join(phases['http_ratelimit'])}")
    settings = {str(s.inputs.get("settingId")): s.inputs.get("value") for s in plan.of_type(ZONE_SETTING)}
    tls = []
    if settings.get("ssl"):
        tls.append(f"{settings['ssl']} to origins")
    if settings.get("min_tls_version"):
        tls.append(f"minimum {settings['min_tls_version']}")
    header = settings.get("security_header")
    if isinstance(header, Mapping) and (header.get("strict_transport_security") or {}).get("enabled"):
        tls.append("HSTS")
    tls += [label for key, label in (("always_use_https", "HTTPS only"), ("http3", "HTTP/3"))
            if settings.get(key) == "on"]  # fmt: skip
    if tls:
        facts.append(f"TLS: {', '.join(tls)}")
    if plan.of_type(ZONE_DNSSEC):
        facts.append("DNSSEC-signed zone")
    policy = balancer.inputs.get("steeringPolicy") or "default"
    failover = (balancer.inputs.get("adaptiveRouting") or {}).get("failoverAcrossPools")
    facts.append(
        f"Load balancer: {policy} steering over {_plural(pools, 'health-checked pool')}"
        + (", failover across pools" if failover else "")
    )
    return facts


# --- drawing -------------------------------------------------------------------------------------

SVG_NS = "http://www.w3.org/2000/svg"

FONT = 12  # px, the smallest text in the picture
CHAR = 0.61  # monospace advance per px of font size (DejaVu Sans Mono/Menlo 0.60, Consolas 0.55)
LINE = 17  # px between lines of 12 px text
COMPONENT_GAP = 4  # px more between two components of a region
MARGIN = 28
BOX_WIDTH = 388
GAP = 16
PAD = 12
MAX_COLUMNS = 4
MIN_WIDTH = 1160
EDGE_PANEL = 580  # width of the edge's facts column

INK = "#1f2328"
MUTED = "#59636e"
LINE_COLOUR = "#8c959f"
EDGE_COLOUR = "#f38020"  # Cloudflare orange
ROLE_FILL = {"primary": "#ddf4ff", "secondary": "#fff8c5"}
LINK_COLOURS = {"postgres": "#0969da", "backup": "#57606a"}
REDIS_COLOURS = ("#cf222e", "#8250df", "#bc4c00", "#1a7f37", "#bf3989", "#0550ae")

HEADING_SIZES = {"title": 20, "heading": 15, "sub": 13}  # px, by CSS class

STYLE = f"""
text {{ font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", "Liberation Mono",
  monospace; font-size: {FONT}px; fill: {INK}; }}
.title {{ font-size: {HEADING_SIZES["title"]}px; font-weight: 700; }}
.heading {{ font-size: {HEADING_SIZES["heading"]}px; font-weight: 700; }}
.sub {{ font-size: {HEADING_SIZES["sub"]}px; font-weight: 700; }}
.muted {{ fill: {MUTED}; }}
.bold {{ font-weight: 700; }}
.on-colour {{ fill: #ffffff; font-weight: 700; }}
"""


def _chars(width: float, size: int = FONT) -> int:
    """How many monospace characters of *size* fit in *width* px."""
    return max(int(width // (size * CHAR)), 8)


def _text_width(text: str, size: int = FONT) -> int:
    return math.ceil(len(text) * size * CHAR)


#: Spaces not to break at: between a number and its unit ("3 shards", "35 d"), before a last number.
_GLUE = re.compile(r"(?<=\d) (?=[A-Za-z])| (?=[\d.]+(?:$|[;,]))")


def _wrap(text: str, width: float, indent: str = "", size: int = FONT) -> list[str]:
    """*text* in lines that fit *width*; continuation lines indented two more characters."""
    chars = _chars(width, size)
    return textwrap.wrap(
        _GLUE.sub("\u00a0", text),
        width=chars,
        initial_indent=indent,
        subsequent_indent=indent + "  ",
        break_on_hyphens=False,
    ) or [indent]


class _Svg:
    """An SVG document under construction (integers only, so output is stable)."""

    def __init__(self) -> None:
        self.root = ET.Element("svg", {"xmlns": SVG_NS, "version": "1.1"})
        ET.SubElement(self.root, "title")
        ET.SubElement(self.root, "style").text = STYLE
        self.background = ET.SubElement(self.root, "rect", {"x": "0", "y": "0", "fill": "#ffffff"})

    def add(self, tag: str, attributes: Mapping[str, object], text: str | None = None) -> ET.Element:
        element = ET.SubElement(self.root, tag, {k: str(v) for k, v in attributes.items()})
        if text is not None:
            element.text = text
        return element

    def text(self, x: int, y: int, content: str, css: str = "", anchor: str = "", fill: str = "") -> None:
        attributes: dict[str, object] = {"x": x, "y": y}
        if css:
            attributes["class"] = css
        if anchor:
            attributes["text-anchor"] = anchor
        if fill:  # a style, not a fill attribute: the stylesheet's `text` rule would win over that
            attributes["style"] = f"fill:{fill}"
        self.add("text", attributes, content)

    def rect(self, x: int, y: int, w: int, h: int, fill: str, stroke: str = "", rx: int = 0) -> None:
        attributes: dict[str, object] = {"x": x, "y": y, "width": w, "height": h, "fill": fill}
        if rx:
            attributes["rx"] = rx
        if stroke:
            attributes |= {"stroke": stroke, "stroke-width": 1}
        self.add("rect", attributes)

    def line(self, x1: int, y1: int, x2: int, y2: int, stroke: str, width: int = 1, dash: str = "") -> None:
        attributes: dict[str, object] = {"x1": x1, "y1": y1, "x2": x2, "y2": y2, "stroke": stroke,
                                         "stroke-width": width}  # fmt: skip
        if dash:
            attributes["stroke-dasharray"] = dash
        self.add("line", attributes)

    def pill(self, x: int, y: int, label: str, colour: str, filled: bool) -> int:
        """A marker with *label* at (x, y) top-left; returns its width."""
        width = _text_width(label) + 14
        self.rect(x, y, width, 20, colour if filled else "#ffffff", colour, rx=10)
        self.text(x + 7, y + 14, label, "on-colour" if filled else "bold", fill="" if filled else colour)
        return width

    def finish(self, width: int, height: int, title: str) -> str:
        self.root.set("width", str(width))
        self.root.set("height", str(height))
        self.root.set("viewBox", f"0 0 {width} {height}")
        self.background.set("width", str(width))
        self.background.set("height", str(height))
        title_element = self.root.find("title")
        assert title_element is not None
        title_element.text = title
        ET.indent(self.root, space=" ")
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(self.root, encoding="unicode") + "\n"


def _link_colours(links: Sequence[ReplicationLink]) -> list[str]:
    colours, redis = [], 0
    for link in links:
        if link.kind == "redis":
            colours.append(REDIS_COLOURS[redis % len(REDIS_COLOURS)])
            redis += 1
        else:
            colours.append(LINK_COLOURS.get(link.kind, LINE_COLOUR))
    return colours


@dataclass(frozen=True)
class _BoxText:
    lines: tuple[tuple[str, str, int], ...]  # (text, css class, px above it)
    markers: tuple[tuple[str, str, bool], ...]  # (label, colour, filled)


def _box_text(region: Region, links: Sequence[ReplicationLink], colours: Sequence[str]) -> _BoxText:
    width = BOX_WIDTH - 2 * PAD
    lines: list[tuple[str, str, int]] = []
    for component in region.components:
        for i, line in enumerate(_wrap(component.summary, width)):
            lines.append((line, "", LINE + (COMPONENT_GAP if lines and i == 0 else 0)))
        for detail in component.details:
            lines += [(line, "muted", LINE) for line in _wrap(detail, width)]
    markers = []
    for link, colour in zip(links, colours, strict=True):
        role = link.role_of(region.name)
        if role is not None:
            markers.append((f"{link.tag} {role}", colour, role == link.source_role))
    return _BoxText(tuple(lines), tuple(markers))


def _marker_rows(markers: Sequence[tuple[str, str, bool]], width: int) -> list[list[tuple[str, str, bool]]]:
    rows: list[list[tuple[str, str, bool]]] = []
    used = width + 1
    for marker in markers:
        needed = _text_width(marker[0]) + 14 + 6
        if used + needed > width:
            rows.append([])
            used = 0
        rows[-1].append(marker)
        used += needed
    return rows


def _box_height(text: _BoxText) -> int:
    markers = len(_marker_rows(text.markers, BOX_WIDTH - 2 * PAD))
    return 30 + sum(step for _, _, step in text.lines) + 4 + (markers * 26 + 6 if markers else 0) + 10


def _draw_box(svg: _Svg, x: int, y: int, height: int, region: Region, text: _BoxText) -> None:
    fill = ROLE_FILL.get(region.role, "#f6f8fa")
    svg.rect(x, y, BOX_WIDTH, height, "#ffffff", LINE_COLOUR, rx=8)
    svg.add(
        "path",
        {
            "d": f"M{x},{y + 30} V{y + 8} Q{x},{y} {x + 8},{y} H{x + BOX_WIDTH - 8} "
            f"Q{x + BOX_WIDTH},{y} {x + BOX_WIDTH},{y + 8} V{y + 30} Z",
            "fill": fill,
            "stroke": LINE_COLOUR,
            "stroke-width": 1,
        },
    )
    svg.text(x + PAD, y + 21, region.name, "heading")
    zones = _plural(region.az_count, "AZ") if region.az_count else ""
    header = " · ".join(p for p in (region.role, zones) if p)
    svg.text(x + BOX_WIDTH - PAD, y + 20, header, "muted", anchor="end")
    line_y = y + 30
    for content, css, step in text.lines:
        line_y += step
        svg.text(x + PAD, line_y, content, css)
    marker_y = line_y + 12
    for row in _marker_rows(text.markers, BOX_WIDTH - 2 * PAD):
        marker_x = x + PAD
        for label, colour, filled in row:
            marker_x += svg.pill(marker_x, marker_y, label, colour, filled) + 6
        marker_y += 26


def _steering_line(steering: Steering) -> str:
    first = steering.first or "no region"
    then = f", then {steering.second}" if steering.second else ""
    return f"{steering.code} ({steering.place}) → {first}{then}"


def _grid_rows(regions: Sequence[Region], columns: int) -> list[tuple[str, list[Region]]]:
    """Rows of at most *columns* boxes: the primaries first, then the secondaries, then the rest."""
    roles = ["primary", "secondary", *dict.fromkeys(r.role for r in regions if r.role not in ROLE_FILL)]
    rows = []
    for role in roles:
        members = [r for r in regions if r.role == role]
        for start in range(0, len(members), columns):
            rows.append((role, members[start : start + columns]))
    return rows


def render_svg(arch: Architecture) -> str:
    """The architecture as a standalone SVG document (the same bytes for the same model)."""
    per_role = Counter(r.role for r in arch.regions)
    columns = max(1, min(MAX_COLUMNS, max(per_role.values(), default=1)))
    grid_width = columns * BOX_WIDTH + (columns - 1) * GAP
    width = max(2 * MARGIN + grid_width, MIN_WIDTH)
    inner = width - 2 * MARGIN
    svg = _Svg()

    title = f"{arch.project} · {arch.stack}: architecture"
    svg.text(MARGIN, MARGIN + 16, title, "title")
    note = f"{_plural(len(arch.regions), 'region')}, {arch.resource_count:,} resources"
    note += ", drawn from the offline plan"
    svg.text(width - MARGIN, MARGIN + 16, note, "muted", anchor="end")
    y = MARGIN + 36

    if arch.edge is not None:
        y = _draw_edge(svg, arch.edge, y, width)
        caption = (
            f"▼ one load-balancer pool per region ({len(arch.edge.pools)}), "
            "origin: the region's ingress gateway"
        )
        svg.text(width // 2, y + 22, caption, "muted", anchor="middle")
        y += 36

    colours = _link_colours(arch.links)
    left = MARGIN + (inner - grid_width) // 2
    for role, row in _grid_rows(arch.regions, columns):
        svg.text(left, y + 16, f"{role.capitalize()} regions", "sub")
        y += 26
        texts = [_box_text(region, arch.links, colours) for region in row]
        height = max(_box_height(t) for t in texts)
        for i, (region, text) in enumerate(zip(row, texts, strict=True)):
            _draw_box(svg, left + i * (BOX_WIDTH + GAP), y, height, region, text)
        y += height + 14

    if arch.links:
        y += 8
        svg.line(MARGIN, y, width - MARGIN, y, LINE_COLOUR)
        svg.text(MARGIN, y + 24, "Replication between regions (markers in the boxes above)", "sub")
        y += 36
        for link, colour in zip(arch.links, colours, strict=True):
            marker = svg.pill(MARGIN, y, link.tag, colour, filled=True)
            lines = _wrap(link.describe(), inner - marker - 10)
            for i, content in enumerate(lines):
                svg.text(MARGIN + marker + 10, y + 14 + i * LINE, content)
            y += max(26, len(lines) * LINE + 9)

    y += 10
    footer = (
        f"Generated by infra/reports/diagram.py from the offline plan of {arch.project}/{arch.stack}; "
        "regenerate it rather than edit it."
    )
    svg.text(MARGIN, y + 12, footer, "muted")
    return svg.finish(width, y + 12 + MARGIN, title)


def _draw_edge(svg: _Svg, edge: Edge, top: int, width: int) -> int:
    """The Cloudflare band across the top; returns its bottom."""
    inner = width - 2 * MARGIN
    rows = [_steering_line(s) for s in edge.steering]
    column_width = max((_text_width(r) for r in rows), default=0) + 24
    heading = "Geo steering: Cloudflare region → first choice, then second"
    steering_needs = max(column_width, _text_width(heading, HEADING_SIZES["sub"]) + PAD)
    panel = max(min(EDGE_PANEL, inner - steering_needs - 2 * PAD), inner // 3)
    facts_width = panel - 2 * PAD
    left_lines = [line for fact in edge.facts for line in _wrap(fact, facts_width)]
    if edge.fallback_region:
        left_lines.append(f"Fallback pool: {edge.fallback_region}")
    left_height = 58 + len(left_lines) * LINE

    steering_x = MARGIN + panel + PAD
    steering_width = width - MARGIN - PAD - steering_x
    columns = max(1, min(len(rows), steering_width // max(column_width, 1)))
    per_column = math.ceil(len(rows) / columns) if rows else 0
    right_height = 58 + per_column * LINE
    height = max(left_height, right_height) + 4

    svg.rect(MARGIN, top, inner, height, "#fff8f2", EDGE_COLOUR, rx=8)
    svg.text(MARGIN + PAD, top + 22, "Cloudflare edge", "heading", fill="#9a3d00")
    svg.text(MARGIN + PAD, top + 42, edge.hostname, "sub")
    for i, content in enumerate(left_lines):
        svg.text(MARGIN + PAD, top + 42 + (i + 1) * LINE, content)

    svg.line(steering_x - PAD, top + 10, steering_x - PAD, top + height - 10, EDGE_COLOUR, dash="4 4")
    svg.text(steering_x, top + 22, heading, "sub")
    for i, content in enumerate(rows):
        column, row = divmod(i, per_column)
        svg.text(steering_x + column * column_width, top + 42 + row * LINE, content)
    return top + height


def diagram_path(project_dir: Path, stack: str) -> Path:
    """Where a stack's picture lives: `docs/architecture-<stack>.svg` (README.md embeds prod's)."""
    return project_dir / "docs" / f"architecture-{stack}.svg"


def check_diagram_path(path: Path) -> None:
    """ValueError unless *path* ends in `.svg`, the one format drawn."""
    if path.suffix.lower() != ".svg":
        raise ValueError(f"{path}: the diagram is drawn as SVG only; give a path ending in .svg")


def write_diagram(plan: Plan, path: Path) -> None:
    """Draw *plan*'s architecture to *path*, which must end in `.svg`."""
    check_diagram_path(path)
    path.write_text(render_svg(architecture(plan)), encoding="utf-8")
