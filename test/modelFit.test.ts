import * as assert from "assert";
import fc from "fast-check";
import {
  BYTES_PER_PARAMETER,
  INSTANCE_SPECS,
  ModelDtype,
  ModelRequirements,
  cheapestInstanceThatFits,
  estimateMemory,
  estimateShape,
  fitsInstance,
  getInstance,
  instancesThatFit,
  largestContextThatFits,
  shorterContextAdvice,
  validateModelRequirements,
} from "../catalog";
import { SageMakerEndpoint } from "../components";
import { LLAMA3_8B } from "./helpers";

const GIB = 1024 ** 3;

describe("catalog: model fit", () => {
  it("computes weights and KV cache from the model's shape", () => {
    const m = estimateMemory(LLAMA3_8B);
    assert.strictEqual(m.weightsGib, (8e9 * 2) / GIB);
    // 2 (K,V) x 32 layers x 1024 (4096 x 8/32) x 8192 tokens x 4 sequences x 2 bytes = 4 GiB
    assert.strictEqual(m.kvCacheGib, 4);
    assert.strictEqual(m.requiredGib, (m.weightsGib + 4) / 0.9);
    assert.strictEqual(m.shapeEstimated, false);
  });

  it("fits Llama 3 8B in bf16 on one A10G, and not with 16 long sequences", () => {
    assert.strictEqual(fitsInstance(LLAMA3_8B, getInstance("g5.xlarge")).fits, true);
    assert.strictEqual(
      fitsInstance({ ...LLAMA3_8B, concurrentSequences: 16 }, getInstance("g5.xlarge")).fits,
      false,
    );
  });

  it("says which context fits when only the KV cache does not, and refuses the endpoint with it", () => {
    const long = { ...LLAMA3_8B, contextLength: 32768, concurrentSequences: 2 };
    const a10g = getInstance("g5.xlarge");
    // 22,888 MiB x 0.9 leaves 21,599,... bytes; less 16e9 of weights, at 128 KiB a token
    // (2 x 32 layers x 1024 x 2 bytes) for 2 sequences: 21,361 tokens, 21,248 in blocks of 256.
    const usable = (22888 / 1024) * GIB * 0.9;
    assert.strictEqual(
      largestContextThatFits(long, a10g),
      Math.floor((usable - 16e9) / (131072 * 2) / 256) * 256,
    );
    assert.strictEqual(largestContextThatFits(long, a10g), 21248);
    assert.strictEqual(
      shorterContextAdvice(long, a10g),
      "; or contextLength 21248 fits at concurrentSequences 2",
    );
    // Nothing to say when the context already fits, or when the weights alone do not.
    assert.strictEqual(shorterContextAdvice(LLAMA3_8B, a10g), "");
    assert.strictEqual(
      largestContextThatFits({ ...LLAMA3_8B, parametersBillions: 70 }, a10g),
      undefined,
    );
    assert.throws(
      () =>
        new SageMakerEndpoint("chat", {
          modelBucketArn: "arn:aws:s3:::b",
          modelDataPrefix: "model-repository/chat",
          image: "lmi",
          region: "us-east-1",
          instanceType: "ml.g5.xlarge",
          modelRequirements: long,
        }),
      /modelRequirements: the model needs 25\.4 GiB of accelerator memory but ml\.g5\.xlarge has 22\.4 GiB; ml\.g6e\.xlarge fits; or contextLength 21248 fits at concurrentSequences 2$/m,
    );
  });

  it("estimates a decoder shape close to Llama's from the parameter count", () => {
    const { layers, hiddenSize } = estimateShape(7);
    assert.ok(Math.abs(layers - 32) <= 2, `layers ${layers}`);
    assert.ok(Math.abs(hiddenSize - 4096) / 4096 < 0.05, `hidden ${hiddenSize}`);
  });

  it("picks the cheapest instance that holds a 70B model in bf16", () => {
    const req: ModelRequirements = {
      parametersBillions: 70,
      dtype: "bf16",
      contextLength: 4096,
      concurrentSequences: 8,
      layers: 80,
      hiddenSize: 8192,
      attentionHeads: 64,
      kvHeads: 8,
    };
    const gpu = cheapestInstanceThatFits(req, {
      region: "us-east-1",
      service: "ec2",
      accelerator: "nvidia",
    });
    // 140 GB of weights + 10 GiB of KV cache over 0.9: 156 GiB; four L40S hold 178.8 GiB.
    assert.strictEqual(gpu?.instanceType, "g6e.12xlarge");
    const sm = cheapestInstanceThatFits(req, {
      region: "us-east-1",
      service: "sagemaker",
      accelerator: "nvidia",
    });
    assert.strictEqual(sm?.instanceType, "ml.g6e.12xlarge");
    assert.strictEqual(sm?.hourlyUsd, 13.12);
  });

  it("finds nothing for a model no single instance holds", () => {
    const req: ModelRequirements = {
      parametersBillions: 1000,
      dtype: "fp32",
      contextLength: 4096,
      concurrentSequences: 1,
    };
    assert.deepStrictEqual(instancesThatFit(req, { region: "us-east-1", service: "ec2" }), []);
  });

  it("rejects bad requirements naming each field", () => {
    const errors = validateModelRequirements({
      parametersBillions: -1,
      dtype: "fp64" as ModelDtype,
      contextLength: 0.5,
      concurrentSequences: 1,
      headroomFraction: 1,
      kvHeads: 8,
    });
    assert.deepStrictEqual(
      errors.map((e) => e.split(" ")[0]),
      ["parametersBillions", "contextLength", "dtype", "headroomFraction", "kvHeads"],
    );
    assert.throws(
      () => estimateMemory({ ...LLAMA3_8B, contextLength: 0 }),
      /contextLength must be a positive integer/,
    );
  });

  const requirements = fc.record({
    parametersBillions: fc.double({ min: 0.1, max: 500, noNaN: true }),
    dtype: fc.constantFrom(...(Object.keys(BYTES_PER_PARAMETER) as ModelDtype[])),
    contextLength: fc.integer({ min: 1, max: 131072 }),
    concurrentSequences: fc.integer({ min: 1, max: 256 }),
    headroomFraction: fc.double({ min: 0, max: 0.5, noNaN: true }),
  });

  it("needs more memory for more parameters, context or sequences (property)", () => {
    fc.assert(
      fc.property(requirements, fc.double({ min: 1.01, max: 4, noNaN: true }), (req, k) => {
        const base = estimateMemory({ ...req, layers: 32, hiddenSize: 4096 }).requiredGib;
        assert.ok(
          estimateMemory({
            ...req,
            layers: 32,
            hiddenSize: 4096,
            parametersBillions: req.parametersBillions * k,
          }).requiredGib > base,
        );
        assert.ok(
          estimateMemory({
            ...req,
            layers: 32,
            hiddenSize: 4096,
            concurrentSequences: req.concurrentSequences + 1,
          }).requiredGib > base,
        );
        assert.ok(
          estimateMemory({
            ...req,
            layers: 32,
            hiddenSize: 4096,
            contextLength: req.contextLength + 1,
          }).requiredGib > base,
        );
      }),
    );
  });

  it("returns only instances that fit, cheapest first, and none cheaper that fits (property)", () => {
    fc.assert(
      fc.property(
        requirements,
        fc.constantFrom("ec2" as const, "sagemaker" as const),
        (req, service) => {
          const choices = instancesThatFit(req, { region: "us-east-1", service });
          for (let i = 1; i < choices.length; i++)
            assert.ok(choices[i - 1].hourlyUsd <= choices[i].hourlyUsd);
          for (const c of choices) assert.ok(c.requiredGib <= c.availableGib);
          const chosen = new Set(choices.map((c) => c.instanceType.replace(/^ml\./, "")));
          for (const spec of Object.values(INSTANCE_SPECS)) {
            if (!spec.accelerator || chosen.has(spec.instanceType)) continue;
            // Left out: it does not fit, or has no price for the service.
            const fit = fitsInstance(req, spec).fits;
            if (fit)
              assert.ok(
                service === "sagemaker",
                `${spec.instanceType} fits but was left out of EC2 choices`,
              );
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
