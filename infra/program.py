"""The meridian stack program: config in, one RegionStack per region, outputs out.

`pulumi up` runs `main()` through `infra/__main__.py`; `meridian plan` runs the very same `main()`
under mocks. Config is read from the Pulumi runtime (what the engine hands the program), validated
in full before the first resource is declared; a bad stack file ends the run with the validation
message and no traceback.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from components import NetworkError, RegionStack

from .stack_config import (
    NAMESPACE,
    ConfigError,
    StackConfig,
    decode_engine_value,
    namespace_values,
    validate_config,
)

__all__ = ["build", "load_runtime_config", "main"]


def load_runtime_config(stack: str) -> StackConfig:
    """Validate every `meridian:` key the engine passed to this program (raises ConfigError)."""
    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    values = {
        key: decode_engine_value(runtime_config.get_config(key))
        for key in keys
        if key.startswith(f"{NAMESPACE}:")
    }
    return validate_config(namespace_values(values), f"Pulumi.{stack}.yaml")


def build(config: StackConfig, stack: str) -> dict[str, RegionStack]:
    """Declare the platform: one RegionStack per configured region, named after the region."""
    return {args.region: RegionStack(args.region, args) for args in config.region_args(stack)}


def main() -> dict[str, Any]:
    """The Pulumi program. Returns the exported values (also handy under mocks)."""
    stack = pulumi.get_stack()
    try:
        config = load_runtime_config(stack)
        regions = build(config, stack)
    except (ConfigError, NetworkError) as exc:
        # RunError ends the program with this message alone: no traceback for a config mistake.
        raise pulumi.RunError(str(exc)) from None
    exports: dict[str, Any] = {
        "environment": config.environment.value,
        "writeHome": config.write_home,
        "regions": {name: region.outputs() for name, region in regions.items()},
    }
    for key, value in exports.items():
        pulumi.export(key, value)
    return exports
