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
    "FIREHOSE_ENDPOINT",
    "AzCount",
    "NatGatewayMode",
    "NetworkArgs",
    "NetworkSettings",
    "PrivateCidr",
]


class NatGatewayMode(str, Enum):
    """`one-per-az` keeps egress alive when an AZ fails; `single` saves cost where that does not matter."""

    ONE_PER_AZ = "one-per-az"
    SINGLE = "single"


#: Interface endpoints that nodes in private subnets need to start without the internet: pulling images
#: (ECR API and Docker registry) and getting credentials (STS, for IRSA and Pod Identity); and the
#: one the API's events leave the VPC by (Firehose: its pods may not reach the internet).
DEFAULT_INTERFACE_ENDPOINTS: tuple[str, ...] = ("ecr.api", "ecr.dkr", "sts", "kinesis-firehose")
#: The interface endpoint the API's pods put their events through, to their region's stream.
FIREHOSE_ENDPOINT = "kinesis-firehose"


_SERVICE_NAME = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*(\.[a-z0-9]+(-[a-z0-9]+)*)*")


def _private_cidr(cidr: str) -> str:
    return str(validate_private_cidr(cidr))


#: A VPC range: IPv4, RFC 1918, /16 to /28 (normalised to its canonical text).
PrivateCidr = Annotated[str, AfterValidator(_private_cidr)]
#: How many AZs a VPC spans.
AzCount = Annotated[int, Field(ge=1, le=MAX_AZ_COUNT)]


class NetworkSettings(MeridianModel):
    """Network settings every region of a stack shares (`meridian:network` in the stack file).

    Attributes:
        nat_gateways: `one-per-az` (default) or `single`.
        flow_log_retention_days: how long VPC flow logs are kept (default 365; CloudWatch's allowed values).
        interface_endpoints: AWS services reached privately through interface endpoints
            (default ECR API, ECR Docker registry, STS and Firehose, which the API's events go
            through: a stack must list it). S3 always gets a gateway endpoint.
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
        az_count: how many AZs the VPC spans (default 3).
        protect: guard stateful children (the flow-log group) against deletion (default true).
    """

    cidr: PrivateCidr
    az_count: AzCount = 3
    protect: bool = True

    def subnet_plan(self) -> SubnetPlan:
        """The subnet layout this VPC gets (raises SubnetPlanError when the range is too small)."""
        return plan_subnets(self.cidr, self.az_count)
