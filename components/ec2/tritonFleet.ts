import { DEFAULT_UTILIZATION } from "../../catalog/cost";
import {
  MODEL_CLASS_TAG,
  UTILIZATION_TAG,
  modelClassOf,
  utilizationProblem,
} from "../../catalog/tokenCost";
import { fleetGracePeriodSeconds, startupEstimate } from "../../catalog/startup";
import * as aws from "@pulumi/aws";
import { internalHttpAlb, tritonReadyHealthCheck } from "../triton/tritonLoadBalancer";
import * as pulumi from "@pulumi/pulumi";
import {
  AMI_SSM_PARAMETERS,
  TritonFlavour,
  imageServesNeuron,
  splitImageUri,
  tritonImage,
  tritonImageProblems,
} from "../../catalog/images";
import { driverProblem, fleetHostDriver } from "../../catalog/drivers";
import { InstanceSpec, findInstance } from "../../catalog/instances";
import {
  ModelRequirements,
  fitsInstance,
  shorterContextAdvice,
  validateModelRequirements,
} from "../../catalog/modelFit";
import { serviceRole } from "../trust";
import { Tags } from "../tags";
import { ArgError, checkIntegerRange, checkScalingBounds, throwIfInvalid } from "../validation";

export interface TritonFleetArgs {
  /** The VPC (InferenceVpc.vpcId). */
  vpcId: pulumi.Input<string>;
  /** The VPC's range: the internal load balancer admits HTTP from it. */
  vpcCidrBlock: string;
  /** Private subnets for the instances and the internal load balancer. */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** The instance type: GPU (g5, g6, g6e, p4d, p5) or Inferentia2. */
  instanceType: string;
  /** More instance types of the same accelerators, for spot. */
  extraInstanceTypes?: string[];
  /** Share of capacity above the first instance that runs on spot, percent. @default 0 */
  spotPercent?: number;
  /** `s3://<bucket>/<prefix>/` (ModelStore.modelUri(...)): synced to the instance at boot. */
  modelRepositoryUri: pulumi.Input<string>;
  /** The read-only policy of the model prefix (ModelStore.readOnlyPolicy(...)). */
  readPolicyJson: pulumi.Input<string>;
  /** The whole Triton image (NGC, or an ECR URI), instead of the three keys below. */
  image?: string;
  /** The Triton image flavour (`base`, `vllm`, `trtllm`, `neuron`). @default "base" */
  imageFlavour?: TritonFlavour;
  /** An ECR repository of the stack (ModelRegistry.repositoryUrls[...]); the instance role may pull it. @default NGC */
  imageRepository?: pulumi.Input<string>;
  /** The tag. @default the flavour's NGC tag */
  imageTag?: string;
  /** What the model needs, checked against the instance's accelerators. */
  modelRequirements?: ModelRequirements;
  /**
   * The share of an instance's hours it serves at its published throughput, for the cost per
   * million output tokens (catalog/tokenCost.ts), in (0, 1].
   * @default 0.5
   */
  utilization?: number;
  /** Fewest instances. @default 1 */
  minSize?: number;
  /** Instances at creation; target tracking owns it afterwards. @default 2 */
  desiredSize?: number;
  /** Most instances. @default 4 */
  maxSize?: number;
  /** Target of ALBRequestCountPerTarget, requests per instance per minute. @default 60 */
  targetRequestsPerInstance?: number;
  /** Root volume, GiB (encrypted gp3). @default 200 */
  rootVolumeGib?: number;
  /** Tags for every resource (propagated to the instances). */
  tags?: Tags;
}

const ECR_IMAGE = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com\/([a-z0-9._/-]+)(:[\w.-]+)?$/;

export function validateTritonFleetArgs(args: TritonFleetArgs): ArgError[] {
  const errors: ArgError[] = [];
  if (args.utilization !== undefined) {
    const problem = utilizationProblem(args.utilization);
    if (problem) errors.push({ propertyPath: "utilization", reason: problem });
  }
  const spec = findInstance(args.instanceType);
  if (!spec || args.instanceType.startsWith("ml.")) {
    errors.push({
      propertyPath: "instanceType",
      reason: `${JSON.stringify(args.instanceType)} is not an EC2 instance type the catalog knows`,
    });
  } else if (!spec.accelerator) {
    errors.push({
      propertyPath: "instanceType",
      reason: `${args.instanceType} has no accelerator${args.modelRequirements ? ", and the model needs one" : ", and Triton serves LLMs on GPUs or Inferentia"}`,
    });
  } else if (
    args.modelRequirements &&
    validateModelRequirements(args.modelRequirements).length === 0
  ) {
    const fit = fitsInstance(args.modelRequirements, spec);
    if (!fit.fits)
      errors.push({
        propertyPath: "modelRequirements",
        reason: `the model needs ${fit.requiredGib.toFixed(1)} GiB of accelerator memory but ${args.instanceType} has ${fit.availableGib.toFixed(1)} GiB${shorterContextAdvice(args.modelRequirements, spec)}`,
      });
  }
  // A whole `image` is judged by its repository and tag alone (no flavour: never Neuron-built as
  // far as the catalog knows); otherwise by the flavour and whether it comes from your repository.
  const neuronReady =
    args.image !== undefined
      ? imageServesNeuron(splitImageUri(args.image))
      : imageServesNeuron({
          flavour: args.imageFlavour,
          repository: args.imageRepository === undefined ? undefined : "your repository",
          tag: args.imageTag,
        });
  // A neuron flavour without its repository or tag is refused below, naming the missing key.
  const neuronChosen = args.image === undefined && args.imageFlavour === "neuron";
  if (spec?.accelerator?.kind === "neuron" && !neuronReady && !neuronChosen) {
    const what =
      args.image ??
      (args.imageRepository !== undefined || args.imageFlavour === "neuron"
        ? `the ${args.imageFlavour ?? "base"} Triton image`
        : fleetImage(args));
    errors.push({
      propertyPath: "image",
      reason: `${args.instanceType} has Neuron devices, and ${what} has no Neuron runtime (NVIDIA's NGC Triton images serve NVIDIA GPUs only); give a Neuron-built Triton image (imageFlavour neuron, imageRepository, imageTag)`,
    });
  }
  for (const [i, t] of (args.extraInstanceTypes ?? []).entries()) {
    const other = findInstance(t);
    const same =
      other?.accelerator &&
      spec?.accelerator &&
      other.accelerator.model === spec.accelerator.model &&
      other.accelerator.count === spec.accelerator.count;
    if (!same)
      errors.push({
        propertyPath: `extraInstanceTypes[${i}]`,
        reason: `${t} must have the same accelerators as ${args.instanceType}`,
      });
  }
  if (args.image === undefined)
    for (const p of tritonImageProblems(
      {
        flavour: args.imageFlavour,
        repository: args.imageRepository === undefined ? undefined : "set",
        tag: args.imageTag,
      },
      { instanceType: args.instanceType, accelerator: spec?.accelerator?.kind },
    ))
      errors.push({ propertyPath: p.field, reason: p.reason });
  // An NGC Triton tag needs the driver NVIDIA lists for it; the fleet's NVIDIA AMI is the Deep
  // Learning Base AMI (amiParameter), whose driver catalog/drivers.ts gives.
  if (spec?.accelerator?.kind === "nvidia" && args.imageFlavour !== "neuron") {
    const tag =
      args.image !== undefined
        ? splitImageUri(args.image).tag
        : (args.imageTag ?? tritonImage({ flavour: args.imageFlavour }).tag);
    const problem = driverProblem(tag, fleetHostDriver());
    if (problem !== undefined)
      errors.push({
        propertyPath:
          args.image !== undefined
            ? "image"
            : args.imageTag !== undefined
              ? "imageTag"
              : "imageFlavour",
        reason: problem,
      });
  }
  checkIntegerRange(errors, "spotPercent", args.spotPercent, 0, 100);
  checkIntegerRange(errors, "minSize", args.minSize, 0, 100);
  checkIntegerRange(errors, "maxSize", args.maxSize, 1, 100);
  checkScalingBounds(errors, fleetSize(args));
  if (
    typeof args.modelRepositoryUri === "string" &&
    !/^s3:\/\/[a-z0-9.-]+\/.+\/$/.test(args.modelRepositoryUri)
  ) {
    errors.push({
      propertyPath: "modelRepositoryUri",
      reason: `must be s3://<bucket>/<prefix>/, got ${JSON.stringify(args.modelRepositoryUri)}`,
    });
  }
  return errors;
}

export function fleetSize(args: Pick<TritonFleetArgs, "minSize" | "desiredSize" | "maxSize">) {
  return { min: args.minSize ?? 1, desired: args.desiredSize ?? 2, max: args.maxSize ?? 4 };
}

/** The fleet's image: `image`, or the flavour's image from NGC or from `imageRepository`. */
export function fleetImage(args: TritonFleetArgs, imageRepository?: string): string {
  if (args.image !== undefined) return args.image;
  const { repository, tag } = tritonImage({
    flavour: args.imageFlavour,
    repository: imageRepository,
    tag: args.imageTag,
  });
  return `${repository}:${tag}`;
}

/** The instance role's pull permission for an ECR image: its repository only. */
export function imagePullPolicy(image: string): string {
  const ecr = ECR_IMAGE.exec(image);
  if (!ecr) throw new Error(`${image} is not an ECR image`);
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        Resource: `arn:aws:ecr:${ecr[2]}:${ecr[1]}:repository/${ecr[3]}`,
      },
      { Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" },
    ],
  });
}

/** The SSM parameter of the AMI for the accelerator: the Deep Learning AMI (NVIDIA) or the ECS Neuron AMI. */
export function amiParameter(instanceType: string): string {
  return findInstance(instanceType)?.accelerator?.kind === "neuron"
    ? AMI_SSM_PARAMETERS.ecsNeuron
    : AMI_SSM_PARAMETERS.deepLearningBaseGpu;
}

/**
 * The boot script: the CloudWatch agent, the model repository synced from S3, then tritonserver in
 * a container with the instance's accelerators, restarted by Docker if it exits.
 */
export function tritonUserData(o: {
  image: string;
  modelRepositoryUri: string;
  region: string;
  accelerator: "nvidia" | "neuron";
}): string {
  const ecr = ECR_IMAGE.exec(o.image);
  const devices =
    o.accelerator === "nvidia"
      ? "--gpus all"
      : "$(ls /dev/neuron* | sed 's/^/--device=/' | tr '\\n' ' ')";
  return [
    "#!/bin/bash",
    "set -euo pipefail",
    "dnf install -y amazon-cloudwatch-agent || yum install -y amazon-cloudwatch-agent",
    "/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c default",
    "mkdir -p /models",
    `aws s3 sync --only-show-errors ${o.modelRepositoryUri} /models/`,
    ...(ecr
      ? [
          `aws ecr get-login-password --region ${ecr[2]} | docker login --username AWS --password-stdin ${ecr[1]}.dkr.ecr.${ecr[2]}.amazonaws.com`,
        ]
      : []),
    `docker pull ${o.image}`,
    `docker run -d --name tritonserver --restart unless-stopped ${devices} --shm-size=8g -p 8000:8000 -p 8001:8001 -p 8002:8002 -v /models:/models ${o.image} tritonserver --model-repository=/models`,
    "",
  ].join("\n");
}

/**
 * Triton on an EC2 Auto Scaling group of GPU or Inferentia instances behind an internal ALB: an
 * accelerated AMI from the public SSM parameters, user data that syncs the model repository and
 * starts tritonserver, the CloudWatch agent, IMDSv2, encrypted volumes, no public IP, Session
 * Manager instead of SSH, an instance role that reads only the model's prefix, a target group
 * health-checked on /v2/health/ready, target tracking on requests per target, instance refresh for
 * rolling updates, and spot as an option.
 */
export class TritonFleet extends pulumi.ComponentResource {
  /** The internal Application Load Balancer in front of the fleet. */
  public readonly loadBalancerArn: pulumi.Output<string>;
  /** The load balancer's DNS name (HTTP to Triton's port 8000 behind it). */
  public readonly loadBalancerDnsName: pulumi.Output<string>;
  /** The load balancer's listener (the front door's VPC link targets it). */
  public readonly listenerArn: pulumi.Output<string>;
  /** The Auto Scaling group of Triton instances. */
  public readonly autoScalingGroupName: pulumi.Output<string>;
  /** The load balancer's ARN suffix: its CloudWatch dimension (LoadBalancer). */
  public readonly loadBalancerArnSuffix: pulumi.Output<string>;
  /** The target group's ARN suffix: its CloudWatch dimension (TargetGroup). */
  public readonly targetGroupArnSuffix: pulumi.Output<string>;

  constructor(name: string, args: TritonFleetArgs, opts?: pulumi.ComponentResourceOptions) {
    throwIfInvalid("TritonFleet", name, validateTritonFleetArgs(args));
    super("llm-infra:index:TritonFleet", name, {}, opts);
    const ctx = this.context(name, args);

    const { albSg, instanceSg } = this.createSecurityGroups(ctx);
    const profile = this.createInstanceProfile(ctx);
    const template = this.createLaunchTemplate(ctx, profile, instanceSg);
    const { targetGroup, alb, listener } = this.createLoadBalancer(ctx, albSg);
    const group = this.createAutoScalingGroup(ctx, template, targetGroup);
    this.createScaling(ctx, group, alb, targetGroup, listener);

    this.loadBalancerArn = alb.arn;
    this.loadBalancerDnsName = alb.dnsName;
    this.listenerArn = listener.arn;
    this.autoScalingGroupName = group.name;
    this.loadBalancerArnSuffix = alb.arnSuffix;
    this.targetGroupArnSuffix = targetGroup.arnSuffix;
    this.registerOutputs({
      loadBalancerArn: this.loadBalancerArn,
      loadBalancerDnsName: this.loadBalancerDnsName,
      autoScalingGroupName: this.autoScalingGroupName,
      loadBalancerArnSuffix: this.loadBalancerArnSuffix,
      targetGroupArnSuffix: this.targetGroupArnSuffix,
    });
  }

  /** The fleet's arguments and the values its resources share: instance spec, image, region. */
  private context(name: string, args: TritonFleetArgs): FleetContext {
    const child = { parent: this };
    const spec = findInstance(args.instanceType)!;
    const image = pulumi
      .output(args.imageRepository)
      .apply((repository) => fleetImage(args, repository));
    const fromEcr =
      args.imageRepository !== undefined ||
      (args.image !== undefined && ECR_IMAGE.test(args.image));
    const region = aws.getRegionOutput({}, child).region;
    return { name, args, tags: args.tags, child, spec, image, fromEcr, region };
  }

  /**
   * The load balancer's security group (HTTP from inside the VPC, out to Triton only) and the
   * instances' (Triton HTTP from the load balancer only; out to S3, ECR, NGC and SSM).
   */
  private createSecurityGroups(ctx: FleetContext): {
    albSg: aws.ec2.SecurityGroup;
    instanceSg: aws.ec2.SecurityGroup;
  } {
    const { name, args, tags, child } = ctx;
    const albSg = new aws.ec2.SecurityGroup(
      `${name}-alb`,
      {
        vpcId: args.vpcId,
        description: "Triton fleet load balancer: HTTP from inside the VPC",
        ingress: [
          {
            protocol: "tcp",
            fromPort: 80,
            toPort: 80,
            cidrBlocks: [args.vpcCidrBlock],
            description: "HTTP from the VPC",
          },
        ],
        egress: [
          {
            protocol: "tcp",
            fromPort: 8000,
            toPort: 8000,
            cidrBlocks: [args.vpcCidrBlock],
            description: "to Triton",
          },
        ],
        tags,
      },
      child,
    );
    const instanceSg = new aws.ec2.SecurityGroup(
      `${name}-instances`,
      {
        vpcId: args.vpcId,
        description: "Triton instances: Triton HTTP from the load balancer only",
        ingress: [
          {
            protocol: "tcp",
            fromPort: 8000,
            toPort: 8000,
            securityGroups: [albSg.id],
            description: "Triton HTTP from the ALB",
          },
        ],
        egress: [
          {
            protocol: "-1",
            fromPort: 0,
            toPort: 0,
            cidrBlocks: ["0.0.0.0/0"],
            description: "S3, ECR, NGC, SSM",
          },
        ],
        tags,
      },
      child,
    );

    return { albSg, instanceSg };
  }

  /**
   * The instance role and profile: the model prefix read policy it is given, Session Manager and
   * the CloudWatch agent, and pulling the image when it is in ECR.
   */
  private createInstanceProfile(ctx: FleetContext): aws.iam.InstanceProfile {
    const { name, args, tags, child, image } = ctx;
    const role = serviceRole(
      `${name}-instances`,
      "ec2.amazonaws.com",
      `Triton fleet ${name}`,
      tags,
      this,
    );
    new aws.iam.RolePolicy(`${name}-models`, { role: role.id, policy: args.readPolicyJson }, child);
    for (const arn of [
      "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
      "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy",
    ]) {
      new aws.iam.RolePolicyAttachment(
        `${name}-${arn.split("/").pop()}`,
        { role: role.name, policyArn: arn },
        child,
      );
    }
    if (ctx.fromEcr) {
      new aws.iam.RolePolicy(
        `${name}-image`,
        { role: role.id, policy: image.apply(imagePullPolicy) },
        child,
      );
    }
    return new aws.iam.InstanceProfile(`${name}-instances`, { role: role.name, tags }, child);
  }

  /**
   * The launch template: the accelerated AMI, IMDSv2, an encrypted gp3 root volume, no public IP
   * and no SSH key, and user data that syncs the model repository and starts tritonserver.
   */
  private createLaunchTemplate(
    ctx: FleetContext,
    profile: aws.iam.InstanceProfile,
    instanceSg: aws.ec2.SecurityGroup,
  ): aws.ec2.LaunchTemplate {
    const { name, args, tags, child, spec, image, region } = ctx;
    return new aws.ec2.LaunchTemplate(
      `${name}-lt`,
      {
        description: `Triton fleet ${name}: IMDSv2, encrypted gp3, no public IP, no SSH key`,
        imageId: `resolve:ssm:${amiParameter(args.instanceType)}`,
        instanceType: args.instanceType,
        iamInstanceProfile: { arn: profile.arn },
        metadataOptions: {
          httpEndpoint: "enabled",
          httpTokens: "required",
          httpPutResponseHopLimit: 2,
        },
        blockDeviceMappings: [
          {
            deviceName: "/dev/xvda",
            ebs: {
              volumeSize: args.rootVolumeGib ?? 200,
              volumeType: "gp3",
              encrypted: "true",
              deleteOnTermination: "true",
            },
          },
        ],
        networkInterfaces: [
          {
            associatePublicIpAddress: "false",
            deleteOnTermination: "true",
            securityGroups: [instanceSg.id],
          },
        ],
        userData: pulumi.all([args.modelRepositoryUri, region, image]).apply(([uri, r, img]) =>
          Buffer.from(
            tritonUserData({
              image: img,
              modelRepositoryUri: uri,
              region: r,
              accelerator: spec.accelerator!.kind,
            }),
          ).toString("base64"),
        ),
        tagSpecifications: [
          { resourceType: "instance", tags },
          { resourceType: "volume", tags },
        ],
        tags,
      },
      child,
    );
  }

  /**
   * The internal ALB, its listener and the target group health-checked on /v2/health/ready.
   */
  private createLoadBalancer(
    ctx: FleetContext,
    albSg: aws.ec2.SecurityGroup,
  ): { targetGroup: aws.lb.TargetGroup; alb: aws.lb.LoadBalancer; listener: aws.lb.Listener } {
    const { name, args, tags, child } = ctx;
    const targetGroup = new aws.lb.TargetGroup(
      `${name}-tg`,
      {
        vpcId: args.vpcId,
        port: 8000,
        protocol: "HTTP",
        targetType: "instance",
        deregistrationDelay: 60,
        healthCheck: tritonReadyHealthCheck("8000"),
        tags,
      },
      child,
    );
    const { alb, listener } = internalHttpAlb(
      name,
      { subnetIds: args.subnetIds, securityGroupId: albSg.id, targetGroup, port: 80, tags },
      child,
    );

    return { targetGroup, alb, listener };
  }

  /**
   * The Auto Scaling group: on-demand, or spot above one on-demand instance; instance refresh for
   * rolling updates; the desired capacity left to autoscaling after creation.
   */
  private createAutoScalingGroup(
    ctx: FleetContext,
    template: aws.ec2.LaunchTemplate,
    targetGroup: aws.lb.TargetGroup,
  ): aws.autoscaling.Group {
    const { name, args, tags } = ctx;
    const size = fleetSize(args);
    const launchTemplate = {
      id: template.id,
      version: pulumi.interpolate`${template.latestVersion}`,
    };
    const spot = (args.spotPercent ?? 0) > 0;
    return new aws.autoscaling.Group(
      `${name}-asg`,
      {
        vpcZoneIdentifiers: args.subnetIds,
        minSize: size.min,
        maxSize: size.max,
        desiredCapacity: size.desired,
        targetGroupArns: [targetGroup.arn],
        healthCheckType: "ELB",
        // Weights take minutes to load before /v2/health/ready answers: the grace period covers
        // the estimated download and load (catalog/startup.ts), so the group does not replace an
        // instance that is still starting.
        healthCheckGracePeriod: fleetGracePeriodSeconds(
          args.modelRequirements
            ? startupEstimate(args.modelRequirements, args.instanceType)
            : undefined,
        ),
        ...(spot
          ? {
              mixedInstancesPolicy: {
                launchTemplate: {
                  launchTemplateSpecification: {
                    launchTemplateId: template.id,
                    version: pulumi.interpolate`${template.latestVersion}`,
                  },
                  overrides: [args.instanceType, ...(args.extraInstanceTypes ?? [])].map(
                    (instanceType) => ({ instanceType }),
                  ),
                },
                instancesDistribution: {
                  onDemandBaseCapacity: 1,
                  onDemandPercentageAboveBaseCapacity: 100 - (args.spotPercent ?? 0),
                  spotAllocationStrategy: "price-capacity-optimized",
                },
              },
            }
          : { launchTemplate }),
        instanceRefresh: {
          strategy: "Rolling",
          preferences: { minHealthyPercentage: 90, instanceWarmup: "1200", autoRollback: true },
        },
        tags: pulumi.output(tags ?? {}).apply((t) => [
          ...Object.entries(t).map(([key, value]) => ({ key, value, propagateAtLaunch: true })),
          // What the cost per token is computed from (catalog/tokenCost.ts); the group's alone.
          ...(args.modelRequirements
            ? [
                {
                  key: MODEL_CLASS_TAG,
                  value: modelClassOf(args.modelRequirements),
                  propagateAtLaunch: false,
                },
              ]
            : []),
          {
            key: UTILIZATION_TAG,
            value: String(args.utilization ?? DEFAULT_UTILIZATION),
            propagateAtLaunch: false,
          },
        ]),
      },
      { parent: this, ignoreChanges: ["desiredCapacity"] },
    );
  }

  /** Target tracking on requests per target, once the listener routes to the group. */
  private createScaling(
    ctx: FleetContext,
    group: aws.autoscaling.Group,
    alb: aws.lb.LoadBalancer,
    targetGroup: aws.lb.TargetGroup,
    listener: aws.lb.Listener,
  ): void {
    const { name, args } = ctx;
    new aws.autoscaling.Policy(
      `${name}-requests`,
      {
        autoscalingGroupName: group.name,
        policyType: "TargetTrackingScaling",
        estimatedInstanceWarmup: 1200,
        targetTrackingConfiguration: {
          targetValue: args.targetRequestsPerInstance ?? 60,
          predefinedMetricSpecification: {
            predefinedMetricType: "ALBRequestCountPerTarget",
            resourceLabel: pulumi.interpolate`${alb.arnSuffix}/${targetGroup.arnSuffix}`,
          },
        },
      },
      { parent: this, dependsOn: [listener] },
    );
  }
}

/** What every step of a TritonFleet reads. */
interface FleetContext {
  name: string;
  args: TritonFleetArgs;
  tags: Tags | undefined;
  child: pulumi.CustomResourceOptions;
  spec: InstanceSpec;
  image: pulumi.Output<string>;
  fromEcr: boolean;
  region: pulumi.Output<string>;
}
