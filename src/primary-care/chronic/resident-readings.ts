/**
 * Home readings a resident entered in the portal (Observations tagged record-source|resident-portal)
 * are copied into chronic_reading only while the resident shares them with the family doctor
 * (issue #22, choice share-with-family-doctor): the worklists, follow-up decisions and the
 * check-in list read that table, so a copy kept after the choice was withdrawn would show the
 * readings the access policy now refuses. The choices are the access policy's facts
 * (src/fhir/access.ts: the Consents of every Patient of the same Person, read in the processor's
 * transaction); the readings come back from the stored Observations when the choice is given again.
 */
import type { Observation } from '@medplum/fhirtypes';
import { isResidentEntered, patientsSharingChoices, residentsOf, residentsOfVersion, withdrawnChoicesOf } from '../../fhir/access.js';
import type { ConsentChoice } from '../../fhir/policy.js';
import { search } from '../../fhir/search.js';
import type { Queryable } from '../../platform/db.js';
import type { ChangeRecord } from '../../platform/processors.js';
import { LOINC_SYSTEM } from '../../shared/uris.js';
import { readingRow, type ReadingRow } from './facts.js';
import type { ChronicRuleSet } from './rules.js';

/** The choice that lets the family doctor see what the resident entered. */
export const HOME_READINGS_CHOICE: ConsentChoice = 'share-with-family-doctor';

/** The LOINC codes readingRow takes a reading from (blood pressure panel, fasting glucose, glucose, HbA1c). */
const READING_CODES = ['85354-9', '1558-6', '2339-0', '2345-7', '4548-4'];

/** Of these Patients, those whose resident-entered readings must not be copied now. */
export async function residentReadingsWithheld(db: Queryable, patientIds: readonly string[]): Promise<Set<string>> {
  const choices = await withdrawnChoicesOf(db, patientIds);
  return new Set([...choices].filter(([, withdrawn]) => withdrawn.has(HOME_READINGS_CHOICE)).map(([id]) => id));
}

/**
 * The residents a change to sharing choices concerns: a Consent's resident (a deletion: as its
 * version before said); the records a Person links now and linked before (a merge, an unlink, a
 * deletion). A new Person naming one record changes nobody's choices (a Patient's own Consents
 * count without it) and is passed over: one is written for every new Patient.
 */
export async function choicePatientsOf(db: Queryable, change: ChangeRecord): Promise<string[]> {
  if (change.type !== 'Consent' && change.type !== 'Person') return [];
  const now = change.resource && !change.deleted ? residentsOf(change.resource) : [];
  const before =
    change.versionId > 1 && (change.type === 'Person' || !now.length)
      ? await residentsOfVersion(db, change.type, change.id, change.versionId - 1)
      : [];
  const all = [...new Set([...now, ...before])];
  return change.type === 'Consent' || all.length > 1 || change.versionId > 1 ? all : [];
}

/** The stored resident-entered readings of some Patients (100 residents per search, 1000 per page). */
async function storedResidentReadings(db: Queryable, patientIds: string[]): Promise<Observation[]> {
  const out: Observation[] = [];
  const codes = READING_CODES.map((c) => `${LOINC_SYSTEM}|${c}`).join(',');
  for (let i = 0; i < patientIds.length; i += 100) {
    const subjects = patientIds
      .slice(i, i + 100)
      .map((id) => `Patient/${id}`)
      .join(',');
    for (let offset = 0; ; offset += 1000) {
      const r = await search(
        db,
        'Observation',
        {
          params: [
            ['subject', subjects],
            ['code', codes],
            ['_sort', '_id'],
            ['_count', '1000'],
            ['_offset', String(offset)],
          ],
        },
        'urn:yifang:primary-care',
      );
      const page = (r.bundle.entry ?? []).flatMap((e) => (e.resource?.resourceType === 'Observation' ? [e.resource] : []));
      out.push(...page.filter((o) => isResidentEntered(o)));
      if (page.length < 1000) break;
    }
  }
  return out;
}

/** Whether any Consent is about one of these Patients (100 per search, one result asked for). */
async function anyConsent(db: Queryable, patientIds: string[]): Promise<boolean> {
  for (let i = 0; i < patientIds.length; i += 100) {
    const patients = patientIds
      .slice(i, i + 100)
      .map((id) => `Patient/${id}`)
      .join(',');
    const r = await search(
      db,
      'Consent',
      {
        params: [
          ['patient', patients],
          ['_count', '1'],
        ],
      },
      'urn:yifang:primary-care',
    );
    if (r.bundle.entry?.some((e) => e.resource?.resourceType === 'Consent')) return true;
  }
  return false;
}

/**
 * After a change to sharing choices: for each concerned resident whose share-with-family-doctor
 * is withdrawn, removes the copies of what they entered; for the others, copies it again from
 * the stored Observations. Idempotent (the state now decides, not the change). A Person change
 * among residents none of whom has a Consent changes nothing (the identity module writes many)
 * and is passed over. Returns the residents whose readings may have changed.
 */
export async function reconcileResidentReadings(
  db: Queryable,
  changed: { consent: ReadonlySet<string>; person: ReadonlySet<string> },
  rules: ChronicRuleSet,
): Promise<Set<string>> {
  if (!changed.consent.size && !changed.person.size) return new Set();
  const concerned = await patientsSharingChoices(db, [...changed.consent, ...changed.person]);
  if (!concerned.length || (!changed.consent.size && !(await anyConsent(db, concerned)))) return new Set();
  const withheld = await residentReadingsWithheld(db, concerned);
  const stored = await storedResidentReadings(db, concerned);
  const drop: string[] = [];
  const keep: ReadingRow[] = [];
  for (const o of stored) {
    const row = readingRow(o, rules);
    if (!row || withheld.has(row.patient_id)) drop.push(o.id!);
    else keep.push(row);
  }
  const touched = new Set<string>();
  if (drop.length) {
    const removed = await db.query<{ patient_id: string }>(
      `DELETE FROM chronic_reading WHERE observation_id = ANY($1) RETURNING patient_id`,
      [drop],
    );
    for (const x of removed.rows) touched.add(x.patient_id);
  }
  if (keep.length) {
    const fresh = await db.query<{ observation_id: string }>(`SELECT observation_id FROM chronic_reading WHERE observation_id = ANY($1)`, [
      keep.map((k) => k.observation_id),
    ]);
    const have = new Set(fresh.rows.map((x) => x.observation_id));
    const missing = keep.filter((k) => !have.has(k.observation_id));
    if (missing.length) {
      await db.query(
        `INSERT INTO chronic_reading (observation_id, patient_id, encounter_id, kind, taken_on, sbp, dbp, value, flag)
         SELECT observation_id, patient_id, encounter_id, kind, taken_on, sbp, dbp, value, flag
           FROM jsonb_populate_recordset(NULL::chronic_reading, $1::jsonb)
         ON CONFLICT (observation_id) DO NOTHING`,
        [JSON.stringify(missing)],
      );
      for (const k of missing) touched.add(k.patient_id);
    }
  }
  return touched;
}
