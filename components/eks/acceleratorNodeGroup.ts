import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  AcceleratorKind,
  EksAmiType,
  findInstance,
  kubernetesResourceFor,
  InstanceSpec,
  getInstance,
  knownInstanceTypes,
} from "../../catalog/instances";
import { Tags, withTags } from "../tags";
import {
  ArgError,
  checkIntegerRange,
  checkLabelValue,
  checkScalingBounds,
  checkOneOf,
  throwIfInvalid,
} from "../validation";

export const CapacityType = { OnDemand: "ON_DEMAND", Spot: "SPOT" } as const;
export type CapacityType = (typeof CapacityType)[keyof typeof CapacityType];

export const NodeOs = { AmazonLinux2023: "al2023", Bottlerocket: "bottlerocket" } as const;
export type NodeOs = (typeof NodeOs)[keyof typeof NodeOs];

export interface AcceleratorNodeGroupArgs {
  /** The EKS cluster's name (GpuCluster.clusterName). */
  clusterName: string;
  /** The node IAM role (GpuCluster.nodeRoleArn). */
  nodeRoleArn: pulumi.Input<string>;
  /** Private subnets for the nodes. */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Instance types, all with the same accelerator model and count, vCPUs and memory (several only
   * for spot).
   * @example ["g5.2xlarge"]
   */
  instanceTypes: string[];
  /** `ON_DEMAND` or `SPOT`. @default "ON_DEMAND" */
  capacityType?: CapacityType;
  /** `al2023` (AL2023 NVIDIA or Neuron AMI) or `bottlerocket` (NVIDIA only). @default "al2023" */
  os?: NodeOs;
  /** Fewest nodes (0 lets the autoscaler scale the group to zero). @default 1 */
  minSize?: number;
  /** Nodes at creation; later the cluster autoscaler owns it. @default 2 */
  desiredSize?: number;
  /** Most nodes. @default 10 */
  maxSize?: number;
  /** Root volume, GiB, gp3 and encrypted: LLM serving images are large. @default 200 */
  rootVolumeGib?: number;
  /** KMS key for the root volume; the account's default EBS key when absent. */
  volumeKmsKeyArn?: pulumi.Input<string>;
  /** Node labels, beyond `workload-type` and the accelerator labels. */
  labels?: Record<string, string>;
  /** The `workload-type` label. @default "gpu-inference" */
  workloadType?: string;
  /**
   * Tag the group for the Cluster Autoscaler (auto-discovery and the node template it scales from
   * zero with). Off where no autoscaler runs (a cluster whose capacity Karpenter adds).
   * @default true
   */
  autoscaled?: boolean;
  /** Tags for every resource. */
  tags?: Tags;
}

/** The EKS AMI type for a group of instance types (all of one accelerator kind). */
export function amiTypeFor(kind: AcceleratorKind | undefined, os: NodeOs): EksAmiType {
  if (kind === "neuron") return "AL2023_x86_64_NEURON";
  if (kind === "nvidia")
    return os === "bottlerocket" ? "BOTTLEROCKET_x86_64_NVIDIA" : "AL2023_x86_64_NVIDIA";
  return os === "bottlerocket" ? "BOTTLEROCKET_x86_64" : "AL2023_x86_64_STANDARD";
}

export function validateAcceleratorNodeGroupArgs(args: AcceleratorNodeGroupArgs): ArgError[] {
  const errors: ArgError[] = [];
  const types = args.instanceTypes ?? [];
  if (types.length === 0)
    errors.push({ propertyPath: "instanceTypes", reason: "must list at least one instance type" });
  const specs = types.map((t, i) => {
    const spec = findInstance(t);
    if (!spec || t.startsWith("ml."))
      errors.push({
        propertyPath: `instanceTypes[${i}]`,
        reason: `${JSON.stringify(t)} is not an EC2 instance type the catalog knows`,
      });
    return spec;
  });
  const known = specs.filter((s) => s !== undefined);
  const shapes = new Set(
    known.map((s) =>
      s.accelerator ? `${s.accelerator.count} x ${s.accelerator.model}` : "no accelerator",
    ),
  );
  if (shapes.size > 1) {
    errors.push({
      propertyPath: "instanceTypes",
      reason: `must all have the same accelerators; got ${[...shapes].join(", ")}`,
    });
  } else {
    const sizes = new Set(known.map(instanceSize));
    if (sizes.size > 1)
      errors.push({
        propertyPath: "instanceTypes",
        reason: `must all have the same vCPUs and memory: the cluster autoscaler sizes a group by one of its types; got ${known.map((s) => `${s.instanceType} (${instanceSize(s)})`).join(", ")}`,
      });
  }
  checkOneOf(errors, "capacityType", args.capacityType, Object.values(CapacityType));
  checkOneOf(errors, "os", args.os, Object.values(NodeOs));
  if (args.os === "bottlerocket" && known.some((s) => s.accelerator?.kind === "neuron")) {
    errors.push({
      propertyPath: "os",
      reason: "EKS has no Bottlerocket AMI type for Neuron instances; use al2023",
    });
  }
  checkIntegerRange(errors, "minSize", args.minSize, 0, 1000);
  checkIntegerRange(errors, "maxSize", args.maxSize, 1, 1000);
  checkIntegerRange(errors, "desiredSize", args.desiredSize, 0, 1000);
  checkScalingBounds(errors, nodeCounts(args));
  checkIntegerRange(errors, "rootVolumeGib", args.rootVolumeGib, 20, 16384);
  checkLabelValue(errors, "workloadType", args.workloadType);
  return errors;
}

/**
 * vCPUs and memory of an instance type. The cluster autoscaler builds a group's node template from
 * one instance type, so every type of a group must be the same size (kubernetes/autoscaler
 * cluster-autoscaler/cloudprovider/aws/README.md: "Each Auto Scaling Group should be composed of
 * instance types that provide approximately equal capacity"; with a mixed instances policy "only the
 * first instance type found will be used").
 */
function instanceSize(s: { vcpus: number; memoryMib: number }): string {
  return `${s.vcpus} vCPU, ${s.memoryMib / 1024} GiB`;
}

/** EC2 types of the catalog a group may list beside `instanceType`: same accelerators and size. */
export function sameShapeTypes(instanceType: string): string[] {
  const spec = findInstance(instanceType);
  if (!spec) return [];
  const shape = (s: InstanceSpec) =>
    `${s.accelerator ? `${s.accelerator.count} x ${s.accelerator.model}` : "none"}, ${instanceSize(s)}`;
  return knownInstanceTypes().filter(
    (t) => t !== instanceType && !t.startsWith("ml.") && shape(getInstance(t)) === shape(spec),
  );
}

/**
 * A spot group with one instance type finds capacity less often: when the catalog has types of the
 * same shape (the only ones the group may add), name them. With none there is nothing to list, and
 * no warning: the choice left is on-demand capacity.
 */
export function spotWarning(
  name: string,
  capacityType: CapacityType,
  instanceTypes: string[],
): string | undefined {
  if (capacityType !== "SPOT" || instanceTypes.length > 1) return undefined;
  const alternatives = sameShapeTypes(instanceTypes[0]);
  if (alternatives.length === 0) return undefined;
  return `spot node group ${name} has one instance type; add ${alternatives.join(", ")} (the same accelerators, vCPUs and memory) so spot capacity can be found in more pools`;
}

export function nodeCounts(args: AcceleratorNodeGroupArgs): {
  min: number;
  desired: number;
  max: number;
} {
  return { min: args.minSize ?? 1, desired: args.desiredSize ?? 2, max: args.maxSize ?? 10 };
}

export interface NodeTaint {
  key: string;
  value: string;
  /** The EKS API's spelling. */
  effect: "NO_SCHEDULE" | "NO_EXECUTE" | "PREFER_NO_SCHEDULE";
}

/**
 * What every node with accelerators of one kind carries, whoever launches it (a node group or a
 * Karpenter pool): the kind label the device plugins select (ClusterAddons `acceleratorAffinity`),
 * the label nvidia-device-plugin's chart admits by default, so the plugin runs even where its
 * affinity is left at the chart's default (NVIDIA/k8s-device-plugin@v0.17.1
 * deployments/helm/nvidia-device-plugin/values.yaml: "We allow a GPU deployment to be forced by
 * setting the following label to true"), and the resource whose NoSchedule taint keeps other pods
 * off.
 */
export function acceleratorKindScheduling(spec: InstanceSpec | undefined): {
  labels: Record<string, string>;
  resource?: string;
} {
  const kind = spec?.accelerator?.kind;
  const resource = spec ? kubernetesResourceFor(spec) : undefined;
  if (!kind || !resource) return { labels: {} };
  return {
    labels: {
      "llm-infra/accelerator-kind": kind,
      ...(kind === "nvidia" ? { "nvidia.com/gpu.present": "true" } : {}),
    },
    resource,
  };
}

/** Labels, taints and the accelerator resource of a group, derived from its instance type. */
export function nodeScheduling(
  instanceType: string,
  workloadType: string,
  extraLabels: Record<string, string> = {},
) {
  const spec = findInstance(instanceType);
  const accelerator = spec?.accelerator;
  const { labels: kindLabels, resource } = acceleratorKindScheduling(spec);
  const labels: Record<string, string> = { "workload-type": workloadType, ...extraLabels };
  const taints: NodeTaint[] = [];
  if (accelerator && resource) {
    labels["llm-infra/accelerator"] = accelerator.model;
    Object.assign(labels, kindLabels);
    taints.push({ key: resource, value: "true", effect: "NO_SCHEDULE" });
  }
  if (accelerator?.kind === "nvidia") {
    // The cluster autoscaler treats nodes with this label as GPU nodes and waits for the device
    // plugin instead of scaling out again (kubernetes/autoscaler cluster-autoscaler/cloudprovider/
    // aws/README.md, "Special note on GPU instances": `k8s.amazonaws.com/accelerator=<gpu-type>`;
    // aws_cloud_provider.go `GPULabel`).
    labels["k8s.amazonaws.com/accelerator"] = `nvidia-${accelerator.model.toLowerCase()}`;
  }
  return { labels, taints, resource, count: accelerator?.count ?? 0 };
}

const K8S_EFFECT: Record<NodeTaint["effect"], string> = {
  NO_SCHEDULE: "NoSchedule",
  NO_EXECUTE: "NoExecute",
  PREFER_NO_SCHEDULE: "PreferNoSchedule",
};

/**
 * Cluster-autoscaler auto-discovery tags, and node-template tags (labels, taints and the
 * accelerator count) so the autoscaler can scale a group up from zero nodes.
 */
export function autoscalerTags(
  clusterName: string,
  s: ReturnType<typeof nodeScheduling>,
): Record<string, string> {
  const prefix = "k8s.io/cluster-autoscaler/node-template";
  const tags: Record<string, string> = {
    "k8s.io/cluster-autoscaler/enabled": "true",
    [`k8s.io/cluster-autoscaler/${clusterName}`]: "owned",
  };
  for (const [k, v] of Object.entries(s.labels)) tags[`${prefix}/label/${k}`] = v;
  for (const t of s.taints) tags[`${prefix}/taint/${t.key}`] = `${t.value}:${K8S_EFFECT[t.effect]}`;
  if (s.resource) tags[`${prefix}/resources/${s.resource}`] = String(s.count);
  return tags;
}

/**
 * An EKS managed node group of GPU or Inferentia/Trainium instances with its own launch template:
 * the AMI type for the accelerator, labels and a no-schedule taint for the accelerator resource,
 * IMDSv2, an encrypted gp3 root volume, no SSH key, and the tags the cluster autoscaler needs to
 * scale the group from zero. The desired size is the autoscaler's after creation.
 */
export class AcceleratorNodeGroup extends pulumi.ComponentResource {
  /** The EKS managed node group's name. */
  public readonly nodeGroupName: pulumi.Output<string>;
  /** The Auto Scaling group EKS runs the nodes in (for scheduled scaling). */
  public readonly autoScalingGroupName: pulumi.Output<string>;
  /** The fewest nodes the group scales in to. */
  public readonly minSize: number;
  /** The nodes the group starts with. */
  public readonly desiredSize: number;
  /** The most nodes the group scales out to. */
  public readonly maxSize: number;
  /** The EKS AMI type (`AL2023_x86_64_NVIDIA`, ...). */
  public readonly amiType: string;
  /** The Kubernetes labels on every node (`workload-type`, `llm-infra/accelerator`, ...). */
  public readonly labels: Record<string, string>;
  /** The taints, as `key=value:EFFECT`. */
  public readonly taints: string[];

  constructor(
    name: string,
    args: AcceleratorNodeGroupArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    // Validate before anything is registered: bad input fails at preview, naming the field.
    throwIfInvalid("AcceleratorNodeGroup", name, validateAcceleratorNodeGroupArgs(args));
    super("llm-infra:index:AcceleratorNodeGroup", name, {}, opts);

    const capacityType = args.capacityType ?? "ON_DEMAND";
    const warning = spotWarning(name, capacityType, args.instanceTypes);
    if (warning) void pulumi.log.warn(warning, this);
    const spec = findInstance(args.instanceTypes[0]);
    this.amiType = amiTypeFor(spec?.accelerator?.kind, args.os ?? "al2023");
    const scheduling = nodeScheduling(
      args.instanceTypes[0],
      args.workloadType ?? "gpu-inference",
      args.labels,
    );
    this.labels = scheduling.labels;
    this.taints = scheduling.taints.map((t) => `${t.key}=${t.value}:${t.effect}`);
    const asgTags = (args.autoscaled ?? true) ? autoscalerTags(args.clusterName, scheduling) : {};
    const counts = nodeCounts(args);

    const template = this.createLaunchTemplate(name, args);
    const nodeGroup = this.createNodeGroup(name, args, {
      template,
      capacityType,
      taints: scheduling.taints,
      counts,
      asgTags,
    });
    const asgName = nodeGroup.resources.apply((r) => r[0]?.autoscalingGroups?.[0]?.name ?? "");
    this.tagAutoScalingGroup(name, asgName, asgTags);

    this.nodeGroupName = nodeGroup.nodeGroupName;
    this.autoScalingGroupName = asgName;
    this.minSize = counts.min;
    this.desiredSize = counts.desired;
    this.maxSize = counts.max;
    this.registerOutputs({
      nodeGroupName: this.nodeGroupName,
      autoScalingGroupName: this.autoScalingGroupName,
    });
  }

  /**
   * The nodes' launch template: IMDSv2, an encrypted gp3 root volume, no SSH key. Settings EKS
   * refuses next to a launch template (disk size, remote access) stay off the group.
   */
  private createLaunchTemplate(
    name: string,
    args: AcceleratorNodeGroupArgs,
  ): aws.ec2.LaunchTemplate {
    return new aws.ec2.LaunchTemplate(
      `${name}-lt`,
      {
        description: `Nodes of ${name}: IMDSv2, encrypted gp3 root volume, no SSH key`,
        metadataOptions: {
          httpEndpoint: "enabled",
          httpTokens: "required",
          httpPutResponseHopLimit: 2,
          instanceMetadataTags: "disabled",
        },
        blockDeviceMappings: [
          {
            deviceName: this.amiType.startsWith("BOTTLEROCKET") ? "/dev/xvdb" : "/dev/xvda",
            ebs: {
              volumeSize: args.rootVolumeGib ?? 200,
              volumeType: "gp3",
              encrypted: "true",
              kmsKeyId: args.volumeKmsKeyArn,
              deleteOnTermination: "true",
            },
          },
        ],
        tagSpecifications: [
          { resourceType: "instance", tags: args.tags },
          { resourceType: "volume", tags: args.tags },
        ],
        tags: args.tags,
      },
      { parent: this },
    );
  }

  /** The EKS managed node group on the template, labelled and tainted for its workload. */
  private createNodeGroup(
    name: string,
    args: AcceleratorNodeGroupArgs,
    group: {
      template: aws.ec2.LaunchTemplate;
      capacityType: CapacityType;
      taints: ReturnType<typeof nodeScheduling>["taints"];
      counts: ReturnType<typeof nodeCounts>;
      asgTags: Record<string, string>;
    },
  ): aws.eks.NodeGroup {
    const { template, counts } = group;
    return new aws.eks.NodeGroup(
      `${name}-nodes`,
      {
        clusterName: args.clusterName,
        nodeRoleArn: args.nodeRoleArn,
        subnetIds: args.subnetIds,
        instanceTypes: args.instanceTypes,
        capacityType: group.capacityType,
        amiType: this.amiType,
        launchTemplate: { id: template.id, version: pulumi.interpolate`${template.latestVersion}` },
        scalingConfig: { minSize: counts.min, desiredSize: counts.desired, maxSize: counts.max },
        updateConfig: { maxUnavailable: 1 },
        labels: this.labels,
        taints: group.taints,
        tags: withTags(args.tags, group.asgTags),
      },
      // The cluster autoscaler owns the desired size once the group exists.
      { parent: this, ignoreChanges: ["scalingConfig.desiredSize"] },
    );
  }

  /**
   * Managed node groups do not pass their tags to the Auto Scaling group, where the autoscaler
   * reads the node template: one tag resource per autoscaler tag on the group itself.
   */
  private tagAutoScalingGroup(
    name: string,
    asgName: pulumi.Output<string>,
    asgTags: Record<string, string>,
  ): void {
    for (const [key, value] of Object.entries(asgTags)) {
      const role = key
        .replace(/^k8s\.io\/cluster-autoscaler\//, "")
        .replace(/[^a-zA-Z0-9-]+/g, "-");
      new aws.autoscaling.Tag(
        `${name}-${role}`,
        { autoscalingGroupName: asgName, tag: { key, value, propagateAtLaunch: false } },
        { parent: this },
      );
    }
  }
}
