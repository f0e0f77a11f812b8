/**
 * The preflight's checks of what the serving resources read: each image the stack runs from the
 * account's ECR is there (or brought by the deploy), each target's model is in the model store (or
 * pushed by the deploy).
 */
import { DescribeImagesCommand } from "@aws-sdk/client-ecr";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { DLC_ACCOUNTS } from "../catalog/images";
import { MOCK_ACCOUNT_ID } from "../offline/mocks";
import type { PlanReport } from "../offline/plan";
import type { StackConfig } from "../programs/config";
import { sagemakerModelsOf, stackTargets, weightsEndpointsOf } from "../modelRepository/targets";
import { WEIGHTS_MARKER } from "../modelRepository/hubModels";
import { StackImage, parseEcrImage, stackImages } from "./preflightNeeds";
import {
  PreflightClients,
  PreflightFinding,
  PreflightOptions,
  awsError,
  unreadable,
  unreadableFix,
} from "./preflightTypes";

// 4. Images

const AWS_REGISTRY_ACCOUNTS = new Set(Object.values(DLC_ACCOUNTS));

/**
 * The short name (the `registryUrls` key) of a repository the stack creates, from the plan's
 * repository resource: ModelRegistry names each `${name}-${short with / . _ as -}`.
 */
function shortNameOf(
  planRepository: { name: string; parent?: string | null },
  registryUrls: Record<string, string>,
): string | undefined {
  return Object.keys(registryUrls).find(
    (k) => `${planRepository.parent ?? ""}-${k.replace(/[/._]/g, "-")}` === planRepository.name,
  );
}

async function imageInEcr(
  clients: PreflightClients,
  account: string,
  repository: string,
  tag: string | undefined,
  digest: string | undefined,
): Promise<"present" | "no-image" | "no-repository"> {
  try {
    const r = await clients.ecr.send(
      new DescribeImagesCommand({
        registryId: account,
        repositoryName: repository,
        imageIds: [digest ? { imageDigest: digest } : { imageTag: tag ?? "latest" }],
      }),
    );
    return (r.imageDetails ?? []).length > 0 ? "present" : "no-image";
  } catch (e) {
    const { name } = awsError(e);
    if (name === "ImageNotFoundException") return "no-image";
    if (name === "RepositoryNotFoundException") return "no-repository";
    throw e;
  }
}

export async function imageFindings(
  clients: PreflightClients,
  report: PlanReport,
  account: string | undefined,
  region: string,
  options: PreflightOptions,
): Promise<PreflightFinding[]> {
  const planRepos = report.resources.filter((r) => r.type === "aws:ecr/repository:Repository");
  const brings = (uri: string) => options.deployBrings?.image?.(uri) === true;
  const byUri = new Map<string, StackImage[]>();
  for (const image of stackImages(report.resources))
    byUri.set(image.uri, [...(byUri.get(image.uri) ?? []), image]);
  const findings: PreflightFinding[] = [];
  for (const [uri, users] of byUri) {
    const usedBy = users.map((u) => `${u.usedBy} (${u.where})`).join(", ");
    const base = { check: "image" as const, subject: uri, needs: `run by ${usedBy}` };
    const ecr = parseEcrImage(uri);
    if (!ecr) {
      findings.push({
        ...base,
        status: "info",
        source: "not ECR",
        has: `pulled from ${uri.split("/")[0]} when it runs; not checked here`,
      });
      continue;
    }
    if (AWS_REGISTRY_ACCOUNTS.has(ecr.account)) {
      findings.push({
        ...base,
        status: "info",
        source: "catalog/images.ts DLC_ACCOUNTS",
        has: `published by AWS (Deep Learning Containers account ${ecr.account}); not checked`,
      });
      continue;
    }
    if (ecr.tag === undefined && ecr.digest === undefined) {
      findings.push({
        ...base,
        status: "warning",
        source: "plan",
        has: "no tag or digest in the plan (the chart's or the runtime's default): not checked",
        fix: "pin the image's tag in the stack",
      });
      continue;
    }
    if (ecr.region !== region) {
      findings.push({
        ...base,
        status: "warning",
        source: "ecr:DescribeImages",
        has: `in ${ecr.region}; the preflight reads ECR in ${region}: not checked`,
        fix: `run the preflight with AWS_REGION=${ecr.region} to check it`,
      });
      continue;
    }
    // The plan writes the stack's own account as the mocks' account; the real one is the caller's.
    const inStackAccount = ecr.account === MOCK_ACCOUNT_ID;
    const targetAccount = inStackAccount ? account : ecr.account;
    const planRepo = inStackAccount ? planRepos.find((r) => r.id === ecr.repository) : undefined;
    let repository = ecr.repository;
    if (planRepo) {
      // A repository the stack creates: its real name is in the stack's outputs once deployed.
      const short = options.outputs?.registryUrls
        ? shortNameOf(planRepo, options.outputs.registryUrls)
        : undefined;
      const real = short ? parseEcrImage(`${options.outputs!.registryUrls![short]}:x`) : undefined;
      if (!real) {
        findings.push(
          brings(uri)
            ? {
                ...base,
                status: "ok",
                source: "deploy image step",
                has: `the foundation step creates the repository (${planRepo.name}); the image step brings the image`,
              }
            : {
                ...base,
                status: "blocker",
                source: "deploy image step",
                has: `the foundation step creates the repository (${planRepo.name}), but nothing puts this image in it`,
                fix: `push ${ecr.tag ?? ecr.digest ?? "the image"} to the ${planRepo.name} repository after the foundation step, or let the deploy bring it`,
              },
        );
        continue;
      }
      repository = real.repository;
    }
    const source = "ecr:DescribeImages";
    let state: "present" | "no-image" | "no-repository";
    try {
      state = await imageInEcr(
        clients,
        targetAccount ?? ecr.account,
        repository,
        ecr.tag,
        ecr.digest,
      );
    } catch (e) {
      findings.push({
        ...base,
        status: "warning",
        source,
        has: unreadable("ecr:DescribeImages", e),
        fix: unreadableFix(e, "ecr:DescribeImages on the repository", "run the preflight again"),
      });
      continue;
    }
    const where = `${repository}${ecr.digest ? `@${ecr.digest}` : `:${ecr.tag ?? "latest"}`} in account ${targetAccount ?? ecr.account}`;
    if (state === "present")
      findings.push({ ...base, status: "ok", source, has: `${where} is present` });
    else if (brings(uri))
      findings.push({
        ...base,
        status: "ok",
        source,
        has: `${where} is missing; the deploy's image step brings it`,
      });
    else
      findings.push({
        ...base,
        status: "blocker",
        source,
        has: state === "no-repository" ? `no repository ${repository}` : `${where} is missing`,
        fix: "push the image (or let the deploy's image step bring it) before the resources that run it",
      });
  }
  return findings;
}

// ---------------------------------------------------------------------------------------------
// 5. Models

/** A serving target and the `config.pbtxt` that must be in the store for it to serve. */
export interface ModelTarget {
  /** `endpoint chat`, `triton`, `fleet` (modelRepository/targets.ts labels). */
  name: string;
  /** The store prefix the target reads, without a trailing slash. */
  prefix: string;
  /** The model Triton serves by default (SAGEMAKER_TRITON_DEFAULT_MODEL_NAME), when the target names one. */
  defaultModel?: string;
  /** The stack names a local repository for it (`modelRepository:`): the deploy's model step pushes it. */
  pushedByDeploy: boolean;
  /**
   * An LMI endpoint: the object that shows its weights are there (the weights copy's marker, or a
   * Hugging Face `config.json`) and what it is, instead of a Triton `config.pbtxt`.
   */
  weights?: { key: string; what: string; neuron?: boolean };
}

/** The stack's serving targets and their default models, from its configuration. */
export function modelTargets(config: StackConfig): ModelTarget[] {
  const triton = stackTargets(config).map((t) => {
    const endpoint =
      t.kind === "endpoint"
        ? sagemakerModelsOf(config).find((m) => `endpoint ${m.name}` === t.label)?.e
        : undefined;
    return {
      name: t.label,
      prefix: t.prefix,
      defaultModel: endpoint?.tritonModelName,
      pushedByDeploy: t.modelRepository !== undefined,
    };
  });
  // LMI reads a Hugging Face snapshot from the prefix, vLLM Neuron a Neuron model (its
  // neuron_config.json, optimum-neuron configuration_utils.py NEURON_CONFIG_NAME): the copy's or
  // the export's marker says it is complete.
  const lmi = weightsEndpointsOf(config).map((e) => ({
    name: e.label,
    prefix: e.prefix,
    pushedByDeploy: e.hub !== undefined,
    weights: e.hub
      ? {
          key: `${e.prefix}/${WEIGHTS_MARKER}`,
          neuron: e.servesNeuronModel,
          what: e.servesNeuronModel
            ? `the Neuron model of ${e.hub.repoId} (compiled by the deploy's Neuron export)`
            : `the weights of ${e.hub.repoId} (copied by the deploy's weights copy)`,
        }
      : e.servesNeuronModel
        ? {
            key: `${e.prefix}/neuron_config.json`,
            neuron: true,
            what: "a Neuron model (optimum-cli export neuron; neuron_config.json)",
          }
        : { key: `${e.prefix}/config.json`, what: "a Hugging Face model (config.json)" },
  }));
  return [...triton, ...lmi];
}

/** Whether the store holds the target's model (`<prefix>/<model>/config.pbtxt`), or any model. */
async function modelInStore(
  clients: PreflightClients,
  bucket: string,
  target: ModelTarget,
): Promise<{ present: boolean; looked: string }> {
  if (target.weights) {
    const key = target.weights.key;
    const r = await clients.s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: key, MaxKeys: 1 }),
    );
    return { present: (r.Contents ?? []).some((o) => o.Key === key), looked: key };
  }
  const looked = target.defaultModel
    ? `${target.prefix}/${target.defaultModel}/config.pbtxt`
    : `${target.prefix}/*/config.pbtxt`;
  const r = await clients.s3.send(
    new ListObjectsV2Command({
      Bucket: bucket,
      Prefix: target.defaultModel ? looked : `${target.prefix}/`,
      ...(target.defaultModel ? { MaxKeys: 1 } : {}),
    }),
  );
  const depth = new RegExp(
    `^${target.prefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/[^/]+/config\\.pbtxt$`,
  );
  const present = (r.Contents ?? []).some((o) =>
    target.defaultModel ? o.Key === looked : depth.test(o.Key ?? ""),
  );
  return { present, looked };
}

export async function modelFindings(
  clients: PreflightClients,
  stack: string,
  targets: ModelTarget[],
  options: PreflightOptions,
): Promise<PreflightFinding[]> {
  const bucket = options.outputs?.modelBucketName;
  const pushed = (t: ModelTarget) =>
    t.pushedByDeploy || options.deployBrings?.model?.(t.name) === true;
  const findings: PreflightFinding[] = [];
  for (const t of targets) {
    const needs = t.weights
      ? `${t.weights.key} (${t.weights.what})`
      : t.defaultModel
        ? `${t.prefix}/${t.defaultModel}/config.pbtxt (its default model ${t.defaultModel})`
        : `a model under ${t.prefix}/ (<model>/config.pbtxt)`;
    const base = { check: "model" as const, subject: t.name, needs };
    const choice = t.name.startsWith("endpoint ") ? `endpoint ${t.name.slice(9)}` : t.name;
    const push = `npm run model -- push --stack ${stack} --${choice} --bucket ${bucket ?? "<modelBucketName>"} <model repository>`;
    // What brings it: a Triton repository is pushed, an LMI endpoint's hub weights are copied.
    const brought = t.weights ? "copies the weights" : "pushes the repository";
    const bring = t.weights
      ? t.weights.neuron
        ? `set hubModel on the endpoint so the deploy's model step compiles it for Inferentia2, or upload a Neuron model (optimum-cli export neuron --instance_type inf2) to s3://${bucket ?? "<modelBucketName>"}/${t.prefix}/`
        : `set hubModel on the endpoint so the deploy's model step copies the weights, or upload a Hugging Face snapshot to s3://${bucket ?? "<modelBucketName>"}/${t.prefix}/`
      : undefined;
    if (!bucket) {
      findings.push(
        pushed(t)
          ? {
              ...base,
              status: "ok",
              source: "deploy model step",
              has: `the foundation step creates the model store; the model step ${brought}`,
            }
          : {
              ...base,
              status: "blocker",
              source: "deploy model step",
              has: `the foundation step creates the model store, but nothing ${t.weights ? "copies these weights" : "pushes this repository"}`,
              fix:
                bring ??
                `let the deploy's model step push it, or run ${push} after the foundation step`,
            },
      );
      continue;
    }
    const source = "s3:ListObjectsV2";
    try {
      const { present, looked } = await modelInStore(clients, bucket, t);
      if (present)
        findings.push({
          ...base,
          status: "ok",
          source,
          has: `s3://${bucket}/${looked} is present`,
        });
      else if (pushed(t))
        findings.push({
          ...base,
          status: "ok",
          source,
          has: `not in s3://${bucket} yet; the deploy's model step ${t.weights ? "copies them" : "pushes it"}`,
        });
      else
        findings.push({
          ...base,
          status: "blocker",
          source,
          has: `s3://${bucket}/${looked} is missing`,
          fix: bring ?? `run ${push}`,
        });
    } catch (e) {
      const err = awsError(e);
      findings.push({
        ...base,
        status: err.name === "NoSuchBucket" ? "blocker" : "warning",
        source,
        has: err.name === "NoSuchBucket" ? `no bucket ${bucket}` : unreadable("s3:ListBucket", e),
        fix:
          err.name === "NoSuchBucket"
            ? "the stack's model bucket is gone: run the deploy's foundation step again"
            : unreadableFix(e, `s3:ListBucket on ${bucket}`, "run the preflight again"),
      });
    }
  }
  return findings;
}
