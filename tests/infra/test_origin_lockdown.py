"""Only Cloudflare, and only through our zone, reaches an origin: read off both stacks' plans.

Two layers, each tested on its own:

1. the network: every region's ingress NLB admits Cloudflare's published ranges (as the
   `getIpRanges` lookup answered) and nothing else, on 443 only;
2. the handshake: the gateway serves HTTPS in MUTUAL mode only, trusting the CA that signed the
   zone's own origin-pull certificate, which the zone uploads and sends (zone-level Authenticated
   Origin Pulls); the CA reaches the origins only after the zone sends the certificate.

And the health monitor, which must still pass, probes as the zone (`probe_zone`), so it presents
the zone's certificate as visitors' requests do.
"""

from __future__ import annotations

import pytest

from components.edge.args import ORIGIN_PULL_RENEWAL_DAYS
from components.eks.service_mesh import GATEWAY_RELEASE, origin_tls_secret_name
from infra.plan.mocks import CLOUDFLARE_IPV4, MOCK_ZONE_NAME
from infra.plan.run import Plan
from tests.support import config_of, plan_of

RELEASE = "kubernetes:helm.sh/v3:Release"
GATEWAY = "kubernetes:networking.istio.io/v1:Gateway"
SECRET = "kubernetes:core/v1:Secret"
MONITOR = "cloudflare:index/loadBalancerMonitor:LoadBalancerMonitor"
PULL_SETTINGS = "cloudflare:index/authenticatedOriginPullsSettings:AuthenticatedOriginPullsSettings"
PULL_CERTIFICATE = "cloudflare:index/authenticatedOriginPullsCertificate:AuthenticatedOriginPullsCertificate"
SIGNED = "tls:index/locallySignedCert:LocallySignedCert"
CA = "tls:index/selfSignedCert:SelfSignedCert"

STACKS = ["prod", "staging"]


def _per_region(plan: Plan, type_token: str, keep=lambda r: True) -> dict[str, object]:
    found: dict[str, object] = {}
    for resource in plan.of_type(type_token):
        if keep(resource):
            region = plan.regions[resource.urn]
            assert region not in found, f"two {type_token} in {region}"
            found[region] = resource
    return found


@pytest.mark.parametrize("stack", STACKS)
def test_each_nlb_admits_cloudflares_ranges_on_443_only(stack: str) -> None:
    plan = plan_of(stack)
    gateways = _per_region(plan, RELEASE, lambda r: r.inputs.get("name") == GATEWAY_RELEASE)
    assert set(gateways) == {r.name for r in config_of(plan).regions}
    for region, release in gateways.items():
        service = release.inputs["values"]["service"]
        assert service["type"] == "LoadBalancer"
        assert service["loadBalancerSourceRanges"] == sorted(CLOUDFLARE_IPV4), region
        # Nothing on 80 or the status port 15021: the chart's defaults would open both.
        assert [(p["port"], p["targetPort"]) for p in service["ports"]] == [(443, 443)], region


@pytest.mark.parametrize("stack", STACKS)
def test_each_gateway_requires_the_zones_client_certificate(stack: str) -> None:
    plan = plan_of(stack)
    hostname = config_of(plan).domain
    (ca,) = plan.of_type(CA)
    assert ca.inputs["isCaCertificate"] is True
    for region, gateway in _per_region(plan, GATEWAY).items():
        servers = gateway.inputs["spec"]["servers"]
        assert [(s["port"]["number"], s["port"]["protocol"], s["tls"]["mode"]) for s in servers] == [
            (443, "HTTPS", "MUTUAL")
        ], region
        assert servers[0]["tls"]["credentialName"] == origin_tls_secret_name(hostname)
    secrets = _per_region(
        plan, SECRET, lambda r: r.inputs["metadata"]["name"] == origin_tls_secret_name(hostname)
    )
    assert set(secrets) == {r.name for r in config_of(plan).regions}
    for secret in secrets.values():
        # Its data is a secret (masked in the plan); what it holds is read off where it came from:
        # the origin-pull CA (`ca.crt`; the standalone test checks the keys Istio reads).
        assert ca.urn in secret.dependencies
    for region, gateway in _per_region(plan, GATEWAY).items():
        # MUTUAL before the Secret holds the CA would refuse Cloudflare: the Gateway waits for it.
        assert secrets[region].urn in gateway.dependencies, region


@pytest.mark.parametrize("stack", STACKS)
def test_the_zone_sends_its_own_certificate_before_any_origin_asks_for_it(stack: str) -> None:
    plan = plan_of(stack)
    (settings,) = plan.of_type(PULL_SETTINGS)
    (uploaded,) = plan.of_type(PULL_CERTIFICATE)
    (client,) = plan.of_type(SIGNED)
    assert settings.inputs["enabled"] is True
    assert settings.inputs["zoneId"] == uploaded.inputs["zoneId"] == config_of(plan).cdn.zone_id
    assert uploaded.urn in settings.dependencies  # enabled only once the zone's certificate is up
    assert client.urn in uploaded.dependencies  # the certificate is ours, not Cloudflare's shared one
    assert set(client.inputs["allowedUses"]) == {"digital_signature", "client_auth"}
    # ACM imports it for the expiry alarm, and wants the FQDN it is for.
    (request,) = [
        r for r in plan.of_type("tls:index/certRequest:CertRequest") if r.urn in client.dependencies
    ]
    assert request.inputs["dnsNames"] == [config_of(plan).domain]
    assert request.inputs["subject"]["commonName"] == config_of(plan).domain
    assert client.inputs["earlyRenewalHours"] == ORIGIN_PULL_RENEWAL_DAYS * 24 == 60 * 24
    hostname = config_of(plan).domain
    for secret in plan.of_type(SECRET):
        if secret.inputs["metadata"]["name"] == origin_tls_secret_name(hostname):
            # The CA comes through the settings: the gateways require a client certificate only
            # once the zone presents one (else a live stack would refuse every request).
            assert settings.urn in secret.dependencies, plan.regions[secret.urn]


@pytest.mark.parametrize("stack", STACKS)
def test_the_monitor_probes_as_the_zone_so_it_presents_the_certificate(stack: str) -> None:
    (monitor,) = plan_of(stack).of_type(MONITOR)
    assert monitor.inputs["probeZone"] == MOCK_ZONE_NAME
    assert monitor.inputs["type"] == "https"
