/**
 * Suggestions for a local code from its text: the target list's Chinese names, aliases and English
 * names scored by character-bigram overlap (Dice) with the text, after dropping words that say
 * nothing about the pathogen (检测, 测定, 试验, test, assay); the kind of test — 核酸/RNA/PCR versus
 * 抗原/Ag versus IgM — must agree when the text names one. Specimen types are scored the same way
 * (标本 is noise there too); units after folding their spelling (μ → u, ×10^9 → 10*9, case);
 * diagnoses against the notifiable diseases' names (流行性感冒 → J10, J11), after dropping words
 * that say how sure the diagnosis is (疑似, 待查, 待排, 可能, 诊断).
 */
import { normaliseUnit, type NamedTarget } from './code-tables.js';
import type { MappingKind, TerminologyTables } from './kinds.js';

export interface Suggestion {
  code: string;
  zh: string;
  en: string;
  /** 0–1. */
  score: number;
}

const NOISE = /检测|测定|检查|试验|定性|定量|项目|结果|标本|样本|\btest\b|\bassay\b|\bby\b|\bin\b|[\s()（）[\]【】,，.、:：/_-]+/gi;

function normalise(s: string): string {
  return s.toLowerCase().replace(NOISE, '');
}

const DIAGNOSIS_NOISE = /疑似|待查|待排|可能|诊断|[?？]/g;
const normaliseDiagnosis = (s: string): string => normalise(s.normalize('NFKC')).replace(DIAGNOSIS_NOISE, '');

function bigrams(s: string): string[] {
  const chars = [...s];
  if (chars.length < 2) return chars;
  const out: string[] = [];
  for (let i = 0; i < chars.length - 1; i++) out.push(chars[i]! + chars[i + 1]!);
  return out;
}

function dice(a: string, b: string): number {
  if (!a || !b) return 0;
  if (a === b) return 1;
  const x = bigrams(a);
  const y = new Map<string, number>();
  for (const g of bigrams(b)) y.set(g, (y.get(g) ?? 0) + 1);
  let hits = 0;
  for (const g of x) {
    const n = y.get(g) ?? 0;
    if (n > 0) {
      hits++;
      y.set(g, n - 1);
    }
  }
  return (2 * hits) / (x.length + bigrams(b).length);
}

type Kind = 'nucleic' | 'antigen' | 'igm' | undefined;
function kindOf(s: string): Kind {
  if (/核酸|rna|dna|pcr|naa|nucleic/i.test(s)) return 'nucleic';
  if (/抗原|\bag\b|antigen|ns1/i.test(s)) return 'antigen';
  if (/igm/i.test(s)) return 'igm';
  return undefined;
}

/** Targets for a code's text; `tables` is the lab-test table or, with `kind`, every table. */
export function suggestTargets(
  tables: { targets: NamedTarget[] } | TerminologyTables,
  text: string,
  limit = 5,
  kind: MappingKind = 'lab',
): Suggestion[] {
  const targets = 'targets' in tables ? tables.targets : tables[kind].targets;
  const norm = kind === 'unit' ? normaliseUnit : kind === 'diagnosis' ? normaliseDiagnosis : normalise;
  const q = norm(text);
  if (!q) return [];
  const qKind = kind === 'lab' ? kindOf(text) : undefined;
  const scored = targets.map((t: NamedTarget) => {
    const names = kind === 'unit' ? [t.code, t.zh, t.en, ...t.aliases] : [t.zh, t.en, ...t.aliases];
    let score = Math.max(...names.map((n) => dice(q, norm(n))));
    const tKind = kindOf(`${t.zh} ${t.en}`);
    if (qKind && tKind && qKind !== tKind) score *= 0.6;
    return { code: t.code, zh: t.zh, en: t.en, score: Math.round(score * 1000) / 1000 };
  });
  return scored
    .filter((s) => s.score >= 0.3)
    .sort((a, b) => b.score - a.score || a.code.localeCompare(b.code))
    .slice(0, limit);
}
