/**
 * Resolving a result's codes to a lab-test signal code (pure). In order: a coding in Yifang's own
 * lab-test system; a LOINC code on the built-in pathogen table (no mapping needed), or a LOINC
 * "organism identified" code with the organism in the value; a ConceptMap of the facility for the
 * coding's system, then one for any facility (a code with a system only). A local code found in
 * no map is 'unmapped' (it goes to the queue); standard codes not on the table are 'other'.
 */
import type { CodeableConcept, Coding, ConceptMap, Observation, Quantity } from '@medplum/fhirtypes';
import { ICD10_SYSTEM, LOINC_SYSTEM } from '../shared/uris.js';
import { normaliseSpecimenText, normaliseUnit, SNOMED_SYSTEM, SPECIMEN_SYSTEM, UCUM_SYSTEM, V2_0070, V2_0487 } from './code-tables.js';
import { mappingsOf } from './concept-map.js';
import { normaliseDiagnosisText } from './diagnoses.js';
import type { TerminologyTables } from './kinds.js';
import { LAB_TEST_SYSTEM } from './targets.js';

const SNOMED = SNOMED_SYSTEM;
/** Standard systems: a code in them is what it says, never a facility's local code to map. */
const STANDARD = new Set([LOINC_SYSTEM, SNOMED, ICD10_SYSTEM, UCUM_SYSTEM, V2_0487, V2_0070]);
/** A diagnosis coded in any ICD-10 system (WHO, the national clinical edition, ICD-10-CM) is taken as it is, as surveillance does. */
const ICD10_LIKE = /icd-?10/i;
/** Longest specimen text or unit string queued as a code of its own. */
const MAX_TEXT_CODE = 200;

export type LabResolution =
  | { status: 'mapped'; code: string; via: 'lab-test' | 'loinc' | 'concept-map' }
  /** Mapped on purpose to nothing: reviewed, not a code signals need. */
  | { status: 'ignored' }
  | { status: 'unmapped'; local: { system: string; code: string; display?: string }[] }
  | { status: 'other' };

/** A specimen type or a unit resolved: to a SNOMED CT specimen concept / a UCUM code, or not. */
export type CodeResolution =
  | { status: 'mapped'; code: string; via: 'standard' | 'hl7v2' | 'text' | 'concept-map' }
  | { status: 'ignored' }
  | { status: 'unmapped'; local: { system: string; code: string; display?: string }[] }
  /** A standard code not on the table (never queued), or nothing to resolve. */
  | { status: 'other' }
  | { status: 'none' };

const key = (targetSystem: string, facility: string, system: string, code: string) =>
  `${targetSystem}\u0000${facility}\u0000${system}\u0000${code}`;

export class TerminologyIndex {
  private readonly maps = new Map<string, string | null>();

  constructor(
    readonly tables: TerminologyTables,
    conceptMaps: readonly ConceptMap[] = [],
  ) {
    for (const cm of conceptMaps)
      for (const m of mappingsOf(cm)) {
        const k = key(m.targetSystem, m.facility, m.system, m.code);
        if (!this.maps.has(k)) this.maps.set(k, m.target);
      }
  }

  get size(): number {
    return this.maps.size;
  }

  /** A facility's code of a system mapped to `targetSystem`: the target, null (mapped to nothing) or undefined (not in any map). */
  lookup(targetSystem: string, facility: string, system: string, code: string): string | null | undefined {
    const own = this.maps.get(key(targetSystem, facility, system, code));
    if (own !== undefined) return own;
    return system ? this.maps.get(key(targetSystem, '', system, code)) : undefined;
  }

  /** An Observation's code to a lab-test code. */
  resolveLab(o: Pick<Observation, 'code' | 'valueCodeableConcept' | 'valueString'>, facility: string): LabResolution {
    const codings = o.code?.coding ?? [];
    const own = codings.find((c) => c.system === LAB_TEST_SYSTEM && c.code);
    if (own) return { status: 'mapped', code: own.code!, via: 'lab-test' };
    for (const c of codings) {
      if (c.system !== LOINC_SYSTEM || !c.code) continue;
      const t = this.tables.lab.loinc.get(c.code);
      if (t) return { status: 'mapped', code: t, via: 'loinc' };
      const organisms = this.tables.lab.loincByValue.get(c.code);
      if (organisms) {
        const value = o.valueCodeableConcept;
        const text = [value?.text, ...(value?.coding ?? []).map((x) => x.display), o.valueString].filter(Boolean).join(' ').toLowerCase();
        const hit = organisms.find(
          (org) =>
            (org.snomed && value?.coding?.some((x) => x.system === SNOMED && x.code === org.snomed)) ||
            org.words.some((w) => text.includes(w.toLowerCase())),
        );
        if (hit) return { status: 'mapped', code: hit.target, via: 'loinc' };
      }
    }
    let ignored = false;
    const local: { system: string; code: string; display?: string }[] = [];
    for (const c of codings) {
      if (!c.code || STANDARD.has(c.system ?? '')) continue;
      const t = this.lookup(LAB_TEST_SYSTEM, facility, c.system ?? '', c.code);
      if (t) return { status: 'mapped', code: t, via: 'concept-map' };
      if (t === null) ignored = true;
      else local.push({ system: c.system ?? '', code: c.code, display: c.display ?? o.code?.text });
    }
    if (ignored) return { status: 'ignored' };
    return local.length ? { status: 'unmapped', local } : { status: 'other' };
  }

  /** A diagnosis's codings to ICD-10 (a coding already in ICD-10 as it is, else resolveDiagnosis). */
  resolveIcd10(codings: readonly Coding[], facility: string, icd10System: string): string | undefined {
    const direct = codings.find((c) => c.system === icd10System && c.code)?.code;
    if (direct) return direct;
    const r = this.resolveDiagnosis({ coding: [...codings] }, facility);
    return r.status === 'mapped' ? r.code : undefined;
  }

  /**
   * A diagnosis (Condition.code, DG1-3) to ICD-10: a coding in an ICD-10 system (the national
   * clinical edition included) as it is; else the facility's (then any facility's) map for a coding;
   * else a coding's display that names exactly one target on the notifiable list (麻疹 → B05; 流行性
   * 感冒 names J10 and J11, so it does not). What remains is 'unmapped' with its local codings (the
   * code's text as their display when they have none); a diagnosis given only as text is 'none',
   * since no map can key it.
   */
  resolveDiagnosis(code: CodeableConcept | undefined, facility: string): CodeResolution {
    const codings = (code?.coding ?? []).filter((c) => c.code);
    const icd10 = codings.find((c) => ICD10_LIKE.test(c.system ?? ''));
    if (icd10) return { status: 'mapped', code: icd10.code!, via: 'standard' };
    if (!codings.length) return { status: 'none' };
    const r = this.throughMaps(ICD10_SYSTEM, facility, codings, code?.text);
    if (r.status !== 'unmapped') return r;
    const byText = this.tables.diagnosis.byText;
    for (const c of codings) {
      const hit = c.display ? byText.get(normaliseDiagnosisText(c.display)) : undefined;
      if (hit) return { status: 'mapped', code: hit, via: 'text' };
    }
    return r;
  }

  /**
   * A specimen's type (Specimen.type: SPM-4, or OBR-15 before v2.5) to a SNOMED CT specimen
   * concept: a SNOMED CT code on the table, an HL7 v2 table 0487/0070 code on the table, the
   * facility's ConceptMap for a local code; a type sent only as text resolves when the text is a
   * name or alias on the table, else through a map keyed by the text, else it is queued by its text.
   */
  resolveSpecimen(type: CodeableConcept | undefined, facility: string): CodeResolution {
    const t = this.tables.specimen;
    const codings = (type?.coding ?? []).filter((c) => c.code);
    let standard = false;
    for (const c of codings) {
      if (c.system === SNOMED && t.byCode.has(c.code!)) return { status: 'mapped', code: c.code!, via: 'standard' };
      const v2 = t.hl7v2.get(`${c.system}|${c.code}`);
      if (v2) return { status: 'mapped', code: v2, via: 'hl7v2' };
      if (STANDARD.has(c.system ?? '')) standard = true;
    }
    const local = codings.filter((c) => !STANDARD.has(c.system ?? ''));
    if (local.length) return this.throughMaps(SPECIMEN_SYSTEM, facility, local, type?.text);
    if (standard) return { status: 'other' };
    const text = type?.text?.trim();
    if (!text) return { status: 'none' };
    const byText = t.byText.get(normaliseSpecimenText(text));
    if (byText) return { status: 'mapped', code: byText, via: 'text' };
    return this.throughMaps(SPECIMEN_SYSTEM, facility, [{ code: text.slice(0, MAX_TEXT_CODE) }], text);
  }

  /**
   * A quantity's unit to UCUM: a UCUM-coded quantity as it is; else the facility's ConceptMap for
   * the unit (code, else the unit text, under the quantity's system or none), else the unit table's
   * codes and the usual spellings of them; anything else is queued.
   */
  resolveUnit(q: Pick<Quantity, 'unit' | 'code' | 'system'> | undefined, facility: string): CodeResolution {
    if (!q) return { status: 'none' };
    if (q.system === UCUM_SYSTEM && q.code) return { status: 'mapped', code: q.code, via: 'standard' };
    const code = (q.code ?? q.unit)?.trim();
    if (!code) return { status: 'none' };
    const system = q.system && q.system !== UCUM_SYSTEM ? q.system : '';
    const mapped = this.lookup(UCUM_SYSTEM, facility, system, code);
    if (mapped) return { status: 'mapped', code: mapped, via: 'concept-map' };
    if (mapped === null) return { status: 'ignored' };
    for (const text of [q.unit, q.code]) {
      const hit = text ? this.tables.unit.byText.get(normaliseUnit(text)) : undefined;
      if (hit) return { status: 'mapped', code: hit, via: 'text' };
    }
    return { status: 'unmapped', local: [{ system, code: code.slice(0, MAX_TEXT_CODE), display: q.unit ?? undefined }] };
  }

  /** Local codings through the facility's (then any facility's) maps to one target system. */
  private throughMaps(targetSystem: string, facility: string, codings: readonly Coding[], text: string | undefined): CodeResolution {
    let ignored = false;
    const local: { system: string; code: string; display?: string }[] = [];
    for (const c of codings) {
      const t = this.lookup(targetSystem, facility, c.system ?? '', c.code!);
      if (t) return { status: 'mapped', code: t, via: 'concept-map' };
      if (t === null) ignored = true;
      else local.push({ system: c.system ?? '', code: c.code!, display: c.display ?? text });
    }
    if (ignored) return { status: 'ignored' };
    return { status: 'unmapped', local };
  }
}
