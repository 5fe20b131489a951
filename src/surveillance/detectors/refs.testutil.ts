/**
 * Test helpers: load the R `surveillance` reference outputs (../shared/surveillance-refs) and
 * compare a detector result with one (alarms identical, upper bounds within a tolerance).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { CountSeries, DetectorResult } from './types.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const refDir = path.resolve(repoRoot, '../shared/surveillance-refs');

export interface RefFile extends CountSeries {
  method: string;
  params: string;
  alarm: (number | null)[];
  upperbound: (number | null)[];
  extra?: Record<string, unknown>;
}

export function refFiles(pattern: RegExp): string[] {
  return readdirSync(refDir)
    .filter((f) => pattern.test(f))
    .sort();
}

export function loadRef(name: string): RefFile {
  return JSON.parse(readFileSync(path.join(refDir, name), 'utf8')) as RefFile;
}

/** Asserts identical alarms and upper bounds within `tol` (null exactly where the reference has null); returns the largest difference. */
export function expectMatchesRef(ref: RefFile, got: DetectorResult, tol = 1e-9): number {
  expect(got.alarm.length).toBe(ref.observed.length);
  expect(got.upperbound.length).toBe(ref.observed.length);
  let maxDiff = 0;
  for (let i = 0; i < ref.observed.length; i++) {
    const a = ref.alarm[i];
    expect(got.alarm[i], `alarm at time point ${i + 1}`).toBe(a === null || a === undefined ? null : Boolean(a));
    const u = ref.upperbound[i];
    if (u === null || u === undefined) {
      expect(got.upperbound[i], `upperbound at time point ${i + 1}`).toBeNull();
    } else {
      const g = got.upperbound[i];
      expect(g, `upperbound at time point ${i + 1}`).not.toBeNull();
      maxDiff = Math.max(maxDiff, Math.abs((g as number) - u));
    }
  }
  expect(maxDiff).toBeLessThan(tol);
  return maxDiff;
}
