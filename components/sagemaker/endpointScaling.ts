/**
 * The scaling policies of a scalable target, shared by single-model endpoints (instances) and
 * inference components (copies): target tracking, and the step policy with its alarm that starts
 * the first instance or copy from zero, which target tracking does not.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { metricAlarm } from "../monitoring/metricAlarm";
import { Tags } from "../tags";
import { AlarmSpec, TargetTrackingSpec } from "./monitoring";

/** The scale-out from zero: +1 on `alarm`, with a cooldown. */
export interface FromZero {
  alarm: AlarmSpec;
  cooldown: number;
  metricAggregationType: "Average" | "Maximum";
}

/** `${name}-<role>` policies on `target`, and `${name}-scale-from-zero` with its alarm. */
export function scalingPolicies(
  name: string,
  target: aws.appautoscaling.Target,
  policies: TargetTrackingSpec[],
  fromZero: FromZero | undefined,
  tags: Tags | undefined,
  parent: pulumi.Resource,
): void {
  const scaling = {
    resourceId: target.resourceId,
    scalableDimension: target.scalableDimension,
    serviceNamespace: target.serviceNamespace,
  };
  // "Deregistering a scalable target deletes the scaling policies and the scheduled actions that
  // are associated with it" (Application Auto Scaling API Reference, DeregisterScalableTarget).
  // A replaced target is deregistered, so its policies are replaced with it (Pulumi's
  // replaceWith resource option, Pulumi CLI 3.207.0 and later), not left in the state only.
  const withTarget: pulumi.CustomResourceOptions = { parent, replaceWith: [target] };
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
      withTarget,
    );
  }
  if (!fromZero) return;
  const policy = new aws.appautoscaling.Policy(
    `${name}-scale-from-zero`,
    {
      ...scaling,
      policyType: "StepScaling",
      stepScalingPolicyConfiguration: {
        adjustmentType: "ChangeInCapacity",
        cooldown: fromZero.cooldown,
        metricAggregationType: fromZero.metricAggregationType,
        stepAdjustments: [{ metricIntervalLowerBound: "0", scalingAdjustment: 1 }],
      },
    },
    withTarget,
  );
  metricAlarm(
    `${name}-${fromZero.alarm.role}`,
    fromZero.alarm,
    { actions: [policy.arn], okActions: [], tags },
    { parent },
  );
}
