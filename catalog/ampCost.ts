/**
 * What the metrics pipeline ingests into, stores in and queries from Amazon Managed Service for
 * Prometheus, read from the plan's resources: the collector's scrape interval, the Triton pods it
 * scrapes (the Triton release's replicas at each figure), the DCGM exporter pods (one per NVIDIA
 * node, when the stack installs the exporter), and KEDA's queries (Triton's ScaledObject).
 */
import { findInstance } from "./instances";
import { AmpPrices, HOURS_PER_MONTH } from "./prices";

/** A plan resource as the estimator passes it (catalog/cost.ts ResourceRecord, the fields read). */
export interface ResourceRecord {
  type: string;
  inputs: Record<string, unknown>;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj =>
  v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {};
const num = (v: unknown, fallback: number) => (typeof v === "number" ? v : fallback);

/** A count at each of the plan's three figures. */
export interface Figures {
  idle: number;
  expected: number;
  peak: number;
}

/**
 * "Metrics ingested into a workspace are stored for 150 days by default" (AMP User Guide,
 * AMP-ingest-methods.html); the workspace is created without a retention setting.
 */
export const AMP_RETENTION_DAYS = 150;
/** "Prometheus metrics samples (typically 1 or 2 bytes)" (aws.amazon.com/prometheus/pricing). */
export const AMP_BYTES_PER_SAMPLE = 2;
/**
 * How often KEDA queries, seconds: charts/triton's `autoscaling.queue.pollingIntervalSeconds`,
 * KEDA's own default (kedacore/keda-docs content/docs/2.20/reference/scaledobject-spec.md).
 */
export const KEDA_POLLING_SECONDS = 30;
/** The window of the queue-time query in charts/triton templates/scaledobject.yaml, seconds. */
export const QUEUE_TIME_WINDOW_SECONDS = 120;

export interface AmpUsage {
  scrapeIntervalSeconds: number;
  /** Pods scraped: Triton replicas and DCGM exporters. */
  targets: Figures;
  seriesPerTarget: number;
  /** Samples KEDA's queries read per poll (0 when Triton scales on CPU). */
  querySamplesPerPoll: Figures;
}

const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;

/** The scrape interval of a collector's configuration (`scrape_interval: 30s`), seconds. */
export function scrapeIntervalOf(configuration: unknown): number {
  const m = /scrape_interval:\s*(\d+)s/.exec(String(configuration ?? ""));
  return m ? Number(m[1]) : 60;
}

/** Triton's replicas at each figure, from the release of this package's chart. */
function tritonPods(records: ResourceRecord[]): { pods: Figures; queueScaling: boolean } {
  const releases = records.filter(
    (r) =>
      r.type === "kubernetes:helm.sh/v3:Release" &&
      /charts[/\\]triton$/.test(String(r.inputs.chart ?? "")),
  );
  const pods: Figures = { idle: 0, expected: 0, peak: 0 };
  let queueScaling = false;
  for (const r of releases) {
    const values = obj(r.inputs.values);
    const scaling = obj(values.autoscaling);
    const replicas = num(values.replicaCount, 1);
    const hpa = scaling.enabled === true;
    pods.idle += replicas;
    pods.expected += replicas;
    pods.peak += hpa ? num(scaling.maxReplicas, replicas) : replicas;
    queueScaling ||= hpa && scaling.metric === "custom";
  }
  return { pods, queueScaling };
}

/** NVIDIA nodes at each figure, when the DCGM exporter runs on them. */
function dcgmPods(records: ResourceRecord[]): Figures {
  const none = { idle: 0, expected: 0, peak: 0 };
  const exporter = records.some(
    (r) => r.type === "kubernetes:helm.sh/v3:Release" && r.inputs.chart === "dcgm-exporter",
  );
  if (!exporter) return none;
  return records
    .filter((r) => r.type === "aws:eks/nodeGroup:NodeGroup")
    .filter((r) =>
      (Array.isArray(r.inputs.instanceTypes) ? r.inputs.instanceTypes : []).some(
        (t) => findInstance(String(t))?.accelerator?.kind === "nvidia",
      ),
    )
    .reduce((sum, r) => {
      const s = obj(r.inputs.scalingConfig);
      const desired = num(s.desiredSize, 0);
      return {
        idle: sum.idle + num(s.minSize, desired),
        expected: sum.expected + desired,
        peak: sum.peak + num(s.maxSize, desired),
      };
    }, none);
}

/** The pipeline's usage in a plan: one collector's targets and the queries on its workspace. */
export function ampUsageOf(
  scraper: ResourceRecord,
  records: ResourceRecord[],
  seriesPerTarget: number,
): AmpUsage {
  const interval = scrapeIntervalOf(scraper.inputs.scrapeConfiguration);
  const triton = tritonPods(records);
  const dcgm = dcgmPods(records);
  const each = (f: (k: keyof Figures) => number): Figures => ({
    idle: f("idle"),
    expected: f("expected"),
    peak: f("peak"),
  });
  // Per poll: the pending-requests gauge (one sample per pod and model, one model assumed) and the
  // queue-time query's two rate()s over their window (window / interval samples per pod each).
  const perPod = 1 + 2 * Math.ceil(QUEUE_TIME_WINDOW_SECONDS / interval);
  return {
    scrapeIntervalSeconds: interval,
    targets: each((k) => triton.pods[k] + dcgm[k]),
    seriesPerTarget,
    querySamplesPerPoll: each((k) => (triton.queueScaling ? triton.pods[k] * perPod : 0)),
  };
}

/** Monthly samples ingested, GB stored (steady state over the retention) and samples queried. */
export function ampMonthlyUsage(u: AmpUsage): {
  ingested: Figures;
  storedGb: Figures;
  queried: Figures;
} {
  const retentionMonths = AMP_RETENTION_DAYS / (HOURS_PER_MONTH / 24);
  const ingested = (k: keyof Figures) =>
    (u.targets[k] * u.seriesPerTarget * SECONDS_PER_MONTH) / u.scrapeIntervalSeconds;
  const stored = (k: keyof Figures) =>
    (ingested(k) * retentionMonths * AMP_BYTES_PER_SAMPLE) / 2 ** 30;
  const queried = (k: keyof Figures) =>
    (SECONDS_PER_MONTH / KEDA_POLLING_SECONDS) * u.querySamplesPerPoll[k];
  const each = (f: (k: keyof Figures) => number): Figures => ({
    idle: f("idle"),
    expected: f("expected"),
    peak: f("peak"),
  });
  return { ingested: each(ingested), storedGb: each(stored), queried: each(queried) };
}

/** USD a month at each figure: ingestion, storage and queries. */
export function ampMonthlyUsd(u: AmpUsage, prices: AmpPrices) {
  const m = ampMonthlyUsage(u);
  const times = (f: Figures, rate: number): Figures => ({
    idle: f.idle * rate,
    expected: f.expected * rate,
    peak: f.peak * rate,
  });
  return {
    usage: m,
    ingestion: times(m.ingested, prices.ingestPerSample),
    storage: times(m.storedGb, prices.storagePerGbMonth),
    queries: times(m.queried, prices.queryPerSample),
  };
}
