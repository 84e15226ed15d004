"""Where things live in `components/`: one folder per family, the same file roles in each.

- a ComponentResource `FooBar` is declared in `<family>/foo_bar.py`, and nothing else declares one;
- a family's typed inputs (every `*Args` and `*Settings` model) are in its `args.py`;
- `args.py` and `policies.py` import no Pulumi SDK (a stack file is validated before any is loaded,
  and a policy is a pure function of ARNs);
- `components` exports every component and its args (the public API);
- no test module imports another: what they share is in `tests/support.py`;
- `tests/components/<family>/` and `tests/infra/<job>/` test the package of the same path.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

import components
from tests.support import PROJECT_DIR

PACKAGE = PROJECT_DIR / "components"
FAMILIES = sorted(p for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists())


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def classes(path: Path) -> list[ast.ClassDef]:
    return [node for node in ast.parse(path.read_text()).body if isinstance(node, ast.ClassDef)]


def bases(node: ast.ClassDef) -> set[str]:
    return {ast.unparse(base) for base in node.bases}


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.partition(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.partition(".")[0])
    return found


def test_there_is_no_module_outside_a_family() -> None:
    assert sorted(p.name for p in PACKAGE.glob("*.py")) == ["__init__.py"]
    assert {p.name for p in FAMILIES} >= {"core", "network", "eks", "postgres", "redis", "edge", "region"}


def test_each_component_lives_in_the_module_named_after_it() -> None:
    misplaced = [
        f"{path.relative_to(PROJECT_DIR)}: {node.name}"
        for path in PACKAGE.rglob("*.py")
        for node in classes(path)
        if "pulumi.ComponentResource" in bases(node) and path.stem != snake(node.name)
    ]
    assert misplaced == []


def test_each_familys_inputs_are_in_its_args() -> None:
    misplaced = [
        f"{path.relative_to(PROJECT_DIR)}: {node.name}"
        for path in PACKAGE.rglob("*.py")
        for node in classes(path)
        if re.search(r"(Args|Settings)$", node.name) and path.name != "args.py"
    ]
    assert misplaced == []


def test_args_and_policies_import_no_pulumi_sdk() -> None:
    """The modules imported one after another in a fresh interpreter (relative imports included):
    the first that loads a Pulumi SDK or boto3 is named."""
    modules = [
        ".".join(path.relative_to(PROJECT_DIR).with_suffix("").parts)
        for path in sorted([*PACKAGE.rglob("args.py"), *PACKAGE.rglob("policies.py")])
    ]
    probe = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "    heavy = sorted(m for m in sys.modules if m.split('.')[0].startswith(('pulumi', 'boto')))\n"
        "    if heavy:\n"
        "        sys.exit(f'{name} imports {heavy[:3]}')\n"
    )
    run = subprocess.run([sys.executable, "-c", probe], cwd=PROJECT_DIR, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]


def test_every_component_and_its_args_are_exported() -> None:
    declared = {
        node.name
        for path in PACKAGE.rglob("*.py")
        for node in classes(path)
        if "pulumi.ComponentResource" in bases(node) or node.name.endswith("Args")
    }
    assert declared - set(components.__all__) == set()


def test_no_test_module_imports_another() -> None:
    crossing = [
        f"{path.name}: {node.module}"
        for path in (PROJECT_DIR / "tests").rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom)
        and (node.module or "").rpartition(".")[2].startswith(("test_", "conftest"))
    ]
    assert crossing == []


def test_the_tests_mirror_the_packages() -> None:
    """`tests/components/eks/` tests `components/eks/`, `tests/infra/plan/` tests `infra/plan/`."""
    tests = PROJECT_DIR / "tests"
    orphans = [
        str(folder.relative_to(tests))
        for top in ("components", "infra")
        for folder in (tests / top).rglob("*")
        if folder.is_dir()
        and folder.name != "__pycache__"
        and not (PROJECT_DIR / folder.relative_to(tests) / "__init__.py").exists()
    ]
    assert orphans == []


def test_a_renamed_public_name_still_resolves_with_a_warning() -> None:
    with pytest.warns(DeprecationWarning, match=r"components\.EksDefaults is now components\.EksSettings"):
        renamed = components.EksDefaults
    assert renamed is components.EksSettings
