/**
 * A target's local model repository as the stack file names it (`modelRepository: models/chat`,
 * relative to the project root), checked when the configuration is parsed: it must be a directory
 * and pass the checks `npm run model -- check` runs for that target.
 */
import * as fs from "fs";
import * as path from "path";
import { CheckTarget, checkRepository, formatProblem } from "./check";

/** Where a `modelRepository` value points: relative paths resolve against the project root. */
export function resolveModelRepository(root: string, dir: string): string {
  return path.resolve(root, dir);
}

/**
 * The problems of the repository `dir` for a target, one line each without the key (the caller
 * prefixes its own): `does not exist ...`, or `models/chat/llm/config.pbtxt:3:17: ...`. The model's
 * fit on the instance is not repeated here: the target's own `model` check reports it.
 */
export function localRepositoryProblems(root: string, dir: string, target: CheckTarget): string[] {
  const absolute = resolveModelRepository(root, dir);
  if (!fs.existsSync(absolute))
    return [
      `${dir} does not exist (looked in ${absolute}): give a local Triton model repository, the directory holding <model>/config.pbtxt, relative to the project root (npm run model -- init ${dir} --backend vllm makes one)`,
    ];
  if (!fs.statSync(absolute).isDirectory())
    return [
      `${dir} is not a directory: give a local Triton model repository, the directory holding <model>/config.pbtxt`,
    ];
  const shown = dir.replace(/\/+$/, "");
  return checkRepository(absolute, target).problems.map(
    (p) => `${formatProblem({ ...p, file: p.file === "." ? shown : `${shown}/${p.file}` })}`,
  );
}
