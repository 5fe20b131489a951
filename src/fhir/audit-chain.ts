/**
 * One hash chain for the whole store, sequenced in the database (migration 20). Appending takes
 * the chain head under its row lock in the transaction that stores the events, so every process
 * writing to the store appends to the same chain. Each link is HMAC-SHA256(key, seq | event id |
 * content hash | previous hash) with a key from outside the database (audit-keys.ts); every
 * `checkpointEvery` events or `checkpointMinutes` the head is signed with Ed25519 and kept in
 * audit_checkpoint, exportable for a second party to hold.
 *
 * `verifyAuditChain` checks every link's HMAC, the stored content against its hash, the seq
 * sequence, the head row, events outside the chain, and every checkpoint's signature, and names
 * the first broken event.
 */
import { createHash, createHmac, sign, timingSafeEqual, verify as verifySignature } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import type { Database, Queryable } from '../platform/db.js';
import type { AuditKeys } from './audit-keys.js';
import { currentContentSql } from './schema.js';

export interface ChainOptions {
  /** A checkpoint when this many events were appended since the last one. */
  checkpointEvery: number;
  /** A checkpoint when the last one is older than this (and events came since). */
  checkpointMinutes: number;
}

export const DEFAULT_CHAIN_OPTIONS: ChainOptions = { checkpointEvery: 1000, checkpointMinutes: 10 };

/** JSON with object keys sorted, so a hash does not depend on how the database hands keys back. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
}

export const contentHash = (event: unknown) => createHash('sha256').update(canonicalJson(event)).digest('hex');

export function linkHash(key: Buffer, seq: number, eventId: string, content: string, prev: string): string {
  return createHmac('sha256', key).update(`${seq}\n${eventId}\n${content}\n${prev}`).digest('hex');
}

interface HeadRow {
  seq: number;
  hash: string;
  checkpoint_seq: number;
  checkpoint_at: string | null;
}

/**
 * Appends stored AuditEvents (with id and meta) to the chain, in the caller's transaction, and
 * signs a checkpoint when one is due by count.
 */
export async function appendToChain(
  client: Queryable,
  keys: AuditKeys,
  events: Resource[],
  options: ChainOptions = DEFAULT_CHAIN_OPTIONS,
): Promise<void> {
  if (!events.length) return;
  // The head's row lock is held to commit: the next appender (any process) waits here.
  const head = (
    await client.query<HeadRow>('SELECT seq, hash, checkpoint_seq, checkpoint_at FROM audit_chain_head WHERE id = 1 FOR UPDATE')
  ).rows[0];
  if (!head) throw new Error('audit_chain_head is missing: the audit chain table was tampered with or not migrated');
  let seq = Number(head.seq);
  let prev = head.hash;
  const seqs: number[] = [];
  const ids: string[] = [];
  const recorded: string[] = [];
  const contents: string[] = [];
  const prevs: string[] = [];
  const hashes: string[] = [];
  for (const e of events) {
    seq++;
    const content = contentHash(e);
    const hash = linkHash(keys.hmacKey, seq, e.id!, content, prev);
    seqs.push(seq);
    ids.push(e.id!);
    recorded.push((e as { recorded?: string }).recorded ?? e.meta?.lastUpdated ?? new Date().toISOString());
    contents.push(content);
    prevs.push(prev);
    hashes.push(hash);
    prev = hash;
  }
  await client.query(
    `INSERT INTO audit_chain (seq, event_id, recorded, content_hash, prev_hash, hash, key_id)
     SELECT s, i, r, c, p, h, $7 FROM unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[]) AS x(s, i, r, c, p, h)`,
    [seqs, ids, recorded, contents, prevs, hashes, keys.hmacKeyId],
  );
  if (seq - Number(head.checkpoint_seq) >= options.checkpointEvery) {
    await writeCheckpoint(client, keys, seq, prev);
    await client.query('UPDATE audit_chain_head SET seq = $1, hash = $2, checkpoint_seq = $1, checkpoint_at = now() WHERE id = 1', [
      seq,
      prev,
    ]);
  } else {
    await client.query('UPDATE audit_chain_head SET seq = $1, hash = $2 WHERE id = 1', [seq, prev]);
  }
}

export interface CheckpointStatement {
  chain: 'yifang-audit';
  seq: number;
  hash: string;
  signedAt: string;
  hmacKeyId: string;
  publicKeyId: string;
}

async function writeCheckpoint(client: Queryable, keys: AuditKeys, seq: number, hash: string): Promise<void> {
  const statement: CheckpointStatement = {
    chain: 'yifang-audit',
    seq,
    hash,
    signedAt: new Date().toISOString(),
    hmacKeyId: keys.hmacKeyId,
    publicKeyId: keys.publicKeyId,
  };
  const text = JSON.stringify(statement);
  const signature = sign(null, Buffer.from(text), keys.signingKey).toString('base64');
  await client.query(
    `INSERT INTO audit_checkpoint (seq, hash, signed_at, public_key_id, statement, signature) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (seq) DO NOTHING`,
    [seq, hash, statement.signedAt, keys.publicKeyId, text, signature],
  );
}

/** Signs the head if events came since the last checkpoint and that one is older than `minutes` (0: now). */
export async function checkpointIfDue(db: Database, keys: AuditKeys, minutes: number): Promise<boolean> {
  return db.transaction(async (client) => {
    const head = (
      await client.query<HeadRow>('SELECT seq, hash, checkpoint_seq, checkpoint_at FROM audit_chain_head WHERE id = 1 FOR UPDATE')
    ).rows[0];
    if (!head || Number(head.seq) <= Number(head.checkpoint_seq)) return false;
    if (minutes > 0 && head.checkpoint_at && Date.now() - Date.parse(head.checkpoint_at) < minutes * 60_000) return false;
    await writeCheckpoint(client, keys, Number(head.seq), head.hash);
    await client.query('UPDATE audit_chain_head SET checkpoint_seq = seq, checkpoint_at = now() WHERE id = 1');
    return true;
  });
}

export interface ExportedCheckpoint {
  seq: number;
  hash: string;
  signedAt: string;
  publicKeyId: string;
  statement: string;
  signature: string;
}

export interface CheckpointExport {
  chain: 'yifang-audit';
  /** Ed25519 public key (SPKI PEM) that signed the checkpoints. */
  publicKey: string;
  publicKeyId: string;
  hmacKeyId: string;
  head: { seq: number; hash: string };
  checkpoints: ExportedCheckpoint[];
}

export async function exportCheckpoints(db: Queryable, keys: AuditKeys, sinceSeq = 0): Promise<CheckpointExport> {
  const rows = await db.query<{
    seq: number;
    hash: string;
    signed_at: string;
    public_key_id: string;
    statement: string;
    signature: string;
  }>('SELECT seq, hash, signed_at, public_key_id, statement, signature FROM audit_checkpoint WHERE seq > $1 ORDER BY seq', [sinceSeq]);
  const head = (await db.query<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_chain_head WHERE id = 1')).rows[0];
  return {
    chain: 'yifang-audit',
    publicKey: keys.publicKeyPem,
    publicKeyId: keys.publicKeyId,
    hmacKeyId: keys.hmacKeyId,
    head: { seq: Number(head?.seq ?? 0), hash: head?.hash ?? '' },
    checkpoints: rows.rows.map((r) => ({
      seq: Number(r.seq),
      hash: r.hash,
      signedAt: r.signed_at,
      publicKeyId: r.public_key_id,
      statement: r.statement,
      signature: r.signature,
    })),
  };
}

export interface ChainProblem {
  /** Chain position of the event concerned (absent for events outside the chain). */
  seq?: number;
  eventId?: string;
  problem: string;
}

export interface VerifyReport {
  ok: boolean;
  /** Links checked. */
  events: number;
  checkpoints: number;
  /** The first broken event in chain order (or the first problem when none has a position). */
  firstBroken?: ChainProblem;
  /** Up to 100 problems, in the order found. */
  problems: ChainProblem[];
  /** AuditEvents stored before the chain began (migration 20): not covered. */
  legacyEvents: number;
  hmacKeyId: string;
  publicKeyId: string;
  seconds: number;
}

const eq = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/**
 * Checks the whole chain. `external` are checkpoints held by a second party (an earlier export):
 * each must verify under `keys.publicKey` and match the chain at its seq.
 */
export async function verifyAuditChain(
  db: Queryable,
  keys: AuditKeys,
  options: { external?: ExportedCheckpoint[]; pageSize?: number } = {},
): Promise<VerifyReport> {
  const started = Date.now();
  const problems: ChainProblem[] = [];
  const add = (p: ChainProblem) => {
    if (problems.length < 100) problems.push(p);
  };
  const stored = (
    await db.query<{ seq: number; hash: string; statement: string; signature: string }>(
      'SELECT seq, hash, statement, signature FROM audit_checkpoint ORDER BY seq',
    )
  ).rows.map((r) => ({ ...r, seq: Number(r.seq), origin: 'stored' }));
  const checkpoints = [...stored, ...(options.external ?? []).map((c) => ({ ...c, origin: 'held by a second party' }))];
  // Hashes the chain must have at the checkpointed positions.
  const expectAt = new Map<number, { hash: string; origin: string }[]>();
  for (const c of checkpoints) {
    let statement: CheckpointStatement | undefined;
    try {
      statement = JSON.parse(c.statement) as CheckpointStatement;
    } catch {
      statement = undefined;
    }
    let valid: boolean;
    try {
      valid = verifySignature(null, Buffer.from(c.statement), keys.publicKey, Buffer.from(c.signature, 'base64'));
    } catch {
      valid = false;
    }
    if (!valid || !statement) {
      add({
        seq: c.seq,
        problem: `checkpoint at seq ${c.seq} (${c.origin}): the signature does not verify under public key ${keys.publicKeyId}`,
      });
      continue;
    }
    if (statement.seq !== c.seq || statement.hash !== c.hash)
      add({ seq: c.seq, problem: `checkpoint at seq ${c.seq} (${c.origin}): its row differs from the signed statement` });
    const list = expectAt.get(statement.seq) ?? [];
    list.push({ hash: statement.hash, origin: c.origin });
    expectAt.set(statement.seq, list);
  }

  // The head as it is now bounds the walk: events appended while it runs (every request is
  // audited) come after it, and would otherwise read as a head that disagrees with the chain.
  // An append writes its events and the head in one transaction, so everything up to this head
  // is committed.
  const head = (await db.query<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_chain_head WHERE id = 1')).rows[0];
  const upTo = head ? Number(head.seq) : null;
  const pageSize = options.pageSize ?? 2000;
  let lastSeq = 0;
  let lastHash = '';
  let events = 0;
  let firstRecorded: string | undefined;
  for (;;) {
    const page = await db.query<{
      seq: number;
      event_id: string;
      recorded: string;
      content_hash: string;
      prev_hash: string;
      hash: string;
      key_id: string;
      version_id: number | null;
      content: Resource | null;
    }>(
      `SELECT c.seq, c.event_id, c.recorded, c.content_hash, c.prev_hash, c.hash, c.key_id, t.version_id,
              ${currentContentSql('t', 'AuditEvent')} AS content
       FROM audit_chain c LEFT JOIN r_auditevent t ON t.id = c.event_id
       WHERE c.seq > $1 AND ($3::bigint IS NULL OR c.seq <= $3) ORDER BY c.seq LIMIT $2`,
      [lastSeq, pageSize, upTo],
    );
    for (const row of page.rows) {
      const seq = Number(row.seq);
      const at = { seq, eventId: row.event_id };
      firstRecorded ??= row.recorded;
      events++;
      if (seq !== lastSeq + 1)
        add({
          ...at,
          problem:
            seq - lastSeq === 2
              ? `the event at seq ${lastSeq + 1} was removed from the chain`
              : `the events at seq ${lastSeq + 1}–${seq - 1} were removed from the chain`,
        });
      if (!eq(row.prev_hash, lastHash)) add({ ...at, problem: 'its link to the previous event is broken (previous hash differs)' });
      const expected = linkHash(keys.hmacKey, seq, row.event_id, row.content_hash, row.prev_hash);
      if (!eq(expected, row.hash)) {
        add({
          ...at,
          problem:
            row.key_id !== keys.hmacKeyId
              ? `its link was made with another key (${row.key_id}, this key is ${keys.hmacKeyId})`
              : 'its HMAC does not match: the link was rewritten without the key',
        });
      }
      if (!row.content) add({ ...at, problem: 'the AuditEvent was deleted from the store' });
      else {
        if (Number(row.version_id) !== 1) add({ ...at, problem: `the AuditEvent was changed (it is at version ${row.version_id})` });
        if (!eq(contentHash(row.content), row.content_hash))
          add({ ...at, problem: 'the AuditEvent content differs from what was chained' });
      }
      for (const c of expectAt.get(seq) ?? [])
        if (!eq(c.hash, row.hash)) add({ ...at, problem: `the chain differs from the checkpoint at seq ${seq} (${c.origin})` });
      lastSeq = seq;
      lastHash = row.hash;
    }
    if (page.rows.length < pageSize) break;
  }
  for (const [seq, list] of expectAt) {
    if (seq > lastSeq)
      add({
        seq,
        problem: `the chain ends at seq ${lastSeq} but a checkpoint (${list[0]!.origin}) signed seq ${seq}: events were removed from its end`,
      });
  }
  if (!head) add({ problem: 'the chain head row is missing' });
  else {
    if (Number(head.seq) !== lastSeq || head.hash !== lastHash)
      add({
        seq: Math.min(Number(head.seq), lastSeq) + 1,
        problem: `the chain head says seq ${head.seq} but the chain ends at seq ${lastSeq}: events were removed from its end or the head was rewritten`,
      });
    // Events past the head, read with the head in one statement (so one snapshot): none, unless
    // the head was moved back.
    const now = (
      await db.query<{ seq: number; top: number | null }>(
        'SELECT h.seq, (SELECT max(seq) FROM audit_chain) AS top FROM audit_chain_head h WHERE h.id = 1',
      )
    ).rows[0];
    if (now && now.top !== null && Number(now.top) > Number(now.seq))
      add({
        seq: Number(now.seq) + 1,
        problem: `the chain holds events up to seq ${now.top} but its head says seq ${now.seq}: the head was moved back`,
      });
  }

  // AuditEvents in the store that are not in the chain: put there past the audit log.
  const outside = await db.query<{ id: string; last_updated: string }>(
    `SELECT t.id, t.last_updated FROM r_auditevent t WHERE NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.event_id = t.id)
     ORDER BY t.last_updated LIMIT 10000`,
  );
  let legacyEvents = 0;
  for (const r of outside.rows) {
    if (!firstRecorded || Date.parse(r.last_updated) < Date.parse(firstRecorded)) legacyEvents++;
    else add({ eventId: r.id, problem: 'the AuditEvent is not in the chain (stored past the audit log)' });
  }
  const versions = await db.query<{ id: string; version_id: number; deleted: boolean }>(
    `SELECT id, version_id, deleted FROM resource_history WHERE resource_type = 'AuditEvent' AND (version_id > 1 OR deleted) LIMIT 100`,
  );
  for (const r of versions.rows) {
    const seqRow = (await db.query<{ seq: number }>('SELECT seq FROM audit_chain WHERE event_id = $1', [r.id])).rows[0];
    add({
      ...(seqRow ? { seq: Number(seqRow.seq) } : {}),
      eventId: r.id,
      problem: r.deleted ? 'the AuditEvent has a deletion in its history' : `the AuditEvent has a version ${r.version_id} in its history`,
    });
  }
  const positioned = problems.filter((p) => p.seq !== undefined).sort((a, b) => a.seq! - b.seq!);
  const firstBroken = positioned[0] ?? problems[0];
  return {
    ok: problems.length === 0,
    events,
    checkpoints: checkpoints.length,
    ...(firstBroken ? { firstBroken } : {}),
    problems,
    legacyEvents,
    hmacKeyId: keys.hmacKeyId,
    publicKeyId: keys.publicKeyId,
    seconds: (Date.now() - started) / 1000,
  };
}
