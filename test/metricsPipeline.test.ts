/**
 * The metrics pipeline (llm-infra:eks.metrics) and Triton's autoscaling on its queue: what prod
 * creates, the ScaledObject the real helm renders from prod's Triton release (validated against the
 * Kubernetes and KEDA schemas), CPU when the pipeline is off, the pipeline's price, and the checks.
 */
import * as assert from "assert";
import * as YAML from "yaml";
import {
  AMP_BYTES_PER_SAMPLE,
  ampMonthlyUsage,
  ampMonthlyUsd,
  scrapeIntervalOf,
} from "../catalog/ampCost";
import { ADDON_SCHEDULING, KEDA_VALUES_KEYS } from "../catalog/addonScheduling";
import { HELM_CHARTS } from "../catalog/kubernetes";
import { AMP_PRICES } from "../catalog/prices";
import {
  kedaQueryPolicy,
  kedaValues,
  scrapeConfiguration,
  validateMetricsPipelineArgs,
} from "../components/eks/metricsPipeline";
import { ConfigError, parseStackConfig } from "../programs/config";
import { PlanReport, planConfig, planStack, readStackFile } from "../offline/plan";
import { checkScheduling, podTemplates } from "../checks/scheduling";
import { renderValidated } from "./chartRender";
import { checkReachability } from "../checks/reachability";
import { CapturedResource } from "../offline/engine";

type Obj = Record<string, unknown>;
/** Prod's Triton release rendered by helm, each manifest validated against its schema. */
function renderTriton(report: PlanReport): Record<string, Obj & { spec: Obj }> {
  const release = report.resources.find(
    (r) => r.type === "kubernetes:helm.sh/v3:Release" && r.name === "triton-release",
  )!;
  // `helm template` under the release's own name, which the queries select on.
  const manifests = renderValidated(String(release.inputs.chart), release.inputs.values, {
    release: String(release.inputs.name),
    namespace: String(release.inputs.namespace),
  });
  return Object.fromEntries(manifests.map((m) => [String(m.kind), m as Obj & { spec: Obj }]));
}

const ofType = (resources: CapturedResource[], type: string) =>
  resources.filter((r) => r.type === type);

/** Every leaf path of a values map (`serviceAccount.operator.name`). */
function leafPaths(v: unknown, prefix = ""): string[] {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return [prefix];
  const entries = Object.entries(v as Obj);
  if (entries.length === 0 || prefix === "nodeSelector") return [prefix];
  return entries.flatMap(([k, x]) => leafPaths(x, prefix ? `${prefix}.${k}` : k));
}

/** The one config problem of a raw stack config. */
function problemsOf(raw: Obj): string[] {
  try {
    parseStackConfig(raw, "prod");
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
}

describe("metrics pipeline", () => {
  let prod: PlanReport;
  let prodOff: PlanReport;
  before(async () => {
    prod = await planStack("prod");
    const raw = readStackFile("prod");
    const eks = raw["llm-infra:eks"] as Obj;
    prodOff = await planConfig("prod", { ...raw, "llm-infra:eks": { ...eks, metrics: undefined } });
  });

  it("prod: a workspace, a managed collector on the cluster's subnets and security group, and KEDA", () => {
    const [workspace] = ofType(prod.resources, "aws:amp/workspace:Workspace");
    const [scraper] = ofType(prod.resources, "aws:amp/scraper:Scraper");
    const source = (scraper.inputs.source as { eks: Obj }).eks;
    const cluster = ofType(prod.resources, "eks:index:Cluster")[0];
    assert.match(String(source.clusterArn), /^arn:aws:eks:us-east-1:\d{12}:cluster\//);
    // Three private subnets (two or more AZs, as the collector requires) and the cluster's group.
    assert.strictEqual((source.subnetIds as string[]).length, 3);
    assert.strictEqual((source.securityGroupIds as string[]).length, 1);
    assert.ok(cluster);
    const account = /:(\d{12}):/.exec(String(source.clusterArn))![1];
    assert.match(String(workspace.id), /^ws-/);
    assert.strictEqual(
      (scraper.inputs.destination as { amp: Obj }).amp.workspaceArn,
      `arn:aws:aps:us-east-1:${account}:workspace/${workspace.id}`,
    );
    assert.strictEqual(scrapeIntervalOf(scraper.inputs.scrapeConfiguration), 30);
    const keda = ofType(prod.resources, "kubernetes:helm.sh/v3:Release").find(
      (r) => r.name === "metrics-keda",
    )!;
    assert.deepStrictEqual(
      [keda.inputs.chart, keda.inputs.version, keda.inputs.namespace],
      ["keda", "2.20.2", "keda"],
    );
    const association = ofType(
      prod.resources,
      "aws:eks/podIdentityAssociation:PodIdentityAssociation",
    ).find((a) => a.inputs.serviceAccount === "keda-operator")!;
    assert.strictEqual(association.inputs.namespace, "keda");
  });

  it("prod: Triton's HPA, rendered by helm from our chart, scales on its queue read from AMP", () => {
    const m = renderTriton(prod);
    assert.strictEqual(m.HorizontalPodAutoscaler, undefined);
    const so = m.ScaledObject.spec as {
      scaleTargetRef: Obj;
      minReplicaCount: number;
      maxReplicaCount: number;
      advanced: { horizontalPodAutoscalerConfig: { behavior: Obj } };
      triggers: { type: string; metricType: string; metadata: Record<string, string> }[];
    };
    assert.deepStrictEqual(so.scaleTargetRef, {
      apiVersion: "apps/v1",
      kind: "Deployment",
      name: "triton-triton",
    });
    assert.deepStrictEqual([so.minReplicaCount, so.maxReplicaCount], [2, 8]);
    const [workspace] = ofType(prod.resources, "aws:amp/workspace:Workspace");
    const address = `https://aps-workspaces.us-east-1.amazonaws.com/workspaces/${workspace.id}`;
    const selector = 'namespace="inference",release="triton"';
    assert.deepStrictEqual(
      so.triggers.map((t) => [t.metricType, t.metadata.serverAddress, t.metadata.query]),
      [
        ["AverageValue", address, `sum(nv_inference_pending_request_count{${selector}})`],
        [
          "Value",
          address,
          `sum(rate(nv_inference_queue_duration_us{${selector}}[2m])) / sum(rate(nv_inference_request_success{${selector}}[2m])) / 1000`,
        ],
      ],
    );
    // Minutes-long model loads: bounded scale-up on a held signal, slow scale-down.
    assert.deepStrictEqual(so.advanced.horizontalPodAutoscalerConfig.behavior, {
      scaleUp: {
        stabilizationWindowSeconds: 60,
        policies: [{ type: "Pods", value: 2, periodSeconds: 300 }],
      },
      scaleDown: {
        stabilizationWindowSeconds: 600,
        policies: [{ type: "Pods", value: 1, periodSeconds: 300 }],
      },
    });
    // The scraped pods carry the labels the queries select on.
    const config = YAML.parse(scrapeConfiguration({})) as {
      scrape_configs: { job_name: string; relabel_configs: Obj[] }[];
    };
    const triton = config.scrape_configs.find((j) => j.job_name === "triton")!;
    assert.deepStrictEqual(
      triton.relabel_configs.map((r) => r.target_label ?? r.action),
      ["keep", "namespace", "pod", "release"],
    );
    assert.strictEqual(
      (m.Deployment.spec.template as { metadata: { labels: Obj } }).metadata.labels[
        "app.kubernetes.io/instance"
      ],
      "triton",
    );
  });

  it("without the pipeline: no AMP, no KEDA, and Triton's HPA scales on CPU", () => {
    assert.deepStrictEqual(
      prodOff.resources.filter((r) => /amp|MetricsPipeline/.test(r.type)).map((r) => r.name),
      [],
    );
    const m = renderTriton(prodOff);
    assert.strictEqual(m.ScaledObject, undefined);
    const metrics = m.HorizontalPodAutoscaler.spec.metrics as { resource: Obj }[];
    assert.deepStrictEqual(metrics[0].resource, {
      name: "cpu",
      target: { type: "Utilization", averageUtilization: 70 },
    });
  });

  it("refuses hpaMetric custom without the pipeline, and the pipeline's keys when they cannot apply", () => {
    const raw = readStackFile("prod");
    const eks = raw["llm-infra:eks"] as Obj;
    const triton = raw["llm-infra:triton"] as Obj;
    const off = { ...raw, "llm-infra:eks": { ...eks, metrics: { enabled: false } } };
    assert.deepStrictEqual(
      problemsOf({ ...off, "llm-infra:triton": { ...triton, hpaMetric: "custom" } }),
      [
        "llm-infra:triton.hpaMetric custom needs llm-infra:eks.metrics.enabled: true (the metrics pipeline that serves Triton's queue to the HPA); use cpu, or turn the pipeline on",
      ],
    );
    assert.deepStrictEqual(
      problemsOf({ ...off, "llm-infra:triton": { ...triton, targetQueueTimeMilliseconds: 200 } }),
      [
        "llm-infra:triton.targetQueueTimeMilliseconds does not apply without llm-infra:eks.metrics.enabled: true; remove it",
      ],
    );
    assert.deepStrictEqual(
      problemsOf({
        ...raw,
        "llm-infra:eks": { ...eks, metrics: { enabled: true, scrapeIntervalSeconds: 15 } },
      }),
      [
        "llm-infra:eks.metrics.scrapeIntervalSeconds must be an integer between 30 and 3600, got 15",
      ],
    );
    assert.deepStrictEqual(
      problemsOf({
        ...raw,
        "llm-infra:triton": { ...triton, targetPendingRequestsPerReplica: -1 },
      }),
      ["llm-infra:triton.targetPendingRequestsPerReplica must be a number above 0, got -1"],
    );
    // With the pipeline, custom is the default and may be said out loud.
    assert.deepStrictEqual(
      problemsOf({ ...raw, "llm-infra:triton": { ...triton, hpaMetric: "custom" } }),
      [],
    );
  });

  it("KEDA's values are keys of its chart, and its pods land on the system nodes", () => {
    const keys = KEDA_VALUES_KEYS[HELM_CHARTS.keda.version];
    assert.deepStrictEqual(
      leafPaths(kedaValues("c")).filter((p) => !keys.includes(p)),
      [],
    );
    assert.ok(ADDON_SCHEDULING.keda[HELM_CHARTS.keda.version]);
    const keda = podTemplates(prod.resources).pods.filter((p) => p.resource === "metrics-keda");
    assert.deepStrictEqual(
      keda.map((p) => [p.workload, (p.spec.nodeSelector as Obj)["workload-type"]]),
      [
        ["keda-operator", "system"],
        ["keda-operator-metrics-apiserver", "system"],
        ["keda-admission-webhooks", "system"],
      ],
    );
    assert.deepStrictEqual(checkScheduling(prod.resources), []);
    assert.deepStrictEqual(checkReachability(prod.resources), []);
  });

  it("the collector reaches the cluster: private endpoint, two subnets, the cluster security group", async () => {
    assert.deepStrictEqual(checkReachability(prod.resources), []);
    // The check knows the cluster security group by the 443 rules GpuCluster puts on it: prod with
    // a VPN range admitted as well (shipped prod opens the API to the deployer's address instead).
    const raw = readStackFile("prod");
    const eks = raw["llm-infra:eks"] as Obj;
    const withRules = await planConfig("prod", {
      ...raw,
      "llm-infra:eks": { ...eks, privateAccessCidrs: ["192.168.0.0/16"] },
    });
    assert.deepStrictEqual(checkReachability(withRules.resources), []);
    const withSource = (change: (eks: Obj) => Obj) =>
      withRules.resources.map((r) =>
        r.type === "aws:amp/scraper:Scraper"
          ? {
              ...r,
              inputs: {
                ...r.inputs,
                source: { eks: change((r.inputs.source as { eks: Obj }).eks) },
              },
            }
          : r,
      );
    const messages = (resources: CapturedResource[]) =>
      checkReachability(resources).map((f) => f.message);
    assert.deepStrictEqual(
      messages(withSource((eks) => ({ ...eks, securityGroupIds: ["sg-0123456789abcdef0"] }))),
      [
        "the metrics collector metrics-collector cannot scrape its cluster: its interfaces are not in the cluster security group, which the nodes admit",
      ],
    );
    assert.deepStrictEqual(
      messages(
        withSource((eks) => ({ ...eks, subnetIds: (eks.subnetIds as string[]).slice(0, 1) })),
      ),
      [
        "the metrics collector metrics-collector cannot scrape its cluster: it has fewer than two subnets",
      ],
    );
  });

  it("KEDA's role may only query the stack's workspace", () => {
    assert.deepStrictEqual(kedaQueryPolicy("arn:aws:aps:us-east-1:123456789012:workspace/ws-1"), {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "QueryStackWorkspace",
          Effect: "Allow",
          Action: ["aps:QueryMetrics"],
          Resource: "arn:aws:aps:us-east-1:123456789012:workspace/ws-1",
        },
      ],
    });
    assert.deepStrictEqual(
      validateMetricsPipelineArgs({
        clusterName: "c",
        clusterArn: "a",
        region: "us-east-1",
        subnetIds: [],
        clusterSecurityGroupId: "sg",
        scrapeIntervalSeconds: 29,
      }).map((e) => e.propertyPath),
      ["scrapeIntervalSeconds"],
    );
  });

  it("prices ingestion, storage and KEDA's queries from the plan's pods and scrape interval", () => {
    const lines = prod.cost.lines.filter((l) => l.type === "aws:amp/scraper:Scraper");
    assert.deepStrictEqual(
      lines.map((l) => [l.idleMonthlyUsd, l.monthlyUsd, l.peakMonthlyUsd]),
      [
        [4.73, 4.73, 18.92],
        [0.01, 0.01, 0.06],
        [0, 0, 0],
      ],
    );
    assert.match(
      lines[0].description,
      /2 pods \(idle 2, peak 8\) x 300 series \(assumed\) every 30 s/,
    );
    assert.ok(
      prod.cost.warnings.some((w) => w.includes("managed collector's own hourly")),
      "the collector's unpriced charges are said, not silently $0",
    );
    // By hand: 2 pods x 300 series every 30 s for 730 h = 52.56M samples at $0.90 per 10M.
    const usage = {
      scrapeIntervalSeconds: 30,
      targets: { idle: 2, expected: 2, peak: 8 },
      seriesPerTarget: 300,
      querySamplesPerPoll: { idle: 18, expected: 18, peak: 72 },
    };
    const m = ampMonthlyUsage(usage);
    assert.strictEqual(m.ingested.expected, 52_560_000);
    assert.strictEqual(m.queried.expected, 87_600 * 18);
    const gb = (52_560_000 * (150 / (730 / 24)) * AMP_BYTES_PER_SAMPLE) / 2 ** 30;
    assert.strictEqual(m.storedGb.expected, gb);
    const usd = ampMonthlyUsd(usage, AMP_PRICES["us-east-1"]);
    assert.strictEqual(Math.round(usd.ingestion.expected * 1e4) / 1e4, 4.7304);
    assert.strictEqual(prodOff.cost.lines.filter((l) => l.type.startsWith("aws:amp")).length, 0);
    assert.strictEqual(
      Math.round((prod.cost.monthlyUsd - prodOff.cost.monthlyUsd) * 100) / 100,
      4.74,
    );
  });
});
