/**
 * The daily space-time permutation scan (detectors/st-perm-scan.ts, Kulldorff et al. 2005) over
 * the registry's areas, for each signal with enough counts: clusters of areas × last days whose
 * cases are more than their area and day totals explain, with a Monte Carlo p from a seeded
 * generator (the same counts, day and signal always give the same answer).
 *
 * - `scanAreaCounts` is pure: one signal's counts per area over the study period → clusters.
 * - `runScan` reads signal_count and the registry (areas and centroids at the configured level),
 *   scans each signal and stores the clusters with p ≤ alpha in surv_scan_cluster (one row per
 *   cluster, replaced per (signal, run day)) and every run in surv_scan_run.
 * - `scanEvidence` turns stored clusters into fusion evidence (alerts/fusion.ts).
 * - `scanClusterPage` answers GET /api/surveillance/scan-clusters.
 *
 * Settings: the "scan" section of config/surveillance/fusion.json (its reasons in that file's
 * $comment); `DEFAULT_SCAN_CONFIG` when absent.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Database } from '../../platform/db.js';
import { areaFeatures } from '../../registry/index.js';
import { addDays, daysBetween } from '../../shared/dates.js';
import { signalConfigFor, type AreaLevel, type SignalConfig } from '../config.js';
import { stPermScan, type StArea } from '../detectors/st-perm-scan.js';
import { DetectorInputError } from '../detectors/types.js';
import { configDir } from '../paths.js';
import { loadSeriesByArea, type DetectionAlarm } from './detect.js';

// ------------------------------------------------------------------------------------ settings

export const ScanConfigSchema = z
  .object({
    /** Run the scan in the daily job. */
    enabled: z.boolean(),
    /** Areas scanned: registry areas of this level, with their centroids. */
    level: z.enum(['street', 'community']),
    /** Days of counts the permutation compares with, ending on the run day. */
    studyDays: z.number().int().min(28).max(1100),
    /** Longest cluster (days ending on the run day). */
    maxWindowDays: z.number().int().min(1).max(30),
    /** Most areas in a cluster: the centre and its nearest neighbours by centroid distance. */
    maxAreas: z.number().int().min(1),
    /** Largest share of the study period's cases a cluster's areas may hold. */
    maxSpatialShare: z.number().gt(0).max(1),
    /** Monte Carlo replicates. */
    replications: z.number().int().min(9).max(99_999),
    /** Base seed: each (signal, run day) draws from its own stream derived from it. */
    seed: z.number().int().min(0).max(0xffffffff),
    /** Clusters with p at or below this are stored (and listed). */
    alpha: z.number().gt(0).max(1),
    /** Stored clusters with p at or below this (≤ alpha) are evidence in fusion. */
    evidenceAlpha: z.number().gt(0).max(1),
    /** A signal is scanned when the study period holds at least this many cases. */
    minCases: z.number().int().min(2),
    /** Most clusters kept per signal and day (the most likely one and non-overlapping secondaries). */
    maxClusters: z.number().int().min(1).max(50),
    /** Signals not scanned: exact keys or 'prefix:*'. */
    exclude: z.array(z.string().min(1)),
  })
  .strict();
export type ScanConfig = z.infer<typeof ScanConfigSchema>;

export const DEFAULT_SCAN_CONFIG: Readonly<ScanConfig> = Object.freeze({
  enabled: true,
  level: 'street',
  studyDays: 365,
  maxWindowDays: 7,
  maxAreas: 10,
  maxSpatialShare: 0.5,
  replications: 999,
  seed: 20050301,
  alpha: 0.05,
  evidenceAlpha: 0.01,
  minCases: 20,
  maxClusters: 5,
  exclude: ['sentinel:*'],
});

/** The "scan" section of fusion.json over the defaults; a bad value stops with a message naming it. */
export function parseScanConfig(raw: unknown): ScanConfig {
  // The section's own "$comment" (its reasons) is not a setting.
  const { $comment: _reasons, ...settings } = (raw ?? {}) as Record<string, unknown>;
  const r = ScanConfigSchema.partial().safeParse(settings);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new Error(`fusion.json: scan.${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  const out = { ...DEFAULT_SCAN_CONFIG, ...r.data };
  if (out.maxWindowDays >= out.studyDays) throw new Error('fusion.json: scan.maxWindowDays must be shorter than scan.studyDays');
  if (out.evidenceAlpha > out.alpha) throw new Error('fusion.json: scan.evidenceAlpha must not exceed scan.alpha');
  return out;
}

export function loadScanConfig(dir = configDir): ScanConfig {
  const fusion = JSON.parse(fs.readFileSync(path.join(dir, 'fusion.json'), 'utf8')) as { scan?: unknown };
  return parseScanConfig(fusion.scan);
}

function excluded(cfg: ScanConfig, signal: string): boolean {
  return cfg.exclude.some((p) => (p.endsWith(':*') ? signal.startsWith(p.slice(0, -1)) : p === signal));
}

// ------------------------------------------------------------------------------------ the scan

export interface ScanArea {
  code: string;
  name?: string;
  /** [longitude, latitude]; null when the registry has no geometry for the area. */
  centroid: [number, number] | null;
}

export interface ScanClusterArea {
  code: string;
  /** Cases of this area in the cluster's days. */
  observed: number;
  /** Expected under no space-time interaction: area total × the days' total ÷ all cases. */
  expected: number;
}

export interface ScanCluster {
  signal: string;
  runDay: string;
  /** 1 = most likely. */
  rank: number;
  center: string;
  /** Nearest to the centre first. */
  areas: ScanClusterArea[];
  startDay: string;
  endDay: string;
  observed: number;
  expected: number;
  relativeRisk: number | null;
  llr: number;
  p: number;
  /** p ≤ evidenceAlpha: fusion takes the cluster as evidence. */
  evidence: boolean;
}

export interface SignalScan {
  signal: string;
  runDay: string;
  level: AreaLevel;
  /** Areas scanned (with a centroid). */
  areas: number;
  totalCases: number;
  seed: number;
  replications: number;
  studyDays: number;
  /** Clusters with p ≤ alpha, most likely first. */
  clusters: ScanCluster[];
  messages: string[];
  ms: number;
}

/** 32-bit FNV-1a: the seed of one (signal, run day) from the base seed. */
export function scanSeed(base: number, signal: string, runDay: string): number {
  let h = 0x811c9dc5;
  for (const ch of `${base}|${signal}|${runDay}`) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * Areas on a plane in km (equirectangular about the areas' mean latitude: distances within a
 * district are then exact to well under 1 %), and the codes skipped for want of a centroid.
 */
export function projectAreas(areas: readonly ScanArea[]): { areas: StArea[]; skipped: string[] } {
  const kept = areas.filter((a) => a.centroid && Number.isFinite(a.centroid[0]) && Number.isFinite(a.centroid[1]));
  const skipped = areas.filter((a) => !kept.includes(a)).map((a) => a.code);
  const lat0 = kept.length ? kept.reduce((s, a) => s + a.centroid![1], 0) / kept.length : 0;
  const kx = 111.32 * Math.cos((lat0 * Math.PI) / 180);
  return { areas: kept.map((a) => ({ code: a.code, x: a.centroid![0] * kx, y: a.centroid![1] * 110.574 })), skipped };
}

const listSome = (codes: string[]) => `${codes.slice(0, 5).join(', ')}${codes.length > 5 ? ` and ${codes.length - 5} more` : ''}`;

/**
 * One signal's scan for one run day. `counts` maps an area code to its daily counts over the
 * study period (index 0 = runDay − studyDays + 1, the last index = runDay). Never throws for
 * thin data: too few cases, no recent case, fewer than two areas with a centroid are said in
 * `messages` with no clusters.
 */
export function scanAreaCounts(input: {
  signal: string;
  runDay: string;
  areas: readonly ScanArea[];
  counts: ReadonlyMap<string, readonly number[]>;
  config: ScanConfig;
  level?: AreaLevel;
}): SignalScan {
  const t0 = performance.now();
  const cfg = input.config;
  const S = cfg.studyDays;
  const first = addDays(input.runDay, -(S - 1));
  const seed = scanSeed(cfg.seed, input.signal, input.runDay);
  const out: SignalScan = {
    signal: input.signal,
    runDay: input.runDay,
    level: input.level ?? cfg.level,
    areas: 0,
    totalCases: 0,
    seed,
    replications: cfg.replications,
    studyDays: S,
    clusters: [],
    messages: [],
    ms: 0,
  };
  const done = () => {
    out.ms = performance.now() - t0;
    return out;
  };
  const { areas, skipped } = projectAreas(input.areas);
  if (skipped.length) out.messages.push(`${skipped.length} area(s) without a centroid skipped: ${listSome(skipped)}`);
  out.areas = areas.length;
  const index = new Map(areas.map((a, i) => [a.code, i]));
  const matrix = areas.map(() => new Array<number>(S).fill(0));
  let total = 0;
  let recent = 0;
  let dropped = 0;
  const unplaced: string[] = [];
  for (const [code, row] of input.counts) {
    const a = index.get(code);
    let n = 0;
    for (let d = 0; d < Math.min(S, row.length); d++) n += Math.max(0, Math.round(row[d] ?? 0));
    if (a === undefined) {
      if (n > 0) {
        dropped += n;
        unplaced.push(code);
      }
      continue;
    }
    for (let d = 0; d < Math.min(S, row.length); d++) {
      const v = Math.max(0, Math.round(row[d] ?? 0));
      matrix[a]![d] = v;
      if (d >= S - cfg.maxWindowDays) recent += v;
    }
    total += n;
  }
  if (dropped) out.messages.push(`${dropped} case(s) in area(s) not on the map left out: ${listSome(unplaced)}`);
  out.totalCases = total;
  if (areas.length < 2) {
    out.messages.push(`${areas.length} area(s) with a centroid at ${out.level} level: no scan possible (a cluster needs areas to compare)`);
    return done();
  }
  if (total < cfg.minCases) {
    out.messages.push(`${total} case(s) in the ${S}-day study period, fewer than ${cfg.minCases}: not scanned`);
    return done();
  }
  if (recent === 0) {
    out.messages.push(`no case in the last ${cfg.maxWindowDays} day(s): nothing can cluster`);
    return done();
  }
  try {
    const res = stPermScan({
      areas,
      counts: matrix,
      firstDay: 0,
      endDay: S - 1,
      studyDays: S,
      maxWindowDays: cfg.maxWindowDays,
      maxSpatialShare: cfg.maxSpatialShare,
      maxAreas: cfg.maxAreas,
      replications: cfg.replications,
      seed,
      maxClusters: cfg.maxClusters,
    });
    out.messages.push(...res.messages);
    // Day totals of the last days, for each area's expected count in a cluster.
    const dayTotal = new Array<number>(S).fill(0);
    const areaTotal = matrix.map((row) => row.reduce((s, v) => s + v, 0));
    for (const row of matrix) for (let d = 0; d < S; d++) dayTotal[d]! += row[d]!;
    let rank = 0;
    for (const c of res.clusters) {
      if (!(c.p <= cfg.alpha)) continue;
      let windowTotal = 0;
      for (let d = c.startDay; d <= c.endDay; d++) windowTotal += dayTotal[d]!;
      out.clusters.push({
        signal: input.signal,
        runDay: input.runDay,
        rank: ++rank,
        center: c.center,
        areas: c.areas.map((code) => {
          const a = index.get(code)!;
          let observed = 0;
          for (let d = c.startDay; d <= c.endDay; d++) observed += matrix[a]![d]!;
          return { code, observed, expected: (areaTotal[a]! * windowTotal) / total };
        }),
        startDay: addDays(first, c.startDay),
        endDay: addDays(first, c.endDay),
        observed: c.observed,
        expected: c.expected,
        relativeRisk: Number.isFinite(c.relativeRisk) ? c.relativeRisk : null,
        llr: c.llr,
        p: c.p,
        evidence: c.p <= cfg.evidenceAlpha,
      });
    }
  } catch (e) {
    if (!(e instanceof DetectorInputError)) throw e;
    out.messages.push(`${e.message}: not scanned`);
  }
  return done();
}

// ------------------------------------------------------------------------------------ the job

export interface ScanRun {
  runDay: string;
  level: AreaLevel;
  /** Areas of the level in the registry, and those without a centroid. */
  areas: number;
  skippedAreas: string[];
  signals: SignalScan[];
  clusters: number;
  ms: number;
}

/**
 * Scans every configured signal with counts (or those named) for the run day and stores the
 * clusters with p ≤ alpha, replacing that (signal, run day)'s earlier rows. Signals excluded by
 * the settings, derived signals (no counts of their own) and unconfigured ones are not scanned.
 */
export async function runScan(
  db: Database,
  signals: readonly SignalConfig[],
  opts: { day: string; config?: ScanConfig; signals?: string[] },
): Promise<ScanRun> {
  const t0 = performance.now();
  const cfg = opts.config ?? loadScanConfig();
  const level = cfg.level;
  const from = addDays(opts.day, -(cfg.studyDays - 1));
  const registryAreas = await areaFeatures(db.pool, level);
  const areas: ScanArea[] = registryAreas.map((a) => ({ code: a.code, name: a.name, centroid: a.centroid }));
  const run: ScanRun = {
    runDay: opts.day,
    level,
    areas: areas.length,
    skippedAreas: projectAreas(areas).skipped,
    signals: [],
    clusters: 0,
    ms: 0,
  };
  // Signals with counts, and those with clusters stored for the day (their counts may since have
  // been corrected away: the re-run then clears them).
  const present = await db.query<{ signal: string }>(
    `SELECT signal FROM signal_count WHERE day BETWEEN $1::date AND $2::date AND area_code <> '' AND n > 0
     UNION SELECT signal FROM surv_scan_cluster WHERE run_day = $2::date ORDER BY signal`,
    [from, opts.day],
  );
  const targets = present.rows
    .map((r) => r.signal)
    .filter((s) => (opts.signals ? opts.signals.includes(s) : true))
    .filter((s) => {
      const sc = signalConfigFor(signals, s);
      return sc !== undefined && !sc.derive && !excluded(cfg, s);
    });
  for (const signal of targets) {
    const sc = signalConfigFor(signals, signal)!;
    const counts = await loadSeriesByArea(db, signal, level, from, opts.day);
    const result = scanAreaCounts({ signal, runDay: opts.day, areas, counts, config: cfg, level });
    await storeScan(db, result, sc.source);
    run.signals.push(result);
    run.clusters += result.clusters.length;
  }
  run.ms = performance.now() - t0;
  return run;
}

async function storeScan(db: Database, s: SignalScan, source: string): Promise<void> {
  await db.transaction(async (c) => {
    await c.query('DELETE FROM surv_scan_cluster WHERE signal = $1 AND run_day = $2::date', [s.signal, s.runDay]);
    if (s.clusters.length)
      await c.query(
        `INSERT INTO surv_scan_cluster (signal, run_day, rank, source, area_level, center_code, area_codes, area_observed, area_expected,
           start_day, end_day, observed, expected, relative_risk, llr, p_value, evidence, replications, seed, total_cases, study_days)
         SELECT $1, $2::date, x.rank, $3, $4, x.center, x.codes, x.obs, x.exp, x.start_day, x.end_day, x.observed, x.expected, x.rr, x.llr, x.p,
           x.evidence, $5, $6, $7, $8
         FROM json_to_recordset($9::json) AS x(rank int, center text, codes text[], obs float8[], exp float8[], start_day date, end_day date,
           observed float8, expected float8, rr float8, llr float8, p float8, evidence boolean)`,
        [
          s.signal,
          s.runDay,
          source,
          s.level,
          s.replications,
          s.seed,
          s.totalCases,
          s.studyDays,
          JSON.stringify(
            s.clusters.map((k) => ({
              rank: k.rank,
              center: k.center,
              codes: k.areas.map((a) => a.code),
              obs: k.areas.map((a) => a.observed),
              exp: k.areas.map((a) => a.expected),
              start_day: k.startDay,
              end_day: k.endDay,
              observed: k.observed,
              expected: k.expected,
              rr: k.relativeRisk,
              llr: k.llr,
              p: k.p,
              evidence: k.evidence,
            })),
          ),
        ],
      );
    await c.query(
      `INSERT INTO surv_scan_run (signal, run_day, area_level, areas, total_cases, clusters, messages, duration_ms)
       VALUES ($1, $2::date, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (signal, run_day) DO UPDATE SET area_level = EXCLUDED.area_level, areas = EXCLUDED.areas, total_cases = EXCLUDED.total_cases,
         clusters = EXCLUDED.clusters, messages = EXCLUDED.messages, duration_ms = EXCLUDED.duration_ms, ran_at = now()`,
      [s.signal, s.runDay, s.level, s.areas, s.totalCases, s.clusters.length, s.messages, s.ms],
    );
  });
}

// ------------------------------------------------------------------------------------ fusion evidence

/** The signal key a scan cluster's evidence carries (distinct from the detector's own rows of the same area and day). */
export const SCAN_SIGNAL_PREFIX = 'scan:';
export const SCAN_METHOD = 'stPermScan';

/** The signal a scan evidence key is about ('scan:syndrome:x' → 'syndrome:x'); other keys unchanged. */
export function scannedSignal(signal: string): string {
  return signal.startsWith(SCAN_SIGNAL_PREFIX) ? signal.slice(SCAN_SIGNAL_PREFIX.length) : signal;
}

/**
 * Stored evidence clusters (p ≤ evidenceAlpha) whose run day is in [from, to] as fusion evidence:
 * one alarm row per area of a cluster, on the run day, with the signal's own source (see fusion.ts for why), the area's
 * observed and expected cases in the cluster's days, and the cluster's Monte Carlo p.
 */
export async function scanEvidence(db: Database, from: string, to: string): Promise<DetectionAlarm[]> {
  const r = await db.query<{
    signal: string;
    source: string;
    run_day: string;
    area_codes: string[];
    area_observed: number[];
    area_expected: number[];
    p_value: number;
  }>(
    `SELECT signal, source, run_day::text AS run_day, area_codes, area_observed, area_expected, p_value FROM surv_scan_cluster
     WHERE evidence AND run_day BETWEEN $1::date AND $2::date ORDER BY run_day, signal, rank`,
    [from, to],
  );
  return r.rows.flatMap((c) =>
    c.area_codes.map((code, i) => ({
      signal: `${SCAN_SIGNAL_PREFIX}${c.signal}`,
      source: c.source,
      areaCode: code,
      day: c.run_day,
      method: SCAN_METHOD,
      observed: c.area_observed[i] ?? 0,
      threshold: null,
      expected: c.area_expected[i] ?? 0,
      pValue: c.p_value,
      fixed: false,
    })),
  );
}

// ------------------------------------------------------------------------------------ reading

export interface ScanClusterQuery {
  from?: string;
  to?: string;
  signal?: string;
  limit?: number;
  offset?: number;
}

export interface ScanClusterRecord {
  id: number;
  signal: string;
  runDay: string;
  rank: number;
  source: string;
  areaLevel: string;
  center: { code: string; name: string };
  areas: { code: string; name: string; observed: number; expected: number }[];
  startDay: string;
  endDay: string;
  days: number;
  observed: number;
  expected: number;
  relativeRisk: number | null;
  llr: number;
  p: number;
  evidence: boolean;
  replications: number;
  seed: number;
  totalCases: number;
  studyDays: number;
  computedAt: string;
}

/** Stored clusters, newest run day first (then signal, rank), a page at a time with the total; area names from surv_area. */
export async function scanClusterPage(db: Database, q: ScanClusterQuery): Promise<{ total: number; rows: ScanClusterRecord[] }> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (q.from) {
    params.push(q.from);
    where.push(`c.run_day >= $${params.length}::date`);
  }
  if (q.to) {
    params.push(q.to);
    where.push(`c.run_day <= $${params.length}::date`);
  }
  if (q.signal) {
    params.push(q.signal);
    where.push(`c.signal = $${params.length}`);
  }
  const cond = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const total = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM surv_scan_cluster c ${cond}`, params);
  const limit = q.limit ?? 50;
  const offset = q.offset ?? 0;
  const r = await db.query<{
    id: string;
    signal: string;
    run_day: string;
    rank: number;
    source: string;
    area_level: string;
    center_code: string;
    center_name: string | null;
    area_codes: string[];
    area_names: (string | null)[];
    area_observed: number[];
    area_expected: number[];
    start_day: string;
    end_day: string;
    observed: number;
    expected: number;
    relative_risk: number | null;
    llr: number;
    p_value: number;
    evidence: boolean;
    replications: number;
    seed: string;
    total_cases: number;
    study_days: number;
    computed_at: Date;
  }>(
    `SELECT c.id, c.signal, c.run_day::text AS run_day, c.rank, c.source, c.area_level, c.center_code, ca.name AS center_name,
       c.area_codes, array(SELECT ar.name FROM unnest(c.area_codes) WITH ORDINALITY AS u(code, i) LEFT JOIN surv_area ar ON ar.code = u.code ORDER BY u.i) AS area_names,
       c.area_observed, c.area_expected, c.start_day::text AS start_day, c.end_day::text AS end_day, c.observed, c.expected, c.relative_risk,
       c.llr, c.p_value, c.evidence, c.replications, c.seed, c.total_cases, c.study_days, c.computed_at
     FROM surv_scan_cluster c LEFT JOIN surv_area ca ON ca.code = c.center_code ${cond}
     ORDER BY c.run_day DESC, c.signal, c.rank LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
    [...params, limit, offset],
  );
  return {
    total: total.rows[0]?.n ?? 0,
    rows: r.rows.map((x) => ({
      id: Number(x.id),
      signal: x.signal,
      runDay: x.run_day,
      rank: x.rank,
      source: x.source,
      areaLevel: x.area_level,
      center: { code: x.center_code, name: x.center_name ?? x.center_code },
      areas: x.area_codes.map((code, i) => ({
        code,
        name: x.area_names[i] ?? code,
        observed: x.area_observed[i] ?? 0,
        expected: x.area_expected[i] ?? 0,
      })),
      startDay: x.start_day,
      endDay: x.end_day,
      days: daysBetween(x.start_day, x.end_day) + 1,
      observed: x.observed,
      expected: x.expected,
      relativeRisk: x.relative_risk,
      llr: x.llr,
      p: x.p_value,
      evidence: x.evidence,
      replications: x.replications,
      seed: Number(x.seed),
      totalCases: x.total_cases,
      studyDays: x.study_days,
      computedAt: new Date(x.computed_at).toISOString(),
    })),
  };
}

/** The daily job's scan: each day given, with the configured settings (nothing when scan.enabled is false). */
export async function runDailyScan(
  db: Database,
  signals: readonly SignalConfig[],
  days: string[],
  config = loadScanConfig(),
): Promise<ScanRun[]> {
  if (!config.enabled) return [];
  const out: ScanRun[] = [];
  for (const day of days) out.push(await runScan(db, signals, { day, config }));
  return out;
}
