"""`meridian drill --stack staging`: a scripted game day. Fail the database over to the secondary,
check it took, fail it back, and write down how long each phase took.

The target is the first database region the write home's users fail over to (the steering's
default order), the region a real outage would move writes to. The phases are the runbook's own
(`infra.operations.failover`, planned switchovers: no data is lost), so a drill rehearses exactly the code an
outage would run: 1. database → target; 2. database → write home.

The caches are not drilled: the steering only sends users to regions that write every store they
use, so the target holds no read-only copy of a global store to promote (its stores are its own),
and a global store's standby is failed over by hand (`meridian failover cache`).

A phase that fails stops the drill where it is; the report says which phases ran, so the operator
knows what to fail back by hand (`meridian failover db --to <write home>`). Each phase's recovery
time is from its call to AWS reporting the new topology. Prod is refused: a drill there is a change
window, run phase by phase with `meridian failover`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from ..config.component_args import cdn_args, postgres_args
from ..config.schema import Environment, StackConfig
from .failover import FailoverError, FailoverReport, failover_db
from .verify import ClientFactory

__all__ = ["DrillReport", "drill", "drill_target", "render_drill", "write_report"]


@dataclass
class DrillReport:
    stack: str
    home: str
    target: str
    started: datetime
    planned: int = 2  # phases the drill means to run
    phases: list[tuple[str, FailoverReport]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return len(self.phases) == self.planned and all(report.ok for _, report in self.phases)

    @staticmethod
    def recovery_seconds(report: FailoverReport) -> float:
        """From the call to AWS reporting the new topology: the steps that made a call."""
        return sum(step.seconds for step in report.steps if step.call is not None)

    def markdown(self) -> str:
        lines = [
            f"# Failover drill of {self.stack}, {self.started:%Y-%m-%d %H:%M} UTC",
            "",
            f"Write home {self.home}, secondary {self.target}. Verdict: "
            + ("**every phase succeeded**." if self.ok else "**stopped**; see the failed step."),
            "",
            "| phase | step | outcome | seconds |",
            "| --- | --- | --- | ---: |",
        ]
        for phase, report in self.phases:
            for step in report.steps:
                lines.append(f"| {phase} | {step.description} | {step.outcome} | {step.seconds:.1f} |")
        lines += ["", "| phase | recovery time (s) |", "| --- | ---: |"]
        lines += [f"| {phase} | {self.recovery_seconds(report):.1f} |" for phase, report in self.phases]
        return "\n".join(lines) + "\n"


def drill_target(config: StackConfig, stack: str) -> str:
    """The first database region after the write home in the steering's default failover order."""
    database = set(postgres_args(config, stack))
    order = cdn_args(config, stack).steering().default
    target = next((r for r in order if r != config.write_home and r in database), None)
    if target is None:
        raise FailoverError(
            f"{stack} has no database region besides {config.write_home}: nothing to fail over to"
        )
    return target


def drill(
    config: StackConfig, stack: str, clients: ClientFactory, console: Console, **waits: Any
) -> DrillReport:
    """Run the two phases in order, stopping at the first that fails."""
    if config.environment is Environment.PROD:
        raise FailoverError(
            "drills run on staging (or dev); in prod, fail over phase by phase with `meridian failover`"
        )
    if config.write_home != config.anchor_region:
        raise FailoverError(
            f"a drill starts from the stack as designed, writing in its anchor region "
            f"{config.anchor_region}; meridian:writeHome is {config.write_home}: fail back first"
        )
    home, target = config.write_home, drill_target(config, stack)
    phases = [
        (f"database → {target}", lambda: failover_db(config, stack, target, clients, console, **waits)),
        (f"database → {home}", lambda: failover_db(config, stack, home, clients, console, **waits)),
    ]
    report = DrillReport(stack, home, target, datetime.now(UTC), planned=len(phases))
    for name, run in phases:
        console.rule(name)
        phase = run()
        report.phases.append((name, phase))
        if not phase.ok:
            break
    return report


def render_drill(report: DrillReport, console: Console) -> None:
    table = Table(title=f"Drill of {report.stack}: {report.home} ⇄ {report.target}")
    for column in ("phase", "outcome", "recovery (s)"):
        table.add_column(column, justify="right" if column.startswith("recovery") else "left")
    for phase, result in report.phases:
        outcome = "done" if result.ok else f"[red]stopped[/]: {result.error}"
        table.add_row(phase, outcome, f"{report.recovery_seconds(result):.1f}")
    console.print(table)


def write_report(report: DrillReport, path: Path) -> Path:
    path.write_text(report.markdown(), encoding="utf-8")
    return path
