/**
 * Cost-allocation tags on every taggable resource.
 */
import { ResourceValidationPolicy } from "@pulumi/policy";
import { tagsOf, validateResourceOfTypes } from "./resources";

/** Resource types that take tags (the platform's, and the common ones next to them). */
export const TAGGABLE_TYPES = new Set<string>([
  "awsx:ec2:Vpc",
  "eks:index:Cluster",
  "aws:eks/cluster:Cluster",
  "aws:eks/nodeGroup:NodeGroup",
  "aws:eks/addon:Addon",
  "aws:ec2/launchTemplate:LaunchTemplate",
  "aws:ec2/instance:Instance",
  "aws:ec2/securityGroup:SecurityGroup",
  "aws:ec2/vpcEndpoint:VpcEndpoint",
  "aws:ec2/flowLog:FlowLog",
  "aws:autoscaling/group:Group",
  "aws:cloudwatch/logGroup:LogGroup",
  "aws:cloudwatch/metricAlarm:MetricAlarm",
  "aws:iam/role:Role",
  "aws:iam/policy:Policy",
  "aws:kms/key:Key",
  "aws:s3/bucket:Bucket",
  "aws:ecr/repository:Repository",
  "aws:efs/fileSystem:FileSystem",
  "aws:efs/accessPoint:AccessPoint",
  "aws:sns/topic:Topic",
  "aws:sagemaker/model:Model",
  "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
  "aws:sagemaker/endpoint:Endpoint",
  "aws-native:sagemaker:EndpointConfig",
  "aws-native:sagemaker:InferenceComponent",
  "aws:appautoscaling/target:Target",
  "aws:lb/loadBalancer:LoadBalancer",
  "aws:lb/targetGroup:TargetGroup",
  "aws:apigateway/restApi:RestApi",
  "aws:apigateway/stage:Stage",
]);

export const costAllocationTags: ResourceValidationPolicy = {
  name: "cost-allocation-tags",
  description:
    "Every taggable resource carries the cost-allocation tags (environment, team, cost-center).",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      requiredTags: {
        type: "array",
        items: { type: "string" },
        default: ["environment", "team", "cost-center"],
        description: "Tag keys every taggable resource must carry",
      },
    },
  },
  validateResource: validateResourceOfTypes(
    TAGGABLE_TYPES,
    "the resource type takes no tags",
    (args, reportViolation) => {
      const { requiredTags } = args.getConfig<{ requiredTags: string[] }>();
      const tags = tagsOf(args.props);
      const missing = requiredTags.filter((k) => !tags[k]);
      if (missing.length > 0)
        reportViolation(`${args.name}: missing cost-allocation tag(s) ${missing.join(", ")}`);
    },
  ),
};

export const TAG_POLICIES = [costAllocationTags];
