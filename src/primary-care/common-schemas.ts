/**
 * Zod building blocks shared by the request and response schemas of primary care's routes
 * (chronic/schemas.ts, care/schemas.ts, immunization/schemas.ts, indicators/schemas.ts).
 */
import { z } from 'zod';
import { isIsoDate } from '../shared/dates.js';

/** A calendar date, YYYY-MM-DD. */
export const IsoDate = z.string().refine(isIsoDate, { message: 'expected YYYY-MM-DD' });

/** Optional text: blank counts as absent, surrounding spaces are dropped. */
export const OptionalText = z.preprocess((v) => (typeof v === 'string' ? v.trim() || undefined : v), z.string().optional());

/** Text that must be there (not blank). */
export const RequiredText = z.string().trim().min(1, { message: 'required' });

/** An enum whose failure message lists the choices ("one of a, b, c"). */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T, message = `one of ${values.join(', ')}`) {
  return z.enum(values as unknown as [T[number], ...T[number][]], { errorMap: () => ({ message }) });
}

/** `?asOf=YYYY-MM-DD`: look at another day than today (in China). */
export const AsOfQuery = z.object({ asOf: IsoDate.optional() });

/** A date column read with to_char(…, 'YYYY-MM-DD'), absent when NULL. */
export const DateOrNull = z.string().nullable();

export const Disease = oneOf(['htn', 'dm']);
export type Disease = z.infer<typeof Disease>;
