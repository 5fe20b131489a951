/** GET /api/indicators and the drill-down to the residents behind each figure. */
import { describeRoute } from '../../platform/openapi.js';
import { badRequest, notFound } from '../../platform/errors.js';
import type { ModuleContext } from '../../platform/module.js';
import { todayInChina, type ChronicConfig } from '../chronic/context.js';
import {
  chronicIndicatorPatients,
  computeIndicators,
  contractCoveragePatients,
  INDICATORS,
  parsePeriod,
  vaccineCoveragePatients,
  type GroupBy,
  type IndicatorFilter,
} from './indicators.js';

const GROUPS: GroupBy[] = ['total', 'doctor', 'team', 'organization', 'street'];

function filterFrom(q: Record<string, string | undefined>): IndicatorFilter {
  const groupBy = (q.groupBy ?? 'total') as GroupBy;
  if (!GROUPS.includes(groupBy)) throw badRequest(`groupBy: one of ${GROUPS.join(', ')}`);
  if (q.area && !/^\d{6,12}$/.test(q.area)) throw badRequest(`area: a 6–12 digit area code prefix (got '${q.area}')`);
  return { period: parsePeriod(q.period, todayInChina()), groupBy, area: q.area, organization: q.organization };
}

export function registerIndicatorRoutes(ctx: ModuleContext, config: ChronicConfig): void {
  describeRoute({
    method: 'get',
    path: '/api/indicators',
    summary:
      'Indicators with definitions and values (filters: indicator (comma list), period YYYY | from/to, area, organization, groupBy total|doctor|team|organization|street)',
    tag: 'indicators',
    responses: { '200': '{"period","definitions":[...],"values":[{"indicator","group","population","numerator","denominator","value"}]}' },
  });
  ctx.app.get('/api/indicators', async (req) => {
    await ctx.guard(req, 'care:read');
    const q = req.query as Record<string, string | undefined>;
    const codes = q.indicator ? q.indicator.split(',') : INDICATORS.map((i) => i.code);
    for (const c of codes)
      if (!INDICATORS.some((i) => i.code === c))
        throw badRequest(`indicator: unknown '${c}'; known: ${INDICATORS.map((i) => i.code).join(', ')}`);
    const f = filterFrom(q);
    const values = await computeIndicators(ctx.db.pool, codes, f, config.sets, config.schedules);
    return { period: f.period, groupBy: f.groupBy, definitions: INDICATORS.filter((i) => codes.includes(i.code)), values };
  });

  describeRoute({
    method: 'get',
    path: '/api/indicators/{code}/residents',
    summary: 'Drill-down: the residents behind an indicator figure (same filters, plus group and population)',
    tag: 'indicators',
  });
  ctx.app.get('/api/indicators/:code/residents', async (req) => {
    await ctx.guard(req, 'care:read');
    const { code } = req.params as { code: string };
    const q = req.query as Record<string, string | undefined>;
    const f = filterFrom(q);
    const inGroup = (g: string) => !q.group || q.group === g;
    const m = /^(htn|dm)-(standard-management|control)$/.exec(code);
    let rows: { patientId: string; name: string | null; group: string; inNumerator: boolean; detail?: unknown }[];
    if (m) {
      const list = await chronicIndicatorPatients(ctx.db.pool, m[1] as 'htn' | 'dm', f, config.sets);
      rows = list.map((r) => ({
        patientId: r.patientId,
        name: r.name,
        group: r.group,
        inNumerator: m[2] === 'control' ? r.controlled : r.standard,
        detail: { followUps: r.followUps, allOnTime: r.allOnTime, controlled: r.controlled },
      }));
    } else if (code === 'contract-coverage') {
      const list = await contractCoveragePatients(ctx.db.pool, f);
      const pop = q.population ?? 'all';
      rows = list
        .filter((r) => r.populations.includes(pop))
        .map((r) => ({ patientId: r.patientId, name: r.name, group: r.group, inNumerator: r.contracted }));
    } else if (code === 'vaccine-coverage') {
      const list = await vaccineCoveragePatients(ctx.db.pool, f, config.schedules);
      rows = list
        .filter((r) => !q.population || r.dose === q.population)
        .map((r) => ({ patientId: r.patientId, name: r.name, group: r.group, inNumerator: r.covered, detail: { dose: r.dose } }));
    } else throw notFound(`indicator '${code}' is unknown`);
    rows = rows.filter((r) => inGroup(r.group));
    if (q.numerator === 'true') rows = rows.filter((r) => r.inNumerator);
    if (q.numerator === 'false') rows = rows.filter((r) => !r.inNumerator);
    return { indicator: code, period: f.period, total: rows.length, rows: rows.slice(0, 5000) };
  });
}
