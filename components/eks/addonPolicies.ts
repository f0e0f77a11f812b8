/**
 * IAM policies of the cluster add-ons, as pure functions.
 */
import { PolicyDocument } from "../storage/modelStorePolicies";

/**
 * The cluster autoscaler: describe everything it must see, but change only the Auto Scaling groups
 * tagged as owned by this cluster.
 */
export function clusterAutoscalerPolicy(clusterName: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ScaleOwnGroupsOnly",
        Effect: "Allow",
        Action: [
          "autoscaling:SetDesiredCapacity",
          "autoscaling:TerminateInstanceInAutoScalingGroup",
        ],
        Resource: "*",
        Condition: {
          StringEquals: { [`aws:ResourceTag/k8s.io/cluster-autoscaler/${clusterName}`]: "owned" },
        },
      },
      {
        Sid: "DiscoverGroups",
        Effect: "Allow",
        Action: [
          "autoscaling:DescribeAutoScalingGroups",
          "autoscaling:DescribeAutoScalingInstances",
          "autoscaling:DescribeLaunchConfigurations",
          "autoscaling:DescribeScalingActivities",
          "autoscaling:DescribeTags",
          "ec2:DescribeImages",
          "ec2:DescribeInstanceTypes",
          "ec2:DescribeLaunchTemplateVersions",
          "ec2:GetInstanceTypesFromInstanceRequirements",
          "eks:DescribeNodegroup",
        ],
        Resource: "*",
      },
    ],
  };
}

const CLUSTER_TAG = "elbv2.k8s.aws/cluster";
const LB_ARNS = [
  "arn:aws:elasticloadbalancing:*:*:targetgroup/*/*",
  "arn:aws:elasticloadbalancing:*:*:loadbalancer/net/*/*",
  "arn:aws:elasticloadbalancing:*:*:loadbalancer/app/*/*",
];

/**
 * The AWS Load Balancer Controller's policy: the controller's published `iam_policy.json` for the
 * version chart 1.13.3 installs (appVersion v2.13.3:
 * kubernetes-sigs/aws-load-balancer-controller@v2.13.3 helm/aws-load-balancer-controller/Chart.yaml
 * and docs/install/iam_policy.json), action for action, grouped here by purpose. Narrower than
 * published fails at runtime: the controller opens the nodes' security groups to the ALB
 * (unconditional Authorize/RevokeSecurityGroupIngress), tags load balancers as it creates them
 * (AddTags with `elasticloadbalancing:CreateAction`) and tags listeners and rules.
 * test/eks.test.ts compares it with a transcription of the published statements.
 */
export function loadBalancerControllerPolicy(): PolicyDocument {
  const ownedByController = { Null: { [`aws:ResourceTag/${CLUSTER_TAG}`]: "false" } };
  const taggedAtCreation = { Null: { [`aws:RequestTag/${CLUSTER_TAG}`]: "false" } };
  const keepsClusterTag = {
    Null: {
      [`aws:RequestTag/${CLUSTER_TAG}`]: "true",
      [`aws:ResourceTag/${CLUSTER_TAG}`]: "false",
    },
  };
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ServiceLinkedRole",
        Effect: "Allow",
        Action: "iam:CreateServiceLinkedRole",
        Resource: "*",
        Condition: { StringEquals: { "iam:AWSServiceName": "elasticloadbalancing.amazonaws.com" } },
      },
      {
        Sid: "DescribeNetworkAndLoadBalancers",
        Effect: "Allow",
        Action: [
          "ec2:DescribeAccountAttributes",
          "ec2:DescribeAddresses",
          "ec2:DescribeAvailabilityZones",
          "ec2:DescribeInternetGateways",
          "ec2:DescribeVpcs",
          "ec2:DescribeVpcPeeringConnections",
          "ec2:DescribeSubnets",
          "ec2:DescribeSecurityGroups",
          "ec2:DescribeInstances",
          "ec2:DescribeNetworkInterfaces",
          "ec2:DescribeTags",
          "ec2:GetCoipPoolUsage",
          "ec2:DescribeCoipPools",
          "ec2:GetSecurityGroupsForVpc",
          "ec2:DescribeIpamPools",
          "ec2:DescribeRouteTables",
          "elasticloadbalancing:DescribeLoadBalancers",
          "elasticloadbalancing:DescribeLoadBalancerAttributes",
          "elasticloadbalancing:DescribeListeners",
          "elasticloadbalancing:DescribeListenerCertificates",
          "elasticloadbalancing:DescribeSSLPolicies",
          "elasticloadbalancing:DescribeRules",
          "elasticloadbalancing:DescribeTargetGroups",
          "elasticloadbalancing:DescribeTargetGroupAttributes",
          "elasticloadbalancing:DescribeTargetHealth",
          "elasticloadbalancing:DescribeTags",
          "elasticloadbalancing:DescribeTrustStores",
          "elasticloadbalancing:DescribeListenerAttributes",
          "elasticloadbalancing:DescribeCapacityReservation",
        ],
        Resource: "*",
      },
      {
        Sid: "CertificatesAuthAndProtection",
        Effect: "Allow",
        Action: [
          "cognito-idp:DescribeUserPoolClient",
          "acm:ListCertificates",
          "acm:DescribeCertificate",
          "iam:ListServerCertificates",
          "iam:GetServerCertificate",
          "waf-regional:GetWebACL",
          "waf-regional:GetWebACLForResource",
          "waf-regional:AssociateWebACL",
          "waf-regional:DisassociateWebACL",
          "wafv2:GetWebACL",
          "wafv2:GetWebACLForResource",
          "wafv2:AssociateWebACL",
          "wafv2:DisassociateWebACL",
          "shield:GetSubscriptionState",
          "shield:DescribeProtection",
          "shield:CreateProtection",
          "shield:DeleteProtection",
        ],
        Resource: "*",
      },
      {
        Sid: "OpenNodeSecurityGroupsToLoadBalancers",
        Effect: "Allow",
        Action: ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"],
        Resource: "*",
      },
      {
        Sid: "CreateSecurityGroup",
        Effect: "Allow",
        Action: "ec2:CreateSecurityGroup",
        Resource: "*",
      },
      {
        Sid: "TagNewSecurityGroups",
        Effect: "Allow",
        Action: "ec2:CreateTags",
        Resource: "arn:aws:ec2:*:*:security-group/*",
        Condition: {
          StringEquals: { "ec2:CreateAction": "CreateSecurityGroup" },
          ...taggedAtCreation,
        },
      },
      {
        Sid: "TagOwnSecurityGroups",
        Effect: "Allow",
        Action: ["ec2:CreateTags", "ec2:DeleteTags"],
        Resource: "arn:aws:ec2:*:*:security-group/*",
        Condition: keepsClusterTag,
      },
      {
        Sid: "ManageOwnSecurityGroups",
        Effect: "Allow",
        Action: [
          "ec2:AuthorizeSecurityGroupIngress",
          "ec2:RevokeSecurityGroupIngress",
          "ec2:DeleteSecurityGroup",
        ],
        Resource: "*",
        Condition: ownedByController,
      },
      {
        Sid: "CreateLoadBalancers",
        Effect: "Allow",
        Action: [
          "elasticloadbalancing:CreateLoadBalancer",
          "elasticloadbalancing:CreateTargetGroup",
        ],
        Resource: "*",
        Condition: taggedAtCreation,
      },
      {
        Sid: "ManageListenersAndRules",
        Effect: "Allow",
        Action: [
          "elasticloadbalancing:CreateListener",
          "elasticloadbalancing:DeleteListener",
          "elasticloadbalancing:CreateRule",
          "elasticloadbalancing:DeleteRule",
        ],
        Resource: "*",
      },
      {
        Sid: "TagOwnLoadBalancers",
        Effect: "Allow",
        Action: ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
        Resource: LB_ARNS,
        Condition: keepsClusterTag,
      },
      {
        Sid: "TagListenersAndRules",
        Effect: "Allow",
        Action: ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
        Resource: ["listener", "listener-rule"].flatMap((kind) =>
          ["net", "app"].map((lb) => `arn:aws:elasticloadbalancing:*:*:${kind}/${lb}/*/*/*`),
        ),
      },
      {
        Sid: "ModifyOwnLoadBalancers",
        Effect: "Allow",
        Action: [
          "elasticloadbalancing:ModifyLoadBalancerAttributes",
          "elasticloadbalancing:SetIpAddressType",
          "elasticloadbalancing:SetSecurityGroups",
          "elasticloadbalancing:SetSubnets",
          "elasticloadbalancing:DeleteLoadBalancer",
          "elasticloadbalancing:ModifyTargetGroup",
          "elasticloadbalancing:ModifyTargetGroupAttributes",
          "elasticloadbalancing:DeleteTargetGroup",
          "elasticloadbalancing:ModifyListenerAttributes",
          "elasticloadbalancing:ModifyCapacityReservation",
          "elasticloadbalancing:ModifyIpPools",
        ],
        Resource: "*",
        Condition: ownedByController,
      },
      {
        Sid: "TagOnCreate",
        Effect: "Allow",
        Action: "elasticloadbalancing:AddTags",
        Resource: LB_ARNS,
        Condition: {
          StringEquals: {
            "elasticloadbalancing:CreateAction": ["CreateTargetGroup", "CreateLoadBalancer"],
          },
          ...taggedAtCreation,
        },
      },
      {
        Sid: "RegisterTargets",
        Effect: "Allow",
        Action: ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"],
        Resource: "arn:aws:elasticloadbalancing:*:*:targetgroup/*/*",
      },
      {
        Sid: "ManageListenerSettings",
        Effect: "Allow",
        Action: [
          "elasticloadbalancing:SetWebAcl",
          "elasticloadbalancing:ModifyListener",
          "elasticloadbalancing:AddListenerCertificates",
          "elasticloadbalancing:RemoveListenerCertificates",
          "elasticloadbalancing:ModifyRule",
          "elasticloadbalancing:SetRulePriorities",
        ],
        Resource: "*",
      },
    ],
  };
}

/** Where Karpenter's controller acts: its cluster, region, account, node role and queue. */
export interface KarpenterScope {
  partition: string;
  region: string;
  accountId: string;
  clusterName: string;
  /** The role Karpenter's nodes run as (passed to EC2 through the instance profile it makes). */
  nodeRoleArn: string;
  /** The interruption queue's ARN. */
  queueArn: string;
}

/**
 * Karpenter's controller policy: the statements of the managed policies its getting-started
 * CloudFormation template gives the controller for v1.14 (aws/karpenter-provider-aws@v1.14.1
 * website/content/en/v1.14/getting-started/getting-started-with-karpenter/cloudformation.yaml:
 * NodeLifecyclePolicy, IAMIntegrationPolicy, EKSIntegrationPolicy, InterruptionPolicy and
 * ResourceDiscoveryPolicy), statement for statement with the template's Sids, as one document.
 * ZonalShiftPolicy is left out: it serves `settings.enableZonalShift`, which stays off (the chart's
 * default). test/karpenter.test.ts compares it with a transcription of the published template.
 */
export function karpenterControllerPolicy(s: KarpenterScope): PolicyDocument {
  const ec2 = (resource: string, account = "*") =>
    `arn:${s.partition}:ec2:${s.region}:${account}:${resource}`;
  const owned = { [`aws:ResourceTag/kubernetes.io/cluster/${s.clusterName}`]: "owned" };
  const requestOwned = {
    [`aws:RequestTag/kubernetes.io/cluster/${s.clusterName}`]: "owned",
    "aws:RequestTag/eks:eks-cluster-name": s.clusterName,
  };
  const taggable = [
    "fleet/*",
    "instance/*",
    "volume/*",
    "network-interface/*",
    "launch-template/*",
    "spot-instances-request/*",
  ].map((r) => ec2(r));
  const profiles = `arn:${s.partition}:iam::${s.accountId}:instance-profile/*`;
  const region = { "aws:ResourceTag/topology.kubernetes.io/region": s.region };
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AllowScopedEC2InstanceAccessActions",
        Effect: "Allow",
        Resource: [
          ec2("image/*", ""),
          ec2("snapshot/*", ""),
          ec2("security-group/*"),
          ec2("subnet/*"),
          ec2("capacity-reservation/*"),
          ec2("placement-group/*"),
        ],
        Action: ["ec2:RunInstances", "ec2:CreateFleet"],
      },
      {
        Sid: "AllowScopedEC2LaunchTemplateAccessActions",
        Effect: "Allow",
        Resource: ec2("launch-template/*"),
        Action: ["ec2:RunInstances", "ec2:CreateFleet"],
        Condition: {
          StringEquals: owned,
          StringLike: { "aws:ResourceTag/karpenter.sh/nodepool": "*" },
        },
      },
      {
        Sid: "AllowScopedEC2InstanceActionsWithTags",
        Effect: "Allow",
        Resource: taggable,
        Action: ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"],
        Condition: {
          StringEquals: requestOwned,
          StringLike: { "aws:RequestTag/karpenter.sh/nodepool": "*" },
        },
      },
      {
        Sid: "AllowScopedResourceCreationTagging",
        Effect: "Allow",
        Resource: taggable,
        Action: "ec2:CreateTags",
        Condition: {
          StringEquals: {
            ...requestOwned,
            "ec2:CreateAction": ["RunInstances", "CreateFleet", "CreateLaunchTemplate"],
          },
          StringLike: { "aws:RequestTag/karpenter.sh/nodepool": "*" },
        },
      },
      {
        Sid: "AllowScopedResourceTagging",
        Effect: "Allow",
        Resource: ec2("instance/*"),
        Action: "ec2:CreateTags",
        Condition: {
          StringEquals: owned,
          StringLike: { "aws:ResourceTag/karpenter.sh/nodepool": "*" },
          StringEqualsIfExists: { "aws:RequestTag/eks:eks-cluster-name": s.clusterName },
          "ForAllValues:StringEquals": {
            "aws:TagKeys": ["eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"],
          },
        },
      },
      {
        Sid: "AllowScopedDeletion",
        Effect: "Allow",
        Resource: [ec2("instance/*"), ec2("launch-template/*")],
        Action: ["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"],
        Condition: {
          StringEquals: owned,
          StringLike: { "aws:ResourceTag/karpenter.sh/nodepool": "*" },
        },
      },
      {
        Sid: "AllowPassingInstanceRole",
        Effect: "Allow",
        Resource: s.nodeRoleArn,
        Action: "iam:PassRole",
        Condition: {
          StringEquals: { "iam:PassedToService": ["ec2.amazonaws.com", "ec2.amazonaws.com.cn"] },
        },
      },
      {
        Sid: "AllowScopedInstanceProfileCreationActions",
        Effect: "Allow",
        Resource: profiles,
        Action: ["iam:CreateInstanceProfile"],
        Condition: {
          StringEquals: {
            ...requestOwned,
            "aws:RequestTag/topology.kubernetes.io/region": s.region,
          },
          StringLike: { "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*" },
        },
      },
      {
        Sid: "AllowScopedInstanceProfileTagActions",
        Effect: "Allow",
        Resource: profiles,
        Action: ["iam:TagInstanceProfile"],
        Condition: {
          StringEquals: {
            ...owned,
            ...region,
            ...requestOwned,
            "aws:RequestTag/topology.kubernetes.io/region": s.region,
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
        Resource: profiles,
        Action: [
          "iam:AddRoleToInstanceProfile",
          "iam:RemoveRoleFromInstanceProfile",
          "iam:DeleteInstanceProfile",
        ],
        Condition: {
          StringEquals: { ...owned, ...region },
          StringLike: { "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*" },
        },
      },
      {
        Sid: "AllowAPIServerEndpointDiscovery",
        Effect: "Allow",
        Resource: `arn:${s.partition}:eks:${s.region}:${s.accountId}:cluster/${s.clusterName}`,
        Action: "eks:DescribeCluster",
      },
      {
        Sid: "AllowInterruptionQueueActions",
        Effect: "Allow",
        Resource: s.queueArn,
        Action: ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
      },
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
        Condition: { StringEquals: { "aws:RequestedRegion": s.region } },
      },
      {
        Sid: "AllowSSMReadActions",
        Effect: "Allow",
        Resource: `arn:${s.partition}:ssm:${s.region}::parameter/aws/service/*`,
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
        Resource: profiles,
        Action: "iam:GetInstanceProfile",
      },
    ],
  };
}

/**
 * The interruption queue's policy as the same template writes it (KarpenterInterruptionQueuePolicy):
 * EventBridge and SQS may send to it; nothing may use it over plain HTTP.
 */
export function interruptionQueuePolicy(queueArn: string): PolicyDocument & { Id: string } {
  return {
    Version: "2012-10-17",
    Id: "EC2InterruptionPolicy",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: ["events.amazonaws.com", "sqs.amazonaws.com"] },
        Action: "sqs:SendMessage",
        Resource: queueArn,
      },
      {
        Sid: "DenyHTTP",
        Effect: "Deny",
        Action: "sqs:*",
        Resource: queueArn,
        Condition: { Bool: { "aws:SecureTransport": "false" } },
        Principal: "*",
      },
    ],
  };
}
