/**
 * Node allocatable as the EKS AMIs compute it (catalog/allocatable.ts), against figures worked by
 * hand from the cited formulas.
 */
import * as assert from "assert";
import * as fc from "fast-check";
import {
  ENI_LIMITS,
  eniMaxPods,
  kubeReservedCpuMillis,
  kubeReservedMemoryMib,
  nodeAllocatable,
  reportedMemoryMib,
} from "../catalog/allocatable";
import { getInstance, INSTANCE_SPECS } from "../catalog/instances";

describe("node allocatable", () => {
  it("has ENI limits for every EC2 instance type of the catalog", () => {
    assert.deepStrictEqual(
      Object.keys(INSTANCE_SPECS).filter((t) => !(t in ENI_LIMITS)),
      [],
    );
  });

  it("g5.xlarge: 3920m CPU, 14162 MiB, 58 pods", () => {
    // max pods 4 ENIs * (15 - 1) + 2 = 58; kube-reserved 11 * 58 + 255 = 893 MiB and
    // 60 + 10 + 10 = 80m (6 % of core 1, 1 % of core 2, 0.5 % of cores 3-4); memory the kernel
    // sees 16384 - ceil(16384 * 0.075) = 16384 - 1229 = 15155 MiB; 15155 - 893 - 100 = 14162.
    assert.strictEqual(eniMaxPods("g5.xlarge"), 58);
    assert.strictEqual(kubeReservedMemoryMib(58), 893);
    assert.strictEqual(reportedMemoryMib(16384), 15155);
    assert.deepStrictEqual(nodeAllocatable(getInstance("g5.xlarge")), {
      cpuMillis: 3920,
      memoryMib: 14162,
      pods: 58,
      capacity: { cpuMillis: 4000, memoryMib: 15155 },
      kubeReserved: { cpuMillis: 80, memoryMib: 893 },
      evictionMemoryMib: 100,
    });
  });

  it("t3.medium: 1930m CPU, 3246 MiB, 17 pods", () => {
    // 3 * (6 - 1) + 2 = 17 pods; 11 * 17 + 255 = 442 MiB; 60 + 10 = 70m;
    // 4096 - ceil(307.2) = 3788 MiB; 3788 - 442 - 100 = 3246.
    const a = nodeAllocatable(getInstance("t3.medium"));
    assert.deepStrictEqual([a.cpuMillis, a.memoryMib, a.pods], [1930, 3246, 17]);
  });

  it("g5.12xlarge: pods capped at 250 by managed node groups, memory reserved for 737", () => {
    // 15 * (50 - 1) + 2 = 737 ENI pods, capped at 250 (48 vCPUs >= 30); kube-reserved memory
    // 11 * 737 + 255 = 8362 MiB; CPU 80 + 44 cores * 2.5m = 190m; 196608 - ceil(14745.6) = 181862;
    // 181862 - 8362 - 100 = 173400.
    const a = nodeAllocatable(getInstance("g5.12xlarge"));
    assert.deepStrictEqual([a.cpuMillis, a.memoryMib, a.pods], [47810, 173400, 250]);
    // g5.4xlarge: 234 ENI pods, 16 vCPUs, capped at 110.
    assert.strictEqual(nodeAllocatable(getInstance("g5.4xlarge")).pods, 110);
  });

  it("reserves CPU per core range, truncating each range to whole millicores", () => {
    // 1 core 60m; 2: +10; 3: +5; 4: +5; 5: 80 + 2.5 truncated = 82; 96: 80 + 92 * 2.5 = 310.
    assert.deepStrictEqual(
      [1, 2, 3, 4, 5, 96].map(kubeReservedCpuMillis),
      [60, 70, 75, 80, 82, 310],
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 448 }), (cores) => {
        const r = kubeReservedCpuMillis(cores);
        return r >= kubeReservedCpuMillis(cores - 1) && r < cores * 1000;
      }),
    );
  });

  it("leaves every catalog type less allocatable than its nominal size", () => {
    for (const spec of Object.values(INSTANCE_SPECS)) {
      const a = nodeAllocatable(spec);
      assert.ok(a.cpuMillis < spec.vcpus * 1000, spec.instanceType);
      assert.ok(a.memoryMib < spec.memoryMib * 0.925, spec.instanceType);
      assert.ok(a.pods >= 17, spec.instanceType);
    }
  });
});
