/**
 * Whether a lab result is positive. Coded interpretation POS, DET or A (abnormal) counts as
 * before; added: a result in words — 阳性, 检出, 弱阳性, (+), POS, positive, detected, reactive —
 * in the value, the interpretation's text, or a coded value (SNOMED CT 10828004 Positive,
 * 260373001 Detected, 52101004 Present). A negative word anywhere (阴性, 未检出, 未见, NEG, not
 * detected, non-reactive; NEG/ND/N interpretation; SNOMED CT 260385009, 260415000, 2667000) wins,
 * and so does a cancelled or entered-in-error result.
 */
import type { CodeableConcept, Observation } from '@medplum/fhirtypes';

const POS_CODES = new Set(['POS', 'DET', 'A']);
const NEG_CODES = new Set(['NEG', 'ND', 'N']);
const SNOMED = 'http://snomed.info/sct';
const POS_SNOMED = new Set(['10828004', '260373001', '52101004']);
const NEG_SNOMED = new Set(['260385009', '260415000', '2667000']);

// Negative first: 未检出 contains 检出, "not detected" contains "detected".
const NEGATIVE =
  /阴性|未检出|未检测到|没有检出|未见|未发现|无反应|非反应|negative|not\s+detected|non-?reactive|undetected|\bneg\b|\bnd\b|^\s*[-－]\s*$|[(（]\s*[-－]\s*[)）]/i;
const POSITIVE = /阳性|检出|检测到|发现|positive|detected|reactive|\bpos\b|^\s*\+{1,4}\s*$|[(（]\s*\+{1,4}\s*[)）]/i;

type Verdict = 'pos' | 'neg' | undefined;

function ofText(text: string | undefined): Verdict {
  if (!text) return undefined;
  if (NEGATIVE.test(text)) return 'neg';
  if (POSITIVE.test(text)) return 'pos';
  return undefined;
}

function ofConcept(c: CodeableConcept | undefined, codeSets?: { pos: Set<string>; neg: Set<string> }): Verdict[] {
  if (!c) return [];
  const out: Verdict[] = [];
  for (const x of c.coding ?? []) {
    const code = x.code?.toUpperCase();
    if (codeSets && code) {
      if (codeSets.neg.has(code)) out.push('neg');
      else if (codeSets.pos.has(code)) out.push('pos');
    }
    if (x.system === SNOMED && x.code) {
      if (NEG_SNOMED.has(x.code)) out.push('neg');
      else if (POS_SNOMED.has(x.code)) out.push('pos');
    }
    out.push(ofText(x.display));
  }
  out.push(ofText(c.text));
  return out;
}

export function isPositiveResult(o: Observation): boolean {
  if (o.status === 'cancelled' || o.status === 'entered-in-error') return false;
  const verdicts: Verdict[] = [
    ...(o.interpretation ?? []).flatMap((i) => ofConcept(i, { pos: POS_CODES, neg: NEG_CODES })),
    ...ofConcept(o.valueCodeableConcept),
    ofText(o.valueString),
  ];
  if (verdicts.includes('neg')) return false;
  return verdicts.includes('pos');
}
