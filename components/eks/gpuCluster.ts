import * as aws from "@pulumi/aws";
import * as eks from "@pulumi/eks";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_KUBERNETES_VERSION, EKS_KUBERNETES_VERSIONS } from "../../catalog/kubernetes";
import { Tags, withTags } from "../tags";
import { serviceRole } from "../trust";
import { ipv4CidrProblem } from "../../catalog/awsLimits";
import { findInstance } from "../../catalog/instances";
import { ArgError, checkIntegerRange, checkOneOf, throwIfInvalid } from "../validation";
import { AcceleratorNodeGroup } from "./acceleratorNodeGroup";
import { autoModeNodeClassSpec, poolSpec } from "./gpuNodePool";
import {
  AUTO_MODE_SYSTEM_POOL,
  BUILTIN_NODE_POOLS,
  BuiltinNodePool,
  NODE_COUNT_ANNOTATION,
} from "../../catalog/karpenter";

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
  /**
   * How `npm run deploy` reaches a private API. `deployerAddress`: the deploy admits the egress
   * address of the machine it runs on (`deployerCidrs`) to the public endpoint while it deploys the
   * Kubernetes objects, then updates the cluster back to private; the cluster is tagged
   * `deployer-access: deployer-address` so the reachability check knows. `none`: only the CIDR
   * and security group lists above admit a deployer.
   * @default "none"
   */
  deployerAccess?: DeployerAccess;
  /**
   * With `deployerAccess: deployerAddress`, the CIDRs admitted to the public endpoint for this
   * update (the deploy passes its own address as LLM_INFRA_DEPLOYER_CIDRS); empty outside a
   * deploy, so the steady state is private. Never 0.0.0.0/0.
   * @default []
   */
  deployerCidrs?: string[];
  /** IAM principals (role ARNs) given cluster-admin through access entries. */
  adminPrincipalArns?: string[];
  /** The system node group's instance type (cluster add-ons run there). @default "m6i.large" */
  systemInstanceType?: string;
  /** System nodes. @default 2 */
  systemNodeCount?: number;
  /**
   * The system node group carries the Cluster Autoscaler's tags. Off where Karpenter adds the
   * cluster's capacity and no autoscaler runs.
   * @default true
   */
  systemAutoscaled?: boolean;
  /** The cluster's name (unique per account and region). @default `<project>-<stack>-<name>` */
  clusterName?: string;
  /**
   * EKS Auto Mode: AWS runs the cluster's compute, CoreDNS, kube-proxy, the VPC CNI, the EBS CSI
   * driver, the Pod Identity agent, the device plugins and the load balancer controller. The
   * system node group gives way to an Auto Mode NodePool (`llm-infra-system`) of
   * `systemInstanceType`, on-demand, labelled `workload-type=system`; the node role is Auto
   * Mode's (the minimal worker and ECR pull-only policies) with an `EC2` access entry.
   * `builtinNodePools` keeps AWS's own `system` and `general-purpose` pools as well.
   */
  autoMode?: AutoModeArgs;
  /** Tags for every AWS resource. */
  tags?: Tags;
}

/** EKS Auto Mode settings of a cluster (GpuClusterArgs.autoMode). */
export interface AutoModeArgs {
  /** AWS's own node pools to keep beside ours: `system`, `general-purpose`. @default [] */
  builtinNodePools?: BuiltinNodePool[];
}

export const DeployerAccess = { None: "none", DeployerAddress: "deployerAddress" } as const;
export type DeployerAccess = (typeof DeployerAccess)[keyof typeof DeployerAccess];

/** The tag that marks a cluster whose deploy admits its own address (read by the reachability check). */
export const DEPLOYER_ACCESS_TAG = { key: "deployer-access", value: "deployer-address" } as const;

export const CONTROL_PLANE_LOGS = [
  "api",
  "audit",
  "authenticator",
  "controllerManager",
  "scheduler",
];
/** The Auto Mode node role's policies (auto-create-node-role.adoc). */
const AUTO_MODE_NODE_POLICIES = [
  "arn:aws:iam::aws:policy/AmazonEKSWorkerNodeMinimalPolicy",
  "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
];
/** What an Auto Mode node role's `EC2` access entry is granted (create-node-class.adoc). */
export const AUTO_NODE_ACCESS_POLICY =
  "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAutoNodePolicy";
/** The ALB IngressClass (and its params) of an Auto Mode cluster. */
export const AUTO_MODE_INGRESS_CLASS = "llm-infra-alb";
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
  if (
    args.deployerAccess !== undefined &&
    !(Object.values(DeployerAccess) as string[]).includes(args.deployerAccess)
  )
    errors.push({
      propertyPath: "deployerAccess",
      reason: `must be one of ${Object.values(DeployerAccess).join(", ")}, got ${JSON.stringify(args.deployerAccess)}`,
    });
  if ((args.deployerCidrs ?? []).length > 0 && args.deployerAccess !== "deployerAddress")
    errors.push({
      propertyPath: "deployerCidrs",
      reason: "is set by the deploy only where deployerAccess is deployerAddress",
    });
  for (const key of ["publicAccessCidrs", "privateAccessCidrs", "deployerCidrs"] as const) {
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
  (args.autoMode?.builtinNodePools ?? []).forEach((p, i) =>
    checkOneOf(errors, `autoMode.builtinNodePools[${i}]`, p, BUILTIN_NODE_POOLS),
  );
  if (args.autoMode && args.systemAutoscaled)
    errors.push({
      propertyPath: "systemAutoscaled",
      reason: "must not be set with autoMode: Auto Mode scales its node pools itself",
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
    "publicAccessCidrs" | "privateAccessCidrs" | "privateAccessSecurityGroupIds" | "deployerAccess"
  >,
): string[] {
  return [
    ...(args.deployerAccess === "deployerAddress"
      ? ["public endpoint from the deployer's address while `npm run deploy` runs"]
      : []),
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

/** `<project>-<stack>-<name>` as an EKS cluster name: letters, digits, - and _, at most 100. */
export function defaultClusterName(project: string, stack: string, name: string): string {
  return `${project}-${stack}-${name}`.replace(/[^a-zA-Z0-9-_]/g, "-").slice(0, 100);
}

/** The system node group's bounds: at least one node, room to grow to four. */
export function systemNodeGroupSizes(systemNodeCount: number | undefined): {
  minSize: number;
  desiredSize: number;
  maxSize: number;
} {
  const desiredSize = systemNodeCount ?? 2;
  return { minSize: 1, desiredSize, maxSize: Math.max(4, desiredSize) };
}

/** What a cluster is, decided from its arguments before any resource exists. */
export interface GpuClusterSettings {
  /** The cluster's name: given, or `<project>-<stack>-<name>`. */
  clusterName: string;
  kubernetesVersion: string;
  /** CIDRs admitted to the public endpoint (none: the endpoint is private only). */
  publicCidrs: string[];
  /** The cluster's tags: the stack's, and the deployer-access marker where the deploy opens it. */
  clusterTags: Tags | undefined;
  systemInstanceType: string;
  systemSizes: { minSize: number; desiredSize: number; maxSize: number };
}

/** The settings of cluster `name` of stack `stack` in project `project`. */
export function gpuClusterSettings(
  name: string,
  args: GpuClusterArgs,
  project: string,
  stack: string,
): GpuClusterSettings {
  return {
    clusterName: args.clusterName ?? defaultClusterName(project, stack, name),
    kubernetesVersion: args.kubernetesVersion ?? DEFAULT_KUBERNETES_VERSION,
    publicCidrs: [
      ...(args.publicAccessCidrs ?? []),
      ...(args.deployerAccess === "deployerAddress" ? (args.deployerCidrs ?? []) : []),
    ],
    clusterTags:
      args.deployerAccess === "deployerAddress"
        ? withTags(args.tags, { [DEPLOYER_ACCESS_TAG.key]: DEPLOYER_ACCESS_TAG.value })
        : args.tags,
    systemInstanceType: args.systemInstanceType ?? "m6i.large",
    systemSizes: systemNodeGroupSizes(args.systemNodeCount),
  };
}

/**
 * The in-VPC deployer's ways in to the private endpoint, each the name part of its 443 rule and
 * the rule's source: `cidr-<i>` per CIDR, then `sg-<i>` per security group.
 */
export function apiAccessRuleSources(
  args: Pick<GpuClusterArgs, "privateAccessCidrs" | "privateAccessSecurityGroupIds">,
): { role: string; source: { cidrBlocks: string[] } | { sourceSecurityGroupId: string } }[] {
  return [
    ...(args.privateAccessCidrs ?? []).map((c, i) => ({
      role: `cidr-${i}`,
      source: { cidrBlocks: [c] },
    })),
    ...(args.privateAccessSecurityGroupIds ?? []).map((g, i) => ({
      role: `sg-${i}`,
      source: { sourceSecurityGroupId: g },
    })),
  ];
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
  /** The IAM role every managed node group's (or Auto Mode node pool's) instances use. */
  public readonly nodeRoleArn: pulumi.Output<string>;
  /** The node role's name. */
  public readonly nodeRoleName: pulumi.Output<string>;
  /** The security group EKS attaches to the control plane and to managed nodes. */
  public readonly clusterSecurityGroupId: pulumi.Output<string>;
  /** A kubeconfig for the cluster, as a JSON string. */
  public readonly kubeconfigJson: pulumi.Output<string>;
  /** The Kubernetes provider of this cluster (pass it in `opts.providers`). */
  public readonly provider: k8s.Provider;
  /** The Pod Identity agent: workload roles depend on it (built in under Auto Mode). */
  public readonly podIdentityAgent?: aws.eks.Addon;
  /**
   * Under Auto Mode, the IngressClass of its load balancing (controller eks.amazonaws.com/alb)
   * that an ALB ingress names; absent otherwise (the load balancer controller's is `alb`).
   */
  public readonly ingressClassName?: string;
  /** The Auto Scaling group of the node group the cluster's own add-ons run on (none under Auto Mode). */
  public readonly systemAutoScalingGroupName?: pulumi.Output<string>;
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
    const ctx = this.context(name, args);
    this.clusterName = ctx.settings.clusterName;
    this.kubernetesVersion = ctx.settings.kubernetesVersion;

    const secretsKey = this.createSecretsKey(ctx);
    // Auto Mode names its node role in the cluster's compute config: the role comes first.
    const autoNodeRole = args.autoMode
      ? this.createNodeRole(ctx, "auto-nodes", AUTO_MODE_NODE_POLICIES)
      : undefined;
    const cluster = this.createCluster(ctx, secretsKey, autoNodeRole);
    this.clusterSecurityGroupId = cluster.eksCluster.vpcConfig.clusterSecurityGroupId;
    this.clusterArn = cluster.eksCluster.arn;
    this.kubeconfigJson = cluster.kubeconfigJson;
    const apiRules = this.createApiAccessRules(ctx, this.clusterSecurityGroupId);
    const { minSize, desiredSize, maxSize } = ctx.settings.systemSizes;
    this.systemMinSize = minSize;
    this.systemDesiredSize = desiredSize;
    this.systemMaxSize = maxSize;

    if (autoNodeRole) {
      this.nodeRoleArn = autoNodeRole.arn;
      this.nodeRoleName = autoNodeRole.name;
      const access = this.createAutoModeAccessEntry(ctx, autoNodeRole, cluster);
      this.provider = this.createProvider(ctx, cluster, apiRules);
      this.createAutoModeSystemPool(ctx, autoNodeRole, cluster, access);
      this.ingressClassName = this.createAutoModeIngressClass(ctx, cluster);
    } else {
      const nodeRole = this.createNodeRole(ctx, "nodes", WORKER_POLICIES);
      this.nodeRoleArn = nodeRole.arn;
      this.nodeRoleName = nodeRole.name;
      const system = this.createSystemNodeGroup(ctx, nodeRole, cluster);
      this.systemAutoScalingGroupName = system.autoScalingGroupName;
      this.podIdentityAgent = this.createPodIdentityAgent(ctx, cluster);
      this.provider = this.createProvider(ctx, cluster, apiRules);
    }

    this.registerOutputs({
      clusterName: this.clusterName,
      nodeRoleArn: this.nodeRoleArn,
      clusterSecurityGroupId: this.clusterSecurityGroupId,
      kubeconfigJson: this.kubeconfigJson,
    });
  }

  /** The cluster's arguments, its settings and the options its children share. */
  private context(name: string, args: GpuClusterArgs): ClusterContext {
    return {
      name,
      args,
      tags: args.tags,
      child: { parent: this },
      settings: gpuClusterSettings(name, args, pulumi.getProject(), pulumi.getStack()),
    };
  }

  /** The KMS key (rotated yearly) that encrypts the cluster's Kubernetes secrets. */
  private createSecretsKey(ctx: ClusterContext): aws.kms.Key {
    return new aws.kms.Key(
      `${ctx.name}-secrets`,
      {
        description: `Kubernetes secrets of ${ctx.settings.clusterName}`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        tags: ctx.tags,
      },
      ctx.child,
    );
  }

  /**
   * The EKS cluster: private API endpoint (public only to the CIDRs listed), secrets encrypted
   * with the key, control-plane logs, API access entries for the admins, no default node group.
   */
  private createCluster(
    ctx: ClusterContext,
    secretsKey: aws.kms.Key,
    autoNodeRole: aws.iam.Role | undefined,
  ): eks.Cluster {
    const { name, args, child } = ctx;
    const builtins = args.autoMode?.builtinNodePools ?? [];
    const { clusterName, kubernetesVersion, publicCidrs, clusterTags } = ctx.settings;
    return new eks.Cluster(
      `${name}-cluster`,
      {
        name: clusterName,
        version: kubernetesVersion,
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
        ...(autoNodeRole
          ? {
              // Our own node role and pools. EKS refuses a compute config with a node role and no
              // built-in pools ("When Compute Config nodeRoleArn is not null or empty, nodePool
              // value(s) must be provided", aws-cdk#33894), so the role is named only with them.
              autoMode: {
                enabled: true,
                createNodeRole: false,
                computeConfig: {
                  nodePools: builtins,
                  ...(builtins.length > 0 ? { nodeRoleArn: autoNodeRole.arn } : {}),
                },
              },
              // @pulumi/eks 4.3 skips vpc-cni and kube-proxy under Auto Mode but not CoreDNS,
              // which Auto Mode runs itself (eks-add-ons.adoc, "Considerations for Amazon EKS
              // Auto Mode").
              corednsAddonOptions: { enabled: false },
            }
          : {}),
        tags: clusterTags,
      },
      child,
    );
  }

  /**
   * The node role's way into the cluster: an `EC2` access entry with AmazonEKSAutoNodePolicy, which
   * EKS creates itself only for the built-in pools' role ("If you create a custom node class, you
   * need to create an EKS Access Entry ... use the `EC2` access entry type", create-node-class.adoc).
   * With built-in pools kept, EKS's entry for the same role is the one; none is created here.
   */
  private createAutoModeAccessEntry(
    ctx: ClusterContext,
    nodeRole: aws.iam.Role,
    cluster: eks.Cluster,
  ): pulumi.Resource[] {
    if ((ctx.args.autoMode?.builtinNodePools ?? []).length > 0) return [];
    const clusterName = ctx.settings.clusterName;
    const entry = new aws.eks.AccessEntry(
      `${ctx.name}-auto-nodes`,
      { clusterName, principalArn: nodeRole.arn, type: "EC2", tags: ctx.tags },
      { ...ctx.child, dependsOn: [cluster] },
    );
    const policy = new aws.eks.AccessPolicyAssociation(
      `${ctx.name}-auto-nodes`,
      {
        clusterName,
        principalArn: nodeRole.arn,
        policyArn: AUTO_NODE_ACCESS_POLICY,
        accessScope: { type: "cluster" },
      },
      { ...ctx.child, dependsOn: [entry] },
    );
    return [entry, policy];
  }

  /**
   * Under Auto Mode, where the cluster's add-ons run: a node class and NodePool of
   * `systemInstanceType`, on-demand, labelled `workload-type=system` (the add-ons' node selector)
   * without a taint, at most the system group's most nodes, consolidated one node at a time. The
   * pool's `llm-infra/nodes` annotation gives the cost estimate its nodes (min/desired/max).
   */
  private createAutoModeSystemPool(
    ctx: ClusterContext,
    nodeRole: aws.iam.Role,
    cluster: eks.Cluster,
    access: pulumi.Resource[],
  ): void {
    const { systemInstanceType, systemSizes } = ctx.settings;
    const opts = { parent: this, provider: this.provider, dependsOn: [cluster, ...access] };
    const nodeClass = new k8s.apiextensions.CustomResource(
      `${ctx.name}-system-class`,
      {
        apiVersion: "eks.amazonaws.com/v1",
        kind: "NodeClass",
        metadata: { name: AUTO_MODE_SYSTEM_POOL },
        spec: pulumi
          .all([
            nodeRole.name,
            ctx.args.privateSubnetIds,
            this.clusterSecurityGroupId,
            pulumi.output(ctx.tags),
          ])
          .apply(([roleName, subnetIds, sg, tags]) =>
            autoModeNodeClassSpec({
              roleName,
              subnetIds,
              securityGroupIds: [sg],
              rootVolumeGib: 50,
              tags,
            }),
          ),
      },
      opts,
    );
    const vcpus = findInstance(systemInstanceType)?.vcpus ?? 2;
    new k8s.apiextensions.CustomResource(
      `${ctx.name}-system-pool`,
      {
        apiVersion: "karpenter.sh/v1",
        kind: "NodePool",
        metadata: {
          name: AUTO_MODE_SYSTEM_POOL,
          annotations: {
            [NODE_COUNT_ANNOTATION]: `${systemSizes.minSize}/${systemSizes.desiredSize}/${systemSizes.maxSize}`,
          },
        },
        spec: poolSpec({
          autoMode: true,
          nodeClassName: AUTO_MODE_SYSTEM_POOL,
          instanceTypes: [systemInstanceType],
          capacity: ["on-demand"],
          labels: { "workload-type": "system" },
          taints: [],
          limits: { cpu: String(vcpus * systemSizes.maxSize) },
          consolidateAfter: "10m",
          terminationGracePeriod: "24h",
        }),
      },
      { ...opts, dependsOn: [...opts.dependsOn, nodeClass] },
    );
  }

  /**
   * Auto Mode's ALB ingress class: an IngressClass whose controller is `eks.amazonaws.com/alb`,
   * with parameters `apiGroup: eks.amazonaws.com, kind: IngressClassParams` (auto-configure-alb.adoc,
   * the class and params it has you create; Auto Mode creates none). The params set nothing: the
   * ingress's own annotations choose the scheme, listeners and health check (the page's table of
   * unsupported annotations names none the Triton chart sets), and the ALB finds its subnets by
   * their `kubernetes.io/role/internal-elb` and `kubernetes.io/role/elb` tags.
   */
  private createAutoModeIngressClass(ctx: ClusterContext, cluster: eks.Cluster): string {
    const opts = { parent: this, provider: this.provider, dependsOn: [cluster] };
    const params = new k8s.apiextensions.CustomResource(
      `${ctx.name}-alb-params`,
      {
        apiVersion: "eks.amazonaws.com/v1",
        kind: "IngressClassParams",
        metadata: { name: AUTO_MODE_INGRESS_CLASS },
        spec: {},
      },
      opts,
    );
    new k8s.networking.v1.IngressClass(
      `${ctx.name}-alb-class`,
      {
        metadata: { name: AUTO_MODE_INGRESS_CLASS },
        spec: {
          controller: "eks.amazonaws.com/alb",
          parameters: {
            apiGroup: "eks.amazonaws.com",
            kind: "IngressClassParams",
            name: AUTO_MODE_INGRESS_CLASS,
          },
        },
      },
      { ...opts, dependsOn: [cluster, params] },
    );
    return AUTO_MODE_INGRESS_CLASS;
  }

  /**
   * The 443 rules on the cluster security group through which an in-VPC deployer reaches the
   * private endpoint: one per CIDR and one per security group given.
   */
  private createApiAccessRules(
    ctx: ClusterContext,
    clusterSecurityGroupId: pulumi.Output<string>,
  ): aws.ec2.SecurityGroupRule[] {
    return apiAccessRuleSources(ctx.args).map(
      ({ role, source }) =>
        new aws.ec2.SecurityGroupRule(
          `${ctx.name}-api-from-${role}`,
          {
            type: "ingress",
            protocol: "tcp",
            fromPort: 443,
            toPort: 443,
            securityGroupId: clusterSecurityGroupId,
            description: "Kubernetes API from the deployer",
            ...source,
          },
          ctx.child,
        ),
    );
  }

  /**
   * A role EKS nodes run as, trusted by EC2, with these managed policies: for managed node groups
   * the EKS worker, CNI, ECR read-only and Session Manager policies (`<name>-nodes`); under Auto
   * Mode AmazonEKSWorkerNodeMinimalPolicy and AmazonEC2ContainerRegistryPullOnly
   * (`<name>-auto-nodes`; auto-create-node-role.adoc: "Before you create nodes, you must create an
   * IAM role with the following policies").
   */
  private createNodeRole(
    ctx: ClusterContext,
    role: "nodes" | "auto-nodes",
    policies: readonly string[],
  ): aws.iam.Role {
    const { name, tags, child } = ctx;
    const nodeRole = serviceRole(
      `${name}-${role}`,
      "ec2.amazonaws.com",
      `${role === "auto-nodes" ? "EKS Auto Mode nodes" : "EKS nodes"} of ${ctx.settings.clusterName}`,
      tags,
      this,
    );
    for (const arn of policies) {
      new aws.iam.RolePolicyAttachment(
        `${name}-${role}-${arn.split("/").pop()}`,
        { role: nodeRole.name, policyArn: arn },
        child,
      );
    }
    return nodeRole;
  }

  /** The small system node group the cluster's add-ons run on, created once the cluster exists. */
  private createSystemNodeGroup(
    ctx: ClusterContext,
    nodeRole: aws.iam.Role,
    cluster: eks.Cluster,
  ): AcceleratorNodeGroup {
    const { name, args, tags, child } = ctx;
    const { clusterName, systemInstanceType, systemSizes } = ctx.settings;
    return new AcceleratorNodeGroup(
      `${name}-system`,
      {
        clusterName,
        nodeRoleArn: nodeRole.arn,
        subnetIds: args.privateSubnetIds,
        instanceTypes: [systemInstanceType],
        ...systemSizes,
        rootVolumeGib: 50,
        workloadType: "system",
        autoscaled: args.systemAutoscaled,
        tags,
      },
      { ...child, dependsOn: [cluster] },
    );
  }

  /** The EKS Pod Identity agent add-on: workload roles get their credentials through it. */
  private createPodIdentityAgent(ctx: ClusterContext, cluster: eks.Cluster): aws.eks.Addon {
    return new aws.eks.Addon(
      `${ctx.name}-pod-identity`,
      {
        clusterName: ctx.settings.clusterName,
        addonName: "eks-pod-identity-agent",
        tags: ctx.tags,
      },
      { ...ctx.child, dependsOn: [cluster] },
    );
  }

  /** The Kubernetes provider of the cluster, for the components that deploy into it. */
  private createProvider(
    ctx: ClusterContext,
    cluster: eks.Cluster,
    apiRules: aws.ec2.SecurityGroupRule[],
  ): k8s.Provider {
    return new k8s.Provider(
      `${ctx.name}-k8s`,
      { kubeconfig: cluster.kubeconfigJson, enableServerSideApply: true },
      // Every Kubernetes object waits for the deployer's way in to the API.
      { ...ctx.child, dependsOn: apiRules },
    );
  }
}

/** The values the cluster's resources share. */
interface ClusterContext {
  name: string;
  args: GpuClusterArgs;
  tags: Tags | undefined;
  child: pulumi.CustomResourceOptions;
  settings: GpuClusterSettings;
}
