/**
 * The model CLI's bad input: each mistake is refused before any AWS call, with exit 2 and one line
 * naming the flag (the S3 client is never made: a stand-in that throws proves it).
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { main } from "../scripts/model";
import { readStackFile } from "../offline/plan";
import { configProblems } from "./helpers";

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  let clients = 0;
  const code = await main(argv, {
    io: { out: (s) => out.push(s), err: (s) => err.push(s) },
    s3Client: () => {
      clients++;
      throw new Error("no S3 client may be made for bad input");
    },
  });
  return { code, out: out.join(""), err: err.join(""), clients };
}

const push = (...flags: string[]) =>
  run(["push", "models/chat", "--stack", "dev", "--triton", ...flags]);

describe("npm run model: bad input names the flag, exit 2, before any AWS call", () => {
  it("refuses a bucket given as a URI, an empty one, and one S3 would not name", async () => {
    const uri = await push("--bucket", "s3://llm-models/prefix");
    assert.deepStrictEqual([uri.code, uri.clients], [2, 0]);
    assert.strictEqual(
      uri.err,
      'error: --bucket takes the bucket\'s name, not a URI: got "s3://llm-models/prefix", use "llm-models"\n',
    );
    const empty = await push("--bucket", "");
    assert.deepStrictEqual([empty.code, empty.clients], [2, 0]);
    assert.match(
      empty.err,
      /^error: --bucket is empty \(did `\$\(pulumi stack output modelBucketName\)` fail\?\)/,
    );
    const upper = await push("--bucket", "My_Bucket");
    assert.strictEqual(upper.code, 2);
    assert.match(upper.err, /^error: --bucket must be an S3 bucket name .* got "My_Bucket"\n$/);
  });

  it("refuses an unknown region and an endpoint URL without its scheme", async () => {
    const region = await push("--bucket", "llm-models", "--region", "us-east-9");
    assert.deepStrictEqual([region.code, region.clients], [2, 0]);
    assert.strictEqual(
      region.err,
      'error: --region must be an AWS region such as us-east-1, us-east-2, got "us-east-9"\n',
    );
    const url = await push("--bucket", "llm-models", "--endpoint-url", "127.0.0.1:4568");
    assert.deepStrictEqual([url.code, url.clients], [2, 0]);
    assert.match(url.err, /^error: --endpoint-url must be a URL with its scheme/);
  });

  it("names --dir when the directory it gives is wrong", async () => {
    const missing = await run([
      "check",
      "models/chat",
      "--stack",
      "dev",
      "--triton",
      "--dir",
      "/nowhere/at/all",
    ]);
    assert.strictEqual(missing.code, 2);
    assert.strictEqual(
      missing.err,
      "error: --dir: /nowhere/at/all does not exist: give the directory that holds Pulumi.<stack>.yaml\n",
    );
    const file = await run([
      "check",
      "models/chat",
      "--stack",
      "dev",
      "--triton",
      "--dir",
      "package.json",
    ]);
    assert.match(file.err, /^error: --dir: .*package\.json is not a directory/);
  });

  it("refuses init into a file instead of crashing", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "init-"));
    const file = path.join(dir, "repo");
    fs.writeFileSync(file, "");
    const r = await run(["init", file, "--backend", "vllm", "--hf-model", "a/b"]);
    assert.strictEqual(r.code, 2);
    assert.strictEqual(
      r.err,
      `error: ${file} is a file, not a directory: give a new or existing directory\n`,
    );
    assert.strictEqual(fs.readFileSync(file, "utf8"), "", "the file is left alone");
  });
});

describe("the plan refuses what model check refuses: a sync prefix away from Triton's", () => {
  it("names llm-infra:eks.modelCache.syncPrefix when the EFS cache would not hold Triton's prefix", () => {
    const raw = readStackFile("prod") as Record<string, Record<string, unknown>>;
    const eks = raw["llm-infra:eks"];
    const moved = {
      ...raw,
      "llm-infra:eks": {
        ...eks,
        modelCache: { ...(eks.modelCache as object), syncPrefix: "elsewhere" },
      },
    };
    assert.deepStrictEqual(configProblems(moved, "prod"), [
      "llm-infra:eks.modelCache.syncPrefix elsewhere does not contain llm-infra:triton's model prefix model-repository/triton, which Triton mounts from the cache: the sync Job would copy something else; set it to a prefix of model-repository/triton",
    ]);
    assert.deepStrictEqual(configProblems(raw, "prod"), []);
  });
});
