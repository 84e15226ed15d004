"""CdnEdge as both stacks declare it, read from the offline plan after the program ran."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from components.core.args import RegionRole
from components.edge.cdn_edge import CLOUDFLARE_MANAGED_RULESET, OWASP_ANOMALY_SCORE_RULE, OWASP_CORE_RULESET
from components.edge.geo import AWS_REGION_LOCATIONS, CloudflareRegion, distance_km
from components.eks.service_mesh import GATEWAY_NAMESPACE
from infra.plan.mocks import RecordedResource
from infra.plan.run import Plan
from tests.support import config_of, plan_with

EDGE = "meridian:cdn:CdnEdge"
SETTING = "cloudflare:index/zoneSetting:ZoneSetting"
MONITOR = "cloudflare:index/loadBalancerMonitor:LoadBalancerMonitor"
POOL = "cloudflare:index/loadBalancerPool:LoadBalancerPool"
LOAD_BALANCER = "cloudflare:index/loadBalancer:LoadBalancer"
RULESET = "cloudflare:index/ruleset:Ruleset"


def one(plan: Plan, type_token: str) -> RecordedResource:
    (resource,) = plan.of_type(type_token)
    return resource


def pools_by_region(plan: Plan) -> dict[str, RecordedResource]:
    return {pool.inputs["origins"][0]["name"]: pool for pool in plan.of_type(POOL)}


def rulesets(plan: Plan) -> dict[str, RecordedResource]:
    return {r.inputs["phase"]: r for r in plan.of_type(RULESET)}


# --- zone hardening ------------------------------------------------------------------------------


def test_zone_settings_are_resources_with_the_hardened_values(stack_plan: Plan) -> None:
    cdn = config_of(stack_plan).cdn
    settings = {s.inputs["settingId"]: s.inputs["value"] for s in stack_plan.of_type(SETTING)}
    assert {s.inputs["zoneId"] for s in stack_plan.of_type(SETTING)} == {cdn.zone_id}
    assert settings["ssl"] == "strict"
    assert settings["min_tls_version"] == "1.2"
    assert settings["tls_1_3"] == "on" and settings["0rtt"] == "off"
    assert settings["always_use_https"] == "on" and settings["automatic_https_rewrites"] == "on"
    assert settings["http3"] == "on"
    assert settings["security_header"] == {
        "strict_transport_security": {
            "enabled": True,
            "max_age": cdn.hsts_max_age_seconds,
            "include_subdomains": True,
            "preload": False,
            "nosniff": True,
        }
    }
    assert one(stack_plan, "cloudflare:index/zoneDnssec:ZoneDnssec").inputs["status"] == "active"


def test_responses_are_compressed_with_zstd_brotli_and_gzip(stack_plan: Plan) -> None:
    (rule,) = rulesets(stack_plan)["http_response_compression"].inputs["rules"]
    assert rule["action"] == "compress_response" and rule["expression"] == "true"
    assert [a["name"] for a in rule["actionParameters"]["algorithms"]] == ["zstd", "brotli", "gzip"]


# --- health and failover -------------------------------------------------------------------------


def test_monitor_probes_the_health_path_over_https_with_the_hostname(stack_plan: Plan) -> None:
    config = config_of(stack_plan)
    health = config.cdn.health_check
    monitor = one(stack_plan, MONITOR).inputs
    assert monitor["type"] == "https" and monitor["method"] == "GET"
    assert monitor["path"] == health.path and monitor["expectedCodes"] == health.expected_codes
    assert (monitor["interval"], monitor["timeout"], monitor["retries"]) == (
        health.interval_seconds,
        health.timeout_seconds,
        health.retries,
    )
    assert monitor["header"] == {"Host": [config.domain]}
    assert monitor["accountId"] == config.cdn.account_id


def test_prod_detects_a_dead_region_within_a_minute(prod_plan: Plan) -> None:
    monitor = one(prod_plan, MONITOR).inputs
    assert monitor["interval"] * monitor["consecutiveDown"] <= 60


def test_a_monitored_pool_per_region_on_its_ingress_hostname(stack_plan: Plan) -> None:
    config = config_of(stack_plan)
    monitor = one(stack_plan, MONITOR)
    pools = pools_by_region(stack_plan)
    # One pool per region (registration order follows when each ingress hostname resolves).
    assert len(stack_plan.of_type(POOL)) == len(config.regions)  # one each: no region has two
    assert set(pools) == {r.name for r in config.regions}
    for region, pool in pools.items():
        (origin,) = pool.inputs["origins"]
        assert origin["address"] == stack_plan.outputs["regions"][region]["ingressHostname"]
        assert origin["address"].endswith(f".elb.{region}.amazonaws.com")
        assert origin["enabled"] is True and origin["weight"] == 1
        assert pool.inputs["monitor"] == monitor.id
        assert pool.inputs["minimumOrigins"] == 1
        assert pool.inputs["notificationFilter"] == {"pool": {"disable": False}, "origin": {"disable": False}}
        assert pool.inputs["checkRegions"] and set(pool.inputs["checkRegions"]) <= {
            c.value for c in CloudflareRegion
        }
        location = AWS_REGION_LOCATIONS[region]
        assert (pool.inputs["latitude"], pool.inputs["longitude"]) == (location.latitude, location.longitude)
        assert "loadShedding" not in pool.inputs


def test_pool_health_changes_are_mailed_to_the_alert_list(stack_plan: Plan) -> None:
    config = config_of(stack_plan)
    policy = one(stack_plan, "cloudflare:index/notificationPolicy:NotificationPolicy").inputs
    assert policy["alertType"] == "load_balancing_health_alert"
    assert sorted(policy["filters"]["poolIds"]) == sorted(p.id for p in stack_plan.of_type(POOL))
    assert policy["mechanisms"]["emails"] == [{"id": e} for e in config.cdn.alert_emails]


def test_load_balancer_is_proxied_on_the_domain_with_geo_steering(stack_plan: Plan) -> None:
    config = config_of(stack_plan)
    lb = one(stack_plan, LOAD_BALANCER).inputs
    assert lb["name"] == config.domain and lb["zoneId"] == config.cdn.zone_id
    assert lb["proxied"] is True and lb["steeringPolicy"] == "geo"
    assert lb["adaptiveRouting"] == {"failoverAcrossPools": True}
    # Sessions are regional: both stacks keep a user with the region holding theirs, re-pinned
    # once on failover (sticky), and secure cookies only.
    assert lb["sessionAffinity"] == "cookie" and "sessionAffinityTtl" not in lb
    attributes = lb["sessionAffinityAttributes"]
    assert attributes["zeroDowntimeFailover"] == "sticky" and attributes["secure"] == "Always"


def test_every_cloudflare_region_has_two_or_more_pools_nearest_primary_first(stack_plan: Plan) -> None:
    config = config_of(stack_plan)
    ids = {region: pool.id for region, pool in pools_by_region(stack_plan).items()}
    region_of = {pool_id: region for region, pool_id in ids.items()}
    primaries = [r.name for r in config.regions if r.role is RegionRole.PRIMARY]
    region_pools = one(stack_plan, LOAD_BALANCER).inputs["regionPools"]
    assert set(region_pools) == {c.value for c in CloudflareRegion}
    for code, pool_ids in region_pools.items():
        assert len(pool_ids) >= 2 and len(set(pool_ids)) == len(pool_ids), code
        centre = CloudflareRegion(code).place
        nearest = min(primaries, key=lambda p: distance_km(centre, AWS_REGION_LOCATIONS[p]))
        assert region_of[pool_ids[0]] == nearest, code
    assert stack_plan.outputs["cdn"]["steering"] == {
        code: [region_of[i] for i in pool_ids] for code, pool_ids in region_pools.items()
    }


def test_prod_fails_over_to_the_partner_standby_then_another_primary(prod_plan: Plan) -> None:
    steering = prod_plan.outputs["cdn"]["steering"]
    assert steering["ENAM"][:3] == ["us-east-1", "us-west-1", "eu-west-1"]
    assert steering["WEU"][:2] == ["eu-west-1", "eu-central-1"]
    assert steering["NEAS"][:2] == ["ap-northeast-1", "ap-southeast-1"]
    assert steering["ME"][:2] == ["me-central-1", "af-south-1"]
    assert all(len(order) == 8 for order in steering.values())


def test_fallback_and_default_pools_start_at_the_write_home(stack_plan: Plan) -> None:
    config = config_of(stack_plan)
    ids = {region: pool.id for region, pool in pools_by_region(stack_plan).items()}
    lb = one(stack_plan, LOAD_BALANCER).inputs
    assert lb["fallbackPool"] == ids[config.write_home]
    assert lb["defaultPools"][0] == ids[config.write_home] and sorted(lb["defaultPools"]) == sorted(
        ids.values()
    )


@pytest.mark.slow
def test_removing_a_region_removes_its_pool_and_re_steers_its_users(tmp_path: Path, prod_plan: Plan) -> None:
    def drop_uae(config: dict[str, Any]) -> None:
        config["meridian:regions"] = [r for r in config["meridian:regions"] if r["name"] != "me-central-1"]

    before = pools_by_region(prod_plan)
    plan = plan_with(tmp_path, "prod", drop_uae)
    pools = pools_by_region(plan)
    assert set(before) - set(pools) == {"me-central-1"} and len(pools) == 7
    steering = plan.outputs["cdn"]["steering"]
    assert all("me-central-1" not in order for order in steering.values())
    assert steering["ME"][0] == "eu-west-1" and steering["SAS"][0] != "me-central-1"
    region_pools = one(plan, LOAD_BALANCER).inputs["regionPools"]
    assert region_pools["ME"][0] == pools["eu-west-1"].id


@pytest.mark.slow
def test_session_affinity_and_load_shedding_come_from_config(tmp_path: Path) -> None:
    def sticky(config: dict[str, Any]) -> None:
        config["meridian:cdn"] |= {
            "sessionAffinity": {"mode": "cookie", "ttlSeconds": 3600},
            "loadSheddingPercent": {"eu-west-1": 25},
        }

    plan = plan_with(tmp_path, "staging", sticky)
    lb = one(plan, LOAD_BALANCER).inputs
    assert lb["sessionAffinity"] == "cookie" and lb["sessionAffinityTtl"] == 3600
    assert lb["sessionAffinityAttributes"]["secure"] == "Always"
    pools = pools_by_region(plan)
    assert pools["eu-west-1"].inputs["loadShedding"] == {"defaultPercent": 25, "defaultPolicy": "hash"}
    assert "loadShedding" not in pools["us-east-1"].inputs


# --- protection ----------------------------------------------------------------------------------


def test_managed_waf_runs_the_cloudflare_and_owasp_rulesets(stack_plan: Plan) -> None:
    owasp = config_of(stack_plan).cdn.owasp
    waf = rulesets(stack_plan)["http_request_firewall_managed"].inputs
    assert waf["kind"] == "zone" and waf["zoneId"] == config_of(stack_plan).cdn.zone_id
    managed, core = waf["rules"]
    assert managed["action"] == core["action"] == "execute"
    assert managed["actionParameters"]["id"] == CLOUDFLARE_MANAGED_RULESET
    assert core["actionParameters"]["id"] == OWASP_CORE_RULESET
    overrides = core["actionParameters"]["overrides"]
    assert overrides["rules"] == [
        {
            "id": OWASP_ANOMALY_SCORE_RULE,
            "action": owasp.action.value,
            "scoreThreshold": owasp.score_threshold,
        }
    ]
    assert [c["category"] for c in overrides["categories"]] == [
        f"paranoia-level-{level}" for level in range(owasp.paranoia_level + 1, 5)
    ]


def test_api_rate_limit_has_the_configured_thresholds(stack_plan: Plan) -> None:
    limit = config_of(stack_plan).cdn.rate_limit
    (rule,) = rulesets(stack_plan)["http_ratelimit"].inputs["rules"]
    assert rule["expression"] == f'starts_with(http.request.uri.path, "{limit.path_prefix}")'
    assert rule["action"] == "block"
    assert rule["ratelimit"] == {
        "characteristics": ["cf.colo.id", "ip.src"],
        "period": limit.period_seconds,
        "requestsPerPeriod": limit.requests_per_period,
        "mitigationTimeout": limit.mitigation_timeout_seconds,
    }


def test_static_paths_are_cached_and_the_api_never(stack_plan: Plan) -> None:
    caching = config_of(stack_plan).cdn.static_caching
    static, api = rulesets(stack_plan)["http_request_cache_settings"].inputs["rules"]
    for prefix in caching.path_prefixes:
        assert f'starts_with(http.request.uri.path, "{prefix}")' in static["expression"]
    assert static["actionParameters"] == {
        "cache": True,
        "edgeTtl": {"mode": "override_origin", "default": caching.edge_ttl_seconds},
        "browserTtl": {"mode": "override_origin", "default": caching.browser_ttl_seconds},
    }
    assert api["actionParameters"] == {"cache": False} and "/api/" in api["expression"]


def test_www_is_a_proxied_record_redirected_to_the_domain(stack_plan: Plan) -> None:
    domain = config_of(stack_plan).domain
    record = one(stack_plan, "cloudflare:index/dnsRecord:DnsRecord").inputs
    assert (record["name"], record["type"], record["content"], record["proxied"]) == (
        f"www.{domain}",
        "CNAME",
        domain,
        True,
    )
    (redirect,) = rulesets(stack_plan)["http_request_dynamic_redirect"].inputs["rules"]
    assert redirect["expression"] == f'http.host eq "www.{domain}"'
    assert redirect["actionParameters"]["fromValue"]["statusCode"] == 301


# --- origin TLS ------------------------------------------------------------------------------------


def test_every_gateway_presents_the_edges_origin_certificate(stack_plan: Plan) -> None:
    domain = config_of(stack_plan).domain
    certificate = one(stack_plan, "cloudflare:index/originCaCertificate:OriginCaCertificate").inputs
    assert certificate["hostnames"] == [domain, f"*.{domain}"] and certificate["requestType"] == "origin-ecc"
    gateways = stack_plan.of_type("kubernetes:networking.istio.io/v1:Gateway")
    secrets = {
        stack_plan.regions[s.urn]: s
        for s in stack_plan.of_type("kubernetes:core/v1:Secret")
        if s.name.endswith("-origin-tls")
    }
    assert set(secrets) == {r.name for r in config_of(stack_plan).regions}
    for gateway in gateways:
        secret = secrets[stack_plan.regions[gateway.urn]]
        https = next(s for s in gateway.inputs["spec"]["servers"] if s["port"]["protocol"] == "HTTPS")
        assert https["tls"]["credentialName"] == secret.inputs["metadata"]["name"]
        assert secret.inputs["metadata"]["namespace"] == GATEWAY_NAMESPACE
        assert secret.inputs["type"] == "kubernetes.io/tls"
        assert secret.inputs["stringData"] == "[secret]"  # the private key never shows in a plan


def test_strict_tls_and_the_load_balancer_wait_for_every_gateways_certificate(stack_plan: Plan) -> None:
    secrets = {
        s.urn for s in stack_plan.of_type("kubernetes:core/v1:Secret") if s.name.endswith("-origin-tls")
    }
    assert len(secrets) == len(config_of(stack_plan).regions)
    ssl = next(s for s in stack_plan.of_type(SETTING) if s.inputs["settingId"] == "ssl")
    assert secrets <= set(ssl.dependencies)
    assert secrets <= set(one(stack_plan, LOAD_BALANCER).dependencies)


def test_every_rule_has_a_stable_unique_ref(stack_plan: Plan) -> None:
    refs = [rule["ref"] for ruleset in stack_plan.of_type(RULESET) for rule in ruleset.inputs["rules"]]
    assert len(refs) == len(set(refs)) == 7 and all(r.startswith("meridian_") for r in refs)


def test_every_cloudflare_resource_uses_the_edges_own_provider(stack_plan: Plan) -> None:
    (edge,) = stack_plan.of_type(EDGE)
    # The other Cloudflare provider only reads the published ranges, before the edge exists.
    (provider,) = [p for p in stack_plan.of_type("pulumi:providers:cloudflare") if p.parent == edge.urn]
    (ranges,) = [p for p in stack_plan.of_type("pulumi:providers:cloudflare") if p.parent != edge.urn]
    assert ranges.name.endswith("-edge-ranges")
    (tls_provider,) = stack_plan.of_type("pulumi:providers:tls")
    assert provider.parent == edge.urn and tls_provider.parent == edge.urn
    for resource in stack_plan.custom_resources:
        if resource.type.startswith("cloudflare:"):
            assert resource.provider == provider.urn, resource.urn
        if resource.type.startswith("tls:"):
            assert resource.provider == tls_provider.urn, resource.urn


def test_outputs_name_the_hostname_pools_and_steering(stack_plan: Plan) -> None:
    outputs = stack_plan.outputs["cdn"]
    config = config_of(stack_plan)
    assert outputs["hostname"] == config.domain
    assert outputs["poolIds"] == {region: pool.id for region, pool in pools_by_region(stack_plan).items()}
    assert outputs["loadBalancerId"] == one(stack_plan, LOAD_BALANCER).id
    assert outputs["fallbackRegion"] == config.write_home
    assert outputs["originCertificateExpiresOn"]


def test_the_edge_adds_what_it_declares(prod_plan: Plan) -> None:
    counts = prod_plan.counts_by_type()
    assert counts[SETTING] == 9 and counts[POOL] == 8 and counts[RULESET] == 5
    assert counts[LOAD_BALANCER] == counts[MONITOR] == 1
