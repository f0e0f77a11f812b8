import * as assert from "assert";
import { ResourceRecord, estimateMonthlyCost } from "../catalog";

const r = (
  type: string,
  name: string,
  inputs: Record<string, unknown>,
  extra: Partial<ResourceRecord> = {},
): ResourceRecord => ({
  type,
  name,
  inputs,
  parent: null,
  ...extra,
});
const estimate = (records: ResourceRecord[], region = "us-east-1") =>
  estimateMonthlyCost(records, { region, assumptions: { natProcessedGbPerMonth: 0 } });

describe("catalog: cost estimator", () => {
  it("prices an awsx VPC's NAT gateways from its strategy and AZ count", () => {
    const vpc = (strategy: string) =>
      r("awsx:ec2:Vpc", "vpc", { natGateways: { strategy }, numberOfAvailabilityZones: 3 });
    assert.strictEqual(estimate([vpc("None")]).monthlyUsd, 0);
    assert.strictEqual(estimate([vpc("Single")]).monthlyUsd, 32.85);
    assert.strictEqual(estimate([vpc("OnePerAz")]).monthlyUsd, 98.55);
    assert.match(
      estimate([vpc("OnePerAz")]).lines[0].description,
      /3 NAT gateway\(s\) x 730 h x \$0\.045\/h/,
    );
  });

  it("does not count NAT gateways twice when a real preview shows the VPC's children", () => {
    const records = [
      r("awsx:ec2:Vpc", "vpc", {
        natGateways: { strategy: "OnePerAz" },
        numberOfAvailabilityZones: 2,
      }),
      r("aws:ec2/natGateway:NatGateway", "vpc-1", {}, { parent: "vpc" }),
      r("aws:ec2/natGateway:NatGateway", "vpc-2", {}, { parent: "vpc" }),
    ];
    const e = estimate(records);
    assert.strictEqual(e.monthlyUsd, 65.7);
    assert.deepStrictEqual(
      e.lines.map((l) => l.resource),
      ["vpc-1", "vpc-2"],
    );
  });

  it("adds the assumed NAT data processing, stated in the line", () => {
    const e = estimateMonthlyCost([r("aws:ec2/natGateway:NatGateway", "nat", {})], {
      region: "us-east-1",
      assumptions: { natProcessedGbPerMonth: 100 },
    });
    assert.strictEqual(e.monthlyUsd, 37.35);
    assert.match(e.lines[0].description, /100 GB processed/);
  });

  it("prices interface endpoints per AZ and gateway endpoints at an explicit $0", () => {
    const e = estimate([
      r("aws:ec2/vpcEndpoint:VpcEndpoint", "ecr", {
        vpcEndpointType: "Interface",
        serviceName: "com.amazonaws.us-east-1.ecr.api",
        subnetIds: ["a", "b", "c"],
      }),
      r("aws:ec2/vpcEndpoint:VpcEndpoint", "s3", {
        vpcEndpointType: "Gateway",
        serviceName: "com.amazonaws.us-east-1.s3",
      }),
    ]);
    assert.deepStrictEqual(
      e.lines.map((l) => l.monthlyUsd),
      [21.9, 0],
    );
    assert.match(e.lines[1].description, /no charge/);
  });

  it("prices node groups at desired size and SageMaker variants per instance", () => {
    const e = estimate([
      r("aws:eks/nodeGroup:NodeGroup", "gpu", {
        instanceTypes: ["g5.2xlarge"],
        scalingConfig: { desiredSize: 2, minSize: 1, maxSize: 10 },
      }),
      r("aws:sagemaker/endpointConfiguration:EndpointConfiguration", "cfg", {
        productionVariants: [
          { variantName: "primary", instanceType: "ml.g5.2xlarge", initialInstanceCount: 2 },
        ],
      }),
      r("aws:eks/cluster:Cluster", "cluster", {}),
    ]);
    assert.deepStrictEqual(
      e.lines.map((l) => l.monthlyUsd),
      [1769.52, 2211.9, 73],
    );
    assert.match(
      e.lines[1].description,
      /2 x ml\.g5\.2xlarge variant primary x 730 h x \$1\.515\/h/,
    );
  });

  it("follows a node group or Auto Scaling group to its launch template for the instance type", () => {
    const e = estimate([
      r(
        "aws:ec2/launchTemplate:LaunchTemplate",
        "lt",
        { instanceType: "g6.xlarge" },
        { id: "lt-0123" },
      ),
      r("aws:autoscaling/group:Group", "asg", {
        desiredCapacity: 3,
        launchTemplate: { id: "lt-0123" },
      }),
      r("aws:eks/nodeGroup:NodeGroup", "ng", {
        scalingConfig: { desiredSize: 1 },
        launchTemplate: { id: "lt-0123" },
      }),
    ]);
    assert.deepStrictEqual(
      e.lines.map((l) => l.monthlyUsd),
      [1762.51, 587.5],
    );
  });

  it("prices serverless inference from the assumed requests, duration and memory", () => {
    const e = estimateMonthlyCost(
      [
        r("aws:sagemaker/endpointConfiguration:EndpointConfiguration", "sl", {
          productionVariants: [
            { variantName: "v", serverlessConfig: { memorySizeInMb: 4096, maxConcurrency: 10 } },
          ],
        }),
      ],
      {
        region: "us-east-1",
        assumptions: { requestsPerMonth: 100_000, serverlessSecondsPerRequest: 2 },
      },
    );
    // 100,000 x 2 s x 4 GB x $0.00002
    assert.strictEqual(e.monthlyUsd, 16);
  });

  it("prices an async variant at its assumed active hours, since it scales to zero", () => {
    const e = estimateMonthlyCost(
      [
        r("aws:sagemaker/endpointConfiguration:EndpointConfiguration", "async", {
          productionVariants: [
            { variantName: "primary", instanceType: "ml.g5.2xlarge", initialInstanceCount: 1 },
          ],
          asyncInferenceConfig: { outputConfig: { s3OutputPath: "s3://b/o/" } },
        }),
      ],
      { region: "us-east-1", assumptions: { asyncActiveHoursPerMonth: 100 } },
    );
    assert.strictEqual(e.monthlyUsd, 151.5);
    assert.match(
      e.lines[0].description,
      /0 x ml\.g5\.2xlarge always \(floor\) \+ 1 more x 100 h active/,
    );
  });

  it("prices the eks:index:Cluster component with its default node group unless skipped", () => {
    assert.strictEqual(
      estimate([r("eks:index:Cluster", "c", { instanceType: "m5.large", desiredCapacity: 2 })])
        .monthlyUsd,
      213.16,
    );
    assert.strictEqual(
      estimate([r("eks:index:Cluster", "c", { skipDefaultNodeGroup: true })]).monthlyUsd,
      73,
    );
  });

  it("reports unknown types and unknown instance prices instead of a silent $0", () => {
    const e = estimate([
      r("aws:rds/instance:Instance", "db", {}),
      r("aws:ec2/instance:Instance", "box", { instanceType: "x9.huge" }),
      r("aws:iam/role:Role", "role", {}),
      r("llm-infra:index:ModelStore", "store", {}, { parent: null }),
    ]);
    assert.deepStrictEqual(e.unpriced, [{ type: "aws:rds/instance:Instance", count: 1 }]);
    assert.ok(e.warnings.some((w) => w.includes("not priced: 1 x aws:rds/instance:Instance")));
    assert.ok(e.warnings.some((w) => w.includes("no EC2 price for x9.huge")));
    assert.match(e.lines[0].description, /PRICE UNKNOWN/);
  });

  it("warns when a region falls back to us-east-1 prices", () => {
    const e = estimate([r("aws:kms/key:Key", "k", {})], "eu-west-1");
    assert.strictEqual(e.monthlyUsd, 1);
    assert.ok(e.warnings.some((w) => w.includes("eu-west-1")));
  });

  it("totals the lines exactly", () => {
    const e = estimate([
      r("aws:kms/key:Key", "k", {}),
      r("aws:cloudwatch/metricAlarm:MetricAlarm", "a", { period: 60 }),
      r("aws:cloudwatch/metricAlarm:MetricAlarm", "hr", { period: 10 }),
      r("aws:lb/loadBalancer:LoadBalancer", "alb", { loadBalancerType: "application" }),
      r("aws:apigateway/restApi:RestApi", "api", {}),
    ]);
    assert.strictEqual(
      e.monthlyUsd,
      Math.round(e.lines.reduce((s, l) => s + l.monthlyUsd, 0) * 100) / 100,
    );
    assert.deepStrictEqual(
      e.lines.map((l) => l.monthlyUsd),
      [1, 0.1, 0.3, 22.27, 3.5],
    );
  });
});
