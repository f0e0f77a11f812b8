/**
 * The preflight (automation/preflight.ts, scripts/preflight.ts) against moto's AWS server for STS,
 * EC2 (DescribeAvailabilityZones, DescribeInstanceTypeOfferings), ECR and S3.
 *
 * moto 5 implements Service Quotas for the `vpc` service code only, so EC2 and SageMaker quotas
 * are answered by aws-sdk-client-mock on the Service Quotas client (docs/verification.md).
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { mockClient } from "aws-sdk-client-mock";
import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { EC2Client } from "@aws-sdk/client-ec2";
import {
  GetAWSDefaultServiceQuotaCommand,
  GetServiceQuotaCommand,
  ListAWSDefaultServiceQuotasCommand,
  ListServiceQuotasCommand,
  NoSuchResourceException,
  ServiceQuotasClient,
} from "@aws-sdk/client-service-quotas";
import { CreateRepositoryCommand, ECRClient, PutImageCommand } from "@aws-sdk/client-ecr";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import { PlanReport, planStack, projectRoot, readStackFile } from "../offline/plan";
import { StackConfig, parseStackConfig } from "../programs/config";
import {
  PreflightClients,
  PreflightFinding,
  PreflightOptions,
  PreflightResult,
  formatPreflight,
  preflightClients,
  runPreflight,
} from "../automation/preflight";
import { awsxAzs, capacityNeeds, stackImages, userDataImages } from "../automation/preflightNeeds";
import { ec2QuotaFor } from "../automation/preflightQuotas";
import { main, preflightRegion } from "../scripts/preflight";
import { deployBrings } from "../automation/deployBrings";
import { MOTO_ACCOUNT, MOTO_CREDENTIALS, MotoServer, motoClientConfig, startMoto } from "./moto";

/** Quota values the mocked Service Quotas client answers with, by EC2 code and SageMaker name. */
interface Quotas {
  ec2: Record<string, number>;
  sagemaker: Record<string, number>;
}

const PLENTY: Quotas = {
  ec2: { "L-1216C47A": 64, "L-DB2E81BA": 64, "L-3819A6DF": 64 },
  sagemaker: {
    "ml.g5.xlarge for endpoint usage": 4,
    "ml.g5.2xlarge for endpoint usage": 8,
    "ml.g6.xlarge for endpoint usage": 4,
  },
};

/**
 * Answers as Service Quotas does: GetServiceQuota for applied EC2 values (NoSuchResourceException
 * for the others, whose default GetAWSDefaultServiceQuota gives), and SageMaker's applied list in
 * two pages, the quota asked for on the second.
 */
function mockQuotas(client: ServiceQuotasClient, q: Quotas, defaults: Record<string, number> = {}) {
  const m = mockClient(client);
  m.on(GetServiceQuotaCommand).callsFake((input: { QuotaCode: string }) => {
    const value = q.ec2[input.QuotaCode];
    if (value === undefined)
      throw new NoSuchResourceException({ message: "no applied value", $metadata: {} });
    return {
      Quota: { QuotaCode: input.QuotaCode, QuotaName: `quota ${input.QuotaCode}`, Value: value },
    };
  });
  m.on(GetAWSDefaultServiceQuotaCommand).callsFake((input: { QuotaCode: string }) => ({
    Quota: { QuotaCode: input.QuotaCode, Value: defaults[input.QuotaCode] ?? 0 },
  }));
  const applied = Object.entries(q.sagemaker).map(([QuotaName, Value], i) => ({
    QuotaName,
    Value,
    QuotaCode: `L-SM${i}`,
  }));
  m.on(ListServiceQuotasCommand).callsFake((input: { NextToken?: string }) =>
    input.NextToken === "page-2"
      ? { Quotas: applied }
      : {
          Quotas: [{ QuotaName: "Number of domains", Value: 5, QuotaCode: "L-X" }],
          NextToken: "page-2",
        },
  );
  m.on(ListAWSDefaultServiceQuotasCommand).resolves({ Quotas: [] });
  return m;
}

function motoClients(url: string, quotas: Quotas = PLENTY): PreflightClients {
  const config = motoClientConfig(url);
  const clients = {
    sts: new STSClient(config),
    ec2: new EC2Client(config),
    quotas: new ServiceQuotasClient(config),
    ecr: new ECRClient(config),
    s3: new S3Client({ ...config, forcePathStyle: true }),
    iam: new IAMClient(config),
  };
  mockQuotas(clients.quotas, quotas);
  return clients;
}

const find = (r: PreflightResult, check: string, subject: string | RegExp) =>
  r.findings.filter(
    (f) =>
      f.check === check &&
      (typeof subject === "string" ? f.subject === subject : subject.test(f.subject)),
  );

function one(r: PreflightResult, check: string, subject: string | RegExp): PreflightFinding {
  const found = find(r, check, subject);
  assert.strictEqual(
    found.length,
    1,
    `one ${check} finding on ${subject}: ${JSON.stringify(r.findings)}`,
  );
  return found[0];
}

/** A copy of a plan with one resource's inputs changed: a stack the shipped files do not have. */
/**
 * dev's configuration with no local model repositories and no hub model: nothing for the deploy's
 * model step (the chat endpoint's LMI component then reads whatever Hugging Face snapshot is at
 * its prefix).
 */
function devWithoutRepositories(): StackConfig {
  const raw = readStackFile("dev");
  const sagemaker = raw["llm-infra:sagemaker"] as { endpoints: Record<string, unknown>[] };
  raw["llm-infra:sagemaker"] = {
    ...sagemaker,
    endpoints: sagemaker.endpoints.map((e) => ({
      ...e,
      modelRepository: undefined,
      hubModel: undefined,
      // dev's chat endpoint: its components' hub models.
      components: (e.components as Record<string, unknown>[] | undefined)?.map((c) => ({
        ...c,
        hubModel: undefined,
      })),
    })),
  };
  raw["llm-infra:triton"] = {
    ...(raw["llm-infra:triton"] as object),
    modelRepository: undefined,
  };
  return parseStackConfig(JSON.parse(JSON.stringify(raw)) as Record<string, unknown>, "dev");
}

function withInputs(
  report: PlanReport,
  name: string,
  change: (inputs: Record<string, unknown>) => void,
): PlanReport {
  const copy = JSON.parse(JSON.stringify(report)) as PlanReport;
  const r = copy.resources.find((x) => x.name === name);
  assert.ok(r, `no resource ${name}`);
  change(r.inputs);
  return copy;
}

describe("preflight: what a stack needs, from its plan", function () {
  this.timeout(120000);
  let dev: PlanReport;
  let staging: PlanReport;
  before(async () => {
    dev = await planStack("dev");
    staging = await planStack("staging");
  });

  it("counts every group at its maximum and each variant at its autoscaling maximum", () => {
    const needs = capacityNeeds(staging.resources);
    const fleet = needs.find((n) => n.resource === "fleet-asg");
    assert.deepStrictEqual(
      fleet && [fleet.instanceTypes, fleet.market, fleet.peak, fleet.needsEveryAz],
      [["g5.xlarge"], "on-demand", 2, false],
    );
    // staging's chat endpoint starts with 1 instance and scales to 4 (its scalable target).
    const chat = needs.find((n) => n.resource === "chat-config");
    assert.deepStrictEqual(chat && [chat.instanceTypes, chat.peak], [["ml.g5.2xlarge"], 4]);
    const gpu = capacityNeeds(dev.resources).find((n) => n.resource === "gpu-nodes");
    assert.deepStrictEqual(gpu && [gpu.instanceTypes, gpu.market, gpu.peak, gpu.needsEveryAz], [
      ["g5.xlarge"],
      "spot",
      2,
      true,
    ]);
  });

  it("splits a mixed Auto Scaling group into its on-demand and spot markets", () => {
    const asg = {
      type: "aws:autoscaling/group:Group",
      name: "fleet-asg",
      inputs: {
        minSize: 1,
        maxSize: 5,
        mixedInstancesPolicy: {
          launchTemplate: {
            overrides: [{ instanceType: "g5.xlarge" }, { instanceType: "g6.xlarge" }],
          },
          instancesDistribution: {
            onDemandBaseCapacity: 1,
            onDemandPercentageAboveBaseCapacity: 50,
          },
        },
      },
    };
    const needs = capacityNeeds([asg]);
    assert.deepStrictEqual(
      needs.map((n) => [n.market, n.peak, n.instanceTypes]),
      [
        ["on-demand", 3, ["g5.xlarge", "g6.xlarge"]],
        ["spot", 2, ["g5.xlarge", "g6.xlarge"]],
      ],
    );
  });

  it("finds the images where each component records them", () => {
    const uris = (r: PlanReport) => stackImages(r.resources).map((i) => `${i.usedBy} ${i.uri}`);
    // dev as shipped: Triton runs the vLLM Triton image from the stack's own `triton` repository
    // (the plan's placeholder account and name); the chat endpoint runs AWS's LMI image (DLC).
    const own =
      /^123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com\/registry-triton-[0-9a-f]+:24\.05-vllm-python-py3$/;
    const devImages = stackImages(dev.resources);
    // The add-ons whose publishers give a digest are set by tag and digest, so they show too.
    assert.deepStrictEqual(devImages.map((i) => i.usedBy).sort(), [
      "addons-cluster-autoscaler",
      "addons-metrics-server",
      "addons-nvidia-device-plugin",
      "chat-llama-model",
      "model-cache-sync",
      "triton-release",
    ]);
    const image = (usedBy: string) => devImages.find((i) => i.usedBy === usedBy)!.uri;
    assert.strictEqual(
      image("addons-metrics-server"),
      "registry.k8s.io/metrics-server/metrics-server:v0.7.2@sha256:ffcb2bf004d6aa0a17d90e0247cf94f2865c8901dcab4427034c341951c239f9",
    );
    assert.match(image("triton-release"), own);
    assert.strictEqual(
      image("chat-llama-model"),
      "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.31.0-lmi13.0.0-cu124",
    );
    assert.ok(
      uris(dev).includes("model-cache-sync public.ecr.aws/aws-cli/aws-cli:2.27.50"),
      uris(dev).join(", "),
    );
    assert.ok(uris(staging).some((u) => /^fleet-lt /.test(u) && own.test(u.split(" ")[1])));
    const keda = {
      type: "kubernetes:helm.sh/v3:Release",
      name: "keda",
      inputs: {
        values: {
          image: {
            keda: { repository: "ghcr.io/kedacore/keda", tag: "2.17.0" },
            metricsApiServer: {
              registry: "ghcr.io",
              repository: "kedacore/keda-metrics-apiserver",
            },
            pullPolicy: "IfNotPresent",
          },
        },
      },
    };
    assert.deepStrictEqual(
      stackImages([keda]).map((i) => i.uri),
      ["ghcr.io/kedacore/keda:2.17.0", "ghcr.io/kedacore/keda-metrics-apiserver"],
    );
    const script = "#!/bin/bash\ndocker pull 1.dkr/x:1\ndocker run -d x:1\n";
    assert.deepStrictEqual(userDataImages(Buffer.from(script).toString("base64")), ["1.dkr/x:1"]);
  });

  it("maps instance families to EC2 vCPU quota codes by market", () => {
    const code = (t: string, m: "on-demand" | "spot") => ec2QuotaFor(t, m)?.code;
    assert.strictEqual(code("g5.xlarge", "on-demand"), "L-DB2E81BA");
    assert.strictEqual(code("g6e.12xlarge", "spot"), "L-3819A6DF");
    assert.strictEqual(code("p4d.24xlarge", "spot"), "L-7212CCBC");
    assert.strictEqual(code("p5.48xlarge", "spot"), "L-C4BD4855");
    assert.strictEqual(code("p5.48xlarge", "on-demand"), "L-417A185B");
    assert.strictEqual(code("inf2.xlarge", "on-demand"), "L-1945791B");
    assert.strictEqual(code("trn1.32xlarge", "spot"), "L-6B0D517C");
    assert.strictEqual(code("t3.medium", "on-demand"), "L-1216C47A");
    assert.strictEqual(code("m6i.large", "spot"), "L-34B43A08");
    assert.strictEqual(code("x2idn.16xlarge", "on-demand"), undefined);
  });

  it("takes the first AZs by name, as awsx does", () => {
    assert.deepStrictEqual(awsxAzs(["us-east-1c", "us-east-1a", "us-east-1b"], 2), [
      "us-east-1a",
      "us-east-1b",
    ]);
  });

  it("checks the region the SDK variables name, else the stack's", () => {
    assert.strictEqual(preflightRegion("us-east-1", {}), "us-east-1");
    assert.strictEqual(
      preflightRegion("us-east-1", { AWS_DEFAULT_REGION: "eu-west-1" }),
      "eu-west-1",
    );
    assert.strictEqual(
      preflightRegion("us-east-1", { AWS_REGION: "us-west-2", AWS_DEFAULT_REGION: "eu-west-1" }),
      "us-west-2",
    );
  });
});

describe("preflight against moto (STS, EC2, ECR, S3) and mocked Service Quotas", function () {
  this.timeout(120000);
  let moto: MotoServer;
  let dev: PlanReport;
  let staging: PlanReport;
  let clients: PreflightClients;
  const saved: Record<string, string | undefined> = {};
  const ENV = [
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_PROFILE",
  ];

  before(async function () {
    moto = await startMoto(this);
    // test/client.test.ts stubs S3Client.prototype.send for the whole process: put the real one back.
    (S3Client.prototype.send as unknown as { restore?: () => void }).restore?.();
    dev = await planStack("dev");
    staging = await planStack("staging");
  });
  beforeEach(async () => {
    await moto.reset();
    clients = motoClients(moto.url);
  });
  after(async () => {
    for (const k of ENV) if (saved[k] !== undefined) process.env[k] = saved[k];
    await moto?.stop();
  });

  /** The SDK's own variables point at moto, as a user's shell would point at AWS. */
  function pointSdkAtMoto() {
    for (const k of ENV) {
      if (!(k in saved)) saved[k] = process.env[k];
      delete process.env[k];
    }
    process.env.AWS_ENDPOINT_URL = moto.url;
    process.env.AWS_ACCESS_KEY_ID = MOTO_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = MOTO_CREDENTIALS.secretAccessKey;
  }
  function restoreEnv() {
    for (const k of ENV) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }

  async function putImage(repositoryName: string, imageTag: string) {
    await clients.ecr.send(new CreateRepositoryCommand({ repositoryName }));
    const manifest = {
      schemaVersion: 2,
      mediaType: "application/vnd.docker.distribution.manifest.v2+json",
      config: {
        mediaType: "application/vnd.docker.container.image.v1+json",
        size: 1,
        digest: `sha256:${"b".repeat(64)}`,
      },
      layers: [],
    };
    await clients.ecr.send(
      new PutImageCommand({ repositoryName, imageManifest: JSON.stringify(manifest), imageTag }),
    );
  }

  async function bucketWith(bucket: string, keys: string[]) {
    await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    for (const Key of keys)
      await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: 'name: "m"\n' }));
  }

  const DEV_MODELS = [
    "model-repository/chat/llama/.llm-infra-weights.json",
    "model-repository/triton/llm/config.pbtxt",
  ];

  async function run(args: string[], quotas: Quotas = PLENTY) {
    let out = "";
    let err = "";
    pointSdkAtMoto();
    try {
      const code = await main(
        args,
        { out: (s) => (out += s), err: (s) => (err += s) },
        process.env,
        (region) => {
          // The real clients, which find moto through AWS_ENDPOINT_URL; only Service Quotas is mocked.
          const c = preflightClients(region);
          mockQuotas(c.quotas, quotas);
          return c;
        },
      );
      return { code, out, err };
    } finally {
      restoreEnv();
    }
  }

  function outputsFile(outputs: object): string {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "preflight-")), "outputs.json");
    fs.writeFileSync(file, JSON.stringify(outputs));
    return file;
  }

  it("passes a clean account: exit 0 from the command, with the SDK sent to moto by AWS_ENDPOINT_URL", async () => {
    await bucketWith("models-real", DEV_MODELS);
    await putImage("llm-infra-dev-triton", "24.05-vllm-python-py3");
    const registryUrls = {
      triton: `${MOTO_ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/llm-infra-dev-triton`,
    };
    const r = await run([
      "dev",
      "--outputs",
      outputsFile({ modelBucketName: "models-real", registryUrls }),
    ]);
    assert.strictEqual(r.code, 0, r.out + r.err);
    assert.match(r.out, new RegExp(`account ${MOTO_ACCOUNT}`));
    assert.match(r.out, /no blockers/);
    assert.match(r.out, /ok +model: endpoint chat\/llama \[s3:ListObjectsV2\]/);
    for (const line of r.out.split("\n")) assert.ok(line.length <= 100, `too wide: ${line}`);
    // Digests are cut for people; --json keeps them whole.
    assert.match(r.out, /metrics-server:v0\.7\.2@sha256:ffcb2bf004d6… \[not ECR\]/);
  });

  it("an empty account: the deploy brings dev's vLLM image (image step) and models/chat (model step)", async () => {
    const r = await run(["dev", "--json"]);
    const result = JSON.parse(r.out) as PreflightResult;
    const vllm = one(result, "image", /registry-triton-[0-9a-f]+:24\.05-vllm-python-py3$/);
    assert.deepStrictEqual([vllm.status, vllm.source], ["ok", "deploy image step"]);
    assert.match(vllm.has ?? "", /the image step brings the image/);
    for (const target of ["endpoint chat/llama", "triton"])
      assert.strictEqual(one(result, "model", target).status, "ok", target);
    assert.strictEqual(r.code, 0, r.out);
    // An image of the stack's repository that nothing copies or builds is still missing.
    const config = parseStackConfig(readStackFile("dev"), "dev");
    const brings = deployBrings(dev, config);
    const vllmUri = vllm.subject;
    assert.strictEqual(brings.image!(vllmUri), true);
    assert.strictEqual(brings.image!(vllmUri.replace(/:[^:]+$/, ":my-own-1")), false);
    assert.strictEqual(brings.image!("public.ecr.aws/aws-cli/aws-cli:2.27.50"), false);
  });

  it("blocks on a quota below the plan's peak: exit 1, naming the code, the need and the account's value", async () => {
    await bucketWith("models-real", DEV_MODELS);
    const outputs = outputsFile({ modelBucketName: "models-real" });
    const r = await run(["dev", "--json", "--outputs", outputs], {
      ...PLENTY,
      ec2: { ...PLENTY.ec2, "L-3819A6DF": 4 },
    });
    assert.strictEqual(r.code, 1, r.err);
    const result = JSON.parse(r.out) as PreflightResult;
    const f = one(result, "quota", /^L-3819A6DF /);
    assert.strictEqual(f.status, "blocker");
    // dev's GPU group: spot, up to 2 x g5.xlarge of 4 vCPUs.
    assert.match(f.needs ?? "", /^8 vCPUs at peak: gpu-nodes 2 x g5.xlarge \(4 vCPUs\)/);
    assert.match(f.has ?? "", /^4 vCPUs \(applied/);
    assert.match(
      f.fix ?? "",
      /aws service-quotas request-service-quota-increase --region us-east-1 --service-code ec2 --quota-code L-3819A6DF --desired-value 8/,
    );
    assert.strictEqual(result.blocked, true);
  });

  it("prints one JSON object and nothing else with --json", async () => {
    const r = await run(["dev", "--json"]);
    const result = JSON.parse(r.out) as PreflightResult;
    assert.deepStrictEqual(Object.keys(result).sort(), [
      "account",
      "arn",
      "blocked",
      "findings",
      "region",
      "stack",
    ]);
    assert.strictEqual(result.stack, "dev");
    assert.strictEqual(result.account, MOTO_ACCOUNT);
    for (const f of result.findings) {
      assert.ok(["identity", "region", "offering", "quota", "image", "model"].includes(f.check));
      assert.ok(["ok", "info", "warning", "blocker"].includes(f.status));
      assert.ok(f.subject && f.source, JSON.stringify(f));
    }
    assert.strictEqual(r.out.trim().split("\n").length, 1);
  });

  it("reads AWS's default where a quota has no applied value", async () => {
    const c = { ...clients, quotas: new ServiceQuotasClient(motoClientConfig(moto.url)) };
    mockQuotas(c.quotas, { ...PLENTY, ec2: { "L-3819A6DF": 64 } }, { "L-1216C47A": 5 });
    const result = await runPreflight(dev, c, { outputs: { modelBucketName: "x" } });
    const f = one(result, "quota", /^L-1216C47A /);
    // eks-system-nodes: up to 4 x t3.medium (2 vCPUs) = 8 against a default of 5.
    assert.deepStrictEqual([f.status, f.has], ["blocker", "5 vCPUs (AWS default)"]);
  });

  it("finds a SageMaker quota by name across pages, and calls a type without one not offered", async () => {
    const ok = await runPreflight(dev, clients);
    const f = one(ok, "quota", /ml\.g5\.xlarge for endpoint usage$/);
    assert.deepStrictEqual([f.status, f.has], ["ok", "4 instance(s) (applied)"]);
    const low = motoClients(moto.url, {
      ...PLENTY,
      sagemaker: { "ml.g5.2xlarge for endpoint usage": 2 },
    });
    const r = await runPreflight(staging, low);
    const q = one(r, "quota", /ml\.g5\.2xlarge for endpoint usage$/);
    assert.strictEqual(q.status, "blocker");
    assert.match(q.needs ?? "", /^4 instance\(s\) at peak/);
    assert.match(q.fix ?? "", /--service-code sagemaker --quota-code L-SM0 --desired-value 4/);
    const none = motoClients(moto.url, { ...PLENTY, sagemaker: {} });
    const o = one(await runPreflight(dev, none), "offering", "ml.g5.xlarge");
    assert.strictEqual(o.status, "blocker");
    assert.match(o.has ?? "", /no quota named "ml\.g5\.xlarge for endpoint usage" in us-east-1/);
  });

  it("blocks a node group type missing from one of the stack's AZs, and warns for a fleet", async () => {
    // moto's us-east-1 offers trn1.32xlarge in us-east-1b, 1c and 1f; three AZs are 1a, 1b, 1c.
    const threeAzs = (r: PlanReport) =>
      withInputs(r, "network-vpc", (i) => (i.numberOfAvailabilityZones = 3));
    const eks = withInputs(
      threeAzs(dev),
      "gpu-nodes",
      (i) => (i.instanceTypes = ["trn1.32xlarge"]),
    );
    const f = one(await runPreflight(eks, clients), "offering", "trn1.32xlarge");
    assert.strictEqual(f.status, "blocker");
    assert.match(f.needs ?? "", /every one of the stack's AZs us-east-1a, us-east-1b, us-east-1c/);
    assert.match(f.fix ?? "", /EKS refuses a node group whose subnets are in us-east-1a/);
    const fleet = withInputs(
      threeAzs(staging),
      "fleet-lt",
      (i) => (i.instanceType = "trn1.32xlarge"),
    );
    const w = one(await runPreflight(fleet, clients), "offering", "trn1.32xlarge");
    assert.strictEqual(w.status, "warning");
    const gone = withInputs(
      dev,
      "gpu-nodes",
      (i) => (i.instanceTypes = ["g5.xlarge", "zz9.xlarge"]),
    );
    const z = one(await runPreflight(gone, clients), "offering", "zz9.xlarge");
    assert.deepStrictEqual([z.status, z.has], ["blocker", "not offered in us-east-1"]);
    assert.strictEqual(one(await runPreflight(dev, clients), "offering", "g5.xlarge").status, "ok");
  });

  it("checks a Karpenter pool: one of its types offered, its vCPUs on each market, and EC2 Spot's service-linked role", async () => {
    const karpenter = await planStack(
      "karpenter",
      path.join(projectRoot(), "examples", "karpenter"),
    );
    const config = parseStackConfig(
      readStackFile("karpenter", path.join(projectRoot(), "examples", "karpenter")),
      "karpenter",
    );
    const first = await runPreflight(karpenter, clients, { config });
    // The pool: g6/g5 xlarge and 2xlarge, limit 2 GPUs, so at most 2 nodes of 8 vCPUs each.
    const offering = one(first, "offering", "gpu-pool");
    assert.strictEqual(offering.status, "ok", JSON.stringify(offering));
    const g = one(first, "quota", /^L-3819A6DF /);
    assert.match(g.needs ?? "", /^16 vCPUs at peak: gpu-pool 2 x g6\.xlarge\|g5\.xlarge/);
    one(first, "quota", /^L-DB2E81BA /);
    // moto's account has never launched spot: the role is missing, and the fix creates it.
    const role = one(first, "spot-role", "AWSServiceRoleForEC2Spot");
    assert.strictEqual(role.status, "blocker");
    assert.strictEqual(
      role.fix,
      "aws iam create-service-linked-role --aws-service-name spot.amazonaws.com",
    );
    // moto names a service-linked role AWSServiceRoleFor<service> ("AWSServiceRoleForspot"), not
    // AWS's name, so the role is made as AWS names it, on the path AWS gives service-linked roles.
    await clients.iam.send(
      new CreateRoleCommand({
        RoleName: "AWSServiceRoleForEC2Spot",
        Path: "/aws-service-role/spot.amazonaws.com/",
        AssumeRolePolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Service: "spot.amazonaws.com" },
              Action: "sts:AssumeRole",
            },
          ],
        }),
      }),
    );
    const after = await runPreflight(karpenter, clients, { config });
    assert.strictEqual(one(after, "spot-role", "AWSServiceRoleForEC2Spot").status, "ok");
    // A pool none of whose types is offered in the stack's AZs is a blocker: moto's us-east-1
    // offers trn1.32xlarge in us-east-1b, 1c and 1f, and a one-AZ VPC is in us-east-1a.
    const oneAz = withInputs(karpenter, "network-vpc", (i) => (i.numberOfAvailabilityZones = 1));
    const nowhere = withInputs(oneAz, "gpu-pool", (i) => {
      const spec = i.spec as {
        template: { spec: { requirements: { key: string; values: string[] }[] } };
      };
      spec.template.spec.requirements[0].values = ["trn1.32xlarge"];
    });
    const blocked = one(await runPreflight(nowhere, clients, { config }), "offering", "gpu-pool");
    assert.strictEqual(blocked.status, "blocker");
    assert.match(blocked.fix ?? "", /allow other families or sizes in the pool/);
    assert.deepStrictEqual(find(await runPreflight(dev, clients), "spot-role", /./), []);
  });

  it("blocks an image missing from the account's ECR unless the deploy brings it", async () => {
    const repo = "ecr-public/nvidia/tritonserver";
    const uri = `${MOTO_ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/${repo}:26.07-py3`;
    const report = withInputs(dev, "triton-release", (i) => {
      (i.values as { image: object }).image = { repository: uri.split(":")[0], tag: "26.07-py3" };
    });
    const missing = one(await runPreflight(report, clients), "image", uri);
    assert.deepStrictEqual([missing.status, missing.source], ["blocker", "ecr:DescribeImages"]);
    assert.match(missing.has ?? "", new RegExp(`no repository ${repo}`));
    const brought = one(
      await runPreflight(report, clients, { deployBrings: { image: (u) => u === uri } }),
      "image",
      uri,
    );
    assert.strictEqual(brought.status, "ok");
    assert.match(brought.has ?? "", /the deploy's image step brings it/);
    await clients.ecr.send(new CreateRepositoryCommand({ repositoryName: repo }));
    const manifest = {
      schemaVersion: 2,
      mediaType: "application/vnd.docker.distribution.manifest.v2+json",
      config: {
        mediaType: "application/vnd.docker.container.image.v1+json",
        size: 1,
        digest: `sha256:${"a".repeat(64)}`,
      },
      layers: [],
    };
    await clients.ecr.send(
      new PutImageCommand({
        repositoryName: repo,
        imageManifest: JSON.stringify(manifest),
        imageTag: "26.07-py3",
      }),
    );
    const untagged = withInputs(dev, "triton-release", (i) => {
      (i.values as { image: object }).image = { repository: uri.split(":")[0] };
    });
    const noTag = one(await runPreflight(untagged, clients), "image", uri.split(":")[0]);
    assert.deepStrictEqual(
      [noTag.status, noTag.fix],
      ["warning", "pin the image's tag in the stack"],
    );
    const elsewhere = one(
      await runPreflight(report, clients, { region: "us-west-2" }),
      "image",
      uri,
    );
    assert.deepStrictEqual(
      [elsewhere.status, elsewhere.has],
      ["warning", "in us-east-1; the preflight reads ECR in us-west-2: not checked"],
    );
    const present = one(await runPreflight(report, clients), "image", uri);
    assert.strictEqual(present.status, "ok");
    assert.match(present.has ?? "", /is present/);
    // The DLC image is AWS's, not checked; nvcr.io's is outside ECR.
    const base = withInputs(
      withInputs(dev, "triton-release", (i) => {
        (i.values as { image: object }).image = {
          repository: "nvcr.io/nvidia/tritonserver",
          tag: "26.07-py3",
        };
      }),
      "chat-llama-model",
      (i) => {
        (i.primaryContainer as { image: string }).image =
          "763104351884.dkr.ecr.us-east-1.amazonaws.com/sagemaker-tritonserver:24.09-py3";
      },
    );
    const result = await runPreflight(base, clients);
    assert.match(one(result, "image", /sagemaker-tritonserver/).has ?? "", /published by AWS/);
    assert.strictEqual(one(result, "image", /^nvcr\.io\/nvidia\/tritonserver/).status, "info");
    // The device plugin, pinned by its published digest, is outside ECR too.
    assert.strictEqual(
      one(result, "image", /^nvcr\.io\/nvidia\/k8s-device-plugin:v0\.17\.1@sha256:/).status,
      "info",
    );
  });

  it("follows an image in a repository the stack creates to its real name in the stack's outputs", async () => {
    const repoId = dev.resources.find((r) => r.name === "registry-triton")!.id!;
    const uri = `${MOTO_ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/${repoId}:own-1`;
    const report = withInputs(dev, "chat-llama-model", (i) => {
      (i.primaryContainer as { image: string }).image = uri;
    });
    const first = one(await runPreflight(report, clients), "image", uri);
    assert.strictEqual(first.status, "blocker");
    assert.match(first.has ?? "", /the foundation step creates the repository \(registry-triton\)/);
    const brings: PreflightOptions = { deployBrings: { image: () => true } };
    assert.strictEqual(one(await runPreflight(report, clients, brings), "image", uri).status, "ok");
    const registryUrls = { triton: `${MOTO_ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/triton-1a2b` };
    await clients.ecr.send(new CreateRepositoryCommand({ repositoryName: "triton-1a2b" }));
    const deployed = one(
      await runPreflight(report, clients, { outputs: { registryUrls } }),
      "image",
      uri,
    );
    assert.strictEqual(deployed.status, "blocker");
    assert.match(deployed.has ?? "", /^triton-1a2b:own-1 in account \d{12} is missing/);
  });

  it("blocks a model missing from the store unless the deploy pushes it", async () => {
    await bucketWith("models-real", ["model-repository/triton/llm/1/model.py"]);
    const outputs = { modelBucketName: "models-real" };
    // dev without hubModel: the LMI chat endpoint reads a Hugging Face snapshot at its prefix,
    // which nothing copies, and there is none (no config.json).
    const config = devWithoutRepositories();
    const r = await runPreflight(dev, clients, { outputs, config });
    const chat = one(r, "model", "endpoint chat/llama");
    assert.strictEqual(chat.status, "blocker");
    assert.strictEqual(
      chat.needs,
      "model-repository/chat/llama/config.json (a Hugging Face model (config.json))",
    );
    assert.strictEqual(
      chat.has,
      "s3://models-real/model-repository/chat/llama/config.json is missing",
    );
    assert.match(
      chat.fix ?? "",
      /^set hubModel on the endpoint so the deploy's model step copies the weights, or upload a Hugging Face snapshot to s3:\/\/models-real\/model-repository\/chat\/llama\/$/,
    );
    // A file below a model's directory is not a model: Triton needs <model>/config.pbtxt.
    const triton = one(r, "model", "triton");
    assert.strictEqual(triton.status, "blocker");
    assert.match(
      triton.fix ?? "",
      /npm run model -- push --stack dev --triton --bucket models-real/,
    );
    const pushed = await runPreflight(dev, clients, {
      outputs,
      config,
      deployBrings: { model: (t) => t === "endpoint chat/llama" },
    });
    assert.strictEqual(one(pushed, "model", "endpoint chat/llama").status, "ok");
    assert.strictEqual(one(pushed, "model", "triton").status, "blocker");
    // An empty account: the store does not exist yet, the foundation step creates it.
    const empty = await runPreflight(dev, clients, {
      config,
      deployBrings: { model: () => true },
    });
    assert.match(
      one(empty, "model", "triton").has ?? "",
      /the foundation step creates the model store/,
    );
    assert.strictEqual(one(empty, "model", "triton").status, "ok");
    const nothing = await runPreflight(dev, clients, { config });
    assert.strictEqual(one(nothing, "model", "triton").status, "blocker");
    const noWeights = one(nothing, "model", "endpoint chat/llama");
    assert.strictEqual(noWeights.status, "blocker");
    assert.match(
      noWeights.fix ?? "",
      /^set hubModel on the endpoint .* or upload a Hugging Face snapshot to s3:\/\/<modelBucketName>\/model-repository\/chat\/llama\/$/,
    );
    // dev as shipped: the deploy pushes models/chat to Triton and copies the chat endpoint's hub
    // weights, whose marker shows the copy is complete.
    const shipped = await runPreflight(dev, clients, { outputs });
    const weights = one(shipped, "model", "endpoint chat/llama");
    assert.deepStrictEqual(
      [weights.status, weights.needs, weights.has],
      [
        "ok",
        "model-repository/chat/llama/.llm-infra-weights.json (the weights of NousResearch/Meta-Llama-3-8B-Instruct (copied by the deploy's weights copy))",
        "not in s3://models-real yet; the deploy's model step copies them",
      ],
    );
    assert.strictEqual(one(shipped, "model", "triton").status, "ok");
    // Once copied, the marker is in the store.
    await clients.s3.send(
      new PutObjectCommand({
        Bucket: "models-real",
        Key: "model-repository/chat/llama/.llm-infra-weights.json",
        Body: "{}",
      }),
    );
    const copied = one(
      await runPreflight(dev, clients, { outputs }),
      "model",
      "endpoint chat/llama",
    );
    assert.deepStrictEqual(
      [copied.status, copied.has],
      ["ok", "s3://models-real/model-repository/chat/llama/.llm-infra-weights.json is present"],
    );
    // Without hubModel, a snapshot's config.json at the prefix is the model LMI serves.
    await clients.s3.send(
      new PutObjectCommand({
        Bucket: "models-real",
        Key: "model-repository/chat/llama/config.json",
        Body: "{}",
      }),
    );
    const uploaded = one(
      await runPreflight(dev, clients, { outputs, config }),
      "model",
      "endpoint chat/llama",
    );
    assert.deepStrictEqual(
      [uploaded.status, uploaded.has],
      ["ok", "s3://models-real/model-repository/chat/llama/config.json is present"],
    );
  });

  it("stops at identity when there are no credentials, with the fix", async () => {
    const sts = new STSClient(motoClientConfig(moto.url));
    mockClient(sts)
      .on(GetCallerIdentityCommand)
      .rejects(
        Object.assign(new Error("Could not load credentials from any providers"), {
          name: "CredentialsProviderError",
        }),
      );
    const r = await runPreflight(dev, { ...clients, sts });
    assert.deepStrictEqual(
      r.findings.map((f) => [f.check, f.status]),
      [["identity", "blocker"]],
    );
    assert.match(r.findings[0].fix ?? "", /aws sts get-caller-identity/);
    assert.strictEqual(r.account, undefined);
    assert.match(formatPreflight(r), /1 blocker\(s\): the account cannot take dev/);
  });

  it("warns, naming the permission, when the caller may not read a quota", async () => {
    const quotas = new ServiceQuotasClient(motoClientConfig(moto.url));
    const denied = Object.assign(new Error("User is not authorized"), {
      name: "AccessDeniedException",
    });
    const m = mockClient(quotas);
    m.on(GetServiceQuotaCommand).rejects(denied);
    m.on(ListServiceQuotasCommand).rejects(denied);
    const r = await runPreflight(dev, { ...clients, quotas }, { config: devWithoutRepositories() });
    const f = one(r, "quota", /^L-3819A6DF /);
    assert.strictEqual(f.status, "warning");
    assert.match(f.has ?? "", /AccessDeniedException: User is not authorized/);
    assert.match(f.fix ?? "", /^grant servicequotas:GetServiceQuota and/);
    assert.strictEqual(one(r, "quota", /ml\.g5\.xlarge for endpoint usage/).status, "warning");
    // The models are still missing (no store yet): the report says so, within 100 columns.
    const text = formatPreflight(r);
    for (const line of text.split("\n")) assert.ok(line.length <= 100, `too wide: ${line}`);
    assert.match(text, /^BLOCKER model: endpoint chat\/llama/m);
  });

  it("warns when AWS_REGION is not the stack's region", async () => {
    const r = await runPreflight(dev, clients, { region: "us-west-2" });
    const f = one(r, "region", "us-west-2");
    assert.deepStrictEqual(
      [f.status, f.needs],
      ["warning", "the stack deploys to us-east-1 (aws:region)"],
    );
  });

  it("exits 2 with one line for usage mistakes", async () => {
    for (const args of [
      ["nope"],
      ["dev", "--bogus"],
      [],
      ["dev", "--outputs", "/nonexistent.json"],
      ["dev", "--outputs", outputsFile([])],
    ]) {
      const r = await run(args);
      assert.strictEqual(r.code, 2, `${args.join(" ")}: ${r.out}${r.err}`);
      assert.strictEqual(r.err.trim().split("\n").length, 1, r.err);
      assert.doesNotMatch(r.err, /\n\s+at /);
      assert.strictEqual(r.out, "");
    }
    assert.match((await run(["nope"])).err, /^error: no stack "nope"/);
  });
});
