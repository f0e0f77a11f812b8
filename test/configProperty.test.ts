/**
 * Property: whatever a user writes into a stack file, the config reader and the plan answer with a
 * user error (exit 2, lines that each name a key) or a plan; never a crash (exit 3), a stack trace
 * or NaN.
 */
import * as assert from "assert";
import * as fc from "fast-check";
import { ConfigError, parseStackConfig } from "../programs/config";
import { isUserError, planConfig } from "../offline/plan";
import { Config, FLEET, baseConfig, set } from "./badStackBase";

type Path = (string | number)[];

/** Every path of a tree: maps, lists and leaves, so an edit can replace any of them. */
function pathsOf(value: unknown, prefix: Path = []): Path[] {
  const here = prefix.length > 0 ? [prefix] : [];
  if (Array.isArray(value))
    return [
      ...here,
      ...value.flatMap((v, i) => pathsOf(v, [...prefix, i])),
      [...prefix, value.length],
    ];
  if (value !== null && typeof value === "object")
    return [...here, ...Object.entries(value).flatMap(([k, v]) => pathsOf(v, [...prefix, k]))];
  return here;
}

const base = (): Config => ({ ...baseConfig(), "llm-infra:fleet": { ...FLEET } });
const PATHS = pathsOf(base());

/** Values a YAML file can hold, and the ones users get wrong most. */
const value: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    undefined,
    null,
    NaN,
    Infinity,
    -Infinity,
    -1,
    0,
    1.5,
    1e12,
    "",
    " ",
    "aws:x",
    "../x",
    "/x",
    "true",
    "1.30",
    [],
    {},
    [""],
    [null],
    { name: "x" },
  ),
  fc.boolean(),
  fc.integer({ min: -5, max: 5000 }),
  fc.double(),
  fc.string({ maxLength: 300 }),
  fc.array(fc.string({ maxLength: 20 }), { maxLength: 3 }),
  fc.jsonValue({ maxDepth: 2 }),
);

/** One to three edits of the base stack: a known path (or a new key under it) set to any value. */
const edits = fc.array(
  fc.tuple(
    fc.constantFrom(...PATHS),
    fc.option(fc.string({ minLength: 1, maxLength: 12 }), { nil: undefined }),
    value,
  ),
  { minLength: 1, maxLength: 3 },
);

function apply(list: [Path, string | undefined, unknown][]): Config {
  const config = base();
  for (const [p, extra, v] of list) set(config, extra === undefined ? p : [...p, extra], v);
  return config;
}

/** A user error's lines: each names a key (or the file), says something, carries no NaN or trace. */
function assertUserMessage(e: unknown): void {
  assert.ok(isUserError(e), `not a user error: ${e instanceof Error ? e.stack : String(e)}`);
  const message = (e as Error).message;
  assert.doesNotMatch(message, /NaN|\n\s+at /, message);
  if (e instanceof ConfigError) {
    assert.ok(e.problems.length > 0);
    for (const line of e.problems)
      assert.match(
        line,
        /^(aws|llm-infra):(?:[^\s"]|"(?:[^"\\]|\\.)*")* \S/,
        `a line that names no key: ${line}`,
      );
    assert.strictEqual(new Set(e.problems).size, e.problems.length, "a line repeated");
  }
}

describe("property: malformed config trees", function () {
  this.timeout(600_000);

  it("the config reader returns a config or a ConfigError whose every line names a key", () => {
    fc.assert(
      fc.property(edits, (list) => {
        try {
          const config = parseStackConfig(apply(list), "dev");
          assert.strictEqual(typeof config.region, "string");
        } catch (e) {
          assertUserMessage(e);
        }
      }),
      { numRuns: 1500 },
    );
  });

  it("the plan answers a plan or a user error, never a crash", async () => {
    await fc.assert(
      fc.asyncProperty(edits, async (list) => {
        try {
          const report = await planConfig("dev", apply(list));
          assert.ok(Number.isFinite(report.cost.monthlyUsd), `cost ${report.cost.monthlyUsd}`);
          assert.doesNotMatch(JSON.stringify(report.cost.lines), /NaN|null/);
        } catch (e) {
          assertUserMessage(e);
        }
      }),
      { numRuns: 60 },
    );
  });
});
