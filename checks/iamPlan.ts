/**
 * What the IAM scenarios read of a plan: its account, region and partition, its roles and their
 * policies, bucket and key policies, and the data a model reads.
 */
import {
  PlanResource,
  PolicyDocumentRef,
  Statement,
  asList,
  policyDocuments,
  statementsOf,
} from "./iamDocuments";
import { Policies, Request } from "./iamEvaluate";

/** An account that is not the stack's, for the calls that must be refused. */
export const OTHER_ACCOUNT = "210987654321";

export interface Scenario {
  /** The resource the finding names (the role, topic or key under test). */
  resource: string;
  /** What is being checked, for people. */
  description: string;
  request: Request;
  policies: Policies;
  expect: "allow" | "deny";
}

/**
 * A row writer for one principal under test: each row it adds names the resource, prefixes the
 * description with the component, calls as `principal` and is decided over its identity policies
 * and `policies` (by default `defaults`: a bucket or key policy the rows share).
 */
export function rowsOf(
  out: Scenario[],
  o: {
    resource: string;
    component: string;
    principal: Request["principal"];
    identity: Policies["identity"];
    defaults?: Policies;
  },
) {
  return (
    description: string,
    expect: Scenario["expect"],
    request: Omit<Request, "principal">,
    policies: Policies = o.defaults ?? {},
  ) =>
    out.push({
      resource: o.resource,
      description: `${o.component}: ${description}`,
      request: { principal: o.principal, ...request },
      policies: { identity: o.identity, ...policies },
      expect,
    });
}

/** The request context of an S3 call over HTTPS with TLS 1.3 (what bucket policies condition on). */
export const TLS_CONTEXT = { "aws:SecureTransport": true, "s3:TlsVersion": "1.3" } as const;

/** rowsOf for a role of the plan: it calls as the role, with the role's identity policies. */
export function roleRows(
  out: Scenario[],
  plan: Plan,
  role: PlanResource,
  component: string,
  defaults?: Policies,
) {
  return rowsOf(out, {
    resource: role.name,
    component,
    principal: roleCaller(plan, role),
    identity: plan.identityPolicies(role),
    defaults,
  });
}

export interface Scope {
  partition: string;
  region: string;
  accountId: string;
}

export type Obj = Record<string, unknown>;
export const obj = (v: unknown): Obj => (v !== null && typeof v === "object" ? (v as Obj) : {});

/** The stack's partition, region and account, from the ARNs its resources carry. */
export function scopeOf(resources: PlanResource[]): Scope | undefined {
  // The first such ARN in registration order; most plans have one in their first resources.
  for (const r of resources) {
    const m = /arn:(aws[a-z-]*):(?:sns|kms|logs|sagemaker):([a-z0-9-]+):(\d{12}):/.exec(
      JSON.stringify(r.inputs),
    );
    if (m) return { partition: m[1], region: m[2], accountId: m[3] };
  }
  return undefined;
}

/**
 * The plan as the scenarios query it. Lookups go through indexes built on first use, so a
 * scenario table costs time in proportion to the plan, not to its square.
 */
export class Plan {
  private byType?: Map<string, PlanResource[]>;
  private byName?: Map<string, PlanResource>;
  private identityDocuments?: PolicyDocumentRef[];

  constructor(
    readonly resources: PlanResource[],
    readonly scope: Scope,
  ) {}
  /** The resources of a type, in registration order. */
  ofType(type: string): PlanResource[] {
    if (!this.byType) {
      this.byType = new Map();
      for (const r of this.resources) {
        const list = this.byType.get(r.type);
        if (list) list.push(r);
        else this.byType.set(r.type, [r]);
      }
    }
    return this.byType.get(type) ?? [];
  }
  /** The first resource with the name. */
  named(name: string): PlanResource | undefined {
    if (!this.byName) {
      this.byName = new Map();
      for (const r of this.resources) if (!this.byName.has(r.name)) this.byName.set(r.name, r);
    }
    return this.byName.get(name);
  }
  roleByArn(arn: unknown): PlanResource | undefined {
    return this.ofType("aws:iam/role:Role").find(
      (r) => typeof arn === "string" && r.id !== undefined && arn.endsWith(`/${r.id}`),
    );
  }
  roleArn(role: PlanResource): string {
    return `arn:${this.scope.partition}:iam::${this.scope.accountId}:role/${role.id}`;
  }
  identityPolicies(role: PlanResource): Statement[][] {
    this.identityDocuments ??= policyDocuments(this.resources).filter((d) => d.kind === "identity");
    return this.identityDocuments
      .filter((d) => d.resource.inputs.role === role.id || d.resource === role)
      .map((d) => d.statements);
  }
  trustPolicy(role: PlanResource): Statement[] {
    return statementsOf(role.inputs.assumeRolePolicy) ?? [];
  }
  bucketPolicy(bucket: string): Statement[] | undefined {
    const p = this.ofType("aws:s3/bucketPolicy:BucketPolicy").find(
      (r) => r.inputs.bucket === bucket,
    );
    return p ? statementsOf(p.inputs.policy) : undefined;
  }
  bucketKeyArn(bucket: string): string | undefined {
    const sse = this.ofType(
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    ).find((r) => r.inputs.bucket === bucket);
    const rule = asList(sse?.inputs.rules as unknown[])[0];
    const key = obj(obj(rule).applyServerSideEncryptionByDefault).kmsMasterKeyId;
    return typeof key === "string" ? key : undefined;
  }
  keyPolicy(keyArnOrId: string): Statement[] | undefined {
    const key = this.ofType("aws:kms/key:Key").find(
      (k) => k.id !== undefined && (keyArnOrId === k.id || keyArnOrId.endsWith(`key/${k.id}`)),
    );
    if (!key) return undefined;
    // A key created without a policy gets the default one: the account administers it and IAM
    // policies grant its use (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html).
    if (key.inputs.policy === undefined) {
      const root = `arn:${this.scope.partition}:iam::${this.scope.accountId}:root`;
      return [{ Effect: "Allow", Principal: { AWS: root }, Action: "kms:*", Resource: "*" }];
    }
    return statementsOf(key.inputs.policy);
  }
}

export function roleCaller(plan: Plan, role: PlanResource): Request["principal"] {
  return { kind: "aws", id: plan.roleArn(role), accountId: plan.scope.accountId };
}

/** The ECR repository of an image URI (`<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>`). */
export function ecrRepositoryArn(image: string): string | undefined {
  const m = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?\/([a-z0-9._/-]+)[:@]/.exec(
    image,
  );
  return m ? `arn:${m[3] ? "aws-cn" : "aws"}:ecr:${m[2]}:${m[1]}:repository/${m[4]}` : undefined;
}

/** The S3 objects a model reads: its uncompressed prefix, or its tarball. */
export function modelData(
  model: PlanResource,
): { bucket: string; key: string; prefix?: string } | undefined {
  const container = obj(model.inputs.primaryContainer);
  const source = obj(asList(obj(container.modelDataSource).s3DataSources as unknown[])[0]);
  const uri = String(source.s3Uri ?? container.modelDataUrl ?? "");
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!m) return undefined;
  const [, bucket, path] = m;
  return path.endsWith("/")
    ? { bucket, key: `${path}config.pbtxt`, prefix: path }
    : { bucket, key: path };
}
