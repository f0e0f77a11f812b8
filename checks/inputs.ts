/** Reading a captured resource's inputs (plain JSON) without trusting their shape. */
export type Obj = Record<string, unknown>;

/** The value as a map, or an empty one when it is not a map. */
export const obj = (v: unknown): Obj =>
  v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {};

/** The value as a list, or an empty one when it is not a list. */
export const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
