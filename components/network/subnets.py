"""Subnet planning: carve one region's VPC range into per-AZ public, private and isolated subnets.

Pure functions, no Pulumi: the layout is decided (and validated) before any resource exists, so config
validation and the `Network` component share one answer, and the maths is unit-tested on its own.

Layout of the VPC range, in eighths (why: with the EKS VPC CNI every pod takes a VPC address, so the
private tier that holds the nodes gets half of the range; data stores and load balancers need few)::

    eighths 0-3  private   nodes and pods, NAT egress          (1/2)
    eighths 4-5  reserved  kept free for a future tier         (1/4)
    eighth  6    public    NAT gateways and internet-facing LBs (1/8)
    eighth  7    isolated  databases and caches, no internet route (1/8)

Each tier block is split into 2**ceil(log2(az_count)) equal slots; AZ *i* takes slot *i*. The result is
deterministic: the same CIDR and AZ count always give the same subnets, so URNs and CIDRs stay stable.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from enum import Enum

__all__ = [
    "AWS_RESERVED_ADDRESSES_PER_SUBNET",
    "MAX_AZ_COUNT",
    "MIN_USABLE_ADDRESSES",
    "PRIVATE_RANGES",
    "SubnetPlan",
    "SubnetPlanError",
    "SubnetSpec",
    "Tier",
    "largest_prefix_for",
    "plan_subnets",
    "validate_private_cidr",
]

#: AWS keeps the first four and the last address of every subnet.
AWS_RESERVED_ADDRESSES_PER_SUBNET = 5

#: The most AZs any AWS region offers today is six (us-east-1).
MAX_AZ_COUNT = 6

#: RFC 1918 ranges: the only ones meridian accepts for a VPC (no public space, no CGNAT range).
PRIVATE_RANGES: tuple[ipaddress.IPv4Network, ...] = tuple(
    ipaddress.IPv4Network(cidr) for cidr in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)

#: AWS accepts VPC CIDR blocks from /16 to /28.
_AWS_VPC_PREFIX_RANGE = (16, 28)


class Tier(str, Enum):
    """What a subnet is for; decides its routes and tags."""

    PUBLIC = "public"
    PRIVATE = "private"
    ISOLATED = "isolated"


#: (first eighth, eighths) of the VPC range each tier owns; eighths 4-5 stay reserved.
_TIER_EIGHTHS: dict[Tier, tuple[int, int]] = {
    Tier.PRIVATE: (0, 4),
    Tier.PUBLIC: (6, 1),
    Tier.ISOLATED: (7, 1),
}

#: Smallest usable subnet per tier. Private: about a thousand pod and node addresses per AZ.
#: Public: NAT gateways and load-balancer ENIs. Isolated: Aurora instances and cache nodes.
MIN_USABLE_ADDRESSES: dict[Tier, int] = {
    Tier.PRIVATE: 1019,  # a /22
    Tier.PUBLIC: 59,  # a /26
    Tier.ISOLATED: 59,  # a /26
}


class SubnetPlanError(ValueError):
    """The CIDR cannot hold the subnet layout; the message says what would."""


@dataclass(frozen=True)
class SubnetSpec:
    """One planned subnet."""

    tier: Tier
    az_index: int
    cidr: ipaddress.IPv4Network

    @property
    def usable_addresses(self) -> int:
        return self.cidr.num_addresses - AWS_RESERVED_ADDRESSES_PER_SUBNET


@dataclass(frozen=True)
class SubnetPlan:
    """The full layout of one VPC: every subnet of every tier, in AZ order."""

    vpc_cidr: ipaddress.IPv4Network
    az_count: int
    subnets: tuple[SubnetSpec, ...]

    def tier(self, tier: Tier) -> list[SubnetSpec]:
        """The subnets of one tier, AZ 0 first."""
        return [s for s in self.subnets if s.tier is tier]


def _slots(az_count: int) -> int:
    """How many equal slots a tier block is cut into so that every AZ gets one."""
    return 2 ** math.ceil(math.log2(az_count)) if az_count > 1 else 1


def _tier_prefix(vpc_prefix: int, tier: Tier, az_count: int) -> int:
    _, eighths = _TIER_EIGHTHS[tier]
    block_prefix = vpc_prefix + 3 - int(math.log2(eighths))
    return block_prefix + int(math.log2(_slots(az_count)))


def largest_prefix_for(az_count: int) -> int:
    """The longest VPC prefix (smallest range) that still holds the layout for *az_count* AZs."""
    candidates = []
    for tier, usable in MIN_USABLE_ADDRESSES.items():
        subnet_prefix = 32 - math.ceil(math.log2(usable + AWS_RESERVED_ADDRESSES_PER_SUBNET))
        # subnet_prefix = vpc_prefix + offset, so the VPC prefix may be at most subnet_prefix - offset.
        candidates.append(subnet_prefix - _tier_prefix(0, tier, az_count))
    return min(candidates)


def validate_private_cidr(cidr: str) -> ipaddress.IPv4Network:
    """Parse *cidr* as a VPC range: IPv4, host bits clear, inside RFC 1918, /16 to /28."""
    try:
        network = ipaddress.ip_network(cidr, strict=True)
    except ValueError as exc:
        raise SubnetPlanError(
            f"{cidr!r} is not a valid IPv4 network in CIDR form ({exc}); write it like 10.0.0.0/16"
        ) from None
    if not isinstance(network, ipaddress.IPv4Network):
        raise SubnetPlanError(f"{cidr} is IPv6; a VPC's primary range is IPv4, e.g. 10.0.0.0/16")
    if not any(network.subnet_of(private) for private in PRIVATE_RANGES):
        ranges = ", ".join(str(r) for r in PRIVATE_RANGES)
        raise SubnetPlanError(f"{cidr} is not a private range; use a range inside {ranges}")
    low, high = _AWS_VPC_PREFIX_RANGE
    if not low <= network.prefixlen <= high:
        raise SubnetPlanError(f"{cidr}: AWS accepts VPC ranges from /{low} to /{high}; use e.g. /16")
    return network


def plan_subnets(cidr: str, az_count: int) -> SubnetPlan:
    """Lay out public, private and isolated subnets of *cidr* across *az_count* AZs.

    Raises SubnetPlanError when the range is not a valid private VPC range or is too small.
    """
    if not 1 <= az_count <= MAX_AZ_COUNT:
        raise SubnetPlanError(f"az_count must be between 1 and {MAX_AZ_COUNT}, got {az_count}")
    network = validate_private_cidr(cidr)
    largest = largest_prefix_for(az_count)
    if network.prefixlen > largest:
        raise SubnetPlanError(
            f"{cidr} is too small for {az_count} AZs of public, private and isolated subnets; "
            f"use a /{largest} or larger (e.g. /16)"
        )
    eighths = list(network.subnets(new_prefix=network.prefixlen + 3))
    specs: list[SubnetSpec] = []
    for tier in (Tier.PUBLIC, Tier.PRIVATE, Tier.ISOLATED):
        first, count = _TIER_EIGHTHS[tier]
        block = ipaddress.collapse_addresses(eighths[first : first + count])
        (tier_block,) = list(block)
        slots = list(tier_block.subnets(new_prefix=_tier_prefix(network.prefixlen, tier, az_count)))
        specs.extend(SubnetSpec(tier, az, slots[az]) for az in range(az_count))
    return SubnetPlan(vpc_cidr=network, az_count=az_count, subnets=tuple(specs))
