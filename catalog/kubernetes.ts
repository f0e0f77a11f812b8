/**
 * Kubernetes versions and the pinned Helm charts of the EKS add-ons.
 *
 * Sources, read 2026-11-27: the EKS Kubernetes version calendar (1.34 leaves standard support on
 * 2026-12-02; 1.35 and 1.36 are in standard support) and each chart's repository index.
 */

/** Versions in EKS standard support; the first is the default. */
export const EKS_KUBERNETES_VERSIONS = ["1.35", "1.36", "1.34"] as const;
export type KubernetesVersion = (typeof EKS_KUBERNETES_VERSIONS)[number];
export const DEFAULT_KUBERNETES_VERSION = EKS_KUBERNETES_VERSIONS[0];

export interface HelmChart {
  chart: string;
  /** The chart repository (an https index, or empty for an oci:// chart). */
  repository: string;
  version: string;
  namespace: string;
}

export const HELM_CHARTS = {
  nvidiaDevicePlugin: {
    chart: "nvidia-device-plugin",
    repository: "https://nvidia.github.io/k8s-device-plugin",
    version: "0.17.1",
    namespace: "kube-system",
  },
  neuronDevicePlugin: {
    chart: "oci://public.ecr.aws/neuron/neuron-helm-chart",
    repository: "",
    version: "1.1.1",
    namespace: "kube-system",
  },
  /** The chart of the default Kubernetes version; `clusterAutoscalerChart(version)` picks per minor. */
  clusterAutoscaler: {
    chart: "cluster-autoscaler",
    repository: "https://kubernetes.github.io/autoscaler",
    version: "9.59.0",
    namespace: "kube-system",
  },
  loadBalancerController: {
    chart: "aws-load-balancer-controller",
    repository: "https://aws.github.io/eks-charts",
    version: "1.13.3",
    namespace: "kube-system",
  },
  metricsServer: {
    chart: "metrics-server",
    repository: "https://kubernetes-sigs.github.io/metrics-server/",
    version: "3.12.2",
    namespace: "kube-system",
  },
  dcgmExporter: {
    chart: "dcgm-exporter",
    repository: "https://nvidia.github.io/dcgm-exporter/helm-charts",
    version: "4.1.1",
    namespace: "kube-system",
  },
  /**
   * KEDA, which serves Triton's queue metrics from Amazon Managed Service for Prometheus to the HPA
   * (the metrics pipeline). kedacore/charts@v2.20.2 keda/Chart.yaml: version and appVersion 2.20.2;
   * KEDA v2.20 is tested on Kubernetes v1.33-v1.35 (kedacore/keda-docs content/docs/2.20/operate/
   * cluster.md, "Kubernetes Compatibility"), the newest release at the chart's date (2026-07-31).
   */
  keda: {
    chart: "keda",
    repository: "https://kedacore.github.io/charts",
    version: "2.20.2",
    namespace: "keda",
  },
} as const satisfies Record<string, HelmChart>;

/**
 * The cluster autoscaler must match the cluster's Kubernetes minor: kubernetes/autoscaler
 * `cluster-autoscaler/README.md` ("Releases", read at 55c37cd, 2026-08-22) recommends "the latest
 * Cluster Autoscaler release that corresponds to the minor version of Kubernetes that their cluster
 * is running". Charts by the appVersion they ship, read from
 * `cluster-autoscaler/charts/cluster-autoscaler/Chart.yaml` at the tags
 * `cluster-autoscaler-chart-<version>`: 9.53.0 ships 1.34.2; 9.59.0 (the newest chart, 2026-07-21)
 * ships 1.35.0; no chart ships 1.36 yet. The image is the newest release tag of the minor
 * (`cluster-autoscaler-1.34.5`, `-1.35.2`, `-1.36.1`), set through the chart's `image.tag`.
 */
export const CLUSTER_AUTOSCALER_CHARTS: Readonly<
  Record<KubernetesVersion, { version: string; appVersion: string; imageTag: string }>
> = {
  "1.34": { version: "9.53.0", appVersion: "1.34.2", imageTag: "v1.34.5" },
  "1.35": { version: "9.59.0", appVersion: "1.35.0", imageTag: "v1.35.2" },
  "1.36": { version: "9.59.0", appVersion: "1.35.0", imageTag: "v1.36.1" },
};

/** The cluster-autoscaler chart for a cluster's Kubernetes version, and the image tag it runs. */
export function clusterAutoscalerChart(
  kubernetesVersion: string,
): HelmChart & { imageTag: string } {
  const pin = CLUSTER_AUTOSCALER_CHARTS[kubernetesVersion as KubernetesVersion];
  if (!pin) {
    throw new Error(
      `no cluster-autoscaler chart for Kubernetes ${kubernetesVersion}; the catalog has ${Object.keys(CLUSTER_AUTOSCALER_CHARTS).join(", ")}`,
    );
  }
  return { ...HELM_CHARTS.clusterAutoscaler, version: pin.version, imageTag: pin.imageTag };
}
