/**
 * What a change does to a deployed stack: this plan against an earlier one (`plan --against`),
 * resource by resource: create, update, replace, delete or same, with the input properties that
 * changed. A resource is replaced when a changed property is one its provider replaces it for
 * (catalog/replacements.ts, from the providers' sources), when the program asks for it
 * (`replaceOnChanges`), when it is replaced with a replaced resource (`replaceWith`), or when a
 * replace-forcing property takes its value from a replaced resource; a property that takes its
 * value from a replaced resource otherwise changes in place.
 *
 * Replacing or deleting what holds a user's data or serves their traffic (STATEFUL_TYPES) is a
 * verdict of the plan: mandatory in prod, advisory elsewhere, unless the stack names the resource
 * in `llm-infra:allowReplace`.
 */
import * as fs from "fs";
import { CapturedResource } from "../checks/resource";
import { REPLACEMENTS } from "../catalog/replacements";
import { PolicyVerdict } from "./policyEvaluator";
import { UsageError } from "./usageError";

export type ChangeAction = "create" | "update" | "replace" | "delete" | "same";

/** The verdicts this module gives on a change (the deploy prints them before it runs). */
export const CHANGE_POLICIES = ["stateful-replacement", "topic-subscriptions"] as const;
const [STATEFUL_REPLACEMENT, TOPIC_SUBSCRIPTIONS] = CHANGE_POLICIES;

/** One resource's change, as `--json` prints it under `changes`. */
export interface ResourceChange {
  type: string;
  name: string;
  action: ChangeAction;
  /** The input properties whose values differ (top level), sorted. */
  properties: string[];
  /** Why it is replaced: the properties that force it, or the resource it is replaced with. */
  because?: string[];
  /** True when the type's replace-forcing properties are not known, so a change may replace it. */
  replacementUnknown?: boolean;
}

/** A resource as an earlier plan's JSON holds it (`npm run plan -- <stack> --json`). */
export interface PlannedResource {
  type: string;
  name: string;
  custom?: boolean;
  inputs?: Record<string, unknown>;
}

/**
 * The types whose replacement or deletion loses what users stored or served: model stores and
 * logs (buckets), the keys that encrypt them, the EFS model cache, image registries, the cluster,
 * and endpoints (a replaced endpoint drops its traffic and its URL's callers).
 */
export const STATEFUL_TYPES: Record<string, string> = {
  "aws:s3/bucket:Bucket": "a bucket's objects",
  "aws:kms/key:Key": "what the key encrypts (a deleted key is scheduled for deletion)",
  "aws:efs/fileSystem:FileSystem": "the file system's files",
  "aws:ecr/repository:Repository": "the repository's images",
  "eks:index:Cluster": "the cluster and everything running on it",
  "aws:sagemaker/endpoint:Endpoint": "the endpoint's live traffic",
};

/** A value with object keys sorted, for comparing inputs whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)),
        )
      : v,
  );
}

/** The top-level input properties whose values differ between two resources. */
export function changedProperties(
  before: Record<string, unknown> = {},
  after: Record<string, unknown> = {},
): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((k) => canonical(before[k]) !== canonical(after[k])).sort();
}

const keyOf = (r: { type: string; name: string }) => `${r.type}::${r.name}`;

/** The value at a dotted path (`metadata.name`), or undefined. */
function at(value: unknown, path: string): unknown {
  let v = value;
  for (const part of path.split(".")) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/** The replace-forcing paths (top-level or dotted) whose values differ. */
function forcingChanges(
  forcing: readonly string[],
  before: Record<string, unknown> = {},
  after: Record<string, unknown> = {},
  properties: string[],
): string[] {
  if (forcing.includes("*")) return properties;
  return forcing.filter((p) =>
    p.includes(".") ? canonical(at(before, p)) !== canonical(at(after, p)) : properties.includes(p),
  );
}

/**
 * The changes from `earlier` (an earlier plan's resources) to `current` (this plan's), in this
 * plan's order, then the deletions in the earlier plan's order.
 */
export function changesBetween(
  earlier: PlannedResource[],
  current: CapturedResource[],
  replacements: Record<string, readonly string[]> = REPLACEMENTS,
): ResourceChange[] {
  const before = new Map(earlier.map((r) => [keyOf(r), r]));
  const changes = new Map<string, ResourceChange>();
  for (const r of current) {
    const old = before.get(keyOf(r));
    if (old === undefined) {
      changes.set(keyOf(r), { type: r.type, name: r.name, action: "create", properties: [] });
      continue;
    }
    const properties = changedProperties(old.inputs, r.inputs);
    const table = replacements[r.type];
    const forcing = [...(table ?? []), ...(r.replaceOnChanges ?? [])];
    const because = forcingChanges(forcing, old.inputs, r.inputs, properties);
    const change: ResourceChange = {
      type: r.type,
      name: r.name,
      action: because.length > 0 ? "replace" : properties.length > 0 ? "update" : "same",
      properties,
    };
    if (because.length > 0) change.because = because;
    if (table === undefined && r.custom && properties.length > 0) change.replacementUnknown = true;
    changes.set(keyOf(r), change);
  }
  cascadeReplacements(current, changes, replacements);
  const deleted = earlier
    .filter((r) => !changes.has(keyOf(r)))
    .map((r): ResourceChange => ({ type: r.type, name: r.name, action: "delete", properties: [] }));
  return [...changes.values(), ...deleted];
}

/**
 * Replacements that follow from others, to a fixed point: a resource replaced with a replaced one
 * (`replaceWith`), and one whose replace-forcing property takes its value from a replaced
 * resource, whose outputs are new (Pulumi's own delete-before-replace test in pulumi/pulumi
 * replaces the dependent whose `state` reads the replaced resource and only updates the one that
 * names it in `dependsOn`).
 */
function cascadeReplacements(
  current: CapturedResource[],
  changes: Map<string, ResourceChange>,
  replacements: Record<string, readonly string[]>,
): void {
  const byUrn = new Map(current.filter((r) => r.urn).map((r) => [r.urn!, r]));
  const replaced = (urn: string) => {
    const r = byUrn.get(urn);
    return r !== undefined && changes.get(keyOf(r))?.action === "replace" ? r : undefined;
  };
  let grew = true;
  while (grew) {
    grew = false;
    for (const r of current) {
      const change = changes.get(keyOf(r));
      if (!change || change.action === "create" || change.action === "replace") continue;
      const forcing = [...(replacements[r.type] ?? []), ...(r.replaceOnChanges ?? [])];
      let because: string | undefined;
      const withTarget = (r.replaceWith ?? []).map(replaced).find((t) => t !== undefined);
      if (withTarget) because = `replaced with ${withTarget.name}`;
      for (const [property, urns] of Object.entries(r.propertyDependencies ?? {})) {
        const forces = forcing.some(
          (p) => p === "*" || p === property || p.startsWith(`${property}.`),
        );
        if (because || !forces) continue;
        const source = urns.map(replaced).find((t) => t !== undefined);
        if (source) because = `${property} from the replaced ${source.name}`;
      }
      if (because) {
        change.action = "replace";
        change.because = [because];
        grew = true;
        continue;
      }
      // A property read from a replaced resource takes its new value: an update in place.
      for (const [property, urns] of Object.entries(r.propertyDependencies ?? {})) {
        if (change.properties.includes(property) || !urns.some((u) => replaced(u))) continue;
        change.properties = [...change.properties, property].sort();
        if (change.action === "same") change.action = "update";
        grew = true;
      }
    }
  }
}

/**
 * The verdicts on a change: replacing or deleting a stateful resource is mandatory in prod and
 * advisory elsewhere, unless `allowReplace` names it.
 */
export function changeVerdicts(
  changes: ResourceChange[],
  environment: string,
  allowReplace: string[],
): PolicyVerdict[] {
  const verdicts: PolicyVerdict[] = [...subscriptionVerdicts(changes)];
  for (const c of changes) {
    if (c.action !== "replace" && c.action !== "delete") continue;
    const holds = STATEFUL_TYPES[c.type];
    if (holds === undefined || allowReplace.includes(c.name)) continue;
    const how =
      c.action === "replace"
        ? `would be replaced (${(c.because ?? []).join(", ")})`
        : "would be deleted (gone from the program, or renamed: a new name is a new resource unless it aliases the old one)";
    verdicts.push({
      policy: STATEFUL_REPLACEMENT,
      enforcement: environment === "prod" ? "mandatory" : "advisory",
      resource: c.name,
      message: `${c.name} (${c.type}) ${how}, losing ${holds}; to go ahead, name it in llm-infra:allowReplace`,
    });
  }
  return verdicts;
}

/** The resources of an earlier plan's JSON (`--json`, or what the deploy kept), or a usage error. */
export function readPlanFile(file: string): PlannedResource[] {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    throw new UsageError(
      `--against ${file} cannot be read: give an earlier plan's JSON (npm run --silent plan -- <stack> --json > plan.json)`,
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--against ${file} is not JSON: ${(e as Error).message}`);
  }
  const resources = (doc as { resources?: unknown } | null)?.resources;
  if (
    !Array.isArray(resources) ||
    resources.some(
      (r: unknown) =>
        r === null ||
        typeof r !== "object" ||
        typeof (r as PlannedResource).type !== "string" ||
        typeof (r as PlannedResource).name !== "string",
    )
  )
    throw new UsageError(
      `--against ${file} is not a plan: it needs the resources list a plan's --json prints, each with type and name`,
    );
  return resources as PlannedResource[];
}

const TOPIC = "aws:sns/topic:Topic";

/**
 * An SNS topic replaced or deleted takes its subscriptions with it ("Deletes a topic and all its
 * subscriptions", Amazon SNS API Reference, DeleteTopic), and the e-mail, chat or pager
 * subscriptions on an alarm topic are added outside the stack, so nothing brings them back. The
 * plan names each topic that goes and the topics this change creates, where they must be made
 * again (advisory: it loses no data, only notifications, until someone subscribes).
 */
export function subscriptionVerdicts(changes: ResourceChange[]): PolicyVerdict[] {
  const created = changes
    .filter((c) => c.type === TOPIC && c.action === "create")
    .map((c) => c.name);
  return changes
    .filter((c) => c.type === TOPIC && (c.action === "delete" || c.action === "replace"))
    .map((c) => ({
      policy: TOPIC_SUBSCRIPTIONS,
      enforcement: "advisory" as const,
      resource: c.name,
      message: `${c.name} would be ${c.action === "delete" ? "deleted" : "replaced"}, and AWS deletes its subscriptions with it: subscribe again ${
        c.action === "replace"
          ? `to ${c.name}`
          : created.length > 0
            ? `to ${created.join(" or ")}`
            : "where its alarms now go"
      } (e-mail, chat and pager subscriptions are not in the stack)`,
    }));
}
