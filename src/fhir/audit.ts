/**
 * Audit trail as FHIR AuditEvent resources in the shape of IHE Basic Audit Log Patterns (BALP):
 * the user (agent with username, organisation and network address), the patient the event is
 * about (entity role 1), the query of a search (entity role 24, base64), and the purpose of use
 * when one was stated (purposeOfEvent, v3 ActReason codes).
 *
 * Every event joins the store's one hash chain in the transaction that stores it
 * (audit-chain.ts: sequence and previous hash from the database, keyed HMAC links, signed
 * checkpoints). Writes are audited inside their own transaction (`recordNow`). Reads
 * (`record`) are durable before their response leaves, one of two ways:
 * - through the read write-ahead file (`readWal`, audit-wal.ts; the server's default on PGlite):
 *   the event is appended to a file in the data directory before the promise settles (grouped;
 *   on PostgreSQL also fdatasynced, on PGlite, which runs with fsync off, written to the
 *   operating system only: that survives the process dying, as PGlite's commits do); a background drain stores the events in batches, and a start
 *   replays what a crash left. Readers of the audit trail first wait for the drain
 *   (`settle`, `mayReadAuditTrail`), so they see every read answered before they asked;
 * - or through a group commit to the database — while one insert is in flight the events that
 *   arrive wait and go together into the next — settling when the event is committed (the
 *   default on PostgreSQL, and the way taken when the file is full or failed).
 * `readMode = 'buffered'` keeps the old behaviour (a flush each second) for the throughput
 * comparison only.
 *
 * AuditEvent is read-only to every API: `refuseAuditEventWrite` is what REST, Bundles and
 * imports call.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import path from 'node:path';
import type { AuditEvent, Resource } from '@medplum/fhirtypes';
import { newResourceId } from './ids.js';
import type { Database, Queryable } from '../platform/db.js';
import { forbidden } from '../platform/errors.js';
import { prepareRow, writeRows } from './repository.js';
import type { AuthUser } from '../platform/auth.js';
import { appendToChain, checkpointIfDue, DEFAULT_CHAIN_OPTIONS, type ChainOptions } from './audit-chain.js';
import { defaultAuditKeyDir, loadAuditKeys, type AuditKeyConfig, type AuditKeys } from './audit-keys.js';
import { AuditWal, hasWalFiles, type AuditWalOptions, type ReplayReport } from './audit-wal.js';

export type AuditAction = 'C' | 'R' | 'U' | 'D' | 'E';

export interface AuditInput {
  user: AuthUser | { username: string; displayName: string; roles: string[]; organization?: string };
  action: AuditAction;
  /** Short name of what happened: read, search, create, update, delete, transaction, import, login. */
  subtype: string;
  /** References or descriptions of what was touched, e.g. "Patient/123" or "Patient?name=..." */
  entities: string[];
  outcome: 'success' | 'failure';
  outcomeText?: string;
  sourceAddress?: string;
  /** Purpose of use (X-Purpose-Of-Use), when stated: a v3 ActReason code (TREAT, ETREAT, PUBHLTH, …) or words. */
  purpose?: string;
  /** The patients the event is about ("Patient/<id>"): BALP entities with role patient. */
  patients?: string[];
  /** A search's query ("Patient?name=王"): a BALP query entity. */
  query?: string;
}

const OUTCOME_CODE = { success: '0', failure: '8' } as const;

/** The rule every refused write of AuditEvent names. */
export const AUDIT_READ_ONLY_RULE =
  'AuditEvent is read-only: the audit trail is written only by the server itself (rule audit-read-only, issue #15)';

/** Throws 403 when a write would create, change or delete an AuditEvent. */
export function refuseAuditEventWrite(type: string | undefined, body?: unknown): void {
  const bodyType = body && typeof body === 'object' && !Array.isArray(body) ? (body as { resourceType?: unknown }).resourceType : undefined;
  if (type === 'AuditEvent' || bodyType === 'AuditEvent') throw forbidden(AUDIT_READ_ONLY_RULE);
}

/** Purpose-of-use codes (HL7 v3 ActReason) written as codings; anything else is kept as text. */
const ACT_REASON: Record<string, string> = {
  TREAT: 'treatment',
  ETREAT: 'emergency treatment',
  BTG: 'break the glass',
  HPAYMT: 'healthcare payment',
  HOPERAT: 'healthcare operations',
  PUBHLTH: 'public health',
  HRESCH: 'healthcare research',
  PATRQT: 'patient requested',
  HDIRECT: 'directory',
  HLEGAL: 'legal',
  HSYSADMIN: 'system administration',
  CAREMGT: 'care management',
  DISASTER: 'disaster',
  THREAT: 'threat',
  HQUALIMP: 'quality improvement',
  COVERAGE: 'coverage',
};
/** Emergency access: what the review's break-glass flag looks for. */
export const BREAK_GLASS_CODES = ['ETREAT', 'BTG', 'DISASTER', 'THREAT'];

const V3_ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const REFERENCE = /^[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]+$/;

/** The patient references a resource names at its top level (subject, patient, beneficiary, …), or itself. */
export function patientsOf(resource: Resource | undefined): string[] {
  if (!resource) return [];
  if (resource.resourceType === 'Patient') return resource.id ? [`Patient/${resource.id}`] : [];
  const out = new Set<string>();
  const r = resource as unknown as Record<string, unknown>;
  for (const k of ['subject', 'patient', 'beneficiary', 'individual', 'who']) {
    const v = r[k];
    for (const x of Array.isArray(v) ? v : [v]) {
      const ref = (x as { reference?: unknown } | undefined)?.reference;
      if (typeof ref === 'string' && /^Patient\/[A-Za-z0-9\-.]+$/.test(ref)) out.add(ref);
    }
  }
  return [...out];
}

/** The events a request recorded, so the response can wait for them (audit-routes.ts). */
const requestEvents = new AsyncLocalStorage<Promise<void>[]>();

/** Runs fn (the rest of a request) collecting the audit writes it starts. */
export function collectAuditWrites<T>(list: Promise<void>[], fn: () => T): T {
  return requestEvents.run(list, fn);
}

interface Pending {
  event: Resource;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface AuditLogOptions {
  keys?: AuditKeyConfig;
  chain?: Partial<ChainOptions>;
  /** Log line for key generation (default console.error). */
  log?: (message: string) => void;
  /**
   * Reads' events through the write-ahead file (audit-wal.ts): true, or its options. Off by
   * default here; the server turns it on for PGlite (YIFANG_AUDIT_READ_WAL).
   */
  readWal?: boolean | Partial<AuditWalOptions>;
  /**
   * The write-ahead file's directory (default: `audit-wal` in the data directory). Even with
   * `readWal` off, what a run with it on left there is replayed at `init`.
   */
  readWalDir?: string;
}

/**
 * Whether a request may read AuditEvents, so it first waits for the read write-ahead file to be
 * drained and sees every read answered before it arrived. Freshness only, not access control
 * (that is `audit:read` in the routes); erring towards yes costs one drain.
 */
export function mayReadAuditTrail(method: string, url: string, body?: unknown): boolean {
  const q = url.indexOf('?');
  const pathPart = (q < 0 ? url : url.slice(0, q)).toLowerCase();
  if (pathPart.startsWith('/api/audit')) return true;
  if (!pathPart.startsWith('/fhir')) return false;
  let text = url.toLowerCase();
  try {
    text = decodeURIComponent(text);
  } catch {
    // a malformed escape: look at the text as sent
  }
  if (text.includes('auditevent') || text.includes('_has')) return true;
  const bare = pathPart.replace(/\/+$/, '');
  if (bare === '/fhir/_history') return true;
  if (bare !== '/fhir') return false;
  if (method === 'GET' || method === 'HEAD') return true; // a search across types
  // A batch or transaction: any entry that reads.
  const entries = (body as { entry?: unknown } | undefined)?.entry;
  return (
    Array.isArray(entries) &&
    entries.some((e) => {
      const m = (e as { request?: { method?: unknown } } | undefined)?.request?.method;
      return m === 'GET' || m === 'HEAD';
    })
  );
}

export class AuditLog {
  /** 'durable' (default): a read's event is committed before its response. 'buffered': flushed each second (comparison only). */
  readMode: 'durable' | 'buffered' = 'durable';
  private keysValue: AuditKeys | undefined;
  private readonly chain: ChainOptions;
  private queue: Pending[] = [];
  /** Group commits in flight (up to maxInFlight: PostgreSQL overlaps one's inserts with another's chain step and commit). */
  private inFlight = new Set<Promise<void>>();
  private buffer: Resource[] = [];
  private timer: NodeJS.Timeout | undefined;
  private checkpointTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  /** The read write-ahead file, when reads go through one. */
  readonly wal: AuditWal | undefined;
  /** What the start's replay of the write-ahead file found. */
  replayed: ReplayReport | undefined;
  /** Group commit statistics: batches written and events in them. */
  readonly stats = { batches: 0, events: 0, failures: 0 };

  constructor(
    private readonly db: Database,
    private readonly options: AuditLogOptions = {},
  ) {
    this.chain = { ...DEFAULT_CHAIN_OPTIONS, ...options.chain };
    if (options.readWal) this.wal = this.openWal(options.readWal === true ? {} : options.readWal);
  }

  private openWal(walOptions: Partial<AuditWalOptions>): AuditWal {
    return new AuditWal(
      { dir: this.options.readWalDir ?? path.join(defaultAuditKeyDir(this.db.dataDir), 'audit-wal'), ...walOptions },
      {
        // Committed durably: the file is dropped once this returns.
        commit: (events) => this.writeBatch(events, 'durable'),
        stored: async (ids) =>
          new Set(
            (
              await this.db.query<{ event_id: string }>('SELECT event_id FROM audit_chain WHERE event_id = ANY($1::text[])', [ids])
            ).rows.map((r) => r.event_id),
          ),
      },
      this.options.log,
    );
  }

  get keys(): AuditKeys {
    if (!this.keysValue) this.keysValue = this.loadKeys();
    return this.keysValue;
  }

  private loadKeys(): AuditKeys {
    const keys = loadAuditKeys(defaultAuditKeyDir(this.db.dataDir), this.options.keys);
    if (keys.generated && !process.env.VITEST)
      (this.options.log ?? console.error)(
        `[audit] no YIFANG_AUDIT_KEY / YIFANG_AUDIT_KEY_FILE configured: generated the audit chain's HMAC key and checkpoint signing key under ${keys.source.replace(/[^/\\]+$/, '')} (demo only; keep production keys outside the data directory)`,
      );
    return keys;
  }

  /**
   * Loads the keys and, with the write-ahead file, replays what a crash left in it into the
   * chain: call before serving.
   */
  async init(): Promise<void> {
    void this.keys;
    if (this.wal) this.replayed = await this.wal.open();
    else if (this.options.readWalDir && hasWalFiles(this.options.readWalDir)) {
      // Off now, on in a run that left events behind: store them, then leave the directory
      // (unless a live server that has it on holds it: that one replays it).
      const leftover = this.openWal({});
      try {
        this.replayed = await leftover.open();
      } catch (err) {
        if (!/in use by process/.test((err as Error).message)) throw err;
      }
      await leftover.close();
    }
    if (this.replayed?.replayed && !process.env.VITEST)
      (this.options.log ?? console.error)(
        `[audit] stored ${this.replayed.replayed} read event(s) from the write-ahead file left by the last run`,
      );
    this.timer = setInterval(() => void this.flushBuffer(), 1000);
    this.timer.unref();
    // Time-based checkpoints: the head is signed when events came and the last one is old enough.
    this.checkpointTimer = setInterval(
      () => void checkpointIfDue(this.db, this.keys, this.chain.checkpointMinutes).catch(() => undefined),
      Math.min(60_000, this.chain.checkpointMinutes * 60_000),
    );
    this.checkpointTimer.unref();
  }

  build(input: AuditInput): AuditEvent {
    const recorded = new Date().toISOString();
    const purpose = input.purpose?.trim();
    const code = purpose?.toUpperCase();
    const entities: NonNullable<AuditEvent['entity']> = [];
    const patients = new Set(input.patients ?? []);
    for (const e of input.entities.slice(0, 200)) {
      if (REFERENCE.test(e)) {
        if (e.startsWith('Patient/')) patients.add(e);
        else
          entities.push({
            what: { reference: e },
            type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
            role: { system: OBJECT_ROLE, code: '4', display: 'Domain Resource' },
          });
      } else entities.push({ what: { display: e.slice(0, 500) } });
    }
    const patientEntities = [...patients].slice(0, 200).map((p) => ({
      what: { reference: p },
      type: { system: ENTITY_TYPE, code: '1', display: 'Person' },
      role: { system: OBJECT_ROLE, code: '1', display: 'Patient' },
    }));
    const queryEntity = input.query
      ? [
          {
            type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
            role: { system: OBJECT_ROLE, code: '24', display: 'Query' },
            description: input.query.slice(0, 2000),
            query: Buffer.from(input.query.slice(0, 8000)).toString('base64'),
          },
        ]
      : [];
    const entity = [...patientEntities, ...entities, ...queryEntity];
    return {
      resourceType: 'AuditEvent',
      id: newResourceId(),
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'RESTful Operation' },
      subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: input.subtype }],
      action: input.action,
      recorded,
      outcome: OUTCOME_CODE[input.outcome],
      ...(input.outcomeText ? { outcomeDesc: input.outcomeText.slice(0, 1000) } : {}),
      ...(purpose
        ? {
            purposeOfEvent: [
              code && ACT_REASON[code]
                ? { coding: [{ system: V3_ACT_REASON, code, display: ACT_REASON[code] }], text: purpose }
                : { text: purpose.slice(0, 200) },
            ],
          }
        : {}),
      agent: [
        {
          type: {
            coding: [
              { system: 'http://terminology.hl7.org/CodeSystem/extra-security-role-type', code: 'humanuser', display: 'human user' },
            ],
          },
          // Users are referenced as Practitioner/<username> so the standard `agent` search finds them.
          who: {
            reference: `Practitioner/${input.user.username.replace(/[^A-Za-z0-9\-.]/g, '-')}`,
            identifier: { system: 'https://yifang.health/fhir/sid/username', value: input.user.username },
            display: input.user.displayName,
          },
          altId: input.user.username,
          name: input.user.displayName,
          role: input.user.roles.map((r) => ({ text: r })),
          requestor: true,
          ...(input.user.organization ? { location: { display: input.user.organization } } : {}),
          ...(input.sourceAddress ? { network: { address: input.sourceAddress, type: '2' as const } } : {}),
          ...(purpose ? { purposeOfUse: [{ text: purpose.slice(0, 200) }] } : {}),
        },
      ],
      source: {
        observer: { display: 'Yifang' },
        type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }],
      },
      entity: entity.length ? entity : [{ what: { display: input.subtype } }],
    };
  }

  /** Audits a write inside the caller's transaction (joins the chain there). */
  async recordNow(client: Queryable, input: AuditInput): Promise<void> {
    const event = stampAudit(this.build(input));
    await writeRows(client, [prepareRow(event)]);
    await appendToChain(client, this.keys, [event], this.chain);
  }

  /**
   * Audits a read. Durable mode: the promise settles when the event is committed (callers that
   * answer a request await it; within a request, audit-routes.ts holds the response for it
   * anyway). Never rejects unobserved.
   */
  record(input: AuditInput): Promise<void> {
    const event = stampAudit(this.build(input));
    if (this.readMode === 'buffered') {
      this.buffer.push(event);
      if (this.buffer.length >= 500) void this.flush();
      return Promise.resolve();
    }
    // The write-ahead file when there is one and it has room; if its write fails, the database.
    const logged = this.wal?.append(event);
    const p = logged ? logged.catch(() => this.commitSoon(event)) : this.commitSoon(event);
    p.catch((err: unknown) => console.error('[audit] an event could not be stored:', (err as Error).message));
    requestEvents.getStore()?.push(p);
    return p;
  }

  /** Queues an event for the next group commit; settles when it is committed. */
  private commitSoon(event: Resource): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ event, resolve, reject });
      this.kick();
    });
  }

  /**
   * Stores the reads acknowledged through the write-ahead file so far: what a reader of the
   * audit trail waits for (see `mayReadAuditTrail`). Immediate without the file.
   */
  async settle(): Promise<void> {
    if (this.wal?.backlog) await this.wal.drainReady();
  }

  /**
   * Group commit: one insert in flight; whatever queued meanwhile goes into the next. The batch
   * is taken once the connection is held (on PGlite's single connection the wait for it is
   * where events gather).
   */
  private kick(): void {
    const maxInFlight = this.db.kind === 'postgres' ? 2 : 1;
    if (this.inFlight.size >= maxInFlight || !this.queue.length) return;
    let batch: Pending[] = [];
    // One turn of the event loop first: requests already read off their sockets queue their
    // queries (and, answered, their events) before this batch takes a connection. Without it,
    // on PGlite (queries run on this thread) every batch held one event.
    const writing: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() =>
        this.writeBatch(() => {
          batch = this.queue.splice(0, 2000);
          return batch.map((b) => b.event);
        }),
      )
      .then(
        () => {
          for (const b of batch) b.resolve();
        },
        (err: unknown) => {
          this.stats.failures++;
          // Failed before the batch was taken (no connection): what waits fails with it.
          if (!batch.length) batch = this.queue.splice(0);
          for (const b of batch) b.reject(err);
        },
      )
      .finally(() => {
        this.inFlight.delete(writing);
        this.kick();
      });
    this.inFlight.add(writing);
  }

  private async writeBatch(take: Resource[] | (() => Resource[]), commit: 'async' | 'durable' = 'async'): Promise<void> {
    let n = 0;
    await this.db.transaction(async (client) => {
      // Durable against the server process dying (kill -9: the commit is in PostgreSQL's WAL
      // buffer before the response leaves) without a disk flush per read: a crash of PostgreSQL
      // itself may lose the last ~0.6 s of read events, together with their chain links. Not for
      // the write-ahead file's drain, which drops the file once the commit returns.
      if (this.db.kind === 'postgres' && commit === 'async') await client.query('SET LOCAL synchronous_commit = off');
      const events = typeof take === 'function' ? take() : take;
      n = events.length;
      await writeRows(
        client,
        events.map((e) => prepareRow(e)),
      );
      await appendToChain(client, this.keys, events, this.chain);
    });
    this.stats.batches++;
    this.stats.events += n;
  }

  /** Stores the events of buffered mode (each second). */
  private async writeBuffer(): Promise<void> {
    if (!this.buffer.length) return;
    const events = this.buffer;
    this.buffer = [];
    try {
      await this.writeBatch(events);
    } catch (err) {
      console.error('[audit] flush failed, will retry:', (err as Error).message);
      this.buffer.unshift(...events);
    }
  }

  private flushBuffer(): Promise<void> {
    if (!this.buffer.length) return this.flushing;
    this.flushing = this.flushing.then(() => this.writeBuffer());
    return this.flushing;
  }

  /**
   * Stores everything recorded so far: buffered events, the read write-ahead file's (and
   * removes its drained files), and the group commit queue.
   */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      await this.writeBuffer();
      if (this.wal)
        await this.wal
          .flush()
          .catch((err: unknown) => console.error('[audit] flush of the write-ahead file failed:', (err as Error).message));
      while (this.inFlight.size || this.queue.length) {
        this.kick();
        await Promise.all([...this.inFlight]).catch(() => undefined);
      }
    });
    return this.flushing;
  }

  /** Signs a checkpoint of the head now if events came since the last one. */
  checkpoint(): Promise<boolean> {
    return checkpointIfDue(this.db, this.keys, 0);
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.checkpointTimer) clearInterval(this.checkpointTimer);
    await this.flush();
    // Takes no more appends (a read still answering is committed directly), drains, removes the files.
    await this.wal?.close();
    await this.flush();
  }
}

function stampAudit(event: AuditEvent): Resource {
  return { ...event, meta: { versionId: '1', lastUpdated: event.recorded } } as Resource;
}
