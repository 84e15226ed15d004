"""The project files that make `pulumi up`, `pip install` and CI work."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support import PROJECT_DIR


def test_pulumi_yaml_is_a_python_project_whose_main_is_the_program() -> None:
    project = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())
    assert project["name"] == "meridian"
    assert project["runtime"]["name"] == "python"
    assert project["runtime"]["options"]["virtualenv"] == ".venv"
    assert project["runtime"]["options"]["toolchain"] == "pip"
    main = PROJECT_DIR / project["main"]
    assert (main / "__main__.py").is_file()
    # Pulumi runs `pip install -r requirements.txt` in the program directory (main), so the file
    # lives there and installs the project one level up.
    assert (main / "requirements.txt").read_text().splitlines()[-1] == "-e .."
    assert not (PROJECT_DIR / "requirements.txt").exists()


def test_dependencies_are_pinned() -> None:
    import tomllib

    pyproject = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())
    deps = pyproject["project"]["dependencies"] + pyproject["project"]["optional-dependencies"]["test"]
    assert deps and all("==" in d for d in deps), deps


def test_ci_runs_the_readme_test_command() -> None:
    readme = (PROJECT_DIR / "README.md").read_text()
    assert "make test" in readme and "make plan" in readme
    assert "make test" in (PROJECT_DIR / ".ci" / "run").read_text()


def test_no_machine_paths_in_tracked_files() -> None:
    from pathlib import Path

    machine_paths = (str(PROJECT_DIR), f"{Path.home()}/")
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=PROJECT_DIR, capture_output=True, text=True, check=True
    ).stdout.split()
    for name in tracked:
        path = PROJECT_DIR / name
        if path.suffix in {".py", ".yaml", ".yml", ".toml", ".md", ".txt", ".svg", ""} and path.is_file():
            text = path.read_text(errors="ignore")
            assert not any(p in text for p in machine_paths), name


def test_docs_reference_blocks_are_generated_from_the_code() -> None:
    """The config reference, the guardrails and each component's reference, in the pages that hold them."""
    from infra.reports.docs import PAGES, replace_blocks

    for page in sorted(set(PAGES.values())):
        text = page.read_text()
        assert replace_blocks(page, text) == text, f"{page.name}: run: python -m infra.reports.docs --write"


#: A Markdown link or image, `[text](target)` (the target ends at a space: `(x.md "title")`).
LINK = re.compile(r"\]\(([^)\s]+)")


def test_readme_is_a_front_page_and_every_docs_link_resolves() -> None:
    """README.md stays a front page; the reference lives in docs/, and no relative link there is dead."""
    readme = PROJECT_DIR / "README.md"
    assert len(readme.read_text().splitlines()) <= 420, "README.md is the front page: move reference to docs/"
    dead = []
    for page in [readme, *sorted((PROJECT_DIR / "docs").rglob("*.md"))]:
        prose = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.MULTILINE | re.DOTALL)
        for target in LINK.findall(prose):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue  # a URL, or a heading of the page itself
            if not (page.parent / target.split("#", 1)[0]).exists():
                dead.append(f"{page.relative_to(PROJECT_DIR)}: {target}")
    assert not dead, dead


def test_edge_steering_table_is_prods_computed_one(prod_plan) -> None:
    """The table in "The edge" (docs/components/cdn-edge.md) is what the program steers, row for row
    (edit the code, not the table)."""
    from components.edge.geo import CloudflareRegion

    edge = (PROJECT_DIR / "docs" / "components" / "cdn-edge.md").read_text()
    for code, order in prod_plan.outputs["cdn"]["steering"].items():
        row = f"| {code} | {CloudflareRegion(code).place.name} | {' → '.join(order)} |"
        assert row in edge, f"docs/components/cdn-edge.md steering row out of date: {row}"


def test_config_reference_validation_example_is_what_the_program_prints(prod_values) -> None:
    import pytest as _pytest

    from infra.config.errors import ConfigError
    from infra.config.loading import validate_config

    prod_values["regions"][5]["cidr"] = "10.1.0.0/16"
    with _pytest.raises(ConfigError) as caught:
        validate_config(prod_values, "Pulumi.prod.yaml")
    assert str(caught.value) in (PROJECT_DIR / "docs" / "config-reference.md").read_text()


@pytest.mark.slow
def test_benchmark_runs() -> None:
    """The warm measurement end to end (the whole-process one is two `meridian plan`-sized
    processes more: the test below runs its floor process on a few registrations)."""
    import sys

    result = subprocess.run(
        [sys.executable, "benchmarks/plan_benchmark.py", "--stack", "staging", "--repeat", "1",
         "--in-process-only"],
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "in-process: ratio plan/floor" in result.stdout


def test_the_benchmarks_floor_process_replays_what_it_is_given(tmp_path: Path) -> None:
    """The floor's own process: it imports the modules it is told, then replays the registrations."""
    import pickle
    import sys

    from tests.support import plan_of

    recorded = plan_of("staging").resources[:40]  # providers and components come before their children
    dump = tmp_path / "registrations.pickle"
    dump.write_bytes(pickle.dumps((["pulumi_random", "pulumi_tls"], recorded)))
    probe = (
        "import runpy, sys\n"
        "import infra.plan.run\n"
        "seen = []\n"
        "real = infra.plan.run.run_program\n"
        "def recording(*a, **k):\n"
        "    plan = real(*a, **k)\n"
        "    seen.append(sorted(r.urn.split('::', 2)[-1] for r in plan.resources))\n"
        "    return plan\n"
        "infra.plan.run.run_program = recording\n"
        f"sys.argv = ['plan_benchmark.py', '--floor-from', {str(dump)!r}]\n"
        "runpy.run_path('benchmarks/plan_benchmark.py', run_name='__main__')\n"
        "print('pulumi_tls' in sys.modules, seen[0])\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=PROJECT_DIR, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    expected = sorted(r.urn.split("::", 2)[-1] for r in recorded)
    assert result.stdout.strip() == f"True {expected}"


@pytest.mark.slow
def test_feedback_benchmark_runs() -> None:
    import sys

    result = subprocess.run(
        [sys.executable, "benchmarks/feedback_benchmark.py", "--repeat", "1"],
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        "bad staging stack file refused" in result.stdout and "bad prod stack file refused" in result.stdout
    )
