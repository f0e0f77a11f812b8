import { PolicyDocument } from "./storage/modelStorePolicies";

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
