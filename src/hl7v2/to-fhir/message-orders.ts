/** ORM^O01 and OML^O21: orders (ServiceRequests) with their ask-at-order-entry OBX, notes, DG1 and specimens. */
import type { Ctx, EncounterCtx, PatientCtx } from './context.js';
import { mapObservation } from './observation.js';
import { finishOrder, orderScope, type OrderGroup } from './order.js';
import { mapPatient } from './patient.js';
import { mapSpecimen } from './specimen.js';
import { visitFor } from './visit.js';

export function mapOrders(ctx: Ctx): void {
  let patient: PatientCtx | undefined;
  let encounter: EncounterCtx | undefined;
  let group: OrderGroup | undefined;
  let sawOrder = false;
  let prior = false;
  const close = () => {
    if (group && patient && (group.orc || group.detail)) finishOrder(group, patient, encounter, ctx);
    group = undefined;
  };
  for (const seg of ctx.msg.segments) {
    if (prior) continue;
    switch (seg.name) {
      case 'PID':
      case 'PV1':
        if (sawOrder) {
          // OML v2.6+ "prior results" (patient/visit repeated, then old orders with results): not new orders.
          close();
          prior = true;
          ctx.warn(`${seg.name} at segment ${seg.index + 1} starts prior results; they are not mapped`);
          break;
        }
        if (seg.name === 'PID') patient = mapPatient(seg, ctx, 'create');
        else if (patient) encounter = visitFor(seg, patient, ctx);
        break;
      case 'ORC':
        close();
        group = { orc: seg, dg1: [], observations: [], specimens: [], notes: [] };
        sawOrder = true;
        break;
      case 'OBR':
      case 'RXO':
      case 'RQD':
      case 'ODS':
      case 'ODT':
        if (!group || group.detail) {
          close();
          group = { dg1: [], observations: [], specimens: [], notes: [] };
        }
        group.detail = seg;
        sawOrder = true;
        break;
      case 'DG1':
        group?.dg1.push(seg);
        break;
      case 'OBX':
        if (group && patient) {
          const o = mapObservation(seg, { patient, encounter, scope: `${orderScope(group, ctx).scope}/aoe` }, ctx);
          if (o && !group.observations.includes(o)) group.observations.push(o);
          group.lastObservation = o;
        }
        break;
      case 'NTE': {
        const text = seg.value(3);
        if (!text || !group) break;
        if (group.lastObservation) group.lastObservation.resource.note = [...(group.lastObservation.resource.note ?? []), { text }];
        else group.notes.push(text);
        break;
      }
      case 'SPM':
        if (group && patient) {
          const s = mapSpecimen(seg, patient, orderScope(group, ctx).scope, ctx);
          if (!group.specimens.includes(s)) group.specimens.push(s);
          group.lastObservation = undefined;
        }
        break;
    }
  }
  close();
}
