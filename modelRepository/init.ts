/**
 * `npm run model -- init <dir> --backend vllm|python|tensorrtllm`: a model repository in the
 * layout every serving path reads (`<model>/config.pbtxt`, `<model>/1/...`) that passes `check`.
 */
import * as fs from "fs";
import * as path from "path";

export const InitBackend = { Vllm: "vllm", Python: "python", TensorRtLlm: "tensorrtllm" } as const;
export type InitBackend = (typeof InitBackend)[keyof typeof InitBackend];

export interface InitOptions {
  backend: InitBackend;
  /** The model's directory and config name. @default "llm" */
  modelName?: string;
  /** vllm: the Hugging Face model id or path vLLM loads. */
  huggingFaceModel?: string;
  /** vllm: the longest sequence (prompt and answer) vLLM admits, `max_model_len`. @default the model's own */
  maxModelLen?: number;
  /** tensorrtllm: a directory of built engines (`rank<N>.engine`, `config.json`) copied into version 1. */
  engineDir?: string;
}

/** The files of a scaffold: relative path to content (engines are copied separately). */
export function scaffoldFiles(o: InitOptions): Record<string, string> {
  const name = o.modelName ?? "llm";
  const header = `# Triton model configuration (protobuf text format), checked by \`npm run model -- check\`.\nname: "${name}"\n`;
  // Text in, text out, streamed: the vLLM backend's own interface (its samples' config.pbtxt).
  const textIo = `input [
  { name: "text_input", data_type: TYPE_STRING, dims: [ 1 ] },
  { name: "stream", data_type: TYPE_BOOL, dims: [ 1 ], optional: true },
  { name: "sampling_parameters", data_type: TYPE_STRING, dims: [ 1 ], optional: true }
]
output [
  { name: "text_output", data_type: TYPE_STRING, dims: [ -1 ] }
]
`;
  switch (o.backend) {
    case "vllm":
      return {
        [`${name}/config.pbtxt`]: `${header}backend: "vllm"
# vLLM batches requests itself.
max_batch_size: 0
model_transaction_policy { decoupled: true }
${textIo}# vLLM places the model on the GPUs (tensor_parallel_size in 1/model.json).
instance_group [ { count: 1, kind: KIND_MODEL } ]
`,
        // vLLM engine arguments, passed to its AsyncEngineArgs as they are: only long-standing
        // ones (vllm_backend's own sample, samples/model_repository/vllm_model/1/model.json@d50bda1,
        // dropped disable_log_requests, which vLLM deprecated). The default model is ungated (Meta's
        // own meta-llama repositories need an accepted licence and a token).
        [`${name}/1/model.json`]: `${JSON.stringify(
          {
            model: o.huggingFaceModel ?? "NousResearch/Meta-Llama-3-8B-Instruct",
            gpu_memory_utilization: 0.9,
            tensor_parallel_size: 1,
            ...(o.maxModelLen !== undefined ? { max_model_len: o.maxModelLen } : {}),
          },
          null,
          2,
        )}\n`,
      };
    case "python":
      return {
        [`${name}/config.pbtxt`]: `${header}backend: "python"
max_batch_size: 0
${textIo}instance_group [ { count: 1, kind: KIND_MODEL } ]
`,
        [`${name}/1/model.py`]: PYTHON_MODEL,
      };
    case "tensorrtllm":
      // The shape of tensorrtllm_backend's `all_models/inflight_batcher_llm/tensorrt_llm/config.pbtxt`
      // (KIND_CPU instances: the backend places the engine on the GPUs itself), required tensors only.
      return {
        [`${name}/config.pbtxt`]: `${header}backend: "tensorrtllm"
max_batch_size: 8
model_transaction_policy { decoupled: true }
input [
  { name: "input_ids", data_type: TYPE_INT32, dims: [ -1 ] },
  { name: "input_lengths", data_type: TYPE_INT32, dims: [ 1 ], reshape: { shape: [ ] } },
  { name: "request_output_len", data_type: TYPE_INT32, dims: [ 1 ], reshape: { shape: [ ] } }
]
output [
  { name: "output_ids", data_type: TYPE_INT32, dims: [ -1, -1 ] }
]
instance_group [ { count: 1, kind: KIND_CPU } ]
parameters { key: "gpt_model_type" value: { string_value: "inflight_fused_batching" } }
# Where the engines are inside the container: /models on EKS and the EC2 fleet,
# /opt/ml/model on SageMaker.
parameters { key: "gpt_model_path" value: { string_value: "/models/${name}/1" } }
`,
      };
  }
}

const PYTHON_MODEL = `"""A Triton Python backend model: replace execute() with your model's logic."""
import json

import numpy as np
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def initialize(self, args):
        self.config = json.loads(args["model_config"])

    def execute(self, requests):
        responses = []
        for request in requests:
            text = pb_utils.get_input_tensor_by_name(request, "text_input").as_numpy()
            out = pb_utils.Tensor("text_output", np.array(text.flatten(), dtype=np.object_))
            responses.append(pb_utils.InferenceResponse(output_tensors=[out]))
        return responses
`;

/**
 * Writes the scaffold into `dir` (created when missing). Refuses to overwrite a model directory
 * that exists, and a tensorrtllm scaffold without engines to copy.
 */
export function initRepository(dir: string, o: InitOptions): string[] {
  const name = o.modelName ?? "llm";
  if (!/^[A-Za-z0-9_.-]+$/.test(name))
    throw new InitError(`--model ${JSON.stringify(name)}: use letters, digits, _ . -`);
  // The repository directory may be new, or a directory; a file there cannot hold models.
  if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory())
    throw new InitError(`${dir} is a file, not a directory: give a new or existing directory`);
  if (fs.existsSync(path.join(dir, name)))
    throw new InitError(`${path.join(dir, name)} exists: choose another --model or directory`);
  const engines = o.backend === "tensorrtllm" ? engineFiles(o.engineDir) : ([] as string[]);
  const files = scaffoldFiles(o);
  const written: string[] = [];
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), content);
    written.push(rel);
  }
  for (const f of engines) {
    const rel = `${name}/1/${path.basename(f)}`;
    fs.mkdirSync(path.join(dir, name, "1"), { recursive: true });
    fs.copyFileSync(f, path.join(dir, rel));
    written.push(rel);
  }
  return written;
}

function engineFiles(engineDir: string | undefined): string[] {
  if (!engineDir)
    throw new InitError(
      "--backend tensorrtllm needs --engine-dir <dir>: the engines built by trtllm-build (rank0.engine, config.json)",
    );
  if (!fs.existsSync(engineDir) || !fs.statSync(engineDir).isDirectory())
    throw new InitError(`--engine-dir ${engineDir} is not a directory`);
  const files = fs
    .readdirSync(engineDir)
    .filter((f) => f.endsWith(".engine") || f === "config.json");
  if (!files.some((f) => f.endsWith(".engine")))
    throw new InitError(
      `--engine-dir ${engineDir} has no .engine file (trtllm-build writes rank0.engine)`,
    );
  return files.map((f) => path.join(engineDir, f));
}

/** A usage mistake in init's options: the CLI prints it and exits 2. */
export class InitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InitError";
  }
}
