import * as assert from "assert";
import { SageMakerEndpoint, SageMakerEndpointArgs } from "../components";
import { lmiEnvironment } from "../components/sagemaker/lmiEnvironment";
import { cudaAtMost, lmiTagCuda } from "../catalog/images";
import { parseStackConfig } from "../programs/config";
import { CapturedResource } from "../offline/engine";
import { PlanReport, planStack } from "../offline/plan";
import { checkServingContainers } from "../checks/servingContainers";
import { iamScenarios, decide } from "../checks/iamScenarios";
import { weightsEndpointsOf, stackTargets } from "../modelRepository/targets";
import { LLAMA3_8B, one, resourcesOf, configProblems } from "./helpers";

const BASE = {
  "aws:region": "us-east-1",
  "llm-infra:environment": "staging",
  "llm-infra:tags": { team: "ml", costCenter: "1" },
  "llm-infra:storage": { repositories: ["triton"] },
};
const HUB = "NousResearch/Meta-Llama-3-8B-Instruct";

/** A stack with one SageMaker endpoint: LMI serving a hub model, plus `extra`. */
const lmiStack = (extra: Record<string, unknown>) => ({
  ...BASE,
  "llm-infra:sagemaker": {
    endpoints: [
      {
        name: "chat",
        instanceType: "ml.g5.2xlarge",
        image: "lmi",
        imageVersion: "0.31.0",
        inferenceAmiVersion: "al2-ami-sagemaker-inference-gpu-3-1",
        hubModel: HUB,
        model: LLAMA3_8B,
        ...extra,
      },
    ],
  },
});

const problemsOf = (config: Record<string, unknown>) => configProblems(config);

const KEY = "llm-infra:sagemaker.endpoints[0]";

describe("SageMaker endpoints on the LMI container (image: lmi, hubModel)", () => {
  it("takes an LMI endpoint with a hub model and revision, which reads Hugging Face weights, not a Triton repository", () => {
    const config = parseStackConfig(lmiStack({ hubRevision: "main" }), "staging");
    const [e] = config.sagemaker.endpoints;
    assert.strictEqual(e.hubModel, HUB);
    assert.strictEqual(e.hubRevision, "main");
    assert.deepStrictEqual(stackTargets(config), []);
    assert.deepStrictEqual(weightsEndpointsOf(config), [
      {
        label: "endpoint chat",
        prefix: "model-repository/chat",
        hub: { repoId: HUB, revision: "main" },
        servesNeuronModel: false,
        configKey: KEY,
      },
    ]);
  });

  it("refuses hubModel with a Triton image, with a tarball, and a malformed id or revision, naming the key", () => {
    assert.deepStrictEqual(
      problemsOf(lmiStack({ image: "triton", imageVersion: undefined, tritonModelName: "m" })),
      [
        `${KEY}.hubModel does not apply with image triton: the weights copy feeds the LMI container (image: lmi) and the Neuron export the vLLM Neuron container (image: vllm-neuron); a Triton image reads a model repository whose model.json names the hub model (modelRepository); remove it`,
      ],
    );
    assert.deepStrictEqual(problemsOf(lmiStack({ modelDataTarball: "models/chat.tar.gz" })), [
      `${KEY}.hubModel does not apply with modelDataTarball (the weights are copied to the endpoint's prefix, not into a tarball); remove it`,
    ]);
    assert.deepStrictEqual(problemsOf(lmiStack({ hubModel: "../llama" })), [
      `${KEY}.hubModel must be a Hugging Face Hub id owner/name, got "../llama"`,
    ]);
    assert.deepStrictEqual(problemsOf(lmiStack({ hubRevision: "main branch" })), [
      `${KEY}.hubRevision must be a branch, tag or commit of the hub repository, got "main branch"`,
    ]);
    assert.deepStrictEqual(problemsOf(lmiStack({ hubModel: undefined, hubRevision: "main" })), [
      `${KEY}.hubRevision does not apply without hubModel (the revision of the hub model LMI serves); remove it`,
    ]);
  });

  it("refuses tritonModelName with a container that is not Triton", () => {
    assert.deepStrictEqual(problemsOf(lmiStack({ tritonModelName: "llama3-8b" })), [
      `${KEY}.tritonModelName does not apply with image lmi (it names the Triton model a Triton image serves by default); remove it`,
    ]);
  });

  it("configures the container to what the fit check sized the instance for, the stack's environment winning", async () => {
    const args: SageMakerEndpointArgs = {
      modelBucketArn: "arn:aws:s3:::models-bucket-1234567",
      modelDataPrefix: "model-repository/chat",
      image: "lmi",
      imageVersion: "0.31.0",
      instanceType: "ml.g5.2xlarge",
      modelRequirements: LLAMA3_8B,
      environment: { OPTION_GPU_MEMORY_UTILIZATION: "0.85", OPTION_MAX_MODEL_LEN: "4096" },
    };
    const res = await resourcesOf(() => new SageMakerEndpoint("chat", args));
    const container = one(res, "aws:sagemaker/model:Model").inputs.primaryContainer as {
      image: string;
      environment: Record<string, string>;
      modelDataSource: { s3DataSources: { s3Uri: string; compressionType: string }[] };
    };
    assert.strictEqual(
      container.image,
      "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.31.0-lmi13.0.0-cu124",
    );
    assert.deepStrictEqual(container.environment, {
      HF_MODEL_ID: "/opt/ml/model",
      OPTION_ROLLING_BATCH: "vllm",
      TENSOR_PARALLEL_DEGREE: "max",
      OPTION_MAX_MODEL_LEN: "4096",
      OPTION_MAX_ROLLING_BATCH_SIZE: "4",
      OPTION_DTYPE: "bf16",
      OPTION_GPU_MEMORY_UTILIZATION: "0.85",
    });
    assert.deepStrictEqual(
      container.modelDataSource.s3DataSources.map((s) => [s.s3Uri, s.compressionType]),
      [["s3://models-bucket-1234567/model-repository/chat/", "None"]],
    );
    // Triton gets none of it.
    const triton = await resourcesOf(
      () =>
        new SageMakerEndpoint("t", {
          ...args,
          image: "triton",
          imageVersion: undefined,
          tritonModelName: "llama3-8b",
          environment: undefined,
        }),
    );
    const env = (
      one(triton, "aws:sagemaker/model:Model").inputs.primaryContainer as {
        environment: Record<string, string>;
      }
    ).environment;
    assert.deepStrictEqual(env, { SAGEMAKER_TRITON_DEFAULT_MODEL_NAME: "llama3-8b" });
  });

  it("passes quantized weights without a dtype, and no sizing without a model", () => {
    assert.strictEqual(lmiEnvironment({ ...LLAMA3_8B, dtype: "int4" }).OPTION_DTYPE, undefined);
    assert.deepStrictEqual(lmiEnvironment(undefined), {
      HF_MODEL_ID: "/opt/ml/model",
      OPTION_ROLLING_BATCH: "vllm",
      TENSOR_PARALLEL_DEGREE: "max",
    });
  });

  it("reads an LMI tag's CUDA and compares versions", () => {
    assert.strictEqual(lmiTagCuda("0.31.0-lmi13.0.0-cu124"), "12.4");
    assert.strictEqual(lmiTagCuda("0.36.0-lmi25.0.0-cu130"), "13.0");
    assert.strictEqual(lmiTagCuda("0.36.0-lmi20.0.0-cu128-v1.0"), "12.8");
    assert.strictEqual(lmiTagCuda("0.30.0-neuronx-sdk2.20.1"), undefined);
    assert.ok(cudaAtMost("12.4", "12.4"));
    assert.ok(cudaAtMost("12.4", "13.0"));
    assert.ok(!cudaAtMost("12.8", "12.4"));
    assert.ok(!cudaAtMost("13.0", "12.9"));
  });
});

describe("whole stack: each SageMaker model's container can answer (sagemaker-containers-serve)", () => {
  const plans: Record<string, PlanReport> = {};
  before(async function () {
    this.timeout(240_000);
    for (const s of ["dev", "staging", "prod"]) plans[s] = await planStack(s);
  });

  const model = (image: string, environment: Record<string, string>, isolated = true) =>
    ({
      type: "aws:sagemaker/model:Model",
      name: "chat-model",
      parent: "chat",
      custom: true,
      id: "chat-model-1",
      inputs: { enableNetworkIsolation: isolated, primaryContainer: { image, environment } },
      protect: false,
      retainOnDelete: false,
      dependencies: [],
    }) as CapturedResource;
  const config = (instanceType: string, inferenceAmiVersion?: string) =>
    ({
      type: "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
      name: "chat-config",
      parent: "chat",
      custom: true,
      inputs: {
        productionVariants: [
          { variantName: "primary", instanceType, inferenceAmiVersion, modelName: "chat-model-1" },
        ],
      },
      protect: false,
      retainOnDelete: false,
      dependencies: [],
    }) as CapturedResource;
  const ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com/triton";
  const LMI = "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.31.0-lmi13.0.0-cu124";

  it("passes every shipped stack, whose endpoints run LMI from their model data", () => {
    for (const [stack, plan] of Object.entries(plans)) {
      assert.deepStrictEqual(checkServingContainers(plan.resources), [], stack);
      const models = plan.resources.filter((r) => r.type === "aws:sagemaker/model:Model");
      assert.ok(models.length > 0, stack);
      for (const m of models)
        assert.match(
          String((m.inputs.primaryContainer as { image: string }).image),
          /\/djl-inference:0\.31\.0-lmi13\.0\.0-cu124$/,
        );
    }
  });

  it("finds a Triton vLLM image without SageMaker's generate handler, and one whose driver the AMI lacks", () => {
    const old = checkServingContainers([
      model(`${ECR}:24.05-vllm-python-py3`, {}),
      config("ml.g5.2xlarge", "al2-ami-sagemaker-inference-gpu-3-1"),
    ]);
    assert.deepStrictEqual(
      old.map((f) => f.resource),
      ["chat-model"],
    );
    assert.match(old[0].message, /has no SageMaker generate handler/);
    const newer = checkServingContainers([
      model(`${ECR}:25.03-vllm-python-py3`, {}),
      config("ml.g5.2xlarge", "al2-ami-sagemaker-inference-gpu-3-1"),
    ]);
    assert.strictEqual(newer.length, 1);
    assert.match(
      newer[0].message,
      /on variant primary: "25\.03-vllm-python-py3" needs NVIDIA driver 570\.124\.06 or later .* has driver 550/,
    );
  });

  it("finds LMI told to download a hub model while the model has no network, and not when it may", () => {
    const hub = { HF_MODEL_ID: "NousResearch/Meta-Llama-3-8B-Instruct" };
    const found = checkServingContainers([model(LMI, hub), config("ml.g5.2xlarge")]);
    assert.strictEqual(found.length, 1);
    assert.match(found[0].message, /^HF_MODEL_ID ".*" is a Hugging Face Hub id, .*network/);
    assert.deepStrictEqual(checkServingContainers([model(LMI, hub, false)]), []);
    assert.deepStrictEqual(
      checkServingContainers([model(LMI, { HF_MODEL_ID: "s3://bucket/llama/" })]),
      [],
    );
  });

  it("lets the weights copy write each LMI endpoint's prefix, and nothing next to it", () => {
    const rows = iamScenarios(plans.dev.resources).filter((s) =>
      s.description.startsWith("model-weights:"),
    );
    const byDescription = (d: string) => {
      const row = rows.find((s) => s.description === `model-weights: ${d}`);
      assert.ok(row, `${d} in ${rows.map((s) => s.description).join("; ")}`);
      return row;
    };
    // dev's chat endpoint: its component llama reads model-repository/chat/llama/.
    const write = byDescription("writes the weights under model-repository/chat/llama/");
    assert.strictEqual(decide(write), "allow");
    const next = byDescription(
      "cannot write next to model-repository/chat/llama/ (model-repository/chat/llama-next/)",
    );
    assert.strictEqual(next.expect, "deny");
    assert.match(String(decide(next)), /deny$/);
  });
});
