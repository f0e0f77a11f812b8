/**
 * Karpenter as the EKS provisioner, from the stack file to what is created: the controller's policy
 * against the published one, its chart values against the chart's keys, the shipped example stack
 * (examples/karpenter) planned under mocks and asserted wire by wire, every NodePool and
 * EC2NodeClass validated against Karpenter's v1 schemas, the scheduling check, the cost of a
 * capacity ladder, the policies that read pools, and each stack-file mistake as one line.
 */
import * as assert from "assert";
import * as path from "path";
import {
  KARPENTER_CHART,
  KARPENTER_AMI_ALIAS,
  KARPENTER_VALUES_KEYS,
  NODE_CLASS_TYPE,
  NODE_POOL_TYPE,
  poolInstanceTypes,
} from "../catalog/karpenter";
import { karpenterControllerPolicy } from "../components/eks/addonPolicies";
import { karpenterValues } from "../components/eks/karpenter";
import { checkScheduling, poolFindings } from "../checks/scheduling";
import { CapturedResource } from "../offline/engine";
import { evaluatePolicies } from "../offline/policyEvaluator";
import { PlanReport, planConfig, planStack, projectRoot, readStackFile } from "../offline/plan";
import {
  instanceTypeAllowlist,
  onDemandForProdServing,
  spotForDevGpu,
} from "../policy/instancePolicies";
import { parseStackConfig } from "../programs/config";
import { checkIamScenarios, decide, iamScenarios } from "../checks/iamScenarios";
import {
  LLAMA3_8B,
  capturedResource,
  configProblems,
  importEsm,
  ofType,
  one,
  policyOf,
} from "./helpers";
import { PUBLISHED_KARPENTER_POLICIES_V1_14 } from "./published/karpenterControllerPolicy";

const EXAMPLE_DIR = path.join(projectRoot(), "examples", "karpenter");
const example = () => readStackFile("karpenter", EXAMPLE_DIR);
type Obj = Record<string, unknown>;
const obj = (v: unknown) => (v ?? {}) as Obj;

/** The example with its stack config changed by `edit`. */
function edited(edit: (raw: Obj) => void): Obj {
  const raw = structuredClone(example());
  edit(raw);
  return raw;
}
const eksOf = (raw: Obj) => raw["llm-infra:eks"] as Obj;
const poolOf = (raw: Obj) => (eksOf(raw).nodePools as Obj[])[0];

/** Every leaf path of a values object (`settings.clusterName`). */
function leafPaths(v: unknown, prefix = ""): string[] {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return [prefix];
  return Object.entries(v as Obj).flatMap(([k, x]) => leafPaths(x, prefix ? `${prefix}.${k}` : k));
}

describe("Karpenter: the controller's permissions and values", () => {
  it("gives the controller exactly the published policies' statements, for this cluster, queue and node role", () => {
    const scope = {
      partition: "aws",
      region: "us-east-1",
      accountId: "123456789012",
      clusterName: "llm-infra-dev-eks",
      nodeRoleArn: "arn:aws:iam::123456789012:role/nodes",
      queueArn: "arn:aws:sqs:us-east-1:123456789012:llm-infra-dev-eks",
    };
    const substitute = (text: string) =>
      text
        .replaceAll("${AWS::Partition}", scope.partition)
        .replaceAll("${AWS::Region}", scope.region)
        .replaceAll("${AWS::AccountId}", scope.accountId)
        .replaceAll("${ClusterName}", scope.clusterName)
        .replaceAll("${KarpenterNodeRole.Arn}", scope.nodeRoleArn)
        .replaceAll("${KarpenterInterruptionQueue.Arn}", scope.queueArn);
    const published = JSON.parse(
      substitute(JSON.stringify(Object.values(PUBLISHED_KARPENTER_POLICIES_V1_14).flat())),
    ) as Obj[];
    const ours = karpenterControllerPolicy(scope).Statement;
    assert.deepStrictEqual(
      ours.map((s) => s.Sid),
      published.map((s) => s.Sid),
    );
    ours.forEach((s, i) => assert.deepStrictEqual(s, published[i], String(s.Sid)));
  });

  it("sets only values keys the pinned chart reads", () => {
    const keys = KARPENTER_VALUES_KEYS[KARPENTER_CHART.version];
    assert.ok(keys, `values keys recorded for chart ${KARPENTER_CHART.version}`);
    // A map value (nodeSelector) is one key: its entries are the user's labels.
    const known = (p: string) => keys.some((k) => p === k || p.startsWith(`${k}.`));
    assert.deepStrictEqual(
      leafPaths(karpenterValues("c", "q", 2)).filter((p) => !known(p)),
      [],
    );
  });
});

describe("Karpenter: the pool's instance types come from the model", () => {
  it("keeps every type of the families and sizes whose pod share holds the model, smallest share first", () => {
    const types = poolInstanceTypes(["g6", "g5"], ["xlarge", "2xlarge"], {
      acceleratorsPerPod: 1,
      model: LLAMA3_8B,
    });
    assert.deepStrictEqual(types, ["g6.xlarge", "g5.xlarge", "g6.2xlarge", "g5.2xlarge"]);
    // A 70B model fits no single 24 GB GPU: nothing is left.
    assert.deepStrictEqual(
      poolInstanceTypes(["g6", "g5"], undefined, {
        acceleratorsPerPod: 1,
        model: { ...LLAMA3_8B, parametersBillions: 70, layers: 80, hiddenSize: 8192 },
      }),
      [],
    );
    // Four GPUs a pod: only the types with four or more.
    assert.ok(
      poolInstanceTypes(["g5"], undefined, { acceleratorsPerPod: 4 }).every(
        (t) => t === "g5.12xlarge" || t === "g5.24xlarge" || t === "g5.48xlarge",
      ),
    );
  });
});

describe("Karpenter: the example stack, wire by wire", () => {
  let plan: PlanReport;
  let resources: CapturedResource[];
  const entry = () => one(resources, "aws:eks/accessEntry:AccessEntry", "karpenter-nodes");
  before(async function () {
    this.timeout(120_000);
    plan = await planStack("karpenter", EXAMPLE_DIR);
    resources = plan.resources;
  });

  it("plans with no violation", () => {
    assert.deepStrictEqual(
      plan.policies.map((p) => p.message),
      [],
    );
  });

  it("creates a node class and one NodePool on it: the fitting types, the ladder in Karpenter's order", () => {
    const nodeClass = one(resources, NODE_CLASS_TYPE);
    const pool = one(resources, NODE_POOL_TYPE);
    assert.strictEqual(obj(pool.inputs.metadata).name, "gpu");
    const spec = obj(pool.inputs.spec);
    const template = obj(obj(spec.template).spec);
    assert.deepStrictEqual(template.nodeClassRef, {
      group: "karpenter.k8s.aws",
      kind: "EC2NodeClass",
      name: obj(nodeClass.inputs.metadata).name,
    });
    const reqs = Object.fromEntries((template.requirements as Obj[]).map((r) => [r.key, r.values]));
    // Karpenter tries spot first and falls back to on-demand within the one NodePool.
    assert.deepStrictEqual(reqs["karpenter.sh/capacity-type"], ["spot", "on-demand"]);
    assert.deepStrictEqual(reqs["node.kubernetes.io/instance-type"], [
      "g6.xlarge",
      "g5.xlarge",
      "g6.2xlarge",
      "g5.2xlarge",
    ]);
    assert.deepStrictEqual(template.taints, [
      { key: "nvidia.com/gpu", value: "true", effect: "NoSchedule" },
    ]);
    // Two replicas of one GPU each.
    assert.deepStrictEqual(spec.limits, { "nvidia.com/gpu": "2" });
    assert.deepStrictEqual(obj(spec.disruption).budgets, [{ nodes: "1" }]);
  });

  it("finds subnets and the security group by the tags it puts on the stack's private subnets and the cluster security group", () => {
    const cluster = one(resources, "eks:index:Cluster");
    const clusterName = String(cluster.inputs.name);
    const spec = obj(one(resources, NODE_CLASS_TYPE).inputs.spec);
    const discovery = [{ tags: { "karpenter.sh/discovery": clusterName } }];
    assert.deepStrictEqual(spec.subnetSelectorTerms, discovery);
    assert.deepStrictEqual(spec.securityGroupSelectorTerms, discovery);
    const tags = ofType(resources, "aws:ec2/tag:Tag").filter(
      (t) => t.inputs.key === "karpenter.sh/discovery" && t.inputs.value === clusterName,
    );
    // The subnets the system node group runs in: the stack's private subnets.
    const privateSubnets = one(resources, "aws:eks/nodeGroup:NodeGroup").inputs.subnetIds;
    assert.deepStrictEqual(
      tags.filter((t) => t.name.includes("subnet")).map((t) => t.inputs.resourceId),
      privateSubnets,
    );
    const sg = tags.find((t) => t.name.endsWith("cluster-sg"))!;
    assert.match(String(sg.inputs.resourceId), /^sg-/);
    assert.deepStrictEqual(sg.propertyDependencies?.resourceId, [cluster.urn]);
  });

  it("runs nodes as the Karpenter node role, which joins through an EC2_LINUX access entry", () => {
    const nodeRole = one(resources, "aws:iam/role:Role", "karpenter-nodes");
    const nodeClass = one(resources, NODE_CLASS_TYPE);
    const spec = obj(nodeClass.inputs.spec);
    // The mocks' id of a role is its name.
    assert.strictEqual(spec.role, nodeRole.id);
    assert.deepStrictEqual(nodeClass.propertyDependencies?.spec, [nodeRole.urn]);
    assert.strictEqual(entry().inputs.type, "EC2_LINUX");
    assert.deepStrictEqual(entry().propertyDependencies?.principalArn, [nodeRole.urn]);
    const attached = ofType(resources, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
      .filter((a) => a.inputs.role === nodeRole.id)
      .map((a) => String(a.inputs.policyArn).split("/").pop());
    assert.deepStrictEqual(attached.sort(), [
      "AmazonEC2ContainerRegistryPullOnly",
      "AmazonEKSWorkerNodePolicy",
      "AmazonEKS_CNI_Policy",
      "AmazonSSMManagedInstanceCore",
    ]);
    // Pinned image, one metadata hop, an encrypted gp3 root volume.
    assert.deepStrictEqual(spec.amiSelectorTerms, [{ alias: KARPENTER_AMI_ALIAS }]);
    assert.strictEqual(obj(spec.metadataOptions).httpPutResponseHopLimit, 1);
    assert.strictEqual(obj(spec.metadataOptions).httpTokens, "required");
    const ebs = obj((spec.blockDeviceMappings as Obj[])[0].ebs);
    assert.deepStrictEqual([ebs.volumeType, ebs.encrypted], ["gp3", true]);
  });

  it("feeds the interruption queue from the five EventBridge rules and gives the controller the queue, its role and the cluster", () => {
    const queue = one(resources, "aws:sqs/queue:Queue");
    const targets = ofType(resources, "aws:cloudwatch/eventTarget:EventTarget");
    assert.strictEqual(targets.length, 5);
    const queueArn = targets[0].inputs.arn;
    for (const t of targets) {
      assert.strictEqual(t.inputs.arn, queueArn);
      assert.deepStrictEqual(t.propertyDependencies?.arn, [queue.urn]);
    }
    const rules = ofType(resources, "aws:cloudwatch/eventRule:EventRule");
    assert.deepStrictEqual(
      new Set(targets.map((t) => t.inputs.rule)),
      new Set(rules.map((r) => r.id)),
    );
    assert.deepStrictEqual(
      rules.map((r) => JSON.parse(String(r.inputs.eventPattern))["detail-type"][0]).sort(),
      [
        "AWS Health Event",
        "EC2 Capacity Reservation Instance Interruption Warning",
        "EC2 Instance Rebalance Recommendation",
        "EC2 Instance State-change Notification",
        "EC2 Spot Instance Interruption Warning",
      ],
    );
    const release = one(resources, "kubernetes:helm.sh/v3:Release", "karpenter-controller");
    const cluster = one(resources, "eks:index:Cluster");
    const settings = obj(obj(release.inputs.values).settings);
    assert.strictEqual(settings.clusterName, cluster.inputs.name);
    assert.strictEqual(settings.interruptionQueue, queue.inputs.name);
    assert.strictEqual(release.inputs.skipCrds, true);
    const association = ofType(
      resources,
      "aws:eks/podIdentityAssociation:PodIdentityAssociation",
    ).find((a) => a.inputs.serviceAccount === "karpenter");
    assert.ok(association);
    assert.strictEqual(association.inputs.namespace, "kube-system");
    const role = one(resources, "aws:iam/role:Role", "karpenter-controller-role");
    assert.deepStrictEqual(association.propertyDependencies?.roleArn, [role.urn]);
    const policy = policyOf(
      one(resources, "aws:iam/rolePolicy:RolePolicy", "karpenter-controller-role"),
    );
    const queueStatement = policy.Statement.find((s) => s.Sid === "AllowInterruptionQueueActions");
    assert.strictEqual(queueStatement?.Resource, queueArn);
    const passRole = policy.Statement.find((s) => s.Sid === "AllowPassingInstanceRole");
    assert.strictEqual(passRole?.Resource, entry().inputs.principalArn);
  });

  it("holds the controller's permissions in the IAM scenarios: its pools' nodes, its node role, its queue", () => {
    const rows = iamScenarios(resources).filter(
      (s) => s.description.startsWith("karpenter:") || /queue/.test(s.description),
    );
    assert.deepStrictEqual(
      rows.map((s) => [s.description, decide(s) === "allow" ? "allow" : "deny"]),
      rows.map((s) => [s.description, s.expect]),
    );
    const described = rows.map((s) => s.description);
    for (const expected of [
      "karpenter: launches a node of pool gpu",
      "karpenter: terminates a node of pool gpu",
      "karpenter: passes karpenter-nodes to the nodes of gpu-class",
      "karpenter: reads the interruption queue its release names",
      "EventBridge delivers interruption events to the queue",
      "nobody uses the queue over plain HTTP",
    ])
      assert.ok(described.includes(expected), expected);
    // The check bites: without the PassRole statement the nodes cannot be launched as their role.
    const cut = resources.map((r) =>
      r.name === "karpenter-controller-role" && r.type === "aws:iam/rolePolicy:RolePolicy"
        ? {
            ...r,
            inputs: {
              ...r.inputs,
              policy: JSON.stringify({
                ...policyOf(r),
                Statement: policyOf(r).Statement.filter(
                  (x) => x.Sid !== "AllowPassingInstanceRole",
                ),
              }),
            },
          }
        : r,
    );
    assert.match(
      checkIamScenarios(cut)
        .map((f) => f.message)
        .join("\n"),
      /passes karpenter-nodes to the nodes of gpu-class: expected allow/,
    );
  });

  it("installs no Cluster Autoscaler and no scale-from-zero tags beside Karpenter", () => {
    const charts = ofType(resources, "kubernetes:helm.sh/v3:Release").map((r) => r.inputs.chart);
    assert.ok(!charts.includes("cluster-autoscaler"));
    assert.ok(charts.includes("nvidia-device-plugin"));
    assert.deepStrictEqual(ofType(resources, "aws:autoscaling/tag:Tag"), []);
    assert.deepStrictEqual(ofType(resources, "aws:eks/nodeGroup:NodeGroup").length, 1);
  });

  it("keeps a rolled-out Triton pod from disruption while it loads, and starts Triton after the pools", () => {
    const triton = one(resources, "kubernetes:helm.sh/v3:Release", "triton-release");
    assert.strictEqual(
      obj(obj(triton.inputs.values).podAnnotations)["karpenter.sh/do-not-disrupt"],
      "30m",
    );
    const component = one(resources, "llm-infra:index:TritonRelease", "triton");
    for (const pool of ofType(resources, NODE_POOL_TYPE))
      assert.ok(component.dependencies.includes(pool.urn!), `Triton waits for ${pool.name}`);
    // The pools wait for Karpenter's CRDs (the controller release, which waits for the CRD chart).
    const controller = one(resources, "kubernetes:helm.sh/v3:Release", "karpenter-controller");
    const crds = one(resources, "kubernetes:helm.sh/v3:Release", "karpenter-crds");
    assert.ok(controller.dependencies.includes(crds.urn!));
  });

  it("validates every NodePool and EC2NodeClass against Karpenter's v1 schemas", async () => {
    const pools = await importEsm("@kubernetes-models/karpenter/karpenter.sh/v1");
    const classes = await importEsm("@kubernetes-models/karpenter/karpenter.k8s.aws/v1");
    const validate = (r: CapturedResource, Model: new (d: unknown) => { validate(): void }) =>
      new Model({
        apiVersion: r.inputs.apiVersion,
        kind: r.inputs.kind,
        metadata: r.inputs.metadata,
        spec: r.inputs.spec,
      }).validate();
    const found = [...ofType(resources, NODE_POOL_TYPE), ...ofType(resources, NODE_CLASS_TYPE)];
    assert.strictEqual(found.length, 2);
    for (const r of ofType(resources, NODE_POOL_TYPE)) validate(r, pools.NodePool);
    for (const r of ofType(resources, NODE_CLASS_TYPE)) validate(r, classes.EC2NodeClass);
    // The schema bites: a pool without its node class is refused.
    const pool = ofType(resources, NODE_POOL_TYPE)[0];
    const spec = structuredClone(obj(pool.inputs.spec));
    delete obj(obj(spec.template).spec).nodeClassRef;
    assert.throws(
      () => validate({ ...pool, inputs: { ...pool.inputs, spec } }, pools.NodePool),
      /nodeClassRef/,
    );
  });

  it("looks Triton's cost per token up on the type its pods are sized on", () => {
    const triton = plan.servingTargets.find((t) => t.resource === "triton-release");
    assert.strictEqual(triton?.instanceType, "g6.xlarge");
    assert.doesNotMatch(String(triton?.reason ?? ""), /declares no model/);
  });

  it("prices nodes only for the replicas, at the first rung, with on-demand beside it", () => {
    const lines = plan.cost.lines.filter((l) => l.resource === "gpu-pool");
    assert.strictEqual(lines.length, 1);
    const [pool] = lines;
    // g6.xlarge at $0.8048/h, half off on spot: 1 replica expected, 1 idle, 2 at peak.
    const node = 0.8048 * 730 * 0.5;
    assert.strictEqual(pool.idleMonthlyUsd, Math.round(node * 100) / 100);
    assert.strictEqual(pool.monthlyUsd, Math.round(node * 100) / 100);
    assert.strictEqual(pool.peakMonthlyUsd, Math.round(2 * node * 100) / 100);
    assert.match(pool.description, /g6\.xlarge node pool \(spot then on-demand, priced at spot/);
    assert.match(pool.description, /on-demand peak \$1,175\.01/);
  });
});

describe("Karpenter: the scheduling check and the policies read pools", () => {
  const pool = (inputs: Obj) =>
    capturedResource(NODE_POOL_TYPE, "gpu-on-demand", {
      metadata: { name: "gpu-on-demand" },
      spec: {
        template: {
          metadata: { labels: { "workload-type": "gpu-inference" } },
          spec: {
            requirements: [
              { key: "node.kubernetes.io/instance-type", operator: "In", values: ["g5.xlarge"] },
              { key: "karpenter.sh/capacity-type", operator: "In", values: ["on-demand"] },
            ],
          },
        },
        limits: { "nvidia.com/gpu": "2" },
      },
      ...inputs,
    });
  const triton = (maxReplicas: number) =>
    capturedResource("kubernetes:helm.sh/v3:Release", "triton-release", {
      chart: "/nonexistent",
      values: {
        accelerator: { count: 1 },
        nodeSelector: { "workload-type": "gpu-inference" },
        autoscaling: { enabled: true, minReplicas: 1, maxReplicas },
      },
    });

  it("refuses a pool whose limit is below the replicas the HPA may ask for, and one of unknown types", () => {
    assert.deepStrictEqual(poolFindings([pool({}), triton(2)]), []);
    const low = poolFindings([pool({}), triton(3)]);
    assert.strictEqual(low.length, 1);
    assert.match(low[0].message, /limits nvidia\.com\/gpu to 2, below the 3 that triton-release/);
    const unknown = poolFindings([
      pool({
        spec: {
          template: {
            spec: {
              requirements: [
                { key: "node.kubernetes.io/instance-type", operator: "In", values: ["x9.huge"] },
              ],
            },
          },
        },
      }),
    ]);
    assert.match(
      unknown[0].message,
      /requires instance types the catalog does not know \(x9\.huge\)/,
    );
  });

  it("counts a pool's nodes in the scheduling check: a GPU pod with no pool to land on is a finding", () => {
    const pod = capturedResource("kubernetes:apps/v1:Deployment", "server", {
      spec: {
        template: {
          spec: {
            nodeSelector: { "workload-type": "gpu-inference" },
            tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
            containers: [{ name: "s", resources: { requests: { cpu: "1", memory: "1Gi" } } }],
          },
        },
      },
    });
    const landing = (r: CapturedResource[]) =>
      checkScheduling(r).filter((f) => /lands on no node group/.test(f.message));
    assert.deepStrictEqual(landing([pool({}), pod]), []);
    const elsewhere = structuredClone(pod);
    obj(obj(obj(elsewhere.inputs.spec).template).spec).nodeSelector = { "workload-type": "other" };
    assert.match(
      landing([pool({}), elsewhere])[0].message,
      /lands on no node group: gpu-on-demand/,
    );
  });

  it("applies the instance allowlist and prod's on-demand rule to a pool's types and capacity", async () => {
    const verdicts = async (policy: typeof instanceTypeAllowlist, r: CapturedResource) =>
      (await evaluatePolicies([policy], [r], { project: "llm-infra", stack: "test" })).verdicts.map(
        (v) => v.message,
      );
    const p5 = pool({});
    (
      (obj(obj(obj(p5.inputs.spec).template).spec).requirements as Obj[])[0].values as string[]
    ).push("p5.48xlarge");
    assert.match((await verdicts(instanceTypeAllowlist, p5))[0], /P-family/);
    assert.deepStrictEqual(await verdicts(instanceTypeAllowlist, pool({})), []);
    const spot = pool({});
    (
      (obj(obj(obj(spot.inputs.spec).template).spec).requirements as Obj[])[1].values as string[]
    )[0] = "spot";
    assert.match((await verdicts(onDemandForProdServing, spot))[0], /serves on spot capacity/);
    assert.deepStrictEqual(await verdicts(onDemandForProdServing, pool({})), []);
    assert.match((await verdicts(spotForDevGpu, pool({})))[0], /on on-demand only; spot costs/);
    assert.deepStrictEqual(await verdicts(spotForDevGpu, spot), []);
  });
});

describe("Karpenter: each stack-file mistake is one line naming its key", () => {
  const cases: [string, (raw: Obj) => void, string][] = [
    [
      "an unknown provisioner",
      (raw) => (eksOf(raw).provisioner = "fargate"),
      "llm-infra:eks.provisioner must be one of nodeGroups, karpenter",
    ],
    [
      "a pool with no type after the fit filter",
      (raw) => {
        poolOf(raw).sizes = ["xlarge"];
        poolOf(raw).families = ["g6"];
        (raw["llm-infra:triton"] as Obj).acceleratorsPerPod = 4;
      },
      "llm-infra:eks.nodePools[0].families has no instance type that holds the model in 4 accelerator(s)",
    ],
    [
      "reserved without any reservation selector",
      (raw) => (poolOf(raw).capacity = ["reserved", "on-demand"]),
      "llm-infra:eks.nodePools[0].reservations is required with the reserved capacity type",
    ],
    [
      "a ladder out of Karpenter's order",
      (raw) => (poolOf(raw).capacity = ["on-demand", "spot"]),
      "llm-infra:eks.nodePools[0].capacity must list capacity types in the order Karpenter tries them within a NodePool (reserved, spot, on-demand)",
    ],
    [
      "limits below one replica's GPUs",
      (raw) => (poolOf(raw).maxAccelerators = 0),
      "llm-infra:eks.nodePools[0].maxAccelerators must be at least one replica's accelerators",
    ],
    [
      "node groups beside Karpenter",
      (raw) => (eksOf(raw).nodeGroups = [{ name: "gpu2", instanceTypes: ["g5.xlarge"] }]),
      "llm-infra:eks.nodeGroups does not apply with provisioner karpenter",
    ],
    [
      "the Cluster Autoscaler forced on",
      (raw) => (eksOf(raw).addons = { clusterAutoscaler: true }),
      "llm-infra:eks.addons.clusterAutoscaler must not be true with provisioner karpenter",
    ],
    [
      "families of two accelerator kinds",
      (raw) => (poolOf(raw).families = ["g5", "inf2"]),
      "llm-infra:eks.nodePools[0].families must all have one kind of accelerator",
    ],
    [
      "a family the catalog does not know",
      (raw) => (poolOf(raw).families = ["x9"]),
      "llm-infra:eks.nodePools[0].families[0] is not an instance family with accelerators",
    ],
    [
      "a VPC without NAT",
      (raw) =>
        (raw["llm-infra:network"] = {
          azCount: 2,
          natGateways: "none",
          interfaceEndpoints: ["ecr.api", "ecr.dkr", "sts"],
        }),
      "llm-infra:eks.provisioner karpenter needs a NAT gateway",
    ],
    [
      "the system nodes scaled to zero off hours, where Karpenter runs",
      (raw) =>
        (raw["llm-infra:cost"] = {
          offHours: {
            timezone: "Etc/UTC",
            workDays: "MON-FRI",
            startHour: 8,
            endHour: 20,
            systemNodes: true,
          },
        }),
      "llm-infra:cost.offHours.systemNodes must not be true with llm-infra:eks.provisioner karpenter",
    ],
    [
      "Triton naming a node group under Karpenter",
      (raw) => ((raw["llm-infra:triton"] as Obj).nodeGroup = "gpu"),
      "llm-infra:triton.nodeGroup does not apply with llm-infra:eks.provisioner karpenter",
    ],
    [
      "Triton naming a pool that does not exist",
      (raw) => ((raw["llm-infra:triton"] as Obj).nodePool = "tpu"),
      "llm-infra:triton.nodePool must name one of llm-infra:eks.nodePools (gpu)",
    ],
    [
      "node pools without Karpenter",
      (raw) => (eksOf(raw).provisioner = "nodeGroups"),
      "llm-infra:eks.nodePools does not apply with provisioner nodeGroups",
    ],
  ];
  for (const [what, edit, says] of cases)
    it(`refuses ${what}`, () => {
      const problems = configProblems(edited(edit), "karpenter");
      assert.ok(
        problems.some((p) => p.startsWith(says)),
        `expected a line starting ${JSON.stringify(says)}, got ${JSON.stringify(problems)}`,
      );
    });

  it("installs the Neuron device plugin for a pool of Neuron families, and not for GPU pools", () => {
    const addons = (raw: Obj) =>
      parseStackConfig(raw, "karpenter").eks?.addons.neuronDevicePlugin ?? false;
    assert.strictEqual(addons(example()), false);
    const inf2 = edited((raw) => {
      eksOf(raw).nodePools = [
        ...(eksOf(raw).nodePools as Obj[]),
        { name: "neuron", families: ["inf2"], capacity: ["on-demand"] },
      ];
    });
    assert.strictEqual(addons(inf2), true);
  });

  it("takes the example as it is, and a reserved rung with its reservations", async () => {
    assert.deepStrictEqual(configProblems(example(), "karpenter"), []);
    const reserved = edited((raw) => {
      poolOf(raw).capacity = ["reserved", "spot", "on-demand"];
      poolOf(raw).reservations = { ids: ["cr-0123456789abcdef0"] };
    });
    assert.deepStrictEqual(configProblems(reserved, "karpenter"), []);
    const plan = await planConfig("karpenter", reserved, EXAMPLE_DIR);
    const requirements = obj(
      obj(obj(one(plan.resources, NODE_POOL_TYPE).inputs.spec).template).spec,
    ).requirements as Obj[];
    assert.deepStrictEqual(
      requirements.find((r) => r.key === "karpenter.sh/capacity-type")?.values,
      ["reserved", "spot", "on-demand"],
    );
    assert.deepStrictEqual(
      obj(one(plan.resources, NODE_CLASS_TYPE).inputs.spec).capacityReservationSelectorTerms,
      [{ id: "cr-0123456789abcdef0" }],
    );
  });
});
