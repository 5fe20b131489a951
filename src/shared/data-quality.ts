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
