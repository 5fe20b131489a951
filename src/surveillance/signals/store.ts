/**
 * Reads and writes of the signal side behind the HTTP API: one signal's series with its detector
 * bound, the district overview, ILI %, public reports (舆情/群众报告) and the fallback feed import.
 * The counts themselves are kept by the processors (visit-processor.ts, feeds.ts, counts.ts).
 */
import type { Database } from '../../platform/db.js';
import { badRequest } from '../../platform/errors.js';
import { addDays, dayRange, daysBetween, todayInChina } from '../../shared/dates.js';
import { HISTORY_DAYS, judgeSeries, loadDerivedSeriesByArea } from '../alerts/detect.js';
import { signalConfigFor, type SignalConfig } from '../config.js';
import type { SurveillanceEngine } from '../engine.js';
import type { WriteAudit } from '../reporting/store.js';
import type { DetectResult, FallbackFeedResult, IliRow, Overview, OverviewArea, PublicReportInput, SignalSeries } from '../schemas.js';
import { applyCountDeltas } from './counts.js';
import { ingestAbsenceRows, ingestPharmacyRows, parseAbsenceCsv, parsePharmacyCsv } from './feeds.js';
import { percentOf } from '../../shared/percent.js';

/** A detector bound as JSON carries it: NaN and ±Infinity are null. */
const bound = (x: number | null) => (x === null || Number.isFinite(x) ? x : null);

/**
 * Daily counts of one signal in one area (community, street or district code) over [from, to],
 * judged by the signal's configured detector over the history before `from`.
 */
export async function signalSeries(
  db: Database,
  signals: SignalConfig[],
  signal: string,
  areaCode: string,
  from: string,
  to: string,
): Promise<SignalSeries> {
  const cfg = signalConfigFor(signals, signal);
  const histFrom = addDays(from, -HISTORY_DAYS);
  const len = areaCode.length === 12 && !areaCode.endsWith('000') ? 12 : areaCode.endsWith('000000') ? 6 : 9;
  const days = dayRange(histFrom, to);
  const start = daysBetween(histFrom, from);
  if (cfg?.derive) {
    // Derived class-rule series (school:class_cluster): classes meeting the rule per day.
    const series = await loadDerivedSeriesByArea(
      db,
      { ...cfg, areaLevel: len === 12 ? 'community' : len === 6 ? 'district' : 'street' },
      histFrom,
      to,
      areaCode,
    );
    const observed = [...series.values()][0] ?? new Array<number>(days.length).fill(0);
    const v = judgeSeries(cfg, days, observed, start);
    return {
      signal,
      areaCode,
      method: cfg.method,
      days: days.slice(start),
      observed: observed.slice(start),
      denominator: new Array<number>(days.length - start).fill(0),
      compared: v.compared.slice(start),
      threshold: v.threshold.slice(start).map(bound),
      alarm: v.alarm.slice(start),
      messages: v.messages,
    };
  }
  const r = await db.query<{ day: string; n: number; denom: number }>(
    `SELECT day::text AS day, sum(n)::int AS n, sum(denom)::int AS denom FROM signal_count WHERE signal = $1 AND day BETWEEN $2::date AND $3::date AND area_code LIKE $4 GROUP BY 1`,
    [signal, histFrom, to, `${areaCode.slice(0, len)}%`],
  );
  const observed = new Array<number>(days.length).fill(0);
  const denom = new Array<number>(days.length).fill(0);
  for (const x of r.rows) {
    const i = daysBetween(histFrom, x.day);
    observed[i] = Math.max(0, x.n);
    denom[i] = x.denom;
  }
  const v = cfg ? judgeSeries(cfg, days, observed, start) : null;
  return {
    signal,
    areaCode,
    method: cfg?.method ?? null,
    days: days.slice(start),
    observed: observed.slice(start),
    denominator: denom.slice(start),
    compared: v ? v.compared.slice(start) : observed.slice(start),
    threshold: v ? v.threshold.slice(start).map(bound) : [],
    alarm: v ? v.alarm.slice(start) : [],
    messages: v?.messages ?? [],
  };
}

/** GET /api/surveillance/series: `to` defaults to today (China), `from` to 89 days before; at most 3 years. */
export async function seriesInRange(
  engine: SurveillanceEngine,
  q: { signal: string; area: string; from?: string; to?: string },
): Promise<SignalSeries> {
  const to = q.to ?? todayInChina();
  const from = q.from ?? addDays(to, -89);
  if (from > to) throw badRequest('from: must not be after to');
  if (daysBetween(from, to) > 3 * 366) throw badRequest('from/to: at most 3 years');
  return signalSeries(engine.db, engine.config.signals, q.signal, q.area.length === 6 ? `${q.area}000000` : q.area, from, to);
}

/**
 * Recent trend of every signal by street: daily counts for the last `days` (7–180, default 28)
 * days up to `to` (default: the latest day with data), and the alarm days.
 */
export async function signalOverview(engine: SurveillanceEngine, q: { days?: number; to?: string }): Promise<Overview> {
  const db = engine.db;
  const span = Math.min(Math.max(q.days || 28, 7), 180);
  const latest = await db.query<{ d: string | null }>('SELECT max(day)::text AS d FROM signal_count');
  const to = q.to ?? latest.rows[0]?.d ?? todayInChina();
  const from = addDays(to, -(span - 1));
  const rows = await db.query<{ signal: string; area: string; day: string; n: number; denom: number }>(
    `SELECT signal, left(area_code, 9) || '000' AS area, day::text AS day, sum(n)::int AS n, sum(denom)::int AS denom FROM signal_count
     WHERE day BETWEEN $1::date AND $2::date AND area_code <> '' GROUP BY 1, 2, 3`,
    [from, to],
  );
  const alarms = await db.query<{ signal: string; area: string; day: string }>(
    `SELECT signal, left(area_code, 9) || '000' AS area, day::text AS day FROM surv_detection WHERE alarm AND day BETWEEN $1::date AND $2::date`,
    [from, to],
  );
  const days = dayRange(from, to);
  type Cell = Omit<OverviewArea, 'areaCode' | 'areaName'>;
  const bySignal = new Map<string, Map<string, Cell>>();
  const cell = (signal: string, area: string): Cell => {
    let m = bySignal.get(signal);
    if (!m) bySignal.set(signal, (m = new Map()));
    let c = m.get(area);
    if (!c)
      m.set(
        area,
        (c = {
          counts: new Array<number>(days.length).fill(0),
          denominators: new Array<number>(days.length).fill(0),
          alarms: new Array<boolean>(days.length).fill(false),
        }),
      );
    return c;
  };
  for (const r of rows.rows) {
    const c = cell(r.signal, r.area);
    c.counts[daysBetween(from, r.day)] += r.n;
    c.denominators[daysBetween(from, r.day)] += r.denom;
  }
  for (const r of alarms.rows) if (bySignal.get(r.signal)?.get(r.area)) cell(r.signal, r.area).alarms[daysBetween(from, r.day)] = true;
  return {
    from,
    to,
    days,
    signals: [...bySignal.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([signal, m]) => ({
        signal,
        label: engine.label(signal),
        source: signalConfigFor(engine.config.signals, signal)?.source ?? null,
        areas: [...m.entries()]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([areaCode, c]) => ({ areaCode, areaName: engine.areaName(areaCode), ...c })),
      })),
  };
}

/** ILI % (ILI visits ÷ outpatient and emergency visits) by day and facility or age group; default the last 28 days. */
export async function iliPercent(db: Database, q: { from?: string; to?: string; by?: 'facility' | 'age_group' }): Promise<IliRow[]> {
  const by = q.by === 'age_group' ? 'age_group' : 'facility';
  const to = q.to ?? todayInChina();
  const from = q.from ?? addDays(to, -27);
  const r = await db.query<{ day: string; key: string; ili: number; visits: number }>(
    `SELECT day::text AS day, ${by} AS key, sum(n)::int AS ili, sum(denom)::int AS visits FROM signal_count WHERE signal = 'ili' AND day BETWEEN $1::date AND $2::date GROUP BY 1, 2 ORDER BY 1, 2`,
    [from, to],
  );
  return r.rows.map((x) => ({ ...x, percent: percentOf(x.ili, x.visits) }));
}

/** Enters a public or media report (舆情/群众报告): counted as public:report in its community. */
export async function addPublicReport(
  engine: SurveillanceEngine,
  input: PublicReportInput,
  actor: string,
  audit?: WriteAudit,
): Promise<{ id: number }> {
  const id = await engine.db.transaction(async (c) => {
    const r = await c.query<{ id: number }>(
      'INSERT INTO surv_public_report (day, area_code, category, description, source, entered_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id',
      [input.day, input.areaCode, input.category ?? 'other', input.description.trim(), input.source ?? null, actor],
    );
    await applyCountDeltas(c, [{ signal: 'public:report', day: input.day, areaCode: input.areaCode, n: 1 }], engine.touch);
    await audit?.(c, { subtype: 'public-report', entities: [`public report ${r.rows[0]!.id}`] });
    return r.rows[0]!.id;
  });
  return { id };
}

/** The fallback feed import (the simulator's CSV columns) for a server without the feeds module. */
export async function importFeedCsv(
  engine: SurveillanceEngine,
  feed: 'school-absenteeism' | 'pharmacy-sales',
  body: unknown,
  audit?: WriteAudit,
): Promise<FallbackFeedResult> {
  const text = Buffer.isBuffer(body) ? body.toString('utf8') : typeof body === 'string' ? body : '';
  if (!text) throw badRequest('Send the CSV as text/csv');
  if (feed === 'school-absenteeism') {
    const p = parseAbsenceCsv(text);
    await engine.db.transaction(async (c) => {
      await ingestAbsenceRows(c, p.rows, engine.touch);
      await audit?.(c, { subtype: 'import', entities: [`feed ${feed}: ${p.rows.length} rows`] });
    });
    return { rows: p.rows.length, errors: p.errors };
  }
  const p = parsePharmacyCsv(text);
  await engine.db.transaction(async (c) => {
    await ingestPharmacyRows(c, p.rows, engine.touch);
    await audit?.(c, { subtype: 'import', entities: [`feed ${feed}: ${p.rows.length} rows`] });
  });
  return { rows: p.rows.length, errors: p.errors };
}

/** Re-runs every detector and fusion over [from, to] (the first 50 messages are kept). */
export async function detectRange(engine: SurveillanceEngine, from: string, to: string): Promise<DetectResult> {
  if (from > to) throw badRequest('from, to: mandatory days with from ≤ to');
  const r = await engine.runAll(from, to);
  return { created: r.created, updated: r.updated, series: r.series, alarms: r.alarms, messages: r.messages.slice(0, 50) };
}
