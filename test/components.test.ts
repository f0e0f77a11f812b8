import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { InferenceVpc, ModelRegistry, ModelStore } from "../components";
import {
  inferenceVpcSettings,
  interfaceEndpointResourceName,
  subnetLayout,
  validateInferenceVpcArgs,
} from "../components/network/inferenceVpc";
import { registryLifecyclePolicy } from "../components/storage/modelRegistry";
import { assertThrowsWith, ofType, one, policyOf, resourcesOf } from "./helpers";

const TAGS = { environment: "test", team: "ml", "cost-center": "1" };

describe("InferenceVpc", () => {
  it("creates an awsx VPC with private and public subnets tagged for load balancer discovery", async () => {
    const res = await resourcesOf(
      () =>
        new InferenceVpc("net", {
          azCount: 3,
          natGateways: "onePerAz",
          clusterName: "gpu",
          tags: TAGS,
        }),
    );
    const vpc = one(res, "awsx:ec2:Vpc", "net-vpc");
    assert.strictEqual(vpc.parent, "net");
    assert.strictEqual(vpc.inputs.numberOfAvailabilityZones, 3);
    assert.deepStrictEqual(vpc.inputs.natGateways, { strategy: "OnePerAz" });
    const [priv, pub] = vpc.inputs.subnetSpecs as Record<string, Record<string, string>>[];
    assert.strictEqual(priv.type, "Private");
    assert.strictEqual(priv.tags["kubernetes.io/role/internal-elb"], "1");
    assert.strictEqual(priv.tags["kubernetes.io/cluster/gpu"], "shared");
    assert.strictEqual(pub.type, "Public");
    assert.strictEqual(pub.tags["kubernetes.io/role/elb"], "1");
    assert.strictEqual(priv.tags.team, "ml");
  });

  it("always adds the S3 gateway endpoint, with route tables filled by awsx", async () => {
    const res = await resourcesOf(() => new InferenceVpc("net", { interfaceEndpoints: [] }));
    const vpc = one(res, "awsx:ec2:Vpc");
    assert.strictEqual(vpc.inputs.vpcEndpointStrategy, "Auto");
    assert.deepStrictEqual(
      (vpc.inputs.vpcEndpointSpecs as Record<string, unknown>[]).map((s) => [
        s.serviceName,
        s.vpcEndpointType,
      ]),
      [["com.amazonaws.us-east-1.s3", "Gateway"]],
    );
    assert.strictEqual(ofType(res, "aws:ec2/vpcEndpoint:VpcEndpoint").length, 0);
    assert.strictEqual(
      ofType(res, "aws:ec2/securityGroup:SecurityGroup").length,
      0,
      "no endpoint security group without endpoints",
    );
  });

  it("creates interface endpoints in every private subnet behind an HTTPS-only security group", async () => {
    const res = await resourcesOf(
      () =>
        new InferenceVpc("net", {
          azCount: 2,
          interfaceEndpoints: ["ecr.api", "sagemaker.runtime"],
        }),
    );
    const sg = one(res, "aws:ec2/securityGroup:SecurityGroup", "net-endpoints");
    assert.deepStrictEqual(sg.inputs.ingress, [
      {
        protocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidrBlocks: ["10.0.0.0/16"],
        description: "HTTPS from the VPC",
      },
    ]);
    const endpoints = ofType(res, "aws:ec2/vpcEndpoint:VpcEndpoint");
    assert.deepStrictEqual(
      endpoints.map((e) => e.inputs.serviceName),
      ["com.amazonaws.us-east-1.ecr.api", "com.amazonaws.us-east-1.sagemaker.runtime"],
    );
    for (const e of endpoints) {
      assert.strictEqual(e.inputs.vpcEndpointType, "Interface");
      assert.strictEqual(e.inputs.privateDnsEnabled, true);
      assert.strictEqual((e.inputs.subnetIds as string[]).length, 2);
      assert.deepStrictEqual(e.inputs.securityGroupIds, [sg.id]);
      assert.match(String(e.inputs.vpcId), /^vpc-[0-9a-f]{17}$/);
    }
  });

  it("sends flow logs to a log group through a role that can write only there", async () => {
    const res = await resourcesOf(() => new InferenceVpc("net", { flowLogRetentionDays: 30 }));
    const group = one(res, "aws:cloudwatch/logGroup:LogGroup");
    const flow = one(res, "aws:ec2/flowLog:FlowLog");
    const role = one(res, "aws:iam/role:Role");
    assert.strictEqual(group.inputs.retentionInDays, 30);
    assert.strictEqual(flow.inputs.trafficType, "ALL");
    assert.match(
      String(flow.inputs.logDestination),
      /^arn:aws:logs:us-east-1:123456789012:log-group:/,
    );
    assert.match(String(flow.inputs.iamRoleArn), /^arn:aws:iam::123456789012:role\//);
    const trust = policyOf(role, "assumeRolePolicy");
    assert.deepStrictEqual(trust.Statement[0].Principal, {
      Service: "vpc-flow-logs.amazonaws.com",
    });
    const policy = policyOf(one(res, "aws:iam/rolePolicy:RolePolicy"));
    assert.deepStrictEqual(policy.Statement[0].Resource, [
      flow.inputs.logDestination,
      `${flow.inputs.logDestination}:*`,
    ]);
  });

  it("creates no flow log resources when flow logs are off", async () => {
    const res = await resourcesOf(() => new InferenceVpc("net", { flowLogs: false }));
    assert.strictEqual(ofType(res, "aws:ec2/flowLog:FlowLog").length, 0);
    assert.strictEqual(ofType(res, "aws:iam/role:Role").length, 0);
  });

  it("sizes subnets from the VPC range so six AZs fit", () => {
    assert.deepStrictEqual(subnetLayout("10.0.0.0/16"), {
      privateCidrMask: 19,
      publicCidrMask: 22,
    });
    assert.deepStrictEqual(subnetLayout("10.1.0.0/20"), {
      privateCidrMask: 23,
      publicCidrMask: 26,
    });
  });

  it("fills in a /16, two AZs, a NAT gateway per AZ, the default endpoints and the stack's region", () => {
    assert.deepStrictEqual(inferenceVpcSettings({}, "eu-west-1"), {
      cidrBlock: "10.0.0.0/16",
      azCount: 2,
      nat: "onePerAz",
      endpoints: ["ecr.api", "ecr.dkr", "sagemaker.runtime", "sts", "logs"],
      layout: { privateCidrMask: 19, publicCidrMask: 22 },
      clusterTag: {},
      region: "eu-west-1",
    });
  });

  it("keeps the range, AZs, NAT, endpoints and region given, and tags subnets for the cluster", () => {
    assert.deepStrictEqual(
      inferenceVpcSettings(
        {
          cidrBlock: "10.1.0.0/20",
          azCount: 3,
          natGateways: "none",
          interfaceEndpoints: ["sts"],
          clusterName: "llm-eks",
          region: "us-west-2",
        },
        "eu-west-1",
      ),
      {
        cidrBlock: "10.1.0.0/20",
        azCount: 3,
        nat: "none",
        endpoints: ["sts"],
        layout: { privateCidrMask: 23, publicCidrMask: 26 },
        clusterTag: { "kubernetes.io/cluster/llm-eks": "shared" },
        region: "us-west-2",
      },
    );
  });

  it("names an interface endpoint after its service, the dot a hyphen", () => {
    assert.strictEqual(interfaceEndpointResourceName("net", "ecr.api"), "net-ecr-api");
    assert.strictEqual(interfaceEndpointResourceName("net", "eks-auth"), "net-eks-auth");
    assert.strictEqual(
      interfaceEndpointResourceName("net", "sagemaker.runtime"),
      "net-sagemaker-runtime",
    );
  });

  it("rejects bad arguments before registering anything, naming every field", async () => {
    let error: Error | undefined;
    const res = await resourcesOf(() => {
      try {
        new InferenceVpc("net", {
          azCount: 1,
          cidrBlock: "10.0.0.0/8",
          natGateways: "many" as "single",
          interfaceEndpoints: ["s3" as "sts"],
          flowLogRetentionDays: 10,
        });
      } catch (e) {
        error = e as Error;
      }
    });
    assert.strictEqual(res.length, 0, "nothing registered");
    assert.ok(pulumi.InputPropertiesError.isInstance(error), "an InputPropertiesError");
    assert.deepStrictEqual(
      error.errors.map((e) => e.propertyPath),
      ["cidrBlock", "azCount", "natGateways", "interfaceEndpoints[0]", "flowLogRetentionDays"],
    );
    assert.match(error.message, /azCount: must be an integer between 2 and 6, got 1/);
    assert.deepStrictEqual(
      validateInferenceVpcArgs({ azCount: 7, region: "us-east-1" }).map((e) => e.reason),
      ["must be an integer between 2 and 6, got 7"],
    );
  });
});

describe("ModelRegistry", () => {
  it("creates scanned, immutable, KMS-encrypted repositories with a lifecycle policy", async () => {
    const res = await resourcesOf(
      () =>
        new ModelRegistry("reg", {
          repositories: ["triton", "vllm"],
          retainOnDelete: false,
          tags: TAGS,
        }),
    );
    const key = one(res, "aws:kms/key:Key", "reg-key");
    assert.strictEqual(key.inputs.enableKeyRotation, true);
    const repos = ofType(res, "aws:ecr/repository:Repository");
    assert.deepStrictEqual(
      repos.map((r) => r.name),
      ["reg-triton", "reg-vllm"],
    );
    for (const repo of repos) {
      assert.strictEqual(repo.inputs.imageTagMutability, "IMMUTABLE");
      assert.deepStrictEqual(repo.inputs.imageScanningConfiguration, { scanOnPush: true });
      assert.deepStrictEqual(repo.inputs.encryptionConfigurations, [
        { encryptionType: "KMS", kmsKey: `arn:aws:kms:us-east-1:123456789012:key/${key.id}` },
      ]);
      assert.strictEqual(repo.inputs.forceDelete, false);
      assert.strictEqual(repo.protect, false);
    }
    const policies = ofType(res, "aws:ecr/lifecyclePolicy:LifecyclePolicy");
    assert.strictEqual(policies.length, 2);
    assert.deepStrictEqual(
      JSON.parse(String(policies[0].inputs.policy)),
      registryLifecyclePolicy(7, 50),
    );
    assert.match(String(policies[0].inputs.repository), /^reg-triton-[0-9a-f]{7}$/);
  });

  it("protects repositories and their key and keeps them on destroy by default", async () => {
    const res = await resourcesOf(() => new ModelRegistry("reg", { repositories: ["triton"] }));
    for (const r of [one(res, "aws:ecr/repository:Repository"), one(res, "aws:kms/key:Key")]) {
      assert.strictEqual(r.protect, true, r.name);
      assert.strictEqual(r.retainOnDelete, true, r.name);
    }
  });

  it("uses the caller's key instead of creating one", async () => {
    const res = await resourcesOf(
      () =>
        new ModelRegistry("reg", {
          repositories: ["triton"],
          kmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/mine",
        }),
    );
    assert.strictEqual(ofType(res, "aws:kms/key:Key").length, 0);
    assert.deepStrictEqual(
      one(res, "aws:ecr/repository:Repository").inputs.encryptionConfigurations,
      [{ encryptionType: "KMS", kmsKey: "arn:aws:kms:us-east-1:123456789012:key/mine" }],
    );
  });

  it("rejects bad names, duplicates, ranges and force-delete of retained repositories", () => {
    assertThrowsWith(
      () =>
        new ModelRegistry("reg", {
          repositories: ["Triton", "vllm", "vllm"],
          untaggedImageExpiryDays: 0,
          maxImages: 5000,
          forceDelete: true,
        }),
      "repositories[0]",
      "repositories[2]: vllm is listed twice",
      "untaggedImageExpiryDays",
      "maxImages",
      "forceDelete",
    );
    assertThrowsWith(
      () => new ModelRegistry("reg", { repositories: [] }),
      "repositories: must list at least one",
    );
  });
});

describe("ModelStore", () => {
  it("creates a versioned, KMS-encrypted, private, TLS-only bucket with logs and lifecycle", async () => {
    const res = await resourcesOf(
      () => new ModelStore("models", { retainOnDelete: false, tags: TAGS }),
    );
    const bucket = one(res, "aws:s3/bucket:Bucket", "models-bucket");
    const logs = one(res, "aws:s3/bucket:Bucket", "models-access-logs");
    const key = one(res, "aws:kms/key:Key");
    const bucketOf = (type: string) =>
      ofType(res, type).find((r) => r.inputs.bucket === bucket.id)!;

    assert.deepStrictEqual(
      bucketOf("aws:s3/bucketVersioning:BucketVersioning").inputs.versioningConfiguration,
      { status: "Enabled" },
    );
    const sse = (
      bucketOf(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
      ).inputs.rules as Record<string, unknown>[]
    )[0];
    assert.deepStrictEqual(sse, {
      applyServerSideEncryptionByDefault: {
        sseAlgorithm: "aws:kms",
        kmsMasterKeyId: `arn:aws:kms:us-east-1:123456789012:key/${key.id}`,
      },
      bucketKeyEnabled: true,
    });
    const pab = bucketOf("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs;
    for (const k of [
      "blockPublicAcls",
      "blockPublicPolicy",
      "ignorePublicAcls",
      "restrictPublicBuckets",
    ])
      assert.strictEqual(pab[k], true, k);
    assert.deepStrictEqual(
      bucketOf("aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs.rule,
      { objectOwnership: "BucketOwnerEnforced" },
    );
    const lifecycle = (
      bucketOf("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs
        .rules as Record<string, unknown>[]
    )[0];
    assert.deepStrictEqual(lifecycle.noncurrentVersionExpiration, { noncurrentDays: 90 });

    const policy = policyOf(bucketOf("aws:s3/bucketPolicy:BucketPolicy"));
    assert.deepStrictEqual(
      policy.Statement.map((s) => [s.Effect, s.Condition]),
      [
        ["Deny", { Bool: { "aws:SecureTransport": "false" } }],
        ["Deny", { NumericLessThan: { "s3:TlsVersion": "1.2" } }],
      ],
    );

    const logging = one(res, "aws:s3/bucketLogging:BucketLogging");
    assert.deepStrictEqual(
      [logging.inputs.bucket, logging.inputs.targetBucket],
      [bucket.id, logs.id],
    );
    const logsSse = (
      ofType(
        res,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
      ).find((r) => r.inputs.bucket === logs.id)!.inputs.rules as Record<
        string,
        Record<string, unknown>
      >[]
    )[0];
    assert.strictEqual(
      logsSse.applyServerSideEncryptionByDefault.sseAlgorithm,
      "AES256",
      "access logs need SSE-S3",
    );
    const logsPolicy = policyOf(
      ofType(res, "aws:s3/bucketPolicy:BucketPolicy").find((r) => r.inputs.bucket === logs.id)!,
    );
    assert.deepStrictEqual(logsPolicy.Statement[0].Condition, {
      ArnLike: { "aws:SourceArn": `arn:aws:s3:::${bucket.id}` },
      StringEquals: { "aws:SourceAccount": "123456789012" },
    });
    assert.strictEqual(bucket.inputs.forceDestroy, false);
  });

  it("keeps the bucket, its key and its logs through a destroy by default", async () => {
    const res = await resourcesOf(() => new ModelStore("models"));
    for (const r of [...ofType(res, "aws:s3/bucket:Bucket"), one(res, "aws:kms/key:Key")]) {
      assert.deepStrictEqual([r.protect, r.retainOnDelete], [true, true], r.name);
    }
  });

  it("has no access log bucket when access logs are off", async () => {
    const res = await resourcesOf(
      () => new ModelStore("models", { accessLogs: false, retainOnDelete: false }),
    );
    assert.strictEqual(ofType(res, "aws:s3/bucket:Bucket").length, 1);
    assert.strictEqual(ofType(res, "aws:s3/bucketLogging:BucketLogging").length, 0);
  });

  it("grants read-only access to one model's prefix and nothing wider", async () => {
    let policy = "";
    let uri = "";
    await resourcesOf(() => {
      const store = new ModelStore("models", { retainOnDelete: false });
      store.readOnlyPolicy("llama3").apply((p) => (policy = p));
      store.modelUri("llama3").apply((u) => (uri = u));
    });
    const doc = JSON.parse(policy) as { Statement: Record<string, unknown>[] };
    const bucketArn = doc.Statement[0].Resource as string;
    assert.match(bucketArn, /^arn:aws:s3:::models-bucket-[0-9a-f]{7}$/);
    assert.deepStrictEqual(
      doc.Statement.map((s) => s.Action),
      ["s3:ListBucket", ["s3:GetObject"], ["kms:Decrypt"]],
    );
    assert.strictEqual(doc.Statement[1].Resource, `${bucketArn}/model-repository/llama3/*`);
    assert.deepStrictEqual(doc.Statement[0].Condition, {
      StringLike: {
        "s3:prefix": [
          "model-repository/llama3",
          "model-repository/llama3/",
          "model-repository/llama3/*",
        ],
      },
    });
    assert.ok(!policy.includes('"*"'), "no wildcard resource");
    assert.strictEqual(
      uri,
      `s3://${bucketArn.slice("arn:aws:s3:::".length)}/model-repository/llama3/`,
    );
  });

  it("grants publishing rights (write, delete, encrypt) under the prefix only", async () => {
    let policy = "";
    await resourcesOf(() => {
      new ModelStore("models", { retainOnDelete: false })
        .readWritePolicy("llama3")
        .apply((p) => (policy = p));
    });
    const doc = JSON.parse(policy) as { Statement: Record<string, unknown>[] };
    assert.ok((doc.Statement[1].Action as string[]).includes("s3:PutObject"));
    assert.match(String(doc.Statement[1].Resource), /\/model-repository\/llama3\/\*$/);
    assert.deepStrictEqual(doc.Statement[2].Action, ["kms:Decrypt", "kms:GenerateDataKey"]);
  });

  it("rejects prefixes that would widen policies, and contradictory options", () => {
    assertThrowsWith(
      () => new ModelStore("m", { repositoryPrefix: "/models" }),
      "repositoryPrefix",
      'must not start with "/"',
    );
    assertThrowsWith(
      () => new ModelStore("m", { repositoryPrefix: "a/*" }),
      "repositoryPrefix",
      '"*"',
    );
    assertThrowsWith(
      () => new ModelStore("m", { forceDestroy: true }),
      "forceDestroy: cannot be true while retainOnDelete",
    );
    assertThrowsWith(
      () => new ModelStore("m", { noncurrentVersionExpiryDays: 0 }),
      "noncurrentVersionExpiryDays",
    );
  });
});
