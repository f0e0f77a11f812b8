/**
 * The API front door serving Triton on EKS: the load balancer the stack owns, the
 * TargetGroupBinding that registers Triton's pods in it, and the API's VPC link to it.
 */
import * as assert from "assert";
import { TritonLoadBalancer, TritonLoadBalancerArgs } from "../components";
import {
  REQUEST_SCHEMA,
  TRITON_REQUEST_SCHEMA,
  deploymentTrigger,
} from "../components/api/inferenceApi";
import { targetGroupBindingManifest } from "../components/triton/tritonLoadBalancer";
import { CapturedResource } from "../offline/engine";
import { PlanReport, planConfig, readStackFile } from "../offline/plan";
import { checkReachability } from "../checks/reachability";
import { checkScheduling } from "../checks/scheduling";
import { decide, iamScenarios } from "../checks/iamScenarios";
import { parseStackConfig } from "../programs/config";
import { one, resourcesOf, withoutKeys } from "./helpers";

const ARGS: TritonLoadBalancerArgs = {
  vpcId: "vpc-1",
  vpcCidrBlock: "10.0.0.0/16",
  subnetIds: ["subnet-1", "subnet-2"],
  podSecurityGroupId: "sg-cluster",
  namespace: "inference",
  serviceName: "triton-triton",
  tags: { team: "ml" },
};

const ALB = "aws:lb/loadBalancer:LoadBalancer";
const byName = (resources: CapturedResource[], name: string, type?: string) => {
  const r = resources.find((x) => x.name === name && (type === undefined || x.type === type));
  assert.ok(r, `no resource ${name}`);
  return r;
};

describe("TritonLoadBalancer", () => {
  it("binds Triton's Service to an IP target group behind an internal ALB, and admits the ALB to the pods' port", async () => {
    const res = await resourcesOf(() => new TritonLoadBalancer("triton-lb", ARGS));
    const alb = one(res, "aws:lb/loadBalancer:LoadBalancer");
    assert.deepStrictEqual(
      [alb.inputs.internal, alb.inputs.loadBalancerType, alb.inputs.idleTimeout],
      [true, "application", 600],
    );
    assert.deepStrictEqual(alb.inputs.subnets, ["subnet-1", "subnet-2"]);
    const tg = one(res, "aws:lb/targetGroup:TargetGroup");
    assert.deepStrictEqual(
      [tg.inputs.targetType, tg.inputs.port, tg.inputs.protocol],
      ["ip", 8000, "HTTP"],
    );
    assert.strictEqual((tg.inputs.healthCheck as Record<string, unknown>).path, "/v2/health/ready");
    const listener = one(res, "aws:lb/listener:Listener");
    assert.deepStrictEqual([listener.inputs.loadBalancerArn, listener.inputs.port], [alb.id, 80]);
    assert.deepStrictEqual(listener.inputs.defaultActions, [
      { type: "forward", targetGroupArn: tg.id },
    ]);

    const albSg = one(res, "aws:ec2/securityGroup:SecurityGroup");
    assert.deepStrictEqual(alb.inputs.securityGroups, [albSg.id]);
    const rule = one(res, "aws:ec2/securityGroupRule:SecurityGroupRule");
    assert.deepStrictEqual(
      [
        rule.inputs.type,
        rule.inputs.securityGroupId,
        rule.inputs.sourceSecurityGroupId,
        rule.inputs.fromPort,
        rule.inputs.toPort,
      ],
      ["ingress", "sg-cluster", albSg.id, 8000, 8000],
    );

    const binding = one(res, "kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding");
    assert.deepStrictEqual(binding.inputs.metadata, { name: "triton-lb", namespace: "inference" });
    assert.deepStrictEqual(binding.inputs.spec, {
      serviceRef: { name: "triton-triton", port: 8000 },
      targetGroupARN: tg.id,
      targetType: "ip",
    });
  });

  it("refuses an idle timeout an ALB does not take and a namespace Kubernetes does not", async () => {
    await assert.rejects(
      resourcesOf(
        () =>
          new TritonLoadBalancer("lb", {
            ...ARGS,
            idleTimeoutSeconds: 5000,
            namespace: "Inference",
          }),
      ),
      (e: Error) =>
        /idleTimeoutSeconds/.test(e.message) &&
        /namespace: must be a Kubernetes namespace/.test(e.message),
    );
  });

  it("writes the binding the controller's CRD reference describes (elbv2.k8s.aws/v1beta1)", () => {
    const m = targetGroupBindingManifest("tgb", "inference", "svc", "arn:tg");
    assert.deepStrictEqual(m, {
      apiVersion: "elbv2.k8s.aws/v1beta1",
      kind: "TargetGroupBinding",
      metadata: { name: "tgb", namespace: "inference" },
      spec: {
        serviceRef: { name: "svc", port: 8000 },
        targetGroupARN: "arn:tg",
        targetType: "ip",
      },
    });
  });
});

describe("the API front door serving Triton on EKS (prod with llm-infra:api.backend: triton)", function () {
  this.timeout(300000);
  let report: PlanReport;
  before(async () => {
    const raw = readStackFile("prod");
    raw["llm-infra:api"] = { ...(raw["llm-infra:api"] as object), backend: "triton" };
    report = await planConfig("prod", raw);
  });

  it("points the API's VPC link at the Triton load balancer", () => {
    const res = report.resources;
    const tritonAlb = byName(res, "triton-lb-alb", ALB);
    const attachment = byName(
      res,
      "api-alb-target",
      "aws:lb/targetGroupAttachment:TargetGroupAttachment",
    );
    assert.strictEqual(attachment.inputs.targetId, tritonAlb.id);
    assert.strictEqual(attachment.inputs.port, 80);
    const nlb = byName(res, "api-nlb", ALB);
    const link = byName(res, "api-link");
    assert.strictEqual(link.inputs.targetArn, nlb.id);
    const integration = byName(res, "api-vpc-link", "aws:apigateway/integration:Integration");
    assert.deepStrictEqual(
      [integration.inputs.type, integration.inputs.connectionType],
      ["HTTP_PROXY", "VPC_LINK"],
    );
    // No SageMaker integration: the API fronts Triton alone.
    assert.ok(!res.some((r) => r.name === "api-sagemaker"));
    // The API's request model is Triton's (a JSON object), not the SageMaker body.
    const model = byName(res, "api-request", "aws:apigateway/model:Model");
    assert.deepStrictEqual(JSON.parse(String(model.inputs.schema)), TRITON_REQUEST_SCHEMA);
  });

  it("binds the Triton release's Service to that load balancer's target group, opened on the cluster security group", () => {
    const res = report.resources;
    const binding = byName(res, "triton-lb-binding");
    const spec = binding.inputs.spec as {
      serviceRef: { name: string; port: number };
      targetGroupARN: string;
    };
    const release = byName(res, "triton-release", "kubernetes:helm.sh/v3:Release");
    assert.strictEqual(spec.serviceRef.name, `${String(release.inputs.name)}-triton`);
    assert.strictEqual(spec.serviceRef.port, 8000);
    assert.strictEqual(
      spec.targetGroupARN,
      byName(res, "triton-lb-tg", "aws:lb/targetGroup:TargetGroup").id,
    );
    assert.strictEqual(
      (binding.inputs.metadata as { namespace: string }).namespace,
      release.inputs.namespace,
    );
    const rule = byName(res, "triton-lb-to-pods");
    // The cluster security group, as prod's metrics collector names it (MetricsPipeline is given
    // GpuCluster.clusterSecurityGroupId).
    const scraper = res.find((r) => r.type === "aws:amp/scraper:Scraper");
    assert.ok(scraper, "prod has a metrics collector");
    const clusterGroup = (scraper.inputs.source as { eks: { securityGroupIds: string[] } }).eks
      .securityGroupIds[0];
    assert.match(clusterGroup, /^sg-/);
    assert.strictEqual(rule.inputs.securityGroupId, clusterGroup);
    assert.strictEqual(
      rule.inputs.sourceSecurityGroupId,
      byName(res, "triton-lb-alb", "aws:ec2/securityGroup:SecurityGroup").id,
    );
    // The binding comes after the controller whose CRD it is.
    assert.ok(
      binding.dependencies.some((urn) => urn.endsWith("::addons-aws-load-balancer-controller")),
      binding.dependencies.join(", "),
    );
  });

  it("lets the load balancer controller register pods in that target group, and not delete it", () => {
    const rows = iamScenarios(report.resources)
      .filter((s) => s.description.includes("triton-lb-binding"))
      .map((s) => [s.description, decide(s)]);
    assert.deepStrictEqual(rows, [
      [
        "aws-load-balancer-controller: registers pods in the target group of triton-lb-binding",
        "allow",
      ],
      ["aws-load-balancer-controller: reads the health of triton-lb-binding's targets", "allow"],
      [
        "aws-load-balancer-controller: cannot delete the target group of triton-lb-binding",
        "implicit-deny",
      ],
    ]);
  });

  it("still passes the scheduling and reachability checks", () => {
    assert.deepStrictEqual(checkScheduling(report.resources), []);
    assert.deepStrictEqual(checkReachability(report.resources), []);
  });

  it("keeps the chart's Ingress option working beside it", () => {
    const release = byName(report.resources, "triton-release", "kubernetes:helm.sh/v3:Release");
    const ingress = (release.inputs.values as { ingress: { enabled: boolean } }).ingress;
    assert.strictEqual(ingress.enabled, true);
  });
});

describe("llm-infra:api.backend triton (config)", () => {
  it("is refused without llm-infra:triton, naming the key and what is allowed", () => {
    const raw = withoutKeys(readStackFile("staging"), "llm-infra:triton");
    raw["llm-infra:api"] = { ...(raw["llm-infra:api"] as object), backend: "triton" };
    assert.throws(
      () => parseStackConfig(raw, "staging"),
      /llm-infra:api.backend must name one of llm-infra:sagemaker.endpoints, "fleet" when llm-infra:fleet is set, or "triton" when llm-infra:triton is set \(chat, fleet\), got "triton"/,
    );
  });

  it("is refused when the load balancer controller is off", () => {
    const raw = readStackFile("prod");
    raw["llm-infra:api"] = { ...(raw["llm-infra:api"] as object), backend: "triton" };
    const eks = raw["llm-infra:eks"] as { addons?: Record<string, unknown> };
    raw["llm-infra:eks"] = {
      ...eks,
      addons: { ...(eks.addons ?? {}), loadBalancerController: false },
    };
    assert.throws(
      () => parseStackConfig(raw, "prod"),
      /llm-infra:api.backend triton needs llm-infra:eks.addons.loadBalancerController/,
    );
  });

  it("redeploys the API when its backend changes between SageMaker and a load balancer", () => {
    assert.notStrictEqual(
      deploymentTrigger({ sagemakerEndpointName: "e" }),
      deploymentTrigger({ loadBalancerArn: "arn", vpcId: "v", subnetIds: [] }),
    );
    assert.notDeepStrictEqual(REQUEST_SCHEMA, TRITON_REQUEST_SCHEMA);
  });
});
