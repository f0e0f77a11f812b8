/**
 * The reachability check: the deployer reaches each EKS cluster's API when the stack deploys
 * Kubernetes objects into it, and whatever runs in the private subnets of a VPC without NAT
 * gateways reaches the AWS APIs it calls, through interface endpoints (and S3 through its gateway
 * endpoint).
 *
 * The deployer's ways in (https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html):
 * the public endpoint open to listed CIDRs, or the private endpoint with an HTTPS (443) ingress
 * rule on the cluster security group (the rules GpuCluster creates beside the cluster). What the
 * stack's own software calls is the table in catalog/privateEndpoints.ts, each row cited, keyed by
 * what the plan shows (node groups, Helm releases, EKS add-ons, Pod Identity, managed policies,
 * SageMaker models in the VPC); each missing endpoint is one finding naming what needs it.
 * An AMP managed collector reaches its cluster's pods (collectorUnreachable).
 */
import { CapturedResource } from "./resource";
import {
  PlanMatch,
  PRIVATE_ENDPOINT_NEEDS,
  PrivateEndpointNeed,
} from "../catalog/privateEndpoints";
import { Finding } from "./finding";
import { arr, obj } from "./inputs";
import { DEPLOYER_ACCESS_TAG } from "../components/eks/gpuCluster";

const CHECK = "reachability";

/** Kubernetes objects the deployer creates through the API (providers are `pulumi:providers:`). */
const deploysKubernetes = (resources: CapturedResource[]) =>
  resources.some((r) => r.type.startsWith("kubernetes:"));

/** Whether IPv4 CIDR `inner` lies inside `outer`. */
export function cidrWithin(inner: string, outer: string): boolean {
  const parse = (c: string) => {
    const [ip, bits] = c.split("/");
    const n = ip.split(".").reduce((a, o) => a * 256 + Number(o), 0);
    return { n, bits: Number(bits) };
  };
  const a = parse(inner);
  const b = parse(outer);
  if (a.bits < b.bits) return false;
  const block = 2 ** (32 - b.bits);
  return Math.floor(a.n / block) === Math.floor(b.n / block);
}

/** The CIDRs of the VPCs this same stack creates (InferenceVpc's awsx VPC). */
function stackVpcCidrs(resources: CapturedResource[]): string[] {
  return resources
    .filter((r) => r.type === "awsx:ec2:Vpc")
    .map((r) => String(r.inputs.cidrBlock ?? "10.0.0.0/16"));
}

/** Whether the deploy admits its own address to this cluster while it runs (GpuCluster deployerAccess). */
const deployAdmitsDeployer = (cluster: CapturedResource) =>
  obj(cluster.inputs.tags)[DEPLOYER_ACCESS_TAG.key] === DEPLOYER_ACCESS_TAG.value;

/** Why the deployer cannot reach the cluster's API, or undefined. */
function apiUnreachable(
  cluster: CapturedResource,
  resources: CapturedResource[],
): string | undefined {
  const publicCidrs = arr(cluster.inputs.publicAccessCidrs).map(String);
  if (cluster.inputs.endpointPublicAccess === true && publicCidrs.length > 0) return undefined;
  if (
    cluster.inputs.endpointPublicAccess === true &&
    cluster.inputs.publicAccessCidrs === undefined
  )
    return undefined; // public to everyone: reachable (the security policies flag it)
  if (cluster.inputs.endpointPrivateAccess !== true)
    return "neither the public nor the private endpoint is on";
  if (deployAdmitsDeployer(cluster)) return undefined;
  const rules = resources.filter(
    (r) =>
      r.type === "aws:ec2/securityGroupRule:SecurityGroupRule" &&
      r.parent === cluster.parent &&
      r.inputs.type === "ingress" &&
      Number(r.inputs.fromPort) <= 443 &&
      Number(r.inputs.toPort) >= 443,
  );
  if (rules.length === 0)
    return "its API endpoint is private and no security group rule admits a deployer on 443, so every Kubernetes object would time out; set llm-infra:eks.deployerAccess: deployerAddress (npm run deploy admits its own address while it deploys), list publicAccessCidrs, or privateAccessCidrs / privateAccessSecurityGroupIds for a deployer inside the VPC";
  // A rule from a security group admits a runner that exists already (the group is given by id).
  // Rules whose CIDRs all lie inside a VPC this same stack creates admit nobody on the first
  // deploy: nothing runs in that VPC before the deploy creates it.
  const vpcCidrs = stackVpcCidrs(resources);
  const insideOnly = rules.every(
    (r) =>
      r.inputs.sourceSecurityGroupId === undefined &&
      arr(r.inputs.cidrBlocks).length > 0 &&
      arr(r.inputs.cidrBlocks).every((c) => vpcCidrs.some((v) => cidrWithin(String(c), v))),
  );
  if (!insideOnly) return undefined;
  return `its API endpoint is private and admits only ${[...new Set(rules.flatMap((r) => arr(r.inputs.cidrBlocks).map(String)))].join(", ")}, inside the VPC this same deploy creates (${vpcCidrs.join(", ")}): nothing runs there before the first deploy, so every Kubernetes object would time out; set llm-infra:eks.deployerAccess: deployerAddress (npm run deploy admits its own address while it deploys), list the deployer's publicAccessCidrs, or privateAccessSecurityGroupIds of a runner that already exists`;
}

/** Interface endpoint services and whether an S3 gateway endpoint exists, for a VPC. */
function endpointsOf(vpc: CapturedResource, resources: CapturedResource[]) {
  const services = resources
    .filter((r) => r.type === "aws:ec2/vpcEndpoint:VpcEndpoint" && r.parent === vpc.parent)
    .map((r) => String(r.inputs.serviceName ?? ""));
  const specs = arr(vpc.inputs.vpcEndpointSpecs).map(obj);
  const s3Gateway =
    specs.some((s) => /\.s3$/.test(String(s.serviceName)) && s.vpcEndpointType === "Gateway") ||
    services.some((s) => /\.s3$/.test(s));
  const has = (service: string) => services.some((s) => s.endsWith(`.${service}`));
  return { has, s3Gateway };
}

const HELM_RELEASE = "kubernetes:helm.sh/v3:Release";
const EKS_ADDON = "aws:eks/addon:Addon";

/** The chart's name of a Helm release: the last path segment of a local chart. */
const chartName = (r: CapturedResource) =>
  String(r.inputs.chart ?? "")
    .replace(/\/+$/, "")
    .split("/")
    .pop();

/** The value at a dotted path of a release's values. */
const valueAt = (values: unknown, path: string): unknown =>
  path.split(".").reduce<unknown>((v, key) => obj(v)[key], values);

/** Whether the plan shows the piece of the stack a table row is about. */
export function planShows(match: PlanMatch, resources: CapturedResource[]): boolean {
  switch (match.kind) {
    case "resource":
      return resources.some((r) => r.type === match.type);
    case "helmChart":
      return resources.some(
        (r) =>
          r.type === HELM_RELEASE &&
          chartName(r) === match.chart &&
          (match.value === undefined ||
            valueAt(r.inputs.values, match.value.path) === match.value.equals),
      );
    case "eksAddon":
      return resources.some((r) => r.type === EKS_ADDON && r.inputs.addonName === match.addonName);
    case "podIdentity":
      return resources.some(
        (r) =>
          r.type === "aws:eks/podIdentityAssociation:PodIdentityAssociation" ||
          (r.type === EKS_ADDON && arr(r.inputs.podIdentityAssociations).length > 0),
      );
    case "managedPolicy":
      return resources.some(
        (r) =>
          (r.type === "aws:iam/rolePolicyAttachment:RolePolicyAttachment" &&
            r.inputs.policyArn === match.policyArn) ||
          (r.type === "aws:iam/role:Role" &&
            arr(r.inputs.managedPolicyArns).includes(match.policyArn)),
      );
    case "sageMakerModelInVpc":
      return resources.some(
        (r) =>
          r.type === "aws:sagemaker/model:Model" && arr(obj(r.inputs.vpcConfig).subnets).length > 0,
      );
  }
}

/** The table's rows whose piece of the stack the plan shows. */
export function privateEndpointNeeds(resources: CapturedResource[]): PrivateEndpointNeed[] {
  return PRIVATE_ENDPOINT_NEEDS.filter((n) => planShows(n.match, resources));
}

/**
 * What a VPC without NAT lacks: each missing endpoint once, with everything that needs it, in the
 * table's order (interface endpoints, then the S3 gateway).
 */
export function missingPrivateEndpoints(
  needs: readonly PrivateEndpointNeed[],
  has: (service: string) => boolean,
  s3Gateway: boolean,
): { service: string; neededBy: string[] }[] {
  const missing = new Map<string, string[]>();
  for (const need of needs)
    for (const service of need.interfaceEndpoints)
      if (!has(service)) missing.set(service, [...(missing.get(service) ?? []), need.what]);
  const s3 = needs.filter((n) => n.s3Gateway).map((n) => n.what);
  if (!s3Gateway && s3.length > 0) missing.set("s3 (gateway)", s3);
  return [...missing].map(([service, neededBy]) => ({ service, neededBy }));
}

const ENDPOINTS_KEY = "llm-infra:network.interfaceEndpoints";

/**
 * Why an AMP managed collector cannot scrape its cluster, or undefined. AMP User Guide,
 * AMP-collector-how-to.html, "Create a scraper": the cluster's endpoint access "must include
 * private access"; "You must include at least two subnets, in at least two availability zones";
 * "The security group and subnets should be set to the security group and subnets for the cluster"
 * (the cluster security group, which EKS puts on managed nodes and which admits itself).
 */
function collectorUnreachable(
  scraper: CapturedResource,
  resources: CapturedResource[],
): string | undefined {
  const source = obj(obj(scraper.inputs.source).eks);
  const cluster = resources.find(
    (r) =>
      r.type === "eks:index:Cluster" &&
      String(source.clusterArn ?? "").endsWith(`:cluster/${String(r.inputs.name ?? "")}`),
  );
  if (!cluster) return "its source is not a cluster of the stack";
  if (cluster.inputs.endpointPrivateAccess !== true)
    return "the cluster's private endpoint is off, and a managed collector needs it";
  if (arr(source.subnetIds).length < 2) return "it has fewer than two subnets";
  const clusterGroups = new Set(
    resources
      .filter(
        (r) =>
          r.type === "aws:ec2/securityGroupRule:SecurityGroupRule" && r.parent === cluster.parent,
      )
      .map((r) => String(r.inputs.securityGroupId)),
  );
  // The cluster security group is known here by the rules GpuCluster attaches to it (the plan
  // records inputs, not the cluster's outputs); with none, this clause cannot be judged.
  if (
    clusterGroups.size > 0 &&
    !arr(source.securityGroupIds).some((g) => clusterGroups.has(String(g)))
  )
    return "its interfaces are not in the cluster security group, which the nodes admit";
  return undefined;
}

export function checkReachability(resources: CapturedResource[]): Finding[] {
  const findings: Finding[] = [];
  for (const scraper of resources.filter((r) => r.type === "aws:amp/scraper:Scraper")) {
    const why = collectorUnreachable(scraper, resources);
    if (why)
      findings.push({
        check: CHECK,
        resource: scraper.name,
        message: `the metrics collector ${scraper.name} cannot scrape its cluster: ${why}`,
      });
  }
  if (deploysKubernetes(resources)) {
    for (const cluster of resources.filter((r) => r.type === "eks:index:Cluster")) {
      const why = apiUnreachable(cluster, resources);
      if (why)
        findings.push({
          check: CHECK,
          resource: cluster.name,
          message: `the deployer cannot reach cluster ${String(cluster.inputs.name ?? cluster.name)}: ${why}`,
        });
    }
  }
  const withoutNat = resources.filter(
    (r) =>
      r.type === "awsx:ec2:Vpc" &&
      String(obj(r.inputs.natGateways).strategy ?? "OnePerAz") === "None",
  );
  const needs = privateEndpointNeeds(resources);
  for (const vpc of withoutNat) {
    const { has, s3Gateway } = endpointsOf(vpc, resources);
    for (const { service, neededBy } of missingPrivateEndpoints(needs, has, s3Gateway)) {
      const fix =
        service === "s3 (gateway)"
          ? "InferenceVpc always creates one; a VPC built elsewhere needs a Gateway endpoint to com.amazonaws.<region>.s3"
          : `add ${service} to ${ENDPOINTS_KEY}, or give the VPC NAT gateways (llm-infra:network.natGateways)`;
      findings.push({
        check: CHECK,
        resource: vpc.name,
        message: `${vpc.name} has no NAT gateway and no ${service} endpoint, which ${neededBy.join("; ")} ${neededBy.length === 1 ? "needs" : "need"}: ${fix}`,
      });
    }
  }
  if (withoutNat.length > 0)
    for (const release of lbControllerCallingShieldOrWaf(resources))
      findings.push({
        check: CHECK,
        resource: release.name,
        message: `${release.name}: without a NAT gateway (${withoutNat.map((v) => v.name).join(", ")}) the AWS Load Balancer Controller still calls Shield, WAF and WAFv2, which private clusters cannot reach: set its values enableShield, enableWaf and enableWafv2 to false (ClusterAddons withoutNat, which the stack program sets from llm-infra:network.natGateways none)`,
      });
  return findings;
}

/**
 * Load balancer controller releases with Shield, WAF or WAFv2 on: EKS asks private clusters to set
 * `enable-shield`, `enable-waf` and `enable-wafv2` to false
 * (https://docs.aws.amazon.com/eks/latest/userguide/private-clusters.html); the chart's values of
 * the same names are passed only when boolean, and default to on
 * (aws-load-balancer-controller@v2.13.3 helm/aws-load-balancer-controller/values.yaml).
 */
export function lbControllerCallingShieldOrWaf(resources: CapturedResource[]): CapturedResource[] {
  return resources.filter(
    (r) =>
      r.type === HELM_RELEASE &&
      chartName(r) === "aws-load-balancer-controller" &&
      ["enableShield", "enableWaf", "enableWafv2"].some((k) => obj(r.inputs.values)[k] !== false),
  );
}
