/**
 * On-demand prices in USD. Each table names its source and the date it was read.
 *
 * Only us-east-1 is in the catalog today. Any other region falls back to us-east-1 and the lookup
 * returns a warning that the plan prints: a price is never silently zero.
 */

export interface PriceTable {
  region: string;
  source: string;
  /** ISO date the figures were read. */
  readOn: string;
  /** USD per instance-hour, keyed by instance type. */
  hourlyUsd: Readonly<Record<string, number>>;
}

/** The region whose prices stand in for a region the catalog has no table for. */
export const FALLBACK_REGION = "us-east-1";

/** Hours in the month every monthly figure assumes (AWS's own convention). */
export const HOURS_PER_MONTH = 730;

/**
 * EC2 Linux on-demand, us-east-1. P4d, P4de and P5 are the prices after the June 2025 reduction.
 */
export const EC2_ON_DEMAND: Readonly<Record<string, PriceTable>> = {
  "us-east-1": {
    region: "us-east-1",
    source:
      "AWS Price List API (AmazonEC2 offer, Linux, shared tenancy) as snapshotted in " +
      "aws/karpenter-provider-aws pkg/providers/pricing/zz_generated.pricing_aws.go (2026-01-19)",
    readOn: "2026-11-27",
    hourlyUsd: {
      "g5.xlarge": 1.006,
      "g5.2xlarge": 1.212,
      "g5.4xlarge": 1.624,
      "g5.8xlarge": 2.448,
      "g5.12xlarge": 5.672,
      "g5.16xlarge": 4.096,
      "g5.24xlarge": 8.144,
      "g5.48xlarge": 16.288,
      "g6.xlarge": 0.8048,
      "g6.2xlarge": 0.9776,
      "g6.12xlarge": 4.6016,
      "g6.48xlarge": 13.3504,
      "g6e.xlarge": 1.861,
      "g6e.2xlarge": 2.24208,
      "g6e.12xlarge": 10.49264,
      "g6e.48xlarge": 30.13118,
      "p4d.24xlarge": 21.957642,
      "p4de.24xlarge": 27.44705,
      "p5.48xlarge": 55.04,
      "inf2.xlarge": 0.7582,
      "inf2.8xlarge": 1.96786,
      "inf2.24xlarge": 6.49063,
      "inf2.48xlarge": 12.98127,
      "trn1.2xlarge": 1.34375,
      "trn1.32xlarge": 21.5,
      "t3.medium": 0.0416,
      "m5.large": 0.096,
      "m5.xlarge": 0.192,
      "m6i.large": 0.096,
      "m7i.large": 0.1008,
      "c5.xlarge": 0.17,
      "c6i.xlarge": 0.17,
    },
  },
};

/**
 * SageMaker real-time hosting (inference endpoints), us-east-1. ml.p4d and ml.p5 are after the
 * June 2025 reduction.
 */
export const SAGEMAKER_HOSTING: Readonly<Record<string, PriceTable>> = {
  "us-east-1": {
    region: "us-east-1",
    source:
      "AWS Price List API (AmazonSageMaker offer, Hosting) and aws.amazon.com/sagemaker/pricing",
    readOn: "2026-11-27",
    hourlyUsd: {
      "ml.g5.xlarge": 1.408,
      "ml.g5.2xlarge": 1.515,
      "ml.g5.4xlarge": 2.03,
      "ml.g5.8xlarge": 3.06,
      "ml.g5.12xlarge": 7.09,
      "ml.g5.16xlarge": 5.12,
      "ml.g5.24xlarge": 10.18,
      "ml.g5.48xlarge": 20.36,
      "ml.g6.xlarge": 1.1267,
      "ml.g6.2xlarge": 1.222,
      "ml.g6.12xlarge": 5.752,
      "ml.g6.48xlarge": 16.688,
      "ml.g6e.xlarge": 2.61,
      "ml.g6e.2xlarge": 2.8,
      "ml.g6e.12xlarge": 13.12,
      "ml.g6e.48xlarge": 37.66,
      "ml.p4d.24xlarge": 25.2513,
      "ml.p4de.24xlarge": 31.5641,
      "ml.p5.48xlarge": 63.296,
      "ml.inf2.xlarge": 0.99,
      "ml.inf2.8xlarge": 2.36,
      "ml.inf2.24xlarge": 7.79,
      "ml.inf2.48xlarge": 15.58,
      "ml.m5.large": 0.115,
      "ml.m5.xlarge": 0.23,
      "ml.c5.xlarge": 0.204,
    },
  },
};

/** Unit prices for everything that is not an instance-hour. */
export interface UnitPrices {
  region: string;
  source: string;
  readOn: string;
  eksClusterHourly: number;
  eksExtendedSupportClusterHourly: number;
  natGatewayHourly: number;
  natGatewayPerGb: number;
  albHourly: number;
  albLcuHourly: number;
  nlbHourly: number;
  interfaceEndpointPerAzHourly: number;
  interfaceEndpointPerGb: number;
  efsStandardPerGbMonth: number;
  s3StandardPerGbMonth: number;
  s3PutPer1000: number;
  s3GetPer1000: number;
  ecrStoragePerGbMonth: number;
  cloudwatchAlarmMonthly: number;
  cloudwatchHighResAlarmMonthly: number;
  /** A CloudWatch dashboard per month (https://aws.amazon.com/cloudwatch/pricing/, read 2026-12-01). */
  cloudwatchDashboardMonthly: number;
  cloudwatchLogsIngestPerGb: number;
  vendedLogsIngestPerGb: number;
  apiGatewayRestPerMillion: number;
  apiGatewayHttpPerMillion: number;
  sagemakerServerlessPerGbSecond: number;
  kmsKeyMonthly: number;
  ebsGp3PerGbMonth: number;
}

export const UNIT_PRICES: Readonly<Record<string, UnitPrices>> = {
  "us-east-1": {
    region: "us-east-1",
    source:
      "AWS pricing pages and Price List API for EKS, VPC (NAT, PrivateLink), ELB, EFS, S3, ECR, " +
      "CloudWatch, API Gateway, SageMaker Serverless Inference, KMS and EBS",
    readOn: "2026-11-27",
    eksClusterHourly: 0.1,
    eksExtendedSupportClusterHourly: 0.6,
    natGatewayHourly: 0.045,
    natGatewayPerGb: 0.045,
    albHourly: 0.0225,
    albLcuHourly: 0.008,
    nlbHourly: 0.0225,
    interfaceEndpointPerAzHourly: 0.01,
    interfaceEndpointPerGb: 0.01,
    efsStandardPerGbMonth: 0.3,
    s3StandardPerGbMonth: 0.023,
    s3PutPer1000: 0.005,
    s3GetPer1000: 0.0004,
    ecrStoragePerGbMonth: 0.1,
    cloudwatchAlarmMonthly: 0.1,
    cloudwatchHighResAlarmMonthly: 0.3,
    cloudwatchDashboardMonthly: 3.0,
    cloudwatchLogsIngestPerGb: 0.5,
    vendedLogsIngestPerGb: 0.5,
    apiGatewayRestPerMillion: 3.5,
    apiGatewayHttpPerMillion: 1.0,
    sagemakerServerlessPerGbSecond: 0.00002,
    kmsKeyMonthly: 1.0,
    ebsGp3PerGbMonth: 0.08,
  },
};

/** A value looked up for a region, with a warning when it came from the fallback region. */
export interface RegionalLookup<T> {
  value: T;
  /** The region whose table answered. */
  region: string;
  warning?: string;
}

function pickRegion<T>(tables: Readonly<Record<string, T>>, region: string, what: string) {
  if (tables[region]) return { table: tables[region], region };
  return {
    table: tables[FALLBACK_REGION],
    region: FALLBACK_REGION,
    warning: `no ${what} for ${region} in the catalog; using ${FALLBACK_REGION} prices`,
  };
}

/** USD/hour of an EC2 instance type in a region, or undefined when the catalog has no price. */
export function ec2HourlyUsd(
  instanceType: string,
  region: string,
): RegionalLookup<number | undefined> {
  const { table, region: used, warning } = pickRegion(EC2_ON_DEMAND, region, "EC2 prices");
  return { value: table.hourlyUsd[instanceType], region: used, warning };
}

/** USD/hour of a SageMaker hosting instance type (`ml.g5.2xlarge`) in a region. */
export function sagemakerHourlyUsd(
  instanceType: string,
  region: string,
): RegionalLookup<number | undefined> {
  const {
    table,
    region: used,
    warning,
  } = pickRegion(SAGEMAKER_HOSTING, region, "SageMaker prices");
  return { value: table.hourlyUsd[instanceType], region: used, warning };
}

/** The unit prices for a region (falling back to us-east-1 with a warning). */
export function unitPrices(region: string): RegionalLookup<UnitPrices> {
  const { table, region: used, warning } = pickRegion(UNIT_PRICES, region, "unit prices");
  return { value: table, region: used, warning };
}

/** A Savings Plans term the estimator can apply (No Upfront). */
export type SavingsPlanTerm = "none" | "1y" | "3y";
export const SAVINGS_PLAN_TERMS: readonly SavingsPlanTerm[] = ["none", "1y", "3y"];

/** What a discount fact is, where it comes from and when it was read. */
export interface DiscountFact {
  /** Fraction off the on-demand rate (0.25 = 25% off). */
  discount: number;
  source: string;
  readOn: string;
}

/**
 * Savings Plans, No Upfront, as a fraction off on-demand, applied to the instance-hours a plan
 * covers: Compute Savings Plans cover EC2 instances (EKS nodes, the Triton fleet), SageMaker Savings
 * Plans cover SageMaker ML instances and serverless inference. Neither covers the EKS control
 * plane, NAT, storage or requests, and spot usage is priced at the spot assumption instead.
 *
 * AWS publishes the per-instance Savings Plans rates only through the Savings Plans pricing pages
 * and the `DescribeSavingsPlansOfferingRates` API, which these figures were not read from; AWS's
 * published ceilings are "up to 66%" off for Compute Savings Plans and "up to 64%" for SageMaker
 * Savings Plans (both for 3-year All Upfront; aws.amazon.com/savingsplans/faqs), and third-party
 * surveys of Compute Savings Plans give 5-49% off for 1 year and 17-63% for 3 years depending on
 * family and region (hifx.in/?p=4144). The figures below are planning assumptions inside those
 * ranges, deliberately below the ceilings because No Upfront earns less than All Upfront: a plan
 * is never priced better than AWS says it can be. Replace them with the rates your account sees
 * (`aws savingsplans describe-savings-plans-offering-rates`) before committing money.
 */
export const SAVINGS_PLANS: Readonly<
  Record<"compute" | "sagemaker", Record<Exclude<SavingsPlanTerm, "none">, DiscountFact>>
> = {
  compute: {
    "1y": {
      discount: 0.25,
      source:
        "planning assumption inside AWS's published range (Compute Savings Plans up to 66% off, aws.amazon.com/savingsplans/faqs; 1-year 5-49%, hifx.in/?p=4144)",
      readOn: "2026-12-01",
    },
    "3y": {
      discount: 0.45,
      source:
        "planning assumption inside AWS's published range (Compute Savings Plans up to 66% off, aws.amazon.com/savingsplans/faqs; 3-year 17-63%, hifx.in/?p=4144)",
      readOn: "2026-12-01",
    },
  },
  sagemaker: {
    "1y": {
      discount: 0.25,
      source:
        "planning assumption inside AWS's published range (SageMaker Savings Plans up to 64% off, aws.amazon.com/savingsplans/faqs and aws.amazon.com/sagemaker/pricing)",
      readOn: "2026-12-01",
    },
    "3y": {
      discount: 0.45,
      source:
        "planning assumption inside AWS's published range (SageMaker Savings Plans up to 64% off, aws.amazon.com/savingsplans/faqs and aws.amazon.com/sagemaker/pricing)",
      readOn: "2026-12-01",
    },
  },
};

/**
 * Spot instances: AWS advertises "up to 90%" off on-demand (aws.amazon.com/ec2/spot/pricing), and
 * in practice most users save 50-70% (dev.to/alonshrestha/aws-spot-instances-maximize-savings-
 * minimize-interruptions-53o8). GPU spot pools are among the most contended, so the estimator takes
 * the low end of that range: a spot node is priced at half its on-demand rate. Spot prices move
 * hourly per Availability Zone; this is an assumption, not a quote.
 */
export const SPOT_DISCOUNT: Readonly<DiscountFact> = {
  discount: 0.5,
  source:
    "assumption: low end of the 50-70% typically saved (AWS: up to 90%, aws.amazon.com/ec2/spot/pricing)",
  readOn: "2026-12-01",
};

/** Amazon Managed Service for Prometheus: what a workspace and its managed collector cost. */
export interface AmpPrices {
  region: string;
  source: string;
  readOn: string;
  /** USD per metric sample ingested, first tier (the first 2 billion samples a month). */
  ingestPerSample: number;
  /** USD per GB-month of stored samples and metadata. */
  storagePerGbMonth: number;
  /** USD per query sample processed (QSP). */
  queryPerSample: number;
  /**
   * USD per hour a managed collector runs, and per sample it collects: AWS charges "for the number
   * of hours it is turned on and the number of samples collected" (aws.amazon.com/prometheus/
   * pricing), but the rates were not in the sources read; undefined until they are, and the plan
   * says so rather than pricing the collector at $0 silently.
   */
  collectorHourly?: number;
}

/**
 * us-east-1: ingestion $0.90 per 10,000,000 samples for the first 2 billion a month, storage
 * $0.03/GB-Mo, $0.10 per billion query samples processed (aws.amazon.com/prometheus/pricing, as
 * transcribed in infracost/infracost issue #2477, and the first tier as quoted again in 2025 from
 * the same page). The next tiers ($0.35 and $0.16 per 10M) start above 2 billion samples a month,
 * far beyond what one stack's Triton and GPU metrics ingest.
 */
export const AMP_PRICES: Readonly<Record<string, AmpPrices>> = {
  "us-east-1": {
    region: "us-east-1",
    source: "aws.amazon.com/prometheus/pricing (via infracost/infracost#2477)",
    readOn: "2026-12-01",
    ingestPerSample: 0.9 / 10_000_000,
    storagePerGbMonth: 0.03,
    queryPerSample: 0.1 / 1e9,
  },
};

/** The AMP prices for a region (falling back to us-east-1 with a warning). */
export function ampPrices(region: string): RegionalLookup<AmpPrices> {
  const { table, region: used, warning } = pickRegion(AMP_PRICES, region, "AMP prices");
  return { value: table, region: used, warning };
}
