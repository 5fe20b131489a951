/**
 * The period an indicator is asked for: a year (YYYY) or a span of days (YYYY-MM-DD/YYYY-MM-DD),
 * this year when absent. Shared by chronic care's indicators (indicators.ts) and the programme
 * engine's (programmes/service.ts), which indicators.ts calls, so it lives apart from both.
 */
import { badRequest } from '../../platform/errors.js';
import type { Period } from './schemas.js';

export type { Period };

/** The period of a request; `today` (a day in China) gives the default year. 400 on anything else. */
export function parsePeriod(input: string | undefined, today: string): Period {
  const p = input ?? today.slice(0, 4);
  if (/^\d{4}$/.test(p)) return { from: `${p}-01-01`, to: `${p}-12-31`, label: p };
  const m = /^(\d{4}-\d{2}-\d{2})\/(\d{4}-\d{2}-\d{2})$/.exec(p);
  if (m && m[1]! <= m[2]!) return { from: m[1]!, to: m[2]!, label: p };
  throw badRequest(`period: expected YYYY or YYYY-MM-DD/YYYY-MM-DD (got '${p}')`);
}
