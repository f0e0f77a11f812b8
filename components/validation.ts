import * as pulumi from "@pulumi/pulumi";

/** One problem with a component's arguments: the property and what is allowed. */
export type ArgError = pulumi.InputPropertyErrorDetails;

/**
 * Throws one `InputPropertiesError` listing every problem, each naming its property, so that a
 * user sees all their mistakes at once, at preview time, before any cloud call.
 */
export function throwIfInvalid(componentType: string, name: string, errors: ArgError[]): void {
  if (errors.length === 0) return;
  const lines = errors.map((e) => `  - ${e.propertyPath}: ${e.reason}`).join("\n");
  throw new pulumi.InputPropertiesError({
    message: `${componentType} "${name}" has invalid arguments:\n${lines}`,
    errors,
  });
}

/** An error unless `value` is an integer in [min, max]. */
export function checkIntegerRange(
  errors: ArgError[],
  propertyPath: string,
  value: number | undefined,
  min: number,
  max: number,
): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    errors.push({
      propertyPath,
      reason: `must be an integer between ${min} and ${max}, got ${JSON.stringify(value)}`,
    });
  }
}

/** An error unless `value` is one of `allowed`. */
export function checkOneOf(
  errors: ArgError[],
  propertyPath: string,
  value: string | undefined,
  allowed: readonly string[],
): void {
  if (value === undefined) return;
  if (!allowed.includes(value)) {
    errors.push({
      propertyPath,
      reason: `must be one of ${allowed.join(", ")}, got ${JSON.stringify(value)}`,
    });
  }
}

/**
 * An error unless `value` is a Go duration of seconds, minutes and hours (`10m`, `1h30m`), the
 * form Karpenter's duration fields and its `karpenter.sh/do-not-disrupt` annotation take;
 * `alsoAllowed` names other literal values the field takes (`"true"`).
 */
export function checkDuration(
  errors: ArgError[],
  propertyPath: string,
  value: string | undefined,
  alsoAllowed: readonly string[] = [],
): void {
  if (value === undefined || alsoAllowed.includes(value)) return;
  if (!/^([0-9]+(\.[0-9]+)?(s|m|h))+$/.test(value))
    errors.push({
      propertyPath,
      reason: `must be a duration such as 30m or 1h${alsoAllowed.map((a) => `, or ${JSON.stringify(a)}`).join("")}, got ${JSON.stringify(value)}`,
    });
}

/**
 * An error unless `value` is a Kubernetes label value: alphanumerics, `-`, `_` and `.`, starting
 * and ending with an alphanumeric (the node labels workloads select, `workload-type`).
 */
export function checkLabelValue(
  errors: ArgError[],
  propertyPath: string,
  value: string | undefined,
): void {
  if (value !== undefined && !/^[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/.test(value))
    errors.push({
      propertyPath,
      reason: `must be a Kubernetes label value, got ${JSON.stringify(value)}`,
    });
}

/** Retention periods CloudWatch Logs accepts, in days. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
] as const;

export function checkLogRetention(
  errors: ArgError[],
  propertyPath: string,
  value: number | undefined,
): void {
  if (value === undefined) return;
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(value)) {
    errors.push({
      propertyPath,
      reason: `must be one of ${LOG_RETENTION_DAYS.join(", ")} (CloudWatch Logs retention), got ${JSON.stringify(value)}`,
    });
  }
}

/** Errors unless min <= max and min <= desired <= max, each naming its field (minSize, desiredSize, maxSize unless given). */
export function checkScalingBounds(
  errors: ArgError[],
  counts: { min: number; desired: number; max: number },
  fields = { min: "minSize", desired: "desiredSize", max: "maxSize" },
): void {
  const { min, desired, max } = counts;
  if (min > max) {
    errors.push({
      propertyPath: fields.min,
      reason: `(${min}) must not exceed ${fields.max} (${max})`,
    });
  } else if (desired < min || desired > max) {
    errors.push({
      propertyPath: fields.desired,
      reason: `(${desired}) must be within [${fields.min}, ${fields.max}] = [${min}, ${max}]`,
    });
  }
}
