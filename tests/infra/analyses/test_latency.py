"""`meridian latency`: the round-trip floor from the world's large cities to the regions serving them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from components.edge.geo import AWS_REGION_LOCATIONS, Place, distance_km
from components.edge.steering import nearest
from infra.analyses.latency import MIN_POPULATION, City, analyse, rtt_floor_ms, world_cities
from infra.cli import main
from tests.support import PROJECT_DIR


def city(name: str, at: str, population: int, north_km: float = 0.0) -> City:
    """A city at region *at*'s location, moved *north_km* north (1° of latitude ≈ 111.2 km)."""
    spot = AWS_REGION_LOCATIONS[at]
    return City(name, "XX", population, Place(name, spot.latitude + north_km / 111.195, spot.longitude))


def test_the_floor_is_the_round_trip_in_fibre_over_the_inflated_path() -> None:
    assert rtt_floor_ms(1000, 1.5) == pytest.approx(15.0)  # 2 × 1000 km × 1.5 / 200 km/ms
    assert rtt_floor_ms(0, 1.5) == 0


def test_a_two_city_two_region_world_worked_by_hand() -> None:
    """Dublin-side city of 300 at 0 ms; a city of 100 at Tokyo, 9,600 km from Dublin and 10,900 km
    from Ashburn: at 1.5x it is 144 ms from Dublin, outside 50 ms. Share within: 300 / 400."""
    near, far = city("Near", "eu-west-1", 300), city("Far", "ap-northeast-1", 100)
    report = analyse(
        ["us-east-1", "eu-west-1"], cities=[near, far], candidates=["sa-east-1", "ap-northeast-1"]
    )
    (slowest, fastest) = report.cities
    assert (fastest.city.name, fastest.region, fastest.rtt_ms) == ("Near", "eu-west-1", 0)
    dublin_tokyo = distance_km(AWS_REGION_LOCATIONS["eu-west-1"], AWS_REGION_LOCATIONS["ap-northeast-1"])
    assert slowest.region == "eu-west-1" and slowest.rtt_ms == pytest.approx(2 * dublin_tokyo * 1.5 / 200)
    assert 9_500 < dublin_tokyo < 9_700
    assert report.share_within == pytest.approx(0.75)
    assert not report.met  # 75 % < the default 90 %
    # Tokyo itself is the one candidate that brings the far city in; São Paulo helps no one.
    assert report.suggestions[0] == ("ap-northeast-1", pytest.approx(1.0))
    assert report.suggestions[1] == ("sa-east-1", pytest.approx(1.0))


def test_a_city_just_inside_and_just_outside_the_target() -> None:
    # 50 ms at 1.5x is 3,333 km of great circle.
    inside, outside = city("In", "us-east-1", 1, north_km=3_300), city("Out", "us-east-1", 1, north_km=3_370)
    report = analyse(["us-east-1"], cities=[inside, outside], suggestions=0, target_share=0.5)
    floors = {c.city.name: c.rtt_ms for c in report.cities}
    assert floors["In"] < 50 < floors["Out"]
    assert report.share_within == 0.5 and report.met  # exactly the share asked for meets it


def test_inflation_and_target_come_through() -> None:
    far = city("Far", "us-east-1", 1, north_km=2_000)  # 30 ms at 1.5x, 40 ms at 2x, 60 ms at 3x
    assert analyse(["us-east-1"], cities=[far], suggestions=0, inflation=2.0).met
    assert not analyse(["us-east-1"], cities=[far], suggestions=0, inflation=3.0).met
    assert not analyse(["us-east-1"], cities=[far], suggestions=0, target_ms=25).met


def test_each_city_goes_to_the_region_the_steerings_nearest_picks() -> None:
    """One nearest-region rule for the steering table and the estimate."""
    regions = ["us-east-1", "eu-west-1", "ap-northeast-1", "me-central-1"]
    report = analyse(regions, cities=world_cities()[:300], suggestions=0)
    for c in report.cities:
        assert c.region == nearest(c.city.place, regions)[0]


def test_the_world_is_geonames_cities_of_100000_or_more() -> None:
    cities = world_cities()
    assert len(cities) > 5_000
    assert all(c.population >= MIN_POPULATION for c in cities)
    assert [c.population for c in cities] == sorted((c.population for c in cities), reverse=True)
    assert {"Tokyo", "Lagos", "São Paulo", "Auckland"} <= {c.name for c in cities}


# --- the command ---------------------------------------------------------------------------------


def test_prod_misses_the_target_and_says_by_how_much(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "latency.json"
    assert main(["latency", "--stack", "prod", "--project-dir", str(PROJECT_DIR), "--json", str(out)]) == 1
    figures = json.loads(out.read_text())
    assert figures["met"] is False and figures["shareWithin"] < figures["targetShare"] == 0.9
    # Users go first to the primaries (secondaries hold read replicas until a failover).
    assert figures["servingRegions"] == ["us-east-1", "eu-west-1", "ap-northeast-1", "me-central-1"]
    text = capsys.readouterr().out
    assert f"{figures['shareWithin']:.1%}" in text and "misses the target of 90%" in text
    assert "Serving users from af-south-1 first" in text  # a secondary of the stack, not a new region
    analyses = (PROJECT_DIR / "docs" / "analyses.md").read_text()
    assert f"Prod today: **{figures['shareWithin'] * 100:.1f} %**" in analyses, (
        "update docs/analyses.md's latency figures"
    )


def write_staging(tmp_path: Path, targets: dict[str, float]) -> Path:
    (tmp_path / "Pulumi.yaml").write_text((PROJECT_DIR / "Pulumi.yaml").read_text())
    stack = yaml.safe_load((PROJECT_DIR / "Pulumi.staging.yaml").read_text())
    stack["config"]["meridian:targets"] = targets
    (tmp_path / "Pulumi.staging.yaml").write_text(yaml.safe_dump(stack))
    return tmp_path


def test_a_stack_that_meets_its_target_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = write_staging(tmp_path, {"latencyMs": 300, "latencyPopulationShare": 0.99})
    assert main(["latency", "--stack", "staging", "--project-dir", str(project)]) == 0
    assert "meets the target of 99%" in capsys.readouterr().out


def test_a_bad_target_stops_with_its_key_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = write_staging(tmp_path, {"pathInflation": 0.5})
    assert main(["latency", "--stack", "staging", "--project-dir", str(project)]) == 2
    err = capsys.readouterr().err
    assert "Pulumi.staging.yaml" in err and "meridian:targets.pathInflation" in err


def test_a_city_exactly_at_the_target_is_within() -> None:
    here = city("Here", "us-east-1", 1)  # 0 ms from its region
    assert analyse(["us-east-1"], cities=[here], suggestions=0, target_ms=0.0).share_within == 1.0
