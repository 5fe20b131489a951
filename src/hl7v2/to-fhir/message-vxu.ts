/** VXU^V04: vaccinations (RXA, RXR, and OBX on the Immunization or the patient). */
import type { Hl7Segment } from '../parser.js';
import type { Immunization } from '@medplum/fhirtypes';
import type { BuiltEntry } from './contract.js';
import type { Ctx, EncounterCtx, PatientCtx } from './context.js';
import { concept } from './datatypes.js';
import { mapImmunization } from './immunization.js';
import { mapObservation } from './observation.js';
import { mapPatient } from './patient.js';
import { visitFor } from './visit.js';

export function mapVxu(ctx: Ctx): void {
  let patient: PatientCtx | undefined;
  let encounter: EncounterCtx | undefined;
  let orc: Hl7Segment | undefined;
  let current: BuiltEntry<Immunization> | undefined;
  for (const seg of ctx.msg.segments) {
    switch (seg.name) {
      case 'PID':
        patient = mapPatient(seg, ctx, 'create');
        break;
      case 'PV1':
        if (patient) encounter = visitFor(seg, patient, ctx);
        break;
      case 'ORC':
        orc = seg;
        current = undefined;
        break;
      case 'RXA':
        if (patient) current = mapImmunization(seg, orc, patient, encounter, ctx);
        orc = undefined;
        break;
      case 'RXR':
        if (current) {
          const route = concept(seg.rep(1));
          const site = concept(seg.rep(2));
          if (route) current.resource.route = route;
          if (site) current.resource.site = site;
        }
        break;
      case 'OBX':
        if (!patient) break;
        if (current) {
          // Immunization-level observations: funding and eligibility go on the Immunization.
          const code = seg.value(3);
          const value = concept(seg.rep(5));
          if (code === '64994-7' && value) current.resource.programEligibility = [...(current.resource.programEligibility ?? []), value];
          else if (code === '30963-3' && value) current.resource.fundingSource = value;
        } else {
          mapObservation(seg, { patient, encounter, scope: `msg:${ctx.controlId}/patient` }, ctx);
        }
        break;
    }
  }
}
