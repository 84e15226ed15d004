"""The Pulumi policy pack: one mandatory policy per guardrail rule, fed what the engine sends.

The engine is not here, so the tests build the policy SDK's own argument objects (with its proxy
for values unknown during a preview) and call the policies as the SDK's analyzer does.
"""

from __future__ import annotations

import runpy
from typing import Any

import pytest
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from infra.guardrails import RESOURCE_RULES, STACK_RULES, UNKNOWN
from infra.guardrails import pack as pack_module
from infra.guardrails.pack import PACK_NAME, plain, policies
from tests.support import PROJECT_DIR

POLICY_DIR = PROJECT_DIR / "policy"
CLUSTER = "aws:rds/cluster:Cluster"
TAGS = (
    '{"tags": {"environment": "prod", "owner": "t", "cost-center": "c", "project": "meridian", "stack": "t"}}'
)


def _options(protect: bool = False) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def _provider() -> PolicyProviderResource:
    # The engine passes provider inputs as strings, nested ones JSON-encoded.
    props = unknown_checking_proxy({"region": "eu-west-1", "defaultTags": TAGS})
    return PolicyProviderResource("pulumi:providers:aws", props, "urn:provider", "aws")


def _resource_args(type_token: str, props: dict[str, Any], protect: bool = True) -> ResourceValidationArgs:
    return ResourceValidationArgs(
        type_token, unknown_checking_proxy(props), f"urn:{type_token}::r", "r", _options(protect), _provider()
    )


def _policy(name: str) -> Any:
    return next(p for p in policies() if p.name == name)


def _reported(policy: Any, args: Any) -> list[tuple[str, str | None]]:
    messages: list[tuple[str, str | None]] = []
    policy.validate(args, lambda message, urn=None: messages.append((message, urn)))
    return messages


def test_the_pack_has_one_mandatory_policy_per_rule_in_order() -> None:
    built = policies()
    assert [p.name for p in built] == [r.name for r in RESOURCE_RULES] + [r.name for r in STACK_RULES]
    assert all(p.enforcement_level is EnforcementLevel.MANDATORY for p in built)
    assert all(p.description for p in built)
    assert [isinstance(p, StackValidationPolicy) for p in built].count(True) == len(STACK_RULES)


def test_a_resource_policy_reports_what_its_rule_finds() -> None:
    bad = _resource_args(CLUSTER, {"engine": "aurora-postgresql", "storageEncrypted": False, "kmsKeyId": "k"})
    assert _reported(_policy("rds-encrypted-with-customer-key"), bad) == [
        ("storageEncrypted is not true: set storage_encrypted=True", None)
    ]
    # A policy ignores the types its rule does not look at.
    assert _reported(_policy("kms-key-rotation"), bad) == []


def test_a_key_unknown_during_preview_counts_as_given_a_false_flag_does_not() -> None:
    """A new stack's preview knows no key ARN yet: the reference is there, the value comes later."""
    previewed = {"engine": "aurora-postgresql", "storageEncrypted": True, "kmsKeyId": UNKNOWN_STRING_VALUE}
    assert _reported(_policy("rds-encrypted-with-customer-key"), _resource_args(CLUSTER, previewed)) == []
    previewed["storageEncrypted"] = UNKNOWN_STRING_VALUE  # a flag must be a known true
    assert _reported(_policy("rds-encrypted-with-customer-key"), _resource_args(CLUSTER, previewed))


def test_unknowns_become_the_rules_unknown_at_any_depth() -> None:
    proxied = unknown_checking_proxy(
        {"a": UNKNOWN_STRING_VALUE, "b": [{"c": UNKNOWN_STRING_VALUE}, 1], "d": "x"}
    )
    assert plain(proxied) == {"a": UNKNOWN, "b": [{"c": UNKNOWN}, 1], "d": "x"}


def test_protect_and_the_providers_default_tags_reach_the_rules() -> None:
    key = {"enableKeyRotation": True}
    assert _reported(
        _policy("prod-stateful-protected"), _resource_args("aws:kms/key:Key", key, protect=False)
    )
    assert _reported(_policy("prod-stateful-protected"), _resource_args("aws:kms/key:Key", key)) == []
    assert _reported(_policy("aws-resource-tagged"), _resource_args("aws:kms/key:Key", key)) == []


def test_a_stack_policy_follows_the_engines_property_dependencies() -> None:
    def resource(type_token: str, name: str, props: dict[str, Any]) -> PolicyResource:
        return PolicyResource(type_token, unknown_checking_proxy(props), f"urn:{name}", name, _options(True),
                              _provider(), None, [], {})  # fmt: skip

    vpc = resource("aws:ec2/vpc:Vpc", "vpc", {"cidrBlock": "10.0.0.0/16", "id": UNKNOWN_STRING_VALUE})
    flow_log = resource("aws:ec2/flowLog:FlowLog", "log", {"vpcId": UNKNOWN_STRING_VALUE})
    policy = _policy("vpc-flow-logs")
    assert _reported(policy, StackValidationArgs([vpc, flow_log])) == [
        ("no flow log: add an aws.ec2.FlowLog for the VPC (traffic type ALL)", "urn:vpc")
    ]
    flow_log.property_dependencies = {"vpcId": [vpc]}
    assert _reported(policy, StackValidationArgs([vpc, flow_log])) == []


def test_the_packs_entry_point_serves_every_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    served: dict[str, Any] = {}

    def pack(**kwargs: Any) -> None:
        served.update(kwargs)

    monkeypatch.setattr(pack_module, "PolicyPack", pack)
    runpy.run_path(str(POLICY_DIR / "__main__.py"), run_name="__main__")
    assert served["name"] == PACK_NAME
    assert served["enforcement_level"] is EnforcementLevel.MANDATORY
    assert [p.name for p in served["policies"]] == [p.name for p in policies()]


def test_the_pack_folder_runs_in_the_projects_environment() -> None:
    import yaml

    project = yaml.safe_load((POLICY_DIR / "PulumiPolicy.yaml").read_text())
    assert project["runtime"]["name"] == "python"
    assert (POLICY_DIR / project["runtime"]["options"]["virtualenv"]).resolve() == (
        POLICY_DIR.parent / ".venv"
    ).resolve()
    requirements = (POLICY_DIR / "requirements.txt").read_text().split("\n")
    assert "-e .." in requirements  # installs this project, whose dependencies pin pulumi-policy


# --- through the SDK's analyzer, with the engine's protobuf messages --------------------------------


def _servicer() -> Any:
    from pulumi_policy.policy import _PolicyAnalyzerServicer

    return _PolicyAnalyzerServicer(PACK_NAME, "0.1.0", policies(), EnforcementLevel.MANDATORY)


def _struct(values: dict[str, Any]) -> Any:
    from google.protobuf import struct_pb2

    message = struct_pb2.Struct()
    message.update(values)
    return message


def _request(type_token: str, name: str, props: dict[str, Any], protect: bool = True) -> Any:
    from pulumi.runtime import proto

    provider = proto.AnalyzerProviderResource(
        type="pulumi:providers:aws", urn="urn:p", name="aws",
        properties=_struct({"region": "eu-west-1", "defaultTags": TAGS}),
    )  # fmt: skip
    return proto.AnalyzeRequest(
        type=type_token, urn=f"urn:{name}", name=name, properties=_struct(props),
        options=proto.AnalyzerResourceOptions(protect=protect), provider=provider,
    )  # fmt: skip


def _diagnostics(response: Any) -> dict[str, tuple[str, int]]:
    """Policy → its messages (joined) and enforcement level."""
    found: dict[str, tuple[str, int]] = {}
    for d in response.diagnostics:
        previous = found.get(d.policyName, ("", d.enforcementLevel))[0]
        found[d.policyName] = (previous + "\n" + d.message, d.enforcementLevel)
    return found


def test_the_analyzer_reports_a_bad_resource_as_mandatory() -> None:
    from pulumi.runtime import proto

    request = _request(CLUSTER, "db", {"engine": "aurora-postgresql", "storageEncrypted": False})
    found = _diagnostics(_servicer().Analyze(request, None))
    message, level = found["rds-encrypted-with-customer-key"]
    assert "storageEncrypted is not true" in message and level == proto.MANDATORY
    assert "kmsKeyId is not set" in message


def test_an_unknown_list_during_preview_is_an_advisory_note_not_a_crash() -> None:
    """A preview of a new cluster may not know its log types yet: the policy cannot decide, and
    says so as the SDK does for any unknown; the other policies still run."""
    from pulumi.runtime import proto

    props = {
        "roleArn": "arn", "enabledClusterLogTypes": UNKNOWN_STRING_VALUE, "deletionProtection": True,
        "vpcConfig": {"endpointPublicAccess": False},
        "encryptionConfig": {"resources": ["secrets"], "provider": {"keyArn": UNKNOWN_STRING_VALUE}},
    }  # fmt: skip
    found = _diagnostics(_servicer().Analyze(_request("aws:eks/cluster:Cluster", "eks", props), None))
    message, level = found["eks-control-plane-logs"]
    assert "enabledClusterLogTypes is not known yet" in message and level == proto.ADVISORY
    assert "eks-secrets-encrypted" not in found  # an unknown key ARN is a key to come


def test_the_stack_analyzer_follows_property_dependencies() -> None:
    from pulumi.runtime import proto

    def resource(type_token: str, name: str, props: dict[str, Any], deps: dict[str, list[str]]) -> Any:
        return proto.AnalyzerResource(
            type=type_token, urn=f"urn:{name}", name=name, properties=_struct(props),
            options=proto.AnalyzerResourceOptions(protect=True),
            propertyDependencies={k: proto.AnalyzerPropertyDependencies(urns=v) for k, v in deps.items()},
        )  # fmt: skip

    vpc = resource("aws:ec2/vpc:Vpc", "vpc", {"cidrBlock": "10.0.0.0/16"}, {})
    logged = resource(
        "aws:ec2/flowLog:FlowLog", "log", {"vpcId": UNKNOWN_STRING_VALUE}, {"vpcId": ["urn:vpc"]}
    )
    orphan = resource("aws:ec2/flowLog:FlowLog", "log", {"vpcId": UNKNOWN_STRING_VALUE}, {})
    with_log = _diagnostics(
        _servicer().AnalyzeStack(proto.AnalyzeStackRequest(resources=[vpc, logged]), None)
    )
    assert "vpc-flow-logs" not in with_log
    without = _servicer().AnalyzeStack(proto.AnalyzeStackRequest(resources=[vpc, orphan]), None)
    (diagnostic,) = [d for d in without.diagnostics if d.policyName == "vpc-flow-logs"]
    assert diagnostic.urn == "urn:vpc" and "no flow log" in diagnostic.message
