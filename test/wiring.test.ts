/**
 * Wires, not shapes: in each shipped stack's plan, every resource is connected to the right one of
 * its candidates (the stack's cluster, the node role, the private subnets, the model volume, the
 * rollback alarm). A resource wired to a wrong but well-formed neighbour passes shape checks; each
 * assertion here names the one it must be.
 */
import * as assert from "assert";
import { CapturedResource } from "../offline/engine";
import { hexFor } from "../offline/mocks";
import { PlanReport, planStack, readStackFile } from "../offline/plan";
import { parseStackConfig } from "../programs/config";
import { tritonChartPath } from "../components";
import { NODE_POOL_TYPE } from "../catalog/karpenter";
import { renderValidated } from "./chartRender";

const ofType = (plan: PlanReport, type: string) => plan.resources.filter((r) => r.type === type);
const only = (plan: PlanReport, type: string): CapturedResource => {
  const found = ofType(plan, type);
  assert.strictEqual(found.length, 1, `${plan.stack}: one ${type}`);
  return found[0];
};

/** The subnet ids the offline engine gives the stack's VPC (offline/mocks.ts, awsx:ec2:Vpc). */
function vpcSubnets(plan: PlanReport, kind: "private" | "public"): string[] {
  const vpc = only(plan, "awsx:ec2:Vpc");
  const azs = (vpc.inputs.numberOfAvailabilityZones as number | undefined) ?? 3;
  const seed = `awsx:ec2:Vpc::${vpc.name}`;
  return Array.from({ length: azs }, (_, i) => `subnet-${hexFor(`${seed}/${kind}/${i}`, 17)}`);
}

describe("wiring: each resource is connected to the right one of its candidates", function () {
  this.timeout(240_000);
  const plans: Record<string, PlanReport> = {};
  before(async () => {
    for (const s of ["dev", "staging", "prod"]) plans[s] = await planStack(s);
  });
  const withEks = () => Object.values(plans).filter((p) => ofType(p, "eks:index:Cluster").length);

  it("puts every node group in the stack's cluster, with the node role, in the private subnets", () => {
    assert.ok(withEks().length >= 2, "dev and prod have a cluster");
    for (const plan of withEks()) {
      const cluster = only(plan, "eks:index:Cluster");
      // The node role: trusted by EC2, with the policies EKS nodes need attached.
      const nodeRoles = ofType(plan, "aws:iam/role:Role").filter((role) => {
        const attached = ofType(plan, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
          .filter((a) => a.inputs.role === role.id)
          .map((a) => String(a.inputs.policyArn).split("/").pop());
        return [
          "AmazonEKSWorkerNodePolicy",
          "AmazonEKS_CNI_Policy",
          "AmazonEC2ContainerRegistryReadOnly",
        ].every((p) => attached.includes(p));
      });
      assert.strictEqual(nodeRoles.length, 1, `${plan.stack}: one node role`);
      const trust = JSON.parse(String(nodeRoles[0].inputs.assumeRolePolicy));
      assert.deepStrictEqual(trust.Statement[0].Principal, { Service: "ec2.amazonaws.com" });
      const privateSubnets = vpcSubnets(plan, "private");
      const publicSubnets = vpcSubnets(plan, "public");
      const groups = ofType(plan, "aws:eks/nodeGroup:NodeGroup");
      // Under Karpenter the GPU nodes come from node pools: the system group is the only group.
      const pools = ofType(plan, NODE_POOL_TYPE).length;
      assert.ok(groups.length >= (pools > 0 ? 1 : 2), `${plan.stack}: system and GPU groups`);
      for (const g of groups) {
        assert.strictEqual(g.inputs.clusterName, cluster.inputs.name, `${plan.stack} ${g.name}`);
        assert.strictEqual(
          g.inputs.nodeRoleArn,
          `arn:aws:iam::123456789012:role/${nodeRoles[0].id}`,
          `${plan.stack} ${g.name}`,
        );
        assert.deepStrictEqual(
          [...(g.inputs.subnetIds as string[])].sort(),
          [...privateSubnets].sort(),
          `${plan.stack} ${g.name}: the private subnets`,
        );
        assert.ok(!(g.inputs.subnetIds as string[]).some((s) => publicSubnets.includes(s)));
      }
    }
  });

  it("mounts the model volume at /models in the sync init container and in Triton, which serves /models", () => {
    const release = ofType(plans.dev, "kubernetes:helm.sh/v3:Release").find(
      (r) => r.name === "triton-release",
    )!;
    const values = release.inputs.values as { modelRepository: { mode: string; s3Uri: string } };
    assert.strictEqual(values.modelRepository.mode, "s3-sync");
    const deployment = renderValidated(tritonChartPath(), values, {
      shapeOnly: ["ServiceMonitor"],
    }).find((m) => m.kind === "Deployment")!;
    type Container = {
      name: string;
      command?: string[];
      args?: string[];
      volumeMounts: { name: string; mountPath: string }[];
    };
    const pod = (deployment.spec.template as { spec: Record<string, unknown> }).spec as {
      initContainers: Container[];
      containers: Container[];
      volumes: { name: string }[];
    };
    const models = (c: Container) => c.volumeMounts.find((m) => m.name === "models")?.mountPath;
    const sync = pod.initContainers.find((c) => c.name === "sync-models")!;
    assert.strictEqual(models(sync), "/models");
    // The sync copies the target's prefix into that mount.
    assert.deepStrictEqual(sync.command!.slice(-2), [values.modelRepository.s3Uri, "/models/"]);
    const triton = pod.containers[0];
    assert.strictEqual(models(triton), "/models");
    assert.ok(
      [...(triton.command ?? []), ...(triton.args ?? [])].includes("--model-repository=/models"),
      JSON.stringify(triton.args),
    );
    assert.ok(pod.volumes.some((v) => v.name === "models"));
  });

  it("gives prod's Triton the ALB ingress its stack file asks for", () => {
    const config = parseStackConfig(readStackFile("prod"), "prod");
    assert.strictEqual(config.triton?.ingress, true);
    const release = ofType(plans.prod, "kubernetes:helm.sh/v3:Release").find(
      (r) => r.name === "triton-release",
    )!;
    assert.strictEqual(
      (release.inputs.values as { ingress: { enabled: boolean } }).ingress.enabled,
      true,
    );
  });

  it("rolls each SageMaker endpoint (and each inference component) back on its own 5XX alarm", () => {
    let checked = 0;
    const rollbackOf = (r: CapturedResource) =>
      (
        r.inputs.deploymentConfig as {
          autoRollbackConfiguration: { alarms: { alarmName: string }[] };
        }
      ).autoRollbackConfiguration.alarms.map((a) => a.alarmName);
    for (const plan of Object.values(plans)) {
      // Inference components roll back their rolling updates on their own alarms.
      for (const ic of ofType(plan, "aws-native:sagemaker:InferenceComponent")) {
        const rollback = rollbackOf(ic);
        const errors = ofType(plan, "aws:cloudwatch/metricAlarm:MetricAlarm").find(
          (a) => rollback.includes(String(a.id)) && a.inputs.metricName === "Invocation5XXErrors",
        );
        assert.ok(errors, `${plan.stack} ${ic.name}: a 5XX alarm among ${rollback.join(", ")}`);
        assert.deepStrictEqual(errors.inputs.dimensions, {
          InferenceComponentName: ic.inputs.inferenceComponentName,
        });
        checked++;
      }
      for (const endpoint of ofType(plan, "aws:sagemaker/endpoint:Endpoint")) {
        // An endpoint of inference components has no deployment of its own.
        if (endpoint.inputs.deploymentConfig === undefined) continue;
        const rollback = rollbackOf(endpoint);
        const alarms = ofType(plan, "aws:cloudwatch/metricAlarm:MetricAlarm").filter((a) =>
          rollback.includes(String(a.id)),
        );
        const errors = alarms.find((a) => a.inputs.metricName === "Invocation5XXErrors");
        assert.ok(
          errors,
          `${plan.stack} ${endpoint.name}: a 5XX alarm among ${rollback.join(", ")}`,
        );
        assert.strictEqual(errors.inputs.namespace, "AWS/SageMaker");
        assert.deepStrictEqual(errors.inputs.dimensions, {
          EndpointName: endpoint.inputs.name,
          VariantName: "primary",
        });
        checked++;
      }
    }
    assert.ok(checked >= 4, `${checked} endpoints and components`);
  });
});
