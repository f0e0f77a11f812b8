/**
 * Reading the weights copy's and the Neuron export's buildspecs (components/storage/
 * modelWeights.ts) back from a plan: each build command is `bash -euo pipefail -c '<script>'`,
 * the script's quotes written as '\'', and each script names its destinations in
 * `for d in '<prefix>' ...; do`. The IAM scenarios read what the role must write; the serving
 * check reads what the export compiles where.
 */
import * as YAML from "yaml";
import { WEIGHTS_MARKER } from "../modelRepository/hubModels";

export interface WeightsScript {
  /** The script, unquoted. */
  script: string;
  /** The bucket it writes to (its first `s3://<bucket>/`). */
  bucket?: string;
  /** The key prefixes it writes to. */
  destinations: string[];
}

/** The scripts of a buildspec that write weights (they check the marker they write). */
export function weightsScripts(buildspec: unknown): WeightsScript[] {
  if (typeof buildspec !== "string") return [];
  let parsed: { phases?: { build?: { commands?: unknown[] } } };
  try {
    parsed = YAML.parse(buildspec) as typeof parsed;
  } catch {
    return [];
  }
  return (parsed?.phases?.build?.commands ?? [])
    .filter((c): c is string => typeof c === "string")
    .map((c) => c.replace(/'\\''/g, "'"))
    .filter((script) => script.includes(WEIGHTS_MARKER))
    .map((script) => {
      const list = /for d in ((?:'[^']+' ?)+); do/.exec(script)?.[1] ?? "";
      return {
        script,
        bucket: /s3:\/\/([a-z0-9.-]+)\//.exec(script)?.[1],
        destinations: [...list.matchAll(/'([^']+)'/g)].map((m) => m[1]),
      };
    });
}
