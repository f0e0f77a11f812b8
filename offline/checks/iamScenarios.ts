/**
 * The IAM scenario table: for each principal the stack creates, the calls it must be able to make
 * and the calls that must be refused, evaluated over the policies the stack itself creates. What a
 * principal must do is read from the resources that need it (the model's S3 data source, the
 * serving image, the alarms' actions, the API's integration), never from the policy under test.
 */
import {
  Finding,
  PlanResource,
  Statement,
  asList,
  policyDocuments,
  statementsOf,
} from "./iamDocuments";
import { Decision, Policies, Request, evaluate } from "./iamEvaluate";

const CHECK = "iam-scenarios";
/** An account that is not the stack's, for the calls that must be refused. */
const OTHER_ACCOUNT = "210987654321";

export interface Scenario {
  /** The resource the finding names (the role, topic or key under test). */
  resource: string;
  /** What is being checked, for people. */
  description: string;
  request: Request;
  policies: Policies;
  expect: "allow" | "deny";
}

interface Scope {
  partition: string;
  region: string;
  accountId: string;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v !== null && typeof v === "object" ? (v as Obj) : {});

/** The stack's partition, region and account, from the ARNs its resources carry. */
function scopeOf(resources: PlanResource[]): Scope | undefined {
  const text = JSON.stringify(resources.map((r) => r.inputs));
  const m = /arn:(aws[a-z-]*):(?:sns|kms|logs|sagemaker):([a-z0-9-]+):(\d{12}):/.exec(text);
  return m ? { partition: m[1], region: m[2], accountId: m[3] } : undefined;
}

class Plan {
  constructor(
    readonly resources: PlanResource[],
    readonly scope: Scope,
  ) {}
  ofType(type: string) {
    return this.resources.filter((r) => r.type === type);
  }
  named(name: string) {
    return this.resources.find((r) => r.name === name);
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
    return policyDocuments(this.resources)
      .filter(
        (d) =>
          (d.kind === "identity" && d.resource.inputs.role === role.id) ||
          (d.resource === role && d.kind === "identity"),
      )
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

function roleCaller(plan: Plan, role: PlanResource): Request["principal"] {
  return { kind: "aws", id: plan.roleArn(role), accountId: plan.scope.accountId };
}

/** The ECR repository of an image URI (`<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>`). */
function ecrRepositoryArn(image: string): string | undefined {
  const m = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?\/([a-z0-9._/-]+)[:@]/.exec(
    image,
  );
  return m ? `arn:${m[3] ? "aws-cn" : "aws"}:ecr:${m[2]}:${m[1]}:repository/${m[4]}` : undefined;
}

/** The S3 objects a model reads: its uncompressed prefix, or its tarball. */
function modelData(
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

/** What each SageMaker model's execution role must and must not be able to do. */
function sagemakerScenarios(plan: Plan): Scenario[] {
  const { partition, region, accountId } = plan.scope;
  const out: Scenario[] = [];
  for (const model of plan.ofType("aws:sagemaker/model:Model")) {
    const role = plan.roleByArn(model.inputs.executionRoleArn);
    if (!role) continue;
    const component = model.name.replace(/-model$/, "");
    const endpointName = String(plan.named(`${component}-endpoint`)?.inputs.name ?? component);
    const caller = roleCaller(plan, role);
    const identity = plan.identityPolicies(role);
    const tls = { "aws:SecureTransport": true, "s3:TlsVersion": "1.3" };
    const add = (
      description: string,
      expect: Scenario["expect"],
      request: Omit<Request, "principal">,
      policies: Policies = {},
    ) =>
      out.push({
        resource: role.name,
        description: `${component}: ${description}`,
        request: { principal: caller, ...request },
        policies: { identity, ...policies },
        expect,
      });

    out.push(
      {
        resource: role.name,
        description: `${component}: SageMaker assumes the execution role for this account's endpoint`,
        request: {
          principal: { kind: "service", id: "sagemaker.amazonaws.com" },
          action: "sts:AssumeRole",
          resource: plan.roleArn(role),
          context: {
            "aws:SourceArn": `arn:${partition}:sagemaker:${region}:${accountId}:endpoint/${endpointName}`,
            "aws:SourceAccount": accountId,
          },
        },
        policies: { resource: plan.trustPolicy(role) },
        expect: "allow",
      },
      {
        resource: role.name,
        description: `${component}: SageMaker acting for another account cannot assume the role`,
        request: {
          principal: { kind: "service", id: "sagemaker.amazonaws.com" },
          action: "sts:AssumeRole",
          resource: plan.roleArn(role),
          context: {
            "aws:SourceArn": `arn:${partition}:sagemaker:${region}:${OTHER_ACCOUNT}:endpoint/${endpointName}`,
            "aws:SourceAccount": OTHER_ACCOUNT,
          },
        },
        policies: { resource: plan.trustPolicy(role) },
        expect: "deny",
      },
    );

    const data = modelData(model);
    if (data) {
      const bucketArn = `arn:${partition}:s3:::${data.bucket}`;
      const bucketPolicy = plan.bucketPolicy(data.bucket);
      const onBucket = { resource: bucketPolicy };
      add(
        "reads its model data",
        "allow",
        { action: "s3:GetObject", resource: `${bucketArn}/${data.key}`, context: tls },
        onBucket,
      );
      if (data.prefix) {
        add(
          "lists its model prefix",
          "allow",
          {
            action: "s3:ListBucket",
            resource: bucketArn,
            context: { ...tls, "s3:prefix": data.prefix },
          },
          onBucket,
        );
        add(
          "cannot list another prefix",
          "deny",
          {
            action: "s3:ListBucket",
            resource: bucketArn,
            context: { ...tls, "s3:prefix": "other-model/" },
          },
          onBucket,
        );
      }
      add(
        "cannot read another prefix",
        "deny",
        { action: "s3:GetObject", resource: `${bucketArn}/other-model/config.pbtxt`, context: tls },
        onBucket,
      );
      add("cannot read another bucket", "deny", {
        action: "s3:GetObject",
        resource: `arn:${partition}:s3:::another-bucket/${data.key}`,
        context: tls,
      });
      if (bucketPolicy)
        add(
          "cannot read its model data over plain HTTP",
          "deny",
          {
            action: "s3:GetObject",
            resource: `${bucketArn}/${data.key}`,
            context: { "aws:SecureTransport": false },
          },
          onBucket,
        );
      const keyArn = plan.bucketKeyArn(data.bucket);
      const keyPolicy = keyArn ? plan.keyPolicy(keyArn) : undefined;
      if (keyArn && keyPolicy)
        add(
          "decrypts its model data with the model store's key",
          "allow",
          {
            action: "kms:Decrypt",
            resource: keyArn.startsWith("arn:")
              ? keyArn
              : `arn:${partition}:kms:${region}:${accountId}:key/${keyArn}`,
            context: {
              "kms:ViaService": `s3.${region}.amazonaws.com`,
              "kms:CallerAccount": accountId,
            },
          },
          { keyPolicy },
        );
    }

    const image = String(obj(model.inputs.primaryContainer).image ?? "");
    const repository = ecrRepositoryArn(image);
    if (repository) {
      add("pulls its serving image", "allow", {
        action: "ecr:BatchGetImage",
        resource: repository,
      });
      add("logs in to ECR", "allow", { action: "ecr:GetAuthorizationToken", resource: "*" });
      add("cannot pull another repository's image", "deny", {
        action: "ecr:BatchGetImage",
        resource: repository.replace(/repository\/.*/, "repository/another"),
      });
    }
    const logGroup = `arn:${partition}:logs:${region}:${accountId}:log-group:/aws/sagemaker/Endpoints/${endpointName}`;
    add("writes its logs", "allow", {
      action: "logs:PutLogEvents",
      resource: `${logGroup}:log-stream:primary/i-1`,
    });
    add("cannot write another endpoint's logs", "deny", {
      action: "logs:PutLogEvents",
      resource: `arn:${partition}:logs:${region}:${accountId}:log-group:/aws/sagemaker/Endpoints/another:log-stream:x`,
    });

    const asyncOutput = obj(
      obj(plan.named(`${component}-config`)?.inputs.asyncInferenceConfig).outputConfig,
    );
    const outputPath = /^s3:\/\/([^/]+)\/(.+)$/.exec(String(asyncOutput.s3OutputPath ?? ""));
    if (outputPath) {
      const arn = `arn:${partition}:s3:::${outputPath[1]}`;
      const onBucket = { resource: plan.bucketPolicy(outputPath[1]) };
      add(
        "writes async results",
        "allow",
        { action: "s3:PutObject", resource: `${arn}/${outputPath[2]}result.out`, context: tls },
        onBucket,
      );
      add(
        "cannot write outside its async prefix",
        "deny",
        { action: "s3:PutObject", resource: `${arn}/model-repository/overwritten`, context: tls },
        onBucket,
      );
      for (const topic of Object.values(obj(asyncOutput.notificationConfig)))
        add("notifies async results", "allow", {
          action: "sns:Publish",
          resource: String(topic),
          context: tls,
        });
    }
  }
  return out;
}

/** CloudWatch publishes every alarm to the topics the alarms name, and nobody over plain HTTP. */
function alarmTopicScenarios(plan: Plan): Scenario[] {
  const { partition, region, accountId } = plan.scope;
  const out: Scenario[] = [];
  const seen = new Set<string>();
  for (const alarm of plan.ofType("aws:cloudwatch/metricAlarm:MetricAlarm")) {
    for (const topicArn of asList(alarm.inputs.alarmActions as string[]).map(String)) {
      if (!topicArn.startsWith(`arn:${partition}:sns:`) || seen.has(topicArn)) continue;
      seen.add(topicArn);
      const topicPolicy = plan
        .ofType("aws:sns/topicPolicy:TopicPolicy")
        .find((p) => p.inputs.arn === topicArn);
      if (!topicPolicy) continue;
      const statements = statementsOf(topicPolicy.inputs.policy) ?? [];
      const alarmArn = `arn:${partition}:cloudwatch:${region}:${accountId}:alarm:${alarm.id ?? alarm.name}`;
      const cloudwatch = { kind: "service" as const, id: "cloudwatch.amazonaws.com" };
      const context = {
        "aws:SourceAccount": accountId,
        "aws:SourceArn": alarmArn,
        "aws:SecureTransport": true,
      };
      out.push(
        {
          resource: topicPolicy.name,
          description: `CloudWatch publishes alarm ${alarm.name}`,
          expect: "allow",
          request: { principal: cloudwatch, action: "sns:Publish", resource: topicArn, context },
          policies: { resource: statements },
        },
        {
          resource: topicPolicy.name,
          description: "CloudWatch acting for another account's alarm cannot publish",
          expect: "deny",
          request: {
            principal: cloudwatch,
            action: "sns:Publish",
            resource: topicArn,
            context: {
              ...context,
              "aws:SourceAccount": OTHER_ACCOUNT,
              "aws:SourceArn": alarmArn.replace(accountId, OTHER_ACCOUNT),
            },
          },
          policies: { resource: statements },
        },
        {
          resource: topicPolicy.name,
          description: "nobody publishes over plain HTTP",
          expect: "deny",
          request: {
            principal: {
              kind: "aws",
              id: `arn:${partition}:iam::${accountId}:role/admin`,
              accountId,
            },
            action: "sns:Publish",
            resource: topicArn,
            context: { "aws:SecureTransport": false },
          },
          policies: {
            identity: [[{ Effect: "Allow", Action: "sns:*", Resource: "*" }]],
            resource: statements,
          },
        },
      );
      const topic = plan.ofType("aws:sns/topic:Topic").find((t) => t.id === topicArn);
      const keyId = topic?.inputs.kmsMasterKeyId;
      const keyPolicy = typeof keyId === "string" ? plan.keyPolicy(keyId) : undefined;
      if (typeof keyId === "string" && keyPolicy)
        out.push({
          resource: topicPolicy.name,
          description: `CloudWatch encrypts alarm ${alarm.name} with the topic's key`,
          expect: "allow",
          request: {
            principal: cloudwatch,
            action: "kms:GenerateDataKey",
            resource: `arn:${partition}:kms:${region}:${accountId}:key/${keyId}`,
            context,
          },
          policies: { keyPolicy },
        });
    }
  }
  return out;
}

/** API Gateway assumes the integration role and invokes its endpoint, and only that one. */
function apiScenarios(plan: Plan): Scenario[] {
  const { partition, region, accountId } = plan.scope;
  const out: Scenario[] = [];
  for (const integration of plan.ofType("aws:apigateway/integration:Integration")) {
    const role = plan.roleByArn(integration.inputs.credentials);
    const m = /runtime\.sagemaker:path\/endpoints\/([^/]+)\/invocations$/.exec(
      String(integration.inputs.uri ?? ""),
    );
    if (!role || !m) continue;
    const caller = roleCaller(plan, role);
    const endpointArn = (name: string) =>
      `arn:${partition}:sagemaker:${region}:${accountId}:endpoint/${name.toLowerCase()}`;
    out.push(
      // API Gateway sets no source context on AssumeRole for integration credentials.
      {
        resource: role.name,
        description: "API Gateway assumes the integration role",
        expect: "allow",
        request: {
          principal: { kind: "service", id: "apigateway.amazonaws.com" },
          action: "sts:AssumeRole",
          resource: plan.roleArn(role),
        },
        policies: { resource: plan.trustPolicy(role) },
      },
      {
        resource: role.name,
        description: `API Gateway invokes ${m[1]}`,
        expect: "allow",
        request: {
          principal: caller,
          action: "sagemaker:InvokeEndpoint",
          resource: endpointArn(m[1]),
        },
        policies: { identity: plan.identityPolicies(role) },
      },
      {
        resource: role.name,
        description: "API Gateway cannot invoke another endpoint",
        expect: "deny",
        request: {
          principal: caller,
          action: "sagemaker:InvokeEndpoint",
          resource: endpointArn("another"),
        },
        policies: { identity: plan.identityPolicies(role) },
      },
    );
  }
  return out;
}

/**
 * The EKS controllers do what their published policies are for, on what they own only: the
 * cluster autoscaler resizes the Auto Scaling groups tagged `k8s.io/cluster-autoscaler/<cluster>`
 * (the tag EKS managed node groups carry); the load balancer controller creates load balancers it
 * tags and deletes only those carrying its `elbv2.k8s.aws/cluster` tag. Each role is assumed by EKS
 * Pod Identity for its service account.
 */
function controllerScenarios(plan: Plan): Scenario[] {
  const { partition, region, accountId } = plan.scope;
  const out: Scenario[] = [];
  for (const association of plan.ofType("aws:eks/podIdentityAssociation:PodIdentityAssociation")) {
    const role = plan.roleByArn(association.inputs.roleArn);
    if (!role) continue;
    const account = String(association.inputs.serviceAccount ?? "");
    const cluster = String(association.inputs.clusterName ?? "");
    const caller = roleCaller(plan, role);
    const identity = plan.identityPolicies(role);
    const scenario = (
      description: string,
      expect: Scenario["expect"],
      request: Omit<Request, "principal">,
    ): Scenario => ({
      resource: role.name,
      description: `${account}: ${description}`,
      request: { principal: caller, ...request },
      policies: { identity },
      expect,
    });
    out.push({
      resource: role.name,
      description: `${account}: EKS Pod Identity assumes the role`,
      request: {
        principal: { kind: "service", id: "pods.eks.amazonaws.com" },
        action: "sts:AssumeRole",
        resource: plan.roleArn(role),
        context: {
          "aws:SourceAccount": accountId,
          "aws:SourceArn": `arn:${partition}:eks:${region}:${accountId}:cluster/${cluster}`,
        },
      },
      policies: { resource: plan.trustPolicy(role) },
      expect: "allow",
    });
    const asg = `arn:${partition}:autoscaling:${region}:${accountId}:autoScalingGroup:uuid:autoScalingGroupName/eks-gpu`;
    if (account === "cluster-autoscaler") {
      const owned = { [`aws:ResourceTag/k8s.io/cluster-autoscaler/${cluster}`]: "owned" };
      out.push(
        scenario("resizes its cluster's node groups", "allow", {
          action: "autoscaling:SetDesiredCapacity",
          resource: asg,
          context: owned,
        }),
        scenario("discovers Auto Scaling groups", "allow", {
          action: "autoscaling:DescribeAutoScalingGroups",
          resource: "*",
        }),
        scenario("cannot resize another cluster's groups", "deny", {
          action: "autoscaling:SetDesiredCapacity",
          resource: asg,
          context: { "aws:ResourceTag/k8s.io/cluster-autoscaler/another": "owned" },
        }),
      );
    }
    if (account === "aws-load-balancer-controller") {
      const lb = `arn:${partition}:elasticloadbalancing:${region}:${accountId}:loadbalancer/app/k8s-ingress/0123456789abcdef`;
      const tag = "elbv2.k8s.aws/cluster";
      out.push(
        scenario("creates a load balancer it tags", "allow", {
          action: "elasticloadbalancing:CreateLoadBalancer",
          resource: "*",
          context: { [`aws:RequestTag/${tag}`]: cluster },
        }),
        scenario("deletes a load balancer it owns", "allow", {
          action: "elasticloadbalancing:DeleteLoadBalancer",
          resource: lb,
          context: { [`aws:ResourceTag/${tag}`]: cluster },
        }),
        scenario("cannot delete a load balancer it does not own", "deny", {
          action: "elasticloadbalancing:DeleteLoadBalancer",
          resource: lb,
        }),
      );
    }
  }
  return out;
}

/** The scenario table of a plan. */
export function iamScenarios(resources: PlanResource[]): Scenario[] {
  const scope = scopeOf(resources);
  if (!scope) return [];
  const plan = new Plan(resources, scope);
  return [
    ...sagemakerScenarios(plan),
    ...alarmTopicScenarios(plan),
    ...apiScenarios(plan),
    ...controllerScenarios(plan),
  ];
}

/** The decision of one scenario, or the evaluator's reason it cannot decide. */
export function decide(s: Scenario): Decision | Error {
  try {
    return evaluate(s.request, s.policies);
  } catch (e) {
    return e as Error;
  }
}

/** Every scenario whose decision is not the expected one, one finding each. */
export function checkIamScenarios(resources: PlanResource[]): Finding[] {
  const findings: Finding[] = [];
  for (const s of iamScenarios(resources)) {
    const decision = decide(s);
    const allowed = decision === "allow";
    if (decision instanceof Error) {
      findings.push({
        check: CHECK,
        resource: s.resource,
        message: `${s.description}: ${decision.message}`,
      });
    } else if (allowed !== (s.expect === "allow")) {
      findings.push({
        check: CHECK,
        resource: s.resource,
        message: `${s.description}: expected ${s.expect}, the policies give ${decision} (${s.request.action} on ${s.request.resource})`,
      });
    }
  }
  return findings;
}
