/**
 * The simulated statistics match the documented targets (targets.ts): hypertension and
 * diabetes prevalence among adults, childhood immunization coverage, ILI% by season, school
 * absenteeism. Measured from the output files, as a consumer would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outputStats, type OutputStats } from './output-stats.js';
import { TARGETS } from './targets.js';
import { removeDir, runInto } from './testing.js';

describe('simulated statistics (5,000 residents × 365 days)', () => {
  let dir = '';
  let s: OutputStats;
  beforeAll(async () => {
    ({ dir } = await runInto('stats', { seed: 11, population: 5000, start: '2024-01-01', days: 365 }));
    s = await outputStats(dir);
  });
  afterAll(() => removeDir(dir));

  it('hypertension prevalence among adults is ~27.5 % (中国居民营养与慢性病状况报告 2020)', () => {
    expect(Math.abs(s.hypertensionPrevalence - TARGETS.hypertensionAdultPrevalence.value)).toBeLessThan(
      TARGETS.hypertensionAdultPrevalence.tolerance,
    );
    // Fewer than half are diagnosed (awareness 46.9 %, Wang et al. 2018) ...
    expect(s.hypertensionDiagnosed).toBeGreaterThan(0.35);
    expect(s.hypertensionDiagnosed).toBeLessThan(0.6);
  });

  it('diabetes prevalence among adults is ~11.2 % (Li et al., BMJ 2020)', () => {
    expect(Math.abs(s.diabetesPrevalence - TARGETS.diabetesAdultPrevalence.value)).toBeLessThan(TARGETS.diabetesAdultPrevalence.tolerance);
  });

  it('childhood immunization coverage at 24 months is above 90 % but not perfect', () => {
    expect(s.coverage24m.cohort).toBeGreaterThan(40);
    for (const v of [s.coverage24m.HepB3, s.coverage24m.DTaP3, s.coverage24m.MMR1]) {
      expect(v).toBeGreaterThan(TARGETS.childImmunizationCoverageMin);
      expect(v).toBeLessThanOrEqual(1);
    }
  });

  it('ILI% is higher in winter than in summer, within the CNIC ranges', () => {
    const t = TARGETS.ili;
    expect(s.iliWinter).not.toBeNull();
    expect(s.iliSummer).not.toBeNull();
    expect(s.iliWinter!).toBeGreaterThan(t.winterMin);
    expect(s.iliWinter!).toBeLessThan(t.winterMax);
    expect(s.iliSummer!).toBeGreaterThan(t.summerMin);
    expect(s.iliSummer!).toBeLessThan(t.summerMax);
    expect(s.iliWinter! / s.iliSummer!).toBeGreaterThan(t.winterOverSummerMin);
  });

  it('school sick absence outside outbreaks is at the base rate', () => {
    expect(s.absenteeismSick).toBeGreaterThan(TARGETS.absenteeismSick.min);
    expect(s.absenteeismSick).toBeLessThan(TARGETS.absenteeismSick.max);
    expect(s.absenteeismLeave).toBeGreaterThan(0);
  });
});
