/**
 * Bad stack files, as a new user writes them: each is a real Pulumi.<stack>.yaml planned by the
 * plan CLI's `main` in this process. Each must exit 2 with one line naming the key the user wrote
 * (or the file's own mistake), never a stack trace, never NaN, never a silent exit 0.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { ConfigError, parseStackConfig } from "../programs/config";
import { main as planMain } from "../scripts/plan";
import { callerPath } from "../scripts/plan";
import { projectRoot } from "../offline/plan";
import { CERT, ECR, FLEET, WAF, baseConfig, set } from "./badStackBase";
import { LLAMA3_8B, copyExampleModels } from "./helpers";

const ng = (...rest: (string | number)[]) => ["llm-infra:eks", "nodeGroups", 0, ...rest];
const ep = (i: number, ...rest: (string | number)[]) => [
  "llm-infra:sagemaker",
  "endpoints",
  i,
  ...rest,
];

/** The classes of the bad-input issue; every one has cases below. */
type Class = "crash" | "unchecked" | "ignored" | "unnamed" | "file";

interface Case {
  class: Class;
  what: string;
  /** Changes to the base config: a path and its new value (undefined deletes). */
  edits?: [(string | number)[], unknown][];
  /** Or the whole file's text. */
  text?: string;
  /** The key the one line must name (or, for a file mistake, what it must say). */
  names: string;
  /** More the line must say. */
  says?: RegExp;
}

const c = (
  cls: Class,
  what: string,
  edits: [(string | number)[], unknown][],
  names: string,
  says?: RegExp,
): Case => ({ class: cls, what, edits, names, says });

const LONG = (n: number) => "k".repeat(n);

/** The chat endpoint on Inferentia2 with the vLLM Neuron image, and one more edit. */
function neuronCases(): Case[] {
  const neuron: [(string | number)[], unknown][] = [
    [ep(0, "instanceType"), "ml.inf2.8xlarge"],
    [ep(0, "tritonModelName"), undefined],
    [ep(0, "image"), "vllm-neuron"],
    [ep(0, "hubModel"), "NousResearch/Meta-Llama-3.1-8B-Instruct"],
  ];
  const on = (what: string, edits: [(string | number)[], unknown][], names: string, says: RegExp) =>
    c("unchecked", `vllm-neuron: ${what}`, [...neuron, ...edits], names, says);
  const model = "llm-infra:sagemaker.endpoints[0].model";
  return [
    on(
      "an 8B model on ml.inf2.xlarge (16 GiB of host memory)",
      [[ep(0, "instanceType"), "ml.inf2.xlarge"]],
      model,
      /pass through host memory .* ml\.inf2\.xlarge has 16 GiB; inf2\.8xlarge \(2 cores\) fits/,
    ),
    on("no model", [[ep(0, "model"), undefined]], model, /is required with image vllm-neuron/),
    on(
      "an instance type with NVIDIA GPUs",
      [[ep(0, "instanceType"), "ml.g5.xlarge"]],
      "llm-infra:sagemaker.endpoints[0].instanceType",
      /needs Neuron devices/,
    ),
    on(
      "fp8 weights",
      [[ep(0, "model", "dtype"), "fp8"]],
      model,
      /compiled from bf16 or fp16 weights, got dtype fp8/,
    ),
    on(
      "no attentionHeads",
      [
        [ep(0, "model", "attentionHeads"), undefined],
        [ep(0, "model", "kvHeads"), undefined],
      ],
      model,
      /attentionHeads is needed/,
    ),
    on(
      "a 70B model, which no Inferentia2 tensor parallel degree holds",
      [
        [ep(0, "instanceType"), "ml.inf2.48xlarge"],
        [
          ep(0, "model"),
          {
            parametersBillions: 70,
            dtype: "bf16",
            contextLength: 4096,
            concurrentSequences: 4,
            layers: 80,
            hiddenSize: 8192,
            attentionHeads: 64,
            kvHeads: 8,
          },
        ],
      ],
      model,
      /8 NeuronCores .* hold 128 GiB; no Inferentia2 type does/,
    ),
  ];
}
/** Stands for `llm-infra-<stack>-chat`, the default SageMaker name of the `chat` endpoint. */
const CHAT_DEFAULT_NAME = "<chat's default name>";

export const CASES: Case[] = [
  // A scalar, an empty list or a wrong shape where a list or a map belongs; prefixes checked only
  // deep in a component: these crashed with a stack trace.
  c(
    "crash",
    "instanceTypes as a scalar",
    [[ng("instanceTypes"), "g5.xlarge"]],
    "llm-infra:eks.nodeGroups[0].instanceTypes",
    /list of at least one string/,
  ),
  c(
    "crash",
    "instanceTypes empty",
    [[ng("instanceTypes"), []]],
    "llm-infra:eks.nodeGroups[0].instanceTypes",
  ),
  c(
    "crash",
    "instanceTypes of numbers",
    [[ng("instanceTypes"), [5]]],
    "llm-infra:eks.nodeGroups[0].instanceTypes",
  ),
  c(
    "crash",
    "instanceTypes missing",
    [[ng("instanceTypes"), undefined]],
    "llm-infra:eks.nodeGroups[0].instanceTypes",
    /at least one instance type/,
  ),
  c(
    "crash",
    "instanceTypes as a map",
    [[ng("instanceTypes"), { a: "g5.xlarge" }]],
    "llm-infra:eks.nodeGroups[0].instanceTypes",
  ),
  c(
    "crash",
    "triton.modelPrefix absolute",
    [[["llm-infra:triton", "modelPrefix"], "/models"]],
    "llm-infra:triton.modelPrefix",
    /must not start with "\/"/,
  ),
  c(
    "crash",
    "triton.modelPrefix with ..",
    [[["llm-infra:triton", "modelPrefix"], "a/../b"]],
    "llm-infra:triton.modelPrefix",
  ),
  c(
    "crash",
    "triton.modelPrefix with *",
    [[["llm-infra:triton", "modelPrefix"], "models/*"]],
    "llm-infra:triton.modelPrefix",
  ),
  c(
    "crash",
    "triton.modelPrefix empty",
    [[["llm-infra:triton", "modelPrefix"], ""]],
    "llm-infra:triton.modelPrefix",
  ),
  c(
    "crash",
    "modelCache.syncPrefix with ..",
    [[["llm-infra:eks", "modelCache", "syncPrefix"], "../x"]],
    "llm-infra:eks.modelCache.syncPrefix",
  ),
  c(
    "crash",
    "modelCache.syncPrefix absolute",
    [[["llm-infra:eks", "modelCache", "syncPrefix"], "/x"]],
    "llm-infra:eks.modelCache.syncPrefix",
  ),
  c(
    "crash",
    "fleet.modelPrefix absolute",
    [[["llm-infra:fleet"], { ...FLEET, modelPrefix: "/x/" }]],
    "llm-infra:fleet.modelPrefix",
  ),
  c(
    "crash",
    "fleet.modelPrefix with a space",
    [[["llm-infra:fleet"], { ...FLEET, modelPrefix: "my models" }]],
    "llm-infra:fleet.modelPrefix",
  ),
  c(
    "crash",
    "storage.repositoryPrefix absolute",
    [[["llm-infra:storage", "repositoryPrefix"], "/a"]],
    "llm-infra:storage.repositoryPrefix",
  ),
  c(
    "crash",
    "storage.repositoryPrefix with a space",
    [[["llm-infra:storage", "repositoryPrefix"], "a b"]],
    "llm-infra:storage.repositoryPrefix",
  ),
  c(
    "crash",
    "publicAccessCidrs as a scalar",
    [[["llm-infra:eks", "publicAccessCidrs"], "1.2.3.4/32"]],
    "llm-infra:eks.publicAccessCidrs",
  ),
  c(
    "crash",
    "interfaceEndpoints as a scalar",
    [[["llm-infra:network", "interfaceEndpoints"], "sts"]],
    "llm-infra:network.interfaceEndpoints",
  ),
  c(
    "crash",
    "repositories as a scalar",
    [[["llm-infra:storage", "repositories"], "triton"]],
    "llm-infra:storage.repositories",
  ),
  c(
    "crash",
    "repositories empty",
    [[["llm-infra:storage", "repositories"], []]],
    "llm-infra:storage.repositories",
  ),
  c(
    "crash",
    "endpoints as a scalar",
    [[["llm-infra:sagemaker", "endpoints"], "chat"]],
    "llm-infra:sagemaker.endpoints",
  ),
  c("crash", "an endpoint as a scalar", [[ep(0), "chat"]], "llm-infra:sagemaker.endpoints[0]"),
  c(
    "crash",
    "nodeGroups as a scalar",
    [[["llm-infra:eks", "nodeGroups"], "gpu"]],
    "llm-infra:eks.nodeGroups",
  ),
  c("crash", "a node group as a list", [[ng(), ["gpu"]]], "llm-infra:eks.nodeGroups[0]"),
  c(
    "crash",
    "extraInstanceTypes as a scalar",
    [[["llm-infra:fleet"], { ...FLEET, extraInstanceTypes: "g5.2xlarge" }]],
    "llm-infra:fleet.extraInstanceTypes",
  ),
  c(
    "crash",
    "adminPrincipalArns as a scalar",
    [[["llm-infra:eks", "adminPrincipalArns"], "arn:aws:iam::123456789012:role/admin"]],
    "llm-infra:eks.adminPrincipalArns",
  ),
  c(
    "crash",
    "an endpoint's model as a list",
    [[ep(0, "model"), [8]]],
    "llm-infra:sagemaker.endpoints[0].model",
  ),
  c(
    "crash",
    "fleet.model as a scalar",
    [[["llm-infra:fleet"], { ...FLEET, model: "llama" }]],
    "llm-infra:fleet.model",
  ),
  c(
    "crash",
    "fleet.model with a string size",
    [
      [
        ["llm-infra:fleet"],
        {
          ...FLEET,
          model: {
            parametersBillions: "8",
            dtype: "bf16",
            contextLength: 8192,
            concurrentSequences: 1,
          },
        },
      ],
    ],
    "llm-infra:fleet.model.parametersBillions",
  ),
  c(
    "crash",
    "addons as a list",
    [[["llm-infra:eks", "addons"], ["nvidiaDevicePlugin"]]],
    "llm-infra:eks.addons",
  ),
  c(
    "crash",
    "modelCache as a boolean",
    [[["llm-infra:eks", "modelCache"], true]],
    "llm-infra:eks.modelCache",
  ),
  c(
    "crash",
    "cost.assumptions as a list",
    [[["llm-infra:cost"], { assumptions: [1] }]],
    "llm-infra:cost.assumptions",
  ),
  c("crash", "tags as a list", [[["llm-infra:tags"], ["ml-platform"]]], "llm-infra:tags"),
  c("crash", "the eks section as a string", [[["llm-infra:eks"], "yes"]], "llm-infra:eks"),
  c("crash", "the api section as a list", [[["llm-infra:api"], ["chat"]]], "llm-infra:api"),

  // Values AWS would refuse, passed through unchecked before.
  c(
    "unchecked",
    "an off-hours timezone abbreviation",
    [[["llm-infra:cost"], { offHours: { timezone: "PST" } }]],
    "llm-infra:cost.offHours.timezone",
    /canonical IANA time zone .*got "PST"/,
  ),
  c(
    "unchecked",
    "an off-hours timezone alias",
    [[["llm-infra:cost"], { offHours: { timezone: "UTC" } }]],
    "llm-infra:cost.offHours.timezone",
    /"UTC" is an alias .*canonical name: Etc\/UTC/,
  ),
  c(
    "unchecked",
    "allowReplace as a string",
    [[["llm-infra:allowReplace"], "models-bucket"]],
    "llm-infra:allowReplace",
    /list of resource names/,
  ),
  c(
    "unchecked",
    "api.certificateArn of another service",
    [
      [
        ["llm-infra:api"],
        { backend: "chat", domainName: "api.example.com", certificateArn: "arn:aws:s3:::bucket" },
      ],
    ],
    "llm-infra:api.certificateArn",
    /ACM certificate ARN/,
  ),
  c(
    "unchecked",
    "api.certificateArn in another region",
    [
      [
        ["llm-infra:api"],
        {
          backend: "chat",
          domainName: "api.example.com",
          certificateArn: CERT.replace("us-east-1", "eu-west-1"),
        },
      ],
    ],
    "llm-infra:api.certificateArn",
    /stack's region us-east-1/,
  ),
  c(
    "unchecked",
    "api.certificateArn without a certificate id",
    [
      [
        ["llm-infra:api"],
        {
          backend: "chat",
          domainName: "api.example.com",
          certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/abc",
        },
      ],
    ],
    "llm-infra:api.certificateArn",
  ),
  c(
    "unchecked",
    "api.certificateArn in the China partition for us-east-1",
    [
      [
        ["llm-infra:api"],
        {
          backend: "chat",
          domainName: "api.example.com",
          certificateArn: CERT.replace("arn:aws:", "arn:aws-cn:"),
        },
      ],
    ],
    "llm-infra:api.certificateArn",
  ),
  c(
    "unchecked",
    "api.webAclArn not an ARN",
    [[["llm-infra:api", "webAclArn"], "my-acl"]],
    "llm-infra:api.webAclArn",
    /regional WAFv2 web ACL ARN/,
  ),
  c(
    "unchecked",
    "api.webAclArn of a CloudFront ACL",
    [[["llm-infra:api", "webAclArn"], WAF.replace("regional/", "global/")]],
    "llm-infra:api.webAclArn",
  ),
  c(
    "unchecked",
    "api.webAclArn in another region",
    [[["llm-infra:api", "webAclArn"], WAF.replace("us-east-1", "us-west-2")]],
    "llm-infra:api.webAclArn",
  ),
  c(
    "unchecked",
    "api.webAclArn of WAF Classic",
    [
      [
        ["llm-infra:api", "webAclArn"],
        "arn:aws:waf-regional:us-east-1:123456789012:webacl/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
      ],
    ],
    "llm-infra:api.webAclArn",
  ),
  c(
    "unchecked",
    "api.webAclArn of another resource type",
    [[["llm-infra:api", "webAclArn"], WAF.replace("webacl", "ipset")]],
    "llm-infra:api.webAclArn",
  ),
  c(
    "unchecked",
    "api.domainName starting with a hyphen",
    [
      [
        ["llm-infra:api"],
        { backend: "chat", domainName: "-api.example.com", certificateArn: CERT },
      ],
    ],
    "llm-infra:api.domainName",
    /domain name/,
  ),
  c(
    "unchecked",
    "api.domainName of one label",
    [[["llm-infra:api"], { backend: "chat", domainName: "localhost", certificateArn: CERT }]],
    "llm-infra:api.domainName",
  ),
  c(
    "unchecked",
    "api.domainName with an empty label",
    [
      [
        ["llm-infra:api"],
        { backend: "chat", domainName: "api..example.com", certificateArn: CERT },
      ],
    ],
    "llm-infra:api.domainName",
  ),
  c(
    "unchecked",
    "api.domainName too long",
    [
      [
        ["llm-infra:api"],
        {
          backend: "chat",
          domainName: `${"a".repeat(60)}.${"b".repeat(60)}.${"c".repeat(60)}.${"d".repeat(60)}.example.com`,
          certificateArn: CERT,
        },
      ],
    ],
    "llm-infra:api.domainName",
  ),
  c(
    "unchecked",
    "api.domainName with an underscore",
    [
      [
        ["llm-infra:api"],
        { backend: "chat", domainName: "api_v1.example.com", certificateArn: CERT },
      ],
    ],
    "llm-infra:api.domainName",
  ),
  c(
    "unchecked",
    "api.domainName as a URL",
    [
      [
        ["llm-infra:api"],
        { backend: "chat", domainName: "https://api.example.com", certificateArn: CERT },
      ],
    ],
    "llm-infra:api.domainName",
  ),
  c(
    "unchecked",
    "cidrBlock with an impossible octet",
    [[["llm-infra:network", "cidrBlock"], "10.999.0.0/16"]],
    "llm-infra:network.cidrBlock",
  ),
  c(
    "unchecked",
    "cidrBlock with a prefix of 33",
    [[["llm-infra:network", "cidrBlock"], "10.0.0.0/33"]],
    "llm-infra:network.cidrBlock",
  ),
  c(
    "unchecked",
    "publicAccessCidrs with an impossible octet",
    [[["llm-infra:eks", "publicAccessCidrs"], ["300.1.1.1/32"]]],
    "llm-infra:eks.publicAccessCidrs[0]",
    /octets 0-255/,
  ),
  c(
    "unchecked",
    "publicAccessCidrs with a prefix of 40",
    [
      [
        ["llm-infra:eks", "publicAccessCidrs"],
        ["203.0.113.0/24", "1.2.3.4/40"],
      ],
    ],
    "llm-infra:eks.publicAccessCidrs[1]",
  ),
  c(
    "unchecked",
    "publicAccessCidrs without a prefix",
    [[["llm-infra:eks", "publicAccessCidrs"], ["1.2.3.4"]]],
    "llm-infra:eks.publicAccessCidrs[0]",
  ),
  c(
    "unchecked",
    "a tag key with the reserved aws: prefix",
    [[["llm-infra:tags", "aws:owner"], "me"]],
    "llm-infra:tags.aws:owner",
    /reserved for AWS/,
  ),
  c(
    "unchecked",
    "a tag key with AWS: in capitals",
    [[["llm-infra:tags", "AWS:owner"], "me"]],
    "llm-infra:tags.AWS:owner",
    /reserved/,
  ),
  c(
    "unchecked",
    "a tag key of 129 characters",
    [[["llm-infra:tags", LONG(129)], "x"]],
    `llm-infra:tags.${LONG(129)}`,
    /1-128 characters/,
  ),
  c(
    "unchecked",
    "a tag value of 257 characters",
    [[["llm-infra:tags", "project"], "v".repeat(257)]],
    "llm-infra:tags.project",
    /at most 256/,
  ),
  c(
    "unchecked",
    "a tag value with the aws: prefix",
    [[["llm-infra:tags", "project"], "aws:thing"]],
    "llm-infra:tags.project",
  ),
  c(
    "unchecked",
    "a tag key with #",
    [[["llm-infra:tags", "cost#center"], "x"]],
    'llm-infra:tags["cost#center"]',
  ),
  c(
    "unchecked",
    "a tag value with <>",
    [[["llm-infra:tags", "project"], "<script>"]],
    "llm-infra:tags.project",
  ),
  c(
    "unchecked",
    "tags.team of 300 characters",
    [[["llm-infra:tags", "team"], "t".repeat(300)]],
    "llm-infra:tags.team",
  ),
  c(
    "unchecked",
    "tags.costCenter with the aws: prefix",
    [[["llm-infra:tags", "costCenter"], "aws:cc"]],
    "llm-infra:tags.costCenter",
  ),
  c(
    "unchecked",
    "an extra tag that overrides environment",
    [[["llm-infra:tags", "environment"], "prod"]],
    "llm-infra:tags.environment",
    /llm-infra:environment/,
  ),
  c(
    "unchecked",
    "an extra tag that overrides cost-center",
    [[["llm-infra:tags", "cost-center"], "x"]],
    "llm-infra:tags.cost-center",
  ),
  c(
    "unchecked",
    "triton.imageTag with a space",
    [[["llm-infra:triton", "imageTag"], "bad tag!"]],
    "llm-infra:triton.imageTag",
    /image tag/,
  ),
  c(
    "unchecked",
    "triton.imageTag starting with a dot",
    [[["llm-infra:triton", "imageTag"], ".hidden"]],
    "llm-infra:triton.imageTag",
  ),
  c(
    "unchecked",
    "triton.imageTag of 129 characters",
    [[["llm-infra:triton", "imageTag"], "t".repeat(129)]],
    "llm-infra:triton.imageTag",
  ),
  c(
    "unchecked",
    "triton.imageTag with a colon",
    [[["llm-infra:triton", "imageTag"], "25.01:py3"]],
    "llm-infra:triton.imageTag",
  ),
  c(
    "unchecked",
    "fleet.image that is not a reference",
    [[["llm-infra:fleet"], { ...FLEET, image: "Not An Image" }]],
    "llm-infra:fleet.image",
    /image reference/,
  ),
  c(
    "unchecked",
    "fleet.image with shell in it",
    [[["llm-infra:fleet"], { ...FLEET, image: "nvcr.io/nvidia/tritonserver:25.01; rm -rf /" }]],
    "llm-infra:fleet.image",
  ),
  c(
    "unchecked",
    "two endpoints with one endpointName",
    [
      [ep(0, "endpointName"), "llm"],
      [ep(1, "endpointName"), "llm"],
    ],
    "llm-infra:sagemaker.endpoints[1].endpointName",
    /llm-infra:sagemaker.endpoints\[0\] already uses/,
  ),
  c(
    "unchecked",
    "an endpointName that another endpoint's default name takes",
    [[ep(1, "endpointName"), CHAT_DEFAULT_NAME]],
    "llm-infra:sagemaker.endpoints[1].endpointName",
  ),
  c(
    "unchecked",
    "a region that does not exist",
    [[["aws:region"], "xx-nowhere-9"]],
    "aws:region",
    /AWS region/,
  ),
  c(
    "unchecked",
    "a region number that does not exist",
    [[["aws:region"], "us-east-7"]],
    "aws:region",
    /us-east-1, us-east-2/,
  ),
  c("unchecked", "a region in capitals", [[["aws:region"], "US-EAST-1"]], "aws:region"),
  c("unchecked", "a region as a number", [[["aws:region"], 1]], "aws:region"),
  c("unchecked", "no region", [[["aws:region"], undefined]], "aws:region"),
  c(
    "unchecked",
    "triton.certificateArn not an ARN",
    [
      [["llm-infra:triton", "ingress"], true],
      [["llm-infra:triton", "certificateArn"], "my-cert"],
    ],
    "llm-infra:triton.certificateArn",
  ),
  c(
    "unchecked",
    "imageUri in another region",
    [[ep(1, "imageUri"), ECR.replace("us-east-1", "eu-west-1")]],
    "llm-infra:sagemaker.endpoints[1].imageUri",
    /stack's region/,
  ),
  c(
    "unchecked",
    "imageUri outside ECR",
    [[ep(1, "imageUri"), "docker.io/library/python:3.12"]],
    "llm-infra:sagemaker.endpoints[1].imageUri",
    /ECR image URI/,
  ),

  // Options of another mode or strategy: refused, not ignored.
  c(
    "ignored",
    "a section under a misspelled namespace (underscore)",
    [[["llm_infra:monitoring"], { alarms: {} }]],
    "llm_infra:monitoring",
    /did you mean llm-infra:monitoring\?/,
  ),
  c(
    "ignored",
    "a section under a misspelled namespace (a letter left out)",
    [[["llm-infa:cost"], { savingsPlans: "none" }]],
    "llm-infa:cost",
    /not this project's; did you mean llm-infra:cost\?/,
  ),
  c(
    "ignored",
    "canaryPercent with rolling",
    [
      [ep(0, "deploymentStrategy"), "rolling"],
      [ep(0, "canaryPercent"), 10],
    ],
    "llm-infra:sagemaker.endpoints[0].canaryPercent",
    /does not apply with deploymentStrategy rolling/,
  ),
  c(
    "ignored",
    "canaryPercent with the default strategy",
    [[ep(0, "canaryPercent"), 10]],
    "llm-infra:sagemaker.endpoints[0].canaryPercent",
    /allAtOnce/,
  ),
  c(
    "ignored",
    "linearStepPercent with canary",
    [
      [ep(0, "deploymentStrategy"), "canary"],
      [ep(0, "linearStepPercent"), 20],
    ],
    "llm-infra:sagemaker.endpoints[0].linearStepPercent",
  ),
  c(
    "ignored",
    "rollingBatchPercent with linear",
    [
      [ep(0, "deploymentStrategy"), "linear"],
      [ep(0, "rollingBatchPercent"), 20],
    ],
    "llm-infra:sagemaker.endpoints[0].rollingBatchPercent",
  ),
  c(
    "ignored",
    "monthlyQuota with IAM authentication",
    [[["llm-infra:api"], { backend: "chat", authentication: "iam", monthlyQuota: 1000 }]],
    "llm-infra:api.monthlyQuota",
    /authentication: iam/,
  ),
  c(
    "ignored",
    "ingressScheme without ingress",
    [[["llm-infra:triton", "ingressScheme"], "internal"]],
    "llm-infra:triton.ingressScheme",
    /without ingress: true/,
  ),
  c(
    "ignored",
    "certificateArn on Triton without ingress",
    [[["llm-infra:triton", "certificateArn"], CERT]],
    "llm-infra:triton.certificateArn",
  ),
  c(
    "ignored",
    "ingressGrpc with ingress false",
    [
      [["llm-infra:triton", "ingress"], false],
      [["llm-infra:triton", "ingressGrpc"], true],
    ],
    "llm-infra:triton.ingressGrpc",
  ),
  c(
    "ignored",
    "imageVersion with imageUri",
    [[ep(1, "imageVersion"), "24.09"]],
    "llm-infra:sagemaker.endpoints[1].imageVersion",
    /with imageUri/,
  ),
  c(
    "ignored",
    "image with imageUri",
    [[ep(1, "image"), "tgi"]],
    "llm-infra:sagemaker.endpoints[1].image",
  ),
  c(
    "ignored",
    "an instance count on serverless",
    [[ep(1, "initialInstanceCount"), 2]],
    "llm-infra:sagemaker.endpoints[1].initialInstanceCount",
  ),
  c(
    "ignored",
    "an async option on real-time",
    [[ep(0, "asyncMaxConcurrentInvocationsPerInstance"), 4]],
    "llm-infra:sagemaker.endpoints[0].asyncMaxConcurrentInvocationsPerInstance",
  ),

  // Refused, but under a component's argument name, with follow-on lines or NaN before.
  c(
    "unnamed",
    "systemNodeCount of 0",
    [[["llm-infra:eks", "systemNodeCount"], 0]],
    "llm-infra:eks.systemNodeCount",
    /between 1 and 1000/,
  ),
  c(
    "unnamed",
    "systemNodeCount of 2000",
    [[["llm-infra:eks", "systemNodeCount"], 2000]],
    "llm-infra:eks.systemNodeCount",
  ),
  c(
    "unnamed",
    "systemNodeCount as a word",
    [[["llm-infra:eks", "systemNodeCount"], "two"]],
    "llm-infra:eks.systemNodeCount",
  ),
  c(
    "unnamed",
    "systemNodeCount of 1.5",
    [[["llm-infra:eks", "systemNodeCount"], 1.5]],
    "llm-infra:eks.systemNodeCount",
  ),
  c(
    "unnamed",
    "a SageMaker type as systemInstanceType",
    [[["llm-infra:eks", "systemInstanceType"], "ml.m5.large"]],
    "llm-infra:eks.systemInstanceType",
  ),
  c(
    "unnamed",
    "an unknown systemInstanceType",
    [[["llm-infra:eks", "systemInstanceType"], "x9.huge"]],
    "llm-infra:eks.systemInstanceType",
  ),
  c(
    "unnamed",
    "tags.team as a number",
    [[["llm-infra:tags", "team"], 5]],
    "llm-infra:tags.team",
    /must be a string/,
  ),
  c(
    "unnamed",
    "no tags.costCenter",
    [[["llm-infra:tags", "costCenter"], undefined]],
    "llm-infra:tags.costCenter",
    /required/,
  ),
  c(
    "unnamed",
    "a node group name with capitals",
    [[ng("name"), "GPU"]],
    "llm-infra:eks.nodeGroups[0].name",
  ),
  c(
    "unnamed",
    "maxSize as a word",
    [[ng("maxSize"), "ten"]],
    "llm-infra:eks.nodeGroups[0].maxSize",
  ),
  c(
    "unnamed",
    "minSize above maxSize",
    [[ng("minSize"), 5]],
    "llm-infra:eks.nodeGroups[0].minSize",
    /must not exceed maxSize/,
  ),
  c(
    "unnamed",
    "desiredSize above maxSize",
    [[ng("desiredSize"), 9]],
    "llm-infra:eks.nodeGroups[0].desiredSize",
  ),
  c(
    "unnamed",
    "capacityType in lower case",
    [[ng("capacityType"), "spot"]],
    "llm-infra:eks.nodeGroups[0].capacityType",
    /ON_DEMAND, SPOT/,
  ),
  c(
    "unnamed",
    "minInstances as a string",
    [[ep(0, "minInstances"), "1"]],
    "llm-infra:sagemaker.endpoints[0].minInstances",
  ),
  c(
    "unnamed",
    "maxInstances below minInstances",
    [[ep(0, "maxInstances"), 0]],
    "llm-infra:sagemaker.endpoints[0].maxInstances",
  ),
  c(
    "unnamed",
    "kubernetesVersion as a number",
    [[["llm-infra:eks", "kubernetesVersion"], 1.3]],
    "llm-infra:eks.kubernetesVersion",
    /quote it in YAML: "1.3"/,
  ),
  c(
    "unnamed",
    "an unknown endpoint instance type",
    [[ep(0, "instanceType"), "ml.g9.xlarge"]],
    "llm-infra:sagemaker.endpoints[0].instanceType",
  ),
  c(
    "unnamed",
    "api without a backend",
    [[["llm-infra:api"], { authentication: "iam" }]],
    "llm-infra:api.backend",
    /required/,
  ),
  c(
    "unnamed",
    "fleet without an instance type",
    [[["llm-infra:fleet"], { minSize: 1 }]],
    "llm-infra:fleet.instanceType",
    /required/,
  ),
  c(
    "unnamed",
    "api.domainName without a certificate",
    [[["llm-infra:api", "domainName"], "api.example.com"]],
    "llm-infra:api.domainName",
    /go together/,
  ),
  c(
    "unnamed",
    "azCount of 1.5",
    [[["llm-infra:network", "azCount"], 1.5]],
    "llm-infra:network.azCount",
  ),
  c(
    "unnamed",
    "triton on a node group that does not exist",
    [[["llm-infra:triton", "nodeGroup"], "cpu"]],
    "llm-infra:triton.nodeGroup",
  ),
  c(
    "unnamed",
    "a misspelled section",
    [[["llm-infra:netwrk"], { azCount: 2 }]],
    "llm-infra:netwrk",
    /not a known key/,
  ),
  c(
    "unnamed",
    "a misspelled key in a section",
    [[["llm-infra:eks", "nodegroups"], []]],
    "llm-infra:eks.nodegroups",
  ),
  c(
    "unnamed",
    "a negative cost assumption",
    [[["llm-infra:cost"], { assumptions: { s3StoredGb: -1 } }]],
    "llm-infra:cost.assumptions.s3StoredGb",
  ),
  c(
    "unnamed",
    "an unknown environment",
    [[["llm-infra:environment"], "qa"]],
    "llm-infra:environment",
  ),
  c(
    "unnamed",
    "serverless memory off the steps",
    [[ep(1, "serverlessMemoryMb"), 1500]],
    "llm-infra:sagemaker.endpoints[1].serverlessMemoryMb",
  ),
  c(
    "unnamed",
    "a neuron group with bottlerocket",
    [
      [
        ["llm-infra:eks", "nodeGroups", 1],
        { name: "neuron", instanceTypes: ["inf2.xlarge"], os: "bottlerocket" },
      ],
    ],
    "llm-infra:eks.nodeGroups[1].os",
  ),

  c(
    "unnamed",
    "manageAccountLoggingRole as a word",
    [[["llm-infra:api", "manageAccountLoggingRole"], "yes"]],
    "llm-infra:api.manageAccountLoggingRole",
    /true or false/,
  ),
  c(
    "unnamed",
    "the API in front of an async endpoint",
    [
      [ep(1), { name: "batch", mode: "async", instanceType: "ml.g5.xlarge", tritonModelName: "m" }],
      [["llm-infra:api", "backend"], "batch"],
    ],
    "llm-infra:api.backend",
    /async endpoint/,
  ),

  c(
    "crash",
    "privateAccessCidrs as a scalar",
    [[["llm-infra:eks", "privateAccessCidrs"], "10.0.0.0/16"]],
    "llm-infra:eks.privateAccessCidrs",
  ),
  c(
    "unchecked",
    "privateAccessCidrs with an impossible octet",
    [
      [
        ["llm-infra:eks", "privateAccessCidrs"],
        ["10.0.0.0/16", "10.300.0.0/16"],
      ],
    ],
    "llm-infra:eks.privateAccessCidrs[1]",
    /octets 0-255/,
  ),
  c(
    "unchecked",
    "privateAccessSecurityGroupIds not a group id",
    [[["llm-infra:eks", "privateAccessSecurityGroupIds"], ["deployer"]]],
    "llm-infra:eks.privateAccessSecurityGroupIds[0]",
  ),
  c(
    "unchecked",
    "triton.hpaMetric custom without the metrics pipeline",
    [[["llm-infra:triton", "hpaMetric"], "custom"]],
    "llm-infra:triton.hpaMetric",
    /needs llm-infra:eks.metrics.enabled: true/,
  ),
  c(
    "unchecked",
    "eks.metrics.scrapeIntervalSeconds under the collector's 30 s",
    [[["llm-infra:eks", "metrics"], { enabled: true, scrapeIntervalSeconds: 10 }]],
    "llm-infra:eks.metrics.scrapeIntervalSeconds",
    /between 30 and 3600/,
  ),
  c(
    "crash",
    "eks.metrics as a string",
    [[["llm-infra:eks", "metrics"], "on"]],
    "llm-infra:eks.metrics",
    /must be a map/,
  ),
  c(
    "unchecked",
    "eks.metrics.enabled not a boolean",
    [[["llm-infra:eks", "metrics"], { enabled: "yes" }]],
    "llm-infra:eks.metrics.enabled",
  ),
  c(
    "ignored",
    "eks.metrics misspelt key",
    [[["llm-infra:eks", "metrics"], { enable: true }]],
    "llm-infra:eks.metrics.enable",
    /not a known key/,
  ),
  c(
    "ignored",
    "scrapeIntervalSeconds without the pipeline",
    [[["llm-infra:eks", "metrics"], { scrapeIntervalSeconds: 60 }]],
    "llm-infra:eks.metrics.scrapeIntervalSeconds",
    /without enabled: true/,
  ),
  c(
    "ignored",
    "targetPendingRequestsPerReplica without the pipeline",
    [[["llm-infra:triton", "targetPendingRequestsPerReplica"], 2]],
    "llm-infra:triton.targetPendingRequestsPerReplica",
    /without llm-infra:eks.metrics.enabled: true/,
  ),
  c(
    "unchecked",
    "targetQueueTimeMilliseconds zero",
    [
      [["llm-infra:eks", "metrics"], { enabled: true }],
      [["llm-infra:triton", "targetQueueTimeMilliseconds"], 0],
    ],
    "llm-infra:triton.targetQueueTimeMilliseconds",
    /above 0/,
  ),
  c(
    "ignored",
    "ingressIdleTimeoutSeconds without ingress",
    [[["llm-infra:triton", "ingressIdleTimeoutSeconds"], 900]],
    "llm-infra:triton.ingressIdleTimeoutSeconds",
    /without ingress: true/,
  ),
  c(
    "unnamed",
    "ingressIdleTimeoutSeconds of 0",
    [
      [["llm-infra:triton", "ingress"], true],
      [["llm-infra:triton", "ingressIdleTimeoutSeconds"], 0],
    ],
    "llm-infra:triton.ingressIdleTimeoutSeconds",
  ),

  // Model, backend and image combinations that cannot serve; a model repository that is not there.
  c(
    "unchecked",
    "modelRepository that does not exist",
    [[ep(0, "modelRepository"), "models/nope"]],
    "llm-infra:sagemaker.endpoints[0].modelRepository",
    /models\/nope does not exist/,
  ),
  c(
    "unchecked",
    "vllm flavour on NGC's base image tag",
    [
      [ep(0, "imageFlavour"), "vllm"],
      [ep(0, "imageRepository"), "triton"],
      [ep(0, "imageTag"), "26.07-py3"],
    ],
    "llm-infra:sagemaker.endpoints[0].imageTag",
    /NGC's base Triton image.*use 26\.07-vllm-python-py3/,
  ),
  c(
    "ignored",
    "imageRepository beside imageUri",
    [[ep(1, "imageRepository"), "triton"]],
    "llm-infra:sagemaker.endpoints[1].imageRepository",
    /an endpoint runs one image/,
  ),
  c(
    "ignored",
    "imageTag without imageRepository",
    [[ep(0, "imageTag"), "26.07-py3"]],
    "llm-infra:sagemaker.endpoints[0].imageTag",
    /without imageRepository/,
  ),
  c(
    "unchecked",
    "neuron flavour on an NVIDIA node group",
    [
      [["llm-infra:triton", "imageFlavour"], "neuron"],
      [["llm-infra:triton", "imageRepository"], "triton"],
      [["llm-infra:triton", "imageTag"], "2.20-neuron"],
    ],
    "llm-infra:triton.imageFlavour",
    /g5\.xlarge has NVIDIA GPUs/,
  ),

  // The file itself.
  {
    class: "file",
    what: "no config: section",
    text: "aws:region: us-east-1\nllm-infra:environment: dev\n",
    names: "config:",
    says: /config keys such as aws:region go under config:/,
  },
  {
    class: "file",
    what: "config: misspelled",
    text: "confg:\n  aws:region: us-east-1\n",
    names: "config:",
    says: /did you mean config:\?/,
  },
  {
    class: "file",
    what: "Config: capitalised",
    text: "Config:\n  aws:region: us-east-1\n",
    names: "config:",
    says: /did you mean config:\?/,
  },
  { class: "file", what: "an empty file", text: "", names: "config:", says: /is empty/ },
  {
    class: "file",
    what: "config: as a list",
    text: "config:\n  - aws:region: us-east-1\n",
    names: "config",
    says: /must be a map/,
  },
  {
    class: "file",
    what: "config: with nothing under it",
    text: "config:\n",
    names: "config",
    says: /must be a map/,
  },
  { class: "file", what: "not YAML", text: "config: {aws:region: [\n", names: "not valid YAML" },
  {
    class: "file",
    what: "a list for a file",
    text: "- config\n",
    names: "config:",
    says: /must be a map/,
  },
  // Inferentia2 with the vLLM Neuron image (catalog/neuron.ts): what the Neuron model cannot be
  // compiled for or loaded on is refused at preview, naming the key.
  ...neuronCases(),
  // Endpoints of inference components (components/sagemaker/componentEndpointArgs.ts).
  ...componentCases(),
];

/** The chat endpoint as an endpoint of inference components, and one more edit. */
function componentCases(): Case[] {
  const endpoint = {
    name: "chat",
    instancePools: ["ml.g6.xlarge", "ml.g5.xlarge"],
    minInstances: 0,
    maxInstances: 1,
    components: [
      {
        name: "llama",
        image: "lmi",
        hubModel: "NousResearch/Meta-Llama-3-8B-Instruct",
        model: { ...LLAMA3_8B, concurrentSequences: 2 },
      },
    ],
  };
  const on = (what: string, edits: [(string | number)[], unknown][], names: string, says: RegExp) =>
    c(
      "unchecked",
      `components: ${what}`,
      [
        [["llm-infra:sagemaker", "endpoints"], [structuredClone(endpoint)]],
        [["aws-native:region"], "us-east-1"],
        ...edits,
      ],
      names,
      says,
    );
  const at = "llm-infra:sagemaker.endpoints[0]";
  return [
    on(
      "components together with a single model",
      [
        [
          ep(0, "model"),
          { parametersBillions: 8, dtype: "bf16", contextLength: 8192, concurrentSequences: 1 },
        ],
      ],
      `${at}.model`,
      /does not apply with components/,
    ),
    on(
      "a component that fits no pool type",
      [[ep(0, "components", 0, "model", "parametersBillions"), 70]],
      `${at}.components[0].model`,
      /needs .* GiB of accelerator memory, more than a whole ml\.g6\.xlarge holds/,
    ),
    on(
      "minCopies above maxCopies",
      [
        [ep(0, "components", 0, "minCopies"), 2],
        [ep(0, "components", 0, "maxCopies"), 1],
      ],
      `${at}.components[0].minCopies`,
      /must not exceed maxCopies \(1\)/,
    ),
    on(
      "six instance pools",
      [
        [
          ep(0, "instancePools"),
          [
            "ml.g6.xlarge",
            "ml.g5.xlarge",
            "ml.g5.2xlarge",
            "ml.g6.2xlarge",
            "ml.g6e.xlarge",
            "ml.g5.4xlarge",
          ],
        ],
      ],
      `${at}.instancePools`,
      /must list 1 to 5 instance types/,
    ),
    on(
      "an async endpoint with components",
      [[ep(0, "mode"), "async"]],
      `${at}.mode`,
      /must be realtime with components/,
    ),
    on(
      "a serverless endpoint with components",
      [[ep(0, "mode"), "serverless"]],
      `${at}.mode`,
      /must be realtime with components/,
    ),
    on(
      "no instance pools",
      [[ep(0, "instancePools"), undefined]],
      `${at}.instancePools`,
      /is required with components/,
    ),
    on(
      "no aws-native:region",
      [
        [["aws-native:region"], undefined],
        // The base stack's API fronts chat, which an endpoint of components refuses on its own.
        [["llm-infra:api"], undefined],
      ],
      "aws-native:region",
      /must be us-east-1, the stack's aws:region, with inference components/,
    ),
  ];
}

/** Writes each case's stack file into one directory as Pulumi.case-<n>.yaml. */
function writeCases(dir: string): string[] {
  return CASES.map((k, i) => {
    const stack = `case-${String(i).padStart(3, "0")}`;
    let text = k.text;
    if (text === undefined) {
      const config = baseConfig();
      for (const [keys, value] of k.edits ?? [])
        set(config, keys, value === CHAT_DEFAULT_NAME ? `llm-infra-${stack}-chat` : value);
      text = YAML.stringify({ config });
    }
    fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), text);
    return stack;
  });
}

async function plan(args: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await planMain(args, {
    out: (s) => void (stdout += s),
    err: (s) => void (stderr += s),
  });
  return { code, stdout, stderr };
}

describe("bad stack files: every mistake exits 2 with one line naming the key", function () {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "llm-infra-bad-"));
  const stacks = writeCases(dir);

  it("has at least 100 cases covering every class of the issue", () => {
    assert.ok(CASES.length >= 100, `${CASES.length} cases`);
    const classes = new Set(CASES.map((k) => k.class));
    assert.deepStrictEqual([...classes].sort(), [
      "crash",
      "file",
      "ignored",
      "unchecked",
      "unnamed",
    ]);
    // docs/verification.md states how many there are.
    const stated = /bad input: (\d+) bad stack files/.exec(
      fs.readFileSync(path.join(projectRoot(), "docs", "verification.md"), "utf8"),
    );
    assert.strictEqual(Number(stated?.[1]), CASES.length, "docs/verification.md's count");
  });

  it("the base stack the cases break plans clean, serverless endpoint with its own image included", async () => {
    fs.writeFileSync(path.join(dir, "Pulumi.base.yaml"), YAML.stringify({ config: baseConfig() }));
    const { code, stdout, stderr } = await plan(["base", "--dir", dir, "--json"]);
    assert.strictEqual(code, 0, stderr);
    const report = JSON.parse(stdout) as {
      resources: { type: string; name: string; inputs: Record<string, unknown> }[];
    };
    const spiky = report.resources.find(
      (r) =>
        r.type === "aws:sagemaker/endpointConfiguration:EndpointConfiguration" &&
        r.name === "spiky-config",
    );
    assert.ok(spiky, "the serverless endpoint's configuration");
    const variant = (spiky.inputs.productionVariants as Record<string, unknown>[])[0];
    assert.deepStrictEqual(
      (variant.serverlessConfig as Record<string, unknown>).memorySizeInMb,
      6144,
    );
    const model = report.resources.find(
      (r) => r.type === "aws:sagemaker/model:Model" && r.name === "spiky-model",
    );
    assert.strictEqual((model?.inputs.primaryContainer as Record<string, unknown>).image, ECR);
  });

  CASES.forEach((k, i) => {
    it(`${k.class}: ${k.what} -> ${k.names.length > 60 ? `${k.names.slice(0, 60)}...` : k.names}`, async () => {
      const { code, stdout, stderr } = await plan([stacks[i], "--dir", dir]);
      assert.strictEqual(code, 2, `exit ${code}: ${stderr}`);
      assert.strictEqual(stdout, "");
      assert.doesNotMatch(stderr, /NaN|\n\s+at |Error:|undefined/, stderr);
      const lines = stderr.trimEnd().split("\n");
      // One mistake, one line: the usage line, or the config header and one problem under it.
      const problems = lines[0] === "error: invalid stack configuration:" ? lines.slice(1) : lines;
      assert.strictEqual(problems.length, 1, stderr);
      const line = problems[0].replace(/^(error: | {2})/, "");
      if (k.text === undefined)
        assert.ok(line.startsWith(`${k.names} `), `expected ${k.names} first in: ${line}`);
      else assert.ok(line.includes(k.names), `expected ${k.names} in: ${line}`);
      if (k.says) assert.match(line, k.says);
    });
  });
});

describe("plan CLI: --dir", () => {
  it("exits 2 with one line when --dir does not exist or is a file", async () => {
    const missing = path.join(os.tmpdir(), "llm-infra-no-such-dir");
    const none = await plan(["dev", "--dir", missing]);
    assert.strictEqual(none.code, 2);
    assert.strictEqual(
      none.stderr,
      `error: ${missing} does not exist: give the directory that holds Pulumi.<stack>.yaml\n`,
    );
    const file = path.join(projectRoot(), "Pulumi.dev.yaml");
    const notDir = await plan(["dev", "--dir", file]);
    assert.strictEqual(notDir.code, 2);
    assert.match(notDir.stderr, /^error: .*Pulumi\.dev\.yaml is not a directory/);
  });

  it("resolves a relative --dir against the caller's directory (npm's INIT_CWD), not the package", () => {
    assert.strictEqual(
      callerPath("stacks", { INIT_CWD: "/home/me/infra" }, "/pkg"),
      "/home/me/infra/stacks",
    );
    assert.strictEqual(callerPath("stacks", {}, "/home/me/infra"), "/home/me/infra/stacks");
    assert.strictEqual(callerPath("/abs/stacks", { INIT_CWD: "/home/me" }, "/pkg"), "/abs/stacks");
  });
});

describe("policy: spot capacity for prod serving", () => {
  it("refuses a prod stack whose GPU node group runs on spot, naming the policy (exit 1)", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "llm-infra-spot-"));
    const prod = fs.readFileSync(path.join(projectRoot(), "Pulumi.prod.yaml"), "utf8");
    const spot = prod.replace(
      "instanceTypes: [g5.2xlarge]",
      "instanceTypes: [g5.2xlarge]\n        capacityType: SPOT",
    );
    assert.notStrictEqual(spot, prod);
    fs.writeFileSync(path.join(dir, "Pulumi.prod.yaml"), spot);
    copyExampleModels(dir);
    const { code, stderr } = await plan(["prod", "--dir", dir]);
    assert.strictEqual(code, 1, stderr);
    assert.match(
      stderr,
      /^error: on-demand-for-prod-serving \(mandatory\) on gpu-nodes: gpu-nodes serves on spot capacity/m,
    );
  });
});

describe("config errors under the Pulumi CLI", () => {
  it("are RunErrors, which the Pulumi runtime prints without a stack trace", () => {
    let caught: unknown;
    try {
      parseStackConfig({ "aws:region": "us-east-1" }, "dev");
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof ConfigError);
    assert.ok(pulumi.RunError.isInstance(caught));
  });
});
