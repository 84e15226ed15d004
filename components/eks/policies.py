"""IAM policy documents of the EKS cluster, as pure functions of ARNs (no Pulumi: testable on their own).

Each grants what its principal does and nothing else: actions scoped to this cluster's resources
(by ARN or by the `kubernetes.io/cluster/<name>` tag Karpenter puts on what it launches), KMS use
only through the EC2 service of the region, and trust limited to this account and cluster.
"""

from __future__ import annotations

from ..core.policies import Document, document

__all__ = [
    "KMS_VOLUME_ACTIONS",
    "ec2_trust",
    "eks_trust",
    "interruption_queue_policy",
    "karpenter_controller_policy",
    "pod_identity_trust",
    "secrets_key_policy",
    "volume_key_policy",
]

#: What encrypting an EBS volume with a customer-managed key takes from the caller.
KMS_VOLUME_ACTIONS = (
    "kms:CreateGrant",
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncrypt*",
)


def eks_trust() -> Document:
    """The cluster role: only the EKS service assumes it."""
    return document(
        {
            "Effect": "Allow",
            "Principal": {"Service": "eks.amazonaws.com"},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
        }
    )


def ec2_trust() -> Document:
    """Node roles: assumed by the EC2 instances of the node groups and of Karpenter."""
    return document(
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    )


def pod_identity_trust(account: str, cluster_arn: str) -> Document:
    """A pod's role through EKS Pod Identity, usable by this cluster of this account only."""
    return document(
        {
            "Effect": "Allow",
            "Principal": {"Service": "pods.eks.amazonaws.com"},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account},
                "ArnEquals": {"aws:SourceArn": cluster_arn},
            },
        }
    )


def secrets_key_policy(key_arn: str) -> Document:
    """The cluster role envelope-encrypts Kubernetes secrets with the region's key (and nothing else)."""
    return document(
        {
            "Sid": "EnvelopeEncryptSecrets",
            "Effect": "Allow",
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey", "kms:ListGrants"],
            "Resource": key_arn,
        }
    )


def volume_key_policy(key_arn: str, region: str) -> Document:
    """Use of the region's key for EBS volumes, only through EC2 in that region; grants only for AWS
    resources (the attachment of a volume to an instance)."""
    return document(
        {
            "Sid": "EncryptVolumesWithRegionKey",
            "Effect": "Allow",
            "Action": [a for a in KMS_VOLUME_ACTIONS if a != "kms:CreateGrant"],
            "Resource": key_arn,
            "Condition": {"StringEquals": {"kms:ViaService": f"ec2.{region}.amazonaws.com"}},
        },
        {
            "Sid": "GrantVolumeAttachments",
            "Effect": "Allow",
            "Action": "kms:CreateGrant",
            "Resource": key_arn,
            "Condition": {
                "StringEquals": {"kms:ViaService": f"ec2.{region}.amazonaws.com"},
                "Bool": {"kms:GrantIsForAWSResource": "true"},
            },
        },
    )


def interruption_queue_policy(queue_arn: str) -> Document:
    """EventBridge may deliver EC2 interruption events; nobody may use the queue without TLS."""
    return document(
        {
            "Sid": "EventBridgeDelivers",
            "Effect": "Allow",
            "Principal": {"Service": ["events.amazonaws.com", "sqs.amazonaws.com"]},
            "Action": "sqs:SendMessage",
            "Resource": queue_arn,
        },
        {
            "Sid": "DenyWithoutTls",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sqs:*",
            "Resource": queue_arn,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    )


def karpenter_controller_policy(
    *,
    partition: str,
    region: str,
    account: str,
    cluster_name: str,
    cluster_arn: str,
    node_role_arn: str,
    queue_arn: str,
    key_arn: str,
) -> Document:
    """Karpenter's controller, scoped to this cluster: it may launch and terminate only instances
    tagged as this cluster's, pass only its node role and read only its own interruption queue.

    After the controller policy Karpenter publishes for 1.x (aws/karpenter-provider-aws,
    website/content/en/v1.14/getting-started/getting-started-with-karpenter/cloudformation.yaml,
    identical to `preview` at v1.14.1, the newest the pinned 1.15.0 follows): the same actions
    under the same conditions, statement for statement, but for `ec2:DescribeAvailabilityZones`
    (kept: earlier 1.x read zones) and `iam:PassedToService` without the China partition's
    `ec2.amazonaws.com.cn` (this platform runs in `aws` only)."""
    ec2 = f"arn:{partition}:ec2:{region}"
    owned = {f"aws:RequestTag/kubernetes.io/cluster/{cluster_name}": "owned"}
    owned_resource = {f"aws:ResourceTag/kubernetes.io/cluster/{cluster_name}": "owned"}
    in_region = {"aws:RequestTag/topology.kubernetes.io/region": region}
    named = {"aws:RequestTag/eks:eks-cluster-name": cluster_name}
    launched = [
        f"{ec2}:{account}:{kind}/*"
        for kind in (
            "fleet",
            "instance",
            "volume",
            "network-interface",
            "launch-template",
            "spot-instances-request",
        )
    ]
    profiles = f"arn:{partition}:iam::{account}:instance-profile/*"
    volume_key = volume_key_policy(key_arn, region)["Statement"]
    return document(
        {
            "Sid": "LaunchFromSharedResources",
            "Effect": "Allow",
            "Action": ["ec2:RunInstances", "ec2:CreateFleet"],
            "Resource": [
                f"{ec2}::image/*",
                f"{ec2}::snapshot/*",
                f"{ec2}:*:security-group/*",
                f"{ec2}:*:subnet/*",
                f"{ec2}:*:capacity-reservation/*",
                f"{ec2}:*:placement-group/*",
            ],
        },
        {
            "Sid": "LaunchFromOwnLaunchTemplates",
            "Effect": "Allow",
            "Action": ["ec2:RunInstances", "ec2:CreateFleet"],
            "Resource": f"{ec2}:*:launch-template/*",
            "Condition": {
                "StringEquals": owned_resource,
                "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"},
            },
        },
        {
            "Sid": "CreateOnlyTaggedAsThisCluster",
            "Effect": "Allow",
            "Action": ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"],
            "Resource": launched,
            "Condition": {
                "StringEquals": owned | named,
                "StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"},
            },
        },
        {
            "Sid": "TagOnCreate",
            "Effect": "Allow",
            "Action": "ec2:CreateTags",
            "Resource": launched,
            "Condition": {
                "StringEquals": owned
                | named
                | {"ec2:CreateAction": ["RunInstances", "CreateFleet", "CreateLaunchTemplate"]},
                "StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"},
            },
        },
        {
            "Sid": "TagOwnInstances",
            "Effect": "Allow",
            "Action": "ec2:CreateTags",
            "Resource": f"{ec2}:*:instance/*",
            "Condition": {
                "StringEquals": owned_resource,
                "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"},
                "StringEqualsIfExists": named,
                "ForAllValues:StringEquals": {
                    "aws:TagKeys": ["eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"]
                },
            },
        },
        {
            "Sid": "DeleteOwnInstancesAndTemplates",
            "Effect": "Allow",
            "Action": ["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"],
            "Resource": [f"{ec2}:*:instance/*", f"{ec2}:*:launch-template/*"],
            "Condition": {
                "StringEquals": owned_resource,
                "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"},
            },
        },
        {
            "Sid": "ReadEc2InRegion",
            "Effect": "Allow",
            "Action": [
                "ec2:DescribeAvailabilityZones",
                "ec2:DescribeCapacityReservations",
                "ec2:DescribeImages",
                "ec2:DescribeInstances",
                "ec2:DescribeInstanceStatus",
                "ec2:DescribeInstanceTypeOfferings",
                "ec2:DescribeInstanceTypes",
                "ec2:DescribeLaunchTemplates",
                "ec2:DescribePlacementGroups",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSpotPriceHistory",
                "ec2:DescribeSubnets",
            ],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:RequestedRegion": region}},
        },
        {
            "Sid": "ReadAmiParameters",
            "Effect": "Allow",
            "Action": "ssm:GetParameter",
            "Resource": f"arn:{partition}:ssm:{region}::parameter/aws/service/*",
        },
        {"Sid": "ReadPrices", "Effect": "Allow", "Action": "pricing:GetProducts", "Resource": "*"},
        {
            "Sid": "ConsumeInterruptionQueue",
            "Effect": "Allow",
            "Action": ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
            "Resource": queue_arn,
        },
        {
            "Sid": "PassOnlyTheNodeRole",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": node_role_arn,
            "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
        },
        {
            "Sid": "CreateOwnInstanceProfiles",
            "Effect": "Allow",
            "Action": "iam:CreateInstanceProfile",
            "Resource": profiles,
            "Condition": {
                "StringEquals": owned | named | in_region,
                "StringLike": {"aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*"},
            },
        },
        {
            # Only a profile already this cluster's, and only with this cluster's tags.
            "Sid": "TagOwnInstanceProfiles",
            "Effect": "Allow",
            "Action": "iam:TagInstanceProfile",
            "Resource": profiles,
            "Condition": {
                "StringEquals": owned_resource
                | {"aws:ResourceTag/topology.kubernetes.io/region": region}
                | owned
                | named
                | in_region,
                "StringLike": {
                    "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*",
                    "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*",
                },
            },
        },
        {
            "Sid": "UseOwnInstanceProfiles",
            "Effect": "Allow",
            "Action": [
                "iam:AddRoleToInstanceProfile",
                "iam:RemoveRoleFromInstanceProfile",
                "iam:DeleteInstanceProfile",
            ],
            "Resource": profiles,
            "Condition": {
                "StringEquals": owned_resource | {"aws:ResourceTag/topology.kubernetes.io/region": region},
                "StringLike": {"aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*"},
            },
        },
        {
            "Sid": "ReadInstanceProfiles",
            "Effect": "Allow",
            "Action": "iam:GetInstanceProfile",
            "Resource": profiles,
        },
        {
            # The instance-profile garbage collector lists the account's profiles to find those of
            # deleted EC2NodeClasses; IAM's ListInstanceProfiles takes no resource and no condition.
            "Sid": "ListInstanceProfiles",
            "Effect": "Allow",
            "Action": "iam:ListInstanceProfiles",
            "Resource": "*",
        },
        {
            "Sid": "DiscoverApiEndpoint",
            "Effect": "Allow",
            "Action": "eks:DescribeCluster",
            "Resource": cluster_arn,
        },
        {
            # Zonal-shift awareness: whether ARC has shifted this cluster away from a zone.
            "Sid": "ReadZonalShiftOfThisCluster",
            "Effect": "Allow",
            "Action": "arc-zonal-shift:GetManagedResource",
            "Resource": "*",
            "Condition": {"StringEquals": {"arc-zonal-shift:ResourceIdentifier": cluster_arn}},
        },
        *volume_key,
    )
