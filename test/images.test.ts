import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import {
  NGC_TRITON,
  TRITON_FLAVOURS,
  imageServesNeuron,
  tritonImage,
  tritonImageProblems,
} from "../catalog/images";
import { tritonChartPath } from "../components";
import { helm } from "../checks/helm";
import { ConfigError } from "../programs/config";
import { planConfig } from "../offline/plan";
import { CapturedResource } from "../offline/engine";
import { LLAMA3_8B, one } from "./helpers";

const BASE = {
  "aws:region": "us-east-1",
  "llm-infra:environment": "staging",
  "llm-infra:tags": { team: "ml", costCenter: "1" },
  "llm-infra:storage": { repositories: ["triton", "vllm"] },
};

/** The problems of a stack the plan must refuse with a ConfigError. */
async function configProblems(config: Record<string, unknown>): Promise<string[]> {
  try {
    await planConfig("staging", config);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.problems;
  }
  assert.fail("expected a ConfigError");
}

/**
 * A stack with all three Triton paths, each on its own image choice. The endpoint runs a vLLM
 * Triton of the stack's own build: NGC's vLLM tags before 25.03 have no SageMaker generate
 * handler (refused below), and later ones need a driver SageMaker's AMIs lack.
 */
const OWN_VLLM_TAG = "vllm-own-build-1";
const ALL_PATHS = {
  ...BASE,
  "llm-infra:sagemaker": {
    endpoints: [
      {
        name: "chat",
        instanceType: "ml.g5.2xlarge",
        minInstances: 2,
        maxInstances: 2,
        tritonModelName: "llm",
        imageFlavour: "vllm",
        imageRepository: "vllm",
        imageTag: OWN_VLLM_TAG,
        inferenceAmiVersion: "al2-ami-sagemaker-inference-gpu-3-1",
        model: LLAMA3_8B,
      },
    ],
  },
  "llm-infra:eks": {
    privateAccessCidrs: ["10.0.0.0/16"],
    nodeGroups: [
      { name: "gpu", instanceTypes: ["g5.2xlarge"], minSize: 1, desiredSize: 1, maxSize: 2 },
    ],
  },
  "llm-infra:triton": { nodeGroup: "gpu", imageFlavour: "vllm", imageRepository: "vllm" },
  "llm-infra:fleet": {
    instanceType: "g5.12xlarge",
    minSize: 1,
    desiredSize: 1,
    maxSize: 1,
    imageFlavour: "trtllm",
  },
};

const releaseValues = (resources: CapturedResource[]) =>
  one(resources, "kubernetes:helm.sh/v3:Release", "triton-release").inputs.values as Record<
    string,
    unknown
  > & {
    image: { repository: string; tag: string };
  };

/** The Deployment's first container as `helm template` renders it with the values. */
function renderedContainer(values: Record<string, unknown>): Record<string, unknown> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "values-")), "values.json");
  fs.writeFileSync(file, JSON.stringify(values));
  const r = helm(["template", "t", tritonChartPath(), "--namespace", "inference", "-f", file]);
  assert.strictEqual(r.code, 0, r.stderr);
  const deployment = YAML.parseAllDocuments(r.stdout)
    .map((d) => d.toJSON() as { kind: string; spec: Record<string, unknown> } | null)
    .find((m) => m?.kind === "Deployment")!;
  const pod = (deployment.spec.template as { spec: { containers: Record<string, unknown>[] } })
    .spec;
  return pod.containers[0];
}

describe("Triton image flavours and the stack's own ECR images", function () {
  this.timeout(60000);
  let resources: CapturedResource[];
  before(async () => {
    resources = (await planConfig("staging", ALL_PATHS)).resources;
  });

  it("knows the NGC tag of each flavour, and that only the neuron flavour has no NGC build", () => {
    assert.strictEqual(NGC_TRITON.tag("26.07", "base"), "26.07-py3");
    assert.strictEqual(NGC_TRITON.tag("26.07", "vllm"), "26.07-vllm-python-py3");
    assert.strictEqual(NGC_TRITON.tag("26.07", "trtllm"), "26.07-trtllm-python-py3");
    assert.deepStrictEqual(
      Object.entries(TRITON_FLAVOURS)
        .filter(([, f]) => f.ngcSuffix === undefined)
        .map(([n]) => n),
      ["neuron"],
    );
    assert.deepStrictEqual(tritonImage({ flavour: "vllm" }), {
      repository: "nvcr.io/nvidia/tritonserver",
      tag: "24.05-vllm-python-py3",
    });
  });

  it("EKS: the rendered chart runs the vLLM flavour from the stack's vllm repository", () => {
    const values = releaseValues(resources);
    assert.match(
      values.image.repository,
      /^\d{12}\.dkr\.ecr\.us-east-1\.amazonaws\.com\/registry-vllm-[0-9a-f]+$/,
    );
    assert.strictEqual(values.image.tag, "24.05-vllm-python-py3");
    const container = renderedContainer(values);
    assert.strictEqual(container.image, `${values.image.repository}:24.05-vllm-python-py3`);
  });

  it("EC2 fleet: the user data pulls and runs the TensorRT-LLM flavour from NGC", () => {
    const template = one(resources, "aws:ec2/launchTemplate:LaunchTemplate", "fleet-lt");
    const userData = Buffer.from(template.inputs.userData as string, "base64").toString();
    const image = "nvcr.io/nvidia/tritonserver:24.05-trtllm-python-py3";
    assert.ok(userData.includes(`docker pull ${image}\n`), userData);
    assert.match(userData, new RegExp(`--gpus all .* ${image.replace(/\./g, "\\.")} tritonserver`));
    assert.ok(!userData.includes("docker login"), "NGC needs no ECR login");
  });

  it("SageMaker: the model runs the vLLM flavour from the stack's repository as Triton, and the role pulls only it", () => {
    const model = one(resources, "aws:sagemaker/model:Model");
    const container = model.inputs.primaryContainer as {
      image: string;
      environment: Record<string, string>;
    };
    assert.match(
      container.image,
      new RegExp(
        `^\\d{12}\\.dkr\\.ecr\\.us-east-1\\.amazonaws\\.com/registry-vllm[^:]*:${OWN_VLLM_TAG}$`,
      ),
    );
    assert.strictEqual(container.environment.SAGEMAKER_TRITON_DEFAULT_MODEL_NAME, "llm");
    // The vLLM model is decoupled: Triton's SageMaker front end serves it with generate, not infer.
    assert.strictEqual(container.environment.SAGEMAKER_TRITON_INFERENCE_TYPE, "generate");
    const repo = container.image.split("/")[1].split(":")[0];
    const policies = resources
      .filter((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.parent === "chat")
      .map((r) => String(r.inputs.policy));
    assert.ok(
      policies.some((p) => p.includes(`repository/${repo}"`)),
      `a chat role policy names repository/${repo}`,
    );
  });

  it("EC2 fleet from the stack's repository: logs in to ECR and may pull only that repository", async () => {
    const { resources: r } = await planConfig("staging", {
      ...BASE,
      "llm-infra:fleet": {
        instanceType: "g5.xlarge",
        minSize: 1,
        desiredSize: 1,
        maxSize: 1,
        imageRepository: "triton",
        imageTag: "26.07-py3-custom",
      },
    });
    const userData = Buffer.from(
      one(r, "aws:ec2/launchTemplate:LaunchTemplate", "fleet-lt").inputs.userData as string,
      "base64",
    ).toString();
    const repo = /registry-triton-[0-9a-f]+/.exec(userData)?.[0];
    assert.ok(repo, userData);
    assert.match(
      userData,
      new RegExp(
        `docker pull \\d{12}\\.dkr\\.ecr\\.us-east-1\\.amazonaws\\.com/${repo}:26\\.07-py3-custom`,
      ),
    );
    assert.match(userData, /aws ecr get-login-password --region us-east-1 \| docker login/);
    const pull = JSON.parse(
      one(r, "aws:iam/rolePolicy:RolePolicy", "fleet-image").inputs.policy as string,
    );
    assert.match(pull.Statement[0].Resource, new RegExp(`:repository/${repo}$`));
  });

  it("Inferentia: Triton on the Neuron group runs a Neuron-built image from the stack's repository", async () => {
    const { resources: r } = await planConfig("staging", {
      ...BASE,
      "llm-infra:eks": {
        privateAccessCidrs: ["10.0.0.0/16"],
        nodeGroups: [
          {
            name: "neuron",
            instanceTypes: ["inf2.xlarge"],
            minSize: 1,
            desiredSize: 1,
            maxSize: 2,
            workloadType: "neuron-inference",
          },
        ],
      },
      "llm-infra:triton": {
        nodeGroup: "neuron",
        imageFlavour: "neuron",
        imageRepository: "triton",
        imageTag: "2.20-neuron",
      },
    });
    const values = releaseValues(r) as Record<string, unknown> & {
      image: { repository: string; tag: string };
      accelerator: { kind: string; count: number };
    };
    assert.deepStrictEqual(values.accelerator, { kind: "neuron", count: 1 });
    assert.strictEqual(values.image.tag, "2.20-neuron");
    const container = renderedContainer(values) as {
      image: string;
      resources: { limits: Record<string, unknown> };
    };
    assert.match(
      container.image,
      /\.dkr\.ecr\.us-east-1\.amazonaws\.com\/registry-triton[^:]*:2\.20-neuron$/,
    );
    assert.strictEqual(String(container.resources.limits["aws.amazon.com/neuron"]), "1");
    assert.strictEqual(
      imageServesNeuron({ flavour: "neuron", repository: values.image.repository }),
      true,
    );
    assert.strictEqual(imageServesNeuron({ flavour: "base" }), false);
    assert.strictEqual(imageServesNeuron({ flavour: "neuron" }), false);
    assert.strictEqual(
      imageServesNeuron({ flavour: "neuron", repository: NGC_TRITON.repository, tag: "26.07-py3" }),
      false,
    );
  });

  it("refuses image choices that cannot work, naming the key", async () => {
    const bad = {
      ...BASE,
      "llm-infra:sagemaker": {
        endpoints: [
          { name: "a", instanceType: "ml.g5.xlarge", tritonModelName: "m", imageFlavour: "vllm" },
          { name: "b", instanceType: "ml.g5.xlarge", tritonModelName: "m", imageFlavour: "tpu" },
          {
            name: "c",
            instanceType: "ml.g5.xlarge",
            tritonModelName: "m",
            imageRepository: "nope",
          },
        ],
      },
      "llm-infra:fleet": {
        instanceType: "inf2.xlarge",
        minSize: 1,
        desiredSize: 1,
        maxSize: 1,
        imageFlavour: "neuron",
      },
    };
    const problems = (await configProblems(bad)).join("\n");
    for (const expected of [
      "llm-infra:sagemaker.endpoints[0].imageRepository (or imageUri) is required with imageFlavour vllm: SageMaker pulls from ECR",
      'llm-infra:sagemaker.endpoints[1].imageFlavour must be one of base, vllm, trtllm, neuron, got "tpu"',
      'llm-infra:sagemaker.endpoints[2].imageRepository must name one of llm-infra:storage.repositories (triton, vllm), got "nope"',
      "llm-infra:fleet.imageRepository is required with imageFlavour neuron",
      "llm-infra:fleet.imageTag is required with imageFlavour neuron",
    ])
      assert.ok(
        problems.includes(expected),
        `expected ${JSON.stringify(expected)} in:\n${problems}`,
      );
  });

  it("names one key, once, for a SageMaker flavour without an image", async () => {
    const bad = {
      ...BASE,
      "llm-infra:sagemaker": {
        endpoints: [
          { name: "a", instanceType: "ml.g5.xlarge", tritonModelName: "m", imageFlavour: "vllm" },
        ],
      },
    };
    assert.deepStrictEqual(
      (await configProblems(bad)).filter((p) => p.startsWith("llm-infra:sagemaker.endpoints[0]")),
      [
        "llm-infra:sagemaker.endpoints[0].imageRepository (or imageUri) is required with imageFlavour vllm: SageMaker pulls from ECR and AWS publishes only the base Triton image; push the NGC vllm image to a repository of the stack",
      ],
    );
  });

  it("takes a SageMaker flavour with the user's own imageUri, no repository needed", async () => {
    const uri = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mine:vllm-1";
    const report = await planConfig("staging", {
      ...BASE,
      "llm-infra:sagemaker": {
        endpoints: [
          {
            name: "a",
            instanceType: "ml.g5.xlarge",
            tritonModelName: "m",
            imageFlavour: "vllm",
            imageUri: uri,
          },
        ],
      },
    });
    const model = report.resources.find((r) => r.type === "aws:sagemaker/model:Model");
    assert.ok(model, "a SageMaker model is planned");
    assert.strictEqual(
      (model.inputs.primaryContainer as { image?: string } | undefined)?.image,
      uri,
    );
  });

  describe("model, backend and image combinations that cannot serve", () => {
    const GPU_GROUP = {
      privateAccessCidrs: ["10.0.0.0/16"],
      nodeGroups: [
        { name: "gpu", instanceTypes: ["g5.2xlarge"], minSize: 1, desiredSize: 1, maxSize: 2 },
      ],
    };
    const NEURON_GROUP = {
      privateAccessCidrs: ["10.0.0.0/16"],
      nodeGroups: [
        {
          name: "neuron",
          instanceTypes: ["inf2.xlarge"],
          workloadType: "neuron-inference",
          minSize: 1,
          desiredSize: 1,
          maxSize: 2,
        },
      ],
    };
    const endpoint = (extra: Record<string, unknown>) => ({
      ...BASE,
      "llm-infra:sagemaker": {
        endpoints: [{ name: "a", instanceType: "ml.g5.xlarge", tritonModelName: "m", ...extra }],
      },
    });
    const fleet = (extra: Record<string, unknown>) => ({
      ...BASE,
      "llm-infra:fleet": {
        instanceType: "g5.xlarge",
        minSize: 1,
        desiredSize: 1,
        maxSize: 1,
        ...extra,
      },
    });

    it("refuses a neuron flavour on an NVIDIA node group and on an NVIDIA fleet", async () => {
      const neuron = { imageFlavour: "neuron", imageRepository: "triton", imageTag: "2.20-neuron" };
      assert.deepStrictEqual(
        await configProblems({
          ...BASE,
          "llm-infra:eks": GPU_GROUP,
          "llm-infra:triton": { nodeGroup: "gpu", ...neuron },
        }),
        [
          "llm-infra:triton.imageFlavour neuron is a Triton built for Inferentia and Trainium (Neuron devices), but g5.2xlarge has NVIDIA GPUs; use base, vllm or trtllm there, or serve on a Neuron instance type",
        ],
      );
      assert.deepStrictEqual(await configProblems(fleet(neuron)), [
        "llm-infra:fleet.imageFlavour neuron is a Triton built for Inferentia and Trainium (Neuron devices), but g5.xlarge has NVIDIA GPUs; use base, vllm or trtllm there, or serve on a Neuron instance type",
      ]);
    });

    it("refuses an NVIDIA flavour on a Neuron node group, and takes the neuron flavour there", async () => {
      const problems = await configProblems({
        ...BASE,
        "llm-infra:eks": NEURON_GROUP,
        "llm-infra:triton": { nodeGroup: "neuron", imageFlavour: "vllm" },
      });
      assert.strictEqual(problems.length, 1, problems.join("\n"));
      assert.match(
        problems[0],
        /^llm-infra:triton\.nodeGroup inf2\.xlarge has Neuron devices, and .* has no Neuron runtime/,
      );
      const served = await planConfig("staging", {
        ...BASE,
        "llm-infra:eks": NEURON_GROUP,
        "llm-infra:triton": {
          nodeGroup: "neuron",
          imageFlavour: "neuron",
          imageRepository: "triton",
          imageTag: "2.20-neuron",
        },
      });
      assert.ok(served.resources.some((r) => r.name === "triton-release"));
    });

    it("refuses a vllm or trtllm flavour on NGC's base image tag, on every path", async () => {
      const line = (key: string, tag: string, flavour: string, fix: string) =>
        `${key} "${tag}" is NGC's base Triton image, which has the ${TRITON_FLAVOURS.base.backends.join(", ")} backends, not imageFlavour ${flavour}'s (${TRITON_FLAVOURS[flavour as "vllm"].backends.join(", ")}); use ${fix} or imageFlavour base`;
      assert.deepStrictEqual(
        await configProblems(
          endpoint({ imageFlavour: "vllm", imageRepository: "triton", imageTag: "26.07-py3" }),
        ),
        [
          line(
            "llm-infra:sagemaker.endpoints[0].imageTag",
            "26.07-py3",
            "vllm",
            "26.07-vllm-python-py3",
          ),
        ],
      );
      assert.deepStrictEqual(
        await configProblems({
          ...BASE,
          "llm-infra:eks": GPU_GROUP,
          "llm-infra:triton": { nodeGroup: "gpu", imageFlavour: "trtllm", imageTag: "25.12-py3" },
        }),
        [line("llm-infra:triton.imageTag", "25.12-py3", "trtllm", "25.12-trtllm-python-py3")],
      );
      assert.deepStrictEqual(
        await configProblems(fleet({ imageFlavour: "vllm", imageTag: "26.07-py3" })),
        [line("llm-infra:fleet.imageTag", "26.07-py3", "vllm", "26.07-vllm-python-py3")],
      );
      // The other way round: the base flavour on the vLLM build would be checked for the wrong backends.
      assert.deepStrictEqual(
        await configProblems(fleet({ imageTag: "26.07-vllm-python-py3" })).then((p) =>
          p.map((l) => l.split(";")[0]),
        ),
        [
          `llm-infra:fleet.imageTag "26.07-vllm-python-py3" is NGC's vllm Triton image, which has the vllm, python backends, not imageFlavour base's (${TRITON_FLAVOURS.base.backends.join(", ")})`,
        ],
      );
    });

    it("takes the flavour's own NGC tag, and tags that are not NGC's (your own builds)", async () => {
      // NGC's vLLM tag on Triton on EKS (SageMaker refuses it: no generate handler before 25.03).
      const eks = await planConfig("staging", {
        ...BASE,
        "llm-infra:eks": GPU_GROUP,
        "llm-infra:triton": {
          nodeGroup: "gpu",
          imageFlavour: "vllm",
          imageRepository: "triton",
          imageTag: "24.05-vllm-python-py3",
        },
      });
      assert.match(releaseValues(eks.resources).image.repository, /\/registry-triton-[0-9a-f]+$/);
      assert.strictEqual(releaseValues(eks.resources).image.tag, "24.05-vllm-python-py3");
      // Tags that are not NGC's on a SageMaker endpoint.
      for (const tag of ["26.07-py3-custom", "my-build-1", "26.07-py3-sdk"]) {
        const report = await planConfig(
          "staging",
          endpoint({
            imageFlavour: "vllm",
            imageRepository: "triton",
            imageTag: tag,
            inferenceAmiVersion: "al2-ami-sagemaker-inference-gpu-3-1",
          }),
        );
        const model = report.resources.find((r) => r.type === "aws:sagemaker/model:Model")!;
        const image = (model.inputs.primaryContainer as { image: string }).image;
        assert.match(image, new RegExp(`/registry-triton-[0-9a-f]+:${tag.replace(/\./g, "\\.")}$`));
      }
      assert.deepStrictEqual(
        tritonImageProblems({ flavour: "neuron", repository: "r", tag: "26.07-py3" }),
        [],
      );
    });

    it("refuses NGC's vLLM tag before 25.03 on a SageMaker endpoint, pointing to image: lmi", async () => {
      const problems = await configProblems(
        endpoint({
          imageFlavour: "vllm",
          imageRepository: "triton",
          imageTag: "24.05-vllm-python-py3",
          inferenceAmiVersion: "al2-ami-sagemaker-inference-gpu-3-1",
        }),
      );
      assert.strictEqual(problems.length, 1, problems.join("\n"));
      assert.ok(!problems[0].includes("\n"), problems[0]);
      assert.ok(
        problems[0].startsWith(
          'llm-infra:sagemaker.endpoints[0].imageTag "24.05-vllm-python-py3" (Triton 24.05) has no SageMaker generate handler',
        ),
        problems[0],
      );
      assert.match(problems[0], /image: lmi/);
    });

    it("refuses two images for one endpoint or fleet, naming the second key", async () => {
      const uri = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mine:vllm-1";
      assert.deepStrictEqual(
        await configProblems(
          endpoint({
            imageFlavour: "vllm",
            imageUri: uri,
            imageRepository: "triton",
            imageTag: "t",
          }),
        ),
        [
          "llm-infra:sagemaker.endpoints[0].imageRepository does not apply with imageUri: an endpoint runs one image, and imageUri is all of it; remove it",
          "llm-infra:sagemaker.endpoints[0].imageTag does not apply with imageUri: an endpoint runs one image, and imageUri is all of it; remove it",
        ],
      );
      assert.deepStrictEqual(
        await configProblems(
          endpoint({ image: "lmi", imageRepository: "triton", imageTag: "26.07-py3" }),
        ),
        [
          "llm-infra:sagemaker.endpoints[0].image does not apply with imageRepository: an endpoint runs one image, triton:<imageTag>; remove it",
        ],
      );
      assert.deepStrictEqual(await configProblems(endpoint({ imageTag: "26.07-py3" })), [
        "llm-infra:sagemaker.endpoints[0].imageTag does not apply without imageRepository (the tag of an image in one of llm-infra:storage.repositories); remove it",
      ]);
      assert.deepStrictEqual(
        await configProblems(
          fleet({ image: "nvcr.io/nvidia/tritonserver:26.07-py3", imageRepository: "triton" }),
        ),
        [
          "llm-infra:fleet.imageRepository does not apply with image: the fleet runs one image, and image is all of it; remove it",
        ],
      );
    });
  });

  it("states the image problems of a choice", () => {
    assert.deepStrictEqual(tritonImageProblems({ flavour: "vllm" }), []);
    assert.deepStrictEqual(
      tritonImageProblems({ flavour: "neuron", repository: "r", tag: "t" }),
      [],
    );
    assert.deepStrictEqual(
      tritonImageProblems({ flavour: "neuron" }).map((p) => p.field),
      ["imageRepository", "imageTag"],
    );
  });
});
