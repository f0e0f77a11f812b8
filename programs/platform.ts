/**
 * What a stack creates, from its validated configuration. `programs/index.ts` runs this under the
 * Pulumi engine; `npm run plan` runs the same function under mocks.
 */
import * as pulumi from "@pulumi/pulumi";
import { InferenceVpc } from "../components/network/inferenceVpc";
import { ModelRegistry } from "../components/storage/modelRegistry";
import { ModelStore } from "../components/storage/modelStore";
import { StackConfig } from "./config";

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

  return {
    environment: config.environment,
    region: config.region,
    vpcId: network.vpcId,
    privateSubnetIds: network.privateSubnetIds,
    publicSubnetIds: network.publicSubnetIds,
    modelBucketName: models.bucketName,
    modelRepositoryUri: models.repositoryUri,
    registryUrls: registry.repositoryUrls,
  };
}
