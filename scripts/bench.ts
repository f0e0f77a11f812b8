/**
 * `npm run bench`: how long the offline plan of the prod stack takes, against the floor of a
 * process that only loads the same Pulumi SDK packages. Prints both medians and their ratio.
 *
 * Options: --runs N (default 5), --stack NAME (default prod).
 */
import { spawnSync } from "child_process";
import * as path from "path";
import { Command } from "commander";

const SDK_PACKAGES = [
  "@pulumi/pulumi",
  "@pulumi/aws",
  "@pulumi/awsx",
  "@pulumi/eks",
  "@pulumi/kubernetes",
  "@pulumi/policy",
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Wall-clock milliseconds of one run of `node args`, failing loudly if the run fails. */
function time(args: string[], cwd: string): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0)
    throw new Error(`node ${args.join(" ")} exited ${result.status}: ${result.stderr.toString()}`);
  return ms;
}

function main(): void {
  const cli = new Command("bench")
    .option("--runs <n>", "repetitions of each measurement", "5")
    .option("--stack <name>", "the stack to plan", "prod")
    .parse(process.argv);
  const { runs, stack } = cli.opts<{ runs: string; stack: string }>();
  const n = Number(runs);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`--runs must be a positive integer, got ${runs}`);
  const root = path.resolve(__dirname, "..", "..");
  const floorScript = SDK_PACKAGES.map((p) => `require(${JSON.stringify(p)});`).join(" ");
  const plan = path.join(root, "dist", "scripts", "plan.js");

  // One untimed run each warms the file system cache.
  time(["-e", floorScript], root);
  time([plan, stack, "--json"], root);
  const floor: number[] = [];
  const planned: number[] = [];
  for (let i = 0; i < n; i++) {
    floor.push(time(["-e", floorScript], root));
    planned.push(time([plan, stack, "--json"], root));
  }
  const floorMs = median(floor);
  const planMs = median(planned);
  console.log(
    `floor (load ${SDK_PACKAGES.join(", ")}): median ${floorMs.toFixed(0)} ms over ${n} runs`,
  );
  console.log(`plan ${stack} --json: median ${planMs.toFixed(0)} ms over ${n} runs`);
  console.log(`plan/floor ratio: ${(planMs / floorMs).toFixed(2)}`);
}

main();
