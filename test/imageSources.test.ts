/**
 * Images into the stack's ECR: the image mirror (pull-through cache rules, the CodeBuild copy and
 * build), `llm-infra:images`, the wiring of every workload's image, and the image-source check.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import { PlanReport, planConfig, planStack, readStackFile } from "../offline/plan";
import { CapturedResource } from "../offline/engine";
import { PRIVATE_ENDPOINT_SERVICES } from "../catalog/privateEndpoints";
import {
  checkImageSources,
  pulledImages,
  unwarmedDigests,
  userDataImages,
} from "../checks/imageSources";
import { WHOLE_STACK_POLICIES } from "../policy/wholeStackPolicies";
import { evaluatePolicies } from "../offline/policyEvaluator";
import {
  ImageMirror,
  buildProjectPolicy,
  mirrorBuildspec,
  pullThroughPolicy,
  stepCommand,
  validateImageMirrorArgs,
} from "../components/storage/imageMirror";
import {
  PUBLISHED_DIGESTS,
  deliveryOf,
  parseImageRef,
  pullThroughImage,
} from "../catalog/imageSources";
import { ConfigError, parseStackConfig } from "../programs/config";
import { imagePlan, isNgcTritonTag } from "../programs/imagePlan";
import { imagesDirectory } from "../programs/imagesConfig";
import { STAGING_WITHOUT_CLUSTER, natLess, resourcesOf, ofType, one, withoutKeys } from "./helpers";

type Raw = Record<string, unknown>;
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** A shipped stack's config without NAT gateways, with every endpoint the table can ask for. */
function withoutNat(stack: string, extra: Raw = {}): Raw {
  return { ...natLess(readStackFile(stack), PRIVATE_ENDPOINT_SERVICES), ...extra };
}

function problemsOf(raw: Raw): string[] {
  try {
    parseStackConfig(raw, "test");
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
}

describe("image sources: the catalog", () => {
  it("parses references the way Docker does", () => {
    assert.deepStrictEqual(parseImageRef("nvcr.io/nvidia/tritonserver:26.07-py3"), {
      host: "nvcr.io",
      path: "nvidia/tritonserver",
      tag: "26.07-py3",
    });
    assert.deepStrictEqual(parseImageRef("busybox"), {
      host: "docker.io",
      path: "library/busybox",
      tag: "latest",
    });
    const digest = `sha256:${"a".repeat(64)}`;
    assert.strictEqual(parseImageRef(`quay.io/a/b:1@${digest}`).digest, digest);
  });

  it("caches the registries ECR supports without a credential, and copies the rest", () => {
    assert.strictEqual(
      deliveryOf("registry.k8s.io/metrics-server/metrics-server:v0.7.2"),
      "pull-through",
    );
    assert.strictEqual(deliveryOf("public.ecr.aws/aws-cli/aws-cli:2.27.50"), "pull-through");
    assert.strictEqual(deliveryOf("quay.io/prometheus/node-exporter:v1"), "pull-through");
    assert.strictEqual(deliveryOf("nvcr.io/nvidia/k8s-device-plugin:v0.17.1"), "copy");
    assert.strictEqual(deliveryOf("ghcr.io/kedacore/keda:2.20.2"), "copy");
    assert.strictEqual(deliveryOf("ghcr.io/kedacore/keda:2.20.2", ["ghcr.io"]), "pull-through");
    assert.strictEqual(
      deliveryOf("123456789012.dkr.ecr.us-east-1.amazonaws.com/triton:26.07-py3"),
      "ecr",
    );
    assert.strictEqual(
      pullThroughImage(
        "1.dkr.ecr.r.amazonaws.com",
        "llm-infra-dev",
        "public.ecr.aws/eks/aws-load-balancer-controller:v2.13.3",
      ),
      "1.dkr.ecr.r.amazonaws.com/llm-infra-dev-ecr-public/eks/aws-load-balancer-controller:v2.13.3",
    );
  });
});

describe("ImageMirror", () => {
  const triton = "123456789012.dkr.ecr.us-east-1.amazonaws.com/registry-triton";
  const tritonArn = "arn:aws:ecr:us-east-1:123456789012:repository/registry-triton";

  it("creates pull-through rules, a repository per copied image, and a project outside the VPC", async () => {
    const r = await resourcesOf(async () => {
      new ImageMirror("images", {
        cachePrefix: "llm-infra-dev",
        images: [
          "registry.k8s.io/autoscaling/cluster-autoscaler:v1.35.2",
          "nvcr.io/nvidia/k8s-device-plugin:v0.17.1",
        ],
        copies: [
          {
            source: "nvcr.io/nvidia/tritonserver:26.07-vllm-python-py3",
            targetRepositoryUrl: triton,
            targetRepositoryArn: tritonArn,
          },
        ],
      });
    });
    assert.deepStrictEqual(
      ofType(r, "aws:ecr/pullThroughCacheRule:PullThroughCacheRule").map((x) => [
        x.inputs.ecrRepositoryPrefix,
        x.inputs.upstreamRegistryUrl,
      ]),
      [
        ["llm-infra-dev-ecr-public", "public.ecr.aws"],
        ["llm-infra-dev-k8s", "registry.k8s.io"],
        ["llm-infra-dev-quay", "quay.io"],
      ],
    );
    // What ECR creates under each prefix on a first pull keeps following its upstream (mutable
    // tags) and does not grow without bound.
    const templates = ofType(r, "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate");
    assert.deepStrictEqual(
      templates.map((t) => [t.inputs.prefix, t.inputs.appliedFors, t.inputs.imageTagMutability]),
      [
        ["llm-infra-dev-ecr-public", ["PULL_THROUGH_CACHE"], "MUTABLE"],
        ["llm-infra-dev-k8s", ["PULL_THROUGH_CACHE"], "MUTABLE"],
        ["llm-infra-dev-quay", ["PULL_THROUGH_CACHE"], "MUTABLE"],
      ],
    );
    assert.match(String(templates[0].inputs.lifecyclePolicy), /imageCountMoreThan/);
    // The device plugin (nvcr.io) gets a repository of the mirror; the autoscaler does not.
    assert.deepStrictEqual(
      ofType(r, "aws:ecr/repository:Repository").map((x) => x.name),
      ["images-nvcr-nvidia-k8s-device-plugin"],
    );
    const project = one(r, "aws:codebuild/project:Project");
    assert.strictEqual(project.inputs.vpcConfig, undefined);
    assert.deepStrictEqual(project.inputs.environment, {
      type: "LINUX_CONTAINER",
      computeType: "BUILD_GENERAL1_LARGE",
      image: "aws/codebuild/standard:7.0",
      privilegedMode: true,
    });
    const buildspec = String((project.inputs.source as Raw).buildspec);
    assert.match(buildspec, /docker pull 'nvcr\.io\/nvidia\/tritonserver:26\.07-vllm-python-py3'/);
    assert.match(
      buildspec,
      /docker push '123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com\/registry-triton:26\.07-vllm-python-py3'/,
    );
    assert.match(buildspec, /docker pull 'nvcr\.io\/nvidia\/k8s-device-plugin:v0\.17\.1'/);
    assert.doesNotMatch(buildspec, /cluster-autoscaler/);
    // The role pushes to the copy targets only.
    const policy = JSON.parse(String(one(r, "aws:iam/rolePolicy:RolePolicy").inputs.policy));
    const push = policy.Statement.find((s: Raw) => s.Sid === "PushTargets");
    assert.strictEqual(push.Resource.length, 2);
    assert.ok(push.Resource.includes(tritonArn));
    assert.ok(!policy.Statement.some((s: Raw) => s.Sid === "ReadSources"));
  });

  it("builds a directory of the repository, uploaded as the project's S3 source", async () => {
    const r = await resourcesOf(async () => {
      new ImageMirror("images", {
        cachePrefix: "llm-infra-dev",
        pullThroughUpstreams: [],
        builds: [
          {
            directory: path.join(imagesDirectory(), "triton-python"),
            baseImage: "nvcr.io/nvidia/tritonserver:26.07-py3",
            targetRepositoryUrl: triton,
            targetRepositoryArn: tritonArn,
            tag: "26.07-py3-python1",
          },
        ],
        sourceBucket: { name: "models-bucket", arn: "arn:aws:s3:::models-bucket" },
      });
    });
    assert.strictEqual(ofType(r, "aws:ecr/pullThroughCacheRule:PullThroughCacheRule").length, 0);
    const sources = one(r, "aws:s3/bucketObjectv2:BucketObjectv2");
    assert.strictEqual(sources.inputs.key, "image-build-sources/sources.zip");
    const source = one(r, "aws:codebuild/project:Project").inputs.source as Raw;
    assert.strictEqual(source.type, "S3");
    assert.strictEqual(source.location, "models-bucket/image-build-sources/sources.zip");
    assert.match(
      String(source.buildspec),
      /docker build --build-arg BASE_IMAGE='nvcr\.io\/nvidia\/tritonserver:26\.07-py3' -t '.*registry-triton:26\.07-py3-python1' "\$CODEBUILD_SRC_DIR\/triton-python"/,
    );
    const policy = JSON.parse(String(one(r, "aws:iam/rolePolicy:RolePolicy").inputs.policy));
    assert.deepStrictEqual(
      policy.Statement.find((s: Raw) => s.Sid === "ReadSources").Resource,
      "arn:aws:s3:::models-bucket/image-build-sources/sources.zip",
    );
  });

  it("leaves a tag already in ECR alone (tags are immutable), and logs in to the stack's registry", () => {
    const command = stepCommand({
      kind: "copy",
      source: "nvcr.io/nvidia/tritonserver:26.07-py3",
      target: "1.dkr.ecr.r.amazonaws.com/registry-triton:26.07-py3",
    });
    assert.match(
      command,
      /^if aws ecr describe-images --repository-name 'registry-triton' --image-ids imageTag='26\.07-py3' >\/dev\/null 2>&1; then echo .* else docker pull/,
    );
    assert.match(
      mirrorBuildspec("1.dkr.ecr.r.amazonaws.com", "r", []),
      /aws ecr get-login-password --region r \| docker login --username AWS --password-stdin 1\.dkr\.ecr\.r\.amazonaws\.com/,
    );
  });

  it("warms a digest-pinned image in the cache by tag before anything pulls it by digest, and lets only the build's role do so", async () => {
    const pinned = `registry.k8s.io/metrics-server/metrics-server:v0.7.2@${PUBLISHED_DIGESTS["registry.k8s.io/metrics-server/metrics-server:v0.7.2"]}`;
    let uris: Record<string, string> = {};
    const r = await resourcesOf(() => {
      const m = new ImageMirror("images", { cachePrefix: "p", images: [pinned] });
      m.imageUris.apply((u) => (uris = u));
    });
    const cached =
      "123456789012.dkr.ecr.us-east-1.amazonaws.com/p-k8s/metrics-server/metrics-server";
    assert.strictEqual(uris[pinned], `${cached}:v0.7.2@${parseImageRef(pinned).digest}`);
    const buildspec = String(
      (one(r, "aws:codebuild/project:Project").inputs.source as Raw).buildspec,
    );
    assert.ok(buildspec.includes(`docker pull '${cached}:v0.7.2'`), buildspec);
    const policy = JSON.parse(String(one(r, "aws:iam/rolePolicy:RolePolicy").inputs.policy));
    const warm = policy.Statement.find((st: Raw) => st.Sid === "WarmCache");
    assert.deepStrictEqual([...warm.Resource].sort(), [
      "arn:aws:ecr:us-east-1:123456789012:repository/p-ecr-public/*",
      "arn:aws:ecr:us-east-1:123456789012:repository/p-k8s/*",
      "arn:aws:ecr:us-east-1:123456789012:repository/p-quay/*",
    ]);
    // A tag-only image needs no warming, and its build role gets no cache permissions.
    const plain = await resourcesOf(
      () =>
        new ImageMirror("images", {
          cachePrefix: "p",
          images: ["registry.k8s.io/metrics-server/metrics-server:v0.7.2"],
        }),
    );
    const plainPolicy = JSON.parse(
      String(one(plain, "aws:iam/rolePolicy:RolePolicy").inputs.policy),
    );
    assert.ok(!plainPolicy.Statement.some((st: Raw) => st.Sid === "WarmCache"));
    assert.ok(
      !String(
        (one(plain, "aws:codebuild/project:Project").inputs.source as Raw).buildspec,
      ).includes("docker pull"),
    );
  });

  it("runs the warm step: nothing when the cache holds the digest, a pull by tag otherwise, and a failed build when the cached tag is another digest", () => {
    const digest = `sha256:${"a".repeat(64)}`;
    const command = stepCommand({
      kind: "warm",
      image: "1.dkr.ecr.r.amazonaws.com/p-k8s/metrics-server/metrics-server:v0.7.2",
      digest,
    });
    assert.strictEqual(spawnSync("bash", ["-n", "-c", command]).status, 0);
    /** The command with `aws` and `docker` stand-ins: the cache holds `has`, or nothing. */
    const run = (has: string | undefined, afterPull: string) => {
      const bin = fs.mkdtempSync(path.join(os.tmpdir(), "warm-"));
      const log = path.join(bin, "log");
      const state = path.join(bin, "cached");
      if (has) fs.writeFileSync(state, has);
      fs.writeFileSync(
        path.join(bin, "aws"),
        `#!/bin/bash
echo "aws $*" >> ${log}
cached="$(cat ${state} 2>/dev/null)"
case "$*" in
  *imageDigest=*) [ -n "$cached" ] && [[ "$*" == *"imageDigest=$cached"* ]] ;;
  *imageTag=*) echo "$cached" ;;
esac`,
        { mode: 0o755 },
      );
      fs.writeFileSync(
        path.join(bin, "docker"),
        `#!/bin/bash
echo "docker $*" >> ${log}
[ "$1" = pull ] && printf '%s' '${afterPull}' > ${state}
exit 0`,
        { mode: 0o755 },
      );
      const r = spawnSync("bash", ["-c", command], {
        env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
      });
      const lines = fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [];
      return { status: r.status, out: r.stdout.toString(), lines };
    };
    const cached = run(digest, digest);
    assert.strictEqual(cached.status, 0);
    assert.ok(!cached.lines.some((l) => l.startsWith("docker pull")), cached.lines.join("\n"));
    assert.match(cached.out, /is in the pull-through cache/);
    const fresh = run(undefined, digest);
    assert.strictEqual(fresh.status, 0, fresh.out);
    assert.ok(
      fresh.lines.includes(
        "docker pull 1.dkr.ecr.r.amazonaws.com/p-k8s/metrics-server/metrics-server:v0.7.2",
      ),
    );
    const other = `sha256:${"b".repeat(64)}`;
    const moved = run(undefined, other);
    assert.notStrictEqual(moved.status, 0);
    assert.match(
      moved.out,
      new RegExp(`is ${other} in the pull-through cache, not its publisher's ${digest}`),
    );
  });

  it("gives a first pull through the cache exactly CreateRepository and BatchImportUpstreamImage, on its prefixes", () => {
    assert.deepStrictEqual(pullThroughPolicy("us-east-1", "123456789012", ["p-k8s"]).Statement, [
      {
        Sid: "PullThroughCacheFirstPull",
        Effect: "Allow",
        Action: ["ecr:CreateRepository", "ecr:BatchImportUpstreamImage"],
        Resource: ["arn:aws:ecr:us-east-1:123456789012:repository/p-k8s/*"],
      },
    ]);
    const logs = buildProjectPolicy({
      region: "r",
      accountId: "1",
      projectName: "images-builds-1",
      repositoryArns: ["a", "a"],
    }).Statement[0];
    assert.deepStrictEqual(logs.Resource, [
      "arn:aws:logs:r:1:log-group:/aws/codebuild/images-builds-1",
      "arn:aws:logs:r:1:log-group:/aws/codebuild/images-builds-1:*",
    ]);
  });

  it("refuses what ECR or CodeBuild would refuse, naming the field", () => {
    const reasons = validateImageMirrorArgs({
      cachePrefix: "a-very-long-prefix-for-ecr",
      pullThroughUpstreams: ["ghcr.io"],
      images: ["nvcr.io/nvidia/tritonserver"],
      builds: [
        { directory: "/nowhere", targetRepositoryUrl: "u", targetRepositoryArn: "a", tag: "t" },
      ],
      computeType: "BUILD_GENERAL1_HUGE",
    }).map((e) => e.propertyPath);
    assert.deepStrictEqual(reasons, [
      "cachePrefix",
      "pullThroughUpstreams[0]",
      "images[0]",
      "builds[0].directory",
      "sourceBucket",
      "computeType",
    ]);
  });
});

describe("llm-infra:images", () => {
  it("defaults to ECR without NAT and upstream with NAT, and refuses upstream without NAT", () => {
    assert.strictEqual(parseStackConfig(withoutNat("dev"), "dev").images.source, "ecr");
    assert.strictEqual(parseStackConfig(readStackFile("dev"), "dev").images.source, "upstream");
    assert.deepStrictEqual(
      problemsOf(withoutNat("dev", { "llm-infra:images": { source: "upstream" } })),
      [
        "llm-infra:images.source upstream cannot work: the VPC has no NAT gateway (llm-infra:network.natGateways none), so nodes reach no registry outside AWS; use ecr",
      ],
    );
    assert.deepStrictEqual(
      problemsOf({ ...readStackFile("dev"), "llm-infra:images": { source: "docker" } }),
      ['llm-infra:images.source must be one of ecr, upstream, got "docker"'],
    );
  });

  it("names the key of a bad credential or build", () => {
    assert.deepStrictEqual(
      problemsOf({
        ...readStackFile("dev"),
        "llm-infra:images": {
          upstreamCredentials: {
            "ghcr.io": "arn:aws:secretsmanager:us-east-1:123456789012:secret:gh",
          },
          builds: [{ directory: "nope", repository: "vllm", tag: "t1" }],
        },
      }),
      [
        'llm-infra:images.upstreamCredentials.ghcr.io must be the ARN of a Secrets Manager secret whose name starts with ecr-pullthroughcache/ (ECR\'s pull-through cache reads only those), got "arn:aws:secretsmanager:us-east-1:123456789012:secret:gh"',
        'llm-infra:images.builds[0].directory must be a directory of images/ holding a Dockerfile (triton-python), got "nope"',
        'llm-infra:images.builds[0].repository must name one of llm-infra:storage.repositories (triton), got "vllm"',
      ],
    );
  });

  it("copies an NGC tag a target names in a stack repository, and not a tag the stack builds", () => {
    const raw = readStackFile("dev");
    // A Triton endpoint (dev's ships on LMI, AWS's image): NGC's base Triton in the stack's
    // repository. (NGC's vLLM tags before 25.03 cannot answer on SageMaker and are refused.)
    const endpoints = (raw["llm-infra:sagemaker"] as { endpoints: Raw[] }).endpoints;
    endpoints[0] = {
      name: "chat",
      mode: "async",
      instanceType: "ml.g5.xlarge",
      minInstances: 0,
      maxInstances: 1,
      tritonModelName: "llm",
      imageRepository: "triton",
      imageTag: "24.05-py3",
      inferenceAmiVersion: "al2-ami-sagemaker-inference-gpu-3-1",
    };
    raw["llm-infra:triton"] = {
      ...(raw["llm-infra:triton"] as Raw),
      imageRepository: "triton",
      imageTag: "26.07-py3-python1",
    };
    raw["llm-infra:images"] = {
      builds: [{ directory: "triton-python", repository: "triton", tag: "26.07-py3-python1" }],
    };
    const plan = imagePlan(parseStackConfig(raw, "dev"));
    assert.deepStrictEqual(plan.copies, [
      {
        source: "nvcr.io/nvidia/tritonserver:24.05-py3",
        repository: "triton",
        tag: "24.05-py3",
        usedBy: ["sagemaker.endpoints[chat]"],
      },
    ]);
    assert.deepStrictEqual(plan.workloadImages, []);
    assert.ok(plan.needed);
    assert.ok(isNgcTritonTag("26.07-trtllm-python-py3"));
    assert.ok(!isNgcTritonTag("26.07-py3-python1"));
  });

  it("needs no mirror in the shipped stacks as they are (they have NAT and name no stack image)", async () => {
    for (const stack of ["dev", "staging", "prod"]) {
      const plan = imagePlan(parseStackConfig(readStackFile(stack), stack));
      assert.deepStrictEqual(plan.workloadImages, [], stack);
      // Whatever a shipped stack names in its own repository is copied there by the project.
      const report = await planStack(stack);
      // (The other project of a shipped stack is its weights copy, ModelWeights.)
      const mirrors = report.resources
        .filter((r) => r.type === "llm-infra:index:ImageMirror")
        .map((r) => r.name);
      assert.strictEqual(
        ofType(report.resources, "aws:codebuild/project:Project").filter((p) =>
          mirrors.includes(String(p.parent)),
        ).length,
        plan.needed ? 1 : 0,
        stack,
      );
    }
  });
});

describe("image sources: wiring and the check", function () {
  this.timeout(300_000);
  const reports: Record<string, PlanReport> = {};
  const ecr: Record<string, PlanReport> = {};
  before(async () => {
    for (const stack of ["dev", "staging", "prod"]) {
      reports[stack] = await planStack(stack);
      ecr[stack] = await planConfig(stack, withoutNat(stack));
    }
  });

  it("pull every workload image from ECR in each shipped stack without NAT: the check finds nothing", () => {
    for (const [stack, report] of Object.entries(ecr)) {
      assert.deepStrictEqual(checkImageSources(report.resources), [], stack);
      assert.deepStrictEqual(
        report.policies.filter((p) => p.enforcement === "mandatory"),
        [],
        `${stack} plans clean without NAT`,
      );
    }
    // Not vacuous: prod's add-ons, KEDA, Triton and the sync Job are all looked at.
    const pulled = pulledImages(ecr.prod.resources).map((p) => p.resource);
    for (const r of [
      "addons-nvidia-device-plugin",
      "addons-cluster-autoscaler",
      "addons-aws-load-balancer-controller",
      "addons-metrics-server",
      "metrics-keda",
      "triton-release",
      "model-cache-sync",
    ])
      assert.ok(pulled.includes(r), `${r} pulls an image`);
    const staging = pulledImages(ecr.staging.resources).map((p) => p.resource);
    assert.ok(staging.includes("fleet-lt"), "the fleet's user data is read");
  });

  it("serves each add-on from the cache or a copy, pinned by tag and published digest, with the static instance list", () => {
    const values = (name: string) =>
      one(ecr.prod.resources, "kubernetes:helm.sh/v3:Release", name).inputs.values as Raw;
    const host = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
    assert.deepStrictEqual(values("addons-cluster-autoscaler").image, {
      repository: `${host}/llm-infra-prod-k8s/autoscaling/cluster-autoscaler`,
      tag: `v1.35.2@${PUBLISHED_DIGESTS["registry.k8s.io/autoscaling/cluster-autoscaler:v1.35.2"]}`,
    });
    // A copy is checked against the digest when it is pulled, and referenced by its immutable tag.
    assert.match(String((values("addons-nvidia-device-plugin").image as Raw).tag), /^v0\.17\.1$/);
    assert.strictEqual(
      (values("addons-cluster-autoscaler").extraArgs as Raw)["aws-use-static-instance-list"],
      true,
    );
    assert.deepStrictEqual(values("addons-aws-load-balancer-controller").image, {
      repository: `${host}/llm-infra-prod-ecr-public/eks/aws-load-balancer-controller`,
      tag: "v2.13.3",
    });
    assert.match(
      String((values("addons-nvidia-device-plugin").image as Raw).repository),
      /^123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com\/images-nvcr-nvidia-k8s-device-plugin/,
    );
    const keda = (values("metrics-keda").image as Raw).keda as Raw;
    assert.strictEqual(keda.registry, host);
    assert.strictEqual(keda.tag, "2.20.2");
    const job = one(ecr.prod.resources, "kubernetes:batch/v1:Job");
    assert.strictEqual(
      (((job.inputs.spec as Raw).template as Raw).spec as { containers: Raw[] }).containers[0]
        .image,
      `${host}/llm-infra-prod-ecr-public/aws-cli/aws-cli:2.27.50`,
    );
    // The fleet logs in to ECR and pulls the NGC vLLM image the image step copies into the
    // stack's triton repository.
    const userData = String(
      one(ecr.staging.resources, "aws:ec2/launchTemplate:LaunchTemplate").inputs.userData,
    );
    const [image] = userDataImages(userData);
    assert.match(
      image,
      /^123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com\/registry-triton-\w+:24\.05-vllm-python-py3$/,
    );
    assert.match(
      Buffer.from(userData, "base64").toString(),
      /aws ecr get-login-password --region us-east-1 \| docker login/,
    );
    // The nodes may create the cache's repositories on a first pull.
    const nodes = one(ecr.prod.resources, "aws:iam/rolePolicy:RolePolicy", "images-pull-through");
    assert.match(String(nodes.inputs.policy), /ecr:BatchImportUpstreamImage/);
    // With NAT, the add-ons keep their charts' registries and the autoscaler its dynamic list.
    const prodValues = one(
      reports.prod.resources,
      "kubernetes:helm.sh/v3:Release",
      "addons-cluster-autoscaler",
    ).inputs.values as Raw;
    // The chart's registry, named with the tag and its published digest.
    assert.deepStrictEqual(prodValues.image, {
      repository: "registry.k8s.io/autoscaling/cluster-autoscaler",
      tag: `v1.35.2@${PUBLISHED_DIGESTS["registry.k8s.io/autoscaling/cluster-autoscaler:v1.35.2"]}`,
    });
    const lbc = one(
      reports.prod.resources,
      "kubernetes:helm.sh/v3:Release",
      "addons-aws-load-balancer-controller",
    ).inputs.values as Raw;
    assert.strictEqual(lbc.image, undefined, "no published digest: the chart's default tag");
    assert.strictEqual((prodValues.extraArgs as Raw)["aws-use-static-instance-list"], undefined);
  });

  it("finds an image pulled by digest through the cache that no image build warms first", () => {
    // prod without NAT: the autoscaler and metrics-server come through the k8s cache by digest.
    const pinned = pulledImages(ecr.prod.resources).filter(
      (p) => p.image.includes("/llm-infra-prod-k8s/") && p.image.includes("@sha256:"),
    );
    assert.deepStrictEqual(pinned.map((p) => p.resource).sort(), [
      "addons-cluster-autoscaler",
      "addons-metrics-server",
    ]);
    assert.deepStrictEqual(unwarmedDigests(ecr.prod.resources), []);
    // The same plan with a build that warms nothing.
    const cold = ecr.prod.resources.map((r) =>
      r.type === "aws:codebuild/project:Project"
        ? {
            ...r,
            inputs: { ...r.inputs, source: { type: "NO_SOURCE", buildspec: "version: 0.2" } },
          }
        : r,
    );
    const found = unwarmedDigests(cold);
    assert.deepStrictEqual(
      found.map((f) => f.resource).sort(),
      pinned.map((p) => p.resource).sort(),
    );
    assert.match(
      found[0].message,
      /by digest through the pull-through cache, which does not fetch an uncached image by digest \(aws\/containers-roadmap#2837\)/,
    );
    assert.ok(checkImageSources(cold).some((f) => f.message === found[0].message));
  });

  it("caches ghcr.io through ECR with a credential instead of copying KEDA", async () => {
    const arn =
      "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/ghcr-AbCdEf";
    const report = await planConfig(
      "prod",
      withoutNat("prod", { "llm-infra:images": { upstreamCredentials: { "ghcr.io": arn } } }),
    );
    const github = one(
      report.resources,
      "aws:ecr/pullThroughCacheRule:PullThroughCacheRule",
      "images-github",
    );
    assert.deepStrictEqual(github.inputs, {
      ecrRepositoryPrefix: "llm-infra-prod-github",
      upstreamRegistryUrl: "ghcr.io",
      credentialArn: arn,
    });
    const keda = one(report.resources, "kubernetes:helm.sh/v3:Release", "metrics-keda");
    assert.deepStrictEqual(((keda.inputs.values as Raw).image as Raw).keda, {
      registry: "123456789012.dkr.ecr.us-east-1.amazonaws.com",
      repository: "llm-infra-prod-github/kedacore/keda",
      tag: "2.20.2",
    });
    assert.ok(
      !ofType(report.resources, "aws:ecr/repository:Repository").some((r) =>
        /kedacore/.test(r.name),
      ),
      "no copy of KEDA",
    );
    assert.deepStrictEqual(checkImageSources(report.resources), []);
  });

  it("names each upstream image, what pulls it and the fix when the VPC loses its NAT", async () => {
    const resources: CapturedResource[] = clone(reports.prod.resources);
    const vpc = resources.find((r) => r.type === "awsx:ec2:Vpc")!;
    vpc.inputs.natGateways = { strategy: "None" };
    const findings = checkImageSources(resources);
    assert.deepStrictEqual(findings.map((f) => f.resource).sort(), [
      "addons-aws-load-balancer-controller",
      "addons-cluster-autoscaler",
      "addons-metrics-server",
      "addons-nvidia-device-plugin",
      "metrics-keda",
      "metrics-keda",
      "metrics-keda",
      "model-cache-sync",
    ]);
    assert.strictEqual(
      findings.find((f) => f.resource === "addons-nvidia-device-plugin")?.message,
      "the Helm release addons-nvidia-device-plugin (chart nvidia-device-plugin) pulls nvcr.io/nvidia/k8s-device-plugin:v0.17.1@sha256:af31e2b7c7f89834c4e5219860def7ac2e49a207b3d4e8610d5a26772b7738e5 from outside AWS, which nodes in network-vpc (no NAT gateway) cannot reach: set llm-infra:images.source: ecr (the stack's image mirror then serves it from its ECR), or give the VPC NAT gateways (llm-infra:network.natGateways)",
    );
    // Triton (prod) and the fleet (staging without its cluster, which Karpenter keeps on NAT)
    // run the vLLM image from the stack's own repository.
    const raw = withoutKeys(readStackFile("staging"), ...STAGING_WITHOUT_CLUSTER);
    const staging: CapturedResource[] = clone((await planConfig("staging", raw)).resources);
    staging.find((r) => r.type === "awsx:ec2:Vpc")!.inputs.natGateways = { strategy: "None" };
    assert.deepStrictEqual(checkImageSources(staging), []);
    // A fleet on NGC's own image pulls it from outside AWS.
    const fleet = { ...(raw["llm-infra:fleet"] as Raw) };
    for (const key of ["imageFlavour", "imageRepository", "imageTag", "modelRepository"])
      delete fleet[key];
    const ngc = await planConfig("staging", { ...raw, "llm-infra:fleet": fleet });
    const ngcResources: CapturedResource[] = clone(ngc.resources);
    ngcResources.find((r) => r.type === "awsx:ec2:Vpc")!.inputs.natGateways = { strategy: "None" };
    assert.deepStrictEqual(
      checkImageSources(ngcResources).map((f) => f.message.split(" from outside")[0]),
      ["the user data of launch template fleet-lt pulls nvcr.io/nvidia/tritonserver:24.05-py3"],
    );
  });

  it("does not apply with NAT gateways or without a VPC, and runs as a mandatory stack policy", async () => {
    for (const report of Object.values(reports))
      assert.deepStrictEqual(checkImageSources(report.resources), [], report.stack);
    assert.deepStrictEqual(
      checkImageSources(reports.prod.resources.filter((r) => r.type !== "awsx:ec2:Vpc")),
      [],
    );
    const resources: CapturedResource[] = clone(reports.dev.resources);
    resources.find((r) => r.type === "awsx:ec2:Vpc")!.inputs.natGateways = { strategy: "None" };
    const { verdicts } = await evaluatePolicies(WHOLE_STACK_POLICIES, resources, {
      project: "llm-infra",
      stack: "dev",
    });
    const images = verdicts.filter((v) => v.policy === "images-from-ecr-without-nat");
    assert.ok(images.length >= 4, JSON.stringify(verdicts));
    assert.ok(images.every((v) => v.enforcement === "mandatory"));
  });
});
