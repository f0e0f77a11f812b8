/**
 * `npm run bench`: how long the offline plan of the prod stack takes (`npm run plan -- prod`, and
 * the compiled script alone), against the floor of a process that only loads the same Pulumi SDK
 * packages (medians and their ratio), and how the plan grows with the number of SageMaker
 * endpoints (1, 10, 50 and 200 synthetic ones, in milliseconds per added endpoint). It states
 * whether each target is met: at most 20 ms per added endpoint, the cost per endpoint at 200 no
 * more than 1.2 times that at 10, and `npm run plan` at most 1.5 times the floor.
 *
 * Options: --runs N (default 7), --stack NAME (default prod).
 */
import { spawnSync } from "child_process";
import * as path from "path";
import { Command } from "commander";
import { planConfig, readStackFile } from "../offline/plan";

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

/** Wall-clock milliseconds of one run of `command args`, failing loudly if the run fails. */
function time(command: string[], cwd: string): number {
  const [file, ...args] = command;
  const start = process.hrtime.bigint();
  const result = spawnSync(file, args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0)
    throw new Error(`${command.join(" ")} exited ${result.status}: ${result.stderr.toString()}`);
  return ms;
}

/** How to run npm: the npm that runs this bench (`npm run bench`), else the one on PATH. */
function npmCommand(): string[] {
  const cli = process.env.npm_execpath;
  if (cli && /\.c?js$/.test(cli)) return [process.execPath, cli];
  return [process.platform === "win32" ? "npm.cmd" : "npm"];
}

/** A dev-shaped stack (network, storage) with `count` copies of dev's endpoint (real-time, one inference component: 15 resources with the component). */
export function syntheticEndpointsConfig(count: number): Record<string, unknown> {
  const dev = readStackFile("dev");
  const { endpoints } = dev["llm-infra:sagemaker"] as { endpoints: Record<string, unknown>[] };
  const keep = ["aws:region", "aws-native:region", "llm-infra:environment", "llm-infra:tags"];
  return {
    ...Object.fromEntries(keep.map((k) => [k, dev[k]])),
    "llm-infra:network": dev["llm-infra:network"],
    "llm-infra:storage": dev["llm-infra:storage"],
    "llm-infra:sagemaker": {
      endpoints: Array.from({ length: count }, (_, i) => ({ ...endpoints[0], name: `ep${i + 1}` })),
    },
  };
}

/** Milliseconds of one in-process plan of `count` synthetic endpoints. */
async function timeEndpoints(count: number): Promise<number> {
  const config = syntheticEndpointsConfig(count);
  const start = process.hrtime.bigint();
  const report = await planConfig(`bench-${count}`, config);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const endpoints = report.resources.filter((r) => r.type === "aws:sagemaker/endpoint:Endpoint");
  if (endpoints.length !== count)
    throw new Error(`expected ${count} endpoints in the plan, found ${endpoints.length}`);
  return ms;
}

/**
 * How many plans of `count` endpoints a round times: a small plan is over in tens of
 * milliseconds, where a timer tick or a collection of the previous plan's garbage weighs, so it is
 * timed several times (about 50 endpoints' worth per round).
 */
export function plansPerRound(count: number): number {
  return Math.ceil(50 / count);
}

/**
 * Median milliseconds of a plan of each endpoint count. The counts take turns, `plansPerRound`
 * plans of each per round, so a slow spell of the machine touches every count alike rather than
 * only the one measured then (the per-endpoint cost and its linearity compare counts).
 */
export async function timeEndpointCounts(
  counts: number[],
  runs: number,
  time: (count: number) => Promise<number> = timeEndpoints,
): Promise<Map<number, number>> {
  const samples = new Map<number, number[]>(counts.map((c) => [c, []]));
  for (let round = 0; round < runs; round++)
    for (const count of counts)
      for (let i = 0; i < plansPerRound(count); i++) samples.get(count)!.push(await time(count));
  return new Map(counts.map((c) => [c, median(samples.get(c)!)]));
}

async function main(): Promise<void> {
  const cli = new Command("bench")
    .option("--runs <n>", "repetitions of each measurement", "7")
    .option("--stack <name>", "the stack to plan", "prod")
    .parse(process.argv);
  const { runs, stack } = cli.opts<{ runs: string; stack: string }>();
  const n = Number(runs);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`--runs must be a positive integer, got ${runs}`);
  const root = path.resolve(__dirname, "..", "..");
  const floorScript = SDK_PACKAGES.map((p) => `require(${JSON.stringify(p)});`).join(" ");
  const plan = path.join(root, "dist", "scripts", "plan.js");

  const defer = `require(${JSON.stringify(path.join(root, "dist", "offline", "deferClosureModules.js"))});`;
  const commands: [string, string[]][] = [
    [`floor (load ${SDK_PACKAGES.join(", ")})`, [process.execPath, "-e", floorScript]],
    [`npm run plan -- ${stack}`, [...npmCommand(), "run", "plan", "--", stack]],
    [`node dist/scripts/plan.js ${stack} --json`, [process.execPath, plan, stack, "--json"]],
    // What the plan loads of the SDKs: all of them but the two closure-serialization modules it
    // defers (offline/deferredModules.ts); the plan's own work is its time over this one.
    [
      "the SDKs as the plan loads them (TypeScript and Arborist deferred)",
      [process.execPath, "-e", defer + floorScript],
    ],
  ];
  // One untimed run each warms the file system cache; then the commands take turns.
  for (const [, command] of commands) time(command, root);
  const samples = commands.map((): number[] => []);
  for (let i = 0; i < n; i++)
    commands.forEach(([, command], c) => samples[c].push(time(command, root)));
  const [floorMs, npmMs, nodeMs, deferredMs] = samples.map(median);
  commands.forEach(([label], c) =>
    console.log(`${label}: median ${median(samples[c]).toFixed(0)} ms over ${n} runs`),
  );
  console.log(
    `plan/floor ratio: ${(npmMs / floorMs).toFixed(2)} (npm run plan -- ${stack}); ${(nodeMs / floorMs).toFixed(2)} without npm's own start-up`,
  );
  console.log(
    `the plan's own work (node, over the SDKs as it loads them): ${(nodeMs - deferredMs).toFixed(0)} ms, ${((nodeMs - deferredMs) / floorMs).toFixed(2)}x the floor`,
  );

  // In this process: the SDK is loaded once, so the times are the plan's own work.
  await timeEndpoints(1);
  const ms = await timeEndpointCounts(ENDPOINT_COUNTS, n);
  console.log(
    `\nsynthetic SageMaker endpoints (in-process plan, median over ${n} rounds of every count; ${ENDPOINT_COUNTS.map((c) => `${plansPerRound(c)} of ${c}`).join(", ")} per round):`,
  );
  const perEndpoint = (count: number) => (ms.get(count)! - ms.get(1)!) / (count - 1);
  for (const count of ENDPOINT_COUNTS) {
    const marginal = count === 1 ? "" : `, ${perEndpoint(count).toFixed(1)} ms per added endpoint`;
    console.log(
      `  ${String(count).padStart(3)} endpoint(s): ${ms.get(count)!.toFixed(0)} ms${marginal}`,
    );
  }

  const verdicts = targets({
    perEndpointMs: { 10: perEndpoint(10), 50: perEndpoint(50), 200: perEndpoint(200) },
    planToFloor: npmMs / floorMs,
  });
  console.log("\ntargets:");
  for (const v of verdicts) console.log(`  ${v.met ? "met    " : "NOT met"}  ${v.text}`);
}

/** The endpoint counts the bench plans; the per-endpoint cost is measured from the first. */
export const ENDPOINT_COUNTS = [1, 10, 50, 200];

/** The targets of the plan's speed (issue 18). */
export const TARGETS = {
  /** Milliseconds per added endpoint, at every measured count. */
  perEndpointMs: 20,
  /** The cost per endpoint at 200 endpoints over that at 10: linear growth. */
  linearity: 1.2,
  /** `npm run plan -- <stack>` over the floor of loading the SDKs. */
  planToFloor: 1.5,
};

export interface TargetVerdict {
  met: boolean;
  text: string;
}

/** Each target, whether the measurements meet it, and the numbers that decide it. */
export function targets(m: {
  perEndpointMs: { 10: number; 50: number; 200: number };
  planToFloor: number;
}): TargetVerdict[] {
  const counts = [10, 50, 200] as const;
  const worst = Math.max(...counts.map((c) => m.perEndpointMs[c]));
  const linearity = m.perEndpointMs[200] / m.perEndpointMs[10];
  return [
    {
      met: worst <= TARGETS.perEndpointMs,
      text: `at most ${TARGETS.perEndpointMs} ms per added endpoint: ${counts.map((c) => `${m.perEndpointMs[c].toFixed(1)} at ${c}`).join(", ")}`,
    },
    {
      met: linearity <= TARGETS.linearity,
      text: `linear to 200 endpoints (per-endpoint cost at 200 at most ${TARGETS.linearity}x that at 10): ${linearity.toFixed(2)}x`,
    },
    {
      met: m.planToFloor <= TARGETS.planToFloor,
      text: `npm run plan at most ${TARGETS.planToFloor}x the SDK-load floor: ${m.planToFloor.toFixed(2)}x`,
    },
  ];
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exit(1);
  });
}
