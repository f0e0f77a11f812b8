/**
 * `npm run plan -- <stack> [--json | --diagram | --dashboard]`: what the stack would create and
 * cost, offline.
 *
 * Exit status: 0 clean, 1 a mandatory policy violation, 2 invalid config or usage.
 */
// First, before any module that loads the Pulumi SDK (offline/deferredModules.ts says why).
import "../offline/deferClosureModules";
import * as path from "path";
import { CommandOutput, processOutput, runMain, parseArgs } from "./cli";
import { Command } from "commander";
import {
  PlanReport,
  isUserError,
  listStacks,
  mandatoryViolations,
  planStack,
} from "../offline/plan";
import { toJson, toMermaid, toText } from "../offline/report";

const EXIT_OK = 0;
const EXIT_POLICY = 1;
const EXIT_USAGE = 2;

/**
 * A path the user typed, resolved against the directory they ran the command in: `npm run` starts
 * scripts in the package root and records the caller's directory in INIT_CWD (npm run-script
 * docs, https://docs.npmjs.com/cli/v9/commands/npm-run-script#description: "the INIT_CWD
 * environment variable, which holds the full path you were in when you ran npm run").
 */
export function callerPath(
  p: string,
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): string {
  return path.resolve(env.INIT_CWD ?? cwd, p);
}

/** The body of the stack's CloudWatch dashboard, as CloudWatch will receive it; undefined without one. */
export function dashboardOf(report: PlanReport): Record<string, unknown> | undefined {
  const dashboard = report.resources.find((r) => r.type === "aws:cloudwatch/dashboard:Dashboard");
  const body = dashboard?.inputs.dashboardBody;
  return typeof body === "string" ? (JSON.parse(body) as Record<string, unknown>) : undefined;
}

export async function main(argv: string[], io: CommandOutput = processOutput): Promise<number> {
  const cli = new Command("plan")
    .description(
      "Offline plan of a stack: resources, monthly cost and policy verdicts, with no AWS account",
    )
    .argument("<stack>", `stack name (${listStacks().join(", ")})`)
    .option("--json", "print one JSON object and nothing else on stdout")
    .option("--diagram", "print a mermaid flowchart of the stack's components and nothing else")
    .option("--dashboard", "print the body of the stack's CloudWatch dashboard and nothing else")
    .option(
      "--dir <directory>",
      "the directory holding Pulumi.<stack>.yaml (default: this project)",
    );
  const status = parseArgs(cli, argv, io);
  if (status !== undefined) return status;
  const [stack] = cli.args;
  const { json, diagram, dashboard, dir } = cli.opts<{
    json?: boolean;
    diagram?: boolean;
    dashboard?: boolean;
    dir?: string;
  }>();
  if (json === true && diagram === true) {
    io.err("error: choose --json or --diagram, not both\n");
    return EXIT_USAGE;
  }
  if (dashboard === true && (json === true || diagram === true)) {
    io.err("error: --dashboard prints the dashboard body alone: drop --json and --diagram\n");
    return EXIT_USAGE;
  }
  try {
    const report = await planStack(stack, dir === undefined ? undefined : callerPath(dir));
    if (dashboard === true) {
      const body = dashboardOf(report);
      if (body === undefined) {
        io.err(
          `error: stack ${stack} has no dashboard (llm-infra:monitoring.dashboard is false)\n`,
        );
        return EXIT_USAGE;
      }
      io.out(`${JSON.stringify(body, null, 2)}\n`);
    } else {
      const render = json === true ? toJson : diagram === true ? toMermaid : toText;
      io.out(`${render(report)}\n`);
    }
    const mandatory = mandatoryViolations(report);
    for (const v of mandatory)
      io.err(`error: ${v.policy} (mandatory) on ${v.resource}: ${v.message}\n`);
    return mandatory.length > 0 ? EXIT_POLICY : EXIT_OK;
  } catch (e) {
    if (isUserError(e)) {
      io.err(`error: ${e.message}\n`);
      return EXIT_USAGE;
    }
    throw e;
  }
}

if (require.main === module) runMain("plan", (argv) => main(argv));
