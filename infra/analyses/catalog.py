"""The instance types the stacks size with: vCPUs and memory, from `infra/analyses/data/instances.yaml`.

`meridian capacity` packs pods onto nodes and divides instance vCPUs by per-vCPU rates with these;
`meridian cost` bills an RDS Proxy by the vCPUs behind it. One table, so the two cannot disagree on
what a type is; a type the table lacks is an error that names the file to add it to. `load_data`
reads any of the package's data tables (`infra/analyses/data/`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

import yaml

__all__ = ["CatalogError", "InstanceSpec", "instance_spec", "load_data"]

INSTANCES_FILE = "data/instances.yaml"


class CatalogError(ValueError):
    """A stack sizes with a type (or prices in a region) the shipped tables do not list."""


@dataclass(frozen=True)
class InstanceSpec:
    name: str
    vcpu: int
    memory_gib: float


def load_data(name: str) -> Any:
    """A YAML data file shipped with the analyses: `name` is under `infra/analyses/` (`data/sla.yaml`)."""
    return yaml.safe_load(files("infra.analyses").joinpath(name).read_text(encoding="utf-8"))


@cache
def _specs() -> dict[str, InstanceSpec]:
    specs: dict[str, InstanceSpec] = {}
    for family in load_data(INSTANCES_FILE).values():
        for name, figures in family["types"].items():
            specs[name] = InstanceSpec(name, int(figures["vcpu"]), float(figures["memory_gib"]))
    return specs


def instance_spec(name: str) -> InstanceSpec:
    """The vCPUs and memory of EC2, RDS (`db.`) or ElastiCache (`cache.`) type *name*."""
    try:
        return _specs()[name]
    except KeyError:
        raise CatalogError(
            f"{name} is not in infra/analyses/{INSTANCES_FILE}; add its vCPUs and memory from the AWS page "
            "the file's source names"
        ) from None
