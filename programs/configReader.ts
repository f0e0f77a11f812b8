/**
 * Typed reading of config maps, shared by every config section: each wrong type becomes a problem
 * that names the full key.
 */
import { ArgError } from "../components/validation";

export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Reads typed values out of one config map whose keys start with `prefix` (`llm-infra:network`). */
export class SectionReader {
  constructor(
    private readonly prefix: string,
    private readonly values: Record<string, unknown>,
    private readonly problems: string[],
  ) {}

  key(k: string): string {
    return `${this.prefix}.${k}`;
  }

  /** The raw value of a key, unchecked. */
  value(k: string): unknown {
    return this.values[k];
  }

  private typed<T>(k: string, what: string, ok: (v: unknown) => boolean): T | undefined {
    const v = this.values[k];
    if (v === undefined || v === null) return undefined;
    if (!ok(v)) {
      this.problems.push(`${this.key(k)} must be ${what}, got ${JSON.stringify(v)}`);
      return undefined;
    }
    return v as T;
  }

  string(k: string): string | undefined {
    return this.typed<string>(k, "a string", (v) => typeof v === "string");
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

  /** A problem for every key not in `allowed`. */
  onlyKeys(allowed: readonly string[]): void {
    for (const k of Object.keys(this.values)) {
      if (!allowed.includes(k))
        this.problems.push(`${this.key(k)} is not a known key; allowed: ${allowed.join(", ")}`);
    }
  }
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
    problems.push(`${prefix} must be a map of keys, got ${JSON.stringify(raw)}`);
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
