import * as assert from "assert";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
  InvokeEndpointAsyncCommand,
  InvokeEndpointCommand,
  InvokeEndpointWithResponseStreamCommand,
  ModelError,
  SageMakerRuntimeClient,
  ValidationError,
} from "@aws-sdk/client-sagemaker-runtime";
import { mockClient } from "aws-sdk-client-mock";
import {
  AsyncTimeoutError,
  EndpointNotFoundError,
  ModelInvocationError,
  SageMakerInferenceClient,
  ThrottledError,
  buildRequest,
} from "../client/sagemakerClient";
import { main as invokeMain, silenceSdkNodeWarning } from "../scripts/invoke";

// The pinned SDK supports Node.js 20; its notice about future releases is not a test result.
silenceSdkNodeWarning();

// The mocks replace every client's send while this file's suites run; other files in the same
// process (the smoke test against moto's server) need the real one, so each suite mocks in its
// `before` and restores in its `after`.
let runtimeMock = mockClient(SageMakerRuntimeClient);
let s3Mock = mockClient(S3Client);
runtimeMock.restore();
s3Mock.restore();
function mockWhileSuiteRuns(): void {
  before(() => {
    runtimeMock = mockClient(SageMakerRuntimeClient);
    s3Mock = mockClient(S3Client);
  });
  after(() => {
    runtimeMock.restore();
    s3Mock.restore();
  });
}
const bytes = (s: string) => new TextEncoder().encode(s);
const body = (s: string) => ({ transformToString: async () => s }) as never;
const noSuchKey = () =>
  Object.assign(new Error("The specified key does not exist."), { name: "NoSuchKey" });

function client(sleeps: number[] = []) {
  return new SageMakerInferenceClient({
    region: "us-east-1",
    runtime: new SageMakerRuntimeClient({ region: "us-east-1" }),
    s3: new S3Client({ region: "us-east-1" }),
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
}

async function* events(...parts: string[]) {
  for (const p of parts) yield { PayloadPart: { Bytes: bytes(p) } };
}

describe("SageMaker invoke client", () => {
  mockWhileSuiteRuns();
  beforeEach(() => {
    runtimeMock.reset();
    s3Mock.reset();
  });

  it("sends {inputs, parameters} with LMI's max_new_tokens and parses the JSON answer", async () => {
    runtimeMock
      .on(InvokeEndpointCommand)
      .resolves({ Body: bytes('{"generated_text":"hi"}') as never });
    const answer = await client().invoke("llm-infra-dev-chat", "Hello", { max_tokens: 32 });
    assert.deepStrictEqual(answer, { generated_text: "hi" });
    const sent = runtimeMock.commandCalls(InvokeEndpointCommand)[0].args[0].input;
    assert.strictEqual(sent.EndpointName, "llm-infra-dev-chat");
    assert.strictEqual(sent.ContentType, "application/json");
    assert.deepStrictEqual(JSON.parse(String(sent.Body)), {
      inputs: "Hello",
      parameters: { max_new_tokens: 32, temperature: 0.7 },
    });
    assert.deepStrictEqual(buildRequest("x"), {
      inputs: "x",
      parameters: { max_new_tokens: 256, temperature: 0.7 },
    });
  });

  it("writes Triton's generate body for an endpoint of Triton with an LLM backend", async () => {
    runtimeMock
      .on(InvokeEndpointCommand)
      .resolves({ Body: bytes('{"text_output":"hi there"}') as never });
    const generate = new SageMakerInferenceClient({
      region: "us-east-1",
      format: "triton-generate",
    });
    const answer = await generate.invoke("llm-infra-dev-chat", "Hello", { max_tokens: 8 });
    assert.deepStrictEqual(answer, { text_output: "hi there" });
    const sent = runtimeMock.commandCalls(InvokeEndpointCommand)[0].args[0].input;
    assert.deepStrictEqual(JSON.parse(String(sent.Body)), {
      text_input: "Hello",
      parameters: { stream: false, max_tokens: 8, temperature: 0.7 },
    });
  });

  it("streams the answer chunk by chunk, including characters split across chunks", async () => {
    const euro = bytes("€");
    async function* split() {
      yield { PayloadPart: { Bytes: bytes("price: ") } };
      yield { PayloadPart: { Bytes: euro.slice(0, 1) } };
      yield { PayloadPart: { Bytes: euro.slice(1) } };
      yield* events("5");
    }
    runtimeMock.on(InvokeEndpointWithResponseStreamCommand).resolves({ Body: split() as never });
    const chunks: string[] = [];
    for await (const c of client().stream("e", "How much?")) chunks.push(c);
    assert.strictEqual(chunks.join(""), "price: €5");
    const sent = runtimeMock.commandCalls(InvokeEndpointWithResponseStreamCommand)[0].args[0].input;
    assert.strictEqual(JSON.parse(String(sent.Body)).parameters.stream, true);
  });

  it("fails a stream that reports a model error", async () => {
    async function* broken() {
      yield* events("partial");
      yield { ModelStreamError: { Message: "CUDA out of memory", ErrorCode: "500" } };
    }
    runtimeMock.on(InvokeEndpointWithResponseStreamCommand).resolves({ Body: broken() as never });
    await assert.rejects(
      async () => {
        for await (const c of client().stream("e", "x")) void c;
      },
      (e: Error) => e instanceof ModelInvocationError && /CUDA out of memory/.test(e.message),
    );
  });

  it("runs an async request: uploads it, invokes, and polls until the result appears", async () => {
    s3Mock.on(PutObjectCommand).resolves({});
    runtimeMock.on(InvokeEndpointAsyncCommand).resolves({
      OutputLocation: "s3://b/async/output/1.out",
      FailureLocation: "s3://b/async/failure/1.out",
    });
    s3Mock
      .on(GetObjectCommand, { Bucket: "b", Key: "async/output/1.out" })
      .rejectsOnce(noSuchKey())
      .resolves({ Body: body('{"generated_text":"done"}') });
    s3Mock.on(GetObjectCommand, { Bucket: "b", Key: "async/failure/1.out" }).rejects(noSuchKey());
    const sleeps: number[] = [];
    const answer = await client(sleeps).invokeAsync("batch", "Summarize", {
      inputUri: "s3://b/async/input/",
      pollIntervalSeconds: 2,
    });
    assert.deepStrictEqual(answer, { generated_text: "done" });
    assert.deepStrictEqual(sleeps, [2000]);
    const put = s3Mock.commandCalls(PutObjectCommand)[0].args[0].input;
    assert.strictEqual(put.Bucket, "b");
    assert.match(String(put.Key), /^async\/input\/[0-9a-f-]{36}\.json$/);
    assert.strictEqual(
      runtimeMock.commandCalls(InvokeEndpointAsyncCommand)[0].args[0].input.InputLocation,
      `s3://b/${put.Key}`,
    );
  });

  it("reports an async failure from the failure location", async () => {
    s3Mock.on(PutObjectCommand).resolves({});
    runtimeMock
      .on(InvokeEndpointAsyncCommand)
      .resolves({ OutputLocation: "s3://b/o/1.out", FailureLocation: "s3://b/f/1.out" });
    s3Mock.on(GetObjectCommand, { Key: "o/1.out" }).rejects(noSuchKey());
    s3Mock.on(GetObjectCommand, { Key: "f/1.out" }).resolves({ Body: body("model crashed") });
    await assert.rejects(
      client().invokeAsync("batch", "x", { inputUri: "s3://b/in/" }),
      (e: Error) => e instanceof ModelInvocationError && /model crashed/.test(e.message),
    );
  });

  it("times out an async request that never completes", async () => {
    s3Mock.on(PutObjectCommand).resolves({});
    runtimeMock.on(InvokeEndpointAsyncCommand).resolves({ OutputLocation: "s3://b/o/1.out" });
    s3Mock.on(GetObjectCommand).rejects(noSuchKey());
    await assert.rejects(
      client().invokeAsync("batch", "x", { inputUri: "s3://b/in/", timeoutSeconds: 0 }),
      (e: Error) => e instanceof AsyncTimeoutError && /s3:\/\/b\/o\/1\.out/.test(e.message),
    );
  });

  it("says clearly when the endpoint does not exist, throttles, or the model fails", async () => {
    runtimeMock.on(InvokeEndpointCommand).rejects(
      new ValidationError({
        message: "Endpoint nope of account 123456789012 not found.",
        $metadata: {},
      }),
    );
    await assert.rejects(
      client().invoke("nope", "x"),
      (e: Error) =>
        e instanceof EndpointNotFoundError && /nope was not found in us-east-1/.test(e.message),
    );
    runtimeMock.reset();
    runtimeMock.on(InvokeEndpointCommand).rejects(
      Object.assign(new Error("Could not load credentials from any providers"), {
        name: "CredentialsProviderError",
      }),
    );
    await assert.rejects(client().invoke("e", "x"), (e: Error) =>
      /no AWS credentials found: set AWS_PROFILE/.test(e.message),
    );
    runtimeMock.reset();
    runtimeMock
      .on(InvokeEndpointCommand)
      .rejects(Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" }));
    await assert.rejects(
      client().invoke("e", "x"),
      (e: Error) => e instanceof ThrottledError && /throttling/.test(e.message),
    );
    runtimeMock.reset();
    runtimeMock.on(InvokeEndpointCommand).rejects(
      new ModelError({
        message: "Received server error",
        OriginalStatusCode: 500,
        OriginalMessage: "bad input shape",
        $metadata: {},
      }),
    );
    await assert.rejects(
      client().invoke("e", "x"),
      (e: Error) =>
        e instanceof ModelInvocationError && /status 500: bad input shape/.test(e.message),
    );
  });
});

describe("invoke CLI", () => {
  mockWhileSuiteRuns();
  let stdout: string[];
  let stderr: string[];
  const realOut = process.stdout.write.bind(process.stdout);
  const realErr = process.stderr.write.bind(process.stderr);
  beforeEach(() => {
    runtimeMock.reset();
    stdout = [];
    stderr = [];
    process.stdout.write = ((s: string) => stdout.push(s) > 0) as typeof process.stdout.write;
    process.stderr.write = ((s: string) => stderr.push(s) > 0) as typeof process.stderr.write;
  });
  afterEach(() => {
    process.stdout.write = realOut;
    process.stderr.write = realErr;
  });

  it("prints the answer and exits 0", async () => {
    runtimeMock
      .on(InvokeEndpointCommand)
      .resolves({ Body: bytes('{"generated_text":"4"}') as never });
    const code = await invokeMain(["chat", "2+2?", "--max-tokens", "8"], () => client());
    assert.strictEqual(code, 0);
    assert.deepStrictEqual(JSON.parse(stdout.join("")), { generated_text: "4" });
  });

  it("exits 1 with the reason when the invocation fails, and 2 on bad usage", async () => {
    runtimeMock
      .on(InvokeEndpointCommand)
      .rejects(
        new ValidationError({ message: "Endpoint chat of account 1 not found.", $metadata: {} }),
      );
    assert.strictEqual(await invokeMain(["chat", "hi"], () => client()), 1);
    assert.match(stderr.join(""), /endpoint chat was not found/);
    assert.strictEqual(await invokeMain(["chat"], () => client()), 2);
    assert.strictEqual(await invokeMain(["chat", "hi", "--max-tokens", "0"], () => client()), 2);
    assert.strictEqual(
      await invokeMain(["chat", "hi", "--stream", "--async", "s3://b/in/"], () => client()),
      2,
    );
  });

  it("exits 2 with one line for each usage mistake, before making a client", async () => {
    const cases: [string[], RegExp][] = [
      [
        ["chat", "hi", "--format", "openai"],
        /^error: --format must be one of inputs, triton-generate/,
      ],
      [["chat", "hi", "--timeout-seconds", "soon"], /^error: --timeout-seconds must be a number/],
      [["chat", "hi", "--region", "us-nowhere-1"], /^error: --region must be an AWS region/],
      [["chat", "hi", "--async", "/tmp/in.json"], /^error: --async must be an S3 URI/],
      [["chat_bot", "hi"], /^error: <endpoint> must be a SageMaker endpoint name/],
    ];
    for (const [argv, message] of cases) {
      stderr = [];
      let made = false;
      const code = await invokeMain(argv, () => {
        made = true;
        return client();
      });
      assert.strictEqual(code, 2, argv.join(" "));
      assert.strictEqual(made, false, argv.join(" "));
      assert.match(stderr.join(""), message);
      assert.strictEqual(stderr.join("").trim().split("\n").length, 1);
    }
  });

  it("silences the SDK's Node.js version warning deliberately, keeping a value the user set", () => {
    const env: NodeJS.ProcessEnv = {};
    silenceSdkNodeWarning(env);
    assert.strictEqual(env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED, "true");
    const own: NodeJS.ProcessEnv = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "false" };
    silenceSdkNodeWarning(own);
    assert.strictEqual(own.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED, "false");
  });
});
