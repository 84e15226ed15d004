"""checkov over the offline plan: its Terraform-plan checks on the AWS resources, its Kubernetes
checks on the manifests, and the suppression file that says why each accepted failure is accepted.

checkov runs from its own virtualenv (`make scanner`, pinned in `policy/checkov-requirements.txt`):
it pins versions of shared packages that pulumi cannot use. A failure is either fixed in the
components or listed in `policy/checkov-suppressions.yaml` with its reason; `meridian scan` and the
tests fail on any other failure, and on a suppression that no longer matches anything (so the
file never carries excuses for problems that are gone).
"""

from __future__ import annotations

import fnmatch
import json
import os
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field
from rich.console import Console
from rich.table import Table

from components.core.args import MeridianModel
from infra.plan.run import Plan

from .manifests import export_manifests
from .model import is_set
from .terraform import export_terraform_plan

__all__ = [
    "CHECKOV_ENV",
    "Finding",
    "ScanReport",
    "Suppression",
    "default_checkov",
    "load_suppressions",
    "render_scan",
    "scan_plan",
]

#: Environment variable naming the checkov executable (default: the project's `.venv-checkov`).
CHECKOV_ENV = "MERIDIAN_CHECKOV"
SUPPRESSIONS_FILE = Path(__file__).resolve().parents[2] / "policy" / "checkov-suppressions.yaml"


class Condition(MeridianModel):
    """Which planned resources a suppression covers, by the arguments they set."""

    present: tuple[str, ...] = ()  # Terraform arguments that must be set
    absent: tuple[str, ...] = ()  # and ones that must not be
    tags: dict[str, str] = Field(
        default_factory=dict
    )  # tags the resource must carry (its `tags_all`, default tags included)

    def matches(self, values: Mapping[str, Any]) -> bool:
        tags = values.get("tags_all") or {}
        return (
            all(is_set(values.get(k)) for k in self.present)
            and not any(is_set(values.get(k)) for k in self.absent)
            and all(tags.get(k) == v for k, v in self.tags.items())
        )


class Suppression(MeridianModel):
    """One accepted checkov failure (an item of the suppression file).

    Attributes:
        check: the checkov check id (`CKV_AWS_226`).
        resources: Terraform addresses it covers, as globs (`aws_rds_cluster_instance.*`).
        when: only resources whose planned arguments match (a global secondary, say).
        reason: why the failure is accepted, in one line (required: no silent suppressions).
    """

    check: str = Field(pattern=r"^CKV2?_[A-Z0-9]+_\d+$")
    resources: tuple[str, ...] = Field(min_length=1)
    when: Condition = Condition()
    reason: str = Field(min_length=20)

    def covers(self, finding: Finding) -> bool:
        return (
            finding.check == self.check
            and any(fnmatch.fnmatch(finding.resource, glob) for glob in self.resources)
            and self.when.matches(finding.values)
        )


def load_suppressions(path: Path = SUPPRESSIONS_FILE) -> list[Suppression]:
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return [Suppression.model_validate(entry) for entry in entries]


@dataclass(frozen=True)
class Finding:
    """One failed checkov check on one resource."""

    framework: str  # terraform_plan | kubernetes
    check: str
    name: str
    resource: str  # Terraform address, or the Kubernetes object's id
    values: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass
class ScanReport:
    """What checkov ran over one stack, and which failures are accepted."""

    stack: str
    passed: int
    failures: list[Finding]
    suppressed: list[tuple[Finding, Suppression]]
    unsuppressed: list[Finding]
    resources: dict[str, int]  # framework → resources scanned
    not_rendered: list[str]  # Helm releases (charts are rendered in the cluster)

    @property
    def ran(self) -> int:
        return self.passed + len(self.failures)


def default_checkov() -> Path:
    """The checkov executable: `$MERIDIAN_CHECKOV`, else the project's `.venv-checkov`."""
    configured = os.environ.get(CHECKOV_ENV)
    return (
        Path(configured) if configured else Path(__file__).resolve().parents[2] / ".venv-checkov/bin/checkov"
    )


#: checkov's frameworks over the exported plan and the manifests, in one run of checkov.
FRAMEWORKS = ("terraform_plan", "kubernetes")


def _run_checkov(checkov: Path, tf_plan: Path, manifests: Path) -> dict[str, dict[str, Any]]:
    """One checkov process over both targets (its start-up is 4 s of the 5-8 s a scan takes), its
    JSON report split back per framework by each part's `check_type`."""
    if not checkov.is_file():
        raise FileNotFoundError(
            f"checkov is not installed at {checkov}: run `make scanner` (or set {CHECKOV_ENV})"
        )
    # --skip-download: no calls to Prisma Cloud for guidelines; the checks are all local.
    command = [str(checkov), "--file", str(tf_plan), "--directory", str(manifests), "--framework",
               *FRAMEWORKS, "--output", "json", "--compact", "--quiet", "--skip-download"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1) or not done.stdout.strip():
        raise RuntimeError(f"checkov failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    report = json.loads(done.stdout)
    reports = report if isinstance(report, list) else [report]
    merged = {framework: {"passed": 0, "failed_checks": [], "resource_count": 0} for framework in FRAMEWORKS}
    for part in reports:
        if "summary" not in part or part.get("check_type") not in merged:
            continue  # an empty framework run prints only a summary of zeros
        totals = merged[part["check_type"]]
        totals["passed"] += part["summary"]["passed"]
        totals["resource_count"] += part["summary"]["resource_count"]
        totals["failed_checks"] += part.get("results", {}).get("failed_checks", [])
    return merged


def _findings(framework: str, checks: Iterable[dict[str, Any]], values: Mapping[str, Any]) -> list[Finding]:
    return [
        Finding(framework, c["check_id"], c["check_name"], c["resource"], values.get(c["resource"], {}))
        for c in checks
    ]


def scan_plan(
    plan: Plan,
    checkov: Path | None = None,
    suppressions: list[Suppression] | None = None,
    keep_in: Path | None = None,
) -> ScanReport:
    """Export *plan*, run checkov's Terraform-plan and Kubernetes checks, apply the suppressions.
    The exported files go to a temporary folder, or stay in *keep_in*
    (`<stack>.tfplan.json`, `<stack>-manifests/`)."""
    checkov = checkov or default_checkov()
    rules = load_suppressions() if suppressions is None else suppressions
    exported = export_terraform_plan(plan)
    values = {
        r["address"]: r["values"] for r in exported.document["planned_values"]["root_module"]["resources"]
    }
    with tempfile.TemporaryDirectory(prefix="meridian-scan-") as temporary:
        folder = keep_in or Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        tf_plan = folder / f"{plan.stack}.tfplan.json"
        tf_plan.write_text(json.dumps(exported.document, indent=1, default=str) + "\n", encoding="utf-8")
        manifests_folder = folder / f"{plan.stack}-manifests"
        manifests = export_manifests(plan, manifests_folder)
        results = _run_checkov(checkov, tf_plan, manifests_folder)
        terraform, kubernetes = results["terraform_plan"], results["kubernetes"]
    failures = _findings("terraform_plan", terraform["failed_checks"], values) + _findings(
        "kubernetes", kubernetes["failed_checks"], {}
    )
    suppressed, unsuppressed = [], []
    for finding in failures:
        rule = next((s for s in rules if s.covers(finding)), None)
        if rule:
            suppressed.append((finding, rule))
        else:
            unsuppressed.append(finding)
    return ScanReport(
        stack=plan.stack,
        passed=terraform["passed"] + kubernetes["passed"],
        failures=failures,
        suppressed=suppressed,
        unsuppressed=unsuppressed,
        resources={"terraform_plan": terraform["resource_count"], "kubernetes": kubernetes["resource_count"]},
        not_rendered=manifests.helm_releases,
    )


def render_scan(report: ScanReport, console: Console) -> None:
    """Counts, every accepted failure with its reason (grouped), and every new failure."""
    if report.suppressed:
        table = Table(title=f"checkov failures accepted in {report.stack} (policy/checkov-suppressions.yaml)")
        table.add_column("check")
        table.add_column("resources", justify="right")
        table.add_column("reason")
        grouped: dict[tuple[str, str], int] = {}
        for finding, rule in report.suppressed:
            grouped[(finding.check, rule.reason)] = grouped.get((finding.check, rule.reason), 0) + 1
        for (check, reason), count in sorted(grouped.items()):
            table.add_row(check, str(count), reason)
        console.print(table)
    if report.unsuppressed:
        table = Table(title="checkov failures not accepted: fix the component or suppress with a reason")
        table.add_column("check")
        table.add_column("resource")
        table.add_column("what checkov wants")
        for finding in report.unsuppressed:
            table.add_row(finding.check, finding.resource, finding.name)
        console.print(table)
    console.print(
        f"checkov {report.stack}: {report.ran} checks ran over {report.resources['terraform_plan']} AWS "
        f"resources and {report.resources['kubernetes']} Kubernetes objects: {report.passed} passed, "
        f"{len(report.suppressed)} failed and are suppressed with a reason, "
        f"{len(report.unsuppressed)} failed unsuppressed. Helm releases not rendered offline: "
        f"{len(report.not_rendered)}."
    )
