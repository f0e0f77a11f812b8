/**
 * What a stack creates, from its validated configuration. `programs/index.ts` runs this under the
 * Pulumi engine; `npm run plan` runs the same function under mocks.
 */
import * as pulumi from "@pulumi/pulumi";
import type * as k8s from "@pulumi/kubernetes";
import { InferenceVpc } from "../components/network/inferenceVpc";
import { ModelRegistry } from "../components/storage/modelRegistry";
import { ModelStore } from "../components/storage/modelStore";
import { ModelWeights } from "../components/storage/modelWeights";
import { weightsCopiesOf } from "../modelRepository/weights";
import { SageMakerEndpoint, requestFormatOf } from "../components/sagemaker/sageMakerEndpoint";
import { AcceleratorNodeGroup } from "../components/eks/acceleratorNodeGroup";
import { ClusterAddons } from "../components/eks/clusterAddons";
import { GpuCluster } from "../components/eks/gpuCluster";
import { GpuNodePool } from "../components/eks/gpuNodePool";
import { Karpenter } from "../components/eks/karpenter";
import { DO_NOT_DISRUPT_WINDOW } from "../catalog/karpenter";
import { nodePoolArgs, poolWorkloadsOf, usesNodePools } from "./eksConfig";
import { MetricsPipeline } from "../components/eks/metricsPipeline";
import { SharedModelCache } from "../components/eks/sharedModelCache";
import { TritonRelease } from "../components/triton/tritonRelease";
import { TritonLoadBalancer } from "../components/triton/tritonLoadBalancer";
import { TritonFleet } from "../components/ec2/tritonFleet";
import { InferenceApi } from "../components/api/inferenceApi";
import { AlarmTopic } from "../components/monitoring/alarmTopic";
import { ServingMonitor } from "../components/monitoring/servingMonitor";
import { findInstance } from "../catalog/instances";
import { OffHoursSchedule, ScheduledGroup } from "../components/schedule/offHoursSchedule";
import { fleetSize } from "../components/ec2/tritonFleet";
import { instanceCounts } from "../components/sagemaker/endpointArgs";
import * as aws from "@pulumi/aws";
import * as path from "path";
import { ImageMirror } from "../components/storage/imageMirror";
import {
  CREDENTIAL_FREE_UPSTREAMS,
  PullThroughUpstream,
  SYNC_IMAGE,
} from "../catalog/imageSources";
import { TritonFlavour, splitImageUri, tritonImage as tritonImageOf } from "../catalog/images";
import { PROJECT, StackConfig } from "./config";
import { ImagePlan, imagePlan } from "./imagePlan";
import { imagesDirectory } from "./imagesConfig";
import { componentArgs, componentEndpointArgs, ownImageTag } from "./sagemakerConfig";
import { InferenceComponentEndpoint } from "../components/sagemaker/inferenceComponentEndpoint";

/** The stack outputs other stacks and scripts read. */
export interface PlatformOutputs {
  environment: string;
  region: string;
  vpcId: pulumi.Output<string>;
  privateSubnetIds: pulumi.Output<string[]>;
  publicSubnetIds: pulumi.Output<string[]>;
  modelBucketName: pulumi.Output<string>;
  modelRepositoryUri: pulumi.Output<string>;
  registryUrls: pulumi.Output<Record<string, string>>;
  /** SageMaker endpoint names by configured name. */
  sagemakerEndpoints: Record<string, string>;
  /**
   * Endpoints of inference components: each component's name (what `npm run invoke --
   * --component` and InvokeEndpoint's InferenceComponentName take), by endpoint and component.
   */
  sagemakerComponents: Record<string, Record<string, string>>;
  /** Async endpoints: where requests are uploaded (`InputLocation`), by configured name. */
  sagemakerAsyncInputUris: Record<string, pulumi.Output<string>>;
  /** The EKS cluster's name, when the stack has one. */
  eksClusterName?: string;
  kubeconfig?: pulumi.Output<string>;
  /** The API's invoke URL and the fleet's load balancer, when the stack has them. */
  apiUrl?: pulumi.Output<string>;
  /** The API's key id, with API-key authentication (`aws apigateway get-api-key --include-value`). */
  apiKeyId?: pulumi.Output<string>;
  fleetLoadBalancerDnsName?: pulumi.Output<string>;
  /** Triton on EKS's internal load balancer, when the API fronts it (`llm-infra:api.backend: triton`). */
  tritonLoadBalancerDnsName?: pulumi.Output<string>;
  /** The topic every alarm of the stack notifies: subscribe the on-call channel to it. */
  alarmTopicArn: pulumi.Output<string>;
  /** The stack's CloudWatch dashboard, unless llm-infra:monitoring.dashboard is false. */
  dashboardName?: pulumi.Output<string>;
  /**
   * The CodeBuild project that copies the Hugging Face Hub weights the stack's model repositories
   * name into the model store, when they name any (the deploy starts it).
   */
  modelWeightsProject?: pulumi.Output<string>;
  /**
   * The CodeBuild project that copies and builds the stack's images into its ECR, when the stack
   * has any to bring in: the deploy starts it (automation/images.ts buildImages).
   */
  imageBuildProject?: pulumi.Output<string>;
}

/** The stack's image mirror and what its workloads pull, when they pull from ECR. */
interface StackImages {
  mirror?: ImageMirror;
  /** Upstream image -> the stack's ECR image, with `llm-infra:images.source: ecr`. */
  imageUris?: pulumi.Output<Record<string, string>>;
  plan: ImagePlan;
}

/** The pull-through prefix's start: the project and stack, cut to fit ECR's 30 characters. */
export function cachePrefixOf(stack: string): string {
  return `${PROJECT}-${stack}`.slice(0, 19).replace(/[-._]+$/, "");
}

/**
 * The image mirror of a stack (components/storage/imageMirror.ts): NGC Triton copies into the
 * repositories targets name, the images of llm-infra:images.builds, and with source ecr every
 * upstream image the workloads run (pull-through where ECR caches the registry, copies otherwise).
 */
function createImages(
  config: StackConfig,
  registry: ModelRegistry,
  models: ModelStore,
): StackImages {
  const plan = imagePlan(config);
  if (!plan.needed) return { plan };
  const { builds, upstreamCredentials } = config.images;
  const credentialed = Object.keys(upstreamCredentials) as PullThroughUpstream[];
  const mirror = new ImageMirror(
    "images",
    {
      cachePrefix: cachePrefixOf(config.stack),
      pullThroughUpstreams:
        plan.source === "ecr" ? [...CREDENTIAL_FREE_UPSTREAMS, ...credentialed] : [],
      upstreamCredentialArns: upstreamCredentials,
      images: plan.workloadImages,
      copies: plan.copies.map((c) => ({
        source: c.source,
        targetRepositoryUrl: registry.repositoryUrls[c.repository],
        targetRepositoryArn: registry.repositoryArns[c.repository],
        targetTag: c.tag,
      })),
      builds: builds.map((b) => ({
        directory: path.join(imagesDirectory(), b.directory),
        baseImage: b.baseImage,
        targetRepositoryUrl: registry.repositoryUrls[b.repository],
        targetRepositoryArn: registry.repositoryArns[b.repository],
        tag: b.tag,
      })),
      sourceBucket:
        builds.length > 0
          ? { name: models.bucketName, arn: models.bucketArn, kmsKeyArn: models.kmsKeyArn }
          : undefined,
      kmsKeyArn: registry.kmsKeyArn,
      tags: config.tags,
    },
    { dependsOn: [registry] },
  );
  return {
    mirror,
    plan,
    imageUris: plan.source === "ecr" ? mirror.imageUris : undefined,
  };
}

/** The repository of an upstream image's ECR copy, when the workloads pull from ECR. */
function ecrRepositoryOf(images: StackImages, upstream: string): pulumi.Output<string> | undefined {
  return images.imageUris?.apply((m) => splitImageUri(m[upstream]).repository);
}

/**
 * One turn of the event loop. The SDK resolves a resource's registration in promise callbacks;
 * built in one synchronous loop, hundreds of endpoints keep every one of their outputs pending at
 * once, and the garbage collector copies that growing set again and again (the plan of 200
 * endpoints held about 550 MB live and cost 1.6 times as much per endpoint as 10). A turn after
 * each endpoint lets its registrations finish before the next one starts; the resources, their
 * order and their inputs are the same.
 */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export async function createPlatform(config: StackConfig): Promise<PlatformOutputs> {
  const tags = config.tags;

  const network = new InferenceVpc("network", { ...config.network, region: config.region, tags });

  const registry = new ModelRegistry("registry", {
    ...config.storage.registry,
    retainOnDelete: config.storage.retainOnDelete,
    tags,
  });

  const models = new ModelStore("models", {
    ...config.storage.modelStore,
    retainOnDelete: config.storage.retainOnDelete,
    tags,
  });

  // Hub weights the LMI endpoints serve and the targets' vLLM models name, copied into the store
  // by a build that runs in AWS: serving reads them from the target's prefix, never from the hub.
  const copies = weightsCopiesOf(config, config.root);
  const weights =
    copies.length > 0
      ? new ModelWeights("model-weights", {
          copies,
          bucketName: models.bucketName,
          bucketArn: models.bucketArn,
          kmsKeyArn: models.kmsKeyArn,
          hubTokenSecretArn: config.storage.hubTokenSecretArn,
          tags,
        })
      : undefined;

  const alarmTopic = new AlarmTopic("alarms", { region: config.region, tags });
  const images = createImages(config, registry, models);

  const endpoints: Record<string, string> = {};
  const endpointComponents: Record<string, SageMakerEndpoint | InferenceComponentEndpoint> = {};
  for (const e of config.sagemaker.endpoints) {
    const ownImage = (target: {
      ownImageRepository?: string;
      imageTag?: string;
      imageFlavour?: TritonFlavour;
    }) =>
      target.ownImageRepository !== undefined
        ? {
            imageUri: pulumi.interpolate`${registry.repositoryUrls[target.ownImageRepository]}:${target.imageTag ?? ownImageTag(target.imageFlavour)}`,
          }
        : {};
    // What every endpoint takes from the stack: the model store, its network, the alarm topic.
    const fromStack = {
      utilization: e.utilization ?? config.cost.assumptions.utilization,
      modelBucketArn: models.bucketArn,
      modelKmsKeyArn: models.kmsKeyArn,
      // The model store's key also encrypts the instances' EBS storage volumes (types without
      // instance storage, such as ml.inf2.*) and the async output, as sagemaker-volume-kms asks.
      kmsKeyArn: models.kmsKeyArn,
      subnetIds: e.inVpc ? network.privateSubnetIds : undefined,
      vpcId: e.inVpc ? network.vpcId : undefined,
      alarmTopicArn: alarmTopic.topicArn,
      tags,
    };
    const args = e.components !== undefined ? componentEndpointArgs(e, config.region) : undefined;
    const endpoint =
      args !== undefined
        ? new InferenceComponentEndpoint(e.name, {
            ...args,
            components: args.components.map((c, i) => ({ ...c, ...ownImage(e.components![i]) })),
            ...fromStack,
          })
        : new SageMakerEndpoint(e.name, {
            ...componentArgs(e, config.region),
            ...ownImage(e),
            ...fromStack,
          });
    endpoints[e.name] = endpoint.endpointName;
    endpointComponents[e.name] = endpoint;
    await nextTurn();
  }

  const eksPlatform = config.eks
    ? createEksPlatform(config, network, models, registry, images)
    : undefined;
  const cluster = eksPlatform?.cluster;

  let fleet: TritonFleet | undefined;
  if (config.fleet) {
    const { modelPrefix, ownImageRepository, ...fleetArgs } = config.fleet;
    fleet = new TritonFleet("fleet", {
      ...fleetArgs,
      utilization: fleetArgs.utilization ?? config.cost.assumptions.utilization,
      vpcId: network.vpcId,
      vpcCidrBlock: network.cidrBlock,
      subnetIds: network.privateSubnetIds,
      modelRepositoryUri: pulumi.interpolate`s3://${models.bucketName}/${modelPrefix}/`,
      readPolicyJson: models.readOnlyPolicyForPrefix(modelPrefix),
      imageRepository:
        ownImageRepository !== undefined
          ? registry.repositoryUrls[ownImageRepository]
          : fleetArgs.image === undefined
            ? ecrRepositoryOf(images, upstreamTriton(fleetArgs))
            : undefined,
      // A whole `image` from outside AWS is served from the stack's ECR like any other.
      ...(fleetArgs.image !== undefined && images.imageUris
        ? {
            image: undefined,
            imageRepository: ecrRepositoryOf(images, fleetArgs.image),
            imageTag: splitImageUri(fleetArgs.image).tag,
          }
        : {}),
      tags,
    });
  }
  if (config.cost.offHours) {
    createOffHoursSchedule(config, endpointComponents, eksPlatform, fleet);
  }

  let api: InferenceApi | undefined;
  if (config.api) {
    const { backend, ...apiArgs } = config.api;
    // Triton on the fleet or on EKS: each behind an internal load balancer of this stack.
    const loadBalanced =
      backend === "fleet"
        ? fleet
        : backend === "triton"
          ? eksPlatform?.tritonLoadBalancer
          : undefined;
    api = new InferenceApi(
      "api",
      {
        ...apiArgs,
        ...(loadBalanced
          ? {
              loadBalancerArn: loadBalanced.loadBalancerArn,
              vpcId: network.vpcId,
              subnetIds: network.privateSubnetIds,
            }
          : {
              sagemakerEndpointName: endpoints[backend],
              sagemakerEndpointMode: endpointComponents[backend].mode,
              requestFormat: requestFormatOf(
                config.sagemaker.endpoints.find((e) => e.name === backend) ?? {},
              ),
            }),
        tags,
      },
      { dependsOn: loadBalanced ? [loadBalanced] : [endpointComponents[backend]] },
    );
  }

  // Container Insights (the CloudWatch observability add-on) is what reports Triton's pods.
  const containerInsights = (config.eks?.addons.gpuMetrics ?? "cloudwatch") === "cloudwatch";
  const triton = eksPlatform?.triton;
  const monitor = new ServingMonitor("monitoring", {
    region: config.region,
    alarmTopicArn: alarmTopic.topicArn,
    dashboardName: `${PROJECT}-${config.stack}`,
    dashboard: config.monitoring.dashboard,
    thresholds: config.monitoring.thresholds,
    sagemakerEndpoints: config.sagemaker.endpoints.map((e) => {
      const served = endpointComponents[e.name];
      const accelerator = e.instanceType ? findInstance(e.instanceType)?.accelerator : undefined;
      return {
        endpointName: endpoints[e.name],
        mode: served.mode,
        gpus: accelerator?.kind === "nvidia" ? accelerator.count : 0,
        ...(served instanceof InferenceComponentEndpoint
          ? { components: served.components.map((c) => c.inferenceComponentName) }
          : {}),
      };
    }),
    triton:
      triton && cluster && containerInsights
        ? {
            clusterName: cluster.clusterName,
            namespace: triton.namespace,
            workloadName: triton.workloadName,
            // At zero replicas, or with every node group stopped off hours, Triton rests by design.
            alwaysRunning: (config.triton?.minReplicas ?? 1) >= 1 && !config.cost.offHours,
          }
        : undefined,
    fleet: fleet
      ? {
          loadBalancerArnSuffix: fleet.loadBalancerArnSuffix,
          targetGroupArnSuffix: fleet.targetGroupArnSuffix,
        }
      : undefined,
    api: api ? { apiName: api.restApiName, stage: api.stageName } : undefined,
    tags,
  });

  return {
    environment: config.environment,
    region: config.region,
    vpcId: network.vpcId,
    privateSubnetIds: network.privateSubnetIds,
    publicSubnetIds: network.publicSubnetIds,
    modelBucketName: models.bucketName,
    modelRepositoryUri: models.repositoryUri,
    registryUrls: registry.repositoryUrls,
    sagemakerEndpoints: endpoints,
    sagemakerComponents: Object.fromEntries(
      Object.entries(endpointComponents).flatMap(([name, e]) =>
        e instanceof InferenceComponentEndpoint
          ? [
              [
                name,
                Object.fromEntries(e.components.map((c) => [c.name, c.inferenceComponentName])),
              ],
            ]
          : [],
      ),
    ),
    sagemakerAsyncInputUris: Object.fromEntries(
      Object.entries(endpointComponents).flatMap(([name, e]) =>
        e instanceof SageMakerEndpoint && e.asyncInputUri !== undefined
          ? [[name, e.asyncInputUri]]
          : [],
      ),
    ),
    eksClusterName: cluster?.clusterName,
    kubeconfig: cluster ? pulumi.secret(cluster.kubeconfigJson) : undefined,
    apiUrl: api?.url,
    apiKeyId: api?.apiKeyId,
    fleetLoadBalancerDnsName: fleet?.loadBalancerDnsName,
    tritonLoadBalancerDnsName: eksPlatform?.tritonLoadBalancer?.loadBalancerDnsName,
    alarmTopicArn: alarmTopic.topicArn,
    dashboardName: monitor.dashboardName,
    modelWeightsProject: weights?.projectName,
    imageBuildProject: images.mirror?.projectName,
  };
}

/** The NGC Triton image a target runs when it names no repository of the stack. */
function upstreamTriton(target: { imageFlavour?: string; imageTag?: string }): string {
  const flavour = target.imageFlavour === "neuron" ? "base" : target.imageFlavour;
  const { repository, tag } = tritonImageOf({
    flavour: flavour as "base" | undefined,
    tag: target.imageTag,
  });
  return `${repository}:${tag}`;
}

/**
 * Scheduled scale-down outside the stack's working hours (`llm-infra:cost.offHours`): every node
 * group (the system group when `systemNodes` says so), the EC2 fleet, and every instance-based
 * SageMaker endpoint.
 */
function createOffHoursSchedule(
  config: StackConfig,
  endpoints: Record<string, SageMakerEndpoint | InferenceComponentEndpoint>,
  eks: { cluster: GpuCluster; nodeGroups: AcceleratorNodeGroup[] } | undefined,
  fleet: TritonFleet | undefined,
): OffHoursSchedule {
  const window = config.cost.offHours!;
  const groupOf = (name: string, g: AcceleratorNodeGroup): ScheduledGroup => ({
    name,
    autoScalingGroupName: g.autoScalingGroupName,
    minSize: g.minSize,
    desiredSize: g.desiredSize,
    maxSize: g.maxSize,
  });
  const groups: ScheduledGroup[] = [];
  if (eks) {
    // Auto Mode has no system node group; the config refuses systemNodes there.
    if (window.systemNodes && eks.cluster.systemAutoScalingGroupName) {
      groups.push({
        name: "eks-system",
        autoScalingGroupName: eks.cluster.systemAutoScalingGroupName,
        minSize: eks.cluster.systemMinSize,
        desiredSize: eks.cluster.systemDesiredSize,
        maxSize: eks.cluster.systemMaxSize,
      });
    }
    config.eks!.nodeGroups.forEach((g, i) => groups.push(groupOf(g.name, eks.nodeGroups[i])));
  }
  if (fleet && config.fleet) {
    const size = fleetSize(config.fleet);
    groups.push({
      name: "fleet",
      autoScalingGroupName: fleet.autoScalingGroupName,
      minSize: size.min,
      desiredSize: size.desired,
      maxSize: size.max,
    });
  }
  // Endpoints of inference components rest at their own minimum (zero copies and instances
  // when the stack allows it): the schedule moves single-model variants only.
  const instanceBased = config.sagemaker.endpoints.filter(
    (e) => e.mode !== "serverless" && e.components === undefined,
  );
  const variants = instanceBased.map((e) => {
    const mode = e.mode === "async" ? "async" : "realtime";
    const counts = instanceCounts(componentArgs(e, config.region), mode);
    return {
      name: e.name,
      endpointName: endpoints[e.name].endpointName,
      mode,
      minInstances: counts.min,
      maxInstances: counts.max,
      scalingTarget: (endpoints[e.name] as SageMakerEndpoint).scalingTarget,
    } as const;
  });
  const scheduled = [
    ...instanceBased.map((e) => endpoints[e.name]),
    ...(eks ? [eks.cluster, ...eks.nodeGroups] : []),
    ...(fleet ? [fleet] : []),
  ];
  return new OffHoursSchedule("off-hours", { window, groups, variants }, { dependsOn: scheduled });
}

/**
 * The node pools: each pool's types from the fit filter on the model of the Triton release that
 * selects it, and its accelerator limit from that release's most replicas. Under Karpenter, the
 * Karpenter release first, whose node role the pools' nodes run as; under Auto Mode, the cluster's
 * node role, in its private subnets with its security group.
 */
function createNodePools(
  config: StackConfig,
  network: InferenceVpc,
  cluster: GpuCluster,
  k8sOpts: { providers: { kubernetes: k8s.Provider }; dependsOn: pulumi.Resource[] },
): GpuNodePool[] {
  const eks = config.eks!;
  const workloads = poolWorkloadsOf(config.triton);
  const karpenter =
    eks.provisioner === "karpenter"
      ? new Karpenter(
          "karpenter",
          {
            clusterName: cluster.clusterName,
            region: config.region,
            subnetIds: network.privateSubnetIds,
            subnetCount: config.network.azCount,
            clusterSecurityGroupId: cluster.clusterSecurityGroupId,
            // The chart keeps its replicas on separate nodes: no more than the system nodes.
            replicas: Math.min(2, eks.cluster.systemNodeCount ?? 2),
            tags: config.tags,
          },
          k8sOpts,
        )
      : undefined;
  return eks.nodePools.map(
    (pool) =>
      new GpuNodePool(
        pool.name,
        {
          ...nodePoolArgs(pool, workloads[pool.name]),
          clusterName: cluster.clusterName,
          nodeRoleName: karpenter?.nodeRoleName ?? cluster.nodeRoleName,
          ...(karpenter
            ? {}
            : {
                autoMode: {
                  subnetIds: network.privateSubnetIds,
                  securityGroupIds: [cluster.clusterSecurityGroupId],
                },
              }),
          tags: config.tags,
        },
        karpenter ? { ...k8sOpts, dependsOn: [...k8sOpts.dependsOn, karpenter.release] } : k8sOpts,
      ),
  );
}

/** The EKS cluster, its node groups and add-ons, and the shared model cache. */
function createEksPlatform(
  config: StackConfig,
  network: InferenceVpc,
  models: ModelStore,
  registry: ModelRegistry,
  images: StackImages,
): {
  cluster: GpuCluster;
  nodeGroups: AcceleratorNodeGroup[];
  triton?: TritonRelease;
  tritonLoadBalancer?: TritonLoadBalancer;
} {
  const eks = config.eks!;
  const tags = config.tags;
  const karpenter = eks.provisioner === "karpenter";
  const cluster = new GpuCluster("eks", {
    ...eks.cluster,
    vpcId: network.vpcId,
    privateSubnetIds: network.privateSubnetIds,
    ...(karpenter ? { systemAutoscaled: false } : {}),
    tags,
  });
  const nodeGroups = eks.nodeGroups.map(
    ({ name, ...group }) =>
      new AcceleratorNodeGroup(
        name,
        {
          ...group,
          clusterName: cluster.clusterName,
          nodeRoleArn: cluster.nodeRoleArn,
          subnetIds: network.privateSubnetIds,
          tags,
        },
        { dependsOn: [cluster] },
      ),
  );
  const k8sOpts = {
    providers: { kubernetes: cluster.provider },
    // Under Auto Mode the Pod Identity agent is built in.
    dependsOn: [cluster, ...(cluster.podIdentityAgent ? [cluster.podIdentityAgent] : [])],
  };
  // Nodes create the cache's repositories and import the upstream image on a first pull.
  if (images.mirror && images.mirror.cachePrefixes.length > 0)
    new aws.iam.RolePolicy("images-pull-through", {
      role: cluster.nodeRoleArn.apply((arn) => arn.split("/").pop()!),
      policy: images.mirror.pullThroughPolicyJson,
    });
  const pools = usesNodePools(eks) ? createNodePools(config, network, cluster, k8sOpts) : [];
  const syncImage = images.imageUris?.apply((m) => m[SYNC_IMAGE]);
  const addons = new ClusterAddons(
    "addons",
    {
      ...eks.addons,
      clusterName: cluster.clusterName,
      kubernetesVersion: cluster.kubernetesVersion,
      region: config.region,
      vpcId: network.vpcId,
      withoutNat: config.network.natGateways === "none",
      imageUris: images.imageUris,
      tags,
    },
    k8sOpts,
  );
  let cache: SharedModelCache | undefined;
  if (eks.modelCache.enabled) {
    const prefix = eks.modelCache.syncPrefix ?? config.storage.modelStore.repositoryPrefix;
    cache = new SharedModelCache(
      "model-cache",
      {
        clusterName: cluster.clusterName,
        vpcId: network.vpcId,
        subnetIds: network.privateSubnetIds,
        subnetCount: config.network.azCount,
        nodeSecurityGroupId: cluster.clusterSecurityGroupId,
        modelBucketName: models.bucketName,
        syncPrefix: prefix,
        readPolicyJson: models.readOnlyPolicyForPrefix(prefix),
        syncImage,
        tags,
      },
      k8sOpts,
    );
  }
  // The metrics pipeline Triton scales on: AMP, its managed collector, and KEDA.
  const metrics = eks.metrics.enabled
    ? new MetricsPipeline(
        "metrics",
        {
          clusterName: cluster.clusterName,
          clusterArn: cluster.clusterArn,
          region: config.region,
          subnetIds: network.privateSubnetIds,
          clusterSecurityGroupId: cluster.clusterSecurityGroupId,
          scrapeIntervalSeconds: eks.metrics.scrapeIntervalSeconds,
          imageUris: images.imageUris,
          tags,
        },
        k8sOpts,
      )
    : undefined;
  const triton = config.triton;
  let release: TritonRelease | undefined;
  if (triton) {
    const { nodeGroup, modelPrefix, ownImageRepository, ...args } = triton;
    void nodeGroup;
    const efs = args.modelRepositoryMode === "efs";
    release = new TritonRelease(
      "triton",
      {
        ...args,
        utilization: args.utilization ?? config.cost.assumptions.utilization,
        clusterName: cluster.clusterName,
        modelRepositoryUri: efs
          ? undefined
          : pulumi.interpolate`s3://${models.bucketName}/${modelPrefix}/`,
        // The model cache creates the shared namespace when it exists.
        createNamespace: cache === undefined,
        efsClaim: efs ? cache?.claimName : undefined,
        efsSubPath: efs ? modelPrefix : undefined,
        readPolicyJson: models.readOnlyPolicyForPrefix(modelPrefix),
        metricsPipeline: metrics
          ? { queryEndpoint: metrics.queryEndpoint, region: metrics.region }
          : undefined,
        imageRepository:
          ownImageRepository !== undefined
            ? registry.repositoryUrls[ownImageRepository]
            : ecrRepositoryOf(images, upstreamTriton(args)),
        syncImage: efs ? undefined : syncImage,
        ...(usesNodePools(eks) ? { doNotDisruptFor: DO_NOT_DISRUPT_WINDOW } : {}),
        ...(cluster.ingressClassName !== undefined
          ? { ingressClassName: cluster.ingressClassName }
          : {}),
        tags,
      },
      // Nodes, device plugins, the load balancer controller and the synced cache come first.
      {
        ...k8sOpts,
        dependsOn: [
          ...k8sOpts.dependsOn,
          ...nodeGroups,
          ...pools,
          addons,
          ...(cache ? [cache] : []),
          // KEDA's CRDs exist before the chart's ScaledObject.
          ...(metrics ? [metrics] : []),
        ],
      },
    );
  }
  // The API fronts Triton through a load balancer of this stack, whose ARN the VPC link names; the
  // load balancer controller registers Triton's pods in it (TargetGroupBinding).
  const tritonLoadBalancer =
    release && config.api?.backend === "triton"
      ? new TritonLoadBalancer(
          "triton-lb",
          {
            vpcId: network.vpcId,
            vpcCidrBlock: network.cidrBlock,
            subnetIds: network.privateSubnetIds,
            podSecurityGroupId: cluster.clusterSecurityGroupId,
            namespace: release.namespace,
            serviceName: release.workloadName,
            idleTimeoutSeconds: triton?.ingressIdleTimeoutSeconds,
            tags,
          },
          { ...k8sOpts, dependsOn: [...k8sOpts.dependsOn, addons, release] },
        )
      : undefined;
  return { cluster, nodeGroups, triton: release, tritonLoadBalancer };
}
