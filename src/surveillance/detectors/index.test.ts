import { describe, expect, it } from 'vitest';
import { farringtonFlexible } from './farrington-flexible.js';
import { yifangCusum } from './default.js';
import { detectorDescriptions, detectors, NOUFAILY_CONTROL, runDetector, validateSeries } from './index.js';
import { expectMatchesRef, loadRef } from './refs.testutil.js';
import { DetectorInputError, type CountSeries } from './types.js';

describe('detector registry', () => {
  it('has the R surveillance names, the Noufaily shortcut, yifangCusum and the default', () => {
    expect(Object.keys(detectors).sort()).toEqual(
      [
        'cidarsFixed',
        'cidarsMpm',
        'cusum',
        'default',
        'earsC',
        'earsC3cdc',
        'essence',
        'farrington',
        'farringtonFlexible',
        'glrnb',
        'noufaily',
        'yifangCusum',
      ].sort(),
    );
  });
  it('runs a registered method through runDetector', () => {
    const ref = loadRef('salmonella.agona__earsC_C1_alpha0.05.json');
    expectMatchesRef(ref, runDetector('earsC', ref, { method: 'C1', alpha: 0.05 }));
    const glr = loadRef('salmonella.agona__glrnb_poisson_cARL5.json');
    expectMatchesRef(glr, runDetector('glrnb', glr, { alpha: 0 }));
  });
  it("'noufaily' is farringtonFlexible with the Noufaily settings", () => {
    const ref = loadRef('salmonella.agona__farringtonFlexible_noufaily_b3.json');
    const series: CountSeries = { observed: ref.observed, freq: ref.freq, start: ref.start, range: ref.range.slice(-10) };
    const a = runDetector('noufaily', series, { b: 3, w: 3 });
    const b = farringtonFlexible(series, { ...NOUFAILY_CONTROL, b: 3, w: 3 });
    expect(a.alarm).toEqual(b.alarm);
    expect(a.upperbound).toEqual(b.upperbound);
    expectMatchesRef(ref, runDetector('noufaily', ref, { b: 3, w: 3 }));
  });
  it("'default' is the Yifang CUSUM", () => {
    const ref = loadRef('salmonella.agona__farringtonFlexible_noufaily_b3.json');
    const a = runDetector('default', ref, {});
    const b = yifangCusum(ref, {});
    expect(a).toEqual(b);
    expect(detectors['default']).toBe(detectors['yifangCusum']);
    expect(detectorDescriptions['default']).toMatch(/yifangCusum/);
  });
});

describe('runDetector input checks', () => {
  const s: CountSeries = { observed: [1, 2, 3, 4, 5, 6, 7, 8, 9], freq: 52, start: [2020, 1], range: [9] };
  it('an unknown method throws DetectorInputError naming it', () => {
    expect(() => runDetector('bayes', s, {})).toThrow(DetectorInputError);
    expect(() => runDetector('bayes', s, {})).toThrow(/'bayes'/);
    expect(() => runDetector('toString', s, {})).toThrow(/unknown detection method/);
  });
  it('negative or non-integer counts throw naming the index', () => {
    expect(() => runDetector('earsC', { ...s, observed: [1, 2, -3, 4, 5, 6, 7, 8, 9] }, {})).toThrow(/observed\[2\].*negative/);
    expect(() => runDetector('earsC', { ...s, observed: [1, 2, 3, 4.5, 5, 6, 7, 8, 9] }, {})).toThrow(/observed\[3\].*not an integer/);
    expect(() => runDetector('earsC', { ...s, observed: [1, 2, 3, 4, 5, 6, 7, 8, Number.NaN] }, {})).toThrow(/observed\[8\]/);
  });
  it('gaps (null) are allowed', () => {
    const r = runDetector('earsC', { ...s, observed: [1, 2, null, 4, 5, 6, 7, 8, 9] }, {});
    expect(r.alarm[8]).toBeNull();
    expect(r.messages!.length).toBeGreaterThan(0);
    expect(() => validateSeries({ ...s, observed: [null, 1], range: [2] })).not.toThrow();
  });
  it('a malformed series or range throws', () => {
    expect(() => runDetector('earsC', { ...s, freq: 0 }, {})).toThrow(/series\.freq/);
    expect(() => runDetector('earsC', { ...s, range: [10] }, {})).toThrow(/series\.range\[0\]/);
    expect(() => runDetector('earsC', { ...s, start: [2020] as unknown as [number, number] }, {})).toThrow(/series\.start/);
  });
});
