/**
 * The CPU half of an import, on a worker thread: parse, validate and encode a chunk of NDJSON
 * lines, or a Bundle file's text, into COPY lines (a Bundle with conditional entries is handed
 * back to the main thread, which can look them up). Modules register their resource checks
 * (registerResourceCheck, e.g. the ConceptMap mapping rules) on the main thread only, so resources
 * of the types the request names as checked there are handed back too, to be prepared where the
 * checks run: NDJSON lines by their index, Bundle entries as their rewritten JSON. The main thread keeps reading the file and writing the previous batch
 * (on PGlite the database itself runs on the main thread, so this is where a second core helps).
 * Rows come back in one transferred buffer (RowPacker, prepare-pool.ts), so nothing is copied on the way.
 */
import { parentPort } from 'node:worker_threads';
import { loadDefinitions } from './definitions.js';
import { parseBundleText, prepareBundle, prepareNdjsonLineOffThread } from './import.js';
import { packRows, RowPacker, type BundleRequest, type PrepareReply, type PrepareRequest } from './prepare-pool.js';

loadDefinitions();

async function prepareBundleText(req: BundleRequest): Promise<[PrepareReply, ArrayBuffer[]]> {
  try {
    const prepared = await prepareBundle(parseBundleText(req.text), req.file, 0, true, new Set(req.mainThreadTypes));
    // Conditional entries need the database: the main thread prepares those Bundles itself.
    if (!prepared.rows) return packRows(req.id, [], [], { fallback: true });
    return packRows(req.id, prepared.rows, [], prepared.deferred ? { deferredEntries: prepared.deferred } : {});
  } catch (e) {
    return packRows(req.id, [], [], { error: (e as Error).message });
  }
}

parentPort!.on('message', async (req: PrepareRequest | BundleRequest) => {
  if ('text' in req) {
    const [reply, transfer] = await prepareBundleText(req);
    parentPort!.postMessage(reply, transfer);
    return;
  }
  const errors: PrepareReply['errors'] = [];
  const deferred: number[] = [];
  const mainThreadTypes = new Set(req.mainThreadTypes);
  // A resource's COPY lines take about twice its text's length in UTF-8 (the content, its search
  // columns and prefix rows): room for that from the start, so the buffer rarely has to grow.
  let chars = 0;
  for (const line of req.lines) chars += line.length;
  const packer = new RowPacker(chars * 2);
  for (let i = 0; i < req.lines.length; i++) {
    try {
      const row = prepareNdjsonLineOffThread(req.lines[i]!, req.lastUpdated, mainThreadTypes);
      if (row) packer.add(row);
      else deferred.push(i);
    } catch (err) {
      errors.push({ line: req.lineNumbers[i]!, message: (err as Error).message });
    }
  }
  const [reply, transfer] = packer.finish(req.id, errors, deferred.length ? { deferred } : {});
  parentPort!.postMessage(reply, transfer);
});
