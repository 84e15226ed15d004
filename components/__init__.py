"""meridian components: reusable Pulumi ComponentResources for a multi-region AWS platform.

Import what you need into your own Pulumi program::

    from components import Network, NetworkArgs, RegionStack, RegionStackArgs

Every class takes a validated pydantic args model (see `components.args`); invalid input fails when the
model is built, before any resource is declared.
"""

from .args import NatGatewayMode, NetworkArgs, RegionRole, RegionStackArgs
from .network import Network, NetworkError
from .region import RegionKey, RegionStack
from .subnets import SubnetPlan, SubnetPlanError, SubnetSpec, Tier, plan_subnets

__all__ = [
    "NatGatewayMode",
    "Network",
    "NetworkArgs",
    "NetworkError",
    "RegionKey",
    "RegionRole",
    "RegionStack",
    "RegionStackArgs",
    "SubnetPlan",
    "SubnetPlanError",
    "SubnetSpec",
    "Tier",
    "plan_subnets",
]
