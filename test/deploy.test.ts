/**
 * `npm run deploy`: the promotion logic through an injected workspace, and the real Automation API
 * path against stand-in `pulumi` executables (none, too old, locked, recording its arguments).
 */
import * as assert from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as auto from "@pulumi/pulumi/automation";
import * as YAML from "yaml";
import { DeployIO, EXIT } from "../automation/deploy";
import { JourneySteps } from "../automation/journey";
import { DeployStack, PulumiCliError, Workspace } from "../automation/workspace";
import { main, parseRequest } from "../scripts/deploy";
import { projectRoot } from "../offline/plan";
import { SERVERLESS_7B_STACK, copyExampleModels, devOnP5Stack } from "./helpers";

const root = projectRoot();

/** The Automation API builds its errors from the failed command's result (internal constructors). */
function automationError(kind: typeof auto.CommandError, stderr: string): Error {
  const result = { stdout: "", stderr, code: 255, toString: () => `code: 255\n stderr: ${stderr}` };
  return new (kind as unknown as new (r: typeof result) => Error)(result);
}

type Method = "preview" | "up" | "refresh" | "destroy" | "previewRefresh" | "previewDestroy";
interface Call {
  stack: string;
  method: Method;
  opts: Record<string, unknown>;
}

/** A workspace whose stacks record every call and answer with `changes`, or throw `failures`. */
class FakeWorkspace implements Workspace {
  calls: Call[] = [];
  selected: string[] = [];
  readyError?: Error;
  constructor(private readonly failures: Record<string, Error> = {}) {}

  async ready(): Promise<void> {
    if (this.readyError) throw this.readyError;
  }

  async selectStack(stackName: string, workDir: string): Promise<DeployStack> {
    assert.strictEqual(workDir, root);
    if (this.selected[this.selected.length - 1] !== stackName) this.selected.push(stackName);
    const record = async (method: Method, opts: Record<string, unknown> = {}) => {
      this.calls.push({ stack: stackName, method, opts });
      (opts.onOutput as (s: string) => void)(`engine: ${method} ${stackName}\n`);
      const failure = this.failures[`${stackName}:${method}`];
      if (failure) throw failure;
    };
    const preview = { stdout: "", stderr: "", changeSummary: { create: 3, same: 1 } };
    const summary = {
      result: "succeeded",
      resourceChanges: { create: 3 },
    } as unknown as auto.UpdateSummary;
    const stack = {
      name: stackName,
      preview: async (o?: auto.PreviewOptions) => (await record("preview", { ...o }), preview),
      previewRefresh: async (o?: auto.RefreshOptions) => (
        await record("previewRefresh", { ...o }),
        preview
      ),
      previewDestroy: async (o?: auto.DestroyOptions) => (
        await record("previewDestroy", { ...o }),
        preview
      ),
      up: async (o?: auto.UpOptions) => (
        await record("up", { ...o }),
        { stdout: "", stderr: "", outputs: {}, summary }
      ),
      refresh: async (o?: auto.RefreshOptions) => (
        await record("refresh", { ...o }),
        { stdout: "", stderr: "", summary }
      ),
      destroy: async (o?: auto.DestroyOptions) => (
        await record("destroy", { ...o }),
        { stdout: "", stderr: "", summary }
      ),
      exportStack: async () => ({ version: 3, deployment: { resources: [] } }),
      outputs: async () => ({}),
    };
    return stack as unknown as DeployStack;
  }
}

/** Collects what deploy writes; answers questions with `answer` and records them. */
function recorder(answer = false): DeployIO & { stdout: string; stderr: string; asked: string[] } {
  const io = {
    stdout: "",
    stderr: "",
    asked: [] as string[],
    color: false,
    out: (s: string) => void (io.stdout += s),
    err: (s: string) => void (io.stderr += s),
    confirm: async (q: string) => (io.asked.push(q), answer),
  };
  return io;
}

/** A new, empty directory for the deploy's kept plans, so no test reads another's. */
function plansDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "llm-infra-plans-"));
}

/** Steps that call no AWS: each answers at once and records that it ran. */
function quietSteps(ran: string[] = []): JourneySteps {
  return {
    preflight: async (r) => (
      ran.push(`preflight ${r.stack}`),
      { blocked: false, summary: "clean" }
    ),
    deployerCidr: async () => "198.51.100.7/32",
    images: async (r) => (ran.push(`images ${r.stack}`), "nothing to copy"),
    models: async (r) => (ran.push(`models ${r.stack}`), "nothing to push"),
    smoke: async (r) => (ran.push(`smoke ${r.stack}`), "no serving target"),
  };
}

const policyConfig = (env: string) => path.join(root, "policy", "config", `${env}.json`);

/** A project directory with the given Pulumi.<stack>.yaml files and the shipped pack configurations. */
function projectDir(stacks: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "llm-infra-deploy-"));
  fs.cpSync(path.join(root, "policy", "config"), path.join(dir, "policy", "config"), {
    recursive: true,
  });
  copyExampleModels(dir);
  for (const [stack, yaml] of Object.entries(stacks)) {
    fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), yaml);
  }
  return dir;
}

/** A workspace that must not be asked for a stack: the run has to stop before. */
const untouched: Workspace = {
  ready: async () => undefined,
  selectStack: () => assert.fail("no stack may be selected"),
};

describe("deploy: promotion through an injected workspace", () => {
  it("previews by default, with the policy pack and the environment's pack configuration", async () => {
    const ws = new FakeWorkspace();
    const io = recorder();
    assert.strictEqual(await main(["dev"], ws, io, root, quietSteps(), plansDir()), EXIT.ok);
    assert.deepStrictEqual(
      ws.calls.map((c) => [c.stack, c.method]),
      [["dev", "preview"]],
    );
    assert.deepStrictEqual(ws.calls[0].opts.policyPacks, [path.join(root, "policy")]);
    assert.deepStrictEqual(ws.calls[0].opts.policyPackConfigs, [policyConfig("dev")]);
    assert.match(
      io.stdout,
      /\[1\/1\] dev \(environment dev, \$330\.49\/month by the offline plan\): preview, policy pack policy\/config\/dev\.json/,
    );
    assert.match(io.stdout, /engine: preview dev\n/, "the engine's output is streamed");
    assert.match(io.stdout, /dev: preview succeeded in [\d.]+ s: 3 create, 1 same/);
    assert.strictEqual(io.stderr, "");
  });

  it("promotes dev, staging, prod in order with --all --up --yes, each with its own pack configuration", async () => {
    const ws = new FakeWorkspace();
    const io = recorder();
    assert.strictEqual(
      await main(["--all", "--up", "--yes"], ws, io, root, quietSteps(), plansDir()),
      EXIT.ok,
    );
    // Each stack: the foundation (targeted), the serving update, and the targeted update that
    // closes its private cluster's API again (every shipped stack has one).
    const ups = (stack: string) => [
      [stack, "up", policyConfig(stack)],
      [stack, "up", policyConfig(stack)],
      [stack, "up", policyConfig(stack)],
    ];
    assert.deepStrictEqual(
      ws.calls.map((c) => [c.stack, c.method, (c.opts.policyPackConfigs as string[])[0]]),
      [...ups("dev"), ...ups("staging"), ...ups("prod")],
    );
    assert.deepStrictEqual(io.asked, [], "--yes asks nothing");
    assert.match(io.stdout, /\[3\/3\] prod/);
    assert.match(
      io.stdout,
      /left running, dev costs about \$330\.49\/month \(\$148\.42 idle\) by the offline plan; `npm run deploy -- dev --destroy` removes it/,
    );
  });

  it("prints the step lines the README's quick start quotes for dev", async () => {
    const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## From an empty account to a first token"));
    const block = /```\n(==> [\s\S]*?)```/.exec(section);
    assert.ok(block, "the README quotes the deploy's lines");
    const quoted = block[1].trim().split("\n");
    assert.ok(quoted.length >= 9, quoted.join("\n"));
    const ws = new FakeWorkspace();
    const io = recorder();
    const args = ["dev", "--up", "--yes", "--deployer-cidr", "198.51.100.7/32"];
    assert.strictEqual(await main(args, ws, io, root, quietSteps(), plansDir()), EXIT.ok);
    const printed = io.stdout.split("\n");
    for (const line of quoted)
      assert.ok(printed.includes(line), `README line not printed: ${line}`);
  });

  it("stops at the first failure: prod is never selected when staging fails", async () => {
    const ws = new FakeWorkspace({
      "staging:up": automationError(
        auto.CommandError,
        "error: preview failed: 1 mandatory policy violation\n",
      ),
    });
    const io = recorder();
    assert.strictEqual(
      await main(["--all", "--up", "--yes"], ws, io, root, quietSteps(), plansDir()),
      EXIT.failed,
    );
    assert.deepStrictEqual(ws.selected, ["dev", "staging"]);
    const lines = io.stderr.trim().split("\n");
    assert.strictEqual(lines.length, 1, io.stderr);
    assert.match(
      lines[0],
      /^error: staging: up failed \(error: preview failed: 1 mandatory policy violation\).*not run: prod$/,
    );
  });

  it("reports a concurrent update in one line with exit 5", async () => {
    const ws = new FakeWorkspace({
      "dev:preview": automationError(
        auto.ConcurrentUpdateError,
        "error: [409] Conflict: Another update is currently in progress.\n",
      ),
    });
    const io = recorder();
    assert.strictEqual(
      await main(["dev"], ws, io, root, quietSteps(), plansDir()),
      EXIT.concurrentUpdate,
    );
    assert.strictEqual(io.stderr.trim().split("\n").length, 1);
    assert.match(io.stderr, /another update of this stack is in progress.*pulumi cancel -s dev/);
  });

  it("previews and asks before a change; a refusal changes nothing and exits 6", async () => {
    const ws = new FakeWorkspace();
    const io = recorder(false);
    assert.strictEqual(
      await main(["staging", "--up"], ws, io, root, quietSteps(), plansDir()),
      EXIT.notConfirmed,
    );
    assert.deepStrictEqual(
      ws.calls.map((c) => c.method),
      ["preview"],
    );
    assert.deepStrictEqual(io.asked, ["Run up on staging?"]);
    assert.match(io.stderr, /staging: up not confirmed, nothing changed \(pass --yes/);

    const yes = new FakeWorkspace();
    assert.strictEqual(
      await main(["staging", "--refresh"], yes, recorder(true), root, quietSteps(), plansDir()),
      EXIT.ok,
    );
    assert.deepStrictEqual(
      yes.calls.map((c) => c.method),
      ["previewRefresh", "refresh"],
    );
    assert.strictEqual(yes.calls[1].opts.policyPacks, undefined, "refresh takes no policy pack");
  });

  it("keeps each stack's plan after an up and compares the next deploy with it: prod refuses to delete a bucket", async () => {
    const plans = plansDir();
    /** `npm run deploy -- <args>` with this test's kept plans. */
    const deploy = (args: string[], ws = new FakeWorkspace(), io = recorder()) =>
      main(args, ws, io, root, quietSteps(), plans);
    const io = recorder();
    assert.strictEqual(
      await deploy(["prod", "--up", "--yes"], new FakeWorkspace(), io),
      EXIT.ok,
      io.stderr,
    );
    const kept = path.join(plans, "prod.json");
    const plan = JSON.parse(fs.readFileSync(kept, "utf8")) as {
      stack: string;
      resources: { type: string; name: string }[];
    };
    assert.strictEqual(plan.stack, "prod");
    assert.ok(plan.resources.some((r) => r.name === "models-bucket"));
    assert.match(
      io.stdout,
      /its plan is kept in .*prod\.json: the next deploy, and `npm run plan -- prod --against/,
    );
    // The same stack again: nothing changes, so the next deploy goes ahead.
    assert.strictEqual(await deploy(["prod", "--up", "--yes"]), EXIT.ok);
    // A topic the program no longer has: the deploy goes ahead, saying what to subscribe again.
    const withTopic = JSON.parse(fs.readFileSync(kept, "utf8")) as typeof plan;
    withTopic.resources.push({ type: "aws:sns/topic:Topic", name: "chat-alarms-topic" });
    fs.writeFileSync(kept, JSON.stringify(withTopic));
    const warned = recorder();
    assert.strictEqual(
      await deploy(["prod", "--up", "--yes"], new FakeWorkspace(), warned),
      EXIT.ok,
      warned.stderr,
    );
    assert.match(
      warned.stderr,
      /^warning: prod: chat-alarms-topic would be deleted, and AWS deletes its subscriptions with it/m,
    );
    // A deployed bucket the program no longer has (renamed in code, say): prod refuses it.
    plan.resources.push({
      ...plan.resources.find((r) => r.name === "models-bucket")!,
      name: "artifacts-bucket",
    });
    fs.writeFileSync(kept, JSON.stringify(plan));
    const ws = new FakeWorkspace();
    const refused = recorder();
    assert.strictEqual(await deploy(["prod", "--up", "--yes"], ws, refused), EXIT.failed);
    assert.deepStrictEqual(ws.calls, [], "nothing reaches the Pulumi CLI");
    assert.match(
      refused.stderr,
      /stateful-replacement on artifacts-bucket \(artifacts-bucket \(aws:s3\/bucket:Bucket\) would be deleted/,
    );
    // A destroy forgets the kept plan.
    assert.strictEqual(await deploy(["prod", "--destroy", "--yes"]), EXIT.ok);
    assert.strictEqual(fs.existsSync(kept), false);
  });

  it("destroys one stack at a time and leaves protected resources in place", async () => {
    const ws = new FakeWorkspace();
    assert.strictEqual(
      await main(["prod", "--destroy", "--yes"], ws, recorder(), root, quietSteps(), plansDir()),
      EXIT.ok,
    );
    assert.deepStrictEqual(
      ws.calls.map((c) => [c.method, c.opts.excludeProtected]),
      [["destroy", true]],
    );
    const io = recorder();
    assert.strictEqual(
      await main(["--all", "--destroy"], ws, io, root, quietSteps(), plansDir()),
      EXIT.usage,
    );
    assert.match(io.stderr, /--destroy takes one stack at a time/);
  });

  it("plans every stack offline first: a config error in prod stops the run before dev (exit 2)", async () => {
    const dir = projectDir({
      dev: fs.readFileSync(path.join(root, "Pulumi.dev.yaml"), "utf8"),
      staging: fs.readFileSync(path.join(root, "Pulumi.staging.yaml"), "utf8"),
      prod: "config:\n  aws:region: us-east-1\n  llm-infra:environment: prod\n  llm-infra:network:\n    azCount: 1\n",
    });
    const io = recorder();
    assert.strictEqual(
      await main(["--all", "--up", "--yes"], untouched, io, dir, quietSteps(), plansDir()),
      EXIT.usage,
    );
    assert.match(
      io.stderr,
      /^error: prod: invalid stack configuration:[^]*llm-infra:network\.azCount must be an integer between 2 and 6, got 1\n$/,
    );
    assert.strictEqual(io.stdout, "");
    const ws = new FakeWorkspace();
    const unknown = recorder();
    assert.strictEqual(await main(["qa"], ws, unknown, root, quietSteps(), plansDir()), EXIT.usage);
    assert.match(unknown.stderr, /no stack "qa".*stacks: dev, prod, staging/);
    assert.deepStrictEqual(ws.selected, []);
  });

  it("refuses a stack whose offline plan breaks a mandatory policy (exit 1) or has invalid endpoint settings (exit 2)", async () => {
    const p5 = recorder();
    const p5Dir = projectDir({ dev: devOnP5Stack() });
    assert.strictEqual(
      await main(["dev", "--up", "--yes"], untouched, p5, p5Dir, quietSteps(), plansDir()),
      EXIT.failed,
    );
    assert.match(
      p5.stderr,
      /^error: dev: the offline plan breaks mandatory policies: .*instance-type-allowlist on chat-config \(chat-config uses p5\.48xlarge.*; see `npm run plan -- dev`\n$/,
    );
    const serverless = recorder();
    const serverlessDir = projectDir({ dev: SERVERLESS_7B_STACK });
    assert.strictEqual(
      await main(["dev"], untouched, serverless, serverlessDir, quietSteps(), plansDir()),
      EXIT.usage,
    );
    assert.match(serverless.stderr, /^error: dev: [^]*serverless inference has no GPUs/);
  });

  it("names the missing Pulumi CLI before printing anything else", async () => {
    const ws = new FakeWorkspace();
    ws.readyError = new PulumiCliError("the Pulumi CLI is not installed");
    const io = recorder();
    assert.strictEqual(
      await main(["dev"], ws, io, root, quietSteps(), plansDir()),
      EXIT.cliMissing,
    );
    assert.strictEqual(io.stdout, "");
    assert.strictEqual(io.stderr, "error: the Pulumi CLI is not installed\n");
  });

  it("reports a broken stack file as such (exit 2) before looking for the Pulumi CLI", async () => {
    const ws = new FakeWorkspace();
    ws.readyError = new PulumiCliError("the Pulumi CLI is not installed");
    const io = recorder();
    const broken = SERVERLESS_7B_STACK.replace("team: ml", "team: 'aws:ml'");
    const dir = projectDir({ dev: broken });
    assert.strictEqual(await main(["dev"], ws, io, dir, quietSteps(), plansDir()), EXIT.usage);
    assert.match(io.stderr, /^error: dev: invalid stack configuration:\n {2}llm-infra:tags\.team /);
    assert.doesNotMatch(io.stderr, /Pulumi CLI/);
  });

  it("rejects contradictory arguments", () => {
    assert.strictEqual(
      parseRequest("dev", { up: true, destroy: true }),
      "choose one operation, not --up and --destroy",
    );
    assert.strictEqual(parseRequest("dev", { all: true }), "give a stack or --all, not both");
    assert.match(
      String(parseRequest(undefined, {})),
      /^give a stack \(dev, prod, staging\) or --all$/,
    );
    assert.deepStrictEqual(parseRequest("prod", { refresh: true, yes: true }), {
      stacks: ["prod"],
      operation: "refresh",
      yes: true,
    });
  });
});

/** Runs `node dist/scripts/deploy.js args` with only `dir` on PATH. */
function runDeploy(
  args: string[],
  dir: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [path.join(root, "dist", "scripts", "deploy.js"), ...args],
      {
        cwd: root,
        env: { ...process.env, PATH: dir },
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * A directory holding a stand-in `pulumi`: it logs its arguments, answers with the first matching
 * `branches` (arms of a `case "$1" in`), reports v3.248.0 to `pulumi version`, and fails on
 * anything else. `calls(command)` gives the logged argument lines of one command, `calls()` all.
 */
function fakePulumi(...branches: string[]): {
  dir: string;
  calls: (command?: string) => string[];
} {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "llm-infra-pulumi-"));
  const log = path.join(dir, "calls.log");
  const script = [
    "#!/bin/sh",
    `echo "$@" >> "${log}"`,
    'case "$1" in',
    ...branches.map((b) => `  ${b}`),
    "  version) echo v3.248.0 ;;",
    "  *) exit 1 ;;",
    "esac",
    "",
  ].join("\n");
  fs.writeFileSync(path.join(dir, "pulumi"), script, { mode: 0o755 });
  const calls = (command?: string) =>
    (fs.existsSync(log) ? fs.readFileSync(log, "utf8").split("\n") : []).filter(
      (l) => l !== "" && (command === undefined || l.startsWith(`${command} `)),
    );
  return { dir, calls };
}

/** What `pulumi stack history --json` says of the last update, as the Automation API reads it. */
function lastUpdate(kind: string, resourceChanges: Record<string, number>): string {
  const update = {
    version: 1,
    kind,
    startTime: "2026-11-27T00:00:00Z",
    endTime: "2026-11-27T00:01:00Z",
    message: "",
    environment: {},
    config: {},
    result: "succeeded",
    resourceChanges,
  };
  return `stack) if [ "$2" = output ]; then echo '{}'; fi; if [ "$2" = history ]; then echo '${JSON.stringify([update])}'; fi ;;`;
}

describe("Pulumi.yaml", () => {
  it("runs the compiled stack program, the same module the offline plan runs", async () => {
    const project = YAML.parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as {
      name: string;
      runtime: { name: string; options: { typescript: boolean } };
      main: string;
    };
    assert.strictEqual(project.name, "llm-infra");
    assert.deepStrictEqual(project.runtime, { name: "nodejs", options: { typescript: false } });
    assert.strictEqual(project.main, "dist/programs/index.js");
    const main = path.join(root, project.main);
    assert.ok(fs.existsSync(main), `${project.main} is built`);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const program = require(main) as unknown;
    assert.strictEqual(program, (await import("../programs/index")).default);
    assert.strictEqual(typeof program, "function");
  });
});

describe("deploy: the Automation API path, without a Pulumi CLI", function () {
  if (process.platform === "win32") return;

  it("`deploy dev --preview` with no pulumi on PATH prints one line saying what to install, exit 4", async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "llm-infra-nopulumi-"));
    const { code, stdout, stderr } = await runDeploy(["dev", "--preview"], empty);
    assert.strictEqual(code, EXIT.cliMissing);
    assert.strictEqual(stdout, "");
    // The offline plan runs first (config before the CLI), so its warnings may come before.
    const lines = stderr
      .trim()
      .split("\n")
      .filter((l) => !l.startsWith("warning: "));
    assert.strictEqual(lines.length, 1, stderr);
    assert.match(
      lines[0],
      /^error: the Pulumi CLI is not installed .*install it with .*get\.pulumi\.com/,
    );
  });

  it("asks for a newer CLI when the installed one is older than 3.207.0 (replaceWith)", async () => {
    const old = fakePulumi("version) echo v3.0.0 ;;");
    const automation = await runDeploy(["dev"], old.dir);
    assert.strictEqual(automation.code, EXIT.cliMissing);
    assert.match(
      automation.stderr,
      /^error: the Pulumi CLI is too old for the Automation API: install it/m,
    );
    const before = fakePulumi("version) echo v3.206.0 ;;");
    const { code, stderr } = await runDeploy(["dev"], before.dir);
    assert.strictEqual(code, EXIT.cliMissing);
    assert.match(
      stderr,
      /^error: the Pulumi CLI is 3\.206\.0, older than 3\.207\.0, which the stacks need: install it/m,
    );
  });

  it("creates a missing stack, then runs `pulumi preview` with the policy pack and the environment's configuration, streaming its output", async () => {
    const { dir, calls } = fakePulumi(
      `stack) if [ "$2" = select ]; then echo "error: no stack named 'staging' found" >&2; exit 255; fi ;;`,
      'preview) echo "Previewing update (staging)" ;;',
    );
    const { code, stdout } = await runDeploy(["staging", "--preview"], dir);
    assert.strictEqual(code, EXIT.ok);
    assert.match(stdout, /Previewing update \(staging\)/);
    assert.strictEqual(calls("stack").length, 2);
    assert.match(calls("stack")[1], /^stack init staging /);
    const [preview] = calls("preview");
    assert.ok(preview, "pulumi preview ran");
    assert.ok(
      preview.includes(
        `--policy-pack ${path.join(root, "policy")} --policy-pack-config ${policyConfig("staging")}`,
      ),
      preview,
    );
    assert.match(preview, /--stack staging/);
  });

  it("previews a change and, with no terminal to ask, does not make it (exit 6)", async () => {
    const { dir, calls } = fakePulumi("stack) ;;", 'preview) echo "Previewing update (dev)" ;;');
    const { code, stderr } = await runDeploy(["dev", "--up"], dir);
    assert.strictEqual(code, EXIT.notConfirmed);
    assert.match(stderr, /^error: dev: up not confirmed, nothing changed/m);
    assert.strictEqual(calls("preview").length, 1);
    assert.deepStrictEqual(calls("up"), []);
  });

  it("--up starts with the foundation: `pulumi up --target` on its components and their children, with the policy pack; a failure there stops the run", async () => {
    const { dir, calls } = fakePulumi(
      lastUpdate("update", { create: 40 }),
      'up) echo "error: creating VPC: UnauthorizedOperation" >&2; exit 255 ;;',
    );
    const { code, stderr } = await runDeploy(["--all", "--up", "--yes", "--skip-preflight"], dir);
    assert.strictEqual(code, EXIT.failed, stderr);
    assert.match(
      stderr,
      /^error: dev: up failed \(error: creating VPC: UnauthorizedOperation\).*; not run: staging, prod$/m,
    );
    const [up, ...more] = calls("up");
    assert.deepStrictEqual(more, [], "nothing after the failed foundation");
    assert.ok(up.includes(`--policy-pack-config ${policyConfig("dev")}`), up);
    for (const target of [
      "urn:pulumi:dev::llm-infra::llm-infra:index:InferenceVpc::network",
      "urn:pulumi:dev::llm-infra::llm-infra:index:InferenceVpc$**",
      "urn:pulumi:dev::llm-infra::llm-infra:index:ModelStore$**",
      "urn:pulumi:dev::llm-infra::llm-infra:index:ModelRegistry$**",
    ])
      assert.ok(up.includes(`--target ${target}`), `${target} in ${up}`);
    assert.ok(!up.includes("SageMaker"), "nothing that serves is targeted");
    assert.ok(!calls().some((l) => l.includes("--stack staging")), "staging is never touched");
  });

  it("destroys with --exclude-protected", async () => {
    const { dir, calls } = fakePulumi(
      lastUpdate("destroy", { delete: 150 }),
      'destroy) echo "Destroying" ;;',
    );
    const { code, stdout } = await runDeploy(["prod", "--destroy", "--yes"], dir);
    assert.strictEqual(code, EXIT.ok);
    assert.match(stdout, /<== prod: destroy succeeded in [\d.]+ s: 150 delete/);
    const [destroy] = calls("destroy");
    assert.ok(destroy?.includes("--exclude-protected"), destroy);
    assert.ok(!destroy.includes("--policy-pack"), "destroy takes no policy pack");
  });

  it("turns the backend's lock into exit 5 and one line", async () => {
    const { dir } = fakePulumi(
      'stack) echo "error: the stack is currently locked by 1 lock(s)." >&2; exit 255 ;;',
    );
    const { code, stderr } = await runDeploy(["prod", "--up", "--yes"], dir);
    assert.strictEqual(code, EXIT.concurrentUpdate);
    // The offline plan runs first, so its warnings may come before.
    const lines = stderr.split("\n").filter((l) => l !== "" && !l.startsWith("warning: "));
    assert.strictEqual(lines.length, 1, stderr);
    assert.match(lines[0], /^error: prod: another update of this stack is in progress/);
  });
});
