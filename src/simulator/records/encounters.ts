/**
 * Encounters with their diagnoses: a FHIR Encounter and Conditions at FHIR-fed facilities, an
 * HL7 v2 ADT message (A04 outpatient, A01 admission, A03 discharge later) at the others.
 */
import { conditionJson, encounterJson } from '../fhir.js';
import { dg1, msh, pid, pv1, pv2 } from '../hl7.js';
import type { Extra, Visit, VisitSpec } from '../types.js';
import { hl7Patient, type RecordContext } from './context.js';
import { vitalsFhir, vitalsObx } from './vitals.js';

/** Records one encounter. */
export function recordVisit(ctx: RecordContext, s: VisitSpec): Visit {
  const r = ctx.rng;
  const startMin = s.startMin ?? ctx.arrivalMinute(s.dept);
  let endDay = s.day;
  let endMin: number;
  if (s.cls === 'IMP') {
    endDay = s.day + Math.max(1, s.losDays ?? 5);
    endMin = 540 + r.int(240);
  } else {
    const dur = s.durationMin ?? (s.cls === 'EMER' ? 60 + r.int(240) : 15 + r.int(75));
    endMin = startMin + dur;
    if (endMin >= 1440) {
      endDay += 1;
      endMin -= 1440;
    }
  }
  // A stay the resident does not outlive ends on the day of death (the discharge is the death).
  const death = ctx.w.deaths.deathDay(s.person);
  if (endDay > death && death >= s.day) {
    endDay = death;
    endMin = death === s.day ? Math.min(1439, startMin + 60) : 1380;
  }
  const doctor = s.doctor !== undefined ? ctx.w.district.practitioners[s.doctor]! : ctx.practitioner(s.dept);
  const id = 'enc-' + ctx.pad(++ctx.seq.enc, 8);
  const view = ctx.identity.view(s.person, s.facility);
  const temperature = s.temperature ?? null;
  const visit: Visit = {
    id,
    person: s.person,
    view,
    facility: s.facility,
    dept: s.dept,
    cls: s.cls,
    day: s.day,
    startMin,
    endDay,
    endMin,
    doctor,
    fhir: s.facility.feed === 'fhir',
    complaint: s.complaint,
    temperature,
    dx: s.dx,
    onsetDay: s.onsetDay,
  };
  ctx.truth.follower?.visit(visit);
  const start = ctx.fhirTime(s.day, startMin);
  if (visit.fhir) {
    const patientId = view.fhirId!;
    const finished = endDay < ctx.w.endDay;
    const condIds = s.dx.map(() => 'cond-' + ctx.pad(++ctx.seq.cond, 8));
    ctx.sink.fhir(
      'Encounter',
      id,
      encounterJson({
        id,
        patientId,
        cls: s.cls,
        visitType: s.visitType,
        dept: s.dept,
        facility: s.facility,
        doctorId: doctor.id,
        start,
        end: finished ? ctx.fhirTime(endDay, endMin) : null,
        complaint: s.complaint,
        conditionIds: condIds,
      }),
    );
    const measured = ctx.fhirTime(s.day, startMin + 5);
    s.dx.forEach((d, k) => {
      ctx.sink.fhir(
        'Condition',
        condIds[k]!,
        conditionJson({
          id: condIds[k]!,
          patientId,
          encounterId: id,
          icd: d.icd,
          display: d.display,
          category: 'encounter-diagnosis',
          provisional: d.provisional ?? false,
          onset: ctx.w.clock.iso(s.onsetDay),
          recorded: ctx.fhirTime(s.day, startMin + 10),
          recorderId: doctor.id,
        }),
      );
    });
    vitalsFhir(ctx, { patientId, encounterId: id, time: measured, performerId: doctor.id }, temperature, s.extras ?? []);
  } else {
    emitAdt(ctx, visit, s.cls === 'IMP' ? 'A01' : 'A04', s.extras ?? []);
    if (s.cls === 'IMP') ctx.later(endDay, () => emitAdt(ctx, visit, 'A03', []));
  }
  return visit;
}

/** The ADT message of a visit at an HL7-fed facility (the OBX carry its measurements, the DG1 its diagnoses). */
function emitAdt(ctx: RecordContext, v: Visit, event: 'A01' | 'A03' | 'A04', extras: Extra[]): void {
  const f = v.facility;
  const eventDay = event === 'A03' ? v.endDay : v.day;
  const eventMin = event === 'A03' ? v.endMin : v.startMin;
  const time = ctx.hl7Time(eventDay, eventMin);
  const structure = event === 'A03' ? 'ADT_A03' : 'ADT_A01';
  const segs = [
    msh({
      sendingApp: 'HIS',
      facilityCode: f.code,
      districtCode: ctx.w.district.districtCode,
      time,
      type: `ADT^${event}^${structure}`,
      controlId: ctx.controlId(f),
    }),
    `EVN|${event}|${time}`,
    pid(hl7Patient(v.view)),
  ];
  const g = ctx.guardianSegment(v.person, v.day);
  if (g) segs.push(g);
  const discharge = v.cls === 'IMP' ? (event === 'A03' ? ctx.hl7Time(v.endDay, v.endMin) : null) : ctx.hl7Time(v.endDay, v.endMin);
  segs.push(
    pv1({
      patientClass: v.cls === 'IMP' ? 'I' : v.cls === 'EMER' ? 'E' : 'O',
      deptCode: v.dept.code,
      deptName: v.dept.name,
      facilityCode: f.code,
      bed: v.cls === 'IMP' ? String(1 + ctx.rng.int(40)) : undefined,
      doctor: ctx.pname(v.doctor),
      visitNumber: v.id,
      admit: ctx.hl7Time(v.day, v.startMin),
      discharge,
    }),
    pv2(v.complaint),
  );
  segs.push(...vitalsObx(event === 'A03' ? null : v.temperature, extras, ctx.hl7Time(v.day, v.startMin + 5)));
  v.dx.forEach((d, k) => segs.push(dg1(k + 1, d.icd, d.display, ctx.hl7Time(v.day, v.startMin + 10), !!d.provisional && event !== 'A03')));
  ctx.sink.hl7(f, segs.join('\r'));
}
