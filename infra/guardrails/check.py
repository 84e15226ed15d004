"""`meridian check`: the policy pack's rules run over the offline plan, without the engine.

The plan's resources become `Subject`s exactly as the pack builds them from the engine (inputs,
`protect`, the provider's inputs, where each input came from), and every rule of
`RESOURCE_RULES` and `STACK_RULES` runs over them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from rich.console import Console
from rich.table import Table

from infra.plan.run import Plan

from .model import RESOURCE_RULES, STACK_RULES, Stack, Subject, Undetermined, Violation

__all__ = ["Report", "RuleResult", "check_plan", "check_subjects", "render_report", "subjects_of"]


def subjects_of(plan: Plan) -> list[Subject]:
    """Every resource of the plan (components too, as the engine sends them) as a rule sees it."""
    return [
        Subject(
            urn=r.urn,
            type=r.type,
            name=r.name,
            props=r.inputs,
            protect=r.protect,
            provider=plan.by_urn[r.provider].inputs if r.provider in plan.by_urn else {},
            property_dependencies=r.property_dependencies,
            id=r.id,
        )
        for r in plan.resources
    ]


@dataclass
class RuleResult:
    """One rule's verdict over a stack."""

    rule: str
    description: str
    checked: int  # resources it looked at (0 for a stack rule, which looks at the whole stack)
    violations: list[Violation] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.violations


@dataclass
class Report:
    results: list[RuleResult]

    @property
    def violations(self) -> list[tuple[str, Violation]]:
        return [(r.rule, v) for r in self.results for v in r.violations]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    def result(self, rule: str) -> RuleResult:
        return next(r for r in self.results if r.rule == rule)


def _verdict(run: Callable[[], list[Violation]], urn: str) -> list[Violation]:
    """What a rule finds; a value it cannot look inside is a violation (nothing is unknown
    offline, and if it were, it must not pass)."""
    try:
        return run()
    except Undetermined as exc:
        return [Violation(urn, f"cannot be checked: {exc}")]


def check_subjects(subjects: list[Subject]) -> Report:
    results = []
    for rule in RESOURCE_RULES:
        applicable = [s for s in subjects if rule.applies(s.type)]
        violations = [v for s in applicable for v in _verdict(partial(rule.run, s), s.urn)]
        results.append(RuleResult(rule.name, rule.description, len(applicable), violations))
    stack = Stack(subjects)
    for stack_rule in STACK_RULES:
        results.append(
            RuleResult(
                stack_rule.name, stack_rule.description, 0, _verdict(partial(stack_rule.run, stack), "")
            )
        )
    return Report(results)


def check_plan(plan: Plan) -> Report:
    return check_subjects(subjects_of(plan))


def render_report(report: Report, plan: Plan, console: Console) -> None:
    """One row per rule (how many resources it checked, its verdict), then one per violation."""
    table = Table(title=f"Guardrails over the offline plan of {plan.stack}")
    table.add_column("rule")
    table.add_column("resources", justify="right")
    table.add_column("verdict")
    stack_rules = {r.name for r in STACK_RULES}
    for result in report.results:
        verdict = "[green]pass[/]" if result.passed else f"[red]{len(result.violations)} violation(s)[/]"
        scope = "stack" if result.rule in stack_rules else str(result.checked)
        table.add_row(result.rule, scope, verdict)
    console.print(table)
    if report.violations:
        failures = Table(title="Violations", show_lines=True)
        failures.add_column("rule")
        failures.add_column("resource")
        failures.add_column("problem and fix")
        for rule, violation in report.violations:
            resource = plan.by_urn.get(violation.urn)
            label = f"{resource.type}\n{resource.name}" if resource else violation.urn
            failures.add_row(rule, label, violation.message)
        console.print(failures)
    checked = sum(r.checked for r in report.results) + len(stack_rules)
    console.print(
        f"{len(report.results)} rules, {checked} checks: "
        + (
            "[green]every rule passes[/]."
            if report.passed
            else f"[red]{len(report.violations)} violation(s)[/]."
        )
    )
