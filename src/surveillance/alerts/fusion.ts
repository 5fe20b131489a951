/**
 * Multi-point triggering: turns detector alarms into alerts (config/surveillance/fusion.json).
 * `assessEvidence` is pure: which level a set of alarms in one area and window deserves.
 * `fuseDays` walks days in order (live: the touched days; replay: every day), so an alert is
 * created on the first day its rule matches and then grows with later evidence instead of
 * being duplicated.
 */
import type pg from 'pg';
import type { Database } from '../../platform/db.js';
import { areaAt, type FusionConfig } from '../config.js';
import { addDays, type DetectionAlarm } from './detect.js';
import { fisherCombine } from './stats.js';

export interface Assessment {
  level: string;
  sources: string[];
  jointP: number;
  score: number;
  fixed: boolean;
}

/** Levels in order of severity (first listed = most severe). */
export function levelOrder(cfg: FusionConfig): string[] {
  return [...new Set(cfg.levels.map((l) => l.level))];
}

export function assessEvidence(cfg: FusionConfig, evidence: readonly DetectionAlarm[]): Assessment | null {
  if (!evidence.length) return null;
  const bySource = new Map<string, number>();
  for (const e of evidence) bySource.set(e.source, Math.min(bySource.get(e.source) ?? 1, e.pValue));
  const sources = [...bySource.keys()].sort();
  const jointP = fisherCombine([...bySource.values()]);
  const fixed = evidence.some((e) => e.fixed);
  for (const rule of cfg.levels) {
    const w = rule.when;
    if (w.fixedThreshold !== undefined && w.fixedThreshold !== fixed) continue;
    if (w.minSources !== undefined && sources.length < w.minSources) continue;
    if (w.maxJointP !== undefined && !(jointP <= w.maxJointP)) continue;
    return { level: rule.level, sources, jointP, score: -Math.log10(Math.max(jointP, 1e-300)), fixed };
  }
  return null;
}

const OPEN = ['new', 'triage', 'suspected', 'confirmed', 'response'];

interface AlertRow {
  id: number;
  status: string;
  level: string;
  last_evidence_day: string;
  first_evidence_day: string;
}

export interface FusionResult {
  created: number[];
  updated: number[];
}

async function evidenceOf(c: pg.PoolClient, alertId: number): Promise<DetectionAlarm[]> {
  const r = await c.query<{ signal: string; source: string; area_code: string; day: string; method: string; observed: number; threshold: number | null; expected: number; p_value: number }>(
    'SELECT signal, source, area_code, day::text AS day, method, observed, threshold, expected, p_value FROM surv_alert_evidence WHERE alert_id = $1',
    [alertId],
  );
  return r.rows.map((x) => ({ signal: x.signal, source: x.source, areaCode: x.area_code, day: x.day, method: x.method, observed: x.observed, threshold: x.threshold, expected: x.expected, pValue: x.p_value, fixed: x.method === 'cidarsFixed' && x.signal.startsWith('report:') }));
}

async function addEvidence(c: pg.PoolClient, alertId: number, ev: readonly DetectionAlarm[]): Promise<number> {
  if (!ev.length) return 0;
  const r = await c.query(
    `INSERT INTO surv_alert_evidence (alert_id, signal, area_code, day, method, source, observed, threshold, expected, p_value)
     SELECT $1, s, a, d, m, src, o, th, e, p FROM unnest($2::text[], $3::text[], $4::date[], $5::text[], $6::text[], $7::float8[], $8::float8[], $9::float8[], $10::float8[]) AS u(s, a, d, m, src, o, th, e, p)
     ON CONFLICT DO NOTHING`,
    [alertId, ev.map((e) => e.signal), ev.map((e) => e.areaCode), ev.map((e) => e.day), ev.map((e) => e.method), ev.map((e) => e.source), ev.map((e) => e.observed),
      ev.map((e) => e.threshold), ev.map((e) => e.expected), ev.map((e) => e.pValue)],
  );
  return r.rowCount ?? 0;
}

export type AlertListener = (event: { alertId: number; kind: 'created' | 'updated'; level: string; areaCode: string }) => void;

/**
 * Fuses alarms for the given areas (at the fusion level) on each day of [from, to]. Reads alarms
 * from surv_detection; writes surv_alert, surv_alert_evidence and surv_alert_event.
 */
export async function fuseDays(db: Database, cfg: FusionConfig, opts: { from: string; to: string; areas?: string[]; labels?: (signal: string) => string; areaName?: (code: string) => string; onAlert?: AlertListener; now?: () => Date }): Promise<FusionResult> {
  const result: FusionResult = { created: [], updated: [] };
  const windowStart = addDays(opts.from, -(cfg.windowDays - 1));
  const r = await db.query<{ signal: string; source: string; area_code: string; day: string; method: string; observed: number; threshold: number | null; expected: number; p_value: number }>(
    `SELECT signal, source, area_code, day::text AS day, method, observed, threshold, expected, p_value FROM surv_detection
     WHERE alarm AND day BETWEEN $1::date AND $2::date ORDER BY day`,
    [windowStart, opts.to],
  );
  const byArea = new Map<string, DetectionAlarm[]>();
  for (const x of r.rows) {
    const area = areaAt(cfg.areaLevel, x.area_code.length === 12 ? x.area_code : x.area_code.padEnd(12, '0'));
    if (!area || (opts.areas && !opts.areas.includes(area))) continue;
    const list = byArea.get(area) ?? [];
    list.push({ signal: x.signal, source: x.source, areaCode: x.area_code, day: x.day, method: x.method, observed: x.observed, threshold: x.threshold, expected: x.expected, pValue: x.p_value, fixed: x.method === 'cidarsFixed' && x.signal.startsWith('report:') });
    byArea.set(area, list);
  }
  const order = levelOrder(cfg);
  for (const [area, alarms] of byArea) {
    await db.transaction(async (c) => {
      // Alarms already attached to any alert of this area (they never start a second alert).
      const attached = new Set(
        (await c.query<{ k: string }>(
          `SELECT e.signal || '|' || e.area_code || '|' || e.day::text AS k FROM surv_alert_evidence e JOIN surv_alert a ON a.id = e.alert_id
           WHERE a.area_code = $1 AND e.day >= $2::date`,
          [area, windowStart],
        )).rows.map((x) => x.k),
      );
      const key = (e: DetectionAlarm) => `${e.signal}|${e.areaCode}|${e.day}`;
      for (let day = opts.from; day <= opts.to; day = addDays(day, 1)) {
        const lo = addDays(day, -(cfg.windowDays - 1));
        const todays = alarms.filter((e) => e.day === day);
        if (!todays.length) continue;
        // A case of a fixed-threshold disease is its own alert (one per disease and area), so it
        // is never hidden inside an unrelated statistical alert; statistical evidence fuses.
        const groups: { disease: string | null; windowEv: DetectionAlarm[] }[] = [];
        for (const d of new Set(todays.filter((e) => e.fixed).map((e) => e.signal.slice('report:'.length)))) {
          groups.push({ disease: d, windowEv: alarms.filter((e) => e.fixed && e.signal === `report:${d}` && e.day >= lo && e.day <= day) });
        }
        if (todays.some((e) => !e.fixed)) groups.push({ disease: null, windowEv: alarms.filter((e) => !e.fixed && e.day >= lo && e.day <= day) });
        for (const { disease, windowEv } of groups) {
          const open = (
            await c.query<AlertRow>(
              `SELECT id, status, level, last_evidence_day::text AS last_evidence_day, first_evidence_day::text AS first_evidence_day FROM surv_alert
               WHERE area_code = $1 AND status = ANY($2::text[]) AND last_evidence_day >= $3::date AND disease_key IS NOT DISTINCT FROM $4
               ORDER BY id DESC LIMIT 1 FOR UPDATE`,
              [area, OPEN, lo, disease],
            )
          ).rows[0];
          if (open) {
            const fresh = windowEv.filter((e) => !attached.has(key(e)));
            if (!fresh.length) continue;
            await addEvidence(c, open.id, fresh);
            fresh.forEach((e) => attached.add(key(e)));
            const all = await evidenceOf(c, open.id);
            const a = assessEvidence(cfg, all);
            const level = a && order.indexOf(a.level) < order.indexOf(open.level) ? a.level : open.level;
            const first = all.reduce((m, e) => (e.day < m ? e.day : m), open.first_evidence_day);
            const last = all.reduce((m, e) => (e.day > m ? e.day : m), open.last_evidence_day);
            await c.query(
              `UPDATE surv_alert SET level = $2, sources = $3, score = $4, joint_p = $5, first_evidence_day = $6, last_evidence_day = $7, updated_at = now(), version = version + 1 WHERE id = $1`,
              [open.id, level, a?.sources ?? [...new Set(all.map((e) => e.source))].sort(), a?.score ?? 0, a?.jointP ?? null, first, last],
            );
            await c.query(`INSERT INTO surv_alert_event (alert_id, action, actor, reason, detail) VALUES ($1, 'evidence', 'system', $2, $3)`, [
              open.id, `${fresh.length} new signal(s)${level !== open.level ? `, level ${open.level} → ${level}` : ''}`, JSON.stringify({ signals: fresh.map((e) => `${e.signal}@${e.day}`) }),
            ]);
            result.updated.push(open.id);
            opts.onAlert?.({ alertId: open.id, kind: 'updated', level, areaCode: area });
            continue;
          }
          const candidates = windowEv.filter((e) => !attached.has(key(e)));
          const a = assessEvidence(cfg, candidates);
          if (!a) continue;
          const first = candidates.reduce((m, e) => (e.day < m ? e.day : m), day);
          const topSignals = [...new Set([...candidates].sort((x, y) => x.pValue - y.pValue).map((e) => e.signal))].slice(0, 3);
          const title = `${opts.areaName?.(area) ?? area}：${topSignals.map((sig) => opts.labels?.(sig) ?? sig).join(' + ')}`;
          const now = opts.now?.() ?? new Date();
          const triage = cfg.triageHours[a.level] ?? 24;
          const ins = await c.query<{ id: number }>(
            `INSERT INTO surv_alert (status, level, area_code, title, disease_key, sources, score, joint_p, first_evidence_day, trigger_day, last_evidence_day, due_at)
             VALUES ('new', $1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10) RETURNING id`,
            [a.level, area, title, disease, a.sources, a.score, a.jointP, first, day, new Date(now.getTime() + triage * 3_600_000).toISOString()],
          );
          const id = ins.rows[0]!.id;
          await addEvidence(c, id, candidates);
          candidates.forEach((e) => attached.add(key(e)));
          await c.query(`INSERT INTO surv_alert_event (alert_id, action, to_status, actor, reason, detail) VALUES ($1, 'created', 'new', 'system', $2, $3)`, [
            id, `${a.sources.length} source(s): ${a.sources.join(', ')}; joint p ${a.jointP.toExponential(2)}`, JSON.stringify({ level: a.level, signals: candidates.map((e) => `${e.signal}@${e.day}`) }),
          ]);
          result.created.push(id);
          opts.onAlert?.({ alertId: id, kind: 'created', level: a.level, areaCode: area });
        }
      }
    });
  }
  return result;
}
