/** Orders written at a FHIR-fed visit besides laboratory tests: prescriptions and referrals (转诊). */
import type { Facility } from '../district.js';
import { medicationRequestJson, referralResource } from '../fhir.js';
import { emit } from '../sink.js';
import type { Visit } from '../types.js';
import { MEDICATION_SYSTEM } from '../uris.js';
import type { RecordContext } from './context.js';

/** A prescription at a FHIR-fed visit. */
export function prescribe(ctx: RecordContext, v: Visit, drug: { code: string; atc: string | null; text: string; dosage: string }): void {
  if (!v.fhir) return;
  const id = 'mr-' + ctx.pad(++ctx.seq.med, 8);
  ctx.sink.fhir(
    'MedicationRequest',
    id,
    medicationRequestJson({
      id,
      patientId: v.view.fhirId!,
      encounterId: v.id,
      atc: drug.atc,
      localSystem: MEDICATION_SYSTEM,
      localCode: drug.code,
      text: drug.text,
      dosage: drug.dosage,
      time: ctx.fhirTime(v.day, v.startMin + 15),
      requesterId: v.doctor.id,
    }),
  );
}

/** A referral (转诊) from a FHIR-fed visit. */
export function refer(ctx: RecordContext, v: Visit, target: Facility, deptName: string, urgent: boolean, reason: string): void {
  if (!v.fhir) return;
  emit(
    ctx.sink,
    referralResource({
      id: 'ref-' + ctx.pad(++ctx.seq.ref, 7),
      patientId: v.view.fhirId!,
      encounterId: v.id,
      urgent,
      text: `转诊至${target.name}${deptName}`,
      reason,
      time: ctx.fhirTime(v.day, v.startMin + 20),
      requesterId: v.doctor.id,
      targetOrgId: target.id,
    }),
  );
}
