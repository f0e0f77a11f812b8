/**
 * Will it start? How long a serving target takes to bring its weights onto the instance and load
 * them, against the limits that end a start that takes too long: SageMaker's download and
 * container-startup timeouts, and the fleet's health-check grace period.
 *
 * Both figures come from published numbers, not from a measurement here:
 * - **Download** is a lower bound: the weights at the instance's network bandwidth, its burst
 *   figure where it has one ("up to"; "Instances can use burst bandwidth for a limited time,
 *   typically from 5 to 60 minutes", EC2 User Guide, "Amazon EC2 instance network bandwidth").
 *   S3 gives one connection about 85-90 MB/s (AWS whitepaper "Best Practices Design Patterns:
 *   Optimizing Amazon S3 Performance"), so a real download is slower; a timeout below this bound
 *   cannot be met.
 * - **Load** is the rate of one published measurement: Meta-Llama-3-8B ("15 GB") loaded by vLLM
 *   0.5.5 from HF safetensors on local SSD onto an A10G (g5.12xlarge, one GPU) in 47.99 s, the
 *   engine ready at 66.13 s (run-ai/runai-model-streamer docs/src/benchmarks.md, Appendix C, GP3
 *   at 1,000 MiB/s; the IO2 run at 4,000 MiB/s took 47 s, so the rate is the loader's, not the
 *   disk's). The LMI and Triton vLLM images load the same way. Other engines (TensorRT-LLM
 *   engines, Neuron) are estimated at the same rate and say so.
 */
import { ModelRequirements, BYTES_PER_PARAMETER } from "./modelFit";

/** Baseline and burst network bandwidth of an instance type, Gbps. */
export interface NetworkBandwidth {
  baselineGbps: number;
  /** "Up to": burst for a limited time; absent for types without one. */
  burstGbps?: number;
}

/**
 * Network bandwidth of the accelerated instances the catalog knows, from the EC2 instance types
 * guide ("Baseline / Burst bandwidth (Gbps)",
 * https://docs.aws.amazon.com/ec2/latest/instancetypes/ac.html#ac_network), as transcribed by
 * aws/karpenter-provider-aws@1d92708 pkg/providers/instancetype/zz_generated.bandwidth.go
 * (baseline, Mbps) and the EC2 instance types guide of 2024 (burst). g6e's burst was not found:
 * baseline only. SageMaker's `ml.` types are taken to have their EC2 type's network.
 */
export const NETWORK_BANDWIDTH: Readonly<Record<string, NetworkBandwidth>> = {
  "g5.xlarge": { baselineGbps: 2.5, burstGbps: 10 },
  "g5.2xlarge": { baselineGbps: 5, burstGbps: 10 },
  "g5.4xlarge": { baselineGbps: 10, burstGbps: 25 },
  "g5.8xlarge": { baselineGbps: 25 },
  "g5.12xlarge": { baselineGbps: 40 },
  "g5.16xlarge": { baselineGbps: 25 },
  "g5.24xlarge": { baselineGbps: 50 },
  "g5.48xlarge": { baselineGbps: 100 },
  "g6.xlarge": { baselineGbps: 2.5, burstGbps: 10 },
  "g6.2xlarge": { baselineGbps: 5, burstGbps: 10 },
  "g6.12xlarge": { baselineGbps: 40 },
  "g6.48xlarge": { baselineGbps: 100 },
  "g6e.xlarge": { baselineGbps: 2.5 },
  "g6e.2xlarge": { baselineGbps: 5 },
  "g6e.12xlarge": { baselineGbps: 100 },
  "g6e.48xlarge": { baselineGbps: 400 },
  "p4d.24xlarge": { baselineGbps: 400 },
  "p4de.24xlarge": { baselineGbps: 400 },
  "p5.48xlarge": { baselineGbps: 3200 },
  "inf2.xlarge": { baselineGbps: 2.083, burstGbps: 15 },
  "inf2.8xlarge": { baselineGbps: 16.667, burstGbps: 25 },
  "inf2.24xlarge": { baselineGbps: 50 },
  "inf2.48xlarge": { baselineGbps: 100 },
  "trn1.2xlarge": { baselineGbps: 3.125, burstGbps: 12.5 },
  "trn1.32xlarge": { baselineGbps: 800 },
};

/** The published load measurement the estimate scales (see the file's comment). */
export const PUBLISHED_LOAD = {
  bytes: 15e9,
  loadSeconds: 47.99,
  engineReadySeconds: 66.13,
  source:
    "run-ai/runai-model-streamer docs/src/benchmarks.md, Appendix C: Meta-Llama-3-8B, vLLM 0.5.5, HF safetensors, A10G",
} as const;

/**
 * SageMaker's ceiling on a variant's download and container-startup timeouts: "Valid Range:
 * Minimum value of 60. Maximum value of 3600" (SageMaker API reference, ProductionVariant
 * ModelDataDownloadTimeoutInSeconds and ContainerStartupHealthCheckTimeoutInSeconds).
 */
export const SAGEMAKER_STARTUP_LIMIT_SECONDS = 3600;

export interface StartupEstimate {
  /** The weights, bytes: parameters x bytes per parameter of the dtype. */
  weightsBytes: number;
  /** At least this long to download them, at the instance's best bandwidth. */
  downloadSeconds: number;
  /** About this long to load them and start the engine, at the published rate. */
  loadSeconds: number;
  /** The bandwidth used, for messages: `10 Gbps burst`. */
  bandwidth: string;
}

/** The EC2 type of an instance type (`ml.g5.xlarge` is g5.xlarge). */
function ec2Type(instanceType: string): string {
  return instanceType.startsWith("ml.") ? instanceType.slice(3) : instanceType;
}

/** How long a target takes to start, or undefined for an instance without a known bandwidth. */
export function startupEstimate(
  model: ModelRequirements,
  instanceType: string,
): StartupEstimate | undefined {
  const network = NETWORK_BANDWIDTH[ec2Type(instanceType)];
  if (!network) return undefined;
  const weightsBytes = model.parametersBillions * 1e9 * BYTES_PER_PARAMETER[model.dtype];
  const gbps = network.burstGbps ?? network.baselineGbps;
  const rate = PUBLISHED_LOAD.bytes / PUBLISHED_LOAD.loadSeconds;
  const engine = PUBLISHED_LOAD.engineReadySeconds - PUBLISHED_LOAD.loadSeconds;
  return {
    weightsBytes,
    downloadSeconds: weightsBytes / ((gbps * 1e9) / 8),
    loadSeconds: weightsBytes / rate + engine,
    bandwidth: `${gbps} Gbps${network.burstGbps !== undefined ? " burst" : ""}`,
  };
}

/**
 * A limit for an estimate: half again the estimate (the margin every start-up limit here gets),
 * rounded up to `step` seconds, at least `floor` and at most `ceiling`.
 */
function withMargin(seconds: number, floor: number, step: number, ceiling = Infinity): number {
  return Math.min(ceiling, Math.max(floor, Math.ceil((seconds * 1.5) / step) * step));
}

/**
 * The container-startup timeout a SageMaker variant gets when the stack sets none: 1800 s, or half
 * again the estimated load (rounded up to a minute) where that is longer, within SageMaker's 3600.
 */
export function defaultContainerStartupSeconds(estimate: StartupEstimate | undefined): number {
  return withMargin(estimate?.loadSeconds ?? 0, 1800, 60, SAGEMAKER_STARTUP_LIMIT_SECONDS);
}

/**
 * The download timeout a SageMaker variant gets when the stack sets none: 1800 s, or half again
 * the download's lower bound (rounded up to a minute) where that is longer, within SageMaker's 3600.
 */
export function defaultDownloadSeconds(estimate: StartupEstimate | undefined): number {
  return withMargin(estimate?.downloadSeconds ?? 0, 1800, 60, SAGEMAKER_STARTUP_LIMIT_SECONDS);
}

/**
 * The fleet's health-check grace period: 1200 s, or half again the estimated download and load
 * (rounded up to a minute) where that is longer. The image pull is not in the estimate.
 */
export function fleetGracePeriodSeconds(estimate: StartupEstimate | undefined): number {
  return withMargin((estimate?.downloadSeconds ?? 0) + (estimate?.loadSeconds ?? 0), 1200, 60);
}

/**
 * The Triton chart's probe period and startup failure threshold (charts/triton values.yaml
 * `probes.periodSeconds`, `probes.startupFailureThreshold`: 10 s x 120 = 1200 s to start); a test
 * holds them to the chart's file.
 */
export const TRITON_PROBE_PERIOD_SECONDS = 10;
export const TRITON_STARTUP_FAILURE_THRESHOLD = 120;

/**
 * Triton's startup probe failure threshold on EKS: the chart's 120 (1200 s at 10 s), or half
 * again the estimated load where that is longer. Kubernetes kills a container whose startup probe
 * has not passed within `failureThreshold * periodSeconds` ("set up a startup probe ... with a
 * failureThreshold * periodSeconds long enough to cover the worst case startup time", Kubernetes
 * documentation, "Configure Liveness, Readiness and Startup Probes").
 */
export function startupProbeThreshold(estimate: StartupEstimate | undefined): number {
  const budget = TRITON_PROBE_PERIOD_SECONDS * TRITON_STARTUP_FAILURE_THRESHOLD;
  return (
    withMargin(estimate?.loadSeconds ?? 0, budget, TRITON_PROBE_PERIOD_SECONDS) /
    TRITON_PROBE_PERIOD_SECONDS
  );
}

/** `140 GB`, `16.1 GB`: decimal gigabytes, as the published figures are. */
export function gb(bytes: number): string {
  const v = bytes / 1e9;
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} GB`;
}
