/**
 * Which images a stack brings into its own ECR, decided from its configuration alone (a pure
 * function, tested directly): the NGC Triton images its targets name in a repository of the stack,
 * the images it builds, and, when its workloads pull from ECR (`llm-infra:images.source: ecr`),
 * every upstream image those workloads run.
 */
import { enabledAddonImages } from "../components/eks/clusterAddons";
import { CHART_IMAGES, ImageSource, SYNC_IMAGE } from "../catalog/imageSources";
import { NGC_TRITON, TRITON_FLAVOURS, TritonFlavour, tritonImage } from "../catalog/images";
import { StackConfig } from "./config";
import { ownImageTag } from "./sagemakerConfig";

/** An NGC Triton image copied into a repository of the stack. */
export interface PlannedCopy {
  source: string;
  /** One of llm-infra:storage.repositories. */
  repository: string;
  tag: string;
  /** The targets that run it (`sagemaker.endpoints[chat]`, `triton`, `fleet`). */
  usedBy: string[];
}

export interface ImagePlan {
  source: ImageSource;
  copies: PlannedCopy[];
  /** Upstream images the workloads run, served from ECR (only with source ecr). */
  workloadImages: string[];
  /** Whether the stack needs an image mirror at all. */
  needed: boolean;
}

const NGC_SUFFIXES = Object.values(TRITON_FLAVOURS)
  .map((f) => f.ngcSuffix)
  .filter((s): s is string => s !== undefined)
  // Longest first: `-vllm-python-py3` before `-py3`.
  .sort((a, b) => b.length - a.length);

/** Whether a tag is one of NVIDIA's NGC Triton tags (`26.07-py3`, `26.07-vllm-python-py3`, ...). */
export function isNgcTritonTag(tag: string): boolean {
  return NGC_SUFFIXES.some((s) => new RegExp(`^\\d{2}\\.\\d{2}-${s}$`).test(tag));
}

/** The NGC Triton image a flavour and tag stand for when no repository is given. */
function ngcImage(flavour: TritonFlavour | undefined, tag: string | undefined): string {
  const image = tritonImage({ flavour: flavour === "neuron" ? "base" : flavour, tag });
  return `${image.repository}:${image.tag}`;
}

export function imagePlan(config: StackConfig): ImagePlan {
  const images = config.images;
  const built = new Set(images.builds.map((b) => `${b.repository}:${b.tag}`));
  const copies = new Map<string, PlannedCopy>();
  const copy = (repository: string, tag: string, usedBy: string) => {
    if (!isNgcTritonTag(tag) || built.has(`${repository}:${tag}`)) return;
    const key = `${repository}:${tag}`;
    const entry = copies.get(key) ?? {
      source: `${NGC_TRITON.repository}:${tag}`,
      repository,
      tag,
      usedBy: [],
    };
    entry.usedBy.push(usedBy);
    copies.set(key, entry);
  };
  for (const e of config.sagemaker.endpoints) {
    if (e.ownImageRepository !== undefined)
      copy(
        e.ownImageRepository,
        e.imageTag ?? ownImageTag(e.imageFlavour),
        `sagemaker.endpoints[${e.name}]`,
      );
    for (const c of e.components ?? [])
      if (c.ownImageRepository !== undefined)
        copy(
          c.ownImageRepository,
          c.imageTag ?? ownImageTag(c.imageFlavour),
          `sagemaker.endpoints[${e.name}].components[${c.name}]`,
        );
  }
  const triton = config.triton;
  if (triton?.ownImageRepository !== undefined)
    copy(triton.ownImageRepository, triton.imageTag ?? ownImageTag(triton.imageFlavour), "triton");
  const fleet = config.fleet;
  if (fleet?.ownImageRepository !== undefined)
    copy(fleet.ownImageRepository, fleet.imageTag ?? ownImageTag(fleet.imageFlavour), "fleet");

  const workloadImages: string[] = [];
  if (images.source === "ecr") {
    if (config.eks) {
      workloadImages.push(...enabledAddonImages({ ...config.eks.addons, ...config.eks.cluster }));
      if (config.eks.metrics.enabled) workloadImages.push(...CHART_IMAGES.keda.map((c) => c.image));
      if (config.eks.modelCache.enabled) workloadImages.push(SYNC_IMAGE);
    }
    if (triton) {
      if ((triton.modelRepositoryMode ?? "s3-sync") === "s3-sync") workloadImages.push(SYNC_IMAGE);
      if (triton.ownImageRepository === undefined)
        workloadImages.push(ngcImage(triton.imageFlavour, triton.imageTag));
    }
    if (fleet && fleet.ownImageRepository === undefined)
      workloadImages.push(fleet.image ?? ngcImage(fleet.imageFlavour, fleet.imageTag));
  }
  const unique = [...new Set(workloadImages)];
  return {
    source: images.source,
    copies: [...copies.values()],
    workloadImages: unique,
    needed: copies.size > 0 || images.builds.length > 0 || unique.length > 0,
  };
}
