import { describe, expect, it } from 'vitest';
import { earsC, earsC3cdc } from './ears.js';
import { expectMatchesRef, loadRef, refFiles } from './refs.testutil.js';
import { DetectorInputError, type CountSeries } from './types.js';

const files = refFiles(/__earsC_/);

describe('earsC reproduces R surveillance 1.20.3', () => {
  const rFiles = files.filter((f) => !f.includes('C3doc'));
  it('has the six reference files', () => expect(rFiles.length).toBe(6));
  for (const f of rFiles) {
    it(f, () => {
      const ref = loadRef(f);
      const method = /earsC_(C[123])_/.exec(f)![1]!;
      const alpha = Number(/alpha([\d.]+)\.json$/.exec(f)![1]);
      expect(ref.params).toContain(`method = "${method}"`);
      const got = earsC(ref, { method, baseline: 7, minSigma: 0, alpha });
      expectMatchesRef(ref, got);
      expect(got.messages).toEqual([]);
    });
  }
});

describe('earsC3cdc follows the CDC definition (reference earsC_C3doc_*)', () => {
  const docFiles = files.filter((f) => f.includes('C3doc'));
  it('has the three reference files', () => expect(docFiles.length).toBe(3));
  for (const f of docFiles) {
    it(f, () => {
      const ref = loadRef(f);
      const alpha = Number(/alpha([\d.]+)\.json$/.exec(f)![1]);
      const got = earsC3cdc(ref, { alpha });
      expectMatchesRef(ref, got);
      const extra = ref.extra as { C2: number[]; C3: number[] };
      extra.C2.forEach((v, j) => expect(got.extra!['C2']![j]).toBeCloseTo(v, 12));
      extra.C3.forEach((v, j) => expect(got.extra!['C3']![j]).toBeCloseTo(v, 12));
    });
  }
  it('differs from R’s C3 variant, which ignores the current count', () => {
    const ref = loadRef('salmonella.agona__earsC_C3_alpha0.05.json');
    const r = earsC(ref, { method: 'C3', alpha: 0.05 });
    const cdc = earsC3cdc(ref, { alpha: 0.05 });
    const differ = ref.range.filter((t) => r.alarm[t - 1] !== cdc.alarm[t - 1]);
    expect(differ.length).toBeGreaterThan(0);
    // R's bound contains y_t itself: raising y_t raises the bound by the same amount.
    const t = ref.range[10]!;
    const bumped = { ...ref, observed: ref.observed.map((v, i) => (i === t - 1 ? (v as number) + 50 : v)) };
    const r2 = earsC(bumped, { method: 'C3', alpha: 0.05 });
    expect(r2.alarm[t - 1]).toBe(r.alarm[t - 1]);
    expect(earsC3cdc(bumped, { alpha: 0.05 }).alarm[t - 1]).toBe(true);
  });
});

describe('EARS hand-worked example', () => {
  // Baseline 1..7 = 2,4,2,4,2,4,2: mean 20/7, sd = sqrt(((4·(6/7)²+3·(8/7)²))/6).
  const observed = [2, 4, 2, 4, 2, 4, 2, 9];
  const series: CountSeries = { observed, freq: 52, start: [2020, 1], range: [8] };
  it('C1 bound is mean + z·sd and the alarm strict', () => {
    const m = 20 / 7;
    const sd = Math.sqrt((4 * (2 - m) ** 2 + 3 * (4 - m) ** 2) / 6);
    const r = earsC(series, { method: 'C1', alpha: 0.001 });
    expect(r.upperbound[7]).toBeCloseTo(m + 3.090232306167813 * sd, 12);
    expect(r.alarm[7]).toBe(true);
    const atBound = earsC({ ...series, observed: [...observed.slice(0, 7), 2] }, { method: 'C1' });
    expect(atBound.alarm[7]).toBe(false);
  });
  it('minSigma bounds the sd from below', () => {
    const flat: CountSeries = { observed: [3, 3, 3, 3, 3, 3, 3, 4], freq: 52, start: [2020, 1], range: [8] };
    expect(earsC(flat, { method: 'C1' }).upperbound[7]).toBe(3);
    expect(earsC(flat, { method: 'C1' }).alarm[7]).toBe(true);
    const r = earsC(flat, { method: 'C1', minSigma: 1, alpha: 0.05 });
    expect(r.upperbound[7]).toBeCloseTo(3 + 1.6448536269514715, 12);
    expect(r.alarm[7]).toBe(false);
  });
});

describe('EARS bad input: no alarm, a message, never a throw', () => {
  const base = [1, 2, 1, 3, 2, 1, 2, 2, 1, 3, 2, 1, 2, 8];
  const mk = (observed: (number | null)[], range: number[]): CountSeries => ({ observed, freq: 52, start: [2020, 1], range });
  it('gap in the baseline or the current period', () => {
    const obs: (number | null)[] = [...base];
    obs[10] = null;
    for (const method of ['C1', 'C2', 'C3'] as const) {
      const r = earsC(mk(obs, [11, 12, 14]), { method });
      expect(r.alarm[10]).toBeNull(); // the gap itself
      expect(r.alarm[13]).toBeNull(); // its baseline holds the gap
      expect(r.messages!.join(' ')).toMatch(/missing or invalid/);
    }
    const c = earsC3cdc(mk(obs, [12, 14]), {});
    expect(c.alarm[11]).toBeNull();
    expect(c.messages!.join(' ')).toMatch(/missing/);
  });
  it('negative and non-integer counts are not used', () => {
    const obs: (number | null)[] = [...base];
    obs[12] = -1;
    obs[11] = 2.5;
    const r = earsC(mk(obs, [13, 14]), { method: 'C1' });
    expect(r.alarm[12]).toBeNull();
    expect(r.alarm[13]).toBeNull();
    expect(r.upperbound[13]).toBeNull();
    expect(r.messages!.length).toBeGreaterThan(0);
  });
  it('too little history', () => {
    const r = earsC(mk(base, [3, 14]), { method: 'C2' });
    expect(r.alarm[2]).toBeNull();
    expect(r.alarm[13]).not.toBeNull();
    expect(r.messages!.join(' ')).toMatch(/too little history/);
    const c = earsC3cdc(mk(base, [5]), {});
    expect(c.alarm[4]).toBeNull();
    expect(c.messages!.join(' ')).toMatch(/too little history/);
  });
  it('bad control parameters throw DetectorInputError naming the field', () => {
    expect(() => earsC(mk(base, [14]), { method: 'C4' })).toThrow(DetectorInputError);
    expect(() => earsC(mk(base, [14]), { baseline: 2 })).toThrow(/control\.baseline/);
    expect(() => earsC(mk(base, [14]), { alpha: 1.5 })).toThrow(/control\.alpha/);
    expect(() => earsC(mk(base, [99]), {})).toThrow(/range/);
  });
  it('default range and alpha follow R', () => {
    const r = earsC(mk(base, []), { method: 'C3' });
    // C3 needs baseline + 4 earlier points: first verdict at 12.
    expect(r.alarm.slice(0, 11).every((a) => a === null)).toBe(true);
    expect(r.alarm[11]).not.toBeNull();
  });
});
