"""`meridian capacity`: each region's ceiling, and the peak routed by the steering with a region lost."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.core.args import RegionRole
from components.edge.geo import CloudflareRegion
from components.redis.args import RedisRole
from infra.analyses.capacity import (
    CapacityReport,
    RegionCeiling,
    Scenario,
    Tier,
    analyse_capacity,
    capacity_json,
    forwarded_sessions,
    forwarding_slots,
    kube_reserved_vcpu,
    population_shares,
    region_ceiling,
    route,
)
from infra.analyses.catalog import CatalogError, instance_spec
from infra.analyses.latency import City
from infra.cli import main
from infra.config.loading import load_stack_file, validate_config
from infra.config.schema import StackConfig
from infra.config.workload import Workload
from tests.support import PROJECT_DIR, assert_issue, rejected, write_stack

ENAM, WEU, NEAS = CloudflareRegion.ENAM, CloudflareRegion.WEU, CloudflareRegion.NEAS


def prod() -> StackConfig:
    return load_stack_file(PROJECT_DIR / "Pulumi.prod.yaml")


def workload(config: StackConfig) -> Workload:
    assert config.workload is not None
    return config.workload


def test_the_kubelets_reservation_follows_the_eks_ami() -> None:
    # 6 % of core 1, 1 % of core 2, 0.5 % of cores 3-4, 0.25 % of the rest.
    assert kube_reserved_vcpu(1) == pytest.approx(0.06)
    assert kube_reserved_vcpu(2) == pytest.approx(0.07)
    assert kube_reserved_vcpu(4) == pytest.approx(0.08)
    assert kube_reserved_vcpu(8) == pytest.approx(0.09)


def test_a_prod_primary_region_worked_by_hand() -> None:
    """m7i.2xlarge: 8 - 0.09 reserved - 0.4 DaemonSets = 7.51 vCPU, 7 pods of 1 vCPU. 30 nodes + 512
    burst vCPUs / 8 = 94 nodes, 658 pods × 300 = 197,400; the HPA's 120 × 300 = 36,000 binds.
    Reads: 2 readers × 8 vCPU × 2,000 / 0.5 = 64,000. Cache: 3 shards × 100,000 / 2 = 150,000."""
    config = prod()
    stores = {name: store.roles for name, store in config.redis.stores.items()}
    ceiling = region_ceiling(
        "us-east-1", "primary", config.sizes[RegionRole.PRIMARY], stores, workload(config)
    )
    tiers = {t.name: t.ceiling_rps for t in ceiling.tiers}
    assert tiers == {
        "replicas": 36_000,
        "nodes": 197_400,
        "postgres reads": 64_000,
        "redis cache": 150_000,
        "redis sessions": 200_000,  # 2 shards × 100,000 / 1
        "redis queues": pytest.approx(1_000_000),  # 1 shard × 100,000 / 0.1
    }
    assert ceiling.ceiling_rps == 36_000 and ceiling.bottleneck.name == "replicas"


def test_a_store_serving_several_roles_carries_their_sum() -> None:
    """Staging's one store serves all three roles: 1 shard × 100,000 / (2 + 1 + 0.1) = 32,258."""
    config = load_stack_file(PROJECT_DIR / "Pulumi.staging.yaml")
    stores = {"shared": (RedisRole.CACHE, RedisRole.SESSIONS, RedisRole.QUEUES)}
    ceiling = region_ceiling(
        "us-east-1", "primary", config.sizes[RegionRole.PRIMARY], stores, workload(config)
    )
    assert {t.name: t.ceiling_rps for t in ceiling.tiers}["redis shared"] == pytest.approx(100_000 / 3.1)


def test_a_region_outside_the_database_has_no_read_tier_and_a_free_role_no_store_tier() -> None:
    config = prod()
    free_queues = workload(config).model_copy(
        update={
            "redis": workload(config).redis.model_copy(
                update={"ops_per_request": {RedisRole.CACHE: 2, RedisRole.SESSIONS: 1, RedisRole.QUEUES: 0}}
            )
        }
    )
    stores = {name: store.roles for name, store in config.redis.stores.items()}
    sizes = config.sizes[RegionRole.SECONDARY]
    names = {
        t.name for t in region_ceiling("x", "secondary", sizes, stores, free_queues, database=False).tiers
    }
    assert names == {"replicas", "nodes", "redis cache", "redis sessions"}


def test_pods_that_do_not_fit_a_node_give_no_node_capacity(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = prod()
    huge = workload(config).model_copy(
        update={"api_pod": workload(config).api_pod.model_copy(update={"cpu_vcpu": 8.0})}
    )
    ceiling = region_ceiling("us-east-1", "primary", config.sizes[RegionRole.PRIMARY], {}, huge)
    assert ceiling.bottleneck.name == "nodes" and ceiling.ceiling_rps == 0  # 7.51 vCPU < 8
    stack = yaml.safe_load((PROJECT_DIR / "Pulumi.staging.yaml").read_text())
    stack["config"]["meridian:workload"]["apiPod"]["cpuVcpu"] = 8.0
    project = write_stack(tmp_path, "staging", {"meridian:workload": stack["config"]["meridian:workload"]})
    out = tmp_path / "capacity.json"
    assert main(["capacity", "--stack", "staging", "--project-dir", str(project), "--json", str(out)]) == 1
    assert json.loads(out.read_text())["worst"]["headroom"] is None
    assert "no capacity left" in capsys.readouterr().out


def test_routing_a_two_region_world_by_hand() -> None:
    """60 % of 1,000 req/s start in ENAM (us-east-1 first), 40 % in WEU (eu-west-1 first); with
    us-east-1 lost, ENAM's 600 go to the next of its order, eu-west-1, which then takes all 1,000."""
    shares = {ENAM: 0.6, WEU: 0.4}
    steering = {ENAM: ["us-east-1", "eu-west-1"], WEU: ["eu-west-1", "us-east-1"]}
    assert route(shares, steering, 1_000) == {"us-east-1": 600, "eu-west-1": 400}
    assert route(shares, steering, 1_000, lost="us-east-1") == {"eu-west-1": 1_000}
    assert route(shares, steering, 1_000, lost="eu-west-1") == {"us-east-1": 1_000}


def ceilings_of(ceilings: dict[str, float]) -> dict[str, RegionCeiling]:
    return {r: RegionCeiling(r, "primary", (Tier("replicas", c, ""),)) for r, c in ceilings.items()}


def scenario(lost: str | None, load: dict[str, float], ceilings: dict[str, float], writer: float) -> Scenario:
    return Scenario(lost, load, ceilings_of(ceilings), "us-east-1", writer)


def report_of(scenarios: list[Scenario]) -> CapacityReport:
    return CapacityReport(1_000, scenarios[0].ceilings, {ENAM: 1.0}, tuple(scenarios))


def test_a_region_exactly_at_its_ceiling_meets_and_one_request_more_misses() -> None:
    assert report_of([scenario(None, {"us-east-1": 1_000}, {"us-east-1": 1_000}, 10_000)]).met
    assert not report_of([scenario(None, {"us-east-1": 1_000}, {"us-east-1": 999}, 10_000)]).met


def test_the_writer_is_checked_against_the_whole_peak() -> None:
    """Each region far below its ceiling, but the writer commits the writes of only 900 req/s."""
    lost = scenario("eu-west-1", {"us-east-1": 1_000}, {"us-east-1": 5_000}, 900)
    report = report_of([lost])
    assert report.headroom(lost) == pytest.approx(1 - 1_000 / 900)
    assert not report.met and report.worst is lost


def test_a_region_with_no_capacity_left_is_the_worst_and_reported_without_a_crash() -> None:
    empty = scenario("eu-west-1", {"us-east-1": 10}, {"us-east-1": 0}, 10_000)
    idle = scenario(None, {"us-east-1": 0}, {"us-east-1": 0}, 10_000)
    report = report_of([idle, empty])
    assert report.utilisation(idle, "us-east-1") == 0 and report.worst is empty and not report.met
    assert capacity_json(report)["worst"] == {"lost": "eu-west-1", "headroom": None}


def test_population_shares_by_the_nearest_cloudflare_centre() -> None:
    """A city in Paris goes to WEU, one in Tokyo to NEAS: 300 and 100 people make 75 % and 25 %."""
    paris, tokyo = WEU.place, NEAS.place
    cities = (City("P", "FR", 300, paris), City("T", "JP", 100, tokyo))
    shares = population_shares(cities)
    assert shares[WEU] == pytest.approx(0.75) and shares[NEAS] == pytest.approx(0.25)
    assert sum(shares.values()) == pytest.approx(1.0) and shares[ENAM] == 0
    world = population_shares()
    assert sum(world.values()) == pytest.approx(1.0)
    assert world[CloudflareRegion.SAS] > world[CloudflareRegion.OC]


def test_prod_with_a_region_lost_follows_the_steering_to_its_partner() -> None:
    config = prod()
    report = analyse_capacity(config, "prod", workload(config))
    assert [s.lost for s in report.scenarios] == [None, *(r.name for r in config.regions)]
    for scenario in report.scenarios:
        assert scenario.total_rps == pytest.approx(100_000)
        assert scenario.lost not in scenario.load_rps
    by_lost = {s.lost: s for s in report.scenarios}
    neas = report.shares[NEAS] * 100_000
    # Tokyo's users fail over to Singapore, Tokyo's partner secondary, before any other primary.
    assert by_lost["ap-northeast-1"].load_rps["ap-southeast-1"] >= neas
    assert by_lost[None].load_rps["ap-southeast-1"] == 0  # a secondary serves no one first
    # Losing the write home moves the writer to the region its users fail over to first.
    assert by_lost["us-east-1"].writer == "us-west-1" and by_lost[None].writer == "us-east-1"
    # A db.r7g.xlarge writer: 4 vCPU × 1,000 writes/s / 0.05 writes per request.
    assert by_lost["us-east-1"].writer_ceiling_rps == pytest.approx(80_000)
    # Its one instance now writes: 100,000 × 0.05 / 1,000 = 5 vCPUs of 4, none left for reads.
    reads = {t.name: t.ceiling_rps for t in by_lost["us-east-1"].ceilings["us-west-1"].tiers}
    assert reads["postgres reads"] == 0 and by_lost[None].ceilings["us-west-1"].ceiling_rps == 16_000
    assert report.worst is by_lost["us-east-1"]


def test_a_promoted_cluster_reads_with_one_instance_fewer_or_what_its_writes_leave() -> None:
    """Two readers promoted: one writes, one reads: 1 × 4 vCPU × 2,000 / 0.5 = 16,000. One reader
    promoted, committing the writes of 20,000 req/s: 20,000 × 0.05 / 1,000 = 1 vCPU busy, 3 left,
    3 × 2,000 / 0.5 = 12,000."""
    config = prod()
    sizes = config.sizes[RegionRole.SECONDARY]
    two = sizes.model_copy(update={"postgres": sizes.postgres.model_copy(update={"reader_instances": 2})})

    def reads(of: Any, promoted: float | None) -> float:
        tiers = region_ceiling("x", "secondary", of, {}, workload(config), promoted_writes_rps=promoted).tiers
        return {t.name: t.ceiling_rps for t in tiers}["postgres reads"]

    assert reads(two, None) == 32_000 and reads(two, 20_000) == 16_000
    assert reads(sizes, None) == 16_000 and reads(sizes, 20_000) == pytest.approx(12_000)


def test_a_region_without_a_database_member_takes_no_users_and_not_the_writer(
    prod_values: dict[str, Any],
) -> None:
    """us-west-1 out of the database: its API could not write, so the steering sends it no one,
    and the write home's writer fails over to the next database region its users go to."""
    prod_values["postgres"]["regions"] = [
        r["name"] for r in prod_values["regions"] if r["name"] != "us-west-1"
    ]
    config = validate_config(prod_values, "Pulumi.prod.yaml")
    assert "us-west-1" not in config.writable_regions()
    report = analyse_capacity(config, "prod", workload(config))
    assert all(s.load_rps.get("us-west-1", 0) == 0 for s in report.scenarios)
    lost_home = next(s for s in report.scenarios if s.lost == "us-east-1")
    assert lost_home.writer in config.postgres_regions() and lost_home.writer != "us-west-1"
    assert lost_home.writer_ceiling_rps > 0


def test_load_shedding_sends_its_share_to_the_next_region() -> None:
    """ENAM's 600 req/s land on us-east-1, which sheds 25 %: 150 go on to eu-west-1."""
    shares = {ENAM: 0.6, WEU: 0.4}
    steering = {ENAM: ["us-east-1", "eu-west-1"], WEU: ["eu-west-1", "us-east-1"]}
    load = route(shares, steering, 1_000, shedding={"us-east-1": 25})
    assert load == {"us-east-1": 450, "eu-west-1": 550}
    assert route(shares, steering, 1_000, lost="eu-west-1", shedding={"us-east-1": 25}) == {
        "us-east-1": 1_000
    }


def test_explicit_traffic_shares_replace_the_population(prod_values: dict[str, Any]) -> None:
    prod_values["workload"]["trafficShares"] = {"ENAM": 0.5, "WEU": 0.5}
    config = validate_config(prod_values, "Pulumi.prod.yaml")
    report = analyse_capacity(config, "prod", workload(config))
    served = {r: load for r, load in report.scenarios[0].load_rps.items() if load}
    assert served == {"us-east-1": 50_000, "eu-west-1": 50_000}
    assert report.met is False  # 50,000 > a primary's 36,000


def test_prod_misses_with_a_region_lost_and_says_where(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "capacity.json"
    args = ["capacity", "--stack", "prod", "--project-dir", str(PROJECT_DIR), "--json", str(out)]
    assert main(args) == 1
    figures = json.loads(out.read_text())
    assert figures["met"] is False and figures["targetRps"] == 100_000
    assert figures["worst"] == {"lost": "us-east-1", "headroom": None}  # no capacity left
    assert figures["regions"]["us-east-1"]["ceilingRps"] == 36_000
    text = capsys.readouterr().out
    assert "Worst case with us-east-1 lost: us-west-1 with no capacity left" in text
    assert "misses 100,000 req/s with any one region lost" in text
    by_lost = {s["lost"]: s for s in figures["scenarios"]}
    me_lost = by_lost["me-central-1"]
    utilisation = me_lost["loadRps"]["af-south-1"] / me_lost["ceilingRps"]["af-south-1"]
    analyses = (PROJECT_DIR / "docs" / "analyses.md").read_text()
    assert f"af-south-1 at **{utilisation:.0%}**" in analyses, "update docs/analyses.md's capacity figures"


def test_staging_meets_its_peak(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["capacity", "--stack", "staging", "--project-dir", str(PROJECT_DIR)]) == 0
    assert "meets 1,500 req/s with any one region lost" in capsys.readouterr().out


def test_a_stack_without_a_workload_stops_with_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write_stack(tmp_path, "staging", {"meridian:workload": None})
    assert main(["capacity", "--stack", "staging", "--project-dir", str(project)]) == 2
    err = capsys.readouterr().err
    assert "Pulumi.staging.yaml" in err and "meridian:workload: is not set" in err


def test_an_instance_type_without_figures_stops_naming_the_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = yaml.safe_load((PROJECT_DIR / "Pulumi.staging.yaml").read_text())
    sizes = stack["config"]["meridian:sizes"]
    sizes["primary"]["eks"]["nodeInstanceTypes"] = ["c8g.medium"]
    project = write_stack(tmp_path, "staging", {"meridian:sizes": sizes})
    assert main(["capacity", "--stack", "staging", "--project-dir", str(project)]) == 2
    assert "c8g.medium is not in infra/analyses/data/instances.yaml" in capsys.readouterr().err
    with pytest.raises(CatalogError):
        instance_spec("db.x9.huge")


@pytest.mark.parametrize(
    ("path", "value", "key", "fragment"),
    [
        (("trafficShares",), {"ENAM": 0.5, "WEU": 0.4}, "workload.trafficShares", "add up to 0.9"),
        (("trafficShares",), {"ENAM": 1.5, "WEU": -0.5}, "workload.trafficShares", "may not be negative"),
        (("trafficShares",), {"MARS": 1.0}, "workload.trafficShares.MARS", ""),
        (("apiPod", "requestsPerSecond"), 0, "workload.apiPod.requestsPerSecond", "greater than 0"),
        (("postgres", "readsPerRequest"), -1, "workload.postgres.readsPerRequest", ""),
        (("redis", "opsPerRequest"), {"cache": -2}, "workload.redis.opsPerRequest", "may not be negative"),
        (("monthly", "nlbLcus"), -3, "workload.monthly.nlbLcus", ""),
    ],
)
def test_a_bad_workload_figure_is_rejected_with_its_key(
    prod_values: dict[str, Any], path: tuple[str, ...], value: Any, key: str, fragment: str
) -> None:
    node = prod_values["workload"]
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    assert_issue(rejected(prod_values), f"meridian:{key}", fragment)


def test_a_role_a_store_serves_needs_its_commands_per_request(prod_values: dict[str, Any]) -> None:
    del prod_values["workload"]["redis"]["opsPerRequest"]["queues"]
    assert_issue(rejected(prod_values), "meridian:workload.redis.opsPerRequest", "no figure for queues")


def test_a_write_home_moved_by_a_failover_writes_with_a_promoted_reader(prod_values: dict[str, Any]) -> None:
    """After `meridian failover db --to us-west-1`, us-west-1 writes every day with what its one
    reader (now the writer) has left: the figure the us-east-1-lost scenario showed before."""
    before = analyse_capacity(prod(), "prod", workload(prod()))
    promoted = next(s for s in before.scenarios if s.lost == "us-east-1").ceilings["us-west-1"]
    prod_values["writeHome"] = "us-west-1"
    after = validate_config(prod_values, "Pulumi.prod.yaml")
    all_up = analyse_capacity(after, "prod", workload(after)).scenarios[0]
    assert all_up.lost is None and all_up.writer == "us-west-1"
    assert all_up.ceilings["us-west-1"] == promoted != before.scenarios[0].ceilings["us-west-1"]
    # With us-west-1 lost, the writer goes back to the anchor, whose cluster has its own writer.
    back = next(
        s for s in analyse_capacity(after, "prod", workload(after)).scenarios if s.lost == "us-west-1"
    )
    assert (
        back.writer == "us-east-1" and back.ceilings["us-east-1"] == before.scenarios[0].ceilings["us-east-1"]
    )


# --- forwarded writes ------------------------------------------------------------------------------


def test_forwarding_slots_are_the_quota_of_the_default_max_connections(prod_values: dict[str, Any]) -> None:
    """LEAST(memory / 9,531,392, 5,000) × the quota: 64 GiB gives 7,209, capped at 5,000; 16 GiB 1,802."""
    two_xl = validate_config(prod_values, "Pulumi.prod.yaml").sizes[RegionRole.PRIMARY]
    assert two_xl.postgres.instance_class == "db.r7g.2xlarge"
    large = two_xl.model_copy(
        update={"postgres": two_xl.postgres.model_copy(update={"instance_class": "db.r7g.large"})}
    )
    assert forwarding_slots(two_xl, 25) == 1_250
    assert forwarding_slots(large, 25) == pytest.approx(1_802 * 0.25)


def test_forwarded_sessions_worked_by_hand() -> None:
    """1,000 req/s in eu-west-1 at 0.05 writes each, two round trips to us-east-1 of
    2 × 5,462 km × 1.5 / 200 km/ms = 81.9 ms: 50 × 2 × 0.0819 s = 8.2 sessions. The writer's own
    region forwards nothing."""
    load = {"us-east-1": 1_000.0, "eu-west-1": 1_000.0}
    assert forwarded_sessions(load, "us-east-1", 0.05, 1.5) == pytest.approx(8.19, rel=0.01)
    assert forwarded_sessions({"us-east-1": 1_000.0}, "us-east-1", 0.05, 1.5) == 0


def test_aws_default_quota_is_too_small_for_prods_peak(prod_values: dict[str, Any]) -> None:
    """At 100,000 req/s the other seven regions hold about 1,300 forwarding sessions: AWS's 25 %
    of the writer's 5,000 is exceeded even with every region up, prod's 35 % is not."""
    config = validate_config(prod_values, "Pulumi.prod.yaml")
    report = analyse_capacity(config, "prod", workload(config))
    (all_up,) = [s for s in report.scenarios if s.lost is None]
    assert 1_200 < all_up.forwarded_sessions < 1_400 and all_up.forwarding_slots == 1_750
    assert report.forwarding(all_up) < 1
    prod_values["postgres"]["writeForwarding"]["maxForwardingConnectionsPercent"] = 25
    prod_values["postgres"]["proxy"]["maxConnectionsPercent"] = 65
    config = validate_config(prod_values, "Pulumi.prod.yaml")
    report = analyse_capacity(config, "prod", workload(config))
    (all_up,) = [s for s in report.scenarios if s.lost is None]
    # Forwarding is the scenario's tightest limit then (me-central-1 is at 103 %, the quota at 104 %).
    assert report.forwarding(all_up) > 1 and report.headroom(all_up) == pytest.approx(
        1 - report.forwarding(all_up)
    )
    assert capacity_json(report)["scenarios"][0]["forwardingSlots"] == 1_250
