/**
 * Data access for the surveillance screens (alerts, report cards, signals). The response types
 * are the server's own (src/surveillance/schemas.ts), imported as types only.
 */
import type {
  AlertCase,
  AlertComment,
  AlertDetail,
  AlertNotification,
  AlertPage,
  AlertSeries,
  AlertSummary,
  FacilityStat,
  GeoFeatureCollection,
  Overview,
  ReportCardDetail,
  ReportCardList,
  ReportCardRecord,
} from '../../../src/surveillance/schemas.js';
import { apiRequest } from '../api/http.js';

export interface AlertListQuery {
  status?: string;
  level?: string;
  area?: string;
  source?: string;
  sort?: 'rank' | 'newest';
  limit?: number;
  offset?: number;
}
/** A page of alerts, worst first unless asked otherwise, with the total and the count per status. */
export const listAlerts = (query: AlertListQuery = {}, signal?: AbortSignal) => {
  const q = new URLSearchParams(
    Object.entries(query)
      .filter(([, v]) => v !== undefined && v !== '')
      .map(([k, v]) => [k, String(v)]),
  ).toString();
  return apiRequest<AlertPage>(`/api/alerts${q ? `?${q}` : ''}`, { signal, accept: 'application/json' });
};
export const getAlert = (id: number, signal?: AbortSignal) =>
  apiRequest<AlertDetail>(`/api/alerts/${id}`, { signal, accept: 'application/json' });
export const getAlertSeries = (id: number, signal?: AbortSignal) =>
  apiRequest<AlertSeries[]>(`/api/alerts/${id}/series`, { signal, accept: 'application/json' });
export const getAlertCases = (id: number, signal?: AbortSignal) =>
  apiRequest<AlertCase[]>(`/api/alerts/${id}/cases`, { signal, accept: 'application/json' });
export const transitionAlert = (id: number, body: { to: string; version: number; reason?: string; assignee?: string }) =>
  apiRequest<AlertSummary>(`/api/alerts/${id}/transitions`, { method: 'POST', body, accept: 'application/json' });
export const addAlertComment = (id: number, text: string) =>
  apiRequest<AlertComment>(`/api/alerts/${id}/comments`, { method: 'POST', body: { body: text }, accept: 'application/json' });
export const getGeography = (level: 'street' | 'community' = 'street', signal?: AbortSignal) =>
  apiRequest<GeoFeatureCollection>(`/api/surveillance/geography?level=${level}`, { signal, accept: 'application/json' });

export const getOverview = (days = 28, signal?: AbortSignal) =>
  apiRequest<Overview>(`/api/surveillance/overview?days=${days}`, { signal, accept: 'application/json' });

export const listCards = (query: { status?: string; overdue?: boolean; limit?: number; offset?: number } = {}, signal?: AbortSignal) => {
  const q = new URLSearchParams();
  if (query.status) q.set('status', query.status);
  if (query.overdue) q.set('overdue', 'true');
  if (query.limit !== undefined) q.set('limit', String(query.limit));
  if (query.offset) q.set('offset', String(query.offset));
  return apiRequest<ReportCardList>(`/api/report-cards?${q.toString()}`, { signal, accept: 'application/json' });
};
export const getCard = (id: string, signal?: AbortSignal) =>
  apiRequest<ReportCardDetail>(`/api/report-cards/${encodeURIComponent(id)}`, { signal, accept: 'application/json' });
export const submitCard = (id: string, version: number, card: Record<string, unknown>) =>
  apiRequest<ReportCardRecord>(`/api/report-cards/${encodeURIComponent(id)}/submit`, {
    method: 'POST',
    body: { version, card },
    accept: 'application/json',
  });
export const reviewCard = (
  id: string,
  body: { action: 'approve' | 'correct' | 'return'; version: number; reason?: string; corrections?: Record<string, unknown> },
) =>
  apiRequest<ReportCardRecord>(`/api/report-cards/${encodeURIComponent(id)}/review`, { method: 'POST', body, accept: 'application/json' });
/** 订正: corrected fields with the reason; the server keeps each field's prior value in the card's history. */
export const correctCard = (id: string, body: { version: number; reason: string; corrections: Record<string, unknown> }) =>
  apiRequest<ReportCardRecord>(`/api/report-cards/${encodeURIComponent(id)}/correct`, { method: 'POST', body, accept: 'application/json' });
export const getCardStats = (signal?: AbortSignal) =>
  apiRequest<FacilityStat[]>('/api/report-cards/stats', { signal, accept: 'application/json' });

export const getNotifications = (signal?: AbortSignal) =>
  apiRequest<AlertNotification[]>('/api/surveillance/notifications', { signal, accept: 'application/json' });
