/**
 * The preflight's types and the helpers its checks share (automation/preflight.ts runs them).
 */
import type { STSClient } from "@aws-sdk/client-sts";
import type { EC2Client } from "@aws-sdk/client-ec2";
import type { ServiceQuotasClient } from "@aws-sdk/client-service-quotas";
import type { ECRClient } from "@aws-sdk/client-ecr";
import type { S3Client } from "@aws-sdk/client-s3";
import type { IAMClient } from "@aws-sdk/client-iam";
import type { StackConfig } from "../programs/config";

/** The SDK clients the preflight calls, all in the region it checks. */
export interface PreflightClients {
  sts: STSClient;
  ec2: EC2Client;
  quotas: ServiceQuotasClient;
  ecr: ECRClient;
  s3: S3Client;
  iam: IAMClient;
}

export type PreflightCheck =
  "identity" | "region" | "offering" | "quota" | "spot-role" | "image" | "model";

/**
 * `ok`: the account has it. `info`: nothing to check or do (published by AWS, created by the
 * foundation step). `warning`: the deploy can go on, but read it. `blocker`: the deploy would fail.
 */
export type PreflightStatus = "ok" | "info" | "warning" | "blocker";

export interface PreflightFinding {
  check: PreflightCheck;
  status: PreflightStatus;
  /** What the finding is about: an instance type, a quota, an image, a serving target. */
  subject: string;
  /** The API (`ec2:DescribeInstanceTypeOfferings`) or quota (`servicequotas ec2 L-DB2E81BA`) read. */
  source: string;
  /** What the stack needs, when it needs something. */
  needs?: string;
  /** What the account has. */
  has?: string;
  /** How to fix a warning or blocker: a command, a console URL, a stack key. */
  fix?: string;
}

export interface PreflightResult {
  stack: string;
  /** The region checked. */
  region: string;
  /** The account and caller STS reported; absent when no credentials were found. */
  account?: string;
  arn?: string;
  findings: PreflightFinding[];
  /** True when a finding is a blocker: the account cannot take the stack as it is. */
  blocked: boolean;
}

/** The outputs of a deployed stack (programs/platform.ts PlatformOutputs) the preflight uses. */
export interface PreflightStackOutputs {
  modelBucketName?: string;
  /** Repository URL by short name, as the stack's `registryUrls` output. */
  registryUrls?: Record<string, string>;
}

export interface PreflightOptions {
  /** The region to check; the stack's `aws:region` by default. */
  region?: string;
  /** The stack's parsed configuration (its serving targets); read from Pulumi.<stack>.yaml when absent. */
  config?: StackConfig;
  /** Outputs of the stack when it is already deployed: its model bucket and repositories. */
  outputs?: PreflightStackOutputs;
  /** What the deploy itself brings before the serving resources need it. */
  deployBrings?: {
    /** True when the deploy's image step puts this image (as the plan records it) into ECR. */
    image?: (uri: string) => boolean;
    /** True when the deploy's model step pushes this target's repository (`endpoint chat`, `triton`, `fleet`). */
    model?: (target: string) => boolean;
  };
}

/** An AWS SDK error's name and message, for a finding. */
export function awsError(e: unknown): { name: string; message: string } {
  const err = e as { name?: string; message?: string; Code?: string };
  // The first line: SDK messages can add lines of advice for developers.
  const message = (err.message ?? String(e)).split("\n")[0].trim();
  return { name: err.name ?? err.Code ?? "Error", message };
}

/** What an API the preflight could not call answered. */
export function unreadable(action: string, e: unknown): string {
  const { name, message } = awsError(e);
  return `could not call ${action}: ${name}: ${message}`;
}

/** The fix for an API that could not be called: the permission when it was refused. */
export function unreadableFix(e: unknown, permissions: string, otherwise: string): string {
  return /AccessDenied|UnauthorizedOperation/.test(awsError(e).name)
    ? `grant ${permissions} to the caller`
    : otherwise;
}
