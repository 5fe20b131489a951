/**
 * Inbound HL7 v2 into the store: every message (MLLP or HTTP) goes through `Hl7Ingest.ingest`,
 * which keeps the raw bytes with their status in hl7_message and writes the mapped FHIR
 * Bundle in the SAME transaction as the message row. The ACK is built only after that
 * transaction commits, so an AA always means "stored" — a crash before the commit loses the
 * message but the sender never got AA for it and will resend.
 *
 * Group commit (batch-store.ts): messages arriving while a transaction is in flight are stored
 * together in the next one, each still all-or-nothing; merges, dead-letter reprocessing and
 * anything the batch cannot plan take the one-message path.
 *
 * Idempotency: a message is keyed by sending facility (MSH-4) + control id (MSH-10). A resend of
 * a stored message is answered AA and changes nothing. A resend of a rejected message is
 * processed again (it may have been fixed at the source).
 *
 * Dead letters: rejected messages (status 'rejected') can be corrected (the original bytes are
 * never overwritten; the correction goes to `corrected`) and reprocessed.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { PoolClient } from 'pg';
import { processTransactionOn } from '../fhir/bundle.js';
import { writeNewBulkRows } from '../fhir/bulk-write.js';
import type { Queryable } from '../platform/db.js';
import { writeRows, type FhirRepository } from '../fhir/repository.js';
import { search } from '../fhir/search.js';
import type { Database } from '../platform/db.js';
import { encodeAck, type Ack } from './ack.js';
import { processHl7Message, type Hl7Outcome } from './handler.js';
import type { Hl7Message } from './parser.js';
import type { MergeInstruction, ToFhirResult } from './to-fhir/index.js';
import { planBatch, type BatchItem, type BatchOutcome } from './batch-store.js';
import type { ReprocessResult } from './schemas.js';
import { deadLetterText, getMessage } from './store.js';

export type Hl7Channel = 'mllp' | 'http' | 'reprocess';

export interface IngestResult {
  /** Encoded ACK bytes (null for an inbound ACK, which gets no reply). */
  reply: Buffer | null;
  ack: Ack;
  /** hl7_message row id (undefined when even recording the message failed). */
  messageId?: number;
  /** True when the message had already been stored: nothing new was created. */
  duplicate: boolean;
  outcome: Hl7Outcome;
}

/** Records the AuditEvent of a reprocessing attempt (the route builds it from the signed-in user). */
export type ReprocessAudit = (client: PoolClient, outcome: { ok: boolean; outcomeText?: string }) => Promise<void>;

/** Base used when resolving conditional references inside stored bundles. */
const INTERNAL_BASE = 'urn:yifang:hl7v2';

/** The facility part of the idempotency key, read the same way as to-fhir's default. */
export function facilityOf(message: Hl7Message): string {
  return message.get('MSH-4.1') || message.get('MSH-4.2') || message.get('MSH-3.1') || '';
}

export function dedupKeyOf(message: Hl7Message): string | null {
  const controlId = message.controlId;
  if (!controlId) return null;
  return `${facilityOf(message)}|${controlId}`;
}

/** A stable 32-bit lock id for pg_advisory_xact_lock (FNV-1a). */
function lockId(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

/**
 * Keys to serialise concurrent messages on: the message itself and every conditional write
 * (two connections creating the same Patient at once must not make two Patients).
 */
function lockKeys(key: string, result: ToFhirResult): number[] {
  const keys = new Set<string>([`msg:${key}`]);
  for (const e of result.bundle.entry ?? []) {
    const url = e.request?.url ?? '';
    if (url.includes('?')) keys.add(url);
    if (e.request?.ifNoneExist) keys.add(`${e.request.url}?${e.request.ifNoneExist}`);
  }
  return [...new Set([...keys].map(lockId))].sort((a, b) => a - b);
}

function errorText(outcome: Hl7Outcome): string {
  const seg = outcome.ack.text.split('\r').find((s) => s.startsWith('MSA'));
  const msa3 = seg?.split(seg[3] ?? '|')[3];
  const e = outcome.error;
  return (
    (e instanceof Error
      ? e.message
      : e && typeof e === 'object' && 'message' in e
        ? String((e as { message: unknown }).message)
        : undefined) ??
    msa3 ??
    'rejected'
  );
}

/** Most messages stored in one transaction. */
const MAX_BATCH = 200;

/**
 * Takes, in arrival order, up to `max` waiting messages that share no lock key with each other,
 * with an earlier message left waiting, or with a batch still in flight (`held`), so
 * per-patient and per-control-id order is kept.
 */
function takeIndependent<T extends { item: BatchItem }>(waiting: T[], max: number, held: ReadonlySet<number> = new Set()): T[] {
  const taken: T[] = [];
  const blocked = new Set<number>(held);
  const left: T[] = [];
  for (const w of waiting) {
    const free = taken.length < max && w.item.locks.every((k) => !blocked.has(k));
    for (const k of w.item.locks) blocked.add(k);
    (free ? taken : left).push(w);
  }
  waiting.splice(0, waiting.length, ...left);
  return taken;
}

/**
 * Batches in flight at once. On PostgreSQL a second batch is planned and written while the first
 * waits for its commit, so neither Node nor the server idles; their lock keys are disjoint, so
 * they never wait on each other. PGlite has one connection: one batch at a time.
 */
const BATCHES_IN_FLIGHT = { postgres: 4, pglite: 1 } as const;

export class Hl7Ingest {
  constructor(
    private readonly db: Database,
    private readonly repo: FhirRepository,
    private readonly onStored: () => void = () => undefined,
    /** Wakes the change-log processors at once (after a reprocessed dead letter). */
    private readonly wake: () => void = () => undefined,
  ) {}

  /**
   * Processes one message and returns the reply to send. Never throws.
   * `deadLetterId`: reprocessing that dead letter (its row is updated or resolved).
   */
  async ingest(raw: Buffer, channel: Hl7Channel, deadLetterId?: number): Promise<IngestResult> {
    let messageId: number | undefined;
    let duplicate = false;
    const outcome = await processHl7Message(raw, {
      store: async (result, message) => {
        const key = dedupKeyOf(message) ?? `${result.facilityId}|${result.controlId}`;
        const stored =
          deadLetterId === undefined && !result.merges.length
            ? await this.submitToBatch({
                key,
                locks: lockKeys(key, result),
                result,
                insertRow: {
                  facility: facilityOf(message),
                  controlId: message.controlId,
                  messageType: message.messageTypeKey,
                  channel,
                  raw,
                },
              })
            : undefined;
        const done = stored ?? (await this.storeOne(raw, channel, key, result, message, deadLetterId));
        messageId = done.messageId;
        duplicate = done.duplicate;
        if (!duplicate) this.onStored();
      },
    });
    if (!outcome.wasAck && outcome.ack.ackCode !== 'AA') {
      messageId = await this.recordRejection(raw, channel, outcome, deadLetterId).catch(() => undefined);
    }
    return { reply: outcome.wasAck ? null : encodeAck(outcome.ack), ack: outcome.ack, messageId, duplicate, outcome };
  }

  // ---------------------------------------------------------------- group commit

  private readonly waiting: { item: BatchItem; settle: (outcome: BatchOutcome) => void }[] = [];
  private inFlight = 0;
  /** Lock keys of the batches in flight: a message sharing one waits for that commit. */
  private readonly held = new Set<number>();

  /** Queues a message for the next batch; resolves when it is committed (undefined: store it alone). */
  private async submitToBatch(item: BatchItem): Promise<{ messageId: number; duplicate: boolean } | undefined> {
    const outcome = await new Promise<BatchOutcome>((settle) => {
      this.waiting.push({ item, settle });
      this.schedule();
    });
    switch (outcome.kind) {
      case 'stored':
        return { messageId: outcome.messageId, duplicate: false };
      case 'duplicate':
        return { messageId: outcome.messageId, duplicate: true };
      case 'failed':
        throw outcome.error;
      case 'single':
        return undefined;
    }
  }

  /** Starts a batch when a slot is free; messages arriving meanwhile form the next one. */
  private schedule(): void {
    if (this.inFlight >= BATCHES_IN_FLIGHT[this.db.kind] || !this.waiting.length) return;
    this.inFlight++;
    // Let socket reads already due run first, so messages that arrived together commit together.
    setImmediate(() => {
      const batch = takeIndependent(this.waiting, MAX_BATCH, this.held);
      if (!batch.length) {
        // Everything waiting shares a key with a batch in flight: its end schedules again.
        this.inFlight--;
        return;
      }
      const locks = batch.flatMap((w) => w.item.locks);
      for (const k of locks) this.held.add(k);
      void this.storeBatch(batch.map((w) => w.item))
        // The batch failed as a whole (e.g. a concurrent REST write to one of its resources):
        // every message gets its own transaction, so one bad apple costs only itself.
        .catch(() => batch.map(() => ({ kind: 'single' }) as const))
        .then((outcomes) => {
          for (const k of locks) this.held.delete(k);
          this.inFlight--;
          batch.forEach((w, i) => w.settle(outcomes[i]!));
          this.schedule();
        });
      // A second slot may take what this batch left.
      this.schedule();
    });
  }

  private async storeBatch(items: BatchItem[]): Promise<BatchOutcome[]> {
    return this.db.transaction(async (client) => {
      const locks = [...new Set(items.flatMap((i) => i.locks))].sort((a, b) => a - b);
      // Every read in this transaction is a key lookup with an index behind it. A table that grew
      // since its last ANALYZE (a new district's first burst) looks tiny to the planner, which
      // then scans it for every batch: 300,000 rows read for 4,000 registrations.
      await client.query("SELECT set_config('enable_seqscan', 'off', true), pg_advisory_xact_lock(k) FROM unnest($1::int[]) AS k", [locks]);
      const existing = await client.query<{ id: number; status: string; dedup_key: string }>(
        'SELECT id, status, dedup_key FROM hl7_message WHERE dedup_key = ANY($1::text[]) FOR UPDATE',
        [items.map((i) => i.key)],
      );
      const previous = new Map(existing.rows.map((r) => [r.dedup_key, r]));
      // Keys are unique within a batch (each message's own key is one of its lock keys).
      const fresh = items.filter((item) => !previous.has(item.key));
      /** What the batch says for messages it does not store itself. */
      const answered = (item: BatchItem): BatchOutcome => {
        const row = previous.get(item.key)!;
        // A resend of a rejected message goes through the one-message path, which updates its row.
        return row.status === 'stored' ? { kind: 'duplicate', messageId: row.id } : { kind: 'single' };
      };
      if (!fresh.length) return items.map(answered);
      const { rows, firstVersions, outcomes: planned } = await planBatch(this.repo, client, fresh, INTERNAL_BASE, new Date().toISOString());
      await writeNewBulkRows(this.db, client, firstVersions);
      if (rows.length) await writeRows(client, rows);
      const toInsert = fresh.map((item, i) => ({ item, plan: planned[i]! })).filter((x) => x.plan.kind === 'planned');
      const ids = new Map<string, number>();
      if (toInsert.length) {
        const r = await client.query<{ id: number; dedup_key: string }>(
          `INSERT INTO hl7_message (dedup_key, facility, control_id, message_type, channel, status, ack_code, payload, resources)
           SELECT k, f, c, t, ch, 'stored', 'AA', p, ARRAY(SELECT jsonb_array_elements_text(r))
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bytea[], $7::jsonb[]) AS x(k, f, c, t, ch, p, r)
           RETURNING id, dedup_key`,
          [
            toInsert.map((x) => x.item.key),
            toInsert.map((x) => x.item.insertRow.facility),
            toInsert.map((x) => x.item.insertRow.controlId),
            toInsert.map((x) => x.item.insertRow.messageType),
            toInsert.map((x) => x.item.insertRow.channel),
            toInsert.map((x) => x.item.insertRow.raw),
            toInsert.map((x) => JSON.stringify((x.plan as { resources: string[] }).resources)),
          ],
        );
        for (const row of r.rows) ids.set(row.dedup_key, row.id);
      }
      const planOf = new Map(fresh.map((item, i) => [item.key, planned[i]!]));
      return items.map((item): BatchOutcome => {
        const plan = planOf.get(item.key);
        if (!plan) return answered(item);
        return plan.kind === 'planned' ? { kind: 'stored', messageId: ids.get(item.key)!, resources: plan.resources } : plan;
      });
    });
  }

  /** The one-message path: merges (A40), dead-letter reprocessing, and fallbacks from a batch. */
  private async storeOne(
    raw: Buffer,
    channel: Hl7Channel,
    key: string,
    result: ToFhirResult,
    message: Hl7Message,
    deadLetterId?: number,
  ): Promise<{ messageId: number; duplicate: boolean }> {
    let messageId = -1;
    let duplicate = false;
    await this.db.transaction(async (client) => {
      // one round trip; the ids come sorted (unnest keeps array order), so two messages never wait on each other in a cycle
      await client.query('SELECT pg_advisory_xact_lock(k) FROM unnest($1::int[]) AS k', [lockKeys(key, result)]);
      const existing = await client.query<{ id: number; status: string }>(
        'SELECT id, status FROM hl7_message WHERE dedup_key = $1 FOR UPDATE',
        [key],
      );
      const row = existing.rows[0];
      if (row?.status === 'stored') {
        duplicate = true;
        messageId = row.id;
        return;
      }
      const response = await processTransactionOn(this.repo, client, result.bundle, INTERNAL_BASE);
      const resources = (response.entry ?? [])
        .map((e) => e.response?.location?.replace(/\/_history\/.*$/, ''))
        .filter((s): s is string => !!s);
      for (const merge of result.merges) await this.applyMerge(client, merge);
      const messageType = message.messageTypeKey;
      if (row) {
        await client.query(
          `UPDATE hl7_message SET status = 'stored', ack_code = 'AA', error = NULL, resources = $2, message_type = $3,
             payload = CASE WHEN $5::boolean THEN payload ELSE $4 END, corrected = CASE WHEN $5::boolean THEN $4 ELSE corrected END,
             attempts = attempts + 1, updated_at = now() WHERE id = $1`,
          [row.id, resources, messageType, raw, deadLetterId === row.id],
        );
        messageId = row.id;
      } else {
        const r = await client.query<{ id: number }>(
          `INSERT INTO hl7_message (dedup_key, facility, control_id, message_type, channel, status, ack_code, payload, resources)
           VALUES ($1, $2, $3, $4, $5, 'stored', 'AA', $6, $7) RETURNING id`,
          [key, facilityOf(message), message.controlId, messageType, channel, raw, resources],
        );
        messageId = r.rows[0]!.id;
      }
      if (deadLetterId !== undefined && deadLetterId !== messageId) {
        await client.query(`UPDATE hl7_message SET status = 'resolved', error = $2, updated_at = now() WHERE id = $1`, [
          deadLetterId,
          `reprocessed as message ${messageId}`,
        ]);
      }
    });
    return { messageId, duplicate };
  }

  /** Keeps a rejected message as a dead letter (its own transaction: the store rolled back). */
  private async recordRejection(raw: Buffer, channel: Hl7Channel, outcome: Hl7Outcome, deadLetterId?: number): Promise<number> {
    const message = outcome.message;
    const key = message ? dedupKeyOf(message) : null;
    const error = errorText(outcome);
    const type = message?.messageTypeKey ?? null;
    if (deadLetterId !== undefined) {
      await this.db.query(
        `UPDATE hl7_message SET status = 'rejected', ack_code = $2, error = $3, corrected = $4, message_type = coalesce($5, message_type),
           attempts = attempts + 1, updated_at = now() WHERE id = $1`,
        [deadLetterId, outcome.ack.ackCode, error, raw, type],
      );
      return deadLetterId;
    }
    const r = await this.db.query<{ id: number }>(
      `INSERT INTO hl7_message (dedup_key, facility, control_id, message_type, channel, status, ack_code, error, payload)
       VALUES ($1, $2, $3, $4, $5, 'rejected', $6, $7, $8)
       ON CONFLICT (dedup_key) DO UPDATE SET ack_code = EXCLUDED.ack_code, error = EXCLUDED.error, payload = EXCLUDED.payload,
         attempts = hl7_message.attempts + 1, updated_at = now()
         WHERE hl7_message.status <> 'stored'
       RETURNING id`,
      [key, message ? facilityOf(message) : null, message?.controlId || null, type, channel, outcome.ack.ackCode, error, raw],
    );
    return r.rows[0]?.id ?? -1;
  }

  /** A40: the merged-away Patient points at the survivor and becomes inactive. */
  private async applyMerge(client: Queryable, merge: MergeInstruction): Promise<void> {
    const find = async (system: string | undefined, value: string | undefined) => {
      if (!value) return undefined;
      const r = await search(client, 'Patient', { params: [['identifier', system ? `${system}|${value}` : value]] }, INTERNAL_BASE);
      return r.bundle.entry?.find((e) => e.search?.mode === 'match')?.resource as (Resource & { resourceType: 'Patient' }) | undefined;
    };
    const survivor = await find(merge.survivor.system, merge.survivor.value);
    const merged = await find(merge.merged.system, merge.merged.value);
    if (!survivor || !merged || survivor.id === merged.id) return;
    const updated = { ...merged, active: false, link: [{ other: { reference: `Patient/${survivor.id}` }, type: 'replaced-by' }] };
    await this.repo.update('Patient', merged.id!, updated, {}, client);
  }

  // ---------------------------------------------------------------- HTTP bodies and dead letters

  /**
   * Receives an HTTP body holding one or more messages: their ACKs in order, separated by a
   * blank line; undefined when the body holds no message.
   */
  async receive(body: Buffer): Promise<Buffer | undefined> {
    // All at once: they share group commits, and the ingest keeps each patient's messages in order.
    const results = await Promise.all(splitMessages(body).map((message) => this.ingest(message, 'http')));
    const acks = results.flatMap((r) => (r.reply ? [r.reply] : []));
    if (acks.length === 0) return undefined;
    const sep = Buffer.from('\r\n');
    return Buffer.concat(acks.flatMap((a, i) => (i ? [sep, a] : [a])));
  }

  /**
   * Runs a dead letter (its corrected text if any) through the pipeline again and records the
   * AuditEvent of the attempt (in a transaction of its own: a rejection rolled the store back);
   * undefined when there is no such dead letter.
   */
  async reprocessDeadLetter(id: number, audit: ReprocessAudit): Promise<ReprocessResult | undefined> {
    const raw = await deadLetterText(this.db, id);
    if (!raw) return undefined;
    const r = await this.ingest(raw, 'reprocess', id);
    const ok = r.ack.ackCode === 'AA';
    await this.db.transaction((client) => audit(client, { ok, outcomeText: ok ? undefined : String(r.outcome.error ?? r.ack.text) }));
    this.wake();
    return {
      ackCode: r.ack.ackCode,
      ack: r.ack.text,
      messageId: r.messageId,
      error: ok ? undefined : (await getMessage(this.db, id))?.error,
    };
  }
}

/** Splits an HTTP body holding one or more ER7 messages (each starting with MSH). */
export function splitMessages(body: Buffer): Buffer[] {
  // Strip MLLP framing bytes if a client sent framed text over HTTP.
  const text = body.toString('latin1');
  const starts: number[] = [];
  const re = /(^|[\r\n\x0b\x1c])MSH/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) starts.push(m.index + m[1]!.length);
  if (starts.length === 0) return body.length && text.trim() ? [body] : [];
  const out: Buffer[] = [];
  for (let i = 0; i < starts.length; i++) {
    let piece = body.subarray(starts[i], starts[i + 1] ?? body.length);
    // trailing line breaks / framing between messages are not part of the message
    let end = piece.length;
    while (end > 0 && [0x0a, 0x0d, 0x1c, 0x0b, 0x20].includes(piece[end - 1]!)) end--;
    piece = piece.subarray(0, end);
    if (piece.length) out.push(Buffer.from(piece.toString('latin1').replace(/\r?\n/g, '\r'), 'latin1'));
  }
  // Text before the first MSH is reported as its own (rejected) message.
  const head = body.subarray(0, starts[0]);
  if (head.toString('latin1').replace(/[\s\x0b\x1c]/g, '')) out.unshift(head);
  return out;
}
