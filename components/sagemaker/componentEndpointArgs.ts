/**
 * The arguments of an InferenceComponentEndpoint and their validation: several models on one
 * real-time endpoint, each an inference component with its own accelerators, memory and copy
 * count, on an ordered list of instance pools that managed instance scaling grows and shrinks,
 * down to zero instances. Every combination AWS refuses, and every model that cannot be packed
 * onto the pools, fails here, at preview, naming the field.
 */
import * as pulumi from "@pulumi/pulumi";
import { InstanceSpec, findInstance } from "../../catalog/instances";
import { FALLBACK_REGION, SAGEMAKER_HOSTING } from "../../catalog/prices";
import {
  ModelRequirements,
  estimateMemory,
  validateModelRequirements,
} from "../../catalog/modelFit";
import { ServingImage, TritonFlavour } from "../../catalog/images";
import { Tags } from "../tags";
import { validateModelPrefix } from "../storage/modelStorePolicies";
import { utilizationProblem } from "../../catalog/tokenCost";
import { ArgError, checkIntegerRange } from "../validation";
import {
  SageMakerEndpointArgs,
  endpointRegion,
  validateSageMakerEndpointArgs,
} from "./endpointArgs";

/** One model of the endpoint: an inference component. */
export interface ModelComponentArgs {
  /** The component's name on the endpoint (letters, digits, hyphens); what a client names to invoke it. */
  name: string;
  /** A serving image from the catalog (`lmi`, `triton`, ...), as on a SageMakerEndpoint. @default "triton" */
  image?: ServingImage;
  /** The catalog image's version; its pinned default when absent. */
  imageVersion?: string;
  /** Your own ECR image, instead of `image`. */
  imageUri?: pulumi.Input<string>;
  /** The Triton flavour of `imageUri` when it is a Triton image. */
  imageFlavour?: TritonFlavour;
  /** The uncompressed S3 prefix the component serves (its own, `<endpoint prefix>/<component>`). */
  modelDataPrefix?: string;
  /** The S3 key of a model.tar.gz, instead of `modelDataPrefix`. */
  modelDataTarball?: string;
  /** The Triton model a Triton image serves by default. */
  tritonModelName?: string;
  /** More container environment variables. */
  environment?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** What the model needs: sizes the accelerators per copy and is checked against each pool type. */
  modelRequirements?: ModelRequirements;
  /**
   * Accelerators (GPUs, Neuron devices) per copy on the first pool type.
   * @default the fewest of the type's accelerators whose memory holds the model (1 without `modelRequirements`)
   */
  acceleratorsPerCopy?: number;
  /**
   * Host memory reserved per copy, MiB, on the first pool type.
   * @default the copy's share of the instance's memory, by accelerators, less what SageMaker keeps
   */
  memoryPerCopyMb?: number;
  /** Copies when idle; 0 lets the endpoint scale to zero instances. @default 0 with minInstances 0, else 1 */
  minCopies?: number;
  /** Copies at most. @default the copies that fit maxInstances of the first pool type */
  maxCopies?: number;
  /** Target of SageMakerInferenceComponentInvocationsPerCopy per minute. @default 70 */
  targetInvocationsPerCopy?: number;
  /**
   * Also track the high-resolution concurrency metric
   * (SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution). @default false
   */
  highResolutionScaling?: boolean;
  /** Target concurrent requests per copy for `highResolutionScaling`. @default 4 */
  targetConcurrentRequestsPerCopy?: number;
  /** Seconds between scale-in steps. @default 300 */
  scaleInCooldownSeconds?: number;
  /** Seconds between scale-out steps. @default 60 */
  scaleOutCooldownSeconds?: number;
}

/** What a component takes on one pool type instead of what it takes on the first. */
export interface PoolOverride {
  /** Accelerators per copy on this type. */
  acceleratorsPerCopy?: number;
  /** Host memory reserved per copy on this type, MiB. */
  memoryPerCopyMb?: number;
  /**
   * Another model for this type (a smaller or quantized one for a smaller accelerator): the
   * uncompressed S3 prefix it serves from, with the component's image. SageMaker takes one
   * specification per instance type, each with its own model (CreateInferenceComponent
   * Specifications: "Use this parameter when you want to deploy a different model or resource
   * configuration for the inference component on each instance type").
   */
  modelDataPrefix?: string;
  /** What the other model needs, for its fit on this type. @default the component's */
  modelRequirements?: ModelRequirements;
}

/** Whether a pool gives a component a model of its own. */
export function overridesModel(o: PoolOverride | undefined): boolean {
  return o?.modelDataPrefix !== undefined;
}

/** One instance pool, in the order SageMaker tries them when capacity is short. */
export interface InstancePool {
  /** A SageMaker hosting instance type (`ml.g6.xlarge`). */
  instanceType: string;
  /** Per component (by name): accelerators and memory per copy on this type. */
  overrides?: Record<string, PoolOverride>;
}

export interface InferenceComponentEndpointArgs {
  /** The region. @default the stack's `aws:region` */
  region?: string;
  /** Instance types, tried in order when capacity is short: one to five. */
  instancePools: InstancePool[];
  /** Instances when idle (managed instance scaling); 0 scales the endpoint to zero. @default 0 */
  minInstances?: number;
  /** Instances at most. @default 1 */
  maxInstances?: number;
  /** The models: one inference component each. */
  components: ModelComponentArgs[];
  /** The model store bucket ARN. */
  modelBucketArn: pulumi.Input<string>;
  /** The model store's KMS key, for decrypting artifacts. */
  modelKmsKeyArn?: pulumi.Input<string>;
  /** KMS key for instance volumes (left off for types with local NVMe). */
  kmsKeyArn?: pulumi.Input<string>;
  /** Private subnets for the model containers. */
  subnetIds?: pulumi.Input<pulumi.Input<string>[]>;
  /** The VPC of `subnetIds`, for the endpoint's security group. */
  vpcId?: pulumi.Input<string>;
  /** Block all network access from the containers. @default true */
  networkIsolation?: boolean;
  /** The SageMaker AMI version of the instances (`InferenceAmiVersion`). */
  inferenceAmiVersion?: string;
  /** EBS volume per instance, GB (1 to 512); only for types without local NVMe. */
  volumeSizeGb?: number;
  /** Seconds to download a component's weights (60 to 3600). @default from the model's size */
  modelDataDownloadTimeoutSeconds?: number;
  /** Seconds for a component's container to pass its health check (60 to 3600). @default from the model's load */
  containerStartupTimeoutSeconds?: number;
  /** Share of a component's copies replaced per batch in a rolling update, percent, 5 to 50. @default 25 */
  rollingBatchPercent?: number;
  /** Seconds to watch the alarms between batches of a rolling update (0 to 3600). @default 600 */
  deploymentBakeSeconds?: number;
  /** ModelLatency p90 alarm threshold, milliseconds, per component. @default 10000 */
  latencyP90Ms?: number;
  /** ModelLatency p99 alarm threshold, milliseconds, per component; updates roll back on it. @default 30000 */
  latencyP99Ms?: number;
  /** Invocation5XXErrors per minute, per component, that raise its error alarm. @default 5 */
  errors5xxPerMinute?: number;
  /** SNS topic for alarm notifications; a new KMS-encrypted topic when absent. */
  alarmTopicArn?: pulumi.Input<string>;
  /** The share of the active hours the instances serve at their published throughput. @default 0.5 */
  utilization?: number;
  /** The endpoint's name. @default `<project>-<stack>-<component name>` */
  endpointName?: string;
  /** Tags for every resource. */
  tags?: Tags;
}

/**
 * Instance pools per production variant: "Valid values: 1 to 5, where 1 is the highest priority"
 * (InstancePool.Priority, @pulumi/aws-native 1.79.0 sagemaker EndpointConfigInstancePoolArgs).
 */
export const MAX_INSTANCE_POOLS = 5;

/**
 * Host memory kept out of what copies may reserve on an instance, MiB: a margin of this package's
 * own for the host's processes (the OS, SageMaker's agent, the model server's own), not an AWS
 * figure. AWS documents none: the API asks only that `MinMemoryRequiredInMb` be at least 128
 * (InferenceComponentComputeResourceRequirements), and the `MemoryReservation` metric reports what
 * copies reserved of the instance's memory (https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html).
 */
export const SAGEMAKER_RESERVED_MEMORY_MIB = 2048;

/** The pools, each as an `InstancePool`, in the order given. */
export function instancePools(
  args: Pick<InferenceComponentEndpointArgs, "instancePools">,
): InstancePool[] {
  return args.instancePools ?? [];
}

/** What one copy of a component takes on one instance type. */
export interface CopyShape {
  instanceType: string;
  accelerators: number;
  memoryMb: number;
}

/** Host memory SageMaker lets inference components reserve on an instance, MiB. */
export function allocatableMemoryMb(spec: InstanceSpec): number {
  return Math.max(0, spec.memoryMib - SAGEMAKER_RESERVED_MEMORY_MIB);
}

/** The fewest accelerators of `spec` whose memory holds the model, or undefined when none do. */
export function acceleratorsThatFit(
  req: ModelRequirements,
  spec: InstanceSpec,
): number | undefined {
  const acc = spec.accelerator;
  if (!acc) return undefined;
  const needMib = estimateMemory(req).requiredGib * 1024;
  for (let n = 1; n <= acc.count; n++) if (n * acc.memoryMibPerDevice >= needMib) return n;
  return undefined;
}

/**
 * What one copy of `component` takes on `instanceType`: the pool's override, the component's own
 * figures on the first pool, or what the model needs on this type.
 */
export function copyShape(
  component: ModelComponentArgs,
  pool: InstancePool,
  first: boolean,
): CopyShape | undefined {
  const spec = findInstance(pool.instanceType);
  if (!spec) return undefined;
  const override = pool.overrides?.[component.name] ?? {};
  const own: PoolOverride = first ? component : {};
  const req = override.modelRequirements ?? component.modelRequirements;
  const fitted =
    req && validateModelRequirements(req).length === 0 ? acceleratorsThatFit(req, spec) : undefined;
  const accelerators =
    override.acceleratorsPerCopy ??
    own.acceleratorsPerCopy ??
    fitted ??
    (spec.accelerator ? Math.min(1, spec.accelerator.count) : 0);
  const count = spec.accelerator?.count ?? 0;
  const share = count > 0 ? Math.min(accelerators, count) / count : 1;
  const memoryMb =
    override.memoryPerCopyMb ??
    own.memoryPerCopyMb ??
    Math.floor(allocatableMemoryMb(spec) * share);
  return { instanceType: pool.instanceType, accelerators, memoryMb };
}

/**
 * Copies placed on instances of one type, first fit by accelerators then memory: how many
 * instances `copies` (one shape per copy) need, or undefined when one copy fits no instance.
 */
export function instancesNeeded(spec: InstanceSpec, copies: CopyShape[]): number | undefined {
  const gpus = spec.accelerator?.count ?? 0;
  const memory = allocatableMemoryMb(spec);
  const bins: { gpus: number; memory: number }[] = [];
  const sorted = [...copies].sort(
    (a, b) => b.accelerators - a.accelerators || b.memoryMb - a.memoryMb,
  );
  for (const c of sorted) {
    if (c.accelerators > gpus || c.memoryMb > memory) return undefined;
    const bin = bins.find((b) => b.gpus >= c.accelerators && b.memory >= c.memoryMb);
    if (bin) {
      bin.gpus -= c.accelerators;
      bin.memory -= c.memoryMb;
    } else bins.push({ gpus: gpus - c.accelerators, memory: memory - c.memoryMb });
  }
  return bins.length;
}

/** Instance bounds of managed instance scaling. */
export function instanceBounds(
  args: Pick<InferenceComponentEndpointArgs, "minInstances" | "maxInstances">,
): {
  min: number;
  max: number;
} {
  const min = args.minInstances ?? 0;
  return { min, max: args.maxInstances ?? Math.max(1, min) };
}

/** A component's copy bounds. */
export function copyBounds(
  component: ModelComponentArgs,
  args: Pick<InferenceComponentEndpointArgs, "minInstances" | "maxInstances" | "instancePools">,
): { min: number; max: number } {
  const instances = instanceBounds(args);
  const min = component.minCopies ?? (instances.min === 0 ? 0 : 1);
  let max = component.maxCopies;
  if (max === undefined) {
    const pool = instancePools(args)[0];
    const spec = pool ? findInstance(pool.instanceType) : undefined;
    const shape = pool ? copyShape(component, pool, true) : undefined;
    const perInstance =
      spec && shape
        ? Math.min(
            shape.accelerators > 0
              ? Math.floor((spec.accelerator?.count ?? 0) / shape.accelerators)
              : Infinity,
            shape.memoryMb > 0 ? Math.floor(allocatableMemoryMb(spec) / shape.memoryMb) : Infinity,
          )
        : 1;
    max = Math.max(1, min, (Number.isFinite(perInstance) ? perInstance : 1) * instances.max);
  }
  return { min, max };
}

/**
 * An inference component's name: "Maximum length of 63. Pattern:
 * ^[a-zA-Z0-9]([\-a-zA-Z0-9]*[a-zA-Z0-9])?$" (SageMaker API Reference, DescribeInferenceComponent).
 */
const COMPONENT_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

/** The model fields of a component, as a SageMakerEndpoint on one instance type would take them. */
function asEndpoint(
  c: ModelComponentArgs,
  args: InferenceComponentEndpointArgs,
  instanceType: string | undefined,
): SageMakerEndpointArgs {
  return {
    mode: "realtime",
    region: args.region,
    modelBucketArn: args.modelBucketArn,
    image: c.image,
    imageVersion: c.imageVersion,
    imageUri: c.imageUri,
    imageFlavour: c.imageFlavour,
    modelDataPrefix: c.modelDataPrefix,
    modelDataTarball: c.modelDataTarball,
    tritonModelName: c.tritonModelName,
    modelRequirements: c.modelRequirements,
    instanceType,
    inferenceAmiVersion: args.inferenceAmiVersion,
    modelDataDownloadTimeoutSeconds: args.modelDataDownloadTimeoutSeconds,
    containerStartupTimeoutSeconds: args.containerStartupTimeoutSeconds,
  };
}

/** The fields of a component's endpoint validation that are the component's own. */
const MODEL_FIELDS = [
  "image",
  "imageVersion",
  "imageUri",
  "imageFlavour",
  "modelDataPrefix",
  "modelDataTarball",
  "tritonModelName",
  "modelRequirements",
  "containerStartupTimeoutSeconds",
  "modelDataDownloadTimeoutSeconds",
];

/** Every problem with the arguments, each naming its field and what is allowed. */
export function validateInferenceComponentEndpointArgs(
  args: InferenceComponentEndpointArgs,
): ArgError[] {
  const errors: ArgError[] = [];
  const region = endpointRegion(args);
  if (!region)
    errors.push({
      propertyPath: "region",
      reason: "must be set when the stack has no aws:region config",
    });
  const pools = instancePools(args);
  const known = Object.keys(SAGEMAKER_HOSTING[FALLBACK_REGION].hourlyUsd);
  if (pools.length === 0 || pools.length > MAX_INSTANCE_POOLS)
    errors.push({
      propertyPath: "instancePools",
      reason: `must list 1 to ${MAX_INSTANCE_POOLS} instance types (SageMaker tries at most ${MAX_INSTANCE_POOLS} pools per variant), got ${pools.length}`,
    });
  const seen = new Set<string>();
  const specs: (InstanceSpec | undefined)[] = pools.map((p, i) => {
    const spec = known.includes(p.instanceType) ? findInstance(p.instanceType) : undefined;
    if (!spec)
      errors.push({
        propertyPath: `instancePools[${i}]`,
        reason: `must be a SageMaker hosting instance type the catalog knows (${known.join(", ")}), got ${JSON.stringify(p.instanceType)}`,
      });
    else if (seen.has(p.instanceType))
      errors.push({
        propertyPath: `instancePools[${i}]`,
        reason: `lists ${p.instanceType} twice; each pool is one type`,
      });
    seen.add(p.instanceType);
    return spec;
  });
  const kinds = new Set(specs.filter((s) => s).map((s) => s!.accelerator?.kind ?? "none"));
  if (kinds.size > 1)
    errors.push({
      propertyPath: "instancePools",
      reason: `must all have the same kind of accelerator (one image serves them all), got ${[...kinds].join(" and ")}`,
    });

  if (args.utilization !== undefined) {
    const problem = utilizationProblem(args.utilization);
    if (problem) errors.push({ propertyPath: "utilization", reason: problem });
  }
  for (const f of ["latencyP90Ms", "latencyP99Ms", "errors5xxPerMinute"] as const)
    if (args[f] !== undefined && !(args[f]! >= 0))
      errors.push({
        propertyPath: f,
        reason: `must be at least 0, got ${JSON.stringify(args[f])}`,
      });
  if (args.endpointName !== undefined && !COMPONENT_NAME.test(args.endpointName))
    errors.push({
      propertyPath: "endpointName",
      reason: `must be 1-63 letters, digits and hyphens, starting with a letter or digit, got ${JSON.stringify(args.endpointName)}`,
    });
  checkIntegerRange(errors, "minInstances", args.minInstances, 0, 100);
  checkIntegerRange(errors, "maxInstances", args.maxInstances, 1, 100);
  const instances = instanceBounds(args);
  if (instances.min > instances.max)
    errors.push({
      propertyPath: "minInstances",
      reason: `(${instances.min}) must not exceed maxInstances (${instances.max})`,
    });
  checkIntegerRange(errors, "volumeSizeGb", args.volumeSizeGb, 1, 512);
  // "The value must be between 5% to 50% of the copy count of the inference component"
  // (MaximumBatchSize); WaitIntervalInSeconds 0 to 3600 (InferenceComponentRollingUpdatePolicy,
  // SageMaker API Reference).
  checkIntegerRange(errors, "rollingBatchPercent", args.rollingBatchPercent, 5, 50);
  checkIntegerRange(errors, "deploymentBakeSeconds", args.deploymentBakeSeconds, 0, 3600);
  if (args.subnetIds !== undefined && args.vpcId === undefined)
    errors.push({
      propertyPath: "vpcId",
      reason: "is required with subnetIds (for the endpoint's security group)",
    });
  if (args.volumeSizeGb !== undefined)
    pools.forEach((p, i) => {
      if ((specs[i]?.nvmeGb ?? 0) > 0)
        errors.push({
          propertyPath: "volumeSizeGb",
          reason: `${p.instanceType} (instancePools[${i}]) has local NVMe storage; SageMaker takes no volume size for it`,
        });
    });

  const components = args.components ?? [];
  if (components.length === 0)
    errors.push({ propertyPath: "components", reason: "must list at least one model component" });
  const names = new Set<string>();
  const shapes: CopyShape[][] = [];
  components.forEach((c, i) => {
    const at = (f: string) => `components[${i}].${f}`;
    if (!COMPONENT_NAME.test(c.name ?? ""))
      errors.push({
        propertyPath: at("name"),
        reason: `must be 1-63 letters, digits and hyphens, starting with a letter or digit, got ${JSON.stringify(c.name)}`,
      });
    else if (names.has(c.name))
      errors.push({
        propertyPath: at("name"),
        reason: `${c.name} names two components; names are unique on an endpoint`,
      });
    names.add(c.name);
    // The image, model data and model: the rules of a single-model endpoint on the first pool type.
    const first = pools[0]?.instanceType;
    for (const e of validateSageMakerEndpointArgs(
      asEndpoint(c, args, specs[0] ? first : undefined),
    ))
      if (
        MODEL_FIELDS.includes(e.propertyPath.split(".")[0]) &&
        !/accelerator memory/.test(e.reason)
      )
        errors.push({ ...e, propertyPath: at(e.propertyPath) });
    checkIntegerRange(errors, at("minCopies"), c.minCopies, 0, 1000);
    checkIntegerRange(errors, at("maxCopies"), c.maxCopies, 1, 1000);
    const copies = copyBounds(c, args);
    if (copies.min > copies.max)
      errors.push({
        propertyPath: at("minCopies"),
        reason: `(${copies.min}) must not exceed maxCopies (${copies.max})`,
      });
    if (instances.min > 0 && copies.min === 0)
      errors.push({
        propertyPath: at("minCopies"),
        reason: `is 0 but the endpoint keeps minInstances ${instances.min}: an instance would idle without a copy; set minInstances 0, or minCopies 1 or more`,
      });
    for (const f of ["targetInvocationsPerCopy", "targetConcurrentRequestsPerCopy"] as const)
      if (c[f] !== undefined && !(c[f]! > 0))
        errors.push({
          propertyPath: at(f),
          reason: `must be a positive number, got ${JSON.stringify(c[f])}`,
        });
    for (const f of ["scaleInCooldownSeconds", "scaleOutCooldownSeconds"] as const)
      if (c[f] !== undefined && !(c[f]! >= 0))
        errors.push({
          propertyPath: at(f),
          reason: `must be at least 0, got ${JSON.stringify(c[f])}`,
        });
    // NumberOfAcceleratorDevicesRequired at least 1, MinMemoryRequiredInMb at least 128
    // (InferenceComponentComputeResourceRequirements, SageMaker API Reference).
    checkIntegerRange(errors, at("acceleratorsPerCopy"), c.acceleratorsPerCopy, 1, 16);
    checkIntegerRange(errors, at("memoryPerCopyMb"), c.memoryPerCopyMb, 128, 4_000_000);

    // One copy fits every pool type: SageMaker places a copy on whichever pool it could start.
    const perPool: CopyShape[] = [];
    const valid = (m: ModelRequirements | undefined) =>
      m && validateModelRequirements(m).length === 0 ? m : undefined;
    const tooSmall: { j: number; needGib: number }[] = [];
    pools.forEach((p, j) => {
      const spec = specs[j];
      if (!spec) return;
      // A pool's own model is what must fit there.
      const override = p.overrides?.[c.name];
      const req = valid(override?.modelRequirements ?? c.modelRequirements);
      const needGib = req ? estimateMemory(req).requiredGib : 0;
      const shape = copyShape(c, p, j === 0)!;
      perPool.push(shape);
      const acc = spec.accelerator;
      const most = acc ? (acc.count * acc.memoryMibPerDevice) / 1024 : 0;
      if (req && most < needGib) {
        tooSmall.push({ j, needGib });
        return;
      }
      const haveGib = acc
        ? (Math.min(shape.accelerators, acc.count) * acc.memoryMibPerDevice) / 1024
        : 0;
      if (req && haveGib < needGib) {
        errors.push({
          propertyPath: j === 0 ? at("acceleratorsPerCopy") : `instancePools[${j}]`,
          reason: `component ${c.name} needs ${needGib.toFixed(1)} GiB of accelerator memory, but ${shape.accelerators} accelerator(s) of ${p.instanceType} hold ${haveGib.toFixed(1)} GiB; give it ${acceleratorsThatFit(req, spec)} (acceleratorsPerCopy${j === 0 ? "" : ` in instancePools[${j}].overrides.${c.name}`})`,
        });
        return;
      }
      if (shape.accelerators > (acc?.count ?? 0) || shape.memoryMb > allocatableMemoryMb(spec))
        errors.push({
          propertyPath: j === 0 ? at("acceleratorsPerCopy") : `instancePools[${j}]`,
          reason: `one copy of ${c.name} (${shape.accelerators} accelerator(s), ${shape.memoryMb} MiB) does not fit ${p.instanceType} (${acc?.count ?? 0} accelerator(s), ${allocatableMemoryMb(spec)} MiB after the ${SAGEMAKER_RESERVED_MEMORY_MIB} MiB SageMaker keeps)`,
        });
    });
    // A model no instance of a pool type holds: one line, on the model when the first pool is one.
    if (tooSmall.length > 0)
      errors.push({
        propertyPath:
          tooSmall[0].j === 0 ? at("modelRequirements") : `instancePools[${tooSmall[0].j}]`,
        reason: `component ${c.name} needs ${tooSmall[0].needGib.toFixed(1)} GiB of accelerator memory, more than a whole ${tooSmall
          .map(({ j }) => {
            const acc = specs[j]!.accelerator;
            return `${pools[j].instanceType} holds (${acc ? ((acc.count * acc.memoryMibPerDevice) / 1024).toFixed(1) : "0.0"} GiB)`;
          })
          .join(" or ")}: use larger instance types`,
      });
    shapes.push(perPool);
  });
  for (const [j, p] of pools.entries())
    for (const [k, o] of Object.entries(p.overrides ?? {})) {
      const at = `instancePools[${j}].overrides.${k}`;
      if (!components.some((x) => x.name === k))
        errors.push({
          propertyPath: at,
          reason: `names no component of the endpoint (${components.map((x) => x.name).join(", ")})`,
        });
      if (o.modelDataPrefix !== undefined) {
        const problem = validateModelPrefix(o.modelDataPrefix);
        if (problem) errors.push({ propertyPath: `${at}.modelDataPrefix`, reason: problem });
      } else if (o.modelRequirements !== undefined)
        errors.push({
          propertyPath: `${at}.modelRequirements`,
          reason: "describes another model, which needs its own data (modelDataPrefix)",
        });
      if (o.modelRequirements !== undefined)
        for (const reason of validateModelRequirements(o.modelRequirements))
          errors.push({
            propertyPath: `${at}.modelRequirements.${reason.split(" ")[0]}`,
            reason: reason.slice(reason.indexOf(" ") + 1),
          });
      checkIntegerRange(errors, `${at}.acceleratorsPerCopy`, o.acceleratorsPerCopy, 1, 16);
      checkIntegerRange(errors, `${at}.memoryPerCopyMb`, o.memoryPerCopyMb, 128, 4_000_000);
    }

  // The minimum copies together fit the minimum instances of the first pool type.
  const firstSpec = specs[0];
  if (firstSpec && errors.length === 0) {
    const minCopies = components.flatMap((c, i) =>
      Array.from({ length: copyBounds(c, args).min }, () => shapes[i][0]),
    );
    const needed = minCopies.length === 0 ? 0 : instancesNeeded(firstSpec, minCopies);
    if (needed !== undefined && needed > instances.min)
      errors.push({
        propertyPath: "minInstances",
        reason: `(${instances.min}) cannot hold the components' minimum copies (${components.map((c) => `${c.name} ${copyBounds(c, args).min}`).join(", ")}): they need ${needed} ${pools[0].instanceType}`,
      });
    // Each component at its maximum fits the most instances (components need not peak together).
    components.forEach((c, i) => {
      const most = copyBounds(c, args).max;
      const needed = instancesNeeded(
        firstSpec,
        Array.from({ length: most }, () => shapes[i][0]),
      );
      if (needed !== undefined && needed > instances.max)
        errors.push({
          propertyPath: "maxInstances",
          reason: `(${instances.max}) cannot hold ${c.name}'s maximum copies (${most}): they need ${needed} ${pools[0].instanceType}; raise maxInstances or lower components[${i}].maxCopies`,
        });
    });
  }
  return errors;
}
