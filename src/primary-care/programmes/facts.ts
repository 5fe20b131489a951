/**
 * What the programme engine needs from each FHIR resource, as one generic row: its codes (every
 * coding, "system|code"), dates, whether it still stands, and its value. Pure. The chronic
 * fact tables keep only what hypertension and diabetes need (ICD-10 conditions, visit types,
 * four LOINC readings), so the programmes keep their own rows, read with chronic care's
 * extractors where they fit (personRow, dateOf, refId).
 */
import type {
  CodeableConcept,
  Condition,
  Encounter,
  EpisodeOfCare,
  Flag,
  MedicationRequest,
  Observation,
  Patient,
  Procedure,
  Resource,
} from '@medplum/fhirtypes';
import { dateOf, followUpForm, personRow, prescriptionStands, refId } from '../chronic/facts.js';
import type { Fact, PersonFacts } from './engine.js';
import { CONDITION_CLINICAL_SYSTEM, CONDITION_VERIFICATION_SYSTEM, ENCOUNTER_STATUS_SYSTEM, followUpFieldSystem } from './uris.js';

export const PROGRAMME_FACT_TYPES = [
  'Patient',
  'Condition',
  'Encounter',
  'Observation',
  'Procedure',
  'EpisodeOfCare',
  'Flag',
  'MedicationRequest',
];

export function personFacts(p: Patient): PersonFacts {
  const r = personRow(p);
  return {
    patientId: r.patient_id,
    name: r.name,
    birthDate: r.birth_date,
    gender: r.gender,
    areaCode: r.area_code,
    organizationId: r.organization_id,
    deceased: r.deceased,
    deceasedOn: deathDay(p.deceasedDateTime),
  };
}

/**
 * The day of death from Patient.deceasedDateTime, as every other fact's day is read (the calendar
 * date in its own offset); a partial date counts from its first day (2025-06 → 2025-06-01), so a
 * service falling due after a death known only by its month is not listed as missed.
 */
function deathDay(dt: string | undefined): string | null {
  if (dt && /^\d{4}-\d{2}$/.test(dt)) return `${dt}-01`;
  return dateOf(dt);
}

const codings = (...concepts: (CodeableConcept | undefined)[]) =>
  concepts.flatMap((c) => (c?.coding ?? []).filter((x) => x.system && x.code).map((x) => `${x.system}|${x.code}`));

/** An Observation's numeric values by "system|code": its own value and each component's (a blood pressure panel's 8480-6, 8462-4). */
function readingsOf(o: Observation): { readings?: Record<string, number> } {
  const out: Record<string, number> = {};
  const put = (concept: CodeableConcept | undefined, v: number | undefined) => {
    if (v === undefined || !Number.isFinite(v)) return;
    for (const c of codings(concept)) out[c] = v;
  };
  put(o.code, o.valueQuantity?.value);
  for (const c of o.component ?? []) put(c.code, c.valueQuantity?.value);
  return Object.keys(out).length ? { readings: out } : {};
}

/**
 * The fields of chronic care's follow-up extension as codings (uris.ts FOLLOW_UP_FIELDS): the
 * mode (face-to-face when absent, as chronic care's encounterRow reads it), each symptom, the
 * adverse reaction and whether a complication is new. Nothing when the Encounter has no extension.
 */
function followUpCodings(e: Encounter): string[] {
  const form = followUpForm(e);
  if (!form) return [];
  const out = [`${followUpFieldSystem('mode')}|${form.mode}`];
  for (const s of form.symptoms) out.push(`${followUpFieldSystem('symptom')}|${s}`);
  if (form.adverseReaction) out.push(`${followUpFieldSystem('adverse-reaction')}|${form.adverseReaction}`);
  if (form.newComplication !== undefined) out.push(`${followUpFieldSystem('new-complication')}|${form.newComplication}`);
  return out;
}

/** The fact of one resource and its patient; null when the resource names no patient or carries no code or date. */
export function factOf(r: Resource): (Fact & { patientId: string }) | null {
  const ref = `${r.resourceType}/${r.id}`;
  const base = { ref, resourceType: r.resourceType, valueCodes: [] as string[], valueNum: null as number | null };
  switch (r.resourceType) {
    case 'Condition': {
      const c = r as Condition;
      const patient = refId(c.subject, 'Patient');
      const clinical = c.clinicalStatus?.coding?.[0]?.code ?? 'active';
      const ver = c.verificationStatus?.coding?.[0]?.code ?? 'confirmed';
      if (!patient || ['refuted', 'entered-in-error'].includes(ver)) return null;
      return {
        ...base,
        // The statuses as read (an absent one is active / confirmed): engine.ts `stands` reads them for entry.activeStatuses.
        valueCodes: [`${CONDITION_CLINICAL_SYSTEM}|${clinical}`, `${CONDITION_VERIFICATION_SYSTEM}|${ver}`],
        patientId: patient,
        codes: codings(c.code),
        start: dateOf(c.onsetDateTime) ?? dateOf(c.onsetPeriod?.start) ?? dateOf(c.recordedDate),
        end: dateOf(c.abatementDateTime) ?? dateOf(c.abatementPeriod?.end),
        active: ['active', 'recurrence', 'relapse'].includes(clinical) && !['provisional', 'differential'].includes(ver),
      };
    }
    case 'Encounter': {
      const e = r as Encounter;
      const patient = refId(e.subject, 'Patient');
      if (!patient) return null;
      return {
        ...base,
        patientId: patient,
        codes: [...codings(...(e.type ?? []), ...(e.serviceType ? [e.serviceType] : [])), ...followUpCodings(e)],
        start: dateOf(e.period?.start),
        end: dateOf(e.period?.end),
        active: !['planned', 'cancelled', 'entered-in-error'].includes(e.status),
        // The status as sent: a service with `statuses` (engine.ts) counts by it rather than by `active`.
        valueCodes: [`${ENCOUNTER_STATUS_SYSTEM}|${e.status}`],
      };
    }
    case 'Observation': {
      const o = r as Observation;
      const patient = refId(o.subject, 'Patient');
      if (!patient) return null;
      return {
        ...base,
        patientId: patient,
        codes: codings(o.code),
        start: dateOf(o.effectiveDateTime) ?? dateOf(o.effectivePeriod?.start) ?? dateOf(o.issued),
        end: null,
        active: !['registered', 'cancelled', 'entered-in-error'].includes(o.status),
        valueCodes: codings(o.valueCodeableConcept),
        valueNum: o.valueQuantity?.value ?? null,
        ...readingsOf(o),
        ...(o.encounter?.reference?.startsWith('Encounter/') ? { encounter: o.encounter.reference } : {}),
      };
    }
    case 'Procedure': {
      const p = r as Procedure;
      const patient = refId(p.subject, 'Patient');
      if (!patient) return null;
      return {
        ...base,
        patientId: patient,
        codes: codings(p.code),
        start: dateOf(p.performedDateTime) ?? dateOf(p.performedPeriod?.start),
        end: dateOf(p.performedPeriod?.end),
        active: ['completed', 'in-progress'].includes(p.status),
      };
    }
    case 'EpisodeOfCare': {
      const e = r as EpisodeOfCare;
      const patient = refId(e.patient, 'Patient');
      if (!patient) return null;
      return {
        ...base,
        patientId: patient,
        codes: codings(...(e.type ?? [])),
        start: dateOf(e.period?.start),
        end: dateOf(e.period?.end),
        active: !['cancelled', 'entered-in-error'].includes(e.status),
      };
    }
    case 'Flag': {
      const f = r as Flag;
      const patient = refId(f.subject, 'Patient');
      if (!patient) return null;
      return {
        ...base,
        patientId: patient,
        codes: codings(f.code),
        start: dateOf(f.period?.start),
        end: dateOf(f.period?.end),
        active: f.status !== 'entered-in-error',
      };
    }
    case 'MedicationRequest': {
      // A prescription (diabetes enters on an A10 one): dated when written, standing as chronic care's medicationRow reads it.
      const m = r as MedicationRequest;
      const patient = refId(m.subject, 'Patient');
      if (!patient) return null;
      return {
        ...base,
        patientId: patient,
        codes: codings(m.medicationCodeableConcept),
        start: dateOf(m.authoredOn),
        end: null,
        active: prescriptionStands(m.status),
      };
    }
    default:
      return null;
  }
}
