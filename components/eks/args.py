"""Typed arguments of `EksCluster`: versions, access, node groups, mesh and the app's envelope.

`EksSettings` is what a stack sets once for all its regions (`meridian:eks`); `EksClusterArgs` adds
what differs per region (cluster name, node sizes, protection). A platform team builds
`EksClusterArgs` directly. Every version is pinned here, never "latest": an upgrade is a reviewed
config change, not a surprise during `pulumi up`.
"""

from __future__ import annotations

import ipaddress
from datetime import date
from typing import Annotated

from pydantic import AfterValidator, Field, PositiveInt, model_validator

from ..core.args import MeridianModel, RetentionDays, one_of
from ..core.sizes import EksSizes, InstanceType

__all__ = [
    "CANARY_STEPS",
    "SUPPORTED_KUBERNETES_VERSIONS",
    "AddonVersions",
    "AppSettings",
    "EksClusterArgs",
    "EksSettings",
    "EndpointAccess",
    "IstioSettings",
    "KarpenterSettings",
    "SystemNodes",
]

#: Kubernetes versions in EKS standard support (EKS release calendar, November 2026: 1.35 until early
#: 2027, 1.36 until August 2027, 1.37 released October 2026). Drop a version when its support ends.
SUPPORTED_KUBERNETES_VERSIONS: tuple[str, ...] = ("1.35", "1.36", "1.37")

#: The rollout steps of a canary release: the share of traffic (%) the canary subset receives.
CANARY_STEPS: tuple[int, ...] = (0, 5, 25, 50, 100)

WORLD = ("0.0.0.0/0", "::/0")


def _cidr(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=True))
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a CIDR block ({exc}); write it like '203.0.113.0/24'") from exc


KubernetesVersion = Annotated[
    str,
    AfterValidator(one_of(SUPPORTED_KUBERNETES_VERSIONS, "Kubernetes {} is not a version EKS supports here")),
]
AddonVersion = Annotated[str, Field(pattern=r"^v\d+\.\d+\.\d+-eksbuild\.\d+$")]
ChartVersion = Annotated[str, Field(pattern=r"^\d+\.\d+\.\d+$")]
Cidr = Annotated[str, AfterValidator(_cidr)]
IamPrincipalArn = Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:iam::\d{12}:(role|user)/[\w+=,.@/-]+$")]
KubernetesName = Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")]
CanaryWeight = Annotated[
    int, AfterValidator(one_of(CANARY_STEPS, "canary weight {} is not a rollout step (0 = all on stable)"))
]


class EndpointAccess(MeridianModel):
    """Who reaches the Kubernetes API.

    Attributes:
        public: open a public endpoint as well as the private one (default false: only from the
            VPC, the deploy runner's subnets and the VPCs peered for it).
        public_cidrs: the networks the public endpoint admits; required when `public` is true.
        public_until: the last day (UTC) the public endpoint may stay open: a bootstrap window for a
            first `pulumi up` from a workstation, before the in-network runner exists. A stack
            refuses it once the day has passed, or more than 7 days ahead (`meridian` stacks
            require it with `public`).
    """

    public: bool = False
    public_cidrs: tuple[Cidr, ...] = ()
    public_until: date | None = None

    @model_validator(mode="after")
    def _consistent(self) -> EndpointAccess:
        if self.public and not self.public_cidrs:
            raise ValueError("a public endpoint needs publicCidrs (the networks allowed to reach it)")
        if self.public_cidrs and not self.public:
            raise ValueError("publicCidrs is set but public is false; set public: true or remove them")
        if self.public_until and not self.public:
            raise ValueError("publicUntil is set but public is false; remove it")
        return self

    @property
    def open_to_the_world(self) -> bool:
        return self.public and any(cidr in WORLD for cidr in self.public_cidrs)


class AddonVersions(MeridianModel):
    """EKS add-on versions (`aws eks describe-addon-versions --kubernetes-version 1.36`).

    Attributes:
        vpc_cni: `vpc-cni` (pod networking; NetworkPolicy enforcement is switched on).
        coredns: `coredns` (cluster DNS).
        kube_proxy: `kube-proxy`; its minor version must equal the cluster's.
        aws_ebs_csi_driver: `aws-ebs-csi-driver` (gp3 volumes encrypted with the region's key).
        eks_pod_identity_agent: `eks-pod-identity-agent` (IAM roles for pods).
    """

    vpc_cni: AddonVersion
    coredns: AddonVersion
    kube_proxy: AddonVersion
    aws_ebs_csi_driver: AddonVersion
    eks_pod_identity_agent: AddonVersion


class IstioSettings(MeridianModel):
    """The service mesh.

    Attributes:
        version: chart version of Istio's `base`, `cni`, `istiod` and `gateway` charts (one release).
        gateway_min_replicas: fewest ingress gateway pods (default 3: one per AZ).
        gateway_max_replicas: most ingress gateway pods (default 12).
    """

    version: ChartVersion
    gateway_min_replicas: PositiveInt = 3
    gateway_max_replicas: PositiveInt = 12

    @model_validator(mode="after")
    def _ordered(self) -> IstioSettings:
        if self.gateway_min_replicas > self.gateway_max_replicas:
            raise ValueError("needs gatewayMinReplicas <= gatewayMaxReplicas")
        return self


class KarpenterSettings(MeridianModel):
    """Node autoscaling beyond the managed `apps` group.

    Attributes:
        version: chart version of `oci://public.ecr.aws/karpenter/karpenter` and of its CRDs' chart,
            `karpenter-crd` (one version: the CRDs go with the controller).
        ami_alias: EC2NodeClass AMI alias pinned to a release, e.g. `al2023@v20261119`.
    """

    version: ChartVersion
    ami_alias: str = Field(pattern=r"^al2023@v\d{8}$")


class SystemNodes(MeridianModel):
    """The on-demand `system` node group, tainted `CriticalAddonsOnly` for the platform's add-ons.

    Attributes:
        instance_types: EC2 instance types (default m7i.large).
        min_nodes / desired_nodes / max_nodes: the group's range (default 3 / 3 / 6).
    """

    instance_types: tuple[InstanceType, ...] = Field(default=("m7i.large",), min_length=1)
    min_nodes: PositiveInt = 3
    desired_nodes: PositiveInt = 3
    max_nodes: PositiveInt = 6

    @model_validator(mode="after")
    def _ordered(self) -> SystemNodes:
        if not self.min_nodes <= self.desired_nodes <= self.max_nodes:
            raise ValueError("needs minNodes <= desiredNodes <= maxNodes")
        return self


class AppSettings(MeridianModel):
    """The platform's API workload: where it runs and how a release rolls out.

    Attributes:
        namespace: its namespace (PSA `restricted`, default-deny NetworkPolicy, mesh injection).
        deployment_name: its Deployment; the `canary` subset runs as `<name>-canary`.
        port: the container port the Service targets (default 8080).
        canary_weight: % of requests sent to the canary subset: 0, 5, 25, 50 or 100 (default 0).
    """

    namespace: KubernetesName = "api"
    deployment_name: KubernetesName = "api"
    port: int = Field(default=8080, ge=1024, le=65535)
    canary_weight: CanaryWeight = 0


class EksSettings(MeridianModel):
    """Settings shared by every region's cluster (`meridian:eks`).

    Attributes:
        kubernetes_version: the control plane's minor version (one EKS supports).
        endpoint: API endpoint access (private only by default).
        admin_principal_arns: IAM roles/users given cluster-admin through EKS access entries.
        viewer_principal_arns: IAM roles that may preview but never change the cluster, e.g. CI's
            preview roles: the `meridian:previewers` group, dry-run-only RBAC (default none).
        log_retention_days: retention of the control-plane log group (default 365).
        addons: pinned EKS add-on versions.
        istio: the mesh's pinned version and gateway scale.
        karpenter: the node autoscaler's pinned version and AMI.
        system_nodes: the `system` node group.
        root_volume_gib: size of each node's encrypted gp3 root volume (default 50).
        app: the API workload's namespace, ports and canary weight.
    """

    kubernetes_version: KubernetesVersion
    endpoint: EndpointAccess = EndpointAccess()
    admin_principal_arns: tuple[IamPrincipalArn, ...] = Field(min_length=1)
    viewer_principal_arns: tuple[IamPrincipalArn, ...] = ()
    log_retention_days: RetentionDays = 365
    addons: AddonVersions
    istio: IstioSettings
    karpenter: KarpenterSettings
    system_nodes: SystemNodes = SystemNodes()
    root_volume_gib: int = Field(default=50, ge=20, le=1000)
    app: AppSettings = AppSettings()

    @model_validator(mode="after")
    def _kube_proxy_matches(self) -> EksSettings:
        minor = ".".join(self.addons.kube_proxy.lstrip("v").split(".")[:2])
        if minor != self.kubernetes_version:
            raise ValueError(
                f"addons.kubeProxy {self.addons.kube_proxy} is for Kubernetes {minor}, the cluster runs "
                f"{self.kubernetes_version}; pick the kube-proxy build of {self.kubernetes_version}"
            )
        return self


class EksClusterArgs(EksSettings):
    """Everything `EksCluster` needs besides the network it runs in.

    Attributes:
        cluster_name: the EKS cluster's name (1-100 characters).
        hostname: the public hostname the ingress gateway serves (the CDN's origin host header).
        nodes: the `apps` node group's range and the API's replica range (`EksSizes`).
        protect: deletion protection on the cluster and `protect` on it (default true).
    """

    cluster_name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")
    hostname: str = Field(min_length=1, max_length=253)
    nodes: EksSizes
    protect: bool = True
