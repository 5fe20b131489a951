/**
 * The facility a result comes from, for per-facility code maps and the unmapped queue: the
 * performing Organization, else meta.source, else the facility Yifang appends to the identifier
 * systems it mints for HL7 v2 (…/sid/hl7v2-key/<MSH-4>, …/sid/filler-order/<MSH-4>); '' if none.
 */
import type { Observation } from '@medplum/fhirtypes';
import { YIFANG_BASE } from '../shared/uris.js';

const SID = `${YIFANG_BASE}/sid/`;

export function resultFacility(o: Pick<Observation, 'performer' | 'meta' | 'identifier'>): string {
  const org = o.performer?.find((r) => r.reference?.startsWith('Organization/'))?.reference;
  if (org) return org.slice('Organization/'.length);
  if (o.meta?.source) return o.meta.source;
  for (const id of o.identifier ?? []) {
    if (!id.system?.startsWith(SID)) continue;
    const rest = id.system.slice(SID.length);
    const slash = rest.indexOf('/');
    if (slash > 0 && rest.slice(0, slash) !== 'mrn') {
      try {
        return decodeURIComponent(rest.slice(slash + 1));
      } catch {
        return rest.slice(slash + 1);
      }
    }
  }
  return '';
}
