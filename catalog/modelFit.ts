/**
 * Does a model fit an instance's accelerator memory, and which is the cheapest instance that fits?
 *
 * Memory needed = (weights + KV cache) / (1 - headroom), where
 * - weights = parameters x bytes per parameter of the dtype;
 * - KV cache = 2 (K and V) x layers x KV width x context length x concurrent sequences x bytes per
 *   KV element, with KV width = hidden size x KV heads / attention heads (grouped-query attention);
 * - headroom is the fraction of accelerator memory kept free for activations, the CUDA or Neuron
 *   runtime and fragmentation (default 0.1).
 *
 * When layers and hidden size are not given, they are estimated from the parameter count with the
 * usual decoder-only shape: parameters ~= 12 x layers x hidden^2 with hidden ~= 128 x layers (which
 * gives 4,209 x 33 for 7B; Llama 2 7B is 4,096 x 32). Without KV heads the estimate assumes full
 * multi-head attention, which over-states the cache of GQA models: a safe error.
 *
 * The model is assumed to be sharded across all accelerators of one instance (tensor parallelism),
 * so what must fit is the instance's total accelerator memory.
 */
import {
  AcceleratorKind,
  InstanceSpec,
  INSTANCE_SPECS,
  totalAcceleratorMemoryMib,
} from "./instances";
import { ec2HourlyUsd, sagemakerHourlyUsd } from "./prices";

/**
 * The tag components put on a resource with the accelerator memory (GiB) its model needs; the
 * policy pack checks it against the resource's instance type.
 */
export const MODEL_MEMORY_TAG = "llm-infra:model-memory-gib";

export const ModelDtype = {
  fp32: "fp32",
  bf16: "bf16",
  fp16: "fp16",
  fp8: "fp8",
  int8: "int8",
  int4: "int4",
} as const;
export type ModelDtype = (typeof ModelDtype)[keyof typeof ModelDtype];

export const BYTES_PER_PARAMETER: Readonly<Record<ModelDtype, number>> = {
  fp32: 4,
  bf16: 2,
  fp16: 2,
  fp8: 1,
  int8: 1,
  int4: 0.5,
};

export interface ModelRequirements {
  /** Parameters in billions (8 for an 8B model). */
  parametersBillions: number;
  /** Weight dtype. */
  dtype: ModelDtype;
  /** Tokens per sequence the server must hold (prompt + generation). */
  contextLength: number;
  /** Sequences served at once (the batch the KV cache is sized for). */
  concurrentSequences: number;
  /** Transformer layers; estimated from the parameter count when absent. */
  layers?: number;
  /** Hidden size; estimated from the parameter count when absent. */
  hiddenSize?: number;
  /** Attention heads; with `kvHeads`, sizes a grouped-query attention KV cache. */
  attentionHeads?: number;
  /** Key/value heads (grouped-query attention); as many as `attentionHeads` when absent. */
  kvHeads?: number;
  /** KV cache dtype; defaults to fp16 (bf16/fp16 caches are 2 bytes per element). */
  kvCacheDtype?: ModelDtype;
  /** Fraction of accelerator memory kept free, 0 <= headroom < 1. Default 0.1. */
  headroomFraction?: number;
}

export interface MemoryEstimate {
  weightsGib: number;
  kvCacheGib: number;
  /** (weights + KV) / (1 - headroom). */
  requiredGib: number;
  layers: number;
  hiddenSize: number;
  /** True when layers and hidden size were estimated from the parameter count. */
  shapeEstimated: boolean;
}

const GIB = 1024 ** 3;

/** Errors in a requirements object, each naming its field; empty when valid. */
export function validateModelRequirements(req: ModelRequirements, prefix = ""): string[] {
  const errors: string[] = [];
  const positive = (field: keyof ModelRequirements, integer: boolean) => {
    const v = req[field];
    if (v === undefined) return;
    if (
      typeof v !== "number" ||
      !Number.isFinite(v) ||
      v <= 0 ||
      (integer && !Number.isInteger(v))
    ) {
      errors.push(
        `${prefix}${field} must be a positive ${integer ? "integer" : "number"}, got ${JSON.stringify(v)}`,
      );
    }
  };
  positive("parametersBillions", false);
  positive("contextLength", true);
  positive("concurrentSequences", true);
  positive("layers", true);
  positive("hiddenSize", true);
  positive("attentionHeads", true);
  positive("kvHeads", true);
  for (const field of ["dtype", "kvCacheDtype"] as const) {
    const v = req[field];
    if ((field === "dtype" || v !== undefined) && !(String(v) in BYTES_PER_PARAMETER)) {
      errors.push(
        `${prefix}${field} must be one of ${Object.keys(BYTES_PER_PARAMETER).join(", ")}, got ${JSON.stringify(v)}`,
      );
    }
  }
  const h = req.headroomFraction;
  if (h !== undefined && (typeof h !== "number" || !(h >= 0 && h < 1))) {
    errors.push(
      `${prefix}headroomFraction must be at least 0 and below 1, got ${JSON.stringify(h)}`,
    );
  }
  if (req.kvHeads !== undefined && req.attentionHeads === undefined) {
    errors.push(`${prefix}kvHeads needs attentionHeads`);
  }
  if (
    req.kvHeads !== undefined &&
    req.attentionHeads !== undefined &&
    req.kvHeads > req.attentionHeads
  ) {
    errors.push(
      `${prefix}kvHeads (${req.kvHeads}) cannot exceed attentionHeads (${req.attentionHeads})`,
    );
  }
  return errors;
}

/** The decoder-only shape estimate: parameters = 12 L h^2 and h = 128 L. */
export function estimateShape(parametersBillions: number): { layers: number; hiddenSize: number } {
  const params = parametersBillions * 1e9;
  const hidden = Math.cbrt((params * 128) / 12);
  return { layers: Math.max(1, Math.round(hidden / 128)), hiddenSize: Math.round(hidden) };
}

/** Accelerator memory a model needs to serve its context and concurrency. */
export function estimateMemory(req: ModelRequirements): MemoryEstimate {
  const errors = validateModelRequirements(req);
  if (errors.length > 0) throw new Error(errors.join("; "));
  const shapeEstimated = req.layers === undefined || req.hiddenSize === undefined;
  const estimate = estimateShape(req.parametersBillions);
  const layers = req.layers ?? estimate.layers;
  const hiddenSize = req.hiddenSize ?? estimate.hiddenSize;
  const kvRatio =
    req.kvHeads !== undefined && req.attentionHeads !== undefined
      ? req.kvHeads / req.attentionHeads
      : 1;
  const kvBytes = BYTES_PER_PARAMETER[req.kvCacheDtype ?? "fp16"];
  const weightsBytes = req.parametersBillions * 1e9 * BYTES_PER_PARAMETER[req.dtype];
  const kvCacheBytes =
    2 * layers * hiddenSize * kvRatio * req.contextLength * req.concurrentSequences * kvBytes;
  const headroom = req.headroomFraction ?? 0.1;
  return {
    weightsGib: weightsBytes / GIB,
    kvCacheGib: kvCacheBytes / GIB,
    requiredGib: (weightsBytes + kvCacheBytes) / (1 - headroom) / GIB,
    layers,
    hiddenSize,
    shapeEstimated,
  };
}

/** The KV cache bytes one token of one sequence takes (keys and values, every layer). */
function kvBytesPerToken(req: ModelRequirements): number {
  const estimate = estimateMemory(req);
  const kvRatio =
    req.kvHeads !== undefined && req.attentionHeads !== undefined
      ? req.kvHeads / req.attentionHeads
      : 1;
  return (
    2 *
    estimate.layers *
    estimate.hiddenSize *
    kvRatio *
    BYTES_PER_PARAMETER[req.kvCacheDtype ?? "fp16"]
  );
}

/**
 * The longest `contextLength` (a multiple of 256, vLLM's block sizes dividing it) whose KV cache,
 * at the model's `concurrentSequences`, fits what the instance's accelerators leave after the
 * weights and the headroom; undefined when the weights alone do not fit.
 */
export function largestContextThatFits(
  req: ModelRequirements,
  spec: InstanceSpec,
): number | undefined {
  const availableBytes = (totalAcceleratorMemoryMib(spec) / 1024) * GIB;
  const usable = availableBytes * (1 - (req.headroomFraction ?? 0.1));
  const weightsBytes = req.parametersBillions * 1e9 * BYTES_PER_PARAMETER[req.dtype];
  const tokens = (usable - weightsBytes) / (kvBytesPerToken(req) * req.concurrentSequences);
  const context = Math.floor(tokens / 256) * 256;
  return context > 0 ? context : undefined;
}

/**
 * What would fit instead, for a refusal: a shorter context on this instance, when the weights fit
 * and only the KV cache does not (`; or contextLength 20224 at concurrentSequences 2`).
 */
export function shorterContextAdvice(req: ModelRequirements, spec: InstanceSpec): string {
  const context = largestContextThatFits(req, spec);
  return context === undefined || context >= req.contextLength
    ? ""
    : `; or contextLength ${context} fits at concurrentSequences ${req.concurrentSequences}`;
}

export interface FitResult {
  fits: boolean;
  requiredGib: number;
  availableGib: number;
  estimate: MemoryEstimate;
}

/** Whether the model fits the total accelerator memory of one instance. */
export function fitsInstance(req: ModelRequirements, spec: InstanceSpec): FitResult {
  const estimate = estimateMemory(req);
  const availableGib = totalAcceleratorMemoryMib(spec) / 1024;
  return {
    fits: availableGib > 0 && estimate.requiredGib <= availableGib,
    requiredGib: estimate.requiredGib,
    availableGib,
    estimate,
  };
}

export interface InstanceChoice {
  /** EC2 type, or `ml.` type for SageMaker. */
  instanceType: string;
  hourlyUsd: number;
  availableGib: number;
  requiredGib: number;
}

export interface FitSearchOptions {
  region: string;
  /** Price as EC2 instances or as SageMaker hosting (`ml.*`). */
  service: "ec2" | "sagemaker";
  /** Only NVIDIA GPUs or only Neuron devices (a Neuron model must be compiled for it). */
  accelerator?: AcceleratorKind;
}

/**
 * Instances whose accelerators hold the model, cheapest first, priced for EC2 or SageMaker
 * hosting in the region (types without a price there are left out).
 */
export function instancesThatFit(
  req: ModelRequirements,
  options: FitSearchOptions,
): InstanceChoice[] {
  const choices: InstanceChoice[] = [];
  for (const spec of Object.values(INSTANCE_SPECS)) {
    if (!spec.accelerator) continue;
    if (options.accelerator !== undefined && spec.accelerator.kind !== options.accelerator)
      continue;
    const fit = fitsInstance(req, spec);
    if (!fit.fits) continue;
    const instanceType =
      options.service === "sagemaker" ? `ml.${spec.instanceType}` : spec.instanceType;
    const price =
      options.service === "sagemaker"
        ? sagemakerHourlyUsd(instanceType, options.region).value
        : ec2HourlyUsd(instanceType, options.region).value;
    if (price === undefined) continue;
    choices.push({
      instanceType,
      hourlyUsd: price,
      availableGib: fit.availableGib,
      requiredGib: fit.requiredGib,
    });
  }
  return choices.sort(
    (a, b) => a.hourlyUsd - b.hourlyUsd || a.instanceType.localeCompare(b.instanceType),
  );
}

/** The cheapest instance that fits, or undefined when none in the catalog does. */
export function cheapestInstanceThatFits(
  req: ModelRequirements,
  options: FitSearchOptions,
): InstanceChoice | undefined {
  return instancesThatFit(req, options)[0];
}
