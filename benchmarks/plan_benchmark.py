"""Time the offline plan of a stack against the bare Pulumi mock floor, in the same run.

The floor replays the very registrations the plan makes (same count, type tokens, names, parents,
providers and inputs, as plain values) under the same mock engine and monitor, with none of
meridian's components, config, Output plumbing or invokes; the ratio is what meridian's own work
costs on top of what the SDK must do for those resources anyway. Both are timed twice:

- as whole processes, what a reviewer waits for: `meridian plan --stack S` against a process that
  imports the same SDK modules the plan imported and replays the registrations;
- in one warm process, the program's run alone (imports done).

    python benchmarks/plan_benchmark.py --stack prod --repeat 3
"""

from __future__ import annotations

import argparse
import importlib
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pulumi

from infra.plan.mocks import RecordedResource
from infra.plan.run import Plan, find_project_dir, run_plan, run_program

#: Top-level packages whose loaded modules the floor process imports too (the SDKs and their RPC).
SDK_PACKAGES = ("pulumi", "pulumi_aws", "pulumi_kubernetes", "pulumi_cloudflare", "pulumi_random",
                "pulumi_tls", "pulumiverse_grafana", "grpc", "google")  # fmt: skip


def replay(recorded: Sequence[RecordedResource]) -> Callable[[], None]:
    """A program that registers *recorded* again, bare: generic resources with the same inputs,
    parent, provider, dependencies, `protect` and `ignore_changes` (components register no
    outputs: the plan does not record them)."""

    def main() -> None:
        made: dict[str, pulumi.Resource] = {}
        for r in recorded:
            parent = made.get(r.parent or "")
            if r.type.startswith("pulumi:providers:"):
                package = r.type.rsplit(":", 1)[-1]
                opts = pulumi.ResourceOptions(parent=parent)
                made[r.urn] = pulumi.ProviderResource(package, r.name, dict(r.inputs), opts)
            elif r.custom:
                opts = pulumi.ResourceOptions(
                    parent=parent,
                    provider=made.get(r.provider or ""),  # type: ignore[arg-type]
                    depends_on=[made[urn] for urn in r.dependencies if urn in made],
                    protect=r.protect,
                    ignore_changes=r.ignore_changes or None,
                )
                made[r.urn] = pulumi.CustomResource(r.type, r.name, dict(r.inputs), opts)
            else:
                made[r.urn] = pulumi.ComponentResource(
                    r.type, r.name, None, pulumi.ResourceOptions(parent=parent)
                )

    return main


def replay_floor(plan: Plan) -> Plan:
    return run_program(replay(plan.resources), project=plan.project, stack=plan.stack)


def best_and_median(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def _process(command: Sequence[str]) -> Callable[[], None]:
    def run() -> None:
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)

    return run


def _floor_process(dump: Path) -> None:
    """The floor as a process of its own: import what the plan imported, replay, exit."""
    modules, recorded = pickle.loads(dump.read_bytes())
    for name in modules:
        importlib.import_module(name)
    run_program(replay(recorded), project="meridian", stack="floor")


def _row(label: str, plan: tuple[float, float], floor: tuple[float, float]) -> list[str]:
    return [
        f"{label}: offline plan best {plan[0] * 1000:8.1f} ms   median {plan[1] * 1000:8.1f} ms",
        f"{label}: mock floor   best {floor[0] * 1000:8.1f} ms   median {floor[1] * 1000:8.1f} ms",
        f"{label}: ratio plan/floor best {plan[0] / floor[0]:6.2f}x   median {plan[1] / floor[1]:6.2f}x",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stack", default="prod")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--in-process-only", action="store_true", help="skip the whole-process timings (a quick check)"
    )
    parser.add_argument("--floor-from", type=Path, help=argparse.SUPPRESS)  # the floor's own process
    args = parser.parse_args()
    if args.floor_from:
        _floor_process(args.floor_from)
        return
    project = find_project_dir(Path(__file__).parent)

    plan = run_plan(project, args.stack)  # warm-up, and what the floor replays
    floor = replay_floor(plan)
    assert sorted(r.urn for r in floor.resources) == sorted(r.urn for r in plan.resources)
    modules = sorted(m for m in sys.modules if m.split(".")[0] in SDK_PACKAGES)
    rows = [f"resources registered: {len(plan.resources)} (stack {args.stack}), {args.repeat} runs each"]

    with tempfile.TemporaryDirectory() as scratch:
        dump = Path(scratch) / "registrations.pickle"
        if args.in_process_only:
            return _in_process(rows, project, args, plan)
        dump.write_bytes(pickle.dumps((modules, plan.resources)))
        meridian = [sys.executable, "-m", "infra.cli"]  # the console script's code, from sys.path
        whole: Any = _process([*meridian, "plan", "--stack", args.stack, "--project-dir", str(project)])
        bare: Any = _process([sys.executable, __file__, "--floor-from", str(dump)])
        rows += _row("process", best_and_median(whole, args.repeat), best_and_median(bare, args.repeat))
    _in_process(rows, project, args, plan)


def _in_process(rows: list[str], project: Path, args: argparse.Namespace, plan: Plan) -> None:
    in_process = best_and_median(lambda: run_plan(project, args.stack), args.repeat)
    rows += _row("in-process", in_process, best_and_median(lambda: replay_floor(plan), args.repeat))
    print("\n".join(rows))


if __name__ == "__main__":
    main()
