/**
 * The change-log processor of the programmes: keeps prog_person and prog_fact current from
 * Patient, Condition, Encounter, Observation, Procedure, EpisodeOfCare and Flag, then re-derives
 * the enrolments and items of the residents the batch touched. Idempotent: a batch seen twice
 * writes the same rows.
 */
import type { Processor } from '../../platform/processors.js';
import { todayInChina } from '../../shared/dates.js';
import type { Programme } from './definition.js';
import { PROGRAMME_FACT_TYPES } from './facts.js';
import { keepCounts } from './counts.js';
import { applyChanges, refreshResidents } from './store.js';

export function programmesProcessor(programmes: Programme[], today: () => string = () => todayInChina()): Processor {
  return {
    name: 'programmes',
    types: PROGRAMME_FACT_TYPES,
    async handle(changes, client) {
      // Kept indicator answers follow (counts.ts): what the residents add is counted before their
      // person rows (applyChanges) and derived rows (refreshResidents) change, and again after.
      const counts = await keepCounts(client, programmes);
      await counts.before(changes.filter((c) => c.type === 'Patient').map((c) => c.id));
      const touched = await applyChanges(client, changes, programmes);
      await refreshResidents(client, [...touched], programmes, today(), counts);
    },
  };
}
