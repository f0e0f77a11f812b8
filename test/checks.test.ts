/**
 * The whole-stack checks over every shipped stack, and over plans broken the way the package used
 * to break them (the device plugin's default affinity, a private API with no way in, no NAT and no
 * endpoints).
 */
import * as assert from "assert";
import { CapturedResource } from "../offline/engine";
import { checkReachability } from "../checks/reachability";
import {
  checkScheduling,
  daemonSetsOn,
  labelMismatch,
  mergeValues,
  nodeShapes,
  PodTemplate,
  podTemplates,
  resourceMisfit,
  roomFor,
  untoleratedTaints,
} from "../checks/scheduling";
import { listStacks, planConfig, planStack, PlanReport, readStackFile } from "../offline/plan";
import { evaluatePolicies } from "../offline/policyEvaluator";
import { WHOLE_STACK_POLICIES } from "../policy/wholeStackPolicies";

const clone = (resources: CapturedResource[]): CapturedResource[] =>
  JSON.parse(JSON.stringify(resources)) as CapturedResource[];
const named = (resources: CapturedResource[], name: string) => {
  const r = resources.find((x) => x.name === name);
  assert.ok(r, `no resource ${name}`);
  return r;
};
type Values = Record<string, Record<string, unknown>>;

/** The resources with no way in to the cluster API: no 443 rules, and no deployer-address tag. */
const withoutWayIn = (resources: CapturedResource[]): CapturedResource[] =>
  clone(resources)
    .filter((r) => !r.name.startsWith("eks-api-from"))
    .map((r) => {
      if (r.type === "eks:index:Cluster")
        delete (r.inputs.tags as Record<string, string>)["deployer-access"];
      return r;
    });

describe("whole-stack checks", function () {
  this.timeout(300000);
  const reports: Record<string, PlanReport> = {};
  // Prod with an Inferentia group back (prod ships without one until a Neuron-built image exists).
  let prodWithNeuron: PlanReport;
  before(async () => {
    for (const stack of listStacks()) reports[stack] = await planStack(stack);
    const raw = readStackFile("prod");
    const eks = raw["llm-infra:eks"] as { nodeGroups: unknown[] };
    raw["llm-infra:eks"] = {
      ...eks,
      nodeGroups: [
        ...eks.nodeGroups,
        {
          name: "neuron",
          instanceTypes: ["inf2.xlarge"],
          minSize: 1,
          desiredSize: 1,
          maxSize: 4,
          workloadType: "neuron-inference",
        },
      ],
    };
    prodWithNeuron = await planConfig("prod", raw);
  });

  it("find nothing wrong with any shipped stack, having looked at every pod", () => {
    assert.deepStrictEqual(Object.keys(reports).sort(), ["dev", "prod", "staging"]);
    for (const [stack, report] of Object.entries(reports)) {
      assert.deepStrictEqual(checkScheduling(report.resources), [], `${stack} scheduling`);
      assert.deepStrictEqual(checkReachability(report.resources), [], `${stack} reachability`);
    }
    // Not vacuous: prod's pods include Triton rendered by helm and both device plugins.
    assert.deepStrictEqual(checkScheduling(prodWithNeuron.resources), [], "prod with Neuron");
    const pods = podTemplates(prodWithNeuron.resources).pods.map((p) => `${p.kind} ${p.workload}`);
    for (const expected of [
      "Deployment release-triton",
      "DaemonSet nvidia-device-plugin",
      "DaemonSet neuron-device-plugin",
      "Deployment cluster-autoscaler",
      "Deployment aws-load-balancer-controller",
      "Deployment metrics-server",
    ])
      assert.ok(pods.includes(expected), `${expected} in ${pods.join(", ")}`);
    assert.ok(podTemplates(reports.dev.resources).pods.some((p) => p.kind === "Job"));
  });

  it("catch the NVIDIA device plugin on its chart's default affinity: no GPU is advertised, Triton lands nowhere", () => {
    const resources = clone(reports.dev.resources);
    const plugin = resources.find(
      (r) => r.type === "kubernetes:helm.sh/v3:Release" && r.name === "addons-nvidia-device-plugin",
    )!;
    delete (plugin.inputs.values as Values).affinity;
    const gpu = named(resources, "gpu-nodes");
    const labels = gpu.inputs.labels as Record<string, string>;
    delete labels["nvidia.com/gpu.present"];
    const findings = checkScheduling(resources);
    assert.deepStrictEqual(
      findings.map((f) => f.resource),
      ["gpu-nodes", "addons-nvidia-device-plugin", "triton-release"],
    );
    assert.match(
      findings[0].message,
      /has nvidia.com\/gpu devices but no device plugin lands on it/,
    );
    assert.match(
      findings[1].message,
      /DaemonSet nvidia-device-plugin lands on no node group: .*gpu-nodes: its required node affinity on feature.node.kubernetes.io\/pci-10de.present or feature.node.kubernetes.io\/cpu-model.vendor_id or nvidia.com\/gpu.present matches no label/,
    );
    assert.match(
      findings[2].message,
      /Deployment release-triton lands on no node group: .*gpu-nodes: it requests nvidia.com\/gpu, which no device plugin advertises there/,
    );
    // The label alone also lets the chart's default affinity through.
    labels["nvidia.com/gpu.present"] = "true";
    assert.deepStrictEqual(checkScheduling(resources), []);
  });

  it("catch untolerated taints, oversized requests and a Neuron group without its plugin", () => {
    const resources = clone(prodWithNeuron.resources);
    const triton = named(resources, "triton-release");
    const values = triton.inputs.values as Values;
    values.resources = { requests: { cpu: "64", memory: "24Gi" }, limits: { memory: "24Gi" } };
    const neuronPlugin = resources.findIndex((r) => r.name === "addons-neuron-device-plugin");
    resources.splice(neuronPlugin, 1);
    const findings = checkScheduling(resources).map((f) => `${f.resource}: ${f.message}`);
    assert.ok(
      findings.some((f) =>
        /^triton-release: Deployment release-triton lands on no node group: .*gpu-nodes: it requests 64000m CPU and g5.2xlarge has 7310m left \(capacity 8000m, allocatable 7910m, less DaemonSets /.test(
          f,
        ),
      ),
      findings.join("\n"),
    );
    assert.ok(
      findings.some((f) =>
        /^neuron-nodes: .*aws.amazon.com\/neuron devices but no device plugin/.test(f),
      ),
      findings.join("\n"),
    );
    assert.deepStrictEqual(
      untoleratedTaints({ tolerations: [] }, [
        { key: "nvidia.com/gpu", value: "true", effect: "NoSchedule" },
        { key: "soft", value: "x", effect: "PreferNoSchedule" },
      ]),
      ["nvidia.com/gpu=true:NoSchedule"],
    );
    assert.strictEqual(
      labelMismatch({ nodeSelector: { "workload-type": "system" } }, { "workload-type": "gpu" }),
      "nodeSelector workload-type=system",
    );
  });

  it("count on each node the DaemonSets that land there, the EKS add-ons' included", () => {
    const nodes = nodeShapes(reports.dev.resources);
    const { pods } = podTemplates(reports.dev.resources);
    const gpu = nodes.find((n) => n.group === "gpu-nodes")!;
    const system = nodes.find((n) => n.group === "eks-system-nodes")!;
    const names = (ds: PodTemplate[]) => ds.map((d) => d.workload).sort();
    const everywhere = ["aws-node", "cloudwatch-agent", "efs-csi-node", "eks-pod-identity-agent"];
    const alsoEverywhere = ["fluent-bit", "kube-proxy"];
    assert.deepStrictEqual(
      names(daemonSetsOn(gpu, pods)),
      [...everywhere, "dcgm-exporter", ...alsoEverywhere, "nvidia-device-plugin"].sort(),
    );
    assert.deepStrictEqual(names(daemonSetsOn(system, pods)), [...everywhere, ...alsoEverywhere]);
    // g5.xlarge: 3920m and 14162 MiB allocatable, less aws-node 50m, the CloudWatch agent
    // 250m/128Mi, Fluent Bit 50m/25Mi and the DCGM exporter 250m/128Mi.
    const room = roomFor(
      { resource: "x", workload: "x", kind: "Deployment", spec: {} },
      gpu,
      daemonSetsOn(gpu, pods),
    );
    assert.deepStrictEqual([room.cpuMillis, room.memoryMib, room.pods], [3320, 13881, 50]);
    // A DaemonSet that does not tolerate the GPU taint takes nothing there, and does on the
    // system nodes; tolerating the taint, it counts on the GPU nodes too.
    const shipper: PodTemplate = {
      resource: "log-shipper",
      workload: "log-shipper",
      kind: "DaemonSet",
      spec: { containers: [{ name: "s", resources: { requests: { cpu: "1", memory: "1Gi" } } }] },
    };
    assert.ok(!daemonSetsOn(gpu, [...pods, shipper]).includes(shipper));
    assert.ok(daemonSetsOn(system, [...pods, shipper]).includes(shipper));
    const tolerant = {
      ...shipper,
      spec: { ...shipper.spec, tolerations: [{ key: "nvidia.com/gpu", operator: "Exists" }] },
    };
    const withTolerant = roomFor(shipper, gpu, daemonSetsOn(gpu, [...pods, tolerant]));
    assert.deepStrictEqual([withTolerant.cpuMillis, withTolerant.memoryMib], [2320, 12857]);
  });

  it("report a pod that fits the instance but not what allocatable and DaemonSets leave", () => {
    const resources = clone(reports.dev.resources);
    const values = named(resources, "triton-release").inputs.values as Values;
    // 3500m < the g5.xlarge's 4 vCPUs, > the 3320m its kubelet and DaemonSets leave.
    values.resources = { requests: { cpu: "3500m", memory: "12Gi" }, limits: { memory: "12Gi" } };
    let findings = checkScheduling(resources);
    assert.deepStrictEqual(
      findings.map((f) => f.resource),
      ["triton-release"],
    );
    assert.ok(
      findings[0].message.includes(
        "gpu-nodes: it requests 3500m CPU and g5.xlarge has 3320m left (capacity 4000m, allocatable 3920m, less DaemonSets aws-node 50m, cloudwatch-agent 250m, fluent-bit 50m, dcgm-exporter 250m)",
      ),
      findings[0].message,
    );
    assert.ok(!findings[0].message.includes("\n"));
    // 15000 MiB < 16 GiB, > 13881 MiB.
    values.resources = { requests: { cpu: "3", memory: "15000Mi" }, limits: { memory: "15000Mi" } };
    findings = checkScheduling(resources);
    assert.ok(
      findings[0].message.includes(
        "gpu-nodes: it requests 15000 MiB and g5.xlarge has 13881 MiB left (capacity 15155 MiB, allocatable 14162 MiB, less DaemonSets cloudwatch-agent 128 MiB, fluent-bit 25 MiB, dcgm-exporter 128 MiB)",
      ),
      findings[0].message,
    );
    // Without the CloudWatch add-on its three DaemonSets free 550m and 281 MiB: 3870m, 14162 MiB.
    values.resources = { requests: { cpu: "3500m", memory: "12Gi" }, limits: { memory: "12Gi" } };
    const noCloudWatch = resources.filter((r) => r.name !== "addons-cloudwatch");
    assert.deepStrictEqual(checkScheduling(noCloudWatch), []);
  });

  it("report a pod with no pod slot left by the node's DaemonSets", () => {
    const node = nodeShapes(reports.dev.resources).find((n) => n.group === "eks-system-nodes")!;
    const ds = (i: number): PodTemplate => ({
      resource: `ds-${i}`,
      workload: `ds-${i}`,
      kind: "DaemonSet",
      spec: {},
    });
    const pod: PodTemplate = { resource: "p", workload: "p", kind: "Deployment", spec: {} };
    const full = Array.from({ length: 17 }, (_, i) => ds(i));
    assert.strictEqual(
      resourceMisfit(pod, node, full),
      "t3.medium runs at most 17 pods and its DaemonSets take them all",
    );
    assert.strictEqual(resourceMisfit(pod, node, full.slice(1)), undefined);
  });

  it("report a chart that does not render instead of failing", () => {
    const resources = clone(reports.dev.resources);
    const triton = named(resources, "triton-release");
    (triton.inputs.values as Values).modelRepository = { mode: "nfs" };
    const findings = checkScheduling(resources);
    assert.deepStrictEqual(
      findings.map((f) => f.resource),
      ["triton-release"],
    );
    assert.match(
      findings[0].message,
      /^helm template .*charts\/triton failed: [\s\S]*modelRepository.mode/,
    );
  });

  it("merge release values over chart defaults the way Helm does", () => {
    assert.deepStrictEqual(
      mergeValues(
        { a: { b: 1, c: [1, 2] }, d: "x", e: 1 },
        { a: { c: [3] }, d: { f: 1 }, e: null },
      ),
      { a: { b: 1, c: [3] }, d: { f: 1 } },
    );
  });

  it("catch a private API with no way in, and private subnets with no way out", () => {
    const resources = withoutWayIn(reports.prod.resources);
    const vpc = resources.find((r) => r.type === "awsx:ec2:Vpc")!;
    vpc.inputs.natGateways = { strategy: "None" };
    const findings = checkReachability(
      resources.filter(
        (r) => !(r.type === "aws:ec2/vpcEndpoint:VpcEndpoint" && /ecr-dkr$/.test(r.name)),
      ),
    );
    assert.deepStrictEqual(
      [...new Set(findings.map((f) => f.resource))],
      ["eks-cluster", "network-vpc", "addons-aws-load-balancer-controller"],
    );
    assert.match(
      findings[0].message,
      /^the deployer cannot reach cluster llm-infra-prod-eks: its API endpoint is private and no security group rule admits a deployer on 443/,
    );
    assert.match(findings[1].message, /no NAT gateway and no ecr.dkr endpoint/);
  });

  it("run as mandatory stack policies in the plan", async () => {
    const resources = withoutWayIn(reports.dev.resources);
    const { verdicts } = await evaluatePolicies(WHOLE_STACK_POLICIES, resources, {
      project: "llm-infra",
      stack: "dev",
    });
    assert.deepStrictEqual(
      verdicts.map((v) => [v.policy, v.enforcement, v.resource]),
      [["deployer-and-nodes-reach-aws", "mandatory", "eks-cluster"]],
    );
    for (const report of Object.values(reports))
      assert.ok(
        !report.policies.some((p) => WHOLE_STACK_POLICIES.some((w) => w.name === p.policy)),
        `${report.stack} passes the whole-stack policies`,
      );
  });
});
