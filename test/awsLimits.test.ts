import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import {
  AWS_REGIONS,
  acmCertificateArnProblem,
  domainNameProblem,
  imageReferenceProblem,
  ipv4CidrProblem,
  ociTagProblem,
  regionProblem,
  tagKeyProblem,
  tagValueProblem,
  webAclArnProblem,
} from "../catalog/awsLimits";
import { projectRoot } from "../offline/plan";

const ID = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";

describe("AWS limits", () => {
  it("lists the regions of the aws, aws-cn and aws-us-gov partitions exactly as the installed AWS SDK does", () => {
    const file = path.join(
      projectRoot(),
      "node_modules/@aws-sdk/core/dist-es/submodules/client/util-endpoints/lib/aws/partitions.js",
    );
    const text = fs.readFileSync(file, "utf8");
    const json = text.slice(text.indexOf("{"), text.lastIndexOf("}") + 1);
    const { partitions } = JSON.parse(json) as {
      partitions: { id: string; regions: Record<string, unknown> }[];
    };
    const sdk = partitions
      .filter((p) => ["aws", "aws-cn", "aws-us-gov"].includes(p.id))
      .flatMap((p) => Object.keys(p.regions))
      .filter((r) => !r.endsWith("-global"));
    assert.deepStrictEqual([...AWS_REGIONS].sort(), sdk.sort());
  });

  it("accepts real regions and names near ones for a wrong one", () => {
    assert.strictEqual(regionProblem("eu-central-2"), undefined);
    assert.strictEqual(regionProblem("us-gov-west-1"), undefined);
    assert.match(regionProblem("eu-central-9")!, /such as eu-central-1, eu-central-2, got/);
    assert.match(regionProblem(undefined)!, /is required/);
    assert.match(regionProblem(42)!, /got 42/);
  });

  it("holds tag keys to 128 characters and values to 256, AWS's characters, and no aws: prefix", () => {
    assert.strictEqual(tagKeyProblem("k".repeat(128)), undefined);
    assert.match(tagKeyProblem("k".repeat(129))!, /1-128/);
    assert.strictEqual(tagKeyProblem("team/owner:ml @x+y=z_w.v-u"), undefined);
    assert.strictEqual(tagKeyProblem("équipe"), undefined);
    assert.match(tagKeyProblem("cost#center")!, /letters, digits/);
    assert.match(tagKeyProblem("Aws:x")!, /reserved/);
    assert.strictEqual(tagValueProblem(""), undefined);
    assert.strictEqual(tagValueProblem("v".repeat(256)), undefined);
    assert.match(tagValueProblem("v".repeat(257))!, /at most 256/);
    assert.match(tagValueProblem("aws:x")!, /reserved/);
  });

  it("takes ACM certificate and WAFv2 web ACL ARNs of the stack's region only", () => {
    const cert = `arn:aws:acm:eu-west-1:123456789012:certificate/${ID}`;
    assert.strictEqual(acmCertificateArnProblem(cert, "eu-west-1"), undefined);
    assert.match(acmCertificateArnProblem(cert, "us-east-1")!, /stack's region us-east-1/);
    assert.match(acmCertificateArnProblem(cert.replace("acm", "iam"), "eu-west-1")!, /ACM/);
    const cn = `arn:aws-cn:acm:cn-north-1:123456789012:certificate/${ID}`;
    assert.strictEqual(acmCertificateArnProblem(cn, "cn-north-1"), undefined);
    const acl = `arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/api-acl/${ID}`;
    assert.strictEqual(webAclArnProblem(acl, "eu-west-1"), undefined);
    assert.match(webAclArnProblem(acl, "eu-west-2")!, /stack's region/);
    assert.match(webAclArnProblem(acl.replace("regional", "global"), "eu-west-1")!, /regional/);
  });

  it("takes domain names of DNS labels, a wildcard first label included", () => {
    for (const ok of ["api.example.com", "*.example.com", "a-b.c1.example.io"])
      assert.strictEqual(domainNameProblem(ok), undefined, ok);
    for (const bad of ["example", "-a.example.com", "a-.example.com", "a..com", "a.example.c0m"])
      assert.ok(domainNameProblem(bad), bad);
    assert.ok(domainNameProblem(`${"a".repeat(64)}.example.com`));
  });

  it("takes OCI tags and image references, and CIDRs with real octets", () => {
    assert.strictEqual(ociTagProblem("25.01-py3"), undefined);
    assert.strictEqual(ociTagProblem("_latest"), undefined);
    assert.ok(ociTagProblem("-x"));
    assert.ok(ociTagProblem("a".repeat(129)));
    for (const ok of [
      "nvcr.io/nvidia/tritonserver:25.01-py3",
      "123456789012.dkr.ecr.us-east-1.amazonaws.com/triton:1",
      "localhost:5000/a/b@sha256:" + "a".repeat(64),
      "python",
    ])
      assert.strictEqual(imageReferenceProblem(ok), undefined, ok);
    for (const bad of ["Python", "a b", "x:y; rm -rf /", "repo:"])
      assert.ok(imageReferenceProblem(bad), bad);
    assert.strictEqual(ipv4CidrProblem("203.0.113.0/24"), undefined);
    assert.ok(ipv4CidrProblem("256.0.0.0/8"));
    assert.ok(ipv4CidrProblem("10.0.0.0/33"));
  });
});
