/**
 * Daily monitoring of close contacts as FHIR Tasks (pure): which days of a contact's window to
 * plan now (today and the next `planDaysAhead` days, never the whole window at once), the member
 * of the team each day's visit goes to (round robin over the team's members), when a missed
 * visit escalates, and the Task itself.
 */
import type { Task } from '@medplum/fhirtypes';
import { addDays, dayRange } from '../shared/dates.js';
import { dayStart } from './follow-up.js';

export const VISIT_TASK_CODE_SYSTEM = 'https://yifang.health/fhir/CodeSystem/investigation-task';
export const VISIT_ID_SYSTEM = 'https://yifang.health/fhir/sid/investigation-visit';
/** The team member a daily monitoring Task is assigned to (Task.owner is the team). */
export const TASK_ASSIGNEE_EXTENSION = 'https://yifang.health/fhir/StructureDefinition/task-assignee';

/** A user of Yifang (the investigator) named on a Task: not a FHIR resource, so by identifier. */
export const USERNAME_SYSTEM = 'https://yifang.health/fhir/sid/username';

const HOUR = 3_600_000;

/**
 * A team or member as a FHIR Reference: `CareTeam/…`, `Organization/…`, `Practitioner/…` as they
 * are; `user:<username>` (the investigation's investigator) by identifier; `organization:<name>` (an
 * investigating organisation known only by name) by display.
 */
export function ownerReference(ref: string, display: string | null): NonNullable<Task['owner']> {
  if (ref.startsWith('user:')) return { identifier: { system: USERNAME_SYSTEM, value: ref.slice(5) }, display: display ?? ref.slice(5) };
  if (ref.startsWith('organization:')) return { display: display ?? ref.slice(13) };
  return { reference: ref, ...(display ? { display } : {}) };
}

/**
 * The days to plan for a contact now: from the later of the next unplanned day, the window start
 * and the day the contact was confirmed, to the earlier of the window end and `through`; and the
 * next day to plan afterwards (null once the window is planned to its end). At most `maxDays` per
 * call, so a long outage catches up over several steps.
 */
export function daysToPlan(
  k: { planFrom: string; followUpStart: string; followUpEnd: string; confirmedDay: string },
  through: string,
  maxDays = 31,
): { days: string[]; next: string | null } {
  const from = [k.planFrom, k.followUpStart, k.confirmedDay].sort()[2]!;
  const until = [k.followUpEnd, through].sort()[0]!;
  if (from > until) return { days: [], next: from > k.followUpEnd ? null : from };
  const days = dayRange(from, until).slice(0, maxDays);
  const last = days[days.length - 1]!;
  return { days, next: last >= k.followUpEnd ? null : addDays(last, 1) };
}

/** When a day's visit escalates: the day is missed when it ends without a check, and escalates `afterHours` later. */
export function escalateAt(day: string, afterHours: number): string {
  return new Date(dayStart(day) + 24 * HOUR + afterHours * HOUR).toISOString();
}

/** The member each of `n` visits goes to, taking turns from `firstTurn` (none when the team lists no member). */
export function roundRobin<T>(members: readonly T[], firstTurn: number, n: number): (T | undefined)[] {
  return Array.from({ length: n }, (_, i) => (members.length ? members[(firstTurn + i) % members.length] : undefined));
}

export const visitTaskId = (contactId: number, day: string) => `inv-visit-${contactId}-${day}`;

export type VisitState = 'due' | 'done' | 'escalated' | 'cancelled';

const TASK_STATUS: Record<VisitState, Task['status']> = {
  due: 'requested',
  done: 'completed',
  escalated: 'requested',
  cancelled: 'cancelled',
};
const BUSINESS_STATUS: Record<VisitState, string> = {
  due: '待随访',
  done: '已完成',
  escalated: '漏访已上报',
  cancelled: '已取消',
};

/** The daily monitoring Task of one contact and day: owned by the team, focused on the contact, assigned to one member. */
export function visitTask(v: {
  contactId: number;
  day: string;
  patientId: string;
  investigationId: number;
  diseaseName: string;
  team: string | null;
  teamName: string | null;
  assignee: string | null;
  assigneeName: string | null;
  escalateAt: string;
  state: VisitState;
  /** The hand-over note (协查) of a visit the investigation's owner keeps. */
  note?: string | null;
}): Task {
  const start = new Date(dayStart(v.day)).toISOString();
  const end = new Date(dayStart(v.day) + 24 * HOUR - 1000).toISOString();
  return {
    resourceType: 'Task',
    id: visitTaskId(v.contactId, v.day),
    identifier: [{ system: VISIT_ID_SYSTEM, value: `${v.contactId}|${v.day}` }],
    status: TASK_STATUS[v.state],
    businessStatus: { text: BUSINESS_STATUS[v.state] },
    intent: 'order',
    priority: v.state === 'escalated' ? 'urgent' : 'routine',
    code: { coding: [{ system: VISIT_TASK_CODE_SYSTEM, code: 'daily-monitoring', display: '密切接触者每日健康监测' }] },
    description: `${v.diseaseName}密切接触者每日健康监测 ${v.day}（流调 ${v.investigationId}）`,
    focus: { reference: `Patient/${v.patientId}` },
    for: { reference: `Patient/${v.patientId}` },
    executionPeriod: { start, end },
    restriction: { period: { end: v.escalateAt } },
    authoredOn: new Date().toISOString(),
    lastModified: new Date().toISOString(),
    ...(v.team ? { owner: ownerReference(v.team, v.teamName) } : {}),
    ...(v.assignee ? { extension: [{ url: TASK_ASSIGNEE_EXTENSION, valueReference: ownerReference(v.assignee, v.assigneeName) }] } : {}),
    ...(v.note ? { note: [{ text: v.note }] } : {}),
  };
}
