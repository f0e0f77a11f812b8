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
 * Pure over the plan's resources, so `npm run plan`, the tests and `pulumi preview` (the policy
 * pack's `sagemaker-containers-serve`) run the same check.
 */
import { CapturedResource } from "./resource";
import { Finding } from "./finding";
import { arr, obj } from "./inputs";
import { driverProblem, sageMakerGenerateProblem, sageMakerHostDriver } from "../catalog/drivers";
import { splitImageUri } from "../catalog/images";

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
  // At preview a new model's name is not known yet: its component's configuration runs it.
  return configs.filter((c) => c.parent !== null && c.parent === model.parent).flatMap(variants);
}

/** Whether an `HF_MODEL_ID` names a hub model (downloaded) rather than a path or an S3 URI. */
function isHubDownload(modelId: unknown): boolean {
  return typeof modelId === "string" && !modelId.startsWith("/") && !modelId.startsWith("s3://");
}

export function checkServingContainers(resources: CapturedResource[]): Finding[] {
  const findings: Finding[] = [];
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
  }
  return findings;
}
