/**
 * Each serving target's record: its dollars per million output tokens, and whether it starts in
 * time (catalog/startup.ts). Dollars per million output tokens, from the plan's resources: the hourly
 * price of one instance over what its accelerators produce (a published row of
 * catalog/throughput.ts) at the target's utilization:
 *
 *   $/1M output tokens = $/hour / (output tokens/s x 3600 x utilization) x 1,000,000
 *
 * Each figure is a record with its inputs, so anyone can recompute it; a target without a figure
 * says why. Pure over the resources (as the cost estimator is), so `npm run plan`, the tests and
 * the policy `max-usd-per-million-tokens` under `pulumi preview` compute the same figures.
 *
 * What the components record for it: the model's parameter class and dtype (`MODEL_CLASS_TAG`,
 * `8B bf16`) and the utilization (`UTILIZATION_TAG`) as tags of the SageMaker endpoint
 * configuration and of the fleet's Auto Scaling group; the engine and tensor parallelism come from
 * the serving image and its environment.
 */
import {
  DEFAULT_AUTO_MODE_FEE_SHARE,
  NODE_POOL_TYPE,
  isAutoModePool,
  nodePoolCapacityTypes,
  nodePoolLabels,
  poolTypesByReplicaPrice,
} from "./karpenter";
import {
  DEFAULT_UTILIZATION,
  ResourceRecord,
  SavingsPlansConfig,
  autoScalingGroupInstance,
  variantInstanceTypes,
} from "./cost";
import { userDataImages } from "./imageSources";
import { isServingImage, isTritonChart } from "./images";
import { findInstance } from "./instances";
import { BYTES_PER_PARAMETER, ModelDtype, ModelRequirements } from "./modelFit";
import { SAVINGS_PLANS, SPOT_DISCOUNT, ec2HourlyUsd, sagemakerHourlyUsd } from "./prices";
import {
  TRITON_PROBE_PERIOD_SECONDS,
  TRITON_STARTUP_FAILURE_THRESHOLD,
  gb,
  startupEstimate,
} from "./startup";
import { neuronCompileSeconds } from "./neuron";
import { ServingEngine, ThroughputRow, throughputRowFor, usdPerMillionTokens } from "./throughput";

/** The tag with a serving resource's model class: `<parameters>B <dtype>`. */
export const MODEL_CLASS_TAG = "llm-infra:model-class";
/** The tag with the utilization its cost per token assumes, a fraction in (0, 1]. */
export const UTILIZATION_TAG = "llm-infra:utilization";

/** `8B bf16` for an 8-billion-parameter model in bf16. */
export function modelClassOf(req: Pick<ModelRequirements, "parametersBillions" | "dtype">): string {
  return `${req.parametersBillions}B ${req.dtype}`;
}

function parseModelClass(
  tag: unknown,
): { parametersBillions: number; dtype: ModelDtype } | undefined {
  const m = typeof tag === "string" ? /^(\d+(?:\.\d+)?)B (\w+)$/.exec(tag) : null;
  if (!m || !(m[2] in BYTES_PER_PARAMETER)) return undefined;
  return { parametersBillions: Number(m[1]), dtype: m[2] as ModelDtype };
}

/** Why a utilization is not one, or undefined. */
export function utilizationProblem(v: unknown): string | undefined {
  return typeof v === "number" && Number.isFinite(v) && v > 0 && v <= 1
    ? undefined
    : `must be a fraction of the hours in (0, 1], got ${JSON.stringify(v)}`;
}

export interface ServingTargetRecord {
  /** The serving target as the plan names it: `SageMaker endpoint chat-config`, `fleet fleet-asg`. */
  target: string;
  /** The priced resource. */
  resource: string;
  instanceType: string;
  modelClass?: string;
  engine?: ServingEngine;
  tensorParallel?: number;
  utilization?: number;
  /** One instance, at `basis`. */
  usdPerHour?: number;
  /** `on-demand`, or on-demand less the Savings Plan the stack holds for it. */
  basis: string;
  row?: Pick<ThroughputRow, "id" | "load" | "outputTokensPerSecond" | "source">;
  usdPerMillionOutputTokens?: number;
  /** Why there is no figure. */
  reason?: string;
  /** Will it start: the weights' download and load (catalog/startup.ts) against the target's limits. */
  startup?: {
    weightsBytes: number;
    downloadSeconds: number;
    loadSeconds: number;
    /** SageMaker's download timeout. */
    downloadLimitSeconds?: number;
    /** SageMaker's container-startup timeout. */
    loadLimitSeconds?: number;
    /** The fleet's health-check grace period, for both. */
    totalLimitSeconds?: number;
    /** The Neuron export before the endpoint starts (catalog/neuron.ts neuronCompileSeconds). */
    compileSeconds?: number;
  };
}

const obj = (v: unknown): Record<string, unknown> =>
  v !== null && typeof v === "object" ? (v as Record<string, unknown>) : {};

/** Tags as a map, from a map or the Auto Scaling group's `[{key, value}]`. */
function tagsOf(inputs: Record<string, unknown>): Record<string, unknown> {
  const tags = inputs.tags;
  if (Array.isArray(tags))
    return Object.fromEntries(tags.map((t) => [obj(t).key, obj(t).value] as const));
  return obj(tags);
}

/**
 * The engine a serving image runs: LMI, the vLLM Neuron image and NGC's vLLM tags run vLLM, trtllm
 * tags TensorRT-LLM.
 */
export function engineOfImage(image: unknown): ServingEngine | undefined {
  if (typeof image !== "string") return undefined;
  const tag = image.slice(image.lastIndexOf(":") + 1);
  if (/\/djl-inference:/.test(image) && /-lmi/.test(tag)) return "vllm";
  if (isServingImage(image, "vllm-neuron")) return "vllm";
  if (/-vllm-/.test(tag)) return "vllm";
  if (/-trtllm-/.test(tag)) return "tensorrt-llm";
  return undefined;
}

/** The figure, or the reason there is none, for one target once its inputs are read. */
function figure(
  base: Omit<ServingTargetRecord, "usdPerMillionOutputTokens" | "reason" | "row" | "startup">,
  tags: Record<string, unknown>,
  tagName: string,
  limits: Omit<
    NonNullable<ServingTargetRecord["startup"]>,
    "weightsBytes" | "downloadSeconds" | "loadSeconds" | "compileSeconds"
  >,
  compiled = false,
): ServingTargetRecord {
  const record: ServingTargetRecord = { ...base };
  const model = parseModelClass(tags[MODEL_CLASS_TAG]);
  const shape = model ? { ...model, contextLength: 1, concurrentSequences: 1 } : undefined;
  const estimate = shape ? startupEstimate(shape, base.instanceType) : undefined;
  if (estimate)
    record.startup = {
      weightsBytes: estimate.weightsBytes,
      downloadSeconds: estimate.downloadSeconds,
      loadSeconds: estimate.loadSeconds,
      ...limits,
      ...(shape && compiled ? { compileSeconds: neuronCompileSeconds(shape) } : {}),
    };
  const utilization = Number(tags[UTILIZATION_TAG] ?? DEFAULT_UTILIZATION);
  const spec = findInstance(base.instanceType.replace(/^ml\./, ""));
  if (!model)
    return { ...record, reason: `no model declared (tag ${MODEL_CLASS_TAG} on ${tagName})` };
  record.modelClass = modelClassOf(model);
  if (utilizationProblem(utilization))
    return {
      ...record,
      reason: `the ${UTILIZATION_TAG} tag on ${tagName} must be a fraction of the hours in (0, 1], got ${JSON.stringify(tags[UTILIZATION_TAG])}`,
    };
  record.utilization = utilization;
  if (!spec?.accelerator) return { ...record, reason: `${base.instanceType} has no accelerator` };
  if (!record.engine) return { ...record, reason: "the serving image's engine is not known" };
  if (record.usdPerHour === undefined)
    return { ...record, reason: `no price for ${base.instanceType}` };
  const tensorParallel = record.tensorParallel ?? spec.accelerator.count;
  record.tensorParallel = tensorParallel;
  const row = throughputRowFor({
    ...model,
    engine: record.engine,
    accelerator: spec.accelerator.model,
    tensorParallel,
  });
  if (!row)
    return {
      ...record,
      reason: `no published throughput for ${record.modelClass} on ${record.engine} with ${tensorParallel} x ${spec.accelerator.model} (catalog/throughput.ts)`,
    };
  return {
    ...record,
    row: {
      id: row.id,
      load: row.load,
      outputTokensPerSecond: row.outputTokensPerSecond,
      source: row.source,
    },
    usdPerMillionOutputTokens: usdPerMillionTokens(
      record.usdPerHour,
      row.outputTokensPerSecond,
      utilization,
    ),
  };
}

/** An hourly price less the Savings Plan the stack holds for its service, with the words for it. */
function priced(
  onDemand: number | undefined,
  service: "sagemaker" | "compute",
  savingsPlans: SavingsPlansConfig | undefined,
): { usdPerHour?: number; basis: string } {
  const term = savingsPlans?.[service] ?? "none";
  if (onDemand === undefined || term === "none")
    return { usdPerHour: onDemand, basis: "on-demand" };
  const { discount } = SAVINGS_PLANS[service][term];
  return {
    usdPerHour: onDemand * (1 - discount),
    basis: `on-demand less ${Math.round(discount * 100)}% (${service === "sagemaker" ? "SageMaker" : "Compute"} Savings Plan, ${term})`,
  };
}

/**
 * The cost per million output tokens of every serving target of the plan, at on-demand prices or
 * less the Savings Plans the stack's cost settings name (the plan passes them; the policy, which
 * sees resources only, prices on-demand).
 */
export function servingTargets(
  records: ResourceRecord[],
  options: {
    region: string;
    savingsPlans?: SavingsPlansConfig;
    /** EKS Auto Mode's fee as a share of on-demand (cost assumption). @default 0.12 */
    autoModeFeeShare?: number;
  },
): ServingTargetRecord[] {
  const out: ServingTargetRecord[] = [];
  const ofType = (t: string) => records.filter((r) => r.type === t);
  // SageMaker: the configuration's variant and tags, the model's image and environment.
  for (const config of ofType("aws:sagemaker/endpointConfiguration:EndpointConfiguration")) {
    const variant = obj((config.inputs.productionVariants as unknown[] | undefined)?.[0]);
    if (typeof variant.instanceType !== "string") continue;
    const model = ofType("aws:sagemaker/model:Model").find(
      (m) => (m.id !== undefined && m.id === variant.modelName) || m.parent === config.parent,
    );
    const container = obj(model?.inputs.primaryContainer);
    const tp = Number(obj(container.environment).TENSOR_PARALLEL_DEGREE);
    out.push(
      figure(
        {
          target: `SageMaker endpoint ${config.parent ?? config.name}`,
          resource: config.name,
          instanceType: variant.instanceType,
          engine: engineOfImage(container.image),
          ...(Number.isInteger(tp) && tp > 0 ? { tensorParallel: tp } : {}),
          ...priced(
            sagemakerHourlyUsd(variant.instanceType, options.region).value,
            "sagemaker",
            options.savingsPlans,
          ),
        },
        tagsOf(config.inputs),
        "the endpoint configuration",
        {
          ...(typeof variant.modelDataDownloadTimeoutInSeconds === "number"
            ? { downloadLimitSeconds: variant.modelDataDownloadTimeoutInSeconds }
            : {}),
          ...(typeof variant.containerStartupHealthCheckTimeoutInSeconds === "number"
            ? { loadLimitSeconds: variant.containerStartupHealthCheckTimeoutInSeconds }
            : {}),
        },
        // The vLLM Neuron image serves a model the deploy compiled first (its Neuron export).
        typeof container.image === "string" && isServingImage(container.image, "vllm-neuron"),
      ),
    );
  }
  // Inference components: a copy's share of the first pool type's accelerators and price, the
  // component's model and image, the configuration's utilization, its own startup limits.
  for (const ic of ofType("aws-native:sagemaker:InferenceComponent")) {
    const specs = [
      obj(ic.inputs.specification),
      ...(Array.isArray(ic.inputs.specifications) ? ic.inputs.specifications : []).map(obj),
    ].filter((x) => Object.keys(x).length > 0);
    const endpoint = ofType("aws:sagemaker/endpoint:Endpoint").find(
      (e) => e.inputs.name === ic.inputs.endpointName,
    );
    const config = ofType("aws-native:sagemaker:EndpointConfig").find(
      (c) =>
        endpoint !== undefined &&
        (c.id === endpoint.inputs.endpointConfigName ||
          c.inputs.endpointConfigName === endpoint.inputs.endpointConfigName ||
          c.parent === endpoint.parent),
    );
    const variant = obj((config?.inputs.productionVariants as unknown[] | undefined)?.[0]);
    const [instanceType] = variantInstanceTypes(variant);
    if (!config || !instanceType || specs.length === 0) continue;
    const first = specs.find((x) => x.instanceType === instanceType) ?? specs[0];
    const model = ofType("aws:sagemaker/model:Model").find(
      (m) => m.id !== undefined && m.id === first.modelName,
    );
    const container = obj(model?.inputs.primaryContainer);
    const spec = findInstance(instanceType.replace(/^ml\./, ""));
    const perCopy =
      Number(obj(first.computeResourceRequirements).numberOfAcceleratorDevicesRequired) ||
      spec?.accelerator?.count ||
      1;
    const share = spec?.accelerator ? perCopy / spec.accelerator.count : 1;
    const price = priced(
      sagemakerHourlyUsd(instanceType, options.region).value,
      "sagemaker",
      options.savingsPlans,
    );
    const startup = obj(first.startupParameters);
    out.push(
      figure(
        {
          target: `SageMaker inference component ${String(ic.inputs.inferenceComponentName ?? ic.name)}`,
          resource: ic.name,
          instanceType,
          engine: engineOfImage(container.image),
          tensorParallel: perCopy,
          ...(price.usdPerHour !== undefined
            ? {
                usdPerHour: price.usdPerHour * share,
                basis: `${price.basis}, a copy's ${perCopy} of ${spec?.accelerator?.count ?? perCopy} accelerators`,
              }
            : { basis: price.basis }),
        },
        { ...tagsOf(config.inputs), ...tagsOf(ic.inputs) },
        "the inference component",
        {
          ...(typeof startup.modelDataDownloadTimeoutInSeconds === "number"
            ? { downloadLimitSeconds: startup.modelDataDownloadTimeoutInSeconds }
            : {}),
          ...(typeof startup.containerStartupHealthCheckTimeoutInSeconds === "number"
            ? { loadLimitSeconds: startup.containerStartupHealthCheckTimeoutInSeconds }
            : {}),
        },
      ),
    );
  }
  // The fleet: the group's tags, its launch template's instance type and the image it pulls.
  for (const group of ofType("aws:autoscaling/group:Group")) {
    const tags = tagsOf(group.inputs);
    if (tags[MODEL_CLASS_TAG] === undefined && tags[UTILIZATION_TAG] === undefined) continue;
    const { instanceType, template } = autoScalingGroupInstance(group, { ofType });
    if (!instanceType) continue;
    const [image] = userDataImages(template?.inputs.userData);
    out.push(
      figure(
        {
          target:
            group.parent === "fleet" ? "EC2 fleet" : `EC2 fleet ${group.parent ?? group.name}`,
          resource: group.name,
          instanceType,
          engine: engineOfImage(image),
          ...priced(
            ec2HourlyUsd(instanceType, options.region).value,
            "compute",
            options.savingsPlans,
          ),
        },
        tags,
        "the Auto Scaling group",
        typeof group.inputs.healthCheckGracePeriod === "number"
          ? { totalLimitSeconds: group.inputs.healthCheckGracePeriod }
          : {},
      ),
    );
  }
  // Triton on EKS: the release's pod annotations, its node group (by the nodeSelector), a pod's
  // share of the node's accelerators and price, the image it runs and its startup probe.
  for (const release of ofType("kubernetes:helm.sh/v3:Release")) {
    if (!isTritonChart(release.inputs.chart)) continue;
    const values = obj(release.inputs.values);
    const annotations = obj(values.podAnnotations);
    const target = `Triton on EKS ${release.name}`;
    const workloadType = obj(values.nodeSelector)["workload-type"];
    const group = ofType("aws:eks/nodeGroup:NodeGroup").find(
      (g) => obj(g.inputs.labels)["workload-type"] === workloadType,
    );
    // Or a Karpenter pool: the type its cost line prices a replica on (the cheapest per replica).
    const pool = ofType(NODE_POOL_TYPE).find(
      (p) => nodePoolLabels(p.name, p.inputs)["workload-type"] === workloadType,
    );
    const podAccelerators = Number(obj(values.accelerator).count) || 1;
    const poolType = pool
      ? poolTypesByReplicaPrice(pool.inputs, podAccelerators, options.region)[0]?.type
      : undefined;
    const instanceType = String(
      (group?.inputs.instanceTypes as unknown[] | undefined)?.[0] ?? poolType ?? "",
    );
    if (annotations[MODEL_CLASS_TAG] === undefined || !instanceType) {
      out.push({
        target,
        resource: release.name,
        instanceType,
        basis: "on-demand",
        reason: "llm-infra:triton declares no model, so no throughput row is looked up",
      });
      continue;
    }
    const spec = findInstance(instanceType);
    const perPod = Number(obj(values.accelerator).count) || spec?.accelerator?.count || 1;
    const share = spec?.accelerator ? perPod / spec.accelerator.count : 1;
    // A spot group, or a pool whose ladder starts at spot, at the estimator's spot assumption
    // (catalog/cost.ts), else on-demand less the Compute Savings Plan the stack holds.
    const onDemand = ec2HourlyUsd(instanceType, options.region).value;
    const spot =
      group?.inputs.capacityType === "SPOT" ||
      (pool !== undefined && nodePoolCapacityTypes(pool.inputs)[0] === "spot");
    const capacity =
      spot && onDemand !== undefined
        ? {
            usdPerHour: onDemand * (1 - SPOT_DISCOUNT.discount),
            basis: `on-demand less ${Math.round(SPOT_DISCOUNT.discount * 100)}% (spot assumption)`,
          }
        : priced(onDemand, "compute", options.savingsPlans);
    // An Auto Mode pool's node also pays the management fee, a share of its on-demand price.
    const feeShare =
      pool && isAutoModePool(pool.inputs)
        ? (options.autoModeFeeShare ?? DEFAULT_AUTO_MODE_FEE_SHARE)
        : 0;
    const node =
      feeShare > 0 && capacity.usdPerHour !== undefined && onDemand !== undefined
        ? {
            usdPerHour: capacity.usdPerHour + onDemand * feeShare,
            basis: `${capacity.basis}, plus the Auto Mode fee at ${Math.round(feeShare * 1000) / 10}% of on-demand`,
          }
        : capacity;
    const image = obj(values.image);
    const probes = obj(values.probes);
    const threshold = Number(probes.startupFailureThreshold) || TRITON_STARTUP_FAILURE_THRESHOLD;
    const period = Number(probes.periodSeconds) || TRITON_PROBE_PERIOD_SECONDS;
    out.push(
      figure(
        {
          target,
          resource: release.name,
          instanceType,
          engine: engineOfImage(`${String(image.repository ?? "")}:${String(image.tag ?? "")}`),
          tensorParallel: perPod,
          ...(node.usdPerHour !== undefined
            ? {
                usdPerHour: node.usdPerHour * share,
                basis: `${node.basis}, a pod's ${perPod} of ${spec?.accelerator?.count ?? perPod} accelerators`,
              }
            : { basis: node.basis }),
        },
        annotations,
        "the release's pods",
        { loadLimitSeconds: threshold * period },
      ),
    );
  }
  return out;
}

/** `$0.79`: dollars per million tokens, to the cent (three decimals under a cent). */
export function usdPerMillion(v: number): string {
  return `$${v >= 0.01 ? v.toFixed(2) : v.toFixed(3)}`;
}

/** `start: 16.0 GB; download at least 12.8 s (limit 1800 s); load about 69 s (limit 1800 s)`. */
export function startupText(startup: NonNullable<ServingTargetRecord["startup"]>): string {
  const limit = (seconds: number | undefined) =>
    seconds === undefined ? "" : ` (limit ${seconds} s)`;
  const download = `${startup.compileSeconds !== undefined ? `compiled for Neuron first, about ${Math.ceil(startup.compileSeconds / 60)} min in the deploy's Neuron export; ` : ""}download at least ${startup.downloadSeconds.toFixed(1)} s`;
  const load = `load about ${Math.round(startup.loadSeconds)} s`;
  return startup.totalLimitSeconds !== undefined
    ? `start: ${gb(startup.weightsBytes)}; ${download} and ${load} (grace period ${startup.totalLimitSeconds} s)`
    : `start: ${gb(startup.weightsBytes)}; ${download}${limit(startup.downloadLimitSeconds)}; ${load}${limit(startup.loadLimitSeconds)}`;
}
