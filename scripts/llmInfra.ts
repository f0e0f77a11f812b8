#!/usr/bin/env node
/**
 * `llm-infra`: the package's command for programs that use the components.
 *
 *   npx llm-infra plan [<stack>] [--cwd <program dir>] [--json | --diagram | --dashboard]
 *
 * runs the Pulumi program in the directory (Pulumi.yaml's `main`, with Pulumi.<stack>.yaml's
 * config) offline and prints what it would create, its monthly cost and the policy verdicts.
 * Exit status: 0 clean, 1 a mandatory policy violation, 2 a usage or config mistake (no
 * Pulumi.yaml, a `main` that does not exist), 3 the program crashed (with its stack trace).
 */
// First, before any module that loads the Pulumi SDK (offline/deferredModules.ts says why).
import "../offline/deferClosureModules";
import { CommandOutput, EXIT_USAGE, processOutput, runMain } from "./cli";
import { PlanCommandOptions, callerPath, main as plan } from "./plan";

/** `llm-infra plan`: the caller's directory by default; the next step is Pulumi's own (toText's). */
export const PROGRAM_PLAN: PlanCommandOptions = {
  name: "llm-infra plan",
  defaultDir: () => callerPath("."),
};

const HELP = `Usage: llm-infra <command> [options]

Pulumi components for LLM inference on AWS.

Commands:
  plan [stack]  the offline plan of the Pulumi program in a directory: what it would create,
                its monthly cost and the policy verdicts (llm-infra plan --help)
`;

export async function main(argv: string[], io: CommandOutput = processOutput): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "plan") return plan(rest, io, PROGRAM_PLAN);
  if (command === "--help" || command === "-h" || command === "help") {
    io.out(HELP);
    return 0;
  }
  if (command === undefined) {
    io.err(HELP);
    return EXIT_USAGE;
  }
  io.err(`error: unknown command ${JSON.stringify(command)}: the command is plan\n`);
  return EXIT_USAGE;
}

if (require.main === module) runMain("llm-infra", (argv) => main(argv));
