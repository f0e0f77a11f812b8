/**
 * The estimator's rules for idle / expected / peak, forced nodes, async floors, spot, Savings Plans
 * and off-hours schedules, each with exact figures; the cost config keys; the off-hours schedule
 * resources of the dev stack; the budget's figure; and the cost tables of README.md and docs/cost.md.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { ResourceRecord, estimateMonthlyCost, forcedNodes } from "../catalog/cost";
import {
  parseRecurrence,
  validateOffHoursWindow,
  weekShares,
  applicationAutoScalingSchedule,
  autoScalingRecurrence,
} from "../catalog/schedule";
import { SAVINGS_PLANS, SPOT_DISCOUNT } from "../catalog/prices";
import { ConfigError, parseStackConfig } from "../programs/config";
import {
  PlanReport,
  listStacks,
  planConfig,
  planStack,
  projectRoot,
  readStackFile,
} from "../offline/plan";
import { evaluatePolicies } from "../offline/policyEvaluator";
import { CapturedResource } from "../offline/engine";
import { monthlyBudget } from "../policy/costPolicies";
import { toJson } from "../offline/report";

const r = (
  type: string,
  name: string,
  inputs: Record<string, unknown>,
  extra: Partial<ResourceRecord> = {},
): ResourceRecord => ({ type, name, inputs, parent: null, ...extra });

const US = { region: "us-east-1" };
const figures = (l: { idleMonthlyUsd: number; monthlyUsd: number; peakMonthlyUsd: number }) => [
  l.idleMonthlyUsd,
  l.monthlyUsd,
  l.peakMonthlyUsd,
];

const nodeGroup = (inputs: Record<string, unknown>, id = "c:gpu-abc") =>
  r(
    "aws:eks/nodeGroup:NodeGroup",
    "gpu-nodes",
    {
      instanceTypes: ["g5.xlarge"],
      scalingConfig: { minSize: 0, desiredSize: 0, maxSize: 4 },
      labels: { "workload-type": "gpu-inference" },
      nodeGroupName: "gpu-abc",
      ...inputs,
    },
    { id },
  );
const triton = (values: Record<string, unknown>) =>
  r("kubernetes:helm.sh/v3:Release", "triton-release", {
    values: {
      nodeSelector: { "workload-type": "gpu-inference" },
      accelerator: { kind: "nvidia", count: 1 },
      ...values,
    },
  });

describe("cost rules: idle, expected and peak", () => {
  it("prices a node group at its min, desired and max", () => {
    const e = estimateMonthlyCost(
      [nodeGroup({ scalingConfig: { minSize: 1, desiredSize: 2, maxSize: 10 } })],
      US,
    );
    // 730 h x $1.006/h per g5.xlarge: 1 -> 734.38, 2 -> 1,468.76, 10 -> 7,343.80
    assert.deepStrictEqual(figures(e.lines[0]), [734.38, 1468.76, 7343.8]);
    assert.deepStrictEqual(
      [e.idleMonthlyUsd, e.monthlyUsd, e.peakMonthlyUsd],
      [734.38, 1468.76, 7343.8],
    );
  });

  it("counts the nodes Triton's replicas force onto a group sized at zero", () => {
    // Three replicas of one GPU each on single-GPU nodes (HPA 3-6): 3 nodes idle and expected.
    const e = estimateMonthlyCost(
      [
        nodeGroup({}),
        triton({ replicaCount: 3, autoscaling: { enabled: true, minReplicas: 3, maxReplicas: 6 } }),
      ],
      US,
    );
    // 3 x 730 x 1.006 = 2,203.14; peak is the group's max, 4 x 730 x 1.006 = 2,937.52
    assert.deepStrictEqual(figures(e.lines[0]), [2203.14, 2203.14, 2937.52]);
    assert.match(e.lines[0].description, /at least the nodes triton-release: 3 x 1 accelerator/);
  });

  it("packs accelerators per node: 3 pods x 2 GPUs on 4-GPU nodes need 2 nodes", () => {
    const group = nodeGroup({ instanceTypes: ["g5.12xlarge"] });
    const forced = forcedNodes(
      group,
      [group, triton({ replicaCount: 3, accelerator: { kind: "nvidia", count: 2 } })],
      "g5.12xlarge",
    );
    assert.deepStrictEqual([forced.idle, forced.expected, forced.peak], [2, 2, 2]);
  });

  it("forces nothing onto a group whose labels the release does not select, or with zero replicas", () => {
    const other = nodeGroup({ labels: { "workload-type": "neuron-inference" } });
    assert.strictEqual(
      forcedNodes(other, [other, triton({ replicaCount: 2 })], "g5.xlarge").expected,
      0,
    );
    const group = nodeGroup({});
    assert.deepStrictEqual(
      forcedNodes(group, [group, triton({ replicaCount: 0 })], "g5.xlarge").by,
      [],
    );
  });

  it("honours an async endpoint's floor from its scalable target", () => {
    const e = estimateMonthlyCost(
      [
        r(
          "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
          "batch-config",
          {
            productionVariants: [
              { variantName: "primary", instanceType: "ml.g5.2xlarge", initialInstanceCount: 2 },
            ],
            asyncInferenceConfig: { outputConfig: { s3OutputPath: "s3://b/o/" } },
          },
          { id: "batch-config-1" },
        ),
        r("aws:sagemaker/endpoint:Endpoint", "batch-endpoint", {
          name: "batch",
          endpointConfigName: "batch-config-1",
        }),
        r("aws:appautoscaling/target:Target", "batch-scaling", {
          resourceId: "endpoint/batch/variant/primary",
          scalableDimension: "sagemaker:variant:DesiredInstanceCount",
          minCapacity: 2,
          maxCapacity: 4,
        }),
      ],
      US,
    );
    // The floor of 2 runs all month: 2 x 730 x $1.515 = 2,211.90; peak 4 x 730 x 1.515 = 4,423.80
    assert.deepStrictEqual(figures(e.lines[0]), [2211.9, 2211.9, 4423.8]);
  });

  it("prices spot nodes at the spot assumption, and Savings Plans never discount them again", () => {
    assert.strictEqual(SPOT_DISCOUNT.discount, 0.5);
    const spot = nodeGroup({
      capacityType: "SPOT",
      scalingConfig: { minSize: 2, desiredSize: 2, maxSize: 2 },
    });
    // 2 x 730 x $1.006 x 0.5 = 734.38
    assert.strictEqual(estimateMonthlyCost([spot], US).monthlyUsd, 734.38);
    assert.strictEqual(
      estimateMonthlyCost([spot], { ...US, savingsPlans: { compute: "3y" } }).monthlyUsd,
      734.38,
    );
  });

  it("discounts on-demand EC2 nodes by the Compute Savings Plan and SageMaker by its own", () => {
    assert.deepStrictEqual(
      [SAVINGS_PLANS.compute["1y"].discount, SAVINGS_PLANS.compute["3y"].discount],
      [0.25, 0.45],
    );
    const group = nodeGroup({
      instanceTypes: ["g5.2xlarge"],
      scalingConfig: { minSize: 2, desiredSize: 2, maxSize: 2 },
    });
    // 2 x 730 x $1.212 = 1,769.52; less 25% = 1,327.14; less 45% = 973.24
    const at = (compute: "none" | "1y" | "3y") =>
      estimateMonthlyCost([group], { ...US, savingsPlans: { compute } }).monthlyUsd;
    assert.deepStrictEqual([at("none"), at("1y"), at("3y")], [1769.52, 1327.14, 973.24]);

    const realtime = r("aws:sagemaker/endpointConfiguration:EndpointConfiguration", "chat-config", {
      productionVariants: [
        { variantName: "primary", instanceType: "ml.g5.2xlarge", initialInstanceCount: 1 },
      ],
    });
    // 730 x $1.515 = 1,105.95; a SageMaker plan of 3 years takes 45% off: 608.27. A Compute plan
    // does not cover SageMaker.
    const sm = (savingsPlans: Record<string, string>) =>
      estimateMonthlyCost([realtime], { ...US, savingsPlans }).lines[0];
    assert.strictEqual(sm({ sagemaker: "3y" }).monthlyUsd, 608.27);
    assert.match(sm({ sagemaker: "3y" }).description, /less 45% \(SageMaker Savings Plan, 3y\)/);
    assert.strictEqual(sm({ compute: "3y" }).monthlyUsd, 1105.95);
  });

  it("costs nothing idle for per-request lines (serverless inference, API Gateway)", () => {
    const e = estimateMonthlyCost(
      [
        r("aws:apigateway/restApi:RestApi", "api", {}),
        r("aws:sagemaker/endpointConfiguration:EndpointConfiguration", "sl", {
          productionVariants: [{ variantName: "v", serverlessConfig: { memorySizeInMb: 1024 } }],
        }),
      ],
      US,
    );
    // 1M requests: REST $3.50; serverless 1M x 1 s x 1 GB x $0.00002 = $20
    assert.deepStrictEqual(e.lines.map(figures), [
      [0, 3.5, 3.5],
      [0, 20, 20],
    ]);
  });
});

describe("cost rules: off-hours schedules", () => {
  it("reads both cron dialects and weighs each scheduled size by the share of the week it holds", () => {
    const down = parseRecurrence("0 20 * * MON-FRI")!;
    const up = parseRecurrence("cron(0 8 ? * MON-FRI *)")!;
    assert.deepStrictEqual([down.hour, [...down.days]], [20, [1, 2, 3, 4, 5]]);
    assert.deepStrictEqual([up.hour, up.minute], [8, 0]);
    // Weekdays 08:00-20:00 are 60 of the week's 168 hours.
    const shares = weekShares([down, up])!;
    assert.strictEqual(Math.round(shares[1] * 168 * 1000) / 1000, 60);
    assert.strictEqual(parseRecurrence("*/5 * * * *"), undefined);
    assert.strictEqual(parseRecurrence("cron(0 8 ? * 2-6 *)"), undefined);
  });

  it("writes the window as Auto Scaling and Application Auto Scaling cron", () => {
    const w = {
      timezone: "Etc/UTC",
      workDays: "mon-fri",
      startHour: 8,
      endHour: 20,
      systemNodes: false,
    };
    assert.strictEqual(autoScalingRecurrence(w, 20), "0 20 * * MON-FRI");
    assert.strictEqual(applicationAutoScalingSchedule(w, 8), "cron(0 8 ? * MON-FRI *)");
  });

  it("names every bad field of a window", () => {
    assert.deepStrictEqual(
      validateOffHoursWindow({
        timezone: "Mars/Olympus",
        workDays: "MON-FUN",
        startHour: 20,
        endHour: 8,
      }),
      [
        'timezone must be a canonical IANA time zone such as Etc/UTC, Europe/Berlin or America/Los_Angeles, got "Mars/Olympus"',
        'workDays must be day names, ranges or lists of MON..SUN such as MON-FRI, got "MON-FUN"',
        "endHour (8) must be after startHour (20)",
      ],
    );
  });

  it("prices a fleet with a schedule for working hours only", () => {
    const schedule = (hour: number, min: number, max: number, desired: number) =>
      r("aws:autoscaling/schedule:Schedule", `fleet-${hour}`, {
        autoscalingGroupName: "fleet-asg-1",
        recurrence: `0 ${hour} * * MON-FRI`,
        minSize: min,
        maxSize: max,
        desiredCapacity: desired,
      });
    const e = estimateMonthlyCost(
      [
        r(
          "aws:autoscaling/group:Group",
          "fleet-asg",
          {
            minSize: 1,
            desiredCapacity: 1,
            maxSize: 2,
            mixedInstancesPolicy: {
              launchTemplate: { overrides: [{ instanceType: "g5.xlarge" }] },
            },
          },
          { id: "fleet-asg-1" },
        ),
        schedule(20, 0, 0, 0),
        schedule(8, 1, 2, 1),
      ],
      US,
    );
    // 730 h x 60/168 x $1.006 = 262.28 for one instance; peak two: 524.56
    assert.deepStrictEqual(figures(e.lines[0]), [262.28, 262.28, 524.56]);
    assert.match(e.lines[0].description, /0 for 64\.3% of hours; 1 \(idle 1, peak 2\) for 35\.7%/);
  });

  it("finds a managed node group's schedule by its Auto Scaling group's name", () => {
    const e = estimateMonthlyCost(
      [
        nodeGroup({ scalingConfig: { minSize: 1, desiredSize: 1, maxSize: 1 } }),
        r("aws:autoscaling/schedule:Schedule", "gpu-off-hours-down", {
          autoscalingGroupName: "eks-gpu-abc-1234",
          recurrence: "0 20 * * MON-FRI",
          minSize: 0,
          maxSize: 0,
          desiredCapacity: 0,
        }),
        r("aws:autoscaling/schedule:Schedule", "gpu-off-hours-up", {
          autoscalingGroupName: "eks-gpu-abc-1234",
          recurrence: "0 8 * * MON-FRI",
          minSize: 1,
          maxSize: 1,
          desiredCapacity: 1,
        }),
      ],
      US,
    );
    assert.strictEqual(e.monthlyUsd, 262.28);
  });
});

describe("cost config: llm-infra:cost", () => {
  const base = {
    "aws:region": "us-east-1",
    "llm-infra:environment": "dev",
    "llm-infra:tags": { team: "ml", costCenter: "1" },
  };
  const problems = (cost: unknown) => {
    try {
      parseStackConfig({ ...base, "llm-infra:cost": cost }, "t");
      return [];
    } catch (e) {
      return (e as ConfigError).problems;
    }
  };

  it("reads Savings Plans and the off-hours window with their defaults", () => {
    const c = parseStackConfig(
      { ...base, "llm-infra:cost": { savingsPlans: { compute: "1y" }, offHours: {} } },
      "t",
    ).cost;
    assert.deepStrictEqual(c.savingsPlans, { compute: "1y", sagemaker: "none" });
    assert.deepStrictEqual(c.offHours, {
      timezone: "Etc/UTC",
      workDays: "MON-FRI",
      startHour: 8,
      endHour: 20,
      systemNodes: false,
    });
    assert.strictEqual(parseStackConfig(base, "t").cost.offHours, undefined);
  });

  it("names the key of every mistake", () => {
    assert.deepStrictEqual(
      problems({
        savingsPlans: { compute: "5y", ec2: "1y" },
        offHours: { timezone: "Nowhere", startHour: 25, lunch: true },
      }),
      [
        "llm-infra:cost.savingsPlans.ec2 is not a known key; allowed: compute, sagemaker",
        'llm-infra:cost.savingsPlans.compute must be one of none, 1y, 3y, got "5y"',
        "llm-infra:cost.offHours.lunch is not a known key; allowed: timezone, workDays, startHour, endHour, systemNodes",
        'llm-infra:cost.offHours.timezone must be a canonical IANA time zone such as Etc/UTC, Europe/Berlin or America/Los_Angeles, got "Nowhere"',
        "llm-infra:cost.offHours.startHour must be an integer from 0 to 22, got 25",
      ],
    );
  });
});

describe("the shipped stacks' cost", () => {
  const reports: Record<string, PlanReport> = {};
  before(async function () {
    this.timeout(120_000);
    for (const stack of listStacks()) reports[stack] = await planStack(stack);
  });

  it("dev scales down off hours: Auto Scaling group schedules and scheduled actions on the endpoint", () => {
    const schedules = reports.dev.resources
      .filter((x) => x.type === "aws:autoscaling/schedule:Schedule")
      .map((x) => [
        x.name,
        x.inputs.recurrence,
        x.inputs.timeZone,
        x.inputs.minSize,
        x.inputs.desiredCapacity,
        x.inputs.maxSize,
        String(x.inputs.autoscalingGroupName).startsWith("eks-"),
      ]);
    assert.deepStrictEqual(schedules, [
      ["eks-system-off-hours-down", "0 20 * * MON-FRI", "Etc/UTC", 0, 0, 0, true],
      ["eks-system-off-hours-up", "0 8 * * MON-FRI", "Etc/UTC", 1, 1, 4, true],
      ["gpu-off-hours-down", "0 20 * * MON-FRI", "Etc/UTC", 0, 0, 0, true],
      ["gpu-off-hours-up", "0 8 * * MON-FRI", "Etc/UTC", 0, 0, 2, true],
    ]);
    // The chat endpoint's components rest at zero copies and instances: nothing to schedule.
    assert.strictEqual(
      reports.dev.resources.some(
        (x) => x.type === "aws:appautoscaling/scheduledAction:ScheduledAction",
      ),
      false,
    );
    assert.strictEqual(
      reports.prod.resources.some((x) => x.type === "aws:autoscaling/schedule:Schedule"),
      false,
    );
  });

  it("dev idles at $150 a month or less, and the cost tables (README, docs/cost.md) quote every figure", () => {
    assert.ok(reports.dev.cost.idleMonthlyUsd <= 150, String(reports.dev.cost.idleMonthlyUsd));
    for (const file of ["README.md", path.join("docs", "cost.md")]) {
      const text = fs.readFileSync(path.join(projectRoot(), file), "utf8");
      assertCostTable(text, file);
    }
  });

  function assertCostTable(text: string, file: string): void {
    const money = (n: number) =>
      `$${n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
    for (const [stack, report] of Object.entries(reports)) {
      const c = report.cost;
      const row = new RegExp(
        `^\\| ${stack}\\s+\\| ${[c.idleMonthlyUsd, c.monthlyUsd, c.peakMonthlyUsd]
          .map((n) => money(n).replace(/[$.]/g, "\\$&"))
          .join("\\s+\\| ")}\\s+\\| ${report.resources.length}\\s+\\|`,
        "m",
      );
      assert.match(text, row, `${file}'s cost table row for ${stack}`);
    }
  }

  it("--json keeps cost.monthlyUsd and adds the idle and peak totals with the same lines", () => {
    const { cost } = JSON.parse(toJson(reports.dev)) as {
      cost: {
        monthlyUsd: number;
        idleMonthlyUsd: number;
        peakMonthlyUsd: number;
        lines: { resource: string; idleMonthlyUsd: number; peakMonthlyUsd: number }[];
      };
    };
    assert.deepStrictEqual(
      [cost.idleMonthlyUsd, cost.monthlyUsd, cost.peakMonthlyUsd],
      [148.42, 330.49, 1267.52],
    );
    const sum = (k: "idleMonthlyUsd" | "peakMonthlyUsd") =>
      Math.round(cost.lines.reduce((s, l) => s + l[k], 0) * 100) / 100;
    assert.deepStrictEqual([sum("idleMonthlyUsd"), sum("peakMonthlyUsd")], [148.42, 1267.52]);
    // dev's chat endpoint: no instance idle, one ml.g6.xlarge at peak (730 x $1.1267).
    const chat = cost.lines.find((l) => l.resource === "chat-config")!;
    assert.deepStrictEqual([chat.idleMonthlyUsd, chat.peakMonthlyUsd], [0, 822.49]);
  });

  it("staging with off hours: the fleet stops and the real-time floor drops from 2 to 1", async () => {
    const raw = readStackFile("staging");
    const sagemaker = raw["llm-infra:sagemaker"] as { endpoints: Record<string, unknown>[] };
    raw["llm-infra:sagemaker"] = {
      endpoints: [{ ...sagemaker.endpoints[0], minInstances: 2, initialInstanceCount: 2 }],
    };
    raw["llm-infra:cost"] = {
      offHours: { timezone: "Europe/Berlin" },
      savingsPlans: { compute: "1y" },
    };
    const report = await planConfig("staging", raw);
    const asg = report.resources.find((x) => x.type === "aws:autoscaling/group:Group")!;
    const schedules = report.resources
      .filter((x) => x.type === "aws:autoscaling/schedule:Schedule")
      .map((x) => [x.name, x.inputs.autoscalingGroupName === asg.id, x.inputs.timeZone]);
    assert.deepStrictEqual(schedules, [
      ["fleet-off-hours-down", true, "Europe/Berlin"],
      ["fleet-off-hours-up", true, "Europe/Berlin"],
    ]);
    const actions = report.resources
      .filter((x) => x.type === "aws:appautoscaling/scheduledAction:ScheduledAction")
      .map((x) => [x.name, x.inputs.schedule, x.inputs.scalableTargetAction]);
    assert.deepStrictEqual(actions, [
      ["chat-off-hours-down", "cron(0 20 ? * MON-FRI *)", { minCapacity: 1, maxCapacity: 4 }],
      ["chat-off-hours-up", "cron(0 8 ? * MON-FRI *)", { minCapacity: 2, maxCapacity: 4 }],
    ]);
    const line = (name: string) => report.cost.lines.find((l) => l.resource === name)!;
    // Fleet: 1 x 730 x 60/168 x $1.006 less 25% (Compute 1y) = 196.71; peak 2 = 393.42
    assert.deepStrictEqual(figures(line("fleet-asg")), [196.71, 196.71, 393.42]);
    // Chat: 2 for 60/168 of the hours and 1 for the rest, x 730 x $1.515 (no SageMaker plan):
    // (2 x 0.357143 + 1 x 0.642857) x 1,105.95 = 1,500.93; peak 4 all month = 4,423.80
    assert.deepStrictEqual(figures(line("chat-config")), [1500.93, 1500.93, 4423.8]);
  });

  it("the budget checks the figure its pack configuration names", async () => {
    const captured = reports.dev.resources as CapturedResource[];
    const verdicts = async (figure: string) =>
      (
        await evaluatePolicies([monthlyBudget], captured, {
          project: "llm-infra",
          stack: "dev",
          config: { "monthly-budget": { monthlyBudgetUsd: 1000, figure } },
        })
      ).verdicts.map((v) => v.message);
    assert.deepStrictEqual(await verdicts("expected"), []);
    assert.deepStrictEqual(await verdicts("idle"), []);
    const peak = await verdicts("peak");
    assert.strictEqual(peak.length, 1);
    // The pack sees resources only: it prices with the default usage assumptions (a 200 GB EFS
    // cache, $54 more than dev's own 20 GB) and before any Savings Plan.
    assert.match(peak[0], /^estimated peak \$1,321\.52\/month exceeds the budget of \$1,000\.00/);
  });
});
