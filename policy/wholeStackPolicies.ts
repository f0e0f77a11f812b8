/**
 * Whole-stack checks as stack policies: does the stack work as a whole, beyond each resource being
 * valid? The checks live in checks/; `npm run plan` and `pulumi preview` run the same ones.
 */
import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { CapturedResource } from "../checks/resource";
import { Finding } from "../checks/finding";
import { checkImageSources } from "../checks/imageSources";
import { checkReachability } from "../checks/reachability";
import { checkScheduling, finishRenders } from "../checks/scheduling";
import { checkServingContainers } from "../checks/servingContainers";
import { checkAlarmsAtRest } from "../checks/alarmsAtRest";
import { checkComponentWiring } from "../checks/componentWiring";

/** The policy engine's resources in the plan's shape. */
export function asCaptured(resources: PolicyResource[]): CapturedResource[] {
  return resources.map((r) => ({
    type: r.type,
    name: r.name,
    parent: r.parent?.name ?? null,
    custom: !r.type.startsWith("llm-infra:"),
    id: typeof r.props.id === "string" ? r.props.id : undefined,
    inputs: r.props,
    protect: r.opts.protect,
    retainOnDelete: false,
    urn: r.urn,
    dependencies: [],
  }));
}

function stackPolicy(
  name: string,
  description: string,
  appliesTo: { types: string[]; reason: string },
  check: (resources: CapturedResource[]) => Finding[] | Promise<Finding[]>,
): StackValidationPolicy {
  return {
    name,
    description,
    enforcementLevel: "mandatory",
    validateStack: async (args, reportViolation) => {
      if (!args.resources.some((r) => appliesTo.types.includes(r.type)))
        return args.notApplicable(appliesTo.reason);
      const resources = asCaptured(args.resources);
      for (const f of await check(resources)) {
        const urn = args.resources.find((r) => r.name === f.resource)?.urn;
        reportViolation(`${f.resource}: ${f.message}`, urn);
      }
    },
  };
}

export const WHOLE_STACK_POLICIES: StackValidationPolicy[] = [
  stackPolicy(
    "pods-schedule",
    "Every pod the stack deploys lands on a node group the stack creates, within the CPU and memory its kubelet and DaemonSets leave, with the accelerators a device plugin advertises there.",
    {
      types: [
        "kubernetes:helm.sh/v3:Release",
        "kubernetes:batch/v1:Job",
        "kubernetes:apps/v1:Deployment",
      ],
      reason: "the stack deploys no pods",
    },
    // Under `npm run plan`, helm has been rendering the stack's charts since the program recorded
    // their releases; the policies before this one ran meanwhile.
    async (resources) => {
      await finishRenders();
      return checkScheduling(resources);
    },
  ),
  stackPolicy(
    "deployer-and-nodes-reach-aws",
    "The deployer reaches each cluster's API, and private instances reach ECR, S3 and STS.",
    { types: ["eks:index:Cluster", "awsx:ec2:Vpc"], reason: "the stack has no cluster and no VPC" },
    checkReachability,
  ),
  stackPolicy(
    "images-from-ecr-without-nat",
    "In a VPC without NAT gateways, every image a workload pulls (Helm releases, Jobs, the fleet's user data) comes from ECR; an image pulled through the pull-through cache by digest is warmed by the image build first.",
    { types: ["awsx:ec2:Vpc"], reason: "the stack has no VPC" },
    checkImageSources,
  ),
  stackPolicy(
    "alarms-quiet-at-rest",
    "No alarm sits in ALARM while its workload rests by design (Triton at zero replicas, or node groups stopped by a schedule).",
    { types: ["aws:cloudwatch/metricAlarm:MetricAlarm"], reason: "the stack has no alarm" },
    checkAlarmsAtRest,
  ),
  stackPolicy(
    "inference-components-wired",
    "Each endpoint of inference components names its execution role; each component scales on its own copy count, and one that may rest at zero copies has a NoCapacityInvocationFailures alarm that starts its first copy.",
    {
      types: ["aws-native:sagemaker:EndpointConfig", "aws-native:sagemaker:InferenceComponent"],
      reason: "the stack has no inference component",
    },
    checkComponentWiring,
  ),
  stackPolicy(
    "sagemaker-containers-serve",
    "Each SageMaker model's container can answer on its endpoint's hosts: a Triton LLM image has SageMaker's generate handler and a driver the AMI has; LMI reads its weights from the model data when the model has no network.",
    { types: ["aws:sagemaker/model:Model"], reason: "the stack has no SageMaker model" },
    checkServingContainers,
  ),
];
