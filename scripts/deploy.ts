/**
 * `npm run deploy -- <stack> [--preview | --up | --refresh | --destroy] [--yes]`
 * `npm run deploy -- --all [--preview | --up | --refresh] [--yes]`
 *
 * Runs the stack program with the Pulumi CLI (Automation API), always with the policy pack on
 * previews and updates. `--all` promotes dev -> staging -> prod, stopping at the first failure.
 * Without `--yes`, a change is previewed and then asked for; with no terminal to ask, it is not
 * made. Exit statuses: automation/deploy.ts EXIT (0 ok, 1 failed, 2 usage, 3 crash, 4 no Pulumi
 * CLI, 5 concurrent update, 6 not confirmed).
 */
import * as readline from "readline";
import { Command } from "commander";
import { processOutput, runMain, parseArgs } from "./cli";
import {
  DeployIO,
  DeployRequest,
  EXIT,
  OPERATIONS,
  Operation,
  PROMOTION_ORDER,
  deploy,
} from "../automation/deploy";
import { Workspace, pulumiCliWorkspace } from "../automation/workspace";
import { JourneySteps } from "../automation/journey";
import { awsSteps } from "../automation/steps";
import { ipv4CidrProblem } from "../catalog/awsLimits";
import { listStacks, projectRoot } from "../offline/plan";

/** The terminal: engine output streams to stdout, questions need an interactive stdin. */
export function terminalIO(): DeployIO {
  return {
    ...processOutput,
    color: process.stdout.isTTY === true,
    confirm: async (question) => {
      if (process.stdin.isTTY !== true) return false;
      const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
      const answer = await new Promise<string>((resolve) =>
        rl.question(`${question} [y/N] `, resolve),
      );
      rl.close();
      return /^y(es)?$/i.test(answer.trim());
    },
  };
}

/** The request the arguments describe, or a usage message. */
export function parseRequest(
  stack: string | undefined,
  flags: Record<string, boolean | string | undefined>,
): DeployRequest | string {
  const chosen = OPERATIONS.filter((op) => flags[op] === true);
  if (chosen.length > 1) {
    return `choose one operation, not ${chosen.map((o) => `--${o}`).join(" and ")}`;
  }
  const operation: Operation = chosen[0] ?? "preview";
  const journey = { skipPreflight: flags.skipPreflight === true, deployerCidr: flags.deployerCidr };
  if (operation !== "up" && (journey.skipPreflight || journey.deployerCidr !== undefined))
    return `--skip-preflight and --deployer-cidr go with --up`;
  if (typeof journey.deployerCidr === "string") {
    const why = ipv4CidrProblem(journey.deployerCidr);
    if (why) return `--deployer-cidr ${why}`;
    if (journey.deployerCidr.endsWith("/0"))
      return `--deployer-cidr must not open the cluster API to the whole internet (0.0.0.0/0)`;
  }
  const extra = {
    ...(journey.skipPreflight ? { skipPreflight: true } : {}),
    ...(typeof journey.deployerCidr === "string" ? { deployerCidr: journey.deployerCidr } : {}),
  };
  if (flags.all === true) {
    if (stack !== undefined) return `give a stack or --all, not both`;
    if (operation === "destroy") return `--destroy takes one stack at a time, not --all`;
    return { stacks: [...PROMOTION_ORDER], operation, yes: flags.yes === true, ...extra };
  }
  if (stack === undefined) return `give a stack (${listStacks().join(", ")}) or --all`;
  return { stacks: [stack], operation, yes: flags.yes === true, ...extra };
}

export async function main(
  argv: string[],
  workspace: Workspace = pulumiCliWorkspace,
  io: DeployIO = terminalIO(),
  root: string = projectRoot(),
  steps: JourneySteps = awsSteps(root),
  /** Where each stack's last deployed plan is kept (automation/deploy.ts lastPlanFile). */
  plansDir?: string,
): Promise<number> {
  const cli = new Command("deploy")
    .description(
      // The Automation API takes policy packs for preview and up only (@pulumi/pulumi
      // automation/stack.d.ts: PreviewOptions and UpOptions have policyPacks, RefreshOptions and
      // DestroyOptions do not).
      "Preview, update, refresh or destroy a stack with the Pulumi CLI; previews and updates run with the policy pack, refresh and destroy without it",
    )
    .argument("[stack]", `the stack (${listStacks(root).join(", ")})`)
    .option("--preview", "show what would change (the default)")
    .option("--up", "create or update the stack's resources")
    .option("--refresh", "read the resources' real state into the stack")
    .option("--destroy", "delete the stack's resources; protected ones (production stores) stay")
    .option("--all", `run on ${PROMOTION_ORDER.join(", then ")}, stopping at the first failure`)
    .option("--yes", "make the change without previewing and asking first")
    .option("--skip-preflight", "with --up: skip the read-only AWS checks before the first change")
    .option(
      "--deployer-cidr <cidr>",
      "with --up: the CIDR a private cluster admits while the deploy runs (default: this machine's address)",
    );
  const status = parseArgs(cli, argv, io);
  if (status !== undefined) return status;
  const request = parseRequest(
    cli.args[0],
    cli.opts<Record<string, boolean | string | undefined>>(),
  );
  if (typeof request === "string") {
    io.err(`error: ${request}\n`);
    return EXIT.usage;
  }
  return deploy(request, { workspace, io, root, steps, plansDir });
}

if (require.main === module) runMain("deploy", (argv) => main(argv));
