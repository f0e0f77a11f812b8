/**
 * The plan report, for programs (one JSON object) and for people (a tree, a cost table, verdicts).
 */
import { CapturedResource } from "./engine";
import { PlanReport } from "./plan";

/** The JSON contract in DESIGN.md: stack, resources, cost, policies. */
export function toJson(report: PlanReport): string {
  return JSON.stringify(
    {
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
    },
    null,
    2,
  );
}

const usd = (n: number) =>
  `$${n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

/** Component types print by class name (`InferenceVpc`), resources by full type token. */
function label(r: CapturedResource): string {
  const type = r.type.startsWith("llm-infra:index:")
    ? r.type.slice("llm-infra:index:".length)
    : r.type;
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

export function renderCostTable(report: PlanReport): string[] {
  const lines = [...report.cost.lines].sort((a, b) => b.monthlyUsd - a.monthlyUsd);
  const amountWidth = Math.max(
    "MONTHLY".length,
    ...lines.map((l) => usd(l.monthlyUsd).length),
    usd(report.cost.monthlyUsd).length,
  );
  const nameWidth = Math.max(8, ...lines.map((l) => l.resource.length));
  const row = (amount: string, name: string, description: string) =>
    `  ${amount.padStart(amountWidth)}  ${name.padEnd(nameWidth)}  ${description}`;
  return [
    row("MONTHLY", "RESOURCE", "WHAT IT ASSUMES"),
    ...lines.map((l) => row(usd(l.monthlyUsd), l.resource, l.description)),
    row("-".repeat(amountWidth), "", ""),
    row(usd(report.cost.monthlyUsd), "TOTAL", "per month, on-demand"),
  ];
}

/** The report for people. */
export function toText(report: PlanReport): string {
  const components = report.resources.filter((r) => !r.custom).length;
  const custom = report.resources.length - components;
  const out: string[] = [
    `llm-infra plan: stack ${report.stack} (environment ${report.environment}, ${report.region})`,
    "",
    `Resources: ${report.resources.length} (${components} components, ${custom} resources)`,
    ...renderTree(report.resources),
    "",
    `Monthly cost: ${usd(report.cost.monthlyUsd)}`,
    ...renderCostTable(report),
  ];
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
        ...verdicts.map((v) => `    - ${v.policy} on ${v.resource}: ${v.message}`),
      );
    }
  }
  return out.join("\n");
}
