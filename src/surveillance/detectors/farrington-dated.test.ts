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

function asCountSeries(s: DatedSeries, range: number[]): CountSeries {
  return { observed: [...s.observed], freq: s.freq, start: s.start, range, dates: [...s.dates] };
}

const detectorsByName: Record<DatedRun['method'], Detector> = { farrington, farringtonFlexible };

const runFiles = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.json') && !f.startsWith('series-'))
  .sort();

describe('dated fixtures', () => {
  it('are present (scripts/r-refs/dated-farrington.R)', () => {
    expect(runFiles.length).toBeGreaterThanOrEqual(20);
  });

  it.each(runFiles)('%s: alarms identical, upper bounds within 1e-9 of R', (file) => {
    const run = readJson<DatedRun>(file);
    const s = loadSeries(run.series);
    const range = run.control.range;
    const got = detectorsByName[run.method](asCountSeries(s, range), run.control);
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
