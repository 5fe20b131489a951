/**
 * The targets of diagnosis mapping: the ICD-10 codes of the notifiable diseases (法定传染病), read
 * from surveillance's list, config/surveillance/notifiable-diseases.json (the file
 * src/surveillance/notifiable.ts loads for report cards). Surveillance exports no function for the
 * list, and importing its entry from here would close an import cycle (its visit processor imports
 * this module), so this small loader reads the same file: only what mapping needs (names, classes,
 * ICD-10 codes and ranges, dates), validated once.
 *
 * Each pattern becomes concrete target codes: 'A20' → A20, 'U07.1' → U07.1, a range of categories
 * 'B20-B24' → B20 … B24, a range of subcategories 'B18.0-B18.1' → B18.0, B18.1. A target is named
 * as the list names its disease (J10 and J11 are both 流行性感冒), with the subtype where there is
 * one (乙型病毒性肝炎, 肺炭疽). Diseases no longer in force (effectiveTo before today) are left out.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ICD10_SYSTEM } from '../shared/uris.js';
import type { CodeTable, NamedTarget } from './code-tables.js';

export const DEFAULT_NOTIFIABLE_FILE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../config/surveillance/notifiable-diseases.json',
);

/** ICD-10 code syntax accepted as a diagnosis target: a category, optionally a subcategory, a dagger or asterisk (A09, J10.1, A17.0+). */
export const ICD10_TARGET = /^[A-Z]\d{2}(\.[0-9A-Z]{1,4})?(\+|\*)?$/;

const Pattern = z.string().regex(/^[A-Z]\d{2}(\.\d{1,2})?(-[A-Z]\d{2}(\.\d{1,2})?)?$/, 'an ICD-10 code or range');
const Disease = z.object({
  key: z.string().min(1),
  name: z.string().min(1),
  subtype: z.string().optional(),
  class: z.enum(['甲', '乙', '丙']),
  icd10: z.array(Pattern).min(1),
  effectiveFrom: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  effectiveTo: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .optional(),
});
const NotifiableFile = z.object({ version: z.string(), diseases: z.array(Disease).min(1) });

export interface DiagnosisTarget extends NamedTarget {
  /** The disease's key in the notifiable list (influenza, hepatitisB, …). */
  disease: string;
  /** Legal class: 甲, 乙 or 丙. */
  class: '甲' | '乙' | '丙';
}

export interface DiagnosisTables extends CodeTable<DiagnosisTarget> {
  /** The list's version (its date). */
  version: string;
}

/** Other names hospitals write for some targets (used for suggestions, and for text when only one code carries the name). */
const ALIASES: Readonly<Record<string, readonly string[]>> = {
  J09: ['人感染H7N9禽流感', '人感染高致病性禽流感'],
  J10: ['流感', '甲型流感', '乙型流感'],
  J11: ['流感'],
  B15: ['甲肝'],
  B16: ['乙肝', '急性乙型肝炎'],
  'B18.0': ['乙肝', '慢性乙型肝炎'],
  'B18.1': ['乙肝', '慢性乙型肝炎'],
  'B17.1': ['丙肝', '急性丙型肝炎'],
  'B18.2': ['丙肝', '慢性丙型肝炎'],
  'B17.2': ['戊肝'],
  A03: ['细菌性痢疾', '菌痢'],
  'A06.0': ['阿米巴痢疾', '急性阿米巴痢疾'],
  A15: ['结核病'],
  A01: ['伤寒', '副伤寒'],
  'U07.1': ['新冠', '新冠病毒感染', 'COVID-19'],
  'U07.2': ['新冠', '临床诊断新冠病毒感染'],
  A39: ['流脑'],
  'A83.0': ['乙脑'],
  'B08.4': ['手足口'],
  'A98.5': ['肾综合征出血热'],
  A08: ['病毒性腹泻', '诺如病毒感染', '轮状病毒肠炎'],
};

/** Diagnosis text compared for a name match: width folded, brackets and spaces dropped, lower case. */
export const normaliseDiagnosisText = (s: string): string =>
  s
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\s()（）[\]【】]+/g, '');

const english = (key: string): string =>
  key
    .replace(/([a-z])([A-Z0-9])/g, '$1 $2')
    .toLowerCase()
    .replace(/\b(a|b|c|d|e)$/, (m) => m.toUpperCase());

/** The concrete codes an ICD-10 pattern of the list names ('B20-B24' → B20 … B24). */
export function expandIcd10Pattern(pattern: string): string[] {
  const dash = pattern.indexOf('-');
  if (dash < 0) return [pattern];
  const lo = pattern.slice(0, dash);
  const hi = pattern.slice(dash + 1);
  if (lo[0] !== hi[0]) throw new Error(`ICD-10 range ${pattern} spans two chapters' letters`);
  const sub = lo.includes('.');
  if (sub !== hi.includes('.') || (sub && lo.slice(0, 3) !== hi.slice(0, 3)))
    throw new Error(`ICD-10 range ${pattern}: both ends must be categories, or subcategories of one category`);
  const out: string[] = [];
  if (!sub) {
    for (let n = Number(lo.slice(1)); n <= Number(hi.slice(1)); n++) out.push(`${lo[0]}${String(n).padStart(2, '0')}`);
  } else {
    const digits = lo.length - 4;
    for (let n = Number(lo.slice(4)); n <= Number(hi.slice(4)); n++) out.push(`${lo.slice(0, 4)}${String(n).padStart(digits, '0')}`);
  }
  if (!out.length) throw new Error(`ICD-10 range ${pattern} is empty`);
  return out;
}

/** Validates the list and builds the diagnosis targets in force on `today` (YYYY-MM-DD). */
export function parseDiagnosisTables(
  raw: unknown,
  where = 'notifiable-diseases.json',
  today = new Date().toISOString().slice(0, 10),
): DiagnosisTables {
  const parsed = NotifiableFile.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new Error(`${where}: ${i.path.join('.')}: ${i.message}`);
  }
  const byCode = new Map<string, DiagnosisTarget>();
  const targets: DiagnosisTarget[] = [];
  parsed.data.diseases.forEach((d, i) => {
    if (d.effectiveTo && d.effectiveTo < today) return;
    const zh = !d.subtype ? d.name : d.subtype.includes(d.name.slice(-2)) ? d.subtype : `${d.subtype}${d.name}`;
    for (const pattern of d.icd10) {
      let codes: string[];
      try {
        codes = expandIcd10Pattern(pattern);
      } catch (e) {
        throw new Error(`${where}: diseases.${i} (${d.key}): ${(e as Error).message}`, { cause: e });
      }
      for (const code of codes) {
        const aliases = [...new Set([...(zh !== d.name ? [d.name] : []), ...(ALIASES[code] ?? [])])].filter((a) => a !== zh);
        const existing = byCode.get(code);
        // A code two diseases in force name (none today): the first keeps it, the other's name becomes an alias.
        if (existing) {
          if (zh !== existing.zh && !existing.aliases.includes(zh)) existing.aliases.push(zh);
          continue;
        }
        const t: DiagnosisTarget = { code, zh, en: english(d.key), aliases, disease: d.key, class: d.class };
        byCode.set(code, t);
        targets.push(t);
      }
    }
  });
  // A name resolves a diagnosis's text only when exactly one target carries it (流行性感冒 names J10 and J11: it does not).
  const owners = new Map<string, Set<string>>();
  for (const t of targets)
    for (const text of [t.zh, ...t.aliases]) {
      const k = normaliseDiagnosisText(text);
      if (k) owners.set(k, (owners.get(k) ?? new Set()).add(t.code));
    }
  const byText = new Map<string, string>();
  for (const [k, codes] of owners) if (codes.size === 1) byText.set(k, [...codes][0]!);
  return {
    system: ICD10_SYSTEM,
    source: `${where} (version ${parsed.data.version})`,
    version: parsed.data.version,
    targets,
    byCode,
    byText,
  };
}

let cached: DiagnosisTables | undefined;

/** The diagnosis targets (config/surveillance/notifiable-diseases.json, read once). */
export function diagnosisTables(file = DEFAULT_NOTIFIABLE_FILE): DiagnosisTables {
  const read = () => parseDiagnosisTables(JSON.parse(fs.readFileSync(file, 'utf8')), path.basename(file));
  if (file !== DEFAULT_NOTIFIABLE_FILE) return read();
  cached ??= read();
  return cached;
}
