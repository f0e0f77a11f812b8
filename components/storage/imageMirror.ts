import * as aws from "@pulumi/aws";
import { CODEBUILD_STANDARD_IMAGE, codeBuildComputeTypeProblem } from "../../catalog/codeBuild";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import {
  CREDENTIAL_FREE_UPSTREAMS,
  PULL_THROUGH_HOSTS,
  PULL_THROUGH_PREFIX_MAX,
  PULL_THROUGH_UPSTREAMS,
  PullThroughUpstream,
  deliveryOf,
  formatImageRef,
  parseImageRef,
  pullThroughImage,
} from "../../catalog/imageSources";
import {
  BUILD_SOURCE_KEY,
  MirrorStep,
  buildProjectPolicy,
  mirrorBuildspec,
  pullThroughPolicy,
} from "./imageMirrorBuild";
import { serviceRole } from "../trust";
import { registryLifecyclePolicy } from "./modelRegistry";
import { Tags } from "../tags";
import { ArgError, throwIfInvalid } from "../validation";

/** An image copied into a repository the caller owns (ModelRegistry.repositoryUrls[...]). */
export interface ImageCopy {
  /** The upstream image, `host/path:tag`, optionally pinned `@sha256:...`. */
  source: string;
  /** The target repository's URL (`<account>.dkr.ecr.<region>.amazonaws.com/<name>`). */
  targetRepositoryUrl: pulumi.Input<string>;
  /** The target repository's ARN: the build project may push to it. */
  targetRepositoryArn: pulumi.Input<string>;
  /** The tag in the target. @default the source's tag */
  targetTag?: string;
}

/** An image built from a directory kept in the repository (a Dockerfile and what it copies). */
export interface ImageBuild {
  /**
   * The directory, holding a Dockerfile; uploaded to `sourceBucket` as the build's source.
   * @example "images/triton-python"
   */
  directory: string;
  /** The Dockerfile's `BASE_IMAGE` build argument. @example "nvcr.io/nvidia/tritonserver:26.07-py3" */
  baseImage?: string;
  /** The target repository's URL (ModelRegistry.repositoryUrls[...]). */
  targetRepositoryUrl: pulumi.Input<string>;
  /** The target repository's ARN: the build project may push to it. */
  targetRepositoryArn: pulumi.Input<string>;
  /** The tag to push. */
  tag: string;
}

/** A bucket for the build sources (ModelStore's bucket does). */
export interface ImageSourceBucket {
  /** The bucket's name (ModelStore.bucketName). */
  name: pulumi.Input<string>;
  /** The bucket's ARN: the build project may read the sources' object. */
  arn: pulumi.Input<string>;
  /** The bucket's KMS key: the build project may decrypt the sources with it. */
  kmsKeyArn?: pulumi.Input<string>;
}

export interface ImageMirrorArgs {
  /**
   * The start of the stack's pull-through cache prefixes (`<cachePrefix>-k8s`, `-ecr-public`, ...),
   * unique in the account and region: ECR allows one rule per prefix.
   * @example "llm-infra-dev"
   */
  cachePrefix: string;
  /**
   * Upstream registries to cache: `public.ecr.aws`, `registry.k8s.io`, `quay.io` (no credential),
   * `docker.io`, `ghcr.io` (need `upstreamCredentialArns`).
   * @default the three that need no credential
   */
  pullThroughUpstreams?: string[];
  /**
   * Secrets Manager secrets (name starting `ecr-pullthroughcache/`) for upstreams that need one,
   * by host. An upstream with a credential is cached; without, its images are copied.
   */
  upstreamCredentialArns?: Record<string, string>;
  /**
   * Upstream images the stack's workloads run: each is served by a pull-through rule when its
   * registry is cached, else copied into a repository of this mirror. `imageUris` maps them.
   */
  images?: string[];
  /** Images copied into the caller's repositories (NGC Triton into the stack's `triton`). */
  copies?: ImageCopy[];
  /** Images built from directories in the repository and pushed to the caller's repositories. */
  builds?: ImageBuild[];
  /** The bucket the build sources are uploaded to (required with `builds`). */
  sourceBucket?: ImageSourceBucket;
  /** KMS key of the mirror's own repositories; ECR's AES-256 when absent. */
  kmsKeyArn?: pulumi.Input<string>;
  /**
   * The build project's compute type (copies of multi-GB Triton images need the disk of a large
   * one). @default "BUILD_GENERAL1_LARGE"
   */
  computeType?: string;
  /** Tags for every resource. */
  tags?: Tags;
}

export * from "./imageMirrorBuild";

const PREFIX = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

export function validateImageMirrorArgs(args: ImageMirrorArgs): ArgError[] {
  const errors: ArgError[] = [];
  const longest = Math.max(
    ...PULL_THROUGH_HOSTS.map((h) => PULL_THROUGH_UPSTREAMS[h].short.length),
  );
  if (!PREFIX.test(args.cachePrefix ?? "") || args.cachePrefix.length + 1 + longest > 30)
    errors.push({
      propertyPath: "cachePrefix",
      reason: `must be lower-case letters, digits and . _ - of at most ${PULL_THROUGH_PREFIX_MAX - 1 - longest} characters (a pull-through prefix is <cachePrefix>-<upstream>, at most ${PULL_THROUGH_PREFIX_MAX}), got ${JSON.stringify(args.cachePrefix)}`,
    });
  (args.pullThroughUpstreams ?? []).forEach((u, i) => {
    const spec = PULL_THROUGH_UPSTREAMS[u as PullThroughUpstream];
    if (!spec)
      errors.push({
        propertyPath: `pullThroughUpstreams[${i}]`,
        reason: `must be one of ${PULL_THROUGH_HOSTS.join(", ")} (the registries ECR's pull-through cache supports), got ${JSON.stringify(u)}`,
      });
    else if (spec.credential && !args.upstreamCredentialArns?.[u])
      errors.push({
        propertyPath: `pullThroughUpstreams[${i}]`,
        reason: `${u} needs a Secrets Manager credential (upstreamCredentialArns["${u}"]); without one its images are copied instead`,
      });
  });
  for (const [host, arn] of Object.entries(args.upstreamCredentialArns ?? {})) {
    if (!PULL_THROUGH_UPSTREAMS[host as PullThroughUpstream]?.credential)
      errors.push({
        propertyPath: `upstreamCredentialArns.${host}`,
        reason: `only ${PULL_THROUGH_HOSTS.filter((h) => PULL_THROUGH_UPSTREAMS[h].credential).join(", ")} take a credential`,
      });
    else if (
      !/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:ecr-pullthroughcache\//.test(arn)
    )
      errors.push({
        propertyPath: `upstreamCredentialArns.${host}`,
        reason: `must be a Secrets Manager secret ARN whose name starts with ecr-pullthroughcache/, got ${JSON.stringify(arn)}`,
      });
  }
  const refs = [
    ...(args.images ?? []).map((s, i) => [`images[${i}]`, s] as const),
    ...(args.copies ?? []).map((c, i) => [`copies[${i}].source`, c.source] as const),
  ];
  for (const [key, ref] of refs)
    if (
      typeof ref !== "string" ||
      !/^[a-z0-9.-]+(:\d+)?\/[\w./-]+:[\w.-]+(@sha256:[a-f0-9]{64})?$/.test(ref)
    )
      errors.push({
        propertyPath: key,
        reason: `must be an image reference host/path:tag (optionally @sha256:<digest>), pinned by tag, got ${JSON.stringify(ref)}`,
      });
  (args.builds ?? []).forEach((b, i) => {
    if (!fs.existsSync(path.join(b.directory ?? "", "Dockerfile")))
      errors.push({
        propertyPath: `builds[${i}].directory`,
        reason: `must be a directory holding a Dockerfile, got ${JSON.stringify(b.directory)}`,
      });
  });
  if ((args.builds ?? []).length > 0 && !args.sourceBucket)
    errors.push({
      propertyPath: "sourceBucket",
      reason: "is required with builds (their sources are uploaded there)",
    });
  const computeType = codeBuildComputeTypeProblem(args.computeType);
  if (computeType) errors.push({ propertyPath: "computeType", reason: computeType });
  return errors;
}

/** The upstreams the mirror caches: those asked for, or every one that needs no credential. */
export function cachedUpstreams(args: ImageMirrorArgs): PullThroughUpstream[] {
  return (
    (args.pullThroughUpstreams as PullThroughUpstream[] | undefined) ?? [
      ...CREDENTIAL_FREE_UPSTREAMS,
    ]
  );
}

/** The pull-through prefix of an upstream: `<cachePrefix>-<short name>`. */
export function cacheRepositoryPrefix(cachePrefix: string, upstream: PullThroughUpstream): string {
  return `${cachePrefix}-${PULL_THROUGH_UPSTREAMS[upstream].short}`;
}

/**
 * Brings images into the stack's own ECR registry, with no Docker on the deployer's machine:
 * ECR pull-through cache rules for the upstreams ECR supports (public.ecr.aws, registry.k8s.io,
 * quay.io; Docker Hub and GitHub with a credential), and a CodeBuild project that copies the rest
 * (NVIDIA's NGC images) and builds images from Dockerfiles kept in the repository. The project has
 * no VPC configuration, so it reaches the upstream registries even when the stack's VPC has no NAT
 * ("Typically, AWS CodeBuild cannot access resources in a VPC",
 * https://docs.aws.amazon.com/codebuild/latest/userguide/vpc-support.html: without `vpcConfig`
 * builds run in CodeBuild's own network, with internet access). The deploy starts it and waits
 * (automation/images.ts buildImages).
 */
export class ImageMirror extends pulumi.ComponentResource {
  /** The CodeBuild project that copies and builds (start it to bring the images in). */
  public readonly projectName: pulumi.Output<string>;
  /** The stack's registry host, `<account>.dkr.ecr.<region>.amazonaws.com`. */
  public readonly registryHost: pulumi.Output<string>;
  /** Each of `images` mapped to the image in the stack's registry that serves it. */
  public readonly imageUris: pulumi.Output<Record<string, string>>;
  /** The pull-through cache prefixes (`<cachePrefix>-k8s`, ...). */
  public readonly cachePrefixes: string[];
  /** The first-pull policy (JSON) a role that pulls through the cache needs. */
  public readonly pullThroughPolicyJson: pulumi.Output<string>;

  constructor(name: string, args: ImageMirrorArgs, opts?: pulumi.ComponentResourceOptions) {
    throwIfInvalid("ImageMirror", name, validateImageMirrorArgs(args));
    super("llm-infra:index:ImageMirror", name, {}, opts);
    const child = { parent: this };
    const accountId = aws.getCallerIdentityOutput({}, child).accountId;
    const region = aws.getRegionOutput({}, child).region;
    this.registryHost = pulumi.interpolate`${accountId}.dkr.ecr.${region}.amazonaws.com`;

    const upstreams = this.createCacheRules(name, args);
    this.cachePrefixes = upstreams.map((u) => cacheRepositoryPrefix(args.cachePrefix, u));
    this.pullThroughPolicyJson = pulumi
      .all([region, accountId])
      .apply(([r, a]) => JSON.stringify(pullThroughPolicy(r, a, this.cachePrefixes)));
    const work = this.createCopyTargets(name, args, upstreams);
    this.imageUris = pulumi.output(work.uris);
    const project = this.createProject(name, args, { region, accountId, ...work });
    this.projectName = project.name;
    this.registerOutputs({
      projectName: this.projectName,
      registryHost: this.registryHost,
      imageUris: this.imageUris,
    });
  }

  /**
   * A pull-through cache rule per cached upstream, and a repository creation template for the
   * repositories ECR creates under its prefix on a first pull: the registry's lifecycle policy (at
   * most 50 images, untagged ones gone after 7 days), mutable tags so the cache keeps following its
   * upstream ("as long as the repository's image tags stay mutable",
   * https://docs.aws.amazon.com/omics/latest/dev/containers-ptc-registries.html), AES-256 (a KMS
   * key or tags in a template need a role ECR assumes,
   * https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-creation-templates-create.html).
   * Returns the upstreams cached.
   */
  private createCacheRules(name: string, args: ImageMirrorArgs): PullThroughUpstream[] {
    const upstreams = cachedUpstreams(args);
    const lifecycle = JSON.stringify(registryLifecyclePolicy(7, 50));
    for (const upstream of upstreams) {
      new aws.ecr.RepositoryCreationTemplate(
        `${name}-${PULL_THROUGH_UPSTREAMS[upstream].short}`,
        {
          // "When using a pull through cache rule, the repository prefix you specify during rule
          // creation is what you should specify as your repository creation template prefix"
          // (ECR API Reference, CreateRepositoryCreationTemplate, `prefix`).
          prefix: cacheRepositoryPrefix(args.cachePrefix, upstream),
          appliedFors: ["PULL_THROUGH_CACHE"],
          description: `Repositories the ${upstream} pull-through cache of ${name} creates`,
          imageTagMutability: "MUTABLE",
          encryptionConfigurations: [{ encryptionType: "AES256" }],
          lifecyclePolicy: lifecycle,
        },
        { parent: this },
      );
      new aws.ecr.PullThroughCacheRule(
        `${name}-${PULL_THROUGH_UPSTREAMS[upstream].short}`,
        {
          ecrRepositoryPrefix: cacheRepositoryPrefix(args.cachePrefix, upstream),
          upstreamRegistryUrl: PULL_THROUGH_UPSTREAMS[upstream].upstreamRegistryUrl,
          credentialArn: args.upstreamCredentialArns?.[upstream],
        },
        { parent: this },
      );
    }
    return upstreams;
  }

  /**
   * What each image maps to, and the project's steps: `images` served by a cache rule map to the
   * cache's path; the others get a repository of the mirror and a copy step; then `copies` and
   * `builds` into the caller's repositories. Returns the repositories the project pushes to.
   */
  private createCopyTargets(
    name: string,
    args: ImageMirrorArgs,
    upstreams: PullThroughUpstream[],
  ): {
    uris: Record<string, pulumi.Output<string>>;
    steps: pulumi.Output<MirrorStep>[];
    repositoryArns: pulumi.Output<string>[];
  } {
    const credentialed = upstreams.filter((u) => PULL_THROUGH_UPSTREAMS[u].credential);
    const uris: Record<string, pulumi.Output<string>> = {};
    const steps: pulumi.Output<MirrorStep>[] = [];
    const repositoryArns: pulumi.Output<string>[] = [];
    for (const image of [...new Set(args.images ?? [])]) {
      const delivery = deliveryOf(image, credentialed);
      if (delivery === "ecr") uris[image] = pulumi.output(image);
      else if (delivery === "pull-through") {
        const cached = this.registryHost.apply((h) => pullThroughImage(h, args.cachePrefix, image));
        uris[image] = cached;
        // Pinned by digest: the build pulls it through by tag first (MirrorStep "warm").
        const digest = parseImageRef(image).digest;
        if (digest)
          steps.push(
            cached.apply((c) => ({
              kind: "warm" as const,
              image: formatImageRef({ ...parseImageRef(c), digest: undefined }),
              digest,
            })),
          );
      } else {
        const repository = this.createMirrorRepository(name, args, image);
        // A copy through Docker pushes the platform's manifest, whose digest is not the source
        // index's: the source is pinned by its digest, the target by its tag.
        const target = repository.repositoryUrl.apply(
          (url) => `${url}:${parseImageRef(image).tag}`,
        );
        uris[image] = target;
        steps.push(target.apply((t) => ({ kind: "copy" as const, source: image, target: t })));
        repositoryArns.push(repository.arn);
      }
    }
    for (const c of args.copies ?? []) {
      const tag = c.targetTag ?? parseImageRef(c.source).tag;
      steps.push(
        pulumi
          .output(c.targetRepositoryUrl)
          .apply((url) => ({ kind: "copy" as const, source: c.source, target: `${url}:${tag}` })),
      );
      repositoryArns.push(pulumi.output(c.targetRepositoryArn));
    }
    for (const b of args.builds ?? []) {
      steps.push(
        pulumi.output(b.targetRepositoryUrl).apply((url) => ({
          kind: "build" as const,
          directory: path.basename(b.directory),
          baseImage: b.baseImage,
          target: `${url}:${b.tag}`,
        })),
      );
      repositoryArns.push(pulumi.output(b.targetRepositoryArn));
    }
    return { uris, steps, repositoryArns };
  }

  /** A repository of the mirror for an image it copies: immutable tags, scanned, encrypted. */
  private createMirrorRepository(
    name: string,
    args: ImageMirrorArgs,
    image: string,
  ): aws.ecr.Repository {
    const ref = parseImageRef(image);
    return new aws.ecr.Repository(
      `${name}-${`${ref.host.split(".")[0]}-${ref.path}`.replace(/[/._]/g, "-")}`,
      {
        imageTagMutability: "IMMUTABLE",
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfigurations: args.kmsKeyArn
          ? [{ encryptionType: "KMS", kmsKey: args.kmsKeyArn }]
          : [{ encryptionType: "AES256" }],
        forceDelete: true,
        tags: args.tags,
      },
      { parent: this },
    );
  }

  /** The sources upload (with builds), the project's role and the project. */
  private createProject(
    name: string,
    args: ImageMirrorArgs,
    o: {
      region: pulumi.Output<string>;
      accountId: pulumi.Output<string>;
      steps: pulumi.Output<MirrorStep>[];
      repositoryArns: pulumi.Output<string>[];
    },
  ): aws.codebuild.Project {
    const child = { parent: this };
    const builds = args.builds ?? [];
    // Digest-pinned images served by the cache: the build warms them, so its role may too.
    const warmed = (args.images ?? []).some(
      (i) =>
        parseImageRef(i).digest !== undefined &&
        deliveryOf(
          i,
          cachedUpstreams(args).filter((u) => PULL_THROUGH_UPSTREAMS[u].credential),
        ) === "pull-through",
    );
    const sources =
      builds.length > 0 && args.sourceBucket
        ? new aws.s3.BucketObjectv2(
            `${name}-sources`,
            {
              bucket: args.sourceBucket.name,
              key: BUILD_SOURCE_KEY,
              source: new pulumi.asset.AssetArchive(
                Object.fromEntries(
                  builds.map((b) => [
                    path.basename(b.directory),
                    new pulumi.asset.FileArchive(b.directory),
                  ]),
                ),
              ),
              tags: args.tags,
            },
            child,
          )
        : undefined;
    const role = serviceRole(
      `${name}-builds`,
      "codebuild.amazonaws.com",
      `Image copies and builds of ${name}`,
      args.tags,
      this,
    );
    const buildspec = pulumi
      .all([
        pulumi.interpolate`${o.accountId}.dkr.ecr.${o.region}.amazonaws.com`,
        o.region,
        pulumi.all(o.steps),
      ])
      .apply(([host, region, steps]) => mirrorBuildspec(host, region, steps));
    const project = new aws.codebuild.Project(
      `${name}-builds`,
      {
        description: "Copies upstream images into the stack's ECR and builds its own images",
        serviceRole: role.arn,
        artifacts: { type: "NO_ARTIFACTS" },
        environment: {
          type: "LINUX_CONTAINER",
          computeType: args.computeType ?? "BUILD_GENERAL1_LARGE",
          image: CODEBUILD_STANDARD_IMAGE,
          privilegedMode: true,
        },
        source: sources
          ? {
              type: "S3",
              location: pulumi.interpolate`${sources.bucket}/${sources.key}`,
              buildspec,
            }
          : { type: "NO_SOURCE", buildspec },
        buildTimeout: 120,
        tags: args.tags,
      },
      child,
    );
    new aws.iam.RolePolicy(
      `${name}-builds`,
      {
        role: role.id,
        policy: pulumi
          .all([
            o.region,
            o.accountId,
            project.name,
            pulumi.all(o.repositoryArns),
            args.sourceBucket?.arn,
            args.sourceBucket?.kmsKeyArn,
          ])
          .apply(([region, accountId, projectName, repositoryArns, bucketArn, kmsKeyArn]) =>
            JSON.stringify(
              buildProjectPolicy({
                region,
                accountId,
                projectName,
                repositoryArns,
                warmPrefixes: warmed ? this.cachePrefixes : [],
                source:
                  sources && bucketArn
                    ? { objectArn: `${bucketArn}/${BUILD_SOURCE_KEY}`, kmsKeyArn }
                    : undefined,
              }),
            ),
          ),
      },
      child,
    );
    return project;
  }
}
