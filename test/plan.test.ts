import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import {
  PlanReport,
  listStacks,
  planConfig,
  planStack,
  projectRoot,
  readStackFile,
} from "../offline/plan";
import { syntheticEndpointsConfig } from "../scripts/bench";
import { SERVERLESS_7B_STACK, copyExampleModels, devOnP5Stack } from "./helpers";
import {
  KARPENTER_CHART,
  NODE_POOL_TYPE,
  nodePoolCapacityTypes,
  nodePoolInstanceTypes,
  nodePoolLabels,
} from "../catalog/karpenter";
import { findInstance } from "../catalog/instances";
import { main as planMain } from "../scripts/plan";
import { toJson, toMermaid, toText } from "../offline/report";

const run = promisify(execFile);
const ROOT = projectRoot();
const PLAN = path.join(ROOT, "dist", "scripts", "plan.js");

/** Runs the plan CLI; resolves with its exit code and output whatever the code. */
async function cli(args: string[], command = process.execPath, cmdArgs = [PLAN]) {
  // As from a user's shell: without the npm settings of the `npm test` that runs this suite.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith("npm_config_")),
  );
  try {
    const { stdout, stderr } = await run(command, [...cmdArgs, ...args], {
      cwd: ROOT,
      env,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** Runs the plan CLI's `main` in this process: the same arguments, exit codes and output. */
async function inProcess(args: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await planMain(args, {
    out: (s) => void (stdout += s),
    err: (s) => void (stderr += s),
  });
  return { code, stdout, stderr };
}

/** The plan of a shipped stack, made once per test process. */
const shipped = new Map<string, Promise<PlanReport>>();
function shippedPlan(stack: string): Promise<PlanReport> {
  if (!shipped.has(stack)) shipped.set(stack, planStack(stack));
  return shipped.get(stack)!;
}

/** Every string value anywhere in a JSON value. */
function strings(v: unknown): string[] {
  if (typeof v === "string") return [v];
  if (Array.isArray(v)) return v.flatMap(strings);
  if (v !== null && typeof v === "object") return Object.values(v).flatMap(strings);
  return [];
}

describe("offline plan of the shipped stacks", () => {
  const reports: Record<string, PlanReport> = {};
  before(async () => {
    for (const stack of listStacks()) reports[stack] = await shippedPlan(stack);
  });

  it("ships dev, staging and prod", () => {
    assert.deepStrictEqual(listStacks(), ["dev", "prod", "staging"]);
  });

  for (const stack of ["dev", "staging", "prod"]) {
    it(`${stack}: every resource has a type, a name and an existing parent, and every reference resolved`, () => {
      const r = reports[stack];
      const components = new Set(r.resources.filter((x) => !x.custom).map((x) => x.name));
      for (const res of r.resources) {
        assert.match(res.type, /^[a-z0-9-]+:[A-Za-z0-9/.]+:[A-Za-z0-9]+$/);
        assert.ok(
          res.parent === null || components.has(res.parent),
          `${res.name} has unknown parent ${res.parent}`,
        );
        for (const s of strings(res.inputs)) {
          assert.ok(
            !s.includes("undefined") &&
              !s.includes("[object Object]") &&
              !s.includes("04da6b54-80e4-46f7-96ec-b56ff0331ba9"),
            `${res.name} has an unresolved input: ${s}`,
          );
        }
      }
      const eks = ["eks", "eks-cluster", "eks-system", "addons", "model-cache"];
      const expected = {
        dev: ["chat", ...eks, "gpu", "triton"],
        staging: ["chat", ...eks, "karpenter", "gpu", "triton", "fleet", "api"],
        prod: ["batch", "chat", ...eks, "metrics", "gpu", "triton", "api"],
      }[stack]!;
      assert.deepStrictEqual(
        [...components].sort(),
        [
          ...expected,
          "alarms",
          "models",
          // Every shipped stack serves a hub model: its weights are copied into the store.
          "model-weights",
          "monitoring",
          "network",
          "network-vpc",
          "registry",
          // The image mirror: every shipped stack runs NGC's vLLM Triton image from its own ECR.
          "images",
          ...(stack === "dev" ? ["off-hours"] : []),
        ].sort(),
      );
    });

    it(`${stack}: cost lines add up to the monthly total`, () => {
      const { cost } = reports[stack];
      const sum = Math.round(cost.lines.reduce((s, l) => s + l.monthlyUsd, 0) * 100) / 100;
      assert.strictEqual(cost.monthlyUsd, sum);
      assert.ok(cost.monthlyUsd > 0);
      assert.deepStrictEqual(
        cost.unpriced,
        [],
        "every resource type is priced or known to be free",
      );
    });

    it(`${stack}: tags every taggable resource with environment, team and cost-center`, () => {
      for (const res of reports[stack].resources.filter((x) => x.custom && "tags" in x.inputs)) {
        // Auto Scaling groups take tags as a list of {key, value, propagateAtLaunch}.
        const raw = res.inputs.tags as Record<string, string> | { key: string; value: string }[];
        const tags = Array.isArray(raw)
          ? Object.fromEntries(raw.map((t) => [t.key, t.value]))
          : raw;
        assert.strictEqual(tags.environment, stack, res.name);
        assert.ok(tags.team && tags["cost-center"], res.name);
      }
    });
  }

  it("prod keeps model buckets, keys and registries through a destroy; dev does not", () => {
    const kept = (stack: string) =>
      reports[stack].resources.filter(
        (r) =>
          ["aws:s3/bucket:Bucket", "aws:ecr/repository:Repository", "aws:kms/key:Key"].includes(
            r.type,
          ) && ["models", "registry"].includes(r.parent ?? ""),
      );
    assert.ok(kept("prod").length >= 5);
    for (const r of kept("prod"))
      assert.deepStrictEqual([r.protect, r.retainOnDelete], [true, true], r.name);
    for (const r of kept("dev"))
      assert.deepStrictEqual([r.protect, r.retainOnDelete], [false, false], r.name);
  });

  it("prod has the Triton endpoint on two ml.g5.2xlarge, scaling 70/300/60 on invocations per instance", () => {
    const r = reports.prod.resources;
    const byName = (name: string) => r.find((x) => x.name === name)!;
    const model = byName("chat-model");
    assert.strictEqual(model.type, "aws:sagemaker/model:Model");
    const config = byName("chat-config");
    assert.strictEqual(config.type, "aws:sagemaker/endpointConfiguration:EndpointConfiguration");
    const variant = (config.inputs.productionVariants as Record<string, unknown>[])[0];
    assert.deepStrictEqual(
      [variant.instanceType, variant.initialInstanceCount, variant.modelName],
      ["ml.g5.2xlarge", 2, model.id],
    );
    const endpoint = byName("chat-endpoint");
    assert.deepStrictEqual(
      [endpoint.type, endpoint.inputs.endpointConfigName],
      ["aws:sagemaker/endpoint:Endpoint", config.id],
    );
    assert.strictEqual(byName("chat-scaling").type, "aws:appautoscaling/target:Target");
    const tracking = byName("chat-invocations").inputs;
    assert.strictEqual(tracking.policyType, "TargetTrackingScaling");
    assert.deepStrictEqual(tracking.targetTrackingScalingPolicyConfiguration, {
      targetValue: 70,
      scaleInCooldown: 300,
      scaleOutCooldown: 60,
      predefinedMetricSpecification: {
        predefinedMetricType: "SageMakerVariantInvocationsPerInstance",
      },
    });
    const line = reports.prod.cost.lines.find((l) => l.resource === "chat-config")!;
    assert.strictEqual(line.monthlyUsd, 2211.9);
    assert.match(line.description, /^2 \(idle 2, peak 8\) x ml\.g5\.2xlarge/);
    assert.deepStrictEqual([line.idleMonthlyUsd, line.peakMonthlyUsd], [2211.9, 8847.6]);
  });

  it("prod has an async endpoint that scales from zero with a step policy, priced at its active hours", () => {
    const r = reports.prod.resources;
    const target = r.find((x) => x.name === "batch-scaling")!;
    assert.strictEqual(target.inputs.minCapacity, 0);
    assert.ok(
      r.some(
        (x) =>
          x.parent === "batch" &&
          x.type === "aws:appautoscaling/policy:Policy" &&
          x.inputs.policyType === "StepScaling",
      ),
    );
    assert.match(
      reports.prod.cost.lines.find((l) => l.resource === "batch-config")!.description,
      /0 x ml\.g5\.2xlarge always \(floor\) \+ 1 more x 160 h active \(assumed\), peak 4/,
    );
  });

  it("every SageMaker alarm has actions, and no endpoint IAM statement allows an S3 action on *", () => {
    for (const stack of ["dev", "staging", "prod"]) {
      const alarms = reports[stack].resources.filter(
        (x) => x.type === "aws:cloudwatch/metricAlarm:MetricAlarm",
      );
      assert.ok(alarms.length >= 5, stack);
      for (const a of alarms)
        assert.ok((a.inputs.alarmActions as string[]).length > 0, `${stack} ${a.name}`);
      for (const p of reports[stack].resources.filter(
        (x) => x.type === "aws:iam/rolePolicy:RolePolicy",
      )) {
        for (const st of (
          JSON.parse(String(p.inputs.policy)) as {
            Statement: { Action: string | string[]; Resource: string | string[] }[];
          }
        ).Statement) {
          const actions = ([] as string[]).concat(st.Action);
          if (actions.some((a) => a.startsWith("s3:")))
            assert.ok(!([] as string[]).concat(st.Resource).includes("*"), `${stack} ${p.name}`);
        }
      }
    }
  });

  it("every shipped stack passes every mandatory policy of its environment", () => {
    for (const stack of ["dev", "staging", "prod"]) {
      const r = reports[stack];
      assert.ok(r.policiesEvaluated >= 15, stack);
      assert.deepStrictEqual(
        r.policies.filter((p) => p.enforcement === "mandatory"),
        [],
        stack,
      );
    }
  });

  it("prod has the EKS cluster, the g5.2xlarge 1/2/10 group and no idle Inferentia group, add-ons and an encrypted cache", () => {
    const r = reports.prod.resources;
    assert.strictEqual(r.filter((x) => x.type === "eks:index:Cluster").length, 1);
    const gpu = r.find((x) => x.name === "gpu-nodes")!;
    assert.strictEqual(gpu.type, "aws:eks/nodeGroup:NodeGroup");
    assert.deepStrictEqual(
      [
        gpu.inputs.instanceTypes,
        gpu.inputs.amiType,
        (gpu.inputs.labels as Record<string, string>)["workload-type"],
        gpu.inputs.scalingConfig,
      ],
      [
        ["g5.2xlarge"],
        "AL2023_x86_64_NVIDIA",
        "gpu-inference",
        { desiredSize: 2, maxSize: 10, minSize: 1 },
      ],
    );
    assert.deepStrictEqual(gpu.inputs.taints, [
      { effect: "NO_SCHEDULE", key: "nvidia.com/gpu", value: "true" },
    ]);
    assert.ok(
      "k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu" in
        (gpu.inputs.tags as Record<string, string>),
    );
    // Nothing in prod serves on Neuron, so prod has no Inferentia group idling at its price.
    assert.deepStrictEqual(
      r
        .filter((x) => x.type === "aws:eks/nodeGroup:NodeGroup")
        .filter((x) => x.inputs.amiType === "AL2023_x86_64_NEURON")
        .map((x) => x.name),
      [],
    );
    const template = r.find((x) => x.name === "gpu-lt")!;
    assert.strictEqual(template.type, "aws:ec2/launchTemplate:LaunchTemplate");
    assert.strictEqual(
      (template.inputs.metadataOptions as Record<string, string>).httpTokens,
      "required",
    );
    const ebs = (
      template.inputs.blockDeviceMappings as Record<string, Record<string, unknown>>[]
    )[0].ebs;
    assert.deepStrictEqual([ebs.volumeType, ebs.encrypted], ["gp3", "true"]);
    const charts = r
      .filter((x) => x.type === "kubernetes:helm.sh/v3:Release")
      .map((x) => x.inputs.chart);
    assert.ok(
      charts.includes("nvidia-device-plugin") && charts.includes("cluster-autoscaler"),
      String(charts),
    );
    assert.strictEqual(
      r.find((x) => x.type === "aws:efs/fileSystem:FileSystem")!.inputs.encrypted,
      true,
    );
    const line = reports.prod.cost.lines.find((l) => l.resource === "gpu-nodes")!;
    assert.deepStrictEqual(
      [line.monthlyUsd, line.description.startsWith("2 (idle 2, peak 10) x g5.2xlarge")],
      [1769.52, true],
    );
  });

  it("prod runs Triton from the chart on the GPU group, HPA 2-8, reading only its model prefix; dev zero replicas from S3", () => {
    const release = reports.prod.resources.find(
      (x) => x.type === "kubernetes:helm.sh/v3:Release" && x.parent === "triton",
    )!;
    assert.match(String(release.inputs.chart), /charts\/triton$/);
    const values = release.inputs.values as Record<string, Record<string, unknown>>;
    assert.deepStrictEqual(values.modelRepository, {
      mode: "efs",
      efsClaim: "model-cache",
      efsSubPath: "model-repository/triton",
    });
    assert.deepStrictEqual(values.resources, {
      requests: { cpu: "6", memory: "24Gi" },
      limits: { memory: "24Gi" },
    });
    assert.deepStrictEqual(
      [values.autoscaling.minReplicas, values.autoscaling.maxReplicas, values.autoscaling.enabled],
      [2, 8, true],
    );
    const policy = reports.prod.resources.find(
      (x) => x.type === "aws:iam/rolePolicy:RolePolicy" && x.parent === "triton",
    )!;
    const statements = (
      JSON.parse(String(policy.inputs.policy)) as { Statement: { Resource: string }[] }
    ).Statement;
    assert.match(statements[1].Resource, /\/model-repository\/triton\/\*$/);
    const dev = reports.dev.resources.find(
      (x) => x.type === "kubernetes:helm.sh/v3:Release" && x.parent === "triton",
    )!;
    const devValues = dev.inputs.values as Record<string, Record<string, unknown>>;
    assert.deepStrictEqual(
      [devValues.modelRepository.mode, devValues.replicaCount, devValues.autoscaling.enabled],
      ["s3-sync", 0, false],
    );
  });

  it("staging runs Triton on an EC2 fleet and an API Gateway in front of SageMaker, priced", () => {
    const r = reports.staging.resources;
    const asg = r.find((x) => x.type === "aws:autoscaling/group:Group")!;
    const lt = r.find(
      (x) =>
        x.type === "aws:ec2/launchTemplate:LaunchTemplate" &&
        x.id === (asg.inputs.launchTemplate as Record<string, string>).id,
    )!;
    assert.strictEqual(
      (lt.inputs.metadataOptions as Record<string, string>).httpTokens,
      "required",
    );
    assert.match(
      Buffer.from(String(lt.inputs.userData), "base64").toString(),
      /tritonserver --model-repository=\/models/,
    );
    const tg = r.find((x) => x.type === "aws:lb/targetGroup:TargetGroup")!;
    assert.strictEqual((tg.inputs.healthCheck as Record<string, string>).path, "/v2/health/ready");
    const integration = r.find((x) => x.type === "aws:apigateway/integration:Integration")!;
    assert.strictEqual(integration.inputs.type, "AWS");
    assert.match(
      String(integration.inputs.uri),
      /:runtime\.sagemaker:path\/endpoints\/llm-infra-staging-chat\/invocations$/,
    );
    const lines = Object.fromEntries(reports.staging.cost.lines.map((l) => [l.resource, l]));
    assert.match(lines["fleet-alb"].description, /application load balancer x 730 h/);
    assert.match(lines["api-api"].description, /1M requests per month x \$3\.5\/M/);
    assert.match(
      lines["fleet-asg"].description,
      /1 \(idle 1, peak 2\) x g5\.xlarge Auto Scaling group/,
    );
  });

  it("staging runs Triton on a Karpenter pool of prod's GPU type and its same-shaped types, spot then on-demand", () => {
    const r = reports.staging.resources;
    const pools = r.filter((x) => x.type === NODE_POOL_TYPE);
    assert.deepStrictEqual(
      pools.map((p) => [p.name, nodePoolInstanceTypes(p.inputs), nodePoolCapacityTypes(p.inputs)]),
      [["gpu-pool", ["g5.2xlarge", "g6.2xlarge"], ["spot", "on-demand"]]],
    );
    // prod's GPU type is one of them, and every type has its shape.
    const prodGroup = reports.prod.resources.find((x) => x.name === "gpu-nodes")!;
    const shape = (t: string) => {
      const s = findInstance(t)!;
      return [s.vcpus, s.memoryMib, s.accelerator?.count, s.accelerator?.memoryMibPerDevice];
    };
    const prodType = (prodGroup.inputs.instanceTypes as string[])[0];
    assert.ok(nodePoolInstanceTypes(pools[0].inputs).includes(prodType));
    for (const t of nodePoolInstanceTypes(pools[0].inputs))
      assert.deepStrictEqual(shape(t), shape(prodType), t);
    // Triton selects the pool's nodes; no accelerator node group and no Cluster Autoscaler.
    const triton = r.find(
      (x) => x.type === "kubernetes:helm.sh/v3:Release" && x.parent === "triton",
    )!;
    const selector = (triton.inputs.values as Record<string, Record<string, string>>).nodeSelector;
    const labels = nodePoolLabels(pools[0].name, pools[0].inputs);
    for (const [k, v] of Object.entries(selector)) assert.strictEqual(labels[k], v, k);
    assert.deepStrictEqual(
      r.filter((x) => x.type === "aws:eks/nodeGroup:NodeGroup").map((x) => x.name),
      ["eks-system-nodes"],
    );
    const charts = r
      .filter((x) => x.type === "kubernetes:helm.sh/v3:Release")
      .map((x) => x.inputs.chart);
    assert.ok(charts.includes(KARPENTER_CHART.chart));
    assert.ok(!charts.includes("cluster-autoscaler"));
  });

  it("dev runs one spot GPU group of one size that scales from zero", () => {
    const gpu = reports.dev.resources.find((x) => x.name === "gpu-nodes")!;
    assert.strictEqual(gpu.inputs.capacityType, "SPOT");
    assert.deepStrictEqual(gpu.inputs.scalingConfig, { desiredSize: 0, maxSize: 2, minSize: 0 });
    // The autoscaler sizes a group by one type: every type of a group has the same size.
    assert.deepStrictEqual(gpu.inputs.instanceTypes, ["g5.xlarge"]);
  });

  it("prod runs a NAT gateway per AZ; dev runs one", () => {
    const nat = (stack: string) =>
      reports[stack].cost.lines.find((l) => l.type === "awsx:ec2:Vpc")!.description;
    assert.match(nat("prod"), /^3 NAT gateway/);
    assert.match(nat("dev"), /^1 NAT gateway/);
  });

  it("renders a tree, a cost table sorted largest first, and a total for people", () => {
    const text = toText(reports.dev);
    assert.match(text, /^llm-infra plan: stack dev \(environment dev, us-east-1\)/);
    assert.match(text, /├─ InferenceVpc network\n│ {2}├─ /);
    assert.match(text, /├─ ModelStore models\n/);
    assert.match(text, /└─ TritonRelease triton\n/);
    assert.match(
      text,
      /Monthly cost: idle \$148\.42 \/ expected \$330\.49 \/ peak \$1,267\.52\nBudget policies check [^\n]*\n[^\n]*\n\s+IDLE\s+EXPECTED\s+PEAK\s+RESOURCE/,
    );
    // Each row: idle, expected and peak; rows sorted by the expected figure, largest first.
    const rows = [...text.matchAll(/^\s+\$([\d,.]+)\s+\$([\d,.]+)\s+\$([\d,.]+)\s+(\S+)\s+/gm)].map(
      (m) => [1, 2, 3].map((i) => Number(m[i].replace(/,/g, ""))).concat([]),
    );
    const expected = rows.slice(0, -1).map((r) => r[1]);
    assert.deepStrictEqual(
      expected,
      [...expected].sort((a, b) => b - a),
    );
    const c = reports.dev.cost;
    assert.deepStrictEqual(rows[rows.length - 1], [
      c.idleMonthlyUsd,
      c.monthlyUsd,
      c.peakMonthlyUsd,
    ]);
    assert.match(text, /TOTAL\s+per month, on-demand/);
  });

  it("draws each stack as a mermaid flowchart: its components, what they hold and cost, what uses what", () => {
    for (const [stack, report] of Object.entries(reports)) {
      const [header, ...body] = toMermaid(report).split("\n");
      assert.strictEqual(header, "flowchart LR", stack);
      const nodes = new Map<string, string>();
      const edges: [string, string][] = [];
      for (const line of body) {
        const node =
          /^ {2}(n\d+)\["(\w+) ([\w-]+)<br\/>(\d+) resources(?:, \$([\d,.]+)\/month)?"\]$/.exec(
            line,
          );
        const edge = /^ {2}(n\d+) --> (n\d+)$/.exec(line);
        assert.ok(node || edge, `${stack}: not a node or an edge: ${line}`);
        if (node) nodes.set(node[1], node[3]);
        if (edge) edges.push([nodes.get(edge[1])!, nodes.get(edge[2])!]);
      }
      const topLevel = report.resources.filter((r) => r.parent === null).map((r) => r.name);
      assert.deepStrictEqual(
        [...nodes.values()],
        topLevel,
        `${stack}: one node per top-level component`,
      );
      const held = [...toMermaid(report).matchAll(/<br\/>(\d+) resources/g)].map((m) =>
        Number(m[1]),
      );
      assert.strictEqual(
        held.reduce((a, b) => a + b, 0),
        report.resources.length - topLevel.length,
      );
      const costs = [...toMermaid(report).matchAll(/\$([\d,.]+)\/month/g)].map((m) =>
        Number(m[1].replace(/,/g, "")),
      );
      assert.strictEqual(
        Math.round(costs.reduce((a, b) => a + b, 0) * 100) / 100,
        report.cost.monthlyUsd,
        stack,
      );
      for (const [from, to] of edges) assert.notStrictEqual(from, to);
      assert.ok(
        edges.some(([f, t]) => f === "network" && t === "chat"),
        `${stack}: the endpoint runs in the VPC`,
      );
      assert.ok(
        edges.some(([f, t]) => f === "models" && t === "chat"),
        `${stack}: the endpoint reads the model store`,
      );
    }
    const prod = toMermaid(reports.prod);
    for (const [from, to] of [
      ["eks", "triton"],
      ["gpu", "triton"],
      ["model-cache", "triton"],
      ["chat", "api"],
    ]) {
      const id = (name: string) => new RegExp(`(n\\d+)\\["\\w+ ${name}<br`).exec(prod)![1];
      assert.ok(prod.includes(`  ${id(from)} --> ${id(to)}`), `prod: ${from} --> ${to}`);
    }
  });
});

describe("bench: synthetic endpoints", () => {
  it("plans the requested number of dev-shaped endpoints, each with its own name", async () => {
    const report = await planConfig("bench-3", syntheticEndpointsConfig(3));
    const endpoints = report.resources.filter((r) => r.type === "aws:sagemaker/endpoint:Endpoint");
    assert.deepStrictEqual(
      endpoints.map((e) => e.inputs.name),
      ["llm-infra-bench-3-ep1", "llm-infra-bench-3-ep2", "llm-infra-bench-3-ep3"],
    );
    assert.ok(!report.resources.some((r) => r.type === "eks:index:Cluster"), "no EKS");
  });
});

describe("plan CLI", () => {
  it("prints the human report for dev and exits 0", async () => {
    const { code, stdout } = await cli(["dev"]);
    assert.strictEqual(code, 0);
    assert.match(stdout, /Resources: \d+ \(17 components, \d+ resources\)/);
    assert.match(stdout, /Monthly cost: idle \$[\d,.]+ \/ expected \$[\d,.]+ \/ peak \$[\d,.]+/);
    assert.match(stdout, /TOTAL/);
  });

  it("`npm run --silent plan -- prod --json` prints one JSON object and nothing else", async () => {
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    // npm's own banner is on (no project .npmrc silences it); --silent drops it for this command.
    const { code, stdout } = await cli(["prod", "--json"], npm, ["run", "--silent", "plan", "--"]);
    assert.strictEqual(code, 0);
    assert.ok(stdout.length > 65536, "large enough to need several pipe writes");
    const report = JSON.parse(stdout) as Record<string, unknown>;
    assert.deepStrictEqual(Object.keys(report), [
      "project",
      "stack",
      "environment",
      "region",
      "resources",
      "cost",
      "policies",
      "policiesEvaluated",
      "servingTargets",
      "budgetBasis",
    ]);
    assert.strictEqual(report.stack, "prod");
    assert.deepStrictEqual(report.policies, []);
    assert.ok((report.policiesEvaluated as number) >= 15);
    const first = (report.resources as Record<string, unknown>[])[0];
    for (const k of ["type", "name", "parent", "custom", "inputs"]) assert.ok(k in first, k);
  });

  it("gives the same JSON as the in-process plan", async () => {
    const { stdout } = await cli(["staging", "--json"]);
    assert.strictEqual(stdout.trim(), toJson(await shippedPlan("staging")));
  });

  it("exits 2 naming the key for an invalid config", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "llm-infra-plan-"));
    fs.writeFileSync(
      path.join(dir, "Pulumi.broken.yaml"),
      "config:\n  aws:region: us-east-1\n  llm-infra:environment: dev\n  llm-infra:tags: {team: ml, costCenter: '1'}\n  llm-infra:network:\n    azCount: 1\n",
    );
    const { code, stdout, stderr } = await inProcess(["broken", "--dir", dir]);
    assert.strictEqual(code, 2);
    assert.strictEqual(stdout, "");
    assert.match(stderr, /llm-infra:network\.azCount must be an integer between 2 and 6, got 1/);
  });

  it("exits 2 for a serverless endpoint of a 7B fp16 model, naming serverless and GPUs", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "llm-infra-plan-"));
    fs.writeFileSync(path.join(dir, "Pulumi.serverless.yaml"), SERVERLESS_7B_STACK);
    const { code, stderr } = await inProcess(["serverless", "--dir", dir]);
    assert.strictEqual(code, 2);
    assert.match(
      stderr,
      /llm-infra:sagemaker\.endpoints\[0\]\.model serverless inference has no GPUs/,
    );
  });

  it("refuses dev on p5.48xlarge with exit 1, naming the instance type, the policy and the budget", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "llm-infra-plan-"));
    fs.writeFileSync(path.join(dir, "Pulumi.p5.yaml"), devOnP5Stack());
    copyExampleModels(dir);
    const { code, stdout, stderr } = await cli(["p5", "--dir", dir]);
    assert.strictEqual(code, 1);
    assert.match(
      stderr,
      /instance-type-allowlist \(mandatory\) on chat-config: chat-config uses p5\.48xlarge/,
    );
    assert.match(
      stderr,
      /monthly-budget \(mandatory\) on stack: estimated peak \$[\d,.]+\/month exceeds the budget of \$2,000\.00; largest: chat-config.*\(set in policy\/config\/dev\.json, monthly-budget\.monthlyBudgetUsd\)/,
    );
    assert.match(stdout, /Policies: \d+ violation\(s\)[^]*mandatory \(2\):/);
  });

  it("exits 2 for an unknown stack, listing the stacks", async () => {
    const { code, stderr } = await inProcess(["qa"]);
    assert.strictEqual(code, 2);
    assert.match(stderr, /no stack "qa".*stacks: dev, prod, staging/);
  });

  it("prints only the mermaid flowchart with --diagram, and refuses --diagram with --json", async () => {
    const { code, stdout } = await inProcess(["staging", "--diagram"]);
    assert.strictEqual(code, 0);
    assert.strictEqual(stdout, `${toMermaid(await shippedPlan("staging"))}\n`);
    const both = await inProcess(["staging", "--diagram", "--json"]);
    assert.strictEqual(both.code, 2);
    assert.match(both.stderr, /choose --json or --diagram, not both/);
  });

  it("exits 2 without a stack when the project has several, naming them", async () => {
    const { code, stderr } = await inProcess([]);
    assert.strictEqual(code, 2);
    assert.strictEqual(
      stderr,
      "error: " + ROOT + " has several stacks: name one of dev, prod, staging\n",
    );
  });
});

describe("README", () => {
  const readme = () => fs.readFileSync(path.join(ROOT, "README.md"), "utf8");

  it("shows, under Architecture, the diagram `npm run plan -- prod --diagram` prints", async () => {
    const text = readme();
    const blocks = [...text.matchAll(/```(\w*)\n([\s\S]*?)```/g)];
    const mermaid = blocks.filter((b) => b[1] === "mermaid");
    assert.strictEqual(mermaid.length, 1, "the README has one mermaid block");
    const heading = text.indexOf("\n## Architecture\n");
    assert.ok(heading >= 0, "README has an Architecture section");
    const next = blocks.find((b) => b.index > heading);
    assert.strictEqual(next, mermaid[0], "the first code block under Architecture is the diagram");
    assert.strictEqual(mermaid[0][2], `${toMermaid(await shippedPlan("prod"))}\n`);
  });

  it("quotes the monthly figures the plan prints for each shipped stack (README and docs/cost.md)", async () => {
    for (const file of ["README.md", path.join("docs", "cost.md")]) {
      const text = fs.readFileSync(path.join(ROOT, file), "utf8").replace(/\s+/g, " ");
      for (const stack of listStacks()) {
        const { cost } = await shippedPlan(stack);
        const quoted = `${stack} $${cost.monthlyUsd.toLocaleString("en-US", { minimumFractionDigits: 2 })}`;
        assert.ok(text.includes(quoted), `${file} should say "${quoted}"`);
      }
    }
  });

  it("ends with the next command to run, or with what to fix when a mandatory policy fails", async () => {
    const dev = await shippedPlan("dev");
    const printed = await inProcess(["dev"]);
    assert.strictEqual(
      printed.stdout.trimEnd().split("\n").pop(),
      "Next: npm run preflight -- dev (reads your AWS account), then npm run deploy -- dev --up (docs/runbook.md).",
    );
    // A program of the user's own (llm-infra plan, or toText from the library) goes on with Pulumi.
    assert.strictEqual(
      toText(dev).split("\n").pop(),
      "Next: pulumi preview --stack dev, then pulumi up --stack dev.",
    );
    const blocked = {
      ...dev,
      policies: [
        {
          policy: "monthly-budget",
          enforcement: "mandatory" as const,
          resource: "",
          message: "over",
        },
      ],
    };
    assert.strictEqual(
      toText(blocked).split("\n").pop(),
      "Next: fix the mandatory violations above in Pulumi.dev.yaml, then plan again.",
    );
  });

  it("gives the budget policies' figures under the plan's, with why, only when they differ (docs/cost.md)", async () => {
    const dev = await shippedPlan("dev");
    assert.ok(dev.budgetBasis, "dev's stack file changes a usage assumption");
    assert.deepStrictEqual(dev.budgetBasis.differences, ["llm-infra:cost.assumptions"]);
    assert.ok(dev.budgetBasis.peakMonthlyUsd > dev.cost.peakMonthlyUsd);
    const printed = toText(dev).split("\n");
    const at = printed.findIndex((l) => l.startsWith("Monthly cost: "));
    const usd = (n: number) => `$${n.toLocaleString("en-US", { minimumFractionDigits: 2 })}`;
    assert.ok(
      printed[at + 1].startsWith(
        `Budget policies check idle ${usd(dev.budgetBasis.idleMonthlyUsd)} / expected ${usd(dev.budgetBasis.monthlyUsd)} / peak ${usd(dev.budgetBasis.peakMonthlyUsd)}`,
      ),
      printed[at + 1],
    );
    // The pack's own verdict on the same stack, under a budget it exceeds, names that figure.
    const tight = await planConfig("dev", readStackFile("dev"), ROOT, {
      policyConfig: {
        "monthly-budget": { monthlyBudgetUsd: 1000, figure: "peak", region: "us-east-1" },
      },
    });
    const verdict = tight.policies.find((p) => p.policy === "monthly-budget");
    assert.ok(verdict, "over a $1,000 budget");
    assert.match(
      verdict.message,
      new RegExp(`estimated peak \\${usd(dev.budgetBasis.peakMonthlyUsd)}/month`),
    );
    const page = fs.readFileSync(path.join(ROOT, "docs", "cost.md"), "utf8").replace(/\s+/g, " ");
    assert.ok(page.includes(`dev's peak is ${usd(dev.budgetBasis.peakMonthlyUsd)} to the pack`));
    assert.ok(
      page.includes(
        printed
          .slice(at, at + 3)
          .join(" ")
          .replace(/\s+/g, " "),
      ),
    );
    const staging = await shippedPlan("staging");
    assert.strictEqual(staging.budgetBasis, undefined, "staging keeps the default assumptions");
    assert.ok(!toText(staging).includes("Budget policies check"));
  });

  it("keeps every line of each shipped stack's text report within 120 columns", async () => {
    for (const stack of listStacks()) {
      const wide = toText(await shippedPlan(stack))
        .split("\n")
        .filter((l) => l.length > 120);
      assert.deepStrictEqual(wide, [], stack);
    }
  });

  it("docs/offline-plan.md's sample is what the plan prints for dev, abridged at each ...", async () => {
    const printed = toText(await shippedPlan("dev")).split("\n");
    const page = fs.readFileSync(path.join(ROOT, "docs", "offline-plan.md"), "utf8");
    const sample = /```\n(llm-infra plan: [\s\S]*?)```/.exec(page);
    assert.ok(sample, "docs/offline-plan.md has the sample output");
    const shown = sample[1].split("\n").filter((l) => l !== "..." && l !== "");
    assert.ok(shown.length >= 8, shown.join("\n"));
    let at = 0;
    for (const line of shown) {
      const found = printed.indexOf(line, at);
      assert.ok(found >= at, `the plan prints, in this order, "${line}"`);
      at = found + 1;
    }
  });

  it("docs/offline-plan.md's --json sample carries prod's figures", async () => {
    const page = fs.readFileSync(path.join(ROOT, "docs", "offline-plan.md"), "utf8");
    const sample = /```json\n([\s\S]*?)```/.exec(page);
    assert.ok(sample, "docs/offline-plan.md has a JSON sample");
    const shown = JSON.parse(sample[1]) as {
      stack: string;
      resources: { name: string; id: string; protect: boolean; retainOnDelete: boolean }[];
      cost: { monthlyUsd: number; lines: { resource: string; monthlyUsd: number }[] };
      policiesEvaluated: number;
    };
    const printed = JSON.parse(toJson(await shippedPlan("prod"))) as typeof shown;
    assert.strictEqual(shown.stack, "prod");
    assert.strictEqual(shown.cost.monthlyUsd, printed.cost.monthlyUsd);
    assert.strictEqual(shown.policiesEvaluated, printed.policiesEvaluated);
    for (const r of shown.resources) {
      const real = printed.resources.find((p) => p.name === r.name);
      assert.ok(real, r.name);
      assert.deepStrictEqual(
        [r.id, r.protect, r.retainOnDelete],
        [real.id, real.protect, real.retainOnDelete],
      );
    }
    for (const l of shown.cost.lines)
      assert.strictEqual(
        l.monthlyUsd,
        printed.cost.lines.find((p) => p.resource === l.resource)?.monthlyUsd,
      );
  });

  it("quotes dev's summary lines as the plan prints them", async () => {
    const printed = toText(await shippedPlan("dev")).split("\n");
    const block = /For dev it says, among the rest:\n\n```\n([\s\S]*?)```/.exec(readme());
    assert.ok(block, "README quotes dev's summary lines");
    const quoted = block[1].trimEnd().split("\n");
    assert.deepStrictEqual(
      quoted.map((l) => l.split(":")[0]),
      ["Resources", "Monthly cost", "Policies"],
    );
    for (const line of quoted) assert.ok(printed.includes(line), `the plan prints "${line}"`);
  });
});
