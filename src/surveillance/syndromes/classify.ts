/**
 * Syndrome classification of one visit from its chief complaint (Chinese free text), the
 * highest body temperature measured at the visit and its ICD-10 diagnoses. A pure function of
 * (rules, visit): the rules come from config/surveillance/syndromes.json.
 *
 * Why clause-scoped negation: chief complaints are short and written in a fixed style
 * ("咳嗽3天，无发热", "否认腹泻", "无头晕、头痛"): a cue negates the keywords after it up to
 * the next clause break (a comma, 但, 伴 ...). Enumerations joined by 、 stay in one clause,
 * so the cue covers all of them, as a clinician reading the note would.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { icd10MatchesAny, isValidIcd10Pattern } from '../icd10.js';
import { configDir } from '../paths.js';

const ruleSchema = z.object({ all: z.array(z.string()).default([]), any: z.array(z.string()).default([]) });
const syndromeSchema = z.object({
  key: z.string().regex(/^[a-z_]+$/),
  name: z.string(),
  minTemperatureC: z.number().optional(),
  rules: z.array(ruleSchema).min(1),
  icd10: z.array(z.string().refine(isValidIcd10Pattern, 'not an ICD-10 code or range')),
});
const rulesSchema = z.object({
  version: z.string(),
  feverThresholdC: z.number().min(35).max(42),
  negationCues: z.array(z.string().min(1)),
  pseudoNegations: z.array(z.string().min(1)).default([]),
  clauseBreaks: z.array(z.string().min(1)),
  symptoms: z.record(z.string(), z.array(z.string().min(1)).min(1)),
  syndromes: z.array(syndromeSchema).min(1),
});
export type SyndromeRules = z.infer<typeof rulesSchema>;

export function parseSyndromeRules(json: unknown, source = 'syndromes.json'): SyndromeRules {
  const r = rulesSchema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new Error(`${source}: ${i.path.join('.')}: ${i.message}`);
  }
  for (const s of r.data.syndromes) {
    for (const rule of s.rules) {
      for (const sym of [...rule.all, ...rule.any]) {
        if (!(sym in r.data.symptoms)) throw new Error(`${source}: syndrome '${s.key}' names unknown symptom '${sym}'`);
      }
    }
  }
  return r.data;
}

let cached: SyndromeRules | undefined;
export function loadSyndromeRules(): SyndromeRules {
  cached ??= parseSyndromeRules(JSON.parse(fs.readFileSync(path.join(configDir, 'syndromes.json'), 'utf8')));
  return cached;
}

export interface VisitFacts {
  complaint?: string | null;
  /** Highest measured body temperature at the visit, °C. */
  temperatureC?: number | null;
  icd10?: readonly string[];
}

export interface Classification {
  /** Symptoms present (not negated) in the complaint, plus 'fever' from a measured temperature. */
  symptoms: string[];
  /** Keys of the syndromes the visit meets, in config order. */
  syndromes: string[];
  /** Highest temperature known (measured or written in the complaint). */
  temperatureC: number | null;
}

/** Temperatures written in the text: "38.5℃", "体温39度", "T 38.2°C". */
function temperaturesInText(text: string): number[] {
  const out: number[] = [];
  for (const m of text.matchAll(/(\d{2}(?:\.\d)?)\s*(?:℃|°C|°c|度)/g)) {
    const v = Number(m[1]);
    if (v >= 34 && v <= 43) out.push(v);
  }
  return out;
}

/** Splits at clause breaks, except where a break character is part of a negation cue (不伴). */
function splitClauses(text: string, breaks: readonly string[], cues: readonly string[]): string[] {
  const clauses: string[] = [];
  let current = '';
  let i = 0;
  outer: while (i < text.length) {
    for (const cue of cues) {
      if (text.startsWith(cue, i)) {
        current += cue;
        i += cue.length;
        continue outer;
      }
    }
    for (const b of breaks) {
      if (text.startsWith(b, i)) {
        clauses.push(current);
        current = '';
        i += b.length;
        continue outer;
      }
    }
    current += text[i];
    i++;
  }
  clauses.push(current);
  return clauses;
}

/** Symptom keys present and not negated in the complaint. */
export function extractSymptoms(rules: SyndromeRules, complaint: string): Set<string> {
  const present = new Set<string>();
  let text = complaint.replace(/\s+/g, ' ');
  for (const p of rules.pseudoNegations) text = text.split(p).join('，');
  for (const clause of splitClauses(text, rules.clauseBreaks, rules.negationCues)) {
    // Where the first negation cue of the clause starts (everything after it is negated).
    let negFrom = Infinity;
    for (const cue of rules.negationCues) {
      const i = clause.indexOf(cue);
      if (i >= 0 && i < negFrom) negFrom = i;
    }
    for (const [symptom, words] of Object.entries(rules.symptoms)) {
      for (const w of words) {
        let i = clause.indexOf(w);
        let found = false;
        while (i >= 0) {
          if (i < negFrom) found = true;
          i = clause.indexOf(w, i + 1);
        }
        if (found) {
          present.add(symptom);
          break;
        }
      }
    }
  }
  return present;
}

export function classifyVisit(rules: SyndromeRules, visit: VisitFacts): Classification {
  const complaint = visit.complaint ?? '';
  const symptoms = extractSymptoms(rules, complaint);
  const temps = temperaturesInText(complaint);
  if (typeof visit.temperatureC === 'number' && Number.isFinite(visit.temperatureC)) temps.push(visit.temperatureC);
  const temperatureC = temps.length ? Math.max(...temps) : null;
  // A measured temperature decides fever either way; text is the fallback.
  const feverByText = symptoms.has('fever');
  const measuredFever = temperatureC !== null ? temperatureC >= rules.feverThresholdC : null;
  const fever = measuredFever ?? feverByText;
  if (fever) symptoms.add('fever');
  else symptoms.delete('fever');
  const codes = visit.icd10 ?? [];
  const syndromes: string[] = [];
  for (const s of rules.syndromes) {
    const has = (sym: string) => {
      if (sym === 'fever' && s.minTemperatureC !== undefined) {
        // A case definition with a temperature cut-off needs a number (or 高热/高烧 in the text).
        if (temperatureC !== null) return temperatureC >= s.minTemperatureC;
        return /高热|高烧/.test(complaint) && feverByText;
      }
      return symptoms.has(sym);
    };
    const byRule = s.rules.some((r) => r.all.every(has) && (r.any.length === 0 || r.any.some(has)));
    const byCode = s.icd10.length > 0 && codes.some((c) => icd10MatchesAny(s.icd10, c));
    if (byRule || byCode) syndromes.push(s.key);
  }
  return { symptoms: [...symptoms].sort(), syndromes, temperatureC };
}
