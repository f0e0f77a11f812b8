/**
 * Where the add-on charts put their pods when given no values: each chart's default scheduling
 * constraints (node selector, required node affinity, tolerations, resource requests), read from
 * the chart's values.yaml and templates at the version named. The scheduling check applies the
 * release's values on top of these, the way Helm merges values (maps merge, lists are replaced).
 */

export interface WorkloadScheduling {
  /** The workload as the chart names it. */
  workload: string;
  kind: "Deployment" | "DaemonSet";
  /** Pods of a Deployment (DaemonSets: one per matching node). */
  replicas?: number;
  /** Where the chart reads this workload's scheduling values (`[]`: the values' root). */
  valuesPath: string[];
  /** Where the chart reads this workload's resources, when not at `valuesPath` (`["controller"]`). */
  resourcesPath?: string[];
  /** The chart's defaults at that path. */
  defaults: {
    nodeSelector: Record<string, string>;
    affinity: Record<string, unknown>;
    tolerations: Record<string, unknown>[];
    resources: Record<string, unknown>;
  };
  /** A required node affinity the template writes whatever the values say. */
  fixedAffinity?: Record<string, unknown>;
  /** The extended resource the workload advertises on the nodes it runs on (device plugins). */
  advertises?: "nvidia.com/gpu" | "aws.amazon.com/neuron";
  /** A release value that turns the workload off (`["gfd", "enabled"]`), and its default. */
  enabledBy?: { path: string[]; default: boolean };
}

export interface ChartScheduling {
  /** Where these facts were read. */
  source: string;
  workloads: WorkloadScheduling[];
}

const NONE = { nodeSelector: {}, affinity: {}, tolerations: [], resources: {} };

/**
 * NVIDIA/k8s-device-plugin@v0.17.1 deployments/helm/nvidia-device-plugin/values.yaml (`affinity`,
 * `tolerations`, `nodeSelector: {}`, `resources: {}`) and templates/daemonset-device-plugin.yml
 * (reads the four from the values' root).
 */
const NVIDIA_DEVICE_PLUGIN: ChartScheduling = {
  source: "NVIDIA/k8s-device-plugin@v0.17.1 deployments/helm/nvidia-device-plugin/values.yaml",
  workloads: [
    {
      workload: "nvidia-device-plugin",
      kind: "DaemonSet",
      valuesPath: [],
      advertises: "nvidia.com/gpu",
      defaults: {
        nodeSelector: {},
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                {
                  matchExpressions: [
                    {
                      key: "feature.node.kubernetes.io/pci-10de.present",
                      operator: "In",
                      values: ["true"],
                    },
                  ],
                },
                {
                  matchExpressions: [
                    {
                      key: "feature.node.kubernetes.io/cpu-model.vendor_id",
                      operator: "In",
                      values: ["NVIDIA"],
                    },
                  ],
                },
                {
                  matchExpressions: [
                    { key: "nvidia.com/gpu.present", operator: "In", values: ["true"] },
                  ],
                },
              ],
            },
          },
        },
        tolerations: [
          { key: "CriticalAddonsOnly", operator: "Exists" },
          { key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" },
        ],
        resources: {},
      },
    },
  ],
};

/**
 * aws-neuron/neuron-helm-charts charts/neuron-helm-chart, read at 8172e5e (chart version 1.0.0, the
 * newest in that repository's source; the 1.1.1 the catalog pins is published only as an OCI
 * artifact): values.yaml `devicePlugin.tolerations`, `devicePlugin.nodeSelector: {}`, and
 * templates/device-plugin-daemonset.yaml, which writes a required affinity on
 * `node.kubernetes.io/instance-type` In `neuronInstances` whatever the values say.
 */
const NEURON_INSTANCES = [
  "trn1.2xlarge",
  "trn1.32xlarge",
  "trn1n.32xlarge",
  "inf1.xlarge",
  "inf1.2xlarge",
  "inf1.6xlarge",
  "inf1.24xlarge",
  "inf2.xlarge",
  "inf2.8xlarge",
  "inf2.24xlarge",
  "inf2.48xlarge",
  "inf2e.32xlarge",
];
const NEURON_DEVICE_PLUGIN: ChartScheduling = {
  source:
    "aws-neuron/neuron-helm-charts@8172e5e charts/neuron-helm-chart (1.0.0) values.yaml, templates/device-plugin-daemonset.yaml",
  workloads: [
    {
      workload: "neuron-device-plugin",
      kind: "DaemonSet",
      valuesPath: ["devicePlugin"],
      advertises: "aws.amazon.com/neuron",
      defaults: {
        nodeSelector: {},
        affinity: {},
        tolerations: [
          { key: "CriticalAddonsOnly", operator: "Exists" },
          { key: "aws.amazon.com/neuron", operator: "Exists", effect: "NoSchedule" },
        ],
        resources: {},
      },
      fixedAffinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              {
                matchExpressions: [
                  {
                    key: "node.kubernetes.io/instance-type",
                    operator: "In",
                    values: NEURON_INSTANCES,
                  },
                ],
              },
            ],
          },
        },
      },
    },
  ],
};

/**
 * kubernetes/autoscaler cluster-autoscaler/charts/cluster-autoscaler/values.yaml at
 * cluster-autoscaler-chart-9.53.0 and -9.59.0: `affinity: {}`, `nodeSelector: {}`,
 * `tolerations: []`, `resources: {}`.
 */
const CLUSTER_AUTOSCALER: ChartScheduling = {
  source:
    "kubernetes/autoscaler@cluster-autoscaler-chart-9.53.0 and -9.59.0 charts/cluster-autoscaler/values.yaml",
  workloads: [
    {
      workload: "cluster-autoscaler",
      kind: "Deployment",
      replicas: 1,
      valuesPath: [],
      defaults: NONE,
    },
  ],
};

/**
 * kubernetes-sigs/aws-load-balancer-controller@v2.13.3 helm/aws-load-balancer-controller/
 * values.yaml: `replicaCount: 2`, `nodeSelector: {}`, `tolerations: []`, `affinity: {}` (the
 * default affinity it adds, `configureDefaultAffinity`, is a preferred anti-affinity).
 */
const LOAD_BALANCER_CONTROLLER: ChartScheduling = {
  source: "kubernetes-sigs/aws-load-balancer-controller@v2.13.3 helm/aws-load-balancer-controller",
  workloads: [
    {
      workload: "aws-load-balancer-controller",
      kind: "Deployment",
      replicas: 2,
      valuesPath: [],
      defaults: NONE,
    },
  ],
};

/**
 * kubernetes-sigs/metrics-server@metrics-server-helm-chart-3.12.2 charts/metrics-server/values.yaml:
 * `replicas: 1`, requests 100m CPU and 200Mi memory, no selector, tolerations or affinity.
 */
const METRICS_SERVER: ChartScheduling = {
  source: "kubernetes-sigs/metrics-server@metrics-server-helm-chart-3.12.2 values.yaml",
  workloads: [
    {
      workload: "metrics-server",
      kind: "Deployment",
      replicas: 1,
      valuesPath: [],
      defaults: { ...NONE, resources: { requests: { cpu: "100m", memory: "200Mi" } } },
    },
  ],
};

/** NVIDIA/dcgm-exporter@4.2.3-4.1.1 deployment/values.yaml (chart 4.1.1): all empty. */
const DCGM_EXPORTER: ChartScheduling = {
  source: "NVIDIA/dcgm-exporter@4.2.3-4.1.1 deployment/values.yaml",
  workloads: [{ workload: "dcgm-exporter", kind: "DaemonSet", valuesPath: [], defaults: NONE }],
};

/**
 * kedacore/charts@v2.20.2 keda/values.yaml and templates/{manager,metrics-server,webhooks}/
 * deployment.yaml: three Deployments, one replica each (`operator.replicaCount`,
 * `metricsServer.replicaCount`, `webhooks.replicaCount`: 1); each template writes
 * `nodeSelector: kubernetes.io/os: linux` plus `.Values.<workload>.nodeSelector | default
 * .Values.nodeSelector`, and reads tolerations and affinity the same way (all empty by default), so
 * the values' root applies to all three. Requests come from `resources.operator`,
 * `resources.metricServer` and `resources.webhooks`: 100m CPU and 100Mi each (the release does
 * not set `resources`).
 */
const KEDA_REQUESTS = { requests: { cpu: "100m", memory: "100Mi" } };
const KEDA: ChartScheduling = {
  source: "kedacore/charts@v2.20.2 keda/values.yaml, templates/*/deployment.yaml",
  workloads: [
    ["keda-operator", "operator"],
    ["keda-operator-metrics-apiserver", "metricsServer"],
    ["keda-admission-webhooks", "webhooks"],
  ].map(([workload]) => ({
    workload,
    kind: "Deployment" as const,
    replicas: 1,
    valuesPath: [],
    defaults: {
      nodeSelector: { "kubernetes.io/os": "linux" },
      affinity: {},
      tolerations: [],
      resources: KEDA_REQUESTS,
    },
  })),
};

/**
 * The values keys of the KEDA chart (kedacore/charts@v2.20.2 keda/values.yaml) that the metrics
 * pipeline sets, each a path that exists in that file: a key the chart does not read would be
 * ignored without a word, so test/metricsPipeline.test.ts checks every value we pass against this.
 */
export const KEDA_VALUES_KEYS: Readonly<Record<string, readonly string[]>> = {
  "2.20.2": [
    // values.yaml `nodeSelector: {}` and `tolerations: []` at the root (the fallbacks of all three).
    "nodeSelector",
    "tolerations",
    // `serviceAccount.operator.create: true`, `serviceAccount.operator.name: keda-operator`.
    "serviceAccount.operator.create",
    "serviceAccount.operator.name",
    // `clusterName: kubernetes-default` (used in CloudEvents).
    "clusterName",
    // `image.<keda|metricsApiServer|webhooks>.{registry,repository,tag}` (ghcr.io, kedacore/...,
    // "" for the appVersion), set when the images come from the stack's ECR.
    ...["keda", "metricsApiServer", "webhooks"].flatMap((k) =>
      ["registry", "repository", "tag"].map((f) => `image.${k}.${f}`),
    ),
  ],
};

/**
 * Karpenter's controller: aws/karpenter-provider-aws@c88abbb (release-v1.14.1) charts/karpenter/
 * values.yaml: `replicas: 2`, `nodeSelector: { kubernetes.io/os: linux }`, `affinity` (a required
 * node affinity `karpenter.sh/nodepool DoesNotExist`, so it never runs on a node it launched, and a
 * required pod anti-affinity on the hostname), `tolerations: [{ key: CriticalAddonsOnly, operator:
 * Exists }]`, `controller.resources: {}`; templates/deployment.yaml reads the first four at the
 * values' root and the resources at `controller.resources`.
 */
const KARPENTER: ChartScheduling = {
  source:
    "aws/karpenter-provider-aws@c88abbb charts/karpenter/values.yaml, templates/deployment.yaml",
  workloads: [
    {
      workload: "karpenter",
      kind: "Deployment",
      replicas: 2,
      valuesPath: [],
      resourcesPath: ["controller", "resources"],
      defaults: {
        nodeSelector: { "kubernetes.io/os": "linux" },
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                {
                  matchExpressions: [{ key: "karpenter.sh/nodepool", operator: "DoesNotExist" }],
                },
              ],
            },
          },
          podAntiAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
              { topologyKey: "kubernetes.io/hostname" },
            ],
          },
        },
        tolerations: [{ key: "CriticalAddonsOnly", operator: "Exists" }],
        resources: {},
      },
    },
  ],
};

/** Karpenter's CRDs (charts/karpenter-crd at the same commit): CustomResourceDefinitions, no pods. */
const KARPENTER_CRDS: ChartScheduling = {
  source: "aws/karpenter-provider-aws@c88abbb charts/karpenter-crd/templates (CRDs only)",
  workloads: [],
};

/** Scheduling facts by chart name and version. */
export const ADDON_SCHEDULING: Readonly<Record<string, Readonly<Record<string, ChartScheduling>>>> =
  {
    "nvidia-device-plugin": { "0.17.1": NVIDIA_DEVICE_PLUGIN },
    "oci://public.ecr.aws/neuron/neuron-helm-chart": { "1.1.1": NEURON_DEVICE_PLUGIN },
    "cluster-autoscaler": { "9.53.0": CLUSTER_AUTOSCALER, "9.59.0": CLUSTER_AUTOSCALER },
    "aws-load-balancer-controller": { "1.13.3": LOAD_BALANCER_CONTROLLER },
    "metrics-server": { "3.12.2": METRICS_SERVER },
    "oci://public.ecr.aws/karpenter/karpenter": { "1.14.1": KARPENTER },
    "oci://public.ecr.aws/karpenter/karpenter-crd": { "1.14.1": KARPENTER_CRDS },
    "dcgm-exporter": { "4.1.1": DCGM_EXPORTER },
    keda: { "2.20.2": KEDA },
  };

/** Runs on every Linux node EKS manages, whatever its labels (required affinity on this key). */
const NOT_FARGATE = {
  nodeAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [
        {
          matchExpressions: [
            { key: "eks.amazonaws.com/compute-type", operator: "NotIn", values: ["fargate"] },
          ],
        },
      ],
    },
  },
};
const TOLERATE_ALL = [{ operator: "Exists" }];
const daemonSet = (
  workload: string,
  resources: Record<string, unknown>,
  extra: Partial<WorkloadScheduling> = {},
): WorkloadScheduling => ({
  workload,
  kind: "DaemonSet",
  valuesPath: [],
  defaults: { nodeSelector: {}, affinity: NOT_FARGATE, tolerations: TOLERATE_ALL, resources },
  ...extra,
});

/**
 * The DaemonSets of the add-ons EKS installs or manages (aws:eks/addon by `addonName`), with their
 * default requests and scheduling: every one tolerates every taint and lands on every EC2 node
 * (affinities exclude Fargate, hybrid and Auto Mode nodes only), unless its own affinity says
 * otherwise. The scheduling check counts their requests against each node's allocatable; it does
 * not check where they land (EKS runs them).
 */
export const EKS_MANAGED_DAEMONSETS: Readonly<Record<string, ChartScheduling>> = {
  /**
   * aws/amazon-vpc-cni-k8s@v1.23.0 config/master/aws-k8s-cni.yaml: DaemonSet aws-node, init
   * container aws-vpc-cni-init 25m, containers aws-node 25m and aws-eks-nodeagent 25m (the pod
   * requests their sum, 50m, above the init container's 25m), no memory requests,
   * `tolerations: [{operator: Exists}]`.
   */
  "vpc-cni": {
    source: "aws/amazon-vpc-cni-k8s@v1.23.0 config/master/aws-k8s-cni.yaml",
    workloads: [daemonSet("aws-node", { requests: { cpu: "50m" } })],
  },
  /**
   * EKS publishes no kube-proxy manifest; it sets no memory request (aws/containers-roadmap#1509)
   * and its CPU request could not be read from a public source, so none is counted here.
   */
  "kube-proxy": {
    source: "not published; no memory request per aws/containers-roadmap#1509",
    workloads: [daemonSet("kube-proxy", {})],
  },
  /**
   * aws/eks-pod-identity-agent@v0.1.37 charts/eks-pod-identity-agent/values.yaml: `resources: {}`,
   * `tolerations: [{operator: Exists}]`.
   */
  "eks-pod-identity-agent": {
    source: "aws/eks-pod-identity-agent@v0.1.37 charts/eks-pod-identity-agent/values.yaml",
    workloads: [daemonSet("eks-pod-identity-agent", {})],
  },
  /**
   * kubernetes-sigs/aws-efs-csi-driver@helm-chart-aws-efs-csi-driver-4.4.1
   * charts/aws-efs-csi-driver/values.yaml: `node.resources: {}` and `sidecars.*.resources: {}`,
   * `node.tolerations: [{operator: Exists}]`.
   */
  "aws-efs-csi-driver": {
    source:
      "kubernetes-sigs/aws-efs-csi-driver@helm-chart-aws-efs-csi-driver-4.4.1 charts/aws-efs-csi-driver/values.yaml",
    workloads: [daemonSet("efs-csi-node", {})],
  },
  /**
   * aws-observability/helm-charts@amazon-cloudwatch-observability-6.4.0
   * charts/amazon-cloudwatch-observability/values.yaml: root `tolerations: [{operator: Exists}]`
   * (each DaemonSet's own tolerations default to it); `agent.resources.requests` 250m/128Mi;
   * `containerLogs.fluentBit.resources.requests` 50m/25Mi; `dcgmExporter.resources.requests`
   * 250m/128Mi with a required affinity on NVIDIA GPU instance types; `neuronMonitor` 256m/128Mi on
   * Inferentia and Trainium types (node-exporter runs only with `otelContainerInsights`, off by
   * default).
   */
  "amazon-cloudwatch-observability": {
    source:
      "aws-observability/helm-charts@amazon-cloudwatch-observability-6.4.0 charts/amazon-cloudwatch-observability/values.yaml",
    workloads: [
      daemonSet("cloudwatch-agent", { requests: { cpu: "250m", memory: "128Mi" } }),
      daemonSet("fluent-bit", { requests: { cpu: "50m", memory: "25Mi" } }),
      daemonSet(
        "dcgm-exporter",
        { requests: { cpu: "250m", memory: "128Mi" } },
        {
          fixedAffinity: instanceTypeAffinity([
            "g5.xlarge",
            "g5.2xlarge",
            "g5.4xlarge",
            "g5.8xlarge",
            "g5.12xlarge",
            "g5.16xlarge",
            "g5.24xlarge",
            "g5.48xlarge",
            "g6.xlarge",
            "g6.2xlarge",
            "g6.12xlarge",
            "g6.48xlarge",
            "g6e.xlarge",
            "g6e.2xlarge",
            "g6e.12xlarge",
            "g6e.48xlarge",
            "p4d.24xlarge",
            "p4de.24xlarge",
            "p5.48xlarge",
          ]),
        },
      ),
      daemonSet(
        "neuron-monitor",
        { requests: { cpu: "256m", memory: "128Mi" } },
        {
          fixedAffinity: instanceTypeAffinity([
            "inf2.xlarge",
            "inf2.8xlarge",
            "inf2.24xlarge",
            "inf2.48xlarge",
            "trn1.2xlarge",
            "trn1.32xlarge",
          ]),
        },
      ),
    ],
  },
};

/** A required node affinity on instance types (the catalog's types among those a chart lists). */
function instanceTypeAffinity(types: string[]) {
  return {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [
          {
            matchExpressions: [
              { key: "node.kubernetes.io/instance-type", operator: "In", values: types },
            ],
          },
        ],
      },
    },
  };
}

/**
 * The add-ons every EKS cluster gets unless `bootstrapSelfManagedAddons` is false (EKS API
 * CreateCluster: "the default networking add-ons include vpc-cni, coredns, and kube-proxy"; coredns
 * is a Deployment).
 */
export const EKS_BOOTSTRAP_ADDONS = ["vpc-cni", "kube-proxy"];
