"""AppEnvelope: where the platform's API runs in a cluster, how far it scales and how it rolls out.

    AppEnvelope  (meridian:eks:AppEnvelope)
    ├── Namespace            PSA `restricted`, Istio sidecar injection
    ├── NetworkPolicies      default deny (in and out), then DNS, istiod, Pod Identity agent,
    │                        same-namespace, gateway → API;
    │                        data stores add theirs (`allow_egress`: their port, their subnets only),
    │                        AWS's interface endpoints one (443 to the private subnets, where
    │                        Firehose and Secrets Manager are); every egress policy is
    │                        `allow-<what it reaches>` and says so in its `meridian/destination`
    │                        annotation; none opens an address
    │                        range beyond the VPC (no 0.0.0.0/0: a guardrail refuses one)
    ├── Service              the API's stable name; Deployments `<name>` and `<name>-canary` back it
    ├── HPA + PDB            replicas from config (capacity per region is config, not code)
    └── DestinationRule + VirtualService   `stable`/`canary` subsets, split by the canary weight

Rolling out: set `meridian:eks.app.canaryWeight` to 5, 25, 50, then 100 and `pulumi up` after each
step; rolling back is setting it to 0 (see docs/components/eks-cluster.md,
"Canary releases"). The Deployments are the application's own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from ..core.kube import PodSecurity, psa_namespace
from ..core.sizes import EksSizes
from .args import AppSettings
from .service_mesh import GATEWAY_NAMESPACE, ServiceMesh

__all__ = [
    "DESTINATION_ANNOTATION",
    "EGRESS_DESTINATIONS",
    "AppEnvelope",
    "canary_routes",
    "egress_policy",
    "ingress_policy",
    "network_policies",
    "pods_ingress_policy",
]

SERVICE_PORT = 80
#: Where the EKS Pod Identity agent listens on every node (link-local).
POD_IDENTITY_AGENT = "169.254.170.23/32"
#: The annotation in which every egress NetworkPolicy says what it lets the API's pods reach.
DESTINATION_ANNOTATION = "meridian/destination"
#: What each of `network_policies`' egress policies reaches (`allow_egress` callers say theirs).
EGRESS_DESTINATIONS = {
    "default-deny": "nothing: every other policy opens one destination",
    "allow-dns": "CoreDNS (kube-dns) in kube-system, port 53",
    "allow-istiod": "istiod in istio-system (mesh configuration and certificates), port 15012",
    "allow-pod-identity-agent": "the node's EKS Pod Identity agent (169.254.170.23), port 80",
    "allow-same-namespace": "the pods of the API's own namespace",
}


def canary_routes(host: str, canary_weight: int) -> list[dict[str, Any]]:
    """The weighted destinations of one release step: the weights always add up to 100."""
    return [
        {
            "destination": {"host": host, "subset": "stable", "port": {"number": SERVICE_PORT}},
            "weight": 100 - canary_weight,
        },
        {
            "destination": {"host": host, "subset": "canary", "port": {"number": SERVICE_PORT}},
            "weight": canary_weight,
        },
    ]


def egress_policy(cidrs: Sequence[str], port: int) -> dict[str, Any]:
    """A NetworkPolicy spec letting the API's pods reach `port` in these ranges, and nothing more."""
    return _cidr_policy("Egress", "to", cidrs, port)


def ingress_policy(cidrs: Sequence[str], port: int) -> dict[str, Any]:
    """A NetworkPolicy spec letting these ranges reach the API's pods on `port`, and nothing more."""
    return _cidr_policy("Ingress", "from", cidrs, port)


def pods_ingress_policy(namespace: str, pod_labels: Mapping[str, str], port: int) -> dict[str, Any]:
    """A NetworkPolicy spec letting the pods labelled `pod_labels` in `namespace` (and no other
    pod or address) reach the API's pods on `port`."""
    return {
        "podSelector": {},
        "policyTypes": ["Ingress"],
        "ingress": [
            {"from": [_pods_of(namespace, pod_labels)], "ports": [{"protocol": "TCP", "port": port}]}
        ],
    }


def _pods_of(namespace: str, labels: Mapping[str, str]) -> dict[str, Any]:
    """A NetworkPolicy peer: the pods labelled `labels` in the namespace named `namespace`."""
    return {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
        "podSelector": {"matchLabels": dict(labels)},
    }


def _cidr_policy(direction: str, peer: str, cidrs: Sequence[str], port: int) -> dict[str, Any]:
    return {
        "podSelector": {},
        "policyTypes": [direction],
        direction.lower(): [
            {
                peer: [{"ipBlock": {"cidr": cidr}} for cidr in cidrs],
                "ports": [{"protocol": "TCP", "port": port}],
            }
        ],
    }


def network_policies(app: AppSettings) -> dict[str, Any]:
    """NetworkPolicy specs by name: deny everything, then allow exactly what a meshed API needs."""
    return {
        "default-deny": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
        "allow-dns": {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [_pods_of("kube-system", {"k8s-app": "kube-dns"})],
                    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                }
            ],
        },
        "allow-istiod": {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [_pods_of("istio-system", {"app": "istiod"})],
                    "ports": [{"protocol": "TCP", "port": 15012}],
                }
            ],
        },
        # The EKS Pod Identity agent on each node hands out the pods' AWS credentials.
        "allow-pod-identity-agent": egress_policy([POD_IDENTITY_AGENT], 80),
        "allow-same-namespace": {
            "podSelector": {},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"from": [{"podSelector": {}}]}],
            "egress": [{"to": [{"podSelector": {}}]}],
        },
        "allow-ingress-gateway": {
            "podSelector": {"matchLabels": {"app": app.deployment_name}},
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": [_pods_of(GATEWAY_NAMESPACE, {"istio": "ingress"})],
                    "ports": [{"protocol": "TCP", "port": app.port}],
                }
            ],
        },
    }


class AppEnvelope(pulumi.ComponentResource):
    """The API's namespace, policies, scaling bounds and canary routing in one cluster.

    Attributes:
        namespace: the API's namespace.
        virtual_service: the route whose weights carry the rollout.
    """

    def __init__(
        self,
        name: str,
        *,
        app: AppSettings,
        sizes: EksSizes,
        hostname: str,
        mesh: ServiceMesh,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("meridian:eks:AppEnvelope", name, None, opts)
        self._name = name
        self.namespace = psa_namespace(
            f"{name}-namespace",
            app.namespace,
            PodSecurity.RESTRICTED,
            labels={"istio-injection": "enabled"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        in_namespace = pulumi.ResourceOptions(parent=self.namespace)
        labels = {"app": app.deployment_name}

        def meta(resource: str) -> Any:  # ObjectMetaArgsDict; its namespace is an Output
            return {"name": resource, "namespace": self.namespace.metadata.name}

        for policy, spec in network_policies(app).items():
            metadata = meta(policy)
            if policy in EGRESS_DESTINATIONS:
                metadata["annotations"] = {DESTINATION_ANNOTATION: EGRESS_DESTINATIONS[policy]}
            k8s.networking.v1.NetworkPolicy(
                f"{name}-{policy}", metadata=metadata, spec=spec, opts=in_namespace
            )
        service_spec: Any = {
            "selector": labels,
            "ports": [{"name": "http", "port": SERVICE_PORT, "targetPort": app.port}],
        }
        k8s.core.v1.Service(
            f"{name}-service",
            metadata=meta(app.deployment_name),
            spec=service_spec,
            opts=in_namespace,
        )
        hpa_spec: Any = {
            "scaleTargetRef": {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": app.deployment_name,
            },
            "minReplicas": sizes.api_min_replicas,
            "maxReplicas": sizes.api_max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 70},
                    },
                }
            ],
            # Scale out at once, scale in slowly: a burst should not meet a shrinking fleet.
            "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300}},
        }
        k8s.autoscaling.v2.HorizontalPodAutoscaler(
            f"{name}-hpa",
            metadata=meta(app.deployment_name),
            spec=hpa_spec,
            opts=in_namespace,
        )
        pdb_spec: Any = {"selector": {"matchLabels": labels}, "minAvailable": "75%"}
        k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb",
            metadata=meta(app.deployment_name),
            spec=pdb_spec,
            opts=in_namespace,
        )
        host = f"{app.deployment_name}.{app.namespace}.svc.cluster.local"
        after_istiod = pulumi.ResourceOptions(parent=self.namespace, depends_on=[mesh.istiod])
        k8s.apiextensions.CustomResource(
            f"{name}-destination-rule",
            api_version="networking.istio.io/v1",
            kind="DestinationRule",
            metadata=meta(app.deployment_name),
            spec={
                "host": host,
                "trafficPolicy": {
                    "tls": {"mode": "ISTIO_MUTUAL"},
                    "outlierDetection": {
                        "consecutive5xxErrors": 5,
                        "interval": "10s",
                        "baseEjectionTime": "30s",
                        "maxEjectionPercent": 50,
                    },
                },
                "subsets": [
                    {"name": "stable", "labels": {"version": "stable"}},
                    {"name": "canary", "labels": {"version": "canary"}},
                ],
            },
            opts=after_istiod,
        )
        self.virtual_service = k8s.apiextensions.CustomResource(
            f"{name}-virtual-service",
            api_version="networking.istio.io/v1",
            kind="VirtualService",
            metadata=meta(app.deployment_name),
            spec={
                "hosts": [hostname, host],
                "gateways": [mesh.gateway_name, "mesh"],
                "http": [
                    {
                        "route": canary_routes(host, app.canary_weight),
                        "timeout": "10s",
                        "retries": {
                            "attempts": 2,
                            "perTryTimeout": "3s",
                            "retryOn": "connect-failure,refused-stream,unavailable,reset",
                        },
                    }
                ],
            },
            opts=after_istiod,
        )
        self.register_outputs({"namespace": app.namespace, "canaryWeight": app.canary_weight})

    def allow_egress(
        self,
        purpose: str,
        cidrs: Sequence[str],
        port: int,
        *,
        destination: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> k8s.networking.v1.NetworkPolicy:
        """Open the default-deny egress to one destination: `port` on `cidrs` (its subnets), named
        `allow-<purpose>`, annotated with what it reaches (`destination`). Data-store components
        and the event path call this as they land."""
        return self._allow(purpose, egress_policy(cidrs, port), opts, destination=destination)

    def allow_ingress(
        self, purpose: str, cidrs: Sequence[str], port: int, opts: pulumi.ResourceOptions | None = None
    ) -> k8s.networking.v1.NetworkPolicy:
        """Open the default-deny ingress to `port` from `cidrs` (e.g. the metrics scraper's subnets
        to the sidecars' metrics port), named `allow-<purpose>`."""
        return self._allow(purpose, ingress_policy(cidrs, port), opts)

    def allow_ingress_from_pods(
        self,
        purpose: str,
        namespace: str,
        pod_labels: Mapping[str, str],
        port: int,
        opts: pulumi.ResourceOptions | None = None,
    ) -> k8s.networking.v1.NetworkPolicy:
        """Open the default-deny ingress to `port` for the pods labelled `pod_labels` in
        `namespace` only (e.g. the Prometheus agent to the sidecars' metrics port), named
        `allow-<purpose>`: no other pod of that namespace, no address range."""
        return self._allow(purpose, pods_ingress_policy(namespace, pod_labels, port), opts)

    def add_config_map(self, name: str, data: Mapping[str, pulumi.Input[str]]) -> k8s.core.v1.ConfigMap:
        """A ConfigMap in the API's namespace (the application reads it with `envFrom`)."""
        metadata: Any = {"name": name, "namespace": self.namespace.metadata.name}
        return k8s.core.v1.ConfigMap(
            f"{self._name}-{name}",
            metadata=metadata,
            data=dict(data),
            opts=pulumi.ResourceOptions(parent=self.namespace),
        )

    def add_service_account(self, name: str) -> k8s.core.v1.ServiceAccount:
        """A service account in the API's namespace (for an EKS Pod Identity association)."""
        metadata: Any = {"name": name, "namespace": self.namespace.metadata.name}
        return k8s.core.v1.ServiceAccount(
            f"{self._name}-{name}", metadata=metadata, opts=pulumi.ResourceOptions(parent=self.namespace)
        )

    def _allow(
        self, purpose: str, spec: Any, opts: pulumi.ResourceOptions | None, *, destination: str | None = None
    ) -> k8s.networking.v1.NetworkPolicy:
        metadata: Any = {"name": f"allow-{purpose}", "namespace": self.namespace.metadata.name}
        if destination is not None:
            metadata["annotations"] = {DESTINATION_ANNOTATION: destination}
        return k8s.networking.v1.NetworkPolicy(
            f"{self._name}-allow-{purpose}",
            metadata=metadata,
            spec=spec,
            opts=pulumi.ResourceOptions.merge(pulumi.ResourceOptions(parent=self.namespace), opts),
        )
