import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CapturedResource } from "../offline/engine";
import { PlanReport, listStacks, planConfig, planStack } from "../offline/plan";
import {
  DEFAULT_SERVING_ALARM_THRESHOLDS,
  apiAlarms,
  fleetAlarms,
  tritonEksAlarms,
} from "../components/monitoring/servingAlarms";
import { dashboardBody, dashboardRows } from "../components/monitoring/dashboard";
import { parseMonitoringConfig } from "../programs/monitoringConfig";
import { dashboardOf, main as planMain } from "../scripts/plan";
import { assertThrowsWith } from "./helpers";
import { ServingMonitor } from "../components/monitoring/servingMonitor";

const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const T = DEFAULT_SERVING_ALARM_THRESHOLDS;

describe("serving-path alarms", () => {
  it("Triton on EKS: no running pod (missing data breaches) and restarts, from Container Insights", () => {
    const [pods, restarts] = tritonEksAlarms(
      {
        clusterName: "c",
        namespace: "inference",
        service: "triton-triton",
        workload: "triton-triton",
      },
      { ...T, tritonRestartsPer5Minutes: 7 },
    );
    assert.deepStrictEqual(
      [pods.namespace, pods.metricName, pods.dimensions, pods.comparisonOperator, pods.threshold],
      [
        "ContainerInsights",
        "service_number_of_running_pods",
        { ClusterName: "c", Namespace: "inference", Service: "triton-triton" },
        "LessThanThreshold",
        1,
      ],
    );
    assert.strictEqual(pods.treatMissingData, "breaching");
    assert.strictEqual(restarts.metricName, "pod_number_of_container_restarts");
    assert.deepStrictEqual(restarts.dimensions, {
      ClusterName: "c",
      Namespace: "inference",
      PodName: "triton-triton",
    });
    assert.strictEqual(restarts.threshold, 7);
    assert.strictEqual(restarts.periodSeconds, 300);
  });

  it("the fleet: target 5xx, response time p90 in seconds and unhealthy hosts, by load balancer and target group", () => {
    const alarms = fleetAlarms(
      { loadBalancer: "app/lb/1", targetGroup: "targetgroup/tg/2" },
      { ...T, fleetResponseTimeP90Seconds: 45 },
    );
    assert.deepStrictEqual(
      alarms.map((a) => [a.role, a.metricName, a.statistic ?? a.extendedStatistic, a.threshold]),
      [
        ["5xx-errors", "HTTPCode_Target_5XX_Count", "Sum", 5],
        ["response-time-p90", "TargetResponseTime", "p90", 45],
        ["unhealthy-hosts", "UnHealthyHostCount", "Maximum", 1],
      ],
    );
    for (const a of alarms) {
      assert.strictEqual(a.namespace, "AWS/ApplicationELB");
      assert.deepStrictEqual(a.dimensions, {
        LoadBalancer: "app/lb/1",
        TargetGroup: "targetgroup/tg/2",
      });
    }
    assert.strictEqual(alarms[2].comparisonOperator, "GreaterThanOrEqualToThreshold");
  });

  it("the API: 5XXError, 4XXError (throttles) and Latency p90 in ms, by API name and stage", () => {
    const alarms = apiAlarms({ apiName: "api-1", stage: "v1" }, { ...T, apiLatencyP90Ms: 9000 });
    assert.deepStrictEqual(
      alarms.map((a) => [a.metricName, a.statistic ?? a.extendedStatistic, a.threshold]),
      [
        ["5XXError", "Sum", 5],
        ["4XXError", "Sum", 50],
        ["Latency", "p90", 9000],
      ],
    );
    for (const a of alarms) {
      assert.strictEqual(a.namespace, "AWS/ApiGateway");
      assert.deepStrictEqual(a.dimensions, { ApiName: "api-1", Stage: "v1" });
    }
  });

  it("refuses a threshold that is not a positive integer, or not a threshold, naming it", () => {
    assertThrowsWith(
      () =>
        new ServingMonitor("m", {
          region: "us-east-1",
          alarmTopicArn: "arn",
          thresholds: { api5xxPerMinute: 0, fleetUnhealthy: 1 } as never,
        }),
      "thresholds.api5xxPerMinute: must be an integer between 1 and 100000, got 0",
      "thresholds.fleetUnhealthy: is not a known threshold",
    );
  });
});

describe("llm-infra:monitoring config", () => {
  it("fills defaults and takes the thresholds given", () => {
    const problems: string[] = [];
    const c = parseMonitoringConfig(
      { alarms: { api4xxPerMinute: 100 }, dashboard: false },
      problems,
    );
    assert.deepStrictEqual(problems, []);
    assert.strictEqual(c.dashboard, false);
    assert.deepStrictEqual(c.thresholds, { ...T, api4xxPerMinute: 100 });
    assert.strictEqual(parseMonitoringConfig(undefined, problems).dashboard, true);
  });

  it("names the key of each mistake", () => {
    const problems: string[] = [];
    parseMonitoringConfig(
      { alarms: { fleet5xxPerMinute: -1, apiLatency: 5, api5xxPerMinute: "x" }, graphs: 1 },
      problems,
    );
    assert.deepStrictEqual(problems.sort(), [
      'llm-infra:monitoring.alarms.api5xxPerMinute must be a number, got "x"',
      `llm-infra:monitoring.alarms.apiLatency is not a known key; allowed: ${Object.keys(T).join(", ")}`,
      "llm-infra:monitoring.alarms.fleet5xxPerMinute must be an integer between 1 and 100000, got -1",
      "llm-infra:monitoring.graphs is not a known key; allowed: dashboard, alarms",
    ]);
  });
});

describe("the dashboard body", () => {
  const paths = {
    sagemaker: [
      { endpointName: "ep-chat", mode: "realtime", gpus: 1 },
      { endpointName: "ep-batch", mode: "async", gpus: 4 },
      { endpointName: "ep-small", mode: "serverless", gpus: 0 },
    ],
    eks: { clusterName: "c", namespace: "inference", service: "t-triton", workload: "t-triton" },
    fleet: { loadBalancer: "app/lb/1", targetGroup: "targetgroup/tg/2" },
    api: { apiName: "api-1", stage: "v1" },
  };

  it("has one row per serving path, with the graphs each path has", () => {
    const rows = dashboardRows(paths);
    assert.deepStrictEqual(
      rows.map((r) => [r.title, r.graphs.map((g) => g.title)]),
      [
        [
          "SageMaker endpoint ep-chat (realtime)",
          [
            "Invocations",
            "Model latency (µs)",
            "Errors",
            "GPU utilization (% summed over 1 GPU(s))",
          ],
        ],
        [
          "SageMaker endpoint ep-batch (async)",
          [
            "Invocations",
            "Model latency (µs)",
            "Errors",
            "GPU utilization (% summed over 4 GPU(s))",
            "Async backlog",
          ],
        ],
        [
          "SageMaker endpoint ep-small (serverless)",
          ["Invocations", "Model latency (µs)", "Errors"],
        ],
        [
          "Triton on EKS (c/inference)",
          ["Running replicas", "Container restarts", "CPU utilization (%)", "GPU utilization (%)"],
        ],
        [
          "Triton on the EC2 fleet (load balancer)",
          ["Requests", "Target response time (s)", "5xx", "Hosts"],
        ],
        ["API front door (v1)", ["Requests", "Latency (ms)", "Errors (4xx includes throttled)"]],
      ],
    );
  });

  it("lays rows out on the 24-column grid without overlap, each metric naming its dimensions", () => {
    const body = dashboardBody("eu-west-1", paths) as {
      widgets: {
        type: string;
        x: number;
        y: number;
        width: number;
        height: number;
        properties: Record<string, unknown>;
      }[];
    };
    const cells = new Set<string>();
    for (const w of body.widgets) {
      assert.ok(w.x + w.width <= 24, JSON.stringify(w));
      for (let x = w.x; x < w.x + w.width; x++)
        for (let y = w.y; y < w.y + w.height; y++) {
          assert.ok(!cells.has(`${x},${y}`), `overlap at ${x},${y}`);
          cells.add(`${x},${y}`);
        }
    }
    const graphs = body.widgets.filter((w) => w.type === "metric");
    assert.strictEqual(body.widgets.length - graphs.length, 6);
    for (const g of graphs) {
      assert.strictEqual(g.properties.region, "eu-west-1");
      for (const m of g.properties.metrics as unknown[][]) {
        const plain = m.filter((x) => typeof x === "string");
        // namespace, name, then dimension name/value pairs
        assert.ok(plain.length >= 4 && plain.length % 2 === 0, JSON.stringify(m));
      }
    }
    const backlog = graphs.find((g) => g.properties.title === "Async backlog")!;
    assert.deepStrictEqual((backlog.properties.metrics as unknown[][])[0], [
      "AWS/SageMaker",
      "ApproximateBacklogSizePerInstance",
      "EndpointName",
      "ep-batch",
    ]);
  });
});

/** The serving paths a plan has, and the alarms watching each. */
function alarmsByPath(report: PlanReport): Record<string, CapturedResource[]> {
  const res = report.resources;
  const alarms = res.filter((r) => r.type === ALARM);
  const dims = (a: CapturedResource) => (a.inputs.dimensions ?? {}) as Record<string, string>;
  const paths: Record<string, CapturedResource[]> = {};
  for (const e of res.filter((r) => r.type === "aws:sagemaker/endpoint:Endpoint")) {
    const name = String(e.inputs.name);
    // An endpoint of inference components is watched per component.
    const components = res
      .filter(
        (r) =>
          r.type === "aws-native:sagemaker:InferenceComponent" && r.inputs.endpointName === name,
      )
      .map((r) => String(r.inputs.inferenceComponentName));
    paths[`sagemaker:${e.name}`] = alarms.filter(
      (a) => dims(a).EndpointName === name || components.includes(dims(a).InferenceComponentName),
    );
  }
  for (const rel of res.filter((r) => r.type === "kubernetes:helm.sh/v3:Release")) {
    if (!String(rel.inputs.chart).endsWith("triton")) continue;
    paths[`eks:${rel.name}`] = alarms.filter(
      (a) =>
        dims(a).Namespace === rel.inputs.namespace &&
        [dims(a).Service, dims(a).PodName].includes(`${String(rel.inputs.name)}-triton`),
    );
  }
  const fleetScaling = res.find(
    (r) =>
      r.type === "aws:autoscaling/policy:Policy" &&
      JSON.stringify(r.inputs).includes("ALBRequestCountPerTarget"),
  );
  if (fleetScaling) {
    // The scaling policy's label is `<alb arn suffix>/<target group arn suffix>`.
    const label = JSON.stringify(fleetScaling.inputs).match(/"resourceLabel":"([^"]+)"/)![1];
    paths.fleet = alarms.filter((a) => `${dims(a).LoadBalancer}/${dims(a).TargetGroup}` === label);
  }
  const stage = res.find((r) => r.type === "aws:apigateway/stage:Stage");
  if (stage) {
    paths.api = alarms.filter(
      (a) => a.inputs.namespace === "AWS/ApiGateway" && dims(a).Stage === stage.inputs.stageName,
    );
  }
  return paths;
}

describe("alarms and the dashboard of every shipped stack", () => {
  const plans: Record<string, PlanReport> = {};
  before(async () => {
    for (const stack of listStacks()) plans[stack] = await planStack(stack);
  });

  it("alarms on no running Triton pod only where Triton runs at every hour, never in ALARM at rest", () => {
    const noPods = (r: PlanReport) =>
      r.resources.filter(
        (a) => a.type === ALARM && a.inputs.metricName === "service_number_of_running_pods",
      );
    // dev: zero replicas and an off-hours schedule; prod: two replicas at every hour.
    assert.deepStrictEqual(noPods(plans.dev), []);
    assert.deepStrictEqual(
      noPods(plans.prod).map((a) => [a.name, a.inputs.treatMissingData]),
      [["monitoring-triton-no-running-pods", "breaching"]],
    );
    const where = { clusterName: "c", namespace: "inference", service: "t", workload: "t" };
    const roles = (alwaysRunning?: boolean) =>
      tritonEksAlarms(where, DEFAULT_SERVING_ALARM_THRESHOLDS, { alwaysRunning }).map(
        (a) => a.role,
      );
    assert.deepStrictEqual(roles(), ["no-running-pods", "restarts"]);
    assert.deepStrictEqual(roles(false), ["restarts"]);
  });

  it("has an alarm on each serving path, every alarm to the stack's one alarm topic", () => {
    const expected: Record<string, string[]> = {
      dev: ["eks:triton-release", "sagemaker:chat-endpoint"],
      staging: ["api", "eks:triton-release", "fleet", "sagemaker:chat-endpoint"],
      prod: ["api", "eks:triton-release", "sagemaker:batch-endpoint", "sagemaker:chat-endpoint"],
    };
    assert.deepStrictEqual(Object.keys(plans).sort(), Object.keys(expected).sort());
    for (const [stack, report] of Object.entries(plans)) {
      const paths = alarmsByPath(report);
      assert.deepStrictEqual(Object.keys(paths).sort(), expected[stack], stack);
      for (const [path, alarms] of Object.entries(paths))
        // dev's Triton rests by design (zero replicas, nodes stopped off hours): restarts only.
        assert.ok(
          alarms.length >= (stack === "dev" && path === "eks:triton-release" ? 1 : 2),
          `${stack} ${path}: ${alarms.length} alarm(s)`,
        );
      const topics = report.resources.filter((r) => r.type === "aws:sns/topic:Topic");
      const alarmTopic = topics.find((t) => t.name === "alarms-topic");
      assert.ok(alarmTopic, stack);
      for (const a of report.resources.filter((r) => r.type === ALARM)) {
        const actions = a.inputs.alarmActions as string[];
        // The scale-from-zero alarms (async backlog, a component's no-capacity failures) act on
        // their scaling policies instead.
        const scaling = /-(backlog-without-capacity|no-capacity)$/.test(a.name);
        assert.ok(
          scaling
            ? actions.every((x) => x.startsWith("arn:aws:appautoscaling:"))
            : actions.includes(alarmTopic.id!) && actions.length === 1,
          `${stack} ${a.name}: ${actions.join(", ")}`,
        );
      }
    }
  });

  it("prices the dashboard and each alarm in the plan", () => {
    for (const report of Object.values(plans)) {
      const line = report.cost.lines.find((l) => l.resource === "monitoring-dashboard");
      assert.strictEqual(line?.monthlyUsd, 3);
      for (const a of report.resources.filter((r) => r.type === ALARM && r.parent === "monitoring"))
        assert.strictEqual(
          report.cost.lines.find((l) => l.resource === a.name)?.monthlyUsd,
          0.1,
          a.name,
        );
    }
  });

  it("npm run plan -- prod --dashboard prints prod's dashboard body and nothing else", async () => {
    let stdout = "";
    let stderr = "";
    const code = await planMain(["prod", "--dashboard"], {
      out: (s) => void (stdout += s),
      err: (s) => void (stderr += s),
    });
    assert.strictEqual(code, 0, stderr);
    const body = JSON.parse(stdout) as { widgets: { properties: { markdown?: string } }[] };
    assert.deepStrictEqual(body, dashboardOf(plans.prod));
    assert.deepStrictEqual(
      body.widgets.filter((w) => w.properties.markdown).map((w) => w.properties.markdown),
      [
        "## SageMaker endpoint llm-infra-prod-chat (realtime)",
        "## SageMaker endpoint llm-infra-prod-batch (async)",
        `## Triton on EKS (${String(
          plans.prod.resources.find((r) => r.type === "eks:index:Cluster")?.inputs.name,
        )}/inference)`,
        "## API front door (v1)",
      ],
    );
  });

  it("--dashboard of a stack without one exits 2 naming the key", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nodash-"));
    fs.writeFileSync(
      path.join(dir, "Pulumi.nodash.yaml"),
      [
        "config:",
        "  aws:region: us-east-1",
        "  llm-infra:environment: dev",
        "  llm-infra:tags: {team: ml, costCenter: '1'}",
        "  llm-infra:monitoring: {dashboard: false}",
      ].join("\n"),
    );
    let stdout = "";
    let stderr = "";
    const code = await planMain(["nodash", "--dashboard", "--dir", dir], {
      out: (s) => void (stdout += s),
      err: (s) => void (stderr += s),
    });
    assert.strictEqual(code, 2, stderr);
    assert.strictEqual(stdout, "");
    assert.strictEqual(
      stderr,
      "error: stack nodash has no dashboard (llm-infra:monitoring.dashboard is false)\n",
    );
    const report = await planConfig("nodash", {
      "aws:region": "us-east-1",
      "llm-infra:environment": "dev",
      "llm-infra:tags": { team: "ml", costCenter: "1" },
      "llm-infra:monitoring": { dashboard: false },
    });
    assert.strictEqual(dashboardOf(report), undefined);
  });
});
