/**
 * Property: whatever a user writes into a stack file, the config reader and the plan answer with a
 * user error (exit 2, lines that each name a key) or a plan; never a crash (exit 3), a stack trace
 * or NaN.
 */
import { safeJson } from "../catalog/json";
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

/** Plausible edits: a leaf keeps its type, with a value users pick, so more stacks reach the program. */
const leafValue = (p: Path): unknown => {
  let v: unknown = base();
  for (const k of p) v = (v as Record<string | number, unknown> | undefined)?.[k];
  return v;
};
const LEAVES = PATHS.filter((p) => {
  const v = leafValue(p);
  return v !== undefined && (v === null || typeof v !== "object");
});
const WORDS = [
  "gpu",
  "SPOT",
  "ON_DEMAND",
  "canary",
  "rolling",
  "linear",
  "iam",
  "apiKey",
  "ml.g5.2xlarge",
  "ml.m5.xlarge",
  "g5.2xlarge",
  "inf2.xlarge",
  "efs",
  "s3-sync",
  "serverless",
  "async",
  "prod",
  "staging",
  "eu-west-1",
];
const plausible = fc.array(
  fc.constantFrom(...LEAVES).chain((p) => {
    const v = leafValue(p);
    const next: fc.Arbitrary<unknown> =
      typeof v === "number"
        ? fc.integer({ min: 0, max: 12 })
        : typeof v === "boolean"
          ? fc.boolean()
          : fc.constantFrom(...WORDS);
    return next.map((n) => [p, undefined, n] as [Path, undefined, unknown]);
  }),
  { minLength: 1, maxLength: 2 },
);

function apply(list: [Path, string | undefined, unknown][]): Config {
  const config = base();
  for (const [p, extra, v] of list) {
    // A YAML list has no named keys: a new key goes under maps only (on an array, `length` threw).
    const target = p.reduce<unknown>(
      (n, k) => (n as Record<string | number, unknown>)?.[k],
      config,
    );
    if (extra !== undefined && Array.isArray(target)) continue;
    set(config, extra === undefined ? p : [...p, extra], v);
  }
  return config;
}

/** A user error's lines: each names a key (or the file), says something, carries no NaN or trace. */
function assertUserMessage(e: unknown): void {
  assert.ok(isUserError(e), `not a user error: ${e instanceof Error ? e.stack : String(e)}`);
  // A component's own refusal names its arguments, not the user's keys: config must catch it first.
  assert.ok(
    e instanceof ConfigError,
    `refused by a component, not by the config: ${(e as Error).message}`,
  );
  const message = (e as Error).message;
  // NaN the program made up, not a value the user wrote (echoed in quotes).
  const ours = message.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  assert.doesNotMatch(ours, /NaN|\n\s+at /, message);
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

  /** `{ model: { attentionHeads: <itself> } }`, the shape the property found. */
  function cyclic(): Record<string, unknown> {
    const heads: Record<string, unknown> = {};
    heads.again = heads;
    return { model: { attentionHeads: heads } };
  }

  // Counterexamples the property found once, kept so they run every time.
  for (const [key, value] of [
    [["aws:region"], "NaN "],
    [["llm-infra:environment"], { toString: [] }],
    // A map that holds itself (a YAML alias can make one), on which JSON.stringify throws.
    [["aws:region"], cyclic()],
  ] as [Path, unknown][])
    it(`refuses ${key.join(".")}: ${safeJson(value)} with a line naming the key`, () => {
      assert.throws(
        () => parseStackConfig(apply([[key, undefined, value]]), "dev"),
        (e: unknown) => {
          assertUserMessage(e);
          assert.match((e as ConfigError).problems.join("\n"), new RegExp(`^${key[0]} `, "m"));
          return true;
        },
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

  it("the plan answers a plan or a user error for plausible edits too, which reach the program", async () => {
    let planned = 0;
    await fc.assert(
      fc.asyncProperty(plausible, async (list) => {
        try {
          const report = await planConfig("dev", apply(list));
          planned += 1;
          assert.ok(Number.isFinite(report.cost.monthlyUsd), `cost ${report.cost.monthlyUsd}`);
        } catch (e) {
          assertUserMessage(e);
        }
      }),
      { numRuns: 60 },
    );
    // Not vacuous: a good share of these stacks ran the whole program.
    assert.ok(planned >= 10, `${planned} of 60 reached a plan`);
  });
});
