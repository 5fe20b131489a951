/**
 * The next follow-up of a programme whose 规范管理 is a chain of follow-ups (hypertension,
 * diabetes): chronic care's next due date (`next_due`), kept as one more item of the episode in
 * prog_item (code `next-follow-up`, 下次随访) by the processor and the full recompute. Its window
 * opens on the due day and closes after the tolerance (`[due, due + toleranceDays]`, on time
 * until then, overdue after), and it is never delivered: the next follow-up moves it on. The
 * worklist and the due services list it instead of the yearly items of the same service
 * (年度随访), and keep listing it while overdue (it has no later item to give way to). Pure.
 */
import { versionOn, type Programme } from './definition.js';
import { addDays, nextFollowUp, type Episode, type NextReason } from './engine.js';
import { chainService } from './summary.js';

export const NEXT_FOLLOW_UP = 'next-follow-up';
export const NEXT_FOLLOW_UP_NAME = '下次随访';

/** Why the next follow-up falls on its day, in words (the worklist's 规范要求 column). */
export function nextFollowUpText(reason: NextReason, last: string | null, start: string): string {
  if (reason.kind === 'first') return `纳入管理（${start}）后尚无随访，应尽早随访`;
  const within = reason.days === 0 ? '当日' : `${reason.days}天内`;
  switch (reason.kind) {
    case 'urgent':
      return `上次随访（${last}）有危急情况：${within}随访`;
    case 'finding':
      return `上次随访（${last}）：${reason.finding}`;
    case 'controlled':
      return `上次随访（${last}）达标：${within}随访`;
    case 'uncontrolled':
      return `上次随访（${last}）未达标：${within}随访`;
    default:
      return `上次随访（${last}）未能判断是否达标：${within}随访`;
  }
}

/** The item row of an episode's next follow-up (prog_item columns), or null when the programme chains no follow-ups or the episode ends first. */
export function nextFollowUpItem(p: Programme, ep: Episode, birthDate: string | null): Record<string, unknown> | null {
  const service = chainService(p);
  if (!service) return null;
  const next = nextFollowUp(p, ep, birthDate, service);
  if (!next) return null;
  if (ep.end !== null && next.due >= ep.end) return null;
  const to = addDays(next.due, next.toleranceDays + 1);
  return {
    item: NEXT_FOLLOW_UP,
    name: NEXT_FOLLOW_UP_NAME,
    window_from: next.due,
    window_to: ep.end !== null && ep.end < to ? ep.end : to,
    recommended: nextFollowUpText(next.reason, next.last, ep.start),
    delivered_on: null,
    delivered_ref: null,
    version: versionOn(p, next.due).version,
  };
}

/**
 * The scheduled items the next follow-up stands in for on the worklist and in the due services,
 * as "programme|item": the items of the chained service (年度随访). Stored and counted as before
 * (registry, drill-down); an episode without a next-follow-up row yet (derived before it existed)
 * still lists them.
 */
export function supersededItems(programmes: Programme[]): string[] {
  const out = new Set<string>();
  for (const p of programmes) {
    const service = chainService(p);
    if (!service) continue;
    for (const v of p.versions) for (const it of v.schedule.items) if (it.service === service) out.add(`${p.code}|${it.code}`);
  }
  return [...out];
}
