"""The offline plan's Kubernetes objects as manifests, for checkov's Kubernetes framework.

pulumi-kubernetes objects carry their manifest as inputs (`metadata`, `spec`, ...); the type token
gives `apiVersion` and `kind` (`kubernetes:networking.k8s.io/v1:NetworkPolicy`). Helm releases are
charts rendered in the cluster, not objects in the plan: they are listed, not exported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from infra.plan.run import Plan

__all__ = ["ExportedManifests", "export_manifests", "manifest_of"]

HELM_RELEASE = "kubernetes:helm.sh/v3:Release"


def manifest_of(type_token: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """The object a pulumi-kubernetes resource applies."""
    _, group_version, kind = type_token.split(":", 2)
    group, _, version = group_version.rpartition("/")
    api_version = version if group in ("core", "") else f"{group}/{version}"
    body = {k: _integers(v) for k, v in inputs.items() if k not in ("apiVersion", "kind")}
    return {"apiVersion": api_version, "kind": kind, **body}


def _integers(value: Any) -> Any:
    """The engine's numbers are floats; Kubernetes's are integers (`runAsUser: 65534`, not
    `65534.0`, which a scanner's `isinstance(..., int)` would refuse)."""
    if isinstance(value, dict):
        return {k: _integers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integers(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@dataclass
class ExportedManifests:
    files: list[Path] = field(default_factory=list)
    objects: int = 0
    helm_releases: list[str] = field(default_factory=list)  # charts not rendered offline


def export_manifests(plan: Plan, folder: Path) -> ExportedManifests:
    """Write one multi-document YAML file per region into *folder*."""
    folder.mkdir(parents=True, exist_ok=True)
    by_region: dict[str, list[dict[str, Any]]] = {}
    exported = ExportedManifests()
    for resource in plan.custom_resources:
        if not resource.type.startswith("kubernetes:"):
            continue
        if resource.type == HELM_RELEASE:
            exported.helm_releases.append(resource.name)
            continue
        region = plan.regions.get(resource.urn) or "global"
        by_region.setdefault(region, []).append(manifest_of(resource.type, resource.inputs))
    for region, manifests in sorted(by_region.items()):
        path = folder / f"{plan.stack}-{region}.yaml"
        path.write_text(yaml.safe_dump_all(manifests, sort_keys=False), encoding="utf-8")
        exported.files.append(path)
        exported.objects += len(manifests)
    return exported
