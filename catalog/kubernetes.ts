/**
 * Kubernetes versions and the pinned Helm charts of the EKS add-ons.
 *
 * Sources, read 2026-11-27: the EKS Kubernetes version calendar (1.34 leaves standard support on
 * 2026-12-02; 1.35 and 1.36 are in standard support) and each chart's repository index.
 */

/** Versions in EKS standard support; the first is the default. */
export const EKS_KUBERNETES_VERSIONS = ["1.35", "1.36", "1.34"] as const;
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
  clusterAutoscaler: {
    chart: "cluster-autoscaler",
    repository: "https://kubernetes.github.io/autoscaler",
    version: "9.46.6",
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
} as const satisfies Record<string, HelmChart>;
