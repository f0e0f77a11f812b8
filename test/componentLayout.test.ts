/**
 * Components read as the list of what they create: each constructor validates, calls named steps
 * (`createModel`, `createEndpointConfiguration`, ...) and sets its outputs, and the steps hold the
 * resources' arguments. A constructor that grows past a screen is split again.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ts from "typescript";
import { projectRoot } from "../offline/plan";

/** The most lines a component's constructor may take. */
const MAX_CONSTRUCTOR_LINES = 60;

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [p] : [];
  });
}

/** Each class extending `pulumi.ComponentResource` in `file`, with its constructor's line count. */
export function componentConstructors(file: string): { component: string; lines: number }[] {
  const source = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.Latest);
  const found: { component: string; lines: number }[] = [];
  for (const statement of source.statements) {
    if (!ts.isClassDeclaration(statement) || !statement.name) continue;
    const extendsComponent = statement.heritageClauses?.some((h) =>
      h.types.some((t) => t.expression.getText(source).endsWith("ComponentResource")),
    );
    if (!extendsComponent) continue;
    const ctor = statement.members.find(ts.isConstructorDeclaration);
    if (!ctor?.body) continue;
    const line = (pos: number) => source.getLineAndCharacterOfPosition(pos).line;
    found.push({
      component: statement.name.text,
      lines: line(ctor.end) - line(ctor.getStart(source)) + 1,
    });
  }
  return found;
}

describe("components: constructors read as the list of what they create", () => {
  const root = projectRoot();
  const constructors = tsFiles(path.join(root, "components")).flatMap((f) =>
    componentConstructors(f).map((c) => ({ ...c, file: path.relative(root, f) })),
  );

  it("finds every component (the published ones and the ones they build on)", () => {
    const names = constructors.map((c) => c.component);
    for (const expected of ["SageMakerEndpoint", "GpuCluster", "ClusterAddons", "InferenceApi"])
      assert.ok(names.includes(expected), `${expected} not found among ${names.join(", ")}`);
    assert.ok(constructors.length >= 15, `only ${constructors.length} components found`);
  });

  it(`keeps every constructor within ${MAX_CONSTRUCTOR_LINES} lines`, () => {
    const long = constructors
      .filter((c) => c.lines > MAX_CONSTRUCTOR_LINES)
      .map((c) => `${c.component} (${c.file}): ${c.lines} lines`);
    assert.deepStrictEqual(long, [], "split these constructors into named steps");
  });

  it("measures a constructor from its first line to its last", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "component-layout-"));
    const file = path.join(dir, "sample.ts");
    fs.writeFileSync(
      file,
      [
        "class Other {}",
        "export class Sample extends pulumi.ComponentResource {",
        "  constructor() {",
        "    super();",
        "  }",
        "}",
      ].join("\n"),
    );
    try {
      assert.deepStrictEqual(componentConstructors(file), [{ component: "Sample", lines: 3 }]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
