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
    "decode_engine_value",
    "engine_config",
    "load_stack_file",
    "namespace_values",
    "read_stack_file",
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


def read_stack_file(path: Path) -> dict[str, Any]:
    """The `config:` block of a stack file, every key fully qualified (`meridian:regions`)."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        stacks = sorted(p.name for p in path.parent.glob("Pulumi.*.yaml"))
        raise ConfigError(
            path.name,
            [ConfigIssue("(file)", f"not found in {path.parent}; stack files here: {stacks}")],
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(path.name, [ConfigIssue("(file)", f"not valid YAML: {exc}")]) from None
    config = (document or {}).get("config") or {}
    if not isinstance(config, dict):
        raise ConfigError(path.name, [ConfigIssue("config", "must be a mapping of keys to values")])
    return {":".join(_split_key(str(k))): v for k, v in config.items()}


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


def decode_engine_value(value: str) -> Any:
    """Inverse of `engine_config` for one value (plain strings stay strings)."""
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value
