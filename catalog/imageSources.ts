/**
 * Where the images the stack runs come from, and how each gets into the stack's own ECR registry:
 * through an ECR pull-through cache rule where ECR supports the upstream registry, or copied by
 * the stack's image build project (components/storage/imageMirror.ts) where it does not.
 */

/**
 * The upstream registries ECR's pull-through cache supports, by the host an image names, with the
 * URL the rule takes and whether the rule needs a Secrets Manager credential.
 *
 * "Amazon ECR currently supports creating pull through cache rules for the following upstream
 * registries: Amazon ECR Public, Kubernetes container image registry, and Quay (doesn't require
 * authentication); Docker Hub, Microsoft Azure Container Registry, GitHub Container Registry,
 * GitLab Container Registry and Chainguard Registry (requires authentication with AWS Secrets
 * Manager secret)" (https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache.html).
 * The upstream URLs are CreatePullThroughCacheRule's `upstreamRegistryUrl` syntax: ecr-public
 * `public.ecr.aws`, k8s `registry.k8s.io`, quay `quay.io`, docker-hub `registry-1.docker.io`,
 * github-container-registry `ghcr.io` (AWS SDK for Kotlin, CreatePullThroughCacheRuleRequest
 * .upstreamRegistryUrl). A credential's secret name must begin with `ecr-pullthroughcache/`
 * (https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-creating-rule.html).
 *
 * NVIDIA's NGC registry (nvcr.io) is not among them: its images are copied.
 */
export const PULL_THROUGH_UPSTREAMS = {
  "public.ecr.aws": {
    upstreamRegistryUrl: "public.ecr.aws",
    short: "ecr-public",
    credential: false,
  },
  "registry.k8s.io": { upstreamRegistryUrl: "registry.k8s.io", short: "k8s", credential: false },
  "quay.io": { upstreamRegistryUrl: "quay.io", short: "quay", credential: false },
  "docker.io": {
    upstreamRegistryUrl: "registry-1.docker.io",
    short: "docker-hub",
    credential: true,
  },
  "ghcr.io": { upstreamRegistryUrl: "ghcr.io", short: "github", credential: true },
} as const;
export type PullThroughUpstream = keyof typeof PULL_THROUGH_UPSTREAMS;
export const PULL_THROUGH_HOSTS = Object.keys(PULL_THROUGH_UPSTREAMS) as PullThroughUpstream[];

/** The pull-through upstreams that need no credential. */
export const CREDENTIAL_FREE_UPSTREAMS = PULL_THROUGH_HOSTS.filter(
  (h) => !PULL_THROUGH_UPSTREAMS[h].credential,
);

/**
 * `ecrRepositoryPrefix` of CreatePullThroughCacheRule: 2 to 30 characters of
 * `(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*` (ECR API Reference,
 * CreatePullThroughCacheRule, "Request Parameters"). The stack's prefix is
 * `<cachePrefix>-<upstream short name>`, so two stacks in one account do not share rules.
 */
export const PULL_THROUGH_PREFIX_MAX = 30;

/** An image reference taken apart: `host/path:tag@digest`. */
export interface ImageRef {
  /** The registry host (`docker.io` when the reference names none). */
  host: string;
  /** The repository path in the registry. */
  path: string;
  tag: string;
  /** `sha256:...` when the reference pins one. */
  digest?: string;
}

const DIGEST = /@(sha256:[a-f0-9]{64})$/;

/** Parses `host/path:tag[@sha256:...]`; Docker's rules for a missing host (`docker.io`). */
export function parseImageRef(ref: string): ImageRef {
  const digest = DIGEST.exec(ref)?.[1];
  const withoutDigest = digest ? ref.slice(0, ref.length - digest.length - 1) : ref;
  const slash = withoutDigest.indexOf("/");
  const first = slash < 0 ? "" : withoutDigest.slice(0, slash);
  const hasHost = first.includes(".") || first.includes(":") || first === "localhost";
  const host = hasHost ? first : "docker.io";
  const rest = hasHost ? withoutDigest.slice(slash + 1) : withoutDigest;
  const colon = rest.lastIndexOf(":");
  const path = colon > 0 ? rest.slice(0, colon) : rest;
  const tag = colon > 0 ? rest.slice(colon + 1) : "latest";
  return {
    host,
    path: host === "docker.io" && !path.includes("/") ? `library/${path}` : path,
    tag,
    ...(digest ? { digest } : {}),
  };
}

/** `host/path:tag[@digest]`. */
export function formatImageRef(ref: ImageRef): string {
  return `${ref.host}/${ref.path}:${ref.tag}${ref.digest ? `@${ref.digest}` : ""}`;
}

/** An ECR private registry host: `<account>.dkr.ecr.<region>.amazonaws.com[.cn]`. */
export const ECR_HOST = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/;

/**
 * AWS's registries of the EKS add-on images (vpc-cni, kube-proxy, coredns, the EFS CSI driver, the
 * CloudWatch agent): ECR registries of AWS accounts, pulled through the VPC's ecr.api and ecr.dkr
 * endpoints like the stack's own (https://docs.aws.amazon.com/eks/latest/userguide/add-ons-images.html).
 * Any ECR host counts: an image there is reached without leaving AWS.
 */
export function isEcrImage(image: string): boolean {
  return ECR_HOST.test(parseImageRef(image).host);
}

/** How an upstream image reaches the stack's ECR: the pull-through cache, or a copy. */
export function deliveryOf(
  image: string,
  credentialed: readonly string[] = [],
): "ecr" | "pull-through" | "copy" {
  const { host } = parseImageRef(image);
  if (ECR_HOST.test(host)) return "ecr";
  const upstream = PULL_THROUGH_UPSTREAMS[host as PullThroughUpstream];
  if (upstream && (!upstream.credential || credentialed.includes(host))) return "pull-through";
  return "copy";
}

/**
 * The image in the stack's registry that a pull-through rule serves: `<registry>/<prefix>/<path>`
 * ("docker pull <account>.dkr.ecr.<region>.amazonaws.com/<ecr-public>/<repository_name/image_name:tag>",
 * https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-working-pulling.html).
 */
export function pullThroughImage(registryHost: string, cachePrefix: string, image: string): string {
  const ref = parseImageRef(image);
  const upstream = PULL_THROUGH_UPSTREAMS[ref.host as PullThroughUpstream];
  if (!upstream) throw new Error(`${ref.host} has no pull-through cache rule`);
  return formatImageRef({
    ...ref,
    host: registryHost,
    path: `${cachePrefix}-${upstream.short}/${ref.path}`,
  });
}

/**
 * One image an add-on chart runs: where its values name the repository and tag, and the upstream
 * image at the chart version the catalog pins (catalog/kubernetes.ts HELM_CHARTS).
 */
export interface ChartImage {
  /** The upstream image, `host/path:tag`. */
  image: string;
  /** The values key of the repository (with `registryKey`: the path without the host). */
  repositoryKey: string;
  /** The values key of the tag. */
  tagKey: string;
  /** The values key of a separate registry host, for charts that split it (KEDA). */
  registryKey?: string;
}

/**
 * The digests the publishers give for the tags the catalog pins: the multi-arch index each tag
 * names, so a reference `repo:tag@sha256:...` runs exactly what was published and a re-pushed tag
 * cannot change it. Only these were published where they could be read here:
 * - metrics-server v0.7.2: kubernetes/k8s.io@bc1017d `registry.k8s.io/images/k8s-staging-metrics-
 *   server/images.yaml` (the image promoter's manifest, `"sha256:ffcb2bf0...": ["v0.7.2"]`).
 * - cluster-autoscaler v1.34.5 and v1.35.2: their promotion, kubernetes/k8s.io#9760 (`gcrane digest
 *   gcr.io/k8s-staging-autoscaling/cluster-autoscaler:<tag>`, a multi-arch image).
 * - k8s-device-plugin v0.17.1: NVIDIA/gpu-operator v25.3.0 `bundle/manifests/gpu-operator-certified.
 *   clusterserviceversion.yaml` (`nvcr.io/nvidia/k8s-device-plugin@sha256:af31e2b7...`, the release
 *   that moves the operator to v0.17.1).
 * Not found from their publishers, so pinned by tag only: cluster-autoscaler v1.36.1, the load
 * balancer controller v2.13.3, dcgm-exporter 4.2.3-4.1.1, KEDA 2.20.2, aws-cli 2.27.50, NGC's
 * Triton images and AWS's LMI image (docs/configuration.md, "Images").
 */
export const PUBLISHED_DIGESTS: Readonly<Record<string, string>> = {
  "registry.k8s.io/metrics-server/metrics-server:v0.7.2":
    "sha256:ffcb2bf004d6aa0a17d90e0247cf94f2865c8901dcab4427034c341951c239f9",
  "registry.k8s.io/autoscaling/cluster-autoscaler:v1.34.5":
    "sha256:5c3a56440ffc76eac79e7d7e840153c1fbe7b6e02d415e76a45ba2e0ef99a266",
  "registry.k8s.io/autoscaling/cluster-autoscaler:v1.35.2":
    "sha256:aac369dc283927a623deb1af54696efcc722ae79255aa07788422e495bab887d",
  "nvcr.io/nvidia/k8s-device-plugin:v0.17.1":
    "sha256:af31e2b7c7f89834c4e5219860def7ac2e49a207b3d4e8610d5a26772b7738e5",
};

/** An image by tag, with its publisher's digest where PUBLISHED_DIGESTS has one. */
export function pinnedImage(image: string): string {
  const digest = PUBLISHED_DIGESTS[image];
  return digest ? `${image}@${digest}` : image;
}

/**
 * The images of each add-on chart, read from the chart's values.yaml at the pinned version:
 * - nvidia-device-plugin 0.17.1: `image.repository: nvcr.io/nvidia/k8s-device-plugin`, `image.tag`
 *   defaulting to the appVersion (NVIDIA/k8s-device-plugin deployments/helm/nvidia-device-plugin/
 *   values.yaml), published on NGC as `v0.17.1`.
 * - cluster-autoscaler 9.59.0 / 9.53.0: `image.repository: registry.k8s.io/autoscaling/
 *   cluster-autoscaler`, `image.tag` (kubernetes/autoscaler@cluster-autoscaler-chart-9.59.0
 *   cluster-autoscaler/charts/cluster-autoscaler/values.yaml); the tag is the catalog's per minor.
 * - aws-load-balancer-controller 1.13.3: `image.repository: public.ecr.aws/eks/
 *   aws-load-balancer-controller`, `image.tag: v2.13.3` (kubernetes-sigs/aws-load-balancer-
 *   controller@v2.13.3 helm/aws-load-balancer-controller/values.yaml).
 * - metrics-server 3.12.2: `image.repository: registry.k8s.io/metrics-server/metrics-server`,
 *   `image.tag` defaulting to `v{{ .Chart.AppVersion }}`, appVersion 0.7.2 (kubernetes-sigs/
 *   metrics-server@metrics-server-helm-chart-3.12.2 charts/metrics-server/values.yaml, Chart.yaml).
 * - dcgm-exporter 4.1.1: `image.repository: nvcr.io/nvidia/k8s/dcgm-exporter`, `image.tag:
 *   4.2.3-4.1.1-ubuntu22.04` (NVIDIA/dcgm-exporter@4.2.3-4.1.1 deployment/values.yaml).
 * - keda 2.20.2: `image.keda`, `image.metricsApiServer`, `image.webhooks`, each `registry: ghcr.io`,
 *   `repository: kedacore/<name>`, `tag` defaulting to the appVersion 2.20.2; the templates write
 *   `"{{ $registry }}/{{ repository }}:{{ tag }}"` (kedacore/charts@v2.20.2 keda/values.yaml,
 *   templates/manager/deployment.yaml).
 * - neuron-helm-chart: `devicePlugin.image.repository: public.ecr.aws/neuron/neuron-device-plugin`
 *   and `devicePlugin.image.tag` (aws-neuron/neuron-helm-charts charts/neuron-helm-chart/
 *   values.yaml, read at 14049c2 with tag 2.28.27.0; 1.1.1 is published only as an OCI artifact,
 *   so its tag is left to the chart and only the repository is set).
 */
export const CHART_IMAGES: Readonly<Record<string, readonly ChartImage[]>> = {
  "nvidia-device-plugin": [
    {
      image: pinnedImage("nvcr.io/nvidia/k8s-device-plugin:v0.17.1"),
      repositoryKey: "image.repository",
      tagKey: "image.tag",
    },
  ],
  "aws-load-balancer-controller": [
    {
      image: "public.ecr.aws/eks/aws-load-balancer-controller:v2.13.3",
      repositoryKey: "image.repository",
      tagKey: "image.tag",
    },
  ],
  "metrics-server": [
    {
      image: pinnedImage("registry.k8s.io/metrics-server/metrics-server:v0.7.2"),
      repositoryKey: "image.repository",
      tagKey: "image.tag",
    },
  ],
  "dcgm-exporter": [
    {
      image: "nvcr.io/nvidia/k8s/dcgm-exporter:4.2.3-4.1.1-ubuntu22.04",
      repositoryKey: "image.repository",
      tagKey: "image.tag",
    },
  ],
  keda: ["keda", "metricsApiServer", "webhooks"].map((k) => ({
    image: `ghcr.io/kedacore/${k === "keda" ? "keda" : k === "webhooks" ? "keda-admission-webhooks" : "keda-metrics-apiserver"}:2.20.2`,
    registryKey: `image.${k}.registry`,
    repositoryKey: `image.${k}.repository`,
    tagKey: `image.${k}.tag`,
  })),
};

/** The cluster autoscaler's image for a tag (the tag the catalog pins per Kubernetes minor). */
export function clusterAutoscalerImage(tag: string): ChartImage {
  return {
    image: pinnedImage(`registry.k8s.io/autoscaling/cluster-autoscaler:${tag}`),
    repositoryKey: "image.repository",
    tagKey: "image.tag",
  };
}

/** The Neuron device plugin's repository (its tag stays the chart's; see CHART_IMAGES). */
export const NEURON_DEVICE_PLUGIN_REPOSITORY = "public.ecr.aws/neuron/neuron-device-plugin";
/**
 * The Neuron device plugin as an image list names it: the tag `chart` stands for the chart's own
 * (only the repository is set). public.ecr.aws is served by the pull-through cache, where the
 * repository path alone decides the image the stack pulls.
 */
export const NEURON_DEVICE_PLUGIN_IMAGE = `${NEURON_DEVICE_PLUGIN_REPOSITORY}:chart`;

/** The AWS CLI image of the model sync Job and the Triton chart's s3-sync init container. */
export const SYNC_IMAGE = "public.ecr.aws/aws-cli/aws-cli:2.27.50";

/** The `llm-infra:images.source` values: the stack's ECR, or each image's own registry. */
export const ImageSource = { Ecr: "ecr", Upstream: "upstream" } as const;
export type ImageSource = (typeof ImageSource)[keyof typeof ImageSource];

/**
 * Helm values that point a chart's images at the stack's registry: `{ image: { repository, tag } }`
 * per ChartImage, from a function that maps an upstream image to its ECR image.
 */
export function chartImageValues(
  images: readonly ChartImage[],
  toEcr: (image: string) => string,
): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  const set = (dotted: string, value: string) => {
    const keys = dotted.split(".");
    let node = values;
    for (const k of keys.slice(0, -1)) node = (node[k] ??= {}) as Record<string, unknown>;
    node[keys[keys.length - 1]] = value;
  };
  for (const c of images) {
    const ecr = parseImageRef(toEcr(c.image));
    if (c.registryKey) {
      set(c.registryKey, ecr.host);
      set(c.repositoryKey, ecr.path);
    } else set(c.repositoryKey, `${ecr.host}/${ecr.path}`);
    set(c.tagKey, ecr.digest ? `${ecr.tag}@${ecr.digest}` : ecr.tag);
  }
  return values;
}

/**
 * The images a launch template's user data pulls: each `docker pull <image>` line of the script
 * (components/ec2/tritonFleet.ts). Launch templates carry user data base64-encoded (EC2
 * RequestLaunchTemplateData UserData); plain text is read as it is.
 */
export function userDataImages(userData: unknown): string[] {
  if (typeof userData !== "string" || userData === "") return [];
  const script = /^[A-Za-z0-9+/=\s]+$/.test(userData)
    ? Buffer.from(userData, "base64").toString("utf8")
    : userData;
  return [...script.matchAll(/^\s*docker pull\s+(\S+)\s*$/gm)].map((m) => m[1]);
}
