/**
 * Instance-type policies: per-environment allowlists (P-family GPUs only where explicitly allowed),
 * types the catalog knows, spot for dev GPU groups, and models that fit their accelerators.
 */
import { NODE_POOL_TYPE, nodePoolCapacityTypes, nodePoolInstanceTypes } from "../catalog/karpenter";
import { configKey } from "./costPolicies";
import { ResourceValidationPolicy } from "@pulumi/policy";
import { findInstance, totalAcceleratorMemoryMib } from "../catalog/instances";
import { MODEL_MEMORY_TAG } from "../catalog/modelFit";
import {
  INSTANCE_RESOURCE_TYPES,
  instanceTypesOf,
  list,
  tagsOf,
  validateResourceOfTypes,
} from "./resources";

/** The P-family types that cost tens of thousands a month each. */
const P_FAMILY = /^p\d/;

export const instanceTypeAllowlist: ResourceValidationPolicy = {
  name: "instance-type-allowlist",
  description:
    "Node groups, launch templates, Auto Scaling groups, instances and SageMaker variants use the environment's allowed instance types.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      allowedInstanceTypes: {
        type: "array",
        items: { type: "string" },
        default: [
          "g5.xlarge",
          "g5.2xlarge",
          "g6.xlarge",
          "g6.2xlarge",
          "inf2.xlarge",
          "t3.medium",
          "m5.large",
          "m5.xlarge",
          "m6i.large",
          "m7i.large",
          "c5.xlarge",
          "c6i.xlarge",
        ],
        description: "EC2 instance types (SageMaker ml.* types are matched without the prefix)",
      },
      allowPFamily: {
        type: "boolean",
        default: false,
        description: "Allow p4d, p4de and p5 (only where explicitly wanted)",
      },
    },
  },
  validateResource: validateResourceOfTypes(
    INSTANCE_RESOURCE_TYPES,
    "runs no instances",
    (args, reportViolation) => {
      const types = instanceTypesOf(args.type, args.props) ?? [];
      const { allowedInstanceTypes, allowPFamily } = args.getConfig<{
        allowedInstanceTypes: string[];
        allowPFamily: boolean;
      }>();
      for (const t of types) {
        if (P_FAMILY.test(t) && !allowPFamily) {
          reportViolation(
            `${args.name} uses ${t}: P-family instances are not allowed in this environment (allowPFamily is false, ${configKey("instance-type-allowlist", "allowPFamily")})`,
          );
        } else if (!allowedInstanceTypes.includes(t) && !(P_FAMILY.test(t) && allowPFamily)) {
          reportViolation(
            `${args.name} uses ${t}, which is not in this environment's allowlist (${allowedInstanceTypes.join(", ")}; ${configKey("instance-type-allowlist", "allowedInstanceTypes")})`,
          );
        }
      }
    },
  ),
};

export const instanceTypeKnown: ResourceValidationPolicy = {
  name: "instance-type-known",
  description:
    "Every instance type is one the catalog knows (specs and prices), so fit and cost are checked.",
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfTypes(
    INSTANCE_RESOURCE_TYPES,
    "runs no instances",
    (args, reportViolation) => {
      const types = instanceTypesOf(args.type, args.props) ?? [];
      for (const t of types) {
        if (!findInstance(t))
          reportViolation(`${args.name} uses ${t}, which the catalog does not know`);
      }
    },
  ),
};

export const spotForDevGpu: ResourceValidationPolicy = {
  name: "spot-for-dev-gpu",
  description: "GPU node groups and Karpenter node pools in development run on spot capacity.",
  enforcementLevel: "advisory",
  validateResource: validateResourceOfTypes(
    ["aws:eks/nodeGroup:NodeGroup", NODE_POOL_TYPE],
    "applies to EKS node groups and Karpenter node pools",
    (args, reportViolation) => {
      if (args.type === NODE_POOL_TYPE) {
        const props = args.props as Record<string, unknown>;
        if (!nodePoolInstanceTypes(props).some((t) => findInstance(t)?.accelerator))
          return args.notApplicable("not an accelerated node pool");
        if (!nodePoolCapacityTypes(props).includes("spot"))
          reportViolation(
            `${args.name} runs accelerated instances on ${nodePoolCapacityTypes(props).join(", ")} only; spot costs far less for development (add spot to the pool's capacity)`,
          );
        return;
      }
      const accelerated = list(args.props.instanceTypes).some(
        (t) => findInstance(String(t))?.accelerator !== undefined,
      );
      if (!accelerated) return args.notApplicable("not an accelerated node group");
      if (args.props.capacityType !== "SPOT") {
        reportViolation(
          `${args.name} runs accelerated instances on ${String(args.props.capacityType ?? "ON_DEMAND")}; spot costs far less for development`,
        );
      }
    },
  ),
};

/**
 * Serving capacity in production is on-demand: a spot reclaim gives two minutes' notice and takes
 * the GPU with it, so a prod endpoint would lose replicas whenever AWS wants the capacity back.
 * Mandatory in prod, advisory in staging, off in dev (where `spot-for-dev-gpu` asks for spot).
 */
export const onDemandForProdServing: ResourceValidationPolicy = {
  name: "on-demand-for-prod-serving",
  description:
    "Accelerated EKS node groups, Karpenter node pools and Triton fleets run on on-demand capacity, not spot, where the environment serves production traffic.",
  enforcementLevel: "advisory",
  validateResource: validateResourceOfTypes(
    ["aws:eks/nodeGroup:NodeGroup", "aws:autoscaling/group:Group", NODE_POOL_TYPE],
    "applies to EKS node groups, Karpenter node pools and Auto Scaling groups",
    (args, reportViolation) => {
      if (args.type === NODE_POOL_TYPE) {
        const props = args.props as Record<string, unknown>;
        if (!nodePoolInstanceTypes(props).some((t) => findInstance(t)?.accelerator))
          return args.notApplicable("not an accelerated node pool");
        if (nodePoolCapacityTypes(props).includes("spot"))
          reportViolation(
            `${args.name} serves on spot capacity, which AWS reclaims with two minutes' notice; drop spot from the pool's capacity`,
          );
        return;
      }
      if (args.type === "aws:eks/nodeGroup:NodeGroup") {
        const accelerated = list(args.props.instanceTypes).some(
          (t) => findInstance(String(t))?.accelerator !== undefined,
        );
        if (!accelerated) return args.notApplicable("not an accelerated node group");
        if (args.props.capacityType === "SPOT")
          reportViolation(
            `${args.name} serves on spot capacity, which AWS reclaims with two minutes' notice; use capacityType ON_DEMAND`,
          );
        return;
      }
      // An Auto Scaling group (a Triton fleet).
      const distribution = (
        args.props.mixedInstancesPolicy as
          { instancesDistribution?: { onDemandPercentageAboveBaseCapacity?: number } } | undefined
      )?.instancesDistribution;
      const onDemand = distribution?.onDemandPercentageAboveBaseCapacity ?? 100;
      if (onDemand < 100)
        reportViolation(
          `${args.name} runs ${100 - onDemand}% of its instances above the base on spot; set spotPercent to 0`,
        );
    },
  ),
};

export const modelFitsAccelerator: ResourceValidationPolicy = {
  name: "model-fits-accelerator",
  description: `Where a resource carries its model's memory needs (tag ${MODEL_MEMORY_TAG}), its accelerators hold them.`,
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfTypes(
    INSTANCE_RESOURCE_TYPES,
    "carries no model requirements",
    (args, reportViolation) => {
      const types = instanceTypesOf(args.type, args.props) ?? [];
      const needed = tagsOf(args.props)[MODEL_MEMORY_TAG];
      if (needed === undefined) return args.notApplicable("carries no model requirements");
      const neededGib = Number(needed);
      if (!Number.isFinite(neededGib)) {
        reportViolation(
          `${args.name}: tag ${MODEL_MEMORY_TAG} must be a number of GiB, got ${JSON.stringify(needed)}`,
        );
        return;
      }
      for (const t of types) {
        const spec = findInstance(t);
        if (!spec) continue; // instance-type-known reports it
        const availableGib = totalAcceleratorMemoryMib(spec) / 1024;
        if (neededGib > availableGib) {
          reportViolation(
            `${args.name}: the model needs ${neededGib} GiB of accelerator memory but ${t} has ${availableGib.toFixed(1)} GiB`,
          );
        }
      }
    },
  ),
};

export const INSTANCE_POLICIES = [
  instanceTypeAllowlist,
  instanceTypeKnown,
  spotForDevGpu,
  onDemandForProdServing,
  modelFitsAccelerator,
];
