import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { sagemakerModelsOf, stackTargets } from "../modelRepository/targets";
import { projectRoot, readStackFile } from "../offline/plan";
import {
  ConfigError,
  ENVIRONMENT_DEFAULTS,
  decodeEngineConfig,
  nearProjectNamespace,
  parseStackConfig,
} from "../programs/config";
import { copyExampleModels, withAsyncChat } from "./helpers";

const base = (extra: Record<string, unknown> = {}) => ({
  "aws:region": "us-east-1",
  "llm-infra:environment": "dev",
  "llm-infra:tags": { team: "ml", costCenter: "42" },
  ...extra,
});

function problemsOf(raw: Record<string, unknown>): string[] {
  try {
    parseStackConfig(raw, "test");
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.problems;
  }
  assert.fail("expected a ConfigError");
}

describe("stack config", () => {
  it("fills environment defaults: one NAT in dev, one per AZ and retention in prod", () => {
    const dev = parseStackConfig(base(), "dev");
    assert.deepStrictEqual(
      [dev.network.azCount, dev.network.natGateways, dev.storage.retainOnDelete],
      [2, "single", false],
    );
    assert.deepStrictEqual(dev.network.interfaceEndpoints, []);
    const prod = parseStackConfig(base({ "llm-infra:environment": "prod" }), "prod");
    assert.deepStrictEqual(
      [prod.network.azCount, prod.network.natGateways, prod.storage.retainOnDelete],
      [3, "onePerAz", true],
    );
    assert.deepStrictEqual(
      prod.network.interfaceEndpoints,
      ENVIRONMENT_DEFAULTS.prod.interfaceEndpoints,
    );
  });

  it("builds the cost-allocation tags from the config", () => {
    const c = parseStackConfig(
      base({ "llm-infra:tags": { team: "ml", costCenter: "42", owner: "oncall" } }),
      "dev",
    );
    assert.deepStrictEqual(c.tags, {
      environment: "dev",
      team: "ml",
      "cost-center": "42",
      owner: "oncall",
    });
  });

  it("names the key and the allowed range in an error", () => {
    assert.deepStrictEqual(problemsOf(base({ "llm-infra:network": { azCount: 1 } })), [
      "llm-infra:network.azCount must be an integer between 2 and 6, got 1",
    ]);
  });

  it("flags a namespace a typo away from llm-infra, and leaves other packages' namespaces alone", () => {
    for (const ns of ["llm_infra", "LLM-Infra", "llminfra", "llm-infa", "lm-infra", "llm-infra2"])
      assert.ok(nearProjectNamespace(ns), ns);
    for (const ns of ["aws", "pulumi", "kubernetes", "eks", "awsx", "llm", "infra", "my-infra-x"])
      assert.ok(!nearProjectNamespace(ns), ns);
    assert.deepStrictEqual(problemsOf(base({ "llm_infra:tags": { team: "x" } })), [
      `llm_infra:tags is in namespace "llm_infra", which is not this project's; did you mean llm-infra:tags?`,
    ]);
    // aws: keys are the provider's and pass untouched.
    parseStackConfig(base({ "aws:profile": "ml" }), "test");
  });

  it("reports every problem at once", () => {
    const problems = problemsOf({
      "aws:region": "nowhere",
      "llm-infra:environment": "qa",
      "llm-infra:tags": { team: "ml" },
      "llm-infra:network": {
        azCount: "two",
        natGateways: "lots",
        interfaceEndpoints: ["ecr.api", "s4"],
        cidr: "10.0.0.0/16",
      },
      "llm-infra:storage": { repositories: ["Triton"], retainOnDelete: "yes" },
      "llm-infra:cost": { assumptions: { s3StoredGb: -1, gpuHours: 3 } },
      "llm-infra:netwrk": {},
    });
    const expected = [
      "llm-infra:netwrk is not a known key",
      "aws:region must be an AWS region",
      'llm-infra:environment must be one of dev, staging, prod, got "qa"',
      "llm-infra:tags.costCenter is required",
      "llm-infra:network.cidr is not a known key; allowed: cidrBlock",
      'llm-infra:network.azCount must be a number, got "two"',
      'llm-infra:network.natGateways must be one of none, single, onePerAz, got "lots"',
      "llm-infra:network.interfaceEndpoints[1] must be one of",
      "llm-infra:storage.retainOnDelete must be true or false",
      "llm-infra:storage.repositories[0] must be 2-200 characters",
      "llm-infra:cost.assumptions.s3StoredGb must be a number of at least 0",
      "llm-infra:cost.assumptions.gpuHours is not a known key",
    ];
    for (const fragment of expected) {
      assert.ok(
        problems.some((p) => p.startsWith(fragment)),
        `missing "${fragment}" in:\n${problems.join("\n")}`,
      );
    }
    assert.strictEqual(problems.length, expected.length, problems.join("\n"));
  });

  it("requires the cost-allocation tags", () => {
    assert.deepStrictEqual(
      problemsOf({ "aws:region": "us-east-1", "llm-infra:environment": "dev" }),
      [
        "llm-infra:tags.team is required (the owning team, a cost-allocation tag)",
        "llm-infra:tags.costCenter is required (a cost-allocation tag)",
      ],
    );
  });

  it("decodes structured values the way the engine passes them", () => {
    assert.deepStrictEqual(
      decodeEngineConfig({
        "aws:region": "us-east-1",
        "llm-infra:network": '{"azCount":3}',
        "llm-infra:x": "[1]",
      }),
      {
        "aws:region": "us-east-1",
        "llm-infra:network": { azCount: 3 },
        "llm-infra:x": [1],
      },
    );
  });
});

describe("stack config: sagemaker", () => {
  const withEndpoints = (endpoints: unknown) => base({ "llm-infra:sagemaker": { endpoints } });
  const model = {
    parametersBillions: 8,
    dtype: "bf16",
    contextLength: 4096,
    concurrentSequences: 2,
  };

  it("gives each endpoint its own model repository prefix and puts it in the VPC", () => {
    const c = parseStackConfig(
      withEndpoints([{ name: "chat", instanceType: "ml.g5.xlarge", tritonModelName: "m", model }]),
      "dev",
    );
    assert.deepStrictEqual(
      [
        c.sagemaker.endpoints[0].modelDataPrefix,
        c.sagemaker.endpoints[0].inVpc,
        c.sagemaker.endpoints[0].modelRequirements,
      ],
      ["model-repository/chat", true, model],
    );
    assert.deepStrictEqual(parseStackConfig(base(), "dev").sagemaker.endpoints, []);
  });

  it("names the endpoint key of every problem, with the component's own rules", () => {
    const problems = problemsOf(
      withEndpoints([
        {
          name: "chat",
          instanceType: "ml.g5.xlarge",
          tritonModelName: "m",
          minInstances: 3,
          maxInstances: 2,
          model: { ...model, dtype: "fp64" },
        },
        {
          name: "chat",
          mode: "serverless",
          model: {
            parametersBillions: 7,
            dtype: "fp16",
            contextLength: 4096,
            concurrentSequences: 1,
          },
        },
        { name: "Bad_Name" },
        { name: "models", instanceType: "ml.g5.xlarge", tritonModelName: "m", gpus: 2 },
      ]),
    );
    const expected = [
      "llm-infra:sagemaker.endpoints[0].model.dtype must be one of",
      "llm-infra:sagemaker.endpoints[0].minInstances (3) must not exceed maxInstances (2)",
      "llm-infra:sagemaker.endpoints[1].name chat is used by another endpoint",
      "llm-infra:sagemaker.endpoints[1].tritonModelName is required with the Triton image",
      "llm-infra:sagemaker.endpoints[1].mode serverless inference has no GPUs",
      "llm-infra:sagemaker.endpoints[1].model serverless inference has no GPUs",
      "llm-infra:sagemaker.endpoints[2].name must be 1-31 lower-case letters",
      "llm-infra:sagemaker.endpoints[3].gpus is not a known key",
      "llm-infra:sagemaker.endpoints[3].name must not be network, registry, models",
    ];
    for (const fragment of expected) {
      assert.ok(
        problems.some((p) => p.startsWith(fragment)),
        `missing "${fragment}" in:\n${problems.join("\n")}`,
      );
    }
    assert.strictEqual(problems.length, expected.length, problems.join("\n"));
  });
});

describe("stack config: eks", () => {
  it("is absent without the section, and enables the Neuron plugin when a Neuron group exists", () => {
    assert.strictEqual(parseStackConfig(base(), "dev").eks, undefined);
    const c = parseStackConfig(
      base({
        "llm-infra:eks": {
          publicAccessCidrs: ["203.0.113.0/24"],
          nodeGroups: [
            { name: "gpu", instanceTypes: ["g5.2xlarge"] },
            { name: "neuron", instanceTypes: ["inf2.xlarge"] },
          ],
        },
      }),
      "dev",
    );
    assert.deepStrictEqual(
      c.eks?.nodeGroups.map((g) => g.name),
      ["gpu", "neuron"],
    );
    assert.strictEqual(c.eks?.addons.neuronDevicePlugin, true);
    assert.strictEqual(c.eks?.modelCache.enabled, true);
  });

  it("names the node group key of every problem", () => {
    const problems = problemsOf(
      base({
        "llm-infra:eks": {
          kubernetesVersion: "1.20",
          publicAccessCidrs: ["0.0.0.0/0"],
          nodeGroups: [
            { name: "gpu", instanceTypes: ["g5.2xlarge", "inf2.xlarge"], minSize: 3, maxSize: 2 },
            { name: "eks", instanceTypes: ["g9.huge"] },
          ],
          addons: { gpuMetrics: "prometheus", istio: true },
        },
      }),
    );
    const expected = [
      "llm-infra:eks.kubernetesVersion must be a version in EKS standard support",
      "llm-infra:eks.publicAccessCidrs[0] must not open the API endpoint",
      "llm-infra:eks.nodeGroups[0].instanceTypes must all have the same accelerators",
      "llm-infra:eks.nodeGroups[0].minSize (3) must not exceed maxSize (2)",
      "llm-infra:eks.nodeGroups[1].name must not be",
      'llm-infra:eks.nodeGroups[1].instanceTypes[0] "g9.huge" is not an EC2 instance type the catalog knows',
      "llm-infra:eks.addons.istio is not a known key",
      "llm-infra:eks.addons.gpuMetrics must be one of cloudwatch, dcgm, none",
    ];
    for (const fragment of expected) {
      assert.ok(
        problems.some((p) => p.startsWith(fragment)),
        `missing "${fragment}" in:\n${problems.join("\n")}`,
      );
    }
    assert.strictEqual(problems.length, expected.length, problems.join("\n"));
  });
});

describe("stack config: triton", () => {
  const eks = {
    privateAccessCidrs: ["10.0.0.0/16"],
    nodeGroups: [{ name: "gpu", instanceTypes: ["g5.2xlarge"] }],
  };

  it("runs on a configured node group, reading <repositoryPrefix>/triton by default", () => {
    const c = parseStackConfig(
      base({
        "llm-infra:eks": eks,
        "llm-infra:triton": { nodeGroup: "gpu", maxReplicas: 8, minReplicas: 2 },
      }),
      "dev",
    );
    assert.deepStrictEqual(
      [c.triton?.instanceType, c.triton?.modelPrefix, c.triton?.workloadType],
      ["g5.2xlarge", "model-repository/triton", "gpu-inference"],
    );
  });

  it("needs a cluster and a known node group, and checks the release's own rules", () => {
    assert.deepStrictEqual(problemsOf(base({ "llm-infra:triton": {} })), [
      "llm-infra:triton needs an EKS cluster: add llm-infra:eks with a node group",
    ]);
    assert.deepStrictEqual(
      problemsOf(base({ "llm-infra:eks": eks, "llm-infra:triton": { nodeGroup: "cpu" } })),
      ['llm-infra:triton.nodeGroup must name one of llm-infra:eks.nodeGroups (gpu), got "cpu"'],
    );
    const problems = problemsOf(
      base({
        "llm-infra:eks": eks,
        "llm-infra:triton": { minReplicas: 5, maxReplicas: 2, hpaMetric: "qps" },
      }),
    );
    assert.deepStrictEqual(problems, [
      "llm-infra:triton.minReplicas (5) must not exceed maxReplicas (2)",
      'llm-infra:triton.hpaMetric must be one of cpu, custom, got "qps"',
    ]);
  });
});

describe("stack config: fleet and api", () => {
  const endpoint = { name: "chat", instanceType: "ml.g5.xlarge", tritonModelName: "m" };

  it("puts the API in front of a named endpoint or the fleet", () => {
    const c = parseStackConfig(
      base({
        "llm-infra:sagemaker": { endpoints: [endpoint] },
        "llm-infra:fleet": { instanceType: "g5.xlarge" },
        "llm-infra:api": { backend: "fleet" },
      }),
      "dev",
    );
    assert.deepStrictEqual(
      [c.api?.backend, c.fleet?.instanceType, c.fleet?.modelPrefix],
      ["fleet", "g5.xlarge", "model-repository/fleet"],
    );
  });

  it("refuses an API in front of an endpoint the stack does not define, and a fleet without an accelerator", () => {
    const problems = problemsOf(
      base({
        "llm-infra:sagemaker": { endpoints: [endpoint] },
        "llm-infra:fleet": {
          instanceType: "m5.large",
          model: {
            parametersBillions: 8,
            dtype: "bf16",
            contextLength: 4096,
            concurrentSequences: 1,
          },
        },
        "llm-infra:api": { backend: "support", authentication: "oauth" },
      }),
    );
    assert.deepStrictEqual(problems, [
      "llm-infra:fleet.instanceType m5.large has no accelerator, and the model needs one",
      'llm-infra:api.backend must name one of llm-infra:sagemaker.endpoints, "fleet" when llm-infra:fleet is set, or "triton" when llm-infra:triton is set (chat, fleet), got "support"',
      'llm-infra:api.authentication must be one of iam, apiKey, got "oauth"',
    ]);
  });
});

describe("a target's local model repository (modelRepository)", () => {
  const root = projectRoot();
  const shipped = (stack: string) => readStackFile(stack, root);
  const problemsAt = (raw: Record<string, unknown>, at = root): string[] => {
    try {
      parseStackConfig(raw, "dev", at);
    } catch (e) {
      assert.ok(e instanceof ConfigError, String(e));
      return e.problems;
    }
    return [];
  };
  /**
   * dev with its chat endpoint on SageMaker's Triton image (the catalog's `triton`, the base
   * flavour) loading llama3-8b from models/chat, then changed: the shipped endpoint serves hub
   * weights on LMI and reads no model repository.
   */
  const tritonChat = (change: Record<string, unknown>) => {
    const raw = withAsyncChat(shipped("dev"));
    const sm = raw["llm-infra:sagemaker"] as { endpoints: Record<string, unknown>[] };
    // eslint-disable-next-line @typescript-eslint/no-unused-vars
    const { image, imageVersion, hubModel, ...chat } = sm.endpoints[0];
    return {
      ...raw,
      "llm-infra:sagemaker": {
        endpoints: [
          {
            ...chat,
            image: "triton",
            tritonModelName: "llama3-8b",
            modelRepository: "models/chat",
            ...change,
          },
        ],
      },
    };
  };
  /** A project root holding the example models/chat and models/py, whose llama3-8b is Python. */
  const rootWithPythonModel = (): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "root-"));
    copyExampleModels(dir);
    fs.mkdirSync(path.join(dir, "models", "py", "llama3-8b", "1"), { recursive: true });
    fs.writeFileSync(
      path.join(dir, "models", "py", "llama3-8b", "config.pbtxt"),
      'name: "llama3-8b"\nbackend: "python"\nmax_batch_size: 0\n',
    );
    fs.writeFileSync(path.join(dir, "models", "py", "llama3-8b", "1", "model.py"), "");
    return dir;
  };

  it("passes the shipped stacks, whose every target names models/chat", () => {
    for (const stack of ["dev", "staging", "prod"]) {
      const config = parseStackConfig(shipped(stack), stack, root);
      // Every target that reads a Triton model repository names the example.
      const named = stackTargets(config).map((t) => t.modelRepository);
      assert.ok(named.length >= 1, stack);
      assert.deepStrictEqual(
        named,
        named.map(() => "models/chat"),
        stack,
      );
      assert.deepStrictEqual(
        [config.triton?.modelRepository, config.fleet?.modelRepository].filter(
          (d) => d !== undefined,
        ),
        named,
        stack,
      );
      // The SageMaker models (endpoints, and dev's inference component) serve hub weights on
      // LMI instead: no model repository.
      assert.ok(config.sagemaker.endpoints.length >= 1, stack);
      for (const { e, name } of sagemakerModelsOf(config)) {
        assert.deepStrictEqual(
          [e.image, e.hubModel, e.modelRepository, e.tritonModelName],
          ["lmi", "NousResearch/Meta-Llama-3-8B-Instruct", undefined, undefined],
          `${stack} endpoint ${name}`,
        );
      }
    }
    // A model repository is Triton's layout: LMI refuses one.
    const raw = withAsyncChat(shipped("dev"));
    const sm = raw["llm-infra:sagemaker"] as { endpoints: Record<string, unknown>[] };
    assert.deepStrictEqual(
      problemsAt({
        ...raw,
        "llm-infra:sagemaker": {
          endpoints: [{ ...sm.endpoints[0], modelRepository: "models/chat" }],
        },
      }),
      [
        "llm-infra:sagemaker.endpoints[0].modelRepository does not apply with image lmi (a model repository is Triton's layout; give imageFlavour for a Triton image of your own); remove it",
      ],
    );
  });

  it("refuses a directory that does not exist, or a file, naming the key", () => {
    assert.deepStrictEqual(problemsAt(tritonChat({ modelRepository: "models/nope" })), [
      `llm-infra:sagemaker.endpoints[0].modelRepository models/nope does not exist (looked in ${path.join(root, "models/nope")}): give a local Triton model repository, the directory holding <model>/config.pbtxt, relative to the project root (npm run model -- init models/nope --backend vllm makes one)`,
    ]);
    assert.deepStrictEqual(problemsAt(tritonChat({ modelRepository: "Pulumi.yaml" })), [
      "llm-infra:sagemaker.endpoints[0].modelRepository Pulumi.yaml is not a directory: give a local Triton model repository, the directory holding <model>/config.pbtxt",
    ]);
    // The same on Triton on EKS.
    const raw = shipped("dev");
    const triton = raw["llm-infra:triton"] as Record<string, unknown>;
    assert.deepStrictEqual(
      problemsAt({ ...raw, "llm-infra:triton": { ...triton, modelRepository: "models/nope" } }),
      [
        `llm-infra:triton.modelRepository models/nope does not exist (looked in ${path.join(root, "models/nope")}): give a local Triton model repository, the directory holding <model>/config.pbtxt, relative to the project root (npm run model -- init models/nope --backend vllm makes one)`,
      ],
    );
  });

  it("refuses a repository without the endpoint's default model, and one its image cannot serve", () => {
    // SageMaker's Triton image loads the endpoint's tritonModelName: a Python llama3-8b serves.
    const at = rootWithPythonModel();
    assert.deepStrictEqual(problemsAt(tritonChat({ modelRepository: "models/py" }), at), []);
    assert.deepStrictEqual(
      problemsAt(tritonChat({ modelRepository: "models/py", tritonModelName: "mistral-7b" }), at),
      [
        `llm-infra:sagemaker.endpoints[0].modelRepository models/py/mistral-7b/: missing: endpoint chat loads the model "mistral-7b" (tritonModelName, SAGEMAKER_TRITON_DEFAULT_MODEL_NAME), and Triton's SageMaker start script exits when its directory is missing; this repository has llama3-8b`,
      ],
    );
    // The same image is the base flavour: models/chat's vLLM model has no backend there.
    assert.deepStrictEqual(problemsAt(tritonChat({})), [
      `llm-infra:sagemaker.endpoints[0].modelRepository models/chat/llama3-8b/config.pbtxt: backend: backend vllm is not in the base Triton image (it has tensorrt, onnxruntime, tensorflow, pytorch, openvino, python, dali, fil); choose imageFlavour vllm on EKS or the fleet; on a SageMaker endpoint, serve the model with the LMI container instead (image: lmi and hubModel)`,
    ]);
    // Triton on EKS on the base image: the repository's vLLM model has no backend there.
    const raw = shipped("dev");
    const triton = raw["llm-infra:triton"] as Record<string, unknown>;
    const base = { ...triton, imageFlavour: undefined, imageTag: undefined };
    assert.deepStrictEqual(problemsAt({ ...raw, "llm-infra:triton": base }), [
      `llm-infra:triton.modelRepository models/chat/llama3-8b/config.pbtxt: backend: backend vllm is not in the base Triton image (it has tensorrt, onnxruntime, tensorflow, pytorch, openvino, python, dali, fil); choose imageFlavour vllm`,
    ]);
  });

  it("does not apply with modelDataTarball, and is not read without a project root", () => {
    assert.deepStrictEqual(problemsAt(tritonChat({ modelDataTarball: "m/model.tar.gz" })), [
      "llm-infra:sagemaker.endpoints[0].modelRepository does not apply with modelDataTarball (the endpoint reads a model.tar.gz, not a model repository prefix); remove it",
    ]);
    // Without a root (npm run model, which checks the directory it is given) nothing is read.
    const config = parseStackConfig(tritonChat({ modelRepository: "models/nope" }), "dev");
    assert.strictEqual(config.sagemaker.endpoints[0].modelRepository, "models/nope");
    assert.strictEqual(config.triton?.modelRepository, "models/chat");
    // Relative to the root it is given.
    assert.deepStrictEqual(
      problemsAt(tritonChat({}), os.tmpdir()).map((p) => p.split(" (looked in")[0]),
      [
        "llm-infra:sagemaker.endpoints[0].modelRepository models/chat does not exist",
        "llm-infra:triton.modelRepository models/chat does not exist",
      ],
    );
  });
});
