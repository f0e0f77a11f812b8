/**
 * The deploy's images step (automation/images.ts): started and awaited against moto's CodeBuild
 * (moto 5's start_build queues a build and its batch_get_builds reports every phase SUCCEEDED),
 * and, for what moto cannot show (a failed phase, a build that never ends), against
 * aws-sdk-client-mock.
 */
import * as assert from "assert";
import {
  BatchGetBuildsCommand,
  CodeBuildClient,
  StartBuildCommand,
} from "@aws-sdk/client-codebuild";
import { mockClient } from "aws-sdk-client-mock";
import { buildImages } from "../automation/images";
import { BuildError, failedPhaseOf } from "../automation/codeBuild";
import { MotoServer, motoBuildProject, startMoto } from "./moto";

function recorder() {
  const lines: string[] = [];
  // Each call is one line, with its newline.
  return { lines, io: { out: (s: string) => lines.push(s.replace(/\n$/, "")) } };
}

describe("CodeBuild builds awaited (the image step; the weights copy shares awaitBuild): moto", function () {
  let moto: MotoServer;
  let client: CodeBuildClient;
  before(async function () {
    moto = await startMoto(this);
    client = await motoBuildProject(moto.url, "images-builds");
  });
  after(async () => {
    client?.destroy();
    await moto?.stop();
  });

  it("starts the build, prints each phase once, and returns when it succeeds", async () => {
    const { lines, io } = recorder();
    const result = await buildImages(client, "images-builds", io, { pollMs: 10 });
    assert.match(result.buildId, /^images-builds:/);
    assert.deepStrictEqual(
      result.phases.map((p) => p.phase),
      [
        "SUBMITTED",
        "QUEUED",
        "PROVISIONING",
        "DOWNLOAD_SOURCE",
        "INSTALL",
        "PRE_BUILD",
        "BUILD",
        "POST_BUILD",
        "UPLOAD_ARTIFACTS",
        "FINALIZING",
        "COMPLETED",
      ],
    );
    assert.strictEqual(lines[0], `images: build ${result.buildId} started`);
    assert.strictEqual(lines[1], "images: SUBMITTED SUCCEEDED (0 s)");
    assert.strictEqual(lines.filter((l) => l.startsWith("images: BUILD ")).length, 1);
    assert.match(lines[lines.length - 1], /^images: build images-builds:\S+ SUCCEEDED in \d+ s$/);
  });

  it("names the project and CodeBuild's message when the project does not exist", async () => {
    const { io } = recorder();
    await assert.rejects(
      buildImages(client, "no-such-project", io, { pollMs: 10 }),
      (e: Error) =>
        e instanceof BuildError &&
        /could not start CodeBuild project no-such-project: /.test(e.message),
    );
  });
});

describe("CodeBuild builds awaited: what moto cannot show (aws-sdk-client-mock)", () => {
  // Stubbed here, not when the file loads: mockClient replaces CodeBuildClient.prototype.send,
  // which the moto suite above calls for real.
  let mock: ReturnType<typeof mockClient>;
  before(() => {
    mock = mockClient(CodeBuildClient);
  });
  afterEach(() => mock.reset());
  after(() => mock.restore());

  it("names the build, the failed phase and its message", async () => {
    mock
      .on(StartBuildCommand)
      .resolves({ build: { id: "images-builds:abc", buildStatus: "IN_PROGRESS" } });
    mock
      .on(BatchGetBuildsCommand)
      .resolvesOnce({
        builds: [
          {
            id: "images-builds:abc",
            buildStatus: "IN_PROGRESS",
            currentPhase: "BUILD",
            phases: [
              { phaseType: "SUBMITTED", phaseStatus: "SUCCEEDED" },
              { phaseType: "PRE_BUILD", phaseStatus: "SUCCEEDED", durationInSeconds: 3 },
              { phaseType: "BUILD" },
            ],
          },
        ],
      })
      .resolves({
        builds: [
          {
            id: "images-builds:abc",
            buildStatus: "FAILED",
            currentPhase: "COMPLETED",
            phases: [
              { phaseType: "SUBMITTED", phaseStatus: "SUCCEEDED" },
              { phaseType: "PRE_BUILD", phaseStatus: "SUCCEEDED", durationInSeconds: 3 },
              {
                phaseType: "BUILD",
                phaseStatus: "FAILED",
                contexts: [
                  {
                    statusCode: "COMMAND_EXECUTION_ERROR",
                    message:
                      "Error while executing command: docker pull nvcr.io/nvidia/tritonserver:26.07-py3. Reason: exit status 1",
                  },
                ],
              },
            ],
          },
        ],
      });
    const { lines, io } = recorder();
    const error = await buildImages(
      new CodeBuildClient({ region: "us-east-1" }),
      "images-builds",
      io,
      {
        pollMs: 1,
      },
    ).then(
      () => assert.fail("a failed build resolved"),
      (e: unknown) => e as BuildError,
    );
    assert.ok(error instanceof BuildError);
    assert.strictEqual(error.buildId, "images-builds:abc");
    assert.strictEqual(error.phase, "BUILD");
    assert.strictEqual(
      error.message,
      "images: build images-builds:abc FAILED in phase BUILD: COMMAND_EXECUTION_ERROR: Error while executing command: docker pull nvcr.io/nvidia/tritonserver:26.07-py3. Reason: exit status 1; its log is in CloudWatch Logs (/aws/codebuild/images-builds)",
    );
    // Each phase printed once, the running one only when it has a status.
    assert.deepStrictEqual(lines, [
      "images: build images-builds:abc started",
      "images: SUBMITTED SUCCEEDED",
      "images: PRE_BUILD SUCCEEDED (3 s)",
      "images: BUILD FAILED",
    ]);
  });

  it("gives up after the timeout, saying the build keeps running", async () => {
    mock.on(StartBuildCommand).resolves({ build: { id: "images-builds:slow" } });
    mock.on(BatchGetBuildsCommand).resolves({
      builds: [{ id: "images-builds:slow", buildStatus: "IN_PROGRESS", currentPhase: "BUILD" }],
    });
    await assert.rejects(
      buildImages(new CodeBuildClient({ region: "us-east-1" }), "images-builds", recorder().io, {
        pollMs: 1,
        timeoutMs: 5,
      }),
      /build images-builds:slow did not finish within 0 minutes \(still in BUILD\); it keeps running in CodeBuild/,
    );
  });

  it("finds no failed phase in a build whose phases all succeeded", () => {
    assert.strictEqual(
      failedPhaseOf({ phases: [{ phaseType: "BUILD", phaseStatus: "SUCCEEDED" }] }),
      undefined,
    );
    assert.deepStrictEqual(
      failedPhaseOf({ phases: [{ phaseType: "INSTALL", phaseStatus: "TIMED_OUT" }] }),
      { phase: "INSTALL", message: "no message" },
    );
  });
});
