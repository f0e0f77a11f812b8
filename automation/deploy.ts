/**
 * `npm run deploy`: preview, update, refresh or destroy environments with the Automation API,
 * in promotion order (dev, staging, prod), stopping at the first failure. Previews and updates
 * always run with the policy pack and the environment's pack configuration.
 *
 * Every stack is planned offline first (config, component arguments, the policy pack, the monthly
 * cost), so a typo or a mandatory violation in prod stops the run before dev is touched.
 */
import * as fs from "fs";
import * as path from "path";
import * as auto from "@pulumi/pulumi/automation";
import { PlanReport, isUserError, mandatoryViolations, planStack } from "../offline/plan";
import { toJson, usd } from "../offline/report";
import { CHANGE_POLICIES, readPlanFile } from "../offline/changes";
import { DeployStack, PulumiCliError, Workspace, commandResultOf } from "./workspace";
import { JOURNEY_STEPS, JourneySteps, StepError, runJourney } from "./journey";

export const OPERATIONS = ["preview", "up", "refresh", "destroy"] as const;
export type Operation = (typeof OPERATIONS)[number];

/** The order `--all` promotes through. */
export const PROMOTION_ORDER = ["dev", "staging", "prod"] as const;

/** Exit statuses a script can rely on. */
export const EXIT = {
  ok: 0,
  /** A Pulumi operation failed (including a mandatory policy violation). */
  failed: 1,
  /** Bad arguments or stack config: nothing ran. */
  usage: 2,
  /** A crash in this program. */
  internal: 3,
  /** The Pulumi CLI is not installed, or too old. */
  cliMissing: 4,
  /** Another update of the stack is in progress. */
  concurrentUpdate: 5,
  /** A change was not confirmed: nothing changed. */
  notConfirmed: 6,
} as const;

export interface DeployRequest {
  /** The stacks, in the order to run them. */
  stacks: string[];
  operation: Operation;
  /** Change without asking (up, refresh, destroy); without it, preview then ask. */
  yes: boolean;
  /** With up: skip the read-only AWS checks before the first change. */
  skipPreflight?: boolean;
  /** With up: the CIDR a private cluster admits for the deploy, instead of this machine's address. */
  deployerCidr?: string;
}

/** Where deploy writes and how it asks; the CLI passes the terminal, tests a recorder. */
export interface DeployIO {
  out(text: string): void;
  err(text: string): void;
  /** Asks a yes/no question; false when nobody can answer (not a terminal). */
  confirm(question: string): Promise<boolean>;
  /** Colour the engine's output. */
  color: boolean;
}

export interface DeployContext {
  workspace: Workspace;
  io: DeployIO;
  /** The project directory (Pulumi.yaml, Pulumi.<stack>.yaml, policy/). */
  root: string;
  /** The steps of `--up` that call AWS (preflight, images, models, smoke). */
  steps: JourneySteps;
  /** Where each stack's last deployed plan is kept. @default <root>/.llm-infra/plans */
  plansDir?: string;
}

/** One stack to run: its name, environment, offline cost and its environment's pack configuration. */
interface Target {
  stack: string;
  environment: string;
  monthlyUsd: number;
  policyPackConfig: string;
  /** The offline plan: what the stack creates, with the URNs the journey targets. */
  report: PlanReport;
}

/** A stack the offline plan refuses: bad config or arguments (usage), or a mandatory violation. */
class OfflinePlanError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = "OfflinePlanError";
  }
}

/**
 * Where the deploy keeps the offline plan of what a stack's last successful `up` deployed: the
 * next deploy (and `npm run plan -- <stack> --against <file>`) compares against it, so replacing
 * or deleting a stateful resource is refused in prod unless `llm-infra:allowReplace` names it.
 */
export function lastPlanFile(context: { root: string; plansDir?: string }, stack: string): string {
  return path.join(
    context.plansDir ?? path.join(context.root, ".llm-infra", "plans"),
    `${stack}.json`,
  );
}

/** Plans every stack offline and finds its pack configuration; throws OfflinePlanError. */
async function resolveTargets(
  stacks: string[],
  context: DeployContext,
  operation: Operation,
): Promise<Target[]> {
  const { root } = context;
  // A change is compared with what runs; a refresh or a destroy changes no configuration.
  const compares = operation === "up" || operation === "preview";
  const targets: Target[] = [];
  for (const stack of stacks) {
    let report;
    try {
      const kept = lastPlanFile(context, stack);
      report = await planStack(stack, root, {
        against: compares && fs.existsSync(kept) ? readPlanFile(kept) : undefined,
      });
    } catch (e) {
      if (isUserError(e)) throw new OfflinePlanError(`${stack}: ${e.message}`, EXIT.usage);
      throw e;
    }
    // What the change does to what runs, said before it runs: a stateful replacement outside
    // prod, and alarm topics whose subscriptions go with them (offline/changes.ts).
    for (const v of report.policies)
      if (
        (CHANGE_POLICIES as readonly string[]).includes(v.policy) &&
        v.enforcement !== "mandatory"
      )
        context.io.err(`warning: ${stack}: ${v.message}\n`);
    const mandatory = mandatoryViolations(report);
    if (mandatory.length > 0) {
      const broken = mandatory.map((v) => `${v.policy} on ${v.resource} (${v.message})`);
      throw new OfflinePlanError(
        `${stack}: the offline plan breaks mandatory policies: ${broken.join("; ")}; see \`npm run plan -- ${stack}\``,
        EXIT.failed,
      );
    }
    const policyPackConfig = path.join(root, "policy", "config", `${report.environment}.json`);
    if (!fs.existsSync(policyPackConfig)) {
      throw new OfflinePlanError(
        `${stack}: no policy pack configuration for environment ${report.environment} (${path.relative(root, policyPackConfig)})`,
        EXIT.usage,
      );
    }
    targets.push({
      stack,
      environment: report.environment,
      monthlyUsd: report.cost.monthlyUsd,
      policyPackConfig,
      report,
    });
  }
  return targets;
}

function describeChanges(changes: auto.OpMap | undefined): string {
  const parts = Object.entries(changes ?? {})
    .filter(([, n]) => (n ?? 0) > 0)
    .map(([op, n]) => `${n} ${op}`);
  return parts.length > 0 ? parts.join(", ") : "no changes";
}

/** The first `error:` line the engine wrote, for the one-line failure report. */
function engineError(e: unknown): string | undefined {
  const stderr = commandResultOf(e)?.stderr ?? "";
  const line = stderr
    .split("\n")
    .map((l) => l.trim())
    .find((l) => l.startsWith("error:"));
  return line === undefined ? undefined : line.slice(0, 300);
}

/** A failure as one line and its exit status; unknown errors are rethrown (a crash, status 3). */
function classify(e: unknown, stack: string, operation: Operation): [number, string] {
  if (e instanceof PulumiCliError) return [EXIT.cliMissing, e.message];
  if (e instanceof StepError) {
    return [
      EXIT.failed,
      `${stack}: step ${JOURNEY_STEPS.indexOf(e.step) + 1}/${JOURNEY_STEPS.length} ${e.step} failed on ${e.resource}: ${e.message}; what was created stays in the stack: run the same command again to resume`,
    ];
  }
  if (e instanceof auto.ConcurrentUpdateError) {
    return [
      EXIT.concurrentUpdate,
      `${stack}: another update of this stack is in progress; wait for it to finish, or if it was interrupted run \`pulumi cancel -s ${stack}\``,
    ];
  }
  if (e instanceof auto.CommandError) {
    const cause = engineError(e);
    return [
      EXIT.failed,
      `${stack}: ${operation} failed${cause ? ` (${cause})` : ""}; the engine output above says why`,
    ];
  }
  throw e;
}

/** Runs `operation` on one stack, asking first when it changes something and `yes` is off. */
async function runOne(
  stack: DeployStack,
  target: Target,
  request: DeployRequest,
  context: DeployContext,
): Promise<string | undefined> {
  const { io, root } = context;
  const streams = {
    onOutput: (s: string) => io.out(s),
    onError: (s: string) => io.err(s),
    color: io.color ? ("always" as const) : ("never" as const),
  };
  const withPolicies = {
    ...streams,
    policyPacks: [path.join(root, "policy")],
    policyPackConfigs: [target.policyPackConfig],
  };
  // Protected resources (production's buckets, keys and registries) stay, in the cloud and in
  // the state: a destroy never deletes what users stored.
  const destroyOptions = { ...streams, excludeProtected: true };

  if (request.operation === "preview") {
    const result = await stack.preview(withPolicies);
    return describeChanges(result.changeSummary);
  }
  // Each change, with the dry run that shows it first.
  const change = {
    up: { dryRun: () => stack.preview(withPolicies), run: () => stack.up(withPolicies) },
    refresh: { dryRun: () => stack.previewRefresh(streams), run: () => stack.refresh(streams) },
    destroy: {
      dryRun: () => stack.previewDestroy(destroyOptions),
      run: () => stack.destroy(destroyOptions),
    },
  }[request.operation];
  if (!request.yes) {
    const preview = await change.dryRun();
    io.out(
      `\n${target.stack}: ${request.operation} would make ${describeChanges(preview.changeSummary)}\n`,
    );
    if (!(await io.confirm(`Run ${request.operation} on ${target.stack}?`))) return undefined;
  }
  if (request.operation === "up") {
    // From an empty account to a served token: preflight, foundation, images, models, serving,
    // smoke (automation/journey.ts).
    const steps = await runJourney({
      report: target.report,
      select: (envVars) => context.workspace.selectStack(target.stack, root, envVars),
      upOptions: withPolicies,
      steps: context.steps,
      io,
      skipPreflight: request.skipPreflight,
      deployerCidr: request.deployerCidr,
    });
    return steps.join("; ");
  }
  const result = await change.run();
  return describeChanges(result.summary.resourceChanges);
}

/** Runs the request stack by stack and returns the exit status. */
export async function deploy(request: DeployRequest, context: DeployContext): Promise<number> {
  const { io } = context;
  // Config first: a broken stack file is reported as such even where the Pulumi CLI is missing.
  let targets: Target[];
  try {
    targets = await resolveTargets(request.stacks, context, request.operation);
  } catch (e) {
    if (e instanceof OfflinePlanError) {
      io.err(`error: ${e.message}\n`);
      return e.exitCode;
    }
    throw e;
  }

  try {
    await context.workspace.ready();
  } catch (e) {
    const [code, line] = classify(e, request.stacks[0], request.operation);
    io.err(`error: ${line}\n`);
    return code;
  }

  for (const [i, target] of targets.entries()) {
    const rest = targets.slice(i + 1).map((t) => t.stack);
    const notRun = rest.length > 0 ? `; not run: ${rest.join(", ")}` : "";
    io.out(
      `\n==> [${i + 1}/${targets.length}] ${target.stack} (environment ${target.environment}, ${usd(target.monthlyUsd)}/month by the offline plan): ${request.operation}` +
        `${request.operation === "preview" || request.operation === "up" ? `, policy pack ${path.relative(context.root, target.policyPackConfig)}` : ""}\n`,
    );
    const started = Date.now();
    let summary: string | undefined;
    try {
      const stack = await context.workspace.selectStack(target.stack, context.root);
      summary = await runOne(stack, target, request, context);
    } catch (e) {
      const [code, line] = classify(e, target.stack, request.operation);
      io.err(`error: ${line}${notRun}\n`);
      return code;
    }
    if (summary === undefined) {
      io.err(
        `error: ${target.stack}: ${request.operation} not confirmed, nothing changed (pass --yes to skip the question)${notRun}\n`,
      );
      return EXIT.notConfirmed;
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    io.out(`<== ${target.stack}: ${request.operation} succeeded in ${seconds} s: ${summary}\n`);
    const kept = lastPlanFile(context, target.stack);
    if (request.operation === "up") {
      const { idleMonthlyUsd, monthlyUsd } = target.report.cost;
      io.out(
        `    left running, ${target.stack} costs about ${usd(monthlyUsd)}/month (${usd(idleMonthlyUsd)} idle) by the offline plan; \`npm run deploy -- ${target.stack} --destroy\` removes it\n`,
      );
      fs.mkdirSync(path.dirname(kept), { recursive: true });
      fs.writeFileSync(kept, `${toJson(target.report)}\n`);
      io.out(
        `    its plan is kept in ${path.relative(context.root, kept)}: the next deploy, and \`npm run plan -- ${target.stack} --against ${path.relative(context.root, kept)}\`, compare with it\n`,
      );
    }
    if (request.operation === "destroy") fs.rmSync(kept, { force: true });
  }
  return EXIT.ok;
}
