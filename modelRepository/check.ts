/**
 * `npm run model -- check <dir>`: a local Triton model repository checked the way the server and
 * the target will read it, before anything is uploaded.
 *
 * Layout (Triton's model repository documentation,
 * triton-inference-server/server `docs/user_guide/model_repository.md`): one directory per model
 * holding `config.pbtxt` and numeric version directories; the config's `name`, when set, equals the
 * directory's name. The backend files each backend loads from a version directory: `model.py`
 * (python_backend README, "Usage"), `model.json` with the Hugging Face model under `"model"`
 * (vllm_backend README, "Using the vLLM Backend"), TensorRT-LLM engines (`rank<N>.engine`, or
 * the `gpt_model_path` parameter; tensorrtllm_backend `all_models/inflight_batcher_llm`).
 */
import * as fs from "fs";
import * as path from "path";
import { TRITON_FLAVOURS, TritonFlavour } from "../catalog/images";
import { findInstance } from "../catalog/instances";
import { ModelRequirements, fitsInstance, shorterContextAdvice } from "../catalog/modelFit";
import { modelConfigType } from "./modelConfigSchema";
import { TextMessage, parseTextFormat } from "./textFormat";
import { revisionProblem } from "./hubModels";

/** What a repository must suit: the image flavour, and the instance it runs on. */
export interface CheckTarget {
  /** @default "base" */
  flavour?: TritonFlavour;
  /** The instance type (EC2 or `ml.`): its accelerators and their memory. */
  instanceType?: string;
  /** What the served model needs (the stack's `model` of the target), checked against memory. */
  model?: ModelRequirements;
  /**
   * The model the target loads by name: a SageMaker endpoint's `tritonModelName`, which it passes
   * as SAGEMAKER_TRITON_DEFAULT_MODEL_NAME. Triton's SageMaker start script exits when that
   * model's directory is missing ("ERROR: Directory with provided SAGEMAKER_TRITON_DEFAULT_MODEL_NAME
   * ... does not exist", then `exit 1`; triton-inference-server/server@e1db8a6
   * `docker/sagemaker/serve`), and loads only that model (`--model-control-mode=explicit
   * --load-model=<name>`). Triton on EKS and the EC2 fleet name no model: they start with
   * `--model-repository` and load every model in it (charts/triton `modelControl.mode: none`, the
   * fleet's user data).
   */
  defaultModel?: string;
  /** How the target is named in a message. @default "the target" */
  label?: string;
}

export interface RepositoryProblem {
  /** The file or directory, relative to the repository, with `:line:column` when known. */
  file: string;
  /** The config field, e.g. `instance_group[0].gpus`. */
  field?: string;
  message: string;
}

/** One line per problem: `<file>: <field>: <message>`. */
export function formatProblem(p: RepositoryProblem): string {
  return `${p.file}: ${p.field ? `${p.field}: ` : ""}${p.message}`;
}

export interface CheckedModel {
  name: string;
  config: TextMessage;
  versions: string[];
}

/** The backends Triton knows (in any flavour) and the platforms with the backend each implies. */
const PLATFORM_BACKEND: Record<string, string> = {
  tensorrt_plan: "tensorrt",
  onnxruntime_onnx: "onnxruntime",
  tensorflow_graphdef: "tensorflow",
  tensorflow_savedmodel: "tensorflow",
  pytorch_libtorch: "pytorch",
  ensemble: "",
};
const KNOWN_BACKENDS = new Set(Object.values(TRITON_FLAVOURS).flatMap((f) => f.backends));

/** Checks a repository; returns its models and every problem found. */
export function checkRepository(
  dir: string,
  target: CheckTarget = {},
): { models: CheckedModel[]; problems: RepositoryProblem[] } {
  const problems: RepositoryProblem[] = [];
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    problems.push({ file: dir, message: "is not a directory (the model repository)" });
    return { models: [], problems };
  }
  const entries = fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => !e.name.startsWith("."));
  for (const e of entries.filter((e) => !e.isDirectory()))
    problems.push({
      file: e.name,
      message:
        "a file at the top of the repository: each model is a directory (<model>/config.pbtxt)",
    });
  const modelDirs = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  if (modelDirs.length === 0) {
    problems.push({
      file: ".",
      message: "no model directories: add <model>/config.pbtxt and <model>/1/",
    });
    return { models: [], problems };
  }
  if (target.defaultModel !== undefined && !modelDirs.includes(target.defaultModel))
    problems.push({
      file: `${target.defaultModel}/`,
      message: `missing: ${target.label ?? "the target"} loads the model ${JSON.stringify(target.defaultModel)} (tritonModelName, SAGEMAKER_TRITON_DEFAULT_MODEL_NAME), and Triton's SageMaker start script exits when its directory is missing; this repository has ${modelDirs.join(", ")}`,
    });
  const models: CheckedModel[] = [];
  for (const name of modelDirs) {
    const model = checkModel(dir, name, target, problems);
    if (model) models.push(model);
  }
  checkEnsembles(models, new Set(modelDirs), problems);
  return { models, problems };
}

function checkModel(
  root: string,
  name: string,
  target: CheckTarget,
  problems: RepositoryProblem[],
): CheckedModel | undefined {
  const dir = path.join(root, name);
  const configFile = `${name}/config.pbtxt`;
  if (!fs.existsSync(path.join(dir, "config.pbtxt"))) {
    problems.push({ file: configFile, message: "missing: every model needs its config.pbtxt" });
    return undefined;
  }
  const parsed = parseTextFormat(
    fs.readFileSync(path.join(dir, "config.pbtxt"), "utf8"),
    modelConfigType(),
  );
  for (const p of parsed.problems)
    problems.push({
      file: `${configFile}:${p.line}:${p.column}`,
      field: p.field || undefined,
      message: p.message,
    });
  if (parsed.problems.some((p) => p.message.startsWith("syntax error"))) return undefined;
  const config = parsed.message;
  const at = (message: string, field?: string) =>
    problems.push({ file: configFile, field, message });

  if (config.name !== undefined && config.name !== "" && config.name !== name)
    at(
      `${JSON.stringify(config.name)} differs from its directory ${JSON.stringify(name)}; Triton refuses the model`,
      "name",
    );

  const versions = fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && /^[0-9]+$/.test(e.name))
    .map((e) => e.name)
    .sort((a, b) => Number(a) - Number(b));
  const platform = (config.platform as string | undefined) ?? "";
  const backend = (config.backend as string | undefined) ?? "";
  const isEnsemble = platform === "ensemble";
  if (versions.length === 0) {
    problems.push({
      file: `${name}/`,
      message: "no version directory: add a numeric directory such as 1/",
    });
  }
  const specific = (config.version_policy as TextMessage | undefined)?.specific as
    TextMessage | undefined;
  for (const v of (specific?.versions as number[] | undefined) ?? [])
    if (!versions.includes(String(v)))
      at(`version ${v} has no directory ${name}/${v}/`, "version_policy.specific.versions");

  // Backend and platform.
  const flavour = target.flavour ?? "base";
  const onSageMaker = target.label?.startsWith("endpoint ") === true;
  const image = TRITON_FLAVOURS[flavour];
  if (!backend && !platform) {
    at("neither backend nor platform is set: Triton cannot tell what runs the model", "backend");
  } else if (platform && !(platform in PLATFORM_BACKEND)) {
    at(
      `unknown platform ${JSON.stringify(platform)}; known: ${Object.keys(PLATFORM_BACKEND).join(", ")}`,
      "platform",
    );
  } else if (platform && backend && PLATFORM_BACKEND[platform] !== backend) {
    at(
      `platform ${platform} runs on backend ${PLATFORM_BACKEND[platform] || "(the server core)"}, not ${JSON.stringify(backend)}`,
      "backend",
    );
  } else if (backend && !KNOWN_BACKENDS.has(backend)) {
    at(
      `unknown backend ${JSON.stringify(backend)}; the Triton images here have ${[...KNOWN_BACKENDS].join(", ")}`,
      "backend",
    );
  } else {
    const effective = backend || PLATFORM_BACKEND[platform];
    if (effective && !image.backends.includes(effective))
      at(
        `backend ${effective} is not in the ${flavour} Triton image (it has ${image.backends.join(", ")}); choose ${flavoursWith(effective)}${onSageMaker && LLM_BACKENDS.has(effective) ? SAGEMAKER_LLM_HINT : ""}`,
        "backend",
      );
  }

  // Template placeholders left in parameters (the backends' sample configs ship `${engine_dir}` and
  // the like, filled by their fill_template.py): the backend would read them literally.
  for (const [key, value] of Object.entries(
    (config.parameters as Record<string, TextMessage> | undefined) ?? {},
  )) {
    const text = value?.string_value;
    if (typeof text === "string" && /\$\{[^}]*\}/.test(text))
      at(`${JSON.stringify(text)} is an unfilled template placeholder`, `parameters["${key}"]`);
  }

  // Batching.
  const maxBatch = config.max_batch_size as number | undefined;
  if (maxBatch !== undefined && maxBatch < 0)
    at(`must be 0 (no batching) or more, got ${maxBatch}`, "max_batch_size");
  if (maxBatch !== undefined && maxBatch > 0 && backend === "vllm")
    at(
      `must be 0 with the vllm backend: vLLM batches requests itself, got ${maxBatch}`,
      "max_batch_size",
    );

  // Tensors: every declared input and output needs a name and a data type.
  for (const kind of ["input", "output"] as const)
    ((config[kind] as TextMessage[] | undefined) ?? []).forEach((t, i) => {
      if (!t.name) at("has no name", `${kind}[${i}].name`);
      if (t.data_type === undefined || t.data_type === "TYPE_INVALID")
        at("has no data_type", `${kind}[${i}].data_type`);
      if (t.dims === undefined && t.reshape === undefined) at("has no dims", `${kind}[${i}].dims`);
    });

  // Instance groups against the target's accelerators.
  checkInstanceGroups(config, target, at);

  // What each backend loads from a version directory.
  for (const v of versions) {
    const vdir = path.join(dir, v);
    const files = fs.readdirSync(vdir);
    const rel = `${name}/${v}/`;
    if (isEnsemble) continue;
    if (files.filter((f) => !f.startsWith(".")).length === 0) {
      problems.push({
        file: rel,
        message: "is empty: a version directory holds the model's files",
      });
      continue;
    }
    if (backend === "python" && !files.includes("model.py"))
      problems.push({
        file: `${rel}model.py`,
        message: "missing: the python backend loads model.py from each version",
      });
    if (backend === "vllm")
      checkVllmModelJson(path.join(vdir, "model.json"), `${rel}model.json`, target, problems);
    if (backend === "tensorrtllm") {
      const param = (config.parameters as Record<string, TextMessage> | undefined)?.gpt_model_path;
      if (!files.some((f) => f.endsWith(".engine")) && !param?.string_value)
        problems.push({
          file: rel,
          message:
            "has no TensorRT-LLM engine (rank0.engine) and config.pbtxt sets no gpt_model_path parameter",
        });
    }
  }
  if (isEnsemble) {
    const steps =
      ((config.ensemble_scheduling as TextMessage | undefined)?.step as
        TextMessage[] | undefined) ?? [];
    if (steps.length === 0)
      at("an ensemble needs ensemble_scheduling with at least one step", "ensemble_scheduling");
  }
  return { name, config, versions };
}

/** Backends whose models are decoupled: Triton's SageMaker front end cannot serve them. */
const LLM_BACKENDS: ReadonlySet<string> = new Set(["vllm", "tensorrtllm"]);

/**
 * On a SageMaker endpoint, a vLLM or TensorRT-LLM flavour is refused at plan (no SageMaker generate
 * handler on a driver SageMaker has, catalog/drivers.ts sageMakerGenerateProblem): say what serves.
 */
const SAGEMAKER_LLM_HINT =
  " on EKS or the fleet; on a SageMaker endpoint, serve the model with the LMI container instead (image: lmi and hubModel)";

function flavoursWith(backend: string): string {
  const names = Object.entries(TRITON_FLAVOURS)
    .filter(([, f]) => f.backends.includes(backend))
    .map(([n]) => n);
  return `imageFlavour ${names.join(" or ")}`;
}

function checkInstanceGroups(
  config: TextMessage,
  target: CheckTarget,
  at: (message: string, field?: string) => void,
): void {
  if (!target.instanceType) return;
  const spec = findInstance(target.instanceType);
  if (!spec) {
    at(`the target instance type ${target.instanceType} is not in the catalog`);
    return;
  }
  const gpus = spec.accelerator?.kind === "nvidia" ? spec.accelerator.count : 0;
  ((config.instance_group as TextMessage[] | undefined) ?? []).forEach((g, i) => {
    const kind = (g.kind as string | undefined) ?? "KIND_AUTO";
    if (kind === "KIND_GPU" && gpus === 0)
      at(
        `KIND_GPU needs NVIDIA GPUs, but ${target.instanceType} has ${spec.accelerator ? `${spec.accelerator.count} ${spec.accelerator.model} (Neuron)` : "none"}`,
        `instance_group[${i}].kind`,
      );
    for (const [j, gpu] of ((g.gpus as number[] | undefined) ?? []).entries())
      if (gpu < 0 || gpu >= gpus)
        at(
          `GPU ${gpu} does not exist on ${target.instanceType} (${gpus} GPU${gpus === 1 ? "" : "s"}: 0..${Math.max(0, gpus - 1)})`,
          `instance_group[${i}].gpus[${j}]`,
        );
    const count = g.count as number | undefined;
    if (count !== undefined && count < 1)
      at(`must be at least 1, got ${count}`, `instance_group[${i}].count`);
  });
}

function checkVllmModelJson(
  file: string,
  rel: string,
  target: CheckTarget,
  problems: RepositoryProblem[],
): void {
  if (!fs.existsSync(file)) {
    problems.push({
      file: rel,
      message: "missing: the vllm backend reads the engine arguments from model.json",
    });
    return;
  }
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    problems.push({ file: rel, message: `is not valid JSON: ${(e as Error).message}` });
    return;
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    problems.push({ file: rel, message: "must be a JSON object of vLLM engine arguments" });
    return;
  }
  const args = json as Record<string, unknown>;
  if (typeof args.model !== "string" || args.model === "")
    problems.push({
      file: rel,
      field: "model",
      message: "must name the model (a Hugging Face id or a path)",
    });
  const revision = revisionProblem(args.revision);
  if (revision) problems.push({ file: rel, field: "revision", message: revision });
  const tp = args.tensor_parallel_size;
  const spec = target.instanceType ? findInstance(target.instanceType) : undefined;
  const devices = spec?.accelerator?.count ?? 0;
  if (tp !== undefined && (typeof tp !== "number" || !Number.isInteger(tp) || tp < 1))
    problems.push({
      file: rel,
      field: "tensor_parallel_size",
      message: `must be a positive integer, got ${JSON.stringify(tp)}`,
    });
  else if (typeof tp === "number" && spec && tp > devices)
    problems.push({
      file: rel,
      field: "tensor_parallel_size",
      message: `${tp} is more than the ${devices} accelerator(s) of ${target.instanceType}`,
    });
  const util = args.gpu_memory_utilization;
  if (util !== undefined && (typeof util !== "number" || util <= 0 || util > 1))
    problems.push({
      file: rel,
      field: "gpu_memory_utilization",
      message: `must be a fraction in (0, 1], got ${JSON.stringify(util)}`,
    });
  // The model against the memory vLLM may use: gpu_memory_utilization of the accelerators.
  if (spec && target.model) {
    const headroom = typeof util === "number" && util > 0 && util <= 1 ? 1 - util : undefined;
    const model = {
      ...target.model,
      ...(headroom !== undefined ? { headroomFraction: headroom } : {}),
    };
    const fit = fitsInstance(model, spec);
    if (!fit.fits)
      problems.push({
        file: rel,
        field: "gpu_memory_utilization",
        message: `the model needs ${fit.requiredGib.toFixed(1)} GiB but vLLM may use ${(fit.availableGib * (1 - (headroom ?? 0.1))).toFixed(1)} GiB of ${target.instanceType}${shorterContextAdvice(model, spec)}`,
      });
  }
}

/** The model fit of the target as a whole (any backend): the stack's model vs the instance. */
export function checkTargetFit(target: CheckTarget): RepositoryProblem[] {
  if (!target.instanceType || !target.model) return [];
  const spec = findInstance(target.instanceType);
  if (!spec) return [];
  const fit = fitsInstance(target.model, spec);
  return fit.fits
    ? []
    : [
        {
          file: ".",
          message: `the model needs ${fit.requiredGib.toFixed(1)} GiB of accelerator memory but ${target.instanceType} has ${fit.availableGib.toFixed(1)} GiB${shorterContextAdvice(target.model, spec)}`,
        },
      ];
}

function checkEnsembles(
  models: CheckedModel[],
  names: Set<string>,
  problems: RepositoryProblem[],
): void {
  for (const m of models) {
    if (m.config.platform !== "ensemble") continue;
    const steps =
      ((m.config.ensemble_scheduling as TextMessage | undefined)?.step as
        TextMessage[] | undefined) ?? [];
    steps.forEach((s, i) => {
      const target = s.model_name as string | undefined;
      if (!target)
        problems.push({
          file: `${m.name}/config.pbtxt`,
          field: `ensemble_scheduling.step[${i}].model_name`,
          message: "is empty",
        });
      else if (!names.has(target))
        problems.push({
          file: `${m.name}/config.pbtxt`,
          field: `ensemble_scheduling.step[${i}].model_name`,
          message: `${JSON.stringify(target)} is not a model of this repository (${[...names].join(", ")})`,
        });
    });
  }
}
