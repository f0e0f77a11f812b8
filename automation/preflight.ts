/**
 * The preflight: read-only AWS calls that say, before a deploy, whether the account can take a
 * stack. It reads what the stack needs from its offline plan (no deployed stack needed) and asks:
 *
 * 1. identity: STS GetCallerIdentity;
 * 2. offerings: each EC2 instance type in the region and in the stack's AZs
 *    (DescribeInstanceTypeOfferings, DescribeAvailabilityZones); each SageMaker type where its
 *    endpoint-usage quota exists in the region (SageMaker has no offering API);
 * 3. quotas against the plan's peak: EC2 On-Demand and Spot vCPUs by quota code, SageMaker
 *    `<type> for endpoint usage` by name; and, where Karpenter launches spot, EC2 Spot's
 *    service-linked role (IAM GetRole);
 * 4. images: each image in the account's ECR is there (DescribeImages) or brought by the deploy;
 * 5. models: each target's model repository is in the model store (ListObjectsV2) or pushed by
 *    the deploy.
 *
 * Each finding names the API or quota, what the stack needs, what the account has, and the fix.
 * No process I/O here: scripts/preflight.ts is the command line.
 */
import { wrap } from "../offline/text";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { EC2Client } from "@aws-sdk/client-ec2";
import { ServiceQuotasClient } from "@aws-sdk/client-service-quotas";
import { ECRClient } from "@aws-sdk/client-ecr";
import { S3Client } from "@aws-sdk/client-s3";
import { IAMClient } from "@aws-sdk/client-iam";
import type { PlanReport } from "../offline/plan";
import type { StackConfig } from "../programs/config";
import { capacityFindings } from "./preflightCapacity";
import { imageFindings, modelFindings, modelTargets } from "./preflightArtifacts";
import {
  PreflightClients,
  PreflightFinding,
  PreflightOptions,
  PreflightResult,
  PreflightStatus,
  awsError,
} from "./preflightTypes";

export type {
  PreflightCheck,
  PreflightClients,
  PreflightFinding,
  PreflightOptions,
  PreflightResult,
  PreflightStackOutputs,
  PreflightStatus,
} from "./preflightTypes";
export { modelTargets } from "./preflightArtifacts";
export type { ModelTarget } from "./preflightArtifacts";

/**
 * Real SDK clients for a region. Each reads the SDK's standard settings itself: credentials
 * (environment, profile, SSO, instance role) and `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_<SERVICE>`
 * (@smithy/core 3.41 `getEndpointUrlConfig`, which the v3 clients consult when no `endpoint` is
 * given).
 */
export function preflightClients(
  region: string,
  env: NodeJS.ProcessEnv = process.env,
): PreflightClients {
  // An S3-compatible double on a host name (localhost, a container) answers path-style requests;
  // AWS's own endpoints are used virtual-hosted, as the SDK chooses.
  const customS3 = (env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL ?? "") !== "";
  return {
    sts: new STSClient({ region }),
    ec2: new EC2Client({ region }),
    quotas: new ServiceQuotasClient({ region }),
    ecr: new ECRClient({ region }),
    s3: new S3Client({ region, ...(customS3 ? { forcePathStyle: true } : {}) }),
    iam: new IAMClient({ region }),
  };
}

// ---------------------------------------------------------------------------------------------
// 1. Identity

async function checkIdentity(
  clients: PreflightClients,
): Promise<{ finding: PreflightFinding; account?: string; arn?: string }> {
  try {
    const id = await clients.sts.send(new GetCallerIdentityCommand({}));
    return {
      account: id.Account,
      arn: id.Arn,
      finding: {
        check: "identity",
        status: "ok",
        subject: "caller",
        source: "sts:GetCallerIdentity",
        has: `account ${id.Account ?? "?"} as ${id.Arn ?? "?"}`,
      },
    };
  } catch (e) {
    const { name, message } = awsError(e);
    return {
      finding: {
        check: "identity",
        status: "blocker",
        subject: "caller",
        source: "sts:GetCallerIdentity",
        needs: "AWS credentials for the account the stack deploys to",
        has: `${name}: ${message}`,
        fix: "set credentials the AWS SDK reads (AWS_PROFILE, `aws sso login`, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), then check them with `aws sts get-caller-identity`",
      },
    };
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * Runs every check for a stack's plan against the account the clients reach. Never throws for an
 * AWS answer: an API it cannot call becomes a warning naming the permission.
 */
export async function runPreflight(
  report: PlanReport,
  clients: PreflightClients,
  options: PreflightOptions = {},
): Promise<PreflightResult> {
  const region = options.region ?? report.region;
  const findings: PreflightFinding[] = [];
  if (region !== report.region)
    findings.push({
      check: "region",
      status: "warning",
      subject: region,
      source: "AWS_REGION",
      needs: `the stack deploys to ${report.region} (aws:region)`,
      has: `checking ${region}`,
      fix: `unset AWS_REGION or set it to ${report.region}`,
    });
  const identity = await checkIdentity(clients);
  findings.push(identity.finding);
  const done = (): PreflightResult => ({
    stack: report.stack,
    region,
    account: identity.account,
    arn: identity.arn,
    findings,
    blocked: findings.some((f) => f.status === "blocker"),
  });
  // Without credentials nothing else can be read.
  if (identity.finding.status === "blocker") return done();

  findings.push(...(await capacityFindings(clients, report.resources, region)));
  findings.push(...(await imageFindings(clients, report, identity.account, region, options)));
  const config = options.config ?? (await readConfig(report.stack));
  findings.push(...(await modelFindings(clients, report.stack, modelTargets(config), options)));
  return done();
}

/** The stack's configuration from Pulumi.<stack>.yaml (loaded only when not given). */
async function readConfig(stack: string): Promise<StackConfig> {
  const { readStackFile } = await import("../offline/plan");
  const { parseStackConfig } = await import("../programs/config");
  return parseStackConfig(readStackFile(stack), stack);
}

// ---------------------------------------------------------------------------------------------
// Report for people

const INDENT = " ".repeat(8);

const LABEL: Record<PreflightStatus, string> = {
  ok: "ok",
  info: "info",
  warning: "WARNING",
  blocker: "BLOCKER",
};

/** The result for people: one block per finding, blockers first, lines under 100 columns. */
/** Image digests cut to their first 12 hex digits for people (`--json` keeps them whole). */
export function shortDigests(text: string): string {
  return text.replace(/@sha256:([a-f0-9]{12})[a-f0-9]{52}/g, "@sha256:$1…");
}

export function formatPreflight(result: PreflightResult): string {
  const order: PreflightStatus[] = ["blocker", "warning", "ok", "info"];
  const sorted = [...result.findings].sort(
    (a, b) => order.indexOf(a.status) - order.indexOf(b.status),
  );
  const lines = [
    `preflight of ${result.stack} in ${result.region}${result.account ? `, account ${result.account}` : ""}`,
  ];
  for (const f of sorted) {
    lines.push(
      ...wrap(
        LABEL[f.status].padEnd(8),
        shortDigests(`${f.check}: ${f.subject} [${f.source}]`),
        99,
        INDENT,
      ),
    );
    for (const [key, value] of [
      ["needs", f.needs],
      ["has", f.has],
      ["fix", f.fix],
    ] as const)
      if (value) lines.push(...wrap(`${" ".repeat(8)}${key}: `, shortDigests(value), 99, INDENT));
  }
  const count = (s: PreflightStatus) => result.findings.filter((f) => f.status === s).length;
  lines.push(
    result.blocked
      ? `${count("blocker")} blocker(s): the account cannot take ${result.stack} as it is`
      : `no blockers (${count("warning")} warning(s)): the account can take ${result.stack}`,
  );
  return lines.join("\n");
}
