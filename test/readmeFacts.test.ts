/**
 * Facts the documentation (docs/*.md) states about config and stacks, held against the code that
 * decides them. Each fact is read from the page that states it.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { defaultEndpointName } from "../components/sagemaker/sageMakerEndpoint";
import { ConfigError, parseStackConfig } from "../programs/config";
import { listStacks, projectRoot, readStackFile } from "../offline/plan";
import { ALL_POLICIES } from "../policy/policies";

const ROOT = projectRoot();
const doc = (page: string) => fs.readFileSync(path.join(ROOT, "docs", page), "utf8");
const COST = doc("cost.md");
const CONFIGURATION = doc("configuration.md");
const COMPONENTS = doc("components.md");
const POLICY_PACK = doc("policy-pack.md");

/** The cells of the row of `page`'s table whose first cell starts with `first`. */
function rowOf(page: string, first: string): string[] {
  const line = page.split("\n").find((l) => l.startsWith(`| ${first}`));
  assert.ok(line, `the page has a row for ${first}`);
  return line
    .split("|")
    .slice(1, -1)
    .map((c) => c.trim());
}

describe("Documented facts", () => {
  it("docs/cost.md's table names each stack's SageMaker instance types", () => {
    for (const stack of listStacks()) {
      const sagemaker = readStackFile(stack)["llm-infra:sagemaker"] as
        { endpoints?: { instanceType?: string; instancePools?: string[] }[] } | undefined;
      // An endpoint of inference components lists its instance pools.
      const types = (sagemaker?.endpoints ?? []).flatMap((e) => [
        ...(e.instanceType !== undefined ? [e.instanceType] : []),
        ...(e.instancePools ?? []),
      ]);
      const row = rowOf(COST, `${stack} `);
      const what = row[row.length - 1];
      for (const t of types)
        assert.match(what, new RegExp(`\\b${t.replace(/\./g, "\\.")}\\b`), stack);
      const named = what.match(/ml\.[a-z0-9]+\.[a-z0-9]+/g) ?? [];
      for (const t of named)
        assert.ok(types.includes(t), `${stack}'s row names ${t}, not in its stack`);
    }
  });

  it("kubernetesVersion is quoted, and an unquoted one is refused with the hint", () => {
    assert.match(rowOf(CONFIGURATION, "`llm-infra:eks.kubernetesVersion`")[1], /quoted: `"1\.35"`/);
    const config = YAML.parse(
      "aws:region: us-east-1\nllm-infra:environment: dev\nllm-infra:tags: {team: a, costCenter: b}\nllm-infra:eks: {kubernetesVersion: 1.30, privateAccessCidrs: [10.0.0.0/16]}\n",
    ) as Record<string, unknown>;
    assert.throws(
      () => parseStackConfig(config, "dev"),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.problems.length === 1 &&
        e.problems[0].startsWith(
          'llm-infra:eks.kubernetesVersion must be a string (quote it in YAML: "1.3")',
        ),
    );
  });

  it("triton.nodeGroup is optional and defaults to gpu, as the row says", () => {
    assert.match(
      rowOf(CONFIGURATION, "`llm-infra:triton`")[3],
      /`nodeGroup` \(optional, default `gpu`\)/,
    );
    const config = parseStackConfig(
      {
        "aws:region": "us-east-1",
        "llm-infra:environment": "dev",
        "llm-infra:tags": { team: "a", costCenter: "b" },
        "llm-infra:eks": {
          privateAccessCidrs: ["10.0.0.0/16"],
          nodeGroups: [{ name: "gpu", instanceTypes: ["g5.xlarge"] }],
        },
        "llm-infra:triton": {},
      },
      "dev",
    );
    assert.strictEqual(config.triton?.nodeGroup, "gpu");
  });

  it("a long endpoint name keeps its first 54 characters, then - and 8 hex digits", () => {
    assert.match(
      COMPONENTS.replace(/\s+/g, " "),
      /keeps its first 54 and adds `-` and 8 hex digits/,
    );
    const stack = "a-very-long-stack-name-for-the-platform-team";
    const name = defaultEndpointName("llm-infra", stack, "chat-assistant");
    const full = `llm-infra-${stack}-chat-assistant`;
    assert.ok(full.length > 63);
    assert.strictEqual(name.length, 63);
    assert.strictEqual(name.slice(0, 54), full.slice(0, 54));
    assert.match(name.slice(54), /^-[0-9a-f]{8}$/);
    assert.strictEqual(defaultEndpointName("llm-infra", "dev", "chat"), "llm-infra-dev-chat");
  });

  it("the policy table lists every policy, with each environment's level where it gives three", () => {
    const levels = (env: string) =>
      JSON.parse(
        fs.readFileSync(path.join(ROOT, "policy", "config", `${env}.json`), "utf8"),
      ) as Record<string, unknown>;
    const configs = ["dev", "staging", "prod"].map(levels);
    const word = (v: unknown) => (v === "disabled" ? "off" : typeof v === "string" ? v : undefined);
    for (const policy of ALL_POLICIES) {
      const row = POLICY_PACK.split("\n").find(
        (l) => l.startsWith("| ") && l.includes(`\`${policy.name}\``),
      );
      assert.ok(row, `docs/policy-pack.md's table lists ${policy.name}`);
      const last = row.split("|").slice(-2)[0].trim();
      const three = /^(\w+) \/ (\w+) \/ (\w+)$/.exec(last);
      if (!three) continue;
      configs.forEach((c, i) => {
        const level = word(c[policy.name]);
        if (level !== undefined)
          assert.strictEqual(three[i + 1], level, `${policy.name} in env ${i}`);
      });
    }
  });
});
