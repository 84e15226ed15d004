"""What `GrafanaWorkspace` provisions inside Grafana, as pure functions: the API token's rotation
window, the data sources' uids and their `jsonData`, and the check of the regions given.

Nothing here declares a resource; `components/observability/grafana_workspace.py` does, with these values.

Data source JSON for Amazon Managed Grafana: `sigV4AuthType: "ec2_iam_role"` (`authType` for
CloudWatch) is how AMG's Grafana names "the workspace's IAM role" (the role `GrafanaWorkspace`
creates); public Terraform for AMG (aws-observability's accelerator) provisions its sources so.
Not verified against a live workspace here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from ..core.args import AWS_REGIONS

__all__ = [
    "CLOUDWATCH_UID",
    "MAX_TOKEN_DAYS",
    "MIN_TOKEN_DAYS",
    "SECONDS_PER_DAY",
    "check_prometheus_regions",
    "cloudwatch_json_data",
    "prometheus_json_data",
    "prometheus_source_name",
    "prometheus_uid",
    "rotation_days",
    "token_seconds_to_live",
    "token_window",
]

#: AMG's longest service-account token: `secondsToLive` "up to 30 days in the future".
MAX_TOKEN_DAYS = 30
#: Rotated every half life (`rotation_days`), a token must live two days at least.
MIN_TOKEN_DAYS = 2
SECONDS_PER_DAY = 86_400

#: The CloudWatch data source's uid (one per workspace).
CLOUDWATCH_UID = "cloudwatch"
#: Grafana's data source uids: at most 40 letters, digits, `-` and `_`.
_UID = re.compile(r"^[a-zA-Z0-9_-]{1,40}$")
#: How AMG's Grafana names "the workspace's IAM role" in a data source's jsonData.
_WORKSPACE_ROLE = "ec2_iam_role"


# -- the API token ------------------------------------------------------------------------------


def rotation_days(token_days: int) -> int:
    """How often the token is replaced: every half of its life (rounded down), so that a token
    created anywhere in a window is still valid when the next window ends."""
    if not MIN_TOKEN_DAYS <= token_days <= MAX_TOKEN_DAYS:
        raise ValueError(f"a token lives {MIN_TOKEN_DAYS} to {MAX_TOKEN_DAYS} days, not {token_days}")
    return token_days // 2


def token_window(today: date, rotate_days: int) -> int:
    """The index of the rotation window `today` falls in: windows are `rotate_days` long, counted
    from day 1 of the proleptic Gregorian calendar, so the index changes exactly every
    `rotate_days` days whoever computes it, and the token is replaced when it does."""
    if rotate_days < 1:
        raise ValueError(f"rotate_days must be 1 or more, not {rotate_days}")
    return today.toordinal() // rotate_days


def token_seconds_to_live(token_days: int) -> int:
    """`secondsToLive` of a token that lives `token_days` days (AMG allows 30 at most)."""
    rotation_days(token_days)  # checks the range
    return token_days * SECONDS_PER_DAY


# -- data sources -------------------------------------------------------------------------------


def check_prometheus_regions(regions: Iterable[str], default_region: str | None) -> tuple[str, ...]:
    """The regions of the AMP workspaces given, checked before any resource is declared: each an
    AWS region (so its uid is a valid Grafana uid), and the default source one of them (required
    when there are any; with none, CloudWatch is the default source). Raises ValueError."""
    given = tuple(regions)
    for region in given:
        if not isinstance(region, str) or region not in AWS_REGIONS:
            raise ValueError(
                f"prometheus_endpoints: {region!r} is not an AWS region; key each AMP workspace's "
                "endpoint by its region's name (e.g. 'eu-west-1')"
            )
        prometheus_uid(region)
    if given and default_region not in given:
        raise ValueError(
            f"default_prometheus_region {default_region!r} is not one of the regions given "
            f"({', '.join(given)}); name the region whose AMP workspace Grafana opens by default"
        )
    if not given and default_region is not None:
        raise ValueError(
            f"default_prometheus_region {default_region!r} names no AMP workspace: none was given"
        )
    return given


def prometheus_uid(region: str) -> str:
    """The stable uid of a region's AMP data source (`amp-eu-west-1`): dashboards refer to it."""
    uid = f"amp-{region}"
    if not _UID.match(uid):
        raise ValueError(f"{uid!r} is not a Grafana uid (at most 40 of a-z, A-Z, 0-9, '-', '_')")
    return uid


def prometheus_source_name(region: str) -> str:
    return f"AMP {region}"


def prometheus_json_data(region: str) -> str:
    """jsonData of an AMP workspace's Prometheus source: queries signed with SigV4 in the
    workspace's region as the Grafana workspace's role, sent by POST (long PromQL fits)."""
    data: dict[str, Any] = {
        "httpMethod": "POST",
        "sigV4Auth": True,
        "sigV4AuthType": _WORKSPACE_ROLE,
        "sigV4Region": region,
    }
    return json.dumps(data, sort_keys=True)


def cloudwatch_json_data(default_region: str) -> str:
    """jsonData of the CloudWatch source: the workspace's role, `default_region` preselected (any
    region can be picked in a query)."""
    return json.dumps({"authType": _WORKSPACE_ROLE, "defaultRegion": default_region}, sort_keys=True)
