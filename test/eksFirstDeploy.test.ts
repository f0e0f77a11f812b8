/**
 * What a first `pulumi up` on EKS needs beyond valid shapes: a way in to the cluster API, add-ons
 * that land on our nodes and match the cluster, the controllers' published permissions, pods that
 * start with credentials, and a way out of private subnets. Each test fails on the behaviour the
 * package had before.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as k8s from "@pulumi/kubernetes";
import { ADDON_SCHEDULING } from "../catalog/addonScheduling";
import {
  CLUSTER_AUTOSCALER_CHARTS,
  EKS_KUBERNETES_VERSIONS,
  HELM_CHARTS,
  clusterAutoscalerChart,
} from "../catalog/kubernetes";
import { AMI_SSM_PARAMETERS, imageServesNeuron, NGC_TRITON } from "../catalog/images";
import {
  AcceleratorNodeGroup,
  ClusterAddons,
  GpuCluster,
  SharedModelCache,
  TritonFleet,
  addonValues,
  validateInferenceVpcArgs,
} from "../components";
import { loadBalancerControllerPolicy } from "../components/eks/addonPolicies";
import { apiAccessPaths } from "../components/eks/gpuCluster";
import { ConfigError, parseStackConfig } from "../programs/config";
import { CapturedResource } from "../offline/engine";
import { projectRoot } from "../offline/plan";
import { main as planMain } from "../scripts/plan";
import { SHARED_MODEL_CACHE_ARGS, assertThrowsWith, one, ofType, resourcesOf } from "./helpers";
import { PUBLISHED_LBC_POLICY_V2_13_3 } from "./published/loadBalancerControllerPolicy";

const stack = (extra: Record<string, unknown>) => ({
  "aws:region": "us-east-1",
  "llm-infra:environment": "dev",
  "llm-infra:tags": { team: "ml", costCenter: "42" },
  ...extra,
});
function problemsOf(raw: Record<string, unknown>): string[] {
  try {
    parseStackConfig(raw, "test");
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.problems;
  }
  return [];
}
const GPU_GROUP = { name: "gpu", instanceTypes: ["g5.2xlarge"] };

/** Whether `r` waits for `dep` (an input or `dependsOn`). */
const waitsFor = (r: CapturedResource, dep: CapturedResource) => r.dependencies.includes(dep.urn!);

/** `npm run plan -- <stack>` on the shipped dev stack file changed by `edit`, in this process. */
async function planEditedDev(edit: (yaml: string) => string) {
  const dev = fs.readFileSync(path.join(projectRoot(), "Pulumi.dev.yaml"), "utf8");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "llm-infra-first-deploy-"));
  fs.writeFileSync(path.join(dir, "Pulumi.edited.yaml"), edit(dev));
  let stdout = "";
  let stderr = "";
  const code = await planMain(["edited", "--dir", dir], {
    out: (x) => void (stdout += x),
    err: (x) => void (stderr += x),
  });
  return { code, stdout, stderr };
}

describe("first deploy: the plan refuses the shipped dev stack as it was", () => {
  it("exits 2 naming llm-infra:eks.publicAccessCidrs when the cluster API has no way in", async () => {
    const r = await planEditedDev((y) => {
      assert.ok(y.includes("    deployerAccess: deployerAddress\n"));
      return y.replace("    deployerAccess: deployerAddress\n", "");
    });
    assert.deepStrictEqual([r.code, r.stdout], [2, ""]);
    assert.match(r.stderr, /llm-infra:eks\.publicAccessCidrs is required/);
  });

  it("exits 2 naming the node group's instanceTypes for a group of two sizes", async () => {
    const r = await planEditedDev((y) => {
      assert.ok(y.includes("instanceTypes: [g5.xlarge]"));
      return y.replace("instanceTypes: [g5.xlarge]", "instanceTypes: [g5.xlarge, g5.2xlarge]");
    });
    assert.strictEqual(r.code, 2);
    assert.match(
      r.stderr,
      /llm-infra:eks\.nodeGroups\[0\]\.instanceTypes must all have the same vCPUs and memory/,
    );
  });
});

describe("first deploy: the deployer reaches the cluster API", () => {
  it("refuses a stack that deploys Kubernetes objects with no way in, naming the key", () => {
    const problems = problemsOf(stack({ "llm-infra:eks": { nodeGroups: [GPU_GROUP] } }));
    assert.strictEqual(problems.length, 1, problems.join("\n"));
    assert.match(
      problems[0],
      /^llm-infra:eks\.publicAccessCidrs is required: the stack deploys the nvidiaDevicePlugin release, .*the model cache into the cluster from where pulumi up runs.*llm-infra:eks\.privateAccessCidrs or llm-infra:eks\.privateAccessSecurityGroupIds/,
    );
    for (const way of [
      { deployerAccess: "deployerAddress" },
      { publicAccessCidrs: ["203.0.113.7/32"] },
      { privateAccessCidrs: ["10.0.0.0/16"] },
      { privateAccessSecurityGroupIds: ["sg-0123456789abcdef0"] },
    ])
      assert.deepStrictEqual(
        problemsOf(stack({ "llm-infra:eks": { nodeGroups: [GPU_GROUP], ...way } })),
        [],
      );
    assert.deepStrictEqual(
      problemsOf(
        stack({
          "llm-infra:eks": {
            privateAccessCidrs: ["0.0.0.0/0"],
            privateAccessSecurityGroupIds: ["x"],
          },
        }),
      ),
      [
        "llm-infra:eks.privateAccessCidrs[0] must not open the API endpoint to the whole internet (0.0.0.0/0)",
        'llm-infra:eks.privateAccessSecurityGroupIds[0] must be a security group id (sg-...), got "x"',
      ],
    );
    assert.deepStrictEqual(apiAccessPaths({}), []);
  });

  it("admits an in-VPC deployer to the private endpoint on 443, before any Kubernetes object", async () => {
    const res = await resourcesOf(
      () =>
        new GpuCluster("eks", {
          vpcId: "vpc-1",
          privateSubnetIds: ["subnet-1"],
          privateAccessCidrs: ["10.20.0.0/16"],
          privateAccessSecurityGroupIds: ["sg-0123456789abcdef0"],
        }),
    );
    const rules = ofType(res, "aws:ec2/securityGroupRule:SecurityGroupRule").sort((a, b) =>
      a.name.localeCompare(b.name),
    );
    assert.deepStrictEqual(
      rules.map((r) => [
        r.inputs.type,
        r.inputs.protocol,
        r.inputs.fromPort,
        r.inputs.toPort,
        r.inputs.cidrBlocks ?? r.inputs.sourceSecurityGroupId,
      ]),
      [
        ["ingress", "tcp", 443, 443, ["10.20.0.0/16"]],
        ["ingress", "tcp", 443, 443, "sg-0123456789abcdef0"],
      ],
    );
    for (const r of rules) assert.match(String(r.inputs.securityGroupId), /^sg-[0-9a-f]{17}$/);
    const provider = one(res, "pulumi:providers:kubernetes");
    for (const r of rules) assert.ok(waitsFor(provider, r), "the provider waits for the rule");
  });
});

describe("first deploy: add-ons land on our nodes and match the cluster", () => {
  it("tags GPU groups with the node-template labels the autoscaler scales from zero with", async () => {
    const res = await resourcesOf(
      () =>
        new AcceleratorNodeGroup("gpu", {
          clusterName: "c1",
          nodeRoleArn: "arn:aws:iam::123456789012:role/nodes",
          subnetIds: ["subnet-1"],
          instanceTypes: ["g5.2xlarge"],
        }),
    );
    const tags = one(res, "aws:eks/nodeGroup:NodeGroup").inputs.tags as Record<string, string>;
    const prefix = "k8s.io/cluster-autoscaler/node-template/label/";
    assert.deepStrictEqual(
      [tags[`${prefix}nvidia.com/gpu.present`], tags[`${prefix}k8s.amazonaws.com/accelerator`]],
      ["true", "nvidia-a10g"],
    );
  });

  it("replaces the NVIDIA device plugin's default affinity with one on our node labels", () => {
    const v = addonValues({ clusterName: "c", region: "r", vpcId: "v" }).nvidiaDevicePlugin;
    assert.deepStrictEqual(
      v.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms,
      [
        {
          matchExpressions: [
            { key: "llm-infra/accelerator-kind", operator: "In", values: ["nvidia"] },
          ],
        },
      ],
    );
  });

  it("pins a cluster-autoscaler whose version matches each supported Kubernetes minor", async () => {
    for (const version of EKS_KUBERNETES_VERSIONS) {
      const chart = clusterAutoscalerChart(version);
      assert.strictEqual(
        /^v(\d+\.\d+)\.\d+$/.exec(chart.imageTag)?.[1],
        version,
        `Kubernetes ${version} runs autoscaler ${chart.imageTag}`,
      );
      assert.strictEqual(chart.version, CLUSTER_AUTOSCALER_CHARTS[version].version);
      assert.ok(
        ADDON_SCHEDULING[chart.chart]?.[chart.version],
        `scheduling facts for ${chart.chart} ${chart.version}`,
      );
    }
    for (const pin of Object.values(HELM_CHARTS).filter((c) => c.chart !== "cluster-autoscaler"))
      assert.ok(ADDON_SCHEDULING[pin.chart]?.[pin.version], `scheduling facts for ${pin.chart}`);
    assert.notStrictEqual(clusterAutoscalerChart("1.35").version, "9.46.6", "9.46.6 ships 1.32");
    const res = await resourcesOf(() => {
      const provider = new k8s.Provider("k8s", { kubeconfig: "{}" });
      new ClusterAddons(
        "addons",
        { clusterName: "c1", region: "us-east-1", vpcId: "v", kubernetesVersion: "1.34" },
        { providers: { kubernetes: provider } },
      );
    });
    const ca = one(res, "kubernetes:helm.sh/v3:Release", "addons-cluster-autoscaler").inputs;
    assert.deepStrictEqual(
      [ca.version, (ca.values as { image: { tag: string } }).image.tag],
      [
        "9.53.0",
        // The tag, and the digest the image's promotion published for it (PUBLISHED_DIGESTS).
        "v1.34.5@sha256:5c3a56440ffc76eac79e7d7e840153c1fbe7b6e02d415e76a45ba2e0ef99a266",
      ],
    );
    assertThrowsWith(
      () =>
        new ClusterAddons("a", {
          clusterName: "c",
          region: "r",
          vpcId: "v",
          kubernetesVersion: "1.29",
        }),
      'kubernetesVersion: must be one of 1.35, 1.36, 1.34, got "1.29"',
    );
    assert.strictEqual(
      HELM_CHARTS.clusterAutoscaler.version,
      clusterAutoscalerChart("1.35").version,
    );
  });

  it("turns off dcgm-exporter's ServiceMonitor: nothing installs its CRD", () => {
    const v = addonValues({ clusterName: "c", region: "r", vpcId: "v", gpuMetrics: "dcgm" });
    assert.deepStrictEqual(v.dcgmExporter.serviceMonitor, { enabled: false });
  });
});

describe("first deploy: the load balancer controller has its published permissions", () => {
  /** One row per (action, resource, condition): both policies flattened the same way. */
  const rows = (
    statements: { actions: string[]; resources: string[]; condition?: unknown }[],
  ): string[] =>
    statements
      .flatMap((s) =>
        s.actions.flatMap((a) =>
          s.resources.map((r) => `${a} on ${r} if ${JSON.stringify(sortKeys(s.condition ?? {}))}`),
        ),
      )
      .sort();
  const sortKeys = (v: unknown): unknown =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v as object)
            .sort()
            .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
        )
      : v;
  const list = (v: string | string[] | undefined) =>
    v === undefined ? [] : ([] as string[]).concat(v);

  it("matches the controller's iam_policy.json for v2.13.3 action for action", () => {
    const ours = rows(
      loadBalancerControllerPolicy().Statement.map((s) => {
        assert.strictEqual(s.Effect, "Allow");
        return { actions: list(s.Action), resources: list(s.Resource), condition: s.Condition };
      }),
    );
    const published = rows(PUBLISHED_LBC_POLICY_V2_13_3);
    assert.deepStrictEqual(
      ours.filter((r) => !published.includes(r)),
      [],
      "nothing beyond the published policy",
    );
    assert.deepStrictEqual(
      published.filter((r) => !ours.includes(r)),
      [],
      "nothing of the published policy missing",
    );
    // The rows the ALB needs on a first deploy, spelled out.
    for (const needed of [
      "ec2:AuthorizeSecurityGroupIngress on * if {}",
      "elasticloadbalancing:SetRulePriorities on * if {}",
      "ec2:DescribeRouteTables on * if {}",
      "elasticloadbalancing:AddTags on arn:aws:elasticloadbalancing:*:*:listener/app/*/*/* if {}",
    ])
      assert.ok(ours.includes(needed), needed);
    assert.ok(
      ours.some(
        (r) => r.startsWith("elasticloadbalancing:AddTags on") && r.includes("CreateAction"),
      ),
    );
  });
});

describe("first deploy: pods start with their credentials", () => {
  it("installs each add-on release after its role's policy and Pod Identity association", async () => {
    const res = await resourcesOf(() => {
      const provider = new k8s.Provider("k8s", { kubeconfig: "{}" });
      new ClusterAddons(
        "addons",
        { clusterName: "c1", region: "us-east-1", vpcId: "v" },
        { providers: { kubernetes: provider } },
      );
    });
    for (const [release, role] of [
      ["addons-cluster-autoscaler", "addons-autoscaler"],
      ["addons-aws-load-balancer-controller", "addons-lb-controller"],
    ]) {
      const r = one(res, "kubernetes:helm.sh/v3:Release", release);
      for (const dep of [
        one(res, "aws:eks/podIdentityAssociation:PodIdentityAssociation", `${role}-identity`),
        one(res, "aws:iam/rolePolicy:RolePolicy", `${role}-role`),
      ])
        assert.ok(waitsFor(r, dep), `${release} waits for ${dep.name}`);
    }
  });

  it("starts the model sync job after its association, in a namespace labelled for readiness gates", async () => {
    const res = await resourcesOf(() => new SharedModelCache("cache", SHARED_MODEL_CACHE_ARGS));
    const job = one(res, "kubernetes:batch/v1:Job");
    assert.ok(
      waitsFor(job, one(res, "aws:eks/podIdentityAssociation:PodIdentityAssociation")),
      "the job waits for the association",
    );
    assert.deepStrictEqual(
      (one(res, "kubernetes:core/v1:Namespace").inputs.metadata as Record<string, unknown>).labels,
      { "elbv2.k8s.aws/pod-readiness-gate-inject": "enabled" },
    );
  });
});

describe("first deploy: Triton on Neuron needs a Neuron-built image", () => {
  const fleet = {
    vpcId: "vpc-1",
    vpcCidrBlock: "10.0.0.0/16",
    subnetIds: ["subnet-1"],
    modelRepositoryUri: "s3://models/model-repository/triton/",
    readPolicyJson: "{}",
  };

  it("refuses the NGC image on Inferentia in the fleet, and reads the AL2023 Neuron AMI", () => {
    assert.strictEqual(
      imageServesNeuron({ repository: NGC_TRITON.repository, tag: "26.07-py3" }),
      false,
    );
    assertThrowsWith(
      () => new TritonFleet("fleet", { ...fleet, instanceType: "inf2.xlarge" }),
      "image: inf2.xlarge has Neuron devices, and nvcr.io/nvidia/tritonserver:24.05-py3 has no Neuron runtime",
    );
    assert.strictEqual(
      AMI_SSM_PARAMETERS.ecsNeuron,
      "/aws/service/ecs/optimized-ami/amazon-linux-2023/neuron/recommended/image_id",
    );
  });

  it("names llm-infra:triton.nodeGroup when Triton's group is a Neuron group", () => {
    const problems = problemsOf(
      stack({
        "llm-infra:eks": {
          privateAccessCidrs: ["10.0.0.0/16"],
          nodeGroups: [{ name: "neuron", instanceTypes: ["inf2.xlarge"] }],
        },
        "llm-infra:triton": { nodeGroup: "neuron" },
      }),
    );
    assert.deepStrictEqual(
      problems.map((p) => p.split(" has Neuron devices")[0]),
      ["llm-infra:triton.nodeGroup inf2.xlarge"],
    );
  });
});

describe("first deploy: nodes without NAT reach ECR, S3 and STS", () => {
  it("refuses natGateways none without the ECR and STS endpoints", () => {
    assert.deepStrictEqual(
      validateInferenceVpcArgs({
        natGateways: "none",
        interfaceEndpoints: [],
        region: "us-east-1",
      }),
      [
        {
          propertyPath: "natGateways",
          reason:
            "none leaves the private subnets no way to pull images or get credentials: add ecr.api, ecr.dkr, sts to interfaceEndpoints (S3 has its gateway endpoint), or use single or onePerAz",
        },
      ],
    );
    assert.deepStrictEqual(
      validateInferenceVpcArgs({
        natGateways: "none",
        interfaceEndpoints: ["ecr.api", "ecr.dkr", "sts"],
        region: "us-east-1",
      }),
      [],
    );
    assert.match(
      problemsOf(stack({ "llm-infra:network": { natGateways: "none" } }))[0],
      /^llm-infra:network\.natGateways none leaves the private subnets/,
    );
  });
});
