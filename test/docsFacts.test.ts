/**
 * The docs say what the code does: every flag a command's --help lists is documented, and the
 * counted facts the docs state (the components of the schema, one section per component) are
 * counted from the code.
 */
import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import * as pulumi from "@pulumi/pulumi";
import * as components from "../components";
import { projectRoot } from "../offline/plan";
import { markdownFiles } from "./helpers";

const run = promisify(execFile);
const ROOT = projectRoot();

/** README.md and every page under docs/, as one text. */
function docs(): string {
  return markdownFiles()
    .map((f) => fs.readFileSync(path.join(ROOT, f), "utf8"))
    .join("\n");
}

/** The long flags a help text lists, but --help itself. */
export function flagsOf(help: string): string[] {
  return [...new Set([...help.matchAll(/(?<![\w-])--[a-z][a-z-]*/g)].map((m) => m[0]))]
    .filter((f) => f !== "--help")
    .sort();
}

/** Each command and the arguments that print its help. */
const COMMANDS: [string, string[]][] = [
  ["plan", ["--help"]],
  ["llmInfra", ["plan", "--help"]],
  ["preflight", ["--help"]],
  ["deploy", ["--help"]],
  ["invoke", ["--help"]],
  ["model", ["init", "--help"]],
  ["model", ["check", "--help"]],
  ["model", ["push", "--help"]],
];

/** The package's component classes: what it exports that is a ComponentResource. */
export function componentClasses(exports: Record<string, unknown>): string[] {
  return Object.entries(exports)
    .filter(([, v]) => typeof v === "function" && v.prototype instanceof pulumi.ComponentResource)
    .map(([k]) => k)
    .sort();
}

describe("docs held to the code", function () {
  this.timeout(120_000);

  it("reads the long flags of a help text, not --help nor words with dashes", () => {
    assert.deepStrictEqual(
      flagsOf("  --cwd <dir>  the project's (see --json)\n  -h, --help  x\n  re--entry a-b--c"),
      ["--cwd", "--json"],
    );
  });

  it("documents every flag of every command's --help", async () => {
    const text = docs();
    const missing: string[] = [];
    let seen = 0;
    await Promise.all(
      COMMANDS.map(async ([script, args]) => {
        const { stdout } = await run(process.execPath, [
          path.join(ROOT, "dist", "scripts", `${script}.js`),
          ...args,
        ]);
        const flags = flagsOf(stdout);
        seen += flags.length;
        for (const flag of flags)
          if (!new RegExp(`${flag}(?![a-z-])`).test(text))
            missing.push(`${script} ${args.slice(0, -1).join(" ")} ${flag}`.replace(/ +/g, " "));
      }),
    );
    assert.ok(seen >= 30, `flags read from the help texts: ${seen}`);
    assert.deepStrictEqual(missing, [], "flags no page of the docs mentions");
  });

  it("counts the components in docs/other-languages.md and gives each a section in docs/components.md", () => {
    const classes = componentClasses(components as unknown as Record<string, unknown>);
    assert.ok(classes.includes("SageMakerEndpoint") && classes.includes("TritonFleet"));
    const languages = fs.readFileSync(path.join(ROOT, "docs", "other-languages.md"), "utf8");
    assert.match(languages, new RegExp(`The schema has the ${classes.length} components`));
    const headings = fs
      .readFileSync(path.join(ROOT, "docs", "components.md"), "utf8")
      .split("\n")
      .filter((l) => l.startsWith("## "))
      .join("\n");
    for (const c of classes)
      assert.match(headings, new RegExp(`\\b${c}\\b`), `docs/components.md has a section for ${c}`);
  });
});
