"""`meridian failover db|cache --to REGION`: the regional failover runbook, as code.

**Database** (the Aurora global database of `meridian:postgres`):

- *planned* (both regions up, no data loss): `SwitchoverGlobalCluster` to the target's cluster,
  after checking that the target is a healthy secondary and its replication lag
  (`AuroraGlobalDBReplicationLag`, the last five minutes' maximum) is under `--max-lag-ms`;
- *unplanned* (`--unplanned`, the writer's region is down): detach and promote, i.e.
  `RemoveFromGlobalCluster` of the target's cluster, called in the target's region, which makes it a
  standalone writer. What had not replicated is lost (the lag at the outage);
- *unplanned, managed* (`--unplanned --managed`): `FailoverGlobalCluster` with `AllowDataLoss`,
  which loses the same writes but keeps the global database whole (no re-join afterwards); it needs
  the global database's control plane to answer.

**Cache** (each Redis store with a global datastore copy in the target region):

- *planned*: `FailoverGlobalReplicationGroup`, making the target's group the datastore's primary;
- *unplanned*: `DisassociateGlobalReplicationGroup` of the target's group, which then takes writes
  on its own.

Every run checks before it acts (the target is a secondary of the stack and healthy), prints each
API call with its parameters (`--dry-run` prints them and makes none), waits for AWS to report the
new topology with a progress display and a timeout, and ends with a report: each step's outcome and
duration, the state read back, and the stack-file change that makes the next `pulumi up` agree with
the new topology (checked against the stack's own validation). Nothing is deleted: a failure halfway
stops the run, and the report says which steps ran.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.table import Table

from components.redis.args import Membership

from ..config.component_args import postgres_args, redis_args
from ..config.errors import ConfigError
from ..config.loading import validate_config
from ..config.schema import StackConfig
from ..guardrails.resource_rules import STATEFUL_TYPES
from ..plan.diff import diff_plans
from ..plan.run import plan_after, run_plan
from .failover_defaults import DEFAULT_MAX_LAG_MS, DEFAULT_TIMEOUT_S
from .verify import ClientFactory, account_error

__all__ = [
    "DEFAULT_MAX_LAG_MS",
    "DEFAULT_TIMEOUT_S",
    "Call",
    "FailoverError",
    "FailoverReport",
    "Step",
    "config_after_failover",
    "failover_cache",
    "failover_db",
    "render_failover",
    "stores_copied_to",
]

#: What a failover call needs beyond read access.
FAILOVER_PERMISSIONS = (
    "the failover permissions (rds:SwitchoverGlobalCluster, rds:FailoverGlobalCluster, "
    "rds:RemoveFromGlobalCluster, "
    "elasticache:FailoverGlobalReplicationGroup, elasticache:DisassociateGlobalReplicationGroup)"
)


class FailoverError(Exception):
    """The failover cannot start (bad target, pre-check failed) or did not finish; `str()` says why
    and what state the system is in."""


@dataclass(frozen=True)
class Call:
    """One AWS API call that changes something."""

    service: str
    region: str
    operation: str  # boto3's snake_case name
    params: dict[str, Any]

    def __str__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.service}.{self.operation}({args}) in {self.region}"


@dataclass
class Step:
    """One step of the runbook and how it went."""

    description: str
    call: Call | None = None
    outcome: str = "not run"
    seconds: float = 0.0


@dataclass
class FailoverReport:
    kind: str  # "database" or "cache"
    target: str
    planned: bool
    dry_run: bool
    method: str = ""  # how the writer moved: "switchover", "managed failover", "detach and promote"
    steps: list[Step] = field(default_factory=list)
    state: list[str] = field(default_factory=list)
    config_changes: list[str] = field(default_factory=list)
    error: str | None = None  # why the run stopped, if it did

    @property
    def ok(self) -> bool:
        return self.error is None and all(s.outcome in ("done", "dry run") for s in self.steps)


#: (check) → (done, what the state is now), polled until done.
Probe = Callable[[], tuple[bool, str]]


@dataclass
class _Runner:
    """Runs steps in order: checks, calls and waits, recording each in the report."""

    report: FailoverReport
    clients: ClientFactory
    console: Console
    timeout: float
    interval: float

    def check(self, description: str, probe: Callable[[], str]) -> None:
        """A pre-check: *probe* returns what it saw or raises FailoverError."""
        step = Step(description)
        self.report.steps.append(step)
        started = time.monotonic()
        try:
            seen = probe()
        except FailoverError as error:
            step.outcome = f"failed: {error}"
            raise
        except (ClientError, BotoCoreError) as error:
            step.outcome = f"failed: {account_error(error)}"
            raise FailoverError(f"{description}: {account_error(error)}") from None
        step.outcome, step.seconds = "done", time.monotonic() - started
        self.console.print(f"[green]✓[/] {description}: {seen}")

    def act(
        self, description: str, call: Call, until: Probe, underway: Callable[[], bool] | None = None
    ) -> None:
        """Make *call* (or print it, in a dry run) and wait until *until* reports done. *underway*
        says whether AWS is already carrying out such a call (for a refused retry, below)."""
        step = Step(description, call)
        self.report.steps.append(step)
        if self.report.dry_run:
            step.outcome = "dry run"
            self.console.print(f"[yellow]would call[/] {call}")
            return
        self.console.print(f"calling {call}")
        started = time.monotonic()
        try:
            try:
                getattr(self.clients(call.service, call.region), call.operation)(**call.params)
            except ClientError as error:
                # botocore retried (the first answer timed out or was throttled) and AWS refused
                # the retry as conflicting with work in progress: the first attempt may have been
                # accepted. The topology decides; any other refusal stands.
                if not (
                    _retried(error) and _code(error) in STATE_CONFLICTS and self._underway(until, underway)
                ):
                    raise FailoverError(
                        f"{description} failed: {account_error(error, FAILOVER_PERMISSIONS)}"
                    ) from None
                self.console.print(
                    f"[yellow]![/] a retry of {call.operation} was refused ({_code(error)}), but AWS is "
                    "carrying out the first attempt: waiting for it"
                )
            except BotoCoreError as error:
                raise FailoverError(
                    f"{description}: no answer from AWS after the client's retries ({error}); the call "
                    "may have been accepted: check the state before acting further"
                ) from None
            try:
                self._wait(description, until, started)
            except (ClientError, BotoCoreError) as error:
                raise FailoverError(
                    f"{description}: AWS accepted the call, but reading its progress failed "
                    f"({account_error(error)}); the state is unknown, check it before acting further"
                ) from None
        except FailoverError as error:
            step.outcome = f"failed: {error}"
            raise
        finally:
            step.seconds = time.monotonic() - started
        step.outcome = "done"

    @staticmethod
    def _underway(until: Probe, underway: Callable[[], bool] | None) -> bool:
        """Whether the topology is already changing as asked, or has changed (False if unreadable:
        the refusal then stands)."""
        try:
            return until()[0] or (underway is not None and underway())
        except (ClientError, BotoCoreError):
            return False

    def _wait(self, description: str, until: Probe, started: float) -> None:
        state = ""
        with self.console.status(f"{description}: waiting for AWS") as status:
            while True:
                done, state = until()
                elapsed = time.monotonic() - started
                status.update(f"{description}: {state} ({elapsed:.0f} s)")
                if done:
                    self.console.print(f"[green]✓[/] {description}: {state} after {elapsed:.0f} s")
                    return
                if elapsed > self.timeout:
                    raise FailoverError(
                        f"not finished after {self.timeout:.0f} s; last seen: {state}. The call was "
                        "accepted: AWS is still working on it, check again before acting further"
                    )
                time.sleep(self.interval)


#: Refusals that mean "something is already changing this": after a retry, possibly our own call.
STATE_CONFLICTS = frozenset(
    {"InvalidGlobalClusterStateFault", "InvalidDBClusterStateFault", "InvalidGlobalReplicationGroupState"}
)


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _retried(error: ClientError) -> bool:
    """Whether botocore sent the call more than once before this answer."""
    return int(error.response.get("ResponseMetadata", {}).get("RetryAttempts") or 0) > 0


def _run(report: FailoverReport, runbook: Callable[[_Runner], None], **runner: Any) -> FailoverReport:
    """Run *runbook*; a failure stops it and is kept in the report, beside the steps that ran."""
    try:
        runbook(_Runner(report, **runner))
    except FailoverError as error:
        report.error = str(error)
    except (ClientError, BotoCoreError) as error:
        report.error = str(account_error(error))
    return report


# --- the database --------------------------------------------------------------------------------


def _global_cluster(rds: Any, global_id: str) -> dict[str, Any]:
    try:
        return dict(rds.describe_global_clusters(GlobalClusterIdentifier=global_id)["GlobalClusters"][0])
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "GlobalClusterNotFoundFault":
            raise FailoverError(f"the global database {global_id} does not exist") from None
        raise


def _lag_ms(clients: ClientFactory, region: str, cluster_id: str) -> float | None:
    """The target's largest `AuroraGlobalDBReplicationLag` of the last five minutes, if reported.
    Aurora publishes it under more than one dimension set (with `SourceRegion`, too), and a query
    must name a set exactly: every set that includes the cluster is listed, then read."""
    cloudwatch = clients("cloudwatch", region)
    metric = {"Namespace": "AWS/RDS", "MetricName": "AuroraGlobalDBReplicationLag"}
    listed = cloudwatch.list_metrics(
        **metric, Dimensions=[{"Name": "DBClusterIdentifier", "Value": cluster_id}]
    )["Metrics"]
    now = datetime.now(UTC)
    points = [
        float(point["Maximum"])
        for found in listed
        for point in cloudwatch.get_metric_statistics(
            **metric,
            Dimensions=found["Dimensions"],
            StartTime=now - timedelta(minutes=5),
            EndTime=now,
            Period=60,
            Statistics=["Maximum"],
        )["Datapoints"]
    ]
    return max(points, default=None)


def failover_db(
    config: StackConfig,
    stack: str,
    target: str,
    clients: ClientFactory,
    console: Console,
    *,
    planned: bool = True,
    managed: bool = False,
    dry_run: bool = False,
    max_lag_ms: float = DEFAULT_MAX_LAG_MS,
    timeout: float = DEFAULT_TIMEOUT_S,
    interval: float = 15,
    project_dir: Path | None = None,
) -> FailoverReport:
    """Make *target*'s Aurora cluster the writer of the stack's global database."""
    members = postgres_args(config, stack)
    if target not in members:
        raise FailoverError(
            f"{target} is not a region of {stack}'s global database ({', '.join(members)}); "
            "choose one of its secondaries"
        )
    global_id = members[target].global_cluster_identifier
    cluster_id = members[target].cluster_identifier
    rds = clients("rds", target)
    method = "switchover" if planned else "managed failover" if managed else "detach and promote"
    report = FailoverReport("database", target, planned, dry_run, method)
    cluster: dict[str, Any] = {}

    def target_is_a_healthy_secondary() -> str:
        members_live = _global_cluster(rds, global_id).get("GlobalClusterMembers", [])
        found = rds.describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"]
        cluster.update(found[0] if found else {})
        arn = cluster.get("DBClusterArn")
        member = next((m for m in members_live if m.get("DBClusterArn") == arn), None)
        if member is None:
            raise FailoverError(f"{cluster_id} is not a member of {global_id}")
        if member.get("IsWriter"):
            raise FailoverError(f"{cluster_id} in {target} is already the writer; nothing to do")
        if cluster.get("Status") != "available":
            raise FailoverError(f"{cluster_id} is {cluster.get('Status')}, not available")
        writer = next((m["DBClusterArn"] for m in members_live if m.get("IsWriter")), "none")
        return f"{cluster_id} is an available secondary; the writer is {writer}"

    def lag_is_small() -> str:
        lag = _lag_ms(clients, target, cluster_id)
        if lag is None:
            # A cluster demoted minutes ago (failing back) may not have published the metric yet;
            # the member's own synchronization status then stands in for it.
            live = _global_cluster(rds, global_id).get("GlobalClusterMembers", [])
            status = next(
                (
                    m.get("SynchronizationStatus")
                    for m in live
                    if m.get("DBClusterArn") == cluster["DBClusterArn"]
                ),
                None,
            )
            if status == "connected":
                return "no lag metric in the last 5 minutes; the member reports it is connected"
            raise FailoverError(
                f"no AuroraGlobalDBReplicationLag reported for {cluster_id} in the last 5 minutes and "
                f"its synchronization status is {status or 'unknown'}; a planned switchover needs one "
                "(if the writer's region is down, use --unplanned)"
            )
        if lag > max_lag_ms:
            raise FailoverError(
                f"replication lag {lag:.0f} ms is above {max_lag_ms:.0f} ms; wait for it to fall, or "
                "use --unplanned if the writer's region is down (what has not replicated is lost)"
            )
        return f"replication lag {lag:.0f} ms (at most {max_lag_ms:.0f} ms)"

    def is_writer() -> tuple[bool, str]:
        g = _global_cluster(rds, global_id)
        writer = any(
            m.get("IsWriter") and m.get("DBClusterArn") == cluster["DBClusterArn"]
            for m in g.get("GlobalClusterMembers", [])
        )
        return writer and g.get("Status") == "available", f"global database {g.get('Status')}"

    def failing_over_to_target() -> bool:
        state = _global_cluster(rds, global_id).get("FailoverState") or {}
        return bool(state.get("ToDbClusterArn")) and state.get("ToDbClusterArn") == cluster.get(
            "DBClusterArn"
        )

    def is_standalone() -> tuple[bool, str]:
        now = rds.describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"][0]
        alone = not now.get("GlobalClusterIdentifier") and not now.get("ReplicationSourceIdentifier")
        return alone and now.get("Status") == "available", f"{cluster_id} {now.get('Status')}"

    def runbook(run: _Runner) -> None:
        run.check(f"{target} is a healthy secondary of {global_id}", target_is_a_healthy_secondary)
        if planned:
            run.check("replication lag", lag_is_small)
            call = Call(
                "rds",
                target,
                "switchover_global_cluster",
                {"GlobalClusterIdentifier": global_id, "TargetDbClusterIdentifier": cluster["DBClusterArn"]},
            )
            run.act(f"switch the writer over to {target}", call, is_writer, failing_over_to_target)
        elif managed:
            # AWS's own failover keeps the global database whole: the other secondaries follow the
            # new writer, and the old one rejoins as a secondary when its region is back.
            call = Call(
                "rds",
                target,
                "failover_global_cluster",
                {
                    "GlobalClusterIdentifier": global_id,
                    "TargetDbClusterIdentifier": cluster["DBClusterArn"],
                    "AllowDataLoss": True,
                },
            )
            run.act(
                f"fail the writer over to {target}, accepting what has not replicated",
                call,
                is_writer,
                failing_over_to_target,
            )
        else:
            call = Call(
                "rds",
                target,
                "remove_from_global_cluster",
                {"GlobalClusterIdentifier": global_id, "DbClusterIdentifier": cluster["DBClusterArn"]},
            )
            run.act(f"detach {cluster_id} and promote it to a standalone writer", call, is_standalone)
        if not dry_run:
            now = rds.describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"][0]
            report.state.append(
                f"{cluster_id}: {now.get('Status')}, global database "
                f"{now.get('GlobalClusterIdentifier') or 'none (standalone)'}"
            )

    _run(report, runbook, clients=clients, console=console, timeout=timeout, interval=interval)
    notes = []
    if target != config.write_home:
        # The API reads where to write from its ConfigMap: the writer's region through the proxy's
        # read/write endpoint, the others through their cluster's reader endpoint, which forwards.
        # The other regions follow the new writer by themselves; these two swap paths.
        app = config.eks.app
        notes.append(
            f"writes fail in {config.write_home} and {target} until their API reads the new "
            "meridian-endpoints: apply this change (`pulumi up`; with a region down, `pulumi up "
            "--target` the two regions' `meridian-endpoints` ConfigMaps), then restart the API in both "
            f"(`kubectl -n {app.namespace} rollout restart deployment/{app.deployment_name}`)"
        )
    copied = stores_copied_to(config, target)
    if copied and target != config.write_home:
        notes.append(
            f"meridian:writeHome also names the primary of the global stores copied to {target} "
            f"({', '.join(copied)}): fail them over too (`meridian failover cache --to {target}`)"
        )
    if not planned and not managed:
        notes += [
            f"{cluster_id} now writes outside the global database {global_id}, which still holds "
            "the old writer: re-join once its region is back (docs/operations.md, Re-joining after an "
            "unplanned failover)",
            f"AWS Backup snapshots the anchor's cluster ({config.anchor_region}), not {cluster_id}: "
            "take manual snapshots of it (`aws rds create-db-cluster-snapshot`) until the re-join",
        ]
    if report.ok and not dry_run:
        report.config_changes = _changes(config, stack, target, project_dir, notes)
    return report


# --- the cache -----------------------------------------------------------------------------------


def _datastore(ec: Any, suffix: str) -> dict[str, Any]:
    """The global datastore whose id ends in *suffix* (AWS prefixes the suffix it was given)."""
    pages = ec.get_paginator("describe_global_replication_groups").paginate(ShowMemberInfo=True)
    for page in pages:
        for group in page.get("GlobalReplicationGroups", []):
            if str(group.get("GlobalReplicationGroupId", "")).endswith(suffix):
                return dict(group)
    raise FailoverError(f"no global datastore ending in {suffix}")


def _fail_over_store(run: _Runner, ec: Any, store: str, suffix: str, group_id: str) -> None:
    """One store's steps: check the target's group is a healthy secondary of the datastore whose id
    ends in *suffix*, then make it the primary (planned) or detach it (unplanned)."""
    target, planned = run.report.target, run.report.planned
    datastore: dict[str, Any] = {}

    def role_of(group: dict[str, Any]) -> str:
        member: dict[str, Any] = next(
            (m for m in group.get("Members", []) if m.get("ReplicationGroupId") == group_id), {}
        )
        return str(member.get("Role") or "not a member").upper()

    def secondary_is_healthy() -> str:
        datastore.update(_datastore(ec, suffix))
        gid, status = datastore["GlobalReplicationGroupId"], datastore.get("Status")
        if role_of(datastore) != "SECONDARY":
            raise FailoverError(f"{group_id} is {role_of(datastore).lower()} in {gid}, not a secondary")
        if planned and status != "available":
            raise FailoverError(f"{gid} is {status}, not available")
        return f"{group_id} is a secondary of {gid} ({status})"

    def is_primary() -> tuple[bool, str]:
        now = _datastore(ec, suffix)
        done = role_of(now) == "PRIMARY" and now.get("Status") == "available"
        return done, f"{group_id} {role_of(now).lower()}, datastore {now.get('Status')}"

    def is_standalone() -> tuple[bool, str]:
        now = ec.describe_replication_groups(ReplicationGroupId=group_id)["ReplicationGroups"][0]
        done = not now.get("GlobalReplicationGroupInfo") and now.get("Status") == "available"
        return done, f"{group_id} {now.get('Status')}"

    run.check(f"store {store}: {target} holds a healthy secondary", secondary_is_healthy)
    gid = datastore.get("GlobalReplicationGroupId", f"(the datastore ending {suffix})")
    if planned:
        params = {
            "GlobalReplicationGroupId": gid,
            "PrimaryRegion": target,
            "PrimaryReplicationGroupId": group_id,
        }
        call = Call("elasticache", target, "failover_global_replication_group", params)
        run.act(f"store {store}: make {group_id} the primary", call, is_primary)
    else:
        params = {
            "GlobalReplicationGroupId": gid,
            "ReplicationGroupId": group_id,
            "ReplicationGroupRegion": target,
        }
        call = Call("elasticache", target, "disassociate_global_replication_group", params)
        run.act(f"store {store}: detach {group_id} to take writes on its own", call, is_standalone)


def stores_copied_to(config: StackConfig, region: str) -> list[str]:
    """The global stores with a member in *region*: their primary follows `writeHome` there."""
    return [
        name
        for name, store in config.redis.stores.items()
        if store.global_regions and region in (config.anchor_region, *store.global_regions)
    ]


def failover_cache(
    config: StackConfig,
    stack: str,
    target: str,
    clients: ClientFactory,
    console: Console,
    *,
    stores: Sequence[str] | None = None,
    planned: bool = True,
    dry_run: bool = False,
    timeout: float = DEFAULT_TIMEOUT_S,
    interval: float = 15,
    project_dir: Path | None = None,
) -> FailoverReport:
    """Make *target*'s replication group the primary of each global store copied there (or *store*)."""
    layout = redis_args(config, stack)
    # Every region of a store's global datastore can be promoted: the config's primary too, once a
    # failover has made it a secondary (failing back); the live pre-check says which it is now.
    members = {name: layout[name][target] for name in stores_copied_to(config, target)}
    for store in stores or ():
        if store not in members:
            where = ", ".join(members) or "none"
            raise FailoverError(f"store {store} has no global copy in {target}; stores copied there: {where}")
    if not members:
        holders = sorted(
            {
                r
                for regions in layout.values()
                for r, a in regions.items()
                if a.membership is Membership.SECONDARY
            }
        )
        raise FailoverError(
            f"{target} holds no global datastore copy of {stack}'s stores; regions that do: "
            f"{', '.join(holders) or 'none'}"
        )
    ec = clients("elasticache", target)
    report = FailoverReport("cache", target, planned, dry_run, "failover" if planned else "detach")

    def runbook(run: _Runner) -> None:
        for name in stores or list(members):
            primary = next(a for a in layout[name].values() if a.membership is Membership.PRIMARY)
            _fail_over_store(
                run, ec, name, primary.global_datastore_suffix, members[name].replication_group_id
            )

    _run(report, runbook, clients=clients, console=console, timeout=timeout, interval=interval)
    notes = [
        f"meridian:writeHome also says where the database writes: fail it over to {target} too "
        f"(`meridian failover db --to {target}`), or leave the stack file until it is there"
    ]
    left = [name for name in members if name not in (stores or members)]
    if left:
        notes.append(
            f"meridian:writeHome also names the primary of {', '.join(left)}, copied to {target} too: "
            "fail them over as well before changing it"
        )
    if not planned:
        notes.append(
            f"the detached groups in {target} write outside their datastores: re-join once the old "
            "primary's region is back (docs/operations.md, Re-joining after an unplanned failover)"
        )
    if report.ok and not dry_run:
        report.config_changes = _changes(config, stack, target, project_dir, notes)
    return report


# --- the stack file afterwards -------------------------------------------------------------------


def config_after_failover(values: dict[str, Any], target: str) -> tuple[dict[str, Any], list[str]]:
    """The `meridian:` values (namespace stripped) with *target* as the write home, and the edit in
    words. Only `writeHome` follows the writes: the global resources stay declared in the anchor
    region (`anchorRegion`), so nothing else changes."""
    after = copy.deepcopy(values)
    home = str(values["writeHome"])
    if target == home:
        return after, [f"meridian:writeHome already names {target}: the stack file needs no change"]
    after["writeHome"] = target
    return after, [f"meridian:writeHome: {home} → {target}"]


def stateful_changes(project_dir: Path, stack: str, after: dict[str, Any]) -> list[str]:
    """The stateful resources that the stack file with *after*'s `meridian:` values would remove,
    or change, compared with the stack file as it is: both offline plans, diffed."""
    diff = diff_plans(
        run_plan(project_dir, stack).document(), plan_after(project_dir, stack, after).document()
    )
    lost = [f"removes {c.type.rsplit(':', 1)[-1]} {c.name}" for c in diff.removed if c.type in STATEFUL_TYPES]
    changed = [
        f"changes {c.type.rsplit(':', 1)[-1]} {c.name} ({', '.join(c.properties)})"
        for c in diff.changed_directly()
        if c.type in STATEFUL_TYPES
    ]
    return lost + changed


def _changes(
    config: StackConfig, stack: str, target: str, project_dir: Path | None, notes: Sequence[str] = ()
) -> list[str]:
    """The edits to make, then *notes*; whether the stack's validation accepts them; and, with
    *project_dir*, whether the next `pulumi up` would keep every stateful resource."""
    values = config.model_dump(by_alias=True, exclude_none=True, mode="json")
    after, edits = config_after_failover(values, target)
    edits = [*edits, *notes]
    if target == config.write_home:
        return edits
    try:
        validate_config(after, f"Pulumi.{stack}.yaml")
    except ConfigError as error:
        return [*edits, f"the stack rejects the result, fix by hand: {error}"]
    if project_dir is None:
        return [*edits, "the stack's validation accepts these changes (not checked against the plan)"]
    touched = stateful_changes(project_dir, stack, after)
    if touched:
        return [
            *edits,
            f"NOT SAFE TO APPLY: with these changes the next `pulumi up` {'; '.join(touched)}. Keep "
            "the stack file as it is, run `pulumi refresh`, and plan the re-join before any `pulumi up` "
            "(docs/operations.md, Regional failover)",
        ]
    return [
        *edits,
        "the stack's validation accepts these changes, and the plan keeps every stateful resource",
    ]


def render_failover(report: FailoverReport, console: Console) -> None:
    """Each step with its outcome and time, the state read back, and the stack-file changes."""
    kind = report.method or ("planned" if report.planned else "unplanned")
    title = f"{report.kind.capitalize()} {kind} to {report.target}" + (" (dry run)" if report.dry_run else "")
    table = Table(title=title)
    for column in ("step", "outcome", "seconds"):
        table.add_column(column, justify="right" if column == "seconds" else "left")
    for step in report.steps:
        table.add_row(step.description, step.outcome, f"{step.seconds:.1f}")
    console.print(table)
    for line in report.state:
        console.print(f"Now: {line}")
    if report.error:
        console.print(f"[bold red]Stopped:[/] {report.error}")
        console.print("Nothing was deleted; the steps marked done took effect, the others did not.")
    if report.ok and not report.dry_run:
        console.print("So that the next `pulumi up` agrees, change Pulumi.<stack>.yaml:")
        for change in report.config_changes:
            console.print(f"  - {change}")
