/**
 * Worker thread of the programmes' full recompute (started by recompute.ts): decodes a range's
 * persons and facts, derives their enrolments, summaries and items, and returns them as COPY
 * text, so that the thread holding the database (on PGlite, the server's) only runs SQL.
 */
import { parentPort } from 'node:worker_threads';
import { deriveRange, type DeriveContext, type DerivedRange } from './recompute-derive.js';

export type WorkerRequest = { type: 'context'; context: DeriveContext } | { type: 'range'; id: number; texts: string[] };
export type WorkerReply = { id: number; result?: DerivedRange; error?: string };

let context: DeriveContext | undefined;
parentPort!.on('message', (m: WorkerRequest) => {
  if (m.type === 'context') {
    context = m.context;
    return;
  }
  deriveRange(m.texts, context!).then(
    (result) => parentPort!.postMessage({ id: m.id, result } satisfies WorkerReply),
    (e: unknown) =>
      parentPort!.postMessage({ id: m.id, error: e instanceof Error ? (e.stack ?? e.message) : String(e) } satisfies WorkerReply),
  );
});
