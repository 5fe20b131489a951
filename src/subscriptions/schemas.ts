/** Request and answer shapes of /api/subscriptions/… (zod; also the OpenAPI description). */
import { z } from 'zod';

export const DELIVERY_STATUSES = ['pending', 'sending', 'delivered', 'failed'] as const;

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});
const list = <T extends z.ZodTypeAny>(item: T) =>
  z.object({ items: z.array(item), total: z.number().int(), limit: z.number().int(), offset: z.number().int() });

const Counts = z.object({ pending: z.number().int(), sending: z.number().int(), delivered: z.number().int(), failed: z.number().int() });

export const SubscriptionView = z.object({
  id: z.string(),
  status: z.string().describe('requested, active, error or off (R4 SubscriptionStatus)'),
  criteria: z.string(),
  reason: z.string().optional(),
  endpoint: z.string().optional(),
  payload: z.string().optional().describe('application/fhir+json: the resource is sent; absent: an empty notification'),
  end: z.string().optional(),
  error: z.string().optional(),
  deliveries: Counts,
});
export const SubscriptionList = list(SubscriptionView);
export type SubscriptionView = z.infer<typeof SubscriptionView>;

export const DeliveryQuery = PageQuery.extend({
  subscription: z.string().max(64).optional(),
  status: z.enum(DELIVERY_STATUSES).optional(),
});
export const DeliveryView = z.object({
  id: z.number().int(),
  subscriptionId: z.string(),
  resourceType: z.string(),
  resourceId: z.string(),
  versionId: z.number().int(),
  status: z.enum(DELIVERY_STATUSES),
  attempts: z.number().int(),
  roundAttempts: z.number().int(),
  nextAttemptAt: z.coerce.string(),
  lastHttpStatus: z.number().int().nullable(),
  lastError: z.string().nullable(),
  createdAt: z.coerce.string(),
  deliveredAt: z.coerce.string().nullable(),
  resentCount: z.number().int(),
  resentBy: z.string().nullable(),
});
export const DeliveryList = list(DeliveryView);
export const AttemptView = z.object({
  attempt: z.number().int(),
  method: z.string(),
  url: z.string(),
  startedAt: z.coerce.string(),
  endedAt: z.coerce.string(),
  httpStatus: z.number().int().nullable(),
  outcome: z.enum(['delivered', 'http-error', 'timeout', 'refused', 'error']),
  detail: z.string().nullable(),
});
export const DeliveryDetail = z.object({ delivery: DeliveryView, attempts: z.array(AttemptView) });
export const DeliveryParam = z.object({ id: z.coerce.number().int().min(1) });
