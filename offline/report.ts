/**
 * The plan report, for programs (one JSON object) and for people (a tree, a cost table, verdicts).
 */
import { TEXT_WIDTH, wrap } from "./text";
import { startupText, usdPerMillion } from "../catalog/tokenCost";
import { CapturedResource } from "./engine";
import { PlanReport } from "./plan";

/** The JSON contract in DESIGN.md: project, stack, resources, cost, policies. */
export function toJson(report: PlanReport): string {
  return JSON.stringify(
    {
      project: report.project,
      stack: report.stack,
      environment: report.environment,
      region: report.region,
      resources: report.resources.map((r) => ({
        type: r.type,
        name: r.name,
        parent: r.parent,
        custom: r.custom,
        id: r.id,
        protect: r.protect,
        retainOnDelete: r.retainOnDelete,
        inputs: r.inputs,
      })),
      cost: report.cost,
      policies: report.policies,
      policiesEvaluated: report.policiesEvaluated,
      servingTargets: report.servingTargets,
      ...(report.budgetBasis ? { budgetBasis: report.budgetBasis } : {}),
      ...(report.changes ? { changes: report.changes } : {}),
    },
    null,
    2,
  );
}

/**
 * Cost per million output tokens: a line per serving target with its figure and what it is made
 * of, or why it has none (catalog/tokenCost.ts), within TEXT_WIDTH columns.
 */
export function renderServingTargets(report: PlanReport): string[] {
  if (report.servingTargets.length === 0) return [];
  const lines = [
    "",
    "Serving targets: cost per 1M output tokens (one instance at its published throughput) and start-up:",
  ];
  for (const t of report.servingTargets) {
    const text =
      t.usdPerMillionOutputTokens !== undefined && t.row && t.usdPerHour !== undefined
        ? `${usdPerMillion(t.usdPerMillionOutputTokens)} at ${Math.round((t.utilization ?? 0) * 100)}% utilization (assumed): ${usd(t.usdPerHour)}/h ${t.basis} / (${t.row.outputTokensPerSecond} tok/s x 3600 x ${t.utilization}); row ${t.row.id}, ${t.row.load} load`
        : `no figure: ${t.reason ?? "unknown"}`;
    const start = t.startup ? `; ${startupText(t.startup)}` : "";
    const what = t.instanceType
      ? `${t.target} (${t.instanceType}${t.modelClass ? `, ${t.modelClass}` : ""})`
      : t.target;
    lines.push(...wrap(`  ${what}: `, `${text}${start}`, TEXT_WIDTH, "      "));
  }
  return lines;
}

/** Dollars with cents and thousands separators: `$1,277.15`. */
export const usd = (n: number) =>
  `$${n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

/** Component types print by class name (`InferenceVpc`), resources by full type token. */
function shortType(r: CapturedResource): string {
  return r.type.startsWith("llm-infra:index:") ? r.type.slice("llm-infra:index:".length) : r.type;
}

function label(r: CapturedResource): string {
  const type = shortType(r);
  const flags = [r.protect ? "protected" : "", r.retainOnDelete ? "retained on delete" : ""].filter(
    Boolean,
  );
  return `${type} ${r.name}${flags.length ? `  [${flags.join(", ")}]` : ""}`;
}

/** The resource tree: each component with its children, in registration order. */
export function renderTree(resources: CapturedResource[]): string[] {
  const children = new Map<string | null, CapturedResource[]>();
  const componentNames = new Set(resources.filter((r) => !r.custom).map((r) => r.name));
  for (const r of resources) {
    const parent = r.parent !== null && componentNames.has(r.parent) ? r.parent : null;
    children.set(parent, [...(children.get(parent) ?? []), r]);
  }
  const lines: string[] = [];
  const walk = (parent: string | null, indent: string) => {
    const kids = children.get(parent) ?? [];
    kids.forEach((r, i) => {
      const last = i === kids.length - 1;
      lines.push(`${indent}${last ? "└─ " : "├─ "}${label(r)}`);
      if (!r.custom) walk(r.name, `${indent}${last ? "   " : "│  "}`);
    });
  };
  walk(null, "");
  return lines;
}

/** What the totals are priced at: on-demand, or less the Savings Plans the stack names. */
function pricingBasis(report: PlanReport): string {
  const plans = report.cost.savingsPlans;
  const held = [
    plans.compute !== "none" ? `Compute Savings Plan ${plans.compute}` : "",
    plans.sagemaker !== "none" ? `SageMaker Savings Plan ${plans.sagemaker}` : "",
  ].filter(Boolean);
  return held.length > 0 ? `on-demand less ${held.join(" and ")}` : "on-demand";
}

/** The cost table: each line at idle, expected and peak, most expensive (expected) first. */
export function renderCostTable(report: PlanReport): string[] {
  const lines = [...report.cost.lines].sort((a, b) => b.monthlyUsd - a.monthlyUsd);
  const amounts = (l: { idleMonthlyUsd: number; monthlyUsd: number; peakMonthlyUsd: number }) => [
    usd(l.idleMonthlyUsd),
    usd(l.monthlyUsd),
    usd(l.peakMonthlyUsd),
  ];
  const width = Math.max(
    "EXPECTED".length,
    ...[...lines, report.cost].flatMap((l) => amounts(l).map((a) => a.length)),
  );
  const nameWidth = Math.max(8, ...lines.map((l) => l.resource.length));
  // The description wraps under itself, so every line stays within TEXT_WIDTH columns.
  const row = (cells: string[], name: string, description: string) => {
    const lead = `  ${cells.map((c) => c.padStart(width)).join("  ")}  ${name.padEnd(nameWidth)}  `;
    return wrap(lead, description, TEXT_WIDTH, " ".repeat(lead.length)).map((l) => l.trimEnd());
  };
  return [
    ...row(["IDLE", "EXPECTED", "PEAK"], "RESOURCE", "WHAT IT ASSUMES"),
    ...lines.flatMap((l) => row(amounts(l), l.resource, l.description)),
    ...row(
      ["-", "-", "-"].map(() => "-".repeat(width)),
      "",
      "",
    ),
    ...row(amounts(report.cost), "TOTAL", `per month, ${pricingBasis(report)}`),
  ];
}

/** Text for a mermaid label: quotes and angle brackets as entities. */
function mermaidText(text: string): string {
  return text.replace(/"/g, "#quot;").replace(/</g, "#lt;").replace(/>/g, "#gt;");
}

/**
 * A mermaid flowchart of the stack: one node per top-level component (or resource) with how many
 * resources it holds and their monthly cost, and an arrow from each to the ones that use it (a
 * resource of the second depends on a resource of the first).
 */
export function toMermaid(report: PlanReport): string {
  const components = new Map(report.resources.filter((r) => !r.custom).map((r) => [r.name, r]));
  const byUrn = new Map(report.resources.filter((r) => r.urn).map((r) => [r.urn!, r]));
  const top = (r: CapturedResource): CapturedResource => {
    let current = r;
    for (let parent = current.parent; parent !== null && components.has(parent);) {
      current = components.get(parent)!;
      parent = current.parent;
    }
    return current;
  };
  const roots = report.resources.filter((r) => top(r) === r);
  const id = new Map(roots.map((r, i) => [r, `n${i}`]));
  const held = new Map(roots.map((r) => [r, 0]));
  for (const r of report.resources) if (top(r) !== r) held.set(top(r), held.get(top(r))! + 1);
  const cost = new Map(roots.map((r) => [r, 0]));
  for (const line of report.cost.lines) {
    const priced = report.resources.find((r) => r.name === line.resource && r.type === line.type);
    if (priced) cost.set(top(priced), cost.get(top(priced))! + line.monthlyUsd);
  }
  const edges = new Set<string>();
  for (const r of report.resources) {
    for (const urn of r.dependencies) {
      const used = byUrn.get(urn);
      if (used === undefined || top(used) === top(r)) continue;
      edges.add(`  ${id.get(top(used))} --> ${id.get(top(r))}`);
    }
  }
  const lines = ["flowchart LR"];
  for (const r of roots) {
    const facts = [`${held.get(r)} resources`];
    if (cost.get(r)! > 0) facts.push(`${usd(cost.get(r)!)}/month`);
    lines.push(
      `  ${id.get(r)}["${mermaidText(`${shortType(r)} ${r.name}`)}<br/>${facts.join(", ")}"]`,
    );
  }
  return [...lines, ...[...edges]].join("\n");
}

/**
 * One line, when the budget policies check other figures than the plan's: theirs, and what the
 * plan applies that they cannot see (a policy sees resources, not the stack's cost settings).
 */
export function renderBudgetBasis(report: PlanReport): string[] {
  const b = report.budgetBasis;
  if (!b) return [];
  const without = b.differences.length > 0 ? `, not ${b.differences.join(" or ")}` : "";
  return wrap(
    "",
    `Budget policies check idle ${usd(b.idleMonthlyUsd)} / expected ${usd(b.monthlyUsd)} / peak ${usd(b.peakMonthlyUsd)}: they see resources alone, at on-demand prices${without} (docs/cost.md)`,
    TEXT_WIDTH,
    "  ",
  );
}

/**
 * With `--against`: a count per action, then each resource that changes, with the properties
 * that changed and, for a replacement, why.
 */
export function renderChanges(report: PlanReport): string[] {
  const changes = report.changes;
  if (!changes) return [];
  const count = (a: string) => changes.filter((c) => c.action === a).length;
  const out = [
    "",
    `Changes: ${["create", "update", "replace", "delete"].map((a) => `${count(a)} to ${a}`).join(", ")}, ${count("same")} unchanged`,
  ];
  for (const c of changes) {
    if (c.action === "same") continue;
    const what =
      c.action === "replace"
        ? ` (${(c.because ?? []).join(", ")})`
        : c.action === "update"
          ? ` (${c.properties.join(", ")}${c.replacementUnknown ? "; whether this replaces it is not known" : ""})`
          : "";
    out.push(
      ...wrap(`  ${c.action.padEnd(8)}`, `${c.type} ${c.name}${what}`, TEXT_WIDTH, " ".repeat(12)),
    );
  }
  return out;
}

/** The report for people; `next` is the command a clean plan suggests after it. */
export function toText(report: PlanReport, options: { next?: string } = {}): string {
  const components = report.resources.filter((r) => !r.custom).length;
  const custom = report.resources.length - components;
  const out: string[] = [
    `llm-infra plan: stack ${report.stack} (environment ${report.environment}, ${report.region})`,
    "",
    `Resources: ${report.resources.length} (${components} components, ${custom} resources)`,
    ...renderTree(report.resources),
    "",
    `Monthly cost: idle ${usd(report.cost.idleMonthlyUsd)} / expected ${usd(report.cost.monthlyUsd)} / peak ${usd(report.cost.peakMonthlyUsd)}`,
    ...renderBudgetBasis(report),
    ...renderCostTable(report),
    ...renderServingTargets(report),
  ];
  out.push(...renderChanges(report));
  if (report.cost.warnings.length > 0) {
    out.push("", "Cost warnings:", ...report.cost.warnings.map((w) => `  - ${w}`));
  }
  out.push("");
  if (report.policies.length === 0) {
    out.push(
      `Policies: no violations (${report.policiesEvaluated} policies of the ${report.environment} configuration).`,
    );
  } else {
    out.push(
      `Policies: ${report.policies.length} violation(s) of ${report.policiesEvaluated} policies (${report.environment} configuration)`,
    );
    for (const level of ["mandatory", "advisory", "remediate"] as const) {
      const verdicts = report.policies.filter((p) => p.enforcement === level);
      if (verdicts.length === 0) continue;
      out.push(
        `  ${level} (${verdicts.length}):`,
        ...verdicts.flatMap((v) =>
          wrap("    - ", `${v.policy} on ${v.resource}: ${v.message}`, TEXT_WIDTH, "      "),
        ),
      );
    }
  }
  // What to do next: fix what blocks, or read the account and deploy.
  const blocked = report.policies.some((p) => p.enforcement === "mandatory");
  out.push(
    "",
    blocked
      ? `Next: fix the mandatory violations above in Pulumi.${report.stack}.yaml, then plan again.`
      : (options.next ??
          `Next: pulumi preview --stack ${report.stack}, then pulumi up --stack ${report.stack}.`),
  );
  return out.join("\n");
}
