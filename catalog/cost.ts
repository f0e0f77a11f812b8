/**
 * The cost estimator: resources as the engine registers them ({type, name, inputs}) -> monthly cost
 * lines, each with a description of what it assumed.
 *
 * It prices AWS primitives and the remote components that appear as one resource under mocks
 * (`awsx:ec2:Vpc`, `eks:index:Cluster`). When a real preview also shows a component's children
 * (the NAT gateways of an awsx VPC), the children are priced and the component is not, so nothing
 * is counted twice. A type the estimator neither prices nor knows to be free is reported in
 * `unpriced`, never silently $0; so is an instance type without a price.
 */
import {
  HOURS_PER_MONTH,
  UnitPrices,
  ec2HourlyUsd,
  sagemakerHourlyUsd,
  unitPrices,
} from "./prices";

/** A resource as the engine (or the offline plan) sees it. */
export interface ResourceRecord {
  type: string;
  name: string;
  /** The parent's name, or null at the top. */
  parent?: string | null;
  /** The id the provider (or the mocks) returned; used to follow references between resources. */
  id?: string;
  inputs: Record<string, unknown>;
}

export interface CostLine {
  resource: string;
  type: string;
  description: string;
  monthlyUsd: number;
}

/** Usage the estimator cannot see in the resources; every figure appears in the line it prices. */
export interface CostAssumptions {
  /** Model artifacts stored in each model bucket, GB. */
  s3StoredGb: number;
  /** Access logs kept in each log bucket, GB. */
  s3AccessLogsGb: number;
  /** Images stored in each ECR repository, GB. */
  ecrStoredGb: number;
  /** Data in each EFS file system, GB. */
  efsStoredGb: number;
  /** Data processed by each NAT gateway per month, GB. */
  natProcessedGbPerMonth: number;
  /** VPC flow log volume per month, GB. */
  flowLogsGbPerMonth: number;
  /** Ingest into each other CloudWatch log group per month, GB. */
  logIngestGbPerMonth: number;
  /** Requests per month through each API (API Gateway) and each serverless endpoint. */
  requestsPerMonth: number;
  /** Average duration of a serverless inference request, seconds. */
  serverlessSecondsPerRequest: number;
  /** Load balancer capacity units used on average by each ALB. */
  albLcus: number;
  /** Hours a month an asynchronous endpoint that scales to zero has its instances running. */
  asyncActiveHoursPerMonth: number;
}

export const DEFAULT_COST_ASSUMPTIONS: Readonly<CostAssumptions> = Object.freeze({
  s3StoredGb: 200,
  s3AccessLogsGb: 5,
  ecrStoredGb: 30,
  efsStoredGb: 200,
  natProcessedGbPerMonth: 100,
  flowLogsGbPerMonth: 10,
  logIngestGbPerMonth: 5,
  requestsPerMonth: 1_000_000,
  serverlessSecondsPerRequest: 1,
  albLcus: 1,
  asyncActiveHoursPerMonth: 160,
});

export interface CostEstimate {
  monthlyUsd: number;
  lines: CostLine[];
  /** Region fallbacks and missing prices, for people to read. */
  warnings: string[];
  /** Resource types the estimator has no rule for, with how many of each. */
  unpriced: { type: string; count: number }[];
}

export interface EstimateOptions {
  region: string;
  assumptions?: Partial<CostAssumptions>;
}

/** Types that cost nothing by themselves (their usage is priced on the resource that uses them). */
const FREE_TYPES = new Set<string>([
  "aws:iam/role:Role",
  "aws:iam/policy:Policy",
  "aws:iam/rolePolicy:RolePolicy",
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  "aws:iam/instanceProfile:InstanceProfile",
  "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
  "aws:ec2/securityGroup:SecurityGroup",
  "aws:ec2/securityGroupRule:SecurityGroupRule",
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  "aws:ec2/launchTemplate:LaunchTemplate",
  "aws:kms/alias:Alias",
  "aws:s3/bucketVersioning:BucketVersioning",
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
  "aws:s3/bucketPolicy:BucketPolicy",
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  "aws:s3/bucketLogging:BucketLogging",
  "aws:ecr/lifecyclePolicy:LifecyclePolicy",
  "aws:ecr/repositoryPolicy:RepositoryPolicy",
  "aws:sagemaker/model:Model",
  "aws:sagemaker/endpoint:Endpoint",
  "aws:appautoscaling/target:Target",
  "aws:appautoscaling/policy:Policy",
  "aws:sns/topic:Topic",
  "aws:sns/topicPolicy:TopicPolicy",
  "aws:lb/targetGroup:TargetGroup",
  "aws:lb/listener:Listener",
  "aws:eks/addon:Addon",
  "aws:eks/podIdentityAssociation:PodIdentityAssociation",
  "aws:efs/mountTarget:MountTarget",
  "aws:efs/accessPoint:AccessPoint",
  "aws:efs/backupPolicy:BackupPolicy",
  "aws:autoscaling/tag:Tag",
  "aws:autoscaling/policy:Policy",
  "aws:lb/targetGroupAttachment:TargetGroupAttachment",
  "aws:wafv2/webAclAssociation:WebAclAssociation",
  // Standard-tier parameters: "No additional charge"
  // (https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html).
  "aws:ssm/parameter:Parameter",
]);

type Pricer = (r: ResourceRecord, ctx: Context) => CostLine[];

interface Context {
  region: string;
  units: UnitPrices;
  assumptions: CostAssumptions;
  records: ResourceRecord[];
  warnings: Set<string>;
}

const month = (hourly: number) => hourly * HOURS_PER_MONTH;
const usd = (n: number) => `$${n.toLocaleString("en-US", { maximumFractionDigits: 6 })}`;

function line(r: ResourceRecord, description: string, monthlyUsd: number): CostLine {
  return { resource: r.name, type: r.type, description, monthlyUsd: round2(monthlyUsd) };
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

function num(v: unknown, fallback: number): number {
  return typeof v === "number" && Number.isFinite(v) ? v : fallback;
}

function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : {};
}

function instanceHours(
  r: ResourceRecord,
  ctx: Context,
  instanceType: string,
  count: number,
  service: "ec2" | "sagemaker",
  what: string,
): CostLine {
  const lookup =
    service === "sagemaker"
      ? sagemakerHourlyUsd(instanceType, ctx.region)
      : ec2HourlyUsd(instanceType, ctx.region);
  if (lookup.warning) ctx.warnings.add(lookup.warning);
  if (lookup.value === undefined) {
    ctx.warnings.add(
      `no ${service === "sagemaker" ? "SageMaker" : "EC2"} price for ${instanceType}; ${r.name} is priced at $0`,
    );
    return line(r, `${count} x ${instanceType} ${what}: PRICE UNKNOWN`, 0);
  }
  return line(
    r,
    `${count} x ${instanceType} ${what} x ${HOURS_PER_MONTH} h x ${usd(lookup.value)}/h`,
    count * month(lookup.value),
  );
}

function natGateways(r: ResourceRecord, ctx: Context, count: number): CostLine[] {
  if (count === 0) return [];
  const { natGatewayHourly, natGatewayPerGb } = ctx.units;
  const gb = ctx.assumptions.natProcessedGbPerMonth;
  return [
    line(
      r,
      `${count} NAT gateway(s) x ${HOURS_PER_MONTH} h x ${usd(natGatewayHourly)}/h + ${gb} GB processed each x ${usd(natGatewayPerGb)}/GB`,
      count * (month(natGatewayHourly) + gb * natGatewayPerGb),
    ),
  ];
}

/** NAT gateways of an awsx VPC from its strategy, unless its NAT children are in the records. */
const priceAwsxVpc: Pricer = (r, ctx) => {
  const hasChildren = ctx.records.some(
    (c) => c.parent === r.name && c.type === "aws:ec2/natGateway:NatGateway",
  );
  if (hasChildren) return [];
  const strategy = String(obj(r.inputs.natGateways).strategy ?? "OnePerAz");
  const azs = Array.isArray(r.inputs.availabilityZoneNames)
    ? r.inputs.availabilityZoneNames.length
    : num(r.inputs.numberOfAvailabilityZones, 3);
  const count = strategy === "None" ? 0 : strategy === "Single" ? 1 : azs;
  return natGateways(r, ctx, count);
};

const priceVpcEndpoint: Pricer = (r, ctx) => {
  if (r.inputs.vpcEndpointType !== "Interface") {
    return [line(r, `gateway endpoint (${String(r.inputs.serviceName)}): no charge`, 0)];
  }
  const azs = Array.isArray(r.inputs.subnetIds) ? r.inputs.subnetIds.length : 1;
  const rate = ctx.units.interfaceEndpointPerAzHourly;
  return [
    line(
      r,
      `interface endpoint ${String(r.inputs.serviceName)} in ${azs} AZ(s) x ${HOURS_PER_MONTH} h x ${usd(rate)}/h (data processed not included)`,
      azs * month(rate),
    ),
  ];
};

const priceFlowLog: Pricer = (r, ctx) => {
  const gb = ctx.assumptions.flowLogsGbPerMonth;
  return [
    line(
      r,
      `${gb} GB of flow logs per month x ${usd(ctx.units.vendedLogsIngestPerGb)}/GB`,
      gb * ctx.units.vendedLogsIngestPerGb,
    ),
  ];
};

const priceLogGroup: Pricer = (r, ctx) => {
  // The flow log that writes here is priced on the flow log itself.
  const isFlowLogDestination =
    r.id !== undefined &&
    ctx.records.some(
      (x) =>
        x.type === "aws:ec2/flowLog:FlowLog" &&
        String(x.inputs.logDestination ?? "").endsWith(`:log-group:${r.id}`),
    );
  if (isFlowLogDestination)
    return [line(r, "flow log destination: ingest priced on the flow log", 0)];
  const gb = ctx.assumptions.logIngestGbPerMonth;
  return [
    line(
      r,
      `${gb} GB ingested per month x ${usd(ctx.units.cloudwatchLogsIngestPerGb)}/GB`,
      gb * ctx.units.cloudwatchLogsIngestPerGb,
    ),
  ];
};

const priceKmsKey: Pricer = (r, ctx) => [
  line(
    r,
    `customer managed key x ${usd(ctx.units.kmsKeyMonthly)}/month (requests not included)`,
    ctx.units.kmsKeyMonthly,
  ),
];

const priceBucket: Pricer = (r, ctx) => {
  const isLogTarget = ctx.records.some(
    (x) =>
      x.type === "aws:s3/bucketLogging:BucketLogging" &&
      r.id !== undefined &&
      x.inputs.targetBucket === r.id,
  );
  const gb = isLogTarget ? ctx.assumptions.s3AccessLogsGb : ctx.assumptions.s3StoredGb;
  const what = isLogTarget ? "access logs" : "stored";
  return [
    line(
      r,
      `${gb} GB ${what} x ${usd(ctx.units.s3StandardPerGbMonth)}/GB-month (S3 Standard; requests not included)`,
      gb * ctx.units.s3StandardPerGbMonth,
    ),
  ];
};

const priceEcrRepository: Pricer = (r, ctx) => {
  const gb = ctx.assumptions.ecrStoredGb;
  return [
    line(
      r,
      `${gb} GB of images x ${usd(ctx.units.ecrStoragePerGbMonth)}/GB-month`,
      gb * ctx.units.ecrStoragePerGbMonth,
    ),
  ];
};

const priceEfs: Pricer = (r, ctx) => {
  const gb = ctx.assumptions.efsStoredGb;
  return [
    line(
      r,
      `${gb} GB x ${usd(ctx.units.efsStandardPerGbMonth)}/GB-month (EFS Standard; throughput not included)`,
      gb * ctx.units.efsStandardPerGbMonth,
    ),
  ];
};

function eksControlPlane(r: ResourceRecord, ctx: Context): CostLine {
  const rate = ctx.units.eksClusterHourly;
  return line(
    r,
    `EKS control plane x ${HOURS_PER_MONTH} h x ${usd(rate)}/h (standard support)`,
    month(rate),
  );
}

const priceEksCluster: Pricer = (r, ctx) => [eksControlPlane(r, ctx)];

/** eks:index:Cluster: the control plane, and the default node group unless it is skipped. */
const priceEksComponent: Pricer = (r, ctx) => {
  const hasChildren = ctx.records.some(
    (c) => c.parent === r.name && c.type === "aws:eks/cluster:Cluster",
  );
  if (hasChildren) return [];
  const lines = [eksControlPlane(r, ctx)];
  if (r.inputs.skipDefaultNodeGroup !== true) {
    const instanceType = String(r.inputs.instanceType ?? "t3.medium");
    const desired = num(r.inputs.desiredCapacity, 2);
    lines.push(instanceHours(r, ctx, instanceType, desired, "ec2", "default node group"));
  }
  return lines;
};

/** The launch template a resource points at, found by the id the engine returned for it. */
function launchTemplateOf(ref: unknown, ctx: Context): ResourceRecord | undefined {
  const id = obj(ref).id ?? obj(ref).launchTemplateId;
  return ctx.records.find(
    (x) => x.type === "aws:ec2/launchTemplate:LaunchTemplate" && x.id !== undefined && x.id === id,
  );
}

const priceNodeGroup: Pricer = (r, ctx) => {
  const scaling = obj(r.inputs.scalingConfig);
  const desired = num(scaling.desiredSize, 0);
  const types = Array.isArray(r.inputs.instanceTypes) ? r.inputs.instanceTypes.map(String) : [];
  const instanceType =
    types[0] ?? String(launchTemplateOf(r.inputs.launchTemplate, ctx)?.inputs.instanceType ?? "");
  if (!instanceType) {
    ctx.warnings.add(`node group ${r.name} has no instance type the estimator can see`);
    return [line(r, "node group: instance type unknown", 0)];
  }
  const capacity =
    r.inputs.capacityType === "SPOT"
      ? "spot node group at the on-demand price (an upper bound)"
      : "node group at desired size";
  return [instanceHours(r, ctx, instanceType, desired, "ec2", capacity)];
};

const priceAutoScalingGroup: Pricer = (r, ctx) => {
  const desired = num(r.inputs.desiredCapacity, num(r.inputs.minSize, 0));
  const mixed = obj(r.inputs.mixedInstancesPolicy);
  const overrides = obj(mixed.launchTemplate).overrides;
  let instanceType = Array.isArray(overrides) ? String(obj(overrides[0]).instanceType ?? "") : "";
  if (!instanceType) {
    const template = launchTemplateOf(
      r.inputs.launchTemplate ?? obj(mixed.launchTemplate).launchTemplateSpecification,
      ctx,
    );
    instanceType = String(template?.inputs.instanceType ?? "");
  }
  if (!instanceType) {
    ctx.warnings.add(`Auto Scaling group ${r.name} has no instance type the estimator can see`);
    return [line(r, "Auto Scaling group: instance type unknown", 0)];
  }
  return [
    instanceHours(r, ctx, instanceType, desired, "ec2", "Auto Scaling group at desired capacity"),
  ];
};

const priceInstance: Pricer = (r, ctx) => [
  instanceHours(r, ctx, String(r.inputs.instanceType), 1, "ec2", "instance"),
];

const priceLoadBalancer: Pricer = (r, ctx) => {
  if (r.inputs.loadBalancerType === "network") {
    return [
      line(
        r,
        `network load balancer x ${HOURS_PER_MONTH} h x ${usd(ctx.units.nlbHourly)}/h (NLCUs not included)`,
        month(ctx.units.nlbHourly),
      ),
    ];
  }
  const lcus = ctx.assumptions.albLcus;
  return [
    line(
      r,
      `application load balancer x ${HOURS_PER_MONTH} h x ${usd(ctx.units.albHourly)}/h + ${lcus} LCU x ${usd(ctx.units.albLcuHourly)}/LCU-h`,
      month(ctx.units.albHourly + lcus * ctx.units.albLcuHourly),
    ),
  ];
};

const priceEndpointConfiguration: Pricer = (r, ctx) => {
  const variants = Array.isArray(r.inputs.productionVariants)
    ? r.inputs.productionVariants.map(obj)
    : [];
  const isAsync = Object.keys(obj(r.inputs.asyncInferenceConfig)).length > 0;
  return variants.map((v) => {
    const serverless = obj(v.serverlessConfig);
    if (Object.keys(serverless).length > 0) {
      const gb = num(serverless.memorySizeInMb, 1024) / 1024;
      const requests = ctx.assumptions.requestsPerMonth;
      const seconds = ctx.assumptions.serverlessSecondsPerRequest;
      const rate = ctx.units.sagemakerServerlessPerGbSecond;
      if (serverless.provisionedConcurrency !== undefined) {
        ctx.warnings.add(
          `provisioned concurrency of ${r.name} (${String(serverless.provisionedConcurrency)}) is not priced`,
        );
      }
      return line(
        r,
        `serverless variant ${String(v.variantName)}: ${requests.toLocaleString("en-US")} requests x ${seconds} s x ${gb} GB x ${usd(rate)}/GB-s`,
        requests * seconds * gb * rate,
      );
    }
    const count = num(v.initialInstanceCount, 1);
    const instanceType = String(v.instanceType);
    if (isAsync) {
      const hours = ctx.assumptions.asyncActiveHoursPerMonth;
      const lookup = sagemakerHourlyUsd(instanceType, ctx.region);
      if (lookup.warning) ctx.warnings.add(lookup.warning);
      if (lookup.value === undefined) {
        ctx.warnings.add(`no SageMaker price for ${instanceType}; ${r.name} is priced at $0`);
        return line(r, `async variant ${String(v.variantName)}: ${instanceType} PRICE UNKNOWN`, 0);
      }
      return line(
        r,
        `async variant ${String(v.variantName)}: ${count} x ${instanceType} x ${hours} h active (assumed; $0 while scaled in to zero) x ${usd(lookup.value)}/h`,
        count * hours * lookup.value,
      );
    }
    return instanceHours(
      r,
      ctx,
      instanceType,
      count,
      "sagemaker",
      `variant ${String(v.variantName)}`,
    );
  });
};

const priceAlarm: Pricer = (r, ctx) => {
  const highRes = num(r.inputs.period, 60) < 60;
  const rate = highRes ? ctx.units.cloudwatchHighResAlarmMonthly : ctx.units.cloudwatchAlarmMonthly;
  return [line(r, `${highRes ? "high-resolution" : "standard"} alarm x ${usd(rate)}/month`, rate)];
};

// The first 3 dashboards of an account are free; a stack's dashboard is priced as if it is not.
const priceDashboard: Pricer = (r, ctx) => [
  line(
    r,
    `dashboard x ${usd(ctx.units.cloudwatchDashboardMonthly)}/month`,
    ctx.units.cloudwatchDashboardMonthly,
  ),
];

const priceRestApi: Pricer = (r, ctx) => {
  const millions = ctx.assumptions.requestsPerMonth / 1e6;
  return [
    line(
      r,
      `REST API: ${millions}M requests per month x ${usd(ctx.units.apiGatewayRestPerMillion)}/M`,
      millions * ctx.units.apiGatewayRestPerMillion,
    ),
  ];
};

const priceHttpApi: Pricer = (r, ctx) => {
  const millions = ctx.assumptions.requestsPerMonth / 1e6;
  return [
    line(
      r,
      `HTTP API: ${millions}M requests per month x ${usd(ctx.units.apiGatewayHttpPerMillion)}/M`,
      millions * ctx.units.apiGatewayHttpPerMillion,
    ),
  ];
};

const PRICERS: Readonly<Record<string, Pricer>> = {
  "awsx:ec2:Vpc": priceAwsxVpc,
  "aws:ec2/natGateway:NatGateway": (r, ctx) => natGateways(r, ctx, 1),
  "aws:ec2/vpcEndpoint:VpcEndpoint": priceVpcEndpoint,
  "aws:ec2/flowLog:FlowLog": priceFlowLog,
  "aws:cloudwatch/logGroup:LogGroup": priceLogGroup,
  "aws:kms/key:Key": priceKmsKey,
  "aws:s3/bucket:Bucket": priceBucket,
  "aws:ecr/repository:Repository": priceEcrRepository,
  "aws:efs/fileSystem:FileSystem": priceEfs,
  "aws:eks/cluster:Cluster": priceEksCluster,
  "eks:index:Cluster": priceEksComponent,
  "aws:eks/nodeGroup:NodeGroup": priceNodeGroup,
  "aws:autoscaling/group:Group": priceAutoScalingGroup,
  "aws:ec2/instance:Instance": priceInstance,
  "aws:lb/loadBalancer:LoadBalancer": priceLoadBalancer,
  "aws:sagemaker/endpointConfiguration:EndpointConfiguration": priceEndpointConfiguration,
  "aws:cloudwatch/metricAlarm:MetricAlarm": priceAlarm,
  "aws:cloudwatch/dashboard:Dashboard": priceDashboard,
  "aws:apigateway/restApi:RestApi": priceRestApi,
  "aws:apigatewayv2/api:Api": priceHttpApi,
};

/** True for component types (`pkg:module:Name`) and providers, which cost nothing themselves. */
function isStructural(type: string): boolean {
  return (
    type.startsWith("pulumi:providers:") ||
    type.startsWith("llm-infra:") ||
    // Kubernetes objects cost nothing themselves: their pods run on priced nodes.
    type.startsWith("kubernetes:") ||
    type === "pulumi:pulumi:Stack"
  );
}

/** The parts of a REST API (resources, methods, stages, keys ...): priced per request on the API. */
function isApiGatewayPart(type: string): boolean {
  return type.startsWith("aws:apigateway/") && type !== "aws:apigateway/restApi:RestApi";
}

/** Monthly cost of a set of resources, with a line per priced item. */
export function estimateMonthlyCost(
  records: ResourceRecord[],
  options: EstimateOptions,
): CostEstimate {
  const units = unitPrices(options.region);
  const ctx: Context = {
    region: options.region,
    units: units.value,
    assumptions: { ...DEFAULT_COST_ASSUMPTIONS, ...options.assumptions },
    records,
    warnings: new Set(units.warning ? [units.warning] : []),
  };
  const lines: CostLine[] = [];
  const unpriced = new Map<string, number>();
  for (const r of records) {
    const pricer = PRICERS[r.type];
    if (pricer) lines.push(...pricer(r, ctx));
    else if (!FREE_TYPES.has(r.type) && !isStructural(r.type) && !isApiGatewayPart(r.type))
      unpriced.set(r.type, (unpriced.get(r.type) ?? 0) + 1);
  }
  for (const [type, count] of unpriced) ctx.warnings.add(`not priced: ${count} x ${type}`);
  const monthlyUsd = round2(lines.reduce((sum, l) => sum + l.monthlyUsd, 0));
  return {
    monthlyUsd,
    lines,
    warnings: [...ctx.warnings],
    unpriced: [...unpriced].map(([type, count]) => ({ type, count })),
  };
}
