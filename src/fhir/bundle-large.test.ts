/**
 * A transaction Bundle of 10,000 entries: taken over REST within the body limit and stored whole,
 * and never held twice on the way: the parsed Bundle is rewritten where it stands (no copy of its
 * resources) and its rows go to the database in slices, no statement carrying more than a small
 * part of it.
 */
import { expect, it } from 'vitest';
import type pg from 'pg';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { describeEachStore, freshDatabase, storeKinds } from '../app/testing.js';
import type { Database } from '../platform/db.js';
import { processBundle } from './bundle.js';
import { loadDefinitions } from './definitions.js';
import { FhirRepository } from './repository.js';

/** 2,000 residents, each with four observations pointing at them by urn:uuid: 10,000 entries. */
function bigBundle(tag: string): Bundle {
  const entry: BundleEntry[] = [];
  for (let p = 0; p < 2000; p++) {
    const fullUrl = `urn:uuid:${tag}-0000-4000-8000-${String(p).padStart(12, '0')}`;
    entry.push({
      fullUrl,
      resource: { resourceType: 'Patient', name: [{ text: `${tag} ${p}` }], gender: p % 2 ? 'female' : 'male' },
      request: { method: 'POST', url: 'Patient' },
    });
    for (let o = 0; o < 4; o++)
      entry.push({
        resource: {
          resourceType: 'Observation',
          status: 'final',
          code: { coding: [{ system: 'http://loinc.org', code: '8310-5' }], text: tag },
          subject: { reference: fullUrl },
          valueQuantity: { value: 36 + o / 10, unit: 'Cel' },
        },
        request: { method: 'POST', url: 'Observation' },
      });
  }
  return { resourceType: 'Bundle', type: 'transaction', entry };
}

describeEachStore('a transaction Bundle of 10,000 entries', (server) => {
  it('is stored whole through POST /fhir within the body limit', async () => {
    const body = JSON.stringify(bigBundle('b16a7e00'));
    expect(body.length).toBeLessThan(32 * 1024 * 1024);
    const res = await server().api('/fhir', { method: 'POST', body });
    expect(res.status, (await res.clone().text()).slice(0, 300)).toBe(200);
    const out = (await res.json()) as Bundle;
    expect(out.entry).toHaveLength(10_000);
    expect(out.entry!.every((e) => e.response?.status === '201 Created')).toBe(true);
    const count = async (q: string) => ((await (await server().api(`/fhir/${q}&_summary=count`)).json()) as Bundle).total;
    expect(await count('Patient?name=b16a7e00')).toBe(2000);
    expect(await count('Observation?code=http://loinc.org|8310-5')).toBe(8000);
  }, 120_000);
});

for (const kind of storeKinds()) {
  it(`holds a 10,000-entry Bundle once and writes it in slices [${kind}]`, async () => {
    loadDefinitions();
    const db = await freshDatabase(kind);
    try {
      // Every statement and COPY the Bundle's transaction sends, by size.
      const sizes: number[] = [];
      const measure = (text: unknown, params?: unknown[]) =>
        (typeof text === 'string' ? text.length : 0) +
        (params ? params.reduce<number>((n, p) => n + JSON.stringify(p ?? null).length, 0) : 0);
      const watched: Database = {
        ...db,
        copyFrom: (client, table, columns, data) => {
          sizes.push(data.length);
          return db.copyFrom(client, table, columns, data);
        },
        transaction: (fn) =>
          db.transaction((client) =>
            fn(
              new Proxy(client, {
                get(target, prop, receiver) {
                  if (prop !== 'query') return Reflect.get(target, prop, receiver) as unknown;
                  return (text: unknown, params?: unknown[]) => {
                    sizes.push(measure(text, params));
                    return (target.query as (t: unknown, p?: unknown[]) => Promise<pg.QueryResult>)(text, params);
                  };
                },
              }),
            ),
          ),
      };
      const bundle = bigBundle('c0ffee00');
      const bundleChars = JSON.stringify(bundle).length;
      const resources = bundle.entry!.map((e) => e.resource!);
      const out = await processBundle(new FhirRepository(watched), bundle, 'http://test/fhir', { consume: true });
      expect(out.entry).toHaveLength(10_000);

      // Taken over, not copied: the objects sent are the ones rewritten, with their references resolved.
      expect(bundle.entry!.every((e, i) => e.resource === resources[i])).toBe(true);
      const firstPatient = out.entry![0]!.response!.location!.split('/_history')[0];
      expect((resources[1] as Resource & { subject: { reference: string } }).subject.reference).toBe(firstPatient);

      // Written in slices: no statement carries more than a fraction of the Bundle (SQL literals
      // take about three times the characters of the JSON they come from; 1,000 rows a slice).
      expect(Math.max(...sizes)).toBeLessThan(bundleChars / 2);
      expect(sizes.filter((n) => n > bundleChars / 20).length).toBeGreaterThanOrEqual(10);
      const stored = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM resource_history WHERE resource_type IN ('Patient', 'Observation')`,
      );
      expect(stored.rows[0]!.n).toBe(10_000);
    } finally {
      await db.dispose();
    }
  }, 120_000);
}
