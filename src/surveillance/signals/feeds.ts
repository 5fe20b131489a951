/**
 * Non-clinical feeds into the counts: school absenteeism (by school and class), pharmacy OTC
 * sales (by category) and sentinel sites' daily syndrome counts (each site its own series). `ingestAbsenceRows` / `ingestPharmacyRows` are the internal entry points
 * the feeds capability calls once it has parsed and stored its rows (src/feeds, when present);
 * `parseAbsenceCsv` / `parsePharmacyCsv` read the simulator's CSV files (the same columns) so
 * evaluation and demos work without it. Rows are kept per class-day / pharmacy-category-day, so
 * a resent day replaces the earlier numbers and moves the counts by the difference.
 */
import type pg from 'pg';
import { applyCountDeltas, type CountDelta, type TouchListener } from './counts.js';

export interface AbsenceRow {
  school: string;
  classCode: string;
  day: string;
  enrolled: number;
  absent: number;
  /** Absent for illness (病假). */
  illnessAbsent: number;
}

export interface PharmacyRow {
  pharmacy: string;
  category: string;
  day: string;
  units: number;
}

/** A sentinel site's count of one syndrome on one day (0: its zero report). */
export interface SentinelRow {
  site: string;
  syndrome: string;
  day: string;
  cases: number;
}

/** The signal of one sentinel site's syndrome: each site is its own series with its own baseline. */
export function sentinelSignal(syndrome: string, site: string): string {
  return `sentinel:${syndrome}:${site}`;
}

export interface FeedRowError {
  line: number;
  message: string;
}

function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (q) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') q = false;
      else cur += ch;
    } else if (ch === '"') q = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function table(text: string): { header: string[]; rows: { line: number; cells: Record<string, string> }[] } {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = splitCsvLine(lines[0] ?? '').map((h) => h.trim());
  const rows: { line: number; cells: Record<string, string> }[] = [];
  for (let i = 1; i < lines.length; i++) {
    if (!lines[i]!.trim()) continue;
    const cells = splitCsvLine(lines[i]!);
    rows.push({ line: i + 1, cells: Object.fromEntries(header.map((h, j) => [h, (cells[j] ?? '').trim()])) });
  }
  return { header, rows };
}

const isCount = (s: string) => /^\d+$/.test(s);
const isDay = (s: string) => /^\d{4}-\d{2}-\d{2}$/.test(s);

/** school_code,school_name,class_code,date,enrolled,absent,reason,symptom → rows per class-day. */
export function parseAbsenceCsv(text: string): { rows: AbsenceRow[]; errors: FeedRowError[] } {
  const { rows } = table(text);
  const errors: FeedRowError[] = [];
  const byKey = new Map<string, AbsenceRow>();
  for (const { line, cells } of rows) {
    const { school_code: school, class_code: classCode, date: day, enrolled, absent, reason } = cells as Record<string, string>;
    if (!school || !classCode) {
      errors.push({ line, message: 'school_code and class_code are required' });
      continue;
    }
    if (!isDay(day ?? '')) {
      errors.push({ line, message: `date must be YYYY-MM-DD (got '${day}')` });
      continue;
    }
    if (!isCount(enrolled ?? '') || !isCount(absent ?? '')) {
      errors.push({ line, message: 'enrolled and absent must be non-negative integers' });
      continue;
    }
    const key = `${school}|${classCode}|${day}`;
    const row = byKey.get(key) ?? { school, classCode, day: day!, enrolled: Number(enrolled), absent: 0, illnessAbsent: 0 };
    row.enrolled = Math.max(row.enrolled, Number(enrolled));
    row.absent += Number(absent);
    if (reason === '病假') row.illnessAbsent += Number(absent);
    byKey.set(key, row);
  }
  return { rows: [...byKey.values()], errors };
}

/** pharmacy_code,pharmacy_name,date,category,units. */
export function parsePharmacyCsv(text: string): { rows: PharmacyRow[]; errors: FeedRowError[] } {
  const { rows } = table(text);
  const errors: FeedRowError[] = [];
  const byKey = new Map<string, PharmacyRow>();
  for (const { line, cells } of rows) {
    const { pharmacy_code: pharmacy, date: day, category, units } = cells as Record<string, string>;
    if (!pharmacy || !category) {
      errors.push({ line, message: 'pharmacy_code and category are required' });
      continue;
    }
    if (!isDay(day ?? '')) {
      errors.push({ line, message: `date must be YYYY-MM-DD (got '${day}')` });
      continue;
    }
    if (!isCount(units ?? '')) {
      errors.push({ line, message: `units must be a non-negative integer (got '${units}')` });
      continue;
    }
    const key = `${pharmacy}|${category}|${day}`;
    const row = byKey.get(key) ?? { pharmacy, category, day: day!, units: 0 };
    row.units += Number(units);
    byKey.set(key, row);
  }
  return { rows: [...byKey.values()], errors };
}

async function placeAreas(client: pg.PoolClient, codes: string[]): Promise<Map<string, string>> {
  const r = await client.query<{ code: string; area_code: string | null }>(
    'SELECT code, area_code FROM surv_place WHERE code = ANY($1::text[])',
    [codes],
  );
  return new Map(r.rows.map((x) => [x.code, x.area_code ?? '']));
}

/** Stores class-day absence rows and moves 'school:illness_absence' (n = 病假 absences, denom = enrolled). */
export async function ingestAbsenceRows(client: pg.PoolClient, rows: AbsenceRow[], touch?: TouchListener): Promise<void> {
  if (!rows.length) return;
  const areas = await placeAreas(client, [...new Set(rows.map((r) => r.school))]);
  const deltas: CountDelta[] = [];
  for (let i = 0; i < rows.length; i += 1000) {
    const chunk = rows.slice(i, i + 1000);
    const old = await client.query<{
      school: string;
      class_code: string;
      day: string;
      area_code: string;
      enrolled: number;
      illness_absent: number;
    }>(
      `SELECT f.school, f.class_code, f.day::text AS day, f.area_code, f.enrolled, f.illness_absent FROM surv_feed_absence f
       JOIN unnest($1::text[], $2::text[], $3::date[]) AS k(school, class_code, day) USING (school, class_code, day)`,
      [chunk.map((r) => r.school), chunk.map((r) => r.classCode), chunk.map((r) => r.day)],
    );
    for (const o of old.rows)
      deltas.push({
        signal: 'school:illness_absence',
        day: o.day,
        areaCode: o.area_code,
        school: o.school,
        unit: o.class_code,
        n: -o.illness_absent,
        denom: -o.enrolled,
      });
    for (const r of chunk)
      deltas.push({
        signal: 'school:illness_absence',
        day: r.day,
        areaCode: areas.get(r.school) ?? '',
        school: r.school,
        unit: r.classCode,
        n: r.illnessAbsent,
        denom: r.enrolled,
      });
    await client.query(
      `INSERT INTO surv_feed_absence (school, class_code, day, area_code, enrolled, absent, illness_absent)
       SELECT * FROM unnest($1::text[], $2::text[], $3::date[], $4::text[], $5::int[], $6::int[], $7::int[])
       ON CONFLICT (school, class_code, day) DO UPDATE SET area_code = EXCLUDED.area_code, enrolled = EXCLUDED.enrolled, absent = EXCLUDED.absent, illness_absent = EXCLUDED.illness_absent`,
      [
        chunk.map((r) => r.school),
        chunk.map((r) => r.classCode),
        chunk.map((r) => r.day),
        chunk.map((r) => areas.get(r.school) ?? ''),
        chunk.map((r) => r.enrolled),
        chunk.map((r) => r.absent),
        chunk.map((r) => r.illnessAbsent),
      ],
    );
  }
  await applyCountDeltas(client, deltas, touch);
}

/** Stores pharmacy-category-day rows and moves 'pharmacy:<category>' (n = units). */
export async function ingestPharmacyRows(client: pg.PoolClient, rows: PharmacyRow[], touch?: TouchListener): Promise<void> {
  if (!rows.length) return;
  const areas = await placeAreas(client, [...new Set(rows.map((r) => r.pharmacy))]);
  const deltas: CountDelta[] = [];
  for (let i = 0; i < rows.length; i += 1000) {
    const chunk = rows.slice(i, i + 1000);
    const old = await client.query<{ pharmacy: string; category: string; day: string; area_code: string; units: number }>(
      `SELECT f.pharmacy, f.category, f.day::text AS day, f.area_code, f.units FROM surv_feed_pharmacy f
       JOIN unnest($1::text[], $2::text[], $3::date[]) AS k(pharmacy, category, day) USING (pharmacy, category, day)`,
      [chunk.map((r) => r.pharmacy), chunk.map((r) => r.category), chunk.map((r) => r.day)],
    );
    for (const o of old.rows)
      deltas.push({ signal: `pharmacy:${o.category}`, day: o.day, areaCode: o.area_code, facility: o.pharmacy, n: -o.units });
    for (const r of chunk)
      deltas.push({
        signal: `pharmacy:${r.category}`,
        day: r.day,
        areaCode: areas.get(r.pharmacy) ?? '',
        facility: r.pharmacy,
        n: r.units,
      });
    await client.query(
      `INSERT INTO surv_feed_pharmacy (pharmacy, category, day, area_code, units)
       SELECT * FROM unnest($1::text[], $2::text[], $3::date[], $4::text[], $5::int[])
       ON CONFLICT (pharmacy, category, day) DO UPDATE SET area_code = EXCLUDED.area_code, units = EXCLUDED.units`,
      [
        chunk.map((r) => r.pharmacy),
        chunk.map((r) => r.category),
        chunk.map((r) => r.day),
        chunk.map((r) => areas.get(r.pharmacy) ?? ''),
        chunk.map((r) => r.units),
      ],
    );
  }
  await applyCountDeltas(client, deltas, touch);
}

/** Stores sentinel site-syndrome-day rows and moves 'sentinel:<syndrome>:<site>' (n = cases; a zero report moves nothing but is kept). */
export async function ingestSentinelRows(client: pg.PoolClient, rows: SentinelRow[], touch?: TouchListener): Promise<void> {
  if (!rows.length) return;
  const areas = await placeAreas(client, [...new Set(rows.map((r) => r.site))]);
  const deltas: CountDelta[] = [];
  for (let i = 0; i < rows.length; i += 1000) {
    const chunk = rows.slice(i, i + 1000);
    const old = await client.query<{ site: string; syndrome: string; day: string; area_code: string; cases: number }>(
      `SELECT f.site, f.syndrome, f.day::text AS day, f.area_code, f.cases FROM surv_feed_sentinel f
       JOIN unnest($1::text[], $2::text[], $3::date[]) AS k(site, syndrome, day) USING (site, syndrome, day)`,
      [chunk.map((r) => r.site), chunk.map((r) => r.syndrome), chunk.map((r) => r.day)],
    );
    for (const o of old.rows)
      deltas.push({ signal: sentinelSignal(o.syndrome, o.site), day: o.day, areaCode: o.area_code, facility: o.site, n: -o.cases });
    for (const r of chunk)
      deltas.push({
        signal: sentinelSignal(r.syndrome, r.site),
        day: r.day,
        areaCode: areas.get(r.site) ?? '',
        facility: r.site,
        n: r.cases,
      });
    await client.query(
      `INSERT INTO surv_feed_sentinel (site, syndrome, day, area_code, cases)
       SELECT * FROM unnest($1::text[], $2::text[], $3::date[], $4::text[], $5::int[])
       ON CONFLICT (site, syndrome, day) DO UPDATE SET area_code = EXCLUDED.area_code, cases = EXCLUDED.cases`,
      [
        chunk.map((r) => r.site),
        chunk.map((r) => r.syndrome),
        chunk.map((r) => r.day),
        chunk.map((r) => areas.get(r.site) ?? ''),
        chunk.map((r) => r.cases),
      ],
    );
  }
  await applyCountDeltas(client, deltas, touch);
}
