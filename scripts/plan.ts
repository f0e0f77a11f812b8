/**
 * `npm run plan -- <stack> [--json | --diagram | --dashboard]`: what a stack would create and
 * cost, offline. The same command is `llm-infra plan` for any program that uses the components
 * (scripts/llmInfra.ts); `npm run plan` is it with this repository as the default project.
 *
 * Exit status: 0 clean, 1 a mandatory policy violation, 2 invalid config or usage, 3 a crash.
 */
// First, before any module that loads the Pulumi SDK (offline/deferredModules.ts says why).
import "../offline/deferClosureModules";
import * as path from "path";
import { CommandOutput, processOutput, runMain, parseArgs } from "./cli";
import { Command } from "commander";
import {
  PlanReport,
  isUserError,
  mandatoryViolations,
  planStack,
  projectRoot,
} from "../offline/plan";
import { onlyStack, planProject } from "../offline/program";
import { readPlanFile } from "../offline/changes";
import { toJson, toMermaid, toText } from "../offline/report";

const EXIT_OK = 0;
const EXIT_POLICY = 1;
const EXIT_USAGE = 2;
const EXIT_CRASH = 3;

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

/** Where a plan command looks for the program when no --cwd is given. */
export interface PlanCommandOptions {
  /** The command's name in help and errors. */
  name: string;
  /** The project directory without --cwd: this repository for `npm run plan`, else the caller's. */
  defaultDir: () => string;
  /**
   * The next command a clean plan suggests; toText's own (Pulumi's preview and up) when absent.
   * `dir` is the `--dir` the stack file was read from, when it is not the project's.
   */
  next?: (report: PlanReport, dir?: string) => string;
}

/** `npm run plan`: this repository's stacks; the next step is its preflight and deploy. */
export const REPO_PLAN: PlanCommandOptions = {
  name: "plan",
  defaultDir: () => projectRoot(),
  next: (report, dir) =>
    `Next: ${dir !== undefined ? `copy ${path.join(dir, `Pulumi.${report.stack}.yaml`)} next to Pulumi.yaml (a deploy reads its stack files there), then ` : ""}npm run preflight -- ${report.stack} (reads your AWS account), then npm run deploy -- ${report.stack} --up (docs/runbook.md).`,
};

export async function main(
  argv: string[],
  io: CommandOutput = processOutput,
  command: PlanCommandOptions = REPO_PLAN,
): Promise<number> {
  const cli = new Command(command.name)
    .description(
      "Offline plan of a Pulumi program that uses the components: resources, monthly cost and policy verdicts, with no AWS account",
    )
    .argument(
      "[stack]",
      "the stack whose Pulumi.<stack>.yaml config the program runs with (default: the only one)",
    )
    .option(
      "--cwd <directory>",
      "the Pulumi project's directory, where Pulumi.yaml and Pulumi.<stack>.yaml are",
    )
    .option(
      "--dir <directory>",
      "a directory of Pulumi.<stack>.yaml files for this package's own stack program (docs/configuration.md)",
    )
    .option("--json", "print one JSON object and nothing else on stdout")
    .option("--diagram", "print a mermaid flowchart of the stack's components and nothing else")
    .option("--dashboard", "print the body of the stack's CloudWatch dashboard and nothing else")
    .option(
      "--against <plan.json>",
      "an earlier plan's --json (or the deploy's last, .llm-infra/plans/<stack>.json): list what the change creates, updates, replaces and deletes",
    )
    .option(
      "--policy-config <file>",
      "a policy pack configuration (JSON), as pulumi up --policy-pack-config takes it (default: the package's policy/config/<environment>.json)",
    );
  const status = parseArgs(cli, argv, io);
  if (status !== undefined) return status;
  const [stack] = cli.args as [string | undefined];
  const opts = cli.opts<{
    json?: boolean;
    diagram?: boolean;
    dashboard?: boolean;
    cwd?: string;
    dir?: string;
    policyConfig?: string;
    against?: string;
  }>();
  const { json, diagram, dashboard } = opts;
  if (json === true && diagram === true) {
    io.err("error: choose --json or --diagram, not both\n");
    return EXIT_USAGE;
  }
  if (dashboard === true && (json === true || diagram === true)) {
    io.err("error: --dashboard prints the dashboard body alone: drop --json and --diagram\n");
    return EXIT_USAGE;
  }
  if (opts.cwd !== undefined && opts.dir !== undefined) {
    io.err(
      "error: --cwd plans the program in a directory, --dir this package's program with the stack files in one: give one of them\n",
    );
    return EXIT_USAGE;
  }
  const policyConfigFile =
    opts.policyConfig === undefined ? undefined : callerPath(opts.policyConfig);
  try {
    const against = opts.against === undefined ? undefined : readPlanFile(callerPath(opts.against));
    const report =
      opts.dir !== undefined
        ? await planStack(stack ?? onlyStack(callerPath(opts.dir)), callerPath(opts.dir), {
            policyConfigFile,
            against,
          })
        : await planProject({
            dir: opts.cwd === undefined ? command.defaultDir() : callerPath(opts.cwd),
            stack,
            policyConfigFile,
            against,
          });
    if (dashboard === true) {
      const body = dashboardOf(report);
      if (body === undefined) {
        io.err(
          `error: stack ${report.stack} has no dashboard (llm-infra:monitoring.dashboard is false)\n`,
        );
        return EXIT_USAGE;
      }
      io.out(`${JSON.stringify(body, null, 2)}\n`);
    } else if (json === true) {
      io.out(`${toJson(report)}\n`);
    } else if (diagram === true) {
      io.out(`${toMermaid(report)}\n`);
    } else {
      io.out(`${toText(report, { next: command.next?.(report, opts.dir) })}\n`);
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
    // A crash: the program's (or the plan's) own error, with its whole stack trace.
    io.err(
      `error: the plan stopped: the program threw\n${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
    return EXIT_CRASH;
  }
}

if (require.main === module) runMain("plan", (argv) => main(argv));
