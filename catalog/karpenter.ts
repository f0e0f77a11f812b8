/**
 * Karpenter facts: the pinned release, its node image alias, the capacity types a NodePool can ask
 * for, and the instance types a pool of accelerators may launch.
 *
 * Sources, read 2026-12-08 in aws/karpenter-provider-aws: the docs at main (1d92708, "docs: update for
 * patch release v1.14.1"), the chart at branch release-v1.14.1 (c88abbb, "Stable Release updates
 * Release v1.14.1", the chart as published: `version: 1.14.1`, image tag 1.14.1):
 * - website/content/en/v1.14/upgrading/compatibility.md, the matrix: Kubernetes 1.34 needs
 *   karpenter ">= 1.6", 1.35 ">= 1.9", 1.36 ">= 1.13". 1.14.1 serves every version EKS_KUBERNETES_
 *   VERSIONS lists;
 * - charts/karpenter/Chart.yaml: `version: 1.14.1`, `appVersion: 1.14.1`. Its crds/ folder is
 *   installed by Helm on the first install only, never upgraded, so the CRDs come from the
 *   karpenter-crd chart of the same version, its own release, and the controller's skips them;
 * - charts/karpenter/values.yaml: the keys KARPENTER_VALUES_KEYS lists;
 * - website/content/en/v1.14/concepts/nodeclasses.md, "spec.amiSelectorTerms": "An `alias` is
 *   formatted as `family@version`", "pinned to a specific AMI using the format of that AMI's GitHub
 *   release tags"; an AL2023 alias resolves to the accelerated AMI for instance types with GPUs or
 *   Neuron devices (its `status.amis` example: `instance-gpu-count Exists` and
 *   `instance-accelerator-count Exists` requirements).
 */
import { HelmChart } from "./kubernetes";
import { AcceleratorKind, INSTANCE_SPECS, InstanceSpec, findInstance } from "./instances";
import { ModelRequirements, fitsInstance } from "./modelFit";
import { ec2HourlyUsd } from "./prices";

/** The Karpenter chart: oci, pinned, in kube-system (the getting-started guide's namespace). */
export const KARPENTER_CHART: HelmChart = {
  chart: "oci://public.ecr.aws/karpenter/karpenter",
  repository: "",
  version: "1.14.1",
  namespace: "kube-system",
};

/** The CRDs (NodePool, NodeClaim, EC2NodeClass, ...) as their own chart, upgraded with Karpenter. */
export const KARPENTER_CRD_CHART: HelmChart = {
  chart: "oci://public.ecr.aws/karpenter/karpenter-crd",
  repository: "",
  version: KARPENTER_CHART.version,
  namespace: "kube-system",
};

/** The service account the chart creates and Pod Identity associates the controller role with. */
export const KARPENTER_SERVICE_ACCOUNT = "karpenter";

/**
 * The EKS-optimized AL2023 AMI release the node classes pin (awslabs/amazon-eks-ami release tag
 * v20260917, the release catalog/drivers.ts reads its NVIDIA driver from). Pinned so a node image
 * changes only when this line does; `latest` would drift every node on each AMI release.
 */
export const KARPENTER_AMI_ALIAS = "al2023@v20260917";

/**
 * The share of each instance type's memory Karpenter subtracts before it decides a pod fits
 * (charts/karpenter/values.yaml `settings.vmMemoryOverheadPercent: 0.075`, "The VM memory overhead
 * as a percent that will be subtracted from the total memory for all instance types"). A pod that
 * fits a node only without it is one Karpenter will not launch that type for.
 */
export const KARPENTER_VM_MEMORY_OVERHEAD = 0.075;

/**
 * How long after a Triton pod starts Karpenter may not disrupt it (its `karpenter.sh/do-not-disrupt`
 * annotation): longer than the chart's default startup budget (10 s x 120 = 20 minutes), so a pod
 * that rolled out is never consolidated away while it loads its weights. Afterwards the PDB and the
 * pool's one-node budget bound what consolidation takes.
 */
export const DO_NOT_DISRUPT_WINDOW = "30m";

/**
 * Capacity types a NodePool may require (`karpenter.sh/capacity-type`), in the order Karpenter
 * tries them within one NodePool: "If a NodePool is compatible with multiple capacity types,
 * Karpenter will prioritize `reserved` capacity, followed by `spot`, then finally `on-demand`. If
 * there are no other possible offerings available for a higher priority capacity type, Karpenter
 * will attempt to fallback to a lower priority capacity type, generally within milliseconds"
 * (concepts/nodepools.md, "karpenter.sh/capacity-type"). So a pool's ladder is one NodePool whose
 * capacity types are a subsequence of this list, which is also the ladder's order. `reserved` is
 * an on-demand capacity reservation the node class selects (nodeclasses.md,
 * "spec.capacityReservationSelectorTerms", Beta; `settings.featureGates.reservedCapacity: true` by
 * default in the 1.14.1 chart).
 */
export const CapacityRung = { Reserved: "reserved", Spot: "spot", OnDemand: "on-demand" } as const;
export type CapacityRung = (typeof CapacityRung)[keyof typeof CapacityRung];
export const CAPACITY_RUNGS: readonly CapacityRung[] = Object.values(CapacityRung);

/** Why a ladder is not in the order Karpenter tries it, or undefined when it is. */
export function capacityOrderProblem(capacity: readonly string[]): string | undefined {
  const ranks = capacity.map((c) => CAPACITY_RUNGS.indexOf(c as CapacityRung));
  if (ranks.some((r) => r < 0)) return undefined;
  return ranks.every((r, i) => i === 0 || ranks[i - 1] < r)
    ? undefined
    : `must list capacity types in the order Karpenter tries them within a NodePool (${CAPACITY_RUNGS.join(", ")}), got ${capacity.join(", ")}`;
}

/** An instance type's family and size: `g6e.2xlarge` is `g6e` and `2xlarge`. */
export function familyAndSize(instanceType: string): { family: string; size: string } {
  const [family, size] = instanceType.split(".");
  return { family, size: size ?? "" };
}

/** The catalog's EC2 types with accelerators (GPUs or Neuron devices). */
function acceleratedSpecs(families?: string[]): InstanceSpec[] {
  return Object.values(INSTANCE_SPECS).filter(
    (s) => s.accelerator !== undefined && (families === undefined || families.includes(s.family)),
  );
}

/** The accelerator kind of an instance family the catalog knows, or undefined. */
export function familyAccelerator(family: string): AcceleratorKind | undefined {
  return acceleratedSpecs([family])[0]?.accelerator?.kind;
}

/** The catalog's EC2 instance families with accelerators. */
export function acceleratedFamilies(): string[] {
  return [...new Set(acceleratedSpecs().map((s) => s.family))];
}

/** What a pool's instance types must hold: a pod's accelerators and, where known, its model. */
export interface PoolNeeds {
  /** Accelerators each pod asks for. */
  acceleratorsPerPod: number;
  /** The model the pods serve: a type is kept only when that many of its devices hold it. */
  model?: ModelRequirements;
}

/** A type's devices cut to a pod's share: what a pod that asks for `count` of them gets. */
function podShare(spec: InstanceSpec, count: number): InstanceSpec {
  return { ...spec, accelerator: { ...spec.accelerator!, count } };
}

/**
 * The EC2 types of the catalog a pool may launch: accelerated, in the families (and sizes, when
 * given) the stack allows, with at least a pod's accelerators, whose pod share holds the model.
 * The smallest pod share of vCPUs and memory first (a pod sized to the first type fits every
 * other), then by the families' order.
 */
export function poolInstanceTypes(
  families: string[],
  sizes: string[] | undefined,
  needs: PoolNeeds,
): string[] {
  return acceleratedSpecs(families)
    .filter((s) => sizes === undefined || sizes.includes(familyAndSize(s.instanceType).size))
    .filter((s) => s.accelerator!.count >= needs.acceleratorsPerPod)
    .filter(
      (s) =>
        needs.model === undefined ||
        fitsInstance(needs.model, podShare(s, needs.acceleratorsPerPod)).fits,
    )
    .sort(
      (a, b) =>
        podShareOf(a, needs.acceleratorsPerPod) - podShareOf(b, needs.acceleratorsPerPod) ||
        families.indexOf(a.family) - families.indexOf(b.family) ||
        a.instanceType.localeCompare(b.instanceType),
    )
    .map((s) => s.instanceType);
}

/** A pod's share of a type's vCPUs and memory, as one sortable figure (vCPUs, then GiB). */
function podShareOf(s: InstanceSpec, acceleratorsPerPod: number): number {
  const share = acceleratorsPerPod / s.accelerator!.count;
  return s.vcpus * share * 1e6 + (s.memoryMib / 1024) * share;
}

/**
 * The fewest accelerators a pod needs for the model on some type of the families: the pool's
 * default `acceleratorsPerPod` (1 without a model).
 */
export function fewestAcceleratorsFor(
  families: string[],
  model: ModelRequirements | undefined,
): number {
  if (model === undefined) return 1;
  const counts = acceleratedSpecs(families).flatMap((s) =>
    Array.from({ length: s.accelerator!.count }, (_, i) => i + 1).filter(
      (n) => fitsInstance(model, podShare(s, n)).fits,
    ),
  );
  return counts.length > 0 ? Math.min(...counts) : 1;
}

/**
 * The EventBridge rules that feed Karpenter's interruption queue: website/content/en/v1.14/
 * getting-started/getting-started-with-karpenter/cloudformation.yaml (ScheduledChangeRule,
 * SpotInterruptionRule, RebalanceRule, InstanceStateChangeRule,
 * CapacityReservationInterruptionRule), each pattern as published.
 */
export const INTERRUPTION_RULES = [
  { name: "scheduled-change", source: "aws.health", detailType: "AWS Health Event" },
  {
    name: "spot-interruption",
    source: "aws.ec2",
    detailType: "EC2 Spot Instance Interruption Warning",
  },
  { name: "rebalance", source: "aws.ec2", detailType: "EC2 Instance Rebalance Recommendation" },
  {
    name: "instance-state-change",
    source: "aws.ec2",
    detailType: "EC2 Instance State-change Notification",
  },
  {
    name: "reservation-interruption",
    source: "aws.ec2",
    detailType: "EC2 Capacity Reservation Instance Interruption Warning",
  },
] as const;

/**
 * The queue as the same template makes it: "MessageRetentionPeriod: 300",
 * "SqsManagedSseEnabled: true".
 */
export const INTERRUPTION_QUEUE = { messageRetentionSeconds: 300, sqsManagedSse: true } as const;

/**
 * The values keys of the Karpenter chart (charts/karpenter/values.yaml at v1.14.1) this package
 * sets, each a path that exists in that file: a key the chart does not read would be ignored
 * without a word, so a test checks every value we pass against this list.
 */
export const KARPENTER_VALUES_KEYS: Readonly<Record<string, readonly string[]>> = {
  "1.14.1": [
    // `settings.clusterName: ""`, `settings.interruptionQueue: ""`.
    "settings.clusterName",
    "settings.interruptionQueue",
    // `serviceAccount.create: true`, `serviceAccount.name: ""`.
    "serviceAccount.create",
    "serviceAccount.name",
    // `replicas: 2`.
    "replicas",
    // `nodeSelector: { kubernetes.io/os: linux }`: a map, whose entries are ours.
    "nodeSelector",
    // `controller.resources: {}` ("We usually recommend not to specify default resources").
    "controller.resources.requests.cpu",
    "controller.resources.requests.memory",
    "controller.resources.limits.cpu",
    "controller.resources.limits.memory",
  ],
};

/** A Karpenter NodePool in the plan (a Kubernetes custom resource of the cluster). */
export const NODE_POOL_TYPE = "kubernetes:karpenter.sh/v1:NodePool";
/** A Karpenter EC2NodeClass in the plan. */
export const NODE_CLASS_TYPE = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass";

type Inputs = Record<string, unknown>;
const asObj = (v: unknown): Inputs =>
  v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Inputs) : {};
const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** A NodePool's `spec.template.spec.requirements`. */
function requirements(inputs: Inputs): { key: string; operator: string; values: string[] }[] {
  return asList(asObj(asObj(asObj(inputs.spec).template).spec).requirements).map((r) => ({
    key: String(asObj(r).key),
    operator: String(asObj(r).operator),
    values: asList(asObj(r).values).map(String),
  }));
}

/** The values a NodePool requires `key` to be `In`, or undefined without such a requirement. */
export function nodePoolRequirement(inputs: Inputs, key: string): string[] | undefined {
  const r = requirements(inputs).find((x) => x.key === key && x.operator === "In");
  return r?.values;
}

/** The instance types a NodePool may launch (its `node.kubernetes.io/instance-type In` list). */
export function nodePoolInstanceTypes(inputs: Inputs): string[] {
  return nodePoolRequirement(inputs, "node.kubernetes.io/instance-type") ?? [];
}

/** A pool type as priced for a workload: its on-demand hourly price and replicas per node. */
export interface PricedPoolType {
  type: string;
  hourly: number;
  perNode: number;
}

/**
 * The NodePool's types that hold a replica of `perPod` accelerators and have a price in the
 * region, cheapest per replica first: the type the cost estimate prices a pool's replicas on, and
 * the token cost its serving figure.
 */
export function poolTypesByReplicaPrice(
  inputs: Inputs,
  perPod: number,
  region: string,
): PricedPoolType[] {
  const out: PricedPoolType[] = [];
  for (const type of nodePoolInstanceTypes(inputs)) {
    const hourly = ec2HourlyUsd(type, region).value;
    const perNode = Math.floor((findInstance(type)?.accelerator?.count ?? 0) / perPod);
    if (hourly !== undefined && perNode > 0) out.push({ type, hourly, perNode });
  }
  return out.sort((a, b) => a.hourly / a.perNode - b.hourly / b.perNode);
}

/** The capacity types a NodePool may launch (`karpenter.sh/capacity-type`; on-demand without). */
export function nodePoolCapacityTypes(inputs: Inputs): string[] {
  return nodePoolRequirement(inputs, "karpenter.sh/capacity-type") ?? ["on-demand"];
}

/**
 * The labels of a NodePool's nodes: its template's, and those Karpenter sets (the pool's name and
 * the capacity type, when the pool allows one).
 */
export function nodePoolLabels(name: string, inputs: Inputs): Record<string, string> {
  const own = asObj(asObj(asObj(asObj(inputs.spec).template).metadata).labels);
  const capacity = nodePoolCapacityTypes(inputs);
  return {
    ...Object.fromEntries(Object.entries(own).map(([k, v]) => [k, String(v)])),
    "karpenter.sh/nodepool": String(asObj(inputs.metadata).name ?? name),
    ...(capacity.length === 1 ? { "karpenter.sh/capacity-type": capacity[0] } : {}),
  };
}

/** A NodePool's taints, as the Kubernetes API spells them. */
export function nodePoolTaints(inputs: Inputs): { key: string; value?: string; effect: string }[] {
  return asList(asObj(asObj(asObj(inputs.spec).template).spec).taints).map((t) => ({
    key: String(asObj(t).key),
    value: asObj(t).value === undefined ? undefined : String(asObj(t).value),
    effect: String(asObj(t).effect),
  }));
}

/** A NodePool's limit on a resource (`nvidia.com/gpu`), or undefined when it sets none. */
export function nodePoolLimit(inputs: Inputs, resource: string): number | undefined {
  const v = asObj(asObj(inputs.spec).limits)[resource];
  return v === undefined ? undefined : Number(v);
}

/**
 * EKS Auto Mode: AWS runs Karpenter, the device plugins, CoreDNS, kube-proxy, the VPC CNI, the
 * EBS CSI driver, the Pod Identity agent and the load balancer controller for the cluster; node
 * pools are Karpenter NodePools on its own node class kind. Read 2026-12-08 in awsdocs/amazon-eks-
 * user-guide (latest/ug/automode/):
 * - create-node-class.adoc: `apiVersion: eks.amazonaws.com/v1`, `kind: NodeClass`, required `role`,
 *   `subnetSelectorTerms` and `securityGroupSelectorTerms` (by `tags` or `id`), optional
 *   `ephemeralStorage {size, iops, throughput, kmsKeyID}`, `capacityReservationSelectorTerms`,
 *   `tags`; no metadata options (IMDSv2 with one hop is fixed); "Do not name your custom node class
 *   `default`"; "If you create a custom node class, you need to create an EKS Access Entry ... use
 *   the `EC2` access entry type" with the AmazonEKSAutoNodePolicy access policy;
 * - create-node-pool.adoc: a NodePool's `nodeClassRef` is `{group: eks.amazonaws.com, kind:
 *   NodeClass}`; the well-known labels include `node.kubernetes.io/instance-type` and
 *   `karpenter.sh/capacity-type`, and `kubernetes.io/os` is not supported ("EKS Auto Mode only
 *   supports Linux");
 * - set-builtin-node-pools.adoc: the built-in pools `system` (a `CriticalAddonsOnly` taint) and
 *   `general-purpose`, on-demand C, M and R instances; "You cannot modify the built in `system`
 *   and `general-purpose` node pools. You can only enable or disable them";
 * - auto-accelerated.adoc: "EKS Auto Mode includes the NVIDIA device plugin for Kubernetes. This
 *   plugin runs automatically and isn't visible as a daemon set in your cluster", and the Neuron
 *   one likewise (automode-learn-instances.adoc: "You do not need to install the `Neuron Device
 *   Plugin` on EKS Auto Mode nodes").
 */
export const AUTO_NODE_CLASS_TYPE = "kubernetes:eks.amazonaws.com/v1:NodeClass";

/** The node pools EKS Auto Mode can run for the cluster itself, off unless the stack keeps them. */
export const BuiltinNodePool = { System: "system", GeneralPurpose: "general-purpose" } as const;
export type BuiltinNodePool = (typeof BuiltinNodePool)[keyof typeof BuiltinNodePool];
export const BUILTIN_NODE_POOLS: readonly BuiltinNodePool[] = Object.values(BuiltinNodePool);

/** The system NodePool and node class of an Auto Mode cluster (GpuCluster). */
export const AUTO_MODE_SYSTEM_POOL = "llm-infra-system";

/**
 * Names a NodePool or node class of ours may not take under Auto Mode: the built-in pools', the
 * built-in node class's (`default`, which create-node-class.adoc reserves) and the system pool's.
 */
export const AUTO_MODE_RESERVED_NAMES: readonly string[] = [
  ...BUILTIN_NODE_POOLS,
  "default",
  AUTO_MODE_SYSTEM_POOL,
];

/**
 * How long an Auto Mode node lives: 14 days, the built-in pools' `expireAfter` (336h). Auto Mode
 * nodes "have a maximum lifetime of 21 days (which you can reduce)" (automode.adoc), and a NodePool
 * whose `expireAfter` and `terminationGracePeriod` add up to more is refused: "the sum of
 * expireAfter and terminationGracePeriod (defaulted to 24h) may not exceed 21 days"
 * (aws-controllers-k8s/test-infra#1000, which saw 720h rejected). 336h plus our 48h grace is 16 days.
 */
export const AUTO_MODE_EXPIRE_AFTER = "336h";

/**
 * The Auto Mode management fee, as a share of the instance's on-demand price. AWS charges it per
 * instance-hour by instance type (https://aws.amazon.com/eks/pricing/, not readable here); the
 * default is the ~12% of on-demand third-party estimates give (factualminds.com, "EKS Auto Mode
 * adds a ~12% markup over standard EC2"), an assumption the stack may set
 * (`llm-infra:cost.assumptions.autoModeFeeShare`). AWS cut the fee for G-series by 35% and for P
 * and Trainium by 60% on 2026-07-01 (quoted second-hand), so for GPUs it errs high.
 */
export const DEFAULT_AUTO_MODE_FEE_SHARE = 0.12;

/**
 * The most hours an Auto Mode node may live, `expireAfter` and `terminationGracePeriod` together:
 * 21 days (AUTO_MODE_EXPIRE_AFTER's sources).
 */
export const AUTO_MODE_MAX_NODE_HOURS = 21 * 24;

/** Hours in a Go duration of hours, minutes and seconds (`336h`, `1h30m`); undefined otherwise. */
export function durationHours(value: unknown): number | undefined {
  if (typeof value !== "string" || !/^([0-9]+(\.[0-9]+)?(s|m|h))+$/.test(value)) return undefined;
  const per = { h: 1, m: 1 / 60, s: 1 / 3600 } as const;
  return [...value.matchAll(/([0-9.]+)(s|m|h)/g)].reduce(
    (sum, [, n, unit]) => sum + Number(n) * per[unit as keyof typeof per],
    0,
  );
}

/** The node class a NodePool names: `{group, kind, name}`. */
export function nodePoolClassRef(inputs: Inputs): Record<string, unknown> {
  return asObj(asObj(asObj(asObj(inputs.spec).template).spec).nodeClassRef);
}

/** The NodePool runs on an Auto Mode node class (`nodeClassRef.group: eks.amazonaws.com`). */
export function isAutoModePool(inputs: Inputs): boolean {
  return nodePoolClassRef(inputs).group === "eks.amazonaws.com";
}

/**
 * The node counts a NodePool that no workload's replicas size (the Auto Mode system pool) declares
 * for the cost estimate: its `llm-infra/nodes` annotation, `min/desired/max`.
 */
export const NODE_COUNT_ANNOTATION = "llm-infra/nodes";

/** A NodePool's declared node counts (NODE_COUNT_ANNOTATION); undefined without. */
export function nodePoolDeclaredNodes(
  inputs: Inputs,
): { idle: number; expected: number; peak: number } | undefined {
  const v = asObj(asObj(inputs.metadata).annotations)[NODE_COUNT_ANNOTATION];
  const m = typeof v === "string" ? /^(\d+)\/(\d+)\/(\d+)$/.exec(v) : null;
  return m ? { idle: Number(m[1]), expected: Number(m[2]), peak: Number(m[3]) } : undefined;
}

/**
 * The instance families EKS Auto Mode launches: automode-learn-instances.adoc, "Supported instance
 * reference" (awsdocs/amazon-eks-user-guide 4d52b4d), with the accelerated families of its newer
 * revision (06faff14: p6-b200, p6-b300, p5, p5e, p5en, p4d, p4de, p3dn, g7e, g6, gr6, g6e, g5g, g5,
 * g4dn, inf2, inf1, trn1, trn1n, trn2). Sizes nano, micro and small are not launched ("More than 1
 * CPU").
 */
export const AUTO_MODE_FAMILIES: readonly string[] = [
  // Compute optimized
  ...["c8g", "c7a", "c7g", "c7gn", "c7gd", "c7i", "c7i-flex", "c6a", "c6g", "c6i", "c6gn"],
  ...["c6id", "c6in", "c6gd", "c5", "c5a", "c5d", "c5ad", "c5n", "c4"],
  // General purpose
  ...["m8g", "m7i", "m7a", "m7g", "m7gd", "m7i-flex", "m6a", "m6i", "m6in", "m6g", "m6idn"],
  ...["m6id", "m6gd", "m5", "m5a", "m5ad", "m5n", "m5dn", "m5d", "m5zn", "m4"],
  // Memory optimized
  ...["r8g", "r7a", "r7iz", "r7gd", "r7i", "r7g", "r6a", "r6i", "r6id", "r6in", "r6idn"],
  ...["r6g", "r6gd", "r5", "r5n", "r5a", "r5dn", "r5b", "r5ad", "r5d", "r4"],
  // Burstable, high memory, storage optimized
  ...["t4g", "t3", "t3a", "t2", "z1d", "x8g", "x2gd"],
  ...["i4g", "i4i", "i3", "i3en", "is4gen", "d3", "d3en", "im4gn"],
  // Accelerated
  ...["p6-b200", "p6-b300", "p5", "p5e", "p5en", "p4d", "p4de", "p3dn", "g7e", "g6", "gr6"],
  ...["g6e", "g5g", "g5", "g4dn", "inf2", "inf1", "trn1", "trn1n", "trn2"],
];

/** Why Auto Mode would not launch `instanceType`; undefined when it would. */
export function autoModeTypeProblem(instanceType: string): string | undefined {
  const [family, size] = instanceType.split(".");
  if (!AUTO_MODE_FAMILIES.includes(family))
    return `${instanceType} is of a family EKS Auto Mode does not launch (automode-learn-instances.adoc)`;
  if (["nano", "micro", "small"].includes(size))
    return `${instanceType} is a size EKS Auto Mode does not launch (more than 1 CPU)`;
  return undefined;
}
