/**
 * Farrington (1996) and Farrington flexible on DATED weekly series, against R `surveillance`
 * 1.20.3 with epochAsDate = TRUE: the reference weeks are found by calendar date (the same date
 * b years back, snapped to the nearest same weekday), which differs from index − b·52 around
 * 53-week years and 29 February. The fixtures in ./fixtures/dated/ are written by
 * scripts/r-refs/dated-farrington.R.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { farrington } from './farrington.js';
import { farringtonFlexible } from './farrington-flexible.js';
import { DetectorInputError, type CountSeries, type Detector, type DetectorControl } from './types.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/dated');

interface DatedSeries {
  name: string;
  freq: number;
  start: [number, number];
  dates: string[];
  observed: number[];
}

interface DatedRun {
  series: string;
  method: 'farrington' | 'farringtonFlexible';
  label: string;
  params: string;
  control: DetectorControl & { range: number[] };
  /** Aligned with control.range. */
  alarm: (number | null)[];
  upperbound: (number | null)[];
  extra: Record<string, (number | null)[]>;
}

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(path.join(FIXTURES, file), 'utf8')) as T;
}

const seriesCache = new Map<string, DatedSeries>();
function loadSeries(name: string): DatedSeries {
  let s = seriesCache.get(name);
  if (!s) {
    s = readJson<DatedSeries>(`series-${name}.json`);
    seriesCache.set(name, s);
  }
  return s;
}

const DAY_MS = 86_400_000;
const toEpoch = (d: string): number => Date.parse(`${d}T00:00:00Z`) / DAY_MS;

type Layout = 'dates' | 'epoch';

/** The series with ISO `dates`, or in R's sts layout (epochAsDate = true, epoch = days since 1970-01-01). */
function asCountSeries(s: DatedSeries, range: number[], layout: Layout = 'dates'): CountSeries {
  const base: CountSeries = { observed: [...s.observed], freq: s.freq, start: s.start, range };
  return layout === 'dates' ? { ...base, dates: [...s.dates] } : { ...base, epochAsDate: true, epoch: s.dates.map(toEpoch) };
}

const detectorsByName: Record<DatedRun['method'], Detector> = { farrington, farringtonFlexible };

const runFiles = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.json') && !f.startsWith('series-'))
  .sort();

describe('dated fixtures', () => {
  it('are present (scripts/r-refs/dated-farrington.R)', () => {
    expect(runFiles.length).toBeGreaterThanOrEqual(20);
  });

  const cases = runFiles.flatMap((f) => (['dates', 'epoch'] as const).map((layout) => [f, layout] as const));
  it.each(cases)('%s (%s): alarms identical, upper bounds within 1e-9 of R', (file, layout) => {
    const run = readJson<DatedRun>(file);
    const s = loadSeries(run.series);
    const range = run.control.range;
    const got = detectorsByName[run.method](asCountSeries(s, range, layout), run.control);
    let maxDiff = 0;
    range.forEach((k, r) => {
      const a = run.alarm[r];
      expect(got.alarm[k - 1], `alarm at ${k} (${s.dates[k - 1]})`).toBe(a === null || a === undefined ? null : a === 1);
      const u = run.upperbound[r];
      if (u === null || u === undefined) {
        expect(got.upperbound[k - 1], `upperbound at ${k} (${s.dates[k - 1]})`).toBeNull();
      } else {
        const g = got.upperbound[k - 1];
        expect(g, `upperbound at ${k} (${s.dates[k - 1]})`).not.toBeNull();
        const d = Math.abs((g as number) - u);
        expect(d, `upperbound at ${k} (${s.dates[k - 1]}): ${g} vs R ${u}`).toBeLessThan(1e-9);
        maxDiff = Math.max(maxDiff, d);
      }
    });
    expect(maxDiff).toBeLessThan(1e-9);
    // Extras where R gives them (aligned with the range).
    for (const name of ['expected', 'score'] as const) {
      const want = run.extra[name];
      if (!want) continue;
      const have = got.extra?.[name];
      expect(have, `extra.${name}`).toBeDefined();
      want.forEach((v, r) => {
        if (v === null) return;
        const h = have![r];
        expect(h, `extra.${name} at ${range[r]}`).not.toBeNull();
        expect(Math.abs((h as number) - v), `extra.${name} at ${range[r]}`).toBeLessThan(1e-9 * Math.max(1, Math.abs(v)));
      });
    }
    const trend = run.extra['trend'];
    if (trend) expect(got.extra?.['trend']).toEqual(trend);
  });
});

describe('dated series input', () => {
  const sim = loadSeries('sim53');
  const range = sim.dates.map((d, i) => (d >= '2020-01-01' ? i + 1 : 0)).filter((k) => k > 0);
  const detectorCases: [string, Detector, DetectorControl][] = [
    ['farrington', farrington, { b: 5, w: 3 }],
    ['farringtonFlexible delta', farringtonFlexible, { b: 5, w: 3, noPeriods: 1, thresholdMethod: 'delta' }],
    [
      'farringtonFlexible Noufaily',
      farringtonFlexible,
      { b: 5, w: 3, noPeriods: 10, thresholdMethod: 'nbPlugin', pastWeeksNotIncluded: 26 },
    ],
  ];
  // Week 180 (2017-06-05) lies in the baselines of 2020–2021; week 330 (2020-04-20) is evaluated.
  const missing = [180, 330];

  it.each(detectorCases)('%s refuses a series with left-out weeks, naming the first one', (_n, detector, control) => {
    const keep = (_: unknown, i: number): boolean => !missing.includes(i + 1);
    const observed = sim.observed.filter(keep);
    const dates = sim.dates.filter(keep);
    const shortRange = range.map((k) => k - missing.filter((m) => m < k).length).filter((k) => k <= observed.length);
    const run = (s: CountSeries) => () => detector(s, control);
    const dated: CountSeries = { observed, freq: 52, start: sim.start, range: shortRange, dates };
    expect(run(dated)).toThrow(DetectorInputError);
    expect(run(dated)).toThrow(/dates\[179\] \(2017-06-12\) is 14 days after dates\[178\] \(2017-05-29\).*null count/);
    const rLayout: CountSeries = { observed, freq: 52, start: sim.start, range: shortRange, epochAsDate: true, epoch: dates.map(toEpoch) };
    expect(run(rLayout)).toThrow(/epoch\[179\] \(2017-06-12\) is 14 days after/);
  });

  it.each(detectorCases)('%s answers a series whose missing weeks are null counts (gaps)', (_n, detector, control) => {
    const observed: (number | null)[] = sim.observed.map((v, i) => (missing.includes(i + 1) ? null : v));
    const got = detector({ observed, freq: 52, start: sim.start, range, dates: [...sim.dates] }, control);
    for (const k of range) {
      if (k === 330) {
        expect(got.alarm[k - 1]).toBeNull();
      } else {
        expect(typeof got.alarm[k - 1], `alarm at ${k}`).toBe('boolean');
        expect(got.upperbound[k - 1] === null || Number.isFinite(got.upperbound[k - 1]), `upperbound at ${k}`).toBe(true);
      }
    }
    expect(got.messages?.join('\n')).toMatch(/gaps \(null counts\) left out of the baseline/);
    expect(got.messages?.join('\n')).toMatch(/no count \(gap\) in the evaluated week: no verdict at time point 330/);
  });

  it('rejects impossible dates, disagreeing dates and epoch, and epochAsDate without epoch', () => {
    const base: CountSeries = { observed: [...sim.observed], freq: 52, start: sim.start, range };
    const dates = [...sim.dates];
    dates[5] = '2014-02-30';
    expect(() => farrington({ ...base, dates }, {})).toThrow(/dates\[5\] must be an ISO date/);
    const epoch = sim.dates.map(toEpoch);
    epoch[7] = epoch[7]! + 1;
    expect(() => farringtonFlexible({ ...base, dates: [...sim.dates], epochAsDate: true, epoch }, {})).toThrow(/epoch\[7\].*disagree/);
    expect(() => farrington({ ...base, epochAsDate: true }, {})).toThrow(/series\.epoch must hold one date per observed value/);
    expect(() => farrington({ ...base, epochAsDate: 'yes' as unknown as boolean }, {})).toThrow(
      /series\.epochAsDate must be true or false/,
    );
    const reversed = { ...base, dates: [...sim.dates].reverse() };
    expect(() => farringtonFlexible(reversed, {})).toThrow(/dates\[1\] \(.*\) is not after dates\[0\]/);
  });

  it('treats epoch as a plain index when epochAsDate is false (the undated path)', () => {
    const base: CountSeries = { observed: [...sim.observed], freq: 52, start: sim.start, range };
    const indexEpoch = sim.observed.map((_, i) => i + 1);
    for (const [, detector, control] of detectorCases) {
      expect(detector({ ...base, epochAsDate: false, epoch: indexEpoch }, control)).toEqual(detector(base, control));
    }
  });

  it('differs from the index-based baseline on these series (the fixtures test the date rule)', () => {
    const s = asCountSeries(sim, range);
    const undated: CountSeries = { observed: s.observed, freq: 52, start: s.start, range };
    const byDate = farrington(s, { b: 5, w: 3 });
    const byIndex = farrington(undated, { b: 5, w: 3 });
    const differing = range.filter((k) => Math.abs((byDate.upperbound[k - 1] ?? 0) - (byIndex.upperbound[k - 1] ?? 0)) > 1e-6);
    expect(differing.length).toBeGreaterThan(range.length / 2);
  });
});
