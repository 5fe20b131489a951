import { expect, it } from 'vitest';
import { FHIR_LIMITS, jsonDepthExceeded } from './limits.js';
import { prepareNdjsonLine } from './import.js';
import { loadDefinitions } from './definitions.js';

const nested = (depth: number, open = '[', close = ']') => open.repeat(depth) + close.repeat(depth);

it('finds where JSON text nests deeper than the limit, counting arrays and objects outside strings', () => {
  const max = FHIR_LIMITS.jsonDepth;
  expect(jsonDepthExceeded(nested(max))).toBe(-1);
  expect(jsonDepthExceeded(nested(max + 1))).toBe(max);
  expect(jsonDepthExceeded('{"a":'.repeat(max + 1) + '1' + '}'.repeat(max + 1))).toBe(5 * max);
  // Malformed text past the limit is still refused (JSON.parse never sees it).
  expect(jsonDepthExceeded('['.repeat(max + 1))).toBe(max);
  // Brackets in strings, escaped quotes included, do not count...
  const inString = JSON.stringify({ note: '[{'.repeat(3 * max), quoted: 'say \\"[[[\\" \\\\', more: '\\"{'.repeat(max) });
  expect(jsonDepthExceeded(inString)).toBe(-1);
  // ...nor do many shallow ones: more openings than the limit, none deeper than two.
  expect(jsonDepthExceeded(JSON.stringify({ list: Array.from({ length: 3 * max }, (_, i) => ({ i })) }))).toBe(-1);
  // A deep value after strings full of brackets is still found (the object itself is one level).
  const text = `{"text":"${'['.repeat(2 * max)}","v":`;
  expect(jsonDepthExceeded(`${text}${nested(max - 1)}}`)).toBe(-1);
  expect(jsonDepthExceeded(`${text}${nested(max)}}`)).toBe(text.length + max - 1);
});

it('refuses a too-deep NDJSON line before parsing it', () => {
  loadDefinitions();
  const deep = `{"resourceType":"Basic","id":"deep","extension":[${'{"extension":['.repeat(60)}${']}'.repeat(60)}]}`;
  expect(() => prepareNdjsonLine(deep, new Date().toISOString())).toThrow(/^nests arrays\/objects deeper than the limit/);
});
