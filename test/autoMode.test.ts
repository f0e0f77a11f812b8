/**
 * EKS Auto Mode as the EKS provisioner, from the stack file to what is created: the shipped example
 * (examples/automode) planned under mocks and asserted wire by wire (the cluster's compute config,
 * the node role and its access entry, the node classes and NodePools, what is not installed), the
 * NodePools against Karpenter's v1 schema and the node classes against AWS's documented fields,
 * the scheduling check with Auto Mode's built-in device plugin, the management fee, and each
 * stack-file mistake as one line.
 */
import * as assert from "assert";
import * as path from "path";
import {
  AUTO_MODE_FAMILIES,
  AUTO_NODE_CLASS_TYPE,
  NODE_POOL_TYPE,
  autoModeTypeProblem,
} from "../catalog/karpenter";
import { INSTANCE_SPECS } from "../catalog/instances";
import { AUTO_NODE_ACCESS_POLICY } from "../components/eks/gpuCluster";
import { checkScheduling } from "../checks/scheduling";
import { CapturedResource } from "../offline/engine";
import { PlanReport, planConfig, planStack, projectRoot, readStackFile } from "../offline/plan";
import { configProblems, importEsm, ofType, one } from "./helpers";
import { nodeClassSpecProblems } from "./published/autoModeNodeClass";
import { renderValidated } from "./chartRender";
import { evaluatePolicies } from "../offline/policyEvaluator";
import {
  instanceTypeAllowlist,
  onDemandForProdServing,
  spotForDevGpu,
} from "../policy/instancePolicies";

const EXAMPLE_DIR = path.join(projectRoot(), "examples", "automode");
const example = () => readStackFile("automode", EXAMPLE_DIR);
type Obj = Record<string, unknown>;
const obj = (v: unknown) => (v ?? {}) as Obj;
const eksOf = (raw: Obj) => raw["llm-infra:eks"] as Obj;
const poolOf = (raw: Obj) => (eksOf(raw).nodePools as Obj[])[0];

/** The example with its stack config changed by `edit`. */
function edited(edit: (raw: Obj) => void): Obj {
  const raw = structuredClone(example());
  edit(raw);
  return raw;
}

const poolNamed = (resources: CapturedResource[], name: string) =>
  ofType(resources, NODE_POOL_TYPE).find((p) => obj(p.inputs.metadata).name === name)!;
const classNamed = (resources: CapturedResource[], name: string) =>
  ofType(resources, AUTO_NODE_CLASS_TYPE).find((c) => obj(c.inputs.metadata).name === name)!;
const templateOf = (pool: CapturedResource) => obj(obj(obj(pool.inputs.spec).template).spec);
const requirementsOf = (pool: CapturedResource) =>
  Object.fromEntries((templateOf(pool).requirements as Obj[]).map((r) => [r.key, r.values]));

describe("EKS Auto Mode: the example stack (examples/automode)", () => {
  let plan: PlanReport;
  let resources: CapturedResource[];
  before(async function () {
    this.timeout(120_000);
    plan = await planStack("automode", EXAMPLE_DIR);
    resources = plan.resources;
  });

  it("plans with no violation", () => {
    assert.deepStrictEqual(
      plan.policies.map((p) => p.message),
      [],
    );
  });

  it("turns Auto Mode on with our node role and pools only, and leaves CoreDNS to it", () => {
    const cluster = one(resources, "eks:index:Cluster");
    assert.deepStrictEqual(cluster.inputs.autoMode, {
      enabled: true,
      createNodeRole: false,
      // No built-in pool, so no node role in the compute config (EKS refuses a role without pools).
      computeConfig: { nodePools: [] },
    });
    assert.strictEqual(obj(cluster.inputs.corednsAddonOptions).enabled, false);
    assert.strictEqual(cluster.inputs.authenticationMode, "API");
  });

  it("runs nodes as the Auto Mode node role, which joins through an EC2 access entry with AmazonEKSAutoNodePolicy", () => {
    const role = one(resources, "aws:iam/role:Role", "eks-auto-nodes");
    const trust = JSON.parse(String(role.inputs.assumeRolePolicy));
    assert.deepStrictEqual(trust.Statement[0].Principal, { Service: "ec2.amazonaws.com" });
    const attached = ofType(resources, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
      .filter((a) => a.inputs.role === role.id)
      .map((a) => String(a.inputs.policyArn).split("/").pop())
      .sort();
    assert.deepStrictEqual(attached, [
      "AmazonEC2ContainerRegistryPullOnly",
      "AmazonEKSWorkerNodeMinimalPolicy",
    ]);
    const clusterName = String(one(resources, "eks:index:Cluster").inputs.name);
    const entry = one(resources, "aws:eks/accessEntry:AccessEntry", "eks-auto-nodes");
    assert.deepStrictEqual(
      [entry.inputs.clusterName, entry.inputs.principalArn, entry.inputs.type],
      [clusterName, `arn:aws:iam::123456789012:role/${role.id}`, "EC2"],
    );
    const association = one(
      resources,
      "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
      "eks-auto-nodes",
    );
    assert.deepStrictEqual(
      [
        association.inputs.principalArn,
        association.inputs.policyArn,
        association.inputs.accessScope,
      ],
      [entry.inputs.principalArn, AUTO_NODE_ACCESS_POLICY, { type: "cluster" }],
    );
    // Every node class names that role.
    for (const c of ofType(resources, AUTO_NODE_CLASS_TYPE))
      assert.strictEqual(obj(c.inputs.spec).role, role.id, c.name);
  });

  it("places every node in the stack's private subnets with the cluster security group, by id", () => {
    const cluster = one(resources, "eks:index:Cluster");
    // The private subnets: those the model cache's mount targets are in, one per AZ.
    const privateSubnets = ofType(resources, "aws:efs/mountTarget:MountTarget")
      .map((m) => String(m.inputs.subnetId))
      .sort();
    assert.strictEqual(privateSubnets.length, 2);
    const classes = ofType(resources, AUTO_NODE_CLASS_TYPE);
    assert.deepStrictEqual(classes.map((c) => obj(c.inputs.metadata).name).sort(), [
      "gpu",
      "llm-infra-system",
    ]);
    for (const c of classes) {
      const spec = obj(c.inputs.spec);
      assert.deepStrictEqual(
        (spec.subnetSelectorTerms as Obj[]).map((t) => String(t.id)).sort(),
        privateSubnets,
        c.name,
      );
      const [sg] = spec.securityGroupSelectorTerms as Obj[];
      assert.match(String(sg.id), /^sg-/);
      assert.ok(
        c.propertyDependencies?.spec?.includes(cluster.urn!),
        `${c.name}: the cluster's SG`,
      );
    }
  });

  it("creates the GPU NodePool on its Auto Mode node class: the fitting types, the ladder, the taint, a 14-day life", () => {
    const pool = poolNamed(resources, "gpu");
    assert.deepStrictEqual(templateOf(pool).nodeClassRef, {
      group: "eks.amazonaws.com",
      kind: "NodeClass",
      name: "gpu",
    });
    const reqs = requirementsOf(pool);
    assert.deepStrictEqual(reqs["karpenter.sh/capacity-type"], ["spot", "on-demand"]);
    assert.deepStrictEqual(reqs["node.kubernetes.io/instance-type"], [
      "g6.xlarge",
      "g5.xlarge",
      "g6.2xlarge",
      "g5.2xlarge",
    ]);
    // Auto Mode does not support kubernetes.io/os (Linux only).
    assert.ok(!("kubernetes.io/os" in reqs));
    assert.deepStrictEqual(templateOf(pool).taints, [
      { key: "nvidia.com/gpu", value: "true", effect: "NoSchedule" },
    ]);
    assert.strictEqual(templateOf(pool).expireAfter, "336h");
    assert.deepStrictEqual(obj(pool.inputs.spec).limits, { "nvidia.com/gpu": "2" });
    assert.deepStrictEqual(obj(classNamed(resources, "gpu").inputs.spec).ephemeralStorage, {
      size: "200Gi",
    });
  });

  it("runs the add-ons on an on-demand system pool of the system type, labelled as the add-ons select", () => {
    const pool = poolNamed(resources, "llm-infra-system");
    assert.deepStrictEqual(obj(obj(obj(pool.inputs.spec).template).metadata).labels, {
      "workload-type": "system",
    });
    const reqs = requirementsOf(pool);
    assert.deepStrictEqual(reqs["node.kubernetes.io/instance-type"], ["t3.medium"]);
    assert.deepStrictEqual(reqs["karpenter.sh/capacity-type"], ["on-demand"]);
    assert.strictEqual(templateOf(pool).taints, undefined);
    // Two t3.medium (2 vCPUs) expected, at most four.
    assert.deepStrictEqual(obj(pool.inputs.metadata).annotations, { "llm-infra/nodes": "1/2/4" });
    assert.deepStrictEqual(obj(pool.inputs.spec).limits, { cpu: "8" });
    // The metrics server's pods select exactly this label.
    const metrics = ofType(resources, "kubernetes:helm.sh/v3:Release").find(
      (r) => r.inputs.chart === "metrics-server",
    )!;
    assert.deepStrictEqual(obj(metrics.inputs.values).nodeSelector, { "workload-type": "system" });
  });

  it("installs no node group, device plugin, load balancer controller, autoscaler, Pod Identity agent or CoreDNS of ours", () => {
    assert.deepStrictEqual(ofType(resources, "aws:eks/nodeGroup:NodeGroup"), []);
    const charts = ofType(resources, "kubernetes:helm.sh/v3:Release").map((r) =>
      String(r.inputs.chart),
    );
    for (const chart of [
      "nvidia-device-plugin",
      "aws-load-balancer-controller",
      "cluster-autoscaler",
      "karpenter",
    ])
      assert.ok(!charts.some((c) => c.endsWith(chart)), chart);
    assert.ok(charts.includes("metrics-server"));
    const addons = ofType(resources, "aws:eks/addon:Addon").map((a) => a.inputs.addonName);
    assert.ok(!addons.includes("eks-pod-identity-agent"));
    assert.ok(!addons.includes("coredns"));
    assert.ok(addons.includes("aws-efs-csi-driver"));
  });

  it("validates every NodePool against Karpenter's v1 schema and every node class against AWS's documented fields", async () => {
    const pools = await importEsm("@kubernetes-models/karpenter/karpenter.sh/v1");
    for (const r of ofType(resources, NODE_POOL_TYPE))
      new pools.NodePool({
        apiVersion: r.inputs.apiVersion,
        kind: r.inputs.kind,
        metadata: r.inputs.metadata,
        spec: r.inputs.spec,
      }).validate();
    const classes = ofType(resources, AUTO_NODE_CLASS_TYPE);
    assert.strictEqual(classes.length, 2);
    for (const c of classes) {
      assert.strictEqual(c.inputs.apiVersion, "eks.amazonaws.com/v1");
      assert.deepStrictEqual(nodeClassSpecProblems(obj(c.inputs.spec)), [], c.name);
    }
    // The check bites: Karpenter's EC2NodeClass fields are not an Auto Mode node class's.
    assert.deepStrictEqual(
      nodeClassSpecProblems({ ...obj(classes[0].inputs.spec), metadataOptions: {} }),
      ["spec.metadataOptions is not a documented field"],
    );
    assert.deepStrictEqual(nodeClassSpecProblems({}), [
      "spec.role is required",
      "spec.subnetSelectorTerms is required",
      "spec.securityGroupSelectorTerms is required",
    ]);
  });

  it("counts Auto Mode's built-in device plugin in the scheduling check, and only on Auto Mode nodes", () => {
    assert.deepStrictEqual(
      checkScheduling(resources).filter((f) => f.message.includes("device plugin")),
      [],
    );
    // The same pool on Karpenter's node class, with no device plugin of ours: Triton lands nowhere.
    const onKarpenter = structuredClone(resources);
    const pool = poolNamed(onKarpenter, "gpu");
    templateOf(pool).nodeClassRef = {
      group: "karpenter.k8s.aws",
      kind: "EC2NodeClass",
      name: "gpu",
    };
    const messages = checkScheduling(onKarpenter).map((f) => f.message);
    assert.ok(
      messages.some((m) =>
        m.includes("has nvidia.com/gpu devices but no device plugin lands on it"),
      ),
      messages.join("\n"),
    );
  });

  it("holds every pool to a node class of the stack and Auto Mode's own pool rules, as a whole-stack check", () => {
    const messages = (edit: (pool: CapturedResource) => void) => {
      const copy = structuredClone(resources);
      edit(poolNamed(copy, "gpu"));
      return checkScheduling(copy)
        .map((f) => f.message)
        .filter((m) => m.startsWith("NodePool gpu-pool"));
    };
    assert.deepStrictEqual(
      messages(() => undefined),
      [],
    );
    assert.deepStrictEqual(
      messages(
        (p) => (templateOf(p).nodeClassRef = { ...obj(templateOf(p).nodeClassRef), name: "other" }),
      ),
      [
        "NodePool gpu-pool names NodeClass other, which the stack does not create: no node is launched for it",
      ],
    );
    assert.deepStrictEqual(
      messages((p) => (templateOf(p).expireAfter = "720h")),
      [
        "NodePool gpu-pool lets a node live 768 h (expireAfter and terminationGracePeriod together), beyond Auto Mode's 504 h: Auto Mode refuses the pool",
      ],
    );
    assert.deepStrictEqual(
      messages((p) =>
        (templateOf(p).requirements as Obj[]).push({
          key: "kubernetes.io/os",
          operator: "In",
          values: ["linux"],
        }),
      ),
      [
        "NodePool gpu-pool requires kubernetes.io/os, a label Auto Mode does not support (create-node-pool.adoc): it runs Linux only",
      ],
    );
  });

  it("finds a device plugin of ours landing on Auto Mode nodes, which run their own", async () => {
    const dev = await planStack("dev");
    const plugin = dev.resources.find(
      (r) =>
        r.type === "kubernetes:helm.sh/v3:Release" && r.inputs.chart === "nvidia-device-plugin",
    )!;
    const messages = checkScheduling([...resources, plugin]).map((f) => f.message);
    assert.deepStrictEqual(
      messages.filter((m) => m.includes("Auto Mode")),
      [
        `${plugin.name}'s device plugin lands on the Auto Mode nodes of gpu-pool, which run Auto Mode's own: two plugins would advertise the same devices; keep it off Auto Mode nodes (eks.amazonaws.com/compute-type NotIn [auto]) or do not install it`,
      ],
    );
  });

  it("prices the nodes, and Auto Mode's management fee beside them at the assumption's share of on-demand", async () => {
    const lines = Object.fromEntries(plan.cost.lines.map((l) => [l.resource, l]));
    const gpu = lines["gpu-pool"];
    const fee = lines["gpu-pool (Auto Mode fee)"];
    // One replica expected, on a g6.xlarge ($0.8048/h on-demand): the fee is 12% of on-demand.
    assert.strictEqual(fee.monthlyUsd, Math.round(0.8048 * 0.12 * 730 * 100) / 100);
    assert.strictEqual(fee.peakMonthlyUsd, Math.round(0.8048 * 0.12 * 730 * 2 * 100) / 100);
    assert.match(gpu.description, /g6\.xlarge node pool \(spot then on-demand, priced at spot/);
    const system = lines["eks-system-pool"];
    assert.deepStrictEqual(
      [system.idleMonthlyUsd, system.monthlyUsd, system.peakMonthlyUsd],
      [0.0416 * 730, 0.0416 * 730 * 2, 0.0416 * 730 * 4].map((x) => Math.round(x * 100) / 100),
    );
    assert.ok(lines["eks-system-pool (Auto Mode fee)"].monthlyUsd > 0);
    // The cost per token of Triton's node pays the fee too.
    const triton = plan.servingTargets.find((t) => t.resource === "triton-release")!;
    assert.strictEqual(triton.instanceType, "g6.xlarge");
    assert.strictEqual(triton.usdPerHour, 0.8048 * 0.5 + 0.8048 * 0.12);
    assert.match(triton.basis, /plus the Auto Mode fee at 12% of on-demand/);
    // The stack's own share, and none.
    for (const share of [0, 0.05]) {
      const raw = edited(
        (r) => (r["llm-infra:cost"] = { assumptions: { autoModeFeeShare: share } }),
      );
      const report = await planConfig("automode", raw, EXAMPLE_DIR);
      const f = report.cost.lines.find((l) => l.resource === "gpu-pool (Auto Mode fee)")!;
      assert.strictEqual(f.monthlyUsd, Math.round(0.8048 * share * 730 * 100) / 100, String(share));
    }
  });

  it("gives Triton's ingress Auto Mode's ALB ingress class, and installs no load balancer controller", async () => {
    const raw = edited((r) => ((r["llm-infra:triton"] as Obj).ingress = true));
    const report = await planConfig("automode", raw, EXAMPLE_DIR);
    const ingressClass = one(report.resources, "kubernetes:networking.k8s.io/v1:IngressClass");
    const params = one(report.resources, "kubernetes:eks.amazonaws.com/v1:IngressClassParams");
    assert.deepStrictEqual(ingressClass.inputs.spec, {
      controller: "eks.amazonaws.com/alb",
      parameters: {
        apiGroup: "eks.amazonaws.com",
        kind: "IngressClassParams",
        name: obj(params.inputs.metadata).name,
      },
    });
    const release = ofType(report.resources, "kubernetes:helm.sh/v3:Release").find(
      (r) => r.name === "triton-release",
    )!;
    const values = obj(release.inputs.values);
    assert.strictEqual(obj(values.ingress).className, obj(ingressClass.inputs.metadata).name);
    // The chart, rendered by helm and validated, names that class on its Ingress.
    const manifests = renderValidated(String(release.inputs.chart), values, {
      namespace: String(release.inputs.namespace),
    });
    const ingress = manifests.find((m) => m.kind === "Ingress")!;
    assert.strictEqual(obj(ingress.spec).ingressClassName, "llm-infra-alb");
    assert.ok(
      !ofType(report.resources, "kubernetes:helm.sh/v3:Release").some(
        (r) => r.inputs.chart === "aws-load-balancer-controller",
      ),
    );
    // The example itself keeps Triton's ingress off.
    assert.strictEqual(
      obj(
        obj(one(resources, "kubernetes:helm.sh/v3:Release", "triton-release").inputs.values)
          .ingress,
      ).enabled,
      false,
    );
  });

  it("holds Auto Mode pools to the instance allowlist, prod's on-demand rule and dev's spot rule: violated, passed, not applicable", async () => {
    const evaluate = (policy: typeof instanceTypeAllowlist, r: CapturedResource) =>
      evaluatePolicies([policy], [r], { project: "llm-infra", stack: "test" });
    const verdicts = async (policy: typeof instanceTypeAllowlist, r: CapturedResource) =>
      (await evaluate(policy, r)).verdicts;
    const gpu = poolNamed(resources, "gpu");
    const system = poolNamed(resources, "llm-infra-system");
    // The system pool's type is not accelerated: the GPU rules do not apply to it.
    for (const policy of [onDemandForProdServing, spotForDevGpu])
      assert.deepStrictEqual(
        (await evaluate(policy, system)).notApplicable.map((n) => n.reason),
        ["not an accelerated node pool"],
        policy.name,
      );
    const p5 = structuredClone(gpu);
    ((templateOf(p5).requirements as Obj[])[0].values as string[]).push("p5.48xlarge");
    assert.match((await verdicts(instanceTypeAllowlist, p5))[0].message, /P-family/);
    assert.deepStrictEqual(await verdicts(instanceTypeAllowlist, gpu), []);
    assert.deepStrictEqual(await verdicts(instanceTypeAllowlist, system), []);
    assert.match(
      (await verdicts(onDemandForProdServing, gpu))[0].message,
      /serves on spot capacity/,
    );
    assert.deepStrictEqual(await verdicts(spotForDevGpu, gpu), []);
  });

  it("keeps AWS's built-in pools when the stack says so, with the node role in the compute config and EKS's own access entry", async () => {
    const raw = edited((r) => (eksOf(r).builtinNodePools = ["system", "general-purpose"]));
    const report = await planConfig("automode", raw, EXAMPLE_DIR);
    const cluster = one(report.resources, "eks:index:Cluster");
    const role = one(report.resources, "aws:iam/role:Role", "eks-auto-nodes");
    assert.deepStrictEqual(obj(cluster.inputs.autoMode).computeConfig, {
      nodePools: ["system", "general-purpose"],
      nodeRoleArn: `arn:aws:iam::123456789012:role/${role.id}`,
    });
    assert.deepStrictEqual(ofType(report.resources, "aws:eks/accessEntry:AccessEntry"), []);
  });
});

describe("EKS Auto Mode: the instance types it launches", () => {
  it("launches every EC2 family of the catalog, and refuses other families and the smallest sizes", () => {
    const families = new Set(
      Object.values(INSTANCE_SPECS)
        .filter((s) => !s.instanceType.startsWith("ml."))
        .map((s) => s.family),
    );
    for (const f of families) assert.ok(AUTO_MODE_FAMILIES.includes(f), f);
    assert.strictEqual(autoModeTypeProblem("g6.xlarge"), undefined);
    assert.match(
      String(autoModeTypeProblem("dl1.24xlarge")),
      /a family EKS Auto Mode does not launch/,
    );
    assert.match(String(autoModeTypeProblem("t3.micro")), /a size EKS Auto Mode does not launch/);
  });
});

describe("EKS Auto Mode: stack-file mistakes, one line each", () => {
  const cases: [string, (raw: Obj) => void, string][] = [
    [
      "our device plugin forced on",
      (raw) => (eksOf(raw).addons = { nvidiaDevicePlugin: true }),
      "llm-infra:eks.addons.nvidiaDevicePlugin must not be true with provisioner autoMode: Auto Mode runs the NVIDIA device plugin on its GPU nodes itself",
    ],
    [
      "our load balancer controller forced on",
      (raw) => (eksOf(raw).addons = { loadBalancerController: true }),
      "llm-infra:eks.addons.loadBalancerController must not be true with provisioner autoMode",
    ],
    [
      "the Cluster Autoscaler forced on",
      (raw) => (eksOf(raw).addons = { clusterAutoscaler: true }),
      "llm-infra:eks.addons.clusterAutoscaler must not be true with provisioner autoMode",
    ],
    [
      "node groups beside Auto Mode",
      (raw) => (eksOf(raw).nodeGroups = [{ name: "gpu2", instanceTypes: ["g5.xlarge"] }]),
      "llm-infra:eks.nodeGroups does not apply with provisioner autoMode",
    ],
    [
      "an unknown built-in pool",
      (raw) => (eksOf(raw).builtinNodePools = ["gpu"]),
      'llm-infra:eks.builtinNodePools[0] must be one of system, general-purpose, got "gpu"',
    ],
    [
      "built-in pools without Auto Mode",
      (raw) => {
        eksOf(raw).provisioner = "karpenter";
        eksOf(raw).builtinNodePools = ["system"];
      },
      "llm-infra:eks.builtinNodePools does not apply without provisioner autoMode",
    ],
    [
      "a pool named as a built-in one",
      (raw) => {
        poolOf(raw).name = "system";
        (raw["llm-infra:triton"] as Obj).nodePool = "system";
      },
      "llm-infra:eks.nodePools[0].name must not be",
    ],
    [
      "Triton behind the API",
      (raw) => (raw["llm-infra:api"] = { backend: "triton", authentication: "iam" }),
      "llm-infra:api.backend triton is not offered with llm-infra:eks.provisioner autoMode yet",
    ],
    [
      "the system nodes scaled off hours",
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
      "llm-infra:cost.offHours.systemNodes must not be true with llm-infra:eks.provisioner autoMode",
    ],
    [
      "a fee share above one",
      (raw) => (raw["llm-infra:cost"] = { assumptions: { autoModeFeeShare: 12 } }),
      "llm-infra:cost.assumptions.autoModeFeeShare must be a share of the on-demand price between 0 and 1",
    ],
  ];
  for (const [what, edit, expected] of cases)
    it(`refuses ${what}`, () => {
      const problems = configProblems(edited(edit), "automode");
      assert.strictEqual(problems.length, 1, problems.join("\n"));
      assert.ok(problems[0].startsWith(expected), problems[0]);
    });

  it("takes the example as it is", () => {
    assert.deepStrictEqual(configProblems(example(), "automode"), []);
  });
});
