/**
 * /api/subscriptions/… (issue #20 item 4: results to a subscribed endpoint): the FHIR
 * Subscriptions with what each was sent, the deliveries and their attempt log, resend. The
 * Subscriptions themselves are written through /fhir/Subscription. Thin: validate, guard, call
 * one function (which audits a change), answer.
 */
import { z } from 'zod';
import type { ModuleContext } from '../platform/module.js';
import { typed } from '../platform/openapi.js';
import { DeliveryDetail, DeliveryList, DeliveryParam, DeliveryQuery, DeliveryView, PageQuery, SubscriptionList } from './schemas.js';
import { deliveries, delivery, resend, subscriptions } from './service.js';

const tags = ['subscriptions'];
const Problem = z.record(z.unknown()).describe('OperationOutcome naming the problem');

export function registerSubscriptionRoutes(ctx: ModuleContext, poke: () => void): void {
  const app = typed(ctx.app);

  app.get(
    '/api/subscriptions',
    {
      schema: {
        summary: 'FHIR Subscriptions (REST-hook), newest first, paged with the total, each with its deliveries by status',
        tags,
        querystring: PageQuery,
        response: { 200: SubscriptionList },
      },
    },
    async (req) => {
      await ctx.guard(req, 'import');
      return subscriptions(ctx.db, req.query);
    },
  );

  app.get(
    '/api/subscriptions/deliveries',
    {
      schema: {
        summary:
          'Notifications owed to subscribers, newest first, paged with the total: pending, sending, delivered (a 2xx answer) or failed (with the last reason)',
        tags,
        querystring: DeliveryQuery,
        response: { 200: DeliveryList },
      },
    },
    async (req) => {
      await ctx.guard(req, 'import');
      return deliveries(ctx.db, req.query);
    },
  );

  app.get(
    '/api/subscriptions/deliveries/:id',
    {
      schema: {
        summary: 'One notification with every attempt: method, URL, HTTP status, outcome and reason',
        tags,
        params: DeliveryParam,
        response: { 200: DeliveryDetail, 404: Problem },
      },
    },
    async (req) => {
      await ctx.guard(req, 'import');
      return delivery(ctx.db, req.params.id);
    },
  );

  app.post(
    '/api/subscriptions/deliveries/:id/resend',
    {
      schema: {
        summary: 'Sends a failed notification again: a new round of attempts (409 when it has not failed)',
        tags,
        params: DeliveryParam,
        response: { 200: DeliveryView, 404: Problem, 409: Problem },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'import');
      const d = await resend(ctx.db, ctx.audit, req.params.id, user, req.ip);
      poke();
      return d;
    },
  );
}
