/**
 * The stack configuration: Pulumi.<stack>.yaml -> one typed, validated object.
 *
 * Every error names its key and what is allowed, e.g.
 * `llm-infra:network.azCount must be an integer between 2 and 6, got 1`. All errors are collected
 * and reported together. docs/configuration.md documents every key read here.
 */
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import {
  DEFAULT_INTERFACE_ENDPOINTS,
  InferenceVpcArgs,
  InterfaceEndpointService,
  NatGatewayStrategy,
  validateInferenceVpcArgs,
} from "../components/network/inferenceVpc";
import { ModelRegistryArgs, validateModelRegistryArgs } from "../components/storage/modelRegistry";
import { ModelStoreArgs, validateModelStoreArgs } from "../components/storage/modelStore";
import { validateModelPrefix } from "../components/storage/modelStorePolicies";
import { validateModelWeightsArgs } from "../components/storage/modelWeights";
import {
  ipv4CidrProblem,
  regionProblem,
  tagKeyProblem,
  tagValueProblem,
} from "../catalog/awsLimits";
import {
  fromComponent,
  isObject,
  onePerKey,
  readSection,
  SectionReader,
  shown,
} from "./configReader";
import { EndpointConfig, parseSageMakerConfig } from "./sagemakerConfig";
import {
  EksConfig,
  checkNodePools,
  parseEksConfig,
  poolWorkloadsOf,
  usesNodePools,
} from "./eksConfig";
import { TritonConfig, parseTritonConfig } from "./tritonConfig";
import { ApiConfig, FleetConfig, parseApiConfig, parseFleetConfig } from "./frontDoorConfig";
import { MonitoringConfig, parseMonitoringConfig } from "./monitoringConfig";
import { CostConfig, parseCostConfig } from "./costConfig";
import { ImagesConfig, parseImagesConfig } from "./imagesConfig";

export const PROJECT = "llm-infra";

export const Environment = { Dev: "dev", Staging: "staging", Prod: "prod" } as const;
export type Environment = (typeof Environment)[keyof typeof Environment];
const ENVIRONMENTS = Object.values(Environment) as string[];

/** `llm-infra:allowReplace`: names of resources a change may replace or delete. */
export function allowReplaceOf(rawConfig: Record<string, unknown>, problems: string[]): string[] {
  const raw = rawConfig[`${KEY("allowReplace")}`];
  if (raw === undefined) return [];
  if (!Array.isArray(raw) || raw.some((n) => typeof n !== "string" || n === "")) {
    problems.push(
      `${KEY("allowReplace")} must be a list of resource names (as the plan prints them, e.g. [models-bucket]), got ${shown(raw)}`,
    );
    return [];
  }
  return raw as string[];
}

/** The whole stack configuration, validated, with environment defaults filled in. */
export interface StackConfig {
  stack: string;
  environment: Environment;
  region: string;
  /** Cost-allocation tags on every taggable resource: environment, team, cost-center, and extras. */
  tags: Record<string, string>;
  network: Required<
    Pick<
      InferenceVpcArgs,
      | "cidrBlock"
      | "azCount"
      | "natGateways"
      | "interfaceEndpoints"
      | "flowLogs"
      | "flowLogRetentionDays"
    >
  >;
  storage: {
    registry: Required<
      Pick<
        ModelRegistryArgs,
        "repositories" | "immutableTags" | "untaggedImageExpiryDays" | "maxImages"
      >
    >;
    modelStore: Required<
      Pick<ModelStoreArgs, "repositoryPrefix" | "noncurrentVersionExpiryDays" | "accessLogs">
    >;
    /** Keep buckets, keys and registries through a destroy (and protect them). */
    retainOnDelete: boolean;
    /**
     * A Secrets Manager secret holding a Hugging Face token, for the weights copy of gated or
     * private hub models (components/storage/modelWeights.ts); none by default.
     */
    hubTokenSecretArn?: string;
  };
  /** The project root the `modelRepository` directories resolve against, when they were read. */
  root?: string;
  /** SageMaker endpoints (none when the section is absent). */
  sagemaker: { endpoints: EndpointConfig[] };
  /** The EKS platform; absent when the stack has no `llm-infra:eks` section. */
  eks?: EksConfig;
  /** Triton on the EKS cluster; absent without the `llm-infra:triton` section. */
  triton?: TritonConfig;
  /** Triton on an EC2 fleet; absent without `llm-infra:fleet`. */
  fleet?: FleetConfig;
  /** The API Gateway front door; absent without `llm-infra:api`. */
  api?: ApiConfig;
  /** The alarm thresholds of the serving paths and the dashboard. */
  monitoring: MonitoringConfig;
  /** Usage assumptions, Savings Plans and off-hours scale-down (`llm-infra:cost`). */
  cost: CostConfig;
  /** Stateful resources a change may replace or delete (`llm-infra:allowReplace`, read by the plan). */
  allowReplace: string[];
  /** Where workloads pull images from, and the images built in AWS (`llm-infra:images`). */
  images: ImagesConfig;
}

/** Defaults that differ by environment. */
export const ENVIRONMENT_DEFAULTS: Readonly<
  Record<
    Environment,
    {
      azCount: number;
      natGateways: NatGatewayStrategy;
      interfaceEndpoints: InterfaceEndpointService[];
      flowLogRetentionDays: number;
      retainOnDelete: boolean;
    }
  >
> = {
  dev: {
    azCount: 2,
    natGateways: "single",
    interfaceEndpoints: [],
    flowLogRetentionDays: 30,
    retainOnDelete: false,
  },
  staging: {
    azCount: 2,
    natGateways: "single",
    interfaceEndpoints: DEFAULT_INTERFACE_ENDPOINTS,
    flowLogRetentionDays: 90,
    retainOnDelete: false,
  },
  prod: {
    azCount: 3,
    natGateways: "onePerAz",
    interfaceEndpoints: DEFAULT_INTERFACE_ENDPOINTS,
    flowLogRetentionDays: 365,
    retainOnDelete: true,
  },
};

/**
 * Invalid configuration: every problem, each naming its key. A `RunError`, which "can be used for
 * terminating a program abruptly, but resulting in a clean exit rather than the usual verbose
 * unhandled error logic which emits the source program text and complete stack trace"
 * (@pulumi/pulumi@3.248.0 errors.js), so `pulumi preview` and `pulumi up` print the lines alone.
 */
export class ConfigError extends pulumi.RunError {
  constructor(public readonly problems: string[]) {
    super(`invalid stack configuration:\n${problems.map((p) => `  ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

const KEY = (k: string) => `${PROJECT}:${k}`;
const TOP_LEVEL_KEYS = [
  "environment",
  "tags",
  "network",
  "storage",
  "sagemaker",
  "eks",
  "triton",
  "fleet",
  "api",
  "monitoring",
  "cost",
  "images",
  // Read by the plan, not the program: what `plan --against` may replace (offline/changes.ts).
  "allowReplace",
];
/** The keys of each section; tags take any key. */
const SECTION_KEYS: Record<string, string[] | undefined> = {
  network: [
    "cidrBlock",
    "azCount",
    "natGateways",
    "interfaceEndpoints",
    "flowLogs",
    "flowLogRetentionDays",
  ],
  storage: [
    "repositories",
    "immutableTags",
    "untaggedImageExpiryDays",
    "maxImages",
    "repositoryPrefix",
    "noncurrentVersionExpiryDays",
    "accessLogs",
    "retainOnDelete",
    "hubTokenSecretArn",
  ],
};

/** The Levenshtein distance of two short strings. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++)
      current[j] = Math.min(
        previous[j] + 1,
        current[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    previous = current;
  }
  return previous[b.length];
}

/**
 * A namespace that is this project's name misspelled: the same letters with other case or
 * separators (`llm_infra`, `LLM-Infra`, `llminfra`), or two edits away (`llm-infa`, `lm-infra`).
 */
export function nearProjectNamespace(ns: string): boolean {
  const letters = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, "");
  return letters(ns) === letters(PROJECT) || editDistance(ns.toLowerCase(), PROJECT) <= 2;
}

/**
 * Parses the `config:` map of a Pulumi.<stack>.yaml (keys like `aws:region` and
 * `llm-infra:network`, values already decoded from YAML or JSON) into a StackConfig.
 * Throws a ConfigError listing every problem.
 */
export function parseStackConfig(
  raw: Record<string, unknown>,
  stack: string,
  /**
   * The project root, where Pulumi.yaml is: each target's `modelRepository` is a directory under
   * it that must pass `npm run model -- check`. Without it, those directories are not read.
   */
  root?: string,
): StackConfig {
  const problems: string[] = [];

  for (const k of Object.keys(raw)) {
    const [ns, name] = k.split(":");
    if (ns === PROJECT && !TOP_LEVEL_KEYS.includes(name)) {
      problems.push(
        `${/^[\w:@.-]+$/.test(k) ? k : `${PROJECT}:${JSON.stringify(name)}`} is not a known key; allowed: ${TOP_LEVEL_KEYS.map(KEY).join(", ")}`,
      );
    } else if (ns !== PROJECT && name !== undefined && nearProjectNamespace(ns)) {
      // Another namespace belongs to another package (aws:, pulumi:, ...), but one a typo away
      // from ours would be ignored silently: the stack would plan without the user's section.
      problems.push(
        `${/^[\w:@.-]+$/.test(k) ? k : JSON.stringify(k)} is in namespace ${JSON.stringify(ns)}, which is not this project's; did you mean ${PROJECT}:${name}?`,
      );
    }
  }

  const rawRegion = raw["aws:region"];
  const badRegion = regionProblem(rawRegion);
  if (badRegion) problems.push(`aws:region ${badRegion}`);
  // Checks that depend on the region run against us-east-1 when it is wrong: its one line is enough.
  const region = badRegion ? "us-east-1" : (rawRegion as string);

  const env = raw[KEY("environment")];
  if (typeof env !== "string" || !ENVIRONMENTS.includes(env)) {
    problems.push(
      `${KEY("environment")} must be one of ${ENVIRONMENTS.join(", ")}, got ${JSON.stringify(env)}`,
    );
  }
  const environment = (
    typeof env === "string" && ENVIRONMENTS.includes(env) ? env : "dev"
  ) as Environment;
  const defaults = ENVIRONMENT_DEFAULTS[environment];

  const section = (name: string): SectionReader =>
    readSection(KEY(name), raw[KEY(name)] ?? {}, problems, SECTION_KEYS[name]) ??
    new SectionReader(KEY(name), {}, problems);

  // tags: team and costCenter are required; any other string values are added as they are.
  const tagsReader = section("tags");
  const tagValue = (k: string) => tagsReader.checked(k, tagValueProblem);
  const team = tagValue("team");
  const costCenter = tagValue("costCenter");
  if (tagsReader.value("team") === undefined)
    problems.push(`${KEY("tags")}.team is required (the owning team, a cost-allocation tag)`);
  if (tagsReader.value("costCenter") === undefined)
    problems.push(`${KEY("tags")}.costCenter is required (a cost-allocation tag)`);
  const extraTags: Record<string, string> = {};
  const tagValues = isObject(raw[KEY("tags")]) ? (raw[KEY("tags")] as Record<string, unknown>) : {};
  for (const k of Object.keys(tagValues)) {
    if (k === "team" || k === "costCenter") continue;
    const badKey =
      k === "environment" || k === "cost-center"
        ? `is set from ${k === "environment" ? KEY("environment") : `${KEY("tags")}.costCenter`}; remove it`
        : tagKeyProblem(k);
    if (badKey) problems.push(`${tagsReader.key(k)} ${badKey}`);
    const v = tagValue(k);
    if (!badKey && v !== undefined) extraTags[k] = v;
  }
  const net = section("network");
  const network = {
    cidrBlock: net.string("cidrBlock") ?? "10.0.0.0/16",
    azCount: net.number("azCount") ?? defaults.azCount,
    natGateways: (net.string("natGateways") ?? defaults.natGateways) as NatGatewayStrategy,
    interfaceEndpoints: (net.strings("interfaceEndpoints") ??
      defaults.interfaceEndpoints) as InterfaceEndpointService[],
    flowLogs: net.boolean("flowLogs") ?? true,
    flowLogRetentionDays: net.number("flowLogRetentionDays") ?? defaults.flowLogRetentionDays,
  };
  problems.push(...fromComponent(KEY("network"), validateInferenceVpcArgs({ ...network, region })));

  const sto = section("storage");
  const retainOnDelete = sto.boolean("retainOnDelete") ?? defaults.retainOnDelete;
  const registry = {
    repositories: sto.strings("repositories") ?? ["triton"],
    immutableTags: sto.boolean("immutableTags") ?? true,
    untaggedImageExpiryDays: sto.number("untaggedImageExpiryDays") ?? 7,
    maxImages: sto.number("maxImages") ?? 50,
  };
  problems.push(
    ...fromComponent(KEY("storage"), validateModelRegistryArgs({ ...registry, retainOnDelete })),
  );
  const modelStore = {
    repositoryPrefix: sto.checked("repositoryPrefix", validateModelPrefix) ?? "model-repository",
    noncurrentVersionExpiryDays: sto.number("noncurrentVersionExpiryDays") ?? 90,
    accessLogs: sto.boolean("accessLogs") ?? true,
  };
  problems.push(
    ...fromComponent(KEY("storage"), validateModelStoreArgs({ ...modelStore, retainOnDelete })),
  );
  const hubTokenSecretArn = sto.string("hubTokenSecretArn");
  if (hubTokenSecretArn !== undefined)
    problems.push(
      ...fromComponent(
        KEY("storage"),
        validateModelWeightsArgs({
          copies: [{ repoId: "o/n", destinations: ["p"] }],
          bucketName: "",
          bucketArn: "",
          kmsKeyArn: "",
          hubTokenSecretArn,
        }),
      ),
    );

  const endpoints = parseSageMakerConfig(
    raw[KEY("sagemaker")],
    {
      region,
      repositoryPrefix: modelStore.repositoryPrefix,
      repositories: registry.repositories,
      project: PROJECT,
      stack,
      root,
    },
    problems,
  );
  // The endpoint configuration and the inference components are @pulumi/aws-native resources,
  // whose provider reads its own region, `aws-native:region` (@pulumi/aws-native 1.79.0
  // config/vars.js; its ProviderArgs.region is required): it must be the stack's, or the
  // components would be created in another region than the endpoint they belong to.
  const withComponents = endpoints.findIndex((e) => e.components !== undefined);
  if (withComponents >= 0 && !badRegion && raw["aws-native:region"] !== region)
    problems.push(
      `aws-native:region must be ${region}, the stack's aws:region, with inference components (${KEY("sagemaker")}.endpoints[${withComponents}].components are @pulumi/aws-native resources, which read their own region), got ${shown(raw["aws-native:region"] ?? null)}`,
    );

  const eks = parseEksConfig(raw[KEY("eks")], problems, {
    triton: raw[KEY("triton")] !== undefined,
  });
  for (const group of eks?.nodeGroups ?? []) {
    if (endpoints.some((e) => e.name === group.name)) {
      problems.push(
        `${KEY("eks")}.nodeGroups: ${group.name} is also the name of a SageMaker endpoint; component names must be unique`,
      );
    }
  }

  const triton = parseTritonConfig(
    raw[KEY("triton")],
    {
      eks,
      repositoryPrefix: modelStore.repositoryPrefix,
      region,
      repositories: registry.repositories,
      root,
    },
    problems,
  );
  // A pool takes its types from the model of the workload that selects it.
  if (eks && usesNodePools(eks)) checkNodePools(eks, poolWorkloadsOf(triton), problems);
  if (eks?.provisioner === "karpenter") {
    // The controller pulls from public.ecr.aws and calls EC2, SQS, SSM and the pricing API, which
    // the stack's interface endpoints do not all serve.
    if (network.natGateways === "none")
      problems.push(
        `${KEY("eks")}.provisioner karpenter needs a NAT gateway: the controller pulls its image from public.ecr.aws and calls EC2, SQS, SSM and the pricing API; set ${KEY("network")}.natGateways to single or onePerAz, or use provisioner nodeGroups`,
      );
  }
  // Triton on the EFS cache mounts its prefix from what the cache's sync Job copies: the sync
  // prefix must contain it (the same rule `npm run model -- check --triton` applies).
  if (triton?.modelRepositoryMode === "efs" && eks?.modelCache.enabled) {
    const syncPrefix = eks.modelCache.syncPrefix ?? modelStore.repositoryPrefix;
    if (!`${triton.modelPrefix}/`.startsWith(`${syncPrefix}/`))
      problems.push(
        `${KEY("eks")}.modelCache.syncPrefix ${syncPrefix} does not contain ${KEY("triton")}'s model prefix ${triton.modelPrefix}, which Triton mounts from the cache: the sync Job would copy something else; set it to a prefix of ${triton.modelPrefix}`,
      );
  }

  const fleet = parseFleetConfig(
    raw[KEY("fleet")],
    { repositoryPrefix: modelStore.repositoryPrefix, repositories: registry.repositories, root },
    problems,
  );
  const api = parseApiConfig(
    raw[KEY("api")],
    {
      endpoints: endpoints.map((e) => e.name),
      fleet: fleet !== undefined,
      triton: triton !== undefined,
      asyncEndpoints: endpoints.filter((e) => e.mode === "async").map((e) => e.name),
      componentEndpoints: endpoints.filter((e) => e.components).map((e) => e.name),
      region,
    },
    problems,
  );

  // Auto Mode's load balancing replaces the controller the API's TargetGroupBinding is written
  // for (Auto Mode's is eks.amazonaws.com/v1, with a required targetType and a cluster tag on the
  // target group, auto-configure-alb.adoc): not offered on Auto Mode yet.
  const autoMode = eks?.provisioner === "autoMode";
  if (autoMode && api?.backend === "triton")
    problems.push(
      `${KEY("api")}.backend triton is not offered with ${KEY("eks")}.provisioner autoMode yet: the API reaches Triton through a TargetGroupBinding of the load balancer controller, which Auto Mode replaces with its own; use provisioner karpenter, or a SageMaker endpoint or the fleet as backend`,
    );
  // Triton behind the API: the load balancer controller registers its pods in the target group.
  else if (api?.backend === "triton" && eks?.addons.loadBalancerController === false)
    problems.push(
      `${KEY("api")}.backend triton needs ${KEY("eks")}.addons.loadBalancerController (it registers Triton's pods in the API's load balancer through a TargetGroupBinding); remove loadBalancerController: false`,
    );
  const monitoring = parseMonitoringConfig(raw[KEY("monitoring")], problems);
  const cost = parseCostConfig(raw[KEY("cost")], problems);
  // Auto Mode's system nodes are a NodePool, not a node group the schedule scales.
  if (autoMode && cost.offHours?.systemNodes)
    problems.push(
      `${KEY("cost")}.offHours.systemNodes must not be true with ${KEY("eks")}.provisioner autoMode: the system nodes are an Auto Mode node pool, which the schedule (Auto Scaling scheduled actions) cannot scale; remove systemNodes`,
    );
  // Karpenter runs on the system nodes: scaled to zero off hours, nothing would remove the GPU
  // nodes it launched, or launch one for a pod, until the morning.
  if (eks?.provisioner === "karpenter" && cost.offHours?.systemNodes)
    problems.push(
      `${KEY("cost")}.offHours.systemNodes must not be true with ${KEY("eks")}.provisioner karpenter: Karpenter's controller runs on the system nodes, and without it no GPU node is removed or launched off hours; remove systemNodes (the GPU nodes follow Triton's replicas)`,
    );
  const allowReplace = allowReplaceOf(raw, problems);
  const images = parseImagesConfig(
    raw[KEY("images")],
    { withoutNat: network.natGateways === "none", repositories: registry.repositories },
    problems,
  );

  if (problems.length > 0) throw new ConfigError(onePerKey(problems));
  return {
    stack,
    environment,
    region,
    tags: { environment, team: team as string, "cost-center": costCenter as string, ...extraTags },
    network,
    storage: {
      registry,
      modelStore,
      retainOnDelete,
      ...(hubTokenSecretArn !== undefined ? { hubTokenSecretArn } : {}),
    },
    ...(root !== undefined ? { root } : {}),
    sagemaker: { endpoints },
    eks,
    triton,
    fleet,
    api,
    monitoring,
    cost,
    allowReplace,
    images,
  };
}

/** Config values as the Pulumi engine hands them to a program: strings, objects as JSON. */
export function decodeEngineConfig(values: Record<string, string>): Record<string, unknown> {
  const decoded: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) {
    const trimmed = v.trim();
    if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
      try {
        decoded[k] = JSON.parse(trimmed);
        continue;
      } catch {
        // Not JSON after all: keep the string.
      }
    }
    decoded[k] = v;
  }
  return decoded;
}

/**
 * The environment variable through which `npm run deploy` passes its own egress address to the
 * program, for a cluster with `llm-infra:eks.deployerAccess: deployerAddress` (comma-separated
 * IPv4 CIDRs). Unset outside a deploy: the cluster's API is then private.
 */
export const DEPLOYER_CIDRS_ENV = "LLM_INFRA_DEPLOYER_CIDRS";

/** The deployer's CIDRs from the environment; a malformed value is a ConfigError naming it. */
export function deployerCidrsFromEnvironment(env: NodeJS.ProcessEnv = process.env): string[] {
  const raw = env[DEPLOYER_CIDRS_ENV]?.trim();
  if (!raw) return [];
  const cidrs = raw.split(",").map((c) => c.trim());
  const problems = cidrs.flatMap((c) => {
    const why = ipv4CidrProblem(c) ?? (c.endsWith("/0") ? "must not be 0.0.0.0/0" : undefined);
    return why ? [`${DEPLOYER_CIDRS_ENV} ${why}`] : [];
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return cidrs;
}

/**
 * The configuration of the stack the Pulumi engine (or the offline plan) is running. Model
 * repositories resolve against the project's root directory as the engine reports it
 * (`pulumi.getRootDirectory()`, the directory of Pulumi.yaml), or the working directory where the
 * engine reports none (under mocks), which `npm run plan` and `pulumi` both set to the project.
 * A deploy's own address for a private cluster comes from LLM_INFRA_DEPLOYER_CIDRS.
 */
export function loadStackConfig(): StackConfig {
  const reported = pulumi.getRootDirectory();
  const root = reported && fs.existsSync(reported) ? reported : process.cwd();
  const config = parseStackConfig(
    decodeEngineConfig(pulumi.runtime.allConfig()),
    pulumi.getStack(),
    root,
  );
  const deployerCidrs = deployerCidrsFromEnvironment();
  if (deployerCidrs.length === 0 || !config.eks) return config;
  if (config.eks.cluster.deployerAccess !== "deployerAddress")
    throw new ConfigError([
      `${DEPLOYER_CIDRS_ENV} is set, but ${KEY("eks")}.deployerAccess is not deployerAddress: unset it, or set that key`,
    ]);
  return { ...config, eks: { ...config.eks, cluster: { ...config.eks.cluster, deployerCidrs } } };
}
