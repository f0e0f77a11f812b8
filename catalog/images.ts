/**
 * Serving container images per region: the SageMaker Triton container and the LMI, TGI and vLLM
 * containers from the AWS Deep Learning Containers (DLC) registries, and NVIDIA's own Triton image
 * for EKS and EC2.
 *
 * Sources, read 2026-11-27: aws/sagemaker-python-sdk `image_uri_config/*.json` (registries per
 * region, versions and tag prefixes) and aws/deep-learning-containers `available_images.md` and
 * `region_availability.md`; NVIDIA's Triton compatibility matrix for the NGC tags.
 */

/**
 * The DLC registry account per region (the same for every DLC repository in these regions).
 * Checked again 2026-12-01 for the SageMaker Triton image against aws/sagemaker-python-sdk
 * `src/sagemaker/image_uri_config/sagemaker-tritonserver.json` (versions 23.12 to 24.09): the same
 * accounts in every region listed, and only `-py3` tags (no vLLM or TensorRT-LLM build).
 */
export const DLC_ACCOUNTS: Readonly<Record<string, string>> = {
  "us-east-1": "763104351884",
  "us-east-2": "763104351884",
  "us-west-1": "763104351884",
  "us-west-2": "763104351884",
  "ca-central-1": "763104351884",
  "eu-west-1": "763104351884",
  "eu-west-2": "763104351884",
  "eu-west-3": "763104351884",
  "eu-central-1": "763104351884",
  "eu-north-1": "763104351884",
  "ap-northeast-1": "763104351884",
  "ap-northeast-2": "763104351884",
  "ap-south-1": "763104351884",
  "ap-southeast-1": "763104351884",
  "ap-southeast-2": "763104351884",
  "sa-east-1": "763104351884",
  "af-south-1": "626614931356",
  "ap-east-1": "871362719292",
  "ap-northeast-3": "364406365360",
  "ap-southeast-3": "907027046896",
  "eu-south-1": "692866216735",
  "me-south-1": "217643126080",
  "il-central-1": "780543022126",
  "ca-west-1": "204538143572",
  "cn-north-1": "727897471807",
  "cn-northwest-1": "727897471807",
};

/** The serving containers the catalog knows. */
export const ServingImage = {
  /** NVIDIA Triton Inference Server, SageMaker build (`sagemaker-tritonserver`). */
  TritonSageMaker: "triton",
  /** Large Model Inference (DJL Serving with vLLM / LMI-Dist), GPU. */
  Lmi: "lmi",
  /** LMI for Inferentia2 and Trainium (Neuron SDK); retired (see SERVING_IMAGES). */
  LmiNeuron: "lmi-neuron",
  /** Hugging Face Text Generation Inference, GPU. */
  Tgi: "tgi",
  /** Hugging Face TGI on Optimum Neuron (Inferentia2); retired (see SERVING_IMAGES). */
  TgiNeuron: "tgi-neuron",
  /** vLLM on Optimum Neuron (Inferentia2), the Hugging Face Neuron container for SageMaker. */
  VllmNeuron: "vllm-neuron",
  /** The AWS vLLM container, SageMaker build. */
  Vllm: "vllm",
} as const;
export type ServingImage = (typeof ServingImage)[keyof typeof ServingImage];

export interface ImageFamily {
  repository: string;
  /** The accelerators the image runs on. */
  accelerator: "nvidia" | "neuron";
  /** Tags by version, newest last. */
  tags: Readonly<Record<string, string>>;
  defaultVersion: string;
  /** Regions (beyond DLC_ACCOUNTS) where the image is not published. */
  unavailableIn?: readonly string[];
}

export const SERVING_IMAGES: Readonly<Record<ServingImage, ImageFamily>> = {
  triton: {
    repository: "sagemaker-tritonserver",
    accelerator: "nvidia",
    tags: {
      "24.05": "24.05-py3",
      "24.09": "24.09-py3",
      "25.04": "25.04-py3",
      "25.09": "25.09-py3",
      "25.12": "25.12-py3",
      "26.03": "26.03-py3",
      "26.05": "26.05-py3",
    },
    // Pinned to 24.09: 25.04 and later need R575+ host drivers (one failure on SageMaker
    // multi-model hosts with older drivers is reported). Pick a newer version explicitly.
    defaultVersion: "24.09",
  },
  // vLLM inside: 0.6.3.post1 in 0.31.0 (cu124), 0.8.4 in 0.33.0, 0.11.1 in 0.35.0, 0.18.0 in
  // lmi23 (deepjavalibrary/djl-serving 0.31.0-dlc serving/docker/lmi.Dockerfile; aws/deep-learning-
  // containers docs/src/data/djl-inference). Images newer than their host's CUDA start through the
  // CUDA compat libraries their entrypoint adds (djl-serving serving/docker/
  // dockerd-entrypoint-with-cuda-compat.sh, following SageMaker's inference-gpu-drivers guide).
  lmi: {
    repository: "djl-inference",
    accelerator: "nvidia",
    tags: {
      "0.31.0": "0.31.0-lmi13.0.0-cu124",
      "0.33.0": "0.33.0-lmi15.0.0-cu128",
      "0.35.0": "0.35.0-lmi17.0.0-cu128",
      "0.36.0": "0.36.0-lmi23.0.0-cu129",
    },
    defaultVersion: "0.36.0",
  },
  // Retired: no release after 0.30.0 ("[lmi] Remove code and tests related to deprecated neuron
  // hardware support", deepjavalibrary/djl-serving@1132e3a, 2025-11-03). Its transformers-neuronx
  // engine is gone from Neuron's containers since SDK 2.26. Serve on Inferentia2 with vllm-neuron.
  "lmi-neuron": {
    repository: "djl-inference",
    accelerator: "neuron",
    tags: {
      "0.29.0": "0.29.0-neuronx-sdk2.19.1",
      "0.30.0": "0.30.0-neuronx-sdk2.20.1",
    },
    defaultVersion: "0.30.0",
    unavailableIn: ["us-west-1", "ca-central-1"],
  },
  tgi: {
    repository: "huggingface-pytorch-tgi-inference",
    accelerator: "nvidia",
    tags: {
      "3.2.3": "2.6.0-tgi3.2.3-gpu-py311-cu124-ubuntu22.04",
      "3.3.6": "2.7.0-tgi3.3.6-gpu-py311-cu124-ubuntu22.04",
    },
    defaultVersion: "3.3.6",
  },
  // Retired: Hugging Face dropped its TGI Neuron image for vLLM ("refactor(ecr): remove tgi
  // image", huggingface/optimum-neuron@ccb15d7, 2026-01-19). Serve on Inferentia2 with vllm-neuron.
  "tgi-neuron": {
    repository: "huggingface-pytorch-tgi-inference",
    accelerator: "neuron",
    tags: { "0.3.0": "2.7.0-optimum3.3.6-neuronx-py310-ubuntu22.04" },
    defaultVersion: "0.3.0",
  },
  // vLLM 0.11 on optimum-neuron (NxD Inference), versioned by its optimum-neuron release: "vLLM
  // 0.11.0 with NeuronX Inference and HuggingFace Optimum | Neuron 2.26.1 | inference |
  // inf2/trn2/trn1" (aws/deep-learning-containers available_images.md; the 0.4.5 tag from
  // docs/src/data/huggingface-vllm-inference-neuronx/0.11-neuronx-sdk2.26.1.yml). It is the
  // container Hugging Face's SageMaker helper returns for Neuron (optimum-neuron
  // docs/source/containers.mdx). Its entrypoint turns each SM_ON_<FLAG> variable into
  // `optimum-cli neuron serve --<flag>` on port 8080 (optimum-neuron v0.4.5 docker/vllm/Dockerfile):
  // components/sagemaker/neuronEnvironment.ts.
  "vllm-neuron": {
    repository: "huggingface-vllm-inference-neuronx",
    accelerator: "neuron",
    tags: {
      "0.4.4": "0.11.0-optimum0.4.4-neuronx-py310-sdk2.26.1-ubuntu22.04",
      "0.4.5": "0.11.0-optimum0.4.5-neuronx-py310-sdk2.26.1-ubuntu22.04",
    },
    defaultVersion: "0.4.5",
  },
  vllm: {
    repository: "vllm",
    accelerator: "nvidia",
    tags: {
      "0.28.0": "0.28.0-gpu-py312-cu130-ubuntu24.04-sagemaker",
      "0.31.0": "0.31.0-gpu-py312-cu130-ubuntu24.04-sagemaker",
    },
    defaultVersion: "0.31.0",
  },
};

/**
 * Triton image flavours: which backends the image ships, what it runs on and where it comes from.
 *
 * - `base`: NGC `<version>-py3`, the supported backends of the Triton project (TensorRT, ONNX
 *   Runtime, TensorFlow, PyTorch, OpenVINO, Python, DALI, FIL), per
 *   triton-inference-server/backend README "Where can I find all the backends that are available
 *   for Triton?".
 * - `vllm`: NGC `<version>-vllm-python-py3`, the vLLM and Python backends, published since 23.10
 *   (triton-inference-server/vllm_backend README, "Option 1. Use the Pre-Built Docker Container").
 * - `trtllm`: NGC `<version>-trtllm-python-py3`, the TensorRT-LLM and Python backends only
 *   (triton-inference-server/tensorrtllm_backend README, "Starting with Triton 23.10 release,
 *   Triton includes a container with the TensorRT-LLM Backend and Python Backend"; the maintainers
 *   confirm in tensorrtllm_backend issue #401 that the image has no other backends).
 * - `neuron`: Triton with the Python backend and the Neuron runtime for Inferentia, built by the
 *   user (triton-inference-server/python_backend `inferentia/README.md`, "Using Triton with
 *   Inferentia") and pushed to the stack's own ECR repository: NVIDIA publishes no Neuron build.
 *
 * Every Triton image also runs ensembles (`platform: "ensemble"`), which the server core schedules.
 */
export const TritonFlavour = {
  Base: "base",
  Vllm: "vllm",
  TensorRtLlm: "trtllm",
  Neuron: "neuron",
} as const;
export type TritonFlavour = (typeof TritonFlavour)[keyof typeof TritonFlavour];

export interface TritonFlavourSpec {
  /** The NGC tag suffix; none for a flavour NVIDIA does not publish. */
  ngcSuffix?: string;
  /** The backends (`backend: "..."` in config.pbtxt) the image has. */
  backends: readonly string[];
  /** The platforms (`platform: "..."`) the image has. */
  platforms: readonly string[];
  accelerator: "nvidia" | "neuron";
}

export const TRITON_FLAVOURS: Readonly<Record<TritonFlavour, TritonFlavourSpec>> = {
  base: {
    ngcSuffix: "py3",
    backends: [
      "tensorrt",
      "onnxruntime",
      "tensorflow",
      "pytorch",
      "openvino",
      "python",
      "dali",
      "fil",
    ],
    platforms: [
      "tensorrt_plan",
      "onnxruntime_onnx",
      "tensorflow_graphdef",
      "tensorflow_savedmodel",
      "pytorch_libtorch",
      "ensemble",
    ],
    accelerator: "nvidia",
  },
  vllm: {
    ngcSuffix: "vllm-python-py3",
    backends: ["vllm", "python"],
    platforms: ["ensemble"],
    accelerator: "nvidia",
  },
  trtllm: {
    ngcSuffix: "trtllm-python-py3",
    backends: ["tensorrtllm", "python"],
    platforms: ["ensemble"],
    accelerator: "nvidia",
  },
  neuron: { backends: ["python"], platforms: ["ensemble"], accelerator: "neuron" },
};

/**
 * NVIDIA's Triton images on NGC: pulled on EKS and EC2, mirrored into the stack's ECR repository
 * for SageMaker.
 */
export const NGC_TRITON = {
  repository: "nvcr.io/nvidia/tritonserver",
  /**
   * 24.05, the newest release whose driver every host of the package has (catalog/drivers.ts): its
   * vLLM image needs driver 550.54.15 (CUDA 12.4.1), which SageMaker has only with
   * inferenceAmiVersion al2-ami-sagemaker-inference-gpu-3-1 (driver 550); 24.06 and later need 555
   * or newer. EKS's AL2023 NVIDIA AMI (580) and the fleet's AMI (595) run newer releases: give
   * imageTag there.
   */
  defaultVersion: "24.05",
  /** Tag for a version and flavour: base (`24.05-py3`), vLLM or TensorRT-LLM backends. */
  tag(version: string, flavour: "base" | "vllm" | "trtllm" = "base"): string {
    return `${version}-${TRITON_FLAVOURS[flavour].ngcSuffix}`;
  },
} as const;

/** Where a Triton image comes from: NVIDIA's NGC registry, or an ECR repository of the stack. */
export interface TritonImageChoice {
  /** @default "base" */
  flavour?: TritonFlavour;
  /** An image repository (an ECR repository URL of the stack); NGC when absent. */
  repository?: string;
  /** The tag; the catalog's NGC tag of the flavour when absent (required for `neuron`). */
  tag?: string;
}

/**
 * The Triton image for a choice: `{ repository, tag }`. NGC when no repository is given (the
 * `neuron` flavour has no NGC build, so it needs one); the flavour's NGC tag when no tag is given.
 */
export function tritonImage(choice: TritonImageChoice): { repository: string; tag: string } {
  const flavour = choice.flavour ?? "base";
  if (flavour === "neuron" && choice.repository === undefined)
    throw new Error(
      "the neuron Triton flavour has no NGC image: build it and give its ECR repository",
    );
  if (flavour === "neuron" && choice.tag === undefined)
    throw new Error("the neuron Triton flavour is built by you: give the tag you pushed");
  return {
    repository: choice.repository ?? NGC_TRITON.repository,
    tag:
      choice.tag ??
      NGC_TRITON.tag(NGC_TRITON.defaultVersion, flavour as Exclude<TritonFlavour, "neuron">),
  };
}

/**
 * The flavour an NGC Triton tag names (`26.07-py3` base, `26.07-vllm-python-py3` vllm,
 * `26.07-trtllm-python-py3` trtllm: `<YY.MM>-<suffix>`, the tags of NVIDIA's compatibility matrix,
 * triton-inference-server/server@e1db8a6 `docs/introduction/compatibility.md`); undefined for any
 * other tag (your own builds, NGC's `-py3-sdk` and `-py3-min` images).
 */
export function ngcTagFlavour(tag: string): Exclude<TritonFlavour, "neuron"> | undefined {
  const m = /^(\d{2}\.\d{2})-(.+)$/.exec(tag);
  if (!m) return undefined;
  const entry = Object.entries(TRITON_FLAVOURS).find(([, f]) => f.ngcSuffix === m[2]);
  return entry?.[0] as Exclude<TritonFlavour, "neuron"> | undefined;
}

/** Where the image runs: the target's instance type and its accelerator kind. */
export interface TritonImageTarget {
  instanceType: string;
  /** `nvidia`, `neuron`, or none (no accelerator, or an instance type the catalog does not know). */
  accelerator?: "nvidia" | "neuron";
  /** How the target is named in a message, e.g. `node group gpu`. @default the instance type */
  where?: string;
}

/**
 * Problems of a Triton image choice: flavour known, neuron flavour from an own repository, an NGC
 * tag that names another flavour (a `vllm` flavour on the base `26.07-py3` image has no vLLM
 * backend), and, given the target, a `neuron` flavour on NVIDIA GPUs. (An NVIDIA flavour on Neuron
 * devices is refused by each target's own check, which also knows `image` and `imageUri`.)
 */
export function tritonImageProblems(
  choice: TritonImageChoice,
  target?: TritonImageTarget,
): { field: string; reason: string }[] {
  const problems: { field: string; reason: string }[] = [];
  const flavour = choice.flavour ?? "base";
  const tagFlavour = choice.tag === undefined ? undefined : ngcTagFlavour(choice.tag);
  if (flavour in TRITON_FLAVOURS && flavour !== "neuron" && tagFlavour && tagFlavour !== flavour) {
    const version = choice.tag!.slice(0, 5);
    problems.push({
      field: "imageTag",
      reason: `${JSON.stringify(choice.tag)} is NGC's ${tagFlavour} Triton image, which has the ${TRITON_FLAVOURS[tagFlavour].backends.join(", ")} backends, not imageFlavour ${flavour}'s (${TRITON_FLAVOURS[flavour].backends.join(", ")}); use ${NGC_TRITON.tag(version, flavour as Exclude<TritonFlavour, "neuron">)} or imageFlavour ${tagFlavour}`,
    });
  }
  if (flavour === "neuron" && target?.accelerator === "nvidia")
    problems.push({
      field: "imageFlavour",
      reason: `neuron is a Triton built for Inferentia and Trainium (Neuron devices), but ${target.where ?? target.instanceType} has NVIDIA GPUs${target.where ? ` (${target.instanceType})` : ""}; use base, vllm or trtllm there, or serve on a Neuron instance type`,
    });
  if (choice.flavour !== undefined && !(choice.flavour in TRITON_FLAVOURS))
    problems.push({
      field: "imageFlavour",
      reason: `must be one of ${Object.keys(TRITON_FLAVOURS).join(", ")}, got ${JSON.stringify(choice.flavour)}`,
    });
  if (choice.flavour === "neuron" && choice.repository === undefined)
    problems.push({
      field: "imageRepository",
      reason:
        "is required with imageFlavour neuron: NVIDIA publishes no Neuron build of Triton; build one (see docs/model-repository.md#serving-on-inferentia) and push it to a repository of the stack",
    });
  if (choice.flavour === "neuron" && choice.tag === undefined)
    problems.push({
      field: "imageTag",
      reason: "is required with imageFlavour neuron: the tag of the image you built and pushed",
    });
  return problems;
}

/**
 * Whether a Triton image can serve on Neuron devices (Inferentia, Trainium): only the `neuron`
 * flavour, built with the Neuron runtime and pushed to a repository of your own. NVIDIA's NGC images
 * have no Neuron runtime (triton-inference-server/python_backend `inferentia/README.md` installs it
 * into a running container), so they never do, whatever the flavour says.
 */
export function imageServesNeuron(image: {
  repository?: string;
  tag?: string;
  flavour?: TritonFlavour;
}): boolean {
  return (
    image.flavour === "neuron" &&
    image.repository !== undefined &&
    image.repository !== NGC_TRITON.repository
  );
}

/** `repository:tag` (the tag defaults to `latest`, as Docker's does). */
export function splitImageUri(uri: string): { repository: string; tag: string } {
  const slash = uri.lastIndexOf("/");
  const colon = uri.lastIndexOf(":");
  return colon > slash
    ? { repository: uri.slice(0, colon), tag: uri.slice(colon + 1) }
    : { repository: uri, tag: "latest" };
}

/** Whether an image URI is one of a catalog image's repository (any region, any tag). */
export function isServingImage(uri: string, image: ServingImage): boolean {
  return splitImageUri(uri).repository.endsWith(`/${SERVING_IMAGES[image].repository}`);
}

/**
 * The CUDA an LMI image is built on, from its tag's `-cu<major><minor>` suffix (`0.31.0-lmi13.0.0-cu124`
 * is 12.4; the tags of aws/deep-learning-containers docs/src/data/djl-inference): undefined for a
 * tag without one (the Neuron builds).
 */
export function lmiTagCuda(tag: string): string | undefined {
  const m = /-cu(\d{2})(\d)(?:-|$)/.exec(tag);
  return m ? `${Number(m[1])}.${m[2]}` : undefined;
}

/** Whether CUDA version `a` is at most `b` (`12.4` <= `12.4`, `12.4` <= `13.0`). */
export function cudaAtMost(a: string, b: string): boolean {
  const [am, an] = a.split(".").map(Number);
  const [bm, bn] = b.split(".").map(Number);
  return am < bm || (am === bm && (an ?? 0) <= (bn ?? 0));
}

/** The ECR domain of a region (China regions use amazonaws.com.cn). */
export function ecrDomain(region: string): string {
  return region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
}

export interface ResolvedImage {
  uri: string;
  image: ServingImage;
  version: string;
  accelerator: "nvidia" | "neuron";
}

/**
 * The image URI of a serving container in a region, e.g.
 * `763104351884.dkr.ecr.us-east-1.amazonaws.com/sagemaker-tritonserver:24.09-py3`.
 * Throws an error naming the allowed values for an unknown image, version or region.
 */
export function servingImageUri(image: string, region: string, version?: string): ResolvedImage {
  const family = (SERVING_IMAGES as Record<string, ImageFamily | undefined>)[image];
  if (!family) {
    throw new Error(
      `unknown serving image ${JSON.stringify(image)}; allowed: ${Object.keys(SERVING_IMAGES).join(", ")}`,
    );
  }
  const v = version ?? family.defaultVersion;
  const tag = family.tags[v];
  if (!tag) {
    throw new Error(
      `${image} has no version ${JSON.stringify(v)}; allowed: ${Object.keys(family.tags).join(", ")}`,
    );
  }
  const account = DLC_ACCOUNTS[region];
  if (!account || family.unavailableIn?.includes(region)) {
    const regions = Object.keys(DLC_ACCOUNTS).filter((r) => !family.unavailableIn?.includes(r));
    throw new Error(`${image} is not published in ${region}; available in ${regions.join(", ")}`);
  }
  return {
    uri: `${account}.dkr.ecr.${region}.${ecrDomain(region)}/${family.repository}:${tag}`,
    image: image as ServingImage,
    version: v,
    accelerator: family.accelerator,
  };
}

/** Public SSM parameters that resolve the current accelerated AMIs. */
export const AMI_SSM_PARAMETERS = {
  eksNvidia: (kubernetesVersion: string) =>
    `/aws/service/eks/optimized-ami/${kubernetesVersion}/amazon-linux-2023/x86_64/nvidia/recommended/image_id`,
  eksNeuron: (kubernetesVersion: string) =>
    `/aws/service/eks/optimized-ami/${kubernetesVersion}/amazon-linux-2023/x86_64/neuron/recommended/image_id`,
  ecsGpu: "/aws/service/ecs/optimized-ami/amazon-linux-2023/gpu/recommended/image_id",
  // AL2023's Neuron variant is `neuron`; `inf` is Amazon Linux 2's (docs.aws.amazon.com/AmazonECS/
  // latest/developerguide/retrieve-ecs-optimized_AMI.html, "Amazon Linux 2023 (Neuron) AMI
  // metadata"; aws-cdk aws-ecs test/amis.test.ts uses the same path).
  ecsNeuron: "/aws/service/ecs/optimized-ami/amazon-linux-2023/neuron/recommended/image_id",
  deepLearningBaseGpu:
    "/aws/service/deeplearning/ami/x86_64/base-oss-nvidia-driver-gpu-amazon-linux-2023/latest/ami-id",
} as const;

/**
 * Whether a Helm release installs this package's Triton chart: its `chart` is the local path of
 * charts/triton (components/triton/tritonRelease.ts tritonChartPath), whatever the directory.
 */
export function isTritonChart(chart: unknown): boolean {
  return /(^|\/)triton\/?$/.test(String(chart ?? ""));
}
