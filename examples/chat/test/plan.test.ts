// The offline plan in this program's own test suite: no AWS account, no Pulumi CLI.
import * as assert from "node:assert";
import * as path from "node:path";
import { test } from "node:test";
import { mandatoryViolations, planProject } from "llm-infra/plan";

const project = path.join(__dirname, "..", "..");

test("the dev stack plans without a mandatory violation, within $3,000 a month", async () => {
  const report = await planProject({ dir: project, stack: "dev" });
  assert.deepStrictEqual(mandatoryViolations(report), []);
  assert.ok(report.cost.monthlyUsd < 3000, `expected ${report.cost.monthlyUsd}`);
  const endpoint = report.resources.find((r) => r.type === "aws:sagemaker/endpoint:Endpoint");
  assert.ok(endpoint, "the program creates a SageMaker endpoint");
});
