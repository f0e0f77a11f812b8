import * as aws from "@pulumi/aws";
import * as eks from "@pulumi/eks";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_KUBERNETES_VERSION, EKS_KUBERNETES_VERSIONS } from "../../catalog/kubernetes";
import { Tags } from "../tags";
import { serviceRole } from "../trust";
import { ipv4CidrProblem } from "../../catalog/awsLimits";
import { findInstance } from "../../catalog/instances";
import { ArgError, checkIntegerRange, throwIfInvalid } from "../validation";
import { AcceleratorNodeGroup } from "./acceleratorNodeGroup";

export interface GpuClusterArgs {
  /** The VPC (InferenceVpc.vpcId). */
  vpcId: pulumi.Input<string>;
  /** Private subnets for the control plane's interfaces and the nodes. */
  privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** A Kubernetes version in EKS standard support. @default the catalog's default ("1.35") */
  kubernetesVersion?: string;
  /**
   * CIDRs that may reach the API endpoint from the internet; the endpoint is private-only when
   * empty. Never 0.0.0.0/0.
   * @default []
   */
  publicAccessCidrs?: string[];
  /**
   * CIDRs of a deployer inside the VPC or a connected network (a CI runner's subnet, a VPN range)
   * admitted to the private API endpoint: an HTTPS (443) rule on the cluster security group.
   * Never 0.0.0.0/0.
   * @default []
   * @example ["10.20.0.0/16"]
   */
  privateAccessCidrs?: string[];
  /** Security groups of an in-VPC deployer (a CI runner, a bastion) admitted on 443. @default [] */
  privateAccessSecurityGroupIds?: string[];
  /** IAM principals (role ARNs) given cluster-admin through access entries. */
  adminPrincipalArns?: string[];
  /** The system node group's instance type (cluster add-ons run there). @default "m6i.large" */
  systemInstanceType?: string;
  /** System nodes. @default 2 */
  systemNodeCount?: number;
  /** The cluster's name (unique per account and region). @default `<project>-<stack>-<name>` */
  clusterName?: string;
  /** Tags for every AWS resource. */
  tags?: Tags;
}

export const CONTROL_PLANE_LOGS = [
  "api",
  "audit",
  "authenticator",
  "controllerManager",
  "scheduler",
];
const WORKER_POLICIES = [
  "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
  "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
  "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
  "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
];

export function validateGpuClusterArgs(args: GpuClusterArgs): ArgError[] {
  const errors: ArgError[] = [];
  if (
    args.kubernetesVersion !== undefined &&
    !(EKS_KUBERNETES_VERSIONS as readonly string[]).includes(args.kubernetesVersion)
  ) {
    errors.push({
      propertyPath: "kubernetesVersion",
      reason: `must be a version in EKS standard support (${EKS_KUBERNETES_VERSIONS.join(", ")}), got ${JSON.stringify(args.kubernetesVersion)}`,
    });
  }
  for (const key of ["publicAccessCidrs", "privateAccessCidrs"] as const) {
    (args[key] ?? []).forEach((c, i) => {
      const notCidr = ipv4CidrProblem(c);
      if (notCidr) errors.push({ propertyPath: `${key}[${i}]`, reason: notCidr });
      else if (c.endsWith("/0"))
        errors.push({
          propertyPath: `${key}[${i}]`,
          reason: "must not open the API endpoint to the whole internet (0.0.0.0/0)",
        });
    });
  }
  (args.privateAccessSecurityGroupIds ?? []).forEach((g, i) => {
    if (!/^sg-[0-9a-f]{8,17}$/.test(g))
      errors.push({
        propertyPath: `privateAccessSecurityGroupIds[${i}]`,
        reason: `must be a security group id (sg-...), got ${JSON.stringify(g)}`,
      });
  });
  // The system node group is created from these two: check them here, under their own names.
  checkIntegerRange(errors, "systemNodeCount", args.systemNodeCount, 1, 1000);
  const system = args.systemInstanceType;
  if (system !== undefined && (!findInstance(system) || system.startsWith("ml.")))
    errors.push({
      propertyPath: "systemInstanceType",
      reason: `${JSON.stringify(system)} is not an EC2 instance type the catalog knows`,
    });
  (args.adminPrincipalArns ?? []).forEach((a, i) => {
    if (!/^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/.+/.test(a))
      errors.push({
        propertyPath: `adminPrincipalArns[${i}]`,
        reason: `must be an IAM role or user ARN, got ${JSON.stringify(a)}`,
      });
  });
  if (args.clusterName !== undefined && !/^[a-zA-Z][a-zA-Z0-9-_]{0,99}$/.test(args.clusterName)) {
    errors.push({
      propertyPath: "clusterName",
      reason: `must be 1-100 letters, digits, - and _, starting with a letter, got ${JSON.stringify(args.clusterName)}`,
    });
  }
  return errors;
}

/**
 * How a deployer reaches the cluster API. The same program that creates the cluster deploys
 * Kubernetes objects (Helm releases, the model cache) from wherever `pulumi up` runs. With public
 * access off, "your cluster's Kubernetes API server can only receive requests from within the
 * cluster VPC" (EKS API reference, VpcConfigRequest.endpointPublicAccess), and EKS's cluster
 * security group admits only itself; a deployer in the VPC or a connected network needs a 443 rule
 * (https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html, "Cluster private
 * endpoint"). Empty when there is no way in.
 */
export function apiAccessPaths(
  args: Pick<
    GpuClusterArgs,
    "publicAccessCidrs" | "privateAccessCidrs" | "privateAccessSecurityGroupIds"
  >,
): string[] {
  return [
    ...(args.publicAccessCidrs ?? []).map((c) => `public endpoint from ${c}`),
    ...(args.privateAccessCidrs ?? []).map((c) => `private endpoint from ${c}`),
    ...(args.privateAccessSecurityGroupIds ?? []).map((g) => `private endpoint from ${g}`),
  ];
}

/** EKS access entries granting cluster-admin to each principal. */
export function adminAccessEntries(
  principals: string[],
): Record<string, eks.types.input.AccessEntryArgs> {
  return Object.fromEntries(
    principals.map((principalArn, i) => [
      `admin-${i}`,
      {
        principalArn,
        accessPolicies: {
          admin: {
            policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
            accessScope: { type: "cluster" },
          },
        },
      },
    ]),
  );
}

/**
 * An EKS cluster for inference: private API endpoint (public only to listed CIDRs), secrets
 * encrypted with KMS, control-plane logs, API access entries for admins, a node role, a small
 * system node group for add-ons, the EKS Pod Identity agent, and a Kubernetes provider for the
 * components that deploy into it.
 */
export class GpuCluster extends pulumi.ComponentResource {
  /** The EKS cluster's name. */
  public readonly clusterName: string;
  /** The EKS cluster's ARN. */
  public readonly clusterArn: pulumi.Output<string>;
  /** The Kubernetes version of the control plane (`1.35`). */
  public readonly kubernetesVersion: string;
  /** The IAM role every managed node group's instances use. */
  public readonly nodeRoleArn: pulumi.Output<string>;
  /** The security group EKS attaches to the control plane and to managed nodes. */
  public readonly clusterSecurityGroupId: pulumi.Output<string>;
  /** A kubeconfig for the cluster, as a JSON string. */
  public readonly kubeconfigJson: pulumi.Output<string>;
  /** The Kubernetes provider of this cluster (pass it in `opts.providers`). */
  public readonly provider: k8s.Provider;
  /** The Pod Identity agent: workload roles depend on it. */
  public readonly podIdentityAgent: aws.eks.Addon;
  /** The Auto Scaling group of the node group the cluster's own add-ons run on. */
  public readonly systemAutoScalingGroupName: pulumi.Output<string>;
  /** The fewest nodes of the system node group. */
  public readonly systemMinSize: number;
  /** The nodes the system node group starts with. */
  public readonly systemDesiredSize: number;
  /** The most nodes of the system node group. */
  public readonly systemMaxSize: number;

  constructor(name: string, args: GpuClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    // Validate before anything is registered: bad input fails at preview, naming the field.
    throwIfInvalid("GpuCluster", name, validateGpuClusterArgs(args));
    super("llm-infra:index:GpuCluster", name, {}, opts);
    const tags = args.tags;
    const clusterName =
      args.clusterName ??
      `${pulumi.getProject()}-${pulumi.getStack()}-${name}`
        .replace(/[^a-zA-Z0-9-_]/g, "-")
        .slice(0, 100);
    this.clusterName = clusterName;
    this.kubernetesVersion = args.kubernetesVersion ?? DEFAULT_KUBERNETES_VERSION;
    const publicCidrs = args.publicAccessCidrs ?? [];

    const secretsKey = new aws.kms.Key(
      `${name}-secrets`,
      {
        description: `Kubernetes secrets of ${clusterName}`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        tags,
      },
      { parent: this },
    );

    const cluster = new eks.Cluster(
      `${name}-cluster`,
      {
        name: clusterName,
        version: this.kubernetesVersion,
        vpcId: args.vpcId,
        privateSubnetIds: args.privateSubnetIds,
        endpointPrivateAccess: true,
        endpointPublicAccess: publicCidrs.length > 0,
        publicAccessCidrs: publicCidrs.length > 0 ? publicCidrs : undefined,
        encryptionConfigKeyArn: secretsKey.arn,
        enabledClusterLogTypes: CONTROL_PLANE_LOGS,
        authenticationMode: "API",
        accessEntries: adminAccessEntries(args.adminPrincipalArns ?? []),
        skipDefaultNodeGroup: true,
        // Managed node groups use the security group EKS creates; no self-managed node groups here.
        skipDefaultSecurityGroups: true,
        createOidcProvider: false,
        nodeAssociatePublicIpAddress: false,
        tags,
      },
      { parent: this },
    );
    this.clusterSecurityGroupId = cluster.eksCluster.vpcConfig.clusterSecurityGroupId;
    this.clusterArn = cluster.eksCluster.arn;
    this.kubeconfigJson = cluster.kubeconfigJson;

    // An in-VPC deployer reaches the private endpoint through the cluster security group.
    const apiRule = (
      role: string,
      source: { cidrBlocks: string[] } | { sourceSecurityGroupId: string },
    ) =>
      new aws.ec2.SecurityGroupRule(
        `${name}-api-from-${role}`,
        {
          type: "ingress",
          protocol: "tcp",
          fromPort: 443,
          toPort: 443,
          securityGroupId: this.clusterSecurityGroupId,
          description: "Kubernetes API from the deployer",
          ...source,
        },
        { parent: this },
      );
    const apiRules = [
      ...(args.privateAccessCidrs ?? []).map((c, i) => apiRule(`cidr-${i}`, { cidrBlocks: [c] })),
      ...(args.privateAccessSecurityGroupIds ?? []).map((g, i) =>
        apiRule(`sg-${i}`, { sourceSecurityGroupId: g }),
      ),
    ];

    const nodeRole = serviceRole(
      `${name}-nodes`,
      "ec2.amazonaws.com",
      `EKS nodes of ${clusterName}`,
      tags,
      this,
    );
    for (const arn of WORKER_POLICIES) {
      new aws.iam.RolePolicyAttachment(
        `${name}-nodes-${arn.split("/").pop()}`,
        { role: nodeRole.name, policyArn: arn },
        { parent: this },
      );
    }
    this.nodeRoleArn = nodeRole.arn;

    const system = new AcceleratorNodeGroup(
      `${name}-system`,
      {
        clusterName,
        nodeRoleArn: nodeRole.arn,
        subnetIds: args.privateSubnetIds,
        instanceTypes: [args.systemInstanceType ?? "m6i.large"],
        minSize: 1,
        desiredSize: args.systemNodeCount ?? 2,
        maxSize: Math.max(4, args.systemNodeCount ?? 2),
        rootVolumeGib: 50,
        workloadType: "system",
        tags,
      },
      { parent: this, dependsOn: [cluster] },
    );

    this.systemAutoScalingGroupName = system.autoScalingGroupName;
    this.systemMinSize = system.minSize;
    this.systemDesiredSize = system.desiredSize;
    this.systemMaxSize = system.maxSize;

    this.podIdentityAgent = new aws.eks.Addon(
      `${name}-pod-identity`,
      { clusterName, addonName: "eks-pod-identity-agent", tags },
      { parent: this, dependsOn: [cluster] },
    );

    this.provider = new k8s.Provider(
      `${name}-k8s`,
      { kubeconfig: cluster.kubeconfigJson, enableServerSideApply: true },
      // Every Kubernetes object waits for the deployer's way in to the API.
      { parent: this, dependsOn: apiRules },
    );

    this.registerOutputs({
      clusterName,
      nodeRoleArn: this.nodeRoleArn,
      clusterSecurityGroupId: this.clusterSecurityGroupId,
      kubeconfigJson: this.kubeconfigJson,
    });
  }
}
