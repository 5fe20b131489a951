/**
 * Weekly reminders: for each portal account, what is due for the resident and their wards
 * (vaccines by the schedule, open service Tasks within a week) merged into one message per ISO
 * week, through the outbox — an in-portal notice and an SMS, each only if the resident keeps it
 * on. The (account, week) key makes a second run in the same week send nothing. Items of earlier
 * reminders that are no longer due are marked done.
 */
import type { Patient } from '@medplum/fhirtypes';
import { todayInChina } from '../shared/dates.js';
import type { ReminderRun } from './schemas.js';
import { dueThings, nameOf, type PortalDeps } from './service.js';
import * as store from './store.js';
import { isoWeek, reminderText, type DueThing } from './words.js';
import { personOfPatient } from '../identity/index.js';

export async function runReminders(deps: PortalDeps): Promise<ReminderRun> {
  const today = todayInChina(deps.now().getTime());
  const week = isoWeek(today);
  let residents = 0;
  let messages = 0;
  let skippedOptOut = 0;
  for (const a of await store.accountsToRemind(deps.db, week)) {
    if (!a.sms && !a.notice) {
      skippedOptOut++;
      continue;
    }
    const people: { patient: Patient; ids: string[] }[] = [];
    const own = new Set(a.patient_ids);
    for (const id of a.patient_ids) {
      const view = await personOfPatient({ db: deps.db, repo: deps.repo, mpi: deps.mpi }, id);
      view?.patients.forEach((p) => own.add(p.patientId));
    }
    const first = await deps.repo.read('Patient', a.patient_ids[0]!).catch(() => undefined);
    if (first) people.push({ patient: first as Patient, ids: [...own] });
    for (const w of await store.wardsOf(deps.db, a.username)) {
      const p = await deps.repo.read('Patient', w.ward_patient_id).catch(() => undefined);
      if (p) people.push({ patient: p as Patient, ids: [w.ward_patient_id] });
    }
    const items: DueThing[] = [];
    for (const { patient, ids } of people)
      for (const d of await dueThings(deps, patient, ids, today))
        items.push({ ...d, key: `${patient.id}:${d.key}`, residentName: people.length > 1 ? nameOf(patient) : '' });
    await store.markRemindersDone(
      deps.db,
      a.username,
      items.map((i) => i.key),
    );
    if (!items.length) continue;
    const body = reminderText(items);
    const sent = await deps.db.transaction(async (c) => {
      const id = await store.claimReminder(c, a.username, week, items);
      if (!id) return 0;
      let n = 0;
      if (a.notice) {
        await store.enqueue(c, { channel: 'notice', kind: 'reminder', username: a.username, body, reminderId: id, status: 'delivered' });
        n++;
      }
      if (a.sms) {
        await store.enqueue(c, { channel: 'sms', kind: 'reminder', username: a.username, phone: a.phone, body, reminderId: id });
        n++;
      }
      return n;
    });
    if (sent) {
      residents++;
      messages += sent;
    }
  }
  if (messages) deps.poke();
  return { residents, messages, skippedOptOut };
}
