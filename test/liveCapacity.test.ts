import * as assert from "assert";
import {
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  ListEndpointsCommand,
  ListTagsCommand,
  SageMakerClient,
} from "@aws-sdk/client-sagemaker";
import { mockClient } from "aws-sdk-client-mock";
import { SageMakerEndpoint, SageMakerEndpointArgs } from "../components";
import {
  CONFIG_FINGERPRINT_TAG,
  LiveVariant,
  configFingerprint,
  deployInstanceCount,
  liveVariantSource,
  readLiveVariant,
} from "../components/sagemaker/liveCapacity";
import { CapturedResource } from "../offline/engine";
import { LLAMA3_8B, one, resourcesOf } from "./helpers";

const CONFIG_TYPE = "aws:sagemaker/endpointConfiguration:EndpointConfiguration";
const base: SageMakerEndpointArgs = {
  modelBucketArn: "arn:aws:s3:::models-bucket-1234567",
  modelKmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/model",
  modelDataPrefix: "model-repository/chat",
  tritonModelName: "llama3-8b",
  instanceType: "ml.g5.2xlarge",
  modelRequirements: LLAMA3_8B,
  initialInstanceCount: 2,
  minInstances: 2,
  maxInstances: 8,
};
const configOf = (res: CapturedResource[]) => one(res, CONFIG_TYPE).inputs;
const countOf = (res: CapturedResource[]) =>
  (configOf(res).productionVariants as Record<string, unknown>[])[0].initialInstanceCount;
const fingerprintOf = (res: CapturedResource[]) =>
  (configOf(res).tags as Record<string, string>)[CONFIG_FINGERPRINT_TAG];

describe("config update keeps serving capacity: the count to deploy", () => {
  const p = { configured: 2, min: 2, max: 8, fingerprint: "aaaa" };

  it("starts a first deploy (no live endpoint) at the configured count", () => {
    assert.strictEqual(deployInstanceCount(p), 2);
  });

  it("keeps the deployed count when the configuration is unchanged, however far autoscaling moved", () => {
    const live = { servingInstances: 7, deployedInitialCount: 3, deployedFingerprint: "aaaa" };
    assert.strictEqual(deployInstanceCount({ ...p, live }), 3);
  });

  it("starts a changed configuration at what serves now, within [min, max] and never below the configured count", () => {
    const live = (servingInstances: number): LiveVariant => ({
      servingInstances,
      deployedInitialCount: 2,
      deployedFingerprint: "bbbb",
    });
    assert.strictEqual(deployInstanceCount({ ...p, live: live(6) }), 6);
    assert.strictEqual(deployInstanceCount({ ...p, live: live(12) }), 8);
    assert.strictEqual(deployInstanceCount({ ...p, live: live(1) }), 2);
    assert.strictEqual(deployInstanceCount({ ...p, configured: 3, live: live(1) }), 3);
    // A deployed configuration without a fingerprint (created before it existed) is a change.
    assert.strictEqual(deployInstanceCount({ ...p, live: { servingInstances: 5 } }), 5);
  });
});

describe("config update keeps serving capacity: the fingerprint", () => {
  it("is the same for the same settings in any key order, and differs when a setting differs", () => {
    const a = configFingerprint({ variant: { modelName: "m-1", instanceType: "ml.g5.2xlarge" } });
    const b = configFingerprint({ variant: { instanceType: "ml.g5.2xlarge", modelName: "m-1" } });
    const c = configFingerprint({ variant: { instanceType: "ml.g5.2xlarge", modelName: "m-2" } });
    assert.match(a, /^[0-9a-f]{16}$/);
    assert.strictEqual(a, b);
    assert.notStrictEqual(a, c);
  });
});

// Every SageMaker call of this file's suites goes to this mock, restored after them: other files
// in the same process (the smoke test against moto's server) need the real client.
let sm = mockClient(SageMakerClient);
sm.restore();
function mockWhileSuiteRuns(): void {
  before(() => {
    sm = mockClient(SageMakerClient);
  });
  after(() => sm.restore());
}

describe("config update keeps serving capacity: reading the live variant", () => {
  mockWhileSuiteRuns();
  afterEach(() => sm.reset());

  it("reads nothing for an endpoint that does not exist (a first deploy)", async () => {
    sm.on(ListEndpointsCommand).resolves({
      Endpoints: [
        {
          EndpointName: "llm-infra-prod-chat-2",
          EndpointArn: "arn",
          CreationTime: new Date(),
          LastModifiedTime: new Date(),
          EndpointStatus: "InService",
        },
      ],
    });
    const live = await readLiveVariant(new SageMakerClient({}), "llm-infra-prod-chat", "primary");
    assert.strictEqual(live, undefined);
    assert.strictEqual(sm.commandCalls(DescribeEndpointCommand).length, 0);
  });

  it("reads the variant's serving instances, its deployed count and fingerprint", async () => {
    sm.on(ListEndpointsCommand).resolves({
      Endpoints: [
        {
          EndpointName: "llm-infra-prod-chat",
          EndpointArn: "arn",
          CreationTime: new Date(),
          LastModifiedTime: new Date(),
          EndpointStatus: "InService",
        },
      ],
    });
    sm.on(DescribeEndpointCommand, { EndpointName: "llm-infra-prod-chat" }).resolves({
      EndpointConfigName: "chat-config-abc",
      ProductionVariants: [
        { VariantName: "other", CurrentInstanceCount: 9 },
        { VariantName: "primary", CurrentInstanceCount: 5, DesiredInstanceCount: 6 },
      ],
    });
    sm.on(DescribeEndpointConfigCommand, { EndpointConfigName: "chat-config-abc" }).resolves({
      EndpointConfigArn: "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/chat-config-abc",
      ProductionVariants: [{ VariantName: "primary", InitialInstanceCount: 2 }],
    });
    sm.on(ListTagsCommand).resolves({
      Tags: [
        { Key: "team", Value: "ml" },
        { Key: CONFIG_FINGERPRINT_TAG, Value: "0123456789abcdef" },
      ],
    });
    const live = await readLiveVariant(new SageMakerClient({}), "llm-infra-prod-chat", "primary");
    assert.deepStrictEqual(live, {
      servingInstances: 6,
      deployedInitialCount: 2,
      deployedFingerprint: "0123456789abcdef",
    });
    assert.strictEqual(
      sm.commandCalls(ListTagsCommand)[0].args[0].input.ResourceArn,
      "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/chat-config-abc",
    );
  });
});

describe("config update keeps serving capacity: the endpoint configuration", () => {
  mockWhileSuiteRuns();
  const original = liveVariantSource.read;
  let calls: string[][];
  let answer: LiveVariant | undefined;
  beforeEach(() => {
    calls = [];
    answer = undefined;
    liveVariantSource.read = async (region, endpointName, variantName) => {
      calls.push([region, endpointName, variantName]);
      return answer;
    };
  });
  afterEach(() => {
    liveVariantSource.read = original;
  });

  it("makes no SageMaker call under the offline engine with the shipped source", async () => {
    liveVariantSource.read = original;
    sm.reset();
    sm.onAnyCommand().rejects(new Error("no AWS offline"));
    const res = await resourcesOf(() => new SageMakerEndpoint("chat", base));
    assert.strictEqual(sm.calls().length, 0);
    assert.strictEqual(countOf(res), 2);
    sm.reset();
  });

  it("tags the configuration with its fingerprint and starts a first deploy at initialInstanceCount", async () => {
    const res = await resourcesOf(() => new SageMakerEndpoint("chat", base));
    assert.deepStrictEqual(calls, [["us-east-1", "llm-infra-test-chat", "primary"]]);
    assert.strictEqual(countOf(res), 2);
    assert.match(fingerprintOf(res), /^[0-9a-f]{16}$/);
  });

  it("keeps the deployed configuration (count and all) when nothing but the serving count moved", async () => {
    const first = await resourcesOf(() => new SageMakerEndpoint("chat", base));
    answer = {
      servingInstances: 7,
      deployedInitialCount: 4,
      deployedFingerprint: fingerprintOf(first),
    };
    const again = await resourcesOf(() => new SageMakerEndpoint("chat", base));
    assert.strictEqual(countOf(again), 4);
    assert.strictEqual(fingerprintOf(again), fingerprintOf(first));
  });

  it("starts a new model, image or initialInstanceCount at the serving count", async () => {
    const first = await resourcesOf(() => new SageMakerEndpoint("chat", base));
    answer = {
      servingInstances: 7,
      deployedInitialCount: 2,
      deployedFingerprint: fingerprintOf(first),
    };
    for (const change of [
      { imageUri: "123456789012.dkr.ecr.us-east-1.amazonaws.com/triton:25.01" },
      { modelDataPrefix: "model-repository/chat-v2" },
      { initialInstanceCount: 3 },
    ]) {
      const res = await resourcesOf(() => new SageMakerEndpoint("chat", { ...base, ...change }));
      assert.notStrictEqual(fingerprintOf(res), fingerprintOf(first), JSON.stringify(change));
      assert.strictEqual(countOf(res), 7, JSON.stringify(change));
    }
  });

  it("has no fingerprint and reads nothing for a serverless endpoint", async () => {
    const res = await resourcesOf(
      () =>
        new SageMakerEndpoint("faq", {
          modelBucketArn: base.modelBucketArn,
          modelDataTarball: "faq/model.tar.gz",
          mode: "serverless",
          imageUri: "123456789012.dkr.ecr.us-east-1.amazonaws.com/tei:1",
        }),
    );
    assert.deepStrictEqual(calls, []);
    assert.strictEqual(fingerprintOf(res), undefined);
  });
});
