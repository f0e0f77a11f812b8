/**
 * Endpoints of inference components are wired so that they serve, scale and start from zero:
 *
 * - each endpoint configuration of inference components names an execution role of the stack
 *   (AWS's examples always set one: "ExecutionRoleArn=role" in create_endpoint_config,
 *   aws-samples/sagemaker-genai-hosting-examples scale-to-zero-endpoint; without a model on the
 *   variant SageMaker has no other role to act with);
 * - each inference component has a scalable target on its own resource id,
 *   `inference-component/<name>`, and dimension `sagemaker:inference-component:DesiredCopyCount`
 *   (Application Auto Scaling RegisterScalableTarget): a target on another id scales another
 *   component, or nothing;
 * - a component whose target may rest at zero copies has a step policy on that target and a
 *   NoCapacityInvocationFailures alarm, on its InferenceComponentName, whose action is that policy:
 *   target tracking does not start the first copy, so without the pair a component at zero stays
 *   there and every request fails
 *   (https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling-zero-instances.html).
 *
 * Pure over the plan's resources; `npm run plan`, the tests and `pulumi preview` (the policy
 * `inference-components-wired`) run it alike.
 */
import { CapturedResource } from "./resource";
import { Finding } from "./finding";
import { obj } from "./inputs";

const CHECK = "inference-components-wired";

export function checkComponentWiring(resources: CapturedResource[]): Finding[] {
  const findings: Finding[] = [];
  const ofType = (t: string) => resources.filter((r) => r.type === t);
  const roles = ofType("aws:iam/role:Role");
  for (const config of ofType("aws-native:sagemaker:EndpointConfig")) {
    const variants = Array.isArray(config.inputs.productionVariants)
      ? config.inputs.productionVariants.map(obj)
      : [];
    if (!variants.some((v) => v.modelName === undefined)) continue;
    const role = config.inputs.executionRoleArn;
    if (role === undefined)
      findings.push({
        check: CHECK,
        resource: config.name,
        message:
          "hosts inference components but names no execution role (ExecutionRoleArn): SageMaker has no role to pull the components' images and read their data with",
      });
    else if (typeof role === "string" && !roles.some((r) => r.id && role.endsWith(`/${r.id}`)))
      findings.push({
        check: CHECK,
        resource: config.name,
        message: `names execution role ${String(role)}, which is not a role of this stack`,
      });
  }
  const targets = ofType("aws:appautoscaling/target:Target");
  const policies = ofType("aws:appautoscaling/policy:Policy");
  const alarms = ofType("aws:cloudwatch/metricAlarm:MetricAlarm");
  for (const ic of ofType("aws-native:sagemaker:InferenceComponent")) {
    const name = String(ic.inputs.inferenceComponentName ?? "");
    const resourceId = `inference-component/${name}`;
    const target = targets.find(
      (t) =>
        t.inputs.resourceId === resourceId &&
        t.inputs.scalableDimension === "sagemaker:inference-component:DesiredCopyCount",
    );
    if (!target) {
      findings.push({
        check: CHECK,
        resource: ic.name,
        message: `has no scalable target on ${resourceId} (dimension sagemaker:inference-component:DesiredCopyCount): its copies never scale`,
      });
      continue;
    }
    if (Number(target.inputs.minCapacity) !== 0) continue;
    const steps = policies.filter(
      (p) => p.inputs.policyType === "StepScaling" && p.inputs.resourceId === resourceId,
    );
    const onName = alarms.filter(
      (a) =>
        a.inputs.metricName === "NoCapacityInvocationFailures" &&
        a.inputs.namespace === "AWS/SageMaker" &&
        obj(a.inputs.dimensions).InferenceComponentName === name,
    );
    const actions = onName.flatMap((a) =>
      Array.isArray(a.inputs.alarmActions) ? a.inputs.alarmActions : [undefined],
    );
    // Before a first deploy the policies' ARNs are not known yet: nothing to compare.
    if (actions.some((arn) => typeof arn !== "string")) continue;
    // A scaling policy's ARN ends with its name, its id (`...:policyName/<name>`).
    const starter = actions.some((arn) =>
      steps.some((p) => p.id && (arn as string).endsWith(`/${p.id}`)),
    );
    if (!starter)
      findings.push({
        check: CHECK,
        resource: ic.name,
        message: `may rest at zero copies (${target.name} minCapacity 0), but no NoCapacityInvocationFailures alarm on InferenceComponentName ${name} acts on a step policy of ${resourceId}: nothing would start its first copy`,
      });
  }
  return findings;
}
