/**
 * `npm run deploy -- <stack> --up`: from an empty account to a served token, in the order a clean
 * account needs it, each step saying what it does:
 *
 * 1. preflight: read-only AWS calls (identity, instance offerings, quotas against the plan's peak,
 *    images in ECR, models in the store); a blocker stops the deploy before anything is created;
 * 2. foundation: the network, keys, registries, model store and the image copy project, with a
 *    targeted `pulumi up` (the Automation API's `target`) on those components and their children;
 * 3. images: the stack's images brought into its own ECR by the copy that runs in AWS;
 * 4. models: each target's local model repository checked against the target and pushed to the
 *    prefix it reads, before anything that reads it exists;
 * 5. serving: the whole stack (`pulumi up`), the endpoints, the cluster and Triton; a private
 *    cluster whose stack asks for it (`llm-infra:eks.deployerAccess: deployerAddress`) admits this
 *    machine's address for the step and is closed again after it, however it ends;
 * 6. smoke: one request per serving target, its answer, latency and the command to call it again.
 *
 * Why targets and not a second stack: one stack keeps one state, one config file and one
 * `pulumi stack output` for the user, and the program stays the single description of the
 * environment; the foundation is the set of components whose children depend on nothing outside
 * it (a test holds that for every shipped stack), which is what a targeted update needs
 * (https://www.pulumi.com/docs/iac/operations/stack-management/targeted-updates/: a targeted
 * resource's inputs from non-targeted resources come from the state, and wildcards `**` match
 * across URN segments, so `<component type>$**` names every descendant).
 *
 * Every step is idempotent: the Pulumi steps converge on the program, the image step copies only
 * what ECR lacks, the model push skips files whose checksum the object carries. So a failed step
 * leaves what was created in the stack, and the same command resumes.
 */
import * as auto from "@pulumi/pulumi/automation";
import { CapturedResource } from "../offline/engine";
import { PlanReport } from "../offline/plan";
import { DEPLOYER_CIDRS_ENV } from "../programs/config";
import { DEPLOYER_ACCESS_TAG } from "../components/eks/gpuCluster";
import { obj } from "../checks/inputs";

export const JOURNEY_STEPS = [
  "preflight",
  "foundation",
  "images",
  "models",
  "serving",
  "smoke",
] as const;
export type JourneyStep = (typeof JOURNEY_STEPS)[number];

/** The components the foundation step creates first: what the later steps write into. */
export const FOUNDATION_COMPONENTS = [
  "llm-infra:index:InferenceVpc",
  "llm-infra:index:ModelRegistry",
  "llm-infra:index:ModelStore",
  "llm-infra:index:ImageMirror",
  "llm-infra:index:ModelWeights",
] as const;

/** What the foundation step does, for the step's line. */
const FOUNDATION_WHAT = "network, keys, registries, model store, image copy, weights copy";

/** A failed step: which step, the resource it was working on, and the message AWS gave. */
export class StepError extends Error {
  constructor(
    readonly step: JourneyStep,
    readonly resource: string,
    message: string,
  ) {
    super(message);
    this.name = "StepError";
  }
}

/** The deployed state of the stack (Automation API exportStack), read by URN. */
export class DeployedState {
  private readonly byUrn = new Map<string, { type: string; outputs: Record<string, unknown> }>();
  constructor(deployment: auto.Deployment) {
    const resources = (obj(deployment.deployment).resources ?? []) as {
      urn: string;
      type: string;
      outputs?: Record<string, unknown>;
    }[];
    for (const r of resources) this.byUrn.set(r.urn, { type: r.type, outputs: r.outputs ?? {} });
  }
  /** An output of the resource with this URN; undefined when the resource is not deployed. */
  output(urn: string | undefined, key: string): unknown {
    return urn === undefined ? undefined : this.byUrn.get(urn)?.outputs[key];
  }
  has(urn: string | undefined): boolean {
    return urn !== undefined && this.byUrn.has(urn);
  }
}

/** What one step did, in a few words, for its closing line. */
export type StepSummary = string;

/**
 * The steps that call AWS, injected: the real ones (automation/steps.ts) use the AWS SDK; tests
 * use moto's server or recorded fakes. Each prints its own progress on `io.out`.
 */
export interface JourneySteps {
  /** Read-only checks; `blocked` stops the deploy before anything is created. */
  preflight(report: PlanReport, io: JourneyIO): Promise<{ blocked: boolean; summary: StepSummary }>;
  /** This machine's egress address as a /32, for a cluster that admits the deployer. */
  deployerCidr(): Promise<string>;
  images(report: PlanReport, state: DeployedState, io: JourneyIO): Promise<StepSummary>;
  models(report: PlanReport, state: DeployedState, io: JourneyIO): Promise<StepSummary>;
  smoke(report: PlanReport, outputs: Record<string, unknown>, io: JourneyIO): Promise<StepSummary>;
}

export interface JourneyIO {
  out(text: string): void;
}

/** The Pulumi operations the journey runs: a stack selected with or without extra environment. */
export interface JourneyStack {
  up(options: auto.UpOptions): Promise<auto.UpResult>;
  exportStack(): Promise<auto.Deployment>;
  outputs(): Promise<auto.OutputMap>;
}

export interface JourneyContext {
  report: PlanReport;
  /** Selects the stack; `envVars` are given to every Pulumi command it runs. */
  select(envVars?: Record<string, string>): Promise<JourneyStack>;
  /** The options every `up` carries: output streams, policy packs and their configuration. */
  upOptions: auto.UpOptions;
  steps: JourneySteps;
  io: JourneyIO;
  /** Skip the preflight (an account where its read-only calls are not allowed). */
  skipPreflight?: boolean;
  /** The deployer's CIDR to admit, instead of detecting this machine's address. */
  deployerCidr?: string;
}

/** `urn:pulumi:<stack>::<project>::<type chain>::<name>`: the type chain and the prefix before it. */
function urnParts(urn: string): { prefix: string; typeChain: string } {
  const parts = urn.split("::");
  return { prefix: `${parts[0]}::${parts[1]}`, typeChain: parts[2] };
}

/**
 * The foundation step's targets: each foundation component's own URN and a wildcard for every
 * descendant (`<its type chain>$**`), from the URNs the offline plan recorded.
 */
export function foundationTargets(resources: CapturedResource[]): string[] {
  const components = resources.filter(
    (r) => !r.custom && (FOUNDATION_COMPONENTS as readonly string[]).includes(r.type) && r.urn,
  );
  return components.flatMap((c) => {
    const { prefix, typeChain } = urnParts(c.urn!);
    return [c.urn!, `${prefix}::${typeChain}$**`];
  });
}

/**
 * Whether a URN matches a target pattern as the Pulumi engine matches them: `**` any characters,
 * `*` any characters but `:`, everything else literally.
 */
export function urnMatches(pattern: string, urn: string): boolean {
  const re = pattern
    .split("**")
    .map((part) =>
      part
        .split("*")
        .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
        .join("[^:]*"),
    )
    .join(".*");
  return new RegExp(`^${re}$`).test(urn);
}

/** The EKS clusters whose stack asks the deploy to admit its own address. */
export function clustersAdmittingDeployer(resources: CapturedResource[]): CapturedResource[] {
  return resources.filter(
    (r) =>
      r.type === "eks:index:Cluster" &&
      obj(r.inputs.tags)[DEPLOYER_ACCESS_TAG.key] === DEPLOYER_ACCESS_TAG.value,
  );
}

/**
 * The target that closes a cluster's API again: the EKS cluster resource the eks component
 * creates under it (`...$eks:index:Cluster$aws:eks/cluster:Cluster::<name>-eksCluster`).
 */
export function clusterCloseTarget(cluster: CapturedResource): string {
  const { prefix, typeChain } = urnParts(cluster.urn!);
  return `${prefix}::${typeChain}$aws:eks/cluster:Cluster::*`;
}

function describeChanges(changes: auto.OpMap | undefined): string {
  const parts = Object.entries(changes ?? {})
    .filter(([op, n]) => op !== "same" && (n ?? 0) > 0)
    .map(([op, n]) => `${n} ${op}`);
  return parts.length > 0 ? parts.join(", ") : "no changes";
}

/** Runs the journey for one stack; throws StepError (or the Automation API's errors) on failure. */
export async function runJourney(context: JourneyContext): Promise<string[]> {
  const { report, steps, io } = context;
  const done: string[] = [];
  const total = JOURNEY_STEPS.length;
  const line = (step: JourneyStep, text: string) =>
    io.out(`--> ${JOURNEY_STEPS.indexOf(step) + 1}/${total} ${step}: ${text}\n`);
  const finished = (step: JourneyStep, summary: string) => {
    io.out(`    ${step}: ${summary}\n`);
    done.push(`${step}: ${summary}`);
  };

  // 1. preflight
  if (context.skipPreflight) {
    line("preflight", "skipped (--skip-preflight)");
  } else {
    line("preflight", "identity, instance offerings, quotas against the peak, images, models");
    const { blocked, summary } = await steps.preflight(report, io);
    if (blocked)
      throw new StepError(
        "preflight",
        report.stack,
        `the account cannot take the stack yet (${summary}); nothing was created`,
      );
    finished("preflight", summary);
  }

  // 2. foundation
  const targets = foundationTargets(report.resources);
  line("foundation", `${FOUNDATION_WHAT} (pulumi up --target, ${targets.length / 2} components)`);
  const stack = await context.select();
  const foundation = await stack.up({ ...context.upOptions, target: targets });
  finished("foundation", describeChanges(foundation.summary.resourceChanges));

  // 3. images, 4. models: read where to write from the deployed state.
  const state = new DeployedState(await stack.exportStack());
  line("images", "into the stack's own ECR (pull-through cache, the copy that runs in AWS)");
  finished("images", await steps.images(report, state, io));
  line(
    "models",
    "hub weights copied in AWS, then each repository checked against its target and pushed",
  );
  finished("models", await steps.models(report, state, io));

  // 5. serving, with the deployer admitted to a private cluster for the step.
  const admitting = clustersAdmittingDeployer(report.resources);
  const cidr =
    admitting.length > 0 ? (context.deployerCidr ?? (await steps.deployerCidr())) : undefined;
  line(
    "serving",
    `endpoints, cluster, Triton (pulumi up${cidr ? `; the cluster API admits ${cidr} for this step` : ""})`,
  );
  let serving: auto.UpResult;
  try {
    const servingStack = cidr
      ? await context.select({ [DEPLOYER_CIDRS_ENV]: cidr })
      : await context.select();
    serving = await servingStack.up(context.upOptions);
  } finally {
    if (cidr) {
      io.out(`    serving: closing the cluster API to ${cidr} (pulumi up --target the cluster)\n`);
      await stack.up({ ...context.upOptions, target: admitting.map(clusterCloseTarget) });
    }
  }
  finished("serving", describeChanges(serving.summary.resourceChanges));

  // 6. smoke
  line("smoke", "one request per serving target");
  const outputs = Object.fromEntries(
    Object.entries(await stack.outputs()).map(([k, v]) => [k, v.value]),
  );
  finished("smoke", await steps.smoke(report, outputs, io));
  return done;
}
