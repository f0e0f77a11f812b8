/**
 * The IAM scenario rows of the weights copy (components/storage/modelWeights.ts): its CodeBuild
 * role writes the weights under the prefixes its buildspec names, and nothing else in the bucket.
 * What it must write is read from the project's buildspec (the bucket and the destinations it
 * syncs to), not from the policy under test.
 */
import * as YAML from "yaml";
import { Plan, Scenario, ecrRepositoryArn, roleCaller, rowsOf } from "./iamPlan";
import { WEIGHTS_DIRECTORY, WEIGHTS_MARKER } from "../modelRepository/hubModels";

/** The bucket and destination prefixes a weights copy's buildspec writes to. */
export function weightsBuildspecTargets(
  buildspec: unknown,
): { bucket: string; destinations: string[] } | undefined {
  if (typeof buildspec !== "string") return undefined;
  let parsed: { phases?: { build?: { commands?: unknown[] } } };
  try {
    parsed = YAML.parse(buildspec) as typeof parsed;
  } catch {
    return undefined;
  }
  // Each command is `bash -euo pipefail -c '<script>'`, the script's quotes written as '\''.
  const scripts = (parsed?.phases?.build?.commands ?? [])
    .filter((c): c is string => typeof c === "string")
    .map((c) => c.replace(/'\\''/g, "'"));
  let bucket: string | undefined;
  const destinations: string[] = [];
  // Only the weights copy's scripts: they check the marker it writes.
  for (const script of scripts.filter((s) => s.includes(WEIGHTS_MARKER))) {
    bucket ??= /s3:\/\/([a-z0-9.-]+)\//.exec(script)?.[1];
    const list = /for d in ((?:'[^']+' ?)+); do/.exec(script)?.[1] ?? "";
    for (const m of list.matchAll(/'([^']+)'/g)) destinations.push(m[1]);
  }
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
    const caller = roleCaller(plan, role);
    const identity = plan.identityPolicies(role);
    const bucketArn = `arn:${plan.scope.partition}:s3:::${targets.bucket}`;
    const onBucket = { resource: plan.bucketPolicy(targets.bucket) };
    const tls = { "aws:SecureTransport": true, "s3:TlsVersion": "1.3" };
    const add = rowsOf(out, {
      resource: role.name,
      component,
      principal: caller,
      identity,
      defaults: onBucket,
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
