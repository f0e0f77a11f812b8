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
import { fromComponent, readEntryName, readSection } from "./configReader";
import { RESERVED_NAMES } from "./sagemakerConfig";

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
  >;
  nodeGroups: NodeGroupConfig[];
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
    "addons",
    "modelCache",
    "metrics",
  ]);
  if (!r) return undefined;
  const cluster = {
    kubernetesVersion: r.string("kubernetesVersion"),
    publicAccessCidrs: r.checkedList("publicAccessCidrs", ipv4CidrProblem),
    privateAccessCidrs: r.checkedList("privateAccessCidrs", ipv4CidrProblem),
    privateAccessSecurityGroupIds: r.strings("privateAccessSecurityGroupIds"),
    deployerAccess: r.string("deployerAccess") as GpuClusterArgs["deployerAccess"],
    adminPrincipalArns: r.strings("adminPrincipalArns"),
    systemInstanceType: r.string("systemInstanceType"),
    systemNodeCount: r.number("systemNodeCount"),
  };
  problems.push(
    ...fromComponent(
      PREFIX,
      validateGpuClusterArgs({ ...cluster, vpcId: "vpc", privateSubnetIds: [] }),
    ),
  );

  const nodeGroups: NodeGroupConfig[] = [];
  const rawGroups = r.value("nodeGroups") ?? [];
  if (!Array.isArray(rawGroups))
    problems.push(
      `${PREFIX}.nodeGroups must be a list of node groups, got ${JSON.stringify(rawGroups)}`,
    );
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

  const a = readSection(`${PREFIX}.addons`, r.map("addons") ?? {}, problems, [
    ...ADDON_BOOLEANS,
    "gpuMetrics",
    "autoscalerExpander",
  ])!;
  const addons: EksConfig["addons"] = {
    gpuMetrics: a.string("gpuMetrics") as EksConfig["addons"]["gpuMetrics"],
    autoscalerExpander: a.string("autoscalerExpander") as EksConfig["addons"]["autoscalerExpander"],
    neuronDevicePlugin: nodeGroups.some((n) =>
      n.instanceTypes.some((t) => findInstance(t)?.accelerator?.kind === "neuron"),
    ),
  };
  for (const k of ADDON_BOOLEANS) addons[k] = a.boolean(k);
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
  return { cluster, nodeGroups, addons, modelCache, metrics };
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
