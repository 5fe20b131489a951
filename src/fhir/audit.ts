/**
 * Audit trail as FHIR AuditEvent resources in the shape of IHE Basic Audit Log Patterns (BALP):
 * the user (agent with username, organisation and network address), the patient the event is
 * about (entity role 1), the query of a search (entity role 24, base64), and the purpose of use
 * when one was stated (purposeOfEvent, v3 ActReason codes).
 *
 * Every event joins the store's one hash chain in the transaction that stores it
 * (audit-chain.ts: sequence and previous hash from the database, keyed HMAC links, signed
 * checkpoints). Writes are audited inside their own transaction (`recordNow`). Reads
 * (`record`) are durable before their response leaves: events go through a group commit —
 * while one insert is in flight the events that arrive wait and go together into the next —
 * and the returned promise settles when the event is committed. `readMode = 'buffered'` keeps
 * the old behaviour (a flush each second) for the throughput comparison only.
 *
 * AuditEvent is read-only to every API: `refuseAuditEventWrite` is what REST, Bundles and
 * imports call.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { AuditEvent, Resource } from '@medplum/fhirtypes';
import { newResourceId } from './ids.js';
import type { Database, Queryable } from '../platform/db.js';
import { forbidden } from '../platform/errors.js';
import { prepareRow, writeRows } from './repository.js';
import type { AuthUser } from '../platform/auth.js';
import { appendToChain, checkpointIfDue, DEFAULT_CHAIN_OPTIONS, type ChainOptions } from './audit-chain.js';
import { defaultAuditKeyDir, loadAuditKeys, type AuditKeyConfig, type AuditKeys } from './audit-keys.js';

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
  /** Group commit statistics: batches written and events in them. */
  readonly stats = { batches: 0, events: 0, failures: 0 };

  constructor(
    private readonly db: Database,
    private readonly options: AuditLogOptions = {},
  ) {
    this.chain = { ...DEFAULT_CHAIN_OPTIONS, ...options.chain };
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

  async init(): Promise<void> {
    void this.keys;
    this.timer = setInterval(() => void this.flush(), 1000);
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
    const p = new Promise<void>((resolve, reject) => {
      this.queue.push({ event, resolve, reject });
      this.kick();
    });
    p.catch((err: unknown) => console.error('[audit] an event could not be stored:', (err as Error).message));
    requestEvents.getStore()?.push(p);
    return p;
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

  private async writeBatch(take: Resource[] | (() => Resource[])): Promise<void> {
    let n = 0;
    await this.db.transaction(async (client) => {
      // Durable against the server process dying (kill -9: the commit is in PostgreSQL's WAL
      // buffer before the response leaves) without a disk flush per read: a crash of PostgreSQL
      // itself may lose the last ~0.6 s of read events, together with their chain links.
      if (this.db.kind === 'postgres') await client.query('SET LOCAL synchronous_commit = off');
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

  /** Stores everything recorded so far (buffered events and the group commit queue). */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.buffer.length) {
        const events = this.buffer;
        this.buffer = [];
        try {
          await this.writeBatch(events);
        } catch (err) {
          console.error('[audit] flush failed, will retry:', (err as Error).message);
          this.buffer.unshift(...events);
        }
      }
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
  }
}

function stampAudit(event: AuditEvent): Resource {
  return { ...event, meta: { versionId: '1', lastUpdated: event.recorded } } as Resource;
}
