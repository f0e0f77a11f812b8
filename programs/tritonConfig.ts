/**
 * The `llm-infra:triton` config section: Triton on the EKS cluster, from the chart in charts/triton.
 *
 * ```yaml
 * llm-infra:triton:
 *   nodeGroup: gpu          # one of llm-infra:eks.nodeGroups
 *   minReplicas: 2
 *   maxReplicas: 8
 * ```
 */
import { TritonReleaseArgs, validateTritonReleaseArgs } from "../components/triton/tritonRelease";
import { acmCertificateArnProblem } from "../catalog/awsLimits";
import { validateModelPrefix } from "../components/storage/modelStorePolicies";
import { readImageConfig } from "./imageConfig";
import { driverProblem, eksHostDriver } from "../catalog/drivers";
import { tritonImage } from "../catalog/images";
import { findInstance } from "../catalog/instances";
import { SectionReader, fromComponent, readSection } from "./configReader";
import { readModel } from "./sagemakerConfig";
import { EksConfig, NodeGroupConfig, poolTypes, usesNodePools } from "./eksConfig";
import { ModelRequirements } from "../catalog/modelFit";
import { localRepositoryProblems, resolveModelRepository } from "../modelRepository/local";
import { hubModelsOf } from "../modelRepository/hubModels";

export type TritonConfig = Pick<
  TritonReleaseArgs,
  | "modelRepositoryMode"
  | "minReplicas"
  | "maxReplicas"
  | "hpaMetric"
  | "acceleratorsPerPod"
  | "ingress"
  | "ingressScheme"
  | "certificateArn"
  | "ingressGrpc"
  | "ingressIdleTimeoutSeconds"
  | "imageTag"
  | "imageFlavour"
  | "targetPendingRequestsPerReplica"
  | "targetQueueTimeMilliseconds"
  | "modelRequirements"
  | "utilization"
> & {
  /** One of llm-infra:storage.repositories: Triton's image comes from it. */
  ownImageRepository?: string;
  /** The node group (or, with provisioner karpenter or autoMode, the node pool) Triton runs on. */
  nodeGroup: string;
  /** The model store prefix of Triton's model repository. */
  modelPrefix: string;
  /** The local Triton model repository the deploy checks and pushes to `modelPrefix`. */
  modelRepository?: string;
  instanceType: string;
  workloadType: string;
};

const PREFIX = "llm-infra:triton";

export function parseTritonConfig(
  raw: unknown,
  ctx: {
    eks?: EksConfig;
    repositoryPrefix: string;
    region: string;
    repositories?: string[];
    /** The project root: `modelRepository` is checked on disk against it (not when absent). */
    root?: string;
  },
  problems: string[],
): TritonConfig | undefined {
  const r = readSection(PREFIX, raw, problems, [
    "nodeGroup",
    "nodePool",
    "modelRepositoryMode",
    "modelPrefix",
    "minReplicas",
    "maxReplicas",
    "hpaMetric",
    "acceleratorsPerPod",
    "ingress",
    "ingressScheme",
    "certificateArn",
    "ingressGrpc",
    "ingressIdleTimeoutSeconds",
    "imageTag",
    "imageFlavour",
    "imageRepository",
    "modelRepository",
    "targetPendingRequestsPerReplica",
    "targetQueueTimeMilliseconds",
    "model",
    "utilization",
  ]);
  if (!r) return undefined;
  if (!ctx.eks) {
    problems.push(`${PREFIX} needs an EKS cluster: add llm-infra:eks with a node group`);
    return undefined;
  }
  const modelRequirements = readModel(r, problems);
  const acceleratorsPerPod = r.number("acceleratorsPerPod");
  const group = tritonNodes(r, ctx.eks, { acceleratorsPerPod, model: modelRequirements }, problems);
  if (!group) return undefined;
  const nodeGroup = group.name;
  // Scaling on Triton's queue needs the metrics pipeline that serves it.
  const pipeline = ctx.eks.metrics.enabled;
  const hpaMetric = r.string("hpaMetric");
  if (hpaMetric === "custom" && !pipeline)
    problems.push(
      `${r.key("hpaMetric")} custom needs llm-infra:eks.metrics.enabled: true (the metrics pipeline that serves Triton's queue to the HPA); use cpu, or turn the pipeline on`,
    );
  if (!pipeline || hpaMetric === "cpu") {
    const why = pipeline ? "with hpaMetric cpu" : "without llm-infra:eks.metrics.enabled: true";
    for (const k of ["targetPendingRequestsPerReplica", "targetQueueTimeMilliseconds"])
      r.notWith(k, why);
  }
  const ingress = r.boolean("ingress");
  if (ingress !== true) {
    const why = "without ingress: true (they configure Triton's load balancer)";
    for (const k of ["ingressScheme", "certificateArn", "ingressGrpc", "ingressIdleTimeoutSeconds"])
      r.notWith(k, why);
  }
  const config: TritonConfig = {
    nodeGroup,
    instanceType: group.instanceTypes[0] ?? "",
    workloadType: group.workloadType ?? "gpu-inference",
    modelPrefix: r.checked("modelPrefix", validateModelPrefix) ?? `${ctx.repositoryPrefix}/triton`,
    modelRepositoryMode: r.string("modelRepositoryMode") as TritonConfig["modelRepositoryMode"],
    minReplicas: r.number("minReplicas"),
    maxReplicas: r.number("maxReplicas"),
    hpaMetric: hpaMetric as TritonConfig["hpaMetric"],
    targetPendingRequestsPerReplica: r.number("targetPendingRequestsPerReplica"),
    targetQueueTimeMilliseconds: r.number("targetQueueTimeMilliseconds"),
    acceleratorsPerPod: group.acceleratorsPerPod ?? acceleratorsPerPod,
    ingress,
    ingressScheme: r.string("ingressScheme"),
    certificateArn: r.checked("certificateArn", (a) => acmCertificateArnProblem(a, ctx.region)),
    ingressGrpc: r.boolean("ingressGrpc"),
    ingressIdleTimeoutSeconds: r.number("ingressIdleTimeoutSeconds"),
    modelRequirements,
    utilization: r.number("utilization"),
  };
  const image = readImageConfig(
    r,
    { repositories: ctx.repositories ?? [], checkFlavour: false },
    problems,
  );
  if (image.imageTag !== undefined) config.imageTag = image.imageTag;
  if (image.imageFlavour !== undefined) config.imageFlavour = image.imageFlavour;
  if (image.imageRepository !== undefined) config.ownImageRepository = image.imageRepository;
  const modelRepository = r.string("modelRepository");
  if (modelRepository !== undefined) config.modelRepository = modelRepository;
  // The node group's own line already names a missing instance type.
  if (group.instanceTypes.length === 0) return config;
  // An NGC Triton tag needs the driver NVIDIA lists for it on the node group's AMI.
  if (
    findInstance(config.instanceType)?.accelerator?.kind === "nvidia" &&
    config.imageFlavour !== "neuron"
  ) {
    const tag = config.imageTag ?? tritonImage({ flavour: config.imageFlavour }).tag;
    const problem = driverProblem(tag, eksHostDriver(group.os));
    if (problem !== undefined)
      problems.push(
        `${r.key(config.imageTag !== undefined ? "imageTag" : "imageFlavour")} ${problem} (${group.kind} ${group.name})`,
      );
  }
  if (modelRepository !== undefined && ctx.root !== undefined)
    for (const p of localRepositoryProblems(ctx.root, modelRepository, {
      flavour: config.imageFlavour ?? "base",
      instanceType: config.instanceType,
      model: config.modelRequirements,
      label: "triton",
    }))
      problems.push(`${r.key("modelRepository")} ${p}`);
  // A hub model's weights are copied into the prefix and model.json points vLLM at their local
  // path; in s3 mode Triton copies the repository to a temporary directory of its own choosing.
  if (
    modelRepository !== undefined &&
    ctx.root !== undefined &&
    config.modelRepositoryMode === "s3"
  )
    for (const m of hubModelsOf(resolveModelRepository(ctx.root, modelRepository)))
      problems.push(
        `${r.key("modelRepositoryMode")} s3 cannot serve ${modelRepository}/${m.file} (it names the hub model ${m.repoId}, whose weights the stack copies into the model store and vLLM loads from a local path, which s3 mode does not give): use s3-sync or efs`,
      );
  if (config.modelRepositoryMode === "efs" && !ctx.eks.modelCache.enabled) {
    problems.push(`${r.key("modelRepositoryMode")} efs needs llm-infra:eks.modelCache enabled`);
  }
  const efs = config.modelRepositoryMode === "efs";
  problems.push(
    ...fromComponent(
      PREFIX,
      validateTritonReleaseArgs({
        ...config,
        clusterName: "c",
        readPolicyJson: "{}",
        modelRepositoryUri: efs ? undefined : "s3://b/p/",
        imageRepository: config.ownImageRepository,
        efsClaim: efs ? "model-cache" : undefined,
        // The pipeline's own line above names a custom metric without it.
        hpaMetric: hpaMetric === "custom" && !pipeline ? undefined : config.hpaMetric,
        metricsPipeline: pipeline ? { queryEndpoint: "https://q", region: ctx.region } : undefined,
      }),
      {
        instanceType: group.kind === "node pool" ? "nodePool" : "nodeGroup",
        modelRequirements: "model",
      },
    ),
  );
  return config;
}

/** The nodes Triton lands on: a node group, or with provisioner karpenter or autoMode a node pool. */
interface TritonNodes {
  kind: "node group" | "node pool";
  name: string;
  instanceTypes: string[];
  workloadType?: string;
  os?: NodeGroupConfig["os"];
  /** A node pool's pod accelerators (given, or the fewest that hold the model). */
  acceleratorsPerPod?: number;
}

/**
 * The entry of `llm-infra:eks.<list>` that Triton's `key` names (default `gpu`), or a problem
 * naming the key and the names there are.
 */
function namedEntry<T extends { name: string }>(
  r: SectionReader,
  key: "nodeGroup" | "nodePool",
  list: "nodeGroups" | "nodePools",
  entries: T[],
  problems: string[],
): T | undefined {
  const name = r.string(key) ?? "gpu";
  const entry = entries.find((e) => e.name === name);
  if (!entry)
    problems.push(
      `${r.key(key)} must name one of llm-infra:eks.${list} (${entries.map((e) => e.name).join(", ") || "none"}), got ${JSON.stringify(name)}`,
    );
  return entry;
}

/**
 * The node group `nodeGroup` names, or with node pools (karpenter, autoMode) the one `nodePool` names,
 * with the instance types its pods may land on (a pool's, from the fit filter on the model).
 */
function tritonNodes(
  r: SectionReader,
  eks: EksConfig,
  workload: { acceleratorsPerPod?: number; model?: ModelRequirements },
  problems: string[],
): TritonNodes | undefined {
  if (usesNodePools(eks)) {
    r.notWith(
      "nodeGroup",
      `with llm-infra:eks.provisioner ${eks.provisioner} (name one of llm-infra:eks.nodePools in nodePool)`,
    );
    const pool = namedEntry(r, "nodePool", "nodePools", eks.nodePools, problems);
    if (!pool) return undefined;
    const types = poolTypes(pool, workload);
    return {
      kind: "node pool",
      name: pool.name,
      instanceTypes: types.instanceTypes,
      workloadType: pool.workloadType,
      acceleratorsPerPod: types.acceleratorsPerPod,
    };
  }
  r.notWith(
    "nodePool",
    "without llm-infra:eks.provisioner karpenter or autoMode (name a node group in nodeGroup)",
  );
  const group = namedEntry(r, "nodeGroup", "nodeGroups", eks.nodeGroups, problems);
  return group ? { kind: "node group", ...group } : undefined;
}
