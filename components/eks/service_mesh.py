"""ServiceMesh: Istio in one cluster, with mTLS required everywhere and a gateway only the CDN reaches.

    ServiceMesh  (meridian:eks:ServiceMesh)
    ├── namespaces          istio-system (privileged: the CNI node agent), istio-ingress (baseline)
    ├── Helm releases       base → cni → istiod → gateway, one pinned Istio version; the gateway's
    │                       internet-facing NLB (public subnets) listens on 443 only and admits
    │                       only `origin_sources` (the CDN's published ranges)
    ├── PeerAuthentication  mesh-wide mTLS STRICT (plain-text traffic between pods is refused)
    └── Gateway `public`    HTTPS for the platform's hostname, MUTUAL: a client certificate signed
                            by the edge's origin-pull CA, so only requests through our zone pass;
                            declared with its certificate (`install_origin_certificate`)

The Istio CNI plugin replaces the `istio-init` container (NET_ADMIN), so meshed application
namespaces can enforce the `restricted` Pod Security level.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from ..core.kube import ON_SYSTEM_NODES, PodSecurity, psa_namespace
from .args import IstioSettings

__all__ = [
    "GATEWAY_NAMESPACE",
    "GATEWAY_PORTS",
    "ISTIO_CHARTS",
    "ServiceMesh",
    "origin_tls_secret_name",
    "public_gateway_spec",
]

#: Istio's chart repository since 1.31 (the older Google Cloud Storage one is retired in December 2026).
ISTIO_CHARTS = "https://blob.istio.io/istio-release/charts"
SYSTEM_NAMESPACE = "istio-system"
GATEWAY_NAMESPACE = "istio-ingress"
GATEWAY_RELEASE = "istio-ingress"  # the chart names the Service and labels pods `istio: ingress`

#: Annotations of the gateway's Service read by the AWS cloud provider: an internet-facing NLB in the
#: subnets tagged `kubernetes.io/role/elb` (the public ones), spreading load across all AZs.
NLB_ANNOTATIONS = {
    "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
    "service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled": "true",
}


#: The gateway Service's only port: HTTPS. Nothing on 80 (Cloudflare redirects to HTTPS at the edge)
#: or 15021 (the status port stays inside the cluster, for the kubelet's probes).
GATEWAY_PORTS = [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 443}]


def origin_tls_secret_name(hostname: str) -> str:
    """The Secret (in `istio-ingress`) holding the certificate the gateway serves for `hostname`."""
    return f"{hostname.replace('.', '-')}-origin-tls"


def _load_balancer_hostname(status: k8s.core.v1.outputs.ServiceStatus | None) -> str:
    ingress = status.load_balancer.ingress if status and status.load_balancer else None
    if not ingress or not ingress[0].hostname:
        raise ValueError(f"the {GATEWAY_RELEASE} Service has no load balancer hostname; check its events")
    return ingress[0].hostname


def public_gateway_spec(hostname: str) -> dict[str, Any]:
    """The public Gateway's one server: HTTPS for `hostname`, MUTUAL. Cloudflare connects with SSL
    "strict" and presents the zone's origin-pull client certificate; the Secret it names holds the
    origin certificate for the hostname and the CA that signed the client certificate (`ca.crt`),
    both supplied with the CDN edge. No HTTP server: the NLB has no port 80."""
    return {
        "selector": {"istio": "ingress"},
        "servers": [
            {
                "port": {"number": 443, "name": "https", "protocol": "HTTPS"},
                "hosts": [hostname],
                "tls": {
                    "mode": "MUTUAL",
                    "credentialName": origin_tls_secret_name(hostname),
                    "minProtocolVersion": "TLSV1_2",
                },
            },
        ],
    }


class ServiceMesh(pulumi.ComponentResource):
    """Istio for one cluster. Pass `providers=[kubernetes_provider]` (or inherit it).

    Attributes:
        istiod: the control plane's Helm release (mesh resources depend on it for their CRDs).
        gateway_name: `istio-ingress/public`, for VirtualServices to bind to.
        gateway: the public Gateway, once `install_origin_certificate` has declared it.
        namespaces: name → Namespace of the namespaces the Helm releases live in.
        ingress_hostname: the NLB hostname in front of the gateway: this region's CDN origin.

    Args:
        origin_sources: the only networks the gateway's NLB admits (its Service's
            `loadBalancerSourceRanges`, which the AWS cloud provider turns into the nodes' security
            group rules): the CDN's published ranges (`components.edge.edge_source_ranges`).
    """

    def __init__(
        self,
        name: str,
        *,
        settings: IstioSettings,
        hostname: str,
        origin_sources: pulumi.Input[Sequence[str]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("meridian:eks:ServiceMesh", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        system_ns = psa_namespace(f"{name}-system", SYSTEM_NAMESPACE, PodSecurity.PRIVILEGED, opts=child)
        gateway_ns = psa_namespace(f"{name}-ingress", GATEWAY_NAMESPACE, PodSecurity.BASELINE, opts=child)

        def release(
            chart: str, namespace: k8s.core.v1.Namespace, values: dict, after: list
        ) -> k8s.helm.v3.Release:
            return k8s.helm.v3.Release(
                f"{name}-{chart}",
                name=GATEWAY_RELEASE if chart == "gateway" else f"istio-{chart}",
                chart=chart,
                version=settings.version,
                repository_opts={"repo": ISTIO_CHARTS},
                namespace=namespace.metadata.name,
                values=values,
                atomic=True,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace, *after]),
            )

        base = release("base", system_ns, {"defaultRevision": "default"}, [])
        cni = release("cni", system_ns, {"tolerations": [{"operator": "Exists"}]}, [base])
        self.istiod = release(
            "istiod",
            system_ns,
            {
                "pilot": {"cni": {"enabled": True}, "autoscaleMin": 2, **ON_SYSTEM_NODES},
                "meshConfig": {"accessLogFile": "/dev/stdout", "enablePrometheusMerge": True},
                "global": {"proxy": {"holdApplicationUntilProxyStarts": True}},
            },
            [cni],
        )
        gateway = release(
            "gateway",
            gateway_ns,
            {
                "service": {
                    "type": "LoadBalancer",
                    "annotations": NLB_ANNOTATIONS,
                    "ports": GATEWAY_PORTS,
                    "loadBalancerSourceRanges": origin_sources,
                },
                "autoscaling": {
                    "minReplicas": settings.gateway_min_replicas,
                    "maxReplicas": settings.gateway_max_replicas,
                },
                "podDisruptionBudget": {"minAvailable": 1},
                "topologySpreadConstraints": [
                    {
                        "maxSkew": 1,
                        "topologyKey": "topology.kubernetes.io/zone",
                        "whenUnsatisfiable": "ScheduleAnyway",
                        "labelSelector": {"matchLabels": {"istio": "ingress"}},
                    }
                ],
            },
            [self.istiod],
        )
        after_istiod = pulumi.ResourceOptions(parent=self.istiod, depends_on=[self.istiod])
        self.peer_authentication = k8s.apiextensions.CustomResource(
            f"{name}-mtls-strict",
            api_version="security.istio.io/v1",
            kind="PeerAuthentication",
            metadata={"name": "default", "namespace": SYSTEM_NAMESPACE},
            spec={"mtls": {"mode": "STRICT"}},
            opts=after_istiod,
        )
        self.gateway: k8s.apiextensions.CustomResource | None = None  # with its certificate
        self._istiod_opts = pulumi.ResourceOptions(parent=self.istiod, depends_on=[self.istiod, gateway])
        self.gateway_name = f"{GATEWAY_NAMESPACE}/public"
        # The namespaces of the Helm releases above (telemetry and tests look them up).
        self.namespaces = {SYSTEM_NAMESPACE: system_ns, GATEWAY_NAMESPACE: gateway_ns}
        self._name = name
        self._gateway_namespace = gateway_ns
        # The release waits for the NLB; its hostname is read back from the Service the chart made.
        service = k8s.core.v1.Service.get(
            f"{name}-gateway-service",
            f"{GATEWAY_NAMESPACE}/{GATEWAY_RELEASE}",
            opts=pulumi.ResourceOptions(parent=gateway, depends_on=[gateway]),
        )
        self.ingress_hostname: pulumi.Output[str] = service.status.apply(_load_balancer_hostname)
        self._hostname = hostname
        self.register_outputs({"ingressHostname": self.ingress_hostname})

    def install_origin_certificate(
        self, certificate: pulumi.Input[str], private_key: pulumi.Input[str], client_ca: pulumi.Input[str]
    ) -> k8s.core.v1.Secret:
        """Give the public Gateway its certificate and the CA its clients' certificates must chain
        to: the TLS Secret its `credentialName` names, with `ca.crt` beside `tls.crt` and `tls.key`,
        then the Gateway itself, which waits for that Secret. A Gateway that demanded client
        certificates before its Secret held their CA would refuse Cloudflare (every request a 503
        at the edge); declared after it, it never does. Once per mesh."""
        if self.gateway is not None:
            raise ValueError(f"{self._name}: the origin certificate is already installed")
        secret = k8s.core.v1.Secret(
            f"{self._name}-origin-tls",
            metadata={"name": origin_tls_secret_name(self._hostname), "namespace": GATEWAY_NAMESPACE},
            type="kubernetes.io/tls",
            string_data={"tls.crt": certificate, "tls.key": private_key, "ca.crt": client_ca},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self._gateway_namespace]),
        )
        self.gateway = k8s.apiextensions.CustomResource(
            f"{self._name}-public-gateway",
            api_version="networking.istio.io/v1",
            kind="Gateway",
            metadata={"name": "public", "namespace": GATEWAY_NAMESPACE},
            spec=public_gateway_spec(self._hostname),
            opts=pulumi.ResourceOptions.merge(self._istiod_opts, pulumi.ResourceOptions(depends_on=[secret])),
        )
        return secret
