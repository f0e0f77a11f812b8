import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { PolicyDocument, PolicyStatement } from "./storage/modelStorePolicies";
import { Tags } from "./tags";

/** Where a role lives: the partition, region and account that scope confused-deputy conditions. */
export interface TrustScope {
  partition: string;
  region: string;
  accountId: string;
}

/**
 * The confused-deputy conditions each service documents for AssumeRole. A condition the service
 * does not set on its AssumeRole request makes the role unusable, so only documented ones are
 * here; services not listed get none.
 * - SageMaker inference (real-time, serverless, async): `aws:SourceArn` like
 *   `arn:<partition>:sagemaker:<region>:<account>:*`; the account is in the ARN, so no
 *   `aws:SourceAccount` (https://docs.aws.amazon.com/sagemaker/latest/dg/security-confused-deputy-prevention.html#security-confused-deputy-inference).
 * - VPC flow logs: `aws:SourceAccount` and `aws:SourceArn` like
 *   `arn:<partition>:ec2:<region>:<account>:vpc-flow-log/*`
 *   (https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html).
 * - API Gateway: none. API Gateway does not set `aws:SourceAccount` when it assumes an AWS
 *   integration's credentials role, so the condition denies every call
 *   (aws-solutions-library-samples/accelerated-intelligent-document-processing-on-aws#479); and no
 *   AWS page we found documents a condition for the account's CloudWatch logging role.
 * - EC2 (instance profiles): none documented; EC2 sets no source context on AssumeRole
 *   (prowler-cloud/prowler#2810).
 */
export function confusedDeputyCondition(
  service: string,
  s: TrustScope,
): PolicyStatement["Condition"] | undefined {
  switch (service) {
    case "sagemaker.amazonaws.com":
      return {
        ArnLike: { "aws:SourceArn": `arn:${s.partition}:sagemaker:${s.region}:${s.accountId}:*` },
      };
    case "vpc-flow-logs.amazonaws.com":
      return {
        StringEquals: { "aws:SourceAccount": s.accountId },
        ArnLike: {
          "aws:SourceArn": `arn:${s.partition}:ec2:${s.region}:${s.accountId}:vpc-flow-log/*`,
        },
      };
    default:
      return undefined;
  }
}

/**
 * The trust policy that lets one AWS service assume a role, with the confused-deputy condition
 * that service documents (see `confusedDeputyCondition`).
 */
export function serviceTrustPolicy(service: string, scope: TrustScope): PolicyDocument {
  const condition = confusedDeputyCondition(service, scope);
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: service },
        Action: "sts:AssumeRole",
        ...(condition ? { Condition: condition } : {}),
      },
    ],
  };
}

/** The partition of a region. */
export function partitionOf(region: string): string {
  return region.startsWith("cn-") ? "aws-cn" : region.startsWith("us-gov-") ? "aws-us-gov" : "aws";
}

/** An IAM role `name` that one AWS service assumes, on behalf of this account only. */
export function serviceRole(
  name: string,
  service: string,
  description: pulumi.Input<string>,
  tags: Tags | undefined,
  parent: pulumi.Resource,
  opts?: { retainOnDelete?: boolean },
): aws.iam.Role {
  const accountId = aws.getCallerIdentityOutput({}, { parent }).accountId;
  const region = aws.getRegionOutput({}, { parent }).region;
  return new aws.iam.Role(
    name,
    {
      description,
      assumeRolePolicy: pulumi
        .all([accountId, region])
        .apply(([id, r]) =>
          JSON.stringify(
            serviceTrustPolicy(service, { partition: partitionOf(r), region: r, accountId: id }),
          ),
        ),
      tags,
    },
    { parent, retainOnDelete: opts?.retainOnDelete },
  );
}
