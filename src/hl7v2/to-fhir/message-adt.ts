/** ADT events: the Patient, the visit, OBX (chief complaint) and DG1; A40 merges. */
import { LOINC_SYSTEM } from '../../shared/uris.js';
import { Hl7ParseError } from '../errors.js';
import type { MergeInstruction } from './contract.js';
import { nextSegment, type Ctx, type EncounterCtx } from './context.js';
import { mapCondition } from './diagnosis.js';
import { mapObservation } from './observation.js';
import { mapCx, mapPatient, type MappedId } from './patient.js';
import { mapEncounter, type EncounterEvent } from './visit.js';

const CHIEF_COMPLAINT_LOINC = new Set(['8661-1', '10154-3']);

export function mapAdt(ctx: Ctx, event: EncounterEvent): void {
  const msg = ctx.msg;
  const demographic = event === 'A01' || event === 'A04' || event === 'A08' || event === 'A28' || event === 'A31';
  const evn = msg.segment('EVN');
  const pid = msg.segment('PID')!;
  const patient = mapPatient(pid, ctx, demographic ? 'update' : 'create');
  const pv1 = msg.segment('PV1');
  let encounter: EncounterCtx | undefined;
  if (pv1) {
    const personOnly = event === 'A28' || event === 'A31';
    const meaningful = !!pv1.value(19) && pv1.value(2)?.toUpperCase() !== 'N';
    if (!personOnly || meaningful) {
      encounter = mapEncounter(pv1, msg.segment('PV2'), evn, patient, ctx, event, 'update');
    }
  }
  const scope = encounter?.keyValue ?? `msg:${ctx.controlId}`;
  for (const obx of msg.segmentsNamed('OBX')) {
    const o = mapObservation(obx, { patient, encounter, scope }, ctx);
    const code = o?.resource.code.coding?.[0];
    if (o && encounter && code?.system === LOINC_SYSTEM && CHIEF_COMPLAINT_LOINC.has(code.code ?? '')) {
      const text = o.resource.valueString ?? o.resource.valueCodeableConcept?.text;
      if (text) encounter.entry.resource.reasonCode = [...(encounter.entry.resource.reasonCode ?? []), { text }];
    }
  }
  for (const dg1 of msg.segmentsNamed('DG1')) mapCondition(dg1, patient, encounter, ctx);
}

export function mapMerge(ctx: Ctx): MergeInstruction[] {
  const merges: MergeInstruction[] = [];
  const msg = ctx.msg;
  for (const pid of msg.segmentsNamed('PID')) {
    const patient = mapPatient(pid, ctx, 'update');
    const mrg = nextSegment(msg, pid, 'MRG', ['PID']);
    if (!mrg) continue;
    const candidates = [...mrg.reps(1), ...mrg.reps(4)]
      .map((cx) => mapCx(cx, ctx, ctx.label(mrg, 1)))
      .filter((m): m is MappedId => !!m && !!m.identifier.system);
    const merged = candidates.find((m) => m.identifier.system === patient.key.system) ?? candidates[0];
    if (!merged) {
      throw new Hl7ParseError(
        'MISSING_FIELD',
        `${ctx.label(mrg, 1)} (prior patient identifier list) has no usable identifier to merge`,
        mrg.location(1),
      );
    }
    merges.push({
      kind: 'merge',
      survivor: { ...patient.key },
      merged: { system: merged.identifier.system, value: merged.identifier.value },
    });
  }
  return merges;
}
