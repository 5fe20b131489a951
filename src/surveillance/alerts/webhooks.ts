/**
 * Webhook notifications for alerts. An event is queued in surv_webhook_delivery (same
 * transaction as nothing else: it is written right after the alert change) and a deliverer
 * loop posts it; failures are retried with exponential backoff (2^attempts seconds, at most
 * an hour) up to MAX_ATTEMPTS, then marked failed. Each POST carries an HMAC-SHA256 signature
 * of the body when the subscription has a secret.
 *
 * Targets (issue #15): a URL whose host resolves to a loopback, link-local (cloud metadata),
 * private, multicast or otherwise internal address is refused at registration (400) and again
 * at each send, on the address the connection actually uses (no DNS rebinding), unless allowed
 * in config/security/webhooks.json (or the file named by WEBHOOKS_CONFIG).
 */
import { createHmac } from 'node:crypto';
import type { Database } from '../../platform/db.js';
import { PollingLoop } from '../../platform/polling-loop.js';
import { badRequest } from '../../platform/errors.js';
import {
  checkTarget,
  configuredOutboundPolicy,
  DEFAULT_OUTBOUND_POLICY_FILE,
  requestGuarded,
  type OutboundPolicy,
  type Resolver,
} from '../../platform/net-guard.js';
import type { WriteAudit } from '../reporting/store.js';
import type { Webhook, WebhookDelivery } from '../schemas.js';

export const MAX_ATTEMPTS = 8;

export const DEFAULT_WEBHOOKS_CONFIG = DEFAULT_OUTBOUND_POLICY_FILE;

/** The webhook allow-list: WEBHOOKS_CONFIG if set, else config/security/webhooks.json (read at each check). */
export const webhookPolicy = configuredOutboundPolicy;

/** How targets are checked (tests give a resolver and a policy). */
export interface TargetCheck {
  policy?: () => OutboundPolicy;
  resolve?: Resolver;
}

/** POSTs a body with the connection's address checked by the guard; resolves to the HTTP status. */
const postGuarded = (url: URL, headers: Record<string, string>, body: string, timeoutMs: number, check: TargetCheck): Promise<number> =>
  requestGuarded(url, { method: 'POST', headers, body, timeoutMs }, (check.policy ?? webhookPolicy)(), check.resolve);

export async function addWebhook(
  db: Database,
  url: unknown,
  secret: unknown,
  createdBy: string,
  audit?: WriteAudit,
  check: TargetCheck = {},
): Promise<{ id: number; url: string }> {
  if (typeof url !== 'string') throw badRequest('url: mandatory');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw badRequest(`url: not a URL (${url})`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw badRequest('url: must be http or https');
  if (secret !== undefined && secret !== null && typeof secret !== 'string') throw badRequest('secret: must be a string');
  try {
    await checkTarget(parsed, (check.policy ?? webhookPolicy)(), check.resolve);
  } catch (err) {
    throw badRequest(`url: ${(err as Error).message}`);
  }
  return db.transaction(async (c) => {
    const r = await c.query<{ id: number; url: string }>(
      'INSERT INTO surv_webhook (url, secret, created_by) VALUES ($1, $2, $3) RETURNING id, url',
      [url, secret ?? null, createdBy],
    );
    await audit?.(c, {
      subtype: 'webhook-subscribe',
      entities: [`webhook ${r.rows[0]!.id}`],
      outcomeText: `alert webhook ${parsed.origin}${parsed.pathname}`,
    });
    return r.rows[0]!;
  });
}

export async function listWebhooks(db: Database): Promise<Webhook[]> {
  const r = await db.query<Webhook>(
    `SELECT w.id, w.url, w.active, w.created_by AS "createdBy", w.created_at AS "createdAt",
       (SELECT count(*)::int FROM surv_webhook_delivery d WHERE d.webhook_id = w.id AND d.status = 'pending') AS pending,
       (SELECT count(*)::int FROM surv_webhook_delivery d WHERE d.webhook_id = w.id AND d.status = 'failed') AS failed
     FROM surv_webhook w ORDER BY w.id`,
  );
  return r.rows;
}

export async function listDeliveries(db: Database, webhookId: number): Promise<WebhookDelivery[]> {
  const r = await db.query<WebhookDelivery>(
    `SELECT id, alert_id AS "alertId", event, status, attempts, next_attempt_at AS "nextAttemptAt", last_error AS "lastError", delivered_at AS "deliveredAt"
     FROM surv_webhook_delivery WHERE webhook_id = $1 ORDER BY id DESC LIMIT 200`,
    [webhookId],
  );
  return r.rows;
}

export class WebhookDeliverer {
  private readonly loop: PollingLoop;

  constructor(
    private readonly db: Database,
    private readonly options: { pollMs?: number; timeoutMs?: number; backoffBaseMs?: number } & TargetCheck = {},
  ) {
    this.loop = new PollingLoop(() => this.deliverDue(), options.pollMs ?? 1000, 'webhooks');
  }

  /** Queues one event for every active subscription and wakes the loop. */
  async enqueue(event: string, alertId: number | null, payload: unknown): Promise<void> {
    await this.db.query(
      `INSERT INTO surv_webhook_delivery (webhook_id, alert_id, event, payload) SELECT id, $1, $2, $3 FROM surv_webhook WHERE active`,
      [alertId, event, JSON.stringify(payload)],
    );
    this.poke();
  }

  start(): void {
    this.loop.start();
  }

  poke(): void {
    this.loop.poke();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** Sends every due delivery once; returns how many were attempted. */
  async deliverDue(): Promise<number> {
    const due = await this.db.query<{ id: number; url: string; secret: string | null; payload: unknown; attempts: number; event: string }>(
      `SELECT d.id, w.url, w.secret, d.payload, d.attempts, d.event FROM surv_webhook_delivery d JOIN surv_webhook w ON w.id = d.webhook_id
       WHERE d.status = 'pending' AND d.next_attempt_at <= now() ORDER BY d.id LIMIT 50`,
    );
    for (const d of due.rows) {
      const body = JSON.stringify(d.payload);
      let error: string | null = null;
      try {
        const headers: Record<string, string> = {
          'content-type': 'application/json',
          'x-yifang-event': d.event,
          'x-yifang-delivery': String(d.id),
        };
        if (d.secret) headers['x-yifang-signature'] = `sha256=${createHmac('sha256', d.secret).update(body).digest('hex')}`;
        // Checked again here, on the address connected to: the name may resolve elsewhere now.
        const status = await postGuarded(new URL(d.url), headers, body, this.options.timeoutMs ?? 5000, this.options);
        if (status < 200 || status >= 300) error = `HTTP ${status}`;
      } catch (e) {
        error = (e as Error).message;
      }
      const attempts = d.attempts + 1;
      if (!error) {
        await this.db.query(
          `UPDATE surv_webhook_delivery SET status = 'delivered', attempts = $2, delivered_at = now(), last_error = NULL WHERE id = $1`,
          [d.id, attempts],
        );
      } else {
        const base = this.options.backoffBaseMs ?? 1000;
        const wait = Math.min(base * 2 ** (attempts - 1), 3_600_000);
        await this.db.query(
          `UPDATE surv_webhook_delivery SET status = $2, attempts = $3, last_error = $4, next_attempt_at = now() + ($5::int * interval '1 millisecond') WHERE id = $1`,
          [d.id, attempts >= MAX_ATTEMPTS ? 'failed' : 'pending', attempts, error.slice(0, 500), wait],
        );
      }
    }
    return due.rows.length;
  }
}
