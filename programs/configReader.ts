/**
 * Typed reading of config maps, shared by every config section: each wrong type becomes a problem
 * that names the full key.
 */
import { ArgError } from "../components/validation";
import { safeJson } from "../catalog/json";

/** A value as the user wrote it in YAML: JSON, with `.nan` and `.inf` for the numbers JSON lacks. */
export function shown(v: unknown): string {
  if (typeof v === "number" && !Number.isFinite(v))
    return Number.isNaN(v) ? ".nan" : v > 0 ? ".inf" : "-.inf";
  return safeJson(v);
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * The full key of `k` under `prefix`: `prefix.k`, or `prefix["k"]` when `k` holds anything but
 * letters, digits and `_ - : @` (a space, a dot), so a key in a message is always one word.
 */
export function keyPath(prefix: string, k: string): string {
  return /^[\w:@-]+$/.test(k) ? `${prefix}.${k}` : `${prefix}[${JSON.stringify(k)}]`;
}

/** Reads typed values out of one config map whose keys start with `prefix` (`llm-infra:network`). */
export class SectionReader {
  constructor(
    private readonly prefix: string,
    private readonly values: Record<string, unknown>,
    private readonly problems: string[],
  ) {}

  key(k: string): string {
    return keyPath(this.prefix, k);
  }

  /** The raw value of a key, unchecked. */
  value(k: string): unknown {
    return this.values[k];
  }

  private typed<T>(k: string, what: string, ok: (v: unknown) => boolean): T | undefined {
    const v = this.values[k];
    if (v === undefined || v === null) return undefined;
    if (!ok(v)) {
      this.problems.push(`${this.key(k)} must be ${what}, got ${shown(v)}`);
      return undefined;
    }
    return v as T;
  }

  string(k: string): string | undefined {
    const v = this.values[k];
    // YAML reads 1.30 as the number 1.3: say how to keep what was written.
    const what =
      typeof v === "number" && Number.isFinite(v)
        ? `a string (quote it in YAML: "${v}")`
        : "a string";
    return this.typed<string>(k, what, (x) => typeof x === "string");
  }
  number(k: string): number | undefined {
    return this.typed<number>(k, "a number", (v) => typeof v === "number" && Number.isFinite(v));
  }
  boolean(k: string): boolean | undefined {
    return this.typed<boolean>(k, "true or false", (v) => typeof v === "boolean");
  }
  strings(k: string): string[] | undefined {
    return this.typed<string[]>(
      k,
      "a list of strings",
      (v) => Array.isArray(v) && v.every((x) => typeof x === "string"),
    );
  }
  map(k: string): Record<string, unknown> | undefined {
    return this.typed<Record<string, unknown>>(k, "a map of keys", isObject);
  }
  /** A list of at least one string (a scalar or an empty list is a problem). */
  nonEmptyStrings(k: string): string[] | undefined {
    return this.typed<string[]>(
      k,
      "a list of at least one string",
      (v) => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "string"),
    );
  }

  /**
   * A string that `problem` accepts (it returns what is allowed otherwise); undefined, with one
   * problem naming the key, when the value is not. Callers then fall back to the default, so a
   * value derived from this one does not report the same mistake again under another key.
   */
  checked(k: string, problem: (v: string) => string | undefined): string | undefined {
    const v = this.string(k);
    if (v === undefined) return undefined;
    const why = problem(v);
    if (why === undefined) return v;
    this.problems.push(`${this.key(k)} ${why}`);
    return undefined;
  }

  /** A list of strings each of which `problem` accepts; each bad entry is a problem at `k[i]`. */
  checkedList(
    k: string,
    problem: (v: string) => string | undefined,
    nonEmpty = false,
  ): string[] | undefined {
    const list = nonEmpty ? this.nonEmptyStrings(k) : this.strings(k);
    if (list === undefined) return undefined;
    let ok = true;
    list.forEach((v, i) => {
      const why = problem(v);
      if (why !== undefined) {
        ok = false;
        this.problems.push(`${this.key(k)}[${i}] ${why}`);
      }
    });
    return ok ? list : undefined;
  }

  /** A problem when the key is set: it belongs to another mode (`why` says which). */
  notWith(k: string, why: string): void {
    if (this.values[k] !== undefined && this.values[k] !== null)
      this.problems.push(`${this.key(k)} does not apply ${why}; remove it`);
  }

  /** A problem for every key not in `allowed`. */
  onlyKeys(allowed: readonly string[]): void {
    for (const k of Object.keys(this.values)) {
      if (!allowed.includes(k))
        this.problems.push(`${this.key(k)} is not a known key; allowed: ${allowed.join(", ")}`);
    }
  }
}

/** The config key a problem line names: its first word, without a trailing colon. */
export function problemKey(line: string): string {
  const key = /^(?:[^\s"]|"(?:[^"\\]|\\.)*")+/.exec(line)?.[0] ?? "";
  return key.replace(/:$/, "");
}

/**
 * One line per mistake. Drops a problem that follows from one already reported:
 * - its key was reported, or lies under one reported (a component's rule on `...maxSize` after the
 *   reader found `...maxSize` not a number; anything under `...nodeGroups[0]` after it was found
 *   not to be a map);
 * - its text names a reported key, in full, or the list holding it (`llm-infra:eks.nodeGroups`,
 *   when a node group was refused) or as a sibling of its own key (`domainName and certificateArn go together`, when
 *   `certificateArn` was refused).
 */
export function onePerKey(problems: readonly string[]): string[] {
  const kept: string[] = [];
  const keys: string[] = [];
  const under = (a: string, b: string) =>
    a === b || (a.startsWith(b) && /^[.[]/.test(a.slice(b.length)));
  const parentOf = (k: string) => k.slice(0, Math.max(k.lastIndexOf("."), k.indexOf(":")));
  for (const p of problems) {
    const key = problemKey(p);
    // What a line lists as allowed names keys it does not blame.
    const text = p.slice(p.indexOf(" ") + 1).replace(/(allowed:|be one of)[^;]*/g, "");
    const named = (text.match(/[A-Za-z][\w-]*:[\w.[\]-]*[\w\]]/g) ?? []).map((m) => m);
    const words = new Set(text.match(/[A-Za-z]\w*/g) ?? []);
    const followsOn = keys.some(
      (k) =>
        under(key, k) ||
        named.some((m) => k === m || k.startsWith(`${m}[`)) ||
        (parentOf(k) === parentOf(key) && words.has(k.slice(parentOf(k).length + 1))),
    );
    if (followsOn) continue;
    keys.push(key);
    kept.push(p);
  }
  return kept;
}

/** Component validation errors, re-keyed to the config keys that produced them. */
export function fromComponent(
  prefix: string,
  errors: ArgError[],
  rename: Record<string, string> = {},
): string[] {
  return errors.map((e) => {
    const [head, ...rest] = e.propertyPath.split(/(?=[[.])/);
    return `${prefix}.${rename[head] ?? head}${rest.join("")} ${e.reason}`;
  });
}

/**
 * A reader over the config map at `prefix`: undefined when it is absent, or when it is not a map (a
 * problem). Keys outside `allowedKeys`, when given, are problems.
 */
export function readSection(
  prefix: string,
  raw: unknown,
  problems: string[],
  allowedKeys?: readonly string[],
): SectionReader | undefined {
  if (raw === undefined) return undefined;
  if (!isObject(raw)) {
    problems.push(`${prefix} must be a map of keys, got ${shown(raw)}`);
    return undefined;
  }
  const reader = new SectionReader(prefix, raw, problems);
  if (allowedKeys) reader.onlyKeys(allowedKeys);
  return reader;
}

/**
 * The `name` of a list entry (an endpoint, a node group): 1-31 lower-case letters, digits and
 * hyphens, none of `reserved`, not used twice. Undefined (with a problem) when unusable.
 */
export function readEntryName(
  entry: SectionReader,
  taken: Set<string>,
  what: string,
  reserved: readonly string[],
  problems: string[],
): string | undefined {
  const name = entry.string("name");
  if (!name || !/^[a-z][a-z0-9-]{0,30}$/.test(name)) {
    problems.push(
      `${entry.key("name")} must be 1-31 lower-case letters, digits and hyphens, starting with a letter, got ${JSON.stringify(entry.value("name"))}`,
    );
    return undefined;
  }
  if (reserved.includes(name)) {
    problems.push(
      `${entry.key("name")} must not be ${reserved.join(", ")} (the platform's own components)`,
    );
  }
  if (taken.has(name)) problems.push(`${entry.key("name")} ${name} is used by another ${what}`);
  taken.add(name);
  return name;
}
