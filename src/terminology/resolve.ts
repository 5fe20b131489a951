/**
 * Resolving a result's codes to a lab-test signal code (pure). In order: a coding in Yifang's own
 * lab-test system; a LOINC code on the built-in pathogen table (no mapping needed), or a LOINC
 * "organism identified" code with the organism in the value; a ConceptMap of the facility for the
 * coding's system, then one for any facility (a code with a system only). A local code found in
 * no map is 'unmapped' (it goes to the queue); standard codes not on the table are 'other'.
 */
import type { Coding, ConceptMap, Observation } from '@medplum/fhirtypes';
import { LOINC_SYSTEM } from '../shared/uris.js';
import { mappingsOf } from './concept-map.js';
import { LAB_TEST_SYSTEM, type LabTables } from './targets.js';

const SNOMED = 'http://snomed.info/sct';
/** Standard systems: a code in them is what it says, never a facility's local code to map. */
const STANDARD = new Set([LOINC_SYSTEM, SNOMED, 'http://hl7.org/fhir/sid/icd-10', 'http://unitsofmeasure.org']);

export type LabResolution =
  | { status: 'mapped'; code: string; via: 'lab-test' | 'loinc' | 'concept-map' }
  /** Mapped on purpose to nothing: reviewed, not a code signals need. */
  | { status: 'ignored' }
  | { status: 'unmapped'; local: { system: string; code: string; display?: string }[] }
  | { status: 'other' };

const key = (targetSystem: string, facility: string, system: string, code: string) =>
  `${targetSystem}\u0000${facility}\u0000${system}\u0000${code}`;

export class TerminologyIndex {
  private readonly maps = new Map<string, string | null>();

  constructor(
    readonly tables: LabTables,
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
      const t = this.tables.loinc.get(c.code);
      if (t) return { status: 'mapped', code: t, via: 'loinc' };
      const organisms = this.tables.loincByValue.get(c.code);
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

  /** A diagnosis's codings to ICD-10 through the facility's maps (a coding already in ICD-10 is taken as it is). */
  resolveIcd10(codings: readonly Coding[], facility: string, icd10System: string): string | undefined {
    const direct = codings.find((c) => c.system === icd10System && c.code)?.code;
    if (direct) return direct;
    for (const c of codings) {
      if (!c.code) continue;
      const t = this.lookup(icd10System, facility, c.system ?? '', c.code);
      if (t) return t;
    }
    return undefined;
  }
}
