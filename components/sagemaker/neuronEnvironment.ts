/**
 * The settings of the Hugging Face vLLM Neuron container (`image: vllm-neuron`) for one endpoint:
 * the Neuron model the deploy compiled into the endpoint's prefix (components/storage/
 * modelWeights.ts, the Neuron export), served with the same shapes it was compiled for.
 *
 * The container's entrypoint turns every `SM_ON_<NAME>` variable into `--<name>` of
 * `optimum-cli neuron serve` and serves on port 8080 (huggingface/optimum-neuron v0.4.5
 * docker/vllm/Dockerfile, "PREFIX=\"SM_ON_\""). Of serve's flags (optimum/commands/neuron/serve.py):
 * - `--model`: "Model ID on huggingface.co or path on disk"; SageMaker writes the endpoint's S3
 *   prefix under /opt/ml/model. A directory holding a Neuron model (its neuron_config.json) is
 *   loaded as it is, with no hub cache lookup and no compile: what a network-isolated endpoint
 *   needs.
 * - `--tensor_parallel_size`, `--batch_size`, `--sequence_length`: must equal the exported model's
 *   ("The specified batch_size ... is inconsistent with the one used to export the neuron model"
 *   is an error), so both come from catalog/neuron.ts `neuronLayout`.
 * The served dtype is the model's own (serve reads it from the model's config).
 */
import { NeuronShape } from "../../catalog/neuron";
import { SAGEMAKER_MODEL_DIR } from "./lmiEnvironment";

/** The vLLM Neuron container's environment for a model compiled with `shape`. */
export function vllmNeuronEnvironment(shape: NeuronShape): Record<string, string> {
  return {
    SM_ON_MODEL: SAGEMAKER_MODEL_DIR,
    SM_ON_TENSOR_PARALLEL_SIZE: String(shape.tensorParallelSize),
    SM_ON_BATCH_SIZE: String(shape.batchSize),
    SM_ON_SEQUENCE_LENGTH: String(shape.sequenceLength),
  };
}
