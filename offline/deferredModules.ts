/**
 * Two modules the Pulumi SDK loads for closure serialization, deferred until first use.
 *
 * `@pulumi/pulumi`'s index loads its runtime, whose closure serializer (the code that turns a
 * JavaScript function into a Lambda's source for `pulumi up`) requires TypeScript's compiler to
 * parse function text and npm's Arborist to walk a function's package dependencies, each at the
 * top of its module:
 *   - runtime/closure/parseFunction.js: `const ts = require("../../typescript-shim")`, and the shim
 *     `module.exports = require("typescript")`, else the TypeScript vendored in the SDK;
 *   - runtime/closure/codePaths.js: `const arborist = __importStar(require("@npmcli/arborist"))`,
 *     used only as `new arborist.Arborist(...)` inside `computeCodePaths`.
 * The SDK itself requires TypeScript lazily elsewhere (tsutils.js, closure/utils.js and
 * rewriteSuper.js, after pulumi/pulumi#10185 "Avoid importing typescript unless necessary", for
 * the same 0.3 s); parseFunction.js and codePaths.js still require theirs at load.
 * Every use of either is inside a function (parseFunction, computeCodePaths), and the plan
 * serializes no function, yet the two loads are about 0.65 s of the 1.4 s it takes to load the
 * SDKs on these machines (TypeScript's compiler is one 9 MB file; Arborist brings some 800 files of
 * npm's).
 *
 * `deferClosureModules()` puts a stand-in for each in Node's module cache (Node's modules docs,
 * https://nodejs.org/api/modules.html#requirecache: "Adding or replacing entries is also
 * possible"), so a `require` of it returns the stand-in, which loads the real module the first
 * time anything reads from it and then forwards every read to it. The plan command calls it
 * before anything loads the SDK; the deployed program (`pulumi up`) and the components never do.
 * A function serialized, and a program's code paths computed, in a process with the stand-ins are
 * the same as without them (test/planSpeed.test.ts).
 *
 * The stand-in answers `__esModule` with true without loading: TypeScript's `__importStar`
 * helper then hands it to the importer as it is, instead of copying (and so loading) every
 * export; codePaths.js reads only `arborist.Arborist` from it, which the stand-in forwards.
 */
import Module from "module";
import * as fs from "fs";
import * as path from "path";

/** A module to defer: what is required, and a file of the SDK that requires it. */
interface DeferredModule {
  request: string;
  /** Resolved from this file's directory, as Node resolves the SDK's own `require`. */
  requiredBy: string;
  /** Where the SDK falls back when `request` does not resolve (the shim's vendored TypeScript). */
  fallback?: (sdkDir: string) => string | undefined;
}

const DEFERRED: DeferredModule[] = [
  {
    request: "typescript",
    requiredBy: "typescript-shim.js",
    fallback: (sdkDir) => {
      const vendor = path.join(sdkDir, "vendor");
      const dir = fs.existsSync(vendor)
        ? fs.readdirSync(vendor).find((d) => d.startsWith("typescript@"))
        : undefined;
      return dir === undefined ? undefined : path.join(vendor, dir, "typescript.js");
    },
  },
  { request: "@npmcli/arborist", requiredBy: "runtime/closure/codePaths.js" },
];

type Resolve = (request: string, options: { paths: string[] }) => string;

/**
 * The files the deferred modules load from the SDK in `sdkDir`, resolved as the SDK's own
 * `require` resolves them (else its fallback); a module that is not installed is left out.
 */
export function deferredFiles(sdkDir: string, resolve: Resolve = require.resolve): string[] {
  return DEFERRED.flatMap((d) => {
    let file: string | undefined;
    try {
      file = resolve(d.request, { paths: [path.dirname(path.join(sdkDir, d.requiredBy))] });
    } catch {
      file = d.fallback?.(sdkDir);
    }
    return file !== undefined && fs.existsSync(file) ? [file] : [];
  });
}

function standIn(file: string): Module {
  let real: Record<PropertyKey, unknown> | undefined;
  const load = (): Record<PropertyKey, unknown> => {
    if (real === undefined) {
      delete require.cache[file];
      // The real module, by the path its stand-in held in the cache.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      real = require(file) as Record<PropertyKey, unknown>;
    }
    return real;
  };
  const entry = new Module(file);
  entry.filename = file;
  entry.loaded = true;
  entry.exports = new Proxy(
    {},
    {
      get: (_, key) => (key === "__esModule" ? true : load()[key]),
      has: (_, key) => key in load(),
      ownKeys: () => Reflect.ownKeys(load()),
      getOwnPropertyDescriptor: (_, key) => {
        const descriptor = Object.getOwnPropertyDescriptor(load(), key);
        // A proxy may not report a property as non-configurable that its target lacks.
        return descriptor && { ...descriptor, configurable: true };
      },
    },
  );
  return entry;
}

/**
 * Put the stand-ins in the module cache; returns the files deferred. A module already loaded (or
 * not installed) is left as it is. Call it before anything requires `@pulumi/pulumi`.
 */
export function deferClosureModules(): string[] {
  let sdkDir: string;
  try {
    sdkDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
  } catch {
    return [];
  }
  const deferred: string[] = [];
  for (const file of deferredFiles(sdkDir)) {
    if (require.cache[file] !== undefined) continue;
    require.cache[file] = standIn(file);
    deferred.push(file);
  }
  return deferred;
}
