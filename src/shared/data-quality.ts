/**
 * Data-quality marks. A value that fails one of our checks (a 公民身份号码 whose check character
 * is wrong, a birth date that contradicts the ID number) is kept exactly as the source sent it;
 * the element that holds it gets an extension saying what is wrong, in Chinese and English.
 * The record is stored, the doubt travels with it, and the data-quality queue (src/quality)
 * lists the marks per facility until a later version no longer carries them.
 */

/** Extension URL of a data-quality mark; valueString says what is wrong. */
export const DATA_QUALITY_EXTENSION = 'https://yifang.health/fhir/StructureDefinition/data-quality-issue';

export interface DataQualityMark {
  url: typeof DATA_QUALITY_EXTENSION;
  valueString: string;
}

/** A mark stating one problem (words in Chinese and English). */
export function dataQualityMark(problem: string): DataQualityMark {
  return { url: DATA_QUALITY_EXTENSION, valueString: problem };
}

export function isDataQualityMark(e: { url?: string } | null | undefined): boolean {
  return e?.url === DATA_QUALITY_EXTENSION;
}

/** Where a resource carries marks: the element path (FHIRPath-like, list positions kept) and the problem. */
export function dataQualityMarksOf(resource: unknown, max = 50): { expression: string; problem: string }[] {
  const out: { expression: string; problem: string }[] = [];
  const walk = (value: unknown, where: string, depth: number): void => {
    if (out.length >= max || depth > 12 || !value || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, `${where}[${i}]`, depth + 1));
      return;
    }
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      if (key === 'extension' && Array.isArray(v)) {
        for (const e of v as { url?: string; valueString?: string }[])
          if (isDataQualityMark(e) && out.length < max) out.push({ expression: where, problem: e.valueString ?? '' });
      } else walk(v, `${where}.${key.replace(/^_/, '')}`, depth + 1);
    }
  };
  const type = (resource as { resourceType?: string } | null)?.resourceType ?? 'Resource';
  walk(resource, type, 0);
  return out;
}

/**
 * The warnings a write answers with when it stored marked values (FHIR: an OperationOutcome
 * with severity warning beside the 201): undefined when the resource carries no mark.
 */
export function dataQualityOutcome(
  resource: unknown,
):
  | { resourceType: 'OperationOutcome'; issue: { severity: 'warning'; code: 'value'; diagnostics: string; expression: string[] }[] }
  | undefined {
  const marks = dataQualityMarksOf(resource);
  if (!marks.length) return undefined;
  return {
    resourceType: 'OperationOutcome',
    issue: marks.map((m) => ({
      severity: 'warning',
      code: 'value',
      diagnostics: `${m.problem} — stored as sent and marked for correction / 已按原样保存并标记，待来源更正`,
      expression: [m.expression],
    })),
  };
}
