"""Typed inputs of `Network`: one VPC across several AZs, its NAT gateways, flow logs and endpoints.

Field names are snake_case in Python; in YAML they are camelCase (`azCount`), as Pulumi config is.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Annotated

from pydantic import AfterValidator, Field, field_validator

from ..core.args import MeridianModel, RetentionDays
from .subnets import MAX_AZ_COUNT, SubnetPlan, plan_subnets, validate_private_cidr

__all__ = [
    "DEFAULT_INTERFACE_ENDPOINTS",
    "EKS_UNSUPPORTED_ZONE_IDS",
    "FIREHOSE_ENDPOINT",
    "SECRETS_ENDPOINT",
    "AzId",
    "AzIds",
    "NatGatewayMode",
    "NetworkArgs",
    "NetworkSettings",
    "PrivateCidr",
    "az_id_prefix",
    "foreign_az_ids",
]


class NatGatewayMode(str, Enum):
    """`one-per-az` keeps egress alive when an AZ fails; `single` saves cost where that does not matter."""

    ONE_PER_AZ = "one-per-az"
    SINGLE = "single"


#: Interface endpoints that nodes in private subnets need to start without the internet: pulling images
#: (ECR API and Docker registry) and getting credentials (STS, for IRSA and Pod Identity); and the
#: two the API's pods reach AWS by (their NetworkPolicies let them out of the VPC nowhere else):
#: Firehose, for their events, and Secrets Manager, for the Redis stores' credentials.
DEFAULT_INTERFACE_ENDPOINTS: tuple[str, ...] = (
    "ecr.api",
    "ecr.dkr",
    "sts",
    "kinesis-firehose",
    "secretsmanager",
)
#: The interface endpoint the API's pods put their events through, to their region's stream.
FIREHOSE_ENDPOINT = "kinesis-firehose"
#: The interface endpoint the API's pods read their data stores' credentials through.
SECRETS_ENDPOINT = "secretsmanager"


_SERVICE_NAME = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*(\.[a-z0-9]+(-[a-z0-9]+)*)*")


def _private_cidr(cidr: str) -> str:
    return str(validate_private_cidr(cidr))


#: A VPC range: IPv4, RFC 1918, /16 to /28 (normalised to its canonical text).
PrivateCidr = Annotated[str, AfterValidator(_private_cidr)]

#: AZ ids where EKS cannot place a cluster (Amazon EKS User Guide, "VPC and subnet requirements").
#: AZ ids are the same in every account and unique across regions, so one list serves all regions.
EKS_UNSUPPORTED_ZONE_IDS = ("use1-az3", "usw1-az2", "cac1-az3")

#: An Availability Zone's id (`use1-az1`): a region's AZ, never a Local or Wavelength Zone
#: (`use1-bos1-az1`, opt-in and without most services).
_AZ_ID = re.compile(r"^[a-z]+[0-9]+-az[0-9]+$")

#: Where a region's AZ-id prefix is not its name's initials (`us-gov-west-1` is `usgw1`).
_AZ_ID_PREFIXES = {"us-gov-west-1": "usgw1", "us-gov-east-1": "usge1"}

_DIRECTIONS = {"east": "e", "west": "w", "north": "n", "south": "s", "central": "c",
               "northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw"}  # fmt: skip


def az_id_prefix(region: str) -> str | None:
    """The prefix of `region`'s AZ ids (`eu-west-1` → `euw1`, `ap-northeast-1` → `apne1`,
    `me-central-1` → `mec1`), None where it is not known (the isolated partitions)."""
    if region in _AZ_ID_PREFIXES:
        return _AZ_ID_PREFIXES[region]
    area, direction, number = [*region.split("-"), "", ""][:3]
    if region.count("-") != 2 or direction not in _DIRECTIONS or not number.isdigit():
        return None
    return f"{area}{_DIRECTIONS[direction]}{number}"


def foreign_az_ids(region: str, az_ids: tuple[str, ...]) -> list[str]:
    """The ids in `az_ids` that are not `region`'s (none when its prefix is not known)."""
    prefix = az_id_prefix(region)
    return [] if prefix is None else [z for z in az_ids if z.split("-az", 1)[0] != prefix]


def _az_id(zone_id: str) -> str:
    if not _AZ_ID.match(zone_id):
        raise ValueError(
            f"{zone_id!r} is not an Availability Zone id; use the AZ's id as "
            "`aws ec2 describe-availability-zones` prints it (ZoneId, e.g. use1-az1), not its name "
            "(us-east-1a) nor a Local Zone's"
        )
    if zone_id in EKS_UNSUPPORTED_ZONE_IDS:
        raise ValueError(
            f"EKS cannot place a cluster in {zone_id} (the private subnets host the cluster); "
            "pick another of the region's AZs"
        )
    return zone_id


def _distinct(az_ids: tuple[str, ...]) -> tuple[str, ...]:
    twice = sorted({z for z in az_ids if az_ids.count(z) > 1})
    if twice:
        raise ValueError(f"{', '.join(twice)} listed twice; list each AZ once")
    return az_ids


#: One AZ, by its id: the same physical zone in every account, unlike its name.
AzId = Annotated[str, AfterValidator(_az_id)]
#: The AZs a VPC spans, by id, in subnet order (AZ 0 first: it decides each subnet's range).
AzIds = Annotated[tuple[AzId, ...], Field(min_length=1, max_length=MAX_AZ_COUNT), AfterValidator(_distinct)]


class NetworkSettings(MeridianModel):
    """Network settings every region of a stack shares (`meridian:network` in the stack file).

    Attributes:
        nat_gateways: `one-per-az` (default) or `single`.
        flow_log_retention_days: how long VPC flow logs are kept (default 365; CloudWatch's allowed values).
        interface_endpoints: AWS services reached privately through interface endpoints
            (default ECR API, ECR Docker registry, STS, Firehose and Secrets Manager: the API's
            events and its stores' credentials go through the last two, so a stack must list
            them). S3 always gets a gateway endpoint.
    """

    nat_gateways: NatGatewayMode = NatGatewayMode.ONE_PER_AZ
    flow_log_retention_days: RetentionDays = 365
    interface_endpoints: tuple[str, ...] = DEFAULT_INTERFACE_ENDPOINTS

    @field_validator("interface_endpoints")
    @classmethod
    def _endpoints_are_service_names(cls, services: tuple[str, ...]) -> tuple[str, ...]:
        for service in services:
            # Dot-separated labels of letters and digits, hyphens inside (`kinesis-firehose`).
            if not _SERVICE_NAME.fullmatch(service):
                raise ValueError(
                    f"{service!r} is not an AWS service endpoint name; use short names such as "
                    "'ecr.api', 'sts' or 'logs'"
                )
        if len(set(services)) != len(services):
            raise ValueError("interface endpoints are listed twice; name each service once")
        return services


class NetworkArgs(NetworkSettings):
    """Arguments of `Network`: one VPC across several AZs (plus everything in `NetworkSettings`).

    Attributes:
        cidr: the VPC's IPv4 range, RFC 1918, large enough for the subnet plan (see
            `components.network.subnets`).
        az_ids: the AZs the VPC spans, by AZ id (`euc1-az1`), in subnet order: AZ *i* gets the
            *i*-th range of each tier. Ids, not names: a name (`eu-central-1a`) is another zone in
            another account, and no list of the zones available now decides where anything goes.
        protect: guard stateful children (the flow-log group) against deletion (default true).
    """

    cidr: PrivateCidr
    az_ids: AzIds
    protect: bool = True

    @property
    def az_count(self) -> int:
        """How many AZs the VPC spans."""
        return len(self.az_ids)

    def subnet_plan(self) -> SubnetPlan:
        """The subnet layout this VPC gets (raises SubnetPlanError when the range is too small)."""
        return plan_subnets(self.cidr, self.az_count)
