import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  AUTO_MODE_EXPIRE_AFTER,
  AUTO_MODE_RESERVED_NAMES,
  CAPACITY_RUNGS,
  CapacityRung,
  KARPENTER_AMI_ALIAS,
  capacityOrderProblem,
} from "../../catalog/karpenter";
import { findInstance } from "../../catalog/instances";
import { Tags } from "../tags";
import {
  ArgError,
  checkDuration,
  checkIntegerRange,
  checkLabelValue,
  checkOneOf,
  throwIfInvalid,
} from "../validation";
import { acceleratorKindScheduling } from "./acceleratorNodeGroup";
import { DISCOVERY_TAG } from "./karpenter";

export interface CapacityReservations {
  /** Capacity reservation ids (`cr-...`). */
  ids?: string[];
  /** Tags every selected reservation carries. */
  tags?: Record<string, string>;
}

export interface GpuNodePoolArgs {
  /** The EKS cluster's name: the discovery tag value of its subnets and security group. */
  clusterName: string;
  /** The role Karpenter's nodes run as (Karpenter.nodeRoleName). */
  nodeRoleName: pulumi.Input<string>;
  /**
   * The instance types the pool may launch, all with one kind of accelerator (the catalog's
   * `poolInstanceTypes` derives them from the model).
   * @example ["g5.xlarge", "g6.xlarge"]
   */
  instanceTypes: string[];
  /**
   * The capacity ladder, first rung first, in the order Karpenter tries capacity types within a
   * NodePool (`reserved`, `spot`, `on-demand`): the NodePool allows them all, and Karpenter falls
   * back down the list when a rung has no capacity. `reserved` needs `reservations`.
   * @default ["on-demand"]
   */
  capacity?: CapacityRung[];
  /** The capacity reservations the `reserved` rung launches into. */
  reservations?: CapacityReservations;
  /** Accelerators each pod asks for: the limit must hold at least one pod's. @default 1 */
  acceleratorsPerPod?: number;
  /** The most accelerators the pool's nodes may hold together (the NodePool's `limits`). */
  maxAccelerators: number;
  /** Root volume, GiB, gp3 and encrypted: images plus the model cache. @default 200 */
  rootVolumeGib?: number;
  /** KMS key for the root volume; the account's default EBS key when absent. */
  volumeKmsKeyArn?: pulumi.Input<string>;
  /** The `workload-type` label the workloads select. @default "gpu-inference" */
  workloadType?: string;
  /**
   * How long a node must be empty or underutilized before Karpenter consolidates it (a Go
   * duration). @default "10m"
   */
  consolidateAfter?: string;
  /**
   * EKS Auto Mode launches the pool instead of our Karpenter: its node class is an Auto Mode
   * `NodeClass` (eks.amazonaws.com/v1) selecting these subnets and security groups by id, with no
   * image or instance metadata settings (Auto Mode fixes both). Absent: Karpenter's EC2NodeClass.
   */
  autoMode?: AutoModeNetwork;
  /** Tags for the instances and volumes Karpenter launches. */
  tags?: Tags;
}

/** Where Auto Mode places a pool's nodes: subnets and security groups by id. */
export interface AutoModeNetwork {
  /** The subnets the nodes run in (the stack's private subnets). */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** The nodes' security groups (GpuCluster.clusterSecurityGroupId). */
  securityGroupIds: pulumi.Input<pulumi.Input<string>[]>;
}

export function validateGpuNodePoolArgs(args: GpuNodePoolArgs): ArgError[] {
  const errors: ArgError[] = [];
  const types = args.instanceTypes ?? [];
  if (types.length === 0)
    errors.push({
      propertyPath: "instanceTypes",
      reason: "has no instance type: no catalog type with accelerators is allowed and fits",
    });
  const kinds = new Set<string>();
  types.forEach((t, i) => {
    const kind = findInstance(t)?.accelerator?.kind;
    if (kind === undefined || t.startsWith("ml."))
      errors.push({
        propertyPath: `instanceTypes[${i}]`,
        reason: `${JSON.stringify(t)} is not an accelerated EC2 instance type the catalog knows`,
      });
    else kinds.add(kind);
  });
  if (kinds.size > 1)
    errors.push({
      propertyPath: "instanceTypes",
      reason: `must all have one kind of accelerator (a node class and taint per kind), got ${[...kinds].join(" and ")}`,
    });
  const capacity = args.capacity ?? ["on-demand"];
  if (capacity.length === 0)
    errors.push({ propertyPath: "capacity", reason: "must list at least one capacity type" });
  capacity.forEach((c, i) => checkOneOf(errors, `capacity[${i}]`, c, CAPACITY_RUNGS));
  const order = capacityOrderProblem(capacity);
  if (new Set(capacity).size !== capacity.length)
    errors.push({ propertyPath: "capacity", reason: "must not list a capacity type twice" });
  else if (order) errors.push({ propertyPath: "capacity", reason: order });
  const reservations = args.reservations;
  const selects = (reservations?.ids?.length ?? 0) + Object.keys(reservations?.tags ?? {}).length;
  if (capacity.includes("reserved") && selects === 0)
    errors.push({
      propertyPath: "reservations",
      reason:
        "is required with the reserved capacity type: give reservation ids or tags (Karpenter launches reserved nodes only into the capacity reservations its node class selects)",
    });
  if (!capacity.includes("reserved") && selects > 0)
    errors.push({
      propertyPath: "reservations",
      reason: "selects reservations, but capacity does not list reserved",
    });
  (reservations?.ids ?? []).forEach((id, i) => {
    if (!/^cr-[0-9a-f]{8,17}$/.test(id))
      errors.push({
        propertyPath: `reservations.ids[${i}]`,
        reason: `must be a capacity reservation id (cr-...), got ${JSON.stringify(id)}`,
      });
  });
  const perPod = args.acceleratorsPerPod ?? 1;
  checkIntegerRange(errors, "acceleratorsPerPod", args.acceleratorsPerPod, 1, 64);
  if (!Number.isInteger(args.maxAccelerators) || args.maxAccelerators < perPod)
    errors.push({
      propertyPath: "maxAccelerators",
      reason: `must be at least one replica's accelerators (${perPod}), got ${String(args.maxAccelerators)}`,
    });
  checkIntegerRange(errors, "rootVolumeGib", args.rootVolumeGib, 20, 16384);
  checkDuration(errors, "consolidateAfter", args.consolidateAfter);
  checkLabelValue(errors, "workloadType", args.workloadType);
  return errors;
}

/**
 * Labels and taint of a pool's nodes: the workload label Triton selects, and what every node of
 * the accelerator kind carries (AcceleratorNodeGroup's `acceleratorKindScheduling`). No label
 * names one accelerator model: a pool's types may have different ones.
 */
export function poolScheduling(instanceType: string, workloadType: string) {
  const { labels, resource } = acceleratorKindScheduling(findInstance(instanceType));
  return {
    labels: { "workload-type": workloadType, ...labels },
    taints: resource ? [{ key: resource, value: "true", effect: "NoSchedule" }] : [],
    resource,
  };
}

/** The capacity reservation selector terms of a `reserved` rung: by id, then by tags. */
function reservationSelectorTerms(r: CapacityReservations | undefined): Record<string, unknown>[] {
  return [
    ...(r?.ids ?? []).map((id) => ({ id })),
    ...(Object.keys(r?.tags ?? {}).length > 0 ? [{ tags: r!.tags }] : []),
  ];
}

/**
 * An Auto Mode node class's spec (create-node-class.adoc): the node role, subnets and security
 * groups by id, the ephemeral storage (Auto Mode's name for the node's data volume), the capacity
 * reservations of a `reserved` rung, and tags.
 */
export function autoModeNodeClassSpec(a: {
  roleName: string;
  subnetIds: string[];
  securityGroupIds: string[];
  rootVolumeGib: number;
  volumeKmsKeyArn?: string;
  reservations?: CapacityReservations;
  tags?: Tags;
}): Record<string, unknown> {
  const reservationTerms = reservationSelectorTerms(a.reservations);
  return {
    role: a.roleName,
    subnetSelectorTerms: a.subnetIds.map((id) => ({ id })),
    securityGroupSelectorTerms: a.securityGroupIds.map((id) => ({ id })),
    ephemeralStorage: {
      size: `${a.rootVolumeGib}Gi`,
      ...(a.volumeKmsKeyArn !== undefined ? { kmsKeyID: a.volumeKmsKeyArn } : {}),
    },
    ...(reservationTerms.length > 0 ? { capacityReservationSelectorTerms: reservationTerms } : {}),
    ...(a.tags ? { tags: a.tags } : {}),
  };
}

/** The node class's spec: pinned AL2023 image, IMDSv2 with one hop, encrypted gp3, found by tag. */
export function nodeClassSpec(
  args: GpuNodePoolArgs,
  nodeRoleName: string,
  volumeKmsKeyArn?: string,
): Record<string, unknown> {
  const discovery = [{ tags: { [DISCOVERY_TAG]: args.clusterName } }];
  const reservationTerms = reservationSelectorTerms(args.reservations);
  return {
    role: nodeRoleName,
    // The alias resolves the AL2023 NVIDIA or Neuron image for accelerated types.
    amiSelectorTerms: [{ alias: KARPENTER_AMI_ALIAS }],
    subnetSelectorTerms: discovery,
    securityGroupSelectorTerms: discovery,
    // Karpenter's own default, "changed to disable IMDS access from containers not on the host
    // network" (concepts/nodeclasses.md): workloads take credentials from Pod Identity. The
    // CloudWatch agent of Container Insights runs on the host network for this reason
    // (aws-observability/helm-charts#82, "allows the agent pod to hit IMDS for clusters with a
    // restricted hop limit").
    metadataOptions: {
      httpEndpoint: "enabled",
      httpProtocolIPv6: "disabled",
      httpPutResponseHopLimit: 1,
      httpTokens: "required",
    },
    blockDeviceMappings: [
      {
        // The AL2023 root device, as the node class docs map it.
        deviceName: "/dev/xvda",
        ebs: {
          volumeSize: `${args.rootVolumeGib ?? 200}Gi`,
          volumeType: "gp3",
          encrypted: true,
          ...(volumeKmsKeyArn !== undefined ? { kmsKeyID: volumeKmsKeyArn } : {}),
          deleteOnTermination: true,
        },
      },
    ],
    ...(reservationTerms.length > 0 ? { capacityReservationSelectorTerms: reservationTerms } : {}),
    ...(args.tags ? { tags: args.tags } : {}),
  };
}

/** What differs between our NodePools (GPU pools, the Auto Mode system pool). */
export interface PoolShape {
  /** The node class kind: Karpenter's EC2NodeClass, or Auto Mode's NodeClass. */
  autoMode: boolean;
  nodeClassName: string;
  instanceTypes: string[];
  capacity: string[];
  labels: Record<string, string>;
  taints: { key: string; value?: string; effect: string }[];
  limits?: Record<string, string>;
  consolidateAfter: string;
  terminationGracePeriod: string;
}

/**
 * A NodePool's spec as every pool of ours has it: one node class, the instance types by name, the
 * capacity types, amd64, consolidation one node at a time (serving capacity shrinks by one node at
 * most). Nodes are replaced after 30 days (`expireAfter: 720h`, nodepools.md's default), 14 under
 * Auto Mode (its 21-day cap, AUTO_MODE_EXPIRE_AFTER), and a drain that pods block ends after the
 * grace period: disruption.md advises against `expireAfter` without `terminationGracePeriod` where
 * pods carry `karpenter.sh/do-not-disrupt`.
 */
export function poolSpec(p: PoolShape): Record<string, unknown> {
  return {
    template: {
      metadata: { labels: p.labels },
      spec: {
        nodeClassRef: p.autoMode
          ? { group: "eks.amazonaws.com", kind: "NodeClass", name: p.nodeClassName }
          : { group: "karpenter.k8s.aws", kind: "EC2NodeClass", name: p.nodeClassName },
        requirements: [
          { key: "node.kubernetes.io/instance-type", operator: "In", values: p.instanceTypes },
          { key: "karpenter.sh/capacity-type", operator: "In", values: p.capacity },
          { key: "kubernetes.io/arch", operator: "In", values: ["amd64"] },
          // Auto Mode runs Linux only and does not support the label (create-node-pool.adoc).
          ...(p.autoMode ? [] : [{ key: "kubernetes.io/os", operator: "In", values: ["linux"] }]),
        ],
        ...(p.taints.length > 0 ? { taints: p.taints } : {}),
        expireAfter: p.autoMode ? AUTO_MODE_EXPIRE_AFTER : "720h",
        terminationGracePeriod: p.terminationGracePeriod,
      },
    },
    ...(p.limits ? { limits: p.limits } : {}),
    disruption: {
      consolidationPolicy: "WhenEmptyOrUnderutilized",
      consolidateAfter: p.consolidateAfter,
      budgets: [{ nodes: "1" }],
    },
  };
}

/** A GPU pool's NodePool spec: its types, its capacity ladder, its taint, limit and disruption. */
export function nodePoolSpec(
  args: GpuNodePoolArgs,
  nodeClassName: string,
): Record<string, unknown> {
  const scheduling = poolScheduling(args.instanceTypes[0], args.workloadType ?? "gpu-inference");
  return poolSpec({
    autoMode: args.autoMode !== undefined,
    nodeClassName,
    instanceTypes: args.instanceTypes,
    capacity: args.capacity ?? ["on-demand"],
    labels: scheduling.labels,
    taints: scheduling.taints,
    limits: scheduling.resource
      ? { [scheduling.resource]: String(args.maxAccelerators) }
      : undefined,
    consolidateAfter: args.consolidateAfter ?? "10m",
    terminationGracePeriod: "48h",
  });
}

/**
 * GPU or Inferentia capacity that Karpenter (or EKS Auto Mode) launches: one node class and one
 * NodePool on it, allowing the ladder's capacity types, labelled and tainted for its accelerator,
 * limited in accelerators, consolidating one node at a time. Under Karpenter the node class is an
 * EC2NodeClass (the pinned AL2023 image, IMDSv2 with one hop, an encrypted gp3 root volume,
 * subnets and security groups by the discovery tag); under Auto Mode an Auto Mode NodeClass
 * (subnets and security groups by id, the ephemeral storage). Both name the node role and the
 * capacity reservations of a `reserved` rung. Pass the cluster's Kubernetes provider, and depend
 * on the Karpenter release (its CRDs) or the Auto Mode cluster.
 */
export class GpuNodePool extends pulumi.ComponentResource {
  /** The NodePool's name (the pool's). */
  public readonly nodePoolName: string;
  /** The node class's name. */
  public readonly nodeClassName: string;

  constructor(name: string, args: GpuNodePoolArgs, opts?: pulumi.ComponentResourceOptions) {
    const nameProblems: ArgError[] =
      args.autoMode && AUTO_MODE_RESERVED_NAMES.includes(name)
        ? [
            {
              propertyPath: "name",
              reason: `must not be ${AUTO_MODE_RESERVED_NAMES.join(", ")} under Auto Mode (its built-in pools and node class), got ${JSON.stringify(name)}`,
            },
          ]
        : [];
    throwIfInvalid("GpuNodePool", name, [...nameProblems, ...validateGpuNodePoolArgs(args)]);
    super("llm-infra:index:GpuNodePool", name, {}, opts);
    this.nodeClassName = name;
    this.nodePoolName = name;

    const nodeClass = args.autoMode
      ? this.createAutoModeNodeClass(name, args, args.autoMode)
      : new k8s.apiextensions.CustomResource(
          `${name}-class`,
          {
            apiVersion: "karpenter.k8s.aws/v1",
            kind: "EC2NodeClass",
            metadata: { name: this.nodeClassName },
            spec: pulumi
              .all([args.nodeRoleName, args.volumeKmsKeyArn, pulumi.output(args.tags)])
              .apply(([role, key, tags]) => nodeClassSpec({ ...args, tags }, role, key)),
          },
          { parent: this },
        );
    new k8s.apiextensions.CustomResource(
      `${name}-pool`,
      {
        apiVersion: "karpenter.sh/v1",
        kind: "NodePool",
        metadata: { name: this.nodePoolName },
        spec: nodePoolSpec(args, this.nodeClassName),
      },
      // Deleted before its node class: Karpenter drains the pool's nodes first.
      { parent: this, dependsOn: [nodeClass] },
    );
    this.registerOutputs({ nodePoolName: this.nodePoolName });
  }

  /** The pool's Auto Mode NodeClass: the node role, its subnets and security groups by id. */
  private createAutoModeNodeClass(
    name: string,
    args: GpuNodePoolArgs,
    network: AutoModeNetwork,
  ): k8s.apiextensions.CustomResource {
    return new k8s.apiextensions.CustomResource(
      `${name}-class`,
      {
        apiVersion: "eks.amazonaws.com/v1",
        kind: "NodeClass",
        metadata: { name: this.nodeClassName },
        spec: pulumi
          .all([
            args.nodeRoleName,
            network.subnetIds,
            network.securityGroupIds,
            args.volumeKmsKeyArn,
            pulumi.output(args.tags),
          ])
          .apply(([roleName, subnetIds, securityGroupIds, key, tags]) =>
            autoModeNodeClassSpec({
              roleName,
              subnetIds,
              securityGroupIds,
              rootVolumeGib: args.rootVolumeGib ?? 200,
              volumeKmsKeyArn: key,
              reservations: args.reservations,
              tags,
            }),
          ),
      },
      { parent: this },
    );
  }
}
