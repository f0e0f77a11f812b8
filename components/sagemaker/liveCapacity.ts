import type { SageMakerClient } from "@aws-sdk/client-sagemaker";
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { createHash } from "crypto";

/*
 * Why a configuration update reads the serving capacity first.
 *
 * UpdateEndpoint starts the new (green) fleet at the new configuration's InitialInstanceCount
 * unless the caller sends RetainAllVariantProperties=true, which keeps the live
 * DesiredInstanceCount (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_UpdateEndpoint.html,
 * https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_VariantProperty.html). The
 * Terraform AWS provider that @pulumi/aws 7.48.0 wraps never sends it
 * (hashicorp/terraform-provider-aws#48990, open; #49069 proposes it, open). Autoscaling cannot
 * make up for it during the deploy: it "is blocked while the update operation is in progress"
 * (https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-scaling-update.html, step 2), so the
 * green fleet serves all traffic at its initial size until the update completes.
 *
 * ignoreChanges on initialInstanceCount cannot carry a fresh count: Pulumi substitutes the value
 * from the state for an ignored property before it plans the step, so a replacement
 * configuration is created with the old count
 * (https://www.pulumi.com/docs/iac/concepts/options/ignorechanges/; pulumi/pulumi
 * pkg/resource/deploy/step_generator.go, GenerateSteps: processIgnoreChanges on the goal inputs).
 *
 * So the program sizes the new configuration itself: it reads the live variant
 * (DescribeEndpoint) and starts a changed configuration at what is serving now. To keep count
 * drift from triggering a deploy on its own, the configuration carries a fingerprint of
 * everything but the count; when the deployed configuration's fingerprint is the one the
 * program would create, the program keeps the deployed count and Pulumi sees no change.
 */

/**
 * The SageMaker SDK, loaded when a deployment first reads a live variant: the offline plan never
 * calls it, and loading it took about a tenth of `npm run plan`'s start-up.
 */
const sagemakerSdk = () => import("@aws-sdk/client-sagemaker");

/** Tag on the endpoint configuration: a fingerprint of everything in it but the instance count. */
export const CONFIG_FINGERPRINT_TAG = "llm-infra:config-fingerprint";

/** A stable JSON text of a value: object keys sorted, undefined members dropped. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * The fingerprint of an endpoint configuration's resolved inputs, without its instance count
 * (the caller leaves the count out): 16 hex digits of SHA-256 over a key-order-independent JSON.
 */
export function configFingerprint(configWithoutCount: unknown): string {
  return createHash("sha256").update(stableJson(configWithoutCount)).digest("hex").slice(0, 16);
}

/** What the live endpoint serves, and the configuration it was deployed with. */
export interface LiveVariant {
  /** Instances of the variant serving now, or being added (the larger of current and desired). */
  servingInstances: number;
  /** The deployed configuration's InitialInstanceCount for the variant. */
  deployedInitialCount?: number;
  /** The deployed configuration's fingerprint tag, when it has one. */
  deployedFingerprint?: string;
}

/**
 * The initial instance count of the configuration to deploy:
 * - no live endpoint (first deploy, or one that cannot be read): the configured count;
 * - the deployed configuration is the one the program would create (same fingerprint): its
 *   count, so that autoscaling having moved since is no reason to deploy;
 * - otherwise (a real change: model, image, instance type, settings): the larger of the
 *   configured count and what is serving now, within [min, max], so the new fleet starts with
 *   the capacity that serves the traffic today.
 */
export function deployInstanceCount(p: {
  configured: number;
  min: number;
  max: number;
  fingerprint: string;
  live?: LiveVariant;
}): number {
  const { configured, min, max, fingerprint, live } = p;
  if (live === undefined) return configured;
  if (live.deployedFingerprint === fingerprint && live.deployedInitialCount !== undefined) {
    return live.deployedInitialCount;
  }
  return Math.min(max, Math.max(configured, min, live.servingInstances));
}

/**
 * Reads the live variant through the SageMaker API: ListEndpoints (is there an endpoint of that
 * name?), DescribeEndpoint (its configuration and the variant's CurrentInstanceCount and
 * DesiredInstanceCount), DescribeEndpointConfig (the deployed InitialInstanceCount) and ListTags
 * (the deployed fingerprint). No endpoint of that name: undefined.
 */
export async function readLiveVariant(
  client: SageMakerClient,
  endpointName: string,
  variantName: string,
): Promise<LiveVariant | undefined> {
  const {
    DescribeEndpointCommand,
    DescribeEndpointConfigCommand,
    ListEndpointsCommand,
    ListTagsCommand,
  } = await sagemakerSdk();
  const listed = await client.send(
    new ListEndpointsCommand({ NameContains: endpointName, MaxResults: 100 }),
  );
  const exists = (listed.Endpoints ?? []).some(
    (e) => e.EndpointName?.toLowerCase() === endpointName.toLowerCase(),
  );
  if (!exists) return undefined;
  const endpoint = await client.send(new DescribeEndpointCommand({ EndpointName: endpointName }));
  const variant = (endpoint.ProductionVariants ?? []).find((v) => v.VariantName === variantName);
  if (variant === undefined) return undefined;
  const servingInstances = Math.max(
    variant.CurrentInstanceCount ?? 0,
    variant.DesiredInstanceCount ?? 0,
  );
  if (endpoint.EndpointConfigName === undefined) return { servingInstances };
  const config = await client.send(
    new DescribeEndpointConfigCommand({ EndpointConfigName: endpoint.EndpointConfigName }),
  );
  const deployedInitialCount = (config.ProductionVariants ?? []).find(
    (v) => v.VariantName === variantName,
  )?.InitialInstanceCount;
  let deployedFingerprint: string | undefined;
  if (config.EndpointConfigArn !== undefined) {
    const tags = await client.send(new ListTagsCommand({ ResourceArn: config.EndpointConfigArn }));
    deployedFingerprint = (tags.Tags ?? []).find((t) => t.Key === CONFIG_FINGERPRINT_TAG)?.Value;
  }
  return { servingInstances, deployedInitialCount, deployedFingerprint };
}

/** True when the program runs under Pulumi mocks (the offline plan, the tests): no AWS calls. */
function underMocks(): boolean {
  return pulumi.runtime.getMonitor() instanceof MockMonitor;
}

/**
 * Where the component reads the live variant from. Under mocks it reads nothing (the offline plan
 * has no AWS); otherwise it calls SageMaker in the endpoint's region with the credentials the AWS
 * SDK finds (the `aws:profile` stack setting if there is one, else the environment), warning and
 * reading nothing when it cannot: the new fleet then starts at the configured count.
 */
export const liveVariantSource = {
  read: async (
    region: string,
    endpointName: string,
    variantName: string,
  ): Promise<LiveVariant | undefined> => {
    if (underMocks()) return undefined;
    const profile = new pulumi.Config("aws").get("profile");
    const { SageMakerClient } = await sagemakerSdk();
    const client = new SageMakerClient({ region, ...(profile ? { profile } : {}) });
    try {
      return await readLiveVariant(client, endpointName, variantName);
    } catch (e) {
      void pulumi.log.warn(
        `could not read the serving capacity of SageMaker endpoint ${endpointName} (${(e as Error).message}); a configuration change starts the new fleet at initialInstanceCount`,
      );
      return undefined;
    } finally {
      client.destroy();
    }
  },
};
