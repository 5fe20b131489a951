/** Encounter (PV1, PV2): the visit of ADT events, and the visit a result, order or vaccination mentions. */
import { DEPARTMENT_SYSTEM } from '../../shared/uris.js';
import type { Hl7Composite, Hl7Segment } from '../parser.js';
import type { Coding, Encounter, EncounterParticipant, Identifier } from '@medplum/fhirtypes';
import { ref } from './bundle.js';
import { nextSegment, type Ctx, type EncounterCtx, type PatientCtx } from './context.js';
import { ACT_CODE, asCode, compact, concept, NULL_FLAVOR, PARTICIPATION, practitionerRef, V2_0203 } from './datatypes.js';

const ENCOUNTER_CLASS: Record<string, Coding> = {
  E: { system: ACT_CODE, code: 'EMER', display: 'emergency' },
  I: { system: ACT_CODE, code: 'IMP', display: 'inpatient encounter' },
  O: { system: ACT_CODE, code: 'AMB', display: 'ambulatory' },
  P: { system: ACT_CODE, code: 'PRENC', display: 'pre-admission' },
  R: { system: ACT_CODE, code: 'AMB', display: 'ambulatory' },
  B: { system: ACT_CODE, code: 'IMP', display: 'inpatient encounter' },
  C: { system: ACT_CODE, code: 'AMB', display: 'ambulatory' },
};

function locationDisplay(pl: Hl7Composite): string | undefined {
  const desc = pl.value(9);
  if (desc) return desc;
  const parts = [pl.value(1), pl.value(2), pl.value(3)].filter(Boolean);
  return parts.length ? parts.join(' ') : pl.value(4);
}

export type EncounterEvent = 'A01' | 'A02' | 'A03' | 'A04' | 'A08' | 'A11' | 'A13' | 'A28' | 'A31' | 'other';

export function mapEncounter(
  pv1: Hl7Segment,
  pv2: Hl7Segment | undefined,
  evn: Hl7Segment | undefined,
  patient: PatientCtx,
  ctx: Ctx,
  event: EncounterEvent,
  mode: 'update' | 'create',
): EncounterCtx {
  const visitNumber = pv1.value(19);
  let key: Identifier;
  if (visitNumber) {
    key = { system: ctx.system('visit'), value: visitNumber };
  } else {
    ctx.warn(
      `${ctx.label(pv1, 19)} (visit number) is empty: the encounter is keyed on message ${ctx.controlId} and will not match later events for the same visit`,
    );
    key = ctx.derived(`msg:${ctx.controlId}/PV1`);
  }
  const classCode = pv1.value(2)?.toUpperCase() ?? '';
  const start = ctx.dateTime(pv1, 44);
  let end = ctx.dateTime(pv1, 45);
  if (event === 'A03' && !end && evn) end = ctx.dateTime(evn, 6) ?? ctx.dateTime(evn, 2);
  if (event === 'A13' || event === 'A11') end = undefined;
  if (start && end && Date.parse(end) < Date.parse(start)) {
    ctx.warn(`${ctx.label(pv1, 45)} (discharge time) is before ${ctx.label(pv1, 44)} (admit time); discharge time dropped`);
    end = undefined;
  }
  const status: Encounter['status'] =
    event === 'A11' ? 'cancelled' : event === 'A03' ? 'finished' : event === 'A13' ? 'in-progress' : end ? 'finished' : 'in-progress';

  const locations: NonNullable<Encounter['location']> = [];
  const here = pv1.rep(3);
  const hereText = here && locationDisplay(here);
  if (hereText) locations.push({ location: { display: hereText }, status: status === 'finished' ? 'completed' : 'active' });
  const prior = pv1.rep(6);
  const priorText = prior && locationDisplay(prior);
  if (priorText && event === 'A02') locations.push({ location: { display: priorText }, status: 'completed' });

  const participant: EncounterParticipant[] = [];
  for (const [field, code] of [
    [7, 'ATND'],
    [8, 'REF'],
    [9, 'CON'],
    [17, 'ADM'],
  ] as const) {
    for (const x of pv1.reps(field)) {
      const individual = practitionerRef(x);
      if (individual) participant.push({ type: [{ coding: [{ system: PARTICIPATION, code }] }], individual });
    }
  }

  const service = asCode(pv1.value(10));
  const reason = pv2 ? concept(pv2.rep(3)) : undefined;
  const admitSource = asCode(pv1.value(14));
  const disposition = asCode(pv1.value(36));
  const encounter: Encounter = compact({
    resourceType: 'Encounter' as const,
    identifier: [{ use: 'usual' as const, type: { coding: [{ system: V2_0203, code: 'VN' }] }, ...key }],
    status,
    class: ENCOUNTER_CLASS[classCode] ?? { system: NULL_FLAVOR, code: 'UNK', display: classCode ? `PV1-2 ${classCode}` : 'unknown' },
    serviceType: service ? { coding: [{ system: DEPARTMENT_SYSTEM, code: service }] } : undefined,
    subject: ref(patient.entry),
    participant,
    period: start || end ? compact({ start, end }) : undefined,
    reasonCode: reason ? [reason] : undefined,
    hospitalization:
      admitSource || disposition
        ? compact({
            admitSource: admitSource
              ? { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0023', code: admitSource }] }
              : undefined,
            dischargeDisposition: disposition
              ? { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0112', code: disposition }] }
              : undefined,
          })
        : undefined,
    location: locations,
  });
  const { entry } = ctx.builder.add(encounter, key, mode);
  return { entry, keyValue: `visit:${key.value}` };
}

/** Patient, optional visit (only with a visit number) for result/order/immunization messages. */
export function visitFor(pv1: Hl7Segment, patient: PatientCtx, ctx: Ctx): EncounterCtx | undefined {
  if (!pv1.value(19)) return undefined;
  return mapEncounter(
    pv1,
    nextSegment(ctx.msg, pv1, 'PV2', ['PID', 'PV1', 'ORC', 'OBR', 'RXA', 'OBX']),
    undefined,
    patient,
    ctx,
    'other',
    'create',
  );
}
