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

/** A workload role and what a pod using it must wait for. */
export interface WorkloadRole {
  role: aws.iam.Role;
  /**
   * The role, its policies and its Pod Identity association. The Pod Identity webhook injects
   * credentials only into pods created after the association exists, so every pod of the service
   * account (Helm releases, Jobs) depends on all of these, not on the role alone.
   */
  ready: pulumi.Resource[];
}

/**
 * An IAM role for one Kubernetes service account through EKS Pod Identity: `${name}-role`, its
 * policies, and the association.
 */
export function workloadRole(
  name: string,
  args: WorkloadRoleArgs,
  parent: pulumi.Resource,
): WorkloadRole {
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
  const ready: pulumi.Resource[] = [role];
  if (args.policy !== undefined)
    ready.push(
      new aws.iam.RolePolicy(`${name}-role`, { role: role.id, policy: args.policy }, { parent }),
    );
  for (const arn of args.managedPolicyArns ?? []) {
    const attachment = new aws.iam.RolePolicyAttachment(
      `${name}-${arn.split("/").pop()}`,
      { role: role.name, policyArn: arn },
      { parent },
    );
    ready.push(attachment);
  }
  if (args.associate ?? true) {
    const association = new aws.eks.PodIdentityAssociation(
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
    ready.push(association);
  }
  return { role, ready };
}
