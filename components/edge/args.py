"""Arguments of `CdnEdge`: Cloudflare in front of every region.

`CdnSettings` is what a stack file sets under `meridian:cdn`; `CdnEdgeArgs` adds what the stack
program derives (the hostname, the regions and their roles, the fallback). Every default is the
secure or the durable one: TLS strict to the origin, HSTS for a year, the managed WAF on, a rate
limit on the API. Limits are Cloudflare's (API reference for zone settings, load balancer monitors
and pools, rulesets); `cdn_problems` applies the ones that involve the stack's regions before any
resource exists.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from enum import Enum
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from ..core.args import AwsRegionName, DomainName, MeridianModel, RegionRole, TopologyProblem, one_of
from .geo import CloudflareRegion
from .steering import SteeringError, SteeringPlan, plan_steering

__all__ = [
    "HSTS_MAX_AGE_ONE_YEAR",
    "MITIGATION_TIMEOUTS",
    "ORIGIN_CERTIFICATE_VALIDITY_DAYS",
    "ORIGIN_PULL_RENEWAL_DAYS",
    "RATE_LIMIT_PERIODS",
    "AffinityMode",
    "CdnEdgeArgs",
    "CdnSettings",
    "CloudflareId",
    "HealthCheck",
    "OwaspSettings",
    "RateLimit",
    "RateLimitAction",
    "SessionAffinity",
    "StaticCaching",
    "cdn_problems",
]

HSTS_MAX_AGE_ONE_YEAR = 31_536_000

#: `period` values a rate-limiting rule accepts. Plans allow a subset (Free 10 s, Pro up to 60 s,
#: Business up to 10 min, Enterprise all); Cloudflare refuses one the zone's plan does not include.
RATE_LIMIT_PERIODS: tuple[int, ...] = (
    10, 15, 20, 30, 40, 45, 60, 90, 120, 180, 240, 300, 480, 600, 900, 1200, 1800, 2400, 3600, 65535, 86400,
)  # fmt: skip
#: `mitigation_timeout` values (how long a client stays blocked); 0 means "throttle" (Enterprise).
MITIGATION_TIMEOUTS: tuple[int, ...] = (0, 10, 60, 120, 300, 600, 3600, 86400)
#: What Cloudflare's Origin CA issues (`requested_validity`, days).
ORIGIN_CERTIFICATE_VALIDITY_DAYS: tuple[int, ...] = (7, 30, 90, 365, 730, 1095, 5475)
#: The origin-pull client certificate is renewed by the first `pulumi up` in its last this-many days:
#: longer than its expiry alarm's warning (`certificateDaysToExpiry`, validated below it), so the
#: alarm means "no `pulumi up` since renewal fell due", which the next one clears.
ORIGIN_PULL_RENEWAL_DAYS = 60

_CLOUDFLARE_ID = re.compile(r"^[0-9a-f]{32}$")
_EMAIL = re.compile(r"^[^@\s]+@[a-z0-9-]+(\.[a-z0-9-]+)+$", re.IGNORECASE)
_PATH_PREFIX = re.compile(r"^/[A-Za-z0-9._~/-]*$")
_HEADER = re.compile(r"^[A-Za-z0-9-]+$")


def _cloudflare_id(value: str) -> str:
    if not _CLOUDFLARE_ID.match(value):
        raise ValueError(
            f"{value!r} is not a Cloudflare id: 32 lower-case hex characters, as the dashboard's "
            "Overview page shows under API"
        )
    return value


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError(f"{value!r} is not an email address")
    return value


def _path_prefix(value: str) -> str:
    if not _PATH_PREFIX.match(value):
        raise ValueError(f"{value!r} is not a URL path prefix; write it like '/api/'")
    return value


CloudflareId = Annotated[str, AfterValidator(_cloudflare_id)]
EmailAddress = Annotated[str, AfterValidator(_email)]
PathPrefix = Annotated[str, AfterValidator(_path_prefix)]


class HealthCheck(MeridianModel):
    """The load balancer's monitor: an HTTPS GET through each region's ingress gateway, with the
    platform's hostname as Host (Cloudflare's monitors also send it as the TLS server name).

    Attributes:
        path: the path probed (default `/healthz`), served by the API through the mesh.
        expected_codes: status code or range that counts as healthy (default `200`; `2xx` allowed).
        expected_body: a substring the body must contain (default: none).
        interval_seconds: seconds between probes from each checking region (default 60; 10-3600,
            the plan sets the minimum: Pro 60, Business 15, Enterprise 10). It must exceed
            (retries + 1) × timeout, so that a probe and its retries end before the next.
        timeout_seconds: seconds before a probe fails (default 5; 1-10, less than the interval).
        retries: immediate retries of a timed-out probe (default 2; 0-5).
        consecutive_down: failed probes before an origin is unhealthy (default 2; 1-10).
        consecutive_up: passed probes before it is healthy again (default 2; 1-10).
    """

    path: PathPrefix = "/healthz"
    expected_codes: Annotated[str, Field(pattern=r"^[1-5]([0-9]{2}|xx)$")] = "200"
    expected_body: str | None = Field(default=None, min_length=1)
    interval_seconds: int = Field(default=60, ge=10, le=3600)
    timeout_seconds: int = Field(default=5, ge=1, le=10)
    retries: int = Field(default=2, ge=0, le=5)
    consecutive_down: int = Field(default=2, ge=1, le=10)
    consecutive_up: int = Field(default=2, ge=1, le=10)

    @model_validator(mode="after")
    def _probe_ends_before_the_next(self) -> HealthCheck:
        longest = (self.retries + 1) * self.timeout_seconds
        if longest >= self.interval_seconds:
            raise ValueError(
                f"a probe with its retries may take (retries + 1) × timeoutSeconds = {longest} s, not "
                f"less than intervalSeconds ({self.interval_seconds}); lengthen the interval or "
                "shorten the timeout"
            )
        return self


class RateLimitAction(str, Enum):
    BLOCK = "block"
    MANAGED_CHALLENGE = "managed_challenge"
    LOG = "log"  # Enterprise only: count without acting, to tune a threshold


class RateLimit(MeridianModel):
    """The API's rate limit: requests per client IP (per Cloudflare data centre) over a period.

    Attributes:
        path_prefix: requests whose path starts with this are counted (default `/api/`).
        requests_per_period: the threshold (default 1,200; 1-1,000,000).
        period_seconds: the counting period (default 60; one of Cloudflare's values from 10 to
            86,400; the zone's plan caps it).
        mitigation_timeout_seconds: how long a blocked client stays blocked (default 600; action
            `block` only; 0 means throttling, an Enterprise feature).
        action: `block` (default), `managed_challenge`, or `log` (count only).
    """

    path_prefix: PathPrefix = "/api/"
    requests_per_period: int = Field(default=1200, ge=1, le=1_000_000)
    period_seconds: Annotated[
        int, AfterValidator(one_of(RATE_LIMIT_PERIODS, "Cloudflare counts over no period of {} s"))
    ] = 60
    mitigation_timeout_seconds: Annotated[
        int, AfterValidator(one_of(MITIGATION_TIMEOUTS, "Cloudflare offers no mitigation timeout of {} s"))
    ] = 600
    action: RateLimitAction = RateLimitAction.BLOCK

    @model_validator(mode="after")
    def _timeout_only_blocks(self) -> RateLimit:
        if self.action is not RateLimitAction.BLOCK and "mitigation_timeout_seconds" in self.model_fields_set:
            raise ValueError(
                f"mitigationTimeoutSeconds applies to action block only; a {self.action.value} "
                "ends when the client passes it: remove the key"
            )
        return self


class StaticCaching(MeridianModel):
    """Cache rules for static assets: paths cached at the edge whatever the origin's headers say.

    Attributes:
        path_prefixes: paths cached (default `/static/`, `/assets/`).
        edge_ttl_seconds: how long the edge keeps them (default 1 day; 60 s to 1 year).
        browser_ttl_seconds: how long browsers keep them (default 1 hour; 0 s to 1 year).
    """

    path_prefixes: tuple[PathPrefix, ...] = Field(default=("/static/", "/assets/"), min_length=1)
    edge_ttl_seconds: int = Field(default=86_400, ge=60, le=HSTS_MAX_AGE_ONE_YEAR)
    browser_ttl_seconds: int = Field(default=3_600, ge=0, le=HSTS_MAX_AGE_ONE_YEAR)


class AffinityMode(str, Enum):
    NONE = "none"
    COOKIE = "cookie"
    IP_COOKIE = "ip_cookie"
    HEADER = "header"


#: Session lifetimes Cloudflare accepts, per affinity mode (seconds).
_AFFINITY_TTL: dict[AffinityMode, tuple[int, int]] = {
    AffinityMode.COOKIE: (1800, 604_800),
    AffinityMode.IP_COOKIE: (1800, 604_800),
    AffinityMode.HEADER: (30, 3600),
}


class SessionAffinity(MeridianModel):
    """Whether a client sticks to the region that served it first.

    Attributes:
        mode: `none` (default: each request goes to the first healthy pool of its order), `cookie`,
            `ip_cookie` or `header`. With regional session stores, `cookie` keeps a user in the
            region that holds their session, also after a failover (re-pinned to the failover
            pool, and kept there until the cookie expires); `none` signs them out on every move.
        ttl_seconds: how long a session sticks (cookie modes 1,800-604,800; header 30-3,600;
            default Cloudflare's: 23 hours for cookies, 1,800 s for headers).
        headers: the headers that identify a session (mode `header` only; at least one).
    """

    mode: AffinityMode = AffinityMode.NONE
    ttl_seconds: int | None = None
    headers: tuple[Annotated[str, Field(pattern=_HEADER.pattern)], ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> SessionAffinity:
        if self.mode is AffinityMode.HEADER and not self.headers:
            raise ValueError("mode header needs headers: the request headers that identify a session")
        if self.mode is not AffinityMode.HEADER and self.headers:
            raise ValueError(f"headers apply to mode header only, not {self.mode.value}; remove them")
        if self.ttl_seconds is not None:
            if self.mode is AffinityMode.NONE:
                raise ValueError("ttlSeconds needs a mode other than none; remove it or set a mode")
            low, high = _AFFINITY_TTL[self.mode]
            if not low <= self.ttl_seconds <= high:
                raise ValueError(
                    f"ttlSeconds {self.ttl_seconds} is outside {low}-{high}, the range Cloudflare "
                    f"accepts for mode {self.mode.value}"
                )
        return self


class OwaspSettings(MeridianModel):
    """The OWASP Core Ruleset's tuning (Cloudflare's implementation of the OWASP CRS).

    Attributes:
        paranoia_level: 1-4 (default 1): higher levels add stricter rules and false positives.
        score_threshold: anomaly score at which a request is acted on (default 40, "medium";
            25 is "high" sensitivity, 60 "low").
        action: `block` (default), `managed_challenge` or `log` (Enterprise) for requests over the score.
    """

    paranoia_level: int = Field(default=1, ge=1, le=4)
    score_threshold: Annotated[
        int, AfterValidator(one_of((25, 40, 60), "Cloudflare offers no OWASP score threshold {}"))
    ] = 40
    action: RateLimitAction = RateLimitAction.BLOCK


class CdnSettings(MeridianModel):
    """Cloudflare settings of a stack (`meridian:cdn` in the stack file).

    Attributes:
        account_id: the Cloudflare account (32 hex characters); monitors, pools and alerts live here.
        zone_id: the zone of `meridian:domain` (32 hex characters).
        hsts_max_age_seconds: HSTS max-age (default one year; prod at least six months).
        hsts_preload: ask browsers' preload lists to hard-code HTTPS (default false: it is hard to
            undo, so it is an explicit decision).
        dnssec: sign the zone (default true; the registrar must then publish the DS record).
        health_check: the monitor (`HealthCheck`).
        session_affinity: stickiness to a region (`SessionAffinity`; default none).
        rate_limit: the API's rate limit (`RateLimit`).
        static_caching: cache rules for static paths (`StaticCaching`).
        owasp: the OWASP Core Ruleset's tuning (`OwaspSettings`). The Cloudflare Managed Ruleset
            is always deployed.
        steering_overrides: Cloudflare region → AWS regions to try first, in order; the computed
            order follows for the rest (default none: the table is computed from distances).
        load_shedding_percent: AWS region → share of its new traffic (0-100) sent to the next pool
            in order, to drain a region gradually (default none).
        alert_emails: who is told when a region's pool goes unhealthy or recovers (at least one).
        origin_certificate_days: validity of the Origin CA certificate the regions' ingress
            gateways present (default 5,475, fifteen years, Cloudflare's default: an expired
            origin certificate under strict TLS takes every region down at once; the certificate
            is trusted only by Cloudflare).
        origin_pull_certificate_days: validity of the client certificate Cloudflare presents to
            the origins (Authenticated Origin Pulls, zone-level, our own CA; default 365, at least
            90). It is renewed by the first `pulumi up` in its last 60 days; the origins trust the
            CA, so a renewal changes nothing at the origins. The anchor region's
            `origin-pull-certificate-expiry` alarm pages if none has run by `certificateDaysToExpiry`.
    """

    account_id: CloudflareId
    zone_id: CloudflareId
    hsts_max_age_seconds: int = Field(default=HSTS_MAX_AGE_ONE_YEAR, ge=0, le=HSTS_MAX_AGE_ONE_YEAR)
    hsts_preload: bool = False
    dnssec: bool = True
    health_check: HealthCheck = HealthCheck()
    session_affinity: SessionAffinity = SessionAffinity()
    rate_limit: RateLimit = RateLimit()
    static_caching: StaticCaching = StaticCaching()
    owasp: OwaspSettings = OwaspSettings()
    steering_overrides: dict[CloudflareRegion, tuple[AwsRegionName, ...]] = Field(default_factory=dict)
    load_shedding_percent: dict[AwsRegionName, Annotated[float, Field(ge=0, le=100)]] = Field(
        default_factory=dict
    )
    alert_emails: tuple[EmailAddress, ...] = Field(min_length=1)
    origin_certificate_days: Annotated[
        int,
        AfterValidator(
            one_of(
                ORIGIN_CERTIFICATE_VALIDITY_DAYS, "Cloudflare's Origin CA issues no certificate of {} days"
            )
        ),
    ] = 5475
    origin_pull_certificate_days: int = Field(default=365, ge=90, le=3650)

    @model_validator(mode="after")
    def _preload_needs_a_year(self) -> CdnSettings:
        if self.hsts_preload and self.hsts_max_age_seconds < HSTS_MAX_AGE_ONE_YEAR:
            raise ValueError(
                f"hstsPreload needs hstsMaxAgeSeconds of a year ({HSTS_MAX_AGE_ONE_YEAR}), the "
                "preload list's minimum"
            )
        return self


def cdn_problems(
    settings: CdnSettings,
    roles: dict[str, RegionRole],
    fallback: str,
    read_only: Collection[str] = (),
) -> list[TopologyProblem]:
    """Why `settings` cannot steer over `roles` (AWS region → role) but the `read_only` regions
    (no pool: writes fail there): overrides or load shedding naming a region that has no pool,
    fewer than two pools (a Cloudflare region would have none to fail over to), or a fallback
    without a pool."""
    problems = []
    steered = [r for r in roles if r not in read_only]
    if len(steered) < 2:
        barred = f" ({', '.join(sorted(read_only))} cannot take writes, so gets none)" if read_only else ""
        problems.append(
            TopologyProblem(
                "regions",
                None,
                f"every Cloudflare region needs a pool to fail over to, and this stack has "
                f"{len(steered)}{barred}; add a second region that takes writes",
            )
        )
    if fallback not in roles:
        # The write home, wherever a failover has put it: a secondary region too.
        problems.append(
            TopologyProblem(
                "fallback",
                fallback,
                f"the fallback {fallback} has no pool: it is not one of {', '.join(roles)}",
            )
        )

    def no_pool(region: str) -> str | None:
        if region not in roles:
            return f"{region} has no pool: it is not a region of this stack ({', '.join(roles)})"
        if region in read_only:
            return (
                f"{region} has no pool: its API cannot write every store it uses, so users are not sent there"
            )
        return None

    for cf_region, regions in settings.steering_overrides.items():
        for i, region in enumerate(regions):
            if reason := no_pool(region):
                problems.append(TopologyProblem(f"steeringOverrides.{cf_region.value}[{i}]", region, reason))
        if len(set(regions)) != len(regions):
            problems.append(
                TopologyProblem(
                    f"steeringOverrides.{cf_region.value}", None, "a region is listed twice; list each once"
                )
            )
    for region in settings.load_shedding_percent:
        if reason := no_pool(region):
            problems.append(TopologyProblem(f"loadSheddingPercent.{region}", region, reason))
    return problems


class CdnEdgeArgs(CdnSettings):
    """Arguments of `CdnEdge` (plus everything in `CdnSettings`).

    Attributes:
        hostname: the load balancer's hostname, which users reach (the zone apex or a name in it);
            the regions' ingress gateways serve it.
        regions: AWS region → role, one pool each, in the stack's order.
        fallback_region: the pool used when every pool is unhealthy (the write home, which holds
            the writers: a secondary region after a failover there).
        name_prefix: prefix of the pools' and monitor's names (`meridian-prod`).
        read_only_regions: regions whose API cannot write every store it uses: they get no pool
            and appear in no steering order (default none).
    """

    hostname: DomainName
    regions: dict[AwsRegionName, RegionRole] = Field(min_length=1)
    fallback_region: AwsRegionName
    name_prefix: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")]
    read_only_regions: tuple[AwsRegionName, ...] = ()

    @model_validator(mode="after")
    def _steerable(self) -> CdnEdgeArgs:
        problems = cdn_problems(self, self.regions, self.fallback_region, self.read_only_regions)
        if problems:
            raise ValueError("; ".join(f"{p.setting}: {p.problem}" for p in problems))
        self.steering()  # raises for what cdn_problems cannot see (a region with no location)
        return self

    def steering(self) -> SteeringPlan:
        """The steering table over `regions` (raises SteeringError)."""
        return plan_steering(
            self.regions,
            fallback=self.fallback_region,
            overrides=self.steering_overrides,
            read_only=self.read_only_regions,
        )


# Raised through pydantic as a ValueError; re-exported so callers can catch the planning error too.
_ = SteeringError
