/**
 * The endpoint execution role's policies, as pure functions: read only the model's data, pull only
 * the image it runs, write only its own logs and outputs, decrypt only with the keys it uses.
 */
import { PolicyDocument, PolicyStatement } from "../storage/modelStorePolicies";
import { TrustScope } from "../trust";

/** The model data a role reads: an uncompressed prefix, or the key of one tarball. */
export type ModelData = { prefix: string } | { tarballKey: string };

export interface ExecutionPolicyArgs {
  partition: string;
  region: string;
  accountId: string;
  endpointName: string;
  bucketArn: string;
  /**
   * An uncompressed prefix (read everything under it), or the key of one tarball; a list for an
   * endpoint of several inference components, one per component.
   */
  modelData: ModelData | ModelData[];
  /** Keys to decrypt model data with (the model store's). */
  decryptKeyArns: string[];
  /** The ECR repository of the serving image (of each component's image, for several). */
  imageRepositoryArn: string | string[];
  /** Subnets' VPC, when the endpoint runs in a VPC. */
  vpcArn?: string;
  /** Async: where requests are read from and results written to. */
  async?: { prefix: string; topicArns: string[] };
  /** Data capture prefix. */
  dataCapturePrefix?: string;
  /** Keys to encrypt outputs with (async results, captured data). */
  encryptKeyArns: string[];
}

/** The inline policy of an endpoint's execution role. No S3 action is granted on `*`. */
export function endpointExecutionPolicy(a: ExecutionPolicyArgs): PolicyDocument {
  const logGroup = `arn:${a.partition}:logs:${a.region}:${a.accountId}:log-group:/aws/sagemaker/Endpoints/${a.endpointName}`;
  const statements: PolicyStatement[] = [];
  const data = Array.isArray(a.modelData) ? a.modelData : [a.modelData];
  const prefixes = data.flatMap((d) => ("prefix" in d ? [d.prefix] : []));
  const tarballs = data.flatMap((d) => ("tarballKey" in d ? [d.tarballKey] : []));
  const one = <T>(xs: T[]): T | T[] => (xs.length === 1 ? xs[0] : xs);
  if (prefixes.length > 0)
    statements.push({
      Sid: "ListModelData",
      Effect: "Allow",
      Action: "s3:ListBucket",
      Resource: a.bucketArn,
      Condition: {
        StringLike: { "s3:prefix": prefixes.flatMap((p) => [p, `${p}/`, `${p}/*`]) },
      },
    });
  const reads = [
    ...prefixes.map((p) => `${a.bucketArn}/${p}/*`),
    ...tarballs.map((t) => `${a.bucketArn}/${t}`),
  ];
  statements.push({
    Sid: "ReadModelData",
    Effect: "Allow",
    Action: "s3:GetObject",
    Resource: one(reads),
  });
  if (a.decryptKeyArns.length > 0) {
    statements.push({
      Sid: "DecryptModelData",
      Effect: "Allow",
      Action: "kms:Decrypt",
      Resource: a.decryptKeyArns,
    });
  }
  statements.push(
    {
      Sid: "PullServingImage",
      Effect: "Allow",
      Action: [
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
        "ecr:BatchCheckLayerAvailability",
      ],
      Resource: Array.isArray(a.imageRepositoryArn)
        ? one([...new Set(a.imageRepositoryArn)])
        : a.imageRepositoryArn,
    },
    // GetAuthorizationToken has no resource-level permissions: AWS requires "*".
    { Sid: "EcrLogin", Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" },
    {
      Sid: "WriteOwnLogs",
      Effect: "Allow",
      Action: [
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "logs:DescribeLogStreams",
      ],
      Resource: [logGroup, `${logGroup}:*`],
    },
    {
      Sid: "PublishOwnMetrics",
      Effect: "Allow",
      Action: "cloudwatch:PutMetricData",
      Resource: "*",
      Condition: { StringLike: { "cloudwatch:namespace": "/aws/sagemaker/*" } },
    },
  );
  if (a.vpcArn) {
    statements.push(
      {
        Sid: "DescribeNetwork",
        Effect: "Allow",
        Action: [
          "ec2:DescribeNetworkInterfaces",
          "ec2:DescribeVpcs",
          "ec2:DescribeDhcpOptions",
          "ec2:DescribeSubnets",
          "ec2:DescribeSecurityGroups",
        ],
        Resource: "*",
      },
      {
        Sid: "ManageEndpointInterfaces",
        Effect: "Allow",
        Action: [
          "ec2:CreateNetworkInterface",
          "ec2:CreateNetworkInterfacePermission",
          "ec2:DeleteNetworkInterface",
          "ec2:DeleteNetworkInterfacePermission",
        ],
        Resource: "*",
        Condition: { ArnEquals: { "ec2:Vpc": a.vpcArn } },
      },
    );
  }
  if (a.async) {
    statements.push(
      {
        Sid: "ReadAsyncRequests",
        Effect: "Allow",
        Action: "s3:GetObject",
        Resource: `${a.bucketArn}/${a.async.prefix}/input/*`,
      },
      {
        Sid: "WriteAsyncResults",
        Effect: "Allow",
        Action: ["s3:PutObject", "s3:AbortMultipartUpload"],
        Resource: [
          `${a.bucketArn}/${a.async.prefix}/output/*`,
          `${a.bucketArn}/${a.async.prefix}/failure/*`,
        ],
      },
      {
        Sid: "NotifyAsyncResults",
        Effect: "Allow",
        Action: "sns:Publish",
        Resource: a.async.topicArns,
      },
    );
  }
  if (a.dataCapturePrefix) {
    statements.push({
      Sid: "WriteCapturedData",
      Effect: "Allow",
      Action: "s3:PutObject",
      Resource: `${a.bucketArn}/${a.dataCapturePrefix}/*`,
    });
  }
  if ((a.async || a.dataCapturePrefix) && a.encryptKeyArns.length > 0) {
    statements.push({
      Sid: "EncryptOutputs",
      Effect: "Allow",
      Action: ["kms:GenerateDataKey", "kms:Decrypt"],
      Resource: a.encryptKeyArns,
    });
  }
  return { Version: "2012-10-17", Statement: statements };
}

/**
 * A topic policy that refuses publishing over plain HTTP, for topics the account's own
 * principals publish to (their identity policies grant it; the account is the topic's owner).
 */
export function tlsOnlyTopicPolicy(topicArn: string): PolicyDocument {
  return { Version: "2012-10-17", Statement: [denyInsecureTransport(topicArn)] };
}

/** Refuses publishing and subscribing over plain HTTP. */
function denyInsecureTransport(topicArn: string): PolicyStatement {
  return {
    Sid: "DenyInsecureTransport",
    Effect: "Deny",
    Principal: "*",
    Action: ["sns:Publish", "sns:Subscribe"],
    Resource: topicArn,
    Condition: { Bool: { "aws:SecureTransport": "false" } },
  };
}

/**
 * The conditions under which CloudWatch acts for this account's alarms: `aws:SourceAccount` and
 * `aws:SourceArn` like `arn:<partition>:cloudwatch:<region>:<account>:alarm:*`
 * (https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html, "Allow CloudWatch
 * alarms to publish to a topic in another account", and the same grant with both conditions in
 * https://aws.github.io/modern-data-architecture-accelerator/typedocs/functions/_aws-mdaa_cloudwatch-constructs.grantCloudWatchAlarmsTopicAccess.html).
 */
function fromOwnAlarms(s: TrustScope): PolicyStatement["Condition"] {
  return {
    StringEquals: { "aws:SourceAccount": s.accountId },
    ArnLike: {
      "aws:SourceArn": `arn:${s.partition}:cloudwatch:${s.region}:${s.accountId}:alarm:*`,
    },
  };
}

/**
 * The alarm topic's policy. A topic policy replaces SNS's default policy, so it must allow the
 * publisher itself: CloudWatch publishes this account's alarms; nothing publishes over plain HTTP.
 */
export function alarmTopicPolicy(topicArn: string, s: TrustScope): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "CloudWatchPublishesAlarms",
        Effect: "Allow",
        Principal: { Service: "cloudwatch.amazonaws.com" },
        Action: "sns:Publish",
        Resource: topicArn,
        Condition: fromOwnAlarms(s),
      },
      denyInsecureTransport(topicArn),
    ],
  };
}

/**
 * The key policy of the alarm topic's key: the account administers it; CloudWatch may use it to
 * publish this account's alarms (CloudWatch cannot publish to topics under the AWS managed SNS
 * key: https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
 */
export function alarmTopicKeyPolicy(s: TrustScope): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AccountAdministers",
        Effect: "Allow",
        Principal: { AWS: `arn:${s.partition}:iam::${s.accountId}:root` },
        Action: "kms:*",
        Resource: "*",
      },
      {
        Sid: "CloudWatchPublishesAlarms",
        Effect: "Allow",
        Principal: { Service: "cloudwatch.amazonaws.com" },
        Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
        Resource: "*",
        Condition: fromOwnAlarms(s),
      },
    ],
  };
}
