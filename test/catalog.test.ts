import * as assert from "assert";
import {
  EC2_ON_DEMAND,
  INSTANCE_SPECS,
  SAGEMAKER_HOSTING,
  SERVING_IMAGES,
  UNIT_PRICES,
  ec2HourlyUsd,
  findInstance,
  getInstance,
  kubernetesResourceFor,
  sagemakerHourlyUsd,
  servingImageUri,
  totalAcceleratorMemoryMib,
  unitPrices,
} from "../catalog";
import { assertThrowsWith } from "./helpers";

const REQUIRED_TYPES = [
  ...[
    "xlarge",
    "2xlarge",
    "4xlarge",
    "8xlarge",
    "12xlarge",
    "16xlarge",
    "24xlarge",
    "48xlarge",
  ].map((s) => `g5.${s}`),
  ...["xlarge", "2xlarge", "12xlarge", "48xlarge"].map((s) => `g6.${s}`),
  ...["xlarge", "2xlarge", "12xlarge", "48xlarge"].map((s) => `g6e.${s}`),
  "p4d.24xlarge",
  "p4de.24xlarge",
  "p5.48xlarge",
  ...["xlarge", "8xlarge", "24xlarge", "48xlarge"].map((s) => `inf2.${s}`),
  "trn1.2xlarge",
  "trn1.32xlarge",
];

describe("catalog: instance specs", () => {
  it("knows every inference instance type the platform supports", () => {
    for (const t of REQUIRED_TYPES)
      assert.ok(INSTANCE_SPECS[t]?.accelerator, `${t} missing or without accelerator`);
  });

  it("reports accelerator memory as the EC2 API does, not the marketed size", () => {
    const g5 = getInstance("g5.2xlarge");
    assert.deepStrictEqual(g5.accelerator, {
      model: "A10G",
      kind: "nvidia",
      count: 1,
      memoryMibPerDevice: 22888,
    });
    assert.strictEqual(getInstance("g6.xlarge").accelerator?.memoryMibPerDevice, 22888);
    assert.strictEqual(getInstance("p5.48xlarge").accelerator?.memoryMibPerDevice, 81920);
    assert.strictEqual(getInstance("inf2.xlarge").accelerator?.memoryMibPerDevice, 32768);
  });

  it("has the published device counts, vCPUs and memory", () => {
    const expect: Record<string, [number, number, number]> = {
      "g5.12xlarge": [4, 48, 192],
      "g5.48xlarge": [8, 192, 768],
      "g6e.48xlarge": [8, 192, 1536],
      "p4d.24xlarge": [8, 96, 1152],
      "inf2.24xlarge": [6, 96, 384],
      "inf2.48xlarge": [12, 192, 768],
      "trn1.32xlarge": [16, 128, 512],
    };
    for (const [t, [devices, vcpus, memGib]] of Object.entries(expect)) {
      const s = getInstance(t);
      assert.deepStrictEqual(
        [s.accelerator?.count, s.vcpus, s.memoryMib / 1024],
        [devices, vcpus, memGib],
        t,
      );
    }
    assert.strictEqual(totalAcceleratorMemoryMib(getInstance("g5.12xlarge")), 4 * 22888);
  });

  it("maps each accelerator kind to its Kubernetes resource and EKS AMI type", () => {
    for (const spec of Object.values(INSTANCE_SPECS)) {
      if (!spec.accelerator) {
        assert.strictEqual(kubernetesResourceFor(spec), undefined);
        assert.strictEqual(spec.eksAmiType, "AL2023_x86_64_STANDARD");
      } else if (spec.accelerator.kind === "nvidia") {
        assert.strictEqual(kubernetesResourceFor(spec), "nvidia.com/gpu", spec.instanceType);
        assert.strictEqual(spec.eksAmiType, "AL2023_x86_64_NVIDIA", spec.instanceType);
      } else {
        assert.strictEqual(kubernetesResourceFor(spec), "aws.amazon.com/neuron", spec.instanceType);
        assert.strictEqual(spec.eksAmiType, "AL2023_x86_64_NEURON", spec.instanceType);
      }
    }
  });

  it("knows which instances have local NVMe storage", () => {
    assert.ok(getInstance("g5.2xlarge").nvmeGb > 0);
    assert.ok(getInstance("p5.48xlarge").nvmeGb > 0);
    assert.strictEqual(getInstance("inf2.xlarge").nvmeGb, 0);
  });

  it("accepts SageMaker ml.* names and rejects unknown types with the list of known ones", () => {
    assert.strictEqual(findInstance("ml.g5.2xlarge")?.instanceType, "g5.2xlarge");
    assert.strictEqual(findInstance("g5.3xlarge"), undefined);
    assertThrowsWith(
      () => getInstance("g5.3xlarge"),
      "unknown instance type",
      "g5.2xlarge",
      "p5.48xlarge",
    );
  });
});

describe("catalog: prices", () => {
  it("agrees with AWS's published us-east-1 on-demand prices", () => {
    assert.strictEqual(ec2HourlyUsd("g5.2xlarge", "us-east-1").value, 1.212);
    assert.strictEqual(sagemakerHourlyUsd("ml.g5.2xlarge", "us-east-1").value, 1.515);
    assert.strictEqual(ec2HourlyUsd("g5.xlarge", "us-east-1").value, 1.006);
    assert.strictEqual(ec2HourlyUsd("inf2.xlarge", "us-east-1").value, 0.7582);
  });

  it("uses the P4d, P4de and P5 prices after the June 2025 reduction", () => {
    assert.strictEqual(ec2HourlyUsd("p5.48xlarge", "us-east-1").value, 55.04);
    assert.ok(
      ec2HourlyUsd("p4d.24xlarge", "us-east-1").value! < 32.77,
      "p4d still at the old $32.77",
    );
    assert.ok(
      ec2HourlyUsd("p4de.24xlarge", "us-east-1").value! < 40.96,
      "p4de still at the old $40.97",
    );
  });

  it("prices every accelerated instance on EC2, and its SageMaker twin where SageMaker hosts it", () => {
    for (const t of REQUIRED_TYPES) {
      assert.ok((ec2HourlyUsd(t, "us-east-1").value ?? 0) > 0, `EC2 ${t}`);
    }
    for (const t of Object.keys(SAGEMAKER_HOSTING["us-east-1"].hourlyUsd)) {
      const ec2 = ec2HourlyUsd(t.slice(3), "us-east-1").value;
      assert.ok(ec2 !== undefined, `${t} has no EC2 twin in the catalog`);
      assert.ok(
        SAGEMAKER_HOSTING["us-east-1"].hourlyUsd[t] > ec2,
        `${t} should cost more on SageMaker than on EC2`,
      );
    }
  });

  it("names a source and the date read for every table", () => {
    for (const table of [
      ...Object.values(EC2_ON_DEMAND),
      ...Object.values(SAGEMAKER_HOSTING),
      ...Object.values(UNIT_PRICES),
    ]) {
      assert.ok(table.source.length > 20, "source");
      assert.match(table.readOn, /^\d{4}-\d{2}-\d{2}$/);
    }
  });

  it("falls back to us-east-1 for a region without data, with a warning, never a silent zero", () => {
    const lookup = ec2HourlyUsd("g5.2xlarge", "eu-west-1");
    assert.strictEqual(lookup.value, 1.212);
    assert.strictEqual(lookup.region, "us-east-1");
    assert.match(lookup.warning ?? "", /no EC2 prices for eu-west-1.*us-east-1/);
    assert.match(unitPrices("ap-south-1").warning ?? "", /ap-south-1/);
    assert.strictEqual(ec2HourlyUsd("g5.2xlarge", "us-east-1").warning, undefined);
  });
});

describe("catalog: serving images", () => {
  it("builds the SageMaker Triton URI from the DLC account of the region", () => {
    const img = servingImageUri("triton", "us-east-1");
    assert.strictEqual(
      img.uri,
      "763104351884.dkr.ecr.us-east-1.amazonaws.com/sagemaker-tritonserver:24.09-py3",
    );
    assert.strictEqual(
      servingImageUri("triton", "eu-west-1", "25.04").uri,
      "763104351884.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-tritonserver:25.04-py3",
    );
    assert.strictEqual(
      servingImageUri("triton", "af-south-1").uri,
      "626614931356.dkr.ecr.af-south-1.amazonaws.com/sagemaker-tritonserver:24.09-py3",
    );
  });

  it("uses the amazonaws.com.cn domain in China regions", () => {
    assert.match(
      servingImageUri("lmi", "cn-north-1").uri,
      /^727897471807\.dkr\.ecr\.cn-north-1\.amazonaws\.com\.cn\/djl-inference:/,
    );
  });

  it("offers LMI, TGI and vLLM images, Neuron builds marked as such", () => {
    assert.strictEqual(servingImageUri("tgi-neuron", "us-east-1").accelerator, "neuron");
    assert.strictEqual(servingImageUri("vllm", "us-east-1").accelerator, "nvidia");
    for (const [name, family] of Object.entries(SERVING_IMAGES)) {
      assert.ok(family.tags[family.defaultVersion], `${name} default version has no tag`);
    }
  });

  it("rejects unknown images, versions and regions, naming what is allowed", () => {
    assertThrowsWith(
      () => servingImageUri("trtllm", "us-east-1"),
      "unknown serving image",
      "triton",
      "vllm",
    );
    assertThrowsWith(() => servingImageUri("triton", "us-east-1", "22.01"), "no version", "24.09");
    assertThrowsWith(
      () => servingImageUri("lmi-neuron", "us-west-1"),
      "not published in us-west-1",
    );
    assertThrowsWith(
      () => servingImageUri("triton", "mars-east-1"),
      "not published in mars-east-1",
    );
  });
});
