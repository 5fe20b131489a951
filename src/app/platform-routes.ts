/**
 * Platform routes that belong to no capability: the change-log processors' dead letters (list,
 * replay). Routes validate, guard, call one store function, audit and return.
 */
import { z } from 'zod';
import { notFound } from '../platform/errors.js';
import type { ModuleContext } from '../platform/module.js';
import { typed } from '../platform/openapi.js';
import { listProcessorDeadLetters, replayProcessorDeadLetter } from '../platform/processor-dead-letters.js';

const Status = z.enum(['retrying', 'parked', 'resolved', 'superseded']);

export const ProcessorDeadLetterSchema = z.object({
  processor: z.string(),
  seq: z.number(),
  resourceType: z.string(),
  resourceId: z.string(),
  versionId: z.number(),
  status: Status,
  attempts: z.number(),
  error: z.string(),
  firstFailedAt: z.string(),
  lastFailedAt: z.string(),
  nextAttemptAt: z.string().nullable(),
  replayedBy: z.string().nullable(),
});
export type ProcessorDeadLetterRow = z.infer<typeof ProcessorDeadLetterSchema>;
export const ProcessorDeadLetterList = z.object({ total: z.number(), rows: z.array(ProcessorDeadLetterSchema) });
export type ProcessorDeadLetterPage = z.infer<typeof ProcessorDeadLetterList>;

export function registerPlatformRoutes(ctx: ModuleContext): void {
  const app = typed(ctx.app);
  app.get(
    '/api/processors/dead-letters',
    {
      schema: {
        summary: 'Changes a change-log processor failed on: retrying, parked (given up, with the error), resolved or superseded',
        tags: ['integration'],
        querystring: z.object({
          status: Status.optional(),
          processor: z.string().max(64).optional(),
          limit: z.coerce.number().int().min(1).max(500).default(50),
          offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
        }),
        response: { 200: ProcessorDeadLetterList },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'import');
      const page = await listProcessorDeadLetters(ctx.db.pool, req.query);
      ctx.audit.record({
        user,
        action: 'R',
        subtype: 'processor-dead-letters',
        entities: page.rows.map((r) => `${r.resourceType}/${r.resourceId}`),
        outcome: 'success',
        sourceAddress: req.ip,
      });
      return page;
    },
  );

  app.post(
    '/api/processors/dead-letters/:processor/:seq/replay',
    {
      schema: {
        summary: 'Try a parked change again now (after its record or the processor was fixed)',
        tags: ['integration'],
        params: z.object({ processor: z.string().max(64), seq: z.coerce.number().int().positive() }),
        response: { 200: z.object({ processor: z.string(), seq: z.number(), status: z.literal('retrying') }) },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'import');
      const { processor, seq } = req.params;
      if (!(await replayProcessorDeadLetter(ctx.db.pool, processor, seq, user.username)))
        throw notFound(`No parked or retrying change ${seq} for processor '${processor}'`);
      ctx.audit.record({
        user,
        action: 'U',
        subtype: 'processor-replay',
        entities: [`processor:${processor}:${seq}`],
        outcome: 'success',
        sourceAddress: req.ip,
      });
      ctx.processors.poke();
      return { processor, seq, status: 'retrying' as const };
    },
  );
}
