import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
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
  /** The sync job's image. @default "public.ecr.aws/aws-cli/aws-cli:2.27.50" */
  syncImage?: string;
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
    const tags = args.tags;
    const uid = args.posixUid ?? 1000;
    this.namespace = args.namespace ?? "inference";
    this.claimName = CACHE_CLAIM;

    const kmsKeyArn = keyArnOrNew(
      name,
      `Model cache of ${args.clusterName}`,
      args.kmsKeyArn,
      tags,
      { parent: this },
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
      { parent: this },
    );
    new aws.efs.BackupPolicy(
      `${name}-backup`,
      { fileSystemId: fs.id, backupPolicy: { status: "ENABLED" } },
      { parent: this },
    );
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
      { parent: this },
    );
    const subnets = pulumi.output(args.subnetIds);
    for (let i = 0; i < args.subnetCount; i++) {
      new aws.efs.MountTarget(
        `${name}-mount-${i}`,
        { fileSystemId: fs.id, subnetId: subnets.apply((s) => s[i]), securityGroups: [sg.id] },
        { parent: this },
      );
    }
    const accessPoint = new aws.efs.AccessPoint(
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
      { parent: this },
    );
    this.fileSystemId = fs.id;
    this.accessPointId = accessPoint.id;

    const ns = new k8s.core.v1.Namespace(
      `${name}-ns`,
      { metadata: { name: this.namespace, labels: NAMESPACE_LABELS } },
      { parent: this },
    );
    const storageClass = new k8s.storage.v1.StorageClass(
      `${name}-sc`,
      {
        metadata: { name: CACHE_STORAGE_CLASS },
        provisioner: "efs.csi.aws.com",
        reclaimPolicy: "Retain",
        volumeBindingMode: "Immediate",
      },
      { parent: this },
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
      { parent: this, dependsOn: [storageClass] },
    );
    const claim = new k8s.core.v1.PersistentVolumeClaim(
      `${name}-pvc`,
      {
        metadata: { name: CACHE_CLAIM, namespace: this.namespace },
        spec: {
          accessModes: ["ReadWriteMany"],
          storageClassName: CACHE_STORAGE_CLASS,
          volumeName: pv.metadata.name,
          resources: { requests: { storage: "1Ti" } },
        },
      },
      { parent: this, dependsOn: [ns] },
    );

    // The sync job reads the model store through a role that can only read that prefix.
    const serviceAccount = "model-sync";
    const identity = workloadRole(
      `${name}-sync`,
      {
        clusterName: args.clusterName,
        namespace: this.namespace,
        serviceAccount,
        policy: args.readPolicyJson,
        tags,
      },
      this,
    );
    const sa = new k8s.core.v1.ServiceAccount(
      `${name}-sync`,
      { metadata: { name: serviceAccount, namespace: this.namespace } },
      { parent: this, dependsOn: [ns, ...identity.ready] },
    );
    new k8s.batch.v1.Job(
      `${name}-sync`,
      {
        metadata: { namespace: this.namespace, generateName: "model-sync-" },
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
                  image: args.syncImage ?? "public.ecr.aws/aws-cli/aws-cli:2.27.50",
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
      { parent: this, dependsOn: identity.ready },
    );
    this.registerOutputs({
      fileSystemId: this.fileSystemId,
      accessPointId: this.accessPointId,
      claimName: this.claimName,
    });
  }
}
