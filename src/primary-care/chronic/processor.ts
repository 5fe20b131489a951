/**
 * The change-log processor of chronic care: keeps the fact tables and the derived registries,
 * schedules and visit evaluations current as resources arrive, and turns hospital discharges
 * of contracted residents into down-referral tasks for their family doctor. Home readings a
 * resident entered are copied only while they share them with the family doctor (Consent and
 * Person changes re-check it: resident-readings.ts).
 */
import type { Task } from '@medplum/fhirtypes';
import type { FhirRepository } from '../../fhir/repository.js';
import type { Processor } from '../../platform/processors.js';
import type { ChronicConfig } from './context.js';
import { addDays, todayInChina } from '../../shared/dates.js';
import { ruleSetFor } from './rules.js';
import { reconcileResidentReadings } from './resident-readings.js';
import { applyChanges, CHOICE_TYPES, FACT_TYPES, refreshPatients } from './store.js';
import { REFERRAL_TASK_SYSTEM } from './uris.js';

export function chronicProcessor(config: ChronicConfig, repo: FhirRepository, today: () => string = () => todayInChina()): Processor {
  return {
    name: 'chronic-care',
    types: [...FACT_TYPES, ...CHOICE_TYPES],
    async handle(changes, client) {
      const day = today();
      const rules = ruleSetFor(config.sets, day);
      const applied = await applyChanges(client, changes, rules);
      // Sharing choices changed: home readings removed while withheld, copied again once shared.
      for (const id of await reconcileResidentReadings(client, applied.choicesChanged, rules)) applied.patients.add(id);
      await refreshPatients(client, [...applied.patients], config.sets, day);
      if (applied.teamsChanged)
        await client.query(
          `UPDATE chronic_registry r SET team_id = m.team_id FROM care_team_member m WHERE r.team_id IS NULL AND m.practitioner_id = r.doctor_id`,
        );
      for (const e of applied.discharges) {
        const contract = await client.query<{ team_id: string; doctor: string | null }>(
          `SELECT c.team_id, (SELECT practitioner_id FROM care_team_member m WHERE m.team_id = c.team_id ORDER BY practitioner_id LIMIT 1) AS doctor
           FROM care_contract c WHERE c.patient_id = $1 AND c.status = 'active' LIMIT 1`,
          [e.patient_id],
        );
        const c = contract.rows[0];
        if (!c) continue;
        const id = `down-${e.encounter_id}`.slice(0, 64);
        // At-least-once delivery: a task already written for this discharge is not written again.
        const exists = await client.query(`SELECT 1 FROM resource_history WHERE resource_type = 'Task' AND id = $1 LIMIT 1`, [id]);
        if (exists.rows.length) continue;
        const due = addDays(e.ended_on!, ruleSetFor(config.sets, e.ended_on!).followUp.referralFollowUpWithinDays);
        const task: Task = {
          resourceType: 'Task',
          id,
          status: 'requested',
          intent: 'order',
          priority: 'routine',
          code: { coding: [{ system: REFERRAL_TASK_SYSTEM, code: 'down-referral', display: '下转（出院随访）' }] },
          description: '出院下转：请家庭医生查看出院小结并在期限内随访',
          for: { reference: `Patient/${e.patient_id}` },
          encounter: { reference: `Encounter/${e.encounter_id}` },
          authoredOn: new Date().toISOString(),
          requester: e.organization_id ? { reference: `Organization/${e.organization_id}` } : undefined,
          owner: c.doctor ? { reference: `Practitioner/${c.doctor}` } : { reference: `CareTeam/${c.team_id}` },
          restriction: { period: { end: due } },
          input: [{ type: { text: '出院小结' }, valueReference: { reference: `Encounter/${e.encounter_id}` } }],
        };
        await repo.update('Task', id, task, {}, client);
      }
    },
  };
}
