/**
 * The AWS Load Balancer Controller's published IAM policy, transcribed statement by statement from
 * kubernetes-sigs/aws-load-balancer-controller@v2.13.3 docs/install/iam_policy.json (v2.13.3 is
 * the appVersion of chart 1.13.3: helm/aws-load-balancer-controller/Chart.yaml at the same tag).
 * A fact table for the test that compares the component's policy with it; not used by shipped code.
 */
export interface PublishedStatement {
  actions: string[];
  resources: string[];
  condition?: Record<string, Record<string, string | string[]>>;
}

const CLUSTER_TAG_PRESENT = { "aws:RequestTag/elbv2.k8s.aws/cluster": "false" };
const OWNED = { "aws:ResourceTag/elbv2.k8s.aws/cluster": "false" };
const LOAD_BALANCERS = [
  "arn:aws:elasticloadbalancing:*:*:targetgroup/*/*",
  "arn:aws:elasticloadbalancing:*:*:loadbalancer/net/*/*",
  "arn:aws:elasticloadbalancing:*:*:loadbalancer/app/*/*",
];

export const PUBLISHED_LBC_POLICY_V2_13_3: PublishedStatement[] = [
  {
    actions: ["iam:CreateServiceLinkedRole"],
    resources: ["*"],
    condition: { StringEquals: { "iam:AWSServiceName": "elasticloadbalancing.amazonaws.com" } },
  },
  {
    actions: [
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
    resources: ["*"],
  },
  {
    actions: [
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
    resources: ["*"],
  },
  {
    actions: ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"],
    resources: ["*"],
  },
  { actions: ["ec2:CreateSecurityGroup"], resources: ["*"] },
  {
    actions: ["ec2:CreateTags"],
    resources: ["arn:aws:ec2:*:*:security-group/*"],
    condition: {
      StringEquals: { "ec2:CreateAction": "CreateSecurityGroup" },
      Null: CLUSTER_TAG_PRESENT,
    },
  },
  {
    actions: ["ec2:CreateTags", "ec2:DeleteTags"],
    resources: ["arn:aws:ec2:*:*:security-group/*"],
    condition: {
      Null: { "aws:RequestTag/elbv2.k8s.aws/cluster": "true", ...OWNED },
    },
  },
  {
    actions: [
      "ec2:AuthorizeSecurityGroupIngress",
      "ec2:RevokeSecurityGroupIngress",
      "ec2:DeleteSecurityGroup",
    ],
    resources: ["*"],
    condition: { Null: OWNED },
  },
  {
    actions: ["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"],
    resources: ["*"],
    condition: { Null: CLUSTER_TAG_PRESENT },
  },
  {
    actions: [
      "elasticloadbalancing:CreateListener",
      "elasticloadbalancing:DeleteListener",
      "elasticloadbalancing:CreateRule",
      "elasticloadbalancing:DeleteRule",
    ],
    resources: ["*"],
  },
  {
    actions: ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
    resources: LOAD_BALANCERS,
    condition: {
      Null: { "aws:RequestTag/elbv2.k8s.aws/cluster": "true", ...OWNED },
    },
  },
  {
    actions: ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
    resources: [
      "arn:aws:elasticloadbalancing:*:*:listener/net/*/*/*",
      "arn:aws:elasticloadbalancing:*:*:listener/app/*/*/*",
      "arn:aws:elasticloadbalancing:*:*:listener-rule/net/*/*/*",
      "arn:aws:elasticloadbalancing:*:*:listener-rule/app/*/*/*",
    ],
  },
  {
    actions: [
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
    resources: ["*"],
    condition: { Null: OWNED },
  },
  {
    actions: ["elasticloadbalancing:AddTags"],
    resources: LOAD_BALANCERS,
    condition: {
      StringEquals: {
        "elasticloadbalancing:CreateAction": ["CreateTargetGroup", "CreateLoadBalancer"],
      },
      Null: CLUSTER_TAG_PRESENT,
    },
  },
  {
    actions: ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"],
    resources: ["arn:aws:elasticloadbalancing:*:*:targetgroup/*/*"],
  },
  {
    actions: [
      "elasticloadbalancing:SetWebAcl",
      "elasticloadbalancing:ModifyListener",
      "elasticloadbalancing:AddListenerCertificates",
      "elasticloadbalancing:RemoveListenerCertificates",
      "elasticloadbalancing:ModifyRule",
      "elasticloadbalancing:SetRulePriorities",
    ],
    resources: ["*"],
  },
];
