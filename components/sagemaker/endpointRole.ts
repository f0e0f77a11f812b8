/**
 * The execution role of a SageMaker endpoint and its inline policy, shared by single-model
 * endpoints and endpoints of inference components: SageMaker assumes it for this account only,
 * and it reads only the models' data, pulls only their images, writes only the endpoint's logs and
 * outputs (components/sagemaker/policies.ts says what each statement allows).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Tags } from "../tags";
import { serviceRole } from "../trust";
import { ecrRepositoryArn } from "./endpointArgs";
import { ModelData, endpointExecutionPolicy } from "./policies";

export interface ExecutionRoleArgs {
  partition: string;
  region: string;
  endpointName: string;
  /** The role's description. */
  description: string;
  accountId: pulumi.Output<string>;
  bucketArn: pulumi.Output<string>;
  /** The serving images (their ECR repositories are what the role may pull). */
  imageUris: pulumi.Output<string>[];
  modelData: ModelData | ModelData[];
  decryptKeys: pulumi.Input<string>[];
  encryptKeys: pulumi.Input<string>[];
  /** The VPC the models run in, when they do. */
  vpcId: pulumi.Input<string> | undefined;
  /** Async endpoints: where requests are read from and results written, and their topics. */
  async?: { prefix: string; topicArns: pulumi.Output<string>[] };
  dataCapturePrefix?: string;
  tags: Tags | undefined;
}

/** `${name}-role` and its inline policy `${name}-role`. */
export function executionRole(
  name: string,
  a: ExecutionRoleArgs,
  parent: pulumi.Resource,
): { role: aws.iam.Role; rolePolicy: aws.iam.RolePolicy } {
  const role = serviceRole(
    `${name}-role`,
    "sagemaker.amazonaws.com",
    a.description,
    a.tags,
    parent,
  );
  const vpcArn =
    a.vpcId === undefined
      ? undefined
      : pulumi
          .all([a.accountId, a.vpcId])
          .apply(([id, vpc]) => `arn:${a.partition}:ec2:${a.region}:${id}:vpc/${vpc}`);
  const rolePolicy = new aws.iam.RolePolicy(
    `${name}-role`,
    {
      role: role.id,
      policy: pulumi
        .all([
          a.accountId,
          a.bucketArn,
          pulumi.all(a.imageUris),
          pulumi.all(a.decryptKeys),
          pulumi.all(a.encryptKeys),
          vpcArn,
          pulumi.all(a.async?.topicArns ?? []),
        ])
        .apply(([id, bucket, images, decrypt, encrypt, vpc, topics]) =>
          JSON.stringify(
            endpointExecutionPolicy({
              partition: a.partition,
              region: a.region,
              accountId: id,
              endpointName: a.endpointName,
              bucketArn: bucket,
              modelData: a.modelData,
              decryptKeyArns: decrypt,
              imageRepositoryArn: images.map(
                (image) =>
                  ecrRepositoryArn(image) ??
                  `arn:${a.partition}:ecr:${a.region}:${id}:repository/unknown`,
              ),
              vpcArn: vpc,
              async: a.async ? { prefix: a.async.prefix, topicArns: topics } : undefined,
              dataCapturePrefix: a.dataCapturePrefix,
              encryptKeyArns: encrypt,
            }),
          ),
        ),
    },
    { parent },
  );
  return { role, rolePolicy };
}
