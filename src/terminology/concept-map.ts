/**
 * ConceptMaps as the mapping store: one per source facility, source code system and target code
 * system (`group.source` absent = codes the facility sends without a system, e.g. an HL7 OBX-3
 * with a local coding-system name). Pure: checking a ConceptMap before it is stored, reading the
 * mappings it holds, and adding one mapping to it.
 */
import { createHash } from 'node:crypto';
import type { ConceptMap, ConceptMapGroup } from '@medplum/fhirtypes';
import { ICD10_SYSTEM, YIFANG_BASE } from '../shared/uris.js';
import { ICD10_TARGET } from './diagnoses.js';
import { KIND_LABEL, kindOfTargetSystem, TARGET_SYSTEMS, type TerminologyTables } from './kinds.js';

export { TARGET_SYSTEMS };
/** Extension on ConceptMap: the facility (Organization id or MSH-4) whose codes it maps; absent = any facility. */
export const SOURCE_FACILITY_EXTENSION = `${YIFANG_BASE}/StructureDefinition/source-facility`;
const TABLE_FILE = { specimen: 'specimen-types.json', unit: 'units.json' } as const;
const TARGET_NAME = {
  specimen: ['标本类型编码', 'specimen-type code'],
  unit: ['UCUM单位', 'UCUM unit'],
} as const;

/** One source code mapped: to a target code, or to nothing (reviewed: not a code signals need). */
export interface Mapping {
  facility: string;
  /** '' = sent without a code system. */
  system: string;
  code: string;
  display?: string;
  targetSystem: string;
  /** null: reviewed and deliberately left unmapped (equivalence unmatched). */
  target: string | null;
}

export interface MapProblem {
  /** FHIRPath of the element, e.g. ConceptMap.group[0].element[3]. */
  expression: string;
  text: string;
}

export const facilityOfMap = (cm: ConceptMap): string => cm.extension?.find((e) => e.url === SOURCE_FACILITY_EXTENSION)?.valueString ?? '';

/** The id of the ConceptMap that holds a facility's codes of one system for one target system. */
export function conceptMapId(facility: string, system: string, targetSystem: string): string {
  return `tm-${createHash('sha256').update(`${facility}\u0000${system}\u0000${targetSystem}`).digest('hex').slice(0, 24)}`;
}

/** Every mapping a ConceptMap holds (retired maps hold none). */
export function mappingsOf(cm: ConceptMap): Mapping[] {
  if (cm.status === 'retired') return [];
  const facility = facilityOfMap(cm);
  const out: Mapping[] = [];
  for (const g of cm.group ?? []) {
    for (const el of g.element ?? []) {
      if (!el.code) continue;
      const t = el.target?.find((x) => x.equivalence !== 'unmatched' && x.equivalence !== 'disjoint' && x.code);
      out.push({
        facility,
        system: g.source ?? '',
        code: el.code,
        display: el.display,
        targetSystem: g.target ?? '',
        target: t?.code ?? null,
      });
    }
  }
  return out;
}

const isTargetSystem = (s: string | undefined): boolean => !!s && (TARGET_SYSTEMS as readonly string[]).includes(s);

/**
 * Problems that refuse a ConceptMap: a source code mapped twice in one group (to different targets
 * or not), a group without a supported target system, a target code the target system does not
 * have, an element with more than one target (signals need one answer). `mappingGroupsOnly`
 * (a ConceptMap written straight to /fhir): groups whose target is not one of Yifang's target
 * systems are left alone, since nothing reads them.
 */
export function checkConceptMap(cm: ConceptMap, tables: TerminologyTables, options: { mappingGroupsOnly?: boolean } = {}): MapProblem[] {
  const problems: MapProblem[] = [];
  (cm.group ?? []).forEach((g: ConceptMapGroup, gi) => {
    const gp = `ConceptMap.group[${gi}]`;
    if (options.mappingGroupsOnly && !isTargetSystem(g.target)) return;
    const kind = kindOfTargetSystem(g.target ?? '');
    if (!isTargetSystem(g.target))
      problems.push({
        expression: `${gp}.target`,
        text: `目标编码系统不受支持 target system ${JSON.stringify(g.target ?? null)} is not one of ${TARGET_SYSTEMS.join(', ')}`,
      });
    const seen = new Map<string, number>();
    (g.element ?? []).forEach((el, ei) => {
      const ep = `${gp}.element[${ei}]`;
      if (!el.code) {
        problems.push({ expression: `${ep}.code`, text: '源编码为空 source code is missing' });
        return;
      }
      const first = seen.get(el.code);
      if (first !== undefined) {
        const a = g.element![first]!.target?.[0]?.code ?? '(none)';
        const b = el.target?.[0]?.code ?? '(none)';
        problems.push({
          expression: ep,
          text: `源编码 ${el.code} 重复映射（与 element[${first}] 重复）source code ${el.code} is mapped twice in this group: element[${first}] → ${a}, element[${ei}] → ${b}`,
        });
      } else seen.set(el.code, ei);
      const targets = (el.target ?? []).filter((t) => t.equivalence !== 'unmatched' && t.equivalence !== 'disjoint');
      if (targets.length > 1)
        problems.push({
          expression: `${ep}.target`,
          text: `源编码 ${el.code} 映射到多个目标 source code ${el.code} has ${targets.length} targets; map it to one`,
        });
      targets.forEach((t, ti) => {
        const tp = `${ep}.target[${ti}].code`;
        if (!t.code) problems.push({ expression: tp, text: `目标编码为空 target code is missing for ${el.code}` });
        else if (kind === 'lab' && !tables.lab.byCode.has(t.code))
          problems.push({
            expression: tp,
            text: `未知的检验项目编码 unknown lab-test code ${t.code} (not in config/terminology/lab-tests.json)`,
          });
        else if ((kind === 'specimen' || kind === 'unit') && !tables[kind].byCode.has(t.code))
          problems.push({
            expression: tp,
            text: `未知的${TARGET_NAME[kind][0]} unknown ${TARGET_NAME[kind][1]} ${t.code} (not in config/terminology/${TABLE_FILE[kind]})`,
          });
        // Diagnoses: any ICD-10 code (syndromes read codes beyond the notifiable list).
        else if (g.target === ICD10_SYSTEM && !ICD10_TARGET.test(t.code))
          problems.push({ expression: tp, text: `不是ICD-10编码 ${t.code} is not an ICD-10 code` });
      });
    });
  });
  return problems;
}

/** A new, empty ConceptMap for a facility's codes of one system. */
export function emptyConceptMap(facility: string, system: string, targetSystem: string): ConceptMap {
  const k = kindOfTargetSystem(targetSystem);
  const kind = k ? KIND_LABEL[k] : targetSystem;
  return {
    resourceType: 'ConceptMap',
    id: conceptMapId(facility, system, targetSystem),
    url: `${YIFANG_BASE}/ConceptMap/${conceptMapId(facility, system, targetSystem)}`,
    status: 'active',
    title: `${facility || '全区'} ${system || '本地编码'} → ${kind}`,
    ...(facility ? { extension: [{ url: SOURCE_FACILITY_EXTENSION, valueString: facility }] } : {}),
    targetUri: targetSystem,
    group: [{ ...(system ? { source: system } : {}), target: targetSystem, element: [] }],
  };
}

/** The ConceptMap with one source code (re)mapped: replaces that code's element, or appends one. */
export function withMapping(cm: ConceptMap, m: Mapping): ConceptMap {
  const groups = [...(cm.group ?? [])];
  let gi = groups.findIndex((g) => (g.source ?? '') === m.system && g.target === m.targetSystem);
  if (gi < 0) {
    groups.push({ ...(m.system ? { source: m.system } : {}), target: m.targetSystem, element: [] });
    gi = groups.length - 1;
  }
  const g = groups[gi]!;
  const element = {
    code: m.code,
    ...(m.display ? { display: m.display } : {}),
    target: m.target === null ? [{ equivalence: 'unmatched' as const }] : [{ code: m.target, equivalence: 'equivalent' as const }],
  };
  const elements = (g.element ?? []).filter((e) => e.code !== m.code);
  groups[gi] = { ...g, element: [...elements, element] };
  return { ...cm, status: 'active', group: groups };
}
