/**
 * Security and reliability defaults. Each policy's enforcement level is set per environment in
 * policy/config/<environment>.json.
 */
import { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { findInstance } from "../catalog/instances";
import { variantInstanceTypes } from "../catalog/cost";
import {
  POLICY_DOCUMENT_TYPES,
  list,
  obj,
  policyStatements,
  validateResourceOfTypes,
} from "./resources";

const OPEN = ["0.0.0.0/0", "::/0"];

export const eksEndpointNotPublic: ResourceValidationPolicy = {
  name: "eks-endpoint-not-public",
  description: "The EKS API endpoint is private, or public only to listed CIDRs (never 0.0.0.0/0).",
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfTypes(
    ["aws:eks/cluster:Cluster", "eks:index:Cluster"],
    "applies to EKS clusters",
    (args, reportViolation) => {
      let publicAccess: unknown;
      let cidrs: unknown;
      if (args.type === "aws:eks/cluster:Cluster") {
        const vpc = obj(args.props.vpcConfig);
        publicAccess = vpc.endpointPublicAccess;
        cidrs = vpc.publicAccessCidrs;
      } else {
        publicAccess = args.props.endpointPublicAccess;
        cidrs = args.props.publicAccessCidrs;
      }
      // EKS's defaults: public access on, from 0.0.0.0/0.
      if (publicAccess === false) return;
      const open = cidrs === undefined || list(cidrs).some((c) => OPEN.includes(String(c)));
      if (open)
        reportViolation(
          `${args.name}: the API endpoint is public to the internet; make it private or list publicAccessCidrs`,
        );
    },
  ),
};

export const eksSecretsEncryption: ResourceValidationPolicy = {
  name: "eks-secrets-encryption",
  description: "EKS clusters encrypt Kubernetes secrets with KMS.",
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfTypes(
    ["aws:eks/cluster:Cluster", "eks:index:Cluster"],
    "applies to EKS clusters",
    (args, reportViolation) => {
      const encrypted =
        args.type === "aws:eks/cluster:Cluster"
          ? list(obj(args.props.encryptionConfig).resources).includes("secrets") &&
            obj(obj(args.props.encryptionConfig).provider).keyArn !== undefined
          : args.props.encryptionConfigKeyArn !== undefined;
      if (!encrypted)
        reportViolation(`${args.name}: Kubernetes secrets are not encrypted with a KMS key`);
    },
  ),
};

export const eksAuditLogs: ResourceValidationPolicy = {
  name: "eks-audit-logs",
  description: "EKS clusters send api, audit and authenticator control-plane logs to CloudWatch.",
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfTypes(
    ["aws:eks/cluster:Cluster", "eks:index:Cluster"],
    "applies to EKS clusters",
    (args, reportViolation) => {
      const enabled = list(args.props.enabledClusterLogTypes).map(String);
      const missing = ["api", "audit", "authenticator"].filter((t) => !enabled.includes(t));
      if (missing.length > 0)
        reportViolation(`${args.name}: control-plane logs ${missing.join(", ")} are off`);
    },
  ),
};

export const launchTemplateHardening: ResourceValidationPolicy = {
  name: "launch-template-hardening",
  description: "Launch templates require IMDSv2 and encrypt every EBS volume.",
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfTypes(
    ["aws:ec2/launchTemplate:LaunchTemplate"],
    "applies to launch templates",
    (args, reportViolation) => {
      if (obj(args.props.metadataOptions).httpTokens !== "required") {
        reportViolation(
          `${args.name}: instance metadata must require IMDSv2 (metadataOptions.httpTokens = "required")`,
        );
      }
      for (const m of list(args.props.blockDeviceMappings)) {
        const ebs = obj(obj(m).ebs);
        if (Object.keys(ebs).length > 0 && String(ebs.encrypted) !== "true") {
          reportViolation(`${args.name}: volume ${String(obj(m).deviceName)} is not encrypted`);
        }
      }
    },
  ),
};

export const ecrRepositoryHardening: ResourceValidationPolicy = {
  name: "ecr-repository-hardening",
  description: "ECR repositories scan on push, keep tags immutable and encrypt with KMS.",
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfTypes(
    ["aws:ecr/repository:Repository"],
    "applies to ECR repositories",
    (args, reportViolation) => {
      if (obj(args.props.imageScanningConfiguration).scanOnPush !== true)
        reportViolation(`${args.name}: images are not scanned on push`);
      if (args.props.imageTagMutability !== "IMMUTABLE")
        reportViolation(`${args.name}: image tags are mutable`);
      if (!list(args.props.encryptionConfigurations).some((c) => obj(c).encryptionType === "KMS")) {
        reportViolation(`${args.name}: images are not encrypted with KMS`);
      }
    },
  ),
};

/**
 * S3 buckets: all four public access blocks, default encryption (SSE-KMS; SSE-S3 only for server
 * access log targets, which cannot use KMS), versioning (except log targets) and a TLS-only policy.
 */
export const s3BucketHardening: StackValidationPolicy = {
  name: "s3-bucket-hardening",
  description:
    "S3 buckets block public access, encrypt with KMS, keep versions and refuse plain HTTP.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const buckets = args.resources.filter((r) => r.type === "aws:s3/bucket:Bucket");
    if (buckets.length === 0) return args.notApplicable("the stack has no S3 buckets");
    const forBucket = (type: string, bucket: (typeof buckets)[number]) =>
      args.resources.filter(
        (r) =>
          r.type === type &&
          (r.props.bucket === bucket.props.id || r.props.bucket === bucket.props.bucket),
      );
    for (const b of buckets) {
      const isLogTarget = args.resources.some(
        (r) =>
          r.type === "aws:s3/bucketLogging:BucketLogging" &&
          (r.props.targetBucket === b.props.id || r.props.targetBucket === b.props.bucket),
      );
      const pab =
        forBucket("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", b)[0]?.props ?? {};
      if (
        ![
          "blockPublicAcls",
          "blockPublicPolicy",
          "ignorePublicAcls",
          "restrictPublicBuckets",
        ].every((k) => pab[k] === true)
      ) {
        reportViolation(`${b.name}: not all four public access blocks are on`, b.urn);
      }
      const sse = list(
        forBucket(
          "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
          b,
        )[0]?.props.rules,
      ).map((rule) => obj(obj(rule).applyServerSideEncryptionByDefault).sseAlgorithm);
      const allowed = isLogTarget ? ["aws:kms", "AES256"] : ["aws:kms", "aws:kms:dsse"];
      if (sse.length === 0 || !sse.every((a) => allowed.includes(String(a)))) {
        reportViolation(
          `${b.name}: default encryption is ${sse.length === 0 ? "not configured" : sse.join(", ")}; SSE-KMS is required`,
          b.urn,
        );
      }
      const versioning = obj(
        forBucket("aws:s3/bucketVersioning:BucketVersioning", b)[0]?.props.versioningConfiguration,
      ).status;
      if (!isLogTarget && versioning !== "Enabled")
        reportViolation(`${b.name}: versioning is not enabled`, b.urn);
      const policies = forBucket("aws:s3/bucketPolicy:BucketPolicy", b).map((p) =>
        String(p.props.policy ?? ""),
      );
      if (!policies.some((p) => p.includes("aws:SecureTransport")))
        reportViolation(`${b.name}: no bucket policy denies plain HTTP`, b.urn);
    }
  },
};

export const efsEncrypted: ResourceValidationPolicy = {
  name: "efs-encrypted",
  description: "EFS file systems are encrypted at rest.",
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfTypes(
    ["aws:efs/fileSystem:FileSystem"],
    "applies to EFS file systems",
    (args, reportViolation) => {
      if (args.props.encrypted !== true)
        reportViolation(`${args.name}: the file system is not encrypted`);
    },
  ),
};

/** SageMaker endpoint configurations: @pulumi/aws's, and aws-native's (inference components). */
const ENDPOINT_CONFIG_TYPES = [
  "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
  "aws-native:sagemaker:EndpointConfig",
];

export const sagemakerVolumeKms: ResourceValidationPolicy = {
  name: "sagemaker-volume-kms",
  description:
    "SageMaker endpoint configurations encrypt instance volumes with KMS where the instance type allows it (types with local NVMe are encrypted in hardware).",
  enforcementLevel: "advisory",
  validateResource: validateResourceOfTypes(
    ENDPOINT_CONFIG_TYPES,
    "applies to endpoint configurations",
    (args, reportViolation) => {
      const variants = list(args.props.productionVariants).map(obj);
      // An aws-native configuration lists instance pools; its key is kmsKeyId.
      const instanceTypes = variants.flatMap((v) => variantInstanceTypes(v));
      if (instanceTypes.length === 0) return args.notApplicable("serverless: no instance volumes");
      if (instanceTypes.some((t) => (findInstance(t)?.nvmeGb ?? 0) > 0))
        return args.notApplicable("instance types with local NVMe take no volume key");
      if ((args.props.kmsKeyArn ?? args.props.kmsKeyId) === undefined)
        reportViolation(`${args.name}: instance volumes are not encrypted with a KMS key`);
    },
  ),
};

export const sagemakerNetworkIsolation: ResourceValidationPolicy = {
  name: "sagemaker-network-isolation",
  description: "SageMaker models run with network isolation.",
  enforcementLevel: "advisory",
  validateResource: validateResourceOfTypes(
    ["aws:sagemaker/model:Model"],
    "applies to SageMaker models",
    (args, reportViolation) => {
      if (args.props.enableNetworkIsolation !== true)
        reportViolation(`${args.name}: the model container can reach the network`);
    },
  ),
};

export const sagemakerMultiInstance: ResourceValidationPolicy = {
  name: "sagemaker-multi-instance",
  description:
    "Real-time SageMaker variants run more than one instance (one per AZ survives an AZ outage).",
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfTypes(
    ENDPOINT_CONFIG_TYPES,
    "applies to endpoint configurations",
    (args, reportViolation) => {
      if (Object.keys(obj(args.props.asyncInferenceConfig)).length > 0)
        return args.notApplicable("asynchronous endpoints queue requests and may scale to zero");
      for (const v of list(args.props.productionVariants).map(obj)) {
        if (Object.keys(obj(v.serverlessConfig)).length > 0) continue;
        // Managed instance scaling (inference components) keeps its floor, not the initial count.
        const floor = obj(v.managedInstanceScaling).minInstanceCount;
        const count = Number(floor ?? v.initialInstanceCount ?? 1);
        if (count < 2) {
          reportViolation(
            `${args.name}: variant ${String(v.variantName)} runs ${count} instance${floor !== undefined ? " at its floor (minInstances)" : ""}; run at least 2`,
          );
        }
      }
    },
  ),
};

/** Ports whose exposure to the internet is an incident: SSH, RDP, and all ports. */
const ADMIN_PORTS = [22, 3389];

function opensAdminPort(protocol: unknown, fromPort: unknown, toPort: unknown): boolean {
  if (String(protocol) === "-1" || String(protocol) === "all") return true;
  const from = Number(fromPort ?? 0);
  const to = Number(toPort ?? 65535);
  return ADMIN_PORTS.some((p) => p >= from && p <= to);
}

export const securityGroupAdminPorts: ResourceValidationPolicy = {
  name: "security-group-admin-ports",
  description: "No security group admits 0.0.0.0/0 or ::/0 to SSH, RDP or all ports.",
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfTypes(
    [
      "aws:ec2/securityGroup:SecurityGroup",
      "aws:ec2/securityGroupRule:SecurityGroupRule",
      "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    ],
    "applies to security groups and their rules",
    (args, reportViolation) => {
      let rules: Record<string, unknown>[];
      if (args.type === "aws:ec2/securityGroup:SecurityGroup")
        rules = list(args.props.ingress).map(obj);
      else if (args.type === "aws:ec2/securityGroupRule:SecurityGroupRule")
        rules = args.props.type === "ingress" ? [args.props] : [];
      else {
        rules = [
          {
            ...args.props,
            protocol: args.props.ipProtocol,
            cidrBlocks: [args.props.cidrIpv4],
            ipv6CidrBlocks: [args.props.cidrIpv6],
          },
        ];
      }
      for (const r of rules) {
        const sources = [...list(r.cidrBlocks), ...list(r.ipv6CidrBlocks)].map(String);
        if (
          sources.some((c) => OPEN.includes(c)) &&
          opensAdminPort(r.protocol, r.fromPort, r.toPort)
        ) {
          reportViolation(
            `${args.name}: ingress from the internet on ${String(r.protocol) === "-1" ? "all ports" : `ports ${String(r.fromPort)}-${String(r.toPort)}`}`,
          );
        }
      }
    },
  ),
};

/** Actions on data (objects, secrets, keys' plaintext), which must never apply to Resource "*". */
const DATA_ACTION =
  /^(s3:(Get|Put|Delete)Object|s3:\*|kms:(Decrypt|Encrypt|GenerateDataKey|ReEncrypt)|kms:\*|secretsmanager:GetSecretValue|secretsmanager:\*|ssm:GetParameter|dynamodb:(GetItem|PutItem|Query|Scan|UpdateItem|DeleteItem|BatchGetItem|BatchWriteItem)|dynamodb:\*)/;

export const iamNoWildcards: ResourceValidationPolicy = {
  name: "iam-no-wildcards",
  description: 'IAM policies grant no Action "*", and no data actions on Resource "*".',
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfTypes(
    POLICY_DOCUMENT_TYPES,
    "applies to IAM policies",
    (args, reportViolation) => {
      const statements = policyStatements(args.type, args.props) ?? [];
      for (const s of statements.filter((x) => x.Effect !== "Deny")) {
        const actions = list(s.Action).map(String);
        const resources = list(s.Resource).map(String);
        if (actions.includes("*")) reportViolation(`${args.name}: a statement allows Action "*"`);
        const data = actions.filter((a) => DATA_ACTION.test(a));
        if (data.length > 0 && resources.includes("*"))
          reportViolation(`${args.name}: ${data.join(", ")} allowed on Resource "*"`);
      }
    },
  ),
};

export const SECURITY_POLICIES = [
  eksEndpointNotPublic,
  eksSecretsEncryption,
  eksAuditLogs,
  launchTemplateHardening,
  ecrRepositoryHardening,
  s3BucketHardening,
  efsEncrypted,
  sagemakerVolumeKms,
  sagemakerNetworkIsolation,
  sagemakerMultiInstance,
  securityGroupAdminPorts,
  iamNoWildcards,
];
