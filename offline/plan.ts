/**
 * The offline plan of a stack: the stack program under mocks with the config in
 * Pulumi.<stack>.yaml, the resources it would create, and what they cost per month.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "js-yaml";
import { CostEstimate, DEFAULT_COST_ASSUMPTIONS, estimateMonthlyCost } from "../catalog/cost";
import { regionProblem } from "../catalog/awsLimits";
import { ServingTargetRecord, servingTargets } from "../catalog/tokenCost";
import { Environment, PROJECT, allowReplaceOf, parseStackConfig } from "../programs/config";
import { CostConfig, parseCostConfig } from "../programs/costConfig";
import program from "../programs/index";
import { TRITON_NAMESPACE, tritonChartPath } from "../components/triton/tritonRelease";
import { ALL_POLICIES } from "../policy/policies";
import { CONFIG_FILE_PLACEHOLDER } from "../policy/costPolicies";
import { CapturedResource, capture } from "./engine";
import { forgetRenders, prepareRender, startRender } from "../checks/scheduling";
import type { PolicyPackConfig } from "@pulumi/policy";
import {
  PolicyVerdict,
  evaluatePolicies,
  readPolicyConfig,
  readPolicyConfigFile,
} from "./policyEvaluator";
import { UsageError, isUserError } from "./usageError";
import { PlannedResource, ResourceChange, changeVerdicts, changesBetween } from "./changes";

export type { PolicyVerdict } from "./policyEvaluator";

/** The plan report: the JSON contract of `npm run plan -- <stack> --json`. */
export interface PlanReport {
  /** The Pulumi project (Pulumi.yaml `name`). */
  project: string;
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
  /**
   * The figures the budget policies check, when they differ from `cost`'s: the policies see
   * resources only, so they price on-demand, with the default usage assumptions, in the pack
   * configuration's region (policy/costPolicies.ts). Absent when the figures are the same.
   */
  budgetBasis?: BudgetBasis;
  /** With `--against`: every resource's change from the earlier plan (offline/changes.ts). */
  changes?: ResourceChange[];
}

/** The budget policies' own figures, and why they differ from the plan's. */
export interface BudgetBasis {
  idleMonthlyUsd: number;
  monthlyUsd: number;
  peakMonthlyUsd: number;
  /** What the plan applies that the policies cannot see, e.g. "Savings Plans". */
  differences: string[];
}

/**
 * The budget policies' figures for these resources, or undefined when they are the plan's own:
 * the monthly-budget policy prices at on-demand with the default usage assumptions and its
 * configuration's region (default us-east-1), because a policy sees resources and not the stack's
 * `llm-infra:cost` settings.
 */
export function budgetBasis(
  resources: CapturedResource[],
  cost: CostEstimate,
  settings: PlanSettings,
  policyConfig: PolicyPackConfig,
): BudgetBasis | undefined {
  const budget = policyConfig["monthly-budget"];
  const configured =
    typeof budget === "object" && budget !== null && "region" in budget
      ? (budget as { region?: unknown }).region
      : undefined;
  const region = typeof configured === "string" ? configured : "us-east-1";
  const differences: string[] = [];
  const { savingsPlans, assumptions } = settings.cost;
  if (savingsPlans.compute !== "none" || savingsPlans.sagemaker !== "none")
    differences.push("Savings Plans");
  if (
    Object.entries(assumptions).some(
      ([k, v]) => DEFAULT_COST_ASSUMPTIONS[k as keyof typeof DEFAULT_COST_ASSUMPTIONS] !== v,
    )
  )
    differences.push(`${PROJECT}:cost.assumptions`);
  if (region !== settings.region) differences.push(`${settings.region} prices`);
  // Without any of these, the policies price what the plan priced, the same way.
  if (differences.length === 0) return undefined;
  const basis = estimateMonthlyCost(resources, { region });
  const cents = (n: number) => Math.round(n * 100);
  if (
    cents(basis.idleMonthlyUsd) === cents(cost.idleMonthlyUsd) &&
    cents(basis.monthlyUsd) === cents(cost.monthlyUsd) &&
    cents(basis.peakMonthlyUsd) === cents(cost.peakMonthlyUsd)
  )
    return undefined;
  return {
    idleMonthlyUsd: basis.idleMonthlyUsd,
    monthlyUsd: basis.monthlyUsd,
    peakMonthlyUsd: basis.peakMonthlyUsd,
    differences,
  };
}

export { UsageError, isUserError } from "./usageError";

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

/** A usage error unless `dir` is an existing directory; `holds` says what it should hold. */
export function checkDirectory(dir: string, holds = "Pulumi.<stack>.yaml"): void {
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(dir);
  } catch {
    throw new UsageError(`${dir} does not exist: give the directory that holds ${holds}`);
  }
  if (!stat.isDirectory())
    throw new UsageError(`${dir} is not a directory: give the directory that holds ${holds}`);
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

/** What the plan itself reads from a stack's config: where it runs, its pack configuration, its cost basis. */
export interface PlanSettings {
  region: string;
  /** Which pack configuration the policies run under: policy/config/<environment>.json. */
  environment: string;
  cost: Pick<CostConfig, "assumptions" | "savingsPlans">;
  /** Stateful resources a change may replace or delete (`llm-infra:allowReplace`). */
  allowReplace?: string[];
}

/** The environments the package ships a pack configuration for (policy/config/<environment>.json). */
export const PLAN_ENVIRONMENTS: string[] = Object.values(Environment);

/**
 * The plan's settings from a stack's config: `aws:region` (required, as the AWS provider needs
 * it), `llm-infra:environment` (else the stack's name when it is one of dev, staging, prod, else
 * dev) and `llm-infra:cost` (usage assumptions and Savings Plans; docs/cost.md). Mistakes are one
 * usage error naming the file and key.
 */
export function planSettings(
  rawConfig: Record<string, unknown>,
  stack: string,
  file = `Pulumi.${stack}.yaml`,
): PlanSettings {
  const problems: string[] = [];
  const rawRegion = rawConfig["aws:region"];
  const badRegion = regionProblem(rawRegion);
  if (badRegion)
    problems.push(
      rawRegion === undefined
        ? "aws:region is not set: the plan prices and checks in one region (pulumi config set aws:region us-east-1)"
        : `aws:region ${badRegion}`,
    );
  const rawEnvironment = rawConfig[`${PROJECT}:environment`];
  if (rawEnvironment !== undefined && !PLAN_ENVIRONMENTS.includes(String(rawEnvironment)))
    problems.push(
      `${PROJECT}:environment must be one of ${PLAN_ENVIRONMENTS.join(", ")}, got ${JSON.stringify(rawEnvironment)}`,
    );
  const environment =
    typeof rawEnvironment === "string" && PLAN_ENVIRONMENTS.includes(rawEnvironment)
      ? rawEnvironment
      : PLAN_ENVIRONMENTS.includes(stack)
        ? stack
        : Environment.Dev;
  const cost = parseCostConfig(rawConfig[`${PROJECT}:cost`], problems);
  const allowReplace = allowReplaceOf(rawConfig, problems);
  if (problems.length > 0) throw new UsageError(`${file}: ${problems.join("; ")}`);
  return { region: String(rawRegion), environment, cost, allowReplace };
}

export interface ProgramPlanOptions {
  /** The Pulumi project's name (Pulumi.yaml `name`). */
  project: string;
  stack: string;
  /** The stack's config as Pulumi.<stack>.yaml holds it (`aws:region`, `<project>:key`, ...). */
  config: Record<string, unknown>;
  /** Config keys whose values are secrets (the program sees them as secret config). */
  secretKeys?: string[];
  /** The plan's own settings; read from `config` by `planSettings` when absent. */
  settings?: PlanSettings;
  /** The policy pack configuration; the package's policy/config/<environment>.json when absent. */
  policyConfig?: PolicyPackConfig;
  /** The file `policyConfig` was read from, for violations to name. */
  policyConfigFile?: string;
  /** An earlier plan's resources: the report then says what changes (`plan --against`). */
  against?: PlannedResource[];
  /** The directory the program runs in, as `pulumi up` runs it in the project's. @default the current one */
  cwd?: string;
}

/**
 * Runs a Pulumi program offline under the package's mocks and reports what it would create, what
 * that costs per month, the policy pack's verdicts and the cost per token of each serving target.
 * Resources of types the package does not price are listed in the report and counted as
 * unpriced (`cost.unpriced`), never dropped.
 */
export async function planProgram(
  run: () => unknown,
  options: ProgramPlanOptions,
): Promise<PlanReport> {
  const { project, stack } = options;
  const settings = options.settings ?? planSettings(options.config, stack);
  const cwd = process.cwd();
  if (options.cwd !== undefined) process.chdir(options.cwd);
  try {
    const { resources } = await capture(run, {
      project,
      stack,
      region: settings.region,
      config: toEngineConfig(options.config),
      secretKeys: options.secretKeys,
      // helm starts for this package's Triton chart as soon as a TritonRelease component is
      // registered, and renders the chart for the scheduling check as soon as its release is
      // recorded: beside the program, the cost estimate and the policies before that check.
      onResource: (r) => {
        if (r.type === TRITON_RELEASE_TYPE) prepareRender(tritonChartPath(), TRITON_NAMESPACE);
        startRender(r);
      },
      isUserError,
    });
    const cost = estimateMonthlyCost(resources, {
      region: settings.region,
      assumptions: settings.cost.assumptions,
      savingsPlans: settings.cost.savingsPlans,
    });
    // The pack configuration of the stack's environment, as `--policy-pack-config` would pass it.
    const policyConfig =
      options.policyConfig ?? readPolicyConfig(settings.environment, projectRoot());
    const { verdicts, evaluated } = await evaluatePolicies(ALL_POLICIES, resources, {
      project,
      stack,
      config: policyConfig,
    });
    const basis = budgetBasis(resources, cost, settings, policyConfig);
    // A violation names the file that set its threshold: the one this plan read.
    const configFile =
      options.policyConfigFile ??
      (options.policyConfig === undefined
        ? path.join(projectRoot(), "policy", "config", `${settings.environment}.json`)
        : undefined);
    const named =
      configFile === undefined
        ? verdicts
        : verdicts.map((v) => ({
            ...v,
            message: v.message.split(CONFIG_FILE_PLACEHOLDER).join(fileLabel(cwd, configFile)),
          }));
    const report: PlanReport = {
      project,
      stack,
      environment: settings.environment,
      region: settings.region,
      resources,
      cost,
      policies: named,
      policiesEvaluated: evaluated,
      servingTargets: servingTargets(resources, {
        region: settings.region,
        savingsPlans: settings.cost.savingsPlans,
        autoModeFeeShare: settings.cost.assumptions.autoModeFeeShare,
      }),
      ...(basis ? { budgetBasis: basis } : {}),
    };
    if (options.against !== undefined) {
      const changes = changesBetween(options.against, resources);
      report.changes = changes;
      report.policies = [
        ...report.policies,
        ...changeVerdicts(changes, settings.environment, settings.allowReplace ?? []),
      ];
    }
    return report;
  } finally {
    if (options.cwd !== undefined) process.chdir(cwd);
    // However the plan ends: a helm no release used is stopped, renders no check took forgotten.
    forgetRenders();
  }
}

/** A file as a message names it: relative to where the command runs, when it is below it. */
function fileLabel(cwd: string, file: string): string {
  const relative = path.relative(cwd, file);
  return relative === "" || relative.startsWith("..") || path.isAbsolute(relative)
    ? file
    : relative;
}

/** The type token of the Triton component, whose release the scheduling check renders. */
const TRITON_RELEASE_TYPE = `${PROJECT}:index:TritonRelease`;

/**
 * Runs this package's stack program for parsed config values and prices what it creates. The
 * config is validated first, so a mistake is reported before anything runs.
 */
export async function planConfig(
  stack: string,
  rawConfig: Record<string, unknown>,
  /** Where the stack's `modelRepository` directories are. @default the project root */
  root = projectRoot(),
  options: {
    policyConfig?: PolicyPackConfig;
    policyConfigFile?: string;
    against?: PlannedResource[];
  } = {},
): Promise<PlanReport> {
  const config = parseStackConfig(rawConfig, stack, root);

  // The stack's Triton release is rendered by helm for the scheduling check: helm starts now, so
  // its own start-up runs beside the program.
  if (config.triton) prepareRender(tritonChartPath(), TRITON_NAMESPACE);
  return planProgram(program, {
    policyConfig: options.policyConfig,
    policyConfigFile: options.policyConfigFile,
    project: PROJECT,
    stack,
    config: rawConfig,
    settings: {
      region: config.region,
      environment: config.environment,
      cost: config.cost,
      allowReplace: config.allowReplace,
    },
    against: options.against,
    cwd: root,
  });
}

/**
 * The plan of this package's stack program with a Pulumi.<stack>.yaml in `root` (a shipped
 * stack by default), under the pack configuration in `policyConfigFile` when given.
 */
export async function planStack(
  stack: string,
  root = projectRoot(),
  options: { policyConfigFile?: string; against?: PlannedResource[] } = {},
): Promise<PlanReport> {
  return planConfig(stack, readStackFile(stack, root), root, {
    policyConfig: readPolicyConfigFile(options.policyConfigFile),
    policyConfigFile: options.policyConfigFile,
    against: options.against,
  });
}
