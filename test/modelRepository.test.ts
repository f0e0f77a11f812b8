import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "js-yaml";
import { withAsyncChat } from "./helpers";
import { CheckTarget, checkRepository, formatProblem } from "../modelRepository/check";
import { initRepository, scaffoldFiles } from "../modelRepository/init";
import { modelConfigType } from "../modelRepository/modelConfigSchema";
import { stackTargets } from "../modelRepository/targets";
import { parseTextFormat } from "../modelRepository/textFormat";
import { projectRoot, readStackFile } from "../offline/plan";
import { parseStackConfig } from "../programs/config";
import { main } from "../scripts/model";

/** Writes files (relative path to content; a path ending in / is an empty directory). */
function writeRepo(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "model-repo-"));
  for (const [rel, content] of Object.entries(files)) {
    if (rel.endsWith("/")) fs.mkdirSync(path.join(dir, rel), { recursive: true });
    else {
      fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      fs.writeFileSync(path.join(dir, rel), content);
    }
  }
  return dir;
}

const VLLM_CONFIG = `name: "llm"
backend: "vllm"
max_batch_size: 0
model_transaction_policy { decoupled: true }
input [ { name: "text_input", data_type: TYPE_STRING, dims: [ 1 ] } ]
output [ { name: "text_output", data_type: TYPE_STRING, dims: [ -1 ] } ]
instance_group [ { count: 1, kind: KIND_MODEL } ]
`;
const MODEL_JSON = JSON.stringify({ model: "meta-llama/Meta-Llama-3-8B-Instruct" });
const GOOD = { "llm/config.pbtxt": VLLM_CONFIG, "llm/1/model.json": MODEL_JSON };
/** A model the base Triton image serves (the python backend). */
const PYTHON = {
  "llm/config.pbtxt": 'name: "llm"\nbackend: "python"\nmax_batch_size: 0\n',
  "llm/1/model.py": "print('hi')\n",
};

/**
 * A directory holding Pulumi.dev.yaml: the shipped dev with its chat endpoint on SageMaker's
 * Triton image (the catalog's `triton`, the base flavour) loading llama3-8b, in place of the
 * shipped LMI container, which reads hub weights and no model repository.
 */
function tritonEndpointStackDir(): string {
  const raw = withAsyncChat(readStackFile("dev", projectRoot()));
  const sm = raw["llm-infra:sagemaker"] as { endpoints: Record<string, unknown>[] };
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { image, imageVersion, hubModel, ...chat } = sm.endpoints[0];
  sm.endpoints[0] = { ...chat, image: "triton", tritonModelName: "llama3-8b" };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-"));
  fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), YAML.dump({ config: raw }));
  return dir;
}

const VLLM_ON_G5: CheckTarget = { flavour: "vllm", instanceType: "g5.2xlarge" };
const LLAMA_8B = {
  parametersBillions: 8,
  dtype: "bf16" as const,
  contextLength: 8192,
  concurrentSequences: 4,
  layers: 32,
  hiddenSize: 4096,
  attentionHeads: 32,
  kvHeads: 8,
};

interface BrokenCase {
  kind: string;
  files: Record<string, string>;
  target?: CheckTarget;
  /** The problem line expected (substring of `<file>: <field>: <message>`). */
  expect: string;
}

const BROKEN: BrokenCase[] = [
  { kind: "no model directories", files: { "README.md": "x" }, expect: ".: no model directories" },
  {
    kind: "a model without config.pbtxt",
    files: { "llm/1/model.json": MODEL_JSON },
    expect: "llm/config.pbtxt: missing",
  },
  {
    kind: "a syntax error",
    files: { ...GOOD, "llm/config.pbtxt": 'name: "llm"\nbackend "vllm"\n' },
    expect: 'llm/config.pbtxt:2:9: syntax error: expected ":" after the field name "backend"',
  },
  {
    kind: "an unterminated message",
    files: { ...GOOD, "llm/config.pbtxt": 'name: "llm"\nmodel_transaction_policy {\n' },
    expect: 'llm/config.pbtxt:3:1: syntax error: expected "}" before the end of the file',
  },
  {
    kind: "an unknown field",
    files: { ...GOOD, "llm/config.pbtxt": VLLM_CONFIG + "max_batch_sise: 4\n" },
    expect:
      'llm/config.pbtxt:8:1: max_batch_sise: inference.ModelConfig has no field named "max_batch_sise" (did you mean "max_batch_size"?)',
  },
  {
    kind: "a string where an integer belongs",
    files: {
      ...GOOD,
      "llm/config.pbtxt": VLLM_CONFIG.replace("max_batch_size: 0", 'max_batch_size: "0"'),
    },
    expect: 'llm/config.pbtxt:3:17: max_batch_size: expected an integer (int32), found "0"',
  },
  {
    kind: "an unknown enum value",
    files: { ...GOOD, "llm/config.pbtxt": VLLM_CONFIG.replace("KIND_MODEL", "KIND_TPU") },
    expect:
      "instance_group[0].kind: unknown value KIND_TPU for enum inference.ModelInstanceGroup.Kind",
  },
  {
    kind: "a non-repeated field twice",
    files: { ...GOOD, "llm/config.pbtxt": VLLM_CONFIG + 'backend: "python"\n' },
    expect: 'backend: non-repeated field "backend" is specified multiple times',
  },
  {
    kind: "two schedulers of one oneof",
    files: {
      "m/config.pbtxt":
        'backend: "python"\nmax_batch_size: 4\ndynamic_batching {}\nsequence_batching {}\n',
      "m/1/model.py": "",
    },
    target: { flavour: "base" },
    expect: 'sequence_batching: "sequence_batching" is specified along with "dynamic_batching"',
  },
  {
    kind: "an integer out of range",
    files: { ...GOOD, "llm/config.pbtxt": VLLM_CONFIG.replace("count: 1", "count: 4294967296") },
    expect: "instance_group[0].count: 4294967296 is out of range for int32",
  },
  {
    kind: "a name that differs from its directory",
    files: { ...GOOD, "llm/config.pbtxt": VLLM_CONFIG.replace('name: "llm"', 'name: "llama"') },
    expect: 'llm/config.pbtxt: name: "llama" differs from its directory "llm"',
  },
  {
    kind: "no version directory",
    files: { "llm/config.pbtxt": VLLM_CONFIG, "llm/model.json": MODEL_JSON },
    expect: "llm/: no version directory",
  },
  {
    kind: "an empty version directory",
    files: { "llm/config.pbtxt": VLLM_CONFIG, "llm/1/": "" },
    expect: "llm/1/: is empty",
  },
  {
    kind: "a specific version without its directory",
    files: {
      ...GOOD,
      "llm/config.pbtxt": VLLM_CONFIG + "version_policy { specific { versions: [1, 2] } }\n",
    },
    expect: "version_policy.specific.versions: version 2 has no directory llm/2/",
  },
  {
    kind: "neither backend nor platform",
    files: { ...GOOD, "llm/config.pbtxt": VLLM_CONFIG.replace('backend: "vllm"\n', "") },
    expect: "backend: neither backend nor platform is set",
  },
  {
    kind: "an unknown backend",
    files: { ...GOOD, "llm/config.pbtxt": VLLM_CONFIG.replace('"vllm"', '"sglang"') },
    expect: 'backend: unknown backend "sglang"',
  },
  {
    kind: "a backend the image flavour lacks",
    files: GOOD,
    target: { flavour: "base", instanceType: "g5.2xlarge" },
    expect:
      "backend: backend vllm is not in the base Triton image (it has tensorrt, onnxruntime, tensorflow, pytorch, openvino, python, dali, fil); choose imageFlavour vllm",
  },
  {
    kind: "a platform with another backend",
    files: {
      "m/config.pbtxt": 'platform: "onnxruntime_onnx"\nbackend: "tensorrt"\n',
      "m/1/model.onnx": "x",
    },
    target: { flavour: "base" },
    expect: 'backend: platform onnxruntime_onnx runs on backend onnxruntime, not "tensorrt"',
  },
  {
    kind: "python without model.py",
    files: { "m/config.pbtxt": 'backend: "python"\nmax_batch_size: 0\n', "m/1/util.py": "" },
    target: { flavour: "base" },
    expect: "m/1/model.py: missing: the python backend loads model.py",
  },
  {
    kind: "vllm without model.json",
    files: { "llm/config.pbtxt": VLLM_CONFIG, "llm/1/engine.txt": "x" },
    expect: "llm/1/model.json: missing",
  },
  {
    kind: "vllm model.json that is not JSON",
    files: { ...GOOD, "llm/1/model.json": "{ model: llama }" },
    expect: "llm/1/model.json: is not valid JSON",
  },
  {
    kind: "vllm model.json without a model",
    files: { ...GOOD, "llm/1/model.json": JSON.stringify({ gpu_memory_utilization: 0.9 }) },
    expect: "llm/1/model.json: model: must name the model",
  },
  {
    kind: "tensor parallelism beyond the instance's GPUs",
    files: { ...GOOD, "llm/1/model.json": JSON.stringify({ model: "m", tensor_parallel_size: 4 }) },
    expect: "tensor_parallel_size: 4 is more than the 1 accelerator(s) of g5.2xlarge",
  },
  {
    kind: "a model too large for vLLM's share of memory",
    files: {
      ...GOOD,
      "llm/1/model.json": JSON.stringify({ model: "m", gpu_memory_utilization: 0.5 }),
    },
    target: { ...VLLM_ON_G5, model: LLAMA_8B },
    expect: "gpu_memory_utilization: the model needs",
  },
  {
    kind: "batching in Triton with the vllm backend",
    files: {
      ...GOOD,
      "llm/config.pbtxt": VLLM_CONFIG.replace("max_batch_size: 0", "max_batch_size: 8"),
    },
    expect: "max_batch_size: must be 0 with the vllm backend",
  },
  {
    kind: "a negative max_batch_size",
    files: { "m/config.pbtxt": 'backend: "python"\nmax_batch_size: -1\n', "m/1/model.py": "" },
    target: { flavour: "base" },
    expect: "max_batch_size: must be 0 (no batching) or more, got -1",
  },
  {
    kind: "a GPU index the instance does not have",
    files: {
      "m/config.pbtxt":
        'backend: "python"\ninstance_group [ { kind: KIND_GPU, gpus: [ 0, 1 ] } ]\n',
      "m/1/model.py": "",
    },
    target: { flavour: "base", instanceType: "g5.2xlarge" },
    expect: "instance_group[0].gpus[1]: GPU 1 does not exist on g5.2xlarge (1 GPU: 0..0)",
  },
  {
    kind: "KIND_GPU on Inferentia",
    files: {
      "m/config.pbtxt": 'backend: "python"\ninstance_group [ { kind: KIND_GPU } ]\n',
      "m/1/model.py": "",
    },
    target: { flavour: "neuron", instanceType: "inf2.xlarge" },
    expect: "instance_group[0].kind: KIND_GPU needs NVIDIA GPUs, but inf2.xlarge has",
  },
  {
    kind: "TensorRT-LLM without engines",
    files: {
      "t/config.pbtxt": 'backend: "tensorrtllm"\nmax_batch_size: 8\n',
      "t/1/config.json": "{}",
    },
    target: { flavour: "trtllm" },
    expect: "t/1/: has no TensorRT-LLM engine",
  },
  {
    kind: "an unfilled template placeholder",
    files: {
      "t/config.pbtxt":
        'backend: "tensorrtllm"\nparameters: { key: "gpt_model_path" value: { string_value: "${engine_dir}" } }\n',
      "t/1/rank0.engine": "x",
    },
    target: { flavour: "trtllm" },
    expect: 'parameters["gpt_model_path"]: "${engine_dir}" is an unfilled template placeholder',
  },
  {
    kind: "an ensemble step naming a missing model",
    files: {
      ...GOOD,
      "ensemble/config.pbtxt":
        'platform: "ensemble"\nensemble_scheduling { step [ { model_name: "preprocessing", model_version: -1 } ] }\n',
      "ensemble/1/": "",
    },
    target: VLLM_ON_G5,
    expect:
      'ensemble_scheduling.step[0].model_name: "preprocessing" is not a model of this repository',
  },
  {
    kind: "an input without a data type",
    files: {
      "m/config.pbtxt": 'backend: "python"\ninput [ { name: "x", dims: [ 1 ] } ]\n',
      "m/1/model.py": "",
    },
    target: { flavour: "base" },
    expect: "input[0].data_type: has no data_type",
  },
];

describe("model repository check", () => {
  it("passes a good vLLM repository on a g5.2xlarge with the vllm image", () => {
    const { models, problems } = checkRepository(writeRepo(GOOD), VLLM_ON_G5);
    assert.deepStrictEqual(problems, []);
    assert.deepStrictEqual(
      models.map((m) => [m.name, m.versions]),
      [["llm", ["1"]]],
    );
  });

  it(`catches ${BROKEN.length} kinds of broken repositories, one line each naming the file and field`, () => {
    assert.ok(BROKEN.length >= 15);
    for (const c of BROKEN) {
      const { problems } = checkRepository(writeRepo(c.files), c.target ?? VLLM_ON_G5);
      const lines = problems.map(formatProblem);
      assert.ok(
        lines.some((l) => l.includes(c.expect)),
        `${c.kind}: expected a problem containing ${JSON.stringify(c.expect)}, got ${JSON.stringify(lines)}`,
      );
    }
  });

  it("refuses a repository without the model the target loads by name, and passes one with it", () => {
    const target: CheckTarget = {
      ...VLLM_ON_G5,
      defaultModel: "llama3-8b",
      label: "endpoint chat",
    };
    const without = checkRepository(writeRepo(GOOD), target).problems.map(formatProblem);
    assert.deepStrictEqual(without, [
      'llama3-8b/: missing: endpoint chat loads the model "llama3-8b" (tritonModelName, SAGEMAKER_TRITON_DEFAULT_MODEL_NAME), and Triton\'s SageMaker start script exits when its directory is missing; this repository has llm',
    ]);
    // The same repository passes where the target names its model, and where it names none.
    assert.deepStrictEqual(
      checkRepository(writeRepo(GOOD), { ...target, defaultModel: "llm" }).problems,
      [],
    );
    assert.deepStrictEqual(checkRepository(writeRepo(GOOD), VLLM_ON_G5).problems, []);
  });

  it("reports a directory that does not exist", () => {
    const { problems } = checkRepository("/nonexistent/repo");
    assert.deepStrictEqual(problems.map(formatProblem), [
      "/nonexistent/repo: is not a directory (the model repository)",
    ]);
  });
});

describe("protobuf text format parser", () => {
  const type = modelConfigType();
  it("reads lists, maps, nested messages, comments, <> and ; separators, adjacent strings", () => {
    const { message, problems } = parseTextFormat(
      `# comment
name: "a" "b"; max_batch_size: 0x10
input < name: 'x' data_type: TYPE_FP16 dims: [-1, 3] >
parameters [ { key: "k" value { string_value: "v" } } ]
optimization { cuda { graphs: t } }
dynamic_batching { max_queue_delay_microseconds: 100 }`,
      type,
    );
    assert.deepStrictEqual(problems, []);
    assert.deepStrictEqual(message, {
      name: "ab",
      max_batch_size: 16,
      input: [{ name: "x", data_type: "TYPE_FP16", dims: [-1, 3] }],
      parameters: { k: { string_value: "v" } },
      optimization: { cuda: { graphs: true } },
      dynamic_batching: { max_queue_delay_microseconds: 100 },
    });
  });

  it("decodes escapes and reports an unclosed string with its position", () => {
    assert.deepStrictEqual(parseTextFormat('name: "a\\tb\\101\\x42"', type), {
      message: { name: "a\tbAB" },
      problems: [],
    });
    assert.deepStrictEqual(parseTextFormat('backend: "python"\nname: "abc\n', type).problems, [
      {
        line: 2,
        column: 7,
        field: "",
        message: "syntax error: string literal not closed before the end of the line",
      },
    ]);
  });

  it("refuses a list on a non-repeated field and a negative unsigned value", () => {
    const { problems } = parseTextFormat(
      "max_batch_size: [1, 2]\ndynamic_batching { max_queue_delay_microseconds: -5 }",
      type,
    );
    assert.deepStrictEqual(
      problems.map((p) => `${p.line}:${p.column} ${p.field}: ${p.message}`),
      [
        '1:17 max_batch_size: "max_batch_size" is not repeated: a list is not allowed',
        "2:50 dynamic_batching.max_queue_delay_microseconds: -5 is out of range for uint64",
      ],
    );
  });
});

describe("model repository init", () => {
  for (const backend of ["vllm", "python"] as const) {
    it(`scaffolds a ${backend} repository that passes check`, () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "init-"));
      const written = initRepository(dir, { backend, modelName: "chat" });
      assert.ok(written.includes("chat/config.pbtxt"));
      const { problems, models } = checkRepository(dir, {
        flavour: backend === "vllm" ? "vllm" : "base",
        instanceType: "g5.2xlarge",
      });
      assert.deepStrictEqual(problems, []);
      assert.deepStrictEqual(
        models.map((m) => m.name),
        ["chat"],
      );
    });
  }

  it("scaffolds a tensorrtllm repository with the engines copied into version 1", () => {
    const engines = writeRepo({ "rank0.engine": "E", "config.json": "{}" });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "init-"));
    const written = initRepository(dir, { backend: "tensorrtllm", engineDir: engines });
    assert.deepStrictEqual(written.sort(), [
      "llm/1/config.json",
      "llm/1/rank0.engine",
      "llm/config.pbtxt",
    ]);
    assert.deepStrictEqual(
      checkRepository(dir, { flavour: "trtllm", instanceType: "g5.12xlarge" }).problems,
      [],
    );
  });

  it("refuses tensorrtllm without engines and an existing model directory", () => {
    const dir = writeRepo(GOOD);
    assert.throws(() => initRepository(dir, { backend: "vllm" }), /llm exists/);
    assert.throws(
      () => initRepository(dir, { backend: "tensorrtllm", modelName: "t" }),
      /needs --engine-dir/,
    );
  });

  it("writes the vLLM backend's text interface", () => {
    const files = scaffoldFiles({ backend: "vllm", huggingFaceModel: "org/m" });
    assert.match(files["llm/config.pbtxt"], /backend: "vllm"/);
    assert.strictEqual(JSON.parse(files["llm/1/model.json"]).model, "org/m");
  });
});

describe("npm run model (CLI)", () => {
  const run = async (argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(argv, { io: { out: (s) => out.push(s), err: (s) => err.push(s) } });
    return { code, out: out.join(""), err: err.join("") };
  };

  it("check exits 0 on a clean repository and 2 with one line per problem", async () => {
    const good = await run([
      "check",
      writeRepo(GOOD),
      "--flavour",
      "vllm",
      "--instance-type",
      "g5.xlarge",
    ]);
    assert.strictEqual(good.code, 0);
    assert.match(good.out, /1 model\(s\) \(llm\) ready for the vllm Triton image on g5.xlarge/);
    const bad = await run([
      "check",
      writeRepo({ ...GOOD, "llm/1/model.json": "{}" }),
      "--flavour",
      "base",
    ]);
    assert.strictEqual(bad.code, 2);
    assert.deepStrictEqual(bad.err.trim().split("\n"), [
      "llm/config.pbtxt: backend: backend vllm is not in the base Triton image (it has tensorrt, onnxruntime, tensorflow, pytorch, openvino, python, dali, fil); choose imageFlavour vllm",
      "llm/1/model.json: model: must name the model (a Hugging Face id or a path)",
    ]);
  });

  it("check against a stack's target uses its instance, flavour and default model", async () => {
    // A dev whose chat endpoint runs SageMaker's Triton image (the base flavour) on ml.g5.xlarge,
    // loading tritonModelName llama3-8b.
    const dir = tritonEndpointStackDir();
    const endpoint = ["--stack", "dev", "--endpoint", "chat", "--dir", dir];
    const r = await run(["check", writeRepo(PYTHON), ...endpoint]);
    assert.strictEqual(r.code, 2);
    assert.match(r.err, /^llama3-8b\/: missing: endpoint chat loads the model "llama3-8b"/);
    const renamed = writeRepo({
      "llama3-8b/config.pbtxt": PYTHON["llm/config.pbtxt"].replace('"llm"', '"llama3-8b"'),
      "llama3-8b/1/model.py": PYTHON["llm/1/model.py"],
    });
    const ok = await run(["check", renamed, ...endpoint]);
    assert.strictEqual(ok.code, 0, ok.err);
    assert.match(ok.out, /\(llama3-8b\) ready for the base Triton image on ml\.g5\.xlarge/);
    // The stack's flavour refuses a vLLM model; another flavour on the command line wins over it.
    const vllm = writeRepo({
      "llama3-8b/config.pbtxt": VLLM_CONFIG.replace('"llm"', '"llama3-8b"'),
      "llama3-8b/1/model.json": MODEL_JSON,
    });
    const base = await run(["check", vllm, ...endpoint]);
    assert.strictEqual(base.code, 2);
    assert.match(base.err, /backend vllm is not in the base Triton image/);
    const flavour = await run(["check", vllm, ...endpoint, "--flavour", "vllm"]);
    assert.strictEqual(flavour.code, 0, flavour.err);
    assert.match(flavour.out, /\(llama3-8b\) ready for the vllm Triton image on ml\.g5\.xlarge/);
    // Triton on EKS names no model: it loads every model of the repository.
    const triton = await run(["check", writeRepo(GOOD), "--stack", "dev", "--triton"]);
    assert.strictEqual(triton.code, 0, triton.err);
    assert.match(triton.out, /\(llm\) ready for the vllm Triton image on g5\.xlarge/);
    const none = await run(["check", writeRepo(GOOD), "--stack", "dev", "--fleet"]);
    assert.strictEqual(none.code, 2);
    assert.match(none.err, /stack dev has no llm-infra:fleet section; it has --triton\n$/);
  });

  it("check against a shipped SageMaker endpoint says it serves hub weights on LMI, naming the stack's Triton targets", async () => {
    // dev's chat endpoint hosts inference components: a component is the target.
    const dev = await run(["check", "models/chat", "--stack", "dev", "--endpoint", "chat"]);
    assert.strictEqual(dev.code, 2);
    assert.strictEqual(dev.out, "");
    assert.strictEqual(
      dev.err,
      "error: endpoint chat of stack dev hosts inference components: name one, --endpoint chat/llama\n",
    );
    const llama = await run(["check", "models/chat", "--stack", "dev", "--endpoint", "chat/llama"]);
    assert.strictEqual(llama.code, 2);
    assert.strictEqual(
      llama.err,
      "error: stack dev has no Triton target --endpoint chat/llama: endpoint chat/llama serves hub weights with image lmi (hubModel NousResearch/Meta-Llama-3-8B-Instruct, which the deploy copies to model-repository/chat/llama/), not a Triton model repository, so there is nothing to check or push; it has --triton\n",
    );
    const prod = await run(["check", "models/chat", "--stack", "prod", "--endpoint", "batch"]);
    assert.strictEqual(prod.code, 2);
    assert.match(
      prod.err,
      /has no Triton target --endpoint batch: endpoint batch serves hub weights with image lmi \(hubModel NousResearch\/Meta-Llama-3-8B-Instruct, which the deploy copies to model-repository\/batch\/\).*; it has --triton\n$/,
    );
    // A name the stack does not have at all is still said so.
    const nope = await run(["check", "models/chat", "--stack", "staging", "--endpoint", "nope"]);
    assert.strictEqual(nope.code, 2);
    assert.strictEqual(
      nope.err,
      'error: stack staging has no SageMaker endpoint "nope" reading a model repository; it has --triton, --fleet\n',
    );
  });

  it("the example repository models/chat passes check for every target the shipped stacks point at it", async () => {
    const cases = [
      ["dev", "--triton"],
      ["staging", "--triton"],
      ["staging", "--fleet"],
      ["prod", "--triton"],
    ];
    // Every Triton target of the shipped stacks reads models/chat, and these are all of them: the
    // SageMaker endpoints serve hub weights on LMI (hubModel) and read no model repository.
    const root = projectRoot();
    assert.deepStrictEqual(
      ["dev", "staging", "prod"].flatMap((stack) =>
        stackTargets(parseStackConfig(readStackFile(stack, root), stack, root)).map((t) => {
          assert.strictEqual(t.modelRepository, "models/chat", `${stack} ${t.label}`);
          return [stack, t.kind === "endpoint" ? `--endpoint ${t.label}` : `--${t.kind}`];
        }),
      ),
      cases,
    );
    for (const [stack, ...target] of cases) {
      const r = await run(["check", "models/chat", "--stack", stack, ...target]);
      assert.strictEqual(r.code, 0, `${stack} ${target.join(" ")}: ${r.err}`);
      assert.match(r.out, /1 model\(s\) \(llama3-8b\) ready for the vllm Triton image/);
    }
    const json = JSON.parse(fs.readFileSync("models/chat/llama3-8b/1/model.json", "utf8"));
    // An ungated Hugging Face repository (Meta's meta-llama ones need a token) and the stacks'
    // contextLength.
    assert.strictEqual(json.model, "NousResearch/Meta-Llama-3-8B-Instruct");
    assert.strictEqual(json.max_model_len, 8192);
  });

  it("init writes max_model_len, and refuses one that is not a positive integer", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "init-"));
    const r = await run(["init", dir, "--backend", "vllm", "--max-model-len", "4096"]);
    assert.strictEqual(r.code, 0, r.err);
    const json = JSON.parse(fs.readFileSync(path.join(dir, "llm/1/model.json"), "utf8"));
    assert.strictEqual(json.max_model_len, 4096);
    assert.strictEqual(json.disable_log_requests, undefined);
    const bad = await run([
      "init",
      dir,
      "--backend",
      "vllm",
      "--model",
      "b",
      "--max-model-len",
      "4k",
    ]);
    assert.strictEqual(bad.code, 2);
    assert.match(bad.err, /--max-model-len must be a positive integer \(tokens\), got "4k"/);
  });

  it("init then check, and usage mistakes exit 2", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "init-"));
    const init = await run(["init", dir, "--backend", "python"]);
    assert.strictEqual(init.code, 0);
    assert.match(init.out, /created .*llm\/1\/model.py/);
    assert.strictEqual((await run(["check", dir])).code, 0);
    const bad = await run(["init", dir, "--backend", "onnx"]);
    assert.strictEqual(bad.code, 2);
    assert.match(bad.err, /--backend must be one of vllm, python, tensorrtllm, got "onnx"/);
  });
});
