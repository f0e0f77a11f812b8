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
}): PolicyDocument {
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

/** One step of the build: an image copied, or built from a directory of the source. */
export type MirrorStep =
  | { kind: "copy"; source: string; target: string }
  | { kind: "build"; directory: string; baseImage?: string; target: string };

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The shell commands of one step; a target tag already in ECR is left alone (tags are immutable). */
export function stepCommand(step: MirrorStep): string {
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
