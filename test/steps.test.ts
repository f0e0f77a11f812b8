/**
 * The journey's real steps against moto's server: the image step finds the stack's image build
 * project in the deployed state and awaits its build; the model step finds the model bucket the
 * foundation created, checks and pushes each local repository to the prefix its target reads, and
 * a second run uploads nothing.
 */
import { IAMClient } from "@aws-sdk/client-iam";
import * as assert from "assert";
import * as path from "path";
import { CodeBuildClient } from "@aws-sdk/client-codebuild";
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { STSClient } from "@aws-sdk/client-sts";
import { EC2Client } from "@aws-sdk/client-ec2";
import { ECRClient } from "@aws-sdk/client-ecr";
import {
  GetServiceQuotaCommand,
  ListServiceQuotasCommand,
  ServiceQuotasClient,
} from "@aws-sdk/client-service-quotas";
import { mockClient } from "aws-sdk-client-mock";
import { DeployedState, StepError } from "../automation/journey";
import { awsSteps } from "../automation/steps";
import { copyMarker } from "../components/storage/modelWeights";
import { parseStackConfig } from "../programs/config";
import { readStackFile } from "../offline/plan";
import { weightsCopiesOf, weightsMarkers } from "../modelRepository/weights";
import { PlanReport, planStack, projectRoot } from "../offline/plan";
import { MotoServer, epochTimestamps, motoBuildProject, motoClientConfig, startMoto } from "./moto";

/** A deployed state holding outputs for resources of the plan, keyed `<type> <name>`. */
function stateWith(report: PlanReport, outputs: Record<string, Record<string, unknown>>) {
  const resources = Object.entries(outputs).map(([key, out]) => {
    const [type, name] = key.split(" ");
    const r = report.resources.find((x) => x.name === name && x.type === type);
    assert.ok(r?.urn, `no resource ${name} in the plan`);
    return { urn: r.urn, type: r.type, outputs: out };
  });
  return new DeployedState({ version: 3, deployment: { resources } });
}

function recorder() {
  const lines: string[] = [];
  return { lines, out: (s: string) => void lines.push(s) };
}

describe("the journey's AWS steps against moto", function () {
  this.timeout(120000);
  let moto: MotoServer;
  let s3: S3Client;
  let codebuild: CodeBuildClient;
  let dev: PlanReport;
  const root = projectRoot();

  before(async function () {
    moto = await startMoto(this);
    s3 = new S3Client({ ...motoClientConfig(moto.url), forcePathStyle: true });
    codebuild = new CodeBuildClient(motoClientConfig(moto.url));
    epochTimestamps(codebuild);
    dev = await planStack("dev");
  });
  after(async () => {
    s3?.destroy();
    codebuild?.destroy();
    await moto?.stop();
  });

  const steps = () =>
    awsSteps(root, { s3: () => s3, codebuild: () => codebuild, build: { pollMs: 10 } });

  it("models: copies the hub weights, pushes models/chat to the prefix of each of dev's targets, then nothing on a re-run", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "llm-infra-dev-models" }));
    codebuild.destroy();
    codebuild = await motoBuildProject(moto.url, "llm-infra-dev-weights");
    const state = stateWith(dev, {
      "aws:s3/bucket:Bucket models-bucket": { bucket: "llm-infra-dev-models" },
      "aws:codebuild/project:Project model-weights-copy": { name: "llm-infra-dev-weights" },
    });
    const io = recorder();
    const first = await steps().models(dev, state, io);
    // dev pushes models/chat once, to Triton on EKS; its chat endpoint's LMI component reads the
    // hub weights.
    assert.match(
      first,
      /^weights copied by build llm-infra-dev-weights:[\w-]+ in \d+ s; 1 repositories: \d+ files uploaded, 0 unchanged$/,
    );
    // One copy of the hub model, two destinations: the LMI component's prefix itself (SageMaker
    // mounts it at /opt/ml/model) and the weights directory of Triton's vLLM model.
    const LMI_MARKER = "model-repository/chat/llama/.llm-infra-weights.json";
    const TRITON_MARKER = "model-repository/triton/llama3-8b/1/weights/.llm-infra-weights.json";
    const without = (l: string) =>
      /^ {4}weights: (\d+) of (\d+) prefix\(es\) without current weights: (.*)\n$/.exec(l);
    const firstCheck = io.lines.map(without).find((m) => m !== null);
    assert.ok(firstCheck, io.lines.join(""));
    assert.deepStrictEqual(
      [firstCheck[1], firstCheck[2], firstCheck[3].split(", ").sort()],
      ["2", "2", ["model-repository/chat/llama/", "model-repository/triton/llama3-8b/1/weights/"]],
    );
    const keys = async () =>
      (await s3.send(new ListObjectsV2Command({ Bucket: "llm-infra-dev-models" })))
        .Contents!.map((o) => o.Key!)
        .sort();
    const pushed = await keys();
    assert.ok(pushed.includes("model-repository/triton/llama3-8b/config.pbtxt"), pushed.join(", "));
    assert.ok(pushed.includes("model-repository/triton/llama3-8b/1/model.json"), pushed.join(", "));
    // No Triton repository goes to the LMI endpoint's prefix.
    assert.deepStrictEqual(
      pushed.filter((k) => k.startsWith("model-repository/chat/")),
      [],
      pushed.join(", "),
    );
    const config = await s3.send(
      new GetObjectCommand({
        Bucket: "llm-infra-dev-models",
        Key: "model-repository/triton/llama3-8b/config.pbtxt",
      }),
    );
    assert.match(await config.Body!.transformToString(), /backend: "vllm"/);
    assert.deepStrictEqual(
      io.lines.filter((l) => /models: /.test(l)).map((l) => l.replace(/: \d+ uploaded.*/s, "")),
      ["    models: triton on eks"],
    );
    // The build writes the markers in AWS; moto runs no buildspec, so they are put here, as the
    // build writes them (copyMarker). With Triton's alone, the LMI endpoint's weights are still
    // missing: the copy runs again.
    const body = copyMarker({ repoId: "NousResearch/Meta-Llama-3-8B-Instruct", revision: "main" });
    const putMarker = (Key: string, Body = body) =>
      s3.send(new PutObjectCommand({ Bucket: "llm-infra-dev-models", Key, Body }));
    await putMarker(TRITON_MARKER);
    const half = recorder();
    const second = await steps().models(dev, state, half);
    assert.match(second, /^weights copied by build llm-infra-dev-weights:[\w-]+ in \d+ s; /);
    const secondCheck = half.lines.map(without).find((m) => m !== null);
    assert.deepStrictEqual(secondCheck?.slice(1), ["1", "2", "model-repository/chat/llama/"]);
    // A marker of another revision is stale: the copy runs again for that prefix.
    await putMarker(LMI_MARKER, copyMarker({ ...JSON.parse(body), revision: "v0" }));
    const stale = recorder();
    await steps().models(dev, state, stale);
    assert.deepStrictEqual(
      stale.lines
        .map(without)
        .find((m) => m !== null)
        ?.slice(1),
      ["1", "2", "model-repository/chat/llama/"],
    );
    await putMarker(LMI_MARKER);
    const again = await steps().models(dev, state, recorder());
    assert.match(
      again,
      /^weights already in s3:\/\/llm-infra-dev-models\/ \(2 prefix\(es\)\); nothing to do; 1 repositories: 0 files uploaded, \d+ unchanged$/,
    );
    // A weights project the state does not hold is the foundation's failure, named.
    const noProject = stateWith(dev, {
      "aws:s3/bucket:Bucket models-bucket": { bucket: "llm-infra-dev-models" },
    });
    await assert.rejects(steps().models(dev, noProject, recorder()), (e: Error) => {
      assert.ok(e instanceof StepError);
      assert.strictEqual(e.resource, "model-weights-copy");
      assert.match(e.message, /did not leave the weights copy project/);
      return true;
    });
  });

  it("models: compiles a vllm-neuron endpoint's model with the Neuron export, again when its shapes change", async () => {
    const dir = path.join(root, "examples", "inferentia");
    const example = await planStack("inferentia", dir);
    await s3.send(new CreateBucketCommand({ Bucket: "llm-infra-inf2-models" }));
    codebuild.destroy();
    codebuild = await motoBuildProject(moto.url, "llm-infra-inf2-neuron");
    const state = stateWith(example, {
      "aws:s3/bucket:Bucket models-bucket": { bucket: "llm-infra-inf2-models" },
      "aws:codebuild/project:Project model-weights-neuron": { name: "llm-infra-inf2-neuron" },
    });
    const inf2Steps = () =>
      awsSteps(dir, { s3: () => s3, codebuild: () => codebuild, build: { pollMs: 10 } });
    const io = recorder();
    const first = await inf2Steps().models(example, state, io);
    assert.match(
      first,
      /^neuron export done by build llm-infra-inf2-neuron:[\w-]+ in \d+ s; the stack names no local model repository$/,
    );
    assert.ok(
      io.lines.includes(
        "    neuron export: 1 of 1 prefix(es) without current neuron export: model-repository/chat/\n",
      ),
      io.lines.join(""),
    );
    // The export writes its marker in AWS (moto runs no buildspec): as the build would, it is
    // current and nothing runs; one for a shorter sequence is stale, and the export runs again.
    const config = parseStackConfig(readStackFile("inferentia", dir), "inferentia", dir);
    const [marker] = weightsMarkers(weightsCopiesOf(config, dir));
    const put = (body: string) =>
      s3.send(
        new PutObjectCommand({ Bucket: "llm-infra-inf2-models", Key: marker.key, Body: body }),
      );
    await put(marker.body);
    const again = await inf2Steps().models(example, state, recorder());
    assert.match(
      again,
      /^neuron export already in s3:\/\/llm-infra-inf2-models\/ \(1 prefix\(es\)\); nothing to do/,
    );
    await put(marker.body.replace('"sequenceLength":4096', '"sequenceLength":2048'));
    const stale = await inf2Steps().models(example, state, recorder());
    assert.match(stale, /^neuron export done by build /);
  });

  it("preflight: prints the report and blocks on a quota below dev's peak, naming the code", async () => {
    const quotas = new ServiceQuotasClient(motoClientConfig(moto.url));
    const quota = (value: number) => {
      const m = mockClient(quotas);
      m.on(GetServiceQuotaCommand).callsFake((input: { QuotaCode: string }) => ({
        Quota: { QuotaCode: input.QuotaCode, QuotaName: `quota ${input.QuotaCode}`, Value: value },
      }));
      m.on(ListServiceQuotasCommand).resolves({
        Quotas: [{ QuotaName: "ml.g5.xlarge for endpoint usage", QuotaCode: "L-SM", Value: value }],
      });
      return m;
    };
    const clients = {
      sts: new STSClient(motoClientConfig(moto.url)),
      ec2: new EC2Client(motoClientConfig(moto.url)),
      quotas,
      ecr: new ECRClient(motoClientConfig(moto.url)),
      s3,
      iam: new IAMClient(motoClientConfig(moto.url)),
    };
    const withQuota = (value: number) => {
      const m = quota(value);
      return {
        steps: awsSteps(root, { preflightClients: () => clients }),
        restore: () => m.restore(),
      };
    };
    const none = withQuota(0);
    try {
      const io = recorder();
      const blocked = await none.steps.preflight(dev, io);
      assert.strictEqual(blocked.blocked, true);
      assert.match(blocked.summary, /quota L-3819A6DF [^:]*: 0 vCPUs/);
      assert.match(io.lines.join(""), /^BLOCKER quota: L-3819A6DF/m);
    } finally {
      none.restore();
    }
    // Enough quota: the image the deploy copies and the models it pushes are not missing.
    const plenty = withQuota(64);
    try {
      const clean = await plenty.steps.preflight(dev, recorder());
      assert.deepStrictEqual(clean.blocked, false, clean.summary);
      assert.match(clean.summary, /^\d+ checks, no blockers$/);
    } finally {
      plenty.restore();
    }
  });

  it("models: names the model store when the foundation left no bucket", async () => {
    await assert.rejects(steps().models(dev, stateWith(dev, {}), recorder()), (e: Error) => {
      assert.ok(e instanceof StepError);
      assert.strictEqual(e.step, "models");
      assert.strictEqual(e.resource, "models-bucket");
      assert.match(e.message, /did not leave the model bucket/);
      return true;
    });
  });

  it("images: starts dev's image build project and waits for it", async () => {
    codebuild.destroy();
    codebuild = await motoBuildProject(moto.url, "llm-infra-dev-images");
    const state = stateWith(dev, {
      "aws:codebuild/project:Project images-builds": { name: "llm-infra-dev-images" },
    });
    const io = recorder();
    const summary = await steps().images(dev, state, io);
    assert.match(summary, /^build llm-infra-dev-images:[\w-]+ succeeded in \d+ s$/);
    assert.ok(
      io.lines.every((l) => l.startsWith("    ") && l.endsWith("\n")),
      io.lines.join(""),
    );
    // A project the state does not hold is the foundation's failure, named.
    await assert.rejects(
      steps().images(dev, stateWith(dev, {}), recorder()),
      /did not leave the image build project/,
    );
    // A project AWS does not know: the step names it and carries CodeBuild's message.
    const gone = stateWith(dev, {
      "aws:codebuild/project:Project images-builds": { name: "no-such-project" },
    });
    await assert.rejects(steps().images(dev, gone, recorder()), (e: Error) => {
      assert.ok(e instanceof StepError);
      assert.strictEqual(e.step, "images");
      assert.match(e.resource, /no-such-project/);
      return true;
    });
  });
});
