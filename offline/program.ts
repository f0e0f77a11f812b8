/**
 * A Pulumi project directory, read as `pulumi up` reads it: Pulumi.yaml's name, runtime and main,
 * and the program module, loaded the way the Node.js language host loads a CommonJS program
 * (@pulumi/pulumi cmd/run/run.js): the entry is Pulumi.yaml's `main`, else package.json's
 * `main`, else the project directory's index; TypeScript is compiled on load unless
 * `runtime.options.typescript` is false; a module that exports a function is called, and its
 * result is the stack's outputs.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "js-yaml";
import {
  PlanReport,
  UsageError,
  checkDirectory,
  listStacks,
  planProgram,
  projectRoot,
  readStackFile,
} from "./plan";
import { readPolicyConfigFile } from "./policyEvaluator";
import { PlannedResource } from "./changes";

export interface PulumiProject {
  /** The project directory (where Pulumi.yaml is). */
  dir: string;
  /** Pulumi.yaml `name`. */
  name: string;
  /** What the language host requires: a file, or a directory whose index it loads. */
  entry: string;
  /** Whether `.ts` files are compiled on load (`runtime.options.typescript`, default true). */
  typescript: boolean;
}

const PROJECT_FILES = ["Pulumi.yaml", "Pulumi.yml"];

/** Reads a project directory's Pulumi.yaml; a usage error names what is missing or wrong. */
export function readProject(dir: string): PulumiProject {
  checkDirectory(dir, "Pulumi.yaml");
  const file = PROJECT_FILES.map((f) => path.join(dir, f)).find((f) => fs.existsSync(f));
  if (file === undefined)
    throw new UsageError(
      `no Pulumi.yaml in ${dir}: run the plan in a Pulumi project's directory, or name it with --cwd <dir>`,
    );
  const where = path.basename(file);
  let doc: unknown;
  try {
    doc = YAML.load(fs.readFileSync(file, "utf8"), { schema: YAML.CORE_SCHEMA });
  } catch (e) {
    throw new UsageError(`${where} is not valid YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc))
    throw new UsageError(`${where} must be a map with name: and runtime: keys`);
  const project = doc as { name?: unknown; runtime?: unknown; main?: unknown };
  if (typeof project.name !== "string" || project.name === "")
    throw new UsageError(`${where}: name is required (the project's name)`);
  const runtime = project.runtime as
    { name?: unknown; options?: { typescript?: unknown } } | string;
  const runtimeName = typeof runtime === "string" ? runtime : runtime?.name;
  if (runtimeName !== "nodejs")
    throw new UsageError(
      `${where}: runtime is ${JSON.stringify(runtimeName ?? null)}; the offline plan runs Node.js programs (runtime: nodejs)`,
    );
  const typescript = typeof runtime === "string" || runtime.options?.typescript !== false;

  const pkg = readPackageJson(dir);
  if (pkg.type === "module")
    throw new UsageError(
      `${path.join(dir, "package.json")}: "type": "module" programs are not planned offline yet; the plan runs CommonJS programs`,
    );
  let entry: string;
  if (project.main !== undefined) {
    if (typeof project.main !== "string" || project.main === "")
      throw new UsageError(`${where}: main must be a path, got ${JSON.stringify(project.main)}`);
    entry = path.resolve(dir, project.main);
    if (!fs.existsSync(entry))
      throw new UsageError(
        `${where}: main ${project.main} does not exist in ${dir}${/\.js$|^dist|^bin|^lib/.test(project.main) ? " (build the program first, e.g. npm run build)" : ""}`,
      );
  } else {
    const main = typeof pkg.main === "string" ? path.resolve(dir, pkg.main) : undefined;
    entry = main !== undefined && fs.existsSync(main) ? main : dir;
  }
  if (fs.statSync(entry).isDirectory()) {
    const index = ["index.js", ...(typescript ? ["index.ts"] : [])].find((f) =>
      fs.existsSync(path.join(entry, f)),
    );
    if (index === undefined)
      throw new UsageError(
        `${where}: no program in ${entry}: it has no index.${typescript ? "ts or index.js" : "js"}; set main: in ${where}`,
      );
    entry = path.join(entry, index);
  }
  return { dir, name: project.name, entry, typescript };
}

function readPackageJson(dir: string): { type?: unknown; main?: unknown } {
  const file = path.join(dir, "package.json");
  if (!fs.existsSync(file)) return {};
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as { type?: unknown; main?: unknown };
  } catch (e) {
    throw new UsageError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
}

/**
 * The project's program as a function the offline engine runs: each call loads the program's own
 * modules afresh (a program creates its resources when its module loads, and the engine may run
 * it twice: for a crash's stack trace, or in a test's several plans), then calls what the module
 * exports if it is a function.
 */
export function projectProgram(project: PulumiProject): () => unknown {
  if (project.typescript) compileTypeScriptOnLoad(project.dir);
  return () => {
    forgetProgramModules(project.dir);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const exported = require(project.entry) as unknown;
    return typeof exported === "function" ? (exported as () => unknown)() : exported;
  };
}

/**
 * Drops the program's own modules (not its node_modules) from Node's module cache. This package's
 * own modules stay, wherever it lives: the engine that runs the program is among them, and a second
 * copy of a component module would be a second class. (This repository's stack program exports a
 * function, so it runs again without being loaded again.)
 */
function forgetProgramModules(dir: string): void {
  const own = dir.endsWith(path.sep) ? dir : `${dir}${path.sep}`;
  const engine = `${projectRoot()}${path.sep}`;
  const isEngine = (file: string) =>
    file.startsWith(engine) && !file.startsWith(`${engine}node_modules${path.sep}`);
  for (const file of Object.keys(require.cache)) {
    if (isEngine(file)) continue;
    if (file.startsWith(own) && !file.slice(own.length).split(path.sep).includes("node_modules"))
      delete require.cache[file];
  }
}

type TypeScript = typeof import("typescript");

/**
 * Compiles `.ts` modules as Node loads them, with the TypeScript the project installed (else this
 * package's), to CommonJS with the project's tsconfig.json options: transpiled only, as
 * `pulumi up` does with `noCheck` (the project's own `tsc` is where types are checked).
 * A `.ts` loader already in place (ts-node, under a test runner) is left as it is.
 */
function compileTypeScriptOnLoad(dir: string): void {
  // Node's loader hook for an extension: deprecated in its docs, and still what ts-node uses.
  const extensions = require.extensions;
  if (extensions[".ts"] !== undefined) return;
  const ts = loadTypeScript(dir);
  const options = compilerOptions(ts, dir);
  // A crash's stack trace then names the program's own lines, through the inline source maps.
  process.setSourceMapsEnabled(true);
  extensions[".ts"] = (module, filename) => {
    const source = fs.readFileSync(filename, "utf8");
    const out = ts.transpileModule(source, { compilerOptions: options, fileName: filename });
    (module as unknown as { _compile(code: string, file: string): void })._compile(
      out.outputText,
      filename,
    );
  };
}

function loadTypeScript(dir: string): TypeScript {
  for (const paths of [[dir], undefined]) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return require(require.resolve("typescript", paths ? { paths } : undefined)) as TypeScript;
    } catch {
      // the next place, or the usage error below
    }
  }
  throw new UsageError(
    `${dir} holds a TypeScript program and no typescript package is installed: npm install --save-dev typescript`,
  );
}

function compilerOptions(ts: TypeScript, dir: string): import("typescript").CompilerOptions {
  const file = path.join(dir, "tsconfig.json");
  let options: import("typescript").CompilerOptions = {};
  if (fs.existsSync(file)) {
    const read = ts.readConfigFile(file, (f) => ts.sys.readFile(f));
    if (read.error)
      throw new UsageError(
        `${file}: ${ts.flattenDiagnosticMessageText(read.error.messageText, " ")}`,
      );
    options = ts.parseJsonConfigFileContent(read.config, ts.sys, dir).options;
  }
  return {
    ...options,
    module: ts.ModuleKind.CommonJS,
    target: options.target ?? ts.ScriptTarget.ES2020,
    esModuleInterop: options.esModuleInterop ?? true,
    sourceMap: false,
    inlineSourceMap: true,
    inlineSources: false,
    declaration: false,
    noEmit: false,
  };
}

export interface ProjectPlanOptions {
  /** The project directory (where Pulumi.yaml is). */
  dir: string;
  /** The stack; when absent, the one stack with a Pulumi.<stack>.yaml in `dir`. */
  stack?: string;
  /** A policy pack configuration file, as `pulumi up --policy-pack-config` takes it. */
  policyConfigFile?: string;
  /** An earlier plan's resources, to say what changes (`plan --against`). */
  against?: PlannedResource[];
}

/**
 * The offline plan of any Pulumi program that uses the components: the program in `dir`, run
 * with its Pulumi.<stack>.yaml config under the package's mocks, priced, and checked by the
 * policy pack under its environment's configuration (or `policyConfigFile`).
 */
export async function planProject(options: ProjectPlanOptions): Promise<PlanReport> {
  const project = readProject(options.dir);
  const stack = options.stack ?? onlyStack(options.dir);
  const config = readStackFile(stack, options.dir);
  const { values, secretKeys } = withProjectNamespace(config, project.name);
  return planProgram(projectProgram(project), {
    project: project.name,
    stack,
    config: values,
    secretKeys,
    policyConfig: readPolicyConfigFile(options.policyConfigFile),
    policyConfigFile: options.policyConfigFile,
    against: options.against,
    cwd: options.dir,
  });
}

/** The stack of a project with exactly one Pulumi.<stack>.yaml. */
export function onlyStack(dir: string): string {
  const stacks = listStacks(dir);
  if (stacks.length === 1) return stacks[0];
  throw new UsageError(
    stacks.length === 0
      ? `no Pulumi.<stack>.yaml in ${dir}: create one (pulumi stack init dev; pulumi config set aws:region us-east-1)`
      : `${dir} has several stacks: name one of ${stacks.join(", ")}`,
  );
}

/**
 * Config keys as the Pulumi CLI hands them to a program: a key without a namespace belongs to the
 * project (`instanceType` in project `chat` is `chat:instanceType`), and a `secure:` value is a
 * secret, which the offline plan cannot decrypt and passes as "[secret]".
 */
export function withProjectNamespace(
  config: Record<string, unknown>,
  project: string,
): { values: Record<string, unknown>; secretKeys: string[] } {
  const values: Record<string, unknown> = {};
  const secretKeys: string[] = [];
  for (const [k, v] of Object.entries(config)) {
    const key = k.includes(":") ? k : `${project}:${k}`;
    const secure = v !== null && typeof v === "object" && !Array.isArray(v) && "secure" in v;
    values[key] = secure ? "[secret]" : v;
    if (secure) secretKeys.push(key);
  }
  return { values, secretKeys };
}
