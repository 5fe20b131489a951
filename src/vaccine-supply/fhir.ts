/**
 * What the module reads from FHIR resources (pure): a dose from an Immunization (lot, expiry,
 * manufacturer, vaccine, the place named by its location or performer), an AEFI from an
 * AdverseEvent (the Immunization or lot named by its suspectEntity), a resident's name.
 */
import type { AdverseEvent, Immunization, Patient, Reference } from '@medplum/fhirtypes';
import { patientDisplayName } from '../shared/patient-name.js';

/** The identifier system for a vaccine lot named in a logical reference (AdverseEvent.suspectEntity.instance.identifier). */
export const LOT_SYSTEM = 'urn:yifang:vaccine-lot';

export interface DoseFacts {
  patientId: string | null;
  status: string;
  vaccineCode: string | null;
  vaccineName: string | null;
  lotNumber: string | null;
  manufacturer: string | null;
  expirationDate: string | null;
  givenAt: Date | null;
  /** What the dose names its place by, most specific first: clinic aliases are matched against these. */
  places: string[];
}

const refId = (r: Reference | undefined, type: string): string | null => {
  const m = r?.reference ? new RegExp(`(?:^|/)${type}/([^/]+)$`).exec(r.reference) : null;
  return m ? m[1]! : null;
};

function placeKeys(r: Reference | undefined): string[] {
  if (!r) return [];
  const out: string[] = [];
  if (r.reference) out.push(r.reference.replace(/^.*\/(?=[A-Za-z]+\/[^/]+$)/, ''));
  if (r.identifier?.value) out.push(r.identifier.value);
  if (r.display) out.push(r.display.trim());
  return out;
}

export function doseFacts(imm: Immunization): DoseFacts {
  const coding = imm.vaccineCode?.coding?.[0];
  const when = imm.occurrenceDateTime ? new Date(imm.occurrenceDateTime) : null;
  const performers = (imm.performer ?? []).map((p) => p.actor).filter((a) => /Organization\//.test(a.reference ?? '') || !a.reference);
  return {
    patientId: refId(imm.patient, 'Patient'),
    status: imm.status ?? 'completed',
    vaccineCode: coding?.code ?? null,
    vaccineName: coding?.display ?? imm.vaccineCode?.text ?? null,
    lotNumber: imm.lotNumber?.trim() || null,
    manufacturer: imm.manufacturer?.display ?? imm.manufacturer?.identifier?.value ?? null,
    expirationDate: imm.expirationDate && /^\d{4}-\d{2}-\d{2}/.test(imm.expirationDate) ? imm.expirationDate.slice(0, 10) : null,
    givenAt: when && !Number.isNaN(when.getTime()) ? when : null,
    places: [...new Set([...placeKeys(imm.location), ...performers.flatMap(placeKeys)])],
  };
}

export interface AefiFacts {
  patientId: string | null;
  immunizationIds: string[];
  medicationIds: string[];
  lotNumbers: string[];
  occurredAt: Date | null;
  seriousness: string | null;
  description: string | null;
}

export function aefiFacts(ae: AdverseEvent): AefiFacts {
  const imms: string[] = [];
  const meds: string[] = [];
  const lots: string[] = [];
  for (const s of ae.suspectEntity ?? []) {
    const inst = s.instance;
    const imm = refId(inst, 'Immunization');
    const med = refId(inst, 'Medication');
    if (imm) imms.push(imm);
    else if (med) meds.push(med);
    if (inst?.identifier?.value && (inst.identifier.system === LOT_SYSTEM || /lot|batch|批号/i.test(inst.identifier.system ?? '')))
      lots.push(inst.identifier.value);
  }
  const when = ae.date ?? ae.detected;
  return {
    patientId: refId(ae.subject, 'Patient'),
    immunizationIds: imms,
    medicationIds: meds,
    lotNumbers: lots,
    occurredAt: when && !Number.isNaN(Date.parse(when)) ? new Date(when) : null,
    seriousness: ae.seriousness?.coding?.[0]?.code ?? ae.seriousness?.text ?? null,
    description: ae.event?.text ?? ae.event?.coding?.[0]?.display ?? null,
  };
}

export const nameOf = (p: Patient | undefined): string | null => patientDisplayName(p);
