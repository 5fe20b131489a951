/** The shipped rules and forms load; a bad rules file is refused naming its line and field; deadlines and windows as the rules say. */
import { describe, expect, it } from 'vitest';
import { classAttendance, classCalendar, fromStays } from './candidates.js';
import { buildChain, type ChainCase, type ChainContact, type Classification } from './chain.js';
import { loadQuestionnaires } from './forms.js';
import { contactWindow, deadlineHours, diseaseFor, loadRules, parseRules, SchoolCalendar } from './rules.js';
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
    // Measles: 2 days before the first symptom to 9 after (the rash ± 5 days, the rash 3–4 days after onset).
    expect(contactWindow(measles, '2025-03-10', new Date('2025-04-01T00:00:00Z'))).toEqual({
      start: '2025-03-07T16:00:00.000Z',
      end: '2025-03-19T16:00:00.000Z',
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
        schoolCalendar: { terms: [['2025-09-01', '2026-01-30']], holidays: [], workdays: [] },
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
    expect(() => parseRules(text.replace('"2026-01-30"', '"2025-08-01"').replace('"three weeks"', '21'))).toThrow(
      /schoolCalendar\.terms\.0: the end is before the start/,
    );
  });

  it('counts school days by the calendar: weekdays of a term, not holidays or the vacation, make-up Saturdays included', () => {
    const cal = new SchoolCalendar({
      terms: [
        ['2024-09-01', '2025-01-17'],
        ['2025-02-17', '2025-06-30'],
      ],
      holidays: [['2024-10-01', '2024-10-07', '国庆节']],
      workdays: ['2024-10-12'],
    });
    expect(cal.isSchoolDay('2024-09-30')).toBe(true); // Monday
    expect(cal.isSchoolDay('2024-10-02')).toBe(false); // National Day
    expect(cal.isSchoolDay('2024-10-05')).toBe(false); // Saturday in the holiday
    expect(cal.isSchoolDay('2024-10-12')).toBe(true); // make-up Saturday
    expect(cal.isSchoolDay('2024-10-13')).toBe(false); // Sunday
    expect(cal.isSchoolDay('2025-01-28')).toBe(false); // winter vacation
    expect(cal.isSchoolDay('2025-07-15')).toBe(true); // beyond the calendar: any weekday
    // The shipped calendar knows the summer vacation.
    expect(rules.schoolCalendar.isSchoolDay('2025-08-12')).toBe(false);
  });

  it('proposes a class only for the school days the case was in class, not while kept home ill', () => {
    const cal = new SchoolCalendar({
      terms: [
        ['2024-09-01', '2025-01-17'],
        ['2025-02-17', '2025-06-30'],
      ],
      holidays: [],
      workdays: [],
    });
    const flu = { schoolExclusionDays: 4 };
    const span = (a: string, b: string) => ({ start: `${a}T00:00:00+08:00`, end: `${b}T23:59:59+08:00` });
    // Onset on a Sunday: in class on the Friday before, home Monday to Thursday, back on Friday.
    expect(classAttendance(span('2024-11-08', '2024-11-15'), '2024-11-10', flu, cal)).toEqual({
      start: new Date('2024-11-08T00:00:00+08:00').toISOString(),
      end: new Date('2024-11-15T23:59:59+08:00').toISOString(),
    });
    // Ill from a Wednesday: in class that day, home to the Sunday; the period ends on the Saturday.
    expect(classAttendance(span('2024-11-11', '2024-11-16'), '2024-11-13', flu, cal)).toEqual({
      start: new Date('2024-11-11T00:00:00+08:00').toISOString(),
      end: new Date('2024-11-13T23:59:59.999+08:00').toISOString(),
    });
    // Home from Monday through the end of the period, the weekend before: no school day.
    expect(classAttendance(span('2024-11-09', '2024-11-14'), '2024-11-10', flu, cal)).toBeNull();
    // The winter vacation: nobody in class.
    expect(classAttendance(span('2025-01-25', '2025-02-05'), '2025-01-28', flu, cal)).toBeNull();
  });

  it("takes a class's school days from its school's absence reports where there are any, the calendar elsewhere", () => {
    const cal = new SchoolCalendar({ terms: [['2024-09-01', '2025-01-17']], holidays: [], workdays: [] });
    // Reported Mon 11 – Wed 13 and Fri 15 November: Thursday 14 the class did not meet (a trip).
    const reported = new Set(['2024-11-11', '2024-11-12', '2024-11-13', '2024-11-15']);
    const klass = classCalendar(cal, reported);
    expect(['2024-11-13', '2024-11-14', '2024-11-15'].map((d) => klass.isSchoolDay(d))).toEqual([true, false, true]);
    // Outside the reported span the calendar answers; no reports, the calendar alone.
    expect([klass.isSchoolDay('2024-11-08'), klass.isSchoolDay('2024-11-18'), klass.isSchoolDay('2024-11-16')]).toEqual([
      true,
      true,
      false,
    ]);
    expect(classCalendar(cal, undefined)).toBe(cal);
    // Ill on Thursday 14 after a day the class did not meet: last in class on Wednesday 13.
    const span = { start: '2024-11-11T00:00:00+08:00', end: '2024-11-15T23:59:59+08:00' };
    expect(classAttendance(span, '2024-11-14', { schoolExclusionDays: 4 }, klass)?.end).toBe(
      new Date('2024-11-13T23:59:59.999+08:00').toISOString(),
    );
  });

  it('lays a chain out in parallel arrays, oldest first, naming only the residents given', () => {
    const kase = (investigationId: number, patientId: string, classification: Classification, onsetDate: string): ChainCase => ({
      investigationId,
      patientId,
      diseaseName: '麻疹',
      classification,
      status: 'open',
      onsetDate,
      openedAt: `${onsetDate}T09:00:00+08:00`,
      fromContactId: null,
    });
    const contact = (
      contactId: number,
      of: number,
      patientId: string | null,
      lastDate: string | null,
      more: Partial<ChainContact> = {},
    ) => ({
      contactId,
      investigationId: of,
      patientId,
      name: null,
      caseInvestigationId: null,
      followUpStart: '2025-03-06',
      types: ['共同居住'],
      firstDate: lastDate,
      lastDate,
      ...more,
    });
    const cases = [kase(1, 'a', 'confirmed', '2025-03-01'), kase(2, 'b', 'suspected', '2025-03-05')];
    const contacts: ChainContact[] = [
      contact(10, 1, 'b', '2025-03-02', { caseInvestigationId: 2 }),
      contact(11, 1, 'c', '2025-03-03', { types: ['同病房', '共同居住'] }),
      contact(12, 2, null, null, { name: '外地张三', types: [] }),
    ];
    const names = new Map([
      ['a', '王小明'],
      ['b', '王大伟'],
    ]);
    const chain = buildChain(cases, contacts, names);
    expect(chain.firstDay).toBe('2025-03-01');
    // c is not among the names given: drawn without one; the out-of-district contact keeps the name typed.
    expect(chain.nodes).toEqual({
      id: [1, 11, 2, 12],
      group: [2, 4, 0, 4],
      name: ['王小明', null, '王大伟', '外地张三'],
      day: [0, 2, 4, 5],
      generation: [0, 1, 1, 2],
      cluster: [0, 0, 0, 0],
    });
    expect(chain.groups[chain.nodes.group[0]!]).toBe('confirmed');
    expect(chain.edges).toEqual({ from: [0, 0, 2], to: [2, 1, 3], type: [0, 1, -1] });
    expect(chain.exposureTypes).toEqual(['共同居住', '共同居住、同病房']);
    expect(chain.stats).toMatchObject({ cases: 2, contacts: 2, clusters: 1, generations: 2, serialInterval: { n: 1, mean: 4 } });
    expect(chain.truncated).toBe(false);
    // At most `limit` people: the oldest, with the edges between them.
    const two = buildChain(cases, contacts, names, 2);
    expect(two).toMatchObject({ truncated: true, nodes: { id: [1, 11] }, edges: { from: [0], to: [1] } });
  });

  it('proposes the most specific co-stay kind once per person', () => {
    expect(candidatesFor().map((c) => [c.patientId, c.kind])).toEqual([
      ['p2', 'room'],
      ['p3', 'ward'],
    ]);
  });
});
