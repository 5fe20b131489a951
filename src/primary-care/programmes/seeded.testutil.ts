import { expect } from 'vitest';
import type { TestServer } from '../../app/test-stores.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The programme tests' two calls on a test server: a GET that must answer 200, and a transaction Bundle of PUTs that must commit. */
export function districtApi(server: () => TestServer): {
  get: (p: string) => Promise<Json>;
  transaction: (entries: Json[]) => Promise<void>;
} {
  return {
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
  };
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
