/**
 * Daily signal counts (table signal_count), moved by deltas as records arrive. Every change
 * reports the (signal, area, day) it touched so detection can re-run for that series only.
 */
import type { Queryable } from '../../platform/db.js';

export interface CountDelta {
  signal: string;
  day: string;
  areaCode?: string;
  facility?: string;
  school?: string;
  unit?: string;
  ageGroup?: string;
  n: number;
  denom?: number;
}

export type TouchListener = (signal: string, areaCode: string, day: string) => void;

/** ILI surveillance age groups (全国流感监测方案 2017): 0–4, 5–14, 15–24, 25–59, ≥60. */
export function ageGroup(birthDate: string | null | undefined, onDay: string): string {
  if (!birthDate || !/^\d{4}-\d{2}-\d{2}/.test(birthDate)) return 'unknown';
  const b = birthDate.slice(0, 10);
  let age = Number(onDay.slice(0, 4)) - Number(b.slice(0, 4));
  if (onDay.slice(5, 10) < b.slice(5, 10)) age--;
  if (age < 5) return '0-4';
  if (age < 15) return '5-14';
  if (age < 25) return '15-24';
  if (age < 60) return '25-59';
  return '60+';
}

export const AGE_GROUPS = ['0-4', '5-14', '15-24', '25-59', '60+', 'unknown'] as const;

/** Applies deltas in one statement per 500 rows (upsert adding to n and denom). */
export async function applyCountDeltas(client: Queryable, deltas: CountDelta[], touch?: TouchListener): Promise<void> {
  // Merge deltas on the same key first (a batch of 500 visits often hits one key many times).
  const merged = new Map<string, { k: string[]; n: number; d: number }>();
  for (const x of deltas) {
    if (!x.n && !x.denom) continue;
    const k = [x.signal, x.day, x.areaCode ?? '', x.facility ?? '', x.school ?? '', x.unit ?? '', x.ageGroup ?? ''];
    const key = k.join('\u0001');
    const m = merged.get(key);
    if (m) {
      m.n += x.n;
      m.d += x.denom ?? 0;
    } else merged.set(key, { k, n: x.n, d: x.denom ?? 0 });
  }
  const rows = [...merged.values()].filter((r) => r.n !== 0 || r.d !== 0);
  for (let i = 0; i < rows.length; i += 500) {
    const chunk = rows.slice(i, i + 500);
    const params: unknown[] = [];
    const values = chunk.map((r) => {
      const base = params.length;
      params.push(...r.k, r.n, r.d);
      return `(${Array.from({ length: 9 }, (_, j) => `$${base + j + 1}${j === 1 ? '::date' : j >= 7 ? '::int' : ''}`).join(',')})`;
    });
    await client.query(
      `INSERT INTO signal_count (signal, day, area_code, facility, school, unit, age_group, n, denom) VALUES ${values.join(',')}
       ON CONFLICT (signal, day, area_code, facility, school, unit, age_group)
       DO UPDATE SET n = signal_count.n + EXCLUDED.n, denom = signal_count.denom + EXCLUDED.denom`,
      params,
    );
  }
  if (touch) for (const r of rows) if (r.n !== 0) touch(r.k[0]!, r.k[2]!, r.k[1]!);
}
