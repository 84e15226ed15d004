"""Time the offline plan of a stack against the bare Pulumi mock floor, in the same run.

The floor registers as many plain resources as the plan declares, under the same mock engine, with no
config, components, invokes or logic; the ratio says how much of the plan's time is meridian's own.

    python benchmarks/plan_benchmark.py --stack prod --repeat 5
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import pulumi
from pulumi.runtime.settings import ROOT
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from infra.mocks import PlanMocks, PlanMonitor
from infra.plan import find_project_dir, run_plan


class _Plain(pulumi.CustomResource):
    def __init__(self, name: str) -> None:
        super().__init__("bench:index:Plain", name, {"value": name})


def mock_floor(count: int) -> None:
    """Register *count* plain custom resources under the same mock engine the plan uses."""
    mocks = PlanMocks()
    ROOT.set(None)
    pulumi.runtime.set_mocks(mocks, project="bench", stack="floor", preview=False,
                             monitor=PlanMonitor(mocks))  # fmt: skip
    _sync_await(run_pulumi_func(lambda: [_Plain(f"r{i}") for i in range(count)] and None))


def best_and_median(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stack", default="prod")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    project = find_project_dir(Path(__file__).parent)

    count = len(run_plan(project, args.stack).resources)  # warm-up; also the floor's size
    plan_best, plan_median = best_and_median(lambda: run_plan(project, args.stack), args.repeat)
    floor_best, floor_median = best_and_median(lambda: mock_floor(count), args.repeat)
    print(f"resources registered: {count} (stack {args.stack}), {args.repeat} runs each")
    print(f"offline plan     best {plan_best * 1000:8.1f} ms   median {plan_median * 1000:8.1f} ms")
    print(f"mock floor       best {floor_best * 1000:8.1f} ms   median {floor_median * 1000:8.1f} ms")
    print(f"ratio plan/floor best {plan_best / floor_best:8.2f}x   median {plan_median / floor_median:8.2f}x")


if __name__ == "__main__":
    main()
