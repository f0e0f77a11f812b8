/**
 * Starting a CodeBuild build and waiting for it, printing each phase once: what the deploy's image
 * step (automation/images.ts) and weights copy (automation/modelWeights.ts) share.
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

/** Build statuses after which a build does not change (API_Build.html `buildStatus`). */
const DONE = new Set(["SUCCEEDED", "FAILED", "FAULT", "TIMED_OUT", "STOPPED"]);

/** A build that did not succeed: names the build, the phase that failed and CodeBuild's message. */
export class BuildError extends Error {
  constructor(
    message: string,
    readonly buildId: string | undefined,
    readonly phase?: string,
  ) {
    super(message);
    this.name = "BuildError";
  }
}

export interface BuildResult {
  buildId: string;
  /** Seconds from the start to the end CodeBuild reports. */
  seconds: number;
  /** Each phase CodeBuild reported, once, in order, with its status. */
  phases: { phase: string; status: string }[];
}

/** The first phase that did not succeed in a finished build, and its messages. */
export function failedPhaseOf(build: Build): { phase: string; message: string } | undefined {
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
 * Starts a build of `projectName` and waits until it ends, printing each phase once as
 * `<label>: <PHASE> <STATUS> (<n> s)`. Resolves when it succeeds; rejects with a BuildError naming
 * the build id, the failed phase and CodeBuild's message otherwise, or when it does not end within
 * `timeoutMs` (the build keeps running in CodeBuild). The part a deploy's image copy and weights
 * copy share.
 */
export async function awaitBuild(
  client: CodeBuildClient,
  projectName: string,
  io: { out(s: string): void },
  options: { label: string; pollMs?: number; timeoutMs?: number },
): Promise<BuildResult> {
  const { label } = options;
  const pollMs = options.pollMs ?? 15_000;
  const timeoutMs = options.timeoutMs ?? 2 * 60 * 60 * 1000;
  let started: Build | undefined;
  try {
    started = (await client.send(new StartBuildCommand({ projectName }))).build;
  } catch (e) {
    throw new BuildError(
      `${label}: could not start CodeBuild project ${projectName}: ${(e as Error).message}`,
      undefined,
    );
  }
  const buildId = started?.id;
  if (!buildId)
    throw new BuildError(`${label}: CodeBuild returned no build for ${projectName}`, undefined);
  io.out(`${label}: build ${buildId} started\n`);
  const until = Date.now() + timeoutMs;
  const seen: { phase: string; status: string }[] = [];
  const report = (phases: BuildPhase[]) => {
    for (const p of phases) {
      const phase = p.phaseType ?? "UNKNOWN";
      // A phase is reported once it has a status (the current one has none yet).
      if (p.phaseStatus === undefined || seen.some((s) => s.phase === phase)) continue;
      seen.push({ phase, status: p.phaseStatus });
      const seconds = p.durationInSeconds !== undefined ? ` (${p.durationInSeconds} s)` : "";
      io.out(`${label}: ${phase} ${p.phaseStatus}${seconds}\n`);
    }
  };
  let build: Build;
  for (;;) {
    const got = await client.send(new BatchGetBuildsCommand({ ids: [buildId] }));
    const current = got.builds?.[0];
    if (!current) throw new BuildError(`${label}: build ${buildId} is not found`, buildId);
    build = current;
    report(build.phases ?? []);
    if (DONE.has(build.buildStatus ?? "")) break;
    if (Date.now() > until)
      throw new BuildError(
        `${label}: build ${buildId} did not finish within ${Math.round(timeoutMs / 60000)} minutes (still in ${build.currentPhase ?? "progress"}); it keeps running in CodeBuild`,
        buildId,
        build.currentPhase,
      );
    await sleep(pollMs);
  }
  const startMs = (build.startTime ?? started?.startTime ?? new Date()).getTime();
  const seconds = Math.max(
    0,
    Math.round(((build.endTime ?? new Date()).getTime() - startMs) / 1000),
  );
  if (build.buildStatus !== "SUCCEEDED") {
    const failed = failedPhaseOf(build);
    throw new BuildError(
      `${label}: build ${buildId} ${build.buildStatus}${failed ? ` in phase ${failed.phase}: ${failed.message}` : ""}; its log is in CloudWatch Logs (/aws/codebuild/${projectName})`,
      buildId,
      failed?.phase,
    );
  }
  io.out(`${label}: build ${buildId} SUCCEEDED in ${seconds} s\n`);
  return { buildId, seconds, phases: seen };
}
