/**
 * No module imports itself through others. At run time, whichever module Node loads first sees the
 * other's exports half-initialised (undefined until the other finishes loading), a bug that
 * depends on which entry point loaded first; in the sources, even a type-only cycle means two
 * modules that cannot be understood, moved or tested one without the other. Both graphs are
 * checked: the compiled JavaScript (what Node loads) and the TypeScript sources (type imports too).
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ImportGraph, importGraph } from "./importGraph";

/**
 * Source cycles that exist today and are being removed elsewhere; each entry is the sorted list of
 * the modules of one cycle. A cycle not listed here fails the test, and so does an entry that no
 * longer matches a cycle (remove it once the cycle is gone).
 */
const KNOWN_SOURCE_CYCLES: string[][] = [];

/**
 * The cycles of a graph: its strongly connected components with more than one module, or one
 * module that requires itself (Tarjan's algorithm), each as a sorted list of modules.
 */
export function importCycles(graph: ImportGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return cycles.sort((a, b) => a[0].localeCompare(b[0]));
}

/** The cycles of `graph` that are not `known`, and the `known` ones it no longer has. */
function unexpected(graph: ImportGraph, known: string[][]): { found: string[]; gone: string[] } {
  const key = (c: string[]) => c.join(" <-> ");
  const cycles = new Set(importCycles(graph).map(key));
  const expected = new Set(known.map(key));
  return {
    found: [...cycles].filter((c) => !expected.has(c)),
    gone: [...expected].filter((c) => !cycles.has(c)),
  };
}

describe("import cycles", () => {
  it("finds a cycle through three modules and a module that imports itself, and nothing else", () => {
    const graph: ImportGraph = new Map([
      ["a.js", ["b.js"]],
      ["b.js", ["c.js", "d.js"]],
      ["c.js", ["a.js"]],
      ["d.js", []],
      ["e.js", ["e.js", "d.js"]],
    ]);
    assert.deepStrictEqual(importCycles(graph), [["a.js", "b.js", "c.js"], ["e.js"]]);
    graph.set("c.js", ["d.js"]);
    assert.deepStrictEqual(importCycles(graph), [["e.js"]]);
  });

  it("reads requires, imports, type imports and re-exports, with and without an extension or /index", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "import-graph-"));
    try {
      fs.mkdirSync(path.join(dir, "lib"));
      const write = (file: string, text: string) => fs.writeFileSync(path.join(dir, file), text);
      write("main.js", 'const lib = require("./lib");\nrequire("fs");\n');
      write("x.js", 'require("./lib/index.js");\n');
      write(path.join("lib", "index.js"), '// require("../x") in a comment\n');
      write("main.ts", 'import { a } from "./lib";\nimport * as fs from "fs";\n');
      write(path.join("lib", "index.ts"), 'import type { T } from "../x";\nexport const a = 1;\n');
      write("x.ts", 'export { a } from "./main";\nexport type T = number;\n');

      const js = importGraph(dir, ".js");
      assert.deepStrictEqual(Object.fromEntries(js), {
        "main.js": ["lib/index.js"],
        "x.js": ["lib/index.js"],
        "lib/index.js": [],
      });
      assert.deepStrictEqual(importCycles(js), []);

      const sources = importGraph(dir, ".ts");
      assert.deepStrictEqual(Object.fromEntries(sources), {
        "main.ts": ["lib/index.ts"],
        "x.ts": ["main.ts"],
        "lib/index.ts": ["x.ts"],
      });
      assert.deepStrictEqual(importCycles(sources), [["lib/index.ts", "main.ts", "x.ts"]]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the compiled package has no import cycle", () => {
    const dist = path.resolve(__dirname, "..");
    const graph = importGraph(dist, ".js");
    assert.ok(graph.has("components/index.js") && graph.has("offline/plan.js"), dist);
    assert.deepStrictEqual(
      unexpected(graph, []).found,
      [],
      "import cycles (break each by moving what both sides need into a module of its own)",
    );
  });

  it("the TypeScript sources have no import cycle but the known ones", () => {
    const root = path.resolve(__dirname, "..", "..");
    const graph = importGraph(root, ".ts", ["dist"]);
    assert.ok(graph.has("components/index.ts") && graph.has("offline/plan.ts"), root);
    const { found, gone } = unexpected(graph, KNOWN_SOURCE_CYCLES);
    assert.deepStrictEqual(
      found,
      [],
      "import cycles (break each by moving what both sides need into a module of its own)",
    );
    assert.deepStrictEqual(gone, [], "KNOWN_SOURCE_CYCLES lists a cycle that is gone: remove it");
  });
});
