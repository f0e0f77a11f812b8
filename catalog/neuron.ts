/**
 * Serving an LLM on Inferentia2: how many NeuronCores the model is sharded over, whether it fits
 * their memory, and the static shapes the Neuron model is compiled for.
 *
 * Sources (aws-neuron/aws-neuron-sdk@81ce03a, read 2026-12-07):
 * - "Each Inferentia2 device consists of: ... 2x NeuronCore-v2 ... 32GiB of HBM of device memory"
 *   (general/arch/neuron-hardware/inferentia2.rst); inf2.xlarge and 8xlarge have 1 device,
 *   24xlarge 6, 48xlarge 12 (inf2-arch.rst).
 * - NxD Inference feature guide (libraries/nxd-inference/developer_guides/feature-guide.rst):
 *   "The number of attention heads needs to be divisible by the tensor-parallelism degree";
 *   "The total data size of model weights and key-value caches needs to be smaller than the
 *   tensor-parallelism degree multiplied by the amount of memory per Neuron core ... On Inf2/Trn1,
 *   each Neuron core has 16GB of memory"; "The Neuron runtime supports the following
 *   tensor-parallelism degrees: ... Inf2: 1, 2, 4, 8, and 24".
 * - A Neuron model is compiled for one batch size, sequence length and tensor parallel degree:
 *   "the neuron model parameters are static" (huggingface/optimum-neuron v0.4.5
 *   docs/source/guides/export_model.mdx, "Exporting LLMs to Neuron"), and `optimum-cli neuron
 *   serve` refuses a served shape that differs from the exported one ("The specified batch_size
 *   ... is inconsistent with the one used to export the neuron model", optimum/commands/neuron/
 *   serve.py), so the serving environment and the compile step both take `neuronShape`.
 * - Compile time: "a small-ish model of 15GB might take around 15min to compile" (NxD Inference
 *   vLLM user guide, libraries/nxd-inference/developer_guides/vllm-user-guide-v1.rst); "The export
 *   of LLM models can take much longer than standard models (sometimes more than one hour)"
 *   (optimum-neuron export guide). The estimate here is that rate, 60 s per GB of weights.
 */
import { InstanceSpec, findInstance, getInstance } from "./instances";
import { BYTES_PER_PARAMETER, ModelRequirements, estimateMemory } from "./modelFit";

/** NeuronCores per Inferentia2 device. */
export const NEURON_CORES_PER_DEVICE = 2;
/** Device memory per NeuronCore on Inferentia2, GiB (32 GiB per device, two cores). */
export const NEURON_CORE_MEMORY_GIB = 16;
/** The tensor parallel degrees the Neuron runtime runs on Inf2. */
export const INF2_TENSOR_PARALLEL_DEGREES: readonly number[] = [1, 2, 4, 8, 24];
/** The dtypes the Neuron model is compiled in (the checkpoint's 16-bit weights). */
export const NEURON_DTYPES: readonly string[] = ["bf16", "fp16"];
/** Compile seconds per GB of weights (15 GB in about 15 minutes). */
export const NEURON_COMPILE_SECONDS_PER_GB = 60;

/** The static shapes a Neuron model is compiled for and served with. */
export interface NeuronShape {
  /** NeuronCores the model is sharded over (`--tensor_parallel_size`). */
  tensorParallelSize: number;
  /** Sequences served at once (`--batch_size`): the model's `concurrentSequences`. */
  batchSize: number;
  /** Tokens per sequence, prompt and answer (`--sequence_length`): the model's `contextLength`. */
  sequenceLength: number;
}

/** NeuronCores of an Inferentia2 or Trainium instance type (0 for any other). */
export function neuronCores(spec: InstanceSpec | undefined): number {
  return spec?.accelerator?.kind === "neuron"
    ? spec.accelerator.count * NEURON_CORES_PER_DEVICE
    : 0;
}

export type NeuronLayout =
  | { ok: true; shape: NeuronShape; requiredGib: number; shardGib: number; cores: number }
  | { ok: false; reason: string };

/**
 * The Neuron layout of a model on an Inferentia2 instance: the largest tensor parallel degree the
 * runtime runs that the instance's cores hold and the model's attention heads divide (what
 * optimum-neuron defaults to, "If not specified, all available cores will be used"), and whether
 * weights and KV cache fit that many cores' memory. `instanceType` may carry SageMaker's `ml.`.
 */
export function neuronLayout(req: ModelRequirements, instanceType: string): NeuronLayout {
  const ec2 = instanceType.replace(/^ml\./, "");
  const spec = findInstance(ec2);
  if (!spec || spec.family !== "inf2")
    return {
      ok: false,
      reason: `${instanceType} is not an Inferentia2 instance type (inf2.xlarge, inf2.8xlarge, inf2.24xlarge, inf2.48xlarge)`,
    };
  if (!NEURON_DTYPES.includes(req.dtype))
    return {
      ok: false,
      reason: `a Neuron model is compiled from ${NEURON_DTYPES.join(" or ")} weights, got dtype ${req.dtype}`,
    };
  if (req.attentionHeads === undefined)
    return {
      ok: false,
      reason:
        "attentionHeads is needed: the tensor parallel degree must divide the model's attention heads",
    };
  const fit = fitOn(req, spec);
  const where = `${instanceType} has ${fit.hostGib} GiB`;
  if (!fit.hostFits)
    return {
      ok: false,
      reason: `the weights (${fit.weightsGib.toFixed(1)} GiB) pass through host memory when they load, and ${where}${largerInf2Advice(req)}`,
    };
  if (!fit.deviceFits)
    return {
      ok: false,
      reason: `the model needs ${fit.requiredGib.toFixed(1)} GiB of device memory, but ${fit.tp} NeuronCores (the largest degree ${instanceType} runs for ${req.attentionHeads} heads) hold ${fit.shardGib} GiB${largerInf2Advice(req)}`,
    };
  return {
    ok: true,
    shape: {
      tensorParallelSize: fit.tp,
      batchSize: req.concurrentSequences,
      sequenceLength: req.contextLength,
    },
    requiredGib: fit.requiredGib,
    shardGib: fit.shardGib,
    cores: neuronCores(spec),
  };
}

/**
 * The fit of a model with attention heads on one Inferentia2 type: the tensor parallel degree
 * (never none: 1 is a degree every type holds and every head count divides), and whether the
 * weights fit host memory and weights and KV cache the degree's cores.
 */
function fitOn(req: ModelRequirements, spec: InstanceSpec) {
  const cores = neuronCores(spec);
  const heads = req.attentionHeads ?? 1;
  const tp = INF2_TENSOR_PARALLEL_DEGREES.filter((d) => d <= cores && heads % d === 0).pop() ?? 1;
  const { weightsGib, requiredGib } = estimateMemory(req);
  // The checkpoint passes through host memory on its way to the devices (the loader reads the
  // state dict, optimum-neuron v0.4.5 optimum/neuron/models/inference/backend/pretrained_model.py
  // checkpoint_loader_fn): the weights must fit the host's memory with the same headroom.
  const hostGib = spec.memoryMib / 1024;
  const shardGib = tp * NEURON_CORE_MEMORY_GIB;
  return {
    tp,
    weightsGib,
    requiredGib,
    hostGib,
    shardGib,
    hostFits: weightsGib <= hostGib * (1 - (req.headroomFraction ?? 0.1)),
    deviceFits: requiredGib <= shardGib,
  };
}

/**
 * `; inf2.24xlarge (8 cores) fits` when a bigger Inferentia2 type holds the model. A type with
 * more cores runs the same or a larger degree and has as much host memory, so the smallest type
 * (inf2.xlarge) is never the answer to a model another type refused.
 */
function largerInf2Advice(req: ModelRequirements): string {
  for (const t of ["inf2.8xlarge", "inf2.24xlarge", "inf2.48xlarge"]) {
    const fit = fitOn(req, getInstance(t));
    if (fit.hostFits && fit.deviceFits) return `; ${t} (${fit.tp} cores) fits`;
  }
  return "; no Inferentia2 type does: use a shorter contextLength, fewer concurrentSequences or GPUs";
}

/** About how long compiling the model for Neuron takes, seconds (60 s per GB of weights). */
export function neuronCompileSeconds(req: ModelRequirements): number {
  const gb = (req.parametersBillions * 1e9 * BYTES_PER_PARAMETER[req.dtype]) / 1e9;
  return Math.ceil(gb * NEURON_COMPILE_SECONDS_PER_GB);
}
