/**
 * The EKS Auto Mode NodeClass (`eks.amazonaws.com/v1`, kind `NodeClass`) as AWS documents it: the
 * fields of the spec in awsdocs/amazon-eks-user-guide latest/ug/automode/create-node-class.adoc
 * (index commit 0026c9df3e1fde9368f7832c14bc9b0e6c64285a), "Required fields" and "Optional
 * fields", with the newer `capacityReservationSelectorTerms` (auto-odcr.adoc) and
 * `advancedNetworking.ipv4PrefixSize`. AWS publishes no JSON schema for the kind; Auto Mode
 * installs its CRD in the cluster. Each entry: required or not, and the nested fields allowed.
 */
export interface FieldRule {
  required?: boolean;
  /** The keys an object may have (or each item of a list of objects). */
  fields?: Record<string, FieldRule>;
  type: "string" | "number" | "boolean" | "object" | "list" | "map";
}

const selectorTerm: FieldRule = {
  type: "list",
  required: true,
  fields: {
    tags: { type: "map" },
    id: { type: "string" },
    name: { type: "string" },
  },
};

export const AUTO_MODE_NODE_CLASS_SPEC: Record<string, FieldRule> = {
  role: { type: "string", required: true },
  subnetSelectorTerms: selectorTerm,
  securityGroupSelectorTerms: selectorTerm,
  podSubnetSelectorTerms: { ...selectorTerm, required: false },
  podSecurityGroupSelectorTerms: { ...selectorTerm, required: false },
  snatPolicy: { type: "string" },
  networkPolicy: { type: "string" },
  networkPolicyEventLogs: { type: "string" },
  ephemeralStorage: {
    type: "object",
    fields: {
      size: { type: "string" },
      iops: { type: "number" },
      throughput: { type: "number" },
      kmsKeyID: { type: "string" },
    },
  },
  advancedNetworking: {
    type: "object",
    fields: {
      associatePublicIPAddress: { type: "boolean" },
      httpsProxy: { type: "string" },
      noProxy: { type: "list" },
      ipv4PrefixSize: { type: "string" },
    },
  },
  certificateBundles: {
    type: "list",
    fields: { name: { type: "string" }, data: { type: "string" } },
  },
  capacityReservationSelectorTerms: {
    type: "list",
    fields: { id: { type: "string" }, tags: { type: "map" }, owner: { type: "string" } },
  },
  tags: { type: "map" },
};

/** Every way `spec` departs from the documented fields: one line per unknown, missing or mistyped key. */
export function nodeClassSpecProblems(
  spec: Record<string, unknown>,
  rules: Record<string, FieldRule> = AUTO_MODE_NODE_CLASS_SPEC,
  at = "spec",
): string[] {
  const problems: string[] = [];
  for (const [k, rule] of Object.entries(rules))
    if (rule.required && spec[k] === undefined) problems.push(`${at}.${k} is required`);
  for (const [k, v] of Object.entries(spec)) {
    const rule = rules[k];
    if (!rule) {
      problems.push(`${at}.${k} is not a documented field`);
      continue;
    }
    const isObj = v !== null && typeof v === "object" && !Array.isArray(v);
    const ok =
      rule.type === "list"
        ? Array.isArray(v)
        : rule.type === "object" || rule.type === "map"
          ? isObj
          : typeof v === rule.type;
    if (!ok) {
      problems.push(`${at}.${k} must be a ${rule.type}`);
      continue;
    }
    if (rule.fields && rule.type === "object")
      problems.push(
        ...nodeClassSpecProblems(v as Record<string, unknown>, rule.fields, `${at}.${k}`),
      );
    if (rule.fields && rule.type === "list")
      (v as unknown[]).forEach((item, i) =>
        problems.push(
          ...nodeClassSpecProblems(
            item as Record<string, unknown>,
            rule.fields!,
            `${at}.${k}[${i}]`,
          ),
        ),
      );
  }
  return problems;
}
