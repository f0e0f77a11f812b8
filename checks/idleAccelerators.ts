/**
 * Idle accelerators: an accelerator node group the plan prices (desired size above zero) that no
 * workload of the stack selects by its `workload-type` label. Nothing we deploy would run there, so
 * its GPUs or Neuron devices are paid for and unused (prod's Inferentia group was such a group).
 */
import { CapturedResource } from "./resource";

export interface Finding {
  check: string;
  resource: string;
  message: string;
}

type Json = Record<string, unknown>;
const asObject = (v: unknown): Json => (v !== null && typeof v === "object" ? (v as Json) : {});

/** The `workload-type` values our workloads select: Helm release values and pod templates. */
function selectedWorkloadTypes(resources: CapturedResource[]): Set<string> {
  const types = new Set<string>();
  for (const r of resources) {
    const selectors: unknown[] = [];
    if (r.type === "kubernetes:helm.sh/v3:Release")
      selectors.push(asObject(r.inputs.values).nodeSelector);
    const template = asObject(asObject(asObject(r.inputs.spec).template).spec);
    selectors.push(template.nodeSelector);
    for (const s of selectors) {
      const value = asObject(s)["workload-type"];
      if (typeof value === "string") types.add(value);
    }
  }
  return types;
}

export function idleAccelerators(resources: CapturedResource[]): Finding[] {
  const selected = selectedWorkloadTypes(resources);
  const findings: Finding[] = [];
  for (const r of resources) {
    if (r.type !== "aws:eks/nodeGroup:NodeGroup") continue;
    const labels = asObject(r.inputs.labels);
    const kind = labels["llm-infra/accelerator-kind"];
    const workloadType = labels["workload-type"];
    const desired = Number(asObject(r.inputs.scalingConfig).desiredSize ?? 0);
    if (typeof kind !== "string" || typeof workloadType !== "string" || desired === 0) continue;
    if (selected.has(workloadType)) continue;
    const types = (r.inputs.instanceTypes as string[] | undefined)?.join(", ") ?? "?";
    findings.push({
      check: "idle-accelerators",
      resource: r.name,
      message: `${r.name}: ${desired} x ${types} (${kind === "neuron" ? "Neuron devices" : "NVIDIA GPUs"}) priced in the plan, but no workload selects workload-type=${workloadType}; serve on it (e.g. llm-infra:triton.nodeGroup) or remove it`,
    });
  }
  return findings;
}
