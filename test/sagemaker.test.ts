import * as assert from "assert";
import { SageMakerEndpoint, SageMakerEndpointArgs } from "../components";
import { defaultEndpointName, deploymentConfig } from "../components/sagemaker/sageMakerEndpoint";
import {
  alarmThresholds,
  endpointSettings,
  productionVariant,
  scalingOptions,
  volumeKmsKey,
} from "../components/sagemaker/endpointSettings";
import { CapturedResource } from "../offline/engine";
import { LLAMA3_8B, assertThrowsWith, ofType, one, policyOf, resourcesOf } from "./helpers";

const BUCKET_ARN = "arn:aws:s3:::models-bucket-1234567";
const MODEL_KEY = "arn:aws:kms:us-east-1:123456789012:key/model";
const base: SageMakerEndpointArgs = {
  modelBucketArn: BUCKET_ARN,
  modelKmsKeyArn: MODEL_KEY,
  modelDataPrefix: "model-repository/chat",
  tritonModelName: "llama3-8b",
  instanceType: "ml.g5.2xlarge",
  modelRequirements: LLAMA3_8B,
};
const TYPES = {
  model: "aws:sagemaker/model:Model",
  config: "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
  endpoint: "aws:sagemaker/endpoint:Endpoint",
  target: "aws:appautoscaling/target:Target",
  policy: "aws:appautoscaling/policy:Policy",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  topic: "aws:sns/topic:Topic",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
};

const endpoint = (args: Partial<SageMakerEndpointArgs>, name = "chat") =>
  resourcesOf(() => new SageMakerEndpoint(name, { ...base, ...args }));
const variantOf = (res: CapturedResource[]) =>
  (one(res, TYPES.config).inputs.productionVariants as Record<string, unknown>[])[0];
const statements = (res: CapturedResource[]) => policyOf(one(res, TYPES.rolePolicy)).Statement;

function assertNoS3OnStar(res: CapturedResource[]) {
  for (const s of statements(res)) {
    const actions = ([] as string[]).concat(s.Action as string | string[]);
    const resources = ([] as string[]).concat(s.Resource as string | string[]);
    if (actions.some((a) => a.startsWith("s3:")))
      assert.ok(!resources.includes("*"), `S3 action on *: ${JSON.stringify(s)}`);
    assert.ok(
      !actions.includes("*") && !actions.includes("s3:*"),
      `wildcard action: ${JSON.stringify(s)}`,
    );
  }
}

describe("SageMakerEndpoint: real-time", () => {
  let res: CapturedResource[];
  before(async () => {
    res = await endpoint({
      initialInstanceCount: 2,
      minInstances: 2,
      maxInstances: 8,
      deploymentStrategy: "canary",
      subnetIds: ["subnet-1", "subnet-2"],
      vpcId: "vpc-1",
    });
  });

  it("serves the Triton repository prefix uncompressed with the Triton container of the region", () => {
    const model = one(res, TYPES.model);
    const container = model.inputs.primaryContainer as Record<string, unknown>;
    assert.strictEqual(
      container.image,
      "763104351884.dkr.ecr.us-east-1.amazonaws.com/sagemaker-tritonserver:24.09-py3",
    );
    assert.deepStrictEqual(container.modelDataSource, {
      s3DataSources: [
        {
          s3Uri: "s3://models-bucket-1234567/model-repository/chat/",
          s3DataType: "S3Prefix",
          compressionType: "None",
        },
      ],
    });
    assert.deepStrictEqual(container.environment, {
      SAGEMAKER_TRITON_DEFAULT_MODEL_NAME: "llama3-8b",
    });
    assert.strictEqual(model.inputs.enableNetworkIsolation, true);
    const sg = one(res, "aws:ec2/securityGroup:SecurityGroup");
    assert.deepStrictEqual(model.inputs.vpcConfig, {
      subnets: ["subnet-1", "subnet-2"],
      securityGroupIds: [sg.id],
    });
    assert.strictEqual(sg.inputs.ingress, undefined, "no inbound rules");
  });

  it("runs two ml.g5.2xlarge with timeouts sized for LLM weights, and no volume key on NVMe instances", () => {
    const v = variantOf(res);
    assert.deepStrictEqual(
      [v.instanceType, v.initialInstanceCount, v.variantName],
      ["ml.g5.2xlarge", 2, "primary"],
    );
    assert.strictEqual(v.modelName, one(res, TYPES.model).id);
    assert.strictEqual(v.modelDataDownloadTimeoutInSeconds, 1800);
    assert.strictEqual(v.containerStartupHealthCheckTimeoutInSeconds, 1800);
    assert.strictEqual(one(res, TYPES.config).inputs.kmsKeyArn, undefined);
  });

  it("deploys canary blue/green that rolls back on its own error and latency alarms", () => {
    const ep = one(res, TYPES.endpoint);
    assert.strictEqual(ep.inputs.name, "llm-infra-test-chat");
    assert.strictEqual(ep.inputs.endpointConfigName, one(res, TYPES.config).id);
    const dc = ep.inputs.deploymentConfig as Record<string, Record<string, unknown>>;
    assert.deepStrictEqual(dc.blueGreenUpdatePolicy.trafficRoutingConfiguration, {
      type: "CANARY",
      waitIntervalInSeconds: 600,
      canarySize: { type: "CAPACITY_PERCENT", value: 10 },
    });
    const alarmNames = ofType(res, TYPES.alarm)
      .filter((a) => /5xx-errors|latency-p99/.test(a.name))
      .map((a) => a.id);
    assert.deepStrictEqual(
      dc.autoRollbackConfiguration.alarms,
      alarmNames.map((alarmName) => ({ alarmName })),
    );
  });

  it("scales on invocations per instance: target 70, scale-in 300 s, scale-out 60 s, and nothing else", () => {
    const target = one(res, TYPES.target);
    assert.deepStrictEqual(
      [
        target.inputs.resourceId,
        target.inputs.scalableDimension,
        target.inputs.minCapacity,
        target.inputs.maxCapacity,
      ],
      [
        "endpoint/llm-infra-test-chat/variant/primary",
        "sagemaker:variant:DesiredInstanceCount",
        2,
        8,
      ],
    );
    const policy = one(res, TYPES.policy);
    assert.strictEqual(policy.inputs.policyType, "TargetTrackingScaling");
    assert.deepStrictEqual(policy.inputs.targetTrackingScalingPolicyConfiguration, {
      targetValue: 70,
      scaleInCooldown: 300,
      scaleOutCooldown: 60,
      predefinedMetricSpecification: {
        predefinedMetricType: "SageMakerVariantInvocationsPerInstance",
      },
    });
    assert.strictEqual(ofType(res, TYPES.topic).length, 1, "only the alarm topic: no async topics");
  });

  it("alarms on 5XX errors, latency in microseconds and GPU use, to an encrypted topic", () => {
    const alarms = Object.fromEntries(ofType(res, TYPES.alarm).map((a) => [a.name, a.inputs]));
    assert.deepStrictEqual(Object.keys(alarms).sort(), [
      "chat-5xx-errors",
      "chat-gpu-memory",
      "chat-gpu-utilization",
      "chat-latency-p90",
      "chat-latency-p99",
    ]);
    assert.strictEqual(alarms["chat-latency-p99"].extendedStatistic, "p99");
    assert.strictEqual(alarms["chat-latency-p99"].threshold, 30_000_000);
    assert.strictEqual(alarms["chat-gpu-utilization"].namespace, "/aws/sagemaker/Endpoints");
    const topic = one(res, TYPES.topic);
    for (const a of Object.values(alarms)) assert.deepStrictEqual(a.alarmActions, [topic.id]);
    assert.strictEqual(topic.inputs.kmsMasterKeyId, one(res, "aws:kms/key:Key").id);
    const keyPolicy = JSON.parse(String(one(res, "aws:kms/key:Key").inputs.policy)) as {
      Statement: { Principal: unknown }[];
    };
    assert.deepStrictEqual(keyPolicy.Statement[1].Principal, {
      Service: "cloudwatch.amazonaws.com",
    });
  });

  it("scales GPU alarm thresholds by the instance's GPU count", async () => {
    const big = await endpoint({ instanceType: "ml.g5.12xlarge" });
    assert.strictEqual(one(big, TYPES.alarm, "chat-gpu-utilization").inputs.threshold, 360);
  });

  it("gives the role only the model prefix, the image repository and its own logs", () => {
    const s = statements(res);
    const byId = Object.fromEntries(s.map((x) => [x.Sid, x]));
    assert.strictEqual(byId.ReadModelData.Resource, `${BUCKET_ARN}/model-repository/chat/*`);
    assert.strictEqual(
      byId.PullServingImage.Resource,
      "arn:aws:ecr:us-east-1:763104351884:repository/sagemaker-tritonserver",
    );
    assert.deepStrictEqual(byId.DecryptModelData.Resource, [MODEL_KEY]);
    assert.match(
      String((byId.WriteOwnLogs.Resource as string[])[0]),
      /log-group:\/aws\/sagemaker\/Endpoints\/llm-infra-test-chat$/,
    );
    assert.ok(!("WriteAsyncResults" in byId));
    assertNoS3OnStar(res);
    const trust = policyOf(one(res, "aws:iam/role:Role"), "assumeRolePolicy");
    assert.deepStrictEqual(trust.Statement[0].Principal, { Service: "sagemaker.amazonaws.com" });
  });

  it("adds the high-resolution concurrency policy when asked", async () => {
    const r = await endpoint({ highResolutionScaling: true });
    assert.deepStrictEqual(
      ofType(r, TYPES.policy).map(
        (p) =>
          (
            p.inputs.targetTrackingScalingPolicyConfiguration as Record<
              string,
              Record<string, string>
            >
          ).predefinedMetricSpecification.predefinedMetricType,
      ),
      [
        "SageMakerVariantInvocationsPerInstance",
        "SageMakerVariantConcurrentRequestsPerModelHighResolution",
      ],
    );
  });

  it("encrypts the volume with the given key where the instance has no local NVMe", async () => {
    const r = await endpoint({
      instanceType: "ml.inf2.xlarge",
      image: "lmi-neuron",
      tritonModelName: undefined,
      modelRequirements: undefined,
      kmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/vol",
      volumeSizeGb: 200,
    });
    assert.strictEqual(
      one(r, TYPES.config).inputs.kmsKeyArn,
      "arn:aws:kms:us-east-1:123456789012:key/vol",
    );
    assert.strictEqual(variantOf(r).volumeSizeInGb, 200);
    assert.match(
      String((one(r, TYPES.model).inputs.primaryContainer as Record<string, string>).image),
      /djl-inference:0\.30\.0-neuronx/,
    );
  });

  it("captures data to its own prefix, encrypted, when asked", async () => {
    const r = await endpoint({ dataCapturePercent: 5 });
    const dc = one(r, TYPES.config).inputs.dataCaptureConfig as Record<string, unknown>;
    assert.deepStrictEqual(
      [dc.initialSamplingPercentage, dc.destinationS3Uri, dc.kmsKeyId],
      [5, "s3://models-bucket-1234567/data-capture/llm-infra-test-chat/", MODEL_KEY],
    );
    assert.ok(
      statements(r).some((s) => s.Resource === `${BUCKET_ARN}/data-capture/llm-infra-test-chat/*`),
    );
  });

  it("serves a model.tar.gz and reads only that object", async () => {
    const r = await endpoint({
      modelDataPrefix: undefined,
      modelDataTarball: "tarballs/chat/model.tar.gz",
      image: "vllm",
      tritonModelName: undefined,
    });
    const container = one(r, TYPES.model).inputs.primaryContainer as Record<string, unknown>;
    assert.strictEqual(
      container.modelDataUrl,
      "s3://models-bucket-1234567/tarballs/chat/model.tar.gz",
    );
    assert.strictEqual(container.modelDataSource, undefined);
    const read = statements(r).find((s) => s.Sid === "ReadModelData")!;
    assert.strictEqual(read.Resource, `${BUCKET_ARN}/tarballs/chat/model.tar.gz`);
    assert.ok(!statements(r).some((s) => s.Action === "s3:ListBucket"));
  });

  it("supports linear, rolling and all-at-once deployments", () => {
    const alarms = ["a"];
    const linear = deploymentConfig({ ...base, deploymentStrategy: "linear" }, "realtime", alarms);
    assert.deepStrictEqual(linear.blueGreenUpdatePolicy, {
      trafficRoutingConfiguration: {
        type: "LINEAR",
        waitIntervalInSeconds: 600,
        linearStepSize: { type: "CAPACITY_PERCENT", value: 25 },
      },
      terminationWaitInSeconds: 600,
      maximumExecutionTimeoutInSeconds: 28800,
    });
    assert.deepStrictEqual(linear.autoRollbackConfiguration, { alarms: [{ alarmName: "a" }] });
    const rolling = deploymentConfig(
      { ...base, deploymentStrategy: "rolling", rollingBatchPercent: 50 },
      "realtime",
      alarms,
    );
    assert.deepStrictEqual(rolling.rollingUpdatePolicy, {
      maximumBatchSize: { type: "CAPACITY_PERCENT", value: 50 },
      rollbackMaximumBatchSize: { type: "CAPACITY_PERCENT", value: 50 },
      waitIntervalInSeconds: 600,
      maximumExecutionTimeoutInSeconds: 28800,
    });
    assert.strictEqual(rolling.blueGreenUpdatePolicy, undefined);
    const all = deploymentConfig(base, "realtime", alarms);
    assert.deepStrictEqual(all.blueGreenUpdatePolicy, {
      trafficRoutingConfiguration: { type: "ALL_AT_ONCE", waitIntervalInSeconds: 600 },
      terminationWaitInSeconds: 600,
      maximumExecutionTimeoutInSeconds: 28800,
    });
  });
});

describe("SageMakerEndpoint: asynchronous", () => {
  let res: CapturedResource[];
  before(async () => {
    res = await endpoint({ mode: "async", maxInstances: 4 }, "batch");
  });

  it("scales from zero: minimum 0, backlog tracking, and a step policy on HasBacklogWithoutCapacity", () => {
    assert.strictEqual(one(res, TYPES.target).inputs.minCapacity, 0);
    const policies = Object.fromEntries(ofType(res, TYPES.policy).map((p) => [p.name, p.inputs]));
    assert.deepStrictEqual(Object.keys(policies).sort(), [
      "batch-backlog",
      "batch-scale-from-zero",
    ]);
    assert.strictEqual(policies["batch-scale-from-zero"].policyType, "StepScaling");
    const tracking = policies["batch-backlog"].targetTrackingScalingPolicyConfiguration as Record<
      string,
      Record<string, unknown>
    >;
    assert.strictEqual(
      tracking.customizedMetricSpecification.metricName,
      "ApproximateBacklogSizePerInstance",
    );
    const fromZero = one(res, TYPES.alarm, "batch-backlog-without-capacity");
    assert.strictEqual(fromZero.inputs.metricName, "HasBacklogWithoutCapacity");
    assert.deepStrictEqual(fromZero.inputs.alarmActions, [
      `arn:aws:appautoscaling:us-east-1:123456789012:policy/${ofType(res, TYPES.policy).find((p) => p.name === "batch-scale-from-zero")!.id}`,
    ]);
    assert.ok(
      !ofType(res, TYPES.policy).some((p) =>
        JSON.stringify(p.inputs).includes("InvocationsPerInstance"),
      ),
    );
  });

  it("writes results under its own prefixes and notifies encrypted, TLS-only topics", () => {
    const cfg = one(res, TYPES.config).inputs.asyncInferenceConfig as Record<
      string,
      Record<string, unknown>
    >;
    assert.deepStrictEqual(cfg.clientConfig, { maxConcurrentInvocationsPerInstance: 4 });
    assert.strictEqual(
      cfg.outputConfig.s3OutputPath,
      "s3://models-bucket-1234567/async-inference/llm-infra-test-batch/output/",
    );
    assert.strictEqual(
      cfg.outputConfig.s3FailurePath,
      "s3://models-bucket-1234567/async-inference/llm-infra-test-batch/failure/",
    );
    const topics = ofType(res, TYPES.topic).filter((t) => /success|error/.test(t.name));
    assert.strictEqual(topics.length, 2);
    for (const t of topics) assert.strictEqual(t.inputs.kmsMasterKeyId, "alias/aws/sns");
    const topicPolicies = ofType(res, "aws:sns/topicPolicy:TopicPolicy")
      .filter((p) => /success|error/.test(p.name))
      .map((p) => policyOf(p).Statement[0].Condition);
    assert.strictEqual(topicPolicies.length, 2);
    for (const c of topicPolicies)
      assert.deepStrictEqual(c, { Bool: { "aws:SecureTransport": "false" } });
    const write = statements(res).find((s) => s.Sid === "WriteAsyncResults")!;
    assert.deepStrictEqual(write.Resource, [
      `${BUCKET_ARN}/async-inference/llm-infra-test-batch/output/*`,
      `${BUCKET_ARN}/async-inference/llm-infra-test-batch/failure/*`,
    ]);
    assertNoS3OnStar(res);
  });

  it("alarms on the age of the oldest queued request", () => {
    assert.strictEqual(
      one(res, TYPES.alarm, "batch-backlog-age").inputs.metricName,
      "ApproximateAgeOfOldestRequest",
    );
  });
});

describe("SageMakerEndpoint: serverless", () => {
  const cpuImage = "123456789012.dkr.ecr.us-east-1.amazonaws.com/sklearn-cpu:1.0";
  const serverless: Partial<SageMakerEndpointArgs> = {
    mode: "serverless",
    imageUri: cpuImage,
    instanceType: undefined,
    modelRequirements: undefined,
    tritonModelName: undefined,
  };

  it("has no VPC, no isolation, no instance autoscaling and no GPU alarms", async () => {
    const res = await endpoint({
      ...serverless,
      serverlessMemoryMb: 4096,
      serverlessMaxConcurrency: 20,
    });
    assert.deepStrictEqual(variantOf(res).serverlessConfig, {
      memorySizeInMb: 4096,
      maxConcurrency: 20,
    });
    const model = one(res, TYPES.model);
    assert.deepStrictEqual(
      [model.inputs.enableNetworkIsolation, model.inputs.vpcConfig],
      [false, undefined],
    );
    assert.strictEqual(ofType(res, TYPES.target).length, 0);
    assert.strictEqual(ofType(res, TYPES.policy).length, 0);
    assert.ok(!ofType(res, TYPES.alarm).some((a) => a.name.includes("gpu")));
    assert.strictEqual(
      statements(res).find((s) => s.Sid === "PullServingImage")!.Resource,
      "arn:aws:ecr:us-east-1:123456789012:repository/sklearn-cpu",
    );
  });

  it("tracks provisioned-concurrency utilization when provisioned concurrency is set", async () => {
    const res = await endpoint({
      ...serverless,
      serverlessMaxConcurrency: 20,
      serverlessProvisionedConcurrency: 5,
    });
    const target = one(res, TYPES.target);
    assert.deepStrictEqual(
      [target.inputs.scalableDimension, target.inputs.minCapacity, target.inputs.maxCapacity],
      ["sagemaker:variant:DesiredProvisionedConcurrency", 5, 20],
    );
    const cfg = one(res, TYPES.policy).inputs.targetTrackingScalingPolicyConfiguration as Record<
      string,
      Record<string, string>
    >;
    assert.strictEqual(
      cfg.predefinedMetricSpecification.predefinedMetricType,
      "SageMakerVariantProvisionedConcurrencyUtilization",
    );
  });

  it("refuses a 7B fp16 model, explaining that serverless has no GPUs", () => {
    const e = assertThrowsWith(
      () =>
        new SageMakerEndpoint("s", {
          ...base,
          ...serverless,
          modelRequirements: {
            parametersBillions: 7,
            dtype: "fp16",
            contextLength: 4096,
            concurrentSequences: 1,
          },
        }),
      "modelRequirements: serverless inference has no GPUs",
      "use a realtime or async endpoint on ml.",
    );
    assert.ok(!e.message.includes("instanceType"));
  });

  it("refuses the GPU serving images, VPC, isolation, data capture and bad sizes", () => {
    assertThrowsWith(
      () =>
        new SageMakerEndpoint("s", {
          ...base,
          mode: "serverless",
          instanceType: undefined,
          modelRequirements: undefined,
          subnetIds: ["subnet-1"],
          networkIsolation: true,
          dataCapturePercent: 10,
          serverlessMemoryMb: 3000,
          serverlessMaxConcurrency: 4,
          serverlessProvisionedConcurrency: 8,
          deploymentStrategy: "rolling",
        }),
      "mode: serverless inference has no GPUs, and the triton image needs NVIDIA GPUs",
      "subnetIds: does not apply to serverless",
      "dataCapturePercent: does not apply to serverless",
      "networkIsolation: serverless inference does not support network isolation",
      "serverlessMemoryMb: must be 1024, 2048, 3072, 4096, 5120 or 6144, got 3000",
      "serverlessProvisionedConcurrency: must not exceed serverlessMaxConcurrency (4), got 8",
      "deploymentStrategy: serverless endpoints are updated all at once",
    );
  });
});

describe("SageMakerEndpoint: validation", () => {
  const fail = (args: Partial<SageMakerEndpointArgs>, ...fragments: string[]) =>
    assertThrowsWith(() => new SageMakerEndpoint("e", { ...base, ...args }), ...fragments);

  it("checks scaling bounds", () => {
    fail(
      { minInstances: 5, maxInstances: 2 },
      "minInstances: (5) must not exceed maxInstances (2)",
    );
    fail(
      { minInstances: 1, maxInstances: 2, initialInstanceCount: 3 },
      "initialInstanceCount: (3) must be within [minInstances, maxInstances] = [1, 2]",
    );
    fail({ minInstances: 0 }, "minInstances: must be an integer between 1 and 100, got 0");
  });

  it("checks the instance type against the SageMaker catalog and the model", () => {
    fail(
      { instanceType: "ml.g5.3xlarge" },
      "instanceType: must be a SageMaker hosting instance type the catalog knows",
      "ml.g5.2xlarge",
    );
    fail({ instanceType: "g5.2xlarge" }, "instanceType: must be a SageMaker hosting instance type");
    fail(
      { instanceType: "ml.m5.xlarge", image: "tgi" },
      "instanceType: ml.m5.xlarge has no accelerator, but the tgi image needs NVIDIA GPUs",
      "the model needs one",
    );
    fail(
      { instanceType: "ml.inf2.xlarge", image: "tgi" },
      "ml.inf2.xlarge has Neuron devices, but the tgi image needs NVIDIA GPUs",
    );
    fail(
      {
        instanceType: "ml.g5.xlarge",
        modelRequirements: {
          parametersBillions: 70,
          dtype: "bf16",
          contextLength: 4096,
          concurrentSequences: 1,
        },
      },
      "modelRequirements: the model needs",
      "but ml.g5.xlarge has 22.4 GiB",
      "fits",
    );
    fail({ volumeSizeGb: 100 }, "volumeSizeGb: ml.g5.2xlarge has local NVMe storage");
  });

  it("checks the model data, the image and mode-specific fields", () => {
    fail(
      { modelDataTarball: "a/model.tar.gz" },
      "modelDataPrefix: set exactly one of modelDataPrefix",
    );
    fail({ modelDataPrefix: undefined }, "modelDataPrefix: set exactly one");
    fail({ tritonModelName: undefined }, "tritonModelName: is required with the Triton image");
    fail({ imageUri: "docker.io/library/nginx:latest" }, "imageUri: must be an ECR image URI");
    fail({ image: "triton", imageVersion: "1.0" }, "imageVersion: triton has no version");
    fail(
      { targetBacklogPerInstance: 3, serverlessMemoryMb: 2048 },
      "targetBacklogPerInstance: does not apply to realtime",
      "serverlessMemoryMb: does not apply to realtime",
    );
    fail(
      { mode: "async", highResolutionScaling: true },
      "highResolutionScaling: does not apply to async",
    );
    fail({ subnetIds: ["subnet-1"] }, "vpcId: is required with subnetIds");
    fail({ mode: "batch" as "async" }, "mode: must be one of realtime, async, serverless");
  });

  it("names endpoints after project, stack and component, within 63 characters", () => {
    assert.strictEqual(defaultEndpointName("llm-infra", "prod", "chat"), "llm-infra-prod-chat");
    const long = defaultEndpointName(
      "llm-infra",
      "a-very-long-stack-name-for-a-feature-branch",
      "chat-endpoint-for-support",
    );
    assert.ok(long.length <= 63 && /^[a-zA-Z0-9-]+$/.test(long), long);
    assert.notStrictEqual(
      long,
      defaultEndpointName(
        "llm-infra",
        "a-very-long-stack-name-for-a-feature-branch",
        "chat-endpoint-for-sales",
      ),
    );
  });
});

describe("SageMakerEndpoint: settings, decided before any resource", () => {
  const base: SageMakerEndpointArgs = {
    region: "us-east-1",
    modelBucketArn: "arn:aws:s3:::models",
    modelDataPrefix: "model-repository/chat//",
    instanceType: "ml.g5.2xlarge",
  };

  it("names the endpoint and its prefixes, counts and model data from the arguments", () => {
    const s = endpointSettings("chat", { ...base, dataCapturePercent: 5 }, "llm-infra", "prod");
    assert.deepStrictEqual(
      {
        mode: s.mode,
        partition: s.partition,
        endpointName: s.endpointName,
        gpus: s.instance?.accelerator?.count,
        counts: s.counts,
        asyncPrefix: s.asyncPrefix,
        capturePrefix: s.capturePrefix,
        modelData: s.modelData,
      },
      {
        mode: "realtime",
        partition: "aws",
        endpointName: "llm-infra-prod-chat",
        gpus: 1,
        counts: { min: 1, max: 4, initial: 1 },
        asyncPrefix: "async-inference/llm-infra-prod-chat",
        capturePrefix: "data-capture/llm-infra-prod-chat",
        modelData: { prefix: "model-repository/chat" },
      },
    );
    const async = endpointSettings(
      "batch",
      {
        ...base,
        mode: "async",
        endpointName: "batch-ep",
        modelDataPrefix: undefined,
        modelDataTarball: "m/model.tar.gz",
      },
      "p",
      "s",
    );
    assert.deepStrictEqual(
      [async.endpointName, async.counts.min, async.capturePrefix, async.modelData],
      ["batch-ep", 0, undefined, { tarballKey: "m/model.tar.gz" }],
    );
  });

  it("gives serverless variants memory and concurrency, instance variants a type and timeouts", () => {
    assert.deepStrictEqual(
      productionVariant({ ...base, serverlessMaxConcurrency: 3 }, "serverless", "m"),
      {
        variantName: "primary",
        modelName: "m",
        serverlessConfig: {
          memorySizeInMb: 6144,
          maxConcurrency: 3,
          provisionedConcurrency: undefined,
        },
      },
    );
    assert.deepStrictEqual(productionVariant({ ...base, volumeSizeGb: 100 }, "realtime", "m"), {
      variantName: "primary",
      modelName: "m",
      instanceType: "ml.g5.2xlarge",
      initialVariantWeight: 1,
      modelDataDownloadTimeoutInSeconds: 1800,
      containerStartupHealthCheckTimeoutInSeconds: 1800,
      volumeSizeInGb: 100,
    });
  });

  it("puts a volume key only on instances without local NVMe, never on serverless", () => {
    const key = "arn:aws:kms:us-east-1:123456789012:key/k";
    const withKey = { ...base, kmsKeyArn: key };
    const nvme = endpointSettings("a", withKey, "p", "s").instance;
    const ebsOnly = endpointSettings(
      "a",
      { ...withKey, instanceType: "ml.inf2.xlarge" },
      "p",
      "s",
    ).instance;
    assert.ok(nvme !== undefined && nvme.nvmeGb > 0, "ml.g5.2xlarge has local NVMe");
    assert.strictEqual(volumeKmsKey(withKey, "realtime", nvme), undefined);
    assert.ok(ebsOnly !== undefined && ebsOnly.nvmeGb === 0, "ml.inf2.xlarge has none");
    assert.strictEqual(volumeKmsKey(withKey, "realtime", ebsOnly), key);
    assert.strictEqual(volumeKmsKey(withKey, "serverless", ebsOnly), undefined);
  });

  it("fills alarm thresholds and scaling options the user left out, keeping the ones given", () => {
    assert.deepStrictEqual(alarmThresholds({ ...base, latencyP99Ms: 5000 }, "async"), {
      latencyP90Ms: 15 * 60 * 1000,
      latencyP99Ms: 5000,
      errors5xxPerMinute: 5,
      gpuUtilizationPercent: 90,
      asyncBacklogAgeSeconds: 900,
    });
    assert.deepStrictEqual(scalingOptions({ ...base, scaleInCooldownSeconds: 120 }), {
      targetInvocationsPerInstance: 70,
      highResolutionScaling: false,
      targetConcurrentRequestsPerModel: 4,
      targetBacklogPerInstance: 5,
      scaleInCooldownSeconds: 120,
      scaleOutCooldownSeconds: 60,
      provisionedConcurrency: undefined,
    });
  });
});
