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
