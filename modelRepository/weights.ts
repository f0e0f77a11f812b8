/**
 * Where each serving target's container sees its model repository, and the weights copies a stack
 * needs: every hub model its targets' local repositories name, with the prefixes the copy writes.
 *
 * - SageMaker: the endpoint's model data is an uncompressed S3 prefix (S3Prefix, CompressionType
 *   None), which SageMaker writes under /opt/ml/model: "for each S3 object under the key name
 *   prefix ... SageMaker will trim its key by the prefix, and use the remainder as the path
 *   (relative to /opt/ml/model)" (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_S3ModelDataSource.html);
 *   Triton's SageMaker start script serves `--model-repository=/opt/ml/model`
 *   (triton-inference-server/server@e1db8a6 docker/sagemaker/serve).
 * - Triton on EKS, s3-sync: an init container syncs the prefix into /models, and Triton serves
 *   `--model-repository=/models` (charts/triton/templates/deployment.yaml, _helpers.tpl).
 * - Triton on EKS, efs: the cache's sync Job copies `<syncPrefix>/` to `/models/<syncPrefix>/` on
 *   the access point (components/eks/sharedModelCache.ts `syncCommand`), and Triton mounts the
 *   claim at /models with `subPath: <modelPrefix>` (the chart's `efsSubPath`), so the prefix's
 *   contents are at /models again.
 * - Triton on EKS, s3: Triton reads `s3://...` itself and copies the repository to a temporary
 *   directory of its choosing: no fixed path to give vLLM, so a hub model there is refused at
 *   preview (programs/tritonConfig.ts).
 * - The EC2 fleet: its user data syncs the prefix to /models and runs Triton with
 *   `--model-repository=/models` (components/ec2/tritonFleet.ts).
 */
import { StackConfig } from "../programs/config";
import { NeuronExport, copyMarker } from "../components/storage/modelWeights";
import {
  DEFAULT_REVISION,
  HubModel,
  WEIGHTS_MARKER,
  containerWeightsPath,
  hubModelsOf,
  rewriteModelJson,
  weightsKeyPrefix,
} from "./hubModels";
import { resolveModelRepository } from "./local";
import { ServingTarget, stackTargets, weightsEndpointsOf } from "./targets";

/** Where the target's container sees the contents of its prefix; undefined when no fixed path. */
export function containerRepositoryRoot(t: ServingTarget): string | undefined {
  if (t.kind === "endpoint") return "/opt/ml/model";
  if (t.kind === "fleet") return "/models";
  return t.repositoryMode === "s3" ? undefined : "/models";
}

/** One hub snapshot the copy downloads, and every prefix it writes it to. */
export interface WeightsCopy {
  /** The hub id. */
  repoId: string;
  /** The revision downloaded (model.json's `"revision"`, else the default branch). */
  revision: string;
  /** The weights prefixes (`<target prefix>/<model>/<version>/weights`), sorted, unique. */
  destinations: string[];
  /** Compiled for Inferentia2 on the way (a `vllm-neuron` endpoint's prefix). */
  neuron?: NeuronExport;
}

/**
 * The weights copies of a stack, grouped by hub id and revision (one download, every
 * destination): each LMI endpoint's `hubModel`, written to the endpoint's prefix (SageMaker mounts
 * it at /opt/ml/model), and for each target whose local repository (`modelRepository`) holds vLLM
 * models naming a hub id, the model's weights prefix under the target's prefix.
 */
export function weightsCopiesOf(config: StackConfig, root: string | undefined): WeightsCopy[] {
  const byKey = new Map<string, WeightsCopy>();
  const add = (repoId: string, revision: string, destination: string, neuron?: NeuronExport) => {
    // A Neuron export is its own copy: the same snapshot compiled for other shapes is another.
    const key = `${repoId}@${revision}${neuron ? ` ${JSON.stringify(neuron)}` : ""}`;
    const copy = byKey.get(key) ?? {
      repoId,
      revision,
      destinations: [],
      ...(neuron ? { neuron } : {}),
    };
    if (!copy.destinations.includes(destination)) copy.destinations.push(destination);
    byKey.set(key, copy);
  };
  // LMI endpoints: the snapshot is the model data itself, at the endpoint's prefix; vLLM Neuron
  // endpoints: the Neuron model compiled from it.
  for (const e of weightsEndpointsOf(config))
    if (e.hub) add(e.hub.repoId, e.hub.revision ?? DEFAULT_REVISION, e.prefix, e.neuron);
  // Local repositories resolve against the project root (not known to every caller).
  for (const t of stackTargets(config)) {
    if (root === undefined || t.modelRepository === undefined) continue;
    if (containerRepositoryRoot(t) === undefined) continue;
    for (const m of hubModelsOf(resolveModelRepository(root, t.modelRepository))) {
      add(m.repoId, m.revision ?? DEFAULT_REVISION, weightsKeyPrefix(t.prefix, m));
    }
  }
  return [...byKey.values()]
    .map((c) => ({ ...c, destinations: [...c.destinations].sort() }))
    .sort((a, b) => `${a.repoId}@${a.revision}`.localeCompare(`${b.repoId}@${b.revision}`));
}

/**
 * Each destination's marker and what it must hold (the build's own marker, copyMarker): a marker
 * naming another revision or other Neuron shapes is stale, and the copy runs again.
 */
export function weightsMarkers(copies: WeightsCopy[]): { key: string; body: string }[] {
  return copies.flatMap((c) =>
    c.destinations.map((d) => ({ key: `${d}/${WEIGHTS_MARKER}`, body: copyMarker(c) })),
  );
}

/**
 * The files of a repository to push to `target`, with each vLLM `model.json` naming a hub id
 * rewritten to where the target's container sees the copied weights: a map from the file
 * (relative to the repository) to its new text. Empty for a target without a fixed path.
 */
export function modelJsonRewrites(
  dir: string,
  target: ServingTarget,
  read: (file: string) => string,
): Map<string, string> {
  const root = containerRepositoryRoot(target);
  const out = new Map<string, string>();
  if (root === undefined) return out;
  for (const m of hubModelsOf(dir) as HubModel[])
    out.set(m.file, rewriteModelJson(read(m.file), containerWeightsPath(root, m)));
  return out;
}
