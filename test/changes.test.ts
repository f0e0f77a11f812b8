/**
 * `plan --against`: what a change does to a deployed stack (offline/changes.ts), on real pairs of
 * plans: an instance type change, a bucket renamed in code, a Kubernetes version bump and a node
 * group's instance type change, each with its verdict; and the replace table
 * (catalog/replacements.ts) held to the types the stacks create and to @pulumi/aws's inputs.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPLACEMENTS } from "../catalog/replacements";
import { ModelStore } from "../components";
import {
  PlannedResource,
  ResourceChange,
  changeVerdicts,
  changesBetween,
  readPlanFile,
} from "../offline/changes";
import {
  PlanReport,
  listStacks,
  planConfig,
  planProgram,
  planStack,
  projectRoot,
  readStackFile,
} from "../offline/plan";
import { toJson, toText } from "../offline/report";
import { main as planMain } from "../scripts/plan";
import { capturedResource } from "./helpers";

const ROOT = projectRoot();

/** An earlier plan as its JSON carries it. */
const planned = (report: PlanReport): PlannedResource[] =>
  (JSON.parse(toJson(report)) as { resources: PlannedResource[] }).resources;

/** The changes that are not `same`, as `action type name`. */
const moves = (changes: ResourceChange[]) =>
  changes.filter((c) => c.action !== "same").map((c) => `${c.action} ${c.type} ${c.name}`);

const captured = capturedResource;

/** A shipped stack's config with one edit. */
function edited(stack: string, edit: (raw: Record<string, unknown>) => void) {
  const raw = readStackFile(stack);
  edit(raw);
  return raw;
}

describe("plan --against: what a change does to a deployed stack", function () {
  this.timeout(120_000);
  const earlier: Record<string, PlanReport> = {};
  before(async () => {
    for (const stack of ["dev", "prod"]) earlier[stack] = await planStack(stack);
  });

  it("a plan against itself changes nothing and says nothing", async () => {
    const again = await planStack("prod", ROOT, { against: planned(earlier.prod) });
    assert.ok(again.changes && again.changes.length === earlier.prod.resources.length);
    assert.deepStrictEqual(moves(again.changes), []);
    assert.ok(!again.policies.some((p) => p.policy === "stateful-replacement"));
    assert.match(
      toText(again),
      /\nChanges: 0 to create, 0 to update, 0 to replace, 0 to delete, \d+ unchanged\n/,
    );
  });

  it("an endpoint's instance type: its config and scaling are replaced, the endpoint updated in place", async () => {
    const raw = edited("prod", (r) => {
      const sm = r["llm-infra:sagemaker"] as { endpoints: Record<string, unknown>[] };
      sm.endpoints[0].instanceType = "ml.g6.2xlarge";
    });
    const report = await planConfig("prod", raw, ROOT, { against: planned(earlier.prod) });
    const change = (name: string, type: string) =>
      report.changes!.find((c) => c.name === name && c.type === type)!;
    assert.strictEqual(
      change("chat-config", "aws:sagemaker/endpointConfiguration:EndpointConfiguration").action,
      "replace",
    );
    assert.deepStrictEqual(
      change("chat-config", "aws:sagemaker/endpointConfiguration:EndpointConfiguration").because,
      ["productionVariants"],
    );
    const endpoint = change("chat-endpoint", "aws:sagemaker/endpoint:Endpoint");
    assert.strictEqual(
      endpoint.action,
      "update",
      "endpointConfigName updates an endpoint in place",
    );
    assert.ok(endpoint.properties.includes("endpointConfigName"));
    assert.strictEqual(
      change("chat-scaling", "aws:appautoscaling/target:Target").action,
      "replace",
    );
    for (const policy of ["chat-invocations", "chat-concurrency"])
      assert.deepStrictEqual(change(policy, "aws:appautoscaling/policy:Policy").because, [
        "replaced with chat-scaling",
      ]);
    assert.ok(
      !report.policies.some((p) => p.policy === "stateful-replacement"),
      "no stateful loss",
    );
  });

  it("a bucket renamed in code is a deletion: mandatory in prod, advisory in dev, allowed by name", async () => {
    const store = (name: string) => () => {
      new ModelStore(name, {});
    };
    const config = (environment: string, allow?: string[]) => ({
      "aws:region": "us-east-1",
      "llm-infra:environment": environment,
      ...(allow ? { "llm-infra:allowReplace": allow } : {}),
    });
    const options = { project: "models", stack: "prod" };
    const before = planned(
      await planProgram(store("models"), { ...options, config: config("prod") }),
    );
    const renamed = await planProgram(store("artifacts"), {
      ...options,
      config: config("prod"),
      against: before,
    });
    const lost = renamed.policies.filter((p) => p.policy === "stateful-replacement");
    assert.deepStrictEqual(
      lost.map((p) => [p.resource, p.enforcement]),
      [
        ["models-key", "mandatory"],
        ["models-bucket", "mandatory"],
        ["models-access-logs", "mandatory"],
      ],
    );
    assert.match(
      lost[1].message,
      /models-bucket \(aws:s3\/bucket:Bucket\) would be deleted .*losing a bucket's objects; to go ahead, name it in llm-infra:allowReplace/,
    );
    assert.ok(moves(renamed.changes!).includes("create aws:s3/bucket:Bucket artifacts-bucket"));
    const dev = await planProgram(store("artifacts"), {
      ...options,
      config: config("dev"),
      against: before,
    });
    assert.ok(
      dev.policies
        .filter((p) => p.policy === "stateful-replacement")
        .every((p) => p.enforcement === "advisory"),
    );
    const allowed = await planProgram(store("artifacts"), {
      ...options,
      config: config("prod", ["models-key", "models-bucket", "models-access-logs"]),
      against: before,
    });
    assert.ok(!allowed.policies.some((p) => p.policy === "stateful-replacement"));
  });

  it("a Kubernetes version bump updates the cluster and its node groups in place: no stateful loss", async () => {
    const raw = edited("prod", (r) => {
      (r["llm-infra:eks"] as Record<string, unknown>).kubernetesVersion = "1.36";
    });
    const report = await planConfig("prod", raw, ROOT, { against: planned(earlier.prod) });
    const cluster = report.changes!.find((c) => c.type === "eks:index:Cluster")!;
    assert.strictEqual(cluster.action, "update");
    assert.ok(cluster.properties.includes("version"), cluster.properties.join(", "));
    const groups = report.changes!.filter((c) => c.type === "aws:eks/nodeGroup:NodeGroup");
    assert.ok(
      groups.length > 0 && groups.every((g) => g.action !== "replace"),
      moves(groups).join("; "),
    );
    assert.ok(!report.policies.some((p) => p.policy === "stateful-replacement"));
  });

  it("a node group's instance type replaces the group (a new launch of nodes), the cluster stays", async () => {
    const raw = edited("prod", (r) => {
      const eks = r["llm-infra:eks"] as { nodeGroups: Record<string, unknown>[] };
      eks.nodeGroups[0].instanceTypes = ["g6.2xlarge"];
    });
    const report = await planConfig("prod", raw, ROOT, { against: planned(earlier.prod) });
    const group = report.changes!.find(
      (c) => c.type === "aws:eks/nodeGroup:NodeGroup" && c.action === "replace",
    );
    assert.ok(group, moves(report.changes!).join("\n"));
    assert.ok(group.because?.includes("instanceTypes"));
    assert.strictEqual(report.changes!.find((c) => c.type === "eks:index:Cluster")?.action, "same");
    assert.ok(!report.policies.some((p) => p.policy === "stateful-replacement"));
  });

  it("names the subscriptions a user must make again when an alarm topic goes", () => {
    const topic = (name: string) => captured("aws:sns/topic:Topic", name);
    // Per-endpoint topics giving way to the stack's one topic.
    const report = changesBetween(
      [
        { type: "aws:sns/topic:Topic", name: "chat-alarms-topic", inputs: {} },
        { type: "aws:sns/topic:Topic", name: "batch-alarms-topic", inputs: {} },
      ],
      [topic("alarms-topic")],
    );
    const verdicts = changeVerdicts(report, "prod", []);
    assert.deepStrictEqual(
      verdicts.map((v) => [v.policy, v.enforcement, v.resource]),
      [
        ["topic-subscriptions", "advisory", "chat-alarms-topic"],
        ["topic-subscriptions", "advisory", "batch-alarms-topic"],
      ],
    );
    assert.match(
      verdicts[0].message,
      /AWS deletes its subscriptions with it: subscribe again to alarms-topic/,
    );
    assert.deepStrictEqual(
      changeVerdicts(changesBetween([], [topic("alarms-topic")]), "prod", []),
      [],
    );
  });

  it("counts a resource the earlier plan did not have, and one it had that is gone", () => {
    const changes = changesBetween(
      [{ type: "aws:sns/topic:Topic", name: "old", inputs: {} }],
      [captured("aws:sns/topic:Topic", "new")],
    );
    assert.deepStrictEqual(moves(changes), [
      "create aws:sns/topic:Topic new",
      "delete aws:sns/topic:Topic old",
    ]);
    // A nested replace-forcing path: a Namespace's labels update it, its name replaces it.
    const ns = (labels: Record<string, string>, name = "inference") =>
      captured("kubernetes:core/v1:Namespace", "ns", { metadata: { name, labels } });
    const before = [
      { type: "kubernetes:core/v1:Namespace", name: "ns", inputs: ns({ a: "1" }).inputs },
    ];
    assert.deepStrictEqual(moves(changesBetween(before, [ns({ a: "2" })])), [
      "update kubernetes:core/v1:Namespace ns",
    ]);
    assert.deepStrictEqual(moves(changesBetween(before, [ns({ a: "1" }, "serving")])), [
      "replace kubernetes:core/v1:Namespace ns",
    ]);
  });

  it("npm run plan -- <stack> --against <file>: the changes in the report and the JSON; a bad file is one line, exit 2", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "llm-infra-against-"));
    const file = path.join(dir, "dev.json");
    fs.writeFileSync(file, toJson(earlier.dev));
    let out = "";
    let err = "";
    const io = { out: (s: string) => (out += s), err: (s: string) => (err += s) };
    assert.strictEqual(await planMain(["dev", "--against", file, "--json"], io), 0, err);
    const json = JSON.parse(out) as { changes: ResourceChange[] };
    assert.strictEqual(json.changes.length, earlier.dev.resources.length);
    assert.ok(json.changes.every((c) => c.action === "same"));
    for (const [text, says] of [
      ["{", /is not JSON/],
      ['{"stack": "dev"}', /is not a plan: it needs the resources list/],
    ] as const) {
      fs.writeFileSync(file, text);
      err = "";
      assert.strictEqual(await planMain(["dev", "--against", file], io), 2);
      assert.match(err, says);
      assert.strictEqual(err.split("\n").length, 2, err);
    }
    assert.throws(() => readPlanFile(path.join(dir, "none.json")), /--against .* cannot be read/);
  });
});

describe("the replace table (catalog/replacements.ts)", function () {
  this.timeout(120_000);

  it("has an entry for every type the shipped stacks create", async () => {
    const missing = new Set<string>();
    for (const stack of listStacks())
      for (const r of (await planStack(stack)).resources)
        if (
          (r.custom || r.type === "awsx:ec2:Vpc" || r.type === "eks:index:Cluster") &&
          !(r.type in REPLACEMENTS)
        )
          missing.add(r.type);
    assert.deepStrictEqual([...missing], []);
  });

  it("names only inputs of each AWS type, as @pulumi/aws declares them", () => {
    const sdk = path.dirname(require.resolve("@pulumi/aws/package.json"));
    const wrong: string[] = [];
    for (const [type, properties] of Object.entries(REPLACEMENTS)) {
      const m = /^aws:([a-z0-9]+)\/([a-zA-Z0-9]+):([A-Za-z0-9]+)$/.exec(type);
      if (!m) continue;
      const declaration = fs.readFileSync(path.join(sdk, m[1], `${m[2]}.d.ts`), "utf8");
      const args = new RegExp(`export interface ${m[3]}Args \\{([\\s\\S]*?)\\n\\}`).exec(
        declaration,
      );
      assert.ok(args, `${type}: no ${m[3]}Args in ${m[1]}/${m[2]}.d.ts`);
      const inputs = new Set([...args[1].matchAll(/^ {4}([a-zA-Z0-9]+)\??:/gm)].map((i) => i[1]));
      for (const p of properties) if (!inputs.has(p.split(".")[0])) wrong.push(`${type}.${p}`);
    }
    assert.deepStrictEqual(wrong, []);
  });

  it("lists what @pulumi/aws-native replaces on, as its resources declare it", () => {
    const sdk = path.dirname(require.resolve("@pulumi/aws-native/package.json"));
    let checked = 0;
    for (const [type, properties] of Object.entries(REPLACEMENTS)) {
      const m = /^aws-native:([a-z0-9]+):([A-Za-z0-9]+)$/.exec(type);
      if (!m) continue;
      const file = `${m[2][0].toLowerCase()}${m[2].slice(1)}.js`;
      const source = fs.readFileSync(path.join(sdk, m[1], file), "utf8");
      const declared = /replaceOnChanges: \[((?:"[^"]*",?\s*)*)\]/.exec(source)?.[1] ?? "";
      const sdkList = [...declared.matchAll(/"([^"]+)"/g)].map((x) => x[1].replace("[*]", ""));
      assert.deepStrictEqual([...properties].sort(), sdkList.sort(), type);
      checked++;
    }
    assert.ok(checked >= 2, "the aws-native types of the shipped stacks are listed");
  });
});
