/**
 * What a stack needs from an AWS account, read from its offline plan (the resources
 * `npm run plan -- <stack> --json` prints): instances at their peak, the AZs they run in, the
 * images they run. Pure functions over the plan's resource list; automation/preflight.ts asks AWS
 * whether the account has them.
 */
import { userDataImages } from "../catalog/imageSources";
import { findInstance, kubernetesResourceFor } from "../catalog/instances";
import {
  NODE_POOL_TYPE,
  isAutoModePool,
  nodePoolCapacityTypes,
  nodePoolInstanceTypes,
  nodePoolLimit,
} from "../catalog/karpenter";
import {
  RecordIndex,
  ResourceRecord,
  endpointNameOf,
  launchTemplateOf,
  recordsByType,
  variantBounds,
  variantInstanceTypes,
} from "../catalog/cost";

/** Instances one resource runs at its peak, on one market. */
export interface CapacityNeed {
  /** The plan's resource name (`gpu-nodes`, `fleet-asg`, `chat-config`). */
  resource: string;
  /** What it is, for people: `EKS node group`, `EC2 Auto Scaling group`, `SageMaker variant primary`. */
  what: string;
  service: "ec2" | "sagemaker";
  /** EC2 types (`g5.xlarge`) or SageMaker types (`ml.g5.xlarge`); more than one for mixed groups. */
  instanceTypes: string[];
  market: "on-demand" | "spot";
  /** Instances at the peak: every group at its maximum, every variant at its autoscaling maximum. */
  peak: number;
  /**
   * EKS refuses a managed node group whose instance type is not offered in one of its subnets' AZs
   * ("Your requested instance type (g4dn.xlarge) is not supported in your requested Availability
   * Zone (us-west-2d)", eksctl-io/eksctl#6461, awslabs/ec2-spot-workshops#154); an Auto Scaling
   * group launches in the AZs that offer it (dspace-group/dspace-reference-architecture-aws#85).
   */
  needsEveryAz: boolean;
  /**
   * Any one of `instanceTypes` will do (a Karpenter pool picks among them): a type not offered is
   * not a blocker while another of them is.
   */
  alternatives?: boolean;
}

function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : {};
}

function num(v: unknown, fallback: number): number {
  return typeof v === "number" && Number.isFinite(v) ? v : fallback;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string" && x !== "") : [];
}

/** The instance type of the launch template a resource points at, if any. */
function templateType(ref: unknown, index: RecordIndex): string[] {
  const type = launchTemplateOf(ref, index)?.inputs.instanceType;
  return typeof type === "string" && type !== "" ? [type] : [];
}

function nodeGroupNeeds(r: ResourceRecord, index: RecordIndex): CapacityNeed[] {
  const scaling = obj(r.inputs.scalingConfig);
  const desired = num(scaling.desiredSize, 0);
  const types = strings(r.inputs.instanceTypes);
  return [
    {
      resource: r.name,
      what: "EKS node group",
      service: "ec2",
      instanceTypes: types.length > 0 ? types : templateType(r.inputs.launchTemplate, index),
      market: r.inputs.capacityType === "SPOT" ? "spot" : "on-demand",
      peak: num(scaling.maxSize, desired),
      needsEveryAz: true,
    },
  ];
}

/**
 * An Auto Scaling group at its maximum. With a mixed instances policy, `onDemandBaseCapacity`
 * instances and `onDemandPercentageAboveBaseCapacity` percent of the rest are on-demand, the rest
 * spot (EC2 Auto Scaling InstancesDistribution); each market is counted rounded up, so each quota
 * is checked against the most it can be asked for.
 */
function autoScalingNeeds(r: ResourceRecord, index: RecordIndex): CapacityNeed[] {
  const min = num(r.inputs.minSize, 0);
  const max = num(r.inputs.maxSize, num(r.inputs.desiredCapacity, min));
  const mixed = obj(r.inputs.mixedInstancesPolicy);
  const template = obj(mixed.launchTemplate);
  const overrides = Array.isArray(template.overrides)
    ? strings(template.overrides.map((o) => obj(o).instanceType))
    : [];
  const types =
    overrides.length > 0
      ? overrides
      : templateType(r.inputs.launchTemplate ?? template.launchTemplateSpecification, index);
  const base = { resource: r.name, what: "EC2 Auto Scaling group", service: "ec2" as const };
  const distribution = obj(mixed.instancesDistribution);
  if (Object.keys(distribution).length === 0)
    return [{ ...base, instanceTypes: types, market: "on-demand", peak: max, needsEveryAz: false }];
  const onDemandBase = Math.min(max, num(distribution.onDemandBaseCapacity, 0));
  const percent = num(distribution.onDemandPercentageAboveBaseCapacity, 100);
  const above = max - onDemandBase;
  const onDemand = onDemandBase + Math.ceil((above * percent) / 100);
  const spot = Math.ceil((above * (100 - percent)) / 100);
  const needs: CapacityNeed[] = [
    { ...base, instanceTypes: types, market: "on-demand", peak: onDemand, needsEveryAz: false },
    { ...base, instanceTypes: types, market: "spot", peak: spot, needsEveryAz: false },
  ];
  return needs.filter((n) => n.peak > 0);
}

/** Each instance-based variant at its autoscaling maximum, or its initial count without one. */
function variantNeeds(r: ResourceRecord, index: RecordIndex): CapacityNeed[] {
  const endpointName = endpointNameOf(r, index);
  const variants = Array.isArray(r.inputs.productionVariants)
    ? r.inputs.productionVariants.map(obj)
    : [];
  return variants
    .filter((v) => typeof v.instanceType === "string")
    .map((v) => {
      const count = num(v.initialInstanceCount, 1);
      const bounds =
        endpointName !== undefined
          ? variantBounds(index, `endpoint/${endpointName}/variant/${String(v.variantName)}`)
          : undefined;
      return {
        resource: r.name,
        what: `SageMaker variant ${String(v.variantName)}`,
        service: "sagemaker" as const,
        instanceTypes: [String(v.instanceType)],
        market: "on-demand" as const,
        peak: Math.max(count, bounds?.max ?? 0),
        needsEveryAz: false,
      };
    });
}

/**
 * An endpoint of inference components at managed instance scaling's ceiling. Each pool type is a
 * need of its own: SageMaker falls back to the next pool when the first has no capacity, so the
 * peak may land on any of them.
 */
function poolNeeds(r: ResourceRecord): CapacityNeed[] {
  const variants = Array.isArray(r.inputs.productionVariants)
    ? r.inputs.productionVariants.map(obj)
    : [];
  return variants.flatMap((v) =>
    variantInstanceTypes(v).map((t) => ({
      resource: r.name,
      what: `SageMaker variant ${String(v.variantName)} (instance pool ${t})`,
      service: "sagemaker" as const,
      instanceTypes: [t],
      market: "on-demand" as const,
      peak: num(obj(v.managedInstanceScaling).maxInstanceCount, num(v.initialInstanceCount, 1)),
      needsEveryAz: false,
    })),
  );
}

/**
 * A Karpenter NodePool at its limit: as many nodes as the limit's accelerators fill with its
 * smallest type, on each market its capacity types reach (spot, and on-demand for `on-demand`; a
 * `reserved` rung runs in reservations the account already holds). Karpenter falls back from one
 * capacity type to the next, so either quota may have to take the whole peak.
 */
function karpenterPoolNeeds(r: ResourceRecord): CapacityNeed[] {
  const types = nodePoolInstanceTypes(r.inputs).filter((t) => findInstance(t)?.accelerator);
  if (types.length === 0) return [];
  const first = findInstance(types[0])!;
  const resource = kubernetesResourceFor(first);
  const limit = resource ? nodePoolLimit(r.inputs, resource) : undefined;
  const smallest = Math.min(...types.map((t) => findInstance(t)!.accelerator!.count));
  const peak = limit === undefined ? 1 : Math.max(1, Math.floor(limit / smallest));
  const capacity = nodePoolCapacityTypes(r.inputs);
  const markets = (["spot", "on-demand"] as const).filter((m) => capacity.includes(m));
  return markets.map((market) => ({
    resource: r.name,
    what: isAutoModePool(r.inputs) ? "Auto Mode node pool" : "Karpenter node pool",
    service: "ec2" as const,
    instanceTypes: types,
    market,
    peak,
    needsEveryAz: false,
    alternatives: true,
  }));
}

/** Every instance the stack can run at its peak, by resource and market. */
export function capacityNeeds(records: ResourceRecord[]): CapacityNeed[] {
  const index = { ofType: recordsByType(records) };
  const needs: CapacityNeed[] = [];
  for (const r of records) {
    if (r.type === "aws:eks/nodeGroup:NodeGroup") needs.push(...nodeGroupNeeds(r, index));
    else if (r.type === "aws:autoscaling/group:Group") needs.push(...autoScalingNeeds(r, index));
    else if (r.type === "aws:sagemaker/endpointConfiguration:EndpointConfiguration")
      needs.push(...variantNeeds(r, index));
    else if (r.type === "aws-native:sagemaker:EndpointConfig") needs.push(...poolNeeds(r));
    else if (r.type === NODE_POOL_TYPE) needs.push(...karpenterPoolNeeds(r));
    else if (r.type === "aws:ec2/instance:Instance" && typeof r.inputs.instanceType === "string")
      needs.push({
        resource: r.name,
        what: "EC2 instance",
        service: "ec2",
        instanceTypes: [r.inputs.instanceType],
        market: "on-demand",
        peak: 1,
        needsEveryAz: false,
      });
    else if (r.type === "eks:index:Cluster" && r.inputs.skipDefaultNodeGroup !== true)
      // pulumi/eks's default node group: t3.medium, 2 nodes unless told otherwise.
      needs.push({
        resource: r.name,
        what: "EKS default node group",
        service: "ec2",
        instanceTypes: [String(r.inputs.instanceType ?? "t3.medium")],
        market: "on-demand",
        peak: num(r.inputs.maxSize, num(r.inputs.desiredCapacity, 2)),
        needsEveryAz: false,
      });
  }
  return needs.filter((n) => n.peak > 0 && n.instanceTypes.length > 0);
}

/**
 * How many AZs the stack's VPC spans: `numberOfAvailabilityZones` (or the names given) of its
 * awsx VPC; undefined when the plan has none.
 */
export function stackAzCount(records: ResourceRecord[]): number | undefined {
  const vpc = records.find((r) => r.type === "awsx:ec2:Vpc");
  if (!vpc) return undefined;
  const names = strings(vpc.inputs.availabilityZoneNames);
  if (names.length > 0) return names.length;
  // awsx's own default when neither is given (awsx/ec2/vpc.ts getDefaultAzs: `azCount ?? 3`).
  return num(vpc.inputs.numberOfAvailabilityZones, 3);
}

/**
 * The AZs awsx gives a VPC of `count` AZs: the region's zone names as the `aws.getAvailabilityZones`
 * data source returns them (DescribeAvailabilityZones without AllAvailabilityZones or filters,
 * sorted by name: hashicorp/terraform-provider-aws internal/service/ec2/
 * ec2_availability_zones_data_source.go), first `count` of them (pulumi/pulumi-awsx
 * awsx/ec2/vpc.ts getDefaultAzs: `result.names.slice(0, desiredCount)`).
 */
export function awsxAzs(zoneNames: string[], count: number): string[] {
  return [...zoneNames].sort().slice(0, count);
}

/** An image the stack runs, and who runs it. */
export interface StackImage {
  uri: string;
  /** The plan's resource name that runs it. */
  usedBy: string;
  /** Where the plan records it, for people: `container image`, `Helm values image`, `user data`. */
  where: string;
}

const WORKLOAD_KINDS = new Set(["Job", "Deployment", "DaemonSet", "StatefulSet", "Pod", "CronJob"]);

function podSpecOf(inputs: Record<string, unknown>): Record<string, unknown> {
  const spec = obj(inputs.spec);
  if (inputs.kind === "Pod") return spec;
  if (inputs.kind === "CronJob") return obj(obj(obj(obj(spec.jobTemplate).spec).template).spec);
  return obj(obj(spec.template).spec);
}

/**
 * Images in Helm values, as charts conventionally record them: an `image` key holding either a
 * string, or `{ registry?, repository, tag? }` (nested one level for charts with several images,
 * `image: { keda: { repository, tag } }`). A repository without a tag runs the chart's default tag.
 */
function helmImages(values: unknown, found: string[] = []): string[] {
  if (Array.isArray(values)) {
    for (const v of values) helmImages(v, found);
    return found;
  }
  for (const [key, v] of Object.entries(obj(values))) {
    if (key !== "image") {
      if (v !== null && typeof v === "object") helmImages(v, found);
    } else if (typeof v === "string" && v !== "") {
      found.push(v);
    } else {
      // `image: { repository, tag }`, or one level down: `image: { keda: { repository, tag } }`.
      for (const candidate of [obj(v), ...Object.values(obj(v)).map(obj)]) {
        const uri = imageOfValues(candidate);
        if (uri) found.push(uri);
      }
    }
  }
  return found;
}

/** `registry/repository:tag` of one chart image value, or undefined without a repository. */
function imageOfValues(v: Record<string, unknown>): string | undefined {
  if (typeof v.repository !== "string" || v.repository === "") return undefined;
  const registry = typeof v.registry === "string" && v.registry !== "" ? `${v.registry}/` : "";
  const tag = typeof v.tag === "string" && v.tag !== "" ? `:${v.tag}` : "";
  return `${registry}${v.repository}${tag}`;
}

export { userDataImages };

/** Every image the stack will run, from the plan, one entry per image and resource. */
export function stackImages(records: ResourceRecord[]): StackImage[] {
  const images: StackImage[] = [];
  const add = (uri: string, usedBy: string, where: string) => {
    if (!images.some((i) => i.uri === uri && i.usedBy === usedBy))
      images.push({ uri, usedBy, where });
  };
  for (const r of records) {
    if (r.type === "aws:sagemaker/model:Model") {
      const containers = [
        obj(r.inputs.primaryContainer),
        ...(Array.isArray(r.inputs.containers) ? r.inputs.containers.map(obj) : []),
      ];
      for (const c of containers)
        if (typeof c.image === "string" && c.image !== "")
          add(c.image, r.name, "SageMaker model container");
    } else if (r.type === "kubernetes:helm.sh/v3:Release") {
      for (const uri of helmImages(r.inputs.values)) add(uri, r.name, "Helm values");
    } else if (r.type.startsWith("kubernetes:") && WORKLOAD_KINDS.has(String(r.inputs.kind))) {
      const pod = podSpecOf(r.inputs);
      const containers = [
        ...(Array.isArray(pod.containers) ? pod.containers : []),
        ...(Array.isArray(pod.initContainers) ? pod.initContainers : []),
      ].map(obj);
      for (const c of containers)
        if (typeof c.image === "string" && c.image !== "")
          add(c.image, r.name, `${String(r.inputs.kind)} container`);
    } else if (
      r.type === "aws:ec2/launchTemplate:LaunchTemplate" &&
      typeof r.inputs.userData === "string"
    ) {
      for (const uri of userDataImages(r.inputs.userData))
        add(uri, r.name, "launch template user data");
    }
  }
  return images;
}

/** An image URI in an ECR registry, split. */
export interface EcrImage {
  account: string;
  region: string;
  repository: string;
  tag?: string;
  digest?: string;
}

// `<account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repository>[:<tag>][@<digest>]`: the registry
// URL ECR documents (docs.aws.amazon.com/AmazonECR/latest/userguide/Registries.html, "The URL for
// your default private registry is https://aws_account_id.dkr.ecr.region.amazonaws.com").
const ECR_URI =
  /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([a-z0-9._/-]+?)(?::([\w][\w.-]{0,127}))?(?:@(sha256:[0-9a-f]{64}))?$/;

export function parseEcrImage(uri: string): EcrImage | undefined {
  const m = ECR_URI.exec(uri);
  if (!m) return undefined;
  return { account: m[1], region: m[2], repository: m[3], tag: m[4], digest: m[5] };
}
