/**
 * The stack's CloudWatch dashboard as plain data: one row per serving path, each a title and its
 * graphs. The body format is CloudWatch's dashboard body (a `widgets` array of `metric` and `text`
 * widgets on a 24-unit grid, each metric `[namespace, name, dimension, value, ..., {options}]`:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html).
 */

export interface SageMakerPath {
  endpointName: string;
  /** `realtime`, `async` or `serverless`. */
  mode: string;
  /** NVIDIA GPUs per instance (0: no GPU graph). */
  gpus: number;
  /** An endpoint of inference components: their names (InferenceComponentName). */
  components?: string[];
}
export interface FleetPath {
  /** The load balancer's and the target group's ARN suffixes. */
  loadBalancer: string;
  targetGroup: string;
}
export interface ApiPath {
  apiName: string;
  stage: string;
}
export interface EksPath {
  clusterName: string;
  namespace: string;
  service: string;
  workload: string;
}

/** The serving paths of a stack, each present when the stack has it. */
export interface ServingPaths {
  sagemaker: SageMakerPath[];
  fleet?: FleetPath;
  api?: ApiPath;
  eks?: EksPath;
}

type Metric = (string | Record<string, string>)[];
interface Graph {
  title: string;
  metrics: Metric[];
  stat?: string;
}
interface Row {
  title: string;
  graphs: Graph[];
}

const VARIANT = "primary";

/**
 * An endpoint of inference components: invocations, latency and errors per component (the
 * InferenceComponentName dimension of AWS/SageMaker's invocation metrics), and what the copies
 * reserve of the instances (GPUReservation and MemoryReservation, "provided only for endpoints
 * that host active inference components", https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html),
 * which rises and falls with the copy count: CloudWatch has no copy-count metric.
 */
function componentsRow(p: SageMakerPath, components: string[]): Row {
  const each = (namespace: string, metric: string, options?: Record<string, string>) =>
    components.map((c) => [
      namespace,
      metric,
      "InferenceComponentName",
      c,
      ...(options ? [options] : []),
    ]);
  const variant = ["EndpointName", p.endpointName, "VariantName", VARIANT];
  return {
    title: `SageMaker endpoint ${p.endpointName} (inference components: ${components.join(", ")})`,
    graphs: [
      { title: "Invocations", metrics: each("AWS/SageMaker", "Invocations"), stat: "Sum" },
      {
        title: "Model latency p90 (µs)",
        metrics: each("AWS/SageMaker", "ModelLatency", { stat: "p90" }),
      },
      {
        title: "5XX errors and no-capacity failures",
        metrics: [
          ...each("AWS/SageMaker", "Invocation5XXErrors"),
          ...each("AWS/SageMaker", "NoCapacityInvocationFailures"),
        ],
        stat: "Sum",
      },
      {
        title: "Reserved by copies (% of instances)",
        metrics: [
          ["/aws/sagemaker/Endpoints", "GPUReservation", ...variant],
          ["/aws/sagemaker/Endpoints", "MemoryReservation", ...variant],
        ],
        stat: "Average",
      },
    ],
  };
}

function sagemakerRow(p: SageMakerPath): Row {
  if (p.components !== undefined) return componentsRow(p, p.components);
  const variant = ["EndpointName", p.endpointName, "VariantName", VARIANT];
  const graphs: Graph[] = [
    { title: "Invocations", metrics: [["AWS/SageMaker", "Invocations", ...variant]], stat: "Sum" },
    {
      title: "Model latency (µs)",
      metrics: [
        ["AWS/SageMaker", "ModelLatency", ...variant, { stat: "p50" }],
        ["AWS/SageMaker", "ModelLatency", ...variant, { stat: "p90" }],
      ],
    },
    {
      title: "Errors",
      metrics: [
        ["AWS/SageMaker", "Invocation4XXErrors", ...variant],
        ["AWS/SageMaker", "Invocation5XXErrors", ...variant],
      ],
      stat: "Sum",
    },
  ];
  if (p.mode !== "serverless" && p.gpus > 0) {
    graphs.push({
      title: `GPU utilization (% summed over ${p.gpus} GPU(s))`,
      metrics: [
        ["/aws/sagemaker/Endpoints", "GPUUtilization", ...variant],
        ["/aws/sagemaker/Endpoints", "GPUMemoryUtilization", ...variant],
      ],
      stat: "Average",
    });
  }
  if (p.mode === "async") {
    const endpoint = ["EndpointName", p.endpointName];
    graphs.push({
      title: "Async backlog",
      metrics: [
        ["AWS/SageMaker", "ApproximateBacklogSizePerInstance", ...endpoint],
        ["AWS/SageMaker", "ApproximateAgeOfOldestRequest", ...endpoint, { yAxis: "right" }],
      ],
      stat: "Maximum",
    });
  }
  return { title: `SageMaker endpoint ${p.endpointName} (${p.mode})`, graphs };
}

function fleetRow(p: FleetPath): Row {
  const lb = ["LoadBalancer", p.loadBalancer];
  const both = [...lb, "TargetGroup", p.targetGroup];
  const elb = "AWS/ApplicationELB";
  return {
    title: "Triton on the EC2 fleet (load balancer)",
    graphs: [
      { title: "Requests", metrics: [[elb, "RequestCount", ...lb]], stat: "Sum" },
      {
        title: "Target response time (s)",
        metrics: [
          [elb, "TargetResponseTime", ...lb, { stat: "p50" }],
          [elb, "TargetResponseTime", ...lb, { stat: "p90" }],
        ],
      },
      {
        title: "5xx",
        metrics: [
          [elb, "HTTPCode_Target_5XX_Count", ...lb],
          [elb, "HTTPCode_ELB_5XX_Count", ...lb],
        ],
        stat: "Sum",
      },
      {
        title: "Hosts",
        metrics: [
          [elb, "HealthyHostCount", ...both],
          [elb, "UnHealthyHostCount", ...both],
        ],
        stat: "Maximum",
      },
    ],
  };
}

function apiRow(p: ApiPath): Row {
  const api = ["ApiName", p.apiName, "Stage", p.stage];
  const gw = "AWS/ApiGateway";
  return {
    title: `API front door (${p.stage})`,
    graphs: [
      { title: "Requests", metrics: [[gw, "Count", ...api]], stat: "Sum" },
      {
        title: "Latency (ms)",
        metrics: [
          [gw, "Latency", ...api, { stat: "p50" }],
          [gw, "Latency", ...api, { stat: "p90" }],
          [gw, "IntegrationLatency", ...api, { stat: "p90" }],
        ],
      },
      {
        title: "Errors (4xx includes throttled)",
        metrics: [
          [gw, "4XXError", ...api],
          [gw, "5XXError", ...api],
        ],
        stat: "Sum",
      },
    ],
  };
}

/**
 * Container Insights metrics (namespace ContainerInsights): running pods and CPU by service, restarts
 * by workload, GPU utilization by cluster from the add-on's GPU metrics
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-metrics-enhanced-EKS.html).
 */
function eksRow(p: EksPath): Row {
  const ci = "ContainerInsights";
  const service = ["ClusterName", p.clusterName, "Namespace", p.namespace, "Service", p.service];
  const workload = ["ClusterName", p.clusterName, "Namespace", p.namespace, "PodName", p.workload];
  return {
    title: `Triton on EKS (${p.clusterName}/${p.namespace})`,
    graphs: [
      {
        title: "Running replicas",
        metrics: [[ci, "service_number_of_running_pods", ...service]],
        stat: "Maximum",
      },
      {
        title: "Container restarts",
        metrics: [[ci, "pod_number_of_container_restarts", ...workload]],
        stat: "Sum",
      },
      {
        title: "CPU utilization (%)",
        metrics: [[ci, "pod_cpu_utilization", ...service]],
        stat: "Average",
      },
      {
        title: "GPU utilization (%)",
        metrics: [[ci, "node_gpu_utilization", "ClusterName", p.clusterName]],
        stat: "Average",
      },
    ],
  };
}

/** The rows of a stack's dashboard, in a fixed order: SageMaker, EKS, fleet, API. */
export function dashboardRows(paths: ServingPaths): Row[] {
  return [
    ...paths.sagemaker.map(sagemakerRow),
    ...(paths.eks ? [eksRow(paths.eks)] : []),
    ...(paths.fleet ? [fleetRow(paths.fleet)] : []),
    ...(paths.api ? [apiRow(paths.api)] : []),
  ];
}

const GRID = 24;
const TITLE_HEIGHT = 1;
const GRAPH_HEIGHT = 6;

/**
 * The dashboard body: for each row a full-width text title, then its graphs side by side sharing
 * the 24 columns; 1-minute periods over the last 6 hours.
 */
export function dashboardBody(region: string, paths: ServingPaths): Record<string, unknown> {
  const widgets: Record<string, unknown>[] = [];
  let y = 0;
  for (const row of dashboardRows(paths)) {
    widgets.push({
      type: "text",
      x: 0,
      y,
      width: GRID,
      height: TITLE_HEIGHT,
      properties: { markdown: `## ${row.title}` },
    });
    y += TITLE_HEIGHT;
    const width = Math.floor(GRID / row.graphs.length);
    row.graphs.forEach((g, i) => {
      widgets.push({
        type: "metric",
        x: i * width,
        y,
        width,
        height: GRAPH_HEIGHT,
        properties: {
          title: g.title,
          region,
          view: "timeSeries",
          period: 60,
          ...(g.stat !== undefined ? { stat: g.stat } : {}),
          metrics: g.metrics,
        },
      });
    });
    y += GRAPH_HEIGHT;
  }
  return { start: "-PT6H", periodOverride: "inherit", widgets };
}
