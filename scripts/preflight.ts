/**
 * `npm run preflight -- <stack> [--json] [--outputs <file>]`: read-only AWS calls that say, before
 * a deploy, whether the account can take the stack (automation/preflight.ts).
 *
 * The AWS SDK finds the account as it always does (credentials from the environment, profile or
 * SSO; `AWS_ENDPOINT_URL` for another endpoint). The region is `AWS_REGION` (or
 * `AWS_DEFAULT_REGION`), else the stack's `aws:region`.
 *
 * Exit status: 0 clean, 1 a blocker (the account cannot take the stack), 2 invalid config or usage.
 */
// First, before any module that loads the Pulumi SDK (offline/deferredModules.ts says why).
import { deployBrings } from "../automation/deployBrings";
import "../offline/deferClosureModules";
import * as fs from "fs";
import { Command } from "commander";
import { CommandOutput, processOutput, runMain, parseArgs } from "./cli";
import { callerPath } from "./plan";
import { isUserError, listStacks, planStack, readStackFile } from "../offline/plan";
import { parseStackConfig } from "../programs/config";
import {
  PreflightClients,
  PreflightStackOutputs,
  formatPreflight,
  preflightClients,
  runPreflight,
} from "../automation/preflight";

const EXIT_OK = 0;
const EXIT_BLOCKED = 1;
const EXIT_USAGE = 2;

/** The region to check: the SDK's region variables, else the stack's own. */
export function preflightRegion(stackRegion: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.AWS_REGION || env.AWS_DEFAULT_REGION || stackRegion;
}

/**
 * Stack outputs as `pulumi stack output --json` prints them: `modelBucketName` and
 * `registryUrls` are read, the rest ignored. A usage problem is returned as a message.
 */
export function readOutputs(file: string): PreflightStackOutputs | string {
  let doc: unknown;
  try {
    doc = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    return `--outputs ${file}: ${e instanceof Error ? e.message : String(e)}`;
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc))
    return `--outputs ${file}: must be a JSON object of stack outputs (pulumi stack output --json)`;
  const o = doc as Record<string, unknown>;
  const urls = o.registryUrls;
  return {
    modelBucketName: typeof o.modelBucketName === "string" ? o.modelBucketName : undefined,
    registryUrls:
      urls !== null && typeof urls === "object" && !Array.isArray(urls)
        ? Object.fromEntries(
            Object.entries(urls).filter((e): e is [string, string] => typeof e[1] === "string"),
          )
        : undefined,
  };
}

export async function main(
  argv: string[],
  io: CommandOutput = processOutput,
  env: NodeJS.ProcessEnv = process.env,
  clientsFor: (region: string) => PreflightClients = (region) => preflightClients(region, env),
): Promise<number> {
  const cli = new Command("preflight")
    .description(
      "Read-only AWS checks before a deploy: identity, instance offerings, quotas at the plan's peak, images, models",
    )
    .argument("<stack>", `stack name (${listStacks().join(", ")})`)
    .option("--json", "print the result as one JSON object and nothing else on stdout")
    .option(
      "--outputs <file>",
      "outputs of the deployed stack (`pulumi stack output --json`): its bucket and repositories",
    );
  const status = parseArgs(cli, argv, io);
  if (status !== undefined) return status;
  const [stack] = cli.args;
  const { json, outputs: outputsFile } = cli.opts<{ json?: boolean; outputs?: string }>();
  const outputs = outputsFile === undefined ? undefined : readOutputs(callerPath(outputsFile, env));
  if (typeof outputs === "string") {
    io.err(`error: ${outputs}\n`);
    return EXIT_USAGE;
  }
  try {
    const config = parseStackConfig(readStackFile(stack), stack);
    const report = await planStack(stack);
    const region = preflightRegion(report.region, env);
    const clients = clientsFor(region);
    try {
      // What `npm run deploy -- <stack> --up` brings itself (its image step) is not missing.
      const result = await runPreflight(report, clients, {
        region,
        config,
        outputs,
        deployBrings: deployBrings(report, config),
      });
      io.out(json === true ? `${JSON.stringify(result)}\n` : `${formatPreflight(result)}\n`);
      return result.blocked ? EXIT_BLOCKED : EXIT_OK;
    } finally {
      for (const c of Object.values(clients)) c.destroy();
    }
  } catch (e) {
    if (isUserError(e)) {
      io.err(`error: ${e.message}\n`);
      return EXIT_USAGE;
    }
    throw e;
  }
}

if (require.main === module) runMain("preflight", (argv) => main(argv));
