/**
 * What `npm run deploy -- <stack> --up` itself brings before the serving step, so the preflight
 * does not report it missing on an empty account:
 *
 * - images: an image of one of the stack's own repositories whose tag the image step copies from
 *   NGC or builds from a Dockerfile (programs/imagePlan.ts), and any image of a repository the
 *   pull-through cache creates on first pull (a prefix of the stack's cache rules);
 *
 * (A target whose stack file names its local model repository is pushed by the model step: the
 * preflight reads that from the configuration itself, preflightArtifacts.ts modelTargets.)
 */
import { PlanReport } from "../offline/plan";
import { StackConfig } from "../programs/config";
import { imagePlan } from "../programs/imagePlan";
import { parseEcrImage } from "./preflightNeeds";
import { PreflightOptions } from "./preflightTypes";

export function deployBrings(
  report: PlanReport,
  config: StackConfig,
): NonNullable<PreflightOptions["deployBrings"]> {
  const plan = imagePlan(config);
  const brought = new Set([
    ...plan.copies.map((c) => `${c.repository}:${c.tag}`),
    ...config.images.builds.map((b) => `${b.repository}:${b.tag}`),
  ]);
  const cachePrefixes = report.resources
    .filter((r) => r.type === "aws:ecr/pullThroughCacheRule:PullThroughCacheRule")
    .map((r) => String(r.inputs.ecrRepositoryPrefix));
  return {
    image: (uri) => {
      const ecr = parseEcrImage(uri);
      if (!ecr || ecr.tag === undefined) return false;
      if (cachePrefixes.some((p) => ecr.repository.startsWith(`${p}/`))) return true;
      // One of the stack's repositories, by the id the plan gave it: `<registry>-<key>`.
      const repo = report.resources.find(
        (r) => r.type === "aws:ecr/repository:Repository" && r.id === ecr.repository,
      );
      if (!repo || repo.parent === null) return false;
      const key = repo.name.slice(`${repo.parent}-`.length);
      return brought.has(`${key}:${ecr.tag}`);
    },
  };
}
