/**
 * The offline plan of a stack: the stack program under mocks with the config in
 * Pulumi.<stack>.yaml, the resources it would create, and what they cost per month.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { CostEstimate, estimateMonthlyCost } from "../catalog/cost";
import { ConfigError, PROJECT, StackConfig, parseStackConfig } from "../programs/config";
import program from "../programs/index";
import { ALL_POLICIES } from "../policy/policies";
import { CapturedResource, capture } from "./engine";
import { evaluatePolicies, readPolicyConfig } from "./policyEvaluator";

/** A policy verdict (filled by the policy pack; empty until it exists). */
export interface PolicyVerdict {
  policy: string;
  enforcement: "mandatory" | "advisory" | "remediate";
  resource: string;
  message: string;
}

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

/** The stacks that have a Pulumi.<stack>.yaml in the project root. */
export function listStacks(root = projectRoot()): string[] {
  return fs
    .readdirSync(root)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

/** The `config:` map of Pulumi.<stack>.yaml. */
export function readStackFile(stack: string, root = projectRoot()): Record<string, unknown> {
  const file = path.join(root, `Pulumi.${stack}.yaml`);
  if (!/^[A-Za-z0-9_.-]+$/.test(stack) || !fs.existsSync(file)) {
    throw new UsageError(
      `no stack ${JSON.stringify(stack)}: there is no Pulumi.${stack}.yaml; stacks: ${listStacks(root).join(", ")}`,
    );
  }
  let doc: unknown;
  try {
    doc = YAML.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new UsageError(`Pulumi.${stack}.yaml is not valid YAML: ${(e as Error).message}`);
  }
  const config = (doc as { config?: unknown } | null)?.config ?? {};
  if (config === null || typeof config !== "object" || Array.isArray(config)) {
    throw new UsageError(`Pulumi.${stack}.yaml: config must be a map of keys`);
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
): Promise<PlanReport> {
  const config: StackConfig = parseStackConfig(rawConfig, stack);
  const { resources } = await capture(program, {
    project: PROJECT,
    stack,
    region: config.region,
    config: toEngineConfig(rawConfig),
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
  };
}

/** The plan of a shipped stack (Pulumi.<stack>.yaml). */
export async function planStack(stack: string, root = projectRoot()): Promise<PlanReport> {
  return planConfig(stack, readStackFile(stack, root));
}
