/**
 * The `llm-infra:eks` config section: the EKS cluster, its accelerator node groups, add-ons and the
 * shared model cache. The cluster exists when the section does.
 *
 * ```yaml
 * llm-infra:eks:
 *   nodeGroups:
 *     - { name: gpu, instanceTypes: [g5.2xlarge], minSize: 1, desiredSize: 2, maxSize: 10 }
 * ```
 */
import { findInstance } from "../catalog/instances";
import {
  AcceleratorNodeGroupArgs,
  validateAcceleratorNodeGroupArgs,
} from "../components/eks/acceleratorNodeGroup";
import { ClusterAddonsArgs, validateClusterAddonsArgs } from "../components/eks/clusterAddons";
import { validateMetricsPipelineArgs } from "../components/eks/metricsPipeline";
import {
  GpuClusterArgs,
  apiAccessPaths,
  validateGpuClusterArgs,
} from "../components/eks/gpuCluster";
import { ipv4CidrProblem } from "../catalog/awsLimits";
import { validateModelPrefix } from "../components/storage/modelStorePolicies";
import { SectionReader, fromComponent, readEntryName, readSection, shown } from "./configReader";
import { RESERVED_NAMES } from "./sagemakerConfig";
import {
  AUTO_MODE_RESERVED_NAMES,
  BUILTIN_NODE_POOLS,
  BuiltinNodePool,
  CapacityRung,
  autoModeTypeProblem,
  acceleratedFamilies,
  familyAccelerator,
  fewestAcceleratorsFor,
  poolInstanceTypes,
} from "../catalog/karpenter";
import { GpuNodePoolArgs, validateGpuNodePoolArgs } from "../components/eks/gpuNodePool";
import { ModelRequirements } from "../catalog/modelFit";

/**
 * Who adds accelerator capacity: EKS managed node groups with the Cluster Autoscaler (the
 * default), Karpenter with node pools, or EKS Auto Mode with node pools (AWS runs the Karpenter).
 */
export const PROVISIONERS = ["nodeGroups", "karpenter", "autoMode"] as const;
export type Provisioner = (typeof PROVISIONERS)[number];

/** The provisioner launches node pools the stack declares (Karpenter, or Auto Mode's). */
export function usesNodePools(eks: Pick<EksConfig, "provisioner">): boolean {
  return eks.provisioner === "karpenter" || eks.provisioner === "autoMode";
}

/** A Karpenter node pool as the stack declares it (`llm-infra:eks.nodePools[i]`). */
export interface NodePoolConfig {
  name: string;
  /** Instance families the pool may launch (`g5`, `g6`, `inf2`), all of one accelerator kind. */
  families: string[];
  /** Sizes within the families (`xlarge`, `2xlarge`); every size when absent. */
  sizes?: string[];
  /** The capacity ladder, first rung first. */
  capacity: CapacityRung[];
  reservations?: GpuNodePoolArgs["reservations"];
  /** The NodePools' accelerator limit; from the workload's replicas when absent. */
  maxAccelerators?: number;
  rootVolumeGib?: number;
  workloadType?: string;
  consolidateAfter?: string;
}

/** What a workload (Triton) asks of the pool it selects: a pod's accelerators, its model, replicas. */
export interface PoolWorkload {
  acceleratorsPerPod?: number;
  model?: ModelRequirements;
  maxReplicas: number;
}

/** A pool's instance types and a pod's accelerators, from its families and the workload's model. */
export function poolTypes(
  pool: Pick<NodePoolConfig, "families" | "sizes">,
  workload?: Pick<PoolWorkload, "acceleratorsPerPod" | "model">,
): { instanceTypes: string[]; acceleratorsPerPod: number } {
  const acceleratorsPerPod =
    workload?.acceleratorsPerPod ?? fewestAcceleratorsFor(pool.families, workload?.model);
  return {
    acceleratorsPerPod,
    instanceTypes: poolInstanceTypes(pool.families, pool.sizes, {
      acceleratorsPerPod,
      model: workload?.model,
    }),
  };
}

/**
 * The GpuNodePool arguments of a pool (but the cluster and role): its types from the fit filter,
 * and the accelerator limit the workload's replicas need (one node's worth without a workload).
 */
export function nodePoolArgs(
  pool: NodePoolConfig,
  workload: PoolWorkload | undefined,
): Omit<GpuNodePoolArgs, "clusterName" | "nodeRoleName"> {
  const { instanceTypes, acceleratorsPerPod } = poolTypes(pool, workload);
  const oneNode = Math.max(
    0,
    ...instanceTypes.map((t) => findInstance(t)?.accelerator?.count ?? 0),
  );
  return {
    instanceTypes,
    capacity: pool.capacity,
    reservations: pool.reservations,
    acceleratorsPerPod,
    maxAccelerators:
      pool.maxAccelerators ??
      (workload ? workload.maxReplicas * acceleratorsPerPod : Math.max(oneNode, 1)),
    rootVolumeGib: pool.rootVolumeGib,
    workloadType: pool.workloadType,
    consolidateAfter: pool.consolidateAfter,
  };
}

export type NodeGroupConfig = Pick<
  AcceleratorNodeGroupArgs,
  | "instanceTypes"
  | "capacityType"
  | "os"
  | "minSize"
  | "desiredSize"
  | "maxSize"
  | "rootVolumeGib"
  | "workloadType"
> & { name: string };

export interface EksConfig {
  cluster: Pick<
    GpuClusterArgs,
    | "kubernetesVersion"
    | "publicAccessCidrs"
    | "privateAccessCidrs"
    | "privateAccessSecurityGroupIds"
    | "deployerAccess"
    | "deployerCidrs"
    | "adminPrincipalArns"
    | "systemInstanceType"
    | "systemNodeCount"
    | "autoMode"
  >;
  nodeGroups: NodeGroupConfig[];
  /** Who adds accelerator capacity. @default "nodeGroups" */
  provisioner: Provisioner;
  /** The node pools (`provisioner: karpenter` or `autoMode`). */
  nodePools: NodePoolConfig[];
  addons: Omit<ClusterAddonsArgs, "clusterName" | "region" | "vpcId" | "tags">;
  modelCache: { enabled: boolean; syncPrefix?: string };
  /**
   * The metrics pipeline (`llm-infra:eks.metrics`): Amazon Managed Service for Prometheus, its
   * managed collector and KEDA, which scale Triton on its queue. @default off
   */
  metrics: { enabled: boolean; scrapeIntervalSeconds?: number };
}

const PREFIX = "llm-infra:eks";
const ADDON_BOOLEANS = [
  "nvidiaDevicePlugin",
  "clusterAutoscaler",
  "loadBalancerController",
  "efsCsiDriver",
  "metricsServer",
] as const;

/**
 * Parses `llm-infra:eks`; undefined when absent. Problems are appended, each naming its key.
 * `ctx.triton`: the stack also deploys Triton into the cluster.
 */
export function parseEksConfig(
  raw: unknown,
  problems: string[],
  ctx: { triton?: boolean } = {},
): EksConfig | undefined {
  const r = readSection(PREFIX, raw, problems, [
    "kubernetesVersion",
    "publicAccessCidrs",
    "privateAccessCidrs",
    "privateAccessSecurityGroupIds",
    "deployerAccess",
    "adminPrincipalArns",
    "systemInstanceType",
    "systemNodeCount",
    "nodeGroups",
    "provisioner",
    "nodePools",
    "builtinNodePools",
    "addons",
    "modelCache",
    "metrics",
  ]);
  if (!r) return undefined;
  const provisioner = (r.checked("provisioner", (v) =>
    (PROVISIONERS as readonly string[]).includes(v)
      ? undefined
      : `must be one of ${PROVISIONERS.join(", ")}, got ${JSON.stringify(v)}`,
  ) ?? "nodeGroups") as Provisioner;
  const autoMode = provisioner === "autoMode";
  const pooled = usesNodePools({ provisioner });
  if (pooled)
    r.notWith(
      "nodeGroups",
      `with provisioner ${provisioner} (its accelerators come from nodePools, which ${autoMode ? "Auto Mode" : "Karpenter"} launches)`,
    );
  else
    r.notWith(
      "nodePools",
      `with provisioner ${provisioner} (set provisioner: karpenter or autoMode)`,
    );
  if (!autoMode) r.notWith("builtinNodePools", "without provisioner autoMode");
  const cluster = {
    kubernetesVersion: r.string("kubernetesVersion"),
    publicAccessCidrs: r.checkedList("publicAccessCidrs", ipv4CidrProblem),
    privateAccessCidrs: r.checkedList("privateAccessCidrs", ipv4CidrProblem),
    privateAccessSecurityGroupIds: r.strings("privateAccessSecurityGroupIds"),
    deployerAccess: r.string("deployerAccess") as GpuClusterArgs["deployerAccess"],
    adminPrincipalArns: r.strings("adminPrincipalArns"),
    systemInstanceType: r.string("systemInstanceType"),
    systemNodeCount: r.number("systemNodeCount"),
    ...(autoMode ? { autoMode: { builtinNodePools: builtinNodePoolsOf(r) } } : {}),
  };
  const systemType = cluster.systemInstanceType;
  if (autoMode && systemType !== undefined && autoModeTypeProblem(systemType))
    problems.push(`${PREFIX}.systemInstanceType ${autoModeTypeProblem(systemType)}; pick another`);
  problems.push(
    ...fromComponent(
      PREFIX,
      validateGpuClusterArgs({ ...cluster, vpcId: "vpc", privateSubnetIds: [] }),
    ),
  );

  const nodeGroups: NodeGroupConfig[] = [];
  const rawGroups = r.value("nodeGroups") ?? [];
  if (!Array.isArray(rawGroups))
    problems.push(`${PREFIX}.nodeGroups must be a list of node groups, got ${shown(rawGroups)}`);
  const names = new Set<string>();
  (Array.isArray(rawGroups) ? rawGroups : []).forEach((item: unknown, i: number) => {
    const prefix = `${PREFIX}.nodeGroups[${i}]`;
    const g = readSection(prefix, item, problems, [
      "name",
      "instanceTypes",
      "capacityType",
      "os",
      "minSize",
      "desiredSize",
      "maxSize",
      "rootVolumeGib",
      "workloadType",
    ]);
    if (!g) return;
    const name = readEntryName(g, names, "node group", RESERVED_NAMES, problems);
    if (!name) return;
    const group: NodeGroupConfig = {
      name,
      instanceTypes: g.nonEmptyStrings("instanceTypes") ?? [],
      capacityType: g.string("capacityType") as NodeGroupConfig["capacityType"],
      os: g.string("os") as NodeGroupConfig["os"],
      minSize: g.number("minSize"),
      desiredSize: g.number("desiredSize"),
      maxSize: g.number("maxSize"),
      rootVolumeGib: g.number("rootVolumeGib"),
      workloadType: g.string("workloadType"),
    };
    problems.push(
      ...fromComponent(
        prefix,
        validateAcceleratorNodeGroupArgs({
          ...group,
          clusterName: "c",
          nodeRoleArn: "r",
          subnetIds: [],
        }),
      ),
    );
    nodeGroups.push(group);
  });

  const nodePools = pooled ? readNodePools(r.value("nodePools"), problems, provisioner) : [];

  const a = readSection(`${PREFIX}.addons`, r.map("addons") ?? {}, problems, [
    ...ADDON_BOOLEANS,
    "gpuMetrics",
    "autoscalerExpander",
  ])!;
  const addons: EksConfig["addons"] = {
    gpuMetrics: a.string("gpuMetrics") as EksConfig["addons"]["gpuMetrics"],
    autoscalerExpander: a.string("autoscalerExpander") as EksConfig["addons"]["autoscalerExpander"],
    neuronDevicePlugin:
      nodeGroups.some((n) =>
        n.instanceTypes.some((t) => findInstance(t)?.accelerator?.kind === "neuron"),
      ) || nodePools.some((p) => p.families.some((f) => familyAccelerator(f) === "neuron")),
  };
  for (const k of ADDON_BOOLEANS) addons[k] = a.boolean(k);
  // Karpenter adds the capacity: the Cluster Autoscaler would scale the same pods' nodes.
  if (pooled) {
    if (addons.clusterAutoscaler === true)
      problems.push(
        `${PREFIX}.addons.clusterAutoscaler must not be true with provisioner ${provisioner}: both would add nodes for the same pending pods (${autoMode ? "Auto Mode" : "Karpenter"} launches the accelerator capacity); remove it`,
      );
    addons.clusterAutoscaler = false;
  }
  // Auto Mode runs the device plugins and the load balancer controller itself
  // (catalog/karpenter.ts, "EKS Auto Mode"): ours would be a second copy on the same nodes.
  if (autoMode) {
    for (const [key, what] of [
      [
        "nvidiaDevicePlugin",
        "Auto Mode runs the NVIDIA device plugin on its GPU nodes itself (auto-accelerated.adoc), and a second one would advertise the same GPUs",
      ],
      [
        "loadBalancerController",
        "Auto Mode runs its own load balancing (ingress class controller eks.amazonaws.com/alb), and a second controller would reconcile the same load balancers",
      ],
    ] as const)
      if (addons[key] === true)
        problems.push(
          `${PREFIX}.addons.${key} must not be true with provisioner autoMode: ${what}; remove it`,
        );
    addons.nvidiaDevicePlugin = false;
    addons.neuronDevicePlugin = false;
    addons.loadBalancerController = false;
  }
  problems.push(
    ...fromComponent(
      `${PREFIX}.addons`,
      validateClusterAddonsArgs({ ...addons, clusterName: "c", region: "r", vpcId: "v" }),
    ),
  );

  const c = readSection(`${PREFIX}.modelCache`, r.map("modelCache") ?? {}, problems, [
    "enabled",
    "syncPrefix",
  ])!;
  const modelCache = {
    enabled: c.boolean("enabled") ?? true,
    syncPrefix: c.checked("syncPrefix", validateModelPrefix),
  };
  const m = readSection(`${PREFIX}.metrics`, r.map("metrics") ?? {}, problems, [
    "enabled",
    "scrapeIntervalSeconds",
  ])!;
  const metrics = {
    enabled: m.boolean("enabled") ?? false,
    scrapeIntervalSeconds: m.number("scrapeIntervalSeconds"),
  };
  if (!metrics.enabled) m.notWith("scrapeIntervalSeconds", "without enabled: true");
  problems.push(
    ...fromComponent(
      `${PREFIX}.metrics`,
      validateMetricsPipelineArgs({
        ...metrics,
        clusterName: "c",
        clusterArn: "a",
        region: "r",
        subnetIds: [],
        clusterSecurityGroupId: "sg",
      }),
    ),
  );
  const deploys = kubernetesObjects(
    addons,
    modelCache.enabled,
    ctx.triton ?? false,
    metrics.enabled,
  );
  if (deploys.length > 0 && apiAccessPaths(cluster).length === 0) {
    problems.push(
      `${PREFIX}.publicAccessCidrs is required: the stack deploys ${deploys.join(", ")} into the cluster from where pulumi up runs, and its API endpoint is private with no deployer admitted; set ${PREFIX}.deployerAccess: deployerAddress (npm run deploy admits its own address while it deploys), list the deployer's egress CIDRs (not 0.0.0.0/0), or give ${PREFIX}.privateAccessCidrs or ${PREFIX}.privateAccessSecurityGroupIds for a deployer inside the VPC`,
    );
  }
  return { cluster, nodeGroups, provisioner, nodePools, addons, modelCache, metrics };
}

/** `llm-infra:eks.nodePools`: each pool's keys, with one line per mistake naming it. */
/** `llm-infra:eks.builtinNodePools`: which of Auto Mode's own pools to keep (none by default). */
function builtinNodePoolsOf(r: SectionReader): BuiltinNodePool[] {
  return (r.checkedList("builtinNodePools", (v) =>
    (BUILTIN_NODE_POOLS as readonly string[]).includes(v)
      ? undefined
      : `must be one of ${BUILTIN_NODE_POOLS.join(", ")}, got ${JSON.stringify(v)}`,
  ) ?? []) as BuiltinNodePool[];
}

function readNodePools(
  raw: unknown,
  problems: string[],
  provisioner: Provisioner,
): NodePoolConfig[] {
  const key = `${PREFIX}.nodePools`;
  if (!Array.isArray(raw) || raw.length === 0) {
    problems.push(
      `${key} must list at least one node pool with provisioner ${provisioner} (for example { name: gpu, families: [g6, g5], capacity: [spot, on-demand] }), got ${shown(raw ?? null)}`,
    );
    return [];
  }
  const names = new Set<string>();
  const pools: NodePoolConfig[] = [];
  raw.forEach((item: unknown, i: number) => {
    const prefix = `${key}[${i}]`;
    const p = readSection(prefix, item, problems, [
      "name",
      "families",
      "sizes",
      "capacity",
      "reservations",
      "maxAccelerators",
      "rootVolumeGib",
      "workloadType",
      "consolidateAfter",
    ]);
    if (!p) return;
    const reserved =
      provisioner === "autoMode"
        ? [...RESERVED_NAMES, ...AUTO_MODE_RESERVED_NAMES]
        : RESERVED_NAMES;
    const name = readEntryName(p, names, "node pool", reserved, problems);
    if (!name) return;
    const families =
      p.checkedList(
        "families",
        (f) =>
          familyAccelerator(f) === undefined
            ? `is not an instance family with accelerators the catalog knows (${acceleratedFamilies().join(", ")}), got ${JSON.stringify(f)}`
            : undefined,
        true,
      ) ?? [];
    const kinds = new Set(families.map(familyAccelerator));
    if (kinds.size > 1)
      problems.push(
        `${p.key("families")} must all have one kind of accelerator (NVIDIA GPUs or Neuron devices: a node class and taint per kind), got ${families.join(", ")}`,
      );
    // Its values are the component's to check (checkNodePools).
    const capacity = (p.nonEmptyStrings("capacity") ?? ["on-demand"]) as CapacityRung[];
    const rv = readSection(p.key("reservations"), p.value("reservations"), problems, [
      "ids",
      "tags",
    ]);
    const tags = rv?.map("tags");
    const reservations = rv
      ? {
          ids: rv.strings("ids"),
          tags: tags
            ? (Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, String(v)])) as Record<
                string,
                string
              >)
            : undefined,
        }
      : undefined;
    const pool: NodePoolConfig = {
      name,
      families,
      sizes: p.nonEmptyStrings("sizes"),
      capacity,
      reservations,
      maxAccelerators: p.number("maxAccelerators"),
      rootVolumeGib: p.number("rootVolumeGib"),
      workloadType: p.string("workloadType"),
      consolidateAfter: p.string("consolidateAfter"),
    };
    pools.push(pool);
  });
  return pools;
}

/**
 * Each pool checked once the workload that selects it is known (its types come from the fit
 * filter on that workload's model): a pool with no type left is one line naming its families;
 * every other rule of GpuNodePool (capacity, reservations, the limit against one replica's
 * accelerators, the root volume, durations) names its own key.
 */
export function checkNodePools(
  eks: EksConfig,
  workloads: Record<string, PoolWorkload>,
  problems: string[],
): void {
  eks.nodePools.forEach((pool, i) => {
    const prefix = `${PREFIX}.nodePools[${i}]`;
    const workload = workloads[pool.name];
    const args = nodePoolArgs(pool, workload);
    if (args.instanceTypes.length === 0) {
      const where = `${pool.families.join(", ")}${pool.sizes ? ` (sizes ${pool.sizes.join(", ")})` : ""}`;
      problems.push(
        workload?.model
          ? `${prefix}.families has no instance type that holds the model in ${args.acceleratorsPerPod} accelerator(s): none of the catalog's ${where} types fits it; allow larger types or families, or give the pods more accelerators`
          : `${prefix}.families has no accelerated instance type of ${where} in the catalog with ${args.acceleratorsPerPod} accelerator(s)`,
      );
      return;
    }
    // Auto Mode launches only the families its instance reference lists.
    if (eks.provisioner === "autoMode") {
      const refused = args.instanceTypes.filter((t) => autoModeTypeProblem(t) !== undefined);
      if (refused.length > 0)
        problems.push(
          `${prefix}.families holds ${refused.join(", ")}, which EKS Auto Mode does not launch (automode-learn-instances.adoc); allow other families or sizes`,
        );
    }
    problems.push(
      ...fromComponent(
        prefix,
        validateGpuNodePoolArgs({ ...args, clusterName: "c", nodeRoleName: "r" }),
      ),
    );
  });
}

/**
 * What each pool's workload asks of it, by pool name: Triton's pod accelerators, model and most
 * replicas (the chart's default of 4 when the stack gives none), for the pool Triton names.
 */
export function poolWorkloadsOf(
  triton:
    | {
        nodeGroup: string;
        acceleratorsPerPod?: number;
        modelRequirements?: ModelRequirements;
        maxReplicas?: number;
      }
    | undefined,
): Record<string, PoolWorkload> {
  return triton
    ? {
        [triton.nodeGroup]: {
          acceleratorsPerPod: triton.acceleratorsPerPod,
          model: triton.modelRequirements,
          maxReplicas: triton.maxReplicas ?? 4,
        },
      }
    : {};
}

/** What the stack deploys through the Kubernetes API (Helm releases, the model cache, Triton). */
export function kubernetesObjects(
  addons: EksConfig["addons"],
  modelCache: boolean,
  triton: boolean,
  metrics = false,
): string[] {
  const helm = [
    ["nvidiaDevicePlugin", true],
    ["neuronDevicePlugin", false],
    ["clusterAutoscaler", true],
    ["loadBalancerController", true],
    ["metricsServer", true],
  ] as const;
  return [
    ...helm.filter(([k, byDefault]) => addons[k] ?? byDefault).map(([k]) => `the ${k} release`),
    ...(addons.gpuMetrics === "dcgm" ? ["the dcgm-exporter release"] : []),
    ...(metrics ? ["the KEDA release"] : []),
    ...(modelCache ? ["the model cache"] : []),
    ...(triton ? ["Triton"] : []),
  ];
}
