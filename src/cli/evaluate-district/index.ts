/**
 * `evaluateDistrict(dir, options)`: replays a simulated district (src/simulator output with its
 * truth.json) through the real pipeline — FHIR NDJSON bulk import, HL7 v2 over POST /api/hl7,
 * feed CSVs over POST /api/feeds/... (or the surveillance fallback), report cards through
 * ingestCards — drains the processors, runs every detector and fusion day by day, and compares
 * the alerts with the injected outbreaks.
 *
 * Per method ("single source" = the alarms of one data source on their own, grouped into
 * episodes: alarm days in the same street less than `episodeGapDays` apart are one alert) and
 * for the fused alerts: POD (outbreaks with a matching alert), POD on the first day (alert by
 * the day after the first case's onset — the first day a case can reach a clinic), median delay
 * in days from the first onset, false alerts per street per month, alerts per week.
 * An alert matches an outbreak when its street holds one of the outbreak's communities (a fused
 * alert: its own street, or at least half of its evidence by cases — episodeInStreets) and its
 * trigger day lies in [first onset − 3, last onset + 14].
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { importPath } from '../../fhir/import.js';
import { openDatabase } from '../../platform/db.js';
import { startServer } from '../../app/server.js';
import { simulate } from '../../simulator/index.js';
import { importRegistryDirectory } from '../../registry/index.js';
import { addDays, dayRange, daysBetween as dayDiff } from '../../shared/dates.js';
import type { Database } from '../../platform/db.js';
import {
  areaAt,
  fuseDays,
  ingestCards,
  judgeSeries,
  loadSeriesByArea,
  runDetection,
  surveillanceRuntime,
  type FusionConfig,
  type SignalConfig,
} from '../../surveillance/index.js';

export interface DistrictEvaluationOptions {
  /** Simulate into `dir` first when it holds no manifest.json. */
  seed?: number;
  population?: number;
  start?: string;
  days?: number;
  /** Days at the start used only as history (no alert counted). */
  warmupDays?: number;
  episodeGapDays?: number;
  log?: (message: string) => void;
  /**
   * Extra settings to compare on the same replay (the records are loaded once): fusion rules,
   * and optionally the per-signal detectors (detection is then re-run with them first).
   */
  fusionVariants?: { name: string; fusion: FusionConfig; signals?: SignalConfig[] }[];
  /** Called with the database after the configured run is scored and before any variant (diagnosis). */
  inspect?: (db: Database, range: { from: string; to: string }) => Promise<void>;
  /** Settings of the CIDARS baseline (cidarsMpm on report-card counts per street). */
  baselineControl?: Record<string, unknown>;
}

/** CIDARS moving percentile as the national system runs it for common diseases: P80, minimum one case. */
export const CIDARS_BASELINE_CONTROL = { percentile: 80, years: 5, weeks: 2, minBlocks: 3, minCases: 1 };

export interface MethodRow {
  method: string;
  outbreaks: number;
  detected: number;
  pod: number;
  podFirstDay: number;
  medianDelayDays: number | null;
  alerts: number;
  falseAlerts: number;
  falseAlertsPerAreaMonth: number;
  alertsPerWeek: number;
}

export interface DistrictEvaluation {
  dir: string;
  from: string;
  to: string;
  areas: number;
  outbreaks: { id: string; kind: string; firstOnset: string; streets: string[]; detectedBy: Record<string, number | null> }[];
  rows: MethodRow[];
  seconds: { simulate: number; import: number; detect: number };
}

interface TruthOutbreak {
  id: string;
  kind: string;
  areaCodes: string[];
  start: string;
  end: string;
  cases: { onsetDate?: string; symptomatic?: boolean }[];
}

interface Episode {
  method: string;
  area: string;
  areas?: string[];
  /** A fused alert's evidence by street: the cases (observed counts) each street contributed. */
  evidence?: Map<string, number>;
  triggerDay: string;
  lastDay: string;
}

/**
 * Whether an episode lies in an outbreak's streets. A single source's episode has one street.
 * A fused alert may join evidence from neighbouring streets: it counts for the outbreak when
 * its own street is one of the outbreak's, or when at least half of its evidence (by cases)
 * comes from them — one neighbouring street's few cases do not make a district-wide alert a hit.
 */
export function episodeInStreets(e: Pick<Episode, 'area' | 'areas' | 'evidence'>, streets: readonly string[]): boolean {
  if (streets.includes(e.area)) return true;
  if (e.evidence?.size) {
    let inside = 0;
    let all = 0;
    for (const [street, cases] of e.evidence) {
      all += cases;
      if (streets.includes(street)) inside += cases;
    }
    return all > 0 && inside * 2 >= all;
  }
  return (e.areas ?? []).some((a) => streets.includes(a));
}

function median(xs: number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function splitHl7(text: string): string[] {
  return text
    .split(/(?=^MSH\|)/m)
    .map((m) => m.trim())
    .filter((m) => m.startsWith('MSH|'));
}

export async function evaluateDistrict(dir: string, options: DistrictEvaluationOptions = {}): Promise<DistrictEvaluation> {
  const log = options.log ?? (() => undefined);
  const seconds = { simulate: 0, import: 0, detect: 0 };
  let t = Date.now();
  if (!fs.existsSync(path.join(dir, 'manifest.json'))) {
    log(`simulating into ${dir}`);
    await simulate({
      seed: options.seed ?? 7,
      population: options.population ?? 5000,
      start: options.start ?? '2024-01-01',
      days: options.days ?? 400,
      outDir: dir,
    });
  }
  seconds.simulate = (Date.now() - t) / 1000;
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { args: { start: string; days: number } };
  const truth = JSON.parse(fs.readFileSync(path.join(dir, 'truth.json'), 'utf8')) as { outbreaks: TruthOutbreak[] };
  const firstDay = manifest.args.start;
  const lastDay = addDays(firstDay, manifest.args.days - 1);
  const from = addDays(firstDay, options.warmupDays ?? 28);

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'yifang-eval-'));
  const db = await openDatabase({ dataDir });
  const server = await startServer({ db, port: 0, quiet: true, adminPassword: 'evaluation-pw', mllpPort: 0 });
  try {
    const login = await fetch(`${server.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'evaluation-pw' }),
    });
    const { access_token: token } = (await login.json()) as { access_token: string };
    const post = (p: string, body: string | Buffer, type: string) =>
      fetch(`${server.url}${p}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': type },
        body: typeof body === 'string' ? body : body.toString('utf8'),
      });
    const runtime = surveillanceRuntime.get(db);
    if (!runtime) throw new Error('the surveillance module is not loaded');
    // Replay: detection runs once over the whole range below, not on every arriving record.
    runtime.engine.live = false;
    // Bulk replay: stop the background processors and drain once at the end (batches of 500).
    await server.processors.stop();
    t = Date.now();
    await importRegistryDirectory(db, server.repo, path.join(dir, 'registry'));
    const fhir = await importPath(server.repo, path.join(dir, 'fhir'));
    log(`FHIR: ${fhir.resources} resources, ${fhir.errors.length} errors (${((Date.now() - t) / 1000).toFixed(1)} s)`);
    const hl7Dir = path.join(dir, 'hl7');
    let hl7Count = 0;
    for (const f of fs.existsSync(hl7Dir) ? fs.readdirSync(hl7Dir).filter((x) => x.endsWith('.hl7')) : []) {
      const messages = splitHl7(fs.readFileSync(path.join(hl7Dir, f), 'utf8'));
      for (let i = 0; i < messages.length; i += 300) {
        const r = await post('/api/hl7', messages.slice(i, i + 300).join('\r'), 'x-application/hl7-v2+er7');
        if (!r.ok) log(`HL7 ${f}: HTTP ${r.status}`);
        await r.arrayBuffer();
        hl7Count += Math.min(300, messages.length - i);
        if (i % 1500 === 0) log(`HL7 ${f}: ${hl7Count} messages`);
      }
    }
    log(`HL7: ${hl7Count} messages (${((Date.now() - t) / 1000).toFixed(1)} s)`);
    for (const [feed, file] of [
      ['school-absenteeism', 'school-absenteeism.csv'],
      ['pharmacy-sales', 'pharmacy-sales.csv'],
    ] as const) {
      const p = path.join(dir, 'feeds', file);
      if (!fs.existsSync(p)) continue;
      const csv = fs.readFileSync(p);
      let r = await post(`/api/feeds/${feed}`, csv, 'text/csv');
      if (r.status === 404) r = await post(`/api/surveillance/feeds/${feed}`, csv, 'text/csv');
      if (!r.ok) log(`feed ${feed}: HTTP ${r.status} ${(await r.text()).slice(0, 200)}`);
      else await r.arrayBuffer();
    }
    const cardsFile = path.join(dir, 'report-cards.ndjson');
    if (fs.existsSync(cardsFile)) {
      const cards = fs
        .readFileSync(cardsFile, 'utf8')
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as unknown);
      const results = await ingestCards(runtime.reporting, cards, 'evaluation');
      log(
        `report cards: ${results.filter((r) => r.status === 'accepted').length} accepted, ${results.filter((r) => r.status === 'rejected').length} rejected`,
      );
    }
    log(`inputs loaded (${((Date.now() - t) / 1000).toFixed(1)} s); draining processors`);
    await server.processors.drain();
    await runtime.feeds.drain();
    log(`processors drained (${((Date.now() - t) / 1000).toFixed(1)} s)`);
    seconds.import = (Date.now() - t) / 1000;
    t = Date.now();
    const run = await runtime.engine.runAll(from, lastDay);
    seconds.detect = (Date.now() - t) / 1000;
    log(`detection: ${run.series} series, ${run.alarms} alarms; fusion: ${run.created.length} alerts`);

    const streets = (await db.query<{ code: string }>(`SELECT code FROM surv_area WHERE level = 'street'`)).rows.map((r) => r.code);
    // An alert covers its own street and every street its evidence comes from (spatial join).
    const alertEpisodes = async (method: string) =>
      (
        await db.query<{ area_code: string; trigger_day: string; last_evidence_day: string; streets: string[]; cases: number[] }>(
          `SELECT a.area_code, a.trigger_day::text AS trigger_day, a.last_evidence_day::text AS last_evidence_day,
              coalesce(x.streets, '{}') AS streets, coalesce(x.cases, '{}') AS cases
       FROM surv_alert a
       CROSS JOIN LATERAL (SELECT array_agg(s ORDER BY s) AS streets, array_agg(w ORDER BY s) AS cases
                             FROM (SELECT left(e.area_code, 9) || '000' AS s, sum(greatest(coalesce(e.observed, 1), 1))::float8 AS w
                                     FROM surv_alert_evidence e WHERE e.alert_id = a.id GROUP BY 1) g) x`,
        )
      ).rows.map((a): Episode => ({
        method,
        area: a.area_code,
        areas: [...new Set([a.area_code, ...a.streets])],
        evidence: new Map(a.streets.map((st, i) => [st, Number(a.cases[i] ?? 0)])),
        triggerDay: a.trigger_day,
        lastDay: a.last_evidence_day,
      }));
    const alerts = await alertEpisodes('fused');
    const loadAlarms = async () =>
      (
        await db.query<{ source: string; method: string; signal: string; area_code: string; day: string }>(
          `SELECT source, method, signal, area_code, day::text AS day FROM surv_detection WHERE alarm AND day >= $1::date ORDER BY day`,
          [from],
        )
      ).rows;
    const alarms = await loadAlarms();
    const gap = options.episodeGapDays ?? 7;
    const episodes = (method: string, rows: typeof alarms): Episode[] => {
      const out: Episode[] = [];
      const open = new Map<string, Episode>();
      for (const r of rows) {
        const area = areaAt('street', r.area_code.padEnd(12, '0'));
        const cur = open.get(area);
        if (cur && dayDiff(cur.lastDay, r.day) < gap) cur.lastDay = r.day;
        else {
          const e = { method, area, triggerDay: r.day, lastDay: r.day };
          out.push(e);
          open.set(area, e);
        }
      }
      return out;
    };
    const methods = new Map<string, Episode[]>();
    methods.set('fused (multi-point)', alerts);
    const addSourceRows = (rowsOf: typeof alarms, variant?: string, signals: readonly SignalConfig[] = runtime.engine.config.signals) => {
      for (const s of [...new Set(rowsOf.map((a) => a.source))].sort()) {
        const rows = rowsOf.filter((a) => a.source === s);
        // Named by the configured methods of the source (not those that happened to alarm), so districts pool into one row.
        const configured = signals.filter((x) => x.source === s).map((x) => x.method);
        const methodNames = [...new Set(configured.length ? configured : rows.map((r) => r.method))].sort().join('+');
        methods.set(`${s} only (${methodNames}${variant ? `; ${variant}` : ''})`, episodes(s, rows));
      }
    };
    addSourceRows(alarms);
    // The baseline runs on its own with the CIDARS settings, whatever signals.json says.
    const baselineAlarms: typeof alarms = [];
    const reportSignals = (
      await db.query<{ signal: string }>(`SELECT DISTINCT signal FROM signal_count WHERE signal LIKE 'report:%'`)
    ).rows.map((r) => r.signal);
    const histFrom = firstDay;
    const allDays = dayRange(histFrom, lastDay);
    const evalIdx = dayDiff(histFrom, from);
    for (const signal of reportSignals) {
      const byArea = await loadSeriesByArea(db, signal, 'street', histFrom, lastDay);
      for (const [area, observed] of byArea) {
        const v = judgeSeries(
          {
            key: signal,
            label: signal,
            source: 'case-report',
            areaLevel: 'street',
            method: 'cidarsMpm',
            control: options.baselineControl ?? CIDARS_BASELINE_CONTROL,
          },
          allDays,
          observed,
          evalIdx,
        );
        for (let i = evalIdx; i < allDays.length; i++)
          if (v.alarm[i]) baselineAlarms.push({ source: 'baseline', method: 'cidarsMpm', signal, area_code: area, day: allDays[i]! });
      }
    }
    baselineAlarms.sort((a, b) => a.day.localeCompare(b.day));
    methods.set('baseline: CIDARS cidarsMpm on report cards', episodes('baseline', baselineAlarms));
    await options.inspect?.(db, { from, to: lastDay });
    for (const variant of options.fusionVariants ?? []) {
      if (variant.signals) {
        await db.query('DELETE FROM surv_detection');
        await runDetection(db, variant.signals, { evalFrom: from, to: lastDay });
        addSourceRows(await loadAlarms(), variant.name, variant.signals);
      }
      await db.query('DELETE FROM surv_alert_evidence');
      await db.query('DELETE FROM surv_alert_event');
      await db.query('DELETE FROM surv_alert_comment');
      await db.query('DELETE FROM surv_alert');
      await fuseDays(db, variant.fusion, { from, to: lastDay });
      methods.set(`fused (${variant.name})`, await alertEpisodes(variant.name));
    }

    const evalOutbreaks = truth.outbreaks
      .map((o) => {
        const onsets = o.cases
          .map((c) => c.onsetDate)
          .filter((d): d is string => !!d)
          .sort();
        return {
          id: o.id,
          kind: o.kind,
          firstOnset: onsets[0] ?? o.start,
          lastOnset: onsets.at(-1) ?? o.end,
          streets: [...new Set(o.areaCodes.map((c) => areaAt('street', c)))],
        };
      })
      .filter((o) => o.firstOnset >= from && o.firstOnset <= lastDay);
    const months = (dayDiff(from, lastDay) + 1) / 30.44;
    const weeks = (dayDiff(from, lastDay) + 1) / 7;
    const detectedBy = new Map<string, Record<string, number | null>>(evalOutbreaks.map((o) => [o.id, {}]));
    const rows: MethodRow[] = [];
    for (const [method, eps] of methods) {
      const matched = new Set<Episode>();
      const delays: number[] = [];
      let firstDay = 0;
      for (const o of evalOutbreaks) {
        const inArea = (e: Episode) => episodeInStreets(e, o.streets);
        const hits = eps.filter((e) => inArea(e) && e.triggerDay >= addDays(o.firstOnset, -3) && e.triggerDay <= addDays(o.lastOnset, 14));
        hits.forEach((h) => matched.add(h));
        // Episodes/alerts that started before the outbreak but were still running count too.
        const running = eps.filter((e) => inArea(e) && e.triggerDay < addDays(o.firstOnset, -3) && e.lastDay >= o.firstOnset);
        running.forEach((h) => matched.add(h));
        const first = hits.map((h) => h.triggerDay).sort()[0];
        detectedBy.get(o.id)![method] = first ? dayDiff(o.firstOnset, first) : null;
        if (first) {
          delays.push(Math.max(0, dayDiff(o.firstOnset, first)));
          if (dayDiff(o.firstOnset, first) <= 1) firstDay++;
        }
      }
      const falseAlerts = eps.filter((e) => !matched.has(e)).length;
      rows.push({
        method,
        outbreaks: evalOutbreaks.length,
        detected: delays.length,
        pod: evalOutbreaks.length ? delays.length / evalOutbreaks.length : 0,
        podFirstDay: evalOutbreaks.length ? firstDay / evalOutbreaks.length : 0,
        medianDelayDays: median(delays),
        alerts: eps.length,
        falseAlerts,
        falseAlertsPerAreaMonth: streets.length ? falseAlerts / streets.length / months : 0,
        alertsPerWeek: eps.length / weeks,
      });
    }
    return {
      dir,
      from,
      to: lastDay,
      areas: streets.length,
      outbreaks: evalOutbreaks.map((o) => ({
        id: o.id,
        kind: o.kind,
        firstOnset: o.firstOnset,
        streets: o.streets,
        detectedBy: detectedBy.get(o.id)!,
      })),
      rows,
      seconds,
    };
  } finally {
    await server.close();
    await db.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Several districts (seeds) pooled: outbreaks and alerts add up. */
export function poolEvaluations(evals: DistrictEvaluation[]): MethodRow[] {
  const byMethod = new Map<string, { rows: MethodRow[] }>();
  for (const e of evals)
    for (const r of e.rows) (byMethod.get(r.method) ?? byMethod.set(r.method, { rows: [] }).get(r.method)!).rows.push(r);
  const delays = (m: string) =>
    evals.flatMap((e) =>
      e.outbreaks
        .map((o) => o.detectedBy[m])
        .filter((d): d is number => d !== null && d !== undefined)
        .map((d) => Math.max(0, d)),
    );
  return [...byMethod.entries()].map(([method, { rows }]) => {
    const outbreaks = rows.reduce((s, r) => s + r.outbreaks, 0);
    const detected = rows.reduce((s, r) => s + r.detected, 0);
    const firstDay = rows.reduce((s, r) => s + r.podFirstDay * r.outbreaks, 0);
    const n = rows.length;
    return {
      method,
      outbreaks,
      detected,
      pod: outbreaks ? detected / outbreaks : 0,
      podFirstDay: outbreaks ? firstDay / outbreaks : 0,
      medianDelayDays: median(delays(method)),
      alerts: rows.reduce((s, r) => s + r.alerts, 0),
      falseAlerts: rows.reduce((s, r) => s + r.falseAlerts, 0),
      falseAlertsPerAreaMonth: rows.reduce((s, r) => s + r.falseAlertsPerAreaMonth, 0) / n,
      alertsPerWeek: rows.reduce((s, r) => s + r.alertsPerWeek, 0) / n,
    };
  });
}

export function formatEvaluationTable(rows: MethodRow[]): string {
  const head = ['method', 'outbreaks', 'POD', 'POD day 1', 'median delay (d)', 'alerts', 'false/area/month', 'alerts/week'];
  const body = rows.map((r) => [
    r.method,
    String(r.outbreaks),
    `${(100 * r.pod).toFixed(0)} %`,
    `${(100 * r.podFirstDay).toFixed(0)} %`,
    r.medianDelayDays === null ? '–' : r.medianDelayDays.toFixed(1),
    String(r.alerts),
    r.falseAlertsPerAreaMonth.toFixed(3),
    r.alertsPerWeek.toFixed(2),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

/**
 * CLI hook for the lead: registers `yifang evaluate --district <dir>` handling. The CLI passes
 * its own registration function so this module does not depend on the CLI's parser.
 */
export function registerDistrictEvaluation(
  register: (name: string, description: string, run: (args: Record<string, string | undefined>) => Promise<string>) => void,
): void {
  register(
    'district',
    'Replay a simulated district (dir with truth.json; simulated there when empty) through the real pipeline and print the per-method table',
    async (args) => {
      const dir = args.dir ?? args.district ?? fs.mkdtempSync(path.join(os.tmpdir(), 'yifang-district-'));
      const seeds = (args.seeds ?? args.seed ?? '').split(',').filter(Boolean).map(Number);
      const evals: DistrictEvaluation[] = [];
      for (const seed of seeds.length ? seeds : [7]) {
        const d = seeds.length > 1 ? path.join(dir, `seed-${seed}`) : dir;
        evals.push(
          await evaluateDistrict(d, {
            seed,
            population: args.population ? Number(args.population) : undefined,
            days: args.days ? Number(args.days) : undefined,
            start: args.start,
            log: (m) => console.error(m),
          }),
        );
      }
      return formatEvaluationTable(poolEvaluations(evals));
    },
  );
}
