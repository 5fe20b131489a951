/**
 * Keeps inv_stay in step with the FHIR store: every Encounter written or deleted (FHIR API, HL7
 * ADT, hospital CSV feeds) has its stays recomputed (stays.ts), so co-stay candidates are one
 * index range per place. Idempotent: a change replaces the encounter's rows.
 */
import type { Encounter, Task } from '@medplum/fhirtypes';
import type pg from 'pg';
import type { ChangeRecord, Processor } from '../platform/processors.js';
import { autoOpenRule, CARD_TASK_STATUS, diseaseFor, type CardStatus, type InvestigationRules } from './rules.js';
import { staysOf, type StayRow } from './stays.js';
import { replaceStays } from './store.js';
import { queueAutoOpen } from './store-visits.js';
import { addDays, todayInChina } from '../shared/dates.js';

export function stayProcessor(): Processor {
  return {
    name: 'investigation-stays',
    types: ['Encounter'],
    async handle(changes: ChangeRecord[], client: pg.PoolClient): Promise<void> {
      const latest = new Map<string, ChangeRecord>();
      for (const c of changes) latest.set(c.id, c);
      const rows: StayRow[] = [];
      for (const c of latest.values()) if (!c.deleted && c.resource) rows.push(...staysOf(c.resource as Encounter));
      await replaceStays(client, [...latest.keys()], rows);
    },
  };
}

/** Identifier system of the surveillance module's report-card Tasks. */
const REPORT_CARD_ID_SYSTEM = 'https://yifang.health/fhir/sid/report-card';
const CARD_STATUS_OF_TASK: Partial<Record<string, CardStatus>> = Object.fromEntries(
  Object.entries(CARD_TASK_STATUS).map(([card, task]) => [task, card as CardStatus]),
);

/** The event the processor emits when it queued cards: the main thread's follow-up job opens them. */
export const AUTO_OPEN_EVENT = 'investigation:auto-open';

/**
 * Report cards that open an investigation by themselves: every report-card Task written (by the
 * surveillance module, whatever the channel) whose disease and status the rules select is queued
 * once (inv_auto_open, keyed by card), in the processor's own transaction; the main thread's
 * follow-up job opens it with its audit. Idempotent: a card rewritten (reviewed, corrected) is
 * not queued again.
 */
export function autoOpenProcessor(rules: InvestigationRules, emit: (event: string, payload: unknown) => void): Processor {
  return {
    name: 'investigation-auto-open',
    types: ['Task'],
    async handle(changes: ChangeRecord[], client: pg.PoolClient): Promise<void> {
      let queued = 0;
      const latest = new Map<string, ChangeRecord>();
      for (const c of changes) latest.set(c.id, c);
      for (const c of latest.values()) {
        const task = c.resource as Task | null;
        if (c.deleted || !task) continue;
        const cardId = task.identifier?.find((i) => i.system === REPORT_CARD_ID_SYSTEM)?.value;
        if (!cardId || !task.for?.reference?.startsWith('Patient/')) continue;
        const status = CARD_STATUS_OF_TASK[task.status];
        const code = task.input?.find((i) => i.type?.coding?.some((x) => x.code === 'disease.icd10'))?.valueString;
        if (!status || !code) continue;
        // Old cards (the history replayed when this processor first starts, a district's past loaded) open nothing.
        const written = Date.parse(task.lastModified ?? task.authoredOn ?? '');
        if (!Number.isNaN(written) && Date.now() - written > rules.autoOpen.maxCardAgeHours * 3_600_000) continue;
        const onset = task.input?.find((i) => i.type?.coding?.some((x) => x.code === 'onsetDate'))?.valueString;
        if (onset && onset.slice(0, 10) < addDays(todayInChina(), -rules.autoOpen.maxOnsetAgeDays)) continue;
        const disease = diseaseFor(rules, code);
        const rule = disease && autoOpenRule(rules, disease, status);
        if (!disease || !rule) continue;
        if (await queueAutoOpen(client, { cardId, taskId: c.id, diseaseKey: disease.key, rule })) queued++;
      }
      if (queued) emit(AUTO_OPEN_EVENT, { queued });
    },
  };
}
