/**
 * `npm run invoke -- <endpoint> "<prompt>" [--stream | --async <s3-input-uri>] [--component <name>]`:
 * one request to a deployed SageMaker endpoint (or to one inference component of it), with AWS
 * credentials from the environment.
 *
 * Exit status: 0 answered, 1 the invocation failed (the message says why), 2 usage.
 */
import { runMain, parseArgs, processOutput } from "./cli";
import { regionProblem } from "../catalog/awsLimits";
import { Command } from "commander";
import {
  InvocationError,
  REQUEST_FORMATS,
  RequestFormat,
  SageMakerInferenceClient,
} from "../client/sagemakerClient";

/** SageMaker endpoint names: 1-63 letters, digits and hyphens (CreateEndpoint EndpointName pattern). */
const ENDPOINT_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

/** What is wrong with the arguments, before any AWS call, or undefined. */
export function usageProblem(
  endpoint: string,
  o: {
    stream?: boolean;
    async?: string;
    timeoutSeconds: string;
    region: string;
    component?: string;
  },
): string | undefined {
  if (!ENDPOINT_NAME.test(endpoint))
    return `<endpoint> must be a SageMaker endpoint name (1-63 letters, digits and hyphens), got ${JSON.stringify(endpoint)}`;
  if (o.component !== undefined && !ENDPOINT_NAME.test(o.component))
    return `--component must be an inference component name (1-63 letters, digits and hyphens; pulumi stack output sagemakerComponents), got ${JSON.stringify(o.component)}`;
  if (o.component !== undefined && o.async !== undefined)
    return "--component and --async cannot be combined: inference components serve real-time endpoints";
  if (o.stream && o.async) return "--stream and --async cannot be combined";
  if (o.async !== undefined && !/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/.+/.test(o.async))
    return `--async must be an S3 URI s3://<bucket>/<prefix>/ (the endpoint's asyncInputUri), got ${JSON.stringify(o.async)}`;
  const timeout = Number(o.timeoutSeconds);
  if (!Number.isFinite(timeout) || timeout <= 0)
    return `--timeout-seconds must be a number of seconds above 0, got ${JSON.stringify(o.timeoutSeconds)}`;
  const badRegion = regionProblem(o.region);
  if (badRegion) return `--region ${badRegion}`;
  return undefined;
}

/**
 * The AWS SDK for JavaScript v3 warns on every process under Node.js 20 that its releases after
 * January 2027 will need Node.js 22 (@aws-sdk/core@3.981.1 dist-cjs/submodules/client/index.js,
 * `emitWarningIfUnsupportedVersion`, skipped when AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED
 * is "true"). The SDK versions here are pinned and support Node.js 20, which `engines` allows:
 * the warning is about future releases, so this command does not print it on every answer. A
 * value the user set is kept.
 */
export function silenceSdkNodeWarning(env: NodeJS.ProcessEnv = process.env): void {
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
}

export async function main(
  argv: string[],
  makeClient = (region: string, format: RequestFormat, component?: string) =>
    new SageMakerInferenceClient({ region, format, component }),
): Promise<number> {
  const cli = new Command("invoke")
    .description("Send a prompt to a SageMaker endpoint and print the answer")
    .argument("<endpoint>", "the endpoint name (pulumi stack output sagemakerEndpoints)")
    .argument("<prompt>", "the prompt")
    .option("--stream", "print the answer as it is generated (InvokeEndpointWithResponseStream)")
    .option(
      "--async <s3-input-uri>",
      "asynchronous endpoint: upload the request here (the endpoint's asyncInputUri) and wait for the result",
    )
    .option(
      "--component <name>",
      "an endpoint of inference components: the component to invoke (pulumi stack output sagemakerComponents)",
    )
    .option("--max-tokens <n>", "tokens to generate", "256")
    .option("--temperature <t>", "sampling temperature", "0.7")
    .option("--timeout-seconds <s>", "how long to wait for an async result", "900")
    .option(
      "--format <format>",
      "the request body: inputs (LMI and TGI: {inputs, parameters: {max_new_tokens}}), triton-generate (Triton with the vLLM or TensorRT-LLM backend: {text_input, parameters}) or openai-completion (vLLM Neuron: {prompt, max_tokens})",
      "inputs",
    )
    .option(
      "--region <region>",
      "AWS region",
      process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? "us-east-1",
    );
  const status = parseArgs(cli, argv, processOutput);
  if (status !== undefined) return status;
  const [endpoint, prompt] = cli.args;
  const o = cli.opts<{
    stream?: boolean;
    async?: string;
    maxTokens: string;
    temperature: string;
    timeoutSeconds: string;
    region: string;
    format: string;
    component?: string;
  }>();
  if (!(REQUEST_FORMATS as readonly string[]).includes(o.format)) {
    process.stderr.write(
      `error: --format must be one of ${REQUEST_FORMATS.join(", ")}, got ${JSON.stringify(o.format)}\n`,
    );
    return 2;
  }
  const parameters = { max_tokens: Number(o.maxTokens), temperature: Number(o.temperature) };
  if (
    !Number.isInteger(parameters.max_tokens) ||
    parameters.max_tokens < 1 ||
    !Number.isFinite(parameters.temperature) ||
    parameters.temperature < 0
  ) {
    process.stderr.write(
      "error: --max-tokens must be a positive integer and --temperature a number of at least 0\n",
    );
    return 2;
  }
  const usage = usageProblem(endpoint, o);
  if (usage !== undefined) {
    process.stderr.write(`error: ${usage}\n`);
    return 2;
  }
  silenceSdkNodeWarning();
  const client = makeClient(o.region, o.format as RequestFormat, o.component);
  try {
    if (o.stream) {
      for await (const chunk of client.stream(endpoint, prompt, parameters))
        process.stdout.write(chunk);
      process.stdout.write("\n");
    } else if (o.async) {
      const result = await client.invokeAsync(
        endpoint,
        prompt,
        { inputUri: o.async, timeoutSeconds: Number(o.timeoutSeconds) },
        parameters,
      );
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    } else {
      const result = await client.invoke(endpoint, prompt, parameters);
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    }
    return 0;
  } catch (e) {
    process.stderr.write(
      `error: ${e instanceof InvocationError ? e.message : e instanceof Error ? `${e.name}: ${e.message}` : String(e)}\n`,
    );
    return 1;
  }
}

if (require.main === module) runMain("invoke", (argv) => main(argv));
