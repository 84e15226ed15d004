"""What every family's typed arguments are built from: the base model and the shared field types.

Each family's `args.py` (the single source of truth for what its components accept: the stack
config, `infra.config`, is built from them, and a platform team constructing a component in its
own program gets the same validation and defaults) derives from `MeridianModel` and uses these
types. Secure choices are the defaults; turning one off means writing it down.

Field names are snake_case in Python; in YAML they are camelCase (`azCount`), as Pulumi config is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

__all__ = [
    "AWS_REGIONS",
    "CLOUDWATCH_RETENTION_DAYS",
    "AwsRegionName",
    "DomainName",
    "MeridianModel",
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
#: stack file does not import the SDK (tests/infra/config/test_stack_config.py keeps the two equal).
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


@dataclass(frozen=True)
class TopologyProblem:
    """One reason AWS would reject a cross-region topology (a global database or datastore): which
    setting (`regions`, `readers`, `nodeType`, …), in which region if one, and why."""

    setting: str
    region: str | None
    problem: str
