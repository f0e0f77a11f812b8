import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import { getInstance } from "../../catalog/instances";
import { servingImageUri } from "../../catalog/images";
import { MODEL_MEMORY_TAG, estimateMemory } from "../../catalog/modelFit";
import { AlarmTopic } from "../monitoring/alarmTopic";
import { metricAlarm } from "../monitoring/metricAlarm";
import { throwIfInvalid } from "../validation";
import {
  EndpointMode,
  SageMakerEndpointArgs,
  ecrRepositoryArn,
  endpointRegion,
  instanceCounts,
  validateSageMakerEndpointArgs,
} from "./endpointArgs";
import {
  AlarmSpec,
  VARIANT_NAME,
  backlogWithoutCapacityAlarm,
  defaultAlarmThresholds,
  endpointAlarms,
  scalingResourceId,
  targetTrackingPolicies,
} from "./monitoring";
import { endpointExecutionPolicy, tlsOnlyTopicPolicy } from "./policies";
import { partitionOf, serviceRole } from "../trust";
import {
  CONFIG_FINGERPRINT_TAG,
  configFingerprint,
  deployInstanceCount,
  liveVariantSource,
} from "./liveCapacity";

/** `<project>-<stack>-<name>` as a SageMaker endpoint name: at most 63 letters, digits and hyphens. */
export function defaultEndpointName(project: string, stack: string, name: string): string {
  const clean = `${project}-${stack}-${name}`
    .replace(/[^a-zA-Z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  if (clean.length <= 63) return clean;
  const hash = createHash("sha256").update(clean).digest("hex").slice(0, 8);
  return `${clean.slice(0, 54).replace(/-+$/, "")}-${hash}`;
}

/** The blue/green or rolling deployment configuration, with rollback on the given alarms. */
export function deploymentConfig(
  args: SageMakerEndpointArgs,
  mode: EndpointMode,
  rollbackAlarmNames: pulumi.Input<string>[],
): aws.types.input.sagemaker.EndpointDeploymentConfig {
  const strategy = args.deploymentStrategy ?? "allAtOnce";
  const bake = args.deploymentBakeSeconds ?? 600;
  const autoRollbackConfiguration = {
    alarms: rollbackAlarmNames.map((alarmName) => ({ alarmName })),
  };
  if (strategy === "rolling") {
    const batch = { type: "CAPACITY_PERCENT", value: args.rollingBatchPercent ?? 25 };
    return {
      rollingUpdatePolicy: {
        maximumBatchSize: batch,
        rollbackMaximumBatchSize: batch,
        waitIntervalInSeconds: bake,
        maximumExecutionTimeoutInSeconds: 28800,
      },
      autoRollbackConfiguration,
    };
  }
  const trafficRoutingConfiguration: aws.types.input.sagemaker.EndpointDeploymentConfigBlueGreenUpdatePolicyTrafficRoutingConfiguration =
    strategy === "canary"
      ? {
          type: "CANARY",
          waitIntervalInSeconds: bake,
          canarySize: { type: "CAPACITY_PERCENT", value: args.canaryPercent ?? 10 },
        }
      : strategy === "linear"
        ? {
            type: "LINEAR",
            waitIntervalInSeconds: bake,
            linearStepSize: { type: "CAPACITY_PERCENT", value: args.linearStepPercent ?? 25 },
          }
        : { type: "ALL_AT_ONCE", waitIntervalInSeconds: mode === "serverless" ? 0 : bake };
  return {
    blueGreenUpdatePolicy: {
      trafficRoutingConfiguration,
      terminationWaitInSeconds: mode === "serverless" ? 0 : bake,
      maximumExecutionTimeoutInSeconds: 28800,
    },
    autoRollbackConfiguration,
  };
}

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

  constructor(name: string, args: SageMakerEndpointArgs, opts?: pulumi.ComponentResourceOptions) {
    // Validate before anything is registered: bad input fails at preview, naming the field.
    throwIfInvalid("SageMakerEndpoint", name, validateSageMakerEndpointArgs(args));
    super("llm-infra:index:SageMakerEndpoint", name, {}, opts);

    const mode = args.mode ?? "realtime";
    const region = endpointRegion(args) as string;
    const partition = partitionOf(region);
    const endpointName =
      args.endpointName ?? defaultEndpointName(pulumi.getProject(), pulumi.getStack(), name);
    const instance = args.instanceType ? getInstance(args.instanceType) : undefined;
    const accountId = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
    const child = { parent: this };
    const tags = args.tags;
    this.mode = mode;
    this.endpointName = endpointName;

    const imageUri = pulumi.output(
      args.imageUri ?? servingImageUri(args.image ?? "triton", region, args.imageVersion).uri,
    );
    const bucketArn = pulumi.output(args.modelBucketArn);
    const bucketName = bucketArn.apply((arn) => arn.replace(/^arn:[^:]+:s3:::/, ""));
    const asyncPrefix = `async-inference/${endpointName}`;
    const capturePrefix =
      args.dataCapturePercent !== undefined ? `data-capture/${endpointName}` : undefined;

    // Alarm notifications: the caller's topic, or one of the endpoint's own (an AlarmTopic).
    this.alarmTopicArn =
      args.alarmTopicArn !== undefined
        ? pulumi.output(args.alarmTopicArn)
        : new AlarmTopic(`${name}-alarms`, { region, tags }, child).topicArn;

    // Async result notifications, encrypted and TLS-only.
    let asyncTopics: { success: aws.sns.Topic; error: aws.sns.Topic } | undefined;
    if (mode === "async") {
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
      asyncTopics = { success: topic("success"), error: topic("error") };
    }

    // The execution role: only this model's data, this image, these logs and outputs.
    const decryptKeys = [args.modelKmsKeyArn].filter(
      (k): k is pulumi.Input<string> => k !== undefined,
    );
    const encryptKeys = [args.kmsKeyArn ?? args.modelKmsKeyArn].filter(
      (k): k is pulumi.Input<string> => k !== undefined,
    );
    const role = serviceRole(
      `${name}-role`,
      "sagemaker.amazonaws.com",
      `Execution role of SageMaker endpoint ${endpointName}`,
      tags,
      this,
    );
    const vpcArn =
      args.vpcId === undefined
        ? undefined
        : pulumi
            .all([accountId, args.vpcId])
            .apply(([id, vpc]) => `arn:${partition}:ec2:${region}:${id}:vpc/${vpc}`);
    const rolePolicy = new aws.iam.RolePolicy(
      `${name}-role`,
      {
        role: role.id,
        policy: pulumi
          .all([
            accountId,
            bucketArn,
            imageUri,
            pulumi.all(decryptKeys),
            pulumi.all(encryptKeys),
            vpcArn,
            asyncTopics?.success.arn,
            asyncTopics?.error.arn,
          ])
          .apply(([id, bucket, image, decrypt, encrypt, vpc, success, error]) =>
            JSON.stringify(
              endpointExecutionPolicy({
                partition,
                region,
                accountId: id,
                endpointName,
                bucketArn: bucket,
                modelData:
                  args.modelDataPrefix !== undefined
                    ? { prefix: args.modelDataPrefix.replace(/\/+$/, "") }
                    : { tarballKey: args.modelDataTarball as string },
                decryptKeyArns: decrypt,
                imageRepositoryArn:
                  ecrRepositoryArn(image) ??
                  `arn:${partition}:ecr:${region}:${id}:repository/unknown`,
                vpcArn: vpc,
                async:
                  success && error
                    ? { prefix: asyncPrefix, topicArns: [success, error] }
                    : undefined,
                dataCapturePrefix: capturePrefix,
                encryptKeyArns: encrypt,
              }),
            ),
          ),
      },
      child,
    );

    // Networking: the model containers in private subnets, talking HTTPS out only.
    let vpcConfig: aws.types.input.sagemaker.ModelVpcConfig | undefined;
    if (args.subnetIds !== undefined) {
      const sg = new aws.ec2.SecurityGroup(
        `${name}-sg`,
        {
          vpcId: args.vpcId as pulumi.Input<string>,
          description: `SageMaker endpoint ${endpointName}: no inbound, HTTPS outbound`,
          egress: [
            {
              protocol: "tcp",
              fromPort: 443,
              toPort: 443,
              cidrBlocks: ["0.0.0.0/0"],
              description: "HTTPS to AWS APIs and S3",
            },
          ],
          tags,
        },
        child,
      );
      vpcConfig = { subnets: args.subnetIds, securityGroupIds: [sg.id] };
    }

    const environment = pulumi.output(args.environment ?? {}).apply((env) => ({
      ...(args.tritonModelName
        ? { SAGEMAKER_TRITON_DEFAULT_MODEL_NAME: args.tritonModelName }
        : {}),
      ...env,
    }));
    const modelArgs: aws.sagemaker.ModelArgs = {
      executionRoleArn: role.arn,
      enableNetworkIsolation: args.networkIsolation ?? mode !== "serverless",
      vpcConfig,
      primaryContainer: {
        image: imageUri,
        mode: "SingleModel",
        environment,
        ...(args.modelDataPrefix !== undefined
          ? {
              modelDataSource: {
                s3DataSources: [
                  {
                    s3Uri: pulumi.interpolate`s3://${bucketName}/${args.modelDataPrefix.replace(/\/+$/, "")}/`,
                    s3DataType: "S3Prefix",
                    compressionType: "None",
                  },
                ],
              },
            }
          : { modelDataUrl: pulumi.interpolate`s3://${bucketName}/${args.modelDataTarball}` }),
      },
      tags,
    };
    const model = new aws.sagemaker.Model(`${name}-model`, modelArgs, {
      parent: this,
      dependsOn: [rolePolicy],
    });

    const counts = instanceCounts(args, mode);
    const variant: aws.types.input.sagemaker.EndpointConfigurationProductionVariant =
      mode === "serverless"
        ? {
            variantName: VARIANT_NAME,
            modelName: model.name,
            serverlessConfig: {
              memorySizeInMb: args.serverlessMemoryMb ?? 6144,
              maxConcurrency: args.serverlessMaxConcurrency ?? 10,
              provisionedConcurrency: args.serverlessProvisionedConcurrency,
            },
          }
        : {
            variantName: VARIANT_NAME,
            modelName: model.name,
            instanceType: args.instanceType,
            initialVariantWeight: 1,
            modelDataDownloadTimeoutInSeconds: args.modelDataDownloadTimeoutSeconds ?? 1800,
            containerStartupHealthCheckTimeoutInSeconds:
              args.containerStartupTimeoutSeconds ?? 1800,
            volumeSizeInGb: args.volumeSizeGb,
          };
    // SageMaker refuses a volume key for instance types with local NVMe (encrypted in hardware),
    // and serverless endpoints have no volume.
    const volumeKey =
      mode !== "serverless" && instance !== undefined && instance.nvmeGb === 0
        ? args.kmsKeyArn
        : undefined;
    const outputKey = args.kmsKeyArn ?? args.modelKmsKeyArn;
    const settings = {
      kmsKeyArn: volumeKey,
      asyncInferenceConfig: asyncTopics
        ? {
            clientConfig: {
              maxConcurrentInvocationsPerInstance:
                args.asyncMaxConcurrentInvocationsPerInstance ?? 4,
            },
            outputConfig: {
              s3OutputPath: pulumi.interpolate`s3://${bucketName}/${asyncPrefix}/output/`,
              s3FailurePath: pulumi.interpolate`s3://${bucketName}/${asyncPrefix}/failure/`,
              kmsKeyId: outputKey,
              notificationConfig: {
                successTopic: asyncTopics.success.arn,
                errorTopic: asyncTopics.error.arn,
              },
            },
          }
        : undefined,
      dataCaptureConfig: capturePrefix
        ? {
            enableCapture: true,
            initialSamplingPercentage: args.dataCapturePercent as number,
            destinationS3Uri: pulumi.interpolate`s3://${bucketName}/${capturePrefix}/`,
            kmsKeyId: outputKey,
            captureOptions: [{ captureMode: "Input" }, { captureMode: "Output" }],
            captureContentTypeHeader: { jsonContentTypes: ["application/json"] },
          }
        : undefined,
    };
    // A configuration change keeps serving capacity: the new fleet starts at what serves now
    // (see liveCapacity.ts for why the program, not the provider, does this). The fingerprint
    // covers the user's configured count too, so changing initialInstanceCount deploys.
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
    const config = new aws.sagemaker.EndpointConfiguration(
      `${name}-config`,
      {
        ...settings,
        productionVariants: [{ ...variant, initialInstanceCount }],
        // The model's memory need, for the policy pack's fit check; the configuration's
        // fingerprint, to tell a real change from autoscaling having moved.
        tags: pulumi.all([pulumi.output(tags ?? {}), fingerprint]).apply(([t, fp]) => ({
          ...t,
          ...(args.modelRequirements
            ? {
                [MODEL_MEMORY_TAG]: estimateMemory(args.modelRequirements).requiredGib.toFixed(1),
              }
            : {}),
          ...(fp !== undefined ? { [CONFIG_FINGERPRINT_TAG]: fp } : {}),
        })),
      },
      child,
    );

    // Alarms first: the endpoint's deployments roll back on them.
    const defaults = defaultAlarmThresholds(mode);
    const thresholds = {
      latencyP90Ms: args.latencyP90Ms ?? defaults.latencyP90Ms,
      latencyP99Ms: args.latencyP99Ms ?? defaults.latencyP99Ms,
      errors5xxPerMinute: args.errors5xxPerMinute ?? defaults.errors5xxPerMinute,
      gpuUtilizationPercent: args.gpuUtilizationPercent ?? defaults.gpuUtilizationPercent,
      asyncBacklogAgeSeconds: args.asyncBacklogAgeSeconds ?? defaults.asyncBacklogAgeSeconds,
    };
    const alarm = (
      spec: AlarmSpec,
      actions: pulumi.Input<string>[],
      okActions: pulumi.Input<string>[],
    ) => metricAlarm(`${name}-${spec.role}`, spec, { actions, okActions, tags }, child);
    const rollbackAlarms: pulumi.Output<string>[] = [];
    for (const spec of endpointAlarms(endpointName, mode, instance, thresholds)) {
      const a = alarm(spec, [this.alarmTopicArn], [this.alarmTopicArn]);
      if (spec.rollback) rollbackAlarms.push(a.name);
    }

    // SageMaker refuses an UpdateEndpoint that changes the instance type of a variant registered
    // for autoscaling: scaling must be deregistered first and registered again after
    // (https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-scaling.html). This parameter
    // holds the instance type and is replaced, delete first, when it changes; the scaling target
    // reads its resource id through it, so Pulumi deletes the target and its policies before the
    // parameter, and so before the endpoint (which waits for the parameter) is updated; the target
    // is registered again after the update. A change that keeps the instance type (a new model or
    // image) leaves scaling registered, which SageMaker allows.
    const instanceTypeMarker =
      mode === "serverless"
        ? undefined
        : new aws.ssm.Parameter(
            `${name}-instance-type`,
            {
              description: `Instance type of SageMaker endpoint ${endpointName}; replaced to re-register its autoscaling around an instance type change`,
              type: "String",
              // Standard parameters cost nothing (https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html).
              tier: "Standard",
              insecureValue: args.instanceType as string,
              tags,
            },
            { parent: this, ...INSTANCE_TYPE_MARKER_OPTIONS },
          );

    const endpoint = new aws.sagemaker.Endpoint(
      `${name}-endpoint`,
      {
        name: endpointName,
        endpointConfigName: config.name,
        deploymentConfig: deploymentConfig(args, mode, rollbackAlarms),
        tags,
      },
      // The name is fixed (alarms and the role are scoped to it): a replacement must go first.
      {
        parent: this,
        deleteBeforeReplace: true,
        dependsOn: instanceTypeMarker ? [instanceTypeMarker] : [],
      },
    );
    this.endpointArn = endpoint.arn;
    this.roleArn = role.arn;

    // Autoscaling: only what applies to the mode.
    const policies = targetTrackingPolicies(endpointName, mode, {
      targetInvocationsPerInstance: args.targetInvocationsPerInstance ?? 70,
      highResolutionScaling: args.highResolutionScaling ?? false,
      targetConcurrentRequestsPerModel: args.targetConcurrentRequestsPerModel ?? 4,
      targetBacklogPerInstance: args.targetBacklogPerInstance ?? 5,
      scaleInCooldownSeconds: args.scaleInCooldownSeconds ?? 300,
      scaleOutCooldownSeconds: args.scaleOutCooldownSeconds ?? 60,
      provisionedConcurrency: args.serverlessProvisionedConcurrency,
    });
    if (policies.length > 0) {
      const serverless = mode === "serverless";
      const target = new aws.appautoscaling.Target(
        `${name}-scaling`,
        {
          serviceNamespace: "sagemaker",
          // Read through the instance type parameter: replaced with it (see above).
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
      const scaling = {
        resourceId: target.resourceId,
        scalableDimension: target.scalableDimension,
        serviceNamespace: target.serviceNamespace,
      };
      for (const p of policies) {
        new aws.appautoscaling.Policy(
          `${name}-${p.role}`,
          {
            ...scaling,
            policyType: "TargetTrackingScaling",
            targetTrackingScalingPolicyConfiguration: {
              targetValue: p.targetValue,
              scaleInCooldown: p.scaleInCooldown,
              scaleOutCooldown: p.scaleOutCooldown,
              predefinedMetricSpecification: p.predefinedMetricType
                ? { predefinedMetricType: p.predefinedMetricType }
                : undefined,
              customizedMetricSpecification: p.customizedMetric,
            },
          },
          child,
        );
      }
      if (mode === "async") {
        // Target tracking cannot leave zero instances; a step policy starts the first one.
        const fromZero = new aws.appautoscaling.Policy(
          `${name}-scale-from-zero`,
          {
            ...scaling,
            policyType: "StepScaling",
            stepScalingPolicyConfiguration: {
              adjustmentType: "ChangeInCapacity",
              cooldown: args.scaleOutCooldownSeconds ?? 60,
              metricAggregationType: "Average",
              stepAdjustments: [{ metricIntervalLowerBound: "0", scalingAdjustment: 1 }],
            },
          },
          child,
        );
        alarm(backlogWithoutCapacityAlarm(endpointName), [fromZero.arn], []);
      }
    }

    if (mode === "async") {
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
}
