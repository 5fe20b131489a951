/** Condition (DG1): encounter diagnoses. */
import type { Hl7Segment } from '../parser.js';
import type { Condition } from '@medplum/fhirtypes';
import type { BuiltEntry } from './contract.js';
import { ref } from './bundle.js';
import type { Ctx, EncounterCtx, PatientCtx } from './context.js';
import { codingSystemUri, compact, concept, CONDITION_CATEGORY, CONDITION_VER, textConcept } from './datatypes.js';

export function diagnosisSystem(dg1: Hl7Segment): (name: string | undefined) => string | undefined {
  const method = dg1.value(2);
  return (name) => codingSystemUri(name ?? method);
}

export function mapCondition(
  dg1: Hl7Segment,
  patient: PatientCtx,
  encounter: EncounterCtx | undefined,
  ctx: Ctx,
): BuiltEntry<Condition> | undefined {
  const code = concept(dg1.rep(3), diagnosisSystem(dg1)) ?? textConcept(dg1.value(4));
  if (!code) {
    ctx.warn(`${ctx.label(dg1, 3)} (diagnosis code) is empty: DG1 skipped`);
    return undefined;
  }
  if (!code.text && dg1.value(4)) code.text = dg1.value(4);
  const dxId = dg1.value(20);
  const codeKey = code.coding?.[0]?.code ?? code.text!;
  const scope = encounter?.keyValue ?? `patient:${patient.key.value}`;
  const key = dxId ? ctx.derived(`dx:${dxId}`) : ctx.derived(`${scope}/dx:${codeKey}`, true);
  const type = dg1.value(6)?.toUpperCase();
  const verification = type === 'F' ? 'confirmed' : type === 'A' || type === 'W' || type === 'P' ? 'provisional' : undefined;
  const condition: Condition = compact({
    resourceType: 'Condition' as const,
    identifier: [key],
    verificationStatus: verification ? { coding: [{ system: CONDITION_VER, code: verification }] } : undefined,
    category: [{ coding: [{ system: CONDITION_CATEGORY, code: 'encounter-diagnosis' }] }],
    code,
    subject: ref(patient.entry),
    encounter: encounter ? ref(encounter.entry) : undefined,
    recordedDate: ctx.dateTime(dg1, 5),
  });
  return ctx.builder.add(condition, key, 'update').entry;
}
