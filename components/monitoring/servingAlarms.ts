/**
 * The alarms of the serving paths other than SageMaker (whose alarms live with the endpoint), as
 * plain data: Triton on EKS, Triton on the EC2 fleet, and the API front door. Dimension values are
 * generic so that the component can pass Outputs and the tests plain strings.
 */
import { MetricAlarmSpec } from "./metricAlarm";

/** One CloudWatch alarm, before it is created. */
export interface ServingAlarm<T = string> extends MetricAlarmSpec<T> {
  /** Child name suffix: `${name}-<role>`. */
  role: string;
  /** What a period without data means: `breaching` where silence is the failure. */
  treatMissingData: "breaching" | "notBreaching";
}

/** The thresholds of the serving-path alarms (`llm-infra:monitoring.alarms`). */
export interface ServingAlarmThresholds {
  /** Triton container restarts in 5 minutes (crashes, failed loads, OOM kills). */
  tritonRestartsPer5Minutes: number;
  /** Fleet: 5xx answers from Triton per minute. */
  fleet5xxPerMinute: number;
  /** Fleet: p90 of the target response time, seconds (a whole generation, not a token). */
  fleetResponseTimeP90Seconds: number;
  /** Fleet: unhealthy hosts behind the load balancer. */
  fleetUnhealthyHosts: number;
  /** API: 5XXError per minute. */
  api5xxPerMinute: number;
  /** API: 4XXError per minute: throttled (429) and refused requests. */
  api4xxPerMinute: number;
  /** API: p90 of Latency, milliseconds. */
  apiLatencyP90Ms: number;
}

export const DEFAULT_SERVING_ALARM_THRESHOLDS: Readonly<ServingAlarmThresholds> = {
  tritonRestartsPer5Minutes: 3,
  fleet5xxPerMinute: 5,
  fleetResponseTimeP90Seconds: 30,
  fleetUnhealthyHosts: 1,
  api5xxPerMinute: 5,
  api4xxPerMinute: 50,
  apiLatencyP90Ms: 20_000,
};

const GT = "GreaterThanThreshold";
const GTE = "GreaterThanOrEqualToThreshold";

/**
 * Triton on EKS, from Container Insights (the amazon-cloudwatch-observability add-on):
 * `service_number_of_running_pods` by Service, Namespace, ClusterName and
 * `pod_number_of_container_restarts` by PodName (the workload's name), Namespace, ClusterName,
 * namespace `ContainerInsights`
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-metrics-EKS.html).
 * No running pod is an outage: a period without the metric counts as one. Triton's own queue and
 * failure counters are not in CloudWatch; they need a Prometheus pipeline.
 */
export function tritonEksAlarms<T>(
  where: { clusterName: T; namespace: T; service: T; workload: T },
  t: ServingAlarmThresholds,
  options: { alwaysRunning?: boolean } = {},
): ServingAlarm<T>[] {
  const base = { namespace: "ContainerInsights", periodSeconds: 60 };
  // "No running pod" is an outage only where Triton is meant to run at every hour: at zero
  // replicas, or with its nodes stopped off hours, it would be in ALARM at rest and hide a real one.
  const alwaysRunning = options.alwaysRunning ?? true;
  return [
    ...(alwaysRunning
      ? [
          {
            ...base,
            role: "no-running-pods",
            description: "Triton on EKS: no running Triton pod behind the service",
            metricName: "service_number_of_running_pods",
            dimensions: {
              ClusterName: where.clusterName,
              Namespace: where.namespace,
              Service: where.service,
            },
            statistic: "Maximum",
            evaluationPeriods: 3,
            datapointsToAlarm: 3,
            threshold: 1,
            comparisonOperator: "LessThanThreshold",
            treatMissingData: "breaching" as const,
          },
        ]
      : []),
    {
      ...base,
      role: "restarts",
      description: `Triton on EKS: more than ${t.tritonRestartsPer5Minutes} container restarts in 5 minutes`,
      metricName: "pod_number_of_container_restarts",
      dimensions: {
        ClusterName: where.clusterName,
        Namespace: where.namespace,
        PodName: where.workload,
      },
      statistic: "Sum",
      periodSeconds: 300,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      threshold: t.tritonRestartsPer5Minutes,
      comparisonOperator: GT,
      treatMissingData: "notBreaching",
    },
  ];
}

/**
 * Triton on the EC2 fleet, from the Application Load Balancer's metrics (namespace
 * `AWS/ApplicationELB`, dimensions LoadBalancer and TargetGroup, each the ARN suffix:
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html).
 */
export function fleetAlarms<T>(
  where: { loadBalancer: T; targetGroup: T },
  t: ServingAlarmThresholds,
): ServingAlarm<T>[] {
  const base = {
    namespace: "AWS/ApplicationELB",
    dimensions: { LoadBalancer: where.loadBalancer, TargetGroup: where.targetGroup },
    periodSeconds: 60,
  };
  return [
    {
      ...base,
      role: "5xx-errors",
      description: `Triton fleet: more than ${t.fleet5xxPerMinute} 5xx answers from Triton per minute`,
      metricName: "HTTPCode_Target_5XX_Count",
      statistic: "Sum",
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      threshold: t.fleet5xxPerMinute,
      comparisonOperator: GT,
      treatMissingData: "notBreaching",
    },
    {
      ...base,
      role: "response-time-p90",
      description: `Triton fleet: target response time p90 above ${t.fleetResponseTimeP90Seconds} s`,
      metricName: "TargetResponseTime",
      extendedStatistic: "p90",
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      threshold: t.fleetResponseTimeP90Seconds,
      comparisonOperator: GT,
      treatMissingData: "notBreaching",
    },
    {
      ...base,
      role: "unhealthy-hosts",
      description: `Triton fleet: ${t.fleetUnhealthyHosts} or more hosts fail /v2/health/ready`,
      metricName: "UnHealthyHostCount",
      statistic: "Maximum",
      evaluationPeriods: 5,
      datapointsToAlarm: 5,
      threshold: t.fleetUnhealthyHosts,
      comparisonOperator: GTE,
      treatMissingData: "notBreaching",
    },
  ];
}

/**
 * The API front door, from API Gateway's REST API metrics (namespace `AWS/ApiGateway`, dimensions
 * ApiName and Stage; throttled requests answer 429 and count in 4XXError:
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-metrics-and-dimensions.html).
 * Latency is in milliseconds.
 */
export function apiAlarms<T>(
  where: { apiName: T; stage: T },
  t: ServingAlarmThresholds,
): ServingAlarm<T>[] {
  const base = {
    namespace: "AWS/ApiGateway",
    dimensions: { ApiName: where.apiName, Stage: where.stage },
    periodSeconds: 60,
    comparisonOperator: GT,
    treatMissingData: "notBreaching" as const,
  };
  return [
    {
      ...base,
      role: "5xx-errors",
      description: `API: more than ${t.api5xxPerMinute} 5XXError per minute`,
      metricName: "5XXError",
      statistic: "Sum",
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      threshold: t.api5xxPerMinute,
    },
    {
      ...base,
      role: "throttled",
      description: `API: more than ${t.api4xxPerMinute} 4XXError per minute (throttled or refused)`,
      metricName: "4XXError",
      statistic: "Sum",
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      threshold: t.api4xxPerMinute,
    },
    {
      ...base,
      role: "latency-p90",
      description: `API: Latency p90 above ${t.apiLatencyP90Ms} ms`,
      metricName: "Latency",
      extendedStatistic: "p90",
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      threshold: t.apiLatencyP90Ms,
    },
  ];
}
