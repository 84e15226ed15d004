"""Arguments of `RegionStack`: one region's network and cluster settings together."""

from __future__ import annotations

from pydantic import Field, ValidationInfo, field_validator

from ..core.args import AwsRegionName, MeridianModel, RegionRole
from ..eks.args import EksClusterArgs
from ..network.args import NetworkArgs, az_id_prefix, foreign_az_ids

__all__ = ["RegionStackArgs"]


class RegionStackArgs(MeridianModel):
    """Arguments of `RegionStack`: everything one region of the platform needs.

    Attributes:
        region: the AWS region, e.g. `eu-west-1`; every resource of the region is pinned to it.
        role: `primary` or `secondary`.
        name_prefix: prefix for physical names and `Name` tags, e.g. `meridian-prod`.
        network: the region's `NetworkArgs`.
        tags: tags applied to every AWS resource of the region (the provider's default tags).
        kms_deletion_window_days: waiting period before a deleted KMS key is gone (7-30, default 30).
        eks: the region's `EksClusterArgs`.
        protect: protect stateful resources (KMS key, log groups) from deletion (default true).
    """

    region: AwsRegionName
    role: RegionRole
    name_prefix: str = Field(pattern=r"^[a-z][a-z0-9-]{0,30}$")
    network: NetworkArgs
    eks: EksClusterArgs
    tags: dict[str, str] = Field(default_factory=dict)
    kms_deletion_window_days: int = Field(default=30, ge=7, le=30)
    protect: bool = True

    @field_validator("network")
    @classmethod
    def _network_in_the_region(cls, network: NetworkArgs, info: ValidationInfo) -> NetworkArgs:
        region: str | None = info.data.get("region")
        if region is None:  # the region is invalid: its own error says so
            return network
        foreign = foreign_az_ids(region, network.az_ids)
        if foreign:
            raise ValueError(
                f"az_ids {', '.join(foreign)} are not AZs of {region}: its AZ ids start with "
                f"{az_id_prefix(region)}-"
            )
        return network
