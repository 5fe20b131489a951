/**
 * Reading the chronic rule sets (config/chronic/rules-*.json): strict zod schema plus the checks
 * a schema cannot express (overlapping age bands, unknown comorbidities); errors read
 * `file:line: message`. The rules themselves are pure, in rules.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { checkAgeBands, loadRuleFile, parseRuleText, repoConfigDir } from './rule-file.js';
import { ChronicRuleSetSchema, type ChronicRuleSet } from './rules.js';

function extraChecks(file: string) {
  return (r: ChronicRuleSet, lineOf: (p: (string | number)[]) => number) => {
    checkAgeBands(file, lineOf, ['hypertensionTargets'], r.hypertensionTargets);
    const known = new Set(r.comorbidities.map((c) => c.code));
    r.hypertensionTargets.forEach((t, k) => {
      for (const w of t.when ?? [])
        if (!known.has(w)) throw new Error(`${file}:${lineOf(['hypertensionTargets', k, 'when'])}: unknown comorbidity "${w}"`);
    });
  };
}

export function parseChronicRuleSet(file: string, text: string): ChronicRuleSet {
  return parseRuleText(file, text, ChronicRuleSetSchema, extraChecks(file));
}

/** All rule sets in a directory, oldest first. */
export function loadChronicRuleSets(dir = path.join(repoConfigDir, 'chronic')): ChronicRuleSet[] {
  const files = fs.readdirSync(dir).filter((f) => /^rules-.*\.json$/.test(f));
  const sets = files.map((f) => loadRuleFile(path.join(dir, f), ChronicRuleSetSchema, extraChecks(f)));
  if (!sets.length) throw new Error(`${dir}: no rules-*.json rule set`);
  return sets.sort((a, b) => a.effectiveFrom.localeCompare(b.effectiveFrom));
}
