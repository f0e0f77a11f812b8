/**
 * Which AWS endpoints each piece of the stack calls from the private subnets, so that a VPC without
 * NAT gateways has an interface endpoint for every one of them. Keyed by what the plan shows: a
 * resource type, a Helm release's chart, an EKS add-on, an attached managed policy, or a model
 * placed in the VPC. The reachability check (checks/reachability.ts) reads this table.
 *
 * Endpoint names are the last part of the service name `com.amazonaws.<region>.<name>`.
 */

/** How a piece of the stack shows in the plan. */
export type PlanMatch =
  /** A resource of this type exists. */
  | { kind: "resource"; type: string }
  /**
   * A Helm release of a chart with this name (the last path segment for a local chart), and, when
   * given, a value at a dotted path equal to this one.
   */
  | { kind: "helmChart"; chart: string; value?: { path: string; equals: unknown } }
  /** An EKS managed add-on with this name. */
  | { kind: "eksAddon"; addonName: string }
  /** An EKS add-on or Pod Identity association gives some service account a role. */
  | { kind: "podIdentity" }
  /** An IAM role has this AWS managed policy attached. */
  | { kind: "managedPolicy"; policyArn: string }
  /** A SageMaker model runs in the VPC's subnets (`vpcConfig` set). */
  | { kind: "sageMakerModelInVpc" };

export interface PrivateEndpointNeed {
  /** What needs the endpoints, as a finding names it. */
  what: string;
  match: PlanMatch;
  /** Interface endpoints it calls (`com.amazonaws.<region>.<name>`). */
  interfaceEndpoints: readonly string[];
  /** Whether it reads S3 (through the S3 gateway endpoint when there is no NAT). */
  s3Gateway: boolean;
  /** Where the requirement comes from. */
  source: string;
}

const PRIVATE_CLUSTERS =
  "https://docs.aws.amazon.com/eks/latest/userguide/private-clusters.html (awsdocs/amazon-eks-user-guide latest/ug/clusters/private-clusters.adoc)";

/**
 * The table. One row per piece of the stack; a piece may need an endpoint another row needs too
 * (the check reports each missing endpoint once, naming every piece that needs it).
 */
export const PRIVATE_ENDPOINT_NEEDS: readonly PrivateEndpointNeed[] = [
  {
    // Pulling an image calls the ECR API (auth token) and the registry (manifests); the layers
    // come from S3. STS is the credentials endpoint for IRSA and for the cluster autoscaler
    // ("Pod requirements": ecr.api, ecr.dkr, s3; sts "required when using IAM roles for service
    // accounts"); it was this check's baseline for every instance before the table existed.
    what: "EKS node groups pulling images from ECR",
    match: { kind: "resource", type: "aws:eks/nodeGroup:NodeGroup" },
    interfaceEndpoints: ["ecr.api", "ecr.dkr", "sts"],
    s3Gateway: true,
    source: PRIVATE_CLUSTERS,
  },
  {
    // "If you use the EKS Optimized AMI, you should enable the ec2 endpoint ... The optimized AMI
    // uses EC2 APIs to set the node DNS name automatically." Managed node groups here run the EKS
    // optimized AMI (an `amiType`, components/eks/acceleratorNodeGroup.ts). They need no `eks`
    // endpoint at boot: "For EKS-managed nodes based on native AMIs, the default NodeConfig is
    // being added by EKS MNG under the hood" (https://docs.aws.amazon.com/eks/latest/eksctl/
    // node-bootstrapping.html), the cluster endpoint and CA the page asks self-managed nodes to
    // pass so that they "don't require access to the Amazon EKS API from within the VPC".
    what: "EKS node groups on the EKS optimized AMI (the node names itself through the EC2 API at boot)",
    match: { kind: "resource", type: "aws:eks/nodeGroup:NodeGroup" },
    interfaceEndpoints: ["ec2"],
    s3Gateway: false,
    source: PRIVATE_CLUSTERS,
  },
  {
    // "Pods configured with EKS Pod Identity acquire credentials from the EKS Auth API. If there is
    // no outbound internet access, you must create and use a VPC endpoint for the EKS Auth API:
    // com.amazonaws.region-code.eks-auth."
    what: "EKS Pod Identity (pods' AWS credentials come from the EKS Auth API)",
    match: { kind: "podIdentity" },
    interfaceEndpoints: ["eks-auth"],
    s3Gateway: false,
    source: PRIVATE_CLUSTERS,
  },
  {
    // The EKS page lists elasticloadbalancing for "Application Load Balancers and Network Load
    // Balancers"; the controller's IAM policy (components/eks/addonPolicies.ts, from
    // kubernetes-sigs/aws-load-balancer-controller@v2.13.3 docs/install/iam_policy.json) calls
    // EC2 for subnets and security groups (ec2:DescribeSubnets, ec2:CreateSecurityGroup, ...).
    // The page also says to turn off Shield, WAF and WAFv2 in a private cluster; the check looks
    // at the release's values for that separately.
    what: "the AWS Load Balancer Controller (creates load balancers, target groups and security groups)",
    match: { kind: "helmChart", chart: "aws-load-balancer-controller" },
    interfaceEndpoints: ["elasticloadbalancing", "ec2"],
    s3Gateway: false,
    source: `${PRIVATE_CLUSTERS}; kubernetes-sigs/aws-load-balancer-controller@v2.13.3 docs/install/iam_policy.json`,
  },
  {
    // "The worker node VPC must also include the AWS STS VPC endpoint and autoscaling VPC
    // endpoint." Its IAM policy (components/eks/addonPolicies.ts, from kubernetes/autoscaler
    // cluster-autoscaler/cloudprovider/aws/README.md) calls ec2:DescribeLaunchTemplateVersions,
    // ec2:DescribeInstanceTypes and ec2:DescribeImages for scale-from-zero templates.
    what: "the cluster autoscaler (reads and resizes the node groups' Auto Scaling groups)",
    match: { kind: "helmChart", chart: "cluster-autoscaler" },
    interfaceEndpoints: ["autoscaling", "sts", "ec2"],
    s3Gateway: false,
    source: `${PRIVATE_CLUSTERS}; kubernetes/autoscaler cluster-autoscaler/cloudprovider/aws/README.md`,
  },
  {
    // Container Insights "collects data as performance log events using embedded metric format"
    // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/ContainerInsights.html), and
    // the add-on "installs Fluent Bit to send container logs" (.../Container-Insights-setup-EKS-
    // addon.html): both go to CloudWatch Logs ("Amazon CloudWatch Logs (required for node and pod
    // logs sent to Amazon CloudWatch Logs): logs", private-clusters page).
    what: "Container Insights (the amazon-cloudwatch-observability add-on sends metrics as log events and container logs to CloudWatch Logs)",
    match: { kind: "eksAddon", addonName: "amazon-cloudwatch-observability" },
    interfaceEndpoints: ["logs"],
    s3Gateway: false,
    source:
      "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/ContainerInsights.html; " +
      PRIVATE_CLUSTERS,
  },
  {
    // The driver's controller calls the EFS API (its IAM policy: elasticfilesystem:Describe
    // FileSystems, DescribeAccessPoints, CreateAccessPoint; kubernetes-sigs/aws-efs-csi-driver
    // docs/iam-policy-example.json); in a VPC without internet it times out "trying to describe
    // the EFS filesystem" (kubernetes-sigs/aws-efs-csi-driver#433). Mounts go to the mount
    // targets in the VPC over NFS and need no endpoint.
    what: "the EFS CSI driver (its controller calls the EFS API)",
    match: { kind: "eksAddon", addonName: "aws-efs-csi-driver" },
    interfaceEndpoints: ["elasticfilesystem"],
    s3Gateway: false,
    source:
      "kubernetes-sigs/aws-efs-csi-driver docs/iam-policy-example.json and issue #433; " +
      PRIVATE_CLUSTERS,
  },
  {
    // Its user data (components/ec2/tritonFleet.ts tritonUserData): `aws s3 sync` of the model
    // repository (S3), `aws ecr get-login-password` and `docker pull` (ecr.api, ecr.dkr, layers
    // from S3), and the CloudWatch agent, which publishes the instance's metrics to CloudWatch
    // (PutMetricData, the `monitoring` endpoint; the role has CloudWatchAgentServerPolicy).
    // `dnf install` reads the Amazon Linux 2023 repositories, S3 buckets reached through the S3
    // gateway endpoint (dnf resolves al2023-repos-<region>-*.s3.dualstack.<region>.amazonaws.com:
    // shamimice03/aws-secure-env README, "download DNF packages without NAT").
    what: "the Triton EC2 fleet's boot script (model sync from S3, image pull from ECR, the CloudWatch agent)",
    match: { kind: "resource", type: "llm-infra:index:TritonFleet" },
    interfaceEndpoints: ["ecr.api", "ecr.dkr", "monitoring"],
    s3Gateway: true,
    source: "components/ec2/tritonFleet.ts tritonUserData",
  },
  {
    // Any Auto Scaling group's instances: this check's baseline before the table existed (image
    // pulls from ECR with layers from S3, credentials from STS), kept so that no stack it passed
    // before is judged more leniently now.
    what: "EC2 Auto Scaling group instances pulling images from ECR",
    match: { kind: "resource", type: "aws:autoscaling/group:Group" },
    interfaceEndpoints: ["ecr.api", "ecr.dkr", "sts"],
    s3Gateway: true,
    source: PRIVATE_CLUSTERS,
  },
  {
    // Session Manager: the SSM Agent calls ssm and ssmmessages; ec2messages only for SSM Agent
    // before 3.3.40.0 ("Starting with version 3.3.40.0 of SSM Agent, Systems Manager began using
    // the ssmmessages:* endpoint ... instead of ec2messages:* whenever available",
    // https://docs.aws.amazon.com/systems-manager/latest/userguide/setup-create-vpc.html). The
    // instance images here ship current agents, so ec2messages is allowed but not required.
    what: "Session Manager on instances with AmazonSSMManagedInstanceCore (the SSM Agent)",
    match: {
      kind: "managedPolicy",
      policyArn: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
    },
    interfaceEndpoints: ["ssm", "ssmmessages"],
    s3Gateway: false,
    source: "https://docs.aws.amazon.com/systems-manager/latest/userguide/setup-create-vpc.html",
  },
  {
    // "If you configure your VPC so that model containers don't have access to the internet, they
    // can't connect to the Amazon S3 buckets that contain your data unless you create a VPC
    // endpoint" (https://docs.aws.amazon.com/sagemaker/latest/dg/host-vpc.html, "Create an Amazon
    // S3 VPC Endpoint"). The serving image is pulled by SageMaker, not through the VPC; the page
    // asks for no interface endpoint.
    what: "SageMaker models in the VPC (model artifacts from S3)",
    match: { kind: "sageMakerModelInVpc" },
    interfaceEndpoints: [],
    s3Gateway: true,
    source: "https://docs.aws.amazon.com/sagemaker/latest/dg/host-vpc.html",
  },
  {
    // SharedModelCache's Job runs `aws s3 sync` from the model store into the EFS cache
    // (components/eks/sharedModelCache.ts syncCommand); its credentials come through Pod Identity.
    what: "the model cache's sync Job (copies the model store from S3 into EFS)",
    match: { kind: "resource", type: "llm-infra:index:SharedModelCache" },
    interfaceEndpoints: [],
    s3Gateway: true,
    source: "components/eks/sharedModelCache.ts syncCommand",
  },
  {
    // The chart's s3-sync init container runs `aws s3 sync` from the model bucket (charts/triton);
    // its credentials come through Pod Identity (the row above).
    what: "Triton's model sync from S3 (the chart's init container)",
    match: {
      kind: "helmChart",
      chart: "triton",
      value: { path: "modelRepository.mode", equals: "s3-sync" },
    },
    interfaceEndpoints: [],
    s3Gateway: true,
    source: "charts/triton templates (modelRepository.mode s3-sync)",
  },
  {
    // KEDA's Prometheus scaler queries the stack's AMP workspace (the metrics pipeline):
    // `com.amazonaws.<region>.aps-workspaces` serves "the Prometheus-compatible API" (AMP User
    // Guide, AMP-and-interface-VPC.html); its credentials come through Pod Identity (above).
    what: "KEDA's queries to the metrics pipeline's Prometheus workspace",
    match: { kind: "helmChart", chart: "keda" },
    interfaceEndpoints: ["aps-workspaces"],
    s3Gateway: false,
    source: "https://docs.aws.amazon.com/prometheus/latest/userguide/AMP-and-interface-VPC.html",
  },
];

/** Every interface endpoint a row can require, sorted. */
export const PRIVATE_ENDPOINT_SERVICES: readonly string[] = [
  ...new Set(PRIVATE_ENDPOINT_NEEDS.flatMap((n) => n.interfaceEndpoints)),
].sort();
