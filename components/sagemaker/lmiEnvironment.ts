/**
 * The settings of AWS's Large Model Inference container (`image: lmi`, DJL Serving with vLLM) for
 * one endpoint, from what the stack says the model needs: the container is configured to the
 * sequence length and concurrency the fit check sized the instance for.
 *
 * Each variable is documented by DJL Serving (deepjavalibrary/djl-serving, serving/docs/lmi):
 * - `HF_MODEL_ID`: "a HuggingFace Hub model-id, a S3 uri, or a local path. If you are using
 *   [an uncompressed ModelDataSource] set this value to `/opt/ml/model`" (user_guides/
 *   starting-guide.md); SageMaker writes the endpoint's S3 prefix there.
 * - `OPTION_ROLLING_BATCH=vllm`: the vLLM engine, in every LMI release (lmi-dist was removed in
 *   v15, announcements/breaking_changes.md).
 * - `TENSOR_PARALLEL_DEGREE=max`: the model is sharded over every GPU of the instance (the
 *   starting guide's recommended value).
 * - `OPTION_MAX_MODEL_LEN`, `OPTION_MAX_ROLLING_BATCH_SIZE`, `OPTION_DTYPE`: vLLM's max_model_len,
 *   the batch size (alias MAX_BATCH_SIZE, default 256) and the weights' dtype (fp16 by default;
 *   bf16 on G5, P4, P5 and newer), deployment_guide/configurations.md. `option.x` is read from
 *   the environment as `OPTION_X` (same file, "environment variables").
 */
import { ModelRequirements } from "../../catalog/modelFit";

/** Where SageMaker puts the endpoint's model data in the container. */
export const SAGEMAKER_MODEL_DIR = "/opt/ml/model";

/** The dtypes LMI takes as `OPTION_DTYPE` (quantized weights carry their own format). */
const LMI_DTYPES: ReadonlySet<string> = new Set(["fp32", "fp16", "bf16"]);

/** The LMI container's environment for a model described by `model` (or only the basics). */
export function lmiEnvironment(model: ModelRequirements | undefined): Record<string, string> {
  return {
    HF_MODEL_ID: SAGEMAKER_MODEL_DIR,
    OPTION_ROLLING_BATCH: "vllm",
    TENSOR_PARALLEL_DEGREE: "max",
    ...(model
      ? {
          OPTION_MAX_MODEL_LEN: String(model.contextLength),
          OPTION_MAX_ROLLING_BATCH_SIZE: String(model.concurrentSequences),
          ...(LMI_DTYPES.has(model.dtype) ? { OPTION_DTYPE: model.dtype } : {}),
        }
      : {}),
  };
}
