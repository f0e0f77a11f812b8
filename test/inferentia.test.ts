/**
 * An LLM on Inferentia2, from the stack file to what is created: the Neuron layout of a model
 * (catalog/neuron.ts), the shipped example stack (examples/inferentia) planned under mocks, the
 * serving container's environment, the Neuron export that compiles the model before the endpoint,
 * the role that export runs with, and the request the endpoint takes.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { neuronCompileSeconds, neuronLayout } from "../catalog/neuron";
import { ModelRequirements } from "../catalog/modelFit";
import { servingImageUri } from "../catalog/images";
import { buildRequest } from "../client/sagemakerClient";
import { answerText } from "../automation/smoke";
import { modelTargets } from "../automation/preflightArtifacts";
import { requestSchemaOf } from "../components/api/inferenceApi";
import { decide, iamScenarios } from "../checks/iamScenarios";
import { checkServingContainers } from "../checks/servingContainers";
import { CapturedResource } from "../checks/resource";
import { requestFormatOf } from "../components/sagemaker/sageMakerEndpoint";
import { copyMarker } from "../components/storage/modelWeights";
import { parseStackConfig } from "../programs/config";
import { weightsCopiesOf, weightsMarkers } from "../modelRepository/weights";
import { PlanReport, planStack, projectRoot, readStackFile } from "../offline/plan";
import { LLAMA3_8B, ofType, one, policyOf } from "./helpers";

const EXAMPLE_DIR = path.join(projectRoot(), "examples", "inferentia");
const LLAMA_3B: ModelRequirements = {
  parametersBillions: 3.2,
  dtype: "bf16",
  contextLength: 4096,
  concurrentSequences: 4,
  layers: 28,
  hiddenSize: 3072,
  attentionHeads: 24,
  kvHeads: 8,
};

describe("Inferentia2: the Neuron layout of a model", () => {
  it("shards an 8B model over both NeuronCores of one device, with the model's batch and sequence", () => {
    const layout = neuronLayout({ ...LLAMA3_8B, contextLength: 4096 }, "ml.inf2.8xlarge");
    assert.ok(layout.ok, JSON.stringify(layout));
    assert.deepStrictEqual(layout.shape, {
      tensorParallelSize: 2,
      batchSize: LLAMA3_8B.concurrentSequences,
      sequenceLength: 4096,
    });
    assert.strictEqual(layout.shardGib, 32);
    assert.strictEqual(layout.cores, 2);
  });

  it("takes the largest degree the runtime runs that the cores hold and the heads divide", () => {
    // inf2.24xlarge: 12 cores; 12 is no Inf2 degree, 8 divides 32 heads.
    const on24 = neuronLayout(LLAMA3_8B, "inf2.24xlarge");
    assert.ok(on24.ok && on24.shape.tensorParallelSize === 8, JSON.stringify(on24));
    // inf2.48xlarge: 24 cores and 24 heads: the model is sharded over all of them.
    const on48 = neuronLayout({ ...LLAMA_3B, attentionHeads: 24 }, "inf2.48xlarge");
    assert.ok(on48.ok && on48.shape.tensorParallelSize === 24, JSON.stringify(on48));
    // 40 heads on 24 cores: 24 and no larger divisor of 40 in the list but 8.
    const forty = neuronLayout({ ...LLAMA_3B, attentionHeads: 40, kvHeads: 8 }, "inf2.48xlarge");
    assert.ok(forty.ok && forty.shape.tensorParallelSize === 8, JSON.stringify(forty));
  });

  it("refuses what cannot be compiled or loaded, saying what would fit", () => {
    const host = neuronLayout(LLAMA3_8B, "ml.inf2.xlarge");
    assert.ok(!host.ok);
    assert.match(host.reason, /host memory.*16 GiB; inf2\.8xlarge \(2 cores\) fits/);
    const device = neuronLayout({ ...LLAMA3_8B, concurrentSequences: 64 }, "inf2.8xlarge");
    assert.ok(!device.ok);
    assert.match(device.reason, /2 NeuronCores .* hold 32 GiB; inf2\.24xlarge \(8 cores\) fits/);
    const notInf2 = neuronLayout(LLAMA3_8B, "ml.g5.xlarge");
    assert.ok(!notInf2.ok && /not an Inferentia2 instance type/.test(notInf2.reason));
    const trainium = neuronLayout(LLAMA3_8B, "trn1.2xlarge");
    assert.ok(!trainium.ok && /not an Inferentia2 instance type/.test(trainium.reason));
    const int4 = neuronLayout({ ...LLAMA3_8B, dtype: "int4" }, "inf2.8xlarge");
    assert.ok(!int4.ok && /bf16 or fp16 weights, got dtype int4/.test(int4.reason));
    const odd = neuronLayout({ ...LLAMA_3B, attentionHeads: 3, kvHeads: 1 }, "inf2.8xlarge");
    assert.ok(odd.ok && odd.shape.tensorParallelSize === 1, JSON.stringify(odd));
  });

  it("takes a model that fills memory exactly, and names a bigger type than the one refused", () => {
    // No headroom: weights of exactly 16 GiB fit inf2.xlarge's 16 GiB of host memory.
    const host: ModelRequirements = {
      parametersBillions: (16 * 2 ** 30) / 2 / 1e9,
      dtype: "bf16",
      contextLength: 256,
      concurrentSequences: 1,
      layers: 1,
      hiddenSize: 1024,
      attentionHeads: 2,
      headroomFraction: 0,
    };
    assert.ok(neuronLayout(host, "inf2.xlarge").ok);
    // Weights and a 2 MiB KV cache of exactly 32 GiB fit the two cores of one device.
    const kvBytes = 2 * 1 * 1024 * 1024 * 1 * 2;
    const device: ModelRequirements = {
      ...host,
      parametersBillions: (32 * 2 ** 30 - kvBytes) / 2 / 1e9,
      contextLength: 1024,
    };
    assert.ok(neuronLayout(device, "inf2.8xlarge").ok);
    const onSmall = neuronLayout(device, "inf2.xlarge");
    assert.ok(
      !onSmall.ok && /; inf2\.8xlarge \(2 cores\) fits$/.test(onSmall.reason),
      JSON.stringify(onSmall),
    );
    // 100B with 48 heads: 8 cores on inf2.24xlarge hold 128 GiB, 24 on inf2.48xlarge 384.
    const large: ModelRequirements = {
      parametersBillions: 100,
      dtype: "bf16",
      contextLength: 4096,
      concurrentSequences: 4,
      layers: 80,
      hiddenSize: 8192,
      attentionHeads: 48,
      kvHeads: 8,
    };
    const on24 = neuronLayout(large, "ml.inf2.24xlarge");
    assert.ok(
      !on24.ok &&
        /8 NeuronCores .* hold 128 GiB; inf2\.48xlarge \(24 cores\) fits$/.test(on24.reason),
      JSON.stringify(on24),
    );
  });

  it("estimates the compile at a minute per GB of weights", () => {
    assert.strictEqual(neuronCompileSeconds(LLAMA3_8B), 960);
    assert.strictEqual(neuronCompileSeconds(LLAMA_3B), 384);
  });
});

describe("Inferentia2: the shipped example stack, from config to what is created", function () {
  this.timeout(120000);
  let report: PlanReport;
  const image = servingImageUri("vllm-neuron", "us-east-1").uri;
  before(async () => {
    report = await planStack("inferentia", EXAMPLE_DIR);
  });

  it("plans clean under its pack", () => {
    assert.deepStrictEqual(
      report.policies.map((v) => `${v.policy}: ${v.message}`),
      [],
    );
    assert.ok(report.policiesEvaluated >= 28, String(report.policiesEvaluated));
  });

  it("is what docs/inferentia.md says it plans to", () => {
    const doc = fs
      .readFileSync(path.join(projectRoot(), "docs", "inferentia.md"), "utf8")
      .replace(/\s+/g, " ");
    const usd = (v: number) =>
      `$${v.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
    const said = `${report.resources.length} resources, ${usd(report.cost.idleMonthlyUsd)} a month idle and expected, ${usd(report.cost.peakMonthlyUsd)} at peak`;
    assert.strictEqual(report.cost.idleMonthlyUsd, report.cost.monthlyUsd);
    assert.ok(doc.includes(said), `docs/inferentia.md should say: ${said}`);
  });

  it("serves the compiled model with the Hugging Face vLLM Neuron image, in its shapes", () => {
    const model = one(report.resources, "aws:sagemaker/model:Model");
    const container = model.inputs.primaryContainer as Record<string, unknown>;
    assert.strictEqual(container.image, image);
    assert.match(
      image,
      /^763104351884\.dkr\.ecr\.us-east-1\.amazonaws\.com\/huggingface-vllm-inference-neuronx:0\.11\.0-optimum0\.4\.5-neuronx-py310-sdk2\.26\.1-ubuntu22\.04$/,
    );
    assert.deepStrictEqual(container.environment, {
      SM_ON_MODEL: "/opt/ml/model",
      SM_ON_TENSOR_PARALLEL_SIZE: "2",
      SM_ON_BATCH_SIZE: "4",
      SM_ON_SEQUENCE_LENGTH: "4096",
    });
    // Network isolation holds: the compiled model needs neither the hub nor its cache.
    assert.strictEqual(model.inputs.enableNetworkIsolation, true);
  });

  it("runs on ml.inf2.xlarge with the Neuron AMI, its EBS volume under the stack's key", () => {
    const config = one(
      report.resources,
      "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
    );
    const [variant] = config.inputs.productionVariants as Record<string, unknown>[];
    assert.strictEqual(variant.instanceType, "ml.inf2.xlarge");
    assert.strictEqual(variant.inferenceAmiVersion, "al2-ami-sagemaker-inference-neuron-2");
    assert.ok(config.inputs.kmsKeyArn, "the volume is encrypted with the model store's key");
  });

  it("compiles the model in the same image, for the same shapes, into the prefix the endpoint reads", () => {
    const projects = ofType(report.resources, "aws:codebuild/project:Project");
    const neuron = projects.find((p) => p.name === "model-weights-neuron");
    assert.ok(neuron, `projects: ${projects.map((p) => p.name).join(", ")}`);
    assert.ok(!projects.some((p) => p.name === "model-weights-copy"), "no plain copy project");
    const env = neuron.inputs.environment as Record<string, unknown>;
    assert.strictEqual(env.image, image);
    assert.strictEqual(env.imagePullCredentialsType, "SERVICE_ROLE");
    assert.strictEqual(env.computeType, "BUILD_GENERAL1_XLARGE");
    assert.strictEqual(neuron.inputs.buildTimeout, 120);

    const spec = YAML.parse((neuron.inputs.source as { buildspec: string }).buildspec);
    const script = (spec.phases.build.commands as string[]).join("\n");
    assert.match(
      script,
      /optimum-cli export neuron --model "\$CODEBUILD_SRC_DIR\/weights-0" --task text-generation --instance_type inf2 --tensor_parallel_size 2 --batch_size 4 --sequence_length 4096 /,
    );
    // The prefix it writes is the one SageMaker mounts at /opt/ml/model.
    const model = one(report.resources, "aws:sagemaker/model:Model");
    const [source] = (
      (model.inputs.primaryContainer as Record<string, unknown>).modelDataSource as {
        s3DataSources: { s3Uri: string }[];
      }
    ).s3DataSources;
    const prefix = /^s3:\/\/[^/]+\/(.+)\/$/.exec(source.s3Uri)?.[1];
    assert.ok(prefix, source.s3Uri);
    // (The script is itself quoted for `bash -c`: each ' is '\''.)
    assert.ok(script.includes(`for d in '\\''${prefix}'\\''; do`), script);
  });

  it("gives the export's role the image it pulls and the prefix it writes, nothing more", () => {
    const policy = policyOf(
      one(report.resources, "aws:iam/rolePolicy:RolePolicy", "model-weights-neuron"),
    );
    const sid = (s: string) => policy.Statement.find((st) => st.Sid === s);
    assert.deepStrictEqual(
      sid("PullBuildImage")?.Resource,
      ["arn:aws:ecr:us-east-1:763104351884:repository/huggingface-vllm-inference-neuronx"].join(""),
    );
    assert.strictEqual(sid("EcrLogin")?.Action, "ecr:GetAuthorizationToken");
    const write = sid("WriteWeights")?.Resource as string[];
    assert.strictEqual(write.length, 1);
    assert.match(write[0], /\/model-repository\/chat\/\*$/);
    assert.ok(
      !policy.Statement.some((st) => JSON.stringify(st.Action).includes("s3:DeleteObject")),
      "the export deletes nothing",
    );
  });

  it("holds the export's role to its scenarios: pull its image, write its prefix, nothing else", () => {
    const role = one(report.resources, "aws:iam/role:Role", "model-weights-neuron").name;
    const rows = iamScenarios(report.resources).filter((r) => r.resource === role);
    const said = rows.map((r) => `${r.expect} ${r.description.replace(/^model-weights: /, "")}`);
    for (const row of [
      "allow pulls its build image",
      "allow signs in to ECR to pull it",
      "deny cannot pull another repository of that registry",
      "deny cannot push to its build image's repository",
      "allow writes the weights under model-repository/chat/",
      "deny cannot delete weights under model-repository/chat/",
    ])
      assert.ok(said.includes(row), `${row} in:\n${said.join("\n")}`);
    // "deny" rows pass on an explicit or an implicit deny (checks/iamScenarios.ts).
    for (const r of rows)
      assert.strictEqual(decide(r) === "allow", r.expect === "allow", r.description);
    // The rows bite: without its pull statement, the role cannot pull the image.
    const pull = rows.find((r) => r.description.endsWith(": pulls its build image"))!;
    const withoutPull = (pull.policies.identity ?? []).map((doc) =>
      doc.filter((st) => (st as { Sid?: string }).Sid !== "PullBuildImage"),
    );
    assert.notStrictEqual(
      decide({ ...pull, policies: { ...pull.policies, identity: withoutPull } }),
      "allow",
    );
  });

  it("writes the marker the deploy compares, naming the image and the shapes", () => {
    const config = parseStackConfig(
      readStackFile("inferentia", EXAMPLE_DIR),
      "inferentia",
      EXAMPLE_DIR,
    );
    const copies = weightsCopiesOf(config, EXAMPLE_DIR);
    assert.strictEqual(copies.length, 1);
    const [marker] = weightsMarkers(copies);
    assert.strictEqual(marker.body, copyMarker(copies[0]));
    assert.deepStrictEqual(JSON.parse(marker.body), {
      repoId: "unsloth/Llama-3.2-3B-Instruct",
      revision: "main",
      neuron: { image, tensorParallelSize: 2, batchSize: 4, sequenceLength: 4096 },
    });
    const neuron = ofType(report.resources, "aws:codebuild/project:Project").find(
      (p) => p.name === "model-weights-neuron",
    );
    assert.ok(
      (neuron?.inputs.source as { buildspec: string }).buildspec.includes(
        marker.body.replace(/'/g, "'\\''"),
      ),
      "the build writes the same marker",
    );
  });

  it("says the compile comes before the endpoint starts", () => {
    const target = report.servingTargets.find((t) => t.instanceType === "ml.inf2.xlarge");
    assert.strictEqual(target?.startup?.compileSeconds, 384);
  });
});

describe("Inferentia2: the whole-stack check sagemaker-containers-serve", function () {
  this.timeout(120000);
  let resources: CapturedResource[];
  before(async () => {
    resources = (await planStack("inferentia", EXAMPLE_DIR)).resources;
  });
  /** The example's resources with the model's container changed. */
  const withContainer = (change: (c: Record<string, unknown>) => void) =>
    resources.map((r) => {
      if (r.type !== "aws:sagemaker/model:Model") return r;
      const container = structuredClone(r.inputs.primaryContainer) as Record<string, unknown>;
      change(container);
      return { ...r, inputs: { ...r.inputs, primaryContainer: container } };
    });

  it("passes the example: the served shapes are the compiled ones", () => {
    assert.deepStrictEqual(checkServingContainers(resources), []);
  });

  it("refuses a served shape the Neuron export did not compile", () => {
    const changed = withContainer((c) => {
      (c.environment as Record<string, string>).SM_ON_SEQUENCE_LENGTH = "8192";
    });
    assert.deepStrictEqual(
      checkServingContainers(changed).map((f) => f.message),
      [
        'SM_ON_SEQUENCE_LENGTH is "8192", but the stack\'s Neuron export compiles model-repository/chat/ with 4096: the container refuses a shape the model was not compiled for',
      ],
    );
  });

  it("refuses a hub id under network isolation, and a host without Inferentia2", () => {
    const hub = withContainer((c) => {
      (c.environment as Record<string, string>).SM_ON_MODEL = "unsloth/Llama-3.2-3B-Instruct";
    });
    assert.match(
      checkServingContainers(hub)[0]?.message ?? "",
      /^SM_ON_MODEL "unsloth\/Llama-3.2-3B-Instruct" is a Hugging Face Hub id/,
    );
    const onGpu = resources.map((r) =>
      r.type === "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
        ? {
            ...r,
            inputs: {
              ...r.inputs,
              productionVariants: (r.inputs.productionVariants as Record<string, unknown>[]).map(
                (v) => ({ ...v, instanceType: "ml.g5.xlarge" }),
              ),
            },
          }
        : r,
    );
    assert.match(
      checkServingContainers(onGpu)[0]?.message ?? "",
      /the vLLM Neuron container needs Inferentia2 \(ml\.inf2\.\*\), got ml\.g5\.xlarge$/,
    );
  });

  it("has nothing to say of a stack without the vLLM Neuron image", async () => {
    const dev = (await planStack("dev")).resources;
    assert.ok(
      !checkServingContainers(dev).some((f) => /Neuron|SM_ON_/.test(f.message)),
      "no Neuron finding on dev",
    );
  });
});

describe("Inferentia2: a changed shape compiles again", () => {
  it("gives another marker when the context length changes, so the deploy's check sees it stale", () => {
    const config = parseStackConfig(
      readStackFile("inferentia", EXAMPLE_DIR),
      "inferentia",
      EXAMPLE_DIR,
    );
    const before = weightsMarkers(weightsCopiesOf(config, EXAMPLE_DIR))[0];
    const longer = {
      ...config,
      sagemaker: {
        ...config.sagemaker,
        endpoints: config.sagemaker.endpoints.map((e) => ({
          ...e,
          modelRequirements: { ...e.modelRequirements!, contextLength: 8192 },
        })),
      },
    };
    const after = weightsMarkers(weightsCopiesOf(longer, EXAMPLE_DIR))[0];
    assert.strictEqual(after.key, before.key);
    assert.notStrictEqual(after.body, before.body);
    assert.strictEqual(JSON.parse(after.body).neuron.sequenceLength, 8192);
  });
});

describe("Inferentia2: what the preflight looks for in the store", () => {
  const config = () =>
    parseStackConfig(readStackFile("inferentia", EXAMPLE_DIR), "inferentia", EXAMPLE_DIR);
  it("is the Neuron export's marker with hubModel, else an exported Neuron model", () => {
    const [withHub] = modelTargets(config());
    assert.deepStrictEqual(withHub.weights, {
      key: "model-repository/chat/.llm-infra-weights.json",
      neuron: true,
      what: "the Neuron model of unsloth/Llama-3.2-3B-Instruct (compiled by the deploy's Neuron export)",
    });
    const own = config();
    own.sagemaker.endpoints[0] = { ...own.sagemaker.endpoints[0], hubModel: undefined };
    const [withoutHub] = modelTargets(own);
    assert.strictEqual(withoutHub.weights?.key, "model-repository/chat/neuron_config.json");
    assert.strictEqual(withoutHub.pushedByDeploy, false);
  });
});

describe("Inferentia2: the request the vLLM Neuron endpoint takes", () => {
  it("is an OpenAI completion, and its answer is the first choice's text", () => {
    assert.deepStrictEqual(buildRequest("Hi", { max_tokens: 8 }, "openai-completion"), {
      prompt: "Hi",
      max_tokens: 8,
      temperature: 0.7,
    });
    assert.strictEqual(answerText({ choices: [{ text: " there" }] }), " there");
  });

  it("is what the API front door validates for such an endpoint, and what the smoke test sends", () => {
    const schema = requestSchemaOf({
      sagemakerEndpointName: "chat",
      requestFormat: "openai-completion",
    });
    assert.deepStrictEqual((schema as { required?: string[] }).required, ["prompt"]);
    assert.strictEqual(requestFormatOf({ image: "vllm-neuron" }), "openai-completion");
    // Your own image in imageUri is not the catalog's, whatever `image` says.
    assert.strictEqual(requestFormatOf({ image: "vllm-neuron", imageUri: "x" }), "inputs");
    assert.strictEqual(requestFormatOf({ image: "lmi" }), "inputs");
  });
});
