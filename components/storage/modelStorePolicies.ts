/**
 * IAM and bucket policy documents for the model store, as pure functions of ARNs and prefixes.
 */

export interface PolicyStatement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Principal?: unknown;
  Action: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: PolicyStatement[];
}

const PREFIX = /^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*\/?$/;

/** Why a model prefix is unusable, or undefined when it is fine. */
export function validateModelPrefix(prefix: string): string | undefined {
  if (typeof prefix !== "string" || prefix.length === 0) return "must be a non-empty S3 key prefix";
  if (prefix.startsWith("/")) return `must not start with "/", got ${JSON.stringify(prefix)}`;
  if (prefix.includes("*"))
    return `must not contain "*" (it would widen IAM policies), got ${JSON.stringify(prefix)}`;
  if (prefix.split("/").some((p) => p === "." || p === ".."))
    return `must not contain "." or ".." segments, got ${JSON.stringify(prefix)}`;
  if (!PREFIX.test(prefix))
    return `may hold only letters, digits, / and !_.'()- , got ${JSON.stringify(prefix)}`;
  return undefined;
}

export interface ModelPolicyArgs {
  bucketArn: string;
  kmsKeyArn: string;
  /** The model's prefix, without a trailing slash. */
  prefix: string;
}

function listUnderPrefix(bucketArn: string, prefix: string): PolicyStatement {
  return {
    Sid: "ListModelPrefix",
    Effect: "Allow",
    Action: "s3:ListBucket",
    Resource: bucketArn,
    Condition: { StringLike: { "s3:prefix": [prefix, `${prefix}/`, `${prefix}/*`] } },
  };
}

/** Read the objects under one prefix and decrypt them: what a serving container needs. */
export function modelReadOnlyPolicy({
  bucketArn,
  kmsKeyArn,
  prefix,
}: ModelPolicyArgs): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      listUnderPrefix(bucketArn, prefix),
      {
        Sid: "ReadModelObjects",
        Effect: "Allow",
        Action: ["s3:GetObject"],
        Resource: `${bucketArn}/${prefix}/*`,
      },
      { Sid: "DecryptModelObjects", Effect: "Allow", Action: ["kms:Decrypt"], Resource: kmsKeyArn },
    ],
  };
}

/** Read, write and delete under one prefix: what a publishing pipeline needs. */
export function modelReadWritePolicy({
  bucketArn,
  kmsKeyArn,
  prefix,
}: ModelPolicyArgs): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      listUnderPrefix(bucketArn, prefix),
      {
        Sid: "ReadWriteModelObjects",
        Effect: "Allow",
        Action: [
          "s3:GetObject",
          "s3:PutObject",
          "s3:DeleteObject",
          "s3:AbortMultipartUpload",
          "s3:ListMultipartUploadParts",
        ],
        Resource: `${bucketArn}/${prefix}/*`,
      },
      {
        Sid: "EncryptModelObjects",
        Effect: "Allow",
        Action: ["kms:Decrypt", "kms:GenerateDataKey"],
        Resource: kmsKeyArn,
      },
    ],
  };
}

/** Deny any request over plain HTTP or TLS older than 1.2. */
export function tlsOnlyStatements(bucketArn: string): PolicyStatement[] {
  const resources = [bucketArn, `${bucketArn}/*`];
  return [
    {
      Sid: "DenyInsecureTransport",
      Effect: "Deny",
      Principal: "*",
      Action: "s3:*",
      Resource: resources,
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    },
    {
      Sid: "DenyOutdatedTls",
      Effect: "Deny",
      Principal: "*",
      Action: "s3:*",
      Resource: resources,
      Condition: { NumericLessThan: { "s3:TlsVersion": "1.2" } },
    },
  ];
}

/** Let S3 server access logging write into the log bucket, for one source bucket only. */
export function accessLogDeliveryStatements(
  logBucketArn: string,
  sourceBucketArn: string,
  accountId: string,
): PolicyStatement[] {
  return [
    {
      Sid: "S3ServerAccessLogsDelivery",
      Effect: "Allow",
      Principal: { Service: "logging.s3.amazonaws.com" },
      Action: "s3:PutObject",
      Resource: `${logBucketArn}/s3-access/*`,
      Condition: {
        ArnLike: { "aws:SourceArn": sourceBucketArn },
        StringEquals: { "aws:SourceAccount": accountId },
      },
    },
  ];
}
