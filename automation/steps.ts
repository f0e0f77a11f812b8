/**
 * The journey's steps that call AWS, with the AWS SDK: the region is the stack's, and the SDK's
 * standard variables (AWS_PROFILE, AWS_ENDPOINT_URL, ...) apply.
 */
import { CodeBuildClient } from "@aws-sdk/client-codebuild";
import { S3Client } from "@aws-sdk/client-s3";
import { CapturedResource } from "../offline/engine";
import { PlanReport, readStackFile } from "../offline/plan";
import { StackConfig, parseStackConfig } from "../programs/config";
import { modelPushesOf } from "../modelRepository/targets";
import { ModelCheckError, pushModel } from "../modelRepository/push";
import { DeployedState, JourneyIO, JourneyStep, JourneySteps, StepError } from "./journey";
import { detectDeployerCidr } from "./deployerAddress";
import { deployBrings } from "./deployBrings";
import { buildImages } from "./images";
import { BuildError } from "./codeBuild";
import { bringModelWeights } from "./modelWeights";
import { weightsCopiesOf, weightsMarkers } from "../modelRepository/weights";
import { formatPreflight, preflightClients, runPreflight } from "./preflight";
import { smokeClients, smokeInputOf, smokeTest } from "./smoke";

/** The stack's parsed configuration, as the program reads it. */
function stackConfig(report: PlanReport, root: string): StackConfig {
  return parseStackConfig(readStackFile(report.stack, root), report.stack, root);
}

/** The child of the first component of `componentType` named `<component>-<role>`, of `type`. */
function childOf(
  report: PlanReport,
  componentType: string,
  type: string,
  role: string,
): CapturedResource | undefined {
  const component = report.resources.find((r) => !r.custom && r.type === componentType);
  if (!component) return undefined;
  return report.resources.find(
    (r) => r.type === type && r.parent === component.name && r.name === `${component.name}-${role}`,
  );
}

/** The name of a deployed resource the plan knows, from the stack's state. */
function deployedName(
  state: DeployedState,
  resource: CapturedResource | undefined,
  key: string,
): string | undefined {
  const value = state.output(resource?.urn, key);
  return typeof value === "string" && value !== "" ? value : undefined;
}

/**
 * A foundation component's CodeBuild project (`<component>-<role>`) and its deployed name:
 * undefined when the stack has no such component, a StepError when the foundation step did not
 * leave the project in the stack.
 */
function deployedProject(
  report: PlanReport,
  state: DeployedState,
  componentType: string,
  role: string,
  step: JourneyStep,
  what: string,
): string | undefined {
  const project = childOf(report, componentType, "aws:codebuild/project:Project", role);
  if (!project) return undefined;
  const name = deployedName(state, project, "name");
  if (!name)
    throw new StepError(
      step,
      project.name,
      `the foundation step did not leave ${what} in the stack`,
    );
  return name;
}

/** An AWS SDK error as `Name: message`. */
const awsMessage = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

export interface AwsStepsOptions {
  /** How the steps reach AWS (tests: moto's server, or mocks). */
  preflightClients?: typeof preflightClients;
  codebuild?: (region: string) => CodeBuildClient;
  s3?: (region: string) => S3Client;
  /** Poll interval and timeout of the image build, for tests. */
  build?: { pollMs?: number; timeoutMs?: number };
}

/** The real steps for the project in `root`; each reads the stack's region from its plan. */
export function awsSteps(root: string, options: AwsStepsOptions = {}): JourneySteps {
  const s3For = options.s3 ?? ((region: string) => new S3Client({ region }));
  const codebuildFor = options.codebuild ?? ((region: string) => new CodeBuildClient({ region }));
  return {
    async preflight(report, io) {
      const config = stackConfig(report, root);
      const clients = (options.preflightClients ?? preflightClients)(report.region);
      const result = await runPreflight(report, clients, {
        config,
        deployBrings: deployBrings(report, config),
      });
      io.out(`${formatPreflight(result)}\n`);
      const blockers = result.findings.filter((f) => f.status === "blocker");
      if (blockers.length > 0)
        return {
          blocked: true,
          summary: blockers.map((b) => `${b.check} ${b.subject}: ${b.has ?? b.needs}`).join("; "),
        };
      return { blocked: false, summary: `${result.findings.length} checks, no blockers` };
    },

    deployerCidr: () => detectDeployerCidr(),

    async images(report, state, io) {
      const name = deployedProject(
        report,
        state,
        "llm-infra:index:ImageMirror",
        "builds",
        "images",
        "the image build project",
      );
      if (!name) return "nothing to copy or build (the stack pulls its images upstream)";
      try {
        const lines = { out: (line: string) => io.out(`    ${line}`) };
        const build = await buildImages(codebuildFor(report.region), name, lines, options.build);
        return `build ${build.buildId} succeeded in ${build.seconds} s`;
      } catch (e) {
        if (e instanceof BuildError)
          throw new StepError("images", e.buildId ? `build ${e.buildId}` : name, e.message);
        throw new StepError("images", name, awsMessage(e));
      }
    },

    async models(report, state, io) {
      const config = stackConfig(report, root);
      const s3 = s3For(report.region);
      // The hub weights first: the pushed model.json points at them.
      const clients = { codebuild: codebuildFor(report.region), s3 };
      const weights = await copyWeights(report, state, io, config, root, clients, options.build);
      const pushed = await pushModels(report, state, io, config, root, s3);
      return weights === undefined ? pushed : `${weights}; ${pushed}`;
    },

    async smoke(report, outputs, io) {
      const input = smokeInputOf(outputs, stackConfig(report, root));
      const result = await smokeTest(input, smokeClients(report.region), io);
      const failed = result.targets.find((t) => t.status === "failed");
      if (failed)
        throw new StepError(
          "smoke",
          failed.resource,
          `${failed.step ?? "request"}: ${failed.message ?? "failed"}`,
        );
      const count = (status: string) => result.targets.filter((t) => t.status === status).length;
      const skipped = count("skipped");
      return `${count("ok")} answered${skipped > 0 ? `, ${skipped} skipped (no replica to ask)` : ""}`;
    },
  };
}

/** The model bucket the foundation step created, from the stack's state. */
function modelBucketOf(report: PlanReport, state: DeployedState): string {
  const bucketResource = childOf(
    report,
    "llm-infra:index:ModelStore",
    "aws:s3/bucket:Bucket",
    "bucket",
  );
  const bucket = deployedName(state, bucketResource, "bucket");
  if (!bucket)
    throw new StepError(
      "models",
      bucketResource?.name ?? "the model store",
      "the foundation step did not leave the model bucket in the stack",
    );
  return bucket;
}

/**
 * The model step's first part: the Hugging Face Hub weights the targets' repositories name,
 * brought into each target's prefix by the stack's weights copy project, and the Neuron models the
 * `vllm-neuron` endpoints serve, compiled into theirs by the Neuron export project
 * (automation/modelWeights.ts bringModelWeights: each skipped when its markers are there and
 * current). Undefined when the stack has neither.
 */
export async function copyWeights(
  report: PlanReport,
  state: DeployedState,
  io: JourneyIO,
  config: StackConfig,
  root: string,
  clients: { codebuild: CodeBuildClient; s3: S3Client },
  build?: { pollMs?: number; timeoutMs?: number },
): Promise<string | undefined> {
  const weights = "llm-infra:index:ModelWeights";
  const project = "aws:codebuild/project:Project";
  const roles = (["copy", "neuron"] as const).filter((role) =>
    childOf(report, weights, project, role),
  );
  if (roles.length === 0) return undefined;
  // The store first: a missing bucket is what the foundation step failed to leave.
  const bucket = modelBucketOf(report, state);
  const copies = weightsCopiesOf(config, root);
  const said: string[] = [];
  for (const role of roles) {
    const name = deployedProject(
      report,
      state,
      weights,
      role,
      "models",
      role === "copy" ? "the weights copy project" : "the Neuron export project",
    )!;
    const markers = weightsMarkers(copies.filter((c) => Boolean(c.neuron) === (role === "neuron")));
    try {
      // bringModelWeights ends each line with its newline.
      const lines = { out: (line: string) => io.out(`    ${line}`) };
      said.push(
        await bringModelWeights(clients, { projectName: name, bucket, markers }, lines, {
          ...build,
          label: role === "copy" ? "weights" : "neuron export",
        }),
      );
    } catch (e) {
      if (e instanceof BuildError)
        throw new StepError("models", e.buildId ? `build ${e.buildId}` : name, e.message);
      throw new StepError("models", name, awsMessage(e));
    }
  }
  return said.join("; ");
}

/**
 * The model step: each target's local repository (`modelRepository:`) checked against the target
 * and pushed to the prefix it reads, in the bucket the foundation step created.
 */
export async function pushModels(
  report: PlanReport,
  state: DeployedState,
  io: JourneyIO,
  config: StackConfig,
  root: string,
  client: S3Client,
): Promise<string> {
  const pushes = modelPushesOf(config, root);
  if (pushes.length === 0) return "the stack names no local model repository";
  const bucket = modelBucketOf(report, state);
  let uploaded = 0;
  let unchanged = 0;
  for (const push of pushes) {
    try {
      const summary = await pushModel(push, { client, bucket });
      uploaded += summary.uploaded.length;
      unchanged += summary.unchanged.length;
      io.out(
        `    models: ${push.label}: ${summary.uploaded.length} uploaded, ${summary.unchanged.length} unchanged, to s3://${bucket}/${push.target.prefix}/\n`,
      );
    } catch (e) {
      if (e instanceof ModelCheckError) throw new StepError("models", push.key, e.message);
      throw new StepError("models", `s3://${bucket}/${push.target.prefix}/`, awsMessage(e));
    }
  }
  return `${pushes.length} repositories: ${uploaded} files uploaded, ${unchanged} unchanged`;
}
