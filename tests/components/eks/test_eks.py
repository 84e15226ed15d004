"""EksCluster as both stacks declare it, read from the offline plan after the program ran."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.eks.eks_cluster import CONTROL_PLANE_LOG_TYPES, ami_type
from infra.plan.mocks import MOCK_ACCOUNT_ID, RecordedResource
from infra.plan.run import Plan, run_plan
from tests.support import PROJECT_DIR, config_of, in_region, region_stack_of, subnets_by_tier

CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
ADDON = "aws:eks/addon:Addon"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
K8S_PROVIDER = "pulumi:providers:kubernetes"


def region_key(plan: Plan, region: str) -> RecordedResource:
    """The region's own KMS key (the anchor region also holds the audit trail's)."""
    (key,) = [k for k in in_region(plan, "aws:kms/key:Key", region) if k.name.endswith(f"-{region}-key")]
    return key


def crs(plan: Plan, kind: str, region: str) -> list[RecordedResource]:
    return [r for r in plan.resources if r.type.endswith(f":{kind}") and plan.regions[r.urn] == region]


# --- control plane ---------------------------------------------------------------------------


def test_one_cluster_per_region_named_for_stack_and_region(stack_plan: Plan) -> None:
    config = config_of(stack_plan)
    clusters = stack_plan.of_type(CLUSTER)
    assert {stack_plan.regions[c.urn] for c in clusters} == {r.name for r in config.regions}
    for cluster in clusters:
        region = stack_plan.regions[cluster.urn]
        assert cluster.inputs["name"] == f"meridian-{stack_plan.stack}-{region}"
        assert cluster.inputs["version"] == config.eks.kubernetes_version


def test_secrets_are_envelope_encrypted_with_the_regions_own_key(stack_plan: Plan) -> None:
    for cluster in stack_plan.of_type(CLUSTER):
        region = stack_plan.regions[cluster.urn]
        encryption = cluster.inputs["encryptionConfig"]
        assert encryption["resources"] == ["secrets"]
        key_arn = encryption["provider"]["keyArn"]
        assert key_arn.startswith(f"arn:aws:kms:{region}:{MOCK_ACCOUNT_ID}:key/")
        assert region_stack_of(stack_plan, cluster) == region_stack_of(
            stack_plan, region_key(stack_plan, region)
        )
        # The key policy lets Auto Scaling use it for the nodes' volumes.
        policy = json.loads(region_key(stack_plan, region).inputs["policy"])
        sids = {s["Sid"] for s in policy["Statement"]}
        assert "AutoScalingEncryptsNodeVolumes" in sids


def test_every_control_plane_log_type_goes_to_an_encrypted_group_with_retention(stack_plan: Plan) -> None:
    config = config_of(stack_plan)
    assert set(CONTROL_PLANE_LOG_TYPES) == {"api", "audit", "authenticator", "controllerManager", "scheduler"}
    groups = {g.inputs["name"]: g for g in stack_plan.of_type("aws:cloudwatch/logGroup:LogGroup")}
    for cluster in stack_plan.of_type(CLUSTER):
        assert cluster.inputs["enabledClusterLogTypes"] == list(CONTROL_PLANE_LOG_TYPES)
        group = groups[f"/aws/eks/{cluster.inputs['name']}/cluster"]
        assert group.inputs["retentionInDays"] == config.eks.log_retention_days
        assert group.inputs["kmsKeyId"].startswith(f"arn:aws:kms:{stack_plan.regions[cluster.urn]}:")
        assert group.urn in cluster.dependencies, "EKS would create the group itself, unencrypted"


def test_api_endpoint_is_private_only(stack_plan: Plan) -> None:
    for cluster in stack_plan.of_type(CLUSTER):
        vpc = cluster.inputs["vpcConfig"]
        assert vpc["endpointPrivateAccess"] is True
        assert vpc["endpointPublicAccess"] is False
        assert "publicAccessCidrs" not in vpc


def test_access_entries_api_mode_with_the_configured_admins_and_viewers(stack_plan: Plan) -> None:
    config = config_of(stack_plan)
    for cluster in stack_plan.of_type(CLUSTER):
        # No hidden admin: the identity that creates the cluster has only what the stack lists.
        assert cluster.inputs["accessConfig"] == {
            "authenticationMode": "API",
            "bootstrapClusterCreatorAdminPermissions": False,
        }
    associations = stack_plan.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    by_policy: dict[str, list[str]] = {}
    for association in associations:
        assert association.inputs["accessScope"] == {"type": "cluster"}
        policy = association.inputs["policyArn"].rsplit("/", 1)[-1]
        by_policy.setdefault(policy, []).append(association.inputs["principalArn"])
    assert config.eks.viewer_principal_arns  # both stacks give CI's preview role access
    # Viewers get RBAC through a group, no access policy (tests/components/eks/test_preview_access.py).
    assert by_policy == {
        "AmazonEKSClusterAdminPolicy": list(config.eks.admin_principal_arns) * len(config.regions),
    }
    # Whoever deploys is one of the admins, and has that access before any Kubernetes call.
    for provider in stack_plan.of_type("pulumi:providers:kubernetes"):
        if provider.inputs.get("kubeconfig") is None:
            continue
        region = stack_plan.regions[provider.urn]
        mine = {a.urn for a in associations if stack_plan.regions[a.urn] == region}
        assert len(mine) == len(config.eks.admin_principal_arns)
        assert mine <= set(provider.dependencies), region


def test_deletion_protection_in_prod_only(stack_plan: Plan) -> None:
    prod = stack_plan.stack == "prod"
    for cluster in stack_plan.of_type(CLUSTER):
        assert cluster.inputs["deletionProtection"] is prod
        assert cluster.protect is prod


def test_roles_carry_only_the_managed_policies_they_need(stack_plan: Plan) -> None:
    attachments: dict[str, set[str]] = {}
    for attachment in stack_plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
        role = stack_plan.by_urn[attachment.parent or ""]
        attachments.setdefault(role.name, set()).add(attachment.inputs["policyArn"].split(":policy/")[1])
    for cluster in stack_plan.of_type(CLUSTER):
        prefix = f"meridian-{stack_plan.stack}-{stack_plan.regions[cluster.urn]}"
        node = {"AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly"}
        assert attachments[f"{prefix}-cluster"] == {"AmazonEKSClusterPolicy"}
        assert attachments[f"{prefix}-node"] == node  # pod networking rights sit with vpc-cni
        assert attachments[f"{prefix}-karpenter-node"] == node
        assert attachments[f"{prefix}-vpc-cni"] == {"AmazonEKS_CNI_Policy"}
        assert attachments[f"{prefix}-aws-ebs-csi-driver"] == {"service-role/AmazonEBSCSIDriverPolicy"}
        assert f"{prefix}-karpenter-controller" not in attachments  # only its scoped inline policy


# --- nodes -------------------------------------------------------------------------------------


def test_launch_template_requires_imdsv2_and_encrypts_root_volumes_with_the_region_key(
    stack_plan: Plan,
) -> None:
    config = config_of(stack_plan)
    for template in stack_plan.of_type(LAUNCH_TEMPLATE):
        region = stack_plan.regions[template.urn]
        metadata = template.inputs["metadataOptions"]
        assert metadata["httpTokens"] == "required"
        assert metadata["httpPutResponseHopLimit"] == 1  # pods cannot reach node credentials
        (device,) = template.inputs["blockDeviceMappings"]
        ebs = device["ebs"]
        assert (ebs["encrypted"], ebs["volumeType"]) == ("true", "gp3")
        assert ebs["kmsKeyId"].startswith(f"arn:aws:kms:{region}:{MOCK_ACCOUNT_ID}:key/")
        assert ebs["volumeSize"] == config.eks.root_volume_gib
    for node_class in stack_plan.resources:
        if node_class.type.endswith(":EC2NodeClass"):
            spec = node_class.inputs["spec"]
            assert spec["metadataOptions"]["httpTokens"] == "required"
            assert spec["metadataOptions"]["httpPutResponseHopLimit"] == 1
            (mapping,) = spec["blockDeviceMappings"]
            assert mapping["ebs"]["encrypted"] is True and mapping["ebs"]["kmsKeyID"].startswith(
                "arn:aws:kms:"
            )


def test_node_groups_span_every_az_with_bounds_from_config(stack_plan: Plan) -> None:
    config = config_of(stack_plan)
    roles = {r.name: r.role for r in config.regions}
    for region, role in roles.items():
        private = {s.id for s in subnets_by_tier(stack_plan, region)["private"]}
        zones = {s.inputs["availabilityZone"] for s in subnets_by_tier(stack_plan, region)["private"]}
        assert len(zones) == next(r.az_count for r in config.regions if r.name == region)
        groups = {
            g.inputs["labels"]["meridian/node-group"]: g for g in in_region(stack_plan, NODE_GROUP, region)
        }
        assert set(groups) == {"system", "apps"}
        for group in groups.values():
            assert set(group.inputs["subnetIds"]) == private
            assert group.inputs["capacityType"] == "ON_DEMAND"
            assert group.inputs["launchTemplate"]["id"].startswith("lt-")
        sizes = config.sizes[role].eks
        apps = groups["apps"].inputs
        assert apps["scalingConfig"] == {"minSize": sizes.min_nodes, "desiredSize": sizes.desired_nodes,
                                         "maxSize": sizes.max_nodes}  # fmt: skip
        assert apps["instanceTypes"] == list(sizes.node_instance_types)
        assert apps.get("taints", []) == []
        system = groups["system"].inputs
        assert system["taints"] == [{"key": "CriticalAddonsOnly", "value": "true", "effect": "NO_SCHEDULE"}]
        assert system["scalingConfig"]["minSize"] == config.eks.system_nodes.min_nodes


def test_ami_type_follows_the_instance_architecture() -> None:
    assert ami_type(["m7i.2xlarge", "m6i.2xlarge"]) == "AL2023_x86_64_STANDARD"
    assert ami_type(["m7g.xlarge", "c7gn.large", "r8g.large"]) == "AL2023_ARM_64_STANDARD"
    with pytest.raises(ValueError, match="mix x86_64 and arm64"):
        ami_type(["m7i.large", "m7g.large"])


def test_karpenter_is_scoped_to_its_cluster(stack_plan: Plan) -> None:
    config = config_of(stack_plan)
    for region in (r.name for r in config.regions):
        (release,) = [r for r in crs(stack_plan, "Release", region) if r.inputs["name"] == "karpenter"]
        assert release.inputs["version"] == config.eks.karpenter.version
        assert release.inputs["chart"] == "oci://public.ecr.aws/karpenter/karpenter"
        (pool,) = crs(stack_plan, "NodePool", region)
        role = next(r.role for r in config.regions if r.name == region)
        assert pool.inputs["spec"]["limits"] == {"cpu": str(config.sizes[role].eks.burst_vcpus)}
        (node_class,) = crs(stack_plan, "EC2NodeClass", region)
        assert node_class.inputs["spec"]["amiSelectorTerms"] == [{"alias": config.eks.karpenter.ami_alias}]
        (identity,) = [
            i
            for i in in_region(stack_plan, "aws:eks/podIdentityAssociation:PodIdentityAssociation", region)
            if i.inputs["namespace"] == "kube-system"
        ]
        assert (identity.inputs["namespace"], identity.inputs["serviceAccount"]) == (
            "kube-system",
            "karpenter",
        )
        policies = [p for p in in_region(stack_plan, "aws:iam/rolePolicy:RolePolicy", region)
                    if p.name.endswith("-karpenter-controller")]  # fmt: skip
        (policy,) = policies
        statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
        node_role = f":role/meridian-{stack_plan.stack}-{region}-karpenter-node-"
        assert node_role in statements["PassOnlyTheNodeRole"]["Resource"]
        assert statements["DiscoverApiEndpoint"]["Resource"].endswith(
            f":cluster/meridian-{stack_plan.stack}-{region}"
        )
        assert statements["ConsumeInterruptionQueue"]["Resource"].startswith(f"arn:aws:sqs:{region}:")
        assert len(in_region(stack_plan, "aws:cloudwatch/eventRule:EventRule", region)) == 4


def test_karpenter_crds_are_a_release_of_their_own_that_helm_upgrades(stack_plan: Plan) -> None:
    version = config_of(stack_plan).eks.karpenter.version
    for region in (r.name for r in config_of(stack_plan).regions):
        releases = {r.inputs["name"]: r for r in crs(stack_plan, "Release", region)}
        crds, controller = releases["karpenter-crd"], releases["karpenter"]
        assert crds.inputs["chart"] == "oci://public.ecr.aws/karpenter/karpenter-crd"
        assert (crds.inputs["version"], crds.inputs["namespace"]) == (version, "kube-system")
        # Adopts the CRDs an earlier controller release installed; keeps them if ever removed.
        assert crds.inputs["takeOwnership"] is True
        assert crds.inputs["values"]["additionalAnnotations"] == {"helm.sh/resource-policy": "keep"}
        # The controller chart's `crds/` (installed once, never upgraded) is skipped.
        assert controller.inputs["skipCrds"] is True
        assert crds.urn in controller.dependencies
        for kind in ("NodePool", "EC2NodeClass"):
            (resource,) = crs(stack_plan, kind, region)
            assert crds.urn in resource.dependencies, kind


# --- add-ons ---------------------------------------------------------------------------------


def test_addons_are_pinned_to_the_configured_versions(stack_plan: Plan) -> None:
    addons = config_of(stack_plan).eks.addons
    expected = {
        "vpc-cni": addons.vpc_cni,
        "coredns": addons.coredns,
        "kube-proxy": addons.kube_proxy,
        "aws-ebs-csi-driver": addons.aws_ebs_csi_driver,
        "eks-pod-identity-agent": addons.eks_pod_identity_agent,
    }
    for cluster in stack_plan.of_type(CLUSTER):
        region = stack_plan.regions[cluster.urn]
        found = {a.inputs["addonName"]: a for a in in_region(stack_plan, ADDON, region)}
        assert {name: a.inputs["addonVersion"] for name, a in found.items()} == expected
        assert json.loads(found["vpc-cni"].inputs["configurationValues"])["enableNetworkPolicy"] == "true"
        for name in ("vpc-cni", "aws-ebs-csi-driver"):
            (association,) = found[name].inputs["podIdentityAssociations"]
            assert association["roleArn"].startswith(f"arn:aws:iam::{MOCK_ACCOUNT_ID}:role/")


def test_pod_identity_roles_trust_only_their_cluster(stack_plan: Plan) -> None:
    trusts = [
        json.loads(r.inputs["assumeRolePolicy"])["Statement"][0]
        for r in stack_plan.of_type("aws:iam/role:Role")
        if "pods.eks.amazonaws.com" in r.inputs["assumeRolePolicy"]
    ]
    # vpc-cni, ebs-csi, karpenter, the app, Fluent Bit, the Prometheus agent (`ClusterTelemetry`)
    # and the event producer of the region's own stream, in every region.
    assert len(trusts) == 7 * len(config_of(stack_plan).regions)
    for trust in trusts:
        assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": MOCK_ACCOUNT_ID}
        # One cluster's ARN; the event producer's: the stack's clusters (`meridian-<stack>-*`).
        source = trust["Condition"].get("ArnEquals") or trust["Condition"]["ArnLike"]
        assert f":cluster/meridian-{stack_plan.stack}-" in source["aws:SourceArn"]


# --- in the cluster --------------------------------------------------------------------------


def test_every_kubernetes_resource_uses_its_own_clusters_provider(stack_plan: Plan) -> None:
    providers = {p.urn: p for p in stack_plan.resources if p.type == K8S_PROVIDER}
    assert len(providers) == len(config_of(stack_plan).regions)
    kubernetes = [r for r in stack_plan.resources if r.type.startswith("kubernetes:")]
    assert len(kubernetes) > 20 * len(providers)
    for resource in kubernetes:
        provider = providers.get(resource.provider or "")
        assert provider is not None, f"{resource.name} uses {resource.provider}, not a cluster's provider"
        assert region_stack_of(stack_plan, resource) == region_stack_of(stack_plan, provider)
        region = stack_plan.regions[resource.urn]
        kubeconfig = json.loads(provider.inputs["kubeconfig"])
        exec_args = kubeconfig["users"][0]["user"]["exec"]
        assert exec_args["command"] == "aws"
        assert exec_args["args"][:4] == [
            "eks",
            "get-token",
            "--cluster-name",
            f"meridian-{stack_plan.stack}-{region}",
        ]
        assert exec_args["args"][4:6] == ["--region", region]
        assert kubeconfig["clusters"][0]["cluster"]["server"].endswith(f".{region}.eks.amazonaws.com")


def test_namespaces_enforce_pod_security_restricted_for_workloads(stack_plan: Plan) -> None:
    app = config_of(stack_plan).eks.app
    namespaces = stack_plan.of_type("kubernetes:core/v1:Namespace")
    levels: dict[str, set[str]] = {}
    for namespace in namespaces:
        labels = namespace.inputs["metadata"]["labels"]
        assert labels["pod-security.kubernetes.io/enforce"] == labels["pod-security.kubernetes.io/audit"]
        levels.setdefault(namespace.inputs["metadata"]["name"], set()).add(
            labels["pod-security.kubernetes.io/enforce"]
        )
    assert levels[app.namespace] == {"restricted"}
    assert levels["istio-ingress"] == {"baseline"}
    assert levels["istio-system"] == {"privileged"}  # the Istio CNI node agent needs host paths
    app_namespaces = [n for n in namespaces if n.inputs["metadata"]["name"] == app.namespace]
    assert all(n.inputs["metadata"]["labels"]["istio-injection"] == "enabled" for n in app_namespaces)


def test_istio_is_pinned_with_cni_and_mesh_wide_strict_mtls(stack_plan: Plan) -> None:
    config = config_of(stack_plan)
    for region in (r.name for r in config.regions):
        istio = {
            r.inputs["chart"]: r
            for r in crs(stack_plan, "Release", region)
            if r.inputs["name"] not in ("karpenter", "karpenter-crd", "aws-for-fluent-bit")
        }
        assert set(istio) == {"base", "cni", "istiod", "gateway"}
        assert {r.inputs["version"] for r in istio.values()} == {config.eks.istio.version}
        assert istio["istiod"].inputs["values"]["pilot"]["cni"]["enabled"] is True
        (peer,) = crs(stack_plan, "PeerAuthentication", region)
        assert peer.inputs["metadata"] == {"name": "default", "namespace": "istio-system"}  # mesh-wide
        assert peer.inputs["spec"] == {"mtls": {"mode": "STRICT"}}
        service = istio["gateway"].inputs["values"]["service"]
        assert service["type"] == "LoadBalancer"
        assert service["annotations"]["service.beta.kubernetes.io/aws-load-balancer-type"] == "nlb"
        assert (
            service["annotations"]["service.beta.kubernetes.io/aws-load-balancer-scheme"] == "internet-facing"
        )


def test_app_namespace_denies_by_default_and_allows_dns_and_mesh(stack_plan: Plan) -> None:
    app = config_of(stack_plan).eks.app
    for region in (r.name for r in config_of(stack_plan).regions):
        policies = {
            p.inputs["metadata"]["name"]: p.inputs["spec"] for p in crs(stack_plan, "NetworkPolicy", region)
        }
        assert policies["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
        dns = policies["allow-dns"]["egress"][0]
        assert {p["port"] for p in dns["ports"]} == {53} and {p["protocol"] for p in dns["ports"]} == {
            "UDP",
            "TCP",
        }
        assert policies["allow-istiod"]["egress"][0]["ports"] == [{"protocol": "TCP", "port": 15012}]
        gateway = policies["allow-ingress-gateway"]["ingress"][0]
        assert gateway["ports"] == [{"protocol": "TCP", "port": app.port}]
        namespaces = {p.inputs["metadata"]["namespace"] for p in crs(stack_plan, "NetworkPolicy", region)}
        assert namespaces == {app.namespace}


def test_default_storage_class_is_encrypted_gp3_with_the_region_key(stack_plan: Plan) -> None:
    for region in (r.name for r in config_of(stack_plan).regions):
        (storage,) = crs(stack_plan, "StorageClass", region)
        assert (
            storage.inputs["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
        )
        assert storage.inputs["parameters"]["type"] == "gp3"
        assert storage.inputs["parameters"]["encrypted"] == "true"
        assert storage.inputs["parameters"]["kmsKeyId"].startswith(f"arn:aws:kms:{region}:")


def test_api_scaling_envelope_comes_from_config(stack_plan: Plan) -> None:
    config = config_of(stack_plan)
    for region in config.regions:
        sizes = config.sizes[region.role].eks
        (hpa,) = crs(stack_plan, "HorizontalPodAutoscaler", region.name)
        spec = hpa.inputs["spec"]
        assert spec["scaleTargetRef"]["name"] == config.eks.app.deployment_name
        assert (spec["minReplicas"], spec["maxReplicas"]) == (sizes.api_min_replicas, sizes.api_max_replicas)
        (pdb,) = [
            p for p in crs(stack_plan, "PodDisruptionBudget", region.name)
            if p.inputs["metadata"]["namespace"] == config.eks.app.namespace
        ]  # fmt: skip
        assert pdb.inputs["spec"]["selector"] == {"matchLabels": {"app": config.eks.app.deployment_name}}


def canary_weights(plan: Plan) -> list[dict[str, int]]:
    weights = []
    for service in plan.resources:
        if service.type.endswith(":VirtualService"):
            (route,) = service.inputs["spec"]["http"]
            weights.append({d["destination"]["subset"]: d["weight"] for d in route["route"]})
    return weights


def test_canary_split_sums_to_100_and_follows_config(stack_plan: Plan) -> None:
    weight = config_of(stack_plan).eks.app.canary_weight
    weights = canary_weights(stack_plan)
    assert len(weights) == len(config_of(stack_plan).regions)
    for split in weights:
        assert sum(split.values()) == 100
        assert split == {"stable": 100 - weight, "canary": weight}


def test_a_rollout_step_is_a_config_change(tmp_path: Path) -> None:
    """`pulumi config set --path meridian:eks.app.canaryWeight 25`, then `pulumi up`: 75/25 everywhere."""
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    stack_file = tmp_path / "Pulumi.staging.yaml"
    document: dict[str, Any] = yaml.safe_load(stack_file.read_text())
    document["config"]["meridian:eks"]["app"]["canaryWeight"] = 25
    stack_file.write_text(yaml.safe_dump(document))
    weights = canary_weights(run_plan(tmp_path, "staging"))
    assert weights and all(split == {"stable": 75, "canary": 25} for split in weights)


# --- outputs ---------------------------------------------------------------------------------


def test_regions_export_cluster_outputs_and_the_ingress_hostname(stack_plan: Plan) -> None:
    for region, outputs in stack_plan.outputs["regions"].items():
        assert outputs["clusterName"] == f"meridian-{stack_plan.stack}-{region}"
        assert outputs["clusterEndpoint"].endswith(f".{region}.eks.amazonaws.com")
        assert outputs["oidcIssuer"].startswith(f"https://oidc.eks.{region}.amazonaws.com/id/")
        assert outputs["nodeSecurityGroupId"].startswith("sg-")
        assert outputs["ingressHostname"].endswith(f".elb.{region}.amazonaws.com")
