/**
 * Pulumi mocks that answer like AWS: realistic ids, ARNs, names and URLs, derived from the
 * resource's type and name so a plan is the same every run. Remote components that register as one
 * resource under mocks (`awsx:ec2:Vpc`) get the outputs their real implementation returns, so every
 * reference between resources resolves in the recorded inputs.
 */
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";

export const MOCK_ACCOUNT_ID = "123456789012";

type State = Record<string, unknown>;

/** Deterministic hex of a given length from the resource's identity. */
export function hexFor(seed: string, length: number): string {
  let out = "";
  for (let i = 0; out.length < length; i++)
    out += createHash("sha256").update(`${seed}#${i}`).digest("hex");
  return out.slice(0, length);
}

function uuidFor(seed: string): string {
  const h = hexFor(seed, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A Pulumi auto-name: the logical name plus seven hex characters. */
function autoName(name: string, seed: string): string {
  return `${name}-${hexFor(seed, 7)}`;
}

/** The service part of a type token: `aws:ecr/repository:Repository` -> `ecr`. */
function serviceOf(type: string): string {
  return type.split(":")[1]?.split("/")[0] ?? "unknown";
}

export class OfflineMocks implements pulumi.runtime.Mocks {
  /**
   * @param onNewResource called with each resource's deserialized inputs, before they are answered
   *   (the offline engine records them from here).
   */
  constructor(
    private readonly region: string,
    private readonly accountId: string = MOCK_ACCOUNT_ID,
    private readonly onNewResource?: (inputs: Record<string, unknown>) => void,
  ) {}

  private arn(service: string, resource: string, global = false): string {
    return `arn:aws:${service}:${global ? "" : this.region}:${service === "s3" ? "" : this.accountId}:${resource}`;
  }

  newResource(args: pulumi.runtime.MockResourceArgs): { id: string | undefined; state: State } {
    const seed = `${args.type}::${args.name}`;
    const inputs = args.inputs as State;
    this.onNewResource?.(inputs);
    const computed = this.computed(args.type, args.name, inputs, seed);
    if (args.custom === false) return { id: undefined, state: { ...inputs, ...computed.state } };
    return { id: computed.id, state: { ...inputs, ...computed.state } };
  }

  call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
    switch (args.token) {
      case "aws:index/getCallerIdentity:getCallerIdentity":
        return {
          accountId: this.accountId,
          arn: `arn:aws:iam::${this.accountId}:user/offline-plan`,
          userId: "AIDAOFFLINEPLAN",
          id: this.accountId,
        };
      case "aws:index/getRegion:getRegion":
        return {
          name: this.region,
          region: this.region,
          id: this.region,
          endpoint: `ec2.${this.region}.amazonaws.com`,
        };
      case "aws:index/getPartition:getPartition":
        return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" };
      case "aws:index/getAvailabilityZones:getAvailabilityZones":
        return {
          names: ["a", "b", "c", "d", "e", "f"].map((z) => `${this.region}${z}`),
          id: this.region,
        };
      default:
        return {};
    }
  }

  private computed(
    type: string,
    name: string,
    inputs: State,
    seed: string,
  ): { id: string; state: State } {
    const hex17 = hexFor(seed, 17);
    switch (type) {
      case "awsx:ec2:Vpc": {
        const azs =
          typeof inputs.numberOfAvailabilityZones === "number"
            ? inputs.numberOfAvailabilityZones
            : 3;
        const subnets = (kind: string) =>
          Array.from({ length: azs }, (_, i) => `subnet-${hexFor(`${seed}/${kind}/${i}`, 17)}`);
        return {
          id: "",
          state: {
            vpcId: `vpc-${hex17}`,
            privateSubnetIds: subnets("private"),
            publicSubnetIds: subnets("public"),
            isolatedSubnetIds: [],
          },
        };
      }
      case "eks:index:Cluster": {
        const cluster = (inputs.name as string | undefined) ?? autoName(name, seed);
        const clusterSg = `sg-${hexFor(`${seed}/cluster-sg`, 17)}`;
        const endpoint = `https://${hexFor(seed, 32).toUpperCase()}.gr7.${this.region}.eks.amazonaws.com`;
        const kubeconfig = {
          apiVersion: "v1",
          kind: "Config",
          clusters: [
            {
              name: cluster,
              cluster: {
                server: endpoint,
                "certificate-authority-data": "LS0tLS1CRUdJTi1PRkZMSU5FLQ==",
              },
            },
          ],
          contexts: [{ name: cluster, context: { cluster, user: cluster } }],
          "current-context": cluster,
          users: [
            {
              name: cluster,
              user: {
                exec: {
                  apiVersion: "client.authentication.k8s.io/v1beta1",
                  command: "aws",
                  args: ["eks", "get-token", "--cluster-name", cluster],
                },
              },
            },
          ],
        };
        return {
          id: "",
          state: {
            kubeconfig,
            kubeconfigJson: JSON.stringify(kubeconfig),
            eksCluster: {
              name: cluster,
              arn: this.arn("eks", `cluster/${cluster}`),
              endpoint,
              vpcConfig: { clusterSecurityGroupId: clusterSg },
            },
            clusterSecurityGroupId: clusterSg,
            nodeSecurityGroupId: "",
            oidcIssuer: "",
          },
        };
      }
      case "aws:eks/nodeGroup:NodeGroup": {
        const group = (inputs.nodeGroupName as string | undefined) ?? autoName(name, seed);
        return {
          id: `${String(inputs.clusterName)}:${group}`,
          state: {
            nodeGroupName: group,
            arn: this.arn(
              "eks",
              `nodegroup/${String(inputs.clusterName)}/${group}/${hexFor(seed, 8)}`,
            ),
            resources: [
              {
                autoscalingGroups: [{ name: `eks-${group}-${uuidFor(seed)}` }],
                remoteAccessSecurityGroupId: "",
              },
            ],
          },
        };
      }
      case "aws:ec2/launchTemplate:LaunchTemplate":
        return {
          id: `lt-${hex17}`,
          state: { arn: this.arn("ec2", `launch-template/lt-${hex17}`), latestVersion: 1 },
        };
      case "aws:lb/loadBalancer:LoadBalancer": {
        const kind = inputs.loadBalancerType === "network" ? "net" : "app";
        const lb = autoName(name, seed).slice(0, 32);
        const arnSuffix = `${kind}/${lb}/${hexFor(seed, 16)}`;
        const arn = this.arn("elasticloadbalancing", `loadbalancer/${arnSuffix}`);
        return {
          id: arn,
          state: {
            arn,
            arnSuffix,
            name: lb,
            dnsName: `internal-${lb}-${hexFor(seed, 10)}.${this.region}.elb.amazonaws.com`,
          },
        };
      }
      case "aws:lb/targetGroup:TargetGroup": {
        const tg = autoName(name, seed).slice(0, 32);
        const arnSuffix = `targetgroup/${tg}/${hexFor(seed, 16)}`;
        const arn = this.arn("elasticloadbalancing", arnSuffix);
        return { id: arn, state: { arn, arnSuffix, name: tg } };
      }
      case "aws:apigateway/restApi:RestApi": {
        const apiId = hexFor(seed, 10);
        return {
          id: apiId,
          state: {
            name: (inputs.name as string | undefined) ?? autoName(name, seed),
            rootResourceId: hexFor(`${seed}/root`, 10),
            arn: `arn:aws:apigateway:${this.region}::/restapis/${apiId}`,
            executionArn: this.arn("execute-api", apiId),
          },
        };
      }
      case "aws:apigateway/stage:Stage": {
        const stageArn = `arn:aws:apigateway:${this.region}::/restapis/${String(inputs.restApi)}/stages/${String(inputs.stageName)}`;
        return {
          id: `ags-${String(inputs.restApi)}-${String(inputs.stageName)}`,
          state: { arn: stageArn },
        };
      }
      case "aws:efs/fileSystem:FileSystem":
        return {
          id: `fs-${hex17}`,
          state: {
            arn: this.arn("elasticfilesystem", `file-system/fs-${hex17}`),
            dnsName: `fs-${hex17}.efs.${this.region}.amazonaws.com`,
          },
        };
      case "aws:efs/accessPoint:AccessPoint":
        return {
          id: `fsap-${hex17}`,
          state: { arn: this.arn("elasticfilesystem", `access-point/fsap-${hex17}`) },
        };
      case "aws:s3/bucket:Bucket": {
        const bucket = (inputs.bucket as string | undefined) ?? autoName(name, seed);
        return {
          id: bucket,
          state: {
            bucket,
            arn: `arn:aws:s3:::${bucket}`,
            bucketDomainName: `${bucket}.s3.amazonaws.com`,
            bucketRegionalDomainName: `${bucket}.s3.${this.region}.amazonaws.com`,
            region: this.region,
          },
        };
      }
      case "aws:kms/key:Key": {
        const keyId = uuidFor(seed);
        return { id: keyId, state: { keyId, arn: this.arn("kms", `key/${keyId}`) } };
      }
      case "aws:ecr/repository:Repository": {
        const repo = (inputs.name as string | undefined) ?? autoName(name, seed);
        return {
          id: repo,
          state: {
            name: repo,
            arn: this.arn("ecr", `repository/${repo}`),
            registryId: this.accountId,
            repositoryUrl: `${this.accountId}.dkr.ecr.${this.region}.amazonaws.com/${repo}`,
          },
        };
      }
      case "aws:iam/role:Role": {
        const role = (inputs.name as string | undefined) ?? autoName(name, seed);
        return {
          id: role,
          state: {
            name: role,
            arn: `arn:aws:iam::${this.accountId}:role/${role}`,
            uniqueId: `AROA${hex17.toUpperCase()}`,
          },
        };
      }
      case "aws:iam/instanceProfile:InstanceProfile": {
        const profile = (inputs.name as string | undefined) ?? autoName(name, seed);
        return {
          id: profile,
          state: {
            name: profile,
            arn: `arn:aws:iam::${this.accountId}:instance-profile/${profile}`,
          },
        };
      }
      case "aws:iam/policy:Policy": {
        const policy = (inputs.name as string | undefined) ?? autoName(name, seed);
        const arn = `arn:aws:iam::${this.accountId}:policy/${policy}`;
        return { id: arn, state: { name: policy, arn } };
      }
      case "aws:cloudwatch/logGroup:LogGroup": {
        const group = (inputs.name as string | undefined) ?? autoName(name, seed);
        return { id: group, state: { name: group, arn: this.arn("logs", `log-group:${group}`) } };
      }
      case "aws:ec2/securityGroup:SecurityGroup":
        return { id: `sg-${hex17}`, state: { arn: this.arn("ec2", `security-group/sg-${hex17}`) } };
      case "aws:ec2/vpcEndpoint:VpcEndpoint":
        return {
          id: `vpce-${hex17}`,
          state: { arn: this.arn("ec2", `vpc-endpoint/vpce-${hex17}`) },
        };
      case "aws:ec2/flowLog:FlowLog":
        return { id: `fl-${hex17}`, state: { arn: this.arn("ec2", `vpc-flow-log/fl-${hex17}`) } };
      case "aws:amp/workspace:Workspace": {
        // AMP's ARNs use the service prefix `aps` and workspace ids `ws-<uuid>`.
        const id = `ws-${uuidFor(seed)}`;
        return { id, state: { arn: this.arn("aps", `workspace/${id}`) } };
      }
      case "aws:sns/topic:Topic": {
        const topic = (inputs.name as string | undefined) ?? autoName(name, seed);
        const arn = this.arn("sns", topic);
        return { id: arn, state: { name: topic, arn } };
      }
      case "aws:sqs/queue:Queue": {
        // A queue's id is its URL; its ARN ends in the bare name (no `queue/`).
        const queue = (inputs.name as string | undefined) ?? autoName(name, seed);
        const url = `https://sqs.${this.region}.amazonaws.com/${this.accountId}/${queue}`;
        return { id: url, state: { name: queue, url, arn: this.arn("sqs", queue) } };
      }
      case "aws:cloudwatch/metricAlarm:MetricAlarm": {
        const alarm = (inputs.name as string | undefined) ?? autoName(name, seed);
        return { id: alarm, state: { name: alarm, arn: this.arn("cloudwatch", `alarm:${alarm}`) } };
      }
      // aws-native (Cloud Control) resources name their own properties, `<thing>Name` and
      // `<thing>Arn`; the id is the ARN for these two, as CloudFormation's primary identifiers.
      case "aws-native:sagemaker:EndpointConfig": {
        const configName =
          (inputs.endpointConfigName as string | undefined) ?? autoName(name, seed);
        const arn = this.arn("sagemaker", `endpoint-config/${configName.toLowerCase()}`);
        return { id: arn, state: { endpointConfigName: configName, endpointConfigArn: arn } };
      }
      case "aws-native:sagemaker:InferenceComponent": {
        const component =
          (inputs.inferenceComponentName as string | undefined) ?? autoName(name, seed);
        const arn = this.arn("sagemaker", `inference-component/${component.toLowerCase()}`);
        return {
          id: arn,
          state: {
            inferenceComponentName: component,
            inferenceComponentArn: arn,
            inferenceComponentStatus: "InService",
          },
        };
      }
      default: {
        // Most AWS resources auto-name a `name` property; the id is the physical name.
        const physical = (inputs.name as string | undefined) ?? autoName(name, seed);
        const kind = type.split(":")[2]?.toLowerCase() ?? "resource";
        return {
          id: physical,
          state: { name: physical, arn: this.arn(serviceOf(type), `${kind}/${physical}`) },
        };
      }
    }
  }
}
