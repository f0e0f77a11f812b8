/**
 * The IAM policy documents a plan creates, read from its resources: identity policies (inline
 * role policies, managed policies), trust policies, and resource policies (topics, buckets, keys,
 * repositories). Shared by the IAM name check and the IAM scenarios.
 */
import { CapturedResource } from "./resource";

/** What a whole-stack check reads of a resource (a captured resource, or one a policy sees). */
export type PlanResource = Pick<CapturedResource, "type" | "name" | "inputs" | "id">;

/** One problem a whole-stack check found. */
export interface Finding {
  check: string;
  resource: string;
  message: string;
}

export interface Statement {
  Sid?: string;
  Effect?: string;
  Principal?: unknown;
  NotPrincipal?: unknown;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

export type DocumentKind = "identity" | "trust" | "resource";

export interface PolicyDocumentRef {
  /** The resource that carries the document, and the input it is in. */
  resource: PlanResource;
  input: string;
  kind: DocumentKind;
  statements: Statement[];
}

/** Resource types whose `policy` input is a resource policy. */
const RESOURCE_POLICY_TYPES = new Set([
  "aws:sns/topicPolicy:TopicPolicy",
  "aws:s3/bucketPolicy:BucketPolicy",
  "aws:kms/key:Key",
  "aws:ecr/repositoryPolicy:RepositoryPolicy",
  "aws:efs/fileSystemPolicy:FileSystemPolicy",
  "aws:sqs/queuePolicy:QueuePolicy",
]);
const IDENTITY_POLICY_TYPES = new Set(["aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy"]);

export function asList<T>(v: T | T[] | undefined | null): T[] {
  return Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
}

/** The statements of a document given as JSON text or an object; undefined when not a document. */
export function statementsOf(doc: unknown): Statement[] | undefined {
  let parsed = doc;
  if (typeof doc === "string") {
    try {
      parsed = JSON.parse(doc);
    } catch {
      return undefined;
    }
  }
  if (parsed === null || typeof parsed !== "object" || !("Statement" in parsed)) return undefined;
  return asList((parsed as { Statement: Statement | Statement[] }).Statement);
}

/** Every policy document of the plan, with the resource that carries it. */
export function policyDocuments(resources: PlanResource[]): PolicyDocumentRef[] {
  const out: PolicyDocumentRef[] = [];
  const add = (resource: PlanResource, input: string, kind: DocumentKind, doc: unknown) => {
    const statements = statementsOf(doc);
    if (statements) out.push({ resource, input, kind, statements });
  };
  for (const r of resources) {
    if (IDENTITY_POLICY_TYPES.has(r.type)) add(r, "policy", "identity", r.inputs.policy);
    else if (RESOURCE_POLICY_TYPES.has(r.type)) add(r, "policy", "resource", r.inputs.policy);
    else if (r.type === "aws:iam/role:Role") {
      add(r, "assumeRolePolicy", "trust", r.inputs.assumeRolePolicy);
      asList(r.inputs.inlinePolicies as unknown[]).forEach((p, i) =>
        add(r, `inlinePolicies[${i}]`, "identity", (p as { policy?: unknown })?.policy),
      );
    }
  }
  return out;
}
