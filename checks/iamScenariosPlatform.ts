/** The IAM scenario rows of the alarm topics, the API front door and the EKS controllers. */
import { asList, statementsOf } from "./iamDocuments";
import { Request } from "./iamEvaluate";
import { OTHER_ACCOUNT, Plan, Scenario, obj, roleCaller } from "./iamPlan";
import { KARPENTER_SERVICE_ACCOUNT, NODE_CLASS_TYPE, NODE_POOL_TYPE } from "../catalog/karpenter";

/** CloudWatch publishes every alarm to the topics the alarms name, and nobody over plain HTTP. */
export function alarmTopicScenarios(plan: Plan): Scenario[] {
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
export function apiScenarios(plan: Plan): Scenario[] {
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
export function controllerScenarios(plan: Plan): Scenario[] {
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
    if (account === "keda-operator") {
      // KEDA's Prometheus scaler queries the stack's AMP workspace (components/eks/metricsPipeline.ts).
      const workspace = (id: string) =>
        `arn:${partition}:aps:${region}:${accountId}:workspace/${id}`;
      for (const w of plan.ofType("aws:amp/workspace:Workspace")) {
        const arn = workspace(String(w.id ?? w.name));
        out.push(
          scenario("queries the stack's Prometheus workspace", "allow", {
            action: "aps:QueryMetrics",
            resource: arn,
          }),
          scenario("cannot write metrics into it", "deny", {
            action: "aps:RemoteWrite",
            resource: arn,
          }),
          scenario("cannot query another workspace", "deny", {
            action: "aps:QueryMetrics",
            resource: workspace("ws-another"),
          }),
        );
      }
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
      // A TargetGroupBinding to a target group of the stack (TritonLoadBalancer): the controller
      // registers the pods in it and reads its health, and may not delete it (it does not own it).
      for (const binding of plan.ofType("kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding")) {
        const targetGroup = String(obj(binding.inputs.spec).targetGroupARN ?? "");
        if (!targetGroup) continue;
        out.push(
          scenario(`registers pods in the target group of ${binding.name}`, "allow", {
            action: "elasticloadbalancing:RegisterTargets",
            resource: targetGroup,
          }),
          scenario(`reads the health of ${binding.name}'s targets`, "allow", {
            action: "elasticloadbalancing:DescribeTargetHealth",
            resource: "*",
          }),
          scenario(`cannot delete the target group of ${binding.name}`, "deny", {
            action: "elasticloadbalancing:DeleteTargetGroup",
            resource: targetGroup,
          }),
        );
      }
    }
    if (account === KARPENTER_SERVICE_ACCOUNT)
      out.push(...karpenterScenarios(plan, cluster, scenario));
  }
  return out;
}

/**
 * Karpenter's controller launches its pools' nodes as the node role its node classes name,
 * terminates only the instances it tagged for this cluster, and reads the queue its release names;
 * EventBridge may fill that queue, nobody over plain HTTP. What it must do is read from the node
 * classes, the release and the rules' targets, not from the policy under test.
 */
function karpenterScenarios(
  plan: Plan,
  cluster: string,
  scenario: (
    description: string,
    expect: Scenario["expect"],
    request: Omit<Request, "principal">,
  ) => Scenario,
): Scenario[] {
  const { partition, region, accountId } = plan.scope;
  const out: Scenario[] = [];
  const ec2 = (resource: string) => `arn:${partition}:ec2:${region}:${accountId}:${resource}`;
  const instance = ec2("instance/i-0123456789abcdef0");
  const tagged = (pool: string) => ({
    [`aws:RequestTag/kubernetes.io/cluster/${cluster}`]: "owned",
    "aws:RequestTag/eks:eks-cluster-name": cluster,
    "aws:RequestTag/karpenter.sh/nodepool": pool,
  });
  for (const pool of plan.ofType(NODE_POOL_TYPE)) {
    const name = String(obj(pool.inputs.metadata).name ?? pool.name);
    out.push(
      scenario(`launches a node of pool ${name}`, "allow", {
        action: "ec2:CreateFleet",
        resource: instance,
        context: tagged(name),
      }),
      scenario(`terminates a node of pool ${name}`, "allow", {
        action: "ec2:TerminateInstances",
        resource: instance,
        context: {
          [`aws:ResourceTag/kubernetes.io/cluster/${cluster}`]: "owned",
          "aws:ResourceTag/karpenter.sh/nodepool": name,
        },
      }),
    );
  }
  out.push(
    scenario("cannot launch an instance tagged for another cluster", "deny", {
      action: "ec2:CreateFleet",
      resource: instance,
      context: { ...tagged("gpu"), "aws:RequestTag/eks:eks-cluster-name": "another" },
    }),
    scenario("cannot terminate an instance it did not launch", "deny", {
      action: "ec2:TerminateInstances",
      resource: instance,
    }),
  );
  for (const nodeClass of plan.ofType(NODE_CLASS_TYPE)) {
    const role = plan
      .ofType("aws:iam/role:Role")
      .find((r) => r.id === obj(nodeClass.inputs.spec).role);
    if (!role) continue;
    out.push(
      scenario(`passes ${role.name} to the nodes of ${nodeClass.name}`, "allow", {
        action: "iam:PassRole",
        resource: plan.roleArn(role),
        context: { "iam:PassedToService": "ec2.amazonaws.com" },
      }),
    );
  }
  out.push(
    scenario("cannot pass another role", "deny", {
      action: "iam:PassRole",
      resource: `arn:${partition}:iam::${accountId}:role/admin`,
      context: { "iam:PassedToService": "ec2.amazonaws.com" },
    }),
  );
  // The queue the release names, by the ARN its rules deliver to.
  const release = plan
    .ofType("kubernetes:helm.sh/v3:Release")
    .find((r) => obj(obj(r.inputs.values).settings).clusterName === cluster);
  const queueName = obj(obj(release?.inputs.values).settings).interruptionQueue;
  const queue = plan.ofType("aws:sqs/queue:Queue").find((q) => q.inputs.name === queueName);
  // A queue's id is its URL, and its ARN ends in its name.
  const queueArn = queue
    ? `arn:${partition}:sqs:${region}:${accountId}:${String(queue.inputs.name)}`
    : undefined;
  const queuePolicy = plan
    .ofType("aws:sqs/queuePolicy:QueuePolicy")
    .find((p) => queue !== undefined && p.inputs.queueUrl === queue.id);
  if (queueArn) {
    out.push(
      scenario("reads the interruption queue its release names", "allow", {
        action: "sqs:ReceiveMessage",
        resource: queueArn,
      }),
      scenario("cannot read another queue", "deny", {
        action: "sqs:ReceiveMessage",
        resource: `arn:${partition}:sqs:${region}:${accountId}:another`,
      }),
    );
    const statements = statementsOf(queuePolicy?.inputs.policy) ?? [];
    const events = { kind: "service" as const, id: "events.amazonaws.com" };
    out.push(
      {
        resource: queuePolicy?.name ?? String(queue?.name),
        description: "EventBridge delivers interruption events to the queue",
        expect: "allow",
        request: {
          principal: events,
          action: "sqs:SendMessage",
          resource: queueArn,
          context: { "aws:SecureTransport": true },
        },
        policies: { resource: statements },
      },
      {
        resource: queuePolicy?.name ?? String(queue?.name),
        description: "nobody uses the queue over plain HTTP",
        expect: "deny",
        request: {
          principal: events,
          action: "sqs:SendMessage",
          resource: queueArn,
          context: { "aws:SecureTransport": false },
        },
        policies: { resource: statements },
      },
    );
  }
  return out;
}
