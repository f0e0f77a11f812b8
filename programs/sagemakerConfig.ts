/**
 * The `llm-infra:sagemaker` config section: the stack's SageMaker endpoints.
 *
 * ```yaml
 * llm-infra:sagemaker:
 *   endpoints:
 *     - name: chat
 *       instanceType: ml.g5.2xlarge
 *       tritonModelName: llama3-8b
 *       model: { parametersBillions: 8, dtype: bf16, contextLength: 8192, concurrentSequences: 4 }
 * ```
 *
 * Each endpoint reads its own prefix, `<storage.repositoryPrefix>/<name>/`, so its role reads only
 * that prefix: a Triton model repository, or with `image: lmi` a Hugging Face snapshot that the
 * deploy's weights copy writes there from `hubModel`:
 *
 * ```yaml
 *     - name: chat
 *       instanceType: ml.g5.2xlarge
 *       image: lmi
 *       imageVersion: "0.31.0"
 *       inferenceAmiVersion: al2-ami-sagemaker-inference-gpu-3-1
 *       hubModel: NousResearch/Meta-Llama-3-8B-Instruct
 *       model: { parametersBillions: 8, dtype: bf16, contextLength: 8192, concurrentSequences: 4 }
 * ```
 */
import { ModelRequirements } from "../catalog/modelFit";
import {
  SageMakerEndpointArgs,
  validateSageMakerEndpointArgs,
} from "../components/sagemaker/endpointArgs";
import { defaultEndpointName } from "../components/sagemaker/sageMakerEndpoint";
import {
  fromComponent,
  isObject,
  readEntryName,
  readSection,
  SectionReader,
  shown,
} from "./configReader";
import { TritonFlavour, splitImageUri, tritonImage } from "../catalog/images";
import {
  SAGEMAKER_LLM_INSTEAD,
  driverProblem,
  sageMakerGenerateProblem,
  sageMakerHostDriver,
} from "../catalog/drivers";
import { isHubId, revisionProblem } from "../modelRepository/hubModels";
import { IMAGE_KEYS, readImageConfig } from "./imageConfig";
import { localRepositoryProblems } from "../modelRepository/local";
import {
  InferenceComponentEndpointArgs,
  InstancePool,
  ModelComponentArgs,
  PoolOverride,
  validateInferenceComponentEndpointArgs,
} from "../components/sagemaker/componentEndpointArgs";

/** One endpoint as configured: the component's plain arguments, a name, and whether it is in the VPC. */
export type EndpointConfig = Omit<
  SageMakerEndpointArgs,
  | "modelBucketArn"
  | "modelKmsKeyArn"
  | "subnetIds"
  | "vpcId"
  | "environment"
  | "imageUri"
  | "tags"
  | "alarmTopicArn"
  | "kmsKeyArn"
> & {
  name: string;
  /** One of llm-infra:storage.repositories: the endpoint's image is `<repository URL>:<imageTag>`. */
  ownImageRepository?: string;
  /** The tag in `ownImageRepository`. @default the flavour's NGC tag (a mirrored NGC image) */
  imageTag?: string;
  /** Run the model containers in the VPC's private subnets. @default true (false for serverless) */
  inVpc: boolean;
  /** Your own serving image in ECR, in the stack's region, instead of a catalog `image`. */
  imageUri?: string;
  /**
   * The local Triton model repository the deploy checks and pushes to the endpoint's prefix,
   * relative to the project root (`models/chat`: the directory holding `<model>/config.pbtxt`).
   */
  modelRepository?: string;
  /**
   * The Hugging Face Hub model the LMI container serves (`image: lmi`): the deploy's weights copy
   * writes its snapshot to the endpoint's prefix, which SageMaker mounts at /opt/ml/model.
   * @example "NousResearch/Meta-Llama-3-8B-Instruct"
   */
  hubModel?: string;
  /** The hub revision (branch, tag or commit) of `hubModel`. @default "main" */
  hubRevision?: string;
  /**
   * Several models on one real-time endpoint, each an inference component with its own
   * accelerators, memory and copy count (docs/inference-components.md). With components the
   * endpoint names no model of its own, and lists `instancePools` instead of `instanceType`.
   */
  components?: ComponentConfig[];
  /** With `components`: the instance types, tried in order when capacity is short (1 to 5). */
  instancePools?: ConfigInstancePool[];
};

/**
 * An instance pool as configured: a component's override may name another hub model for this
 * type, which the deploy copies to the override's own prefix.
 */
export type ConfigInstancePool = Omit<InstancePool, "overrides"> & {
  overrides?: Record<string, PoolOverride & { hubModel?: string; hubRevision?: string }>;
};

/** One model of an endpoint of inference components, as configured. */
export type ComponentConfig = Omit<ModelComponentArgs, "imageUri" | "environment"> & {
  /** Your own serving image in ECR, instead of a catalog `image`. */
  imageUri?: string;
  /** One of llm-infra:storage.repositories: the component's image is `<repository URL>:<imageTag>`. */
  ownImageRepository?: string;
  /** The tag in `ownImageRepository`. */
  imageTag?: string;
  /** The local Triton model repository the deploy pushes to the component's prefix. */
  modelRepository?: string;
  /** The Hugging Face Hub model whose snapshot the deploy copies to the component's prefix. */
  hubModel?: string;
  /** The hub revision of `hubModel`. @default "main" */
  hubRevision?: string;
};

const PREFIX = "llm-infra:sagemaker";
const NUMBER_KEYS = [
  "initialInstanceCount",
  "minInstances",
  "maxInstances",
  "targetInvocationsPerInstance",
  "targetConcurrentRequestsPerModel",
  "scaleInCooldownSeconds",
  "scaleOutCooldownSeconds",
  "modelDataDownloadTimeoutSeconds",
  "containerStartupTimeoutSeconds",
  "volumeSizeGb",
  "asyncMaxConcurrentInvocationsPerInstance",
  "targetBacklogPerInstance",
  "serverlessMemoryMb",
  "serverlessMaxConcurrency",
  "serverlessProvisionedConcurrency",
  "dataCapturePercent",
  "deploymentBakeSeconds",
  "canaryPercent",
  "linearStepPercent",
  "rollingBatchPercent",
  "latencyP90Ms",
  "latencyP99Ms",
  "errors5xxPerMinute",
  "gpuUtilizationPercent",
  "asyncBacklogAgeSeconds",
  "utilization",
] as const;
const STRING_KEYS = [
  "mode",
  "image",
  "imageVersion",
  "imageUri",
  "instanceType",
  "tritonModelName",
  "modelDataTarball",
  "deploymentStrategy",
  "endpointName",
  "inferenceAmiVersion",
] as const;
const BOOLEAN_KEYS = ["highResolutionScaling", "networkIsolation", "inVpc"] as const;
const MODEL_NUMBER_KEYS = [
  "parametersBillions",
  "contextLength",
  "concurrentSequences",
  "layers",
  "hiddenSize",
  "attentionHeads",
  "kvHeads",
  "headroomFraction",
] as const;
const MODEL_STRING_KEYS = ["dtype", "kvCacheDtype"] as const;
/** Names the platform's own components use. */
export const RESERVED_NAMES = [
  "network",
  "registry",
  "models",
  "eks",
  "addons",
  "model-cache",
  "triton",
  "fleet",
  "api",
];

/** The `model` map of an endpoint or the fleet: the fit inputs, each checked by type. */
export function readModel(
  reader: SectionReader,
  problems: string[],
): ModelRequirements | undefined {
  const model = reader.map("model");
  if (model === undefined) return undefined;
  const before = problems.length;
  const r = readSection(reader.key("model"), model, problems, [
    ...MODEL_NUMBER_KEYS,
    ...MODEL_STRING_KEYS,
  ])!;
  const out: Record<string, unknown> = {};
  for (const k of MODEL_NUMBER_KEYS) out[k] = r.number(k);
  for (const k of MODEL_STRING_KEYS) out[k] = r.string(k);
  for (const k of ["parametersBillions", "dtype", "contextLength", "concurrentSequences"]) {
    if (model[k] === undefined || model[k] === null) problems.push(`${r.key(k)} is required`);
  }
  // A model with a wrong field is not fitted: the fit math would only repeat the mistake as NaN.
  if (problems.length > before) return undefined;
  return Object.fromEntries(
    Object.entries(out).filter(([, v]) => v !== undefined),
  ) as unknown as ModelRequirements;
}

/**
 * Parses `llm-infra:sagemaker` (raw, decoded) into endpoint configs, validating each with the
 * component's own rules. Problems are appended, each naming its full key.
 */
export function parseSageMakerConfig(
  raw: unknown,
  ctx: {
    region: string;
    repositoryPrefix: string;
    project: string;
    stack: string;
    repositories?: string[];
    /** The project root: `modelRepository` is checked on disk against it (not when absent). */
    root?: string;
  },
  problems: string[],
): EndpointConfig[] {
  const section = readSection(PREFIX, raw, problems, ["endpoints"]);
  if (!section) return [];
  const list = section.value("endpoints") ?? [];
  if (!Array.isArray(list)) {
    problems.push(`${PREFIX}.endpoints must be a list of endpoints, got ${JSON.stringify(list)}`);
    return [];
  }
  const endpoints: EndpointConfig[] = [];
  const names = new Set<string>();
  const physicalNames = new Map<string, string>();
  // Two endpoints must not claim one SageMaker endpoint name (given, or the default one).
  const claimName = (
    r: SectionReader,
    endpointName: string | undefined,
    name: string,
    prefix: string,
  ) => {
    const physical = endpointName ?? defaultEndpointName(ctx.project, ctx.stack, name);
    const owner = physicalNames.get(physical);
    if (owner !== undefined)
      problems.push(
        `${r.key(endpointName !== undefined ? "endpointName" : "name")} gives the SageMaker endpoint name ${physical}, which ${owner} already uses; endpoint names are unique in a region`,
      );
    else physicalNames.set(physical, prefix);
  };
  list.forEach((item: unknown, i: number) => {
    const keys = [
      "name",
      "model",
      "modelRepository",
      "hubModel",
      "hubRevision",
      ...NUMBER_KEYS,
      ...STRING_KEYS,
      ...BOOLEAN_KEYS,
      ...IMAGE_KEYS,
    ];
    const r = readSection(
      `${PREFIX}.endpoints[${i}]`,
      item,
      problems,
      isObject(item) && item.components !== undefined && item.components !== null
        ? COMPONENT_ENDPOINT_KEYS
        : keys,
    );
    if (!r) return;
    const prefix = `${PREFIX}.endpoints[${i}]`;
    const name = readEntryName(r, names, "endpoint", RESERVED_NAMES, problems);
    if (!name) return;
    if (r.value("components") !== undefined && r.value("components") !== null) {
      const config = parseComponentEndpoint(r, name, ctx, problems);
      if (!config) return;
      claimName(r, config.endpointName, name, prefix);
      endpoints.push(config);
      return;
    }

    const values: Record<string, unknown> = {};
    for (const k of NUMBER_KEYS) values[k] = r.number(k);
    for (const k of STRING_KEYS) values[k] = r.string(k);
    for (const k of BOOLEAN_KEYS) values[k] = r.boolean(k);
    const modelRequirements = readModel(r, problems);
    // With imageUri the user's own ECR image carries the flavour, so no repository is needed.
    const image = readImageConfig(
      r,
      {
        repositories: ctx.repositories ?? [],
        nonBaseNeedsOwnRepository: values.imageUri === undefined,
      },
      problems,
    );
    const plain = Object.fromEntries(
      Object.entries(values).filter(([, v]) => v !== undefined),
    ) as Partial<EndpointConfig>;
    const mode = plain.mode ?? "realtime";
    // A serverless endpoint needs its own image: serverless inference has no GPUs for the
    // catalog's serving images, and pulls from ECR only, not from private Docker registries (the
    // serverless feature exclusions, https://docs.aws.amazon.com/sagemaker/latest/dg/serverless-endpoints.html,
    // as listed in https://dev.to/multigrid/sagemaker-serverless-inference-setup-and-its-real-limits-6e).
    if (plain.imageUri !== undefined) {
      const why = "with imageUri (your own image replaces the catalog's)";
      for (const k of ["image", "imageVersion"]) r.notWith(k, why);
      // One endpoint runs one image: imageUri is the whole image, imageRepository and imageTag
      // would name a second one (the repository's image used to win without a word).
      for (const k of ["imageRepository", "imageTag"])
        r.notWith(k, "with imageUri: an endpoint runs one image, and imageUri is all of it");
      // "The model artifacts in an Amazon S3 bucket and the Docker image for inference container
      // in Amazon EC2 Container Registry must be in the same region as the model or endpoint"
      // (SageMaker ContainerDefinition.Image, https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/sagemaker/aws.sdk.kotlin.services.sagemaker.model/-container-definition/image.html).
      const imageRegion = /^\d{12}\.dkr\.ecr\.([a-z0-9-]+)\./.exec(plain.imageUri)?.[1];
      if (imageRegion !== undefined && imageRegion !== ctx.region)
        problems.push(
          `${r.key("imageUri")} must be an ECR image in the stack's region ${ctx.region}, got one in ${imageRegion}`,
        );
    }
    if (plain.imageUri === undefined && image.imageRepository !== undefined) {
      const why = `with imageRepository: an endpoint runs one image, ${image.imageRepository}:<imageTag>`;
      for (const k of ["image", "imageVersion"]) r.notWith(k, why);
    }
    if (plain.imageUri === undefined && image.imageRepository === undefined)
      r.notWith(
        "imageTag",
        "without imageRepository (the tag of an image in one of llm-infra:storage.repositories)",
      );
    // The endpoint's local model repository: a directory that passes `model check` for it.
    const modelRepository = r.string("modelRepository");
    if (modelRepository !== undefined && plain.modelDataTarball !== undefined)
      r.notWith(
        "modelRepository",
        "with modelDataTarball (the endpoint reads a model.tar.gz, not a model repository prefix)",
      );
    else if (
      modelRepository !== undefined &&
      plain.image !== undefined &&
      plain.image !== "triton" &&
      image.imageFlavour === undefined
    )
      r.notWith(
        "modelRepository",
        `with image ${plain.image} (a model repository is Triton's layout; give imageFlavour for a Triton image of your own)`,
      );
    else if (modelRepository !== undefined && ctx.root !== undefined)
      for (const p of localRepositoryProblems(ctx.root, modelRepository, {
        flavour: image.imageFlavour ?? "base",
        instanceType: plain.instanceType,
        model: modelRequirements,
        defaultModel: plain.tritonModelName,
        label: `endpoint ${name}`,
      }))
        problems.push(`${r.key("modelRepository")} ${p}`);
    const hub = readHubModel(r, plain, image);
    // Options of another deployment strategy are refused, not ignored.
    const strategy = plain.deploymentStrategy ?? "allAtOnce";
    for (const [k, s] of [
      ["canaryPercent", "canary"],
      ["linearStepPercent", "linear"],
      ["rollingBatchPercent", "rolling"],
    ] as const) {
      if (strategy !== s) r.notWith(k, `with deploymentStrategy ${strategy} (only with ${s})`);
    }
    claimName(r, plain.endpointName, name, prefix);
    const inVpc = plain.inVpc ?? mode !== "serverless";
    const config: EndpointConfig = {
      ...plain,
      name,
      inVpc,
      modelRequirements,
      ...(modelRepository !== undefined ? { modelRepository } : {}),
      ...hub,
      ...(image.imageFlavour !== undefined ? { imageFlavour: image.imageFlavour } : {}),
      ...(image.imageRepository !== undefined
        ? { ownImageRepository: image.imageRepository, imageTag: image.imageTag }
        : {}),
      modelDataPrefix:
        plain.modelDataTarball === undefined ? `${ctx.repositoryPrefix}/${name}` : undefined,
    };
    // The image's NVIDIA driver: an NGC Triton tag (mirrored into the stack's repository, or in
    // imageUri) needs the driver NVIDIA lists for it on the variant's AMI (catalog/drivers.ts).
    if (mode !== "serverless" && plain.instanceType !== undefined) {
      const tagKey =
        plain.imageUri !== undefined
          ? "imageUri"
          : image.imageTag !== undefined
            ? "imageTag"
            : "imageFlavour";
      const tag =
        plain.imageUri !== undefined
          ? splitImageUri(plain.imageUri).tag
          : image.imageRepository !== undefined
            ? (image.imageTag ?? ownImageTag(image.imageFlavour))
            : undefined;
      const host = sageMakerHostDriver(plain.instanceType, plain.inferenceAmiVersion);
      // Only NGC's vLLM and TensorRT-LLM tags are known to the driver table, and none of them
      // serves on SageMaker: a driver the host lacks, or no generate handler. One line says which,
      // and what serves instead.
      const problem =
        tag === undefined
          ? undefined
          : (driverProblem(tag, host, SAGEMAKER_LLM_INSTEAD) ?? sageMakerGenerateProblem(tag));
      if (problem !== undefined) problems.push(`${r.key(tagKey)} ${problem}`);
    }
    // A flavour without an image was reported above under imageRepository: one line per mistake.
    const imageReported =
      image.imageFlavour !== undefined &&
      image.imageRepository === undefined &&
      plain.imageUri === undefined;
    const componentErrors = validateSageMakerEndpointArgs(componentArgs(config, ctx.region)).filter(
      (e) => !(imageReported && e.propertyPath === "imageUri"),
    );
    problems.push(
      ...fromComponent(prefix, componentErrors, {
        modelRequirements: "model",
        subnetIds: "inVpc",
        vpcId: "inVpc",
        modelDataPrefix: "modelDataTarball",
        region: "image",
      }),
    );
    endpoints.push(config);
  });
  return endpoints;
}

/** The component arguments of a configured endpoint (placeholders where the platform fills in outputs). */
export function componentArgs(config: EndpointConfig, region: string): SageMakerEndpointArgs {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { name, inVpc, ...model } = config;
  return {
    ...modelArgs(model, region),
    region,
    modelBucketArn: "arn:aws:s3:::model-store",
    ...(inVpc ? { subnetIds: ["subnet"], vpcId: "vpc" } : {}),
  };
}

/**
 * A configured model's component arguments: without what only the deploy reads (the local
 * repository, the hub model), and with the stack's own image as an ECR URI of that shape, which
 * the platform replaces with the repository's URL.
 */
function modelArgs<
  T extends {
    ownImageRepository?: string;
    imageTag?: string;
    modelRepository?: string;
    hubModel?: string;
    hubRevision?: string;
    imageFlavour?: TritonFlavour;
  },
>(
  model: T,
  region: string,
): Omit<T, "ownImageRepository" | "imageTag" | "modelRepository" | "hubModel" | "hubRevision"> & {
  imageUri?: string;
} {
  const {
    /* eslint-disable @typescript-eslint/no-unused-vars */
    ownImageRepository,
    imageTag,
    modelRepository,
    hubModel,
    hubRevision,
    /* eslint-enable @typescript-eslint/no-unused-vars */
    ...args
  } = model;
  return {
    ...args,
    ...(ownImageRepository !== undefined
      ? {
          imageUri: `123456789012.dkr.ecr.${region}.amazonaws.com/${ownImageRepository}:${imageTag ?? ownImageTag(args.imageFlavour)}`,
        }
      : {}),
  };
}

/** The tag of an image mirrored from NGC into the stack's repository: the flavour's NGC tag. */
export function ownImageTag(flavour: TritonFlavour | undefined): string {
  return tritonImage({ flavour: flavour === "neuron" ? "base" : flavour }).tag;
}

/**
 * `hubModel` and `hubRevision`: the hub model an LMI endpoint serves. LMI reads Hugging Face
 * weights from /opt/ml/model (components/sagemaker/lmiEnvironment.ts); a Triton image reads a model
 * repository instead, whose `model.json` names the hub model (docs/model-repository.md).
 */
function readHubModel(
  r: SectionReader,
  plain: Partial<EndpointConfig>,
  image: { imageFlavour?: string; imageRepository?: string },
): { hubModel?: string; hubRevision?: string } {
  const hubModel = r.checked("hubModel", (v) =>
    isHubId(v) ? undefined : `must be a Hugging Face Hub id owner/name, got ${JSON.stringify(v)}`,
  );
  const hubRevision = r.checked("hubRevision", (v) => revisionProblem(v));
  if (r.value("hubModel") === undefined) {
    r.notWith("hubRevision", "without hubModel (the revision of the hub model LMI serves)");
    return {};
  }
  // LMI serves the snapshot; vLLM Neuron serves the Neuron model the deploy compiles from it.
  const lmi =
    (plain.image === "lmi" || plain.image === "vllm-neuron") &&
    plain.imageUri === undefined &&
    image.imageRepository === undefined &&
    image.imageFlavour === undefined;
  if (!lmi) {
    r.notWith(
      "hubModel",
      `with ${plain.imageUri !== undefined ? "imageUri" : image.imageRepository !== undefined ? `imageRepository ${image.imageRepository}` : `image ${plain.image ?? "triton"}`}: the weights copy feeds the LMI container (image: lmi) and the Neuron export the vLLM Neuron container (image: vllm-neuron); a Triton image reads a model repository whose model.json names the hub model (modelRepository)`,
    );
    return {};
  }
  if (plain.modelDataTarball !== undefined) {
    r.notWith(
      "hubModel",
      "with modelDataTarball (the weights are copied to the endpoint's prefix, not into a tarball)",
    );
    return {};
  }
  return {
    ...(hubModel !== undefined ? { hubModel } : {}),
    ...(hubRevision !== undefined ? { hubRevision } : {}),
  };
}

/** The keys of an endpoint of inference components: the endpoint's own; the models are in `components`. */
const COMPONENT_ENDPOINT_NUMBER_KEYS = [
  "minInstances",
  "maxInstances",
  "volumeSizeGb",
  "modelDataDownloadTimeoutSeconds",
  "containerStartupTimeoutSeconds",
  "rollingBatchPercent",
  "deploymentBakeSeconds",
  "latencyP90Ms",
  "latencyP99Ms",
  "errors5xxPerMinute",
  "utilization",
] as const;
const COMPONENT_ENDPOINT_KEYS = [
  "name",
  "mode",
  "endpointName",
  "inVpc",
  "networkIsolation",
  "inferenceAmiVersion",
  "instancePools",
  "components",
  ...COMPONENT_ENDPOINT_NUMBER_KEYS,
  // Keys of a single-model endpoint, refused below with the reason rather than as unknown.
  "model",
  "instanceType",
  "hubModel",
  "modelRepository",
  "image",
  "imageUri",
  "initialInstanceCount",
  "deploymentStrategy",
  "dataCapturePercent",
];
const COMPONENT_NUMBER_KEYS = [
  "acceleratorsPerCopy",
  "memoryPerCopyMb",
  "minCopies",
  "maxCopies",
  "targetInvocationsPerCopy",
  "targetConcurrentRequestsPerCopy",
  "scaleInCooldownSeconds",
  "scaleOutCooldownSeconds",
] as const;
const COMPONENT_KEYS = [
  "name",
  "model",
  "image",
  "imageVersion",
  "imageUri",
  "tritonModelName",
  "modelRepository",
  "hubModel",
  "hubRevision",
  "highResolutionScaling",
  ...COMPONENT_NUMBER_KEYS,
  ...IMAGE_KEYS,
];

/**
 * An endpoint of inference components (`components:`): the endpoint's pools and instance bounds,
 * and each component's model, image and copies, validated by InferenceComponentEndpoint's rules.
 * Each component reads its own prefix, `<repositoryPrefix>/<endpoint>/<component>/`.
 */
function parseComponentEndpoint(
  r: SectionReader,
  name: string,
  ctx: { region: string; repositoryPrefix: string; repositories?: string[]; root?: string },
  problems: string[],
): EndpointConfig | undefined {
  const before = problems.length;
  const mode = r.string("mode");
  // "An endpoint can scale to and from zero instances only if it hosts inference components"
  // and inference components are placed on a real-time variant's instances (managed instance
  // scaling); serverless endpoints have no instances, and AWS documents no asynchronous endpoint
  // of inference components (https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling-zero-instances.html).
  if (mode !== undefined && mode !== "realtime")
    problems.push(
      `${r.key("mode")} must be realtime with components (inference components serve real-time endpoints; async and serverless endpoints host one model), got ${JSON.stringify(mode)}`,
    );
  const why = "with components: each component names its own model, image and weights";
  for (const k of ["model", "hubModel", "modelRepository", "image", "imageUri"]) r.notWith(k, why);
  r.notWith(
    "instanceType",
    "with components: list the instance types in instancePools (tried in order, up to 5)",
  );
  r.notWith(
    "initialInstanceCount",
    "with components: managed instance scaling starts at minInstances (at least one instance)",
  );
  r.notWith(
    "deploymentStrategy",
    "with components: inference components update by rolling batches of copies (rollingBatchPercent); SageMaker offers no blue/green traffic shifting for them",
  );
  r.notWith(
    "dataCapturePercent",
    "with components: the stack captures data on single-model endpoints only",
  );
  const values: Record<string, unknown> = {};
  for (const k of COMPONENT_ENDPOINT_NUMBER_KEYS) values[k] = r.number(k);
  values.endpointName = r.string("endpointName");
  values.inferenceAmiVersion = r.string("inferenceAmiVersion");
  values.networkIsolation = r.boolean("networkIsolation");
  const inVpc = r.boolean("inVpc") ?? true;
  const pools = readPools(r, { endpoint: name, repositoryPrefix: ctx.repositoryPrefix }, problems);
  const list = r.value("components");
  if (!Array.isArray(list)) {
    problems.push(`${r.key("components")} must be a list of models, got ${JSON.stringify(list)}`);
    return undefined;
  }
  const components: ComponentConfig[] = [];
  list.forEach((item: unknown, j: number) => {
    const c = readSection(`${r.key("components")}[${j}]`, item, problems, COMPONENT_KEYS);
    if (!c) return;
    const cname = c.string("name");
    const plain: Record<string, unknown> = { name: cname };
    for (const k of COMPONENT_NUMBER_KEYS) plain[k] = c.number(k);
    for (const k of ["image", "imageVersion", "imageUri", "tritonModelName"])
      plain[k] = c.string(k);
    plain.highResolutionScaling = c.boolean("highResolutionScaling");
    const model = readModel(c, problems);
    const image = readImageConfig(
      c,
      {
        repositories: ctx.repositories ?? [],
        nonBaseNeedsOwnRepository: plain.imageUri === undefined,
      },
      problems,
    );
    if (plain.imageUri !== undefined)
      for (const k of ["image", "imageVersion", "imageRepository", "imageTag"])
        c.notWith(k, "with imageUri (your own image replaces the catalog's)");
    const hub = readHubModel(c, plain as Partial<EndpointConfig>, image);
    const modelRepository = c.string("modelRepository");
    if (modelRepository !== undefined && ctx.root !== undefined && pools[0] !== undefined)
      for (const p of localRepositoryProblems(ctx.root, modelRepository, {
        flavour: image.imageFlavour ?? "base",
        instanceType: pools[0].instanceType,
        model,
        defaultModel: plain.tritonModelName as string | undefined,
        label: `endpoint ${name} component ${String(cname)}`,
      }))
        problems.push(`${c.key("modelRepository")} ${p}`);
    components.push(
      Object.fromEntries(
        Object.entries({
          ...plain,
          modelRequirements: model,
          ...hub,
          modelRepository,
          imageFlavour: image.imageFlavour,
          ...(image.imageRepository !== undefined
            ? { ownImageRepository: image.imageRepository, imageTag: image.imageTag }
            : {}),
          modelDataPrefix: `${ctx.repositoryPrefix}/${name}/${String(cname)}`,
        }).filter(([, v]) => v !== undefined),
      ) as unknown as ComponentConfig,
    );
  });
  // A pool's hub model feeds the LMI container, as a component's own does.
  pools.forEach((p, j) => {
    for (const [k, o] of Object.entries(p.overrides ?? {})) {
      const c = components.find((x) => x.name === k);
      if (o.hubModel !== undefined && c !== undefined && c.hubModel === undefined)
        problems.push(
          `${r.key("instancePools")}[${j}].overrides.${k}.hubModel needs the component's own hubModel (image: lmi): the pool serves another snapshot with the component's LMI image`,
        );
    }
  });
  const config: EndpointConfig = {
    ...(Object.fromEntries(
      Object.entries(values).filter(([, v]) => v !== undefined),
    ) as Partial<EndpointConfig>),
    name,
    mode: "realtime",
    inVpc,
    instancePools: pools,
    components,
  };
  if (problems.length === before) {
    const errors = validateInferenceComponentEndpointArgs(
      componentEndpointArgs(config, ctx.region),
    );
    problems.push(
      ...fromComponent(r.key("name").replace(/\.name$/, ""), errors).map((p) =>
        p
          .replace(/(components\[\d+\])\.modelRequirements/, "$1.model")
          .replace(/(components\[\d+\])\.modelDataPrefix/, "$1.hubModel"),
      ),
    );
  }
  return problems.length === before ? config : undefined;
}

/** `instancePools`: a list of instance types, or of `{instanceType, overrides}` maps. */
function readPools(
  r: SectionReader,
  at: { endpoint: string; repositoryPrefix: string },
  problems: string[],
): ConfigInstancePool[] {
  const raw = r.value("instancePools");
  if (raw === undefined || raw === null) {
    problems.push(
      `${r.key("instancePools")} is required with components: the instance types, tried in order (1 to 5)`,
    );
    return [];
  }
  if (!Array.isArray(raw)) {
    problems.push(`${r.key("instancePools")} must be a list of instance types, got ${shown(raw)}`);
    return [];
  }
  return raw.flatMap((p: unknown, j: number): ConfigInstancePool[] => {
    if (typeof p === "string") return [{ instanceType: p }];
    const e = readSection(`${r.key("instancePools")}[${j}]`, p, problems, [
      "instanceType",
      "overrides",
    ]);
    if (!e) return [];
    const instanceType = e.string("instanceType");
    if (instanceType === undefined) {
      problems.push(`${e.key("instanceType")} is required`);
      return [];
    }
    const overrides: NonNullable<ConfigInstancePool["overrides"]> = {};
    for (const [k, v] of Object.entries(e.map("overrides") ?? {})) {
      const o = readSection(`${e.key("overrides")}.${k}`, v, problems, [
        "acceleratorsPerCopy",
        "memoryPerCopyMb",
        "hubModel",
        "hubRevision",
        "model",
      ]);
      if (!o) continue;
      const hubModel = o.checked("hubModel", (v) =>
        isHubId(v)
          ? undefined
          : `must be a Hugging Face Hub id owner/name, got ${JSON.stringify(v)}`,
      );
      const hubRevision = o.checked("hubRevision", (v) => revisionProblem(v));
      if (o.value("hubModel") === undefined) {
        // Another model for this type is a hub model the deploy copies to a prefix of its own.
        o.notWith("model", "without hubModel (the model this type serves instead)");
        o.notWith("hubRevision", "without hubModel");
      }
      const model = readModel(o, problems);
      // A type of its own: `<repositoryPrefix>/<endpoint>/<component>-<type>`, next to the
      // component's prefix, not under it (SageMaker mounts a prefix's whole tree).
      const type = instanceType.replace(/^ml\./, "").replace(/\./g, "-");
      overrides[k] = Object.fromEntries(
        Object.entries({
          acceleratorsPerCopy: o.number("acceleratorsPerCopy"),
          memoryPerCopyMb: o.number("memoryPerCopyMb"),
          hubModel,
          hubRevision,
          modelRequirements: model,
          modelDataPrefix:
            hubModel !== undefined
              ? `${at.repositoryPrefix}/${at.endpoint}/${k}-${type}`
              : undefined,
        }).filter(([, x]) => x !== undefined),
      );
    }
    return [{ instanceType, ...(Object.keys(overrides).length > 0 ? { overrides } : {}) }];
  });
}

/** The arguments of an endpoint of inference components (placeholders where the platform fills in outputs). */
export function componentEndpointArgs(
  config: EndpointConfig,
  region: string,
): InferenceComponentEndpointArgs {
  return {
    region,
    // The hub model of an override is the deploy's; the component serves its prefix.
    instancePools: (config.instancePools ?? []).map((p) => ({
      instanceType: p.instanceType,
      ...(p.overrides
        ? {
            overrides: Object.fromEntries(
              Object.entries(p.overrides).map(([k, o]) => {
                // eslint-disable-next-line @typescript-eslint/no-unused-vars
                const { hubModel, hubRevision, ...own } = o;
                return [k, own];
              }),
            ),
          }
        : {}),
    })),
    minInstances: config.minInstances,
    maxInstances: config.maxInstances,
    endpointName: config.endpointName,
    networkIsolation: config.networkIsolation,
    inferenceAmiVersion: config.inferenceAmiVersion,
    volumeSizeGb: config.volumeSizeGb,
    modelDataDownloadTimeoutSeconds: config.modelDataDownloadTimeoutSeconds,
    containerStartupTimeoutSeconds: config.containerStartupTimeoutSeconds,
    rollingBatchPercent: config.rollingBatchPercent,
    deploymentBakeSeconds: config.deploymentBakeSeconds,
    latencyP90Ms: config.latencyP90Ms,
    latencyP99Ms: config.latencyP99Ms,
    errors5xxPerMinute: config.errors5xxPerMinute,
    utilization: config.utilization,
    modelBucketArn: "arn:aws:s3:::model-store",
    ...(config.inVpc ? { subnetIds: ["subnet"], vpcId: "vpc" } : {}),
    components: (config.components ?? []).map((c) => modelArgs(c, region)),
  };
}
