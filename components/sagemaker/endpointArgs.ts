/**
 * The arguments of a SageMakerEndpoint and their validation: every combination that AWS would
 * reject (or that cannot serve the model) fails here, at preview, naming the field.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { findInstance, getInstance } from "../../catalog/instances";
import { FALLBACK_REGION, SAGEMAKER_HOSTING } from "../../catalog/prices";
import {
  SERVING_IMAGES,
  ServingImage,
  servingImageUri,
  TRITON_FLAVOURS,
  TritonFlavour,
} from "../../catalog/images";
import {
  ModelRequirements,
  cheapestInstanceThatFits,
  estimateMemory,
  fitsInstance,
  shorterContextAdvice,
  validateModelRequirements,
} from "../../catalog/modelFit";
import { neuronLayout } from "../../catalog/neuron";
import { validateModelPrefix } from "../storage/modelStorePolicies";
import { Tags } from "../tags";
import { SAGEMAKER_INFERENCE_AMIS } from "../../catalog/drivers";
import { utilizationProblem } from "../../catalog/tokenCost";
import {
  PUBLISHED_LOAD,
  SAGEMAKER_STARTUP_LIMIT_SECONDS,
  defaultContainerStartupSeconds,
  gb,
  startupEstimate,
} from "../../catalog/startup";
import { ArgError, checkIntegerRange, checkOneOf, checkScalingBounds } from "../validation";

export const EndpointMode = {
  /** Instances behind a synchronous HTTPS endpoint. */
  RealTime: "realtime",
  /** Requests queued in S3, results written to S3; scales to zero when idle. */
  Async: "async",
  /** CPU-only, per-request billing; no GPUs. */
  Serverless: "serverless",
} as const;
export type EndpointMode = (typeof EndpointMode)[keyof typeof EndpointMode];

export const DeploymentStrategy = {
  /** Blue/green, all traffic at once after the new fleet is healthy, then a bake period. */
  AllAtOnce: "allAtOnce",
  /** Blue/green, a canary share first, then the rest after the bake period. */
  Canary: "canary",
  /** Blue/green, traffic shifted in equal steps with a bake period between. */
  Linear: "linear",
  /** Instances replaced in batches, without a second fleet (cheaper for large GPU fleets). */
  Rolling: "rolling",
} as const;
export type DeploymentStrategy = (typeof DeploymentStrategy)[keyof typeof DeploymentStrategy];

export interface SageMakerEndpointArgs {
  /**
   * `realtime`, `async` or `serverless`.
   * @default "realtime"
   */
  mode?: EndpointMode;
  /**
   * A serving image from the catalog: `triton`, `lmi`, `tgi`, `vllm`, or on Inferentia2
   * `vllm-neuron` (`lmi-neuron` and `tgi-neuron` are retired images, kept for stacks that pin them).
   * Ignored when `imageUri` is set.
   * @default "triton"
   */
  image?: ServingImage;
  /** The catalog image's version; its pinned default when absent. */
  imageVersion?: string;
  /** Any ECR image URI (`<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>`), instead of `image`. */
  imageUri?: pulumi.Input<string>;
  /**
   * The Triton flavour of `imageUri` when it is a Triton image you built or mirrored into ECR
   * (`base`, `vllm`, `trtllm`, `neuron`): the backends `npm run model -- check` expects, and the
   * Triton environment (SAGEMAKER_TRITON_DEFAULT_MODEL_NAME) it needs. Requires `imageUri`.
   * @example "vllm"
   */
  imageFlavour?: TritonFlavour;
  /** The region (for the image and ARNs). @default the stack's `aws:region` */
  region?: string;
  /** The model store bucket ARN (ModelStore.bucketArn). */
  modelBucketArn: pulumi.Input<string>;
  /** The model store's KMS key (ModelStore.kmsKeyArn), for decrypting artifacts. */
  modelKmsKeyArn?: pulumi.Input<string>;
  /**
   * An S3 prefix served uncompressed (S3Prefix, no compression): a Triton model repository,
   * `<prefix>/<model>/config.pbtxt`. One of `modelDataPrefix` and `modelDataTarball`.
   * @example "model-repository/chat"
   */
  modelDataPrefix?: string;
  /** The S3 key of a model.tar.gz. One of `modelDataPrefix` and `modelDataTarball`. */
  modelDataTarball?: string;
  /** The Triton model to serve (SAGEMAKER_TRITON_DEFAULT_MODEL_NAME); required with Triton. */
  tritonModelName?: string;
  /** More container environment variables. */
  environment?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** What the model needs, for the fit check against the instance's accelerator memory. */
  modelRequirements?: ModelRequirements;
  /** Private subnets for the model containers (not with serverless). */
  subnetIds?: pulumi.Input<pulumi.Input<string>[]>;
  /** The VPC of `subnetIds`, for the endpoint's security group. */
  vpcId?: pulumi.Input<string>;
  /**
   * Block all network access from the container. Not available with serverless.
   * @default true (false with serverless)
   */
  networkIsolation?: boolean;
  /** The SageMaker instance type (`ml.g5.2xlarge`); realtime and async only. */
  instanceType?: string;
  /** Instances at creation, within [minInstances, maxInstances]. @default max(minInstances, 1) */
  initialInstanceCount?: number;
  /** Autoscaling floor. @default 1 (realtime), 0 (async: scales to zero) */
  minInstances?: number;
  /** Autoscaling ceiling, at most 100. @default 4 */
  maxInstances?: number;
  /** Target of SageMakerVariantInvocationsPerInstance (realtime). @default 70 */
  targetInvocationsPerInstance?: number;
  /** Seconds between scale-in steps. @default 300 */
  scaleInCooldownSeconds?: number;
  /** Seconds between scale-out steps. @default 60 */
  scaleOutCooldownSeconds?: number;
  /**
   * Also track the high-resolution concurrency metric
   * (SageMakerVariantConcurrentRequestsPerModelHighResolution) for faster scale-out (realtime).
   * @default false
   */
  highResolutionScaling?: boolean;
  /** Target concurrent requests per model copy for `highResolutionScaling`. @default 4 */
  targetConcurrentRequestsPerModel?: number;
  /**
   * The share of the instance's hours it serves at its published throughput, for the cost per
   * million output tokens (catalog/tokenCost.ts), in (0, 1].
   * @default 0.5
   */
  utilization?: number;
  /**
   * Seconds to download the weights to an instance (60 to 3600); refused below the download's
   * lower bound at the instance's bandwidth (catalog/startup.ts).
   * @default 1800, or half again that bound where that is longer (at most 3600)
   */
  modelDataDownloadTimeoutSeconds?: number;
  /**
   * Seconds for the container to pass its health check (60 to 3600); refused below the estimated
   * load of the weights (catalog/startup.ts).
   * @default 1800, or half again the estimated load where that is longer (at most 3600)
   */
  containerStartupTimeoutSeconds?: number;
  /** EBS volume per instance, GB (1 to 512); only for instance types without local NVMe. */
  volumeSizeGb?: number;
  /**
   * The SageMaker AMI version of the variant's instances (ProductionVariant `InferenceAmiVersion`),
   * which sets their NVIDIA driver: one of `SAGEMAKER_INFERENCE_AMIS` (catalog/drivers.ts).
   * @default SageMaker's default AMI (driver 470 on ml.g5)
   */
  inferenceAmiVersion?: string;
  /** Queued requests one instance works on at once (async, 1 to 1000). @default 4 */
  asyncMaxConcurrentInvocationsPerInstance?: number;
  /** Target of ApproximateBacklogSizePerInstance (async). @default 5 */
  targetBacklogPerInstance?: number;
  /** Memory of a serverless endpoint, 1024 to 6144 MB in steps of 1024. @default 6144 */
  serverlessMemoryMb?: number;
  /** Concurrent invocations of a serverless endpoint, 1 to 200. @default 10 */
  serverlessMaxConcurrency?: number;
  /** Warm serverless capacity, at most `serverlessMaxConcurrency`; autoscaled when set. */
  serverlessProvisionedConcurrency?: number;
  /** Share of requests captured to S3 (1 to 100); no data capture when absent. */
  dataCapturePercent?: number;
  /**
   * KMS key for instance volumes (left off for instance types with local NVMe, which AWS
   * encrypts in hardware and where SageMaker refuses a key), async outputs and captured data.
   */
  kmsKeyArn?: pulumi.Input<string>;
  /** `allAtOnce`, `canary`, `linear` or `rolling`. @default "allAtOnce" */
  deploymentStrategy?: DeploymentStrategy;
  /** Seconds to watch the alarms after each traffic shift before going on (0 to 3600). @default 600 */
  deploymentBakeSeconds?: number;
  /** Share of capacity in the canary, percent, 1 to 50. @default 10 */
  canaryPercent?: number;
  /** Share of capacity per linear step, percent, 10 to 50. @default 25 */
  linearStepPercent?: number;
  /** Share of capacity per rolling batch, percent, 5 to 50. @default 25 */
  rollingBatchPercent?: number;
  /** SNS topic for alarm notifications; a new KMS-encrypted topic when absent. */
  alarmTopicArn?: pulumi.Input<string>;
  /** ModelLatency p90 alarm threshold, milliseconds. @default 10000 (async: 900000, 15 minutes) */
  latencyP90Ms?: number;
  /**
   * ModelLatency p99 alarm threshold, milliseconds; real-time deployments roll back on it.
   * @default 30000 (async: 3600000, one hour, and no rollback on it)
   */
  latencyP99Ms?: number;
  /** Invocation5XXErrors per minute that raise the error alarm. @default 5 */
  errors5xxPerMinute?: number;
  /** GPU (and GPU memory) utilization per GPU, percent, that raises the GPU alarms. @default 90 */
  gpuUtilizationPercent?: number;
  /** ApproximateAgeOfOldestRequest alarm threshold, seconds (async). @default 900 */
  asyncBacklogAgeSeconds?: number;
  /**
   * The endpoint's name (unique per account and region, at most 63 characters).
   * @default `<project>-<stack>-<component name>`
   */
  endpointName?: string;
  /** Tags for every resource. */
  tags?: Tags;
}

const ECR_URI =
  /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?\/([a-z0-9._/-]+)(:[\w.-]+|@sha256:[0-9a-f]{64})$/;
const ENDPOINT_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

/** `arn:aws:ecr:<region>:<account>:repository/<repo>` of an ECR image URI, or undefined. */
export function ecrRepositoryArn(imageUri: string): string | undefined {
  const m = ECR_URI.exec(imageUri);
  if (!m) return undefined;
  const partition = m[3] ? "aws-cn" : "aws";
  return `arn:${partition}:ecr:${m[2]}:${m[1]}:repository/${m[4]}`;
}

/** The catalog image an endpoint runs (`triton` by default), or none for its own `imageUri`. */
export function catalogImage(args: { image?: string; imageUri?: unknown }): string | undefined {
  return args.imageUri === undefined ? (args.image ?? "triton") : undefined;
}

/** The region the endpoint is in. */
export function endpointRegion(args: { region?: string }): string | undefined {
  return args.region ?? aws.config.region;
}

const ASYNC_ONLY: (keyof SageMakerEndpointArgs)[] = [
  "asyncMaxConcurrentInvocationsPerInstance",
  "targetBacklogPerInstance",
  "asyncBacklogAgeSeconds",
];
const SERVERLESS_ONLY: (keyof SageMakerEndpointArgs)[] = [
  "serverlessMemoryMb",
  "serverlessMaxConcurrency",
  "serverlessProvisionedConcurrency",
];
const INSTANCE_ONLY: (keyof SageMakerEndpointArgs)[] = [
  "instanceType",
  "initialInstanceCount",
  "minInstances",
  "maxInstances",
  "modelDataDownloadTimeoutSeconds",
  "containerStartupTimeoutSeconds",
  "volumeSizeGb",
  "inferenceAmiVersion",
  "subnetIds",
  "dataCapturePercent",
];
const REALTIME_ONLY: (keyof SageMakerEndpointArgs)[] = [
  "targetInvocationsPerInstance",
  "highResolutionScaling",
  "targetConcurrentRequestsPerModel",
];

function notFor(
  errors: ArgError[],
  args: SageMakerEndpointArgs,
  fields: (keyof SageMakerEndpointArgs)[],
  mode: string,
  why: string,
) {
  for (const f of fields) {
    if (args[f] !== undefined)
      errors.push({ propertyPath: f, reason: `does not apply to ${mode} endpoints: ${why}` });
  }
}

function positive(errors: ArgError[], field: string, v: number | undefined) {
  if (v !== undefined && !(typeof v === "number" && v > 0 && Number.isFinite(v))) {
    errors.push({
      propertyPath: field,
      reason: `must be a positive number, got ${JSON.stringify(v)}`,
    });
  }
}

/** The allowed range of each deployment share, percent of the variant's instances. */
export const DEPLOYMENT_PERCENT_LIMITS = [
  ["canaryPercent", 1, 50],
  ["linearStepPercent", 10, 50],
  ["rollingBatchPercent", 5, 50],
] as const;

/** Every problem with the arguments, each naming its field and what is allowed. */
export function validateSageMakerEndpointArgs(args: SageMakerEndpointArgs): ArgError[] {
  const errors: ArgError[] = [];
  const mode = args.mode ?? "realtime";
  checkOneOf(errors, "mode", args.mode, Object.values(EndpointMode));
  const region = endpointRegion(args);
  if (!region)
    errors.push({
      propertyPath: "region",
      reason: "must be set when the stack has no aws:region config",
    });

  if (args.utilization !== undefined) {
    const problem = utilizationProblem(args.utilization);
    if (problem) errors.push({ propertyPath: "utilization", reason: problem });
  }

  // The image.
  let imageAccelerator: "nvidia" | "neuron" | undefined;
  const image = args.image ?? "triton";
  if (args.imageUri === undefined) {
    if (!(image in SERVING_IMAGES)) {
      errors.push({
        propertyPath: "image",
        reason: `must be one of ${Object.keys(SERVING_IMAGES).join(", ")}, got ${JSON.stringify(image)}`,
      });
    } else if (region) {
      try {
        imageAccelerator = servingImageUri(image, region, args.imageVersion).accelerator;
      } catch (e) {
        errors.push({
          propertyPath: args.imageVersion ? "imageVersion" : "region",
          reason: (e as Error).message,
        });
      }
    }
  } else if (typeof args.imageUri === "string" && !ECR_URI.test(args.imageUri)) {
    errors.push({
      propertyPath: "imageUri",
      reason: `must be an ECR image URI <account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>, got ${JSON.stringify(args.imageUri)}`,
    });
  }
  if (args.imageFlavour !== undefined) {
    if (!(args.imageFlavour in TRITON_FLAVOURS))
      errors.push({
        propertyPath: "imageFlavour",
        reason: `must be one of ${Object.keys(TRITON_FLAVOURS).join(", ")}, got ${JSON.stringify(args.imageFlavour)}`,
      });
    else if (args.imageUri === undefined)
      errors.push({
        propertyPath: "imageUri",
        reason: `is required with imageFlavour ${args.imageFlavour}: the Triton image in your ECR repository`,
      });
    else imageAccelerator = TRITON_FLAVOURS[args.imageFlavour].accelerator;
  }
  const isTriton =
    (args.imageUri === undefined && image === "triton") || args.imageFlavour !== undefined;
  if (isTriton && !args.tritonModelName) {
    errors.push({
      propertyPath: "tritonModelName",
      reason: "is required with the Triton image (it sets SAGEMAKER_TRITON_DEFAULT_MODEL_NAME)",
    });
  }
  // SAGEMAKER_TRITON_DEFAULT_MODEL_NAME means nothing to the LMI, TGI and vLLM containers.
  if (args.tritonModelName !== undefined && args.imageUri === undefined && !isTriton)
    errors.push({
      propertyPath: "tritonModelName",
      reason: `does not apply with image ${image} (it names the Triton model a Triton image serves by default); remove it`,
    });
  if (
    args.tritonModelName !== undefined &&
    !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(args.tritonModelName)
  ) {
    errors.push({
      propertyPath: "tritonModelName",
      reason: `must be a Triton model directory name (letters, digits, _ . -), got ${JSON.stringify(args.tritonModelName)}`,
    });
  }

  // Model data: one of an uncompressed prefix or a tarball.
  if ((args.modelDataPrefix === undefined) === (args.modelDataTarball === undefined)) {
    errors.push({
      propertyPath: "modelDataPrefix",
      reason:
        "set exactly one of modelDataPrefix (uncompressed S3 prefix) and modelDataTarball (model.tar.gz key)",
    });
  }
  if (args.modelDataPrefix !== undefined) {
    const problem = validateModelPrefix(args.modelDataPrefix);
    if (problem) errors.push({ propertyPath: "modelDataPrefix", reason: problem });
  }
  if (args.modelDataTarball !== undefined) {
    const problem = validateModelPrefix(args.modelDataTarball);
    if (problem || !args.modelDataTarball.endsWith(".tar.gz")) {
      errors.push({
        propertyPath: "modelDataTarball",
        reason:
          problem ??
          `must be the S3 key of a .tar.gz, got ${JSON.stringify(args.modelDataTarball)}`,
      });
    }
  }
  if (args.modelRequirements !== undefined) {
    errors.push(
      ...validateModelRequirements(args.modelRequirements).map((reason) => ({
        propertyPath: `modelRequirements.${reason.split(" ")[0]}`,
        reason: reason.slice(reason.indexOf(" ") + 1),
      })),
    );
  }

  if (mode === "serverless") {
    validateServerless(errors, args);
  } else if (mode === "realtime" || mode === "async") {
    validateInstances(errors, args, mode, imageAccelerator);
  }

  checkIntegerRange(errors, "deploymentBakeSeconds", args.deploymentBakeSeconds, 0, 3600);
  checkOneOf(
    errors,
    "deploymentStrategy",
    args.deploymentStrategy,
    Object.values(DeploymentStrategy),
  );
  // SageMaker's limits, as shares of the variant's instances: canary at most 50%, linear steps
  // 10-50% (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_TrafficRoutingConfig.html),
  // rolling batches 5-50% (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_RollingUpdatePolicy.html).
  for (const [f, min, max] of DEPLOYMENT_PERCENT_LIMITS)
    checkIntegerRange(errors, f, args[f], min, max);
  for (const f of [
    "latencyP90Ms",
    "latencyP99Ms",
    "errors5xxPerMinute",
    "scaleInCooldownSeconds",
    "scaleOutCooldownSeconds",
  ] as const) {
    if (args[f] !== undefined && !(args[f]! >= 0))
      errors.push({
        propertyPath: f,
        reason: `must be at least 0, got ${JSON.stringify(args[f])}`,
      });
  }
  checkIntegerRange(errors, "gpuUtilizationPercent", args.gpuUtilizationPercent, 1, 100);
  if (args.endpointName !== undefined && !ENDPOINT_NAME.test(args.endpointName)) {
    errors.push({
      propertyPath: "endpointName",
      reason: `must be 1-63 letters, digits and hyphens, starting with a letter or digit, got ${JSON.stringify(args.endpointName)}`,
    });
  }
  return errors;
}

function validateServerless(errors: ArgError[], args: SageMakerEndpointArgs) {
  const why = "serverless inference has no instances, VPC, data capture or instance autoscaling";
  notFor(errors, args, [...INSTANCE_ONLY, ...ASYNC_ONLY, ...REALTIME_ONLY], "serverless", why);
  if (args.networkIsolation === true)
    errors.push({
      propertyPath: "networkIsolation",
      reason: "serverless inference does not support network isolation",
    });
  if (args.deploymentStrategy !== undefined && args.deploymentStrategy !== "allAtOnce") {
    errors.push({
      propertyPath: "deploymentStrategy",
      reason: `serverless endpoints are updated all at once; got ${JSON.stringify(args.deploymentStrategy)}`,
    });
  }
  const memoryMb = args.serverlessMemoryMb ?? 6144;
  if (!Number.isInteger(memoryMb) || memoryMb < 1024 || memoryMb > 6144 || memoryMb % 1024 !== 0) {
    errors.push({
      propertyPath: "serverlessMemoryMb",
      reason: `must be 1024, 2048, 3072, 4096, 5120 or 6144, got ${JSON.stringify(args.serverlessMemoryMb)}`,
    });
  }
  checkIntegerRange(errors, "serverlessMaxConcurrency", args.serverlessMaxConcurrency, 1, 200);
  checkIntegerRange(
    errors,
    "serverlessProvisionedConcurrency",
    args.serverlessProvisionedConcurrency,
    1,
    200,
  );
  const max = args.serverlessMaxConcurrency ?? 10;
  if (
    args.serverlessProvisionedConcurrency !== undefined &&
    args.serverlessProvisionedConcurrency > max
  ) {
    errors.push({
      propertyPath: "serverlessProvisionedConcurrency",
      reason: `must not exceed serverlessMaxConcurrency (${max}), got ${args.serverlessProvisionedConcurrency}`,
    });
  }
  if (args.imageUri === undefined) {
    const image = args.image ?? "triton";
    errors.push({
      propertyPath: "mode",
      reason: `serverless inference has no GPUs, and the ${image} image needs ${SERVING_IMAGES[image]?.accelerator === "neuron" ? "Neuron devices" : "NVIDIA GPUs"}: use realtime or async, or a CPU image in imageUri`,
    });
  }
  const req = args.modelRequirements;
  if (req !== undefined && validateModelRequirements(req).length === 0) {
    const needGib = estimateMemory(req).requiredGib;
    const haveGib = memoryMb / 1024;
    if (needGib > haveGib) {
      const region = endpointRegion(args) ?? FALLBACK_REGION;
      const accelerator =
        args.imageUri === undefined
          ? SERVING_IMAGES[args.image ?? "triton"]?.accelerator
          : undefined;
      const fit = cheapestInstanceThatFits(req, { region, service: "sagemaker", accelerator });
      errors.push({
        propertyPath: "modelRequirements",
        reason: `serverless inference has no GPUs and at most 6 GiB of memory (${haveGib} GiB here); this model needs ${needGib.toFixed(1)} GiB: use a realtime or async endpoint${fit ? ` on ${fit.instanceType} or larger` : ""}`,
      });
    }
  }
}

/**
 * Will it start? The weights must download and load within the variant's timeouts
 * (catalog/startup.ts): a timeout the stack sets below the estimate is refused, and so is a model
 * whose load alone outlasts SageMaker's 3600 s limit.
 */
function validateStartup(
  errors: ArgError[],
  args: SageMakerEndpointArgs,
  req: ModelRequirements,
  instanceType: string,
) {
  const estimate = startupEstimate(req, instanceType);
  if (!estimate) return;
  const load = Math.ceil(estimate.loadSeconds);
  const weights = gb(estimate.weightsBytes);
  const loading = `${weights} of weights take about ${load} s to load and start (${PUBLISHED_LOAD.bytes / 1e9} GB loaded by vLLM in ${PUBLISHED_LOAD.loadSeconds} s, catalog/startup.ts)`;
  if (load > SAGEMAKER_STARTUP_LIMIT_SECONDS)
    errors.push({
      propertyPath: "modelRequirements",
      reason: `${loading}, longer than SageMaker allows a container to start (${SAGEMAKER_STARTUP_LIMIT_SECONDS} s): use more accelerators per instance and a quantized dtype, or serve it on EKS`,
    });
  else if (
    args.containerStartupTimeoutSeconds !== undefined &&
    args.containerStartupTimeoutSeconds < load
  )
    errors.push({
      propertyPath: "containerStartupTimeoutSeconds",
      reason: `must cover loading the model: ${loading}, got ${args.containerStartupTimeoutSeconds}; set ${defaultContainerStartupSeconds(estimate)} or leave it unset`,
    });
  const download = Math.ceil(estimate.downloadSeconds);
  if (
    args.modelDataDownloadTimeoutSeconds !== undefined &&
    args.modelDataDownloadTimeoutSeconds < download
  )
    errors.push({
      propertyPath: "modelDataDownloadTimeoutSeconds",
      reason: `must cover downloading ${weights}, which takes at least ${download} s at ${instanceType}'s ${estimate.bandwidth}, got ${args.modelDataDownloadTimeoutSeconds}`,
    });
}

function validateInstances(
  errors: ArgError[],
  args: SageMakerEndpointArgs,
  mode: "realtime" | "async",
  imageAccelerator: "nvidia" | "neuron" | undefined,
) {
  notFor(errors, args, SERVERLESS_ONLY, mode, "they configure serverless endpoints");
  if (mode === "realtime")
    notFor(errors, args, ASYNC_ONLY, mode, "they configure asynchronous endpoints");
  if (mode === "async")
    notFor(errors, args, REALTIME_ONLY, mode, "async endpoints scale on their backlog");

  const known = Object.keys(SAGEMAKER_HOSTING[FALLBACK_REGION].hourlyUsd);
  if (!args.instanceType) {
    errors.push({
      propertyPath: "instanceType",
      reason: `is required for ${mode} endpoints; one of ${known.join(", ")}`,
    });
  } else if (!known.includes(args.instanceType) || !findInstance(args.instanceType)) {
    errors.push({
      propertyPath: "instanceType",
      reason: `must be a SageMaker hosting instance type the catalog knows (${known.join(", ")}), got ${JSON.stringify(args.instanceType)}`,
    });
  } else {
    const spec = getInstance(args.instanceType);
    const kind = spec.accelerator?.kind;
    const ami =
      args.inferenceAmiVersion === undefined
        ? undefined
        : SAGEMAKER_INFERENCE_AMIS[args.inferenceAmiVersion];
    if (args.inferenceAmiVersion !== undefined && ami === undefined)
      errors.push({
        propertyPath: "inferenceAmiVersion",
        reason: `must be one of ${Object.keys(SAGEMAKER_INFERENCE_AMIS).join(", ")}, got ${JSON.stringify(args.inferenceAmiVersion)}`,
      });
    else if (ami !== undefined && ami.accelerator !== kind)
      errors.push({
        propertyPath: "inferenceAmiVersion",
        reason: `${args.inferenceAmiVersion} is an AMI for ${ami.accelerator === "neuron" ? "Neuron devices" : "NVIDIA GPUs"}, but ${args.instanceType} has ${kind === undefined ? "no accelerator" : kind === "neuron" ? "Neuron devices" : "NVIDIA GPUs"}`,
      });
    if (imageAccelerator && kind !== imageAccelerator) {
      errors.push({
        propertyPath: "instanceType",
        reason: `${args.instanceType} has ${kind === undefined ? "no accelerator" : kind === "neuron" ? "Neuron devices" : "NVIDIA GPUs"}, but the ${args.imageFlavour ? `${args.imageFlavour} Triton` : (args.image ?? "triton")} image needs ${imageAccelerator === "neuron" ? "Neuron devices" : "NVIDIA GPUs"}`,
      });
    }
    const req = args.modelRequirements;
    const vllmNeuron = catalogImage(args) === "vllm-neuron";
    if (vllmNeuron && req === undefined)
      errors.push({
        propertyPath: "modelRequirements",
        reason:
          "is required with image vllm-neuron: the Neuron model is compiled for its contextLength, concurrentSequences and attentionHeads",
      });
    if (req !== undefined && validateModelRequirements(req).length === 0 && vllmNeuron) {
      // Inferentia2: the fit is per NeuronCore of the tensor parallel degree (catalog/neuron.ts).
      // (An instance without Neuron devices is refused above, for the image.)
      const layout = neuronLayout(req, args.instanceType);
      if (!layout.ok && kind === "neuron")
        errors.push({
          propertyPath: spec.family === "inf2" ? "modelRequirements" : "instanceType",
          reason: layout.reason,
        });
      else if (layout.ok) validateStartup(errors, args, req, args.instanceType);
    } else if (req !== undefined && validateModelRequirements(req).length === 0) {
      if (!spec.accelerator) {
        errors.push({
          propertyPath: "instanceType",
          reason: `${args.instanceType} has no accelerator, and the model needs one`,
        });
      } else {
        const fit = fitsInstance(req, spec);
        if (!fit.fits) {
          const better = cheapestInstanceThatFits(req, {
            region: endpointRegion(args) ?? FALLBACK_REGION,
            service: "sagemaker",
            accelerator: spec.accelerator.kind,
          });
          errors.push({
            propertyPath: "modelRequirements",
            reason: `the model needs ${fit.requiredGib.toFixed(1)} GiB of accelerator memory but ${args.instanceType} has ${fit.availableGib.toFixed(1)} GiB${better ? `; ${better.instanceType} fits` : ""}${shorterContextAdvice(req, spec)}`,
          });
        }
        validateStartup(errors, args, req, args.instanceType);
      }
    }
    if (args.volumeSizeGb !== undefined && spec.nvmeGb > 0) {
      errors.push({
        propertyPath: "volumeSizeGb",
        reason: `${args.instanceType} has local NVMe storage; SageMaker takes no volume size for it`,
      });
    }
  }
  checkIntegerRange(errors, "volumeSizeGb", args.volumeSizeGb, 1, 512);

  const minFloor = mode === "async" ? 0 : 1;
  checkIntegerRange(errors, "minInstances", args.minInstances, minFloor, 100);
  checkIntegerRange(errors, "maxInstances", args.maxInstances, 1, 100);
  checkIntegerRange(errors, "initialInstanceCount", args.initialInstanceCount, 1, 100);
  const { min, max, initial } = instanceCounts(args, mode);
  checkScalingBounds(
    errors,
    { min, desired: initial, max },
    { min: "minInstances", desired: "initialInstanceCount", max: "maxInstances" },
  );
  checkIntegerRange(
    errors,
    "modelDataDownloadTimeoutSeconds",
    args.modelDataDownloadTimeoutSeconds,
    60,
    3600,
  );
  checkIntegerRange(
    errors,
    "containerStartupTimeoutSeconds",
    args.containerStartupTimeoutSeconds,
    60,
    3600,
  );
  checkIntegerRange(
    errors,
    "asyncMaxConcurrentInvocationsPerInstance",
    args.asyncMaxConcurrentInvocationsPerInstance,
    1,
    1000,
  );
  checkIntegerRange(errors, "dataCapturePercent", args.dataCapturePercent, 1, 100);
  positive(errors, "targetInvocationsPerInstance", args.targetInvocationsPerInstance);
  positive(errors, "targetConcurrentRequestsPerModel", args.targetConcurrentRequestsPerModel);
  positive(errors, "targetBacklogPerInstance", args.targetBacklogPerInstance);
  if (args.subnetIds !== undefined && args.vpcId === undefined) {
    errors.push({
      propertyPath: "vpcId",
      reason: "is required with subnetIds (for the endpoint's security group)",
    });
  }
}

/** Autoscaling bounds and the count at creation (at least 1: AWS creates no empty variant). */
export function instanceCounts(
  args: SageMakerEndpointArgs,
  mode: EndpointMode,
): { min: number; max: number; initial: number } {
  const min = args.minInstances ?? (mode === "async" ? 0 : 1);
  const max = args.maxInstances ?? Math.max(4, min);
  const initial = args.initialInstanceCount ?? Math.max(min, 1);
  return { min, max, initial };
}
