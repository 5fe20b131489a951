import { describe, expect, it } from 'vitest';
import { glrnb } from './glr.js';
import { expectMatchesRef, loadRef } from './refs.testutil.js';
import { DetectorInputError, type CountSeries } from './types.js';

describe('glrnb reproduces R surveillance 1.20.3', () => {
  it('glrnb_poisson_cARL5 (Poisson GLM mu0, alpha = 0)', () => {
    const ref = loadRef('salmonella.agona__glrnb_poisson_cARL5.json');
    const got = glrnb(ref, {
      'c.ARL': 5,
      mu0: { S: 1, trend: false, refit: false },
      alpha: 0,
      Mtilde: 1,
      M: -1,
      change: 'intercept',
      theta: null,
      dir: 'inc',
      ret: 'value',
    });
    expectMatchesRef(ref, got);
    (ref.extra as { mu0: number[] }).mu0.forEach((v, j) => expect(Math.abs((got.extra!['mu0']![j] as number) - v)).toBeLessThan(1e-10));
  });
  it('glrnb_nb_cARL5 (glm.nb mu0, alpha = 1/theta estimated)', () => {
    const ref = loadRef('salmonella.agona__glrnb_nb_cARL5.json');
    const got = glrnb(ref, {
      'c.ARL': 5,
      mu0: { S: 1, trend: false, refit: false },
      Mtilde: 1,
      M: -1,
      change: 'intercept',
      theta: null,
      dir: 'inc',
      ret: 'value',
    });
    expectMatchesRef(ref, got);
    const extra = ref.extra as { mu0: number[]; alpha: number };
    expect(Math.abs((got.extra!['alpha']![0] as number) - extra.alpha)).toBeLessThan(1e-10);
    extra.mu0.forEach((v, j) => expect(Math.abs((got.extra!['mu0']![j] as number) - v)).toBeLessThan(1e-10));
  });
});

const mk = (observed: (number | null)[], range: number[]): CountSeries => ({ observed, freq: 52, start: [2020, 1], range });

describe('GLR hand-worked examples', () => {
  it('Poisson GLR: max over change-points of κ̂Σx + (1 − e^κ̂)Σμ0 with κ̂ = max(0, log(Σx/Σμ0))', () => {
    const r = glrnb(mk([1, 4, 0], [1, 2, 3]), { mu0: [1, 1, 1], alpha: 0 });
    const l = (sx: number, sm: number) => {
      const k = Math.max(0, Math.log(sx / sm));
      return k * sx + (1 - Math.exp(k)) * sm;
    };
    expect(r.upperbound[0]).toBe(0);
    expect(r.upperbound[1]).toBeCloseTo(Math.max(l(4, 1), l(5, 2)), 12);
    expect(r.upperbound[2]).toBeCloseTo(Math.max(l(0, 1), l(4, 2), l(5, 3)), 12);
    expect(r.alarm).toEqual([false, false, false]);
  });
  it('Poisson GLR restarts after an alarm (GLR ≥ c.ARL)', () => {
    const r = glrnb(mk([1, 9, 3, 1], [1, 2, 3, 4]), { mu0: [1, 1, 1, 1], alpha: 0 });
    // n = 1: κ̂ = log 9: 9 log 9 − 8 = 11.78 ≥ 5 → alarm; the chart restarts at n = 2 with only x = 3.
    expect(r.alarm).toEqual([false, true, false, false]);
    expect(r.upperbound[2]).toBeCloseTo(3 * Math.log(3) - 2, 12);
  });
  it("ret 'cases': the smallest count that would alarm", () => {
    const obs = [2, 1, 3, 2, 4];
    const mu0 = [2, 2, 2, 2, 2];
    const r = glrnb(mk(obs, [1, 2, 3, 4, 5]), { mu0, alpha: 0, ret: 'cases' });
    expect(r.alarm.some((a) => a)).toBe(false);
    for (let n = 0; n < obs.length; n++) {
      const need = r.upperbound[n] as number;
      const statWith = (v: number) => {
        const o = obs.slice(0, n + 1);
        o[n] = v;
        return glrnb(
          mk(
            o,
            o.map((_, i) => i + 1),
          ),
          { mu0: mu0.slice(0, n + 1), alpha: 0 },
        ).extra!['statistic']![n] as number;
      };
      expect(statWith(need)).toBeGreaterThanOrEqual(5);
      if (need > 0) expect(statWith(need - 1)).toBeLessThan(5);
    }
  });
  it('NB GLR for one observation: κ̂ = log(x/μ0), l = x log(x/μ0) + (x + 1/α) log((1 + αμ0)/(1 + αx))', () => {
    const r = glrnb(mk([6], [1]), { mu0: [2], alpha: 0.5 });
    expect(r.upperbound[0]).toBeCloseTo(6 * Math.log(3) + 8 * Math.log(2 / 4), 10);
  });
  it('LR CUSUM with known κ (theta): S_n = max(0, S_{n−1} + κx − (e^κ − 1)μ0), alarm when S > c.ARL, then restart', () => {
    const r = glrnb(mk([4, 5, 1], [1, 2, 3]), { mu0: [2, 2, 2], alpha: 0, theta: Math.log(2), 'c.ARL': 2 });
    const z = (x: number) => Math.log(2) * x - 2;
    expect(r.upperbound[0]).toBeCloseTo(z(4), 12);
    expect(r.upperbound[1]).toBeCloseTo(z(4) + z(5), 12);
    expect(r.alarm).toEqual([false, true, false]);
    expect(r.upperbound[2]).toBe(0);
  });
  it("dir 'dec' looks for a fall", () => {
    // x = 1 where μ0 = 4: each week adds log(1/4) + (1 − 1/4)·4 = 3 − log 4 ≈ 1.614; alarm when ≥ 5 (4th week).
    const r = glrnb(mk([1, 1, 1, 1, 1, 1], [1, 2, 3, 4, 5, 6]), { mu0: [4, 4, 4, 4, 4, 4], alpha: 0, dir: 'dec' });
    expect(r.upperbound[0]).toBeCloseTo(3 - Math.log(4), 12);
    expect(r.alarm).toEqual([false, false, false, true, false, false]);
    const up = glrnb(mk([1, 1, 1, 1, 1, 1], [1, 2, 3, 4, 5, 6]), { mu0: [4, 4, 4, 4, 4, 4], alpha: 0 });
    expect(up.upperbound).toEqual([0, 0, 0, 0, 0, 0]);
  });
});

describe('glrnb bad input: no alarm, a message, never a throw', () => {
  const weekly = Array.from({ length: 120 }, (_, i) => 3 + Math.round(2 * Math.sin((2 * Math.PI * i) / 52)));
  it('a gap in range: no verdict there, and it adds nothing to the statistic', () => {
    const obs: (number | null)[] = [...weekly];
    obs[110] = null;
    const range = Array.from({ length: 20 }, (_, i) => 101 + i);
    const r = glrnb(mk(obs, range), { alpha: 0 });
    expect(r.alarm[110]).toBeNull();
    expect(r.upperbound[110]).toBeNull();
    expect(r.alarm[111]).not.toBeNull();
    expect(r.messages!.join(' ')).toMatch(/missing or invalid/);
  });
  it('gaps and invalid counts in the history are left out of the mu0 fit', () => {
    const obs: (number | null)[] = [...weekly];
    obs[5] = null;
    obs[6] = -2;
    obs[7] = 1.5;
    const r = glrnb(mk(obs, [110, 111]), { alpha: 0 });
    expect(r.alarm[109]).not.toBeNull();
  });
  it('too little history to estimate mu0', () => {
    const r = glrnb(mk([1, 2, 3, 4], [3, 4]), { alpha: 0 });
    expect(r.alarm).toEqual([null, null, null, null]);
    expect(r.messages!.join(' ')).toMatch(/too little history/);
  });
  it('bad control parameters throw DetectorInputError naming the field', () => {
    const s = mk(weekly, [110]);
    expect(() => glrnb(s, { change: 'epi' })).toThrow(DetectorInputError);
    expect(() => glrnb(s, { mu0: [1, 2] })).toThrow(/control\.mu0/);
    expect(() => glrnb(s, { ret: 'cases' })).toThrow(/control\.ret/);
    expect(() => glrnb(s, { 'c.ARL': -1 })).toThrow(/c\.ARL/);
    expect(() => glrnb(s, { dir: 'up' })).toThrow(/control\.dir/);
  });
});

describe('glrnb mu0 refit after an alarm', () => {
  it('re-estimates mu0 on all data before the restart (alpha is kept)', () => {
    const obs = Array.from({ length: 160 }, (_, i) => 2 + Math.round(1.5 * Math.sin((2 * Math.PI * i) / 52)));
    for (let i = 110; i < 116; i++) obs[i] = 12; // an outbreak that triggers the chart
    const range = Array.from({ length: 60 }, (_, i) => 101 + i);
    const plain = glrnb(mk(obs, range), { alpha: 0 });
    const refit = glrnb(mk(obs, range), { alpha: 0, mu0: { S: 1, trend: false, refit: true } });
    const firstAlarm = range.findIndex((t) => plain.alarm[t - 1]);
    expect(firstAlarm).toBeGreaterThan(-1);
    // identical up to the first alarm, different mu0 afterwards
    expect(refit.extra!['mu0']!.slice(0, firstAlarm + 1)).toEqual(plain.extra!['mu0']!.slice(0, firstAlarm + 1));
    expect(refit.extra!['mu0']![firstAlarm + 1]).not.toBe(plain.extra!['mu0']![firstAlarm + 1]);
    expect(refit.alarm[range[firstAlarm]! - 1]).toBe(true);
  });
});
