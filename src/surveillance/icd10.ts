/**
 * ICD-10 code patterns as written in config/surveillance/*.json:
 * 'A20' matches A20 and every A20.x; 'B20-B24' matches every code whose 3-character category
 * lies in the range; 'B18.0-B18.1' compares the first 5 characters (category, dot, one digit).
 */
export function normaliseIcd10(code: string): string {
  const c = code.trim().toUpperCase().replace(/\s+/g, '');
  // Some systems omit the dot ('A091'): put it back after the category.
  if (/^[A-Z]\d{2}[0-9A-Z]/.test(c) && c[3] !== '.') return `${c.slice(0, 3)}.${c.slice(3)}`;
  return c;
}

export function icd10PatternMatches(pattern: string, rawCode: string): boolean {
  const code = normaliseIcd10(rawCode);
  const dash = pattern.indexOf('-');
  if (dash < 0) {
    const p = normaliseIcd10(pattern);
    return code === p || code.startsWith(p.includes('.') ? p : `${p}.`);
  }
  const lo = normaliseIcd10(pattern.slice(0, dash));
  const hi = normaliseIcd10(pattern.slice(dash + 1));
  const len = Math.max(lo.length, hi.length);
  const key = code.slice(0, len);
  return key >= lo && key <= hi;
}

export function icd10MatchesAny(patterns: readonly string[], code: string): boolean {
  return patterns.some((p) => icd10PatternMatches(p, code));
}

/** Checks a pattern's syntax (config validation). */
export function isValidIcd10Pattern(pattern: string): boolean {
  return /^[A-Z]\d{2}(\.\d{1,2})?(-[A-Z]\d{2}(\.\d{1,2})?)?$/.test(pattern);
}
