/**
 * HTTP route of the space-time scan: GET /api/surveillance/scan-clusters lists the clusters the
 * daily scan stored (alerts/scan.ts), with area codes and names, paged with the total.
 * Validation and the OpenAPI document come from the zod schemas here; the SQL is in scan.ts.
 */
import { z } from 'zod';
import type { ModuleContext } from '../platform/module.js';
import { typed } from '../platform/openapi.js';
import { scanClusterPage } from './alerts/scan.js';

const TAG_SIGNALS = 'surveillance-signals';

/** A calendar day, YYYY-MM-DD, that exists (2025-13-01 and 2025-02-30 do not). */
const Day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD')
  .refine((s) => {
    const t = Date.parse(`${s}T00:00:00Z`);
    return Number.isFinite(t) && new Date(t).toISOString().slice(0, 10) === s;
  }, 'is not a calendar day');
/** An optional day in a query string ('' counts as absent). */
const OptionalDay = z.union([z.literal('').transform(() => undefined), Day]).optional();
/** NaN and ±Infinity from the database answer null. */
const Num = z.preprocess((v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), z.number().nullable());

export const ScanClusterQuery = z
  .object({
    from: OptionalDay.describe('first run day (the clusters’ last day), YYYY-MM-DD'),
    to: OptionalDay.describe('last run day, YYYY-MM-DD'),
    signal: z.string().min(1).max(200).optional().describe('one signal key, e.g. syndrome:diarrhoea'),
    limit: z.coerce.number().int().min(1).max(1000).optional().describe('page size (default 50)'),
    offset: z.coerce.number().int().min(0).max(1_000_000).optional(),
  })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { message: 'from must not be after to', path: ['from'] });

export const ScanClusterArea = z.object({
  code: z.string(),
  name: z.string(),
  observed: z.number().describe('cases of this area in the cluster’s days'),
  expected: z.number().describe('expected with no space-time interaction: area total × the days’ total ÷ all cases'),
});

export const ScanClusterRecord = z.object({
  id: z.number().int(),
  signal: z.string(),
  label: z.string().describe('the signal in words'),
  runDay: Day.describe('the day the scan was run for (the cluster’s last day)'),
  rank: z.number().int().describe('1 = the most likely cluster of that run'),
  source: z.string().describe('the signal’s evidence source (the cluster is evidence of that source in fusion)'),
  areaLevel: z.string(),
  center: z.object({ code: z.string(), name: z.string() }),
  areas: z.array(ScanClusterArea).describe('nearest to the centre first'),
  startDay: Day,
  endDay: Day,
  days: z.number().int(),
  observed: z.number(),
  expected: z.number(),
  relativeRisk: Num,
  llr: z.number(),
  p: z.number().describe('Monte Carlo p: (1 + replicates at least as extreme) ÷ (replicates + 1)'),
  evidence: z.boolean().describe('p ≤ the scan’s evidenceAlpha: the cluster is evidence in alert fusion'),
  replications: z.number().int(),
  seed: z.number().int().describe('the generator seed of this (signal, run day): the run is reproducible'),
  totalCases: z.number().int().describe('cases of the signal in the study period'),
  studyDays: z.number().int(),
  computedAt: z.string(),
});

export const ScanClusterPage = z.object({
  total: z.number().int().describe('clusters matching the filters'),
  limit: z.number().int(),
  offset: z.number().int(),
  rows: z.array(ScanClusterRecord),
});
export type ScanClusterPage = z.infer<typeof ScanClusterPage>;

export function registerScanRoutes(ctx: ModuleContext, opts: { label?: (signal: string) => string } = {}): void {
  const app = typed(ctx.app);
  app.get(
    '/api/surveillance/scan-clusters',
    {
      schema: {
        summary:
          'Space-time scan clusters (space-time permutation scan, run daily per signal over the registry’s areas): areas with codes and names, days, observed/expected, Monte Carlo p; newest run day first, paged with the total',
        tags: [TAG_SIGNALS],
        querystring: ScanClusterQuery,
        response: { 200: ScanClusterPage },
      },
    },
    async (req) => {
      await ctx.guard(req, 'surveillance:read');
      const limit = req.query.limit ?? 50;
      const offset = req.query.offset ?? 0;
      const page = await scanClusterPage(ctx.db, { ...req.query, limit, offset });
      return { total: page.total, limit, offset, rows: page.rows.map((r) => ({ ...r, label: opts.label?.(r.signal) ?? r.signal })) };
    },
  );
}
