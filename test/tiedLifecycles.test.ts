/**
 * What AWS deletes with a parent is replaced with it (checks/tiedLifecycles.ts): a SageMaker
 * variant's scaling policies and its off-hours scheduled actions are replaced with its scalable
 * target, whose replacement (an instance type change) deregisters it, and with it them, in AWS.
 */
import * as assert from "assert";
import { CapturedResource } from "../checks/resource";
import { checkTiedLifecycles } from "../checks/tiedLifecycles";
import { PlanReport, listStacks, planConfig, planStack, readStackFile } from "../offline/plan";

const ON_A_TARGET = [
  "aws:appautoscaling/policy:Policy",
  "aws:appautoscaling/scheduledAction:ScheduledAction",
];

/** Staging with off hours and a real-time floor of 2: the variant gets a scheduled action pair. */
async function stagingOffHours(): Promise<PlanReport> {
  const raw = readStackFile("staging");
  const sagemaker = raw["llm-infra:sagemaker"] as { endpoints: Record<string, unknown>[] };
  raw["llm-infra:sagemaker"] = {
    endpoints: [{ ...sagemaker.endpoints[0], minInstances: 2, initialInstanceCount: 2 }],
  };
  raw["llm-infra:cost"] = { offHours: { timezone: "Europe/Berlin" } };
  return planConfig("staging", raw);
}

describe("tied lifecycles: what AWS deletes with a scalable target is replaced with it", function () {
  this.timeout(60_000);
  let offHours: PlanReport;
  before(async () => {
    offHours = await stagingOffHours();
  });

  it("replaces a variant's off-hours actions and scaling policies with its scalable target", () => {
    const target = offHours.resources.find((r) => r.type === "aws:appautoscaling/target:Target");
    assert.ok(target?.urn, "the variant's scalable target");
    const tied = offHours.resources.filter((r) => ON_A_TARGET.includes(r.type));
    assert.deepStrictEqual(tied.map((r) => r.name).sort(), [
      "chat-invocations",
      "chat-off-hours-down",
      "chat-off-hours-up",
    ]);
    for (const r of tied) {
      assert.deepStrictEqual(r.replaceWith, [target.urn], `${r.name} is replaced with the target`);
      assert.strictEqual(r.inputs.resourceId, target.inputs.resourceId, `${r.name}'s resource id`);
    }
    assert.ok(
      tied.every((r) => r.dependencies.includes(target.urn!)),
      "each is created after the target",
    );
    assert.deepStrictEqual(checkTiedLifecycles(offHours.resources), []);
  });

  it("finds a scheduled action or policy left out of its target's replacement", () => {
    const broken: CapturedResource[] = offHours.resources.map((r) =>
      r.name === "chat-off-hours-down" || r.name === "chat-invocations"
        ? { ...r, replaceWith: undefined }
        : r,
    );
    const findings = checkTiedLifecycles(broken);
    assert.deepStrictEqual(
      findings.map((f) => f.resource),
      ["chat-invocations", "chat-off-hours-down"],
    );
    assert.match(findings[0].message, /acts on the scalable target chat-scaling/);
    // A scheduled action on a target outside the plan is not this check's to judge.
    const elsewhere = broken.map((r) =>
      r.name === "chat-off-hours-down"
        ? { ...r, inputs: { ...r.inputs, resourceId: "endpoint/other/variant/primary" } }
        : r,
    );
    assert.deepStrictEqual(
      checkTiedLifecycles(elsewhere).map((f) => f.resource),
      ["chat-invocations"],
    );
  });

  it("ties an EKS cluster's node groups, add-ons and Pod Identity associations to it by name", async () => {
    const prod = await planStack("prod");
    const cluster = prod.resources.find((r) => r.type === "eks:index:Cluster")!;
    const children = prod.resources.filter((r) =>
      [
        "aws:eks/nodeGroup:NodeGroup",
        "aws:eks/addon:Addon",
        "aws:eks/podIdentityAssociation:PodIdentityAssociation",
      ].includes(r.type),
    );
    assert.ok(children.length >= 8, `${children.length} children`);
    assert.ok(children.every((r) => r.inputs.clusterName === cluster.inputs.name));
    assert.deepStrictEqual(checkTiedLifecycles(prod.resources), []);
    // A child naming another cluster, and a cluster replaced under its own name, are found.
    const broken = prod.resources.map((r) =>
      r === children[0]
        ? { ...r, inputs: { ...r.inputs, clusterName: "elsewhere" } }
        : r === cluster
          ? { ...r, inputs: { ...r.inputs, serviceRole: "[resource]" } }
          : r,
    );
    const findings = checkTiedLifecycles(broken);
    assert.deepStrictEqual(
      findings.map((f) => f.resource),
      [cluster.name, children[0].name],
    );
    assert.match(
      findings[0].message,
      /sets serviceRole, which replaces the cluster under the same name/,
    );
    assert.match(findings[1].message, /names cluster "elsewhere"/);
  });

  it("holds for every shipped stack", async () => {
    let tied = 0;
    for (const stack of listStacks()) {
      const report = await planStack(stack);
      assert.deepStrictEqual(checkTiedLifecycles(report.resources), [], stack);
      tied += report.resources.filter((r) => ON_A_TARGET.includes(r.type)).length;
    }
    assert.ok(tied >= 7, `scaling policies in the shipped stacks: ${tied}`);
  });
});
