/** What the routes call: subscriptions with their delivery counts, deliveries, resend. */
import type { Subscription } from '@medplum/fhirtypes';
import type { AuditLog } from '../fhir/audit.js';
import type { AuthUser } from '../platform/auth.js';
import type { Database } from '../platform/db.js';
import { notFound, conflict } from '../platform/errors.js';
import { search } from '../fhir/search.js';
import { countsBySubscription, getDelivery, listDeliveries, requeue, type DeliveryStatus } from './store.js';
import type { SubscriptionView } from './schemas.js';

export async function subscriptions(db: Database, q: { limit: number; offset: number }) {
  const page = await search(
    db.pool,
    'Subscription',
    {
      params: [
        ['_count', String(q.limit)],
        ['_offset', String(q.offset)],
        ['_sort', '-_lastUpdated'],
      ],
    },
    'urn:yifang:subscription',
  );
  const subs = (page.bundle.entry ?? []).map((e) => e.resource as Subscription);
  const counts = await countsBySubscription(
    db.pool,
    subs.map((s) => s.id!),
  );
  const items: SubscriptionView[] = subs.map((s) => ({
    id: s.id!,
    status: s.status,
    criteria: s.criteria,
    ...(s.reason ? { reason: s.reason } : {}),
    ...(s.channel?.endpoint ? { endpoint: s.channel.endpoint } : {}),
    ...(s.channel?.payload ? { payload: s.channel.payload } : {}),
    ...(s.end ? { end: s.end } : {}),
    ...(s.error ? { error: s.error } : {}),
    deliveries: counts.get(s.id!) ?? { pending: 0, sending: 0, delivered: 0, failed: 0 },
  }));
  return { items, total: page.bundle.total ?? items.length, limit: q.limit, offset: q.offset };
}

export async function deliveries(db: Database, q: { subscription?: string; status?: DeliveryStatus; limit: number; offset: number }) {
  const r = await listDeliveries(db.pool, q);
  return { ...r, limit: q.limit, offset: q.offset };
}

export async function delivery(db: Database, id: number) {
  const d = await getDelivery(db.pool, id);
  if (!d) throw notFound(`delivery ${id} not found`);
  return d;
}

/**
 * A failed delivery goes back to the queue for a new round of attempts, audited in the same
 * transaction (409 when it has not failed).
 */
export async function resend(db: Database, audit: AuditLog, id: number, user: AuthUser, sourceAddress: string) {
  return db.transaction(async (c) => {
    const r = await requeue(c, id, user.username);
    if (!r) {
      const d = await getDelivery(c, id);
      if (!d) throw notFound(`delivery ${id} not found`);
      throw conflict(`delivery ${id} is ${d.delivery.status}: only a failed delivery is resent`);
    }
    await audit.recordNow(c, {
      user,
      action: 'U',
      subtype: 'subscription-resend',
      entities: [`subscription delivery ${r.id}`, `Subscription/${r.subscriptionId}`],
      outcome: 'success',
      sourceAddress,
    });
    return r;
  });
}
