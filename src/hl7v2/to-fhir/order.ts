/** Orders (ORC with OBR/RXO/RQD/ODS/ODT): order keys shared with result reports, and the ServiceRequest. */
import type { Hl7Segment } from '../parser.js';
import type { CodeableConcept, Identifier, Observation, ServiceRequest, Specimen } from '@medplum/fhirtypes';
import type { BuiltEntry } from './contract.js';
import { ref } from './bundle.js';
import type { Ctx, EncounterCtx, PatientCtx } from './context.js';
import { compact, concept, practitionerRef, textConcept, V2_0203 } from './datatypes.js';
import { diagnosisSystem } from './diagnosis.js';

// ---------------------------------------------------------------------------------------------
// Order keys (ORC / OBR)
// ---------------------------------------------------------------------------------------------

export interface OrderKeys {
  placer?: string;
  filler?: string;
  identifiers: Identifier[];
  /** Identifier used for conditional requests. */
  key: Identifier;
  scope: string;
}

export function orderKeys(orc: Hl7Segment | undefined, obr: Hl7Segment | undefined, ctx: Ctx, prefer: 'filler' | 'placer'): OrderKeys {
  const placer = orc?.value(2) ?? obr?.value(2);
  const filler = orc?.value(3) ?? obr?.value(3);
  const identifiers: Identifier[] = [];
  if (placer) identifiers.push({ type: { coding: [{ system: V2_0203, code: 'PLAC' }] }, system: ctx.system('placerOrder'), value: placer });
  if (filler) identifiers.push({ type: { coding: [{ system: V2_0203, code: 'FILL' }] }, system: ctx.system('fillerOrder'), value: filler });
  const anchor = obr ?? orc!;
  const chosen = prefer === 'filler' ? (filler ? identifiers[identifiers.length - 1] : identifiers[0]) : identifiers[0];
  const key: Identifier = chosen
    ? { system: chosen.system, value: chosen.value }
    : ctx.derived(`msg:${ctx.controlId}/${anchor.name}${anchor.occurrence}`);
  const scope = filler ? `filler:${filler}` : placer ? `placer:${placer}` : `msg:${ctx.controlId}/${anchor.name}${anchor.occurrence}`;
  return { placer, filler, identifiers, key, scope };
}

/**
 * Two OBRs sharing one order number (seen in the wild) would collapse into one resource and lose
 * the second; give the later one a key of its own and say so.
 */
export function uniqueOrderKey(resourceType: string, keys: OrderKeys, seg: Hl7Segment, ctx: Ctx): Identifier {
  if (!ctx.builder.has(resourceType, keys.key)) return keys.key;
  const alt = ctx.derived(`${keys.scope}/${seg.name}:${seg.value(1) ?? seg.occurrence}`, true);
  ctx.warn(
    `${ctx.label(seg, 2)}: order number ${keys.key.value} is used by more than one ${seg.name} in this message; this one is keyed ${alt.value}`,
  );
  return alt;
}

// ---------------------------------------------------------------------------------------------
// ServiceRequest (ORC + OBR/RXO/...)
// ---------------------------------------------------------------------------------------------

const ORDER_STATUS: Record<string, ServiceRequest['status']> = {
  A: 'active',
  IP: 'active',
  SC: 'active',
  CM: 'completed',
  CA: 'revoked',
  DC: 'revoked',
  RP: 'revoked',
  HD: 'on-hold',
  ER: 'entered-in-error',
};
const ORDER_CONTROL: Record<string, ServiceRequest['status']> = {
  NW: 'active',
  OK: 'active',
  RL: 'active',
  OR: 'active',
  XO: 'active',
  XX: 'active',
  SC: 'active',
  RE: 'active',
  SN: 'active',
  CA: 'revoked',
  OC: 'revoked',
  CR: 'revoked',
  DC: 'revoked',
  OD: 'revoked',
  DR: 'revoked',
  HD: 'on-hold',
  OH: 'on-hold',
};
const PRIORITY: Record<string, ServiceRequest['priority']> = { S: 'stat', A: 'asap', R: 'routine', P: 'urgent', C: 'urgent', T: 'urgent' };

export interface OrderGroup {
  orc?: Hl7Segment;
  detail?: Hl7Segment;
  dg1: Hl7Segment[];
  observations: BuiltEntry<Observation>[];
  specimens: BuiltEntry<Specimen>[];
  notes: string[];
  keys?: OrderKeys;
  lastObservation?: BuiltEntry<Observation>;
}

export function orderScope(g: OrderGroup, ctx: Ctx): OrderKeys {
  if (!g.keys) g.keys = orderKeys(g.orc, g.detail?.name === 'OBR' ? g.detail : undefined, ctx, 'placer');
  return g.keys;
}

export function finishOrder(g: OrderGroup, patient: PatientCtx, encounter: EncounterCtx | undefined, ctx: Ctx): void {
  const keys = orderScope(g, ctx);
  const orc = g.orc;
  const obr = g.detail?.name === 'OBR' ? g.detail : undefined;
  let code: CodeableConcept | undefined;
  if (g.detail) {
    const field = { OBR: 4, RXO: 1, RQD: 2, ODS: 3, ODT: 2 }[g.detail.name] ?? 1;
    code = concept(g.detail.rep(field)) ?? textConcept(g.detail.value(field));
  }
  const status =
    ORDER_STATUS[orc?.value(5)?.toUpperCase() ?? ''] ?? ORDER_CONTROL[orc?.value(1)?.toUpperCase() ?? ''] ?? (orc ? 'unknown' : 'active');
  const priorityCode = (obr?.value(27, 6) ?? orc?.value(7, 6) ?? obr?.value(5))?.toUpperCase();
  const reasons = [
    ...(obr ? obr.reps(31).map((r) => concept(r)) : []),
    ...g.dg1.map((d) => concept(d.rep(3), diagnosisSystem(d)) ?? textConcept(d.value(4))),
  ].filter((c): c is CodeableConcept => !!c);
  const sr: ServiceRequest = compact({
    resourceType: 'ServiceRequest' as const,
    identifier: keys.identifiers.length ? keys.identifiers : [keys.key],
    status,
    intent: 'order' as const,
    priority: PRIORITY[priorityCode ?? ''],
    code,
    subject: ref(patient.entry),
    encounter: encounter ? ref(encounter.entry) : undefined,
    occurrenceDateTime: obr ? ctx.dateTime(obr, 6) : undefined,
    authoredOn: orc ? ctx.dateTime(orc, 9) : undefined,
    requester: practitionerRef(orc?.rep(12) ?? obr?.rep(16)),
    reasonCode: reasons,
    supportingInfo: g.observations.map(ref),
    specimen: g.specimens.map(ref),
    note: g.notes.map((text) => ({ text })),
  });
  ctx.builder.add(sr, uniqueOrderKey('ServiceRequest', keys, g.detail ?? orc!, ctx), 'update');
}
