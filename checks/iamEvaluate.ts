/**
 * A small IAM policy evaluator for the scenarios: one account, identity policies, a resource
 * policy, and a KMS key policy. It follows AWS's evaluation logic
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
 * an explicit Deny in any applicable policy wins; otherwise a request within one account is
 * allowed when an identity policy or the resource policy allows it, except that a KMS key is
 * usable only when its key policy allows the principal, directly or by delegating to the
 * account's IAM policies (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html).
 * It supports what our policies use: Action/NotAction, Resource/NotResource and Principal with
 * wildcards, and the condition operators below; any other operator is an error, never a guess.
 */
import { Statement, asList } from "./iamDocuments";

export interface Principal {
  /** `service` for an AWS service principal, `aws` for a role or user of an account. */
  kind: "service" | "aws";
  /** The service principal (`cloudwatch.amazonaws.com`) or the role ARN. */
  id: string;
  /** The principal's account (roles and users). */
  accountId?: string;
}

export interface Request {
  principal: Principal;
  action: string;
  resource: string;
  /** Condition context keys (case-insensitive names) and their values. */
  context?: Record<string, string | string[] | boolean>;
}

export interface Policies {
  /** The principal's identity policies (none for service principals). */
  identity?: Statement[][];
  /** The resource's policy (a topic, bucket or trust policy), when it has one. */
  resource?: Statement[];
  /** The resource is a KMS key, and this is its key policy. */
  keyPolicy?: Statement[];
}

export type Decision = "allow" | "explicit-deny" | "implicit-deny";

/** Compiled wildcard patterns: a plan matches the same few hundred patterns many times. */
const compiled = new Map<string, RegExp>();

function wildcard(pattern: string, value: string, ignoreCase: boolean): boolean {
  if (!pattern.includes("*") && !pattern.includes("?"))
    return ignoreCase ? pattern.toLowerCase() === value.toLowerCase() : pattern === value;
  const key = `${ignoreCase ? "i" : "s"}${pattern}`;
  let re = compiled.get(key);
  if (!re) {
    const body = pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".");
    re = new RegExp(`^${body}$`, ignoreCase ? "is" : "s");
    if (compiled.size >= 10_000) compiled.clear();
    compiled.set(key, re);
  }
  return re.test(value);
}

function matchesAny(patterns: unknown, value: string, ignoreCase: boolean): boolean {
  return asList(patterns as string | string[]).some((p) => wildcard(String(p), value, ignoreCase));
}

function principalMatches(spec: unknown, p: Principal): boolean {
  if (spec === "*") return true;
  const map = (spec ?? {}) as Record<string, unknown>;
  if (p.kind === "service") return asList(map.Service as string[]).includes(p.id);
  return asList(map.AWS as string[]).some(
    (a) =>
      a === "*" ||
      a === p.id ||
      a === p.accountId ||
      (p.accountId !== undefined && a === `arn:aws:iam::${p.accountId}:root`),
  );
}

/** A principal that names only account roots: the key policy delegates to IAM policies. */
function delegatesToAccount(spec: unknown): boolean {
  if (spec === null || typeof spec !== "object") return false;
  const map = spec as Record<string, unknown>;
  const aws = asList(map.AWS as string[]);
  return map.Service === undefined && aws.length > 0 && aws.every((a) => /:root$|^\d{12}$/.test(a));
}

type Op = (values: string[], expected: string[]) => boolean;
const OPERATORS: Record<string, { test: Op; negated?: boolean }> = {
  StringEquals: { test: (v, e) => v.some((x) => e.includes(x)) },
  StringNotEquals: { test: (v, e) => v.every((x) => !e.includes(x)), negated: true },
  StringEqualsIgnoreCase: {
    test: (v, e) => v.some((x) => e.some((y) => y.toLowerCase() === x.toLowerCase())),
  },
  StringLike: { test: (v, e) => v.some((x) => e.some((y) => wildcard(y, x, false))) },
  StringNotLike: {
    test: (v, e) => v.every((x) => !e.some((y) => wildcard(y, x, false))),
    negated: true,
  },
  ArnEquals: { test: (v, e) => v.some((x) => e.includes(x)) },
  ArnLike: { test: (v, e) => v.some((x) => e.some((y) => wildcard(y, x, false))) },
  ArnNotLike: {
    test: (v, e) => v.every((x) => !e.some((y) => wildcard(y, x, false))),
    negated: true,
  },
  NumericEquals: { test: (v, e) => v.some((x) => e.some((y) => Number(x) === Number(y))) },
  NumericNotEquals: {
    test: (v, e) => v.every((x) => e.every((y) => Number(x) !== Number(y))),
    negated: true,
  },
  NumericLessThan: { test: (v, e) => v.some((x) => e.some((y) => Number(x) < Number(y))) },
  NumericLessThanEquals: { test: (v, e) => v.some((x) => e.some((y) => Number(x) <= Number(y))) },
  NumericGreaterThan: { test: (v, e) => v.some((x) => e.some((y) => Number(x) > Number(y))) },
  NumericGreaterThanEquals: {
    test: (v, e) => v.some((x) => e.some((y) => Number(x) >= Number(y))),
  },
  Bool: { test: (v, e) => v.some((x) => e.map((y) => y.toLowerCase()).includes(x.toLowerCase())) },
};

/** Whether a statement's conditions hold for the request's context. */
export function conditionsHold(
  condition: Statement["Condition"],
  context: Request["context"] = {},
): boolean {
  const lower = Object.fromEntries(Object.entries(context).map(([k, v]) => [k.toLowerCase(), v]));
  for (const [rawOperator, keys] of Object.entries(condition ?? {})) {
    const ifExists = rawOperator.endsWith("IfExists");
    const operator = rawOperator.replace(/IfExists$/, "");
    if (rawOperator === "Null") {
      for (const [key, expected] of Object.entries(keys)) {
        const absent = lower[key.toLowerCase()] === undefined;
        if (String(expected).toLowerCase() !== String(absent)) return false;
      }
      continue;
    }
    const op = OPERATORS[operator];
    if (!op) throw new Error(`condition operator ${rawOperator} is not supported by the evaluator`);
    for (const [key, expected] of Object.entries(keys)) {
      const value = lower[key.toLowerCase()];
      if (value === undefined) {
        // A missing key satisfies only IfExists and the negated operators.
        if (ifExists || op.negated) continue;
        return false;
      }
      const values = asList(value as string | string[]).map(String);
      if (!op.test(values, asList(expected as string | string[]).map(String))) return false;
    }
  }
  return true;
}

/** Whether one statement applies to the request (ignoring its Effect). */
export function statementApplies(s: Statement, r: Request, withPrincipal: boolean): boolean {
  if (s.Action !== undefined && !matchesAny(s.Action, r.action, true)) return false;
  if (s.NotAction !== undefined && matchesAny(s.NotAction, r.action, true)) return false;
  if (s.Resource !== undefined && !matchesAny(s.Resource, r.resource, false)) return false;
  if (s.NotResource !== undefined && matchesAny(s.NotResource, r.resource, false)) return false;
  if (withPrincipal) {
    if (s.Principal !== undefined && !principalMatches(s.Principal, r.principal)) return false;
    if (s.NotPrincipal !== undefined && principalMatches(s.NotPrincipal, r.principal)) return false;
  }
  return conditionsHold(s.Condition, r.context);
}

function effects(statements: Statement[], r: Request, withPrincipal: boolean) {
  const applying = statements.filter((s) => statementApplies(s, r, withPrincipal));
  return {
    allow: applying.some((s) => s.Effect === "Allow"),
    deny: applying.some((s) => s.Effect === "Deny"),
  };
}

/** The decision for a request, given the policies that apply to it. */
export function evaluate(r: Request, p: Policies): Decision {
  const identity = effects((p.identity ?? []).flat(), r, false);
  const resource = effects(p.resource ?? [], r, true);
  const key = effects(p.keyPolicy ?? [], r, true);
  if (identity.deny || resource.deny || key.deny) return "explicit-deny";
  if (p.keyPolicy !== undefined) {
    // The key policy decides; it may delegate to IAM by allowing the account root.
    const delegates =
      r.principal.accountId !== undefined &&
      effects(
        p.keyPolicy,
        {
          ...r,
          principal: {
            kind: "aws",
            id: `arn:aws:iam::${r.principal.accountId}:root`,
            accountId: r.principal.accountId,
          },
        },
        true,
      ).allow;
    const directly = p.keyPolicy.some(
      (s) =>
        s.Effect === "Allow" && !delegatesToAccount(s.Principal) && statementApplies(s, r, true),
    );
    return directly || (delegates && identity.allow) ? "allow" : "implicit-deny";
  }
  return identity.allow || resource.allow ? "allow" : "implicit-deny";
}
