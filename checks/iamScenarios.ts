/**
 * The IAM scenario table: for each principal the stack creates, the calls it must be able to make
 * and the calls that must be refused, evaluated over the policies the stack itself creates. What a
 * principal must do is read from the resources that need it (the model's S3 data source, the
 * serving image, the alarms' actions, the API's integration, the controllers' service accounts),
 * never from the policy under test.
 */
import { Finding, PlanResource } from "./iamDocuments";
import { Decision, evaluate } from "./iamEvaluate";
import { Plan, Scenario, scopeOf } from "./iamPlan";
import { componentEndpointScenarios, sagemakerScenarios } from "./iamScenariosSageMaker";
import { alarmTopicScenarios, apiScenarios, controllerScenarios } from "./iamScenariosPlatform";
import { weightsCopyScenarios } from "./iamScenariosWeights";

export { Scenario } from "./iamPlan";

const CHECK = "iam-scenarios";

/** The scenario table of a plan. */
export function iamScenarios(resources: PlanResource[]): Scenario[] {
  const scope = scopeOf(resources);
  if (!scope) return [];
  const plan = new Plan(resources, scope);
  return [
    ...sagemakerScenarios(plan),
    ...componentEndpointScenarios(plan),
    ...alarmTopicScenarios(plan),
    ...apiScenarios(plan),
    ...controllerScenarios(plan),
    ...weightsCopyScenarios(plan),
  ];
}

/** The decision of one scenario, or the evaluator's reason it cannot decide. */
export function decide(s: Scenario): Decision | Error {
  try {
    return evaluate(s.request, s.policies);
  } catch (e) {
    return e as Error;
  }
}

/** Every scenario whose decision is not the expected one, one finding each. */
export function checkIamScenarios(resources: PlanResource[]): Finding[] {
  const findings: Finding[] = [];
  for (const s of iamScenarios(resources)) {
    const decision = decide(s);
    const allowed = decision === "allow";
    if (decision instanceof Error) {
      findings.push({
        check: CHECK,
        resource: s.resource,
        message: `${s.description}: ${decision.message}`,
      });
    } else if (allowed !== (s.expect === "allow")) {
      findings.push({
        check: CHECK,
        resource: s.resource,
        message: `${s.description}: expected ${s.expect}, the policies give ${decision} (${s.request.action} on ${s.request.resource})`,
      });
    }
  }
  return findings;
}
