/**
 * The network of a SageMaker endpoint in a VPC, shared by single-model endpoints and endpoints of
 * inference components: a security group with no inbound and HTTPS outbound only, so the model
 * containers in private subnets talk to AWS APIs and S3 and nothing else.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Tags } from "../tags";

/** The VPC settings of a model or endpoint configuration: the subnets and the security group. */
export interface EndpointVpcConfig {
  subnets: pulumi.Input<pulumi.Input<string>[]>;
  securityGroupIds: pulumi.Input<string>[];
}

/** `${name}-sg` in `vpcId`, and the subnets with it. */
export function endpointSecurityGroup(
  name: string,
  args: {
    vpcId: pulumi.Input<string>;
    subnetIds: pulumi.Input<pulumi.Input<string>[]>;
    endpointName: string;
    tags: Tags | undefined;
  },
  opts: pulumi.CustomResourceOptions,
): EndpointVpcConfig {
  const sg = new aws.ec2.SecurityGroup(
    `${name}-sg`,
    {
      vpcId: args.vpcId,
      description: `SageMaker endpoint ${args.endpointName}: no inbound, HTTPS outbound`,
      egress: [
        {
          protocol: "tcp",
          fromPort: 443,
          toPort: 443,
          cidrBlocks: ["0.0.0.0/0"],
          description: "HTTPS to AWS APIs and S3",
        },
      ],
      tags: args.tags,
    },
    opts,
  );
  return { subnets: args.subnetIds, securityGroupIds: [sg.id] };
}
