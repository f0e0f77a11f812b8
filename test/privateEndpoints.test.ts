/**
 * Stacks without NAT gateways: every interface endpoint the stack's own software calls, derived
 * from the plan (catalog/privateEndpoints.ts), reported once per missing endpoint.
 */
import * as assert from "assert";
import {
  PRIVATE_ENDPOINT_NEEDS,
  PRIVATE_ENDPOINT_SERVICES,
  PrivateEndpointNeed,
} from "../catalog/privateEndpoints";
import { addonValues, LB_CONTROLLER_WITHOUT_NAT } from "../components/eks/clusterAddons";
import { InterfaceEndpointService } from "../components/network/inferenceVpc";
import { CapturedResource } from "../offline/engine";
import { checkReachability, planShows, privateEndpointNeeds } from "../checks/reachability";
import { planConfig, PlanReport, readStackFile } from "../offline/plan";
import { ConfigError, parseStackConfig } from "../programs/config";
import { natLess } from "./helpers";

const clone = (resources: CapturedResource[]): CapturedResource[] =>
  JSON.parse(JSON.stringify(resources)) as CapturedResource[];
const KEY = "llm-infra:network.interfaceEndpoints";

/** The stack file with no NAT gateways and exactly these interface endpoints. */
async function withoutNat(stack: string, interfaceEndpoints: string[]): Promise<PlanReport> {
  return planConfig(stack, natLess(readStackFile(stack), interfaceEndpoints));
}

/** The plan without the interface endpoints to these services. */
const withoutEndpoints = (resources: CapturedResource[], services: readonly string[]) =>
  clone(resources).filter(
    (r) =>
      r.type !== "aws:ec2/vpcEndpoint:VpcEndpoint" ||
      !services.some((s) => String(r.inputs.serviceName).endsWith(`.${s}`)),
  );

/** The plan without the S3 gateway endpoint on its VPC. */
function withoutS3Gateway(resources: CapturedResource[]): CapturedResource[] {
  const copy = clone(resources);
  const vpc = copy.find((r) => r.type === "awsx:ec2:Vpc")!;
  vpc.inputs.vpcEndpointSpecs = [];
  return copy;
}

// Everything the EKS stacks call without NAT (prod keeps its sagemaker.runtime and monitoring).
const EKS_ENDPOINTS = [
  "ecr.api",
  "ecr.dkr",
  "sts",
  "ec2",
  "eks-auth",
  "elasticloadbalancing",
  "autoscaling",
  "logs",
  "elasticfilesystem",
  "ssm",
  "ssmmessages",
];
// Prod also runs the metrics pipeline, whose KEDA queries its AMP workspace.
const PROD_ENDPOINTS = [...EKS_ENDPOINTS, "aps-workspaces", "sagemaker.runtime", "monitoring"];
// Staging without NAT runs the Triton EC2 fleet and no EKS (its cluster is on Karpenter).
const STAGING_ENDPOINTS = ["ecr.api", "ecr.dkr", "sts", "monitoring", "ssm", "ssmmessages"];

describe("private endpoints: stacks without NAT", function () {
  this.timeout(300000);
  let prod: PlanReport;
  let dev: PlanReport;
  let staging: PlanReport;
  before(async () => {
    prod = await withoutNat("prod", PROD_ENDPOINTS);
    dev = await withoutNat("dev", EKS_ENDPOINTS);
    staging = await withoutNat("staging", STAGING_ENDPOINTS);
  });

  it("pass prod, dev and staging without NAT with the full endpoint list, and find each missing one by name", () => {
    for (const [stack, report, endpoints] of [
      ["prod", prod, PROD_ENDPOINTS],
      ["dev", dev, EKS_ENDPOINTS],
      ["staging", staging, STAGING_ENDPOINTS],
    ] as const) {
      assert.deepStrictEqual(checkReachability(report.resources), [], stack);
      const needed = new Set(
        privateEndpointNeeds(report.resources).flatMap((n) => n.interfaceEndpoints),
      );
      for (const service of endpoints) {
        const findings = checkReachability(withoutEndpoints(report.resources, [service]));
        // Prod lists sagemaker.runtime for callers of the endpoints, not for anything it runs.
        if (!needed.has(service)) {
          assert.deepStrictEqual(findings, [], `${stack} without ${service}`);
          continue;
        }
        assert.strictEqual(findings.length, 1, `${stack} without ${service}: one line`);
        assert.strictEqual(findings[0].resource, "network-vpc");
        assert.ok(
          findings[0].message.startsWith(
            `network-vpc has no NAT gateway and no ${service} endpoint, which `,
          ),
          findings[0].message,
        );
        assert.ok(findings[0].message.includes(`add ${service} to ${KEY}`), findings[0].message);
        assert.ok(!findings[0].message.includes("\n"));
      }
    }
  });

  it("report the endpoints today's shipped lists lack, one line each, in the table's order", () => {
    const shipped = ["ecr.api", "ecr.dkr", "sagemaker.runtime", "sts", "logs", "monitoring"];
    const resources = withoutEndpoints(
      prod.resources,
      PROD_ENDPOINTS.filter((s) => !shipped.includes(s)),
    );
    assert.deepStrictEqual(
      checkReachability(resources).map((f) => /and no (\S+) endpoint/.exec(f.message)?.[1]),
      [
        "ec2",
        "eks-auth",
        "elasticloadbalancing",
        "autoscaling",
        "elasticfilesystem",
        "ssm",
        "ssmmessages",
        "aps-workspaces",
      ],
    );
  });

  it("name every piece that needs a missing endpoint in its one line", () => {
    const [finding] = checkReachability(withoutEndpoints(dev.resources, ["ec2"]));
    for (const what of [
      "EKS node groups on the EKS optimized AMI",
      "the AWS Load Balancer Controller",
      "the cluster autoscaler",
    ])
      assert.ok(finding.message.includes(what), `${what} in ${finding.message}`);
  });

  describe("each row of the table, against a stack that has its piece and lacks its endpoints", () => {
    const reportFor = (need: PrivateEndpointNeed) =>
      [prod, staging, dev].find((r) => planShows(need.match, r.resources));
    for (const need of PRIVATE_ENDPOINT_NEEDS) {
      it(need.what, () => {
        const report = reportFor(need);
        assert.ok(report, `no shipped stack shows ${JSON.stringify(need.match)}`);
        for (const service of need.interfaceEndpoints) {
          const findings = checkReachability(withoutEndpoints(report.resources, [service]));
          const line = findings.find((f) => f.message.includes(`and no ${service} endpoint`));
          assert.ok(line, `no finding for ${service}: ${JSON.stringify(findings)}`);
          assert.ok(line.message.includes(need.what), line.message);
          assert.ok(line.message.includes(KEY), line.message);
        }
        if (need.s3Gateway) {
          const findings = checkReachability(withoutS3Gateway(report.resources));
          assert.strictEqual(findings.length, 1);
          assert.match(findings[0].message, /no NAT gateway and no s3 \(gateway\) endpoint/);
          assert.ok(findings[0].message.includes(need.what), findings[0].message);
        }
      });
    }
  });

  it("leave stacks with NAT alone, and find nothing to need in a plan without those pieces", () => {
    const natPlan = clone(dev.resources);
    natPlan.find((r) => r.type === "awsx:ec2:Vpc")!.inputs.natGateways = { strategy: "Single" };
    assert.deepStrictEqual(checkReachability(withoutEndpoints(natPlan, PROD_ENDPOINTS)), []);
    const vpcOnly = clone(dev.resources).filter(
      (r) => r.type === "awsx:ec2:Vpc" || r.type === "aws:ec2/vpcEndpoint:VpcEndpoint",
    );
    assert.deepStrictEqual(privateEndpointNeeds(vpcOnly), []);
    assert.deepStrictEqual(checkReachability(withoutS3Gateway(vpcOnly)), []);
  });

  it("see Triton's S3 sync only in s3-sync mode (prod reads the EFS cache)", () => {
    const row = PRIVATE_ENDPOINT_NEEDS.find((n) => n.what.startsWith("Triton's model sync"))!;
    assert.ok(planShows(row.match, dev.resources));
    assert.ok(!planShows(row.match, prod.resources));
  });

  it("see a SageMaker model only when it runs in the VPC's subnets", () => {
    const models = clone(staging.resources).filter((r) => r.type === "aws:sagemaker/model:Model");
    assert.ok(planShows({ kind: "sageMakerModelInVpc" }, models));
    for (const m of models) delete m.inputs.vpcConfig;
    assert.ok(!planShows({ kind: "sageMakerModelInVpc" }, models));
  });

  it("catch the load balancer controller calling Shield and WAF without NAT, and set them off", () => {
    const release = prod.resources.find((r) => r.name === "addons-aws-load-balancer-controller")!;
    assert.deepStrictEqual(
      Object.fromEntries(
        ["enableShield", "enableWaf", "enableWafv2"].map((k) => [
          k,
          (release.inputs.values as Record<string, unknown>)[k],
        ]),
      ),
      LB_CONTROLLER_WITHOUT_NAT,
    );
    const resources = clone(prod.resources);
    const values = resources.find((r) => r.name === release.name)!.inputs.values as Record<
      string,
      unknown
    >;
    delete values.enableWafv2;
    const findings = checkReachability(resources);
    assert.deepStrictEqual(
      findings.map((f) => f.resource),
      ["addons-aws-load-balancer-controller"],
    );
    assert.match(
      findings[0].message,
      /set its values enableShield, enableWaf and enableWafv2 to false/,
    );
    const args = { clusterName: "c", region: "us-east-1", vpcId: "vpc" };
    assert.deepStrictEqual(
      addonValues({ ...args, withoutNat: true }).loadBalancerController.enableShield,
      false,
    );
    assert.ok(!("enableShield" in addonValues(args).loadBalancerController));
  });

  it("create and price every new endpoint like the others: per AZ-hour", () => {
    for (const service of ["eks-auth", "elasticloadbalancing", "ssmmessages"]) {
      const endpoint = prod.resources.find((r) => r.name === `network-${service}`);
      assert.ok(endpoint, `network-${service}`);
      assert.strictEqual(endpoint.inputs.serviceName, `com.amazonaws.us-east-1.${service}`);
      assert.strictEqual(endpoint.inputs.vpcEndpointType, "Interface");
      const line = prod.cost.lines.find((l) => l.resource === `network-${service}`);
      // 3 AZs x 730 h x $0.01
      assert.strictEqual(line?.monthlyUsd, 21.9);
    }
  });
});

describe("private endpoints: config", () => {
  it("accept every endpoint the table can require, and nothing the VPC cannot create", () => {
    const allowed = Object.values(InterfaceEndpointService) as string[];
    for (const service of PRIVATE_ENDPOINT_SERVICES)
      assert.ok(allowed.includes(service), `${service} is not an InterfaceEndpointService`);
    const config = parseStackConfig(
      {
        "aws:region": "us-east-1",
        "llm-infra:environment": "dev",
        "llm-infra:tags": { team: "ml", costCenter: "42" },
        "llm-infra:network": { natGateways: "none", interfaceEndpoints: PRIVATE_ENDPOINT_SERVICES },
      },
      "test",
    );
    assert.deepStrictEqual(config.network.interfaceEndpoints, PRIVATE_ENDPOINT_SERVICES);
    try {
      parseStackConfig(
        {
          "aws:region": "us-east-1",
          "llm-infra:environment": "dev",
          "llm-infra:tags": { team: "ml", costCenter: "42" },
          "llm-infra:network": { interfaceEndpoints: ["eks_auth"] },
        },
        "test",
      );
      assert.fail("eks_auth accepted");
    } catch (e) {
      assert.ok(e instanceof ConfigError, String(e));
      assert.strictEqual(e.problems.length, 1);
      assert.match(
        e.problems[0],
        /^llm-infra:network\.interfaceEndpoints\[0\] must be one of .*eks-auth.*, got "eks_auth"/,
      );
    }
  });
});
