/**
 * The serving targets of a stack and where each reads its model repository: a SageMaker
 * endpoint (`<repositoryPrefix>/<endpoint>/`), Triton on EKS (`llm-infra:triton.modelPrefix`, by
 * default `<repositoryPrefix>/triton/`) and the EC2 fleet (`llm-infra:fleet.modelPrefix`, by default
 * `<repositoryPrefix>/fleet/`): the same prefixes programs/platform.ts hands the components.
 */
import { TritonFlavour, servingImageUri } from "../catalog/images";
import { neuronCompileSeconds, neuronLayout } from "../catalog/neuron";
import type { NeuronExport } from "../components/storage/modelWeights";
import { catalogImage } from "../components/sagemaker/endpointArgs";
import { ModelRequirements } from "../catalog/modelFit";
import { StackConfig } from "../programs/config";
import type { EndpointConfig } from "../programs/sagemakerConfig";
import { CheckTarget } from "./check";
import { resolveModelRepository } from "./local";

export type TargetKind = "endpoint" | "triton" | "fleet";

export interface ServingTarget {
  kind: TargetKind;
  /** `endpoint chat`, `triton`, `fleet`. */
  label: string;
  /** The model store prefix the target reads, without a trailing slash. */
  prefix: string;
  instanceType: string;
  flavour: TritonFlavour;
  model?: ModelRequirements;
  /** Triton on EKS reading the shared EFS cache: the sync job copies the prefix into it. */
  efs?: { syncPrefix: string };
  /** Triton on EKS: how it reads the prefix (`s3`, `s3-sync` or `efs`; the chart's default `s3-sync`). */
  repositoryMode?: string;
  /** The model the target loads by name (an endpoint's `tritonModelName`). */
  defaultModel?: string;
  /** The config entry of the target, e.g. `llm-infra:sagemaker.endpoints[0]`, `llm-infra:triton`. */
  configKey: string;
  /** The local model repository the stack names for it (`modelRepository`), as written. */
  modelRepository?: string;
}

/** What a target's repository must suit: the input of `checkRepository`. */
export function checkTargetOf(t: ServingTarget): CheckTarget {
  return {
    flavour: t.flavour,
    instanceType: t.instanceType,
    model: t.model,
    defaultModel: t.defaultModel,
    label: t.label,
  };
}

/** A local model repository the deploy checks and pushes before it creates the target. */
export interface ModelPush {
  /** The key that names it, e.g. `llm-infra:sagemaker.endpoints[0].modelRepository`. */
  key: string;
  /** The local repository (absolute): the directory holding `<model>/config.pbtxt`. */
  directory: string;
  /** `sagemaker endpoint chat`, `triton on eks` or `triton fleet`. */
  label: string;
  /** Where it goes: `target.prefix` in the model bucket (what `pushFiles` takes). */
  target: ServingTarget;
  /** What it must suit (what `checkRepository` and `checkTargetFit` take). */
  check: CheckTarget;
}

/**
 * The model repositories a stack names (`modelRepository` on an endpoint, on `llm-infra:triton`
 * and on `llm-infra:fleet`), in the order of its targets, resolved against the project root.
 */
export function modelPushesOf(config: StackConfig, root: string): ModelPush[] {
  return stackTargets(config)
    .filter((t) => t.modelRepository !== undefined)
    .map((t) => ({
      key: `${t.configKey}.modelRepository`,
      directory: resolveModelRepository(root, t.modelRepository!),
      label:
        t.kind === "endpoint"
          ? `sagemaker ${t.label}`
          : t.kind === "triton"
            ? "triton on eks"
            : "triton fleet",
      target: t,
      check: checkTargetOf(t),
    }));
}

/** A target the stack does not have: the message names what it has. */
export class TargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TargetError";
  }
}

/**
 * Whether an endpoint runs Triton and so reads a Triton model repository: the catalog's Triton
 * image, or an image of the stack's own (imageRepository, imageUri) that the stack treats as one.
 * The catalog's LMI, TGI and vLLM containers read Hugging Face weights instead.
 */
export function endpointServesTriton(e: EndpointConfig): boolean {
  return (
    e.image === undefined ||
    e.image === "triton" ||
    e.imageFlavour !== undefined ||
    e.imageUri !== undefined ||
    e.ownImageRepository !== undefined
  );
}

/**
 * Each model the stack's SageMaker endpoints serve, as a single-model endpoint's config: the
 * endpoint itself, or each component of an endpoint of inference components (named
 * `<endpoint>/<component>`, on the endpoint's first pool type, reading its own prefix).
 */
export function sagemakerModelsOf(
  config: StackConfig,
): { e: EndpointConfig; name: string; configKey: string }[] {
  return config.sagemaker.endpoints.flatMap(
    (e, i): { e: EndpointConfig; name: string; configKey: string }[] =>
      e.components === undefined
        ? [{ e, name: e.name, configKey: `llm-infra:sagemaker.endpoints[${i}]` }]
        : e.components.flatMap((c, j) => [
            {
              e: {
                ...c,
                name: `${e.name}/${c.name}`,
                mode: "realtime" as const,
                inVpc: e.inVpc,
                instanceType: e.instancePools?.[0]?.instanceType,
                inferenceAmiVersion: e.inferenceAmiVersion,
              } as EndpointConfig,
              name: `${e.name}/${c.name}`,
              configKey: `llm-infra:sagemaker.endpoints[${i}].components[${j}]`,
            },
            // A pool that serves another hub model for this component: its own prefix.
            ...(e.instancePools ?? []).flatMap((p, k) => {
              const o = p.overrides?.[c.name];
              if (o?.hubModel === undefined) return [];
              const name = `${e.name}/${c.name}@${p.instanceType}`;
              return [
                {
                  e: {
                    ...c,
                    name,
                    mode: "realtime" as const,
                    inVpc: e.inVpc,
                    instanceType: p.instanceType,
                    inferenceAmiVersion: e.inferenceAmiVersion,
                    hubModel: o.hubModel,
                    hubRevision: o.hubRevision,
                    modelRequirements: o.modelRequirements ?? c.modelRequirements,
                    modelDataPrefix: o.modelDataPrefix,
                  } as EndpointConfig,
                  name,
                  configKey: `llm-infra:sagemaker.endpoints[${i}].instancePools[${k}].overrides.${c.name}`,
                },
              ];
            }),
          ]),
  );
}

/** An endpoint whose container serves Hugging Face weights from its prefix (`image: lmi`). */
export interface WeightsEndpoint {
  /** `endpoint chat`. */
  label: string;
  /** The model store prefix SageMaker mounts at /opt/ml/model, without a trailing slash. */
  prefix: string;
  /** The hub model the deploy copies there (`hubModel`), when the stack names one. */
  hub?: { repoId: string; revision?: string };
  /** The Neuron model the deploy compiles from it (`image: vllm-neuron`). */
  neuron?: NeuronExport;
  /** The container serves a Neuron model (`image: vllm-neuron`), with or without `hubModel`. */
  servesNeuronModel: boolean;
  /** The config entry, e.g. `llm-infra:sagemaker.endpoints[0]`. */
  configKey: string;
}

/** The endpoints of a stack that read Hugging Face weights rather than a Triton repository. */
export function weightsEndpointsOf(config: StackConfig): WeightsEndpoint[] {
  const out: WeightsEndpoint[] = [];
  for (const { e, name, configKey } of sagemakerModelsOf(config)) {
    if (e.modelDataPrefix === undefined || endpointServesTriton(e)) continue;
    out.push({
      label: `endpoint ${name}`,
      prefix: e.modelDataPrefix,
      ...(e.hubModel !== undefined
        ? {
            hub: {
              repoId: e.hubModel,
              ...(e.hubRevision !== undefined ? { revision: e.hubRevision } : {}),
            },
          }
        : {}),
      ...(e.hubModel !== undefined ? neuronExportOf(config.region, e) : {}),
      servesNeuronModel: catalogImage(e) === "vllm-neuron",
      configKey,
    });
  }
  return out;
}

/**
 * The Neuron export of a `vllm-neuron` endpoint: compiled in its serving image for the shapes it
 * serves (catalog/neuron.ts neuronLayout), or nothing for any other endpoint or one the config
 * checks refuse.
 */
function neuronExportOf(region: string, e: EndpointConfig): { neuron?: NeuronExport } {
  if (catalogImage(e) !== "vllm-neuron" || !e.modelRequirements) return {};
  const layout = neuronLayout(e.modelRequirements, e.instanceType ?? "");
  if (!layout.ok) return {};
  return {
    neuron: {
      image: servingImageUri("vllm-neuron", region, e.imageVersion).uri,
      shape: layout.shape,
      compileSeconds: neuronCompileSeconds(e.modelRequirements),
    },
  };
}

/** Every serving target of a stack that reads a Triton model repository. */
export function stackTargets(config: StackConfig): ServingTarget[] {
  const targets: ServingTarget[] = [];
  for (const { e, name, configKey } of sagemakerModelsOf(config)) {
    if (e.modelDataPrefix === undefined || !endpointServesTriton(e)) continue;
    targets.push({
      kind: "endpoint",
      label: `endpoint ${name}`,
      prefix: e.modelDataPrefix,
      instanceType: e.instanceType ?? "",
      flavour: e.imageFlavour ?? "base",
      model: e.modelRequirements,
      defaultModel: e.tritonModelName,
      configKey,
      modelRepository: e.modelRepository,
    });
  }
  if (config.triton) {
    const efs = config.triton.modelRepositoryMode === "efs";
    targets.push({
      kind: "triton",
      label: "triton",
      prefix: config.triton.modelPrefix,
      instanceType: config.triton.instanceType,
      flavour: config.triton.imageFlavour ?? "base",
      model: config.triton.modelRequirements,
      configKey: "llm-infra:triton",
      modelRepository: config.triton.modelRepository,
      repositoryMode: config.triton.modelRepositoryMode ?? "s3-sync",
      ...(efs
        ? {
            efs: {
              syncPrefix:
                config.eks?.modelCache.syncPrefix ?? config.storage.modelStore.repositoryPrefix,
            },
          }
        : {}),
    });
  }
  if (config.fleet) {
    targets.push({
      kind: "fleet",
      label: "fleet",
      prefix: config.fleet.modelPrefix,
      instanceType: config.fleet.instanceType,
      flavour: config.fleet.imageFlavour ?? "base",
      model: config.fleet.modelRequirements,
      configKey: "llm-infra:fleet",
      modelRepository: config.fleet.modelRepository,
    });
  }
  return targets;
}

/** The target a command names: `--endpoint <name>`, `--triton` or `--fleet`. */
export function findTarget(
  config: StackConfig,
  stack: string,
  choice: { endpoint?: string; triton?: boolean; fleet?: boolean },
): ServingTarget {
  const targets = stackTargets(config);
  const chosen = [choice.endpoint !== undefined, choice.triton === true, choice.fleet === true];
  if (chosen.filter(Boolean).length !== 1)
    throw new TargetError(
      `choose one target: --endpoint <name>, --triton or --fleet (stack ${stack} has ${describeTargets(targets)})`,
    );
  const wanted =
    choice.endpoint !== undefined
      ? targets.find((t) => t.kind === "endpoint" && t.label === `endpoint ${choice.endpoint}`)
      : targets.find((t) => t.kind === (choice.triton ? "triton" : "fleet"));
  // An endpoint of inference components: its components are the targets.
  const withComponents = config.sagemaker.endpoints.find(
    (e) => e.name === choice.endpoint && e.components !== undefined,
  );
  if (!wanted && withComponents)
    throw new TargetError(
      `endpoint ${withComponents.name} of stack ${stack} hosts inference components: name one, ${withComponents.components!.map((c) => `--endpoint ${withComponents.name}/${c.name}`).join(" or ")}`,
    );
  // An endpoint on the LMI, TGI or vLLM container reads Hugging Face weights, not a repository.
  const weightsEndpoint =
    choice.endpoint !== undefined && !wanted
      ? sagemakerModelsOf(config).find((m) => m.name === choice.endpoint)?.e
      : undefined;
  if (weightsEndpoint && !endpointServesTriton(weightsEndpoint)) {
    const e = weightsEndpoint;
    const serves =
      e.hubModel !== undefined
        ? `serves hub weights with image ${e.image} (hubModel ${e.hubModel}, which the deploy copies to ${e.modelDataPrefix ?? "the endpoint's prefix"}/)`
        : `serves Hugging Face weights with image ${e.image}`;
    throw new TargetError(
      `stack ${stack} has no Triton target --endpoint ${e.name}: endpoint ${e.name} ${serves}, not a Triton model repository, so there is nothing to check or push; it has ${describeTargets(targets)}`,
    );
  }
  if (!wanted) {
    const asked =
      choice.endpoint !== undefined
        ? `no SageMaker endpoint ${JSON.stringify(choice.endpoint)} reading a model repository`
        : choice.triton
          ? "no llm-infra:triton section"
          : "no llm-infra:fleet section";
    throw new TargetError(`stack ${stack} has ${asked}; it has ${describeTargets(targets)}`);
  }
  // A sync prefix that does not hold Triton's is refused by the config parse (programs/config.ts).
  return wanted;
}

function describeTargets(targets: ServingTarget[]): string {
  if (targets.length === 0) return "no serving targets";
  return targets
    .map((t) => (t.kind === "endpoint" ? `--endpoint ${t.label.slice(9)}` : `--${t.kind}`))
    .join(", ");
}
