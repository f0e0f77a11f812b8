import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as k8s from "@pulumi/kubernetes";
import { TritonRelease, TritonReleaseArgs, tritonChartPath, tritonValues } from "../components";
import { TRITON_AWS_SDK_CPP } from "../components/triton/tritonRelease";
import { helm } from "../checks/helm";
import { Manifest, renderValidated } from "./chartRender";
import { one, policyOf, resourcesOf } from "./helpers";

const CHART = tritonChartPath();

/** `helm template` with the values, each manifest validated (ServiceMonitor is a CRD: shape only). */
function render(values: Record<string, unknown> = {}): Record<string, Manifest> {
  const manifests = renderValidated(CHART, values, { shapeOnly: ["ServiceMonitor"] });
  return Object.fromEntries(manifests.map((m) => [m.kind, m]));
}

const podSpec = (d: Manifest) => (d.spec.template as { spec: Record<string, unknown> }).spec;
const container = (d: Manifest) => (podSpec(d).containers as Record<string, unknown>[])[0];

describe("charts/triton", () => {
  it("passes helm lint", () => {
    const r = helm(["lint", CHART]);
    assert.strictEqual(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it("renders the defaults: a GPU Deployment with probes, /dev/shm and the S3 sync, an HPA v2 with behavior, a PDB and a Service", () => {
    const m = render();
    assert.deepStrictEqual(Object.keys(m).sort(), [
      "Deployment",
      "HorizontalPodAutoscaler",
      "PodDisruptionBudget",
      "Service",
      "ServiceAccount",
    ]);
    const d = m.Deployment;
    const c = container(d);
    const resources = c.resources as Record<string, Record<string, unknown>>;
    assert.strictEqual(resources.limits["nvidia.com/gpu"], 1);
    assert.deepStrictEqual(podSpec(d).tolerations, [
      { key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" },
    ]);
    assert.deepStrictEqual(podSpec(d).nodeSelector, { "workload-type": "gpu-inference" });
    for (const [probe, p] of [
      ["startupProbe", "/v2/health/ready"],
      ["readinessProbe", "/v2/health/ready"],
      ["livenessProbe", "/v2/health/live"],
    ]) {
      assert.strictEqual(
        (c[probe] as Record<string, Record<string, unknown>>).httpGet.path,
        p,
        probe,
      );
    }
    const startup = c.startupProbe as Record<string, number>;
    assert.ok(
      startup.periodSeconds * startup.failureThreshold >= 1200,
      "at least 20 minutes to load weights",
    );
    const shm = (podSpec(d).volumes as Record<string, Record<string, unknown>>[]).find(
      (v) => (v.name as unknown) === "dshm",
    )!;
    assert.deepStrictEqual(shm.emptyDir, { medium: "Memory", sizeLimit: "8Gi" });
    assert.ok(
      (c.volumeMounts as Record<string, unknown>[]).some((v) => v.mountPath === "/dev/shm"),
    );
    const init = (podSpec(d).initContainers as Record<string, unknown>[])[0];
    assert.deepStrictEqual((init.command as string[]).slice(0, 3), ["aws", "s3", "sync"]);
    assert.ok((c.args as string[]).includes("--model-repository=/models"));
    assert.deepStrictEqual(podSpec(d).securityContext, {
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 1000,
      fsGroup: 1000,
    });
    const hpa = m.HorizontalPodAutoscaler;
    assert.strictEqual(hpa.apiVersion, "autoscaling/v2");
    assert.deepStrictEqual(
      (hpa.spec.behavior as Record<string, Record<string, unknown>>).scaleDown
        .stabilizationWindowSeconds,
      600,
    );
    assert.strictEqual(
      (hpa.spec.metrics as Record<string, Record<string, unknown>>[])[0].resource.name,
      "cpu",
    );
    assert.deepStrictEqual(
      (m.Service.spec.ports as Record<string, unknown>[]).map((p) => p.port),
      [8000, 8001, 8002],
    );
    assert.strictEqual(m.PodDisruptionBudget.spec.maxUnavailable, 1);
  });

  it("reads S3 directly in s3 mode, and the EFS claim read-only in efs mode", () => {
    const s3 = render({ modelRepository: { mode: "s3", s3Uri: "s3://bucket-1/repo/" } }).Deployment;
    assert.ok((container(s3).args as string[]).includes("--model-repository=s3://bucket-1/repo/"));
    assert.strictEqual(podSpec(s3).initContainers, undefined);
    const efs = render({
      modelRepository: {
        mode: "efs",
        efsClaim: "model-cache",
        efsSubPath: "model-repository/triton",
      },
    }).Deployment;
    const models = (podSpec(efs).volumes as Record<string, Record<string, unknown>>[]).find(
      (v) => (v.name as unknown) === "models",
    )!;
    assert.deepStrictEqual(models.persistentVolumeClaim, {
      claimName: "model-cache",
      readOnly: true,
    });
    const mount = (container(efs).volumeMounts as Record<string, unknown>[]).find(
      (v) => (v.name as unknown) === "models",
    )!;
    assert.deepStrictEqual([mount.subPath, mount.readOnly], ["model-repository/triton", true]);
  });

  it("requests and tolerates Neuron devices on Inferentia nodes", () => {
    const d = render({
      accelerator: { kind: "neuron", count: 2 },
      nodeSelector: { "workload-type": "neuron-inference" },
    }).Deployment;
    assert.strictEqual(
      (container(d).resources as Record<string, Record<string, unknown>>).limits[
        "aws.amazon.com/neuron"
      ],
      2,
    );
    assert.deepStrictEqual(podSpec(d).tolerations, [
      { key: "aws.amazon.com/neuron", operator: "Exists", effect: "NoSchedule" },
    ]);
  });

  it("adds an ALB ingress health-checked on /v2/health/ready, with TLS and a 600 s idle timeout", () => {
    const annotationsOf = (ingress: Record<string, unknown>) =>
      (
        render({ ingress: { enabled: true, ...ingress } }).Ingress.metadata as unknown as {
          annotations: Record<string, string>;
        }
      ).annotations;
    const http = annotationsOf({ scheme: "internet-facing" });
    assert.deepStrictEqual(
      [
        http["alb.ingress.kubernetes.io/healthcheck-path"],
        http["alb.ingress.kubernetes.io/healthcheck-port"],
        http["alb.ingress.kubernetes.io/success-codes"],
        http["alb.ingress.kubernetes.io/scheme"],
        http["alb.ingress.kubernetes.io/listen-ports"],
        http["alb.ingress.kubernetes.io/load-balancer-attributes"],
      ],
      [
        "/v2/health/ready",
        "8000",
        "200",
        "internet-facing",
        '[{"HTTP": 80}]',
        "idle_timeout.timeout_seconds=600",
      ],
    );
    assert.strictEqual(render().Ingress, undefined);
  });

  it("routes gRPC only over HTTPS, health-checked with the gRPC ServerReady method and code 0", () => {
    const m = render({
      ingress: {
        enabled: true,
        certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/abc",
        grpc: true,
        idleTimeoutSeconds: 3600,
      },
    });
    const annotations = (m.Ingress.metadata as unknown as { annotations: Record<string, string> })
      .annotations;
    assert.deepStrictEqual(
      [
        annotations["alb.ingress.kubernetes.io/backend-protocol-version"],
        annotations["alb.ingress.kubernetes.io/healthcheck-path"],
        annotations["alb.ingress.kubernetes.io/healthcheck-port"],
        annotations["alb.ingress.kubernetes.io/success-codes"],
        annotations["alb.ingress.kubernetes.io/listen-ports"],
        annotations["alb.ingress.kubernetes.io/load-balancer-attributes"],
      ],
      [
        "GRPC",
        "/inference.GRPCInferenceService/ServerReady",
        "traffic-port",
        "0",
        '[{"HTTPS": 443}]',
        "idle_timeout.timeout_seconds=3600",
      ],
    );
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "triton-values-")), "v.json");
    fs.writeFileSync(file, JSON.stringify({ ingress: { enabled: true, grpc: true } }));
    const r = helm(["template", "t", CHART, "-f", file]);
    assert.notStrictEqual(r.code, 0);
    assert.match(r.stderr, /ingress.grpc needs ingress.certificateArn/);
  });

  it("scales on Triton's queue through KEDA, on CPU, or not at all, and adds a ServiceMonitor on request", () => {
    const queue = {
      serverAddress: "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1",
      awsRegion: "us-east-1",
    };
    const custom = render({
      autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 8, metric: "custom", queue },
    });
    // KEDA owns the HPA: the chart renders none of its own beside the ScaledObject.
    assert.strictEqual(custom.HorizontalPodAutoscaler, undefined);
    const so = custom.ScaledObject.spec as {
      minReplicaCount: number;
      maxReplicaCount: number;
      triggers: { type: string; metricType: string; metadata: Record<string, string> }[];
    };
    assert.deepStrictEqual([so.minReplicaCount, so.maxReplicaCount], [2, 8]);
    assert.deepStrictEqual(
      so.triggers.map((t) => [t.type, t.metricType, t.metadata.threshold, t.metadata.awsRegion]),
      [
        ["prometheus", "AverageValue", "4", "us-east-1"],
        ["prometheus", "Value", "500", "us-east-1"],
      ],
    );
    assert.match(so.triggers[0].metadata.query, /^sum\(nv_inference_pending_request_count\{/);
    assert.deepStrictEqual(
      (custom.TriggerAuthentication.spec as Record<string, unknown>).podIdentity,
      { provider: "aws" },
    );
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "triton-values-")), "v.json");
    fs.writeFileSync(file, JSON.stringify({ autoscaling: { metric: "custom" } }));
    const r = helm(["template", "t", CHART, "-f", file]);
    assert.notStrictEqual(r.code, 0);
    assert.match(r.stderr, /autoscaling.queue.serverAddress is required/);
    const fixed = render({
      autoscaling: { enabled: false },
      replicaCount: 3,
      serviceMonitor: { enabled: true },
    });
    assert.strictEqual(fixed.HorizontalPodAutoscaler, undefined);
    assert.strictEqual(fixed.Deployment.spec.replicas, 3);
    assert.ok(fixed.ServiceMonitor);
  });

  it("rejects bad values through values.schema.json", () => {
    for (const [values, fragment] of [
      [{ replicaCount: -1 }, "replicaCount"],
      [{ modelRepository: { mode: "nfs" } }, "modelRepository.mode"],
      [{ accelerator: { kind: "tpu", count: 1 } }, "accelerator.kind"],
      [{ gpus: 2 }, "gpus"],
    ] as const) {
      const file = path.join(
        fs.mkdtempSync(path.join(os.tmpdir(), "triton-values-")),
        "values.json",
      );
      fs.writeFileSync(file, JSON.stringify(values));
      const r = helm(["template", "t", CHART, "-f", file]);
      assert.notStrictEqual(r.code, 0, `${JSON.stringify(values)} was accepted`);
      assert.match(r.stderr, /values don't meet the specifications of the schema/);
      assert.ok(r.stderr.includes(fragment), `${fragment} in ${r.stderr}`);
    }
  });
});

describe("TritonRelease", () => {
  const base: TritonReleaseArgs = {
    clusterName: "c1",
    instanceType: "g5.2xlarge",
    modelRepositoryUri: "s3://models/model-repository/triton/",
    readPolicyJson:
      '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::models/model-repository/triton/*"}]}',
    minReplicas: 2,
    maxReplicas: 8,
  };

  it("builds chart values from the instance: one GPU, 3/4 of its CPUs and memory, HPA 2-8", () => {
    const v = tritonValues(base, "s3://models/model-repository/triton/") as Record<
      string,
      Record<string, unknown>
    >;
    assert.deepStrictEqual(v.accelerator, { kind: "nvidia", count: 1 });
    assert.deepStrictEqual(v.resources, {
      requests: { cpu: "6", memory: "24Gi" },
      limits: { memory: "24Gi" },
    });
    assert.deepStrictEqual(v.autoscaling, {
      enabled: true,
      minReplicas: 2,
      maxReplicas: 8,
      metric: "cpu",
    });
    assert.deepStrictEqual(v.modelRepository, {
      mode: "s3-sync",
      s3Uri: "s3://models/model-repository/triton/",
    });
    const neuron = tritonValues({
      ...base,
      instanceType: "inf2.24xlarge",
      acceleratorsPerPod: 2,
    }) as Record<string, Record<string, unknown>>;
    assert.deepStrictEqual(neuron.accelerator, { kind: "neuron", count: 2 });
  });

  it("renders its own values through the chart", () => {
    const m = render(tritonValues(base, "s3://models/model-repository/triton/"));
    assert.strictEqual(
      (container(m.Deployment).resources as Record<string, Record<string, unknown>>).requests.cpu,
      "6",
    );
  });

  it("installs the local chart with a workload role that reads only the model prefix", async () => {
    const res = await resourcesOf(() => {
      const provider = new k8s.Provider("k8s", { kubeconfig: "{}" });
      new TritonRelease("triton", base, { providers: { kubernetes: provider } });
    });
    const release = one(res, "kubernetes:helm.sh/v3:Release");
    assert.strictEqual(release.inputs.chart, CHART);
    assert.deepStrictEqual(
      [release.inputs.namespace, release.inputs.createNamespace, release.inputs.timeout],
      ["inference", false, 1800],
    );
    // The namespace is created with the label that turns on the ALB's pod readiness gate.
    assert.deepStrictEqual(one(res, "kubernetes:core/v1:Namespace").inputs.metadata, {
      name: "inference",
      labels: { "elbv2.k8s.aws/pod-readiness-gate-inject": "enabled" },
    });
    // Pods get Pod Identity credentials only if the association and the policy exist first.
    for (const type of [
      "aws:eks/podIdentityAssociation:PodIdentityAssociation",
      "aws:iam/rolePolicy:RolePolicy",
      "kubernetes:core/v1:Namespace",
    ])
      assert.ok(
        release.dependencies.includes(one(res, type).urn!),
        `the release waits for ${type}`,
      );
    const values = release.inputs.values as Record<string, Record<string, unknown>>;
    assert.strictEqual(values.modelRepository.s3Uri, "s3://models/model-repository/triton/");
    assert.deepStrictEqual(
      policyOf(one(res, "aws:iam/rolePolicy:RolePolicy")).Statement[0].Resource,
      "arn:aws:s3:::models/model-repository/triton/*",
    );
    assert.strictEqual(
      one(res, "aws:eks/podIdentityAssociation:PodIdentityAssociation").inputs.serviceAccount,
      "triton",
    );
  });

  it("refuses what cannot work on a first deploy, saying why", () => {
    const fail = (args: Partial<TritonReleaseArgs>, fragment: string) =>
      assert.throws(
        () => new TritonRelease("t", { ...base, ...args }),
        (e: Error) => e.message.includes(fragment),
      );
    fail(
      { instanceType: "inf2.xlarge" },
      "instanceType: inf2.xlarge has Neuron devices, and nvcr.io/nvidia/tritonserver:24.05-py3 has no Neuron runtime",
    );
    fail(
      { modelRepositoryMode: "s3" },
      "modelRepositoryMode: s3 is refused: Triton reads S3 with its bundled AWS SDK for C++ 1.11.60, older than 1.11.263",
    );
    fail({ hpaMetric: "custom" }, "hpaMetric: custom needs metricsPipeline");
    fail(
      { targetPendingRequestsPerReplica: 0 },
      "targetPendingRequestsPerReplica: must be a number above 0",
    );
    fail({ ingress: true, ingressGrpc: true }, "ingressGrpc: needs certificateArn");
    fail({ ingressIdleTimeoutSeconds: 5000 }, "ingressIdleTimeoutSeconds");
    const minor = (v: string) => Number(v.split(".")[2]);
    assert.ok(minor(TRITON_AWS_SDK_CPP.bundled) < minor(TRITON_AWS_SDK_CPP.podIdentityMinimum));
  });

  it("rejects bad arguments, naming the field", () => {
    assert.throws(
      () =>
        new TritonRelease("t", {
          ...base,
          instanceType: "m5.large",
          modelRepositoryUri: undefined,
          minReplicas: 9,
        }),
      (e: Error) =>
        /instanceType: m5\.large has no accelerator/.test(e.message) &&
        /modelRepositoryUri: is required with modelRepositoryMode s3-sync/.test(e.message) &&
        /minReplicas: \(9\) must not exceed maxReplicas \(8\)/.test(e.message),
    );
  });
});
