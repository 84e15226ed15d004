"""Settings of `GrafanaWorkspace`: sign-in, the pinned Grafana version, alerts and the provisioning
token's life.

`GrafanaSettings` is what a stack file sets under `meridian:observability.grafana`; `GrafanaArgs`
adds the workspace's name prefix, which the stack program derives. Versions are AMG's, pinned, never
"latest". They live apart from `components/grafana.py` so that validating a stack file
(`infra.stack_config`) does not import the Pulumi SDKs.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from .args import MeridianModel, one_of
from .grafana_sources import MAX_TOKEN_DAYS, MIN_TOKEN_DAYS
from .telemetry_args import NamePrefix

__all__ = ["GRAFANA_VERSIONS", "GrafanaArgs", "GrafanaSettings"]

#: AMG's Grafana versions (pulumi-aws 7.51: 9.4, 10.4, 12.4, 13.2); pinned, never "latest".
GRAFANA_VERSIONS: tuple[str, ...] = ("9.4", "10.4", "12.4", "13.2")

GrafanaVersion = Annotated[
    str, AfterValidator(one_of(GRAFANA_VERSIONS, "Grafana {!r} is not a version AMG runs"))
]
AuthenticationProvider = Literal["AWS_SSO", "SAML"]


def _unique(providers: tuple[str, ...]) -> tuple[str, ...]:
    if len(set(providers)) != len(providers):
        raise ValueError(f"authenticationProviders lists a provider twice: {list(providers)}")
    return providers


class GrafanaSettings(MeridianModel):
    """`meridian:observability.grafana`: the platform's Grafana workspace.

    Attributes:
        authentication_providers: `AWS_SSO` (IAM Identity Center, the default) and/or `SAML`.
        grafana_version: pinned Grafana version (default `13.2`); AMG upgrades in place, never down.
        sns_notifications: SNS as a notification destination, publishing to `<namePrefix>-*` topics
            of the account only (default true).
        api_token_days: life of the service-account token that provisions the data sources (2 to
            30 days, AMG's longest; default 30); a new one replaces it every half of that, at the
            first `pulumi up` of each period.
    """

    authentication_providers: Annotated[tuple[AuthenticationProvider, ...], AfterValidator(_unique)] = Field(
        default=("AWS_SSO",), min_length=1
    )
    grafana_version: GrafanaVersion = "13.2"
    sns_notifications: bool = True
    api_token_days: int = Field(default=MAX_TOKEN_DAYS, ge=MIN_TOKEN_DAYS, le=MAX_TOKEN_DAYS)


class GrafanaArgs(GrafanaSettings):
    """Arguments of `GrafanaWorkspace`: the settings, and

    Attributes:
        name_prefix: the workspace's name; alert topics Grafana may publish to are `<namePrefix>-*`.
    """

    name_prefix: NamePrefix
