import * as assert from "assert";
import { Policies, PolicyPackConfig } from "@pulumi/policy";
import { CapturedResource } from "../offline/engine";
import { evaluatePolicies } from "../offline/policyEvaluator";
import {
  maxInstances,
  maxUsdPerMillionTokens,
  monthlyBudget,
  monthlyBudgetWarning,
} from "../policy/costPolicies";
import {
  instanceTypeAllowlist,
  instanceTypeKnown,
  modelFitsAccelerator,
  spotForDevGpu,
  onDemandForProdServing,
} from "../policy/instancePolicies";
import { ALL_POLICIES } from "../policy/policies";
import {
  ecrRepositoryHardening,
  efsEncrypted,
  eksAuditLogs,
  eksEndpointNotPublic,
  eksSecretsEncryption,
  iamNoWildcards,
  launchTemplateHardening,
  s3BucketHardening,
  sagemakerMultiInstance,
  sagemakerNetworkIsolation,
  sagemakerVolumeKms,
  securityGroupAdminPorts,
} from "../policy/securityPolicies";
import { costAllocationTags } from "../policy/tagPolicies";
import { acceleratorsInUse } from "../policy/workloadPolicies";
import { iamKnownNames, iamScenarios } from "../policy/iamPolicies";
import { alarmTopicPolicy, tlsOnlyTopicPolicy } from "../components/sagemaker/policies";
import { WHOLE_STACK_POLICIES } from "../policy/wholeStackPolicies";
import { capturedResource } from "./helpers";

const TAGS = { environment: "dev", team: "ml", "cost-center": "1" };

const res = capturedResource;

async function run(
  policy: Policies[number],
  resources: CapturedResource[],
  config?: PolicyPackConfig,
) {
  return evaluatePolicies([policy], resources, { project: "llm-infra", stack: "test", config });
}

type Outcome = "violation" | "pass" | "not-applicable";

/** What one policy concludes about the given resources: a violation, a pass, or not applicable. */
async function outcome(
  policy: Policies[number],
  resources: CapturedResource[],
  config?: PolicyPackConfig,
): Promise<{ outcome: Outcome; messages: string[] }> {
  const e = await run(policy, resources, config);
  if (e.verdicts.length > 0)
    return { outcome: "violation", messages: e.verdicts.map((v) => v.message) };
  const applicable = resources.length - new Set(e.notApplicable.map((n) => n.resource)).size;
  const stackNa = e.notApplicable.some((n) => n.resource === "stack");
  return { outcome: stackNa || applicable === 0 ? "not-applicable" : "pass", messages: [] };
}

interface Case {
  violating: CapturedResource[];
  /** A fragment of the violation message. */
  says: string;
  passing: CapturedResource[];
  notApplicable: CapturedResource[];
  /** The resource without the property the policy reads, and what the policy concludes. */
  missing: CapturedResource[];
  missingOutcome: Outcome;
  config?: PolicyPackConfig;
  /** Stack policies: not applicable to a stack without resources. */
  emptyStackNotApplicable?: boolean;
}

const g5Group = (inputs: Record<string, unknown>) =>
  res("aws:eks/nodeGroup:NodeGroup", "gpu", {
    instanceTypes: ["g5.2xlarge"],
    scalingConfig: { minSize: 1, desiredSize: 2, maxSize: 10 },
    tags: TAGS,
    ...inputs,
  });
const variant = (extra: Record<string, unknown>) => ({
  variantName: "primary",
  instanceType: "ml.g5.2xlarge",
  initialInstanceCount: 2,
  ...extra,
});
const endpointConfig = (inputs: Record<string, unknown>) =>
  res("aws:sagemaker/endpointConfiguration:EndpointConfiguration", "cfg", {
    productionVariants: [variant({})],
    ...inputs,
  });
const bucketSet = (opts: { pab?: boolean; sse?: string; versioning?: string; tls?: boolean }) => [
  res("aws:s3/bucket:Bucket", "models", {}, { id: "models-1" }),
  ...(opts.pab === undefined
    ? []
    : [
        res("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "models", {
          bucket: "models-1",
          blockPublicAcls: true,
          blockPublicPolicy: true,
          ignorePublicAcls: true,
          restrictPublicBuckets: opts.pab,
        }),
      ]),
  ...(opts.sse === undefined
    ? []
    : [
        res(
          "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
          "models",
          {
            bucket: "models-1",
            rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: opts.sse } }],
          },
        ),
      ]),
  ...(opts.versioning === undefined
    ? []
    : [
        res("aws:s3/bucketVersioning:BucketVersioning", "models", {
          bucket: "models-1",
          versioningConfiguration: { status: opts.versioning },
        }),
      ]),
  ...(opts.tls
    ? [
        res("aws:s3/bucketPolicy:BucketPolicy", "models", {
          bucket: "models-1",
          policy:
            '{"Statement":[{"Effect":"Deny","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}',
        }),
      ]
    : []),
];
const rolePolicy = (statement: Record<string, unknown>) =>
  res("aws:iam/rolePolicy:RolePolicy", "p", {
    policy: JSON.stringify({ Version: "2012-10-17", Statement: [statement] }),
  });
const kms = res("aws:kms/key:Key", "k", { tags: TAGS });
const TOPIC = "arn:aws:sns:us-east-1:123456789012:alarms";
/** An alarm notifying a topic under the given topic policy. */
const alarmTopic = (policy: object) => [
  res("aws:cloudwatch/metricAlarm:MetricAlarm", "errors", { alarmActions: [TOPIC] }),
  res("aws:sns/topicPolicy:TopicPolicy", "alarms", { arn: TOPIC, policy: JSON.stringify(policy) }),
];
const SCOPE = { partition: "aws", region: "us-east-1", accountId: "123456789012" };
const syncJob = (nodeSelector: Record<string, string>) =>
  res("kubernetes:batch/v1:Job", "sync", {
    spec: { template: { spec: { nodeSelector, containers: [{ name: "sync" }] } } },
  });
const imageJob = (image: string) =>
  res("kubernetes:batch/v1:Job", "sync", {
    spec: { template: { spec: { containers: [{ name: "sync", image }] } } },
  });
const privateCluster = (inputs: Record<string, unknown>) =>
  res("eks:index:Cluster", "eks", {
    name: "c1",
    endpointPrivateAccess: true,
    endpointPublicAccess: false,
    ...inputs,
  });

const GPU_LABELS = { "workload-type": "gpu-inference", "llm-infra/accelerator-kind": "nvidia" };
/** A fleet of g6e.xlarge running NGC's TensorRT-LLM Triton for an 8B fp8 model at a utilization. */
const trtllmFleet = (utilization: string | undefined, modelClass: string | null = "8B fp8") => [
  res(
    "aws:ec2/launchTemplate:LaunchTemplate",
    "fleet-lt",
    {
      instanceType: "g6e.xlarge",
      userData: "#!/bin/bash\ndocker pull nvcr.io/nvidia/tritonserver:25.01-trtllm-python-py3\n",
    },
    { id: "lt-1" },
  ),
  res(
    "aws:autoscaling/group:Group",
    "fleet-asg",
    {
      launchTemplate: { id: "lt-1" },
      tags: [
        ...(modelClass ? [{ key: "llm-infra:model-class", value: modelClass }] : []),
        ...(utilization ? [{ key: "llm-infra:utilization", value: utilization }] : []),
      ],
    },
    { parent: "fleet" },
  ),
];

const CASES: [Policies[number], Case][] = [
  [
    maxUsdPerMillionTokens,
    {
      // $1.861/h / (4,054.71 tok/s x 3600 x 0.01) x 1e6 = $12.75, above the default $10.
      violating: trtllmFleet("0.01"),
      says: "EC2 fleet fleet-asg: $12.75 per 1M output tokens at 0.01 utilization ($1.86/h on-demand, 4054.71 tok/s, row trtllm-0.17-llama3.1-8b-fp8-1xl40s) is above the ceiling of $10.00",
      passing: trtllmFleet("0.5"),
      notApplicable: [kms],
      // A target whose model is not recorded has no figure.
      missing: trtllmFleet("0.5", null),
      missingOutcome: "not-applicable",
    },
  ],
  [
    monthlyBudget,
    {
      config: { "monthly-budget": { monthlyBudgetUsd: 1000 } },
      violating: [g5Group({})],
      says: "estimated expected $1,769.52/month exceeds the budget of $1,000.00; largest: gpu $1,769.52 (set in policy/config/<environment>.json, monthly-budget.monthlyBudgetUsd)",
      passing: [kms],
      notApplicable: [],
      emptyStackNotApplicable: true,
      missing: [g5Group({ scalingConfig: {} })],
      missingOutcome: "pass",
    },
  ],
  [
    monthlyBudgetWarning,
    {
      config: { "monthly-budget-warning": { monthlyBudgetUsd: 2000, warnFraction: 0.8 } },
      violating: [g5Group({})],
      says: "above 80% of the budget of $2,000.00",
      passing: [kms],
      notApplicable: [],
      emptyStackNotApplicable: true,
      missing: [g5Group({ scalingConfig: {} })],
      missingOutcome: "pass",
    },
  ],
  [
    maxInstances,
    {
      config: { "max-instances": { maxInstances: 4 } },
      violating: [g5Group({})],
      says: "gpu may run 10 instances; the cap is 4",
      passing: [g5Group({ scalingConfig: { maxSize: 3 } })],
      notApplicable: [kms],
      missing: [g5Group({ scalingConfig: {} })],
      missingOutcome: "pass",
    },
  ],
  [
    instanceTypeAllowlist,
    {
      config: { "instance-type-allowlist": { allowedInstanceTypes: ["g5.xlarge", "g5.2xlarge"] } },
      violating: [
        endpointConfig({ productionVariants: [variant({ instanceType: "ml.p5.48xlarge" })] }),
      ],
      says: "cfg uses p5.48xlarge: P-family instances are not allowed",
      passing: [endpointConfig({})],
      notApplicable: [kms],
      missing: [res("aws:ec2/launchTemplate:LaunchTemplate", "lt", {})],
      missingOutcome: "pass",
    },
  ],
  [
    instanceTypeKnown,
    {
      violating: [g5Group({ instanceTypes: ["g5.3xlarge"] })],
      says: "gpu uses g5.3xlarge, which the catalog does not know",
      passing: [g5Group({})],
      notApplicable: [kms],
      missing: [g5Group({ instanceTypes: undefined })],
      missingOutcome: "pass",
    },
  ],
  [
    spotForDevGpu,
    {
      violating: [g5Group({ capacityType: "ON_DEMAND" })],
      says: "spot costs far less",
      passing: [g5Group({ capacityType: "SPOT" })],
      notApplicable: [g5Group({ instanceTypes: ["m5.large"] })],
      missing: [g5Group({})],
      missingOutcome: "violation",
    },
  ],
  [
    onDemandForProdServing,
    {
      violating: [g5Group({ capacityType: "SPOT" })],
      says: "gpu serves on spot capacity",
      passing: [g5Group({ capacityType: "ON_DEMAND" })],
      notApplicable: [g5Group({ capacityType: "SPOT", instanceTypes: ["m5.large"] })],
      missing: [g5Group({})],
      missingOutcome: "pass",
    },
  ],
  [
    modelFitsAccelerator,
    {
      violating: [endpointConfig({ tags: { "llm-infra:model-memory-gib": "40.0" } })],
      says: "the model needs 40 GiB of accelerator memory but g5.2xlarge has 22.4 GiB",
      passing: [endpointConfig({ tags: { "llm-infra:model-memory-gib": "18.8" } })],
      notApplicable: [kms],
      missing: [endpointConfig({})],
      missingOutcome: "not-applicable",
    },
  ],
  [
    eksEndpointNotPublic,
    {
      violating: [
        res("aws:eks/cluster:Cluster", "c", {
          vpcConfig: { endpointPublicAccess: true, publicAccessCidrs: ["0.0.0.0/0"] },
        }),
      ],
      says: "public to the internet",
      passing: [
        res("eks:index:Cluster", "c", {
          endpointPublicAccess: true,
          publicAccessCidrs: ["203.0.113.0/24"],
        }),
      ],
      notApplicable: [kms],
      missing: [res("aws:eks/cluster:Cluster", "c", { vpcConfig: {} })],
      missingOutcome: "violation",
    },
  ],
  [
    eksSecretsEncryption,
    {
      violating: [res("eks:index:Cluster", "c", {})],
      says: "secrets are not encrypted",
      passing: [
        res("aws:eks/cluster:Cluster", "c", {
          encryptionConfig: { resources: ["secrets"], provider: { keyArn: "arn:k" } },
        }),
      ],
      notApplicable: [kms],
      missing: [res("aws:eks/cluster:Cluster", "c", {})],
      missingOutcome: "violation",
    },
  ],
  [
    eksAuditLogs,
    {
      violating: [res("eks:index:Cluster", "c", { enabledClusterLogTypes: ["api"] })],
      says: "control-plane logs audit, authenticator are off",
      passing: [
        res("eks:index:Cluster", "c", {
          enabledClusterLogTypes: ["api", "audit", "authenticator"],
        }),
      ],
      notApplicable: [kms],
      missing: [res("aws:eks/cluster:Cluster", "c", {})],
      missingOutcome: "violation",
    },
  ],
  [
    launchTemplateHardening,
    {
      violating: [
        res("aws:ec2/launchTemplate:LaunchTemplate", "lt", {
          metadataOptions: { httpTokens: "optional" },
          blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { encrypted: "false" } }],
        }),
      ],
      says: "must require IMDSv2",
      passing: [
        res("aws:ec2/launchTemplate:LaunchTemplate", "lt", {
          metadataOptions: { httpTokens: "required" },
          blockDeviceMappings: [
            { deviceName: "/dev/xvda", ebs: { encrypted: "true", volumeType: "gp3" } },
          ],
        }),
      ],
      notApplicable: [kms],
      missing: [res("aws:ec2/launchTemplate:LaunchTemplate", "lt", {})],
      missingOutcome: "violation",
    },
  ],
  [
    ecrRepositoryHardening,
    {
      violating: [
        res("aws:ecr/repository:Repository", "r", {
          imageTagMutability: "MUTABLE",
          imageScanningConfiguration: { scanOnPush: true },
          encryptionConfigurations: [{ encryptionType: "KMS" }],
        }),
      ],
      says: "image tags are mutable",
      passing: [
        res("aws:ecr/repository:Repository", "r", {
          imageTagMutability: "IMMUTABLE",
          imageScanningConfiguration: { scanOnPush: true },
          encryptionConfigurations: [{ encryptionType: "KMS" }],
        }),
      ],
      notApplicable: [kms],
      missing: [res("aws:ecr/repository:Repository", "r", {})],
      missingOutcome: "violation",
    },
  ],
  [
    s3BucketHardening,
    {
      violating: bucketSet({ pab: true, sse: "AES256", versioning: "Enabled", tls: true }),
      says: "default encryption is AES256; SSE-KMS is required",
      passing: bucketSet({ pab: true, sse: "aws:kms", versioning: "Enabled", tls: true }),
      notApplicable: [kms],
      missing: bucketSet({}),
      missingOutcome: "violation",
    },
  ],
  [
    efsEncrypted,
    {
      violating: [res("aws:efs/fileSystem:FileSystem", "fs", { encrypted: false })],
      says: "not encrypted",
      passing: [res("aws:efs/fileSystem:FileSystem", "fs", { encrypted: true, kmsKeyId: "arn:k" })],
      notApplicable: [kms],
      missing: [res("aws:efs/fileSystem:FileSystem", "fs", {})],
      missingOutcome: "violation",
    },
  ],
  [
    sagemakerVolumeKms,
    {
      violating: [
        endpointConfig({ productionVariants: [variant({ instanceType: "ml.inf2.xlarge" })] }),
      ],
      says: "instance volumes are not encrypted",
      passing: [
        endpointConfig({
          productionVariants: [variant({ instanceType: "ml.inf2.xlarge" })],
          kmsKeyArn: "arn:k",
        }),
      ],
      notApplicable: [endpointConfig({})],
      missing: [
        endpointConfig({
          productionVariants: [{ variantName: "s", serverlessConfig: { memorySizeInMb: 2048 } }],
        }),
      ],
      missingOutcome: "not-applicable",
    },
  ],
  [
    sagemakerNetworkIsolation,
    {
      violating: [res("aws:sagemaker/model:Model", "m", { enableNetworkIsolation: false })],
      says: "can reach the network",
      passing: [res("aws:sagemaker/model:Model", "m", { enableNetworkIsolation: true })],
      notApplicable: [kms],
      missing: [res("aws:sagemaker/model:Model", "m", {})],
      missingOutcome: "violation",
    },
  ],
  [
    sagemakerMultiInstance,
    {
      violating: [endpointConfig({ productionVariants: [variant({ initialInstanceCount: 1 })] })],
      says: "variant primary runs 1 instance; run at least 2",
      passing: [endpointConfig({})],
      notApplicable: [
        endpointConfig({
          asyncInferenceConfig: { outputConfig: { s3OutputPath: "s3://b/o/" } },
          productionVariants: [variant({ initialInstanceCount: 1 })],
        }),
      ],
      missing: [
        endpointConfig({
          productionVariants: [{ variantName: "primary", instanceType: "ml.g5.2xlarge" }],
        }),
      ],
      missingOutcome: "violation",
    },
  ],
  [
    securityGroupAdminPorts,
    {
      violating: [
        res("aws:ec2/securityGroup:SecurityGroup", "sg", {
          ingress: [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }],
        }),
      ],
      says: "ingress from the internet on ports 22-22",
      passing: [
        res("aws:ec2/securityGroup:SecurityGroup", "sg", {
          ingress: [
            { protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] },
            { protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["10.0.0.0/16"] },
          ],
        }),
      ],
      notApplicable: [kms],
      missing: [res("aws:ec2/securityGroup:SecurityGroup", "sg", {})],
      missingOutcome: "pass",
    },
  ],
  [
    iamNoWildcards,
    {
      violating: [rolePolicy({ Effect: "Allow", Action: ["s3:GetObject"], Resource: "*" })],
      says: 's3:GetObject allowed on Resource "*"',
      passing: [
        rolePolicy({ Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" }),
      ],
      notApplicable: [kms],
      missing: [res("aws:iam/role:Role", "r", {})],
      missingOutcome: "pass",
    },
  ],
  [
    iamKnownNames,
    {
      violating: [
        rolePolicy({ Effect: "Allow", Action: "s3:GetObjekt", Resource: "arn:aws:s3:::b/*" }),
      ],
      says: 'p: policy: "s3:GetObjekt" is not a s3 action',
      passing: [
        rolePolicy({ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" }),
      ],
      notApplicable: [],
      missing: [res("aws:iam/rolePolicy:RolePolicy", "p", {})],
      missingOutcome: "pass",
    },
  ],
  [
    iamScenarios,
    {
      violating: alarmTopic(tlsOnlyTopicPolicy(TOPIC)),
      says: "alarms: CloudWatch publishes alarm errors: expected allow, the policies give implicit-deny",
      passing: alarmTopic(alarmTopicPolicy(TOPIC, SCOPE)),
      notApplicable: [],
      missing: [res("aws:sns/topicPolicy:TopicPolicy", "alarms", { arn: TOPIC })],
      missingOutcome: "pass",
    },
  ],
  [
    costAllocationTags,
    {
      violating: [res("aws:kms/key:Key", "k", { tags: { environment: "dev" } })],
      says: "missing cost-allocation tag(s) team, cost-center",
      passing: [kms],
      notApplicable: [res("aws:s3/bucketPolicy:BucketPolicy", "p", {})],
      missing: [res("aws:s3/bucket:Bucket", "b", {})],
      missingOutcome: "violation",
    },
  ],
  [
    acceleratorsInUse,
    {
      violating: [g5Group({ labels: GPU_LABELS })],
      says: "gpu: 2 x g5.2xlarge (NVIDIA GPUs) priced in the plan, but no workload selects workload-type=gpu-inference",
      passing: [
        g5Group({ labels: GPU_LABELS }),
        res("kubernetes:helm.sh/v3:Release", "triton", {
          values: { nodeSelector: { "workload-type": "gpu-inference" } },
        }),
      ],
      notApplicable: [kms],
      missing: [g5Group({})],
      missingOutcome: "pass",
    },
  ],
  [
    WHOLE_STACK_POLICIES[0],
    {
      violating: [
        g5Group({ labels: { "workload-type": "gpu-inference" } }),
        syncJob({ "workload-type": "system" }),
      ],
      says: "Job sync lands on no node group: gpu: its nodeSelector workload-type=system matches no label",
      passing: [
        g5Group({ instanceTypes: ["m6i.large"], labels: { "workload-type": "system" } }),
        syncJob({ "workload-type": "system" }),
      ],
      notApplicable: [kms],
      emptyStackNotApplicable: true,
      missing: [res("kubernetes:batch/v1:Job", "sync", {})],
      missingOutcome: "violation",
    },
  ],
  [
    WHOLE_STACK_POLICIES[1],
    {
      violating: [privateCluster({}), syncJob({})],
      says: "eks: the deployer cannot reach cluster c1: its API endpoint is private and no security group rule admits a deployer on 443",
      passing: [
        privateCluster({ endpointPublicAccess: true, publicAccessCidrs: ["203.0.113.0/24"] }),
        syncJob({}),
      ],
      notApplicable: [kms],
      emptyStackNotApplicable: true,
      missing: [res("eks:index:Cluster", "eks", {}), syncJob({})],
      missingOutcome: "violation",
    },
  ],
  [
    WHOLE_STACK_POLICIES[2],
    {
      violating: [
        res("awsx:ec2:Vpc", "vpc", { natGateways: { strategy: "None" } }),
        imageJob("public.ecr.aws/aws-cli/aws-cli:2.27.50"),
      ],
      says: "the Job sync pulls public.ecr.aws/aws-cli/aws-cli:2.27.50 from outside AWS, which nodes in vpc (no NAT gateway) cannot reach: set llm-infra:images.source: ecr",
      passing: [
        res("awsx:ec2:Vpc", "vpc", { natGateways: { strategy: "None" } }),
        imageJob(
          "123456789012.dkr.ecr.us-east-1.amazonaws.com/p-ecr-public/aws-cli/aws-cli:2.27.50",
        ),
      ],
      notApplicable: [kms],
      emptyStackNotApplicable: true,
      // A VPC whose NAT strategy is not recorded has the awsx default, one per AZ: nothing to check.
      missing: [res("awsx:ec2:Vpc", "vpc", {}), imageJob("nvcr.io/nvidia/tritonserver:26.07-py3")],
      missingOutcome: "pass",
    },
  ],
  [
    WHOLE_STACK_POLICIES.find((p) => p.name === "alarms-quiet-at-rest")!,
    {
      violating: [noPodsAlarm(), tritonRelease(0)],
      says: "triton-no-running-pods: alarms when no Triton pod runs, but the release triton-release runs zero replicas",
      passing: [noPodsAlarm(), tritonRelease(2)],
      notApplicable: [kms],
      emptyStackNotApplicable: true,
      // An alarm on another metric says nothing about Triton at rest.
      missing: [res("aws:cloudwatch/metricAlarm:MetricAlarm", "x", {}), tritonRelease(0)],
      missingOutcome: "pass",
    },
  ],
  [
    WHOLE_STACK_POLICIES.find((p) => p.name === "sagemaker-containers-serve")!,
    {
      violating: [
        sageMakerModel("123456789012.dkr.ecr.us-east-1.amazonaws.com/triton:24.05-vllm-python-py3"),
        chatConfig("ml.g5.2xlarge", "al2-ami-sagemaker-inference-gpu-3-1"),
      ],
      says: 'chat-model: image 123456789012.dkr.ecr.us-east-1.amazonaws.com/triton:24.05-vllm-python-py3: "24.05-vllm-python-py3" (Triton 24.05) has no SageMaker generate handler',
      passing: [
        sageMakerModel(
          "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.31.0-lmi13.0.0-cu124",
          { HF_MODEL_ID: "/opt/ml/model" },
        ),
        chatConfig("ml.g5.2xlarge", "al2-ami-sagemaker-inference-gpu-3-1"),
      ],
      notApplicable: [kms],
      emptyStackNotApplicable: true,
      // A model whose image is not recorded (an output at preview): nothing to read.
      missing: [res("aws:sagemaker/model:Model", "chat-model", {})],
      missingOutcome: "pass",
    },
  ],
  [
    WHOLE_STACK_POLICIES.find((p) => p.name === "inference-components-wired")!,
    {
      // The component may rest at zero copies, but its no-capacity alarm acts on nothing of it.
      violating: componentEndpoint({ alarmActions: ["arn:aws:sns:us-east-1:123456789012:alarms"] }),
      says: "chat-llama: may rest at zero copies (chat-llama-scaling minCapacity 0), but no NoCapacityInvocationFailures alarm on InferenceComponentName ep-llama acts on a step policy of inference-component/ep-llama: nothing would start its first copy",
      passing: componentEndpoint({}),
      notApplicable: [kms],
      emptyStackNotApplicable: true,
      // At a first preview the policy's ARN is not known yet: nothing to compare.
      missing: componentEndpoint({ alarmActions: undefined }),
      missingOutcome: "pass",
    },
  ],
];

/**
 * An endpoint of inference components with one component `ep-llama` that may rest at zero copies:
 * its configuration and role, its scalable target, its step policy and its no-capacity alarm
 * (acting on the step policy unless `alarm` says otherwise).
 */
function componentEndpoint(alarm: { alarmActions?: string[] }): CapturedResource[] {
  const role = res("aws:iam/role:Role", "chat-role", {}, { id: "chat-role-1" });
  const config = res("aws-native:sagemaker:EndpointConfig", "chat-config", {
    executionRoleArn: "arn:aws:iam::123456789012:role/chat-role-1",
    productionVariants: [{ variantName: "primary", instanceType: "ml.g6.xlarge" }],
  });
  const ic = res("aws-native:sagemaker:InferenceComponent", "chat-llama", {
    inferenceComponentName: "ep-llama",
    endpointName: "ep",
  });
  const target = res("aws:appautoscaling/target:Target", "chat-llama-scaling", {
    resourceId: "inference-component/ep-llama",
    scalableDimension: "sagemaker:inference-component:DesiredCopyCount",
    minCapacity: 0,
    maxCapacity: 1,
  });
  const step = res(
    "aws:appautoscaling/policy:Policy",
    "chat-llama-scale-from-zero",
    { policyType: "StepScaling", resourceId: "inference-component/ep-llama" },
    { id: "chat-llama-scale-from-zero-1" },
  );
  const starter = res("aws:cloudwatch/metricAlarm:MetricAlarm", "chat-llama-no-capacity", {
    metricName: "NoCapacityInvocationFailures",
    namespace: "AWS/SageMaker",
    dimensions: { InferenceComponentName: "ep-llama" },
    alarmActions: Object.prototype.hasOwnProperty.call(alarm, "alarmActions")
      ? alarm.alarmActions
      : ["arn:aws:appautoscaling:us-east-1:123456789012:policy/chat-llama-scale-from-zero-1"],
  });
  return [role, config, ic, target, step, starter];
}

/** Triton on EKS's "no running pod" alarm. */
function noPodsAlarm() {
  return res("aws:cloudwatch/metricAlarm:MetricAlarm", "triton-no-running-pods", {
    metricName: "service_number_of_running_pods",
    comparisonOperator: "LessThanThreshold",
    threshold: 1,
  });
}

/** The Triton chart's release at a replica count, without an HPA. */
function tritonRelease(replicaCount: number) {
  return res("kubernetes:helm.sh/v3:Release", "triton-release", {
    chart: "/work/charts/triton",
    values: { replicaCount, autoscaling: { enabled: false } },
  });
}

/** A SageMaker model of component `chat` with an image and environment. */
function sageMakerModel(image: string, environment: Record<string, string> = {}) {
  return res(
    "aws:sagemaker/model:Model",
    "chat-model",
    { enableNetworkIsolation: true, primaryContainer: { image, environment } },
    { parent: "chat" },
  );
}

/** The endpoint configuration of component `chat`, one variant. */
function chatConfig(instanceType: string, inferenceAmiVersion?: string) {
  return res(
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
    "chat-config",
    { productionVariants: [{ variantName: "primary", instanceType, inferenceAmiVersion }] },
    { parent: "chat" },
  );
}

describe("policy pack", () => {
  it("has a case for every policy", () => {
    assert.deepStrictEqual(
      CASES.map(([p]) => p.name).sort(),
      ALL_POLICIES.map((p) => p.name).sort(),
    );
  });

  for (const [policy, c] of CASES) {
    describe(policy.name, () => {
      it("reports a violating resource, naming it", async () => {
        const r = await outcome(policy, c.violating, c.config);
        assert.strictEqual(r.outcome, "violation");
        assert.ok(
          r.messages.some((m) => m.includes(c.says)),
          `expected "${c.says}" in ${JSON.stringify(r.messages)}`,
        );
      });
      it("passes a compliant resource", async () => {
        assert.deepStrictEqual(await outcome(policy, c.passing, c.config), {
          outcome: "pass",
          messages: [],
        });
      });
      if (c.notApplicable.length > 0) {
        it("is not applicable to other resources", async () => {
          assert.strictEqual(
            (await outcome(policy, c.notApplicable, c.config)).outcome,
            "not-applicable",
          );
        });
      }
      it(`treats a missing property as ${c.missingOutcome}`, async () => {
        assert.strictEqual((await outcome(policy, c.missing, c.config)).outcome, c.missingOutcome);
      });
    });
  }
});

describe("policy evaluator", () => {
  it("applies schema defaults, configured values and enforcement levels", async () => {
    const group = [g5Group({})];
    assert.deepStrictEqual(
      (await run(maxInstances, group)).verdicts,
      [],
      "default cap 20 admits 10",
    );
    const capped = await run(maxInstances, group, {
      "max-instances": { enforcementLevel: "advisory", maxInstances: 5 },
    });
    assert.deepStrictEqual(
      capped.verdicts.map((v) => [v.enforcement, v.resource]),
      [["advisory", "gpu"]],
    );
    const disabled = await run(maxInstances, group, { "max-instances": "disabled" });
    assert.deepStrictEqual([disabled.evaluated, disabled.verdicts.length], [0, 0]);
  });

  it("reports stack-policy violations against the resource they name", async () => {
    const e = await run(
      s3BucketHardening,
      bucketSet({ pab: false, sse: "aws:kms", versioning: "Enabled", tls: true }),
    );
    assert.deepStrictEqual(
      e.verdicts.map((v) => v.resource),
      ["models"],
    );
  });

  it("fails loudly when a policy itself throws", async () => {
    await assert.rejects(
      run(iamNoWildcards, [res("aws:iam/rolePolicy:RolePolicy", "bad", { policy: "{not json" })]),
      /policy iam-no-wildcards failed on bad/,
    );
  });
});
