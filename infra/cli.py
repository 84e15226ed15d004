"""`meridian`: the project's command line.

    meridian plan --stack prod [--json FILE] [--diff BASE.json] [--markdown FILE] [--resources]
    meridian check --stack prod [--project-dir DIR]
    meridian diagram --stack prod [--output FILE.svg] [--project-dir DIR]
    meridian latency --stack prod [--json FILE] [--project-dir DIR]
    meridian availability --stack prod [--json FILE] [--project-dir DIR]
    meridian capacity --stack prod [--json FILE] [--project-dir DIR]
    meridian cost --stack prod [--json FILE] [--project-dir DIR]
    meridian verify --stack prod [--json FILE] [--project-dir DIR]
    meridian failover db|cache --to REGION --stack prod [--unplanned [--managed]] [--dry-run] [--store NAME]
    meridian drill --stack staging [--report FILE.md]
    meridian scan --stack prod [--checkov PATH] [--export DIR] [--project-dir DIR]

`plan --diff` compares the plan with another written by `plan --json` (the base branch's, in CI):
resources added, removed and changed. `--markdown` appends the summary (counts per region and, with
`--diff`, the changes) to a file: `$GITHUB_STEP_SUMMARY` in CI.

Exit codes: 0 done (check: every rule passes; scan: no unsuppressed checkov failure; latency,
availability, capacity: the target is met; cost: within every budget line; verify: no drift;
failover, drill: every step done), 1 a guardrail rule is violated, checkov found a failure the
suppression file does not cover, an analysis target is missed, the budget is passed, the live
account drifted, or a failover or drill stopped (a pre-check refused, a call failed; the report
says which steps ran), 2 invalid stack config (the message names the file, key and fix), a type
without figures or price, checkov missing, a failover target outside the stack's topology, or an
AWS account that cannot be read (no credentials or profile, access denied).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from .config.component_args import cdn_args
from .config.errors import ConfigError, ConfigIssue
from .config.loading import load_stack_file
from .config.naming import NAMESPACE
from .config.schema import StackConfig
from .config.workload import Workload
from .operations.failover_defaults import DEFAULT_MAX_LAG_MS, DEFAULT_TIMEOUT_S
from .project import find_project_dir

# What a command needs beyond the stack file (the Pulumi SDKs, boto3, checkov's exporter) is imported
# by the command itself, after the stack file passed validation: a bad stack file is refused without
# them, in well under a second (docs/fast-feedback.md).
if TYPE_CHECKING:
    from .operations.verify import ClientFactory
    from .plan.diff import PlanDiff
    from .plan.run import Plan

__all__ = ["main", "run"]

#: A command's handler: parsed arguments, the console for results and the one for errors → exit code.
Handler = Callable[[argparse.Namespace, Console, Console], int]

EXIT_VIOLATIONS = 1
EXIT_INVALID_CONFIG = 2


def _print_error(errors: Console, exc: Exception) -> None:
    """The message alone (it names the file, key and fix), as plain text: no traceback, no markup."""
    errors.print(str(exc), markup=False, highlight=False, soft_wrap=True)


def _verdict(met: bool, json_path: Path | None, figures: dict[str, object]) -> int:
    """An analysis command's end: its figures as JSON when asked, and exit 1 if the target is missed."""
    if json_path:
        json_path.write_text(json.dumps(figures, indent=2) + "\n")
    return 0 if met else EXIT_VIOLATIONS


def run_plan(project_dir: Path, stack: str, on_register: Callable[[int], None] | None = None) -> Plan:
    """`infra.plan.run.run_plan`, imported when a command first needs a plan."""
    from .plan.run import run_plan

    return run_plan(project_dir, stack, on_register)


def aws_clients() -> ClientFactory:
    """`infra.operations.verify.aws_clients` (boto3), imported when a command first reads the account."""
    from .operations.verify import aws_clients

    return aws_clients()


def _load_plan(args: argparse.Namespace, errors: Console) -> Plan | None:
    """The offline plan of `--stack`, or None after printing why the stack file is unusable. The
    file is validated first, before the program (and the SDKs it imports) is loaded."""
    if _load_config(args, errors) is None:
        return None
    # On a terminal (stderr), a status line of the registrations so far, as prod's plan takes
    # seconds; when stderr is a pipe or a file, rich draws nothing, so CI's logs stay clean.
    try:
        with errors.status(f"Planning {args.stack} offline: loading the program") as status:
            return run_plan(
                args.project_dir or find_project_dir(),
                args.stack,
                lambda count: status.update(f"Planning {args.stack} offline: {count} resources registered"),
            )
    except (ConfigError, FileNotFoundError) as exc:
        _print_error(errors, exc)
        return None


def _plan_command(args: argparse.Namespace, console: Console, errors: Console) -> int:
    plan = _load_plan(args, errors)
    if plan is None:
        return EXIT_INVALID_CONFIG
    from .plan.diff import PlanDiffError, diff_plans, load_plan_json, render_diff, summary_markdown

    document = plan.document()
    diff: PlanDiff | None = None
    if args.diff:
        try:
            diff = diff_plans(load_plan_json(args.diff), document)
        except PlanDiffError as exc:
            _print_error(errors, exc)
            return EXIT_INVALID_CONFIG
    from .plan.render import render_plan

    render_plan(plan, console, itemise=args.resources)
    if diff is not None:
        render_diff(diff, console)
    if args.json:
        plan.write_json(args.json)
        console.print(f"Wrote {len(plan.resources)} resources to {args.json}.")
    if args.markdown:
        with args.markdown.open("a", encoding="utf-8") as summary:
            summary.write(summary_markdown(document, diff))
        console.print(f"Appended the plan summary to {args.markdown}.")
    return 0


def _check_command(args: argparse.Namespace, console: Console, errors: Console) -> int:
    plan = _load_plan(args, errors)
    if plan is None:
        return EXIT_INVALID_CONFIG
    from .guardrails.check import check_plan, render_report

    report = check_plan(plan)
    render_report(report, plan, console)
    return 0 if report.passed else EXIT_VIOLATIONS


def _diagram_command(args: argparse.Namespace, console: Console, errors: Console) -> int:
    from .reports.diagram import check_diagram_path, diagram_path, write_diagram

    try:
        output = args.output or diagram_path(args.project_dir or find_project_dir(), args.stack)
        check_diagram_path(output)  # before the plan runs, not after
    except (ValueError, FileNotFoundError) as exc:
        _print_error(errors, exc)
        return EXIT_INVALID_CONFIG
    plan = _load_plan(args, errors)
    if plan is None:
        return EXIT_INVALID_CONFIG
    output.parent.mkdir(parents=True, exist_ok=True)
    write_diagram(plan, output)
    console.print(
        f"Drew the architecture of {plan.stack} ({len(plan.custom_resources)} resources) to {output}."
    )
    return 0


def _load_config(args: argparse.Namespace, errors: Console) -> StackConfig | None:
    """The validated stack file of `--stack`, or None after printing why it is unusable."""
    try:
        return load_stack_file((args.project_dir or find_project_dir()) / f"Pulumi.{args.stack}.yaml")
    except (ConfigError, FileNotFoundError) as exc:
        _print_error(errors, exc)
        return None


def _workload(args: argparse.Namespace, config: StackConfig, errors: Console) -> Workload | None:
    """`meridian:workload`, which capacity and cost cannot run without, or None after saying so."""
    if config.workload is None:
        problem = f"is not set; `meridian {args.command}` needs it: add it (docs/config-reference.md)"
        issue = ConfigIssue(f"{NAMESPACE}:workload", problem)
        _print_error(errors, ConfigError(f"Pulumi.{args.stack}.yaml", [issue]))
    return config.workload


def _latency_command(args: argparse.Namespace, console: Console, errors: Console) -> int:
    config = _load_config(args, errors)
    if config is None:
        return EXIT_INVALID_CONFIG
    from .analyses.latency import analyse, render_latency, report_json

    targets = config.targets
    serving = cdn_args(config, args.stack).steering().first_choice().values()
    report = analyse(
        serving,
        inflation=targets.path_inflation,
        target_ms=targets.latency_ms,
        target_share=targets.latency_population_share,
    )
    render_latency(report, args.stack, [r.name for r in config.regions], console)
    return _verdict(report.met, args.json, report_json(report))


def _availability_command(args: argparse.Namespace, console: Console, errors: Console) -> int:
    plan = _load_plan(args, errors)
    if plan is None:
        return EXIT_INVALID_CONFIG
    assert plan.config is not None  # run_plan validated the stack file
    from .analyses.availability import availability_json, compose, render_availability

    figures = compose(plan, plan.config.targets.availability)
    render_availability(figures, plan.stack, console)
    return _verdict(figures.met, args.json, availability_json(figures))


def _capacity_command(args: argparse.Namespace, console: Console, errors: Console) -> int:
    config = _load_config(args, errors)
    workload = _workload(args, config, errors) if config else None
    if config is None or workload is None:
        return EXIT_INVALID_CONFIG
    from .analyses.capacity import analyse_capacity, capacity_json, render_capacity
    from .analyses.catalog import CatalogError

    try:
        report = analyse_capacity(config, args.stack, workload)
    except CatalogError as exc:
        _print_error(errors, exc)
        return EXIT_INVALID_CONFIG
    render_capacity(report, args.stack, console)
    return _verdict(report.met, args.json, capacity_json(report))


def _cost_command(args: argparse.Namespace, console: Console, errors: Console) -> int:
    plan = _load_plan(args, errors)
    config = plan.config if plan else None
    workload = _workload(args, config, errors) if config else None
    if plan is None or config is None or workload is None:
        return EXIT_INVALID_CONFIG
    from .analyses.catalog import CatalogError
    from .analyses.cost import cost_json, estimate_cost, render_cost

    try:
        report = estimate_cost(plan, workload.monthly, config.budget)
    except CatalogError as exc:
        _print_error(errors, exc)
        return EXIT_INVALID_CONFIG
    render_cost(report, console)
    return _verdict(report.met, args.json, cost_json(report))


def _verify_command(args: argparse.Namespace, console: Console, errors: Console) -> int:
    plan = _load_plan(args, errors)
    if plan is None:
        return EXIT_INVALID_CONFIG
    from .operations.verify import VerifyError, expectations, render_verify, verify, verify_json

    try:
        findings = verify(expectations(plan), aws_clients())
    except VerifyError as exc:
        _print_error(errors, exc)
        return EXIT_INVALID_CONFIG
    render_verify(findings, plan.stack, console)
    return _verdict(all(f.ok for f in findings), args.json, verify_json(findings))


def _failover_command(args: argparse.Namespace, console: Console, errors: Console) -> int:
    config = _load_config(args, errors)
    if config is None:
        return EXIT_INVALID_CONFIG
    from .operations.failover import FailoverError, failover_cache, failover_db, render_failover
    from .operations.verify import VerifyError

    if args.managed and (args.what != "db" or not args.unplanned):
        errors.print("meridian: --managed is for `failover db --unplanned` (AWS's failover with data loss)")
        return EXIT_INVALID_CONFIG
    options: dict[str, Any] = {
        "planned": not args.unplanned,
        "dry_run": args.dry_run,
        "timeout": args.timeout,
        "project_dir": args.project_dir or find_project_dir(),
    }
    try:
        if args.what == "db":
            report = failover_db(
                config,
                args.stack,
                args.to,
                aws_clients(),
                console,
                max_lag_ms=args.max_lag_ms,
                managed=args.managed,
                **options,
            )
        else:
            stores = [args.store] if args.store else None
            report = failover_cache(
                config, args.stack, args.to, aws_clients(), console, stores=stores, **options
            )
    except (FailoverError, VerifyError) as exc:
        _print_error(errors, exc)
        return EXIT_INVALID_CONFIG
    render_failover(report, console)
    return 0 if report.ok else EXIT_VIOLATIONS


def _drill_command(args: argparse.Namespace, console: Console, errors: Console) -> int:
    config = _load_config(args, errors)
    if config is None:
        return EXIT_INVALID_CONFIG
    from .operations.drill import drill, render_drill, write_report
    from .operations.failover import FailoverError
    from .operations.verify import VerifyError

    try:
        report = drill(config, args.stack, aws_clients(), console, timeout=args.timeout)
    except (FailoverError, VerifyError) as exc:
        _print_error(errors, exc)
        return EXIT_INVALID_CONFIG
    render_drill(report, console)
    path = write_report(report, args.report or Path(f"drill-{args.stack}-{report.started:%Y%m%dT%H%M%SZ}.md"))
    console.print(f"Wrote the drill's report to {path}.")
    return 0 if report.ok else EXIT_VIOLATIONS


def _scan_command(args: argparse.Namespace, console: Console, errors: Console) -> int:
    plan = _load_plan(args, errors)
    if plan is None:
        return EXIT_INVALID_CONFIG
    from .guardrails.scanner import render_scan, scan_plan

    try:
        report = scan_plan(plan, args.checkov, keep_in=args.export)
    except FileNotFoundError as exc:
        _print_error(errors, exc)
        return EXIT_INVALID_CONFIG
    render_scan(report, console)
    if args.export:
        console.print(f"The exported plan and manifests are in {args.export}.")
    return 0 if not report.unsuppressed else EXIT_VIOLATIONS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="meridian", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    def command(
        name: str, handler: Handler, help: str, description: str, figures: bool = False
    ) -> argparse.ArgumentParser:
        """A subcommand of one stack: `--stack` and `--project-dir`, and the handler it runs; an
        analysis (*figures*) also takes `--json FILE`."""
        sub = commands.add_parser(name, help=help, description=description)
        sub.set_defaults(handler=handler)
        sub.add_argument("--stack", required=True, help="stack name: reads Pulumi.<stack>.yaml")
        sub.add_argument(
            "--project-dir", type=Path, help="folder holding Pulumi.yaml (default: nearest above cwd)"
        )
        if figures:
            sub.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON")
        return sub

    plan = command(
        "plan",
        _plan_command,
        help="run the stack program offline under mocks and show what it would create",
        description="Run the real program under Pulumi mocks with Pulumi.<stack>.yaml: "
        "no Pulumi CLI and no cloud credentials needed.",
    )
    plan.add_argument("--json", type=Path, metavar="FILE", help="also write every resource as JSON")
    plan.add_argument("--resources", action="store_true", help="list every resource by name, not counts")
    plan.add_argument(
        "--diff", type=Path, metavar="BASE.json", help="show what changed versus a plan written by --json"
    )
    plan.add_argument(
        "--markdown",
        type=Path,
        metavar="FILE",
        help="append the summary as Markdown (counts per region; changes with --diff): $GITHUB_STEP_SUMMARY",
    )
    command(
        "check",
        _check_command,
        help="run the policy pack's rules over the offline plan; exit 1 on any violation",
        description="The rules `pulumi preview --policy-pack policy/` enforces, run over the offline "
        "plan of Pulumi.<stack>.yaml: no engine, no credentials.",
    )
    scan = command(
        "scan",
        _scan_command,
        help="run checkov over the offline plan (as a Terraform plan and Kubernetes manifests)",
        description="Export the offline plan as a Terraform plan JSON and Kubernetes manifests, run "
        "checkov on both, and accept only the failures policy/checkov-suppressions.yaml lists.",
    )
    scan.add_argument(
        "--checkov", type=Path, help="checkov executable (default: .venv-checkov, `make scanner`)"
    )
    scan.add_argument("--export", type=Path, metavar="DIR", help="also keep the exported plan and manifests")
    diagram = command(
        "diagram",
        _diagram_command,
        help="draw the architecture (regions, components, replication, steering) as SVG, from the plan",
        description="Run the offline plan of Pulumi.<stack>.yaml and draw what it declares, so the "
        "picture never drifts from the code.",
    )
    diagram.add_argument(
        "--output",
        type=Path,
        metavar="FILE.svg",
        help="where to write (default: docs/architecture-<stack>.svg)",
    )
    command(
        "latency",
        _latency_command,
        help="the round-trip floor from the world's large cities to their regions; exit 1 below target",
        description="Great-circle distance from each city of 100,000 or more to the region the steering "
        "serves it from, as a round-trip floor, against meridian:targets.",
        figures=True,
    )
    command(
        "availability",
        _availability_command,
        help="published SLAs composed over the plan's topology; exit 1 below target",
        description="Each region's parts in series, regions in parallel behind Cloudflare, with the "
        "figures of infra/analyses/data/sla.yaml, against meridian:targets.availability.",
        figures=True,
    )
    command(
        "capacity",
        _capacity_command,
        help="each region's ceiling and the peak with any one region lost; exit 1 if a region overflows",
        description="Ceilings from the sizes and meridian:workload, the peak of meridian:targets routed "
        "by the geo steering with every region up and with each region lost.",
        figures=True,
    )
    command(
        "cost",
        _cost_command,
        help="the monthly on-demand bill of the plan, per region and budget line; exit 1 over budget",
        description="Prices of infra/analyses/data/prices.yaml over what the offline plan declares and the "
        "volumes of meridian:workload.monthly, against meridian:budget.",
        figures=True,
    )
    command(
        "verify",
        _verify_command,
        help="read the live account (read-only); report drift from what the stack declares; exit 1 on drift",
        description="Every VPC, EKS cluster, Aurora cluster and ElastiCache group the offline plan of "
        "Pulumi.<stack>.yaml declares, read with boto3 and compared: existence, encryption, deletion "
        "protection, backups, Multi-AZ and global membership.",
        figures=True,
    )
    failover = command(
        "failover",
        _failover_command,
        help="the regional failover runbook: make REGION the writer of the database or the caches",
        description="Planned switchover (no data loss) or, with --unplanned, detach-and-promote when the "
        "writer's region is down; pre-checks, --dry-run, waiting with a timeout, a report, and the "
        "stack-file change the next `pulumi up` needs.",
    )
    failover.add_argument(
        "what", choices=["db", "cache"], help="the Aurora global database or the Redis stores"
    )
    failover.add_argument("--to", required=True, metavar="REGION", help="the secondary region to promote")
    failover.add_argument(
        "--unplanned",
        action="store_true",
        help="the writer's region is down: detach and promote (db: with --managed, AWS's failover)",
    )
    failover.add_argument(
        "--managed",
        action="store_true",
        help="db, with --unplanned: AWS's FailoverGlobalCluster (AllowDataLoss) instead of the detach, "
        "keeping the global database whole",
    )
    failover.add_argument(
        "--dry-run", action="store_true", help="check, and print each call without making it"
    )
    failover.add_argument("--store", help="cache: only this store (default: every store copied to REGION)")
    failover.add_argument(
        "--max-lag-ms",
        type=float,
        default=DEFAULT_MAX_LAG_MS,
        help=f"db, planned: most replication lag accepted ({DEFAULT_MAX_LAG_MS:g})",
    )
    failover.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        help=f"seconds to wait for AWS ({DEFAULT_TIMEOUT_S:g})",
    )
    game_day = command(
        "drill",
        _drill_command,
        help="a game day on staging: fail the database and caches over to the secondary and back, timed",
        description="Planned switchovers to the region the write home fails over to, then back, with "
        "each phase's recovery time written to a Markdown report. Refuses prod.",
    )
    game_day.add_argument("--report", type=Path, metavar="FILE.md", help="where to write the report")
    game_day.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        help=f"seconds to wait for each phase ({DEFAULT_TIMEOUT_S:g})",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = Console(highlight=False)
    errors = Console(stderr=True, highlight=False)
    return int(args.handler(args, console, errors))


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
