/** The street health portrait's API: types from the server's route schemas, imported as types only. */
import type { CellResidents, PortraitIndicator, PortraitMap, StreetProfile } from '../../../src/portrait/schemas.js';
import { apiRequest } from '../api/http.js';

export type { CellResidents, PortraitIndicator, PortraitMap, StreetProfile };
export type MapCell = PortraitMap['streets'][number];
/** Which of a cell's rates the map colours by. */
export type RateKind = 'crude' | 'standardised' | 'smoothed';

const qs = (q: Record<string, string | undefined>) => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v) p.set(k, v);
  return p.toString();
};
const json = { accept: 'application/json' };

export function getPortraitMap(q: { indicator: PortraitIndicator; period: string; disease?: string }, signal?: AbortSignal) {
  return apiRequest<PortraitMap>(`/api/portrait/map?${qs(q)}`, { ...json, signal });
}

export function getStreetProfile(code: string, period: string, signal?: AbortSignal) {
  return apiRequest<StreetProfile>(`/api/portrait/streets/${encodeURIComponent(code)}?${qs({ period })}`, { ...json, signal });
}

export function getCellResidents(
  q: { indicator: PortraitIndicator; street: string; period: string; disease?: string },
  signal?: AbortSignal,
) {
  return apiRequest<CellResidents>(`/api/portrait/residents?${qs(q)}`, { ...json, signal });
}

/** This year in China time (the default period). */
export function thisYearInChina(now = Date.now()): string {
  return new Date(now + 8 * 3_600_000).toISOString().slice(0, 4);
}
