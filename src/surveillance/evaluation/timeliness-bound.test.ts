/** The timeliness ceiling (timeliness-bound.ts) on small simulated districts. */
import { describe, expect, it } from 'vitest';
import { backgroundMean, DISTRICT_SIZES, SIMULATED_SIGNALS, simulateDistrictCounts } from './district-sizes.js';
import { timelinessBound } from './timeliness-bound.js';

const small = DISTRICT_SIZES.find((s) => s.name === 'small')!;

describe('timeliness bound', () => {
  it('knows the simulation background: school absences are zero at weekends and 7/5 of the rate on school days', () => {
    const school = SIMULATED_SIGNALS.find((s) => s.key === 'school:illness_absence')!;
    expect(backgroundMean(school, small, '2025-03-08')).toBe(0); // a Saturday
    const weekday = backgroundMean(school, small, '2025-03-10');
    expect(weekday).toBeGreaterThan(0);
    const diarrhoea = SIMULATED_SIGNALS.find((s) => s.key === 'syndrome:diarrhoea')!;
    expect(backgroundMean(diarrhoea, small, '2025-07-15')).toBeGreaterThan(backgroundMean(diarrhoea, small, '2025-01-15'));
  });

  it('sees more outbreaks with each day after onset and at a looser false rate, never more than there are', () => {
    const d = simulateDistrictCounts(small, 11);
    const strict = timelinessBound([d], 5);
    const loose = timelinessBound([d], 50);
    expect(strict.outbreaks).toBe(d.outbreaks.length);
    expect(loose.threshold).toBeLessThan(strict.threshold);
    for (const b of [strict, loose]) {
      for (let i = 1; i < 4; i++) expect(b.visibleByDay[i]!).toBeGreaterThanOrEqual(b.visibleByDay[i - 1]!);
      expect(b.visibleByDay[3]!).toBeLessThanOrEqual(b.outbreaks);
    }
    for (let i = 0; i < 4; i++) expect(loose.visibleByDay[i]!).toBeGreaterThanOrEqual(strict.visibleByDay[i]!);
    // By day 3 a 20,000 district's outbreaks stand out for an observer who knows the background.
    expect(loose.visibleByDay[3]!).toBeGreaterThan(loose.outbreaks / 2);
  });
});
