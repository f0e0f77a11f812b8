/**
 * The decisions behind a SageMaker endpoint, as pure functions of its arguments: its name, the
 * S3 prefixes it writes to, the production variant, the alarm thresholds, the autoscaling options
 * and the deployment guardrails. `SageMakerEndpoint` turns them into resources.
 */
import {
  defaultContainerStartupSeconds,
  defaultDownloadSeconds,
  startupEstimate,
} from "../../catalog/startup";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import { InstanceSpec, getInstance } from "../../catalog/instances";
import { partitionOf } from "../trust";
import {
  EndpointMode,
  SageMakerEndpointArgs,
  endpointRegion,
  instanceCounts,
} from "./endpointArgs";
import {
  AlarmThresholds,
  ScalingOptions,
  VARIANT_NAME,
  defaultAlarmThresholds,
} from "./monitoring";

/** `<project>-<stack>-<name>` as a SageMaker endpoint name: at most 63 letters, digits and hyphens. */
export function defaultEndpointName(project: string, stack: string, name: string): string {
  return sageMakerName(project, stack, name);
}

/**
 * Parts joined by hyphens as a SageMaker name (an endpoint's, an inference component's): at most
 * 63 letters, digits and hyphens; a longer one keeps its first 54 and adds `-` and 8 hex digits of
 * its SHA-256.
 */
export function sageMakerName(...parts: string[]): string {
  const clean = parts
    .join("-")
    .replace(/[^a-zA-Z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  if (clean.length <= 63) return clean;
  const hash = createHash("sha256").update(clean).digest("hex").slice(0, 8);
  return `${clean.slice(0, 54).replace(/-+$/, "")}-${hash}`;
}

/** What an endpoint is, decided from its arguments before any resource exists. */
export interface EndpointSettings {
  mode: EndpointMode;
  region: string;
  partition: string;
  /** The endpoint's name: given, or `<project>-<stack>-<name>`. */
  endpointName: string;
  /** The instance type's catalog entry (undefined for serverless endpoints). */
  instance: InstanceSpec | undefined;
  /** Autoscaling bounds and the count at creation. */
  counts: { min: number; max: number; initial: number };
  /** Where async requests, results and failures live in the model bucket. */
  asyncPrefix: string;
  /** Where captured requests and responses land, when data capture is on. */
  capturePrefix: string | undefined;
  /** The model data the execution role may read: a prefix, or one tarball. */
  modelData: { prefix: string } | { tarballKey: string };
}

/** The settings of endpoint `name` of stack `stack` in project `project`. */
export function endpointSettings(
  name: string,
  args: SageMakerEndpointArgs,
  project: string,
  stack: string,
): EndpointSettings {
  const mode = args.mode ?? "realtime";
  const region = endpointRegion(args) as string;
  const endpointName = args.endpointName ?? defaultEndpointName(project, stack, name);
  return {
    mode,
    region,
    partition: partitionOf(region),
    endpointName,
    instance: args.instanceType ? getInstance(args.instanceType) : undefined,
    counts: instanceCounts(args, mode),
    asyncPrefix: `async-inference/${endpointName}`,
    capturePrefix:
      args.dataCapturePercent !== undefined ? `data-capture/${endpointName}` : undefined,
    modelData:
      args.modelDataPrefix !== undefined
        ? { prefix: modelDataPrefix(args.modelDataPrefix) }
        : { tarballKey: args.modelDataTarball as string },
  };
}

/** A model data prefix without its trailing slashes. */
export function modelDataPrefix(prefix: string): string {
  return prefix.replace(/\/+$/, "");
}

/**
 * The endpoint configuration's production variant: serverless memory and concurrency, or an
 * instance type with its download and start-up timeouts (the instance count is added by the
 * component, from what serves now).
 */
export function productionVariant(
  args: SageMakerEndpointArgs,
  mode: EndpointMode,
  modelName: pulumi.Input<string>,
): aws.types.input.sagemaker.EndpointConfigurationProductionVariant {
  const estimate =
    args.modelRequirements && args.instanceType
      ? startupEstimate(args.modelRequirements, args.instanceType)
      : undefined;
  return mode === "serverless"
    ? {
        variantName: VARIANT_NAME,
        modelName,
        serverlessConfig: {
          memorySizeInMb: args.serverlessMemoryMb ?? 6144,
          maxConcurrency: args.serverlessMaxConcurrency ?? 10,
          provisionedConcurrency: args.serverlessProvisionedConcurrency,
        },
      }
    : {
        variantName: VARIANT_NAME,
        modelName,
        instanceType: args.instanceType,
        initialVariantWeight: 1,
        // Long enough for the estimated download and load of the weights (catalog/startup.ts).
        modelDataDownloadTimeoutInSeconds:
          args.modelDataDownloadTimeoutSeconds ?? defaultDownloadSeconds(estimate),
        containerStartupHealthCheckTimeoutInSeconds:
          args.containerStartupTimeoutSeconds ?? defaultContainerStartupSeconds(estimate),
        volumeSizeInGb: args.volumeSizeGb,
        ...(args.inferenceAmiVersion !== undefined
          ? { inferenceAmiVersion: args.inferenceAmiVersion }
          : {}),
      };
}

/**
 * The KMS key of the variant's storage volume. SageMaker refuses a volume key for instance types
 * with local NVMe (encrypted in hardware), and serverless endpoints have no volume.
 */
export function volumeKmsKey(
  args: SageMakerEndpointArgs,
  mode: EndpointMode,
  instance: InstanceSpec | undefined,
): pulumi.Input<string> | undefined {
  return mode !== "serverless" && instance !== undefined && instance.nvmeGb === 0
    ? args.kmsKeyArn
    : undefined;
}

/** The endpoint's alarm thresholds: the given ones, the mode's defaults for the rest. */
export function alarmThresholds(args: SageMakerEndpointArgs, mode: EndpointMode): AlarmThresholds {
  const defaults = defaultAlarmThresholds(mode);
  return {
    latencyP90Ms: args.latencyP90Ms ?? defaults.latencyP90Ms,
    latencyP99Ms: args.latencyP99Ms ?? defaults.latencyP99Ms,
    errors5xxPerMinute: args.errors5xxPerMinute ?? defaults.errors5xxPerMinute,
    gpuUtilizationPercent: args.gpuUtilizationPercent ?? defaults.gpuUtilizationPercent,
    asyncBacklogAgeSeconds: args.asyncBacklogAgeSeconds ?? defaults.asyncBacklogAgeSeconds,
  };
}

/** The autoscaling options: the given ones, with defaults for the rest. */
export function scalingOptions(args: SageMakerEndpointArgs): ScalingOptions {
  return {
    targetInvocationsPerInstance: args.targetInvocationsPerInstance ?? 70,
    highResolutionScaling: args.highResolutionScaling ?? false,
    targetConcurrentRequestsPerModel: args.targetConcurrentRequestsPerModel ?? 4,
    targetBacklogPerInstance: args.targetBacklogPerInstance ?? 5,
    scaleInCooldownSeconds: args.scaleInCooldownSeconds ?? 300,
    scaleOutCooldownSeconds: args.scaleOutCooldownSeconds ?? 60,
    provisionedConcurrency: args.serverlessProvisionedConcurrency,
  };
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
