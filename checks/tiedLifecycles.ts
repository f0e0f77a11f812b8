/**
 * What AWS deletes with a parent is replaced with it. "Deregistering a scalable target deletes
 * the scaling policies and the scheduled actions that are associated with it" (Application Auto
 * Scaling API Reference, DeregisterScalableTarget), and Pulumi replaces a scalable target by
 * deregistering it. A SageMaker variant's resource id does not change when its target is replaced
 * (an instance type change), so nothing in a policy's or a scheduled action's inputs changes
 * either: unless it is replaced with the target (the `replaceWith` resource option), Pulumi's
 * state keeps it while AWS has deleted it, and the off-hours schedule or the autoscaling is gone
 * without a word.
 *
 * Pure over the plan's resources; the tests run it over every shipped stack. The policy pack
 * cannot: CrossGuard's resource options (@pulumi/policy 1.21 `PolicyResourceOptions`) do not carry
 * `replaceWith`.
 */
import { CapturedResource } from "./resource";
import { Finding } from "./finding";

const CHECK = "tied-lifecycles";

/** The types AWS deletes with their scalable target. */
const ON_A_TARGET = [
  "aws:appautoscaling/policy:Policy",
  "aws:appautoscaling/scheduledAction:ScheduledAction",
];

/** A scalable target's identity in AWS: namespace, resource id and dimension. */
function targetKey(r: CapturedResource): string {
  const { serviceNamespace, resourceId, scalableDimension } = r.inputs;
  return [serviceNamespace, resourceId, scalableDimension].map(String).join("|");
}

export function checkTiedLifecycles(resources: CapturedResource[]): Finding[] {
  const targets = new Map<string, CapturedResource>();
  for (const r of resources)
    if (r.type === "aws:appautoscaling/target:Target") targets.set(targetKey(r), r);
  const findings: Finding[] = [];
  for (const r of resources) {
    if (!ON_A_TARGET.includes(r.type)) continue;
    const target = targets.get(targetKey(r));
    if (target === undefined || target.urn === undefined) continue;
    if ((r.replaceWith ?? []).includes(target.urn)) continue;
    findings.push({
      check: CHECK,
      resource: r.name,
      message: `${r.name} acts on the scalable target ${target.name}, and AWS deletes it when that target is deregistered, but it is not replaced with the target (replaceWith): a replaced target leaves it deleted in AWS and still in the stack's state`,
    });
  }
  return findings;
}
