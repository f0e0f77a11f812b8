/**
 * The smoke test's HTTP side: requests to the API front door (API key or SigV4) and to Triton, with
 * a deadline, and API Gateway's GetApiKey (the key's value) as a signed REST call.
 */
import { createHash, createHmac } from "crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";

/** SHA-256 (and HMAC-SHA-256 with a secret) for the signer, from Node's crypto. */
class NodeSha256 {
  private readonly hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(secret?: string | Uint8Array | ArrayBuffer | ArrayBufferView) {
    if (secret === undefined) {
      this.hash = createHash("sha256");
    } else {
      const key =
        typeof secret === "string"
          ? secret
          : ArrayBuffer.isView(secret)
            ? Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength)
            : Buffer.from(secret);
      this.hash = createHmac("sha256", key);
    }
  }
  update(data: string | Uint8Array | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(
      typeof data === "string"
        ? data
        : ArrayBuffer.isView(data)
          ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
          : Buffer.from(data),
    );
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

export type Credentials = AwsCredentialIdentity | AwsCredentialIdentityProvider;

/** An HTTP answer: status, body text and how long it took. */
export interface HttpAnswer {
  status: number;
  body: string;
  latencyMs: number;
}

/** Why a request got no HTTP answer at all (refused, no DNS, timed out): the address is not reachable. */
export class UnreachableError extends Error {
  constructor(url: string, cause: unknown) {
    const detail = (cause as { cause?: { code?: string } })?.cause?.code ?? String(cause);
    super(`${url} is not reachable from here (${detail})`, { cause });
    this.name = "UnreachableError";
  }
}

export interface HttpRequest {
  method: "GET" | "POST";
  url: string;
  body?: string;
  headers?: Record<string, string>;
  /** Sign with SigV4 for this service (`execute-api`, `apigateway`) and region. */
  sign?: { service: string; region: string; credentials: Credentials };
  timeoutMs: number;
}

/** The request's headers, with a SigV4 Authorization when `sign` is given. */
export async function signedHeaders(request: HttpRequest): Promise<Record<string, string>> {
  const url = new URL(request.url);
  const headers: Record<string, string> = { host: url.host, ...(request.headers ?? {}) };
  if (request.body !== undefined) headers["content-type"] ??= "application/json";
  if (!request.sign) return headers;
  const signer = new SignatureV4({
    service: request.sign.service,
    region: request.sign.region,
    credentials: request.sign.credentials,
    sha256: NodeSha256,
  });
  const query: Record<string, string> = {};
  url.searchParams.forEach((v, k) => (query[k] = v));
  const signed = await signer.sign({
    method: request.method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    path: url.pathname,
    query,
    headers,
    body: request.body,
  });
  return signed.headers;
}

/** Sends one request; throws UnreachableError when nothing answers. */
export async function send(
  request: HttpRequest,
  fetchImpl: typeof fetch = fetch,
): Promise<HttpAnswer> {
  const headers = await signedHeaders(request);
  // fetch sets Host itself from the URL.
  delete headers.host;
  const started = Date.now();
  let response: Response;
  try {
    response = await fetchImpl(request.url, {
      method: request.method,
      headers,
      body: request.body,
      signal: AbortSignal.timeout(request.timeoutMs),
    });
  } catch (e) {
    throw new UnreachableError(request.url, e);
  }
  const body = await response.text();
  return { status: response.status, body, latencyMs: Date.now() - started };
}

/**
 * API Gateway's control API for a region: `AWS_ENDPOINT_URL_API_GATEWAY`, else `AWS_ENDPOINT_URL`
 * (the SDKs' service-specific and global endpoint variables,
 * https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html), else
 * `https://apigateway.<region>.amazonaws.com`.
 */
export function apiGatewayEndpoint(region: string, env: NodeJS.ProcessEnv = process.env): string {
  return (
    env.AWS_ENDPOINT_URL_API_GATEWAY ??
    env.AWS_ENDPOINT_URL ??
    `https://apigateway.${region}.amazonaws.com`
  ).replace(/\/$/, "");
}

/**
 * An API key's value: API Gateway's GetApiKey with `includeValue=true`
 * (`GET /apikeys/{api_Key}?includeValue=true`,
 * https://docs.aws.amazon.com/apigateway/latest/api/API_GetApiKey.html), signed for `apigateway`.
 */
export async function apiKeyValue(
  apiKeyId: string,
  options: { endpoint: string; region: string; credentials: Credentials; fetch?: typeof fetch },
): Promise<string> {
  const answer = await send(
    {
      method: "GET",
      url: `${options.endpoint}/apikeys/${encodeURIComponent(apiKeyId)}?includeValue=true`,
      sign: { service: "apigateway", region: options.region, credentials: options.credentials },
      timeoutMs: 30_000,
    },
    options.fetch,
  );
  const parsed = parseJson(answer.body) as { value?: string; message?: string } | string;
  if (answer.status !== 200 || typeof parsed !== "object" || typeof parsed.value !== "string") {
    const message = typeof parsed === "object" ? (parsed.message ?? answer.body) : answer.body;
    throw new Error(`GetApiKey ${apiKeyId} answered ${answer.status}: ${message}`);
  }
  return parsed.value;
}

/** JSON when the text is JSON, else the text. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A shell word: single-quoted unless it is plain. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}
