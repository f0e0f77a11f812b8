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
 * The same holds for an EKS cluster's children. Its node groups cannot outlive it ("If you have
 * managed node groups or Fargate profiles attached to the cluster, you must delete them first",
 * EKS API Reference, DeleteCluster), and its add-ons, Pod Identity associations and access entries
 * are parts of it (their API paths are under /clusters/<name>/). Each child names its cluster in
 * `clusterName`, which
 * replaces it when it changes (catalog/replacements.ts), so a child is tied when its clusterName
 * is the cluster's `name` input and the cluster is replaced by nothing else: its other
 * replace-forcing inputs (a service role, the service CIDR, the IP family) are left unset.
 *
 * Pure over the plan's resources; the tests run it over every shipped stack. The policy pack
 * cannot: CrossGuard's resource options (@pulumi/policy 1.21 `PolicyResourceOptions`) do not carry
 * `replaceWith`.
 */
import { CapturedResource } from "./resource";
import { Finding } from "./finding";
import { REPLACEMENTS } from "../catalog/replacements";

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

const CLUSTERS = ["eks:index:Cluster", "aws:eks/cluster:Cluster"];
const CLUSTER_CHILDREN = [
  "aws:eks/nodeGroup:NodeGroup",
  "aws:eks/addon:Addon",
  "aws:eks/podIdentityAssociation:PodIdentityAssociation",
  "aws:eks/accessEntry:AccessEntry",
];

/** An EKS cluster's children, each tied to it by name, and the cluster replaced by its name alone. */
function checkClusterChildren(resources: CapturedResource[]): Finding[] {
  const clusters = resources.filter((r) => CLUSTERS.includes(r.type));
  if (clusters.length === 0) return [];
  const findings: Finding[] = [];
  for (const c of clusters) {
    const others = (REPLACEMENTS[c.type] ?? []).filter(
      (p) => p !== "name" && p !== "encryptionConfigKeyArn" && c.inputs[p] !== undefined,
    );
    for (const p of others)
      findings.push({
        check: CHECK,
        resource: c.name,
        message: `${c.name} sets ${p}, which replaces the cluster under the same name: its node groups, add-ons and Pod Identity associations would be deleted with it and stay in the stack's state`,
      });
  }
  const names = new Set(clusters.map((c) => c.inputs.name));
  for (const r of resources) {
    if (!CLUSTER_CHILDREN.includes(r.type) || names.has(r.inputs.clusterName)) continue;
    findings.push({
      check: CHECK,
      resource: r.name,
      message: `${r.name} names cluster ${JSON.stringify(r.inputs.clusterName)}, not the name of a cluster of the stack (${[...names].map(String).join(", ")}): it is not replaced with its cluster`,
    });
  }
  return findings;
}

export function checkTiedLifecycles(resources: CapturedResource[]): Finding[] {
  return [...checkScalingChildren(resources), ...checkClusterChildren(resources)];
}

/** A scalable target's policies and scheduled actions, each replaced with it. */
function checkScalingChildren(resources: CapturedResource[]): Finding[] {
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
