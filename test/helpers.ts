/**
 * Test helpers: the same offline engine `npm run plan` uses, and lookups over what it captured.
 */
import { ConfigError, parseStackConfig } from "../programs/config";
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { ModelRequirements } from "../catalog";
import { SharedModelCacheArgs } from "../components/eks/sharedModelCache";
import { CapturedResource, capture } from "../offline/engine";
import { projectRoot } from "../offline/plan";

export const REGION = "us-east-1";

/** A shared model cache over two subnets, with no options set: the tests' common arguments. */
export const SHARED_MODEL_CACHE_ARGS: SharedModelCacheArgs = {
  clusterName: "c1",
  vpcId: "vpc-1",
  subnetIds: ["subnet-1", "subnet-2"],
  subnetCount: 2,
  nodeSecurityGroupId: "sg-nodes",
  modelBucketName: "models-bucket",
  syncPrefix: "model-repository",
  readPolicyJson: "{}",
};

/** Llama 3 8B in bf16 serving 4 sequences of 8k tokens: 32 layers, hidden 4096, 32 heads, 8 KV heads. */
export const LLAMA3_8B: ModelRequirements = {
  parametersBillions: 8,
  dtype: "bf16",
  contextLength: 8192,
  concurrentSequences: 4,
  layers: 32,
  hiddenSize: 4096,
  attentionHeads: 32,
  kvHeads: 8,
};

/** Runs `program` under the offline mocks and returns what it registered. */
export async function resourcesOf(
  program: () => unknown,
  region = REGION,
): Promise<CapturedResource[]> {
  const { resources } = await capture(program, { stack: "test", region });
  return resources;
}

export function ofType(resources: CapturedResource[], type: string): CapturedResource[] {
  return resources.filter((r) => r.type === type);
}

/** The one resource of a type (and name, when given); fails the test when there is not exactly one. */
export function one(resources: CapturedResource[], type: string, name?: string): CapturedResource {
  const found = ofType(resources, type).filter((r) => name === undefined || r.name === name);
  assert.strictEqual(
    found.length,
    1,
    `expected one ${type}${name ? ` named ${name}` : ""}, found ${found.length}`,
  );
  return found[0];
}

/** Parses a JSON policy document stored as a string input. */
export function policyOf(
  r: CapturedResource,
  key = "policy",
): { Statement: Record<string, unknown>[] } {
  const raw = r.inputs[key];
  assert.strictEqual(typeof raw, "string", `${r.name}.${key} should be a JSON string`);
  return JSON.parse(raw as string);
}

/** Asserts that `fn` throws an error whose message contains every fragment. */
export function assertThrowsWith(fn: () => unknown, ...fragments: string[]): Error {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof Error, "expected an error");
  for (const f of fragments)
    assert.ok(caught.message.includes(f), `expected "${f}" in: ${caught.message}`);
  return caught;
}

/** A dev stack with one serverless endpoint of a 7B fp16 model: too big, and serverless has no GPU. */
export const SERVERLESS_7B_STACK = [
  "config:",
  "  aws:region: us-east-1",
  "  llm-infra:environment: dev",
  "  llm-infra:tags: {team: ml, costCenter: '1'}",
  "  llm-infra:sagemaker:",
  "    endpoints:",
  "      - name: spiky",
  "        mode: serverless",
  "        model: {parametersBillions: 7, dtype: fp16, contextLength: 4096, concurrentSequences: 1}",
  "",
].join("\n");

/**
 * Copies the example model repository the shipped stacks name (`modelRepository: models/chat`)
 * into `dir`, for a test that plans a copy of a shipped stack from another directory.
 */
export function copyExampleModels(dir: string): void {
  fs.cpSync(path.join(projectRoot(), "models"), path.join(dir, "models"), { recursive: true });
}

/** The shipped dev stack with its endpoint moved to ml.p5.48xlarge: over budget, off the allowlist. */
export function devOnP5Stack(): string {
  const dev = fs.readFileSync(path.join(projectRoot(), "Pulumi.dev.yaml"), "utf8");
  const pools = "instancePools: [ml.g6.xlarge, ml.g5.xlarge]";
  assert.ok(dev.includes(pools), "dev's endpoint runs on ml.g6.xlarge, then ml.g5.xlarge");
  return dev.replace(pools, "instancePools: [ml.p5.48xlarge]");
}

/** The problems the stack configuration parse names (one line each); [] when it takes it. */
export function configProblems(config: Record<string, unknown>, stack = "staging"): string[] {
  try {
    parseStackConfig(config, stack);
    return [];
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.problems;
  }
}

/** A resource as the plan records it, with no options or dependencies unless `extra` gives them. */
export function capturedResource(
  type: string,
  name: string,
  inputs: Record<string, unknown> = {},
  extra: Partial<CapturedResource> = {},
): CapturedResource {
  return {
    type,
    name,
    parent: null,
    custom: true,
    inputs,
    protect: false,
    retainOnDelete: false,
    dependencies: [],
    ...extra,
  };
}

/** README.md and every page under docs/, as paths relative to the repository. */
export function markdownFiles(): string[] {
  const pages = fs
    .readdirSync(path.join(projectRoot(), "docs"))
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => path.join("docs", f));
  return ["README.md", ...pages];
}

/**
 * A single-model endpoint on dev's scale: Llama 3 8B on LMI, asynchronous, scaling to zero (what
 * dev's chat endpoint was before it became an endpoint of inference components). The tests of
 * single-model endpoints' config keys and deploy steps start from it.
 */
export const ASYNC_CHAT: Record<string, unknown> = {
  name: "chat",
  mode: "async",
  instanceType: "ml.g5.xlarge",
  minInstances: 0,
  maxInstances: 1,
  image: "lmi",
  imageVersion: "0.31.0",
  inferenceAmiVersion: "al2-ami-sagemaker-inference-gpu-3-1",
  hubModel: "NousResearch/Meta-Llama-3-8B-Instruct",
  model: { ...LLAMA3_8B, concurrentSequences: 2 },
  deploymentBakeSeconds: 0,
};

/** A raw stack config with `ASYNC_CHAT` as its only SageMaker endpoint. */
export function withAsyncChat(raw: Record<string, unknown>): Record<string, unknown> {
  return { ...raw, "llm-infra:sagemaker": { endpoints: [{ ...ASYNC_CHAT }] } };
}

/**
 * A shipped stack's config without NAT gateways, with these interface endpoints. Karpenter needs
 * a NAT gateway (its controller pulls from public.ecr.aws and calls the pricing API; the config
 * refuses it without one), so a stack on Karpenter goes without its EKS cluster and Triton: what
 * is left is what must still run NAT-less.
 */
export function natLess(
  raw: Record<string, unknown>,
  interfaceEndpoints: readonly string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    ...raw,
    "llm-infra:network": {
      ...(raw["llm-infra:network"] as object),
      natGateways: "none",
      interfaceEndpoints: [...interfaceEndpoints],
    },
  };
  if ((raw["llm-infra:eks"] as { provisioner?: string } | undefined)?.provisioner === "karpenter") {
    delete out["llm-infra:eks"];
    delete out["llm-infra:triton"];
  }
  return out;
}

/** A stack file without these keys (a shipped stack with a part taken away). */
export function withoutKeys(
  raw: Record<string, unknown>,
  ...keys: string[]
): Record<string, unknown> {
  return Object.fromEntries(Object.entries(raw).filter(([k]) => !keys.includes(k)));
}

/** Staging without its cluster: the SageMaker endpoint, the fleet and the API front door. */
export const STAGING_WITHOUT_CLUSTER = ["llm-infra:eks", "llm-infra:triton"];

/**
 * An ES module from CommonJS: @kubernetes-models/karpenter ships ESM only, and the compiled tests
 * are CommonJS, whose `import()` TypeScript turns into `require`.
 */
export const importEsm = new Function("specifier", "return import(specifier)") as (
  specifier: string,
) => Promise<Record<string, new (data: unknown) => { validate(): void }>>;
