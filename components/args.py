"""Typed, validated arguments of meridian's components.

These pydantic models are the single source of truth for what a component accepts: the stack config
(`infra.stack_config`) is built from them, and a platform team constructing a component in its own
program gets the same validation and defaults. Secure choices are the defaults; turning one off means
writing it down.

Field names are snake_case in Python; in YAML they are camelCase (`azCount`), as Pulumi config is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from .subnets import MAX_AZ_COUNT, SubnetPlan, plan_subnets, validate_private_cidr

__all__ = [
    "AWS_REGIONS",
    "CLOUDWATCH_RETENTION_DAYS",
    "AwsRegionName",
    "AzCount",
    "DomainName",
    "MeridianModel",
    "NatGatewayMode",
    "NetworkArgs",
    "NetworkDefaults",
    "PrivateCidr",
    "RegionRole",
    "RetentionDays",
    "TopologyProblem",
    "one_of",
]


class MeridianModel(BaseModel):
    """Base of every config model: camelCase keys in YAML, unknown keys rejected, immutable."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        str_strip_whitespace=True,
    )


#: Every region pulumi-aws knows: pulumi-aws 7.51.1's `aws.Region`, written out so that validating a
#: stack file does not import the SDK (tests/test_stack_config.py keeps the two equal).
AWS_REGIONS: frozenset[str] = frozenset({
    "af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
    "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
    "ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-central-1",
    "ca-west-1", "cn-north-1", "cn-northwest-1", "eu-central-1", "eu-central-2", "eu-isoe-west-1",
    "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3",
    "eusc-de-east-1", "il-central-1", "me-central-1", "me-south-1", "mx-central-1", "sa-east-1",
    "us-east-1", "us-east-2", "us-gov-east-1", "us-gov-west-1", "us-iso-east-1", "us-iso-west-1",
    "us-isob-east-1", "us-isob-west-1", "us-isof-east-1", "us-isof-south-1", "us-west-1",
    "us-west-2",
})  # fmt: skip

#: The only values CloudWatch Logs accepts for `retention_in_days` (0, "never expire", is not offered:
#: logs are kept for a set time so that storage does not grow without bound).
CLOUDWATCH_RETENTION_DAYS: tuple[int, ...] = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip


def one_of(allowed: Iterable[object], describe: str) -> Callable[[Any], Any]:
    """A validator that accepts only `allowed`; the error is `describe` (formatted with the value)
    followed by the valid choices, in the order given."""
    choices = tuple(allowed)

    def check(value: Any) -> Any:
        if value not in choices:
            raise ValueError(f"{describe.format(value)}; use one of: {', '.join(str(c) for c in choices)}")
        return value

    return check


_DOMAIN_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def _domain_name(value: str) -> str:
    if not _DOMAIN_NAME.match(value):
        raise ValueError(f"{value!r} is not a DNS name; write it like 'example.com' (lower case)")
    return value


#: A fully qualified DNS name, lower case (`api.example.com`).
DomainName = Annotated[str, AfterValidator(_domain_name)]
AwsRegionName = Annotated[str, AfterValidator(one_of(sorted(AWS_REGIONS), "{!r} is not an AWS region"))]
RetentionDays = Annotated[
    int, AfterValidator(one_of(CLOUDWATCH_RETENTION_DAYS, "CloudWatch Logs does not accept {} days"))
]


class RegionRole(str, Enum):
    """Primary regions take writes after a failover and carry full capacity; secondaries back them up."""

    PRIMARY = "primary"
    SECONDARY = "secondary"


class NatGatewayMode(str, Enum):
    """`one-per-az` keeps egress alive when an AZ fails; `single` saves cost where that does not matter."""

    ONE_PER_AZ = "one-per-az"
    SINGLE = "single"


#: Interface endpoints that nodes in private subnets need to start without the internet: pulling images
#: (ECR API and Docker registry) and getting credentials (STS, for IRSA and Pod Identity).
DEFAULT_INTERFACE_ENDPOINTS: tuple[str, ...] = ("ecr.api", "ecr.dkr", "sts")


def _private_cidr(cidr: str) -> str:
    return str(validate_private_cidr(cidr))


#: A VPC range: IPv4, RFC 1918, /16 to /28 (normalised to its canonical text).
PrivateCidr = Annotated[str, AfterValidator(_private_cidr)]
#: How many AZs a VPC spans.
AzCount = Annotated[int, Field(ge=1, le=MAX_AZ_COUNT)]


class NetworkDefaults(MeridianModel):
    """Network settings every region of a stack shares (`meridian:network` in the stack file).

    Attributes:
        nat_gateways: `one-per-az` (default) or `single`.
        flow_log_retention_days: how long VPC flow logs are kept (default 365; CloudWatch's allowed values).
        interface_endpoints: AWS services reached privately through interface endpoints
            (default ECR API, ECR Docker registry and STS). S3 always gets a gateway endpoint.
    """

    nat_gateways: NatGatewayMode = NatGatewayMode.ONE_PER_AZ
    flow_log_retention_days: RetentionDays = 365
    interface_endpoints: tuple[str, ...] = DEFAULT_INTERFACE_ENDPOINTS

    @field_validator("interface_endpoints")
    @classmethod
    def _endpoints_are_service_names(cls, services: tuple[str, ...]) -> tuple[str, ...]:
        for service in services:
            if not service or not all(part.isalnum() or part == "-" for part in service.split(".")):
                raise ValueError(
                    f"{service!r} is not an AWS service endpoint name; use short names such as "
                    "'ecr.api', 'sts' or 'logs'"
                )
        if len(set(services)) != len(services):
            raise ValueError("interface endpoints are listed twice; name each service once")
        return services


class NetworkArgs(NetworkDefaults):
    """Arguments of `Network`: one VPC across several AZs (plus everything in `NetworkDefaults`).

    Attributes:
        cidr: the VPC's IPv4 range, RFC 1918, large enough for the subnet plan (see `components.subnets`).
        az_count: how many AZs the VPC spans (default 3).
        protect: guard stateful children (the flow-log group) against deletion (default true).
    """

    cidr: PrivateCidr
    az_count: AzCount = 3
    protect: bool = True

    def subnet_plan(self) -> SubnetPlan:
        """The subnet layout this VPC gets (raises SubnetPlanError when the range is too small)."""
        return plan_subnets(self.cidr, self.az_count)


@dataclass(frozen=True)
class TopologyProblem:
    """One reason AWS would reject a cross-region topology (a global database or datastore): which
    setting (`regions`, `readers`, `nodeType`, …), in which region if one, and why."""

    setting: str
    region: str | None
    problem: str
