/** The SageMaker rows of the IAM scenario table. */
import type { PlanResource } from "./iamDocuments";
import {
  OTHER_ACCOUNT,
  Plan,
  Scenario,
  ecrRepositoryArn,
  modelData,
  obj,
  roleRows,
  TLS_CONTEXT,
} from "./iamPlan";

/** What each SageMaker model's execution role must and must not be able to do. */
export function sagemakerScenarios(plan: Plan): Scenario[] {
  const { partition, region, accountId } = plan.scope;
  const out: Scenario[] = [];
  for (const model of plan.ofType("aws:sagemaker/model:Model")) {
    const role = plan.roleByArn(model.inputs.executionRoleArn);
    if (!role) continue;
    const component = model.name.replace(/-model$/, "");
    const endpointName = String(
      servingComponent(plan, model)?.inputs.endpointName ??
        plan.named(`${component}-endpoint`)?.inputs.name ??
        component,
    );
    const tls = TLS_CONTEXT;
    const add = roleRows(out, plan, role, component);

    out.push(
      {
        resource: role.name,
        description: `${component}: SageMaker assumes the execution role for this account's endpoint`,
        request: {
          principal: { kind: "service", id: "sagemaker.amazonaws.com" },
          action: "sts:AssumeRole",
          resource: plan.roleArn(role),
          context: {
            "aws:SourceArn": `arn:${partition}:sagemaker:${region}:${accountId}:endpoint/${endpointName}`,
            "aws:SourceAccount": accountId,
          },
        },
        policies: { resource: plan.trustPolicy(role) },
        expect: "allow",
      },
      {
        resource: role.name,
        description: `${component}: SageMaker acting for another account cannot assume the role`,
        request: {
          principal: { kind: "service", id: "sagemaker.amazonaws.com" },
          action: "sts:AssumeRole",
          resource: plan.roleArn(role),
          context: {
            "aws:SourceArn": `arn:${partition}:sagemaker:${region}:${OTHER_ACCOUNT}:endpoint/${endpointName}`,
            "aws:SourceAccount": OTHER_ACCOUNT,
          },
        },
        policies: { resource: plan.trustPolicy(role) },
        expect: "deny",
      },
    );

    const data = modelData(model);
    if (data) {
      const bucketArn = `arn:${partition}:s3:::${data.bucket}`;
      const bucketPolicy = plan.bucketPolicy(data.bucket);
      const onBucket = { resource: bucketPolicy };
      add(
        "reads its model data",
        "allow",
        { action: "s3:GetObject", resource: `${bucketArn}/${data.key}`, context: tls },
        onBucket,
      );
      if (data.prefix) {
        add(
          "lists its model prefix",
          "allow",
          {
            action: "s3:ListBucket",
            resource: bucketArn,
            context: { ...tls, "s3:prefix": data.prefix },
          },
          onBucket,
        );
        add(
          "cannot list another prefix",
          "deny",
          {
            action: "s3:ListBucket",
            resource: bucketArn,
            context: { ...tls, "s3:prefix": "other-model/" },
          },
          onBucket,
        );
      }
      add(
        "cannot read another prefix",
        "deny",
        { action: "s3:GetObject", resource: `${bucketArn}/other-model/config.pbtxt`, context: tls },
        onBucket,
      );
      add("cannot read another bucket", "deny", {
        action: "s3:GetObject",
        resource: `arn:${partition}:s3:::another-bucket/${data.key}`,
        context: tls,
      });
      if (bucketPolicy)
        add(
          "cannot read its model data over plain HTTP",
          "deny",
          {
            action: "s3:GetObject",
            resource: `${bucketArn}/${data.key}`,
            context: { "aws:SecureTransport": false },
          },
          onBucket,
        );
      const keyArn = plan.bucketKeyArn(data.bucket);
      const keyPolicy = keyArn ? plan.keyPolicy(keyArn) : undefined;
      if (keyArn && keyPolicy)
        add(
          "decrypts its model data with the model store's key",
          "allow",
          {
            action: "kms:Decrypt",
            resource: keyArn.startsWith("arn:")
              ? keyArn
              : `arn:${partition}:kms:${region}:${accountId}:key/${keyArn}`,
            context: {
              "kms:ViaService": `s3.${region}.amazonaws.com`,
              "kms:CallerAccount": accountId,
            },
          },
          { keyPolicy },
        );
    }

    const image = String(obj(model.inputs.primaryContainer).image ?? "");
    const repository = ecrRepositoryArn(image);
    if (repository) {
      add("pulls its serving image", "allow", {
        action: "ecr:BatchGetImage",
        resource: repository,
      });
      add("logs in to ECR", "allow", { action: "ecr:GetAuthorizationToken", resource: "*" });
      add("cannot pull another repository's image", "deny", {
        action: "ecr:BatchGetImage",
        resource: repository.replace(/repository\/.*/, "repository/another"),
      });
    }
    const logGroup = `arn:${partition}:logs:${region}:${accountId}:log-group:/aws/sagemaker/Endpoints/${endpointName}`;
    add("writes its logs", "allow", {
      action: "logs:PutLogEvents",
      resource: `${logGroup}:log-stream:primary/i-1`,
    });
    add("cannot write another endpoint's logs", "deny", {
      action: "logs:PutLogEvents",
      resource: `arn:${partition}:logs:${region}:${accountId}:log-group:/aws/sagemaker/Endpoints/another:log-stream:x`,
    });

    const asyncOutput = obj(
      obj(plan.named(`${component}-config`)?.inputs.asyncInferenceConfig).outputConfig,
    );
    const outputPath = /^s3:\/\/([^/]+)\/(.+)$/.exec(String(asyncOutput.s3OutputPath ?? ""));
    if (outputPath) {
      const arn = `arn:${partition}:s3:::${outputPath[1]}`;
      const onBucket = { resource: plan.bucketPolicy(outputPath[1]) };
      add(
        "writes async results",
        "allow",
        { action: "s3:PutObject", resource: `${arn}/${outputPath[2]}result.out`, context: tls },
        onBucket,
      );
      add(
        "cannot write outside its async prefix",
        "deny",
        { action: "s3:PutObject", resource: `${arn}/model-repository/overwritten`, context: tls },
        onBucket,
      );
      for (const topic of Object.values(obj(asyncOutput.notificationConfig)))
        add("notifies async results", "allow", {
          action: "sns:Publish",
          resource: String(topic),
          context: tls,
        });
    }
  }
  return out;
}

/**
 * The inference component that serves a model (by the model's name in its specification, or in
 * any of its per-instance-type specifications), when the model is hosted as one.
 */
export function servingComponent(plan: Plan, model: PlanResource): PlanResource | undefined {
  return plan
    .ofType("aws-native:sagemaker:InferenceComponent")
    .find((ic) =>
      [
        obj(ic.inputs.specification),
        ...(Array.isArray(ic.inputs.specifications) ? ic.inputs.specifications : []).map(obj),
      ].some((spec) => spec.modelName !== undefined && spec.modelName === model.id),
    );
}

/**
 * The execution role of each endpoint configuration of inference components: SageMaker assumes
 * it for this account's endpoint (and for no other account's), and it is the role the
 * configuration's models run with, so what it may read is what the model rows above test.
 */
export function componentEndpointScenarios(plan: Plan): Scenario[] {
  const { partition, region, accountId } = plan.scope;
  const out: Scenario[] = [];
  for (const config of plan.ofType("aws-native:sagemaker:EndpointConfig")) {
    const role = plan.roleByArn(config.inputs.executionRoleArn);
    const name = config.name.replace(/-config$/, "");
    const endpoint = plan
      .ofType("aws:sagemaker/endpoint:Endpoint")
      .find(
        (e) =>
          e.inputs.endpointConfigName === config.inputs.endpointConfigName ||
          e.name === `${name}-endpoint`,
      );
    if (!role || !endpoint) continue;
    const endpointArn = (account: string) =>
      `arn:${partition}:sagemaker:${region}:${account}:endpoint/${String(endpoint.inputs.name)}`;
    for (const [account, expect] of [
      [accountId, "allow"],
      [OTHER_ACCOUNT, "deny"],
    ] as const)
      out.push({
        resource: role.name,
        description: `${name}: SageMaker ${expect === "allow" ? "assumes" : "acting for another account cannot assume"} the endpoint configuration's execution role`,
        request: {
          principal: { kind: "service", id: "sagemaker.amazonaws.com" },
          action: "sts:AssumeRole",
          resource: plan.roleArn(role),
          context: { "aws:SourceArn": endpointArn(account), "aws:SourceAccount": account },
        },
        policies: { resource: plan.trustPolicy(role) },
        expect,
      });
  }
  return out;
}
