import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHART_IMAGES, chartImageValues } from "../../catalog/imageSources";
import { HELM_CHARTS } from "../../catalog/kubernetes";
import { PolicyDocument } from "../storage/modelStorePolicies";
import { Tags } from "../tags";
import { ArgError, checkIntegerRange, throwIfInvalid } from "../validation";
import { workloadRole } from "./podIdentity";

/**
 * The shortest scrape interval an AWS managed collector accepts: "The scraper config can't specify
 * a scrape interval of less than 30 seconds" (Amazon Managed Service for Prometheus User Guide,
 * AMP-collector-how-to.html, "Scraper configuration", limitations).
 */
export const MIN_SCRAPE_INTERVAL_SECONDS = 30;

/** KEDA's operator service account (kedacore/charts@v2.20.2 keda/values.yaml). */
export const KEDA_OPERATOR_SERVICE_ACCOUNT = "keda-operator";

export interface MetricsPipelineArgs {
  /** The EKS cluster's name (GpuCluster.clusterName). */
  clusterName: string;
  /** The cluster's ARN: the collector scrapes this cluster. */
  clusterArn: pulumi.Input<string>;
  /** The cluster's region. */
  region: string;
  /** Subnets for the collector's network interfaces: at least two, in two Availability Zones. */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** The cluster security group (the nodes' group), which admits the collector's interfaces. */
  clusterSecurityGroupId: pulumi.Input<string>;
  /** Seconds between scrapes (30 or more; AMP's managed collector minimum). @default 30 */
  scrapeIntervalSeconds?: number;
  /** Namespace of the workloads to scrape (Triton's). @default "inference" */
  namespace?: string;
  /**
   * The stack's ECR images of KEDA, by upstream image (ImageMirror.imageUris); KEDA runs them
   * from there. @default ghcr.io
   */
  imageUris?: pulumi.Input<Record<string, string>>;
  /** Tags for every AWS resource. */
  tags?: Tags;
}

export function validateMetricsPipelineArgs(args: MetricsPipelineArgs): ArgError[] {
  const errors: ArgError[] = [];
  checkIntegerRange(
    errors,
    "scrapeIntervalSeconds",
    args.scrapeIntervalSeconds,
    MIN_SCRAPE_INTERVAL_SECONDS,
    3600,
  );
  return errors;
}

/**
 * The collector's Prometheus configuration: Triton's pods in `namespace` (their `metrics` port,
 * 8002 in charts/triton) and NVIDIA's DCGM exporter pods (the `metrics` port and the
 * `app.kubernetes.io/name: dcgm-exporter` label of NVIDIA/dcgm-exporter@4.2.3-4.1.1
 * deployment/templates/daemonset.yaml and _helpers.tpl), found through `kubernetes_sd_configs`,
 * the only discovery a managed collector supports (AMP-collector-how-to.html, "Supported
 * configuration"). Each series carries `namespace`, `pod` and `release` labels, which the
 * autoscaling queries select on.
 */
export function scrapeConfiguration(args: {
  scrapeIntervalSeconds?: number;
  namespace?: string;
}): string {
  const interval = args.scrapeIntervalSeconds ?? MIN_SCRAPE_INTERVAL_SECONDS;
  const job = (name: string, appName: string, namespace?: string) =>
    [
      `  - job_name: ${name}`,
      `    kubernetes_sd_configs:`,
      `      - role: pod`,
      ...(namespace ? [`        namespaces:`, `          names: [${namespace}]`] : []),
      `    relabel_configs:`,
      `      - source_labels: [__meta_kubernetes_pod_label_app_kubernetes_io_name, __meta_kubernetes_pod_container_port_name]`,
      `        regex: ${appName};metrics`,
      `        action: keep`,
      `      - source_labels: [__meta_kubernetes_namespace]`,
      `        target_label: namespace`,
      `      - source_labels: [__meta_kubernetes_pod_name]`,
      `        target_label: pod`,
      `      - source_labels: [__meta_kubernetes_pod_label_app_kubernetes_io_instance]`,
      `        target_label: release`,
    ].join("\n");
  return [
    `global:`,
    `  scrape_interval: ${interval}s`,
    `scrape_configs:`,
    job("triton", "triton", args.namespace ?? "inference"),
    job("dcgm-exporter", "dcgm-exporter"),
    "",
  ].join("\n");
}

/**
 * What KEDA's operator may do with its Pod Identity role: run PromQL queries on this workspace
 * only. KEDA's Prometheus scaler sends `GET <serverAddress>/api/v1/query` signed with SigV4
 * (kedacore/keda pkg/scalers/prometheus_scaler.go, `ExecutePromQuery` and
 * `aws.NewSigV4RoundTripper`), which AMP authorizes as `aps:QueryMetrics` (AMP User Guide,
 * AMP-and-IAM.html; the AWS managed AmazonPrometheusQueryAccess policy grants it with
 * GetLabels, GetMetricMetadata and GetSeries, which the scaler never calls).
 */
export function kedaQueryPolicy(workspaceArn: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "QueryStackWorkspace",
        Effect: "Allow",
        Action: ["aps:QueryMetrics"],
        Resource: workspaceArn,
      },
    ],
  };
}

/**
 * KEDA's Helm values: on the system nodes, the operator's service account named for Pod Identity;
 * with `imageUris`, its three images from the stack's ECR (catalog/imageSources.ts CHART_IMAGES).
 */
export function kedaValues(clusterName: string, imageUris?: Record<string, string>) {
  const listed = CHART_IMAGES.keda.filter((c) => imageUris?.[c.image] !== undefined);
  return {
    // The root selector is the fallback of all three Deployments (catalog/addonScheduling.ts).
    nodeSelector: { "workload-type": "system" },
    serviceAccount: { operator: { create: true, name: KEDA_OPERATOR_SERVICE_ACCOUNT } },
    clusterName,
    ...chartImageValues(listed, (image) => imageUris![image]),
  };
}

/** The workspace's Prometheus query address, as KEDA's scaler takes it (no trailing slash). */
export function queryEndpoint(region: string, workspaceId: string): string {
  return `https://aps-workspaces.${region}.amazonaws.com/workspaces/${workspaceId}`;
}

/**
 * The metrics pipeline of an EKS cluster, with no step to run by hand: an Amazon Managed Service
 * for Prometheus workspace, AWS's managed collector scraping Triton's and the DCGM exporter's
 * metrics into it, and KEDA, whose Prometheus scaler queries the workspace with its own Pod
 * Identity role to drive Triton's HPA. Pass the cluster's Kubernetes provider in `opts.providers`.
 *
 * The collector reaches the cluster through access entries: with the cluster's authentication mode
 * `API` (GpuCluster), "any scrapers you create through the Amazon Managed Service for Prometheus API
 * ... will automatically have the correct access entry policy created for you" (AMP User Guide,
 * AMP-collector-how-to.html, "Configure Amazon EKS for scraper access with access entries"), so no
 * aws-auth mapping, ClusterRole or binding is created here. The workspace uses AWS's own key: a
 * workspace with a customer managed key takes a managed collector only through a cross-account
 * role configuration (same page, "Creating scraper for workspaces enabled with customer managed
 * keys"). A release that uses KEDA's kinds (Triton's ScaledObject) depends on this component.
 */
export class MetricsPipeline extends pulumi.ComponentResource {
  /** The workspace's id (`ws-...`). */
  public readonly workspaceId: pulumi.Output<string>;
  /** The workspace's ARN. */
  public readonly workspaceArn: pulumi.Output<string>;
  /** The Prometheus query address KEDA's scaler uses. */
  public readonly queryEndpoint: pulumi.Output<string>;
  /** The region of the workspace (KEDA's `awsRegion`). */
  public readonly region: string;

  constructor(name: string, args: MetricsPipelineArgs, opts?: pulumi.ComponentResourceOptions) {
    throwIfInvalid("MetricsPipeline", name, validateMetricsPipelineArgs(args));
    super("llm-infra:index:MetricsPipeline", name, {}, opts);
    this.region = args.region;
    const workspace = new aws.amp.Workspace(
      `${name}-workspace`,
      { alias: `${name}-workspace`, tags: args.tags },
      { parent: this },
    );
    this.createCollector(name, args, workspace);
    this.createKeda(name, args, workspace);
    this.workspaceId = workspace.id;
    this.workspaceArn = workspace.arn;
    this.queryEndpoint = workspace.id.apply((id) => queryEndpoint(args.region, id));
    this.registerOutputs({
      workspaceId: this.workspaceId,
      workspaceArn: this.workspaceArn,
      queryEndpoint: this.queryEndpoint,
    });
  }

  /** The managed collector that scrapes the cluster into the workspace. */
  private createCollector(
    name: string,
    args: MetricsPipelineArgs,
    workspace: aws.amp.Workspace,
  ): aws.amp.Scraper {
    return new aws.amp.Scraper(
      `${name}-collector`,
      {
        alias: `${name}-collector`,
        source: {
          eks: {
            clusterArn: args.clusterArn,
            subnetIds: args.subnetIds,
            securityGroupIds: [args.clusterSecurityGroupId],
          },
        },
        destination: { amp: { workspaceArn: workspace.arn } },
        scrapeConfiguration: scrapeConfiguration(args),
        tags: args.tags,
      },
      { parent: this },
    );
  }

  /** KEDA (Helm), with a Pod Identity role that may only query this workspace. */
  private createKeda(
    name: string,
    args: MetricsPipelineArgs,
    workspace: aws.amp.Workspace,
  ): k8s.helm.v3.Release {
    const chart = HELM_CHARTS.keda;
    const identity = workloadRole(
      `${name}-keda`,
      {
        clusterName: args.clusterName,
        namespace: chart.namespace,
        serviceAccount: KEDA_OPERATOR_SERVICE_ACCOUNT,
        policy: workspace.arn.apply((arn) => JSON.stringify(kedaQueryPolicy(arn))),
        tags: args.tags,
      },
      this,
    );
    return new k8s.helm.v3.Release(
      `${name}-keda`,
      {
        chart: chart.chart,
        repositoryOpts: { repo: chart.repository },
        version: chart.version,
        namespace: chart.namespace,
        createNamespace: true,
        values: pulumi.output(args.imageUris).apply((uris) => kedaValues(args.clusterName, uris)),
        atomic: true,
        cleanupOnFail: true,
      },
      // The operator gets credentials only when its Pod Identity association exists before it.
      { parent: this, dependsOn: identity.ready },
    );
  }
}
