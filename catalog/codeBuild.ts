/**
 * CodeBuild facts the stack's build projects (the image mirror, the weights copy) rest on.
 */

/**
 * CodeBuild's managed Ubuntu image: Docker (for privileged builds), Python 3 and the AWS CLI
 * (aws/aws-codebuild-docker-images `ubuntu/standard/7.0/Dockerfile`; CodeBuild user guide,
 * "Docker images provided by CodeBuild").
 */
export const CODEBUILD_STANDARD_IMAGE = "aws/codebuild/standard:7.0";

/**
 * Disk space of CodeBuild's on-demand Linux (LINUX_CONTAINER) compute types, GB
 * (https://docs.aws.amazon.com/codebuild/latest/userguide/build-env-ref-compute-types.html,
 * "About environment types"); the compute types a project may name.
 */
export const CODEBUILD_LINUX_DISK_GB: Readonly<Record<string, number>> = {
  BUILD_GENERAL1_SMALL: 64,
  BUILD_GENERAL1_MEDIUM: 128,
  BUILD_GENERAL1_LARGE: 128,
  BUILD_GENERAL1_XLARGE: 256,
  BUILD_GENERAL1_2XLARGE: 824,
};

/** Why a compute type is not one CodeBuild offers on Linux, or undefined. */
export function codeBuildComputeTypeProblem(computeType: string | undefined): string | undefined {
  if (computeType === undefined || computeType in CODEBUILD_LINUX_DISK_GB) return undefined;
  return `must be one of ${Object.keys(CODEBUILD_LINUX_DISK_GB).join(", ")}, got ${JSON.stringify(computeType)}`;
}
