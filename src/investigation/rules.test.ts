/** The shipped rules and forms load; a bad rules file is refused naming its line and field; deadlines and windows as the rules say. */
import { describe, expect, it } from 'vitest';
import { fromStays } from './candidates.js';
import { loadQuestionnaires } from './forms.js';
import { contactWindow, deadlineHours, diseaseFor, loadRules, parseRules } from './rules.js';
import type { NewCandidate, Stay } from './store.js';

const rules = loadRules();

const s = (patientId: string, kind: string, placeKey: string, start: string, end: string | null): Stay => ({
  patientId,
  kind,
  placeKey,
  label: placeKey,
  start,
  end,
});

function candidatesFor(): NewCandidate[] {
  const disease = rules.diseases.get('covid19')!;
  const now = new Date('2025-01-10T00:00:00Z');
  const caseStays = [
    s('p1', 'ward', 'ward|H|内科', '2025-01-02T00:00:00Z', '2025-01-06T00:00:00Z'),
    s('p1', 'room', 'room|H|内科 302', '2025-01-02T00:00:00Z', '2025-01-06T00:00:00Z'),
  ];
  const others = [
    ...caseStays,
    s('p2', 'ward', 'ward|H|内科', '2025-01-03T00:00:00Z', '2025-01-04T00:00:00Z'),
    s('p2', 'room', 'room|H|内科 302', '2025-01-03T00:00:00Z', '2025-01-04T00:00:00Z'),
    s('p3', 'ward', 'ward|H|内科', '2025-01-05T00:00:00Z', null),
    s('p4', 'ward', 'ward|H|内科', '2025-01-07T00:00:00Z', null),
  ];
  return fromStays(caseStays, others, new Set(['p1']), disease, now);
}

describe('investigation rules', () => {
  it('ships every disease the issue names, each with its form', () => {
    expect([...rules.diseases.keys()].sort()).toEqual(
      ['cholera', 'covid19', 'dengue', 'hfmd', 'ili-outbreak', 'measles', 'norovirus', 'plague', 'tuberculosis'].sort(),
    );
    const forms = loadQuestionnaires(rules);
    for (const d of rules.diseases.values()) expect(forms.get(d.questionnaire)?.resourceType, d.key).toBe('Questionnaire');
  });

  it('finds a disease by key or ICD-10 code, the longest code first', () => {
    expect(diseaseFor(rules, 'measles')?.key).toBe('measles');
    expect(diseaseFor(rules, 'B05.9')?.key).toBe('measles');
    expect(diseaseFor(rules, 'A15.0')?.key).toBe('tuberculosis');
    expect(diseaseFor(rules, 'A08.1')?.key).toBe('norovirus');
    expect(diseaseFor(rules, 'A08.0')).toBeUndefined();
    expect(diseaseFor(rules, 'B08.4')?.key).toBe('hfmd');
  });

  it('gives 2 h to class A and outbreaks, 24 h to class B, and 2 h to anything opened from an alert', () => {
    expect(deadlineHours(rules, rules.diseases.get('cholera')!, false)).toBe(2);
    expect(deadlineHours(rules, rules.diseases.get('ili-outbreak')!, false)).toBe(2);
    expect(deadlineHours(rules, rules.diseases.get('measles')!, false)).toBe(24);
    expect(deadlineHours(rules, rules.diseases.get('norovirus')!, true)).toBe(2);
  });

  it('seeks contacts in the infectious period around onset, never past now', () => {
    const measles = rules.diseases.get('measles')!;
    expect(contactWindow(measles, '2025-03-10', new Date('2025-04-01T00:00:00Z'))).toEqual({
      start: '2025-03-05T16:00:00.000Z',
      end: '2025-03-15T16:00:00.000Z',
    });
    expect(contactWindow(measles, '2025-03-10', new Date('2025-03-11T00:00:00Z')).end).toBe('2025-03-11T00:00:00.000Z');
  });

  it('refuses a bad file naming the line and the field', () => {
    const text = JSON.stringify(
      {
        version: 1,
        classes: {
          A: { name: '甲类', deadlineHours: 2 },
          B: { name: '乙类', deadlineHours: 24 },
          C: { name: '丙类', deadlineHours: 24 },
          outbreak: { name: '暴发', deadlineHours: 2 },
        },
        diseases: [{ ...rules.diseases.get('measles'), incubationDays: { min: 7, max: 'three weeks' } }],
      },
      null,
      2,
    );
    const line = text.split('\n').findIndex((l) => l.includes('three weeks')) + 1;
    expect(() => parseRules(text, 'rules.json')).toThrow(
      new RegExp(`^rules\\.json:${line}: diseases\\.0\\.incubationDays\\.max: Expected number`),
    );
    const twice = text
      .replace('"three weeks"', '21')
      .replace('"diseases": [', `"diseases": [${JSON.stringify(rules.diseases.get('measles'))},`);
    expect(() => parseRules(twice)).toThrow(/diseases\.1\.key: disease 'measles' is listed twice/);
    expect(() => parseRules(text.replace('"three weeks"', '30'))).toThrow(/shorter than the longest incubation/);
    expect(() => parseRules('{ "version": 1,')).toThrow(/^rules\.json:1: not valid JSON/);
  });

  it('proposes the most specific co-stay kind once per person', () => {
    expect(candidatesFor().map((c) => [c.patientId, c.kind])).toEqual([
      ['p2', 'room'],
      ['p3', 'ward'],
    ]);
  });
});
