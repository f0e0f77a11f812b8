/**
 * Endpoints of inference components: several models per real-time endpoint, instance pools,
 * managed instance scaling down to zero, copy-count autoscaling with the scale-out from zero, and
 * dev's chat endpoint, which is one.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  InvokeEndpointCommand,
  SageMakerRuntimeClient,
  ValidationError,
} from "@aws-sdk/client-sagemaker-runtime";
import { mockClient } from "aws-sdk-client-mock";
import { checkComponentWiring } from "../checks/componentWiring";
import { checkIamScenarios, iamScenarios } from "../checks/iamScenarios";
import { checkServingContainers } from "../checks/servingContainers";
import { SageMakerInferenceClient } from "../client/sagemakerClient";
import {
  InferenceComponentEndpointArgs,
  ModelComponentArgs,
  SAGEMAKER_RESERVED_MEMORY_MIB,
  validateInferenceComponentEndpointArgs,
} from "../components/sagemaker/componentEndpointArgs";
import { InferenceComponentEndpoint } from "../components/sagemaker/inferenceComponentEndpoint";
import { dashboardOf } from "../scripts/plan";
import { CapturedResource } from "../offline/engine";
import { PlanReport, planConfig, planStack, projectRoot, readStackFile } from "../offline/plan";
import { main as invokeMain, silenceSdkNodeWarning } from "../scripts/invoke";
import { LLAMA3_8B, configProblems, one, resourcesOf, withAsyncChat } from "./helpers";
import { changesBetween } from "../offline/changes";

silenceSdkNodeWarning();

const LMI = "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference";

/** One LMI component on ml.g6.xlarge then ml.g5.xlarge, resting at zero. */
function args(
  change: Partial<InferenceComponentEndpointArgs> = {},
): InferenceComponentEndpointArgs {
  return {
    region: "us-east-1",
    instancePools: [{ instanceType: "ml.g6.xlarge" }, { instanceType: "ml.g5.xlarge" }],
    minInstances: 0,
    maxInstances: 1,
    modelBucketArn: "arn:aws:s3:::models",
    components: [component()],
    ...change,
  };
}

function component(change: Partial<ModelComponentArgs> = {}): ModelComponentArgs {
  return {
    name: "llama",
    image: "lmi",
    imageVersion: "0.31.0",
    modelDataPrefix: "model-repository/chat/llama",
    modelRequirements: { ...LLAMA3_8B, concurrentSequences: 2 },
    ...change,
  };
}

const problems = (a: InferenceComponentEndpointArgs) =>
  validateInferenceComponentEndpointArgs(a).map((e) => `${e.propertyPath} ${e.reason}`);

const ofType = (resources: CapturedResource[], type: string) =>
  resources.filter((r) => r.type === type);

describe("inference components: dev's chat endpoint as planned", () => {
  let dev: PlanReport;
  before(async function () {
    this.timeout(120_000);
    dev = await planStack("dev");
  });
  const named = (name: string) => {
    const r = dev.resources.find((x) => x.name === name);
    assert.ok(r, name);
    return r;
  };

  it("builds the configuration on aws-native: pools in order, scaling to zero, the role, no model on the variant", () => {
    const config = named("chat-config");
    assert.strictEqual(config.type, "aws-native:sagemaker:EndpointConfig");
    const role = named("chat-role");
    assert.strictEqual(config.inputs.executionRoleArn, `arn:aws:iam::123456789012:role/${role.id}`);
    const [variant] = config.inputs.productionVariants as Record<string, unknown>[];
    assert.deepStrictEqual(variant, {
      variantName: "primary",
      instancePools: [
        { instanceType: "ml.g6.xlarge", priority: 1 },
        { instanceType: "ml.g5.xlarge", priority: 2 },
      ],
      initialInstanceCount: 1,
      managedInstanceScaling: { status: "ENABLED", minInstanceCount: 0, maxInstanceCount: 1 },
      routingConfig: { routingStrategy: "LEAST_OUTSTANDING_REQUESTS" },
      inferenceAmiVersion: "al2-ami-sagemaker-inference-gpu-3-1",
    });
    // The models run in the VPC's private subnets, behind the endpoint's own security group.
    const sg = named("chat-sg");
    const network = config.inputs.vpcConfig as { subnets: string[]; securityGroupIds: string[] };
    assert.deepStrictEqual(network.securityGroupIds, [sg.id]);
    const model = named("chat-llama-model");
    assert.deepStrictEqual(
      (model.inputs.vpcConfig as { subnets: string[] }).subnets,
      network.subnets,
    );
    assert.strictEqual(network.subnets.length, 2);
    assert.strictEqual(config.inputs.enableNetworkIsolation, true);
  });

  it("serves the component's model from its own prefix with the role, and hosts it on the endpoint", () => {
    const role = named("chat-role");
    const model = named("chat-llama-model");
    assert.strictEqual(model.inputs.executionRoleArn, `arn:aws:iam::123456789012:role/${role.id}`);
    const container = model.inputs.primaryContainer as {
      image: string;
      environment: Record<string, string>;
      modelDataSource: { s3DataSources: { s3Uri: string }[] };
    };
    assert.ok(container.image.startsWith(`${LMI}:0.31.0-`), container.image);
    assert.strictEqual(container.environment.HF_MODEL_ID, "/opt/ml/model");
    const bucket = named("models-bucket");
    assert.strictEqual(
      container.modelDataSource.s3DataSources[0].s3Uri,
      `s3://${String(bucket.inputs.bucket ?? bucket.id)}/model-repository/chat/llama/`,
    );
    const endpoint = named("chat-endpoint");
    const config = named("chat-config");
    assert.strictEqual(endpoint.inputs.endpointConfigName, config.id?.split("/").pop());
    assert.strictEqual(endpoint.inputs.name, "llm-infra-dev-chat");
    assert.strictEqual(endpoint.inputs.deploymentConfig, undefined);

    const ic = named("chat-llama");
    assert.strictEqual(ic.type, "aws-native:sagemaker:InferenceComponent");
    assert.deepStrictEqual(
      [ic.inputs.endpointName, ic.inputs.variantName, ic.inputs.inferenceComponentName],
      ["llm-infra-dev-chat", "primary", "llm-infra-dev-chat-llama"],
    );
    // One specification per pool type: the model, what a copy takes, the startup timeouts.
    assert.strictEqual(ic.inputs.specification, undefined);
    const specs = ic.inputs.specifications as Record<string, unknown>[];
    assert.deepStrictEqual(
      specs.map((s) => [s.instanceType, s.modelName, s.computeResourceRequirements]),
      ["ml.g6.xlarge", "ml.g5.xlarge"].map((t) => [
        t,
        model.id,
        { numberOfAcceleratorDevicesRequired: 1, minMemoryRequiredInMb: 16384 - 2048 },
      ]),
    );
    assert.deepStrictEqual(ic.inputs.runtimeConfig, { copyCount: 1 });
    // Rolling updates roll back on the component's own 5XX and p99 alarms.
    const rollback = (
      ic.inputs.deploymentConfig as {
        autoRollbackConfiguration: { alarms: { alarmName: string }[] };
      }
    ).autoRollbackConfiguration.alarms.map((a) => a.alarmName);
    assert.deepStrictEqual(rollback, [
      named("chat-llama-5xx-errors").id,
      named("chat-llama-latency-p99").id,
    ]);
    for (const name of [
      "chat-llama-5xx-errors",
      "chat-llama-latency-p90",
      "chat-llama-latency-p99",
    ])
      assert.deepStrictEqual(named(name).inputs.dimensions, {
        InferenceComponentName: "llm-infra-dev-chat-llama",
      });
  });

  it("scales the copies on the component's own target, 70 / 300 / 60, and starts the first copy on a no-capacity failure", () => {
    const target = named("chat-llama-scaling");
    assert.deepStrictEqual(
      [
        target.inputs.serviceNamespace,
        target.inputs.resourceId,
        target.inputs.scalableDimension,
        target.inputs.minCapacity,
        target.inputs.maxCapacity,
      ],
      [
        "sagemaker",
        "inference-component/llm-infra-dev-chat-llama",
        "sagemaker:inference-component:DesiredCopyCount",
        0,
        1,
      ],
    );
    const tracking = named("chat-llama-invocations");
    assert.strictEqual(tracking.inputs.resourceId, target.inputs.resourceId);
    assert.deepStrictEqual(tracking.inputs.targetTrackingScalingPolicyConfiguration, {
      targetValue: 70,
      scaleInCooldown: 300,
      scaleOutCooldown: 60,
      predefinedMetricSpecification: {
        predefinedMetricType: "SageMakerInferenceComponentInvocationsPerCopy",
      },
    });
    const step = named("chat-llama-scale-from-zero");
    assert.strictEqual(step.inputs.resourceId, target.inputs.resourceId);
    assert.deepStrictEqual(step.inputs.stepScalingPolicyConfiguration, {
      adjustmentType: "ChangeInCapacity",
      cooldown: 60,
      metricAggregationType: "Maximum",
      stepAdjustments: [{ metricIntervalLowerBound: "0", scalingAdjustment: 1 }],
    });
    const alarm = named("chat-llama-no-capacity");
    assert.deepStrictEqual(
      [
        alarm.inputs.namespace,
        alarm.inputs.metricName,
        alarm.inputs.dimensions,
        alarm.inputs.threshold,
      ],
      [
        "AWS/SageMaker",
        "NoCapacityInvocationFailures",
        { InferenceComponentName: "llm-infra-dev-chat-llama" },
        1,
      ],
    );
    const actions = alarm.inputs.alarmActions as string[];
    assert.strictEqual(actions.length, 1);
    assert.ok(actions[0].endsWith(`/${step.id}`), actions[0]);
  });

  it("passes the wiring check, which fails on each wire cut", () => {
    assert.deepStrictEqual(checkComponentWiring(dev.resources), []);
    const cut = (name: string, change: (inputs: Record<string, unknown>) => void) =>
      checkComponentWiring(
        dev.resources.map((r) => {
          if (r.name !== name) return r;
          const inputs = JSON.parse(JSON.stringify(r.inputs)) as Record<string, unknown>;
          change(inputs);
          return { ...r, inputs };
        }),
      ).map((f) => `${f.resource}: ${f.message}`);
    assert.match(
      cut(
        "chat-llama-no-capacity",
        (i) => (i.alarmActions = ["arn:aws:sns:us-east-1:1:alarms"]),
      ).join(),
      /^chat-llama: may rest at zero copies .* nothing would start its first copy$/,
    );
    assert.match(
      cut(
        "chat-llama-no-capacity",
        (i) => (i.dimensions = { InferenceComponentName: "other" }),
      ).join(),
      /nothing would start its first copy/,
    );
    assert.match(
      cut("chat-llama-scaling", (i) => (i.resourceId = "inference-component/other")).join(),
      /^chat-llama: has no scalable target on inference-component\/llm-infra-dev-chat-llama/,
    );
    assert.match(
      cut("chat-config", (i) => delete i.executionRoleArn).join(),
      /^chat-config: hosts inference components but names no execution role/,
    );
    assert.match(
      cut("chat-config", (i) => (i.executionRoleArn = "arn:aws:iam::1:role/elsewhere")).join(),
      /names execution role arn:aws:iam::1:role\/elsewhere, which is not a role of this stack/,
    );
  });

  it("prices $0 idle, the active hours expected, the first pool at peak, and the instance a deploy starts", () => {
    const lines = dev.cost.lines.filter((l) => l.resource === "chat-config");
    assert.strictEqual(lines.length, 2);
    const [capacity, apply] = lines;
    // ml.g6.xlarge at $1.1267/h: 160 assumed active hours expected, 730 at peak.
    assert.deepStrictEqual(
      [capacity.idleMonthlyUsd, capacity.monthlyUsd, capacity.peakMonthlyUsd],
      [0, 180.27, 822.49],
    );
    assert.match(
      capacity.description,
      /0 x ml\.g6\.xlarge always \(floor\) \+ 1 more x 160 h active/,
    );
    assert.match(capacity.description, /when ml\.g6\.xlarge is short: ml\.g5\.xlarge \$1\.408\/h/);
    // 25 minutes of one instance until it scales in: 1.1267 x 25 / 60 = $0.47.
    assert.match(
      apply.description,
      /each deploy that creates the endpoint starts 1 x ml\.g6\.xlarge .* about \$0\.47 until it scales in to zero \(~25 min\)/,
    );
    assert.strictEqual(apply.monthlyUsd, 0);
    assert.ok(dev.cost.idleMonthlyUsd <= 150, String(dev.cost.idleMonthlyUsd));
    // docs/inference-components.md quotes these lines as the plan prints them.
    const page = fs.readFileSync(
      path.join(projectRoot(), "docs", "inference-components.md"),
      "utf8",
    );
    const money = (n: number) => `$${n.toFixed(2)}`;
    for (const figure of [capacity.monthlyUsd, capacity.peakMonthlyUsd].map(money))
      assert.ok(page.includes(figure), `the page quotes ${figure}`);
    assert.match(page, /about \$0\.47 until it scales in to zero \(~25 min\)/);
  });

  it("gives the execution role the scenarios a component needs, and only those", () => {
    const rows = iamScenarios(dev.resources).filter((s) => s.resource === "chat-role");
    const descriptions = rows.map((r) => r.description);
    for (const d of [
      "chat: SageMaker assumes the endpoint configuration's execution role",
      "chat: SageMaker acting for another account cannot assume the endpoint configuration's execution role",
      "chat-llama: reads its model data",
      "chat-llama: cannot read another prefix",
      "chat-llama: writes its logs",
    ])
      assert.ok(descriptions.includes(d), `${d} in ${descriptions.join("; ")}`);
    // The logs the role writes are the endpoint's: /aws/sagemaker/Endpoints/<endpoint name>.
    const logs = rows.find((r) => r.description === "chat-llama: writes its logs")!;
    assert.match(String(logs.request.resource), /Endpoints\/llm-infra-dev-chat:log-stream/);
    assert.deepStrictEqual(
      checkIamScenarios(dev.resources).filter((f) => f.resource === "chat-role"),
      [],
    );
  });

  it("checks each component's image on every pool type's host", () => {
    // Triton 25.03 has SageMaker's generate handler but needs driver 570, which neither pool's
    // host has (gpu-3-1: driver 550): one finding per pool type.
    const triton = "123456789012.dkr.ecr.us-east-1.amazonaws.com/triton:25.03-vllm-python-py3";
    const found = checkServingContainers(
      dev.resources.map((r) =>
        r.name === "chat-llama-model"
          ? { ...r, inputs: { ...r.inputs, primaryContainer: { image: triton, environment: {} } } }
          : r,
      ),
    ).map((f) => f.message);
    assert.strictEqual(found.length, 2, found.join("\n"));
    for (const m of found) assert.match(m, /on variant primary: .*needs NVIDIA driver 570/);
  });

  it("keeps the endpoint's identity when dev's single-model endpoint becomes one of components", async () => {
    // The component answers to the single-model component's type, so Pulumi matches its children
    // (the endpoint of the same name among them) instead of creating a second endpoint first.
    assert.deepStrictEqual(named("chat").aliasTypes, ["llm-infra:index:SageMakerEndpoint"]);
    const before = await planConfig("dev", withAsyncChat(readStackFile("dev")));
    const old = before.resources.find((r) => r.name === "chat")!;
    assert.strictEqual(old.type, "llm-infra:index:SageMakerEndpoint");
    const changes = changesBetween(before.resources, dev.resources);
    const endpoint = changes.find((c) => c.name === "chat-endpoint")!;
    // The endpoint is replaced in place, deleted before it is created again (SageMaker allows one
    // endpoint of a name): its deployment configuration goes.
    assert.deepStrictEqual([endpoint.action, endpoint.because], ["replace", ["deploymentConfig"]]);
    assert.strictEqual(named("chat-endpoint").deleteBeforeReplace, true);
    // Nothing the user stored goes with it: the model store and the registry stay.
    for (const c of changes.filter((x) => x.action === "delete" || x.action === "replace"))
      assert.ok(!/^(models|registry)-/.test(c.name), `${c.action} ${c.name}`);
  });

  it("draws a dashboard row per endpoint of components: each component's invocations, latency and failures", () => {
    const body = JSON.stringify(dashboardOf(dev));
    assert.match(
      body,
      /## SageMaker endpoint llm-infra-dev-chat \(inference components: llm-infra-dev-chat-llama\)/,
    );
    for (const metric of [
      "Invocations",
      "ModelLatency",
      "Invocation5XXErrors",
      "NoCapacityInvocationFailures",
    ])
      assert.ok(
        body.includes(
          `"AWS/SageMaker","${metric}","InferenceComponentName","llm-infra-dev-chat-llama"`,
        ),
        metric,
      );
    assert.ok(
      body.includes(
        '"/aws/sagemaker/Endpoints","GPUReservation","EndpointName","llm-infra-dev-chat"',
      ),
    );
  });
});

describe("inference components: validation at preview", () => {
  it("takes the shipped shape", () => {
    assert.deepStrictEqual(problems(args()), []);
  });

  it("refuses what AWS refuses and what cannot be packed, naming the field", () => {
    const six = [
      "ml.g6.xlarge",
      "ml.g5.xlarge",
      "ml.g5.2xlarge",
      "ml.g6.2xlarge",
      "ml.g6e.xlarge",
      "ml.g5.4xlarge",
    ];
    assert.deepStrictEqual(
      problems(args({ instancePools: six.map((instanceType) => ({ instanceType })) })),
      [
        "instancePools must list 1 to 5 instance types (SageMaker tries at most 5 pools per variant), got 6",
      ],
    );
    assert.deepStrictEqual(
      problems(args({ components: [component({ minCopies: 2, maxCopies: 1 })] })),
      ["components[0].minCopies (2) must not exceed maxCopies (1)"],
    );
    // 70B in bf16 fits none of the pools' one GPU.
    const big = {
      ...LLAMA3_8B,
      parametersBillions: 70,
      layers: 80,
      hiddenSize: 8192,
      attentionHeads: 64,
    };
    assert.deepStrictEqual(
      problems(args({ components: [component({ modelRequirements: big })] })),
      [
        "components[0].modelRequirements component llama needs 156.0 GiB of accelerator memory, more than a whole ml.g6.xlarge holds (22.4 GiB) or ml.g5.xlarge holds (22.4 GiB): use larger instance types",
      ],
    );
    // A model the second pool cannot hold is that pool's mistake.
    assert.deepStrictEqual(
      problems(
        args({
          instancePools: [{ instanceType: "ml.g5.12xlarge" }, { instanceType: "ml.g5.xlarge" }],
          components: [component({ modelRequirements: { ...LLAMA3_8B, parametersBillions: 30 } })],
        }),
      ).slice(0, 1),
      [
        "instancePools[1] component llama needs 66.5 GiB of accelerator memory, more than a whole ml.g5.xlarge holds (22.4 GiB): use larger instance types",
      ],
    );
    // Two GPUs per copy do not exist on a one-GPU type.
    assert.match(
      problems(args({ components: [component({ acceleratorsPerCopy: 2 })] })).join("\n"),
      /components\[0\]\.acceleratorsPerCopy one copy of llama \(2 accelerator\(s\), \d+ MiB\) does not fit ml\.g6\.xlarge/,
    );
    // Two components that each keep a copy need two one-GPU instances.
    assert.deepStrictEqual(
      problems(
        args({
          minInstances: 1,
          maxInstances: 2,
          components: [
            component({ minCopies: 1 }),
            component({
              name: "mistral",
              minCopies: 1,
              modelDataPrefix: "model-repository/chat/mistral",
            }),
          ],
        }),
      ),
      [
        "minInstances (1) cannot hold the components' minimum copies (llama 1, mistral 1): they need 2 ml.g6.xlarge",
      ],
    );
    assert.deepStrictEqual(
      problems(args({ maxInstances: 1, components: [component({ maxCopies: 3 })] })),
      [
        "maxInstances (1) cannot hold llama's maximum copies (3): they need 3 ml.g6.xlarge; raise maxInstances or lower components[0].maxCopies",
      ],
    );
    assert.deepStrictEqual(
      problems(args({ minInstances: 1, components: [component({ minCopies: 0 })] })),
      [
        "components[0].minCopies is 0 but the endpoint keeps minInstances 1: an instance would idle without a copy; set minInstances 0, or minCopies 1 or more",
      ],
    );
    assert.deepStrictEqual(
      problems(
        args({
          instancePools: [
            { instanceType: "ml.g6.xlarge", overrides: { mistral: { acceleratorsPerCopy: 1 } } },
          ],
        }),
      ),
      ["instancePools[0].overrides.mistral names no component of the endpoint (llama)"],
    );
    assert.deepStrictEqual(
      problems(
        args({
          instancePools: [{ instanceType: "ml.g6.xlarge" }, { instanceType: "ml.inf2.xlarge" }],
        }),
      ).slice(0, 1),
      [
        "instancePools must all have the same kind of accelerator (one image serves them all), got nvidia and neuron",
      ],
    );
  });

  it("sizes a copy from the model on each pool type, and takes a pool's override", async () => {
    // On ml.g6.12xlarge (4 x L4), an 8B bf16 copy takes one GPU and a quarter of the memory.
    const resources = await resourcesOf(
      () =>
        new InferenceComponentEndpoint(
          "ep",
          args({
            instancePools: [
              { instanceType: "ml.g6.12xlarge" },
              {
                instanceType: "ml.g5.12xlarge",
                overrides: { llama: { acceleratorsPerCopy: 2, memoryPerCopyMb: 32768 } },
              },
            ],
          }),
        ),
    );
    const ic = one(resources, "aws-native:sagemaker:InferenceComponent");
    const specs = ic.inputs.specifications as {
      instanceType: string;
      computeResourceRequirements: Record<string, number>;
    }[];
    assert.deepStrictEqual(
      specs.map((s) => [
        s.instanceType,
        s.computeResourceRequirements.numberOfAcceleratorDevicesRequired,
        s.computeResourceRequirements.minMemoryRequiredInMb,
      ]),
      [
        ["ml.g6.12xlarge", 1, Math.floor((196608 - SAGEMAKER_RESERVED_MEMORY_MIB) / 4)],
        ["ml.g5.12xlarge", 2, 32768],
      ],
    );
    // Copies at most: four per ml.g6.12xlarge instance.
    assert.strictEqual(one(resources, "aws:appautoscaling/target:Target").inputs.maxCapacity, 4);
    // One pool: the configuration names the type and the component one specification.
    const single = await resourcesOf(
      () =>
        new InferenceComponentEndpoint(
          "ep",
          args({
            instancePools: [{ instanceType: "ml.g5.2xlarge" }],
            minInstances: 1,
            components: [component({ minCopies: 1 })],
          }),
        ),
    );
    const config = one(single, "aws-native:sagemaker:EndpointConfig");
    const variant = (config.inputs.productionVariants as Record<string, unknown>[])[0];
    assert.deepStrictEqual(
      [variant.instanceType, variant.instancePools, variant.initialInstanceCount],
      ["ml.g5.2xlarge", undefined, 1],
    );
    const spec = one(single, "aws-native:sagemaker:InferenceComponent").inputs;
    assert.strictEqual(spec.specifications, undefined);
    assert.strictEqual(
      (spec.specification as { computeResourceRequirements: Record<string, number> })
        .computeResourceRequirements.numberOfAcceleratorDevicesRequired,
      1,
    );
    // A component that keeps a copy has no scale-from-zero pair.
    assert.strictEqual(
      single.some((r) => r.name.endsWith("-no-capacity")),
      false,
    );
  });
});

describe("inference components in a stack file", () => {
  const dev = () => readStackFile("dev") as Record<string, Record<string, unknown>>;
  const chat = () => (dev()["llm-infra:sagemaker"].endpoints as Record<string, unknown>[])[0];
  const withChat = (change: Record<string, unknown>) => ({
    ...dev(),
    "llm-infra:sagemaker": { endpoints: [{ ...chat(), ...change }] },
  });
  const withComponent = (change: Record<string, unknown>) => {
    const c = (chat().components as Record<string, unknown>[])[0];
    return withChat({ components: [{ ...c, ...change }] });
  };
  const at = "llm-infra:sagemaker.endpoints[0]";

  it("refuses each mistake in one line naming the key", () => {
    assert.deepStrictEqual(configProblems(withChat({ model: LLAMA3_8B }), "dev"), [
      `${at}.model does not apply with components: each component names its own model, image and weights; remove it`,
    ]);
    assert.deepStrictEqual(configProblems(withChat({ mode: "async" }), "dev"), [
      `${at}.mode must be realtime with components (inference components serve real-time endpoints; async and serverless endpoints host one model), got "async"`,
    ]);
    assert.deepStrictEqual(configProblems(withComponent({ minCopies: 2, maxCopies: 1 }), "dev"), [
      `${at}.components[0].minCopies (2) must not exceed maxCopies (1)`,
    ]);
    assert.match(
      configProblems(
        withComponent({
          model: {
            ...LLAMA3_8B,
            parametersBillions: 70,
            layers: 80,
            hiddenSize: 8192,
            attentionHeads: 64,
          },
        }),
        "dev",
      )[0],
      /^llm-infra:sagemaker\.endpoints\[0\]\.components\[0\]\.model component llama needs/,
    );
    assert.deepStrictEqual(
      configProblems(
        withChat({
          instancePools: [
            "ml.g6.xlarge",
            "ml.g5.xlarge",
            "ml.g5.2xlarge",
            "ml.g6.2xlarge",
            "ml.g6e.xlarge",
            "ml.g5.4xlarge",
          ],
        }),
        "dev",
      ),
      [
        `${at}.instancePools must list 1 to 5 instance types (SageMaker tries at most 5 pools per variant), got 6`,
      ],
    );
    assert.deepStrictEqual(configProblems(withChat({ instanceType: "ml.g5.xlarge" }), "dev"), [
      `${at}.instanceType does not apply with components: list the instance types in instancePools (tried in order, up to 5); remove it`,
    ]);
    assert.deepStrictEqual(configProblems(withChat({ deploymentStrategy: "canary" }), "dev"), [
      `${at}.deploymentStrategy does not apply with components: inference components update by rolling batches of copies (rollingBatchPercent); SageMaker offers no blue/green traffic shifting for them; remove it`,
    ]);
    assert.deepStrictEqual(configProblems(withComponent({ copies: 2 }), "dev").length, 1);
    assert.match(
      configProblems(withComponent({ copies: 2 }), "dev")[0],
      /^llm-infra:sagemaker\.endpoints\[0\]\.components\[0\]\.copies is not a known key/,
    );
  });

  it("refuses the API front door on an endpoint of components, saying how to call one", () => {
    const raw = { ...dev(), "llm-infra:api": { backend: "chat" } };
    assert.deepStrictEqual(configProblems(raw, "dev"), [
      'llm-infra:api.backend names "chat", an endpoint of inference components, where every request names its component (the InferenceComponentName header), which the API\'s one-model InvokeEndpoint integration does not send: front a single-model endpoint, or call the component with npm run invoke -- chat --component <name>',
    ]);
  });

  it("plans an endpoint that keeps an instance at its floor's price", async () => {
    const report = await planConfig(
      "dev",
      withChat({
        minInstances: 1,
        components: [{ ...(chat().components as Record<string, unknown>[])[0], minCopies: 1 }],
      }),
    );
    const line = report.cost.lines.find((l) => l.resource === "chat-config")!;
    // One ml.g6.xlarge all month: 730 x $1.1267.
    assert.deepStrictEqual(
      [line.idleMonthlyUsd, line.monthlyUsd, line.peakMonthlyUsd],
      [822.49, 822.49, 822.49],
    );
    assert.strictEqual(report.cost.lines.filter((l) => l.resource === "chat-config").length, 1);
  });
});

describe("inference components: another model on one pool type", () => {
  /**
   * dev's chat endpoint with a 4-bit Llama 3.1 8B on its second pool, ml.g5.xlarge, and the
   * 8B bf16 model at a context ml.g6.xlarge holds on the first.
   */
  const raw = () => {
    const dev = readStackFile("dev") as Record<string, Record<string, unknown>>;
    const [chat] = dev["llm-infra:sagemaker"].endpoints as Record<string, unknown>[];
    return {
      ...dev,
      "llm-infra:sagemaker": {
        endpoints: [
          {
            ...chat,
            instancePools: [
              "ml.g6.xlarge",
              {
                instanceType: "ml.g5.xlarge",
                overrides: {
                  llama: {
                    hubModel: "hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4",
                    model: { ...LLAMA3_8B, dtype: "int4", concurrentSequences: 8 },
                  },
                },
              },
            ],
          },
        ],
      },
    };
  };

  it("serves the pool's model on that type: its own SageMaker model, prefix, weights copy and fit", async () => {
    const report = await planConfig("dev", raw());
    const named = (n: string) => report.resources.find((r) => r.name === n)!;
    const own = named("chat-llama-g5-xlarge-model");
    const base = named("chat-llama-model");
    const uri = (m: CapturedResource) =>
      (m.inputs.primaryContainer as { modelDataSource: { s3DataSources: { s3Uri: string }[] } })
        .modelDataSource.s3DataSources[0].s3Uri;
    assert.match(uri(own), /\/model-repository\/chat\/llama-g5-xlarge\/$/);
    assert.match(uri(base), /\/model-repository\/chat\/llama\/$/);
    const specs = named("chat-llama").inputs.specifications as Record<string, unknown>[];
    assert.deepStrictEqual(
      specs.map((x) => [x.instanceType, x.modelName]),
      [
        ["ml.g6.xlarge", base.id],
        ["ml.g5.xlarge", own.id],
      ],
    );
    // The role reads both prefixes, and the deploy copies the pool's snapshot to its own.
    const rows = iamScenarios(report.resources).map((r) => r.description);
    assert.ok(rows.includes("chat-llama-g5-xlarge: reads its model data"), rows.join("; "));
    assert.deepStrictEqual(
      checkIamScenarios(report.resources).filter((f) => f.resource === "chat-role"),
      [],
    );
    const copy = report.resources.find(
      (r) => r.type === "aws:codebuild/project:Project" && r.name === "model-weights-copy",
    )!;
    const buildspec = String((copy.inputs.source as { buildspec: string }).buildspec);
    assert.match(buildspec, /hugging-quants\/Meta-Llama-3\.1-8B-Instruct-AWQ-INT4/);
    assert.match(buildspec, /model-repository\/chat\/llama-g5-xlarge/);
    // LMI on that type is configured for the 4-bit model's eight sequences.
    const env = (own.inputs.primaryContainer as { environment: Record<string, string> })
      .environment;
    assert.deepStrictEqual([env.OPTION_MAX_ROLLING_BATCH_SIZE, env.OPTION_DTYPE], ["8", undefined]);
    const baseEnv = (base.inputs.primaryContainer as { environment: Record<string, string> })
      .environment;
    assert.deepStrictEqual(
      [baseEnv.OPTION_MAX_ROLLING_BATCH_SIZE, baseEnv.OPTION_DTYPE],
      ["2", "bf16"],
    );
  });

  it("refuses a pool model without the component's hub model, or a model without data, naming the key", () => {
    const bad = raw();
    const endpoint = (bad["llm-infra:sagemaker"] as { endpoints: Record<string, unknown>[] })
      .endpoints[0];
    const pools = endpoint.instancePools as Record<string, unknown>[];
    const override = (pools[1] as { overrides: { llama: Record<string, unknown> } }).overrides
      .llama;
    delete override.hubModel;
    assert.deepStrictEqual(configProblems(bad, "dev"), [
      "llm-infra:sagemaker.endpoints[0].instancePools[1].overrides.llama.model does not apply without hubModel (the model this type serves instead); remove it",
    ]);
    override.hubModel = "not a hub id";
    assert.match(
      configProblems(bad, "dev")[0],
      /^llm-infra:sagemaker\.endpoints\[0\]\.instancePools\[1\]\.overrides\.llama\.hubModel must be a Hugging Face Hub id/,
    );
    // At the component: a pool's model that no instance of the type holds.
    assert.deepStrictEqual(
      problems(
        args({
          instancePools: [
            { instanceType: "ml.g6.xlarge" },
            {
              instanceType: "ml.g5.xlarge",
              overrides: {
                llama: {
                  modelDataPrefix: "model-repository/chat/llama-g5",
                  modelRequirements: { ...LLAMA3_8B, parametersBillions: 30 },
                },
              },
            },
          ],
        }),
      ),
      [
        "instancePools[1] component llama needs 66.5 GiB of accelerator memory, more than a whole ml.g5.xlarge holds (22.4 GiB): use larger instance types",
      ],
    );
    assert.deepStrictEqual(
      problems(
        args({
          instancePools: [
            { instanceType: "ml.g6.xlarge" },
            {
              instanceType: "ml.g5.xlarge",
              overrides: { llama: { modelRequirements: LLAMA3_8B } },
            },
          ],
        }),
      ),
      [
        "instancePools[1].overrides.llama.modelRequirements describes another model, which needs its own data (modelDataPrefix)",
      ],
    );
  });
});

describe("inference components: invoking one", () => {
  let runtime = mockClient(SageMakerRuntimeClient);
  runtime.restore();
  before(() => (runtime = mockClient(SageMakerRuntimeClient)));
  after(() => runtime.restore());

  it("names the component on every request, and says a copy is starting when there is none", async () => {
    runtime
      .on(InvokeEndpointCommand)
      .resolves({ Body: new TextEncoder().encode('{"generated_text":"hi"}') as never });
    const client = new SageMakerInferenceClient({
      region: "us-east-1",
      component: "ep-llama",
      runtime: new SageMakerRuntimeClient({ region: "us-east-1" }),
    });
    assert.deepStrictEqual(await client.invoke("ep", "hello"), { generated_text: "hi" });
    assert.strictEqual(
      runtime.commandCalls(InvokeEndpointCommand)[0].args[0].input.InferenceComponentName,
      "ep-llama",
    );
    runtime.on(InvokeEndpointCommand).rejects(
      new ValidationError({
        message:
          "Inference Component has no capacity to process this request. ApplicationAutoScaling may be in-progress (if configured) or try to increase the capacity by invoking UpdateInferenceComponentRuntimeConfig API.",
        $metadata: {},
      }),
    );
    await assert.rejects(
      client.invoke("ep", "hello"),
      /endpoint ep has no copy of the component running \(it scales from zero: about 5 minutes for the first copy\): retry shortly/,
    );
  });

  it("npm run invoke takes --component, and refuses it with --async or a bad name (exit 2)", async () => {
    let component: string | undefined;
    const code = await invokeMain(["ep", "hello", "--component", "ep-llama"], (_r, _f, c) => {
      component = c;
      return {
        invoke: async () => ({ generated_text: "x" }),
      } as unknown as SageMakerInferenceClient;
    });
    assert.deepStrictEqual([code, component], [0, "ep-llama"]);
    const bad = await invokeMain([
      "ep",
      "hello",
      "--component",
      "ep-llama",
      "--async",
      "s3://bucket/in/",
    ]);
    assert.strictEqual(bad, 2);
    assert.strictEqual(await invokeMain(["ep", "hello", "--component", "no_such"]), 2);
  });
});

describe("inference components: cfn-lint over the CloudFormation types aws-native creates", () => {
  const CFN_LINT_HINT = "cfn-lint is not installed: `pip install cfn-lint` puts `cfn-lint` on PATH";
  const available = spawnSync("cfn-lint", ["--version"], { stdio: "ignore" }).status === 0;

  it("lints dev's endpoint configuration and inference component clean, but for the properties its schema predates", async function () {
    this.timeout(120_000);
    if (!available) {
      if (process.env.CI) throw new Error(CFN_LINT_HINT);
      this.skip();
    }
    const findings = (report: PlanReport) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cfn-"));
      const file = path.join(dir, "template.json");
      fs.writeFileSync(file, JSON.stringify(cloudFormationTemplate(report.resources), null, 1));
      const run = spawnSync("cfn-lint", ["-t", file, "--format", "json"], { encoding: "utf8" });
      return (
        JSON.parse(run.stdout || "[]") as {
          Rule: { Id: string };
          Location: { Path: (string | number)[] };
        }[]
      ).map((f) => `${f.Rule.Id} ${f.Location.Path.join("/")}`);
    };
    // cfn-lint 1.51.0's bundled AWS::SageMaker schemas predate instance pools (2026) and an
    // inference component's per-instance-type Specifications, which @pulumi/aws-native 1.79.0
    // carries ("Specify exactly one of Specification or Specifications"): those three findings,
    // and nothing else.
    assert.deepStrictEqual(findings(await planStack("dev")).sort(), [
      "E3002 Resources/chatconfig/Properties/ProductionVariants/0/InstancePools",
      "E3002 Resources/chatllama/Properties/Specifications",
      "E3003 Resources/chatllama/Properties",
    ]);
    // With one pool, every property is one cfn-lint knows: no finding at all.
    const raw = readStackFile("dev") as Record<string, Record<string, unknown>>;
    const [chat] = raw["llm-infra:sagemaker"].endpoints as Record<string, unknown>[];
    const onePool = await planConfig("dev", {
      ...raw,
      "llm-infra:sagemaker": { endpoints: [{ ...chat, instancePools: ["ml.g5.xlarge"] }] },
    });
    assert.deepStrictEqual(findings(onePool), []);
  });
});

/**
 * The plan's aws-native resources as a CloudFormation template: each `aws-native:<service>:<Type>`
 * is `AWS::<Service>::<Type>`, its inputs the properties with their names in PascalCase.
 */
function cloudFormationTemplate(resources: CapturedResource[]): Record<string, unknown> {
  const services: Record<string, string> = { sagemaker: "SageMaker" };
  const pascal = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(pascal)
      : v !== null && typeof v === "object"
        ? Object.fromEntries(
            Object.entries(v).map(([k, x]) => [`${k[0].toUpperCase()}${k.slice(1)}`, pascal(x)]),
          )
        : v;
  const out: Record<string, unknown> = {};
  for (const r of ofType(resources, "aws-native:sagemaker:EndpointConfig").concat(
    ofType(resources, "aws-native:sagemaker:InferenceComponent"),
  )) {
    const [, service, type] = r.type.split(":");
    out[r.name.replace(/[^A-Za-z0-9]/g, "")] = {
      Type: `AWS::${services[service]}::${type}`,
      Properties: pascal(r.inputs),
    };
  }
  return { AWSTemplateFormatVersion: "2010-09-09", Resources: out };
}
