import { describe, expect, it } from 'vitest';
import { daysBetween } from '../shared/dates.js';
import { makeIdNumber } from '../shared/id-number.js';
import {
  ageAt,
  ageBand,
  isoWeek,
  pseudonymise,
  residentIdentity,
  scopeKey,
  sexLabel,
  shiftDate,
  streetOf,
  suppressSmallCells,
  type Table,
} from './deidentify.js';

const keyA = Buffer.alloc(32, 1);
const keyB = Buffer.alloc(32, 2);
const idNumber = makeIdNumber('339902', '1980-05-06', 123);

describe('pseudonyms', () => {
  it('are stable for one identity and key, prefixed and truncated', () => {
    const a = pseudonymise(keyA, `id:${idNumber}`);
    expect(a).toEqual(pseudonymise(keyA, `id:${idNumber}`));
    expect(a.pseudonym).toMatch(/^R-[0-9A-F]{16}$/);
    expect(pseudonymise(keyA, 'x', { prefix: 'S_', length: 10, maxShiftDays: 5 }).pseudonym).toMatch(/^S_[0-9A-F]{10}$/);
  });

  it('depend on the key, the scope and the identity, and do not show the identity', () => {
    const a = pseudonymise(keyA, `id:${idNumber}`).pseudonym;
    expect(pseudonymise(keyB, `id:${idNumber}`).pseudonym).not.toBe(a);
    expect(pseudonymise(keyA, `id:${makeIdNumber('339902', '1980-05-06', 125)}`).pseudonym).not.toBe(a);
    expect(a).not.toContain(idNumber.slice(0, 6));
    const study1 = scopeKey(keyA, 'approval:IRB-1');
    const study2 = scopeKey(keyA, 'approval:IRB-2');
    expect(pseudonymise(study1, 'patient:p1').pseudonym).toBe(pseudonymise(scopeKey(keyA, 'approval:IRB-1'), 'patient:p1').pseudonym);
    expect(pseudonymise(study1, 'patient:p1').pseudonym).not.toBe(pseudonymise(study2, 'patient:p1').pseudonym);
  });

  it('take a valid ID number first, then the Patient id, then the fallback', () => {
    expect(residentIdentity({ idNumbers: [idNumber.toLowerCase()], patientId: 'p1' })).toBe(`id:${idNumber.toUpperCase()}`);
    expect(residentIdentity({ idNumbers: [null, idNumber], patientId: 'p1' })).toBe(`id:${idNumber}`);
    expect(residentIdentity({ idNumbers: ['339902198005061230'], patientId: 'p1' })).toBe('patient:p1');
    expect(residentIdentity({ idNumbers: [], patientId: null, fallback: '张三|1980-05-06|1' })).toBe('card:张三|1980-05-06|1');
    expect(residentIdentity({})).toBeUndefined();
  });
});

describe('date shifting', () => {
  it('moves every date of one person by the same non-zero number of days within the range', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const { shiftDays } = pseudonymise(keyA, `patient:p${i}`);
      expect(shiftDays).not.toBe(0);
      expect(Math.abs(shiftDays)).toBeLessThanOrEqual(30);
      seen.add(shiftDays);
    }
    // Every value of −30…−1, 1…30 turns up among 2,000 people.
    expect(seen.size).toBe(60);
    const { shiftDays } = pseudonymise(keyA, `id:${idNumber}`);
    expect(pseudonymise(keyA, `id:${idNumber}`).shiftDays).toBe(shiftDays);
    const onset = shiftDate('2025-02-27', shiftDays)!;
    const diagnosis = shiftDate('2025-03-02T10:00:00+08:00', shiftDays)!;
    const death = shiftDate('2025-03-20', shiftDays)!;
    expect(daysBetween(onset, diagnosis)).toBe(3);
    expect(daysBetween(diagnosis, death)).toBe(18);
    expect(daysBetween('2025-02-27', onset)).toBe(shiftDays);
    expect(shiftDate(null, shiftDays)).toBeNull();
  });

  it('uses a different shift under another key', () => {
    const differs = Array.from({ length: 20 }, (_, i) => `patient:q${i}`).some(
      (id) => pseudonymise(keyA, id).shiftDays !== pseudonymise(keyB, id).shiftDays,
    );
    expect(differs).toBe(true);
  });
});

describe('generalisation', () => {
  it('puts ages in 5-year bands with a top band', () => {
    expect([0, 4, 5, 9, 10, 84, 85, 101].map((a) => ageBand(a))).toEqual(['0-4', '0-4', '5-9', '5-9', '10-14', '80-84', '85+', '85+']);
    expect(ageBand(undefined)).toBe('不详');
    expect(ageBand(-1)).toBe('不详');
    expect(ageBand(12, 10, 60)).toBe('10-19');
  });

  it('takes the age on the diagnosis day from the birth date, else from the stated age', () => {
    expect(ageAt('2025-05-05', '1980-05-06')).toBe(44);
    expect(ageAt('2025-05-06', '1980-05-06')).toBe(45);
    expect(ageAt('2025-05-06', null, { value: 18, unit: '月' })).toBe(1);
    expect(ageAt('2025-05-06', null, { value: 40, unit: '天' })).toBe(0);
    expect(ageAt('2025-05-06', null, { value: 33, unit: '岁' })).toBe(33);
    expect(ageAt('2025-05-06', null, null)).toBeUndefined();
  });

  it('cuts an area code to its street, and labels sex', () => {
    expect(streetOf('339902001001')).toBe('339902001000');
    expect(streetOf('3399')).toBe('');
    expect(streetOf(null)).toBe('');
    expect([sexLabel('1'), sexLabel('female'), sexLabel('9'), sexLabel(undefined)]).toEqual(['男', '女', '不详', '不详']);
  });

  it('names ISO weeks across year ends', () => {
    expect(isoWeek('2025-01-01')).toBe('2025-W01');
    expect(isoWeek('2024-12-30')).toBe('2025-W01');
    expect(isoWeek('2021-01-03')).toBe('2020-W53');
    expect(isoWeek('2025-03-02')).toBe('2025-W09');
    expect(isoWeek('2025-03-03')).toBe('2025-W10');
  });
});

/** Independent check: every published relation (a line) has 0 or ≥ 2 hidden values, and every value of 1–4 is hidden. */
function checkSafe(t: Table, threshold = 5) {
  const s = suppressSmallCells(t, threshold);
  const rows = t.counts.length;
  const cols = t.counts[0]?.length ?? 0;
  const rowSum = t.counts.map((r) => r.reduce((a, b) => a + b, 0));
  const colSum = Array.from({ length: cols }, (_, j) => t.counts.reduce((a, r) => a + r[j]!, 0));
  const values: [number, boolean][] = [];
  t.counts.forEach((r, i) => r.forEach((n, j) => values.push([n, s.cells[i]![j]!])));
  if (t.rowTotals) rowSum.forEach((n, i) => values.push([n, s.rowTotals[i]!]));
  if (t.columnTotals) colSum.forEach((n, j) => values.push([n, s.columnTotals[j]!]));
  for (const [n, hidden] of values) if (n > 0 && n < threshold) expect(hidden).toBe(true);
  const lines: boolean[][] = [];
  if (t.rowTotals) for (let i = 0; i < rows; i++) lines.push([...s.cells[i]!, s.rowTotals[i]!]);
  if (t.columnTotals) for (let j = 0; j < cols; j++) lines.push([...s.cells.map((r) => r[j]!), s.columnTotals[j]!]);
  if (t.grandTotal && t.rowTotals) lines.push([...s.rowTotals, s.grandTotal]);
  if (t.grandTotal && t.columnTotals) lines.push([...s.columnTotals, s.grandTotal]);
  for (const line of lines) expect(line.filter(Boolean).length).not.toBe(1);
  return s;
}

describe('small-cell suppression', () => {
  it('hides nothing when no value is small (zeros are shown)', () => {
    const s = checkSafe({ counts: [[5, 0, 12]], rowTotals: true, columnTotals: true, grandTotal: true });
    expect(s.primary + s.complementary).toBe(0);
  });

  it('hides a small cell and the smallest other value of its row', () => {
    const s = checkSafe({ counts: [[2, 9, 7]], rowTotals: true, columnTotals: false, grandTotal: false });
    expect(s.cells).toEqual([[true, false, true]]);
    expect(s.rowTotals).toEqual([false]);
    expect([s.primary, s.complementary]).toEqual([1, 1]);
  });

  it('protects a small street count against the week total (the public table shape)', () => {
    // Four streets in one week: 3 is small; the district total 17 stays published, so 6 is hidden too.
    const s = checkSafe({ counts: [[0], [3], [8], [6]], rowTotals: false, columnTotals: true, grandTotal: false });
    expect(s.cells.map((r) => r[0])).toEqual([false, true, false, true]);
    expect(s.columnTotals).toEqual([false]);
    // What a reader can work out: 17 − 0 − 8 = 9 for the two hidden streets together, not either one.
  });

  it('cascades across rows and columns until no line has one hidden value', () => {
    const s = checkSafe({
      counts: [
        [3, 10, 8],
        [7, 12, 9],
        [6, 5, 11],
      ],
      rowTotals: true,
      columnTotals: true,
      grandTotal: true,
    });
    expect(s.cells[0]![0]).toBe(true);
    expect(s.primary).toBe(1);
    expect(s.complementary).toBeGreaterThanOrEqual(3);
    expect(s.grandTotal).toBe(false);
  });

  it('hides small totals too (a total of 1–4 is a small count itself)', () => {
    // The row total 3 and the column total 3 equal the one small cell: all three are hidden; zeros stay.
    const s = checkSafe({ counts: [[3, 0]], rowTotals: true, columnTotals: true, grandTotal: true });
    expect(s.cells).toEqual([[true, false]]);
    expect(s.rowTotals).toEqual([true]);
    expect(s.columnTotals).toEqual([true, false]);
    expect(s.grandTotal).toBe(true);
    const z = checkSafe({ counts: [[4], [0]], rowTotals: true, columnTotals: false, grandTotal: false });
    expect(z.cells).toEqual([[true], [false]]);
    expect(z.rowTotals).toEqual([true, false]);
  });

  it('is safe and deterministic on random tables', () => {
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) as number;
    for (let k = 0; k < 300; k++) {
      const rows = 1 + Math.floor(rand() * 6);
      const cols = 1 + Math.floor(rand() * 8);
      const counts = Array.from({ length: rows }, () => Array.from({ length: cols }, () => (rand() < 0.3 ? 0 : Math.floor(rand() * 15))));
      const t: Table = { counts, rowTotals: rand() < 0.5, columnTotals: rand() < 0.7, grandTotal: rand() < 0.5 };
      const s = checkSafe(t);
      expect(suppressSmallCells(t)).toEqual(s);
    }
  });

  it('refuses a table that is not of non-negative integers', () => {
    expect(() => suppressSmallCells({ counts: [[1, -1]], rowTotals: true, columnTotals: false, grandTotal: false })).toThrow(
      /non-negative/,
    );
    expect(() => suppressSmallCells({ counts: [[1, 2], [3]], rowTotals: true, columnTotals: false, grandTotal: false })).toThrow();
  });
});
