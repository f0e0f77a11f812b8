import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Tags } from "../tags";
import { ArgError, checkIntegerRange, throwIfInvalid } from "../validation";

/** Triton's HTTP port in the chart's Service and pods (charts/triton values.yaml service.httpPort). */
export const TRITON_HTTP_PORT = 8000;

/** The load balancer's listener port. */
export const TRITON_LB_PORT = 80;

export interface TritonLoadBalancerArgs {
  /** The cluster's VPC. */
  vpcId: pulumi.Input<string>;
  /** The VPC's CIDR: who may call the load balancer (the API's VPC link forwards from inside it). */
  vpcCidrBlock: pulumi.Input<string>;
  /** Private subnets, in at least two AZs (an ALB needs two). */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * The security group on Triton's pods: with the VPC CNI (no security groups for pods) a pod uses
   * its node's, and EKS attaches the cluster security group to managed node groups whose launch
   * template names none (GpuCluster.clusterSecurityGroupId). An ingress rule on it admits the load
   * balancer to Triton's port.
   */
  podSecurityGroupId: pulumi.Input<string>;
  /** Triton's namespace (TritonRelease.namespace). */
  namespace: string;
  /** Triton's Service (TritonRelease.workloadName). */
  serviceName: pulumi.Input<string>;
  /** The ALB's idle timeout, seconds (1-4000): long generations stream for minutes. @default 600 */
  idleTimeoutSeconds?: number;
  /** Tags for every AWS resource. */
  tags?: Tags;
}

export function validateTritonLoadBalancerArgs(args: TritonLoadBalancerArgs): ArgError[] {
  const errors: ArgError[] = [];
  checkIntegerRange(errors, "idleTimeoutSeconds", args.idleTimeoutSeconds, 1, 4000);
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(args.namespace))
    errors.push({
      propertyPath: "namespace",
      reason: `must be a Kubernetes namespace name, got ${JSON.stringify(args.namespace)}`,
    });
  return errors;
}

/**
 * The TargetGroupBinding that has the AWS Load Balancer Controller register Triton's pods (by IP)
 * in a target group it did not create. Fields from the controller's CRD reference,
 * kubernetes-sigs/aws-load-balancer-controller docs/guide/targetgroupbinding/spec.md
 * (elbv2.k8s.aws/v1beta1: `serviceRef` {name, port}, `targetGroupARN`, `targetType` ip|instance,
 * optional `networking`) and targetgroupbinding.md. `networking` is left out: the controller then
 * changes no security group, and the ingress rule beside this binding admits the load balancer.
 */
export function targetGroupBindingManifest(
  name: string,
  namespace: string,
  serviceName: string,
  targetGroupArn: string,
): Record<string, unknown> {
  return {
    apiVersion: "elbv2.k8s.aws/v1beta1",
    kind: "TargetGroupBinding",
    metadata: { name, namespace },
    spec: {
      serviceRef: { name: serviceName, port: TRITON_HTTP_PORT },
      targetGroupARN: targetGroupArn,
      targetType: "ip",
    },
  };
}

/**
 * An internal ALB that this stack owns in front of Triton on EKS, so that other resources (the
 * API's VPC link) can name it: a security group (HTTP from the VPC, out to Triton's port), an IP
 * target group health-checked on `/v2/health/ready`, the ALB and its listener, an ingress rule on
 * the pods' security group from the ALB, and the TargetGroupBinding through which the AWS Load
 * Balancer Controller keeps the target group in step with Triton's pods. Pass the cluster's
 * Kubernetes provider in `opts.providers`, and the load balancer controller and the Triton release
 * in `dependsOn` (the binding's CRD and webhook come with the controller).
 */
export class TritonLoadBalancer extends pulumi.ComponentResource {
  /** The ALB's ARN (what InferenceApi's `loadBalancerArn` takes). */
  public readonly loadBalancerArn: pulumi.Output<string>;
  /** The ALB's DNS name, reachable from inside the VPC. */
  public readonly loadBalancerDnsName: pulumi.Output<string>;
  /** The target group Triton's pods are registered in. */
  public readonly targetGroupArn: pulumi.Output<string>;
  /** The ALB's security group. */
  public readonly securityGroupId: pulumi.Output<string>;
  /** The listener port (HTTP). */
  public readonly port: number = TRITON_LB_PORT;

  constructor(name: string, args: TritonLoadBalancerArgs, opts?: pulumi.ComponentResourceOptions) {
    throwIfInvalid("TritonLoadBalancer", name, validateTritonLoadBalancerArgs(args));
    super("llm-infra:index:TritonLoadBalancer", name, {}, opts);
    const albSg = this.createSecurityGroups(name, args);
    const { alb, targetGroup } = this.createLoadBalancer(name, args, albSg);
    this.createBinding(name, args, targetGroup, opts);

    this.loadBalancerArn = alb.arn;
    this.loadBalancerDnsName = alb.dnsName;
    this.targetGroupArn = targetGroup.arn;
    this.securityGroupId = albSg.id;
    this.registerOutputs({
      loadBalancerArn: this.loadBalancerArn,
      loadBalancerDnsName: this.loadBalancerDnsName,
      targetGroupArn: this.targetGroupArn,
      securityGroupId: this.securityGroupId,
    });
  }

  /**
   * The load balancer's security group (HTTP from inside the VPC, out to Triton's port) and the
   * ingress rule on the pods' security group that admits it to Triton's port.
   */
  private createSecurityGroups(name: string, args: TritonLoadBalancerArgs): aws.ec2.SecurityGroup {
    const child = { parent: this };
    const albSg = new aws.ec2.SecurityGroup(
      `${name}-alb`,
      {
        vpcId: args.vpcId,
        description: "Triton on EKS load balancer: HTTP from inside the VPC",
        ingress: [
          {
            protocol: "tcp",
            fromPort: TRITON_LB_PORT,
            toPort: TRITON_LB_PORT,
            cidrBlocks: [args.vpcCidrBlock],
            description: "HTTP from the VPC",
          },
        ],
        egress: [
          {
            protocol: "tcp",
            fromPort: TRITON_HTTP_PORT,
            toPort: TRITON_HTTP_PORT,
            cidrBlocks: [args.vpcCidrBlock],
            description: "to Triton's pods",
          },
        ],
        tags: args.tags,
      },
      child,
    );
    new aws.ec2.SecurityGroupRule(
      `${name}-to-pods`,
      {
        type: "ingress",
        securityGroupId: args.podSecurityGroupId,
        sourceSecurityGroupId: albSg.id,
        protocol: "tcp",
        fromPort: TRITON_HTTP_PORT,
        toPort: TRITON_HTTP_PORT,
        description: "Triton HTTP from its load balancer",
      },
      child,
    );
    return albSg;
  }

  /** The IP target group health-checked on `/v2/health/ready`, the internal ALB and its listener. */
  private createLoadBalancer(
    name: string,
    args: TritonLoadBalancerArgs,
    albSg: aws.ec2.SecurityGroup,
  ): { alb: aws.lb.LoadBalancer; targetGroup: aws.lb.TargetGroup } {
    const child = { parent: this };
    const tags = args.tags;
    const targetGroup = new aws.lb.TargetGroup(
      `${name}-tg`,
      {
        vpcId: args.vpcId,
        port: TRITON_HTTP_PORT,
        protocol: "HTTP",
        targetType: "ip",
        deregistrationDelay: 60,
        healthCheck: tritonReadyHealthCheck("traffic-port"),
        tags,
      },
      child,
    );
    const { alb } = internalHttpAlb(
      name,
      {
        subnetIds: args.subnetIds,
        securityGroupId: albSg.id,
        targetGroup,
        port: TRITON_LB_PORT,
        idleTimeoutSeconds: args.idleTimeoutSeconds ?? 600,
        tags,
      },
      child,
    );
    return { alb, targetGroup };
  }

  /** The TargetGroupBinding: the controller registers Triton's pods in the target group. */
  private createBinding(
    name: string,
    args: TritonLoadBalancerArgs,
    targetGroup: aws.lb.TargetGroup,
    opts: pulumi.ComponentResourceOptions | undefined,
  ): void {
    const binding = pulumi
      .all([args.serviceName, targetGroup.arn])
      .apply(([service, arn]) => targetGroupBindingManifest(name, args.namespace, service, arn));
    new k8s.apiextensions.CustomResource(
      `${name}-binding`,
      {
        apiVersion: "elbv2.k8s.aws/v1beta1",
        kind: "TargetGroupBinding",
        metadata: { name, namespace: args.namespace },
        spec: binding.apply((b) => b.spec),
      },
      // A child does not wait for its component's dependencies: the binding waits for them itself
      // (the controller's CRD and webhook, Triton's Service).
      { parent: this, dependsOn: opts?.dependsOn },
    );
  }
}

/**
 * A target group's health check on Triton's readiness (KServe v2 `GET /v2/health/ready`: 200 once
 * the server and its models are ready, triton-inference-server/server docs/protocol), shared by
 * Triton on EKS and on the fleet.
 */
export function tritonReadyHealthCheck(port: string) {
  return {
    path: "/v2/health/ready",
    port,
    protocol: "HTTP",
    matcher: "200",
    interval: 15,
    healthyThreshold: 2,
    unhealthyThreshold: 3,
  };
}

/**
 * An internal application load balancer (`<name>-alb`, invalid header fields dropped) with one HTTP
 * listener (`<name>-http`) forwarding to `targetGroup`: Triton's front on EKS and on the fleet.
 */
export function internalHttpAlb(
  name: string,
  o: {
    subnetIds: pulumi.Input<pulumi.Input<string>[]>;
    securityGroupId: pulumi.Input<string>;
    targetGroup: aws.lb.TargetGroup;
    port: number;
    idleTimeoutSeconds?: number;
    tags?: Tags;
  },
  opts: pulumi.CustomResourceOptions,
): { alb: aws.lb.LoadBalancer; listener: aws.lb.Listener } {
  const alb = new aws.lb.LoadBalancer(
    `${name}-alb`,
    {
      loadBalancerType: "application",
      internal: true,
      subnets: o.subnetIds,
      securityGroups: [o.securityGroupId],
      dropInvalidHeaderFields: true,
      idleTimeout: o.idleTimeoutSeconds,
      tags: o.tags,
    },
    opts,
  );
  const listener = new aws.lb.Listener(
    `${name}-http`,
    {
      loadBalancerArn: alb.arn,
      port: o.port,
      protocol: "HTTP",
      defaultActions: [{ type: "forward", targetGroupArn: o.targetGroup.arn }],
      tags: o.tags,
    },
    opts,
  );
  return { alb, listener };
}
