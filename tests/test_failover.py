"""`meridian failover db|cache`: the runbook against moto where moto has the API
(`remove_from_global_cluster`, the describe calls, CloudWatch metrics), and against botocore's
Stubber, which checks every request and answer against the real API's shapes, where it has not
(moto 5.2: no `switchover_global_cluster`, no ElastiCache global datastores)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.stub import ANY, Stubber
from moto import mock_aws
from rich.console import Console

from infra.cli import main
from infra.drill import drill, drill_target, write_report
from infra.failover import config_after_failover, failover_cache, failover_db
from infra.stack_config import load_stack_file, namespace_values, read_stack_file, validate_config

from .conftest import PROJECT_DIR, offline, plan_of
from .test_verify import build, factory

STAGING = load_stack_file(PROJECT_DIR / "Pulumi.staging.yaml")
GLOBAL_DB = "meridian-staging-postgres"
TARGET_DB = "meridian-staging-eu-west-1-postgres"
TARGET_ARN = f"arn:aws:rds:eu-west-1:123456789012:cluster:{TARGET_DB}"
HOME_ARN = "arn:aws:rds:us-east-1:123456789012:cluster:meridian-staging-us-east-1-postgres"
QUIET = Console(quiet=True)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(key, "testing")
    with mock_aws():
        yield


def lag(ms: float) -> None:
    boto3.client("cloudwatch", region_name="eu-west-1").put_metric_data(
        Namespace="AWS/RDS",
        MetricData=[
            {
                "MetricName": "AuroraGlobalDBReplicationLag",
                "Dimensions": [{"Name": "DBClusterIdentifier", "Value": TARGET_DB}],
                "Timestamp": datetime.now(UTC) - timedelta(minutes=1),
                "Value": ms,
                "Unit": "Milliseconds",
            }
        ],
    )


def test_unplanned_detaches_and_promotes_the_secondary() -> None:
    """moto accepts `remove_from_global_cluster` across regions but keeps the member attached, so the
    detach is run against the real API's shapes; moto serves the pre-checks in the tests below."""
    rds = offline("rds")
    member = {"DBClusterIdentifier": TARGET_DB, "DBClusterArn": TARGET_ARN, "Status": "available"}
    with Stubber(rds) as stub:
        stub.add_response(
            "describe_global_clusters", global_cluster(HOME_ARN), {"GlobalClusterIdentifier": GLOBAL_DB}
        )
        stub.add_response(
            "describe_db_clusters", {"DBClusters": [member]}, {"DBClusterIdentifier": TARGET_DB}
        )
        stub.add_response(
            "remove_from_global_cluster",
            {"GlobalCluster": {"GlobalClusterIdentifier": GLOBAL_DB}},
            {"GlobalClusterIdentifier": GLOBAL_DB, "DbClusterIdentifier": TARGET_ARN},
        )
        attached = {**member, "GlobalClusterIdentifier": GLOBAL_DB, "Status": "modifying"}
        stub.add_response(
            "describe_db_clusters", {"DBClusters": [attached]}, {"DBClusterIdentifier": TARGET_DB}
        )
        stub.add_response(
            "describe_db_clusters", {"DBClusters": [member]}, {"DBClusterIdentifier": TARGET_DB}
        )
        stub.add_response(
            "describe_db_clusters", {"DBClusters": [member]}, {"DBClusterIdentifier": TARGET_DB}
        )
        report = failover_db(
            STAGING, "staging", "eu-west-1", lambda s, r: rds, QUIET, planned=False, interval=0
        )
        stub.assert_no_pending_responses()
    assert report.ok, report.error
    assert [s.outcome for s in report.steps] == ["done", "done"]
    assert report.state == [f"{TARGET_DB}: available, global database none (standalone)"]
    assert report.config_changes[0] == "meridian:writeHome: us-east-1 → eu-west-1"
    assert report.config_changes[-1] == (
        "the stack's validation accepts these changes (not checked against the plan)"
    )


def test_a_dry_run_checks_and_calls_nothing(aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    clients = factory(build(plan_of("staging")))
    changes: list[str] = []
    clients("rds", "eu-west-1").meta.events.register(
        "before-call.rds.RemoveFromGlobalCluster", lambda **kwargs: changes.append("removed")
    )
    console = Console(width=200)
    report = failover_db(STAGING, "staging", "eu-west-1", clients, console, planned=False, dry_run=True)
    assert changes == [] and report.config_changes == []
    assert [s.outcome for s in report.steps] == ["done", "dry run"]
    printed = capsys.readouterr().out
    assert f"would call rds.remove_from_global_cluster(GlobalClusterIdentifier='{GLOBAL_DB}'" in printed


def test_the_writer_itself_is_not_a_target(aws: None) -> None:
    clients = factory(build(plan_of("staging")))
    report = failover_db(
        STAGING, "staging", "us-east-1", clients, QUIET, planned=False, interval=0, timeout=5
    )
    assert not report.ok and "already the writer" in str(report.error)
    assert [s.outcome.split(":")[0] for s in report.steps] == ["failed"]  # nothing was called


@pytest.mark.parametrize(
    ("measured", "fragment"), [(None, "no AuroraGlobalDBReplicationLag"), (5_000.0, "5000 ms")]
)
def test_a_planned_switchover_needs_a_small_reported_lag(
    aws: None, measured: float | None, fragment: str
) -> None:
    clients = factory(build(plan_of("staging")))
    if measured is not None:
        lag(measured)
    report = failover_db(STAGING, "staging", "eu-west-1", clients, QUIET, interval=0, timeout=5)
    assert not report.ok and fragment in str(report.error)
    assert [s.outcome.split(":")[0] for s in report.steps] == ["done", "failed"]


def global_cluster(writer: str) -> dict[str, Any]:
    return {
        "GlobalClusters": [
            {
                "GlobalClusterIdentifier": GLOBAL_DB,
                "Status": "available",
                "GlobalClusterMembers": [
                    {"DBClusterArn": HOME_ARN, "IsWriter": writer == HOME_ARN},
                    {"DBClusterArn": TARGET_ARN, "IsWriter": writer == TARGET_ARN},
                ],
            }
        ]
    }


HOME_DB = "meridian-staging-us-east-1-postgres"


def rds_phase(
    stub: Stubber,
    to: str,
    to_arn: str,
    from_arn: str,
    switchover_error: str | None = None,
    polls_switching: int = 0,
) -> None:
    """A planned switchover of the database to *to* (cluster *to_arn*), as the runbook asks: the
    health check, the call (or *switchover_error*), *polls_switching* polls that still see the old
    writer, the poll that sees the new one, and the state read back."""
    ask = {"GlobalClusterIdentifier": GLOBAL_DB}
    cluster = {"DBClusters": [{"DBClusterIdentifier": to, "DBClusterArn": to_arn, "Status": "available"}]}
    stub.add_response("describe_global_clusters", global_cluster(from_arn), ask)
    stub.add_response("describe_db_clusters", cluster, {"DBClusterIdentifier": to})
    call = {"GlobalClusterIdentifier": GLOBAL_DB, "TargetDbClusterIdentifier": to_arn}
    if switchover_error:
        stub.add_client_error("switchover_global_cluster", switchover_error, "refused", expected_params=call)
        return
    stub.add_response(
        "switchover_global_cluster", {"GlobalCluster": {"GlobalClusterIdentifier": GLOBAL_DB}}, call
    )
    for _ in range(polls_switching):
        stub.add_response("describe_global_clusters", global_cluster(from_arn), ask)
    stub.add_response("describe_global_clusters", global_cluster(to_arn), ask)
    stub.add_response("describe_db_clusters", cluster, {"DBClusterIdentifier": to})


def cache_phase(stub: Stubber, region: str, before: str, fail: bool = False) -> None:
    stub.add_response("describe_global_replication_groups", datastore(before), {"ShowMemberInfo": True})
    call = {
        "GlobalReplicationGroupId": "ldgnf-meridian-staging-shared",
        "PrimaryRegion": region,
        "PrimaryReplicationGroupId": f"meridian-staging-{region}-shared",
    }
    if fail:
        stub.add_client_error(
            "failover_global_replication_group",
            "InvalidGlobalReplicationGroupState",
            "busy",
            expected_params=call,
        )
        return
    stub.add_response("failover_global_replication_group", {}, call)
    stub.add_response("describe_global_replication_groups", datastore(region), {"ShowMemberInfo": True})


def stubbed_rds(switchover_error: str | None = None) -> tuple[Any, Stubber]:
    """eu-west-1's client for a switchover to it, one poll still switching before it is done."""
    rds = offline("rds")
    stub = Stubber(rds)
    rds_phase(stub, TARGET_DB, TARGET_ARN, HOME_ARN, switchover_error=switchover_error, polls_switching=1)
    return rds, stub


def lag_answer(stub: Stubber, cluster: str, ms: float = 80.0) -> None:
    """The lag as CloudWatch answers it: the dimension sets that include the cluster, then each read."""
    metric = {"Namespace": "AWS/RDS", "MetricName": "AuroraGlobalDBReplicationLag"}
    own = [{"Name": "DBClusterIdentifier", "Value": cluster}]
    with_source = [*own, {"Name": "SourceRegion", "Value": "us-east-1"}]
    stub.add_response(
        "list_metrics",
        {"Metrics": [{**metric, "Dimensions": own}, {**metric, "Dimensions": with_source}]},
        {**metric, "Dimensions": own},
    )
    for dimensions, value in ((own, ms / 2), (with_source, ms)):
        stub.add_response(
            "get_metric_statistics",
            {"Datapoints": [{"Maximum": value, "Timestamp": datetime.now(UTC)}]},
            {
                **metric,
                "Dimensions": dimensions,
                "StartTime": ANY,
                "EndTime": ANY,
                "Period": 60,
                "Statistics": ["Maximum"],
            },
        )


def metrics(ms: float) -> Any:
    cloudwatch = offline("cloudwatch")
    stub = Stubber(cloudwatch)
    lag_answer(stub, TARGET_DB, ms)
    stub.activate()
    return cloudwatch


def test_a_planned_switchover_against_the_real_api_shapes() -> None:
    rds, stub = stubbed_rds()
    cloudwatch = metrics(120.0)
    with stub:
        report = failover_db(
            STAGING, "staging", "eu-west-1", lambda s, r: rds if s == "rds" else cloudwatch, QUIET, interval=0
        )
        stub.assert_no_pending_responses()
    assert report.ok, report.error
    assert [s.description for s in report.steps] == [
        f"eu-west-1 is a healthy secondary of {GLOBAL_DB}",
        "replication lag",
        "switch the writer over to eu-west-1",
    ]


def test_a_call_refused_halfway_is_reported_with_the_steps_that_ran() -> None:
    rds, stub = stubbed_rds(switchover_error="InvalidGlobalClusterStateFault")
    cloudwatch = metrics(120.0)
    with stub:
        report = failover_db(
            STAGING, "staging", "eu-west-1", lambda s, r: rds if s == "rds" else cloudwatch, QUIET, interval=0
        )
    assert not report.ok and "InvalidGlobalClusterStateFault" in str(report.error)
    assert [s.outcome.split(":")[0] for s in report.steps] == ["done", "done", "failed"]
    assert report.state == []  # nothing read back as changed


def test_waiting_gives_up_after_the_timeout() -> None:
    rds, stub = stubbed_rds()
    cloudwatch = metrics(10.0)
    with stub:
        report = failover_db(
            STAGING,
            "staging",
            "eu-west-1",
            lambda s, r: rds if s == "rds" else cloudwatch,
            QUIET,
            interval=0,
            timeout=-1,
        )
    assert "not finished after" in str(report.error) and "still working on it" in str(report.error)


def datastore(primary: str) -> dict[str, Any]:
    members = [
        {"ReplicationGroupId": "meridian-staging-us-east-1-shared", "ReplicationGroupRegion": "us-east-1"},
        {"ReplicationGroupId": "meridian-staging-eu-west-1-shared", "ReplicationGroupRegion": "eu-west-1"},
    ]
    for m in members:
        m["Role"] = "PRIMARY" if m["ReplicationGroupRegion"] == primary else "SECONDARY"
    return {
        "GlobalReplicationGroups": [
            {
                "GlobalReplicationGroupId": "ldgnf-meridian-staging-shared",
                "Status": "available",
                "Members": members,
            }
        ]
    }


def test_the_cache_fails_over_against_the_real_api_shapes() -> None:
    cache = offline("elasticache")
    with Stubber(cache) as stub:
        cache_phase(stub, "eu-west-1", before="us-east-1")
        report = failover_cache(STAGING, "staging", "eu-west-1", lambda s, r: cache, QUIET, interval=0)
        stub.assert_no_pending_responses()
    assert report.ok, report.error
    assert report.steps[-1].description == "store shared: make meridian-staging-eu-west-1-shared the primary"


def test_the_cache_unplanned_detaches_the_secondary() -> None:
    cache = offline("elasticache")
    with Stubber(cache) as stub:
        stub.add_response(
            "describe_global_replication_groups", datastore("us-east-1"), {"ShowMemberInfo": True}
        )
        stub.add_response(
            "disassociate_global_replication_group",
            {},
            {
                "GlobalReplicationGroupId": "ldgnf-meridian-staging-shared",
                "ReplicationGroupId": "meridian-staging-eu-west-1-shared",
                "ReplicationGroupRegion": "eu-west-1",
            },
        )
        stub.add_response(
            "describe_replication_groups",
            {
                "ReplicationGroups": [
                    {"ReplicationGroupId": "meridian-staging-eu-west-1-shared", "Status": "available"}
                ]
            },
            {"ReplicationGroupId": "meridian-staging-eu-west-1-shared"},
        )
        report = failover_cache(
            STAGING, "staging", "eu-west-1", lambda s, r: cache, QUIET, planned=False, interval=0
        )
    assert report.ok, report.error


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["db", "--to", "ap-south-1"], "ap-south-1 is not a region of staging's global database"),
        (["cache", "--to", "ap-south-1"], "ap-south-1 holds no global datastore copy of staging's stores"),
        (["cache", "--to", "eu-west-1", "--store", "queues"], "store queues has no global copy in eu-west-1"),
    ],
)
def test_a_target_that_is_not_a_secondary_stops_before_any_call(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["failover", *args, "--stack", "staging", "--project-dir", str(PROJECT_DIR)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_without_credentials_the_run_stops_at_the_first_check(
    no_aws_credentials: None, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["failover", "db", "--to", "eu-west-1", "--stack", "staging", "--project-dir", str(PROJECT_DIR)]
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert "no AWS credentials" in out and "Nothing was deleted" in out


@pytest.mark.parametrize(
    ("stack", "target"), [("prod", "us-west-1"), ("prod", "eu-west-1"), ("staging", "eu-west-1")]
)
def test_the_stack_accepts_the_suggested_change(stack: str, target: str) -> None:
    values = namespace_values(read_stack_file(PROJECT_DIR / f"Pulumi.{stack}.yaml"))
    after, edits = config_after_failover(values, target)
    config = validate_config(after, f"Pulumi.{stack}.yaml")
    assert config.write_home == target and edits[0].endswith(f"→ {target}")
    roles = {r.name: r.role.value for r in config.regions}
    assert roles[target] == "primary"
    stored = yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text())["config"][
        "meridian:writeHome"
    ]
    assert stored == "us-east-1"  # the file itself is left for the operator to change


def test_a_planned_cache_failover_waits_for_an_available_datastore() -> None:
    cache = offline("elasticache")
    busy = datastore("us-east-1")
    busy["GlobalReplicationGroups"][0]["Status"] = "modifying"
    with Stubber(cache) as stub:
        stub.add_response("describe_global_replication_groups", busy, {"ShowMemberInfo": True})
        report = failover_cache(STAGING, "staging", "eu-west-1", lambda s, r: cache, QUIET, interval=0)
    assert "ldgnf-meridian-staging-shared is modifying, not available" in str(report.error)
    assert [s.outcome.split(":")[0] for s in report.steps] == ["failed"]


def test_the_current_primary_is_refused_live() -> None:
    """us-east-1 is the store's home in the stack file, so it may be a target (failing back); the live
    pre-check refuses it while it is still the primary."""
    cache = offline("elasticache")
    with Stubber(cache) as stub:
        stub.add_response(
            "describe_global_replication_groups", datastore("us-east-1"), {"ShowMemberInfo": True}
        )
        report = failover_cache(STAGING, "staging", "us-east-1", lambda s, r: cache, QUIET, interval=0)
    assert "meridian-staging-us-east-1-shared is primary in ldgnf-meridian-staging-shared" in str(
        report.error
    )


# --- the drill ----------------------------------------------------------------------------------


def drill_world(fail_back_cache: bool = False) -> tuple[Any, list[Stubber]]:
    """Stubbed clients for staging's drill: eu-west-1 and back to us-east-1."""
    made: dict[tuple[str, str], Any] = {}
    stubs: dict[tuple[str, str], Stubber] = {}
    for service in ("rds", "cloudwatch", "elasticache"):
        for region in ("eu-west-1", "us-east-1"):
            made[(service, region)] = offline(service, region)
            stubs[(service, region)] = Stubber(made[(service, region)])
    rds_phase(stubs[("rds", "eu-west-1")], TARGET_DB, TARGET_ARN, HOME_ARN)
    lag_answer(stubs[("cloudwatch", "eu-west-1")], TARGET_DB)
    cache_phase(stubs[("elasticache", "eu-west-1")], "eu-west-1", "us-east-1")
    rds_phase(stubs[("rds", "us-east-1")], HOME_DB, HOME_ARN, TARGET_ARN)
    lag_answer(stubs[("cloudwatch", "us-east-1")], HOME_DB)
    cache_phase(stubs[("elasticache", "us-east-1")], "us-east-1", "eu-west-1", fail=fail_back_cache)
    for stub in stubs.values():
        stub.activate()
    return (lambda service, region: made[(service, region)]), list(stubs.values())


def test_the_drill_fails_over_and_back_and_writes_its_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clients, stubs = drill_world()
    report = drill(STAGING, "staging", clients, QUIET, interval=0)
    for stub in stubs:
        stub.assert_no_pending_responses()
    assert report.ok and (report.home, report.target) == ("us-east-1", "eu-west-1")
    assert [phase for phase, _ in report.phases] == [
        "database → eu-west-1",
        "caches → eu-west-1",
        "database → us-east-1",
        "caches → us-east-1",
    ]
    text = write_report(report, tmp_path / "drill.md").read_text()
    assert "**every phase succeeded**" in text and "| database → eu-west-1 | replication lag | done |" in text
    assert text.count("| caches → ") == 2 * 2 + 2  # two phases of two steps, and their recovery rows


def test_a_drill_that_fails_halfway_says_where_it_stopped(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clients, _ = drill_world(fail_back_cache=True)
    monkeypatch.setattr("infra.cli.aws_clients", lambda: clients)
    out = tmp_path / "drill.md"
    assert main(["drill", "--stack", "staging", "--project-dir", str(PROJECT_DIR), "--report", str(out)]) == 1
    text = out.read_text()
    assert "**stopped**" in text and "InvalidGlobalReplicationGroupState" in text
    assert (
        "| caches → us-east-1 | store shared: make meridian-staging-us-east-1-shared the primary | failed"
        in text
    )


def test_prod_is_not_drilled(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drill", "--stack", "prod", "--project-dir", str(PROJECT_DIR)]) == 2
    assert "drills run on staging" in capsys.readouterr().err


def test_the_drill_target_is_where_the_write_home_fails_over() -> None:
    assert drill_target(STAGING, "staging") == "eu-west-1"
    assert drill_target(load_stack_file(PROJECT_DIR / "Pulumi.prod.yaml"), "prod") == "us-west-1"


def test_the_suggested_change_is_refused_when_it_would_replace_stateful_resources() -> None:
    """Today the global database and datastore are named after the writer's region, so moving
    staging's write home to eu-west-1 would re-create them: the report must say so, not accept it."""
    from infra.failover import _changes

    changes = _changes(STAGING, "staging", "eu-west-1", PROJECT_DIR)
    verdict = changes[-1]
    assert verdict.startswith("NOT SAFE TO APPLY") and "removes GlobalCluster" in verdict
    assert "pulumi refresh" in verdict


@pytest.mark.parametrize(("status", "ok"), [("connected", True), ("pending-resync", False)])
def test_a_missing_lag_metric_is_accepted_only_for_a_connected_member(status: str, ok: bool) -> None:
    rds, cloudwatch = offline("rds"), offline("cloudwatch")
    ask = {"GlobalClusterIdentifier": GLOBAL_DB}
    cluster = {
        "DBClusters": [{"DBClusterIdentifier": TARGET_DB, "DBClusterArn": TARGET_ARN, "Status": "available"}]
    }
    members = global_cluster(HOME_ARN)
    members["GlobalClusters"][0]["GlobalClusterMembers"][1]["SynchronizationStatus"] = status
    metric = {"Namespace": "AWS/RDS", "MetricName": "AuroraGlobalDBReplicationLag"}
    with Stubber(rds) as stub, Stubber(cloudwatch) as metrics_stub:
        stub.add_response("describe_global_clusters", members, ask)
        stub.add_response("describe_db_clusters", cluster, {"DBClusterIdentifier": TARGET_DB})
        metrics_stub.add_response(
            "list_metrics",
            {"Metrics": []},
            {**metric, "Dimensions": [{"Name": "DBClusterIdentifier", "Value": TARGET_DB}]},
        )
        stub.add_response("describe_global_clusters", members, ask)
        report = failover_db(
            STAGING,
            "staging",
            "eu-west-1",
            lambda s, r: rds if s == "rds" else cloudwatch,
            QUIET,
            interval=0,
            dry_run=True,
        )
    assert report.ok is ok
    assert report.steps[1].outcome == ("done" if ok else f"failed: {report.error}")
    if not ok:
        assert "synchronization status is pending-resync" in str(report.error)
