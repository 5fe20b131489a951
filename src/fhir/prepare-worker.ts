/**
 * The CPU half of an import, on a worker thread: parse, validate and encode a chunk of NDJSON
 * lines, or a Bundle file's text, into COPY lines (a Bundle with conditional entries is handed
 * back to the main thread, which can look them up). Modules register their resource checks
 * (registerResourceCheck, e.g. the ConceptMap mapping rules) on the main thread only, so resources
 * of the types the request names as checked there are handed back too, to be prepared where the
 * checks run: NDJSON lines by their index, Bundle entries as their rewritten JSON. The main thread keeps reading the file and writing the previous batch
 * (on PGlite the database itself runs on the main thread, so this is where a second core helps).
 * Rows come back in one transferred buffer, so nothing is copied on the way.
 */
import { parentPort } from 'node:worker_threads';
import type { BulkRow, CopyText } from './bulk-write.js';
import { loadDefinitions } from './definitions.js';
import { parseBundleText, prepareBundle, prepareNdjsonLineOffThread } from './import.js';
import type { BundleRequest, PrepareReply, PrepareRequest } from './prepare-pool.js';

loadDefinitions();

/** Rows in one buffer, handed over rather than copied. */
function pack(
  id: number,
  prepared: BulkRow[],
  errors: PrepareReply['errors'],
  extra: Partial<PrepareReply> = {},
): [PrepareReply, ArrayBuffer[]] {
  const parts: Buffer[] = [];
  const rows: PrepareReply['rows'] = [];
  let offset = 0;
  const put = (line: CopyText | undefined): [number, number] => {
    if (!line) return [0, -1];
    const b = typeof line === 'string' ? Buffer.from(line) : line;
    parts.push(b);
    offset += b.length;
    return [offset - b.length, b.length];
  };
  for (const row of prepared) rows.push([row.def.type, row.id, ...put(row.typeLine), ...put(row.historyLine), ...put(row.prefixLines)]);
  const buffer = Buffer.concat(parts, offset);
  // Handed over rather than copied when the batch has an ArrayBuffer of its own (any batch over
  // 4 kB: smaller ones come from Node's shared pool and are copied out of it).
  const own = buffer.byteOffset === 0 && buffer.length === buffer.buffer.byteLength;
  const ab = (own ? buffer.buffer : buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.length)) as ArrayBuffer;
  return [{ id, buffer: ab, rows, errors, ...extra }, [ab]];
}

async function prepareBundleText(req: BundleRequest): Promise<[PrepareReply, ArrayBuffer[]]> {
  try {
    const prepared = await prepareBundle(parseBundleText(req.text), req.file, 0, true, new Set(req.mainThreadTypes));
    // Conditional entries need the database: the main thread prepares those Bundles itself.
    if (!prepared.rows) return pack(req.id, [], [], { fallback: true });
    return pack(req.id, prepared.rows, [], prepared.deferred ? { deferredEntries: prepared.deferred } : {});
  } catch (e) {
    return pack(req.id, [], [], { error: (e as Error).message });
  }
}

parentPort!.on('message', async (req: PrepareRequest | BundleRequest) => {
  if ('text' in req) {
    const [reply, transfer] = await prepareBundleText(req);
    parentPort!.postMessage(reply, transfer);
    return;
  }
  const prepared: BulkRow[] = [];
  const errors: PrepareReply['errors'] = [];
  const deferred: number[] = [];
  const mainThreadTypes = new Set(req.mainThreadTypes);
  for (let i = 0; i < req.lines.length; i++) {
    try {
      const row = prepareNdjsonLineOffThread(req.lines[i]!, req.lastUpdated, mainThreadTypes);
      if (row) prepared.push(row);
      else deferred.push(i);
    } catch (err) {
      errors.push({ line: req.lineNumbers[i]!, message: (err as Error).message });
    }
  }
  const [reply, transfer] = pack(req.id, prepared, errors, deferred.length ? { deferred } : {});
  parentPort!.postMessage(reply, transfer);
});
