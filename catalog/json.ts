/**
 * A value as JSON for a message, whatever it holds: a YAML alias can make a map that contains
 * itself, on which JSON.stringify throws; each repeated object is shown as "[cyclic]".
 */
export function safeJson(value: unknown): string {
  const seen = new WeakSet<object>();
  return (
    JSON.stringify(value, (_key, v: unknown) => {
      if (v !== null && typeof v === "object") {
        if (seen.has(v)) return "[cyclic]";
        seen.add(v);
      }
      return v;
    }) ?? String(value)
  );
}
