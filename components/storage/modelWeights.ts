import * as aws from "@pulumi/aws";
import { CODEBUILD_STANDARD_IMAGE, codeBuildComputeTypeProblem } from "../../catalog/codeBuild";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { PolicyDocument, PolicyStatement, validateModelPrefix } from "./modelStorePolicies";
import { serviceRole } from "../trust";
import { Tags } from "../tags";
import { ArgError, checkIntegerRange, throwIfInvalid } from "../validation";
import { WEIGHTS_MARKER, isHubId, revisionProblem } from "../../modelRepository/hubModels";
import { NeuronShape } from "../../catalog/neuron";
import { ecrRepositoryArn } from "../sagemaker/endpointArgs";

/** One Hugging Face Hub snapshot, downloaded once and written to every destination. */
export interface ModelWeightsCopy {
  /** The hub id. @example "NousResearch/Meta-Llama-3-8B-Instruct" */
  repoId: string;
  /**
   * The branch, tag or commit to download; pin a commit so every copy is the same weights.
   * @default "main"
   */
  revision?: string;
  /**
   * Key prefixes in the bucket to write the snapshot to, without a trailing slash: each target's
   * `<prefix>/<model>/<version>/weights`.
   */
  destinations: string[];
  /**
   * Compile the snapshot into a Neuron model for Inferentia2 and write that instead: the build
   * runs `optimum-cli export neuron` in the serving image (components/sagemaker/
   * neuronEnvironment.ts), so the endpoint loads it without compiling or reaching the hub.
   */
  neuron?: NeuronExport;
}

/** A Neuron export: the image it runs in and the shapes it compiles for. */
export interface NeuronExport {
  /** The vLLM Neuron image URI the endpoint serves with (the same optimum-neuron compiles). */
  image: string;
  /** The static shapes, as the endpoint serves them (catalog/neuron.ts neuronLayout). */
  shape: NeuronShape;
  /** About how long the compile takes (catalog/neuron.ts neuronCompileSeconds): sizes the timeout. */
  compileSeconds: number;
}

export interface ModelWeightsArgs {
  /** The snapshots to copy and where each goes. */
  copies: ModelWeightsCopy[];
  /** The model bucket (ModelStore.bucketName). */
  bucketName: pulumi.Input<string>;
  /** The model bucket's ARN (ModelStore.bucketArn): the copy may write under `destinations` only. */
  bucketArn: pulumi.Input<string>;
  /** The bucket's KMS key (ModelStore.kmsKeyArn): objects are written encrypted with it. */
  kmsKeyArn: pulumi.Input<string>;
  /**
   * A Secrets Manager secret whose value is a Hugging Face access token, for gated or private
   * models; the build reads it as HF_TOKEN. None: the hub is read anonymously.
   */
  hubTokenSecretArn?: string;
  /**
   * The CodeBuild compute type (Linux). Its disk holds the snapshot while it is uploaded:
   * 64 GB on BUILD_GENERAL1_SMALL, 128 GB on MEDIUM and LARGE, 256 GB on XLARGE, 824 GB on 2XLARGE.
   * @default "BUILD_GENERAL1_MEDIUM" (an 8B model in bf16 is about 16 GB; $0.01 a build-minute)
   */
  computeType?: string;
  /**
   * Minutes before CodeBuild stops a build (5 to 2160).
   * @default 120 (16 GB at 5 MB/s from the hub, with the uploads)
   */
  buildTimeoutMinutes?: number;
  /**
   * The CodeBuild compute type of the Neuron export (Linux). Compiling holds the checkpoint in
   * memory: BUILD_GENERAL1_XLARGE has 70 GB of memory, 36 vCPUs and 256 GB of disk
   * (https://docs.aws.amazon.com/codebuild/latest/userguide/build-env-ref-compute-types.html).
   * @default "BUILD_GENERAL1_XLARGE"
   */
  neuronComputeType?: string;
  /**
   * Minutes before CodeBuild stops the Neuron export (5 to 2160).
   * @default three times the compile estimate (catalog/neuron.ts), at least 120
   */
  neuronBuildTimeoutMinutes?: number;
  /** Tags for every resource. */
  tags?: Tags;
}

/**
 * The AWS CLI the Neuron export installs into its own virtual environment (the serving image has
 * none, and its Python environment is left as the endpoint runs it). The image ships uv
 * (optimum-neuron v0.4.5 docker/vllm/Dockerfile installs uv 0.9.27 in /usr/local/bin). 1.36.40 is
 * an AWS CLI v1 release on PyPI that public Dockerfiles pin (`pip install awscli==1.36.40`); the
 * install is not run here.
 */
export const NEURON_EXPORT_AWSCLI_VERSION = "1.36.40";

/**
 * The huggingface_hub release the build installs: `snapshot_download(repo_id, revision=...,
 * local_dir=..., token=...)` downloads every file of the repository at that revision into
 * `local_dir` (https://huggingface.co/docs/huggingface_hub/v0.28.1/package_reference/file_download).
 */
export const HUGGINGFACE_HUB_VERSION = "0.28.1";

const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;

export function validateModelWeightsArgs(args: ModelWeightsArgs): ArgError[] {
  const errors: ArgError[] = [];
  if (!Array.isArray(args.copies) || args.copies.length === 0)
    errors.push({ propertyPath: "copies", reason: "must name at least one hub model to copy" });
  (args.copies ?? []).forEach((c, i) => {
    if (!isHubId(c.repoId))
      errors.push({
        propertyPath: `copies[${i}].repoId`,
        reason: `must be a Hugging Face Hub id owner/name, got ${JSON.stringify(c.repoId)}`,
      });
    const bad = revisionProblem(c.revision);
    if (bad) errors.push({ propertyPath: `copies[${i}].revision`, reason: bad });
    if (!Array.isArray(c.destinations) || c.destinations.length === 0)
      errors.push({
        propertyPath: `copies[${i}].destinations`,
        reason: "must name at least one key prefix",
      });
    (c.destinations ?? []).forEach((d, j) => {
      const problem = validateModelPrefix(d);
      if (problem)
        errors.push({ propertyPath: `copies[${i}].destinations[${j}]`, reason: problem });
    });
  });
  if (args.hubTokenSecretArn !== undefined && !SECRET_ARN.test(args.hubTokenSecretArn))
    errors.push({
      propertyPath: "hubTokenSecretArn",
      reason: `must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>), got ${JSON.stringify(args.hubTokenSecretArn)}`,
    });
  const computeType = codeBuildComputeTypeProblem(args.computeType);
  if (computeType) errors.push({ propertyPath: "computeType", reason: computeType });
  checkIntegerRange(errors, "buildTimeoutMinutes", args.buildTimeoutMinutes, 5, 2160);
  const neuronComputeType = codeBuildComputeTypeProblem(args.neuronComputeType);
  if (neuronComputeType)
    errors.push({ propertyPath: "neuronComputeType", reason: neuronComputeType });
  checkIntegerRange(errors, "neuronBuildTimeoutMinutes", args.neuronBuildTimeoutMinutes, 5, 2160);
  // One export project, one image: every Neuron export of the stack compiles with the same one.
  const images = [
    ...new Set((args.copies ?? []).flatMap((c) => (c.neuron ? [c.neuron.image] : []))),
  ];
  if (images.length > 1)
    errors.push({
      propertyPath: "copies",
      reason: `every Neuron export runs in one image, got ${images.join(", ")}: serve every vllm-neuron endpoint with the same imageVersion`,
    });
  return errors;
}

/**
 * The copy's role: write under each destination prefix (and read only the marker there), with the
 * bucket's key, read the hub token's secret when there is one, and write its own logs. No delete
 * and nothing else in the bucket. A multipart upload with SSE-KMS needs kms:GenerateDataKey to
 * start and kms:Decrypt to complete (https://repost.aws/knowledge-center/s3-large-file-encryption-kms-key).
 */
export function weightsCopyPolicy(o: {
  region: string;
  accountId: string;
  projectName: string;
  bucketArn: string;
  kmsKeyArn: string;
  destinations: readonly string[];
  hubTokenSecretArn?: string;
  /** The ECR repository ARN of the build's own image, pulled with the role (the Neuron export). */
  pullImageRepositoryArn?: string;
}): PolicyDocument {
  const logGroup = `arn:aws:logs:${o.region}:${o.accountId}:log-group:/aws/codebuild/${o.projectName}`;
  const prefixes = [...new Set(o.destinations.map((d) => d.replace(/\/+$/, "")))].sort();
  const statements: PolicyStatement[] = [
    {
      Sid: "Logs",
      Effect: "Allow",
      Action: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: [logGroup, `${logGroup}:*`],
    },
    {
      // `aws s3 sync` lists the destination to compare; the marker check needs a 404, not a 403.
      Sid: "ListWeightsPrefixes",
      Effect: "Allow",
      Action: "s3:ListBucket",
      Resource: o.bucketArn,
      Condition: { StringLike: { "s3:prefix": prefixes.flatMap((p) => [`${p}/`, `${p}/*`]) } },
    },
    {
      Sid: "WriteWeights",
      Effect: "Allow",
      Action: ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
      Resource: prefixes.map((p) => `${o.bucketArn}/${p}/*`),
    },
    {
      Sid: "ReadMarkers",
      Effect: "Allow",
      Action: "s3:GetObject",
      Resource: prefixes.map((p) => `${o.bucketArn}/${p}/${WEIGHTS_MARKER}`),
    },
    {
      Sid: "EncryptWeights",
      Effect: "Allow",
      Action: ["kms:GenerateDataKey", "kms:Decrypt"],
      Resource: o.kmsKeyArn,
    },
  ];
  if (o.hubTokenSecretArn)
    statements.push({
      Sid: "ReadHubToken",
      Effect: "Allow",
      Action: "secretsmanager:GetSecretValue",
      Resource: o.hubTokenSecretArn,
    });
  if (o.pullImageRepositoryArn)
    statements.push(
      // GetAuthorizationToken takes no resource ("Resource types: -", Service Authorization
      // Reference, Amazon ECR); the pull is the image's repository only.
      { Sid: "EcrLogin", Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" },
      {
        Sid: "PullBuildImage",
        Effect: "Allow",
        Action: [
          "ecr:BatchCheckLayerAvailability",
          "ecr:BatchGetImage",
          "ecr:GetDownloadUrlForLayer",
        ],
        Resource: o.pullImageRepositoryArn,
      },
    );
  return { Version: "2012-10-17", Statement: statements };
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The script of one copy (run with `bash -euo pipefail`, so any failure fails the build): skip the
 * destinations whose marker names this snapshot, else download it once and sync it to the others,
 * writing each marker after its sync.
 */
export function copyScript(bucket: string, copy: ModelWeightsCopy, index: number): string {
  return transferScript(bucket, copy, index, {
    there: "is already there",
    done: "copied to",
  });
}

/**
 * A copy's or an export's script: the marker check of every destination, the snapshot's download,
 * the `between` steps (the compile), then a sync of `from` (the snapshot, or what the compile
 * wrote) and its marker to each destination that needs it.
 */
function transferScript(
  bucket: string,
  copy: ModelWeightsCopy,
  index: number,
  o: { before?: string[]; there: string; done: string; between?: string[]; from?: string },
): string {
  const revision = copy.revision ?? "main";
  const marker = copyMarker(copy);
  const dir = `"$CODEBUILD_SRC_DIR/weights-${index}"`;
  const from = o.from ?? dir;
  return [
    ...(o.before ?? []),
    `missing=""`,
    `for d in ${copy.destinations.map(q).join(" ")}; do`,
    `  if [ "$(aws s3 cp --only-show-errors "s3://${bucket}/$d/${WEIGHTS_MARKER}" - 2>/dev/null)" = ${q(marker)} ]; then`,
    `    echo "s3://${bucket}/$d/: ${copy.repoId}@${revision} ${o.there}"`,
    `  else missing="$missing $d"; fi`,
    `done`,
    `if [ -z "$missing" ]; then exit 0; fi`,
    `echo "downloading ${copy.repoId}@${revision}"`,
    `REPO_ID=${q(copy.repoId)} REVISION=${q(revision)} LOCAL_DIR=${dir} python3 -c 'import os; from huggingface_hub import snapshot_download; snapshot_download(repo_id=os.environ["REPO_ID"], revision=os.environ["REVISION"], local_dir=os.environ["LOCAL_DIR"], token=os.environ.get("HF_TOKEN") or None, ignore_patterns=["original/*"])'`,
    ...(o.between ?? []),
    `for d in $missing; do`,
    `  aws s3 sync --only-show-errors --exclude '.cache/*' ${from} "s3://${bucket}/$d/"`,
    `  printf '%s' ${q(marker)} | aws s3 cp --only-show-errors - "s3://${bucket}/$d/${WEIGHTS_MARKER}"`,
    `  echo "${o.done} s3://${bucket}/$d/"`,
    `done`,
    `rm -rf ${dir}${from === dir ? "" : ` ${from}`}`,
  ].join("\n");
}

/** What a destination's marker holds: the snapshot, and for a Neuron export what it compiled. */
export function copyMarker(copy: Pick<ModelWeightsCopy, "repoId" | "revision" | "neuron">): string {
  const revision = copy.revision ?? "main";
  return JSON.stringify({
    repoId: copy.repoId,
    revision,
    ...(copy.neuron ? { neuron: { image: copy.neuron.image, ...copy.neuron.shape } } : {}),
  });
}

/**
 * The script of one Neuron export (run with `bash -euo pipefail`): skip the destinations whose
 * marker names this snapshot and these shapes, else download the snapshot, compile it for
 * Inferentia2 with `optimum-cli export neuron` and sync the Neuron model to the others, writing
 * each marker after its sync.
 *
 * The build has no Neuron device, so the target is named: "You can also compile the model on a
 * CPU-only instance. In this case, specify the target instance type by passing `--instance_type`"
 * (optimum-neuron v0.4.5 docs/source/guides/export_model.mdx). Exported from a local directory,
 * the model is saved with its (sharded) checkpoint ("If the model was exported from a local path,
 * we need to save the checkpoint", optimum/neuron/models/inference/backend/pretrained_model.py),
 * so the prefix holds everything the endpoint loads.
 */
export function neuronExportScript(
  bucket: string,
  copy: ModelWeightsCopy & { neuron: NeuronExport },
  index: number,
): string {
  const dir = `"$CODEBUILD_SRC_DIR/weights-${index}"`;
  const out = `"$CODEBUILD_SRC_DIR/neuron-${index}"`;
  const { tensorParallelSize, batchSize, sequenceLength } = copy.neuron.shape;
  return transferScript(bucket, copy, index, {
    // The AWS CLI the install phase put in its own virtual environment (neuronBuildspec).
    before: ["export PATH=/opt/awscli/bin:$PATH"],
    there: "for Neuron is already there",
    done: "compiled into",
    between: [
      `echo "compiling for inf2: tensor parallel ${tensorParallelSize}, batch ${batchSize}, sequence ${sequenceLength}"`,
      `optimum-cli export neuron --model ${dir} --task text-generation --instance_type inf2 --tensor_parallel_size ${tensorParallelSize} --batch_size ${batchSize} --sequence_length ${sequenceLength} ${out}`,
    ],
    from: out,
  });
}

/**
 * The Neuron export's buildspec: the AWS CLI in its own virtual environment (with the image's uv),
 * then each export (neuronExportScript).
 */
export function neuronBuildspec(bucket: string, copies: ModelWeightsCopy[]): string {
  const exports = copies.filter((c): c is ModelWeightsCopy & { neuron: NeuronExport } =>
    Boolean(c.neuron),
  );
  return buildspec(
    [
      "uv venv /opt/awscli",
      `VIRTUAL_ENV=/opt/awscli uv pip install --quiet awscli==${NEURON_EXPORT_AWSCLI_VERSION}`,
    ],
    exports.map((c, i) => neuronExportScript(bucket, c, i)),
  );
}

/** A bash buildspec: the install commands, then each script as `bash -euo pipefail -c '...'`. */
function buildspec(install: string[], scripts: string[]): string {
  return YAML.stringify(
    {
      version: 0.2,
      env: { shell: "bash" },
      phases: {
        install: { commands: install },
        build: { commands: scripts.map((s) => `bash -euo pipefail -c ${q(s)}`) },
      },
    },
    { lineWidth: 0 },
  );
}

/**
 * The buildspec: install huggingface_hub, then for each snapshot download it into the build's
 * disk and `aws s3 sync` it to each destination whose marker is missing or names another
 * revision, writing the marker last. `snapshot_download` with `local_dir` keeps its own metadata
 * under `<local_dir>/.cache/huggingface/`, which is not uploaded. `original/` is skipped: Meta's
 * repositories keep their own checkpoint format there ("To download Original checkpoints ...
 * `--include "original/*"`", the Meta-Llama-3-8B-Instruct model card), a second copy of the
 * weights that neither vLLM nor LMI reads (they load `*.safetensors` with `config.json`).
 */
export function weightsBuildspec(bucket: string, copies: ModelWeightsCopy[]): string {
  return buildspec(
    [`pip3 install --quiet --no-cache-dir huggingface_hub==${HUGGINGFACE_HUB_VERSION}`],
    copies.map((c, i) => copyScript(bucket, c, i)),
  );
}

/**
 * Brings Hugging Face Hub weights into the model store, so serving reads them from S3 and never
 * from the hub: SageMaker endpoints keep network isolation ("No inbound or outbound network calls
 * can be made to or from the model container", SageMaker `EnableNetworkIsolation`,
 * https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/sagemaker/aws.sdk.kotlin.services.sagemaker.model/-model/enable-network-isolation.html),
 * and a VPC without NAT serves too.
 * A CodeBuild project downloads each pinned snapshot with huggingface_hub and syncs it to every
 * target's weights prefix. The project has no VPC configuration, so it reaches the hub even when
 * the stack's VPC has no NAT ("Typically, AWS CodeBuild cannot access resources in a VPC",
 * https://docs.aws.amazon.com/codebuild/latest/userguide/vpc-support.html: a build without
 * `vpcConfig` runs in CodeBuild's own network, with internet access). Its role writes only under
 * the destinations. The deploy starts it and waits (automation/modelWeights.ts copyModelWeights).
 *
 * Each destination gets its own upload from the build's disk rather than a server-side copy from
 * the first: the role then never reads weights from the bucket, and every target's prefix holds
 * what it serves (each reads only its own prefix).
 */
export class ModelWeights extends pulumi.ComponentResource {
  /** The CodeBuild project that copies the weights (start it to bring them in); none without plain copies. */
  public readonly projectName?: pulumi.Output<string>;
  /** The CodeBuild project that compiles Neuron models (`copies[].neuron`); none without one. */
  public readonly neuronProjectName?: pulumi.Output<string>;
  /** The marker object keys, one per destination: all present means the weights are there. */
  public readonly markerKeys: string[];

  constructor(name: string, args: ModelWeightsArgs, opts?: pulumi.ComponentResourceOptions) {
    throwIfInvalid("ModelWeights", name, validateModelWeightsArgs(args));
    super("llm-infra:index:ModelWeights", name, {}, opts);
    this.markerKeys = args.copies
      .flatMap((c) => c.destinations)
      .map((d) => `${d.replace(/\/+$/, "")}/${WEIGHTS_MARKER}`);
    const plain = args.copies.filter((c) => !c.neuron);
    const exports = args.copies.filter((c) => c.neuron);
    if (plain.length > 0)
      this.projectName = this.createBuild(`${name}-copy`, args, plain, {
        roleDescription: `Model weights copy of ${name}`,
        description: "Copies Hugging Face Hub model weights into the model store",
        computeType: args.computeType ?? "BUILD_GENERAL1_MEDIUM",
        image: CODEBUILD_STANDARD_IMAGE,
        buildspec: (bucket) => weightsBuildspec(bucket, plain),
        timeoutMinutes: args.buildTimeoutMinutes ?? 120,
      });
    if (exports.length > 0) {
      const compileMinutes = Math.max(...exports.map((c) => c.neuron!.compileSeconds / 60));
      this.neuronProjectName = this.createBuild(`${name}-neuron`, args, exports, {
        roleDescription: `Neuron model export of ${name}`,
        description: "Compiles Hugging Face Hub models for Inferentia2 into the model store",
        computeType: args.neuronComputeType ?? "BUILD_GENERAL1_XLARGE",
        // The serving image itself, so the compiler is the optimum-neuron the endpoint runs.
        image: exports[0].neuron!.image,
        pullsImage: true,
        buildspec: (bucket) => neuronBuildspec(bucket, exports),
        timeoutMinutes:
          args.neuronBuildTimeoutMinutes ??
          Math.min(2160, Math.max(120, Math.ceil(compileMinutes * 3))),
      });
    }
    this.registerOutputs({
      projectName: this.projectName,
      neuronProjectName: this.neuronProjectName,
    });
  }

  /**
   * One build, all named `name`: its role, its CodeBuild project (no VPC, no source, the
   * buildspec) and the role's one policy (weightsCopyPolicy), scoped to the project's own log
   * group and the copies' destinations. With `pullsImage`, CodeBuild pulls the build image with
   * the role ("When you use a cross-account or private registry image, you must use SERVICE_ROLE
   * credentials", CodeBuild API reference, ProjectEnvironment imagePullCredentialsType), and the
   * policy lets it pull that repository.
   */
  private createBuild(
    name: string,
    args: ModelWeightsArgs,
    copies: ModelWeightsCopy[],
    o: {
      roleDescription: string;
      description: string;
      computeType: string;
      image: string;
      pullsImage?: boolean;
      buildspec: (bucket: string) => string;
      timeoutMinutes: number;
    },
  ): pulumi.Output<string> {
    const child = { parent: this };
    const role = serviceRole(name, "codebuild.amazonaws.com", o.roleDescription, args.tags, this);
    const project = new aws.codebuild.Project(
      name,
      {
        description: o.description,
        serviceRole: role.arn,
        artifacts: { type: "NO_ARTIFACTS" },
        environment: {
          type: "LINUX_CONTAINER",
          computeType: o.computeType,
          image: o.image,
          ...(o.pullsImage ? { imagePullCredentialsType: "SERVICE_ROLE" } : {}),
          // A project environment variable of type SECRETS_MANAGER: CodeBuild reads the secret
          // when the build starts (https://docs.aws.amazon.com/codebuild/latest/APIReference/API_EnvironmentVariable.html).
          environmentVariables: args.hubTokenSecretArn
            ? [{ name: "HF_TOKEN", type: "SECRETS_MANAGER", value: args.hubTokenSecretArn }]
            : [],
        },
        source: { type: "NO_SOURCE", buildspec: pulumi.output(args.bucketName).apply(o.buildspec) },
        buildTimeout: o.timeoutMinutes,
        tags: args.tags,
      },
      child,
    );
    const accountId = aws.getCallerIdentityOutput({}, child).accountId;
    const region = aws.getRegionOutput({}, child).region;
    new aws.iam.RolePolicy(
      name,
      {
        role: role.id,
        policy: pulumi
          .all([region, accountId, project.name, args.bucketArn, args.kmsKeyArn])
          .apply(([r, a, projectName, bucketArn, kmsKeyArn]) =>
            JSON.stringify(
              weightsCopyPolicy({
                region: r,
                accountId: a,
                projectName,
                bucketArn,
                kmsKeyArn,
                destinations: copies.flatMap((c) => c.destinations),
                hubTokenSecretArn: args.hubTokenSecretArn,
                pullImageRepositoryArn: o.pullsImage ? ecrRepositoryArn(o.image) : undefined,
              }),
            ),
          ),
      },
      child,
    );
    return project.name;
  }
}
