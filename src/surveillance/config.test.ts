import { describe, expect, it } from 'vitest';
import { assessEvidence } from './alerts/fusion.js';
import { fisherCombine, poissonUpperTail } from './alerts/stats.js';
import { areaAt, loadSurveillanceConfig, signalConfigFor, validateSurveillanceConfig } from './config.js';
import { icd10PatternMatches } from './icd10.js';
import { findNotifiable, loadNotifiableList } from './notifiable.js';
import { judgeSeries } from './alerts/detect.js';
import type { DetectionAlarm } from './alerts/detect.js';

const cfg = loadSurveillanceConfig();
const signalsJson = { version: 'x', signals: cfg.signals };

describe('surveillance configuration', () => {
  it('loads the shipped rule files', () => {
    expect(cfg.signals.length).toBeGreaterThan(10);
    expect(signalConfigFor(cfg.signals, 'report:influenza')!.method).toBe('cidarsMpm');
    // Measles elimination: one case is a suspected outbreak (signals.json explains).
    expect(signalConfigFor(cfg.signals, 'report:measles')!.method).toBe('cidarsFixed');
    expect(signalConfigFor(cfg.signals, 'report:cholera')!.method).toBe('cidarsFixed');
    expect(signalConfigFor(cfg.signals, 'pharmacy:antipyretic')!.source).toBe('pharmacy');
  });
  it('refuses an evidence span shorter than a fusion window', () => {
    const fusion = JSON.parse(JSON.stringify(cfg.fusion)) as Record<string, unknown>;
    fusion.maxSpanDays = 14; // shorter than fixedWindowDays (21)
    expect(() => validateSurveillanceConfig(signalsJson, fusion, cfg.syndromes, cfg.notifiable)).toThrow(
      /maxSpanDays \(14\) must be at least the longest window \(21 days\)/,
    );
  });
  it('refuses an unknown signal, naming it', () => {
    const bad = {
      ...signalsJson,
      signals: [...cfg.signals, { key: 'syndrome:fevre', label: 'x', source: 'clinic', areaLevel: 'street', method: 'earsC', control: {} }],
    };
    expect(() => validateSurveillanceConfig(bad, { ...cfg.fusion }, cfg.syndromes, cfg.notifiable)).toThrow(
      /unknown signal 'syndrome:fevre'/,
    );
  });
  it('refuses an unknown detection method, naming it', () => {
    const bad = {
      ...signalsJson,
      signals: [{ key: 'ili', label: 'x', source: 'clinic', areaLevel: 'street', method: 'magic', control: {} }],
    };
    expect(() => validateSurveillanceConfig(bad, { ...cfg.fusion }, cfg.syndromes, cfg.notifiable)).toThrow(
      /unknown detection method 'magic'/,
    );
  });
  it('maps area codes to levels', () => {
    expect(areaAt('street', '339902001002')).toBe('339902001000');
    expect(areaAt('district', '339902001002')).toBe('339902');
    expect(areaAt('street', '')).toBe('');
  });
});

describe('notifiable diseases', () => {
  const list = loadNotifiableList();
  it('matches ICD-10 codes and ranges with effective dates', () => {
    expect(findNotifiable(list, 'A00.1', '2025-01-01')!.key).toBe('cholera');
    expect(findNotifiable(list, 'B18.1', '2025-01-01')!.key).toBe('hepatitisB');
    expect(findNotifiable(list, 'B18.2', '2025-01-01')!.key).toBe('hepatitisC');
    expect(findNotifiable(list, 'A06.0', '2025-01-01')!.key).toBe('dysentery');
    expect(findNotifiable(list, 'A06.1', '2025-01-01')).toBeUndefined();
    expect(findNotifiable(list, 'J11.1', '2025-01-01')!.deadlineHours).toBe(24);
    expect(findNotifiable(list, 'A22.1', '2025-01-01')!.deadlineHours).toBe(2);
    expect(findNotifiable(list, 'A92.0', '2026-03-31')).toBeUndefined();
    expect(findNotifiable(list, 'A92.0', '2026-04-01')!.name).toBe('基孔肯雅热');
    expect(findNotifiable(list, 'A91', '2010-01-01')!.name).toBe('登革热');
    expect(findNotifiable(list, 'A91', '2020-01-01')).toBeUndefined();
    expect(icd10PatternMatches('B20-B24', 'B23.8')).toBe(true);
    expect(icd10PatternMatches('A20', 'A200')).toBe(true);
  });
});

describe('fusion', () => {
  const ev = (source: string, p: number, fixed = false): DetectionAlarm => ({
    signal: `${source}:x`,
    source,
    areaCode: '339902001000',
    day: '2025-01-01',
    method: fixed ? 'cidarsFixed' : 'earsC',
    observed: 3,
    threshold: 2,
    expected: 0.5,
    pValue: p,
    fixed,
  });
  it('alerts at once on a fixed-threshold case', () => {
    expect(assessEvidence(cfg.fusion, [ev('case-report', 0.2, true)])!.level).toBe('red');
  });
  it('ranks by agreeing sources; a lone weak source is only a watch signal', () => {
    expect(assessEvidence(cfg.fusion, [ev('lab', 0.01)])).toBeNull();
    expect(assessEvidence(cfg.fusion, [ev('lab', 0.01), ev('lab', 0.02)])).toBeNull();
    expect(assessEvidence(cfg.fusion, [ev('lab', 1e-6)])!.level).toBe('yellow');
    expect(assessEvidence(cfg.fusion, [ev('lab', 0.01), ev('school', 0.03)])!.level).toBe('orange');
    const three = assessEvidence(cfg.fusion, [ev('lab', 0.01), ev('school', 0.03), ev('clinic-syndrome', 0.02)])!;
    expect(three.level).toBe('red');
    expect(three.sources).toEqual(['clinic-syndrome', 'lab', 'school']);
    expect(three.jointP).toBeLessThan(0.001);
  });
  it('combines p-values (Fisher) and Poisson tails correctly', () => {
    expect(fisherCombine([0.05])).toBeCloseTo(0.05, 10);
    expect(fisherCombine([0.05, 0.05])).toBeCloseTo(0.01747, 4);
    expect(poissonUpperTail(0, 2)).toBe(1);
    expect(poissonUpperTail(3, 1)).toBeCloseTo(1 - Math.exp(-1) * (1 + 1 + 0.5), 12);
  });
});

describe('detection on count series', () => {
  const ili = signalConfigFor(cfg.signals, 'ili')!;
  const days = Array.from({ length: 30 }, (_, i) => `2025-01-${String(i + 1).padStart(2, '0')}`);
  it('says so and raises nothing on too little history', () => {
    const v = judgeSeries(ili, days.slice(0, 3), [1, 2, 3], 0);
    expect(v.alarm.every((a) => !a)).toBe(true);
  });
  it('reports negative or non-integer counts without crashing', () => {
    const v = judgeSeries(ili, days.slice(0, 12), [1, 2, 1, 2, 1, 2, 1, 2, 1, -1, 2.5, 9], 9);
    expect(v.alarm.every((a) => !a)).toBe(true);
    expect(v.messages.join(' ')).toMatch(/no verdict/);
  });
  it('alarms on a jump', () => {
    const obs = [1, 2, 1, 0, 1, 2, 1, 1, 0, 1, 2, 1, 1, 12];
    const v = judgeSeries(ili, days.slice(0, obs.length), obs, 10);
    expect(v.alarm.at(-1)).toBe(true);
  });
});
