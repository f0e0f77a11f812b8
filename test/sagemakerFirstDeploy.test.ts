/**
 * What makes a first deploy of the SageMaker endpoint and the API work: alarm notifications reach
 * the topic, trust policies carry only the conditions each service sets, and the rest of the
 * first-deploy fixes, each asserted on what the component registers.
 */
import * as assert from "assert";
import * as fc from "fast-check";
import { InferenceApi, SageMakerEndpoint, SageMakerEndpointArgs } from "../components";
import {
  INVOKE_ENDPOINT_ERROR_STATUSES,
  familyPatternExcept,
  sagemakerIntegrationResponses,
} from "../components/api/inferenceApi";
import { confusedDeputyCondition, serviceTrustPolicy } from "../components/trust";
import { validateSageMakerEndpointArgs } from "../components/sagemaker/endpointArgs";
import { parseStackConfig } from "../programs/config";
import { LLAMA3_8B, assertThrowsWith, one, ofType, policyOf, resourcesOf } from "./helpers";

const ACCOUNT = "123456789012";
const base: SageMakerEndpointArgs = {
  modelBucketArn: "arn:aws:s3:::models-bucket-1234567",
  modelKmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/model",
  modelDataPrefix: "model-repository/chat",
  tritonModelName: "llama3-8b",
  instanceType: "ml.g5.2xlarge",
  modelRequirements: LLAMA3_8B,
};
const endpoint = (args: Partial<SageMakerEndpointArgs> = {}, name = "chat") =>
  resourcesOf(() => new SageMakerEndpoint(name, { ...base, ...args }));

describe("first deploy: alarm notifications", () => {
  it("lets CloudWatch publish this account's alarms to the topic, and nothing over plain HTTP", async () => {
    const res = await endpoint();
    const topic = one(res, "aws:sns/topic:Topic");
    const policy = policyOf(one(res, "aws:sns/topicPolicy:TopicPolicy"));
    const allow = policy.Statement.find((s) => s.Effect === "Allow");
    assert.deepStrictEqual(allow, {
      Sid: "CloudWatchPublishesAlarms",
      Effect: "Allow",
      Principal: { Service: "cloudwatch.amazonaws.com" },
      Action: "sns:Publish",
      Resource: topic.id,
      Condition: {
        StringEquals: { "aws:SourceAccount": ACCOUNT },
        ArnLike: { "aws:SourceArn": `arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:*` },
      },
    });
    const deny = policy.Statement.find((s) => s.Effect === "Deny");
    assert.deepStrictEqual(deny?.Condition, { Bool: { "aws:SecureTransport": "false" } });
    // The topic's key lets CloudWatch encrypt under the same conditions.
    const keyPolicy = policyOf(one(res, "aws:kms/key:Key"));
    const cw = keyPolicy.Statement.find((s) => s.Sid === "CloudWatchPublishesAlarms");
    assert.deepStrictEqual(cw?.Condition, allow?.Condition);
  });

  it("leaves a given topic's policy to its owner", async () => {
    const res = await endpoint({ alarmTopicArn: `arn:aws:sns:us-east-1:${ACCOUNT}:oncall` });
    assert.strictEqual(ofType(res, "aws:sns/topicPolicy:TopicPolicy").length, 0);
  });
});

describe("first deploy: trust policies", () => {
  const scope = { partition: "aws", region: "us-east-1", accountId: ACCOUNT };

  it("scopes SageMaker to its own account's resources by source ARN, as SageMaker documents", () => {
    assert.deepStrictEqual(serviceTrustPolicy("sagemaker.amazonaws.com", scope).Statement[0], {
      Effect: "Allow",
      Principal: { Service: "sagemaker.amazonaws.com" },
      Action: "sts:AssumeRole",
      Condition: { ArnLike: { "aws:SourceArn": `arn:aws:sagemaker:us-east-1:${ACCOUNT}:*` } },
    });
  });

  it("scopes flow logs by source account and flow-log ARN", () => {
    assert.deepStrictEqual(confusedDeputyCondition("vpc-flow-logs.amazonaws.com", scope), {
      StringEquals: { "aws:SourceAccount": ACCOUNT },
      ArnLike: { "aws:SourceArn": `arn:aws:ec2:us-east-1:${ACCOUNT}:vpc-flow-log/*` },
    });
  });

  it("adds no condition for API Gateway or EC2, which set no source context on AssumeRole", () => {
    for (const service of ["apigateway.amazonaws.com", "ec2.amazonaws.com"]) {
      const statement = serviceTrustPolicy(service, scope).Statement[0];
      assert.strictEqual(statement.Condition, undefined, service);
    }
  });

  it("writes the documented condition into the endpoint's execution role", async () => {
    const res = await endpoint();
    const role = one(res, "aws:iam/role:Role");
    assert.deepStrictEqual(policyOf(role, "assumeRolePolicy").Statement[0].Condition, {
      ArnLike: { "aws:SourceArn": `arn:aws:sagemaker:us-east-1:${ACCOUNT}:*` },
    });
  });
});

describe("first deploy: async endpoints keep their own latency alarms", () => {
  it("alarms on p90 at 15 minutes and p99 at one hour, and rolls back on errors only", async () => {
    const res = await endpoint({ mode: "async", minInstances: 0, maxInstances: 2 }, "batch");
    const alarm = (role: string) =>
      one(res, "aws:cloudwatch/metricAlarm:MetricAlarm", `batch-${role}`);
    assert.strictEqual(alarm("latency-p90").inputs.threshold, 15 * 60 * 1_000_000);
    assert.strictEqual(alarm("latency-p99").inputs.threshold, 60 * 60 * 1_000_000);
    const rollback = (
      one(res, "aws:sagemaker/endpoint:Endpoint").inputs.deploymentConfig as {
        autoRollbackConfiguration: { alarms: { alarmName: string }[] };
      }
    ).autoRollbackConfiguration.alarms.map((a) => a.alarmName);
    assert.strictEqual(rollback.length, 1, "only the 5XX alarm rolls an async deployment back");
    assert.match(rollback[0], /5xx-errors/);
  });

  it("keeps the 30 s p99 rollback alarm for real-time endpoints", async () => {
    const res = await endpoint();
    const p99 = one(res, "aws:cloudwatch/metricAlarm:MetricAlarm", "chat-latency-p99");
    assert.strictEqual(p99.inputs.threshold, 30_000_000);
    const rollback = (
      one(res, "aws:sagemaker/endpoint:Endpoint").inputs.deploymentConfig as {
        autoRollbackConfiguration: { alarms: unknown[] };
      }
    ).autoRollbackConfiguration.alarms;
    assert.strictEqual(rollback.length, 2);
  });
});

describe("first deploy: deployment shares within SageMaker's limits", () => {
  const problems = (args: Partial<SageMakerEndpointArgs>) =>
    validateSageMakerEndpointArgs({ ...base, region: "us-east-1", ...args }).map(
      (e) => `${e.propertyPath} ${e.reason}`,
    );

  it("takes canary 1-50%, linear steps 10-50% and rolling batches 5-50%", () => {
    for (const [field, min, max] of [
      ["canaryPercent", 1, 50],
      ["linearStepPercent", 10, 50],
      ["rollingBatchPercent", 5, 50],
    ] as const) {
      assert.deepStrictEqual(problems({ [field]: min }), [], `${field} ${min}`);
      assert.deepStrictEqual(problems({ [field]: max }), [], `${field} ${max}`);
      for (const bad of [min - 1, max + 1, 100]) {
        assert.deepStrictEqual(problems({ [field]: bad }), [
          `${field} must be an integer between ${min} and ${max}, got ${bad}`,
        ]);
      }
    }
  });

  it("names the stack file key of a canary above 50%", () => {
    const raw = {
      "aws:region": "us-east-1",
      "llm-infra:environment": "dev",
      "llm-infra:tags": { team: "ml", costCenter: "1" },
      "llm-infra:sagemaker": {
        endpoints: [
          {
            name: "chat",
            instanceType: "ml.g5.2xlarge",
            tritonModelName: "m",
            deploymentStrategy: "canary",
            canaryPercent: 60,
          },
        ],
      },
    };
    assertThrowsWith(
      () => parseStackConfig(raw, "dev"),
      "llm-infra:sagemaker.endpoints[0].canaryPercent must be an integer between 1 and 50, got 60",
    );
  });
});

describe("first deploy: the API passes SageMaker's errors to clients", () => {
  const api = (args: Record<string, unknown> = {}) =>
    resourcesOf(() => new InferenceApi("api", { sagemakerEndpointName: "chat", ...args }));

  it("has a method response per status and an integration response selecting each", async () => {
    const res = await api();
    const methodStatuses = ofType(res, "aws:apigateway/methodResponse:MethodResponse")
      .map((r) => r.inputs.statusCode)
      .sort();
    assert.deepStrictEqual(methodStatuses, ["200", "400", "424", "429", "500", "503"]);
    const selected = ofType(res, "aws:apigateway/integrationResponse:IntegrationResponse").map(
      (r) => [r.name, r.inputs.statusCode, r.inputs.selectionPattern ?? null],
    );
    selected.sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    assert.deepStrictEqual(selected, [
      ["api-200", "200", null],
      ["api-400", "400", "400"],
      ["api-424", "424", "424"],
      ["api-429", "429", "429"],
      ["api-500", "500", "500"],
      ["api-503", "503", "503"],
      ["api-other-4xx", "400", familyPatternExcept("4", INVOKE_ENDPOINT_ERROR_STATUSES)],
      ["api-other-5xx", "500", familyPatternExcept("5", INVOKE_ENDPOINT_ERROR_STATUSES)],
    ]);
    // No mapping template: the error body passes through.
    for (const r of ofType(res, "aws:apigateway/integrationResponse:IntegrationResponse"))
      assert.strictEqual(r.inputs.responseTemplates, undefined, r.name);
  });

  it("selects exactly one response for every 4XX and 5XX status, keeping the documented ones", () => {
    const patterns = sagemakerIntegrationResponses().filter((r) => r.selectionPattern);
    fc.assert(
      fc.property(fc.integer({ min: 400, max: 599 }), (status) => {
        const code = String(status);
        const matches = patterns.filter((p) => new RegExp(`^(${p.selectionPattern})$`).test(code));
        assert.strictEqual(matches.length, 1, `${code}: ${JSON.stringify(matches)}`);
        const expected = (INVOKE_ENDPOINT_ERROR_STATUSES as readonly string[]).includes(code)
          ? code
          : `${code[0]}00`;
        assert.strictEqual(matches[0].statusCode, expected);
      }),
      { numRuns: 200 },
    );
    assert.ok(!patterns.some((p) => new RegExp(`^(${p.selectionPattern})$`).test("200")));
  });

  it("refuses an async endpoint behind the synchronous integration", () => {
    assertThrowsWith(
      () =>
        new InferenceApi("api", { sagemakerEndpointName: "batch", sagemakerEndpointMode: "async" }),
      "sagemakerEndpointName",
      "async endpoint",
    );
  });

  it("names llm-infra:api.backend when it points at an async endpoint", () => {
    const raw = {
      "aws:region": "us-east-1",
      "llm-infra:environment": "dev",
      "llm-infra:tags": { team: "ml", costCenter: "1" },
      "llm-infra:sagemaker": {
        endpoints: [
          { name: "batch", mode: "async", instanceType: "ml.g5.2xlarge", tritonModelName: "m" },
        ],
      },
      "llm-infra:api": { backend: "batch" },
    };
    assertThrowsWith(
      () => parseStackConfig(raw, "dev"),
      'llm-infra:api.backend names the async endpoint "batch"',
    );
  });
});

describe("first deploy: the account's API Gateway logging role", () => {
  it("leaves the account-wide setting alone by default", async () => {
    const res = await resourcesOf(() => new InferenceApi("api", { sagemakerEndpointName: "chat" }));
    assert.strictEqual(ofType(res, "aws:apigateway/account:Account").length, 0);
    assert.ok(!ofType(res, "aws:iam/role:Role").some((r) => r.name === "api-cloudwatch"));
  });

  it("when asked, sets it and keeps it and its role through a destroy", async () => {
    const res = await resourcesOf(
      () =>
        new InferenceApi("api", { sagemakerEndpointName: "chat", manageAccountLoggingRole: true }),
    );
    const kept = [
      one(res, "aws:apigateway/account:Account"),
      one(res, "aws:iam/role:Role", "api-cloudwatch"),
      one(res, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "api-cloudwatch"),
    ];
    for (const r of kept) assert.strictEqual(r.retainOnDelete, true, r.name);
  });

  it("reads llm-infra:api.manageAccountLoggingRole", () => {
    const raw = {
      "aws:region": "us-east-1",
      "llm-infra:environment": "dev",
      "llm-infra:tags": { team: "ml", costCenter: "1" },
      "llm-infra:sagemaker": {
        endpoints: [{ name: "chat", instanceType: "ml.g5.2xlarge", tritonModelName: "m" }],
      },
      "llm-infra:api": { backend: "chat", manageAccountLoggingRole: true },
    };
    assert.strictEqual(parseStackConfig(raw, "dev").api?.manageAccountLoggingRole, true);
  });
});

describe("first deploy: changing an autoscaled endpoint's instance type", () => {
  const MARKER = "aws:ssm/parameter:Parameter";

  it("carries the instance type in a parameter replaced delete-first when it changes", async () => {
    const res = await endpoint();
    const marker = one(res, MARKER, "chat-instance-type");
    assert.strictEqual(marker.inputs.insecureValue, "ml.g5.2xlarge");
    assert.strictEqual(marker.inputs.tier, "Standard");
    assert.deepStrictEqual(
      [marker.deleteBeforeReplace, marker.replaceOnChanges],
      [true, ["insecureValue"]],
    );
    const endpointResource = one(res, "aws:sagemaker/endpoint:Endpoint");
    assert.ok(
      !marker.dependencies.includes(endpointResource.urn!),
      "the parameter is replaced before the endpoint is touched",
    );
  });

  it("deregisters scaling before the endpoint update and registers it after", async () => {
    const res = await endpoint();
    const marker = one(res, MARKER);
    const endpointResource = one(res, "aws:sagemaker/endpoint:Endpoint");
    const target = one(res, "aws:appautoscaling/target:Target");
    // The endpoint waits for the parameter, whose delete-first replacement takes the target
    // (which reads its resource id through it) and its policies down first.
    assert.ok(endpointResource.dependencies.includes(marker.urn!));
    assert.ok(target.dependencies.includes(marker.urn!), "target reads the parameter");
    assert.ok(target.dependencies.includes(endpointResource.urn!), "target waits for the update");
    assert.strictEqual(target.inputs.resourceId, "endpoint/llm-infra-test-chat/variant/primary");
    for (const p of ofType(res, "aws:appautoscaling/policy:Policy"))
      assert.ok(p.dependencies.includes(target.urn!), `${p.name} goes with the target`);
  });

  it("leaves scaling registered when only the model changes", async () => {
    const before = one(await endpoint(), MARKER).inputs;
    const after = one(
      await endpoint({ modelDataPrefix: "model-repository/chat-v2" }),
      MARKER,
    ).inputs;
    assert.deepStrictEqual(after, before);
    const bigger = one(await endpoint({ instanceType: "ml.g5.12xlarge" }), MARKER).inputs;
    assert.strictEqual(bigger.insecureValue, "ml.g5.12xlarge");
  });

  it("has no parameter for serverless endpoints, which have no instance type", async () => {
    const res = await resourcesOf(
      () =>
        new SageMakerEndpoint("spiky", {
          modelBucketArn: base.modelBucketArn,
          modelDataTarball: "models/small.tar.gz",
          imageUri: "123456789012.dkr.ecr.us-east-1.amazonaws.com/cpu:1",
          mode: "serverless",
          serverlessMemoryMb: 2048,
        }),
    );
    assert.strictEqual(ofType(res, MARKER).length, 0);
  });
});
