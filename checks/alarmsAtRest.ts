/**
 * Alarms that mean something at rest: no alarm may sit in ALARM while its workload rests by
 * design. An alarm that always fires hides the real one. Today's case: Triton on EKS's "no running
 * pod" alarm (Container Insights `service_number_of_running_pods` below a threshold) on a release
 * with zero replicas and no HPA, or in a stack whose schedules stop its node groups (an Auto
 * Scaling schedule with a maximum of 0): the metric is 0 then, by design.
 *
 * Pure over the plan's resources; `npm run plan`, the tests and `pulumi preview` (the policy
 * `alarms-quiet-at-rest`) run it alike.
 */
import { CapturedResource } from "./resource";
import { Finding } from "./finding";
import { obj } from "./inputs";
import { isTritonChart } from "../catalog/images";

const CHECK = "alarms-quiet-at-rest";

/** Why Triton on EKS rests by design in this plan, or undefined when it runs at every hour. */
function tritonAtRest(resources: CapturedResource[]): string | undefined {
  for (const r of resources) {
    if (r.type !== "kubernetes:helm.sh/v3:Release") continue;
    if (!isTritonChart(r.inputs.chart)) continue;
    const values = obj(r.inputs.values);
    if (values.replicaCount === 0 && obj(values.autoscaling).enabled !== true)
      return `the release ${r.name} runs zero replicas`;
  }
  const stops = resources.find(
    (r) => r.type === "aws:autoscaling/schedule:Schedule" && r.inputs.maxSize === 0,
  );
  return stops ? `the schedule ${stops.name} stops node groups` : undefined;
}

export function checkAlarmsAtRest(resources: CapturedResource[]): Finding[] {
  const findings: Finding[] = [];
  for (const a of resources) {
    if (a.type !== "aws:cloudwatch/metricAlarm:MetricAlarm") continue;
    if (a.inputs.metricName !== "service_number_of_running_pods") continue;
    if (a.inputs.comparisonOperator !== "LessThanThreshold" || !(Number(a.inputs.threshold) > 0))
      continue;
    const why = tritonAtRest(resources);
    if (why)
      findings.push({
        check: CHECK,
        resource: a.name,
        message: `alarms when no Triton pod runs, but ${why}: it would be in ALARM at rest and hide a real alarm; leave it out where Triton rests by design (ServingMonitor triton.alwaysRunning: false)`,
      });
  }
  return findings;
}
