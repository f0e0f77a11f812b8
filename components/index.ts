/**
 * llm-infra components. Type tokens are `llm-infra:index:<Class>`.
 */
export * from "./network/inferenceVpc";
export * from "./storage/modelRegistry";
export * from "./storage/modelStore";
export * from "./storage/imageMirror";
export * from "./sagemaker/endpointArgs";
export * from "./sagemaker/sageMakerEndpoint";
export * from "./sagemaker/componentEndpointArgs";
export * from "./sagemaker/inferenceComponentEndpoint";
export {
  modelReadOnlyPolicy,
  modelReadWritePolicy,
  validateModelPrefix,
  PolicyDocument,
  PolicyStatement,
} from "./storage/modelStorePolicies";
export { Tags } from "./tags";
export * as catalog from "../catalog";
export * from "./eks/acceleratorNodeGroup";
export * from "./eks/clusterAddons";
export * from "./eks/gpuCluster";
export * from "./eks/sharedModelCache";
export * from "./eks/metricsPipeline";
export * from "./eks/karpenter";
export * from "./eks/gpuNodePool";
export * from "./triton/tritonRelease";
export * from "./triton/tritonLoadBalancer";
export * from "./ec2/tritonFleet";
export * from "./api/inferenceApi";
export * from "./monitoring/alarmTopic";
export * from "./monitoring/servingMonitor";
export * from "./storage/modelWeights";
