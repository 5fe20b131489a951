/**
 * Sends what sub_delivery holds. A loop (every second, and at once when the processor queued
 * something) leases due deliveries; for each it reads the Subscription (ended or no longer active:
 * given up with that reason) and the resource version that matched, and makes the R4 REST-hook
 * request: with a payload, PUT [endpoint]/[type]/[id] carrying the resource; without, an empty
 * POST to the endpoint. A 2xx answer confirms it. Anything else — another status, a timeout, a
 * refused connection, a target the outbound policy forbids — is retried after 5 s doubling to
 * 10 min, and after 8 failed attempts in a round the delivery is failed with the last reason
 * until a user resends it. Each attempt is logged; each delivered resource is audited as a
 * disclosure to the subscriber.
 *
 * Targets pass the same outbound guard as alert webhooks (src/platform/net-guard.ts, allow-list
 * config/security/webhooks.json or WEBHOOKS_CONFIG): checked on the address connected to.
 */
import type { Resource, Subscription } from '@medplum/fhirtypes';
import type { AuditLog } from '../fhir/audit.js';
import type { FhirRepository } from '../fhir/repository.js';
import type { Database } from '../platform/db.js';
import { configuredOutboundPolicy, requestGuarded, type OutboundPolicy, type Resolver } from '../platform/net-guard.js';
import { backoffMs, inForce, MAX_ATTEMPTS, notificationRequest, parseChannel } from './criteria.js';
import { claimDue, failWithoutAttempt, recordAttempt, type AttemptRow, type DeliveryRow } from './store.js';

const LEASE_MS = 5 * 60_000;
const BATCH = 20;

export interface DeliverOptions {
  timeoutMs?: number;
  policy?: () => OutboundPolicy;
  resolve?: Resolver;
}

/** One request through the outbound guard (the allow-list shared with alert webhooks); resolves to the status. */
const send = (
  req: { method: string; url: string; body?: string },
  headers: [string, string][],
  contentType: string | undefined,
  o: DeliverOptions,
) =>
  requestGuarded(
    new URL(req.url),
    {
      method: req.method,
      headers: { ...Object.fromEntries(headers), ...(contentType ? { 'content-type': contentType } : {}) },
      body: req.body ?? '',
      timeoutMs: o.timeoutMs ?? 10_000,
    },
    (o.policy ?? configuredOutboundPolicy)(),
    o.resolve,
  );

function outcomeOf(err: unknown): AttemptRow['outcome'] {
  const e = err as { name?: string; code?: string; message?: string };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'timeout';
  if (e.code === 'ECONNREFUSED' || /not allowed|forbidden|refused|resolves to/i.test(e.message ?? '')) return 'refused';
  return 'error';
}

const patientOf = (r: Resource): string | undefined => {
  if (r.resourceType === 'Patient') return `Patient/${r.id}`;
  const ref =
    (r as { subject?: { reference?: string }; patient?: { reference?: string } }).subject?.reference ??
    (r as { patient?: { reference?: string } }).patient?.reference;
  return ref?.startsWith('Patient/') ? ref : undefined;
};

/** Sends one round of due deliveries; returns how many were delivered and failed for good. */
export async function deliverDue(
  deps: { db: Database; repo: FhirRepository; audit: AuditLog },
  o: DeliverOptions = {},
): Promise<{ delivered: number; failed: number; retried: number }> {
  const out = { delivered: 0, failed: 0, retried: 0 };
  for (;;) {
    const due = await deps.db.transaction((c) => claimDue(c, BATCH, LEASE_MS));
    if (!due.length) return out;
    for (const d of due) await deliverOne(deps, d, o, out);
    if (due.length < BATCH) return out;
  }
}

async function deliverOne(
  deps: { db: Database; repo: FhirRepository; audit: AuditLog },
  d: DeliveryRow,
  o: DeliverOptions,
  out: { delivered: number; failed: number; retried: number },
): Promise<void> {
  const sub = (await deps.repo.read('Subscription', d.subscriptionId).catch(() => undefined)) as Subscription | undefined;
  if (!sub || !inForce(sub, new Date())) {
    await failWithoutAttempt(deps.db.pool, d.id, 'the subscription is no longer active');
    out.failed++;
    return;
  }
  let resource: Resource;
  try {
    resource = await deps.repo.vread(d.resourceType, d.resourceId, String(d.versionId));
  } catch (err) {
    await failWithoutAttempt(deps.db.pool, d.id, `the resource version is not available: ${(err as Error).message}`);
    out.failed++;
    return;
  }
  const channel = parseChannel(sub);
  const req = notificationRequest(channel, channel.payload ? (resource as { resourceType: string; id: string }) : undefined);
  const startedAt = new Date().toISOString();
  let status: number | null = null;
  let outcome: AttemptRow['outcome'];
  let detail: string | null = null;
  try {
    status = await send(req, channel.headers, channel.payload, o);
    outcome = status >= 200 && status < 300 ? 'delivered' : 'http-error';
    if (outcome !== 'delivered') detail = `answered HTTP ${status}`;
  } catch (err) {
    outcome = outcomeOf(err);
    detail = (err as Error).message;
  }
  const attempt = { method: req.method, url: req.url, startedAt, endedAt: new Date().toISOString(), httpStatus: status, outcome, detail };
  await deps.db.transaction(async (c) => {
    if (outcome === 'delivered') {
      await recordAttempt(c, d, attempt, { status: 'delivered' });
      const patient = patientOf(resource);
      await deps.audit.recordNow(c, {
        user: { username: 'system', displayName: 'FHIR Subscription delivery', roles: [] },
        action: 'R',
        subtype: 'subscription-notify',
        entities: [`${d.resourceType}/${d.resourceId}/_history/${d.versionId}`, `Subscription/${d.subscriptionId}`],
        outcome: 'success',
        outcomeText: `${req.method} ${new URL(req.url).origin} → HTTP ${status}`,
        ...(patient ? { patients: [patient] } : {}),
      });
      out.delivered++;
    } else if (d.roundAttempts + 1 >= MAX_ATTEMPTS) {
      await recordAttempt(c, d, attempt, { status: 'failed', error: `gave up after ${d.roundAttempts + 1} attempts: ${detail}` });
      out.failed++;
    } else {
      await recordAttempt(c, d, attempt, {
        status: 'pending',
        nextAttemptAt: new Date(Date.now() + backoffMs(d.roundAttempts + 1)),
        error: detail ?? undefined,
      });
      out.retried++;
    }
  });
}
