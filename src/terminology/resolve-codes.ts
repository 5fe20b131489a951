/**
 * What other modules call to read a record's specimen type and units in standard codes: the
 * Specimen's type as a SNOMED CT specimen concept (with its names and class: upper-respiratory,
 * blood, …), a quantity's unit as UCUM; and which of an encounter diagnosis's local codes belong in
 * the unmapped queue. Built on the index the processors keep (createLabResolver) or one compiled
 * for the call.
 */
import type { Condition, Quantity, Specimen } from '@medplum/fhirtypes';
import type { SpecimenClass } from './code-tables.js';
import { resultFacility } from './facility.js';
import type { CodeResolution, TerminologyIndex } from './resolve.js';
import type { UnmappedSighting } from './store.js';

export interface ResolvedSpecimenType {
  /** SNOMED CT specimen concept. */
  code: string;
  zh: string;
  en: string;
  class: SpecimenClass;
  via: 'standard' | 'hl7v2' | 'text' | 'concept-map';
}

export interface ResolvedUnit {
  /** UCUM code. */
  code: string;
  /** Chinese name when the unit is on the table. */
  zh?: string;
  via: 'standard' | 'text' | 'concept-map';
}

type Mapped = Extract<CodeResolution, { status: 'mapped' }>;

/** A Specimen's type in SNOMED CT, through its facility's maps; undefined when no table or map answers. */
export function resolveSpecimenType(
  index: TerminologyIndex,
  specimen: Pick<Specimen, 'type' | 'meta' | 'identifier'>,
  facility = resultFacility(specimen),
): ResolvedSpecimenType | undefined {
  const r = index.resolveSpecimen(specimen.type, facility);
  if (r.status !== 'mapped') return undefined;
  const t = index.tables.specimen.byCode.get(r.code);
  return t ? { code: t.code, zh: t.zh, en: t.en, class: t.class, via: r.via } : undefined;
}

/** A quantity's unit in UCUM, through the facility's maps and the unit table; undefined when neither answers. */
export function resolveUnit(
  index: TerminologyIndex,
  q: Pick<Quantity, 'unit' | 'code' | 'system'> | undefined,
  facility: string,
): ResolvedUnit | undefined {
  const r = index.resolveUnit(q, facility);
  if (r.status !== 'mapped') return undefined;
  const t = index.tables.unit.byCode.get(r.code);
  return { code: r.code, ...(t ? { zh: t.zh } : {}), via: (r as Mapped).via as ResolvedUnit['via'] };
}

/**
 * The queue entries (kind diagnosis) for one version of a Condition: its local codes, when it is a
 * visit's diagnosis (it names an Encounter, so its ICD-10 code would feed the visit's syndromes),
 * none of its codings is ICD-10, no map of its facility (or of any facility) knows a code, and no
 * coding's text names a single notifiable target. The facility is read as the visit processor reads
 * it (meta.source, or the MSH-4 in an HL7-minted identifier). `first`: the Condition's first version
 * (only first versions add to the count).
 */
export function unmappedDiagnoses(index: TerminologyIndex, condition: Condition, first: boolean): UnmappedSighting[] {
  if (!condition.id || !condition.encounter?.reference?.startsWith('Encounter/')) return [];
  const facility = resultFacility({ meta: condition.meta, identifier: condition.identifier });
  const r = index.resolveDiagnosis(condition.code, facility);
  if (r.status !== 'unmapped') return [];
  return r.local.map((l) => ({ kind: 'diagnosis' as const, facility, ...l, observationId: condition.id!, first }));
}
