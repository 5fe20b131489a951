/**
 * Completeness and timeliness of a record (pure). The mandatory fields follow what the district's
 * uses need of each kind of record, after WS 365-2011 (城乡居民健康档案基本数据集: identity,
 * sex, birth date, contact and address of a resident) and the reporting rules that need a time,
 * a place and a code: a record lacking one is stored as sent and counted incomplete, never
 * refused. Timeliness compares when the event happened with when the hub first received the
 * record: within 24 hours counts as timely, the network-reporting limit the 传染病信息报告管理规范
 * (2015) sets for class B and C diseases, used here for every clinical record.
 */
import type { Resource } from '@medplum/fhirtypes';
import { RESIDENT_ID_SYSTEM } from '../shared/id-number.js';
import { facilityOf } from './marks.js';

/** The record types the quality processor follows. */
export const TRACKED_TYPES = ['Patient', 'Encounter', 'Condition', 'Observation', 'Immunization'] as const;

/** Hours between the event and its first arrival within which a record is timely. */
export const TIMELY_HOURS = 24;

/**
 * A record that first arrives more than this many days after its event is a historical load
 * (补录, onboarding a facility's past records), not a late report: counted apart and left out
 * of timeliness, so loading a district's history does not make every facility late.
 */
export const HISTORICAL_DAYS = 30;

type Json = Record<string, unknown>;
const has = (v: unknown): boolean =>
  v !== undefined &&
  v !== null &&
  v !== '' &&
  !(Array.isArray(v) && v.length === 0) &&
  !(typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0);
const ref = (v: unknown): string | undefined => (v as { reference?: string } | undefined)?.reference;
const anyKey = (r: Json, prefix: string) => Object.keys(r).some((k) => k.startsWith(prefix) && has(r[k]));

/** Mandatory fields per type: the field's name as users know it, and whether the record has it. */
const REQUIRED: Record<string, [string, (r: Json) => boolean][]> = {
  Patient: [
    ['name', (r) => has(r.name)],
    ['gender', (r) => has(r.gender)],
    ['birthDate', (r) => has(r.birthDate)],
    [
      'identifier (公民身份号码)',
      (r) =>
        ((r.identifier as { system?: string; value?: string }[] | undefined) ?? []).some(
          (i) => i.system === RESIDENT_ID_SYSTEM && has(i.value),
        ),
    ],
    [
      'telecom (phone)',
      (r) => ((r.telecom as { system?: string; value?: string }[] | undefined) ?? []).some((t) => t.system === 'phone' && has(t.value)),
    ],
    ['address', (r) => has(r.address)],
  ],
  Encounter: [
    ['subject', (r) => has(ref(r.subject))],
    ['period.start', (r) => has((r.period as Json | undefined)?.start)],
    ['class', (r) => has(r.class)],
    ['serviceProvider', (r) => has(ref(r.serviceProvider))],
  ],
  Condition: [
    ['subject', (r) => has(ref(r.subject))],
    ['code', (r) => has((r.code as Json | undefined)?.coding)],
    ['onset or recordedDate', (r) => anyKey(r, 'onset') || has(r.recordedDate)],
  ],
  Observation: [
    ['subject', (r) => has(ref(r.subject))],
    ['code', (r) => has((r.code as Json | undefined)?.coding)],
    ['effective', (r) => anyKey(r, 'effective') || has(r.issued)],
    ['value or interpretation', (r) => anyKey(r, 'value') || has(r.interpretation) || has(r.component) || has(r.dataAbsentReason)],
  ],
  Immunization: [
    ['patient', (r) => has(ref(r.patient))],
    ['vaccineCode', (r) => has((r.vaccineCode as Json | undefined)?.coding)],
    ['occurrence', (r) => anyKey(r, 'occurrence')],
    ['lotNumber', (r) => has(r.lotNumber)],
  ],
};

/** The mandatory fields the record lacks ([] when complete, or for a type without rules). */
export function missingFields(resource: Resource): string[] {
  const r = resource as unknown as Json;
  return (REQUIRED[resource.resourceType] ?? []).filter(([, ok]) => !ok(r)).map(([name]) => name);
}

/** When the recorded event happened (visit start, onset or record date, sampling, vaccination), if the record says. */
export function eventTime(resource: Resource): string | undefined {
  const r = resource as unknown as Json;
  const candidates: unknown[] =
    resource.resourceType === 'Encounter'
      ? [(r.period as Json | undefined)?.start]
      : resource.resourceType === 'Condition'
        ? [r.recordedDate, r.onsetDateTime]
        : resource.resourceType === 'Observation'
          ? [r.effectiveDateTime, (r.effectivePeriod as Json | undefined)?.start, r.issued]
          : resource.resourceType === 'Immunization'
            ? [r.occurrenceDateTime]
            : [];
  const t = candidates.find((c): c is string => typeof c === 'string' && !Number.isNaN(Date.parse(c)));
  return t;
}

/** The resident a record is about: the Patient itself, or its subject/patient. */
export function patientOf(resource: Resource): string | undefined {
  if (resource.resourceType === 'Patient') return resource.id;
  const r = resource as unknown as Json;
  const reference = ref(r.subject) ?? ref(r.patient);
  return reference?.startsWith('Patient/') ? reference.slice('Patient/'.length) : undefined;
}

/** The facility a record belongs to: a Patient's managing organisation or MRN; a visit's provider; a result's or vaccination's performer. */
export function facilityOfRecord(resource: Resource): string {
  if (resource.resourceType === 'Patient') return facilityOf(resource);
  const r = resource as unknown as Json;
  const candidates = [
    ref(r.serviceProvider),
    ...((r.performer as unknown[] | undefined) ?? []).map((p) => ref(p) ?? ref((p as Json).actor)),
    ref(r.asserter),
    ref(r.recorder),
  ];
  const org = candidates.find((c) => c?.startsWith('Organization/'));
  return org ? org.slice('Organization/'.length) : facilityOf(resource);
}
