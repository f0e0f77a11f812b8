import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Tags } from "../tags";

/** The fields of an alarm spec that become a CloudWatch alarm (SageMaker's and the serving paths'). */
export interface MetricAlarmSpec<T = string> {
  description: string;
  namespace: string;
  metricName: string;
  dimensions: Record<string, T>;
  statistic?: string;
  extendedStatistic?: string;
  periodSeconds: number;
  evaluationPeriods: number;
  datapointsToAlarm: number;
  threshold: number;
  comparisonOperator: string;
  /** What a period without data means. @default "notBreaching" */
  treatMissingData?: "breaching" | "notBreaching";
}

/** One CloudWatch metric alarm from its spec, notifying `actions` on alarm and `okActions` on OK. */
export function metricAlarm(
  name: string,
  spec: MetricAlarmSpec<pulumi.Input<string>>,
  notify: {
    actions: pulumi.Input<string>[];
    okActions: pulumi.Input<string>[];
    tags?: Tags;
  },
  opts: pulumi.CustomResourceOptions,
): aws.cloudwatch.MetricAlarm {
  return new aws.cloudwatch.MetricAlarm(
    name,
    {
      alarmDescription: spec.description,
      namespace: spec.namespace,
      metricName: spec.metricName,
      dimensions: spec.dimensions,
      statistic: spec.statistic,
      extendedStatistic: spec.extendedStatistic,
      period: spec.periodSeconds,
      evaluationPeriods: spec.evaluationPeriods,
      datapointsToAlarm: spec.datapointsToAlarm,
      threshold: spec.threshold,
      comparisonOperator: spec.comparisonOperator,
      treatMissingData: spec.treatMissingData ?? "notBreaching",
      alarmActions: notify.actions,
      okActions: notify.okActions,
      tags: notify.tags,
    },
    opts,
  );
}
