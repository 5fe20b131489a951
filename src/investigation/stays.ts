/**
 * Where a person stayed, read from an Encounter (pure): one row per place the encounter names,
 * with its period, so that co-stays can be found with one index range per place instead of a
 * scan of every Encounter.
 *
 * Places, qualified by the facility (Encounter.serviceProvider, else the facility part of the
 * visit-number system, else the Patient's facility in the Location reference itself):
 *  - a referenced Location (Encounter.location.location.reference) → kind `ward`;
 *  - an HL7 PV1-3 text "ward room bed" (location.display only) → `ward` (first word) and `room`
 *    (first two words);
 *  - the department (Encounter.serviceType coding) → `department`.
 * Period: the location's own period, else the encounter's; an encounter without a start is
 * left out (it cannot overlap anything). A missing end is an ongoing stay.
 */
import type { Encounter } from '@medplum/fhirtypes';
import type { StayKind } from './rules.js';

export interface StayRow {
  encounterId: string;
  patientId: string;
  kind: StayKind;
  /** Facility-qualified place key: "ward|<facility>|Location/abc", "room|<facility>|内科 302". */
  placeKey: string;
  label: string;
  start: string;
  end: string | null;
}

const VISIT_SYSTEM = /\/sid\/visit\/([^/]+)$/;

function facilityOf(e: Encounter): string {
  const sp = e.serviceProvider?.reference;
  if (sp?.startsWith('Organization/')) return sp.slice('Organization/'.length);
  for (const i of e.identifier ?? []) {
    const m = i.system && VISIT_SYSTEM.exec(i.system);
    if (m) return m[1]!;
  }
  return '';
}

function instant(v: string | undefined): string | null {
  if (!v) return null;
  const t = Date.parse(v.length === 10 ? `${v}T00:00:00+08:00` : v);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

export function staysOf(e: Encounter): StayRow[] {
  const patient = e.subject?.reference;
  if (!e.id || !patient?.startsWith('Patient/') || e.status === 'cancelled' || e.status === 'entered-in-error') return [];
  const patientId = patient.slice('Patient/'.length);
  const fac = facilityOf(e);
  const encStart = instant(e.period?.start);
  const encEnd = instant(e.period?.end);
  const out = new Map<string, StayRow>();
  const add = (kind: StayKind, place: string, label: string, start: string | null, end: string | null) => {
    if (!start || !place.trim()) return;
    const placeKey = `${kind}|${fac}|${place.trim()}`.slice(0, 300);
    const key = `${placeKey}|${start}`;
    if (!out.has(key)) out.set(key, { encounterId: e.id!, patientId, kind, placeKey, label: label.trim().slice(0, 200), start, end });
  };
  for (const l of e.location ?? []) {
    const start = instant(l.period?.start) ?? encStart;
    const end = l.period?.start ? instant(l.period.end) : encEnd;
    const ref = l.location?.reference;
    const display = l.location?.display?.trim();
    if (ref) add('ward', ref, display ?? ref, start, end);
    else if (display) {
      const words = display.split(/\s+/);
      add('ward', words[0]!, words[0]!, start, end);
      if (words.length > 1) add('room', words.slice(0, 2).join(' '), words.slice(0, 2).join(' '), start, end);
    }
  }
  const dept = e.serviceType?.coding?.find((c) => c.code);
  if (dept?.code) add('department', dept.code, dept.display ?? e.serviceType?.text ?? dept.code, encStart, encEnd);
  return [...out.values()];
}

const HOUR = 3_600_000;

/** The overlap of two periods (null end = ongoing, read as `now`), or null when shorter than minHours. */
export function overlap(
  a: { start: string; end: string | null },
  b: { start: string; end: string | null },
  now: Date,
  minHours = 0,
): { start: string; end: string } | null {
  const s = Math.max(Date.parse(a.start), Date.parse(b.start));
  const e = Math.min(a.end ? Date.parse(a.end) : now.getTime(), b.end ? Date.parse(b.end) : now.getTime());
  // Instants (an outpatient visit with start = end) overlap a stay that spans them.
  if (e < s || (minHours > 0 && e - s < minHours * HOUR)) return null;
  return { start: new Date(s).toISOString(), end: new Date(e).toISOString() };
}
