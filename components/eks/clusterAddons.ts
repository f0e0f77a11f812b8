import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  DEFAULT_KUBERNETES_VERSION,
  EKS_KUBERNETES_VERSIONS,
  HELM_CHARTS,
  HelmChart,
  clusterAutoscalerChart,
} from "../../catalog/kubernetes";
import {
  CHART_IMAGES,
  NEURON_DEVICE_PLUGIN_IMAGE,
  chartImageValues,
  clusterAutoscalerImage,
  parseImageRef,
} from "../../catalog/imageSources";
import { PolicyDocument } from "../storage/modelStorePolicies";
import { Tags } from "../tags";
import { ArgError, checkOneOf, throwIfInvalid } from "../validation";
import { clusterAutoscalerPolicy, loadBalancerControllerPolicy } from "./addonPolicies";
import { workloadRole } from "./podIdentity";

export const GpuMetrics = {
  /** The CloudWatch observability add-on with Container Insights (GPU metrics included). */
  CloudWatch: "cloudwatch",
  /** NVIDIA's DCGM exporter for Prometheus. */
  Dcgm: "dcgm",
  None: "none",
} as const;
export type GpuMetrics = (typeof GpuMetrics)[keyof typeof GpuMetrics];

export const AutoscalerExpander = {
  LeastWaste: "least-waste",
  Priority: "priority",
  Price: "price",
  MostPods: "most-pods",
  Random: "random",
} as const;
export type AutoscalerExpander = (typeof AutoscalerExpander)[keyof typeof AutoscalerExpander];

export interface ClusterAddonsArgs {
  /** The EKS cluster's name (GpuCluster.clusterName). */
  clusterName: string;
  /**
   * The cluster's Kubernetes version (GpuCluster.kubernetesVersion): the autoscaler chart and image
   * match its minor. @default the catalog's default ("1.35")
   */
  kubernetesVersion?: string;
  /** The cluster's region (the autoscaler and the load balancer controller need it). */
  region: string;
  /** The cluster's VPC (the load balancer controller needs it). */
  vpcId: pulumi.Input<string>;
  /** NVIDIA device plugin (Helm), tolerating the GPU taint. @default true */
  nvidiaDevicePlugin?: boolean;
  /** Neuron device plugin (Helm), for Inferentia and Trainium groups. @default false */
  neuronDevicePlugin?: boolean;
  /** Cluster autoscaler (Helm), allowed to change only this cluster's tagged groups. @default true */
  clusterAutoscaler?: boolean;
  /** How the autoscaler picks a group to grow. @default "least-waste" */
  autoscalerExpander?: AutoscalerExpander;
  /** AWS Load Balancer Controller (Helm) for Ingress and Service load balancers. @default true */
  loadBalancerController?: boolean;
  /** EFS CSI driver (EKS add-on) for the shared model cache. @default true */
  efsCsiDriver?: boolean;
  /** metrics-server (Helm), which the HPA reads CPU and memory from. @default true */
  metricsServer?: boolean;
  /** GPU metrics: `cloudwatch`, `dcgm` or `none`. @default "cloudwatch" */
  gpuMetrics?: GpuMetrics;
  /**
   * The nodes' subnets have no NAT gateway: the load balancer controller runs with its Shield, WAF
   * and WAFv2 add-ons off, as EKS asks for private clusters (those services have no VPC endpoint;
   * https://docs.aws.amazon.com/eks/latest/userguide/private-clusters.html). @default false
   */
  withoutNat?: boolean;
  /**
   * The stack's ECR images of the add-ons, by upstream image (ImageMirror.imageUris): each chart
   * whose images are listed runs them from there, pinned by tag. @default each chart's registry
   */
  imageUris?: pulumi.Input<Record<string, string>>;
  /** Tags for every AWS resource. */
  tags?: Tags;
}

export function validateClusterAddonsArgs(args: ClusterAddonsArgs): ArgError[] {
  const errors: ArgError[] = [];
  checkOneOf(errors, "kubernetesVersion", args.kubernetesVersion, [...EKS_KUBERNETES_VERSIONS]);
  checkOneOf(errors, "gpuMetrics", args.gpuMetrics, Object.values(GpuMetrics));
  checkOneOf(
    errors,
    "autoscalerExpander",
    args.autoscalerExpander,
    Object.values(AutoscalerExpander),
  );
  return errors;
}

const GPU_TOLERATION = { key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" };
const NEURON_TOLERATION = {
  key: "aws.amazon.com/neuron",
  operator: "Exists",
  effect: "NoSchedule",
};
/** Cluster services run on the system node group. */
const SYSTEM_NODES = { "workload-type": "system" };

/**
 * A required node affinity for one accelerator kind. nvidia-device-plugin 0.17.1's chart requires,
 * by default, one of `feature.node.kubernetes.io/pci-10de.present`,
 * `feature.node.kubernetes.io/cpu-model.vendor_id` (Node Feature Discovery labels) or
 * `nvidia.com/gpu.present` (NVIDIA/k8s-device-plugin@v0.17.1
 * deployments/helm/nvidia-device-plugin/values.yaml, `affinity`). Helm replaces lists, so these
 * `nodeSelectorTerms` replace the default terms: the plugin lands on the nodes we label.
 */
export function acceleratorAffinity(kind: "nvidia" | "neuron") {
  return {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [
          {
            matchExpressions: [
              { key: "llm-infra/accelerator-kind", operator: "In", values: [kind] },
            ],
          },
        ],
      },
    },
  };
}

/** The load balancer controller's values in a VPC without NAT: no Shield, WAF or WAFv2 calls. */
export const LB_CONTROLLER_WITHOUT_NAT = {
  enableShield: false,
  enableWaf: false,
  enableWafv2: false,
} as const;

/**
 * The upstream images each add-on runs, by the key of `addonValues`: what an image mirror must
 * serve for the add-ons to pull from the stack's ECR.
 */
export function addonImages(args: Pick<ClusterAddonsArgs, "kubernetesVersion">) {
  const autoscaler = clusterAutoscalerChart(args.kubernetesVersion ?? DEFAULT_KUBERNETES_VERSION);
  return {
    nvidiaDevicePlugin: CHART_IMAGES["nvidia-device-plugin"],
    clusterAutoscaler: [clusterAutoscalerImage(autoscaler.imageTag)],
    loadBalancerController: CHART_IMAGES["aws-load-balancer-controller"],
    metricsServer: CHART_IMAGES["metrics-server"],
    dcgmExporter: CHART_IMAGES["dcgm-exporter"],
  };
}

/** The upstream images of the add-ons the arguments turn on. */
export function enabledAddonImages(
  args: Pick<
    ClusterAddonsArgs,
    | "kubernetesVersion"
    | "nvidiaDevicePlugin"
    | "neuronDevicePlugin"
    | "metricsServer"
    | "clusterAutoscaler"
    | "loadBalancerController"
    | "gpuMetrics"
  >,
): string[] {
  const images = addonImages(args);
  const on = [
    (args.nvidiaDevicePlugin ?? true) && images.nvidiaDevicePlugin,
    (args.metricsServer ?? true) && images.metricsServer,
    (args.clusterAutoscaler ?? true) && images.clusterAutoscaler,
    (args.loadBalancerController ?? true) && images.loadBalancerController,
    (args.gpuMetrics ?? "cloudwatch") === "dcgm" && images.dcgmExporter,
  ];
  return [
    ...on.flatMap((list) => (list ? list.map((c) => c.image) : [])),
    ...((args.neuronDevicePlugin ?? false) ? [NEURON_DEVICE_PLUGIN_IMAGE] : []),
  ];
}

/** Deep merge of plain objects (the second wins; lists are replaced, as Helm does). */
function merge<T extends object>(a: T, b: Record<string, unknown>): T {
  const out = { ...a } as Record<string, unknown>;
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] =
      prev && v && typeof prev === "object" && typeof v === "object" && !Array.isArray(v)
        ? merge(prev as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out as T;
}

/**
 * Helm values of each add-on, as pure functions of the arguments; with `imageUris`, the images of
 * every add-on it lists come from those (the stack's ECR) instead of the chart's registry. Without,
 * an image the catalog pins by digest (catalog/imageSources.ts PUBLISHED_DIGESTS) is still set, from
 * its own registry, so the chart runs `tag@digest` rather than its default tag alone.
 */
export function addonValues(args: ClusterAddonsArgs, imageUris?: Record<string, string>) {
  const base = baseAddonValues(args);
  const images = addonImages(args);
  const uris =
    imageUris ??
    Object.fromEntries(
      Object.values(images)
        .flat()
        .filter((c) => parseImageRef(c.image).digest !== undefined)
        .map((c) => [c.image, c.image]),
    );
  const overlay = (key: keyof ReturnType<typeof addonImages>) => {
    const listed = images[key].filter((c) => uris[c.image] !== undefined);
    return chartImageValues(listed, (image) => uris[image]);
  };
  const neuron = uris[NEURON_DEVICE_PLUGIN_IMAGE];
  return {
    ...base,
    nvidiaDevicePlugin: merge(base.nvidiaDevicePlugin, overlay("nvidiaDevicePlugin")),
    clusterAutoscaler: merge(base.clusterAutoscaler, overlay("clusterAutoscaler")),
    loadBalancerController: merge(base.loadBalancerController, overlay("loadBalancerController")),
    metricsServer: merge(base.metricsServer, overlay("metricsServer")),
    dcgmExporter: merge(base.dcgmExporter, overlay("dcgmExporter")),
    neuronDevicePlugin: neuron
      ? merge(base.neuronDevicePlugin, {
          devicePlugin: { image: { repository: neuron.slice(0, neuron.lastIndexOf(":")) } },
        })
      : base.neuronDevicePlugin,
  };
}

function baseAddonValues(args: ClusterAddonsArgs) {
  const autoscaler = clusterAutoscalerChart(args.kubernetesVersion ?? DEFAULT_KUBERNETES_VERSION);
  return {
    nvidiaDevicePlugin: {
      tolerations: [GPU_TOLERATION],
      nodeSelector: { "llm-infra/accelerator-kind": "nvidia" },
      affinity: acceleratorAffinity("nvidia"),
    },
    neuronDevicePlugin: {
      devicePlugin: {
        enabled: true,
        tolerations: [NEURON_TOLERATION],
        nodeSelector: { "llm-infra/accelerator-kind": "neuron" },
      },
      npd: { enabled: false },
      scheduler: { enabled: false },
    },
    clusterAutoscaler: {
      image: { tag: autoscaler.imageTag },
      autoDiscovery: { clusterName: args.clusterName },
      awsRegion: args.region,
      rbac: { serviceAccount: { create: true, name: "cluster-autoscaler" } },
      extraArgs: {
        expander: args.autoscalerExpander ?? "least-waste",
        "balance-similar-node-groups": true,
        "skip-nodes-with-system-pods": false,
        "scale-down-unneeded-time": "10m",
        // "If you are running a private cluster in a VPC without certain VPC interfaces for AWS
        // services, the CA might crash on startup due to failing to dynamically fetch supported
        // EC2-instance types. To avoid this, add the argument `--aws-use-static-instance-list=true`"
        // (kubernetes/autoscaler@cluster-autoscaler-chart-9.59.0 cluster-autoscaler/
        // cloudprovider/aws/README.md, "Common Notes and Gotchas"; the chart passes each
        // `extraArgs` key as `--<key>=<value>`, templates/deployment.yaml).
        ...(args.withoutNat ? { "aws-use-static-instance-list": true } : {}),
      },
      nodeSelector: SYSTEM_NODES,
    },
    loadBalancerController: {
      clusterName: args.clusterName,
      region: args.region,
      vpcId: args.vpcId,
      serviceAccount: { create: true, name: "aws-load-balancer-controller" },
      nodeSelector: SYSTEM_NODES,
      // The chart passes each as --enable-<addon> only when it is a boolean (aws-load-balancer-
      // controller@v2.13.3 helm/aws-load-balancer-controller/templates/deployment.yaml); unset,
      // the controller's default is on (values.yaml: "default true").
      ...(args.withoutNat ? LB_CONTROLLER_WITHOUT_NAT : {}),
    },
    metricsServer: { nodeSelector: SYSTEM_NODES },
    dcgmExporter: {
      tolerations: [GPU_TOLERATION],
      nodeSelector: { "llm-infra/accelerator-kind": "nvidia" },
      // The chart renders a ServiceMonitor by default (NVIDIA/dcgm-exporter@4.2.3-4.1.1
      // deployment/values.yaml: `serviceMonitor.enabled: true`); its CRD comes with the Prometheus
      // Operator, which this package does not install, so the install would fail without it.
      serviceMonitor: { enabled: false },
    },
  };
}

/** An EKS managed add-on whose service account gets a role with one AWS managed policy. */
interface ManagedAddon {
  /** The suffix of the role's and the add-on's resource names. */
  role: string;
  addonName: string;
  namespace: string;
  serviceAccount: string;
  policyArn: string;
}

const EFS_CSI_DRIVER: ManagedAddon = {
  role: "efs-csi",
  addonName: "aws-efs-csi-driver",
  namespace: "kube-system",
  serviceAccount: "efs-csi-controller-sa",
  policyArn: "arn:aws:iam::aws:policy/service-role/AmazonEFSCSIDriverPolicy",
};

const CLOUDWATCH_OBSERVABILITY: ManagedAddon = {
  role: "cloudwatch",
  addonName: "amazon-cloudwatch-observability",
  namespace: "amazon-cloudwatch",
  serviceAccount: "cloudwatch-agent",
  policyArn: "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy",
};

/**
 * The cluster's add-ons, each optional, with pinned chart versions and their own Pod Identity
 * roles. Pass the cluster's Kubernetes provider in `opts.providers`.
 */
export class ClusterAddons extends pulumi.ComponentResource {
  /** The Helm releases installed, by release name (device plugins, autoscaler, controllers). */
  public readonly releaseNames: pulumi.Output<string[]>;
  /** The EKS managed add-ons installed (aws-efs-csi-driver, amazon-cloudwatch-observability). */
  public readonly addonNames: pulumi.Output<string[]>;

  constructor(name: string, args: ClusterAddonsArgs, opts?: pulumi.ComponentResourceOptions) {
    throwIfInvalid("ClusterAddons", name, validateClusterAddonsArgs(args));
    super("llm-infra:index:ClusterAddons", name, {}, opts);
    const values = pulumi
      .output(args.imageUris)
      .apply((uris) => pulumi.output(addonValues(args, uris)));
    const releases: k8s.helm.v3.Release[] = [];
    const addons: aws.eks.Addon[] = [];

    if (args.nvidiaDevicePlugin ?? true)
      releases.push(
        this.createRelease(
          name,
          "nvidia-device-plugin",
          HELM_CHARTS.nvidiaDevicePlugin,
          values.nvidiaDevicePlugin,
        ),
      );
    if (args.neuronDevicePlugin ?? false)
      releases.push(
        this.createRelease(
          name,
          "neuron-device-plugin",
          HELM_CHARTS.neuronDevicePlugin,
          values.neuronDevicePlugin,
        ),
      );
    if (args.metricsServer ?? true)
      releases.push(
        this.createRelease(name, "metrics-server", HELM_CHARTS.metricsServer, values.metricsServer),
      );
    if (args.clusterAutoscaler ?? true)
      releases.push(this.createClusterAutoscaler(name, args, values.clusterAutoscaler));
    if (args.loadBalancerController ?? true)
      releases.push(this.createLoadBalancerController(name, args, values.loadBalancerController));
    if (args.efsCsiDriver ?? true) addons.push(this.createManagedAddon(name, args, EFS_CSI_DRIVER));
    const gpuMetrics = args.gpuMetrics ?? "cloudwatch";
    if (gpuMetrics === "cloudwatch")
      addons.push(this.createManagedAddon(name, args, CLOUDWATCH_OBSERVABILITY));
    else if (gpuMetrics === "dcgm")
      releases.push(
        this.createRelease(name, "dcgm-exporter", HELM_CHARTS.dcgmExporter, values.dcgmExporter),
      );

    this.releaseNames = pulumi.all(releases.map((r) => r.name));
    this.addonNames = pulumi.all(addons.map((a) => a.addonName));
    this.registerOutputs({ releaseNames: this.releaseNames, addonNames: this.addonNames });
  }

  /** A Helm release of a pinned chart, rolled back if it fails (`atomic`). */
  private createRelease(
    name: string,
    role: string,
    chart: HelmChart,
    values: pulumi.Input<Record<string, unknown>>,
    dependsOn: pulumi.Resource[] = [],
  ): k8s.helm.v3.Release {
    return new k8s.helm.v3.Release(
      `${name}-${role}`,
      {
        chart: chart.chart,
        repositoryOpts: chart.repository ? { repo: chart.repository } : undefined,
        version: chart.version,
        namespace: chart.namespace,
        values,
        atomic: true,
        cleanupOnFail: true,
      },
      { parent: this, dependsOn },
    );
  }

  /** The cluster autoscaler's role (only this cluster's tagged groups) and its release. */
  private createClusterAutoscaler(
    name: string,
    args: ClusterAddonsArgs,
    values: pulumi.Input<Record<string, unknown>>,
  ): k8s.helm.v3.Release {
    const policy = clusterAutoscalerPolicy(args.clusterName);
    const identity = this.createControllerRole(
      name,
      args,
      "autoscaler",
      "cluster-autoscaler",
      policy,
    );
    const chart = clusterAutoscalerChart(args.kubernetesVersion ?? DEFAULT_KUBERNETES_VERSION);
    return this.createRelease(name, "cluster-autoscaler", chart, values, identity.ready);
  }

  /** The AWS Load Balancer Controller's role and its release. */
  private createLoadBalancerController(
    name: string,
    args: ClusterAddonsArgs,
    values: pulumi.Input<Record<string, unknown>>,
  ): k8s.helm.v3.Release {
    const serviceAccount = "aws-load-balancer-controller";
    const policy = loadBalancerControllerPolicy();
    const identity = this.createControllerRole(name, args, "lb-controller", serviceAccount, policy);
    const chart = HELM_CHARTS.loadBalancerController;
    return this.createRelease(name, serviceAccount, chart, values, identity.ready);
  }

  /** A kube-system controller's Pod Identity role with one inline policy. */
  private createControllerRole(
    name: string,
    args: ClusterAddonsArgs,
    suffix: string,
    serviceAccount: string,
    policy: PolicyDocument,
  ) {
    return workloadRole(
      `${name}-${suffix}`,
      {
        clusterName: args.clusterName,
        namespace: "kube-system",
        serviceAccount,
        policy: JSON.stringify(policy),
        tags: args.tags,
      },
      this,
    );
  }

  /** An EKS managed add-on and the role its service account is given (by the add-on itself). */
  private createManagedAddon(
    name: string,
    args: ClusterAddonsArgs,
    addon: ManagedAddon,
  ): aws.eks.Addon {
    const { role } = workloadRole(
      `${name}-${addon.role}`,
      {
        clusterName: args.clusterName,
        namespace: addon.namespace,
        serviceAccount: addon.serviceAccount,
        managedPolicyArns: [addon.policyArn],
        associate: false,
        tags: args.tags,
      },
      this,
    );
    return new aws.eks.Addon(
      `${name}-${addon.role}`,
      {
        clusterName: args.clusterName,
        addonName: addon.addonName,
        podIdentityAssociations: [{ roleArn: role.arn, serviceAccount: addon.serviceAccount }],
        tags: args.tags,
      },
      { parent: this },
    );
  }
}
