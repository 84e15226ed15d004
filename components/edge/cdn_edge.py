"""CdnEdge: Cloudflare in front of every region — TLS, WAF, rate limits, caching, geo steering.

    CdnEdge  (meridian:cdn:CdnEdge)
    ├── cloudflare.Provider    the edge's own (API token given, else CLOUDFLARE_API_TOKEN)
    ├── zone settings          SSL strict, TLS ≥ 1.2, TLS 1.3, Always HTTPS, HSTS, HTTPS rewrites,
    │                          HTTP/3, 0-RTT off, DNSSEC: resources, never dashboard clicks
    ├── Origin CA certificate  for the hostname, from a key made here; the regions' ingress
    │                          gateways present it, so "strict" can verify every origin
    ├── monitor                HTTPS GET of the health path through each region's gateway
    ├── pools ×regions         one per AWS region that takes writes (none for a read-only one): its
    │                          ingress NLB, the monitor, minimum origins, the region's coordinates,
    │                          optional load shedding
    ├── notification policy    pool and origin health changes → the alert emails
    ├── load balancer          the hostname, proxied, geo steering from `components.edge.steering`,
    │                          failover across pools, the write home as fallback
    ├── rulesets               managed WAF (Cloudflare + OWASP), API rate limit, cache rules,
    │                          compression (zstd, Brotli, gzip), www → hostname redirect
    └── DNS                    www (proxied, redirected at the edge)

The steering table is planned before anything is declared (`CdnEdgeArgs.steering()`); this
component only turns it into pools and a load balancer, and exports it for reviewers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pulumi
import pulumi_cloudflare as cloudflare
import pulumi_tls as tls

from .args import AffinityMode, CdnEdgeArgs, RateLimitAction
from .geo import AWS_REGION_LOCATIONS
from .steering import check_regions

__all__ = ["CLOUDFLARE_MANAGED_RULESET", "OWASP_CORE_RULESET", "CdnEdge", "OriginInstaller", "zone_settings"]

#: Installs the origin certificate and key where the origins serve them; returns those resources.
OriginInstaller = Callable[[pulumi.Output[str], pulumi.Output[str]], Sequence[pulumi.Resource]]

#: Cloudflare's managed WAF rulesets (ids are Cloudflare's, the same in every account).
CLOUDFLARE_MANAGED_RULESET = "efb7b8c949ac4650a09736fc376e9aee"
OWASP_CORE_RULESET = "4814384a9e5d4991b9815dcfc25d2f1f"
#: The OWASP ruleset's last rule: it acts once a request's anomaly score reaches the threshold.
OWASP_ANOMALY_SCORE_RULE = "6179ae15870a4bb7b2d480d4843b323c"
#: What the edge compresses responses with, in order of preference (Compression Rules; the old
#: zone-wide Brotli toggle is deprecated).
COMPRESSION = ("zstd", "brotli", "gzip")


def zone_settings(args: CdnEdgeArgs) -> dict[str, Any]:
    """Zone setting id → value (Cloudflare API names; snake_case inside values, as the API has them)."""
    return {
        "ssl": "strict",  # the origin must present a valid certificate for the hostname
        "min_tls_version": "1.2",
        "tls_1_3": "on",
        "0rtt": "off",  # 0-RTT data can be replayed; the API is not only idempotent GETs
        "always_use_https": "on",
        "automatic_https_rewrites": "on",
        "security_header": {
            "strict_transport_security": {
                "enabled": True,
                "max_age": args.hsts_max_age_seconds,
                "include_subdomains": True,
                "preload": args.hsts_preload,
                "nosniff": True,
            }
        },
        "http3": "on",
        "ipv6": "on",
    }


def _starts_with_any(prefixes: tuple[str, ...] | list[str]) -> str:
    return " or ".join(f'starts_with(http.request.uri.path, "{p}")' for p in prefixes)


class CdnEdge(pulumi.ComponentResource):
    """Cloudflare in front of the regions: one pool per region, geo-steered from one hostname.

    Args:
        name: logical name prefix.
        args: `CdnEdgeArgs` (validated: every region steerable, overrides known).
        origins: AWS region → the hostname of that region's ingress (its NLB); one per region of
            `args.regions`, no more, no fewer.
        api_token: Cloudflare API token (a secret); None lets the provider read
            `CLOUDFLARE_API_TOKEN`, as CI passes it.
        install_origin_certificate: called with the origin certificate and its key; returns what
            installs them at the origins (the regions' gateway Secrets). SSL "strict" and the load
            balancer wait for those, so no origin is sent traffic before it can present the
            certificate. None: the caller installs them (`origin_certificate`, `origin_private_key`).
        opts: resource options (a parent, say); no provider: the edge makes its own Cloudflare and
            TLS providers.

    Attributes:
        hostname: the load balancer's hostname.
        load_balancer_id, pool_ids (region → id), monitor_id: Cloudflare ids.
        steering: Cloudflare region → AWS regions in failover order (plain data, for reviewers).
        fallback_region: the region whose pool serves when every pool is unhealthy.
        origin_certificate, origin_private_key (secret): what each region's gateway presents.
        origin_certificate_expires_on: when the origin certificate expires (renew before then).
        provider: the edge's `cloudflare.Provider`, for anything else to declare in the zone.
        outputs(): what a stack exports about the edge (camelCase).
    """

    def __init__(
        self,
        name: str,
        args: CdnEdgeArgs,
        *,
        origins: Mapping[str, pulumi.Input[str]],
        api_token: pulumi.Input[str] | None = None,
        install_origin_certificate: OriginInstaller | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("meridian:cdn:CdnEdge", name, None, opts)
        if set(origins) != set(args.regions):
            raise ValueError(
                f"origins are for {sorted(origins)} but the regions are {sorted(args.regions)}; "
                "give one origin per region"
            )
        plan = args.steering()
        self.provider = cloudflare.Provider(
            f"{name}-cloudflare", api_token=api_token, opts=pulumi.ResourceOptions(parent=self)
        )
        child = pulumi.ResourceOptions(parent=self, provider=self.provider)
        zone, account = args.zone_id, args.account_id
        self.hostname = args.hostname

        self._origin_certificate(name, args, child)
        installed = list(
            install_origin_certificate(self.origin_certificate, self.origin_private_key)
            if install_origin_certificate
            else ()
        )
        after_install = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=installed))
        for setting, value in zone_settings(args).items():
            cloudflare.ZoneSetting(
                f"{name}-{setting.replace('_', '-')}",
                zone_id=zone,
                setting_id=setting,
                value=value,
                opts=after_install if setting == "ssl" else child,
            )
        cloudflare.ZoneDnssec(
            f"{name}-dnssec", zone_id=zone, status="active" if args.dnssec else "disabled", opts=child
        )

        # Cloudflare's monitors trust public CAs only, and the origins present an Origin CA
        # certificate (trusted by the proxy under "strict"), so the probe skips verification. It
        # carries no user data; the Host header routes it and is sent as the TLS server name.
        health = args.health_check
        monitor = cloudflare.LoadBalancerMonitor(
            f"{name}-monitor",
            account_id=account,
            description=f"{args.name_prefix}: GET {health.path} through each region's ingress",
            type="https",
            method="GET",
            path=health.path,
            expected_codes=health.expected_codes,
            expected_body=health.expected_body,
            header={"Host": [args.hostname]},
            interval=health.interval_seconds,
            timeout=health.timeout_seconds,
            retries=health.retries,
            consecutive_down=health.consecutive_down,
            consecutive_up=health.consecutive_up,
            follow_redirects=False,
            allow_insecure=True,
            opts=child,
        )
        checked_from = check_regions(plan)
        pools = {
            region: cloudflare.LoadBalancerPool(
                f"{name}-{region}",
                account_id=account,
                name=f"{args.name_prefix}-{region}",
                description=f"{region} ({args.regions[region].value}): its ingress gateway's NLB",
                origins=[{"name": region, "address": origins[region], "enabled": True, "weight": 1}],
                # One origin, the region's NLB (itself spread over the region's AZs): the pool is
                # healthy while that origin is.
                minimum_origins=1,
                monitor=monitor.id,
                check_regions=[r.value for r in checked_from[region]],
                latitude=AWS_REGION_LOCATIONS[region].latitude,
                longitude=AWS_REGION_LOCATIONS[region].longitude,
                notification_filter={"pool": {"disable": False}, "origin": {"disable": False}},
                load_shedding=(
                    {"default_percent": args.load_shedding_percent[region], "default_policy": "hash"}
                    if region in args.load_shedding_percent
                    else None
                ),
                opts=child,
            )
            for region in args.regions
            if region not in plan.read_only  # a region where writes fail gets no pool
        }
        pool_ids = {region: pool.id for region, pool in pools.items()}
        cloudflare.NotificationPolicy(
            f"{name}-pool-health",
            account_id=account,
            name=f"{args.name_prefix}: a region's pool changed health",
            description="Pools and origins of the load balancer going unhealthy or recovering",
            alert_type="load_balancing_health_alert",
            enabled=True,
            filters={"pool_ids": list(pool_ids.values()), "new_healths": ["Unhealthy", "Healthy"]},
            mechanisms={"emails": [{"id": email} for email in args.alert_emails]},
            opts=child,
        )
        affinity = args.session_affinity
        self.load_balancer = cloudflare.LoadBalancer(
            f"{name}-lb",
            zone_id=zone,
            name=args.hostname,
            description=f"{args.name_prefix}: geo steering over {len(pools)} regions",
            proxied=True,
            steering_policy="geo",
            region_pools={
                cf_region.value: [pool_ids[r] for r in order] for cf_region, order in plan.regions.items()
            },
            default_pools=[pool_ids[r] for r in plan.default],
            fallback_pool=pool_ids[plan.fallback],
            # A request that fails on an unhealthy origin is retried on the next pool in order.
            adaptive_routing={"failover_across_pools": True},
            session_affinity=affinity.mode.value,
            session_affinity_ttl=affinity.ttl_seconds,
            session_affinity_attributes=_affinity_attributes(args),
            opts=after_install,
        )
        self._rulesets(name, args, child)
        cloudflare.DnsRecord(
            f"{name}-www",
            zone_id=zone,
            name=f"www.{args.hostname}",
            type="CNAME",
            content=args.hostname,
            proxied=True,
            ttl=1,  # automatic, as proxied records require
            comment="Redirected to the hostname at the edge (dynamic redirect ruleset)",
            opts=child,
        )

        self.load_balancer_id = self.load_balancer.id
        self.monitor_id = monitor.id
        self.pool_ids: dict[str, pulumi.Output[str]] = pool_ids
        self.steering: dict[str, list[str]] = {cf.value: order for cf, order in plan.regions.items()}
        self.fallback_region = plan.fallback
        self.register_outputs(self.outputs())

    def _origin_certificate(self, name: str, args: CdnEdgeArgs, child: pulumi.ResourceOptions) -> None:
        """An ECDSA key (kept as a secret in the stack's state), its CSR, and the Origin CA
        certificate for the hostname and its subdomains."""
        tls_provider = tls.Provider(f"{name}-tls", opts=pulumi.ResourceOptions(parent=self))
        keyed = pulumi.ResourceOptions(parent=self, provider=tls_provider)
        key = tls.PrivateKey(f"{name}-origin-key", algorithm="ECDSA", ecdsa_curve="P256", opts=keyed)
        request = tls.CertRequest(
            f"{name}-origin-csr",
            private_key_pem=key.private_key_pem,
            subject={"common_name": args.hostname, "organization": args.name_prefix},
            dns_names=[args.hostname, f"*.{args.hostname}"],
            opts=keyed,
        )
        certificate = cloudflare.OriginCaCertificate(
            f"{name}-origin-certificate",
            csr=request.cert_request_pem,
            hostnames=[args.hostname, f"*.{args.hostname}"],
            request_type="origin-ecc",
            requested_validity=args.origin_certificate_days,
            opts=child,
        )
        self.origin_certificate: pulumi.Output[str] = certificate.certificate
        self.origin_certificate_expires_on: pulumi.Output[str] = certificate.expires_on
        self.origin_private_key: pulumi.Output[str] = pulumi.Output.secret(key.private_key_pem)

    def _rulesets(self, name: str, args: CdnEdgeArgs, child: pulumi.ResourceOptions) -> None:
        """One zone entry-point ruleset per phase: WAF, rate limit, cache, compression, redirect."""
        owasp = args.owasp
        limit = args.rate_limit
        caching = args.static_caching
        # Rules as the API spells them (typed dicts of the SDK would add nothing but noise here).
        phases: dict[str, tuple[str, list[Any]]] = {
            "waf": (
                "http_request_firewall_managed",
                [
                    {
                        "description": "Cloudflare Managed Ruleset",
                        "expression": "true",
                        "action": "execute",
                        "action_parameters": {"id": CLOUDFLARE_MANAGED_RULESET},
                    },
                    {
                        "description": f"OWASP Core Ruleset, paranoia level {owasp.paranoia_level}",
                        "expression": "true",
                        "action": "execute",
                        "action_parameters": {
                            "id": OWASP_CORE_RULESET,
                            "overrides": {
                                "categories": [
                                    {"category": f"paranoia-level-{level}", "enabled": False}
                                    for level in range(owasp.paranoia_level + 1, 5)
                                ],
                                "rules": [
                                    {
                                        "id": OWASP_ANOMALY_SCORE_RULE,
                                        "action": owasp.action.value,
                                        "score_threshold": owasp.score_threshold,
                                    }
                                ],
                            },
                        },
                    },
                ],
            ),
            "rate-limit": (
                "http_ratelimit",
                [
                    {
                        "description": f"API: {limit.requests_per_period} requests per "
                        f"{limit.period_seconds} s per client IP",
                        "expression": _starts_with_any([limit.path_prefix]),
                        "action": limit.action.value,
                        "ratelimit": {
                            "characteristics": ["cf.colo.id", "ip.src"],
                            "period": limit.period_seconds,
                            "requests_per_period": limit.requests_per_period,
                            # Challenges end when solved; a block lasts the mitigation timeout.
                            "mitigation_timeout": (
                                limit.mitigation_timeout_seconds
                                if limit.action is RateLimitAction.BLOCK
                                else 0
                            ),
                        },
                    }
                ],
            ),
            "cache": (
                "http_request_cache_settings",
                [
                    {
                        "description": "Static assets: cached at the edge whatever the origin says",
                        "expression": _starts_with_any(caching.path_prefixes),
                        "action": "set_cache_settings",
                        "action_parameters": {
                            "cache": True,
                            "edge_ttl": {"mode": "override_origin", "default": caching.edge_ttl_seconds},
                            "browser_ttl": {
                                "mode": "override_origin",
                                "default": caching.browser_ttl_seconds,
                            },
                        },
                    },
                    {
                        "description": "API: never cached at the edge",
                        "expression": _starts_with_any([limit.path_prefix]),
                        "action": "set_cache_settings",
                        "action_parameters": {"cache": False},
                    },
                ],
            ),
            "compression": (
                "http_response_compression",
                [
                    {
                        "description": "Compress responses: " + ", ".join(COMPRESSION),
                        "expression": "true",
                        "action": "compress_response",
                        "action_parameters": {"algorithms": [{"name": a} for a in COMPRESSION]},
                    }
                ],
            ),
            "redirect": (
                "http_request_dynamic_redirect",
                [
                    {
                        "description": f"www.{args.hostname} → {args.hostname}",
                        "expression": f'http.host eq "www.{args.hostname}"',
                        "action": "redirect",
                        "action_parameters": {
                            "from_value": {
                                "status_code": 301,
                                "preserve_query_string": True,
                                "target_url": {
                                    "expression": f'concat("https://{args.hostname}", http.request.uri.path)'
                                },
                            }
                        },
                    }
                ],
            ),
        }
        for key, (phase, rules) in phases.items():
            # A stable `ref` per rule keeps its identity (and analytics) across edits.
            with_refs: list[Any] = [
                {"ref": f"meridian_{key.replace('-', '_')}_{i}", **rule} for i, rule in enumerate(rules)
            ]
            cloudflare.Ruleset(
                f"{name}-{key}",
                zone_id=args.zone_id,
                kind="zone",
                phase=phase,
                name=f"{args.name_prefix} {key}",
                description=f"meridian: zone entry point of {phase}",
                rules=with_refs,
                opts=child,
            )

    def outputs(self) -> dict[str, object]:
        """What the stack exports about the edge (camelCase)."""
        return {
            "hostname": self.hostname,
            "loadBalancerId": self.load_balancer_id,
            "poolIds": self.pool_ids,
            "monitorId": self.monitor_id,
            "fallbackRegion": self.fallback_region,
            "steering": self.steering,
            "originCertificateExpiresOn": self.origin_certificate_expires_on,
        }


def _affinity_attributes(args: CdnEdgeArgs) -> Any:
    """Cookie affinity: secure, SameSite Lax, re-pinned to a healthy origin on failover; header
    affinity: the configured headers (sticky failover is not offered for headers)."""
    affinity = args.session_affinity
    if affinity.mode is AffinityMode.NONE:
        return None
    if affinity.mode is AffinityMode.HEADER:
        return {"headers": list(affinity.headers), "zero_downtime_failover": "temporary"}
    return {"secure": "Always", "samesite": "Lax", "zero_downtime_failover": "sticky"}
