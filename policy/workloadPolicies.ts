/** Whole-stack checks about what runs where, as stack policies (checks/). */
import { StackValidationPolicy } from "@pulumi/policy";
import { CapturedResource } from "../checks/resource";
import { idleAccelerators } from "../checks/idleAccelerators";

/** The policy's view of the stack as the checks' resource list. */
function captured(
  resources: Parameters<StackValidationPolicy["validateStack"]>[0]["resources"],
): CapturedResource[] {
  return resources.map((r) => ({
    type: r.type,
    name: r.name,
    parent: null,
    custom: true,
    inputs: r.props,
    protect: false,
    retainOnDelete: false,
    dependencies: [],
  }));
}

/** Accelerator node groups nothing of the stack runs on. */
export const acceleratorsInUse: StackValidationPolicy = {
  name: "accelerators-in-use",
  description: "Every priced accelerator node group has a workload that selects it.",
  enforcementLevel: "advisory",
  validateStack: (args, reportViolation) => {
    if (!args.resources.some((r) => r.type === "aws:eks/nodeGroup:NodeGroup"))
      return args.notApplicable("the stack has no EKS node groups");
    for (const f of idleAccelerators(captured(args.resources)))
      reportViolation(f.message, args.resources.find((r) => r.name === f.resource)?.urn);
  },
};

export const WORKLOAD_POLICIES = [acceleratorsInUse];
