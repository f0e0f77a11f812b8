/**
 * `npm run model -- check|push|init`: the Triton model repository, checked the way the target's
 * server will read it, uploaded to the prefix the target reads, or scaffolded.
 *
 * Exit status: 0 clean, 1 an upload failed, 2 problems in the repository or a usage mistake.
 */
import { regionProblem } from "../catalog/awsLimits";
import * as path from "path";
import { S3Client } from "@aws-sdk/client-s3";
import { Command, CommanderError } from "commander";
import { CommandOutput, processOutput, runMain, commanderStatus } from "./cli";
import { TRITON_FLAVOURS, TritonFlavour } from "../catalog/images";
import { ConfigError, parseStackConfig } from "../programs/config";
import { UsageError, readStackFile } from "../offline/plan";
import {
  CheckTarget,
  checkRepository,
  checkTargetFit,
  formatProblem,
} from "../modelRepository/check";
import { InitBackend, InitError, initRepository } from "../modelRepository/init";
import { forTarget, listRepositoryFiles, pushFiles } from "../modelRepository/push";
import { ServingTarget, TargetError, checkTargetOf, findTarget } from "../modelRepository/targets";

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

interface TargetOptions {
  stack?: string;
  endpoint?: string;
  triton?: boolean;
  fleet?: boolean;
  dir?: string;
  flavour?: string;
  instanceType?: string;
}

/** What `main` needs from outside: where it writes, and the S3 client push uses. */
export interface ModelCommandDeps {
  io: CommandOutput;
  s3Client?: (o: { region: string; endpointUrl?: string }) => S3Client;
}

export async function main(
  argv: string[],
  deps: ModelCommandDeps = { io: processOutput },
): Promise<number> {
  const io = deps.io;
  let result = EXIT_OK;
  const targetOptions = (c: Command) =>
    c
      .option("--stack <stack>", "the stack whose target the repository is for")
      .option("--endpoint <name>", "the SageMaker endpoint of the stack")
      .option("--triton", "Triton on the stack's EKS cluster")
      .option("--fleet", "Triton on the stack's EC2 fleet")
      .option(
        "--dir <directory>",
        "the directory holding Pulumi.<stack>.yaml (default: this project)",
      );
  const cli = new Command("model")
    .description("Triton model repositories: check, push to a stack's target, scaffold")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });

  targetOptions(
    cli
      .command("check")
      .description("validate a local model repository the way the server will")
      .argument("<repository>", "the local model repository directory"),
  )
    .option(
      "--flavour <flavour>",
      `the Triton image flavour (${Object.keys(TRITON_FLAVOURS).join(", ")})`,
    )
    .option("--instance-type <type>", "the instance the repository will run on")
    .exitOverride()
    .action((dir: string, o: TargetOptions) => {
      const target = resolveTarget(o);
      result = runCheck(dir, target.check, io) ? EXIT_OK : EXIT_USAGE;
    });

  targetOptions(
    cli
      .command("push")
      .description("check, then upload to the prefix the stack's target reads")
      .argument("<repository>", "the local model repository directory"),
  )
    .requiredOption("--bucket <name>", "the model bucket (pulumi stack output modelBucketName)")
    .option("--region <region>", "the bucket's region (default: the stack's aws:region)")
    .option("--endpoint-url <url>", "an S3-compatible endpoint instead of AWS")
    .exitOverride()
    .action(
      async (
        dir: string,
        o: TargetOptions & { bucket: string; region?: string; endpointUrl?: string },
      ) => {
        if (!o.stack) throw new UsageError("push needs --stack <stack> and its target");
        pushFlagProblems(o);
        const target = resolveTarget(o);
        if (!runCheck(dir, target.check, io)) {
          io.err("nothing uploaded: fix the problems above first\n");
          result = EXIT_USAGE;
          return;
        }
        const serving = target.serving!;
        const region = o.region ?? target.region!;
        const client = (deps.s3Client ?? defaultClient)({ region, endpointUrl: o.endpointUrl });
        // A vLLM model.json naming a hub model is uploaded pointing at the target's weights.
        const files = forTarget(await listRepositoryFiles(dir), dir, serving);
        io.err(
          `pushing ${files.length} files to s3://${o.bucket}/${serving.prefix}/ (${serving.label} of stack ${o.stack})\n`,
        );
        try {
          const summary = await pushFiles(files, {
            client,
            bucket: o.bucket,
            prefix: serving.prefix,
            onProgress: (line) => io.err(`\r${line}`),
          });
          if (summary.uploaded.length > 0) io.err("\n");
          io.out(
            `uploaded ${summary.uploaded.length} files (${(summary.bytesUploaded / 1048576).toFixed(1)} MiB), ${summary.unchanged.length} unchanged, to s3://${o.bucket}/${serving.prefix}/\n`,
          );
          io.out(`${afterPush(serving)}\n`);
        } catch (e) {
          io.err(`\nupload failed: ${(e as Error).message}\n`);
          result = EXIT_FAILED;
        } finally {
          client.destroy();
        }
      },
    );

  cli
    .command("init")
    .description("scaffold a model repository that passes check")
    .argument("<repository>", "the directory to create the model in")
    .requiredOption("--backend <backend>", "vllm, python or tensorrtllm")
    .option("--model <name>", "the model's directory and config name", "llm")
    .option("--hf-model <id>", "vllm: the Hugging Face model id or path")
    .option("--engine-dir <dir>", "tensorrtllm: the engines built by trtllm-build")
    .option("--max-model-len <tokens>", "vllm: the longest sequence vLLM admits (max_model_len)")
    .exitOverride()
    .action(
      (
        dir: string,
        o: {
          backend: string;
          model: string;
          hfModel?: string;
          engineDir?: string;
          maxModelLen?: string;
        },
      ) => {
        const maxModelLen = o.maxModelLen === undefined ? undefined : Number(o.maxModelLen);
        if (maxModelLen !== undefined && !(Number.isInteger(maxModelLen) && maxModelLen > 0))
          throw new UsageError(
            `--max-model-len must be a positive integer (tokens), got ${JSON.stringify(o.maxModelLen)}`,
          );
        if (!Object.values(InitBackend).includes(o.backend as InitBackend))
          throw new UsageError(
            `--backend must be one of ${Object.values(InitBackend).join(", ")}, got ${JSON.stringify(o.backend)}`,
          );
        const written = initRepository(dir, {
          backend: o.backend as InitBackend,
          modelName: o.model,
          huggingFaceModel: o.hfModel,
          engineDir: o.engineDir,
          maxModelLen,
        });
        io.out(`${written.map((f) => `created ${path.join(dir, f)}`).join("\n")}\n`);
        io.out(
          `next: npm run model -- check ${dir} --flavour ${o.backend === "tensorrtllm" ? "trtllm" : o.backend === "vllm" ? "vllm" : "base"}\n`,
        );
      },
    );

  try {
    await cli.parseAsync(argv, { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) return commanderStatus(e);
    if (
      e instanceof UsageError ||
      e instanceof ConfigError ||
      e instanceof TargetError ||
      e instanceof InitError
    ) {
      io.err(`error: ${e.message}\n`);
      return EXIT_USAGE;
    }
    throw e;
  }
  return result;
}

/** S3's bucket naming rules, as far as a name can be checked here: 3-63 of a-z 0-9 . -. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** push's flags, each refused before any AWS call, naming the flag. */
function pushFlagProblems(o: { bucket: string; region?: string; endpointUrl?: string }): void {
  if (o.bucket.trim() === "")
    throw new UsageError(
      "--bucket is empty (did `$(pulumi stack output modelBucketName)` fail?): give the model bucket's name",
    );
  if (/^s3:\/\//i.test(o.bucket))
    throw new UsageError(
      `--bucket takes the bucket's name, not a URI: got ${JSON.stringify(o.bucket)}, use ${JSON.stringify(o.bucket.replace(/^s3:\/\//i, "").split("/")[0])}`,
    );
  if (!BUCKET_NAME.test(o.bucket))
    throw new UsageError(
      `--bucket must be an S3 bucket name (3-63 lower-case letters, digits, dots and hyphens), got ${JSON.stringify(o.bucket)}`,
    );
  if (o.region !== undefined) {
    const problem = regionProblem(o.region);
    if (problem) throw new UsageError(`--region ${problem}`);
  }
  if (o.endpointUrl !== undefined) {
    let scheme: string | undefined;
    try {
      scheme = new URL(o.endpointUrl).protocol;
    } catch {
      scheme = undefined;
    }
    if (scheme !== "http:" && scheme !== "https:")
      throw new UsageError(
        `--endpoint-url must be a URL with its scheme, such as http://127.0.0.1:4568, got ${JSON.stringify(o.endpointUrl)}`,
      );
  }
}

function defaultClient(o: { region: string; endpointUrl?: string }): S3Client {
  return new S3Client({
    region: o.region,
    ...(o.endpointUrl ? { endpoint: o.endpointUrl, forcePathStyle: true } : {}),
  });
}

/** The check target from the options: the stack's target, or a flavour and instance type. */
function resolveTarget(o: TargetOptions): {
  check: CheckTarget;
  serving?: ServingTarget;
  region?: string;
} {
  if (o.flavour !== undefined && !(o.flavour in TRITON_FLAVOURS))
    throw new UsageError(
      `--flavour must be one of ${Object.keys(TRITON_FLAVOURS).join(", ")}, got ${JSON.stringify(o.flavour)}`,
    );
  if (!o.stack) {
    if (o.endpoint !== undefined || o.triton || o.fleet)
      throw new UsageError("--endpoint, --triton and --fleet need --stack <stack>");
    return {
      check: { flavour: o.flavour as TritonFlavour | undefined, instanceType: o.instanceType },
    };
  }
  let raw: Record<string, unknown>;
  try {
    raw = readStackFile(o.stack, o.dir === undefined ? undefined : path.resolve(o.dir));
  } catch (e) {
    // Name the flag the directory came from.
    if (e instanceof UsageError && o.dir !== undefined) throw new UsageError(`--dir: ${e.message}`);
    throw e;
  }
  const config = parseStackConfig(raw, o.stack);
  const serving = findTarget(config, o.stack, o);
  return {
    check: {
      ...checkTargetOf(serving),
      flavour: (o.flavour as TritonFlavour | undefined) ?? serving.flavour,
      instanceType: o.instanceType ?? serving.instanceType,
    },
    serving,
    region: config.region,
  };
}

function runCheck(dir: string, target: CheckTarget, io: CommandOutput): boolean {
  const { models, problems } = checkRepository(dir, target);
  const all = [...problems, ...checkTargetFit(target)];
  for (const p of all) io.err(`${formatProblem(p)}\n`);
  if (all.length === 0) {
    const on = target.instanceType ? ` on ${target.instanceType}` : "";
    io.out(
      `${dir}: ${models.length} model(s) (${models.map((m) => m.name).join(", ")}) ready for the ${target.flavour ?? "base"} Triton image${on}\n`,
    );
  }
  return all.length === 0;
}

/** What happens next for the target: who loads the new files. */
export function afterPush(t: ServingTarget): string {
  if (t.kind === "endpoint")
    return `SageMaker reads s3://…/${t.prefix}/ when it starts an instance: update the endpoint (npm run deploy -- <stack> --up) to roll out the new model`;
  if (t.kind === "fleet")
    return "the fleet syncs the prefix at boot: start an instance refresh of the fleet's Auto Scaling group to load it";
  if (t.efs)
    return `Triton reads the EFS cache, which the model-cache sync Job (model-sync-*, namespace inference) fills from s3://…/${t.efs.syncPrefix}/ when it is created: run it again with pulumi up --replace <its URN, from pulumi stack --show-urns>, then kubectl rollout restart deployment -n inference`;
  return "Triton syncs the prefix when a pod starts: kubectl rollout restart deployment -n inference to load it";
}

if (require.main === module) runMain("model", (argv) => main(argv));
