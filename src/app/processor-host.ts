/**
 * The processor thread (worker side): opens its own PostgreSQL pool, builds every module's
 * change-log processors and runs them, answering the main thread's requests (see
 * processor-thread.ts for the protocol and why).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadDefinitions } from '../fhir/definitions.js';
import { FhirRepository } from '../fhir/repository.js';
import { loadModules } from './modules.js';
import { openDatabase } from '../platform/db.js';
import type { HostReply, HostRequest, ProcessorThreadData } from './processor-thread.js';
import { ProcessorRunner } from '../platform/processors.js';

const port = parentPort!;
const data = workerData as ProcessorThreadData;
const send = (m: HostReply) => port.postMessage(m);

async function init(): Promise<{ runner: ProcessorRunner; close: () => Promise<void> }> {
  loadDefinitions();
  const modules = await loadModules();
  const db = await openDatabase({ databaseUrl: data.databaseUrl, poolSize: data.poolSize });
  const repo = new FhirRepository(db);
  const runner = new ProcessorRunner(db);
  const emit = (event: string, payload: unknown) => send({ type: 'event', event, payload });
  for (const m of modules) for (const p of m.processors?.({ db, repo, emit }) ?? []) runner.add(p);
  return { runner, close: () => db.close() };
}

const ready = init();
ready.then(
  () => send({ type: 'ready' }),
  (e: Error) => send({ type: 'failed', message: e.stack ?? e.message }),
);

port.on('message', (req: HostRequest) => {
  void (async () => {
    try {
      const { runner, close } = await ready;
      let value: unknown;
      if (req.op === 'start') runner.start();
      else if (req.op === 'poke') runner.poke();
      else if (req.op === 'stop') await runner.stop();
      else if (req.op === 'drain') await runner.drain();
      else if (req.op === 'lag') value = await runner.lag();
      else if (req.op === 'lags') value = await runner.lags();
      else if (req.op === 'close') {
        await runner.stop();
        await close();
      }
      if (req.id !== undefined) send({ type: 'reply', id: req.id, value });
      if (req.op === 'close') port.close();
    } catch (e) {
      if (req.id !== undefined) send({ type: 'reply', id: req.id, error: (e as Error).message });
    }
  })();
});
