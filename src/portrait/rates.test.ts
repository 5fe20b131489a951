/**
 * The portrait's arithmetic against values worked out by hand (the working is in the comments),
 * and the settings file's checks.
 */
import { describe, expect, it } from 'vitest';
import { loadPortraitConfig, parsePortraitConfig, PortraitConfigError } from './config.js';
import { bandOf, directStandardised, isSmall, marshallGlobalEb, suppressCells } from './rates.js';

describe('direct age standardisation', () => {
  it('weights each band’s own rate by the standard', () => {
    // Bands with weights 1 and 3: 1/100 = 0.01 and 6/200 = 0.03 → (1·0.01 + 3·0.03) / 4 = 0.025 → 2 500 per 100 000.
    // The crude rate would be 7/300 = 2 333.3: the area is young where the standard is old.
    const r = directStandardised(
      [
        { events: 1, population: 100 },
        { events: 6, population: 200 },
      ],
      [1, 3],
      100_000,
    );
    expect(r.rate).toBeCloseTo(2500, 9);
    expect(r.reason).toBeNull();
  });

  it('gives the rate itself when every band has the same rate, whatever the weights', () => {
    const w = loadPortraitConfig().standardPopulation.bands.map((b) => b.weight);
    const strata = w.map((_, j) => ({ events: 2 * (j + 1), population: 100 * (j + 1) }));
    expect(directStandardised(strata, w, 100).rate).toBeCloseTo(2, 12);
  });

  it('with the WHO 2000–2025 standard: 2/10 aged 30–34 and 4/10 aged 70–74', () => {
    // Weights 7 610 and 2 210 of 100 035: 10⁵ × (7610·0.2 + 2210·0.4) / 100035 = 10⁵ × 2406 / 100035 = 2 405.158…
    const cfg = loadPortraitConfig();
    const w = cfg.standardPopulation.bands.map((b) => b.weight);
    expect(w.reduce((a, b) => a + b, 0)).toBe(100_035);
    const strata = w.map(() => ({ events: 0, population: 0 }));
    strata[6] = { events: 2, population: 10 };
    strata[14] = { events: 4, population: 10 };
    expect(directStandardised(strata, w, 100_000).rate).toBeCloseTo(2405.1582, 3);
  });

  it('treats an empty band as rate 0 but refuses events with no population behind them', () => {
    expect(
      directStandardised(
        [
          { events: 0, population: 0 },
          { events: 1, population: 10 },
        ],
        [1, 1],
        1,
      ).rate,
    ).toBeCloseTo(0.05, 12);
    expect(
      directStandardised(
        [
          { events: 1, population: 0 },
          { events: 1, population: 10 },
        ],
        [1, 1],
        1,
      ),
    ).toEqual({ rate: null, reason: 'events in age band 1 with no population counted in it' });
    expect(directStandardised([{ events: 0, population: 0 }], [1], 1)).toEqual({ rate: null, reason: 'no population' });
    expect(() => directStandardised([{ events: 0, population: 1 }], [1, 2], 1)).toThrow(/1 strata for 2 weights/);
  });

  it('finds the band of an age', () => {
    const bands = loadPortraitConfig().standardPopulation.bands;
    expect([bandOf(0, bands), bandOf(4, bands), bandOf(5, bands), bandOf(84, bands), bandOf(85, bands), bandOf(107, bands)]).toEqual([
      0, 0, 1, 16, 17, 17,
    ]);
    expect([bandOf(undefined, bands), bandOf(-1, bands), bandOf(null, bands)]).toEqual([-1, -1, -1]);
  });
});

describe("Marshall's global empirical Bayes", () => {
  it('shrinks each rate towards the pooled rate by its share of the between-area variance', () => {
    // y = 30, 10 of n = 1000, 1000: m = 40/2000 = 0.02; s² = (1000·0.01² + 1000·0.01²)/2000 = 1e-4;
    // n̄ = 1000, m/n̄ = 2e-5, A = 8e-5; C = 8e-5 / (8e-5 + 2e-5) = 0.8 → 0.02 ± 0.8·0.01 = 0.028, 0.012.
    const r = marshallGlobalEb([
      { events: 30, population: 1000 },
      { events: 10, population: 1000 },
    ]);
    expect(r.mean).toBeCloseTo(0.02, 15);
    expect(r.betweenVariance).toBeCloseTo(8e-5, 15);
    expect(r.smoothed[0]).toBeCloseTo(0.028, 12);
    expect(r.smoothed[1]).toBeCloseTo(0.012, 12);
  });

  it('pulls a small area much further than a large one', () => {
    // Adding y = 2 of n = 50 (0.04): m = 42/2050 = 0.0204878; s² = 1.070791e-4; n̄ = 683.33,
    // A = 1.070791e-4 − 0.0204878/683.33 = 7.70970e-5. Small area: C = A/(A + m/50) = 0.15836 →
    // 0.0204878 + 0.15836·0.0195122 = 0.0235777; a large one keeps C = 0.79005 → 0.0280029.
    const r = marshallGlobalEb([
      { events: 30, population: 1000 },
      { events: 10, population: 1000 },
      { events: 2, population: 50 },
      { events: 0, population: 0 },
    ]);
    expect(r.betweenVariance).toBeCloseTo(7.7097e-5, 8);
    expect(r.smoothed[0]).toBeCloseTo(0.0280029, 6);
    expect(r.smoothed[1]).toBeCloseTo(0.0122019, 6);
    expect(r.smoothed[2]).toBeCloseTo(0.0235777, 6);
    expect(r.smoothed[3]).toBeNull();
  });

  it('gives every area the pooled rate when the spread is no more than chance (A clipped at 0)', () => {
    // 2/100, 10/1000, 0/50: m = 12/1150; s² = 1.28544e-5 < m/n̄ = 2.72212e-5, so A = 0.
    const r = marshallGlobalEb([
      { events: 2, population: 100 },
      { events: 10, population: 1000 },
      { events: 0, population: 50 },
    ]);
    expect(r.betweenVariance).toBe(0);
    for (const s of r.smoothed) expect(s).toBeCloseTo(12 / 1150, 15);
  });

  it('leaves all-zero rates at zero and no areas as nothing', () => {
    expect(
      marshallGlobalEb([
        { events: 0, population: 10 },
        { events: 0, population: 20 },
      ]).smoothed,
    ).toEqual([0, 0]);
    expect(marshallGlobalEb([{ events: 0, population: 0 }])).toEqual({ smoothed: [null], mean: null, betweenVariance: null });
  });
});

describe('suppression', () => {
  it('hides 1–4 in the numerator or the denominator, never a zero', () => {
    expect([0, 1, 4, 5].map((n) => isSmall(n, 5))).toEqual([false, true, true, false]);
    const r = suppressCells(
      [
        { key: 'a', numerator: 10, denominator: 100 },
        { key: 'b', numerator: 3, denominator: 100 },
        { key: 'c', numerator: 0, denominator: 4 },
        { key: 'd', numerator: 0, denominator: 0 },
      ],
      5,
    );
    // c's denominator of 4 alone would need a partner in a view where b's numerator is not small
    // (the same denominators): a is that partner in every view (smallest denominator, then key).
    expect(Object.fromEntries(r.cells)).toEqual({ a: 'complementary', b: 'small', c: 'small', d: null });
    expect(r.total).toBeNull();
  });

  it('hides a partner when one cell alone is hidden, so the district total does not give it away', () => {
    const r = suppressCells(
      [
        { key: 'a', numerator: 6, denominator: 20 },
        { key: 'b', numerator: 5, denominator: 10 },
        { key: 'c', numerator: 0, denominator: 3 },
        { key: 'd', numerator: 0, denominator: 0 },
      ],
      5,
    );
    expect(Object.fromEntries(r.cells)).toEqual({ a: null, b: 'complementary', c: 'small', d: null });
    // With nobody to pair with, the total goes instead; a small total is hidden as small.
    expect(
      suppressCells(
        [
          { key: 'a', numerator: 2, denominator: 9 },
          { key: 'b', numerator: 0, denominator: 0 },
        ],
        5,
      ).total,
    ).toBe('small');
    expect(
      suppressCells(
        [
          { key: 'a', numerator: 0, denominator: 3 },
          { key: 'b', numerator: 0, denominator: 0 },
          { key: 'c', numerator: 7, denominator: 9 },
        ],
        5,
      ),
    ).toEqual({
      cells: new Map([
        ['a', 'small'],
        ['b', null],
        ['c', 'complementary'],
      ]),
      total: null,
    });
  });
});

describe('suppression across views', () => {
  it('hides the same partner in every view over one denominator, so two views cannot be subtracted', () => {
    const view = (n: number[]) =>
      suppressCells(
        ['a', 'b', 'c'].map((key, i) => ({ key, numerator: n[i]!, denominator: [20, 10, 3][i]! })),
        5,
      ).cells;
    // Influenza 6, 5, 0: c is small, b its partner. Measles 2, 0, 0: a and c are small, which alone
    // would publish b's denominator of 10 and give c's 3 back from the influenza view's total.
    expect(Object.fromEntries(view([6, 5, 0]))).toEqual({ a: null, b: 'complementary', c: 'small' });
    expect(Object.fromEntries(view([2, 0, 0]))).toEqual({ a: 'small', b: 'complementary', c: 'small' });
  });
});

describe('portrait settings', () => {
  const good = () => loadPortraitConfig();
  it('loads the shipped file: CDC roles, the cell minimum and the WHO standard from age 0 to an open top band', () => {
    const c = good();
    expect(c.cdcRoles).toEqual(['epidemiologist', 'admin']);
    expect(c.minCell).toBe(5);
    expect(c.standardPopulation.bands).toHaveLength(18);
  });
  it('refuses unknown roles and bands with a gap, naming the file and the field', () => {
    const c = good();
    expect(() => parsePortraitConfig({ ...c, cdcRoles: ['cdc-chief'] }, 'p.json')).toThrow(/p\.json: cdcRoles: unknown role 'cdc-chief'/);
    const bands = c.standardPopulation.bands.map((b) => ({ ...b }));
    bands[3]!.from = 16;
    expect(() => parsePortraitConfig({ ...c, standardPopulation: { ...c.standardPopulation, bands } }, 'p.json')).toThrow(
      /p\.json: standardPopulation\.bands\.3: starts at 16, expected 15/,
    );
    expect(() => parsePortraitConfig({ ...c, minCell: 0 }, 'p.json')).toThrow(PortraitConfigError);
  });
});
