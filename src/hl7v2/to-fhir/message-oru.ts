/** ORU^R01: results, grouped by OBR into DiagnosticReports with their Observations and Specimens. */
import type { Hl7Segment } from '../parser.js';
import type { Observation } from '@medplum/fhirtypes';
import type { BuiltEntry } from './contract.js';
import type { Ctx, EncounterCtx, PatientCtx } from './context.js';
import { mapObservation } from './observation.js';
import { orderKeys } from './order.js';
import { mapPatient } from './patient.js';
import { finishReport, type ReportGroup } from './report.js';
import { mapSpecimen } from './specimen.js';
import { visitFor } from './visit.js';

export function mapOru(ctx: Ctx): void {
  let patient: PatientCtx | undefined;
  let encounter: EncounterCtx | undefined;
  let orc: Hl7Segment | undefined;
  let group: ReportGroup | undefined;
  let lastPatientObs: BuiltEntry<Observation> | undefined;
  const close = () => {
    if (group && patient) finishReport(group, patient, encounter, ctx);
    group = undefined;
  };
  for (const seg of ctx.msg.segments) {
    switch (seg.name) {
      case 'PID':
        close();
        patient = mapPatient(seg, ctx, 'create');
        encounter = undefined;
        orc = undefined;
        lastPatientObs = undefined;
        break;
      case 'PV1':
        if (patient) encounter = visitFor(seg, patient, ctx);
        break;
      case 'ORC':
        close();
        orc = seg;
        break;
      case 'OBR': {
        close();
        const keys = orderKeys(orc, seg, ctx, 'filler');
        group = { obr: seg, orc, keys, observations: [], specimens: [], effective: ctx.dateTime(seg, 7) };
        orc = undefined;
        break;
      }
      case 'OBX':
        if (!patient) break;
        if (group) {
          const o = mapObservation(
            seg,
            {
              patient,
              encounter,
              scope: group.keys.scope,
              category: 'laboratory',
              specimen: group.inSpecimen,
              effectiveFallback: group.effective,
            },
            ctx,
          );
          if (o && !group.observations.includes(o)) group.observations.push(o);
          group.lastObservation = o;
        } else if (!orc) {
          lastPatientObs = mapObservation(seg, { patient, encounter, scope: `msg:${ctx.controlId}/patient` }, ctx);
        }
        // OBX between ORC and OBR belongs to a v2.8 order document (TXA): not a result.
        break;
      case 'NTE': {
        const text = seg.value(3);
        const target = group ? group.lastObservation : lastPatientObs;
        if (text && target) target.resource.note = [...(target.resource.note ?? []), { text }];
        break;
      }
      case 'SPM':
        if (group && patient) {
          const s = mapSpecimen(seg, patient, group.keys.scope, ctx);
          if (!group.specimens.includes(s)) group.specimens.push(s);
          group.inSpecimen = s;
          group.lastObservation = undefined;
        }
        break;
    }
  }
  close();
}
