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
        read_only = all(a.split(":")[1].startswith(("Describe", "Get")) for a in actions)
        if statement["Resource"] == "*" and not read_only:
            raise AssertionError(f"{statement['Sid']} writes to every resource")
        if statement["Resource"] == "*":
            assert statement.get("Condition") or actions == ["pricing:GetProducts"], statement["Sid"]


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
