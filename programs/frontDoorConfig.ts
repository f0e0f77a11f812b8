/**
 * The `llm-infra:fleet` (Triton on an EC2 fleet) and `llm-infra:api` (the API Gateway front door)
 * config sections.
 *
 * ```yaml
 * llm-infra:fleet: { instanceType: g5.xlarge, minSize: 1, desiredSize: 1, maxSize: 2 }
 * llm-infra:api: { backend: chat }     # a SageMaker endpoint's name, "fleet" or "triton"
 * ```
 */
import {
  acmCertificateArnProblem,
  domainNameProblem,
  imageReferenceProblem,
  webAclArnProblem,
} from "../catalog/awsLimits";
import { validateModelPrefix } from "../components/storage/modelStorePolicies";
import { InferenceApiArgs, validateInferenceApiArgs } from "../components/api/inferenceApi";
import { TritonFleetArgs, validateTritonFleetArgs } from "../components/ec2/tritonFleet";
import { readImageConfig } from "./imageConfig";
import { fromComponent, readSection } from "./configReader";
import { readModel } from "./sagemakerConfig";
import { localRepositoryProblems } from "../modelRepository/local";

export type FleetConfig = Pick<
  TritonFleetArgs,
  | "instanceType"
  | "extraInstanceTypes"
  | "spotPercent"
  | "minSize"
  | "desiredSize"
  | "maxSize"
  | "targetRequestsPerInstance"
  | "utilization"
  | "image"
  | "modelRequirements"
  | "imageFlavour"
  | "imageTag"
> & {
  /** One of llm-infra:storage.repositories: the fleet's image comes from it. */
  ownImageRepository?: string;
  /** The model store prefix of the fleet's model repository. */
  modelPrefix: string;
  /** The local Triton model repository the deploy checks and pushes to `modelPrefix`. */
  modelRepository?: string;
};

export type ApiConfig = Pick<
  InferenceApiArgs,
  | "authentication"
  | "throttleRatePerSecond"
  | "throttleBurst"
  | "monthlyQuota"
  | "accessLogRetentionDays"
  | "domainName"
  | "certificateArn"
  | "webAclArn"
  | "manageAccountLoggingRole"
> & {
  /**
   * A SageMaker endpoint of the stack, `fleet` (Triton on the EC2 fleet) or `triton` (Triton on
   * EKS, through an internal load balancer the stack creates for it).
   */
  backend: string;
};

export function parseFleetConfig(
  raw: unknown,
  ctx: {
    repositoryPrefix: string;
    repositories?: string[];
    /** The project root: `modelRepository` is checked on disk against it (not when absent). */
    root?: string;
  },
  problems: string[],
): FleetConfig | undefined {
  const prefix = "llm-infra:fleet";
  const r = readSection(prefix, raw, problems, [
    "instanceType",
    "extraInstanceTypes",
    "spotPercent",
    "minSize",
    "desiredSize",
    "maxSize",
    "targetRequestsPerInstance",
    "utilization",
    "image",
    "model",
    "modelPrefix",
    "modelRepository",
    "imageFlavour",
    "imageRepository",
    "imageTag",
  ]);
  if (!r) return undefined;
  if (r.value("instanceType") === undefined || r.value("instanceType") === null)
    problems.push(`${r.key("instanceType")} is required (an EC2 instance type such as g5.xlarge)`);
  const config: FleetConfig = {
    instanceType: r.string("instanceType") ?? "",
    extraInstanceTypes: r.strings("extraInstanceTypes"),
    spotPercent: r.number("spotPercent"),
    minSize: r.number("minSize"),
    desiredSize: r.number("desiredSize"),
    maxSize: r.number("maxSize"),
    targetRequestsPerInstance: r.number("targetRequestsPerInstance"),
    utilization: r.number("utilization"),
    image: r.checked("image", imageReferenceProblem),
    modelRequirements: readModel(r, problems),
    modelPrefix: r.checked("modelPrefix", validateModelPrefix) ?? `${ctx.repositoryPrefix}/fleet`,
  };
  const image = readImageConfig(
    r,
    { repositories: ctx.repositories ?? [], checkFlavour: false },
    problems,
  );
  if (image.imageFlavour !== undefined) config.imageFlavour = image.imageFlavour;
  if (image.imageTag !== undefined) config.imageTag = image.imageTag;
  if (image.imageRepository !== undefined) config.ownImageRepository = image.imageRepository;
  // One fleet runs one image: `image` is the whole reference, imageRepository and imageTag name
  // another (imageFlavour still says which backends it has).
  if (config.image !== undefined)
    for (const k of ["imageRepository", "imageTag"])
      r.notWith(k, "with image: the fleet runs one image, and image is all of it");
  const modelRepository = r.string("modelRepository");
  if (modelRepository !== undefined) config.modelRepository = modelRepository;
  if (modelRepository !== undefined && ctx.root !== undefined && config.instanceType !== "")
    for (const p of localRepositoryProblems(ctx.root, modelRepository, {
      flavour: config.imageFlavour ?? "base",
      instanceType: config.instanceType,
      model: config.modelRequirements,
      label: "the fleet",
    }))
      problems.push(`${r.key("modelRepository")} ${p}`);
  problems.push(
    ...fromComponent(
      prefix,
      validateTritonFleetArgs({
        ...config,
        vpcId: "v",
        vpcCidrBlock: "10.0.0.0/16",
        subnetIds: [],
        modelRepositoryUri: "s3://b/p/",
        readPolicyJson: "{}",
        imageRepository: config.ownImageRepository,
      }),
      { modelRequirements: "model" },
    ),
  );
  return config;
}

export function parseApiConfig(
  raw: unknown,
  ctx: {
    endpoints: string[];
    fleet: boolean;
    triton?: boolean;
    asyncEndpoints?: string[];
    /** Endpoints of inference components: a request must name its component. */
    componentEndpoints?: string[];
    region: string;
  },
  problems: string[],
): ApiConfig | undefined {
  const prefix = "llm-infra:api";
  const r = readSection(prefix, raw, problems, [
    "backend",
    "authentication",
    "throttleRatePerSecond",
    "throttleBurst",
    "monthlyQuota",
    "accessLogRetentionDays",
    "domainName",
    "certificateArn",
    "webAclArn",
    "manageAccountLoggingRole",
  ]);
  if (!r) return undefined;
  const backend = r.string("backend") ?? "";
  const allowed = [
    ...ctx.endpoints,
    ...(ctx.fleet ? ["fleet"] : []),
    ...(ctx.triton ? ["triton"] : []),
  ];
  if (r.value("backend") === undefined || r.value("backend") === null) {
    problems.push(
      `${r.key("backend")} is required: a SageMaker endpoint of this stack, "fleet" or "triton" (${allowed.join(", ") || "none defined"})`,
    );
  } else if (!allowed.includes(backend)) {
    problems.push(
      `${r.key("backend")} must name one of llm-infra:sagemaker.endpoints, "fleet" when llm-infra:fleet is set, or "triton" when llm-infra:triton is set (${allowed.join(", ") || "none defined"}), got ${JSON.stringify(backend)}`,
    );
  }
  const config: ApiConfig = {
    backend,
    authentication: r.string("authentication") as ApiConfig["authentication"],
    throttleRatePerSecond: r.number("throttleRatePerSecond"),
    throttleBurst: r.number("throttleBurst"),
    monthlyQuota: r.number("monthlyQuota"),
    accessLogRetentionDays: r.number("accessLogRetentionDays"),
    domainName: r.checked("domainName", domainNameProblem),
    certificateArn: r.checked("certificateArn", (a) => acmCertificateArnProblem(a, ctx.region)),
    webAclArn: r.checked("webAclArn", (a) => webAclArnProblem(a, ctx.region)),
    manageAccountLoggingRole: r.boolean("manageAccountLoggingRole"),
  };
  if (config.authentication === "iam")
    r.notWith("monthlyQuota", "with authentication: iam (quotas belong to API keys' usage plan)");
  if (ctx.asyncEndpoints?.includes(backend)) {
    problems.push(
      `${r.key("backend")} names the async endpoint ${JSON.stringify(backend)}, which the API's synchronous InvokeEndpoint integration cannot call: front a realtime or serverless endpoint (async clients call InvokeEndpointAsync directly)`,
    );
  }
  if (ctx.componentEndpoints?.includes(backend)) {
    problems.push(
      `${r.key("backend")} names ${JSON.stringify(backend)}, an endpoint of inference components, where every request names its component (the InferenceComponentName header), which the API's one-model InvokeEndpoint integration does not send: front a single-model endpoint, or call the component with npm run invoke -- ${backend} --component <name>`,
    );
  }
  problems.push(
    ...fromComponent(prefix, validateInferenceApiArgs({ ...config, sagemakerEndpointName: "e" })),
  );
  return config;
}
