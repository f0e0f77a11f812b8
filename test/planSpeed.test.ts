/**
 * What the plan's speed work changed in behaviour: stack traces are off only while the offline
 * engine runs a program, the inputs are recorded from the mocks' own call, the IAM scenario plan
 * answers from indexes, policy evaluation names violations and not-applicable records as before,
 * and the bench states its targets. (offline/plan.ts and offline/policyEvaluator.ts no longer import
 * each other: importCycles.test.ts holds every module to that.)
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationPolicy,
} from "@pulumi/policy";
import { CapturedResource, capture } from "../offline/engine";
import { Plan, scopeOf } from "../checks/iamPlan";
import { policyDocuments } from "../checks/iamDocuments";
import { OfflineMocks } from "../offline/mocks";
import { planConfig, planStack, projectRoot, readStackFile } from "../offline/plan";
import {
  checkScheduling,
  finishRenders,
  forgetRenders,
  prepareRender,
  renderWithHelm,
  startRender,
} from "../checks/scheduling";
import { deferredFiles } from "../offline/deferredModules";
import { evaluatePolicies, readPolicyConfig } from "../offline/policyEvaluator";
import { ALL_POLICIES } from "../policy/policies";
import { SCALED_RESOURCE_TYPES, maxInstancesOf } from "../policy/costPolicies";
import { TAGGABLE_TYPES } from "../policy/tagPolicies";
import {
  INSTANCE_RESOURCE_TYPES,
  POLICY_DOCUMENT_TYPES,
  instanceTypesOf,
  policyStatements,
  validateResourceOfTypes,
} from "../policy/resources";
import { TARGETS, plansPerRound, targets, timeEndpointCounts } from "../scripts/bench";
import { REGION, STAGING_WITHOUT_CLUSTER, withoutKeys } from "./helpers";

describe("offline engine: stack traces while a program runs", () => {
  const prepareStackTrace = Error.prepareStackTrace;
  let saved: number;
  beforeEach(() => (saved = Error.stackTraceLimit));
  afterEach(() => (Error.stackTraceLimit = saved));

  it("turns them off while the program runs and restores the limit after the plan", async () => {
    Error.stackTraceLimit = 7;
    let during: number | undefined;
    let afterRegistration: number | undefined;
    const { resources } = await capture(
      () => {
        during = Error.stackTraceLimit;
        const topic = new aws.sns.Topic("t", {});
        return topic.arn.apply((arn) => {
          afterRegistration = Error.stackTraceLimit;
          return arn;
        });
      },
      { stack: "test", region: REGION },
    );
    assert.strictEqual(during, 0);
    assert.strictEqual(afterRegistration, 0);
    assert.strictEqual(Error.stackTraceLimit, 7);
    assert.deepStrictEqual(
      resources.map((r) => r.type),
      ["aws:sns/topic:Topic"],
    );
  });

  it("formats a stack as its first line while the program runs, even one the SDK asks deep", async () => {
    const userFormat = (e: Error) => `formatted by the user: ${e.message}`;
    const original = Error.prepareStackTrace;
    Error.prepareStackTrace = userFormat;
    try {
      let shallow: string | undefined;
      let deep: string | undefined;
      let sdkFrames: unknown[] | undefined;
      await capture(
        () => {
          shallow = new RangeError("out of range").stack;
          // What the SDK does for a resource's source position (resource.js, Resource.callsites).
          Error.stackTraceLimit = Number.POSITIVE_INFINITY;
          deep = new Error("deep").stack;
          Error.stackTraceLimit = 0;
          sdkFrames = (pulumi.Resource as unknown as { callsites(): unknown[] }).callsites();
          return new aws.sns.Topic("t", {}).arn;
        },
        { stack: "test", region: REGION },
      );
      assert.strictEqual(shallow, "RangeError: out of range");
      assert.strictEqual(deep, "Error: deep");
      assert.deepStrictEqual(sdkFrames, []);
      assert.strictEqual(Error.prepareStackTrace, userFormat);
      assert.strictEqual(new Error("after").stack, "formatted by the user: after");
    } finally {
      Error.prepareStackTrace = original;
    }
  });

  it("restores the limit when the program throws, and the error reaches the caller", async () => {
    Error.stackTraceLimit = 9;
    await assert.rejects(
      capture(
        () => {
          throw new pulumi.InputPropertiesError({
            message: "bad arguments",
            errors: [{ propertyPath: "name", reason: "must be set" }],
          });
        },
        { stack: "test", region: REGION },
      ),
      (e: Error) => pulumi.InputPropertiesError.isInstance(e) && /bad arguments/.test(e.message),
    );
    assert.strictEqual(Error.stackTraceLimit, 9);
  });

  describe("a crash under the plan", () => {
    class Mistake extends Error {}
    /** A program that records a topic, then fails in a named step; it counts its runs. */
    const failing = (error: () => Error) => {
      let runs = 0;
      const program = () => {
        runs++;
        new aws.sns.Topic("t", {});
        const brokenStep = () => {
          throw error();
        };
        brokenStep();
      };
      return { program, runs: () => runs };
    };
    const options = {
      stack: "test",
      region: REGION,
      isUserError: (e: unknown) => e instanceof Mistake,
    };

    it("is run again with stack traces on, so its error says where", async () => {
      Error.stackTraceLimit = 10;
      const p = failing(() => new TypeError("cannot read properties of undefined"));
      await assert.rejects(capture(p.program, options), (e: Error) => {
        assert.ok(e instanceof TypeError);
        assert.match(e.stack ?? "", /at brokenStep/);
        return true;
      });
      assert.strictEqual(p.runs(), 2);
      assert.strictEqual(Error.stackTraceLimit, 10);
      assert.strictEqual(Error.prepareStackTrace, prepareStackTrace);
    });

    it("but a user's mistake is thrown from the one run, as it is", async () => {
      Error.stackTraceLimit = 10;
      const p = failing(() => new Mistake("llm-infra:network.cidr must be a /16"));
      await assert.rejects(capture(p.program, options), (e: Error) => {
        assert.ok(e instanceof Mistake);
        assert.doesNotMatch(e.stack ?? "", /\n\s+at /);
        return true;
      });
      assert.strictEqual(p.runs(), 1);
      assert.strictEqual(Error.stackTraceLimit, 10);
    });
  });

  it("awaits an async program: its resources and outputs are captured, its rejection reaches the caller", async () => {
    const captured = await capture(
      async () => {
        const first = new aws.sns.Topic("first", {});
        await new Promise((resolve) => setImmediate(resolve));
        const second = new aws.sns.Topic("second", {});
        return { first: first.arn, second: second.arn };
      },
      { stack: "test", region: REGION },
    );
    assert.deepStrictEqual(
      captured.resources.map((r) => r.name),
      ["first", "second"],
    );
    assert.match(String(captured.outputs.second), /^arn:aws:sns:/);
    await assert.rejects(
      capture(
        async () => {
          await new Promise((resolve) => setImmediate(resolve));
          throw new Error("thrown after a turn");
        },
        { stack: "test", region: REGION },
      ),
      /thrown after a turn/,
    );
  });

  it("restores the limit after a whole stack's plan", async () => {
    Error.stackTraceLimit = 11;
    const report = await planStack("dev");
    assert.ok(report.resources.length > 50, `dev has ${report.resources.length} resources`);
    assert.strictEqual(Error.stackTraceLimit, 11);
  });
});

describe("offline engine: inputs come from the mocks' call", () => {
  it("hands the mocks' listener each resource's deserialized inputs", async () => {
    const seen: Record<string, unknown>[] = [];
    const mocks = new OfflineMocks(REGION, undefined, (inputs) => seen.push(inputs));
    const answer = mocks.newResource({
      type: "aws:sns/topic:Topic",
      name: "alerts",
      inputs: { name: "alerts", tags: { team: "ml" } },
      custom: true,
    });
    assert.deepStrictEqual(seen, [{ name: "alerts", tags: { team: "ml" } }]);
    assert.strictEqual(answer.id, `arn:aws:sns:${REGION}:123456789012:alerts`);
  });

  it("records inputs that reference other resources and secrets as the plan prints them", async () => {
    const { resources } = await capture(
      () => {
        const topic = new aws.sns.Topic("t", { name: "alerts" });
        new aws.sns.TopicSubscription("s", {
          topic: topic.arn,
          protocol: "email",
          endpoint: pulumi.secret("oncall@example.com"),
        });
        return {};
      },
      { stack: "test", region: REGION },
    );
    const subscription = resources.find((r) => r.name === "s")!;
    assert.deepStrictEqual(subscription.inputs, {
      topic: `arn:aws:sns:${REGION}:123456789012:alerts`,
      protocol: "email",
      endpoint: "[secret]",
    });
  });
});

describe("IAM scenario plan: indexed lookups", () => {
  let resources: CapturedResource[];
  before(async function () {
    this.timeout(120_000);
    resources = (await planStack("prod")).resources;
  });

  it("answers ofType, named and identityPolicies as a scan of every resource would", () => {
    const plan = new Plan(resources, scopeOf(resources)!);
    for (const type of new Set(resources.map((r) => r.type)))
      assert.deepStrictEqual(
        plan.ofType(type),
        resources.filter((r) => r.type === type),
      );
    assert.deepStrictEqual(plan.ofType("aws:no/such:Type"), []);
    for (const r of resources)
      assert.strictEqual(
        plan.named(r.name),
        resources.find((x) => x.name === r.name),
      );
    const roles = plan.ofType("aws:iam/role:Role");
    assert.ok(roles.length > 3, `prod has ${roles.length} roles`);
    let withPolicies = 0;
    for (const role of roles) {
      const scanned = policyDocuments(resources)
        .filter(
          (d) =>
            (d.kind === "identity" && d.resource.inputs.role === role.id) ||
            (d.resource === role && d.kind === "identity"),
        )
        .map((d) => d.statements);
      assert.deepStrictEqual(plan.identityPolicies(role), scanned);
      if (scanned.length > 0) withPolicies++;
    }
    assert.ok(withPolicies > 0, "some role has identity policies");
  });

  it("names the first of two resources that share a name", () => {
    const a = { type: "aws:iam/role:Role", name: "dup", inputs: {}, id: "a" };
    const b = { type: "aws:s3/bucket:Bucket", name: "dup", inputs: {}, id: "b" };
    const plan = new Plan([a, b], { partition: "aws", region: REGION, accountId: "123456789012" });
    assert.strictEqual(plan.named("dup"), a);
  });
});

/** A captured resource with no inputs, for the policy evaluator. */
const resource = (name: string, type = "aws:sns/topic:Topic"): CapturedResource => ({
  type,
  name,
  parent: null,
  custom: true,
  id: name,
  inputs: {},
  protect: false,
  retainOnDelete: false,
  dependencies: [],
});
const options = { project: "llm-infra", stack: "test" };

describe("policy evaluation", () => {
  it("records notApplicable reasons without changing the stack-trace limit", async () => {
    const saved = Error.stackTraceLimit;
    Error.stackTraceLimit = 13;
    try {
      const policy: ResourceValidationPolicy = {
        name: "only-queues",
        description: "d",
        enforcementLevel: "advisory",
        validateResource: (args, report) => {
          if (args.type !== "aws:sqs/queue:Queue") args.notApplicable(`${args.name} is no queue`);
          report("a queue");
        },
      };
      const result = await evaluatePolicies(
        [policy],
        [resource("a"), resource("q", "aws:sqs/queue:Queue")],
        options,
      );
      assert.strictEqual(Error.stackTraceLimit, 13);
      assert.deepStrictEqual(result.notApplicable, [
        { policy: "only-queues", resource: "a", reason: "a is no queue" },
      ]);
      assert.deepStrictEqual(result.verdicts, [
        { policy: "only-queues", enforcement: "advisory", resource: "q", message: "a queue" },
      ]);
    } finally {
      Error.stackTraceLimit = saved;
    }
  });

  it("names a stack violation by the first resource with its URN, else by the URN", async () => {
    const urn = (name: string) => `urn:pulumi:test::llm-infra::aws:sns/topic:Topic::${name}`;
    const policy: StackValidationPolicy = {
      name: "stack-check",
      description: "d",
      enforcementLevel: "mandatory",
      validateStack: (_args, report) => {
        report("first", urn("b"));
        report("unknown", urn("zzz"));
        report("whole stack");
      },
    };
    const result = await evaluatePolicies(
      [policy],
      [resource("a"), resource("b"), resource("b")],
      options,
    );
    assert.deepStrictEqual(
      result.verdicts.map((v) => [v.resource, v.message]),
      [
        ["b", "first"],
        [urn("zzz"), "unknown"],
        ["stack", "whole stack"],
      ],
    );
  });
});

describe("policy evaluation: validations for named resource types", () => {
  it("is not called for other types, which are recorded with its reason; called for its own", async () => {
    const seen: string[] = [];
    const policy: ResourceValidationPolicy = {
      name: "queues-and-topics",
      description: "d",
      enforcementLevel: "advisory",
      validateResource: validateResourceOfTypes(
        ["aws:sqs/queue:Queue", "aws:sns/topic:Topic"],
        "applies to queues and topics",
        (args, report) => {
          seen.push(args.name);
          report(`${args.name} seen`);
        },
      ),
    };
    const result = await evaluatePolicies(
      [policy],
      [
        resource("q", "aws:sqs/queue:Queue"),
        resource("b", "aws:s3/bucket:Bucket"),
        resource("t", "aws:sns/topic:Topic"),
      ],
      options,
    );
    assert.deepStrictEqual(seen, ["q", "t"]);
    assert.deepStrictEqual(result.notApplicable, [
      { policy: "queues-and-topics", resource: "b", reason: "applies to queues and topics" },
    ]);
    assert.deepStrictEqual(
      result.verdicts.map((v) => v.message),
      ["q seen", "t seen"],
    );
  });

  it("says notApplicable itself when an engine calls it for another type", () => {
    const validate = validateResourceOfTypes(["aws:sqs/queue:Queue"], "applies to queues", () => {
      throw new Error("not for a bucket");
    });
    let reason: string | undefined;
    const args = {
      type: "aws:s3/bucket:Bucket",
      notApplicable: (r?: string) => {
        reason = r;
      },
    } as unknown as ResourceValidationArgs;
    void validate(args, () => undefined);
    assert.strictEqual(reason, "applies to queues");
  });

  it("names the types its readers of properties read (instances, policy documents, scaling)", () => {
    const types = [
      ...new Set([
        ...INSTANCE_RESOURCE_TYPES,
        ...POLICY_DOCUMENT_TYPES,
        ...SCALED_RESOURCE_TYPES,
        ...TAGGABLE_TYPES,
        "aws:sns/topic:Topic",
        "aws:appautoscaling/policy:Policy",
      ]),
    ];
    const read = (reader: (type: string) => unknown) =>
      types.filter((t) => reader(t) !== undefined).sort();
    assert.deepStrictEqual(
      read((t) => instanceTypesOf(t, {})),
      [...INSTANCE_RESOURCE_TYPES].sort(),
    );
    assert.deepStrictEqual(
      read((t) => policyStatements(t, {})),
      [...POLICY_DOCUMENT_TYPES].sort(),
    );
    const sagemakerTarget = { scalableDimension: "sagemaker:variant:DesiredInstanceCount" };
    assert.deepStrictEqual(
      read((t) => maxInstancesOf(t, sagemakerTarget)),
      [...SCALED_RESOURCE_TYPES].sort(),
    );
  });

  for (const stack of ["dev", "staging", "prod"]) {
    it(`gives ${stack} the verdicts and not-applicable records it gives when every policy is called`, async () => {
      const { resources } = await planStack(stack);
      // The same policies with their validations hidden behind a plain function: no type names.
      const unnamed = ALL_POLICIES.map((p) =>
        "validateResource" in p && typeof p.validateResource === "function"
          ? { ...p, validateResource: p.validateResource.bind(undefined) }
          : p,
      );
      const config = readPolicyConfig(stack, projectRoot());
      const named = await evaluatePolicies(ALL_POLICIES, resources, { ...options, config });
      const called = await evaluatePolicies(unnamed, resources, { ...options, config });
      assert.deepStrictEqual(named, called);
      assert.ok(named.notApplicable.length > resources.length, "records other types as before");
    });
  }
});

describe("bench: targets", () => {
  it("meets each target only within its bound", () => {
    const met = targets({ perEndpointMs: { 10: 15, 50: 16, 200: 18 }, planToFloor: 1.4 });
    assert.deepStrictEqual(
      met.map((v) => v.met),
      [true, true, true],
    );
    assert.match(met[0].text, /15\.0 at 10, 16\.0 at 50, 18\.0 at 200/);
    assert.match(met[1].text, /1\.20x$/);
    const missed = targets({ perEndpointMs: { 10: 10, 50: 12, 200: 21 }, planToFloor: 1.51 });
    assert.deepStrictEqual(
      missed.map((v) => v.met),
      [false, false, false],
    );
    assert.match(missed[1].text, /2\.10x$/);
    assert.match(missed[2].text, /1\.51x$/);
    assert.deepStrictEqual(TARGETS, { perEndpointMs: 20, linearity: 1.2, planToFloor: 1.5 });
  });
});

describe("bench: endpoint counts", () => {
  it("plans the counts in turns, small counts several times a round, and keeps each count's median", async () => {
    const order: number[] = [];
    const calls = new Map<number, number>();
    // Each count's plans take 3, 1, 2, 3, 1, 2 ... (x count) in turn: median 2 x count.
    const times = [3, 1, 2];
    const ms = await timeEndpointCounts([10, 25, 200], 3, async (count) => {
      order.push(count);
      const call = calls.get(count) ?? 0;
      calls.set(count, call + 1);
      return times[call % 3] * count;
    });
    const round = [10, 10, 10, 10, 10, 25, 25, 200];
    assert.deepStrictEqual(order, [...round, ...round, ...round]);
    assert.deepStrictEqual(
      [...ms],
      [
        [10, 20],
        [25, 50],
        [200, 400],
      ],
    );
  });

  it("times about 50 endpoints' worth of each count per round, at least one plan", () => {
    assert.deepStrictEqual([1, 10, 50, 200].map(plansPerRound), [50, 5, 1, 1]);
  });
});

describe("scheduling check: helm started while the program runs", () => {
  const release = (chart: string, namespace = "inference"): CapturedResource => ({
    type: "kubernetes:helm.sh/v3:Release",
    name: "triton",
    parent: null,
    custom: true,
    inputs: { chart, namespace, values: { replicaCount: 1 } },
    protect: false,
    retainOnDelete: false,
    dependencies: [],
  });

  it("renders once, early, and the check takes that render (the chart may be gone by then)", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "llm-infra-early-"));
    const chart = path.join(dir, "triton");
    fs.cpSync(path.join(projectRoot(), "charts", "triton"), chart, { recursive: true });
    const r = release(chart);
    try {
      startRender(r);
      await finishRenders();
      fs.rmSync(dir, { recursive: true, force: true });
      const manifests = renderWithHelm(chart, r.inputs.values, "inference");
      assert.ok(
        manifests.some((m) => m.kind === "Deployment"),
        manifests.map((m) => m.kind).join(", "),
      );
      // Taken once: a second render runs helm, which no longer finds the chart.
      assert.throws(() => renderWithHelm(chart, r.inputs.values, "inference"), /helm template/);
    } finally {
      forgetRenders();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("starts nothing for other resource types, and forgets on request", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "llm-infra-early-"));
    const copy = (name: string) => {
      const chart = path.join(dir, name, "triton");
      fs.cpSync(path.join(projectRoot(), "charts", "triton"), chart, { recursive: true });
      return chart;
    };
    // Nothing kept either way: the check runs helm itself, which no longer finds the chart.
    const renderAfterRemoving = (chart: string) => {
      fs.rmSync(path.dirname(chart), { recursive: true, force: true });
      return () => renderWithHelm(chart, { replicaCount: 1 }, "inference");
    };
    try {
      const deployment = copy("deployment");
      startRender({ ...release(deployment), type: "kubernetes:apps/v1:Deployment" });
      await finishRenders();
      assert.throws(renderAfterRemoving(deployment), /helm template/);

      const forgotten = copy("forgotten");
      startRender(release(forgotten));
      forgetRenders();
      await finishRenders();
      assert.throws(renderAfterRemoving(forgotten), /helm template/);
    } finally {
      forgetRenders();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  /** Runs `f` with every helm process started through child_process recorded. */
  async function withHelmSpawns<T>(
    f: (spawned: { kind: string; child?: import("child_process").ChildProcess }[]) => Promise<T>,
  ): Promise<T> {
    // The module object itself (an import is a read-only view of it), as checks/helm.ts calls it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const childProcess = require("child_process") as typeof import("child_process");
    const spawned: { kind: string; child?: import("child_process").ChildProcess }[] = [];
    const original = { spawn: childProcess.spawn, spawnSync: childProcess.spawnSync };
    const count =
      <F extends (...a: never[]) => unknown>(kind: string, fn: F) =>
      (...a: Parameters<F>) => {
        const result = fn(...a);
        if (/helm$/.test(String(a[0])))
          spawned.push({
            kind,
            child: kind === "spawn" ? (result as import("child_process").ChildProcess) : undefined,
          });
        return result;
      };
    Object.assign(childProcess, {
      spawn: count("spawn", original.spawn),
      spawnSync: count("spawnSync", original.spawnSync),
    });
    try {
      return await f(spawned);
    } finally {
      Object.assign(childProcess, original);
    }
  }

  it("plans prod with one helm run, started before the program, and its pods schedule", async () => {
    await withHelmSpawns(async (spawned) => {
      const report = await planStack("prod");
      assert.deepStrictEqual(
        spawned.map((s) => s.kind),
        ["spawn"],
      );
      assert.deepStrictEqual(
        report.policies.filter((v) => v.policy === "pods-schedule"),
        [],
      );
      assert.deepStrictEqual(checkScheduling(report.resources), []);
    });
  });

  it("starts no helm for a stack without Triton", async () => {
    // Staging without its cluster: the SageMaker endpoint, the fleet and the API front door.
    const rest = withoutKeys(readStackFile("staging"), ...STAGING_WITHOUT_CLUSTER);
    await withHelmSpawns(async (spawned) => {
      const report = await planConfig("staging", rest);
      assert.ok(!report.resources.some((r) => r.type === "kubernetes:helm.sh/v3:Release"));
      assert.deepStrictEqual(spawned, []);
    });
  });

  it("a helm prepared for the chart and namespace renders the release's values", async () => {
    const chart = path.join(projectRoot(), "charts", "triton");
    const values = { replicaCount: 3, autoscaling: { enabled: false } };
    await withHelmSpawns(async (spawned) => {
      try {
        prepareRender(chart, "inference");
        assert.strictEqual(spawned.length, 1);
        startRender({ ...release(chart), inputs: { chart, namespace: "inference", values } });
        assert.strictEqual(spawned.length, 1, "the release took the prepared helm");
        await finishRenders();
        const deployment = renderWithHelm(chart, values, "inference").find(
          (m) => m.kind === "Deployment",
        );
        assert.strictEqual((deployment?.spec as { replicas?: number } | undefined)?.replicas, 3);
        assert.strictEqual(spawned.length, 1, "the check took the early render");
      } finally {
        forgetRenders();
      }
    });
  });

  it("stops the prepared helm when the plan fails before the release", async () => {
    // The module object itself, as offline/plan.ts calls it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const engine = require("../offline/engine") as typeof import("../offline/engine");
    const original = engine.capture;
    Object.assign(engine, {
      capture: () => Promise.reject(new Error("the program failed before any release")),
    });
    try {
      await withHelmSpawns(async (spawned) => {
        await assert.rejects(planStack("prod"), /failed before any release/);
        assert.strictEqual(spawned.length, 1, "prod prepares one helm for Triton");
        const child = spawned[0].child!;
        const signal =
          child.exitCode !== null || child.signalCode !== null
            ? child.signalCode
            : await new Promise<NodeJS.Signals | null>((resolve) =>
                child.on("close", (_code, sig) => resolve(sig)),
              );
        assert.strictEqual(signal, "SIGTERM");
      });
    } finally {
      Object.assign(engine, { capture: original });
    }
  });

  it("stops a prepared helm no release used", async () => {
    const chart = path.join(projectRoot(), "charts", "triton");
    await withHelmSpawns(async (spawned) => {
      prepareRender(chart, "elsewhere");
      startRender(release(chart));
      assert.strictEqual(spawned.length, 2, "another namespace: a helm of its own");
      await finishRenders();
      const prepared = spawned[0].child!;
      const closed = new Promise<NodeJS.Signals | null>((resolve) =>
        prepared.on("close", (_code, signal) => resolve(signal)),
      );
      forgetRenders();
      assert.strictEqual(await closed, "SIGTERM");
    });
  });
});

describe("plan command: the SDK's closure-serialization modules are deferred", () => {
  const root = projectRoot();
  const dist = (...p: string[]) => JSON.stringify(path.join(root, "dist", ...p));
  /** Runs `script` in a fresh Node process from `cwd` and returns its last stdout line as JSON. */
  function runNode(script: string, cwd = root): Record<string, unknown> {
    // stderr is kept from the test's output: serializing a function requires every Node built-in,
    // and Node warns of the deprecated and experimental ones.
    const out = execFileSync(process.execPath, ["-e", script], {
      cwd,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    return JSON.parse(out.trim().split("\n").pop()!) as Record<string, unknown>;
  }
  const defer = `require(${dist("offline", "deferClosureModules.js")});`;
  const sdk = path.join(root, "node_modules", "@pulumi", "pulumi");
  // The deferred files whose real module is loaded: the cache holds it, not a stand-in (a proxy).
  const realModules = `require(${dist("offline", "deferredModules.js")}).deferredFiles(${JSON.stringify(sdk)})
    .filter((f) => require.cache[f] && !require("util").types.isProxy(require.cache[f].exports))`;

  it("plans prod without loading TypeScript's compiler or npm's Arborist", () => {
    // The plan command's own module defers them (its first import), as `npm run plan` runs it.
    const result = runNode(`
      const plan = require(${dist("scripts", "plan.js")});
      const out = [];
      plan.main(["prod", "--json"], { out: (s) => out.push(s), err: () => {} }).then((code) => {
        const loaded = Object.keys(require.cache);
        console.log(JSON.stringify({
          code,
          resources: JSON.parse(out.join("")).resources.length,
          realModules: ${realModules},
          arboristFiles: loaded.filter((f) => f.includes("/@npmcli/arborist/lib/arborist/")).length,
        }));
      });`);
    assert.deepStrictEqual(result, {
      code: 0,
      resources: 198,
      realModules: [],
      arboristFiles: 0,
    });
  });

  it("defers TypeScript where the SDK finds it: installed, else the copy vendored in the SDK", () => {
    const installed = deferredFiles(sdk).map((f) => path.relative(root, f));
    assert.deepStrictEqual(installed, [
      path.join("node_modules", "typescript", "lib", "typescript.js"),
      path.join("node_modules", "@npmcli", "arborist", "lib", "index.js"),
    ]);
    // An install without TypeScript (npm ci --omit=dev): the shim falls back to the SDK's vendored
    // copy (@pulumi/pulumi typescript-shim.js); a module with no fallback that does not resolve
    // (Arborist here) is left out.
    const nothingResolves = () => {
      throw new Error("Cannot find module");
    };
    const vendored = deferredFiles(sdk, nothingResolves).map((f) => path.relative(sdk, f));
    assert.strictEqual(vendored.length, 1);
    assert.match(vendored[0], /^vendor[\\/]typescript@[\d.]+[\\/]typescript\.js$/);
  });

  it("serializes a function as it would without the stand-ins, loading TypeScript on first use", () => {
    const serialize = `
      const pulumi = require("@pulumi/pulumi");
      const limit = 42;
      pulumi.runtime.serializeFunction(() => limit + 1).then((r) =>
        console.log(JSON.stringify({ text: r.text, realModules: ${realModules} })));`;
    const plain = runNode(serialize);
    const deferred = runNode(`${defer} ${serialize}`);
    assert.match(String(plain.text), /limit/);
    assert.strictEqual(deferred.text, plain.text);
    assert.deepStrictEqual(
      (deferred.realModules as string[]).map((f) => path.basename(f)),
      ["typescript.js"],
    );
  });

  it("computes a program's code paths as it would without the stand-ins, loading Arborist on first use", () => {
    // A project with one dependency, as a Lambda callback's package would be walked.
    const project = fs.mkdtempSync(path.join(os.tmpdir(), "code-paths-"));
    try {
      fs.writeFileSync(
        path.join(project, "package.json"),
        JSON.stringify({ name: "p", version: "1.0.0", dependencies: { dep: "1.0.0" } }),
      );
      fs.mkdirSync(path.join(project, "node_modules", "dep"), { recursive: true });
      fs.writeFileSync(
        path.join(project, "node_modules", "dep", "package.json"),
        JSON.stringify({ name: "dep", version: "1.0.0" }),
      );
      const compute = `
        require(${JSON.stringify(sdk)}).runtime.computeCodePaths().then((paths) =>
          console.log(JSON.stringify({ paths: [...paths.keys()], realModules: ${realModules} })));`;
      const plain = runNode(compute, project);
      const deferred = runNode(`${defer} ${compute}`, project);
      assert.deepStrictEqual(plain.paths, [path.join("node_modules", "dep")]);
      assert.deepStrictEqual(deferred.paths, plain.paths);
      assert.deepStrictEqual(
        (deferred.realModules as string[]).map((f) => path.relative(root, f)),
        [path.join("node_modules", "@npmcli", "arborist", "lib", "index.js")],
      );
    } finally {
      fs.rmSync(project, { recursive: true, force: true });
    }
  });
});
