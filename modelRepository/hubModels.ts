/**
 * vLLM models of a local Triton model repository that name a Hugging Face Hub model, and what the
 * push writes instead: the path where the target's container sees the weights the stack copied
 * into the model store (components/storage/modelWeights.ts).
 *
 * Triton's vLLM backend passes `model.json` to vLLM unchanged: it reads the file from the model's
 * version directory and calls `AsyncEngineArgs(**self.vllm_engine_config)`
 * (triton-inference-server/vllm_backend@8de0c14 src/model.py `_init_engine_args`). So `"model"` is
 * vLLM's `--model`, "Name or path of the Hugging Face model to use", and `"revision"` is vLLM's
 * `--revision`, "The specific model version to use. It can be a branch name, a tag name, or a
 * commit id" (https://docs.vllm.ai/en/v0.8.5/serving/engine_args.html). A relative path would be
 * relative to the server's working directory, not to the model, so the push writes an absolute
 * path. `"tokenizer"` defaults to the model ("If unspecified, model name or path is used", same
 * page), so a tokenizer naming the same hub id is rewritten with it.
 */
import * as fs from "fs";
import * as path from "path";
import { modelConfigType } from "./modelConfigSchema";
import { parseTextFormat } from "./textFormat";

/** The directory under a model's version directory that holds the copied weights. */
export const WEIGHTS_DIRECTORY = "weights";

/**
 * The object the copy writes last under each weights prefix, holding the hub id and revision it
 * copied: present means complete. vLLM reads `config.json` and the `*.safetensors` files of the
 * directory, not this file.
 */
export const WEIGHTS_MARKER = ".llm-infra-weights.json";

/** A Hugging Face Hub model id: `owner/name` (letters, digits, `-`, `_`, `.`). */
const HUB_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*\/[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** True for a hub id (`NousResearch/Meta-Llama-3-8B-Instruct`); false for a path. */
export function isHubId(model: unknown): model is string {
  return typeof model === "string" && HUB_ID.test(model) && !model.includes("..");
}

/** A revision the copy can pass to `snapshot_download`: a branch, tag or commit. */
export function revisionProblem(revision: unknown): string | undefined {
  if (revision === undefined) return undefined;
  if (typeof revision !== "string" || !/^[A-Za-z0-9][A-Za-z0-9_./-]{0,127}$/.test(revision))
    return `must be a branch, tag or commit of the hub repository, got ${JSON.stringify(revision)}`;
  return undefined;
}

/** One vLLM model of a repository whose `model.json` names a hub model. */
export interface HubModel {
  /** The model's directory name (`llama3-8b`). */
  model: string;
  /** Its version directory (`1`). */
  version: string;
  /** `model.json` relative to the repository (`llama3-8b/1/model.json`). */
  file: string;
  /** The hub id (`NousResearch/Meta-Llama-3-8B-Instruct`). */
  repoId: string;
  /** The pinned revision (`"revision"` in model.json); the hub's default branch when absent. */
  revision?: string;
}

/** The revision the copy downloads when model.json pins none: the hub's default branch. */
export const DEFAULT_REVISION = "main";

/** The backend a model's config.pbtxt names, or undefined when it cannot be read. */
function backendOf(modelDir: string): string | undefined {
  const file = path.join(modelDir, "config.pbtxt");
  if (!fs.existsSync(file)) return undefined;
  const parsed = parseTextFormat(fs.readFileSync(file, "utf8"), modelConfigType());
  const backend = parsed.message.backend;
  return typeof backend === "string" ? backend : undefined;
}

/**
 * The vLLM models of the repository `dir` whose `<model>/<version>/model.json` names a hub id,
 * sorted by file. Anything unreadable is left to `npm run model -- check`, which reports it.
 */
export function hubModelsOf(dir: string): HubModel[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) return [];
  const out: HubModel[] = [];
  const models = fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith("."))
    .map((e) => e.name)
    .sort();
  for (const model of models) {
    const modelDir = path.join(dir, model);
    if (backendOf(modelDir) !== "vllm") continue;
    const versions = fs
      .readdirSync(modelDir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && /^[0-9]+$/.test(e.name))
      .map((e) => e.name)
      .sort((a, b) => Number(a) - Number(b));
    for (const version of versions) {
      const file = path.join(modelDir, version, "model.json");
      if (!fs.existsSync(file)) continue;
      let json: Record<string, unknown>;
      try {
        json = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
      } catch {
        continue;
      }
      if (json === null || typeof json !== "object" || !isHubId(json.model)) continue;
      out.push({
        model,
        version,
        file: `${model}/${version}/model.json`,
        repoId: json.model,
        ...(typeof json.revision === "string" ? { revision: json.revision } : {}),
      });
    }
  }
  return out;
}

/** The key prefix of a hub model's weights under a target's prefix, without a trailing slash. */
export function weightsKeyPrefix(targetPrefix: string, m: Pick<HubModel, "model" | "version">) {
  return `${targetPrefix.replace(/\/+$/, "")}/${m.model}/${m.version}/${WEIGHTS_DIRECTORY}`;
}

/** Where a container that sees the target's prefix at `containerRoot` finds a model's weights. */
export function containerWeightsPath(
  containerRoot: string,
  m: Pick<HubModel, "model" | "version">,
): string {
  return `${containerRoot.replace(/\/+$/, "")}/${m.model}/${m.version}/${WEIGHTS_DIRECTORY}`;
}

/**
 * `model.json` as pushed: `"model"` (and a `"tokenizer"` naming the same hub id) rewritten to the
 * local weights path, and `"revision"` dropped (the copied weights are that revision; vLLM reads
 * a local directory as it is). Other engine arguments are kept, in order. Text that is not a
 * vLLM model.json naming a hub id comes back unchanged.
 */
export function rewriteModelJson(text: string, weightsPath: string): string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return text;
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) return text;
  const args = json as Record<string, unknown>;
  if (!isHubId(args.model)) return text;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) {
    if (k === "revision" || (k === "tokenizer_revision" && args.tokenizer === args.model)) continue;
    if (k === "model") out[k] = weightsPath;
    else if (k === "tokenizer" && v === args.model) out[k] = weightsPath;
    else out[k] = v;
  }
  return `${JSON.stringify(out, null, 2)}\n`;
}
