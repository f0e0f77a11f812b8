/**
 * The Service Quotas a stack's instances draw on.
 *
 * EC2 counts running instances in vCPUs, per instance-family class and per market: the quota
 * names are the ones the EC2 User Guide lists ("Spot Instance quotas",
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/using-spot-limits.html: "All G and VT Spot
 * Instance Requests", "All Inf Spot Instance Requests", "All P Spot Instance Requests", "All
 * Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests", "All Trn Spot Instance Requests",
 * and the "Running On-Demand ... instances" counterparts). The codes are the Service Quotas
 * console's, read from two copies of it: meadowrun's `aws_integration/quotas.py` ("data manually
 * copied from https://us-east-2.console.aws.amazon.com/servicequotas/home/services/ec2/quotas")
 * and a ListAWSDefaultServiceQuotas dump of service code `ec2` on GitHub, which also shows P5 spot
 * apart from P4, P3 and P2 ("All P5 Spot Instance Requests | L-C4BD4855", "All P4, P3 and P2 Spot
 * Instance Requests | L-7212CCBC"). The preflight prints the name Service Quotas returns for each
 * code, so a code that named another quota would show.
 *
 * SageMaker counts instances per type, one quota per type named `<type> for endpoint usage` (for
 * example `ml.g5.xlarge for endpoint usage`, code L-1928E07B); the codes differ per type, so the
 * preflight finds them by name.
 */

export type Market = "on-demand" | "spot";

export interface Ec2Quota {
  code: string;
  name: string;
}

const Q = (code: string, name: string): Ec2Quota => ({ code, name });

const ON_DEMAND = {
  standard: Q("L-1216C47A", "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances"),
  g: Q("L-DB2E81BA", "Running On-Demand G and VT instances"),
  p: Q("L-417A185B", "Running On-Demand P instances"),
  inf: Q("L-1945791B", "Running On-Demand Inf instances"),
  trn: Q("L-2C3B7624", "Running On-Demand Trn instances"),
};

const SPOT = {
  standard: Q("L-34B43A08", "All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests"),
  g: Q("L-3819A6DF", "All G and VT Spot Instance Requests"),
  p: Q("L-7212CCBC", "All P4, P3 and P2 Spot Instance Requests"),
  p5: Q("L-C4BD4855", "All P5 Spot Instance Requests"),
  inf: Q("L-B5D1601B", "All Inf Spot Instance Requests"),
  trn: Q("L-6B0D517C", "All Trn Spot Instance Requests"),
};

/** The family of an EC2 instance type: `g5.xlarge` -> `g5`, `ml.p4d.24xlarge` -> `p4d`. */
export function instanceFamily(instanceType: string): string {
  return instanceType.replace(/^ml\./, "").split(".")[0];
}

/**
 * The vCPU quota an EC2 instance type draws on in a market, or undefined for a class this table
 * does not know (the preflight says so rather than guess).
 */
export function ec2QuotaFor(instanceType: string, market: Market): Ec2Quota | undefined {
  const family = instanceFamily(instanceType);
  const table = market === "spot" ? SPOT : ON_DEMAND;
  if (/^(g|vt)\d/.test(family)) return table.g;
  if (/^p5/.test(family)) return market === "spot" ? SPOT.p5 : ON_DEMAND.p;
  if (/^p\d/.test(family)) return table.p;
  if (/^inf\d/.test(family)) return table.inf;
  if (/^trn\d/.test(family)) return table.trn;
  if (/^[acdhimrtz]\d/.test(family)) return table.standard;
  return undefined;
}

/** The SageMaker quota of a hosting instance type: `ml.g5.xlarge for endpoint usage`. */
export function sagemakerEndpointQuotaName(instanceType: string): string {
  return `${instanceType} for endpoint usage`;
}

/** Where a person raises a quota: the Service Quotas console page of the quota, in the region. */
export function quotaConsoleUrl(region: string, serviceCode: string, quotaCode: string): string {
  return `https://${region}.console.aws.amazon.com/servicequotas/home/services/${serviceCode}/quotas/${quotaCode}`;
}

/** The CLI command that asks for a quota of `desired` (AWS CLI `service-quotas`). */
export function quotaIncreaseCommand(
  region: string,
  serviceCode: string,
  quotaCode: string,
  desired: number,
): string {
  return `aws service-quotas request-service-quota-increase --region ${region} --service-code ${serviceCode} --quota-code ${quotaCode} --desired-value ${desired}`;
}
