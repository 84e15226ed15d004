"""Stack files that are not a mapping of config keys, at any level: every entry point refuses them
with exit 2 (or the program's RunError), naming the file, the key and the fix, never a traceback,
and nothing declared.

The entry points are the CLI's `plan` and `check` (which read the file) and the program `pulumi up`
runs (which gets the config from the engine, JSON-encoded). A seeded random corpus of broken files
checks the same of structures nobody thought of.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from pulumi.runtime.settings import ROOT
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from infra import program
from infra.cli import main
from infra.config.errors import ConfigError
from infra.config.loading import (
    MAX_DEPTH,
    MAX_VALUES,
    decode_engine_config,
    engine_config,
    load_stack_file,
    namespace_values,
    validate_config,
)
from infra.plan.mocks import PlanMocks, PlanMonitor
from tests.support import PROJECT_DIR

STACK_FILE = "Pulumi.staging.yaml"
BASE = (PROJECT_DIR / STACK_FILE).read_text(encoding="utf-8")


def edited(change: Callable[[dict[str, Any]], Any]) -> str:
    """Staging's stack file after `change(document)` (which may return a new document)."""
    document = yaml.safe_load(BASE)
    changed = change(document)
    return yaml.safe_dump(document if changed is None else changed, sort_keys=False)


def in_config(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda document: document["config"].__setitem__(key, value)


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"x": value}
    return value


#: Nine levels of nine aliases each: 9**9 (387 million) values once expanded, a few lines of text.
ALIAS_BOMB = (
    "config:\n  meridian:environment: staging\n  meridian:tags: &l0 [x, x, x, x, x, x, x, x, x]\n"
    + "".join(f"  aws:l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 10))
)

#: (id, the file's content, the key path named, a fragment of the fix)
CORPUS: list[tuple[str, str | bytes, str, str]] = [
    ("top-level-list", "- config\n- meridian:domain\n", "(file)", "a stack file is `config:` followed by"),
    ("top-level-scalar", "meridian:domain staging\n", "(file)", "a stack file is `config:` followed by"),
    ("top-level-number", "42\n", "(file)", "a stack file is `config:` followed by"),
    ("empty-file", "", "meridian:environment", "required key is missing; add it"),
    (
        "config-is-a-list",
        "config:\n  - meridian:domain\n",
        "config",
        "write one `<namespace>:<key>: <value>` per line",
    ),
    ("config-is-a-scalar", "config: yes\n", "config", "write one `<namespace>:<key>: <value>` per line"),
    ("config-is-null", "config:\n", "meridian:domain", "required key is missing; add it"),
    (
        "regions-is-a-mapping",
        edited(in_config("meridian:regions", {"us-east-1": {"role": "primary"}})),
        "meridian:regions",
        "write a list",
    ),
    (
        "region-entry-is-a-string",
        edited(in_config("meridian:regions", ["us-east-1", "eu-west-1"])),
        "meridian:regions[0]",
        "write a mapping of its settings",
    ),
    ("cdn-is-a-list", edited(in_config("meridian:cdn", ["a", "b"])), "meridian:cdn", "write a mapping"),
    (
        "nested-setting-is-a-list",
        edited(lambda d: d["config"]["meridian:eks"].__setitem__("endpoint", ["0.0.0.0/0"])),
        "meridian:eks.endpoint",
        "write a mapping of its settings",
    ),
    ("number-key", edited(in_config(1, "x")), "config", "quote it or remove it"),  # type: ignore[arg-type]
    ("null-key", edited(in_config(None, "x")), "config", "quote it or remove it"),  # type: ignore[arg-type]
    (
        "nested-number-key",
        edited(lambda d: d["config"]["meridian:tags"].__setitem__(7, "x")),
        "meridian:tags",
        "quote it ('7':) or remove it",
    ),
    ("empty-namespace", edited(in_config(":domain", "x")), ":domain", "both parts non-empty"),
    ("namespace-alone", edited(in_config("meridian:", "x")), "meridian:", "both parts non-empty"),
    # A key without its namespace is the project's (Pulumi's rule): here, one that does not exist.
    ("bare-unknown-key", edited(in_config("writeHomme", "us-east-1")), "meridian:writeHomme", "did you mean"),
    ("syntax-error", "config:\n  meridian:regions: [\n", "(file)", "fix it there"),
    ("tab-indent", "config:\n\tmeridian:domain: x\n", "(file)", "fix it there"),
    ("two-documents", BASE + "---\nconfig: {}\n", "(file)", "fix it there"),
    (
        "duplicate-key",
        BASE + "  meridian:writeHome: eu-west-1\n",
        "(file)",
        "found 'meridian:writeHome' twice",
    ),
    (
        "duplicate-nested-key",
        BASE.replace("  meridian:network:\n", "  meridian:network:\n    natGateways: perAz\n", 1),
        "(file)",
        "twice",
    ),
    (
        "python-object",
        "config:\n  meridian:domain: !!python/object:os.system [ls]\n",
        "(file)",
        "no tags such as",
    ),
    ("python-apply", "!!python/object/apply:os.system [echo hi]\n", "(file)", "no tags such as"),
    ("custom-tag", "config:\n  meridian:domain: !Ref Domain\n", "(file)", "no tags such as"),
    ("alias-bomb", ALIAS_BOMB, "aws:l", f"expands to more than {MAX_VALUES} values"),
    (
        "self-alias",
        "config:\n  meridian:tags: &t {owner: *t}\n",
        "meridian:tags.owner",
        "write the value out",
    ),
    (
        "too-deep",
        edited(in_config("meridian:tags", nested(MAX_DEPTH + 5))),
        "meridian:tags",
        "no setting is that deep",
    ),
    (
        "deeper-than-python",
        "config:\n  meridian:tags: " + "[" * 5000 + "]" * 5000 + "\n",
        "(file)",
        "nests too deeply",
    ),
    (
        "a-date",
        BASE.replace("meridian:domain: staging.meridian.example.com", "meridian:domain: 2026-12-03"),
        "meridian:domain",
        "quote it",
    ),
    (
        "binary",
        BASE.replace("meridian:domain: staging.meridian.example.com", "meridian:domain: !!binary aGk="),
        "meridian:domain",
        "quote it",
    ),
    (
        "latin-1",
        BASE.replace("staging.meridian", "stagé.meridian").encode("latin-1"),
        "(file)",
        "save it as UTF-8",
    ),
    ("utf-16", BASE.encode("utf-16"), "(file)", "save it as UTF-8"),
    ("nul-byte", "config:\n  meridian:domain: a\x00b\n", "(file)", "fix it there"),
    (
        "encrypted-setting",
        edited(in_config("meridian:domain", {"secure": "v1:AAAA"})),
        "meridian:domain",
        "set it without --secret",
    ),
    (
        "encrypted-nested-setting",
        edited(lambda d: d["config"]["meridian:tags"].__setitem__("owner", {"secure": "v1:AAAA"})),
        "meridian:tags.owner",
        "set it without --secret",
    ),
    (
        "secure-not-a-string",
        edited(in_config("cloudflare:apiToken", {"secure": 5})),
        "cloudflare:apiToken",
        "pulumi config set --secret",
    ),
    (
        "secure-empty",
        edited(in_config("cloudflare:apiToken", {"secure": ""})),
        "cloudflare:apiToken",
        "pulumi config set --secret",
    ),
    (
        "secure-with-company",
        edited(in_config("cloudflare:apiToken", {"secure": "v1:AAAA", "plain": "x"})),
        "cloudflare:apiToken",
        "pulumi config set --secret",
    ),
    (
        "credential-in-plain-text",
        edited(in_config("cloudflare:apiToken", "abc")),
        "cloudflare:apiToken",
        "pulumi config set --secret",
    ),
]


def project_with(tmp_path: Path, content: str | bytes) -> Path:
    (tmp_path / "Pulumi.yaml").write_text((PROJECT_DIR / "Pulumi.yaml").read_text())
    stack_file = tmp_path / STACK_FILE
    if isinstance(content, bytes):
        stack_file.write_bytes(content)
    else:
        stack_file.write_text(content, encoding="utf-8")
    return tmp_path


def assert_refused(message: str, path: str, fix: str) -> None:
    assert message.startswith(f"{STACK_FILE}: invalid stack config"), message
    assert "nothing was declared" in message
    assert f"  - {path}" in message, f"{path!r} not in {message!r}"
    assert fix in message, f"{fix!r} not in {message!r}"
    assert "Traceback" not in message


@pytest.mark.parametrize("command", ["plan", "check"])
@pytest.mark.parametrize(("content", "path", "fix"), [c[1:] for c in CORPUS], ids=[c[0] for c in CORPUS])
def test_the_cli_refuses_a_malformed_stack_file_with_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
    content: str | bytes,
    path: str,
    fix: str,
) -> None:
    project = project_with(tmp_path, content)
    assert main([command, "--stack", "staging", "--project-dir", str(project)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert_refused(captured.err, path, fix)


def test_the_console_script_refuses_the_worst_files_without_a_traceback(tmp_path: Path) -> None:
    """The installed entry point in its own process: the exit code and stderr a user sees."""
    worst = {"top-level-list", "latin-1", "alias-bomb", "python-apply", "deeper-than-python", "null-key"}
    for name, content, path, fix in (c for c in CORPUS if c[0] in worst):
        (tmp_path / name).mkdir()
        project = project_with(tmp_path / name, content)
        result = subprocess.run(
            [sys.executable, "-m", "infra.cli", "plan", "--stack", "staging", "--project-dir", str(project)],
            capture_output=True, text=True, timeout=120, cwd=PROJECT_DIR,
        )  # fmt: skip
        assert result.returncode == 2, (name, result.stderr)
        assert_refused(result.stderr, path, fix)


# --- the program `pulumi up` runs -------------------------------------------------------------


def staging_config() -> dict[str, Any]:
    return dict(yaml.safe_load(BASE)["config"])


#: What the engine accepts (it parses the YAML itself and hands over JSON) but meridian must refuse:
#: (id, change to the config, secret keys, the key path named, a fragment of the fix).
ENGINE_CORPUS: list[tuple[str, dict[str, Any], list[str], str, str]] = [
    ("regions-is-a-mapping", {"meridian:regions": {"us-east-1": {}}}, [], "meridian:regions", "write a list"),
    (
        "region-entry-is-a-string",
        {"meridian:regions": ["us-east-1"]},
        [],
        "meridian:regions[0]",
        "write a mapping",
    ),
    ("cdn-is-a-list", {"meridian:cdn": [1, 2]}, [], "meridian:cdn", "write a mapping"),
    ("environment-is-null", {"meridian:environment": None}, [], "meridian:environment", "'staging'"),
    ("regions-not-json", {"meridian:regions": "[us-east-1"}, [], "meridian:regions", "write a list"),
    ("too-deep", {"meridian:tags": nested(MAX_DEPTH + 5)}, [], "meridian:tags", "no setting is that deep"),
    ("encrypted-setting", {}, ["meridian:domain"], "meridian:domain", "set it without --secret"),
    ("credential-in-plain-text", {"cloudflare:apiToken": "abc"}, [], "cloudflare:apiToken", "--secret"),
]


@pytest.mark.parametrize(
    ("change", "secret_keys", "path", "fix"),
    [c[1:] for c in ENGINE_CORPUS],
    ids=[c[0] for c in ENGINE_CORPUS],
)
def test_the_program_refuses_malformed_engine_config_with_a_run_error(
    change: dict[str, Any], secret_keys: list[str], path: str, fix: str
) -> None:
    config = staging_config() | change
    mocks = PlanMocks()
    monitor = PlanMonitor(mocks)
    ROOT.set(None)
    pulumi.runtime.set_all_config(engine_config(config), secret_keys)
    pulumi.runtime.set_mocks(mocks, project="meridian", stack="staging", preview=False, monitor=monitor)
    with pytest.raises(pulumi.RunError) as caught:
        _sync_await(run_pulumi_func(program.main))
    assert_refused(str(caught.value), path, fix)
    assert monitor.recorded == []


def test_a_value_nested_past_what_json_can_decode_is_refused() -> None:
    """The engine's JSON of a value deeper than Python's recursion limit (json.loads raises
    RecursionError, not ValueError)."""
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(ConfigError) as caught:
        decode_engine_config({"meridian:tags": deep}, STACK_FILE)
    assert_refused(str(caught.value), "meridian:tags", "nests too deeply")


# --- random structures --------------------------------------------------------------------------


def random_value(rng: random.Random, depth: int = 0) -> Any:
    """Any YAML structure safe_dump writes: scalars of every type, lists and mappings with keys of
    any scalar type, nested a few levels."""
    scalars: list[Callable[[], Any]] = [
        lambda: rng.choice(
            ["", "x", "us-east-1", "10.0.0.0/16", "yes", "null", "secure", "meridian:regions"]
        ),
        lambda: rng.randint(-(2**70), 2**70),
        lambda: rng.choice([0.5, float("inf"), float("nan"), -0.0]),
        lambda: rng.choice([True, False, None]),
    ]
    kind = rng.random()
    if depth > 4 or kind < 0.5:
        return rng.choice(scalars)()
    if kind < 0.75:
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    keys: list[Callable[[], Any]] = [
        *scalars,
        lambda: rng.choice(["role", "cidr", "secure", "name", "stores"]),
    ]
    return {rng.choice(keys)(): random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def paths_of(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a structure a value sits."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths_of(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += paths_of(item, (*prefix, i))
    return found


def broken_document(rng: random.Random) -> Any:
    """Staging's stack file with one place (the whole file, `config:`, or any value at any depth)
    replaced by a random structure."""
    document = yaml.safe_load(BASE)
    where = rng.choice(paths_of(document))
    if not where:
        return random_value(rng)
    parent = document
    for part in where[:-1]:
        parent = parent[part]
    parent[where[-1]] = random_value(rng)
    return document


def load_from_engine(engine: dict[str, str | None]) -> Any:
    """What `load_runtime_config` does with the engine's config."""
    return validate_config(namespace_values(decode_engine_config(engine, STACK_FILE)), STACK_FILE)


def assert_loads_or_refuses(load: Callable[[Any], Any], given: Any) -> None:
    try:
        load(given)
    except ConfigError as exc:
        message = str(exc)
        assert message.startswith(f"{STACK_FILE}: invalid stack config") and "\n  - " in message
        assert all(issue.path and issue.problem for issue in exc.issues)


@pytest.mark.parametrize("seed", range(8))
def test_no_random_structure_crashes_the_loaders(tmp_path: Path, seed: int) -> None:
    """25 broken files a seed, through the CLI's loader and the program's (its JSON as the engine
    would pass it): each either loads or is refused with a ConfigError, never anything else."""
    rng = random.Random(seed)
    for case in range(25):
        document = broken_document(rng)
        text = yaml.safe_dump(document, sort_keys=False)
        stack_file = tmp_path / f"{case}" / STACK_FILE
        stack_file.parent.mkdir()
        stack_file.write_text(text, encoding="utf-8")
        assert_loads_or_refuses(load_stack_file, stack_file)
        config = document.get("config") if isinstance(document, dict) else None
        if isinstance(config, dict) and all(isinstance(k, str) for k in config):
            engine = {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}
            assert_loads_or_refuses(load_from_engine, engine)


@pytest.mark.parametrize("seed", range(4))
def test_no_corrupted_text_crashes_the_loader(tmp_path: Path, seed: int) -> None:
    """Staging's file with bytes flipped, inserted, deleted or the file cut short."""
    rng = random.Random(seed)
    original = BASE.encode("utf-8")
    for case in range(25):
        corrupt = bytearray(original)
        for _ in range(rng.randint(1, 6)):
            at = rng.randrange(len(corrupt))
            action = rng.choice(["flip", "insert", "delete", "cut"])
            if action == "flip":
                corrupt[at] = rng.randrange(256)
            elif action == "insert":
                corrupt[at:at] = bytes([rng.choice(b"-:[]{}&*!|>'\"#%@`\t\n ")])
            elif action == "delete":
                del corrupt[at]
            else:
                del corrupt[at:]
            if not corrupt:
                break
        stack_file = tmp_path / f"{case}" / STACK_FILE
        stack_file.parent.mkdir()
        stack_file.write_bytes(bytes(corrupt))
        assert_loads_or_refuses(load_stack_file, stack_file)


def test_the_corpus_files_are_what_they_claim(tmp_path: Path) -> None:
    """The corpus is not vacuous: the unedited file loads, and every entry differs from it."""
    assert load_stack_file(project_with(tmp_path, BASE) / STACK_FILE).environment.value == "staging"
    assert all(content != BASE for _, content, _, _ in CORPUS)
