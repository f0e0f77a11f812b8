/**
 * Reading resource properties the way policies need them: the instance types a resource runs,
 * its tags, its policy documents. Properties are the resource's inputs as the engine passes them.
 * And `validateResourceOfTypes`, for a policy that concerns a few resource types.
 */
import { NODE_POOL_TYPE, nodePoolInstanceTypes } from "../catalog/karpenter";
import { ResourceValidation } from "@pulumi/policy";
import { variantInstanceTypes } from "../catalog/cost";

export type Props = Record<string, unknown>;

export function obj(v: unknown): Props {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Props) : {};
}

export function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
}

/** A resource validation that names the resource types it concerns (`validateResourceOfTypes`). */
export type ValidationOfTypes = ResourceValidation & {
  /** The resource types it validates; any other resource is not its concern. */
  readonly appliesToTypes: ReadonlySet<string>;
  /** What it says of another resource through `notApplicable`. */
  readonly otherTypesReason: string;
};

/**
 * A resource validation for these resource types only: a resource of another type is not its
 * concern, and it says so with `args.notApplicable(reason)`, as the Pulumi engine expects of a
 * policy (and as CrossGuard's own `validateResourceOfType` does for one type). It also names its
 * types, so the offline evaluator records other resources as not applicable without calling it,
 * as it does for a `validateResourceOfType` validation (offline/policyEvaluator.ts).
 */
export function validateResourceOfTypes(
  types: Iterable<string>,
  reason: string,
  validate: ResourceValidation,
): ValidationOfTypes {
  const appliesToTypes: ReadonlySet<string> = new Set(types);
  const validation: ResourceValidation = (args, reportViolation) =>
    appliesToTypes.has(args.type) ? validate(args, reportViolation) : args.notApplicable(reason);
  return Object.assign(validation, { appliesToTypes, otherTypesReason: reason });
}

/** The resource types `instanceTypesOf` reads: those that run instances. */
export const INSTANCE_RESOURCE_TYPES = [
  "aws:eks/nodeGroup:NodeGroup",
  "aws:ec2/launchTemplate:LaunchTemplate",
  "aws:ec2/instance:Instance",
  "aws:autoscaling/group:Group",
  "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
  "aws-native:sagemaker:EndpointConfig",
  "eks:index:Cluster",
  NODE_POOL_TYPE,
];

/** The resource types `policyStatements` reads: those that carry IAM policy documents. */
export const POLICY_DOCUMENT_TYPES = [
  "aws:iam/rolePolicy:RolePolicy",
  "aws:iam/policy:Policy",
  "aws:iam/role:Role",
];

/**
 * The EC2 instance types a resource runs (SageMaker `ml.` types without the prefix), or
 * undefined when the resource runs no instances.
 */
export function instanceTypesOf(type: string, props: Props): string[] | undefined {
  switch (type) {
    case "aws:eks/nodeGroup:NodeGroup":
      return list(props.instanceTypes).map(String);
    case "aws:ec2/launchTemplate:LaunchTemplate":
    case "aws:ec2/instance:Instance":
      return props.instanceType === undefined ? [] : [String(props.instanceType)];
    case "aws:autoscaling/group:Group":
      return list(obj(obj(props.mixedInstancesPolicy).launchTemplate).overrides)
        .map((o) => obj(o).instanceType)
        .filter((t): t is string => typeof t === "string");
    case "aws:sagemaker/endpointConfiguration:EndpointConfiguration":
      return list(props.productionVariants)
        .map((v) => obj(v).instanceType)
        .filter((t): t is string => typeof t === "string")
        .map((t) => t.replace(/^ml\./, ""));
    case "aws-native:sagemaker:EndpointConfig":
      return list(props.productionVariants)
        .flatMap((v) => variantInstanceTypes(obj(v)))
        .map((t) => t.replace(/^ml\./, ""));
    case NODE_POOL_TYPE:
      return nodePoolInstanceTypes(props as Record<string, unknown>);
    case "eks:index:Cluster":
      return props.skipDefaultNodeGroup === true ? [] : [String(props.instanceType ?? "t3.medium")];
    default:
      return undefined;
  }
}

/** The tags of a resource as a plain map (lists of {key, value} as Auto Scaling groups use). */
export function tagsOf(props: Props): Record<string, string> {
  if (Array.isArray(props.tags)) {
    return Object.fromEntries(props.tags.map((t) => [String(obj(t).key), String(obj(t).value)]));
  }
  return Object.fromEntries(Object.entries(obj(props.tags)).map(([k, v]) => [k, String(v)]));
}

export interface Statement {
  Effect?: string;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
}

/** The statements of the IAM policy documents a resource carries (JSON strings or objects). */
export function policyStatements(type: string, props: Props): Statement[] | undefined {
  const docs: unknown[] = [];
  if (type === "aws:iam/rolePolicy:RolePolicy" || type === "aws:iam/policy:Policy")
    docs.push(props.policy);
  else if (type === "aws:iam/role:Role")
    docs.push(...list(props.inlinePolicies).map((p) => obj(p).policy));
  else return undefined;
  return docs.flatMap((d) => {
    const doc = typeof d === "string" ? (JSON.parse(d) as unknown) : d;
    return list(obj(doc).Statement).map((s) => obj(s) as Statement);
  });
}
