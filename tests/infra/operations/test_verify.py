"""`meridian verify`: the live account (moto's, in process) against what the offline plan declares.

moto 5.2 has no ElastiCache global datastores, so the world built here adds the field AWS returns
for a member (`GlobalReplicationGroupInfo`) to DescribeReplicationGroups' answer, through botocore's
own `after-call` event; the global-role check is also run against botocore's Stubber, which
validates every answer against the real API's shapes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from botocore.stub import Stubber

from infra.cli import main
from infra.config.loading import namespace_values, read_stack_file
from infra.operations.failover import config_after_failover
from infra.operations.verify import Expectation, VerifyError, aws_clients, expectations, verify
from infra.plan.run import plan_after
from tests.support import ACCOUNT, PLANS, PROJECT_DIR, build, by_kind, factory, offline, plan_of


def test_the_expectations_are_what_the_plan_declares(global_stores_project: Path) -> None:
    plan = plan_of("staging")
    found = {(e.kind, e.region): e for e in expectations(plan)}
    assert len(found) == 8  # a VPC, a cluster, a database and a store in each of two regions
    assert found[("VPC", "eu-west-1")].checks == {"exists": True, "cidr": "10.64.16.0/20"}
    assert found[("EKS cluster", "us-east-1")].checks["public_endpoint"] is False
    assert found[("Aurora cluster", "us-east-1")].checks["writer"] is True
    assert found[("Aurora cluster", "eu-west-1")].checks["writer"] is False
    assert found[("Aurora cluster", "eu-west-1")].checks["backup_retention_days"] == 7
    assert {found[("Aurora cluster", r)].checks["write_forwarding"] for r in ("us-east-1", "eu-west-1")} == {
        True
    }
    # Every region writes its own store: none is in a global datastore.
    assert {found[("ElastiCache group", r)].checks["global_role"] for r in ("us-east-1", "eu-west-1")} == {
        "none"
    }
    replicated = {(e.kind, e.region): e for e in expectations(PLANS(global_stores_project, "staging"))}
    assert replicated[("ElastiCache group", "us-east-1")].checks["global_role"] == "primary"
    assert replicated[("ElastiCache group", "eu-west-1")].checks["global_role"] == "secondary"
    assert replicated[("ElastiCache group", "us-west-2")].checks["global_role"] == "none"
    prod = {(e.kind, e.name): e for e in expectations(plan_of("prod"))}
    assert prod[("Aurora cluster", "meridian-prod-us-east-1-postgres")].checks["deletion_protection"] is True
    assert prod[("ElastiCache group", "meridian-prod-eu-west-1-cache")].checks["global_role"] == "none"


def expected_after_failover(
    stack: str, target: str, project: Path = PROJECT_DIR
) -> dict[tuple[str, str], dict[str, object]]:
    """(kind, name) → checks, for the stack file as `meridian failover` suggests it after *target*."""
    values = namespace_values(read_stack_file(project / f"Pulumi.{stack}.yaml"))
    after, _ = config_after_failover(values, target)
    return {(e.kind, e.name): e.checks for e in expectations(plan_after(project, stack, after))}


def test_after_a_failover_the_new_write_home_holds_the_writer_and_primaries(
    global_stores_project: Path,
) -> None:
    found = expected_after_failover("staging", "eu-west-1", global_stores_project)
    assert found[("Aurora cluster", "meridian-staging-eu-west-1-postgres")]["writer"] is True
    assert found[("Aurora cluster", "meridian-staging-us-east-1-postgres")]["writer"] is False
    assert found[("ElastiCache group", "meridian-staging-eu-west-1-shared")]["global_role"] == "primary"
    assert found[("ElastiCache group", "meridian-staging-us-east-1-shared")]["global_role"] == "secondary"


def test_a_stack_file_that_moved_the_write_home_alone_is_drift(aws: None) -> None:
    """The live account still writes in us-east-1; a stack file that says eu-west-1 disagrees on
    exactly the writer, and on us-east-1's forwarding, which a secondary would report in effect
    (every store is regional: no datastore role moves)."""
    clients = factory(build(plan_of("staging")))
    values = namespace_values(read_stack_file(PROJECT_DIR / "Pulumi.staging.yaml"))
    after, _ = config_after_failover(values, "eu-west-1")
    findings = verify(expectations(plan_after(PROJECT_DIR, "staging", after)), clients)
    drifted = sorted((f.check, f.region) for f in findings if not f.ok)
    assert drifted == [("forwarding_active", "us-east-1"), ("writer", "eu-west-1"), ("writer", "us-east-1")]


def test_a_conforming_account_has_no_drift(aws: None) -> None:
    plan = plan_of("staging")
    findings = verify(expectations(plan), factory(build(plan)))
    assert len(findings) == 8 + sum(len(e.checks) - 1 for e in expectations(plan))
    assert [f for f in findings if not f.ok] == []


@pytest.mark.parametrize(
    ("drift", "kind", "check", "actual"),
    [
        ("vpc-cidr", "VPC", "cidr", "10.99.0.0/16"),
        ("eks-public", "EKS cluster", "public_endpoint", True),
        ("eks-logs", "EKS cluster", "log_types", ["api", "audit"]),
        ("backups", "Aurora cluster", "backup_retention_days", 1),
        ("aurora-missing", "Aurora cluster", "exists", "missing"),
        ("forwarding-stuck", "Aurora cluster", "forwarding_active", False),
        ("multi-az", "ElastiCache group", "multi_az", False),
        ("tls", "ElastiCache group", "tls", False),
        ("unknown-key", "ElastiCache group", "customer_key", False),
    ],
)
def test_each_drift_is_reported(aws: None, drift: str, kind: str, check: str, actual: object) -> None:
    plan = plan_of("staging")
    drifted = [f for f in verify(expectations(plan), factory(build(plan, drift))) if not f.ok]
    assert {(f.kind, f.check) for f in drifted} == {(kind, check)}
    assert drifted[0].actual == actual


def test_forwarding_turned_off_is_drift_on_every_member(aws: None) -> None:
    """Off in the console: every member stops asking for it, and the secondary stops forwarding."""
    plan = plan_of("staging")
    drifted = [f for f in verify(expectations(plan), factory(build(plan, "no-forwarding"))) if not f.ok]
    assert sorted((f.region, f.check) for f in drifted) == [
        ("eu-west-1", "forwarding_active"),
        ("eu-west-1", "write_forwarding"),
        ("us-east-1", "write_forwarding"),
    ]


def test_the_command_prints_the_drift_and_exits_1(
    aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = plan_of("staging")
    monkeypatch.setenv("COLUMNS", "200")  # one line a row
    monkeypatch.setattr("infra.cli.aws_clients", lambda: factory(build(plan, "backups")))
    out = tmp_path / "verify.json"
    assert main(["verify", "--stack", "staging", "--project-dir", str(PROJECT_DIR), "--json", str(out)]) == 1
    report = json.loads(out.read_text())
    assert report["drift"] == 2  # each region's cluster keeps 1 day instead of 7
    text = capsys.readouterr().out
    assert "backup retention days: 1 (declared 7)" in text and "2 drifted" in text


def test_a_conforming_stack_exits_0(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = plan_of("staging")
    monkeypatch.setattr("infra.cli.aws_clients", lambda: factory(build(plan)))
    assert main(["verify", "--stack", "staging", "--project-dir", str(PROJECT_DIR)]) == 0


def test_without_credentials_it_says_how_to_sign_in(
    no_aws_credentials: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["verify", "--stack", "staging", "--project-dir", str(PROJECT_DIR)]) == 2
    err = capsys.readouterr().err
    assert "no AWS credentials" in err and "Traceback" not in err


def test_access_denied_is_a_clear_error() -> None:
    ec2 = offline("ec2", "us-east-1")
    with Stubber(ec2) as stub:
        stub.add_client_error("describe_vpcs", "UnauthorizedOperation", "You are not authorized")
        with pytest.raises(VerifyError, match=r"AWS refused DescribeVpcs \(UnauthorizedOperation\)"):
            verify([Expectation("us-east-1", "VPC", "v", {"exists": True})], lambda service, region: ec2)


@pytest.mark.parametrize(
    ("reported", "manager", "drifted"),
    [
        ("SECONDARY", "CUSTOMER", []),
        ("PRIMARY", "CUSTOMER", ["global_role"]),
        ("SECONDARY", "AWS", ["customer_key"]),
    ],
)
def test_the_global_role_and_key_against_the_real_api_shapes(
    reported: str, manager: str, drifted: list[str], global_stores_project: Path
) -> None:
    """AWS answers with a key ARN even for its own managed key; only DescribeKey tells them apart."""
    cache, kms = offline("elasticache"), offline("kms")
    arn = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"
    group = {
        "ReplicationGroupId": "meridian-staging-eu-west-1-shared",
        "AtRestEncryptionEnabled": True,
        "TransitEncryptionEnabled": True,
        "KmsKeyId": arn,
        "MultiAZ": "enabled",
        "AutomaticFailover": "enabled",
        "SnapshotRetentionLimit": 1,
        "GlobalReplicationGroupInfo": {
            "GlobalReplicationGroupId": "ldgnf-meridian-staging-shared",
            "GlobalReplicationGroupMemberRole": reported,
        },
    }
    replicated = PLANS(global_stores_project, "staging")
    expected = next(e for e in by_kind(replicated, "ElastiCache group") if e.region == "eu-west-1")
    with Stubber(cache) as stub, Stubber(kms) as keys:
        stub.add_response(
            "describe_replication_groups",
            {"ReplicationGroups": [group]},
            {"ReplicationGroupId": expected.name},
        )
        keys.add_response(
            "describe_key", {"KeyMetadata": {"KeyId": "k", "Arn": arn, "KeyManager": manager}}, {"KeyId": arn}
        )
        findings = verify([expected], lambda service, region: cache if service == "elasticache" else kms)
    assert [f.check for f in findings if not f.ok] == drifted


def test_clients_retry_throttling_adaptively(credentials: None) -> None:
    client = aws_clients()("rds", "eu-west-1")
    assert client.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 10}
    assert client.meta.region_name == "eu-west-1"


@pytest.mark.slow
def test_a_store_without_a_copy_in_the_write_home_is_expected_primary_in_the_anchor(
    global_stores_project: Path,
) -> None:
    """prod's database fails over to eu-west-1, where no store has a copy: sessions and queues keep
    their primary in us-east-1 (the anchor); the regional cache stays outside any datastore."""
    found = expected_after_failover("prod", "ap-southeast-1", global_stores_project)
    assert found[("Aurora cluster", "meridian-prod-ap-southeast-1-postgres")]["writer"] is True
    assert found[("Aurora cluster", "meridian-prod-us-east-1-postgres")]["writer"] is False
    assert found[("ElastiCache group", "meridian-prod-us-east-1-sessions")]["global_role"] == "primary"
    assert found[("ElastiCache group", "meridian-prod-us-west-1-sessions")]["global_role"] == "secondary"
    assert found[("ElastiCache group", "meridian-prod-eu-west-1-cache")]["global_role"] == "none"
