/**
 * NVIDIA driver facts: the driver each NGC Triton release needs, and the driver each host the
 * package deploys Triton to has (SageMaker inference AMI versions, the EKS AL2023 NVIDIA AMI, the
 * fleet's Deep Learning Base AMI). The plan refuses an NGC Triton tag whose driver the target's
 * host does not have (see `driverProblem`), naming the stack key.
 *
 * Only NVIDIA's stated requirement is trusted: CUDA forward compatibility (an older data-center
 * driver running a newer CUDA through the container's compat libraries) is not counted on, because
 * NVIDIA's Triton release notes list only R470, R525, R535 (535.86 or later) and R545 as
 * forward-compatible branches (Triton release notes 24.05 to 25.10, "Driver Requirements",
 * https://docs.nvidia.com/deeplearning/triton-inference-server/release-notes/rel-25-10.html), none
 * of the branches below but 535, and SageMaker's 535 AMI has 535.54.03, older than 535.86.
 */
import { NGC_TRITON, ngcTagFlavour } from "./images";

/** The NGC driver of a release: NVIDIA's "CUDA Driver version" and the CUDA it ships. */
interface ReleaseDriver {
  driver: string;
  cuda: string;
}

/**
 * Per NGC Triton release, the driver and CUDA of its vLLM and TensorRT-LLM images: the
 * "CUDA Driver version" and "CUDA version" columns of NVIDIA's Release Compatibility Matrix,
 * triton-inference-server/server@e1db8a6 `docs/introduction/compatibility.md` (read 2026-12-07).
 * That file has no table for the base `-py3` image, so base tags are not checked.
 */
export const NGC_TRITON_DRIVERS: Readonly<
  Record<"vllm" | "trtllm", Readonly<Record<string, ReleaseDriver>>>
> = {
  vllm: {
    "24.04": { driver: "550.54.15", cuda: "12.4.1" },
    "24.05": { driver: "550.54.15", cuda: "12.4.1" },
    "24.06": { driver: "555.42.02", cuda: "12.5.0.23" },
    "24.07": { driver: "555.42.06", cuda: "12.5.1" },
    "24.08": { driver: "560.35.03", cuda: "12.6.0.022" },
    "24.09": { driver: "560.35.03", cuda: "12.6.1.006" },
    "24.10": { driver: "560.35.03", cuda: "12.6.2.004" },
    "24.11": { driver: "560.35.05", cuda: "12.6.3.001" },
    "24.12": { driver: "560.35.05", cuda: "12.6.3.004" },
    "25.01": { driver: "570.86.10", cuda: "12.8.0.038" },
    "25.02": { driver: "570.86.10", cuda: "12.8.0.038" },
    "25.03": { driver: "570.124.06", cuda: "12.8.1.012" },
    "25.04": { driver: "575.51.02", cuda: "12.9.0.036" },
    "25.05": { driver: "575.51.03", cuda: "12.9.0.043" },
    "25.06": { driver: "575.51.03", cuda: "12.9.0.043" },
    "25.07": { driver: "575.51.03", cuda: "12.9.0.043" },
    "25.08": { driver: "580.82.07", cuda: "13.0.1.012" },
    "25.09": { driver: "580.82.07", cuda: "13.0.1.012" },
    "25.10": { driver: "580.95.05", cuda: "13.0.2.006" },
    "25.11": { driver: "580.95.05", cuda: "13.0.2.006" },
    "25.12": { driver: "590.44.01", cuda: "13.1.0.036" },
    "26.01": { driver: "590.48.01", cuda: "13.1.1.006" },
    "26.02": { driver: "590.48.01", cuda: "13.1.1.006" },
    "26.03": { driver: "595.45.04", cuda: "13.2.0.046" },
    "26.04": { driver: "595.58.03", cuda: "13.2.1.009" },
    "26.05": { driver: "595.58.03", cuda: "13.2.1.009" },
    "26.06": { driver: "610.43.02", cuda: "13.3.0.035" },
    "26.07": { driver: "610.43.02", cuda: "13.3.0.035" },
  },
  trtllm: {
    "24.04": { driver: "545.23.08", cuda: "12.3.2.001" },
    "24.05": { driver: "545.23.08", cuda: "12.3.2.001" },
    "24.06": { driver: "550.54.14", cuda: "12.4.0.041" },
    "24.07": { driver: "550.54.15", cuda: "12.4.1.003" },
    "24.08": { driver: "555.42.06", cuda: "12.5.1.007" },
    "24.09": { driver: "555.42.06", cuda: "12.5.1.007" },
    "24.10": { driver: "555.42.06", cuda: "12.5.1.007" },
    "24.11": { driver: "555.42.06", cuda: "12.6.3" },
    "24.12": { driver: "560.35.05", cuda: "12.6.3" },
    "25.01": { driver: "570.86.10", cuda: "12.8.0.038" },
    "25.02": { driver: "570.86.10", cuda: "12.8.0.038" },
    "25.03": { driver: "570.124.06", cuda: "12.8.1.012" },
    "25.04": { driver: "570.124.06", cuda: "12.8.1.012" },
    "25.05": { driver: "570.124.06", cuda: "12.8.1.012" },
    "25.06": { driver: "575.51.03", cuda: "12.9.0.036" },
    "25.07": { driver: "575.51.03", cuda: "12.9.0.036" },
    "25.08": { driver: "575.51.03", cuda: "12.9.0.043" },
    "25.09": { driver: "575.57.08", cuda: "12.9.1.010" },
    "25.10": { driver: "575.57.08", cuda: "12.9.1.010" },
    "25.11": { driver: "580.95.05", cuda: "13.0.2.006" },
    "25.12": { driver: "580.95.05", cuda: "13.0.2.006" },
    "26.01": { driver: "580.95.05", cuda: "13.0.2.006" },
    "26.02": { driver: "580.95.05", cuda: "13.0.2.006" },
    "26.03": { driver: "590.44.01", cuda: "13.1.0.036" },
    "26.04": { driver: "590.44.01", cuda: "13.1.0.036" },
    "26.05": { driver: "590.44.01", cuda: "13.1.0.036" },
    "26.06": { driver: "590.44.01", cuda: "13.1.0.036" },
    "26.07": { driver: "590.44.01", cuda: "13.1.0.036" },
  },
};

/** The NVIDIA driver a host has: its branch (the driver's major version) and what it is. */
export interface HostDriver {
  /** The driver branch, e.g. 550 for 550.x. */
  branch: number;
  /** The CUDA version the host's driver supports natively. */
  cuda: string;
  /** The host as a message names it, e.g. `inferenceAmiVersion al2-ami-sagemaker-inference-gpu-3-1`. */
  what: string;
}

/** A SageMaker inference AMI version (ProductionVariant `InferenceAmiVersion`). */
export interface SageMakerInferenceAmi {
  accelerator: "nvidia" | "neuron";
  /** The NVIDIA driver branch (NVIDIA AMIs). */
  driverBranch?: number;
  /** The CUDA version (NVIDIA AMIs). */
  cuda?: string;
  /** The container toolkit does not mount CUDA forward-compatibility libraries into the container. */
  cudaCompatMountingDisabled?: boolean;
}

/**
 * SageMaker's inference AMI versions: the ProductionVariant InferenceAmiVersion enum of
 * @aws-sdk/client-sagemaker 3.1142.0 (the four values below, no newer one) and its documentation,
 * https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/sagemaker/aws.sdk.kotlin.services.sagemaker.model/-production-variant/inference-ami-version.html
 * ("NVIDIA driver version: 535 / CUDA version: 12.2", "... 550 / CUDA version: 12.4", "NVIDIA
 * Container Toolkit with disabled CUDA-compat mounting"); an earlier revision gave gpu-2 as
 * 535.54.03 (aws/sagemaker-core#245, botocore 1.36.20).
 */
export const SAGEMAKER_INFERENCE_AMIS: Readonly<Record<string, SageMakerInferenceAmi>> = {
  "al2-ami-sagemaker-inference-gpu-2": { accelerator: "nvidia", driverBranch: 535, cuda: "12.2" },
  "al2-ami-sagemaker-inference-gpu-2-1": {
    accelerator: "nvidia",
    driverBranch: 535,
    cuda: "12.2",
    cudaCompatMountingDisabled: true,
  },
  "al2-ami-sagemaker-inference-gpu-3-1": {
    accelerator: "nvidia",
    driverBranch: 550,
    cuda: "12.4",
    cudaCompatMountingDisabled: true,
  },
  "al2-ami-sagemaker-inference-neuron-2": { accelerator: "neuron" },
};

/**
 * SageMaker's driver for real-time and asynchronous endpoints without an InferenceAmiVersion, per
 * instance family: "Best practices to minimize interruptions during GPU driver upgrades",
 * https://docs.aws.amazon.com/sagemaker/latest/dg/inference-gpu-drivers.html (driver 470 / CUDA
 * 11.4 the default for ml.p4d, ml.p4de, ml.g4dn and ml.g5; 535 / CUDA 12.2 the default for ml.p5
 * and ml.g6). Other families: not known here, so not checked without an AMI version.
 */
export const SAGEMAKER_DEFAULT_DRIVERS: Readonly<Record<string, { branch: number; cuda: string }>> =
  {
    "ml.p4d": { branch: 470, cuda: "11.4" },
    "ml.p4de": { branch: 470, cuda: "11.4" },
    "ml.g4dn": { branch: 470, cuda: "11.4" },
    "ml.g5": { branch: 470, cuda: "11.4" },
    "ml.p5": { branch: 535, cuda: "12.2" },
    "ml.g6": { branch: 535, cuda: "12.2" },
  };

/**
 * The EKS-optimized AL2023 NVIDIA AMI (node group amiType AL2023_x86_64_NVIDIA): "The EKS-optimized
 * accelerated AMIs currently include NVIDIA driver version 580" (Amazon EKS User Guide, "Use
 * EKS-optimized accelerated AMIs for GPU instances", ml-eks-optimized-ami.html, as quoted
 * 2026-08-01); AMI release v20260917 added a 595 driver chosen at boot for G7 only
 * (awslabs/amazon-eks-ami#2768); builds of 2026-09 carry kmod-nvidia-latest-dkms-580.178.04.
 * Bottlerocket's NVIDIA variant is not in this table, so it is not checked.
 */
export const EKS_AL2023_NVIDIA_DRIVER = { branch: 580, cuda: "13.0" } as const;

/**
 * The fleet's AMI, the Deep Learning Base OSS Nvidia Driver GPU AMI (Amazon Linux 2023) (SSM
 * `base-oss-nvidia-driver-gpu-amazon-linux-2023/latest`): release 20260901 has nvidia_driver
 * 595.91.07 and CUDA 13.2 by default, G5 among its instances (AWS DLAMI release notes,
 * https://docs.aws.amazon.com/dlami/latest/devguide/aws-deep-learning-ami-gpubaseoss-al2023-2026-09-04.html).
 */
export const FLEET_DLAMI_DRIVER = { branch: 595, cuda: "13.2" } as const;

/** The driver branch of a version string (`550.54.15` is 550). */
export function driverBranch(version: string): number {
  return Number(version.split(".")[0]);
}

/** What NVIDIA says an NGC Triton tag needs; undefined for tags the table does not know. */
export function ngcTagDriver(
  tag: string,
): { release: string; flavour: "vllm" | "trtllm"; driver: string; cuda: string } | undefined {
  const flavour = ngcTagFlavour(tag);
  if (flavour !== "vllm" && flavour !== "trtllm") return undefined;
  const release = tag.slice(0, 5);
  const row = NGC_TRITON_DRIVERS[flavour][release];
  return row === undefined ? undefined : { release, flavour, ...row };
}

/** The newest NGC release of a flavour whose driver a host branch has. */
export function newestReleaseFor(flavour: "vllm" | "trtllm", branch: number): string | undefined {
  const fits = Object.entries(NGC_TRITON_DRIVERS[flavour])
    .filter(([, r]) => driverBranch(r.driver) <= branch)
    .map(([v]) => v)
    .sort();
  return fits[fits.length - 1];
}

/**
 * Why an NGC Triton tag does not run on a host, or undefined when it does (or when either side is
 * unknown to the catalog). The reason reads after the key, e.g. `llm-infra:fleet.imageTag <reason>`.
 */
export function driverProblem(
  tag: string,
  host: HostDriver | undefined,
  instead?: string,
): string | undefined {
  const need = ngcTagDriver(tag);
  if (need === undefined || host === undefined) return undefined;
  if (driverBranch(need.driver) <= host.branch) return undefined;
  const newest = newestReleaseFor(need.flavour, host.branch);
  const use =
    instead ??
    (newest === undefined
      ? `no ${need.flavour} release of the catalog runs there`
      : `use ${NGC_TRITON.tag(newest, need.flavour)} or older (NVIDIA driver ${NGC_TRITON_DRIVERS[need.flavour][newest].driver})`);
  return `${JSON.stringify(tag)} needs NVIDIA driver ${need.driver} or later (NGC Triton ${need.release} ${need.flavour}, CUDA ${need.cuda}), but ${host.what} has driver ${host.branch} (CUDA ${host.cuda}); ${use}`;
}

/**
 * The driver of a SageMaker real-time or asynchronous endpoint's host: the AMI version's, else the
 * instance family's default; undefined where neither is known (or the AMI is a Neuron one).
 */
export function sageMakerHostDriver(
  instanceType: string,
  inferenceAmiVersion: string | undefined,
): HostDriver | undefined {
  if (inferenceAmiVersion !== undefined) {
    const ami = SAGEMAKER_INFERENCE_AMIS[inferenceAmiVersion];
    if (ami?.driverBranch === undefined) return undefined;
    return {
      branch: ami.driverBranch,
      cuda: ami.cuda ?? "",
      what: `${instanceType} with inferenceAmiVersion ${inferenceAmiVersion}`,
    };
  }
  const family = instanceType.split(".").slice(0, 2).join(".");
  const d = SAGEMAKER_DEFAULT_DRIVERS[family];
  if (d === undefined) return undefined;
  return {
    ...d,
    what: `${instanceType} without inferenceAmiVersion (SageMaker's default AMI)`,
  };
}

/** The host driver of an EKS node group's AMI (only AL2023's NVIDIA AMI is known). */
export function eksHostDriver(os: "al2023" | "bottlerocket" | undefined): HostDriver | undefined {
  return (os ?? "al2023") === "al2023"
    ? { ...EKS_AL2023_NVIDIA_DRIVER, what: "the EKS AL2023 NVIDIA AMI" }
    : undefined;
}

/** The host driver of the fleet's NVIDIA AMI. */
export function fleetHostDriver(): HostDriver {
  return { ...FLEET_DLAMI_DRIVER, what: "the fleet's Deep Learning Base AMI (AL2023)" };
}

/**
 * The first Triton release whose SageMaker front end serves a decoupled LLM model (vLLM,
 * TensorRT-LLM) at `/invocations`: SAGEMAKER_TRITON_INFERENCE_TYPE `generate` appears in
 * triton-inference-server/server `docker/sagemaker/serve` on branch r25.03 and on none before it
 * (r24.05 to r25.02 have no such variable; their `infer` handler refuses decoupled models).
 */
export const SAGEMAKER_GENERATE_SINCE = "25.03";

/** What serves an LLM on SageMaker instead of Triton's LLM images (for refusals to end with). */
export const SAGEMAKER_LLM_INSTEAD =
  "no Triton vLLM or TensorRT-LLM release both has SageMaker's generate handler (from Triton 25.03) and runs on a SageMaker GPU AMI's driver: serve the model with the LMI container (image: lmi and hubModel, docs/model-repository.md), or on EKS or the fleet";

/**
 * Why a SageMaker endpoint on an NGC LLM-flavour tag starts but cannot answer at `/invocations`,
 * or undefined: a release before SAGEMAKER_GENERATE_SINCE. With the drivers of SageMaker's GPU
 * hosts (550 at most, SAGEMAKER_INFERENCE_AMIS) no NGC vLLM release that has the generate handler
 * runs there (25.03's vLLM image needs 570.124.06).
 */
export function sageMakerGenerateProblem(tag: string): string | undefined {
  const need = ngcTagDriver(tag);
  if (need === undefined || need.release >= SAGEMAKER_GENERATE_SINCE) return undefined;
  return `${JSON.stringify(tag)} (Triton ${need.release}) has no SageMaker generate handler (SAGEMAKER_TRITON_INFERENCE_TYPE, from Triton ${SAGEMAKER_GENERATE_SINCE}): the endpoint starts, but /invocations refuses the decoupled ${need.flavour} model; Triton ${SAGEMAKER_GENERATE_SINCE} and later need a newer NVIDIA driver than SageMaker's GPU AMIs have. On SageMaker, serve it with the LMI container instead (image: lmi and hubModel, docs/model-repository.md), or serve it on EKS or the fleet`;
}
