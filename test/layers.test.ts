/**
 * The folders are layers, and no import runs upward: the catalog (facts and prices) at the bottom,
 * then the components, the whole-stack checks, the policy pack, this package's stack programs, the
 * offline plan engine that runs any program and evaluates the pack, and at the top the deploy's
 * automation and the command-line scripts. A reader finds the engine in offline/ alone, and a
 * check or a policy never depends on the engine that runs it (docs/development.md, "Layout").
 *
 * modelRepository/ serves several layers (the weights marker in a component, the push in the
 * deploy): each of its files sits as high as the highest layer it imports, and the rule holds for
 * it as for the rest.
 */
import * as assert from "assert";
import { ImportGraph, importGraph } from "./importGraph";
import { projectRoot } from "../offline/plan";

/** Bottom to top. */
export const LAYERS = [
  "catalog",
  "client",
  "components",
  "checks",
  "policy",
  "programs",
  "offline",
  "automation",
  "scripts",
];

/** Each file's layer: its folder's, or for a file of an unlayered folder, the highest it imports. */
export function layersOf(graph: ImportGraph): Map<string, number> {
  const layer = new Map<string, number>();
  const visit = (file: string, path: string[] = []): number => {
    const known = layer.get(file);
    if (known !== undefined) return known;
    const own = LAYERS.indexOf(file.split("/")[0]);
    if (own >= 0) {
      layer.set(file, own);
      return own;
    }
    if (path.includes(file)) return -1;
    const highest = Math.max(-1, ...(graph.get(file) ?? []).map((t) => visit(t, [...path, file])));
    layer.set(file, highest);
    return highest;
  };
  for (const file of graph.keys()) visit(file);
  return layer;
}

/** Every import from a lower layer to a higher one, as "importer -> imported". */
export function upwardImports(graph: ImportGraph): string[] {
  const layer = layersOf(graph);
  const up: string[] = [];
  for (const [file, targets] of graph)
    for (const t of targets)
      if ((layer.get(t) ?? -1) > (layer.get(file) ?? -1))
        up.push(
          `${file} (${LAYERS[layer.get(file) ?? -1] ?? "no layer"}) -> ${t} (${LAYERS[layer.get(t) ?? -1]})`,
        );
  return up;
}

describe("layers: no import runs upward", () => {
  it("finds an upward import, also through a file of an unlayered folder", () => {
    const graph: ImportGraph = new Map([
      ["catalog/prices.ts", []],
      ["checks/scheduling.ts", ["offline/engine.ts", "catalog/prices.ts"]],
      ["offline/engine.ts", []],
      ["modelRepository/targets.ts", ["programs/config.ts"]],
      ["programs/config.ts", []],
      ["components/modelWeights.ts", ["modelRepository/targets.ts"]],
      ["components/tags.ts", ["modelRepository/leaf.ts"]],
      ["modelRepository/leaf.ts", []],
    ]);
    assert.deepStrictEqual(upwardImports(graph).sort(), [
      "checks/scheduling.ts (checks) -> offline/engine.ts (offline)",
      "components/modelWeights.ts (components) -> modelRepository/targets.ts (programs)",
    ]);
  });

  it("holds for the package's TypeScript sources", () => {
    const graph = importGraph(projectRoot(), ".ts", ["dist", "test", "examples"]);
    assert.ok(graph.has("checks/scheduling.ts") && graph.has("offline/program.ts"));
    assert.deepStrictEqual(upwardImports(graph), []);
  });
});
