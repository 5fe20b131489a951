/**
 * A record a processor cannot handle is retried alone with backoff, then parked with its error,
 * while every other change goes on being processed; a fixed record supersedes it, and a parked
 * change can be replayed.
 */
import { describe, expect, it } from 'vitest';
import { loadDefinitions } from '../fhir/definitions.js';
import { FhirRepository } from '../fhir/repository.js';
import { freshDatabase, storeKinds } from '../app/testing.js';
import { ProcessorRunner, type PoisonPolicy } from './processors.js';
import { listProcessorDeadLetters, replayProcessorDeadLetter } from './processor-dead-letters.js';

const fast: PoisonPolicy = { maxAttempts: 3, firstRetryMs: 50, retriesPerStep: 50, checkEveryMs: 0 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(storeKinds())('poison records [%s]', (kind) => {
  it('parks the bad change after bounded retries and never stalls the others', async () => {
    loadDefinitions();
    const db = await freshDatabase(kind);
    try {
      const repo = new FhirRepository(db);
      const seen: string[] = [];
      let attempts = 0;
      const runner = new ProcessorRunner(db, 20, 0, fast);
      runner.add({
        name: 'test-poison',
        types: ['Patient'],
        handle: async (changes, client) => {
          for (const c of changes) {
            if ((c.resource as { gender?: string } | null)?.gender === 'unknown') {
              attempts++;
              // A failing statement aborts the transaction: the savepoint must undo it.
              await client.query('SELECT 1/0');
            }
          }
          seen.push(...changes.map((c) => c.id));
        },
      });
      await repo.update('Patient', 'good-1', { resourceType: 'Patient', id: 'good-1' });
      await repo.update('Patient', 'bad', { resourceType: 'Patient', id: 'bad', gender: 'unknown' });
      await repo.update('Patient', 'good-2', { resourceType: 'Patient', id: 'good-2' });
      runner.start();
      const deadline = Date.now() + 20_000;
      let parked: Awaited<ReturnType<typeof listProcessorDeadLetters>>['rows'] = [];
      while (Date.now() < deadline) {
        parked = (await listProcessorDeadLetters(db.pool, { status: 'parked' })).rows;
        if (parked.length) break;
        await sleep(50);
      }
      expect(seen).toEqual(expect.arrayContaining(['good-1', 'good-2']));
      expect(seen).not.toContain('bad');
      expect(parked).toHaveLength(1);
      expect(parked[0]).toMatchObject({
        processor: 'test-poison',
        resourceType: 'Patient',
        resourceId: 'bad',
        attempts: 3,
        status: 'parked',
      });
      expect(parked[0]!.error).toMatch(/division by zero/);
      expect(attempts).toBe(1 + 3); // once in the batch's isolation pass, then alone until parked

      // Later writes still flow.
      await repo.update('Patient', 'good-3', { resourceType: 'Patient', id: 'good-3' });
      runner.poke();
      while (!seen.includes('good-3') && Date.now() < deadline) await sleep(20);
      expect(seen).toContain('good-3');

      // Replay of a record fixed since: the later version was handled, so the parked one is moot.
      await repo.update('Patient', 'bad', { resourceType: 'Patient', id: 'bad', gender: 'female' });
      runner.poke();
      while (!seen.includes('bad') && Date.now() < deadline) await sleep(20);
      const replay = await replayProcessorDeadLetter(db.pool, 'test-poison', parked[0]!.seq, 'admin');
      expect(replay).toBe(true);
      while (Date.now() < deadline) {
        const rows = (await listProcessorDeadLetters(db.pool, {})).rows;
        if (rows[0]?.status === 'superseded') break;
        await sleep(50);
      }
      expect((await listProcessorDeadLetters(db.pool, {})).rows[0]).toMatchObject({ status: 'superseded', replayedBy: 'admin' });
      await runner.stop();
    } finally {
      await db.dispose();
    }
  });
});
