/**
 * Requests and responses of /api/scorecards* as zod schemas (validation, OpenAPI, and the types
 * the web app imports with `import type`).
 */
import { z } from 'zod';

export const Level = z.enum(['institution', 'street']);
const PeriodText = z.string().regex(/^\d{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$/, { message: 'a period: YYYY, YYYY-Qn or YYYY-MM' });
const Colour = z.enum(['green', 'yellow', 'red']);

export const ScorecardParams = z.object({ id: z.string().max(64) });

export const ScorecardItemView = z.object({
  key: z.string(),
  name: z.string(),
  weight: z.number(),
  indicator: z.string(),
  indicatorName: z.string(),
  better: z.enum(['higher', 'lower']),
  target: z.number(),
  targetSource: z.string(),
  bands: z.array(z.object({ colour: Colour, from: z.number(), to: z.number() })),
  source: z.string(),
});
export type ScorecardItemView = z.infer<typeof ScorecardItemView>;

export const ScorecardSummary = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  items: z.array(ScorecardItemView),
});
export type ScorecardSummary = z.infer<typeof ScorecardSummary>;
export const ScorecardList = z.object({ scorecards: z.array(ScorecardSummary), total: z.number().int() });
export type ScorecardList = z.infer<typeof ScorecardList>;

export const ScorecardQuery = z.object({
  level: Level.default('institution'),
  period: PeriodText.optional().describe('YYYY, YYYY-Qn or YYYY-MM (China time); default: this month'),
});
export type ScorecardQuery = z.infer<typeof ScorecardQuery>;
export const ComputeBody = ScorecardQuery;
export const ScorecardFileQuery = ScorecardQuery.extend({ format: z.enum(['xlsx', 'csv', 'pdf']).default('xlsx') });

export const CellView = z.object({
  item: z.string(),
  numerator: z.number(),
  denominator: z.number(),
  value: z.number().nullable(),
  colour: Colour.nullable(),
  score: z.number().nullable(),
});
export type CellView = z.infer<typeof CellView>;

export const UnitView = z.object({
  code: z.string(),
  name: z.string().nullable(),
  total: z.number().nullable(),
  rank: z.number().int().nullable(),
  cells: z.array(CellView),
  /** The unit's total over the last periods (oldest first), the current one last. */
  trend: z.array(z.object({ period: z.string(), total: z.number().nullable() })),
  openTasks: z.number().int(),
});
export type UnitView = z.infer<typeof UnitView>;

export const ScorecardResult = z.object({
  scorecard: ScorecardSummary,
  level: Level,
  period: z.object({ label: z.string(), kind: z.enum(['month', 'quarter', 'year']), from: z.string(), to: z.string() }),
  /** When these figures were computed; null when this period has not been computed yet. */
  computedAt: z.string().nullable(),
  units: z.array(UnitView),
  /** Tasks opened and closed by this computation. */
  tasksOpened: z.number().int(),
  tasksClosed: z.number().int(),
});
export type ScorecardResult = z.infer<typeof ScorecardResult>;

export const TaskQuery = z.object({
  level: Level.optional(),
  status: z.enum(['open', 'closed', 'all']).default('open'),
  owner: z.string().max(100).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});
export type TaskQuery = z.infer<typeof TaskQuery>;

export const TaskView = z.object({
  id: z.string(),
  scorecardId: z.string(),
  level: Level,
  ownerCode: z.string(),
  ownerName: z.string().nullable(),
  itemKey: z.string(),
  itemName: z.string(),
  period: z.string(),
  openedValue: z.number().nullable(),
  openedAt: z.string(),
  closedAt: z.string().nullable(),
  closedPeriod: z.string().nullable(),
  closedValue: z.number().nullable(),
});
export type TaskView = z.infer<typeof TaskView>;
export const TaskList = z.object({ total: z.number().int(), limit: z.number().int(), offset: z.number().int(), tasks: z.array(TaskView) });
export type TaskList = z.infer<typeof TaskList>;
