/**
 * A resource as the whole-stack checks read it: what a program registered, with its resolved
 * inputs and options. The offline engine (offline/engine.ts) records these; the policy pack's
 * whole-stack policies build them from the resources CrossGuard hands over.
 */
/** One resource the program registered. */
export interface CapturedResource {
  type: string;
  name: string;
  /** The parent's name, or null for a top-level resource. */
  parent: string | null;
  /** True for custom resources, false for components. */
  custom: boolean;
  /** The id the mocks returned (empty for components). */
  id?: string;
  inputs: Record<string, unknown>;
  protect: boolean;
  retainOnDelete: boolean;
  /** The URN the engine gave the resource. */
  urn?: string;
  /** URNs of the resources this one depends on: its inputs' sources and `dependsOn`. */
  dependencies: string[];
  /** For each input property, the URNs of the resources its value came from. */
  propertyDependencies?: Record<string, string[]>;
  /** The `deleteBeforeReplace` option, when the program set it. */
  deleteBeforeReplace?: boolean;
  /** The `replaceOnChanges` option: properties whose change replaces the resource. */
  replaceOnChanges?: string[];
  /** The `replaceWith` option: URNs of the resources whose replacement replaces this one. */
  replaceWith?: string[];
  /** The `aliases` option's previous types: the types this resource was registered as before. */
  aliasTypes?: string[];
}
