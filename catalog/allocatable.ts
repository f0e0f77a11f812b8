/**
 * What the kubelet of an EKS node makes allocatable to pods, per instance type, as the EKS AMIs
 * compute it: node allocatable = capacity - kube-reserved - eviction threshold
 * (https://kubernetes.io/docs/tasks/administer-cluster/reserve-compute-resources/#node-allocatable).
 *
 * - AL2023 (nodeadm): awslabs/amazon-eks-ami@v20260724 nodeadm/internal/kubelet/config.go,
 *   `withDefaultReservedResources`, `getCPUMillicoresToReserve`, `getMemoryMebibytesToReserve`,
 *   and `evictionHard` in `defaultKubeletSubConfig`; max pods from
 *   nodeadm/internal/kubelet/eni_max_pods.go `calculateStandardMaxPods` over
 *   nodeadm/internal/kubelet/instance-info.jsonl. nodeadm sets no system-reserved.
 * - Bottlerocket: bottlerocket-os/bottlerocket-core-kit@v3.1.1 packages/kubernetes-1.31/kubelet-config
 *   (`kubeReserved` from the `kube_reserve_cpu` and `kube_reserve_memory` helpers in
 *   sources/api/schnauzer/src/helpers/mod.rs, which compute the same figures as nodeadm; no
 *   `evictionHard` unless set, so the kubelet's default applies) and max pods from
 *   packages/os/eni-max-pods (read by sources/api/pluto/src/main.rs `get_max_pods`), whose entries
 *   for the catalog's types equal the ENI formula below.
 * - The kubelet's default hard eviction threshold, `memory.available` 100Mi:
 *   kubernetes/kubernetes pkg/kubelet/apis/config/v1beta1/defaults_linux.go `DefaultEvictionHard`.
 *
 * Memory capacity is what the kernel reports, less than the instance's nominal memory (firmware and
 * hypervisor keep some). No table of measured figures covers the catalog's types, so this uses
 * Karpenter's documented estimate: nominal MiB less ceil(7.5 %)
 * (aws/karpenter-provider-aws pkg/providers/instancetype/types.go `memory()`, default
 * `vm-memory-overhead-percent` 0.075 in pkg/operator/options/options.go). Karpenter's measured
 * table (zz_generated.memory_overhead.go) puts g5.xlarge at 589 MiB, below the 1,229 MiB estimated
 * here: the estimate errs on the side of reporting a pod that might fit.
 */
import { InstanceSpec } from "./instances";

/**
 * Network interfaces on the default network card and IPv4 addresses per interface, per EC2
 * instance type: awslabs/amazon-eks-ami@v20260724 nodeadm/internal/kubelet/instance-info.jsonl
 * (`defaultMaxENIs`, `ipv4AddressesPerInterface`, from EC2 DescribeInstanceTypes).
 */
export const ENI_LIMITS: Readonly<Record<string, { enis: number; ipv4PerEni: number }>> = {
  "g5.xlarge": { enis: 4, ipv4PerEni: 15 },
  "g5.2xlarge": { enis: 4, ipv4PerEni: 15 },
  "g5.4xlarge": { enis: 8, ipv4PerEni: 30 },
  "g5.8xlarge": { enis: 8, ipv4PerEni: 30 },
  "g5.12xlarge": { enis: 15, ipv4PerEni: 50 },
  "g5.16xlarge": { enis: 8, ipv4PerEni: 30 },
  "g5.24xlarge": { enis: 15, ipv4PerEni: 50 },
  "g5.48xlarge": { enis: 7, ipv4PerEni: 50 },
  "g6.xlarge": { enis: 4, ipv4PerEni: 15 },
  "g6.2xlarge": { enis: 4, ipv4PerEni: 15 },
  "g6.12xlarge": { enis: 8, ipv4PerEni: 30 },
  "g6.48xlarge": { enis: 15, ipv4PerEni: 50 },
  "g6e.xlarge": { enis: 4, ipv4PerEni: 15 },
  "g6e.2xlarge": { enis: 4, ipv4PerEni: 15 },
  "g6e.12xlarge": { enis: 10, ipv4PerEni: 30 },
  "g6e.48xlarge": { enis: 10, ipv4PerEni: 50 },
  "p4d.24xlarge": { enis: 15, ipv4PerEni: 50 },
  "p4de.24xlarge": { enis: 15, ipv4PerEni: 50 },
  "p5.48xlarge": { enis: 2, ipv4PerEni: 50 },
  "inf2.xlarge": { enis: 4, ipv4PerEni: 15 },
  "inf2.8xlarge": { enis: 8, ipv4PerEni: 30 },
  "inf2.24xlarge": { enis: 15, ipv4PerEni: 50 },
  "inf2.48xlarge": { enis: 15, ipv4PerEni: 50 },
  "trn1.2xlarge": { enis: 4, ipv4PerEni: 15 },
  "trn1.32xlarge": { enis: 5, ipv4PerEni: 50 },
  "t3.medium": { enis: 3, ipv4PerEni: 6 },
  "m5.large": { enis: 3, ipv4PerEni: 10 },
  "m5.xlarge": { enis: 4, ipv4PerEni: 15 },
  "m6i.large": { enis: 3, ipv4PerEni: 10 },
  "m7i.large": { enis: 3, ipv4PerEni: 10 },
  "c5.xlarge": { enis: 4, ipv4PerEni: 15 },
  "c6i.xlarge": { enis: 4, ipv4PerEni: 15 },
};

/** nodeadm's fallback when an instance type is unknown (`defaultMaxPods`, the kubelet's default). */
const DEFAULT_MAX_PODS = 110;

/** `ENIs * (IPv4 per ENI - 1) + 2`: nodeadm's `calculateStandardMaxPods` (and eni-max-pods.txt). */
export function eniMaxPods(instanceType: string): number {
  const limits = ENI_LIMITS[instanceType];
  return limits ? limits.enis * (limits.ipv4PerEni - 1) + 2 : DEFAULT_MAX_PODS;
}

/**
 * The pods a node of a managed node group runs at most: the ENI figure, capped by EKS managed node
 * groups at 110 below 30 vCPUs and 250 from 30 vCPUs up (EKS user guide, "Assign more IP addresses
 * to Amazon EKS nodes with prefixes": "Managed node groups enforces a maximum number on the value of
 * maxPods"; awsdocs/amazon-eks-user-guide#663).
 */
export function managedNodeGroupMaxPods(spec: InstanceSpec): number {
  return Math.min(eniMaxPods(spec.instanceType), spec.vcpus < 30 ? 110 : 250);
}

/**
 * kube-reserved CPU in millicores: 6 % of the first core, 1 % of the second, 0.5 % of the third and
 * fourth, 0.25 % of every core above four, each range truncated to whole millicores (nodeadm
 * `getCPUMillicoresToReserve`; Bottlerocket's `kube_cpu_helper` gives the same figures).
 */
export function kubeReservedCpuMillis(vcpus: number): number {
  const total = vcpus * 1000;
  const ranges: [number, number, number][] = [
    [0, 1000, 600],
    [1000, 2000, 100],
    [2000, 4000, 50],
    [4000, total, 25],
  ];
  let reserved = 0;
  for (const [start, end, basisPoints] of ranges) {
    if (total <= start) continue;
    reserved += Math.trunc(((Math.min(total, end) - start) * basisPoints) / 10000);
  }
  return reserved;
}

/** kube-reserved memory in MiB: `11 * maxPods + 255` (nodeadm and Bottlerocket alike). */
export function kubeReservedMemoryMib(maxPods: number): number {
  return 11 * maxPods + 255;
}

/** The hard eviction threshold `memory.available` in MiB (nodeadm's and the kubelet's default). */
export const EVICTION_HARD_MEMORY_MIB = 100;

/** Karpenter's default VM memory overhead (see the module comment). */
export const VM_MEMORY_OVERHEAD_PERCENT = 0.075;

/** The memory the kernel reports, estimated: nominal MiB less ceil(7.5 %). */
export function reportedMemoryMib(nominalMib: number): number {
  return nominalMib - Math.ceil(nominalMib * VM_MEMORY_OVERHEAD_PERCENT);
}

/** A node's allocatable resources, and what was taken from its capacity to get there. */
export interface NodeAllocatable {
  cpuMillis: number;
  memoryMib: number;
  pods: number;
  capacity: { cpuMillis: number; memoryMib: number };
  kubeReserved: { cpuMillis: number; memoryMib: number };
  evictionMemoryMib: number;
}

/**
 * Allocatable CPU, memory and pods of an EKS managed node of this instance type (AL2023 and
 * Bottlerocket compute the same figures). kube-reserved memory follows the ENI max pods, as nodeadm
 * computes it before any maxPods override reaches the kubelet (on Bottlerocket a lower max-pods
 * setting lowers it: the ENI figure reserves the most); the pod count is the capped one.
 */
export function nodeAllocatable(spec: InstanceSpec): NodeAllocatable {
  const capacity = { cpuMillis: spec.vcpus * 1000, memoryMib: reportedMemoryMib(spec.memoryMib) };
  const kubeReserved = {
    cpuMillis: kubeReservedCpuMillis(spec.vcpus),
    memoryMib: kubeReservedMemoryMib(eniMaxPods(spec.instanceType)),
  };
  return {
    cpuMillis: capacity.cpuMillis - kubeReserved.cpuMillis,
    memoryMib: capacity.memoryMib - kubeReserved.memoryMib - EVICTION_HARD_MEMORY_MIB,
    pods: managedNodeGroupMaxPods(spec),
    capacity,
    kubeReserved,
    evictionMemoryMib: EVICTION_HARD_MEMORY_MIB,
  };
}
