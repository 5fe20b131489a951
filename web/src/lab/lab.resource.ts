/**
 * Data access for the 检测送检 screens (/api/lab/*): the barcode scan, specimens and their
 * custody, the in-flight dashboard and breaches, results back (the outbox, resend) and mass
 * testing. The answer types are the server's own (src/lab/schemas.ts), imported as types only.
 */
import type {
  BreachList,
  BreachView,
  CampaignView,
  Dashboard,
  EventView,
  OutboxList,
  OutboxView,
  ProgressView,
  ScanAnswer,
  ScanBody,
  SpecimenDetail,
  SpecimenList,
  SpecimenView,
} from '../../../src/lab/schemas.js';
import { apiRequest } from '../api/http.js';

export type {
  BreachList,
  BreachView,
  CampaignView,
  Dashboard,
  EventView,
  OutboxList,
  OutboxView,
  ProgressView,
  ScanAnswer,
  ScanBody,
  SpecimenDetail,
  SpecimenList,
  SpecimenView,
};
export type SpecimenState = SpecimenView['state'];
export type SpecimenLeg = NonNullable<SpecimenView['leg']>;
export type ScanStep = ScanBody['step'];

const BASE = '/api/lab';
const json = (signal?: AbortSignal) => ({ signal, accept: 'application/json' });
const send = (method: string, body: unknown) => ({ method, body, accept: 'application/json' });

/** A query string from the defined values only. */
function qs(q: Record<string, string | number | boolean | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

export interface PageRequest {
  limit: number;
  offset: number;
}

export const getSpecimen = (barcode: string, signal?: AbortSignal) =>
  apiRequest<SpecimenDetail>(`${BASE}/specimens/${encodeURIComponent(barcode)}`, json(signal));

export const listSpecimens = (
  q: PageRequest & { state?: string; inFlight?: boolean; leg?: string; unit?: string; overdue?: boolean; investigationId?: string },
  signal?: AbortSignal,
) => apiRequest<SpecimenList>(`${BASE}/specimens${qs({ ...q })}`, json(signal));

export const scan = (body: ScanBody) => apiRequest<ScanAnswer>(`${BASE}/scan`, send('POST', body));

export const dashboard = (signal?: AbortSignal) => apiRequest<Dashboard>(`${BASE}/dashboard`, json(signal));

export const listBreaches = (q: PageRequest & { leg?: string; unit?: string; open?: boolean }, signal?: AbortSignal) =>
  apiRequest<BreachList>(`${BASE}/breaches${qs({ ...q })}`, json(signal));

export const listOutbox = (q: PageRequest & { status?: string; facility?: string }, signal?: AbortSignal) =>
  apiRequest<OutboxList>(`${BASE}/outbox${qs({ ...q })}`, json(signal));

export const resend = (id: number) => apiRequest<OutboxView>(`${BASE}/outbox/${id}/resend`, send('POST', {}));

export const listCampaigns = (signal?: AbortSignal) => apiRequest<{ items: CampaignView[] }>(`${BASE}/mass/campaigns`, json(signal));

export const campaignProgress = (id: number, signal?: AbortSignal) =>
  apiRequest<ProgressView>(`${BASE}/mass/campaigns/${id}/progress`, json(signal));
