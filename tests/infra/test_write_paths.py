"""Every region Cloudflare sends users to can write every store its API uses, read off the plan.

For each region with a pool and each store (the database, every Redis store), the path a write
takes is followed from the API's pods to an endpoint that accepts writes:

1. the write endpoint the API is given (`meridian-endpoints`, `DATABASE_WRITE_HOST`,
   `REDIS_<STORE>_HOST`) names a resource of that region;
2. that resource takes writes: the proxy's read/write endpoint where the writer is, the reader
   endpoint of a member that forwards writes elsewhere, a replication group that is regional (or
   its global datastore's primary);
3. its subnets are the region's own (same VPC: the local route carries the traffic), and the API's
   egress NetworkPolicy lets its pods reach every one of them on the store's port;
4. its security group admits the EKS nodes on that port.

A failure names the region and the store. The variant with global stores shows a read-only copy
is never a region users are sent to.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from components.region.region_stack import APP_ENDPOINTS_CONFIG_MAP, redis_env_prefix
from infra.plan.mocks import RecordedResource
from infra.plan.run import Plan
from tests.support import PLANS, config_of

CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
POOL = "cloudflare:index/loadBalancerPool:LoadBalancerPool"
PROXY = "aws:rds/proxy:Proxy"
DB_SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup"
DB_CLUSTER = "aws:rds/cluster:Cluster"
GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
SUBNET_GROUP = "aws:elasticache/subnetGroup:SubnetGroup"
SUBNET = "aws:ec2/subnet:Subnet"
VPC = "aws:ec2/vpc:Vpc"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


@dataclass(frozen=True)
class Entry:
    """Where a write enters a store: the resource behind the host, its subnets and groups."""

    resource: RecordedResource
    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]
    port: int


class WritePaths:
    """The plan's resources, indexed for following write paths region by region."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.config = config_of(plan)

    def in_region(self, type_token: str, region: str) -> list[RecordedResource]:
        return [r for r in self.plan.of_type(type_token) if self.plan.regions.get(r.urn) == region]

    def serving(self) -> list[str]:
        """The regions with a Cloudflare pool, from the pools' names (`<prefix>-<region>`)."""
        prefix = f"meridian-{self.plan.stack}-"
        return [str(p.inputs["name"]).removeprefix(prefix) for p in self.plan.of_type(POOL)]

    def endpoints(self, region: str) -> dict[str, str]:
        (config_map,) = [
            c
            for c in self.in_region(CONFIG_MAP, region)
            if c.inputs["metadata"]["name"] == APP_ENDPOINTS_CONFIG_MAP
        ]
        return dict(config_map.inputs["data"])

    def database_entry(self, region: str, host: str) -> Entry:
        """The proxy or cluster `host` names, checked to take writes: the proxy's read/write
        endpoint where the writer is; elsewhere the reader endpoint of a cluster that forwards."""
        label = host.split(".", 1)[0]
        proxies = {str(p.inputs["name"]): p for p in self.in_region(PROXY, region)}
        clusters = {str(c.inputs["clusterIdentifier"]): c for c in self.in_region(DB_CLUSTER, region)}
        port = self.config.postgres.port
        if ".proxy-" in host:
            assert label in proxies, f"{region}: database write host {host} is no proxy of the region"
            # The read/write endpoint sends to the writer instance: only where the writer is.
            assert region == self.config.write_home, (
                f"{region}: database writes go to the read/write proxy endpoint of a secondary"
            )
            proxy = proxies[label]
            return Entry(
                proxy, tuple(proxy.inputs["vpcSubnetIds"]), tuple(proxy.inputs["vpcSecurityGroupIds"]), port
            )
        assert label in clusters and ".cluster-ro-" in host, (
            f"{region}: database write host {host} is neither the proxy nor a cluster reader endpoint"
        )
        cluster = clusters[label]
        assert region != self.config.write_home, f"{region}: the writer's region writes through its readers"
        assert cluster.inputs.get("enableGlobalWriteForwarding") is True, (
            f"{region}: database writes go to readers that do not forward them"
        )
        (subnets,) = [
            g
            for g in self.in_region(DB_SUBNET_GROUP, region)
            if g.inputs["name"] == cluster.inputs["dbSubnetGroupName"]
        ]
        return Entry(
            cluster, tuple(subnets.inputs["subnetIds"]), tuple(cluster.inputs["vpcSecurityGroupIds"]), port
        )

    def redis_entry(self, region: str, store: str, host: str) -> Entry:
        """The replication group `host` names (`clustercfg.<group id>.…`), checked to take writes."""
        group_id = host.split(".")[1]
        (group,) = [g for g in self.in_region(GROUP, region) if g.inputs["replicationGroupId"] == group_id]
        assert "globalReplicationGroupId" not in group.inputs, (
            f"{region}: store {store}'s write host is a read-only global datastore secondary"
        )
        (subnets,) = [
            s
            for s in self.in_region(SUBNET_GROUP, region)
            if s.inputs["name"] == group.inputs["subnetGroupName"]
        ]
        return Entry(
            group,
            tuple(subnets.inputs["subnetIds"]),
            tuple(group.inputs["securityGroupIds"]),
            int(group.inputs["port"]),
        )

    def reachable(self, region: str, store: str, entry: Entry) -> Iterator[str]:
        """Why the API's pods in `region` cannot reach `entry` (nothing when they can)."""
        (vpc,) = self.in_region(VPC, region)
        subnets = {s.id: s for s in self.in_region(SUBNET, region)}
        cidrs = []
        for subnet_id in entry.subnet_ids:
            subnet = subnets.get(subnet_id)
            if subnet is None or subnet.inputs["vpcId"] != vpc.id:
                yield f"{region}: store {store}'s subnet {subnet_id} is not in the region's VPC"
                continue
            cidrs.append(ipaddress.ip_network(subnet.inputs["cidrBlock"]))
        namespace = self.config.eks.app.namespace
        allowed = [
            ipaddress.ip_network(peer["ipBlock"]["cidr"])
            for policy in self.in_region(POLICY, region)
            if policy.inputs["metadata"].get("namespace") == namespace
            for rule in policy.inputs["spec"].get("egress", [])
            if {"protocol": "TCP", "port": entry.port}
            in [{**p, "port": int(p["port"])} for p in rule.get("ports", [])]
            for peer in rule.get("to", [])
            if "ipBlock" in peer and not peer["ipBlock"].get("except")
        ]
        for cidr in cidrs:
            if not any(cidr.subnet_of(block) for block in allowed):  # type: ignore[arg-type]
                yield (
                    f"{region}: the API's egress policy does not reach store {store}'s subnet {cidr} "
                    f"on {entry.port}"
                )
        (nodes,) = [g for g in self.in_region(SECURITY_GROUP, region) if g.name.endswith("-nodes")]
        admitted = [
            rule
            for rule in self.in_region(INGRESS, region)
            if rule.inputs["securityGroupId"] in entry.security_group_ids
            and rule.inputs.get("referencedSecurityGroupId") == nodes.id
            and int(rule.inputs["fromPort"]) <= entry.port <= int(rule.inputs["toPort"])
        ]
        if not admitted:
            yield f"{region}: store {store}'s security group does not admit the EKS nodes on {entry.port}"

    def problems(self) -> list[str]:
        found = []
        for region in self.serving():
            endpoints = self.endpoints(region)
            host = endpoints.get("DATABASE_WRITE_HOST")
            if host is None:
                found.append(f"{region}: no database write endpoint")
            else:
                found.extend(self.reachable(region, "postgres", self.database_entry(region, host)))
            for store in self.config.redis.stores:
                host = endpoints.get(f"{redis_env_prefix(store)}_HOST")
                if host is None:
                    found.append(f"{region}: no write endpoint for store {store}")
                    continue
                found.extend(self.reachable(region, store, self.redis_entry(region, store, host)))
        return found


def test_every_serving_region_writes_every_store(stack_plan: Plan) -> None:
    paths = WritePaths(stack_plan)
    assert set(paths.serving()) == {r.name for r in paths.config.regions}  # every region serves
    assert paths.problems() == []


def test_a_read_only_copy_is_no_place_to_send_users(global_stores_project: Path) -> None:
    """Staging with its store replicated to eu-west-1: eu-west-1 has no pool, and every region
    that has one still writes every store."""
    paths = WritePaths(PLANS(global_stores_project, "staging"))
    assert sorted(paths.serving()) == ["us-east-1", "us-west-2"]
    assert paths.problems() == []
    assert "REDIS_SHARED_HOST" not in paths.endpoints("eu-west-1")


def test_a_broken_path_names_the_region_and_the_store(
    stack_plan: Plan, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check bites: without the API's egress to its stores, each region's stores are named."""
    paths = WritePaths(stack_plan)
    real = paths.in_region

    def without_store_egress(type_token: str, region: str) -> list[RecordedResource]:
        found = real(type_token, region)
        if type_token == POLICY and region == paths.config.write_home:
            return [p for p in found if "postgres" not in p.name and "redis" not in p.name]
        return found

    monkeypatch.setattr(paths, "in_region", without_store_egress)
    problems = paths.problems()
    home = paths.config.write_home
    assert any(
        p.startswith(f"{home}: the API's egress policy does not reach store postgres's subnet")
        for p in problems
    )
    for store in paths.config.redis.stores:
        assert any(
            f"{home}: the API's egress policy does not reach store {store}'s subnet" in p for p in problems
        )
    assert all(p.startswith(f"{home}:") for p in problems)


def test_a_secondary_sent_to_the_read_write_proxy_is_caught(
    stack_plan: Plan, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A secondary's read/write proxy endpoint has no writer behind it: named, with its region."""
    paths = WritePaths(stack_plan)
    secondary = next(r for r in paths.serving() if r != paths.config.write_home)
    real = paths.endpoints

    def to_the_proxy(region: str) -> dict[str, str]:
        data = real(region)
        if region == secondary:
            (proxy,) = paths.in_region(PROXY, region)
            data["DATABASE_WRITE_HOST"] = (
                f"{proxy.inputs['name']}.proxy-0123456789ab.{region}.rds.amazonaws.com"
            )
        return data

    monkeypatch.setattr(paths, "endpoints", to_the_proxy)
    with pytest.raises(
        AssertionError, match=f"{secondary}: database writes go to the read/write proxy endpoint"
    ):
        paths.problems()
