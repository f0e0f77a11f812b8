import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { PlanReport, listStacks, planStack, projectRoot } from "../offline/plan";
import { toJson, toText } from "../offline/report";

const run = promisify(execFile);
const ROOT = projectRoot();
const PLAN = path.join(ROOT, "dist", "scripts", "plan.js");

/** Runs the plan CLI; resolves with its exit code and output whatever the code. */
async function cli(args: string[], command = process.execPath, cmdArgs = [PLAN]) {
  // As from a user's shell: without the npm settings of the `npm test` that runs this suite.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith("npm_config_")),
  );
  try {
    const { stdout, stderr } = await run(command, [...cmdArgs, ...args], {
      cwd: ROOT,
      env,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** Every string value anywhere in a JSON value. */
function strings(v: unknown): string[] {
  if (typeof v === "string") return [v];
  if (Array.isArray(v)) return v.flatMap(strings);
  if (v !== null && typeof v === "object") return Object.values(v).flatMap(strings);
  return [];
}

describe("offline plan of the shipped stacks", () => {
  const reports: Record<string, PlanReport> = {};
  before(async () => {
    for (const stack of listStacks()) reports[stack] = await planStack(stack);
  });

  it("ships dev, staging and prod", () => {
    assert.deepStrictEqual(listStacks(), ["dev", "prod", "staging"]);
  });

  for (const stack of ["dev", "staging", "prod"]) {
    it(`${stack}: every resource has a type, a name and an existing parent, and every reference resolved`, () => {
      const r = reports[stack];
      const components = new Set(r.resources.filter((x) => !x.custom).map((x) => x.name));
      for (const res of r.resources) {
        assert.match(res.type, /^[a-z0-9-]+:[A-Za-z0-9/]+:[A-Za-z0-9]+$/);
        assert.ok(
          res.parent === null || components.has(res.parent),
          `${res.name} has unknown parent ${res.parent}`,
        );
        for (const s of strings(res.inputs)) {
          assert.ok(
            !s.includes("undefined") &&
              !s.includes("[object Object]") &&
              !s.includes("04da6b54-80e4-46f7-96ec-b56ff0331ba9"),
            `${res.name} has an unresolved input: ${s}`,
          );
        }
      }
      assert.deepStrictEqual([...components].sort(), [
        "models",
        "network",
        "network-vpc",
        "registry",
      ]);
    });

    it(`${stack}: cost lines add up to the monthly total`, () => {
      const { cost } = reports[stack];
      const sum = Math.round(cost.lines.reduce((s, l) => s + l.monthlyUsd, 0) * 100) / 100;
      assert.strictEqual(cost.monthlyUsd, sum);
      assert.ok(cost.monthlyUsd > 0);
      assert.deepStrictEqual(
        cost.unpriced,
        [],
        "every resource type is priced or known to be free",
      );
    });

    it(`${stack}: tags every taggable resource with environment, team and cost-center`, () => {
      for (const res of reports[stack].resources.filter((x) => x.custom && "tags" in x.inputs)) {
        const tags = res.inputs.tags as Record<string, string>;
        assert.strictEqual(tags.environment, stack, res.name);
        assert.ok(tags.team && tags["cost-center"], res.name);
      }
    });
  }

  it("prod keeps model buckets, keys and registries through a destroy; dev does not", () => {
    const kept = (stack: string) =>
      reports[stack].resources.filter((r) =>
        ["aws:s3/bucket:Bucket", "aws:ecr/repository:Repository", "aws:kms/key:Key"].includes(
          r.type,
        ),
      );
    assert.ok(kept("prod").length >= 5);
    for (const r of kept("prod"))
      assert.deepStrictEqual([r.protect, r.retainOnDelete], [true, true], r.name);
    for (const r of kept("dev"))
      assert.deepStrictEqual([r.protect, r.retainOnDelete], [false, false], r.name);
  });

  it("prod runs a NAT gateway per AZ; dev runs one", () => {
    const nat = (stack: string) =>
      reports[stack].cost.lines.find((l) => l.type === "awsx:ec2:Vpc")!.description;
    assert.match(nat("prod"), /^3 NAT gateway/);
    assert.match(nat("dev"), /^1 NAT gateway/);
  });

  it("renders a tree, a cost table sorted largest first, and a total for people", () => {
    const text = toText(reports.dev);
    assert.match(text, /^llm-infra plan: stack dev \(environment dev, us-east-1\)/);
    assert.match(text, /├─ InferenceVpc network\n│ {2}├─ /);
    assert.match(text, /└─ ModelStore models\n/);
    const amounts = [...text.matchAll(/^\s+\$([\d,.]+)\s+\S+\s+/gm)].map((m) =>
      Number(m[1].replace(/,/g, "")),
    );
    const rows = amounts.slice(0, -1);
    assert.deepStrictEqual(
      rows,
      [...rows].sort((a, b) => b - a),
    );
    assert.strictEqual(amounts[amounts.length - 1], reports.dev.cost.monthlyUsd);
  });
});

describe("plan CLI", () => {
  it("prints the human report for dev and exits 0", async () => {
    const { code, stdout } = await cli(["dev"]);
    assert.strictEqual(code, 0);
    assert.match(stdout, /Resources: \d+ \(4 components, \d+ resources\)/);
    assert.match(stdout, /Monthly cost: \$[\d,.]+/);
    assert.match(stdout, /TOTAL/);
  });

  it("`npm run plan -- prod --json` prints one JSON object and nothing else", async () => {
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    const { code, stdout } = await cli(["prod", "--json"], npm, ["run", "plan", "--"]);
    assert.strictEqual(code, 0);
    const report = JSON.parse(stdout) as Record<string, unknown>;
    assert.deepStrictEqual(Object.keys(report), [
      "stack",
      "environment",
      "region",
      "resources",
      "cost",
      "policies",
    ]);
    assert.strictEqual(report.stack, "prod");
    assert.deepStrictEqual(report.policies, []);
    const first = (report.resources as Record<string, unknown>[])[0];
    for (const k of ["type", "name", "parent", "custom", "inputs"]) assert.ok(k in first, k);
  });

  it("gives the same JSON as the in-process plan", async () => {
    const { stdout } = await cli(["staging", "--json"]);
    assert.strictEqual(stdout.trim(), toJson(await planStack("staging")));
  });

  it("exits 2 naming the key for an invalid config", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "llm-infra-plan-"));
    fs.writeFileSync(
      path.join(dir, "Pulumi.broken.yaml"),
      "config:\n  aws:region: us-east-1\n  llm-infra:environment: dev\n  llm-infra:tags: {team: ml, costCenter: '1'}\n  llm-infra:network:\n    azCount: 1\n",
    );
    const { code, stdout, stderr } = await cli(["broken", "--dir", dir]);
    assert.strictEqual(code, 2);
    assert.strictEqual(stdout, "");
    assert.match(stderr, /llm-infra:network\.azCount must be an integer between 2 and 6, got 1/);
  });

  it("exits 2 for an unknown stack, listing the stacks", async () => {
    const { code, stderr } = await cli(["qa"]);
    assert.strictEqual(code, 2);
    assert.match(stderr, /no stack "qa".*stacks: dev, prod, staging/);
  });

  it("exits 2 for a missing stack argument", async () => {
    const { code, stderr } = await cli([]);
    assert.strictEqual(code, 2);
    assert.match(stderr, /missing required argument/);
  });
});

describe("README", () => {
  it("quotes the monthly figures the plan prints for each shipped stack", async () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8").replace(/\s+/g, " ");
    for (const stack of listStacks()) {
      const { cost } = await planStack(stack);
      const quoted = `${stack} $${cost.monthlyUsd.toLocaleString("en-US", { minimumFractionDigits: 2 })}`;
      assert.ok(readme.includes(quoted), `README should say "${quoted}"`);
    }
  });
});
