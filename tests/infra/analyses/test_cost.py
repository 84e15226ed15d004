"""`meridian cost`: list prices over what the offline plan declares, against meridian:budget."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.analyses.catalog import CatalogError
from infra.analyses.cost import GLOBAL, CostReport, Item, Line, Prices, estimate_cost, price_table
from infra.cli import main
from infra.config.workload import Budget, BudgetLine, MonthlyUsage, Workload
from infra.plan.run import Plan
from tests.support import PROJECT_DIR, assert_issue, plan_of, rejected, write_stack

PRICES = price_table()


def workload_of(plan: Plan) -> Workload:
    assert plan.config is not None and plan.config.workload is not None
    return plan.config.workload


def unit_prices() -> Prices:
    """Every price 1 and a one-hour month: each item then costs what was counted."""
    raw = copy.deepcopy(PRICES.raw)
    raw["hours_per_month"] = 1
    for section in raw.values():
        if isinstance(section, dict) and "prices" in section:
            for key, value in section["prices"].items():
                if isinstance(value, dict):
                    section["prices"][key] = {r: (None if p is None else 1.0) for r, p in value.items()}
                else:
                    section["prices"][key] = 1.0
    raw["cloudflare"] = {k: (2 if k.endswith("origins") else 1.0) for k in raw["cloudflare"]}
    return Prices(raw)


def items_of(report: CostReport, region: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for item in report.items:
        if item.region == region:
            found[item.name] = found.get(item.name, 0) + item.monthly
    return found


def test_the_price_table_names_its_sources_and_prices_every_stack_region() -> None:
    regions = {r for stack in ("prod", "staging") for r in plan_of(stack).outputs["regions"]}
    for name, section in PRICES.raw.items():
        if not isinstance(section, dict):
            continue
        assert str(section["source"]).startswith("https://") and section["read"], name
        if name == "cloudflare":
            continue
        by_type = all(isinstance(v, dict) for v in section["prices"].values())
        for table in section["prices"].values() if by_type else [section["prices"]]:
            assert regions <= set(table), f"{name} lacks {regions - set(table)}"
    assert PRICES.hours == 730 and PRICES.read_on == "2026-12-02"


def test_staging_counts_what_its_plan_declares() -> None:
    """With every price 1 for a one-hour month, each item's cost is its count: staging's primary runs
    2 system and 2 apps nodes, a writer and a reader, one NAT gateway, one store of one shard and a
    replica, its NLB; the secondary runs its own store (regional: no replication to pay for)."""
    plan = plan_of("staging")
    report = estimate_cost(plan, workload_of(plan).monthly, None, unit_prices())
    home = items_of(report, "us-east-1")
    assert home["EKS control plane"] == 1
    assert home["EC2 nodes, system group"] == 2 and home["EC2 nodes, apps group"] == 2
    assert home["Aurora instances"] == 2
    assert home["NAT gateways"] == 1
    assert home["ElastiCache nodes"] == 2  # 1 shard × (1 + 1 replica)
    assert home["NLB"] == 1 + workload_of(plan).monthly.nlb_lcus  # the hour and the mean LCUs
    assert home["Aurora backups"] == workload_of(plan).monthly.postgres_backup_gib
    assert "global replicated writes" not in home
    standby = items_of(report, "eu-west-1")
    assert standby["ElastiCache nodes"] == 2 and standby["Aurora instances"] == 1
    assert standby["global replicated writes"] == workload_of(plan).monthly.replicated_write_io_millions
    assert not any(item.startswith("replication from") for item in standby)
    assert set(items_of(report, GLOBAL)) == {"Cloudflare Load Balancing", "Cloudflare Business plan"}


def test_a_price_worked_by_hand() -> None:
    """Staging's apps group: 2 × m7i.large at $0.1008 an hour in us-east-1 × 730 h = $147.17."""
    plan = plan_of("staging")
    report = estimate_cost(plan, workload_of(plan).monthly, None)
    assert items_of(report, "us-east-1")["EC2 nodes, apps group"] == pytest.approx(2 * 0.1008 * 730)
    # 2 origins included in the base, $5 base + $10 geo steering.
    assert items_of(report, GLOBAL)["Cloudflare Load Balancing"] == pytest.approx(15.0)


def test_prod_log_storage_and_load_balancing_worked_by_hand() -> None:
    """us-east-1 keeps logs 365 days: 300 GiB a month × 365 / 30 = 3,650 GiB × $0.03 = $109.50.
    Cloudflare: $5 base with 2 origins, 6 more at $5, $10 geo steering = $45."""
    plan = plan_of("prod")
    report = estimate_cost(plan, workload_of(plan).monthly, None)
    assert items_of(report, "us-east-1")["CloudWatch Logs storage"] == pytest.approx(109.5)
    assert items_of(report, GLOBAL)["Cloudflare Load Balancing"] == pytest.approx(45.0)


def test_a_global_secondary_takes_its_shape_from_the_datastore_and_its_own_replicas() -> None:
    """us-west-1: its cache (2 shards × 2 nodes), and the sessions (2 shards) and queues (1 shard)
    secondaries of the write home's datastores, with the secondary's 1 replica each, not 2."""
    plan = plan_of("prod")
    report = estimate_cost(plan, workload_of(plan).monthly, None, unit_prices())
    nodes = sorted(
        i.quantity for i in report.items if i.region == "us-west-1" and i.name == "ElastiCache nodes"
    )
    assert nodes == ["2 × cache.r7g.large", "4 × cache.r7g.large", "4 × cache.r7g.large"]


def test_the_same_group_costs_more_where_prices_are_higher() -> None:
    plan = plan_of("prod")
    report = estimate_cost(plan, workload_of(plan).monthly, None)
    nodes = {r: items_of(report, r)["EC2 nodes, apps group"] for r in ("us-east-1", "me-central-1")}
    assert nodes["me-central-1"] / nodes["us-east-1"] == pytest.approx(0.49436 / 0.4032)


def test_a_type_a_region_does_not_offer_is_billed_as_the_next_the_group_lists() -> None:
    plan = plan_of("prod")
    report = estimate_cost(plan, workload_of(plan).monthly, None)
    swapped = {(s.region, s.wanted, s.priced_as) for s in report.substitutions}
    assert swapped == {("af-south-1", "m7i.large", "m6i.large"), ("af-south-1", "m7i.xlarge", "m6i.xlarge")}
    assert items_of(report, "af-south-1")["EC2 nodes, apps group"] == pytest.approx(3 * 0.254 * 730)


def test_a_type_without_a_price_stops_naming_the_table() -> None:
    plan = plan_of("staging")
    prices = unit_prices()
    prices.raw["elasticache_node_hour"]["prices"].pop("cache.r7g.large")
    with pytest.raises(
        CatalogError, match=r"infra/analyses/data/prices.yaml has no price for .*cache.r7g.large"
    ):
        estimate_cost(plan, workload_of(plan).monthly, None, prices)
    prices.raw["ec2_instance_hour"]["prices"]["m7i.large"]["us-east-1"] = None
    with pytest.raises(CatalogError, match=r"none of m7i\.large as offered in us-east-1"):
        estimate_cost(plan, workload_of(plan).monthly, None, prices)


def line(low: float, high: float) -> BudgetLine:
    return BudgetLine(low=low, high=high)


def budget(compute_high: float, total_high: float = 1_000) -> Budget:
    rest = line(0, 100)
    return Budget(
        compute=line(0, compute_high),
        postgres=rest,
        redis=rest,
        cdn=rest,
        load_balancing=rest,
        monitoring=rest,
        total=line(0, total_high),
    )


def test_a_line_at_its_most_is_within_and_a_dollar_more_is_over() -> None:
    items = [
        Item("us-east-1", Line.COMPUTE, "EC2", "1", 100.0),
        Item("us-east-1", Line.OTHER, "KMS", "1", 5.0),
    ]
    assert CostReport("t", items, budget(compute_high=100)).met
    over = CostReport("t", items, budget(compute_high=99))
    assert not over.met and over.over() == {"compute": pytest.approx(1.0)}
    # What no line covers still counts against the total.
    past_total = CostReport("t", items, budget(compute_high=100, total_high=104))
    assert past_total.over() == {"total": pytest.approx(1.0)}
    assert CostReport("t", items, None).met  # no budget: nothing to miss


def test_prod_is_over_budget_and_says_by_how_much(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cost.json"
    assert main(["cost", "--stack", "prod", "--project-dir", str(PROJECT_DIR), "--json", str(out)]) == 1
    figures = json.loads(out.read_text())
    assert figures["met"] is False and figures["currency"] == "USD"
    assert figures["byRegion"][GLOBAL] == {
        **dict.fromkeys(figures["byLine"], 0),
        "cdn": 200,
        "load_balancing": 45,
    }
    assert set(figures["byRegion"]) == {*plan_of("prod").outputs["regions"], GLOBAL}
    assert figures["budget"]["total"]["high"] == 22_800
    assert figures["over"]["total"] == pytest.approx(figures["total"] - 22_800, abs=0.01)
    assert {"compute", "postgres", "redis"} <= set(figures["over"])
    text = capsys.readouterr().out
    assert "over by $" in text and "compute by $" in text
    analyses = (PROJECT_DIR / "docs" / "analyses.md").read_text()
    assert f"**${figures['total']:,.0f} a month**" in analyses, "update docs/analyses.md's cost figures"


def test_staging_without_a_budget_prints_the_estimate_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cost", "--stack", "staging", "--project-dir", str(PROJECT_DIR)]) == 0
    assert "staging sets no meridian:budget" in capsys.readouterr().out


def test_a_stack_without_a_workload_stops_with_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write_stack(tmp_path, "staging", {"meridian:workload": None})
    assert main(["cost", "--stack", "staging", "--project-dir", str(project)]) == 2
    assert "meridian:workload: is not set; `meridian cost` needs it" in capsys.readouterr().err


def test_a_node_type_without_a_price_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stack = yaml.safe_load((PROJECT_DIR / "Pulumi.staging.yaml").read_text())
    sizes = stack["config"]["meridian:sizes"]
    sizes["primary"]["redis"]["shared"]["nodeType"] = "cache.m7g.large"
    sizes["secondary"]["redis"]["shared"]["nodeType"] = "cache.m7g.large"
    project = write_stack(tmp_path, "staging", {"meridian:sizes": sizes})
    assert main(["cost", "--stack", "staging", "--project-dir", str(project)]) == 2
    assert "no price for elasticache_node_hour cache.m7g.large" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("key", "value", "path", "fragment"),
    [
        ("compute", {"low": 9, "high": 8}, "compute", "needs low <= high"),
        ("redis", {"low": -1, "high": 8}, "redis.low", "greater than or equal to 0"),
        ("total", None, "total", "required key is missing"),
    ],
)
def test_a_bad_budget_line_is_rejected_with_its_key(
    prod_values: dict[str, Any], key: str, value: Any, path: str, fragment: str
) -> None:
    if value is None:
        del prod_values["budget"][key]
    else:
        prod_values["budget"][key] = value
    assert_issue(rejected(prod_values), f"meridian:budget.{path}", fragment)


def test_usage_volumes_scale_their_items() -> None:
    plan = plan_of("staging")
    usage = workload_of(plan).monthly
    doubled = MonthlyUsage(**{k: 2 * v for k, v in usage.model_dump().items()})
    once, twice = (estimate_cost(plan, u, None) for u in (usage, doubled))
    for name in ("Aurora storage", "Aurora I/O", "NAT data processed", "CloudWatch Logs ingestion"):
        assert items_of(twice, "us-east-1")[name] == pytest.approx(2 * items_of(once, "us-east-1")[name])
    assert items_of(twice, "us-east-1")["Aurora instances"] == items_of(once, "us-east-1")["Aurora instances"]
