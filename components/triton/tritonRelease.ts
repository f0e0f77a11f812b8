import { DEFAULT_UTILIZATION } from "../../catalog/cost";
import {
  ModelRequirements,
  fitsInstance,
  shorterContextAdvice,
  validateModelRequirements,
} from "../../catalog/modelFit";
import { startupEstimate, startupProbeThreshold } from "../../catalog/startup";
import {
  MODEL_CLASS_TAG,
  UTILIZATION_TAG,
  modelClassOf,
  utilizationProblem,
} from "../../catalog/tokenCost";
import * as k8s from "@pulumi/kubernetes";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import {
  TritonFlavour,
  imageServesNeuron,
  tritonImage as catalogTritonImage,
  tritonImageProblems,
} from "../../catalog/images";
import { findInstance } from "../../catalog/instances";
import { Tags } from "../tags";
import {
  ArgError,
  checkDuration,
  checkIntegerRange,
  checkOneOf,
  throwIfInvalid,
} from "../validation";
import { workloadRole } from "../eks/podIdentity";
import { NAMESPACE_LABELS } from "../eks/sharedModelCache";

export const ModelRepositoryMode = {
  /** An init container syncs the S3 prefix to a local volume before Triton starts. */
  S3Sync: "s3-sync",
  /** Triton reads the S3 prefix directly. */
  S3: "s3",
  /** Triton reads the shared EFS cache (SharedModelCache). */
  Efs: "efs",
} as const;
export type ModelRepositoryMode = (typeof ModelRepositoryMode)[keyof typeof ModelRepositoryMode];

export const HpaMetric = { Cpu: "cpu", Custom: "custom" } as const;
export type HpaMetric = (typeof HpaMetric)[keyof typeof HpaMetric];

/** Where KEDA reads Triton's queue metrics (MetricsPipeline's outputs). */
export interface TritonMetricsPipeline {
  /** The workspace's Prometheus query address (MetricsPipeline.queryEndpoint). */
  queryEndpoint: pulumi.Input<string>;
  /** The workspace's region (MetricsPipeline.region). */
  region: string;
}

export interface TritonReleaseArgs {
  /** The EKS cluster's name (GpuCluster.clusterName). */
  clusterName: string;
  /** The namespace. @default "inference" */
  namespace?: string;
  /**
   * Create the namespace, labelled for the load balancer controller's pod readiness gate. Off when
   * another component (SharedModelCache) creates it. @default true
   */
  createNamespace?: boolean;
  /** The node group's instance type: decides the accelerator resource, its count and the memory. */
  instanceType: string;
  /** The node group's `workload-type` label, which the pods select. @default "gpu-inference" */
  workloadType?: string;
  /**
   * On Karpenter's nodes: how long after a pod starts Karpenter may not disrupt it, as its
   * `karpenter.sh/do-not-disrupt` annotation (a Go duration, or "true" for always). A pod that has
   * just rolled out is loading its weights; consolidation must not cut it then. Unset on node
   * groups, which Karpenter does not manage.
   */
  doNotDisruptFor?: string;
  /** Accelerators per pod. @default all of the instance's */
  acceleratorsPerPod?: number;
  /**
   * What the model needs: checked against the pod's accelerators, and the startup probe's budget
   * covers loading its weights (catalog/startup.ts). Recorded on the pods for the cost per token.
   */
  modelRequirements?: ModelRequirements;
  /**
   * The share of a pod's hours it serves at its published throughput, for the cost per million
   * output tokens (catalog/tokenCost.ts), in (0, 1]. @default 0.5
   */
  utilization?: number;
  /**
   * The Triton image flavour: `base` (NGC `-py3`), `vllm` (`-vllm-python-py3`), `trtllm`
   * (`-trtllm-python-py3`), or `neuron` (a Triton you built for Inferentia; needs
   * `imageRepository` and `imageTag`). @default "base"
   */
  imageFlavour?: TritonFlavour;
  /**
   * The image repository: an ECR repository of the stack (ModelRegistry.repositoryUrls[...]), whose
   * pulls the node role already allows. @default "nvcr.io/nvidia/tritonserver"
   */
  imageRepository?: pulumi.Input<string>;
  /** The image tag. @default the flavour's NGC tag ("26.07-py3", "26.07-vllm-python-py3", ...) */
  imageTag?: string;
  /**
   * The image of the s3-sync init container (the stack's ECR copy when its VPC has no NAT:
   * ImageMirror.imageUris). @default the chart's, "public.ecr.aws/aws-cli/aws-cli:2.27.50"
   */
  syncImage?: pulumi.Input<string>;
  /**
   * `s3-sync` or `efs`. `s3` (Triton reading S3 itself) is refused: see TRITON_AWS_SDK_CPP.
   * @default "s3-sync"
   */
  modelRepositoryMode?: ModelRepositoryMode;
  /** `s3://<bucket>/<prefix>/` (ModelStore.modelUri(...)) for the s3 modes. */
  modelRepositoryUri?: pulumi.Input<string>;
  /** The EFS claim (SharedModelCache.claimName), for the efs mode. */
  efsClaim?: string;
  /** The repository's path in the claim, for the efs mode. */
  efsSubPath?: string;
  /** The read-only policy of the model prefix (ModelStore.readOnlyPolicy(...)). */
  readPolicyJson: pulumi.Input<string>;
  /**
   * Fewest replicas; the HPA runs when maxReplicas > minReplicas >= 1. 0 deploys Triton with no
   * pods and no HPA (an HPA cannot hold zero replicas without Kubernetes' alpha HPAScaleToZero
   * gate): its GPU nodes cost nothing until someone scales the deployment up. @default 1
   */
  minReplicas?: number;
  /** Most replicas. @default 4 */
  maxReplicas?: number;
  /**
   * `custom`: scale on Triton's queue (requests waiting per replica, and the time they wait), read
   * by KEDA from the metrics pipeline; needs `metricsPipeline`. `cpu`: an HPA on CPU utilisation.
   * @default "custom" with `metricsPipeline`, else "cpu"
   */
  hpaMetric?: HpaMetric;
  /**
   * The stack's metrics pipeline (MetricsPipeline.queryEndpoint and its region): where KEDA reads
   * Triton's queue metrics for `hpaMetric: custom`. Pass the pipeline in `dependsOn` too (KEDA's
   * CRDs exist before the ScaledObject).
   */
  metricsPipeline?: TritonMetricsPipeline;
  /**
   * With `hpaMetric: custom`: requests waiting in Triton's queue per replica
   * (`nv_inference_pending_request_count`) above which it adds replicas. @default 4
   */
  targetPendingRequestsPerReplica?: number;
  /**
   * With `hpaMetric: custom`: the average time a request waits in Triton's queue, milliseconds
   * (`nv_inference_queue_duration_us` over `nv_inference_request_success`), above which it adds
   * replicas. @default 500
   */
  targetQueueTimeMilliseconds?: number;
  /** An ALB ingress through the AWS Load Balancer Controller. @default false */
  ingress?: boolean;
  /** `internal` or `internet-facing`. @default "internal" */
  ingressScheme?: string;
  /** An ACM certificate for HTTPS on the ALB. */
  certificateArn?: string;
  /** Route gRPC instead of HTTP through the ALB; needs `certificateArn` (HTTPS). @default false */
  ingressGrpc?: boolean;
  /** The ALB's idle timeout, seconds (1-4000): long generations stream for minutes. @default 600 */
  ingressIdleTimeoutSeconds?: number;
  /**
   * The ingress's IngressClass: `alb`, the AWS Load Balancer Controller's, or under EKS Auto Mode
   * the cluster's (GpuCluster.ingressClassName). @default "alb"
   */
  ingressClassName?: string;
  /** Tags for every AWS resource. */
  tags?: Tags;
}

/**
 * The AWS SDK for C++ Triton's S3 repository agent is built with: triton-inference-server/
 * third_party CMakeLists.txt pins aws-sdk-cpp `GIT_TAG "1.11.60"` (branches r25.04 to r25.07 and
 * main, read 2026-12-01). EKS Pod Identity credentials need 1.11.263 or later
 * (https://docs.aws.amazon.com/eks/latest/userguide/pod-id-minimum-sdk.html), so Triton reading S3
 * directly would run without credentials; s3-sync (the AWS CLI) and efs do not depend on it.
 */
export const TRITON_AWS_SDK_CPP = { bundled: "1.11.60", podIdentityMinimum: "1.11.263" } as const;

/**
 * The Triton image of the arguments: the flavour's NGC image, or the tag in `imageRepository`
 * (resolved: pass the repository URL when `args.imageRepository` is an Output).
 */
export function tritonImage(
  args: Pick<TritonReleaseArgs, "imageFlavour" | "imageRepository" | "imageTag">,
  imageRepository?: string,
): { repository: string; tag: string } {
  return catalogTritonImage({
    flavour: args.imageFlavour,
    repository:
      imageRepository ??
      (typeof args.imageRepository === "string" ? args.imageRepository : undefined),
    tag: args.imageTag,
  });
}

/** The image as an error message names it. */
function shownImage(args: TritonReleaseArgs, ownRepository: string | undefined): string {
  if (ownRepository !== undefined) return `${ownRepository}:${args.imageTag ?? "?"}`;
  if (args.imageFlavour === "neuron") return "NVIDIA's NGC Triton";
  const image = tritonImage(args);
  return `${image.repository}:${image.tag}`;
}

export function validateTritonReleaseArgs(args: TritonReleaseArgs): ArgError[] {
  const errors: ArgError[] = [];
  const spec = findInstance(args.instanceType);
  if (args.utilization !== undefined) {
    const problem = utilizationProblem(args.utilization);
    if (problem) errors.push({ propertyPath: "utilization", reason: problem });
  }
  // The model against the pod's share of the node's accelerators.
  const req = args.modelRequirements;
  if (req !== undefined) {
    const bad = validateModelRequirements(req);
    if (bad.length > 0) errors.push({ propertyPath: "modelRequirements", reason: bad.join("; ") });
    else if (spec?.accelerator) {
      const perPod = args.acceleratorsPerPod ?? spec.accelerator.count;
      const podSpec = {
        ...spec,
        accelerator: { ...spec.accelerator, count: Math.min(perPod, spec.accelerator.count) },
      };
      const fit = fitsInstance(req, podSpec);
      if (!fit.fits)
        errors.push({
          propertyPath: "modelRequirements",
          reason: `the model needs ${fit.requiredGib.toFixed(1)} GiB of accelerator memory but a pod's ${podSpec.accelerator.count} x ${spec.accelerator.model} on ${args.instanceType} have ${fit.availableGib.toFixed(1)} GiB${shorterContextAdvice(req, podSpec)}`,
        });
    }
  }
  if (!spec || args.instanceType.startsWith("ml."))
    errors.push({
      propertyPath: "instanceType",
      reason: `${JSON.stringify(args.instanceType)} is not an EC2 instance type the catalog knows`,
    });
  const mode = args.modelRepositoryMode ?? "s3-sync";
  checkOneOf(
    errors,
    "modelRepositoryMode",
    args.modelRepositoryMode,
    Object.values(ModelRepositoryMode),
  );
  if ((mode === "s3-sync" || mode === "s3") && args.modelRepositoryUri === undefined) {
    errors.push({
      propertyPath: "modelRepositoryUri",
      reason: `is required with modelRepositoryMode ${mode}`,
    });
  }
  if (mode === "s3")
    errors.push({
      propertyPath: "modelRepositoryMode",
      reason: `s3 is refused: Triton reads S3 with its bundled AWS SDK for C++ ${TRITON_AWS_SDK_CPP.bundled}, older than ${TRITON_AWS_SDK_CPP.podIdentityMinimum}, the first to take EKS Pod Identity credentials; use s3-sync or efs`,
    });
  if (mode === "efs" && !args.efsClaim)
    errors.push({ propertyPath: "efsClaim", reason: "is required with modelRepositoryMode efs" });
  for (const p of tritonImageProblems(
    {
      flavour: args.imageFlavour,
      repository: args.imageRepository === undefined ? undefined : "set",
      tag: args.imageTag,
    },
    { instanceType: args.instanceType, accelerator: spec?.accelerator?.kind },
  ))
    errors.push({ propertyPath: p.field, reason: p.reason });
  checkDuration(errors, "doNotDisruptFor", args.doNotDisruptFor, ["true"]);
  checkIntegerRange(errors, "minReplicas", args.minReplicas, 0, 100);
  checkIntegerRange(errors, "maxReplicas", args.maxReplicas, 1, 100);
  if ((args.minReplicas ?? 1) > (args.maxReplicas ?? 4))
    errors.push({
      propertyPath: "minReplicas",
      reason: `(${args.minReplicas}) must not exceed maxReplicas (${args.maxReplicas ?? 4})`,
    });
  checkOneOf(errors, "hpaMetric", args.hpaMetric, Object.values(HpaMetric));
  if (args.hpaMetric === "custom" && !args.metricsPipeline)
    errors.push({
      propertyPath: "hpaMetric",
      reason:
        "custom needs metricsPipeline (the metrics pipeline KEDA reads Triton's queue from); use cpu or pass the pipeline",
    });
  for (const key of ["targetPendingRequestsPerReplica", "targetQueueTimeMilliseconds"] as const) {
    const v = args[key];
    if (v !== undefined && !(Number.isFinite(v) && v > 0 && v <= 1_000_000))
      errors.push({ propertyPath: key, reason: `must be a number above 0, got ${String(v)}` });
  }
  if (args.ingressGrpc && !args.certificateArn)
    errors.push({
      propertyPath: "ingressGrpc",
      reason:
        "needs certificateArn: an ALB routes gRPC only on an HTTPS listener (an ACM certificate)",
    });
  checkIntegerRange(errors, "ingressIdleTimeoutSeconds", args.ingressIdleTimeoutSeconds, 1, 4000);
  checkOneOf(errors, "ingressScheme", args.ingressScheme, ["internal", "internet-facing"]);
  const devices = spec?.accelerator?.count ?? 0;
  if (
    args.acceleratorsPerPod !== undefined &&
    (args.acceleratorsPerPod < 1 || args.acceleratorsPerPod > devices)
  ) {
    errors.push({
      propertyPath: "acceleratorsPerPod",
      reason: `must be between 1 and ${devices} (the accelerators of ${args.instanceType}), got ${args.acceleratorsPerPod}`,
    });
  }
  // The repository may be an Output (the stack's ECR URL): any own repository is not NGC.
  const ownRepository =
    args.imageRepository === undefined
      ? undefined
      : typeof args.imageRepository === "string"
        ? args.imageRepository
        : "your repository";
  // A neuron flavour without its repository or tag is refused above, naming the missing key.
  if (
    spec?.accelerator?.kind === "neuron" &&
    args.imageFlavour !== "neuron" &&
    !imageServesNeuron({
      flavour: args.imageFlavour,
      repository: ownRepository,
      tag: args.imageTag,
    })
  )
    errors.push({
      propertyPath: "instanceType",
      reason: `${args.instanceType} has Neuron devices, and ${shownImage(args, ownRepository)} has no Neuron runtime (NVIDIA's NGC Triton images serve NVIDIA GPUs only); give a Neuron-built Triton image (imageFlavour neuron, imageRepository, imageTag)`,
    });
  if (spec && !spec.accelerator)
    errors.push({
      propertyPath: "instanceType",
      reason: `${args.instanceType} has no accelerator for Triton to serve LLMs on`,
    });
  return errors;
}

/** What the HPA scales on: Triton's queue when the stack has a metrics pipeline, else CPU. */
export function hpaMetricOf(args: Pick<TritonReleaseArgs, "hpaMetric" | "metricsPipeline">) {
  return args.hpaMetric ?? (args.metricsPipeline ? HpaMetric.Custom : HpaMetric.Cpu);
}

/** The chart's values for the arguments: what the Helm release installs. */
export function tritonValues(
  args: TritonReleaseArgs,
  modelRepositoryUri?: string,
  imageRepository?: string,
  queryEndpoint?: string,
  syncImage?: string,
): Record<string, unknown> {
  const spec = findInstance(args.instanceType);
  const accelerator = spec?.accelerator;
  const perPod = args.acceleratorsPerPod ?? accelerator?.count ?? 0;
  const share = accelerator ? perPod / accelerator.count : 1;
  // Leave room for the node's system pods: 3/4 of the pod's share of CPUs and memory.
  const cpu = Math.max(1, Math.floor(((spec?.vcpus ?? 4) * share * 3) / 4));
  const memoryGi = Math.max(1, Math.floor(((spec?.memoryMib ?? 16384) / 1024) * share * 0.75));
  const min = args.minReplicas ?? 1;
  const max = args.maxReplicas ?? 4;
  const mode = args.modelRepositoryMode ?? "s3-sync";
  return {
    image: tritonImage(args, imageRepository),
    replicaCount: min,
    modelRepository: {
      mode,
      ...(modelRepositoryUri !== undefined ? { s3Uri: modelRepositoryUri } : {}),
      ...(mode === "efs" ? { efsClaim: args.efsClaim, efsSubPath: args.efsSubPath ?? "" } : {}),
      ...(syncImage !== undefined ? { syncImage } : {}),
    },
    accelerator: { kind: accelerator?.kind ?? "none", count: perPod },
    resources: {
      requests: { cpu: String(cpu), memory: `${memoryGi}Gi` },
      limits: { memory: `${memoryGi}Gi` },
    },
    shmSize: `${Math.max(1, Math.min(16, Math.floor(memoryGi / 4)))}Gi`,
    nodeSelector: { "workload-type": args.workloadType ?? "gpu-inference" },
    serviceAccount: { create: true, name: "triton" },
    ingress: {
      enabled: args.ingress ?? false,
      scheme: args.ingressScheme ?? "internal",
      certificateArn: args.certificateArn ?? "",
      grpc: args.ingressGrpc ?? false,
      idleTimeoutSeconds: args.ingressIdleTimeoutSeconds ?? 600,
      ...(args.ingressClassName !== undefined ? { className: args.ingressClassName } : {}),
    },
    autoscaling: {
      enabled: min >= 1 && max > min,
      minReplicas: Math.max(1, min),
      maxReplicas: max,
      metric: hpaMetricOf(args),
      ...(hpaMetricOf(args) === "custom"
        ? {
            queue: {
              serverAddress: queryEndpoint ?? "",
              awsRegion: args.metricsPipeline?.region ?? "",
              pendingRequestsPerReplica: args.targetPendingRequestsPerReplica ?? 4,
              queueTimeMilliseconds: args.targetQueueTimeMilliseconds ?? 500,
            },
          }
        : {}),
    },
    podDisruptionBudget: { enabled: max > 1, maxUnavailable: 1 },
    // Loading the weights must fit the startup probe: the chart's 10 s x 120, or half again the
    // estimated load where that is longer (catalog/startup.ts).
    ...(args.modelRequirements
      ? {
          probes: {
            startupFailureThreshold: startupProbeThreshold(
              startupEstimate(args.modelRequirements, args.instanceType),
            ),
          },
          podAnnotations: {
            [MODEL_CLASS_TAG]: modelClassOf(args.modelRequirements),
            [UTILIZATION_TAG]: String(args.utilization ?? DEFAULT_UTILIZATION),
            ...doNotDisrupt(args),
          },
        }
      : args.doNotDisruptFor !== undefined
        ? { podAnnotations: doNotDisrupt(args) }
        : {}),
  };
}

/**
 * Karpenter's pod-level control: "`karpenter.sh/do-not-disrupt: \"30m\"` Provides time-based
 * protection for the specified duration after the pod starts running" (aws/karpenter-provider-aws
 * website/content/en/v1.14/concepts/disruption.md, "Pod-Level Controls").
 */
function doNotDisrupt(args: Pick<TritonReleaseArgs, "doNotDisruptFor">): Record<string, string> {
  return args.doNotDisruptFor !== undefined
    ? { "karpenter.sh/do-not-disrupt": args.doNotDisruptFor }
    : {};
}

/** The namespace Triton runs in unless `namespace` says otherwise. */
export const TRITON_NAMESPACE = "inference";

/** The chart's directory: charts/triton at the package root (found from here, compiled or not). */
export function tritonChartPath(): string {
  let dir = __dirname;
  for (;;) {
    const candidate = path.join(dir, "charts", "triton");
    if (fs.existsSync(path.join(candidate, "Chart.yaml"))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir)
      throw new Error("charts/triton not found above the TritonRelease component");
    dir = parent;
  }
}

/**
 * NVIDIA Triton on EKS: the Helm release of this package's chart (charts/triton) with values from
 * `tritonValues`, in its namespace, with a workload role that can only read the model's prefix.
 * Pass the cluster's Kubernetes provider in `opts.providers`.
 */
export class TritonRelease extends pulumi.ComponentResource {
  /** The Kubernetes namespace Triton runs in. */
  public readonly namespace: string;
  /** The Helm release's name. */
  public readonly releaseName: pulumi.Output<string>;
  /** The in-cluster HTTP address of Triton. */
  public readonly serviceUrl: pulumi.Output<string>;
  /** The name of the chart's Deployment and Service (`<release>-triton`). */
  public readonly workloadName: pulumi.Output<string>;

  constructor(name: string, args: TritonReleaseArgs, opts?: pulumi.ComponentResourceOptions) {
    throwIfInvalid("TritonRelease", name, validateTritonReleaseArgs(args));
    super("llm-infra:index:TritonRelease", name, {}, opts);
    this.namespace = args.namespace ?? TRITON_NAMESPACE;
    const identity = workloadRole(
      `${name}-workload`,
      {
        clusterName: args.clusterName,
        namespace: this.namespace,
        serviceAccount: "triton",
        policy: args.readPolicyJson,
        tags: args.tags,
      },
      this,
    );
    const namespace =
      (args.createNamespace ?? true)
        ? [
            new k8s.core.v1.Namespace(
              `${name}-ns`,
              { metadata: { name: this.namespace, labels: NAMESPACE_LABELS } },
              { parent: this },
            ),
          ]
        : [];
    const values = pulumi
      .all([
        args.modelRepositoryUri,
        args.imageRepository,
        args.metricsPipeline?.queryEndpoint,
        args.syncImage,
      ])
      .apply(([uri, repository, endpoint, sync]) =>
        tritonValues(args, uri, repository, endpoint, sync),
      );
    const release = new k8s.helm.v3.Release(
      `${name}-release`,
      {
        name,
        chart: tritonChartPath(),
        namespace: this.namespace,
        createNamespace: false,
        values,
        atomic: true,
        cleanupOnFail: true,
        // Loading LLM weights takes minutes: wait up to 30 for the pods to be ready.
        timeout: 1800,
      },
      // Pods get credentials only when the Pod Identity association exists before them.
      { parent: this, dependsOn: [...namespace, ...identity.ready] },
    );
    this.releaseName = release.name;
    this.workloadName = pulumi.interpolate`${release.name}-triton`;
    this.serviceUrl = pulumi.interpolate`http://${this.workloadName}.${this.namespace}.svc.cluster.local:8000`;
    this.registerOutputs({ releaseName: this.releaseName, serviceUrl: this.serviceUrl });
  }
}
