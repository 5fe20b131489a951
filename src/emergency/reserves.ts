/**
 * Reserves arithmetic (pure): first-expiring-first-out allocation, expiry classes, consumption
 * rates and days of cover against the emergency-scenario standard.
 */
import { daysBetween } from '../shared/dates.js';

export interface BatchStock {
  batchNo: string;
  /** YYYY-MM-DD, or null for stock that does not expire. */
  expiresOn: string | null;
  quantity: number;
}

/** Quantities are kept to 3 decimals (numeric(14,3)); arithmetic rounds there so sums stay exact. */
export const q3 = (n: number): number => Math.round(n * 1000) / 1000;

/** Usable on a day: not yet expired (a batch expiring on a day may still be used that day). */
export const usable = (b: BatchStock, day: string): boolean => b.quantity > 0 && (b.expiresOn === null || b.expiresOn >= day);

/**
 * Takes `quantity` from the usable batches, first-expiring first (no expiry last, then by batch
 * number); returns the takes, or the shortfall when the usable stock is not enough.
 */
export function allocateFefo(
  batches: readonly BatchStock[],
  quantity: number,
  day: string,
): { ok: true; takes: { batchNo: string; expiresOn: string | null; quantity: number }[] } | { ok: false; available: number } {
  const order = batches
    .filter((b) => usable(b, day))
    .sort((a, b) => (a.expiresOn ?? '9999-12-31').localeCompare(b.expiresOn ?? '9999-12-31') || a.batchNo.localeCompare(b.batchNo));
  const available = q3(order.reduce((s, b) => s + b.quantity, 0));
  if (available < quantity) return { ok: false, available };
  const takes: { batchNo: string; expiresOn: string | null; quantity: number }[] = [];
  let left = quantity;
  for (const b of order) {
    if (left <= 0) break;
    const take = q3(Math.min(b.quantity, left));
    takes.push({ batchNo: b.batchNo, expiresOn: b.expiresOn, quantity: take });
    left = q3(left - take);
  }
  return { ok: true, takes };
}

export type ExpiryClass = 'expired' | `within-${number}` | null;

/**
 * A batch's expiry class on a day: 'expired', 'within-30' (the shortest warning window it falls
 * in), … or null when it is further off (or never expires). `windows` longest first.
 */
export function expiryClass(expiresOn: string | null, day: string, windows: readonly number[]): ExpiryClass {
  if (!expiresOn) return null;
  const days = daysBetween(day, expiresOn);
  if (days < 0) return 'expired';
  let found: ExpiryClass = null;
  for (const w of windows) if (days <= w) found = `within-${w}`;
  return found;
}

export interface CoverInput {
  /** Usable stock now. */
  stock: number;
  /** Issued over the window. */
  issuedInWindow: number;
  windowDays: number;
  /** Emergency-scenario daily use (the unit's own, else the item's default). */
  scenarioDailyUse: number;
  standardDays: number;
}

export interface Cover {
  observedDailyUse: number;
  /** Days the stock lasts at the observed rate (null when nothing was issued). */
  daysAtObservedRate: number | null;
  /** The rate the standard is judged at: the larger of the scenario's and the observed one. */
  emergencyDailyUse: number;
  rateBasis: 'scenario' | 'observed';
  /** Days the stock lasts in the emergency scenario (null when the item is not used in it). */
  emergencyDays: number | null;
  meetsStandard: boolean;
  /** What is missing to reach the standard. */
  shortfall: number;
}

export function cover(c: CoverInput): Cover {
  const observed = q3(c.issuedInWindow / c.windowDays);
  const basis = observed > c.scenarioDailyUse ? 'observed' : 'scenario';
  const rate = Math.max(observed, c.scenarioDailyUse);
  const emergencyDays = rate > 0 ? Math.round((c.stock / rate) * 10) / 10 : null;
  const needed = q3(rate * c.standardDays);
  return {
    observedDailyUse: observed,
    daysAtObservedRate: observed > 0 ? Math.round((c.stock / observed) * 10) / 10 : null,
    emergencyDailyUse: q3(rate),
    rateBasis: basis,
    emergencyDays,
    meetsStandard: emergencyDays === null || c.stock >= needed,
    shortfall: Math.max(0, q3(needed - c.stock)),
  };
}

/** A certificate's state on a day: expired, expiring within the warning window, or valid. */
export function certificateState(expiresOn: string | null, day: string, warningDays: number): 'expired' | 'expiring' | 'valid' {
  if (!expiresOn) return 'valid';
  const days = daysBetween(day, expiresOn);
  if (days < 0) return 'expired';
  return days <= warningDays ? 'expiring' : 'valid';
}
