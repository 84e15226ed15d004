"""The subnet planner on its own: pure maths, no Pulumi."""

from __future__ import annotations

import ipaddress
import itertools

import pytest

from components.network.subnets import (
    AWS_RESERVED_ADDRESSES_PER_SUBNET,
    MAX_AZ_COUNT,
    MIN_USABLE_ADDRESSES,
    SubnetPlanError,
    Tier,
    largest_prefix_for,
    plan_subnets,
    validate_private_cidr,
)

CASES = [
    (cidr, az)
    for az in range(1, MAX_AZ_COUNT + 1)
    for cidr in (
        "10.0.0.0/16",
        "172.20.0.0/16",
        "192.168.0.0/16",
        f"10.9.0.0/{largest_prefix_for(az)}",
    )
]


@pytest.mark.parametrize(("cidr", "az_count"), CASES)
def test_every_az_gets_one_subnet_per_tier(cidr: str, az_count: int) -> None:
    plan = plan_subnets(cidr, az_count)
    assert len(plan.subnets) == 3 * az_count
    for tier in Tier:
        assert [s.az_index for s in plan.tier(tier)] == list(range(az_count))


@pytest.mark.parametrize(("cidr", "az_count"), CASES)
def test_subnets_are_disjoint_and_inside_the_vpc(cidr: str, az_count: int) -> None:
    plan = plan_subnets(cidr, az_count)
    vpc = ipaddress.ip_network(cidr)
    for s in plan.subnets:
        assert s.cidr.subnet_of(vpc)
    for a, b in itertools.combinations(plan.subnets, 2):
        assert not a.cidr.overlaps(b.cidr), (a, b)


@pytest.mark.parametrize(("cidr", "az_count"), CASES)
def test_every_subnet_meets_its_tier_minimum(cidr: str, az_count: int) -> None:
    for s in plan_subnets(cidr, az_count).subnets:
        assert s.usable_addresses >= MIN_USABLE_ADDRESSES[s.tier]
        assert s.usable_addresses == s.cidr.num_addresses - AWS_RESERVED_ADDRESSES_PER_SUBNET


def test_prod_layout_of_a_slash_16_across_three_azs() -> None:
    plan = plan_subnets("10.0.0.0/16", 3)
    assert [str(s.cidr) for s in plan.tier(Tier.PRIVATE)] == [
        "10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19",
    ]  # fmt: skip
    assert [str(s.cidr) for s in plan.tier(Tier.PUBLIC)] == [
        "10.0.192.0/21", "10.0.200.0/21", "10.0.208.0/21",
    ]  # fmt: skip
    assert [str(s.cidr) for s in plan.tier(Tier.ISOLATED)] == [
        "10.0.224.0/21", "10.0.232.0/21", "10.0.240.0/21",
    ]  # fmt: skip


def test_private_tier_is_the_largest() -> None:
    plan = plan_subnets("10.0.0.0/16", 3)
    private = plan.tier(Tier.PRIVATE)[0].cidr.num_addresses
    assert private == 4 * plan.tier(Tier.PUBLIC)[0].cidr.num_addresses
    assert private == 4 * plan.tier(Tier.ISOLATED)[0].cidr.num_addresses


def test_layout_is_deterministic() -> None:
    assert plan_subnets("10.3.0.0/16", 3) == plan_subnets("10.3.0.0/16", 3)


def test_adding_an_az_keeps_existing_subnets_when_slots_allow() -> None:
    # 3 and 4 AZs both cut each tier into four slots: growing 3 -> 4 moves no subnet.
    three = plan_subnets("10.0.0.0/16", 3).subnets
    four = plan_subnets("10.0.0.0/16", 4).subnets
    assert set(three) <= set(four)


@pytest.mark.parametrize("az_count", range(1, MAX_AZ_COUNT + 1))
def test_one_prefix_longer_than_the_limit_is_rejected(az_count: int) -> None:
    limit = largest_prefix_for(az_count)
    plan_subnets(f"10.0.0.0/{limit}", az_count)
    with pytest.raises(SubnetPlanError, match=rf"too small for {az_count} AZs.*use a /{limit} or larger"):
        plan_subnets(f"10.0.0.0/{limit + 1}", az_count)


def test_three_azs_need_at_least_a_slash_19() -> None:
    assert largest_prefix_for(3) == 19


@pytest.mark.parametrize(
    ("cidr", "message"),
    [
        ("8.8.0.0/16", "not a private range"),
        ("100.64.0.0/16", "not a private range"),
        ("10.0.0.1/16", "not a valid IPv4 network"),
        ("10.0.0.0/33", "not a valid IPv4 network"),
        ("banana", "not a valid IPv4 network"),
        ("fd00::/48", "IPv6"),
        ("10.0.0.0/8", "from /16 to /28"),
        ("172.16.0.0/12", "from /16 to /28"),
    ],
)
def test_invalid_vpc_ranges_are_rejected(cidr: str, message: str) -> None:
    with pytest.raises(SubnetPlanError, match=message):
        validate_private_cidr(cidr)


@pytest.mark.parametrize("az_count", [0, -1, MAX_AZ_COUNT + 1])
def test_az_count_out_of_range_is_rejected(az_count: int) -> None:
    with pytest.raises(SubnetPlanError, match="az_count must be between"):
        plan_subnets("10.0.0.0/16", az_count)
