/**
 * moto's AWS server (Python `moto[server]` 5.x) on 127.0.0.1, for tests of code that calls AWS:
 * STS, EC2, ECR, S3, CodeBuild, SageMaker and more answer as AWS would, with fake credentials.
 *
 * A test starts one server in `before`, points its clients (or `AWS_ENDPOINT_URL`) at `url`, and
 * stops it in `after`. Where `moto_server` is not installed the test fails in CI (CI=true) with
 * the install hint, and is skipped elsewhere with the same hint.
 *
 * What moto 5 does not implement is tested with aws-sdk-client-mock instead; each test file says
 * which calls those are (docs/verification.md lists them).
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as net from "net";
import { Readable } from "stream";
import { CodeBuildClient, CreateProjectCommand } from "@aws-sdk/client-codebuild";

export const MOTO_INSTALL_HINT =
  "moto's AWS server is not installed: `pip install 'moto[server]>=5,<6'` puts `moto_server` on PATH";

/** Fake credentials moto accepts; the account is moto's default, 123456789012. */
export const MOTO_CREDENTIALS = { accessKeyId: "testing", secretAccessKey: "testing" };
export const MOTO_ACCOUNT = "123456789012";

export interface MotoServer {
  url: string;
  /** Forgets every resource the server holds (moto's reset API), between tests. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export function motoInstalled(): boolean {
  return spawnSync("moto_server", ["--help"], { stdio: "ignore" }).status === 0;
}

/** A port the kernel says is free now (moto_server takes a port number, not 0). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilUp(url: string, child: ChildProcess, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited (${child.exitCode})`);
    try {
      const r = await fetch(`${url}/moto-api/data.json`);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`moto_server did not answer on ${url}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts moto_server for a mocha suite; call from `before` with the suite's context. Skips the
 * suite (outside CI) or throws (in CI) when moto_server is missing.
 */
export async function startMoto(ctx: Mocha.Context): Promise<MotoServer> {
  if (!motoInstalled()) {
    if (process.env.CI) throw new Error(MOTO_INSTALL_HINT);
    console.warn(`skipped: ${MOTO_INSTALL_HINT}`);
    ctx.skip();
  }
  const port = await freePort();
  const child = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], {
    stdio: "ignore",
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilUp(url, child, 20_000);
  } catch (e) {
    child.kill("SIGKILL");
    throw e;
  }
  return {
    url,
    reset: async () => {
      await fetch(`${url}/moto-api/reset`, { method: "POST" });
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

/** Client options that send an AWS SDK v3 client to moto. */
export function motoClientConfig(url: string, region = "us-east-1") {
  return { region, endpoint: url, credentials: MOTO_CREDENTIALS };
}

/**
 * moto 5.2.1 writes CodeBuild's build times as ISO 8601 strings ("startTime":
 * "2026-12-07T13:52:57.393Z", moto/codebuild/models.py CodeBuildProjectMetadata); CodeBuild's JSON
 * protocol sends epoch seconds, and the SDK refuses the strings ("Expected real number, got
 * implicit NaN"). This middleware, inside the SDK's deserializer, rewrites them to epoch seconds
 * before the SDK parses the response, so the test exercises the real client against moto.
 */
export function epochTimestamps(client: CodeBuildClient): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      const out = await next(args);
      const response = out.response as { body: Readable; headers: Record<string, string> };
      const chunks: Buffer[] = [];
      for await (const chunk of response.body) chunks.push(Buffer.from(chunk));
      const text = Buffer.concat(chunks)
        .toString("utf8")
        .replace(
          /"(startTime|endTime)": "([^"]+)"/g,
          (_, key: string, iso: string) => `"${key}": ${Date.parse(iso) / 1000}`,
        );
      response.body = Readable.from([Buffer.from(text)]);
      delete response.headers["content-length"];
      return out;
    },
    { step: "deserialize", priority: "low", name: "motoEpochTimestamps" },
  );
}

/**
 * A CodeBuild client sent to moto (build times rewritten as AWS sends them), and a project like the
 * stack's image build project: S3 source (moto asks a location of every source type; the stack's
 * project has S3 sources when it builds images), privileged Docker on the standard image.
 */
export async function motoBuildProject(url: string, name: string): Promise<CodeBuildClient> {
  const client = new CodeBuildClient(motoClientConfig(url));
  epochTimestamps(client);
  await client.send(
    new CreateProjectCommand({
      name,
      source: { type: "S3", location: "model-bucket/image-build-sources/sources.zip" },
      artifacts: { type: "NO_ARTIFACTS" },
      environment: {
        type: "LINUX_CONTAINER",
        image: "aws/codebuild/standard:7.0",
        computeType: "BUILD_GENERAL1_LARGE",
        privilegedMode: true,
      },
      serviceRole: `arn:aws:iam::${MOTO_ACCOUNT}:role/${name}`,
    }),
  );
  return client;
}
