// PGlite on a worker thread (see pglite-thread.ts): opens the store and executes what the main
// thread sends, in the order it arrives. Plain JavaScript, so the thread starts without a loader.
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';

/** A fresh buffer of the parts, never a view of PGlite's own memory (it is handed over to the main thread). */
function concat(parts) {
  let length = 0;
  for (const p of parts) length += p.byteLength;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** What the main thread needs of an error to rebuild it (PostgreSQL's fields included). */
function errorOf(e) {
  const out = { message: String(e?.message ?? e) };
  for (const k of ['name', 'code', 'detail', 'hint', 'position', 'where', 'schema', 'table', 'column', 'constraint', 'severity', 'routine'])
    if (e && e[k] !== undefined) out[k] = e[k];
  return out;
}

const port = parentPort;
let pglite;
try {
  pglite = new PGlite(workerData.dataDir, { startParams: [...PGlite.defaultStartParams, ...workerData.startParams] });
  await pglite.waitReady;
  port.postMessage({ type: 'ready' });
} catch (e) {
  port.postMessage({ type: 'failed', error: errorOf(e) });
}

async function handle(req) {
  try {
    if (req.type === 'protocol') {
      const parts = [];
      // execProtocolRawStream, not execProtocolRaw: the latter also parses every answer into a
      // result list of PGlite's own that only execProtocol empties (PGlite 0.5), so on this
      // thread, which never calls execProtocol, every row ever returned stayed on the heap (the
      // demo's catch-up ran out of memory). Here the raw bytes alone are kept, copied out of
      // PGlite's memory, and node-postgres parses them on the main thread.
      const onRawData = (chunk) => parts.push(chunk.slice());
      for (const m of req.messages) await pglite.execProtocolRawStream(m, { onRawData });
      const data = concat(parts);
      port.postMessage({ id: req.id, data }, [data.buffer]);
    } else if (req.type === 'copyFrom') {
      await pglite.query(req.sql, [], { blob: new Blob([req.data]) });
      port.postMessage({ id: req.id });
    } else if (req.type === 'heap') {
      port.postMessage({ id: req.id, heapUsed: getHeapStatistics().used_heap_size });
    } else if (req.type === 'close') {
      await pglite.close();
      port.postMessage({ id: req.id });
    }
  } catch (e) {
    port.postMessage({ id: req.id, error: errorOf(e) });
  }
}

// One request at a time, in arrival order: PGlite is one session.
let chain = Promise.resolve();
port.on('message', (req) => {
  chain = chain.then(() => handle(req));
});
