/**
 * Test helpers: the same offline engine `npm run plan` uses, and lookups over what it captured.
 */
import * as assert from "assert";
import { ModelRequirements } from "../catalog";
import { CapturedResource, capture } from "../offline/engine";

export const REGION = "us-east-1";

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
