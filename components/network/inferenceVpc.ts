import * as aws from "@pulumi/aws";
// The ec2 module and the enums only: the package index also loads awsx's classic, ECS and load
// balancer modules and the AWS SDK's ECS client, about 150 ms of every plan for nothing this uses.
import * as awsxEc2 from "@pulumi/awsx/ec2";
import * as awsxEnums from "@pulumi/awsx/types/enums";
import * as pulumi from "@pulumi/pulumi";
import {
  ArgError,
  checkIntegerRange,
  checkLogRetention,
  checkOneOf,
  throwIfInvalid,
} from "../validation";
import { Tags, withTags } from "../tags";
import { serviceRole } from "../trust";

/** How many NAT gateways the VPC runs. */
export const NatGatewayStrategy = {
  /** No NAT: private subnets reach AWS only through VPC endpoints. */
  None: "none",
  /** One NAT gateway for all AZs (cheaper; an AZ outage cuts egress). */
  Single: "single",
  /** One NAT gateway per AZ (production). */
  OnePerAz: "onePerAz",
} as const;
export type NatGatewayStrategy = (typeof NatGatewayStrategy)[keyof typeof NatGatewayStrategy];

/**
 * The AWS services an inference VPC can reach privately through interface endpoints: the last part
 * of the endpoint service name `com.amazonaws.<region>.<name>`. Everything the stack calls from
 * its private subnets is here (catalog/privateEndpoints.ts says which piece calls which, with
 * sources; names as in https://docs.aws.amazon.com/eks/latest/userguide/private-clusters.html and
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/setup-create-vpc.html).
 */
export const InterfaceEndpointService = {
  EcrApi: "ecr.api",
  EcrDkr: "ecr.dkr",
  SageMakerRuntime: "sagemaker.runtime",
  SageMakerApi: "sagemaker.api",
  Sts: "sts",
  Logs: "logs",
  Monitoring: "monitoring",
  /** EC2: the EKS optimized AMI names its node; the LB controller and autoscaler describe. */
  Ec2: "ec2",
  /** EKS Pod Identity credentials. */
  EksAuth: "eks-auth",
  /** The AWS Load Balancer Controller. */
  ElasticLoadBalancing: "elasticloadbalancing",
  /** The cluster autoscaler. */
  Autoscaling: "autoscaling",
  /** The EFS CSI driver's controller. */
  ElasticFileSystem: "elasticfilesystem",
  /** Session Manager (SSM Agent). */
  Ssm: "ssm",
  /** Session Manager's data channels (SSM Agent). */
  SsmMessages: "ssmmessages",
  /** SSM Agent before 3.3.40.0 only. */
  Ec2Messages: "ec2messages",
  /** Amazon Managed Service for Prometheus's Prometheus-compatible APIs (KEDA's queries). */
  ApsWorkspaces: "aps-workspaces",
} as const;
export type InterfaceEndpointService =
  (typeof InterfaceEndpointService)[keyof typeof InterfaceEndpointService];

export interface InferenceVpcArgs {
  /**
   * The VPC's IPv4 range, a /16 to /22.
   * @default "10.0.0.0/16"
   */
  cidrBlock?: string;
  /**
   * Availability zones, 2 to 6. Each gets a private subnet (nodes, endpoints) and a public one
   * (internet-facing load balancers, NAT gateways).
   * @default 2
   */
  azCount?: number;
  /**
   * NAT gateways: `none`, `single` or `onePerAz`. Each costs about $33/month plus $0.045/GB.
   * @default "onePerAz"
   */
  natGateways?: NatGatewayStrategy;
  /**
   * Interface endpoints for private access to AWS APIs; each costs about $7.30/month per AZ.
   * The S3 gateway endpoint is always created (it is free). With `natGateways: "none"` list every
   * endpoint what runs in the subnets calls: catalog/privateEndpoints.ts says which, and the
   * `deployer-and-nodes-reach-aws` policy names each one missing.
   * @default ["ecr.api", "ecr.dkr", "sagemaker.runtime", "sts", "logs"]
   * @example ["ecr.api", "ecr.dkr"]
   */
  interfaceEndpoints?: InterfaceEndpointService[];
  /**
   * VPC flow logs (all traffic) to a CloudWatch log group.
   * @default true
   */
  flowLogs?: boolean;
  /**
   * How long flow logs are kept, in days (a CloudWatch Logs retention value).
   * @default 90
   */
  flowLogRetentionDays?: number;
  /** KMS key for the flow log group; CloudWatch Logs' own encryption when absent. */
  flowLogKmsKeyArn?: pulumi.Input<string>;
  /**
   * An EKS cluster that will use the subnets: tags them `kubernetes.io/cluster/<name>=shared`.
   */
  clusterName?: string;
  /**
   * The region the VPC is in (endpoint service names depend on it).
   * @default the `aws:region` config of the stack
   */
  region?: string;
  /** Tags for every resource (cost allocation: environment, team, cost centre). */
  tags?: Tags;
}

export const DEFAULT_INTERFACE_ENDPOINTS: InterfaceEndpointService[] = [
  "ecr.api",
  "ecr.dkr",
  "sagemaker.runtime",
  "sts",
  "logs",
];

/** Subnet sizes for a VPC range: private subnets take 1/8 of it each, public 1/64. */
export function subnetLayout(cidrBlock: string): {
  privateCidrMask: number;
  publicCidrMask: number;
} {
  const prefix = Number(cidrBlock.split("/")[1]);
  return { privateCidrMask: prefix + 3, publicCidrMask: prefix + 6 };
}

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Every problem with the arguments, each naming its property. */
export function validateInferenceVpcArgs(args: InferenceVpcArgs): ArgError[] {
  const errors: ArgError[] = [];
  if (args.cidrBlock !== undefined) {
    const m = CIDR.exec(args.cidrBlock);
    const octetsOk = m !== null && m.slice(1, 5).every((o) => Number(o) <= 255);
    const prefix = m ? Number(m[5]) : NaN;
    if (!m || !octetsOk || prefix < 16 || prefix > 22) {
      errors.push({
        propertyPath: "cidrBlock",
        reason: `must be an IPv4 CIDR from /16 to /22, got ${JSON.stringify(args.cidrBlock)}`,
      });
    }
  }
  checkIntegerRange(errors, "azCount", args.azCount, 2, 6);
  checkOneOf(errors, "natGateways", args.natGateways, Object.values(NatGatewayStrategy));
  const allowed = Object.values(InterfaceEndpointService) as string[];
  (args.interfaceEndpoints ?? []).forEach((s, i) =>
    checkOneOf(errors, `interfaceEndpoints[${i}]`, s, allowed),
  );
  const seen = new Set<string>();
  for (const s of args.interfaceEndpoints ?? []) {
    if (seen.has(s))
      errors.push({ propertyPath: "interfaceEndpoints", reason: `lists ${s} twice` });
    seen.add(s);
  }
  const missing = missingEgressEndpoints(
    args.natGateways ?? "onePerAz",
    args.interfaceEndpoints ?? DEFAULT_INTERFACE_ENDPOINTS,
  );
  if (missing.length > 0)
    errors.push({
      propertyPath: "natGateways",
      reason: `none leaves the private subnets no way to pull images or get credentials: add ${missing.join(", ")} to interfaceEndpoints (S3 has its gateway endpoint), or use single or onePerAz`,
    });
  checkLogRetention(errors, "flowLogRetentionDays", args.flowLogRetentionDays);
  if (!(args.region ?? aws.config.region)) {
    errors.push({
      propertyPath: "region",
      reason: "must be set when the stack has no aws:region config",
    });
  }
  return errors;
}

/**
 * The interface endpoints nodes need when there is no NAT gateway: pulling an image from ECR
 * calls the ECR API and the registry (layers come from S3, through the gateway endpoint every VPC
 * here has), and Pod Identity and IRSA credentials come from STS
 * (https://docs.aws.amazon.com/eks/latest/userguide/private-clusters.html, "VPC endpoints for
 * private clusters": ecr.api, ecr.dkr, s3 (gateway), sts).
 */
export const NODE_EGRESS_ENDPOINTS: InterfaceEndpointService[] = ["ecr.api", "ecr.dkr", "sts"];

/** The egress endpoints a VPC without NAT lacks (none when it has NAT). */
export function missingEgressEndpoints(
  nat: NatGatewayStrategy,
  endpoints: readonly string[],
): InterfaceEndpointService[] {
  if (nat !== "none") return [];
  return NODE_EGRESS_ENDPOINTS.filter((e) => !endpoints.includes(e));
}

const AWSX_NAT: Record<NatGatewayStrategy, awsxEnums.ec2.NatGatewayStrategy> = {
  none: "None",
  single: "Single",
  onePerAz: "OnePerAz",
};

/** Write access to one log group and nothing else. */
export function flowLogsDeliveryPolicy(logGroupArn: string): object {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
        Resource: [logGroupArn, `${logGroupArn}:*`],
      },
    ],
  };
}

/** What a VPC is, decided from its arguments before any resource exists. */
export interface InferenceVpcSettings {
  cidrBlock: string;
  azCount: number;
  nat: NatGatewayStrategy;
  /** The interface endpoints to create. */
  endpoints: InterfaceEndpointService[];
  /** Subnet sizes for the range. */
  layout: { privateCidrMask: number; publicCidrMask: number };
  /** `kubernetes.io/cluster/<name>: shared` on every subnet when a cluster will use them. */
  clusterTag: Record<string, string>;
  /** The region endpoint service names are in: the argument, else the stack's `aws:region`. */
  region: string;
}

/** The settings of a VPC: its arguments with their defaults filled in. */
export function inferenceVpcSettings(
  args: InferenceVpcArgs,
  stackRegion: string | undefined,
): InferenceVpcSettings {
  const cidrBlock = args.cidrBlock ?? "10.0.0.0/16";
  return {
    cidrBlock,
    azCount: args.azCount ?? 2,
    nat: args.natGateways ?? "onePerAz",
    endpoints: args.interfaceEndpoints ?? DEFAULT_INTERFACE_ENDPOINTS,
    layout: subnetLayout(cidrBlock),
    clusterTag: args.clusterName ? { [`kubernetes.io/cluster/${args.clusterName}`]: "shared" } : {},
    region: (args.region ?? stackRegion) as string,
  };
}

/** The resource name of VPC `name`'s endpoint to `service`: `ecr.api` becomes `<name>-ecr-api`. */
export function interfaceEndpointResourceName(
  name: string,
  service: InterfaceEndpointService,
): string {
  return `${name}-${service.replace(".", "-")}`;
}

/**
 * A VPC for inference: private subnets for nodes and endpoints, public subnets for load balancers
 * and NAT, an S3 gateway endpoint, interface endpoints to the AWS APIs serving needs, flow logs,
 * and the subnet tags EKS and the AWS Load Balancer Controller discover subnets by.
 */
export class InferenceVpc extends pulumi.ComponentResource {
  /** The VPC's id. */
  public readonly vpcId: pulumi.Output<string>;
  /** The private subnets (one per AZ), where endpoints, nodes and instances run. */
  public readonly privateSubnetIds: pulumi.Output<string[]>;
  /** The public subnets (one per AZ), for NAT gateways and public load balancers. */
  public readonly publicSubnetIds: pulumi.Output<string[]>;
  /** The VPC's IPv4 CIDR block. */
  public readonly cidrBlock: string;
  /** The security group of the interface endpoints (HTTPS from inside the VPC). */
  public readonly endpointSecurityGroupId?: pulumi.Output<string>;
  /** The CloudWatch log group of the VPC flow logs, when flow logs are on. */
  public readonly flowLogGroupName?: pulumi.Output<string>;

  constructor(name: string, args: InferenceVpcArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    // Validate before anything is registered: bad input fails at preview, naming the field.
    throwIfInvalid("InferenceVpc", name, validateInferenceVpcArgs(args));
    super("llm-infra:index:InferenceVpc", name, {}, opts);

    const ctx = this.context(name, args);

    const vpc = this.createVpc(ctx);
    this.vpcId = vpc.vpcId;
    this.privateSubnetIds = vpc.privateSubnetIds;
    this.publicSubnetIds = vpc.publicSubnetIds;
    this.cidrBlock = ctx.settings.cidrBlock;
    this.endpointSecurityGroupId = this.createInterfaceEndpoints(ctx, vpc)?.id;
    this.flowLogGroupName = this.createFlowLogs(ctx, vpc)?.name;

    this.registerOutputs({
      vpcId: this.vpcId,
      privateSubnetIds: this.privateSubnetIds,
      publicSubnetIds: this.publicSubnetIds,
      endpointSecurityGroupId: this.endpointSecurityGroupId,
      flowLogGroupName: this.flowLogGroupName,
    });
  }

  /** The VPC's arguments, its settings and the options its children share. */
  private context(name: string, args: InferenceVpcArgs): VpcContext {
    return {
      name,
      args,
      tags: args.tags,
      child: { parent: this },
      settings: inferenceVpcSettings(args, aws.config.region),
    };
  }

  /**
   * The VPC, with a private and a public subnet per AZ tagged for EKS and the load balancer
   * controller, the NAT gateways asked for, and the S3 gateway endpoint (free).
   */
  private createVpc(ctx: VpcContext): awsxEc2.Vpc {
    const { name, args, child } = ctx;
    const { cidrBlock, azCount, nat, layout, clusterTag, region } = ctx.settings;
    return new awsxEc2.Vpc(
      `${name}-vpc`,
      {
        cidrBlock,
        numberOfAvailabilityZones: azCount,
        enableDnsHostnames: true,
        enableDnsSupport: true,
        subnetStrategy: "Auto",
        subnetSpecs: [
          {
            type: "Private",
            name: "private",
            cidrMask: layout.privateCidrMask,
            tags: withTags(args.tags, { "kubernetes.io/role/internal-elb": "1", ...clusterTag }),
          },
          {
            type: "Public",
            name: "public",
            cidrMask: layout.publicCidrMask,
            tags: withTags(args.tags, { "kubernetes.io/role/elb": "1", ...clusterTag }),
          },
        ],
        natGateways: { strategy: AWSX_NAT[nat] },
        vpcEndpointStrategy: "Auto",
        vpcEndpointSpecs: [
          {
            serviceName: `com.amazonaws.${region}.s3`,
            vpcEndpointType: "Gateway",
            tags: withTags(args.tags, { Name: `${name}-s3` }),
          },
        ],
        tags: args.tags,
      },
      child,
    );
  }

  /**
   * The interface endpoints asked for, in the private subnets with private DNS, behind one
   * security group that admits HTTPS from inside the VPC. Returns that security group (none when
   * no endpoint is asked for).
   */
  private createInterfaceEndpoints(
    ctx: VpcContext,
    vpc: awsxEc2.Vpc,
  ): aws.ec2.SecurityGroup | undefined {
    const { name, tags, child } = ctx;
    const { cidrBlock, endpoints, region } = ctx.settings;
    if (endpoints.length === 0) return undefined;
    const endpointSg = new aws.ec2.SecurityGroup(
      `${name}-endpoints`,
      {
        vpcId: vpc.vpcId,
        description: "HTTPS from inside the VPC to the AWS API interface endpoints",
        ingress: [
          {
            protocol: "tcp",
            fromPort: 443,
            toPort: 443,
            cidrBlocks: [cidrBlock],
            description: "HTTPS from the VPC",
          },
        ],
        tags,
      },
      child,
    );
    for (const service of endpoints) {
      new aws.ec2.VpcEndpoint(
        interfaceEndpointResourceName(name, service),
        {
          vpcId: vpc.vpcId,
          serviceName: `com.amazonaws.${region}.${service}`,
          vpcEndpointType: "Interface",
          privateDnsEnabled: true,
          subnetIds: vpc.privateSubnetIds,
          securityGroupIds: [endpointSg.id],
          tags,
        },
        child,
      );
    }
    return endpointSg;
  }

  /**
   * Flow logs of all traffic to a CloudWatch log group, delivered by a role that can write to that
   * group only. Returns the log group (none when flow logs are off).
   */
  private createFlowLogs(ctx: VpcContext, vpc: awsxEc2.Vpc): aws.cloudwatch.LogGroup | undefined {
    const { name, args, tags, child } = ctx;
    if (!(args.flowLogs ?? true)) return undefined;
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-flow-logs`,
      {
        retentionInDays: args.flowLogRetentionDays ?? 90,
        kmsKeyId: args.flowLogKmsKeyArn,
        tags,
      },
      child,
    );
    const role = serviceRole(
      `${name}-flow-logs`,
      "vpc-flow-logs.amazonaws.com",
      "Delivers VPC flow logs to one log group",
      tags,
      this,
    );
    new aws.iam.RolePolicy(
      `${name}-flow-logs`,
      {
        role: role.id,
        policy: logGroup.arn.apply((arn) => JSON.stringify(flowLogsDeliveryPolicy(arn))),
      },
      child,
    );
    new aws.ec2.FlowLog(
      `${name}-flow-log`,
      {
        vpcId: vpc.vpcId,
        trafficType: "ALL",
        logDestinationType: "cloud-watch-logs",
        logDestination: logGroup.arn,
        iamRoleArn: role.arn,
        maxAggregationInterval: 60,
        tags,
      },
      child,
    );
    return logGroup;
  }
}

/** The values the VPC's resources share. */
interface VpcContext {
  name: string;
  args: InferenceVpcArgs;
  tags: Tags | undefined;
  child: pulumi.CustomResourceOptions;
  settings: InferenceVpcSettings;
}
