/**
 * Stock warnings as pure functions: near expiry (each threshold of the settings, 90 and 30 days by
 * default), expired vials still in stock, a vaccine below its minimum at a clinic, stock below
 * zero (doses recorded from vials never received). The clock is passed in.
 */
import type { WarningView } from './schemas.js';

const DAY = 86_400_000;

/** Whole days from today (UTC) to the expiry date: 0 on the day itself, negative once expired. */
export function daysToExpiry(expiry: string, now: Date): number {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return Math.round((Date.parse(`${expiry}T00:00:00Z`) - today) / DAY);
}

/** The near-expiry threshold a lot is within (the smallest that holds), or null. */
export function nearExpiryThreshold(days: number, thresholds: readonly number[]): number | null {
  if (days < 0) return null;
  const within = thresholds.filter((t) => days <= t);
  return within.length ? Math.min(...within) : null;
}

export interface StockLine {
  clinicCode: string;
  quantity: number;
  lot: { id: number; vaccineCode: string; lotNumber: string; expiry: string };
}

export function lotWarnings(line: StockLine, now: Date, thresholds: readonly number[]): WarningView[] {
  const out: WarningView[] = [];
  const base = {
    clinicCode: line.clinicCode,
    vaccineCode: line.lot.vaccineCode,
    lotId: line.lot.id,
    lotNumber: line.lot.lotNumber,
    quantity: line.quantity,
    immunizationId: null,
  };
  if (line.quantity < 0)
    out.push({
      ...base,
      kind: 'negative-stock',
      days: null,
      message: `${line.clinicCode}: lot ${line.lot.lotNumber} is at ${line.quantity}: doses were recorded from vials never received`,
    });
  if (line.quantity <= 0) return out;
  const days = daysToExpiry(line.lot.expiry, now);
  if (days < 0)
    out.push({
      ...base,
      kind: 'expired-in-stock',
      days: -days,
      message: `${line.clinicCode}: ${line.quantity} doses of lot ${line.lot.lotNumber} expired on ${line.lot.expiry} are still in stock`,
    });
  else {
    const t = nearExpiryThreshold(days, thresholds);
    if (t !== null)
      out.push({
        ...base,
        kind: 'near-expiry',
        days: t,
        message: `${line.clinicCode}: ${line.quantity} doses of lot ${line.lot.lotNumber} expire on ${line.lot.expiry}, in ${days} days (within ${t})`,
      });
  }
  return out;
}

/** A vaccine a clinic stocks below its minimum (usable doses: not expired). */
export function minimumWarning(clinicCode: string, vaccineCode: string, usable: number, minimum: number): WarningView | null {
  if (usable >= minimum) return null;
  return {
    kind: 'below-minimum',
    clinicCode,
    vaccineCode,
    lotId: null,
    lotNumber: null,
    days: null,
    quantity: usable,
    immunizationId: null,
    message: `${clinicCode}: ${usable} usable doses of ${vaccineCode}, below the minimum of ${minimum}`,
  };
}
