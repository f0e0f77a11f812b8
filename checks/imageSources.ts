/**
 * The image-source check: in a VPC without NAT gateways, every image a workload pulls comes from
 * an ECR registry (the stack's own, or AWS's registries of the EKS add-ons, both reached through
 * the VPC's ecr.api and ecr.dkr endpoints). Nodes there reach nothing outside AWS, so an image from
 * nvcr.io, registry.k8s.io, ghcr.io or public.ecr.aws never pulls: the pod waits in
 * ImagePullBackOff and the Helm release times out.
 *
 * What it reads, from the plan's resources: each Helm release of a chart the catalog knows (its
 * image values, or the chart's defaults where the release sets none: catalog/imageSources.ts
 * CHART_IMAGES), the images of Job and Deployment specs, and the `docker pull` lines of launch
 * templates' user data (the Triton fleet's boot script).
 */
import { CapturedResource } from "./resource";
import {
  CHART_IMAGES,
  ChartImage,
  NEURON_DEVICE_PLUGIN_REPOSITORY,
  SYNC_IMAGE,
  isEcrImage,
  parseImageRef,
  userDataImages,
} from "../catalog/imageSources";
import { NGC_TRITON } from "../catalog/images";
import { Finding } from "./finding";
import { arr, obj } from "./inputs";

export { userDataImages };

const CHECK = "image-sources";
const FIX =
  "set llm-infra:images.source: ecr (the stack's image mirror then serves it from its ECR), or give the VPC NAT gateways (llm-infra:network.natGateways)";

/** An image a workload of the plan pulls, and what pulls it. */
export interface PulledImage {
  image: string;
  /** The resource whose workload pulls it. */
  resource: string;
  /** What pulls it, as a finding says it. */
  what: string;
}

/** The value at a dotted path of a release's values. */
const valueAt = (values: unknown, path: string): unknown =>
  path.split(".").reduce<unknown>((v, key) => obj(v)[key], values);

const str = (v: unknown): string | undefined =>
  typeof v === "string" && v.length > 0 ? v : undefined;

/** The chart's name of a Helm release: the last path segment of a local or OCI chart. */
const chartName = (r: CapturedResource) =>
  String(r.inputs.chart ?? "")
    .replace(/\/+$/, "")
    .split("/")
    .pop() ?? "";

/** The image a release runs for one of its chart's images: its values over the chart's default. */
function releaseImage(values: unknown, c: ChartImage): string {
  // The chart's own default names the tag only: a digest is the catalog's, set through the values.
  const upstream = parseImageRef(c.image);
  const defaultRepository = `${upstream.host}/${upstream.path}`;
  const defaultTag = upstream.tag;
  const tag = str(valueAt(values, c.tagKey)) ?? defaultTag;
  if (c.registryKey) {
    const slash = defaultRepository.indexOf("/");
    const registry = str(valueAt(values, c.registryKey)) ?? defaultRepository.slice(0, slash);
    const repository = str(valueAt(values, c.repositoryKey)) ?? defaultRepository.slice(slash + 1);
    return `${registry}/${repository}:${tag}`;
  }
  return `${str(valueAt(values, c.repositoryKey)) ?? defaultRepository}:${tag}`;
}

/** The images of a Helm release of a chart the catalog knows (none for another chart). */
function releaseImages(r: CapturedResource): string[] {
  const values = r.inputs.values;
  const chart = chartName(r);
  switch (chart) {
    case "cluster-autoscaler":
      return [
        releaseImage(values, {
          image: "registry.k8s.io/autoscaling/cluster-autoscaler:chart",
          repositoryKey: "image.repository",
          tagKey: "image.tag",
        }),
      ];
    case "neuron-helm-chart":
      return [
        `${str(valueAt(values, "devicePlugin.image.repository")) ?? NEURON_DEVICE_PLUGIN_REPOSITORY}:${str(valueAt(values, "devicePlugin.image.tag")) ?? "chart"}`,
      ];
    case "triton": {
      // charts/triton/values.yaml: image.repository nvcr.io/nvidia/tritonserver; the s3-sync
      // mode (the default) runs modelRepository.syncImage as an init container.
      const images = [
        `${str(valueAt(values, "image.repository")) ?? NGC_TRITON.repository}:${str(valueAt(values, "image.tag")) ?? "chart"}`,
      ];
      if ((str(valueAt(values, "modelRepository.mode")) ?? "s3-sync") === "s3-sync")
        images.push(str(valueAt(values, "modelRepository.syncImage")) ?? SYNC_IMAGE);
      return images;
    }
    default:
      return (CHART_IMAGES[chart] ?? []).map((c) => releaseImage(values, c));
  }
}

/** The container images of a pod spec (containers and init containers). */
function podSpecImages(spec: unknown): string[] {
  return [...arr(obj(spec).initContainers), ...arr(obj(spec).containers)]
    .map((c) => str(obj(c).image))
    .filter((i): i is string => i !== undefined);
}

/** Every image the plan's workloads pull, with what pulls it. */
export function pulledImages(resources: CapturedResource[]): PulledImage[] {
  const pulled: PulledImage[] = [];
  for (const r of resources) {
    if (r.type === "kubernetes:helm.sh/v3:Release") {
      for (const image of releaseImages(r))
        pulled.push({
          image,
          resource: r.name,
          what: `the Helm release ${r.name} (chart ${chartName(r)})`,
        });
    } else if (r.type === "kubernetes:batch/v1:Job" || r.type === "kubernetes:apps/v1:Deployment") {
      const kind = r.type.split(":").pop();
      for (const image of podSpecImages(obj(obj(obj(r.inputs.spec).template).spec)))
        pulled.push({ image, resource: r.name, what: `the ${kind} ${r.name}` });
    } else if (r.type === "aws:ec2/launchTemplate:LaunchTemplate") {
      for (const image of userDataImages(r.inputs.userData))
        pulled.push({
          image,
          resource: r.name,
          what: `the user data of launch template ${r.name}`,
        });
    }
  }
  return pulled;
}

/** VPCs of the plan without NAT gateways. */
function vpcsWithoutNat(resources: CapturedResource[]): CapturedResource[] {
  return resources.filter(
    (r) =>
      r.type === "awsx:ec2:Vpc" &&
      String(obj(r.inputs.natGateways).strategy ?? "OnePerAz") === "None",
  );
}

/**
 * In a stack whose VPC has no NAT gateway, one finding per image a workload pulls from outside
 * ECR, naming the image, what pulls it and the fix. Nothing for a stack with NAT, or without a VPC.
 */
export function checkImageSources(resources: CapturedResource[]): Finding[] {
  const vpcs = vpcsWithoutNat(resources);
  const names = vpcs.map((v) => v.name).join(", ");
  const outside =
    vpcs.length === 0
      ? []
      : pulledImages(resources)
          .filter((p) => !isEcrImage(p.image))
          .map((p) => ({
            check: CHECK,
            resource: p.resource,
            message: `${p.what} pulls ${p.image} from outside AWS, which nodes in ${names} (no NAT gateway) cannot reach: ${FIX}`,
          }));
  return [...outside, ...unwarmedDigests(resources)];
}

/**
 * Images pulled through the stack's pull-through cache by digest that no image build warms.
 * ECR's pull-through cache does not fetch an uncached image referenced by digest, even with its
 * tag (aws/containers-roadmap#2837, open), so such a pull fails until the tag has been pulled once:
 * the image mirror's build does that first (components/storage/imageMirrorBuild.ts, "warm").
 */
export function unwarmedDigests(resources: CapturedResource[]): Finding[] {
  const prefixes = resources
    .filter((r) => r.type === "aws:ecr/pullThroughCacheRule:PullThroughCacheRule")
    .map((r) => str(r.inputs.ecrRepositoryPrefix))
    .filter((p): p is string => p !== undefined);
  if (prefixes.length === 0) return [];
  const buildspecs = resources
    .filter((r) => r.type === "aws:codebuild/project:Project")
    .map((r) => String(obj(r.inputs.source).buildspec ?? ""));
  const findings: Finding[] = [];
  for (const p of pulledImages(resources)) {
    const ref = parseImageRef(p.image);
    if (!ref.digest || !isEcrImage(p.image)) continue;
    if (!prefixes.some((prefix) => ref.path.startsWith(`${prefix}/`))) continue;
    const byTag = `${ref.host}/${ref.path}:${ref.tag}`;
    const warmed = buildspecs.some(
      (b) => b.includes(`docker pull '${byTag}'`) && b.includes(ref.digest!),
    );
    if (!warmed)
      findings.push({
        check: CHECK,
        resource: p.resource,
        message: `${p.what} pulls ${p.image} by digest through the pull-through cache, which does not fetch an uncached image by digest (aws/containers-roadmap#2837), and no image build pulls ${byTag} first: give it to the stack's ImageMirror (images), which warms it`,
      });
  }
  return findings;
}
