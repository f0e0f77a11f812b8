/**
 * The offline plan of a program of the user's own (offline/program.ts, `llm-infra plan`), in this
 * process: projects written to a folder inside this repository's node_modules, so that their
 * `require("@pulumi/aws")` finds the SDKs the way a user's project finds its own.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { mandatoryViolations, projectRoot } from "../offline/plan";
import { planProject, readProject, withProjectNamespace } from "../offline/program";
import { toText } from "../offline/report";
import { main as llmInfra } from "../scripts/llmInfra";
import { InferenceVpc, ModelStore, SageMakerEndpoint } from "../components";
import { MOCK_ACCOUNT_ID, OfflineMocks } from "../offline/mocks";

const ROOT = projectRoot();
const COMPONENTS = path.join(ROOT, "dist", "components");
const PROJECTS = path.join(ROOT, "node_modules", ".cache", "llm-infra-test-projects");

/** A project folder with these files (relative path to text). */
function project(files: Record<string, string>): string {
  fs.mkdirSync(PROJECTS, { recursive: true });
  const dir = fs.mkdtempSync(path.join(PROJECTS, "p-"));
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  }
  return dir;
}

/** A JavaScript program with a table the package does not price, next to a ModelStore. */
const CHAT_DB = {
  "Pulumi.yaml": "name: chatdb\nruntime:\n  name: nodejs\n  options:\n    typescript: false\n",
  "Pulumi.dev.yaml": [
    "config:",
    "  aws:region: eu-west-1",
    "  tableName: chats",
    "  apiKey:",
    "    secure: v1:AAAAAAAAAAAAAAAA:c2VjcmV0",
    "",
  ].join("\n"),
  "index.js": [
    'const pulumi = require("@pulumi/pulumi");',
    'const aws = require("@pulumi/aws");',
    `const { ModelStore } = require(${JSON.stringify(COMPONENTS)});`,
    "const config = new pulumi.Config();",
    'const tags = { environment: "dev", team: "ml", "cost-center": "ml-1" };',
    'new ModelStore("models", { tags });',
    'const table = new aws.dynamodb.Table("chats", {',
    '  name: config.require("tableName"),',
    '  hashKey: "id",',
    '  attributes: [{ name: "id", type: "S" }],',
    '  billingMode: "PAY_PER_REQUEST",',
    "  tags,",
    "});",
    'exports.secretIsSecret = config.requireSecret("apiKey").apply(() => true);',
    "exports.tableName = table.name;",
    "",
  ].join("\n"),
};

/** Runs `llm-infra` in this process. */
async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await llmInfra(argv, { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

describe("llm-infra plan: a program of the user's own", function () {
  this.timeout(120_000);
  after(() => fs.rmSync(PROJECTS, { recursive: true, force: true }));

  it("lists a resource type the package does not price, and counts it as unpriced", async () => {
    const dir = project(CHAT_DB);
    const report = await planProject({ dir });
    assert.strictEqual(report.project, "chatdb");
    assert.strictEqual(report.stack, "dev");
    assert.strictEqual(report.environment, "dev", "the stack's name, as no environment is set");
    assert.strictEqual(report.region, "eu-west-1");
    const table = report.resources.find((r) => r.type === "aws:dynamodb/table:Table");
    assert.ok(table, "the table is in the plan");
    assert.strictEqual(table.inputs.name, "chats", "a key without a namespace is the project's");
    assert.deepStrictEqual(
      report.cost.unpriced.find((u) => u.type === "aws:dynamodb/table:Table"),
      { type: "aws:dynamodb/table:Table", count: 1 },
    );
    const text = toText(report);
    assert.match(text, /aws:dynamodb\/table:Table chats/);
    assert.match(text, /not priced: 1 x aws:dynamodb\/table:Table/);
    assert.ok(report.resources.some((r) => r.type === "aws:s3/bucket:Bucket"));
  });

  it("runs the program afresh for each plan, and passes secure values as secrets", async () => {
    const dir = project(CHAT_DB);
    const first = await planProject({ dir, stack: "dev" });
    const second = await planProject({ dir, stack: "dev" });
    assert.ok(first.resources.length > 10);
    assert.strictEqual(second.resources.length, first.resources.length);
    assert.deepStrictEqual(
      withProjectNamespace({ "aws:region": "us-east-1", key: { secure: "v1:x" }, n: 2 }, "p"),
      {
        values: { "aws:region": "us-east-1", "p:key": "[secret]", "p:n": 2 },
        secretKeys: ["p:key"],
      },
    );
  });

  it("checks under the pack configuration the user names with --policy-config", async () => {
    const dir = project({
      ...CHAT_DB,
      "index.js": CHAT_DB["index.js"].replace(
        'new ModelStore("models", { tags });',
        'new ModelStore("models", {});',
      ),
    });
    const strict = await planProject({ dir });
    assert.ok(
      mandatoryViolations(strict).some((v) => v.policy === "cost-allocation-tags"),
      "an untagged bucket is a mandatory violation under dev's configuration",
    );
    const file = path.join(dir, "pack.json");
    fs.writeFileSync(file, JSON.stringify({ "cost-allocation-tags": "advisory" }));
    const relaxed = await cli(["plan", "--cwd", dir, "--policy-config", file, "--json"]);
    assert.strictEqual(relaxed.code, 0, relaxed.err);
    const report = JSON.parse(relaxed.out) as {
      policies: { policy: string; enforcement: string }[];
    };
    assert.ok(report.policies.some((p) => p.policy === "cost-allocation-tags"));
    assert.ok(
      report.policies.every(
        (p) => p.policy !== "cost-allocation-tags" || p.enforcement === "advisory",
      ),
    );
    // A violation names the file that set its threshold: the one given (the package's own in
    // plan.test.ts, "refuses dev on p5.48xlarge").
    fs.writeFileSync(file, JSON.stringify({ "monthly-budget": { monthlyBudgetUsd: 1 } }));
    const tight = await planProject({ dir, policyConfigFile: file });
    const over = tight.policies.find((p) => p.policy === "monthly-budget");
    assert.ok(over, "over a $1 budget");
    assert.ok(
      over.message.endsWith(
        `(set in ${path.relative(process.cwd(), file)}, monthly-budget.monthlyBudgetUsd)`,
      ),
      over.message,
    );
  });

  it("says which mistake, in one line with exit 2, for each project a user can get wrong", async () => {
    const cases: [Record<string, string>, string[], RegExp][] = [
      [
        { ...CHAT_DB, "Pulumi.prod.yaml": "config:\n  aws:region: us-east-1\n" },
        [],
        /has several stacks: name one of dev, prod$/,
      ],
      [
        { "Pulumi.yaml": "name: x\nruntime: nodejs\n", "index.js": "" },
        [],
        /no Pulumi\.<stack>\.yaml in .*: create one \(pulumi stack init dev/,
      ],
      [
        { ...CHAT_DB, "package.json": '{"type": "module"}' },
        [],
        /"type": "module" programs are not planned offline yet/,
      ],
      [
        { ...CHAT_DB, "Pulumi.yaml": "name: x\nruntime: python\n" },
        [],
        /Pulumi\.yaml: runtime is "python"; the offline plan runs Node\.js programs/,
      ],
      [
        { ...CHAT_DB, "Pulumi.yaml": "name: x\nruntime: nodejs\nmain: out/index.js\n" },
        [],
        /Pulumi\.yaml: main out\/index\.js does not exist/,
      ],
      [{ ...CHAT_DB, "Pulumi.yaml": "name: [x\n" }, [], /Pulumi\.yaml is not valid YAML/],
      [
        { ...CHAT_DB, "Pulumi.dev.yaml": "config:\n  tableName: t\n" },
        [],
        /Pulumi\.dev\.yaml: aws:region is not set/,
      ],
      [
        {
          ...CHAT_DB,
          "Pulumi.dev.yaml": "config:\n  aws:region: mars-1\n  llm-infra:environment: qa\n",
        },
        [],
        /aws:region .*mars-1.*; llm-infra:environment must be one of dev, staging, prod, got "qa"/,
      ],
      [CHAT_DB, ["staging"], /no stack "staging": there is no Pulumi\.staging\.yaml/],
      [
        CHAT_DB,
        ["--policy-config", "/nonexistent.json"],
        /--policy-config \/nonexistent\.json cannot be read/,
      ],
    ];
    for (const [files, args, says] of cases) {
      const dir = project(files);
      const { code, out, err } = await cli(["plan", ...args, "--cwd", dir]);
      assert.strictEqual(code, 2, `${says}: ${err}`);
      assert.strictEqual(out, "");
      assert.ok(err.startsWith("error: "), err);
      assert.match(err.trimEnd(), says);
      assert.strictEqual(err.split("\n").length, 2, `one line: ${err}`);
    }
  });

  it("plans this repository as a project and keeps the engine's own modules: one copy of each class", async () => {
    const engineFile = require.resolve("../offline/plan");
    const componentsFile = require.resolve("../components");
    const before = [require.cache[engineFile], require.cache[componentsFile]];
    const report = await planProject({ dir: ROOT, stack: "staging" });
    assert.ok(report.resources.length > 100);
    assert.deepStrictEqual([require.cache[engineFile], require.cache[componentsFile]], before);
  });

  it("finds the entry as the language host does: main, package.json main, then the index", () => {
    const dir = project({
      "Pulumi.yaml": "name: x\nruntime: nodejs\n",
      "package.json": '{"main": "lib/app.js"}',
      "lib/app.js": "",
    });
    assert.strictEqual(readProject(dir).entry, path.join(dir, "lib", "app.js"));
    const ts = project({ "Pulumi.yaml": "name: x\nruntime: nodejs\n", "index.ts": "" });
    assert.strictEqual(readProject(ts).entry, path.join(ts, "index.ts"));
    assert.strictEqual(readProject(ts).typescript, true);
    const js = project({
      "Pulumi.yaml": "name: x\nruntime:\n  name: nodejs\n  options:\n    typescript: false\n",
      "index.ts": "",
    });
    assert.throws(
      () => readProject(js),
      /no program in .*: it has no index\.js; set main: in Pulumi\.yaml/,
    );
  });

  it("llm-infra without a command prints its help and exits 2; an unknown command names the one there is", async () => {
    const none = await cli([]);
    assert.strictEqual(none.code, 2);
    assert.match(none.err, /Usage: llm-infra/);
    const unknown = await cli(["deploy"]);
    assert.strictEqual(unknown.code, 2);
    assert.match(unknown.err, /error: unknown command "deploy": the command is plan/);
  });
});

describe("the components under a program's own unit test, with llm-infra/mocks", () => {
  it("build under OfflineMocks, which answer the calls and outputs the components read", async () => {
    // What a user's own test does: set the package's mocks (a subclass may add its own answers),
    // build the components, and read the inputs of what they registered.
    const roles: Record<string, unknown>[] = [];
    class MyMocks extends OfflineMocks {
      newResource(args: pulumi.runtime.MockResourceArgs) {
        if (args.type === "aws:iam/role:Role") roles.push(args.inputs as Record<string, unknown>);
        return super.newResource(args);
      }
    }
    await pulumi.runtime.setMocks(new MyMocks("eu-west-1"), "own-mocks", "test", false);
    pulumi.runtime.setAllConfig({ "aws:region": "eu-west-1" });
    const network = new InferenceVpc("network", { azCount: 2, natGateways: "single" });
    const models = new ModelStore("models", {});
    const chat = new SageMakerEndpoint("chat", {
      instanceType: "ml.g5.xlarge",
      image: "lmi",
      imageVersion: "0.31.0",
      modelBucketArn: models.bucketArn,
      modelKmsKeyArn: models.kmsKeyArn,
      modelDataPrefix: "chat",
      subnetIds: network.privateSubnetIds,
      vpcId: network.vpcId,
    });
    const arn = await new Promise<string>((resolve) => chat.endpointArn.apply(resolve));
    await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
    assert.match(arn, new RegExp(`^arn:aws:sagemaker:eu-west-1:${MOCK_ACCOUNT_ID}:endpoint/`));
    assert.match(chat.endpointName, /chat/);
    const sagemaker = roles.find((r) =>
      String(r.assumeRolePolicy).includes("sagemaker.amazonaws.com"),
    );
    assert.ok(sagemaker, "the endpoint's role was registered");
    assert.match(
      String(sagemaker.assumeRolePolicy),
      new RegExp(`arn:aws:sagemaker:eu-west-1:${MOCK_ACCOUNT_ID}:\\*`),
    );
  });
});
