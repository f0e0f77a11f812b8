/**
 * The image mirror's pure parts, tested directly: the IAM policies of a first pull through the
 * cache and of the build project, and the build project's buildspec.
 */
import * as YAML from "yaml";
import { parseImageRef } from "../../catalog/imageSources";
import { PolicyDocument } from "./modelStorePolicies";

/**
 * What a node (or any principal) needs to pull through the cache the first time: ECR creates the
 * repository and imports the upstream image on that pull. "ecr:BatchImportUpstreamImage – Grants
 * permission to retrieve the external image and import it to your private registry";
 * "ecr:CreateRepository ... is required if the repository storing the cached images doesn't
 * already exist" (https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-iam.html).
 * Scoped to the mirror's cache prefixes. Pulls themselves need the usual ECR read permissions
 * (AmazonEC2ContainerRegistryReadOnly on EKS nodes).
 */
export function pullThroughPolicy(
  region: string,
  accountId: string,
  prefixes: readonly string[],
): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "PullThroughCacheFirstPull",
        Effect: "Allow",
        Action: ["ecr:CreateRepository", "ecr:BatchImportUpstreamImage"],
        Resource: prefixes.map((p) => `arn:aws:ecr:${region}:${accountId}:repository/${p}/*`),
      },
    ],
  };
}

/**
 * The build project's role: push to the target repositories only, read the uploaded sources,
 * write its own logs.
 */
export function buildProjectPolicy(o: {
  region: string;
  accountId: string;
  projectName: string;
  repositoryArns: readonly string[];
  source?: { objectArn: string; kmsKeyArn?: string };
  /** Pull-through cache prefixes the build warms (pulls through by tag and checks the digest). */
  warmPrefixes?: readonly string[];
}): PolicyDocument {
  const cacheRepositories = (o.warmPrefixes ?? []).map(
    (p) => `arn:aws:ecr:${o.region}:${o.accountId}:repository/${p}/*`,
  );
  const logGroup = `arn:aws:logs:${o.region}:${o.accountId}:log-group:/aws/codebuild/${o.projectName}`;
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "Logs",
        Effect: "Allow",
        Action: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: [logGroup, `${logGroup}:*`],
      },
      { Sid: "EcrLogin", Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" },
      {
        // docker push (https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-push-iam.html)
        // and the check that a tag is already there (DescribeImages).
        Sid: "PushTargets",
        Effect: "Allow",
        Action: [
          "ecr:BatchCheckLayerAvailability",
          "ecr:BatchGetImage",
          "ecr:CompleteLayerUpload",
          "ecr:DescribeImages",
          "ecr:GetDownloadUrlForLayer",
          "ecr:InitiateLayerUpload",
          "ecr:PutImage",
          "ecr:UploadLayerPart",
        ],
        Resource: [...new Set(o.repositoryArns)],
      },
      ...(cacheRepositories.length > 0
        ? [
            {
              // The first pull through the cache (pullThroughPolicy), then reading the cached
              // manifest's digest (DescribeImages).
              Sid: "WarmCache",
              Effect: "Allow" as const,
              Action: [
                "ecr:BatchCheckLayerAvailability",
                "ecr:BatchGetImage",
                "ecr:BatchImportUpstreamImage",
                "ecr:CreateRepository",
                "ecr:DescribeImages",
                "ecr:GetDownloadUrlForLayer",
              ],
              Resource: cacheRepositories,
            },
          ]
        : []),
      ...(o.source
        ? [
            {
              Sid: "ReadSources",
              Effect: "Allow" as const,
              Action: ["s3:GetObject", "s3:GetObjectVersion"],
              Resource: o.source.objectArn,
            },
            ...(o.source.kmsKeyArn
              ? [
                  {
                    Sid: "DecryptSources",
                    Effect: "Allow" as const,
                    Action: "kms:Decrypt",
                    Resource: o.source.kmsKeyArn,
                  },
                ]
              : []),
          ]
        : []),
    ],
  };
}

/**
 * One step of the build: an image copied, built from a directory of the source, or warmed in the
 * pull-through cache. Warming pulls `image` (the cache's reference, by tag) through the cache and
 * checks that the cached tag is `digest`: ECR's pull-through cache does not fetch an uncached image
 * that is referenced by digest, even with its tag ("an uncached image returns as missing, even
 * though the tag also is included", aws/containers-roadmap#2837, open), so a workload pinned to
 * `tag@digest` pulls only after the tag has been pulled once.
 */
export type MirrorStep =
  | { kind: "copy"; source: string; target: string }
  | { kind: "build"; directory: string; baseImage?: string; target: string }
  | { kind: "warm"; image: string; digest: string };

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The shell commands of one step; a target tag already in ECR is left alone (tags are immutable). */
export function stepCommand(step: MirrorStep): string {
  if (step.kind === "warm") return warmCommand(step);
  const target = parseImageRef(step.target);
  const exists = `aws ecr describe-images --repository-name ${q(target.path)} --image-ids imageTag=${q(target.tag)} >/dev/null 2>&1`;
  const skip = `echo ${q(`${step.target} is already in ECR`)}`;
  const work =
    step.kind === "copy"
      ? [
          `docker pull ${q(step.source)}`,
          `docker tag ${q(step.source)} ${q(step.target)}`,
          `docker push ${q(step.target)}`,
          `docker image rm ${q(step.source)} ${q(step.target)}`,
        ]
      : [
          `docker build ${step.baseImage ? `--build-arg BASE_IMAGE=${q(step.baseImage)} ` : ""}-t ${q(step.target)} "$CODEBUILD_SRC_DIR/${step.directory}"`,
          `docker push ${q(step.target)}`,
        ];
  return `if ${exists}; then ${skip}; else ${work.join(" && ")}; fi`;
}

/**
 * Warming one image: nothing when the cache already holds the digest; else a pull by tag through
 * the cache, then the build fails unless the cached tag is the publisher's digest.
 */
function warmCommand(step: { image: string; digest: string }): string {
  const ref = parseImageRef(step.image);
  const describe = (id: string) =>
    `aws ecr describe-images --repository-name ${q(ref.path)} --image-ids ${id}`;
  const cached = `${describe(`imageDigest=${q(step.digest)}`)} >/dev/null 2>&1`;
  const digestOfTag = `"$(${describe(`imageTag=${q(ref.tag)}`)} --query 'imageDetails[0].imageDigest' --output text)"`;
  const wrong = `${step.image} is $d in the pull-through cache, not its publisher's ${step.digest}`;
  return [
    `if ${cached}; then echo ${q(`${step.image}@${step.digest} is in the pull-through cache`)};`,
    `else docker pull ${q(step.image)} && d=${digestOfTag} &&`,
    `{ [ "$d" = ${q(step.digest)} ] || { echo "${wrong}"; false; }; } && docker image rm ${q(step.image)}; fi`,
  ].join(" ");
}

/**
 * The buildspec: log in to the stack's registry, then copy and build each image with Docker
 * (CodeBuild's standard image runs Docker in privileged mode:
 * https://docs.aws.amazon.com/codebuild/latest/userguide/sample-docker.html). Public NGC,
 * GitHub and Docker Hub images are pulled without logging in.
 */
export function mirrorBuildspec(registryHost: string, region: string, steps: MirrorStep[]): string {
  return YAML.stringify(
    {
      version: 0.2,
      phases: {
        pre_build: {
          commands: [
            `aws ecr get-login-password --region ${region} | docker login --username AWS --password-stdin ${registryHost}`,
          ],
        },
        build: { commands: steps.length > 0 ? steps.map(stepCommand) : ["echo nothing to copy"] },
      },
    },
    { lineWidth: 0 },
  );
}

/** The key of the uploaded build sources in the source bucket. */
export const BUILD_SOURCE_KEY = "image-build-sources/sources.zip";
