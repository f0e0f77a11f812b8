/**
 * EC2 instance specifications for inference, as the EC2 DescribeInstanceTypes API reports them.
 *
 * Accelerator memory is `GpuInfo.Gpus[].MemoryInfo.SizeInMiB` (NVIDIA) or
 * `NeuronInfo.NeuronDevices[].MemoryInfo.SizeInMiB` (Inferentia, Trainium): the usable memory the
 * API reports, not the marketed figure (an A10G is 22,888 MiB, not 24 GB).
 *
 * Sources, read 2026-11-27:
 * - DescribeInstanceTypes output as embedded in aws/karpenter-provider-aws
 *   (pkg/fake/zz_generated.describe_instance_types.go) for inf2 and trn1;
 * - the EC2 accelerated-computing specification pages and the Capacity Blocks page for p4d, p5 and
 *   trn1 vCPUs, memory and NVMe;
 * - `unverified` marks figures we could not read from an API-shaped source here (they are the
 *   best-known values and are listed in docs/verification.md).
 */

/** The accelerator chip on an instance. */
export const AcceleratorModel = {
  A10G: "A10G",
  L4: "L4",
  L40S: "L40S",
  A100_40GB: "A100-40GB",
  A100_80GB: "A100-80GB",
  H100: "H100",
  Inferentia2: "Inferentia2",
  Trainium: "Trainium",
} as const;
export type AcceleratorModel = (typeof AcceleratorModel)[keyof typeof AcceleratorModel];

/** NVIDIA GPUs or AWS Neuron devices (Inferentia, Trainium). */
export type AcceleratorKind = "nvidia" | "neuron";

/** The Kubernetes extended resource a device plugin advertises for the accelerator. */
export type KubernetesAcceleratorResource = "nvidia.com/gpu" | "aws.amazon.com/neuron";

/** EKS managed node group AMI types (the `amiType` values the EKS API accepts). */
export type EksAmiType =
  | "AL2023_x86_64_STANDARD"
  | "AL2023_x86_64_NVIDIA"
  | "AL2023_x86_64_NEURON"
  | "BOTTLEROCKET_x86_64"
  | "BOTTLEROCKET_x86_64_NVIDIA";

export interface AcceleratorSpec {
  model: AcceleratorModel;
  kind: AcceleratorKind;
  /** Devices per instance (GPUs, or Neuron devices). */
  count: number;
  /** Memory per device in MiB, as DescribeInstanceTypes reports it. */
  memoryMibPerDevice: number;
}

export interface InstanceSpec {
  instanceType: string;
  family: string;
  vcpus: number;
  memoryMib: number;
  accelerator?: AcceleratorSpec;
  /** Local NVMe instance storage in GB (0 when the instance is EBS-only). */
  nvmeGb: number;
  /** The EKS AMI type for a managed node group of this instance type. */
  eksAmiType: EksAmiType;
  /** Figures not read from an API-shaped source (see the module comment). */
  unverified?: string;
}

const NVIDIA_AMI: EksAmiType = "AL2023_x86_64_NVIDIA";
const NEURON_AMI: EksAmiType = "AL2023_x86_64_NEURON";
const STANDARD_AMI: EksAmiType = "AL2023_x86_64_STANDARD";

function gpu(
  instanceType: string,
  vcpus: number,
  memoryGib: number,
  model: AcceleratorModel,
  count: number,
  memoryMibPerDevice: number,
  nvmeGb: number,
  unverified?: string,
): InstanceSpec {
  return {
    instanceType,
    family: instanceType.split(".")[0],
    vcpus,
    memoryMib: memoryGib * 1024,
    accelerator: { model, kind: "nvidia", count, memoryMibPerDevice },
    nvmeGb,
    eksAmiType: NVIDIA_AMI,
    unverified,
  };
}

function neuron(
  instanceType: string,
  vcpus: number,
  memoryGib: number,
  model: AcceleratorModel,
  count: number,
  nvmeGb: number,
  unverified?: string,
): InstanceSpec {
  return {
    instanceType,
    family: instanceType.split(".")[0],
    vcpus,
    memoryMib: memoryGib * 1024,
    accelerator: { model, kind: "neuron", count, memoryMibPerDevice: 32768 },
    nvmeGb,
    eksAmiType: NEURON_AMI,
    unverified,
  };
}

function cpu(instanceType: string, vcpus: number, memoryGib: number): InstanceSpec {
  return {
    instanceType,
    family: instanceType.split(".")[0],
    vcpus,
    memoryMib: memoryGib * 1024,
    nvmeGb: 0,
    eksAmiType: STANDARD_AMI,
  };
}

const A10G = 22888;
const L4 = 22888;
const L40S = 45776;
const NVME_SIZES = "NVMe size";

const SPECS: InstanceSpec[] = [
  gpu("g5.xlarge", 4, 16, "A10G", 1, A10G, 250, NVME_SIZES),
  gpu("g5.2xlarge", 8, 32, "A10G", 1, A10G, 450, NVME_SIZES),
  gpu("g5.4xlarge", 16, 64, "A10G", 1, A10G, 600, NVME_SIZES),
  gpu("g5.8xlarge", 32, 128, "A10G", 1, A10G, 900, NVME_SIZES),
  gpu("g5.12xlarge", 48, 192, "A10G", 4, A10G, 3800, NVME_SIZES),
  gpu("g5.16xlarge", 64, 256, "A10G", 1, A10G, 1900, NVME_SIZES),
  gpu("g5.24xlarge", 96, 384, "A10G", 4, A10G, 3800, NVME_SIZES),
  gpu("g5.48xlarge", 192, 768, "A10G", 8, A10G, 7600, NVME_SIZES),
  gpu("g6.xlarge", 4, 16, "L4", 1, L4, 250, NVME_SIZES),
  gpu("g6.2xlarge", 8, 32, "L4", 1, L4, 450, NVME_SIZES),
  gpu("g6.12xlarge", 48, 192, "L4", 4, L4, 3760, NVME_SIZES),
  gpu("g6.48xlarge", 192, 768, "L4", 8, L4, 7520, NVME_SIZES),
  gpu("g6e.xlarge", 4, 32, "L40S", 1, L40S, 250, "L40S MiB, NVMe size"),
  gpu("g6e.2xlarge", 8, 64, "L40S", 1, L40S, 450, "L40S MiB, NVMe size"),
  gpu("g6e.12xlarge", 48, 384, "L40S", 4, L40S, 3800, "L40S MiB, NVMe size"),
  gpu("g6e.48xlarge", 192, 1536, "L40S", 8, L40S, 7600, "L40S MiB, NVMe size"),
  gpu("p4d.24xlarge", 96, 1152, "A100-40GB", 8, 40960, 8000, "A100 MiB"),
  gpu("p4de.24xlarge", 96, 1152, "A100-80GB", 8, 81920, 8000, "A100 MiB"),
  gpu("p5.48xlarge", 192, 2048, "H100", 8, 81920, 30400, "NVMe total"),
  neuron("inf2.xlarge", 4, 16, "Inferentia2", 1, 0),
  neuron("inf2.8xlarge", 32, 128, "Inferentia2", 1, 0, "vCPUs and memory"),
  neuron("inf2.24xlarge", 96, 384, "Inferentia2", 6, 0),
  neuron("inf2.48xlarge", 192, 768, "Inferentia2", 12, 0, "vCPUs and memory"),
  neuron("trn1.2xlarge", 8, 32, "Trainium", 1, 474),
  neuron("trn1.32xlarge", 128, 512, "Trainium", 16, 7600, "device count"),
  // General-purpose types for system node groups and CPU-only endpoints.
  cpu("t3.medium", 2, 4),
  cpu("m5.large", 2, 8),
  cpu("m5.xlarge", 4, 16),
  cpu("m6i.large", 2, 8),
  cpu("m7i.large", 2, 8),
  cpu("c5.xlarge", 4, 8),
  cpu("c6i.xlarge", 4, 8),
];

/** Every instance type the catalog knows, keyed by EC2 instance type (`g5.2xlarge`). */
export const INSTANCE_SPECS: Readonly<Record<string, InstanceSpec>> = Object.freeze(
  Object.fromEntries(SPECS.map((s) => [s.instanceType, s])),
);

/** SageMaker hosting names instance types with an `ml.` prefix; EC2 does not. */
export function toEc2InstanceType(instanceType: string): string {
  return instanceType.startsWith("ml.") ? instanceType.slice(3) : instanceType;
}

/** The spec of an EC2 (`g5.2xlarge`) or SageMaker (`ml.g5.2xlarge`) instance type, if known. */
export function findInstance(instanceType: string): InstanceSpec | undefined {
  return INSTANCE_SPECS[toEc2InstanceType(instanceType)];
}

/** Like {@link findInstance}, but throws an error that lists the known types. */
export function getInstance(instanceType: string): InstanceSpec {
  const spec = findInstance(instanceType);
  if (!spec) {
    throw new Error(
      `unknown instance type ${JSON.stringify(instanceType)}; the catalog knows ${knownInstanceTypes().join(", ")}`,
    );
  }
  return spec;
}

export function knownInstanceTypes(): string[] {
  return Object.keys(INSTANCE_SPECS);
}

/** The Kubernetes extended resource that schedules onto this instance's accelerators. */
export function kubernetesResourceFor(
  spec: InstanceSpec,
): KubernetesAcceleratorResource | undefined {
  if (!spec.accelerator) return undefined;
  return spec.accelerator.kind === "nvidia" ? "nvidia.com/gpu" : "aws.amazon.com/neuron";
}

/** Total accelerator memory of the instance in MiB (0 without accelerators). */
export function totalAcceleratorMemoryMib(spec: InstanceSpec): number {
  return spec.accelerator ? spec.accelerator.count * spec.accelerator.memoryMibPerDevice : 0;
}
