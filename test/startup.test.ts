import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import {
  SageMakerEndpoint,
  SageMakerEndpointArgs,
  TritonFleet,
  TritonReleaseArgs,
  tritonChartPath,
  tritonValues,
} from "../components";
import { validateTritonReleaseArgs } from "../components/triton/tritonRelease";
import { renderValidated } from "./chartRender";
import {
  NETWORK_BANDWIDTH,
  PUBLISHED_LOAD,
  defaultContainerStartupSeconds,
  defaultDownloadSeconds,
  fleetGracePeriodSeconds,
  startupEstimate,
  startupProbeThreshold,
  TRITON_PROBE_PERIOD_SECONDS,
  TRITON_STARTUP_FAILURE_THRESHOLD,
} from "../catalog/startup";
import * as YAML from "yaml";
import { INSTANCE_SPECS, ModelRequirements } from "../catalog";
import { ConfigError, parseStackConfig } from "../programs/config";
import { readStackFile } from "../offline/plan";
import { LLAMA3_8B, one, resourcesOf } from "./helpers";

const LLAMA3_70B: ModelRequirements = {
  parametersBillions: 70,
  dtype: "bf16",
  contextLength: 8192,
  concurrentSequences: 4,
  layers: 80,
  hiddenSize: 8192,
  attentionHeads: 64,
  kvHeads: 8,
};
const LLAMA31_405B_FP8: ModelRequirements = {
  parametersBillions: 405,
  dtype: "fp8",
  contextLength: 8192,
  concurrentSequences: 4,
  layers: 126,
  hiddenSize: 16384,
  attentionHeads: 128,
  kvHeads: 8,
};
const RATE = PUBLISHED_LOAD.bytes / PUBLISHED_LOAD.loadSeconds;
const ENGINE = PUBLISHED_LOAD.engineReadySeconds - PUBLISHED_LOAD.loadSeconds;

describe("will it start? download and load against the target's limits", () => {
  it("recomputes the published measurement it scales: 15 GB ready in 66.13 s", () => {
    const est = startupEstimate({ ...LLAMA3_8B, parametersBillions: 7.5 }, "g5.12xlarge")!;
    assert.strictEqual(est.weightsBytes, 15e9);
    assert.ok(Math.abs(est.loadSeconds - 66.13) < 1e-9, String(est.loadSeconds));
  });

  it("estimates Llama 3 8B on ml.g5.xlarge: 12.8 s to download at 10 Gbps burst, 69.3 s to load", () => {
    const est = startupEstimate(LLAMA3_8B, "ml.g5.xlarge")!;
    assert.strictEqual(est.weightsBytes, 16e9);
    assert.strictEqual(est.downloadSeconds, 16e9 / (10e9 / 8));
    assert.strictEqual(est.downloadSeconds, 12.8);
    assert.strictEqual(est.loadSeconds, 16e9 / RATE + ENGINE);
    assert.strictEqual(est.loadSeconds.toFixed(1), "69.3");
    assert.strictEqual(est.bandwidth, "10 Gbps burst");
    // Without a burst figure, the baseline: g6e.xlarge at 2.5 Gbps.
    assert.strictEqual(startupEstimate(LLAMA3_8B, "g6e.xlarge")!.downloadSeconds, 51.2);
    assert.strictEqual(startupEstimate(LLAMA3_8B, "m5.large"), undefined, "no bandwidth known");
  });

  it("holds docs/startup.md's table: each row recomputed", () => {
    const page = fs.readFileSync(path.join(__dirname, "..", "..", "docs", "startup.md"), "utf8");
    const models: Record<string, ModelRequirements> = {
      "Llama 3 8B, bf16": LLAMA3_8B,
      "Llama 3 70B, bf16": LLAMA3_70B,
      "Llama 3.1 405B fp8": LLAMA31_405B_FP8,
    };
    const rows = [
      ...page.matchAll(
        /^\| (Llama[^|]*?) +\| (ml\.\S+) +\| ([\d.]+) s \(([\d.]+) Gbps\) +\| ([\d,]+) s +\|$/gm,
      ),
    ];
    assert.strictEqual(rows.length, 3, "three rows");
    for (const [, model, instance, download, gbps, load] of rows) {
      const est = startupEstimate(models[model], instance)!;
      assert.strictEqual(est.downloadSeconds.toFixed(1), download, `${model} download`);
      assert.strictEqual(est.bandwidth.split(" ")[0], gbps, `${model} bandwidth`);
      assert.strictEqual(
        Math.round(est.loadSeconds).toLocaleString("en-US"),
        load,
        `${model} load`,
      );
    }
  });

  it("knows the network of every accelerated instance the catalog has", () => {
    const accelerated = Object.values(INSTANCE_SPECS)
      .filter((s) => s.accelerator)
      .map((s) => s.instanceType);
    assert.deepStrictEqual(
      accelerated.filter((t) => !(t in NETWORK_BANDWIDTH)),
      [],
    );
  });

  it("refuses a 70B bf16 model whose startup health check timeout is 60 s, naming the key", () => {
    const config = {
      "aws:region": "us-east-1",
      "llm-infra:environment": "staging",
      "llm-infra:tags": { team: "ml", costCenter: "1" },
      "llm-infra:sagemaker": {
        endpoints: [
          {
            name: "chat",
            image: "lmi",
            instanceType: "ml.p4d.24xlarge",
            containerStartupTimeoutSeconds: 60,
            model: LLAMA3_70B,
          },
        ],
      },
    };
    let problems: string[] = [];
    try {
      parseStackConfig(config, "staging");
    } catch (e) {
      assert.ok(e instanceof ConfigError, String(e));
      problems = e.problems;
    }
    // 140e9 bytes at 15e9 per 47.99 s, plus 18.14 s of engine start: 466.05 s.
    assert.deepStrictEqual(problems, [
      "llm-infra:sagemaker.endpoints[0].containerStartupTimeoutSeconds must cover loading the model: 140 GB of weights take about 467 s to load and start (15 GB loaded by vLLM in 47.99 s, catalog/startup.ts), got 60; set 1800 or leave it unset",
    ]);
  });

  const endpointArgs: SageMakerEndpointArgs = {
    modelBucketArn: "arn:aws:s3:::b",
    modelDataPrefix: "model-repository/chat",
    image: "lmi",
    region: "us-east-1",
    instanceType: "ml.g6e.xlarge",
    modelRequirements: { ...LLAMA3_70B, dtype: "int4", concurrentSequences: 1 },
  };

  it("refuses a download timeout below the download at the instance's bandwidth", () => {
    // 35 GB at g6e.xlarge's 2.5 Gbps: at least 112 s.
    assert.throws(
      () => new SageMakerEndpoint("chat", { ...endpointArgs, modelDataDownloadTimeoutSeconds: 60 }),
      /modelDataDownloadTimeoutSeconds: must cover downloading 35\.0 GB, which takes at least 112 s at ml\.g6e\.xlarge's 2\.5 Gbps, got 60$/m,
    );
    assert.doesNotThrow(
      () => new SageMakerEndpoint("c2", { ...endpointArgs, modelDataDownloadTimeoutSeconds: 120 }),
    );
  });

  it("gives a model that loads longer than 20 minutes a longer startup timeout, and refuses one beyond SageMaker's hour", async () => {
    // 405 GB in fp8 on ml.p5.48xlarge: 1,313.9 s to load, half again is 1,970.8: 1,980 s.
    const res = await resourcesOf(
      () =>
        new SageMakerEndpoint("big", {
          ...endpointArgs,
          instanceType: "ml.p5.48xlarge",
          modelRequirements: LLAMA31_405B_FP8,
        }),
    );
    const variant = (
      one(res, "aws:sagemaker/endpointConfiguration:EndpointConfiguration").inputs
        .productionVariants as Record<string, unknown>[]
    )[0];
    assert.strictEqual(variant.containerStartupHealthCheckTimeoutInSeconds, 1980);
    assert.strictEqual(
      defaultContainerStartupSeconds(startupEstimate(LLAMA3_8B, "g5.xlarge")),
      1800,
    );
    assert.strictEqual(defaultContainerStartupSeconds(undefined), 1800);
    // The download's bound is seconds on these networks: the 1800 s default stands, and a bound
    // of 1,500 s (2.25 TB at 12 Gbps, say) would be given 2,280 s.
    assert.strictEqual(variant.modelDataDownloadTimeoutInSeconds, 1800);
    assert.strictEqual(defaultDownloadSeconds(startupEstimate(LLAMA3_8B, "g5.xlarge")), 1800);
    assert.strictEqual(
      defaultDownloadSeconds({
        weightsBytes: 0,
        downloadSeconds: 1500,
        loadSeconds: 0,
        bandwidth: "",
      }),
      2280,
    );
    assert.strictEqual(
      defaultDownloadSeconds({
        weightsBytes: 0,
        downloadSeconds: 3000,
        loadSeconds: 0,
        bandwidth: "",
      }),
      3600,
    );
    // 1,200B parameters in int8: 1.2 TB load in about 3,858 s.
    assert.throws(
      () =>
        new SageMakerEndpoint("huge", {
          ...endpointArgs,
          instanceType: "ml.p5.48xlarge",
          modelRequirements: { ...LLAMA31_405B_FP8, parametersBillions: 1200, dtype: "int8" },
        }),
      /modelRequirements: 1200 GB of weights take about 3858 s to load and start .*, longer than SageMaker allows a container to start \(3600 s\)/,
    );
  });

  it("gives Triton on EKS a startup probe that covers the load, and refuses a model a pod cannot hold", () => {
    const args: TritonReleaseArgs = {
      clusterName: "c1",
      instanceType: "p5.48xlarge",
      modelRepositoryUri: "s3://models/model-repository/triton/",
      readPolicyJson: '{"Version":"2012-10-17","Statement":[]}',
      modelRequirements: LLAMA31_405B_FP8,
    };
    // 1,313.9 s of load, half again at 10 s a probe: 198 failures allowed (1,980 s).
    const v = tritonValues(args, "s3://models/model-repository/triton/") as {
      probes: { startupFailureThreshold: number };
      podAnnotations: Record<string, string>;
    };
    assert.strictEqual(v.probes.startupFailureThreshold, 198);
    assert.deepStrictEqual(v.podAnnotations, {
      "llm-infra:model-class": "405B fp8",
      "llm-infra:utilization": "0.5",
    });
    // An 8B model starts within the chart's own 1200 s.
    const small = tritonValues(
      { ...args, instanceType: "g5.2xlarge", modelRequirements: LLAMA3_8B },
      "s3://m/p/",
    ) as { probes: { startupFailureThreshold: number } };
    assert.strictEqual(small.probes.startupFailureThreshold, 120);
    assert.strictEqual(startupProbeThreshold(undefined), 120);
    // The chart takes the values (helm's schema check), the probe and the annotations render.
    const rendered = renderValidated(tritonChartPath(), v, { shapeOnly: ["ServiceMonitor"] });
    const deployment = rendered.find((m) => m.kind === "Deployment")!;
    const template = deployment.spec.template as {
      metadata: { annotations: Record<string, string> };
      spec: { containers: { startupProbe: { failureThreshold: number; periodSeconds: number } }[] };
    };
    assert.deepStrictEqual(template.metadata.annotations, v.podAnnotations);
    assert.deepStrictEqual(
      [
        template.spec.containers[0].startupProbe.failureThreshold,
        template.spec.containers[0].startupProbe.periodSeconds,
      ],
      [198, 10],
    );
    // 8B at a 32k context on one A10G of a g5.12xlarge: refused, naming the pod's share.
    assert.deepStrictEqual(
      validateTritonReleaseArgs({
        ...args,
        instanceType: "g5.12xlarge",
        acceleratorsPerPod: 1,
        modelRequirements: { ...LLAMA3_8B, contextLength: 32768, concurrentSequences: 2 },
      }).map((e) => `${e.propertyPath}: ${e.reason}`),
      [
        "modelRequirements: the model needs 25.4 GiB of accelerator memory but a pod's 1 x A10G on g5.12xlarge have 22.4 GiB; or contextLength 21248 fits at concurrentSequences 2",
      ],
    );
  });

  it("holds the Triton chart's probe values as the catalog has them", () => {
    const values = YAML.parse(
      fs.readFileSync(path.join(tritonChartPath(), "values.yaml"), "utf8"),
    ) as { probes: { periodSeconds: number; startupFailureThreshold: number } };
    assert.deepStrictEqual(
      [values.probes.periodSeconds, values.probes.startupFailureThreshold],
      [TRITON_PROBE_PERIOD_SECONDS, TRITON_STARTUP_FAILURE_THRESHOLD],
    );
  });

  it("refuses llm-infra:triton.model when a pod cannot hold it, naming the key", () => {
    const raw = readStackFile("dev") as Record<string, Record<string, unknown>>;
    const triton = raw["llm-infra:triton"];
    let problems: string[] = [];
    try {
      parseStackConfig(
        {
          ...raw,
          "llm-infra:triton": {
            ...triton,
            model: { ...(triton.model as object), contextLength: 65536 },
          },
        },
        "dev",
      );
    } catch (e) {
      assert.ok(e instanceof ConfigError, String(e));
      problems = e.problems;
    }
    assert.strictEqual(problems.length, 1, problems.join("\n"));
    assert.match(
      problems[0],
      /^llm-infra:triton\.model the model needs [\d.]+ GiB of accelerator memory but a pod's 1 x A10G on g5\.xlarge have 22\.4 GiB; or contextLength \d+ fits at concurrentSequences 2$/,
    );
  });

  it("gives the fleet a health-check grace period that covers the download and load", async () => {
    assert.strictEqual(fleetGracePeriodSeconds(startupEstimate(LLAMA3_8B, "g5.xlarge")), 1200);
    assert.strictEqual(fleetGracePeriodSeconds(undefined), 1200);
    const big = startupEstimate(LLAMA31_405B_FP8, "p5.48xlarge")!;
    assert.strictEqual(
      fleetGracePeriodSeconds(big),
      Math.ceil(((big.downloadSeconds + big.loadSeconds) * 1.5) / 60) * 60,
    );
    assert.strictEqual(fleetGracePeriodSeconds(big), 1980);
    const res = await resourcesOf(
      () =>
        new TritonFleet("fleet", {
          vpcId: "vpc-1",
          vpcCidrBlock: "10.0.0.0/16",
          subnetIds: ["subnet-1", "subnet-2"],
          instanceType: "p5.48xlarge",
          modelRepositoryUri: "s3://models/model-repository/fleet/",
          readPolicyJson: '{"Version":"2012-10-17","Statement":[]}',
          modelRequirements: LLAMA31_405B_FP8,
        }),
    );
    assert.strictEqual(one(res, "aws:autoscaling/group:Group").inputs.healthCheckGracePeriod, 1980);
  });
});
