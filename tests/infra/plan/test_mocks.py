"""The mocks answer what AWS would, and refuse what a pinned program must never do."""

from __future__ import annotations

import pulumi
import pytest
from pulumi.runtime import MockCallArgs, MockResourceArgs
from pulumi.runtime.rpc import is_rpc_secret, unwrap_rpc_secret

from infra.plan.mocks import MOCK_ACCOUNT_ID, PlanMocks


def mocks_with_provider(region: str) -> tuple[PlanMocks, str]:
    mocks = PlanMocks()
    provider_id, _ = mocks.new_resource(
        MockResourceArgs("pulumi:providers:aws", f"{region}-aws", {"region": region}, custom=True)
    )
    return mocks, f"urn:pulumi:s::p::pulumi:providers:aws::{region}-aws::{provider_id}"


def test_availability_zones_have_the_real_shape() -> None:
    mocks, ref = mocks_with_provider("ap-northeast-1")
    result, failures = mocks.call(
        MockCallArgs("aws:index/getAvailabilityZones:getAvailabilityZones", {}, ref)
    )
    assert failures == []
    assert result["names"] == ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"]
    assert result["zoneIds"] == ["apne1-az4", "apne1-az1", "apne1-az2"]  # no apne1-az3 in the region
    assert result["groupNames"] == ["ap-northeast-1"] * 3


def test_availability_zones_honour_excluded_zone_ids() -> None:
    mocks, ref = mocks_with_provider("us-east-1")
    token = "aws:index/getAvailabilityZones:getAvailabilityZones"
    every, _ = mocks.call(MockCallArgs(token, {}, ref))
    assert "use1-az3" in every["zoneIds"] and len(every["names"]) == 6
    allowed, _ = mocks.call(MockCallArgs(token, {"excludeZoneIds": ["use1-az3"]}, ref))
    assert "use1-az3" not in allowed["zoneIds"] and "us-east-1c" not in allowed["names"]
    assert len(allowed["names"]) == len(allowed["zoneIds"]) == 5


def test_caller_identity_and_partition() -> None:
    mocks, ref = mocks_with_provider("me-central-1")
    identity, _ = mocks.call(MockCallArgs("aws:index/getCallerIdentity:getCallerIdentity", {}, ref))
    assert identity["accountId"] == MOCK_ACCOUNT_ID and identity["arn"].startswith("arn:aws:sts::")
    partition, _ = mocks.call(MockCallArgs("aws:index/getPartition:getPartition", {}, ref))
    assert (partition["partition"], partition["dnsSuffix"]) == ("aws", "amazonaws.com")
    region, _ = mocks.call(MockCallArgs("aws:index/getRegion:getRegion", {}, ref))
    assert region["region"] == "me-central-1"


def test_an_invoke_without_an_explicit_provider_is_refused() -> None:
    mocks, _ = mocks_with_provider("us-east-1")
    with pytest.raises(RuntimeError, match="without an explicit, region-pinned provider"):
        mocks.call(MockCallArgs("aws:index/getCallerIdentity:getCallerIdentity", {}, ""))


def test_an_unknown_invoke_is_refused_rather_than_answered_empty() -> None:
    mocks, ref = mocks_with_provider("us-east-1")
    with pytest.raises(NotImplementedError, match="aws:rds/getEngineVersion"):
        mocks.call(MockCallArgs("aws:rds/getEngineVersion:getEngineVersion", {}, ref))


def test_resources_get_realistic_ids_and_arns() -> None:
    mocks, ref = mocks_with_provider("eu-west-1")
    vpc_id, state = mocks.new_resource(
        MockResourceArgs("aws:ec2/vpc:Vpc", "v", {"cidrBlock": "10.0.0.0/16"}, provider=ref, custom=True)
    )
    assert vpc_id.startswith("vpc-") and state["cidrBlock"] == "10.0.0.0/16"
    assert state["arn"] == f"arn:aws:ec2:eu-west-1:{MOCK_ACCOUNT_ID}:vpc/{vpc_id}"
    _, key = mocks.new_resource(MockResourceArgs("aws:kms/key:Key", "k", {}, provider=ref, custom=True))
    assert key["arn"] == f"arn:aws:kms:eu-west-1:{MOCK_ACCOUNT_ID}:key/{key['keyId']}"


def test_eks_cluster_and_gateway_service_have_the_real_shape() -> None:
    mocks, ref = mocks_with_provider("eu-west-1")
    _, cluster = mocks.new_resource(
        MockResourceArgs("aws:eks/cluster:Cluster", "c", {"name": "meridian-x"}, provider=ref, custom=True)
    )
    assert cluster["arn"] == f"arn:aws:eks:eu-west-1:{MOCK_ACCOUNT_ID}:cluster/meridian-x"
    assert cluster["endpoint"].endswith(".gr7.eu-west-1.eks.amazonaws.com")
    assert cluster["identities"][0]["oidcs"][0]["issuer"].startswith(
        "https://oidc.eks.eu-west-1.amazonaws.com/id/"
    )
    assert cluster["vpcConfig"]["clusterSecurityGroupId"].startswith("sg-")
    kubeconfig = '{"users": [{"user": {"exec": {"args": ["eks", "get-token", "--region", "eu-west-1"]}}}]}'
    k8s_id, _ = mocks.new_resource(
        MockResourceArgs("pulumi:providers:kubernetes", "k", {"kubeconfig": kubeconfig}, custom=True)
    )
    k8s_ref = f"urn:pulumi:s::p::pulumi:providers:kubernetes::k::{k8s_id}"
    _, service = mocks.new_resource(
        MockResourceArgs(
            "kubernetes:core/v1:Service", "gw", {}, provider=k8s_ref, resource_id="istio-ingress/gw"
        )
    )
    (ingress,) = service["status"]["loadBalancer"]["ingress"]
    assert ingress["hostname"].endswith(".elb.eu-west-1.amazonaws.com")


def test_cloudflare_and_tls_resources_have_the_real_shape() -> None:
    mocks = PlanMocks()
    pool_id, _ = mocks.new_resource(
        MockResourceArgs(
            "cloudflare:index/loadBalancerPool:LoadBalancerPool", "p", {"name": "x"}, custom=True
        )
    )
    assert len(pool_id) == 32 and int(pool_id, 16) >= 0
    setting_id, _ = mocks.new_resource(
        MockResourceArgs("cloudflare:index/zoneSetting:ZoneSetting", "s", {"settingId": "ssl"}, custom=True)
    )
    assert setting_id == "ssl"
    _, key = mocks.new_resource(MockResourceArgs("tls:index/privateKey:PrivateKey", "k", {}, custom=True))
    assert is_rpc_secret(key["privateKeyPem"])
    assert unwrap_rpc_secret(key["privateKeyPem"]).startswith("-----BEGIN EC PRIVATE KEY-----\n")
    _, certificate = mocks.new_resource(
        MockResourceArgs(
            "cloudflare:index/originCaCertificate:OriginCaCertificate",
            "c",
            {"requestedValidity": 365},
            custom=True,
        )
    )
    assert certificate["certificate"].startswith("-----BEGIN CERTIFICATE-----\n")
    assert certificate["expiresOn"].startswith("2027-")


# --- the offline run itself --------------------------------------------------------------------


def test_the_sdk_stack_walk_is_skipped_only_while_the_mocks_run() -> None:
    """The SDK walks the whole Python stack for every registration; under the mocks nothing reads
    it, so the plan skips it, and puts the SDK's own function back afterwards, even after a failure."""
    import pulumi.runtime.resource as sdk_resource

    from infra.plan.run import run_program

    capture = sdk_resource._get_stack_trace
    seen = []

    def main() -> None:
        walk = sdk_resource._get_stack_trace
        seen.append((walk is capture, len(walk().frames)))
        pulumi.CustomResource("test:index:Thing", "thing", {})

    run_program(main, project="harness", stack="test")
    assert seen == [(False, 0)]
    assert sdk_resource._get_stack_trace is capture

    def failing() -> None:
        raise RuntimeError("the program failed")

    with pytest.raises(RuntimeError, match="the program failed"):
        run_program(failing, project="harness", stack="test")
    assert sdk_resource._get_stack_trace is capture


def test_the_cyclic_collector_pauses_only_while_the_mocks_run() -> None:
    """A plan's objects all live until it ends, so full collections during the run only walk them
    again; the collector pauses for the run and resumes as it was afterwards, even after a failure."""
    import gc

    from infra.plan.run import run_program

    seen: list[bool] = []

    def main() -> None:
        seen.append(gc.isenabled())
        pulumi.CustomResource("test:index:Thing", "thing", {})

    assert gc.isenabled()
    run_program(main, project="harness", stack="test")
    assert seen == [False] and gc.isenabled()

    def failing() -> None:
        raise RuntimeError("the program failed")

    with pytest.raises(RuntimeError, match="the program failed"):
        run_program(failing, project="harness", stack="test")
    assert gc.isenabled()

    gc.disable()  # a caller that paused it itself gets it back paused
    try:
        run_program(main, project="harness", stack="test")
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_aws_context_is_asked_once_per_provider_and_afresh_in_each_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pulumi_aws as aws

    from components.core.lookups import AwsContext
    from infra.plan.run import run_program

    asked: list[str] = []
    answer = PlanMocks.call

    def counting(self: PlanMocks, args: MockCallArgs) -> tuple[dict, list]:
        asked.append(args.token)
        return answer(self, args)

    monkeypatch.setattr(PlanMocks, "call", counting)

    def main() -> dict[str, object]:
        east = aws.Provider("east", region="us-east-1")
        west = aws.Provider("west", region="eu-west-1")

        def component(name: str, provider: aws.Provider) -> pulumi.ComponentResource:
            return pulumi.ComponentResource(
                "test:index:Part", name, None, pulumi.ResourceOptions(providers=[provider])
            )

        first, second, other = component("a", east), component("b", east), component("c", west)
        assert AwsContext.of(first) is AwsContext.of(second)
        assert AwsContext.of(other) is not AwsContext.of(first)
        assert AwsContext.of(first, west) is AwsContext.of(other)
        return {"east": AwsContext.of(first).region, "west": AwsContext.of(other).account}

    for _ in range(2):  # the second run's providers are new objects: nothing of the first is reused
        asked.clear()
        outputs = run_program(main, project="harness", stack="test").outputs
        assert outputs == {"east": "us-east-1", "west": MOCK_ACCOUNT_ID}
        assert sorted(asked) == sorted(
            [f"aws:index/{fn}:{fn}" for fn in ("getCallerIdentity", "getPartition", "getRegion")] * 2
        )


def test_the_mocked_rpcs_run_on_one_thread() -> None:
    """asyncio's default pool would spread the mocked calls over up to six threads that only
    contend for the GIL; the plan hands them all to one."""
    import threading

    from infra.plan.run import run_program

    threads: set[str] = set()

    def main() -> None:
        for name in ("a", "b", "c", "d"):
            pulumi.CustomResource("test:index:Thing", name, {})

    run_program(
        main,
        project="harness",
        stack="test",
        on_register=lambda _: threads.add(threading.current_thread().name),
    )
    assert len(threads) == 1 and threads.pop().startswith("meridian-mock-rpc")
