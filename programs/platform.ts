/**
 * What a stack creates, from its validated configuration. `programs/index.ts` runs this under the
 * Pulumi engine; `npm run plan` runs the same function under mocks.
 */
import * as pulumi from "@pulumi/pulumi";
import { InferenceVpc } from "../components/network/inferenceVpc";
import { ModelRegistry } from "../components/storage/modelRegistry";
import { ModelStore } from "../components/storage/modelStore";
import { SageMakerEndpoint } from "../components/sagemaker/sageMakerEndpoint";
import { StackConfig } from "./config";
import { componentArgs } from "./sagemakerConfig";

/** The stack outputs other stacks and scripts read. */
export interface PlatformOutputs {
  environment: string;
  region: string;
  vpcId: pulumi.Output<string>;
  privateSubnetIds: pulumi.Output<string[]>;
  publicSubnetIds: pulumi.Output<string[]>;
  modelBucketName: pulumi.Output<string>;
  modelRepositoryUri: pulumi.Output<string>;
  registryUrls: pulumi.Output<Record<string, string>>;
  /** SageMaker endpoint names by configured name. */
  sagemakerEndpoints: Record<string, string>;
}

export function createPlatform(config: StackConfig): PlatformOutputs {
  const tags = config.tags;

  const network = new InferenceVpc("network", { ...config.network, region: config.region, tags });

  const registry = new ModelRegistry("registry", {
    ...config.storage.registry,
    retainOnDelete: config.storage.retainOnDelete,
    tags,
  });

  const models = new ModelStore("models", {
    ...config.storage.modelStore,
    retainOnDelete: config.storage.retainOnDelete,
    tags,
  });

  const endpoints: Record<string, string> = {};
  for (const e of config.sagemaker.endpoints) {
    const endpoint = new SageMakerEndpoint(e.name, {
      ...componentArgs(e, config.region),
      modelBucketArn: models.bucketArn,
      modelKmsKeyArn: models.kmsKeyArn,
      subnetIds: e.inVpc ? network.privateSubnetIds : undefined,
      vpcId: e.inVpc ? network.vpcId : undefined,
      tags,
    });
    endpoints[e.name] = endpoint.endpointName;
  }

  return {
    environment: config.environment,
    region: config.region,
    vpcId: network.vpcId,
    privateSubnetIds: network.privateSubnetIds,
    publicSubnetIds: network.publicSubnetIds,
    modelBucketName: models.bucketName,
    modelRepositoryUri: models.repositoryUri,
    registryUrls: registry.repositoryUrls,
    sagemakerEndpoints: endpoints,
  };
}
