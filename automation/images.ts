/**
 * The deploy's images step: start the stack's image build project (the `imageBuildProject` stack
 * output, components/storage/imageMirror.ts), which copies NGC images into the stack's ECR and
 * builds its own images there, and wait for it, printing each phase as CodeBuild reports it. No
 * Docker runs on the deployer's machine.
 *
 * CodeBuild's API: StartBuild returns the build (`id`, `buildStatus` IN_PROGRESS); BatchGetBuilds
 * returns its `currentPhase`, `buildStatus` (SUCCEEDED, FAILED, FAULT, TIMED_OUT, IN_PROGRESS,
 * STOPPED) and `phases`, each with `phaseType`, `phaseStatus` and `contexts[].message`
 * (https://docs.aws.amazon.com/codebuild/latest/APIReference/API_Build.html,
 * API_BuildPhase.html).
 */
import {
  BatchGetBuildsCommand,
  Build,
  BuildPhase,
  CodeBuildClient,
  StartBuildCommand,
} from "@aws-sdk/client-codebuild";

export interface ImageBuildResult {
  buildId: string;
  status: string;
  /** Seconds from the start to the end CodeBuild reports (or to the last poll). */
  seconds: number;
  /** Every phase CodeBuild reported, in order, with its status. */
  phases: { phase: string; status: string }[];
}

/** A build that did not succeed: names the build, the phase that failed and CodeBuild's message. */
export class ImageBuildError extends Error {
  constructor(
    message: string,
    public readonly buildId: string | undefined,
    public readonly phase?: string,
  ) {
    super(message);
    this.name = "ImageBuildError";
  }
}

const DONE = new Set(["SUCCEEDED", "FAILED", "FAULT", "TIMED_OUT", "STOPPED"]);

/** The phase that failed, and its message, from a finished build. */
export function failedPhase(build: Build): { phase: string; message: string } | undefined {
  const failed = (build.phases ?? []).find(
    (p) => p.phaseStatus !== undefined && p.phaseStatus !== "SUCCEEDED",
  );
  if (!failed) return undefined;
  const message = (failed.contexts ?? [])
    .map((c) => [c.statusCode, c.message].filter(Boolean).join(": "))
    .filter((m) => m.length > 0)
    .join("; ");
  return { phase: failed.phaseType ?? "UNKNOWN", message: message || "no message" };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts the project's build and waits until it ends, printing each phase once. Resolves with the
 * build when it succeeds; rejects with an ImageBuildError naming the build id, the failed phase
 * and CodeBuild's message otherwise (or when it does not end within `timeoutMs`).
 */
export async function buildImages(
  client: CodeBuildClient,
  projectName: string,
  io: { out(s: string): void },
  options?: { pollMs?: number; timeoutMs?: number },
): Promise<ImageBuildResult> {
  const pollMs = options?.pollMs ?? 15_000;
  const timeoutMs = options?.timeoutMs ?? 2 * 60 * 60 * 1000;
  let started: Build | undefined;
  try {
    started = (await client.send(new StartBuildCommand({ projectName }))).build;
  } catch (e) {
    throw new ImageBuildError(
      `images: could not start the image build project ${projectName}: ${(e as Error).message}`,
      undefined,
    );
  }
  const buildId = started?.id;
  if (!buildId)
    throw new ImageBuildError(`images: CodeBuild returned no build for ${projectName}`, undefined);
  io.out(`images: build ${buildId} started`);
  const until = Date.now() + timeoutMs;
  const seen: { phase: string; status: string }[] = [];
  const report = (phases: BuildPhase[]) => {
    for (const p of phases) {
      const phase = p.phaseType ?? "UNKNOWN";
      // A phase is reported once it has a status (the current one has none yet).
      if (p.phaseStatus === undefined || seen.some((s) => s.phase === phase)) continue;
      seen.push({ phase, status: p.phaseStatus });
      const seconds = p.durationInSeconds !== undefined ? ` (${p.durationInSeconds} s)` : "";
      io.out(`images: ${phase} ${p.phaseStatus}${seconds}`);
    }
  };
  let build: Build = started!;
  const startMs = (started?.startTime ?? new Date()).getTime();
  for (;;) {
    const got = await client.send(new BatchGetBuildsCommand({ ids: [buildId] }));
    const current = got.builds?.[0];
    if (!current) throw new ImageBuildError(`images: build ${buildId} is not found`, buildId);
    build = current;
    report(build.phases ?? []);
    if (DONE.has(build.buildStatus ?? "")) break;
    if (Date.now() > until)
      throw new ImageBuildError(
        `images: build ${buildId} did not finish within ${Math.round(timeoutMs / 60000)} minutes (still ${build.currentPhase ?? "running"}); it keeps running in CodeBuild`,
        buildId,
        build.currentPhase,
      );
    await sleep(pollMs);
  }
  const seconds = Math.round(((build.endTime ?? new Date()).getTime() - startMs) / 1000);
  if (build.buildStatus !== "SUCCEEDED") {
    const failed = failedPhase(build);
    throw new ImageBuildError(
      `images: build ${buildId} ${build.buildStatus}${failed ? ` in phase ${failed.phase}: ${failed.message}` : ""}; its log is in CloudWatch Logs (/aws/codebuild/${projectName})`,
      buildId,
      failed?.phase,
    );
  }
  io.out(`images: build ${buildId} SUCCEEDED in ${seconds} s`);
  return { buildId, status: build.buildStatus, seconds, phases: seen };
}
