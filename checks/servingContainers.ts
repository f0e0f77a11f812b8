/**
 * Serving containers that can answer: each SageMaker model's container, on the host its endpoint
 * configuration gives it, serves a request at `/invocations`. A model can be valid on its own and
 * still never answer:
 *
 * - An NGC Triton image with an LLM backend (vLLM, TensorRT-LLM) before release 25.03 has no
 *   SageMaker generate handler: `/invocations` refuses the decoupled model ("HTTP end point doesn't
 *   support models with decoupled transaction policy", triton-inference-server/server r24.05
 *   src/sagemaker_server.cc; catalog/drivers.ts SAGEMAKER_GENERATE_SINCE), and the vLLM backend of
 *   those releases asserts the decoupled policy (triton-inference-server/vllm_backend r24.05 to
 *   r24.10 src/model.py, "vLLM Triton backend must be configured to use decoupled model
 *   transaction policy").
 * - An NGC Triton tag whose NVIDIA driver the variant's AMI does not have (catalog/drivers.ts).
 * - The LMI container told to fetch a Hugging Face Hub id (`HF_MODEL_ID`) while the model blocks
 *   all network access: "a HuggingFace Hub model-id ... a S3 uri ... or a local path"
 *   (djl-serving serving/docs/lmi/user_guides/starting-guide.md); a hub id is downloaded at start.
 *
 * - The vLLM Neuron container (`huggingface-vllm-inference-neuronx`) on a host without
 *   Inferentia2, told to fetch a hub id while the model blocks all network access (`optimum-cli
 *   neuron serve --model` takes a "Model ID on huggingface.co or path on disk"), or served with
 *   shapes other than those the stack's Neuron export compiled into its model data: serve refuses
 *   them ("The specified batch_size ... is inconsistent with the one used to export the neuron
 *   model", optimum-neuron v0.4.5 optimum/commands/neuron/serve.py).
 *
 * Pure over the plan's resources, so `npm run plan`, the tests and `pulumi preview` (the policy
 * pack's `sagemaker-containers-serve`) run the same check.
 */
import { CapturedResource } from "./resource";
import { Finding } from "./finding";
import { arr, obj } from "./inputs";
import { driverProblem, sageMakerGenerateProblem, sageMakerHostDriver } from "../catalog/drivers";
import { isServingImage, splitImageUri } from "../catalog/images";
import { weightsScripts } from "./weightsBuildspec";

import { variantInstanceTypes } from "../catalog/cost";

const CHECK = "sagemaker-containers-serve";

/** The endpoint configuration variants that run a model: by model name, else by component. */
function variantsOf(
  model: CapturedResource,
  resources: CapturedResource[],
): Record<string, unknown>[] {
  const configs = resources.filter(
    (r) => r.type === "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
  );
  const variants = (c: CapturedResource) => arr(c.inputs.productionVariants).map(obj);
  const byName = configs.flatMap(variants).filter((v) => model.id && v.modelName === model.id);
  if (byName.length > 0) return byName;
  // An inference component's model runs on every pool type of its endpoint's configuration.
  const native = resources.filter(
    (r) =>
      r.type === "aws-native:sagemaker:EndpointConfig" &&
      r.parent !== null &&
      r.parent === model.parent,
  );
  if (native.length > 0)
    return native
      .flatMap(variants)
      .flatMap((v) => variantInstanceTypes(v).map((instanceType) => ({ ...v, instanceType })));
  // At preview a new model's name is not known yet: its component's configuration runs it.
  return configs.filter((c) => c.parent !== null && c.parent === model.parent).flatMap(variants);
}

/** The shapes one Neuron export compiles, by the prefix it writes (its buildspec's scripts). */
function neuronExports(resources: CapturedResource[]): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const project of resources) {
    if (project.type !== "aws:codebuild/project:Project") continue;
    for (const { script, destinations } of weightsScripts(obj(project.inputs.source).buildspec)) {
      const flags = /--tensor_parallel_size (\d+) --batch_size (\d+) --sequence_length (\d+)/.exec(
        script,
      );
      if (!flags) continue;
      for (const d of destinations)
        out.set(d, {
          SM_ON_TENSOR_PARALLEL_SIZE: flags[1],
          SM_ON_BATCH_SIZE: flags[2],
          SM_ON_SEQUENCE_LENGTH: flags[3],
        });
    }
  }
  return out;
}

/** The key prefix of a model's uncompressed S3 data, without the trailing slash. */
function modelDataPrefix(container: Record<string, unknown>): string | undefined {
  const source = obj(arr(obj(container.modelDataSource).s3DataSources)[0]);
  const m = typeof source.s3Uri === "string" ? /^s3:\/\/[^/]+\/(.+?)\/?$/.exec(source.s3Uri) : null;
  return m?.[1];
}

/** Whether an `HF_MODEL_ID` names a hub model (downloaded) rather than a path or an S3 URI. */
function isHubDownload(modelId: unknown): boolean {
  return typeof modelId === "string" && !modelId.startsWith("/") && !modelId.startsWith("s3://");
}

export function checkServingContainers(resources: CapturedResource[]): Finding[] {
  const findings: Finding[] = [];
  const exports = neuronExports(resources);
  for (const model of resources) {
    if (model.type !== "aws:sagemaker/model:Model") continue;
    const container = obj(model.inputs.primaryContainer);
    const image = container.image;
    if (typeof image !== "string") continue;
    const { repository, tag } = splitImageUri(image);
    const env = obj(container.environment);
    const add = (message: string) => findings.push({ check: CHECK, resource: model.name, message });

    // NGC Triton LLM tags: the generate handler, then the driver of each host that runs it.
    const generate = sageMakerGenerateProblem(tag);
    if (generate) add(`image ${image}: ${generate}`);
    for (const v of variantsOf(model, resources)) {
      if (typeof v.instanceType !== "string") continue;
      const ami = typeof v.inferenceAmiVersion === "string" ? v.inferenceAmiVersion : undefined;
      const problem = driverProblem(tag, sageMakerHostDriver(v.instanceType, ami));
      if (problem) add(`image ${image} on variant ${String(v.variantName)}: ${problem}`);
    }

    // LMI: a hub id in HF_MODEL_ID is downloaded at start, which network isolation forbids.
    if (
      repository.endsWith("/djl-inference") &&
      model.inputs.enableNetworkIsolation === true &&
      isHubDownload(env.HF_MODEL_ID)
    )
      add(
        `HF_MODEL_ID ${JSON.stringify(env.HF_MODEL_ID)} is a Hugging Face Hub id, which LMI downloads when it starts, but the model blocks all network access (enableNetworkIsolation): copy the weights into the model data (hubModel) and set HF_MODEL_ID to /opt/ml/model`,
      );

    // vLLM Neuron: an Inferentia2 host, a model on disk, and the shapes it was compiled for.
    if (isServingImage(image, "vllm-neuron")) {
      for (const v of variantsOf(model, resources))
        if (typeof v.instanceType === "string" && !/^ml\.inf2\./.test(v.instanceType))
          add(
            `image ${image} on variant ${String(v.variantName)}: the vLLM Neuron container needs Inferentia2 (ml.inf2.*), got ${v.instanceType}`,
          );
      if (model.inputs.enableNetworkIsolation === true && isHubDownload(env.SM_ON_MODEL))
        add(
          `SM_ON_MODEL ${JSON.stringify(env.SM_ON_MODEL)} is a Hugging Face Hub id, which the container downloads and compiles when it starts, but the model blocks all network access (enableNetworkIsolation): compile it into the model data (hubModel) and set SM_ON_MODEL to /opt/ml/model`,
        );
      const prefix = modelDataPrefix(container);
      const compiled = prefix === undefined ? undefined : exports.get(prefix);
      for (const [name, value] of Object.entries(compiled ?? {}))
        if (env[name] !== value)
          add(
            `${name} is ${JSON.stringify(env[name])}, but the stack's Neuron export compiles ${prefix}/ with ${value}: the container refuses a shape the model was not compiled for`,
          );
    }
  }
  return findings;
}
