/**
 * The package schema `pulumi package add` generates SDKs from, produced offline the way the
 * Node.js language host does: find the components the package root exports, then let
 * ComponentProvider analyze their TypeScript source.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { SCHEMA_FILE, packageSchema } from "../scripts/schema";
import { projectRoot } from "../offline/plan";

interface SchemaProperty {
  description?: string;
  type?: string;
  $ref?: string;
  items?: SchemaProperty;
  additionalProperties?: SchemaProperty;
}
interface SchemaResource {
  isComponent?: boolean;
  description?: string;
  inputProperties: Record<string, SchemaProperty>;
  requiredInputs?: string[];
  properties: Record<string, SchemaProperty>;
}
interface SchemaType {
  type: string;
  description?: string;
  enum?: unknown[];
  properties?: Record<string, SchemaProperty>;
}
interface PackageSchema {
  name: string;
  resources: Record<string, SchemaResource>;
  types: Record<string, SchemaType>;
}

/** The required inputs of each component: the args properties without a `?`. */
const REQUIRED_INPUTS: Record<string, string[]> = {
  InferenceVpc: [],
  ModelRegistry: ["repositories"],
  ModelStore: [],
  ModelWeights: ["bucketArn", "bucketName", "copies", "kmsKeyArn"],
  ImageMirror: ["cachePrefix"],
  SageMakerEndpoint: ["modelBucketArn"],
  InferenceComponentEndpoint: ["components", "instancePools", "modelBucketArn"],
  GpuCluster: ["privateSubnetIds", "vpcId"],
  AcceleratorNodeGroup: ["clusterName", "instanceTypes", "nodeRoleArn", "subnetIds"],
  ClusterAddons: ["clusterName", "region", "vpcId"],
  SharedModelCache: [
    "clusterName",
    "modelBucketName",
    "nodeSecurityGroupId",
    "readPolicyJson",
    "subnetCount",
    "subnetIds",
    "syncPrefix",
    "vpcId",
  ],
  TritonRelease: ["clusterName", "instanceType", "readPolicyJson"],
  TritonLoadBalancer: [
    "namespace",
    "podSecurityGroupId",
    "serviceName",
    "subnetIds",
    "vpcCidrBlock",
    "vpcId",
  ],
  MetricsPipeline: ["clusterArn", "clusterName", "clusterSecurityGroupId", "region", "subnetIds"],
  Karpenter: ["clusterName", "clusterSecurityGroupId", "region", "subnetCount", "subnetIds"],
  GpuNodePool: ["clusterName", "instanceTypes", "maxAccelerators", "nodeRoleName"],
  TritonFleet: [
    "instanceType",
    "modelRepositoryUri",
    "readPolicyJson",
    "subnetIds",
    "vpcCidrBlock",
    "vpcId",
  ],
  InferenceApi: [],
  AlarmTopic: ["region"],
  ServingMonitor: ["alarmTopicArn", "region"],
};

/** Every `$ref` inside a property, however deeply nested in arrays and maps. */
function refsOf(p: SchemaProperty): string[] {
  return [
    ...(p.$ref ? [p.$ref] : []),
    ...(p.items ? refsOf(p.items) : []),
    ...(p.additionalProperties ? refsOf(p.additionalProperties) : []),
  ];
}

describe("package schema (pulumi package add)", () => {
  const root = projectRoot();
  let schema: PackageSchema;
  let generated: string;

  before(async function () {
    // The analyzer builds a TypeScript program of the whole package, AWS SDK types included.
    this.timeout(120_000);
    generated = await packageSchema(root);
    schema = JSON.parse(generated) as PackageSchema;
  });

  it("is the schema.json the package ships (npm run schema writes it)", () => {
    const shipped = fs.readFileSync(path.join(root, SCHEMA_FILE), "utf8");
    assert.ok(shipped === generated, "schema.json is stale: run npm run build && npm run schema");
  });

  it("PulumiPlugin.yaml declares a Node.js plugin and the root index.ts is in the program", () => {
    const plugin = YAML.parse(fs.readFileSync(path.join(root, "PulumiPlugin.yaml"), "utf8")) as {
      runtime: string;
    };
    assert.strictEqual(plugin.runtime, "nodejs");
    const tsconfig = JSON.parse(fs.readFileSync(path.join(root, "tsconfig.json"), "utf8")) as {
      include: string[];
    };
    assert.ok(tsconfig.include.includes("index.ts"), "tsconfig.json must include index.ts");
  });

  it("names the package llm-infra and has every component, and only components", () => {
    assert.strictEqual(schema.name, "llm-infra");
    assert.deepStrictEqual(
      Object.keys(schema.resources).sort(),
      Object.keys(REQUIRED_INPUTS)
        .map((c) => `llm-infra:index:${c}`)
        .sort(),
    );
    for (const [token, r] of Object.entries(schema.resources)) {
      assert.strictEqual(r.isComponent, true, `${token} is a component`);
    }
  });

  it("requires exactly the inputs a component cannot do without", () => {
    for (const [component, required] of Object.entries(REQUIRED_INPUTS)) {
      const r = schema.resources[`llm-infra:index:${component}`];
      assert.deepStrictEqual([...(r.requiredInputs ?? [])].sort(), required, component);
      for (const input of required) assert.ok(input in r.inputProperties, `${component}.${input}`);
    }
  });

  it("describes every component, every input and every output", () => {
    const undocumented: string[] = [];
    for (const [token, r] of Object.entries(schema.resources)) {
      if (!r.description?.trim()) undocumented.push(token);
      assert.ok(Object.keys(r.inputProperties).length > 0, `${token} has inputs`);
      assert.ok(Object.keys(r.properties).length > 0, `${token} has outputs`);
      for (const [kind, props] of [
        ["input", r.inputProperties],
        ["output", r.properties],
      ] as const) {
        for (const [name, p] of Object.entries(props)) {
          if (!p.description?.trim()) undocumented.push(`${token} ${kind} ${name}`);
        }
      }
    }
    for (const [token, t] of Object.entries(schema.types)) {
      for (const [name, p] of Object.entries(t.properties ?? {})) {
        if (!p.description?.trim()) undocumented.push(`${token}.${name}`);
      }
    }
    assert.deepStrictEqual(undocumented, []);
  });

  it("resolves every type reference to a type in the schema, enums with their values", () => {
    const local = "#/types/";
    const missing: string[] = [];
    const properties = [
      ...Object.values(schema.resources).flatMap((r) => [
        ...Object.values(r.inputProperties),
        ...Object.values(r.properties),
      ]),
      ...Object.values(schema.types).flatMap((t) => Object.values(t.properties ?? {})),
    ];
    for (const ref of properties.flatMap(refsOf)) {
      if (ref.startsWith(local) && !(ref.slice(local.length) in schema.types)) missing.push(ref);
    }
    assert.deepStrictEqual(missing, []);
    for (const [token, t] of Object.entries(schema.types)) {
      if (t.type === "string" && t.enum !== undefined) assert.ok(t.enum.length > 1, token);
    }
    // The model-fit inputs travel as an object type other languages can build.
    const requirements = schema.types["llm-infra:index:ModelRequirements"];
    assert.strictEqual(requirements.type, "object");
    assert.ok("parametersBillions" in (requirements.properties ?? {}));
  });
});
