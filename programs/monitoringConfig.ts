/**
 * The `llm-infra:monitoring` config section: the stack's dashboard and the thresholds of the
 * serving-path alarms (Triton on EKS, the EC2 fleet, the API front door).
 *
 * ```yaml
 * llm-infra:monitoring:
 *   dashboard: true
 *   alarms:
 *     fleetResponseTimeP90Seconds: 45
 *     api4xxPerMinute: 100
 * ```
 */
import {
  DEFAULT_SERVING_ALARM_THRESHOLDS,
  ServingAlarmThresholds,
} from "../components/monitoring/servingAlarms";
import { validateServingMonitorArgs } from "../components/monitoring/servingMonitor";
import { fromComponent, readSection } from "./configReader";

export interface MonitoringConfig {
  /** A CloudWatch dashboard with one row per serving path. */
  dashboard: boolean;
  /** Every threshold, defaults filled in. */
  thresholds: ServingAlarmThresholds;
}

const PREFIX = "llm-infra:monitoring";
const THRESHOLD_KEYS = Object.keys(DEFAULT_SERVING_ALARM_THRESHOLDS);

export function parseMonitoringConfig(raw: unknown, problems: string[]): MonitoringConfig {
  const r = readSection(PREFIX, raw ?? {}, problems, ["dashboard", "alarms"]);
  const thresholds: ServingAlarmThresholds = { ...DEFAULT_SERVING_ALARM_THRESHOLDS };
  const given: Partial<ServingAlarmThresholds> = {};
  const alarms = r
    ? readSection(r.key("alarms"), r.value("alarms"), problems, THRESHOLD_KEYS)
    : undefined;
  for (const k of THRESHOLD_KEYS as (keyof ServingAlarmThresholds)[]) {
    const v = alarms?.number(k);
    if (v !== undefined) given[k] = v;
  }
  const errors = validateServingMonitorArgs({ thresholds: given });
  problems.push(...fromComponent(PREFIX, errors, { thresholds: "alarms" }));
  if (errors.length === 0) Object.assign(thresholds, given);
  return { dashboard: r?.boolean("dashboard") ?? true, thresholds };
}
