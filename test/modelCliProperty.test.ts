/**
 * The model CLI under arguments a user could type (fast-check): whatever the command, repository
 * and flags, it answers with an exit status, never a crash or a stack trace; a mistake (exit 2)
 * is said in words and makes no S3 client. Everything runs in a scratch
 * directory, with repositories given relative to it, so `init` writes only there.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import fc from "fast-check";
import { S3Client } from "@aws-sdk/client-s3";
import { main } from "../scripts/model";
import { projectRoot } from "../offline/plan";

const ROOT = projectRoot();

/** What a user might put after a flag: good values, near misses and noise. */
const noise = fc.oneof(
  fc.constantFrom(
    "",
    " ",
    "-",
    "--",
    "s3://bucket/x",
    "../..",
    "/",
    "é",
    "a".repeat(300),
    "0",
    "-1",
  ),
  fc.string({ maxLength: 40 }),
);
const values: Record<string, fc.Arbitrary<string>> = {
  "--stack": fc.oneof(fc.constantFrom("dev", "staging", "prod", "qa", "Pulumi.dev.yaml"), noise),
  "--endpoint": fc.oneof(fc.constantFrom("chat", "batch", "nope"), noise),
  "--dir": fc.oneof(fc.constantFrom(ROOT, "/nowhere", path.join(ROOT, "package.json")), noise),
  "--bucket": fc.oneof(fc.constantFrom("llm-models", "My_Bucket", "s3://llm-models"), noise),
  "--region": fc.oneof(fc.constantFrom("us-east-1", "us-east-9", "mars"), noise),
  "--endpoint-url": fc.oneof(
    fc.constantFrom("http://127.0.0.1:9", "127.0.0.1:9", "ftp://x"),
    noise,
  ),
  "--backend": fc.oneof(fc.constantFrom("vllm", "python", "tensorrtllm", "onnx"), noise),
  "--hf-model": fc.oneof(fc.constantFrom("a/b", "meta-llama/Llama-3-8B", "no-slash"), noise),
  "--max-model-len": fc.oneof(fc.constantFrom("8192", "0", "-5", "1e9", "x"), noise),
  "--engine-dir": noise,
  "--model": fc.oneof(fc.constantFrom("chat", "llama"), noise),
  "--flavour": fc.oneof(fc.constantFrom("vllm", "trtllm", "python", "x"), noise),
  "--instance-type": fc.oneof(fc.constantFrom("g5.xlarge", "ml.g5.xlarge", "z9.huge"), noise),
};
const switches = ["--triton", "--fleet", "--help", "--unknown-flag"];

const argv = fc
  .tuple(
    fc.constantFrom("init", "check", "push", "bogus", "--help"),
    fc.oneof(fc.constantFrom("repo", "models/chat", "missing", "a-file", ""), noise),
    fc.array(
      fc.oneof(
        fc.constantFrom(...Object.keys(values)).chain((flag) => values[flag].map((v) => [flag, v])),
        fc.constantFrom(...switches).map((s) => [s]),
      ),
      { maxLength: 6 },
    ),
  )
  .map(([command, repository, flags]) => [command, repository, ...flags.flat()]);

describe("npm run model: any arguments get an exit status, never a crash (fast-check)", function () {
  this.timeout(300_000);
  let scratch: string;
  let cwd: string;
  before(() => {
    cwd = process.cwd();
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "model-cli-"));
    fs.cpSync(path.join(ROOT, "models", "chat"), path.join(scratch, "models", "chat"), {
      recursive: true,
    });
    fs.writeFileSync(path.join(scratch, "a-file"), "");
    process.chdir(scratch);
  });
  after(() => {
    process.chdir(cwd);
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  it("exits 0, 1 or 2 with no stack trace; a mistake is said in words and reaches no AWS", async () => {
    const initCwd = process.env.INIT_CWD;
    const seen = new Map<string, number>();
    process.env.INIT_CWD = scratch;
    try {
      await fc.assert(
        fc.asyncProperty(argv, async (args) => {
          let out = "";
          let err = "";
          let clients = 0;
          const code = await main(args, {
            io: { out: (s) => (out += s), err: (s) => (err += s) },
            // An S3 client that answers nothing: a push that gets this far is not a mistake.
            s3Client: () => {
              clients++;
              return { send: () => Promise.reject(new Error("offline")) } as unknown as S3Client;
            },
          });
          assert.ok([0, 1, 2].includes(code), `exit ${code} for ${JSON.stringify(args)}`);
          const outcome = `${args[0]} ${code}`;
          seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
          assert.ok(!/\n\s+at /.test(err), `a stack trace for ${JSON.stringify(args)}:\n${err}`);
          if (code === 2) {
            assert.strictEqual(clients, 0, `an S3 client for a mistake: ${JSON.stringify(args)}`);
            // Said in words: a usage error ("error: ..."), commander's help, or the repository's
            // problems, one per line ("<file>: <what is wrong>").
            assert.ok(
              err.trim() !== "" || out.includes("Usage:"),
              `silent exit 2: ${JSON.stringify(args)}`,
            );
            for (const line of err
              .trimEnd()
              .split("\n")
              .filter((l) => l !== ""))
              assert.ok(
                !/^\s*at |TypeError|ReferenceError|undefined/.test(line),
                `${JSON.stringify(args)}: ${line}`,
              );
          }
        }),
        { numRuns: 150, seed: 20261207 },
      );
      // The arguments reach past the parser: each command both fails and succeeds somewhere.
      for (const outcome of ["init 0", "init 2", "check 2", "push 2"])
        assert.ok(seen.has(outcome), `no "${outcome}" in ${JSON.stringify([...seen])}`);
    } finally {
      if (initCwd === undefined) delete process.env.INIT_CWD;
      else process.env.INIT_CWD = initCwd;
    }
  });
});
