/**
 * The README and docs/ hold together: every relative link (and its #anchor) resolves, every docs
 * page is reachable from the README, and the README's library example and the components' examples
 * run as written.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";
import { projectRoot } from "../offline/plan";
import { markdownFiles, one, resourcesOf } from "./helpers";

const ROOT = projectRoot();
const DOCS = path.join(ROOT, "docs");

/** The text outside fenced code blocks and inline code spans. */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, "").replace(/`[^`\n]*`/g, "");
}

/** The targets of the inline links `[text](target)` of a markdown text, outside code. */
export function linkTargets(markdown: string): string[] {
  return [...prose(markdown).matchAll(/\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1]);
}

/** GitHub's anchors for the headings of a markdown text (lower case, punctuation dropped, -n for repeats). */
export function headingAnchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const line of markdown.replace(/^```[\s\S]*?^```/gm, "").split("\n")) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const slug = heading[1]
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, "")
      .replace(/ /g, "-");
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

/** The relative links of `file` (a path under `root`) whose file or anchor does not exist. */
export function brokenLinks(root: string, file: string, markdown: string): string[] {
  const broken: string[] = [];
  for (const target of linkTargets(markdown)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
    const [relative, anchor] = target.split("#", 2);
    const resolved = relative
      ? path.resolve(root, path.dirname(file), relative)
      : path.join(root, file);
    if (!fs.existsSync(resolved)) {
      broken.push(`${file}: ${target} (no file ${path.relative(root, resolved)})`);
      continue;
    }
    if (anchor !== undefined && resolved.endsWith(".md")) {
      const anchors = headingAnchors(fs.readFileSync(resolved, "utf8"));
      if (!anchors.has(anchor)) broken.push(`${file}: ${target} (no heading #${anchor})`);
    }
  }
  return broken;
}

describe("README and docs/", () => {
  it("every relative link of README.md and docs/*.md names an existing file and heading", () => {
    const files = markdownFiles();
    assert.ok(files.length >= 10, files.join(", "));
    let links = 0;
    const broken = files.flatMap((file) => {
      const text = fs.readFileSync(path.join(ROOT, file), "utf8");
      links += linkTargets(text).length;
      return brokenLinks(ROOT, file, text);
    });
    assert.deepStrictEqual(broken, []);
    assert.ok(links >= 30, `only ${links} links found`);
  });

  it("the link check reports a missing file and a missing heading, and skips code", () => {
    const text = [
      "[ok](docs/cost.md#why-dev-idles-at-14842) [gone](docs/nothing.md)",
      "[bad anchor](docs/cost.md#no-such-heading) [web](https://example.com/x.md)",
      "`[in code](docs/nothing.md)`",
      "```",
      "[in a block](docs/nothing.md)",
      "```",
    ].join("\n");
    assert.deepStrictEqual(brokenLinks(ROOT, "README.md", text), [
      "README.md: docs/nothing.md (no file docs/nothing.md)",
      "README.md: docs/cost.md#no-such-heading (no heading #no-such-heading)",
    ]);
    assert.deepStrictEqual(
      [...headingAnchors("# Serve your model: from `init` to `invoke`\n## A\n## A\n")],
      ["serve-your-model-from-init-to-invoke", "a", "a-1"],
    );
  });

  it("the README and docs/README.md link every docs page", () => {
    const pages = markdownFiles().filter((f) => f !== "README.md");
    const readme = new Set(
      linkTargets(fs.readFileSync(path.join(ROOT, "README.md"), "utf8")).map(
        (t) => t.split("#")[0],
      ),
    );
    const index = new Set(
      linkTargets(fs.readFileSync(path.join(DOCS, "README.md"), "utf8")).map((t) =>
        path.join("docs", t.split("#")[0]),
      ),
    );
    for (const page of pages) {
      assert.ok(readme.has(page.split(path.sep).join("/")), `README.md links ${page}`);
      if (page !== path.join("docs", "README.md"))
        assert.ok(index.has(page), `docs/README.md links ${page}`);
    }
  });

  it("the README's component-library example registers a SageMaker endpoint as written", async () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("### As a component library"));
    const example = /```ts\n([\s\S]*?)```/.exec(section);
    assert.ok(example, "the section has a TypeScript example");
    assert.match(example[1], /from "llm-infra";/);
    assert.strictEqual(
      example[1],
      fs.readFileSync(path.join(ROOT, "examples", "chat", "index.ts"), "utf8"),
      "the README shows examples/chat/index.ts, the program test/package.test.ts installs and plans",
    );
    const js = ts.transpileModule(example[1], {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    const exported: Record<string, unknown> = {};
    const requireShim = (id: string): unknown => {
      assert.strictEqual(id, "llm-infra", "the example imports only the package");
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return require("../components");
    };
    const resources = await resourcesOf(() => {
      new Function("require", "exports", js)(requireShim, exported);
    });
    one(resources, "llm-infra:index:SageMakerEndpoint", "chat");
    one(resources, "aws:sagemaker/endpoint:Endpoint");
    const config = one(resources, "aws:sagemaker/endpointConfiguration:EndpointConfiguration");
    const variants = config.inputs.productionVariants as { instanceType: string }[];
    assert.deepStrictEqual(
      variants.map((v) => v.instanceType),
      ["ml.g5.xlarge"],
    );
    assert.ok("endpointName" in exported, "the example exports endpointName");
  });

  it("docs/components.md's examples, run in order as one program, create every component they show", async () => {
    const page = fs.readFileSync(path.join(DOCS, "components.md"), "utf8");
    const blocks = [...page.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
    assert.ok(blocks.length >= 8, `${blocks.length} examples`);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const components = require("../components") as Record<string, unknown>;
    const js = ts.transpileModule(blocks.join("\n"), {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    const names = Object.keys(components);
    const resources = await resourcesOf(() => {
      new Function(...names, js)(...names.map((n) => components[n]));
    });
    const created = new Set(
      resources
        .filter((r) => r.type.startsWith("llm-infra:index:"))
        .map((r) => `${r.type} ${r.name}`),
    );
    // The Auto Mode example's pool is on an Auto Mode node class.
    assert.ok(
      resources.some(
        (r) =>
          r.type === "kubernetes:eks.amazonaws.com/v1:NodeClass" && r.name === "auto-gpu-class",
      ),
    );
    for (const component of [
      "InferenceVpc network",
      "ModelRegistry registry",
      "ModelStore models",
      "ModelWeights model-weights",
      "SageMakerEndpoint chat",
      "GpuCluster eks",
      "AcceleratorNodeGroup gpu",
      "ClusterAddons addons",
      "Karpenter karpenter",
      "GpuNodePool gpu-pool",
      "GpuCluster auto",
      "GpuNodePool auto-gpu",
      "TritonRelease triton",
      "TritonLoadBalancer triton-lb",
      "TritonFleet fleet",
      "InferenceApi api",
    ])
      assert.ok(created.has(`llm-infra:index:${component}`), `the examples create ${component}`);
  });
});
