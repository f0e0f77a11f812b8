import { tagsOf } from "../policy/resources";
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { startupEstimate } from "../catalog/startup";
import { LLAMA3_8B, configProblems } from "./helpers";
import { THROUGHPUT_ROWS, throughputRowFor, usdPerMillionTokens } from "../catalog/throughput";
import {
  MODEL_CLASS_TAG,
  UTILIZATION_TAG,
  engineOfImage,
  servingTargets,
} from "../catalog/tokenCost";
import { ResourceRecord } from "../catalog/cost";
import { SAVINGS_PLANS, SPOT_DISCOUNT } from "../catalog/prices";
import { PlanReport, planConfig, planStack, readStackFile } from "../offline/plan";
import { toText } from "../offline/report";

/** A fleet of one instance type running an image, its group tagged with a model class. */
function fleet(
  instanceType: string,
  image: string,
  tags: Record<string, string>,
): ResourceRecord[] {
  return [
    {
      type: "aws:ec2/launchTemplate:LaunchTemplate",
      name: "fleet-lt",
      id: "lt-1",
      inputs: { instanceType, userData: `#!/bin/bash\ndocker pull ${image}\n` },
    },
    {
      type: "aws:autoscaling/group:Group",
      name: "fleet-asg",
      parent: "fleet",
      inputs: {
        launchTemplate: { id: "lt-1" },
        tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
      },
    },
  ];
}

describe("cost per million output tokens", () => {
  it("recomputes every published cost the throughput table carries", () => {
    const costed = THROUGHPUT_ROWS.filter((r) => r.publishedCost);
    assert.ok(costed.length >= 3);
    for (const r of costed) {
      const mine = usdPerMillionTokens(
        r.publishedCost!.usdPerAcceleratorHour * r.tensorParallel,
        r.outputTokensPerSecond,
        1,
      );
      // The source rounds to three or four digits.
      assert.ok(
        Math.abs(mine - r.publishedCost!.usdPerMillionOutputTokens) < 0.0006,
        `${r.id}: ${mine} vs ${r.publishedCost!.usdPerMillionOutputTokens}`,
      );
    }
    // Row C1 at 10 req/s end to end: $6.98 / (2,464.45 x 3600 / 1e6) = $0.787.
    const c1 = THROUGHPUT_ROWS.find((r) => r.id === "vllm-0.19-llama3.1-8b-fp16-h100-10rps")!;
    assert.strictEqual(usdPerMillionTokens(6.98, c1.outputTokensPerSecond, 1).toFixed(3), "0.787");
  });

  it("keeps out what cannot be reproduced, and gives every row a source, a date and its setup", () => {
    assert.ok(!THROUGHPUT_ROWS.some((r) => /qwen/i.test(r.id + r.model)));
    assert.strictEqual(new Set(THROUGHPUT_ROWS.map((r) => r.id)).size, THROUGHPUT_ROWS.length);
    for (const r of THROUGHPUT_ROWS) {
      assert.ok(r.source && r.date && r.load && r.metric, r.id);
      assert.ok(r.outputTokensPerSecond > 0 && r.inputTokens > 0 && r.outputTokens > 0, r.id);
    }
  });

  it("looks a row up by parameter class, dtype, engine, accelerator and tensor parallelism, the slowest of several", () => {
    const q = {
      parametersBillions: 8,
      dtype: "fp8" as const,
      engine: "tensorrt-llm" as const,
      accelerator: "L40S" as const,
      tensorParallel: 1,
    };
    assert.strictEqual(throughputRowFor(q)?.outputTokensPerSecond, 4054.71);
    assert.strictEqual(throughputRowFor({ ...q, tensorParallel: 2 }), undefined);
    assert.strictEqual(throughputRowFor({ ...q, dtype: "bf16" }), undefined);
    assert.strictEqual(throughputRowFor({ ...q, engine: "vllm" }), undefined);
    // Two 70B bf16/fp8 rows on H100: only the one with the same dtype and parallelism.
    assert.strictEqual(
      throughputRowFor({ ...q, parametersBillions: 70, accelerator: "H100", tensorParallel: 2 })
        ?.id,
      "trtllm-0.17-llama3.1-70b-fp8-2xh100",
    );
  });

  it("knows the engine of the images the stacks run", () => {
    assert.strictEqual(
      engineOfImage(
        "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.31.0-lmi13.0.0-cu124",
      ),
      "vllm",
    );
    assert.strictEqual(engineOfImage("nvcr.io/nvidia/tritonserver:24.05-vllm-python-py3"), "vllm");
    assert.strictEqual(
      engineOfImage("nvcr.io/nvidia/tritonserver:25.01-trtllm-python-py3"),
      "tensorrt-llm",
    );
    assert.strictEqual(engineOfImage("nvcr.io/nvidia/tritonserver:24.05-py3"), undefined);
    assert.strictEqual(
      engineOfImage(
        "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.30.0-neuronx-sdk2.20.1",
      ),
      undefined,
    );
  });

  it("prices a target with its inputs, so the figure can be recomputed", () => {
    const [record] = servingTargets(
      fleet("g6e.xlarge", "nvcr.io/nvidia/tritonserver:25.01-trtllm-python-py3", {
        [MODEL_CLASS_TAG]: "8B fp8",
        [UTILIZATION_TAG]: "0.5",
      }),
      { region: "us-east-1" },
    );
    // $1.861/h / (4,054.71 tok/s x 3600 x 0.5) x 1e6.
    // g6e.xlarge: 8 GB at 2.5 Gbps (no burst known), no grace period in this plan.
    assert.deepStrictEqual(record.startup, {
      weightsBytes: 8e9,
      downloadSeconds: 25.6,
      loadSeconds: startupEstimate({ ...LLAMA3_8B, dtype: "fp8" }, "g6e.xlarge")!.loadSeconds,
    });
    assert.deepStrictEqual(
      { ...record, usdPerMillionOutputTokens: undefined, startup: undefined },
      {
        target: "EC2 fleet",
        resource: "fleet-asg",
        instanceType: "g6e.xlarge",
        engine: "tensorrt-llm",
        usdPerHour: 1.861,
        basis: "on-demand",
        modelClass: "8B fp8",
        utilization: 0.5,
        tensorParallel: 1,
        row: {
          id: "trtllm-0.17-llama3.1-8b-fp8-1xl40s",
          load: "max",
          outputTokensPerSecond: 4054.71,
          source: THROUGHPUT_ROWS.find((r) => r.id === "trtllm-0.17-llama3.1-8b-fp8-1xl40s")!
            .source,
        },
        usdPerMillionOutputTokens: undefined,
        startup: undefined,
      },
    );
    assert.strictEqual(record.usdPerMillionOutputTokens, (1.861 / (4054.71 * 3600 * 0.5)) * 1e6);
    assert.strictEqual(record.usdPerMillionOutputTokens!.toFixed(4), "0.2550");
  });

  it("says why a target has no figure", () => {
    const why = (instanceType: string, image: string, tags: Record<string, string>) =>
      servingTargets(fleet(instanceType, image, tags), { region: "us-east-1" })[0].reason;
    const trt = "nvcr.io/nvidia/tritonserver:25.01-trtllm-python-py3";
    assert.strictEqual(
      why("g6e.xlarge", trt, { [UTILIZATION_TAG]: "0.5" }),
      `no model declared (tag ${MODEL_CLASS_TAG} on the Auto Scaling group)`,
    );
    assert.strictEqual(
      why("g6e.xlarge", trt, { [MODEL_CLASS_TAG]: "8B fp8", [UTILIZATION_TAG]: "lots" }),
      `the ${UTILIZATION_TAG} tag on the Auto Scaling group must be a fraction of the hours in (0, 1], got "lots"`,
    );
    assert.strictEqual(
      why("g6e.xlarge", "nvcr.io/nvidia/tritonserver:24.05-py3", { [MODEL_CLASS_TAG]: "8B fp8" }),
      "the serving image's engine is not known",
    );
    assert.strictEqual(
      why("g5.xlarge", trt, { [MODEL_CLASS_TAG]: "8B bf16" }),
      "no published throughput for 8B bf16 on tensorrt-llm with 1 x A10G (catalog/throughput.ts)",
    );
  });

  describe("in the shipped stacks' plans", () => {
    const plans: Record<string, PlanReport> = {};
    before(async function () {
      this.timeout(240_000);
      for (const s of ["dev", "staging", "prod"]) plans[s] = await planStack(s);
    });

    it("gives each serving target a line, with why none has a published row", () => {
      assert.deepStrictEqual(
        plans.staging.servingTargets.map((t) => [t.target, t.reason]),
        [
          [
            "SageMaker endpoint chat",
            "no published throughput for 8B bf16 on vllm with 1 x A10G (catalog/throughput.ts)",
          ],
          [
            "EC2 fleet",
            "no published throughput for 8B bf16 on vllm with 1 x A10G (catalog/throughput.ts)",
          ],
          [
            "Triton on EKS triton-release",
            "no published throughput for 8B bf16 on vllm with 1 x L4 (catalog/throughput.ts)",
          ],
        ],
      );
      assert.deepStrictEqual(
        plans.prod.servingTargets.map((t) => t.target),
        ["SageMaker endpoint chat", "SageMaker endpoint batch", "Triton on EKS triton-release"],
      );
      // Triton on EKS: its model from the pods' annotations, a pod's one A10G of the node, the
      // node's price for that share, and the startup probe's 10 s x 120.
      const triton = plans.dev.servingTargets.find((t) => t.target.startsWith("Triton"))!;
      assert.deepStrictEqual(
        [
          triton.instanceType,
          triton.modelClass,
          triton.engine,
          triton.tensorParallel,
          triton.usdPerHour,
        ],
        ["g5.xlarge", "8B bf16", "vllm", 1, 1.006 * (1 - SPOT_DISCOUNT.discount)],
      );
      // dev's GPU group is spot: the estimator's spot assumption, as its cost line has it.
      assert.strictEqual(
        triton.basis,
        `on-demand less ${Math.round(SPOT_DISCOUNT.discount * 100)}% (spot assumption), a pod's 1 of 1 accelerators`,
      );
      assert.strictEqual(triton.startup?.loadLimitSeconds, 1200);
      assert.strictEqual(
        triton.reason,
        "no published throughput for 8B bf16 on vllm with 1 x A10G (catalog/throughput.ts)",
      );
      const text = toText(plans.staging);
      assert.match(
        text,
        /Serving targets: cost per 1M output tokens \(one instance at its published throughput\) and start-up:\n {2}SageMaker endpoint chat \(ml\.g5\.2xlarge, 8B bf16\): no figure: no published throughput/,
      );
      // Will it start: the weights against the variant's timeouts and the fleet's grace period.
      assert.deepStrictEqual(
        plans.staging.servingTargets.map((t) => t.startup),
        [
          {
            weightsBytes: 16e9,
            downloadSeconds: 12.8,
            loadSeconds: startupEstimate(LLAMA3_8B, "ml.g5.2xlarge")!.loadSeconds,
            downloadLimitSeconds: 1800,
            loadLimitSeconds: 1800,
          },
          {
            weightsBytes: 16e9,
            downloadSeconds: 12.8,
            loadSeconds: startupEstimate(LLAMA3_8B, "g5.xlarge")!.loadSeconds,
            totalLimitSeconds: 1200,
          },
          {
            weightsBytes: 16e9,
            downloadSeconds: 12.8,
            loadSeconds: startupEstimate(LLAMA3_8B, "g6.2xlarge")!.loadSeconds,
            loadLimitSeconds: 1200,
          },
        ],
      );
      // docs/token-cost.md's sample is what staging prints.
      const page = fs.readFileSync(
        path.join(__dirname, "..", "..", "docs", "token-cost.md"),
        "utf8",
      );
      const sample = /```\n(Serving targets:[\s\S]*?)```/.exec(page);
      assert.ok(sample, "docs/token-cost.md has the sample");
      for (const line of sample[1].split("\n").filter((l) => l !== ""))
        assert.ok(text.split("\n").includes(line), `staging prints ${JSON.stringify(line)}`);
      // The policy has nothing to hold, and says why.
      const verdicts = plans.staging.policies.filter(
        (p) => p.policy === "max-usd-per-million-tokens",
      );
      assert.deepStrictEqual(verdicts, []);
    });

    it("prices at the stack's Savings Plans in the plan, and says so; the policy prices on-demand", async () => {
      const raw = readStackFile("staging") as Record<string, Record<string, unknown>>;
      const held = await planConfig("staging", {
        ...raw,
        "llm-infra:cost": {
          ...raw["llm-infra:cost"],
          savingsPlans: { sagemaker: "1y", compute: "3y" },
        },
      });
      const [chat, fleet] = held.servingTargets;
      const sm = SAVINGS_PLANS.sagemaker["1y"].discount;
      const compute = SAVINGS_PLANS.compute["3y"].discount;
      assert.strictEqual(chat.usdPerHour, 1.515 * (1 - sm));
      assert.strictEqual(
        chat.basis,
        `on-demand less ${Math.round(sm * 100)}% (SageMaker Savings Plan, 1y)`,
      );
      assert.strictEqual(fleet.usdPerHour, 1.006 * (1 - compute));
      assert.strictEqual(
        fleet.basis,
        `on-demand less ${Math.round(compute * 100)}% (Compute Savings Plan, 3y)`,
      );
      // Without the stack's settings (what the policy sees), on-demand.
      assert.deepStrictEqual(
        servingTargets(held.resources, { region: "us-east-1" }).map((t) => [t.usdPerHour, t.basis]),
        [
          [1.515, "on-demand"],
          [1.006, "on-demand"],
          // Triton on staging's pool: the g6.2xlarge its cost line prices (the cheaper of the
          // pool's two types per replica), at spot, the first rung of its ladder.
          [
            0.9776 * (1 - SPOT_DISCOUNT.discount),
            `on-demand less ${Math.round(SPOT_DISCOUNT.discount * 100)}% (spot assumption), a pod's 1 of 1 accelerators`,
          ],
        ],
      );
    });

    it("records each endpoint's model class and utilization, the stack's assumption or its own", async () => {
      // dev's chat endpoint: its component carries the model, its configuration the utilization
      // (aws-native tags are a list of key/value pairs).
      const tags = (r: PlanReport, name: string) =>
        tagsOf(r.resources.find((x) => x.name === name)!.inputs);
      assert.strictEqual(tags(plans.dev, "chat-llama")[MODEL_CLASS_TAG], "8B bf16");
      assert.strictEqual(tags(plans.prod, "chat-config")[MODEL_CLASS_TAG], "8B bf16");
      assert.strictEqual(tags(plans.dev, "chat-config")[UTILIZATION_TAG], "0.5");
      const raw = readStackFile("dev") as Record<string, Record<string, unknown>>;
      const endpoints = (raw["llm-infra:sagemaker"].endpoints as Record<string, unknown>[]).map(
        (e) => ({
          ...e,
          utilization: 0.25,
        }),
      );
      const custom = await planConfig("dev", {
        ...raw,
        "llm-infra:cost": { ...raw["llm-infra:cost"], assumptions: { utilization: 0.3 } },
        "llm-infra:sagemaker": { endpoints },
      });
      assert.strictEqual(tags(custom, "chat-config")[UTILIZATION_TAG], "0.25");
      const assumed = await planConfig("dev", {
        ...raw,
        "llm-infra:cost": { ...raw["llm-infra:cost"], assumptions: { utilization: 0.3 } },
      });
      assert.strictEqual(tags(assumed, "chat-config")[UTILIZATION_TAG], "0.3");
      const groups = (r: PlanReport) =>
        (
          r.resources.find((x) => x.name === "fleet-asg")!.inputs.tags as {
            key: string;
            value: string;
          }[]
        )
          .filter((t) => t.key === UTILIZATION_TAG)
          .map((t) => t.value);
      assert.deepStrictEqual(groups(plans.staging), ["0.5"]);
    });

    it("refuses a utilization outside (0, 1], naming the key", () => {
      const problems = (config: Record<string, unknown>) => configProblems(config, "dev");
      const raw = readStackFile("dev") as Record<string, Record<string, unknown>>;
      assert.deepStrictEqual(
        problems({
          ...raw,
          "llm-infra:cost": { ...raw["llm-infra:cost"], assumptions: { utilization: 1.5 } },
        }),
        [
          "llm-infra:cost.assumptions.utilization must be a fraction of the hours in (0, 1], got 1.5",
        ],
      );
      const endpoints = (raw["llm-infra:sagemaker"].endpoints as Record<string, unknown>[]).map(
        (e) => ({
          ...e,
          utilization: 0,
        }),
      );
      assert.deepStrictEqual(problems({ ...raw, "llm-infra:sagemaker": { endpoints } }), [
        "llm-infra:sagemaker.endpoints[0].utilization must be a fraction of the hours in (0, 1], got 0",
      ]);
    });
  });
});
