import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { PolicyDocument } from "../storage/modelStorePolicies";
import { Tags } from "../tags";

/** The trust policy of an EKS Pod Identity role, for this account only. */
export function podIdentityTrustPolicy(accountId: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: "pods.eks.amazonaws.com" },
        Action: ["sts:AssumeRole", "sts:TagSession"],
        Condition: { StringEquals: { "aws:SourceAccount": accountId } },
      },
    ],
  };
}

export interface WorkloadRoleArgs {
  clusterName: string;
  namespace: string;
  serviceAccount: string;
  /** An inline policy (JSON). */
  policy?: pulumi.Input<string>;
  /** AWS managed policies to attach. */
  managedPolicyArns?: string[];
  /** Associate the role with the service account (EKS Pod Identity). Add-ons associate their own. */
  associate?: boolean;
  tags?: Tags;
}

/**
 * An IAM role for one Kubernetes service account through EKS Pod Identity: `${name}-role`, its
 * policies, and the association.
 */
export function workloadRole(
  name: string,
  args: WorkloadRoleArgs,
  parent: pulumi.Resource,
): aws.iam.Role {
  const accountId = aws.getCallerIdentityOutput({}, { parent }).accountId;
  const role = new aws.iam.Role(
    `${name}-role`,
    {
      description: `Pod Identity role of ${args.namespace}/${args.serviceAccount} in ${args.clusterName}`,
      assumeRolePolicy: accountId.apply((id) => JSON.stringify(podIdentityTrustPolicy(id))),
      tags: args.tags,
    },
    { parent },
  );
  if (args.policy !== undefined)
    new aws.iam.RolePolicy(`${name}-role`, { role: role.id, policy: args.policy }, { parent });
  for (const arn of args.managedPolicyArns ?? []) {
    new aws.iam.RolePolicyAttachment(
      `${name}-${arn.split("/").pop()}`,
      { role: role.name, policyArn: arn },
      { parent },
    );
  }
  if (args.associate ?? true) {
    new aws.eks.PodIdentityAssociation(
      `${name}-identity`,
      {
        clusterName: args.clusterName,
        namespace: args.namespace,
        serviceAccount: args.serviceAccount,
        roleArn: role.arn,
        tags: args.tags,
      },
      { parent },
    );
  }
  return role;
}
