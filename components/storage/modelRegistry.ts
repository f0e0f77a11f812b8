import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ArgError, checkIntegerRange, throwIfInvalid } from "../validation";
import { Tags } from "../tags";
import { keyArnOrNew, retainOptions } from "./encryption";

export interface ModelRegistryArgs {
  /**
   * One ECR repository per serving image, by short name (lower case, digits, `.`, `_`, `-`, `/`).
   * @example ["triton", "vllm"]
   */
  repositories: string[];
  /** KMS key for the images; a new customer managed key when absent. */
  kmsKeyArn?: pulumi.Input<string>;
  /**
   * Refuse to overwrite a tag once pushed, so a deployed tag always means the same image.
   * @default true
   */
  immutableTags?: boolean;
  /**
   * Scan every pushed image for vulnerabilities.
   * @default true
   */
  scanOnPush?: boolean;
  /**
   * Untagged images expire this many days after push (1 to 365).
   * @default 7
   */
  untaggedImageExpiryDays?: number;
  /**
   * Keep at most this many images per repository; older ones expire (1 to 1000).
   * @default 50
   */
  maxImages?: number;
  /**
   * Protect the repositories and keep them (and their images) when the stack is destroyed.
   * @default true
   */
  retainOnDelete?: boolean;
  /**
   * Let a destroy delete repositories that still hold images. Cannot be combined with
   * `retainOnDelete`.
   * @default false
   */
  forceDelete?: boolean;
  /** Tags for every resource. */
  tags?: Tags;
}

const REPOSITORY_NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/;

export function validateModelRegistryArgs(args: ModelRegistryArgs): ArgError[] {
  const errors: ArgError[] = [];
  if (!Array.isArray(args.repositories) || args.repositories.length === 0) {
    errors.push({ propertyPath: "repositories", reason: "must list at least one repository name" });
  }
  const seen = new Set<string>();
  (args.repositories ?? []).forEach((r, i) => {
    if (typeof r !== "string" || r.length < 2 || r.length > 200 || !REPOSITORY_NAME.test(r)) {
      errors.push({
        propertyPath: `repositories[${i}]`,
        reason: `must be 2-200 characters of lower-case letters, digits and . _ - / (ECR naming), got ${JSON.stringify(r)}`,
      });
    }
    if (seen.has(r))
      errors.push({ propertyPath: `repositories[${i}]`, reason: `${r} is listed twice` });
    seen.add(r);
  });
  checkIntegerRange(errors, "untaggedImageExpiryDays", args.untaggedImageExpiryDays, 1, 365);
  checkIntegerRange(errors, "maxImages", args.maxImages, 1, 1000);
  if (args.forceDelete && (args.retainOnDelete ?? true)) {
    errors.push({
      propertyPath: "forceDelete",
      reason: "cannot be true while retainOnDelete is true (the default)",
    });
  }
  return errors;
}

/** The lifecycle policy: expire untagged images after some days, keep the newest N images. */
export function registryLifecyclePolicy(
  untaggedImageExpiryDays: number,
  maxImages: number,
): object {
  return {
    rules: [
      {
        rulePriority: 1,
        description: `Expire untagged images ${untaggedImageExpiryDays} days after push`,
        selection: {
          tagStatus: "untagged",
          countType: "sinceImagePushed",
          countUnit: "days",
          countNumber: untaggedImageExpiryDays,
        },
        action: { type: "expire" },
      },
      {
        rulePriority: 2,
        description: `Keep the newest ${maxImages} images`,
        selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: maxImages },
        action: { type: "expire" },
      },
    ],
  };
}

/**
 * ECR repositories for serving images: scanned on push, immutable tags, KMS-encrypted, with a
 * lifecycle policy, and kept through a destroy unless told otherwise.
 */
export class ModelRegistry extends pulumi.ComponentResource {
  /** Repository URL by short name (`{ triton: "123456789012.dkr.ecr.../registry-triton-1a2b3c4" }`). */
  public readonly repositoryUrls: pulumi.Output<Record<string, string>>;
  /** Repository ARN by short name. */
  public readonly repositoryArns: pulumi.Output<Record<string, string>>;
  /** The KMS key the repositories are encrypted with. */
  public readonly kmsKeyArn: pulumi.Output<string>;

  constructor(name: string, args: ModelRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    // Validate before anything is registered: bad input fails at preview, naming the field.
    throwIfInvalid("ModelRegistry", name, validateModelRegistryArgs(args));
    super("llm-infra:index:ModelRegistry", name, {}, opts);

    const retain = args.retainOnDelete ?? true;
    this.kmsKeyArn = keyArnOrNew(
      name,
      `ECR images of ${name}`,
      args.kmsKeyArn,
      args.tags,
      retainOptions(retain, this),
    );
    const lifecycle = JSON.stringify(
      registryLifecyclePolicy(args.untaggedImageExpiryDays ?? 7, args.maxImages ?? 50),
    );

    const urls: Record<string, pulumi.Output<string>> = {};
    const arns: Record<string, pulumi.Output<string>> = {};
    for (const repositoryName of args.repositories) {
      const childName = `${name}-${repositoryName.replace(/[/._]/g, "-")}`;
      const repository = new aws.ecr.Repository(
        childName,
        {
          imageTagMutability: (args.immutableTags ?? true) ? "IMMUTABLE" : "MUTABLE",
          imageScanningConfiguration: { scanOnPush: args.scanOnPush ?? true },
          encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: this.kmsKeyArn }],
          forceDelete: args.forceDelete ?? false,
          tags: args.tags,
        },
        retainOptions(retain, this),
      );
      new aws.ecr.LifecyclePolicy(
        childName,
        { repository: repository.name, policy: lifecycle },
        { parent: this },
      );
      urls[repositoryName] = repository.repositoryUrl;
      arns[repositoryName] = repository.arn;
    }
    this.repositoryUrls = pulumi.output(urls);
    this.repositoryArns = pulumi.output(arns);

    this.registerOutputs({
      repositoryUrls: this.repositoryUrls,
      repositoryArns: this.repositoryArns,
      kmsKeyArn: this.kmsKeyArn,
    });
  }
}
