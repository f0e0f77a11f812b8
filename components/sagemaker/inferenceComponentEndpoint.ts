/**
 * A real-time SageMaker endpoint that hosts several models as inference components, on instance
 * pools that managed instance scaling grows and shrinks, down to zero instances.
 *
 * Why two providers: @pulumi/aws 7.48.0 has no inference component resource and no instance
 * pools on a production variant, so the endpoint configuration and the inference components are
 * @pulumi/aws-native resources (CloudFormation's AWS::SageMaker::EndpointConfig and
 * AWS::SageMaker::InferenceComponent, through Cloud Control). The models, the endpoint, the role,
 * the alarms and the autoscaling stay on @pulumi/aws, as on a single-model endpoint.
 */
import * as aws from "@pulumi/aws";
import * as sagemaker from "@pulumi/aws-native/sagemaker";
import * as pulumi from "@pulumi/pulumi";
import { findInstance } from "../../catalog/instances";
import { servingImageUri } from "../../catalog/images";
import { MODEL_MEMORY_TAG, estimateMemory } from "../../catalog/modelFit";
import { DEFAULT_UTILIZATION } from "../../catalog/cost";
import { MODEL_CLASS_TAG, UTILIZATION_TAG, modelClassOf } from "../../catalog/tokenCost";
import {
  defaultContainerStartupSeconds,
  defaultDownloadSeconds,
  startupEstimate,
} from "../../catalog/startup";
import { AlarmTopic } from "../monitoring/alarmTopic";
import { metricAlarm } from "../monitoring/metricAlarm";
import { Tags } from "../tags";
import { partitionOf } from "../trust";
import { throwIfInvalid } from "../validation";
import { EndpointMode, endpointRegion } from "./endpointArgs";
import {
  InferenceComponentEndpointArgs,
  ModelComponentArgs,
  copyBounds,
  copyShape,
  instanceBounds,
  instancePools,
  overridesModel,
  validateInferenceComponentEndpointArgs,
} from "./componentEndpointArgs";
import { defaultEndpointName, modelDataPrefix, sageMakerName } from "./endpointSettings";
import { ModelData } from "./policies";
import {
  AlarmSpec,
  VARIANT_NAME,
  componentAlarms,
  componentScalingResourceId,
  componentTargetTracking,
  noCapacityAlarm,
} from "./monitoring";
import { modelContainer } from "./sageMakerEndpoint";
import { EndpointVpcConfig, endpointSecurityGroup } from "./endpointNetwork";
import { executionRole } from "./endpointRole";
import { scalingPolicies } from "./endpointScaling";

/**
 * An endpoint of one model that becomes an endpoint of components keeps its resources' identity:
 * the component aliases the single-model component's type ("The previous type of the resource",
 * @pulumi/pulumi Alias.type), so its children (the endpoint `<name>-endpoint`, the role, the
 * security group) are updated or replaced in place. Without it Pulumi would create the new
 * endpoint before deleting the old one, and SageMaker refuses a second endpoint of the same name.
 */
export const PREVIOUS_TYPES: pulumi.Alias[] = [{ type: "llm-infra:index:SageMakerEndpoint" }];

/** The name of an inference component: `<endpoint>-<component>`, at most 63 characters. */
export function inferenceComponentName(endpointName: string, component: string): string {
  return sageMakerName(endpointName, component);
}

/** aws-native takes tags as a list of key/value pairs. */
export function nativeTags(tags: Tags | undefined): { key: string; value: string }[] {
  return Object.entries(tags ?? {}).map(([key, value]) => ({ key, value: String(value) }));
}

/** What one component created: its inference component and scaling. */
export interface ServedComponent {
  /** The component's name in the stack file. */
  name: string;
  /** The inference component's name, what a client passes as InferenceComponentName. */
  inferenceComponentName: string;
  /** Its scalable target (copy count). */
  scalingTarget: aws.appautoscaling.Target;
}

/**
 * A real-time SageMaker endpoint hosting several models as inference components: one execution
 * role, a model per component, the endpoint configuration (instance pools, managed instance
 * scaling down to zero instances), the endpoint, and per component its inference component,
 * alarms and copy-count autoscaling with the scale-out from zero copies.
 */
export class InferenceComponentEndpoint extends pulumi.ComponentResource {
  /** Always `realtime`: inference components serve real-time endpoints only. */
  public readonly mode: EndpointMode = "realtime";
  /** The endpoint's name (`<project>-<stack>-<name>` unless given). */
  public readonly endpointName: string;
  /** The endpoint's ARN. */
  public readonly endpointArn: pulumi.Output<string>;
  /** The execution role of the endpoint configuration and its models. */
  public readonly roleArn: pulumi.Output<string>;
  /** The SNS topic the alarms notify. */
  public readonly alarmTopicArn: pulumi.Output<string>;
  /** The components, in the order given. */
  public readonly components: ServedComponent[];

  constructor(
    name: string,
    args: InferenceComponentEndpointArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    // Validate before anything is registered: bad input fails at preview, naming the field.
    throwIfInvalid(
      "InferenceComponentEndpoint",
      name,
      validateInferenceComponentEndpointArgs(args),
    );
    super(
      "llm-infra:index:InferenceComponentEndpoint",
      name,
      {},
      {
        ...opts,
        aliases: [...(opts?.aliases ?? []), ...PREVIOUS_TYPES],
      },
    );
    const ctx = this.context(name, args);
    this.endpointName = ctx.endpointName;

    this.alarmTopicArn = this.createAlarmTopic(ctx);
    const { role, rolePolicy } = this.createExecutionRole(ctx);
    const vpcConfig = args.subnetIds !== undefined ? this.createNetworking(ctx) : undefined;
    const models = this.createModels(ctx, role, rolePolicy, vpcConfig);
    const config = this.createEndpointConfiguration(ctx, role, rolePolicy, vpcConfig);
    const endpoint = new aws.sagemaker.Endpoint(
      `${name}-endpoint`,
      {
        name: ctx.endpointName,
        endpointConfigName: config.endpointConfigName.apply((n) => n ?? ""),
        tags: args.tags,
      },
      { parent: this, deleteBeforeReplace: true },
    );
    this.endpointArn = endpoint.arn;
    this.roleArn = role.arn;
    this.components = args.components.map((c, i) =>
      this.createComponent(name, args, c, models[i], endpoint, args.tags),
    );
    this.registerOutputs({
      endpointName: ctx.endpointName,
      endpointArn: this.endpointArn,
      roleArn: this.roleArn,
      alarmTopicArn: this.alarmTopicArn,
      components: this.components.map((c) => c.inferenceComponentName),
    });
  }

  /** The values the endpoint's resources share: names, region, bucket, account, images. */
  private context(name: string, args: InferenceComponentEndpointArgs): Context {
    const region = endpointRegion(args) as string;
    const bucketArn = pulumi.output(args.modelBucketArn);
    return {
      name,
      args,
      region,
      partition: partitionOf(region),
      endpointName:
        args.endpointName ?? defaultEndpointName(pulumi.getProject(), pulumi.getStack(), name),
      child: { parent: this },
      bucketArn,
      bucketName: bucketArn.apply((arn) => arn.replace(/^arn:[^:]+:s3:::/, "")),
      accountId: aws.getCallerIdentityOutput({}, { parent: this }).accountId,
      images: args.components.map((c) =>
        pulumi.output(
          c.imageUri ?? servingImageUri(c.image ?? "triton", region, c.imageVersion).uri,
        ),
      ),
    };
  }

  /** Where alarms notify: the caller's topic, or one of the endpoint's own. */
  private createAlarmTopic(ctx: Context): pulumi.Output<string> {
    const { name, args, region, child } = ctx;
    return args.alarmTopicArn !== undefined
      ? pulumi.output(args.alarmTopicArn)
      : new AlarmTopic(`${name}-alarms`, { region, tags: args.tags }, child).topicArn;
  }

  /**
   * One execution role for the configuration (AWS's examples of inference components always set
   * one on it) and the models: each component's data and image, these logs, nothing else.
   */
  private createExecutionRole(ctx: Context): {
    role: aws.iam.Role;
    rolePolicy: aws.iam.RolePolicy;
  } {
    const { name, args, region, partition, endpointName, accountId } = ctx;
    // Each component's data, and the data of the models a pool gives it instead.
    const modelData: ModelData[] = args.components.flatMap((c) => [
      c.modelDataPrefix !== undefined
        ? { prefix: modelDataPrefix(c.modelDataPrefix) }
        : { tarballKey: c.modelDataTarball as string },
      ...instancePools(args).flatMap((p) => {
        const o = p.overrides?.[c.name];
        return overridesModel(o) ? [{ prefix: modelDataPrefix(o!.modelDataPrefix!) }] : [];
      }),
    ]);
    const { role, rolePolicy } = executionRole(
      name,
      {
        partition,
        region,
        endpointName,
        description: `Execution role of SageMaker endpoint ${endpointName} and its inference components`,
        accountId,
        bucketArn: ctx.bucketArn,
        imageUris: ctx.images,
        modelData,
        decryptKeys: args.modelKmsKeyArn ? [args.modelKmsKeyArn] : [],
        encryptKeys: [],
        vpcId: args.vpcId,
        tags: args.tags,
      },
      this,
    );
    return { role, rolePolicy };
  }

  /** In a VPC: a security group with no inbound and HTTPS outbound only. */
  private createNetworking(ctx: Context): VpcConfig {
    const { name, args, endpointName, child } = ctx;
    return endpointSecurityGroup(
      name,
      {
        vpcId: args.vpcId as pulumi.Input<string>,
        subnetIds: args.subnetIds as pulumi.Input<pulumi.Input<string>[]>,
        endpointName,
        tags: args.tags,
      },
      child,
    );
  }

  /**
   * One SageMaker model per component (its image, environment and data, with the role), and one
   * more for each pool that gives it a model of its own: for each component, the model each pool
   * type runs.
   */
  private createModels(
    ctx: Context,
    role: aws.iam.Role,
    rolePolicy: aws.iam.RolePolicy,
    vpcConfig: VpcConfig | undefined,
  ): aws.sagemaker.Model[][] {
    const { name, args } = ctx;
    const pools = instancePools(args);
    const model = (logical: string, c: ModelComponentArgs, i: number, instanceType: string) =>
      new aws.sagemaker.Model(
        logical,
        {
          executionRoleArn: role.arn,
          enableNetworkIsolation: args.networkIsolation ?? true,
          vpcConfig,
          primaryContainer: modelContainer({ ...c, instanceType }, ctx.images[i], ctx.bucketName),
          tags: args.tags,
        },
        { parent: this, dependsOn: [rolePolicy] },
      );
    return args.components.map((c, i) => {
      const base = model(`${name}-${c.name}-model`, c, i, pools[0].instanceType);
      return pools.map((p) => {
        const o = p.overrides?.[c.name];
        if (!overridesModel(o)) return base;
        const own = {
          ...c,
          modelDataPrefix: o!.modelDataPrefix,
          modelDataTarball: undefined,
          modelRequirements: o!.modelRequirements ?? c.modelRequirements,
        };
        const type = p.instanceType.replace(/^ml\./, "").replace(/\./g, "-");
        return model(`${name}-${c.name}-${type}-model`, own, i, p.instanceType);
      });
    });
  }

  /**
   * The configuration: the pools in order ("you replace the InstanceType parameter in your
   * production variant with an InstancePools list", https://docs.aws.amazon.com/sagemaker/latest/dg/realtime-endpoints-heterogeneous.html),
   * managed instance scaling from minInstances to maxInstances, least-outstanding-requests
   * routing, the execution role, and no model on the variant: the components bring theirs.
   */
  private createEndpointConfiguration(
    ctx: Context,
    role: aws.iam.Role,
    rolePolicy: aws.iam.RolePolicy,
    vpcConfig: VpcConfig | undefined,
  ): sagemaker.EndpointConfig {
    const { name, args } = ctx;
    const pools = instancePools(args);
    const instances = instanceBounds(args);
    const needs = args.components.flatMap((c) =>
      c.modelRequirements ? [estimateMemory(c.modelRequirements).requiredGib] : [],
    );
    const ebsOnly = pools.every((p) => (findInstance(p.instanceType)?.nvmeGb ?? 0) === 0);
    return new sagemaker.EndpointConfig(
      `${name}-config`,
      {
        executionRoleArn: role.arn,
        enableNetworkIsolation: args.networkIsolation ?? true,
        vpcConfig,
        kmsKeyId: ebsOnly ? args.kmsKeyArn : undefined,
        productionVariants: [
          {
            variantName: VARIANT_NAME,
            ...(pools.length === 1
              ? { instanceType: pools[0].instanceType }
              : {
                  instancePools: pools.map((p, i) => ({
                    instanceType: p.instanceType,
                    priority: i + 1,
                  })),
                }),
            // "InitialInstanceCount ... Minimum value of 1" (ProductionVariant): an endpoint
            // starts with an instance and scales in to minInstances after.
            initialInstanceCount: Math.max(1, instances.min),
            managedInstanceScaling: {
              status: "ENABLED",
              minInstanceCount: instances.min,
              maxInstanceCount: instances.max,
            },
            routingConfig: { routingStrategy: "LEAST_OUTSTANDING_REQUESTS" },
            ...(args.inferenceAmiVersion !== undefined
              ? { inferenceAmiVersion: args.inferenceAmiVersion }
              : {}),
            volumeSizeInGb: args.volumeSizeGb,
          },
        ],
        tags: nativeTags({
          ...(args.tags ?? {}),
          // The largest component's memory need, which every pool type's accelerators must hold
          // (the policy pack's model-fits-accelerator).
          ...(needs.length > 0 ? { [MODEL_MEMORY_TAG]: Math.max(...needs).toFixed(1) } : {}),
          [UTILIZATION_TAG]: String(args.utilization ?? DEFAULT_UTILIZATION),
        }),
      },
      { parent: this, dependsOn: [rolePolicy] },
    );
  }

  /**
   * One model as an inference component: what a copy takes on each pool type, its startup
   * timeouts, the copies it starts with, rolling updates that roll back on its alarms, its
   * alarms and its copy-count autoscaling (with the scale-out from zero when it may rest at 0).
   */
  private createComponent(
    name: string,
    args: InferenceComponentEndpointArgs,
    c: ModelComponentArgs,
    models: aws.sagemaker.Model[],
    endpoint: aws.sagemaker.Endpoint,
    tags: Tags | undefined,
  ): ServedComponent {
    const endpointName = this.endpointName;
    const icName = inferenceComponentName(endpointName, c.name);
    const pools = instancePools(args);
    const copies = copyBounds(c, args);
    const shapes = pools.map((p, i) => copyShape(c, p, i === 0)!);
    // A type without accelerators takes none ("minimum 1" when given).
    const requirements = (i: number) => ({
      ...(shapes[i].accelerators > 0
        ? { numberOfAcceleratorDevicesRequired: shapes[i].accelerators }
        : {}),
      minMemoryRequiredInMb: shapes[i].memoryMb,
    });
    const estimate = c.modelRequirements
      ? startupEstimate(c.modelRequirements, pools[0].instanceType)
      : undefined;
    const childName = `${name}-${c.name}`;
    const child = { parent: this };

    const alarms = componentAlarms(endpointName, icName, {
      latencyP90Ms: args.latencyP90Ms ?? 10_000,
      latencyP99Ms: args.latencyP99Ms ?? 30_000,
      errors5xxPerMinute: args.errors5xxPerMinute ?? 5,
    }).map((spec) => ({ spec, alarm: this.alarm(childName, spec, tags) }));
    const rollback = alarms.filter((a) => a.spec.rollback).map((a) => a.alarm.name);
    const batch = {
      type: sagemaker.InferenceComponentCapacitySizeType.CapacityPercent,
      value: args.rollingBatchPercent ?? 25,
    };
    const specification = (i: number) => ({
      modelName: models[i].name,
      startupParameters: {
        modelDataDownloadTimeoutInSeconds:
          args.modelDataDownloadTimeoutSeconds ?? defaultDownloadSeconds(estimate),
        containerStartupHealthCheckTimeoutInSeconds:
          args.containerStartupTimeoutSeconds ?? defaultContainerStartupSeconds(estimate),
      },
    });

    const component = new sagemaker.InferenceComponent(
      childName,
      {
        inferenceComponentName: icName,
        endpointName: endpoint.name,
        variantName: VARIANT_NAME,
        // One instance type: one specification. Instance pools: one per type, each with what a
        // copy takes there ("Specify exactly one of Specification or Specifications",
        // @pulumi/aws-native 1.79.0 InferenceComponentSpecificationArgs).
        ...(pools.length === 1
          ? {
              specification: { ...specification(0), computeResourceRequirements: requirements(0) },
            }
          : {
              // Each type's model: the component's, or the one its pool gives it.
              specifications: pools.map((p, i) => ({
                ...specification(i),
                instanceType: p.instanceType,
                computeResourceRequirements: requirements(i),
              })),
            }),
        // An inference component starts with at least one copy; autoscaling takes it to
        // minCopies (0 included) after.
        runtimeConfig: { copyCount: Math.max(1, copies.min) },
        deploymentConfig: {
          rollingUpdatePolicy: {
            maximumBatchSize: batch,
            rollbackMaximumBatchSize: batch,
            waitIntervalInSeconds: args.deploymentBakeSeconds ?? 600,
            // MaximumExecutionTimeoutInSeconds: 600 to 28800 (SageMaker API Reference).
            maximumExecutionTimeoutInSeconds: 28800,
          },
          autoRollbackConfiguration: { alarms: rollback.map((alarmName) => ({ alarmName })) },
        },
        tags: nativeTags({
          ...(tags ?? {}),
          ...(c.modelRequirements
            ? {
                [MODEL_MEMORY_TAG]: estimateMemory(c.modelRequirements).requiredGib.toFixed(1),
                // What the cost per token is computed from (catalog/tokenCost.ts).
                [MODEL_CLASS_TAG]: modelClassOf(c.modelRequirements),
              }
            : {}),
        }),
      },
      { parent: this, dependsOn: [endpoint] },
    );

    const target = new aws.appautoscaling.Target(
      `${childName}-scaling`,
      {
        serviceNamespace: "sagemaker",
        resourceId: component.inferenceComponentName.apply(() =>
          componentScalingResourceId(icName),
        ),
        scalableDimension: "sagemaker:inference-component:DesiredCopyCount",
        minCapacity: copies.min,
        maxCapacity: copies.max,
        tags,
      },
      child,
    );
    // Target tracking does not start the first copy: a request with no copy to take it fails
    // with NoCapacityInvocationFailures, whose alarm adds one.
    scalingPolicies(
      childName,
      target,
      componentTargetTracking({
        targetInvocationsPerCopy: c.targetInvocationsPerCopy ?? 70,
        highResolutionScaling: c.highResolutionScaling ?? false,
        targetConcurrentRequestsPerCopy: c.targetConcurrentRequestsPerCopy ?? 4,
        scaleInCooldownSeconds: c.scaleInCooldownSeconds ?? 300,
        scaleOutCooldownSeconds: c.scaleOutCooldownSeconds ?? 60,
      }),
      copies.min === 0
        ? {
            alarm: noCapacityAlarm(icName),
            cooldown: c.scaleOutCooldownSeconds ?? 60,
            metricAggregationType: "Maximum",
          }
        : undefined,
      tags,
      this,
    );
    return { name: c.name, inferenceComponentName: icName, scalingTarget: target };
  }

  /** One alarm of a component to the alarm topic. */
  private alarm(childName: string, spec: AlarmSpec, tags: Tags | undefined) {
    return metricAlarm(
      `${childName}-${spec.role}`,
      spec,
      { actions: [this.alarmTopicArn], okActions: [this.alarmTopicArn], tags },
      { parent: this },
    );
  }
}

type VpcConfig = EndpointVpcConfig;

/** What every step of the endpoint reads. */
interface Context {
  name: string;
  args: InferenceComponentEndpointArgs;
  region: string;
  partition: string;
  endpointName: string;
  child: pulumi.CustomResourceOptions;
  bucketArn: pulumi.Output<string>;
  bucketName: pulumi.Output<string>;
  accountId: pulumi.Output<string>;
  images: pulumi.Output<string>[];
}
