/**
 * The IAM scenario rows of the weights copy (components/storage/modelWeights.ts): its CodeBuild
 * role writes the weights under the prefixes its buildspec names, and nothing else in the bucket.
 * What it must write is read from the project's buildspec (the bucket and the destinations it
 * syncs to), not from the policy under test.
 */
import { Plan, Scenario, TLS_CONTEXT, ecrRepositoryArn, roleRows } from "./iamPlan";
import { WEIGHTS_DIRECTORY, WEIGHTS_MARKER } from "../modelRepository/hubModels";
import { weightsScripts } from "./weightsBuildspec";

/** The bucket and destination prefixes a weights copy's buildspec writes to. */
export function weightsBuildspecTargets(
  buildspec: unknown,
): { bucket: string; destinations: string[] } | undefined {
  const scripts = weightsScripts(buildspec);
  const bucket = scripts.find((s) => s.bucket)?.bucket;
  const destinations = scripts.flatMap((s) => s.destinations);
  return bucket && destinations.length > 0 ? { bucket, destinations } : undefined;
}

/** What each weights copy project's role must and must not be able to do. */
export function weightsCopyScenarios(plan: Plan): Scenario[] {
  const out: Scenario[] = [];
  for (const project of plan.ofType("aws:codebuild/project:Project")) {
    const component = project.name.replace(/-(copy|neuron)$/, "");
    const role = plan.roleByArn(project.inputs.serviceRole);
    const source = project.inputs.source as { buildspec?: unknown } | undefined;
    const targets = weightsBuildspecTargets(source?.buildspec);
    if (!role || !targets) continue;
    const bucketArn = `arn:${plan.scope.partition}:s3:::${targets.bucket}`;
    const tls = TLS_CONTEXT;
    const add = roleRows(out, plan, role, component, {
      resource: plan.bucketPolicy(targets.bucket),
    });
    for (const d of targets.destinations) {
      const weight = `${bucketArn}/${d}/model-00001-of-00004.safetensors`;
      add(`writes the weights under ${d}/`, "allow", {
        action: "s3:PutObject",
        resource: weight,
        context: tls,
      });
      add(`reads the completion marker under ${d}/`, "allow", {
        action: "s3:GetObject",
        resource: `${bucketArn}/${d}/${WEIGHTS_MARKER}`,
        context: tls,
      });
      // In a Triton repository (`<model>/<version>/weights`), the model's config next to the
      // weights: the push owns it. An LMI endpoint's whole prefix is the weights.
      if (d.endsWith(`/${WEIGHTS_DIRECTORY}`)) {
        const model = d.replace(/\/[^/]+\/[^/]+$/, "");
        add(`cannot overwrite the model's config.pbtxt (${model}/)`, "deny", {
          action: "s3:PutObject",
          resource: `${bucketArn}/${model}/config.pbtxt`,
          context: tls,
        });
      }
      // A prefix that only starts like the destination (`chat-old/` next to `chat/`).
      add(`cannot write next to ${d}/ (${d}-next/)`, "deny", {
        action: "s3:PutObject",
        resource: `${bucketArn}/${d}-next/object`,
        context: tls,
      });
      add(`cannot delete weights under ${d}/`, "deny", {
        action: "s3:DeleteObject",
        resource: weight,
        context: tls,
      });
      add(`cannot read the weights back under ${d}/`, "deny", {
        action: "s3:GetObject",
        resource: weight,
        context: tls,
      });
    }
    add("cannot write outside the weights prefixes", "deny", {
      action: "s3:PutObject",
      resource: `${bucketArn}/other/object`,
      context: tls,
    });
    add("cannot delete the model bucket", "deny", {
      action: "s3:DeleteBucket",
      resource: bucketArn,
      context: tls,
    });
    add("cannot write over plain HTTP", "deny", {
      action: "s3:PutObject",
      resource: `${bucketArn}/${targets.destinations[0]}/config.json`,
      context: { "aws:SecureTransport": false },
    });
    // The Neuron export runs in the serving image, which CodeBuild pulls with the role: that
    // repository, and no other of its registry.
    const environment = project.inputs.environment as
      { image?: unknown; imagePullCredentialsType?: unknown } | undefined;
    const repository =
      environment?.imagePullCredentialsType === "SERVICE_ROLE" &&
      typeof environment.image === "string"
        ? ecrRepositoryArn(environment.image)
        : undefined;
    if (repository) {
      add("pulls its build image", "allow", {
        action: "ecr:BatchGetImage",
        resource: repository,
      });
      add("signs in to ECR to pull it", "allow", {
        action: "ecr:GetAuthorizationToken",
        resource: "*",
      });
      add("cannot pull another repository of that registry", "deny", {
        action: "ecr:BatchGetImage",
        resource: repository.replace(/repository\/.+$/, "repository/other"),
      });
      add("cannot push to its build image's repository", "deny", {
        action: "ecr:PutImage",
        resource: repository,
      });
    }
    const keyArn = plan.bucketKeyArn(targets.bucket);
    if (keyArn)
      add(
        "encrypts the weights with the bucket's key",
        "allow",
        { action: "kms:GenerateDataKey", resource: keyArn },
        { resource: plan.keyPolicy(keyArn) },
      );
  }
  return out;
}
