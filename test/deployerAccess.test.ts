/**
 * Reaching a private cluster on the first deploy: `llm-infra:eks.deployerAccess: deployerAddress`
 * (the deploy admits its own address while it runs, LLM_INFRA_DEPLOYER_CIDRS), and the
 * reachability check that refuses a private API whose only ways in lie inside the VPC the same
 * deploy creates.
 */
import * as assert from "assert";
import { checkReachability, cidrWithin } from "../checks/reachability";
import { planConfig, readStackFile } from "../offline/plan";
import { ConfigError, DEPLOYER_CIDRS_ENV, deployerCidrsFromEnvironment } from "../programs/config";
import { one } from "./helpers";

type Raw = Record<string, unknown>;

/** dev's stack file with its `llm-infra:eks` section changed. */
function devWithEks(change: (eks: Raw) => void): Raw {
  const raw = readStackFile("dev");
  const eks = { ...(raw["llm-infra:eks"] as Raw) };
  change(eks);
  raw["llm-infra:eks"] = eks;
  return raw;
}

/** Runs `fn` with the deployer CIDRs variable set, restoring the environment after. */
async function withDeployerCidrs<T>(value: string, fn: () => Promise<T>): Promise<T> {
  const before = process.env[DEPLOYER_CIDRS_ENV];
  process.env[DEPLOYER_CIDRS_ENV] = value;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env[DEPLOYER_CIDRS_ENV];
    else process.env[DEPLOYER_CIDRS_ENV] = before;
  }
}

const reachabilityOf = (resources: Parameters<typeof checkReachability>[0]) =>
  checkReachability(resources).map((f) => f.message);

describe("reaching a private cluster on the first deploy", function () {
  this.timeout(120000);

  it("cidrWithin: a CIDR inside, equal to, beside or wider than another", () => {
    assert.strictEqual(cidrWithin("10.0.0.0/16", "10.0.0.0/16"), true);
    assert.strictEqual(cidrWithin("10.0.12.0/24", "10.0.0.0/16"), true);
    assert.strictEqual(cidrWithin("10.1.0.0/24", "10.0.0.0/16"), false);
    assert.strictEqual(cidrWithin("10.0.0.0/8", "10.0.0.0/16"), false);
    assert.strictEqual(cidrWithin("192.168.4.7/32", "192.168.0.0/16"), true);
  });

  it("dev as shipped: private API, tagged for the deploy's own address, nothing public, reachable", async () => {
    const report = await planConfig("dev", readStackFile("dev"));
    const cluster = one(report.resources, "eks:index:Cluster");
    assert.strictEqual(cluster.inputs.endpointPublicAccess, false);
    assert.strictEqual(cluster.inputs.publicAccessCidrs, undefined);
    assert.strictEqual(
      (cluster.inputs.tags as Record<string, string>)["deployer-access"],
      "deployer-address",
    );
    assert.deepStrictEqual(reachabilityOf(report.resources), []);
  });

  it("refuses a private API whose only 443 source is inside the VPC the same deploy creates", async () => {
    const raw = devWithEks((eks) => {
      delete eks.deployerAccess;
      eks.privateAccessCidrs = ["10.0.0.0/16"];
    });
    const report = await planConfig("dev", raw);
    const findings = reachabilityOf(report.resources);
    assert.strictEqual(findings.length, 1, findings.join("\n"));
    assert.match(
      findings[0],
      /admits only 10\.0\.0\.0\/16, inside the VPC this same deploy creates \(10\.0\.0\.0\/16\).*deployerAccess: deployerAddress/,
    );
    // The same finding stops the plan as a mandatory policy.
    assert.ok(
      report.policies.some(
        (p) => p.enforcement === "mandatory" && /inside the VPC this same deploy/.test(p.message),
      ),
    );
  });

  it("passes a 443 source outside the stack's VPC (a VPN range) or an existing runner's security group", async () => {
    for (const change of [
      (eks: Raw) => (eks.privateAccessCidrs = ["192.168.0.0/16"]),
      (eks: Raw) => (eks.privateAccessSecurityGroupIds = ["sg-0123456789abcdef0"]),
      (eks: Raw) => (eks.publicAccessCidrs = ["203.0.113.0/24"]),
    ]) {
      const raw = devWithEks((eks) => {
        delete eks.deployerAccess;
        change(eks);
      });
      const report = await planConfig("dev", raw);
      assert.deepStrictEqual(reachabilityOf(report.resources), [], JSON.stringify(raw));
    }
  });

  it("with no way in at all, the config names the key and the deploy's own option", async () => {
    const raw = devWithEks((eks) => delete eks.deployerAccess);
    await assert.rejects(planConfig("dev", raw), (e: Error) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /llm-infra:eks\.publicAccessCidrs is required/);
      assert.match(e.message, /llm-infra:eks\.deployerAccess: deployerAddress/);
      return true;
    });
  });

  it("during a deploy the cluster's public endpoint admits exactly the deployer's address", async () => {
    const report = await withDeployerCidrs("198.51.100.7/32", () =>
      planConfig("dev", readStackFile("dev")),
    );
    const cluster = one(report.resources, "eks:index:Cluster");
    assert.strictEqual(cluster.inputs.endpointPublicAccess, true);
    assert.strictEqual(cluster.inputs.endpointPrivateAccess, true);
    assert.deepStrictEqual(cluster.inputs.publicAccessCidrs, ["198.51.100.7/32"]);
  });

  it("refuses the deployer's address for a stack that does not ask for it, and a malformed one", async () => {
    const raw = devWithEks((eks) => {
      delete eks.deployerAccess;
      eks.publicAccessCidrs = ["203.0.113.0/24"];
    });
    await assert.rejects(
      withDeployerCidrs("198.51.100.7/32", () => planConfig("dev", raw)),
      /LLM_INFRA_DEPLOYER_CIDRS is set, but llm-infra:eks\.deployerAccess is not deployerAddress/,
    );
    assert.throws(
      () => deployerCidrsFromEnvironment({ [DEPLOYER_CIDRS_ENV]: "198.51.100.7" }),
      /LLM_INFRA_DEPLOYER_CIDRS must be an IPv4 CIDR/,
    );
    assert.throws(
      () => deployerCidrsFromEnvironment({ [DEPLOYER_CIDRS_ENV]: "0.0.0.0/0" }),
      /LLM_INFRA_DEPLOYER_CIDRS must not be 0\.0\.0\.0\/0/,
    );
    assert.deepStrictEqual(
      deployerCidrsFromEnvironment({ [DEPLOYER_CIDRS_ENV]: " 198.51.100.7/32, 203.0.113.0/24 " }),
      ["198.51.100.7/32", "203.0.113.0/24"],
    );
    assert.deepStrictEqual(deployerCidrsFromEnvironment({}), []);
  });
});
