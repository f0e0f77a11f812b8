/**
 * A small typed client for the platform's SageMaker endpoints: synchronous JSON, streaming
 * (InvokeEndpointWithResponseStream) and asynchronous (request uploaded to S3, result polled).
 *
 * Requests have one of three shapes, by the serving container (`RequestFormat`):
 * `{"inputs": "...", "parameters": {"max_new_tokens": 256, "temperature": 0.7}}` for the LMI and
 * TGI containers, Triton's generate extension `{"text_input": "...", "parameters": {...}}` for
 * Triton with an LLM backend (vLLM, TensorRT-LLM), whose endpoints serve `/invocations` through the
 * generate handler, or an OpenAI completion `{"prompt": "...", "max_tokens": 256, ...}` for the
 * vLLM Neuron container, whose vLLM OpenAI server takes a completion request at `/invocations`
 * and answers `{"choices": [{"text": "..."}]}`. Callers give `max_tokens`; the `inputs` body names it `max_new_tokens`, as
 * LMI's schema does ("parameters": {"max_new_tokens": ...}, deepjavalibrary/djl-serving
 * serving/docs/lmi/user_guides/lmi_input_output_schema.md, whose answer is
 * `{"generated_text": "..."}`), where vLLM's sampling parameters (Triton's vLLM backend) name it
 * `max_tokens`.
 */
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
  InvokeEndpointAsyncCommand,
  InvokeEndpointCommand,
  InvokeEndpointWithResponseStreamCommand,
  SageMakerRuntimeClient,
} from "@aws-sdk/client-sagemaker-runtime";
import { randomUUID } from "crypto";

export interface GenerationParameters {
  max_tokens?: number;
  temperature?: number;
  [name: string]: unknown;
}

/**
 * How a request is written: `inputs` (`{"inputs", "parameters"}`), or `triton-generate`
 * (`{"text_input", "parameters"}`: Triton's generate extension, which SageMaker endpoints of the
 * `vllm` and `trtllm` flavours serve at `/invocations` with SAGEMAKER_TRITON_INFERENCE_TYPE
 * `generate`; see components/sagemaker/sageMakerEndpoint.ts tritonInferenceEnvironment).
 */
export const RequestFormat = {
  Inputs: "inputs",
  TritonGenerate: "triton-generate",
  OpenAiCompletion: "openai-completion",
} as const;
export type RequestFormat = (typeof RequestFormat)[keyof typeof RequestFormat];
export const REQUEST_FORMATS: readonly RequestFormat[] = Object.values(RequestFormat);

export type InferenceRequest =
  | { inputs: string; parameters: GenerationParameters }
  | { text_input: string; parameters: GenerationParameters }
  | ({ prompt: string } & GenerationParameters);

export const DEFAULT_PARAMETERS: Readonly<GenerationParameters> = {
  max_tokens: 256,
  temperature: 0.7,
};

/** The request body for a prompt (defaults: 256 tokens, temperature 0.7). */
export function buildRequest(
  prompt: string,
  parameters: GenerationParameters = {},
  format: RequestFormat = "inputs",
): InferenceRequest {
  const merged = { ...DEFAULT_PARAMETERS, ...parameters };
  if (format === "triton-generate")
    return { text_input: prompt, parameters: { stream: false, ...merged } };
  if (format === "openai-completion") return { prompt, ...merged };
  const { max_tokens, ...rest } = merged;
  return { inputs: prompt, parameters: { max_new_tokens: max_tokens, ...rest } };
}

/** Any failure of an invocation, with a message for people. */
export class InvocationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "InvocationError";
  }
}
export class EndpointNotFoundError extends InvocationError {
  constructor(
    public readonly endpointName: string,
    region: string,
    options?: { cause?: unknown },
  ) {
    super(
      `endpoint ${endpointName} was not found in ${region}: check the name (pulumi stack output sagemakerEndpoints) and the region`,
      options,
    );
    this.name = "EndpointNotFoundError";
  }
}
export class ThrottledError extends InvocationError {
  constructor(
    public readonly endpointName: string,
    options?: { cause?: unknown },
  ) {
    super(
      `endpoint ${endpointName} is throttling requests: retry with backoff, or raise its instance count or concurrency`,
      options,
    );
    this.name = "ThrottledError";
  }
}
export class ModelInvocationError extends InvocationError {
  constructor(
    public readonly endpointName: string,
    public readonly statusCode: number | undefined,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      `the model behind ${endpointName} failed${statusCode ? ` with status ${statusCode}` : ""}: ${detail}`,
      options,
    );
    this.name = "ModelInvocationError";
  }
}
export class AsyncTimeoutError extends InvocationError {
  constructor(
    public readonly outputLocation: string,
    seconds: number,
  ) {
    super(
      `no result at ${outputLocation} after ${seconds} s; the request may still be queued (check the endpoint's backlog)`,
    );
    this.name = "AsyncTimeoutError";
  }
}

interface AwsErrorShape {
  name?: string;
  message?: string;
  OriginalStatusCode?: number;
  OriginalMessage?: string;
  $metadata?: { httpStatusCode?: number };
}

/** The SDK's errors as the client's own, each saying what to do. */
export function toInvocationError(e: unknown, endpointName: string, region: string): Error {
  const err = (e ?? {}) as AwsErrorShape;
  if (err.name === "ValidationError" && /not found|could not find/i.test(err.message ?? "")) {
    return new EndpointNotFoundError(endpointName, region, { cause: e });
  }
  if (
    err.name === "ThrottlingException" ||
    err.name === "TooManyRequestsException" ||
    err.$metadata?.httpStatusCode === 429
  ) {
    return new ThrottledError(endpointName, { cause: e });
  }
  if (err.name === "ModelError" || err.name === "ModelStreamError") {
    return new ModelInvocationError(
      endpointName,
      err.OriginalStatusCode,
      err.OriginalMessage ?? err.message ?? "no detail",
      { cause: e },
    );
  }
  if (err.name === "CredentialsProviderError") {
    return new InvocationError(
      "no AWS credentials found: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or run `aws sso login`",
      { cause: e },
    );
  }
  // An inference component at zero copies refuses requests while its first copy starts: "Inference
  // Component has no capacity to process this request. ApplicationAutoScaling may be in-progress
  // (if configured) ..." (AWS ML blog, scale down to zero, December 2024).
  if (err.name === "ValidationError" && /has no capacity/i.test(err.message ?? "")) {
    return new InvocationError(
      `endpoint ${endpointName} has no copy of the component running (it scales from zero: about 5 minutes for the first copy): retry shortly`,
      { cause: e },
    );
  }
  if (err.name === "ModelNotReadyException") {
    return new InvocationError(
      `endpoint ${endpointName} is not ready yet (still scaling from zero or deploying): retry shortly`,
      { cause: e },
    );
  }
  return e instanceof Error ? e : new Error(String(e));
}

/** `s3://bucket/key` -> { bucket, key }. */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri);
  if (!m) throw new InvocationError(`not an s3:// URI: ${JSON.stringify(uri)}`);
  return { bucket: m[1], key: m[2] };
}

export interface ClientOptions {
  region: string;
  runtime?: SageMakerRuntimeClient;
  s3?: S3Client;
  /** Waits between polls of an async result (replaceable in tests). */
  sleep?: (ms: number) => Promise<void>;
  /** How requests are written. @default "inputs" */
  format?: RequestFormat;
  /**
   * The inference component to invoke, on an endpoint of inference components (the
   * InferenceComponentName header, which such an endpoint requires on every request).
   */
  component?: string;
}

export interface AsyncOptions {
  /** Where requests are uploaded: the endpoint's `asyncInputUri` (`s3://bucket/.../input/`). */
  inputUri: string;
  timeoutSeconds?: number;
  pollIntervalSeconds?: number;
}

export class SageMakerInferenceClient {
  private readonly runtime: SageMakerRuntimeClient;
  private readonly s3: S3Client;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly region: string;
  private readonly format: RequestFormat;
  private readonly component: string | undefined;

  constructor(options: ClientOptions) {
    this.region = options.region;
    this.format = options.format ?? "inputs";
    this.component = options.component;
    this.runtime = options.runtime ?? new SageMakerRuntimeClient({ region: options.region });
    this.s3 = options.s3 ?? new S3Client({ region: options.region });
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** One synchronous request; the parsed JSON response. */
  async invoke(
    endpointName: string,
    prompt: string,
    parameters?: GenerationParameters,
  ): Promise<unknown> {
    try {
      const response = await this.runtime.send(
        new InvokeEndpointCommand({
          EndpointName: endpointName,
          ...(this.component !== undefined ? { InferenceComponentName: this.component } : {}),
          ContentType: "application/json",
          Accept: "application/json",
          Body: JSON.stringify(buildRequest(prompt, parameters, this.format)),
        }),
      );
      return parseJson(new TextDecoder().decode(response.Body));
    } catch (e) {
      throw toInvocationError(e, endpointName, this.region);
    }
  }

  /** The response as it is generated, chunk by chunk. */
  async *stream(
    endpointName: string,
    prompt: string,
    parameters?: GenerationParameters,
  ): AsyncGenerator<string> {
    let body: AsyncIterable<{
      PayloadPart?: { Bytes?: Uint8Array };
      ModelStreamError?: { Message?: string; ErrorCode?: string };
      InternalStreamFailure?: { Message?: string };
    }>;
    try {
      const response = await this.runtime.send(
        new InvokeEndpointWithResponseStreamCommand({
          EndpointName: endpointName,
          ...(this.component !== undefined ? { InferenceComponentName: this.component } : {}),
          ContentType: "application/json",
          Body: JSON.stringify(buildRequest(prompt, { ...parameters, stream: true }, this.format)),
        }),
      );
      if (!response.Body) throw new InvocationError(`endpoint ${endpointName} returned no stream`);
      body = response.Body;
    } catch (e) {
      throw toInvocationError(e, endpointName, this.region);
    }
    const decoder = new TextDecoder();
    for await (const event of body) {
      if (event.ModelStreamError) {
        throw new ModelInvocationError(
          endpointName,
          undefined,
          event.ModelStreamError.Message ?? event.ModelStreamError.ErrorCode ?? "stream error",
        );
      }
      if (event.InternalStreamFailure)
        throw new InvocationError(
          `the stream from ${endpointName} failed: ${event.InternalStreamFailure.Message ?? "internal failure"}`,
        );
      const bytes = event.PayloadPart?.Bytes;
      if (bytes && bytes.length > 0) yield decoder.decode(bytes, { stream: true });
    }
    const rest = decoder.decode();
    if (rest) yield rest;
  }

  /**
   * Uploads the request, invokes the endpoint asynchronously and polls for the result (or the
   * failure) until the timeout.
   */
  async invokeAsync(
    endpointName: string,
    prompt: string,
    options: AsyncOptions,
    parameters?: GenerationParameters,
  ): Promise<unknown> {
    const input = parseS3Uri(
      options.inputUri.endsWith("/") ? `${options.inputUri}${randomUUID()}.json` : options.inputUri,
    );
    const timeoutSeconds = options.timeoutSeconds ?? 900;
    const pollMs = (options.pollIntervalSeconds ?? 5) * 1000;
    let output: { OutputLocation?: string; FailureLocation?: string };
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: input.bucket,
          Key: input.key,
          Body: JSON.stringify(buildRequest(prompt, parameters, this.format)),
          ContentType: "application/json",
        }),
      );
      output = await this.runtime.send(
        new InvokeEndpointAsyncCommand({
          EndpointName: endpointName,
          InputLocation: `s3://${input.bucket}/${input.key}`,
          ContentType: "application/json",
        }),
      );
    } catch (e) {
      throw toInvocationError(e, endpointName, this.region);
    }
    if (!output.OutputLocation)
      throw new InvocationError(`endpoint ${endpointName} returned no output location`);
    const deadline = Date.now() + timeoutSeconds * 1000;
    for (;;) {
      const result = await this.readIfPresent(output.OutputLocation);
      if (result !== undefined) return parseJson(result);
      if (output.FailureLocation) {
        const failure = await this.readIfPresent(output.FailureLocation);
        if (failure !== undefined) throw new ModelInvocationError(endpointName, undefined, failure);
      }
      if (Date.now() >= deadline)
        throw new AsyncTimeoutError(output.OutputLocation, timeoutSeconds);
      await this.sleep(pollMs);
    }
  }

  private async readIfPresent(uri: string): Promise<string | undefined> {
    const { bucket, key } = parseS3Uri(uri);
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return object.Body ? await object.Body.transformToString() : "";
    } catch (e) {
      const name = (e as { name?: string }).name;
      if (name === "NoSuchKey" || name === "NotFound") return undefined;
      throw e;
    }
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
