/**
 * The `llm-infra:images` config section: where the stack's workloads pull their images from, and
 * the images the stack builds in AWS.
 *
 * ```yaml
 * llm-infra:images:
 *   source: ecr            # ecr | upstream; default ecr without NAT, upstream with NAT
 *   upstreamCredentials:   # optional: cache Docker Hub or GitHub through ECR with a credential
 *     ghcr.io: arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/ghcr-AbCdEf
 *   builds:                # images built from a directory of images/ into a repository
 *     - directory: triton-python
 *       repository: triton
 *       tag: 26.07-py3-python1
 * ```
 */
import * as fs from "fs";
import * as path from "path";
import { ociTagProblem } from "../catalog/awsLimits";
import { ImageSource, PULL_THROUGH_UPSTREAMS, PullThroughUpstream } from "../catalog/imageSources";
import { NGC_TRITON } from "../catalog/images";
import { isObject, readSection, SectionReader, shown } from "./configReader";

export interface ImageBuildConfig {
  /** A directory of images/ holding a Dockerfile. */
  directory: string;
  /** One of llm-infra:storage.repositories. */
  repository: string;
  tag: string;
  /** The Dockerfile's BASE_IMAGE. @default NGC's base Triton image of the catalog's version */
  baseImage: string;
}

export interface ImagesConfig {
  source: ImageSource;
  upstreamCredentials: Partial<Record<PullThroughUpstream, string>>;
  builds: ImageBuildConfig[];
}

const PREFIX = "llm-infra:images";

/** The package's images/ directory (found from here, compiled or not). */
export function imagesDirectory(): string {
  let dir = __dirname;
  for (;;) {
    const candidate = path.join(dir, "images");
    if (fs.existsSync(path.join(candidate, "triton-python", "Dockerfile"))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("images/ not found above the stack program");
    dir = parent;
  }
}

/** The directories of images/ that hold a Dockerfile. */
export function buildableDirectories(): string[] {
  const root = imagesDirectory();
  return fs
    .readdirSync(root)
    .filter((d) => fs.existsSync(path.join(root, d, "Dockerfile")))
    .sort();
}

export function parseImagesConfig(
  raw: unknown,
  ctx: { withoutNat: boolean; repositories: string[] },
  problems: string[],
): ImagesConfig {
  const r =
    readSection(PREFIX, raw, problems, ["source", "upstreamCredentials", "builds"]) ??
    new SectionReader(PREFIX, {}, problems);
  const source = r.string("source");
  if (source !== undefined && !Object.values(ImageSource).includes(source as ImageSource))
    problems.push(
      `${r.key("source")} must be one of ${Object.values(ImageSource).join(", ")}, got ${JSON.stringify(source)}`,
    );
  if (source === "upstream" && ctx.withoutNat)
    problems.push(
      `${r.key("source")} upstream cannot work: the VPC has no NAT gateway (llm-infra:network.natGateways none), so nodes reach no registry outside AWS; use ecr`,
    );
  const credentials: Partial<Record<PullThroughUpstream, string>> = {};
  const rawCredentials = r.map("upstreamCredentials") ?? {};
  for (const [host, arn] of Object.entries(rawCredentials)) {
    const key = `${r.key("upstreamCredentials")}.${host}`;
    if (!PULL_THROUGH_UPSTREAMS[host as PullThroughUpstream]?.credential)
      problems.push(
        `${key} is not a registry that takes a credential; allowed: docker.io, ghcr.io`,
      );
    else if (
      typeof arn !== "string" ||
      !/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:ecr-pullthroughcache\//.test(arn)
    )
      problems.push(
        `${key} must be the ARN of a Secrets Manager secret whose name starts with ecr-pullthroughcache/ (ECR's pull-through cache reads only those), got ${JSON.stringify(arn)}`,
      );
    else credentials[host as PullThroughUpstream] = arn;
  }
  const builds: ImageBuildConfig[] = [];
  const rawBuilds = r.value("builds");
  if (rawBuilds !== undefined && !Array.isArray(rawBuilds))
    problems.push(`${r.key("builds")} must be a list, got ${shown(rawBuilds)}`);
  const directories =
    Array.isArray(rawBuilds) && rawBuilds.length > 0 ? buildableDirectories() : [];
  (Array.isArray(rawBuilds) ? rawBuilds : []).forEach((entry, i) => {
    const at = `${r.key("builds")}[${i}]`;
    if (!isObject(entry)) {
      problems.push(`${at} must be a map of keys, got ${JSON.stringify(entry)}`);
      return;
    }
    const b = readSection(at, entry, problems, ["directory", "repository", "tag", "baseImage"])!;
    const directory = b.string("directory");
    const repository = b.string("repository");
    const tag = b.checked("tag", ociTagProblem);
    const baseImage = b.string("baseImage");
    if (directory === undefined || !directories.includes(directory))
      problems.push(
        `${b.key("directory")} must be a directory of images/ holding a Dockerfile (${directories.join(", ")}), got ${JSON.stringify(directory)}`,
      );
    if (repository === undefined || !ctx.repositories.includes(repository))
      problems.push(
        `${b.key("repository")} must name one of llm-infra:storage.repositories (${ctx.repositories.join(", ")}), got ${JSON.stringify(repository)}`,
      );
    if (b.value("tag") === undefined) problems.push(`${b.key("tag")} is required`);
    if (
      baseImage !== undefined &&
      !/^[a-z0-9.-]+\/[\w./-]+:[\w.-]+(@sha256:[a-f0-9]{64})?$/.test(baseImage)
    )
      problems.push(
        `${b.key("baseImage")} must be an image host/path:tag, got ${JSON.stringify(baseImage)}`,
      );
    if (directory && repository && tag)
      builds.push({
        directory,
        repository,
        tag,
        baseImage:
          baseImage ?? `${NGC_TRITON.repository}:${NGC_TRITON.tag(NGC_TRITON.defaultVersion)}`,
      });
  });
  return {
    source: (source as ImageSource | undefined) ?? (ctx.withoutNat ? "ecr" : "upstream"),
    upstreamCredentials: credentials,
    builds,
  };
}
