/**
 * Where `npm run deploy` gets its stacks: the Pulumi CLI through the Automation API's
 * LocalWorkspace, behind a small interface so the deploy logic can be tested with a fake.
 */
import * as auto from "@pulumi/pulumi/automation";

/** The operations deploy runs on a stack: the part of the Automation API's Stack it uses. */
export type DeployStack = Pick<
  auto.Stack,
  | "name"
  | "preview"
  | "up"
  | "refresh"
  | "destroy"
  | "previewRefresh"
  | "previewDestroy"
  | "exportStack"
  | "outputs"
>;

export interface Workspace {
  /** Checks the tools are there before anything runs (throws PulumiCliError when not). */
  ready(): Promise<void>;
  /**
   * Gives the stack to deploy: created on the logged-in backend when it does not exist yet.
   * `envVars` are given to every Pulumi command run on it (the program reads them).
   */
  selectStack(
    stackName: string,
    workDir: string,
    envVars?: Record<string, string>,
  ): Promise<DeployStack>;
}

/** Where to get the Pulumi CLI, for every message that says it is missing or too old. */
export const PULUMI_INSTALL =
  "install it with `curl -fsSL https://get.pulumi.com | sh` (or see https://www.pulumi.com/docs/install/), then `pulumi login`";

/** The Pulumi CLI is not on PATH, or too old for the Automation API. */
export class PulumiCliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PulumiCliError";
  }
}

/** The Automation API's CommandError keeps the failed command's result (not in its types). */
interface CommandResultLike {
  stderr?: string;
  code?: number;
  err?: { code?: string };
}
export function commandResultOf(e: unknown): CommandResultLike | undefined {
  if (!(e instanceof auto.CommandError)) return undefined;
  return (e as unknown as { commandResult?: CommandResultLike }).commandResult;
}

/**
 * The oldest Pulumi CLI the stack program runs under: 3.207.0, the first with the `replaceWith`
 * resource option (Pulumi's blog, "New in Pulumi IaC: replaceWith Resource Option": "supported as
 * of Pulumi v3.207.0"), which ties scaling policies and off-hours actions to their scalable
 * target. Under an older CLI the SDK refuses the option ("The Pulumi CLI does not support the
 * ReplaceWith option"), after the deploy has started; the version check refuses it first.
 */
export const MINIMUM_PULUMI_CLI = "3.207.0";

/** Finds the Pulumi CLI on PATH, turning "not found" and "too old" into a PulumiCliError. */
export async function findPulumiCli(): Promise<auto.PulumiCommand> {
  let command: auto.PulumiCommand;
  try {
    command = await auto.PulumiCommand.get();
  } catch (e) {
    if (commandResultOf(e)?.err?.code === "ENOENT") {
      throw new PulumiCliError(
        `the Pulumi CLI is not installed (no \`pulumi\` on PATH): ${PULUMI_INSTALL}`,
      );
    }
    if (e instanceof Error && /Minimum version requirement failed/.test(e.message)) {
      throw new PulumiCliError(
        `the Pulumi CLI is too old for the Automation API: ${PULUMI_INSTALL}`,
      );
    }
    throw e;
  }
  // The SDK's own SemVer compares (a version this package's semver made would be another class).
  if (command.version !== null && command.version.compare(MINIMUM_PULUMI_CLI) < 0)
    throw new PulumiCliError(
      `the Pulumi CLI is ${command.version.version}, older than ${MINIMUM_PULUMI_CLI}, which the stacks need: ${PULUMI_INSTALL}`,
    );
  return command;
}

/** The real workspace: the Pulumi CLI on PATH, the project in `workDir` (Pulumi.yaml). */
export const pulumiCliWorkspace: Workspace = {
  async ready() {
    await findPulumiCli();
  },
  async selectStack(stackName, workDir, envVars) {
    const pulumiCommand = await findPulumiCli();
    return auto.LocalWorkspace.createOrSelectStack(
      { stackName, workDir },
      { workDir, pulumiCommand, envVars },
    );
  },
};
