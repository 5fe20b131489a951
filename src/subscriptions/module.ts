/**
 * FHIR Subscription, REST-hook (issue #20 item 4: a verified result goes back "as a FHIR resource
 * to a subscribed endpoint"). A Subscription is written through /fhir; its criteria and channel
 * are checked on every write (422 for what this server cannot serve), the change-log processor
 * makes it active and queues every created or updated resource matching its criteria, and the
 * delivery loop sends them with retries and a log (/api/subscriptions/…).
 */
import { registerResourceCheck } from '../fhir/validate.js';
import { sqlFile } from '../platform/migrations.js';
import type { YifangModule } from '../platform/module.js';
import { PollingLoop } from '../platform/polling-loop.js';
import { refuseSubscription } from './criteria.js';
import { deliverDue } from './deliver.js';
import { DELIVERIES_QUEUED, subscriptionProcessor } from './processor.js';
import { registerSubscriptionRoutes } from './routes.js';

/** How often the delivery loop looks for notifications due (it is also poked when the processor queues some). */
export const DELIVERY_POLL_MS = 1_000;

export const subscriptionsModule: YifangModule = {
  name: 'subscriptions',
  migrations: {
    range: [840, 859],
    list: [{ version: 840, name: 'subscriptions', sql: sqlFile(new URL('./migrations/840_subscriptions.sql', import.meta.url)) }],
  },
  processors: ({ repo, emit }) => [subscriptionProcessor({ repo, emit })],
  async register(ctx) {
    registerResourceCheck('Subscription', 'subscriptions-rest-hook', refuseSubscription);
    const loop = new PollingLoop(
      async () => {
        const r = await deliverDue({ db: ctx.db, repo: ctx.repo, audit: ctx.audit });
        if (r.failed) ctx.log(`subscriptions: ${r.failed} notification(s) failed (see /api/subscriptions/deliveries?status=failed)`);
      },
      DELIVERY_POLL_MS,
      'subscriptions',
    );
    ctx.onProcessorEvent(DELIVERIES_QUEUED, () => loop.poke());
    registerSubscriptionRoutes(ctx, () => loop.poke());
    loop.start();
    ctx.onClose(() => loop.stop());
  },
};

export default subscriptionsModule;
