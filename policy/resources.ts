/**
 * Reading resource properties the way policies need them: the instance types a resource runs,
 * its tags, its policy documents. Properties are the resource's inputs as the engine passes them.
 */

export type Props = Record<string, unknown>;

export function obj(v: unknown): Props {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Props) : {};
}

export function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
}

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
