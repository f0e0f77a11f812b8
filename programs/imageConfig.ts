/**
 * The Triton image keys shared by `llm-infra:triton`, `llm-infra:fleet` and each
 * `llm-infra:sagemaker.endpoints[]` entry:
 *
 * ```yaml
 * imageFlavour: vllm        # base | vllm | trtllm | neuron: the backends the image has
 * imageRepository: triton   # one of llm-infra:storage.repositories: the stack's own ECR image
 * imageTag: 26.07-vllm-python-py3
 * ```
 */
import { ociTagProblem } from "../catalog/awsLimits";
import { TRITON_FLAVOURS, TritonFlavour, tritonImageProblems } from "../catalog/images";
import { SectionReader } from "./configReader";

export const IMAGE_KEYS = ["imageFlavour", "imageRepository", "imageTag"] as const;

export interface ImageConfig {
  imageFlavour?: TritonFlavour;
  /** The name of one of the stack's ECR repositories (llm-infra:storage.repositories). */
  imageRepository?: string;
  imageTag?: string;
}

/**
 * Reads the image keys. `needsOwnRepository` is true where NVIDIA's NGC images cannot be used for a
 * flavour (SageMaker pulls only from ECR, and AWS publishes only the base `-py3` Triton build).
 */
export function readImageConfig(
  r: SectionReader,
  ctx: {
    repositories: string[];
    /** SageMaker without its own `imageUri`: a non-base flavour needs a repository of the stack. */
    nonBaseNeedsOwnRepository?: boolean;
    /** False where the component validates the flavour itself (TritonRelease, TritonFleet). */
    checkFlavour?: boolean;
  },
  problems: string[],
): ImageConfig {
  const flavour = r.string("imageFlavour");
  const repository = r.string("imageRepository");
  const tag = r.checked("imageTag", ociTagProblem);
  const config: ImageConfig = {
    imageFlavour: flavour as TritonFlavour | undefined,
    imageRepository: repository,
    imageTag: tag,
  };
  if (flavour !== undefined && !(flavour in TRITON_FLAVOURS)) {
    problems.push(
      `${r.key("imageFlavour")} must be one of ${Object.keys(TRITON_FLAVOURS).join(", ")}, got ${JSON.stringify(flavour)}`,
    );
    return config;
  }
  if (repository !== undefined && !ctx.repositories.includes(repository)) {
    problems.push(
      `${r.key("imageRepository")} must name one of llm-infra:storage.repositories (${ctx.repositories.join(", ")}), got ${JSON.stringify(repository)}`,
    );
  }
  if (ctx.checkFlavour === false) return config;
  for (const p of tritonImageProblems({ flavour: config.imageFlavour, repository, tag })) {
    problems.push(`${r.key(p.field)} ${p.reason}`);
  }
  if (
    ctx.nonBaseNeedsOwnRepository &&
    flavour !== undefined &&
    flavour !== "base" &&
    flavour !== "neuron" &&
    repository === undefined
  ) {
    problems.push(
      `${r.key("imageRepository")} (or imageUri) is required with imageFlavour ${flavour}: SageMaker pulls from ECR and AWS publishes only the base Triton image; push the NGC ${flavour} image to a repository of the stack`,
    );
  }
  return config;
}
