/**
 * The offline engine: runs a Pulumi program under mocks and captures every resource it registers,
 * with its type, name, parent, resolved inputs and resource options, in registration order.
 *
 * The mocks' own arguments carry no parent or options, so the engine listens one level lower, at
 * the mock resource monitor's `registerResource`, which receives the same request the real engine
 * would.
 */
import * as pulumi from "@pulumi/pulumi";
import { CapturedResource } from "../checks/resource";
import { OfflineMocks } from "./mocks";

export type { CapturedResource } from "../checks/resource";

export interface CaptureOptions {
  project?: string;
  stack: string;
  region: string;
  /** Config values as the engine passes them (`aws:region`, `llm-infra:network` as JSON, ...). */
  config?: Record<string, string>;
  /** Config keys whose values the program reads as secrets. */
  secretKeys?: string[];
  /** Called with each resource once its inputs are recorded, to start work on it early. */
  onResource?: (resource: CapturedResource) => void;
  /**
   * Tells the user's mistakes (bad config or arguments), which are thrown as they are, from
   * crashes. A crash is run again with stack traces on, and that run's error, which says where, is
   * thrown. Without it, every error is thrown as it is.
   */
  isUserError?: (e: unknown) => boolean;
}

export interface CaptureResult<T> {
  resources: CapturedResource[];
  /** What the program returned, with every Output resolved. */
  outputs: T;
}

/** The protobuf request the mock monitor receives (the accessors the engine reads). */
interface RegisterResourceRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getProtect(): boolean;
  getRetainondelete?(): boolean;
  getDependenciesList(): string[];
  getDeletebeforereplace?(): boolean;
  getDeletebeforereplacedefined?(): boolean;
  getReplaceonchangesList?(): string[];
  getReplaceWithList?(): string[];
  getAliasesList?(): { getSpec?(): { getType?(): string } | undefined }[];
  getPropertydependenciesMap?(): {
    forEach(callback: (value: { getUrnsList(): string[] }, key: string) => void): void;
  };
  getObject(): Parameters<typeof pulumi.runtime.deserializeProperties>[0];
}
interface RegisterResourceResponse {
  getId(): string;
  getUrn(): string;
}
type Callback = (err: Error | null, resp?: RegisterResourceResponse) => void;
interface MonitorWithRegister {
  registerResource(req: RegisterResourceRequest, callback: Callback): void;
}

/** The last segment of a URN is the resource's name. */
function nameFromUrn(urn: string): string | null {
  if (!urn) return null;
  const parts = urn.split("::");
  return parts[parts.length - 1] ?? null;
}

/** Secrets and resource references as plain JSON: secrets are never printed. */
export function plainValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plainValue);
  if (value !== null && typeof value === "object") {
    const o = value as Record<string, unknown>;
    if (o[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig) return "[secret]";
    if (pulumi.Resource.isInstance(value)) return "[resource]";
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, plainValue(v)]));
  }
  return value;
}

/** Waits until the runtime has no outstanding resource registrations or invokes. */
async function settle(): Promise<void> {
  const waitForRPCs = (pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> })
    .waitForRPCs;
  if (typeof waitForRPCs !== "function") {
    throw new Error(
      "this @pulumi/pulumi has no runtime.waitForRPCs; the offline engine needs it to know the program finished",
    );
  }
  await waitForRPCs();
}

/**
 * Runs `program` under mocks and returns every resource it registered and its resolved result.
 * Errors the program throws (invalid arguments) propagate as they are.
 */
export async function capture<T>(
  program: () => T,
  options: CaptureOptions,
): Promise<CaptureResult<pulumi.Unwrap<T>>> {
  // The SDK records `new Error().stack` for each of the four promises of every output property
  // (@pulumi/pulumi runtime/debuggable.js, `debuggablePromise`), only to print them for promise
  // leaks; at V8's default depth of 10 frames that was most of the plan's time. The limit is 0 only
  // while the program runs, and restored however it ends. The SDK raises it itself where it wants
  // a stack: a resource's source position (resource.js `Resource.callsites`, which sets the limit
  // to Infinity, formats the whole stack, parses each line into a frame, and the frames go into
  // the registration request). The mock monitor has no use for a source position, so while the
  // program runs a stack is formatted as its first line only (V8's stack trace API,
  // https://v8.dev/docs/stack-trace-api: `Error.prepareStackTrace` formats the stack of every
  // error), and no frame is formatted, parsed or marshalled (5-20% of a plan's time per resource,
  // measured in-process on 10 and 200 endpoints).
  const stackTraceLimit = Error.stackTraceLimit;
  const prepareStackTrace = Error.prepareStackTrace;
  const restore = () => {
    Error.stackTraceLimit = stackTraceLimit;
    Error.prepareStackTrace = prepareStackTrace;
  };
  Error.stackTraceLimit = 0;
  Error.prepareStackTrace = firstLineOnly;
  try {
    return await captureResources(program, options);
  } catch (e) {
    if (!options.isUserError || options.isUserError(e)) throw e;
    // A crash carries no stack trace from this run: the program, which is deterministic under
    // the mocks, runs again with them on.
    restore();
    await captureResources(program, { ...options, onResource: undefined });
    throw e;
  } finally {
    restore();
  }
}

/** An error's stack as its first line, `Name: message`, as V8 begins it. */
function firstLineOnly(error: Error): string {
  return Error.prototype.toString.call(error);
}

async function captureResources<T>(
  program: () => T,
  options: CaptureOptions,
): Promise<CaptureResult<pulumi.Unwrap<T>>> {
  const resources: CapturedResource[] = [];
  // The mock monitor deserializes each request's inputs once, to hand them to the mocks; the
  // entry being registered takes them from there rather than deserializing them a second time.
  let registering: CapturedResource | undefined;
  const onNewResource = (inputs: Record<string, unknown>) => {
    if (registering) {
      registering.inputs = plainValue(inputs) as Record<string, unknown>;
      options.onResource?.(registering);
    }
    registering = undefined;
  };
  await pulumi.runtime.setMocks(
    new OfflineMocks(options.region, undefined, onNewResource),
    options.project ?? "llm-infra",
    options.stack,
    false,
  );
  pulumi.runtime.setAllConfig(
    { "aws:region": options.region, ...options.config },
    options.secretKeys,
  );

  const monitor = pulumi.runtime.getMonitor() as unknown as MonitorWithRegister;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    const entry: CapturedResource = {
      type: req.getType(),
      name: req.getName(),
      parent: nameFromUrn(req.getParent()),
      custom: req.getCustom(),
      inputs: {},
      protect: req.getProtect() === true,
      retainOnDelete: req.getRetainondelete?.() === true,
      dependencies: req.getDependenciesList(),
    };
    if (req.getDeletebeforereplacedefined?.())
      entry.deleteBeforeReplace = req.getDeletebeforereplace?.() === true;
    const replaceOnChanges = req.getReplaceonchangesList?.() ?? [];
    if (replaceOnChanges.length > 0) entry.replaceOnChanges = replaceOnChanges;
    const replaceWith = req.getReplaceWithList?.() ?? [];
    if (replaceWith.length > 0) entry.replaceWith = replaceWith;
    // The previous types the resource answers to (alias specs that name a type).
    const aliasTypes = (req.getAliasesList?.() ?? []).flatMap((a) => {
      const type = a.getSpec?.()?.getType?.();
      return type ? [type] : [];
    });
    if (aliasTypes.length > 0) entry.aliasTypes = aliasTypes;
    const propertyDependencies: Record<string, string[]> = {};
    req.getPropertydependenciesMap?.().forEach((deps, property) => {
      const urns = deps.getUrnsList();
      if (urns.length > 0) propertyDependencies[property] = urns;
    });
    if (Object.keys(propertyDependencies).length > 0)
      entry.propertyDependencies = propertyDependencies;
    resources.push(entry);
    registering = entry;
    register(req, (err, resp) => {
      if (resp) entry.urn = resp.getUrn();
      if (resp && entry.custom) entry.id = resp.getId();
      callback(err, resp);
    });
    // The mock monitor calls the mocks before its first await (@pulumi/pulumi runtime/mocks.js,
    // `MockMonitor.registerResource`); should it ever not, the inputs are read here.
    if (registering === entry) {
      registering = undefined;
      entry.inputs = plainValue(pulumi.runtime.deserializeProperties(req.getObject())) as Record<
        string,
        unknown
      >;
      options.onResource?.(entry);
    }
  };

  // A program may be async (the stack program is): a rejection is the program's error.
  const result = await program();
  const outputs = await new Promise<pulumi.Unwrap<T>>((resolve) =>
    pulumi.output(result).apply((v) => resolve(v as pulumi.Unwrap<T>)),
  );
  await settle();
  return { resources, outputs };
}
