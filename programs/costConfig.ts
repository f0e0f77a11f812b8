/**
 * The `llm-infra:cost` config section: usage assumptions, the Savings Plans the account holds, and
 * scheduled scale-down outside working hours.
 *
 * ```yaml
 * llm-infra:cost:
 *   assumptions: { s3StoredGb: 1000 }
 *   savingsPlans: { compute: 1y, sagemaker: 3y }   # none | 1y | 3y (No Upfront)
 *   offHours:                                       # outside these hours, groups scale down
 *     timezone: Europe/Berlin
 *     workDays: MON-FRI
 *     startHour: 8
 *     endHour: 20
 *     systemNodes: true                             # the EKS system nodes too
 * ```
 */
import {
  CostAssumptions,
  DEFAULT_COST_ASSUMPTIONS,
  NO_SAVINGS_PLANS,
  SavingsPlansConfig,
} from "../catalog/cost";
import { SAVINGS_PLAN_TERMS, SavingsPlanTerm } from "../catalog/prices";
import { utilizationProblem } from "../catalog/tokenCost";
import { DEFAULT_OFF_HOURS, OffHoursWindow, validateOffHoursWindow } from "../catalog/schedule";
import { isObject, readSection, SectionReader, shown } from "./configReader";

export interface CostConfig {
  assumptions: CostAssumptions;
  savingsPlans: SavingsPlansConfig;
  /** Working hours; absent when nothing scales down on a schedule. */
  offHours?: OffHoursWindow;
}

const PREFIX = "llm-infra:cost";
export const COST_KEYS = ["assumptions", "savingsPlans", "offHours"];

export function parseCostConfig(raw: unknown, problems: string[]): CostConfig {
  const section =
    readSection(PREFIX, raw ?? {}, problems, COST_KEYS) ?? new SectionReader(PREFIX, {}, problems);
  const assumptions: CostAssumptions = { ...DEFAULT_COST_ASSUMPTIONS };
  const rawAssumptions = section.value("assumptions");
  if (rawAssumptions !== undefined) {
    if (!isObject(rawAssumptions)) {
      problems.push(
        `${section.key("assumptions")} must be a map of keys, got ${shown(rawAssumptions)}`,
      );
    } else {
      for (const [k, v] of Object.entries(rawAssumptions)) {
        if (!(k in DEFAULT_COST_ASSUMPTIONS)) {
          problems.push(
            `${section.key("assumptions")}.${k} is not a known key; allowed: ${Object.keys(DEFAULT_COST_ASSUMPTIONS).join(", ")}`,
          );
        } else if (k === "utilization" && utilizationProblem(v) !== undefined) {
          problems.push(`${section.key("assumptions")}.${k} ${utilizationProblem(v)}`);
        } else if (k === "autoModeFeeShare" && (typeof v !== "number" || !(v >= 0 && v <= 1))) {
          problems.push(
            `${section.key("assumptions")}.${k} must be a share of the on-demand price between 0 and 1 (0.12 is 12%), got ${JSON.stringify(v)}`,
          );
        } else if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
          problems.push(
            `${section.key("assumptions")}.${k} must be a number of at least 0, got ${JSON.stringify(v)}`,
          );
        } else {
          assumptions[k as keyof CostAssumptions] = v;
        }
      }
    }
  }

  const savingsPlans: SavingsPlansConfig = { ...NO_SAVINGS_PLANS };
  const plans = readSection(section.key("savingsPlans"), section.value("savingsPlans"), problems, [
    "compute",
    "sagemaker",
  ]);
  for (const plan of ["compute", "sagemaker"] as const) {
    const term = plans?.value(plan);
    if (term === undefined) continue;
    if (!SAVINGS_PLAN_TERMS.includes(term as SavingsPlanTerm)) {
      problems.push(
        `${plans!.key(plan)} must be one of ${SAVINGS_PLAN_TERMS.join(", ")}, got ${JSON.stringify(term)}`,
      );
    } else {
      savingsPlans[plan] = term as SavingsPlanTerm;
    }
  }

  let offHours: OffHoursWindow | undefined;
  const o = readSection(section.key("offHours"), section.value("offHours"), problems, [
    "timezone",
    "workDays",
    "startHour",
    "endHour",
    "systemNodes",
  ]);
  if (o) {
    const window = {
      timezone: o.string("timezone") ?? DEFAULT_OFF_HOURS.timezone,
      workDays: o.string("workDays") ?? DEFAULT_OFF_HOURS.workDays,
      startHour: o.number("startHour") ?? DEFAULT_OFF_HOURS.startHour,
      endHour: o.number("endHour") ?? DEFAULT_OFF_HOURS.endHour,
      systemNodes: o.boolean("systemNodes") ?? false,
    };
    const before = problems.length;
    problems.push(...validateOffHoursWindow(window).map((p) => `${section.key("offHours")}.${p}`));
    if (problems.length === before) offHours = window;
  }
  return { assumptions, savingsPlans, offHours };
}
