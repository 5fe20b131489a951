/**
 * Runs the configured detector over a signal's daily counts per area and keeps the alarms
 * (table surv_detection). Called for one (signal, area) when records arrive, and for
 * everything by the daily job or a replay. Detectors are pure; this file is the only place
 * that turns table rows into series. Bad or short series are reported, never raised.
 */
import type pg from 'pg';
import { DetectorInputError, runDetector } from '../detectors/index.js';
import type { Database } from '../../platform/db.js';
import { areaAt, signalConfigFor, type AreaLevel, type SignalConfig } from '../config.js';
import { poissonUpperTail } from './stats.js';
import { addDays, dayRange, daysBetween } from '../../shared/dates.js';

type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient | Database;

export interface DetectionAlarm {
  signal: string;
  source: string;
  areaCode: string;
  day: string;
  method: string;
  observed: number;
  threshold: number | null;
  expected: number;
  pValue: number;
  fixed: boolean;
  /** Weak evidence: the detector did not alarm, but the day's Poisson tail p is below the signal's weakEvidenceP. */
  weak?: boolean;
}

export interface SeriesVerdict {
  days: string[];
  observed: number[];
  /** The detector's bound per day (null where it gives none). */
  threshold: (number | null)[];
  alarm: boolean[];
  /** Observed value on the scale of the bound (7-day sums for CIDARS MPM). */
  compared: number[];
  messages: string[];
}

/** History a detector needs before it can judge (days). */
export const HISTORY_DAYS = 400;
const BASELINE_DAYS = 56;

function dayOfYear(day: string): number {
  return daysBetween(`${day.slice(0, 4)}-01-01`, day) + 1;
}

/** Window (days) over which the method compares counts: 7-day blocks for CIDARS MPM. */
export function comparisonWindow(cfg: SignalConfig): number {
  if (cfg.method === 'cidarsMpm') return Number(cfg.control.blockLength ?? 7);
  if (cfg.method === 'cidarsFixed') return Number(cfg.control.blockLength ?? 1);
  return 1;
}

/** Runs one configured detector over one daily series; evaluates indices ≥ evalFrom. */
export function judgeSeries(cfg: SignalConfig, days: string[], observed: number[], evalFrom = 0): SeriesVerdict {
  const n = observed.length;
  const verdict: SeriesVerdict = {
    days,
    observed,
    threshold: new Array(n).fill(null),
    alarm: new Array(n).fill(false),
    compared: [...observed],
    messages: [],
  };
  if (!n || evalFrom >= n) return verdict;
  const win = comparisonWindow(cfg);
  if (win > 1) {
    let s = 0;
    for (let i = 0; i < n; i++) {
      s += observed[i]!;
      if (i >= win) s -= observed[i - win]!;
      verdict.compared[i] = s;
    }
  }
  const range = [];
  for (let i = Math.max(evalFrom, 0); i < n; i++) range.push(i + 1);
  try {
    const r = runDetector(
      cfg.method,
      { observed, freq: 365, start: [Number(days[0]!.slice(0, 4)), dayOfYear(days[0]!)], range, dates: days },
      cfg.control,
    );
    for (let i = 0; i < n; i++) {
      verdict.threshold[i] = r.upperbound[i] ?? null;
      verdict.alarm[i] = r.alarm[i] === true;
    }
    if (r.messages?.length) verdict.messages.push(...r.messages.slice(0, 3));
  } catch (e) {
    if (e instanceof DetectorInputError) verdict.messages.push(`${cfg.key}: ${e.message} (no verdict)`);
    else throw e;
  }
  return verdict;
}

/** Expected count over the comparison window from the preceding baseline, and the tail probability of what was seen. */
export function evidenceStrength(
  observed: number[],
  i: number,
  win: number,
  compared: number,
  prefix?: number[],
): { expected: number; pValue: number } {
  const end = i - win; // baseline ends before the compared window
  const start = Math.max(0, end - BASELINE_DAYS + 1);
  const k = Math.max(0, end - start + 1);
  let s = 0;
  if (k) {
    if (prefix) s = prefix[end + 1]! - prefix[start]!;
    else for (let j = start; j <= end; j++) s += observed[j]!;
  }
  // With little or no baseline assume one case per 8 weeks, so a first case is unusual but not impossible.
  const daily = Math.max(k ? s / k : 0, 1 / BASELINE_DAYS);
  const expected = daily * win;
  return { expected, pValue: poissonUpperTail(compared, expected) };
}

/**
 * The alarms of a verdict and, when the signal keeps weak evidence (weakEvidenceP), the days the
 * detector did not alarm on whose Poisson tail p is still below weakEvidenceP — only those
 * rows, so what is stored stays bounded (a few per cent of days with counts).
 */
export function alarmsFromVerdict(
  cfg: SignalConfig,
  signal: string,
  areaCode: string,
  v: SeriesVerdict,
  evalFrom: number,
): DetectionAlarm[] {
  const out: DetectionAlarm[] = [];
  const win = comparisonWindow(cfg);
  const weakP = cfg.weakEvidenceP;
  let prefix: number[] | undefined;
  for (let i = evalFrom; i < v.days.length; i++) {
    if (!v.alarm[i] && !(weakP && v.compared[i]! > 0)) continue;
    if (!prefix) {
      prefix = [0];
      for (const x of v.observed) prefix.push(prefix.at(-1)! + x);
    }
    const { expected, pValue } = evidenceStrength(v.observed, i, win, v.compared[i]!, prefix);
    if (!v.alarm[i] && !(pValue < weakP!)) continue;
    const row: DetectionAlarm = {
      signal,
      source: cfg.source,
      areaCode,
      day: v.days[i]!,
      method: cfg.method,
      observed: v.compared[i]!,
      threshold: v.threshold[i],
      expected,
      pValue,
      fixed: cfg.method === 'cidarsFixed' && signal.startsWith('report:'),
    };
    if (!v.alarm[i]) row.weak = true;
    out.push(row);
  }
  return out;
}

/**
 * A derived class-rule series (signals.json `derive`, e.g. school:class_cluster): per area and
 * day, the number of classes whose counts of `derive.from` meet the rule that day (at least
 * minPerDay cases that day, or at least minInDays over the last `days` days).
 */
export async function loadDerivedSeriesByArea(
  db: Queryable,
  cfg: SignalConfig,
  from: string,
  to: string,
  onlyArea?: string,
): Promise<Map<string, number[]>> {
  const d = cfg.derive!;
  const len = cfg.areaLevel === 'community' ? 12 : cfg.areaLevel === 'street' ? 9 : 6;
  const lookFrom = addDays(from, -(d.days - 1));
  const params: unknown[] = [d.from, lookFrom, to];
  let areaFilter = "AND area_code <> ''";
  if (onlyArea) {
    params.push(`${onlyArea.slice(0, len)}%`);
    areaFilter = 'AND area_code LIKE $4';
  }
  const r = await (db as Database).query<{ area_code: string; school: string; unit: string; day: string; n: number }>(
    `SELECT area_code, school, unit, day::text AS day, sum(n)::int AS n FROM signal_count
     WHERE signal = $1 AND day BETWEEN $2::date AND $3::date AND unit <> '' ${areaFilter} GROUP BY 1, 2, 3, 4`,
    params,
  );
  const span = daysBetween(lookFrom, to) + 1;
  const offset = d.days - 1;
  const classes = new Map<string, { area: string; n: number[] }>();
  for (const row of r.rows) {
    const area = areaAt(cfg.areaLevel, row.area_code.padEnd(12, '0'));
    if (!area) continue;
    const k = `${row.school}|${row.unit}`;
    let c = classes.get(k);
    if (!c) classes.set(k, (c = { area, n: new Array(span).fill(0) }));
    c.n[daysBetween(lookFrom, row.day)]! += Math.max(0, row.n);
  }
  const out = new Map<string, number[]>();
  for (const { area, n } of classes.values()) {
    let arr = out.get(area);
    if (!arr) out.set(area, (arr = new Array(span - offset).fill(0)));
    let sum = 0;
    for (let i = 0; i < span; i++) {
      sum += n[i]!;
      if (i >= d.days) sum -= n[i - d.days]!;
      if (i >= offset && (n[i]! >= d.minPerDay || sum >= d.minInDays)) arr[i - offset]!++;
    }
  }
  return out;
}

/** Daily counts of one signal per area at `level`, over [from, to], as dense arrays. */
export async function loadSeriesByArea(
  db: Queryable,
  signal: string,
  level: AreaLevel,
  from: string,
  to: string,
  onlyArea?: string,
): Promise<Map<string, number[]>> {
  const len = level === 'community' ? 12 : level === 'street' ? 9 : 6;
  const params: unknown[] = [signal, from, to];
  let areaFilter = "AND area_code <> ''";
  if (onlyArea) {
    params.push(`${onlyArea.slice(0, len)}%`);
    areaFilter = `AND area_code LIKE $4`;
  }
  const r = await (db as Database).query<{ area: string; day: string; n: number }>(
    `SELECT left(area_code, ${len}) AS area, day::text AS day, sum(n)::int AS n FROM signal_count
     WHERE signal = $1 AND day BETWEEN $2::date AND $3::date ${areaFilter} GROUP BY 1, 2`,
    params,
  );
  const days = daysBetween(from, to) + 1;
  const out = new Map<string, number[]>();
  for (const row of r.rows) {
    if (row.area.length < len) continue;
    const area = areaAt(level, row.area.padEnd(12, '0'));
    if (!area) continue;
    let arr = out.get(area);
    if (!arr) {
      arr = new Array(days).fill(0);
      out.set(area, arr);
    }
    const idx = daysBetween(from, row.day);
    arr[idx] = Math.max(0, (arr[idx] ?? 0) + row.n);
  }
  return out;
}

export interface DetectionRun {
  alarms: DetectionAlarm[];
  /** Weak (sub-threshold) evidence rows, stored with alarm = false. */
  weak: DetectionAlarm[];
  messages: string[];
  series: number;
}

/**
 * Detects over [evalFrom, to] for the given signals (all configured ones present in the counts
 * when omitted) and replaces their stored alarms in that range.
 */
export async function runDetection(
  db: Database,
  signals: readonly SignalConfig[],
  opts: { evalFrom: string; to: string; only?: { signal: string; communityCode: string }[]; store?: boolean },
): Promise<DetectionRun> {
  const from = addDays(opts.evalFrom, -HISTORY_DAYS);
  let targets: { signal: string; area?: string }[];
  if (opts.only) {
    const seen = new Set<string>();
    targets = [];
    for (const o of opts.only) {
      const cfg = signalConfigFor(signals, o.signal);
      if (!cfg) continue;
      const area = areaAt(cfg.areaLevel, o.communityCode);
      if (!area) continue;
      const k = `${o.signal}|${area}`;
      if (!seen.has(k)) {
        seen.add(k);
        targets.push({ signal: o.signal, area });
      }
    }
  } else {
    const r = await db.query<{ signal: string }>('SELECT DISTINCT signal FROM signal_count WHERE day BETWEEN $1::date AND $2::date', [
      opts.evalFrom,
      opts.to,
    ]);
    targets = r.rows.map((x) => ({ signal: x.signal })).filter((t) => signalConfigFor(signals, t.signal));
    // Derived signals (class rules) run wherever the signal they derive from has counts.
    const present = new Set(r.rows.map((x) => x.signal));
    for (const s of signals) if (s.derive && present.has(s.derive.from) && !present.has(s.key)) targets.push({ signal: s.key });
  }
  const days = dayRange(from, opts.to);
  const evalIdx = daysBetween(from, opts.evalFrom);
  const run: DetectionRun = { alarms: [], weak: [], messages: [], series: 0 };
  for (const t of targets) {
    const cfg = signalConfigFor(signals, t.signal)!;
    const byArea = cfg.derive
      ? await loadDerivedSeriesByArea(db, cfg, from, opts.to, t.area)
      : await loadSeriesByArea(db, t.signal, cfg.areaLevel, from, opts.to, t.area);
    if (t.area && !byArea.has(t.area)) byArea.set(t.area, new Array(days.length).fill(0));
    for (const [area, observed] of byArea) {
      if (t.area && area !== t.area) continue;
      run.series++;
      const v = judgeSeries(cfg, days, observed, evalIdx);
      run.messages.push(...v.messages.map((m) => `${area}: ${m}`));
      for (const row of alarmsFromVerdict(cfg, t.signal, area, v, evalIdx)) (row.weak ? run.weak : run.alarms).push(row);
    }
  }
  if (opts.store !== false) await storeAlarms(db, targets, [...run.alarms, ...run.weak], opts.evalFrom, opts.to);
  return run;
}

async function storeAlarms(
  db: Database,
  targets: { signal: string; area?: string }[],
  alarms: DetectionAlarm[],
  from: string,
  to: string,
): Promise<void> {
  await db.transaction(async (c) => {
    for (const t of targets) {
      if (t.area)
        await c.query('DELETE FROM surv_detection WHERE signal = $1 AND area_code = $2 AND day BETWEEN $3::date AND $4::date', [
          t.signal,
          t.area,
          from,
          to,
        ]);
      else await c.query('DELETE FROM surv_detection WHERE signal = $1 AND day BETWEEN $2::date AND $3::date', [t.signal, from, to]);
    }
    for (let i = 0; i < alarms.length; i += 500) {
      const chunk = alarms.slice(i, i + 500);
      await c.query(
        `INSERT INTO surv_detection (signal, area_code, day, method, source, observed, threshold, expected, p_value, alarm)
         SELECT s, a, d, m, src, o, th, e, p, al FROM unnest($1::text[], $2::text[], $3::date[], $4::text[], $5::text[], $6::float8[], $7::float8[], $8::float8[], $9::float8[], $10::bool[])
           AS u(s, a, d, m, src, o, th, e, p, al)
         ON CONFLICT (signal, area_code, day) DO UPDATE SET method = EXCLUDED.method, source = EXCLUDED.source, observed = EXCLUDED.observed,
           threshold = EXCLUDED.threshold, expected = EXCLUDED.expected, p_value = EXCLUDED.p_value, alarm = EXCLUDED.alarm, computed_at = now()`,
        [
          chunk.map((a) => a.signal),
          chunk.map((a) => a.areaCode),
          chunk.map((a) => a.day),
          chunk.map((a) => a.method),
          chunk.map((a) => a.source),
          chunk.map((a) => a.observed),
          chunk.map((a) => a.threshold),
          chunk.map((a) => a.expected),
          chunk.map((a) => a.pValue),
          chunk.map((a) => !a.weak),
        ],
      );
    }
  });
}
