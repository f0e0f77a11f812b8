/**
 * `npm run model -- push`: the checked repository uploaded to the prefix its target reads, file by
 * file, multipart above 16 MiB (lib-storage `Upload`), skipping files whose SHA-256 the object
 * already carries (`x-amz-meta-sha256`, written by this command), with a progress bar.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { RepositoryProblem, checkRepository, checkTargetFit, formatProblem } from "./check";
import { ModelPush, ServingTarget } from "./targets";
import { modelJsonRewrites } from "./weights";

export interface LocalFile {
  /** Path relative to the repository, with `/` separators. */
  relative: string;
  absolute: string;
  bytes: number;
  sha256: string;
  /** What is uploaded instead of the file's own bytes (a rewritten model.json). */
  content?: Buffer;
}

/** Every file of the repository (dot files skipped), sorted, with size and SHA-256. */
export async function listRepositoryFiles(dir: string): Promise<LocalFile[]> {
  const out: LocalFile[] = [];
  const walk = (d: string, rel: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.name.startsWith(".")) continue;
      const abs = path.join(d, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(abs, r);
      else if (e.isFile())
        out.push({ relative: r, absolute: abs, bytes: fs.statSync(abs).size, sha256: "" });
    }
  };
  walk(dir, "");
  out.sort((a, b) => a.relative.localeCompare(b.relative));
  for (const f of out) f.sha256 = await sha256File(f.absolute);
  return out;
}

function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = crypto.createHash("sha256");
    fs.createReadStream(file)
      .on("data", (chunk) => hash.update(chunk))
      .on("end", () => resolve(hash.digest("hex")))
      .on("error", reject);
  });
}

/**
 * The files as the target must see them: each vLLM `model.json` naming a Hugging Face Hub model
 * has its `"model"` rewritten to where the target's container finds the weights the stack copied
 * into the model store (modelRepository/weights.ts). The local file keeps the hub id.
 */
export function forTarget(files: LocalFile[], dir: string, target: ServingTarget): LocalFile[] {
  const rewrites = modelJsonRewrites(dir, target, (f) =>
    fs.readFileSync(path.join(dir, f), "utf8"),
  );
  return files.map((f) => {
    const text = rewrites.get(f.relative);
    if (text === undefined) return f;
    const content = Buffer.from(text, "utf8");
    const sha256 = crypto.createHash("sha256").update(content).digest("hex");
    return { ...f, content, bytes: content.length, sha256 };
  });
}

/** The object key of a file under a prefix (`model-repository/chat` + `llm/1/model.json`). */
export function objectKey(prefix: string, relative: string): string {
  return `${prefix.replace(/^\/+|\/+$/g, "")}/${relative}`;
}

/** A text progress bar: `[#####.....]  52%  12.0 MiB / 23.1 MiB  llm/1/model.json`. */
export function progressLine(done: number, total: number, current: string, width = 30): string {
  const fraction = total === 0 ? 1 : Math.min(1, done / total);
  const filled = Math.round(fraction * width);
  const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${String(Math.round(fraction * 100)).padStart(3)}%  ${mib(done)} / ${mib(total)}  ${current}`;
}

export interface PushSummary {
  bucket: string;
  prefix: string;
  uploaded: string[];
  unchanged: string[];
  bytesUploaded: number;
}

export interface PushOptions {
  client: S3Client;
  bucket: string;
  prefix: string;
  /** Called as bytes go out (for the progress bar). */
  onProgress?: (line: string) => void;
  /** Part size for multipart uploads. @default 16 MiB */
  partSizeBytes?: number;
}

/** Uploads the files whose checksum differs from the object's; returns what it did. */
export async function pushFiles(files: LocalFile[], o: PushOptions): Promise<PushSummary> {
  const summary: PushSummary = {
    bucket: o.bucket,
    prefix: o.prefix,
    uploaded: [],
    unchanged: [],
    bytesUploaded: 0,
  };
  const changed: LocalFile[] = [];
  for (const f of files) {
    const remote = await remoteSha256(o.client, o.bucket, objectKey(o.prefix, f.relative));
    if (remote === f.sha256) summary.unchanged.push(f.relative);
    else changed.push(f);
  }
  const total = changed.reduce((n, f) => n + f.bytes, 0);
  let done = 0;
  for (const f of changed) {
    const upload = new Upload({
      client: o.client,
      params: {
        Bucket: o.bucket,
        Key: objectKey(o.prefix, f.relative),
        Body: f.content ?? fs.createReadStream(f.absolute),
        ContentLength: f.bytes,
        Metadata: { sha256: f.sha256 },
      },
      partSize: o.partSizeBytes ?? 16 * 1024 * 1024,
      queueSize: 4,
    });
    const base = done;
    upload.on("httpUploadProgress", (p) => {
      o.onProgress?.(progressLine(base + Math.min(p.loaded ?? 0, f.bytes), total, f.relative));
    });
    await upload.done();
    done += f.bytes;
    o.onProgress?.(progressLine(done, total, f.relative));
    summary.uploaded.push(f.relative);
    summary.bytesUploaded += f.bytes;
  }
  return summary;
}

async function remoteSha256(
  client: S3Client,
  bucket: string,
  key: string,
): Promise<string | undefined> {
  try {
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return head.Metadata?.sha256;
  } catch (e) {
    const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404 || (e as Error).name === "NotFound") return undefined;
    throw e;
  }
}

/** The problems `npm run model -- check` finds in a stack's model repository for its target. */
export function modelPushProblems(push: ModelPush): RepositoryProblem[] {
  return [...checkRepository(push.directory, push.check).problems, ...checkTargetFit(push.check)];
}

/** A model repository that fails its target's checks: nothing was uploaded. */
export class ModelCheckError extends Error {
  constructor(
    public readonly push: ModelPush,
    public readonly problems: RepositoryProblem[],
  ) {
    super(
      `${push.key} (${push.label}): ${problems.length} problem(s), nothing uploaded:\n${problems.map((p) => `  ${formatProblem(p)}`).join("\n")}`,
    );
    this.name = "ModelCheckError";
  }
}

/**
 * One stack model repository (from `modelPushesOf`) checked against its target, then uploaded to
 * the prefix the target reads in `bucket` (a vLLM model.json naming a hub model pointing at the
 * target's copied weights, `forTarget`): what `npm run model -- push` does, in-process. Throws
 * a ModelCheckError (and uploads nothing) when the check finds problems.
 */
export async function pushModel(
  push: ModelPush,
  o: Omit<PushOptions, "prefix">,
): Promise<PushSummary> {
  const problems = modelPushProblems(push);
  if (problems.length > 0) throw new ModelCheckError(push, problems);
  const files = forTarget(await listRepositoryFiles(push.directory), push.directory, push.target);
  return pushFiles(files, { ...o, prefix: push.target.prefix });
}
