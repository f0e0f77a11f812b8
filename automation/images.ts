/**
 * The deploy's images step: start the stack's image build project (the `imageBuildProject` stack
 * output, components/storage/imageMirror.ts), which copies NGC images into the stack's ECR and
 * builds its own images there, and wait for it, printing each phase as CodeBuild reports it
 * (automation/codeBuild.ts). No Docker runs on the deployer's machine.
 */
import { CodeBuildClient } from "@aws-sdk/client-codebuild";
import { BuildResult, awaitBuild } from "./codeBuild";

/**
 * Starts the project's build and waits until it ends, printing each phase once. Resolves with the
 * build when it succeeds; rejects with a BuildError naming the build id, the failed phase and
 * CodeBuild's message otherwise (or when it does not end within `timeoutMs`).
 */
export function buildImages(
  client: CodeBuildClient,
  projectName: string,
  io: { out(s: string): void },
  options?: { pollMs?: number; timeoutMs?: number },
): Promise<BuildResult> {
  return awaitBuild(client, projectName, io, { label: "images", ...options });
}
