import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Tags } from "../tags";

/**
 * The KMS key a storage component encrypts with: the caller's, or a new customer managed key with
 * yearly rotation and a 30-day deletion window (the longest AWS allows).
 */
export function keyArnOrNew(
  name: string,
  description: string,
  keyArn: pulumi.Input<string> | undefined,
  tags: Tags | undefined,
  opts: pulumi.CustomResourceOptions,
): pulumi.Output<string> {
  if (keyArn !== undefined) return pulumi.output(keyArn);
  const key = new aws.kms.Key(
    `${name}-key`,
    { description, enableKeyRotation: true, deletionWindowInDays: 30, tags },
    opts,
  );
  return key.arn;
}

/** Options that keep a resource (and what it stores) through `pulumi destroy`. */
export function retainOptions(
  retain: boolean,
  parent: pulumi.Resource,
): pulumi.CustomResourceOptions {
  return retain ? { parent, protect: true, retainOnDelete: true } : { parent };
}
