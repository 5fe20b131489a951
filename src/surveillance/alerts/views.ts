/**
 * What the alert page shows beside the alert itself: the series of every signal behind it with
 * the detector bound, and the line list of the cases behind its evidence (with community
 * centroids for the map).
 */
import { addDays } from '../../shared/dates.js';
import { signalConfigFor } from '../config.js';
import type { SurveillanceEngine } from '../engine.js';
import type { AlertCase, AlertSeries } from '../schemas.js';
import { signalSeries } from '../signals/store.js';
import { getAlert } from './store.js';

/**
 * Time series of every signal contributing to the alert, from 42 days before its first evidence
 * to 7 days after its last; 'weak' when the signal joined only with sub-threshold evidence.
 */
export async function alertSeries(engine: SurveillanceEngine, id: number): Promise<AlertSeries[]> {
  const a = await getAlert(engine.db, id);
  const to = addDays(a.lastEvidenceAt.slice(0, 10), 7);
  const from = addDays(a.firstEvidenceAt.slice(0, 10), -42);
  const seen = new Set<string>();
  const out: AlertSeries[] = [];
  for (const e of a.evidence) {
    const k = `${e.signal}|${e.areaCode}`;
    if (seen.has(k)) continue;
    seen.add(k);
    // 'weak': this signal joined only with sub-threshold evidence (its detector never alarmed here).
    const weak = a.evidence.filter((x) => x.signal === e.signal && x.areaCode === e.areaCode).every((x) => x.weak === true);
    out.push({
      ...(await signalSeries(engine.db, engine.config.signals, e.signal, e.areaCode, from, to)),
      label: engine.label(e.signal),
      evidence: weak ? 'weak' : 'alarm',
    });
  }
  return out;
}

type CaseRow = { id: string; day: string; area_code: string; detail: string; facility: string | null };

/** Line list of the cases behind the alert: visits with the syndrome, report cards, lab positives, school classes, public reports. */
export async function alertCases(engine: SurveillanceEngine, id: number): Promise<AlertCase[]> {
  const db = engine.db;
  const { evidence } = await getAlert(db, id);
  const out: AlertCase[] = [];
  const centroids = new Map(
    (
      await db.query<{ code: string; centroid: [number, number] | null }>(`SELECT code, centroid FROM surv_area WHERE level = 'community'`)
    ).rows.map((r) => [r.code, r.centroid]),
  );
  const seen = new Set<string>();
  for (const e of evidence) {
    const cfg = signalConfigFor(engine.config.signals, e.signal);
    const win = cfg?.method === 'cidarsMpm' ? 7 : cfg?.derive ? cfg.derive.days : 1;
    const from = addDays(e.day, -(win - 1));
    const prefix = `${e.areaCode.replace(/0+$/, '')}%`;
    let rows: CaseRow[] = [];
    if (e.signal.startsWith('syndrome:') || e.signal === 'ili') {
      const s = e.signal === 'ili' ? 'ili' : e.signal.slice(9);
      rows = (
        await db.query<CaseRow>(
          `SELECT encounter_id AS id, day::text AS day, area_code, coalesce(complaint, '') || coalesce(' T' || temperature_c::text || '℃', '') AS detail, facility FROM surv_visit
          WHERE $1 = ANY(syndromes) AND day BETWEEN $2::date AND $3::date AND area_code LIKE $4 LIMIT 200`,
          [s, from, e.day, prefix],
        )
      ).rows;
    } else if (e.signal.startsWith('report:')) {
      rows = (
        await db.query<CaseRow>(
          `SELECT id, counted_day::text AS day, area_code, disease_name || ' ' || coalesce(case_classification, '') AS detail, facility_name AS facility FROM surv_report_card
          WHERE disease_key = $1 AND counted_day BETWEEN $2::date AND $3::date AND area_code LIKE $4 LIMIT 200`,
          [e.signal.slice(7), from, e.day, prefix],
        )
      ).rows;
    } else if (e.signal.startsWith('lab:')) {
      rows = (
        await db.query<CaseRow>(
          `SELECT observation_id AS id, day::text AS day, area_code, signal AS detail, NULL AS facility FROM surv_lab_positive WHERE signal = $1 AND day BETWEEN $2::date AND $3::date AND area_code LIKE $4 LIMIT 200`,
          [e.signal, from, e.day, prefix],
        )
      ).rows;
    } else if (e.signal === 'school:illness_absence' || e.signal === 'school:class_cluster') {
      rows = (
        await db.query<CaseRow>(
          `SELECT f.school || '/' || f.class_code AS id, f.day::text AS day, f.area_code, coalesce(p.name, f.school) || ' ' || f.class_code || ' 因病缺课 ' || f.illness_absent || '/' || f.enrolled AS detail, f.school AS facility
          FROM surv_feed_absence f LEFT JOIN surv_place p ON p.code = f.school WHERE f.illness_absent > 0 AND f.day BETWEEN $1::date AND $2::date AND f.area_code LIKE $3 LIMIT 200`,
          [from, e.day, prefix],
        )
      ).rows;
    } else if (e.signal === 'public:report') {
      rows = (
        await db.query<CaseRow>(
          `SELECT id::text AS id, day::text AS day, area_code, description AS detail, source AS facility FROM surv_public_report WHERE day BETWEEN $1::date AND $2::date AND area_code LIKE $3 LIMIT 200`,
          [from, e.day, prefix],
        )
      ).rows;
    }
    for (const r of rows) {
      const k = `${e.signal}|${r.id}`;
      if (seen.has(k)) continue;
      seen.add(k);
      out.push({
        kind: e.signal,
        id: r.id,
        day: r.day,
        areaCode: r.area_code,
        areaName: engine.areaName(r.area_code),
        detail: r.detail,
        facility: r.facility,
        location: centroids.get(r.area_code) ?? null,
      });
    }
  }
  return out.sort((a, b) => a.day.localeCompare(b.day));
}
