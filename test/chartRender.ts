/**
 * A chart rendered by the real helm, each manifest validated against its Kubernetes schema
 * (kubernetes-models) or, for KEDA's kinds, the CRD schemas @kubernetes-models/keda generates.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { Deployment } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { Ingress } from "kubernetes-models/networking.k8s.io/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { Service, ServiceAccount } from "kubernetes-models/v1";
import { ScaledObject, TriggerAuthentication } from "@kubernetes-models/keda/keda.sh/v1alpha1";
import { helm } from "../checks/helm";

export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: Record<string, unknown>;
};

/** The schema of each kind the Triton chart renders. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  Deployment,
  Service,
  ServiceAccount,
  HorizontalPodAutoscaler,
  PodDisruptionBudget,
  Ingress,
  ScaledObject,
  TriggerAuthentication,
};

/**
 * `helm template <release> <chart>` with the values; every manifest must have a schema and pass
 * it, except the kinds in `shapeOnly` (CRDs without one here, e.g. ServiceMonitor).
 */
export function renderValidated(
  chart: string,
  values: unknown,
  options: { release?: string; namespace?: string; shapeOnly?: string[] } = {},
): Manifest[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "chart-values-"));
  const file = path.join(dir, "values.json");
  fs.writeFileSync(file, JSON.stringify(values ?? {}));
  const r = helm([
    "template",
    options.release ?? "t",
    chart,
    "--namespace",
    options.namespace ?? "inference",
    "-f",
    file,
  ]);
  fs.rmSync(dir, { recursive: true, force: true });
  assert.strictEqual(r.code, 0, r.stderr);
  const manifests = YAML.parseAllDocuments(r.stdout)
    .map((d) => d.toJSON() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
  for (const m of manifests) {
    const Model = MODELS[m.kind];
    if (Model) new Model(m as never).validate();
    else assert.ok(options.shapeOnly?.includes(m.kind), `no schema for ${m.kind}`);
  }
  return manifests;
}
