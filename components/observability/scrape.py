"""The Prometheus configuration both collectors run: AMP's managed collector and the in-cluster agent.

One builder, so the two scrape the same targets; each collector adds only what it needs
(`prometheus_configuration`): the managed collector nothing (AMP takes its configuration as it is
and writes to the workspace itself); the agent (`in_cluster`) the cluster's CA for the API server,
the kubelets scraped directly, a fallback protocol for pods, and a `remote_write` to the workspace.

The managed collector reaches everything but the pods through the API server
(`kubernetes.default.svc`, the only name it resolves; the kubelets through the node proxy, as AMP's
own RBAC allows). The agent does not use the node proxy: `get` on `nodes/proxy` reaches every
kubelet's whole API (reported to allow commands in any pod), so it scrapes `/metrics` and
`/metrics/cadvisor` on each kubelet's port with `nodes/metrics`, which grants those only. Every job
presents the service account's token in the only form AMP accepts (`authorization`, type `Bearer`,
from a file).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml

__all__ = [
    "API_SERVER",
    "API_SERVER_NAME",
    "SERVICE_ACCOUNT_CA",
    "SERVICE_ACCOUNT_TOKEN",
    "prometheus_configuration",
]

#: The only credential a managed collector may present (AMP: "Scraper configuration"); an
#: in-cluster pod finds its own service account's token at the same path.
SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"
#: The cluster's CA, mounted into every pod next to the token.
SERVICE_ACCOUNT_CA = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
#: The only host name a managed collector resolves.
API_SERVER = "kubernetes.default.svc:443"
#: A name every API server certificate carries (the kubelet and endpoint jobs reach it by others).
API_SERVER_NAME = "kubernetes"

_ANNOTATION = "__meta_kubernetes_pod_annotation_prometheus_io_"


def prometheus_configuration(
    interval_seconds: int,
    external_labels: Mapping[str, str],
    *,
    in_cluster: bool = False,
    remote_write: Sequence[Mapping[str, Any]] = (),
) -> str:
    """A Prometheus configuration (YAML), after the sample of AMP's "Scraper configuration": API
    server, kubelet and cAdvisor, scheduler and controller manager (EKS 1.28+), and pods annotated
    `prometheus.io/scrape: "true"` (port, path and scheme from `prometheus.io/port|path|scheme`).

    Args:
        interval_seconds: the global scrape interval.
        external_labels: labels on every series sent.
        in_cluster: for a Prometheus running in the cluster (the agent), not AMP's collector: the
            API server verified with the cluster's CA as the server `kubernetes` (some jobs reach it
            by an endpoint's IP address, which its certificate need not name); kubelets scraped
            directly, not through the API server's node proxy; pods that send no valid
            `Content-Type` read as Prometheus text, which Prometheus 3 otherwise refuses.
        remote_write: where the series go (none: AMP's managed collector, which writes itself).
    """
    token = {"type": "Bearer", "credentials_file": SERVICE_ACCOUNT_TOKEN}
    api_server_tls = {"ca_file": SERVICE_ACCOUNT_CA, "server_name": API_SERVER_NAME}
    tls = {"tls_config": api_server_tls} if in_cluster else {}
    api_server_endpoint = [
        {
            "action": "keep",
            "source_labels": [
                "__meta_kubernetes_namespace",
                "__meta_kubernetes_service_name",
                "__meta_kubernetes_endpoint_port_name",
            ],
            "regex": "default;kubernetes;https",
        }
    ]

    def https(job: str, **rest: Any) -> dict[str, Any]:
        return {"job_name": job, "scheme": "https", "authorization": token, **tls, **rest}

    def through_api_server(job: str, path: str) -> dict[str, Any]:
        return https(
            job,
            kubernetes_sd_configs=[{"role": "node"}],
            relabel_configs=[
                {"action": "labelmap", "regex": "__meta_kubernetes_node_label_(.+)"},
                {"target_label": "__address__", "replacement": API_SERVER},
                {
                    "source_labels": ["__meta_kubernetes_node_name"],
                    "regex": "(.+)",
                    "target_label": "__metrics_path__",
                    "replacement": f"/api/v1/nodes/$1/proxy/{path}",
                },
            ],
        )

    def kubelet(job: str, path: str) -> dict[str, Any]:
        if not in_cluster:
            return through_api_server(job, path)
        return {
            "job_name": job,
            "scheme": "https",
            "authorization": token,
            # A kubelet serves a certificate it signed itself (EKS does not have them signed by
            # the cluster's CA): there is nothing to verify it with.
            "tls_config": {"insecure_skip_verify": True},
            "metrics_path": f"/{path}",
            # The node role's address is the node's InternalIP and its kubelet port (10250).
            "kubernetes_sd_configs": [{"role": "node"}],
            "relabel_configs": [{"action": "labelmap", "regex": "__meta_kubernetes_node_label_(.+)"}],
        }

    def control_plane(job: str, component: str) -> dict[str, Any]:
        return https(
            job,
            metrics_path=f"/apis/metrics.eks.amazonaws.com/v1/{component}/container/metrics",
            kubernetes_sd_configs=[{"role": "endpoints"}],
            relabel_configs=api_server_endpoint,
        )

    config: dict[str, Any] = {
        "global": {"scrape_interval": f"{interval_seconds}s", "external_labels": dict(external_labels)},
        "scrape_configs": [
            https(
                "kubernetes-apiservers",
                kubernetes_sd_configs=[{"role": "endpoints"}],
                relabel_configs=api_server_endpoint,
            ),
            kubelet("kubelet", "metrics"),
            kubelet("cadvisor", "metrics/cadvisor"),
            control_plane("ksh-metrics", "ksh"),
            control_plane("kcm-metrics", "kcm"),
            {
                "job_name": "kubernetes-pods",
                **({"fallback_scrape_protocol": "PrometheusText0.0.4"} if in_cluster else {}),
                "kubernetes_sd_configs": [{"role": "pod"}],
                "relabel_configs": [
                    {"action": "keep", "source_labels": [f"{_ANNOTATION}scrape"], "regex": "true"},
                    {
                        "action": "drop",
                        "source_labels": ["__meta_kubernetes_pod_phase"],
                        "regex": "Pending|Succeeded|Failed",
                    },
                    {
                        "source_labels": [f"{_ANNOTATION}scheme"],
                        "regex": "(https?)",
                        "target_label": "__scheme__",
                    },
                    {
                        "source_labels": [f"{_ANNOTATION}path"],
                        "regex": "(.+)",
                        "target_label": "__metrics_path__",
                    },
                    {
                        "source_labels": ["__address__", f"{_ANNOTATION}port"],
                        "regex": r"([^:]+)(?::\d+)?;(\d+)",
                        "replacement": "$1:$2",
                        "target_label": "__address__",
                    },
                    {"action": "labelmap", "regex": "__meta_kubernetes_pod_label_(.+)"},
                    {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
                    {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
                ],
            },
        ],
    }
    if remote_write:
        config["remote_write"] = [dict(target) for target in remote_write]
    return yaml.safe_dump(config, sort_keys=False)
