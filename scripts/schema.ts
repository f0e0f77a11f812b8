/**
 * `npm run schema`: writes schema.json, the package schema that `pulumi package add` generates SDKs
 * from, the way the Node.js language host makes it: the components the package root exports,
 * analyzed from their TypeScript source by ComponentProvider. The npm package carries the file, so
 * `pulumi package gen-sdk` can read it without running the analyzer; test/schema.test.ts holds it
 * to what the analyzer makes from the sources.
 */
import * as fs from "fs";
import * as path from "path";
import { ComponentProvider, getPulumiComponents } from "@pulumi/pulumi/provider/experimental";
import { projectRoot } from "../offline/plan";
import { runMain } from "./cli";

/** The package schema, as the analyzer makes it from the sources under `root`. */
export async function packageSchema(root: string): Promise<string> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const components = getPulumiComponents(require(root));
  const provider = new ComponentProvider({ components, dirname: root, name: "llm-infra" });
  return `${JSON.stringify(JSON.parse(await provider.getSchema()), null, 2)}\n`;
}

export const SCHEMA_FILE = "schema.json";

if (require.main === module)
  runMain("schema", async () => {
    const root = projectRoot();
    fs.writeFileSync(path.join(root, SCHEMA_FILE), await packageSchema(root));
    process.stderr.write(`wrote ${SCHEMA_FILE}\n`);
    return 0;
  });
