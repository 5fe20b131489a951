/**
 * One record per resident (一人一档): the Person behind a Patient or Person id, every linked
 * Patient with its facility, the demographics compared field by field, and one timeline of
 * encounters, diagnoses, medications, observations, immunizations and care plans across all
 * linked Patients, newest first, paged with a total.
 *
 * Everything clinical is read through the FHIR store's search (src/fhir/search.ts), one bounded
 * query per resource type over the Patients shown; nothing here reads another module's tables.
 * Access is decided per linked Patient by the caller's `screen` (the policy's filter, which also
 * masks): a Patient it withholds is left out, and its items are counted, not read.
 */
import type { CodeableConcept, Patient, Person, Resource } from '@medplum/fhirtypes';
import { residentsOf } from '../fhir/access.js';
import { fastExtractSearchValues } from '../fhir/fast-extract.js';
import { search } from '../fhir/search.js';
import type { Queryable } from '../platform/db.js';
import { notFound } from '../platform/errors.js';
import { RESIDENT_ID_SYSTEM } from '../shared/id-number.js';
import type { Mpi } from './mpi.js';
import { isHanzi } from './record.js';
import {
  DEMOGRAPHIC_FIELDS,
  TIMELINE_KINDS,
  type DemographicComparison,
  type DemographicField,
  type LinkedPatient,
  type MergedRecord,
  type RecordQuery,
  type TimelineItem,
  type TimelineKind,
} from './search-schemas.js';

/** Applies the access policy to resources: each kept (masked as the policy says) or null (withheld). */
export type Screen = (resources: Resource[]) => Promise<(Resource | null)[]>;

/** No policy (CLI, tests of the pure parts): everything passes unmasked. */
export const OPEN_SCREEN: Screen = async (resources) => resources;

export interface RecordDeps {
  db: { pool: Queryable };
  mpi: Pick<Mpi, 'personOfPatient' | 'patientsOfPerson'>;
}

/** A Person links at most this many Patients here (FHIR's OR-list limit); more are reported in the log of the index, not shown. */
const MAX_PATIENTS = 100;
/** Highest offset + limit served; older items are reached with `before`. */
export const MAX_DEPTH = 1000;

type Json = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// Pure helpers

export function conceptText(c: CodeableConcept | undefined): string {
  if (!c) return '';
  return c.text ?? c.coding?.find((x) => x.display)?.display ?? c.coding?.[0]?.code ?? '';
}

const orgId = (ref: string | undefined) => (ref?.startsWith('Organization/') ? ref.slice('Organization/'.length) : null);

/** The demographic values of a Patient as written (for display). */
export function demographicsOf(p: Patient): Record<DemographicField, string | null> {
  const name = p.name?.find((n) => n.use === 'official') ?? p.name?.[0];
  const given = (name?.given ?? []).join(' ');
  const family = name?.family ?? '';
  // Hanzi names read family first without spaces; Latin ones given name first, as the web shows them.
  const composed = isHanzi(`${family}${given}`) ? `${family}${given.replace(/\s+/g, '')}` : `${given} ${family}`;
  const nameText = (name?.text ?? composed).trim();
  const id = (p.identifier ?? []).find(
    (i) => i.system === RESIDENT_ID_SYSTEM || i.type?.coding?.some((c) => c.code === 'NI' || c.code === 'NNCHN'),
  );
  const phone = p.telecom?.find((t) => t.system === 'phone' && t.value)?.value;
  const addr = p.address?.find((a) => a.use === 'home') ?? p.address?.[0];
  const address = addr?.text ?? [addr?.city, addr?.district, ...(addr?.line ?? [])].filter(Boolean).join('');
  return {
    name: nameText || null,
    gender: p.gender ?? null,
    birthDate: p.birthDate ?? null,
    idNumber: id?.value?.trim() || null,
    phone: phone?.trim() || null,
    address: address || null,
  };
}

/** The form two values are compared in: no spaces or punctuation, one case; phones without +86. */
export function normalise(field: DemographicField, value: string | null): string {
  if (!value) return '';
  const v = value.replace(/[\s,，。·\-()（）]/g, '').toLowerCase();
  if (field === 'phone') return v.replace(/\D/g, '').replace(/^86(?=1\d{10}$)/, '');
  return v;
}

/**
 * Field-by-field comparison of the linked Patients. A field conflicts when two Patients give
 * different non-empty values; the header value is the one most give, on a tie the one of the
 * most recently updated Patient (patients come newest first).
 */
export function compareDemographics(
  patients: { patientId: string; values: Record<DemographicField, string | null> }[],
): DemographicComparison[] {
  return DEMOGRAPHIC_FIELDS.map((field) => {
    const values = patients.map((p) => ({ source: p.patientId, value: p.values[field] }));
    const counts = new Map<string, { n: number; first: number; value: string }>();
    values.forEach((v, i) => {
      const k = normalise(field, v.value);
      if (!k) return;
      const c = counts.get(k);
      if (c) c.n++;
      else counts.set(k, { n: 1, first: i, value: v.value! });
    });
    const best = [...counts.values()].sort((a, b) => b.n - a.n || a.first - b.first)[0];
    return { field, value: best?.value ?? null, conflict: counts.size > 1, values };
  });
}

interface TypeSpec {
  type: string;
  dateParam: string;
  kind: TimelineKind;
  extra?: [string, string][];
}

/** The searches a set of kinds needs (Observations split by category only when a filter asks). */
export function timelineSearches(kinds: ReadonlySet<TimelineKind>): TypeSpec[] {
  const out: TypeSpec[] = [];
  if (kinds.has('encounter')) out.push({ type: 'Encounter', dateParam: 'date', kind: 'encounter' });
  if (kinds.has('condition')) out.push({ type: 'Condition', dateParam: 'recorded-date', kind: 'condition' });
  if (kinds.has('medication')) {
    out.push({ type: 'MedicationRequest', dateParam: 'authoredon', kind: 'medication' });
    out.push({ type: 'MedicationStatement', dateParam: 'effective', kind: 'medication' });
  }
  const obs = (['lab', 'vital', 'observation'] as const).filter((k) => kinds.has(k));
  if (obs.length === 3) out.push({ type: 'Observation', dateParam: 'date', kind: 'observation' });
  else
    for (const k of obs)
      out.push({
        type: 'Observation',
        dateParam: 'date',
        kind: k,
        extra: [
          k === 'lab'
            ? ['category', 'laboratory']
            : k === 'vital'
              ? ['category', 'vital-signs']
              : ['category:not', 'laboratory,vital-signs'],
        ],
      });
  if (kinds.has('immunization')) out.push({ type: 'Immunization', dateParam: 'date', kind: 'immunization' });
  if (kinds.has('careplan')) out.push({ type: 'CarePlan', dateParam: 'date', kind: 'careplan' });
  return out;
}

function observationKind(o: Json): TimelineKind {
  const codes = ((o.category as CodeableConcept[] | undefined) ?? []).flatMap((c) => c.coding?.map((x) => x.code) ?? []);
  if (codes.includes('laboratory')) return 'lab';
  if (codes.includes('vital-signs')) return 'vital';
  return 'observation';
}

function quantityText(q: Json | undefined): string | null {
  if (!q || q.value === undefined) return null;
  return `${String(q.value)}${q.unit ? ` ${String(q.unit)}` : ''}`;
}

/** What the timeline shows of a resource: its date, a title and a short detail (pure). */
export function describeItem(
  r: Resource,
  kind: TimelineKind,
): { kind: TimelineKind; date: string | null; title: string; detail: string | null; status: string | null } {
  const j = r as unknown as Json;
  const cc = (k: string) => conceptText(j[k] as CodeableConcept | undefined);
  const period = j.period as { start?: string; end?: string } | undefined;
  const status = typeof j.status === 'string' ? j.status : null;
  switch (r.resourceType) {
    case 'Encounter': {
      const type = ((j.type as CodeableConcept[] | undefined) ?? []).map(conceptText).filter(Boolean).join('；');
      const cls = j.class as { display?: string; code?: string } | undefined;
      const reason = ((j.reasonCode as CodeableConcept[] | undefined) ?? []).map(conceptText).filter(Boolean).join('；');
      return {
        kind,
        date: period?.start ?? period?.end ?? null,
        title: type || cls?.display || cls?.code || 'Encounter',
        detail: reason || null,
        status,
      };
    }
    case 'Condition': {
      const clinical = conceptText(j.clinicalStatus as CodeableConcept | undefined);
      return {
        kind,
        date: (j.recordedDate as string | undefined) ?? (j.onsetDateTime as string | undefined) ?? null,
        title: cc('code') || 'Condition',
        detail: null,
        status: clinical || null,
      };
    }
    case 'MedicationRequest':
    case 'MedicationStatement': {
      const med = cc('medicationCodeableConcept') || ((j.medicationReference as { display?: string } | undefined)?.display ?? '');
      const dosage = ((j.dosageInstruction ?? j.dosage) as { text?: string }[] | undefined)?.[0]?.text ?? null;
      const date =
        (j.authoredOn as string | undefined) ??
        (j.effectiveDateTime as string | undefined) ??
        (j.effectivePeriod as { start?: string } | undefined)?.start ??
        null;
      return { kind, date, title: med || 'Medication', detail: dosage, status };
    }
    case 'Observation': {
      const k = kind === 'observation' ? observationKind(j) : kind;
      const value =
        quantityText(j.valueQuantity as Json | undefined) ??
        (conceptText(j.valueCodeableConcept as CodeableConcept | undefined) ||
          (typeof j.valueString === 'string' ? j.valueString : null) ||
          ((j.component as Json[] | undefined) ?? [])
            .map((c) => quantityText(c.valueQuantity as Json | undefined))
            .filter(Boolean)
            .join(' / ') ||
          null);
      const interp = ((j.interpretation as CodeableConcept[] | undefined) ?? []).map(conceptText).filter(Boolean).join('；');
      const date =
        (j.effectiveDateTime as string | undefined) ??
        (j.effectivePeriod as { start?: string } | undefined)?.start ??
        (j.issued as string | undefined) ??
        null;
      return { kind: k, date, title: cc('code') || 'Observation', detail: [value, interp].filter(Boolean).join(' · ') || null, status };
    }
    case 'Immunization': {
      const dose = ((j.protocolApplied as { doseNumberPositiveInt?: number }[] | undefined) ?? [])[0]?.doseNumberPositiveInt;
      return {
        kind,
        date: (j.occurrenceDateTime as string | undefined) ?? null,
        title: cc('vaccineCode') || 'Immunization',
        detail: dose ? `#${dose}` : null,
        status,
      };
    }
    case 'CarePlan': {
      const cat = ((j.category as CodeableConcept[] | undefined) ?? []).map(conceptText).filter(Boolean).join('；');
      return {
        kind,
        date: period?.start ?? (j.created as string | undefined) ?? null,
        title: (typeof j.title === 'string' ? j.title : '') || cat || 'CarePlan',
        detail: typeof j.description === 'string' ? j.description.slice(0, 200) : null,
        status,
      };
    }
    default:
      return { kind, date: null, title: r.resourceType, detail: null, status };
  }
}

/** The value the store sorts a resource by for `_sort=-<param>` (the upper bound of the date). */
function sortKey(r: Resource, dateParam: string): string {
  const v = fastExtractSearchValues(r)[`p_${dateParam.replace(/-/g, '_')}_hi`];
  return typeof v === 'string' ? v : '';
}

// ---------------------------------------------------------------------------------------------
// Store reads

/** Resources of one type by id, through the FHIR search (at most MAX_PATIENTS). */
async function byIds<T extends Resource>(pool: Queryable, type: string, ids: string[]): Promise<T[]> {
  if (!ids.length) return [];
  const { bundle } = await search(
    pool,
    type,
    {
      params: [
        ['_id', ids.slice(0, MAX_PATIENTS).join(',')],
        ['_count', String(MAX_PATIENTS)],
      ],
    },
    '',
  );
  return (bundle.entry ?? []).map((e) => e.resource as T);
}

/** Organisation names by id. */
export async function organizationNames(pool: Queryable, ids: string[]): Promise<Map<string, string | null>> {
  const unique = [...new Set(ids.filter(Boolean))];
  const orgs = await byIds<Resource & { name?: string }>(pool, 'Organization', unique);
  const out = new Map<string, string | null>(unique.map((id) => [id, null]));
  for (const o of orgs) if (o.id) out.set(o.id, o.name ?? null);
  return out;
}

/** Count of one type's items for some Patients (no rows read). */
async function countFor(pool: Queryable, spec: TypeSpec, refs: string[], before?: string): Promise<number> {
  const params: [string, string][] = [['patient', refs.join(',')], ...(spec.extra ?? []), ['_summary', 'count']];
  if (before) params.push([spec.dateParam, `lt${before}`]);
  const { bundle } = await search(pool, spec.type, { params }, '');
  return bundle.total ?? 0;
}

/**
 * The merged record of a resident. `id` is a Patient id (its Person is used when linked) or a
 * Person id; 404 when it is neither. Timeline pages are bounded (limit ≤ 100, offset + limit ≤
 * 1000, one search per type fetching at most offset + limit rows); `before` pages further back.
 */
export async function mergedRecord(deps: RecordDeps, id: string, query: RecordQuery, screen: Screen): Promise<MergedRecord> {
  const pool = deps.db.pool;
  const limit = Math.min(query.limit, 100);
  const offset = Math.min(query.offset, MAX_DEPTH - limit);
  // 1. The Person and its Patients.
  let personId: string | null = (await deps.mpi.personOfPatient(id)) ?? null;
  let person: Person | null = null;
  if (!personId) {
    const [asPerson] = await byIds<Person>(pool, 'Person', [id]);
    if (asPerson) {
      person = asPerson;
      personId = id;
    }
  } else [person = null] = await byIds<Person>(pool, 'Person', [personId]);
  const assurance = new Map<string, string>();
  let patientIds: string[];
  if (personId) {
    const linked = await deps.mpi.patientsOfPerson(personId);
    linked.forEach((l) => assurance.set(l.patientId, l.assurance));
    patientIds = linked.map((l) => l.patientId);
    // A Person written by another way (FHIR API) may name Patients the index does not hold.
    for (const p of person ? residentsOf(person) : []) if (!patientIds.includes(p)) patientIds.push(p);
    if (!patientIds.includes(id) && !person) patientIds.push(id);
  } else patientIds = [id];
  const stored = await byIds<Patient>(pool, 'Patient', patientIds);
  if (!stored.length) throw notFound(`Neither a Patient nor a Person: ${id} / 未找到该居民档案`);
  // Newest first: the most recently updated Patient wins ties in the header.
  stored.sort((a, b) => (b.meta?.lastUpdated ?? '').localeCompare(a.meta?.lastUpdated ?? '') || (a.id ?? '').localeCompare(b.id ?? ''));

  // 2. Access per linked Patient: withheld ones are counted, the rest come masked as the policy says.
  const screened = await screen(stored);
  const shown: Patient[] = [];
  const hidden: string[] = [];
  screened.forEach((r, i) => (r ? shown.push(r as Patient) : hidden.push(stored[i]!.id!)));
  const names = await organizationNames(
    pool,
    stored.map((p) => orgId(p.managingOrganization?.reference) ?? ''),
  );
  const facilityOf = (p: Patient) => orgId(p.managingOrganization?.reference);
  const patients: LinkedPatient[] = shown.map((p) => {
    const values = demographicsOf(p);
    const fid = facilityOf(p);
    return {
      patientId: p.id!,
      facilityId: fid,
      facilityName: fid ? (names.get(fid) ?? null) : null,
      assurance: assurance.get(p.id!) ?? null,
      lastUpdated: p.meta?.lastUpdated ?? null,
      ...values,
      masked: !!p.meta?.security?.some((s) => s.code === 'REDACTED'),
    };
  });
  const demographics = compareDemographics(
    patients.map((p) => ({ patientId: p.patientId, values: demographicsOf(shown.find((s) => s.id === p.patientId)!) })),
  );
  const facilities = new Map<string, { id: string; name: string | null; patients: number }>();
  for (const p of patients)
    if (p.facilityId) {
      const f = facilities.get(p.facilityId) ?? { id: p.facilityId, name: p.facilityName, patients: 0 };
      f.patients++;
      facilities.set(p.facilityId, f);
    }

  // 3. The timeline over the Patients shown (and the facility asked for).
  const kinds = new Set<TimelineKind>(query.types ? (query.types.split(',') as TimelineKind[]) : TIMELINE_KINDS);
  const specs = timelineSearches(kinds);
  const inScope = shown.filter((p) => !query.facility || facilityOf(p) === query.facility);
  const refs = inScope.map((p) => `Patient/${p.id}`);
  const byPatient = new Map(inScope.map((p) => [p.id!, p]));
  let total = 0;
  const candidates: { r: Resource; key: string; order: number; spec: TypeSpec }[] = [];
  if (refs.length)
    for (const [order, spec] of specs.entries()) {
      const params: [string, string][] = [
        ['patient', refs.join(',')],
        ...(spec.extra ?? []),
        ['_sort', `-${spec.dateParam}`],
        ['_count', String(offset + limit)],
      ];
      if (query.before) params.push([spec.dateParam, `lt${query.before}`]);
      const { bundle } = await search(pool, spec.type, { params }, '');
      total += bundle.total ?? 0;
      for (const e of bundle.entry ?? [])
        if (e.search?.mode === 'match' && e.resource)
          candidates.push({ r: e.resource, key: sortKey(e.resource, spec.dateParam), order, spec });
    }
  candidates.sort((a, b) =>
    a.key === b.key ? a.order - b.order || (a.r.id ?? '').localeCompare(b.r.id ?? '') : !a.key ? 1 : !b.key ? -1 : a.key < b.key ? 1 : -1,
  );
  const page = candidates.slice(offset, offset + limit);
  // Items of withheld Patients: counted only.
  let withheld = 0;
  const hiddenInScope = stored.filter((p) => hidden.includes(p.id!) && (!query.facility || facilityOf(p) === query.facility));
  if (hiddenInScope.length) {
    const hiddenRefs = hiddenInScope.map((p) => `Patient/${p.id}`);
    for (const spec of specs) withheld += await countFor(pool, spec, hiddenRefs, query.before);
  }
  // Resource-level rules (security labels, criteria) decide each item of the page.
  const kept = await screen(page.map((c) => c.r));
  const items: TimelineItem[] = [];
  kept.forEach((r, i) => {
    if (!r) {
      withheld++;
      return;
    }
    const spec = page[i]!.spec;
    const source = residentsOf(r).find((p) => byPatient.has(p)) ?? inScope[0]!.id!;
    const fid = facilityOf(byPatient.get(source)!);
    items.push({
      key: `${r.resourceType}/${r.id}`,
      ...describeItem(r, spec.kind),
      resourceType: r.resourceType,
      id: r.id!,
      facilityId: fid,
      facilityName: fid ? (names.get(fid) ?? null) : null,
      sourcePatient: source,
      resource: r as unknown as Record<string, unknown>,
    });
  });
  const last = items.at(-1);
  return {
    requestedId: id,
    personId,
    person: person as unknown as Record<string, unknown> | null,
    patients,
    withheldPatients: hidden.length,
    demographics,
    conflicts: demographics.filter((d) => d.conflict).length,
    facilities: [...facilities.values()],
    timeline: {
      items,
      total,
      offset,
      limit,
      withheld,
      nextBefore: last?.date && total > offset + page.length ? last.date : null,
    },
  };
}
