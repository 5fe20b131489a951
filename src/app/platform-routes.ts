/**
 * Platform routes that belong to no capability: the change-log processors' dead letters (list,
 * replay) and how far behind they are (status). Routes validate, guard, call one store function,
 * audit and return.
 */
import { z } from 'zod';
import { notFound } from '../platform/errors.js';
import type { ModuleContext } from '../platform/module.js';
import type { ProcessorLag } from '../platform/processors.js';
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

/** What each processor derives, for the screens that say what is still being worked through; an unknown one is named. */
const PROCESSOR_LABELS: Record<string, { zh: string; en: string }> = {
  'identity-mpi': { zh: '居民身份匹配', en: 'Resident identity matching' },
  'identity-search': { zh: '居民检索索引', en: 'Resident search index' },
  'quality-records': { zh: '数据质量统计', en: 'Data-quality counts' },
  'investigation-stays': { zh: '流调就诊轨迹', en: 'Visit trails for investigations' },
  'investigation-auto-open': { zh: '流调自动立案', en: 'Automatic opening of investigations' },
  'portrait-residents': { zh: '居民健康画像', en: 'Resident health portraits' },
  'surveillance-visits': { zh: '症状监测就诊计数', en: 'Syndromic surveillance visit counts' },
  'surveillance-report-drafts': { zh: '传染病报告卡草稿', en: 'Notifiable-disease report drafts' },
  'registry-fhir': { zh: '机构与地点名录', en: 'Facility and place registry' },
  subscriptions: { zh: '数据订阅推送', en: 'Subscription notifications' },
  programmes: { zh: '基本公卫项目名单与指标', en: 'Public-health programme registers and indicators' },
  'chronic-care': { zh: '慢病登记与随访', en: 'Chronic-care registers and follow-up' },
  'vaccine-supply-doses': { zh: '疫苗接种剂次与库存', en: 'Vaccine doses and stock' },
};

export const ProcessorStatusSchema = z.object({
  /** Some processor has changes left to derive: figures and lists may not include the newest records yet. */
  catchingUp: z.boolean(),
  /** The largest lag (what the slowest processor has left). */
  pending: z.number(),
  processors: z.array(
    z.object({
      name: z.string(),
      label: z.object({ zh: z.string(), en: z.string() }),
      /** Changes of its types past its cursor; when capped, the log entries past it (an upper bound). */
      lag: z.number(),
      capped: z.boolean(),
      caughtUp: z.boolean(),
    }),
  ),
});
export type ProcessorStatus = z.infer<typeof ProcessorStatusSchema>;

/** A status this young is answered again: every open screen polls while a district's import is worked through. */
const STATUS_REUSE_MS = 1500;

export function registerPlatformRoutes(ctx: ModuleContext): void {
  const app = typed(ctx.app);
  let lastStatus: { at: number; lags: Promise<ProcessorLag[]> } | undefined;
  const currentLags = (): Promise<ProcessorLag[]> => {
    const now = Date.now();
    if (!lastStatus || now - lastStatus.at > STATUS_REUSE_MS) {
      const lags = ctx.processors.lags();
      // A failed query is not kept: the next poll asks again.
      lags.catch(() => {
        if (lastStatus?.lags === lags) lastStatus = undefined;
      });
      lastStatus = { at: now, lags };
    }
    return lastStatus.lags;
  };

  app.get(
    '/api/processors/status',
    {
      schema: {
        summary:
          'How far behind each change-log processor is (changes left to derive; an upper bound when capped), and whether any is still catching up',
        tags: ['integration'],
        response: { 200: ProcessorStatusSchema },
      },
    },
    async (req) => {
      // Any signed-in user: no personal data, only counts (not audited, as screens poll it).
      await ctx.auth.authenticate(req.headers.authorization);
      const lags = await currentLags();
      const processors = lags.map((l) => ({
        name: l.name,
        label: PROCESSOR_LABELS[l.name] ?? { zh: l.name, en: l.name },
        lag: l.lag,
        capped: l.capped,
        caughtUp: l.lag === 0,
      }));
      return {
        catchingUp: processors.some((p) => !p.caughtUp),
        pending: Math.max(0, ...processors.map((p) => p.lag)),
        processors,
      };
    },
  );

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
