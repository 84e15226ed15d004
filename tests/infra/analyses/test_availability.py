"""`meridian availability`: published SLAs composed over the plan's topology."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from infra.analyses.availability import (
    MINUTES_PER_MONTH,
    Availability,
    RegionAvailability,
    compose,
    sla_table,
)
from infra.cli import main
from infra.plan.run import Plan
from tests.support import PLANS, PROJECT_DIR, plan_of

SLA = sla_table()
EKS, NLB, AURORA, CACHE, EDGE = (
    SLA[k]
    for k in (
        "amazon-eks",
        "elastic-load-balancing",
        "amazon-aurora-multi-az",
        "amazon-elasticache-multi-az",
        "cloudflare-business",
    )
)


def test_every_figure_has_its_source() -> None:
    assert set(SLA) == {p.key for p in (EKS, NLB, AURORA, CACHE, EDGE)}
    for part in SLA.values():
        assert 0.99 <= part.uptime <= 1 and part.source.startswith("https://")
    assert (EKS.uptime, AURORA.uptime, CACHE.uptime, NLB.uptime) == (0.9995, 0.9999, 0.9999, 0.9999)


def test_a_one_region_chain_worked_by_hand() -> None:
    """EKS 99.95 % × NLB 99.99 % = 99.940005 %: 25.9 minutes of a 30-day month."""
    region = RegionAvailability("us-east-1", (EKS, NLB))
    figures = Availability((region,), edge=None, write_home="us-east-1", target=0.9999)
    assert region.uptime == pytest.approx(0.99940005)
    assert figures.uptime == pytest.approx(0.99940005) == figures.write_uptime
    assert figures.downtime_minutes(figures.uptime) == pytest.approx((1 - 0.99940005) * 43_200)
    assert MINUTES_PER_MONTH == 43_200
    assert not figures.met


def test_regions_in_parallel_behind_the_edge() -> None:
    """Two such regions: 1 - (1 - 0.99940005)² = 0.99999964; Cloudflare at 100 % in front."""
    a, b = (RegionAvailability(r, (EKS, NLB)) for r in ("us-east-1", "eu-west-1"))
    figures = Availability((a, b), edge=EDGE, write_home="us-east-1", target=0.9999)
    assert figures.uptime == pytest.approx(1 - (1 - 0.99940005) ** 2)
    assert figures.met
    assert figures.write_uptime == pytest.approx(0.99940005)  # writes still need the write home


def test_each_regions_parts_are_what_it_declares(prod_plan: Plan) -> None:
    figures = compose(prod_plan, 0.9999)
    assert [r.region for r in figures.regions] == list(prod_plan.outputs["regions"])
    assert figures.edge == EDGE
    for region in figures.regions:
        declared = [r for r in prod_plan.custom_resources if prod_plan.regions.get(r.urn) == region.region]
        groups = [r for r in declared if r.type == "aws:elasticache/replicationGroup:ReplicationGroup"]
        clusters = [r for r in declared if r.type == "aws:rds/cluster:Cluster"]
        assert region.parts.count(CACHE) == len(groups) == 3
        assert region.parts.count(AURORA) == len(clusters) == 1
        assert region.parts.count(EKS) == 1 and region.parts.count(NLB) == 1


def test_a_region_without_a_database_has_no_aurora_in_its_chain() -> None:
    plan = plan_of("staging")
    kept = [
        r
        for r in plan.resources
        if not (r.type == "aws:rds/cluster:Cluster" and plan.regions.get(r.urn) == "eu-west-1")
    ]
    figures = compose(Plan(plan.project, plan.stack, kept, plan.outputs), 0.9999)
    by_region = {r.region: r for r in figures.regions}
    assert AURORA not in by_region["eu-west-1"].parts and AURORA in by_region["us-east-1"].parts
    assert by_region["eu-west-1"].uptime == pytest.approx(by_region["us-east-1"].uptime / AURORA.uptime)


def test_only_regions_cloudflare_sends_users_to_count(global_stores_project: Path) -> None:
    """Staging with its store copied to eu-west-1: that region cannot write it, has no pool, and
    so adds nothing to the parallel (us-west-2, which writes its own, does)."""
    figures = compose(PLANS(global_stores_project, "staging"), 0.9999)
    assert [r.region for r in figures.regions] == ["us-east-1", "us-west-2"]
    plan = plan_of("staging")
    assert [r.region for r in compose(plan, 0.9999).regions] == ["us-east-1", "eu-west-1"]


def test_prod_meets_the_target_and_writes_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "availability.json"
    assert (
        main(["availability", "--stack", "prod", "--project-dir", str(PROJECT_DIR), "--json", str(out)]) == 0
    )
    figures = json.loads(out.read_text())
    assert figures["met"] is True and figures["target"] == 0.9999
    assert figures["writeUptime"] == pytest.approx(0.999, abs=1e-4)  # below target: the write home alone
    text = capsys.readouterr().out
    assert "meets the target of 99.99%" in text and "is below the target" in text


def test_a_target_the_topology_cannot_reach_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "Pulumi.yaml").write_text((PROJECT_DIR / "Pulumi.yaml").read_text())
    stack = yaml.safe_load((PROJECT_DIR / "Pulumi.staging.yaml").read_text())
    stack["config"]["meridian:targets"] = {"availability": 0.9999999}  # two regions give 0.999999
    (tmp_path / "Pulumi.staging.yaml").write_text(yaml.safe_dump(stack))
    assert main(["availability", "--stack", "staging", "--project-dir", str(tmp_path)]) == 1
    assert "misses the target" in capsys.readouterr().out
