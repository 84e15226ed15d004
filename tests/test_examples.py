"""The programs in examples/: each runs under the mocks as `pulumi up` would run it, pins every AWS
resource to a region through an explicit provider and exports what it promises. Each component's page in
docs/components/ shows them as they are (its blocks are generated, tests/infra/test_project.py checks
them), so this is what makes the docs' examples tested code.

Every file in examples/ is run by the parametrized tests; each also has an assertion of its own.
"""

from __future__ import annotations

import importlib.util
import json
import runpy
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock

import pulumi
import pytest

from infra.plan.run import AWS_PROVIDER_TYPE, Plan, run_program
from infra.reports.docs import COMPONENTS, EXAMPLES_DIR, documented_outputs, example_path, parameter_meanings

EXAMPLES = sorted(EXAMPLES_DIR.glob("*.py"))


@dataclass
class ExampleRun:
    """One example's offline run: its module, the plan, what it passed to `pulumi.export`, and the
    component objects it built (to read their attributes)."""

    module: ModuleType
    plan: Plan
    exported: list[str]
    components: list[pulumi.ComponentResource]


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"examples.{path.stem}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module


_runs: dict[str, ExampleRun] = {}


def run_example(stem: str) -> ExampleRun:
    """Run `examples/<stem>.py`'s `main()` under the mocks (once per session)."""
    if stem not in _runs:
        module = _load(EXAMPLES_DIR / f"{stem}.py")
        built: list[pulumi.ComponentResource] = []
        component_init = pulumi.ComponentResource.__init__

        def recording_init(self: pulumi.ComponentResource, *args: Any, **kwargs: Any) -> None:
            component_init(self, *args, **kwargs)
            built.append(self)

        with (
            mock.patch.object(pulumi.ComponentResource, "__init__", recording_init),
            mock.patch("pulumi.export", wraps=pulumi.export) as export,
        ):
            plan = run_program(module.main, project="example", stack="dev")
        exported = [call.args[0] for call in export.call_args_list]
        _runs[stem] = ExampleRun(module, plan, exported, built)
    return _runs[stem]


@pytest.fixture(params=[path.stem for path in EXAMPLES])
def example(request: pytest.FixtureRequest) -> ExampleRun:
    return run_example(request.param)


def _subnet_ids(plan: Plan, tier: str) -> list[str | None]:
    subnets = [r for r in plan.of_type("aws:ec2/subnet:Subnet") if r.inputs["tags"]["meridian/tier"] == tier]
    return [r.id for r in sorted(subnets, key=lambda r: r.inputs["availabilityZone"])]


# -- every example ---------------------------------------------------------------------------------


def test_every_component_has_an_example() -> None:
    assert {example_path(c) for c in COMPONENTS} <= set(EXAMPLES)


def test_example_is_a_documented_program_pulumi_can_run(example: ExampleRun) -> None:
    path = Path(example.module.__file__ or "")
    doc = example.module.__doc__ or ""
    assert doc.split(":")[0] in {c.__name__ for c in COMPONENTS}, "the docstring starts with its component"
    assert f"main: {path.name}" in doc, "the docstring says how to run it"
    assert path.read_text().endswith('\n\nif __name__ == "__main__":\n    main()\n')


def test_every_aws_resource_is_pinned_to_a_region_by_an_explicit_provider(example: ExampleRun) -> None:
    plan = example.plan
    providers = {r.urn: r for r in plan.of_type(AWS_PROVIDER_TYPE)}
    assert providers and all(p.inputs.get("region") for p in providers.values())
    aws_resources = [r for r in plan.custom_resources if r.type.startswith("aws:")]
    assert aws_resources
    unpinned = [r.urn for r in aws_resources if r.provider not in providers]
    assert not unpinned, f"{len(unpinned)} AWS resources use the default provider, e.g. {unpinned[0]}"
    assert all(plan.regions[r.urn] == providers[r.provider or ""].inputs["region"] for r in aws_resources)


def test_exports_are_what_main_returns(example: ExampleRun) -> None:
    """`pulumi up` sees `pulumi.export`; the plan sees main's return: the same outputs, all set."""
    assert example.exported, "an example exports what a consumer needs"
    assert example.exported == list(example.plan.outputs)
    unset = [key for key, value in example.plan.outputs.items() if value in (None, "", [], {})]
    assert set(unset) <= {"globalDatastoreId"}, unset  # a regional Redis group has no datastore


def test_running_the_file_as_pulumi_does_declares_the_same_resources(example: ExampleRun) -> None:
    """Pulumi runs a program file as `__main__` (runpy); imported under any other name, it declares
    nothing."""
    path = str(example.module.__file__)

    def run_file(run_name: str) -> Plan:
        def program() -> None:  # returns no exports: the module's globals are not outputs
            runpy.run_path(path, run_name=run_name)

        return run_program(program, project="example", stack="dev")

    assert {r.urn for r in run_file("__main__").resources} == {r.urn for r in example.plan.resources}
    assert run_file("imported").resources == []


# -- the reference of each component (docs/components/) ----------------------------------------------


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda c: c.__name__)
def test_every_documented_output_exists(component: type[pulumi.ComponentResource]) -> None:
    """The component page's outputs table (from the class docstring) names only what the objects the
    examples build have; a method there is callable."""
    objects = [c for stem in (p.stem for p in EXAMPLES) for c in run_example(stem).components]
    built = [o for o in objects if type(o) is component]
    assert built, f"no example builds a {component.__name__}"
    for name in documented_outputs(component):
        attribute = name.removesuffix("()")
        present = [getattr(o, attribute) for o in built if hasattr(o, attribute)]
        assert present, f"{component.__name__}.{attribute} is documented but no instance has it"
        assert callable(present[0]) == name.endswith("()"), f"{component.__name__}.{name}: method or not?"


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda c: c.__name__)
def test_every_constructor_parameter_is_documented(component: type[pulumi.ComponentResource]) -> None:
    missing = [name for name, meaning in parameter_meanings(component).items() if not meaning]
    assert not missing, f"{component.__name__}'s docstring has no Args entry for {missing}"


# -- one assertion per example ---------------------------------------------------------------------


def test_network_example_has_a_vpc_and_two_azs_of_subnets_in_its_region() -> None:
    plan = run_example("network").plan
    (vpc,) = plan.of_type("aws:ec2/vpc:Vpc")
    assert vpc.inputs["cidrBlock"] == "10.21.0.0/18" and plan.regions[vpc.urn] == "eu-central-1"
    subnets = plan.of_type("aws:ec2/subnet:Subnet")
    assert len(subnets) == 6  # public, private, isolated in each of two AZs
    assert {s.inputs["availabilityZone"] for s in subnets} == {"eu-central-1a", "eu-central-1b"}
    assert len(plan.of_type("aws:ec2/natGateway:NatGateway")) == 1
    assert plan.outputs["vpcId"] == vpc.id
    assert plan.outputs["privateSubnetIds"] == _subnet_ids(plan, "private")


def test_eks_example_runs_its_nodes_on_the_networks_private_subnets() -> None:
    plan = run_example("eks_cluster").plan
    (cluster,) = plan.of_type("aws:eks/cluster:Cluster")
    assert cluster.inputs["name"] == plan.outputs["clusterName"] == "payments-euc1"
    assert plan.regions[cluster.urn] == "eu-central-1"
    groups = plan.of_type("aws:eks/nodeGroup:NodeGroup")
    assert len(groups) == 2 and all(g.inputs["subnetIds"] == _subnet_ids(plan, "private") for g in groups)
    (k8s_provider,) = plan.of_type("pulumi:providers:kubernetes")
    kube = [r for r in plan.custom_resources if r.type.startswith("kubernetes:")]
    assert kube and all(r.provider == k8s_provider.urn for r in kube)
    assert plan.outputs["ingressHostname"].endswith(".elb.eu-central-1.amazonaws.com")


def test_region_stack_example_tags_its_region_and_lets_the_api_read_the_cache() -> None:
    plan = run_example("region_stack").plan
    (provider,) = plan.of_type(AWS_PROVIDER_TYPE)
    assert provider.inputs["region"] == "eu-central-1"
    assert json.loads(provider.inputs["defaultTags"]) == {"tags": {"owner": "payments"}}
    (group,) = plan.of_type("aws:elasticache/replicationGroup:ReplicationGroup")
    assert group.inputs["replicationGroupId"] == "payments-prod-euc1-cache"
    cache = plan.outputs["redis"]["cache"]
    assert cache["configurationEndpoint"].startswith("clustercfg.payments-prod-euc1-cache.")
    grants = [
        r for r in plan.of_type("aws:iam/rolePolicy:RolePolicy") if r.name.endswith("-cache-credentials")
    ]
    assert len(grants) == 1 and cache["authSecretArn"] in grants[0].inputs["policy"]


def test_postgres_example_spans_two_regions_with_one_global_database() -> None:
    plan = run_example("postgres_cluster").plan
    (global_cluster,) = plan.of_type("aws:rds/globalCluster:GlobalCluster")
    clusters = {plan.regions[c.urn]: c for c in plan.of_type("aws:rds/cluster:Cluster")}
    assert set(clusters) == {"eu-central-1", "eu-west-1"}
    assert {c.inputs["globalClusterIdentifier"] for c in clusters.values()} == {global_cluster.id}
    # The master secret lives with the writer and is replicated under the secondary region's key.
    (secret,) = plan.of_type("aws:secretsmanager/secret:Secret")
    assert secret.inputs["kmsKeyId"] == clusters["eu-central-1"].inputs["kmsKeyId"]
    west_key = clusters["eu-west-1"].inputs["kmsKeyId"]
    assert west_key.startswith("arn:aws:kms:eu-west-1:")
    assert secret.inputs["replicas"] == [{"region": "eu-west-1", "kmsKeyId": west_key}]
    (backup,) = plan.of_type("aws:backup/plan:Plan")
    (copy,) = backup.inputs["rules"][0]["copyActions"]
    assert ":eu-west-1:" in copy["destinationVaultArn"]
    assert plan.outputs["eu-west-1"]["secretArn"].startswith("arn:aws:secretsmanager:eu-west-1:")


def test_redis_example_admits_only_its_clients_under_its_own_key() -> None:
    plan = run_example("redis_cluster").plan
    (group,) = plan.of_type("aws:elasticache/replicationGroup:ReplicationGroup")
    assert plan.regions[group.urn] == "eu-central-1" and len(plan.of_type("aws:kms/key:Key")) == 1
    encrypted = [group, *plan.of_type("aws:cloudwatch/logGroup:LogGroup")]
    assert {r.inputs["kmsKeyId"] for r in encrypted} == {group.inputs["kmsKeyId"]}  # the one key
    assert group.inputs["transitEncryptionMode"] == "required"
    groups = {r.name: r for r in plan.of_type("aws:ec2/securityGroup:SecurityGroup")}
    assert not groups["payments-cache-sg"].inputs.get("ingress")
    (rule,) = plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert rule.inputs["securityGroupId"] == groups["payments-cache-sg"].id
    assert rule.inputs["referencedSecurityGroupId"] == groups["payments-cache-clients"].id
    (policy,) = plan.of_type("aws:iam/policy:Policy")
    assert plan.outputs["authSecretArn"] in policy.inputs["policy"]
    assert plan.outputs["clientPolicyArn"]


def test_cdn_example_puts_a_pool_on_each_regions_ingress_after_installing_the_certificate() -> None:
    plan = run_example("cdn_edge").plan
    ingress = plan.outputs["ingressHostnames"]
    pools = plan.of_type("cloudflare:index/loadBalancerPool:LoadBalancerPool")
    assert {p.inputs["origins"][0]["address"] for p in pools} == set(ingress.values())
    assert set(plan.outputs["poolIds"]) == set(ingress) == {"eu-central-1", "us-east-1"}
    secrets = [
        s for s in plan.of_type("kubernetes:core/v1:Secret") if s.inputs["type"] == "kubernetes.io/tls"
    ]
    assert {plan.regions[s.urn] for s in secrets} == set(ingress)
    (balancer,) = plan.of_type("cloudflare:index/loadBalancer:LoadBalancer")
    assert {s.urn for s in secrets} <= set(balancer.dependencies)
    assert balancer.inputs["fallbackPool"] == plan.outputs["poolIds"]["eu-central-1"]


def test_audit_trail_example_records_every_region_into_a_governance_locked_bucket() -> None:
    plan = run_example("audit_trail").plan
    (trail,) = plan.of_type("aws:cloudtrail/trail:Trail")
    assert plan.regions[trail.urn] == "eu-central-1" and trail.inputs["isMultiRegionTrail"]
    assert trail.inputs["includeGlobalServiceEvents"] and trail.inputs["enableLogFileValidation"]
    assert trail.inputs["kmsKeyId"] == plan.outputs["keyArn"]
    (bucket,) = [b for b in plan.of_type("aws:s3/bucket:Bucket") if b.inputs.get("objectLockEnabled")]
    assert bucket.inputs["bucket"] == trail.inputs["s3BucketName"] == plan.outputs["bucketName"]
    (lock,) = plan.of_type("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")
    assert lock.inputs["bucket"] == bucket.inputs["bucket"]
    assert lock.inputs["rule"]["defaultRetention"] == {"mode": "GOVERNANCE", "days": 30}
    # A non-production account that is torn down: nothing is protected from `pulumi destroy`.
    assert not [r.urn for r in plan.resources if r.protect]


def test_analytics_warehouse_example_lets_each_regions_cluster_put_events_into_the_one_stream() -> None:
    plan = run_example("analytics_warehouse").plan
    (stream,) = plan.of_type("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream")
    assert plan.regions[stream.urn] == "eu-central-1" and stream.inputs["name"] == plan.outputs["streamName"]
    key_arn = stream.inputs["serverSideEncryption"]["keyArn"]
    assert key_arn.startswith("arn:aws:kms:eu-central-1:")
    assert stream.inputs["extendedS3Configuration"]["kmsKeyArn"] == key_arn
    (workgroup,) = plan.of_type("aws:athena/workgroup:Workgroup")
    configuration = workgroup.inputs["configuration"]
    assert configuration["resultConfiguration"]["encryptionConfiguration"]["kmsKeyArn"] == key_arn
    assert configuration["bytesScannedCutoffPerQuery"] == 1024**3
    (table,) = plan.of_type("aws:glue/catalogTable:CatalogTable")
    assert table.inputs["storageDescriptor"]["columns"][-1]["name"] == "amount_cents"
    # Each association lives with its cluster, in the cluster's region, and names the one role.
    associations = plan.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
    assert {a.inputs["clusterName"]: plan.regions[a.urn] for a in associations} == {
        "payments-euc1": "eu-central-1",
        "payments-use1": "us-east-1",
    }
    assert {a.inputs["roleArn"] for a in associations} == {plan.outputs["producerRoleArn"]}
    (producer,) = [p for p in plan.of_type("aws:iam/rolePolicy:RolePolicy") if p.name == "payments-producer"]
    assert plan.outputs["streamArn"] in producer.inputs["policy"]
    assert not plan.of_type("aws:redshiftserverless/workgroup:Workgroup")  # Athena only
