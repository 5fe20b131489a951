/**
 * The programmes' part of a resident's due-services list (the check-in desk, the resident
 * portal): each scheduled service of the basic public-health programmes that is due today or was
 * missed in the last month (a child's 12-month check, the 65+ annual check, a tuberculosis
 * patient's monthly visit, an antenatal visit), in words, with the programme's name. The item
 * windows tile each schedule, so a service missed long ago has given way to the next one, which
 * is then due. Hypertension and diabetes list their next follow-up instead (下次随访, due on the
 * day the last follow-up set, overdue after the tolerance, listed until it is made; see
 * next-follow-up.ts).
 */
import type { DueItem } from '../care/schemas.js';
import type { Sql } from '../services.js';
import { loadProgrammes, type Programme } from './definition.js';
import { NEXT_FOLLOW_UP, supersededItems } from './next-follow-up.js';
import { residentItems } from './store.js';

/** How long a missed item stays on the list. */
export const MISSED_WITHIN_DAYS = 30;

let loaded: Programme[] | undefined;
/** The programme files, read once (a bad file already stopped the server at start). */
const programmesOnce = (): Programme[] => (loaded ??= loadProgrammes());

/** Due and recently missed programme services of a resident's Patient records (one line per item, earliest window first). */
export async function programmeDueItems(
  db: Sql,
  patientIds: string[],
  asOf: string,
  programmes: Programme[] = programmesOnce(),
): Promise<DueItem[]> {
  if (!patientIds.length) return [];
  const names = new Map(programmes.map((p) => [p.code, p.name]));
  const seen = new Set<string>();
  const out: DueItem[] = [];
  // Nothing ahead (due today or missed), and nothing for a resident who has died.
  const superseded = supersededItems(programmes);
  for (const r of await residentItems(db, patientIds, asOf, 0, MISSED_WITHIN_DAYS, {
    livingOnly: true,
    superseded,
    implicit: programmes,
  })) {
    const overdue = r.status === 'overdue';
    const programmeName = names.get(r.programme);
    if (!programmeName) continue;
    // A Person's several records can carry the same item: listed once.
    const key = `programme:${r.programme}:${r.item}:${r.windowFrom}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const next = r.item === NEXT_FOLLOW_UP;
    // The next follow-up (hypertension, diabetes): the agreed day and the last day on time.
    const when = next
      ? `约定 ${r.windowFrom} 随访，最迟 ${r.windowLast}${overdue ? '，已逾期' : ''}`
      : overdue
        ? `应在 ${r.windowFrom} 至 ${r.windowLast} 完成，已逾期`
        : `${r.windowFrom} 至 ${r.windowLast}`;
    out.push({
      kind: 'programme',
      key,
      title: r.itemName,
      detail: `${programmeName}：${r.recommended ? `${r.recommended}，` : ''}${when}`,
      dueDate: r.windowLast,
      overdue,
      patientId: r.patientId,
      programme: { code: r.programme, name: programmeName, item: r.item },
      i18n: {
        title: `programme.item.${r.programme}.${r.item}`,
        detail: next
          ? overdue
            ? 'care.due.programme.nextFollowUp.overdue'
            : 'care.due.programme.nextFollowUp'
          : overdue
            ? 'care.due.programme.overdue'
            : 'care.due.programme.detail',
        params: {
          programme: r.programme,
          item: r.item,
          from: r.windowFrom,
          to: r.windowLast,
          ...(r.recommended ? { recommended: r.recommended } : {}),
        },
      },
    });
  }
  return out;
}
