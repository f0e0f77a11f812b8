/**
 * The smoke test against moto's server (SageMaker endpoints, SageMaker runtime, S3, API Gateway
 * keys) and real HTTP servers on 127.0.0.1 standing in for the API front door and Triton.
 *
 * moto creates endpoints InService at once and has no Failed status, so the wait's transitions
 * (Creating, then InService or Failed with its FailureReason) use aws-sdk-client-mock.
 */
import * as assert from "assert";
import { withAsyncChat } from "./helpers";
import * as http from "http";
import { AddressInfo } from "net";
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DescribeEndpointCommand,
  SageMakerClient,
} from "@aws-sdk/client-sagemaker";
import { SageMakerRuntimeClient } from "@aws-sdk/client-sagemaker-runtime";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import {
  SmokeClients,
  SmokeEndpoint,
  SmokeInput,
  SmokeResult,
  againCommand,
  answerText,
  smokeInputOf,
  smokeTest,
} from "../automation/smoke";
import { apiGatewayEndpoint, send, shellQuote } from "../automation/smokeHttp";
import { parseStackConfig } from "../programs/config";
import { readStackFile } from "../offline/plan";
import { MOTO_CREDENTIALS, MotoServer, motoClientConfig, startMoto } from "./moto";

const REGION = "us-east-1";
const FAST = { pollMs: 20, timeoutMs: 3000 };

/** A recording of what the smoke test printed. */
function recorder(): { out(s: string): void; text(): string } {
  const lines: string[] = [];
  return { out: (s) => lines.push(s), text: () => lines.join("") };
}

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A real HTTP server on 127.0.0.1 whose answers the test decides; it records every request. */
async function serve(
  handler: (r: Received) => { status: number; body: unknown; delayMs?: number },
): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const r = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body };
      received.push(r);
      const answer = handler(r);
      setTimeout(() => {
        res.writeHead(answer.status, { "content-type": "application/json" });
        res.end(typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body));
      }, answer.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function clientsFor(moto: MotoServer): SmokeClients {
  const config = motoClientConfig(moto.url, REGION);
  return {
    sagemaker: new SageMakerClient(config),
    runtime: new SageMakerRuntimeClient(config),
    s3: new S3Client({ ...config, forcePathStyle: true }),
    credentials: MOTO_CREDENTIALS,
    apiGatewayEndpoint: moto.url,
  };
}

async function createEndpoint(clients: SmokeClients, name: string): Promise<void> {
  await clients.sagemaker.send(
    new CreateModelCommand({
      ModelName: `${name}-model`,
      ExecutionRoleArn: "arn:aws:iam::123456789012:role/sagemaker",
      PrimaryContainer: { Image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/triton:1" },
    }),
  );
  await clients.sagemaker.send(
    new CreateEndpointConfigCommand({
      EndpointConfigName: `${name}-config`,
      ProductionVariants: [
        {
          VariantName: "primary",
          ModelName: `${name}-model`,
          InstanceType: "ml.g4dn.xlarge",
          InitialInstanceCount: 1,
        },
      ],
    }),
  );
  await clients.sagemaker.send(
    new CreateEndpointCommand({ EndpointName: name, EndpointConfigName: `${name}-config` }),
  );
}

/** Queues InvokeEndpoint answers in moto (its `/moto-api/static/sagemaker/endpoint-results`). */
async function queueResults(moto: MotoServer, path: string, results: unknown[]): Promise<void> {
  const r = await fetch(`${moto.url}/moto-api/static/sagemaker/${path}`, {
    method: "POST",
    body: JSON.stringify({ region: REGION, results }),
  });
  assert.strictEqual(r.status, 201);
}

/** Creates an API key in moto's API Gateway (CreateApiKey, signed like the AWS CLI would). */
async function createApiKey(moto: MotoServer, value: string): Promise<string> {
  const answer = await send({
    method: "POST",
    url: `${moto.url}/apikeys`,
    body: JSON.stringify({ name: "smoke", enabled: true, value }),
    sign: { service: "apigateway", region: REGION, credentials: MOTO_CREDENTIALS },
    timeoutMs: 10_000,
  });
  assert.ok(answer.status < 300, answer.body);
  return (JSON.parse(answer.body) as { id: string }).id;
}

/** Staging's chat endpoint, called through its API front door with an API key. */
function stagingThroughApi(
  url: string,
  apiKeyId: string,
  format: SmokeEndpoint["format"],
): SmokeInput {
  return {
    stack: "staging",
    region: REGION,
    api: { url, authentication: "apiKey", apiKeyId },
    targets: [
      {
        kind: "sagemaker",
        name: "chat",
        endpointName: "llm-infra-staging-chat",
        mode: "realtime",
        viaApi: true,
        format,
      },
    ],
  };
}

function only(result: SmokeResult) {
  assert.strictEqual(result.targets.length, 1);
  return result.targets[0];
}

describe("smoke test: SageMaker endpoints (moto)", function () {
  let moto: MotoServer;
  let clients: SmokeClients;
  before(async function () {
    moto = await startMoto(this);
  });
  after(async () => moto?.stop());
  beforeEach(async () => {
    await moto.reset();
    clients = clientsFor(moto);
  });

  it("invokes a realtime endpoint directly and prints the answer, the latency and the invoke command", async () => {
    await createEndpoint(clients, "llm-infra-staging-chat");
    await queueResults(moto, "endpoint-results", [
      { Body: JSON.stringify({ generated_text: "Hello there, nice to meet" }) },
    ]);
    const io = recorder();
    const input: SmokeInput = {
      stack: "staging",
      region: REGION,
      targets: [
        {
          kind: "sagemaker",
          name: "chat",
          endpointName: "llm-infra-staging-chat",
          mode: "realtime",
          viaApi: false,
          format: "inputs",
        },
      ],
    };
    const result = await smokeTest(input, clients, io, FAST);
    const t = only(result);
    assert.strictEqual(result.ok, true, io.text());
    assert.strictEqual(t.status, "ok");
    // LMI's {"generated_text"}: the answer is the text itself.
    assert.strictEqual(t.answer, "Hello there, nice to meet");
    assert.ok(typeof t.latencyMs === "number" && t.latencyMs >= 0);
    assert.strictEqual(
      t.again,
      "npm run invoke -- llm-infra-staging-chat 'Say hello in five words.' --max-tokens 16 --temperature 0 --region us-east-1",
    );
    assert.match(
      io.text(),
      /chat \(SageMaker realtime endpoint llm-infra-staging-chat\): answered in \d+ ms/,
    );
    assert.match(io.text(), /again: npm run invoke -- llm-infra-staging-chat/);
  });

  it("invokes an async endpoint through its S3 input prefix and reads the result moto writes", async () => {
    await createEndpoint(clients, "llm-infra-dev-chat");
    await clients.s3.send(new CreateBucketCommand({ Bucket: "models-dev" }));
    await queueResults(moto, "async-endpoint-results", [
      { data: JSON.stringify({ generated_text: "async hello" }) },
    ]);
    const io = recorder();
    const result = await smokeTest(
      {
        stack: "dev",
        region: REGION,
        targets: [
          {
            kind: "sagemaker",
            name: "chat",
            endpointName: "llm-infra-dev-chat",
            mode: "async",
            asyncInputUri: "s3://models-dev/async/chat/input/",
            viaApi: false,
            format: "inputs",
          },
        ],
      },
      clients,
      io,
      FAST,
    );
    const t = only(result);
    assert.strictEqual(t.status, "ok", io.text());
    assert.strictEqual(t.answer, "async hello");
    assert.match(t.again ?? "", /--async s3:\/\/models-dev\/async\/chat\/input\//);
  });

  it("fails a missing endpoint at its wait, naming the endpoint and SageMaker's message", async () => {
    const io = recorder();
    const result = await smokeTest(
      {
        stack: "dev",
        region: REGION,
        targets: [
          {
            kind: "sagemaker",
            name: "chat",
            endpointName: "nowhere",
            mode: "realtime",
            viaApi: false,
            format: "inputs",
          },
        ],
      },
      clients,
      io,
      FAST,
    );
    const t = only(result);
    assert.strictEqual(result.ok, false);
    assert.deepStrictEqual(
      [t.status, t.step, t.resource],
      ["failed", "wait for InService", "nowhere"],
    );
    assert.match(t.message ?? "", /DescribeEndpoint: ValidationException: .*nowhere/);
    assert.match(io.text(), /FAILED at wait for InService of nowhere/);
  });

  it("calls the API front door with the stack's API key (read with GetApiKey) and reports its latency", async () => {
    await createEndpoint(clients, "llm-infra-staging-chat");
    const keyId = await createApiKey(moto, "k".repeat(30));
    const api = await serve((r) =>
      r.headers["x-api-key"] === "k".repeat(30) && r.url === "/v1/invocations"
        ? { status: 200, body: { generated_text: "front door hello" }, delayMs: 60 }
        : { status: 403, body: { message: "Forbidden" } },
    );
    try {
      const io = recorder();
      // Staging's chat endpoint runs LMI: the `inputs` body, with LMI's max_new_tokens.
      const result = await smokeTest(
        stagingThroughApi(`${api.url}/v1`, keyId, "inputs"),
        clients,
        io,
        FAST,
      );
      const t = only(result);
      assert.strictEqual(t.status, "ok", io.text());
      assert.strictEqual(t.answer, "front door hello");
      assert.ok((t.latencyMs ?? 0) >= 60, `latency ${t.latencyMs}`);
      assert.deepStrictEqual(JSON.parse(api.received[0].body), {
        inputs: "Say hello in five words.",
        parameters: { max_new_tokens: 16, temperature: 0 },
      });
      assert.match(
        t.again ?? "",
        /-d '\{"inputs":"Say hello in five words\.","parameters":\{"max_new_tokens":16,"temperature":0\}\}'$/,
      );
      assert.match(t.again ?? "", new RegExp(`^curl -sS -X POST ${api.url}/v1/invocations `));
      assert.match(t.again ?? "", new RegExp(`get-api-key --api-key ${keyId} --include-value`));
    } finally {
      await api.close();
    }
  });

  it("sends Triton's generate body through the front door to a Triton endpoint with an LLM backend", async () => {
    await createEndpoint(clients, "llm-infra-staging-chat");
    const keyId = await createApiKey(moto, "t".repeat(30));
    const api = await serve(() => ({
      status: 200,
      body: { model_name: "llama3-8b", text_output: "generate hello" },
    }));
    try {
      const io = recorder();
      const t = only(
        await smokeTest(
          stagingThroughApi(`${api.url}/v1`, keyId, "triton-generate"),
          clients,
          io,
          FAST,
        ),
      );
      assert.strictEqual(t.status, "ok", io.text());
      assert.strictEqual(t.answer, "generate hello");
      assert.deepStrictEqual(JSON.parse(api.received[0].body), {
        text_input: "Say hello in five words.",
        parameters: { stream: false, max_tokens: 16, temperature: 0 },
      });
    } finally {
      await api.close();
    }
  });

  it("fails through the front door with the HTTP status and body when the gateway refuses", async () => {
    await createEndpoint(clients, "llm-infra-staging-chat");
    const keyId = await createApiKey(moto, "right-key-right-key-right-key");
    const api = await serve(() => ({ status: 403, body: { message: "Forbidden" } }));
    try {
      const result = await smokeTest(
        stagingThroughApi(`${api.url}/v1`, keyId, "inputs"),
        clients,
        recorder(),
        FAST,
      );
      const t = only(result);
      assert.deepStrictEqual(
        [t.status, t.step, t.resource],
        ["failed", "request", `${api.url}/v1/invocations`],
      );
      assert.match(t.message ?? "", /HTTP 403: \{"message":"Forbidden"\}/);
    } finally {
      await api.close();
    }
  });

  it("fails the API key step when GetApiKey does not know the key", async () => {
    await createEndpoint(clients, "llm-infra-staging-chat");
    const api = await serve(() => ({ status: 200, body: {} }));
    try {
      const result = await smokeTest(
        stagingThroughApi(`${api.url}/v1`, "nokey", "inputs"),
        clients,
        recorder(),
        FAST,
      );
      const t = only(result);
      assert.deepStrictEqual([t.status, t.step, t.resource], ["failed", "API key", "nokey"]);
      assert.match(t.message ?? "", /GetApiKey nokey answered 404/);
      assert.strictEqual(api.received.length, 0);
    } finally {
      await api.close();
    }
  });

  it("signs requests to an IAM-authenticated front door with SigV4 for execute-api", async () => {
    await createEndpoint(clients, "llm-infra-prod-chat");
    const api = await serve((r) =>
      /^AWS4-HMAC-SHA256 Credential=testing\/\d{8}\/us-east-1\/execute-api\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/.test(
        String(r.headers.authorization),
      )
        ? { status: 200, body: { generated_text: "signed hello" } }
        : { status: 403, body: { message: "Missing Authentication Token" } },
    );
    try {
      const result = await smokeTest(
        {
          stack: "prod",
          region: REGION,
          api: { url: `${api.url}/v1`, authentication: "iam" },
          targets: [
            {
              kind: "sagemaker",
              name: "chat",
              endpointName: "llm-infra-prod-chat",
              mode: "realtime",
              viaApi: true,
              format: "inputs",
            },
          ],
        },
        clients,
        recorder(),
        FAST,
      );
      const t = only(result);
      assert.strictEqual(t.status, "ok", t.message);
      assert.strictEqual(t.answer, "signed hello");
      assert.deepStrictEqual(JSON.parse(api.received[0].body), {
        inputs: "Say hello in five words.",
        parameters: { max_new_tokens: 16, temperature: 0 },
      });
      assert.match(t.again ?? "", /--aws-sigv4 "aws:amz:us-east-1:execute-api"/);
      assert.ok(api.received[0].headers["x-amz-date"]);
    } finally {
      await api.close();
    }
  });
});

describe("smoke test: waiting for InService (aws-sdk-client-mock: moto has no Creating or Failed)", () => {
  function mockedClients(statuses: { EndpointStatus: string; FailureReason?: string }[]) {
    const sagemaker = new SageMakerClient({ region: REGION, credentials: MOTO_CREDENTIALS });
    const mock = mockClient(sagemaker);
    const describe = mock.on(DescribeEndpointCommand);
    statuses.forEach((s) => describe.resolvesOnce(s as never));
    const clients: SmokeClients = {
      sagemaker,
      runtime: new SageMakerRuntimeClient({ region: REGION, credentials: MOTO_CREDENTIALS }),
      s3: new S3Client({ region: REGION, credentials: MOTO_CREDENTIALS }),
      credentials: MOTO_CREDENTIALS,
    };
    return { clients, mock };
  }
  const input: SmokeInput = {
    stack: "dev",
    region: REGION,
    targets: [
      {
        kind: "sagemaker",
        name: "chat",
        endpointName: "e1",
        mode: "realtime",
        viaApi: false,
        format: "inputs",
      },
    ],
  };

  it("fails fast on Failed with SageMaker's FailureReason, after waiting through Creating", async () => {
    const reason =
      "The primary container for production variant primary did not pass the ping health check.";
    const { clients, mock } = mockedClients([
      { EndpointStatus: "Creating" },
      { EndpointStatus: "Creating" },
      { EndpointStatus: "Failed", FailureReason: reason },
    ]);
    const io = recorder();
    const t = only(await smokeTest(input, clients, io, { pollMs: 10, timeoutMs: 60_000 }));
    assert.deepStrictEqual([t.status, t.step, t.resource], ["failed", "wait for InService", "e1"]);
    assert.strictEqual(t.message, `Failed: ${reason}`);
    assert.strictEqual(mock.commandCalls(DescribeEndpointCommand).length, 3);
    // The status change is said once, not on every poll.
    assert.strictEqual(io.text().match(/e1 is Creating; waiting for InService/g)?.length, 1);
  });

  it("gives up after the timeout, naming the status it is stuck in", async () => {
    const { clients } = mockedClients(Array(50).fill({ EndpointStatus: "Updating" }));
    const t = only(await smokeTest(input, clients, recorder(), { pollMs: 10, timeoutMs: 50 }));
    assert.strictEqual(t.status, "failed");
    assert.match(t.message ?? "", /^still Updating after 0 s$/);
  });
});

describe("smoke test: Triton (HTTP servers on 127.0.0.1)", () => {
  const clients: SmokeClients = {
    sagemaker: new SageMakerClient({ region: REGION, credentials: MOTO_CREDENTIALS }),
    runtime: new SageMakerRuntimeClient({ region: REGION, credentials: MOTO_CREDENTIALS }),
    s3: new S3Client({ region: REGION, credentials: MOTO_CREDENTIALS }),
    credentials: MOTO_CREDENTIALS,
  };

  it("waits for Triton's readiness, finds the ready model and calls its generate endpoint", async () => {
    let readyCalls = 0;
    const triton = await serve((r) => {
      if (r.url === "/v2/health/live") return { status: 200, body: "" };
      if (r.url === "/v2/health/ready")
        return ++readyCalls < 3 ? { status: 400, body: "" } : { status: 200, body: "" };
      if (r.url === "/v2/repository/index")
        return {
          status: 200,
          body: [
            { name: "loading", state: "LOADING" },
            { name: "llama3", version: "1", state: "READY" },
          ],
        };
      if (r.url === "/v2/models/llama3/ready") return { status: 200, body: "" };
      if (r.url === "/v2/models/llama3/generate")
        return {
          status: 200,
          body: { model_name: "llama3", text_output: "Hi from Triton on EKS" },
          delayMs: 40,
        };
      return { status: 404, body: { error: `no ${r.url}` } };
    });
    try {
      const io = recorder();
      const result = await smokeTest(
        {
          stack: "prod",
          region: REGION,
          targets: [
            { kind: "triton", name: "triton", url: triton.url, viaApi: false, replicas: 2 },
          ],
        },
        clients,
        io,
        FAST,
      );
      const t = only(result);
      assert.strictEqual(t.status, "ok", t.message);
      assert.strictEqual(t.answer, "Hi from Triton on EKS");
      assert.ok((t.latencyMs ?? 0) >= 40);
      assert.strictEqual(readyCalls, 3);
      const generate = triton.received.find((r) => r.url.endsWith("/generate"))!;
      assert.deepStrictEqual(JSON.parse(generate.body), {
        text_input: "Say hello in five words.",
        parameters: { stream: false, temperature: 0, max_tokens: 16 },
      });
      assert.ok(triton.received.some((r) => r.url === "/v2/models/llama3/ready"));
      assert.match(
        t.again ?? "",
        new RegExp(`^curl -sS -X POST ${triton.url}/v2/models/llama3/generate `),
      );
    } finally {
      await triton.close();
    }
  });

  it("reaches Triton through the front door when its load balancer is internal, retrying while the gateway has no backend", async () => {
    let calls = 0;
    const api = await serve((r) => {
      if (r.url !== "/v1/v2/models/llama3/generate") return { status: 404, body: {} };
      return ++calls === 1
        ? { status: 503, body: { message: "Service Unavailable" } }
        : { status: 200, body: { text_output: "through the VPC link" } };
    });
    try {
      const keyless = { ...clients };
      const result = await smokeTest(
        {
          stack: "prod",
          region: REGION,
          api: { url: `${api.url}/v1`, authentication: "iam" },
          targets: [
            {
              kind: "triton",
              name: "triton",
              url: "http://127.0.0.1:9",
              modelName: "llama3",
              viaApi: true,
              replicas: 2,
            },
          ],
        },
        keyless,
        recorder(),
        FAST,
      );
      const t = only(result);
      assert.strictEqual(t.status, "ok", t.message);
      assert.strictEqual(t.answer, "through the VPC link");
      assert.strictEqual(calls, 2);
      assert.match(t.again ?? "", new RegExp(`${api.url}/v1/v2/models/llama3/generate`));
    } finally {
      await api.close();
    }
  });

  it("fails an internal Triton the API does not front, naming the address", async () => {
    const t = only(
      await smokeTest(
        {
          stack: "prod",
          region: REGION,
          targets: [
            { kind: "fleet", name: "fleet", url: "http://127.0.0.1:9", viaApi: false, replicas: 2 },
          ],
        },
        clients,
        recorder(),
        FAST,
      ),
    );
    assert.deepStrictEqual(
      [t.status, t.step, t.resource],
      ["failed", "request", "http://127.0.0.1:9"],
    );
    assert.match(t.message ?? "", /not reachable from here/);
  });

  it("skips Triton deployed with zero replicas and says how to start one", async () => {
    const result = await smokeTest(
      {
        stack: "dev",
        region: REGION,
        targets: [{ kind: "triton", name: "triton", viaApi: false, replicas: 0 }],
      },
      clients,
      recorder(),
      FAST,
    );
    const t = only(result);
    assert.strictEqual(result.ok, true);
    assert.strictEqual(t.status, "skipped");
    assert.match(
      t.message ?? "",
      /kubectl -n inference scale deployment\/triton-triton --replicas=1/,
    );
    assert.match(
      t.again ?? "",
      /kubectl -n inference port-forward service\/triton-triton 8000:8000/,
    );
  });
});

describe("smokeInputOf: the shipped stacks' outputs and configuration", () => {
  const config = (stack: string) => parseStackConfig(readStackFile(stack), stack);
  /** Outputs as the Automation API returns them (`{ value, secret }`). */
  const wrapped = (o: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(o).map(([k, v]) => [k, { value: v, secret: false }]));

  it("dev: one request to the chat endpoint's inference component, by its name, and Triton with zero replicas", () => {
    const outputs = {
      region: "us-east-1",
      sagemakerEndpoints: { chat: "llm-infra-dev-chat" },
      sagemakerComponents: { chat: { llama: "llm-infra-dev-chat-llama" } },
    };
    const input = smokeInputOf(wrapped(outputs), config("dev"));
    assert.strictEqual(input.api, undefined);
    assert.deepStrictEqual(
      input.targets.map((t) => [t.kind, t.name, t.viaApi]),
      [
        ["sagemaker", "chat/llama", false],
        ["triton", "triton", false],
      ],
    );
    const chat = input.targets[0];
    assert.ok(chat.kind === "sagemaker");
    // The component runs LMI, which takes {"inputs", "parameters"}, on a real-time endpoint.
    assert.deepStrictEqual(
      [chat.mode, chat.endpointName, chat.component, chat.format],
      ["realtime", "llm-infra-dev-chat", "llm-infra-dev-chat-llama", "inputs"],
    );
    // The command to call it again names the component.
    assert.match(
      againCommand({ input, prompt: "hi", maxTokens: 8 }, chat),
      /^npm run invoke -- llm-infra-dev-chat hi --max-tokens 8 --temperature 0 --component llm-infra-dev-chat-llama --region us-east-1$/,
    );
    const triton = input.targets[1];
    assert.ok(triton.kind === "triton");
    assert.strictEqual(triton.replicas, 0);
    // Without the components' output the serving step has not run.
    assert.throws(
      () => smokeInputOf(wrapped({ ...outputs, sagemakerComponents: {} }), config("dev")),
      /no output sagemakerComponents\.chat\.llama: run the serving step/,
    );
  });

  it("a single-model async endpoint: its input prefix", () => {
    const input = smokeInputOf(
      wrapped({
        region: "us-east-1",
        sagemakerEndpoints: { chat: "llm-infra-dev-chat" },
        sagemakerAsyncInputUris: { chat: "s3://models/async/chat/input/" },
      }),
      parseStackConfig(withAsyncChat(readStackFile("dev")), "dev"),
    );
    const chat = input.targets[0];
    assert.ok(chat.kind === "sagemaker");
    assert.deepStrictEqual(
      [chat.name, chat.mode, chat.asyncInputUri, chat.format, chat.component],
      ["chat", "async", "s3://models/async/chat/input/", "inputs", undefined],
    );
    assert.match(
      againCommand({ input, prompt: "hi", maxTokens: 8 }, chat),
      /^npm run invoke -- llm-infra-dev-chat hi --max-tokens 8 --temperature 0 --async s3:\/\/models\/async\/chat\/input\/ --region us-east-1$/,
    );
  });

  it("staging and prod: the API's backend goes through the API with the stack's authentication", () => {
    const staging = smokeInputOf(
      {
        sagemakerEndpoints: { chat: "llm-infra-staging-chat" },
        apiUrl: "https://abc.execute-api.us-east-1.amazonaws.com/v1",
        apiKeyId: "key123",
      },
      config("staging"),
    );
    assert.deepStrictEqual(staging.api, {
      url: "https://abc.execute-api.us-east-1.amazonaws.com/v1",
      authentication: "apiKey",
      apiKeyId: "key123",
    });
    assert.strictEqual(staging.targets.find((t) => t.name === "chat")?.viaApi, true);
    const prodConfig = config("prod");
    const prod = smokeInputOf(
      {
        sagemakerEndpoints: { chat: "llm-infra-prod-chat", batch: "llm-infra-prod-batch" },
        apiUrl: "https://xyz.execute-api.us-east-1.amazonaws.com/v1",
        tritonLoadBalancerDnsName: "internal-triton.elb.amazonaws.com",
      },
      prodConfig,
    );
    assert.strictEqual(prod.api?.authentication, "iam");
    assert.deepStrictEqual(
      prod.targets.map((t) => [t.name, t.viaApi]),
      [
        ["chat", prodConfig.api?.backend === "chat"],
        ["batch", false],
        ["triton", prodConfig.api?.backend === "triton"],
      ],
    );
    const triton = prod.targets[2];
    assert.ok(triton.kind === "triton");
    assert.strictEqual(triton.url, "http://internal-triton.elb.amazonaws.com");
  });

  it("refuses outputs without a configured endpoint, naming the output", () => {
    assert.throws(
      () => smokeInputOf({ sagemakerEndpoints: {} }, config("staging")),
      /no output sagemakerEndpoints\.chat: run the serving step/,
    );
  });
});

describe("smoke test helpers", () => {
  it("shows the generated text of LMI, TGI and Triton answers, and any other answer whole", () => {
    // LMI (djl-serving's lmi_input_output_schema.md): one object with generated_text.
    assert.strictEqual(answerText({ generated_text: "Hello from LMI" }), "Hello from LMI");
    // TGI: the same object in a one-element list.
    assert.strictEqual(answerText([{ generated_text: "Hello from TGI" }]), "Hello from TGI");
    // Triton's generate extension: text_output beside the model's name and version.
    assert.strictEqual(
      answerText({ model_name: "llama3-8b", model_version: "1", text_output: "Hello from Triton" }),
      "Hello from Triton",
    );
    // Anything else is shown as it came: JSON whole, a string as it is.
    assert.strictEqual(answerText({ outputs: [{ text: "x" }] }), '{"outputs":[{"text":"x"}]}');
    assert.strictEqual(
      answerText([{ generated_text: "a" }, { generated_text: "b" }]),
      '[{"generated_text":"a"},{"generated_text":"b"}]',
    );
    assert.strictEqual(answerText({ generated_text: 42 }), '{"generated_text":42}');
    assert.strictEqual(answerText("plain text"), "plain text");
    assert.strictEqual(answerText(null), "null");
  });

  it("finds API Gateway's control API as the SDKs do: the service variable, the global one, the region", () => {
    assert.strictEqual(
      apiGatewayEndpoint("eu-west-1", {}),
      "https://apigateway.eu-west-1.amazonaws.com",
    );
    assert.strictEqual(
      apiGatewayEndpoint("eu-west-1", { AWS_ENDPOINT_URL: "http://127.0.0.1:5000/" }),
      "http://127.0.0.1:5000",
    );
    assert.strictEqual(
      apiGatewayEndpoint("eu-west-1", {
        AWS_ENDPOINT_URL: "http://127.0.0.1:5000",
        AWS_ENDPOINT_URL_API_GATEWAY: "http://127.0.0.1:6000",
      }),
      "http://127.0.0.1:6000",
    );
  });

  it("quotes shell words that need it, and only those", () => {
    assert.strictEqual(shellQuote("llm-infra-dev-chat"), "llm-infra-dev-chat");
    assert.strictEqual(shellQuote("it's here"), "'it'\\''s here'");
  });
});
