/**
 * The deploy's weights copy: before the models are pushed, the Hugging Face Hub weights the stack's
 * model repositories name are brought into the model store by the stack's CodeBuild project
 * (components/storage/modelWeights.ts, stack output `modelWeightsProject`), unless every target's
 * weights prefix already holds its marker. The deployer's machine downloads nothing.
 *
 * CodeBuild's API: StartBuild returns the build (`id`, `buildStatus` IN_PROGRESS); BatchGetBuilds
 * returns its `currentPhase`, `buildStatus` (SUCCEEDED, FAILED, FAULT, TIMED_OUT, IN_PROGRESS,
 * STOPPED) and `phases`, each with `phaseType`, `phaseStatus` and `contexts[].message`
 * (https://docs.aws.amazon.com/codebuild/latest/APIReference/API_Build.html,
 * API_BuildPhase.html).
 */
import { CodeBuildClient } from "@aws-sdk/client-codebuild";
import { HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { CapturedResource } from "../offline/engine";
import { awaitBuild } from "./codeBuild";

/**
 * Starts the weights copy project and waits for it, printing each phase. Resolves with a one-line
 * summary; rejects with a BuildError naming the build id, the failed phase and CodeBuild's message.
 */
export async function copyModelWeights(
  client: CodeBuildClient,
  projectName: string,
  io: { out(s: string): void },
  options?: { pollMs?: number; timeoutMs?: number },
): Promise<string> {
  const result = await awaitBuild(client, projectName, io, { label: "weights", ...options });
  return `weights copied by build ${result.buildId} in ${result.seconds} s`;
}

/** The marker keys (of `weightsMarkerKeys`) that are not in the bucket. */
export async function missingWeights(
  s3: S3Client,
  bucket: string,
  markerKeys: readonly string[],
): Promise<string[]> {
  const missing: string[] = [];
  for (const key of markerKeys) {
    try {
      await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    } catch (e) {
      const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404 || (e as Error).name === "NoSuchKey" || (e as Error).name === "NotFound")
        missing.push(key);
      else throw e;
    }
  }
  return missing;
}

/**
 * The deploy's weights step: nothing to do when the stack copies no weights (no project); skipped
 * when every marker is in the bucket; else the copy runs (copyModelWeights). The build itself
 * skips each destination whose marker names the same snapshot, so a re-run after a failure
 * downloads only what is missing.
 */
export async function bringModelWeights(
  clients: { codebuild: CodeBuildClient; s3: S3Client },
  target: { projectName?: string; bucket: string; markerKeys: readonly string[] },
  io: { out(s: string): void },
  options?: { pollMs?: number; timeoutMs?: number },
): Promise<string> {
  if (!target.projectName || target.markerKeys.length === 0)
    return "no hub weights to copy (no model.json names a Hugging Face Hub model)";
  const missing = await missingWeights(clients.s3, target.bucket, target.markerKeys);
  if (missing.length === 0)
    return `weights already in s3://${target.bucket}/ (${target.markerKeys.length} prefix(es)); nothing copied`;
  io.out(
    `weights: ${missing.length} of ${target.markerKeys.length} prefix(es) without weights: ${missing.map((k) => k.replace(/\/[^/]+$/, "/")).join(", ")}\n`,
  );
  return copyModelWeights(clients.codebuild, target.projectName, io, options);
}

/** The URN of the weights copy project in an offline plan (read its `name` from the state). */
export function weightsProjectUrn(resources: CapturedResource[]): string | undefined {
  const component = resources.find((r) => r.type === "llm-infra:index:ModelWeights");
  if (!component) return undefined;
  return resources.find(
    (r) => r.type === "aws:codebuild/project:Project" && r.parent === component.name,
  )?.urn;
}
