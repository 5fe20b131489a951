/**
 * What a processor does when the log holds only changes of types it does not want (the audit
 * trail's AuditEvents, written on every request): it moves its cursor past them in one step and
 * waits for the next poll, instead of stepping again after the short settle pause meant for
 * bursts of its own types. And on PGlite a step waits for requests in flight (afterRequests).
 */
import { describe, expect, it } from 'vitest';
import { FhirRepository } from '../fhir/repository.js';
import { loadDefinitions } from '../fhir/definitions.js';
import { POISON, ProcessorRunner } from './processors.js';
import { afterRequests, enterForeground, type Database } from './db.js';
import { freshDatabase, storeKinds } from '../app/testing.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function until(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(20);
  }
}

describe.each(storeKinds())('processor idle steps [%s]', (kind) => {
  it('passes over other types in one step, then waits for the poll; its own types still settle', async () => {
    loadDefinitions();
    const db = await freshDatabase(kind);
    try {
      const repo = new FhirRepository(db);
      let steps = 0;
      // The runner's transactions, counted (a step, or a look at failed changes).
      const counted = Object.create(db) as Database;
      counted.transaction = (fn) => {
        steps++;
        return db.transaction(fn);
      };
      const handled: string[] = [];
      // Failed changes looked at once, at the first step only (so the count is of steps).
      const runner = new ProcessorRunner(counted, 60_000, 200, { ...POISON, checkEveryMs: 1e12 });
      runner.add({ name: 'test-idle', types: ['Patient'], handle: async (changes) => void handled.push(...changes.map((c) => c.id)) });
      runner.start();
      try {
        // The first step finds nothing (and looks at failed changes once): then the loop sleeps for the poll.
        await until(() => steps >= 2);
        await sleep(300);
        const idle = steps;
        for (let i = 0; i < 5; i++)
          await repo.update('Observation', `obs-${i}`, {
            resourceType: 'Observation',
            id: `obs-${i}`,
            status: 'final',
            code: { text: 'x' },
          });
        runner.poke();
        const cursorAt = async () =>
          (await db.query<{ last_seq: number }>(`SELECT last_seq FROM processor_cursor WHERE processor = 'test-idle'`)).rows[0]!.last_seq;
        const maxSeq = async () => (await db.query<{ m: number }>('SELECT max(seq)::int AS m FROM resource_history')).rows[0]!.m;
        const top = await maxSeq();
        await until(async () => (await cursorAt()) >= top);
        await sleep(800);
        // One step passed over the five Observations; no settle step after it.
        expect(steps - idle).toBe(1);
        expect(handled).toEqual([]);

        await repo.update('Patient', 'p-1', { resourceType: 'Patient', id: 'p-1' });
        const before = steps;
        runner.poke();
        await until(() => handled.includes('p-1'));
        await sleep(600);
        // Its own type: the step that handled it, and one more after the settle pause (which found nothing).
        expect(steps - before).toBe(2);
      } finally {
        await runner.stop();
      }
    } finally {
      await db.dispose();
    }
  });
});

describe.runIf(storeKinds().includes('pglite'))('afterRequests [pglite]', () => {
  it('waits while a request is in flight, and at most the wait limit', async () => {
    const db = await freshDatabase('pglite');
    try {
      await afterRequests(db);
      const leave = enterForeground(db);
      let done = false;
      const waiting = afterRequests(db).then(() => (done = true));
      await sleep(30);
      expect(done).toBe(false);
      leave();
      await waiting;
      expect(done).toBe(true);

      // A request that never ends holds a step back by the limit only.
      const stuck = enterForeground(db);
      const t0 = performance.now();
      await afterRequests(db);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(90);
      stuck();
    } finally {
      await db.dispose();
    }
  });
});
