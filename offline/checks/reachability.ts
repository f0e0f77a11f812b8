/**
 * The reachability check: the deployer reaches each EKS cluster's API when the stack deploys
 * Kubernetes objects into it, and instances in private subnets reach ECR, S3 and STS, through a
 * NAT gateway or VPC endpoints.
 *
 * The deployer's ways in (https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html):
 * the public endpoint open to listed CIDRs, or the private endpoint with an HTTPS (443) ingress
 * rule on the cluster security group (the rules GpuCluster creates beside the cluster). Images come
 * from ECR (`ecr.api`, `ecr.dkr`, layers from S3) and credentials from STS
 * (https://docs.aws.amazon.com/eks/latest/userguide/private-clusters.html). An AMP managed
 * collector reaches its cluster's pods (collectorUnreachable).
 */
import { CapturedResource } from "../engine";
import { Finding } from "./finding";

const CHECK = "reachability";
type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj =>
  v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {};
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Kubernetes objects the deployer creates through the API (providers are `pulumi:providers:`). */
const deploysKubernetes = (resources: CapturedResource[]) =>
  resources.some((r) => r.type.startsWith("kubernetes:"));

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
  const admitted = resources.some(
    (r) =>
      r.type === "aws:ec2/securityGroupRule:SecurityGroupRule" &&
      r.parent === cluster.parent &&
      r.inputs.type === "ingress" &&
      Number(r.inputs.fromPort) <= 443 &&
      Number(r.inputs.toPort) >= 443,
  );
  if (admitted) return undefined;
  return "its API endpoint is private and no security group rule admits a deployer on 443, so every Kubernetes object would time out; list publicAccessCidrs, or privateAccessCidrs / privateAccessSecurityGroupIds for a deployer inside the VPC";
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

/** Instances that run in private subnets and pull images: node groups and Auto Scaling groups. */
const runsInstances = (resources: CapturedResource[]) =>
  resources.some(
    (r) => r.type === "aws:eks/nodeGroup:NodeGroup" || r.type === "aws:autoscaling/group:Group",
  );

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
  if (runsInstances(resources)) {
    for (const vpc of resources.filter((r) => r.type === "awsx:ec2:Vpc")) {
      const strategy = String(obj(vpc.inputs.natGateways).strategy ?? "OnePerAz");
      if (strategy !== "None") continue;
      const { has, s3Gateway } = endpointsOf(vpc, resources);
      const missing = [
        ...["ecr.api", "ecr.dkr", "sts"].filter((s) => !has(s)),
        ...(s3Gateway ? [] : ["s3 (gateway)"]),
      ];
      if (missing.length > 0)
        findings.push({
          check: CHECK,
          resource: vpc.name,
          message: `instances in the private subnets of ${vpc.name} have no NAT gateway and no ${missing.join(", ")} endpoint: they cannot pull images from ECR or get credentials from STS`,
        });
    }
  }
  return findings;
}
