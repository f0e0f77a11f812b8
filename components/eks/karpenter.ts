import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  INTERRUPTION_QUEUE,
  INTERRUPTION_RULES,
  KARPENTER_CHART,
  KARPENTER_CRD_CHART,
  KARPENTER_SERVICE_ACCOUNT,
} from "../../catalog/karpenter";
import { Tags } from "../tags";
import { partitionOf, serviceRole } from "../trust";
import { ArgError, checkIntegerRange, throwIfInvalid } from "../validation";
import { interruptionQueuePolicy, karpenterControllerPolicy } from "./addonPolicies";
import { workloadRole } from "./podIdentity";

export interface KarpenterArgs {
  /** The EKS cluster's name (GpuCluster.clusterName). */
  clusterName: string;
  /** The cluster's region. */
  region: string;
  /** The private subnets Karpenter's nodes launch in: tagged for its discovery. */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** How many subnets `subnetIds` holds (one discovery tag each). */
  subnetCount: number;
  /** The cluster security group (GpuCluster.clusterSecurityGroupId): tagged for its discovery. */
  clusterSecurityGroupId: pulumi.Input<string>;
  /**
   * Controller replicas. The chart keeps two replicas off one node (a required pod anti-affinity
   * on the hostname), so more replicas than system nodes leaves one pending.
   * @default 2
   */
  replicas?: number;
  /** Tags for every AWS resource. */
  tags?: Tags;
}

export function validateKarpenterArgs(args: KarpenterArgs): ArgError[] {
  const errors: ArgError[] = [];
  checkIntegerRange(errors, "subnetCount", args.subnetCount, 1, 16);
  checkIntegerRange(errors, "replicas", args.replicas, 1, 3);
  return errors;
}

/** The tag Karpenter's node classes select subnets and security groups by. */
export const DISCOVERY_TAG = "karpenter.sh/discovery";

/**
 * The policies Karpenter's getting-started template gives its node role (KarpenterNodeRole:
 * AmazonEKS_CNI_Policy, AmazonEKSWorkerNodePolicy, AmazonEC2ContainerRegistryPullOnly,
 * AmazonSSMManagedInstanceCore).
 */
export const KARPENTER_NODE_POLICIES = [
  "AmazonEKS_CNI_Policy",
  "AmazonEKSWorkerNodePolicy",
  "AmazonEC2ContainerRegistryPullOnly",
  "AmazonSSMManagedInstanceCore",
];

/**
 * The controller's chart values: the cluster and queue it works for, the service account Pod
 * Identity associates its role with, and the resources the getting-started guide gives it
 * (step08-apply-helm-chart.sh: `controller.resources.requests.cpu=1`, `requests.memory=1Gi`,
 * `limits.cpu=1`, `limits.memory=1Gi`). It runs on the system nodes: the chart's default affinity
 * already keeps it off nodes it launched (`karpenter.sh/nodepool DoesNotExist`).
 */
export function karpenterValues(clusterName: string, queueName: string, replicas: number) {
  return {
    settings: { clusterName, interruptionQueue: queueName },
    serviceAccount: { create: true, name: KARPENTER_SERVICE_ACCOUNT },
    replicas,
    nodeSelector: { "kubernetes.io/os": "linux", "workload-type": "system" },
    controller: {
      resources: {
        requests: { cpu: "1", memory: "1Gi" },
        limits: { cpu: "1", memory: "1Gi" },
      },
    },
  };
}

/**
 * The queue's name: the cluster's, as the template names it (`QueueName: !Sub "${ClusterName}"`),
 * cut to the 80 characters SQS allows ("A queue name can have up to 80 characters", CreateQueue,
 * Amazon SQS API Reference).
 */
export function interruptionQueueName(clusterName: string): string {
  return clusterName.slice(0, 80);
}

/**
 * Karpenter for an EKS cluster: the role its nodes run as (with an EC2_LINUX access entry so they
 * join), the discovery tags on the nodes' subnets and the cluster security group, the interruption
 * queue with the EventBridge rules that feed it, the controller's Pod Identity role, and the
 * CRDs and the controller from their pinned charts. Node pools are `GpuNodePool`s, created after
 * this.
 */
export class Karpenter extends pulumi.ComponentResource {
  /** The role Karpenter's nodes run as. */
  public readonly nodeRoleName: pulumi.Output<string>;
  /** The interruption queue's name (the chart's `settings.interruptionQueue`). */
  public readonly queueName: pulumi.Output<string>;
  /** The controller release: node pools wait for its CRDs. */
  public readonly release: k8s.helm.v3.Release;

  constructor(name: string, args: KarpenterArgs, opts?: pulumi.ComponentResourceOptions) {
    throwIfInvalid("Karpenter", name, validateKarpenterArgs(args));
    super("llm-infra:index:Karpenter", name, {}, opts);
    const child = { parent: this };

    const nodeRole = this.createNodeRole(name, args);
    this.nodeRoleName = nodeRole.name;
    const nodeAccess = new aws.eks.AccessEntry(
      `${name}-nodes`,
      {
        clusterName: args.clusterName,
        principalArn: nodeRole.arn,
        // Karpenter's nodes are self-managed to EKS: "`EC2_Linux` (for an IAM role used with Linux or
        // Bottlerocket self-managed nodes)"; a managed node group's role gets its entry from EKS,
        // so the nodes have a role of their own (awsdocs/amazon-eks-user-guide latest/ug/
        // manage-access/k8s-access/grant-k8s-access.adoc).
        type: "EC2_LINUX",
        tags: args.tags,
      },
      child,
    );
    const discovery = this.tagForDiscovery(name, args);
    const queue = this.createInterruptionQueue(name, args);
    this.queueName = queue.name;

    this.release = this.createController(name, args, nodeRole, queue, [nodeAccess, ...discovery]);
    this.registerOutputs({ nodeRoleName: this.nodeRoleName, queueName: this.queueName });
  }

  /**
   * The controller: its Pod Identity role with the published policies, the CRD chart, and the
   * controller chart, which starts once its CRDs, credentials, queue and nodes' way in exist.
   */
  private createController(
    name: string,
    args: KarpenterArgs,
    nodeRole: aws.iam.Role,
    queue: aws.sqs.Queue,
    ready: pulumi.Resource[],
  ): k8s.helm.v3.Release {
    const child = { parent: this };
    const accountId = aws.getCallerIdentityOutput({}, child).accountId;
    const controller = workloadRole(
      `${name}-controller`,
      {
        clusterName: args.clusterName,
        namespace: KARPENTER_CHART.namespace,
        serviceAccount: KARPENTER_SERVICE_ACCOUNT,
        policy: pulumi.all([accountId, nodeRole.arn, queue.arn]).apply(([id, nodeRoleArn, arn]) =>
          JSON.stringify(
            karpenterControllerPolicy({
              partition: partitionOf(args.region),
              region: args.region,
              accountId: id,
              clusterName: args.clusterName,
              nodeRoleArn,
              queueArn: arn,
            }),
          ),
        ),
        tags: args.tags,
      },
      this,
    );

    // The CRDs from their own chart, so an upgrade of Karpenter upgrades them too.
    const crds = new k8s.helm.v3.Release(
      `${name}-crds`,
      {
        chart: KARPENTER_CRD_CHART.chart,
        version: KARPENTER_CRD_CHART.version,
        namespace: KARPENTER_CRD_CHART.namespace,
        atomic: true,
        cleanupOnFail: true,
      },
      child,
    );
    return new k8s.helm.v3.Release(
      `${name}-controller`,
      {
        chart: KARPENTER_CHART.chart,
        version: KARPENTER_CHART.version,
        namespace: KARPENTER_CHART.namespace,
        skipCrds: true,
        values: queue.name.apply((q) => karpenterValues(args.clusterName, q, args.replicas ?? 2)),
        atomic: true,
        cleanupOnFail: true,
      },
      // The controller starts with its CRDs, its credentials, its queue and its nodes' way in.
      { ...child, dependsOn: [crds, ...controller.ready, ...ready] },
    );
  }

  /** The nodes' role: the four managed policies of the getting-started template. */
  private createNodeRole(name: string, args: KarpenterArgs): aws.iam.Role {
    const role = serviceRole(
      `${name}-nodes`,
      "ec2.amazonaws.com",
      `Karpenter nodes of ${args.clusterName}`,
      args.tags,
      this,
    );
    for (const policy of KARPENTER_NODE_POLICIES)
      new aws.iam.RolePolicyAttachment(
        `${name}-nodes-${policy}`,
        { role: role.name, policyArn: `arn:${partitionOf(args.region)}:iam::aws:policy/${policy}` },
        { parent: this },
      );
    return role;
  }

  /**
   * `karpenter.sh/discovery: <cluster>` on each private subnet and on the cluster security group:
   * what the node classes select (the guide tags the same two).
   */
  private tagForDiscovery(name: string, args: KarpenterArgs): aws.ec2.Tag[] {
    const subnetIds = pulumi.output(args.subnetIds);
    const tag = (role: string, resourceId: pulumi.Input<string>) =>
      new aws.ec2.Tag(
        `${name}-discovery-${role}`,
        { resourceId, key: DISCOVERY_TAG, value: args.clusterName },
        { parent: this },
      );
    return [
      ...Array.from({ length: args.subnetCount }, (_, i) =>
        tag(
          `subnet-${i}`,
          subnetIds.apply((ids) => ids[i]),
        ),
      ),
      tag("cluster-sg", args.clusterSecurityGroupId),
    ];
  }

  /**
   * The interruption queue (SQS-managed encryption, five minutes' retention) with its policy, and
   * an EventBridge rule per event Karpenter handles, each targeting the queue.
   */
  private createInterruptionQueue(name: string, args: KarpenterArgs): aws.sqs.Queue {
    const queue = new aws.sqs.Queue(
      `${name}-interruptions`,
      {
        name: interruptionQueueName(args.clusterName),
        messageRetentionSeconds: INTERRUPTION_QUEUE.messageRetentionSeconds,
        sqsManagedSseEnabled: INTERRUPTION_QUEUE.sqsManagedSse,
        tags: args.tags,
      },
      { parent: this },
    );
    new aws.sqs.QueuePolicy(
      `${name}-interruptions`,
      {
        queueUrl: queue.url,
        policy: queue.arn.apply((arn) => JSON.stringify(interruptionQueuePolicy(arn))),
      },
      { parent: this },
    );
    for (const rule of INTERRUPTION_RULES) {
      const eventRule = new aws.cloudwatch.EventRule(
        `${name}-${rule.name}`,
        {
          description: `${rule.detailType} events for Karpenter in ${args.clusterName}`,
          eventPattern: JSON.stringify({
            source: [rule.source],
            "detail-type": [rule.detailType],
          }),
          tags: args.tags,
        },
        { parent: this },
      );
      new aws.cloudwatch.EventTarget(
        `${name}-${rule.name}`,
        { rule: eventRule.name, arn: queue.arn, targetId: "KarpenterInterruptionQueueTarget" },
        { parent: this },
      );
    }
    return queue;
  }
}
