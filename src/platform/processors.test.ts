/**
 * Change-log processors see every committed write exactly as it commits, including a write whose
 * sequence number was taken before a later one that committed first.
 */
import { describe, expect, it } from 'vitest';
import { FhirRepository } from '../fhir/repository.js';
import { loadDefinitions } from '../fhir/definitions.js';
import { ProcessorRunner, subtractSeqs } from './processors.js';
import { freshDatabase, storeKinds } from '../app/testing.js';

it('subtracts found sequence numbers from gap ranges', () => {
  expect(subtractSeqs([[5, 9, 1]], [5, 7])).toEqual([
    [6, 6, 1],
    [8, 9, 1],
  ]);
  expect(
    subtractSeqs(
      [
        [5, 5, 1],
        [10, 12, 2],
      ],
      [5, 12],
    ),
  ).toEqual([[10, 11, 2]]);
  expect(subtractSeqs([[5, 9, 1]], [])).toEqual([[5, 9, 1]]);
});

// Two transactions in flight at once need a server; PGlite is one session.
describe.runIf(storeKinds().includes('postgres'))('processors and late commits [postgres]', () => {
  it('a write that commits after a later-numbered one is still processed', async () => {
    loadDefinitions();
    const db = await freshDatabase('postgres');
    try {
      const repo = new FhirRepository(db);
      const seen: string[] = [];
      const runner = new ProcessorRunner(db);
      runner.add({ name: 'test-late', types: ['Patient'], handle: async (changes) => void seen.push(...changes.map((c) => c.id)) });
      // A takes its sequence number first but commits last.
      let releaseA!: () => void;
      const aHolding = new Promise<void>((r) => (releaseA = r));
      let aWrote!: () => void;
      const aHasWritten = new Promise<void>((r) => (aWrote = r));
      const a = db.transaction(async (client) => {
        await repo.update('Patient', 'late-a', { resourceType: 'Patient', id: 'late-a' }, {}, client);
        aWrote();
        await aHolding;
      });
      await aHasWritten;
      await repo.update('Patient', 'late-b', { resourceType: 'Patient', id: 'late-b' });
      await runner.drain();
      expect(seen).toEqual(['late-b']);
      releaseA();
      await a;
      await runner.drain();
      expect(seen).toEqual(['late-b', 'late-a']);
      const gaps = await db.query<{ gaps: unknown[] }>(`SELECT gaps FROM processor_cursor WHERE processor = 'test-late'`);
      expect(gaps.rows[0]!.gaps).toEqual([]);
    } finally {
      await db.dispose();
    }
  });
});

describe.runIf(storeKinds().includes('pglite'))('processors and the event loop [pglite]', () => {
  it('timers and sockets get their turn while four processors work through a backlog', async () => {
    loadDefinitions();
    const db = await freshDatabase('pglite');
    const runner = new ProcessorRunner(db);
    try {
      const repo = new FhirRepository(db);
      await db.transaction(async (client) => {
        for (let i = 0; i < 1500; i++) await repo.update('Patient', `loop-${i}`, { resourceType: 'Patient', id: `loop-${i}` }, {}, client);
      });
      let handled = 0;
      for (const name of ['a', 'b', 'c', 'd']) {
        runner.add({
          name: `test-loop-${name}`,
          types: ['Patient'],
          handle: async (changes, client) => {
            for (const _ of changes) await client.query('SELECT 1');
            handled += changes.length;
          },
        });
      }
      runner.start();
      // PGlite answers in-process: without a yield between steps, promise would follow promise and
      // this timer (like the HTTP listener on start-up) would wait until every processor was done.
      const handledWhenTimerRan = await new Promise<number>((resolve) => setTimeout(() => resolve(handled), 0));
      expect(handledWhenTimerRan).toBeLessThan(4 * 1500);
      await runner.stop();
      await runner.drain();
      expect(handled).toBe(4 * 1500);
    } finally {
      await runner.stop();
      await db.close();
    }
  });
});

describe.runIf(storeKinds().includes('postgres'))('processors and many interleaved writers [postgres]', () => {
  it('sees every change of 24 concurrent writers whose commits interleave out of order', async () => {
    loadDefinitions();
    const db = await freshDatabase('postgres');
    try {
      const repo = new FhirRepository(db);
      const seen = new Set<string>();
      const runner = new ProcessorRunner(db, 10, 0);
      runner.add({ name: 'test-interleaved', types: ['Patient'], handle: async (changes) => void changes.forEach((c) => seen.add(c.id)) });
      runner.start();
      const written: string[] = [];
      const writer = async (w: number) => {
        for (let i = 0; i < 15; i++) {
          const id = `w${w}-${i}`;
          await db.transaction(async (client) => {
            await repo.update('Patient', id, { resourceType: 'Patient', id }, {}, client);
            // Hold the commit a little: later-numbered writes commit first, leaving gaps.
            await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 15)));
          });
          written.push(id);
        }
      };
      await Promise.all(Array.from({ length: 24 }, (_, w) => writer(w)));
      const deadline = Date.now() + 20_000;
      while (seen.size < written.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      await runner.stop();
      expect(written).toHaveLength(360);
      expect([...seen].sort()).toEqual([...written].sort());
      const gaps = await db.query<{ gaps: unknown[] }>(`SELECT gaps FROM processor_cursor WHERE processor = 'test-interleaved'`);
      expect(gaps.rows[0]!.gaps).toEqual([]);
    } finally {
      await db.dispose();
    }
  });
});

describe.each(storeKinds())('lag [%s]', (kind) => {
  it('counts the changes a processor wants and has not handled, not those of types no processor takes', async () => {
    loadDefinitions();
    const db = await freshDatabase(kind);
    try {
      const repo = new FhirRepository(db);
      const runner = new ProcessorRunner(db);
      runner.add({ name: 'lag-patients', types: ['Patient'], handle: async () => undefined });
      runner.add({ name: 'lag-encounters', types: ['Encounter'], handle: async () => undefined });
      await runner.drain();
      expect(await runner.lag()).toBe(0);
      for (let i = 0; i < 3; i++) await repo.update('Patient', `lag-p${i}`, { resourceType: 'Patient', id: `lag-p${i}` });
      await repo.update('Encounter', 'lag-e', {
        resourceType: 'Encounter',
        id: 'lag-e',
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
      });
      // Of a type no processor takes: passed over at the next step, never waited for.
      for (let i = 0; i < 5; i++) await repo.update('Organization', `lag-o${i}`, { resourceType: 'Organization', id: `lag-o${i}` });
      expect(await runner.lag()).toBe(3);
      await runner.drain();
      expect(await runner.lag()).toBe(0);
      await repo.update('Organization', 'lag-o9', { resourceType: 'Organization', id: 'lag-o9' });
      // The cursors are behind the newest entry, and nothing is waiting.
      expect(await runner.lag()).toBe(0);
    } finally {
      await db.dispose();
    }
  });
});
