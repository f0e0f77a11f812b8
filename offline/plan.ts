/**
 * The offline plan of a stack: the stack program under mocks with the config in
 * Pulumi.<stack>.yaml, the resources it would create, and what they cost per month.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "js-yaml";
import { CostEstimate, estimateMonthlyCost } from "../catalog/cost";
import { ServingTargetRecord, servingTargets } from "../catalog/tokenCost";
import { ConfigError, PROJECT, StackConfig, parseStackConfig } from "../programs/config";
import program from "../programs/index";
import { TRITON_NAMESPACE, tritonChartPath } from "../components/triton/tritonRelease";
import { ALL_POLICIES } from "../policy/policies";
import { CapturedResource, capture } from "./engine";
import { forgetRenders, prepareRender, startRender } from "./checks/scheduling";
import { PolicyVerdict, evaluatePolicies, readPolicyConfig } from "./policyEvaluator";

export type { PolicyVerdict } from "./policyEvaluator";

/** The plan report: the JSON contract of `npm run plan -- <stack> --json`. */
export interface PlanReport {
  stack: string;
  environment: string;
  region: string;
  resources: CapturedResource[];
  cost: CostEstimate;
  policies: PolicyVerdict[];
  /** How many policies ran (not disabled in the environment's pack configuration). */
  policiesEvaluated: number;
  /** The cost per million output tokens of each serving target, or why there is none. */
  servingTargets: ServingTargetRecord[];
}

/** A usage problem (unknown stack, unreadable file): the CLI exits 2 with the message. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Errors a user can fix (config, usage, component arguments): one message, exit status 2. */
export function isUserError(e: unknown): e is Error {
  return (
    e instanceof ConfigError || e instanceof UsageError || pulumi.InputPropertiesError.isInstance(e)
  );
}

/** The verdicts that stop a stack: mandatory policy violations. */
export function mandatoryViolations(report: PlanReport): PolicyVerdict[] {
  return report.policies.filter((p) => p.enforcement === "mandatory");
}

/** The repository root: where Pulumi.yaml is (two levels above this file, compiled or not). */
export function projectRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, "Pulumi.yaml"))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new UsageError("no Pulumi.yaml found above the offline engine");
    dir = parent;
  }
  return dir;
}

/** A usage error unless `dir` is an existing directory. */
export function checkDirectory(dir: string): void {
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(dir);
  } catch {
    throw new UsageError(
      `${dir} does not exist: give the directory that holds Pulumi.<stack>.yaml`,
    );
  }
  if (!stat.isDirectory())
    throw new UsageError(
      `${dir} is not a directory: give the directory that holds Pulumi.<stack>.yaml`,
    );
}

/** The stacks that have a Pulumi.<stack>.yaml in the project root. */
export function listStacks(root = projectRoot()): string[] {
  checkDirectory(root);
  return fs
    .readdirSync(root)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

/** The `config:` map of Pulumi.<stack>.yaml. */
export function readStackFile(stack: string, root = projectRoot()): Record<string, unknown> {
  checkDirectory(root);
  const file = path.join(root, `Pulumi.${stack}.yaml`);
  if (!/^[A-Za-z0-9_.-]+$/.test(stack) || !fs.existsSync(file)) {
    const stacks = listStacks(root);
    throw new UsageError(
      `no stack ${JSON.stringify(stack)}: there is no Pulumi.${stack}.yaml in ${root}; stacks: ${stacks.join(", ") || "none"}`,
    );
  }
  let doc: unknown;
  try {
    // YAML 1.2's core schema, as the Pulumi CLI reads it: no timestamps, no merge keys.
    doc = YAML.load(fs.readFileSync(file, "utf8"), { schema: YAML.CORE_SCHEMA });
  } catch (e) {
    // The parser's message carries a drawing of the line over several lines: its first is enough.
    const first = (e as Error).message.split("\n")[0];
    throw new UsageError(`Pulumi.${stack}.yaml is not valid YAML: ${first}`);
  }
  return configSection(doc, `Pulumi.${stack}.yaml`);
}

/**
 * The top-level keys of a Pulumi.<stack>.yaml, as the Pulumi CLI reads it (pulumi/pulumi
 * sdk/go/common/workspace/project.go, `ProjectStack`: secretsprovider, encryptedkey,
 * encryptionsalt, config, environment).
 */
const STACK_FILE_KEYS = [
  "config",
  "secretsprovider",
  "encryptedkey",
  "encryptionsalt",
  "environment",
];

/** The `config:` map of a parsed stack file, or a usage error saying what is wrong with the file. */
export function configSection(doc: unknown, file: string): Record<string, unknown> {
  const example = "config:\n  aws:region: us-east-1\n  llm-infra:environment: dev";
  if (doc === null || doc === undefined)
    throw new UsageError(
      `${file} is empty: the stack's settings go under a config: section, e.g. ${JSON.stringify(example)}`,
    );
  if (typeof doc !== "object" || Array.isArray(doc))
    throw new UsageError(
      `${file} must be a map with a config: section, got ${JSON.stringify(doc).slice(0, 80)}`,
    );
  const keys = Object.keys(doc);
  const unknown = keys.filter((k) => !STACK_FILE_KEYS.includes(k));
  if (unknown.length > 0) {
    const looksLikeConfig = unknown.filter(
      (k) => k.includes(":") === false && /^c.?o.?n.?f|config/i.test(k),
    );
    throw new UsageError(
      `${file}: ${unknown.map((k) => JSON.stringify(k)).join(", ")} ${unknown.length === 1 ? "is not a" : "are not"} stack file key${unknown.length === 1 ? "" : "s"} (allowed: ${STACK_FILE_KEYS.join(", ")})` +
        (looksLikeConfig.length > 0
          ? `; did you mean config:?`
          : unknown.some((k) => k.includes(":"))
            ? "; config keys such as aws:region go under config:"
            : ""),
    );
  }
  const config = (doc as { config?: unknown }).config;
  if (config === undefined)
    throw new UsageError(
      `${file} has no config: section; the stack's settings go under it, e.g. ${JSON.stringify(example)}`,
    );
  if (config === null || typeof config !== "object" || Array.isArray(config)) {
    throw new UsageError(
      `${file}: config must be a map of keys such as aws:region, got ${JSON.stringify(config)}`,
    );
  }
  return config as Record<string, unknown>;
}

/** Config values as the engine passes them to a program: strings, with objects as JSON. */
export function toEngineConfig(config: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
  );
}

/** Runs the stack program for parsed config values and prices what it creates. */
export async function planConfig(
  stack: string,
  rawConfig: Record<string, unknown>,
  /** Where the stack's `modelRepository` directories are. @default the project root */
  root = projectRoot(),
): Promise<PlanReport> {
  const config: StackConfig = parseStackConfig(rawConfig, stack, root);
  // The stack's Triton release is rendered by helm for the scheduling check: helm starts now, so
  // its own start-up runs beside the program, and it renders once the release's values are known.
  if (config.triton) prepareRender(tritonChartPath(), TRITON_NAMESPACE);
  try {
    const { resources } = await capture(program, {
      project: PROJECT,
      stack,
      region: config.region,
      config: toEngineConfig(rawConfig),
      // helm renders this package's chart for the scheduling check as soon as the release is
      // recorded, beside the program, the cost estimate and the policies before that check.
      onResource: startRender,
      isUserError,
    });
    const cost = estimateMonthlyCost(resources, {
      region: config.region,
      assumptions: config.cost.assumptions,
      savingsPlans: config.cost.savingsPlans,
    });
    // The pack configuration of the stack's environment, as `--policy-pack-config` would pass it.
    const { verdicts, evaluated } = await evaluatePolicies(ALL_POLICIES, resources, {
      project: PROJECT,
      stack,
      config: readPolicyConfig(config.environment, projectRoot()),
    });
    return {
      stack,
      environment: config.environment,
      region: config.region,
      resources,
      cost,
      policies: verdicts,
      policiesEvaluated: evaluated,
      servingTargets: servingTargets(resources, {
        region: config.region,
        savingsPlans: config.cost.savingsPlans,
      }),
    };
  } finally {
    // However the plan ends: a helm no release used is stopped, renders no check took forgotten.
    forgetRenders();
  }
}

/** The plan of a shipped stack (Pulumi.<stack>.yaml). */
export async function planStack(stack: string, root = projectRoot()): Promise<PlanReport> {
  return planConfig(stack, readStackFile(stack, root), root);
}
