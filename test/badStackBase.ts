/** The valid stack the bad-input tests break, one edit at a time. */

export type Config = Record<string, unknown>;

/** A valid dev stack that uses every section but the fleet: each case breaks one thing. */
export function baseConfig(): Config {
  return {
    "aws:region": "us-east-1",
    "llm-infra:environment": "dev",
    "llm-infra:tags": { team: "ml-platform", costCenter: "ml-1001" },
    "llm-infra:network": { azCount: 2, natGateways: "single", flowLogRetentionDays: 30 },
    "llm-infra:storage": { repositories: ["triton"], noncurrentVersionExpiryDays: 30 },
    "llm-infra:sagemaker": {
      endpoints: [
        {
          name: "chat",
          instanceType: "ml.g5.xlarge",
          minInstances: 1,
          maxInstances: 1,
          tritonModelName: "llama3-8b",
          model: {
            parametersBillions: 8,
            dtype: "bf16",
            contextLength: 8192,
            concurrentSequences: 2,
            layers: 32,
            hiddenSize: 4096,
            attentionHeads: 32,
            kvHeads: 8,
          },
          deploymentBakeSeconds: 0,
        },
        {
          name: "spiky",
          mode: "serverless",
          imageUri: "123456789012.dkr.ecr.us-east-1.amazonaws.com/cpu-llm:1.0",
          serverlessMemoryMb: 6144,
        },
      ],
    },
    "llm-infra:eks": {
      systemInstanceType: "t3.medium",
      deployerAccess: "deployerAddress",
      systemNodeCount: 2,
      nodeGroups: [
        {
          name: "gpu",
          instanceTypes: ["g5.xlarge"],
          capacityType: "SPOT",
          minSize: 0,
          desiredSize: 0,
          maxSize: 1,
        },
      ],
    },
    "llm-infra:triton": { nodeGroup: "gpu", modelRepositoryMode: "s3-sync", maxReplicas: 1 },
    "llm-infra:api": { backend: "chat" },
  };
}

export const FLEET = { instanceType: "g5.xlarge", minSize: 1, desiredSize: 1, maxSize: 1 };
export const CERT =
  "arn:aws:acm:us-east-1:123456789012:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";
export const WAF =
  "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/api-acl/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";
export const ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com/cpu-llm:1.0";

/** Sets (or, with `undefined`, deletes) the value at a path of keys and list indexes. */
export function set(config: Config, keys: (string | number)[], value: unknown): void {
  let node = config as Record<string | number, unknown>;
  keys.slice(0, -1).forEach((k, i) => {
    const child = node[k];
    // A path through a scalar (an earlier edit replaced a map) gets a fresh container.
    if (child === null || typeof child !== "object")
      node[k] = typeof keys[i + 1] === "number" ? [] : {};
    node = node[k] as Record<string | number, unknown>;
  });
  const last = keys[keys.length - 1];
  if (value === undefined) delete node[last];
  else node[last] = value;
}
