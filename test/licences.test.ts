/**
 * What ships with the package is permissive: every runtime dependency the package names is under
 * MIT, ISC, Apache-2.0 or a BSD licence, as its own package.json declares. (Copyleft tools may be
 * devDependencies, for tests only.)
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { projectRoot } from "../offline/plan";

const PERMISSIVE = /^(MIT|ISC|Apache-2\.0|BSD-2-Clause|BSD-3-Clause)$/;

describe("licences of the runtime dependencies", () => {
  const root = projectRoot();
  const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as {
    dependencies: Record<string, string>;
  };

  it("names some runtime dependencies", () => {
    assert.ok(Object.keys(pkg.dependencies).length > 0);
  });

  for (const name of Object.keys(pkg.dependencies)) {
    it(`${name} is under a permissive licence`, () => {
      const manifest = JSON.parse(
        fs.readFileSync(path.join(root, "node_modules", name, "package.json"), "utf8"),
      ) as { license?: string };
      assert.match(String(manifest.license), PERMISSIVE, `${name}: ${String(manifest.license)}`);
    });
  }
});
