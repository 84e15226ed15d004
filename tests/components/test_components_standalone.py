"""A platform team's use: import the components into another Pulumi program, with its own provider."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_aws as aws
import pytest
from pulumi.runtime.settings import ROOT
from pydantic import ValidationError

import components
from components import (
    CdnEdge,
    CdnEdgeArgs,
    ClusterRole,
    EksCluster,
    EksClusterArgs,
    Network,
    NetworkArgs,
    PostgresCluster,
    PostgresClusterArgs,
    RedisCluster,
    RedisClusterArgs,
    RedisRole,
    RegionRole,
    RegionStack,
    RegionStackArgs,
)
from infra.plan.mocks import PlanMocks, PlanMonitor
from tests.support import team_eks_args, team_vpc

#: A CDN's published ranges (documentation networks): what the ingress NLB admits.
CDN_RANGES = ["192.0.2.0/24", "198.51.100.0/24"]
MOCKS = PlanMocks()
MONITOR = PlanMonitor(MOCKS)


@pytest.fixture(autouse=True)
def team_program() -> None:
    ROOT.set(None)
    pulumi.runtime.set_mocks(MOCKS, project="team", stack="dev", preview=False, monitor=MONITOR)


@pulumi.runtime.test
def test_network_with_the_teams_own_provider():
    provider = aws.Provider("team-aws", region="eu-central-1")
    network = Network(
        "team",
        NetworkArgs(
            cidr="10.42.0.0/18",
            az_ids=("euc1-az1", "euc1-az2"),
            nat_gateways="single",
            interface_endpoints=(),
        ),
        kms_key_arn="arn:aws:kms:eu-central-1:123456789012:key/team",
        opts=pulumi.ResourceOptions(providers=[provider]),
    )

    def check(values: list) -> None:
        vpc_id, private = values
        assert vpc_id.startswith("vpc-")
        assert len(private) == 2
        assert network.availability_zones == ["eu-central-1a", "eu-central-1b"]

    return pulumi.Output.all(network.vpc_id, network.private_subnet_ids).apply(check)


@pulumi.runtime.test
def test_region_stack_exposes_typed_outputs():
    stack = RegionStack(
        "sa-east-1",
        RegionStackArgs(
            region="sa-east-1", role=RegionRole.SECONDARY, name_prefix="team-dev",
            network=NetworkArgs(cidr="10.50.0.0/16", az_ids=("sae1-az1", "sae1-az2", "sae1-az3")),
            tags={"owner": "team"},
            eks=team_eks_args("team-dev-sa-east-1"),
        ),
        origin_sources=CDN_RANGES,
    )  # fmt: skip
    assert isinstance(stack.provider, aws.Provider)
    origin_tls = stack.install_origin_certificate(
        "CERTIFICATE PEM", pulumi.Output.secret("KEY PEM"), "CLIENT CA PEM"
    )

    def check(values: list) -> None:
        arn, isolated, tls_data, tls_type = values
        assert arn.startswith("arn:aws:kms:sa-east-1:")
        assert len(isolated) == 3
        # The gateway's Secret carries both halves and the client CA under the names Istio reads.
        assert tls_data == {"tls.crt": "CERTIFICATE PEM", "tls.key": "KEY PEM", "ca.crt": "CLIENT CA PEM"}
        assert tls_type == "kubernetes.io/tls"

    return pulumi.Output.all(
        stack.kms_key_arn,
        stack.isolated_subnet_ids,
        origin_tls.string_data,
        origin_tls.type,  # type: ignore[attr-defined]
    ).apply(check)


@pulumi.runtime.test
def test_eks_cluster_alone_in_the_teams_own_vpc():
    pinned, vpc, subnets = team_vpc("team-eks", "10.60", zones="ab")
    cluster = EksCluster(
        "payments",
        team_eks_args("team-eu"),
        vpc_id=vpc.id,
        private_subnet_ids=[s.id for s in subnets],
        kms_key_arn="arn:aws:kms:eu-central-1:123456789012:key/team",
        origin_sources=CDN_RANGES,
        opts=pinned,
    )

    def check(values: list) -> None:
        name, hostname, node_sg, subnet_ids = values
        assert name == "team-eu"
        assert hostname.endswith(".elb.eu-central-1.amazonaws.com")
        assert node_sg.startswith("sg-")
        mine = [r for r in MONITOR.recorded if r.urn.split("::")[-1].startswith("payments")]
        groups = [r for r in mine if r.type == "aws:eks/nodeGroup:NodeGroup"]
        assert len(groups) == 2 and all(g.inputs["subnetIds"] == subnet_ids for g in groups)
        assert {g.inputs["amiType"] for g in groups} == {"AL2023_ARM_64_STANDARD", "AL2023_x86_64_STANDARD"}
        k8s_provider = next(r for r in mine if r.type == "pulumi:providers:kubernetes")
        kube = [r for r in mine if r.type.startswith("kubernetes:")]
        assert kube and all(r.provider == k8s_provider.urn for r in kube)
        aws_resources = [r for r in mine if r.custom and r.type.startswith("aws:")]
        assert all(r.provider and "team-eks-aws" in r.provider for r in aws_resources)

    return pulumi.Output.all(
        cluster.cluster_name,
        cluster.ingress_hostname,
        cluster.node_security_group_id,
        [s.id for s in subnets],
    ).apply(check)


@pulumi.runtime.test
def test_postgres_cluster_alone_in_the_teams_own_vpc():
    """A team's own global database: one writer member, its own subnets and client group, no
    backup copy; the same component the platform composes per region."""
    pinned, vpc, subnets = team_vpc("team-db", "10.70", zones="abc")
    clients = aws.ec2.SecurityGroup("team-app", vpc_id=vpc.id, opts=pinned)
    database = PostgresCluster(
        "ledger",
        PostgresClusterArgs(
            engine_version="16.8", cluster_identifier="ledger-eu", global_cluster_identifier="ledger",
            role=ClusterRole.WRITER, secret_name="ledger/master", protect=False,
            sizes={"instance_class": "db.r7g.large", "reader_instances": 2},
        ),
        vpc_id=vpc.id,
        subnet_ids=[s.id for s in subnets],
        availability_zones=["eu-central-1a", "eu-central-1b", "eu-central-1c"],
        client_security_group_id=clients.id,
        kms_key_arn="arn:aws:kms:eu-central-1:123456789012:key/team",
        opts=pinned,
    )  # fmt: skip

    def check(values: list) -> None:
        writer, reader, proxy, secret_arn, _ = values
        assert writer.startswith("ledger-eu.cluster-") and ".eu-central-1.rds.amazonaws.com" in writer
        assert reader.startswith("ledger-eu.cluster-ro-")
        assert proxy.startswith("ledger-eu.proxy-")
        assert secret_arn.startswith("arn:aws:secretsmanager:eu-central-1:123456789012:secret:ledger/master-")
        mine = [r for r in MONITOR.recorded if r.urn.split("::")[-1].startswith("ledger")]
        instances = sorted(
            (r for r in mine if r.type == "aws:rds/clusterInstance:ClusterInstance"),
            key=lambda r: r.inputs["identifier"],
        )
        assert [i.inputs["availabilityZone"] for i in instances] == [f"eu-central-1{z}" for z in "abc"]
        assert not [r for r in mine if r.type.startswith("aws:backup/")]
        aws_resources = [r for r in mine if r.custom and r.type.startswith("aws:")]
        assert aws_resources and all(r.provider and "team-db-aws" in r.provider for r in aws_resources)

    return pulumi.Output.all(
        database.writer_endpoint,
        database.reader_endpoint,
        database.proxy_endpoint,
        database.secret_arn,
        [i.id for i in database.instances],  # every instance registered before the check
    ).apply(check)


def test_a_secondary_member_needs_its_writer() -> None:
    args = PostgresClusterArgs(
        engine_version="16.8", cluster_identifier="ledger-us", global_cluster_identifier="ledger",
        role=ClusterRole.SECONDARY, sizes={"instance_class": "db.r7g.large", "reader_instances": 1},
    )  # fmt: skip
    with pytest.raises(ValueError, match="a secondary needs writer="):
        PostgresCluster(
            "orphan", args, vpc_id="vpc-1", subnet_ids=[], availability_zones=[],
            client_security_group_id="sg-1", kms_key_arn="arn:aws:kms:us-east-1:123456789012:key/k",
        )  # fmt: skip


def _team_cache_args(membership: str = "regional") -> RedisClusterArgs:
    return RedisClusterArgs(
        replication_group_id="team-cache", store="cache", roles=(RedisRole.CACHE,),
        maxmemory_policy="allkeys-lfu", membership=membership, secret_name="team/redis/cache",
        sizes={"node_type": "cache.m7g.large", "shards": 2, "replicas_per_shard": 2}, protect=False,
    )  # fmt: skip


@pulumi.runtime.test
def test_redis_cluster_alone_in_the_teams_own_vpc():
    """A team's regional cache: its own subnets, client group and key; no global datastore."""
    pinned, vpc, subnets = team_vpc("team-cache", "10.71", zones="ab")
    clients = aws.ec2.SecurityGroup("team-cache-app", vpc_id=vpc.id, opts=pinned)
    cache = RedisCluster(
        "team-cache",
        _team_cache_args(),
        vpc_id=vpc.id,
        subnet_ids=[s.id for s in subnets],
        client_security_group_id=clients.id,
        kms_key_arn="arn:aws:kms:eu-central-1:123456789012:key/team",
        opts=pinned,
    )
    assert cache.global_datastore is None and cache.global_datastore_id is None

    def check(values: list) -> None:
        endpoint, secret_arn, policy = values
        assert endpoint.startswith("clustercfg.team-cache.") and endpoint.endswith(
            ".euc1.cache.amazonaws.com"
        )
        assert secret_arn.startswith(
            "arn:aws:secretsmanager:eu-central-1:123456789012:secret:team/redis/cache-"
        )
        assert '"secretsmanager.eu-central-1.amazonaws.com"' in policy
        mine = [r for r in MONITOR.recorded if r.urn.split("::")[-1].startswith("team-cache")]
        (group,) = [r for r in mine if r.type == "aws:elasticache/replicationGroup:ReplicationGroup"]
        assert group.inputs["numNodeGroups"] == 2 and group.inputs["replicasPerNodeGroup"] == 2
        assert group.inputs["transitEncryptionMode"] == "required"
        (parameters,) = [r for r in mine if r.type == "aws:elasticache/parameterGroup:ParameterGroup"]
        assert {"name": "maxmemory-policy", "value": "allkeys-lfu"} in parameters.inputs["parameters"]
        assert not [r for r in mine if "globalReplicationGroup" in r.type]
        aws_resources = [r for r in mine if r.custom and r.type.startswith("aws:")]
        assert aws_resources and all(r.provider and "team-cache-aws" in r.provider for r in aws_resources)

    return pulumi.Output.all(cache.configuration_endpoint, cache.secret_arn, cache.client_policy()).apply(
        check
    )


def test_a_redis_secondary_needs_its_primary() -> None:
    with pytest.raises(ValueError, match="a secondary needs primary="):
        RedisCluster(
            "orphan-cache", _team_cache_args("secondary"), vpc_id="vpc-1", subnet_ids=[],
            client_security_group_id="sg-1", kms_key_arn="arn:aws:kms:us-east-1:123456789012:key/k",
        )  # fmt: skip


@pulumi.runtime.test
def test_cdn_edge_in_front_of_a_teams_own_origins():
    """A team's two regions behind Cloudflare, origins given as plain hostnames, its own token."""
    args = CdnEdgeArgs(
        account_id="f037e56e89293a057740de681ac9abbe",
        zone_id="023e105f4ecef8ad9ca31a8372d0c353",
        alert_emails=["team-oncall@example.com"],
        hostname="shop.example.com",
        regions={"eu-west-1": RegionRole.PRIMARY, "ap-southeast-2": RegionRole.PRIMARY},
        fallback_region="eu-west-1",
        name_prefix="team-shop",
    )
    origins = {"eu-west-1": "shop-eu.lb.example.net", "ap-southeast-2": "shop-au.lb.example.net"}
    edge = CdnEdge("team-shop", args, origins=origins, api_token=pulumi.Output.secret("token"))
    assert edge.steering["OC"] == ["ap-southeast-2", "eu-west-1"]
    assert edge.steering["WEU"] == ["eu-west-1", "ap-southeast-2"]

    def check(values: list) -> None:
        pool_ids, lb_id = values
        mine = [r for r in MONITOR.recorded if r.urn.split("::")[-1].startswith("team-shop")]
        pools = {r.inputs["origins"][0]["address"]: r for r in mine if r.type.endswith("LoadBalancerPool")}
        assert set(pools) == set(origins.values())
        assert pool_ids["eu-west-1"] == pools["shop-eu.lb.example.net"].id
        (lb,) = [r for r in mine if r.type.endswith("loadBalancer:LoadBalancer")]
        assert lb.id == lb_id and lb.inputs["regionPools"]["OC"][0] == pool_ids["ap-southeast-2"]
        (provider,) = [r for r in mine if r.type == "pulumi:providers:cloudflare"]
        assert provider.inputs["apiToken"] == "[secret]"

    return pulumi.Output.all(edge.pool_ids, edge.load_balancer_id).apply(check)


def test_cdn_edge_needs_one_origin_per_region() -> None:
    args = CdnEdgeArgs(
        account_id="f037e56e89293a057740de681ac9abbe", zone_id="023e105f4ecef8ad9ca31a8372d0c353",
        alert_emails=["a@example.com"], hostname="x.example.com", fallback_region="eu-west-1",
        regions={"eu-west-1": RegionRole.PRIMARY, "eu-central-1": RegionRole.SECONDARY}, name_prefix="x",
    )  # fmt: skip
    with pytest.raises(ValueError, match="give one origin per region"):
        CdnEdge("half-edge", args, origins={"eu-west-1": "a.example.net"})


def test_invalid_args_fail_before_any_resource() -> None:
    with pytest.raises(ValidationError, match="not a private range"):
        NetworkArgs(cidr="8.8.0.0/16", az_ids=("euc1-az1", "euc1-az2"))
    with pytest.raises(ValidationError, match="not an AWS region"):
        RegionStackArgs(region="us-east-9", role="primary", name_prefix="x",
                        network=NetworkArgs(cidr="10.0.0.0/16", az_ids=("use1-az1", "use1-az2")),
                        eks=team_eks_args("x"))  # fmt: skip
    with pytest.raises(ValidationError, match="canary weight 30 is not a rollout step"):
        EksClusterArgs.model_validate({**team_eks_args("x").model_dump(), "app": {"canary_weight": 30}})
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        NetworkArgs(cidr="10.0.0.0/16", az_ids=("euc1-az1", "euc1-az2"), azcount=3)


def test_public_api_is_exported_typed_and_documented() -> None:
    package = Path(components.__file__).parent
    assert (package / "py.typed").is_file()
    for name in components.__all__:
        exported = getattr(components, name)
        assert exported.__doc__, f"components.{name} has no docstring"
    assert issubclass(components.RegionStack, pulumi.ComponentResource)
    assert issubclass(components.Network, pulumi.ComponentResource)
