/**
 * The journey's steps that call AWS, with the AWS SDK: the region is the stack's, and the SDK's
 * standard variables (AWS_PROFILE, AWS_ENDPOINT_URL, ...) apply.
 */
import { JourneySteps, StepError } from "./journey";
import { detectDeployerCidr } from "./deployerAddress";

/** The real steps; each reads the stack's region from its plan. */
export function awsSteps(): JourneySteps {
  const notYet =
    (step: "preflight" | "images" | "models" | "smoke") => async (): Promise<never> => {
      throw new StepError(step, "the deploy", "this step is not wired yet");
    };
  return {
    preflight: notYet("preflight"),
    deployerCidr: () => detectDeployerCidr(),
    images: notYet("images"),
    models: notYet("models"),
    smoke: notYet("smoke"),
  };
}
