/** The import graph of this package's modules, for the cycle and layer tests. */
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

/** Module -> the modules of this package it imports (paths relative to the graph's root). */
export type ImportGraph = Map<string, string[]>;

/** Files with the extension `ext` under `dir` (relative to `root`), except in `skip` folders. */
function sourceFiles(root: string, ext: string, skip: string[], dir = root): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return skip.includes(e.name) ? [] : sourceFiles(root, ext, skip, p);
    return e.name.endsWith(ext) && !e.name.endsWith(".d.ts") ? [path.relative(root, p)] : [];
  });
}

/** The file a relative import of `from` loads, if it is one of `files`. */
function resolveImport(from: string, spec: string, ext: string, files: Set<string>) {
  const base = path.normalize(path.join(path.dirname(from), spec));
  return [base, `${base}${ext}`, path.join(base, `index${ext}`)].find((f) => files.has(f));
}

/**
 * The import graph of the package under `root`: its `.js` files (requires) or `.ts` files
 * (imports, type-only ones included, and re-exports), relative imports only.
 */
export function importGraph(root: string, ext: ".js" | ".ts", skip: string[] = []): ImportGraph {
  const files = sourceFiles(root, ext, ["node_modules", ...skip]);
  const known = new Set(files);
  const graph: ImportGraph = new Map();
  for (const file of files) {
    const source = fs.readFileSync(path.join(root, file), "utf8");
    const targets = ts
      .preProcessFile(source, true, true)
      .importedFiles.map((i) => i.fileName)
      .filter((spec) => spec.startsWith("."))
      .map((spec) => resolveImport(file, spec, ext, known))
      .filter((t): t is string => t !== undefined);
    graph.set(file, [...new Set(targets)].sort());
  }
  return graph;
}
