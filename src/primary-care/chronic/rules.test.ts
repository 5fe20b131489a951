import { describe, expect, it } from 'vitest';
import { atTarget, bpTarget, implausibleReadings, nextFollowUp, onTime, ruleSetFor, type PastVisit } from './rules.js';
import { loadChronicRuleSets, parseChronicRuleSet } from './rule-sets.js';
import { ageOn } from '../../shared/dates.js';
import fs from 'node:fs';
import path from 'node:path';
import { repoConfigDir } from './rule-file.js';

const sets = loadChronicRuleSets();
const r2020 = sets.find((s) => s.version === '2020')!;
const r2025 = sets.find((s) => s.version === '2025')!;
const adult = { age: 60, comorbidities: [] };

describe('chronic rule sets', () => {
  it('loads 2020 and 2025, choosing by visit date', () => {
    expect(sets.map((s) => s.version)).toEqual(['2020', '2025']);
    expect(ruleSetFor(sets, '2025-03-01').version).toBe('2020');
    expect(ruleSetFor(sets, '2025-07-01').version).toBe('2025');
  });

  it('targets by age and comorbidity change with the guideline version', () => {
    expect(bpTarget(60, [], r2020)).toEqual({ sbpBelow: 140, dbpBelow: 90 });
    expect(bpTarget(60, ['diabetes'], r2020)).toEqual({ sbpBelow: 130, dbpBelow: 80 });
    expect(bpTarget(85, ['diabetes'], r2020)).toEqual({ sbpBelow: 150, dbpBelow: 90 });
    expect(bpTarget(60, [], r2025)).toEqual({ sbpBelow: 130, dbpBelow: 80 });
    // 135/85 is controlled under 2020 but not under 2025.
    expect(atTarget('htn', { sbp: 135, dbp: 85 }, adult, r2020)).toBe(true);
    expect(atTarget('htn', { sbp: 135, dbp: 85 }, adult, r2025)).toBe(false);
    expect(atTarget('dm', { fpg: 6.5 }, adult, r2020)).toBe(true);
    expect(atTarget('dm', { fpg: 7.0 }, adult, r2020)).toBe(false);
    expect(atTarget('dm', { fpg: 4.2 }, adult, r2020)).toBe(false);
    expect(atTarget('dm', {}, adult, r2020)).toBeUndefined();
  });

  it('refuses unknown fields and overlapping age bands, naming the line', () => {
    const text = fs.readFileSync(path.join(repoConfigDir, 'chronic/rules-2020.json'), 'utf8');
    const unknown = text.replace('"routineIntervalDays": 90,', '"routineIntervalDays": 90,\n    "colour": "red",');
    const line = unknown.split('\n').findIndex((l) => l.includes('"colour"')) + 1;
    expect(() => parseChronicRuleSet('rules-x.json', unknown)).toThrow(`rules-x.json:${line}: unknown field "colour" in followUp`);
    const overlap = text.replace('{ "minAge": 65, "maxAge": 79', '{ "minAge": 60, "maxAge": 79');
    const l2 = overlap.split('\n').findIndex((l) => l.includes('"minAge": 60')) + 1;
    expect(() => parseChronicRuleSet('rules-y.json', overlap)).toThrow(
      new RegExp(`^rules-y.json:${l2}: age band 60–79 overlaps band 0–64`),
    );
    expect(() => parseChronicRuleSet('rules-z.json', '{\n  "version": 1\n}')).toThrow(
      'rules-z.json:2: version: Expected string, received number',
    );
    expect(() => parseChronicRuleSet('bad.json', '{\n "a": \n}')).toThrow(/^bad.json:3: not valid JSON/);
  });

  it('flags physiologically implausible readings with the reason', () => {
    expect(implausibleReadings({ sbp: 20, dbp: 10 }, r2020)[0]).toMatch(/systolic 20 mmHg is outside/);
    expect(implausibleReadings({ sbp: 400, dbp: 90 }, r2020)[0]).toMatch(/systolic 400/);
    expect(implausibleReadings({ fpg: 0 }, r2020)[0]).toMatch(/fasting glucose 0 mmol\/L/);
    expect(implausibleReadings({ sbp: 120, dbp: 130 }, r2020)[0]).toMatch(/not below systolic/);
    expect(implausibleReadings({ sbp: 150, dbp: 95, fpg: 7.2, hba1c: 7.1 }, r2020)).toEqual([]);
  });

  it('ages in whole years', () => {
    expect(ageOn('1960-05-10', '2025-05-09')).toBe(64);
    expect(ageOn('1960-05-10', '2025-05-10')).toBe(65);
  });
});

describe('nextFollowUp (worked examples, rules.md §3)', () => {
  const v = (date: string, sbp: number, dbp: number, extra: object = {}) => ({
    date,
    disease: 'htn' as const,
    readings: { sbp, dbp },
    ...extra,
  });
  it('controlled → routine 90 days', () => {
    expect(nextFollowUp([], v('2025-03-01', 128, 78), adult, r2020)).toEqual({
      decision: 'routine',
      controlled: true,
      dueDate: '2025-05-30',
      reasons: [],
    });
  });
  it('first uncontrolled → within 2 weeks', () => {
    const p = nextFollowUp([{ date: '2024-12-01', controlled: true, decision: 'routine' }], v('2025-03-01', 152, 88), adult, r2020);
    expect(p).toMatchObject({ decision: 'adjust', controlled: false, dueDate: '2025-03-15' });
  });
  it('two consecutive uncontrolled → referral, follow-up within 2 weeks', () => {
    const h: PastVisit[] = [{ date: '2025-03-01', controlled: false, decision: 'adjust' }];
    expect(nextFollowUp(h, v('2025-03-14', 148, 92), adult, r2020)).toMatchObject({
      decision: 'refer',
      dueDate: '2025-03-28',
      reasons: ['连续两次随访控制不满意'],
    });
  });
  it('new complication → referral even when controlled', () => {
    expect(nextFollowUp([], v('2025-03-01', 128, 78, { newComplication: true }), adult, r2020)).toMatchObject({
      decision: 'refer',
      controlled: true,
    });
  });
  it('emergency thresholds → urgent referral now', () => {
    expect(nextFollowUp([], v('2025-03-01', 182, 100), adult, r2020)).toMatchObject({ decision: 'urgent-referral', dueDate: '2025-03-01' });
    expect(nextFollowUp([], v('2025-03-01', 150, 110), adult, r2020).decision).toBe('urgent-referral');
    expect(nextFollowUp([], { date: '2025-03-01', disease: 'dm', readings: { fpg: 3.8 } }, adult, r2020).decision).toBe('urgent-referral');
    expect(nextFollowUp([], { date: '2025-03-01', disease: 'dm', readings: { fpg: 16.7 } }, adult, r2020).decision).toBe('urgent-referral');
    expect(nextFollowUp([], v('2025-03-01', 130, 80, { symptoms: ['chest-pain'] }), adult, r2020).decision).toBe('urgent-referral');
  });
  it('the same reading is routine under 2020 and uncontrolled under 2025', () => {
    expect(nextFollowUp([], v('2025-08-01', 135, 85), adult, r2020).decision).toBe('routine');
    expect(nextFollowUp([], v('2025-08-01', 135, 85), adult, r2025).decision).toBe('adjust');
  });
  it('on time within the tolerance', () => {
    expect(onTime('2025-05-30', '2025-06-06', r2020)).toBe(true);
    expect(onTime('2025-05-30', '2025-06-07', r2020)).toBe(false);
    expect(onTime(undefined, '2025-06-07', r2020)).toBe(true);
  });
});
