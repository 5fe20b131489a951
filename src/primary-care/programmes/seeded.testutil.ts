import { expect } from 'vitest';
import type { TestServer } from '../../app/test-stores.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * The programme tests' calls on a test server: a GET that must answer 200, a transaction Bundle of
 * PUTs that must commit, and a whole district written as Bundles of 250 (its organisations first)
 * with the processors then run to the end of the log.
 */
export interface DistrictApi {
  get: (p: string) => Promise<Json>;
  transaction: (entries: Json[]) => Promise<void>;
  /** A district: its centres (id → name) as Organizations, then its resources. */
  writeDistrict: (organizations: Record<string, string>, resources: Json[]) => Promise<void>;
}

export function districtApi(server: () => TestServer): DistrictApi {
  const api: DistrictApi = {
    get: async (p) => {
      const res = await server().api(p);
      expect(res.status, `${p}: ${res.status}`).toBe(200);
      return (await res.json()) as Json;
    },
    transaction: async (entries) => {
      const res = await server().api('/fhir', {
        method: 'POST',
        body: JSON.stringify({
          resourceType: 'Bundle',
          type: 'transaction',
          entry: entries.map((r) => ({ resource: r, request: { method: 'PUT', url: `${r.resourceType}/${r.id}` } })),
        }),
      });
      expect(res.status, await res.clone().text()).toBe(200);
    },
    writeDistrict: async (organizations: Record<string, string>, resources: Json[]) => {
      await api.transaction(Object.entries(organizations).map(([id, name]) => ({ resourceType: 'Organization', id, name })));
      for (let k = 0; k < resources.length; k += 250) await api.transaction(resources.slice(k, k + 250));
      await server().processors.drain();
    },
  };
  return api;
}

/**
 * An indicators answer (`/api/programmes/{code}/indicators`) against reference figures counted
 * without the engine: each indicator's groups with numerator and denominator exactly, and every
 * value the rate to one decimal (null when the denominator is 0).
 */
export function expectFigures(body: Json, expected: Record<string, { group: string; numerator: number; denominator: number }[]>): void {
  for (const [code, rows] of Object.entries(expected)) {
    const got = body.values
      .filter((v: Json) => v.indicator === code)
      .map((v: Json) => ({ group: v.group, numerator: v.numerator, denominator: v.denominator }));
    expect(got, code).toEqual(rows);
    for (const v of body.values.filter((x: Json) => x.indicator === code))
      expect(v.value).toBe(v.denominator ? Math.round((v.numerator / v.denominator) * 1000) / 10 : null);
  }
}

/** A seeded generator (mulberry32) for the programme tests' residents: the same seed, the same district. */
export function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A test district's seeded draws (the same seed, the same residents and records): `rand`, and on
 * it `pick`, `chance`, `between` (whole numbers, both ends in), `day` (a day ≤ 28 of a month, so
 * month arithmetic never clamps) and `anyDay` (of a year). Each draw takes the generator's next
 * numbers in the order the call makes them.
 */
export function draws(seed: number) {
  const rand = rng(seed);
  const between = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const day = (y: number, m: number) => `${y}-${String(m).padStart(2, '0')}-${String(between(1, 28)).padStart(2, '0')}`;
  return {
    rand,
    pick: <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!,
    chance: (p: number) => rand() < p,
    between,
    day,
    anyDay: (y: number) => day(y, between(1, 12)),
  };
}

// ---- dates by hand, for references made without the engine (days ≤ 28: months never clamp) ----

export const plusDays = (d: string, n: number): string => {
  const t = new Date(`${d}T00:00:00Z`);
  t.setUTCDate(t.getUTCDate() + n);
  return t.toISOString().slice(0, 10);
};
export const plusMonths = (d: string, n: number): string => {
  const [y, m, day] = d.split('-').map(Number) as [number, number, number];
  const total = y * 12 + m - 1 + n;
  return `${Math.floor(total / 12)}-${String((total % 12) + 1).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
};
export const plusYears = (d: string, n: number): string => `${Number(d.slice(0, 4)) + n}${d.slice(4)}`;
export const later = (a: string, b: string): string => (a > b ? a : b);
