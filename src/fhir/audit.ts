/**
 * Audit trail as FHIR AuditEvent resources. Writes are audited inside their own transaction
 * (the caller passes its client); reads and searches go through a buffer flushed every second
 * and on shutdown, so auditing never sits on the read path.
 *
 * Tamper evidence: each AuditEvent carries a SHA-256 chain hash over the previous event's hash
 * and its own content (an entity detail "chain-hash"), so an edited or removed event breaks the
 * chain from that point on.
 */
import { newResourceId } from './ids.js';
import { createHash } from 'node:crypto';
import type { AuditEvent, Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../platform/db.js';
import { prepareRow, writeRows } from './repository.js';
import { currentContentSql } from './schema.js';
import type { AuthUser } from '../platform/auth.js';
import type { Database } from '../platform/db.js';

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
  /** Purpose of use (investigation access), when stated. */
  purpose?: string;
}

const OUTCOME_CODE = { success: '0', failure: '8' } as const;

export class AuditLog {
  private buffer: Resource[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastHash = '';
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly db: Database) {}

  async init(): Promise<void> {
    const r = await this.db.query<{ h: string | null }>(
      `SELECT ${currentContentSql('t', 'AuditEvent')} #>> '{entity,0,detail,0,valueString}' AS h FROM r_auditevent t ORDER BY t.last_updated DESC, t.id DESC LIMIT 1`,
    );
    this.lastHash = r.rows[0]?.h ?? '';
    this.timer = setInterval(() => void this.flush(), 1000);
    this.timer.unref();
  }

  build(input: AuditInput): AuditEvent {
    const recorded = new Date().toISOString();
    const base: AuditEvent = {
      resourceType: 'AuditEvent',
      id: newResourceId(),
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'RESTful Operation' },
      subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: input.subtype }],
      action: input.action,
      recorded,
      outcome: OUTCOME_CODE[input.outcome],
      ...(input.outcomeText ? { outcomeDesc: input.outcomeText.slice(0, 1000) } : {}),
      ...(input.purpose ? { purposeOfEvent: [{ text: input.purpose }] } : {}),
      agent: [
        {
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
        },
      ],
      source: { observer: { display: 'Yifang' } },
      entity: input.entities
        .slice(0, 200)
        .map((e) => (/^[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]+$/.test(e) ? { what: { reference: e } } : { what: { display: e.slice(0, 500) } })),
    };
    const hash = createHash('sha256').update(this.lastHash).update(JSON.stringify(base)).digest('hex');
    this.lastHash = hash;
    if (!base.entity!.length) base.entity = [{ what: { display: input.subtype } }];
    base.entity![0]!.detail = [{ type: 'chain-hash', valueString: hash }];
    return base;
  }

  /** Audits a write inside the caller's transaction. */
  async recordNow(client: Queryable, input: AuditInput): Promise<void> {
    await writeRows(client, [prepareRow(stampAudit(this.build(input)))]);
  }

  /** Audits a read; persisted within about a second. */
  record(input: AuditInput): void {
    this.buffer.push(stampAudit(this.build(input)));
    if (this.buffer.length >= 500) void this.flush();
  }

  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (!this.buffer.length) return;
      const events = this.buffer;
      this.buffer = [];
      try {
        await writeRows(
          this.db.pool,
          events.map((e) => prepareRow(e)),
        );
      } catch (err) {
        console.error('[audit] flush failed, will retry:', (err as Error).message);
        this.buffer.unshift(...events);
      }
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }
}

function stampAudit(event: AuditEvent): Resource {
  return { ...event, meta: { versionId: '1', lastUpdated: event.recorded } } as Resource;
}
