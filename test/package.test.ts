/**
 * The package as a user gets it: `npm pack`, installed into a new Pulumi project from the local
 * npm cache with no network, a TypeScript program compiled against its types, and
 * `llm-infra plan` run on that program, with the project's own test of its plan.
 *
 * The consumer installs with a lock file made from this repository's: `npm ci` then takes every
 * package by its recorded address and integrity, which the cache holds after this repository's
 * own `npm ci`; a lock-less `npm install` would ask the registry for each package's metadata,
 * which `npm ci` never fetches into the cache.
 */
import * as assert from "assert";
import { execFile } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import { builtinModules } from "module";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { projectRoot } from "../offline/plan";

const run = promisify(execFile);
const ROOT = projectRoot();
const EXAMPLE = path.join(ROOT, "examples", "chat");

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  dev?: boolean;
  dependencies?: Record<string, string>;
  [k: string]: unknown;
}
interface Lock {
  packages: Record<string, LockEntry>;
}

/** A command's exit status and output, whatever the status. */
async function sh(
  file: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(file, args, { cwd, env, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof err.code === "number" ? err.code : 1,
      stdout: err.stdout ?? "",
      stderr: err.stderr ?? "",
    };
  }
}

/**
 * The consumer's lock: the package itself from its tarball, and every package it and the
 * example's own dependencies need at the versions this repository's lock records.
 */
export function consumerLock(
  ours: Lock,
  consumer: {
    name: string;
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  },
  tarball: { file: string; integrity: string },
): Record<string, unknown> {
  const root = ours.packages[""];
  const packages: Record<string, LockEntry> = {
    "": {
      name: consumer.name,
      dependencies: consumer.dependencies,
      devDependencies: consumer.devDependencies,
    },
    "node_modules/llm-infra": {
      version: root.version,
      resolved: `file:${tarball.file}`,
      integrity: tarball.integrity,
      license: root.license,
      dependencies: root.dependencies,
      bin: root.bin,
      engines: root.engines,
    },
  };
  // The package's own dependency tree: every entry this repository installs for production.
  for (const [p, entry] of Object.entries(ours.packages))
    if (p !== "" && entry.dev !== true) packages[p] = entry;
  // The example's development tools, at this repository's versions.
  const tools = new Set(Object.keys(consumer.devDependencies));
  for (const [p, entry] of Object.entries(ours.packages)) {
    const name = p.replace(/^node_modules\//, "");
    if (tools.has(name)) {
      packages[p] = entry;
      for (const dep of Object.keys(entry.dependencies ?? {}))
        if (ours.packages[`node_modules/${dep}`])
          packages[`node_modules/${dep}`] = ours.packages[`node_modules/${dep}`];
    }
  }
  return { name: consumer.name, lockfileVersion: 3, requires: true, packages };
}

describe("the npm package, installed into a new Pulumi project", function () {
  // npm pack, an install of some 300 packages from the cache, tsc and two plans.
  this.timeout(600_000);
  let work: string;
  let tarballPath: string;
  let packed: string[];
  let consumer: string;
  let install: { code: number; stdout: string; stderr: string };

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "llm-infra-pack-"));
    // The suite has just built dist/ (npm test): pack it as it is, without prepack's build.
    const pack = await sh(
      "npm",
      ["pack", "--ignore-scripts", "--json", "--pack-destination", work],
      ROOT,
    );
    assert.strictEqual(pack.code, 0, pack.stderr);
    const [info] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
    packed = info.files.map((f) => f.path);
    tarballPath = path.join(work, info.filename);

    consumer = path.join(work, "chat");
    fs.cpSync(EXAMPLE, consumer, {
      recursive: true,
      filter: (src) => !/node_modules|dist/.test(path.relative(EXAMPLE, src)),
    });
    fs.copyFileSync(tarballPath, path.join(consumer, path.basename(tarballPath)));
    const pkg = JSON.parse(fs.readFileSync(path.join(consumer, "package.json"), "utf8")) as {
      name: string;
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    pkg.dependencies["llm-infra"] = `file:${path.basename(tarballPath)}`;
    fs.writeFileSync(path.join(consumer, "package.json"), JSON.stringify(pkg, null, 2));
    const integrity = `sha512-${crypto.createHash("sha512").update(fs.readFileSync(tarballPath)).digest("base64")}`;
    const ours = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8")) as Lock;
    fs.writeFileSync(
      path.join(consumer, "package-lock.json"),
      JSON.stringify(
        consumerLock(ours, pkg, { file: path.basename(tarballPath), integrity }),
        null,
        2,
      ),
    );
    install = await sh(
      "npm",
      ["ci", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
      consumer,
    );
  });

  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it("packs dist with its types, the bin, the sources for pulumi package add, and the policy pack", () => {
    for (const file of [
      "package.json",
      "LICENSE",
      "CHANGELOG.md",
      "dist/components/index.js",
      "dist/components/index.d.ts",
      "dist/offline/index.js",
      "dist/offline/index.d.ts",
      "dist/offline/mocks.js",
      "dist/scripts/llmInfra.js",
      "index.ts",
      "components/index.ts",
      "PulumiPlugin.yaml",
      "schema.json",
      "policy/PulumiPolicy.yaml",
      "policy/index.ts",
      "policy/config/prod.json",
      "charts/triton/Chart.yaml",
    ])
      assert.ok(packed.includes(file), `the tarball holds ${file}`);
    for (const file of packed) {
      assert.ok(!/^(dist\/)?test\//.test(file), `no tests in the tarball: ${file}`);
      assert.ok(!file.includes("node_modules"), `no node_modules in the tarball: ${file}`);
    }
    assert.ok(
      fs
        .readFileSync(path.join(ROOT, "dist", "scripts", "llmInfra.js"), "utf8")
        .startsWith("#!/usr/bin/env node"),
      "the bin starts with a shebang",
    );
  });

  it("installs from the tarball with npm ci, from the cache alone", () => {
    assert.strictEqual(install.code, 0, `npm ci --offline failed:\n${install.stderr}`);
    assert.ok(
      fs.existsSync(
        path.join(consumer, "node_modules", "llm-infra", "dist", "components", "index.js"),
      ),
    );
    assert.ok(fs.existsSync(path.join(consumer, "node_modules", ".bin", "llm-infra")));
  });

  it("compiles a program and its test against the package's types (tsc --strict)", async () => {
    const tsc = await sh(path.join(consumer, "node_modules", ".bin", "tsc"), [], consumer);
    assert.strictEqual(tsc.code, 0, tsc.stdout + tsc.stderr);
  });

  it("plans the program with npx llm-infra plan: resources, cost, policies, the next command", async () => {
    const plan = await sh("npx", ["--offline", "llm-infra", "plan", "dev"], consumer);
    assert.strictEqual(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /^llm-infra plan: stack dev \(environment dev, us-east-1\)/);
    assert.match(plan.stdout, /\nResources: \d+ \(5 components, \d+ resources\)/);
    assert.match(plan.stdout, /\nMonthly cost: idle \$[\d,.]+ \/ expected \$[\d,.]+ \/ peak/);
    assert.match(plan.stdout, /\nPolicies: (no violations|\d+ violation)/);
    assert.match(
      plan.stdout,
      /\nNext: pulumi preview --stack dev, then pulumi up --stack dev\.\n$/,
    );
    for (const line of plan.stdout.split("\n"))
      assert.ok(line.length <= 120, `a line over 120 columns: ${line}`);

    const json = await sh("npx", ["--offline", "llm-infra", "plan", "--json"], consumer);
    assert.strictEqual(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout) as {
      project: string;
      stack: string;
      resources: { type: string }[];
      cost: { monthlyUsd: number };
    };
    assert.strictEqual(report.project, "chat");
    assert.strictEqual(report.stack, "dev");
    assert.ok(report.resources.some((r) => r.type === "aws:sagemaker/endpoint:Endpoint"));
    assert.ok(report.cost.monthlyUsd > 1000, "an ml.g5.2xlarge endpoint costs over $1,000 a month");
  });

  it("runs the project's own test of its plan (llm-infra/plan)", async () => {
    const test = await sh(
      process.execPath,
      ["--test", "--test-reporter=tap", "dist/test/plan.test.js"],
      consumer,
    );
    assert.strictEqual(test.code, 0, test.stdout + test.stderr);
    assert.match(test.stdout, /# pass 1/);
  });

  it("says which mistake: no Pulumi.yaml and a missing main exit 2, a crash exits 3 with its trace", async () => {
    const bin = path.join(consumer, "node_modules", ".bin", "llm-infra");
    const empty = fs.mkdtempSync(path.join(work, "empty-"));
    const none = await sh(bin, ["plan", "--cwd", empty], consumer);
    assert.strictEqual(none.code, 2);
    assert.strictEqual(
      none.stderr,
      `error: no Pulumi.yaml in ${empty}: run the plan in a Pulumi project's directory, or name it with --cwd <dir>\n`,
    );

    const broken = path.join(consumer, "broken");
    fs.mkdirSync(broken);
    fs.writeFileSync(
      path.join(broken, "Pulumi.yaml"),
      "name: broken\nruntime: nodejs\nmain: bin/index.js\n",
    );
    fs.writeFileSync(path.join(broken, "Pulumi.dev.yaml"), "config:\n  aws:region: us-east-1\n");
    const missing = await sh(bin, ["plan", "--cwd", broken], consumer);
    assert.strictEqual(missing.code, 2);
    assert.match(
      missing.stderr,
      /^error: Pulumi\.yaml: main bin\/index\.js does not exist in .*broken \(build the program first/,
    );
    assert.strictEqual(missing.stderr.split("\n").length, 2, "one line");

    fs.writeFileSync(path.join(broken, "Pulumi.yaml"), "name: broken\nruntime: nodejs\n");
    fs.writeFileSync(
      path.join(broken, "index.ts"),
      'import { ModelStore } from "llm-infra";\n\nfunction nameOf(): string {\n  throw new Error("no model name");\n}\n\nnew ModelStore(nameOf(), {});\n',
    );
    const crash = await sh(bin, ["plan", "--cwd", broken], consumer);
    assert.strictEqual(crash.code, 3);
    assert.match(
      crash.stderr,
      /^error: the plan stopped: the program threw\nError: no model name\n/,
    );
    assert.match(
      crash.stderr,
      /at nameOf \(.*broken[/\\]index\.ts:4/,
      "the program's own stack trace",
    );
  });
});

describe("the package's shipped code", () => {
  /**
   * Bare modules the compiled package may require without declaring them: each is loaded lazily
   * and only where it is installed.
   */
  const UNDECLARED: Record<string, string> = {
    "adm-zip":
      "checks/helm.ts unpacks helm from this repository's devDependency, only when installed",
    typescript: "offline/deferredModules.ts defers the Pulumi SDK's own require of it",
    "@npmcli/arborist": "offline/deferredModules.ts defers the Pulumi SDK's own require of it",
  };

  it("requires only its dependencies and Node's own modules", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
      files: string[];
    };
    const declared = new Set(Object.keys(pkg.dependencies));
    const builtins = new Set(builtinModules);
    const shipped = pkg.files.filter((f) => f.startsWith("dist/")).map((f) => path.join(ROOT, f));
    const undeclared: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(file);
        else if (file.endsWith(".js"))
          for (const m of fs.readFileSync(file, "utf8").matchAll(/require\("([^".][^"]*)"\)/g)) {
            const request = m[1].replace(/^node:/, "");
            const name = request.startsWith("@")
              ? request.split("/").slice(0, 2).join("/")
              : request.split("/")[0];
            if (!declared.has(name) && !builtins.has(name) && !(name in UNDECLARED))
              undeclared.push(`${path.relative(ROOT, file)}: ${request}`);
          }
      }
    };
    for (const dir of shipped) if (fs.existsSync(dir)) walk(dir);
    assert.deepStrictEqual(undeclared, [], "modules the package needs but does not declare");
  });
});
