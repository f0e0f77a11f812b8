import * as assert from "assert";
import {
  SAGEMAKER_GENERATE_SINCE,
  sageMakerGenerateProblem,
  EKS_AL2023_NVIDIA_DRIVER,
  FLEET_DLAMI_DRIVER,
  NGC_TRITON_DRIVERS,
  SAGEMAKER_INFERENCE_AMIS,
  driverBranch,
  driverProblem,
  eksHostDriver,
  fleetHostDriver,
  newestReleaseFor,
  ngcTagDriver,
  sageMakerHostDriver,
} from "../catalog/drivers";
import {
  NGC_TRITON,
  cudaAtMost,
  lmiTagCuda,
  servingImageUri,
  tritonImage,
} from "../catalog/images";
import { parseStackConfig } from "../programs/config";
import { planStack, readStackFile } from "../offline/plan";
import { LLAMA3_8B, configProblems } from "./helpers";

const BASE = {
  "aws:region": "us-east-1",
  "llm-infra:environment": "staging",
  "llm-infra:tags": { team: "ml", costCenter: "1" },
  "llm-infra:storage": { repositories: ["triton"] },
};

/** The problems of a stack configuration the parse refuses; [] when it takes it. */
const problemsOf = (config: Record<string, unknown>) => configProblems(config);

const endpoint = (extra: Record<string, unknown>) => ({
  ...BASE,
  "llm-infra:sagemaker": {
    endpoints: [
      {
        name: "chat",
        instanceType: "ml.g5.2xlarge",
        tritonModelName: "llama3-8b",
        imageFlavour: "vllm",
        imageRepository: "triton",
        model: LLAMA3_8B,
        ...extra,
      },
    ],
  },
});

const triton = (group: Record<string, unknown>, extra: Record<string, unknown>) => ({
  ...BASE,
  "llm-infra:eks": {
    privateAccessCidrs: ["10.0.0.0/16"],
    nodeGroups: [{ name: "gpu", instanceTypes: ["g5.2xlarge"], minSize: 1, maxSize: 2, ...group }],
  },
  "llm-infra:triton": { nodeGroup: "gpu", imageFlavour: "vllm", ...extra },
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

describe("NVIDIA drivers: the NGC Triton tag against the host's driver", () => {
  it("knows what each NGC vLLM release needs and the newest release each host runs", () => {
    assert.deepStrictEqual(ngcTagDriver("26.07-vllm-python-py3"), {
      release: "26.07",
      flavour: "vllm",
      driver: "610.43.02",
      cuda: "13.3.0.035",
    });
    assert.strictEqual(ngcTagDriver("24.05-vllm-python-py3")?.driver, "550.54.15");
    // Base tags are not in NVIDIA's matrix, and tags that are not NGC's are the user's own.
    assert.strictEqual(ngcTagDriver("26.07-py3"), undefined);
    assert.strictEqual(ngcTagDriver("my-build-1"), undefined);
    assert.strictEqual(ngcTagDriver("27.01-vllm-python-py3"), undefined);
    const gpu31 = SAGEMAKER_INFERENCE_AMIS["al2-ami-sagemaker-inference-gpu-3-1"].driverBranch!;
    assert.strictEqual(newestReleaseFor("vllm", gpu31), "24.05");
    assert.strictEqual(newestReleaseFor("vllm", EKS_AL2023_NVIDIA_DRIVER.branch), "25.11");
    assert.strictEqual(newestReleaseFor("vllm", FLEET_DLAMI_DRIVER.branch), "26.05");
    assert.strictEqual(newestReleaseFor("vllm", 470), undefined);
    assert.strictEqual(driverBranch("610.43.02"), 610);
  });

  it("runs the default NGC images on every host the package deploys Triton to", () => {
    const hosts = [
      sageMakerHostDriver("ml.g5.xlarge", "al2-ami-sagemaker-inference-gpu-3-1"),
      eksHostDriver("al2023"),
      fleetHostDriver(),
    ];
    for (const flavour of ["vllm", "trtllm"] as const) {
      const tag = tritonImage({ flavour }).tag;
      assert.ok(ngcTagDriver(tag), `${tag} is in NVIDIA's matrix`);
      for (const host of hosts) assert.strictEqual(driverProblem(tag, host), undefined);
    }
    assert.ok(NGC_TRITON_DRIVERS.vllm[NGC_TRITON.defaultVersion]);
  });

  it("SageMaker: refuses a tag the variant's AMI cannot run, naming the key and what serves instead", () => {
    const instead = `no Triton vLLM or TensorRT-LLM release both has SageMaker's generate handler (from Triton 25.03) and runs on a SageMaker GPU AMI's driver: serve the model with the LMI container (image: lmi and hubModel, docs/model-repository.md), or on EKS or the fleet`;
    assert.deepStrictEqual(
      problemsOf(
        endpoint({
          imageTag: "26.07-vllm-python-py3",
          inferenceAmiVersion: "al2-ami-sagemaker-inference-gpu-3-1",
        }),
      ),
      [
        `llm-infra:sagemaker.endpoints[0].imageTag "26.07-vllm-python-py3" needs NVIDIA driver 610.43.02 or later (NGC Triton 26.07 vllm, CUDA 13.3.0.035), but ml.g5.2xlarge with inferenceAmiVersion al2-ami-sagemaker-inference-gpu-3-1 has driver 550 (CUDA 12.4); ${instead}`,
      ],
    );
    // SageMaker's default AMI on ml.g5 has driver 470: even 24.05 does not start there.
    assert.deepStrictEqual(problemsOf(endpoint({ imageTag: "24.05-vllm-python-py3" })), [
      `llm-infra:sagemaker.endpoints[0].imageTag "24.05-vllm-python-py3" needs NVIDIA driver 550.54.15 or later (NGC Triton 24.05 vllm, CUDA 12.4.1), but ml.g5.2xlarge without inferenceAmiVersion (SageMaker's default AMI) has driver 470 (CUDA 11.4); ${instead}`,
    ]);
    // No imageTag: the flavour's default tag is checked, and the flavour's key is named.
    const defaults = problemsOf(endpoint({}));
    assert.strictEqual(defaults.length, 1, defaults.join("\n"));
    assert.match(defaults[0], /^llm-infra:sagemaker\.endpoints\[0\]\.imageFlavour "24\.05-vllm/);
  });

  it("SageMaker: refuses an LLM tag without the generate handler where the AMI's driver runs it, and sets the AMI version on the variant", async () => {
    // 24.05's driver is on the gpu-3-1 AMI, but its SageMaker front end cannot serve vLLM.
    const problems = problemsOf(
      endpoint({
        imageTag: "24.05-vllm-python-py3",
        inferenceAmiVersion: "al2-ami-sagemaker-inference-gpu-3-1",
      }),
    );
    assert.strictEqual(problems.length, 1, problems.join("\n"));
    assert.match(
      problems[0],
      /^llm-infra:sagemaker\.endpoints\[0\]\.imageTag "24\.05-vllm-python-py3" \(Triton 24\.05\) has no SageMaker generate handler .*\(image: lmi and hubModel/,
    );
    // Your own image is not NGC's: its driver is yours to know.
    assert.deepStrictEqual(problemsOf(endpoint({ imageTag: "my-vllm-build" })), []);
    const report = await planStack("staging");
    const configs = report.resources.filter(
      (r) => r.type === "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
    );
    assert.ok(configs.length > 0);
    for (const c of configs)
      for (const v of c.inputs.productionVariants as { inferenceAmiVersion?: string }[])
        assert.strictEqual(v.inferenceAmiVersion, "al2-ami-sagemaker-inference-gpu-3-1");
  });

  it("SageMaker: refuses an AMI version SageMaker does not have, or one for other devices", () => {
    assert.deepStrictEqual(
      problemsOf(endpoint({ imageTag: "my-vllm-build", inferenceAmiVersion: "al2-ami-gpu-9" })),
      [
        `llm-infra:sagemaker.endpoints[0].inferenceAmiVersion must be one of ${Object.keys(SAGEMAKER_INFERENCE_AMIS).join(", ")}, got "al2-ami-gpu-9"`,
      ],
    );
    assert.deepStrictEqual(
      problemsOf(
        endpoint({
          imageTag: "my-vllm-build",
          inferenceAmiVersion: "al2-ami-sagemaker-inference-neuron-2",
        }),
      ),
      [
        "llm-infra:sagemaker.endpoints[0].inferenceAmiVersion al2-ami-sagemaker-inference-neuron-2 is an AMI for Neuron devices, but ml.g5.2xlarge has NVIDIA GPUs",
      ],
    );
  });

  it("EKS: refuses a tag the AL2023 NVIDIA AMI's driver cannot run, and takes one it can", () => {
    assert.deepStrictEqual(problemsOf(triton({}, { imageTag: "26.07-vllm-python-py3" })), [
      'llm-infra:triton.imageTag "26.07-vllm-python-py3" needs NVIDIA driver 610.43.02 or later (NGC Triton 26.07 vllm, CUDA 13.3.0.035), but the EKS AL2023 NVIDIA AMI has driver 580 (CUDA 13.0); use 25.11-vllm-python-py3 or older (NVIDIA driver 580.95.05) (node group gpu)',
    ]);
    assert.deepStrictEqual(problemsOf(triton({}, { imageTag: "25.11-vllm-python-py3" })), []);
    assert.deepStrictEqual(problemsOf(triton({}, {})), []);
    // Bottlerocket's driver is not in the catalog: not checked.
    assert.deepStrictEqual(
      problemsOf(triton({ os: "bottlerocket" }, { imageTag: "26.07-vllm-python-py3" })),
      [],
    );
  });

  it("EC2 fleet: refuses a tag or image the Deep Learning AMI's driver cannot run", () => {
    const why =
      '"26.07-vllm-python-py3" needs NVIDIA driver 610.43.02 or later (NGC Triton 26.07 vllm, CUDA 13.3.0.035), but the fleet\'s Deep Learning Base AMI (AL2023) has driver 595 (CUDA 13.2); use 26.05-vllm-python-py3 or older (NVIDIA driver 595.58.03)';
    assert.deepStrictEqual(
      problemsOf(fleet({ imageFlavour: "vllm", imageTag: "26.07-vllm-python-py3" })),
      [`llm-infra:fleet.imageTag ${why}`],
    );
    assert.deepStrictEqual(
      problemsOf(
        fleet({ imageFlavour: "vllm", image: "nvcr.io/nvidia/tritonserver:26.07-vllm-python-py3" }),
      ),
      [`llm-infra:fleet.image ${why}`],
    );
    assert.deepStrictEqual(
      problemsOf(fleet({ imageFlavour: "vllm", imageTag: "26.05-vllm-python-py3" })),
      [],
    );
  });

  it("the shipped stacks run tags their hosts' drivers have", () => {
    for (const stack of ["dev", "staging", "prod"]) {
      const config = parseStackConfig(readStackFile(stack), stack);
      let checked = 0;
      // SageMaker: LMI, built on a CUDA the AMI's driver runs natively (no compat libraries).
      // An endpoint of inference components: each component on each of its pool types.
      const hosted = config.sagemaker.endpoints.flatMap((e) =>
        e.components === undefined
          ? [{ name: e.name, model: e, instanceType: e.instanceType!, ami: e.inferenceAmiVersion }]
          : e.components.flatMap((c) =>
              (e.instancePools ?? []).map((p) => ({
                name: `${e.name}/${c.name} on ${p.instanceType}`,
                model: c,
                instanceType: p.instanceType,
                ami: e.inferenceAmiVersion,
              })),
            ),
      );
      for (const { name, model, instanceType, ami } of hosted) {
        assert.strictEqual(model.image, "lmi", `${stack} ${name}`);
        const tag = servingImageUri("lmi", config.region, model.imageVersion).uri.split(":").pop()!;
        const cuda = lmiTagCuda(tag);
        const host = sageMakerHostDriver(instanceType, ami);
        assert.ok(host && cuda, `${stack} ${name}: ${tag} on a known host`);
        assert.ok(
          cudaAtMost(cuda, host.cuda),
          `${stack} ${name}: ${tag} (CUDA ${cuda}) on ${host.what} (CUDA ${host.cuda})`,
        );
        checked++;
      }
      for (const t of [config.triton, config.fleet]) {
        if (t?.imageTag === undefined) continue;
        assert.ok(ngcTagDriver(t.imageTag), `${stack}: ${t.imageTag}`);
        assert.strictEqual(driverProblem(t.imageTag, eksHostDriver("al2023")), undefined);
        assert.strictEqual(driverProblem(t.imageTag, fleetHostDriver()), undefined);
        checked++;
      }
      assert.ok(checked >= 2, `${stack}: ${checked} targets checked`);
    }
  });

  it("knows that SageMaker's generate handler starts with Triton 25.03, newer than its GPU AMIs' drivers run", () => {
    assert.match(
      sageMakerGenerateProblem("24.05-vllm-python-py3") ?? "",
      /^"24\.05-vllm-python-py3" \(Triton 24\.05\) has no SageMaker generate handler .*from Triton 25\.03/,
    );
    assert.strictEqual(sageMakerGenerateProblem("25.03-vllm-python-py3"), undefined);
    assert.strictEqual(sageMakerGenerateProblem("24.05-py3"), undefined, "not an LLM flavour");
    // The first release with the handler needs a driver no SageMaker GPU AMI has.
    const first = ngcTagDriver(`${SAGEMAKER_GENERATE_SINCE}-vllm-python-py3`);
    assert.ok(first);
    assert.ok(
      driverProblem(
        first.release + "-vllm-python-py3",
        sageMakerHostDriver("ml.g5.xlarge", "al2-ami-sagemaker-inference-gpu-3-1"),
      ),
      "25.03's vLLM image does not run on SageMaker's newest GPU AMI",
    );
  });
});
