import * as assert from "assert";
import { idleAccelerators } from "../checks/idleAccelerators";
import { planConfig, planStack } from "../offline/plan";

const NEURON_GROUP = {
  name: "neuron",
  instanceTypes: ["inf2.xlarge"],
  minSize: 1,
  desiredSize: 1,
  maxSize: 2,
  workloadType: "neuron-inference",
};
const STACK = {
  "aws:region": "us-east-1",
  "llm-infra:environment": "staging",
  "llm-infra:tags": { team: "ml", costCenter: "1" },
  "llm-infra:eks": {
    privateAccessCidrs: ["10.0.0.0/16"],
    nodeGroups: [
      { name: "gpu", instanceTypes: ["g5.xlarge"], minSize: 1, desiredSize: 1, maxSize: 2 },
      NEURON_GROUP,
    ],
  },
  "llm-infra:triton": { nodeGroup: "gpu" },
};

describe("whole-stack check: idle accelerators", function () {
  this.timeout(120000);

  for (const stack of ["dev", "staging", "prod"]) {
    it(`${stack} has no priced accelerator group that nothing uses`, async () => {
      const report = await planStack(stack);
      assert.deepStrictEqual(idleAccelerators(report.resources), []);
      assert.deepStrictEqual(
        report.policies.filter((p) => p.policy === "accelerators-in-use"),
        [],
      );
    });
  }

  it("flags an Inferentia group no workload selects, in the check and the plan's policies", async () => {
    const report = await planConfig("staging", STACK);
    const expected =
      "neuron-nodes: 1 x inf2.xlarge (Neuron devices) priced in the plan, but no workload selects workload-type=neuron-inference; serve on it (e.g. llm-infra:triton.nodeGroup) or remove it";
    assert.deepStrictEqual(idleAccelerators(report.resources), [
      { check: "idle-accelerators", resource: "neuron-nodes", message: expected },
    ]);
    assert.deepStrictEqual(
      report.policies
        .filter((p) => p.policy === "accelerators-in-use")
        .map((p) => [p.enforcement, p.resource, p.message]),
      [["advisory", "neuron-nodes", expected]],
    );
  });

  it("does not flag a group scaled to zero, or one Triton runs on", async () => {
    const zero = await planConfig("staging", {
      ...STACK,
      "llm-infra:eks": {
        privateAccessCidrs: ["10.0.0.0/16"],
        nodeGroups: [
          { name: "gpu", instanceTypes: ["g5.xlarge"], minSize: 1, desiredSize: 1, maxSize: 2 },
          { ...NEURON_GROUP, minSize: 0, desiredSize: 0 },
        ],
      },
    });
    assert.deepStrictEqual(idleAccelerators(zero.resources), []);
    const served = await planConfig("staging", {
      ...STACK,
      "llm-infra:triton": {
        nodeGroup: "neuron",
        imageFlavour: "neuron",
        imageRepository: "triton",
        imageTag: "n1",
      },
    });
    assert.deepStrictEqual(
      idleAccelerators(served.resources).map((f) => f.resource),
      ["gpu-nodes"],
    );
  });
});
