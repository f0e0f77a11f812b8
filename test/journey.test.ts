/**
 * `npm run deploy -- <stack> --up` as a journey: the order of its steps, the foundation's targets,
 * the private cluster opened to the deployer for the serving step and closed however it ends, and
 * a re-run that resumes after a failed step. The Pulumi CLI is a recorded fake (it cannot run
 * here); the steps that call AWS are recorders (each has its own tests against moto's server).
 */
import * as assert from "assert";
import * as auto from "@pulumi/pulumi/automation";
import {
  FOUNDATION_COMPONENTS,
  JourneyContext,
  JourneyStack,
  JourneySteps,
  StepError,
  foundationTargets,
  runJourney,
  urnMatches,
} from "../automation/journey";
import { detectDeployerCidr } from "../automation/deployerAddress";
import { STAGING_WITHOUT_CLUSTER, withoutKeys } from "./helpers";
import { DEPLOYER_CIDRS_ENV } from "../programs/config";
import { PlanReport, listStacks, planConfig, planStack, readStackFile } from "../offline/plan";
import * as http from "http";

interface UpCall {
  env: Record<string, string>;
  target?: string[];
}

/** A stack whose `up` records its targets and the environment it was selected with. */
function recordedContext(
  report: PlanReport,
  log: string[],
  options: { failUp?: (call: UpCall) => Error | undefined; steps?: Partial<JourneySteps> } = {},
): JourneyContext & { ups: UpCall[] } {
  const ups: UpCall[] = [];
  const summary = { resourceChanges: { create: 2, same: 1 } } as unknown as auto.UpdateSummary;
  const select = async (envVars: Record<string, string> = {}): Promise<JourneyStack> => ({
    up: async (o: auto.UpOptions) => {
      const call = { env: envVars, target: o.target };
      ups.push(call);
      log.push(
        o.target
          ? `up --target (${o.target.length})`
          : `up${envVars[DEPLOYER_CIDRS_ENV] ? " open" : ""}`,
      );
      const failure = options.failUp?.(call);
      if (failure) throw failure;
      return { stdout: "", stderr: "", outputs: {}, summary };
    },
    exportStack: async () => ({ version: 3, deployment: { resources: [] } }),
    outputs: async () => ({ apiUrl: { value: "https://example.invalid/v1", secret: false } }),
  });
  const steps: JourneySteps = {
    preflight: async () => (log.push("preflight"), { blocked: false, summary: "clean" }),
    deployerCidr: async () => (log.push("detect address"), "198.51.100.7/32"),
    images: async () => (log.push("images"), "2 copied"),
    models: async () => (log.push("models"), "1 pushed"),
    smoke: async (_r, outputs) => (log.push(`smoke ${String(outputs.apiUrl)}`), "1 answered"),
    ...options.steps,
  };
  return {
    report,
    select,
    upOptions: { policyPacks: ["policy"] },
    steps,
    io: { out: () => undefined },
    ups,
  };
}

describe("deploy --up: the journey from an empty account to a token", function () {
  this.timeout(120000);
  const reports: Record<string, PlanReport> = {};
  let noCluster: PlanReport;
  before(async () => {
    for (const stack of listStacks()) reports[stack] = await planStack(stack);
    // Staging without its cluster: the SageMaker endpoint, the fleet and the API front door.
    const rest = withoutKeys(readStackFile("staging"), ...STAGING_WITHOUT_CLUSTER);
    noCluster = await planConfig("staging", rest);
  });

  it("runs preflight, foundation, images, models, serving (open, then close the private API), smoke, in that order", async () => {
    const log: string[] = [];
    const context = recordedContext(reports.dev, log);
    const done = await runJourney(context);
    assert.deepStrictEqual(log, [
      "preflight",
      `up --target (${foundationTargets(reports.dev.resources).length})`,
      "images",
      "models",
      "detect address",
      "up open",
      "up --target (1)",
      "smoke https://example.invalid/v1",
    ]);
    assert.deepStrictEqual(
      done.map((d) => d.split(":")[0]),
      ["preflight", "foundation", "images", "models", "serving", "smoke"],
    );
    // The serving update admits the deployer; the close is selected without it.
    assert.deepStrictEqual(context.ups[1].env, { [DEPLOYER_CIDRS_ENV]: "198.51.100.7/32" });
    assert.deepStrictEqual(context.ups[2].env, {});
    assert.ok(urnMatches(context.ups[2].target![0], clusterUrn(reports.dev)));
  });

  it("a stack without a private cluster to open (staging without EKS) runs one serving update and no address lookup", async () => {
    const log: string[] = [];
    await runJourney(recordedContext(noCluster, log));
    assert.ok(!log.includes("detect address"));
    assert.deepStrictEqual(
      log.filter((l) => l.startsWith("up")),
      [`up --target (${foundationTargets(noCluster.resources).length})`, "up"],
    );
  });

  it("--deployer-cidr replaces the address lookup", async () => {
    const log: string[] = [];
    const context = { ...recordedContext(reports.prod, log), deployerCidr: "203.0.113.0/24" };
    await runJourney(context);
    assert.ok(!log.includes("detect address"));
    assert.deepStrictEqual(context.ups[1].env, { [DEPLOYER_CIDRS_ENV]: "203.0.113.0/24" });
  });

  it("closes the cluster API even when the serving update fails, and a re-run resumes from the top", async () => {
    const log: string[] = [];
    let failServing = true;
    const context = recordedContext(reports.dev, log, {
      failUp: (call) =>
        failServing && call.env[DEPLOYER_CIDRS_ENV] ? new Error("update failed") : undefined,
    });
    await assert.rejects(runJourney(context), /update failed/);
    assert.deepStrictEqual(log.slice(-2), ["up open", "up --target (1)"], "closed after failing");
    assert.ok(!log.some((l) => l.startsWith("smoke")));
    // The same command again: every step runs again (each is idempotent) and the deploy completes.
    failServing = false;
    log.length = 0;
    const done = await runJourney(context);
    assert.strictEqual(done.length, 6);
    assert.deepStrictEqual(log[0], "preflight");
  });

  it("a blocked preflight creates nothing", async () => {
    const log: string[] = [];
    const context = recordedContext(reports.dev, log, {
      steps: {
        preflight: async () => ({
          blocked: true,
          summary: "1 blocker: L-DB2E81BA needs 8 vCPUs, has 0",
        }),
      },
    });
    await assert.rejects(runJourney(context), (e: Error) => {
      assert.ok(e instanceof StepError);
      assert.strictEqual(e.step, "preflight");
      assert.match(e.message, /L-DB2E81BA needs 8 vCPUs, has 0.*nothing was created/);
      return true;
    });
    assert.strictEqual(context.ups.length, 0);
  });

  it("a failed step stops the journey at that step; what the foundation created stays", async () => {
    const log: string[] = [];
    const context = recordedContext(reports.dev, log, {
      steps: {
        images: async () => {
          throw new StepError(
            "images",
            "build llm-infra-dev-images:1",
            "phase BUILD failed: toomanyrequests",
          );
        },
      },
    });
    await assert.rejects(runJourney(context), /toomanyrequests/);
    assert.deepStrictEqual(log, [
      "preflight",
      `up --target (${foundationTargets(reports.dev.resources).length})`,
    ]);
  });

  it("the foundation of every shipped stack depends on nothing outside it (a targeted update needs that)", () => {
    for (const [stack, report] of Object.entries(reports)) {
      const targets = foundationTargets(report.resources);
      const inFoundation = (urn: string) => targets.some((t) => urnMatches(t, urn));
      const members = report.resources.filter((r) => r.urn && inFoundation(r.urn));
      const types = new Set(members.filter((r) => !r.custom).map((r) => r.type));
      for (const t of [
        "llm-infra:index:InferenceVpc",
        "llm-infra:index:ModelRegistry",
        "llm-infra:index:ModelStore",
      ])
        assert.ok(types.has(t), `${stack}: ${t} in the foundation`);
      assert.ok(members.length > 10, `${stack}: ${members.length} foundation resources`);
      for (const r of members)
        for (const d of r.dependencies)
          assert.ok(
            inFoundation(d) || d.includes("::pulumi:providers:"),
            `${stack}: ${r.name} depends on ${d}, outside the foundation`,
          );
      // Nothing that serves is in it.
      assert.ok(!members.some((r) => /sagemaker|eks|helm|autoscaling/.test(r.type)), stack);
      assert.ok(FOUNDATION_COMPONENTS.every((c) => c.startsWith("llm-infra:index:")));
    }
  });

  it("urnMatches: ** crosses segments, * stays within one", () => {
    const urn = "urn:pulumi:dev::llm-infra::llm-infra:index:InferenceVpc$awsx:ec2:Vpc::network-vpc";
    assert.ok(urnMatches("urn:pulumi:dev::llm-infra::llm-infra:index:InferenceVpc$**", urn));
    assert.ok(!urnMatches("urn:pulumi:dev::llm-infra::llm-infra:index:ModelStore$**", urn));
    assert.ok(urnMatches("urn:pulumi:dev::llm-infra::**::network-vpc", urn));
    assert.ok(!urnMatches("urn:pulumi:dev::llm-infra::*::network-vpc", urn));
  });

  it("detects the deployer's address from the echo service, and names --deployer-cidr when it cannot", async () => {
    let answer = "198.51.100.7\n";
    const server = http.createServer((_req, res) => res.end(answer));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      assert.strictEqual(await detectDeployerCidr(url), "198.51.100.7/32");
      answer = "<html>captive portal</html>";
      await assert.rejects(detectDeployerCidr(url), /not an IPv4 address.*--deployer-cidr/);
    } finally {
      server.close();
    }
    await assert.rejects(
      detectDeployerCidr(url, 2000),
      /could not read this machine's public address/,
    );
  });
});

function clusterUrn(report: PlanReport): string {
  const cluster = report.resources.find((r) => r.type === "eks:index:Cluster")!;
  return `${cluster.urn!.split("::").slice(0, 3).join("::")}$aws:eks/cluster:Cluster::${cluster.name}-eksCluster`;
}
