import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "js-yaml";
import { withAsyncChat } from "./helpers";
import { GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require("s3rver");
import {
  ModelCheckError,
  listRepositoryFiles,
  progressLine,
  pushFiles,
  pushModel,
} from "../modelRepository/push";
import { modelPushesOf } from "../modelRepository/targets";
import { parseStackConfig } from "../programs/config";
import { projectRoot, readStackFile } from "../offline/plan";
import { main } from "../scripts/model";
import { copyExampleModels } from "./helpers";

/** s3rver on 127.0.0.1 (an ephemeral port), one bucket, files in a temporary directory. */
async function startS3(bucket: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "s3rver-"));
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  const { address, port } = (await server.run()) as { address: string; port: number };
  assert.strictEqual(address, "127.0.0.1");
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      await server.close();
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}

function client(url: string): S3Client {
  // s3rver's default credentials.
  return new S3Client({
    region: "us-east-1",
    endpoint: url,
    forcePathStyle: true,
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
  });
}

async function keys(c: S3Client, bucket: string): Promise<string[]> {
  const r = await c.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (r.Contents ?? []).map((o) => o.Key!).sort();
}

async function body(c: S3Client, bucket: string, key: string): Promise<Buffer> {
  const r = await c.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

function vllmRepo(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "push-repo-"));
  // The model a Triton endpoint of tritonEndpointStack loads by name (tritonModelName llama3-8b).
  fs.mkdirSync(path.join(dir, "llama3-8b", "1"), { recursive: true });
  fs.writeFileSync(
    path.join(dir, "llama3-8b", "config.pbtxt"),
    'name: "llama3-8b"\nbackend: "python"\nmax_batch_size: 0\n',
  );
  fs.writeFileSync(path.join(dir, "llama3-8b", "1", "model.py"), "print('hi')\n");
  return dir;
}

/**
 * A shipped stack (its raw config) with one SageMaker endpoint on SageMaker's Triton image (the
 * catalog's `triton`, the base flavour) loading llama3-8b, in place of the shipped LMI container,
 * which reads hub weights and no model repository.
 */
function tritonEndpointStack(
  stack: string,
  index: number,
  change: Record<string, unknown> = {},
): Record<string, unknown> {
  // dev's chat endpoint hosts inference components: its single-model form is the base.
  const shipped = readStackFile(stack, projectRoot());
  const raw = stack === "dev" ? withAsyncChat(shipped) : shipped;
  const sm = raw["llm-infra:sagemaker"] as { endpoints: Record<string, unknown>[] };
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { image, imageVersion, hubModel, ...endpoint } = sm.endpoints[index];
  sm.endpoints[index] = { ...endpoint, image: "triton", tritonModelName: "llama3-8b", ...change };
  return raw;
}

/** A directory holding Pulumi.<stack>.yaml with that config, for `--dir`. */
function stackDir(stack: string, raw: Record<string, unknown>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-"));
  fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), YAML.dump({ config: raw }));
  return dir;
}

/** A project root holding models/py (vllmRepo's llama3-8b) and the example models/chat. */
function rootWithPythonModel(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "root-"));
  copyExampleModels(dir);
  fs.cpSync(vllmRepo(), path.join(dir, "models", "py"), { recursive: true });
  return dir;
}

describe("model push over HTTP to a local S3 (s3rver)", function () {
  this.timeout(60000);
  const bucket = "models";
  let s3: { url: string; stop: () => Promise<void> };
  let c: S3Client;
  before(async () => {
    // test/client.test.ts stubs S3Client.prototype.send (aws-sdk-client-mock) when it loads and
    // never restores it; mocha runs several files in one process, so put the real send back.
    (S3Client.prototype.send as unknown as { restore?: () => void }).restore?.();
    s3 = await startS3(bucket);
    c = client(s3.url);
  });
  after(async () => {
    c.destroy();
    await s3.stop();
  });

  const run = async (argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(argv, {
      io: { out: (s) => out.push(s), err: (s) => err.push(s) },
      s3Client: () => client(s3.url),
    });
    return { code, out: out.join(""), err: err.join("") };
  };

  it("lands at the prefix each target of a stack reads", async () => {
    const repo = vllmRepo();
    // The shipped dev's chat endpoint serves hub weights on LMI: nothing to push there.
    const lmi = await run([
      "push",
      repo,
      "--stack",
      "dev",
      "--endpoint",
      "chat/llama",
      "--bucket",
      bucket,
    ]);
    assert.strictEqual(lmi.code, 2);
    assert.match(
      lmi.err,
      /^error: stack dev has no Triton target --endpoint chat\/llama: endpoint chat\/llama serves hub weights with image lmi .*nothing to check or push; it has --triton\n$/,
    );
    assert.deepStrictEqual(await keys(c, bucket), []);
    const withEndpoint = stackDir("dev", tritonEndpointStack("dev", 0));
    const cases: [string[], string][] = [
      [["--stack", "dev", "--endpoint", "chat", "--dir", withEndpoint], "model-repository/chat"],
      [["--stack", "dev", "--triton"], "model-repository/triton"],
      [["--stack", "staging", "--fleet"], "model-repository/fleet"],
    ];
    for (const [target, prefix] of cases) {
      const r = await run(["push", repo, ...target, "--bucket", bucket, "--endpoint-url", s3.url]);
      assert.strictEqual(r.code, 0, r.err);
      assert.match(r.out, new RegExp(`uploaded 2 files .*0 unchanged, to s3://models/${prefix}/`));
    }
    assert.deepStrictEqual(await keys(c, bucket), [
      "model-repository/chat/llama3-8b/1/model.py",
      "model-repository/chat/llama3-8b/config.pbtxt",
      "model-repository/fleet/llama3-8b/1/model.py",
      "model-repository/fleet/llama3-8b/config.pbtxt",
      "model-repository/triton/llama3-8b/1/model.py",
      "model-repository/triton/llama3-8b/config.pbtxt",
    ]);
    assert.strictEqual(
      (await body(c, bucket, "model-repository/chat/llama3-8b/1/model.py")).toString(),
      "print('hi')\n",
    );
  });

  it("lists the repositories a stack names, and pushes one in-process to its target's prefix", async () => {
    const root = projectRoot();
    const listed = (config: ReturnType<typeof parseStackConfig>, at = root) =>
      modelPushesOf(config, at).map((p) => [
        p.key,
        p.label,
        p.target.prefix,
        p.check.defaultModel,
        p.check.flavour,
        path.relative(at, p.directory),
      ]);
    // The shipped stacks: every Triton target reads models/chat on the vllm image; the SageMaker
    // endpoints serve hub weights on LMI and name no repository.
    const shipped = (stack: string) => parseStackConfig(readStackFile(stack, root), stack, root);
    const vllmChat = ["vllm", path.join("models", "chat")];
    assert.deepStrictEqual(listed(shipped("prod")), [
      [
        "llm-infra:triton.modelRepository",
        "triton on eks",
        "model-repository/triton",
        undefined,
        ...vllmChat,
      ],
    ]);
    assert.deepStrictEqual(listed(shipped("staging")), [
      [
        "llm-infra:triton.modelRepository",
        "triton on eks",
        "model-repository/triton",
        undefined,
        ...vllmChat,
      ],
      [
        "llm-infra:fleet.modelRepository",
        "triton fleet",
        "model-repository/fleet",
        undefined,
        ...vllmChat,
      ],
    ]);
    // prod with its batch endpoint on SageMaker's Triton image, reading models/py: listed in the
    // order of the targets, under the endpoint's own key; the LMI chat endpoint is not.
    const at = rootWithPythonModel();
    const config = parseStackConfig(
      tritonEndpointStack("prod", 1, { modelRepository: "models/py" }),
      "prod",
      at,
    );
    assert.deepStrictEqual(listed(config, at), [
      [
        "llm-infra:sagemaker.endpoints[1].modelRepository",
        "sagemaker endpoint batch",
        "model-repository/batch",
        "llama3-8b",
        "base",
        path.join("models", "py"),
      ],
      [
        "llm-infra:triton.modelRepository",
        "triton on eks",
        "model-repository/triton",
        undefined,
        ...vllmChat,
      ],
    ]);
    const pushes = modelPushesOf(config, at);
    const summary = await pushModel(pushes[0], { client: c, bucket });
    assert.deepStrictEqual(summary.uploaded, ["llama3-8b/1/model.py", "llama3-8b/config.pbtxt"]);
    assert.strictEqual(
      (await body(c, bucket, "model-repository/batch/llama3-8b/1/model.py")).toString(),
      "print('hi')\n",
    );
    // A stack without modelRepository keys has nothing to push.
    const bare = readStackFile("dev", root);
    const noRepos = parseStackConfig(
      {
        ...bare,
        "llm-infra:triton": { ...(bare["llm-infra:triton"] as object), modelRepository: undefined },
      },
      "dev",
      root,
    );
    assert.deepStrictEqual(modelPushesOf(noRepos, root), []);
  });

  it("pushes a vLLM model.json naming a hub model pointing at the target's copied weights", async () => {
    const repo = path.join(projectRoot(), "models", "chat");
    const r = await run(["push", repo, "--stack", "dev", "--triton", "--bucket", bucket]);
    assert.strictEqual(r.code, 0, r.err);
    const pushed = JSON.parse(
      (await body(c, bucket, "model-repository/triton/llama3-8b/1/model.json")).toString(),
    );
    assert.strictEqual(pushed.model, "/models/llama3-8b/1/weights");
    assert.strictEqual(pushed.max_model_len, 8192);
    // The local file keeps the hub id, and a second push finds the rewritten object unchanged.
    const local = fs.readFileSync(path.join(repo, "llama3-8b", "1", "model.json"), "utf8");
    assert.strictEqual(JSON.parse(local).model, "NousResearch/Meta-Llama-3-8B-Instruct");
    const again = await run(["push", repo, "--stack", "dev", "--triton", "--bucket", bucket]);
    assert.match(again.out, /uploaded 0 files \(0\.0 MiB\), 2 unchanged/);
  });

  it("pushes nothing in-process from a repository that fails its target's check", async () => {
    // dev with its chat endpoint on SageMaker's Triton image, reading models/py.
    const at = rootWithPythonModel();
    const config = parseStackConfig(
      tritonEndpointStack("dev", 0, { modelRepository: "models/py" }),
      "dev",
      at,
    );
    const [chat] = modelPushesOf(config, at);
    const broken = { ...chat, directory: vllmRepo(), check: { ...chat.check, defaultModel: "x" } };
    const before = await keys(c, bucket);
    await assert.rejects(
      pushModel(broken, { client: c, bucket }),
      (e: unknown) =>
        e instanceof ModelCheckError &&
        /^llm-infra:sagemaker\.endpoints\[0\]\.modelRepository \(sagemaker endpoint chat\): 1 problem\(s\), nothing uploaded:\n {2}x\/: missing/.test(
          e.message,
        ),
    );
    assert.deepStrictEqual(await keys(c, bucket), before);
  });

  it("skips unchanged files by checksum and uploads a changed one", async () => {
    const repo = vllmRepo();
    const dir = stackDir("dev", tritonEndpointStack("dev", 0));
    const argv = ["push", repo, "--stack", "dev", "--endpoint", "chat", "--dir", dir];
    argv.push("--bucket", bucket);
    assert.strictEqual((await run(argv)).code, 0);
    const again = await run(argv);
    assert.match(again.out, /uploaded 0 files \(0\.0 MiB\), 2 unchanged/);
    fs.writeFileSync(path.join(repo, "llama3-8b", "1", "model.py"), "print('changed')\n");
    const changed = await run(argv);
    assert.match(changed.out, /uploaded 1 files .*1 unchanged/);
    assert.strictEqual(
      (await body(c, bucket, "model-repository/chat/llama3-8b/1/model.py")).toString(),
      "print('changed')\n",
    );
  });

  it("uploads a large file in parts, with progress, byte for byte", async () => {
    const repo = vllmRepo();
    const weights = Buffer.alloc(11 * 1024 * 1024);
    for (let i = 0; i < weights.length; i += 4096) weights[i] = i % 251;
    fs.writeFileSync(path.join(repo, "llama3-8b", "1", "weights.bin"), weights);
    const lines: string[] = [];
    const commands: string[] = [];
    const counting = client(s3.url);
    counting.middlewareStack.add(
      (next, context) => async (args) => {
        commands.push(context.commandName as string);
        return next(args);
      },
      { step: "initialize" },
    );
    const summary = await pushFiles(await listRepositoryFiles(repo), {
      client: counting,
      bucket,
      prefix: "model-repository/big",
      partSizeBytes: 5 * 1024 * 1024,
      onProgress: (l) => lines.push(l),
    });
    counting.destroy();
    assert.deepStrictEqual(summary.uploaded, [
      "llama3-8b/1/model.py",
      "llama3-8b/1/weights.bin",
      "llama3-8b/config.pbtxt",
    ]);
    assert.ok(
      (await body(c, bucket, "model-repository/big/llama3-8b/1/weights.bin")).equals(weights),
    );
    assert.match(lines[lines.length - 1], /^\[#{30}\] 100% {2}11\.0 MiB \/ 11\.0 MiB/);
    // 11 MiB in 5 MiB parts: one multipart upload of three parts; the small files in one PUT each.
    assert.strictEqual(commands.filter((n) => n === "CreateMultipartUploadCommand").length, 1);
    assert.strictEqual(commands.filter((n) => n === "UploadPartCommand").length, 3);
    assert.strictEqual(commands.filter((n) => n === "CompleteMultipartUploadCommand").length, 1);
    assert.strictEqual(commands.filter((n) => n === "PutObjectCommand").length, 2);
  });

  it("uploads nothing from a repository that fails check (exit 2)", async () => {
    const repo = vllmRepo();
    fs.rmSync(path.join(repo, "llama3-8b", "1", "model.py"));
    fs.writeFileSync(path.join(repo, "llama3-8b", "1", "other.py"), "");
    const dir = stackDir("dev", tritonEndpointStack("dev", 0));
    const before = await keys(c, bucket);
    const r = await run([
      "push",
      repo,
      "--stack",
      "dev",
      "--endpoint",
      "chat",
      "--dir",
      dir,
      "--bucket",
      "models",
    ]);
    assert.strictEqual(r.code, 2);
    assert.match(r.err, /llama3-8b\/1\/model.py: missing/);
    assert.match(r.err, /nothing uploaded/);
    assert.deepStrictEqual(await keys(c, bucket), before);
  });

  it("says how the EFS cache of an EFS-backed Triton picks the upload up", async () => {
    const r = await run(["push", vllmRepo(), "--stack", "prod", "--triton", "--bucket", bucket]);
    assert.strictEqual(r.code, 0, r.err);
    assert.match(r.out, /model-cache sync Job/);
  });

  it("refuses an EFS-backed Triton whose prefix the sync job does not copy", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-"));
    const prod = fs.readFileSync(path.join(__dirname, "..", "..", "Pulumi.prod.yaml"), "utf8");
    fs.writeFileSync(
      path.join(dir, "Pulumi.prod.yaml"),
      prod.replace(
        "    modelRepositoryMode: efs\n",
        "    modelRepositoryMode: efs\n    modelPrefix: other/triton\n",
      ),
    );
    const r = await run([
      "push",
      vllmRepo(),
      "--stack",
      "prod",
      "--triton",
      "--bucket",
      bucket,
      "--dir",
      dir,
    ]);
    assert.strictEqual(r.code, 2);
    assert.match(
      r.err,
      /llm-infra:eks\.modelCache\.syncPrefix model-repository does not contain llm-infra:triton's model prefix other\/triton, which Triton mounts from the cache/,
    );
  });

  it("draws a progress bar", () => {
    assert.strictEqual(
      progressLine(5 * 1048576, 10 * 1048576, "a/1/x", 10),
      "[#####.....]  50%  5.0 MiB / 10.0 MiB  a/1/x",
    );
  });
});
