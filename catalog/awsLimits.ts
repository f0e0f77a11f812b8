/**
 * What AWS (and the OCI registry spec) accept for names the stack file carries straight to an API:
 * regions, tags, ARNs of certificates and web ACLs, domain names, image tags, CIDRs. Each rule
 * cites where it was read. Pure functions: each returns undefined when the value is acceptable, or
 * what is allowed.
 */
import { safeJson } from "./json";

/**
 * The regions of the `aws`, `aws-cn` and `aws-us-gov` partitions, as the AWS SDK for JavaScript
 * v3 lists them: @aws-sdk/core@3.981.1
 * dist-es/submodules/client/util-endpoints/lib/aws/partitions.js (the `regions` of each
 * partition; `test/awsLimits.test.ts` compares this table with that file in node_modules).
 */
export const AWS_REGIONS: readonly string[] = [
  "af-south-1",
  "ap-east-1",
  "ap-east-2",
  "ap-northeast-1",
  "ap-northeast-2",
  "ap-northeast-3",
  "ap-south-1",
  "ap-south-2",
  "ap-southeast-1",
  "ap-southeast-2",
  "ap-southeast-3",
  "ap-southeast-4",
  "ap-southeast-5",
  "ap-southeast-6",
  "ap-southeast-7",
  "ca-central-1",
  "ca-west-1",
  "eu-central-1",
  "eu-central-2",
  "eu-north-1",
  "eu-south-1",
  "eu-south-2",
  "eu-west-1",
  "eu-west-2",
  "eu-west-3",
  "il-central-1",
  "me-central-1",
  "me-south-1",
  "me-west-1",
  "mx-central-1",
  "sa-east-1",
  "sa-west-1",
  "us-east-1",
  "us-east-2",
  "us-west-1",
  "us-west-2",
  "cn-north-1",
  "cn-northwest-1",
  "us-gov-east-1",
  "us-gov-west-1",
];

/** The ARN partition of a region. */
export function partitionOfRegion(region: string): string {
  return region.startsWith("cn-") ? "aws-cn" : region.startsWith("us-gov-") ? "aws-us-gov" : "aws";
}

export function regionProblem(region: unknown): string | undefined {
  if (typeof region === "string" && AWS_REGIONS.includes(region)) return undefined;
  if (region === undefined || region === null)
    return "is required: an AWS region such as us-east-1";
  const area = typeof region === "string" ? region.replace(/-?\d*$/, "") : "";
  const near = AWS_REGIONS.filter((r) => area.length > 1 && r.startsWith(area));
  return `must be an AWS region such as ${(near.length > 0 ? near : ["us-east-1", "eu-west-1"]).join(", ")}, got ${safeJson(region)}`;
}

/**
 * Tag limits common to AWS services (the Tagging documentation repeated by each service, e.g.
 * https://docs.aws.amazon.com/personalize/latest/dg/personalize-managing-tags.html and
 * https://docs.amazonaws.cn/en_us/batch/latest/userguide/tag-restrictions.md): keys 1-128 and values
 * 0-256 Unicode characters; letters, digits, white space and `_ . : / = + - @`; the `aws:` prefix,
 * in any case, is reserved for AWS on keys and values.
 */
export const TAG_KEY_MAX = 128;
export const TAG_VALUE_MAX = 256;
const TAG_CHARACTERS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const TAG_ALLOWED = "letters, digits, spaces and _ . : / = + - @";

export function tagKeyProblem(key: string): string | undefined {
  if (key.length < 1 || key.length > TAG_KEY_MAX)
    return `must be 1-${TAG_KEY_MAX} characters (an AWS tag key), got ${key.length}`;
  if (!TAG_CHARACTERS.test(key)) return `must use only ${TAG_ALLOWED} (an AWS tag key)`;
  if (/^aws:/i.test(key)) return "must not start with aws: (reserved for AWS)";
  return undefined;
}

export function tagValueProblem(value: string): string | undefined {
  if (value.length > TAG_VALUE_MAX)
    return `must be at most ${TAG_VALUE_MAX} characters (an AWS tag value), got ${value.length}`;
  if (!TAG_CHARACTERS.test(value))
    return `must use only ${TAG_ALLOWED} (an AWS tag value), got ${JSON.stringify(value)}`;
  if (/^aws:/i.test(value)) return "must not start with aws: (reserved for AWS)";
  return undefined;
}

const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";

/**
 * An ACM certificate for a regional API Gateway custom domain or an ALB listener:
 * `arn:<partition>:acm:<region>:<account>:certificate/<uuid>` (the form the ACM API documents, e.g.
 * https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/acm/aws.sdk.kotlin.services.acm.model/-describe-certificate-request/certificate-arn.html),
 * in the stack's region: "This certificate must be in the same Region as your API"
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-regional-api-custom-domain-create.html).
 */
export function acmCertificateArnProblem(arn: string, region: string): string | undefined {
  const m = new RegExp(
    `^arn:(aws|aws-cn|aws-us-gov):acm:([a-z0-9-]+):(\\d{12}):certificate/${UUID}$`,
  ).exec(arn);
  const shape = `an ACM certificate ARN arn:${partitionOfRegion(region)}:acm:${region}:<account>:certificate/<id>`;
  if (!m) return `must be ${shape}, got ${JSON.stringify(arn)}`;
  if (m[2] !== region || m[1] !== partitionOfRegion(region))
    return `must be ${shape} (a certificate in the stack's region ${region}), got ${JSON.stringify(arn)}`;
  return undefined;
}

/**
 * A WAFv2 web ACL for an API Gateway stage or an ALB: regional scope, in the stack's region,
 * `arn:<partition>:wafv2:<region>:<account>:regional/webacl/<name>/<id>` (the ARN WAFv2 returns,
 * e.g. the `arn` sample of community.aws's wafv2_web_acl_info module,
 * `arn:aws:wafv2:eu-central-1:11111111:regional/webacl/test05/318c1ab9-...`; a CloudFront-scoped
 * ACL, `global/webacl/...`, cannot be associated with a regional resource). Web ACL names are
 * 1-128 of `[\w-]` (WAFv2 API, CreateWebACL Name pattern `^[\w\-]+$`).
 */
export function webAclArnProblem(arn: string, region: string): string | undefined {
  const m = new RegExp(
    `^arn:(aws|aws-cn|aws-us-gov):wafv2:([a-z0-9-]+):(\\d{12}):regional/webacl/[\\w-]{1,128}/${UUID}$`,
  ).exec(arn);
  const shape = `a regional WAFv2 web ACL ARN arn:${partitionOfRegion(region)}:wafv2:${region}:<account>:regional/webacl/<name>/<id>`;
  if (!m) return `must be ${shape}, got ${JSON.stringify(arn)}`;
  if (m[2] !== region || m[1] !== partitionOfRegion(region))
    return `must be ${shape} (a web ACL in the stack's region ${region}), got ${JSON.stringify(arn)}`;
  return undefined;
}

/**
 * A DNS host name: labels of 1-63 letters, digits and hyphens, not starting or ending with a
 * hyphen, at most 253 characters in all (RFC 1035 section 2.3.1 and 2.3.4, RFC 1123 section 2.1),
 * at least two labels and an alphabetic top-level label; an optional leading `*.` for a wildcard
 * custom domain, which API Gateway accepts for regional domains.
 */
export function domainNameProblem(name: string): string | undefined {
  const bare = name.startsWith("*.") ? name.slice(2) : name;
  const labels = bare.split(".");
  const ok =
    name.length <= 253 &&
    labels.length >= 2 &&
    labels.every((l) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i.test(l)) &&
    /^[a-z]{2,63}$/i.test(labels[labels.length - 1]);
  if (ok) return undefined;
  return `must be a domain name such as api.example.com (labels of 1-63 letters, digits and hyphens, 253 characters at most), got ${JSON.stringify(name)}`;
}

/**
 * An image tag as the OCI distribution spec defines it: "[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}"
 * (opencontainers/distribution-spec spec.md, "Pulling manifests": `<reference>` as a tag).
 */
export function ociTagProblem(tag: string): string | undefined {
  if (/^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/.test(tag)) return undefined;
  return `must be an image tag: 1-128 letters, digits, _ . and -, not starting with . or -, got ${JSON.stringify(tag)}`;
}

/** An IPv4 CIDR `a.b.c.d/n`: four octets of 0-255 and a prefix length of 0-32. */
export function ipv4CidrProblem(cidr: string): string | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (m && m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) <= 32) return undefined;
  return `must be an IPv4 CIDR a.b.c.d/n (octets 0-255, n 0-32), got ${JSON.stringify(cidr)}`;
}

/**
 * A container image reference `[<registry>[:<port>]/]<name>[:<tag>|@sha256:<digest>]`: name
 * components as the OCI distribution spec defines them,
 * "[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*", and a tag as in
 * `ociTagProblem` (opencontainers/distribution-spec spec.md, "Pulling manifests").
 */
export function imageReferenceProblem(ref: string): string | undefined {
  const component = "[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*";
  const registry =
    "(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::\\d{1,5})?/)?";
  const reference = "(?::[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}|@sha256:[a-f0-9]{64})?";
  const re = new RegExp(`^${registry}${component}(?:/${component})*${reference}$`);
  if (ref.length <= 512 && re.test(ref)) return undefined;
  return `must be an image reference such as nvcr.io/nvidia/tritonserver:25.01-py3 (registry, lower-case repository, :tag or @sha256:digest), got ${JSON.stringify(ref)}`;
}
