"""The IAM documents of the EKS cluster, checked on their own: each grants only what its user needs."""

from __future__ import annotations

from components.eks.policies import (
    interruption_queue_policy,
    karpenter_controller_policy,
    pod_identity_trust,
    secrets_key_policy,
    volume_key_policy,
)

KEY = "arn:aws:kms:eu-west-1:123456789012:key/k"
CLUSTER = "arn:aws:eks:eu-west-1:123456789012:cluster/c"


def karpenter() -> dict:
    return karpenter_controller_policy(
        partition="aws", region="eu-west-1", account="123456789012", cluster_name="c",
        cluster_arn=CLUSTER, node_role_arn="arn:aws:iam::123456789012:role/c-node",
        queue_arn="arn:aws:sqs:eu-west-1:123456789012:q", key_arn=KEY,
    )  # fmt: skip


def test_karpenter_has_no_unconditioned_wildcard_on_a_write_action() -> None:
    for statement in karpenter()["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        read_only = all(a.split(":")[1].startswith(("Describe", "Get", "List")) for a in actions)
        if statement["Resource"] == "*" and not read_only:
            raise AssertionError(f"{statement['Sid']} writes to every resource")
        if statement["Resource"] == "*":
            # The two reads that take neither a resource nor a condition key.
            unscoped = (["pricing:GetProducts"], ["iam:ListInstanceProfiles"])
            assert statement.get("Condition") or actions in unscoped, statement["Sid"]


#: Every action of Karpenter's published 1.x controller policy (aws/karpenter-provider-aws,
#: website/content/en/v1.14/getting-started/getting-started-with-karpenter/cloudformation.yaml).
UPSTREAM_ACTIONS = {
    "ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate", "ec2:CreateTags",
    "ec2:TerminateInstances", "ec2:DeleteLaunchTemplate",
    "ec2:DescribeCapacityReservations", "ec2:DescribeImages", "ec2:DescribeInstances",
    "ec2:DescribeInstanceStatus", "ec2:DescribeInstanceTypeOfferings", "ec2:DescribeInstanceTypes",
    "ec2:DescribeLaunchTemplates", "ec2:DescribePlacementGroups", "ec2:DescribeSecurityGroups",
    "ec2:DescribeSpotPriceHistory", "ec2:DescribeSubnets", "ssm:GetParameter", "pricing:GetProducts",
    "sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage", "iam:PassRole",
    "iam:CreateInstanceProfile", "iam:TagInstanceProfile", "iam:AddRoleToInstanceProfile",
    "iam:RemoveRoleFromInstanceProfile", "iam:DeleteInstanceProfile", "iam:GetInstanceProfile",
    "iam:ListInstanceProfiles", "eks:DescribeCluster", "arc-zonal-shift:GetManagedResource",
}  # fmt: skip


def test_karpenter_grants_every_action_of_the_published_policy() -> None:
    granted = {
        action
        for statement in karpenter()["Statement"]
        for action in (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
    }
    assert UPSTREAM_ACTIONS - granted == set()


def test_karpenter_instance_profiles_under_upstreams_conditions() -> None:
    statements = {s["Sid"]: s for s in karpenter()["Statement"]}
    # The garbage collector of deleted EC2NodeClasses' profiles lists them all, as upstream grants.
    assert statements["ListInstanceProfiles"] == {
        "Sid": "ListInstanceProfiles",
        "Effect": "Allow",
        "Action": "iam:ListInstanceProfiles",
        "Resource": "*",
    }
    created = statements["CreateOwnInstanceProfiles"]["Condition"]["StringEquals"]
    assert created == {
        "aws:RequestTag/kubernetes.io/cluster/c": "owned",
        "aws:RequestTag/eks:eks-cluster-name": "c",
        "aws:RequestTag/topology.kubernetes.io/region": "eu-west-1",
    }
    # Tagging needs a profile already this cluster's in this region, not only the new tags.
    tagged = statements["TagOwnInstanceProfiles"]["Condition"]
    assert tagged["StringEquals"]["aws:ResourceTag/kubernetes.io/cluster/c"] == "owned"
    assert tagged["StringEquals"]["aws:ResourceTag/topology.kubernetes.io/region"] == "eu-west-1"
    assert set(tagged["StringLike"]) == {
        "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass",
        "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass",
    }
    zonal = statements["ReadZonalShiftOfThisCluster"]["Condition"]
    assert zonal == {"StringEquals": {"arc-zonal-shift:ResourceIdentifier": CLUSTER}}


def test_karpenter_launches_and_terminates_only_what_is_tagged_as_its_clusters() -> None:
    statements = {s["Sid"]: s for s in karpenter()["Statement"]}
    create = statements["CreateOnlyTaggedAsThisCluster"]["Condition"]["StringEquals"]
    assert create["aws:RequestTag/kubernetes.io/cluster/c"] == "owned"
    delete = statements["DeleteOwnInstancesAndTemplates"]["Condition"]["StringEquals"]
    assert delete == {"aws:ResourceTag/kubernetes.io/cluster/c": "owned"}
    assert statements["PassOnlyTheNodeRole"]["Resource"] == "arn:aws:iam::123456789012:role/c-node"
    assert statements["PassOnlyTheNodeRole"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}
    }
    assert statements["DiscoverApiEndpoint"]["Resource"] == CLUSTER


def test_volume_key_use_is_only_through_ec2_of_the_region() -> None:
    for statement in volume_key_policy(KEY, "eu-west-1")["Statement"]:
        assert statement["Resource"] == KEY
        assert statement["Condition"]["StringEquals"] == {"kms:ViaService": "ec2.eu-west-1.amazonaws.com"}
    grant = volume_key_policy(KEY, "eu-west-1")["Statement"][1]
    assert grant["Action"] == "kms:CreateGrant"
    assert grant["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": "true"}


def test_secrets_key_policy_names_one_key_and_cannot_administer_it() -> None:
    (statement,) = secrets_key_policy(KEY)["Statement"]
    assert statement["Resource"] == KEY
    assert not any(a in statement["Action"] for a in ("kms:*", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"))


def test_pod_identity_trust_is_bound_to_account_and_cluster() -> None:
    (statement,) = pod_identity_trust("123456789012", CLUSTER)["Statement"]
    assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "123456789012"},
        "ArnEquals": {"aws:SourceArn": CLUSTER},
    }


def test_interruption_queue_refuses_plain_http() -> None:
    deny = interruption_queue_policy("arn:aws:sqs:eu-west-1:1:q")["Statement"][1]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
