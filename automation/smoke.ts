/**
 * The deploy's last step: for every serving target of a deployed stack (SageMaker endpoints, Triton
 * on EKS, Triton on the EC2 fleet), wait until it is in service, send it one small request (through
 * the API front door when the API fronts it, else directly), and print the answer, the latency and
 * the command that calls it again.
 *
 * A failed target names the step, the resource and the AWS (or HTTP) message. Nothing here creates
 * or deletes anything: a re-run of the deploy resumes from what the stack holds.
 */
import { DescribeEndpointCommand, SageMakerClient } from "@aws-sdk/client-sagemaker";
import { SageMakerRuntimeClient } from "@aws-sdk/client-sagemaker-runtime";
import { S3Client } from "@aws-sdk/client-s3";
import { RequestFormat, SageMakerInferenceClient, buildRequest } from "../client/sagemakerClient";
import { requestFormatOf } from "../components/sagemaker/sageMakerEndpoint";
import { EndpointMode } from "../components/sagemaker/endpointArgs";
import { fleetSize } from "../components/ec2/tritonFleet";
import { TRITON_NAMESPACE } from "../components/triton/tritonRelease";
import { StackConfig } from "../programs/config";
import {
  Credentials,
  HttpAnswer,
  UnreachableError,
  apiGatewayEndpoint,
  apiKeyValue,
  parseJson,
  send,
  shellQuote,
} from "./smokeHttp";

/** A SageMaker endpoint of the stack. */
export interface SmokeEndpoint {
  kind: "sagemaker";
  /** Its name in the stack file (llm-infra:sagemaker.endpoints[].name). */
  name: string;
  /** The deployed endpoint's name (stack output sagemakerEndpoints). */
  endpointName: string;
  mode: EndpointMode;
  /** Async endpoints: where requests are uploaded (stack output sagemakerAsyncInputUris). */
  asyncInputUri?: string;
  /** The API front door serves it (llm-infra:api.backend names it). */
  viaApi: boolean;
  /** The body its `/invocations` takes (requestFormatOf its image flavour). */
  format: RequestFormat;
  /** An inference component of the endpoint: its name (stack output sagemakerComponents). */
  component?: string;
}

/** Triton on EKS (`triton`) or on the EC2 fleet (`fleet`), both speaking KServe v2 over HTTP. */
export interface SmokeTriton {
  kind: "triton" | "fleet";
  name: "triton" | "fleet";
  /** Its internal load balancer (`http://<dns>`), when the stack outputs one. */
  url?: string;
  /** The model to call; when absent, the first READY model of Triton's repository index. */
  modelName?: string;
  viaApi: boolean;
  /** The replicas (instances) the stack starts; 0 is skipped with how to start one. */
  replicas: number;
}

export type SmokeTarget = SmokeEndpoint | SmokeTriton;

export interface SmokeInput {
  stack: string;
  region: string;
  /** The API front door, when the stack has one. */
  api?: {
    url: string;
    authentication: "iam" | "apiKey";
    /** With apiKey authentication: the key's id (stack output apiKeyId). */
    apiKeyId?: string;
  };
  targets: SmokeTarget[];
  /** @default "Say hello in five words." */
  prompt?: string;
  /** Tokens to generate. @default 16 */
  maxTokens?: number;
}

export interface SmokeClients {
  sagemaker: SageMakerClient;
  runtime: SageMakerRuntimeClient;
  s3: S3Client;
  /** Credentials for SigV4 requests (IAM-authenticated API, GetApiKey). */
  credentials: Credentials;
  /** API Gateway's control API (GetApiKey). @default apiGatewayEndpoint(region) */
  apiGatewayEndpoint?: string;
  fetch?: typeof fetch;
}

export type SmokeStatus = "ok" | "failed" | "skipped";

export interface SmokeTargetResult {
  target: string;
  status: SmokeStatus;
  /** What failed or was skipped: `wait for InService`, `Triton ready`, `request`, `API key`. */
  step?: string;
  /** The resource it concerns: an endpoint name or a URL. */
  resource: string;
  /** The AWS or HTTP message (failed), or why it was skipped. */
  message?: string;
  /** The answer, truncated. */
  answer?: string;
  latencyMs?: number;
  /** The command (or URL) that calls the target again. */
  again?: string;
}

export interface SmokeResult {
  /** No target failed. */
  ok: boolean;
  targets: SmokeTargetResult[];
}

export const DEFAULT_PROMPT = "Say hello in five words.";
const ANSWER_CHARS = 200;

/** Endpoint statuses SageMaker does not leave by itself (DescribeEndpoint EndpointStatus). */
const TERMINAL_STATUSES = ["Failed", "UpdateRollbackFailed", "Deleting"];

/** A failure of one step of one target. */
class StepError extends Error {
  constructor(
    readonly step: string,
    readonly resource: string,
    message: string,
  ) {
    super(message);
  }
}

interface Run {
  input: SmokeInput;
  clients: SmokeClients;
  io: { out(s: string): void };
  pollMs: number;
  timeoutMs: number;
  prompt: string;
  maxTokens: number;
  /** The API key's value, read once. */
  apiKey?: Promise<string>;
}

/** The SDK clients and credentials of a region, honouring AWS_ENDPOINT_URL like the SDK does. */
export function smokeClients(region: string, env: NodeJS.ProcessEnv = process.env): SmokeClients {
  const runtime = new SageMakerRuntimeClient({ region });
  return {
    sagemaker: new SageMakerClient({ region }),
    runtime,
    s3: new S3Client({ region }),
    credentials: runtime.config.credentials,
    apiGatewayEndpoint: apiGatewayEndpoint(region, env),
  };
}

export async function smokeTest(
  input: SmokeInput,
  clients: SmokeClients,
  io: { out(s: string): void },
  options?: { pollMs?: number; timeoutMs?: number },
): Promise<SmokeResult> {
  const run: Run = {
    input,
    clients,
    io,
    pollMs: options?.pollMs ?? 15_000,
    timeoutMs: options?.timeoutMs ?? 30 * 60_000,
    prompt: input.prompt ?? DEFAULT_PROMPT,
    maxTokens: input.maxTokens ?? 16,
  };
  const results: SmokeTargetResult[] = [];
  for (const target of input.targets) {
    const result = await smokeOne(run, target);
    results.push(result);
    io.out(describe(result));
  }
  const failed = results.filter((r) => r.status === "failed").length;
  io.out(
    `smoke: ${results.length - failed} of ${results.length} target(s) answered or skipped${failed ? `, ${failed} failed` : ""}\n`,
  );
  return { ok: failed === 0, targets: results };
}

/** One target's lines: the answer and latency, or the failed step, and how to call it again. */
function describe(r: SmokeTargetResult): string {
  const head =
    r.status === "ok"
      ? `smoke: ${r.target}: answered in ${r.latencyMs} ms: ${JSON.stringify(r.answer)}`
      : r.status === "skipped"
        ? `smoke: ${r.target}: skipped: ${r.message}`
        : `smoke: ${r.target}: FAILED at ${r.step} of ${r.resource}: ${r.message}`;
  return `${head}\n${r.again ? `  again: ${r.again}\n` : ""}`;
}

async function smokeOne(run: Run, target: SmokeTarget): Promise<SmokeTargetResult> {
  const label = targetLabel(target);
  const again = againCommand(run, target);
  try {
    if (target.kind !== "sagemaker" && target.replicas === 0) {
      return {
        target: label,
        status: "skipped",
        resource: target.name,
        message:
          target.kind === "triton"
            ? `llm-infra:triton.minReplicas is 0, so no Triton pod runs; start one with \`kubectl -n ${TRITON_NAMESPACE} scale deployment/triton-triton --replicas=1\` and call it again`
            : "the fleet's desired size is 0, so no instance runs",
        again,
      };
    }
    if (target.kind === "sagemaker") {
      const answer = await smokeEndpoint(run, target);
      return { target: label, status: "ok", resource: resourceOf(run, target), ...answer, again };
    }
    const { model, ...answer } = await smokeTriton(run, target);
    return {
      target: label,
      status: "ok",
      resource: resourceOf(run, target),
      ...answer,
      again: againCommand(run, { ...target, modelName: model }),
    };
  } catch (e) {
    if (e instanceof StepError)
      return {
        target: label,
        status: "failed",
        step: e.step,
        resource: e.resource,
        message: e.message,
        again,
      };
    const err = e as { name?: string; message?: string };
    return {
      target: label,
      status: "failed",
      step: "request",
      resource: resourceOf(run, target),
      message: `${err.name ?? "Error"}: ${err.message ?? String(e)}`,
      again,
    };
  }
}

function targetLabel(t: SmokeTarget): string {
  if (t.kind === "sagemaker")
    return `${t.name} (SageMaker ${t.mode} endpoint ${t.endpointName}${t.viaApi ? ", through the API" : ""})`;
  return `${t.name} (Triton ${t.kind === "triton" ? "on EKS" : "on the EC2 fleet"}${t.viaApi ? ", through the API" : ""})`;
}

function resourceOf(run: Run, t: SmokeTarget): string {
  if (t.viaApi && run.input.api) return run.input.api.url;
  return t.kind === "sagemaker" ? t.endpointName : (t.url ?? t.name);
}

/**
 * The generated text of an endpoint's answer: LMI's `{"generated_text": ...}`
 * (djl-serving serving/docs/lmi/user_guides/lmi_input_output_schema.md; TGI answers the same in a
 * one-element list) or Triton's `{"text_output": ...}`; the whole answer otherwise.
 */
export function answerText(result: unknown): string {
  const first = Array.isArray(result) && result.length === 1 ? result[0] : result;
  // An OpenAI completion: {"choices": [{"text": ...}]}.
  const choice = (first as { choices?: { text?: unknown }[] } | null)?.choices?.[0]?.text;
  if (typeof choice === "string") return choice;
  if (typeof first === "object" && first !== null)
    for (const k of ["generated_text", "text_output"]) {
      const v = (first as Record<string, unknown>)[k];
      if (typeof v === "string") return v;
    }
  return typeof result === "string" ? result : JSON.stringify(result);
}

/** Waits for InService (failing fast on Failed), then one request. */
async function smokeEndpoint(
  run: Run,
  t: SmokeEndpoint,
): Promise<{ answer: string; latencyMs: number }> {
  await waitInService(run, t.endpointName);
  if (t.viaApi && run.input.api) {
    const url = `${run.input.api.url}/invocations`;
    const answer = await untilServed(run, url, () =>
      callApi(run, "/invocations", buildRequest(run.prompt, tokens(run), t.format)),
    );
    return { answer: truncate(answerText(parseJson(answer.body))), latencyMs: answer.latencyMs };
  }
  const client = new SageMakerInferenceClient({
    format: t.format,
    component: t.component,
    region: run.input.region,
    runtime: run.clients.runtime,
    s3: run.clients.s3,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  });
  const started = Date.now();
  let result: unknown;
  try {
    result =
      t.mode === "async"
        ? await client.invokeAsync(
            t.endpointName,
            run.prompt,
            {
              inputUri: required(t.asyncInputUri, t, "sagemakerAsyncInputUris"),
              timeoutSeconds: run.timeoutMs / 1000,
              pollIntervalSeconds: run.pollMs / 1000,
            },
            tokens(run),
          )
        : await untilCopy(run, () => client.invoke(t.endpointName, run.prompt, tokens(run)));
  } catch (e) {
    const err = e as { name?: string; message?: string };
    throw new StepError(
      t.mode === "async" ? "InvokeEndpointAsync" : "InvokeEndpoint",
      t.endpointName,
      `${err.name ?? "Error"}: ${err.message ?? String(e)}`,
    );
  }
  return {
    answer: truncate(answerText(result)),
    latencyMs: Date.now() - started,
  };
}

function tokens(run: Run): { max_tokens: number; temperature: number } {
  return { max_tokens: run.maxTokens, temperature: 0 };
}

function required(value: string | undefined, t: SmokeEndpoint, output: string): string {
  if (value === undefined)
    throw new StepError(
      "InvokeEndpointAsync",
      t.endpointName,
      `the stack has no output ${output}.${t.name}: run the serving step (pulumi up) first`,
    );
  return value;
}

/** DescribeEndpoint until InService; Failed (and the other terminal statuses) fail at once. */
async function waitInService(run: Run, endpointName: string): Promise<void> {
  const step = "wait for InService";
  const deadline = Date.now() + run.timeoutMs;
  let last = "";
  for (;;) {
    let status: string;
    let reason: string | undefined;
    try {
      const d = await run.clients.sagemaker.send(
        new DescribeEndpointCommand({ EndpointName: endpointName }),
      );
      status = d.EndpointStatus ?? "unknown";
      reason = d.FailureReason;
    } catch (e) {
      const err = e as { name?: string; message?: string };
      throw new StepError(step, endpointName, `DescribeEndpoint: ${err.name}: ${err.message}`);
    }
    if (status === "InService") return;
    if (TERMINAL_STATUSES.includes(status))
      throw new StepError(step, endpointName, `${status}: ${reason ?? "no FailureReason given"}`);
    if (status !== last) run.io.out(`smoke: ${endpointName} is ${status}; waiting for InService\n`);
    last = status;
    if (Date.now() + run.pollMs > deadline)
      throw new StepError(
        step,
        endpointName,
        `still ${status} after ${Math.round(run.timeoutMs / 1000)} s`,
      );
    await sleep(run.pollMs);
  }
}

/**
 * Triton: readiness on its own load balancer where that answers from here (KServe v2
 * `GET /v2/health/ready` and `GET /v2/models/<model>/ready`), then one `generate` request through
 * the API (when it fronts Triton) or the load balancer.
 */
async function smokeTriton(
  run: Run,
  t: SmokeTriton,
): Promise<{ answer: string; latencyMs: number; model: string }> {
  const direct = t.url !== undefined && (await reachable(t.url)) ? t.url : undefined;
  const base = t.viaApi && run.input.api ? run.input.api.url : direct;
  if (base === undefined)
    throw new StepError(
      "request",
      t.url ?? t.name,
      `${t.url ?? "Triton's load balancer"} is internal and not reachable from here, and the API does not front it (llm-infra:api.backend); run the deploy from inside the VPC, or front it with the API`,
    );
  const post = (path: string, body: unknown) =>
    base === direct
      ? triton(run, "POST", `${base}${path}`, JSON.stringify(body))
      : callApi(run, path, body);
  if (direct) await waitReady(run, direct, "/v2/health/ready");
  const model = t.modelName ?? (await readyModel(run, t, post));
  if (direct) await waitReady(run, direct, `/v2/models/${encodeURIComponent(model)}/ready`);
  const path = `/v2/models/${encodeURIComponent(model)}/generate`;
  const answer = await untilServed(run, `${base}${path}`, () =>
    post(path, tritonGenerateBody(run)),
  );
  return {
    answer: truncate(answerText(parseJson(answer.body))),
    latencyMs: answer.latencyMs,
    model,
  };
}

/**
 * Triton's generate extension body (triton-inference-server/server docs/protocol/
 * extension_generate.md; the vLLM backend's example in triton-inference-server/tutorials
 * Quick_Deploy/vLLM/README.md: `{"text_input": ..., "parameters": {"stream": false, ...}}`).
 * `generate` rather than `infer`: Triton's HTTP `infer` refuses decoupled models such as the vLLM
 * backend's ("HTTP end point doesn't support models with decoupled transaction policy",
 * triton-inference-server/server src/http_server.cc).
 */
export function tritonGenerateBody(run: { prompt: string; maxTokens: number }): unknown {
  return {
    text_input: run.prompt,
    parameters: { stream: false, temperature: 0, max_tokens: run.maxTokens },
  };
}

/** The first READY model of Triton's repository index (`POST /v2/repository/index`). */
async function readyModel(
  run: Run,
  t: SmokeTriton,
  post: (path: string, body: unknown) => Promise<HttpAnswer>,
): Promise<string> {
  // Model repository extension: triton-inference-server/server docs/protocol/
  // extension_model_repository.md (`{"ready": true}` lists only ready models).
  const answer = await untilServed(
    run,
    `${t.viaApi && run.input.api ? run.input.api.url : t.url}/v2/repository/index`,
    () => post("/v2/repository/index", { ready: true }),
  );
  const index = parseJson(answer.body);
  const ready = Array.isArray(index)
    ? (index as { name?: string; state?: string }[]).find((m) => m.state === "READY" && m.name)
    : undefined;
  if (!ready?.name)
    throw new StepError(
      "Triton ready",
      t.url ?? t.name,
      `no model is READY in Triton's repository index (${truncate(answer.body)})`,
    );
  return ready.name;
}

/**
 * Retries while the gateway or load balancer says no backend answered (502, 503, 504): the request
 * did not reach a model yet. Any other non-2xx answer fails at once.
 */
async function untilServed(
  run: Run,
  resource: string,
  request: () => Promise<HttpAnswer>,
): Promise<HttpAnswer> {
  const deadline = Date.now() + run.timeoutMs;
  for (;;) {
    const answer = await request();
    if (answer.status >= 200 && answer.status < 300) return answer;
    if (![502, 503, 504].includes(answer.status) || Date.now() + run.pollMs > deadline)
      throw new StepError("request", resource, `HTTP ${answer.status}: ${truncate(answer.body)}`);
    await sleep(run.pollMs);
  }
}

/**
 * Retries a request to an inference component that has no copy running: its first request starts
 * one (the NoCapacityInvocationFailures alarm's step policy), which takes minutes.
 */
async function untilCopy<T>(run: Run, request: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + run.timeoutMs;
  for (;;) {
    try {
      return await request();
    } catch (e) {
      const noCopy = e instanceof Error && /has no copy of the component running/.test(e.message);
      if (!noCopy || Date.now() + run.pollMs > deadline) throw e;
      await sleep(run.pollMs);
    }
  }
}

/** Whether anything answers HTTP at the address (a 5 s try). */
async function reachable(url: string): Promise<boolean> {
  try {
    await send({ method: "GET", url: `${url}/v2/health/live`, timeoutMs: 5000 });
    return true;
  } catch (e) {
    if (e instanceof UnreachableError) return false;
    throw e;
  }
}

/** Polls a KServe v2 readiness path until 200. */
async function waitReady(run: Run, base: string, path: string): Promise<void> {
  const deadline = Date.now() + run.timeoutMs;
  for (;;) {
    const answer = await triton(run, "GET", `${base}${path}`);
    if (answer.status === 200) return;
    if (Date.now() + run.pollMs > deadline)
      throw new StepError(
        "Triton ready",
        `${base}${path}`,
        `HTTP ${answer.status} after ${Math.round(run.timeoutMs / 1000)} s: ${truncate(answer.body)}`,
      );
    await sleep(run.pollMs);
  }
}

async function triton(
  run: Run,
  method: "GET" | "POST",
  url: string,
  body?: string,
): Promise<HttpAnswer> {
  return withResource(url, () =>
    send({ method, url, body, timeoutMs: 120_000 }, run.clients.fetch),
  );
}

/** A POST through the API front door, with its API key or a SigV4 signature. */
async function callApi(run: Run, path: string, body: unknown): Promise<HttpAnswer> {
  const api = run.input.api!;
  const url = `${api.url.replace(/\/$/, "")}${path}`;
  const headers: Record<string, string> = {};
  if (api.authentication === "apiKey") headers["x-api-key"] = await apiKey(run);
  return withResource(url, () =>
    send(
      {
        method: "POST",
        url,
        body: JSON.stringify(body),
        headers,
        sign:
          api.authentication === "iam"
            ? {
                service: "execute-api",
                region: run.input.region,
                credentials: run.clients.credentials,
              }
            : undefined,
        // API Gateway ends an integration at 29 s.
        timeoutMs: 35_000,
      },
      run.clients.fetch,
    ),
  );
}

/** The API key's value (GetApiKey), read once per run. */
function apiKey(run: Run): Promise<string> {
  const id = run.input.api?.apiKeyId;
  if (id === undefined)
    return Promise.reject(
      new StepError(
        "API key",
        run.input.api!.url,
        "the stack has no output apiKeyId: run the serving step (pulumi up) first",
      ),
    );
  run.apiKey ??= apiKeyValue(id, {
    endpoint: run.clients.apiGatewayEndpoint ?? apiGatewayEndpoint(run.input.region),
    region: run.input.region,
    credentials: run.clients.credentials,
    fetch: run.clients.fetch,
  }).catch((e: Error) => {
    throw new StepError("API key", id, e.message);
  });
  return run.apiKey;
}

/** Names the URL in a failure that has none yet. */
async function withResource<T>(url: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof UnreachableError) throw new StepError("request", url, e.message);
    throw e;
  }
}

/** The command that sends the same request again. */
export function againCommand(run: Pick<Run, "input" | "prompt" | "maxTokens">, t: SmokeTarget) {
  const api = run.input.api;
  const region = run.input.region;
  if (t.viaApi && api) {
    const body =
      t.kind === "sagemaker"
        ? buildRequest(run.prompt, tokens(run as Run), t.format)
        : tritonGenerateBody(run);
    const path =
      t.kind === "sagemaker" ? "/invocations" : `/v2/models/${t.modelName ?? "<model>"}/generate`;
    // API keys travel in the x-api-key header (API Gateway's default apiKeySource, HEADER:
    // https://docs.aws.amazon.com/apigateway/latest/api/API_RestApi.html). curl signs SigV4
    // itself from 7.75 (--aws-sigv4 "aws:amz:<region>:<service>", curl docs/cmdline-opts/aws-sigv4.d).
    const auth =
      api.authentication === "apiKey"
        ? `-H "x-api-key: $(aws apigateway get-api-key --api-key ${api.apiKeyId ?? "<apiKeyId>"} --include-value --query value --output text --region ${region})"`
        : `--aws-sigv4 "aws:amz:${region}:execute-api" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -H "x-amz-security-token: $AWS_SESSION_TOKEN"`;
    return `curl -sS -X POST ${shellQuote(`${api.url.replace(/\/$/, "")}${path}`)} -H 'content-type: application/json' ${auth} -d ${shellQuote(JSON.stringify(body))}`;
  }
  if (t.kind === "sagemaker") {
    const async = t.mode === "async" ? ` --async ${t.asyncInputUri ?? "<asyncInputUri>"}` : "";
    const format = t.format === "inputs" ? "" : ` --format ${t.format}`;
    const component = t.component !== undefined ? ` --component ${t.component}` : "";
    return `npm run invoke -- ${t.endpointName} ${shellQuote(run.prompt)} --max-tokens ${run.maxTokens} --temperature 0${component}${async}${format} --region ${region}`;
  }
  const path = `/v2/models/${t.modelName ?? "<model>"}/generate`;
  const base =
    t.url ?? (t.kind === "triton" ? "http://localhost:8000" : "http://<fleet load balancer>");
  const portForward =
    t.kind === "triton" && t.url === undefined
      ? `kubectl -n ${TRITON_NAMESPACE} port-forward service/triton-triton 8000:8000 & `
      : "";
  return `${portForward}curl -sS -X POST ${shellQuote(`${base}${path}`)} -H 'content-type: application/json' -d ${shellQuote(JSON.stringify(tritonGenerateBody(run)))}`;
}

function truncate(s: string): string {
  const flat = s.replace(/\s+/g, " ").trim();
  return flat.length > ANSWER_CHARS ? `${flat.slice(0, ANSWER_CHARS)}...` : flat;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A stack output's value: the Automation API's `{ value, secret }` entries
 * (`auto.OutputMap`) or plain values.
 */
function outputValue(outputs: Record<string, unknown>, key: string): unknown {
  const v = outputs[key];
  if (v !== null && typeof v === "object" && "value" in v && "secret" in v)
    return (v as { value: unknown }).value;
  return v;
}

function stringOutput(outputs: Record<string, unknown>, key: string): string | undefined {
  const v = outputValue(outputs, key);
  return typeof v === "string" && v !== "" ? v : undefined;
}

function recordOutput(outputs: Record<string, unknown>, key: string): Record<string, string> {
  const v = outputValue(outputs, key);
  return v !== null && typeof v === "object" ? (v as Record<string, string>) : {};
}

/**
 * The smoke test's input from a deployed stack's outputs (programs/platform.ts) and its
 * configuration (what the outputs do not say: endpoint modes, the API's backend and
 * authentication, Triton's replicas). Throws when an endpoint of the configuration has no
 * output: the serving step has not run.
 */
export function smokeInputOf(outputs: Record<string, unknown>, config: StackConfig): SmokeInput {
  const endpoints = recordOutput(outputs, "sagemakerEndpoints");
  const asyncInputs = recordOutput(outputs, "sagemakerAsyncInputUris");
  const apiUrl = stringOutput(outputs, "apiUrl");
  const backend = config.api?.backend;
  const api =
    apiUrl !== undefined && config.api
      ? {
          url: apiUrl,
          authentication: config.api.authentication ?? "apiKey",
          apiKeyId: stringOutput(outputs, "apiKeyId"),
        }
      : undefined;
  const components = outputValue(outputs, "sagemakerComponents") as
    Record<string, Record<string, string>> | undefined;
  const targets: SmokeTarget[] = config.sagemaker.endpoints.flatMap((e): SmokeTarget[] => {
    const endpointName = endpoints[e.name];
    if (endpointName === undefined)
      throw new Error(
        `the stack has no output sagemakerEndpoints.${e.name}: run the serving step (pulumi up) first`,
      );
    // An endpoint of inference components: one request to each component.
    if (e.components !== undefined)
      return e.components.map((c) => {
        const component = components?.[e.name]?.[c.name];
        if (component === undefined)
          throw new Error(
            `the stack has no output sagemakerComponents.${e.name}.${c.name}: run the serving step (pulumi up) first`,
          );
        return {
          kind: "sagemaker",
          name: `${e.name}/${c.name}`,
          endpointName,
          mode: "realtime",
          viaApi: false,
          format: requestFormatOf(c),
          component,
        };
      });
    return [
      {
        kind: "sagemaker",
        name: e.name,
        endpointName,
        mode: e.mode ?? "realtime",
        asyncInputUri: asyncInputs[e.name],
        viaApi: api !== undefined && backend === e.name,
        format: requestFormatOf(e),
      },
    ];
  });
  const modelNameOf = (section: unknown) =>
    (section as { tritonModelName?: string } | undefined)?.tritonModelName;
  if (config.triton) {
    const dns = stringOutput(outputs, "tritonLoadBalancerDnsName");
    targets.push({
      kind: "triton",
      name: "triton",
      url: dns ? `http://${dns}` : undefined,
      modelName: modelNameOf(config.triton),
      viaApi: api !== undefined && backend === "triton",
      replicas: config.triton.minReplicas ?? 1,
    });
  }
  if (config.fleet) {
    const dns = stringOutput(outputs, "fleetLoadBalancerDnsName");
    targets.push({
      kind: "fleet",
      name: "fleet",
      url: dns ? `http://${dns}` : undefined,
      modelName: modelNameOf(config.fleet),
      viaApi: api !== undefined && backend === "fleet",
      replicas: fleetSize(config.fleet).desired,
    });
  }
  return {
    stack: config.stack,
    region: stringOutput(outputs, "region") ?? config.region,
    api,
    targets,
  };
}
