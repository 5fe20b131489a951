/**
 * On PostgreSQL the change-log processors run in their own thread: derived data still follows
 * every write, their events reach the main thread, and a thread that cannot start leaves the
 * processors running on the main thread.
 */
import type { Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { loadDefinitions } from '../fhir/definitions.js';
import { FhirRepository } from '../fhir/repository.js';
import { loadModules } from './modules.js';
import type { YifangModule } from '../platform/module.js';
import { ProcessorHub } from './processor-thread.js';
import { freshDatabase, storeKinds } from './testing.js';

describe.runIf(storeKinds().includes('postgres'))('the processor thread [postgres]', () => {
  it('links a new Patient to a Person from the thread and passes its events to the main thread', async () => {
    loadDefinitions();
    const db = await freshDatabase('postgres');
    const events: [string, unknown][] = [];
    const hub = new ProcessorHub({
      db,
      repo: new FhirRepository(db),
      modules: await loadModules(),
      thread: true,
      onEvent: (e, p) => events.push([e, p]),
      log: () => undefined,
    });
    try {
      expect(hub.where).toBe('thread');
      const repo = new FhirRepository(db);
      const patient: Patient = {
        resourceType: 'Patient',
        id: 'thread-p1',
        name: [{ text: '张三' }],
        gender: 'male',
        birthDate: '1980-01-02',
      };
      await repo.update('Patient', 'thread-p1', patient);
      await repo.update('Encounter', 'thread-e1', {
        resourceType: 'Encounter',
        id: 'thread-e1',
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
        subject: { reference: 'Patient/thread-p1' },
        period: { start: '2026-11-20T09:00:00+08:00' },
        reasonCode: [{ text: '发热 咳嗽' }],
      });
      await hub.drain();
      expect(await hub.lag()).toBe(0);
      const person = await db.query<{ person_id: string }>('SELECT person_id FROM mpi_record WHERE patient_id = $1', ['thread-p1']);
      expect(person.rows).toHaveLength(1);
      // The visit's counts changed in the thread; the surveillance engine (main thread) heard of it.
      expect(events.some(([e]) => e === 'surveillance:counts-touched')).toBe(true);
    } finally {
      await hub.close();
      await db.dispose();
    }
  }, 60_000);

  it('runs the processors on the main thread when the thread cannot open the database', async () => {
    loadDefinitions();
    const db = await freshDatabase('postgres');
    const seen: string[] = [];
    const probe: YifangModule = {
      name: 'probe',
      register: async () => undefined,
      processors: () => [{ name: 'probe', types: ['Patient'], handle: async (changes) => void seen.push(...changes.map((c) => c.id)) }],
    };
    const good = db.url!;
    db.url = good.replace(/\/[^/]*$/, '/yifang_no_such_database');
    const logged: string[] = [];
    const hub = new ProcessorHub({
      db,
      repo: new FhirRepository(db),
      modules: [probe],
      thread: true,
      onEvent: () => undefined,
      log: (m) => logged.push(m),
    });
    try {
      await new FhirRepository(db).update('Patient', 'fallback-p1', { resourceType: 'Patient', id: 'fallback-p1' });
      // The drain asked of the failing thread is carried out here instead.
      await hub.drain();
      expect(hub.where).toBe('main');
      expect(seen).toEqual(['fallback-p1']);
      expect(logged.join('\n')).toMatch(/could not start/);
    } finally {
      db.url = good;
      await hub.close();
      await db.dispose();
    }
  }, 60_000);
});
