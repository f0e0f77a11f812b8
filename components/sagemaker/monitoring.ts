/**
 * What an endpoint is watched and scaled by, as plain data: the alarms of each mode and the
 * autoscaling policies that apply to it (and only those).
 */
import { InstanceSpec } from "../../catalog/instances";
import { MetricAlarmSpec } from "../monitoring/metricAlarm";
import { EndpointMode } from "./endpointArgs";

export const VARIANT_NAME = "primary";

export interface AlarmSpec extends MetricAlarmSpec {
  /** Child name suffix: `${name}-<role>`. */
  role: string;
  /** True when a breach during a deployment rolls it back. */
  rollback: boolean;
}

export interface AlarmThresholds {
  latencyP90Ms: number;
  latencyP99Ms: number;
  errors5xxPerMinute: number;
  gpuUtilizationPercent: number;
  asyncBacklogAgeSeconds: number;
}

/**
 * Alarm thresholds when none are given. Real-time requests answer within seconds. Async requests
 * time out after 15 minutes by default and may be given up to an hour (InvocationTimeoutSeconds,
 * https://docs.aws.amazon.com/sagemaker/latest/dg/async-inference-invoke-endpoint.html), so their
 * latency alarms sit at those bounds: p90 at the default timeout, p99 at the longest allowed.
 */
export function defaultAlarmThresholds(mode: EndpointMode): AlarmThresholds {
  const async = mode === "async";
  return {
    latencyP90Ms: async ? 15 * 60 * 1000 : 10_000,
    latencyP99Ms: async ? 60 * 60 * 1000 : 30_000,
    errors5xxPerMinute: 5,
    gpuUtilizationPercent: 90,
    asyncBacklogAgeSeconds: 900,
  };
}

/**
 * The alarms of an endpoint. ModelLatency is in microseconds, so thresholds in milliseconds are
 * converted. GPU metrics are summed over the instance's GPUs (0 to 100 x GPUs), so the per-GPU
 * threshold is multiplied by the GPU count; they exist only on NVIDIA instances. Deployments roll
 * back on errors, and on p99 latency except for async endpoints, whose latency is the length of
 * the queued work and says nothing about a bad deployment.
 */
export function endpointAlarms(
  endpointName: string,
  mode: EndpointMode,
  instance: InstanceSpec | undefined,
  t: AlarmThresholds,
): AlarmSpec[] {
  const variant = { EndpointName: endpointName, VariantName: VARIANT_NAME };
  const base = {
    namespace: "AWS/SageMaker",
    dimensions: variant,
    periodSeconds: 60,
    comparisonOperator: "GreaterThanThreshold",
  };
  const alarms: AlarmSpec[] = [
    {
      ...base,
      role: "5xx-errors",
      description: `${endpointName}: more than ${t.errors5xxPerMinute} Invocation5XXErrors per minute`,
      metricName: "Invocation5XXErrors",
      statistic: "Sum",
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      threshold: t.errors5xxPerMinute,
      rollback: true,
    },
    {
      ...base,
      role: "latency-p90",
      description: `${endpointName}: ModelLatency p90 above ${t.latencyP90Ms} ms`,
      metricName: "ModelLatency",
      extendedStatistic: "p90",
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      threshold: t.latencyP90Ms * 1000,
      rollback: false,
    },
    {
      ...base,
      role: "latency-p99",
      description: `${endpointName}: ModelLatency p99 above ${t.latencyP99Ms} ms`,
      metricName: "ModelLatency",
      extendedStatistic: "p99",
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      threshold: t.latencyP99Ms * 1000,
      rollback: mode !== "async",
    },
  ];
  const gpus = instance?.accelerator?.kind === "nvidia" ? instance.accelerator.count : 0;
  if (mode !== "serverless" && gpus > 0) {
    for (const [role, metricName] of [
      ["gpu-utilization", "GPUUtilization"],
      ["gpu-memory", "GPUMemoryUtilization"],
    ] as const) {
      alarms.push({
        ...base,
        namespace: "/aws/sagemaker/Endpoints",
        role,
        description: `${endpointName}: ${metricName} above ${t.gpuUtilizationPercent}% per GPU (${gpus} GPU(s))`,
        metricName,
        statistic: "Average",
        evaluationPeriods: 10,
        datapointsToAlarm: 8,
        threshold: t.gpuUtilizationPercent * gpus,
        rollback: false,
      });
    }
  }
  if (mode === "async") {
    alarms.push({
      ...base,
      dimensions: { EndpointName: endpointName },
      role: "backlog-age",
      description: `${endpointName}: oldest queued request older than ${t.asyncBacklogAgeSeconds} s`,
      metricName: "ApproximateAgeOfOldestRequest",
      statistic: "Maximum",
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      threshold: t.asyncBacklogAgeSeconds,
      rollback: false,
    });
  }
  return alarms;
}

/** The alarm that starts an async endpoint from zero instances when requests are waiting. */
export function backlogWithoutCapacityAlarm(endpointName: string): AlarmSpec {
  return {
    role: "backlog-without-capacity",
    description: `${endpointName}: requests are queued and no instance is running`,
    namespace: "AWS/SageMaker",
    metricName: "HasBacklogWithoutCapacity",
    dimensions: { EndpointName: endpointName },
    statistic: "Average",
    periodSeconds: 60,
    evaluationPeriods: 2,
    datapointsToAlarm: 2,
    threshold: 1,
    comparisonOperator: "GreaterThanOrEqualToThreshold",
    rollback: false,
  };
}

/** The application-autoscaling resource id of the endpoint's variant. */
export function scalingResourceId(endpointName: string): string {
  return `endpoint/${endpointName}/variant/${VARIANT_NAME}`;
}

export interface TargetTrackingSpec {
  role: string;
  targetValue: number;
  scaleInCooldown: number;
  scaleOutCooldown: number;
  predefinedMetricType?: string;
  customizedMetric?: {
    metricName: string;
    namespace: string;
    dimensions: { name: string; value: string }[];
    statistic: string;
  };
}

/** What an endpoint's target-tracking policies aim at, and how fast they move. */
export interface ScalingOptions {
  targetInvocationsPerInstance: number;
  highResolutionScaling: boolean;
  targetConcurrentRequestsPerModel: number;
  targetBacklogPerInstance: number;
  scaleInCooldownSeconds: number;
  scaleOutCooldownSeconds: number;
  provisionedConcurrency?: number;
}

/** The target-tracking policies that apply to the mode. */
export function targetTrackingPolicies(
  endpointName: string,
  mode: EndpointMode,
  o: ScalingOptions,
): TargetTrackingSpec[] {
  const cooldowns = {
    scaleInCooldown: o.scaleInCooldownSeconds,
    scaleOutCooldown: o.scaleOutCooldownSeconds,
  };
  switch (mode) {
    case "realtime": {
      const policies: TargetTrackingSpec[] = [
        {
          role: "invocations",
          targetValue: o.targetInvocationsPerInstance,
          predefinedMetricType: "SageMakerVariantInvocationsPerInstance",
          ...cooldowns,
        },
      ];
      if (o.highResolutionScaling) {
        policies.push({
          role: "concurrency",
          targetValue: o.targetConcurrentRequestsPerModel,
          predefinedMetricType: "SageMakerVariantConcurrentRequestsPerModelHighResolution",
          ...cooldowns,
        });
      }
      return policies;
    }
    case "async":
      return [
        {
          role: "backlog",
          targetValue: o.targetBacklogPerInstance,
          customizedMetric: {
            metricName: "ApproximateBacklogSizePerInstance",
            namespace: "AWS/SageMaker",
            dimensions: [{ name: "EndpointName", value: endpointName }],
            statistic: "Average",
          },
          ...cooldowns,
        },
      ];
    case "serverless":
      return o.provisionedConcurrency === undefined
        ? []
        : [
            {
              role: "provisioned-concurrency",
              targetValue: 0.7,
              predefinedMetricType: "SageMakerVariantProvisionedConcurrencyUtilization",
              ...cooldowns,
            },
          ];
  }
}

/**
 * The alarms of one inference component: its 5XX errors and its ModelLatency p90 and p99, on the
 * `InferenceComponentName` dimension of AWS/SageMaker's invocation metrics ("Dimensions for
 * endpoint invocation metrics ... InferenceComponentName: Filters inference component invocation
 * metrics", https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html). Rolling
 * updates of the component roll back on errors and p99 latency.
 */
export function componentAlarms(
  endpointName: string,
  inferenceComponentName: string,
  t: Pick<AlarmThresholds, "latencyP90Ms" | "latencyP99Ms" | "errors5xxPerMinute">,
): AlarmSpec[] {
  return endpointAlarms(endpointName, "realtime", undefined, {
    ...defaultAlarmThresholds("realtime"),
    ...t,
  }).map((a) => ({
    ...a,
    dimensions: { InferenceComponentName: inferenceComponentName },
    description: a.description.replace(`${endpointName}:`, `${inferenceComponentName}:`),
  }));
}

/**
 * The alarm that adds a copy to a component at zero copies: SageMaker emits
 * NoCapacityInvocationFailures "when an endpoint receives an inference request, but the endpoint
 * has no active instances to serve the request" (https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling-zero-instances.html,
 * namespace AWS/SageMaker, dimension InferenceComponentName). One failed request in a minute is
 * enough: the statistic is Maximum with GreaterThanOrEqualToThreshold 1, as in AWS's scale-to-zero
 * example (aws-samples/sagemaker-genai-hosting-examples, scale-to-zero-endpoint/
 * llama3-8b-scale-to-zero-autoscaling.ipynb); the guide's Sum > 1 would wait for a second one.
 */
export function noCapacityAlarm(inferenceComponentName: string): AlarmSpec {
  return {
    role: "no-capacity",
    description: `${inferenceComponentName}: a request found no copy to serve it; start one`,
    namespace: "AWS/SageMaker",
    metricName: "NoCapacityInvocationFailures",
    dimensions: { InferenceComponentName: inferenceComponentName },
    statistic: "Maximum",
    periodSeconds: 60,
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    threshold: 1,
    comparisonOperator: "GreaterThanOrEqualToThreshold",
    rollback: false,
  };
}

/**
 * The application-autoscaling resource id of an inference component: "The resource type is
 * inference-component and the unique identifier is the resource ID. Example:
 * inference-component/my-inference-component" (Application Auto Scaling API Reference,
 * RegisterScalableTarget ResourceId).
 */
export function componentScalingResourceId(inferenceComponentName: string): string {
  return `inference-component/${inferenceComponentName}`;
}

/** What a component's target-tracking policies aim at, and how fast they move. */
export interface ComponentScalingOptions {
  targetInvocationsPerCopy: number;
  highResolutionScaling: boolean;
  targetConcurrentRequestsPerCopy: number;
  scaleInCooldownSeconds: number;
  scaleOutCooldownSeconds: number;
}

/**
 * A component's target tracking on its copy count: invocations per copy, and with
 * `highResolutionScaling` concurrent requests per copy at sub-minute resolution (the predefined
 * metric types SageMakerInferenceComponentInvocationsPerCopy and
 * SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution, Application Auto Scaling
 * MetricType). Target tracking also takes the copies down to the target's minimum, zero included:
 * AWS measured about 15 minutes to zero copies and 10 more to zero instances (AWS ML blog, "Unlock
 * cost savings with the new scale down to zero feature in SageMaker Inference", December 2024).
 */
export function componentTargetTracking(o: ComponentScalingOptions): TargetTrackingSpec[] {
  const cooldowns = {
    scaleInCooldown: o.scaleInCooldownSeconds,
    scaleOutCooldown: o.scaleOutCooldownSeconds,
  };
  return [
    {
      role: "invocations",
      targetValue: o.targetInvocationsPerCopy,
      predefinedMetricType: "SageMakerInferenceComponentInvocationsPerCopy",
      ...cooldowns,
    },
    ...(o.highResolutionScaling
      ? [
          {
            role: "concurrency",
            targetValue: o.targetConcurrentRequestsPerCopy,
            predefinedMetricType:
              "SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution",
            ...cooldowns,
          },
        ]
      : []),
  ];
}
