import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Tags } from "../tags";
import { checkIntegerRange, ArgError, throwIfInvalid } from "../validation";
import { dashboardBody } from "./dashboard";
import { metricAlarm } from "./metricAlarm";
import {
  DEFAULT_SERVING_ALARM_THRESHOLDS,
  ServingAlarm,
  ServingAlarmThresholds,
  apiAlarms,
  fleetAlarms,
  tritonEksAlarms,
} from "./servingAlarms";

/** A SageMaker endpoint on the dashboard. */
export interface MonitoredEndpoint {
  /** The endpoint's name. */
  endpointName: string;
  /** `realtime`, `async` or `serverless`. */
  mode: string;
  /** NVIDIA GPUs per instance (0: no GPU graph). */
  gpus: number;
  /** An endpoint of inference components: their names. */
  components?: string[];
}
/** Triton on EKS as Container Insights reports it. */
export interface MonitoredTriton {
  /** The EKS cluster's name. */
  clusterName: pulumi.Input<string>;
  /** Triton's namespace. */
  namespace: string;
  /** The chart's Service and Deployment name (TritonRelease.workloadName). */
  workloadName: pulumi.Input<string>;
  /**
   * Triton runs at every hour (at least one replica, its nodes never stopped by a schedule): only
   * then is "no running pod" an outage worth an alarm. @default true
   */
  alwaysRunning?: boolean;
}
/** Triton on the EC2 fleet as its load balancer reports it. */
export interface MonitoredFleet {
  /** TritonFleet.loadBalancerArnSuffix. */
  loadBalancerArnSuffix: pulumi.Input<string>;
  /** TritonFleet.targetGroupArnSuffix. */
  targetGroupArnSuffix: pulumi.Input<string>;
}
/** The API front door as API Gateway reports it. */
export interface MonitoredApi {
  /** InferenceApi.restApiName. */
  apiName: pulumi.Input<string>;
  /** InferenceApi.stageName. */
  stage: pulumi.Input<string>;
}
/** Alarm thresholds, each optional (ServingAlarmThresholds documents each and its default). */
export interface AlarmThresholdsInput {
  /** Triton container restarts in 5 minutes. @default 3 */
  tritonRestartsPer5Minutes?: number;
  /** Fleet: 5xx answers from Triton per minute. @default 5 */
  fleet5xxPerMinute?: number;
  /** Fleet: target response time p90, seconds. @default 30 */
  fleetResponseTimeP90Seconds?: number;
  /** Fleet: unhealthy hosts. @default 1 */
  fleetUnhealthyHosts?: number;
  /** API: 5XXError per minute. @default 5 */
  api5xxPerMinute?: number;
  /** API: 4XXError (throttled or refused) per minute. @default 50 */
  api4xxPerMinute?: number;
  /** API: Latency p90, milliseconds. @default 20000 */
  apiLatencyP90Ms?: number;
}

export interface ServingMonitorArgs {
  /** The region of the serving paths (the dashboard's graphs read it). */
  region: string;
  /** The topic every alarm notifies (AlarmTopic.topicArn). */
  alarmTopicArn: pulumi.Input<string>;
  /** The dashboard's name. @default `${name}` */
  dashboardName?: string;
  /** SageMaker endpoints, for the dashboard (their alarms belong to each SageMakerEndpoint). */
  sagemakerEndpoints?: MonitoredEndpoint[];
  /**
   * Triton on EKS, watched through Container Insights: the cluster, the namespace, and the name
   * of the chart's Service and Deployment (TritonRelease.workloadName).
   */
  triton?: MonitoredTriton;
  /** Triton on the EC2 fleet: its load balancer's and target group's ARN suffixes. */
  fleet?: MonitoredFleet;
  /** The API front door: the REST API's name and stage. */
  api?: MonitoredApi;
  /** Alarm thresholds; each absent one takes its default (DEFAULT_SERVING_ALARM_THRESHOLDS). */
  thresholds?: AlarmThresholdsInput;
  /** A CloudWatch dashboard with one row per serving path ($3 a month). @default true */
  dashboard?: boolean;
  /** Tags for the alarms. */
  tags?: Tags;
}

/** The largest threshold each key accepts. */
const THRESHOLD_LIMITS: Record<keyof ServingAlarmThresholds, number> = {
  tritonRestartsPer5Minutes: 1000,
  fleet5xxPerMinute: 100_000,
  fleetResponseTimeP90Seconds: 3600,
  fleetUnhealthyHosts: 1000,
  api5xxPerMinute: 100_000,
  api4xxPerMinute: 100_000,
  apiLatencyP90Ms: 600_000,
};

export function validateServingMonitorArgs(
  args: Pick<ServingMonitorArgs, "thresholds">,
): ArgError[] {
  const errors: ArgError[] = [];
  for (const [k, v] of Object.entries(args.thresholds ?? {})) {
    const max = THRESHOLD_LIMITS[k as keyof ServingAlarmThresholds];
    if (max === undefined) {
      errors.push({
        propertyPath: `thresholds.${k}`,
        reason: `is not a known threshold; allowed: ${Object.keys(THRESHOLD_LIMITS).join(", ")}`,
      });
    } else {
      checkIntegerRange(errors, `thresholds.${k}`, v, 1, max);
    }
  }
  return errors;
}

/**
 * What a stack is watched by beyond its SageMaker endpoints: alarms on Triton on EKS, the EC2
 * fleet and the API front door, all to the stack's alarm topic, and one CloudWatch dashboard with
 * a row per serving path (SageMaker included).
 */
export class ServingMonitor extends pulumi.ComponentResource {
  /** The alarms' names. */
  public readonly alarmNames: pulumi.Output<string>[];
  /** The dashboard's name, when there is one. */
  public readonly dashboardName?: pulumi.Output<string>;

  constructor(name: string, args: ServingMonitorArgs, opts?: pulumi.ComponentResourceOptions) {
    throwIfInvalid("ServingMonitor", name, validateServingMonitorArgs(args));
    super("llm-infra:index:ServingMonitor", name, {}, opts);
    this.alarmNames = this.createAlarms(name, args);
    if (args.dashboard ?? true) this.dashboardName = this.createDashboard(name, args);
    this.registerOutputs({ alarmNames: this.alarmNames, dashboardName: this.dashboardName });
  }

  /** The alarms of each serving path given (Triton on EKS, the fleet, the API), to the topic. */
  private createAlarms(name: string, args: ServingMonitorArgs): pulumi.Output<string>[] {
    const t = { ...DEFAULT_SERVING_ALARM_THRESHOLDS, ...args.thresholds };
    const specs: [string, ServingAlarm<pulumi.Input<string>>][] = [];
    if (args.triton) {
      const where = {
        clusterName: args.triton.clusterName,
        namespace: args.triton.namespace,
        service: args.triton.workloadName,
        workload: args.triton.workloadName,
      };
      for (const s of tritonEksAlarms<pulumi.Input<string>>(where, t, {
        alwaysRunning: args.triton.alwaysRunning,
      }))
        specs.push(["triton", s]);
    }
    if (args.fleet) {
      const where = {
        loadBalancer: args.fleet.loadBalancerArnSuffix,
        targetGroup: args.fleet.targetGroupArnSuffix,
      };
      for (const s of fleetAlarms<pulumi.Input<string>>(where, t)) specs.push(["fleet", s]);
    }
    if (args.api) {
      for (const s of apiAlarms<pulumi.Input<string>>(args.api, t)) specs.push(["api", s]);
    }
    const notify = {
      actions: [args.alarmTopicArn],
      okActions: [args.alarmTopicArn],
      tags: args.tags,
    };
    return specs.map(
      ([path, spec]) =>
        metricAlarm(`${name}-${path}-${spec.role}`, spec, notify, { parent: this }).name,
    );
  }

  /** One CloudWatch dashboard of every serving path, SageMaker endpoints included. */
  private createDashboard(name: string, args: ServingMonitorArgs): pulumi.Output<string> {
    const body = pulumi
      .all([
        args.triton ? pulumi.all([args.triton.clusterName, args.triton.workloadName]) : undefined,
        args.fleet
          ? pulumi.all([args.fleet.loadBalancerArnSuffix, args.fleet.targetGroupArnSuffix])
          : undefined,
        args.api ? pulumi.all([args.api.apiName, args.api.stage]) : undefined,
      ])
      .apply(([triton, fleet, api]) =>
        JSON.stringify(
          dashboardBody(args.region, {
            sagemaker: args.sagemakerEndpoints ?? [],
            eks:
              triton && args.triton
                ? {
                    clusterName: triton[0],
                    namespace: args.triton.namespace,
                    service: triton[1],
                    workload: triton[1],
                  }
                : undefined,
            fleet: fleet ? { loadBalancer: fleet[0], targetGroup: fleet[1] } : undefined,
            api: api ? { apiName: api[0], stage: api[1] } : undefined,
          }),
        ),
      );
    const dashboard = new aws.cloudwatch.Dashboard(
      `${name}-dashboard`,
      { dashboardName: args.dashboardName ?? name, dashboardBody: body },
      { parent: this },
    );
    return dashboard.dashboardName;
  }
}
