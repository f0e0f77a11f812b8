/**
 * Hub weights in the model store: the hub models a repository names, the model.json the push
 * writes for each target, the copies a stack needs, the ModelWeights component (its project, role
 * and buildspec, the buildspec's script run against stand-ins for `aws` and `python3`), and its
 * place in the shipped plans.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import {
  ModelWeights,
  copyScript,
  neuronExportScript,
  validateModelWeightsArgs,
  weightsBuildspec,
} from "../components/storage/modelWeights";
import {
  WEIGHTS_MARKER,
  hubModelsOf,
  isHubId,
  rewriteModelJson,
} from "../modelRepository/hubModels";
import { containerRepositoryRoot, weightsCopiesOf } from "../modelRepository/weights";
import { stackTargets } from "../modelRepository/targets";
import { forTarget, listRepositoryFiles } from "../modelRepository/push";
import { checkRepository } from "../modelRepository/check";
import { ConfigError, parseStackConfig } from "../programs/config";
import { PlanReport, planStack, projectRoot, readStackFile } from "../offline/plan";
import { FOUNDATION_COMPONENTS } from "../automation/journey";
import { weightsBuildspecTargets } from "../checks/iamScenariosWeights";
import { iamScenarios, decide } from "../checks/iamScenarios";
import { assertThrowsWith, one, policyOf, resourcesOf, withAsyncChat } from "./helpers";

const ROOT = projectRoot();
const HUB_ID = "NousResearch/Meta-Llama-3-8B-Instruct";

function configOf(stack: string, edit?: (raw: Record<string, unknown>) => void) {
  const raw = readStackFile(stack, ROOT);
  edit?.(raw);
  return parseStackConfig(raw, stack, ROOT);
}

describe("hub models of a model repository", () => {
  it("tells a hub id from a path", () => {
    assert.ok(isHubId(HUB_ID));
    assert.ok(isHubId("facebook/opt-125m"));
    for (const notHub of ["/opt/ml/model/x/1/weights", "./weights", "../a/b", "opt-125m", "a/b/c"])
      assert.ok(!isHubId(notHub), notHub);
  });

  it("finds the shipped example's Llama 3 and nothing in a non-vLLM model", () => {
    assert.deepStrictEqual(hubModelsOf(path.join(ROOT, "models", "chat")), [
      { model: "llama3-8b", version: "1", file: "llama3-8b/1/model.json", repoId: HUB_ID },
    ]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hub-"));
    fs.mkdirSync(path.join(dir, "py", "1"), { recursive: true });
    fs.writeFileSync(path.join(dir, "py", "config.pbtxt"), 'backend: "python"\n');
    fs.writeFileSync(path.join(dir, "py", "1", "model.json"), JSON.stringify({ model: HUB_ID }));
    fs.mkdirSync(path.join(dir, "pinned", "2"), { recursive: true });
    fs.writeFileSync(path.join(dir, "pinned", "config.pbtxt"), 'backend: "vllm"\n');
    fs.writeFileSync(
      path.join(dir, "pinned", "2", "model.json"),
      JSON.stringify({ model: "org/m", revision: "abc123" }),
    );
    assert.deepStrictEqual(hubModelsOf(dir), [
      {
        model: "pinned",
        version: "2",
        file: "pinned/2/model.json",
        repoId: "org/m",
        revision: "abc123",
      },
    ]);
  });

  it("check refuses a revision the copy cannot download, naming model.json's field", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rev-"));
    fs.cpSync(path.join(ROOT, "models", "chat"), dir, { recursive: true });
    const file = path.join(dir, "llama3-8b", "1", "model.json");
    fs.writeFileSync(file, JSON.stringify({ model: HUB_ID, revision: "main; rm -rf /" }));
    const { problems } = checkRepository(dir, { flavour: "vllm" });
    assert.deepStrictEqual(
      problems.map((p) => [p.file, p.field]),
      [["llama3-8b/1/model.json", "revision"]],
    );
    fs.writeFileSync(
      file,
      JSON.stringify({ model: HUB_ID, revision: "5f0b02c75b57c5855da9ae460ce51323ea669d8a" }),
    );
    assert.deepStrictEqual(checkRepository(dir, { flavour: "vllm" }).problems, []);
  });

  it("rewrites model (and a tokenizer naming it) to the local path and drops the revision", () => {
    const text = JSON.stringify({
      model: HUB_ID,
      revision: "abc123",
      tokenizer: HUB_ID,
      gpu_memory_utilization: 0.9,
    });
    assert.deepStrictEqual(JSON.parse(rewriteModelJson(text, "/models/m/1/weights")), {
      model: "/models/m/1/weights",
      tokenizer: "/models/m/1/weights",
      gpu_memory_utilization: 0.9,
    });
    // A tokenizer of its own, and a model that is already a path, stay as they are.
    const own = JSON.parse(
      rewriteModelJson(JSON.stringify({ model: HUB_ID, tokenizer: "o/t" }), "/w"),
    );
    assert.strictEqual(own.tokenizer, "o/t");
    const local = JSON.stringify({ model: "/opt/ml/model/m/1/weights" });
    assert.strictEqual(rewriteModelJson(local, "/elsewhere"), local);
  });
});

/**
 * dev with its chat endpoint on a Triton image reading a model repository, in place of the
 * shipped LMI container (hub weights at the endpoint's prefix): SageMaker's own Triton image (the
 * base flavour), or with `vllm` a Triton vLLM image of the stack's own (imageUri, an unlisted tag:
 * no NGC vLLM tag answers on SageMaker), loading models/chat.
 */
function devWithTritonEndpoint(flavour: "base" | "vllm") {
  return configOf("dev", (raw) => {
    raw["llm-infra:sagemaker"] = withAsyncChat(raw)["llm-infra:sagemaker"];
    const sm = raw["llm-infra:sagemaker"] as { endpoints: Record<string, unknown>[] };
    // eslint-disable-next-line @typescript-eslint/no-unused-vars
    const { image, imageVersion, hubModel, ...chat } = sm.endpoints[0];
    sm.endpoints[0] = {
      ...chat,
      tritonModelName: "llama3-8b",
      ...(flavour === "base"
        ? { image: "triton" }
        : {
            imageUri: "123456789012.dkr.ecr.us-east-1.amazonaws.com/own-triton:vllm",
            imageFlavour: "vllm",
            modelRepository: "models/chat",
          }),
    };
  });
}

describe("where each target sees its weights", () => {
  it("uses /opt/ml/model on SageMaker and /models on Triton (s3-sync, efs) and the fleet", () => {
    const roots = (config: ReturnType<typeof configOf>) =>
      Object.fromEntries(stackTargets(config).map((t) => [t.label, containerRepositoryRoot(t)]));
    // The shipped SageMaker endpoints serve hub weights on LMI: no repository target.
    assert.deepStrictEqual(roots(configOf("dev")), { triton: "/models" });
    assert.deepStrictEqual(roots(configOf("prod")), { triton: "/models" });
    assert.strictEqual(configOf("prod").triton?.modelRepositoryMode, "efs");
    assert.deepStrictEqual(roots(configOf("staging")), { fleet: "/models", triton: "/models" });
    for (const flavour of ["base", "vllm"] as const)
      assert.deepStrictEqual(
        roots(devWithTritonEndpoint(flavour)),
        { "endpoint chat": "/opt/ml/model", triton: "/models" },
        flavour,
      );
  });

  it("pushes model.json pointing at the target's weights, and the local file keeps the hub id", async () => {
    const dir = path.join(ROOT, "models", "chat");
    const files = await listRepositoryFiles(dir);
    const [endpoint, triton] = stackTargets(devWithTritonEndpoint("vllm"));
    assert.deepStrictEqual([endpoint.label, triton.label], ["endpoint chat", "triton"]);
    const fleet = stackTargets(configOf("staging")).find((t) => t.label === "fleet")!;
    const pushed = (t: typeof endpoint) =>
      JSON.parse(
        forTarget(files, dir, t)
          .find((f) => f.relative === "llama3-8b/1/model.json")!
          .content!.toString(),
      );
    assert.strictEqual(pushed(endpoint).model, "/opt/ml/model/llama3-8b/1/weights");
    assert.strictEqual(pushed(triton).model, "/models/llama3-8b/1/weights");
    assert.strictEqual(pushed(fleet).model, "/models/llama3-8b/1/weights");
    assert.strictEqual(pushed(endpoint).max_model_len, 8192);
    const rewritten = forTarget(files, dir, endpoint).find((f) =>
      f.relative.endsWith("model.json"),
    )!;
    const original = files.find((f) => f.relative.endsWith("model.json"))!;
    assert.notStrictEqual(rewritten.sha256, original.sha256);
    assert.strictEqual(rewritten.bytes, rewritten.content!.length);
    assert.strictEqual(JSON.parse(fs.readFileSync(original.absolute, "utf8")).model, HUB_ID);
    // Other files are uploaded as they are.
    const config = forTarget(files, dir, endpoint).find(
      (f) => f.relative === "llama3-8b/config.pbtxt",
    )!;
    assert.strictEqual(config.content, undefined);
  });

  it("refuses a hub model on Triton in s3 mode, naming the key", () => {
    assert.throws(
      () =>
        configOf("dev", (raw) => {
          (raw["llm-infra:triton"] as Record<string, unknown>).modelRepositoryMode = "s3";
        }),
      (e: unknown) =>
        e instanceof ConfigError &&
        /llm-infra:triton\.modelRepositoryMode s3 cannot serve models\/chat\/llama3-8b\/1\/model\.json .*use s3-sync or efs/.test(
          e.message,
        ),
    );
  });
});

describe("the weights copies of a stack", () => {
  it("downloads each hub snapshot once for every target that serves it", () => {
    // The LMI component's hubModel at its prefix, and the weights of models/chat's Llama 3 under
    // the Triton target's prefix: one download.
    assert.deepStrictEqual(weightsCopiesOf(configOf("dev"), ROOT), [
      {
        repoId: HUB_ID,
        revision: "main",
        destinations: [
          "model-repository/chat/llama",
          "model-repository/triton/llama3-8b/1/weights",
        ],
      },
    ]);
    assert.deepStrictEqual(
      weightsCopiesOf(configOf("prod"), ROOT).map((c) => c.destinations),
      [
        [
          "model-repository/batch",
          "model-repository/chat",
          "model-repository/triton/llama3-8b/1/weights",
        ],
      ],
    );
    assert.deepStrictEqual(
      weightsCopiesOf(configOf("staging"), ROOT).map((c) => c.destinations),
      [
        [
          "model-repository/chat",
          "model-repository/fleet/llama3-8b/1/weights",
          "model-repository/triton/llama3-8b/1/weights",
        ],
      ],
    );
    // A Triton endpoint reading models/chat gets the weights under its model's version instead.
    assert.deepStrictEqual(
      weightsCopiesOf(devWithTritonEndpoint("vllm"), ROOT).map((c) => c.destinations),
      [
        [
          "model-repository/chat/llama3-8b/1/weights",
          "model-repository/triton/llama3-8b/1/weights",
        ],
      ],
    );
  });

  it("copies an LMI endpoint's hub model without a project root, and no repository's", () => {
    // programs/platform.ts passes config.root, which a caller without a project may not have.
    assert.deepStrictEqual(weightsCopiesOf(configOf("dev"), undefined), [
      { repoId: HUB_ID, revision: "main", destinations: ["model-repository/chat/llama"] },
    ]);
    assert.deepStrictEqual(
      weightsCopiesOf(configOf("prod"), undefined).map((c) => c.destinations),
      [["model-repository/batch", "model-repository/chat"]],
    );
    // hubRevision is the revision downloaded.
    const pinned = configOf("dev", (raw) => {
      const sm = raw["llm-infra:sagemaker"] as {
        endpoints: { components: Record<string, unknown>[] }[];
      };
      sm.endpoints[0].components[0].hubRevision = "abc123";
    });
    assert.deepStrictEqual(weightsCopiesOf(pinned, undefined), [
      { repoId: HUB_ID, revision: "abc123", destinations: ["model-repository/chat/llama"] },
    ]);
  });

  it("copies nothing for a stack whose repositories name no hub model", () => {
    const edit = (hubModel: boolean, repository: boolean) => (raw: Record<string, unknown>) => {
      const sm = raw["llm-infra:sagemaker"] as {
        endpoints: { components: Record<string, unknown>[] }[];
      };
      if (!hubModel) delete sm.endpoints[0].components[0].hubModel;
      if (!repository) delete (raw["llm-infra:triton"] as Record<string, unknown>).modelRepository;
    };
    const destinations = (hubModel: boolean, repository: boolean) =>
      weightsCopiesOf(configOf("dev", edit(hubModel, repository)), ROOT).map((c) => c.destinations);
    assert.deepStrictEqual(destinations(true, false), [["model-repository/chat/llama"]]);
    assert.deepStrictEqual(destinations(false, true), [
      ["model-repository/triton/llama3-8b/1/weights"],
    ]);
    assert.deepStrictEqual(destinations(false, false), []);
  });

  it("reads llm-infra:storage.hubTokenSecretArn, and refuses one that is not a secret ARN", () => {
    const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:hf-token-AbCdEf";
    const config = configOf("dev", (raw) => {
      (raw["llm-infra:storage"] as Record<string, unknown>).hubTokenSecretArn = arn;
    });
    assert.strictEqual(config.storage.hubTokenSecretArn, arn);
    assert.throws(
      () =>
        configOf("dev", (raw) => {
          (raw["llm-infra:storage"] as Record<string, unknown>).hubTokenSecretArn = "hf_abc";
        }),
      (e: unknown) =>
        e instanceof ConfigError &&
        /llm-infra:storage\.hubTokenSecretArn must be a Secrets Manager secret ARN/.test(e.message),
    );
  });
});

const ARGS = {
  copies: [{ repoId: HUB_ID, destinations: ["model-repository/chat/llama3-8b/1/weights"] }],
  bucketName: "models",
  bucketArn: "arn:aws:s3:::models",
  kmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/k",
};

describe("ModelWeights", () => {
  it("names every bad argument at once", () => {
    const errors = validateModelWeightsArgs({
      ...ARGS,
      copies: [{ repoId: "not a hub id", revision: "a b", destinations: ["/abs", "a/*"] }],
      hubTokenSecretArn: "token",
      computeType: "BUILD_GENERAL1_HUGE",
      buildTimeoutMinutes: 3000,
    }).map((e) => e.propertyPath);
    assert.deepStrictEqual(errors, [
      "copies[0].repoId",
      "copies[0].revision",
      "copies[0].destinations[0]",
      "copies[0].destinations[1]",
      "hubTokenSecretArn",
      "computeType",
      "buildTimeoutMinutes",
    ]);
    assertThrowsWith(() => new ModelWeights("w", { ...ARGS, copies: [] }), "copies");
  });

  it("is a CodeBuild project outside any VPC whose role writes only the weights", async () => {
    const secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:hf-AbCdEf";
    const resources = await resourcesOf(() => {
      const w = new ModelWeights("w", { ...ARGS, hubTokenSecretArn: secret });
      return { project: w.projectName };
    });
    const project = one(resources, "aws:codebuild/project:Project");
    assert.strictEqual(project.inputs.vpcConfig, undefined);
    assert.strictEqual(project.inputs.buildTimeout, 120);
    const env = project.inputs.environment as Record<string, unknown>;
    assert.strictEqual(env.computeType, "BUILD_GENERAL1_MEDIUM");
    assert.deepStrictEqual(env.environmentVariables, [
      { name: "HF_TOKEN", type: "SECRETS_MANAGER", value: secret },
    ]);
    const policy = policyOf(one(resources, "aws:iam/rolePolicy:RolePolicy"));
    const bySid = Object.fromEntries(policy.Statement.map((s) => [s.Sid, s]));
    assert.deepStrictEqual(bySid.WriteWeights.Resource, [
      "arn:aws:s3:::models/model-repository/chat/llama3-8b/1/weights/*",
    ]);
    assert.deepStrictEqual(bySid.ReadHubToken.Resource, secret);
    const actions = policy.Statement.flatMap((s) => [s.Action].flat());
    assert.ok(!actions.some((a) => /Delete/.test(String(a))), "no delete of any kind");
    const trust = JSON.parse(String(one(resources, "aws:iam/role:Role").inputs.assumeRolePolicy));
    assert.deepStrictEqual(trust.Statement[0].Principal, { Service: "codebuild.amazonaws.com" });
  });

  it("has no hub token by default", async () => {
    const resources = await resourcesOf(() => new ModelWeights("w", ARGS));
    const env = one(resources, "aws:codebuild/project:Project").inputs.environment as Record<
      string,
      unknown
    >;
    assert.deepStrictEqual(env.environmentVariables ?? [], []);
    const sids = policyOf(one(resources, "aws:iam/rolePolicy:RolePolicy")).Statement.map(
      (s) => s.Sid,
    );
    assert.ok(!sids.includes("ReadHubToken"));
  });

  it("writes a buildspec whose script is valid bash, pins huggingface_hub and the revision", () => {
    const spec = YAML.parse(
      weightsBuildspec("models", [{ repoId: HUB_ID, revision: "abc123", destinations: ["p/w"] }]),
    );
    assert.match(spec.phases.install.commands[0], /huggingface_hub==\d+\.\d+\.\d+$/);
    const script = copyScript(
      "models",
      { repoId: HUB_ID, revision: "abc123", destinations: ["p/w"] },
      0,
    );
    const check = spawnSync("bash", ["-n", "-c", script]);
    assert.strictEqual(check.status, 0, check.stderr.toString());
    assert.match(script, /REVISION='abc123'/);
    // Meta's own checkpoint format, a second copy of the weights that no server here reads.
    assert.match(script, /snapshot_download\(.*, ignore_patterns=\["original\/\*"\]\)'/);
    assert.deepStrictEqual(weightsBuildspecTargets(weightsBuildspec("models", ARGS.copies)), {
      bucket: "models",
      destinations: ["model-repository/chat/llama3-8b/1/weights"],
    });
  });
});

/**
 * Runs one copy's script with `aws` and `python3` replaced by scripts that log their arguments,
 * keep "objects" as files under `store`, and (python3) write a fake snapshot into LOCAL_DIR.
 */
function runScript(
  script: string,
  store: string,
  env: Record<string, string> = {},
): { status: number | null; log: string[] } {
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), "fake-bin-"));
  const log = path.join(bin, "log");
  fs.writeFileSync(
    path.join(bin, "aws"),
    `#!/bin/bash
echo "aws $*" >> ${log}
if [ "$1 $2" = "s3 cp" ]; then
  src="\${@: -2:1}"; dst="\${@: -1}"
  if [ "$dst" = "-" ]; then f="${store}/\${src#s3://}"; [ -f "$f" ] && cat "$f" && exit 0; exit 1; fi
  mkdir -p "$(dirname "${store}/\${dst#s3://}")"; cat > "${store}/\${dst#s3://}"
fi
if [ "$1 $2" = "s3 sync" ]; then d="${store}/\${@: -1}"; d="\${d/s3:\\/\\//}"; mkdir -p "$d"; cp "\${@: -2:1}"/* "$d"; fi
`,
    { mode: 0o755 },
  );
  fs.writeFileSync(
    path.join(bin, "python3"),
    `#!/bin/bash
echo "python3 $REPO_ID@$REVISION" >> ${log}
if [ -n "\${FAIL_DOWNLOAD:-}" ]; then exit 1; fi
mkdir -p "$LOCAL_DIR" && echo '{}' > "$LOCAL_DIR/config.json"
`,
    { mode: 0o755 },
  );
  fs.writeFileSync(
    path.join(bin, "optimum-cli"),
    `#!/bin/bash
echo "optimum-cli $*" >> ${log}
if [ -n "\${FAIL_COMPILE:-}" ]; then exit 1; fi
out="\${@: -1}"; mkdir -p "$out" && echo '{}' > "$out/neuron_config.json"
`,
    { mode: 0o755 },
  );
  const src = fs.mkdtempSync(path.join(os.tmpdir(), "src-"));
  const r = spawnSync("bash", ["-euo", "pipefail", "-c", script], {
    env: { ...process.env, ...env, PATH: `${bin}:${process.env.PATH}`, CODEBUILD_SRC_DIR: src },
  });
  const lines = fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [];
  return { status: r.status, log: lines };
}

describe("the Neuron export's script, run against stand-ins for aws, python3 and optimum-cli", () => {
  const copy = {
    repoId: HUB_ID,
    revision: "abc123",
    destinations: ["m/chat"],
    neuron: {
      image: "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-vllm-inference-neuronx:x",
      shape: { tensorParallelSize: 2, batchSize: 4, sequenceLength: 4096 },
      compileSeconds: 960,
    },
  };

  it("compiles the snapshot for inf2 and writes the Neuron model, then its marker", () => {
    const store = fs.mkdtempSync(path.join(os.tmpdir(), "store-"));
    const { status, log } = runScript(neuronExportScript("models", copy, 0), store);
    assert.strictEqual(status, 0, log.join("\n"));
    const compile = log.findIndex((l) => l.startsWith("optimum-cli export neuron"));
    assert.match(
      log[compile],
      /--model \S+\/weights-0 --task text-generation --instance_type inf2 --tensor_parallel_size 2 --batch_size 4 --sequence_length 4096 \S+\/neuron-0$/,
    );
    // The Neuron model is what reaches the prefix, not the snapshot.
    assert.ok(fs.existsSync(path.join(store, "models", "m/chat", "neuron_config.json")));
    assert.ok(!fs.existsSync(path.join(store, "models", "m/chat", "config.json")));
    const sync = log.findIndex((l) => l.startsWith("aws s3 sync"));
    assert.ok(compile >= 0 && sync > compile, "compile, then sync");
    assert.deepStrictEqual(
      JSON.parse(fs.readFileSync(path.join(store, "models", "m/chat", WEIGHTS_MARKER), "utf8")),
      {
        repoId: HUB_ID,
        revision: "abc123",
        neuron: { image: copy.neuron.image, ...copy.neuron.shape },
      },
    );
    // The same shapes again: nothing to do; another sequence length compiles again.
    const again = runScript(neuronExportScript("models", copy, 0), store);
    assert.ok(!again.log.some((l) => l.startsWith("optimum-cli")), again.log.join("\n"));
    const longer = {
      ...copy,
      neuron: { ...copy.neuron, shape: { ...copy.neuron.shape, sequenceLength: 8192 } },
    };
    const recompiled = runScript(neuronExportScript("models", longer, 0), store);
    assert.ok(recompiled.log.some((l) => l.includes("--sequence_length 8192")));
  });

  it("fails the build when the compile fails, writing no marker", () => {
    const store = fs.mkdtempSync(path.join(os.tmpdir(), "store-"));
    const { status, log } = runScript(neuronExportScript("models", copy, 0), store, {
      FAIL_COMPILE: "1",
    });
    assert.notStrictEqual(status, 0);
    assert.ok(!log.some((l) => l.startsWith("aws s3 sync")), "nothing synced");
    assert.ok(!fs.existsSync(path.join(store, "models", "m/chat", WEIGHTS_MARKER)));
  });
});

describe("the copy's script, run against stand-ins for aws and python3", () => {
  const copy = { repoId: HUB_ID, revision: "abc123", destinations: ["m/chat/w", "m/triton/w"] };

  it("downloads once, syncs to each destination and writes each marker last", () => {
    const store = fs.mkdtempSync(path.join(os.tmpdir(), "store-"));
    const { status, log } = runScript(copyScript("models", copy, 0), store);
    assert.strictEqual(status, 0, log.join("\n"));
    assert.strictEqual(log.filter((l) => l.startsWith("python3")).length, 1);
    assert.ok(log.includes(`python3 ${HUB_ID}@abc123`));
    for (const d of copy.destinations) {
      assert.ok(fs.existsSync(path.join(store, "models", d, "config.json")), `${d}/config.json`);
      assert.deepStrictEqual(
        JSON.parse(fs.readFileSync(path.join(store, "models", d, WEIGHTS_MARKER), "utf8")),
        { repoId: HUB_ID, revision: "abc123" },
      );
      const sync = log.findIndex(
        (l) => l.startsWith("aws s3 sync") && l.endsWith(`s3://models/${d}/`),
      );
      const marker = log.findIndex(
        (l) =>
          l.startsWith("aws s3 cp") &&
          l.endsWith(`${d}/${WEIGHTS_MARKER}`) &&
          l.includes(" - s3://"),
      );
      assert.ok(sync >= 0 && marker > sync, `${d}: sync, then the marker`);
    }
  });

  it("downloads nothing when every marker names this snapshot, and again for another revision", () => {
    const store = fs.mkdtempSync(path.join(os.tmpdir(), "store-"));
    runScript(copyScript("models", copy, 0), store);
    const again = runScript(copyScript("models", copy, 0), store);
    assert.strictEqual(again.status, 0);
    assert.ok(!again.log.some((l) => l.startsWith("python3") || l.startsWith("aws s3 sync")));
    const newer = runScript(copyScript("models", { ...copy, revision: "def456" }, 0), store);
    assert.ok(newer.log.includes(`python3 ${HUB_ID}@def456`));
    assert.strictEqual(newer.log.filter((l) => l.startsWith("aws s3 sync")).length, 2);
  });

  it("fails the build when the download fails, writing no marker", () => {
    const store = fs.mkdtempSync(path.join(os.tmpdir(), "store-"));
    const { status, log } = runScript(copyScript("models", copy, 0), store, {
      FAIL_DOWNLOAD: "1",
    });
    assert.notStrictEqual(status, 0);
    assert.ok(!log.some((l) => l.startsWith("aws s3 sync")), "nothing synced");
    assert.ok(!fs.existsSync(path.join(store, "models", copy.destinations[0], WEIGHTS_MARKER)));
  });
});

describe("the weights copy in the shipped plans", function () {
  this.timeout(120000);
  const plans: Record<string, PlanReport> = {};
  before(async () => {
    for (const stack of ["dev", "staging", "prod"]) plans[stack] = await planStack(stack, ROOT);
  });

  it("creates one ModelWeights in every stack, in the deploy's foundation", () => {
    assert.ok(
      (FOUNDATION_COMPONENTS as readonly string[]).includes("llm-infra:index:ModelWeights"),
    );
    for (const stack of ["dev", "staging", "prod"]) {
      const components = plans[stack].resources.filter(
        (r) => r.type === "llm-infra:index:ModelWeights",
      );
      assert.strictEqual(components.length, 1, stack);
    }
  });

  it("prices the project per build minute, with nothing idle and nothing unpriced", () => {
    for (const stack of ["dev", "staging", "prod"]) {
      const line = plans[stack].cost.lines.find((l) => l.resource === "model-weights-copy");
      assert.ok(line, stack);
      assert.strictEqual(line.idleMonthlyUsd, 0);
      assert.match(
        line.description,
        /build minutes a month on BUILD_GENERAL1_MEDIUM x \$0\.01\/min/,
      );
      assert.ok(
        !plans[stack].cost.unpriced.some((u) => u.type === "aws:codebuild/project:Project"),
      );
    }
  });

  it("holds its IAM scenarios: writes weights under every target's prefix, nothing else", () => {
    for (const stack of ["dev", "prod"]) {
      const rows = iamScenarios(plans[stack].resources).filter((s) =>
        s.description.startsWith("model-weights:"),
      );
      const writes = rows.filter((s) =>
        s.description.startsWith("model-weights: writes the weights"),
      );
      assert.strictEqual(writes.length, stack === "prod" ? 3 : 2);
      assert.ok(rows.some((s) => s.description.includes("cannot delete the model bucket")));
      for (const s of rows)
        assert.strictEqual(decide(s) === "allow", s.expect === "allow", s.description);
    }
  });

  it("exports the project's name as modelWeightsProject", async () => {
    const { createPlatform } = await import("../programs/platform");
    const config = configOf("dev");
    const outputs = await resourcesOf(async () => {
      const o = await createPlatform(config);
      assert.ok(o.modelWeightsProject, "modelWeightsProject is set");
      const name = await new Promise<string>((resolve) =>
        (o.modelWeightsProject as pulumi.Output<string>).apply((n) => resolve(n)),
      );
      assert.match(name, /^model-weights-copy/);
      return o;
    });
    assert.ok(outputs.length > 0);
  });
});
