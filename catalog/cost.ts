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
import { ampMonthlyUsd, ampUsageOf } from "./ampCost";
import { findInstance } from "./instances";
import {
  NODE_POOL_TYPE,
  nodePoolCapacityTypes,
  nodePoolLabels,
  poolTypesByReplicaPrice,
  DEFAULT_AUTO_MODE_FEE_SHARE,
  PricedPoolType,
  isAutoModePool,
  nodePoolInstanceTypes,
  nodePoolDeclaredNodes,
} from "./karpenter";
import {
  HOURS_PER_MONTH,
  SAVINGS_PLANS,
  SPOT_DISCOUNT,
  SavingsPlanTerm,
  UnitPrices,
  ec2HourlyUsd,
  sagemakerHourlyUsd,
  ampPrices,
  unitPrices,
} from "./prices";
import { parseRecurrence, weekShares } from "./schedule";

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

/**
 * One priced item in three figures: `monthlyUsd` at desired (expected) capacity, `idleMonthlyUsd`
 * with every group at its floor and nothing in flight, `peakMonthlyUsd` with every group at its
 * maximum. Scheduled scale-down applies to all three for the hours it holds. Items without a
 * capacity (storage, keys, NAT) cost the same in all three; per-request items cost nothing idle.
 */
export interface CostLine {
  resource: string;
  type: string;
  description: string;
  monthlyUsd: number;
  idleMonthlyUsd: number;
  peakMonthlyUsd: number;
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
  /**
   * Hours a month a real-time endpoint of inference components that scales to zero instances has
   * an instance running.
   */
  componentActiveHoursPerMonth: number;
  /** Active series each pod the metrics pipeline scrapes exposes (Triton, DCGM exporter). */
  metricSeriesPerTarget: number;
  /**
   * The share of a serving instance's hours spent at its published throughput, for the cost per
   * million output tokens (catalog/tokenCost.ts), in (0, 1]; a target's own `utilization` wins.
   */
  utilization: number;
  /**
   * EKS Auto Mode's management fee as a share of a node's on-demand price, in [0, 1]
   * (catalog/karpenter.ts, DEFAULT_AUTO_MODE_FEE_SHARE: a third-party estimate).
   */
  autoModeFeeShare: number;
}

/** The utilization assumed when the stack gives none: half of the hours at the row's throughput. */
export const DEFAULT_UTILIZATION = 0.5;

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
  componentActiveHoursPerMonth: 160,
  metricSeriesPerTarget: 300,
  utilization: DEFAULT_UTILIZATION,
  autoModeFeeShare: DEFAULT_AUTO_MODE_FEE_SHARE,
});

export interface CostEstimate {
  /** Expected: every group at its desired size (and at least what its workloads force). */
  monthlyUsd: number;
  /** Idle: every group at its floor, no requests. */
  idleMonthlyUsd: number;
  /** Peak: every group at its maximum. */
  peakMonthlyUsd: number;
  lines: CostLine[];
  /** Region fallbacks and missing prices, for people to read. */
  warnings: string[];
  /** Resource types the estimator has no rule for, with how many of each. */
  unpriced: { type: string; count: number }[];
  /** The Savings Plans the figures are discounted by. */
  savingsPlans: SavingsPlansConfig;
}

/** The Savings Plans the account holds (No Upfront), applied to the lines they cover. */
export interface SavingsPlansConfig {
  /** Compute Savings Plans: EC2 instances (EKS nodes, the EC2 fleet); not spot. */
  compute: SavingsPlanTerm;
  /** SageMaker Savings Plans: SageMaker instances and serverless inference. */
  sagemaker: SavingsPlanTerm;
}

export const NO_SAVINGS_PLANS: Readonly<SavingsPlansConfig> = {
  compute: "none",
  sagemaker: "none",
};

/** The figures a budget can be checked against. */
export type CostFigure = "idle" | "expected" | "peak";
export const COST_FIGURES: readonly CostFigure[] = ["idle", "expected", "peak"];

/** The total of an estimate for one figure. */
export function figureOf(estimate: CostEstimate, figure: CostFigure): number {
  return figure === "idle"
    ? estimate.idleMonthlyUsd
    : figure === "peak"
      ? estimate.peakMonthlyUsd
      : estimate.monthlyUsd;
}

/** A line's amount for one figure. */
export function lineFigure(l: CostLine, figure: CostFigure): number {
  return figure === "idle" ? l.idleMonthlyUsd : figure === "peak" ? l.peakMonthlyUsd : l.monthlyUsd;
}

export interface EstimateOptions {
  region: string;
  assumptions?: Partial<CostAssumptions>;
  savingsPlans?: Partial<SavingsPlansConfig>;
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
  // A rule costs nothing; the repositories ECR creates on a first pull are billed as ECR storage
  // ("you pay only for the storage of cached images",
  // https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache.html), and the
  // uploaded build sources as S3 storage on the model bucket.
  "aws:ecr/pullThroughCacheRule:PullThroughCacheRule",
  "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate",
  "aws:s3/bucketObjectv2:BucketObjectv2",
  "aws:sagemaker/model:Model",
  "aws:sagemaker/endpoint:Endpoint",
  // An inference component's copies run on its endpoint's instances, priced on the configuration.
  "aws-native:sagemaker:InferenceComponent",
  "aws:appautoscaling/target:Target",
  "aws:appautoscaling/policy:Policy",
  "aws:sns/topic:Topic",
  "aws:sns/topicPolicy:TopicPolicy",
  "aws:lb/targetGroup:TargetGroup",
  "aws:lb/listener:Listener",
  "aws:eks/addon:Addon",
  // Amazon Managed Service for Prometheus charges for samples ingested, stored and queried, priced
  // on the collector that sends them (aws.amazon.com/prometheus/pricing: "no upfront fees").
  "aws:amp/workspace:Workspace",
  "aws:eks/podIdentityAssociation:PodIdentityAssociation",
  "aws:efs/mountTarget:MountTarget",
  "aws:efs/accessPoint:AccessPoint",
  "aws:efs/backupPolicy:BackupPolicy",
  "aws:autoscaling/tag:Tag",
  "aws:autoscaling/policy:Policy",
  "aws:autoscaling/schedule:Schedule",
  "aws:appautoscaling/scheduledAction:ScheduledAction",
  "aws:lb/targetGroupAttachment:TargetGroupAttachment",
  "aws:wafv2/webAclAssociation:WebAclAssociation",
  // Karpenter's interruption plumbing: rules on the events AWS services send to the default bus
  // ("AWS management events are ingested by the event bus for free", aws.amazon.com/eventbridge/
  // pricing), a queue that holds a few of them (SQS bills requests, a million a month in its free
  // tier), tags and access entries: nothing the catalog prices.
  "aws:cloudwatch/eventRule:EventRule",
  "aws:cloudwatch/eventTarget:EventTarget",
  "aws:sqs/queue:Queue",
  "aws:sqs/queuePolicy:QueuePolicy",
  "aws:ec2/tag:Tag",
  "aws:eks/accessEntry:AccessEntry",
  "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
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
  /** The records of a type, in order: pricers look up related resources here, not by a scan. */
  ofType: (type: string) => ResourceRecord[];
  warnings: Set<string>;
  savingsPlans: SavingsPlansConfig;
}

const month = (hourly: number) => hourly * HOURS_PER_MONTH;
// One formatter for every price (`toLocaleString` with options builds a new one on each call).
const USD_DIGITS = new Intl.NumberFormat("en-US", { maximumFractionDigits: 6 });
const usd = (n: number) => `$${USD_DIGITS.format(n)}`;

function line(
  r: ResourceRecord,
  description: string,
  monthlyUsd: number,
  idle: number = monthlyUsd,
  peak: number = monthlyUsd,
): CostLine {
  return {
    resource: r.name,
    type: r.type,
    description,
    monthlyUsd: round2(monthlyUsd),
    idleMonthlyUsd: round2(idle),
    peakMonthlyUsd: round2(peak),
  };
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

/** How many instances run for a share of the month, at idle, expected and peak. */
export interface CapacityPeriod {
  /** Share of the month's hours (the periods of a line sum to 1). */
  share: number;
  idle: number;
  expected: number;
  peak: number;
}

const pct = (fraction: number) => `${Math.round(fraction * 1000) / 10}%`;

/**
 * The hourly rate the estimator charges for an instance: on-demand, or the spot assumption, or
 * on-demand less the Savings Plan that covers it; with the words that say which.
 */
function effectiveRate(
  ctx: Context,
  instanceType: string,
  service: "ec2" | "sagemaker",
  spot: boolean,
  resource: string,
): { hourly: number; text: string } | undefined {
  const lookup =
    service === "sagemaker"
      ? sagemakerHourlyUsd(instanceType, ctx.region)
      : ec2HourlyUsd(instanceType, ctx.region);
  if (lookup.warning) ctx.warnings.add(lookup.warning);
  if (lookup.value === undefined) {
    ctx.warnings.add(
      `no ${service === "sagemaker" ? "SageMaker" : "EC2"} price for ${instanceType}; ${resource} is priced at $0`,
    );
    return undefined;
  }
  const onDemand = lookup.value;
  if (spot) {
    return {
      hourly: onDemand * (1 - SPOT_DISCOUNT.discount),
      text: `${usd(onDemand)}/h less ${pct(SPOT_DISCOUNT.discount)} (spot assumption)`,
    };
  }
  const term = service === "sagemaker" ? ctx.savingsPlans.sagemaker : ctx.savingsPlans.compute;
  if (term !== "none") {
    const fact = SAVINGS_PLANS[service === "sagemaker" ? "sagemaker" : "compute"][term];
    const plan = service === "sagemaker" ? "SageMaker" : "Compute";
    return {
      hourly: onDemand * (1 - fact.discount),
      text: `${usd(onDemand)}/h less ${pct(fact.discount)} (${plan} Savings Plan, ${term})`,
    };
  }
  return { hourly: onDemand, text: `${usd(onDemand)}/h` };
}

function describePeriods(periods: CapacityPeriod[], instanceType: string, what: string): string {
  const counts = (p: CapacityPeriod) =>
    p.idle === p.expected && p.expected === p.peak
      ? `${p.expected}`
      : `${p.expected} (idle ${p.idle}, peak ${p.peak})`;
  if (periods.length === 1) return `${counts(periods[0])} x ${instanceType} ${what}`;
  return `${instanceType} ${what}: ${periods.map((p) => `${counts(p)} for ${pct(p.share)} of hours`).join("; ")} (scheduled)`;
}

/** Instance-hours of a line over the month's periods, in the three figures. */
function capacityLine(
  r: ResourceRecord,
  ctx: Context,
  instanceType: string,
  service: "ec2" | "sagemaker",
  what: string,
  periods: CapacityPeriod[],
  spot = false,
): CostLine {
  const description = describePeriods(periods, instanceType, what);
  const rate = effectiveRate(ctx, instanceType, service, spot, r.name);
  if (!rate) return line(r, `${description}: PRICE UNKNOWN`, 0);
  const monthly = (k: "idle" | "expected" | "peak") =>
    periods.reduce((sum, p) => sum + p.share * p[k], 0) * HOURS_PER_MONTH * rate.hourly;
  return line(
    r,
    `${description} x ${HOURS_PER_MONTH} h x ${rate.text}`,
    monthly("expected"),
    monthly("idle"),
    monthly("peak"),
  );
}

const fixed = (count: number): CapacityPeriod[] => [
  { share: 1, idle: count, expected: count, peak: count },
];

/** The sizes a scheduled action sets (or a group has without one). */
export interface GroupSizes {
  min: number;
  max: number;
  desired?: number;
}

/**
 * The periods of the week each scheduled action's sizes hold, or undefined without a schedule (or
 * with one the estimator cannot read, which it says).
 */
function scheduledPeriods(
  actions: { recurrence: string; sizes: GroupSizes }[],
  what: string,
  ctx: Context,
): { share: number; sizes: GroupSizes }[] | undefined {
  if (actions.length === 0) return undefined;
  const parsed = actions.map((a) => parseRecurrence(a.recurrence));
  const shares = parsed.every((p) => p !== undefined) ? weekShares(parsed) : undefined;
  if (!shares) {
    ctx.warnings.add(`the schedule of ${what} is not understood; priced without it`);
    return undefined;
  }
  return actions.map((a, i) => ({ share: shares[i], sizes: a.sizes })).filter((p) => p.share > 0);
}

/** Auto Scaling group schedules on the groups whose name `matches`. */
function asgActions(ctx: Context, matches: (groupName: string) => boolean) {
  return ctx
    .ofType("aws:autoscaling/schedule:Schedule")
    .filter((x) => matches(String(x.inputs.autoscalingGroupName ?? "")))
    .map((x) => ({
      recurrence: String(x.inputs.recurrence ?? ""),
      sizes: {
        min: num(x.inputs.minSize, 0),
        max: num(x.inputs.maxSize, 0),
        desired:
          typeof x.inputs.desiredCapacity === "number" ? x.inputs.desiredCapacity : undefined,
      },
    }));
}

/** Application Auto Scaling scheduled actions on a SageMaker variant. */
function variantActions(ctx: Context, resourceId: string) {
  return ctx
    .ofType("aws:appautoscaling/scheduledAction:ScheduledAction")
    .filter((x) => x.inputs.resourceId === resourceId)
    .map((x) => {
      const action = obj(x.inputs.scalableTargetAction);
      return {
        recurrence: String(x.inputs.schedule ?? ""),
        sizes: { min: num(action.minCapacity, 0), max: num(action.maxCapacity, 0) },
      };
    });
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
  const hasChildren = ctx.ofType("aws:ec2/natGateway:NatGateway").some((c) => c.parent === r.name);
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
    ctx
      .ofType("aws:ec2/flowLog:FlowLog")
      .some((x) => String(x.inputs.logDestination ?? "").endsWith(`:log-group:${r.id}`));
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
  const isLogTarget = ctx
    .ofType("aws:s3/bucketLogging:BucketLogging")
    .some((x) => r.id !== undefined && x.inputs.targetBucket === r.id);
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

/**
 * CodeBuild bills build minutes only, by compute type: general1.small $0.005, medium $0.01, large
 * $0.02 a minute on Linux (https://aws.amazon.com/codebuild/pricing/, as quoted in AWS's DevOps
 * blog "Strategies to optimize the costs of your builds on AWS CodeBuild" and c3x.dev's
 * aws_codebuild_project page). The image build runs when a deploy brings images in: priced at
 * IMAGE_BUILD_MINUTES_PER_MONTH, nothing idle.
 */
const CODEBUILD_LINUX_PER_MINUTE: Readonly<Record<string, number>> = {
  BUILD_GENERAL1_SMALL: 0.005,
  BUILD_GENERAL1_MEDIUM: 0.01,
  BUILD_GENERAL1_LARGE: 0.02,
};
/** One deploy's copies of multi-GB Triton images, about an hour of builds a month. */
export const IMAGE_BUILD_MINUTES_PER_MONTH = 60;

const priceCodeBuildProject: Pricer = (r, ctx) => {
  const computeType = String((r.inputs.environment as { computeType?: string })?.computeType);
  const perMinute = CODEBUILD_LINUX_PER_MINUTE[computeType];
  if (perMinute === undefined) {
    ctx.warnings.add(`not priced: CodeBuild compute type ${computeType}`);
    return [];
  }
  const usdMonth = IMAGE_BUILD_MINUTES_PER_MONTH * perMinute;
  return [
    line(
      r,
      `${IMAGE_BUILD_MINUTES_PER_MONTH} build minutes a month on ${computeType} x ${usd(perMinute)}/min; nothing while idle`,
      usdMonth,
      0,
      usdMonth,
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
  const hasChildren = ctx.ofType("aws:eks/cluster:Cluster").some((c) => c.parent === r.name);
  if (hasChildren) return [];
  const lines = [eksControlPlane(r, ctx)];
  if (r.inputs.skipDefaultNodeGroup !== true) {
    const instanceType = String(r.inputs.instanceType ?? "t3.medium");
    const desired = num(r.inputs.desiredCapacity, 2);
    lines.push(capacityLine(r, ctx, instanceType, "ec2", "default node group", fixed(desired)));
  }
  return lines;
};

/** The records of a plan by type: what the lookups between resources below need. */
export interface RecordIndex {
  ofType: (type: string) => ResourceRecord[];
}

/**
 * An Auto Scaling group's launch template, and its instance type: the first of its mixed-instances
 * overrides, else the launch template's ("" when neither says).
 */
export function autoScalingGroupInstance(
  r: ResourceRecord,
  ctx: RecordIndex,
): { instanceType: string; template?: ResourceRecord } {
  const mixed = obj(r.inputs.mixedInstancesPolicy);
  const template = launchTemplateOf(
    r.inputs.launchTemplate ?? obj(mixed.launchTemplate).launchTemplateSpecification,
    ctx,
  );
  const overrides = obj(mixed.launchTemplate).overrides;
  const override = Array.isArray(overrides) ? String(obj(overrides[0]).instanceType ?? "") : "";
  return { instanceType: override || String(template?.inputs.instanceType ?? ""), template };
}

/** The launch template a resource points at, found by the id the engine returned for it. */
export function launchTemplateOf(ref: unknown, ctx: RecordIndex): ResourceRecord | undefined {
  const id = obj(ref).id ?? obj(ref).launchTemplateId;
  return ctx
    .ofType("aws:ec2/launchTemplate:LaunchTemplate")
    .find((x) => x.id !== undefined && x.id === id);
}

/**
 * What an accelerator workload asks for: a Helm release whose values give `accelerator.count` per
 * pod, the labels its pods select (`nodeSelector`), and its replicas: the HPA's min and max when it
 * runs, else `replicaCount`; expected is `replicaCount`. Undefined for any other resource.
 */
export function acceleratorDemand(release: { type: string; inputs: Record<string, unknown> }):
  | {
      perPod: number;
      selector: [string, unknown][];
      replicas: number;
      idle: number;
      expected: number;
      peak: number;
    }
  | undefined {
  if (release.type !== "kubernetes:helm.sh/v3:Release") return undefined;
  const values = obj(release.inputs.values);
  const perPod = num(obj(values.accelerator).count, 0);
  if (perPod <= 0) return undefined;
  const replicas = num(values.replicaCount, 1);
  const hpa = obj(values.autoscaling);
  const scaling = hpa.enabled === true;
  return {
    perPod,
    selector: Object.entries(obj(values.nodeSelector)),
    replicas,
    idle: scaling ? num(hpa.minReplicas, replicas) : replicas,
    expected: replicas,
    peak: scaling ? num(hpa.maxReplicas, replicas) : replicas,
  };
}

/**
 * Nodes the accelerator workloads force onto a node group, at idle, expected and peak: each Helm
 * release asking for accelerators (`values.accelerator.count` per pod) lands on the first node
 * group whose labels match its `nodeSelector`, and needs replicas x accelerators per pod over
 * accelerators per node, rounded up. Replicas: the HPA's min and max when it runs, else
 * `replicaCount`; expected is `replicaCount`.
 */
export function forcedNodes(
  group: ResourceRecord,
  records: ResourceRecord[],
  instanceType: string,
): { idle: number; expected: number; peak: number; by: string[] } {
  const forced = { idle: 0, expected: 0, peak: 0, by: [] as string[] };
  const perNode = findInstance(instanceType)?.accelerator?.count ?? 0;
  if (perNode === 0) return forced;
  const groups = records.filter((x) => x.type === "aws:eks/nodeGroup:NodeGroup");
  for (const release of records) {
    const demand = acceleratorDemand(release);
    if (!demand) continue;
    const lands = (g: ResourceRecord) =>
      demand.selector.every(([k, v]) => obj(g.inputs.labels)[k] === v);
    if (groups.find(lands) !== group) continue;
    const nodes = (n: number) => Math.ceil((n * demand.perPod) / perNode);
    forced.idle += nodes(demand.idle);
    forced.expected += nodes(demand.expected);
    forced.peak += nodes(demand.peak);
    if (forced.peak > 0)
      forced.by.push(`${release.name}: ${demand.replicas} x ${demand.perPod} accelerator(s)`);
  }
  return forced;
}

/** A group's periods: its own sizes, or its schedule's, each at least what its workloads force. */
function groupPeriods(
  base: GroupSizes,
  schedule: { share: number; sizes: GroupSizes }[] | undefined,
  forced: { idle: number; expected: number; peak: number } = { idle: 0, expected: 0, peak: 0 },
): CapacityPeriod[] {
  return (schedule ?? [{ share: 1, sizes: base }]).map(({ share, sizes }) => {
    const capped = (n: number) => Math.min(sizes.max, n);
    return {
      share,
      idle: capped(Math.max(sizes.min, forced.idle)),
      expected: capped(Math.max(sizes.desired ?? sizes.min, forced.expected)),
      peak: sizes.max,
    };
  });
}

const priceNodeGroup: Pricer = (r, ctx) => {
  const scaling = obj(r.inputs.scalingConfig);
  const desired = num(scaling.desiredSize, 0);
  const base = {
    min: num(scaling.minSize, desired),
    max: num(scaling.maxSize, desired),
    desired,
  };
  const types = Array.isArray(r.inputs.instanceTypes) ? r.inputs.instanceTypes.map(String) : [];
  const instanceType =
    types[0] ?? String(launchTemplateOf(r.inputs.launchTemplate, ctx)?.inputs.instanceType ?? "");
  if (!instanceType) {
    ctx.warnings.add(`node group ${r.name} has no instance type the estimator can see`);
    return [line(r, "node group: instance type unknown", 0)];
  }
  // A managed node group's Auto Scaling group is named `eks-<node group name>-<uuid>`.
  const groupName = String(r.inputs.nodeGroupName ?? r.id?.split(":")[1] ?? "");
  const schedule = groupName
    ? scheduledPeriods(
        asgActions(ctx, (asg) => asg.startsWith(`eks-${groupName}-`)),
        `node group ${r.name}`,
        ctx,
      )
    : undefined;
  const forced = forcedNodes(r, ctx.records, instanceType);
  const spot = r.inputs.capacityType === "SPOT";
  const what = [
    spot ? "spot node group" : "node group",
    forced.by.length > 0 ? `, at least the nodes ${forced.by.join(", ")} need` : "",
  ].join("");
  return [
    capacityLine(r, ctx, instanceType, "ec2", what, groupPeriods(base, schedule, forced), spot),
  ];
};

/** The accelerator workloads whose pods select the labels: their replicas summed, with their names. */
function workloadReplicas(
  labels: Record<string, string>,
  records: ResourceRecord[],
): { perPod: number; idle: number; expected: number; peak: number; by: string[] } {
  const out = { perPod: 0, idle: 0, expected: 0, peak: 0, by: [] as string[] };
  for (const release of records) {
    const demand = acceleratorDemand(release);
    if (!demand || !demand.selector.every(([k, v]) => labels[k] === String(v))) continue;
    out.perPod = Math.max(out.perPod, demand.perPod);
    out.idle += demand.idle;
    out.expected += demand.expected;
    out.peak += demand.peak;
    out.by.push(release.name);
  }
  return out;
}

/**
 * A Karpenter NodePool: nodes exist only for the pods that ask for them, so idle is the nodes the
 * workloads' fewest replicas force (0 without), expected and peak those of their expected and most
 * replicas. Each replica's nodes are priced at the pool's cheapest type that holds a pod, at the
 * first capacity type it allows, the one Karpenter tries first (spot at the spot assumption, a
 * reservation at on-demand, which is what it bills), with the on-demand peak beside spot. A pool
 * that declares its nodes (`llm-infra/nodes`, the Auto Mode system pool) is priced at those, on
 * its cheapest type. An Auto Mode pool adds a line for the management fee: the assumption's share
 * of the same nodes' on-demand price.
 */
const priceNodePool: Pricer = (r, ctx) => {
  const ladder = nodePoolCapacityTypes(r.inputs);
  const spot = ladder[0] === "spot";
  const declared = nodePoolDeclaredNodes(r.inputs);
  const replicas = workloadReplicas(nodePoolLabels(r.name, r.inputs), ctx.records);
  const priced = declared
    ? nodePoolInstanceTypes(r.inputs)
        .map((type) => ({ type, hourly: ec2HourlyUsd(type, ctx.region).value, perNode: 1 }))
        .filter((x): x is PricedPoolType => x.hourly !== undefined)
        .sort((a, b) => a.hourly - b.hourly)
    : poolTypesByReplicaPrice(r.inputs, Math.max(1, replicas.perPod), ctx.region);
  if (priced.length === 0) {
    ctx.warnings.add(`node pool ${r.name} has no instance type the estimator can price`);
    return [line(r, "node pool: no priced instance type", 0)];
  }
  const cheapest = priced[0];
  const nodes = (n: number) => Math.ceil(n / cheapest.perNode);
  const counts = declared ?? {
    idle: nodes(replicas.idle),
    expected: nodes(replicas.expected),
    peak: nodes(replicas.peak),
  };
  const periods: CapacityPeriod[] = [{ share: 1, ...counts }];
  const onDemandPeak = month(cheapest.hourly * counts.peak);
  const what = declared
    ? `node pool (${ladder.join(" then ")}; the nodes its llm-infra/nodes annotation declares)`
    : [
        `node pool (${ladder.join(" then ")}, priced at ${ladder[0]}; the cheapest of ${priced.length} type(s) per replica`,
        replicas.by.length > 0 ? ` for ${replicas.by.join(", ")}` : ", no workload selects it",
        spot ? `; on-demand peak ${usd(round2(onDemandPeak))}` : "",
        ")",
      ].join("");
  const lines = [capacityLine(r, ctx, cheapest.type, "ec2", what, periods, spot && !declared)];
  if (isAutoModePool(r.inputs)) {
    const share = ctx.assumptions.autoModeFeeShare;
    const fee = (k: "idle" | "expected" | "peak") => month(cheapest.hourly * share * counts[k]);
    lines.push(
      line(
        { ...r, name: `${r.name} (Auto Mode fee)` },
        `EKS Auto Mode management fee: ${counts.expected} (idle ${counts.idle}, peak ${counts.peak}) x ${cheapest.type} x ${HOURS_PER_MONTH} h x ${pct(share)} of ${usd(cheapest.hourly)}/h on-demand (assumption autoModeFeeShare; AWS prices it per type, aws.amazon.com/eks/pricing)`,
        fee("expected"),
        fee("idle"),
        fee("peak"),
      ),
    );
  }
  return lines;
};

const priceAutoScalingGroup: Pricer = (r, ctx) => {
  const min = num(r.inputs.minSize, 0);
  const desired = num(r.inputs.desiredCapacity, min);
  const base = { min, desired, max: num(r.inputs.maxSize, desired) };
  const { instanceType } = autoScalingGroupInstance(r, ctx);
  if (!instanceType) {
    ctx.warnings.add(`Auto Scaling group ${r.name} has no instance type the estimator can see`);
    return [line(r, "Auto Scaling group: instance type unknown", 0)];
  }
  const names = [r.inputs.name, r.id].filter((n): n is string => typeof n === "string");
  const schedule = scheduledPeriods(
    asgActions(ctx, (asg) => names.includes(asg)),
    `Auto Scaling group ${r.name}`,
    ctx,
  );
  return [
    capacityLine(r, ctx, instanceType, "ec2", "Auto Scaling group", groupPeriods(base, schedule)),
  ];
};

const priceInstance: Pricer = (r, ctx) => [
  capacityLine(r, ctx, String(r.inputs.instanceType), "ec2", "instance", fixed(1)),
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

/** The endpoint name that serves an endpoint configuration (by the id the engine returned). */
export function endpointNameOf(r: ResourceRecord, ctx: RecordIndex): string | undefined {
  const endpoint = ctx
    .ofType("aws:sagemaker/endpoint:Endpoint")
    .find((x) => r.id !== undefined && x.inputs.endpointConfigName === r.id);
  return typeof endpoint?.inputs.name === "string" ? endpoint.inputs.name : undefined;
}

/** The scalable target's bounds for a variant's instance count, when it has one. */
export function variantBounds(ctx: RecordIndex, resourceId: string): GroupSizes | undefined {
  const target = ctx
    .ofType("aws:appautoscaling/target:Target")
    .find(
      (x) =>
        x.inputs.resourceId === resourceId &&
        x.inputs.scalableDimension === "sagemaker:variant:DesiredInstanceCount",
    );
  return target
    ? { min: num(target.inputs.minCapacity, 0), max: num(target.inputs.maxCapacity, 0) }
    : undefined;
}

const priceEndpointConfiguration: Pricer = (r, ctx) => {
  const variants = Array.isArray(r.inputs.productionVariants)
    ? r.inputs.productionVariants.map(obj)
    : [];
  const isAsync = Object.keys(obj(r.inputs.asyncInferenceConfig)).length > 0;
  const endpointName = endpointNameOf(r, ctx);
  return variants.map((v) => {
    const serverless = obj(v.serverlessConfig);
    if (Object.keys(serverless).length > 0) {
      const gb = num(serverless.memorySizeInMb, 1024) / 1024;
      const requests = ctx.assumptions.requestsPerMonth;
      const seconds = ctx.assumptions.serverlessSecondsPerRequest;
      const term = ctx.savingsPlans.sagemaker;
      const discount = term === "none" ? 0 : SAVINGS_PLANS.sagemaker[term].discount;
      const rate = ctx.units.sagemakerServerlessPerGbSecond * (1 - discount);
      if (serverless.provisionedConcurrency !== undefined) {
        ctx.warnings.add(
          `provisioned concurrency of ${r.name} (${String(serverless.provisionedConcurrency)}) is not priced`,
        );
      }
      const monthly = requests * seconds * gb * rate;
      const plan =
        term === "none" ? "" : ` less ${pct(discount)} (SageMaker Savings Plan, ${term})`;
      return line(
        r,
        `serverless variant ${String(v.variantName)}: ${requests.toLocaleString("en-US")} requests x ${seconds} s x ${gb} GB x ${usd(ctx.units.sagemakerServerlessPerGbSecond)}/GB-s${plan} ($0 idle)`,
        monthly,
        0,
        monthly,
      );
    }
    const count = num(v.initialInstanceCount, 1);
    const instanceType = String(v.instanceType);
    const resourceId =
      endpointName !== undefined
        ? `endpoint/${endpointName}/variant/${String(v.variantName)}`
        : undefined;
    const bounds = (resourceId && variantBounds(ctx, resourceId)) || {
      min: isAsync ? 0 : count,
      max: count,
    };
    const schedule = resourceId
      ? scheduledPeriods(variantActions(ctx, resourceId), `${r.name} ${String(v.variantName)}`, ctx)
      : undefined;
    const periods = groupPeriods({ ...bounds, desired: count }, schedule);
    if (!isAsync) {
      return capacityLine(
        r,
        ctx,
        instanceType,
        "sagemaker",
        `variant ${String(v.variantName)}`,
        periods,
      );
    }
    // Asynchronous: the floor runs all month; instances above it run for the active hours.
    const rate = effectiveRate(ctx, instanceType, "sagemaker", false, r.name);
    if (!rate)
      return line(r, `async variant ${String(v.variantName)}: ${instanceType} PRICE UNKNOWN`, 0);
    const floorHours = periods.reduce((sum, p) => sum + p.share * p.idle, 0) * HOURS_PER_MONTH;
    const peakHours = periods.reduce((sum, p) => sum + p.share * p.peak, 0) * HOURS_PER_MONTH;
    const active = ctx.assumptions.asyncActiveHoursPerMonth;
    const floor = bounds.min;
    const above = Math.max(count - floor, floor === 0 ? 1 : 0);
    return line(
      r,
      `async variant ${String(v.variantName)}: ${floor} x ${instanceType} always (floor) + ${above} more x ${active} h active (assumed), peak ${bounds.max}${schedule ? " (scheduled)" : ""} x ${rate.text}`,
      (floorHours + above * active) * rate.hourly,
      floorHours * rate.hourly,
      peakHours * rate.hourly,
    );
  });
};

/**
 * Minutes from the last request to zero instances: "SageMaker will scale the endpoint to zero
 * model copies in approximately 15 minutes, and then take an additional 10 minutes to fully scale
 * down the underlying instances, for a total scale-in time of 25 minutes" (AWS ML blog, "Unlock
 * cost savings with the new scale down to zero feature in SageMaker Inference", December 2024).
 */
export const SCALE_IN_TO_ZERO_MINUTES = 25;

/** The instance types of an aws-native production variant: its pools by priority, or its one type. */
export function variantInstanceTypes(variant: Record<string, unknown>): string[] {
  const pools = Array.isArray(variant.instancePools) ? variant.instancePools.map(obj) : [];
  if (pools.length === 0)
    return typeof variant.instanceType === "string" ? [variant.instanceType] : [];
  return [...pools]
    .sort((a, b) => num(a.priority, 0) - num(b.priority, 0))
    .map((p) => String(p.instanceType));
}

/**
 * An endpoint of inference components: managed instance scaling keeps `minInstanceCount` all
 * month, one more instance runs for the assumed active hours when the floor is zero, and the peak
 * is `maxInstanceCount`, all at the first pool's price (the fallback pools are listed with
 * theirs). An endpoint is created with at least one instance ("InitialInstanceCount ... Minimum
 * value of 1", ProductionVariant, SageMaker API Reference), so at a floor of zero each deploy that
 * creates it pays for one instance until it scales in: a second line says how much.
 */
const priceComponentEndpointConfig: Pricer = (r, ctx) => {
  const variants = Array.isArray(r.inputs.productionVariants)
    ? r.inputs.productionVariants.map(obj)
    : [];
  return variants.flatMap((v) => {
    const [first, ...fallbacks] = variantInstanceTypes(v);
    const scaling = obj(v.managedInstanceScaling);
    const min = num(scaling.minInstanceCount, num(v.initialInstanceCount, 1));
    const max = num(scaling.maxInstanceCount, min);
    const rate = first ? effectiveRate(ctx, first, "sagemaker", false, r.name) : undefined;
    if (!first || !rate)
      return [line(r, `inference components on ${first ?? "no instance type"}: PRICE UNKNOWN`, 0)];
    const active = ctx.assumptions.componentActiveHoursPerMonth;
    const above = min === 0 ? 1 : 0;
    const others = fallbacks
      .map((t) => {
        const price = sagemakerHourlyUsd(t, ctx.region).value;
        return `${t}${price === undefined ? "" : ` ${usd(price)}/h`}`;
      })
      .join(", ");
    const lines = [
      line(
        r,
        `inference components: ${min} x ${first} always (floor) + ${above} more x ${active} h active (assumed), peak ${max} x ${rate.text}${others ? `; when ${first} is short: ${others}` : ""}`,
        (min * HOURS_PER_MONTH + above * active) * rate.hourly,
        min * HOURS_PER_MONTH * rate.hourly,
        max * HOURS_PER_MONTH * rate.hourly,
      ),
    ];
    if (min === 0)
      lines.push(
        line(
          r,
          `each deploy that creates the endpoint starts 1 x ${first} (at least one instance at creation), about ${usd(round2((rate.hourly * SCALE_IN_TO_ZERO_MINUTES) / 60))} until it scales in to zero (~${SCALE_IN_TO_ZERO_MINUTES} min); not in the monthly figures`,
          0,
        ),
      );
    return lines;
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

/**
 * The metrics pipeline's collector: what it ingests into its workspace, what the workspace stores
 * and what KEDA's queries read (catalog/ampCost.ts). The workspace itself has no standing charge.
 */
const priceScraper: Pricer = (r, ctx) => {
  const prices = ampPrices(ctx.region);
  if (prices.warning) ctx.warnings.add(prices.warning);
  if (prices.value.collectorHourly === undefined)
    ctx.warnings.add(
      `${r.name}: the managed collector's own hourly and per-sample charges are not in the catalog (not priced)`,
    );
  const u = ampUsageOf(r, ctx.records, ctx.assumptions.metricSeriesPerTarget);
  const cost = ampMonthlyUsd(u, prices.value);
  const m = (n: number) => `${(n / 1e6).toLocaleString("en-US", { maximumFractionDigits: 1 })}M`;
  const t = u.targets;
  return [
    line(
      r,
      `AMP ingestion: ${t.expected} pods (idle ${t.idle}, peak ${t.peak}) x ${u.seriesPerTarget} series (assumed) every ${u.scrapeIntervalSeconds} s = ${m(cost.usage.ingested.expected)} samples/month x ${usd(prices.value.ingestPerSample * 1e7)}/10M`,
      cost.ingestion.expected,
      cost.ingestion.idle,
      cost.ingestion.peak,
    ),
    line(
      r,
      `AMP storage: ${cost.usage.storedGb.expected.toFixed(2)} GB (150-day retention, 2 bytes/sample) x ${usd(prices.value.storagePerGbMonth)}/GB-month`,
      cost.storage.expected,
      cost.storage.idle,
      cost.storage.peak,
    ),
    line(
      r,
      `AMP queries (KEDA every 30 s): ${m(cost.usage.queried.expected)} samples/month x ${usd(prices.value.queryPerSample * 1e9)}/billion`,
      cost.queries.expected,
      cost.queries.idle,
      cost.queries.peak,
    ),
  ];
};

const priceRestApi: Pricer = (r, ctx) => {
  const millions = ctx.assumptions.requestsPerMonth / 1e6;
  const monthly = millions * ctx.units.apiGatewayRestPerMillion;
  return [
    line(
      r,
      `REST API: ${millions}M requests per month x ${usd(ctx.units.apiGatewayRestPerMillion)}/M ($0 idle)`,
      monthly,
      0,
      monthly,
    ),
  ];
};

const priceHttpApi: Pricer = (r, ctx) => {
  const millions = ctx.assumptions.requestsPerMonth / 1e6;
  const monthly = millions * ctx.units.apiGatewayHttpPerMillion;
  return [
    line(
      r,
      `HTTP API: ${millions}M requests per month x ${usd(ctx.units.apiGatewayHttpPerMillion)}/M ($0 idle)`,
      monthly,
      0,
      monthly,
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
  "aws:codebuild/project:Project": priceCodeBuildProject,
  "aws:efs/fileSystem:FileSystem": priceEfs,
  "aws:eks/cluster:Cluster": priceEksCluster,
  "eks:index:Cluster": priceEksComponent,
  "aws:eks/nodeGroup:NodeGroup": priceNodeGroup,
  [NODE_POOL_TYPE]: priceNodePool,
  "aws:autoscaling/group:Group": priceAutoScalingGroup,
  "aws:ec2/instance:Instance": priceInstance,
  "aws:lb/loadBalancer:LoadBalancer": priceLoadBalancer,
  "aws:sagemaker/endpointConfiguration:EndpointConfiguration": priceEndpointConfiguration,
  "aws-native:sagemaker:EndpointConfig": priceComponentEndpointConfig,
  "aws:cloudwatch/metricAlarm:MetricAlarm": priceAlarm,
  "aws:cloudwatch/dashboard:Dashboard": priceDashboard,
  "aws:amp/scraper:Scraper": priceScraper,
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

/** A lookup of the records of one type, built in one pass. */
export function recordsByType(records: ResourceRecord[]): (type: string) => ResourceRecord[] {
  const byType = new Map<string, ResourceRecord[]>();
  for (const r of records) {
    const list = byType.get(r.type);
    if (list) list.push(r);
    else byType.set(r.type, [r]);
  }
  return (type) => byType.get(type) ?? [];
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
    ofType: recordsByType(records),
    warnings: new Set(units.warning ? [units.warning] : []),
    savingsPlans: { ...NO_SAVINGS_PLANS, ...options.savingsPlans },
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
  const total = (figure: CostFigure) =>
    round2(lines.reduce((s, l) => s + lineFigure(l, figure), 0));
  return {
    monthlyUsd: total("expected"),
    idleMonthlyUsd: total("idle"),
    peakMonthlyUsd: total("peak"),
    lines,
    warnings: [...ctx.warnings],
    unpriced: [...unpriced].map(([type, count]) => ({ type, count })),
    savingsPlans: ctx.savingsPlans,
  };
}
