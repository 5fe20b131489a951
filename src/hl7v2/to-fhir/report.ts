/** DiagnosticReport (ORU OBR): the report over an order's results and specimens. */
import { Hl7ParseError } from '../errors.js';
import type { Hl7Segment } from '../parser.js';
import type { DiagnosticReport, Observation, Specimen } from '@medplum/fhirtypes';
import type { BuiltEntry } from './contract.js';
import { ref } from './bundle.js';
import type { Ctx, EncounterCtx, PatientCtx } from './context.js';
import { asCode, compact, concept } from './datatypes.js';
import { uniqueOrderKey, type OrderKeys } from './order.js';
import { specimenFromObr } from './specimen.js';

const REPORT_STATUS: Record<string, DiagnosticReport['status']> = {
  O: 'registered',
  I: 'registered',
  S: 'registered',
  A: 'partial',
  P: 'preliminary',
  R: 'preliminary',
  C: 'corrected',
  F: 'final',
  X: 'cancelled',
};

export interface ReportGroup {
  obr: Hl7Segment;
  orc?: Hl7Segment;
  keys: OrderKeys;
  observations: BuiltEntry<Observation>[];
  specimens: BuiltEntry<Specimen>[];
  lastObservation?: BuiltEntry<Observation>;
  inSpecimen?: BuiltEntry<Specimen>;
  effective?: string;
}

export function finishReport(g: ReportGroup, patient: PatientCtx, encounter: EncounterCtx | undefined, ctx: Ctx): void {
  const code = concept(g.obr.rep(4));
  if (!code) {
    throw new Hl7ParseError(
      'MISSING_FIELD',
      `${ctx.label(g.obr, 4)} (universal service identifier) is required for a result report`,
      g.obr.location(4),
    );
  }
  if (!g.specimens.length) {
    const s = specimenFromObr(g.obr, patient, g.keys.scope, ctx);
    if (s) g.specimens.push(s);
  }
  const specimen = g.specimens[0];
  for (const o of g.observations) if (!o.resource.specimen && specimen) o.resource.specimen = ref(specimen);
  let status = REPORT_STATUS[g.obr.value(25)?.toUpperCase() ?? ''];
  if (!status) {
    const statuses = g.observations.map((o) => o.resource.status);
    status =
      statuses.length && statuses.every((s) => s === 'final') ? 'final' : statuses.includes('preliminary') ? 'preliminary' : 'unknown';
  }
  const section = asCode(g.obr.value(24));
  const report: DiagnosticReport = compact({
    resourceType: 'DiagnosticReport' as const,
    identifier: g.keys.identifiers.length ? g.keys.identifiers : [g.keys.key],
    status,
    category: section ? [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: section }] }] : undefined,
    code,
    subject: ref(patient.entry),
    encounter: encounter ? ref(encounter.entry) : undefined,
    effectiveDateTime: g.effective,
    issued: ctx.instant(g.obr, 22),
    specimen: g.specimens.map(ref),
    result: g.observations.map(ref),
  });
  ctx.builder.add(report, uniqueOrderKey('DiagnosticReport', g.keys, g.obr, ctx), 'update');
}
