import { InferenceVpc, ModelStore, SageMakerEndpoint } from "llm-infra";

const tags = { environment: "dev", team: "ml-platform", "cost-center": "ml-1001" };
const network = new InferenceVpc("network", { azCount: 2, natGateways: "single", tags });
const models = new ModelStore("models", { repositoryPrefix: "model-repository", tags });
const chat = new SageMakerEndpoint("chat", {
  instanceType: "ml.g5.xlarge",
  maxInstances: 1,
  image: "lmi", // AWS's Large Model Inference container (vLLM), for a Hugging Face snapshot
  imageVersion: "0.31.0",
  modelBucketArn: models.bucketArn,
  modelKmsKeyArn: models.kmsKeyArn,
  modelDataPrefix: models.modelPrefix("chat"), // config.json and *.safetensors under it
  subnetIds: network.privateSubnetIds,
  vpcId: network.vpcId,
  tags,
});
export const endpointName = chat.endpointName;
