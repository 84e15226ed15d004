"""Geo steering planned on its own, before any resource: distances, partners, orders, overrides."""

from __future__ import annotations

import pytest

from components.core.args import AWS_REGIONS, RegionRole
from components.edge.geo import AWS_REGION_LOCATIONS, CloudflareRegion, Place, distance_km
from components.edge.steering import SteeringError, check_regions, nearest, partner_secondaries, plan_steering

P, S = RegionRole.PRIMARY, RegionRole.SECONDARY

#: Prod's regions, in its stack file's order.
PROD = {
    "us-east-1": P,
    "eu-west-1": P,
    "ap-northeast-1": P,
    "me-central-1": P,
    "us-west-1": S,
    "eu-central-1": S,
    "ap-southeast-1": S,
    "af-south-1": S,
}


# --- distances -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "km"),
    [
        # Published great-circle distances between the cities, ±1 %.
        (Place("London", 51.5074, -0.1278), Place("Paris", 48.8566, 2.3522), 344),
        (Place("New York", 40.7128, -74.0060), Place("London", 51.5074, -0.1278), 5570),
        (Place("Sydney", -33.8688, 151.2093), Place("Tokyo", 35.6762, 139.6503), 7820),
        (Place("Quito", -0.18, -78.47), Place("Singapore", 1.35, 103.82), 19_760),  # near-antipodal
    ],
)
def test_great_circle_distances_match_published_ones(a: Place, b: Place, km: float) -> None:
    assert distance_km(a, b) == pytest.approx(km, rel=0.01)
    assert distance_km(b, a) == pytest.approx(distance_km(a, b))
    assert distance_km(a, a) == 0


def test_a_place_off_the_globe_is_refused() -> None:
    with pytest.raises(ValueError, match="not on the globe"):
        Place("nowhere", 91, 0)


def test_every_located_region_is_an_aws_region_and_every_cloudflare_region_has_a_centre() -> None:
    assert set(AWS_REGION_LOCATIONS) <= AWS_REGIONS
    assert {"us-east-1", "eu-west-1", "ap-northeast-1", "me-central-1", "af-south-1"} <= set(
        AWS_REGION_LOCATIONS
    )
    assert {cf.value for cf in CloudflareRegion} == {
        "WNAM", "ENAM", "WEU", "EEU", "NSAM", "SSAM", "OC", "ME", "NAF", "SAF", "SAS", "SEAS", "NEAS",
    }  # fmt: skip
    assert len({cf.place for cf in CloudflareRegion}) == len(CloudflareRegion)  # thirteen distinct centres


def test_nearest_orders_by_distance() -> None:
    dublin = AWS_REGION_LOCATIONS["eu-west-1"]
    assert nearest(dublin, ["ap-northeast-1", "us-east-1", "eu-central-1"]) == [
        "eu-central-1",
        "us-east-1",
        "ap-northeast-1",
    ]


# --- partners ------------------------------------------------------------------------------------


def test_prod_pairs_each_primary_with_the_standby_of_its_part_of_the_world() -> None:
    assert partner_secondaries(PROD) == {
        "us-east-1": ["us-west-1"],
        "eu-west-1": ["eu-central-1"],
        "ap-northeast-1": ["ap-southeast-1"],
        "me-central-1": ["af-south-1"],  # Cape Town-UAE 7,600 km, Cape Town-Dublin 10,500 km
    }


def test_a_primary_may_back_several_secondaries_or_none() -> None:
    roles = {"us-east-1": P, "eu-west-1": P, "us-west-2": S, "us-east-2": S}
    assert partner_secondaries(roles) == {"us-east-1": ["us-west-2", "us-east-2"], "eu-west-1": []}


# --- the table -----------------------------------------------------------------------------------


def test_every_cloudflare_region_gets_every_region_nearest_primary_first_then_its_partner() -> None:
    plan = plan_steering(PROD, fallback="us-east-1")
    primaries = [r for r, role in PROD.items() if role is P]
    assert set(plan.regions) == set(CloudflareRegion)
    for cf, order in plan.regions.items():
        assert sorted(order) == sorted(PROD), cf  # every pool, each once
        closest = min(primaries, key=lambda p: distance_km(cf.place, AWS_REGION_LOCATIONS[p]))
        assert order[0] == closest, cf
        assert order[1] == plan.partners[closest][0], cf
        assert PROD[order[2]] is P and order[2] != closest, cf


def test_prod_table_reads_as_the_architecture_intends() -> None:
    first_two = {
        cf.value: order[:3] for cf, order in plan_steering(PROD, fallback="us-east-1").regions.items()
    }
    assert first_two["ENAM"] == ["us-east-1", "us-west-1", "eu-west-1"]
    assert first_two["WEU"][:2] == ["eu-west-1", "eu-central-1"]
    assert first_two["NEAS"][:2] == ["ap-northeast-1", "ap-southeast-1"]
    assert first_two["ME"][:2] == ["me-central-1", "af-south-1"]
    assert first_two["SAS"][0] == "me-central-1"  # Delhi-UAE 2,200 km, Delhi-Tokyo 5,800 km
    assert first_two["OC"][0] == "ap-northeast-1"


def test_fallback_and_default_order_start_at_the_write_home() -> None:
    plan = plan_steering(PROD, fallback="eu-west-1")
    assert plan.fallback == "eu-west-1"
    assert plan.default[:2] == ["eu-west-1", "eu-central-1"] and sorted(plan.default) == sorted(PROD)


def test_removing_a_region_re_steers_its_users_to_the_next_nearest() -> None:
    without_uae = {r: role for r, role in PROD.items() if r != "me-central-1"}
    before = plan_steering(PROD, fallback="us-east-1").regions
    after = plan_steering(without_uae, fallback="us-east-1").regions
    assert before[CloudflareRegion.ME][0] == "me-central-1"
    for order in after.values():
        assert "me-central-1" not in order and sorted(order) == sorted(without_uae)
    assert after[CloudflareRegion.ME][0] == "eu-west-1"  # Riyadh-Dublin 4,900 km < Riyadh-Tokyo
    # af-south-1 lost its partner and joins the primary nearest to it.
    assert partner_secondaries(without_uae)["eu-west-1"] == ["eu-central-1", "af-south-1"]


def test_an_override_leads_and_the_computed_order_follows() -> None:
    plan = plan_steering(
        PROD, fallback="us-east-1", overrides={CloudflareRegion.SAF: ["af-south-1", "eu-west-1"]}
    )
    computed = plan_steering(PROD, fallback="us-east-1").regions[CloudflareRegion.SAF]
    assert plan.regions[CloudflareRegion.SAF] == [
        "af-south-1",
        "eu-west-1",
        *(r for r in computed if r not in ("af-south-1", "eu-west-1")),
    ]
    assert (
        plan.regions[CloudflareRegion.WEU]
        == plan_steering(PROD, fallback="us-east-1").regions[CloudflareRegion.WEU]
    )


@pytest.mark.parametrize(
    ("roles", "fallback", "overrides", "message"),
    [
        ({"us-west-1": S, "eu-central-1": S}, "us-west-1", None, "no primary region"),
        (PROD, "sa-east-1", None, "fallback sa-east-1 is not one of the regions"),
        (PROD, "us-east-1", {CloudflareRegion.SSAM: ["sa-east-1"]}, "override for SSAM names sa-east-1"),
        (PROD, "us-east-1", {CloudflareRegion.OC: ["us-east-1", "us-east-1"]}, "names a region twice"),
        ({"us-east-1": P, "us-gov-west-1": S}, "us-east-1", None, "us-gov-west-1 has no location"),
    ],
)
def test_bad_steering_input_is_refused(roles, fallback, overrides, message) -> None:
    with pytest.raises(SteeringError, match=message):
        plan_steering(roles, fallback=fallback, overrides=overrides)


# --- health checks -------------------------------------------------------------------------------


def test_pools_are_checked_from_where_their_users_are_and_from_nearby() -> None:
    plan = plan_steering(PROD, fallback="us-east-1")
    checked = check_regions(plan)
    assert set(checked) == set(PROD)
    assert checked["us-east-1"] == [CloudflareRegion.WNAM, CloudflareRegion.ENAM, CloudflareRegion.NSAM,
                                    CloudflareRegion.SSAM]  # fmt: skip
    # A standby serves no one first: it is checked from the Cloudflare region around it.
    assert checked["us-west-1"] == [CloudflareRegion.WNAM]
    assert checked["ap-southeast-1"] == [CloudflareRegion.SEAS]
    assert checked["af-south-1"] == [CloudflareRegion.SAF]
    for region, cf_regions in checked.items():
        firsts = {cf for cf, order in plan.regions.items() if order[0] == region}
        assert firsts <= set(cf_regions) and len(cf_regions) <= len(firsts) + 1


# --- regions where writes fail -------------------------------------------------------------------


def _subsets(regions: list[str]) -> list[frozenset[str]]:
    return [frozenset(r for i, r in enumerate(regions) if mask >> i & 1) for mask in range(1 << len(regions))]


def test_no_order_puts_first_or_fails_over_to_a_region_where_writes_fail() -> None:
    """Over every set of read-only regions of prod that leaves the write home writable (128):
    every order, and the default, lists exactly the regions that take writes, a primary first
    while one takes writes."""
    planned = 0
    for read_only in _subsets([r for r in PROD if r != "us-east-1"]):
        plan = plan_steering(PROD, fallback="us-east-1", read_only=read_only)
        writable = [r for r in PROD if r not in read_only]
        primaries = {r for r in writable if PROD[r] is P}
        for cf_region, order in plan.regions.items():
            assert sorted(order) == sorted(writable), (cf_region, read_only)
            assert order[0] in primaries, (cf_region, read_only)
        assert plan.default[0] == "us-east-1" and sorted(plan.default) == sorted(writable)
        assert plan.read_only == read_only
        planned += 1
    assert planned == 128  # 2 ** 7 subsets of the other seven regions


def test_with_every_primary_read_only_the_writable_secondaries_serve() -> None:
    """After a failover moved every write to us-west-1 (its stores' primaries there), the primaries'
    read-only copies are out, and the secondaries that take writes serve, nearest first."""
    read_only = {r for r, role in PROD.items() if role is P}
    plan = plan_steering(PROD, fallback="us-west-1", read_only=read_only)
    assert plan.regions[CloudflareRegion.WEU][0] == "eu-central-1"
    assert plan.regions[CloudflareRegion.SEAS][0] == "ap-southeast-1"
    assert all(not read_only & set(order) for order in plan.regions.values())


@pytest.mark.parametrize(
    ("fallback", "overrides", "read_only", "message"),
    [
        ("us-west-1", None, {"us-west-1"}, "fallback us-west-1 is read-only"),
        ("us-east-1", {CloudflareRegion.WEU: ["eu-central-1"]}, {"eu-central-1"}, "where writes fail"),
        ("us-east-1", None, {"sa-east-1"}, "read-only sa-east-1 not among the regions"),
        ("us-east-1", None, set(PROD), "no region takes writes"),
    ],
)
def test_a_read_only_region_is_never_chosen(
    fallback: str, overrides: dict[CloudflareRegion, list[str]] | None, read_only: set[str], message: str
) -> None:
    with pytest.raises(SteeringError, match=message):
        plan_steering(PROD, fallback=fallback, overrides=overrides, read_only=read_only)
