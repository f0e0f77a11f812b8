import * as assert from "assert";
import * as k8s from "@pulumi/kubernetes";
import {
  AcceleratorNodeGroup,
  AcceleratorNodeGroupArgs,
  ClusterAddons,
  GpuCluster,
  SharedModelCache,
  addonValues,
  amiTypeFor,
  autoscalerTags,
  nodeScheduling,
  sameShapeTypes,
  spotWarning,
} from "../components";
import {
  clusterAutoscalerPolicy,
  loadBalancerControllerPolicy,
} from "../components/eks/addonPolicies";
import {
  apiAccessRuleSources,
  defaultClusterName,
  gpuClusterSettings,
  systemNodeGroupSizes,
  validateGpuClusterArgs,
} from "../components/eks/gpuCluster";
import { sharedModelCacheSettings, syncCommand } from "../components/eks/sharedModelCache";
import { DEFAULT_KUBERNETES_VERSION } from "../catalog/kubernetes";
import { CapturedResource, capture } from "../offline/engine";
import {
  SHARED_MODEL_CACHE_ARGS,
  assertThrowsWith,
  ofType,
  one,
  policyOf,
  resourcesOf,
} from "./helpers";

const TAGS = { environment: "test", team: "ml", "cost-center": "1" };
const group = (args: Partial<AcceleratorNodeGroupArgs>) =>
  resourcesOf(
    () =>
      new AcceleratorNodeGroup("gpu", {
        clusterName: "llm-infra-test-eks",
        nodeRoleArn: "arn:aws:iam::123456789012:role/nodes",
        subnetIds: ["subnet-1", "subnet-2"],
        instanceTypes: ["g5.2xlarge"],
        tags: TAGS,
        ...args,
      }),
  );

describe("AcceleratorNodeGroup", () => {
  let res: CapturedResource[];
  before(async () => {
    res = await group({});
  });

  it("picks the AMI type from the accelerator", () => {
    assert.strictEqual(amiTypeFor("nvidia", "al2023"), "AL2023_x86_64_NVIDIA");
    assert.strictEqual(amiTypeFor("nvidia", "bottlerocket"), "BOTTLEROCKET_x86_64_NVIDIA");
    assert.strictEqual(amiTypeFor("neuron", "al2023"), "AL2023_x86_64_NEURON");
    assert.strictEqual(amiTypeFor(undefined, "al2023"), "AL2023_x86_64_STANDARD");
  });

  it("creates a g5.2xlarge group with the NVIDIA AMI, GPU labels and taint, scaling 1/2/10", () => {
    const ng = one(res, "aws:eks/nodeGroup:NodeGroup");
    assert.strictEqual(ng.inputs.amiType, "AL2023_x86_64_NVIDIA");
    assert.deepStrictEqual(ng.inputs.instanceTypes, ["g5.2xlarge"]);
    assert.deepStrictEqual(ng.inputs.labels, {
      "workload-type": "gpu-inference",
      "llm-infra/accelerator": "A10G",
      "llm-infra/accelerator-kind": "nvidia",
      "nvidia.com/gpu.present": "true",
      "k8s.amazonaws.com/accelerator": "nvidia-a10g",
    });
    assert.deepStrictEqual(ng.inputs.taints, [
      { key: "nvidia.com/gpu", value: "true", effect: "NO_SCHEDULE" },
    ]);
    assert.deepStrictEqual(ng.inputs.scalingConfig, { minSize: 1, desiredSize: 2, maxSize: 10 });
    assert.strictEqual(ng.inputs.capacityType, "ON_DEMAND");
    assert.strictEqual(ng.inputs.diskSize, undefined, "no disk size next to a launch template");
    assert.strictEqual(ng.inputs.remoteAccess, undefined, "no SSH");
  });

  it("uses a launch template with IMDSv2 and an encrypted 200 GiB gp3 root volume", () => {
    const lt = one(res, "aws:ec2/launchTemplate:LaunchTemplate");
    assert.strictEqual(
      (lt.inputs.metadataOptions as Record<string, unknown>).httpTokens,
      "required",
    );
    assert.deepStrictEqual((lt.inputs.blockDeviceMappings as Record<string, unknown>[])[0].ebs, {
      volumeSize: 200,
      volumeType: "gp3",
      encrypted: "true",
      deleteOnTermination: "true",
    });
    assert.strictEqual(lt.inputs.keyName, undefined);
    assert.strictEqual(
      lt.inputs.imageId,
      undefined,
      "the AMI comes from the node group's AMI type",
    );
    const ng = one(res, "aws:eks/nodeGroup:NodeGroup");
    assert.deepStrictEqual(ng.inputs.launchTemplate, { id: lt.id, version: "1" });
  });

  it("tags the group and its Auto Scaling group so the autoscaler can scale it from zero", () => {
    const tags = one(res, "aws:eks/nodeGroup:NodeGroup").inputs.tags as Record<string, string>;
    assert.strictEqual(
      tags["k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu"],
      "1",
    );
    assert.strictEqual(
      tags["k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu"],
      "true:NoSchedule",
    );
    assert.strictEqual(
      tags["k8s.io/cluster-autoscaler/node-template/label/workload-type"],
      "gpu-inference",
    );
    assert.strictEqual(tags["k8s.io/cluster-autoscaler/llm-infra-test-eks"], "owned");
    assert.strictEqual(tags.team, "ml");
    const asgTags = ofType(res, "aws:autoscaling/tag:Tag");
    assert.strictEqual(
      asgTags.length,
      Object.keys(tags).filter((k) => k.startsWith("k8s.io/")).length,
    );
    for (const t of asgTags) {
      assert.match(String(t.inputs.autoscalingGroupName), /^eks-gpu-nodes-/);
      assert.strictEqual((t.inputs.tag as Record<string, unknown>).propagateAtLaunch, false);
    }
  });

  it("gives Neuron groups the Neuron AMI, taint and resource count", async () => {
    const r = await group({ instanceTypes: ["inf2.24xlarge"] });
    const ng = one(r, "aws:eks/nodeGroup:NodeGroup");
    assert.strictEqual(ng.inputs.amiType, "AL2023_x86_64_NEURON");
    assert.deepStrictEqual(ng.inputs.taints, [
      { key: "aws.amazon.com/neuron", value: "true", effect: "NO_SCHEDULE" },
    ]);
    assert.strictEqual(
      (ng.inputs.tags as Record<string, string>)[
        "k8s.io/cluster-autoscaler/node-template/resources/aws.amazon.com/neuron"
      ],
      "6",
    );
    const s = nodeScheduling("inf2.24xlarge", "x");
    assert.deepStrictEqual(
      autoscalerTags("c", s)["k8s.io/cluster-autoscaler/node-template/taint/aws.amazon.com/neuron"],
      "true:NoSchedule",
    );
  });

  it("warns about a spot group with one instance type, naming the same-shaped types to add", () => {
    assert.strictEqual(
      spotWarning("system", "SPOT", ["m5.large"]),
      "spot node group system has one instance type; add m6i.large, m7i.large (the same accelerators, vCPUs and memory) so spot capacity can be found in more pools",
    );
    assert.strictEqual(spotWarning("system", "SPOT", ["m5.large", "m6i.large"]), undefined);
    assert.strictEqual(spotWarning("system", "ON_DEMAND", ["m5.large"]), undefined);
    // No other type has a g5.xlarge's one A10G, 4 vCPUs and 16 GiB: nothing to add, no warning.
    assert.deepStrictEqual(sameShapeTypes("g5.xlarge"), []);
    assert.strictEqual(spotWarning("gpu", "SPOT", ["g5.xlarge"]), undefined);
  });

  it("runs spot groups that scale from zero, and refuses types of different sizes", async () => {
    const r = await group({
      capacityType: "SPOT",
      instanceTypes: ["g5.xlarge"],
      minSize: 0,
      desiredSize: 0,
      maxSize: 2,
    });
    const ng = one(r, "aws:eks/nodeGroup:NodeGroup");
    assert.deepStrictEqual(
      [ng.inputs.capacityType, ng.inputs.scalingConfig],
      ["SPOT", { minSize: 0, desiredSize: 0, maxSize: 2 }],
    );
    assertThrowsWith(
      () =>
        new AcceleratorNodeGroup("g", {
          clusterName: "c",
          nodeRoleArn: "r",
          subnetIds: [],
          capacityType: "SPOT",
          instanceTypes: ["g5.xlarge", "g5.2xlarge"],
        }),
      "instanceTypes: must all have the same vCPUs and memory",
      "g5.xlarge (4 vCPU, 16 GiB), g5.2xlarge (8 vCPU, 32 GiB)",
    );
  });

  it("rejects mixed accelerators, bad scaling and unknown types, naming the field", () => {
    const fail = (args: Partial<AcceleratorNodeGroupArgs>, ...fragments: string[]) =>
      assertThrowsWith(
        () =>
          new AcceleratorNodeGroup("g", {
            clusterName: "c",
            nodeRoleArn: "r",
            subnetIds: [],
            instanceTypes: ["g5.2xlarge"],
            ...args,
          }),
        ...fragments,
      );
    fail(
      { instanceTypes: ["g5.2xlarge", "inf2.xlarge"] },
      "instanceTypes: must all have the same accelerators; got 1 x A10G, 1 x Inferentia2",
    );
    fail({ instanceTypes: ["g5.2xlarge", "g5.12xlarge"] }, "1 x A10G, 4 x A10G");
    fail({ minSize: 5, maxSize: 2 }, "minSize: (5) must not exceed maxSize (2)");
    fail(
      { minSize: 1, desiredSize: 20, maxSize: 10 },
      "desiredSize: (20) must be within [minSize, maxSize] = [1, 10]",
    );
    fail(
      { instanceTypes: ["g5.3xlarge"] },
      'instanceTypes[0]: "g5.3xlarge" is not an EC2 instance type the catalog knows',
    );
    fail(
      { instanceTypes: ["inf2.xlarge"], os: "bottlerocket" },
      "os: EKS has no Bottlerocket AMI type for Neuron",
    );
    fail({ capacityType: "RESERVED" as "SPOT" }, "capacityType: must be one of ON_DEMAND, SPOT");
  });
});

describe("GpuCluster", () => {
  let res: CapturedResource[];
  before(async () => {
    res = await resourcesOf(
      () =>
        new GpuCluster("eks", {
          vpcId: "vpc-1",
          privateSubnetIds: ["subnet-1", "subnet-2"],
          adminPrincipalArns: ["arn:aws:iam::123456789012:role/admin"],
          tags: TAGS,
        }),
    );
  });

  it("creates a private cluster with encrypted secrets, control-plane logs and API access entries", () => {
    const c = one(res, "eks:index:Cluster");
    assert.strictEqual(c.inputs.name, "llm-infra-test-eks");
    assert.strictEqual(c.inputs.version, "1.35");
    assert.deepStrictEqual(
      [c.inputs.endpointPrivateAccess, c.inputs.endpointPublicAccess, c.inputs.publicAccessCidrs],
      [true, false, undefined],
    );
    assert.strictEqual(
      c.inputs.encryptionConfigKeyArn,
      `arn:aws:kms:us-east-1:123456789012:key/${one(res, "aws:kms/key:Key").id}`,
    );
    assert.deepStrictEqual(c.inputs.enabledClusterLogTypes, [
      "api",
      "audit",
      "authenticator",
      "controllerManager",
      "scheduler",
    ]);
    assert.strictEqual(c.inputs.authenticationMode, "API");
    assert.deepStrictEqual(
      Object.values(c.inputs.accessEntries as Record<string, Record<string, unknown>>).map(
        (e) => e.principalArn,
      ),
      ["arn:aws:iam::123456789012:role/admin"],
    );
    assert.strictEqual(c.inputs.skipDefaultNodeGroup, true);
  });

  it("adds a system node group, the Pod Identity agent and a Kubernetes provider", () => {
    const system = ofType(res, "aws:eks/nodeGroup:NodeGroup");
    assert.deepStrictEqual(
      system.map((n) => [
        n.inputs.instanceTypes,
        n.inputs.amiType,
        (n.inputs.labels as Record<string, string>)["workload-type"],
      ]),
      [[["m6i.large"], "AL2023_x86_64_STANDARD", "system"]],
    );
    assert.deepStrictEqual(system[0].inputs.taints, []);
    assert.strictEqual(one(res, "aws:eks/addon:Addon").inputs.addonName, "eks-pod-identity-agent");
    assert.match(
      String(one(res, "pulumi:providers:kubernetes").inputs.kubeconfig),
      /"current-context":"llm-infra-test-eks"/,
    );
    const trust = policyOf(one(res, "aws:iam/role:Role"), "assumeRolePolicy");
    assert.deepStrictEqual(trust.Statement[0].Principal, { Service: "ec2.amazonaws.com" });
  });

  it("opens the API endpoint only to listed CIDRs, never the internet", async () => {
    const r = await resourcesOf(
      () =>
        new GpuCluster("eks", {
          vpcId: "v",
          privateSubnetIds: [],
          publicAccessCidrs: ["203.0.113.0/24"],
        }),
    );
    const c = one(r, "eks:index:Cluster");
    assert.deepStrictEqual(
      [c.inputs.endpointPublicAccess, c.inputs.publicAccessCidrs],
      [true, ["203.0.113.0/24"]],
    );
    assertThrowsWith(
      () =>
        new GpuCluster("eks", {
          vpcId: "v",
          privateSubnetIds: [],
          publicAccessCidrs: ["0.0.0.0/0"],
          kubernetesVersion: "1.28",
        }),
      "publicAccessCidrs[0]: must not open",
      "kubernetesVersion: must be a version in EKS standard support",
    );
  });
});

describe("GpuCluster settings", () => {
  const net = { vpcId: "vpc-1", privateSubnetIds: ["subnet-1", "subnet-2"] };

  it("names the cluster <project>-<stack>-<name>, other characters as hyphens, at most 100", () => {
    assert.strictEqual(defaultClusterName("llm-infra", "dev", "eks"), "llm-infra-dev-eks");
    assert.strictEqual(
      defaultClusterName("llm.infra", "my stack", "e_1"),
      "llm-infra-my-stack-e_1",
    );
    const long = defaultClusterName("p", "s", "n".repeat(200));
    assert.strictEqual(long.length, 100);
    assert.strictEqual(long, `p-s-${"n".repeat(96)}`);
  });

  it("sizes the system node group from 1 to at least 4 around the count asked for", () => {
    assert.deepStrictEqual(systemNodeGroupSizes(undefined), {
      minSize: 1,
      desiredSize: 2,
      maxSize: 4,
    });
    assert.deepStrictEqual(systemNodeGroupSizes(3), { minSize: 1, desiredSize: 3, maxSize: 4 });
    assert.deepStrictEqual(systemNodeGroupSizes(6), { minSize: 1, desiredSize: 6, maxSize: 6 });
  });

  it("fills in the name, the catalog's default version, a private endpoint and m6i.large system nodes", () => {
    assert.deepStrictEqual(gpuClusterSettings("eks", net, "llm-infra", "dev"), {
      clusterName: "llm-infra-dev-eks",
      kubernetesVersion: DEFAULT_KUBERNETES_VERSION,
      publicCidrs: [],
      clusterTags: undefined,
      systemInstanceType: "m6i.large",
      systemSizes: { minSize: 1, desiredSize: 2, maxSize: 4 },
    });
  });

  it("keeps the name, version, public CIDRs and system nodes given", () => {
    assert.deepStrictEqual(
      gpuClusterSettings(
        "eks",
        {
          ...net,
          clusterName: "inference",
          kubernetesVersion: "1.34",
          publicAccessCidrs: ["203.0.113.0/24"],
          systemInstanceType: "m5.xlarge",
          systemNodeCount: 5,
        },
        "llm-infra",
        "dev",
      ),
      {
        clusterName: "inference",
        kubernetesVersion: "1.34",
        publicCidrs: ["203.0.113.0/24"],
        clusterTags: undefined,
        systemInstanceType: "m5.xlarge",
        systemSizes: { minSize: 1, desiredSize: 5, maxSize: 5 },
      },
    );
  });

  it("with deployerAccess deployerAddress, opens the public endpoint to the deploy's CIDRs only and tags the cluster", () => {
    const during = gpuClusterSettings(
      "eks",
      { ...net, deployerAccess: "deployerAddress", deployerCidrs: ["198.51.100.7/32"] },
      "llm-infra",
      "dev",
    );
    assert.deepStrictEqual(during.publicCidrs, ["198.51.100.7/32"]);
    assert.ok(during.clusterTags !== undefined, "tagged");
    const between = gpuClusterSettings(
      "eks",
      { ...net, deployerAccess: "deployerAddress" },
      "llm-infra",
      "dev",
    );
    assert.deepStrictEqual(between.publicCidrs, []);
    assert.deepStrictEqual(
      validateGpuClusterArgs({ ...net, deployerCidrs: ["198.51.100.7/32"] }).map(
        (e) => e.propertyPath,
      ),
      ["deployerCidrs"],
    );
    assert.deepStrictEqual(
      validateGpuClusterArgs({
        ...net,
        deployerAccess: "vpn" as "none",
      }).map((e) => e.reason),
      ['must be one of none, deployerAddress, got "vpn"'],
    );
  });

  it("admits a deployer on the private endpoint once per CIDR, then once per security group", () => {
    assert.deepStrictEqual(apiAccessRuleSources({}), []);
    assert.deepStrictEqual(
      apiAccessRuleSources({
        privateAccessCidrs: ["10.20.0.0/16", "10.30.0.0/16"],
        privateAccessSecurityGroupIds: ["sg-0123456789abcdef0"],
      }),
      [
        { role: "cidr-0", source: { cidrBlocks: ["10.20.0.0/16"] } },
        { role: "cidr-1", source: { cidrBlocks: ["10.30.0.0/16"] } },
        { role: "sg-0", source: { sourceSecurityGroupId: "sg-0123456789abcdef0" } },
      ],
    );
  });
});

describe("ClusterAddons", () => {
  let res: CapturedResource[];
  before(async () => {
    res = await resourcesOf(() => {
      const provider = new k8s.Provider("k8s", { kubeconfig: "{}" });
      new ClusterAddons(
        "addons",
        {
          clusterName: "c1",
          region: "us-east-1",
          vpcId: "vpc-1",
          neuronDevicePlugin: true,
          tags: TAGS,
        },
        { providers: { kubernetes: provider } },
      );
    });
  });

  it("installs the device plugins, autoscaler, load balancer controller and metrics-server from pinned charts", () => {
    const releases = Object.fromEntries(
      ofType(res, "kubernetes:helm.sh/v3:Release").map((r) => [r.name, r.inputs]),
    );
    assert.deepStrictEqual(Object.keys(releases).sort(), [
      "addons-aws-load-balancer-controller",
      "addons-cluster-autoscaler",
      "addons-metrics-server",
      "addons-neuron-device-plugin",
      "addons-nvidia-device-plugin",
    ]);
    for (const r of Object.values(releases)) assert.match(String(r.version), /^\d+\.\d+\.\d+$/);
    assert.deepStrictEqual(
      (releases["addons-nvidia-device-plugin"].values as Record<string, unknown>).tolerations,
      [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
    );
    const ca = releases["addons-cluster-autoscaler"].values as Record<
      string,
      Record<string, unknown>
    >;
    assert.deepStrictEqual(
      [ca.autoDiscovery.clusterName, ca.extraArgs.expander],
      ["c1", "least-waste"],
    );
  });

  it("limits the autoscaler to the cluster's own groups and gives each add-on its own Pod Identity role", () => {
    const ca = clusterAutoscalerPolicy("c1");
    assert.deepStrictEqual(ca.Statement[0].Condition, {
      StringEquals: { "aws:ResourceTag/k8s.io/cluster-autoscaler/c1": "owned" },
    });
    const associations = ofType(res, "aws:eks/podIdentityAssociation:PodIdentityAssociation").map(
      (a) => a.inputs.serviceAccount,
    );
    assert.deepStrictEqual(associations.sort(), [
      "aws-load-balancer-controller",
      "cluster-autoscaler",
    ]);
    const addons = ofType(res, "aws:eks/addon:Addon").map((a) => [
      a.inputs.addonName,
      (a.inputs.podIdentityAssociations as Record<string, string>[])[0].serviceAccount,
    ]);
    assert.deepStrictEqual(addons, [
      ["aws-efs-csi-driver", "efs-csi-controller-sa"],
      ["amazon-cloudwatch-observability", "cloudwatch-agent"],
    ]);
    const attachments = ofType(res, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").map(
      (a) => a.inputs.policyArn,
    );
    assert.deepStrictEqual(attachments, [
      "arn:aws:iam::aws:policy/service-role/AmazonEFSCSIDriverPolicy",
      "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy",
    ]);
    const lbc = loadBalancerControllerPolicy();
    assert.ok(lbc.Statement.every((s) => s.Action !== "*"));
    const create = lbc.Statement.find((s) => s.Sid === "CreateLoadBalancers")!;
    assert.deepStrictEqual(create.Condition, {
      Null: { "aws:RequestTag/elbv2.k8s.aws/cluster": "false" },
    });
  });

  it("outputs the names of the Helm releases and EKS add-ons it installed", async () => {
    const { outputs } = await capture(
      () => {
        const addons = new ClusterAddons("addons", {
          clusterName: "c1",
          region: "us-east-1",
          vpcId: "v",
          clusterAutoscaler: false,
          loadBalancerController: false,
          gpuMetrics: "none",
        });
        return { releases: addons.releaseNames, addons: addons.addonNames };
      },
      { stack: "test", region: "us-east-1" },
    );
    assert.strictEqual(outputs.releases.length, 2);
    assert.match(outputs.releases[0], /^addons-nvidia-device-plugin-[0-9a-f]{7}$/);
    assert.match(outputs.releases[1], /^addons-metrics-server-[0-9a-f]{7}$/);
    assert.deepStrictEqual(outputs.addons, ["aws-efs-csi-driver"]);
  });

  it("installs only what is asked for, with DCGM as the alternative GPU metrics", async () => {
    const r = await resourcesOf(() => {
      new ClusterAddons("addons", {
        clusterName: "c1",
        region: "us-east-1",
        vpcId: "v",
        clusterAutoscaler: false,
        loadBalancerController: false,
        efsCsiDriver: false,
        metricsServer: false,
        gpuMetrics: "dcgm",
      });
    });
    assert.deepStrictEqual(
      ofType(r, "kubernetes:helm.sh/v3:Release")
        .map((x) => x.name)
        .sort(),
      ["addons-dcgm-exporter", "addons-nvidia-device-plugin"],
    );
    assert.strictEqual(ofType(r, "aws:eks/addon:Addon").length, 0);
    assert.deepStrictEqual(
      addonValues({ clusterName: "c", region: "r", vpcId: "v", autoscalerExpander: "priority" })
        .clusterAutoscaler.extraArgs.expander,
      "priority",
    );
    assertThrowsWith(
      () =>
        new ClusterAddons("a", {
          clusterName: "c",
          region: "r",
          vpcId: "v",
          gpuMetrics: "prometheus" as "dcgm",
        }),
      "gpuMetrics: must be one of cloudwatch, dcgm, none",
    );
  });
});

describe("SharedModelCache", () => {
  let res: CapturedResource[];
  before(async () => {
    res = await resourcesOf(
      () =>
        new SharedModelCache("cache", {
          clusterName: "c1",
          vpcId: "vpc-1",
          subnetIds: ["subnet-1", "subnet-2", "subnet-3"],
          subnetCount: 3,
          nodeSecurityGroupId: "sg-nodes",
          modelBucketName: "models-bucket",
          syncPrefix: "model-repository",
          readPolicyJson: '{"Version":"2012-10-17","Statement":[]}',
          tags: TAGS,
        }),
    );
  });

  it("creates an encrypted, backed-up EFS with a mount target per subnet and NFS from the nodes only", () => {
    const fs = one(res, "aws:efs/fileSystem:FileSystem");
    assert.strictEqual(fs.inputs.encrypted, true);
    assert.strictEqual(
      fs.inputs.kmsKeyId,
      `arn:aws:kms:us-east-1:123456789012:key/${one(res, "aws:kms/key:Key").id}`,
    );
    assert.deepStrictEqual(one(res, "aws:efs/backupPolicy:BackupPolicy").inputs.backupPolicy, {
      status: "ENABLED",
    });
    assert.deepStrictEqual(
      ofType(res, "aws:efs/mountTarget:MountTarget").map((m) => m.inputs.subnetId),
      ["subnet-1", "subnet-2", "subnet-3"],
    );
    const sg = one(res, "aws:ec2/securityGroup:SecurityGroup");
    const ingress = sg.inputs.ingress as Record<string, unknown>[];
    assert.deepStrictEqual(
      ingress.map((i) => [i.protocol, i.fromPort, i.toPort, i.securityGroups, i.cidrBlocks]),
      [["tcp", 2049, 2049, ["sg-nodes"], undefined]],
    );
  });

  it("has an access point owned by a non-root user, a StorageClass, a RWX volume and claim", () => {
    const ap = one(res, "aws:efs/accessPoint:AccessPoint");
    assert.deepStrictEqual(ap.inputs.posixUser, { uid: 1000, gid: 1000 });
    assert.deepStrictEqual((ap.inputs.rootDirectory as Record<string, unknown>).path, "/models");
    assert.strictEqual(
      one(res, "kubernetes:storage.k8s.io/v1:StorageClass").inputs.provisioner,
      "efs.csi.aws.com",
    );
    const pv = one(res, "kubernetes:core/v1:PersistentVolume").inputs.spec as Record<
      string,
      Record<string, unknown>
    >;
    assert.strictEqual(
      pv.csi.volumeHandle,
      `${one(res, "aws:efs/fileSystem:FileSystem").id}::${ap.id}`,
    );
    const pvc = one(res, "kubernetes:core/v1:PersistentVolumeClaim").inputs;
    assert.deepStrictEqual((pvc.spec as Record<string, unknown>).accessModes, ["ReadWriteMany"]);
    assert.deepStrictEqual((pvc.metadata as Record<string, unknown>).name, "model-cache");
  });

  it("syncs the model prefix with a read-only Pod Identity role, as a non-root job", () => {
    const job = one(res, "kubernetes:batch/v1:Job").inputs.spec as Record<
      string,
      Record<string, Record<string, unknown>>
    >;
    const pod = job.template.spec as Record<string, unknown>;
    const container = (pod.containers as Record<string, unknown>[])[0];
    assert.deepStrictEqual(container.command, syncCommand("models-bucket", "model-repository"));
    assert.deepStrictEqual(container.command, [
      "aws",
      "s3",
      "sync",
      "--delete",
      "--only-show-errors",
      "s3://models-bucket/model-repository/",
      "/models/model-repository/",
    ]);
    assert.deepStrictEqual((pod.securityContext as Record<string, unknown>).runAsNonRoot, true);
    assert.strictEqual(
      one(res, "aws:eks/podIdentityAssociation:PodIdentityAssociation").inputs.serviceAccount,
      "model-sync",
    );
    assert.strictEqual(
      one(res, "aws:iam/rolePolicy:RolePolicy").inputs.policy,
      '{"Version":"2012-10-17","Statement":[]}',
    );
  });
});

describe("sharedModelCacheSettings", () => {
  const base = SHARED_MODEL_CACHE_ARGS;

  it("fills in uid 1000, the inference namespace and the pinned AWS CLI image", () => {
    assert.deepStrictEqual(sharedModelCacheSettings(base), {
      posixUid: 1000,
      namespace: "inference",
      syncImage: "public.ecr.aws/aws-cli/aws-cli:2.27.50",
    });
  });

  it("keeps the owner, namespace and image given", () => {
    assert.deepStrictEqual(
      sharedModelCacheSettings({
        ...base,
        posixUid: 2000,
        namespace: "llm",
        syncImage: "example.com/sync:1",
      }),
      { posixUid: 2000, namespace: "llm", syncImage: "example.com/sync:1" },
    );
  });

  it("gives the access point, the claim and the sync job the owner and namespace given", async () => {
    const res = await resourcesOf(
      () =>
        new SharedModelCache("cache", {
          ...base,
          posixUid: 2000,
          namespace: "llm",
          syncImage: "example.com/sync:1",
        }),
    );
    const ap = one(res, "aws:efs/accessPoint:AccessPoint").inputs;
    assert.deepStrictEqual(ap.posixUser, { uid: 2000, gid: 2000 });
    assert.deepStrictEqual((ap.rootDirectory as Record<string, unknown>).creationInfo, {
      ownerUid: 2000,
      ownerGid: 2000,
      permissions: "0750",
    });
    const namespaceOf = (type: string) =>
      (one(res, type).inputs.metadata as Record<string, unknown>).namespace;
    assert.strictEqual(
      (one(res, "kubernetes:core/v1:Namespace").inputs.metadata as Record<string, unknown>).name,
      "llm",
    );
    assert.strictEqual(namespaceOf("kubernetes:core/v1:PersistentVolumeClaim"), "llm");
    assert.strictEqual(namespaceOf("kubernetes:core/v1:ServiceAccount"), "llm");
    assert.strictEqual(namespaceOf("kubernetes:batch/v1:Job"), "llm");
    const pod = (
      one(res, "kubernetes:batch/v1:Job").inputs.spec as Record<
        string,
        Record<string, Record<string, unknown>>
      >
    ).template.spec;
    assert.strictEqual((pod.securityContext as Record<string, unknown>).runAsUser, 2000);
    assert.strictEqual(
      (pod.containers as Record<string, unknown>[])[0].image,
      "example.com/sync:1",
    );
    assert.strictEqual(
      one(res, "aws:eks/podIdentityAssociation:PodIdentityAssociation").inputs.namespace,
      "llm",
    );
  });
});
