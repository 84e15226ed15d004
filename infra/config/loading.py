"""Reading and validating a stack file, in two passes before any resource is declared:

1. pydantic parses every key (types, ranges, known AWS regions, private CIDRs, no unknown keys);
2. `rules.stack_rules` checks what involves several keys.

Every problem becomes a `ConfigIssue`; `ConfigError` carries them all, so one run reports every
mistake. Also: config values as the Pulumi engine hands them to a program.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .errors import ConfigError, ConfigIssue, _issue_from_error
from .naming import NAMESPACE, stack_name
from .rules import is_encrypted, secret_key_issues, stack_rules
from .schema import StackConfig

__all__ = [
    "MAX_DEPTH",
    "MAX_VALUES",
    "decode_engine_config",
    "decode_engine_value",
    "encrypted_setting",
    "engine_config",
    "load_stack_file",
    "namespace_values",
    "read_stack_file",
    "structure_issues",
    "validate_config",
]


def validate_config(values: dict[str, Any], source: str) -> StackConfig:
    """Validate the `meridian:` keys (namespace stripped) of the stack file `source`
    (`Pulumi.<stack>.yaml`); raise ConfigError."""
    try:
        config = StackConfig.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(source, [_issue_from_error(e) for e in exc.errors()]) from None
    issues = stack_rules(config, stack_name(source))
    if issues:
        raise ConfigError(source, issues)
    return config


def _split_key(key: str) -> tuple[str, str]:
    namespace, sep, name = key.partition(":")
    return (namespace, name) if sep else (NAMESPACE, key)


#: How deep a stack file's values may nest, and how many values it may hold once YAML aliases are
#: expanded: far above any real stack file (prod's nests 6 deep and holds about 500), far below what
#: would exhaust memory or the interpreter's stack.
MAX_DEPTH = 32
MAX_VALUES = 100_000
#: What a value may be: what JSON can carry, as the engine hands config to the program as JSON.
_PLAIN = (str, bool, int, float, type(None))
_MERGE_TAG = "tag:yaml.org,2002:merge"
#: What safe_load makes of YAML's other types, by the name a reader knows them by.
_YAML_KINDS = {"date": "date", "datetime": "timestamp", "bytes": "!!binary value", "set": "!!set"}


class _StackFileLoader(yaml.SafeLoader):
    """`yaml.safe_load`'s loader (no Python objects, no custom tags), but refusing a key given twice
    in one mapping: safe_load keeps the last one silently, so one of two settings would be ignored."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        first: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
                continue  # `<<:` merges may be overridden; complex keys are refused below
            key = self.construct_object(key_node)
            if key in first:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"found {key!r} twice (first on line {first[key].start_mark.line + 1}); keep one",
                    key_node.start_mark,
                )
            first[key] = key_node
        return super().construct_mapping(node, deep)


def _yaml_issue(exc: yaml.YAMLError) -> ConfigIssue:
    """PyYAML's error as one line: what, where, and what to do."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    what = f"{problem} ({context})" if context else problem
    return ConfigIssue(
        "(file)",
        f"not valid YAML{where}: {what}; fix it there (a stack file holds plain YAML: no tags such "
        "as !!python/object, each key once; `pulumi config set` writes it so)",
    )


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "empty (null)"
    return f"{type(value).__name__} {value!r}"


def structure_issues(config: dict[Any, Any]) -> list[ConfigIssue]:
    """What makes a `config:` block unusable before any key is checked: keys that are not
    `namespace:name` strings, values JSON cannot carry (dates, binary, sets), nesting beyond
    `MAX_DEPTH`, a value that contains itself or expands past `MAX_VALUES` (YAML aliases), a
    `secure:` that is not ciphertext alone, and an encrypted `meridian:` setting."""
    issues: list[ConfigIssue] = []
    budget = [MAX_VALUES]
    for key, value in config.items():
        if not isinstance(key, str):
            issues.append(
                ConfigIssue(
                    "config",
                    f"has a key that is {_describe(key)}, not a name; keys are `namespace:name` "
                    "strings: quote it or remove it",
                )
            )
            continue
        namespace, sep, name = key.partition(":")
        if sep and not (namespace and name):
            issues.append(
                ConfigIssue(key, "is not `namespace:name` (both parts non-empty); e.g. meridian:domain")
            )
            continue
        path = ":".join(_split_key(key))
        _walk(value, path, namespace if sep else NAMESPACE, 0, set(), budget, issues)
        if budget[0] < 0:
            break
    return issues


def _walk(
    value: Any,
    path: str,
    namespace: str,
    depth: int,
    within: set[int],
    budget: list[int],
    issues: list[ConfigIssue],
) -> None:
    budget[0] -= 1
    if budget[0] < 0:
        issues.append(
            ConfigIssue(
                path,
                f"expands to more than {MAX_VALUES} values (YAML anchors and aliases); write the "
                "values out instead of repeating an alias",
            )
        )
        return
    if depth > MAX_DEPTH:
        issues.append(ConfigIssue(path, f"nests deeper than {MAX_DEPTH} levels; no setting is that deep"))
        return
    if isinstance(value, _PLAIN):
        return
    if not isinstance(value, (dict, list)):
        kind = _YAML_KINDS.get(type(value).__name__, type(value).__name__)
        issues.append(ConfigIssue(path, f"is a YAML {kind} ({value!r}); quote it to make it a string"))
        return
    if id(value) in within:
        issues.append(
            ConfigIssue(path, "contains itself (a YAML alias inside its own anchor); write the value out")
        )
        return
    if isinstance(value, dict) and "secure" in value:
        issues.extend(_secure_issues(value, path, namespace))
        return
    within = within | {id(value)}
    if isinstance(value, list):
        for i, item in enumerate(value):
            _walk(item, f"{path}[{i}]", namespace, depth + 1, within, budget, issues)
            if budget[0] < 0:
                return
        return
    for key, item in value.items():
        if not isinstance(key, str):
            issues.append(
                ConfigIssue(
                    path,
                    f"has a key that is {_describe(key)}, not a name; quote it ('{key}':) or remove it",
                )
            )
            continue
        _walk(item, f"{path}.{key}", namespace, depth + 1, within, budget, issues)
        if budget[0] < 0:
            return


def _secure_issues(value: dict[Any, Any], path: str, namespace: str) -> list[ConfigIssue]:
    """`secure:` holds the ciphertext `pulumi config set --secret` wrote, and nothing beside it;
    and no `meridian:` setting is a secret: the program reads them as plain values (a secret one
    would reach the state unencrypted), and meridian's own commands cannot decrypt it to check it."""
    if not is_encrypted(value) or not isinstance(value["secure"], str) or not value["secure"]:
        return [
            ConfigIssue(
                path,
                "`secure:` must hold the ciphertext `pulumi config set --secret` writes, alone; set "
                "the value again with `pulumi config set --secret`",
            )
        ]
    return [encrypted_setting(path)] if namespace == NAMESPACE else []


def encrypted_setting(path: str) -> ConfigIssue:
    """A `meridian:` setting stored encrypted: the program reads its settings as plain values, so a
    secret one would reach the state unencrypted (and meridian's commands cannot decrypt it)."""
    return ConfigIssue(
        path,
        "is encrypted, but meridian's settings are plain values (only credentials such as "
        "cloudflare:apiToken are secrets); set it without --secret",
    )


def read_stack_file(path: Path) -> dict[str, Any]:
    """The `config:` block of a stack file, every key fully qualified (`meridian:regions`).
    Anything that is not a mapping of config keys (a file that is not UTF-8 or not YAML, a top
    level or `config:` that is not a mapping, keys that are not names, values JSON cannot carry)
    raises ConfigError naming the file, the key and the fix."""

    def refuse(where: str, problem: str) -> ConfigError:
        return ConfigError(path.name, [ConfigIssue(where, problem)])

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        stacks = sorted(p.name for p in path.parent.glob("Pulumi.*.yaml"))
        raise refuse("(file)", f"not found in {path.parent}; stack files here: {stacks}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise refuse(
            "(file)",
            f"is not UTF-8 (byte 0x{raw[exc.start]:02x} on line {line}); save it as UTF-8",
        ) from None
    try:
        document = yaml.load(text, Loader=_StackFileLoader)  # a SafeLoader: no Python objects
    except yaml.YAMLError as exc:
        raise ConfigError(path.name, [_yaml_issue(exc)]) from None
    except RecursionError:
        raise refuse(
            "(file)", f"nests too deeply to read; no setting is deeper than {MAX_DEPTH} levels"
        ) from None
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise refuse(
            "(file)",
            f"is {_describe(document)}, not a mapping; a stack file is `config:` followed by its "
            "`<namespace>:<key>: <value>` lines (`pulumi config set` writes them)",
        )
    config = document.get("config")
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise refuse(
            "config",
            f"must be a mapping of keys to values, not {_describe(config)}; write one "
            "`<namespace>:<key>: <value>` per line under it",
        )
    issues = structure_issues(config)
    if issues:
        raise ConfigError(path.name, issues)
    return {":".join(_split_key(k)): v for k, v in config.items()}


def namespace_values(config: dict[str, Any]) -> dict[str, Any]:
    """The `meridian:` keys of a fully qualified config map, namespace stripped."""
    return {
        name: value
        for namespace, name, value in ((*_split_key(k), v) for k, v in config.items())
        if namespace == NAMESPACE
    }


def load_stack_file(path: Path) -> StackConfig:
    """Read and validate a stack file; raise ConfigError naming the file on any problem."""
    config = read_stack_file(path)
    issues = secret_key_issues(config, lambda key: is_encrypted(config[key]))
    if issues:
        raise ConfigError(path.name, issues)
    return validate_config(namespace_values(config), path.name)


def engine_config(config: dict[str, Any]) -> dict[str, str]:
    """Config values as the Pulumi engine hands them to a program: strings, structured ones as JSON."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}


def decode_engine_config(config: dict[str, str | None], source: str) -> dict[str, Any]:
    """Config as the engine hands it to the program (`engine_config`), decoded, and held to what
    `read_stack_file` holds a stack file to (`structure_issues`); raise ConfigError naming `source`."""
    values: dict[str, Any] = {}
    issues: list[ConfigIssue] = []
    for key, value in config.items():
        try:
            values[key] = None if value is None else decode_engine_value(value)
        except RecursionError:
            issues.append(
                ConfigIssue(key, f"nests too deeply to read; no setting is deeper than {MAX_DEPTH} levels")
            )
    issues += structure_issues(values)
    if issues:
        raise ConfigError(source, issues)
    return values


def decode_engine_value(value: str) -> Any:
    """Inverse of `engine_config` for one value (plain strings stay strings)."""
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value
