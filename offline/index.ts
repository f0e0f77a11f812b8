/**
 * The offline plan as a library (`import { planProject } from "llm-infra/plan"`): run a Pulumi
 * program that uses the components under the package's mocks, and get what it would create, its
 * monthly cost, the policy verdicts and the cost per token of its serving targets; no AWS
 * account and no Pulumi CLI. `llm-infra plan` is this with a report printed.
 */
export {
  PlanReport,
  PlanSettings,
  PolicyVerdict,
  ProgramPlanOptions,
  UsageError,
  isUserError,
  mandatoryViolations,
  planProgram,
  planSettings,
} from "./plan";
export { ProjectPlanOptions, PulumiProject, planProject, readProject } from "./program";
export { toJson, toMermaid, toText } from "./report";
export { CapturedResource, CaptureOptions, capture } from "./engine";
export { OfflineMocks, MOCK_ACCOUNT_ID } from "./mocks";
