/**
 * The deploy's weights copy (automation/modelWeights.ts): the markers read from moto's S3, the
 * build started and awaited against moto's CodeBuild (moto 5's start_build queues a build and its
 * batch_get_builds reports every phase SUCCEEDED, moto/codebuild/models.py). A failed phase and a
 * build that never ends are the shared awaitBuild's, in test/codeBuild.test.ts. The download from
 * the hub itself runs only in AWS (docs/verification.md).
 */
import * as assert from "assert";
import {
  CodeBuildClient,
  CreateProjectCommand,
  ListBuildsForProjectCommand,
} from "@aws-sdk/client-codebuild";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
  bringModelWeights,
  copyModelWeights,
  missingWeights,
  weightsProjectUrn,
} from "../automation/modelWeights";
import { WEIGHTS_MARKER } from "../modelRepository/hubModels";
import { planStack } from "../offline/plan";
import { MOTO_ACCOUNT, MotoServer, epochTimestamps, motoClientConfig, startMoto } from "./moto";

function recorder() {
  const lines: string[] = [];
  return { lines, io: { out: (s: string) => lines.push(s) } };
}

const PROJECT = "model-weights-copy";
const BUCKET = "models";
const KEYS = [
  `model-repository/chat/llama3-8b/1/weights/${WEIGHTS_MARKER}`,
  `model-repository/triton/llama3-8b/1/weights/${WEIGHTS_MARKER}`,
];
const BODY = JSON.stringify({ repoId: "NousResearch/Meta-Llama-3-8B-Instruct", revision: "main" });
const MARKERS = KEYS.map((key) => ({ key, body: BODY }));

// Starting and awaiting the build (a failed phase, a timeout, a project that does not exist) is
// automation/codeBuild.ts's awaitBuild, tested once in test/codeBuild.test.ts.
describe("weights step against moto's S3 and CodeBuild", function () {
  this.timeout(60000);
  let moto: MotoServer;
  let codebuild: CodeBuildClient;
  let s3: S3Client;
  const builds = async () =>
    (await codebuild.send(new ListBuildsForProjectCommand({ projectName: PROJECT }))).ids ?? [];
  before(async function () {
    moto = await startMoto(this);
    codebuild = new CodeBuildClient(motoClientConfig(moto.url));
    epochTimestamps(codebuild);
    s3 = new S3Client({ ...motoClientConfig(moto.url), forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await codebuild.send(
      new CreateProjectCommand({
        name: PROJECT,
        // moto asks a location of every source type; the stack's project is NO_SOURCE.
        source: { type: "NO_SOURCE", location: "none", buildspec: "version: 0.2" },
        artifacts: { type: "NO_ARTIFACTS" },
        environment: {
          type: "LINUX_CONTAINER",
          image: "aws/codebuild/standard:7.0",
          computeType: "BUILD_GENERAL1_MEDIUM",
        },
        serviceRole: `arn:aws:iam::${MOTO_ACCOUNT}:role/${PROJECT}`,
      }),
    );
  });
  after(async () => {
    codebuild?.destroy();
    s3?.destroy();
    await moto?.stop();
  });

  it("starts the copy, prints each phase once, and names the build when it succeeds", async () => {
    const { lines, io } = recorder();
    const summary = await copyModelWeights(codebuild, PROJECT, io, { pollMs: 10 });
    const [id] = await builds();
    assert.match(id, /^model-weights-copy:/);
    assert.match(summary, new RegExp(`^weights copied by build ${id} in \\d+ s$`));
    assert.strictEqual(lines[0], `weights: build ${id} started\n`);
    // moto appends the phases again on every BatchGetBuilds; each is printed once.
    assert.strictEqual(lines.filter((l) => l.startsWith("weights: BUILD ")).length, 1);
    assert.deepStrictEqual(
      lines.slice(1, -1).map((l) => l.split(" ")[1]),
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
    assert.match(lines[lines.length - 1], /^weights: build \S+ SUCCEEDED in \d+ s\n$/);
  });

  it("copies when a target's weights are missing, and only then", async () => {
    const before = (await builds()).length;
    assert.deepStrictEqual(await missingWeights(s3, BUCKET, MARKERS), KEYS);
    const { lines, io } = recorder();
    const target = { projectName: PROJECT, bucket: BUCKET, markers: MARKERS };
    const clients = { codebuild, s3 };
    await bringModelWeights(clients, target, io, { pollMs: 10 });
    assert.strictEqual((await builds()).length, before + 1);
    assert.match(
      lines[0],
      /^weights: 2 of 2 prefix\(es\) without current weights: model-repository\/chat\/llama3-8b\/1\/weights\/, /,
    );

    // One marker present: the copy still runs, for the other.
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEYS[0], Body: BODY }));
    assert.deepStrictEqual(await missingWeights(s3, BUCKET, MARKERS), [KEYS[1]]);
    const partial = recorder();
    await bringModelWeights(clients, target, partial.io, { pollMs: 10 });
    assert.strictEqual((await builds()).length, before + 2);
    assert.match(
      partial.lines[0],
      /^weights: 1 of 2 prefix\(es\) without current weights: model-repository\/triton\//,
    );

    // A marker naming another revision is stale: the copy runs again (a changed hubRevision).
    const older = JSON.stringify({
      repoId: "NousResearch/Meta-Llama-3-8B-Instruct",
      revision: "v1",
    });
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEYS[1], Body: older }));
    assert.deepStrictEqual(await missingWeights(s3, BUCKET, MARKERS), [KEYS[1]]);

    // Every marker present and current: nothing starts.
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEYS[1], Body: BODY }));
    const skipped = await bringModelWeights(clients, target, recorder().io, { pollMs: 10 });
    assert.strictEqual(skipped, "weights already in s3://models/ (2 prefix(es)); nothing to do");
    assert.strictEqual((await builds()).length, before + 2);
  });

  it("does nothing for a stack that copies no weights", async () => {
    const before = (await builds()).length;
    const said = await bringModelWeights(
      { codebuild, s3 },
      { bucket: BUCKET, markers: [] },
      recorder().io,
    );
    assert.match(said, /^no hub weights to copy/);
    assert.strictEqual((await builds()).length, before);
  });

  it("finds the project in a shipped stack's plan, to read its name from the state", async () => {
    const report = await planStack("dev");
    assert.match(
      weightsProjectUrn(report.resources) ?? "",
      /ModelWeights\$aws:codebuild\/project:Project::model-weights-copy$/,
    );
  });
});
