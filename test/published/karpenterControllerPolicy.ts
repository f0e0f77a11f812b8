/**
 * Karpenter's controller policies as published, transcribed statement by statement from
 * aws/karpenter-provider-aws website/content/en/v1.14/getting-started/getting-started-with-karpenter/
 * cloudformation.yaml (main at 1d92708, identical to the preview copy at tag v1.14.1 that the
 * guide's step02 script downloads): the PolicyDocument of NodeLifecyclePolicy,
 * IAMIntegrationPolicy, EKSIntegrationPolicy, InterruptionPolicy and ResourceDiscoveryPolicy, with
 * the template's `${...}` substitutions left in. A fact table for the test that compares the
 * component's policy with it; not used by shipped code.
 */
export const PUBLISHED_KARPENTER_POLICIES_V1_14: Record<string, unknown[]> = {
  NodeLifecyclePolicy: [
    {
      Sid: "AllowScopedEC2InstanceAccessActions",
      Effect: "Allow",
      Resource: [
        "arn:${AWS::Partition}:ec2:${AWS::Region}::image/*",
        "arn:${AWS::Partition}:ec2:${AWS::Region}::snapshot/*",
        "arn:${AWS::Partition}:ec2:${AWS::Region}:*:security-group/*",
        "arn:${AWS::Partition}:ec2:${AWS::Region}:*:subnet/*",
        "arn:${AWS::Partition}:ec2:${AWS::Region}:*:capacity-reservation/*",
        "arn:${AWS::Partition}:ec2:${AWS::Region}:*:placement-group/*",
      ],
      Action: ["ec2:RunInstances", "ec2:CreateFleet"],
    },
    {
      Sid: "AllowScopedEC2LaunchTemplateAccessActions",
      Effect: "Allow",
      Resource: "arn:${AWS::Partition}:ec2:${AWS::Region}:*:launch-template/*",
      Action: ["ec2:RunInstances", "ec2:CreateFleet"],
      Condition: {
        StringEquals: {
          "aws:ResourceTag/kubernetes.io/cluster/${ClusterName}": "owned",
        },
        StringLike: {
          "aws:ResourceTag/karpenter.sh/nodepool": "*",
        },
      },
    },
    {
      Sid: "AllowScopedEC2InstanceActionsWithTags",
      Effect: "Allow",
      Resource: [
        "arn:${AWS::Partition}:ec2:${AWS::Region}:*:fleet/*",
        "arn:${AWS::Partition}:ec2:${AWS::Region}:*:instance/*",
        "arn:${AWS::Partition}:ec2:${AWS::Region}:*:volume/*",
        "arn:${AWS::Partition}:ec2:${AWS::Region}:*:network-interface/*",
        "arn:${AWS::Partition}:ec2:${AWS::Region}:*:launch-template/*",
        "arn:${AWS::Partition}:ec2:${AWS::Region}:*:spot-instances-request/*",
      ],
      Action: ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"],
      Condition: {
        StringEquals: {
          "aws:RequestTag/kubernetes.io/cluster/${ClusterName}": "owned",
          "aws:RequestTag/eks:eks-cluster-name": "${ClusterName}",
        },
        StringLike: {
          "aws:RequestTag/karpenter.sh/nodepool": "*",
        },
      },
    },
    {
      Sid: "AllowScopedResourceCreationTagging",
      Effect: "Allow",
      Resource: [
        "arn:${AWS::Partition}:ec2:${AWS::Region}:*:fleet/*",
        "arn:${AWS::Partition}:ec2:${AWS::Region}:*:instance/*",
        "arn:${AWS::Partition}:ec2:${AWS::Region}:*:volume/*",
        "arn:${AWS::Partition}:ec2:${AWS::Region}:*:network-interface/*",
        "arn:${AWS::Partition}:ec2:${AWS::Region}:*:launch-template/*",
        "arn:${AWS::Partition}:ec2:${AWS::Region}:*:spot-instances-request/*",
      ],
      Action: "ec2:CreateTags",
      Condition: {
        StringEquals: {
          "aws:RequestTag/kubernetes.io/cluster/${ClusterName}": "owned",
          "aws:RequestTag/eks:eks-cluster-name": "${ClusterName}",
          "ec2:CreateAction": ["RunInstances", "CreateFleet", "CreateLaunchTemplate"],
        },
        StringLike: {
          "aws:RequestTag/karpenter.sh/nodepool": "*",
        },
      },
    },
    {
      Sid: "AllowScopedResourceTagging",
      Effect: "Allow",
      Resource: "arn:${AWS::Partition}:ec2:${AWS::Region}:*:instance/*",
      Action: "ec2:CreateTags",
      Condition: {
        StringEquals: {
          "aws:ResourceTag/kubernetes.io/cluster/${ClusterName}": "owned",
        },
        StringLike: {
          "aws:ResourceTag/karpenter.sh/nodepool": "*",
        },
        StringEqualsIfExists: {
          "aws:RequestTag/eks:eks-cluster-name": "${ClusterName}",
        },
        "ForAllValues:StringEquals": {
          "aws:TagKeys": ["eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"],
        },
      },
    },
    {
      Sid: "AllowScopedDeletion",
      Effect: "Allow",
      Resource: [
        "arn:${AWS::Partition}:ec2:${AWS::Region}:*:instance/*",
        "arn:${AWS::Partition}:ec2:${AWS::Region}:*:launch-template/*",
      ],
      Action: ["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"],
      Condition: {
        StringEquals: {
          "aws:ResourceTag/kubernetes.io/cluster/${ClusterName}": "owned",
        },
        StringLike: {
          "aws:ResourceTag/karpenter.sh/nodepool": "*",
        },
      },
    },
  ],
  IAMIntegrationPolicy: [
    {
      Sid: "AllowPassingInstanceRole",
      Effect: "Allow",
      Resource: "${KarpenterNodeRole.Arn}",
      Action: "iam:PassRole",
      Condition: {
        StringEquals: {
          "iam:PassedToService": ["ec2.amazonaws.com", "ec2.amazonaws.com.cn"],
        },
      },
    },
    {
      Sid: "AllowScopedInstanceProfileCreationActions",
      Effect: "Allow",
      Resource: "arn:${AWS::Partition}:iam::${AWS::AccountId}:instance-profile/*",
      Action: ["iam:CreateInstanceProfile"],
      Condition: {
        StringEquals: {
          "aws:RequestTag/kubernetes.io/cluster/${ClusterName}": "owned",
          "aws:RequestTag/eks:eks-cluster-name": "${ClusterName}",
          "aws:RequestTag/topology.kubernetes.io/region": "${AWS::Region}",
        },
        StringLike: {
          "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*",
        },
      },
    },
    {
      Sid: "AllowScopedInstanceProfileTagActions",
      Effect: "Allow",
      Resource: "arn:${AWS::Partition}:iam::${AWS::AccountId}:instance-profile/*",
      Action: ["iam:TagInstanceProfile"],
      Condition: {
        StringEquals: {
          "aws:ResourceTag/kubernetes.io/cluster/${ClusterName}": "owned",
          "aws:ResourceTag/topology.kubernetes.io/region": "${AWS::Region}",
          "aws:RequestTag/kubernetes.io/cluster/${ClusterName}": "owned",
          "aws:RequestTag/eks:eks-cluster-name": "${ClusterName}",
          "aws:RequestTag/topology.kubernetes.io/region": "${AWS::Region}",
        },
        StringLike: {
          "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*",
          "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*",
        },
      },
    },
    {
      Sid: "AllowScopedInstanceProfileActions",
      Effect: "Allow",
      Resource: "arn:${AWS::Partition}:iam::${AWS::AccountId}:instance-profile/*",
      Action: [
        "iam:AddRoleToInstanceProfile",
        "iam:RemoveRoleFromInstanceProfile",
        "iam:DeleteInstanceProfile",
      ],
      Condition: {
        StringEquals: {
          "aws:ResourceTag/kubernetes.io/cluster/${ClusterName}": "owned",
          "aws:ResourceTag/topology.kubernetes.io/region": "${AWS::Region}",
        },
        StringLike: {
          "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*",
        },
      },
    },
  ],
  EKSIntegrationPolicy: [
    {
      Sid: "AllowAPIServerEndpointDiscovery",
      Effect: "Allow",
      Resource: "arn:${AWS::Partition}:eks:${AWS::Region}:${AWS::AccountId}:cluster/${ClusterName}",
      Action: "eks:DescribeCluster",
    },
  ],
  InterruptionPolicy: [
    {
      Sid: "AllowInterruptionQueueActions",
      Effect: "Allow",
      Resource: "${KarpenterInterruptionQueue.Arn}",
      Action: ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
    },
  ],
  ResourceDiscoveryPolicy: [
    {
      Sid: "AllowRegionalReadActions",
      Effect: "Allow",
      Resource: "*",
      Action: [
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
      Condition: {
        StringEquals: {
          "aws:RequestedRegion": "${AWS::Region}",
        },
      },
    },
    {
      Sid: "AllowSSMReadActions",
      Effect: "Allow",
      Resource: "arn:${AWS::Partition}:ssm:${AWS::Region}::parameter/aws/service/*",
      Action: "ssm:GetParameter",
    },
    {
      Sid: "AllowPricingReadActions",
      Effect: "Allow",
      Resource: "*",
      Action: "pricing:GetProducts",
    },
    {
      Sid: "AllowUnscopedInstanceProfileListAction",
      Effect: "Allow",
      Resource: "*",
      Action: "iam:ListInstanceProfiles",
    },
    {
      Sid: "AllowInstanceProfileReadActions",
      Effect: "Allow",
      Resource: "arn:${AWS::Partition}:iam::${AWS::AccountId}:instance-profile/*",
      Action: "iam:GetInstanceProfile",
    },
  ],
};
