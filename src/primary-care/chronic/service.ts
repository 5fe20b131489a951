/**
 * Chronic-care operations that span the FHIR store and the module's tables: enrolling a resident
 * by hand, and recording a follow-up visit (慢病随访) — an Encounter and Observations — with the
 * next visit for each registered disease by the rules.
 */
import { randomUUID } from 'node:crypto';
import type { Encounter, Extension, Observation, Patient } from '@medplum/fhirtypes';
import { badRequest } from '../../platform/errors.js';
import { addDays, ageOn, nowInChina, todayInChina } from '../../shared/dates.js';
import { LOINC_SYSTEM, UCUM_SYSTEM } from '../../shared/uris.js';
import type { AuditIn, CareDeps } from '../services.js';
import { activeConditionCodes, insertManualEnrolment, lastVisitEvaluation, registeredDiseases, registryEntry } from './registry-store.js';
import { refreshPatients } from './store.js';
import { comorbiditiesOf, implausibleReadings, nextFollowUp, ruleSetFor, type Readings } from './rules.js';
import type { EnrolBody, Enrolment, FollowUpInput, FollowUpResult } from './schemas.js';
import { FOLLOW_UP_EXTENSION, FOLLOW_UP_MODE_SYSTEM, VISIT_TYPE_SYSTEM } from './uris.js';

/** Enrols a resident by hand and derives their registry entry at once. */
export async function enrolResident(deps: CareDeps, b: EnrolBody): Promise<Enrolment> {
  const today = todayInChina();
  const diagnosedOn = b.diagnosedOn ?? today;
  if (diagnosedOn > today) throw badRequest('diagnosedOn: a date (YYYY-MM-DD) not in the future');
  await deps.repo.read('Patient', b.patientId);
  await deps.db.transaction(async (c) => {
    await insertManualEnrolment(c, b.patientId, b.disease, diagnosedOn, b.teamId);
    await refreshPatients(c, [b.patientId], deps.config.sets, todayInChina());
  });
  const entry = await registryEntry(deps.db, b.patientId, b.disease);
  if (!entry) throw new Error(`Patient/${b.patientId} was enrolled in ${b.disease} but has no registry entry`);
  return entry;
}

const MODE_LABEL = { 'face-to-face': '门诊', phone: '电话', home: '家庭' } as const;

/** Checks the visit, stores it with its readings and returns each registered disease's next visit. */
export async function recordFollowUp(deps: CareDeps, b: FollowUpInput, audit: AuditIn): Promise<FollowUpResult> {
  const { db, repo, config } = deps;
  const { patientId, date, mode } = b;
  const today = todayInChina();
  if (date > today) throw badRequest(`date: ${date} is in the future (today is ${today})`);
  const patient = (await repo.read('Patient', patientId)) as Patient;
  if (patient.birthDate && date < patient.birthDate.padEnd(10, '-01').slice(0, 10))
    throw badRequest(`date: ${date} is before the resident's birth (${patient.birthDate})`);
  const readings: Readings = {};
  for (const k of ['sbp', 'dbp', 'fpg', 'hba1c'] as const) if (b.readings?.[k] !== undefined) readings[k] = b.readings[k];
  if ((readings.sbp === undefined) !== (readings.dbp === undefined)) throw badRequest('readings: systolic and diastolic go together');
  const rules = ruleSetFor(config.sets, date);
  const bad = implausibleReadings(readings, rules);
  if (bad.length) throw badRequest(`readings: ${bad.join('; ')}`);
  const symptoms = b.symptoms ?? [];
  const advice = b.advice ?? [];
  const adverse = b.adverseReaction ?? 'none';
  const newComplication = b.newComplication === true;
  const encounterId = randomUUID();
  const start = `${date}T${date === today ? nowInChina().slice(11, 19) : '09:00:00'}+08:00`;
  const sub: Extension[] = [
    { url: 'mode', valueCode: mode },
    ...(b.adherence ? [{ url: 'adherence', valueCode: b.adherence }] : []),
    { url: 'adverse-reaction', valueCode: adverse },
    { url: 'new-complication', valueBoolean: newComplication },
    ...symptoms.map((s) => ({ url: 'symptom', valueCode: s })),
    ...advice.map((a) => ({ url: 'advice', valueString: a })),
  ];
  const encounter: Encounter = {
    resourceType: 'Encounter',
    id: encounterId,
    extension: [{ url: FOLLOW_UP_EXTENSION, extension: sub }],
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: mode === 'home' ? 'HH' : mode === 'phone' ? 'VR' : 'AMB' },
    type: [
      { coding: [{ system: VISIT_TYPE_SYSTEM, code: 'follow-up', display: '慢病随访' }] },
      { coding: [{ system: FOLLOW_UP_MODE_SYSTEM, code: mode, display: MODE_LABEL[mode] }] },
    ],
    subject: { reference: `Patient/${patientId}` },
    ...(b.doctorId ? { participant: [{ individual: { reference: `Practitioner/${b.doctorId}` } }] } : {}),
    period: { start, end: start },
    ...(b.organizationId ? { serviceProvider: { reference: `Organization/${b.organizationId}` } } : {}),
  };
  const obs: Observation[] = [];
  const base = {
    resourceType: 'Observation' as const,
    status: 'final' as const,
    subject: { reference: `Patient/${patientId}` },
    encounter: { reference: `Encounter/${encounterId}` },
    effectiveDateTime: start,
  };
  const q = (value: number, unit: string, code: string) => ({ value, unit, system: UCUM_SYSTEM, code });
  if (readings.sbp !== undefined)
    obs.push({
      ...base,
      id: randomUUID(),
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
      code: { coding: [{ system: LOINC_SYSTEM, code: '85354-9' }], text: '血压' },
      component: [
        { code: { coding: [{ system: LOINC_SYSTEM, code: '8480-6' }] }, valueQuantity: q(readings.sbp, 'mmHg', 'mm[Hg]') },
        { code: { coding: [{ system: LOINC_SYSTEM, code: '8462-4' }] }, valueQuantity: q(readings.dbp!, 'mmHg', 'mm[Hg]') },
      ],
    });
  if (readings.fpg !== undefined)
    obs.push({
      ...base,
      id: randomUUID(),
      code: { coding: [{ system: LOINC_SYSTEM, code: '1558-6' }], text: '空腹血糖' },
      valueQuantity: q(readings.fpg, 'mmol/L', 'mmol/L'),
    });
  if (readings.hba1c !== undefined)
    obs.push({
      ...base,
      id: randomUUID(),
      code: { coding: [{ system: LOINC_SYSTEM, code: '4548-4' }], text: '糖化血红蛋白' },
      valueQuantity: q(readings.hba1c, '%', '%'),
    });

  const plans = await db.transaction(async (c) => {
    await repo.update('Encounter', encounterId, encounter, {}, c);
    for (const o of obs) await repo.update('Observation', o.id!, o, {}, c);
    await audit(c, [`Encounter/${encounterId}`, `Patient/${patientId}`]);
    const icd = await activeConditionCodes(c, patientId);
    const out = [];
    for (const disease of await registeredDiseases(c, patientId)) {
      const last = await lastVisitEvaluation(c, patientId, disease, date);
      const history = last ? [{ date: last.visitDate, controlled: last.controlled ?? undefined, decision: last.decision as never }] : [];
      const age = patient.birthDate ? ageOn(patient.birthDate, date) : 60;
      out.push({
        disease,
        ...nextFollowUp(
          history,
          { date, disease, readings, symptoms, adverseReaction: adverse, newComplication },
          { age, comorbidities: comorbiditiesOf(icd, rules) },
          rules,
        ),
      });
    }
    return out;
  });
  return {
    encounterId,
    observationIds: obs.map((o) => o.id!),
    plans,
    ruleVersion: rules.version,
    recallBy: addDays(date, rules.registry.lostToFollowUpAfterDays),
  };
}
