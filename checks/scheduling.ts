/**
 * The scheduling check: every pod the stack deploys lands on a node group the stack creates.
 *
 * Pods come from the Kubernetes objects in the plan: Jobs and Deployments as they are, Helm
 * releases of this package's chart rendered by the real helm, and add-on releases from the chart
 * defaults in catalog/addonScheduling.ts with the release's values merged on top. A pod lands on a
 * node group when the group's labels satisfy its node selector and required node affinity, its
 * tolerations cover the group's NoSchedule and NoExecute taints, and one instance type of the group
 * holds its CPU and memory requests and its extended resources, which exist only where a device
 * plugin for them lands too. CPU and memory are what the node makes allocatable (catalog/
 * allocatable.ts) less the requests of every DaemonSet that lands there: ours, the add-on charts',
 * and those of the EKS add-ons (aws:eks/addon, and vpc-cni and kube-proxy on every cluster), whose
 * defaults are recorded in catalog/addonScheduling.ts. EKS runs its add-ons itself: where their
 * pods land is not checked, only what they take from each node.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "js-yaml";
import { NodeAllocatable, nodeAllocatable } from "../catalog/allocatable";
import {
  ADDON_SCHEDULING,
  EKS_BOOTSTRAP_ADDONS,
  EKS_MANAGED_DAEMONSETS,
  WorkloadScheduling,
} from "../catalog/addonScheduling";
import { findInstance, kubernetesResourceFor } from "../catalog/instances";
import {
  KARPENTER_VM_MEMORY_OVERHEAD,
  AUTO_MODE_MAX_NODE_HOURS,
  AUTO_NODE_CLASS_TYPE,
  NODE_CLASS_TYPE,
  NODE_POOL_TYPE,
  durationHours,
  isAutoModePool,
  nodePoolClassRef,
  nodePoolRequirement,
  nodePoolInstanceTypes,
  nodePoolLabels,
  nodePoolLimit,
  nodePoolTaints,
} from "../catalog/karpenter";
import { CapturedResource } from "./resource";
import { acceleratorDemand } from "../catalog/cost";
import { HelmNotFound, HelmResult, StartedHelm, helm, startHelm } from "./helm";
import { Finding } from "./finding";
import { Obj, arr, obj } from "./inputs";

const CHECK = "scheduling";

/** A node as the scheduler sees it: one instance type of a node group. */
export interface NodeShape {
  group: string;
  instanceType: string;
  labels: Record<string, string>;
  taints: { key: string; value?: string; effect: string }[];
  /** What the kubelet makes allocatable (zero for an instance type the catalog does not know). */
  allocatable: NodeAllocatable;
  /** The accelerator resource the hardware has, and how many (advertised only with a plugin). */
  accelerator?: { resource: string; count: number };
  /**
   * The node runs its device plugin itself: an EKS Auto Mode node, whose NVIDIA and Neuron device
   * plugins are built in and "not visible as a daemon set" (auto-accelerated.adoc).
   */
  builtinDevicePlugin?: boolean;
}

/** A pod template the stack deploys. */
export interface PodTemplate {
  /** The plan resource it comes from (a release, a Job). */
  resource: string;
  workload: string;
  kind: string;
  spec: Obj;
  /** The extended resource this pod advertises where it runs (device plugins). */
  advertises?: string;
  /** An EKS add-on's pod: counted where it lands, never reported (EKS schedules it). */
  managed?: boolean;
}

const EFFECTS: Record<string, string> = {
  NO_SCHEDULE: "NoSchedule",
  NO_EXECUTE: "NoExecute",
  PREFER_NO_SCHEDULE: "PreferNoSchedule",
};

const NO_ALLOCATABLE: NodeAllocatable = {
  cpuMillis: 0,
  memoryMib: 0,
  pods: 0,
  capacity: { cpuMillis: 0, memoryMib: 0 },
  kubeReserved: { cpuMillis: 0, memoryMib: 0 },
  evictionMemoryMib: 0,
};

/**
 * The nodes of every EKS managed node group and every Karpenter NodePool in the plan, one shape
 * per instance type.
 */
export function nodeShapes(resources: CapturedResource[]): NodeShape[] {
  return [...nodeGroupShapes(resources), ...nodePoolShapes(resources)];
}

/**
 * One instance type's node: the labels the kubelet sets on every node, then the group's or pool's
 * own; its taints; what it makes allocatable, less `memoryOverhead` of its memory; and the
 * accelerator resource the hardware has.
 */
function nodeShape(
  group: string,
  instanceType: string,
  own: { labels: Record<string, string>; taints: NodeShape["taints"]; memoryOverhead?: number },
): NodeShape {
  const spec = findInstance(instanceType);
  const resource = spec ? kubernetesResourceFor(spec) : undefined;
  const allocatable = spec ? nodeAllocatable(spec) : NO_ALLOCATABLE;
  const overhead = Math.ceil(allocatable.capacity.memoryMib * (own.memoryOverhead ?? 0));
  return {
    group,
    instanceType,
    labels: {
      "kubernetes.io/os": "linux",
      "kubernetes.io/arch": "amd64",
      "node.kubernetes.io/instance-type": instanceType,
      ...own.labels,
    },
    taints: own.taints,
    allocatable:
      overhead > 0
        ? { ...allocatable, memoryMib: Math.max(0, allocatable.memoryMib - overhead) }
        : allocatable,
    accelerator:
      resource && spec?.accelerator ? { resource, count: spec.accelerator.count } : undefined,
  };
}

/**
 * A NodePool's nodes: its labels and Karpenter's, its taints, and what the kubelet makes
 * allocatable less the VM overhead Karpenter assumes before it picks a type (a pod that fits only
 * without it is one Karpenter will not launch that type for).
 */
function nodePoolShapes(resources: CapturedResource[]): NodeShape[] {
  return resources
    .filter((r) => r.type === NODE_POOL_TYPE)
    .flatMap((r) =>
      nodePoolInstanceTypes(r.inputs).map((instanceType) => ({
        ...nodeShape(r.name, instanceType, {
          labels: nodePoolLabels(r.name, r.inputs),
          taints: nodePoolTaints(r.inputs),
          memoryOverhead: KARPENTER_VM_MEMORY_OVERHEAD,
        }),
        ...(isAutoModePool(r.inputs) ? { builtinDevicePlugin: true } : {}),
      })),
    );
}

/** The nodes of every EKS managed node group, one shape per instance type. */
function nodeGroupShapes(resources: CapturedResource[]): NodeShape[] {
  return resources
    .filter((r) => r.type === "aws:eks/nodeGroup:NodeGroup")
    .flatMap((r) =>
      arr(r.inputs.instanceTypes).map((t) =>
        nodeShape(r.name, String(t), {
          labels: Object.fromEntries(
            Object.entries(obj(r.inputs.labels)).map(([k, v]) => [k, String(v)]),
          ),
          taints: arr(r.inputs.taints).map((t) => {
            const taint = obj(t);
            return {
              key: String(taint.key),
              value: taint.value === undefined ? undefined : String(taint.value),
              effect: EFFECTS[String(taint.effect)] ?? String(taint.effect),
            };
          }),
        }),
      ),
    );
}

/** Helm's value merge: maps merge key by key, anything else (lists too) replaces; null deletes. */
export function mergeValues(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  const b = obj(base);
  const o = obj(over);
  if (over === null || typeof over !== "object" || Array.isArray(over)) return over;
  if (base === null || typeof base !== "object" || Array.isArray(base)) return over;
  const out: Obj = { ...b };
  for (const [k, v] of Object.entries(o)) {
    if (v === null) delete out[k];
    else out[k] = mergeValues(b[k], v);
  }
  return out;
}

const at = (values: unknown, p: string[]): unknown => p.reduce((v, k) => obj(v)[k], values);

/** An add-on workload's pod spec: the chart's defaults with the release's values on top. */
export function addonPod(w: WorkloadScheduling, values: unknown): Obj {
  const merged = obj(mergeValues(w.defaults, at(values, w.valuesPath)));
  return {
    nodeSelector: merged.nodeSelector ?? {},
    affinity: w.fixedAffinity ?? merged.affinity ?? {},
    tolerations: merged.tolerations ?? [],
    containers: [
      {
        name: w.workload,
        resources:
          (w.resourcesPath
            ? mergeValues(w.defaults.resources, at(values, w.resourcesPath))
            : merged.resources) ?? {},
      },
    ],
  };
}

/** A chart directory (this package's chart) rendered with the release's values. */
export type ChartRenderer = (chartDir: string, values: unknown, namespace: string) => Obj[];

/**
 * `helm template` of a chart in a namespace, the values read from standard input as JSON: helm reads
 * a values path of "-" from stdin (helm/helm pkg/cli/values/options.go, `readFile`: `if
 * strings.TrimSpace(filePath) == "-" { return io.ReadAll(os.Stdin) }`); the planSpeed test renders
 * values given this way with the real helm.
 */
const templateArgs = (chartDir: string, namespace: string) => [
  "template",
  "release",
  chartDir,
  "--namespace",
  namespace,
  "-f",
  "-",
];

function manifestsOf(chartDir: string, r: HelmResult): Obj[] {
  if (r.code !== 0) throw new Error(`helm template ${chartDir} failed: ${r.stderr.trim()}`);
  return YAML.loadAll(r.stdout, undefined, { schema: YAML.CORE_SCHEMA })
    .map(obj)
    .filter((m) => Object.keys(m).length > 0);
}

const renderKey = (chartDir: string, values: unknown, namespace: string) =>
  JSON.stringify([chartDir, values ?? {}, namespace]);
/** A helm process waits for a release of a chart in a namespace, whatever its values. */
const helmKey = (chartDir: string, namespace: string) => JSON.stringify([chartDir, namespace]);

/** helm processes started for a chart and namespace, waiting for a release's values. */
const waiting = new Map<string, StartedHelm>();
/** Renders started while the program still runs, by chart, values and namespace. */
const started = new Map<string, Promise<HelmResult>>();
/** Their results, once awaited; each is taken by the render that asks for it. */
const finished = new Map<string, HelmResult>();

/**
 * Starts helm for a chart the plan expects a release of, before the release's values are known:
 * helm's start-up then runs beside the program, and the render takes only the values.
 */
export function prepareRender(chartDir: string, namespace: string): void {
  const key = helmKey(chartDir, namespace);
  if (waiting.has(key)) return;
  try {
    waiting.set(key, startHelm(templateArgs(chartDir, namespace)));
  } catch (e) {
    // No helm: nothing to prepare; the render, when the check asks for it, says so.
    if (!(e instanceof HelmNotFound)) throw e;
  }
}

/**
 * Starts `helm template` for a release of this package's chart as soon as the plan records it, so
 * helm runs beside the rest of the program (on another core) instead of after it. A helm prepared
 * for the chart and namespace takes the values; otherwise one starts now.
 */
export function startRender(resource: CapturedResource): void {
  if (resource.type !== "kubernetes:helm.sh/v3:Release") return;
  const chartDir = String(resource.inputs.chart ?? "");
  if (!fs.existsSync(path.join(chartDir, "Chart.yaml"))) return;
  const namespace = String(resource.inputs.namespace ?? "default");
  const key = renderKey(chartDir, resource.inputs.values, namespace);
  if (started.has(key) || finished.has(key)) return;
  const prepared = helmKey(chartDir, namespace);
  let helmProcess = waiting.get(prepared);
  if (helmProcess === undefined) {
    try {
      helmProcess = startHelm(templateArgs(chartDir, namespace));
    } catch (e) {
      // No helm: the render, when the check asks for it, says so.
      if (e instanceof HelmNotFound) return;
      throw e;
    }
  }
  waiting.delete(prepared);
  started.set(key, helmProcess.run(JSON.stringify(resource.inputs.values ?? {})));
}

/** Waits for the renders started so far; the check then reads them without running helm again. */
export async function finishRenders(): Promise<void> {
  for (const [key, result] of started) {
    finished.set(key, await result);
    started.delete(key);
  }
}

/** Stops prepared helm processes no release used and forgets renders no check took. */
export function forgetRenders(): void {
  for (const helmProcess of waiting.values()) helmProcess.cancel();
  waiting.clear();
  started.clear();
  finished.clear();
}

/** `helm template` with the real helm binary (or its result, when the plan started it early). */
export const renderWithHelm: ChartRenderer = (chartDir, values, namespace) => {
  const key = renderKey(chartDir, values, namespace);
  const early = finished.get(key);
  if (early) {
    finished.delete(key);
    return manifestsOf(chartDir, early);
  }
  return manifestsOf(
    chartDir,
    helm(templateArgs(chartDir, namespace), JSON.stringify(values ?? {})),
  );
};

const POD_KINDS = ["Deployment", "DaemonSet", "StatefulSet", "Job"];

/** The pod templates the plan deploys, and the problems found while collecting them. */
export function podTemplates(
  resources: CapturedResource[],
  render: ChartRenderer = renderWithHelm,
): { pods: PodTemplate[]; findings: Finding[] } {
  const pods: PodTemplate[] = [];
  const findings: Finding[] = [];
  const managed = (resource: string, addonName: string, values: unknown) => {
    for (const w of EKS_MANAGED_DAEMONSETS[addonName]?.workloads ?? [])
      pods.push({
        resource,
        workload: w.workload,
        kind: w.kind,
        spec: addonPod(w, values),
        managed: true,
      });
  };
  const addonNames = new Set(
    resources.filter((r) => r.type === "aws:eks/addon:Addon").map((r) => r.inputs.addonName),
  );
  for (const r of resources) {
    if (r.type === "eks:index:Cluster") {
      for (const addon of EKS_BOOTSTRAP_ADDONS)
        if (!addonNames.has(addon) && r.inputs.bootstrapSelfManagedAddons !== false)
          managed(r.name, addon, {});
      continue;
    }
    if (r.type === "aws:eks/addon:Addon") {
      const configured = r.inputs.configurationValues;
      let values: unknown = {};
      try {
        if (typeof configured === "string" && configured !== "") values = JSON.parse(configured);
      } catch {
        findings.push({
          check: CHECK,
          resource: r.name,
          message: `configurationValues of add-on ${String(r.inputs.addonName)} is not JSON`,
        });
      }
      managed(r.name, String(r.inputs.addonName), values);
      continue;
    }
    if (r.type === "kubernetes:batch/v1:Job" || r.type === "kubernetes:apps/v1:Deployment") {
      pods.push({
        resource: r.name,
        workload: r.name,
        kind: r.type.split(":").pop()!,
        spec: obj(obj(obj(r.inputs.spec).template).spec),
      });
      continue;
    }
    if (r.type !== "kubernetes:helm.sh/v3:Release") continue;
    const chart = String(r.inputs.chart ?? "");
    const version = String(r.inputs.version ?? "");
    if (fs.existsSync(path.join(chart, "Chart.yaml"))) {
      let manifests: Obj[];
      try {
        manifests = render(chart, r.inputs.values, String(r.inputs.namespace ?? "default"));
      } catch (e) {
        findings.push({ check: CHECK, resource: r.name, message: (e as Error).message });
        continue;
      }
      for (const m of manifests.filter((x) => POD_KINDS.includes(String(x.kind)))) {
        pods.push({
          resource: r.name,
          workload: String(obj(m.metadata).name),
          kind: String(m.kind),
          spec: obj(obj(obj(m.spec).template).spec),
        });
      }
      continue;
    }
    const facts = ADDON_SCHEDULING[chart]?.[version];
    if (!facts) {
      findings.push({
        check: CHECK,
        resource: r.name,
        message: `no scheduling facts for chart ${chart} ${version}: record its defaults in catalog/addonScheduling.ts`,
      });
      continue;
    }
    for (const w of facts.workloads) {
      if (w.enabledBy && !(at(r.inputs.values, w.enabledBy.path) ?? w.enabledBy.default)) continue;
      pods.push({
        resource: r.name,
        workload: w.workload,
        kind: w.kind,
        spec: addonPod(w, r.inputs.values),
        advertises: w.advertises,
      });
    }
  }
  return { pods, findings };
}

/** Whether one node selector requirement holds for the labels. */
function requirementHolds(req: Obj, labels: Record<string, string>): boolean {
  const key = String(req.key);
  const values = arr(req.values).map(String);
  const has = key in labels;
  switch (req.operator) {
    case "In":
      return has && values.includes(labels[key]);
    case "NotIn":
      return !has || !values.includes(labels[key]);
    case "Exists":
      return has;
    case "DoesNotExist":
      return !has;
    case "Gt":
      return has && Number(labels[key]) > Number(values[0]);
    case "Lt":
      return has && Number(labels[key]) < Number(values[0]);
    default:
      return false;
  }
}

/** Why a pod's node selector or required node affinity rejects the labels, or undefined. */
export function labelMismatch(spec: Obj, labels: Record<string, string>): string | undefined {
  for (const [k, v] of Object.entries(obj(spec.nodeSelector)))
    if (labels[k] !== String(v)) return `nodeSelector ${k}=${String(v)}`;
  const required = obj(
    obj(obj(spec.affinity).nodeAffinity).requiredDuringSchedulingIgnoredDuringExecution,
  );
  const terms = arr(required.nodeSelectorTerms).map(obj);
  if (terms.length === 0) return undefined;
  const anyTerm = terms.some((t) =>
    arr(t.matchExpressions).every((e) => requirementHolds(obj(e), labels)),
  );
  if (anyTerm) return undefined;
  const keys = terms.flatMap((t) => arr(t.matchExpressions).map((e) => String(obj(e).key)));
  return `required node affinity on ${[...new Set(keys)].join(" or ")}`;
}

/** The taints the pod's tolerations leave uncovered (NoSchedule and NoExecute only). */
export function untoleratedTaints(spec: Obj, taints: NodeShape["taints"]): string[] {
  const tolerations = arr(spec.tolerations).map(obj);
  return taints
    .filter((t) => t.effect === "NoSchedule" || t.effect === "NoExecute")
    .filter(
      (t) =>
        !tolerations.some((tol) => {
          if (tol.effect !== undefined && tol.effect !== "" && tol.effect !== t.effect)
            return false;
          if (tol.operator === "Exists") return tol.key === undefined || tol.key === t.key;
          return tol.key === t.key && String(tol.value ?? "") === String(t.value ?? "");
        }),
    )
    .map((t) => `${t.key}=${t.value ?? ""}:${t.effect}`);
}

/** CPU in millicores: `500m`, `2`, 4. */
export function cpuMillis(q: unknown): number {
  const s = String(q);
  return s.endsWith("m") ? Number(s.slice(0, -1)) : Number(s) * 1000;
}

/** Memory in MiB: `512Mi`, `24Gi`, `1G`, bytes. */
export function memoryMib(q: unknown): number {
  const m = /^(\d+(?:\.\d+)?)([KMGT]i?)?$/.exec(String(q));
  if (!m) return NaN;
  const unit: Record<string, number> = {
    Ki: 1 / 1024,
    Mi: 1,
    Gi: 1024,
    Ti: 1024 * 1024,
    K: 1000 / 1048576,
    M: 1e6 / 1048576,
    G: 1e9 / 1048576,
    T: 1e12 / 1048576,
  };
  return Number(m[1]) * (m[2] ? unit[m[2]] : 1 / 1048576);
}

/**
 * A pod's requests: containers summed, init containers at their largest. A limit without a request
 * stands in for it, as Kubernetes defaults the request to the limit.
 */
export function podRequests(spec: Obj): Record<string, number> {
  const of = (c: unknown) => {
    const res = obj(obj(c).resources);
    const requests = { ...obj(res.limits), ...obj(res.requests) };
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(requests)) {
      if (k === "cpu") out.cpu = cpuMillis(v);
      else if (k === "memory") out.memory = memoryMib(v);
      else if (k.includes("/") || k === "ephemeral-storage") out[k] = Number(v);
    }
    return out;
  };
  const total: Record<string, number> = {};
  for (const c of arr(spec.containers))
    for (const [k, v] of Object.entries(of(c))) total[k] = (total[k] ?? 0) + v;
  for (const c of arr(spec.initContainers))
    for (const [k, v] of Object.entries(of(c))) total[k] = Math.max(total[k] ?? 0, v);
  delete total["ephemeral-storage"];
  return total;
}

/** The DaemonSets whose pods land on the node: selectors, affinity and tolerations hold. */
export function daemonSetsOn(node: NodeShape, pods: PodTemplate[]): PodTemplate[] {
  return pods.filter(
    (p) =>
      p.kind === "DaemonSet" &&
      labelMismatch(p.spec, node.labels) === undefined &&
      untoleratedTaints(p.spec, node.taints).length === 0,
  );
}

/** What a node leaves for one more pod: allocatable less the requests of its DaemonSets. */
export interface NodeRoom {
  cpuMillis: number;
  memoryMib: number;
  pods: number;
  /** Each DaemonSet that takes CPU or memory there, and how much. */
  takenBy: { workload: string; cpuMillis: number; memoryMib: number }[];
}

/** The room the node's DaemonSets (`daemonSets`, the pod itself left out) leave for `pod`. */
export function roomFor(pod: PodTemplate, node: NodeShape, daemonSets: PodTemplate[]): NodeRoom {
  const others = daemonSets.filter((d) => d !== pod);
  const takenBy = others
    .map((d) => {
      const r = podRequests(d.spec);
      return { workload: d.workload, cpuMillis: r.cpu ?? 0, memoryMib: r.memory ?? 0 };
    })
    .filter((t) => t.cpuMillis > 0 || t.memoryMib > 0);
  const sum = (k: "cpuMillis" | "memoryMib") => takenBy.reduce((a, t) => a + t[k], 0);
  return {
    cpuMillis: node.allocatable.cpuMillis - sum("cpuMillis"),
    memoryMib: node.allocatable.memoryMib - sum("memoryMib"),
    pods: node.allocatable.pods - others.length,
    takenBy,
  };
}

const mib = (v: number) => `${Math.round(v)} MiB`;

/** Why the pod's CPU, memory or pod slot does not fit in the room the node leaves, or undefined. */
export function resourceMisfit(
  pod: PodTemplate,
  node: NodeShape,
  daemonSets: PodTemplate[],
): string | undefined {
  const req = podRequests(pod.spec);
  const room = roomFor(pod, node, daemonSets);
  const a = node.allocatable;
  const taken = (k: "cpuMillis" | "memoryMib", show: (v: number) => string) => {
    const list = room.takenBy.filter((t) => t[k] > 0).map((t) => `${t.workload} ${show(t[k])}`);
    return list.length > 0 ? `, less DaemonSets ${list.join(", ")}` : "";
  };
  if ((req.cpu ?? 0) > room.cpuMillis)
    return `it requests ${req.cpu}m CPU and ${node.instanceType} has ${room.cpuMillis}m left (capacity ${a.capacity.cpuMillis}m, allocatable ${a.cpuMillis}m${taken("cpuMillis", (v) => `${v}m`)})`;
  if ((req.memory ?? 0) > room.memoryMib)
    return `it requests ${mib(req.memory)} and ${node.instanceType} has ${mib(room.memoryMib)} left (capacity ${mib(a.capacity.memoryMib)}, allocatable ${mib(a.memoryMib)}${taken("memoryMib", mib)})`;
  if (pod.kind !== "DaemonSet" && room.pods < 1)
    return `${node.instanceType} runs at most ${a.pods} pods and its DaemonSets take them all`;
  return undefined;
}

/** Why the pod does not fit the node, or undefined when it lands there. */
function misfit(
  pod: PodTemplate,
  node: NodeShape,
  advertised: Set<string>,
  daemonSets: PodTemplate[],
): string | undefined {
  const label = labelMismatch(pod.spec, node.labels);
  if (label) return `its ${label} matches no label of the group`;
  const taints = untoleratedTaints(pod.spec, node.taints);
  if (taints.length > 0) return `it does not tolerate ${taints.join(", ")}`;
  const resources = resourceMisfit(pod, node, daemonSets);
  if (resources) return resources;
  const req = podRequests(pod.spec);
  for (const [k, v] of Object.entries(req)) {
    if (k === "cpu" || k === "memory" || v <= 0) continue;
    const have = node.accelerator?.resource === k ? node.accelerator.count : 0;
    if (have < v) return `it requests ${v} ${k} and ${node.instanceType} has ${have}`;
    if (!advertised.has(`${node.group}/${k}`))
      return `it requests ${k}, which no device plugin advertises there`;
  }
  return undefined;
}

/**
 * Every problem with where the stack's pods land. `render` renders a local chart (the real helm
 * by default).
 */
export function checkScheduling(
  resources: CapturedResource[],
  render: ChartRenderer = renderWithHelm,
): Finding[] {
  const nodes = nodeShapes(resources);
  const { pods, findings } = podTemplates(resources, render);
  const ours = pods.filter((p) => !p.managed);
  if (ours.length === 0) return findings;
  if (nodes.length === 0) {
    return [
      ...findings,
      {
        check: CHECK,
        resource: ours[0].resource,
        message: "the stack deploys pods but creates no node group",
      },
    ];
  }
  // What every node's DaemonSets take from it, whatever else lands there.
  const daemonSets = new Map(nodes.map((n) => [n, daemonSetsOn(n, pods)]));
  // Device plugins first: an extended resource exists on a group only where its plugin lands, or
  // where the node runs its own (Auto Mode).
  const advertised = new Set<string>();
  for (const node of nodes)
    if (node.builtinDevicePlugin && node.accelerator)
      advertised.add(`${node.group}/${node.accelerator.resource}`);
  const doubled = new Map<string, Set<string>>();
  for (const plugin of ours.filter((p) => p.advertises)) {
    for (const node of nodes) {
      if (misfit(plugin, node, advertised, daemonSets.get(node)!)) continue;
      advertised.add(`${node.group}/${plugin.advertises}`);
      // Auto Mode runs its own plugin there: "do not install the NVIDIA/Neuron device plugin
      // DaemonSets onto Auto Mode nodes" (awslabs/ai-on-eks#249 treats it as a bug).
      if (node.builtinDevicePlugin && node.accelerator?.resource === plugin.advertises)
        doubled.set(plugin.resource, (doubled.get(plugin.resource) ?? new Set()).add(node.group));
    }
  }
  for (const [resource, groups] of doubled)
    findings.push({
      check: CHECK,
      resource,
      message: `${resource}'s device plugin lands on the Auto Mode nodes of ${[...groups].join(", ")}, which run Auto Mode's own: two plugins would advertise the same devices; keep it off Auto Mode nodes (eks.amazonaws.com/compute-type NotIn [auto]) or do not install it`,
    });
  const unadvertised = new Map<string, { resource: string; types: string[] }>();
  for (const node of nodes) {
    const r = node.accelerator?.resource;
    if (!r || advertised.has(`${node.group}/${r}`)) continue;
    const entry = unadvertised.get(node.group) ?? { resource: r, types: [] };
    entry.types.push(node.instanceType);
    unadvertised.set(node.group, entry);
  }
  for (const [group, { resource: r, types }] of unadvertised)
    findings.push({
      check: CHECK,
      resource: group,
      message: `node group ${group} (${types.join(", ")}) has ${r} devices but no device plugin lands on it, so ${r} is never advertised`,
    });
  findings.push(...poolFindings(resources));
  for (const pod of ours) {
    const reasons = nodes.map((n) => ({ n, why: misfit(pod, n, advertised, daemonSets.get(n)!) }));
    if (reasons.some((x) => x.why === undefined)) continue;
    const byGroup = [...new Map(reasons.map((x) => [x.n.group, x])).values()];
    findings.push({
      check: CHECK,
      resource: pod.resource,
      message: `${pod.kind} ${pod.workload} lands on no node group: ${byGroup.map((x) => `${x.n.group}: ${x.why}`).join("; ")}`,
    });
  }
  return findings;
}

/**
 * Karpenter's pools: a NodePool whose requirements name no instance type the catalog knows is
 * refused (nothing it launches can be checked or priced), and each accelerator workload (a release
 * with `accelerator.count` per pod) must fit the limit of every pool that selects it at its most
 * replicas, or the HPA asks for pods no node is launched for.
 */
export function poolFindings(resources: CapturedResource[]): Finding[] {
  const findings: Finding[] = [];
  const pools = resources.filter((r) => r.type === NODE_POOL_TYPE);
  const classes = resources.filter(
    (r) => r.type === NODE_CLASS_TYPE || r.type === AUTO_NODE_CLASS_TYPE,
  );
  for (const pool of pools) {
    const finding = (message: string) =>
      findings.push({
        check: CHECK,
        resource: pool.name,
        message: `NodePool ${pool.name} ${message}`,
      });
    // Its node class: one the stack creates, of the kind it names (a pool without one is refused
    // by Karpenter's schema).
    const ref = nodePoolClassRef(pool.inputs);
    if (
      ref.name !== undefined &&
      !classes.some((c) => c.inputs.kind === ref.kind && obj(c.inputs.metadata).name === ref.name)
    )
      finding(
        `names ${String(ref.kind)} ${String(ref.name)}, which the stack does not create: no node is launched for it`,
      );
    if (isAutoModePool(pool.inputs)) {
      // Auto Mode's own rules for a pool (catalog/karpenter.ts, "EKS Auto Mode").
      const template = obj(obj(obj(pool.inputs.spec).template).spec);
      const life =
        (durationHours(template.expireAfter) ?? 0) +
        (durationHours(template.terminationGracePeriod) ?? 24);
      if (life > AUTO_MODE_MAX_NODE_HOURS)
        finding(
          `lets a node live ${life} h (expireAfter and terminationGracePeriod together), beyond Auto Mode's ${AUTO_MODE_MAX_NODE_HOURS} h: Auto Mode refuses the pool`,
        );
      if (nodePoolRequirement(pool.inputs, "kubernetes.io/os") !== undefined)
        finding(
          "requires kubernetes.io/os, a label Auto Mode does not support (create-node-pool.adoc): it runs Linux only",
        );
    }
    const types = nodePoolInstanceTypes(pool.inputs);
    if (!types.some((t) => findInstance(t) !== undefined))
      findings.push({
        check: CHECK,
        resource: pool.name,
        message: `NodePool ${pool.name} requires instance types the catalog does not know (${types.join(", ") || "none listed"}), so its nodes cannot be checked or priced`,
      });
  }
  for (const release of resources) {
    const demand = acceleratorDemand(release);
    if (!demand) continue;
    const { perPod, peak: replicas } = demand;
    for (const pool of pools) {
      const labels = nodePoolLabels(pool.name, pool.inputs);
      if (!demand.selector.every(([k, v]) => labels[k] === String(v))) continue;
      const resource = findInstance(nodePoolInstanceTypes(pool.inputs)[0] ?? "");
      const name = resource ? kubernetesResourceFor(resource) : undefined;
      const limit = name ? nodePoolLimit(pool.inputs, name) : undefined;
      if (name && limit !== undefined && limit < replicas * perPod)
        findings.push({
          check: CHECK,
          resource: pool.name,
          message: `NodePool ${pool.name} limits ${name} to ${limit}, below the ${replicas * perPod} that ${release.name}'s ${replicas} replica(s) x ${perPod} need: raise its maxAccelerators or lower the replicas`,
        });
    }
  }
  return findings;
}
