/**
 * Receiving and processing hospital CSV uploads. Receiving (in the request) keeps the raw file,
 * decodes it strictly (named or detected encoding, through the feeds capability) and matches its
 * header to the template (the facility's saved mapping, else names and aliases): a file that cannot
 * be decoded, or whose mapping names a column the header lacks, is refused (400) naming the line and
 * bytes or the column, the raw file still kept. Processing runs in the background, in batches of
 * BATCH_ROWS rows: each batch is one FHIR transaction Bundle with its progress counters and dead
 * letters; when a batch fails, its rows are written one by one so one bad row never blocks the
 * others. Resources already holding what a row says are skipped (digest per resource), so a
 * re-upload writes no new version; an interrupted upload resumes after its last committed batch.
 */
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { parse as parseCsv } from 'csv-parse';
import { parse as parseCsvSync } from 'csv-parse/sync';
import type { AuditLog } from '../fhir/audit.js';
import { processTransactionOn } from '../fhir/bundle.js';
import type { FhirRepository } from '../fhir/repository.js';
import { decodeFeed, printable } from '../feeds/index.js';
import { isXlsx, xlsxToCsv } from '../shared/table-file.js';
import type { AuthUser } from '../platform/auth.js';
import { QueryScope, runInQueryScope, type Database, type Queryable } from '../platform/db.js';
import { badRequest, HttpError, notFound } from '../platform/errors.js';
import type { Problem, ReprocessAnswer } from './schemas.js';
import {
  addProgress,
  closeDeadLetter,
  failUpload,
  getDeadLetter,
  getMapping,
  insertDeadLetters,
  insertUpload,
  MAX_PROBLEMS,
  pendingUploadIds,
  saveDigests,
  updateDeadLetterReason,
  uploadShape,
  uploadWork,
  writtenDigests,
  type NewDeadLetter,
  type Progress,
} from './store.js';
import { contentHash, rowToFhir, type PlannedResource, type RowOutcome } from './to-fhir.js';
import { matchHeader, TEMPLATE_DEFS, type TemplateName } from './templates.js';

/** Largest upload (bytes as sent) and most data rows in one file. */
export const MAX_UPLOAD_BYTES = 50 * 1024 * 1024;
export const MAX_UPLOAD_ROWS = 500_000;
/** Rows per batch (one transaction Bundle each). */
export const BATCH_ROWS = 500;
/** Longest cell kept (longer ones are a dead letter naming the column). */
const MAX_CELL_CHARS = 2000;

export interface Deps {
  db: Database;
  repo: FhirRepository;
  audit: AuditLog;
  log?: (msg: string) => void;
  /** True once the server is closing: processing stops after the current batch (the upload resumes on the next start). */
  stopping?: () => boolean;
}

type Auditor = Pick<AuditLog, 'recordNow'>;
const systemUser = (username: string) => ({ username, displayName: username, roles: ['import'] });

// ---------------------------------------------------------------------------------------------
// receiving
// ---------------------------------------------------------------------------------------------

export interface ReceiveInput {
  facility: string;
  template: TemplateName;
  body: Buffer;
  encoding?: string;
  fileName?: string;
  user: AuthUser;
  sourceAddress?: string;
}

const refusal = (status: number, message: string) => new HttpError(status, message, status === 413 ? 'too-costly' : 'invalid');

/** The header cells of a decoded file (its first CSV record). */
function headerOf(text: string): string[] {
  const end = text.search(/\r?\n/);
  const first = end < 0 ? text : text.slice(0, end);
  try {
    const rec = parseCsvSync(first, { relax_quotes: true }) as string[][];
    return (rec[0] ?? []).map((h) => printable(h.trim()));
  } catch {
    return first.split(',').map((h) => printable(h.trim()));
  }
}

/** Data lines (an upper bound: a quoted cell may hold a line break). */
function countLines(text: string): number {
  let n = 0;
  let i = -1;
  while ((i = text.indexOf('\n', i + 1)) >= 0) n++;
  if (text.length && !text.endsWith('\n')) n++;
  return Math.max(0, n - 1);
}

/**
 * Keeps the upload and queues it (202), or keeps it refused and throws 400 (413 over the limits,
 * where nothing is kept; 415 for an encoding name nobody knows).
 */
export async function receiveUpload(deps: Deps, input: ReceiveInput): Promise<{ uploadId: number; rowsTotal: number; encoding: string }> {
  const { db, audit } = deps;
  const { facility, template, user } = input;
  let { body } = input;
  if (!Buffer.isBuffer(body) || body.length === 0)
    throw badRequest('Send the file as the request body (text/csv, an .xlsx workbook, or application/octet-stream)');
  if (body.length > MAX_UPLOAD_BYTES)
    throw refusal(413, `The file is ${(body.length / 1048576).toFixed(1)} MB; one upload may be at most ${MAX_UPLOAD_BYTES / 1048576} MB`);
  // An Excel workbook (.xlsx): its first sheet becomes CSV text (UTF-8) and goes through the same checks; the file name keeps saying .xlsx.
  const excel = isXlsx(body);
  if (excel) {
    try {
      body = Buffer.from(await xlsxToCsv(body), 'utf8');
    } catch (e) {
      throw badRequest(`The file looks like an Excel workbook (.xlsx) but could not be read: ${(e as Error).message}`);
    }
  }
  const named = excel ? 'utf-8' : input.encoding && input.encoding.toLowerCase() !== 'auto' ? input.encoding : undefined;
  const decoded = decodeFeed(body, named);
  const base = { facility, template, fileName: input.fileName, receivedBy: user.username, payload: body };
  const record = (client: Queryable, id: number, outcome: 'success' | 'failure', text?: string) =>
    audit.recordNow(client, {
      user,
      action: 'C',
      subtype: `hospital-feed-${template}`,
      entities: [`hf_upload ${id}`],
      outcome,
      outcomeText: text,
      sourceAddress: input.sourceAddress,
    });
  const refuse = async (message: string, line: number, column: string | undefined, encoding?: string, header?: string[]) => {
    const problems: Problem[] = [{ line, column: column ?? null, message, kind: 'refused' }];
    const id = await db.transaction(async (client) => {
      const id = await insertUpload(client, { ...base, encoding, status: 'refused', error: message, header, rowsTotal: 0, problems });
      await record(client, id, 'failure', message);
      return id;
    });
    throw badRequest(`上传 ${id} 被拒绝 / upload ${id} refused: ${message}`, [
      {
        severity: 'error',
        code: 'invalid',
        diagnostics: message,
        expression: [column ? `line ${line}, column ${column}` : `line ${line}`],
      },
    ]);
  };
  if (!decoded.ok) {
    if (decoded.status === 415) throw new HttpError(415, decoded.message, 'not-supported');
    return refuse(decoded.message, decoded.line ?? 1, undefined);
  }
  const { text, encoding } = decoded;
  const header = headerOf(text);
  if (!header.some((h) => h)) return refuse('文件为空或没有表头 / the file is empty or has no header line', 1, undefined, encoding);
  const rowsTotal = countLines(text);
  if (rowsTotal > MAX_UPLOAD_ROWS)
    throw refusal(413, `The file holds about ${rowsTotal} rows; one upload may hold at most ${MAX_UPLOAD_ROWS}; split it (e.g. by month)`);
  const mapping = await getMapping(db.pool, facility, template);
  const match = matchHeader(template, header, mapping);
  if (!match.ok) return refuse(match.message, 1, match.column, encoding, header);
  const uploadId = await db.transaction(async (client) => {
    const id = await insertUpload(client, { ...base, encoding, status: 'queued', header, columnIndex: match.index, rowsTotal });
    await record(client, id, 'success', `${rowsTotal} rows queued`);
    return id;
  });
  return { uploadId, rowsTotal, encoding };
}

// ---------------------------------------------------------------------------------------------
// writing rows
// ---------------------------------------------------------------------------------------------

interface RowIn {
  line: number;
  text: string;
  outcome: RowOutcome;
}

interface Keyed {
  key: string;
  type: string;
  id: string;
  digest: string;
  planned: PlannedResource;
}

const keyOf = (p: PlannedResource): Keyed => ({
  key: `${p.resource.resourceType}/${p.resource.id}`,
  type: p.resource.resourceType,
  id: p.resource.id,
  digest: p.mode === 'if-absent' ? `stub:${contentHash(p.resource)}` : contentHash(p.resource),
  planned: p,
});

/**
 * Writes the resources of some rows in the caller's transaction: what already holds the same
 * content (or exists, for a stub) is skipped; the rest is one transaction Bundle of PUTs. Returns
 * the keys written and, per row, whether it wrote anything.
 */
async function writeRowsOn(repo: FhirRepository, client: Queryable, rows: { resources: PlannedResource[] }[]) {
  // Last upsert of a resource wins; a stub yields to an upsert and to an earlier stub.
  const chosen = new Map<string, Keyed>();
  const perRow = rows.map((r) => r.resources.map(keyOf));
  for (const list of perRow)
    for (const k of list) {
      const had = chosen.get(k.key);
      if (k.planned.mode === 'if-absent' && had) continue;
      chosen.set(k.key, k);
    }
  const all = [...chosen.values()];
  const stored = await writtenDigests(client, all);
  const toWrite = all.filter((k) => {
    const d = stored.get(k.key);
    if (d === undefined) return true;
    return k.planned.mode === 'upsert' && d !== k.digest;
  });
  if (toWrite.length) {
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: toWrite.map((k): BundleEntry => ({
        fullUrl: `${k.type}/${k.id}`,
        resource: k.planned.resource as Resource,
        request: { method: 'PUT', url: `${k.type}/${k.id}` },
      })),
    };
    await processTransactionOn(repo, client, bundle, '', { consume: true });
    await saveDigests(client, toWrite);
  }
  const written = new Set(toWrite.map((k) => k.key));
  return { written: toWrite.map((k) => k.key), rowWrote: perRow.map((list) => list.some((k) => written.has(k.key))) };
}

const errorText = (e: unknown) => printable(e instanceof Error ? e.message : String(e)).slice(0, 1000);

interface BatchOutcome {
  progress: Omit<Progress, 'rowsRead'>;
  dead: NewDeadLetter[];
}

/**
 * One batch: the good rows as one transaction (with the progress and dead letters), or, when that
 * fails, each good row in its own and then the counts. Dead letters commit with the counts.
 */
async function storeBatch(
  deps: Deps,
  upload: { id: number; facility: string; template: TemplateName; receivedBy: string },
  rows: RowIn[],
  rowsRead: number,
  done: boolean,
  problemRoom: number,
): Promise<number> {
  const { db, repo, audit } = deps;
  const out: BatchOutcome = { progress: { stored: 0, unchanged: 0, dead: 0, flagged: 0, resources: 0, problems: [] }, dead: [] };
  const good = rows.filter((r): r is RowIn & { outcome: Extract<RowOutcome, { ok: true }> } => r.outcome.ok);
  const problem = (p: Problem) => {
    if (out.progress.problems.length < problemRoom) out.progress.problems.push(p);
  };
  const deadRow = (r: RowIn, column: string | undefined, reason: string) => {
    out.dead.push({
      uploadId: upload.id,
      facility: upload.facility,
      template: upload.template,
      line: r.line,
      lineText: r.text,
      column,
      reason,
    });
    out.progress.dead++;
    problem({ line: r.line, column: column ?? null, message: reason, kind: 'dead-letter' });
  };
  for (const r of rows) if (!r.outcome.ok) deadRow(r, r.outcome.column, r.outcome.reason);
  for (const r of good) {
    if (r.outcome.warnings.length) {
      out.progress.flagged++;
      for (const w of r.outcome.warnings) problem({ line: r.line, column: w.column, message: w.message, kind: 'flagged' });
    }
  }
  const finish = (client: Queryable) =>
    insertDeadLetters(client, out.dead).then(() => addProgress(client, upload.id, { ...out.progress, rowsRead }, done));
  const auditBatch = (client: Queryable, written: string[]) =>
    written.length
      ? audit.recordNow(client, {
          user: systemUser(upload.receivedBy),
          action: 'U',
          subtype: 'hospital-feed-rows',
          entities: [`hf_upload ${upload.id}`, ...written.slice(0, 20)],
          outcome: 'success',
          outcomeText: `${written.length} resources written`,
        })
      : Promise.resolve();
  try {
    await db.transaction(async (client) => {
      const w = await writeRowsOn(
        repo,
        client,
        good.map((r) => r.outcome),
      );
      out.progress.stored += good.length;
      out.progress.unchanged += w.rowWrote.filter((x) => !x).length;
      out.progress.resources += w.written.length;
      await auditBatch(client, w.written);
      await finish(client);
    });
    return out.progress.problems.length;
  } catch {
    // One row spoils the Bundle: go row by row so the others are kept.
    out.progress = { ...out.progress, stored: 0, unchanged: 0, resources: 0 };
  }
  for (const r of good) {
    try {
      await db.transaction(async (client) => {
        const w = await writeRowsOn(repo, client, [r.outcome]);
        out.progress.stored++;
        if (!w.rowWrote[0]) out.progress.unchanged++;
        out.progress.resources += w.written.length;
        await auditBatch(client, w.written);
      });
    } catch (e) {
      deadRow(r, undefined, `无法保存 / could not be stored: ${errorText(e)}`);
    }
  }
  await db.transaction(finish);
  return out.progress.problems.length;
}

// ---------------------------------------------------------------------------------------------
// reading rows
// ---------------------------------------------------------------------------------------------

/** A data record's cells → the template's values by column key (cells printable and bounded). */
function valuesOf(
  cells: string[],
  columnIndex: Record<string, number>,
): { values: Record<string, string> } | { column: string; reason: string } {
  const values: Record<string, string> = {};
  for (const [key, i] of Object.entries(columnIndex)) {
    const v = printable((cells[i] ?? '').trim());
    if (v.length > MAX_CELL_CHARS)
      return { column: key, reason: `列 ${key} 超过 ${MAX_CELL_CHARS} 个字符 / column ${key} is longer than ${MAX_CELL_CHARS} characters` };
    values[key] = v;
  }
  return { values };
}

function outcomeOf(template: TemplateName, facility: string, cells: string[], columnIndex: Record<string, number>): RowOutcome {
  const v = valuesOf(cells, columnIndex);
  if ('column' in v) return { ok: false, column: v.column, reason: v.reason };
  return rowToFhir(template, facility, v.values);
}

/** Processes one upload from where it stands (a resumed one skips the rows already done). */
export async function processUpload(deps: Deps, id: number): Promise<void> {
  const work = await uploadWork(deps.db.pool, id);
  if (!work) return;
  const decoded = decodeFeed(work.payload, work.encoding);
  if (!decoded.ok) {
    await failUpload(deps.db.pool, id, decoded.message);
    return;
  }
  // The header line is the first record; data records follow with their line numbers.
  const parser = parseCsv({
    bom: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    raw: true,
    info: true,
    from_line: 2,
  });
  const text = decoded.text;
  let problems = work.problems;
  const feed = (async () => {
    const CHUNK = 1 << 20;
    for (let i = 0; i < text.length; i += CHUNK) {
      if (parser.destroyed) return;
      if (!parser.write(text.slice(i, i + CHUNK)))
        await new Promise((r) => {
          parser.once('drain', r);
          parser.once('close', r);
        });
    }
    if (!parser.destroyed) parser.end();
  })();
  let index = 0;
  let batch: RowIn[] = [];
  const upload = { id, facility: work.facility, template: work.template, receivedBy: work.receivedBy };
  try {
    for await (const rec of parser as AsyncIterable<{ record: string[]; raw: string; info: { lines: number } }>) {
      index++;
      if (index <= work.rowsRead) continue;
      const raw = rec.raw.replace(/\r?\n$/, '');
      const line = rec.info.lines - (raw.match(/\n/g)?.length ?? 0);
      batch.push({
        line,
        text: printable(raw).slice(0, 10_000),
        outcome: outcomeOf(work.template, work.facility, rec.record, work.columnIndex),
      });
      if (batch.length >= BATCH_ROWS) {
        problems += await storeBatch(deps, upload, batch, index, false, Math.max(0, MAX_PROBLEMS - problems));
        batch = [];
        if (deps.stopping?.()) {
          parser.destroy();
          await feed.catch(() => undefined);
          return;
        }
      }
    }
    await feed;
    await storeBatch(deps, upload, batch, Math.max(index, work.rowsRead), true, Math.max(0, MAX_PROBLEMS - problems));
  } catch (e) {
    parser.destroy();
    await feed.catch(() => undefined);
    // Rows already handed over before the place it stopped are kept (rows the parser still buffered are not).
    if (batch.length) await storeBatch(deps, upload, batch, index, false, Math.max(0, MAX_PROBLEMS - problems)).catch(() => undefined);
    // A CSV that stops parsing (an unclosed quote) fails the upload, naming the place; rows before it are kept.
    await failUpload(deps.db.pool, id, errorText(e));
  }
}

/** Runs queued uploads one at a time, outside any request's query scope; resumes leftovers on start. */
export class UploadWorker {
  private queue: number[] = [];
  private running: Promise<void> | undefined;
  private stopped = false;

  private readonly deps: Deps;

  constructor(deps: Deps) {
    this.deps = { ...deps, stopping: () => this.stopped };
  }

  enqueue(id: number): void {
    if (this.stopped || this.queue.includes(id)) return;
    this.queue.push(id);
    this.kick();
  }

  async resume(): Promise<void> {
    for (const id of await pendingUploadIds(this.deps.db.pool)) this.enqueue(id);
  }

  /** Resolves when nothing is queued or running (tests and the bench wait on it). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.queue = [];
    await this.idle();
  }

  private kick(): void {
    if (this.running) return;
    this.running = runInQueryScope(new QueryScope(), async () => {
      while (!this.stopped && this.queue.length) {
        const id = this.queue.shift()!;
        try {
          await processUpload(this.deps, id);
        } catch (e) {
          this.deps.log?.(`hospital feed upload ${id}: ${errorText(e)}`);
          await failUpload(this.deps.db.pool, id, errorText(e)).catch(() => undefined);
        }
      }
    }).finally(() => {
      this.running = undefined;
      if (!this.stopped && this.queue.length) this.kick();
    });
  }
}

// ---------------------------------------------------------------------------------------------
// dead letters
// ---------------------------------------------------------------------------------------------

/** Reprocesses a dead letter with a corrected line: stored → resolved; still failing → stays open with the new reason. */
export async function reprocessDeadLetter(
  deps: Deps & { audit: Auditor },
  id: number,
  correctedLine: string,
  user: AuthUser,
  sourceAddress?: string,
): Promise<ReprocessAnswer> {
  const { db, repo, audit } = deps;
  const dl = await getDeadLetter(db.pool, id);
  if (!dl) throw notFound(`dead letter ${id} not found`);
  if (dl.status !== 'open') throw new HttpError(409, `dead letter ${id} is already ${dl.status}`, 'conflict');
  const shape = await uploadShape(db.pool, dl.uploadId);
  if (!shape?.columnIndex) throw new HttpError(409, `upload ${dl.uploadId} has no column layout to read the line with`, 'conflict');
  let cells: string[];
  try {
    const parsed = parseCsvSync(correctedLine.replace(/\r?\n$/, ''), { relax_column_count: true, relax_quotes: true }) as string[][];
    if (parsed.length !== 1) throw new Error(`the text holds ${parsed.length} CSV records; send one line`);
    cells = parsed[0]!;
  } catch (e) {
    throw badRequest(`纠正后的行不是一行 CSV / the corrected line is not one CSV record: ${errorText(e)}`);
  }
  const template = dl.template as TemplateName;
  if (!TEMPLATE_DEFS[template]) throw new HttpError(409, `unknown template ${dl.template}`, 'conflict');
  const outcome = outcomeOf(template, dl.facility, cells, shape.columnIndex);
  const corrected = printable(correctedLine).slice(0, 10_000);
  const recordAudit = (client: Queryable, ok: boolean, written: string[], text: string) =>
    audit.recordNow(client, {
      user,
      action: 'U',
      subtype: 'hospital-feed-reprocess',
      entities: [`hf_dead_letter ${id}`, ...written.slice(0, 20)],
      outcome: ok ? 'success' : 'failure',
      outcomeText: text,
      sourceAddress,
    });
  if (!outcome.ok) {
    await db.transaction(async (client) => {
      await updateDeadLetterReason(client, id, outcome.column, outcome.reason, corrected);
      await recordAudit(client, false, [], outcome.reason);
    });
    return { status: 'open', column: outcome.column, reason: outcome.reason, resources: [], warnings: [] };
  }
  try {
    return await db.transaction(async (client) => {
      const again = await getDeadLetter(client, id, true);
      if (again?.status !== 'open') throw new HttpError(409, `dead letter ${id} is already ${again?.status}`, 'conflict');
      const w = await writeRowsOn(repo, client, [outcome]);
      await closeDeadLetter(client, id, 'resolved', user.username, corrected);
      await recordAudit(client, true, w.written, `${w.written.length} resources written`);
      return {
        status: 'resolved' as const,
        column: null,
        reason: null,
        resources: outcome.resources.map((p) => `${p.resource.resourceType}/${p.resource.id}`),
        warnings: outcome.warnings.map((x) => x.message),
      };
    });
  } catch (e) {
    if (e instanceof HttpError && e.status === 409) throw e;
    const reason = `无法保存 / could not be stored: ${errorText(e)}`;
    await db.transaction(async (client) => {
      await updateDeadLetterReason(client, id, undefined, reason, corrected);
      await recordAudit(client, false, [], reason);
    });
    return { status: 'open', column: null, reason, resources: [], warnings: [] };
  }
}

export async function dismissDeadLetter(deps: Deps, id: number, user: AuthUser, sourceAddress?: string): Promise<void> {
  await deps.db.transaction(async (client) => {
    const dl = await getDeadLetter(client, id, true);
    if (!dl) throw notFound(`dead letter ${id} not found`);
    if (dl.status !== 'open') throw new HttpError(409, `dead letter ${id} is already ${dl.status}`, 'conflict');
    await closeDeadLetter(client, id, 'dismissed', user.username);
    await deps.audit.recordNow(client, {
      user,
      action: 'U',
      subtype: 'hospital-feed-dismiss',
      entities: [`hf_dead_letter ${id}`],
      outcome: 'success',
      sourceAddress,
    });
  });
}
