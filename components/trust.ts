import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { PolicyDocument } from "./storage/modelStorePolicies";
import { Tags } from "./tags";

/**
 * The trust policy that lets one AWS service assume a role, on behalf of this account only
 * (the `aws:SourceAccount` condition guards against the confused deputy).
 */
export function serviceTrustPolicy(service: string, accountId: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: service },
        Action: "sts:AssumeRole",
        Condition: { StringEquals: { "aws:SourceAccount": accountId } },
      },
    ],
  };
}

/** An IAM role `name` that one AWS service assumes, for this account only. */
export function serviceRole(
  name: string,
  service: string,
  description: pulumi.Input<string>,
  tags: Tags | undefined,
  parent: pulumi.Resource,
): aws.iam.Role {
  const accountId = aws.getCallerIdentityOutput({}, { parent }).accountId;
  return new aws.iam.Role(
    name,
    {
      description,
      assumeRolePolicy: accountId.apply((id) => JSON.stringify(serviceTrustPolicy(service, id))),
      tags,
    },
    { parent },
  );
}
