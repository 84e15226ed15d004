"""Arguments of `RegionStack`: one region's network and cluster settings together."""

from __future__ import annotations

from pydantic import Field

from ..core.args import AwsRegionName, MeridianModel, RegionRole
from ..eks.args import EksClusterArgs
from ..network.args import NetworkArgs

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
