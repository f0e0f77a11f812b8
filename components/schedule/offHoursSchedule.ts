/**
 * OffHoursSchedule: scheduled scale-down outside working hours, and scale-up when they start.
 *
 * - Auto Scaling groups (the EC2 fleet, and the groups behind EKS managed node groups): an
 *   `aws.autoscaling.Schedule` pair. Off hours the group goes to 0/0/0; at the start of the working
 *   day it gets its configured min/max/desired back. A managed node group's Auto Scaling group is
 *   its `resources[0].autoscalingGroups[0].name` output. The schedule acts on the Auto Scaling group
 *   directly because the EKS API itself refuses a node group maximum below 1
 *   (docs.aws.amazon.com/eks/latest/APIReference/API_NodegroupScalingConfig.html) and has no
 *   scheduled scaling of its own (github.com/aws/containers-roadmap/issues/1943).
 * - SageMaker variants: an `aws.appautoscaling.ScheduledAction` pair on the variant's scalable
 *   target (Application Auto Scaling supports scheduled scaling of SageMaker variants:
 *   docs.aws.amazon.com/autoscaling/application/userguide/services-that-can-integrate-sagemaker.html).
 *   Off hours the floor drops to what AWS allows: 0 for an asynchronous endpoint, 1 for a real-time
 *   one (only inference components scale a real-time endpoint to zero:
 *   docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling-zero-instances.html); the
 *   maximum stays, so traffic at night is still served. The pair is replaced with the variant's
 *   scalable target (`replaceWith`): AWS deletes a target's scheduled actions when the target is
 *   deregistered (Application Auto Scaling API Reference, DeregisterScalableTarget), which a
 *   replacement of the target does (an instance type change replaces it).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  OffHoursWindow,
  applicationAutoScalingSchedule,
  autoScalingRecurrence,
} from "../../catalog/schedule";
import { scalingResourceId } from "../sagemaker/monitoring";

/** An Auto Scaling group to stop outside working hours. */
export interface ScheduledGroup {
  /** Prefix of the schedule resources (`<name>-off-hours-down`). */
  name: string;
  autoScalingGroupName: pulumi.Input<string>;
  minSize: number;
  desiredSize: number;
  maxSize: number;
}

/** A SageMaker endpoint variant whose floor drops outside working hours. */
export interface ScheduledVariant {
  name: string;
  endpointName: string;
  mode: "realtime" | "async";
  minInstances: number;
  maxInstances: number;
  /**
   * The variant's scalable target (`SageMakerEndpoint.scalingTarget`). The scheduled actions read
   * its resource id and are replaced with it: AWS deletes a target's scheduled actions when it is
   * deregistered, as a replacement does, and nothing else would recreate them.
   */
  scalingTarget?: aws.appautoscaling.Target;
}

export interface OffHoursScheduleArgs {
  /** The working hours (`llm-infra:cost.offHours`). */
  window: OffHoursWindow;
  groups?: ScheduledGroup[];
  variants?: ScheduledVariant[];
}

/** Sizes of a scheduled group outside and inside working hours. */
export function groupSizes(group: ScheduledGroup) {
  return {
    off: { minSize: 0, maxSize: 0, desiredCapacity: 0 },
    on: { minSize: group.minSize, maxSize: group.maxSize, desiredCapacity: group.desiredSize },
  };
}

/** Capacity bounds of a scheduled variant outside and inside working hours. */
export function variantCapacity(variant: ScheduledVariant) {
  const floor = variant.mode === "async" ? 0 : 1;
  return {
    off: { minCapacity: Math.min(floor, variant.minInstances), maxCapacity: variant.maxInstances },
    on: { minCapacity: variant.minInstances, maxCapacity: variant.maxInstances },
  };
}

export class OffHoursSchedule extends pulumi.ComponentResource {
  /** How many scheduled actions this created. */
  public readonly actionCount: number;

  constructor(name: string, args: OffHoursScheduleArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llm-infra:index:OffHoursSchedule", name, {}, opts);
    const { window } = args;
    const edges = [
      { role: "down", hour: window.endHour },
      { role: "up", hour: window.startHour },
    ] as const;

    for (const group of args.groups ?? []) {
      const sizes = groupSizes(group);
      for (const edge of edges) {
        new aws.autoscaling.Schedule(
          `${group.name}-off-hours-${edge.role}`,
          {
            scheduledActionName: `${group.name}-off-hours-${edge.role}`,
            autoscalingGroupName: group.autoScalingGroupName,
            recurrence: autoScalingRecurrence(window, edge.hour),
            timeZone: window.timezone,
            ...(edge.role === "down" ? sizes.off : sizes.on),
          },
          { parent: this },
        );
      }
    }

    // A variant whose floor is already what AWS allows off hours gets no actions.
    const variants = (args.variants ?? []).filter((v) => {
      const { off, on } = variantCapacity(v);
      return off.minCapacity !== on.minCapacity || off.maxCapacity !== on.maxCapacity;
    });
    for (const variant of variants) {
      const capacity = variantCapacity(variant);
      const target = variant.scalingTarget;
      for (const edge of edges) {
        new aws.appautoscaling.ScheduledAction(
          `${variant.name}-off-hours-${edge.role}`,
          {
            name: `${variant.endpointName}-off-hours-${edge.role}`,
            serviceNamespace: "sagemaker",
            resourceId: target?.resourceId ?? scalingResourceId(variant.endpointName),
            scalableDimension: "sagemaker:variant:DesiredInstanceCount",
            schedule: applicationAutoScalingSchedule(window, edge.hour),
            timezone: window.timezone,
            scalableTargetAction: edge.role === "down" ? capacity.off : capacity.on,
          },
          target ? { parent: this, replaceWith: [target] } : { parent: this },
        );
      }
    }

    this.actionCount = 2 * ((args.groups?.length ?? 0) + variants.length);
    this.registerOutputs({});
  }
}
