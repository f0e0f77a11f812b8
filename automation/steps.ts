/**
 * The journey's steps that call AWS, with the AWS SDK: the region is the stack's, and the SDK's
 * standard variables (AWS_PROFILE, AWS_ENDPOINT_URL, ...) apply.
 */
import { PlanReport, readStackFile } from "../offline/plan";
import { StackConfig, parseStackConfig } from "../programs/config";
import { JourneySteps, StepError } from "./journey";
import { detectDeployerCidr } from "./deployerAddress";
import { smokeClients, smokeInputOf, smokeTest } from "./smoke";

/** The stack's parsed configuration, as the program reads it. */
function stackConfig(report: PlanReport, root: string): StackConfig {
  return parseStackConfig(readStackFile(report.stack, root), report.stack);
}

/** The real steps for the project in `root`; each reads the stack's region from its plan. */
export function awsSteps(root: string): JourneySteps {
  const notYet = (step: "preflight" | "images" | "models") => async (): Promise<never> => {
    throw new StepError(step, "the deploy", "this step is not wired yet");
  };
  return {
    preflight: notYet("preflight"),
    deployerCidr: () => detectDeployerCidr(),
    images: notYet("images"),
    models: notYet("models"),
    async smoke(report, outputs, io) {
      const input = smokeInputOf(outputs, stackConfig(report, root));
      const result = await smokeTest(input, smokeClients(report.region), io);
      const failed = result.targets.find((t) => t.status === "failed");
      if (failed)
        throw new StepError(
          "smoke",
          failed.resource,
          `${failed.step ?? "request"}: ${failed.message ?? "failed"}`,
        );
      const count = (status: string) => result.targets.filter((t) => t.status === status).length;
      const skipped = count("skipped");
      return `${count("ok")} answered${skipped > 0 ? `, ${skipped} skipped (no replica to ask)` : ""}`;
    },
  };
}
