/**
 * The preflight: read-only AWS calls that say, before a deploy, whether the account can take a
 * stack. It reads what the stack needs from its offline plan (no deployed stack needed) and asks:
 *
 * 1. identity: STS GetCallerIdentity;
 * 2. offerings: each EC2 instance type in the region and in the stack's AZs
 *    (DescribeInstanceTypeOfferings, DescribeAvailabilityZones); each SageMaker type where its
 *    endpoint-usage quota exists in the region (SageMaker has no offering API);
 * 3. quotas against the plan's peak: EC2 On-Demand and Spot vCPUs by quota code, SageMaker
 *    `<type> for endpoint usage` by name;
 * 4. images: each image in the account's ECR is there (DescribeImages) or brought by the deploy;
 * 5. models: each target's model repository is in the model store (ListObjectsV2) or pushed by
 *    the deploy.
 *
 * Each finding names the API or quota, what the stack needs, what the account has, and the fix.
 * No process I/O here: scripts/preflight.ts is the command line.
 */
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import {
  DescribeAvailabilityZonesCommand,
  EC2Client,
  paginateDescribeInstanceTypeOfferings,
} from "@aws-sdk/client-ec2";
import {
  GetAWSDefaultServiceQuotaCommand,
  GetServiceQuotaCommand,
  ServiceQuotasClient,
  paginateListAWSDefaultServiceQuotas,
  paginateListServiceQuotas,
} from "@aws-sdk/client-service-quotas";
import { DescribeImagesCommand, ECRClient } from "@aws-sdk/client-ecr";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { findInstance } from "../catalog/instances";
import { DLC_ACCOUNTS } from "../catalog/images";
import { MOCK_ACCOUNT_ID } from "../offline/mocks";
import type { PlanReport } from "../offline/plan";
import type { StackConfig } from "../programs/config";
import { stackTargets } from "../modelRepository/targets";
import {
  CapacityNeed,
  StackImage,
  awsxAzs,
  capacityNeeds,
  parseEcrImage,
  stackAzCount,
  stackImages,
} from "./preflightNeeds";
import {
  ec2QuotaFor,
  quotaConsoleUrl,
  quotaIncreaseCommand,
  sagemakerEndpointQuotaName,
} from "./preflightQuotas";

/** The SDK clients the preflight calls, all in the region it checks. */
export interface PreflightClients {
  sts: STSClient;
  ec2: EC2Client;
  quotas: ServiceQuotasClient;
  ecr: ECRClient;
  s3: S3Client;
}

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
  };
}

export type PreflightCheck = "identity" | "region" | "offering" | "quota" | "image" | "model";

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
function awsError(e: unknown): { name: string; message: string } {
  const err = e as { name?: string; message?: string; Code?: string };
  // The first line: SDK messages can add lines of advice for developers.
  const message = (err.message ?? String(e)).split("\n")[0].trim();
  return { name: err.name ?? err.Code ?? "Error", message };
}

/** What an API the preflight could not call answered. */
function unreadable(action: string, e: unknown): string {
  const { name, message } = awsError(e);
  return `could not call ${action}: ${name}: ${message}`;
}

/** The fix for an API that could not be called: the permission when it was refused. */
function unreadableFix(e: unknown, permissions: string, otherwise: string): string {
  return /AccessDenied|UnauthorizedOperation/.test(awsError(e).name)
    ? `grant ${permissions} to the caller`
    : otherwise;
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
// 2. Offerings and 3. quotas: EC2

/** The AZs of the region (DescribeAvailabilityZones, as awsx reads them) and those the stack uses. */
async function stackZones(
  clients: PreflightClients,
  count: number,
): Promise<{ region: string[]; stack: string[] }> {
  const r = await clients.ec2.send(new DescribeAvailabilityZonesCommand({}));
  const names = (r.AvailabilityZones ?? [])
    .map((z) => z.ZoneName)
    .filter((n): n is string => typeof n === "string");
  return { region: names, stack: awsxAzs(names, count) };
}

/** The AZs each instance type is offered in (DescribeInstanceTypeOfferings, by availability zone). */
async function offeredZones(
  clients: PreflightClients,
  types: string[],
): Promise<Map<string, Set<string>>> {
  const zones = new Map<string, Set<string>>(types.map((t) => [t, new Set<string>()]));
  const pages = paginateDescribeInstanceTypeOfferings(
    { client: clients.ec2 },
    {
      LocationType: "availability-zone",
      Filters: [{ Name: "instance-type", Values: types }],
    },
  );
  for await (const page of pages)
    for (const o of page.InstanceTypeOfferings ?? [])
      if (o.InstanceType && o.Location) zones.get(o.InstanceType)?.add(o.Location);
  return zones;
}

function offeringFindings(
  capacity: CapacityNeed[],
  offered: Map<string, Set<string>>,
  zones: { region: string[]; stack: string[] },
  region: string,
): PreflightFinding[] {
  const findings: PreflightFinding[] = [];
  const source = "ec2:DescribeInstanceTypeOfferings";
  for (const type of [...offered.keys()].sort()) {
    const inRegion = offered.get(type) ?? new Set();
    const users = capacity.filter((n) => n.instanceTypes.includes(type));
    const everyAz = users.some((n) => n.needsEveryAz);
    const inStack = zones.stack.filter((z) => inRegion.has(z));
    const missing = zones.stack.filter((z) => !inRegion.has(z));
    const who = users.map((n) => `${n.what} ${n.resource}`).join(", ");
    const needs = `${type} in ${everyAz ? "every one" : "at least one"} of the stack's AZs ${zones.stack.join(", ")} (${who})`;
    const has =
      inRegion.size === 0
        ? `not offered in ${region}`
        : `offered in ${[...inRegion].sort().join(", ")}`;
    if (inRegion.size === 0 || inStack.length === 0) {
      findings.push({
        check: "offering",
        status: "blocker",
        subject: type,
        source,
        needs,
        has,
        fix:
          inRegion.size === 0
            ? `choose an instance type offered in ${region}, or another region (aws:region)`
            : `choose another instance type, or a region whose first AZs offer ${type}`,
      });
    } else if (missing.length > 0) {
      findings.push({
        check: "offering",
        status: everyAz ? "blocker" : "warning",
        subject: type,
        source,
        needs,
        has,
        fix: everyAz
          ? `EKS refuses a node group whose subnets are in ${missing.join(", ")}: choose an instance type offered in every AZ, fewer AZs (llm-infra:network.azCount), or another region`
          : `instances launch only in ${inStack.join(", ")}; choose a type offered in every AZ for spread`,
      });
    } else {
      findings.push({ check: "offering", status: "ok", subject: type, source, needs, has });
    }
  }
  return findings;
}

/** A quota's value: the applied value, else AWS's default (GetServiceQuota, GetAWSDefaultServiceQuota). */
async function ec2QuotaValue(
  clients: PreflightClients,
  code: string,
): Promise<{ value: number; name?: string; applied: boolean }> {
  try {
    const r = await clients.quotas.send(
      new GetServiceQuotaCommand({ ServiceCode: "ec2", QuotaCode: code }),
    );
    return { value: r.Quota?.Value ?? 0, name: r.Quota?.QuotaName, applied: true };
  } catch (e) {
    // "If the applied quota value is not available for a quota, the quota is not retrieved"
    // (Service Quotas API reference, GetServiceQuota / ListServiceQuotas): read the default.
    if (awsError(e).name !== "NoSuchResourceException") throw e;
    const r = await clients.quotas.send(
      new GetAWSDefaultServiceQuotaCommand({ ServiceCode: "ec2", QuotaCode: code }),
    );
    return { value: r.Quota?.Value ?? 0, name: r.Quota?.QuotaName, applied: false };
  }
}

/** vCPUs of the largest of a group's types (a mixed group may launch any of them). */
function vcpusOf(types: string[]): number | undefined {
  const counts = types.map((t) => findInstance(t)?.vcpus);
  return counts.some((c) => c === undefined) ? undefined : Math.max(...(counts as number[]));
}

async function ec2QuotaFindings(
  clients: PreflightClients,
  needs: CapacityNeed[],
  region: string,
): Promise<PreflightFinding[]> {
  const findings: PreflightFinding[] = [];
  const byQuota = new Map<string, { name: string; vcpus: number; parts: string[] }>();
  for (const n of needs.filter((x) => x.service === "ec2")) {
    const vcpus = vcpusOf(n.instanceTypes);
    const quota = ec2QuotaFor(n.instanceTypes[0], n.market);
    if (vcpus === undefined || quota === undefined) {
      findings.push({
        check: "quota",
        status: "warning",
        subject: n.instanceTypes.join(", "),
        source: "catalog/instances.ts",
        needs: `${n.peak} x ${n.instanceTypes.join(" or ")} ${n.market} (${n.what} ${n.resource})`,
        has:
          vcpus === undefined
            ? "vCPUs unknown: the type is not in catalog/instances.ts"
            : "no EC2 vCPU quota known for this family",
        fix: "check the family's EC2 vCPU quota in the Service Quotas console",
      });
      continue;
    }
    const entry = byQuota.get(quota.code) ?? { name: quota.name, vcpus: 0, parts: [] };
    entry.vcpus += n.peak * vcpus;
    entry.parts.push(`${n.resource} ${n.peak} x ${n.instanceTypes.join("|")} (${vcpus} vCPUs)`);
    byQuota.set(quota.code, entry);
  }
  for (const [code, need] of byQuota) {
    const source = `servicequotas ec2 ${code}`;
    const subject = `${code} ${need.name}`;
    const needs = `${need.vcpus} vCPUs at peak: ${need.parts.join(", ")}`;
    let quota: { value: number; name?: string; applied: boolean };
    try {
      quota = await ec2QuotaValue(clients, code);
    } catch (e) {
      findings.push({
        check: "quota",
        status: "warning",
        subject,
        source,
        needs,
        has: unreadable("servicequotas:GetServiceQuota", e),
        fix: unreadableFix(
          e,
          "servicequotas:GetServiceQuota and servicequotas:GetAWSDefaultServiceQuota",
          `read it at ${quotaConsoleUrl(region, "ec2", code)}`,
        ),
      });
      continue;
    }
    const has = `${quota.value} vCPUs (${quota.applied ? "applied" : "AWS default"}${quota.name && quota.name !== need.name ? `, "${quota.name}"` : ""})`;
    findings.push(
      quota.value >= need.vcpus
        ? { check: "quota", status: "ok", subject, source, needs, has }
        : {
            check: "quota",
            status: "blocker",
            subject,
            source,
            needs,
            has,
            fix: `${quotaIncreaseCommand(region, "ec2", code, need.vcpus)} (or ${quotaConsoleUrl(region, "ec2", code)})`,
          },
    );
  }
  return findings;
}

// ---------------------------------------------------------------------------------------------
// 2. and 3. SageMaker: the endpoint-usage quota is both the offering and the quota.

interface SageMakerQuota {
  code?: string;
  value: number;
  applied: boolean;
}

/** Every SageMaker quota by name: applied values first, AWS defaults for the rest (paginated). */
async function sagemakerQuotas(clients: PreflightClients): Promise<Map<string, SageMakerQuota>> {
  const quotas = new Map<string, SageMakerQuota>();
  for await (const page of paginateListServiceQuotas(
    { client: clients.quotas },
    { ServiceCode: "sagemaker" },
  ))
    for (const q of page.Quotas ?? [])
      if (q.QuotaName)
        quotas.set(q.QuotaName, { code: q.QuotaCode, value: q.Value ?? 0, applied: true });
  for await (const page of paginateListAWSDefaultServiceQuotas(
    { client: clients.quotas },
    { ServiceCode: "sagemaker" },
  ))
    for (const q of page.Quotas ?? [])
      if (q.QuotaName && !quotas.has(q.QuotaName))
        quotas.set(q.QuotaName, { code: q.QuotaCode, value: q.Value ?? 0, applied: false });
  return quotas;
}

async function sagemakerFindings(
  clients: PreflightClients,
  needs: CapacityNeed[],
  region: string,
): Promise<PreflightFinding[]> {
  const byType = new Map<string, { count: number; parts: string[] }>();
  for (const n of needs.filter((x) => x.service === "sagemaker")) {
    const entry = byType.get(n.instanceTypes[0]) ?? { count: 0, parts: [] };
    entry.count += n.peak;
    entry.parts.push(`${n.resource} ${n.what.replace("SageMaker ", "")} up to ${n.peak}`);
    byType.set(n.instanceTypes[0], entry);
  }
  if (byType.size === 0) return [];
  let quotas: Map<string, SageMakerQuota>;
  try {
    quotas = await sagemakerQuotas(clients);
  } catch (e) {
    return [...byType.keys()].map((type) => ({
      check: "quota" as const,
      status: "warning" as const,
      subject: sagemakerEndpointQuotaName(type),
      source: "servicequotas:ListServiceQuotas sagemaker",
      has: unreadable("servicequotas:ListServiceQuotas", e),
      fix: unreadableFix(
        e,
        "servicequotas:ListServiceQuotas and servicequotas:ListAWSDefaultServiceQuotas",
        `read "${sagemakerEndpointQuotaName(type)}" in the Service Quotas console`,
      ),
    }));
  }
  const findings: PreflightFinding[] = [];
  for (const [type, need] of [...byType].sort(([a], [b]) => a.localeCompare(b))) {
    const name = sagemakerEndpointQuotaName(type);
    const quota = quotas.get(name);
    const needs = `${need.count} instance(s) at peak: ${need.parts.join(", ")}`;
    if (!quota) {
      findings.push({
        check: "offering",
        status: "blocker",
        subject: type,
        source: "servicequotas:ListAWSDefaultServiceQuotas sagemaker",
        needs: `${type} for SageMaker hosting in ${region}`,
        has: `no quota named "${name}" in ${region}: SageMaker does not offer ${type} for endpoints here`,
        fix: `choose a SageMaker instance type offered in ${region}, or another region`,
      });
      continue;
    }
    const source = `servicequotas sagemaker ${quota.code ?? "?"}`;
    const subject = `${quota.code ?? "?"} ${name}`;
    const has = `${quota.value} instance(s) (${quota.applied ? "applied" : "AWS default"})`;
    findings.push(
      quota.value >= need.count
        ? { check: "quota", status: "ok", subject, source, needs, has }
        : {
            check: "quota",
            status: "blocker",
            subject,
            source,
            needs,
            has,
            fix: quota.code
              ? `${quotaIncreaseCommand(region, "sagemaker", quota.code, need.count)} (or ${quotaConsoleUrl(region, "sagemaker", quota.code)})`
              : `raise "${name}" in the Service Quotas console`,
          },
    );
  }
  return findings;
}

// ---------------------------------------------------------------------------------------------
// 4. Images

const AWS_REGISTRY_ACCOUNTS = new Set(Object.values(DLC_ACCOUNTS));

/**
 * The short name (the `registryUrls` key) of a repository the stack creates, from the plan's
 * repository resource: ModelRegistry names each `${name}-${short with / . _ as -}`.
 */
function shortNameOf(
  planRepository: { name: string; parent?: string | null },
  registryUrls: Record<string, string>,
): string | undefined {
  return Object.keys(registryUrls).find(
    (k) => `${planRepository.parent ?? ""}-${k.replace(/[/._]/g, "-")}` === planRepository.name,
  );
}

async function imageInEcr(
  clients: PreflightClients,
  account: string,
  repository: string,
  tag: string | undefined,
  digest: string | undefined,
): Promise<"present" | "no-image" | "no-repository"> {
  try {
    const r = await clients.ecr.send(
      new DescribeImagesCommand({
        registryId: account,
        repositoryName: repository,
        imageIds: [digest ? { imageDigest: digest } : { imageTag: tag ?? "latest" }],
      }),
    );
    return (r.imageDetails ?? []).length > 0 ? "present" : "no-image";
  } catch (e) {
    const { name } = awsError(e);
    if (name === "ImageNotFoundException") return "no-image";
    if (name === "RepositoryNotFoundException") return "no-repository";
    throw e;
  }
}

async function imageFindings(
  clients: PreflightClients,
  report: PlanReport,
  account: string | undefined,
  region: string,
  options: PreflightOptions,
): Promise<PreflightFinding[]> {
  const planRepos = report.resources.filter((r) => r.type === "aws:ecr/repository:Repository");
  const brings = (uri: string) => options.deployBrings?.image?.(uri) === true;
  const byUri = new Map<string, StackImage[]>();
  for (const image of stackImages(report.resources))
    byUri.set(image.uri, [...(byUri.get(image.uri) ?? []), image]);
  const findings: PreflightFinding[] = [];
  for (const [uri, users] of byUri) {
    const usedBy = users.map((u) => `${u.usedBy} (${u.where})`).join(", ");
    const base = { check: "image" as const, subject: uri, needs: `run by ${usedBy}` };
    const ecr = parseEcrImage(uri);
    if (!ecr) {
      findings.push({
        ...base,
        status: "info",
        source: "not ECR",
        has: `pulled from ${uri.split("/")[0]} when it runs; not checked here`,
      });
      continue;
    }
    if (AWS_REGISTRY_ACCOUNTS.has(ecr.account)) {
      findings.push({
        ...base,
        status: "info",
        source: "catalog/images.ts DLC_ACCOUNTS",
        has: `published by AWS (Deep Learning Containers account ${ecr.account}); not checked`,
      });
      continue;
    }
    if (ecr.region !== region) {
      findings.push({
        ...base,
        status: "warning",
        source: "ecr:DescribeImages",
        has: `in ${ecr.region}; the preflight reads ECR in ${region}: not checked`,
        fix: `run the preflight with AWS_REGION=${ecr.region} to check it`,
      });
      continue;
    }
    // The plan writes the stack's own account as the mocks' account; the real one is the caller's.
    const inStackAccount = ecr.account === MOCK_ACCOUNT_ID;
    const targetAccount = inStackAccount ? account : ecr.account;
    const planRepo = inStackAccount ? planRepos.find((r) => r.id === ecr.repository) : undefined;
    let repository = ecr.repository;
    if (planRepo) {
      // A repository the stack creates: its real name is in the stack's outputs once deployed.
      const short = options.outputs?.registryUrls
        ? shortNameOf(planRepo, options.outputs.registryUrls)
        : undefined;
      const real = short ? parseEcrImage(`${options.outputs!.registryUrls![short]}:x`) : undefined;
      if (!real) {
        findings.push(
          brings(uri)
            ? {
                ...base,
                status: "ok",
                source: "deploy image step",
                has: `the foundation step creates the repository (${planRepo.name}); the image step brings the image`,
              }
            : {
                ...base,
                status: "blocker",
                source: "deploy image step",
                has: `the foundation step creates the repository (${planRepo.name}), but nothing puts this image in it`,
                fix: `push ${ecr.tag ?? ecr.digest ?? "the image"} to the ${planRepo.name} repository after the foundation step, or let the deploy bring it`,
              },
        );
        continue;
      }
      repository = real.repository;
    }
    const source = "ecr:DescribeImages";
    let state: "present" | "no-image" | "no-repository";
    try {
      state = await imageInEcr(
        clients,
        targetAccount ?? ecr.account,
        repository,
        ecr.tag,
        ecr.digest,
      );
    } catch (e) {
      findings.push({
        ...base,
        status: "warning",
        source,
        has: unreadable("ecr:DescribeImages", e),
        fix: unreadableFix(e, "ecr:DescribeImages on the repository", "run the preflight again"),
      });
      continue;
    }
    const where = `${repository}${ecr.digest ? `@${ecr.digest}` : `:${ecr.tag ?? "latest"}`} in account ${targetAccount ?? ecr.account}`;
    if (state === "present")
      findings.push({ ...base, status: "ok", source, has: `${where} is present` });
    else if (brings(uri))
      findings.push({
        ...base,
        status: "ok",
        source,
        has: `${where} is missing; the deploy's image step brings it`,
      });
    else
      findings.push({
        ...base,
        status: "blocker",
        source,
        has: state === "no-repository" ? `no repository ${repository}` : `${where} is missing`,
        fix: "push the image (or let the deploy's image step bring it) before the resources that run it",
      });
  }
  return findings;
}

// ---------------------------------------------------------------------------------------------
// 5. Models

/** A serving target and the `config.pbtxt` that must be in the store for it to serve. */
export interface ModelTarget {
  /** `endpoint chat`, `triton`, `fleet` (modelRepository/targets.ts labels). */
  name: string;
  /** The store prefix the target reads, without a trailing slash. */
  prefix: string;
  /** The model Triton serves by default (SAGEMAKER_TRITON_DEFAULT_MODEL_NAME), when the target names one. */
  defaultModel?: string;
}

/** The stack's serving targets and their default models, from its configuration. */
export function modelTargets(config: StackConfig): ModelTarget[] {
  return stackTargets(config).map((t) => {
    const endpoint =
      t.kind === "endpoint"
        ? config.sagemaker.endpoints.find((e) => `endpoint ${e.name}` === t.label)
        : undefined;
    return { name: t.label, prefix: t.prefix, defaultModel: endpoint?.tritonModelName };
  });
}

/** Whether the store holds the target's model (`<prefix>/<model>/config.pbtxt`), or any model. */
async function modelInStore(
  clients: PreflightClients,
  bucket: string,
  target: ModelTarget,
): Promise<{ present: boolean; looked: string }> {
  const looked = target.defaultModel
    ? `${target.prefix}/${target.defaultModel}/config.pbtxt`
    : `${target.prefix}/*/config.pbtxt`;
  const r = await clients.s3.send(
    new ListObjectsV2Command({
      Bucket: bucket,
      Prefix: target.defaultModel ? looked : `${target.prefix}/`,
      ...(target.defaultModel ? { MaxKeys: 1 } : {}),
    }),
  );
  const depth = new RegExp(
    `^${target.prefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/[^/]+/config\\.pbtxt$`,
  );
  const present = (r.Contents ?? []).some((o) =>
    target.defaultModel ? o.Key === looked : depth.test(o.Key ?? ""),
  );
  return { present, looked };
}

async function modelFindings(
  clients: PreflightClients,
  stack: string,
  targets: ModelTarget[],
  options: PreflightOptions,
): Promise<PreflightFinding[]> {
  const bucket = options.outputs?.modelBucketName;
  const pushed = (t: ModelTarget) => options.deployBrings?.model?.(t.name) === true;
  const findings: PreflightFinding[] = [];
  for (const t of targets) {
    const needs = t.defaultModel
      ? `${t.prefix}/${t.defaultModel}/config.pbtxt (its default model ${t.defaultModel})`
      : `a model under ${t.prefix}/ (<model>/config.pbtxt)`;
    const base = { check: "model" as const, subject: t.name, needs };
    const choice = t.name.startsWith("endpoint ") ? `endpoint ${t.name.slice(9)}` : t.name;
    const push = `npm run model -- push --stack ${stack} --${choice} --bucket ${bucket ?? "<modelBucketName>"} <model repository>`;
    if (!bucket) {
      findings.push(
        pushed(t)
          ? {
              ...base,
              status: "ok",
              source: "deploy model step",
              has: "the foundation step creates the model store; the model step pushes the repository",
            }
          : {
              ...base,
              status: "blocker",
              source: "deploy model step",
              has: "the foundation step creates the model store, but nothing pushes this repository",
              fix: `let the deploy's model step push it, or run ${push} after the foundation step`,
            },
      );
      continue;
    }
    const source = "s3:ListObjectsV2";
    try {
      const { present, looked } = await modelInStore(clients, bucket, t);
      if (present)
        findings.push({
          ...base,
          status: "ok",
          source,
          has: `s3://${bucket}/${looked} is present`,
        });
      else if (pushed(t))
        findings.push({
          ...base,
          status: "ok",
          source,
          has: `not in s3://${bucket} yet; the deploy's model step pushes it`,
        });
      else
        findings.push({
          ...base,
          status: "blocker",
          source,
          has: `s3://${bucket}/${looked} is missing`,
          fix: `run ${push}`,
        });
    } catch (e) {
      const err = awsError(e);
      findings.push({
        ...base,
        status: err.name === "NoSuchBucket" ? "blocker" : "warning",
        source,
        has: err.name === "NoSuchBucket" ? `no bucket ${bucket}` : unreadable("s3:ListBucket", e),
        fix:
          err.name === "NoSuchBucket"
            ? "the stack's model bucket is gone: run the deploy's foundation step again"
            : unreadableFix(e, `s3:ListBucket on ${bucket}`, "run the preflight again"),
      });
    }
  }
  return findings;
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

  const needs = capacityNeeds(report.resources);
  const ec2Types = [
    ...new Set(needs.filter((n) => n.service === "ec2").flatMap((n) => n.instanceTypes)),
  ].sort();
  if (ec2Types.length > 0) {
    try {
      const zones = await stackZones(clients, stackAzCount(report.resources) ?? 1);
      findings.push(
        ...offeringFindings(needs, await offeredZones(clients, ec2Types), zones, region),
      );
    } catch (e) {
      findings.push({
        check: "offering",
        status: "warning",
        subject: ec2Types.join(", "),
        source: "ec2:DescribeInstanceTypeOfferings",
        has: unreadable("ec2:DescribeAvailabilityZones / DescribeInstanceTypeOfferings", e),
        fix: unreadableFix(
          e,
          "ec2:DescribeAvailabilityZones and ec2:DescribeInstanceTypeOfferings",
          "run the preflight again",
        ),
      });
    }
  }
  findings.push(...(await ec2QuotaFindings(clients, needs, region)));
  findings.push(...(await sagemakerFindings(clients, needs, region)));
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

/**
 * `first` then `text` word-wrapped to `width` columns, continuation lines indented by `indent`; a
 * word longer than a line (a URL) stands on a line of its own.
 */
function wrap(first: string, text: string, width: number, indent: string): string[] {
  const lines: string[] = [];
  let line = first;
  let empty = true;
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    if (!empty && line.length + 1 + word.length > width) {
      lines.push(line);
      line = indent + word;
    } else line = empty ? `${line}${word}` : `${line} ${word}`;
    empty = false;
  }
  lines.push(line);
  return lines;
}

/** The result for people: one block per finding, blockers first, lines under 100 columns. */
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
      ...wrap(LABEL[f.status].padEnd(8), `${f.check}: ${f.subject} [${f.source}]`, 99, INDENT),
    );
    for (const [key, value] of [
      ["needs", f.needs],
      ["has", f.has],
      ["fix", f.fix],
    ] as const)
      if (value) lines.push(...wrap(`${" ".repeat(8)}${key}: `, value, 99, INDENT));
  }
  const count = (s: PreflightStatus) => result.findings.filter((f) => f.status === s).length;
  lines.push(
    result.blocked
      ? `${count("blocker")} blocker(s): the account cannot take ${result.stack} as it is`
      : `no blockers (${count("warning")} warning(s)): the account can take ${result.stack}`,
  );
  return lines.join("\n");
}
