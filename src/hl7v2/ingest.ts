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
import { isConnectionError, type Database } from '../platform/db.js';
import { encodeAck, type Ack } from './ack.js';
import { DEFAULT_CHARSET_POLICY, type CharsetPolicy } from './charset.js';
import { Hl7ParseError } from './errors.js';
import { processHl7Message, type Hl7Outcome } from './handler.js';
import type { Hl7Message } from './parser.js';
import type { MergeInstruction, ToFhirResult } from './to-fhir/index.js';
import { planBatch, type BatchItem, type BatchOutcome } from './batch-store.js';
import type { ReprocessResult } from './schemas.js';
import { deadLetterText, getMessage } from './store.js';
import { peerMatcher } from './mllp.js';

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
  /**
   * The database connection was lost while storing: nothing of the message was kept and no ACK
   * must be sent (`reply` is null), so the sender resends it once the database is back.
   */
  transient?: boolean;
}

/** How the intake decodes and whom it admits (config/hl7v2/intake.json, validated in config.ts). */
export interface IngestOptions {
  charsets?: CharsetPolicy;
  /** Sending facilities (MSH-4.1) admitted over MLLP; undefined or empty: every facility. */
  allowedFacilities?: ReadonlySet<string>;
  /**
   * Per sending facility: the addresses (IPs, CIDR ranges) its MLLP messages must come from.
   * A facility not in the map may send from anywhere.
   */
  facilityPeers?: ReadonlyMap<string, readonly string[]>;
  /** Messages of one HTTP body being processed at once. Default 400. */
  httpConcurrency?: number;
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
    private readonly options: IngestOptions = {},
  ) {
    this.facilityPeers = new Map([...(options.facilityPeers ?? [])].map(([f, peers]) => [f, peerMatcher(peers)]));
  }

  /** Per facility with peers listed: does an address belong to it? */
  private readonly facilityPeers: ReadonlyMap<string, (address: string) => boolean>;

  /**
   * Processes one message and returns the reply to send. Never throws.
   * `deadLetterId`: reprocessing that dead letter (its row is updated or resolved).
   * `peerAddress`: the remote address an MLLP message came from (checked against the facility's peers).
   */
  async ingest(raw: Buffer, channel: Hl7Channel, deadLetterId?: number, peerAddress?: string): Promise<IngestResult> {
    let messageId: number | undefined;
    let duplicate = false;
    let refused = false;
    const allowed = this.options.allowedFacilities;
    const peers = this.facilityPeers;
    const outcome = await processHl7Message(raw, {
      charsets: this.options.charsets ?? DEFAULT_CHARSET_POLICY,
      admit:
        channel === 'mllp' && (allowed?.size || peers.size)
          ? (message) => {
              const facility = facilityOf(message);
              if (allowed?.size && !allowed.has(facility)) {
                refused = true;
                throw new Hl7ParseError(
                  'UNKNOWN_FACILITY',
                  `Sending facility '${facility}' (MSH-4) is not on this hub's allow-list; the message was not stored. Ask the district to register the facility.`,
                  { segment: 'MSH', field: 4 },
                );
              }
              const fromOwnPeer = peers.get(facility);
              if (fromOwnPeer && !fromOwnPeer(peerAddress ?? '')) {
                // Refused like an unknown facility: no row, so a stranger cannot fill the dead-letter list.
                refused = true;
                throw new Hl7ParseError(
                  'UNKNOWN_FACILITY',
                  `发送机构 '${facility}'（MSH-4）只能从登记的地址发送，本消息来自 ${peerAddress ?? '未知地址'}，未存储。` +
                    `Sending facility '${facility}' (MSH-4) may only send from its registered addresses; this message came from ${peerAddress ?? 'an unknown address'} and was not stored.`,
                  { segment: 'MSH', field: 4 },
                );
              }
            }
          : undefined,
      store: async (result, message, info) => {
        const charsetWarning = info.charsetWarning?.message ?? null;
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
                  charsetWarning,
                },
              })
            : undefined;
        const done = stored ?? (await this.storeOne(raw, channel, key, result, message, deadLetterId, charsetWarning));
        messageId = done.messageId;
        duplicate = done.duplicate;
        if (!duplicate) this.onStored();
      },
    });
    // Database gone mid-store: the transaction rolled back, nothing is kept, and the sender gets
    // no ACK (an AE/AR would tell it to stop resending). It resends; the resend is stored once.
    if (!outcome.wasAck && outcome.ack.ackCode !== 'AA' && isConnectionError(outcome.error)) {
      return { reply: null, ack: outcome.ack, duplicate: false, outcome, transient: true };
    }
    // A refused facility leaves no row: strangers must not be able to fill the dead-letter list.
    if (!outcome.wasAck && outcome.ack.ackCode !== 'AA' && !refused) {
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
        // every message gets its own transaction, so one bad apple costs only itself. A lost
        // database connection fails them all at once (no ACK; the senders resend).
        .catch((error: unknown) =>
          batch.map((): BatchOutcome => (isConnectionError(error) ? { kind: 'failed', error } : { kind: 'single' })),
        )
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
          `INSERT INTO hl7_message (dedup_key, facility, control_id, message_type, channel, status, ack_code, payload, resources, charset_warning)
           SELECT k, f, c, t, ch, 'stored', 'AA', p, ARRAY(SELECT jsonb_array_elements_text(r)), w
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bytea[], $7::jsonb[], $8::text[]) AS x(k, f, c, t, ch, p, r, w)
           RETURNING id, dedup_key`,
          [
            toInsert.map((x) => x.item.key),
            toInsert.map((x) => x.item.insertRow.facility),
            toInsert.map((x) => x.item.insertRow.controlId),
            toInsert.map((x) => x.item.insertRow.messageType),
            toInsert.map((x) => x.item.insertRow.channel),
            toInsert.map((x) => x.item.insertRow.raw),
            toInsert.map((x) => JSON.stringify((x.plan as { resources: string[] }).resources)),
            toInsert.map((x) => x.item.insertRow.charsetWarning ?? null),
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
    charsetWarning: string | null = null,
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
             charset_warning = $6, attempts = attempts + 1, updated_at = now() WHERE id = $1`,
          [row.id, resources, messageType, raw, deadLetterId === row.id, charsetWarning],
        );
        messageId = row.id;
      } else {
        const r = await client.query<{ id: number }>(
          `INSERT INTO hl7_message (dedup_key, facility, control_id, message_type, channel, status, ack_code, payload, resources, charset_warning)
           VALUES ($1, $2, $3, $4, $5, 'stored', 'AA', $6, $7, $8) RETURNING id`,
          [key, facilityOf(message), message.controlId, messageType, channel, raw, resources, charsetWarning],
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
   * blank line; undefined when the body holds no message. The body is split lazily and at most
   * `httpConcurrency` messages are parsed and waiting for a group commit at any time, so memory
   * does not grow with the number of messages. Throws DatabaseUnavailable when the connection
   * was lost (messages acknowledged before are stored; a resend of the body is idempotent).
   */
  async receive(body: Buffer, starts: readonly number[] = messageStarts(body)): Promise<Buffer | undefined> {
    const concurrency = Math.max(1, this.options.httpConcurrency ?? 400);
    const acks: (Buffer | null)[] = [];
    const pieces = messagesAt(body, starts);
    let next = 0;
    let lost: unknown;
    // Workers take messages in arrival order (ingest queues each for its batch synchronously),
    // so each patient's messages are still stored in the order of the body.
    const worker = async () => {
      for (let it = pieces.next(); !it.done && lost === undefined; it = pieces.next()) {
        const i = next++;
        const r = await this.ingest(it.value, 'http');
        if (r.transient) lost ??= r.outcome.error;
        acks[i] = r.reply;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    if (lost !== undefined) throw new DatabaseUnavailable(acks.filter((a) => a).length, lost);
    const sep = Buffer.from('\r\n');
    const out: Buffer[] = [];
    for (const a of acks) if (a) out.push(...(out.length ? [sep, a] : [a]));
    return out.length ? Buffer.concat(out) : undefined;
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

/** Thrown by `receive` when the database connection was lost part-way through a body. */
export class DatabaseUnavailable extends Error {
  constructor(
    readonly acknowledged: number,
    override readonly cause: unknown,
  ) {
    super(`The database connection was lost while storing HL7 messages`);
  }
}

const isBoundary = (b: number | undefined) => b === 0x0d || b === 0x0a || b === 0x0b || b === 0x1c;
const isBlank = (b: number) => b === 0x0d || b === 0x0a || b === 0x0b || b === 0x1c || b === 0x20 || b === 0x09;

/**
 * Where each message of an HTTP body starts (an 'MSH' at the start or after a line break or MLLP
 * framing byte); a first entry of 0 before the first MSH when non-blank text precedes it (it is
 * reported as its own rejected message). Only offsets: nothing is copied.
 */
export function messageStarts(body: Buffer): number[] {
  const starts: number[] = [];
  for (let i = body.indexOf('MSH'); i >= 0; i = body.indexOf('MSH', i + 3)) {
    if (i === 0 || isBoundary(body[i - 1])) starts.push(i);
  }
  if (starts.length === 0) return body.some((b) => !isBlank(b)) ? [0] : [];
  if (starts[0]! > 0 && body.subarray(0, starts[0]).some((b) => !isBlank(b))) starts.unshift(0);
  return starts;
}

/** The messages at `starts`, one at a time: trailing blanks removed, LF / CRLF turned into CR. */
export function* messagesAt(body: Buffer, starts: readonly number[]): Generator<Buffer> {
  for (let k = 0; k < starts.length; k++) {
    const from = starts[k]!;
    let end = starts[k + 1] ?? body.length;
    while (end > from && [0x0a, 0x0d, 0x1c, 0x0b, 0x20].includes(body[end - 1]!)) end--;
    if (end <= from) continue;
    const piece = body.subarray(from, end);
    // The text before the first MSH is kept as sent; messages get CR segment separators.
    if (!(piece[0] === 0x4d && piece[1] === 0x53 && piece[2] === 0x48)) {
      yield Buffer.from(piece);
      continue;
    }
    if (!piece.includes(0x0a)) {
      yield Buffer.from(piece);
      continue;
    }
    const out = Buffer.allocUnsafe(piece.length);
    let n = 0;
    for (let i = 0; i < piece.length; i++) {
      const b = piece[i]!;
      if (b === 0x0a) {
        if (piece[i - 1] !== 0x0d) out[n++] = 0x0d;
      } else out[n++] = b;
    }
    yield out.subarray(0, n);
  }
}

/** Splits an HTTP body holding one or more ER7 messages (each starting with MSH). */
export function splitMessages(body: Buffer): Buffer[] {
  return [...messagesAt(body, messageStarts(body))];
}
