/** Data access for the basic public-health programmes (/api/programmes/*). */
import { apiRequest } from '../api/http.js';
import type {
  DrillPage,
  ProgrammeIndicators,
  ProgrammeList,
  RegistryPage,
  Worklist,
} from '../../../src/primary-care/programmes/schemas.js';

// The server's response types (zod schemas in src/primary-care/programmes/schemas.ts), for the screens.
export type {
  DrillPage,
  DrillRow,
  IndicatorDefinition,
  IndicatorValue,
  ProgrammeIndicators,
  ProgrammeList,
  ProgrammeSummary,
  RegistryPage,
  RegistryRow,
  WorkItem,
  Worklist,
} from '../../../src/primary-care/programmes/schemas.js';

const JSON_ACCEPT = { accept: 'application/json' };
const qs = (q: Record<string, string | undefined>) => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v) p.set(k, v);
  const s = p.toString();
  return s ? `?${s}` : '';
};
const base = (code: string) => `/api/programmes/${encodeURIComponent(code)}`;

export const getProgrammes = () => apiRequest<ProgrammeList>('/api/programmes', JSON_ACCEPT);
export const getProgrammeWorklist = (code: string, q: Record<string, string | undefined>) =>
  apiRequest<Worklist>(`${base(code)}/worklist${qs(q)}`, JSON_ACCEPT);
export const getProgrammeRegistry = (code: string, q: Record<string, string | undefined>) =>
  apiRequest<RegistryPage>(`${base(code)}/registry${qs(q)}`, JSON_ACCEPT);
export const getProgrammeIndicators = (code: string, q: Record<string, string | undefined>) =>
  apiRequest<ProgrammeIndicators>(`${base(code)}/indicators${qs(q)}`, JSON_ACCEPT);
export const getIndicatorResidents = (code: string, indicator: string, q: Record<string, string | undefined>) =>
  apiRequest<DrillPage>(`${base(code)}/indicators/${encodeURIComponent(indicator)}/residents${qs(q)}`, JSON_ACCEPT);
