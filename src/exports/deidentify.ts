/**
 * De-identification, as pure functions (no I/O): what a released line list or table may hold
 * instead of who a resident is.
 *
 * - Pseudonyms: HMAC-SHA256 of the resident's identity (the ID number when it is a valid
 *   公民身份号码, else the Patient id) under a key that never enters the database. Without the key
 *   a pseudonym cannot be recomputed from a known ID number, and a different key (or scope, see
 *   `scopeKey`) gives unrelated pseudonyms.
 * - Date shifting: every date of one person moves by the same number of days, taken from bytes
 *   of the same keyed hash that the pseudonym does not show, so intervals (onset → diagnosis →
 *   death) survive while calendar dates do not.
 * - Generalisation: age in bands instead of the birth date, area cut to the street (街道/乡镇).
 * - Small-cell suppression for tables, with complementary suppression so that no suppressed cell
 *   can be had back by subtracting the visible cells of a row or column from its total.
 */
import { createHmac } from 'node:crypto';
import { addDays, ageOn } from '../shared/dates.js';
import { parseIdNumber } from '../shared/id-number.js';

// ---------------------------------------------------------------------------------------------
// Pseudonyms and date shifts

/**
 * The key for one release scope. Scoping by the approval reference means two studies get
 * pseudonyms that cannot be joined with each other, while repeated exports under one approval
 * keep the same pseudonym (and date shift) for the same resident.
 */
export function scopeKey(masterKey: Buffer, scope: string): Buffer {
  return createHmac('sha256', masterKey).update(`yifang-export-scope\u0000${scope}`).digest();
}

/**
 * What identifies the resident behind a record, most stable first: a valid ID number
 * (upper-cased), else the Patient id, else the card's own person key (name, birth date, sex:
 * only for cards from other systems with neither). Undefined when there is nothing at all.
 */
export function residentIdentity(who: {
  idNumbers?: readonly (string | null | undefined)[];
  patientId?: string | null;
  fallback?: string | null;
}): string | undefined {
  for (const n of who.idNumbers ?? []) {
    if (!n) continue;
    const parsed = parseIdNumber(n);
    if (parsed.ok) return `id:${n.trim().toUpperCase()}`;
  }
  if (who.patientId) return `patient:${who.patientId}`;
  if (who.fallback) return `card:${who.fallback}`;
  return undefined;
}

export interface Pseudonymised {
  /** Prefix + the first `length` hex digits of the keyed hash. */
  pseudonym: string;
  /** Days every date of this person is moved by: in [−maxDays, maxDays], never 0. */
  shiftDays: number;
}

export interface PseudonymOptions {
  prefix: string;
  /** Hex digits shown (16 = 64 bits: collisions are negligible for a district's residents). */
  length: number;
  /** Largest shift in days either way. */
  maxShiftDays: number;
}

export const DEFAULT_PSEUDONYM_OPTIONS: PseudonymOptions = { prefix: 'R-', length: 16, maxShiftDays: 30 };

/**
 * The pseudonym and date shift of an identity under a key. The shift comes from the hash's last
 * four bytes; the pseudonym shows at most its first 24 hex digits (12 bytes), so the shift
 * cannot be read off the pseudonym.
 */
export function pseudonymise(key: Buffer, identity: string, options: PseudonymOptions = DEFAULT_PSEUDONYM_OPTIONS): Pseudonymised {
  const digest = createHmac('sha256', key).update(`yifang-export-person\u0000${identity}`).digest();
  const length = Math.min(Math.max(options.length, 8), 24);
  return {
    pseudonym: options.prefix + digest.toString('hex').slice(0, length).toUpperCase(),
    shiftDays: shiftFrom(digest, options.maxShiftDays),
  };
}

/** Maps the hash's last four bytes onto [−maxDays, −1] ∪ [1, maxDays]. */
function shiftFrom(digest: Buffer, maxDays: number): number {
  if (maxDays < 1) return 0;
  const i = digest.readUInt32BE(digest.length - 4) % (2 * maxDays);
  return i < maxDays ? i - maxDays : i - maxDays + 1;
}

/** A date (YYYY-MM-DD, or the date part of a date-time) moved by `days`; null stays null. */
export function shiftDate(date: string | null | undefined, days: number): string | null {
  if (!date || !/^\d{4}-\d{2}-\d{2}/.test(date)) return null;
  return addDays(date.slice(0, 10), days);
}

// ---------------------------------------------------------------------------------------------
// Generalisation

/** Age in whole years on a date, from a birth date; else from a stated age (岁, 月, 天). */
export function ageAt(
  date: string,
  birthDate: string | null | undefined,
  stated?: { value: number; unit: string } | null,
): number | undefined {
  if (birthDate && /^\d{4}(-\d{2}){0,2}$/.test(birthDate)) {
    const age = ageOn(birthDate, date.slice(0, 10));
    return age >= 0 ? age : undefined;
  }
  if (stated && Number.isFinite(stated.value) && stated.value >= 0) {
    if (stated.unit === '岁') return Math.floor(stated.value);
    if (stated.unit === '月') return Math.floor(stated.value / 12);
    if (stated.unit === '天') return Math.floor(stated.value / 365.25);
  }
  return undefined;
}

/** An age as its band: '0-4', '5-9', …, and `${top}+` from the top band on; '不详' when unknown. */
export function ageBand(age: number | undefined, width = 5, top = 85): string {
  if (age === undefined || !Number.isFinite(age) || age < 0) return '不详';
  if (age >= top) return `${top}+`;
  const low = Math.floor(age / width) * width;
  return `${low}-${Math.min(low + width - 1, top - 1)}`;
}

/** The street (街道/乡镇) of a 12-digit statistical division code: its first 9 digits + '000'; '' when not a code. */
export function streetOf(areaCode: string | null | undefined): string {
  return areaCode && /^\d{12}$/.test(areaCode) ? `${areaCode.slice(0, 9)}000` : '';
}

/** GB/T 2261.1 sex code (or a FHIR gender) as a label. */
export function sexLabel(code: string | null | undefined): string {
  if (code === '1' || code === 'male') return '男';
  if (code === '2' || code === 'female') return '女';
  return '不详';
}

/** The ISO week (Monday first) of a date, e.g. '2025-W10'. */
export function isoWeek(date: string): string {
  const d = new Date(`${date.slice(0, 10)}T00:00:00Z`);
  const weekday = (d.getUTCDay() + 6) % 7; // Monday 0
  const thursday = new Date(d.getTime() + (3 - weekday) * 86_400_000);
  const year = thursday.getUTCFullYear();
  const week = Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / (7 * 86_400_000)) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

// ---------------------------------------------------------------------------------------------
// Small-cell suppression

export interface Table {
  /** counts[row][column], non-negative integers. */
  counts: number[][];
  /** Publish each row's total (over the columns). */
  rowTotals: boolean;
  /** Publish each column's total (over the rows). */
  columnTotals: boolean;
  /** Publish the grand total (tied to whichever margins are published). */
  grandTotal: boolean;
}

export interface SuppressedTable {
  /** Per cell: shown as the count, or suppressed. */
  cells: boolean[][];
  /** Per row total (when published): suppressed or not. */
  rowTotals: boolean[];
  columnTotals: boolean[];
  /** The grand total (when published): suppressed or not. */
  grandTotal: boolean;
  /** How many cells (margins included) were suppressed as small and how many to protect them. */
  primary: number;
  complementary: number;
}

/**
 * Which cells of a table to suppress. Primary: every published value from 1 to threshold − 1
 * (cells and totals; zeros are shown). Complementary: the published values are tied by lines —
 * each row with its total, each column with its total, the row totals with the grand total, the
 * column totals with the grand total (the cells with it when no margin is published) — and a line with exactly one suppressed value would give it
 * away by subtraction, so one more value of that line is suppressed (the smallest non-zero
 * shown one, a cell before a total; a zero only when nothing else is left), until no line has
 * exactly one. Deterministic: the same table gives the same pattern.
 *
 * This stops recovery by one subtraction along a line. It is the usual heuristic, not the
 * linear-programming audit that would also bound a suppressed value from several lines at once.
 */
export function suppressSmallCells(table: Table, threshold = 5): SuppressedTable {
  const rows = table.counts.length;
  const cols = rows ? table.counts[0]!.length : 0;
  for (const r of table.counts)
    if (r.length !== cols || r.some((n) => !Number.isInteger(n) || n < 0))
      throw new Error('suppressSmallCells: a table of non-negative integers');
  const rowSum = table.counts.map((r) => r.reduce((a, b) => a + b, 0));
  const colSum = Array.from({ length: cols }, (_, j) => table.counts.reduce((a, r) => a + r[j]!, 0));
  const grand = rowSum.reduce((a, b) => a + b, 0);

  // Every published value as a node; lines are lists of node ids.
  interface Node {
    value: number;
    total: boolean;
    suppressed: boolean;
    /** Order among equals: cells by position, then totals. */
    order: number;
  }
  const nodes: Node[] = [];
  const add = (value: number, total: boolean) => nodes.push({ value, total, suppressed: false, order: nodes.length }) - 1;
  const cell = table.counts.map((r) => r.map((n) => add(n, false)));
  const rowNode = table.rowTotals ? rowSum.map((n) => add(n, true)) : [];
  const colNode = table.columnTotals ? colSum.map((n) => add(n, true)) : [];
  const grandNode = table.grandTotal ? add(grand, true) : -1;

  const lines: number[][] = [];
  if (table.rowTotals) for (let i = 0; i < rows; i++) lines.push([...cell[i]!, rowNode[i]!]);
  if (table.columnTotals) for (let j = 0; j < cols; j++) lines.push([...cell.map((r) => r[j]!), colNode[j]!]);
  if (grandNode >= 0) {
    // The grand total is tied to each published margin, or to every cell when neither is.
    if (table.rowTotals) lines.push([...rowNode, grandNode]);
    if (table.columnTotals) lines.push([...colNode, grandNode]);
    if (!table.rowTotals && !table.columnTotals) lines.push([...cell.flat(), grandNode]);
  }

  let primary = 0;
  for (const n of nodes)
    if (n.value > 0 && n.value < threshold) {
      n.suppressed = true;
      primary++;
    }
  // Cheapest first: a non-zero cell, then a non-zero total, then a zero cell, then a zero total.
  const cost = (n: Node) => [n.value === 0 ? 1 : 0, n.total ? 1 : 0, n.value, n.order];
  const cheaper = (a: Node, b: Node) => {
    const x = cost(a);
    const y = cost(b);
    for (let k = 0; k < x.length; k++) if (x[k] !== y[k]) return x[k]! < y[k]!;
    return false;
  };
  let complementary = 0;
  for (let changed = true; changed;) {
    changed = false;
    for (const line of lines) {
      const hidden = line.filter((id) => nodes[id]!.suppressed).length;
      if (hidden !== 1) continue;
      let pick: Node | undefined;
      for (const id of line) {
        const n = nodes[id]!;
        if (!n.suppressed && (!pick || cheaper(n, pick))) pick = n;
      }
      // A line of one value cannot have a partner; none is built (a row always has its total).
      if (!pick) continue;
      pick.suppressed = true;
      complementary++;
      changed = true;
    }
  }
  return {
    cells: cell.map((r) => r.map((id) => nodes[id]!.suppressed)),
    rowTotals: rowNode.map((id) => nodes[id]!.suppressed),
    columnTotals: colNode.map((id) => nodes[id]!.suppressed),
    grandTotal: grandNode >= 0 && nodes[grandNode]!.suppressed,
    primary,
    complementary,
  };
}
