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
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
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
  options?: { pollMs?: number; timeoutMs?: number; label?: string },
): Promise<string> {
  const label = options?.label ?? "weights";
  const result = await awaitBuild(client, projectName, io, { ...options, label });
  return `${label} ${label === "weights" ? "copied" : "done"} by build ${result.buildId} in ${result.seconds} s`;
}

/** A destination's marker and what it must hold (modelRepository/weights.ts weightsMarkers). */
export interface WeightsMarker {
  key: string;
  body: string;
}

/**
 * The markers (of `weightsMarkers`) that are not in the bucket, or that name another snapshot or
 * other Neuron shapes: a changed `hubRevision` or `contextLength` copies or compiles again.
 */
export async function missingWeights(
  s3: S3Client,
  bucket: string,
  markers: readonly WeightsMarker[],
): Promise<string[]> {
  const missing: string[] = [];
  for (const { key, body } of markers) {
    try {
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if ((await object.Body?.transformToString()) !== body) missing.push(key);
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
 * The deploy's weights step for one project (the copy, or the Neuron export): nothing to do when
 * the stack has no such project; skipped when every marker is in the bucket and current; else the
 * build runs (copyModelWeights). The build itself skips each destination whose marker names the
 * same snapshot, so a re-run after a failure does only what is missing.
 */
export async function bringModelWeights(
  clients: { codebuild: CodeBuildClient; s3: S3Client },
  target: { projectName?: string; bucket: string; markers: readonly WeightsMarker[] },
  io: { out(s: string): void },
  options?: { pollMs?: number; timeoutMs?: number; label?: string },
): Promise<string> {
  const label = options?.label ?? "weights";
  if (!target.projectName || target.markers.length === 0)
    return "no hub weights to copy (no model.json names a Hugging Face Hub model)";
  const missing = await missingWeights(clients.s3, target.bucket, target.markers);
  if (missing.length === 0)
    return `${label} already in s3://${target.bucket}/ (${target.markers.length} prefix(es)); nothing to do`;
  io.out(
    `${label}: ${missing.length} of ${target.markers.length} prefix(es) without current ${label}: ${missing.map((k) => k.replace(/\/[^/]+$/, "/")).join(", ")}\n`,
  );
  return copyModelWeights(clients.codebuild, target.projectName, io, { ...options, label });
}

/** The URN of the weights copy project in an offline plan (read its `name` from the state). */
export function weightsProjectUrn(resources: CapturedResource[]): string | undefined {
  const component = resources.find((r) => r.type === "llm-infra:index:ModelWeights");
  if (!component) return undefined;
  return resources.find(
    (r) => r.type === "aws:codebuild/project:Project" && r.parent === component.name,
  )?.urn;
}
