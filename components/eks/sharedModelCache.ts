import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { SYNC_IMAGE } from "../../catalog/imageSources";
import { validateModelPrefix } from "../storage/modelStorePolicies";
import { Tags } from "../tags";
import { ArgError, checkIntegerRange, throwIfInvalid } from "../validation";
import { keyArnOrNew } from "../storage/encryption";
import { workloadRole } from "./podIdentity";

export interface SharedModelCacheArgs {
  /** The EKS cluster's name (GpuCluster.clusterName). */
  clusterName: string;
  /** The VPC of the file system and its security group. */
  vpcId: pulumi.Input<string>;
  /** Private subnets: one mount target each. */
  subnetIds: pulumi.Input<string[]>;
  /** How many subnets (availability zones) there are. */
  subnetCount: number;
  /** The nodes' security group (GpuCluster.clusterSecurityGroupId): the only NFS clients. */
  nodeSecurityGroupId: pulumi.Input<string>;
  /** KMS key for the file system; a new customer managed key when absent. */
  kmsKeyArn?: pulumi.Input<string>;
  /** The Kubernetes namespace of the claim and the sync job. @default "inference" */
  namespace?: string;
  /** The model store bucket (ModelStore.bucketName) and the prefix to sync into the cache. */
  modelBucketName: pulumi.Input<string>;
  /**
   * The model store prefix the job syncs into the cache.
   * @example "model-repository"
   */
  syncPrefix: string;
  /** The read-only policy of that prefix (ModelStore.readOnlyPolicy(...)). */
  readPolicyJson: pulumi.Input<string>;
  /** POSIX user and group the models are owned by (non-root). @default 1000 */
  posixUid?: number;
  /**
   * The sync job's image (the stack's ECR copy when its VPC has no NAT: ImageMirror.imageUris).
   * @default "public.ecr.aws/aws-cli/aws-cli:2.27.50"
   */
  syncImage?: pulumi.Input<string>;
  /** Tags for every AWS resource. */
  tags?: Tags;
}

export const CACHE_STORAGE_CLASS = "efs-models";
/**
 * Labels of the inference namespace: the AWS Load Balancer Controller adds a readiness gate to
 * pods in namespaces labelled so, and an ALB target counts as ready only once it is healthy there
 * (kubernetes-sigs/aws-load-balancer-controller@v2.13.3 docs/deploy/pod_readiness_gate.md).
 */
export const NAMESPACE_LABELS = { "elbv2.k8s.aws/pod-readiness-gate-inject": "enabled" };
export const CACHE_CLAIM = "model-cache";

export function validateSharedModelCacheArgs(args: SharedModelCacheArgs): ArgError[] {
  const errors: ArgError[] = [];
  checkIntegerRange(errors, "subnetCount", args.subnetCount, 1, 6);
  checkIntegerRange(errors, "posixUid", args.posixUid, 1, 65534);
  const problem = validateModelPrefix(args.syncPrefix);
  if (problem) errors.push({ propertyPath: "syncPrefix", reason: problem });
  if (args.namespace !== undefined && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(args.namespace)) {
    errors.push({
      propertyPath: "namespace",
      reason: `must be a Kubernetes namespace name, got ${JSON.stringify(args.namespace)}`,
    });
  }
  return errors;
}

/** The sync job's command: copy the prefix into the cache, deleting what the store no longer has. */
export function syncCommand(bucket: string, prefix: string): string[] {
  return [
    "aws",
    "s3",
    "sync",
    "--delete",
    "--only-show-errors",
    `s3://${bucket}/${prefix}/`,
    `/models/${prefix}/`,
  ];
}

/** What a cache is, decided from its arguments: its owner, namespace and sync image. */
export interface SharedModelCacheSettings {
  /** The POSIX user and group that own the models (the access point's and the sync job's). */
  posixUid: number;
  /** The namespace of the claim and the sync job. */
  namespace: string;
  /** The sync job's image. */
  syncImage: pulumi.Input<string>;
}

/** The settings of a cache: its arguments with their defaults filled in. */
export function sharedModelCacheSettings(args: SharedModelCacheArgs): SharedModelCacheSettings {
  return {
    posixUid: args.posixUid ?? 1000,
    namespace: args.namespace ?? "inference",
    syncImage: args.syncImage ?? SYNC_IMAGE,
  };
}

/**
 * A shared, read-many model repository on EFS: the encrypted file system with backups, mount
 * targets in the private subnets, NFS admitted from the cluster's nodes only, an access point with
 * a non-root owner and its own root directory, a StorageClass and a ReadWriteMany claim Triton can
 * mount, and a Job that syncs a model store prefix into it with a read-only role.
 * Pass the cluster's Kubernetes provider in `opts.providers`.
 */
export class SharedModelCache extends pulumi.ComponentResource {
  /** The encrypted EFS file system holding the model repository. */
  public readonly fileSystemId: pulumi.Output<string>;
  /** The EFS access point the cache's volume mounts. */
  public readonly accessPointId: pulumi.Output<string>;
  /** The PersistentVolumeClaim pods mount to read the model repository. */
  public readonly claimName: string;
  /** The Kubernetes namespace of the claim and the sync job. */
  public readonly namespace: string;

  constructor(name: string, args: SharedModelCacheArgs, opts?: pulumi.ComponentResourceOptions) {
    throwIfInvalid("SharedModelCache", name, validateSharedModelCacheArgs(args));
    super("llm-infra:index:SharedModelCache", name, {}, opts);
    const ctx = this.context(name, args);
    this.namespace = ctx.settings.namespace;
    this.claimName = CACHE_CLAIM;

    const fs = this.createFileSystem(ctx);
    this.createMountTargets(ctx, fs);
    const accessPoint = this.createAccessPoint(ctx, fs);
    this.fileSystemId = fs.id;
    this.accessPointId = accessPoint.id;

    const ns = this.createNamespace(ctx);
    const claim = this.createClaim(ctx, fs, accessPoint, ns);
    this.createSyncJob(ctx, ns, claim);

    this.registerOutputs({
      fileSystemId: this.fileSystemId,
      accessPointId: this.accessPointId,
      claimName: this.claimName,
    });
  }

  /** The cache's arguments, its settings and the options its children share. */
  private context(name: string, args: SharedModelCacheArgs): CacheContext {
    return {
      name,
      args,
      tags: args.tags,
      child: { parent: this },
      settings: sharedModelCacheSettings(args),
    };
  }

  /**
   * The encrypted EFS file system (a new customer managed key unless one is given), elastic
   * throughput, with AWS Backup on.
   */
  private createFileSystem(ctx: CacheContext): aws.efs.FileSystem {
    const { name, args, tags, child } = ctx;
    const kmsKeyArn = keyArnOrNew(
      name,
      `Model cache of ${args.clusterName}`,
      args.kmsKeyArn,
      tags,
      child,
    );
    const fs = new aws.efs.FileSystem(
      `${name}-fs`,
      {
        encrypted: true,
        kmsKeyId: kmsKeyArn,
        performanceMode: "generalPurpose",
        throughputMode: "elastic",
        tags,
      },
      child,
    );
    new aws.efs.BackupPolicy(
      `${name}-backup`,
      { fileSystemId: fs.id, backupPolicy: { status: "ENABLED" } },
      child,
    );
    return fs;
  }

  /**
   * One mount target per private subnet, behind a security group that admits NFS from the
   * cluster's nodes only.
   */
  private createMountTargets(ctx: CacheContext, fs: aws.efs.FileSystem): void {
    const { name, args, tags, child } = ctx;
    const sg = new aws.ec2.SecurityGroup(
      `${name}-nfs`,
      {
        vpcId: args.vpcId,
        description: "NFS to the model cache from the cluster's nodes only",
        ingress: [
          {
            protocol: "tcp",
            fromPort: 2049,
            toPort: 2049,
            securityGroups: [args.nodeSecurityGroupId],
            description: "NFS from EKS nodes",
          },
        ],
        tags,
      },
      child,
    );
    const subnets = pulumi.output(args.subnetIds);
    for (let i = 0; i < args.subnetCount; i++) {
      new aws.efs.MountTarget(
        `${name}-mount-${i}`,
        { fileSystemId: fs.id, subnetId: subnets.apply((s) => s[i]), securityGroups: [sg.id] },
        child,
      );
    }
  }

  /**
   * The access point pods mount: a non-root owner and its own root directory, /models, created
   * owner-only (0750) on first use.
   */
  private createAccessPoint(ctx: CacheContext, fs: aws.efs.FileSystem): aws.efs.AccessPoint {
    const { name, tags, child } = ctx;
    const uid = ctx.settings.posixUid;
    return new aws.efs.AccessPoint(
      `${name}-ap`,
      {
        fileSystemId: fs.id,
        posixUser: { uid, gid: uid },
        rootDirectory: {
          path: "/models",
          creationInfo: { ownerUid: uid, ownerGid: uid, permissions: "0750" },
        },
        tags,
      },
      child,
    );
  }

  /** The inference namespace, labelled for the load balancer controller's readiness gates. */
  private createNamespace(ctx: CacheContext): k8s.core.v1.Namespace {
    return new k8s.core.v1.Namespace(
      `${ctx.name}-ns`,
      { metadata: { name: ctx.settings.namespace, labels: NAMESPACE_LABELS } },
      ctx.child,
    );
  }

  /**
   * The StorageClass, a PersistentVolume on the access point (retained when released) and the
   * ReadWriteMany claim bound to it that pods mount.
   */
  private createClaim(
    ctx: CacheContext,
    fs: aws.efs.FileSystem,
    accessPoint: aws.efs.AccessPoint,
    ns: k8s.core.v1.Namespace,
  ): k8s.core.v1.PersistentVolumeClaim {
    const { name, child } = ctx;
    const storageClass = new k8s.storage.v1.StorageClass(
      `${name}-sc`,
      {
        metadata: { name: CACHE_STORAGE_CLASS },
        provisioner: "efs.csi.aws.com",
        reclaimPolicy: "Retain",
        volumeBindingMode: "Immediate",
      },
      child,
    );
    const pv = new k8s.core.v1.PersistentVolume(
      `${name}-pv`,
      {
        metadata: { name: `${name}-models` },
        spec: {
          capacity: { storage: "1Ti" },
          accessModes: ["ReadWriteMany"],
          persistentVolumeReclaimPolicy: "Retain",
          storageClassName: CACHE_STORAGE_CLASS,
          csi: {
            driver: "efs.csi.aws.com",
            volumeHandle: pulumi.interpolate`${fs.id}::${accessPoint.id}`,
          },
        },
      },
      { ...child, dependsOn: [storageClass] },
    );
    return new k8s.core.v1.PersistentVolumeClaim(
      `${name}-pvc`,
      {
        metadata: { name: CACHE_CLAIM, namespace: ctx.settings.namespace },
        spec: {
          accessModes: ["ReadWriteMany"],
          storageClassName: CACHE_STORAGE_CLASS,
          volumeName: pv.metadata.name,
          resources: { requests: { storage: "1Ti" } },
        },
      },
      { ...child, dependsOn: [ns] },
    );
  }

  /**
   * The sync Job, its service account and its role: the job copies the model store prefix into
   * the cache, reading the store through a role that can only read that prefix.
   */
  private createSyncJob(
    ctx: CacheContext,
    ns: k8s.core.v1.Namespace,
    claim: k8s.core.v1.PersistentVolumeClaim,
  ): void {
    const { name, args, tags, child } = ctx;
    const { namespace, posixUid: uid, syncImage } = ctx.settings;
    const serviceAccount = "model-sync";
    const identity = workloadRole(
      `${name}-sync`,
      {
        clusterName: args.clusterName,
        namespace,
        serviceAccount,
        policy: args.readPolicyJson,
        tags,
      },
      this,
    );
    const sa = new k8s.core.v1.ServiceAccount(
      `${name}-sync`,
      { metadata: { name: serviceAccount, namespace } },
      { ...child, dependsOn: [ns, ...identity.ready] },
    );
    new k8s.batch.v1.Job(
      `${name}-sync`,
      {
        metadata: { namespace, generateName: "model-sync-" },
        spec: {
          backoffLimit: 3,
          ttlSecondsAfterFinished: 86400,
          template: {
            spec: {
              serviceAccountName: sa.metadata.name,
              restartPolicy: "OnFailure",
              securityContext: {
                runAsNonRoot: true,
                runAsUser: uid,
                runAsGroup: uid,
                fsGroup: uid,
              },
              nodeSelector: { "workload-type": "system" },
              containers: [
                {
                  name: "sync",
                  image: syncImage,
                  command: pulumi
                    .output(args.modelBucketName)
                    .apply((bucket) => syncCommand(bucket, args.syncPrefix)),
                  env: [{ name: "HOME", value: "/tmp" }],
                  volumeMounts: [
                    { name: "models", mountPath: "/models" },
                    { name: "tmp", mountPath: "/tmp" },
                  ],
                  securityContext: {
                    allowPrivilegeEscalation: false,
                    readOnlyRootFilesystem: true,
                    capabilities: { drop: ["ALL"] },
                  },
                  resources: {
                    requests: { cpu: "500m", memory: "512Mi" },
                    limits: { memory: "2Gi" },
                  },
                },
              ],
              volumes: [
                { name: "models", persistentVolumeClaim: { claimName: claim.metadata.name } },
                { name: "tmp", emptyDir: {} },
              ],
            },
          },
        },
      },
      // The job's pod gets credentials only if the Pod Identity association exists before it.
      { ...child, dependsOn: identity.ready },
    );
  }
}

/** The values the cache's resources share. */
interface CacheContext {
  name: string;
  args: SharedModelCacheArgs;
  tags: Tags | undefined;
  child: pulumi.CustomResourceOptions;
  settings: SharedModelCacheSettings;
}
