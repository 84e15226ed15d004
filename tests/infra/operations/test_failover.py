"""`meridian failover db|cache`: the runbook against moto where moto has the API
(`remove_from_global_cluster`, the describe calls, CloudWatch metrics), and against botocore's
Stubber, which checks every request and answer against the real API's shapes, where it has not
(moto 5.2: no `switchover_global_cluster`, no ElastiCache global datastores)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.exceptions import ReadTimeoutError
from botocore.stub import ANY, Stubber
from rich.console import Console

from infra.cli import main
from infra.config.loading import load_stack_file, namespace_values, read_stack_file, validate_config
from infra.operations.drill import drill, drill_target, write_report
from infra.operations.failover import (
    FailoverError,
    _changes,
    config_after_failover,
    failover_cache,
    failover_db,
    render_failover,
    stateful_changes,
)
from infra.plan.diff import diff_plans
from infra.plan.run import plan_after
from tests.support import PROJECT_DIR, build, factory, global_stores_config, offline, plan_of

STAGING = load_stack_file(PROJECT_DIR / "Pulumi.staging.yaml")
#: Staging with its store replicated to eu-west-1 as it was (a standby then, out of the steering):
#: the cache runbook's tests need a global datastore, and neither stack file has one now.
STAGING_GLOBAL = global_stores_config("staging")
GLOBAL_DB = "meridian-staging-postgres"
TARGET_DB = "meridian-staging-eu-west-1-postgres"
TARGET_ARN = f"arn:aws:rds:eu-west-1:123456789012:cluster:{TARGET_DB}"
HOME_ARN = "arn:aws:rds:us-east-1:123456789012:cluster:meridian-staging-us-east-1-postgres"
QUIET = Console(quiet=True)
PROD_SESSIONS = ("us-east-1", "us-west-1", "eu-central-1")  # the prod sessions store's datastore


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
    assert report.config_changes[1:4] == [
        "writes fail in us-east-1 and eu-west-1 until their API reads the new meridian-endpoints: "
        "apply this change (`pulumi up`; with a region down, `pulumi up --target` the two regions' "
        "`meridian-endpoints` ConfigMaps), then restart the API in both "
        "(`kubectl -n api rollout restart deployment/api`)",
        f"{TARGET_DB} now writes outside the global database {GLOBAL_DB}, which still holds the old "
        "writer: re-join once its region is back (docs/operations.md, Re-joining after an unplanned "
        "failover)",
        f"AWS Backup snapshots the anchor's cluster (us-east-1), not {TARGET_DB}: take manual snapshots "
        "of it (`aws rds create-db-cluster-snapshot`) until the re-join",
    ]
    assert report.config_changes[-1] == (
        "the stack's validation accepts these changes (not checked against the plan)"
    )


def test_unplanned_managed_fails_over_within_the_global_database(capsys: pytest.CaptureFixture[str]) -> None:
    """AWS's own failover with data loss: no lag check (the writer's region is down), and the target
    becomes the writer of the same global database, so there is nothing to re-join."""
    rds = offline("rds")
    ask = {"GlobalClusterIdentifier": GLOBAL_DB}
    cluster = {
        "DBClusters": [{"DBClusterIdentifier": TARGET_DB, "DBClusterArn": TARGET_ARN, "Status": "available"}]
    }
    with Stubber(rds) as stub:
        stub.add_response("describe_global_clusters", global_cluster(HOME_ARN), ask)
        stub.add_response("describe_db_clusters", cluster, {"DBClusterIdentifier": TARGET_DB})
        stub.add_response(
            "failover_global_cluster",
            {"GlobalCluster": {"GlobalClusterIdentifier": GLOBAL_DB}},
            {
                "GlobalClusterIdentifier": GLOBAL_DB,
                "TargetDbClusterIdentifier": TARGET_ARN,
                "AllowDataLoss": True,
            },
        )
        stub.add_response("describe_global_clusters", global_cluster(TARGET_ARN), ask)
        stub.add_response("describe_db_clusters", cluster, {"DBClusterIdentifier": TARGET_DB})
        report = failover_db(
            STAGING,
            "staging",
            "eu-west-1",
            lambda s, r: rds,
            Console(width=200),
            planned=False,
            managed=True,
            interval=0,
        )
        stub.assert_no_pending_responses()
    assert report.ok, report.error
    assert report.method == "managed failover" and [s.outcome for s in report.steps] == ["done", "done"]
    assert report.config_changes[0] == "meridian:writeHome: us-east-1 → eu-west-1"
    assert not any("re-join" in change for change in report.config_changes)
    render_failover(report, Console(width=200))
    assert "Database managed failover to eu-west-1" in capsys.readouterr().out


@pytest.mark.parametrize("what", ["db", "cache"])
def test_managed_is_only_for_an_unplanned_database_failover(
    what: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--managed` alone (a planned db failover) and for the cache (which has no such call)."""
    argv = [
        "failover",
        what,
        "--to",
        "eu-west-1",
        "--stack",
        "staging",
        "--managed",
        "--project-dir",
        str(PROJECT_DIR),
    ]
    assert main([*argv, "--unplanned"] if what == "cache" else argv) == 2
    assert "--managed is for `failover db --unplanned`" in capsys.readouterr().err


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
    retries: int = 0,
) -> None:
    """A planned switchover of the database to *to* (cluster *to_arn*), as the runbook asks: the
    health check, the call (or *switchover_error*, which ends the phase unless it came after
    *retries* retries and the first attempt is under way; -n: after n retries, nothing under way),
    *polls_switching* polls that still see the old writer, the poll that sees the new one, and the
    state read back."""
    ask = {"GlobalClusterIdentifier": GLOBAL_DB}
    cluster = {"DBClusters": [{"DBClusterIdentifier": to, "DBClusterArn": to_arn, "Status": "available"}]}
    stub.add_response("describe_global_clusters", global_cluster(from_arn), ask)
    stub.add_response("describe_db_clusters", cluster, {"DBClusterIdentifier": to})
    call = {"GlobalClusterIdentifier": GLOBAL_DB, "TargetDbClusterIdentifier": to_arn}
    if switchover_error:
        stub.add_client_error(
            "switchover_global_cluster",
            switchover_error,
            "refused",
            expected_params=call,
            response_meta={"RetryAttempts": abs(retries)},
        )
        if not retries:
            return
        # The runbook asks whether the first attempt is under way: not done yet, but AWS is
        # failing over to the target (or, with retries < 0 here, is not: the refusal stands).
        stub.add_response("describe_global_clusters", global_cluster(from_arn), ask)
        moving = global_cluster(from_arn)
        if retries > 0:
            moving["GlobalClusters"][0]["FailoverState"] = {
                "Status": "failing-over",
                "ToDbClusterArn": to_arn,
            }
        stub.add_response("describe_global_clusters", moving, ask)
        if retries < 0:
            return
    else:
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


def stubbed_rds(switchover_error: str | None = None, retries: int = 0) -> tuple[Any, Stubber]:
    """eu-west-1's client for a switchover to it, one poll still switching before it is done."""
    rds = offline("rds")
    stub = Stubber(rds)
    rds_phase(
        stub,
        TARGET_DB,
        TARGET_ARN,
        HOME_ARN,
        switchover_error=switchover_error,
        polls_switching=1,
        retries=retries,
    )
    return rds, stub


def switchover(
    switchover_error: str | None = None,
    retries: int = 0,
    wrap: Callable[[Any], Any] = lambda client: client,
    **options: Any,
) -> tuple[Any, Stubber]:
    """A planned switchover of staging's database to eu-west-1 against stubbed answers (lag 120 ms;
    *wrap* may replace some of the client's calls): its report, and the stub (to check that every
    answer was asked for)."""
    client, stub = stubbed_rds(switchover_error, retries)
    cloudwatch = metrics(120.0)
    with stub:
        report = failover_db(
            STAGING,
            "staging",
            "eu-west-1",
            lambda s, r: wrap(client) if s == "rds" else cloudwatch,
            QUIET,
            interval=0,
            **options,
        )
    return report, stub


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
    report, stub = switchover()
    stub.assert_no_pending_responses()
    assert report.ok, report.error
    assert [s.description for s in report.steps] == [
        f"eu-west-1 is a healthy secondary of {GLOBAL_DB}",
        "replication lag",
        "switch the writer over to eu-west-1",
    ]


def test_a_call_refused_halfway_is_reported_with_the_steps_that_ran() -> None:
    report, _ = switchover(switchover_error="InvalidGlobalClusterStateFault")
    assert not report.ok and "InvalidGlobalClusterStateFault" in str(report.error)
    assert [s.outcome.split(":")[0] for s in report.steps] == ["done", "done", "failed"]
    assert report.state == []  # nothing read back as changed


def test_a_retry_refused_after_a_lost_answer_waits_for_the_topology() -> None:
    """botocore retried the switchover (its first answer timed out) and AWS refused the retry because
    the first attempt was already switching: the new writer, not the refusal, decides."""
    report, stub = switchover(switchover_error="InvalidGlobalClusterStateFault", retries=2)
    stub.assert_no_pending_responses()
    assert report.ok, report.error
    assert [s.outcome for s in report.steps] == ["done", "done", "done"]


def test_a_refused_retry_with_nothing_under_way_is_a_refusal() -> None:
    report, stub = switchover(switchover_error="InvalidGlobalClusterStateFault", retries=-2)
    stub.assert_no_pending_responses()
    assert "switch the writer over to eu-west-1 failed" in str(report.error)
    assert "InvalidGlobalClusterStateFault" in str(report.error)


def test_throttling_that_outlasts_the_retries_is_a_refusal_at_once() -> None:
    """Never accepted, so nothing to wait for: no probe of the topology, the refusal is the answer."""
    report, _ = switchover(switchover_error="Throttling", retries=9)
    assert (
        "Throttling" in str(report.error) and [s.outcome.split(":")[0] for s in report.steps][-1] == "failed"
    )


def test_no_answer_after_the_retries_leaves_the_state_unknown() -> None:
    class Unanswered:
        """eu-west-1's client, whose switchover never answers (every retry timed out)."""

        def __init__(self, client: Any) -> None:
            self.client = client

        def __getattr__(self, name: str) -> Any:
            return getattr(self.client, name)

        def switchover_global_cluster(self, **_: Any) -> Any:
            raise ReadTimeoutError(endpoint_url="https://rds.eu-west-1.amazonaws.com/")

    report, _ = switchover(wrap=Unanswered)
    assert "no answer from AWS after the client's retries" in str(report.error)
    assert "may have been accepted" in str(report.error)


def test_waiting_gives_up_after_the_timeout() -> None:
    report, _ = switchover(timeout=-1)
    assert "not finished after" in str(report.error) and "still working on it" in str(report.error)


def datastore(
    primary: str,
    stack: str = "staging",
    store: str = "shared",
    regions: tuple[str, ...] = ("us-east-1", "eu-west-1"),
) -> dict[str, Any]:
    """DescribeGlobalReplicationGroups' answer for *store*'s datastore, its primary in *primary*."""
    members = [
        {
            "ReplicationGroupId": f"meridian-{stack}-{region}-{store}",
            "ReplicationGroupRegion": region,
            "Role": "PRIMARY" if region == primary else "SECONDARY",
        }
        for region in regions
    ]
    return {
        "GlobalReplicationGroups": [
            {
                "GlobalReplicationGroupId": f"ldgnf-meridian-{stack}-{store}",
                "Status": "available",
                "Members": members,
            }
        ]
    }


def test_the_cache_fails_over_against_the_real_api_shapes() -> None:
    cache = offline("elasticache")
    with Stubber(cache) as stub:
        cache_phase(stub, "eu-west-1", before="us-east-1")
        report = failover_cache(STAGING_GLOBAL, "staging", "eu-west-1", lambda s, r: cache, QUIET, interval=0)
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
            STAGING_GLOBAL, "staging", "eu-west-1", lambda s, r: cache, QUIET, planned=False, interval=0
        )
    assert report.ok, report.error


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["db", "--to", "ap-south-1"], "ap-south-1 is not a region of staging's global database"),
        (["cache", "--to", "ap-south-1"], "ap-south-1 holds no global datastore copy of staging's stores"),
        (["cache", "--to", "eu-west-1"], "eu-west-1 holds no global datastore copy of staging's stores"),
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
    assert config.anchor_region == "us-east-1" and config.anchor_region == "us-east-1"
    # Nothing else moves: the regions keep their roles and sizes, the stores their copies.
    assert after["regions"] == values["regions"] and after["redis"] == values["redis"]
    stored = yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text())["config"][
        "meridian:writeHome"
    ]
    assert stored == "us-east-1"  # the file itself is left for the operator to change


def test_failing_back_to_the_write_home_needs_no_change() -> None:
    values = namespace_values(read_stack_file(PROJECT_DIR / "Pulumi.staging.yaml"))
    after, edits = config_after_failover(values, "us-east-1")
    assert after == values and edits == [
        "meridian:writeHome already names us-east-1: the stack file needs no change"
    ]
    moved = {**values, "writeHome": "eu-west-1"}
    after, edits = config_after_failover(moved, "us-east-1")
    assert edits == ["meridian:writeHome: eu-west-1 → us-east-1"] and after["anchorRegion"] == "us-east-1"


def test_a_store_failed_over_alone_says_what_else_writeHome_moves() -> None:
    """staging's one global store is `shared`; prod copies two stores to us-west-1."""
    from infra.operations.failover import stores_copied_to

    prod = global_stores_config("prod")
    assert stores_copied_to(load_stack_file(PROJECT_DIR / "Pulumi.prod.yaml"), "us-west-1") == []
    assert stores_copied_to(prod, "us-west-1") == ["sessions", "queues"]
    assert stores_copied_to(prod, "eu-west-1") == [] and stores_copied_to(prod, "us-east-1") == [
        "sessions",
        "queues",
    ]
    cache = offline("elasticache")
    with Stubber(cache) as stub:
        stub.add_response(
            "describe_global_replication_groups",
            datastore("us-east-1", "prod", "sessions", PROD_SESSIONS),
            {"ShowMemberInfo": True},
        )
        stub.add_response(
            "failover_global_replication_group",
            {},
            {
                "GlobalReplicationGroupId": "ldgnf-meridian-prod-sessions",
                "PrimaryRegion": "us-west-1",
                "PrimaryReplicationGroupId": "meridian-prod-us-west-1-sessions",
            },
        )
        stub.add_response(
            "describe_global_replication_groups",
            datastore("us-west-1", "prod", "sessions", PROD_SESSIONS),
            {"ShowMemberInfo": True},
        )
        report = failover_cache(
            prod, "prod", "us-west-1", lambda s, r: cache, QUIET, stores=["sessions"], interval=0
        )
    assert report.ok, report.error
    assert any(
        "also names the primary of queues, copied to us-west-1 too" in c for c in report.config_changes
    )
    assert any("also says where the database writes" in c for c in report.config_changes)


def test_a_planned_cache_failover_waits_for_an_available_datastore() -> None:
    cache = offline("elasticache")
    busy = datastore("us-east-1")
    busy["GlobalReplicationGroups"][0]["Status"] = "modifying"
    with Stubber(cache) as stub:
        stub.add_response("describe_global_replication_groups", busy, {"ShowMemberInfo": True})
        report = failover_cache(STAGING_GLOBAL, "staging", "eu-west-1", lambda s, r: cache, QUIET, interval=0)
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
        report = failover_cache(STAGING_GLOBAL, "staging", "us-east-1", lambda s, r: cache, QUIET, interval=0)
    assert "meridian-staging-us-east-1-shared is primary in ldgnf-meridian-staging-shared" in str(
        report.error
    )


# --- the drill ----------------------------------------------------------------------------------


def drill_world(fail_back: bool = False) -> tuple[Any, list[Stubber]]:
    """Stubbed clients for staging's drill: the database to eu-west-1 and back to us-east-1 (the
    switchover back refused when `fail_back`)."""
    made: dict[tuple[str, str], Any] = {}
    stubs: dict[tuple[str, str], Stubber] = {}
    for service in ("rds", "cloudwatch"):
        for region in ("eu-west-1", "us-east-1"):
            made[(service, region)] = offline(service, region)
            stubs[(service, region)] = Stubber(made[(service, region)])
    rds_phase(stubs[("rds", "eu-west-1")], TARGET_DB, TARGET_ARN, HOME_ARN)
    lag_answer(stubs[("cloudwatch", "eu-west-1")], TARGET_DB)
    rds_phase(
        stubs[("rds", "us-east-1")],
        HOME_DB,
        HOME_ARN,
        TARGET_ARN,
        switchover_error="InvalidGlobalClusterStateFault" if fail_back else None,
    )
    lag_answer(stubs[("cloudwatch", "us-east-1")], HOME_DB)
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
    assert [phase for phase, _ in report.phases] == ["database → eu-west-1", "database → us-east-1"]
    text = write_report(report, tmp_path / "drill.md").read_text()
    assert "**every phase succeeded**" in text and "| database → eu-west-1 | replication lag | done |" in text
    assert "caches" not in text  # every region the steering uses writes its own stores


def test_a_drill_that_fails_halfway_says_where_it_stopped(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clients, _ = drill_world(fail_back=True)
    monkeypatch.setattr("infra.cli.aws_clients", lambda: clients)
    out = tmp_path / "drill.md"
    assert main(["drill", "--stack", "staging", "--project-dir", str(PROJECT_DIR), "--report", str(out)]) == 1
    text = out.read_text()
    assert "**stopped**" in text and "InvalidGlobalClusterStateFault" in text
    assert "| database → us-east-1 | switch the writer over to us-east-1 | failed" in text


def test_prod_is_not_drilled(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drill", "--stack", "prod", "--project-dir", str(PROJECT_DIR)]) == 2
    assert "drills run on staging" in capsys.readouterr().err


def test_a_drill_starts_from_the_stack_as_designed() -> None:
    moved = STAGING.model_copy(update={"write_home": "eu-west-1"})
    with pytest.raises(FailoverError, match="writeHome is eu-west-1: fail back first"):
        drill(moved, "staging", lambda s, r: None, QUIET)


def test_the_drill_target_is_where_the_write_home_fails_over() -> None:
    assert drill_target(STAGING, "staging") == "eu-west-1"
    assert drill_target(load_stack_file(PROJECT_DIR / "Pulumi.prod.yaml"), "prod") == "us-west-1"


@pytest.mark.parametrize(
    ("stack", "target"), [("staging", "eu-west-1"), pytest.param("prod", "us-west-1", marks=pytest.mark.slow)]
)
def test_the_suggested_change_keeps_every_stateful_resource(stack: str, target: str) -> None:
    """The global resources stay declared in the anchor region, so moving the write home changes the
    edge's pools (the fallback follows the writes) and nothing else: no resource added or removed."""
    values = namespace_values(read_stack_file(PROJECT_DIR / f"Pulumi.{stack}.yaml"))
    after, _ = config_after_failover(values, target)
    diff = diff_plans(plan_of(stack).document(), plan_after(PROJECT_DIR, stack, after).document())
    assert diff.added == () and diff.removed == ()
    # The edge's fallback follows the writes, and so does the API's write path: the target writes
    # through its own proxy now, the old write home forwards its writes.
    endpoints = ("kubernetes:core/v1:ConfigMap", ("data.DATABASE_WRITES", "data.DATABASE_WRITE_HOST"))
    assert sorted((c.type, c.properties) for c in diff.changed) == [
        (
            "cloudflare:index/loadBalancer:LoadBalancer",
            ("defaultPools[0]", "defaultPools[1]", "fallbackPool"),
        ),
        endpoints,
        endpoints,
    ]
    assert sorted(c.name for c in diff.changed if c.type == endpoints[0]) == sorted(
        f"meridian-{stack}-{region}-app-meridian-endpoints" for region in ("us-east-1", target)
    )
    assert stateful_changes(PROJECT_DIR, stack, after) == []


def test_the_report_accepts_the_change_only_after_the_plan_diff() -> None:
    changes = _changes(STAGING, "staging", "eu-west-1", PROJECT_DIR)
    assert (
        changes[-1]
        == "the stack's validation accepts these changes, and the plan keeps every stateful resource"
    )


def test_a_change_that_would_replace_stateful_resources_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The guard behind the verdict: moving the anchor too (what the failover suggested before the
    anchor existed, and must never suggest again) would re-create the global database, its secret
    and the backup vault, and the report says so."""
    moved = copy.deepcopy(namespace_values(read_stack_file(PROJECT_DIR / "Pulumi.staging.yaml")))
    moved["writeHome"] = moved["anchorRegion"] = "eu-west-1"
    moved["regions"] = [
        {**r, "role": "primary" if r["name"] == "eu-west-1" else "secondary"} for r in moved["regions"]
    ]
    moved["postgres"]["backup"]["copyRegion"] = "us-east-1"
    # The deploy runner moves with the anchor: its GitHub connection must be in its region.
    runner = moved["deploy"]["runner"]
    runner["connectionArn"] = runner["connectionArn"].replace(":us-east-1:", ":eu-west-1:")
    monkeypatch.setattr(
        "infra.operations.failover.config_after_failover", lambda values, target: (moved, ["moved"])
    )
    changes = _changes(STAGING, "staging", "eu-west-1", PROJECT_DIR)
    verdict = changes[-1]
    assert (
        verdict.startswith("NOT SAFE TO APPLY")
        and "removes GlobalCluster meridian-staging-us-east-1-postgres-global" in verdict
    )
    assert "removes Secret meridian-staging-us-east-1-postgres-master-secret" in verdict
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
