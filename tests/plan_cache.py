"""One offline plan per stack file content, shared by every test of a session.

A plan is a pure function of the project file, the stack file and the code: the mocks are
deterministic and the program reads nothing else. So `run_plan` is wrapped for the whole session
(and everything that calls it: `plan_after`, the CLI's commands, the failover's plan diff): the first
call with a given (Pulumi.yaml, Pulumi.<stack>.yaml, stack) runs the program, every later one with
the same bytes, from any folder, gets that plan back. Twenty-odd tests asked for prod's plan and ran
it again each time; a failover test ran the same variant three times.

Under pytest-xdist the workers share their plans too: `share_in(folder)` makes the first worker to
need a plan write it there (pickled, under a lock), and the others read it instead of running the
program again (a prod plan: 30 ms to read, 10 s to make).

Only plans are kept, never failures: an invalid stack file is refused afresh each time (cheaply,
before anything is declared), with the message and exception of the real run.

Cached plans are shared objects, so tests must only read them. `PlanCache.changed` compares each
plan with its fingerprint from when it was made (every field of every resource, the outputs and
the validated config); conftest's `shared_plans_stay_untouched` fails the session's end on it.
"""

from __future__ import annotations

import fcntl
import gc
import hashlib
import pickle
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from infra.plan.run import Plan

__all__ = ["PlanCache"]

RunPlan = Callable[..., Plan]  # infra.plan.run.run_plan
Progress = Callable[[int], None]


def _fingerprint(plan: Plan) -> str:
    return hashlib.sha256(pickle.dumps((plan.resources, plan.outputs, plan.config))).hexdigest()


class PlanCache:
    """`run_plan`, memoised by the content of the files it reads."""

    def __init__(self, run_plan: RunPlan) -> None:
        self._run_plan = run_plan
        self._plans: dict[tuple[bytes, bytes, str], tuple[Plan, str]] = {}
        self._shared: Path | None = None
        self.runs = 0  # programs actually run (the rest were served from the cache)

    def share_in(self, folder: Path) -> None:
        """Share plans through *folder* with the other processes of this test run."""
        folder.mkdir(parents=True, exist_ok=True)
        self._shared = folder

    def __call__(self, project_dir: Path, stack: str, on_register: Progress | None = None) -> Plan:
        project, stack_file = project_dir / "Pulumi.yaml", project_dir / f"Pulumi.{stack}.yaml"
        if not (project.is_file() and stack_file.is_file()):
            return self._run_plan(project_dir, stack)  # its own error, as without the cache
        key = (project.read_bytes(), stack_file.read_bytes(), stack)
        if key not in self._plans:  # (a plan served from the cache reports no progress)
            plan = self._shared_or_run(key, lambda: self._run_plan(project_dir, stack, on_register))
            self._plans[key] = (plan, _fingerprint(plan))
            # A cached plan lives as long as the session, so the collector need not walk its objects
            # again in each full collection; everything alive now moves out of its reach for good.
            gc.freeze()
        return self._plans[key][0]

    def _shared_or_run(self, key: tuple[bytes, bytes, str], run: Callable[[], Plan]) -> Plan:
        if self._shared is None:
            plan = run()
            self.runs += 1
            return plan
        digest = hashlib.sha256(b"\0".join((key[0], key[1], key[2].encode()))).hexdigest()
        stored = self._shared / f"{digest}.pickle"
        with (self._shared / f"{digest}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, failure or not
            if stored.exists():
                plan: Plan = pickle.loads(stored.read_bytes())
                return plan
            plan = run()
            self.runs += 1
            partial = stored.with_suffix(".partial")
            partial.write_bytes(pickle.dumps(plan))
            partial.replace(stored)  # whole or absent, never half-written
            return plan

    def fresh(
        self, project_dir: Path, stack: str, on_register: Progress | None = None, **options: Any
    ) -> Plan:
        """A new run of the program, past the cache (for tests of the program's determinism, and
        of another account's answers: `mocks=PlanMocks(zones=...)`)."""
        return self._run_plan(project_dir, stack, on_register, **options)

    def install(self) -> None:
        """Put the cache in place of `run_plan` in every `infra` module imported so far (`plan.run`
        among them, so a module imported later takes the cache with `from ..plan.run import run_plan`)."""
        for name, module in list(sys.modules.items()):
            if name.partition(".")[0] == "infra" and getattr(module, "run_plan", None) is self._run_plan:
                module.run_plan = self  # type: ignore[attr-defined]

    def changed(self) -> list[str]:
        """The stacks whose cached plan no longer matches its fingerprint (a test wrote into it)."""
        return [
            f"{plan.stack} (stack file of {len(key[1])} bytes)"
            for key, (plan, fingerprint) in self._plans.items()
            if _fingerprint(plan) != fingerprint
        ]
