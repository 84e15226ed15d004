"""The session's plan cache serves a plan only for the very files it was made from."""

from __future__ import annotations

import gc
import shutil
from pathlib import Path

import pytest

from infra.config.errors import ConfigError
from infra.plan.run import Plan
from tests.plan_cache import PlanCache
from tests.support import PLANS, PROJECT_DIR, plan_of


def project_copy(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml"):
        shutil.copy(PROJECT_DIR / name, folder / name)
    return folder


def counted() -> tuple[PlanCache, list[tuple[Path, str]]]:
    calls: list[tuple[Path, str]] = []

    def run(project_dir: Path, stack: str, *_progress: object) -> Plan:
        calls.append((project_dir, stack))
        return Plan(project="p", stack=stack, resources=[])

    return PlanCache(run), calls


def test_the_same_files_from_another_folder_get_the_same_plan(tmp_path: Path) -> None:
    cache, calls = counted()
    first = cache(PROJECT_DIR, "staging")
    assert cache(project_copy(tmp_path), "staging") is first
    assert len(calls) == 1 and cache.runs == 1


def test_a_changed_stack_file_is_planned_anew(tmp_path: Path) -> None:
    cache, calls = counted()
    folder = project_copy(tmp_path)
    first = cache(folder, "staging")
    stack_file = folder / "Pulumi.staging.yaml"
    stack_file.write_text(stack_file.read_text().replace("writeHome: us-east-1", "writeHome: eu-west-1"))
    assert cache(folder, "staging") is not first
    assert len(calls) == 2


def test_a_cached_plan_is_moved_out_of_the_collectors_reach() -> None:
    """It lives as long as the session: full collections need not walk its objects each time."""
    cache, _ = counted()
    plan = cache(PROJECT_DIR, "staging")
    assert gc.is_tracked(plan)
    assert all(tracked is not plan for tracked in gc.get_objects())  # frozen objects are not listed


def test_a_failure_is_never_kept(tmp_path: Path) -> None:
    """An invalid stack file is refused by the real run each time; a missing one with its own error."""
    cache = PlanCache(PLANS.fresh)
    folder = project_copy(tmp_path)
    stack_file = folder / "Pulumi.staging.yaml"
    stack_file.write_text(stack_file.read_text().replace("writeHome: us-east-1", "writeHome: sa-east-1"))
    for _ in range(2):
        with pytest.raises(ConfigError, match="writeHome: sa-east-1 is not a region of this stack"):
            cache(folder, "staging")
    with pytest.raises(ConfigError, match=r"Pulumi\.qa\.yaml"):
        cache(folder, "qa")
    assert cache.runs == 0


def test_a_plan_written_into_is_caught(tmp_path: Path) -> None:
    cache, _ = counted()
    plan = cache(PROJECT_DIR, "staging")
    assert cache.changed() == []
    plan.outputs["writeHome"] = "eu-west-1"
    size = len((PROJECT_DIR / "Pulumi.staging.yaml").read_bytes())
    assert cache.changed() == [f"staging (stack file of {size} bytes)"]


@pytest.mark.slow
def test_the_program_is_deterministic_which_the_cache_relies_on() -> None:
    """A second, uncached run of the program declares byte for byte what the cached plan holds."""
    again = PLANS.fresh(PROJECT_DIR, "staging")
    assert again is not plan_of("staging")
    assert again.document() == plan_of("staging").document()


def test_every_caller_of_run_plan_is_served_by_the_cache() -> None:
    import infra.cli
    import infra.operations.failover
    import infra.plan.run
    import infra.reports.docs

    assert all(
        module.run_plan is PLANS for module in (infra.plan.run, infra.reports.docs, infra.operations.failover)
    )
    # The CLI imports the plan's module on first use, and so reaches the cache through it.
    assert infra.cli.run_plan(PROJECT_DIR, "staging") is plan_of("staging")


def test_workers_share_a_plan_through_the_folder(tmp_path: Path) -> None:
    """The second worker reads the first one's plan instead of running the program again."""
    first, first_calls = counted()
    second, second_calls = counted()
    for cache in (first, second):
        cache.share_in(tmp_path / "plans")
    made = first(PROJECT_DIR, "staging")
    read = second(PROJECT_DIR, "staging")
    assert (len(first_calls), len(second_calls)) == (1, 0) and (first.runs, second.runs) == (1, 0)
    assert read is not made and read.document() == made.document()
    assert [p.suffix for p in sorted((tmp_path / "plans").iterdir())] == [".lock", ".pickle"]


def test_a_failure_is_not_shared_either(tmp_path: Path) -> None:
    cache = PlanCache(PLANS.fresh)
    cache.share_in(tmp_path / "plans")
    folder = project_copy(tmp_path / "project")
    stack_file = folder / "Pulumi.staging.yaml"
    stack_file.write_text(stack_file.read_text().replace("writeHome: us-east-1", "writeHome: sa-east-1"))
    with pytest.raises(ConfigError):
        cache(folder, "staging")
    assert not list((tmp_path / "plans").glob("*.pickle"))
