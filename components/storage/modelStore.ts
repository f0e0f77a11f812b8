import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ArgError, checkIntegerRange, throwIfInvalid } from "../validation";
import { Tags } from "../tags";
import { keyArnOrNew, retainOptions } from "./encryption";
import {
  accessLogDeliveryStatements,
  modelReadOnlyPolicy,
  modelReadWritePolicy,
  tlsOnlyStatements,
  validateModelPrefix,
} from "./modelStorePolicies";

export interface ModelStoreArgs {
  /**
   * The prefix of the Triton model repository in the bucket:
   * `<repositoryPrefix>/<model>/config.pbtxt`, `<repositoryPrefix>/<model>/<version>/...`.
   * @default "model-repository"
   */
  repositoryPrefix?: string;
  /** KMS key for the artifacts; a new customer managed key when absent. */
  kmsKeyArn?: pulumi.Input<string>;
  /**
   * Days a replaced or deleted artifact version is kept before it expires (1 to 3650).
   * @default 90
   */
  noncurrentVersionExpiryDays?: number;
  /**
   * S3 server access logs to a separate bucket.
   * @default true
   */
  accessLogs?: boolean;
  /**
   * Days access logs are kept (1 to 3650).
   * @default 365
   */
  accessLogExpiryDays?: number;
  /**
   * Protect the bucket, its key and its logs, and keep them when the stack is destroyed.
   * @default true
   */
  retainOnDelete?: boolean;
  /**
   * Let a destroy delete a bucket that still holds artifacts. Cannot be combined with
   * `retainOnDelete`.
   * @default false
   */
  forceDestroy?: boolean;
  /** Tags for every resource. */
  tags?: Tags;
}

export function validateModelStoreArgs(args: ModelStoreArgs): ArgError[] {
  const errors: ArgError[] = [];
  if (args.repositoryPrefix !== undefined) {
    const problem = validateModelPrefix(args.repositoryPrefix);
    if (problem) errors.push({ propertyPath: "repositoryPrefix", reason: problem });
  }
  checkIntegerRange(
    errors,
    "noncurrentVersionExpiryDays",
    args.noncurrentVersionExpiryDays,
    1,
    3650,
  );
  checkIntegerRange(errors, "accessLogExpiryDays", args.accessLogExpiryDays, 1, 3650);
  if (args.forceDestroy && (args.retainOnDelete ?? true)) {
    errors.push({
      propertyPath: "forceDestroy",
      reason: "cannot be true while retainOnDelete is true (the default)",
    });
  }
  return errors;
}

/**
 * The S3 bucket for model artifacts, in the Triton model repository layout: versioned, SSE-KMS with
 * a bucket key, all public access blocked, TLS only, bucket-owner-enforced, noncurrent versions
 * expiring, access logged, and kept through a destroy unless told otherwise.
 *
 * `readOnlyPolicy(prefix)` and `readWritePolicy(prefix)` give least-privilege IAM policies for
 * serving one model (or the whole repository) and for publishing it.
 */
export class ModelStore extends pulumi.ComponentResource {
  /** The model artifact bucket's name. */
  public readonly bucketName: pulumi.Output<string>;
  /** The model artifact bucket's ARN (what SageMakerEndpoint takes as `modelBucketArn`). */
  public readonly bucketArn: pulumi.Output<string>;
  /** The KMS key the bucket is encrypted with. */
  public readonly kmsKeyArn: pulumi.Output<string>;
  /** The key prefix of the Triton model repository in the bucket. */
  public readonly repositoryPrefix: string;
  /** `s3://<bucket>/<repositoryPrefix>/`: what Triton takes as `--model-repository`. */
  public readonly repositoryUri: pulumi.Output<string>;
  /** The bucket receiving the model bucket's server access logs, when access logging is on. */
  public readonly accessLogBucketName?: pulumi.Output<string>;

  constructor(name: string, args: ModelStoreArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    // Validate before anything is registered: bad input fails at preview, naming the field.
    throwIfInvalid("ModelStore", name, validateModelStoreArgs(args));
    super("llm-infra:index:ModelStore", name, {}, opts);

    const retain = args.retainOnDelete ?? true;
    const keep = retainOptions(retain, this);
    this.repositoryPrefix = (args.repositoryPrefix ?? "model-repository").replace(/\/+$/, "");
    this.kmsKeyArn = keyArnOrNew(
      name,
      `Model artifacts of ${name}`,
      args.kmsKeyArn,
      args.tags,
      keep,
    );

    const bucket = this.createModelBucket(name, args, keep);
    if (args.accessLogs ?? true)
      this.accessLogBucketName = this.createAccessLogBucket(name, args, keep, bucket);

    this.bucketName = bucket.bucket;
    this.bucketArn = bucket.arn;
    this.repositoryUri = pulumi.interpolate`s3://${bucket.bucket}/${this.repositoryPrefix}/`;
    this.registerOutputs({
      bucketName: this.bucketName,
      bucketArn: this.bucketArn,
      kmsKeyArn: this.kmsKeyArn,
      repositoryUri: this.repositoryUri,
      accessLogBucketName: this.accessLogBucketName,
    });
  }

  /**
   * The model bucket: versioned, encrypted with the store's key (bucket keys on), private,
   * TLS-only, and noncurrent versions expired. Kept on destroy unless `retainOnDelete: false`.
   */
  private createModelBucket(
    name: string,
    args: ModelStoreArgs,
    keep: pulumi.CustomResourceOptions,
  ): aws.s3.Bucket {
    const child = { parent: this };
    const bucket = new aws.s3.Bucket(
      `${name}-bucket`,
      { forceDestroy: args.forceDestroy ?? false, tags: args.tags },
      keep,
    );
    const publicAccess = this.createBucketOwnership(`${name}-bucket`, bucket);
    new aws.s3.BucketVersioning(
      `${name}-bucket`,
      { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
      child,
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-bucket`,
      {
        bucket: bucket.id,
        rules: [
          {
            applyServerSideEncryptionByDefault: {
              sseAlgorithm: "aws:kms",
              kmsMasterKeyId: this.kmsKeyArn,
            },
            bucketKeyEnabled: true,
          },
        ],
      },
      child,
    );
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-bucket`,
      {
        bucket: bucket.id,
        rules: [
          {
            id: "expire-noncurrent-versions",
            status: "Enabled",
            filter: { prefix: "" },
            noncurrentVersionExpiration: { noncurrentDays: args.noncurrentVersionExpiryDays ?? 90 },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
          },
        ],
      },
      child,
    );
    new aws.s3.BucketPolicy(
      `${name}-bucket`,
      {
        bucket: bucket.id,
        policy: bucket.arn.apply((arn) =>
          JSON.stringify({ Version: "2012-10-17", Statement: tlsOnlyStatements(arn) }),
        ),
      },
      { parent: this, dependsOn: [publicAccess] },
    );
    return bucket;
  }

  /**
   * A bucket's ownership (the bucket owner owns every object; ACLs off) and its public access
   * block. Returns the block: a bucket policy waits for it.
   */
  private createBucketOwnership(
    name: string,
    bucket: aws.s3.Bucket,
  ): aws.s3.BucketPublicAccessBlock {
    const child = { parent: this };
    new aws.s3.BucketOwnershipControls(
      name,
      { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
      child,
    );
    return new aws.s3.BucketPublicAccessBlock(
      name,
      {
        bucket: bucket.id,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      child,
    );
  }

  /**
   * The bucket receiving the model bucket's server access logs (private, TLS-only, expiring), its
   * delivery policy, and the model bucket's logging to it. Returns its name.
   */
  private createAccessLogBucket(
    name: string,
    args: ModelStoreArgs,
    keep: pulumi.CustomResourceOptions,
    bucket: aws.s3.Bucket,
  ): pulumi.Output<string> {
    const child = { parent: this };
    const accountId = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
    const logs = new aws.s3.Bucket(
      `${name}-access-logs`,
      { forceDestroy: args.forceDestroy ?? false, tags: args.tags },
      keep,
    );
    const logsPublicAccess = this.createBucketOwnership(`${name}-access-logs`, logs);
    // S3 server access logging delivers only to buckets encrypted with SSE-S3, not SSE-KMS.
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-access-logs`,
      {
        bucket: logs.id,
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
      },
      child,
    );
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-access-logs`,
      {
        bucket: logs.id,
        rules: [
          {
            id: "expire-access-logs",
            status: "Enabled",
            filter: { prefix: "" },
            expiration: { days: args.accessLogExpiryDays ?? 365 },
          },
        ],
      },
      child,
    );
    new aws.s3.BucketPolicy(
      `${name}-access-logs`,
      {
        bucket: logs.id,
        policy: pulumi
          .all([logs.arn, bucket.arn, accountId])
          .apply(([logsArn, sourceArn, account]) =>
            JSON.stringify({
              Version: "2012-10-17",
              Statement: [
                ...accessLogDeliveryStatements(logsArn, sourceArn, account),
                ...tlsOnlyStatements(logsArn),
              ],
            }),
          ),
      },
      { parent: this, dependsOn: [logsPublicAccess] },
    );
    new aws.s3.BucketLogging(
      `${name}-bucket`,
      { bucket: bucket.id, targetBucket: logs.id, targetPrefix: "s3-access/" },
      child,
    );
    return logs.bucket;
  }

  /** The full prefix of one model (or of the whole repository when `model` is absent). */
  public modelPrefix(model?: string): string {
    if (model === undefined) return this.repositoryPrefix;
    const problem = validateModelPrefix(model);
    if (problem) throw new Error(`model ${JSON.stringify(model)}: ${problem}`);
    return `${this.repositoryPrefix}/${model.replace(/\/+$/, "")}`;
  }

  /** `s3://<bucket>/<repositoryPrefix>/<model>/`. */
  public modelUri(model: string): pulumi.Output<string> {
    return pulumi.interpolate`s3://${this.bucketName}/${this.modelPrefix(model)}/`;
  }

  /** IAM policy JSON: read one model (or the whole repository) and decrypt it; nothing else. */
  public readOnlyPolicy(model?: string): pulumi.Output<string> {
    return this.readOnlyPolicyForPrefix(this.modelPrefix(model));
  }

  /** IAM policy JSON: read everything under any prefix of the bucket (a whole repository, a sync source). */
  public readOnlyPolicyForPrefix(prefix: string): pulumi.Output<string> {
    const problem = validateModelPrefix(prefix);
    if (problem) throw new Error(`prefix ${JSON.stringify(prefix)}: ${problem}`);
    const clean = prefix.replace(/\/+$/, "");
    return pulumi
      .all([this.bucketArn, this.kmsKeyArn])
      .apply(([bucketArn, kmsKeyArn]) =>
        JSON.stringify(modelReadOnlyPolicy({ bucketArn, kmsKeyArn, prefix: clean })),
      );
  }

  /** IAM policy JSON: publish (write, replace, delete) under one model's prefix. */
  public readWritePolicy(model?: string): pulumi.Output<string> {
    const prefix = this.modelPrefix(model);
    return pulumi
      .all([this.bucketArn, this.kmsKeyArn])
      .apply(([bucketArn, kmsKeyArn]) =>
        JSON.stringify(modelReadWritePolicy({ bucketArn, kmsKeyArn, prefix })),
      );
  }
}
