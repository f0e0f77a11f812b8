import * as aws from "@pulumi/aws";
import { sageMakerGenerateProblem } from "../../catalog/drivers";
import type { RequestFormat } from "../../client/sagemakerClient";
import * as pulumi from "@pulumi/pulumi";
import { servingImageUri } from "../../catalog/images";
import { MODEL_MEMORY_TAG, estimateMemory } from "../../catalog/modelFit";
import { DEFAULT_UTILIZATION } from "../../catalog/cost";
import { MODEL_CLASS_TAG, UTILIZATION_TAG, modelClassOf } from "../../catalog/tokenCost";
import { AlarmTopic } from "../monitoring/alarmTopic";
import { metricAlarm } from "../monitoring/metricAlarm";
import { Tags } from "../tags";
import { throwIfInvalid } from "../validation";
import {
  EndpointMode,
  SageMakerEndpointArgs,
  catalogImage,
  validateSageMakerEndpointArgs,
} from "./endpointArgs";
import {
  EndpointSettings,
  alarmThresholds,
  deploymentConfig,
  endpointSettings,
  modelDataPrefix,
  productionVariant,
  scalingOptions,
  volumeKmsKey,
} from "./endpointSettings";
import {
  CONFIG_FINGERPRINT_TAG,
  configFingerprint,
  deployInstanceCount,
  liveVariantSource,
} from "./liveCapacity";
import {
  AlarmSpec,
  VARIANT_NAME,
  backlogWithoutCapacityAlarm,
  endpointAlarms,
  scalingResourceId,
  targetTrackingPolicies,
} from "./monitoring";
import { lmiEnvironment } from "./lmiEnvironment";
import { vllmNeuronEnvironment } from "./neuronEnvironment";
import { neuronLayout } from "../../catalog/neuron";
import { tlsOnlyTopicPolicy } from "./policies";
import { endpointSecurityGroup } from "./endpointNetwork";
import { executionRole } from "./endpointRole";
import { scalingPolicies } from "./endpointScaling";

export { defaultEndpointName, deploymentConfig } from "./endpointSettings";

/**
 * The options of the parameter that carries an endpoint's instance type: a change replaces it,
 * deleting it (and the scaling registered through it) before anything else of the endpoint.
 */
export const INSTANCE_TYPE_MARKER_OPTIONS: pulumi.CustomResourceOptions = {
  replaceOnChanges: ["insecureValue"],
  deleteBeforeReplace: true,
};

/**
 * A SageMaker inference endpoint (real-time, asynchronous or serverless) serving a model from the
 * model store: the model with a least-privilege execution role, the endpoint configuration, the
 * endpoint with deployment guardrails that roll back on its own alarms, the autoscaling that
 * applies to its mode, and CloudWatch alarms to an SNS topic.
 */
export class SageMakerEndpoint extends pulumi.ComponentResource {
  /** How the endpoint serves: real-time, async or serverless. */
  public readonly mode: EndpointMode;
  /** The endpoint's name (`<project>-<stack>-<name>` unless given), what clients invoke. */
  public readonly endpointName: string;
  /** The endpoint's ARN. */
  public readonly endpointArn: pulumi.Output<string>;
  /** The execution role SageMaker assumes to pull the image and read the model. */
  public readonly roleArn: pulumi.Output<string>;
  /** The SNS topic the endpoint's alarms notify (given, or created). */
  public readonly alarmTopicArn: pulumi.Output<string>;
  /** Async endpoints: the S3 prefix to upload requests to (`InputLocation`). */
  public readonly asyncInputUri?: pulumi.Output<string>;
  /** Async endpoints: the S3 prefix where results land. */
  public readonly asyncOutputUri?: pulumi.Output<string>;
  /** Async endpoints: the S3 prefix where failed requests' errors land. */
  public readonly asyncFailureUri?: pulumi.Output<string>;
  /**
   * The variant's scalable target, absent without autoscaling. What acts on the variant's scaling
   * from outside (an off-hours schedule) is replaced with it: deregistering a scalable target
   * deletes its scheduled actions and policies in AWS.
   */
  public readonly scalingTarget?: aws.appautoscaling.Target;

  constructor(name: string, args: SageMakerEndpointArgs, opts?: pulumi.ComponentResourceOptions) {
    // Validate before anything is registered: bad input fails at preview, naming the field.
    throwIfInvalid("SageMakerEndpoint", name, validateSageMakerEndpointArgs(args));
    super("llm-infra:index:SageMakerEndpoint", name, {}, opts);

    const ctx = this.context(name, args);
    const { mode, endpointName } = ctx;
    this.mode = mode;
    this.endpointName = endpointName;

    // A Triton LLM image too old for SageMaker's generate handler starts but cannot answer.
    if (args.imageFlavour === "vllm" || args.imageFlavour === "trtllm")
      pulumi.output(args.imageUri).apply((uri) => {
        const problem = uri ? sageMakerGenerateProblem(uri.split(":").pop() ?? "") : undefined;
        if (problem) void pulumi.log.warn(`${name}: ${problem}`, this);
      });
    this.alarmTopicArn = this.createAlarmTopic(ctx);
    const asyncTopics = mode === "async" ? this.createAsyncTopics(ctx) : undefined;
    const { role, rolePolicy } = this.createExecutionRole(ctx, asyncTopics);
    const vpcConfig = args.subnetIds !== undefined ? this.createNetworking(ctx) : undefined;
    const { model, modelArgs } = this.createModel(ctx, role, rolePolicy, vpcConfig);
    const config = this.createEndpointConfiguration(ctx, model, modelArgs, asyncTopics);
    const rollbackAlarms = this.createAlarms(ctx);
    const instanceTypeMarker =
      mode === "serverless" ? undefined : this.createInstanceTypeMarker(ctx);
    const endpoint = this.createEndpoint(ctx, config, rollbackAlarms, instanceTypeMarker);
    this.endpointArn = endpoint.arn;
    this.roleArn = role.arn;
    this.scalingTarget = this.createScaling(ctx, endpoint, instanceTypeMarker);

    if (mode === "async") {
      const { bucketName, asyncPrefix } = ctx;
      this.asyncInputUri = pulumi.interpolate`s3://${bucketName}/${asyncPrefix}/input/`;
      this.asyncOutputUri = pulumi.interpolate`s3://${bucketName}/${asyncPrefix}/output/`;
      this.asyncFailureUri = pulumi.interpolate`s3://${bucketName}/${asyncPrefix}/failure/`;
    }
    this.registerOutputs({
      endpointName,
      endpointArn: this.endpointArn,
      roleArn: this.roleArn,
      alarmTopicArn: this.alarmTopicArn,
      asyncInputUri: this.asyncInputUri,
      asyncOutputUri: this.asyncOutputUri,
    });
  }

  /** The endpoint's settings and the values its resources share: account, image, bucket. */
  private context(name: string, args: SageMakerEndpointArgs): EndpointContext {
    const settings = endpointSettings(name, args, pulumi.getProject(), pulumi.getStack());
    const accountId = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
    const imageUri = pulumi.output(
      args.imageUri ??
        servingImageUri(args.image ?? "triton", settings.region, args.imageVersion).uri,
    );
    const bucketArn = pulumi.output(args.modelBucketArn);
    const bucketName = bucketArn.apply((arn) => arn.replace(/^arn:[^:]+:s3:::/, ""));
    return {
      ...settings,
      name,
      args,
      tags: args.tags,
      child: { parent: this },
      accountId,
      imageUri,
      bucketArn,
      bucketName,
    };
  }

  /** Where alarms notify: the caller's topic, or one of the endpoint's own (an AlarmTopic). */
  private createAlarmTopic(ctx: EndpointContext): pulumi.Output<string> {
    const { name, args, region, tags, child } = ctx;
    return args.alarmTopicArn !== undefined
      ? pulumi.output(args.alarmTopicArn)
      : new AlarmTopic(`${name}-alarms`, { region, tags }, child).topicArn;
  }

  /** Async endpoints: the SNS topics results and errors are announced on, encrypted and TLS-only. */
  private createAsyncTopics(ctx: EndpointContext): AsyncTopics {
    const { name, tags, child } = ctx;
    const topic = (role: string) => {
      const t = new aws.sns.Topic(
        `${name}-${role}`,
        { kmsMasterKeyId: "alias/aws/sns", tags },
        child,
      );
      new aws.sns.TopicPolicy(
        `${name}-${role}`,
        { arn: t.arn, policy: t.arn.apply((arn) => JSON.stringify(tlsOnlyTopicPolicy(arn))) },
        child,
      );
      return t;
    };
    return { success: topic("success"), error: topic("error") };
  }

  /**
   * The execution role SageMaker assumes, and its policy: only this model's data, this image,
   * these logs and outputs.
   */
  private createExecutionRole(
    ctx: EndpointContext,
    asyncTopics: AsyncTopics | undefined,
  ): { role: aws.iam.Role; rolePolicy: aws.iam.RolePolicy } {
    const { name, args, region, partition, endpointName, tags, accountId } = ctx;
    const { role, rolePolicy } = executionRole(
      name,
      {
        partition,
        region,
        endpointName,
        description: `Execution role of SageMaker endpoint ${endpointName}`,
        accountId,
        bucketArn: ctx.bucketArn,
        imageUris: [ctx.imageUri],
        modelData: ctx.modelData,
        decryptKeys: [args.modelKmsKeyArn].filter(
          (k): k is pulumi.Input<string> => k !== undefined,
        ),
        encryptKeys: [args.kmsKeyArn ?? args.modelKmsKeyArn].filter(
          (k): k is pulumi.Input<string> => k !== undefined,
        ),
        vpcId: args.vpcId,
        async: asyncTopics
          ? { prefix: ctx.asyncPrefix, topicArns: [asyncTopics.success.arn, asyncTopics.error.arn] }
          : undefined,
        dataCapturePrefix: ctx.capturePrefix,
        tags,
      },
      this,
    );
    return { role, rolePolicy };
  }

  /**
   * Endpoints in a VPC: a security group with no inbound and HTTPS outbound only, so the model
   * containers in private subnets talk to AWS APIs and S3 and nothing else.
   */
  private createNetworking(ctx: EndpointContext): aws.types.input.sagemaker.ModelVpcConfig {
    const { name, args, endpointName, tags, child } = ctx;
    return endpointSecurityGroup(
      name,
      {
        vpcId: args.vpcId as pulumi.Input<string>,
        subnetIds: args.subnetIds as pulumi.Input<pulumi.Input<string>[]>,
        endpointName,
        tags,
      },
      child,
    );
  }

  /**
   * The model: the serving image, the model data in the model store and the execution role,
   * created once the role's policy exists (SageMaker checks access when it creates the model).
   * Returns its arguments too: the endpoint configuration's fingerprint covers them.
   */
  private createModel(
    ctx: EndpointContext,
    role: aws.iam.Role,
    rolePolicy: aws.iam.RolePolicy,
    vpcConfig: aws.types.input.sagemaker.ModelVpcConfig | undefined,
  ): { model: aws.sagemaker.Model; modelArgs: aws.sagemaker.ModelArgs } {
    const { name, args, mode, tags, bucketName } = ctx;
    const modelArgs: aws.sagemaker.ModelArgs = {
      executionRoleArn: role.arn,
      enableNetworkIsolation: args.networkIsolation ?? mode !== "serverless",
      vpcConfig,
      primaryContainer: modelContainer(args, ctx.imageUri, bucketName),
      tags,
    };
    const model = new aws.sagemaker.Model(`${name}-model`, modelArgs, {
      parent: this,
      dependsOn: [rolePolicy],
    });
    return { model, modelArgs };
  }

  /**
   * The endpoint configuration: the production variant, async output and data capture settings,
   * and tags with the model's memory need (for the policy pack's fit check) and the
   * configuration's fingerprint (to tell a real change from autoscaling having moved).
   *
   * A configuration change keeps serving capacity: the new fleet starts at what serves now (see
   * liveCapacity.ts for why the program, not the provider, does this). The fingerprint covers the
   * user's configured count too, so changing initialInstanceCount deploys.
   */
  private createEndpointConfiguration(
    ctx: EndpointContext,
    model: aws.sagemaker.Model,
    modelArgs: aws.sagemaker.ModelArgs,
    asyncTopics: AsyncTopics | undefined,
  ): aws.sagemaker.EndpointConfiguration {
    const { name, args, mode, region, endpointName, counts, tags, bucketName } = ctx;
    const variant = productionVariant(args, mode, model.name);
    const outputKey = args.kmsKeyArn ?? args.modelKmsKeyArn;
    const settings = {
      kmsKeyArn: volumeKmsKey(args, mode, ctx.instance),
      asyncInferenceConfig: asyncTopics
        ? {
            clientConfig: {
              maxConcurrentInvocationsPerInstance:
                args.asyncMaxConcurrentInvocationsPerInstance ?? 4,
            },
            outputConfig: {
              s3OutputPath: pulumi.interpolate`s3://${bucketName}/${ctx.asyncPrefix}/output/`,
              s3FailurePath: pulumi.interpolate`s3://${bucketName}/${ctx.asyncPrefix}/failure/`,
              kmsKeyId: outputKey,
              notificationConfig: {
                successTopic: asyncTopics.success.arn,
                errorTopic: asyncTopics.error.arn,
              },
            },
          }
        : undefined,
      dataCaptureConfig: ctx.capturePrefix
        ? {
            enableCapture: true,
            initialSamplingPercentage: args.dataCapturePercent as number,
            destinationS3Uri: pulumi.interpolate`s3://${bucketName}/${ctx.capturePrefix}/`,
            kmsKeyId: outputKey,
            captureOptions: [{ captureMode: "Input" }, { captureMode: "Output" }],
            captureContentTypeHeader: { jsonContentTypes: ["application/json"] },
          }
        : undefined,
    };
    const fingerprint =
      mode === "serverless"
        ? undefined
        : pulumi
            .output({
              settings,
              variant,
              model: { ...modelArgs, tags: undefined },
              configured: counts.initial,
            })
            .apply((resolved) => configFingerprint(resolved));
    const initialInstanceCount = fingerprint?.apply(async (fp) =>
      deployInstanceCount({
        ...counts,
        configured: counts.initial,
        fingerprint: fp,
        live: await liveVariantSource.read(region, endpointName, VARIANT_NAME),
      }),
    );
    return new aws.sagemaker.EndpointConfiguration(
      `${name}-config`,
      {
        ...settings,
        productionVariants: [{ ...variant, initialInstanceCount }],
        tags: pulumi.all([pulumi.output(tags ?? {}), fingerprint]).apply(([t, fp]) => ({
          ...t,
          ...(args.modelRequirements
            ? {
                [MODEL_MEMORY_TAG]: estimateMemory(args.modelRequirements).requiredGib.toFixed(1),
                // What the cost per token is computed from (catalog/tokenCost.ts).
                [MODEL_CLASS_TAG]: modelClassOf(args.modelRequirements),
              }
            : {}),
          [UTILIZATION_TAG]: String(args.utilization ?? DEFAULT_UTILIZATION),
          ...(fp !== undefined ? { [CONFIG_FINGERPRINT_TAG]: fp } : {}),
        })),
      },
      ctx.child,
    );
  }

  /**
   * The endpoint's CloudWatch alarms (errors, latency, GPU, async backlog) to the alarm topic.
   * Created before the endpoint: its deployments roll back on the names this returns.
   */
  private createAlarms(ctx: EndpointContext): pulumi.Output<string>[] {
    const thresholds = alarmThresholds(ctx.args, ctx.mode);
    const rollbackAlarms: pulumi.Output<string>[] = [];
    for (const spec of endpointAlarms(ctx.endpointName, ctx.mode, ctx.instance, thresholds)) {
      const a = this.createAlarm(ctx, spec, [this.alarmTopicArn], [this.alarmTopicArn]);
      if (spec.rollback) rollbackAlarms.push(a.name);
    }
    return rollbackAlarms;
  }

  /** One alarm, `${name}-<role>`, notifying `actions` on alarm and `okActions` on OK. */
  private createAlarm(
    ctx: EndpointContext,
    spec: AlarmSpec,
    actions: pulumi.Input<string>[],
    okActions: pulumi.Input<string>[],
  ): aws.cloudwatch.MetricAlarm {
    return metricAlarm(
      `${ctx.name}-${spec.role}`,
      spec,
      { actions, okActions, tags: ctx.tags },
      ctx.child,
    );
  }

  /**
   * Instance-based endpoints: a parameter holding the instance type, replaced (delete first) when
   * it changes.
   *
   * SageMaker refuses an UpdateEndpoint that changes the instance type of a variant registered
   * for autoscaling: scaling must be deregistered first and registered again after
   * (https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-scaling.html). The scaling target
   * reads its resource id through this parameter, so Pulumi deletes the target and its policies
   * before the parameter, and so before the endpoint (which waits for the parameter) is updated;
   * the target is registered again after the update. A change that keeps the instance type (a new
   * model or image) leaves scaling registered, which SageMaker allows.
   */
  private createInstanceTypeMarker(ctx: EndpointContext): aws.ssm.Parameter {
    return new aws.ssm.Parameter(
      `${ctx.name}-instance-type`,
      {
        description: `Instance type of SageMaker endpoint ${ctx.endpointName}; replaced to re-register its autoscaling around an instance type change`,
        type: "String",
        // Standard parameters cost nothing (https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html).
        tier: "Standard",
        insecureValue: ctx.args.instanceType as string,
        tags: ctx.tags,
      },
      { parent: this, ...INSTANCE_TYPE_MARKER_OPTIONS },
    );
  }

  /**
   * The endpoint, with deployment guardrails that roll back on its alarms. Its name is fixed
   * (alarms and the role are scoped to it), so a replacement deletes the old one first.
   */
  private createEndpoint(
    ctx: EndpointContext,
    config: aws.sagemaker.EndpointConfiguration,
    rollbackAlarms: pulumi.Output<string>[],
    instanceTypeMarker: aws.ssm.Parameter | undefined,
  ): aws.sagemaker.Endpoint {
    return new aws.sagemaker.Endpoint(
      `${ctx.name}-endpoint`,
      {
        name: ctx.endpointName,
        endpointConfigName: config.name,
        deploymentConfig: deploymentConfig(ctx.args, ctx.mode, rollbackAlarms),
        tags: ctx.tags,
      },
      {
        parent: this,
        deleteBeforeReplace: true,
        dependsOn: instanceTypeMarker ? [instanceTypeMarker] : [],
      },
    );
  }

  /**
   * Autoscaling, only what applies to the mode: the scalable target (instances, or serverless
   * provisioned concurrency), its target-tracking policies, and for async endpoints a step policy
   * with its alarm that starts the first instance when requests wait and none runs.
   */
  private createScaling(
    ctx: EndpointContext,
    endpoint: aws.sagemaker.Endpoint,
    instanceTypeMarker: aws.ssm.Parameter | undefined,
  ): aws.appautoscaling.Target | undefined {
    const { name, args, mode, endpointName, counts, tags } = ctx;
    const policies = targetTrackingPolicies(endpointName, mode, scalingOptions(args));
    if (policies.length === 0) return undefined;
    const serverless = mode === "serverless";
    const target = new aws.appautoscaling.Target(
      `${name}-scaling`,
      {
        serviceNamespace: "sagemaker",
        // Read through the instance type parameter: replaced with it (see createInstanceTypeMarker).
        resourceId: instanceTypeMarker
          ? instanceTypeMarker.insecureValue.apply(() => scalingResourceId(endpointName))
          : scalingResourceId(endpointName),
        scalableDimension: serverless
          ? "sagemaker:variant:DesiredProvisionedConcurrency"
          : "sagemaker:variant:DesiredInstanceCount",
        minCapacity: serverless ? (args.serverlessProvisionedConcurrency as number) : counts.min,
        maxCapacity: serverless ? (args.serverlessMaxConcurrency ?? 10) : counts.max,
        tags,
      },
      { parent: this, dependsOn: [endpoint] },
    );
    // Target tracking cannot leave zero instances; for async a step policy starts the first one.
    scalingPolicies(
      name,
      target,
      policies,
      mode === "async"
        ? {
            alarm: backlogWithoutCapacityAlarm(endpointName),
            cooldown: args.scaleOutCooldownSeconds ?? 60,
            metricAggregationType: "Average",
          }
        : undefined,
      tags,
      this,
    );
    return target;
  }
}

/**
 * The model's container: the serving image, its environment (the catalog LMI image configured to
 * what the fit check sized the instance for, the vLLM Neuron image to the shapes the deploy
 * compiled the Neuron model for, Triton's default model and handler; the endpoint's own
 * `environment` wins) and the model data in the model store.
 */
export function modelContainer(
  args: Pick<
    SageMakerEndpointArgs,
    | "image"
    | "imageUri"
    | "imageFlavour"
    | "instanceType"
    | "modelRequirements"
    | "tritonModelName"
    | "environment"
    | "modelDataPrefix"
    | "modelDataTarball"
  >,
  imageUri: pulumi.Input<string>,
  bucketName: pulumi.Input<string>,
): aws.types.input.sagemaker.ModelPrimaryContainer {
  const lmi = catalogImage(args) === "lmi";
  const neuron =
    catalogImage(args) === "vllm-neuron" && args.modelRequirements
      ? neuronLayout(args.modelRequirements, args.instanceType ?? "")
      : undefined;
  const environment = pulumi.output(args.environment ?? {}).apply((env) => ({
    ...(lmi ? lmiEnvironment(args.modelRequirements) : {}),
    ...(neuron?.ok ? vllmNeuronEnvironment(neuron.shape) : {}),
    ...(args.tritonModelName ? { SAGEMAKER_TRITON_DEFAULT_MODEL_NAME: args.tritonModelName } : {}),
    ...tritonInferenceEnvironment(args.imageFlavour),
    ...env,
  }));
  return {
    image: imageUri,
    mode: "SingleModel",
    environment,
    ...(args.modelDataPrefix !== undefined
      ? {
          modelDataSource: {
            s3DataSources: [
              {
                s3Uri: pulumi.interpolate`s3://${bucketName}/${modelDataPrefix(args.modelDataPrefix)}/`,
                s3DataType: "S3Prefix",
                compressionType: "None",
              },
            ],
          },
        }
      : { modelDataUrl: pulumi.interpolate`s3://${bucketName}/${args.modelDataTarball}` }),
  };
}

/** Async endpoints' notification topics. */
interface AsyncTopics {
  success: aws.sns.Topic;
  error: aws.sns.Topic;
}

/** What every step of an endpoint reads: its settings, and the values its resources share. */
interface EndpointContext extends EndpointSettings {
  name: string;
  args: SageMakerEndpointArgs;
  tags: Tags | undefined;
  child: pulumi.CustomResourceOptions;
  accountId: pulumi.Output<string>;
  imageUri: pulumi.Output<string>;
  bucketArn: pulumi.Output<string>;
  bucketName: pulumi.Output<string>;
}

/**
 * How Triton's SageMaker front end serves `/invocations` for an image flavour. The LLM backends
 * answer through a decoupled transaction policy (vllm_backend `src/model.py` asserts "vLLM Triton
 * backend must be configured to use decoupled model transaction policy"; the TensorRT-LLM
 * scaffold of `npm run model -- init` is decoupled too), and Triton's default `infer` handler
 * refuses such models ("HTTP end point doesn't support models with decoupled transaction
 * policy"); SAGEMAKER_TRITON_INFERENCE_TYPE `generate` serves them through the generate handler,
 * `{"text_input": ..., "parameters": {...}}` in, `{"text_output": ...}` out
 * (triton-inference-server/server@e1db8a6 `src/sagemaker_server.cc` Handle and HandleInfer,
 * `src/sagemaker_server.h`, default `infer`; since 25.03, server#8047). The endpoint's own
 * `environment` still wins.
 */
/**
 * The request body the endpoint's `/invocations` takes: Triton's generate extension for the LLM
 * flavours it serves through the generate handler (tritonInferenceEnvironment), an OpenAI
 * completion for the vLLM Neuron image (vLLM's OpenAI server, which `optimum-cli neuron serve`
 * runs), the `{"inputs", "parameters"}` body of the LMI, TGI and vLLM containers otherwise.
 */
export function requestFormatOf(
  endpoint: Pick<SageMakerEndpointArgs, "image" | "imageFlavour"> & { imageUri?: unknown },
): RequestFormat {
  if (catalogImage(endpoint) === "vllm-neuron") return "openai-completion";
  return Object.keys(tritonInferenceEnvironment(endpoint.imageFlavour)).length > 0
    ? "triton-generate"
    : "inputs";
}

export function tritonInferenceEnvironment(
  flavour: SageMakerEndpointArgs["imageFlavour"],
): Record<string, string> {
  return flavour === "vllm" || flavour === "trtllm"
    ? { SAGEMAKER_TRITON_INFERENCE_TYPE: "generate" }
    : {};
}
