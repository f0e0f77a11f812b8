/**
 * Runs CrossGuard policies in-process over captured resources, as the Pulumi engine would: each
 * resource policy sees every resource's type, inputs, URN, name and options; stack policies see
 * the whole stack; configuration is the policy's schema defaults overlaid with the pack config;
 * `notApplicable` and the type fast-path are honoured; `disabled` policies do not run.
 */
import * as fs from "fs";
import * as path from "path";
import {
  EnforcementLevel,
  Policies,
  PolicyPackConfig,
  PolicyResource,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationPolicy,
} from "@pulumi/policy";
import type { ValidationOfTypes } from "../policy/resources";
import { UsageError } from "./usageError";
import { CapturedResource } from "./engine";

/** A policy verdict: a violation a policy reported, at the level it is enforced. */
export interface PolicyVerdict {
  policy: string;
  enforcement: "mandatory" | "advisory" | "remediate";
  resource: string;
  message: string;
}

/**
 * What a policy throws (through `args.notApplicable`) to say a resource is not its concern.
 * Policies do so for most resources they see and the evaluator catches it right away, so it is a
 * plain signal, not an Error: no stack trace or message to build on each of thousands of calls.
 */
class NotApplicable {
  constructor(public readonly reason: string | undefined) {}
}
function notApplicable(reason?: string): never {
  throw new NotApplicable(reason);
}

export interface NotApplicableRecord {
  policy: string;
  resource: string;
  reason: string;
}

export interface Evaluation {
  /** Policies that ran (not disabled). */
  evaluated: number;
  verdicts: PolicyVerdict[];
  notApplicable: NotApplicableRecord[];
}

export interface EvaluateOptions {
  project: string;
  stack: string;
  /** The pack configuration (`--policy-pack-config`): per policy, a level or `{enforcementLevel, ...}`. */
  config?: PolicyPackConfig;
  stackTags?: ReadonlyMap<string, string>;
}

type PolicyConfigValue =
  EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>);

function enforcementOf(
  policy: { enforcementLevel?: EnforcementLevel },
  value: PolicyConfigValue | undefined,
): EnforcementLevel {
  const configured = typeof value === "string" ? value : value?.enforcementLevel;
  return configured ?? policy.enforcementLevel ?? "advisory";
}

/** Schema defaults overlaid with the configured values (what the CLI hands a policy). */
function configOf(
  policy: ResourceValidationPolicy | StackValidationPolicy,
  value: PolicyConfigValue | undefined,
) {
  const defaults = Object.fromEntries(
    Object.entries(policy.configSchema?.properties ?? {})
      .filter(([, schema]) => (schema as { default?: unknown }).default !== undefined)
      .map(([k, schema]) => [k, (schema as { default?: unknown }).default]),
  );
  const configured =
    typeof value === "object"
      ? Object.fromEntries(Object.entries(value).filter(([k]) => k !== "enforcementLevel"))
      : {};
  return { ...defaults, ...configured };
}

function typeOf(cls: unknown): string | undefined {
  return (cls as { __pulumiType?: string } | undefined)?.__pulumiType;
}

/**
 * The resource types a validation concerns, when it names them, and what it says of the others:
 * CrossGuard's `validateResourceOfType` names one (`__pulumiType`; @pulumi/policy policy.js,
 * `notApplicableType`, gives the reason), this package's `validateResourceOfTypes` several. The
 * evaluator records other resources as not applicable without calling it, as the Pulumi engine
 * does for one type (@pulumi/policy server.js, `getPulumiType(p.validateResource)`).
 */
function typesOf(validation: unknown): { types: ReadonlySet<string>; reason: string } | undefined {
  const single = typeOf(validation);
  if (single !== undefined)
    return {
      types: new Set([single]),
      reason: `Policy only applies to resources of type '${single}'`,
    };
  const named = validation as Partial<ValidationOfTypes>;
  return named.appliesToTypes && named.otherTypesReason !== undefined
    ? { types: named.appliesToTypes, reason: named.otherTypesReason }
    : undefined;
}

function urnOf(r: CapturedResource, options: EvaluateOptions): string {
  return `urn:pulumi:${options.stack}::${options.project}::${r.type}::${r.name}`;
}

function resourceOptions(r: CapturedResource, parentUrn: string | undefined) {
  return {
    protect: r.protect,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
    parent: parentUrn,
  };
}

/** A resource as a resource policy sees it, less the policy's own config and signal. */
type ResourceView = Omit<ResourceValidationArgs, "getConfig" | "notApplicable">;

/** Runs every policy over the resources and returns the violations and not-applicable records. */
export async function evaluatePolicies(
  policies: Policies,
  resources: CapturedResource[],
  options: EvaluateOptions,
): Promise<Evaluation> {
  const verdicts: PolicyVerdict[] = [];
  const notApplicableRecords: NotApplicableRecord[] = [];
  let evaluated = 0;
  const stackTags = options.stackTags ?? new Map<string, string>();
  // Each resource's URN and its parent's, computed once for every policy.
  const urns = new Map(resources.map((r) => [r, urnOf(r, options)]));
  const componentUrns = new Map(
    resources.filter((r) => !r.custom).map((r) => [r.name, urns.get(r)!]),
  );
  const parentUrn = (r: CapturedResource) =>
    r.parent === null ? undefined : componentUrns.get(r.parent);
  // What resource policies see of a resource, built on first use and shared by every policy.
  const views = new Map<CapturedResource, ResourceView>();
  const resourceView = (r: CapturedResource): ResourceView => {
    let view = views.get(r);
    if (!view) {
      view = {
        type: r.type,
        props: r.inputs,
        urn: urns.get(r)!,
        name: r.name,
        opts: resourceOptions(r, parentUrn(r)),
        stackTags,
        isType: (cls) => typeOf(cls) === r.type,
        asType: ((cls: unknown) =>
          typeOf(cls) === r.type ? r.inputs : undefined) as ResourceValidationArgs["asType"],
      };
      views.set(r, view);
    }
    return view;
  };
  // The same for stack policies: the whole stack, built once.
  let stack: PolicyResource[] | undefined;
  let names: Map<string, string> | undefined;
  for (const policy of policies) {
    const value = options.config?.[policy.name] as PolicyConfigValue | undefined;
    let enforcement = enforcementOf(policy, value);
    if (enforcement === "disabled") continue;
    evaluated++;
    if (enforcement === "remediate") enforcement = "mandatory";
    const level = enforcement as PolicyVerdict["enforcement"];
    const config = configOf(policy, value);
    const getConfig = <T extends object>() => config as T;

    if ("validateStack" in policy) {
      const policyResources = (stack ??= stackResources(resources, urns));
      const nameOf = (urn: string) => {
        // The first resource with the URN, as a search from the start would find it.
        names ??= new Map([...policyResources].reverse().map((p) => [p.urn, p.name]));
        return names.get(urn);
      };
      const report: ReportViolation = (message, urn) => {
        const resource = urn ? (nameOf(urn) ?? urn) : "stack";
        verdicts.push({ policy: policy.name, enforcement: level, resource, message });
      };
      try {
        await Promise.resolve(
          policy.validateStack(
            { resources: policyResources, stackTags, getConfig, notApplicable },
            report,
          ),
        );
      } catch (e) {
        if (!(e instanceof NotApplicable)) throw e;
        notApplicableRecords.push({
          policy: policy.name,
          resource: "stack",
          reason: e.reason ?? "",
        });
      }
      continue;
    }

    const validations = ([] as unknown[]).concat(
      (policy as ResourceValidationPolicy).validateResource ?? [],
    ) as ((a: ResourceValidationArgs, r: ReportViolation) => Promise<void> | void)[];
    const only = validations.length === 1 ? typesOf(validations[0]) : undefined;
    for (const r of resources) {
      if (only && !only.types.has(r.type)) {
        notApplicableRecords.push({ policy: policy.name, resource: r.name, reason: only.reason });
        continue;
      }
      const args: ResourceValidationArgs = { ...resourceView(r), getConfig, notApplicable };
      const report: ReportViolation = (message) =>
        verdicts.push({ policy: policy.name, enforcement: level, resource: r.name, message });
      for (const validate of validations) {
        try {
          // Most validations are synchronous: only a promise is awaited.
          const pending = validate(args, report);
          if (pending) await pending;
        } catch (e) {
          if (!(e instanceof NotApplicable))
            throw new Error(`policy ${policy.name} failed on ${r.name}: ${(e as Error).message}`, {
              cause: e,
            });
          notApplicableRecords.push({
            policy: policy.name,
            resource: r.name,
            reason: e.reason ?? "",
          });
        }
      }
    }
  }
  return { evaluated, verdicts, notApplicable: notApplicableRecords };
}

/** The stack as stack policies see it: each resource with its id among its properties and its parent linked. */
function stackResources(
  resources: CapturedResource[],
  urns: Map<CapturedResource, string>,
): PolicyResource[] {
  const out = new Map<string, PolicyResource>();
  const list = resources.map((r) => {
    const props = r.id === undefined ? { ...r.inputs } : { id: r.id, ...r.inputs };
    const p: PolicyResource = {
      type: r.type,
      props,
      urn: urns.get(r)!,
      name: r.name,
      opts: resourceOptions(r, undefined),
      dependencies: [],
      propertyDependencies: {},
      isType: (cls) => typeOf(cls) === r.type,
      asType: ((cls: unknown) =>
        typeOf(cls) === r.type ? props : undefined) as PolicyResource["asType"],
    };
    if (!r.custom) out.set(r.name, p);
    return { r, p };
  });
  for (const { r, p } of list) {
    if (r.parent !== null && out.has(r.parent)) {
      p.parent = out.get(r.parent);
      p.opts.parent = p.parent?.urn;
    }
  }
  return list.map(({ p }) => p);
}

/** The pack configuration of an environment: policy/config/<environment>.json. */
export function readPolicyConfig(environment: string, root: string): PolicyPackConfig {
  const file = path.join(root, "policy", "config", `${environment}.json`);
  if (!fs.existsSync(file)) return {};
  return JSON.parse(fs.readFileSync(file, "utf8")) as PolicyPackConfig;
}

/** A policy pack configuration file (JSON: policy name to enforcement level or settings). */
export function readPolicyConfigFile(file: string | undefined): PolicyPackConfig | undefined {
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    throw new UsageError(`--policy-config ${file} cannot be read`);
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
      throw new Error("it must be a JSON object of policy names");
    return parsed as PolicyPackConfig;
  } catch (e) {
    throw new UsageError(
      `--policy-config ${file} is not a pack configuration: ${(e as Error).message}`,
    );
  }
}
