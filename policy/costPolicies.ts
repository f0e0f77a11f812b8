/**
 * Cost policies: the stack's monthly estimate against the environment's budget (the same
 * estimator `npm run plan` prints), and a cap on how many instances any group may scale to.
 *
 * The budget reads the figure the environment's pack configuration names (`figure`): `idle` (every
 * group at its floor), `expected` (desired sizes) or `peak` (every group at its maximum). The
 * policy sees resources only, so it prices at on-demand (no Savings Plans): a budget is never met
 * by a commitment the pack cannot see.
 */
import { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import {
  COST_FIGURES,
  CostFigure,
  estimateMonthlyCost,
  figureOf,
  lineFigure,
} from "../catalog/cost";
import { servingTargets, usdPerMillion } from "../catalog/tokenCost";
import { list, obj, validateResourceOfTypes } from "./resources";

interface BudgetConfig {
  monthlyBudgetUsd: number;
  figure: CostFigure;
  warnFraction: number;
  region: string;
}

const budgetSchema = {
  properties: {
    monthlyBudgetUsd: {
      type: "number" as const,
      default: 5000,
      description: "The environment's monthly budget, USD",
    },
    figure: {
      type: "string" as const,
      enum: [...COST_FIGURES],
      default: "expected",
      description:
        "Which monthly figure the budget holds: idle (floors), expected (desired sizes) or peak (maximums)",
    },
    warnFraction: {
      type: "number" as const,
      default: 0.8,
      description: "Share of the budget above which the stack is flagged",
    },
    region: {
      type: "string" as const,
      default: "us-east-1",
      description: "Region whose prices the estimate uses",
    },
  },
};

/**
 * The pack configuration file as a violation names it; the offline plan replaces it with the file
 * it read (`policy/config/dev.json`, or the one `--policy-config` gave).
 */
export const CONFIG_FILE_PLACEHOLDER = "policy/config/<environment>.json";

/** Where a policy's threshold is set, for a violation to name. */
export const configKey = (policy: string, key: string) =>
  `set in ${CONFIG_FILE_PLACEHOLDER}, ${policy}.${key}`;

const usd = (n: number) =>
  `$${n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

function estimate(args: Parameters<StackValidationPolicy["validateStack"]>[0]) {
  if (args.resources.length === 0) return args.notApplicable("the stack has no resources");
  const { region } = args.getConfig<BudgetConfig>();
  const records = args.resources.map((r) => ({
    type: r.type,
    name: r.name,
    parent: r.parent?.name ?? null,
    id: typeof r.props.id === "string" ? r.props.id : undefined,
    inputs: r.props,
  }));
  return estimateMonthlyCost(records, { region });
}

function largest(lines: ReturnType<typeof estimateMonthlyCost>["lines"], figure: CostFigure) {
  return [...lines]
    .sort((a, b) => lineFigure(b, figure) - lineFigure(a, figure))
    .slice(0, 3)
    .map((l) => `${l.resource} ${usd(lineFigure(l, figure))}`)
    .join(", ");
}

export const monthlyBudget: StackValidationPolicy = {
  name: "monthly-budget",
  description: "The stack's estimated monthly cost stays within the environment's budget.",
  enforcementLevel: "mandatory",
  configSchema: budgetSchema,
  validateStack: (args, reportViolation) => {
    const { monthlyBudgetUsd, figure } = args.getConfig<BudgetConfig>();
    const cost = estimate(args);
    if (!cost) return;
    const amount = figureOf(cost, figure);
    if (amount > monthlyBudgetUsd) {
      reportViolation(
        `estimated ${figure} ${usd(amount)}/month exceeds the budget of ${usd(monthlyBudgetUsd)}; largest: ${largest(cost.lines, figure)} (${configKey("monthly-budget", "monthlyBudgetUsd")})`,
      );
    }
  },
};

export const monthlyBudgetWarning: StackValidationPolicy = {
  name: "monthly-budget-warning",
  description: "The stack's estimated monthly cost is flagged above a share of the budget.",
  enforcementLevel: "advisory",
  configSchema: budgetSchema,
  validateStack: (args, reportViolation) => {
    const { monthlyBudgetUsd, warnFraction, figure } = args.getConfig<BudgetConfig>();
    const cost = estimate(args);
    if (!cost) return;
    const amount = figureOf(cost, figure);
    const threshold = monthlyBudgetUsd * warnFraction;
    if (amount > threshold && amount <= monthlyBudgetUsd) {
      reportViolation(
        `estimated ${figure} ${usd(amount)}/month is above ${Math.round(warnFraction * 100)}% of the budget of ${usd(monthlyBudgetUsd)} (${configKey("monthly-budget-warning", "warnFraction")})`,
      );
    }
  },
};

/** The resource types `maxInstancesOf` reads. */
export const SCALED_RESOURCE_TYPES = [
  "aws:eks/nodeGroup:NodeGroup",
  "aws:autoscaling/group:Group",
  "aws:appautoscaling/target:Target",
  "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
  "aws-native:sagemaker:EndpointConfig",
];

/** The most instances a resource may run or scale to, or undefined when it runs none. */
export function maxInstancesOf(type: string, props: Record<string, unknown>): number | undefined {
  switch (type) {
    case "aws:eks/nodeGroup:NodeGroup":
      return Number(obj(props.scalingConfig).maxSize ?? 0);
    case "aws:autoscaling/group:Group":
      return Number(props.maxSize ?? 0);
    case "aws:appautoscaling/target:Target":
      return props.scalableDimension === "sagemaker:variant:DesiredInstanceCount"
        ? Number(props.maxCapacity ?? 0)
        : undefined;
    case "aws-native:sagemaker:EndpointConfig":
      // Managed instance scaling's ceiling (inference components scale their own copies).
      return Math.max(
        0,
        ...list(props.productionVariants).map((v) =>
          Number(
            obj(obj(v).managedInstanceScaling).maxInstanceCount ?? obj(v).initialInstanceCount ?? 0,
          ),
        ),
      );
    case "aws:sagemaker/endpointConfiguration:EndpointConfiguration":
      return Math.max(
        0,
        ...list(props.productionVariants).map((v) => Number(obj(v).initialInstanceCount ?? 0)),
      );
    default:
      return undefined;
  }
}

export const maxInstances: ResourceValidationPolicy = {
  name: "max-instances",
  description:
    "No node group, endpoint variant or Auto Scaling group scales beyond the environment's cap.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      maxInstances: { type: "integer", default: 20, description: "Most instances per group" },
    },
  },
  validateResource: validateResourceOfTypes(
    SCALED_RESOURCE_TYPES,
    "runs no instances",
    (args, reportViolation) => {
      const count = maxInstancesOf(args.type, args.props);
      if (count === undefined) return args.notApplicable("runs no instances");
      const { maxInstances: cap } = args.getConfig<{ maxInstances: number }>();
      if (count > cap)
        reportViolation(
          `${args.name} may run ${count} instances; the cap is ${cap} (${configKey("max-instances", "maxInstances")})`,
        );
    },
  ),
};

interface TokenBudgetConfig {
  maxUsdPerMillionTokens: number;
  region: string;
}

/**
 * Each serving target's cost per million output tokens (catalog/tokenCost.ts: one instance,
 * on-demand, at its published throughput and the utilization its resources record) within the
 * environment's ceiling. Not applicable when no target has a figure, saying why for each.
 */
export const maxUsdPerMillionTokens: StackValidationPolicy = {
  name: "max-usd-per-million-tokens",
  description:
    "Each serving target's cost per million output tokens (on-demand, at its published throughput and stated utilization) stays within the environment's ceiling.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      maxUsdPerMillionTokens: {
        type: "number" as const,
        default: 10,
        description: "The highest cost per million output tokens a target may have, USD",
      },
      region: {
        type: "string" as const,
        default: "us-east-1",
        description: "Region whose prices the figures use",
      },
    },
  },
  validateStack: (args, reportViolation) => {
    const { maxUsdPerMillionTokens: ceiling, region } = args.getConfig<TokenBudgetConfig>();
    const records = servingTargets(
      args.resources.map((r) => ({
        type: r.type,
        name: r.name,
        parent: r.parent?.name ?? null,
        id: typeof r.props.id === "string" ? r.props.id : undefined,
        inputs: r.props,
      })),
      { region },
    );
    const priced = records.filter((t) => t.usdPerMillionOutputTokens !== undefined);
    if (priced.length === 0)
      return args.notApplicable(
        records.length === 0
          ? "the stack has no serving target"
          : `no target has a figure: ${records.map((t) => `${t.target}: ${t.reason}`).join("; ")}`,
      );
    for (const t of priced)
      if (t.usdPerMillionOutputTokens! > ceiling) {
        const urn = args.resources.find((r) => r.name === t.resource)?.urn;
        reportViolation(
          `${t.target}: ${usdPerMillion(t.usdPerMillionOutputTokens!)} per 1M output tokens at ${t.utilization} utilization (${usd(t.usdPerHour!)}/h on-demand, ${t.row!.outputTokensPerSecond} tok/s, row ${t.row!.id}) is above the ceiling of ${usd(ceiling)} (${configKey("max-usd-per-million-tokens", "maxUsdPerMillionTokens")})`,
          urn,
        );
      }
  },
};

export const COST_POLICIES = [
  monthlyBudget,
  monthlyBudgetWarning,
  maxInstances,
  maxUsdPerMillionTokens,
];
