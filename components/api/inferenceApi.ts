import * as aws from "@pulumi/aws";
import { REQUEST_FORMATS, RequestFormat } from "../../client/sagemakerClient";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import { EndpointMode } from "../sagemaker/endpointArgs";
import { PolicyDocument } from "../storage/modelStorePolicies";
import { serviceRole } from "../trust";
import { Tags } from "../tags";
import {
  ArgError,
  checkIntegerRange,
  checkLogRetention,
  checkOneOf,
  throwIfInvalid,
} from "../validation";

export const ApiAuthentication = { Iam: "iam", ApiKey: "apiKey" } as const;
export type ApiAuthentication = (typeof ApiAuthentication)[keyof typeof ApiAuthentication];

export interface InferenceApiArgs {
  /** A SageMaker endpoint to front (SageMakerEndpoint.endpointName). One of this and `loadBalancerArn`. */
  sagemakerEndpointName?: string;
  /**
   * That endpoint's mode (SageMakerEndpoint.mode). The API calls the synchronous InvokeEndpoint,
   * which an async endpoint does not serve, so `async` is refused.
   * @default "realtime"
   */
  sagemakerEndpointMode?: EndpointMode;
  /**
   * With `sagemakerEndpointName`: the body the endpoint takes (SageMakerEndpoint's
   * requestFormatOf): `{"inputs", "parameters"}`, Triton's generate extension
   * `{"text_input", "parameters"}` for the vLLM and TensorRT-LLM flavours, or an OpenAI completion
   * `{"prompt", "max_tokens"}` for the vLLM Neuron image. The API validates it.
   * @default "inputs"
   */
  requestFormat?: RequestFormat;
  /**
   * An internal load balancer to front through a VPC link (TritonFleet.loadBalancerArn or
   * TritonLoadBalancer.loadBalancerArn). Its requests are Triton's own protocol
   * (TRITON_REQUEST_SCHEMA), under `POST /{proxy+}`.
   */
  loadBalancerArn?: pulumi.Input<string>;
  /** Its listener port. @default 80 */
  loadBalancerPort?: number;
  /** With `loadBalancerArn`: the VPC of the network load balancer the VPC link needs. */
  vpcId?: pulumi.Input<string>;
  /** With `loadBalancerArn`: the private subnets of that network load balancer. */
  subnetIds?: pulumi.Input<pulumi.Input<string>[]>;
  /** `iam` (SigV4) or `apiKey` (keys under a usage plan). @default "apiKey" */
  authentication?: ApiAuthentication;
  /** Steady requests per second. @default 20 */
  throttleRatePerSecond?: number;
  /** Burst of requests above the steady rate. @default 40 */
  throttleBurst?: number;
  /** Requests per month per API key (apiKey authentication). @default 1,000,000 */
  monthlyQuota?: number;
  /** Access log retention, days. @default 90 */
  accessLogRetentionDays?: number;
  /** A WAFv2 web ACL to associate with the stage. */
  webAclArn?: pulumi.Input<string>;
  /** A custom domain (TLS 1.2 or newer); needs `certificateArn`. */
  domainName?: string;
  /** The domain's ACM certificate, in the API's region. */
  certificateArn?: pulumi.Input<string>;
  /**
   * Set the account's API Gateway CloudWatch logging role, which stages need before they can write
   * access logs. It is one setting per account and region, shared by every API there: turn it on
   * in one stack per account and region only (another stack setting it overwrites this one's
   * role). The setting and its role are kept when the stack is destroyed, so other APIs keep
   * logging.
   * @default false (the account's existing setting is used)
   */
  manageAccountLoggingRole?: boolean;
  /** Tags for every resource. */
  tags?: Tags;
}

export function validateInferenceApiArgs(args: InferenceApiArgs): ArgError[] {
  const errors: ArgError[] = [];
  if ((args.sagemakerEndpointName === undefined) === (args.loadBalancerArn === undefined)) {
    errors.push({
      propertyPath: "sagemakerEndpointName",
      reason: "set exactly one of sagemakerEndpointName and loadBalancerArn",
    });
  }
  if (args.requestFormat !== undefined && !REQUEST_FORMATS.includes(args.requestFormat))
    errors.push({
      propertyPath: "requestFormat",
      reason: `must be one of ${REQUEST_FORMATS.join(", ")}, got ${JSON.stringify(args.requestFormat)}`,
    });
  if (
    args.loadBalancerArn !== undefined &&
    (args.vpcId === undefined || args.subnetIds === undefined)
  ) {
    errors.push({
      propertyPath: "subnetIds",
      reason:
        "vpcId and subnetIds are required with loadBalancerArn (for the VPC link's network load balancer)",
    });
  }
  if (args.sagemakerEndpointMode === "async") {
    errors.push({
      propertyPath: "sagemakerEndpointName",
      reason:
        "names an async endpoint, which the API's synchronous InvokeEndpoint integration cannot call; front a realtime or serverless endpoint (async clients call InvokeEndpointAsync directly)",
    });
  }
  checkOneOf(errors, "authentication", args.authentication, Object.values(ApiAuthentication));
  checkIntegerRange(errors, "throttleRatePerSecond", args.throttleRatePerSecond, 1, 10000);
  checkIntegerRange(errors, "throttleBurst", args.throttleBurst, 1, 5000);
  checkIntegerRange(errors, "monthlyQuota", args.monthlyQuota, 1, 1_000_000_000);
  checkIntegerRange(errors, "loadBalancerPort", args.loadBalancerPort, 1, 65535);
  checkLogRetention(errors, "accessLogRetentionDays", args.accessLogRetentionDays);
  if ((args.domainName === undefined) !== (args.certificateArn === undefined)) {
    errors.push({
      propertyPath: "domainName",
      reason: "domainName and certificateArn go together",
    });
  }
  return errors;
}

/** The request body every inference request must have: `{"inputs": ..., "parameters": {...}}`. */
export const REQUEST_SCHEMA = {
  $schema: "http://json-schema.org/draft-04/schema#",
  title: "InferenceRequest",
  type: "object",
  required: ["inputs"],
  properties: {
    inputs: { type: ["string", "array"] },
    parameters: { type: "object" },
  },
};

/**
 * The request body behind a load balancer (Triton on EKS or on the fleet): a JSON object, whose
 * shape is Triton's protocol. Triton's `generate` extension takes the model's inputs by name
 * (`{"text_input": ..., "parameters": {...}}`, triton-inference-server/server
 * docs/protocol/extension_generate.md) and its KServe v2 `infer` takes `{"inputs": [...]}`;
 * decoupled models such as the vLLM backend's answer only `generate` over HTTP ("HTTP end point
 * doesn't support models with decoupled transaction policy", server src/http_server.cc), so the
 * SageMaker body's required `inputs` would lock them out.
 */
export const TRITON_REQUEST_SCHEMA = {
  $schema: "http://json-schema.org/draft-04/schema#",
  title: "TritonRequest",
  type: "object",
};

/**
 * The body a SageMaker endpoint of Triton with an LLM backend takes at `/invocations` (its generate
 * handler): `{"text_input": ..., "parameters": {...}}` (triton-inference-server/server
 * docs/protocol/extension_generate.md; components/sagemaker/sageMakerEndpoint.ts
 * tritonInferenceEnvironment).
 */
export const TRITON_GENERATE_REQUEST_SCHEMA = {
  $schema: "http://json-schema.org/draft-04/schema#",
  title: "TritonGenerateRequest",
  type: "object",
  required: ["text_input"],
  properties: {
    text_input: { type: "string" },
    parameters: { type: "object" },
  },
};

/**
 * The body the vLLM Neuron container takes at `/invocations`: an OpenAI completion,
 * `{"prompt": ..., "max_tokens": ..., ...}` (vLLM's OpenAI server; client/sagemakerClient.ts).
 */
export const OPENAI_COMPLETION_REQUEST_SCHEMA = {
  $schema: "http://json-schema.org/draft-04/schema#",
  title: "CompletionRequest",
  type: "object",
  required: ["prompt"],
  properties: {
    prompt: { type: ["string", "array"] },
    max_tokens: { type: "integer" },
  },
};

/** The request body schema of the API's backend. */
export function requestSchemaOf(
  args: Pick<InferenceApiArgs, "sagemakerEndpointName" | "requestFormat">,
) {
  if (args.sagemakerEndpointName === undefined) return TRITON_REQUEST_SCHEMA;
  if (args.requestFormat === "openai-completion") return OPENAI_COMPLETION_REQUEST_SCHEMA;
  return args.requestFormat === "triton-generate" ? TRITON_GENERATE_REQUEST_SCHEMA : REQUEST_SCHEMA;
}

/** The integration URI of SageMaker's InvokeEndpoint for an endpoint. */
export function sagemakerInvokeUri(region: string, endpointName: string): string {
  return `arn:aws:apigateway:${region}:runtime.sagemaker:path/endpoints/${endpointName}/invocations`;
}

/**
 * The statuses InvokeEndpoint answers errors with, from the SageMaker Runtime service model
 * (@aws-sdk/client-sagemaker-runtime@3.1164.0, dist-cjs/index.js, each error's httpError):
 * ValidationError 400, ModelError 424 (the model container failed), ModelNotReadyException 429,
 * InternalFailure 500, ServiceUnavailable 503, InternalDependencyException 530.
 */
export const INVOKE_ENDPOINT_ERROR_STATUSES = ["400", "424", "429", "500", "503"] as const;

/**
 * A regular expression matching the three-digit statuses of a family (`4` or `5`) except the
 * given ones, without lookahead: one alternative per tens digit.
 */
export function familyPatternExcept(family: "4" | "5", except: readonly string[]): string {
  const alternatives: string[] = [];
  for (let tens = 0; tens <= 9; tens++) {
    const units = [...Array(10).keys()].filter((u) => !except.includes(`${family}${tens}${u}`));
    if (units.length === 10) alternatives.push(`${tens}\\d`);
    else if (units.length > 0) alternatives.push(`${tens}[${units.join("")}]`);
  }
  return `${family}(${alternatives.join("|")})`;
}

export interface IntegrationResponseSpec {
  /** Child name suffix: `${name}-<role>`. */
  role: string;
  /** The method response status clients see. */
  statusCode: string;
  /** The regular expression on the SageMaker status that selects it; none for the default. */
  selectionPattern?: string;
}

/**
 * How SageMaker's answers map to the API's: success is the default response; each error status
 * InvokeEndpoint documents keeps its status, other 4XX become 400 and other 5XX become 500. For
 * AWS integrations the selection pattern is matched against the service's HTTP status
 * (https://docs.aws.amazon.com/apigateway/latest/api/API_IntegrationResponse.html, selectionPattern:
 * "For all other HTTP and AWS back ends, the HTTP status code is matched"). The patterns do not
 * overlap, so exactly one response applies to any status. No mapping template is set, so the
 * error body SageMaker returns (its message, and the model's own output for a ModelError) passes
 * through unchanged.
 */
export function sagemakerIntegrationResponses(): IntegrationResponseSpec[] {
  const exact = INVOKE_ENDPOINT_ERROR_STATUSES;
  return [
    { role: "200", statusCode: "200" },
    ...exact.map((code) => ({ role: code, statusCode: code, selectionPattern: code })),
    { role: "other-4xx", statusCode: "400", selectionPattern: familyPatternExcept("4", exact) },
    { role: "other-5xx", statusCode: "500", selectionPattern: familyPatternExcept("5", exact) },
  ];
}

/** What API Gateway may do as the integration role: invoke one endpoint. */
export function invokeEndpointPolicy(endpointArn: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: "sagemaker:InvokeEndpoint", Resource: endpointArn }],
  };
}

/** The access log key: the account administers it, CloudWatch Logs uses it for this log group. */
export function accessLogKeyPolicy(region: string, accountId: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AccountAdministers",
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${accountId}:root` },
        Action: "kms:*",
        Resource: "*",
      },
      {
        Sid: "CloudWatchLogsEncrypts",
        Effect: "Allow",
        Principal: { Service: `logs.${region}.amazonaws.com` },
        Action: [
          "kms:Encrypt*",
          "kms:Decrypt*",
          "kms:ReEncrypt*",
          "kms:GenerateDataKey*",
          "kms:Describe*",
        ],
        Resource: "*",
        Condition: {
          ArnLike: {
            "kms:EncryptionContext:aws:logs:arn": `arn:aws:logs:${region}:${accountId}:log-group:*`,
          },
        },
      },
    ],
  };
}

const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: "$context.requestId",
  ip: "$context.identity.sourceIp",
  caller: "$context.identity.caller",
  apiKeyId: "$context.identity.apiKeyId",
  requestTime: "$context.requestTime",
  httpMethod: "$context.httpMethod",
  resourcePath: "$context.resourcePath",
  status: "$context.status",
  integrationLatency: "$context.integration.latency",
  responseLength: "$context.responseLength",
});

/** How a method authenticates callers: IAM signatures, or an API key (then no authorizer). */
export function methodAuthorization(auth: ApiAuthentication): {
  authorization: string;
  apiKeyRequired: boolean;
} {
  return { authorization: auth === "iam" ? "AWS_IAM" : "NONE", apiKeyRequired: auth === "apiKey" };
}

/** The stage's and the usage plan's throttling: requests per second and burst. */
export function throttling(args: InferenceApiArgs): { rateLimit: number; burstLimit: number } {
  return { rateLimit: args.throttleRatePerSecond ?? 20, burstLimit: args.throttleBurst ?? 40 };
}

/**
 * The deployment's trigger: a hash of what the deployed API is made of (authentication, backend,
 * request schema, integration responses), so that a change to any of them deploys the API again.
 */
export function deploymentTrigger(args: InferenceApiArgs): string {
  return createHash("sha256")
    .update(
      JSON.stringify({
        auth: args.authentication ?? "apiKey",
        backend: args.sagemakerEndpointName ?? "load-balancer",
        schema: requestSchemaOf(args),
        responses: args.sagemakerEndpointName !== undefined ? sagemakerIntegrationResponses() : [],
      }),
    )
    .digest("hex");
}

/**
 * An API Gateway REST API in front of a SageMaker endpoint (an AWS integration to the SageMaker
 * runtime's InvokeEndpoint, through a role scoped to that endpoint; no Lambda in the path) or of an
 * internal load balancer (through a VPC link): IAM or API-key authentication with a usage plan,
 * request validation of `{"inputs": ..., "parameters": {...}}`, access logs to a KMS-encrypted log
 * group, stage metrics and X-Ray, an optional WAF association and a custom domain with TLS 1.2.
 */
export class InferenceApi extends pulumi.ComponentResource {
  /** The REST API's id. */
  public readonly restApiId: pulumi.Output<string>;
  /** The REST API's name: its CloudWatch dimension (ApiName). */
  public readonly restApiName: pulumi.Output<string>;
  /** The stage's name: its CloudWatch dimension (Stage). */
  public readonly stageName: pulumi.Output<string>;
  /** The stage's invoke URL (`https://<id>.execute-api.<region>.amazonaws.com/v1`). */
  public readonly url: pulumi.Output<string>;
  /** The API key's id, with `authentication: "apiKey"` (read its value with `aws apigateway get-api-key --include-value`). */
  public readonly apiKeyId?: pulumi.Output<string>;

  constructor(name: string, args: InferenceApiArgs, opts?: pulumi.ComponentResourceOptions) {
    throwIfInvalid("InferenceApi", name, validateInferenceApiArgs(args));
    super("llm-infra:index:InferenceApi", name, {}, opts);
    const ctx = this.context(name, args);

    const restApi = this.createRestApi(ctx);
    const integrations =
      args.sagemakerEndpointName !== undefined
        ? this.createSageMakerBackend(ctx, restApi, args.sagemakerEndpointName)
        : this.createLoadBalancerBackend(ctx, restApi);
    const logGroup = this.createAccessLogs(ctx);
    const accountSettings =
      (args.manageAccountLoggingRole ?? false) ? [this.createAccountLoggingRole(ctx)] : [];
    const stage = this.createStage(ctx, restApi, integrations, logGroup, accountSettings);
    if (ctx.auth === "apiKey") this.apiKeyId = this.createApiKey(ctx, restApi, stage);
    if (args.webAclArn !== undefined) this.createWafAssociation(ctx, stage, args.webAclArn);
    if (args.domainName !== undefined) this.createDomain(ctx, restApi, stage, args.domainName);

    const { api } = restApi;
    this.restApiId = api.id;
    this.restApiName = api.name;
    this.stageName = stage.stageName;
    this.url = pulumi.interpolate`https://${api.id}.execute-api.${ctx.region}.amazonaws.com/${stage.stageName}`;
    this.registerOutputs({
      restApiId: this.restApiId,
      url: this.url,
      apiKeyId: this.apiKeyId,
      restApiName: this.restApiName,
      stageName: this.stageName,
    });
  }

  /** The API's arguments and the values its resources share: region, account, authentication. */
  private context(name: string, args: InferenceApiArgs): ApiContext {
    const child = { parent: this };
    const region = aws.getRegionOutput({}, child).region;
    const accountId = aws.getCallerIdentityOutput({}, child).accountId;
    return {
      name,
      args,
      tags: args.tags,
      child,
      region,
      accountId,
      auth: args.authentication ?? "apiKey",
    };
  }

  /** The regional REST API, the request model its POST bodies must match, and the validator. */
  private createRestApi(ctx: ApiContext): RestApiParts {
    const { name, tags, child } = ctx;
    const api = new aws.apigateway.RestApi(
      `${name}-api`,
      { description: `Inference API ${name}`, endpointConfiguration: { types: "REGIONAL" }, tags },
      child,
    );
    const model = new aws.apigateway.Model(
      `${name}-request`,
      {
        restApi: api.id,
        name: requestSchemaOf(ctx.args).title,
        contentType: "application/json",
        schema: JSON.stringify(requestSchemaOf(ctx.args)),
      },
      child,
    );
    const validator = new aws.apigateway.RequestValidator(
      `${name}-body`,
      { restApi: api.id, name: "body", validateRequestBody: true },
      child,
    );
    return { api, model, validator };
  }

  /** A path that takes validated POST bodies, with the API's authentication. */
  private createPostPath(
    ctx: ApiContext,
    { api, model, validator }: RestApiParts,
    role: string,
    pathPart: string,
    requestParameters?: Record<string, boolean>,
  ): { resource: aws.apigateway.Resource; method: aws.apigateway.Method } {
    const { name, child } = ctx;
    const resource = new aws.apigateway.Resource(
      `${name}-${role}`,
      { restApi: api.id, parentId: api.rootResourceId, pathPart },
      child,
    );
    const method = new aws.apigateway.Method(
      `${name}-${role}`,
      {
        restApi: api.id,
        resourceId: resource.id,
        httpMethod: "POST",
        ...methodAuthorization(ctx.auth),
        requestValidatorId: validator.id,
        requestModels: { "application/json": model.name },
        requestParameters,
      },
      child,
    );
    return { resource, method };
  }

  /**
   * A SageMaker endpoint behind `POST /invocations`: a role that may invoke only that endpoint,
   * an AWS integration to the SageMaker runtime's InvokeEndpoint (no Lambda in the path), and one
   * method response per status with the integration responses that select them. Returns what
   * the deployment waits for.
   */
  private createSageMakerBackend(
    ctx: ApiContext,
    restApi: RestApiParts,
    endpointName: string,
  ): pulumi.Resource[] {
    const { name, tags, child, region, accountId } = ctx;
    const { api } = restApi;
    const integrations: pulumi.Resource[] = [];
    const endpointArn = pulumi.interpolate`arn:aws:sagemaker:${region}:${accountId}:endpoint/${endpointName.toLowerCase()}`;
    const role = serviceRole(
      `${name}-invoke`,
      "apigateway.amazonaws.com",
      `API Gateway invokes ${endpointName}`,
      tags,
      this,
    );
    new aws.iam.RolePolicy(
      `${name}-invoke`,
      {
        role: role.id,
        policy: endpointArn.apply((arn) => JSON.stringify(invokeEndpointPolicy(arn))),
      },
      child,
    );
    const { resource, method } = this.createPostPath(ctx, restApi, "invocations", "invocations");
    const integration = new aws.apigateway.Integration(
      `${name}-sagemaker`,
      {
        restApi: api.id,
        resourceId: resource.id,
        httpMethod: method.httpMethod,
        type: "AWS",
        integrationHttpMethod: "POST",
        uri: region.apply((r) => sagemakerInvokeUri(r, endpointName)),
        credentials: role.arn,
        passthroughBehavior: "WHEN_NO_MATCH",
        timeoutMilliseconds: 29000,
      },
      child,
    );
    integrations.push(integration);
    const responses = sagemakerIntegrationResponses();
    const methodResponses = new Map<string, aws.apigateway.MethodResponse>();
    for (const code of new Set(responses.map((r) => r.statusCode))) {
      methodResponses.set(
        code,
        new aws.apigateway.MethodResponse(
          `${name}-${code}`,
          {
            restApi: api.id,
            resourceId: resource.id,
            httpMethod: method.httpMethod,
            statusCode: code,
          },
          child,
        ),
      );
    }
    for (const r of responses) {
      integrations.push(
        new aws.apigateway.IntegrationResponse(
          `${name}-${r.role}`,
          {
            restApi: api.id,
            resourceId: resource.id,
            httpMethod: method.httpMethod,
            statusCode: methodResponses.get(r.statusCode)!.statusCode,
            selectionPattern: r.selectionPattern,
          },
          { parent: this, dependsOn: [integration] },
        ),
      );
    }
    return integrations;
  }

  /**
   * A load balancer behind `POST /{proxy+}`. REST API VPC links reach network load balancers, so
   * an internal NLB forwards to the ALB (an `alb` target group), and a VPC link to the NLB carries
   * an HTTP proxy integration. Returns what the deployment waits for.
   */
  private createLoadBalancerBackend(ctx: ApiContext, restApi: RestApiParts): pulumi.Resource[] {
    const { name, args, tags, child } = ctx;
    const port = args.loadBalancerPort ?? 80;
    const nlb = new aws.lb.LoadBalancer(
      `${name}-nlb`,
      { loadBalancerType: "network", internal: true, subnets: args.subnetIds, tags },
      child,
    );
    const albTarget = new aws.lb.TargetGroup(
      `${name}-alb-target`,
      {
        targetType: "alb",
        port,
        protocol: "TCP",
        vpcId: args.vpcId as pulumi.Input<string>,
        healthCheck: { protocol: "HTTP", path: "/v2/health/ready", port: String(port) },
        tags,
      },
      child,
    );
    new aws.lb.TargetGroupAttachment(
      `${name}-alb-target`,
      {
        targetGroupArn: albTarget.arn,
        targetId: args.loadBalancerArn as pulumi.Input<string>,
        port,
      },
      child,
    );
    new aws.lb.Listener(
      `${name}-nlb`,
      {
        loadBalancerArn: nlb.arn,
        port,
        protocol: "TCP",
        defaultActions: [{ type: "forward", targetGroupArn: albTarget.arn }],
        tags,
      },
      child,
    );
    const link = new aws.apigateway.VpcLink(`${name}-link`, { targetArn: nlb.arn, tags }, child);
    const { resource, method } = this.createPostPath(ctx, restApi, "proxy", "{proxy+}", {
      "method.request.path.proxy": true,
    });
    return [
      new aws.apigateway.Integration(
        `${name}-vpc-link`,
        {
          restApi: restApi.api.id,
          resourceId: resource.id,
          httpMethod: method.httpMethod,
          type: "HTTP_PROXY",
          integrationHttpMethod: "POST",
          connectionType: "VPC_LINK",
          connectionId: link.id,
          uri: pulumi.interpolate`http://${nlb.dnsName}:${port}/{proxy}`,
          requestParameters: { "integration.request.path.proxy": "method.request.path.proxy" },
          timeoutMilliseconds: 29000,
        },
        child,
      ),
    ];
  }

  /** The access log group, encrypted with a key of its own that CloudWatch Logs may use. */
  private createAccessLogs(ctx: ApiContext): aws.cloudwatch.LogGroup {
    const { name, args, tags, child, region, accountId } = ctx;
    const logKey = new aws.kms.Key(
      `${name}-access-logs`,
      {
        description: `Access logs of ${name}`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: pulumi
          .all([region, accountId])
          .apply(([r, a]) => JSON.stringify(accessLogKeyPolicy(r, a))),
        tags,
      },
      child,
    );
    return new aws.cloudwatch.LogGroup(
      `${name}-access-logs`,
      { retentionInDays: args.accessLogRetentionDays ?? 90, kmsKeyId: logKey.arn, tags },
      child,
    );
  }

  /**
   * The account's CloudWatch role for API Gateway, which lets it write access logs. One setting
   * per account and region: kept on destroy, with its role, so that the other APIs of the account
   * keep logging.
   */
  private createAccountLoggingRole(ctx: ApiContext): aws.apigateway.Account {
    const { name, tags } = ctx;
    const kept = { parent: this, retainOnDelete: true };
    const logRole = serviceRole(
      `${name}-cloudwatch`,
      "apigateway.amazonaws.com",
      "API Gateway writes logs to CloudWatch",
      tags,
      this,
      { retainOnDelete: true },
    );
    new aws.iam.RolePolicyAttachment(
      `${name}-cloudwatch`,
      {
        role: logRole.name,
        policyArn: "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs",
      },
      kept,
    );
    return new aws.apigateway.Account(`${name}-account`, { cloudwatchRoleArn: logRole.arn }, kept);
  }

  /**
   * The deployment (redeployed when the API's shape changes), the `v1` stage with access logs and
   * X-Ray, and its method settings: metrics and throttling.
   */
  private createStage(
    ctx: ApiContext,
    { api }: RestApiParts,
    integrations: pulumi.Resource[],
    logGroup: aws.cloudwatch.LogGroup,
    accountSettings: pulumi.Resource[],
  ): aws.apigateway.Stage {
    const { name, args, tags, child } = ctx;
    const deployment = new aws.apigateway.Deployment(
      `${name}-deployment`,
      { restApi: api.id, triggers: { config: deploymentTrigger(args) } },
      { parent: this, dependsOn: integrations },
    );
    const stage = new aws.apigateway.Stage(
      `${name}-stage`,
      {
        restApi: api.id,
        deployment: deployment.id,
        stageName: "v1",
        xrayTracingEnabled: true,
        accessLogSettings: { destinationArn: logGroup.arn, format: ACCESS_LOG_FORMAT },
        tags,
      },
      { parent: this, dependsOn: [...integrations, ...accountSettings] },
    );
    const throttle = throttling(args);
    new aws.apigateway.MethodSettings(
      `${name}-settings`,
      {
        restApi: api.id,
        stageName: stage.stageName,
        methodPath: "*/*",
        settings: {
          metricsEnabled: true,
          throttlingRateLimit: throttle.rateLimit,
          throttlingBurstLimit: throttle.burstLimit,
        },
      },
      child,
    );
    return stage;
  }

  /** API-key authentication: a usage plan with throttling and a monthly quota, and its key. */
  private createApiKey(
    ctx: ApiContext,
    { api }: RestApiParts,
    stage: aws.apigateway.Stage,
  ): pulumi.Output<string> {
    const { name, args, tags, child } = ctx;
    const plan = new aws.apigateway.UsagePlan(
      `${name}-plan`,
      {
        apiStages: [{ apiId: api.id, stage: stage.stageName }],
        throttleSettings: throttling(args),
        quotaSettings: { limit: args.monthlyQuota ?? 1_000_000, period: "MONTH" },
        tags,
      },
      child,
    );
    const key = new aws.apigateway.ApiKey(
      `${name}-key`,
      { description: `Default key of ${name}`, tags },
      child,
    );
    new aws.apigateway.UsagePlanKey(
      `${name}-key`,
      { keyId: key.id, keyType: "API_KEY", usagePlanId: plan.id },
      child,
    );
    return key.id;
  }

  /** The given WAF web ACL, in front of the stage. */
  private createWafAssociation(
    ctx: ApiContext,
    stage: aws.apigateway.Stage,
    webAclArn: pulumi.Input<string>,
  ): void {
    new aws.wafv2.WebAclAssociation(
      `${ctx.name}-waf`,
      { resourceArn: stage.arn, webAclArn },
      ctx.child,
    );
  }

  /** A custom regional domain with TLS 1.2 at least, mapped to the stage. */
  private createDomain(
    ctx: ApiContext,
    { api }: RestApiParts,
    stage: aws.apigateway.Stage,
    domainName: pulumi.Input<string>,
  ): void {
    const { name, args, tags, child } = ctx;
    const domain = new aws.apigateway.DomainName(
      `${name}-domain`,
      {
        domainName,
        regionalCertificateArn: args.certificateArn,
        endpointConfiguration: { types: "REGIONAL" },
        securityPolicy: "TLS_1_2",
        tags,
      },
      child,
    );
    new aws.apigateway.BasePathMapping(
      `${name}-domain`,
      { restApi: api.id, stageName: stage.stageName, domainName: domain.domainName },
      child,
    );
  }
}

/** What every step of an InferenceApi reads. */
interface ApiContext {
  name: string;
  args: InferenceApiArgs;
  tags: Tags | undefined;
  child: pulumi.CustomResourceOptions;
  region: pulumi.Output<string>;
  accountId: pulumi.Output<string>;
  auth: ApiAuthentication;
}

/** The REST API and what its POST paths share. */
interface RestApiParts {
  api: aws.apigateway.RestApi;
  model: aws.apigateway.Model;
  validator: aws.apigateway.RequestValidator;
}
