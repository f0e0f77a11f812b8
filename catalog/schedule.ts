/**
 * Off-hours scale-down: the working-hours window a stack names, the cron expressions of the
 * scheduled actions that enforce it, and how much of a week each scheduled size is in force (what
 * the cost estimator multiplies by).
 *
 * Two dialects of cron (both read here):
 * - Auto Scaling group schedules (`aws.autoscaling.Schedule.recurrence`) take Unix cron,
 *   `minute hour day-of-month month day-of-week`, with an IANA `timeZone`
 *   (docs.aws.amazon.com/autoscaling/ec2/userguide/scheduled-scaling-recurring-schedules.html).
 * - Application Auto Scaling scheduled actions (`aws.appautoscaling.ScheduledAction.schedule`) take
 *   `cron(minutes hours day-of-month month day-of-week year)` with `?` for an unused day field and
 *   an IANA `timezone` (docs.aws.amazon.com/autoscaling/application/APIReference/API_PutScheduledAction.html).
 * Days are written as names (MON-FRI) so both dialects read them the same way.
 */

/** The working hours of a stack; outside them, what can scale down does. */
export interface OffHoursWindow {
  /** IANA time zone the hours are in. */
  timezone: string;
  /** Working days: names, ranges and lists of MON..SUN (`MON-FRI`, `MON,WED,FRI`). */
  workDays: string;
  /** Hour the working day starts (scale up), 0-22. */
  startHour: number;
  /** Hour the working day ends (scale down), 1-23, after startHour. */
  endHour: number;
  /** Also scale the EKS system node group to zero (nothing runs in the cluster off hours). */
  systemNodes: boolean;
}

export const DEFAULT_OFF_HOURS: Readonly<Omit<OffHoursWindow, "systemNodes">> = {
  timezone: "Etc/UTC",
  workDays: "MON-FRI",
  startHour: 8,
  endHour: 20,
};

import { timezoneProblem } from "./timezones";

const DAY_NAMES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/** The days a day-of-week field names (0 = Sunday), or undefined when it is not names/`*`/`?`. */
export function parseDays(field: string): Set<number> | undefined {
  if (field === "*" || field === "?") return new Set([0, 1, 2, 3, 4, 5, 6]);
  const days = new Set<number>();
  for (const part of field.toUpperCase().split(",")) {
    const [from, to] = part.split("-");
    const a = DAY_NAMES.indexOf(from);
    const b = to === undefined ? a : DAY_NAMES.indexOf(to);
    if (a < 0 || b < 0 || (to !== undefined && b < a)) return undefined;
    for (let d = a; d <= b; d++) days.add(d);
  }
  return days;
}

/** Problems with a window, each a sentence naming the field (empty when it is valid). */
export function validateOffHoursWindow(w: Omit<OffHoursWindow, "systemNodes">): string[] {
  const problems: string[] = [];
  const zone = timezoneProblem(w.timezone);
  if (zone !== undefined) problems.push(`timezone ${zone}`);
  if (typeof w.workDays !== "string" || parseDays(w.workDays) === undefined) {
    problems.push(
      `workDays must be day names, ranges or lists of MON..SUN such as MON-FRI, got ${JSON.stringify(w.workDays)}`,
    );
  }
  const startValid = Number.isInteger(w.startHour) && w.startHour >= 0 && w.startHour <= 22;
  if (!startValid) {
    problems.push(`startHour must be an integer from 0 to 22, got ${JSON.stringify(w.startHour)}`);
  }
  if (!Number.isInteger(w.endHour) || w.endHour < 1 || w.endHour > 23) {
    problems.push(`endHour must be an integer from 1 to 23, got ${JSON.stringify(w.endHour)}`);
  } else if (startValid && w.endHour <= w.startHour) {
    problems.push(`endHour (${w.endHour}) must be after startHour (${w.startHour})`);
  }
  return problems;
}

/** Unix cron for an Auto Scaling group schedule at `hour`:00 on the working days. */
export function autoScalingRecurrence(window: OffHoursWindow, hour: number): string {
  return `0 ${hour} * * ${window.workDays.toUpperCase()}`;
}

/** Application Auto Scaling cron at `hour`:00 on the working days. */
export function applicationAutoScalingSchedule(window: OffHoursWindow, hour: number): string {
  return `cron(0 ${hour} ? * ${window.workDays.toUpperCase()} *)`;
}

/** When a recurring action fires: minute, hour and days of the week. */
export interface Recurrence {
  minute: number;
  hour: number;
  days: Set<number>;
}

/**
 * Reads either cron dialect. Only fixed minutes and hours, any day of month and month, and
 * day-of-week names are understood; anything else is undefined (the estimator then ignores the
 * schedule and says so).
 */
export function parseRecurrence(expression: string): Recurrence | undefined {
  const inner = /^cron\((.*)\)$/.exec(expression.trim())?.[1];
  const fields = (inner ?? expression).trim().split(/\s+/);
  if (inner !== undefined ? fields.length !== 6 : fields.length !== 5) return undefined;
  const [minute, hour, dom, month, dow] = fields;
  if (!/^\d+$/.test(minute) || !/^\d+$/.test(hour)) return undefined;
  if (!["*", "?"].includes(dom) || month !== "*") return undefined;
  if (inner !== undefined && fields[5] !== "*") return undefined;
  const days = parseDays(dow);
  if (!days || Number(minute) > 59 || Number(hour) > 23) return undefined;
  return { minute: Number(minute), hour: Number(hour), days };
}

const MINUTES_PER_WEEK = 7 * 24 * 60;

/**
 * The share of a week each action's sizes are in force: index -> fraction, summing to 1. Each
 * action holds from when it fires until the next one fires. Undefined when no action fires in a
 * week.
 */
export function weekShares(actions: Recurrence[]): number[] | undefined {
  if (actions.length === 0) return undefined;
  const firesAt = (minuteOfWeek: number): number | undefined => {
    const day = Math.floor(minuteOfWeek / 1440);
    const hour = Math.floor((minuteOfWeek % 1440) / 60);
    const minute = minuteOfWeek % 60;
    let fired: number | undefined;
    actions.forEach((a, i) => {
      if (a.days.has(day) && a.hour === hour && a.minute === minute) fired = i;
    });
    return fired;
  };
  let state: number | undefined;
  // One week to settle into the state the week starts in, then count the next.
  for (let m = 0; m < MINUTES_PER_WEEK; m++) state = firesAt(m) ?? state;
  if (state === undefined) return undefined;
  const minutes = actions.map(() => 0);
  for (let m = 0; m < MINUTES_PER_WEEK; m++) {
    state = firesAt(m) ?? state;
    minutes[state!] += 1;
  }
  return minutes.map((n) => n / MINUTES_PER_WEEK);
}
