import * as assert from "assert";
import { InferenceApi, InferenceApiArgs, TritonFleet, TritonFleetArgs } from "../components";
import {
  REQUEST_SCHEMA,
  TRITON_GENERATE_REQUEST_SCHEMA,
  deploymentTrigger,
  methodAuthorization,
  sagemakerInvokeUri,
  throttling,
} from "../components/api/inferenceApi";
import { amiParameter, tritonUserData } from "../components/ec2/tritonFleet";
import { LLAMA3_8B, assertThrowsWith, ofType, one, policyOf, resourcesOf } from "./helpers";
import { planConfig, planStack, readStackFile } from "../offline/plan";

const TAGS = { environment: "test", team: "ml", "cost-center": "1" };
const fleetArgs: TritonFleetArgs = {
  vpcId: "vpc-1",
  vpcCidrBlock: "10.0.0.0/16",
  subnetIds: ["subnet-1", "subnet-2"],
  instanceType: "g5.2xlarge",
  modelRepositoryUri: "s3://models/model-repository/fleet/",
  readPolicyJson:
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::models/model-repository/fleet/*"}]}',
  modelRequirements: LLAMA3_8B,
  tags: TAGS,
};

describe("TritonFleet", () => {
  it("launches accelerated instances with IMDSv2, encrypted volumes, no public IP, and user data that starts tritonserver", async () => {
    const res = await resourcesOf(() => new TritonFleet("fleet", fleetArgs));
    const lt = one(res, "aws:ec2/launchTemplate:LaunchTemplate");
    assert.strictEqual(
      lt.inputs.imageId,
      "resolve:ssm:/aws/service/deeplearning/ami/x86_64/base-oss-nvidia-driver-gpu-amazon-linux-2023/latest/ami-id",
    );
    assert.strictEqual(
      (lt.inputs.metadataOptions as Record<string, string>).httpTokens,
      "required",
    );
    assert.deepStrictEqual(
      (lt.inputs.blockDeviceMappings as Record<string, Record<string, unknown>>[])[0].ebs.encrypted,
      "true",
    );
    assert.strictEqual(
      (lt.inputs.networkInterfaces as Record<string, unknown>[])[0].associatePublicIpAddress,
      "false",
    );
    assert.strictEqual(lt.inputs.keyName, undefined);
    const script = Buffer.from(String(lt.inputs.userData), "base64").toString();
    assert.match(
      script,
      /aws s3 sync --only-show-errors s3:\/\/models\/model-repository\/fleet\/ \/models\//,
    );
    assert.match(script, /docker run .*--gpus all .* tritonserver --model-repository=\/models/);
    assert.match(script, /amazon-cloudwatch-agent-ctl/);
    const asg = one(res, "aws:autoscaling/group:Group");
    assert.deepStrictEqual(asg.inputs.launchTemplate, { id: lt.id, version: "1" });
    assert.deepStrictEqual(
      [
        asg.inputs.minSize,
        asg.inputs.desiredCapacity,
        asg.inputs.maxSize,
        asg.inputs.healthCheckType,
      ],
      [1, 2, 4, "ELB"],
    );
    assert.strictEqual((asg.inputs.instanceRefresh as Record<string, unknown>).strategy, "Rolling");
    assert.ok((asg.inputs.tags as { key: string }[]).some((t) => t.key === "team"));
  });

  it("checks health on /v2/health/ready behind an internal ALB and scales on requests per target", async () => {
    const res = await resourcesOf(() => new TritonFleet("fleet", fleetArgs));
    const tg = one(res, "aws:lb/targetGroup:TargetGroup");
    assert.deepStrictEqual(
      [(tg.inputs.healthCheck as Record<string, unknown>).path, tg.inputs.port],
      ["/v2/health/ready", 8000],
    );
    const alb = one(res, "aws:lb/loadBalancer:LoadBalancer");
    assert.deepStrictEqual(
      [alb.inputs.internal, alb.inputs.loadBalancerType],
      [true, "application"],
    );
    const policy = one(res, "aws:autoscaling/policy:Policy").inputs
      .targetTrackingConfiguration as Record<string, Record<string, string>>;
    assert.strictEqual(
      policy.predefinedMetricSpecification.predefinedMetricType,
      "ALBRequestCountPerTarget",
    );
    assert.match(policy.predefinedMetricSpecification.resourceLabel, /^app\/.+\/targetgroup\/.+/);
    const instanceSg = ofType(res, "aws:ec2/securityGroup:SecurityGroup").find(
      (s) => s.name === "fleet-instances",
    )!;
    assert.deepStrictEqual(
      (instanceSg.inputs.ingress as Record<string, unknown>[]).map((i) => [
        i.fromPort,
        i.cidrBlocks,
      ]),
      [[8000, undefined]],
    );
    assert.strictEqual(
      policyOf(ofType(res, "aws:iam/rolePolicy:RolePolicy").find((p) => p.name === "fleet-models")!)
        .Statement[0].Resource,
      "arn:aws:s3:::models/model-repository/fleet/*",
    );
    assert.deepStrictEqual(
      ofType(res, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").map(
        (a) => a.inputs.policyArn,
      ),
      [
        "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
        "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy",
      ],
    );
  });

  it("mixes spot instances of the same accelerators when asked, and uses the Neuron AMI on Inferentia", async () => {
    const res = await resourcesOf(
      () =>
        new TritonFleet("fleet", {
          ...fleetArgs,
          extraInstanceTypes: ["g5.4xlarge"],
          spotPercent: 50,
        }),
    );
    const mixed = one(res, "aws:autoscaling/group:Group").inputs.mixedInstancesPolicy as Record<
      string,
      Record<string, unknown>
    >;
    assert.deepStrictEqual(
      (mixed.launchTemplate.overrides as Record<string, string>[]).map((o) => o.instanceType),
      ["g5.2xlarge", "g5.4xlarge"],
    );
    assert.strictEqual(mixed.instancesDistribution.onDemandPercentageAboveBaseCapacity, 50);
    assert.strictEqual(
      amiParameter("inf2.xlarge"),
      "/aws/service/ecs/optimized-ami/amazon-linux-2023/neuron/recommended/image_id",
    );
    assert.match(
      tritonUserData({
        image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/triton:1",
        modelRepositoryUri: "s3://b/p/",
        region: "us-east-1",
        accelerator: "neuron",
      }),
      /docker login .*123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com[^]*--device=/,
    );
  });

  it("refuses an instance without an accelerator for a model that needs one, naming the field", () => {
    assertThrowsWith(
      () => new TritonFleet("f", { ...fleetArgs, instanceType: "m5.large" }),
      "instanceType: m5.large has no accelerator, and the model needs one",
    );
    assertThrowsWith(
      () =>
        new TritonFleet("f", {
          ...fleetArgs,
          instanceType: "g5.xlarge",
          modelRequirements: { ...LLAMA3_8B, concurrentSequences: 32 },
        }),
      "modelRequirements: the model needs",
    );
    assertThrowsWith(
      () =>
        new TritonFleet("f", {
          ...fleetArgs,
          extraInstanceTypes: ["g5.12xlarge"],
          minSize: 3,
          maxSize: 2,
        }),
      "extraInstanceTypes[0]: g5.12xlarge must have the same accelerators",
      "minSize: (3) must not exceed maxSize (2)",
    );
  });
});

describe("InferenceApi", () => {
  const apiArgs: InferenceApiArgs = { sagemakerEndpointName: "llm-infra-test-chat", tags: TAGS };

  it("fronts a SageMaker endpoint with an AWS integration to InvokeEndpoint, through a role scoped to it", async () => {
    const res = await resourcesOf(() => new InferenceApi("api", apiArgs));
    const integration = one(res, "aws:apigateway/integration:Integration");
    assert.deepStrictEqual(
      [integration.inputs.type, integration.inputs.uri],
      ["AWS", sagemakerInvokeUri("us-east-1", "llm-infra-test-chat")],
    );
    assert.strictEqual(
      integration.inputs.uri,
      "arn:aws:apigateway:us-east-1:runtime.sagemaker:path/endpoints/llm-infra-test-chat/invocations",
    );
    const role = ofType(res, "aws:iam/role:Role").find((r) => r.name === "api-invoke")!;
    assert.match(String(integration.inputs.credentials), new RegExp(`role/${role.id}$`));
    const policy = policyOf(
      ofType(res, "aws:iam/rolePolicy:RolePolicy").find((p) => p.name === "api-invoke")!,
    );
    assert.deepStrictEqual(policy.Statement, [
      {
        Effect: "Allow",
        Action: "sagemaker:InvokeEndpoint",
        Resource: "arn:aws:sagemaker:us-east-1:123456789012:endpoint/llm-infra-test-chat",
      },
    ]);
    assert.strictEqual(
      ofType(res, "aws:lambda/function:Function").length,
      0,
      "no Lambda in the path",
    );
  });

  it("validates Triton's generate body for an endpoint of Triton with an LLM backend, and LMI's body in staging and prod as shipped", async () => {
    const res = await resourcesOf(
      () => new InferenceApi("api", { ...apiArgs, requestFormat: "triton-generate" }),
    );
    const schema = JSON.parse(String(one(res, "aws:apigateway/model:Model").inputs.schema));
    assert.deepStrictEqual(schema, TRITON_GENERATE_REQUEST_SCHEMA);
    assert.deepStrictEqual(schema.required, ["text_input"]);
    // staging and prod as shipped front their chat endpoint, which runs LMI: {"inputs", "parameters"}.
    for (const stack of ["staging", "prod"]) {
      const report = await planStack(stack);
      const model = one(report.resources, "aws:apigateway/model:Model");
      assert.deepStrictEqual(
        JSON.parse(String(model.inputs.schema)),
        REQUEST_SCHEMA,
        `${stack}'s API fronts the LMI chat endpoint`,
      );
    }
    // staging with its chat endpoint on a vLLM Triton of the stack's own build: the API validates
    // Triton's generate body.
    const raw = readStackFile("staging");
    const sagemaker = raw["llm-infra:sagemaker"] as { endpoints: Record<string, unknown>[] };
    const { name, instanceType, minInstances, maxInstances, inferenceAmiVersion, model } =
      sagemaker.endpoints[0];
    raw["llm-infra:sagemaker"] = {
      ...sagemaker,
      endpoints: [
        {
          name,
          instanceType,
          minInstances,
          maxInstances,
          inferenceAmiVersion,
          model,
          tritonModelName: "llama3-8b",
          imageFlavour: "vllm",
          imageRepository: "vllm",
          imageTag: "vllm-own-build-1",
        },
      ],
    };
    const triton = await planConfig("staging", raw);
    assert.deepStrictEqual(
      JSON.parse(String(one(triton.resources, "aws:apigateway/model:Model").inputs.schema)),
      TRITON_GENERATE_REQUEST_SCHEMA,
    );
  });

  it("validates the request body, requires an API key under a usage plan, and logs to an encrypted group", async () => {
    const res = await resourcesOf(() => new InferenceApi("api", apiArgs));
    const model = one(res, "aws:apigateway/model:Model");
    assert.deepStrictEqual(JSON.parse(String(model.inputs.schema)), REQUEST_SCHEMA);
    const method = one(res, "aws:apigateway/method:Method");
    assert.deepStrictEqual(
      [method.inputs.apiKeyRequired, method.inputs.authorization],
      [true, "NONE"],
    );
    assert.strictEqual(
      method.inputs.requestValidatorId,
      one(res, "aws:apigateway/requestValidator:RequestValidator").id,
    );
    const plan = one(res, "aws:apigateway/usagePlan:UsagePlan");
    assert.deepStrictEqual(plan.inputs.throttleSettings, { rateLimit: 20, burstLimit: 40 });
    assert.deepStrictEqual(plan.inputs.quotaSettings, { limit: 1000000, period: "MONTH" });
    assert.strictEqual(
      one(res, "aws:apigateway/usagePlanKey:UsagePlanKey").inputs.keyId,
      one(res, "aws:apigateway/apiKey:ApiKey").id,
    );
    const stage = one(res, "aws:apigateway/stage:Stage");
    assert.strictEqual(stage.inputs.xrayTracingEnabled, true);
    const group = one(res, "aws:cloudwatch/logGroup:LogGroup");
    assert.match(
      String((stage.inputs.accessLogSettings as Record<string, string>).destinationArn),
      new RegExp(`log-group:${group.id}$`),
    );
    assert.match(String(group.inputs.kmsKeyId), /^arn:aws:kms:/);
    assert.strictEqual(
      (
        one(res, "aws:apigateway/methodSettings:MethodSettings").inputs.settings as Record<
          string,
          unknown
        >
      ).metricsEnabled,
      true,
    );
  });

  it("uses IAM authentication, WAF and a TLS 1.2 custom domain when asked", async () => {
    const res = await resourcesOf(
      () =>
        new InferenceApi("api", {
          ...apiArgs,
          authentication: "iam",
          webAclArn: "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/api/1",
          domainName: "api.example.com",
          certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/1",
        }),
    );
    assert.deepStrictEqual(
      [
        one(res, "aws:apigateway/method:Method").inputs.authorization,
        ofType(res, "aws:apigateway/usagePlan:UsagePlan").length,
      ],
      ["AWS_IAM", 0],
    );
    assert.strictEqual(
      one(res, "aws:wafv2/webAclAssociation:WebAclAssociation").inputs.webAclArn,
      "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/api/1",
    );
    assert.strictEqual(
      one(res, "aws:apigateway/domainName:DomainName").inputs.securityPolicy,
      "TLS_1_2",
    );
  });

  it("fronts an internal load balancer through a VPC link and a network load balancer", async () => {
    const res = await resourcesOf(
      () =>
        new InferenceApi("api", {
          loadBalancerArn:
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/fleet/1",
          vpcId: "vpc-1",
          subnetIds: ["subnet-1"],
        }),
    );
    const nlb = one(res, "aws:lb/loadBalancer:LoadBalancer");
    assert.deepStrictEqual([nlb.inputs.loadBalancerType, nlb.inputs.internal], ["network", true]);
    assert.strictEqual(one(res, "aws:lb/targetGroup:TargetGroup").inputs.targetType, "alb");
    assert.strictEqual(one(res, "aws:apigateway/vpcLink:VpcLink").inputs.targetArn, nlb.id);
    const integration = one(res, "aws:apigateway/integration:Integration");
    assert.deepStrictEqual(
      [integration.inputs.type, integration.inputs.connectionType],
      ["HTTP_PROXY", "VPC_LINK"],
    );
  });

  it("rejects a missing or double backend and unpaired domain settings", () => {
    assertThrowsWith(
      () => new InferenceApi("a", {}),
      "sagemakerEndpointName: set exactly one of sagemakerEndpointName and loadBalancerArn",
    );
    assertThrowsWith(
      () => new InferenceApi("a", { ...apiArgs, domainName: "api.example.com", throttleBurst: 0 }),
      "domainName: domainName and certificateArn go together",
      "throttleBurst",
    );
  });
});

describe("InferenceApi: decisions", () => {
  it("authenticates with IAM signatures, or with an API key and no authorizer", () => {
    assert.deepStrictEqual(methodAuthorization("iam"), {
      authorization: "AWS_IAM",
      apiKeyRequired: false,
    });
    assert.deepStrictEqual(methodAuthorization("apiKey"), {
      authorization: "NONE",
      apiKeyRequired: true,
    });
  });

  it("throttles at 20 requests per second with bursts of 40 unless told otherwise", () => {
    assert.deepStrictEqual(throttling({}), { rateLimit: 20, burstLimit: 40 });
    assert.deepStrictEqual(throttling({ throttleRatePerSecond: 5, throttleBurst: 9 }), {
      rateLimit: 5,
      burstLimit: 9,
    });
  });

  it("deploys again when the authentication or the backend changes, and only then", () => {
    const chat = deploymentTrigger({ sagemakerEndpointName: "chat" });
    assert.match(chat, /^[0-9a-f]{64}$/);
    assert.strictEqual(
      deploymentTrigger({ sagemakerEndpointName: "chat", throttleBurst: 99 }),
      chat,
      "throttling lives in the stage's settings: no new deployment",
    );
    assert.strictEqual(
      deploymentTrigger({ sagemakerEndpointName: "chat", authentication: "apiKey" }),
      chat,
    );
    const others = [
      deploymentTrigger({ sagemakerEndpointName: "chat", authentication: "iam" }),
      deploymentTrigger({ sagemakerEndpointName: "other" }),
      deploymentTrigger({
        loadBalancerArn: "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/a/b",
      }),
    ];
    assert.strictEqual(new Set([chat, ...others]).size, 4);
  });
});
