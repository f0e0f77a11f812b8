/**
 * The preflight's capacity checks: each EC2 instance type offered in the region and the stack's
 * AZs, EC2 vCPU quotas and SageMaker endpoint-usage quotas against the plan's peak.
 */
import {
  DescribeAvailabilityZonesCommand,
  paginateDescribeInstanceTypeOfferings,
} from "@aws-sdk/client-ec2";
import {
  GetAWSDefaultServiceQuotaCommand,
  GetServiceQuotaCommand,
  paginateListAWSDefaultServiceQuotas,
  paginateListServiceQuotas,
} from "@aws-sdk/client-service-quotas";
import { GetRoleCommand } from "@aws-sdk/client-iam";
import { findInstance } from "../catalog/instances";
import { ResourceRecord } from "../catalog/cost";
import { CapacityNeed, awsxAzs, capacityNeeds, stackAzCount } from "./preflightNeeds";
import {
  ec2QuotaFor,
  quotaConsoleUrl,
  quotaIncreaseCommand,
  sagemakerEndpointQuotaName,
} from "./preflightQuotas";
import {
  PreflightClients,
  PreflightFinding,
  awsError,
  unreadable,
  unreadableFix,
} from "./preflightTypes";

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
    // A type a pool may do without is reported with the pool, below.
    if (users.every((n) => n.alternatives)) continue;
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
  // A Karpenter pool needs one of its types in one of the stack's AZs.
  const pools = new Map(
    capacity.filter((n) => n.alternatives).map((n) => [n.resource, n.instanceTypes]),
  );
  for (const [pool, types] of pools) {
    const usable = types.filter((t) => zones.stack.some((z) => offered.get(t)?.has(z)));
    const needs = `one of ${types.join(", ")} in the stack's AZs ${zones.stack.join(", ")} (Karpenter node pool ${pool})`;
    findings.push(
      usable.length > 0
        ? {
            check: "offering",
            status: "ok",
            subject: pool,
            source,
            needs,
            has: `${usable.join(", ")} offered there`,
          }
        : {
            check: "offering",
            status: "blocker",
            subject: pool,
            source,
            needs,
            has: `none of them is offered in ${zones.stack.join(", ")}`,
            fix: "allow other families or sizes in the pool (llm-infra:eks.nodePools), or choose another region",
          },
    );
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
      quotaFinding(quota.value >= need.vcpus, { subject, source, needs, has }, () =>
        quotaFix(region, "ec2", code, need.vcpus),
      ),
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
      quotaFinding(quota.value >= need.count, { subject, source, needs, has }, () =>
        quota.code
          ? quotaFix(region, "sagemaker", quota.code, need.count)
          : `raise "${name}" in the Service Quotas console`,
      ),
    );
  }
  return findings;
}

/**
 * The role EC2 uses for Spot Instances, which an account has once it has onboarded to Spot: "Service
 * role name AWSServiceRoleForEC2Spot has been taken in this account" is what creating it again
 * answers (aws/karpenter-provider-aws website/content/en/v1.14/getting-started/
 * getting-started-with-karpenter/scripts/step06-add-spot-role.sh).
 */
export const SPOT_SERVICE_LINKED_ROLE = "AWSServiceRoleForEC2Spot";

/**
 * Karpenter launches spot capacity through EC2 Fleet, and its controller may not create the Spot
 * service-linked role: "Unless your AWS account has already onboarded to EC2 Spot, you will need
 * to create the service linked role to avoid `ServiceLinkedRoleCreationNotPermitted`"
 * (aws/karpenter-provider-aws website/content/en/v1.14/troubleshooting.md, "Missing Service Linked
 * Role"; the getting-started guide's step06 creates it). A clean account has none, and a pool
 * whose first capacity type is spot would launch nothing.
 */
async function spotRoleFindings(
  clients: PreflightClients,
  needs: CapacityNeed[],
): Promise<PreflightFinding[]> {
  // Karpenter's own spot launches; Auto Mode launches with the cluster role's AWS-managed policies,
  // whose need of the role is not documented (not checked: docs/provisioners.md).
  const spotPools = needs.filter(
    (n) => n.alternatives && n.market === "spot" && n.what === "Karpenter node pool",
  );
  if (spotPools.length === 0) return [];
  const base = {
    check: "spot-role" as const,
    subject: SPOT_SERVICE_LINKED_ROLE,
    source: "iam:GetRole",
    needs: `EC2 Spot's service-linked role, for Karpenter's spot launches (${spotPools.map((n) => n.resource).join(", ")})`,
  };
  try {
    await clients.iam.send(new GetRoleCommand({ RoleName: SPOT_SERVICE_LINKED_ROLE }));
    return [{ ...base, status: "ok", has: "the role exists" }];
  } catch (e) {
    if (awsError(e).name === "NoSuchEntityException" || awsError(e).name === "NoSuchEntity")
      return [
        {
          ...base,
          status: "blocker",
          has: "no such role: the account has not launched spot instances yet",
          fix: "aws iam create-service-linked-role --aws-service-name spot.amazonaws.com",
        },
      ];
    return [
      {
        ...base,
        status: "warning",
        has: unreadable("iam:GetRole", e),
        fix: unreadableFix(e, "iam:GetRole", "run the preflight again"),
      },
    ];
  }
}

/** Offerings and quotas for every instance the plan runs at its peak. */
export async function capacityFindings(
  clients: PreflightClients,
  records: ResourceRecord[],
  region: string,
): Promise<PreflightFinding[]> {
  const findings: PreflightFinding[] = [];
  const needs = capacityNeeds(records);
  const ec2Types = [
    ...new Set(needs.filter((n) => n.service === "ec2").flatMap((n) => n.instanceTypes)),
  ].sort();
  if (ec2Types.length > 0) {
    try {
      const zones = await stackZones(clients, stackAzCount(records) ?? 1);
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
  findings.push(...(await spotRoleFindings(clients, needs)));
  return findings;
}

/** A quota compared with the stack's peak: ok when it holds, else a blocker with the fix. */
function quotaFinding(
  holds: boolean,
  f: Pick<PreflightFinding, "subject" | "source" | "needs" | "has">,
  fix: () => string,
): PreflightFinding {
  return holds
    ? { check: "quota", status: "ok", ...f }
    : { check: "quota", status: "blocker", ...f, fix: fix() };
}

/** How to raise a quota: the CLI command and its page in the Service Quotas console. */
function quotaFix(region: string, service: string, code: string, desired: number): string {
  return `${quotaIncreaseCommand(region, service, code, desired)} (or ${quotaConsoleUrl(region, service, code)})`;
}
