"""CdnEdge: Cloudflare in front of every region — TLS, WAF, rate limits, caching, geo steering.

    CdnEdge  (meridian:cdn:CdnEdge)
    ├── cloudflare.Provider    the edge's own (API token given, else CLOUDFLARE_API_TOKEN)
    ├── zone settings          SSL strict, TLS ≥ 1.2, TLS 1.3, Always HTTPS, HSTS, HTTPS rewrites,
    │                          HTTP/3, 0-RTT off, DNSSEC: resources, never dashboard clicks
    ├── Origin CA certificate  for the hostname, from a key made here; the regions' ingress
    │                          gateways present it, so "strict" can verify every origin
    ├── origin pulls           zone-level Authenticated Origin Pulls with a client certificate of
    │                          our own CA (made here): the gateways require it (Istio MUTUAL), so
    │                          only requests through this zone reach an origin, not merely
    │                          requests from Cloudflare's addresses (any zone could send those)
    ├── monitor                HTTPS GET of the health path through each region's gateway, as the
    │                          zone sends it (its origin-pull certificate included)
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

from .args import ORIGIN_PULL_RENEWAL_DAYS, AffinityMode, CdnEdgeArgs, RateLimitAction
from .geo import AWS_REGION_LOCATIONS
from .steering import check_regions

__all__ = [
    "CLOUDFLARE_MANAGED_RULESET",
    "OWASP_CORE_RULESET",
    "CdnEdge",
    "OriginInstaller",
    "edge_source_ranges",
    "zone_settings",
]

#: Installs, where the origins serve them, the origin certificate, its key and the CA that signs the
#: edge's origin-pull client certificate (the origins require a client certificate it signed);
#: returns those resources.
OriginInstaller = Callable[
    [pulumi.Output[str], pulumi.Output[str], pulumi.Output[str]], Sequence[pulumi.Resource]
]

#: Cloudflare's managed WAF rulesets (ids are Cloudflare's, the same in every account).
CLOUDFLARE_MANAGED_RULESET = "efb7b8c949ac4650a09736fc376e9aee"
OWASP_CORE_RULESET = "4814384a9e5d4991b9815dcfc25d2f1f"
#: The OWASP ruleset's last rule: it acts once a request's anomaly score reaches the threshold.
OWASP_ANOMALY_SCORE_RULE = "6179ae15870a4bb7b2d480d4843b323c"
#: What the edge compresses responses with, in order of preference (Compression Rules; the old
#: zone-wide Brotli toggle is deprecated).
COMPRESSION = ("zstd", "brotli", "gzip")
#: The origin-pull CA's validity (ten years): it signs each year's client certificate.
ORIGIN_PULL_CA_HOURS = 10 * 365 * 24
#: The origin-pull client certificate is replaced by the first `pulumi up` in its last 60 days
#: (`ORIGIN_PULL_RENEWAL_DAYS`).
ORIGIN_PULL_RENEWAL_HOURS = ORIGIN_PULL_RENEWAL_DAYS * 24


def edge_source_ranges(
    name: str, *, api_token: pulumi.Input[str] | None = None, opts: pulumi.ResourceOptions | None = None
) -> pulumi.Output[list[str]]:
    """Cloudflare's published IPv4 ranges (`cloudflare.get_ip_ranges`, read afresh at each `up`),
    sorted: the only sources an origin load balancer admits. The lookup goes through its own
    `cloudflare.Provider` (`name`), as the regions need the list before the edge exists. IPv4 only:
    the origins' NLBs are IPv4, so Cloudflare reaches them over IPv4."""
    provider = cloudflare.Provider(name, api_token=api_token, opts=opts)
    ranges = cloudflare.get_ip_ranges_output(opts=pulumi.InvokeOptions(provider=provider))
    return ranges.ipv4_cidrs.apply(lambda cidrs: sorted(cidrs or []))


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
        install_origin_certificate: called with the origin certificate, its key and the
            origin-pull CA; returns what installs them at the origins (the regions' gateway
            Secrets). SSL "strict" and the load balancer wait for those, so no origin is sent
            traffic before it can present the certificate; the CA comes only once the zone sends
            its client certificate, so no origin asks for one before Cloudflare presents it.
            None: the caller installs them (`origin_certificate`, `origin_private_key`,
            `origin_pull_ca`).
        opts: resource options (a parent, say); no provider: the edge makes its own Cloudflare and
            TLS providers.

    Attributes:
        hostname: the load balancer's hostname.
        load_balancer_id, pool_ids (region → id), monitor_id: Cloudflare ids.
        steering: Cloudflare region → AWS regions in failover order (plain data, for reviewers).
        fallback_region: the region whose pool serves when every pool is unhealthy.
        origin_certificate, origin_private_key (secret): what each region's gateway presents.
        origin_certificate_expires_on: when the origin certificate expires (renew before then).
        origin_pull_ca: the CA certificate the origins trust for client certificates (PEM).
        origin_pull_certificate, origin_pull_private_key (secret): the client certificate the
            zone presents to the origins (PEM) and its key, for its expiry watch (ACM's import
            needs both).
        origin_pull_certificate_expires_on: when the zone's origin-pull certificate expires
            (`pulumi up` renews it in its last 60 days).
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

        tls_provider = tls.Provider(f"{name}-tls", opts=pulumi.ResourceOptions(parent=self))
        keyed = pulumi.ResourceOptions(parent=self, provider=tls_provider)
        self._origin_certificate(name, args, child, keyed)
        self._origin_pulls(name, args, child, keyed)
        installed = list(
            install_origin_certificate(self.origin_certificate, self.origin_private_key, self.origin_pull_ca)
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
        # `probe_zone` sends it with the zone's egress settings, its origin-pull client
        # certificate among them ("Simulate zone": "compatibility with features like
        # authenticated origin pulls", Cloudflare's Load Balancing docs): the gateways refuse a
        # TLS handshake without one.
        health = args.health_check
        zone_name = cloudflare.get_zone_output(
            zone_id=zone, opts=pulumi.InvokeOptions(provider=self.provider)
        ).name
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
            probe_zone=zone_name,
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

    def _origin_certificate(
        self, name: str, args: CdnEdgeArgs, child: pulumi.ResourceOptions, keyed: pulumi.ResourceOptions
    ) -> None:
        """An ECDSA key (kept as a secret in the stack's state), its CSR, and the Origin CA
        certificate for the hostname and its subdomains."""
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

    def _origin_pulls(
        self, name: str, args: CdnEdgeArgs, child: pulumi.ResourceOptions, keyed: pulumi.ResourceOptions
    ) -> None:
        """Zone-level Authenticated Origin Pulls with our own CA, not Cloudflare's shared
        certificate: that one "is not exclusive to your account and only guarantees that a request
        is coming from the Cloudflare network" (Cloudflare's AOP docs), so another zone pointed at
        an origin would pass. The keys stay in the stack's state, as secrets."""
        ca_key = tls.PrivateKey(
            f"{name}-origin-pull-ca-key", algorithm="ECDSA", ecdsa_curve="P256", opts=keyed
        )
        ca = tls.SelfSignedCert(
            f"{name}-origin-pull-ca",
            private_key_pem=ca_key.private_key_pem,
            subject={"common_name": f"{args.name_prefix} origin-pull CA", "organization": args.name_prefix},
            is_ca_certificate=True,
            validity_period_hours=ORIGIN_PULL_CA_HOURS,
            allowed_uses=["cert_signing", "crl_signing"],
            opts=keyed,
        )
        client_key = tls.PrivateKey(
            f"{name}-origin-pull-key", algorithm="ECDSA", ecdsa_curve="P256", opts=keyed
        )
        request = tls.CertRequest(
            f"{name}-origin-pull-csr",
            private_key_pem=client_key.private_key_pem,
            # Named for the hostname (CN and DNS name): ACM imports it for the expiry watch, and
            # ACM's import prerequisites ask for the FQDN a certificate is for. Cloudflare and the
            # gateways check only the chain to our CA.
            subject={"common_name": args.hostname, "organization": f"{args.name_prefix} origin pulls"},
            dns_names=[args.hostname],
            opts=keyed,
        )
        client = tls.LocallySignedCert(
            f"{name}-origin-pull-certificate",
            cert_request_pem=request.cert_request_pem,
            ca_private_key_pem=ca_key.private_key_pem,
            ca_cert_pem=ca.cert_pem,
            validity_period_hours=args.origin_pull_certificate_days * 24,
            early_renewal_hours=ORIGIN_PULL_RENEWAL_HOURS,
            allowed_uses=["digital_signature", "client_auth"],
            opts=keyed,
        )
        # A renewed certificate is uploaded before the old one is deleted (Pulumi's default
        # create-before-delete), Cloudflare's documented way to replace it without downtime.
        uploaded = cloudflare.AuthenticatedOriginPullsCertificate(
            f"{name}-origin-pull-upload",
            zone_id=args.zone_id,
            certificate=client.cert_pem,
            private_key=client_key.private_key_pem,  # a secret already (the provider marks it)
            opts=child,
        )
        enabled = cloudflare.AuthenticatedOriginPullsSettings(
            f"{name}-origin-pulls",
            zone_id=args.zone_id,
            enabled=True,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[uploaded])),
        )
        # The CA reaches the origins only once the zone presents its certificate: an origin that
        # asked for one earlier would refuse every request, a live stack's too.
        self.origin_pull_ca: pulumi.Output[str] = pulumi.Output.all(ca.cert_pem, enabled.enabled).apply(
            lambda values: values[0]
        )
        self.origin_pull_certificate: pulumi.Output[str] = client.cert_pem
        self.origin_pull_private_key: pulumi.Output[str] = pulumi.Output.secret(client_key.private_key_pem)
        self.origin_pull_certificate_expires_on: pulumi.Output[str] = client.validity_end_time

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
            "originPullCertificateExpiresOn": self.origin_pull_certificate_expires_on,
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
